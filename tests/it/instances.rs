//! Several instances: two ispd processes on one PostgreSQL database stay in step through its
//! change log, and a second daemon on one SQLite state is refused.

use std::time::{Duration, Instant};

use crate::daemon::{Daemon, PgDatabase, database_section, stdout};
use crate::fake_nas::FakeNas;

const SECRET: &str = "two-instances-4711";
/// A change made through one instance reaches the other's RADIUS answers within this.
const IN_STEP: Duration = Duration::from_secs(1);

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
    let a = Daemon::start("instance-a", &database_section(Some(&db)));
    let b = Daemon::start_beside("instance-b", &database_section(Some(&db)), &a);
    let nas = FakeNas::start(SECRET);
    // Everything is set up through A: B learns the NAS and the login from the log.
    crate::accounting::add_nas(&a, SECRET, "mikrotik", Some(nas.port()));
    crate::accounting::add_login(&a);
    // A request from a NAS B does not know yet is dropped, and radclient waits a second for
    // it: the first answer may take a few of those.
    within(Duration::from_secs(5), &b, "arctangent", |r| {
        r.starts_with("Access-Accept")
    });

    // A blocks the subscription: B puts the next login into the walled garden.
    let sub = crate::enforcement::subscription_id(&a);
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

    // What the clock causes is sent once too: a temporary speed through A, and its end,
    // which both instances see come (the one that leads tells the session).
    a.ispctl_json(&[
        "login", "speed", "novak", "--down", "50M", "--up", "5M", "--for", "2s",
    ]);
    let sent = nas.wait_for(3, Duration::from_secs(6));
    std::thread::sleep(Duration::from_millis(2_000));
    let sent_after = nas.received();
    assert_eq!(
        (sent.len(), sent_after.len()),
        (3, 3),
        "the boost and its end, once each: {sent_after:?}"
    );

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

/// Sends one Accounting-Request to `d`; true when it was answered.
/// Found probing from outside: a CoA that timed out at one instance left its login
/// unconfirmed in that instance's memory only: the other's reconcile found nothing to send,
/// and once the first died nobody sent it. A reconcile anywhere reads which requests did not
/// settle from the attempt log.
#[test]
fn a_change_one_instance_could_not_deliver_is_sent_by_the_others_reconcile() {
    let Some(db) = PgDatabase::create("instances_unconfirmed") else {
        return;
    };
    let config = format!(
        "{}[enforcement]\ntimeout = 0.2\ntries = 3\nreconcile_interval = 0\n",
        database_section(Some(&db))
    );
    let a = Daemon::start("instance-unconfirmed-a", &config);
    let b = Daemon::start_beside("instance-unconfirmed-b", &config, &a);
    let nas = FakeNas::start(SECRET);
    crate::accounting::add_nas(&a, SECRET, "mikrotik", Some(nas.port()));
    crate::accounting::add_login(&a);
    within(Duration::from_secs(10), &b, "arctangent", |r| {
        r.starts_with("Access-Accept")
    });
    let start = "Acct-Status-Type = Start, Acct-Session-Id = \"S1\", User-Name = \"novak\", \
                 Framed-IP-Address = 100.64.0.7\n";
    assert!(account(&a, start));
    let deadline = Instant::now() + Duration::from_secs(5);
    while b.ispctl_json(&["session", "list"])["items"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        assert!(Instant::now() < deadline, "the session never showed");
        std::thread::sleep(Duration::from_millis(20));
    }
    nas.set_mode(crate::fake_nas::Mode::Silent);
    let sub = crate::enforcement::subscription_id(&a);
    a.ispctl_json(&["subscription", "block", &sub]);
    let tried = nas.wait_for(3, Duration::from_secs(10));
    assert_eq!(tried.len(), 3, "three tries from A: {tried:?}");
    // The attempt log is written a moment after the exchange ends.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listed = a.ispctl_json(&["enforcement", "list", "--login", "novak"]);
        if listed["items"][0]["outcome"] == "timeout" {
            break;
        }
        assert!(Instant::now() < deadline, "{listed}");
        std::thread::sleep(Duration::from_millis(100));
    }
    nas.set_mode(crate::fake_nas::Mode::Ack);
    let report = b.ispctl_json(&["enforcement", "reconcile"]);
    assert_eq!(report["queued"].as_u64(), Some(1), "{report}");
    let sent = nas.wait_for(4, Duration::from_secs(5));
    assert_eq!(sent.len(), 4, "B sent the block: {sent:?}");
    assert_eq!(sent[3].code(), ispd_radius::Code::CoaRequest);
}

