//! RADIUS accounting end to end: radclient and raw UDP against a real ispd, checked in the
//! database it writes.

use std::net::UdpSocket;
use std::process::Command;
use std::time::{Duration, Instant};

use ispd_radius::dict::rfc;
use ispd_radius::{Attribute, Code, Packet, PacketRef};

use crate::daemon::{Daemon, stdout};

pub(crate) const SECRET: &str = "acct-secret-123";

/// A daemon with one NAS and one login; `radius` adds keys to its [radius] table.
pub(crate) fn acct_daemon(name: &str, radius: &str) -> Daemon {
    let d = Daemon::start_with(name, &acct_config(radius));
    add_login(&d);
    d
}

/// The config of [`acct_daemon`]: one NAS ("bras" on 127.0.0.1), no daily jobs.
pub(crate) fn acct_config(radius: &str) -> String {
    format!(
        "[radius]\nauth_listen = [\"127.0.0.1:0\"]\nacct_listen = [\"127.0.0.1:0\"]\n{radius}\n\
         [admin]\nlisten = \"127.0.0.1:0\"\n[billing]\nrun_at = \"\"\n\
         [[nas]]\nname = \"bras\"\naddress = \"127.0.0.1\"\nsecret = \"{SECRET}\"\nvendor = \"mikrotik\"\n"
    )
}

/// Adds the NAS "bras" on 127.0.0.1 through `d` (with its CoA port when given).
pub(crate) fn add_nas(d: &Daemon, secret: &str, vendor: &str, coa_port: Option<u16>) {
    let port = coa_port.map(|p| p.to_string());
    let mut args = vec![
        "nas",
        "add",
        "--name",
        "bras",
        "--address",
        "127.0.0.1",
        "--secret",
        secret,
        "--vendor",
        vendor,
    ];
    if let Some(port) = &port {
        args.extend(["--coa-port", port]);
    }
    d.ispctl_json(&args);
}

/// Client 7 with a subscription and the login "novak".
pub(crate) fn add_login(d: &Daemon) {
    d.ispctl_json(&[
        "client",
        "add",
        "--number",
        "7",
        "--name",
        "Acct",
        "--street",
        "S",
        "--postcode",
        "1",
        "--city",
        "C",
    ]);
    d.ispctl_json(&[
        "tariff", "add", "--name", "T", "--down", "10M", "--up", "2M", "--price", "1",
    ]);
    let sub = d.ispctl_json(&[
        "subscription",
        "add",
        "--client",
        "7",
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
        "novak",
        "--password",
        "arctangent",
    ]);
}

#[test]
fn start_interim_stop_with_gigawords_and_daily_usage() {
    cycle(None);
}

#[test]
fn start_interim_stop_on_postgres() {
    if let Some(db) = crate::daemon::PgDatabase::create("cycle") {
        cycle(Some(db));
    }
}

/// Rows of a query on the daemon's database: SQLite, or PostgreSQL when `pg` is given.
pub(crate) fn rows(d: &Daemon, pg: Option<&crate::daemon::PgDatabase>, sql: &str) -> Vec<String> {
    match pg {
        Some(db) => psql(&db.url, sql).lines().map(str::to_owned).collect(),
        None => query(d, sql),
    }
}

pub(crate) fn database_table(pg: Option<&crate::daemon::PgDatabase>) -> String {
    pg.map(|db| format!("\n[database]\nurl = {:?}", db.url))
        .unwrap_or_default()
}

fn cycle(pg: Option<crate::daemon::PgDatabase>) {
    let d = acct_daemon("acct-cycle", &database_table(pg.as_ref()));
    let query = |_: &Daemon, sql: &str| rows(&d, pg.as_ref(), sql);
    let answered = |attrs: &str| {
        radclient(&d, "acct", "acct", SECRET, attrs).contains("Received Accounting-Response")
    };
    assert!(answered(
        "Acct-Status-Type = Start, Acct-Session-Id = \"81000001\", User-Name = \"novak\", Framed-IP-Address = 100.64.0.7, Calling-Station-Id = \"AA-BB-CC-00-11-22\", NAS-Port = 15\n"
    ));
    assert_eq!(
        query(
            &d,
            "SELECT username, framed_ip, calling_station, nas_port, COALESCE(stopped_at, 'open') FROM session"
        ),
        ["novak|100.64.0.7|AA-BB-CC-00-11-22|15|open"]
    );
    // 4 GiB + 1000 down: Acct-Output-Gigawords carries the high 32 bits.
    assert!(answered(
        "Acct-Status-Type = Interim-Update, Acct-Session-Id = \"81000001\", User-Name = \"novak\", Acct-Session-Time = 300, Acct-Input-Octets = 500, Acct-Output-Octets = 1000, Acct-Output-Gigawords = 1\n"
    ));
    assert!(answered(
        "Acct-Status-Type = Stop, Acct-Session-Id = \"81000001\", User-Name = \"novak\", Acct-Session-Time = 600, Acct-Input-Octets = 800, Acct-Output-Octets = 3000, Acct-Output-Gigawords = 1, Acct-Terminate-Cause = User-Request\n"
    ));
    let rows = query(
        &d,
        "SELECT input_octets, output_octets, session_seconds, terminate_cause, CASE WHEN stopped_at IS NULL THEN 'open' ELSE 'closed' END FROM session",
    );
    assert_eq!(
        rows,
        [format!(
            "800|{}|600|User-Request|closed",
            (1u64 << 32) + 3000
        )]
    );
    let usage = query(
        &d,
        "SELECT input_octets, output_octets, session_seconds FROM usage_daily",
    );
    assert_eq!(
        usage,
        [format!("800|{}|600", (1u64 << 32) + 3000)],
        "usage equals the session's totals"
    );
}

