//! Enforcement end to end: a real ispd, a session opened by real accounting (radclient), and
//! a fake NAS on loopback that verifies every CoA and Disconnect with the shared secret and
//! answers as told. Each change of speed or access must reach the session within a second.

use std::time::Duration;

use chrono::Datelike;

use ispd_radius::dict::{cisco, erx, mikrotik, rfc};

use crate::daemon::{Daemon, stdout};
use crate::fake_nas::{FakeNas, Mode, Received};

const SECRET: &str = "coa-secret-4711";
/// What "at once" means for a subscriber: the decision reaches the NAS within a second.
const AT_ONCE: Duration = Duration::from_secs(1);

/// A daemon whose NAS "bras" (127.0.0.1, `vendor`) takes CoA on the fake NAS's port, with
/// client 7, tariff "T" (10M/2M) and the login "novak" online in session "S1".
fn online(name: &str, nas: &FakeNas, vendor: &str, extra: &str) -> Daemon {
    let d = ready(name, nas, vendor, extra);
    comes_online(&d, "S1");
    d
}

/// novak's session `id` starts on the NAS, and ispd shows it online: at first, or again once
/// a Disconnect the NAS answered ended the one before.
fn comes_online(d: &Daemon, id: &str) {
    let start = format!(
        "Acct-Status-Type = Start, Acct-Session-Id = \"{id}\", User-Name = \"novak\", \
         Framed-IP-Address = 100.64.0.7, Calling-Station-Id = \"AA-BB-CC-00-11-22\"\n"
    );
    let out = d.radclient("acct", "acct", SECRET, &start);
    assert!(
        stdout(&out).contains("Received Accounting-Response"),
        "{}",
        stdout(&out)
    );
    wait_until_online(d);
}

/// The daemon of [`online`] before novak's session: NAS, client, tariff and login.
fn ready(name: &str, nas: &FakeNas, vendor: &str, extra: &str) -> Daemon {
    ready_with_radius(name, nas, vendor, "", extra)
}

/// [`ready`], with `radius` added to the `[radius]` table.
fn ready_with_radius(name: &str, nas: &FakeNas, vendor: &str, radius: &str, extra: &str) -> Daemon {
    let d = Daemon::start_with_radius(
        name,
        radius,
        &format!("[enforcement]\ntimeout = 0.2\ntries = 3\nreconcile_interval = 0\n{extra}"),
    );
    crate::accounting::add_nas(&d, SECRET, vendor, Some(nas.port()));
    crate::accounting::add_login(&d);
    d
}

/// Accounting is written in groups; the session is in the database a moment later.
fn wait_until_online(d: &Daemon) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while d.ispctl_json(&["session", "list"])["items"]
        .as_array()
        .map_or(0, Vec::len)
        == 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the session never showed as online"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (at most 10 s) until ispd shows no session online: one a Disconnect ended is closed
/// once the NAS has answered.
fn wait_until_offline(d: &Daemon) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !d.ispctl_json(&["session", "list"])["items"]
        .as_array()
        .unwrap()
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the session is still online"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The subscription of client 7 (see `accounting::add_login`).
pub(crate) fn subscription_id(d: &Daemon) -> String {
    d.ispctl_json(&["subscription", "list", "--client", "7"])["items"][0]["id"].to_string()
}

/// The one request the NAS got after `action`, within [`AT_ONCE`].
fn one_after(nas: &FakeNas, action: impl FnOnce()) -> Received {
    let before = nas.received().len();
    action();
    let got = nas.wait_for(before + 1, AT_ONCE);
    assert_eq!(got.len(), before + 1, "no request within a second: {got:?}");
    got[before].clone()
}

/// One more login of client 7's subscription, named `username`.
fn another_login(d: &Daemon, username: &str) {
    d.ispctl_json(&[
        "login",
        "add",
        "--subscription",
        &subscription_id(d),
        "--username",
        username,
        "--password",
        "another-box",
    ]);
}

/// An Interim-Update of novak's session S1 with 6 MB down: over [`cap_tariff`]'s cap.
const OVER_THE_CAP: &str = "Acct-Status-Type = Interim-Update, Acct-Session-Id = \"S1\", \
    User-Name = \"novak\", Acct-Session-Time = 60, Acct-Input-Octets = 1000, \
    Acct-Output-Octets = 6000000\n";

/// Tariff "T" capped at 5 MB down, 1M/512k beyond it.
fn cap_tariff(d: &Daemon) {
    d.ispctl_json(&[
        "tariff",
        "edit",
        "T",
        "--cap-down",
        "5M",
        "--capped-down",
        "1M",
        "--capped-up",
        "512k",
    ]);
}

fn rate(r: &Received) -> Option<String> {
    r.vendor_string(mikrotik::VENDOR_ID, mikrotik::MIKROTIK_RATE_LIMIT)
}

fn address_list(r: &Received) -> Option<String> {
    r.vendor_string(mikrotik::VENDOR_ID, mikrotik::MIKROTIK_ADDRESS_LIST)
}

