//! A fake NAS for the enforcement tests: a real RADIUS dynamic-authorization server (RFC 5176)
//! on 127.0.0.1 that records every CoA-Request and Disconnect-Request ispd sends and answers
//! them as scripted (ACK, NAK with an Error-Cause, or silence), switchable while it runs.
//!
//! It checks and signs with MD5 and HMAC-MD5 written out here, not with the codec's signing
//! (`ispd-radius`'s `encode_request`, `verify_request`): a test peer that shared the daemon's
//! code would agree with any mistake in it. The codec is used only to read attributes out of
//! a request that has already proved itself. A request that fails (wrong secret, no
//! Message-Authenticator, bad framing) is dropped unanswered and counted, as a NAS must.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use ispd_radius::{Code, PacketRef};
use md5::{Digest, Md5};

const MESSAGE_AUTHENTICATOR: u8 = 80;
const ERROR_CAUSE: u8 = 101;
const COA_REQUEST: u8 = 43;
const DISCONNECT_REQUEST: u8 = 40;
/// How often the receive thread looks up from its socket to see whether it should stop.
const POLL: Duration = Duration::from_millis(20);

/// How the fake NAS answers a request that proved itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// CoA-ACK or Disconnect-ACK.
    Ack,
    /// CoA-NAK or Disconnect-NAK carrying this Error-Cause.
    Nak(u32),
    /// No answer: the request is still recorded.
    Silent,
}

/// A request that passed verification, as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    /// When it arrived, for "within 1 s" assertions.
    pub at: Instant,
    pub from: SocketAddr,
    /// The same Identifier and Request Authenticator were seen before: a retransmission.
    pub retransmission: bool,
    bytes: Vec<u8>,
}

impl Received {
    /// The request, decoded (it was checked when it arrived, so this cannot fail).
    pub fn packet(&self) -> PacketRef<'_> {
        PacketRef::decode(&self.bytes).expect("verified on arrival")
    }

    pub fn code(&self) -> Code {
        self.packet().code()
    }

    pub fn identifier(&self) -> u8 {
        self.bytes[1]
    }

    /// The first attribute `attr` as text.
    pub fn string(&self, attr: u8) -> Option<String> {
        let value = self.packet().first(attr)?;
        Some(String::from_utf8_lossy(value.value).into_owned())
    }

    /// The first vendor sub-attribute `typ` of `vendor` as text (Mikrotik-Rate-Limit is
    /// `vendor_string(14988, 8)`, Cisco-AVPair `vendor_string(9, 1)`).
    pub fn vendor_string(&self, vendor: u32, typ: u8) -> Option<String> {
        self.vendor_strings(vendor, typ).into_iter().next()
    }

    /// Every vendor sub-attribute `typ` of `vendor`, in order (several Cisco-AVPairs).
    pub fn vendor_strings(&self, vendor: u32, typ: u8) -> Vec<String> {
        self.packet()
            .vendor_all(vendor, typ)
            .map(|a| String::from_utf8_lossy(a.value).into_owned())
            .collect()
    }

    /// The first attribute `attr` as an IPv4 address (Framed-IP-Address, NAS-IP-Address).
    pub fn ipv4(&self, attr: u8) -> Option<Ipv4Addr> {
        self.packet().first(attr)?.as_ipv4().ok()
    }

    /// The first attribute `attr` as a 32-bit integer.
    pub fn integer(&self, attr: u8) -> Option<u32> {
        self.packet().first(attr)?.as_u32().ok()
    }

    /// Whether attribute `attr` is present at all.
    pub fn has(&self, attr: u8) -> bool {
        self.packet().first(attr).is_some()
    }
}

struct State {
    coa: Mode,
    disconnect: Mode,
    received: Vec<Received>,
    dropped: usize,
    /// (Identifier, Request Authenticator) of every request seen, to mark retransmissions.
    seen: HashSet<(u8, [u8; 16])>,
}