/// Builds a signed Accounting-Request.
/// radclient's output for one request.
fn radclient(d: &Daemon, port: &str, command: &str, secret: &str, attributes: &str) -> String {
    stdout(&d.radclient(port, command, secret, attributes))
}

fn query(d: &Daemon, sql: &str) -> Vec<String> {
    d.query(sql)
}

/// A UDP socket connected to `d`'s accounting port, waiting at most `timeout` for an answer.
pub(crate) fn acct_socket(d: &Daemon, timeout: Duration) -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(timeout)).unwrap();
    socket.connect(d.ports["acct"].as_str().unwrap()).unwrap();
    socket
}

/// An Accounting-Request Start of `session` for novak, signed with the NAS secret.
pub(crate) fn novak_start(id: u8, session: &str) -> Vec<u8> {
    acct_request(id, start_attributes(session))
}

/// A Start's attributes: `session` of the login novak.
pub(crate) fn start_attributes(session: &str) -> Vec<Attribute> {
    vec![
        Attribute::integer(rfc::ACCT_STATUS_TYPE, 1),
        Attribute::string(rfc::ACCT_SESSION_ID, session),
        Attribute::string(rfc::USER_NAME, "novak"),
    ]
}

pub(crate) fn acct_request(id: u8, attrs: Vec<Attribute>) -> Vec<u8> {
    let mut packet = Packet::new(Code::AccountingRequest, id, [0; 16]);
    for a in attrs {
        packet.push(a);
    }
    packet.encode_request(SECRET.as_bytes()).unwrap()
}

fn interim(session: &str, seconds: u32, input: u32) -> Vec<Attribute> {
    vec![
        Attribute::integer(rfc::ACCT_STATUS_TYPE, 3),
        Attribute::string(rfc::ACCT_SESSION_ID, session),
        Attribute::string(rfc::USER_NAME, "novak"),
        Attribute::integer(rfc::ACCT_SESSION_TIME, seconds),
        Attribute::integer(rfc::ACCT_INPUT_OCTETS, input),
    ]
}

#[test]
fn retransmissions_are_acknowledged_but_counted_once() {
    let d = acct_daemon("acct-dup", "");
    let socket = acct_socket(&d, Duration::from_secs(2));
    let mut buf = [0u8; 4096];
    // Lost Start: the first Interim creates the session.
    let first = acct_request(1, interim("s-dup", 60, 1000));
    for _ in 0..2 {
        socket.send(&first).unwrap();
        let n = socket.recv(&mut buf).unwrap();
        assert_eq!(
            PacketRef::decode(&buf[..n]).unwrap().code(),
            Code::AccountingResponse
        );
    }
    // The same Interim again later, with a new identifier (so not a RFC 5080 duplicate):
    // acknowledged, nothing counted twice.
    socket
        .send(&acct_request(2, interim("s-dup", 60, 1000)))
        .unwrap();
    socket.recv(&mut buf).unwrap();
    // An older Interim arriving late does not move counters backwards.
    socket
        .send(&acct_request(3, interim("s-dup", 30, 400)))
        .unwrap();
    socket.recv(&mut buf).unwrap();
    assert_eq!(
        query(&d, "SELECT COUNT(*), MAX(input_octets) FROM session"),
        ["1|1000"]
    );
    assert_eq!(
        query(&d, "SELECT input_octets, session_seconds FROM usage_daily"),
        ["1000|60"]
    );
}

