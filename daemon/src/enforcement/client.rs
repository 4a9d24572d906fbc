//! The RFC 5176 Dynamic Authorization Client: sends a CoA-Request or Disconnect-Request to one
//! NAS and waits for its ACK or NAK, retransmitting the same datagram when none comes.
//!
//! One [`CoaClient`] per NAS destination owns one UDP socket on an ephemeral port, one task
//! that reads every answer arriving on it, and a table of the 256 Identifiers a RADIUS client
//! can have outstanding towards one server. A caller of [`CoaClient::send`] takes a free
//! Identifier (waiting for one when all 256 are busy), and is woken by the receive task when an
//! answer proves itself: from the NAS's address, for an outstanding Identifier, with the
//! response code that answers the request's (CoA-ACK/NAK, Disconnect-ACK/NAK), and signed
//! with the shared secret over the request's authenticator. Everything else is dropped and
//! counted in `ispd_enforcement_dropped_responses_total{reason}`.
//!
//! # Why not a crate
//!
//! There is no well-kept async RFC 5176 client in Rust. The `radius` crate (0.4) has the
//! CoA and Disconnect codes but its client is a generic one-request-per-socket helper with no
//! Message-Authenticator, no hashed Request Authenticator for CoA/Disconnect and no
//! Identifier management; `radius-rust` (0.4) is built on async-std, leaves the async send to
//! a trait the user must implement (its default methods are unimplemented) and has no
//! Message-Authenticator on dynamic-authorization packets either. Our own codec (`ispd-radius`) already signs and
//! verifies these packets, so what is left here is only the exchange: a socket, a table and
//! a timer.
//!
//! # RFC points decided here
//!
//! - Every request carries a Message-Authenticator (first, the BlastRADIUS hardening) and the
//!   hashed Request Authenticator (RFC 5176 §2.3, §3.4); [`Packet::encode_request`] does both.
//! - A retransmission is the same datagram: same Identifier, same Request Authenticator, same
//!   attributes (RFC 5080 §2.2.1), so a NAS that already acted answers from its duplicate
//!   cache instead of acting twice, and a late answer to the first copy is still accepted.
//! - Identifiers rotate (the next free one after the last taken), so a NAS's duplicate
//!   detection by (source, port, Identifier) (RFC 5176 §2.3) does not mistake a new request
//!   for a retransmission of one just finished.
//! - A Message-Authenticator in an answer is checked; its absence is allowed, as RFC 5176 §3.4
//!   makes it optional and the Response Authenticator already proves the answer.
//! - An answer carrying an Event-Timestamp more than [`EVENT_TIMESTAMP_WINDOW`] away from our
//!   clock is dropped (RFC 5176 §6.3, which sets the default window at 300 s).
//! - Error-Cause (RFC 5176 §3.5) is read from any answer: NAKs carry the failure, and a
//!   Disconnect-ACK may carry 201 (Residual Session Context Removed).
//!
//! The shared secret is held here only to sign and verify; it never appears in `Debug`
//! output, in a log line or in an error.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use ispd_provisioning::enforcement::{Outcome, RequestKind};
use ispd_radius::dict::rfc::{ERROR_CAUSE, EVENT_TIMESTAMP};
use ispd_radius::{
    Attribute, Code, EncodeError, KeyedSecret, MAX_PACKET_LEN, MaPolicy, Packet, PacketRef,
};
use tokio::net::UdpSocket;
use tokio::sync::{Semaphore, SemaphorePermit, oneshot};
use tokio::task::JoinHandle;

/// Identifiers one client can have outstanding: the Identifier field is one octet.
const IDENTIFIERS: usize = 256;

/// How far an answer's Event-Timestamp may stray from our clock (RFC 5176 §6.3 default).
pub const EVENT_TIMESTAMP_WINDOW: Duration = Duration::from_secs(300);

/// After a failed receive, the pause before the next: some platforms report an ICMP error on
/// the socket, and a persistent one must not make the receive task spin.
const RECEIVE_ERROR_PAUSE: Duration = Duration::from_millis(10);