fn account(d: &Daemon, attributes: &str) -> bool {
    stdout(&d.radclient("acct", "acct", SECRET, &format!("{attributes}\n")))
        .contains("Received Accounting-Response")
}

/// The money side through A: the dunning run suspends the client, a bank statement pays
/// it — B answers each within a second.
#[test]
fn a_dunning_run_and_a_payment_through_one_instance_reach_the_others_answers() {
    let Some(db) = PgDatabase::create("money") else {
        return;
    };
    let config = format!(
        "{}[dunning]\nsuspend_min_amount = \"0.50\"\n",
        database_section(Some(&db))
    );
    let a = Daemon::start("money-a", &config);
    let b = Daemon::start_beside("money-b", &config, &a);
    crate::accounting::add_nas(&a, SECRET, "mikrotik", None);
    crate::accounting::add_login(&a);
    within(Duration::from_secs(5), &b, "arctangent", |r| {
        r.starts_with("Access-Accept") && !r.contains("ispd-suspended")
    });
    a.ispctl_json(&["billing", "run", "--as-of", "2026-01-01"]);
    a.ispctl_json(&["dunning", "run", "--as-of", "2026-03-01"]);
    until(&b, "arctangent", |r| r.contains("ispd-suspended"));
    let owed = a.ispctl_json(&["payment", "balance", "7"])["owed"]
        .as_str()
        .unwrap()
        .to_owned();
    crate::enforcement::import_payment(&a, "7", &owed);
    until(&b, "arctangent", |r| {
        r.starts_with("Access-Accept") && !r.contains("ispd-suspended")
    });
}

/// The NAS has both instances as its RADIUS servers and sends each request to whichever it
/// likes, or to both: what is stored is what one server would have stored, and a session open
/// through one counts for Simultaneous-Use at the other.
#[test]
fn accounting_split_across_instances_is_one_session_and_counts_for_both() {
    let Some(db) = PgDatabase::create("split") else {
        return;
    };
    let a = Daemon::start("split-a", &database_section(Some(&db)));
    let b = Daemon::start_beside("split-b", &database_section(Some(&db)), &a);
    crate::accounting::add_nas(&a, SECRET, "mikrotik", None);
    crate::accounting::add_login(&a);
    within(Duration::from_secs(5), &b, "arctangent", |r| {
        r.starts_with("Access-Accept")
    });
    let session = "Acct-Session-Id = \"split-1\", User-Name = \"novak\"";
    assert!(account(&a, &format!("Acct-Status-Type = Start, {session}")));
    // The limit is one session: B refuses the second login the session through A opened.
    until(&b, "arctangent", |r| r.starts_with("Access-Reject"));
    assert!(answer(&a, "arctangent").starts_with("Access-Reject"));

    // The Interim to B, retransmitted to A; then the Stop to B while a late Interim with
    // smaller counters reaches A.
    let interim = format!(
        "Acct-Status-Type = Interim-Update, {session}, Acct-Session-Time = 300, \
         Acct-Input-Octets = 1000, Acct-Output-Octets = 4000"
    );
    assert!(account(&b, &interim));
    assert!(account(&a, &interim));
    assert!(account(
        &b,
        &format!(
            "Acct-Status-Type = Stop, {session}, Acct-Session-Time = 600, Acct-Input-Octets = 3000, \
             Acct-Output-Octets = 9000, Acct-Terminate-Cause = User-Request"
        )
    ));
    assert!(account(
        &a,
        &format!(
            "Acct-Status-Type = Interim-Update, {session}, Acct-Session-Time = 450, \
             Acct-Input-Octets = 2000, Acct-Output-Octets = 6000"
        )
    ));
    let psql = |sql: &str| crate::accounting::psql(&db.url, sql);
    assert_eq!(
        psql(
            "SELECT COUNT(*), MAX(input_octets), MAX(output_octets), MAX(session_seconds), \
             MAX(terminate_cause), COUNT(stopped_at) FROM session"
        )
        .trim(),
        "1|3000|9000|600|User-Request|1",
        "one session, the Stop's counters, closed"
    );
    assert_eq!(
        psql("SELECT SUM(input_octets), SUM(output_octets) FROM usage_daily").trim(),
        "3000|9000",
        "every octet counted once"
    );
    // Closed through B: both let the login in again.
    until(&a, "arctangent", |r| r.starts_with("Access-Accept"));
    until(&b, "arctangent", |r| r.starts_with("Access-Accept"));
}