/// Found probing from outside: without Event-Timestamp a record's time is its arrival, and
/// a Stop whose answer was lost, sent again 6 s later byte for byte (a NAS retrying every
/// 5 s), was a second session with its traffic counted twice.
#[test]
fn a_retransmission_seconds_later_is_not_counted_again() {
    let d = acct_daemon("acct-late-retransmit", "");
    let socket = acct_socket(&d, Duration::from_secs(5));
    let mut buf = [0u8; 4096];
    let mut exchange = |packet: &[u8]| {
        socket.send(packet).unwrap();
        let n = socket.recv(&mut buf).unwrap();
        assert_eq!(
            PacketRef::decode(&buf[..n]).unwrap().code(),
            Code::AccountingResponse
        );
    };
    exchange(&acct_request(1, start_attributes("s-late")));
    let mut stop = interim("s-late", 2, 900);
    stop[0] = Attribute::integer(rfc::ACCT_STATUS_TYPE, 2);
    let stop = acct_request(2, stop);
    exchange(&stop);
    std::thread::sleep(Duration::from_secs(6));
    exchange(&stop);
    assert_eq!(
        query(&d, "SELECT COUNT(*), SUM(input_octets) FROM session"),
        ["1|900"]
    );
    assert_eq!(
        query(&d, "SELECT SUM(input_octets) FROM usage_daily"),
        ["900"]
    );
}

/// Found probing from outside: a login deleted while online — its Disconnect answered, the
/// NAS's Interim and Stop following — had its records refused by the database (its days are
/// gone with it, the writer still counted for it): set aside, the traffic lost and the
/// session open for good. The session closes; the deleted login's traffic counts for nobody.
#[test]
fn the_stop_of_a_deleted_logins_session_closes_it() {
    deleted_login_stop(None);
}

#[test]
fn the_stop_of_a_deleted_logins_session_closes_it_on_postgres() {
    if let Some(db) = crate::daemon::PgDatabase::create("deleted_stop") {
        deleted_login_stop(Some(db));
    }
}

fn deleted_login_stop(pg: Option<crate::daemon::PgDatabase>) {
    let d = acct_daemon("acct-deleted-login", &database_table(pg.as_ref()));
    let acct = |attrs: &str| {
        let out = radclient(&d, "acct", "acct", SECRET, &format!("{attrs}\n"));
        assert!(out.contains("Received Accounting-Response"), "{out}");
    };
    acct("Acct-Status-Type = Start, Acct-Session-Id = \"g1\", User-Name = \"novak\"");
    acct(
        "Acct-Status-Type = Interim-Update, Acct-Session-Id = \"g1\", User-Name = \"novak\", \
         Acct-Session-Time = 60, Acct-Input-Octets = 1000",
    );
    d.ispctl_json(&["login", "delete", "novak"]);
    acct(
        "Acct-Status-Type = Interim-Update, Acct-Session-Id = \"g1\", User-Name = \"novak\", \
         Acct-Session-Time = 90, Acct-Input-Octets = 1500",
    );
    acct(
        "Acct-Status-Type = Stop, Acct-Session-Id = \"g1\", User-Name = \"novak\", \
         Acct-Session-Time = 120, Acct-Input-Octets = 2000, Acct-Terminate-Cause = Admin-Reset",
    );
    assert_eq!(
        rows(
            &d,
            pg.as_ref(),
            "SELECT COALESCE(terminate_cause, 'open'), input_octets, login_id IS NULL FROM session"
        ),
        [if pg.is_some() {
            "Admin-Reset|2000|t"
        } else {
            "Admin-Reset|2000|1"
        }]
    );
    assert!(
        !d.state_dir.join("accounting.rejected").exists(),
        "nothing set aside: {}",
        d.log()
    );
}

/// A NAS that rebooted without its Accounting-On reaching ispd hands out its Acct-Session-Ids
/// again (found probing from outside): a Start of another session under the id of one still
/// open — begun after its last record, or another user's — closes the open one as of its last
/// record and is a session of its own. Before, it was merged into the open one: its first
/// traffic was lost, and another user's session was invisible.
#[test]
fn a_session_id_reused_while_open_begins_a_new_session() {
    reused_while_open(None);
}

#[test]
fn a_session_id_reused_while_open_begins_a_new_session_on_postgres() {
    if let Some(db) = crate::daemon::PgDatabase::create("reused_open") {
        reused_while_open(Some(db));
    }
}