/// The fake NAS. Stops its thread when dropped.
pub struct FakeNas {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeNas {
    /// Listens on 127.0.0.1 (an ephemeral port), answering ACK until told otherwise.
    pub fn start(secret: &str) -> FakeNas {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the fake NAS");
        socket.set_read_timeout(Some(POLL)).expect("read timeout");
        let addr = socket.local_addr().expect("the fake NAS's address");
        let state = Arc::new(Mutex::new(State {
            coa: Mode::Ack,
            disconnect: Mode::Ack,
            received: Vec::new(),
            dropped: 0,
            seen: HashSet::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop, secret) = (state.clone(), stop.clone(), secret.as_bytes().to_vec());
            std::thread::spawn(move || serve(&socket, &secret, &state, &stop))
        };
        FakeNas {
            addr,
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// How both CoA-Requests and Disconnect-Requests are answered from now on.
    pub fn set_mode(&self, mode: Mode) {
        let mut state = self.state();
        state.coa = mode;
        state.disconnect = mode;
    }

    /// How CoA-Requests alone are answered (NAK a CoA, ACK the Disconnect that follows).
    pub fn set_coa_mode(&self, mode: Mode) {
        self.state().coa = mode;
    }

    /// How Disconnect-Requests alone are answered.
    pub fn set_disconnect_mode(&self, mode: Mode) {
        self.state().disconnect = mode;
    }

    /// Every verified request so far, retransmissions included, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.state().received.clone()
    }

    /// Waits until `count` verified requests have arrived, or `timeout` passes; returns what
    /// arrived either way (the caller asserts on its length).
    pub fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() >= deadline {
                return received;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Requests dropped unanswered because they failed verification.
    pub fn dropped(&self) -> usize {
        self.state().dropped
    }
}

impl Drop for FakeNas {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            // Returns within one POLL: the thread checks `stop` after every read timeout.
            let _ = thread.join();
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn serve(socket: &UdpSocket, secret: &[u8], state: &Mutex<State>, stop: &AtomicBool) {
    let mut buf = [0u8; 4096 + 1];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let Some(request) = verify(&buf[..n], secret) else {
            lock(state).dropped += 1;
            continue;
        };
        let mode = record(state, request, from);
        if let Some(answer) = answer(request, mode, secret) {
            let _ = socket.send_to(&answer, from);
        }
    }
}

/// Files a verified request and says how to answer it.
fn record(state: &Mutex<State>, request: &[u8], from: SocketAddr) -> Mode {
    let mut state = lock(state);
    let authenticator: [u8; 16] = request[4..20].try_into().expect("16 octets");
    let retransmission = !state.seen.insert((request[1], authenticator));
    state.received.push(Received {
        at: Instant::now(),
        from,
        retransmission,
        bytes: request.to_vec(),
    });
    if request[0] == COA_REQUEST {
        state.coa
    } else {
        state.disconnect
    }
}

/// The request trimmed to its Length, if it is a CoA- or Disconnect-Request whose Request
/// Authenticator and (mandatory) Message-Authenticator are right for `secret`.
fn verify<'a>(datagram: &'a [u8], secret: &[u8]) -> Option<&'a [u8]> {
    let length = usize::from(u16::from_be_bytes([*datagram.get(2)?, *datagram.get(3)?]));
    if length < 20 || !matches!(datagram[0], COA_REQUEST | DISCONNECT_REQUEST) {
        return None;
    }
    let packet = datagram.get(..length)?;
    let ma = message_authenticator_offset(packet)?;
    // RFC 5176 §2.3: MD5(Code + Identifier + Length + 16 zero octets + Attributes + Secret).
    let expected = md5(&[&packet[..4], &[0; 16], &packet[20..], secret]);
    if packet[4..20] != expected {
        return None;
    }
    // RFC 5176 §3.4: HMAC-MD5 with the authenticator field and the MA value both zeroed.
    let mut zeroed = packet.to_vec();
    zeroed[4..20].fill(0);
    zeroed[ma + 2..ma + 18].fill(0);
    if packet[ma + 2..ma + 18] != hmac_md5(secret, &zeroed) {
        return None;
    }
    PacketRef::decode(packet).ok()?;
    Some(packet)
}

/// Walks the attributes: the offset of the only Message-Authenticator, or `None` if the
/// framing is broken or there is not exactly one of length 18.
fn message_authenticator_offset(packet: &[u8]) -> Option<usize> {
    let (mut offset, mut found) = (20, None);
    while offset < packet.len() {
        let (typ, len) = (packet[offset], usize::from(*packet.get(offset + 1)?));
        if len < 2 || offset + len > packet.len() {
            return None;
        }
        if typ == MESSAGE_AUTHENTICATOR {
            if found.is_some() || len != 18 {
                return None;
            }
            found = Some(offset);
        }
        offset += len;
    }
    found
}

/// The signed answer `mode` asks for, with a Message-Authenticator first (RFC 3579 §3.2: the
/// HMAC over the answer with the request's authenticator in its header), then the Response
/// Authenticator MD5(Code + Identifier + Length + Request Authenticator + Attributes + Secret).
fn answer(request: &[u8], mode: Mode, secret: &[u8]) -> Option<Vec<u8>> {
    let (code, cause) = match mode {
        Mode::Ack => (request[0] + 1, None),
        Mode::Nak(cause) => (request[0] + 2, Some(cause)),
        Mode::Silent => return None,
    };
    let mut attributes = vec![MESSAGE_AUTHENTICATOR, 18];
    attributes.extend_from_slice(&[0; 16]);
    if let Some(cause) = cause {
        attributes.extend_from_slice(&[ERROR_CAUSE, 6]);
        attributes.extend_from_slice(&cause.to_be_bytes());
    }
    let length = u16::try_from(20 + attributes.len()).expect("a short answer");
    let mut packet = vec![code, request[1]];
    packet.extend_from_slice(&length.to_be_bytes());
    packet.extend_from_slice(&request[4..20]);
    packet.extend_from_slice(&attributes);
    let mac = hmac_md5(secret, &packet);
    packet[22..38].copy_from_slice(&mac);
    let authenticator = md5(&[&packet[..4], &request[4..20], &packet[20..], secret]);
    packet[4..20].copy_from_slice(&authenticator);
    Some(packet)
}

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut md5 = Md5::new();
    for part in parts {
        md5.update(part);
    }
    md5.finalize().into()
}

fn hmac_md5(key: &[u8], data: &[u8]) -> [u8; 16] {
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The daemon's CoA client against the fake NAS: two implementations of RFC 5176 signing,
/// written apart, checking each other.
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use ispd::enforcement::client::{CoaClient, Retry};
    use ispd_provisioning::enforcement::{Outcome, RequestKind};
    use ispd_radius::dict::{cisco, mikrotik, rfc};
    use ispd_radius::{Attribute, Code, KeyedSecret, Packet};

    use super::{FakeNas, Mode};

    const SECRET: &str = "fake-nas-secret";
    const WAIT: Duration = Duration::from_secs(5);

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn quick() -> Retry {
        Retry {
            first_timeout: Duration::from_millis(100),
            tries: 2,
        }
    }

    /// What a MikroTik CoA from ispd looks like: session identification and the new limits.
    fn mikrotik_coa() -> Vec<Attribute> {
        vec![
            Attribute::string(rfc::USER_NAME, "alice"),
            Attribute::string(rfc::ACCT_SESSION_ID, "81a00003"),
            Attribute::ipv4(rfc::FRAMED_IP_ADDRESS, Ipv4Addr::new(100, 64, 0, 7)),
            Attribute::ipv4(rfc::NAS_IP_ADDRESS, Ipv4Addr::LOCALHOST),
            Attribute::string(rfc::CALLING_STATION_ID, "AA:BB:CC:00:11:22"),
            Attribute::string(rfc::FILTER_ID, "suspended"),
            Attribute::vendor(
                mikrotik::VENDOR_ID,
                mikrotik::MIKROTIK_RATE_LIMIT,
                b"10M/50M",
            )
            .unwrap(),
            Attribute::vendor(
                mikrotik::VENDOR_ID,
                mikrotik::MIKROTIK_ADDRESS_LIST,
                b"dunning",
            )
            .unwrap(),
            Attribute::vendor(cisco::VENDOR_ID, cisco::CISCO_AVPAIR, b"subscriber:a=1").unwrap(),
            Attribute::vendor(cisco::VENDOR_ID, cisco::CISCO_AVPAIR, b"subscriber:b=2").unwrap(),
        ]
    }

    #[test]
    fn fake_nas_and_coa_client_agree_on_ack_nak_and_silence() {
        let nas = FakeNas::start(SECRET);
        let rt = runtime();
        let client = rt
            .block_on(CoaClient::new(
                nas.addr(),
                KeyedSecret::new(SECRET.as_bytes()),
                quick(),
            ))
            .unwrap();

        let reply = rt.block_on(client.send(RequestKind::Coa, mikrotik_coa()));
        assert_eq!(
            (reply.outcome, reply.error_cause, reply.tries),
            (Outcome::Ack, None, 1)
        );
        let got = nas.wait_for(1, WAIT);
        assert_eq!(got.len(), 1);
        let coa = &got[0];
        assert_eq!(coa.code(), Code::CoaRequest);
        assert!(coa.at.elapsed() < WAIT && !coa.retransmission);
        assert_eq!(coa.from.port(), client.local_addr().unwrap().port());
        assert!(coa.has(rfc::MESSAGE_AUTHENTICATOR));
        assert_eq!(coa.string(rfc::USER_NAME).as_deref(), Some("alice"));
        assert_eq!(
            coa.string(rfc::ACCT_SESSION_ID).as_deref(),
            Some("81a00003")
        );
        assert_eq!(coa.string(rfc::FILTER_ID).as_deref(), Some("suspended"));
        assert_eq!(
            coa.string(rfc::CALLING_STATION_ID).as_deref(),
            Some("AA:BB:CC:00:11:22")
        );
        assert_eq!(
            coa.ipv4(rfc::FRAMED_IP_ADDRESS),
            Some(Ipv4Addr::new(100, 64, 0, 7))
        );
        assert_eq!(coa.ipv4(rfc::NAS_IP_ADDRESS), Some(Ipv4Addr::LOCALHOST));
        let rate = coa.vendor_string(mikrotik::VENDOR_ID, mikrotik::MIKROTIK_RATE_LIMIT);
        assert_eq!(rate.as_deref(), Some("10M/50M"));
        let list = coa.vendor_string(mikrotik::VENDOR_ID, mikrotik::MIKROTIK_ADDRESS_LIST);
        assert_eq!(list.as_deref(), Some("dunning"));
        assert_eq!(
            coa.vendor_strings(cisco::VENDOR_ID, cisco::CISCO_AVPAIR),
            ["subscriber:a=1", "subscriber:b=2"]
        );
        assert_eq!(coa.integer(rfc::ERROR_CAUSE), None);

        // A NAKed CoA, then the Disconnect that follows it ACKed.
        nas.set_coa_mode(Mode::Nak(rfc::error_cause::UNSUPPORTED_ATTRIBUTE));
        let reply = rt.block_on(client.send(RequestKind::Coa, mikrotik_coa()));
        assert_eq!(
            (reply.outcome, reply.error_cause),
            (Outcome::Nak, Some(401))
        );
        let session = vec![Attribute::string(rfc::ACCT_SESSION_ID, "81a00003")];
        let reply = rt.block_on(client.send(RequestKind::Disconnect, session.clone()));
        assert_eq!(reply.outcome, Outcome::Ack);
        nas.set_mode(Mode::Nak(rfc::error_cause::SESSION_CONTEXT_NOT_FOUND));
        let reply = rt.block_on(client.send(RequestKind::Disconnect, session.clone()));
        assert_eq!(
            (reply.outcome, reply.error_cause),
            (Outcome::Nak, Some(503))
        );
        let got = nas.wait_for(4, WAIT);
        let codes: Vec<_> = got.iter().map(|r| r.code()).collect();
        assert_eq!(
            codes,
            [
                Code::CoaRequest,
                Code::CoaRequest,
                Code::DisconnectRequest,
                Code::DisconnectRequest
            ]
        );
        // Identifiers rotate rather than repeat.
        assert_ne!(got[2].identifier(), got[3].identifier());

        // Silence: every copy arrives, verified, the later ones marked as retransmissions.
        nas.set_disconnect_mode(Mode::Silent);
        let reply = rt.block_on(client.send(RequestKind::Disconnect, session));
        assert_eq!((reply.outcome, reply.tries), (Outcome::Timeout, 2));
        let got = nas.wait_for(6, WAIT);
        assert_eq!(got.len(), 6);
        assert!(!got[4].retransmission && got[5].retransmission);
        assert_eq!(got[4].packet().as_bytes(), got[5].packet().as_bytes());
        assert_eq!((nas.dropped(), client.dropped()), (0, 0));
    }

    #[test]
    fn fake_nas_drops_requests_it_cannot_verify() {
        let nas = FakeNas::start(SECRET);
        let rt = runtime();
        let client = rt
            .block_on(CoaClient::new(
                nas.addr(),
                KeyedSecret::new(b"another secret"),
                quick(),
            ))
            .unwrap();
        let reply = rt.block_on(client.send(RequestKind::Coa, mikrotik_coa()));
        assert_eq!((reply.outcome, reply.tries), (Outcome::Timeout, 2));

        // Rightly signed but without a Message-Authenticator: dropped too.
        let mut bare = Packet::new(Code::DisconnectRequest, 9, [0; 16]);
        bare.push(Attribute::string(rfc::USER_NAME, "bob"));
        let bytes = bare.encode_request(SECRET.as_bytes()).unwrap();
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.send_to(&bytes, ("127.0.0.1", nas.port())).unwrap();

        let deadline = std::time::Instant::now() + WAIT;
        while nas.dropped() < 3 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(nas.dropped(), 3);
        assert!(nas.received().is_empty());
    }
}