/// B reaches the database through a forwarder the test cuts: while cut, B answers from its
/// cache; what A changed meanwhile — a block, a new password, a session opened — B applies
/// once it is back, read on from the last change it applied.
#[test]
fn an_instance_cut_off_from_the_database_catches_up() {
    let Some(db) = PgDatabase::create("catchup") else {
        return;
    };
    let (cut, via_cut) = crate::accounting::Outage::in_front_of(&db.url);
    let a = Daemon::start("catchup-a", &database_section(Some(&db)));
    let b = Daemon::start_beside(
        "catchup-b",
        &format!("[database]\nurl = {via_cut:?}\n[metrics]\nlisten = \"127.0.0.1:0\"\n"),
        &a,
    );
    crate::accounting::add_nas(&a, SECRET, "mikrotik", None);
    crate::accounting::add_login(&a);
    within(Duration::from_secs(5), &b, "arctangent", |r| {
        r.starts_with("Access-Accept")
    });

    cut.set_up(false);
    b.wait_for_log("change-log listener lost");
    let sub = crate::enforcement::subscription_id(&a);
    a.ispctl_json(&["subscription", "block", &sub]);
    let reset = a.ispctl_json(&["login", "reset-password", "novak"]);
    let password = reset["password"].as_str().unwrap().to_owned();
    assert!(account(
        &a,
        "Acct-Status-Type = Start, Acct-Session-Id = \"cut-1\", User-Name = \"novak\""
    ));
    // Cut off, B still answers, from what it knew.
    assert!(answer(&b, "arctangent").starts_with("Access-Accept"));

    cut.set_up(true);
    // The new password reached B ...
    within(Duration::from_secs(5), &b, "arctangent", |r| {
        r.starts_with("Access-Reject")
    });
    // ... and the session opened through A counts: the limit of one refuses the login with
    // the right password (without it, the block would let it into the walled garden).
    within(Duration::from_secs(3), &b, &password, |r| {
        r.starts_with("Access-Reject")
    });
    assert!(
        b.log().contains("change-log listener connected"),
        "{}",
        b.log()
    );
    assert!(
        !b.log().contains("reloading every login"),
        "read on from its last change, not reloaded: {}",
        b.log()
    );
    // Said in its metrics too: the reconnect, and how long after their writing the other
    // instance's changes were applied.
    let scraped = crate::faults::metrics(&b);
    let value = |name: &str| {
        scraped
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in:\n{scraped}"))
    };
    assert!(value("ispd_change_log_reconnects_total") >= 1.0);
    assert!(value("ispd_change_log_lag_seconds_count") >= 1.0);
    // The session closes through A: B sees the block (the walled garden) once it may log in.
    assert!(account(
        &a,
        "Acct-Status-Type = Stop, Acct-Session-Id = \"cut-1\", User-Name = \"novak\", Acct-Session-Time = 60"
    ));
    until(&b, &password, |r| r.contains("ispd-suspended"));
}