fn reused_while_open(pg: Option<crate::daemon::PgDatabase>) {
    let d = acct_daemon("acct-reused-open", &database_table(pg.as_ref()));
    let socket = acct_socket(&d, Duration::from_secs(5));
    let now = u32::try_from(chrono::Utc::now().timestamp()).unwrap();
    let mut id = 0u8;
    let mut send = |attrs: Vec<Attribute>, ago: u32| {
        id += 1;
        let mut attrs = attrs;
        attrs.push(Attribute::integer(rfc::EVENT_TIMESTAMP, now - ago));
        socket.send(&acct_request(id, attrs)).unwrap();
        let mut buf = [0u8; 4096];
        let n = socket.recv(&mut buf).unwrap();
        assert_eq!(
            PacketRef::decode(&buf[..n]).unwrap().code(),
            Code::AccountingResponse
        );
    };
    let user = |name: &str, attrs: Vec<Attribute>| -> Vec<Attribute> {
        attrs
            .into_iter()
            .map(|a| {
                if a.typ == rfc::USER_NAME {
                    Attribute::string(rfc::USER_NAME, name)
                } else {
                    a
                }
            })
            .collect()
    };
    send(start_attributes("r1"), 600);
    send(interim("r1", 300, 1000), 300);
    // The NAS rebooted; the same id for a session begun a minute ago.
    send(start_attributes("r1"), 60);
    send(interim("r1", 60, 500), 0);
    // Another user under an id open for novak, begun before novak's last record.
    send(start_attributes("r2"), 100);
    send(interim("r2", 80, 0), 20);
    send(user("svoboda", start_attributes("r2")), 95);
    send(user("svoboda", interim("r2", 95, 700)), 0);
    // Another user under an id open for novak, begun the same second as novak's.
    send(start_attributes("r3"), 50);
    send(user("svoboda", start_attributes("r3")), 50);
    send(user("svoboda", interim("r3", 50, 300)), 0);
    assert_eq!(
        rows(
            &d,
            pg.as_ref(),
            "SELECT acct_session_id, username, COALESCE(terminate_cause, 'open'), input_octets
             FROM session ORDER BY id"
        ),
        [
            "r1|novak|Lost-Carrier|1000",
            "r1|novak|open|500",
            "r2|novak|Lost-Carrier|0",
            "r2|svoboda|open|700",
            "r3|novak|Lost-Carrier|0",
            "r3|svoboda|open|300"
        ]
    );
    assert_eq!(
        rows(&d, pg.as_ref(), "SELECT SUM(input_octets) FROM usage_daily"),
        ["1500"],
        "novak's traffic, all of it (svoboda has no login)"
    );
    // svoboda given novak's id while novak's Stop was on its way: the Stop arrives after
    // svoboda's Start and is novak's session's, not svoboda's — counted once.
    send(start_attributes("r4"), 200);
    send(interim("r4", 50, 400), 150);
    send(user("svoboda", start_attributes("r4")), 100);
    send(user("svoboda", interim("r4", 100, 300)), 0);
    let stop: Vec<Attribute> = interim("r4", 80, 600)
        .into_iter()
        .map(|a| match a.typ {
            rfc::ACCT_STATUS_TYPE => Attribute::integer(rfc::ACCT_STATUS_TYPE, 2),
            _ => a,
        })
        .collect();
    send(stop, 120);
    assert_eq!(
        rows(
            &d,
            pg.as_ref(),
            "SELECT username, CASE WHEN stopped_at IS NULL THEN 'open'
                    WHEN stop_presumed = 1 THEN 'presumed' ELSE 'stopped' END, input_octets
             FROM session WHERE acct_session_id = 'r4' ORDER BY id"
        ),
        ["novak|stopped|600", "svoboda|open|300"]
    );
    assert_eq!(
        rows(&d, pg.as_ref(), "SELECT SUM(input_octets) FROM usage_daily"),
        ["2100"],
        "novak's 600 octets of r4 once"
    );
}

#[test]
fn a_wrong_secret_gets_no_answer_and_stores_nothing() {
    let d = acct_daemon("acct-secret", "");
    let out = radclient(
        &d,
        "acct",
        "acct",
        "not-the-secret",
        "Acct-Status-Type = Start, Acct-Session-Id = \"x1\", User-Name = \"novak\"\n",
    );
    assert!(!out.contains("Received"), "{out}");
    assert_eq!(query(&d, "SELECT COUNT(*) FROM session"), ["0"]);
}

#[test]
fn accounting_on_closes_the_nas_sessions_and_frees_simultaneous_use() {
    nas_reboot(None);
}

/// On PostgreSQL two writers share the sessions: both must close theirs, one answers.
#[test]
fn accounting_on_closes_every_writers_sessions_on_postgres() {
    if let Some(db) = crate::daemon::PgDatabase::create("reboot") {
        nas_reboot(Some(db));
    }
}

