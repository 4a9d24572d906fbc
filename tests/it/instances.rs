//! Several instances: two ispd processes on one PostgreSQL database stay in step through its
//! change log, and a second daemon on one SQLite state is refused.

use std::time::{Duration, Instant};

use crate::daemon::{Daemon, PgDatabase, stdout};
use crate::fake_nas::FakeNas;

const SECRET: &str = "two-instances-4711";
/// A change made through one instance reaches the other's RADIUS answers within this.
const IN_STEP: Duration = Duration::from_secs(1);

fn database(db: &PgDatabase) -> String {
    format!("[database]\nurl = {:?}\n", db.url)
}

/// The Access-Accept's or -Reject's first line and attributes as radclient prints them.
fn answer(d: &Daemon, password: &str) -> String {
    let request = format!(
        "User-Name = \"novak\", User-Password = \"{password}\", Message-Authenticator = 0x00\n"
    );
    let out = d.radclient("auth", "auth", SECRET, &request);
    let text = stdout(&out);
    text.split_once("Received ")
        .map(|(_, reply)| reply.to_owned())
        .unwrap_or(text)
}

/// Asks `d` until `answer` satisfies `wanted`, for at most [`IN_STEP`]; returns how long it took.
fn until(d: &Daemon, password: &str, wanted: impl Fn(&str) -> bool) -> Duration {
    within(IN_STEP, d, password, wanted)
}

fn within(limit: Duration, d: &Daemon, password: &str, wanted: impl Fn(&str) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let got = answer(d, password);
        if wanted(&got) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "not in step within {limit:?}: {got}\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_change_through_one_instance_reaches_the_others_answers() {
    let Some(db) = PgDatabase::create("instances") else {
        return;
    };
    let a = Daemon::start("instance-a", &database(&db));
    let b = Daemon::start_beside("instance-b", &database(&db), &a);
    let nas = FakeNas::start(SECRET);
    // Everything is set up through A: B learns the NAS and the login from the log.
    a.ispctl_json(&[
        "nas",
        "add",
        "--name",
        "bras",
        "--address",
        "127.0.0.1",
        "--secret",
        SECRET,
        "--vendor",
        "mikrotik",
        "--coa-port",
        &nas.port().to_string(),
    ]);
    crate::accounting::add_login(&a);
    // A request from a NAS B does not know yet is dropped, and radclient waits a second for
    // it: the first answer may take a few of those.
    within(Duration::from_secs(5), &b, "arctangent", |r| {
        r.starts_with("Access-Accept")
    });

    // A blocks the subscription: B puts the next login into the walled garden.
    let sub =
        a.ispctl_json(&["subscription", "list", "--client", "7"])["items"][0]["id"].to_string();
    a.ispctl_json(&["subscription", "block", &sub]);
    until(&b, "arctangent", |r| r.contains("ispd-suspended"));
    a.ispctl_json(&["subscription", "resume", &sub]);
    until(&b, "arctangent", |r| {
        r.starts_with("Access-Accept") && !r.contains("ispd-suspended")
    });

    // A faster tariff, and a new password: B answers with both.
    a.ispctl_json(&["tariff", "edit", "T", "--down", "50M"]);
    until(&b, "arctangent", |r| r.contains("2M/50M"));
    let reset = a.ispctl_json(&["login", "reset-password", "novak"]);
    let password = reset["password"].as_str().unwrap().to_owned();
    until(&b, &password, |r| r.starts_with("Access-Accept"));
    assert!(answer(&b, "arctangent").starts_with("Access-Reject"));

    // And the other way round: what B changes, A answers with.
    b.ispctl_json(&["subscription", "block", &sub]);
    until(&a, &password, |r| r.contains("ispd-suspended"));

    // The session comes up through B.
    let start = "Acct-Status-Type = Start, Acct-Session-Id = \"S1\", User-Name = \"novak\", \
                 Framed-IP-Address = 100.64.0.7\n";
    b.radclient("acct", "acct", SECRET, start);
    let deadline = Instant::now() + Duration::from_secs(5);
    while a.ispctl_json(&["session", "list"])["items"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        assert!(Instant::now() < deadline, "the session never showed");
        std::thread::sleep(Duration::from_millis(20));
    }

    // A change through A reaches the session once — from A, not once per instance.
    a.ispctl_json(&["subscription", "resume", &sub]);
    std::thread::sleep(Duration::from_millis(1_500));
    let sent = nas.received();
    assert_eq!(sent.len(), 1, "one CoA for one change: {sent:?}");

    // Both are seen on the database, each with how far it has read the log (a heartbeat
    // every 5 s).
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let listed = a.ispctl_json(&["system", "instances"])["items"].clone();
        let items = listed.as_array().unwrap();
        let read_on = items
            .iter()
            .all(|i| i["applied_change"].as_i64().unwrap_or(0) > 0);
        if items.len() == 2 && read_on {
            let this: Vec<bool> = items
                .iter()
                .map(|i| i["this_instance"].as_bool().unwrap_or(false))
                .collect();
            assert_eq!(this.iter().filter(|t| **t).count(), 1, "{listed}");
            break;
        }
        assert!(Instant::now() < deadline, "{listed}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_second_daemon_on_one_sqlite_state_is_refused() {
    let d = Daemon::start("sqlite-single", "");
    let out = std::process::Command::new(crate::daemon::ISPD)
        .arg("--config")
        .arg(&d.config_path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("another ispd") && text.contains("SQLite"),
        "{text}"
    );
    // The first one serves on, untouched.
    assert!(d.ispctl(&["nas", "list"]).status.success());
}