/// Both instances run the daily jobs at the same minute; one takes them, and is killed while
/// it holds them (a table its first job reads is locked by the test, so it cannot finish).
/// The other runs them instead, once.
#[test]
fn the_daily_jobs_move_to_another_instance_when_their_runner_dies() {
    let Some(db) = PgDatabase::create("takeover") else {
        return;
    };
    // The next minute that leaves both instances time to start (run_at has minutes).
    let at = (chrono::Utc::now() + chrono::Duration::seconds(70)).format("%H:%M");
    let schedule = |base: String| {
        base.replace(
            "run_at = \"\"",
            &format!("run_at = \"{at}\"\ntimezone = \"UTC\""),
        ) + &database_section(Some(&db))
    };
    let mut a = Daemon::start_edited("takeover-a", None, schedule);
    let mut b = Daemon::start_edited("takeover-b", Some(&a), schedule);
    // Holds the table of dated actions, which the daily jobs read first, until it is told
    // to end.
    let mut blocker = std::process::Command::new("psql")
        .args([db.url.as_str(), "-q", "-v", "ON_ERROR_STOP=1"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut sql = blocker.stdin.take().unwrap();
    use std::io::Write;
    writeln!(
        sql,
        "BEGIN; LOCK TABLE scheduled_action IN ACCESS EXCLUSIVE MODE;"
    )
    .unwrap();
    sql.flush().unwrap();
    let waiting = "daily jobs running in another instance";
    let deadline = Instant::now() + Duration::from_secs(100);
    let runner_is_a = loop {
        if b.log().contains(waiting) {
            break true;
        }
        if a.log().contains(waiting) {
            break false;
        }
        assert!(Instant::now() < deadline, "{}\n{}", a.log(), b.log());
        std::thread::sleep(Duration::from_millis(100));
    };
    let (runner, other) = if runner_is_a {
        (&mut a, &b)
    } else {
        (&mut b, &a)
    };
    let survivor = other.pid();
    runner.kill9();
    // The lock on the table ends; the survivor's next look finds the jobs not done.
    writeln!(sql, "COMMIT;").unwrap();
    drop(sql);
    blocker.wait().unwrap();
    let ran = || {
        crate::accounting::psql(&db.url, "SELECT job, day, instance FROM job_run")
            .trim()
            .to_owned()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while ran().is_empty() {
        assert!(
            Instant::now() < deadline,
            "never taken over:\n{}",
            other.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let today = chrono::Utc::now().date_naive();
    assert!(
        ran().starts_with(&format!("daily|{today}|")) && ran().ends_with(&format!(":{survivor}")),
        "run once, by the survivor: {}",
        ran()
    );
    assert!(other.log().contains("daily billing run"), "{}", other.log());
}

/// Runs ispd on `config` (a file written in `dir`) and returns its output once it exits, or
/// `None` if it is still running after 10 s (then killed).
fn run_to_exit(dir: &std::path::Path, config: &str) -> Option<String> {
    let path = dir.join("other.toml");
    std::fs::write(&path, config).unwrap();
    let mut child = std::process::Command::new(crate::daemon::ISPD)
        .arg("--config")
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            return Some(format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A second daemon with a state directory of its own, on the first one's database by
/// `[database] url`, is refused too. Found probing from outside: it ran, sealed a password
/// with a key of its own, and the first could not start again.
#[test]
fn a_second_daemon_on_the_same_sqlite_file_is_refused() {
    let d = Daemon::start("sqlite-single-url", "");
    let other_state = d.dir.0.join("other-state");
    let config = format!(
        "{}[database]\nurl = \"sqlite://{}\"\n",
        crate::daemon::base_config(&other_state),
        d.state_dir.join("ispd.db").display()
    );
    let text = run_to_exit(&d.dir.0, &config).expect("refused, not running");
    assert!(
        text.contains("another ispd") && text.contains("ispd.db"),
        "{text}"
    );
    assert!(!other_state.join("secret.key").exists(), "nothing made");
    assert!(d.ispctl(&["nas", "list"]).status.success());
}

/// A state directory with its seal key but no database held one: the start is refused,
/// saying how to go on, instead of beginning an empty ISP. Found probing from outside: after
/// the database was deleted, the next start created an empty one and a new admin token.
#[test]
fn a_state_directory_whose_database_is_gone_is_refused() {
    let mut d = Daemon::start("sqlite-lost", "");
    crate::accounting::add_login(&d);
    d.stop();
    let token = std::fs::read_to_string(d.state_dir.join("admin.token")).unwrap();
    for file in ["ispd.db", "ispd.db-wal", "ispd.db-shm"] {
        let _ = std::fs::remove_file(d.state_dir.join(file));
    }
    let config = std::fs::read_to_string(&d.config_path).unwrap();
    let text = run_to_exit(&d.dir.0, &config).expect("refused, not running");
    assert!(
        text.contains("is missing") && text.contains("Backup and restore"),
        "{text}"
    );
    assert!(
        !d.state_dir.join("ispd.db").exists(),
        "no empty database made"
    );
    assert_eq!(
        std::fs::read_to_string(d.state_dir.join("admin.token")).unwrap(),
        token,
        "the admin token kept"
    );
}

/// A database file that is not one is named at once, not after seconds of "pool timed out".
/// Found probing from outside.
#[test]
fn a_database_file_that_is_not_one_is_named_at_the_start() {
    let dir = crate::daemon::TempDir::new("not-a-database");
    let state = dir.0.join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("ispd.db"),
        "these are not the pages of a database",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let text = run_to_exit(&dir.0, &crate::daemon::base_config(&state)).expect("refused");
    assert!(text.contains("is not a SQLite database"), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
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
