//! RADIUS authentication end to end: a real ispd answering Debian's `radclient`, and raw
//! UDP where radclient cannot express the case (retransmissions, garbage).

use std::net::UdpSocket;
use std::process::Output;
use std::time::Duration;

use crate::daemon::{Daemon, stderr, stdout};

pub(crate) const SECRET: &str = "testing123-secret";

/// A daemon with one MikroTik NAS on 127.0.0.1 and a client on "Fiber 50" with two logins.
pub(crate) fn radius_daemon(name: &str, extra: &str) -> Daemon {
    let d = Daemon::start(
        name,
        &format!(
            "[[nas]]\nname = \"mt-core\"\naddress = \"127.0.0.1\"\nsecret = \"{SECRET}\"\nvendor = \"mikrotik\"\n{extra}"
        ),
    );
    d.ispctl_json(&[
        "client",
        "add",
        "--number",
        "100",
        "--name",
        "Novák Jan",
        "--street",
        "S 1",
        "--postcode",
        "1",
        "--city",
        "Praha",
    ]);
    d.ispctl_json(&[
        "tariff",
        "add",
        "--name",
        "Fiber 50",
        "--down",
        "50M",
        "--up",
        "10M",
        "--price",
        "399",
        "--burst-down",
        "60M",
        "--burst-up",
        "12M",
        "--burst-threshold-down",
        "40M",
        "--burst-threshold-up",
        "8M",
        "--burst-time",
        "16",
    ]);
    let sub = d.ispctl_json(&[
        "subscription",
        "add",
        "--client",
        "100",
        "--tariff",
        "Fiber 50",
        "--activation",
        "2026-01-01",
    ]);
    let sub_id = sub["id"].to_string();
    d.ispctl_json(&[
        "login",
        "add",
        "--subscription",
        &sub_id,
        "--username",
        "novak",
        "--password",
        "arctangent",
        "--ipv4",
        "100.64.0.10",
    ]);
    d.ispctl_json(&[
        "login",
        "add",
        "--subscription",
        &sub_id,
        "--auth",
        "mac",
        "--mac",
        "AA-BB-CC-00-11-22",
    ]);
    d
}

/// radclient to the auth port.
pub(crate) fn radclient(d: &Daemon, command: &str, secret: &str, attributes: &str) -> Output {
    d.radclient("auth", command, secret, attributes)
}

pub(crate) fn auth_addr(d: &Daemon) -> String {
    d.ports["auth"].as_str().unwrap().to_owned()
}

/// The attribute lines radclient printed for the reply.
pub(crate) fn reply_lines(out: &Output) -> Vec<String> {
    let text = stdout(out);
    let Some((_, reply)) = text.split_once("Received ") else {
        return Vec::new();
    };
    reply
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with('\t'))
        .map(|l| l.trim().to_owned())
        .collect()
}

pub(crate) fn received(out: &Output) -> String {
    stdout(out)
        .lines()
        .find(|l| l.starts_with("Received "))
        .unwrap_or_default()
        .to_owned()
}

/// A signed Access-Request for novak; a fresh authenticator gets no reply-cache hit.
pub(crate) fn access_request(id: u8, authenticator: [u8; 16]) -> Vec<u8> {
    use ispd_radius::dict::rfc;
    use ispd_radius::{Attribute, Code, Packet};
    let mut request = Packet::new(Code::AccessRequest, id, authenticator);
    request.push(Attribute::string(rfc::USER_NAME, "novak"));
    let hidden =
        ispd_radius::password::hide(b"arctangent", SECRET.as_bytes(), &authenticator).unwrap();
    request.push(Attribute::new(rfc::USER_PASSWORD, hidden));
    request.insert_message_authenticator();
    request.encode_request(SECRET.as_bytes()).unwrap()
}

/// radclient's PAP Access-Request for novak, signed.
fn radclient_pap(d: &Daemon) -> Output {
    radclient(
        d,
        "auth",
        SECRET,
        "User-Name = \"novak\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n",
    )
}