/// Attempts recorded for novak, newest first: (kind, reason, outcome).
/// novak's attempt log, newest first, once it lists `count` attempts: the log is written in
/// batches, a moment after an exchange ends (at most 10 s is waited, polling).
fn attempts(d: &Daemon, count: usize) -> Vec<(String, String, String)> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let listed: Vec<(String, String, String)> =
            d.ispctl_json(&["enforcement", "list", "--login", "novak"])["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    let text = |k: &str| a[k].as_str().unwrap().to_owned();
                    (text("kind"), text("reason"), text("outcome"))
                })
                .collect();
        if listed.len() >= count || std::time::Instant::now() >= deadline {
            assert_eq!(listed.len(), count, "the attempt log: {listed:?}");
            return listed;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_block_reaches_the_online_session_and_the_resume_restores_it() {
    let nas = FakeNas::start(SECRET);
    let d = online("enf-block", &nas, "mikrotik", "");
    let sub = subscription_id(&d);

    let coa = one_after(&nas, || {
        d.ispctl_json(&["subscription", "block", &sub]);
    });
    assert_eq!(coa.code(), ispd_radius::Code::CoaRequest);
    // The session as the NAS knows it: name, its session id, its address.
    assert_eq!(coa.string(rfc::USER_NAME).as_deref(), Some("novak"));
    assert_eq!(coa.string(rfc::ACCT_SESSION_ID).as_deref(), Some("S1"));
    assert_eq!(
        coa.ipv4(rfc::FRAMED_IP_ADDRESS),
        Some("100.64.0.7".parse().unwrap())
    );
    assert_eq!(
        rate(&coa).as_deref(),
        Some("256k/256k"),
        "the walled-garden speed"
    );
    assert_eq!(address_list(&coa).as_deref(), Some("ispd-suspended"));

    let coa = one_after(&nas, || {
        d.ispctl_json(&["subscription", "resume", &sub]);
    });
    assert_eq!(coa.code(), ispd_radius::Code::CoaRequest);
    assert_eq!(
        rate(&coa).as_deref(),
        Some("2M/10M"),
        "the tariff's speed again"
    );
    assert_eq!(nas.dropped(), 0, "every request verified with the secret");

    let recorded = attempts(&d, 2);
    assert_eq!(
        recorded,
        [
            ("coa".into(), "access change".into(), "ack".into()),
            ("coa".into(), "access change".into(), "ack".into()),
        ]
    );
    // A change that alters nothing the session has sends nothing.
    d.ispctl_json(&["client", "edit", "7", "--note", "called about the invoice"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(nas.received().len(), 2, "a note is no change to a session");
}

#[test]
fn a_tariff_change_reaches_each_vendor_in_its_dialect() {
    let nas = FakeNas::start(SECRET);
    let d = online("enf-vendors", &nas, "mikrotik", "");
    let coa = one_after(&nas, || {
        d.ispctl_json(&["tariff", "edit", "T", "--down", "20M"]);
    });
    assert_eq!(rate(&coa).as_deref(), Some("2M/20M"));

    d.ispctl_json(&["nas", "edit", "bras", "--vendor", "accel-ppp"]);
    let coa = one_after(&nas, || {
        d.ispctl_json(&["tariff", "edit", "T", "--down", "30M"]);
    });
    assert_eq!(coa.code(), ispd_radius::Code::CoaRequest);
    assert_eq!(
        coa.string(rfc::FILTER_ID).as_deref(),
        Some("30000/2000"),
        "accel-ppp: down/up in kbit/s"
    );

    d.ispctl_json(&["nas", "edit", "bras", "--vendor", "cisco"]);
    let coa = one_after(&nas, || {
        d.ispctl_json(&["tariff", "edit", "T", "--down", "40M"]);
    });
    assert_eq!(
        coa.vendor_strings(cisco::VENDOR_ID, cisco::CISCO_AVPAIR),
        [
            "ip:sub-qos-policy-in=ispd-2000k",
            "ip:sub-qos-policy-out=ispd-40000k"
        ]
    );

    // A NAS told to take no CoA gets a Disconnect: the subscriber dials into the new speed.
    d.ispctl_json(&["nas", "edit", "bras", "--coa", "disconnect"]);
    let dm = one_after(&nas, || {
        d.ispctl_json(&["tariff", "edit", "T", "--down", "50M"]);
    });
    assert_eq!(dm.code(), ispd_radius::Code::DisconnectRequest);
    assert_eq!(dm.string(rfc::ACCT_SESSION_ID).as_deref(), Some("S1"));
}

#[test]
fn a_nak_falls_back_to_disconnect_and_silence_is_retried_then_reconciled() {
    let nas = FakeNas::start(SECRET);
    let d = online("enf-faults", &nas, "mikrotik", "");
    let sub = subscription_id(&d);

    // NAK (Error-Cause 404 Invalid Request) → the session is disconnected instead.
    nas.set_mode(Mode::Nak(404));
    d.ispctl_json(&["subscription", "block", &sub]);
    let got = nas.wait_for(2, AT_ONCE * 2);
    let codes: Vec<_> = got.iter().map(|r| r.code()).collect();
    assert_eq!(
        codes,
        [
            ispd_radius::Code::CoaRequest,
            ispd_radius::Code::DisconnectRequest
        ]
    );
    let recorded = attempts(&d, 2);
    assert_eq!(
        recorded[0],
        ("disconnect".into(), "access change".into(), "nak".into())
    );
    assert_eq!(
        recorded[1],
        ("coa".into(), "access change".into(), "nak".into())
    );

    // Silence: the same request three times (tries = 3), then recorded as timed out.
    nas.set_mode(Mode::Silent);
    d.ispctl_json(&["subscription", "resume", &sub]);
    let got = nas.wait_for(5, Duration::from_secs(10));
    assert_eq!(got.len(), 5, "three tries of the CoA: {got:?}");
    assert!(
        got[2..]
            .iter()
            .all(|r| r.identifier() == got[2].identifier()
                && r.code() == ispd_radius::Code::CoaRequest),
        "a retransmission is the same request"
    );
    assert_eq!(attempts(&d, 3)[0].2, "timeout");
    let status = d.ispctl_json(&["enforcement", "status"]);
    assert_eq!(status["unconfirmed"], 1, "left for the reconcile: {status}");
    assert_eq!(status["queues"][0]["nas"], "bras");

    // The NAS is back: the reconcile pushes what the session should have.
    nas.set_mode(Mode::Ack);
    let report = d.ispctl_json(&["enforcement", "reconcile"]);
    assert_eq!(
        (report["sessions"].as_u64(), report["queued"].as_u64()),
        (Some(1), Some(1))
    );
    let got = nas.wait_for(6, AT_ONCE);
    assert_eq!(got.len(), 6);
    assert_eq!(rate(&got[5]).as_deref(), Some("2M/10M"));
    assert_eq!(
        attempts(&d, 4)[0],
        ("coa".into(), "reconcile".into(), "ack".into())
    );
    // Nothing left to correct.
    assert_eq!(d.ispctl_json(&["enforcement", "status"])["unconfirmed"], 0);
    let report = d.ispctl_json(&["enforcement", "reconcile"]);
    assert_eq!(report["queued"].as_u64(), Some(0));
}

/// A login left unconfirmed by a NAS that was silent is confirmed by an operator's reload
/// that every session acknowledges (found probing from outside: it stayed "unconfirmed"
/// until the reconcile, which sent the same answer again).
#[test]
fn a_reload_every_session_acknowledges_confirms_the_login() {
    let nas = FakeNas::start(SECRET);
    let d = online("enf-confirm", &nas, "mikrotik", "");
    let sub = subscription_id(&d);
    nas.set_mode(Mode::Silent);
    d.ispctl_json(&["subscription", "block", &sub]);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while d.ispctl_json(&["enforcement", "status"])["unconfirmed"] != 1 {
        assert!(std::time::Instant::now() < deadline, "never given up");
        std::thread::sleep(Duration::from_millis(200));
    }
    nas.set_mode(Mode::Ack);
    d.ispctl_json(&["login", "reload", "novak"]);
    assert_eq!(d.ispctl_json(&["enforcement", "status"])["unconfirmed"], 0);
    let report = d.ispctl_json(&["enforcement", "reconcile"]);
    assert_eq!(
        report["queued"].as_u64(),
        Some(0),
        "nothing left to correct"
    );
}

/// A block the NAS never acknowledged (it was away) still reaches the session after ispd
/// restarts: the attempt log says the session was not told, so the start pushes it again —
/// before, the restarted daemon took every session to have its login's current answer, and
/// no reconcile ever corrected the blocked client's full speed.
/// Found probing from outside: a login deleted while its NAS missed the Disconnect stayed
/// online for good — its session lost its login with it, and the reconcile took it for a
/// user ispd never knew. The reconcile disconnects it, as any session whose login would now
/// be refused.
#[test]
fn a_deleted_login_whose_disconnect_was_missed_is_disconnected_by_the_reconcile() {
    let nas = FakeNas::start(SECRET);
    let d = online("enf-deleted-missed", &nas, "mikrotik", "");
    nas.set_mode(Mode::Silent);
    d.ispctl_json(&["login", "delete", "novak"]);
    let got = nas.wait_for(3, Duration::from_secs(10));
    assert_eq!(got.len(), 3, "three tries of the Disconnect: {got:?}");
    assert!(
        got.iter()
            .all(|r| r.code() == ispd_radius::Code::DisconnectRequest)
    );
    nas.set_mode(Mode::Ack);
    let report = d.ispctl_json(&["enforcement", "reconcile"]);
    assert_eq!(report["queued"].as_u64(), Some(1), "{report}");
    let got = nas.wait_for(4, AT_ONCE * 2);
    assert_eq!(got.len(), 4);
    assert_eq!(got[3].code(), ispd_radius::Code::DisconnectRequest);
    assert_eq!(got[3].string(rfc::USER_NAME).as_deref(), Some("novak"));
}

/// Found probing from outside: after a Disconnect the NAS answered — ACK, or NAK "Session
/// Context Not Found" (503) — the session still counted as online until its Stop, which a NAS
/// without such a session never sends: the subscriber's next login was refused as over its
/// session limit until the stale sweep, 16 minutes by default. The session is closed at once.
#[test]
fn a_session_the_nas_ended_no_longer_counts_as_online() {
    for mode in [Mode::Nak(503), Mode::Ack] {
        let nas = FakeNas::start(SECRET);
        let d = online("enf-ended", &nas, "mikrotik", "");
        nas.set_mode(mode);
        d.ispctl(&["session", "disconnect", "--login", "novak"]);
        wait_until_offline(&d);
        let login = accepted_class(&d);
        assert!(!login.is_empty(), "{mode:?}: logs in again");
    }
}

#[test]
fn a_change_the_nas_missed_is_pushed_again_after_a_restart() {
    let nas = FakeNas::start(SECRET);
    let mut d = online("enf-restart", &nas, "mikrotik", "");
    let sub = subscription_id(&d);
    nas.set_mode(Mode::Silent);
    d.ispctl_json(&["subscription", "block", &sub]);
    let got = nas.wait_for(3, Duration::from_secs(10));
    assert_eq!(got.len(), 3, "three tries of the CoA: {got:?}");
    assert_eq!(attempts(&d, 1)[0].2, "timeout");

    d.stop();
    nas.set_mode(Mode::Ack);
    d.spawn();
    let got = nas.wait_for(4, Duration::from_secs(5));
    assert_eq!(
        got.len(),
        4,
        "the block pushed again after the start: {got:?}"
    );
    assert_eq!(got[3].code(), ispd_radius::Code::CoaRequest);
    assert_eq!(rate(&got[3]).as_deref(), Some("256k/256k"));
    assert_eq!(address_list(&got[3]).as_deref(), Some("ispd-suspended"));
    assert_eq!(
        attempts(&d, 2)[0],
        ("coa".into(), "reconcile".into(), "ack".into())
    );
    // Settled: the next start has nothing to push.
    d.stop();
    d.spawn();
    std::thread::sleep(Duration::from_millis(1_000));
    assert_eq!(nas.received().len(), 4, "{:?}", nas.received());
}

/// A push paced to the NAS (one request a second here) that ispd stops in the middle of is
/// finished after the next start: each request is recorded as queued when it is queued, and
/// the start pushes again those whose last record is not an answer that settled them.
/// Three logins of one subscription, a session each, so each request is its own login's.
#[test]
fn a_push_cut_short_by_a_stop_is_finished_after_the_start() {
    push_cut_short("enf-stop-queue", Daemon::stop);
}

/// The same push cut short by a kill -9: nothing is written at the end, and the requests
/// still waiting are pushed after the start all the same.
#[test]
fn a_push_cut_short_by_a_kill_is_finished_after_the_start() {
    push_cut_short("enf-kill-queue", |d| {
        // The queued records are written in the background, a few milliseconds after the
        // push; the second request leaves a second after the first.
        std::thread::sleep(Duration::from_millis(300));
        d.kill9();
    });
}

/// A kill -9 in the instant after a change is committed, before the request it queued is
/// recorded: the start finds no record of it (the existing catch-up reads the last record of
/// each session), so before the fix the session kept its full speed while blocked. The
/// instant is held open here: the request log refuses writes (a trigger) and the NAS does not
/// answer. After the start, the dead process's last minutes in the change log name the login,
/// and its session is told.
#[test]
fn a_change_committed_just_before_a_kill_reaches_the_session_after_the_start() {
    let nas = FakeNas::start(SECRET);
    let mut d = online("enf-kill-untold", &nas, "mikrotik", "");
    d.query(
        "CREATE TRIGGER hold BEFORE INSERT ON enforcement_attempt \
         BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
    );
    nas.set_mode(Mode::Silent);
    let sub = subscription_id(&d);
    d.ispctl_json(&["subscription", "block", &sub]);
    assert_eq!(nas.wait_for(1, AT_ONCE).len(), 1, "sent, not answered");
    d.kill9();
    d.query("DROP TRIGGER hold");
    nas.set_mode(Mode::Ack);
    let before = nas.received().len();

    d.spawn();
    let got = nas.wait_for(before + 1, Duration::from_secs(8));
    let told: Vec<&Received> = got[before..]
        .iter()
        .filter(|r| r.string(rfc::ACCT_SESSION_ID).as_deref() == Some("S1"))
        .collect();
    assert!(
        told.iter()
            .any(|r| address_list(r).as_deref() == Some("ispd-suspended")),
        "S1 told the block after the start: {got:?}\n{}",
        d.log()
    );
}

/// A clean stop records everything first: the next start tells nobody again.
#[test]
fn a_change_before_a_clean_stop_is_not_pushed_again_at_the_start() {
    let nas = FakeNas::start(SECRET);
    let mut d = online("enf-clean-told", &nas, "mikrotik", "");
    let sub = subscription_id(&d);
    d.ispctl_json(&["subscription", "block", &sub]);
    assert_eq!(nas.wait_for(1, AT_ONCE).len(), 1, "told at once");
    d.stop();
    d.spawn();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(nas.received().len(), 1, "{:?}", nas.received());
}

fn push_cut_short(name: &str, stop: fn(&mut Daemon)) {
    let nas = FakeNas::start(SECRET);
    let mut d = online(name, &nas, "mikrotik", "rate = 1\n");
    for (session, login) in [("S2", "novak-tv"), ("S3", "novak-3")] {
        another_login(&d, login);
        let start = format!(
            "Acct-Status-Type = Start, Acct-Session-Id = \"{session}\", User-Name = \"{login}\"\n"
        );
        let out = d.radclient("acct", "acct", SECRET, &start);
        assert!(stdout(&out).contains("Received Accounting-Response"));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while d.ispctl_json(&["session", "list"])["items"]
        .as_array()
        .map_or(0, Vec::len)
        < 3
    {
        assert!(
            std::time::Instant::now() < deadline,
            "three sessions online"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let sub = subscription_id(&d);
    d.ispctl_json(&["subscription", "block", &sub]);
    assert_eq!(
        nas.wait_for(1, AT_ONCE).len(),
        1,
        "the first of three at once"
    );
    stop(&mut d);
    let told_before: Vec<String> = nas
        .received()
        .iter()
        .filter_map(|r| r.string(rfc::ACCT_SESSION_ID))
        .collect();
    // One a second: the stop (a fraction of that) comes before the third at the latest.
    assert!(
        told_before.len() < 3,
        "some still queued at the stop: {told_before:?}"
    );

    d.spawn();
    // Each untold session's login gets its whole answer again, one a second (after a kill,
    // the sessions told already may get it again too: the change was in the dead process's
    // last minutes).
    let untold: Vec<&str> = ["S1", "S2", "S3"]
        .into_iter()
        .filter(|s| !told_before.iter().any(|t| t == s))
        .collect();
    let told_after = || -> std::collections::BTreeSet<String> {
        nas.received()[told_before.len()..]
            .iter()
            .filter(|r| rate(r).as_deref() == Some("256k/256k"))
            .filter_map(|r| r.string(rfc::ACCT_SESSION_ID))
            .collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(8);
    while !untold.iter().all(|s| told_after().contains(*s)) && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let told_after = told_after();
    for session in untold {
        assert!(
            told_after.contains(session),
            "{session} got the block after the start: {told_after:?}"
        );
    }
}

/// A temporary speed that ends while ispd is stopped ends on the NAS once ispd starts: the
/// sessions were last told what they should have had when the daemon before was last alive,
/// not what they should have now.
#[test]
fn a_temporary_speed_that_ended_while_stopped_ends_at_the_start() {
    let nas = FakeNas::start(SECRET);
    let mut d = online("enf-temporary-stop", &nas, "mikrotik", "");
    let boosted = one_after(&nas, || {
        d.ispctl_json(&[
            "login", "speed", "novak", "--down", "50M", "--up", "5M", "--for", "3s",
        ]);
    });
    assert_eq!(rate(&boosted).as_deref(), Some("5M/50M"));
    d.stop();
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(nas.received().len(), 1, "nothing while stopped");
    d.spawn();
    let got = nas.wait_for(2, Duration::from_secs(10));
    assert!(
        got.len() >= 2,
        "the end of the temporary speed pushed after the start"
    );
    // The tariff's rate, however often it is told (a retransmission on a loaded machine).
    let after: Vec<Option<String>> = got[1..].iter().map(rate).collect();
    assert!(
        after.iter().all(|r| r.as_deref() == Some("2M/10M")),
        "{after:?}"
    );
}

/// The end of a temporary speed that falls while the database is away (the open sessions
/// cannot be read) reaches the NAS once the database is back, instead of being taken as told.
#[test]
fn a_time_edge_passed_while_the_database_is_away_is_pushed_once_it_is_back() {
    let Some(db) = crate::daemon::PgDatabase::create("edge_outage") else {
        return;
    };
    let (proxy, via_proxy) = crate::accounting::Outage::in_front_of(&db.url);
    let nas = FakeNas::start(SECRET);
    let d = online(
        "enf-edge-outage",
        &nas,
        "mikrotik",
        &format!("\n[database]\nurl = {via_proxy:?}\n"),
    );
    let boosted = one_after(&nas, || {
        d.ispctl_json(&[
            "login", "speed", "novak", "--down", "50M", "--up", "5M", "--for", "2s",
        ]);
    });
    assert_eq!(rate(&boosted).as_deref(), Some("5M/50M"));
    proxy.set_up(false);
    // The end passes while the database is away: the sessions cannot be read, or the lead
    // (held on a connection of its own) is lost first — either way nobody can push it.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        nas.received().len(),
        1,
        "nothing while the database is away"
    );
    proxy.set_up(true);
    let got = nas.wait_for(2, Duration::from_secs(15));
    assert_eq!(
        got.len(),
        2,
        "the end of the temporary speed pushed once the database is back:\n{}",
        d.log()
    );
    assert_eq!(rate(&got[1]).as_deref(), Some("2M/10M"));
}

/// A block committed while the open sessions cannot be read (an injected error on reading
/// the sessions; a database dropping after the commit does the same) reaches the session
/// once they can be read again — not at the next reconcile, which is off here
/// (`reconcile_interval = 0`).
#[test]
fn a_change_whose_sessions_could_not_be_read_is_pushed_once_they_can() {
    let Some(db) = crate::daemon::PgDatabase::create("enf_read_fault") else {
        return;
    };
    let nas = FakeNas::start(SECRET);
    let d = online(
        "enf-read-fault",
        &nas,
        "mikrotik",
        &format!("\n[database]\nurl = {:?}\n", db.url),
    );
    let fault = crate::faults::ReadFault::on(&db.url, "session");
    let sub = subscription_id(&d);
    d.ispctl_json(&["subscription", "block", &sub]);
    d.wait_for_log("enforcement cannot read the open sessions");
    assert!(
        nas.received().is_empty(),
        "nothing while they cannot be read"
    );

    fault.off();
    let got = nas.wait_for(1, Duration::from_secs(15));
    assert_eq!(
        got.len(),
        1,
        "the block pushed once the sessions could be read:\n{}",
        d.log()
    );
    assert_eq!(rate(&got[0]).as_deref(), Some("256k/256k"));
    assert_eq!(address_list(&got[0]).as_deref(), Some("ispd-suspended"));
}

#[test]
fn a_walled_garden_pool_needs_a_new_login_so_the_session_is_disconnected() {
    let nas = FakeNas::start(SECRET);
    let d = online(
        "enf-pool",
        &nas,
        "mikrotik",
        "[radius.walled_garden]\nframed_pool = \"garden\"\n",
    );
    let sub = subscription_id(&d);
    let dm = one_after(&nas, || {
        d.ispctl_json(&["subscription", "block", &sub]);
    });
    assert_eq!(dm.code(), ispd_radius::Code::DisconnectRequest);
    // Deleting a login ends its sessions too (the one that dialled in again).
    wait_until_offline(&d);
    comes_online(&d, "S2");
    let dm = one_after(&nas, || {
        d.ispctl_json(&["login", "delete", "novak"]);
    });
    assert_eq!(dm.code(), ispd_radius::Code::DisconnectRequest);
    assert_eq!(dm.string(rfc::USER_NAME).as_deref(), Some("novak"));
}

#[test]
fn the_operator_reloads_a_login_and_disconnects_a_session() {
    let nas = FakeNas::start(SECRET);
    let d = online("enf-operator", &nas, "mikrotik", "");
    let reload = d.ispctl_json(&["login", "reload", "novak"]);
    let sessions = reload["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        (
            sessions[0]["kind"].as_str(),
            sessions[0]["outcome"].as_str()
        ),
        (Some("coa"), Some("ack"))
    );
    assert_eq!(rate(&nas.received()[0]).as_deref(), Some("2M/10M"));

    let refused = d.ispctl(&["login", "reload", "nobody"]);
    assert!(!refused.status.success());

    // Session Context Not Found: the session is gone already, which is what was asked.
    nas.set_mode(Mode::Nak(503));
    let out = d.ispctl(&["session", "disconnect", "--login", "novak"]);
    let text = stdout(&out);
    assert!(text.contains("nak (Error-Cause 503)"), "{text}");
    assert!(out.status.success(), "{}", crate::daemon::stderr(&out));
    let got = nas.received();
    assert_eq!(
        got.last().map(|r| r.code()),
        Some(ispd_radius::Code::DisconnectRequest)
    );
    let recorded = attempts(&d, 2);
    assert_eq!(
        recorded[0],
        (
            "disconnect".into(),
            "operator: operator".into(),
            "nak".into()
        )
    );
    assert_eq!(recorded[1], ("coa".into(), "reload".into(), "ack".into()));

    // Any other NAK leaves the session up: the answer is shown, and the exit status says the
    // disconnect did not happen, so a script does not take it for done. (The 503 ended the
    // session: it dials in again.)
    wait_until_offline(&d);
    comes_online(&d, "S2");
    nas.set_mode(Mode::Nak(506));
    let out = d.ispctl(&["--json", "session", "disconnect", "--login", "novak"]);
    assert_eq!(out.status.code(), Some(1));
    let answered: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let session = &answered["sessions"][0];
    assert_eq!(
        (session["outcome"].as_str(), session["error_cause"].as_u64()),
        (Some("nak"), Some(506)),
        "{answered}"
    );
    assert_eq!(session["settled"], false, "{answered}");
    let err = crate::daemon::stderr(&out);
    assert!(err.contains("1 of 1 sessions not confirmed"), "{err}");
    let out = d.ispctl(&["login", "reload", "novak"]);
    assert_eq!(out.status.code(), Some(1), "a NAKed reload");
}

/// A session whose NAS was deleted from ispd cannot be told anything: a block, a reload and a
/// disconnect each say so (an unsent attempt in the log, the command failing) instead of
/// "no online session" or nothing at all, and nothing is sent anywhere.
#[test]
fn a_change_to_a_session_on_a_deleted_nas_is_recorded_unsent() {
    let nas = FakeNas::start(SECRET);
    let d = online("enf-nas-gone", &nas, "mikrotik", "");
    let sub = subscription_id(&d);
    d.ispctl_json(&["nas", "delete", "bras"]);

    d.ispctl_json(&["subscription", "block", &sub]);
    let out = d.ispctl(&["--json", "login", "reload", "novak"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let answered: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            answered["sessions"][0]["nas"].as_str(),
            answered["sessions"][0]["outcome"].as_str()
        ),
        (Some("bras"), Some("unsent")),
        "{answered}"
    );
    let out = d.ispctl(&["session", "disconnect", "--login", "novak"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let recorded = attempts(&d, 3);
    // Newest first; a NAS of no known vendor is told by Disconnect.
    let outcomes: Vec<(&str, &str, &str)> = recorded
        .iter()
        .map(|(kind, reason, outcome)| {
            let why = reason.split(':').next().unwrap_or_default();
            (kind.as_str(), why, outcome.as_str())
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("disconnect", "operator", "unsent"),
            ("disconnect", "reload", "unsent"),
            ("disconnect", "access change", "unsent")
        ]
    );
    assert!(nas.received().is_empty(), "nothing sent");
}

/// Imports a bank statement (CSV) through `d` with one payment of `amount` ("499.00") and
/// the client's number as its variable symbol.
pub(crate) fn import_payment(d: &Daemon, client: &str, amount: &str) {
    let statement = d.dir.0.join("statement.csv");
    std::fs::write(
        &statement,
        format!(
            "ID;Datum;Objem;VS\nT1;01.03.2026;{};{client}\n",
            amount.replace('.', ",")
        ),
    )
    .unwrap();
    let mapping = d.dir.0.join("mapping.toml");
    std::fs::write(
        &mapping,
        "delimiter = \";\"\nhas_header = true\ndate_format = \"%d.%m.%Y\"\ndecimal_comma = true\n\
         default_currency = \"CZK\"\n[columns]\ntransaction_id = \"ID\"\ndate = \"Datum\"\n\
         amount = \"Objem\"\nvariable_symbol = \"VS\"\n",
    )
    .unwrap();
    d.ispctl_json(&[
        "payment",
        "import",
        statement.to_str().unwrap(),
        "--format",
        "csv",
        "--mapping",
        mapping.to_str().unwrap(),
    ]);
}

#[test]
fn a_payment_restores_full_speed_on_the_nas_at_once() {
    let nas = FakeNas::start(SECRET);
    let d = online(
        "enf-dunning",
        &nas,
        "mikrotik",
        "[dunning]\nsuspend_min_amount = \"0.50\"\n",
    );
    d.ispctl_json(&["billing", "run", "--as-of", "2026-01-01"]);
    // Overdue past the grace: the dunning run suspends — into the garden on the NAS.
    let coa = one_after(&nas, || {
        d.ispctl_json(&["dunning", "run", "--as-of", "2026-03-01"]);
    });
    assert_eq!(address_list(&coa).as_deref(), Some("ispd-suspended"));
    let balance = d.ispctl_json(&["payment", "balance", "7"]);
    assert_eq!(balance["suspended"], true);
    let owed = balance["owed"].as_str().unwrap().to_owned();

    let coa = one_after(&nas, || import_payment(&d, "7", &owed));
    assert_eq!(coa.code(), ispd_radius::Code::CoaRequest);
    assert_eq!(
        rate(&coa).as_deref(),
        Some("2M/10M"),
        "full speed, out of the garden"
    );
    assert_eq!(address_list(&coa), None);
}

#[test]
fn a_temporary_speed_applies_at_once_and_ends_by_itself() {
    let nas = FakeNas::start(SECRET);
    let d = online("enf-temporary", &nas, "mikrotik", "");
    let boosted = one_after(&nas, || {
        let login = d.ispctl_json(&[
            "login", "speed", "novak", "--down", "50M", "--up", "5M", "--for", "3s",
        ]);
        assert_eq!(login["temporary_speed"]["download_kbps"], 50_000);
    });
    assert_eq!(rate(&boosted).as_deref(), Some("5M/50M"));
    // Nobody touches anything: the tariff's speed comes back when the time is up.
    let got = nas.wait_for(2, Duration::from_secs(6));
    assert_eq!(got.len(), 2, "the end of the temporary speed was pushed");
    assert_eq!(rate(&got[1]).as_deref(), Some("2M/10M"));
    let ended = got[1].at.duration_since(boosted.at);
    assert!(
        ended >= Duration::from_millis(2_000) && ended < Duration::from_millis(5_000),
        "reverted after {ended:?}"
    );
    assert_eq!(attempts(&d, 2)[0].1, "time");

    // Taken away by hand: the tariff's speed at once.
    d.ispctl_json(&[
        "login", "speed", "novak", "--down", "50M", "--up", "5M", "--for", "1h",
    ]);
    let back = one_after(&nas, || {
        let login = d.ispctl_json(&["login", "speed", "novak", "--clear"]);
        assert!(
            login
                .get("temporary_speed")
                .is_none_or(serde_json::Value::is_null)
        );
    });
    assert_eq!(rate(&back).as_deref(), Some("2M/10M"));
    let refused = d.ispctl(&[
        "login", "speed", "novak", "--down", "0", "--up", "5M", "--for", "1h",
    ]);
    assert!(!refused.status.success());
    assert!(
        crate::daemon::stderr(&refused).contains("speed.download_kbps"),
        "{}",
        crate::daemon::stderr(&refused)
    );

    // Found probing from outside: a duration past any date panicked ispctl, and an end in
    // the year 4764 was taken. Both refused, naming what.
    let out = d.ispctl(&[
        "login",
        "speed",
        "novak",
        "--down",
        "1M",
        "--up",
        "1M",
        "--for",
        "99999999999d",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        crate::daemon::stderr(&out)
    );
    assert!(crate::daemon::stderr(&out).contains("--for"));
    let out = d.ispctl(&[
        "login", "speed", "novak", "--down", "1M", "--up", "1M", "--for", "999999d",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        crate::daemon::stderr(&out).contains("speed.until"),
        "{}",
        crate::daemon::stderr(&out)
    );
}

#[test]
fn a_time_of_day_window_is_pushed_at_its_edges() {
    let nas = FakeNas::start(SECRET);
    let d = online("enf-window", &nas, "mikrotik", "");
    // A window that opens in 3 s and closes 3 s later, in the daemon's (the host's) zone.
    let now = chrono::Local::now();
    let at = |secs| {
        (now + chrono::Duration::seconds(secs))
            .format("%H:%M:%S")
            .to_string()
    };
    let (from, to) = (at(3), at(6));
    d.ispctl_json(&[
        "tariff",
        "edit",
        "T",
        "--window-from",
        &from,
        "--window-to",
        &to,
        "--window-down",
        "100M",
        "--window-up",
        "20M",
    ]);
    assert_eq!(
        nas.received().len(),
        0,
        "outside the window nothing changes yet"
    );
    let got = nas.wait_for(2, Duration::from_secs(9));
    assert_eq!(got.len(), 2, "the window opened and closed: {got:?}");
    assert_eq!(rate(&got[0]).as_deref(), Some("20M/100M"));
    assert_eq!(rate(&got[1]).as_deref(), Some("2M/10M"));
    let open_for = got[1].at.duration_since(got[0].at);
    assert!(
        open_for >= Duration::from_millis(2_000) && open_for < Duration::from_millis(4_500),
        "open for {open_for:?}"
    );
    let shown = d.ispctl_json(&["tariff", "show", "T"]);
    assert_eq!(shown["window"]["from"], from.as_str());
}

/// `today + days` in the daemon's zone (the host's), as YYYY-MM-DD.
fn day(days: i64) -> String {
    (chrono::Local::now().date_naive() + chrono::Duration::days(days)).to_string()
}

#[test]
fn a_future_dated_pause_takes_effect_on_its_day_and_is_enforced_then() {
    let nas = FakeNas::start(SECRET);
    let d = online("enf-scheduled", &nas, "mikrotik", "");
    let sub = subscription_id(&d);
    let (monday, friday) = (day(3), day(7));
    let scheduled = d.ispctl_json(&[
        "subscription",
        "pause",
        &sub,
        "--date",
        &monday,
        "--billing-suspended",
        "--resume",
        &friday,
        "--note",
        "holiday",
    ]);
    assert_eq!(
        scheduled["state"], "active",
        "nothing changes before the day"
    );
    // The pause's resume date schedules the resume with it.
    assert_eq!(scheduled["scheduled"].as_array().map(Vec::len), Some(2));
    let refused = d.ispctl(&[
        "subscription",
        "pause",
        &sub,
        "--date",
        &friday,
        "--resume",
        &monday,
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("resume_date"));
    let pending = d.ispctl_json(&["subscription", "pending", &sub])["items"].clone();
    let pending: Vec<_> = pending
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["transition"].as_str().unwrap(),
                a["effective"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pending,
        [("pause", monday.as_str()), ("resume", friday.as_str())]
    );

    // The day before: nothing is due, nothing reaches the NAS.
    let applied = d.ispctl_json(&["subscription", "apply-due", "--as-of", &day(2)]);
    assert_eq!(applied["items"].as_array().map(Vec::len), Some(0));
    std::thread::sleep(Duration::from_millis(300));
    assert!(nas.received().is_empty());

    // On the day (as the daily job does it): paused, and the session is in the garden.
    let coa = one_after(&nas, || {
        let applied = d.ispctl_json(&["subscription", "apply-due", "--as-of", &monday]);
        assert_eq!(applied["items"][0]["state"], "done");
    });
    assert_eq!(address_list(&coa).as_deref(), Some("ispd-suspended"));
    let shown = d.ispctl_json(&["subscription", "show", &sub]);
    assert_eq!(shown["state"], "paused");
    let history = d.ispctl_json(&["subscription", "history", &sub]);
    let last = history["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["note"],
        format!("paused, billing suspended from {monday}; holiday")
    );

    // Withdrawn: the resume never happens; a withdrawn change cannot be withdrawn again.
    let resume_id = d.ispctl_json(&["subscription", "pending", &sub])["items"][0]["id"].to_string();
    d.ispctl_json(&["subscription", "withdraw", &resume_id]);
    assert!(
        !d.ispctl(&["subscription", "withdraw", &resume_id])
            .status
            .success()
    );
    d.ispctl_json(&["subscription", "apply-due", "--as-of", &friday]);
    assert_eq!(
        d.ispctl_json(&["subscription", "show", &sub])["state"],
        "paused"
    );

    // A change the state machine refuses on its day is recorded as failed, with the reason.
    d.ispctl_json(&["subscription", "pause", &sub, "--date", &day(9)]);
    let applied = d.ispctl_json(&["subscription", "apply-due", "--as-of", &day(9)]);
    assert_eq!(applied["items"][0]["state"], "failed");
    assert!(
        applied["items"][0]["result"]
            .as_str()
            .unwrap()
            .contains("cannot go from paused to paused"),
        "{applied}"
    );
}

#[test]
fn a_crossed_data_cap_reduces_the_speed_as_accounting_arrives() {
    let nas = FakeNas::start(SECRET);
    let d = online("enf-cap", &nas, "mikrotik", "");
    cap_tariff(&d);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        nas.received().is_empty(),
        "a cap not crossed changes no speed"
    );

    // A second login of the same subscription, online too: the cap counts both.
    another_login(&d, "novak-tv");
    let start = "Acct-Status-Type = Start, Acct-Session-Id = \"S2\", User-Name = \"novak-tv\", \
                 Framed-IP-Address = 100.64.0.8\n";
    d.radclient("acct", "acct", SECRET, start);
    let interim = |session: &str, user: &str, octets: u64| {
        format!(
            "Acct-Status-Type = Interim-Update, Acct-Session-Id = \"{session}\", \
             User-Name = \"{user}\", Acct-Session-Time = 60, Acct-Input-Octets = 1000, \
             Acct-Output-Octets = {octets}\n"
        )
    };
    // 3 MB down on each login: under the 5 MB cap alone, over it together — the NAS hears it
    // for both sessions within a second or two.
    d.radclient("acct", "acct", SECRET, &interim("S1", "novak", 3_000_000));
    std::thread::sleep(Duration::from_millis(1_500));
    assert!(nas.received().is_empty(), "under the cap");
    let sent = std::time::Instant::now();
    d.radclient(
        "acct",
        "acct",
        SECRET,
        &interim("S2", "novak-tv", 3_000_000),
    );
    let got = nas.wait_for(2, Duration::from_secs(10));
    assert_eq!(got.len(), 2, "the crossing was pushed to both sessions");
    let mut sessions: Vec<_> = got
        .iter()
        .map(|r| r.string(rfc::ACCT_SESSION_ID).unwrap_or_default())
        .collect();
    sessions.sort();
    assert_eq!(sessions, ["S1", "S2"]);
    for r in &got {
        assert_eq!(rate(r).as_deref(), Some("512k/1M"));
        assert!(r.at.duration_since(sent) < Duration::from_millis(2_500));
    }

    // The operator lifts the cap: the tariff's speed at once.
    d.ispctl_json(&["tariff", "edit", "T", "--no-cap"]);
    let back = nas.wait_for(4, AT_ONCE);
    assert_eq!(back.len(), 4, "{back:?}");
    assert!(
        back[2..]
            .iter()
            .all(|r| rate(r).as_deref() == Some("2M/10M"))
    );
}

/// A speed edge pushed just before a clean stop is not pushed again at the start (on a NAS
/// that takes no CoA that would be a needless Disconnect): the stop writes a last heartbeat,
/// so the start knows the sessions were told until then, not only until the heartbeat of up
/// to 5 s before.
#[test]
fn an_edge_pushed_just_before_a_clean_stop_is_not_pushed_again() {
    let nas = FakeNas::start(SECRET);
    let mut d = online("enf-edge-stop", &nas, "mikrotik", "");
    // Just after a heartbeat, so the next one is 5 s away.
    let beat = || d.query("SELECT heartbeat_at FROM instance");
    let first = beat();
    let deadline = std::time::Instant::now() + Duration::from_secs(8);
    while beat() == first {
        assert!(std::time::Instant::now() < deadline, "no heartbeat");
        std::thread::sleep(Duration::from_millis(20));
    }
    d.ispctl_json(&[
        "login", "speed", "novak", "--down", "50M", "--up", "5M", "--for", "1s",
    ]);
    let got = nas.wait_for(2, Duration::from_secs(10));
    assert_eq!(got.len(), 2, "the boost and its end");
    assert_eq!(rate(&got[1]).as_deref(), Some("2M/10M"));
    d.stop();
    d.spawn();
    std::thread::sleep(Duration::from_secs(2));
    let rates: Vec<Option<String>> = nas.received().iter().map(rate).collect();
    assert_eq!(rates.len(), 2, "nothing pushed after the start: {rates:?}");
}

/// A cap crossed in the moment before ispd dies — committed and answered, but not yet
/// checked (once a second) — still reaches the session after the start.
#[test]
fn a_cap_crossed_just_before_a_kill_reaches_the_session_after_the_start() {
    let nas = FakeNas::start(SECRET);
    let mut d = online("enf-cap-kill", &nas, "mikrotik", "");
    cap_tariff(&d);
    d.radclient("acct", "acct", SECRET, OVER_THE_CAP);
    d.kill9();
    d.spawn();
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while nas.received().last().and_then(rate).as_deref() != Some("512k/1M") {
        assert!(
            std::time::Instant::now() < deadline,
            "the crossing never reached the session: {:?}",
            nas.received().iter().map(rate).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A data cap whose billing period turns while ispd is stopped is lifted on the NAS once it
/// starts. The crossing is made for real; then, while stopped, its traffic and the last
/// heartbeat are moved to the last day of the previous month — as if ispd had been down over
/// the turn of the month (the client's billing day is the 1st).
#[test]
fn a_data_cap_whose_period_turned_while_stopped_is_lifted_at_the_start() {
    let nas = FakeNas::start(SECRET);
    let mut d = online("enf-cap-stop", &nas, "mikrotik", "");
    cap_tariff(&d);
    d.radclient("acct", "acct", SECRET, OVER_THE_CAP);
    let capped = nas.wait_for(1, Duration::from_secs(10));
    assert_eq!(capped.len(), 1, "the crossing pushed");
    assert_eq!(rate(&capped[0]).as_deref(), Some("512k/1M"));
    // Stopped once the NAS's answer is recorded: stopped before, the request counts as not
    // delivered and the start pushes it again (a third request; seen on a loaded runner).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while d.ispctl_json(&["enforcement", "list", "--login", "novak"])["items"][0]["outcome"]
        != "ack"
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the answer never recorded"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    d.stop();
    let today = chrono::Local::now().date_naive();
    let last_month = today.with_day(1).unwrap() - chrono::Days::new(1);
    d.sqlite(&format!("UPDATE usage_daily SET day = '{last_month}'"));
    d.sqlite(&format!(
        "UPDATE instance SET heartbeat_at = '{last_month}T12:00:00.000000Z'"
    ));
    let before = nas.received().len();
    d.spawn();
    // A start on a loaded runner (the whole suite beside it) can take seconds of its own.
    let got = nas.wait_for(before + 1, Duration::from_secs(20));
    assert!(
        got.len() > before,
        "the lifted cap pushed after the start:\n{}",
        d.log()
    );
    // The tariff's rate, however often it is told (a push the stop left unanswered is told
    // again: the login's answer now).
    let after: Vec<Option<String>> = got[before..].iter().map(rate).collect();
    assert!(
        after.iter().all(|r| r.as_deref() == Some("2M/10M")),
        "{after:?}"
    );
}

#[test]
fn a_walled_garden_changed_by_a_reload_reaches_the_sessions_in_it() {
    let nas = FakeNas::start(SECRET);
    let d = online("enf-reload", &nas, "mikrotik", "");
    let sub = subscription_id(&d);
    let coa = one_after(&nas, || {
        d.ispctl_json(&["subscription", "block", &sub]);
    });
    assert_eq!(rate(&coa).as_deref(), Some("256k/256k"));
    let config = std::fs::read_to_string(&d.config_path).unwrap();
    std::fs::write(
        &d.config_path,
        format!("{config}[radius.walled_garden]\ndownload_kbps = 1024\nupload_kbps = 512\n"),
    )
    .unwrap();
    let coa = one_after(&nas, || d.signal("HUP"));
    assert_eq!(
        rate(&coa).as_deref(),
        Some("512k/1024k"),
        "the new garden speed"
    );
    assert_eq!(address_list(&coa).as_deref(), Some("ispd-suspended"));
}

/// novak logs in: the Class attribute of the Access-Accept, as radclient prints it.
fn accepted_class(d: &Daemon) -> String {
    let out = d.radclient(
        "auth",
        "auth",
        SECRET,
        "User-Name = \"novak\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n",
    );
    let text = stdout(&out);
    assert!(text.contains("Access-Accept"), "{text}");
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Class = "))
        .unwrap_or_else(|| panic!("no Class in {text}"))
        .to_owned()
}

/// The NAS's Accounting-Start of session `id`, echoing the Accept's Class.
fn start_session(d: &Daemon, id: &str, class: &str) {
    let start = format!(
        "Acct-Status-Type = Start, Acct-Session-Id = \"{id}\", User-Name = \"novak\", \
         Framed-IP-Address = 100.64.0.7, Class = {class}\n"
    );
    let out = d.radclient("acct", "acct", SECRET, &start);
    assert!(
        stdout(&out).contains("Received Accounting-Response"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_session_accepted_just_before_a_change_is_told_when_its_start_arrives() {
    let nas = FakeNas::start(SECRET);
    let d = ready("enf-late-start", &nas, "mikrotik", "");
    let sub = subscription_id(&d);
    // Accepted at full service; the NAS has not sent the Start yet when the block comes, so
    // no session is known to push to.
    let class = accepted_class(&d);
    d.ispctl_json(&["subscription", "block", &sub]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(nas.received().is_empty(), "no session was online");

    // The Start arrives: the session came up on the old answer and is moved to the garden.
    let coa = one_after(&nas, || start_session(&d, "S1", &class));
    assert_eq!(coa.code(), ispd_radius::Code::CoaRequest);
    assert_eq!(coa.string(rfc::ACCT_SESSION_ID).as_deref(), Some("S1"));
    assert_eq!(address_list(&coa).as_deref(), Some("ispd-suspended"));
    assert_eq!(
        attempts(&d, 1)[0],
        ("coa".into(), "late start".into(), "ack".into())
    );

    // A login after the block got the garden in its Accept: its Start asks for nothing.
    let stop = "Acct-Status-Type = Stop, Acct-Session-Id = \"S1\", User-Name = \"novak\"\n";
    d.radclient("acct", "acct", SECRET, stop);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !d.ispctl_json(&["session", "list"])["items"]
        .as_array()
        .is_some_and(Vec::is_empty)
    {
        assert!(std::time::Instant::now() < deadline, "S1 never stopped");
        std::thread::sleep(Duration::from_millis(20));
    }
    let class = accepted_class(&d);
    start_session(&d, "S2", &class);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(nas.received().len(), 1, "{:?}", nas.received());
}

/// A NAS cut off from ispd for longer than `stale_after`: the sweep closes its session, so
/// a block then finds no session to push to. When the NAS is heard again, its Interim
/// reopens the session, which still runs on the answer from before the block: it is told.
#[test]
fn a_session_swept_while_its_nas_was_cut_off_is_told_the_change_it_missed() {
    let nas = FakeNas::start(SECRET);
    let d = ready_with_radius("enf-swept", &nas, "mikrotik", "stale_after = 2\n", "");
    let sub = subscription_id(&d);
    let class = accepted_class(&d);
    start_session(&d, "S1", &class);
    wait_until_online(&d);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !d.ispctl_json(&["session", "list"])["items"]
        .as_array()
        .is_some_and(Vec::is_empty)
    {
        assert!(std::time::Instant::now() < deadline, "S1 never swept");
        std::thread::sleep(Duration::from_millis(100));
    }
    d.ispctl_json(&["subscription", "block", &sub]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(nas.received().is_empty(), "no session was open");

    let interim = format!(
        "Acct-Status-Type = Interim-Update, Acct-Session-Id = \"S1\", User-Name = \"novak\", \
         Framed-IP-Address = 100.64.0.7, Acct-Session-Time = 30, Class = {class}\n"
    );
    let coa = one_after(&nas, || {
        let out = d.radclient("acct", "acct", SECRET, &interim);
        assert!(stdout(&out).contains("Received Accounting-Response"));
    });
    assert_eq!(coa.code(), ispd_radius::Code::CoaRequest);
    assert_eq!(coa.string(rfc::ACCT_SESSION_ID).as_deref(), Some("S1"));
    assert_eq!(address_list(&coa).as_deref(), Some("ispd-suspended"));
}

#[test]
fn a_juniper_session_gets_its_service_profile_and_a_change_reactivates_it() {
    let nas = FakeNas::start(SECRET);
    let d = Daemon::start_with_radius(
        "enf-juniper",
        "juniper_service = \"ispd-rate\"\n",
        "[enforcement]\ntimeout = 0.2\ntries = 3\nreconcile_interval = 0\n",
    );
    d.ispctl_json(&[
        "nas",
        "add",
        "--name",
        "mx",
        "--address",
        "127.0.0.1",
        "--secret",
        SECRET,
        "--vendor",
        "juniper",
        "--coa",
        "coa",
        "--coa-port",
        &nas.port().to_string(),
    ]);
    crate::accounting::add_login(&d);
    // The Access-Accept activates the service with the tariff's rate (10M down, 2M up).
    let class = accepted_class(&d);
    let out = d.radclient(
        "auth",
        "auth",
        SECRET,
        "User-Name = \"novak\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n",
    );
    let text = stdout(&out);
    assert!(
        text.contains("ERX-Service-Activate:1 = \"ispd-rate(10000k,2000k)\""),
        "{text}"
    );
    start_session(&d, "S1", &class);
    wait_until_online(&d);

    // A faster tariff: one CoA that takes the running service off and puts it back on with
    // the new rate (Junos handles the deactivation first).
    let coa = one_after(&nas, || {
        d.ispctl_json(&["tariff", "edit", "T", "--down", "50M"]);
    });
    assert_eq!(coa.code(), ispd_radius::Code::CoaRequest);
    assert_eq!(
        coa.vendor_string(erx::VENDOR_ID, erx::ERX_SERVICE_DEACTIVATE)
            .as_deref(),
        Some("ispd-rate")
    );
    assert_eq!(
        coa.vendor_string(erx::VENDOR_ID, erx::ERX_SERVICE_ACTIVATE)
            .as_deref(),
        Some("\u{1}ispd-rate(50000k,2000k)"),
        "tag 1, then the service with its parameters"
    );
}