fn nas_reboot(pg: Option<crate::daemon::PgDatabase>) {
    let d = acct_daemon("acct-reboot", &database_table(pg.as_ref()));
    let query = |_: &Daemon, sql: &str| rows(&d, pg.as_ref(), sql);
    let login =
        "User-Name = \"novak\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n";
    assert!(radclient(&d, "auth", "auth", SECRET, login).contains("Access-Accept"));
    radclient(
        &d,
        "acct",
        "acct",
        SECRET,
        "Acct-Status-Type = Start, Acct-Session-Id = \"r1\", User-Name = \"novak\", Class = 0x697370643a31, Acct-Delay-Time = 120\n",
    );
    // More sessions, spread over the writers (by a hash of their ids).
    for i in 0..8 {
        radclient(
            &d,
            "acct",
            "acct",
            SECRET,
            &format!(
                "Acct-Status-Type = Start, Acct-Session-Id = \"r-other-{i}\", User-Name = \"someone-{i}\"\n"
            ),
        );
    }
    // The open session is counted in memory: a second login is refused (limit 1).
    assert!(radclient(&d, "auth", "auth", SECRET, login).contains("Access-Reject"));
    let out = radclient(
        &d,
        "acct",
        "acct",
        SECRET,
        "Acct-Status-Type = Accounting-On, NAS-Identifier = \"bras\"\n",
    );
    assert!(out.contains("Received Accounting-Response"), "{out}");
    assert_eq!(
        query(
            &d,
            "SELECT terminate_cause, COUNT(*) FROM session GROUP BY terminate_cause"
        ),
        ["NAS-Reboot|9"]
    );
    assert!(radclient(&d, "auth", "auth", SECRET, login).contains("Access-Accept"));
    // Its time runs until the reboot — the two minutes since its Start — on the login's day
    // too (it kept 0 s, found probing from outside).
    let seconds: i64 = query(
        &d,
        "SELECT session_seconds FROM session WHERE acct_session_id = 'r1'",
    )[0]
    .parse()
    .unwrap();
    assert!((120..180).contains(&seconds), "{seconds}");
    assert_eq!(
        query(&d, "SELECT SUM(session_seconds) FROM usage_daily"),
        [seconds.to_string()]
    );
}

/// A NAS's Accounting-On whose answer was lost is sent again with a larger Acct-Delay-Time
/// (a new request, RFC 2866 §5.2), and can arrive after the Starts of the sessions that came
/// up after the reboot: it closes only the sessions begun before it. Before the fix it closed
/// those new ones too, stopped before they started, and Simultaneous-Use let a second login in.
#[test]
fn a_late_accounting_on_closes_only_the_sessions_begun_before_it() {
    late_accounting_on(None);
}

#[test]
fn a_late_accounting_on_closes_only_the_sessions_begun_before_it_on_postgres() {
    if let Some(db) = crate::daemon::PgDatabase::create("late_on") {
        late_accounting_on(Some(db));
    }
}

fn late_accounting_on(pg: Option<crate::daemon::PgDatabase>) {
    let d = acct_daemon("acct-late-on", &database_table(pg.as_ref()));
    let now = chrono::Utc::now().timestamp();
    let acct = |attrs: String| {
        let out = radclient(&d, "acct", "acct", SECRET, &format!("{attrs}\n"));
        assert!(out.contains("Received Accounting-Response"), "{out}");
    };
    // Before the reboot, and after it (novak logged in again: limit 1).
    acct(format!(
        "Acct-Status-Type = Start, Acct-Session-Id = \"before\", User-Name = \"someone\", Event-Timestamp = {}",
        now - 120
    ));
    acct(format!(
        "Acct-Status-Type = Start, Acct-Session-Id = \"after\", User-Name = \"novak\", Class = 0x697370643a31, Event-Timestamp = {}",
        now - 10
    ));
    // The reboot was 30 s ago; this is its Accounting-On sent again.
    acct(format!(
        "Acct-Status-Type = Accounting-On, NAS-Identifier = \"bras\", Event-Timestamp = {}, Acct-Delay-Time = 30",
        now - 30
    ));
    assert_eq!(
        rows(
            &d,
            pg.as_ref(),
            "SELECT acct_session_id, COALESCE(terminate_cause, 'open'), \
             CASE WHEN stopped_at IS NULL OR stopped_at >= started_at THEN 'ok' ELSE 'stopped before started' END \
             FROM session ORDER BY acct_session_id"
        ),
        ["after|open|ok", "before|NAS-Reboot|ok"]
    );
    let login =
        "User-Name = \"novak\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n";
    assert!(
        radclient(&d, "auth", "auth", SECRET, login).contains("Access-Reject"),
        "the session after the reboot still counts"
    );
}