/// When to give up on an answer. The wait doubles after each try, as RFC 5080 §2.2.1 asks
/// of a client, so a busy NAS is not flooded with copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// How long to wait for an answer to the first copy.
    pub first_timeout: Duration,
    /// How many copies to send at most (0 counts as 1).
    pub tries: u32,
}

impl Default for Retry {
    /// 1 s, 2 s, 4 s: a NAS that has not answered in 7 s is not going to.
    fn default() -> Self {
        Retry {
            first_timeout: Duration::from_secs(1),
            tries: 3,
        }
    }
}

impl Retry {
    /// The wait after try `attempt` (0-based): `first_timeout * 2^attempt`, saturating.
    fn timeout(&self, attempt: u32) -> Duration {
        let factor = 2u32.checked_pow(attempt).unwrap_or(u32::MAX);
        self.first_timeout.saturating_mul(factor)
    }
}

/// How one [`CoaClient::send`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    pub outcome: Outcome,
    /// The Error-Cause (RFC 5176 §3.5) of the answer, if it carried one.
    pub error_cause: Option<u32>,
    /// Copies of the request handed to the network (0 when [`Outcome::Unsent`]).
    pub tries: u32,
}

impl Reply {
    fn unsent() -> Reply {
        Reply {
            outcome: Outcome::Unsent,
            error_cause: None,
            tries: 0,
        }
    }
}

/// The request code of a kind and the ACK and NAK codes that answer it.
fn codes(kind: RequestKind) -> (Code, Code, Code) {
    match kind {
        RequestKind::Coa => (Code::CoaRequest, Code::CoaAck, Code::CoaNak),
        RequestKind::Disconnect => (
            Code::DisconnectRequest,
            Code::DisconnectAck,
            Code::DisconnectNak,
        ),
    }
}

/// What the receive task hands to the waiting sender.
struct Answer {
    outcome: Outcome,
    error_cause: Option<u32>,
}

/// An outstanding request, in the slot of its Identifier.
struct Pending {
    kind: RequestKind,
    authenticator: [u8; 16],
    /// Taken by the first answer that proves itself; a second one finds `None`.
    answer: Option<oneshot::Sender<Answer>>,
}

/// The Identifier table: a slot per Identifier, `Some` while a request holds it.
struct Table {
    slots: Vec<Option<Pending>>,
    /// Where the search for a free Identifier starts: the one after the last taken.
    next: u8,
}

impl Table {
    fn new() -> Table {
        Table {
            slots: (0..IDENTIFIERS).map(|_| None).collect(),
            next: 0,
        }
    }

    /// The first free Identifier from `next` on, wrapping.
    fn free_identifier(&self) -> Option<u8> {
        (0..=u8::MAX)
            .map(|i| self.next.wrapping_add(i))
            .find(|&id| self.slots[usize::from(id)].is_none())
    }
}

/// Why an answer was dropped: the `reason` label of the counter.
type DropReason = &'static str;

/// What the caller and the receive task share.
struct Shared {
    socket: UdpSocket,
    peer: SocketAddr,
    secret: KeyedSecret,
    table: Mutex<Table>,
    /// One permit per free Identifier, so a caller waits (in order) rather than fails when
    /// all 256 are busy.
    free: Semaphore,
    dropped: AtomicU64,
}

/// A taken Identifier: freed when the send ends, however it ends (answer, timeout, or the
/// caller dropping the future).
struct Claim<'a> {
    shared: &'a Shared,
    identifier: u8,
    /// Released after `drop` has freed the slot, so a permit always finds a free slot.
    _permit: SemaphorePermit<'a>,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.shared.table().slots[usize::from(self.identifier)] = None;
    }
}

