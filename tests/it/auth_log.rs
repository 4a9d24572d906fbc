//! The authentication log end to end: radclient's requests, then `ispctl login auth-log`
//! showing each one's exact reason at once, and the filters over gRPC.

use ispd_admin_proto::v1;
use serde_json::Value;

use crate::daemon::{Bearer, Daemon, stderr, stdout};
use crate::radius::{SECRET, radclient, radius_daemon, received};

fn attempts(v: &Value) -> Vec<(String, String, String)> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a listing: {v}"))
        .iter()
        .map(|a| {
            (
                a["login"].as_str().unwrap().to_owned(),
                a["result"].as_str().unwrap().to_owned(),
                a["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn row(login: &str, result: &str, reason: &str) -> (String, String, String) {
    (login.into(), result.into(), reason.into())
}

/// Sends `attributes` with radclient and checks the answer is `expect`.
fn ask(d: &Daemon, attributes: &str, expect: &str) {
    let out = radclient(d, "auth", SECRET, attributes);
    assert!(received(&out).contains(expect), "{}", stdout(&out));
}

/// A PAP request from the device `station` (empty: no Calling-Station-Id).
fn pap(user: &str, password: &str, station: &str) -> String {
    let station = match station {
        "" => String::new(),
        mac => format!("Calling-Station-Id = \"{mac}\", "),
    };
    format!(
        "User-Name = \"{user}\", User-Password = \"{password}\", {station}Message-Authenticator = 0x00\n"
    )
}

#[test]
fn every_request_is_logged_with_its_exact_reason_and_listed_at_once() {
    let d = radius_daemon("auth-log", "");
    let ask = |attributes: &str, expect: &str| ask(&d, attributes, expect);
    ask(&pap("novak", "wrong", "02-00-00-00-00-0A"), "Access-Reject");
    ask(
        &pap("novak", "arctangent", "02-00-00-00-00-0A"),
        "Access-Accept",
    );
    ask(&pap("nobody", "x", ""), "Access-Reject");
    // The MAC login's name typed in from another device.
    ask(
        &pap("aa:bb:cc:00:11:22", "x", "02-00-00-00-00-01"),
        "Access-Reject",
    );
    // Blocked: the default policy lets it into the walled garden.
    let subs = d.ispctl_json(&["subscription", "list", "--client", "100"]);
    let sub = subs["items"][0]["id"].to_string();
    d.ispctl_json(&["subscription", "block", &sub]);
    ask(
        &pap("novak", "arctangent", "02-00-00-00-00-0A"),
        "Access-Accept",
    );

    // Listed the moment after, newest first, each with its reason.
    let novak = d.ispctl_json(&["login", "auth-log", "novak"]);
    assert_eq!(
        attempts(&novak),
        [
            row("novak", "accept", "blocked"),
            row("novak", "accept", "active"),
            row("novak", "reject", "bad_credential"),
        ],
        "{novak}"
    );
    let newest = &novak["items"][0];
    assert_eq!(newest["count"], 1);
    assert_eq!(newest["nas"], "mt-core");
    assert_eq!(newest["method"], "pap");
    assert_eq!(newest["calling_station"], "02-00-00-00-00-0A");
    assert!(newest["at"].as_str().unwrap().ends_with('Z'), "{newest}");
    let text = d.ispctl(&["login", "auth-log", "novak"]);
    assert!(text.status.success(), "{}", stderr(&text));
    assert!(
        stdout(&text).contains("walled garden: blocked"),
        "{}",
        stdout(&text)
    );
    // Nothing of the password reaches the log.
    assert!(!stdout(&text).contains("arctangent"));

    let rejects = d.ispctl_json(&["login", "auth-log", "--result", "reject"]);
    let mac_login = d.ispctl_json(&["login", "list", "--client", "100"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["auth_type"] == "mac")
        .map(|l| l["username"].as_str().unwrap().to_owned())
        .unwrap();
    assert_eq!(
        attempts(&rejects),
        [
            row(&mac_login, "reject", "mac_mismatch"),
            row("nobody", "reject", "unknown_user"),
            row("novak", "reject", "bad_credential"),
        ],
        "{rejects}"
    );
    let by_reason = d.ispctl_json(&["login", "auth-log", "--reason", "unknown_user"]);
    assert_eq!(
        attempts(&by_reason),
        [row("nobody", "reject", "unknown_user")]
    );
    let elsewhere = d.ispctl_json(&["login", "auth-log", "--nas", "another-nas"]);
    assert!(attempts(&elsewhere).is_empty(), "{elsewhere}");
    let two = d.ispctl_json(&["login", "auth-log", "--limit", "2"]);
    assert_eq!(attempts(&two).len(), 2);

    // A router retrying the same wrong login: one line with its count.
    for _ in 0..3 {
        ask(&pap("svoboda", "x", "02-00-00-00-00-0C"), "Access-Reject");
    }
    let retries = d.ispctl_json(&["login", "auth-log", "svoboda"]);
    assert_eq!(
        attempts(&retries),
        [row("svoboda", "reject", "unknown_user")]
    );
    assert_eq!(retries["items"][0]["count"], 3, "{retries}");
    assert!(retries["items"][0]["last_at"].as_str() >= retries["items"][0]["at"].as_str());

    // Over gRPC a filter the server does not know is refused, the field named.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut api = v1::login_service_client::LoginServiceClient::with_interceptor(
            d.channel().await,
            Bearer::new(&d.admin_token()),
        );
        let refused = api
            .list_auth_attempts(v1::ListAuthAttemptsRequest {
                result: "maybe".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(refused.message().contains("result"), "{refused:?}");
        let found = api
            .list_auth_attempts(v1::ListAuthAttemptsRequest {
                login: "novak".into(),
                result: "accept".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(found.attempts.len(), 2);
        assert!(!found.memory_only);
    });
}

#[test]
fn the_log_can_be_switched_off() {
    let d = radius_daemon("auth-log-off", "[auth_log]\nenabled = false\n");
    ask(&d, &pap("novak", "arctangent", ""), "Access-Accept");
    let log = d.ispctl_json(&["login", "auth-log"]);
    assert!(attempts(&log).is_empty(), "{log}");
}

/// The attempts of the last seconds before `systemctl stop` (an upgrade, a restart) are
/// still in the log after the next start: a clean stop writes what the log had gathered.
#[test]
fn a_clean_stop_writes_the_attempts_gathered_so_far() {
    let mut d = radius_daemon("auth-log-stop", "");
    ask(&d, &pap("novak", "guess", ""), "Access-Reject");
    d.stop();
    d.spawn();
    let log = d.ispctl_json(&["login", "auth-log", "novak"]);
    assert_eq!(
        attempts(&log),
        [row("novak", "reject", "bad_credential")],
        "{log}"
    );
}

#[test]
fn with_the_database_away_the_log_answers_from_memory_and_writes_later() {
    let Some(db) = crate::daemon::PgDatabase::create("authlog_outage") else {
        return;
    };
    let (proxy, via_proxy) = crate::accounting::Outage::in_front_of(&db.url);
    let d = radius_daemon(
        "auth-log-outage",
        &format!("[database]\nurl = {via_proxy:?}\n"),
    );
    proxy.set_up(false);
    ask(&d, &pap("novak", "guess", ""), "Access-Reject");
    let away = d.ispctl(&["--json", "login", "auth-log", "novak"]);
    assert!(away.status.success(), "{}", stderr(&away));
    assert!(
        stderr(&away).contains("could not be read"),
        "the operator is told: {}",
        stderr(&away)
    );
    let listed: Value = serde_json::from_str(&stdout(&away)).unwrap();
    assert_eq!(
        attempts(&listed),
        [row("novak", "reject", "bad_credential")],
        "{listed}"
    );

    proxy.set_up(true);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let back = d.ispctl(&["--json", "login", "auth-log", "novak"]);
        let listed: Value = serde_json::from_str(&stdout(&back)).unwrap_or_default();
        if back.status.success()
            && !stderr(&back).contains("could not be read")
            && attempts(&listed) == [row("novak", "reject", "bad_credential")]
        {
            assert!(listed["items"][0]["id"].as_i64().unwrap() > 0, "{listed}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the attempt made while the database was away never reached it: {}",
            stderr(&back)
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

#[test]
fn login_show_tells_what_the_login_has_now() {
    let d = radius_daemon("login-view", "");
    ask(
        &d,
        &pap("novak", "arctangent", "02-00-00-00-00-0A"),
        "Access-Accept",
    );
    let started = d.radclient(
        "acct",
        "acct",
        SECRET,
        "Acct-Status-Type = Start, Acct-Session-Id = \"view-1\", User-Name = \"novak\", Framed-IP-Address = 100.64.0.10\n",
    );
    assert!(
        stdout(&started).contains("Accounting-Response"),
        "{}",
        stdout(&started)
    );

    let view = d.ispctl_json(&["login", "show", "novak"]);
    assert_eq!(view["username"], "novak", "the record as before: {view}");
    assert_eq!(view["now"]["answer"], "full", "{view}");
    assert_eq!(view["now"]["access_state"], "active");
    assert_eq!(view["now"]["tariff"], "Fiber 50");
    assert_eq!(
        (
            view["now"]["download_kbps"].as_u64(),
            view["now"]["upload_kbps"].as_u64()
        ),
        (Some(50_000), Some(10_000)),
        "Fiber 50's speed"
    );
    let sessions = view["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{view}");
    assert_eq!(sessions[0]["acct_session_id"], "view-1");
    assert_eq!(view["last_auth"]["result"], "accept");
    assert_eq!(view["last_auth"]["calling_station"], "02-00-00-00-00-0A");

    // Blocked: the walled garden's speed, at once.
    let subs = d.ispctl_json(&["subscription", "list", "--client", "100"]);
    let sub = subs["items"][0]["id"].to_string();
    d.ispctl_json(&["subscription", "block", &sub]);
    let view = d.ispctl_json(&["login", "show", "novak"]);
    assert_eq!(
        (
            view["now"]["answer"].as_str(),
            view["now"]["access_state"].as_str(),
            view["now"]["download_kbps"].as_u64()
        ),
        (Some("walled_garden"), Some("blocked"), Some(256)),
        "{view}"
    );
    let text = d.ispctl(&["login", "show", "novak"]);
    assert!(text.status.success(), "{}", stderr(&text));
    assert!(stdout(&text).contains("walled_garden"), "{}", stdout(&text));
}

/// Found probing from outside: a User-Name that is not UTF-8 (a CPE in another code page)
/// was logged as "", and every such one merged into one row of the authentication log. It
/// is shown in hex, as accounting stores it.
#[test]
fn a_user_name_that_is_not_utf8_is_logged_in_hex() {
    use ispd_radius::dict::rfc;
    use ispd_radius::{Attribute, Code, Packet, PacketRef};
    let d = radius_daemon("auth-log-binary", "");
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    socket.connect(crate::radius::auth_addr(&d)).unwrap();
    // "čšř" in Windows-1250, and bytes that are no text at all.
    for (id, name) in [
        (1u8, &[0xe8u8, 0x9a, 0xf8][..]),
        (2, &[0xff, 0xfe, 0x62][..]),
    ] {
        let authenticator = [id; 16];
        let mut request = Packet::new(Code::AccessRequest, id, authenticator);
        request.push(Attribute::new(rfc::USER_NAME, name.to_vec()));
        let hidden = ispd_radius::password::hide(b"x", SECRET.as_bytes(), &authenticator).unwrap();
        request.push(Attribute::new(rfc::USER_PASSWORD, hidden));
        request.insert_message_authenticator();
        socket
            .send(&request.encode_request(SECRET.as_bytes()).unwrap())
            .unwrap();
        let mut buf = [0u8; 4096];
        let n = socket.recv(&mut buf).unwrap();
        assert_eq!(
            PacketRef::decode(&buf[..n]).unwrap().code(),
            Code::AccessReject
        );
    }
    let rejects = d.ispctl_json(&["login", "auth-log", "--reason", "unknown_user"]);
    let mut logged = attempts(&rejects);
    logged.sort();
    assert_eq!(
        logged,
        [
            row("0xe89af8", "reject", "unknown_user"),
            row("0xfffe62", "reject", "unknown_user")
        ],
        "{rejects}"
    );
}