#[test]
fn pap_and_chap_get_the_tariff_speed_in_mikrotik_terms() {
    let d = radius_daemon("radius-pap", "");
    let out = radclient_pap(&d);
    assert!(
        received(&out).contains("Access-Accept"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let lines = reply_lines(&out);
    assert!(
        lines[0].starts_with("Message-Authenticator = 0x"),
        "Message-Authenticator first: {lines:?}"
    );
    for want in [
        "Framed-IP-Address = 100.64.0.10",
        // rx/tx is the router's view: the subscriber's upload comes first.
        "Mikrotik-Rate-Limit = \"10M/50M 12M/60M 8M/40M 16/16\"",
        "Acct-Interim-Interval = 300",
    ] {
        assert!(lines.iter().any(|l| l == want), "missing {want}: {lines:?}");
    }
    let out = radclient(
        &d,
        "auth",
        SECRET,
        "User-Name = \"novak\", CHAP-Password = \"arctangent\", Message-Authenticator = 0x00\n",
    );
    assert!(
        received(&out).contains("Access-Accept"),
        "CHAP: {}",
        stdout(&out)
    );
    assert!(
        reply_lines(&out)
            .iter()
            .any(|l| l.starts_with("Mikrotik-Rate-Limit"))
    );
}

#[test]
fn wrong_passwords_unknown_users_and_missing_signatures() {
    let d = radius_daemon("radius-reject", "");
    let out = radclient(
        &d,
        "auth",
        SECRET,
        "User-Name = \"novak\", User-Password = \"wrong\", Message-Authenticator = 0x00\n",
    );
    assert!(received(&out).contains("Access-Reject"), "{}", stdout(&out));
    assert!(
        reply_lines(&out)
            .iter()
            .any(|l| l.starts_with("Reply-Message = "))
    );
    let out = radclient(
        &d,
        "auth",
        SECRET,
        "User-Name = \"nobody\", User-Password = \"x\", Message-Authenticator = 0x00\n",
    );
    assert!(received(&out).contains("Access-Reject"), "{}", stdout(&out));
    // The NAS requires Message-Authenticator (the default): an unsigned request is dropped.
    let out = radclient(
        &d,
        "auth",
        SECRET,
        "User-Name = \"novak\", User-Password = \"arctangent\"\n",
    );
    assert!(
        received(&out).is_empty(),
        "BlastRADIUS: unsigned request answered: {}",
        stdout(&out)
    );
    // A wrong shared secret gets no usable answer.
    let out = radclient(
        &d,
        "auth",
        "not-the-secret",
        "User-Name = \"novak\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n",
    );
    assert!(received(&out).is_empty(), "{}", stdout(&out));
    let log = d.log();
    assert!(
        !log.contains("arctangent") && !log.contains(SECRET),
        "secrets stay out of the log"
    );
}

#[test]
fn unknown_nas_gets_nothing_and_is_counted() {
    let d = Daemon::start(
        "radius-unknown-nas",
        "[metrics]\nlisten = \"127.0.0.1:0\"\n[[nas]]\nname = \"elsewhere\"\naddress = \"127.0.0.2\"\nsecret = \"some-secret-1\"\n",
    );
    let out = radclient(
        &d,
        "auth",
        "some-secret-1",
        "User-Name = \"novak\", User-Password = \"x\", Message-Authenticator = 0x00\n",
    );
    assert!(received(&out).is_empty(), "{}", stdout(&out));
    assert!(metric(&d, "ispd_radius_dropped_unknown_nas_total") >= 1);
    d.wait_for_log("unknown NAS");
}

pub(crate) fn metric(d: &Daemon, name: &str) -> u64 {
    let addr = d.ports["metrics"].as_str().unwrap();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    stream.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut body = String::new();
    stream.read_to_string(&mut body).unwrap();
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} not in metrics:\n{body}"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn mschapv2_gets_success_and_mppe_keys() {
    use ispd_provisioning::auth::mschapv2;
    let d = radius_daemon("radius-mschap", "");
    let auth_challenge = [0x5Bu8; 16];
    let peer_challenge = [0x21u8; 16];
    let nt =
        mschapv2::generate_nt_response(&auth_challenge, &peer_challenge, "novak", "arctangent");
    // RFC 2548 §2.3.2: Ident, Flags, Peer-Challenge, 8 reserved octets, NT-Response.
    let mut response = vec![1u8, 0];
    response.extend_from_slice(&peer_challenge);
    response.extend_from_slice(&[0; 8]);
    response.extend_from_slice(&nt);
    let out = radclient(
        &d,
        "auth",
        SECRET,
        &format!(
            "User-Name = \"novak\", MS-CHAP-Challenge = 0x{}, MS-CHAP2-Response = 0x{}, Message-Authenticator = 0x00\n",
            hex::encode(auth_challenge),
            hex::encode(&response)
        ),
    );
    assert!(
        received(&out).contains("Access-Accept"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let lines = reply_lines(&out);
    let hash_hash = mschapv2::hash_nt_password_hash(&mschapv2::nt_password_hash("arctangent"));
    let challenge = mschapv2::challenge_hash(&peer_challenge, &auth_challenge, "novak");
    let expected = mschapv2::authenticator_response(&hash_hash, &nt, &challenge);
    let success = lines
        .iter()
        .find(|l| l.starts_with("MS-CHAP2-Success"))
        .expect("MS-CHAP2-Success");
    assert!(
        success.contains(&hex::encode(expected.as_bytes())),
        "{success} vs {expected}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("MS-MPPE-Send-Key")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("MS-MPPE-Recv-Key")),
        "{lines:?}"
    );

    // A wrong password: Reject with an MS-CHAP-Error the peer can show.
    let bad = mschapv2::generate_nt_response(&auth_challenge, &peer_challenge, "novak", "wrong");
    response.truncate(26);
    response.extend_from_slice(&bad);
    let out = radclient(
        &d,
        "auth",
        SECRET,
        &format!(
            "User-Name = \"novak\", MS-CHAP-Challenge = 0x{}, MS-CHAP2-Response = 0x{}, Message-Authenticator = 0x00\n",
            hex::encode(auth_challenge),
            hex::encode(&response)
        ),
    );
    assert!(received(&out).contains("Access-Reject"));
    assert!(
        reply_lines(&out)
            .iter()
            .any(|l| l.starts_with("MS-CHAP-Error"))
    );
}

#[test]
fn mac_logins_match_in_any_notation() {
    let d = radius_daemon("radius-mac", "");
    for (user, station) in [
        ("aa:bb:cc:00:11:22", "AA-BB-CC-00-11-22"),
        ("AABBCC001122", "aa:bb:cc:00:11:22"),
    ] {
        let out = radclient(
            &d,
            "auth",
            SECRET,
            &format!(
                "User-Name = \"{user}\", User-Password = \"{user}\", Calling-Station-Id = \"{station}\", Message-Authenticator = 0x00\n"
            ),
        );
        assert!(
            received(&out).contains("Access-Accept"),
            "{user}: {}",
            stdout(&out)
        );
    }
    // The MAC login's name from another device is refused.
    let out = radclient(
        &d,
        "auth",
        SECRET,
        "User-Name = \"aa:bb:cc:00:11:22\", User-Password = \"x\", Calling-Station-Id = \"00-00-00-00-00-01\", Message-Authenticator = 0x00\n",
    );
    assert!(received(&out).contains("Access-Reject"), "{}", stdout(&out));
}

#[test]
fn admin_changes_reach_radius_before_the_call_returns() {
    let d = radius_daemon("radius-live", "");
    let req =
        "User-Name = \"novak\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n";
    assert!(received(&radclient(&d, "auth", SECRET, req)).contains("Access-Accept"));
    d.ispctl_json(&["login", "edit", "novak", "--disabled"]);
    assert!(received(&radclient(&d, "auth", SECRET, req)).contains("Access-Reject"));
    d.ispctl_json(&["login", "edit", "novak", "--disabled=false"]);
    d.ispctl_json(&["tariff", "edit", "Fiber 50", "--down", "100M", "--no-burst"]);
    let out = radclient(&d, "auth", SECRET, req);
    assert!(
        reply_lines(&out)
            .iter()
            .any(|l| l == "Mikrotik-Rate-Limit = \"10M/100M\""),
        "{}",
        stdout(&out)
    );
    d.ispctl_json(&["login", "delete", "novak"]);
    assert!(received(&radclient(&d, "auth", SECRET, req)).contains("Access-Reject"));
}

#[test]
fn a_blocked_subscription_lands_in_the_walled_garden() {
    let mut d = radius_daemon("radius-garden", "");
    d.stop();
    // Set the state in the database and let the restart rebuild the cache from it (the API
    // transitions, refreshed without a restart, are tested in lifecycle.rs).
    d.sqlite("UPDATE subscription SET state = 'blocked'");
    d.spawn();
    let out = radclient(
        &d,
        "auth",
        SECRET,
        "User-Name = \"novak\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n",
    );
    assert!(received(&out).contains("Access-Accept"), "{}", stdout(&out));
    let lines = reply_lines(&out);
    assert!(
        lines
            .iter()
            .any(|l| l == "Mikrotik-Address-List = \"ispd-suspended\""),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l == "Mikrotik-Rate-Limit = \"256k/256k\""),
        "{lines:?}"
    );
}

#[test]
fn retransmissions_get_the_identical_reply_and_garbage_is_dropped() {
    let d = radius_daemon("radius-dup", "[metrics]\nlisten = \"127.0.0.1:0\"\n");
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    socket.connect(auth_addr(&d)).unwrap();
    let bytes = access_request(42, [7u8; 16]);
    let mut first = [0u8; 4096];
    socket.send(&bytes).unwrap();
    let n1 = socket.recv(&mut first).unwrap();
    // Change the password: a fresh evaluation would now reject; the retransmission must not.
    d.ispctl_json(&["login", "edit", "novak", "--new-password", "changed-pw"]);
    let mut second = [0u8; 4096];
    socket.send(&bytes).unwrap();
    let n2 = socket.recv(&mut second).unwrap();
    assert_eq!(
        &first[..n1],
        &second[..n2],
        "the cached reply, byte for byte"
    );
    assert_eq!(first[0], 2, "Access-Accept");
    assert!(metric(&d, "ispd_radius_duplicates_total") >= 1);

    for garbage in [
        &b"\x01\x02"[..],
        &[0xff; 30][..],
        &[1, 1, 0, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..],
    ] {
        socket.send(garbage).unwrap();
    }
    let out = radclient(&d, "status", SECRET, "Message-Authenticator = 0x00\n");
    assert!(
        received(&out).contains("Access-Accept"),
        "still serving after garbage: {}",
        stdout(&out)
    );
    assert!(metric(&d, "ispd_radius_dropped_malformed_total") >= 3);
}

#[test]
fn simultaneous_use_counts_open_sessions() {
    let mut d = radius_daemon("radius-simuse", "");
    let login_id = d.ispctl_json(&["login", "show", "novak"])["id"].to_string();
    d.stop();
    // One open session, recently updated (the stale sweeper would close an old one).
    d.sqlite(&format!(
        "INSERT INTO session (nas_name, acct_session_id, session_key, login_id, username, started_at, updated_at)
         VALUES ('mt-core', 'A1', 'mt-core/A1/1', {login_id}, 'novak', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))"));
    d.spawn();
    let req =
        "User-Name = \"novak\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n";
    let out = radclient(&d, "auth", SECRET, req);
    assert!(
        received(&out).contains("Access-Reject"),
        "limit 1 with one open session: {}",
        stdout(&out)
    );
    d.stop();
    // A closed session does not count.
    d.sqlite("UPDATE session SET stopped_at = '2026-11-24T11:00:00.000000Z'");
    d.spawn();
    assert!(received(&radclient(&d, "auth", SECRET, req)).contains("Access-Accept"));
}

#[test]
fn restricted_states_follow_the_config() {
    let mut d = radius_daemon(
        "radius-restricted",
        "[radius.restricted]\nblocked = \"reject\"\n[radius.walled_garden]\naddress_list = \"dluznici\"\ndownload_kbps = 512\nupload_kbps = 128\n",
    );
    d.stop();
    d.sqlite("UPDATE subscription SET state = 'blocked'");
    d.spawn();
    let req =
        "User-Name = \"novak\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n";
    assert!(received(&radclient(&d, "auth", SECRET, req)).contains("Access-Reject"));
    d.stop();
    d.sqlite("UPDATE subscription SET state = 'paused'");
    d.spawn();
    let out = radclient(&d, "auth", SECRET, req);
    let lines = reply_lines(&out);
    assert!(
        lines
            .iter()
            .any(|l| l == "Mikrotik-Address-List = \"dluznici\""),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l == "Mikrotik-Rate-Limit = \"128k/512k\""),
        "{lines:?}"
    );
}

#[test]
fn ipv6_listeners_and_nas_addresses_work() {
    // Only IPv6 listeners, instead of the harness's 127.0.0.1 ones.
    let d = Daemon::start_with(
        "radius-ipv6",
        &format!(
            "[radius]\nauth_listen = [\"[::1]:0\"]\nacct_listen = [\"[::1]:0\"]\n[admin]\nlisten = \"127.0.0.1:0\"\n\
             [billing]\nrun_at = \"\"\n\
             [[nas]]\nname = \"v6\"\naddress = \"::1\"\nsecret = \"{SECRET}\"\nvendor = \"accel-ppp\"\n"
        ),
    );
    d.ispctl_json(&[
        "client",
        "add",
        "--number",
        "1",
        "--name",
        "V6",
        "--street",
        "S",
        "--postcode",
        "1",
        "--city",
        "C",
    ]);
    d.ispctl_json(&[
        "tariff", "add", "--name", "T", "--down", "20M", "--up", "5M", "--price", "1",
    ]);
    let sub = d.ispctl_json(&[
        "subscription",
        "add",
        "--client",
        "1",
        "--tariff",
        "T",
        "--activation",
        "2026-01-01",
    ]);
    d.ispctl_json(&[
        "login",
        "add",
        "--subscription",
        &sub["id"].to_string(),
        "--username",
        "v6user",
        "--password",
        "secret-pw",
        "--ipv6-prefix",
        "2001:db8:100::/56",
    ]);
    let addr = d.ports["auth"].as_str().unwrap().to_owned();
    assert!(addr.starts_with("[::1]:"), "{addr}");
    let out = radclient(
        &d,
        "auth",
        SECRET,
        "User-Name = \"v6user\", User-Password = \"secret-pw\", Message-Authenticator = 0x00\n",
    );
    assert!(
        received(&out).contains("Access-Accept"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let lines = reply_lines(&out);
    // accel-ppp reads "down/up" in kbit/s from Filter-Id; a /56 is delegated to the CPE.
    assert!(
        lines.iter().any(|l| l == "Filter-Id = \"20000/5000\""),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l == "Delegated-IPv6-Prefix = 2001:db8:100::/56"),
        "{lines:?}"
    );
}

/// The auth port is served by one socket per CPU (`reuseport`): Access-Requests from many
/// source ports and threads are all answered, each from the auth address itself; a second
/// daemon configured on the same port is refused instead of joining the group and taking
/// part of the requests.
#[test]
fn the_auth_port_answers_every_request_and_is_not_shared_with_a_second_daemon() {
    let d = radius_daemon("radius-group", "");
    let addr: std::net::SocketAddr = auth_addr(&d).parse().unwrap();
    let senders: Vec<_> = (0..4u8)
        .map(|t| {
            std::thread::spawn(move || {
                let mut accepted = 0;
                for i in 0..16u8 {
                    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
                    socket
                        .set_read_timeout(Some(Duration::from_secs(2)))
                        .unwrap();
                    let bytes = access_request(i, [t * 16 + i; 16]);
                    socket.send_to(&bytes, addr).unwrap();
                    let mut reply = [0u8; 4096];
                    let (n, from) = socket.recv_from(&mut reply).unwrap();
                    assert_eq!(from, addr, "answered from the auth address");
                    if n >= 20 && reply[0] == 2 && reply[1] == i {
                        accepted += 1;
                    }
                }
                accepted
            })
        })
        .collect();
    let accepted: u32 = senders.into_iter().map(|s| s.join().unwrap()).sum();
    assert_eq!(accepted, 64, "every request answered with an Access-Accept");

    let second = Daemon::configure_with(
        "radius-group-second",
        &format!(
            "[radius]\nauth_listen = [\"{addr}\"]\nacct_listen = [\"127.0.0.1:0\"]\n\
             [admin]\nlisten = \"127.0.0.1:0\"\n[billing]\nrun_at = \"\"\n"
        ),
    );
    // Bounded: a daemon that joined the port would run on, so it is killed after 10 s.
    let mut child = std::process::Command::new(crate::daemon::ISPD)
        .arg("--config")
        .arg(&second.config_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "the second daemon is refused");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("radius.auth_listen: cannot listen on {addr}")),
        "{err}"
    );
    let out = radclient_pap(&d);
    assert!(
        received(&out).contains("Access-Accept"),
        "the first daemon still answers: {}",
        stdout(&out)
    );
}

/// A login's extra reply attributes (found probing from outside): a value over 253 octets was
/// stored and then silenced every answer to the login; typed attributes went out as text;
/// a name ispd sends itself went out twice. Refused when saved, naming the attribute; what is
/// stored goes out as its RFC encodes it; and a reply their sum would push past 4096 octets
/// still goes out, without the extras that do not fit.
#[test]
fn a_logins_extra_attributes_are_checked_typed_and_never_silence_it() {
    let d = radius_daemon("radius-extras", "");
    let sub =
        d.ispctl_json(&["subscription", "list", "--client", "100"])["items"][0]["id"].to_string();
    let add = |user: &str, attrs: &[String]| {
        let mut args = vec![
            "login".to_owned(),
            "add".into(),
            "--subscription".into(),
            sub.clone(),
            "--username".into(),
            user.into(),
            "--password".into(),
            "arctangent".into(),
        ];
        for attr in attrs {
            args.extend(["--attr".to_owned(), attr.clone()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        d.ispctl(&args)
    };
    for (attr, field) in [
        (format!("Reply-Message={}", "ž".repeat(127)), "253 octets"),
        ("User-Password=secret".to_owned(), "RFC 2865 §5.44"),
        ("Class=foo".to_owned(), "ispd's to send"),
        ("Service-Type=Framed-Usr".to_owned(), "cannot be sent"),
        ("Tunnel-Password=x".to_owned(), "cannot be sent"),
    ] {
        let out = add("refused", std::slice::from_ref(&attr));
        let err = crate::daemon::stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{attr}: {err}");
        assert!(
            err.contains("login.attributes[0]") && err.contains(field),
            "{attr}: {err}"
        );
    }
    // Found probing from outside: an attribute an Accept holds once, given twice, and an
    // MTU of 0 went out as given.
    for (attrs, field, why) in [
        (
            ["Session-Timeout=100", "Session-Timeout=200"],
            "login.attributes[1]",
            "at most once",
        ),
        (
            ["Framed-MTU=0", "Reply-Message=x"],
            "login.attributes[0]",
            "64-65535",
        ),
    ] {
        let out = add("refused", &attrs.map(str::to_owned));
        let err = crate::daemon::stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{attrs:?}: {err}");
        assert!(err.contains(field) && err.contains(why), "{attrs:?}: {err}");
    }
    let typed = [
        "Tunnel-Type=VLAN",
        "Tunnel-Medium-Type=IEEE-802",
        "Tunnel-Private-Group-Id=100",
        "Framed-IPv6-Prefix=2001:db8:9::/64",
    ]
    .map(str::to_owned);
    assert!(add("vlan", &typed).status.success());
    let out = radclient(
        &d,
        "auth",
        SECRET,
        "User-Name = \"vlan\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n",
    );
    let lines = reply_lines(&out);
    for wanted in [
        "Tunnel-Type:0 = VLAN",
        "Tunnel-Medium-Type:0 = IEEE-802",
        "Tunnel-Private-Group-Id:0 = \"100\"",
        "Framed-IPv6-Prefix = 2001:db8:9::/64",
    ] {
        assert!(lines.iter().any(|l| l == wanted), "{wanted}: {lines:?}");
    }
    // Seventeen lists of 247 characters: more than a reply holds. The answer still comes.
    let long = (0..17)
        .map(|i| format!("Mikrotik-Address-List={i:03}{}", "x".repeat(244)))
        .collect::<Vec<_>>();
    assert!(add("many", &long).status.success());
    let out = radclient(
        &d,
        "auth",
        SECRET,
        "User-Name = \"many\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n",
    );
    assert!(received(&out).contains("Access-Accept"), "{}", stdout(&out));
    let lists = reply_lines(&out)
        .iter()
        .filter(|l| l.starts_with("Mikrotik-Address-List"))
        .count();
    assert!((1..17).contains(&lists), "as many as fit: {lists}");
}

/// Found probing from outside: integer, address and date extras went out as ASCII text
/// (Termination-Action `"1"`, MS-Primary-DNS-Server `"8.8.8.8"`) and Vendor-Specific=0x01 as
/// the text `"0x01"`. Each now goes as its dictionary type, as radclient decodes it; a name
/// whose type no text can be, or a value not of its type, is refused naming the attribute.
#[test]
fn typed_extras_go_as_their_dictionary_type() {
    let d = radius_daemon("radius-typed-extras", "");
    let edit = |attrs: &[&str]| {
        let mut args = vec!["login", "edit", "novak", "--clear-attrs"];
        for attr in attrs {
            args.extend(["--attr", attr]);
        }
        d.ispctl(&args)
    };
    for (attr, why) in [
        // Found probing from outside: attributes an Access-Accept never holds were sent.
        ("NAS-IP-Address=1.2.3.4", "RFC 2865 §5.44"),
        ("Calling-Station-Id=aa", "RFC 2865 §5.44"),
        ("Acct-Session-Id=1", "accounting"),
        ("Event-Timestamp=5", "RFC 2869 §5.19"),
        ("Vendor-Specific=0x01", "name the vendor's attribute"),
        ("MS-CHAP-MPPE-Keys=0x01", "encrypted"),
        ("Termination-Action=Sometimes", "not an integer"),
        ("Login-IP-Host=host.example", "not an IPv4 address"),
        ("Chargeable-User-Identity=ab01", "0x and hex digits"),
    ] {
        let out = edit(&[attr]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{attr}: {err}");
        let name = attr.split('=').next().unwrap();
        assert!(
            err.contains("login.attributes[0]") && err.contains(name) && err.contains(why),
            "{attr}: {err}"
        );
    }
    let out = edit(&[
        "Termination-Action=1",
        "MS-Primary-DNS-Server=8.8.8.8",
        "Login-IP-Host=1.2.3.4",
        "Framed-Compression=Van-Jacobson-TCP-IP",
        "Chargeable-User-Identity=0xab01",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = reply_lines(&radclient_pap(&d));
    for wanted in [
        "Termination-Action = RADIUS-Request",
        "MS-Primary-DNS-Server = 8.8.8.8",
        "Login-IP-Host = 1.2.3.4",
        "Framed-Compression = Van-Jacobson-TCP-IP",
        "Chargeable-User-Identity = 0xab01",
    ] {
        assert!(lines.iter().any(|l| l == wanted), "{wanted}: {lines:?}");
    }
}