impl Shared {
    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a free Identifier, signs the request with it and files it as outstanding, all
    /// under one lock so no other request can take the Identifier in between.
    fn register<'a>(
        &'a self,
        permit: SemaphorePermit<'a>,
        request: &mut Packet,
        kind: RequestKind,
    ) -> Result<(Claim<'a>, Vec<u8>, oneshot::Receiver<Answer>), RegisterError> {
        let mut table = self.table();
        let identifier = table.free_identifier().ok_or(RegisterError::NoIdentifier)?;
        request.identifier = identifier;
        let datagram = request
            .encode_request(&self.secret)
            .map_err(RegisterError::Encode)?;
        let mut authenticator = [0u8; 16];
        authenticator.copy_from_slice(&datagram[4..20]);
        let (tx, rx) = oneshot::channel();
        table.slots[usize::from(identifier)] = Some(Pending {
            kind,
            authenticator,
            answer: Some(tx),
        });
        table.next = identifier.wrapping_add(1);
        drop(table);
        let claim = Claim {
            shared: self,
            identifier,
            _permit: permit,
        };
        Ok((claim, datagram, rx))
    }

    /// Checks one received datagram and, if it is the answer to an outstanding request,
    /// hands it over.
    fn accept(&self, datagram: &[u8], from: SocketAddr) -> Result<(), DropReason> {
        if from.ip() != self.peer.ip() || from.port() != self.peer.port() {
            return Err("wrong_source");
        }
        let packet = PacketRef::decode(datagram).map_err(|e| e.reason())?;
        let mut table = self.table();
        let Some(pending) = table.slots[usize::from(packet.identifier())].as_mut() else {
            return Err("unknown_identifier");
        };
        let (_, ack, nak) = codes(pending.kind);
        let outcome = match packet.code() {
            code if code == ack => Outcome::Ack,
            code if code == nak => Outcome::Nak,
            _ => return Err("unexpected_code"),
        };
        packet
            .verify_response(&pending.authenticator, &self.secret, MaPolicy::IfPresent)
            .map_err(|e| e.reason())?;
        check_event_timestamp(&packet, SystemTime::now())?;
        let tx = pending.answer.take().ok_or("duplicate")?;
        let error_cause = packet.first(ERROR_CAUSE).and_then(|a| a.as_u32().ok());
        // The sender may have given up (its future dropped) a moment ago: nothing to tell.
        let _ = tx.send(Answer {
            outcome,
            error_cause,
        });
        Ok(())
    }

    fn count_drop(&self, reason: DropReason) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("ispd_enforcement_dropped_responses_total", "reason" => reason)
            .increment(1);
        tracing::debug!(nas = %self.peer, reason, "CoA/Disconnect answer dropped");
    }
}

enum RegisterError {
    /// Cannot happen while permits match free slots; kept so a bug is an Unsent, not a panic.
    NoIdentifier,
    Encode(EncodeError),
}

/// RFC 5176 §6.3: an Event-Timestamp, when present, must be current.
fn check_event_timestamp(packet: &PacketRef<'_>, now: SystemTime) -> Result<(), DropReason> {
    let Some(attr) = packet.first(EVENT_TIMESTAMP) else {
        return Ok(());
    };
    let at = attr.as_date().map_err(|_| "bad_event_timestamp")?;
    let skew = now
        .duration_since(at)
        .unwrap_or_else(|ahead| ahead.duration());
    if skew > EVENT_TIMESTAMP_WINDOW {
        return Err("stale_event_timestamp");
    }
    Ok(())
}

/// Reads every datagram arriving on the client's socket, for as long as the client lives.
async fn receive(shared: Arc<Shared>) {
    // One octet more than a packet may have, so an oversized datagram is seen as such.
    let mut buf = vec![0u8; MAX_PACKET_LEN + 1];
    loop {
        match shared.socket.recv_from(&mut buf).await {
            Ok((n, from)) => {
                if let Err(reason) = shared.accept(&buf[..n], from) {
                    shared.count_drop(reason);
                }
            }
            Err(e) => {
                tracing::debug!(nas = %shared.peer, error = %e, "CoA socket receive failed");
                tokio::time::sleep(RECEIVE_ERROR_PAUSE).await;
            }
        }
    }
}

/// The Dynamic Authorization Client towards one NAS: see the module documentation.
pub struct CoaClient {
    shared: Arc<Shared>,
    retry: Retry,
    receiver: JoinHandle<()>,
}

