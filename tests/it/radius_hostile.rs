//! RADIUS under hostile or odd input: floods from unknown sources, requests that carry more
//! than one credential, Status-Server on the accounting port, Proxy-State from a proxy.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ispd_admin_proto::v1;
use ispd_radius::dict::rfc;
use ispd_radius::{Attribute, Code, Packet, PacketRef};

use crate::daemon::{Bearer, Daemon, stderr, stdout};
use crate::radius::{
    SECRET, access_request, auth_addr, metric, radclient, radius_daemon, received, reply_lines,
};

/// The `n`-th flooding source: 127.1.0.1 onwards, never the NAS (127.0.0.1), and never a
/// .0 or .255 host part. Linux accepts any 127/8 address as a local source.
fn flood_source(n: u32) -> Ipv4Addr {
    let host = n % 254 + 1;
    let rest = n / 254;
    Ipv4Addr::new(127, 1 + (rest / 256) as u8, (rest % 256) as u8, host as u8)
}

/// Item 10.5: 20,000 distinct unknown sources cost the valid NAS no answers and no latency,
/// and the journal gets a few lines, not one per source.
#[test]
fn an_unknown_source_flood_costs_the_valid_nas_nothing() {
    let _machine = crate::daemon::timed();
    const SOURCES: u32 = 20_000;
    let d = radius_daemon("radius-flood", "[metrics]\nlisten = \"127.0.0.1:0\"\n");
    let target: SocketAddr = auth_addr(&d).parse().unwrap();
    let acct: SocketAddr = d.ports["acct"].as_str().unwrap().parse().unwrap();
    let flooding = AtomicBool::new(true);
    let (valid, slowest) = std::thread::scope(|s| {
        let flood = s.spawn(|| {
            // Any bytes do: the source address alone decides the drop.
            let junk = access_request(1, [9; 16]);
            for n in 0..SOURCES {
                let socket = UdpSocket::bind((flood_source(n), 0)).expect("bind a 127/8 source");
                socket.send_to(&junk, target).unwrap();
                if n % 10 == 0 {
                    socket.send_to(&junk, acct).unwrap();
                }
            }
            flooding.store(false, Ordering::Release);
        });
        let nas = UdpSocket::bind("127.0.0.1:0").unwrap();
        nas.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        nas.connect(target).unwrap();
        let mut answered = 0u32;
        let mut sent = 0u32;
        let mut slowest = Duration::ZERO;
        let mut buf = [0u8; 4096];
        // Valid requests for as long as the flood lasts, and at least 100.
        while sent < 100 || flooding.load(Ordering::Acquire) {
            let mut authenticator = [0u8; 16];
            authenticator[..4].copy_from_slice(&sent.to_be_bytes());
            let request = access_request(sent as u8, authenticator);
            let started = Instant::now();
            nas.send(&request).unwrap();
            sent += 1;
            // One try, no retransmission: a lost request counts as lost.
            if let Ok(n) = nas.recv(&mut buf) {
                assert_eq!(buf[0], 2, "Access-Accept");
                assert_eq!(buf[1], request[1], "the answer to this request");
                assert!(n >= 20);
                answered += 1;
                slowest = slowest.max(started.elapsed());
            }
        }
        flood.join().unwrap();
        ((sent, answered), slowest)
    });
    let (sent, answered) = valid;
    assert_eq!(answered, sent, "valid requests lost during the flood");
    assert!(
        slowest < Duration::from_millis(250),
        "slowest valid answer took {slowest:?}"
    );
    let dropped = metric(&d, "ispd_radius_dropped_unknown_nas_total");
    assert!(
        dropped >= u64::from(SOURCES) / 2,
        "the flood reached ispd and was counted: {dropped}"
    );
    let log = d.log();
    let lines = log.lines().filter(|l| l.contains("unknown NAS")).count();
    assert!(
        (1..=3).contains(&lines),
        "{lines} unknown-source log lines for {SOURCES} sources"
    );
}