#[test]
fn stale_sessions_are_closed_by_the_sweeper() {
    let d = acct_daemon("acct-stale", "stale_after = 2");
    radclient(
        &d,
        "acct",
        "acct",
        SECRET,
        "Acct-Status-Type = Start, Acct-Session-Id = \"st1\", User-Name = \"novak\"\n",
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if query(&d, "SELECT terminate_cause FROM session") == ["Lost-Carrier"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "stale session never closed:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A NAS whose clock runs minutes slow (inside the window of Event-Timestamps believed)
/// reports its session every 1.5 s: the session is not stale, since ispd heard it just now.
/// Before the fix the sweep measured silence by the NAS's clock and closed the live session
/// at once, and again after each Interim reopened it. Once the NAS does fall silent, it is
/// closed as stale.
#[test]
fn a_nas_clock_minutes_slow_does_not_make_its_live_sessions_stale() {
    let d = acct_daemon("acct-slow-clock", "stale_after = 3");
    let slow = || chrono::Utc::now().timestamp() - 1000;
    let acct = |attrs: String| {
        let out = radclient(&d, "acct", "acct", SECRET, &format!("{attrs}\n"));
        assert!(out.contains("Received Accounting-Response"), "{out}");
    };
    let state = || query(&d, "SELECT COALESCE(terminate_cause, 'open') FROM session");
    acct(format!(
        "Acct-Status-Type = Start, Acct-Session-Id = \"slow1\", User-Name = \"novak\", Event-Timestamp = {}",
        slow()
    ));
    for second in 1..=4 {
        std::thread::sleep(Duration::from_millis(1_500));
        // Just before the next Interim: the sweep (each second) has looked since the last.
        assert_eq!(state(), ["open"], "after {second} s:\n{}", d.log());
        acct(format!(
            "Acct-Status-Type = Interim-Update, Acct-Session-Id = \"slow1\", User-Name = \"novak\", \
             Event-Timestamp = {}, Acct-Session-Time = {second}",
            slow()
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while state() != ["Lost-Carrier"] {
        assert!(Instant::now() < deadline, "a silent session never closed");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// ispd down longer than `stale_after` (an upgrade that took long, a crash at night): the
/// sessions the NASes kept up meanwhile stay open at the start — closed as stale, each would
/// be out of enforcement and Simultaneous-Use until its next Interim reopened it — and one
/// that then stays silent is closed once ispd has heard nothing from it for `stale_after` of
/// the time it was running.
#[test]
fn an_outage_longer_than_stale_after_closes_no_session_at_the_start() {
    let mut d = acct_daemon("acct-stale-outage", "stale_after = 3");
    radclient(
        &d,
        "acct",
        "acct",
        SECRET,
        "Acct-Status-Type = Start, Acct-Session-Id = \"so1\", User-Name = \"novak\"\n",
    );
    d.stop();
    std::thread::sleep(Duration::from_secs(4));
    d.spawn();
    // The sweeper looks at once and every 0.75 s.
    std::thread::sleep(Duration::from_millis(1_500));
    let state = || query(&d, "SELECT COALESCE(terminate_cause, 'open') FROM session");
    assert_eq!(state(), ["open"], "closed at the start:\n{}", d.log());
    let deadline = Instant::now() + Duration::from_secs(10);
    while state() != ["Lost-Carrier"] {
        assert!(Instant::now() < deadline, "a silent session never closed");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A NAS cut off from ispd for longer than `stale_after` (a broken uplink, a firewall
/// change) keeps its sessions up; the sweep closes them as stale. When the NAS is heard
/// again, its next Interim reopens the session — it counts for Simultaneous-Use again, so a
/// second login is refused as before — and its Stop then ends it with the NAS's own time and
/// cause. Before the fix the session stayed closed: out of Simultaneous-Use and enforcement
/// until it ended.
#[test]
fn a_session_closed_as_stale_is_reopened_by_its_next_interim() {
    swept_and_heard_again(None);
}

#[test]
fn a_session_closed_as_stale_is_reopened_by_its_next_interim_on_postgres() {
    if let Some(db) = crate::daemon::PgDatabase::create("reopen") {
        swept_and_heard_again(Some(db));
    }
}

fn swept_and_heard_again(pg: Option<crate::daemon::PgDatabase>) {
    let d = acct_daemon(
        "acct-reopen",
        &format!("stale_after = 3{}", database_table(pg.as_ref())),
    );
    let state = || {
        rows(
            &d,
            pg.as_ref(),
            "SELECT COALESCE(terminate_cause, 'open'), input_octets FROM session",
        )
    };
    let login =
        "User-Name = \"novak\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n";
    let accepted = || radclient(&d, "auth", "auth", SECRET, login).contains("Access-Accept");
    let acct = |attrs: &str| {
        let out = radclient(
            &d,
            "acct",
            "acct",
            SECRET,
            &format!(
                "Acct-Session-Id = \"re1\", User-Name = \"novak\", Class = 0x697370643a31, {attrs}\n"
            ),
        );
        assert!(out.contains("Received Accounting-Response"), "{out}");
    };
    assert!(accepted());
    acct("Acct-Status-Type = Start");
    assert!(!accepted(), "the open session is counted (limit 1)");
    let deadline = Instant::now() + Duration::from_secs(15);
    while state() != ["Lost-Carrier|0"] {
        assert!(Instant::now() < deadline, "never swept:\n{}", d.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(accepted(), "swept: no longer counted");

    acct("Acct-Status-Type = Interim-Update, Acct-Session-Time = 60, Acct-Input-Octets = 1000");
    assert_eq!(state(), ["open|1000"], "reopened:\n{}", d.log());
    assert!(!accepted(), "counted again for Simultaneous-Use");

    acct(
        "Acct-Status-Type = Stop, Acct-Session-Time = 70, Acct-Input-Octets = 1200, \
         Acct-Terminate-Cause = User-Request",
    );
    assert_eq!(state(), ["User-Request|1200"]);
    assert!(accepted());
}

#[test]
fn kill_9_loses_nothing_that_was_acknowledged() {
    stopped_under_load("acct-kill", Daemon::kill9);
}

/// `systemctl stop` under load: the writer ends after the batch in hand, and what it
/// answered is stored once, like after a kill -9.
#[test]
fn a_stop_under_load_loses_nothing_that_was_acknowledged() {
    stopped_under_load("acct-term", Daemon::stop);
}

/// Sends Starts, 64 in flight, stops the daemon with `stop` once a third is acknowledged,
/// starts it again and checks every acknowledged session is stored, each once.
fn stopped_under_load(name: &str, stop: fn(&mut Daemon)) {
    let _machine = crate::daemon::timed();
    let mut d = acct_daemon(name, "");
    let socket = acct_socket(&d, Duration::from_millis(300));
    const N: u32 = 3000;
    const WINDOW: u32 = 64;
    let start = |i: u32| novak_start((i % 256) as u8, &format!("k{i}"));
    let mut acked = std::collections::HashSet::new();
    let mut next = 0u32;
    let mut buf = [0u8; 4096];
    let mut pending = std::collections::HashMap::new();
    let started = Instant::now();
    let mut stopped = false;
    // Bounded: N requests or 30 s, whichever first; stopped once a third is acknowledged.
    while (next < N || !pending.is_empty()) && started.elapsed() < Duration::from_secs(30) {
        while next < N && pending.len() < WINDOW as usize && !stopped {
            socket.send(&start(next)).unwrap();
            pending.insert((next % 256) as u8, next);
            next += 1;
        }
        match socket.recv(&mut buf) {
            Ok(n) => {
                let reply = PacketRef::decode(&buf[..n]).unwrap();
                if let Some(i) = pending.remove(&reply.identifier()) {
                    acked.insert(i);
                }
            }
            Err(_) if stopped => break,
            Err(_) => {}
        }
        if !stopped && acked.len() as u32 >= N / 3 {
            stop(&mut d);
            stopped = true;
        }
    }
    assert!(stopped, "the daemon was stopped mid-way");
    d.spawn();
    let stored: Vec<String> = query(
        &d,
        "SELECT acct_session_id, COUNT(*) FROM session GROUP BY acct_session_id",
    );
    let mut stored_ids = std::collections::HashSet::new();
    for row in &stored {
        let (id, count) = row.split_once('|').unwrap();
        assert_eq!(count, "1", "{id} stored twice");
        stored_ids.insert(id.to_owned());
    }
    for i in &acked {
        assert!(
            stored_ids.contains(&format!("k{i}")),
            "acknowledged k{i} was lost"
        );
    }
    assert!(
        acked.len() >= 1000,
        "enough traffic before the kill: {}",
        acked.len()
    );
}

/// An operator who stops ispd and copies `ispd.db` alone — to another host, into a backup —
/// has every acknowledged record in it: a clean stop leaves no SQLite log beside the file.
#[test]
fn a_clean_stop_leaves_the_whole_database_in_its_file() {
    let mut d = acct_daemon("acct-clean-stop", "");
    assert!(
        radclient(
            &d,
            "acct",
            "acct",
            SECRET,
            "Acct-Status-Type = Start, Acct-Session-Id = \"c1\", User-Name = \"novak\"\n"
        )
        .contains("Received Accounting-Response")
    );
    d.stop();
    let db = d.state_dir.join("ispd.db");
    let log = d.state_dir.join("ispd.db-wal");
    let log_size = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    assert_eq!(
        log_size, 0,
        "a clean stop left {} bytes of SQLite's log",
        log_size
    );
    let copy = d.dir.0.join("copied.db");
    std::fs::copy(&db, &copy).unwrap();
    let out = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\n\
             print(c.execute('SELECT username FROM session').fetchall(), \
             c.execute('SELECT number FROM client').fetchall())",
        ])
        .arg(&copy)
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out).trim(),
        "[('novak',)] [('7',)]",
        "the copied file alone: {}",
        crate::daemon::stderr(&out)
    );
}

/// A TCP forwarder to PostgreSQL that the test can cut: connections are dropped and new ones
/// refused while it is down, as when the database host fails.
pub(crate) struct Outage {
    pub(crate) addr: std::net::SocketAddr,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// While down: hold new connections open in silence (a host that stopped answering)
    /// instead of closing them (a host that refuses).
    silent: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Outage {
    /// A forwarder in front of the PostgreSQL of `url`, and the URL that goes through it.
    pub(crate) fn in_front_of(url: &str) -> (Outage, String) {
        let (scheme_user, rest) = url.split_once('@').unwrap();
        let (host_port, database) = rest.split_once('/').unwrap();
        let proxy = Outage::start(host_port.to_owned());
        let via_proxy = format!("{scheme_user}@{}/{database}", proxy.addr);
        (proxy, via_proxy)
    }

    fn start(target: String) -> Outage {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(AtomicU64::new(0));
        let silent = Arc::new(AtomicBool::new(false));
        let (up2, generation2, silent2) = (up.clone(), generation.clone(), silent.clone());
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !up2.load(Ordering::SeqCst) {
                    if silent2.load(Ordering::SeqCst) {
                        held.push(client);
                    } else {
                        drop(client);
                    }
                    continue;
                }
                held.clear();
                let Ok(server) = std::net::TcpStream::connect(&target) else {
                    continue;
                };
                let born = generation2.load(Ordering::SeqCst);
                for (from, to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    let (up, generation) = (up2.clone(), generation2.clone());
                    std::thread::spawn(move || {
                        use std::io::{Read, Write};
                        let (mut from, mut to) = (from, to);
                        from.set_read_timeout(Some(Duration::from_millis(100)))
                            .unwrap();
                        let mut buf = [0u8; 16384];
                        loop {
                            if !up.load(Ordering::SeqCst)
                                || generation.load(Ordering::SeqCst) != born
                            {
                                let _ = from.shutdown(std::net::Shutdown::Both);
                                let _ = to.shutdown(std::net::Shutdown::Both);
                                return;
                            }
                            // One side gone closes the other: a server left waiting
                            // (PostgreSQL mid-authentication waits 60 s) would outlive the
                            // test and hold up dropping its database.
                            let closed = match from.read(&mut buf) {
                                Ok(0) => true,
                                Ok(n) => to.write_all(&buf[..n]).is_err(),
                                Err(e)
                                    if e.kind() == std::io::ErrorKind::WouldBlock
                                        || e.kind() == std::io::ErrorKind::TimedOut =>
                                {
                                    false
                                }
                                Err(_) => true,
                            };
                            if closed {
                                let _ = to.shutdown(std::net::Shutdown::Both);
                                return;
                            }
                        }
                    });
                }
            }
        });
        Outage {
            addr,
            up,
            generation,
            silent,
        }
    }

    /// Cuts the connections; new ones are accepted and then never answered.
    pub(crate) fn go_silent(&self) {
        self.silent.store(true, std::sync::atomic::Ordering::SeqCst);
        self.set_up(false);
    }

    pub(crate) fn set_up(&self, up: bool) {
        use std::sync::atomic::Ordering;
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.up.store(up, Ordering::SeqCst);
    }
}

#[test]
fn a_database_outage_is_spooled_and_replayed_without_loss() {
    let Some(db) = crate::daemon::PgDatabase::create("outage") else {
        return;
    };
    let (proxy, via_proxy) = Outage::in_front_of(&db.url);
    let mut d = acct_daemon(
        "acct-outage",
        &format!("\n[database]\nurl = {via_proxy:?}\n[metrics]\nlisten = \"127.0.0.1:0\""),
    );
    // Since when the oldest spooled record waits, per writer (0 = nothing waits).
    let spool_since = |d: &Daemon| -> Vec<f64> {
        crate::faults::metrics(d)
            .lines()
            .filter(|l| l.starts_with("ispd_radius_acct_spool_oldest_timestamp_seconds{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
            .collect()
    };
    let socket = acct_socket(&d, Duration::from_secs(8));
    let start = |i: u32| novak_start((i % 256) as u8, &format!("o{i}"));
    let mut buf = [0u8; 4096];
    let mut send_and_ack = |i: u32| {
        socket.send(&start(i)).unwrap();
        let n = socket
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("request {i} not acknowledged: {e}"));
        assert_eq!(
            PacketRef::decode(&buf[..n]).unwrap().identifier(),
            (i % 256) as u8
        );
    };
    for i in 0..20 {
        send_and_ack(i);
    }
    proxy.set_up(false);
    // The database is gone: requests are still acknowledged, from the spool.
    for i in 20..60 {
        send_and_ack(i);
    }
    // One spool per writer (accounting.<n>.spool).
    let spooled = || {
        std::fs::read_dir(&d.state_dir)
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".spool"))
    };
    assert!(spooled(), "records were spooled:\n{}", d.log());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let waiting = spool_since(&d);
    assert!(
        waiting.iter().any(|&t| t > now - 60.0 && t <= now),
        "the spool's age is on the metrics: {waiting:?}"
    );
    proxy.set_up(true);
    let deadline = Instant::now() + Duration::from_secs(20);
    while spooled() {
        assert!(
            Instant::now() < deadline,
            "spool never replayed:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for i in 60..70 {
        send_and_ack(i);
    }
    assert!(
        spool_since(&d).iter().all(|&t| t == 0.0),
        "replayed: nothing waits"
    );
    d.stop();
    // Everything acknowledged is in PostgreSQL, exactly once.
    let rows = psql(
        &db.url,
        "SELECT COUNT(*), COUNT(DISTINCT acct_session_id) FROM session",
    );
    assert_eq!(rows.trim(), "70|70", "{}", d.log());
}

pub(crate) fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-tAc", sql])
        .output()
        .expect("psql (postgresql-client) is installed with PostgreSQL by scripts/test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
}