impl CoaClient {
    /// Binds an ephemeral port of `peer`'s address family and starts reading answers on it.
    /// Must be called inside a Tokio runtime.
    pub async fn new(peer: SocketAddr, secret: KeyedSecret, retry: Retry) -> io::Result<Self> {
        let local: SocketAddr = if peer.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).await?;
        let shared = Arc::new(Shared {
            socket,
            peer,
            secret,
            table: Mutex::new(Table::new()),
            free: Semaphore::new(IDENTIFIERS),
            dropped: AtomicU64::new(0),
        });
        let receiver = tokio::spawn(receive(shared.clone()));
        Ok(CoaClient {
            shared,
            retry,
            receiver,
        })
    }

    /// The NAS this client talks to.
    pub fn peer(&self) -> SocketAddr {
        self.shared.peer
    }

    /// The local address requests leave from.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.shared.socket.local_addr()
    }

    /// Answers dropped so far (wrong source, unknown Identifier, wrong code, bad signature,
    /// stale Event-Timestamp, duplicates).
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Sends one request and waits for its answer, retransmitting the same datagram on
    /// timeout. `attributes` are the request's; the Message-Authenticator and the
    /// authenticator are added here. Waits for a free Identifier when 256 are outstanding.
    pub async fn send(&self, kind: RequestKind, attributes: Vec<Attribute>) -> Reply {
        let Ok(permit) = self.shared.free.acquire().await else {
            // The semaphore is never closed; were it, nothing could be sent.
            return Reply::unsent();
        };
        let mut request = Packet::new(codes(kind).0, 0, [0; 16]);
        request.attributes = attributes;
        request.insert_message_authenticator();
        match self.shared.register(permit, &mut request, kind) {
            Ok((_claim, datagram, answer)) => self.exchange(kind, &datagram, answer).await,
            Err(RegisterError::Encode(e)) => {
                tracing::warn!(nas = %self.shared.peer, kind = kind.as_str(), error = %e, "request not sent: it cannot be encoded");
                Reply::unsent()
            }
            Err(RegisterError::NoIdentifier) => {
                tracing::error!(nas = %self.shared.peer, "request not sent: no free Identifier despite a permit");
                Reply::unsent()
            }
        }
    }

    /// Sends `datagram` up to `tries` times, waiting longer after each, until an answer
    /// comes. `Unsent` only when no copy could be handed to the network at all.
    async fn exchange(
        &self,
        kind: RequestKind,
        datagram: &[u8],
        mut answer: oneshot::Receiver<Answer>,
    ) -> Reply {
        let mut sent = 0u32;
        for attempt in 0..self.retry.tries.max(1) {
            match self.shared.socket.send_to(datagram, self.shared.peer).await {
                Ok(_) => sent += 1,
                Err(e) => {
                    tracing::debug!(nas = %self.shared.peer, kind = kind.as_str(), attempt, error = %e, "CoA/Disconnect send failed");
                }
            }
            match tokio::time::timeout(self.retry.timeout(attempt), &mut answer).await {
                Ok(Ok(a)) => {
                    return Reply {
                        outcome: a.outcome,
                        error_cause: a.error_cause,
                        tries: sent,
                    };
                }
                // The receive task is gone (only when the runtime shuts down).
                Ok(Err(_)) => break,
                Err(_) => {}
            }
        }
        Reply {
            outcome: if sent == 0 {
                Outcome::Unsent
            } else {
                Outcome::Timeout
            },
            error_cause: None,
            tries: sent,
        }
    }
}

impl Drop for CoaClient {
    fn drop(&mut self) {
        self.receiver.abort();
    }
}