/// Item 10.13: monitoring checks the accounting port with Status-Server too (RFC 5997 §3):
/// it gets a signed Accounting-Response; without Message-Authenticator, nothing.
#[test]
fn status_server_on_the_accounting_port_gets_an_accounting_response() {
    let d = radius_daemon(
        "radius-acct-status",
        "[metrics]\nlisten = \"127.0.0.1:0\"\n",
    );
    let out = d.radclient("acct", "status", SECRET, "Message-Authenticator = 0x00\n");
    assert!(
        received(&out).contains("Accounting-Response"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        reply_lines(&out)
            .iter()
            .any(|l| l.starts_with("Message-Authenticator = 0x")),
        "signed: {}",
        stdout(&out)
    );
    assert_eq!(metric(&d, "ispd_radius_status_server_total"), 1);
    // RFC 5997 §3: a Status-Server without Message-Authenticator is silently discarded.
    let mut request = Packet::new(Code::StatusServer, 7, [3; 16]);
    request.push(Attribute::string(rfc::NAS_IDENTIFIER, "probe"));
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    socket
        .send_to(
            &request.encode_request(SECRET.as_bytes()).unwrap(),
            d.ports["acct"].as_str().unwrap(),
        )
        .unwrap();
    assert!(
        socket.recv(&mut [0u8; 4096]).is_err(),
        "unsigned: no answer"
    );
    // A wrong secret: no answer either.
    let out = d.radclient(
        "acct",
        "status",
        "not-the-secret",
        "Message-Authenticator = 0x00\n",
    );
    assert!(received(&out).is_empty(), "{}", stdout(&out));
}

/// RFC 5997 §3 on the auth port too: a Status-Server without Message-Authenticator is
/// discarded even from a NAS allowed to send unsigned Access-Requests.
#[test]
fn unsigned_status_server_on_the_auth_port_is_discarded() {
    let d = radius_daemon(
        "radius-auth-status",
        "require_message_authenticator = false\n",
    );
    let mut request = Packet::new(Code::StatusServer, 9, [5; 16]);
    request.push(Attribute::string(rfc::NAS_IDENTIFIER, "probe"));
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    socket
        .send_to(
            &request.encode_request(SECRET.as_bytes()).unwrap(),
            d.ports["auth"].as_str().unwrap(),
        )
        .unwrap();
    assert!(
        socket.recv(&mut [0u8; 4096]).is_err(),
        "unsigned Status-Server answered"
    );
    let out = d.radclient("auth", "status", SECRET, "Message-Authenticator = 0x00\n");
    assert!(received(&out).contains("Access-Accept"), "{}", stdout(&out));
}

/// Item 10.14: RFC 2865 §5.2/§5.3 allow one credential per Access-Request. The right
/// password next to a CHAP-Password (or any second kind, or a second password) is refused,
/// and counted.
#[test]
fn a_request_with_two_credentials_is_rejected() {
    let d = radius_daemon(
        "radius-two-credentials",
        "[metrics]\nlisten = \"127.0.0.1:0\"\n",
    );
    let out = radclient(
        &d,
        "auth",
        SECRET,
        "User-Name = \"novak\", User-Password = \"arctangent\", CHAP-Password = \"arctangent\", Message-Authenticator = 0x00\n",
    );
    assert!(
        stdout(&out).contains("User-Password") && stdout(&out).contains("CHAP-Password"),
        "radclient sent both: {}",
        stdout(&out)
    );
    assert!(
        received(&out).contains("Access-Reject"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    // Each alone is still accepted.
    for credential in ["User-Password", "CHAP-Password"] {
        let out = radclient(
            &d,
            "auth",
            SECRET,
            &format!(
                "User-Name = \"novak\", {credential} = \"arctangent\", Message-Authenticator = 0x00\n"
            ),
        );
        assert!(
            received(&out).contains("Access-Accept"),
            "{credential}: {}",
            stdout(&out)
        );
    }
    // The right password with an EAP-Message beside it: refused too.
    let out = radclient(
        &d,
        "auth",
        SECRET,
        "User-Name = \"novak\", User-Password = \"arctangent\", EAP-Message = 0x0201000a016e6f76616b, Message-Authenticator = 0x00\n",
    );
    assert!(received(&out).contains("Access-Reject"), "{}", stdout(&out));
    // Two User-Passwords, the right one first: two credentials (found by probing from
    // outside: the first was taken and the request accepted).
    let out = radclient(
        &d,
        "auth",
        SECRET,
        "User-Name = \"novak\", User-Password = \"arctangent\", User-Password = \"wrong\", Message-Authenticator = 0x00\n",
    );
    assert_eq!(
        stdout(&out).matches("User-Password").count(),
        2,
        "radclient sent both: {}",
        stdout(&out)
    );
    assert!(received(&out).contains("Access-Reject"), "{}", stdout(&out));
    assert_eq!(
        metric(&d, "ispd_radius_rejects_multiple_credentials_total"),
        3
    );
    d.wait_for_log("multiple_credentials");
}

/// An unsigned Access-Request for novak carrying Proxy-State, sent from `source`; the reply,
/// if any, within half a second.
fn proxied_request(d: &Daemon, source: &str) -> Option<Vec<u8>> {
    let authenticator = [0x42u8; 16];
    let mut request = Packet::new(Code::AccessRequest, 9, authenticator);
    request.push(Attribute::string(rfc::USER_NAME, "novak"));
    let hidden =
        ispd_radius::password::hide(b"arctangent", SECRET.as_bytes(), &authenticator).unwrap();
    request.push(Attribute::new(rfc::USER_PASSWORD, hidden));
    request.push(Attribute::new(rfc::PROXY_STATE, *b"upstream-7"));
    let socket = UdpSocket::bind((source, 0)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    socket
        .send_to(
            &request.encode_request(SECRET.as_bytes()).unwrap(),
            auth_addr(d),
        )
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = socket.recv(&mut buf).ok()?;
    Some(buf[..n].to_vec())
}

/// Item 10.15: Proxy-State without Message-Authenticator (the BlastRADIUS shape) is dropped
/// by default, and answered, with the Proxy-State echoed, from a NAS with
/// `limit_proxy_state = false`, whether declared in the file or over the API.
#[test]
fn proxy_state_without_a_signature_follows_limit_proxy_state() {
    let d = radius_daemon(
        "radius-proxy-state",
        "require_message_authenticator = false\nlimit_proxy_state = false\n",
    );
    let reply = proxied_request(&d, "127.0.0.1").expect("answered: limit_proxy_state = false");
    let reply = PacketRef::decode(&reply).unwrap();
    assert_eq!(reply.code(), Code::AccessAccept);
    assert_eq!(
        reply.first(rfc::PROXY_STATE).map(|a| a.as_bytes()),
        Some(&b"upstream-7"[..]),
        "RFC 2865 §5.33: Proxy-State echoed"
    );
    // An API NAS not requiring Message-Authenticator keeps the default limit.
    let added = d.ispctl(&[
        "--json",
        "nas",
        "add",
        "--name",
        "upstream",
        "--address",
        "127.0.0.2",
        "--secret",
        SECRET,
        "--no-require-message-authenticator",
    ]);
    assert!(added.status.success(), "{}", stderr(&added));
    assert_eq!(proxied_request(&d, "127.0.0.2"), None, "dropped by default");
    // Turned off over the API: answered.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stored = rt.block_on(async {
        let mut nas = v1::nas_service_client::NasServiceClient::with_interceptor(
            d.channel().await,
            Bearer::new(&d.admin_token()),
        );
        let current = nas
            .get_nas(v1::GetNasRequest {
                name: "upstream".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(current.limit_proxy_state, Some(true), "default on");
        nas.update_nas(v1::UpdateNasRequest {
            nas: Some(v1::Nas {
                limit_proxy_state: Some(false),
                ..current
            }),
            new_secret: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
    });
    assert_eq!(stored.limit_proxy_state, Some(false));
    let reply = proxied_request(&d, "127.0.0.2").expect("answered after the API change");
    assert_eq!(reply[0], 2, "Access-Accept");
    // And with ispctl, as an operator would: on again, then off.
    let shown = d.ispctl_json(&["nas", "edit", "upstream", "--no-limit-proxy-state=false"]);
    assert_eq!(shown["limit_proxy_state"], true, "{shown}");
    assert_eq!(proxied_request(&d, "127.0.0.2"), None, "dropped again");
    let shown = d.ispctl_json(&["nas", "edit", "upstream", "--no-limit-proxy-state"]);
    assert_eq!(shown["limit_proxy_state"], false, "{shown}");
    assert!(proxied_request(&d, "127.0.0.2").is_some(), "answered again");
}

/// A signed Access-Request for novak carrying `proxy_states` Proxy-States of `len` octets;
/// the reply, if any, within half a second.
fn request_with_proxy_states(d: &Daemon, id: u8, proxy_states: u8, len: usize) -> Option<Vec<u8>> {
    let authenticator = [id; 16];
    let mut request = Packet::new(Code::AccessRequest, id, authenticator);
    request.push(Attribute::string(rfc::USER_NAME, "novak"));
    let hidden =
        ispd_radius::password::hide(b"arctangent", SECRET.as_bytes(), &authenticator).unwrap();
    request.push(Attribute::new(rfc::USER_PASSWORD, hidden));
    for i in 0..proxy_states {
        request.push(Attribute::new(rfc::PROXY_STATE, vec![i; len]));
    }
    request.insert_message_authenticator();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let bytes = request.encode_request(SECRET.as_bytes()).unwrap();
    socket.send_to(&bytes, auth_addr(d)).unwrap();
    let mut buf = [0u8; 4096];
    let n = socket.recv(&mut buf).ok()?;
    Some(buf[..n].to_vec())
}

/// Found probing from outside: a signed request of about 4096 octets with sixteen
/// Proxy-States got an Access-Accept of 4094 octets without its Mikrotik-Rate-Limit and
/// Class — the subscriber let in with no speed limit. An Accept's own attributes and the
/// echoed Proxy-States all fit, or no Accept is sent: the request is dropped and counted.
#[test]
fn proxy_states_never_push_the_rate_limit_out_of_an_accept() {
    let d = radius_daemon(
        "radius-proxy-state-room",
        "[metrics]\nlisten = \"127.0.0.1:0\"\n",
    );
    // 63 octets of header, name, password and signature, and 16 × 252 of Proxy-State.
    let reply = request_with_proxy_states(&d, 1, 16, 250);
    assert!(
        reply.is_none(),
        "dropped, not answered with {} octets",
        reply.map_or(0, |r| r.len())
    );
    assert_eq!(metric(&d, "ispd_radius_dropped_reply_too_large_total"), 1);
    assert_eq!(metric(&d, "ispd_radius_accepts_total"), 0);
    // With room left, the Accept carries them all, its rate limit and Class among them.
    let reply = request_with_proxy_states(&d, 2, 8, 250).expect("answered");
    let reply = PacketRef::decode(&reply).unwrap();
    assert_eq!(reply.code(), Code::AccessAccept);
    assert_eq!(reply.all(rfc::PROXY_STATE).count(), 8);
    assert!(reply.first(rfc::CLASS).is_some());
    assert!(
        reply
            .vendor_first(
                ispd_radius::dict::mikrotik::VENDOR_ID,
                ispd_radius::dict::mikrotik::MIKROTIK_RATE_LIMIT
            )
            .is_some()
    );
    assert_eq!(metric(&d, "ispd_radius_dropped_reply_too_large_total"), 1);
}