/// By hand, so the secret can never be printed.
impl fmt::Debug for CoaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoaClient")
            .field("peer", &self.shared.peer)
            .field("retry", &self.retry)
            .field(
                "in_flight",
                &(IDENTIFIERS - self.shared.free.available_permits()),
            )
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};
    use std::time::Instant;

    use ispd_radius::dict::rfc::{MESSAGE_AUTHENTICATOR, USER_NAME, error_cause};
    use tokio::time::timeout;

    use super::*;

    const SECRET: &[u8] = b"coa-test-secret";
    const BOUND: Duration = Duration::from_secs(10);

    /// A NAS stand-in on loopback.
    async fn nas() -> (UdpSocket, SocketAddr) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        (socket, addr)
    }

    async fn client(peer: SocketAddr, retry: Retry) -> CoaClient {
        CoaClient::new(peer, KeyedSecret::new(SECRET), retry)
            .await
            .unwrap()
    }

    fn quick() -> Retry {
        Retry {
            first_timeout: Duration::from_millis(200),
            tries: 3,
        }
    }

    fn user(name: &str) -> Vec<Attribute> {
        vec![Attribute::string(USER_NAME, name)]
    }

    /// Receives one request within [`BOUND`] and checks it as a NAS would: signed, with a
    /// Message-Authenticator.
    async fn request(nas: &UdpSocket) -> (Vec<u8>, SocketAddr) {
        let mut buf = [0u8; 4096];
        let (n, from) = timeout(BOUND, nas.recv_from(&mut buf))
            .await
            .expect("a request in time")
            .unwrap();
        let req = PacketRef::decode(&buf[..n]).unwrap();
        req.verify_request(SECRET, MaPolicy::Required).unwrap();
        (buf[..n].to_vec(), from)
    }

    /// A signed answer to `request`.
    fn answer(request: &[u8], code: Code, attrs: Vec<Attribute>, secret: &[u8]) -> Vec<u8> {
        let req = PacketRef::decode(request).unwrap();
        let mut reply = req.reply(code);
        reply.attributes.extend(attrs);
        reply.insert_message_authenticator();
        reply.encode_response(req.authenticator(), secret).unwrap()
    }

    async fn wait_dropped(client: &CoaClient, count: u64) {
        let deadline = Instant::now() + BOUND;
        while client.dropped() < count && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(client.dropped(), count);
    }

    #[test]
    fn default_backoff_is_1_2_4_seconds() {
        let retry = Retry::default();
        assert_eq!(retry.tries, 3);
        let waits: Vec<_> = (0..3).map(|a| retry.timeout(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4]);
        // Saturates instead of overflowing.
        assert!(retry.timeout(40) >= retry.timeout(31));
    }

    #[tokio::test]
    async fn coa_ack() {
        let (nas, peer) = nas().await;
        let client = client(peer, quick()).await;
        let responder = async {
            let (req, from) = request(&nas).await;
            let p = PacketRef::decode(&req).unwrap();
            assert_eq!(p.code(), Code::CoaRequest);
            assert_eq!(p.attributes().next().unwrap().typ, MESSAGE_AUTHENTICATOR);
            assert_eq!(p.first(USER_NAME).unwrap().as_str(), Ok("alice"));
            let ack = answer(&req, Code::CoaAck, vec![], SECRET);
            nas.send_to(&ack, from).await.unwrap();
        };
        let (reply, ()) = tokio::join!(client.send(RequestKind::Coa, user("alice")), responder);
        assert_eq!(
            reply,
            Reply {
                outcome: Outcome::Ack,
                error_cause: None,
                tries: 1
            }
        );
        assert_eq!(client.dropped(), 0);
    }

    #[tokio::test]
    async fn disconnect_nak_carries_its_error_cause() {
        let (nas, peer) = nas().await;
        let client = client(peer, quick()).await;
        let responder = async {
            let (req, from) = request(&nas).await;
            assert_eq!(req[0], Code::DisconnectRequest.as_u8());
            let cause = Attribute::integer(ERROR_CAUSE, error_cause::SESSION_CONTEXT_NOT_FOUND);
            let nak = answer(&req, Code::DisconnectNak, vec![cause], SECRET);
            nas.send_to(&nak, from).await.unwrap();
        };
        let (reply, ()) =
            tokio::join!(client.send(RequestKind::Disconnect, user("bob")), responder);
        assert_eq!(reply.outcome, Outcome::Nak);
        assert_eq!(reply.error_cause, Some(503));
        assert_eq!(reply.tries, 1);
    }

    #[tokio::test]
    async fn silence_times_out_after_exactly_tries_identical_datagrams() {
        let (nas, peer) = nas().await;
        let retry = Retry {
            first_timeout: Duration::from_millis(50),
            tries: 3,
        };
        let client = client(peer, retry).await;
        let started = Instant::now();
        let reply = client.send(RequestKind::Coa, user("carol")).await;
        let took = started.elapsed();
        assert_eq!(reply.outcome, Outcome::Timeout);
        assert_eq!(reply.tries, 3);
        assert!(took >= Duration::from_millis(350), "{took:?}");
        // Whatever reached the NAS is queued on its socket; a 4th copy would be there too.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut copies = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(Ok((n, _))) =
            timeout(Duration::from_millis(100), nas.recv_from(&mut buf)).await
        {
            copies.push(buf[..n].to_vec());
        }
        assert_eq!(copies.len(), 3);
        assert!(
            copies.iter().all(|c| *c == copies[0]),
            "retransmissions differ"
        );
    }

    #[tokio::test]
    async fn an_answer_to_the_retransmission_is_taken() {
        let (nas, peer) = nas().await;
        let client = client(peer, quick()).await;
        let responder = async {
            let (first, _) = request(&nas).await;
            let (second, from) = request(&nas).await;
            assert_eq!(first, second);
            nas.send_to(&answer(&second, Code::CoaAck, vec![], SECRET), from)
                .await
                .unwrap();
        };
        let (reply, ()) = tokio::join!(client.send(RequestKind::Coa, user("dan")), responder);
        assert_eq!((reply.outcome, reply.tries), (Outcome::Ack, 2));
    }

    #[tokio::test]
    async fn forged_answers_are_dropped_and_the_real_one_taken() {
        let (nas, peer) = nas().await;
        let client = client(peer, quick()).await;
        let responder = async {
            let (req, from) = request(&nas).await;
            let mut unknown_id = req.clone();
            unknown_id[1] = unknown_id[1].wrapping_add(1);
            let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
            let stale = Attribute::date(EVENT_TIMESTAMP, an_hour_ago).unwrap();
            let forgeries = [
                answer(&req, Code::CoaAck, vec![], b"not the secret"),
                answer(&req, Code::DisconnectAck, vec![], SECRET),
                answer(&unknown_id, Code::CoaAck, vec![], SECRET),
                answer(&req, Code::CoaAck, vec![stale], SECRET),
                b"garbage".to_vec(),
            ];
            for forged in &forgeries {
                nas.send_to(forged, from).await.unwrap();
            }
            let now = Attribute::date(EVENT_TIMESTAMP, SystemTime::now()).unwrap();
            let real = answer(&req, Code::CoaNak, vec![now], SECRET);
            nas.send_to(&real, from).await.unwrap();
            // The NAS answering its duplicate cache twice: the second is a duplicate.
            nas.send_to(&real, from).await.unwrap();
        };
        let (reply, ()) = tokio::join!(client.send(RequestKind::Coa, user("eve")), responder);
        assert_eq!((reply.outcome, reply.tries), (Outcome::Nak, 1));
        wait_dropped(&client, 6).await;
    }

    #[tokio::test]
    async fn an_answer_from_another_address_is_dropped() {
        let (nas, peer) = nas().await;
        let (impostor, _) = self::nas().await;
        let client = client(peer, quick()).await;
        let responder = async {
            let (req, from) = request(&nas).await;
            // Correctly signed, only from the wrong place.
            let nak = answer(&req, Code::CoaNak, vec![], SECRET);
            impostor.send_to(&nak, from).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            let ack = answer(&req, Code::CoaAck, vec![], SECRET);
            nas.send_to(&ack, from).await.unwrap();
        };
        let (reply, ()) = tokio::join!(client.send(RequestKind::Coa, user("frank")), responder);
        assert_eq!(reply.outcome, Outcome::Ack);
        wait_dropped(&client, 1).await;
    }

    /// Holds answers until 256 requests are outstanding, checks a 257th waits rather than
    /// reusing an Identifier, then answers everything: 300 sends, all ACKed.
    #[tokio::test]
    async fn three_hundred_concurrent_sends_share_256_identifiers() {
        let (nas, peer) = nas().await;
        let retry = Retry {
            first_timeout: Duration::from_secs(3),
            tries: 3,
        };
        let client = Arc::new(client(peer, retry).await);
        let mut sends = tokio::task::JoinSet::new();
        for i in 0..300 {
            let client = client.clone();
            sends.spawn(async move { client.send(RequestKind::Coa, user(&format!("u{i}"))).await });
        }
        let mut held: HashMap<u8, Vec<u8>> = HashMap::new();
        let mut from = None;
        while held.len() < 256 {
            let (req, src) = request(&nas).await;
            from = Some(src);
            if let Some(before) = held.get(&req[1]) {
                assert_eq!(
                    *before, req,
                    "Identifier {} reused while outstanding",
                    req[1]
                );
            }
            held.insert(req[1], req);
        }
        let mut buf = [0u8; 4096];
        let quiet = timeout(Duration::from_millis(200), nas.recv_from(&mut buf)).await;
        assert!(quiet.is_err(), "a request beyond 256 went out");
        let from = from.unwrap();
        let mut answered: HashSet<Vec<u8>> = HashSet::new();
        for req in held.into_values() {
            nas.send_to(&answer(&req, Code::CoaAck, vec![], SECRET), from)
                .await
                .unwrap();
            answered.insert(req);
        }
        while answered.len() < 300 {
            let (req, from) = request(&nas).await;
            nas.send_to(&answer(&req, Code::CoaAck, vec![], SECRET), from)
                .await
                .unwrap();
            answered.insert(req);
        }
        let mut acks = 0;
        while let Some(reply) = timeout(BOUND, sends.join_next()).await.unwrap() {
            assert_eq!(reply.unwrap().outcome, Outcome::Ack);
            acks += 1;
        }
        assert_eq!(acks, 300);
        assert_eq!(client.shared.free.available_permits(), IDENTIFIERS);
    }

    #[tokio::test]
    async fn a_cancelled_send_frees_its_identifier() {
        let (_nas, peer) = nas().await;
        let client = client(peer, quick()).await;
        let gave_up = timeout(
            Duration::from_millis(20),
            client.send(RequestKind::Coa, user("gina")),
        )
        .await;
        assert!(gave_up.is_err());
        assert_eq!(client.shared.free.available_permits(), IDENTIFIERS);
        assert!(client.shared.table().slots.iter().all(Option::is_none));
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn nothing_sent_is_unsent() {
        // Linux refuses to send to port 0 (EINVAL) on every try.
        let peer: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let retry = Retry {
            first_timeout: Duration::from_millis(10),
            tries: 2,
        };
        let reply = client(peer, retry)
            .await
            .send(RequestKind::Coa, user("hal"))
            .await;
        assert_eq!(reply, Reply::unsent());
    }

    #[tokio::test]
    async fn an_unencodable_request_is_unsent() {
        let (_nas, peer) = nas().await;
        let client = client(peer, quick()).await;
        let too_long = vec![Attribute::new(USER_NAME, vec![b'x'; 300])];
        let reply = client.send(RequestKind::Disconnect, too_long).await;
        assert_eq!(reply, Reply::unsent());
        assert_eq!(client.shared.free.available_permits(), IDENTIFIERS);
    }

    #[tokio::test]
    async fn debug_never_shows_the_secret() {
        let (_nas, peer) = nas().await;
        let client = client(peer, quick()).await;
        let shown = format!("{client:?}");
        assert!(shown.contains(&peer.to_string()), "{shown}");
        assert!(!shown.contains("coa-test-secret"), "{shown}");
        assert!(
            !shown.contains(&format!("{:?}", SECRET.to_vec())),
            "{shown}"
        );
    }
}
