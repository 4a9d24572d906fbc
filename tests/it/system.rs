//! `ispctl system …`: the status of the instance that answers, and `backup` — a consistent
//! copy of the SQLite database taken while accounting pours in, restored into a new state
//! directory, started, and compared with what was acknowledged before the copy began.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use ispd_radius::PacketRef;

use crate::accounting::{SECRET, acct_config, acct_daemon, novak_start};
use crate::daemon::{Daemon, stderr};

#[test]
fn status_shows_what_the_instance_is_doing() {
    let d = acct_daemon("status", "");
    let socket = crate::accounting::acct_socket(&d, Duration::from_secs(5));
    let mut buf = [0u8; 4096];
    for i in 0..20u32 {
        let start = novak_start(i as u8, &format!("s{i}"));
        socket.send(&start).unwrap();
        socket.recv(&mut buf).expect("every Start is answered");
    }
    for _ in 0..3 {
        crate::radius::radclient(
            &d,
            "auth",
            SECRET,
            "User-Name = \"novak\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n",
        );
    }
    let status = d.ispctl_json(&["system", "status"]);
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(status["database"], "sqlite");
    assert!(status["database_bytes"].as_i64().unwrap() > 0, "{status}");
    assert_eq!(status["access_cache_logins"], 1, "novak");
    assert_eq!(status["open_sessions"], 20);
    assert!(
        status["accounting_per_second"].as_f64().unwrap() > 0.0,
        "{status}"
    );
    assert!(
        status["auth_per_second"].as_f64().unwrap() > 0.0,
        "{status}"
    );
    assert_eq!(status["spool_bytes"], 0);
    assert_eq!(status["daily_run_day"], "never", "run_at is off");
    assert!(status["uptime_seconds"].as_i64().unwrap() >= 0);
    let loaded = status["config_loaded_at"].as_str().unwrap().to_owned();
    assert_eq!(loaded, status["started_at"].as_str().unwrap());
    assert!(
        status["instance"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{}", d.pid())),
        "{status}"
    );
    // A reload is dated.
    std::thread::sleep(Duration::from_millis(20));
    d.signal("HUP");
    d.wait_for_log("configuration reloaded");
    let after = d.ispctl_json(&["system", "status"]);
    assert!(
        after["config_loaded_at"].as_str().unwrap() > loaded.as_str(),
        "{after}"
    );
}

/// ispd down at its run time (a reboot at night, an upgrade) still runs the day's jobs — the
/// scheduled changes, the billing run, the dunning run — once it starts that day, and only
/// once.
#[test]
fn the_daily_jobs_missed_while_stopped_run_at_the_start() {
    let mut d = Daemon::start("missed-daily", "");
    d.stop();
    // Midnight has always passed today; the daemon was not running then.
    let config = std::fs::read_to_string(&d.config_path)
        .unwrap()
        .replace("run_at = \"\"", "run_at = \"00:00\"\ntimezone = \"UTC\"");
    std::fs::write(&d.config_path, config).unwrap();
    d.spawn();
    let today = chrono::Utc::now().date_naive().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = d.ispctl_json(&["system", "status"]);
        if status["daily_run_day"] == today.as_str() {
            assert!(
                status["daily_run_outcome"]
                    .as_str()
                    .is_some_and(|o| o.contains("billing") && o.contains("dunning")),
                "{status}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "today's jobs never ran: {status}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(d.log().contains("running them now"), "{}", d.log());
    // Started again the same day: they ran already.
    d.stop();
    d.spawn();
    std::thread::sleep(Duration::from_secs(2));
    assert!(!d.log().contains("daily billing run"), "{}", d.log());
}

/// A daily job that fails — here the database refuses the billing run's invoices, as a full
/// disk or a database away at the run time would — is tried again that day until it
/// succeeds, instead of waiting for tomorrow with the day recorded as run.
#[test]
fn a_daily_job_that_fails_is_tried_again_the_same_day() {
    let mut d = Daemon::start("daily-retry", "");
    d.add_client("1001");
    d.add_tariff("Fiber", "499.00");
    d.subscribe("1001", "Fiber", "2026-11-10");
    d.stop();
    let refuse = "CREATE TRIGGER refuse BEFORE INSERT ON invoice \
                  BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END";
    d.query(refuse);
    let config = std::fs::read_to_string(&d.config_path)
        .unwrap()
        .replace("run_at = \"\"", "run_at = \"00:00\"\ntimezone = \"UTC\"");
    std::fs::write(&d.config_path, config).unwrap();
    d.spawn();
    d.wait_for_log("daily job billing failed");
    let invoices =
        |d: &Daemon| d.ispctl_json(&["invoice", "list", "--client", "1001"])["items"].clone();
    assert_eq!(invoices(&d).as_array().map(Vec::len), Some(0));

    d.query("DROP TRIGGER refuse");
    let deadline = Instant::now() + Duration::from_secs(30);
    while invoices(&d).as_array().map_or(0, Vec::len) == 0 {
        assert!(
            Instant::now() < deadline,
            "the billing run never tried again:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let today = chrono::Utc::now().date_naive().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = d.ispctl_json(&["system", "status"]);
        if status["daily_run_day"] == today.as_str() {
            let outcome = status["daily_run_outcome"].as_str().unwrap_or_default();
            assert!(
                outcome.contains("billing: 1 documents") && !outcome.contains("FAILED"),
                "{status}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "the day not recorded: {status}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every metric the shipped Grafana dashboard and Prometheus alert rules name is in a live
/// scrape of a daemon that has taken one Start and one Access-Request.
#[test]
fn the_dashboard_and_the_alerts_name_only_exported_metrics() {
    let d = Daemon::start_with(
        "metrics-contrib",
        &acct_config("\n[metrics]\nlisten = \"127.0.0.1:0\""),
    );
    crate::accounting::add_login(&d);
    // An Accept first: the Start then takes the login's one session.
    crate::radius::radclient(
        &d,
        "auth",
        SECRET,
        "User-Name = \"novak\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n",
    );
    crate::radius::radclient(
        &d,
        "auth",
        SECRET,
        "User-Name = \"novak\", User-Password = \"wrong\", Message-Authenticator = 0x00\n",
    );
    let socket = crate::accounting::acct_socket(&d, Duration::from_secs(5));
    socket.send(&novak_start(1, "m1")).unwrap();
    socket
        .recv(&mut [0u8; 4096])
        .expect("the Start is answered");
    let scrape = crate::faults::metrics(&d);
    // Each answer timed, receive to reply; each reject counted by its reason.
    for line in [
        "ispd_radius_auth_latency_seconds_count 2",
        "ispd_radius_acct_latency_seconds_count 1",
        "ispd_radius_auth_latency_seconds_bucket{le=\"+Inf\"} 2",
        "ispd_radius_reject_reasons_total{nas=\"bras\",reason=\"bad_credential\"} 1",
        "ispd_radius_reject_reasons_total{nas=\"bras\",reason=\"unknown_user\"} 0",
    ] {
        assert!(scrape.lines().any(|l| l == line), "{line}:\n{scrape}");
    }
    let version = env!("CARGO_PKG_VERSION");
    let commit = option_env!("ISPD_GIT_COMMIT").unwrap_or("unknown");
    let build = format!("ispd_build_info{{version=\"{version}\",commit=\"{commit}\"}} 1");
    assert!(scrape.lines().any(|l| l == build), "{build}:\n{scrape}");
    let exported: HashSet<&str> = scrape
        .lines()
        .filter(|l| l.starts_with("ispd_"))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dashboard = std::fs::read_to_string(root.join("contrib/grafana/ispd.json")).unwrap();
    let _: serde_json::Value = serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    let alerts = std::fs::read_to_string(root.join("contrib/prometheus/ispd-alerts.yml")).unwrap();
    let mut named = 0;
    for text in [&dashboard, &alerts] {
        for name in metric_names(text) {
            named += 1;
            assert!(exported.contains(name), "{name} is not exported:\n{scrape}");
        }
    }
    assert!(named > 20, "{named}");
    // Per NAS, labelled by its name.
    assert!(
        scrape.contains("ispd_radius_answers_total{nas=\"bras\",answer=\"accept\"} 1"),
        "{scrape}"
    );
    assert!(
        scrape.contains("ispd_open_sessions{nas=\"bras\"} 1"),
        "{scrape}"
    );
}

/// The `ispd_…` names in a text, whole words only.
fn metric_names(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("ispd_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(tail.len());
        let boundary = at == 0 || !rest[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        if boundary {
            names.push(&tail[..end]);
        }
        rest = &tail[end..];
    }
    names
}

#[test]
fn a_backup_under_accounting_load_restores_what_was_acknowledged() {
    let _machine = crate::daemon::timed();
    let d = acct_daemon("backup", "");
    // A second login with no sessions: the restored daemon must open its sealed password.
    let subscription = crate::enforcement::subscription_id(&d);
    d.ispctl_json(&[
        "login",
        "add",
        "--subscription",
        &subscription,
        "--username",
        "svoboda",
        "--password",
        "sealed-secret",
    ]);
    let file = d.dir.0.join("ispd-backup.db");
    let daemon = &d;
    let (acked_before, backup) = std::thread::scope(|scope| {
        let mut backup = None;
        let acked_before = load_with(daemon, |acked| {
            let args = ["--json", "system", "backup", file.to_str().unwrap()];
            backup = Some(scope.spawn(move || daemon.ispctl(&args)));
            acked.clone()
        });
        (
            acked_before,
            backup.expect("the backup ran").join().unwrap(),
        )
    });
    assert!(
        backup.status.success(),
        "ispctl system backup: {}",
        stderr(&backup)
    );
    let answer: serde_json::Value = serde_json::from_slice(&backup.stdout).unwrap();
    let key_file = d.dir.0.join("ispd-backup.db.key");
    assert_eq!(answer["file"], file.display().to_string());
    assert_eq!(answer["key_file"], key_file.display().to_string());
    assert_eq!(
        answer["bytes"].as_u64(),
        Some(std::fs::metadata(&file).unwrap().len())
    );
    assert!(stderr(&backup).contains("seal key"), "{}", stderr(&backup));
    for f in [&file, &key_file] {
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    assert_eq!(
        std::fs::read(&key_file).unwrap(),
        std::fs::read(d.state_dir.join("secret.key")).unwrap()
    );
    assert!(
        !leftovers(&d.state_dir),
        "the copy in the state directory is removed once sent"
    );
    assert_eq!(integrity(&file), "ok");

    // Restored into an empty state directory, started, compared.
    let mut restored = Daemon::configure_with("backup-restored", &acct_config(""));
    std::fs::create_dir_all(&restored.state_dir).unwrap();
    std::fs::copy(&file, restored.state_dir.join("ispd.db")).unwrap();
    std::fs::copy(&key_file, restored.state_dir.join("secret.key")).unwrap();
    std::fs::copy(
        d.state_dir.join("admin.token"),
        restored.state_dir.join("admin.token"),
    )
    .unwrap();
    restored.spawn();
    let sessions: HashMap<String, String> = restored
        .query("SELECT acct_session_id, COUNT(*) FROM session GROUP BY acct_session_id")
        .iter()
        .map(|row| {
            let (id, count) = row.split_once('|').unwrap();
            (id.to_owned(), count.to_owned())
        })
        .collect();
    for i in &acked_before {
        assert_eq!(
            sessions.get(&format!("b{i}")).map(String::as_str),
            Some("1"),
            "b{i} was acknowledged before the backup began"
        );
    }
    assert!(acked_before.len() >= 300, "{}", acked_before.len());
    assert_eq!(
        restored.ispctl_json(&["client", "list"]),
        d.ispctl_json(&["client", "list"])
    );
    // Passwords are sealed: only the copied key opens them.
    let auth = crate::radius::radclient(
        &restored,
        "auth",
        SECRET,
        "User-Name = \"svoboda\", User-Password = \"sealed-secret\", Message-Authenticator = 0x00\n",
    );
    assert!(
        crate::radius::received(&auth).contains("Access-Accept"),
        "{}",
        crate::daemon::stdout(&auth)
    );

    // An existing file is not overwritten without --force.
    let before = std::fs::read(&file).unwrap();
    let again = d.ispctl(&["system", "backup", file.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // Found probing from outside: a key file in the way was refused only after the copy was
    // written, and a directory named with --force left its `.partial` behind. A refused call
    // leaves nothing.
    let fresh = d.dir.0.join("fresh.db");
    std::fs::write(d.dir.0.join("fresh.db.key"), "important").unwrap();
    let refused = d.ispctl(&["system", "backup", fresh.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("fresh.db.key"),
        "{}",
        stderr(&refused)
    );
    assert!(!fresh.exists(), "no copy written");
    let dir = d.dir.0.join("a-directory");
    std::fs::create_dir(&dir).unwrap();
    let refused = d.ispctl(&["system", "backup", dir.to_str().unwrap(), "--force"]);
    assert!(!refused.status.success());
    assert!(
        !d.dir.0.join("a-directory.partial").exists(),
        "nothing left behind"
    );
}

#[test]
fn a_backup_of_postgres_is_refused_and_names_pg_dump() {
    let Some(db) = crate::daemon::PgDatabase::create("backup") else {
        return;
    };
    let d = Daemon::start("backup-pg", &crate::daemon::database_section(Some(&db)));
    let file = d.dir.0.join("never.db");
    let out = d.ispctl(&["system", "backup", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("pg_dump"), "{}", stderr(&out));
    assert!(!file.exists());
    assert!(!Path::new(&format!("{}.partial", file.display())).exists());
}

/// A backup named onto the live database (found by probing from outside: with --force it was
/// renamed over ispd.db, the daemon went on writing to the unlinked file, and the next start
/// found the database malformed) — or anywhere in the state directory — is refused, and the
/// database is untouched.
#[test]
fn a_backup_into_the_state_directory_is_refused() {
    let d = Daemon::start("backup-onto-live", "");
    crate::accounting::add_login(&d);
    let db = d.state_dir.join("ispd.db");
    let before = std::fs::metadata(&db).unwrap().ino();
    for target in [db.clone(), d.state_dir.join("copy.db")] {
        let out = d.ispctl(&["system", "backup", target.to_str().unwrap(), "--force"]);
        assert!(!out.status.success(), "{target:?} refused");
        assert!(stderr(&out).contains("state directory"), "{}", stderr(&out));
        assert!(!Path::new(&format!("{}.partial", target.display())).exists());
    }
    assert!(!d.state_dir.join("copy.db").exists());
    assert_eq!(
        std::fs::metadata(&db).unwrap().ino(),
        before,
        "ispd.db not replaced"
    );
    assert_eq!(
        d.ispctl_json(&["client", "list"])["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The state directory under another name, a bind mount of it (found probing from
    // outside: the guard compared paths).
    let bound = d.dir.0.join("bound");
    std::fs::create_dir(&bound).unwrap();
    let mounted = std::process::Command::new("mount")
        .args([
            "--bind",
            d.state_dir.to_str().unwrap(),
            bound.to_str().unwrap(),
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(mounted, "a bind mount (the suite runs as root)");
    let out = d.ispctl(&[
        "system",
        "backup",
        bound.join("via-bind.db").to_str().unwrap(),
    ]);
    let _ = std::process::Command::new("umount").arg(&bound).status();
    assert!(!out.status.success(), "refused through a bind mount");
    assert!(stderr(&out).contains("state directory"), "{}", stderr(&out));
    assert!(!d.state_dir.join("via-bind.db").exists());
    // Elsewhere, as ever.
    let elsewhere = d.dir.0.join("ok.db");
    let out = d.ispctl(&["system", "backup", elsewhere.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A backup is a new private file whatever lies at its names: a symlink planted as
/// `FILE.partial` or `FILE.key` is replaced, not followed, and a leftover `.partial` of mode
/// 0644 does not lend the copy its permissions. Found probing from outside: the backup (run
/// as root) overwrote the link's target with the whole database, and a leftover `.partial`
/// left the copy world-readable.
#[test]
fn a_backup_never_writes_through_a_file_already_at_its_names() {
    use std::os::unix::fs::PermissionsExt;
    let d = Daemon::start("backup-planted", "");
    crate::accounting::add_login(&d);
    let victim = d.dir.0.join("victim");
    std::fs::write(&victim, "victim").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let file = d.dir.0.join("planted.db");
    let name = |suffix: &str| format!("{}{suffix}", file.display());
    std::os::unix::fs::symlink(&victim, name(".partial")).unwrap();
    std::os::unix::fs::symlink(&victim, name(".key")).unwrap();
    let out = d.ispctl(&["system", "backup", file.to_str().unwrap(), "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "victim");
    for written in [name(""), name(".key")] {
        let meta = std::fs::symlink_metadata(&written).unwrap();
        assert!(meta.file_type().is_file(), "{written} a file of its own");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{written}");
    }
    // A leftover `.partial` of another mode.
    let other = d.dir.0.join("leftover.db");
    let partial = format!("{}.partial", other.display());
    std::fs::write(&partial, "old").unwrap();
    std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = d.ispctl(&["system", "backup", other.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = std::fs::metadata(&other).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

/// Sends accounting Starts (64 in flight, at most 3,000 or 30 s) and calls `midway` once a
/// third of them is acknowledged, with the sessions acknowledged so far; returns what it
/// returned.
fn load_with(d: &Daemon, mut midway: impl FnMut(&HashSet<u32>) -> HashSet<u32>) -> HashSet<u32> {
    const N: u32 = 3000;
    const WINDOW: usize = 64;
    let socket = crate::accounting::acct_socket(d, Duration::from_millis(300));
    let start = |i: u32| novak_start((i % 256) as u8, &format!("b{i}"));
    let (mut acked, mut pending) = (HashSet::new(), HashMap::new());
    let (mut next, mut buf, mut seen) = (0u32, [0u8; 4096], None);
    let started = Instant::now();
    while (next < N || !pending.is_empty()) && started.elapsed() < Duration::from_secs(30) {
        while next < N && pending.len() < WINDOW {
            socket.send(&start(next)).unwrap();
            pending.insert((next % 256) as u8, next);
            next += 1;
        }
        if let Ok(n) = socket.recv(&mut buf)
            && let Some(i) = pending.remove(&PacketRef::decode(&buf[..n]).unwrap().identifier())
        {
            acked.insert(i);
        }
        if seen.is_none() && acked.len() as u32 >= N / 3 {
            seen = Some(midway(&acked));
        }
    }
    seen.expect("a third of the load was acknowledged")
}

fn leftovers(state_dir: &Path) -> bool {
    std::fs::read_dir(state_dir).unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("backup-")
    })
}

/// SQLite's own verdict on a database file, read by python3's sqlite3 module.
fn integrity(file: &Path) -> String {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])",
        ])
        .arg(file)
        .output()
        .unwrap();
    crate::daemon::stdout(&out).trim().to_owned()
}

/// Found probing from outside: a long admin call in flight at SIGTERM (a billing run, a
/// statement import) went on and committed while its caller was told the connection broke —
/// work done and reported failed — because the server's shutdown began under it. A clean
/// stop lets the call answer first, whole, then stops.
#[test]
fn a_call_in_flight_at_a_clean_stop_is_answered() {
    let _machine = crate::daemon::timed();
    let mut d = Daemon::start("stop-answers", "");
    // 60,000 payments nobody's: longer to record than the 5 s the connections get.
    let mut csv = String::from("ID;Datum;Objem;VS;Protiucet\n");
    for i in 0..60_000 {
        csv.push_str(&format!("B{i};05.10.2026;1,00;9{i};19-1/0800\n"));
    }
    let file = d.dir.0.join("big.csv");
    std::fs::write(&file, csv).unwrap();
    let mapping = d.dir.0.join("mapping.toml");
    std::fs::write(&mapping, crate::documents::MAPPING).unwrap();
    let import = std::process::Command::new(crate::daemon::ispctl())
        .arg("--state-dir")
        .arg(&d.state_dir)
        .args([
            "--json",
            "payment",
            "import",
            "--format",
            "csv",
            "--mapping",
        ])
        .arg(&mapping)
        .arg(&file)
        .env_remove("ISPD_TOKEN")
        .env_remove("ISPD_SERVER")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1_000));
    d.stop();
    let out = import.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the import was cut off: {}\n{}",
        stderr(&out),
        d.log()
    );
    let answered: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answered["recorded"], 60_000, "{answered}");
    assert!(
        d.log()
            .contains("waiting for the admin calls in flight to answer"),
        "the stop came after the call: the test tried nothing\n{}",
        d.log()
    );
    assert!(
        !d.state_dir.join("ispd.db-wal").exists(),
        "the stop left the database whole"
    );
}

/// Found probing from outside: SIGTERM during a billing run of 350,000 clients left the
/// daemon running the run 38 s past the signal (systemd SIGKILLs at 30 s), its caller told
/// only that the connection broke. The stop cuts the run short after the batch in hand: the
/// batches done are committed, the caller told so, the daemon gone within its budget, and
/// the next run issues the rest with numbers that leave no gap.
#[test]
fn a_billing_run_at_a_stop_is_cut_short_and_the_next_run_finishes_it() {
    const CLIENTS: usize = 30_000;
    let _machine = crate::daemon::timed();
    let mut d = Daemon::start("billing-cut", "");
    d.add_tariff("Fiber", "499");
    d.add_client("1");
    d.subscribe("1", "Fiber", "2026-11-01");
    d.stop();
    seed_copies_of_client_1(&d, CLIENTS);
    d.spawn();
    let run = std::process::Command::new(crate::daemon::ispctl())
        .arg("--state-dir")
        .arg(&d.state_dir)
        .args(["billing", "run", "--as-of", "2026-11-01"])
        .env_remove("ISPD_TOKEN")
        .env_remove("ISPD_SERVER")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let issued =
        |d: &Daemon| -> usize { d.query("SELECT COUNT(*) FROM invoice")[0].parse().unwrap() };
    // The first batch committed: the run is under way, most of it still to come.
    let deadline = Instant::now() + Duration::from_secs(60);
    while issued(&d) == 0 {
        assert!(
            Instant::now() < deadline,
            "no batch committed:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let signalled = Instant::now();
    d.stop();
    let took = signalled.elapsed();
    let out = run.wait_with_output().unwrap();
    let first = issued(&d);
    assert!(
        took < Duration::from_secs(8),
        "the stop took {took:?}, past what a batch takes:\n{}",
        d.log()
    );
    assert!(
        !out.status.success(),
        "the run was not cut short: {}",
        d.log()
    );
    let said = stderr(&out);
    assert!(
        said.contains("cut short by ispd's stop") && said.contains("run it again"),
        "{said}"
    );
    assert!(said.contains(&format!("after {first} documents")), "{said}");
    assert!(first < CLIENTS, "the whole run was issued ({first})");
    d.spawn();
    let rest = d.ispctl_json(&["billing", "run", "--as-of", "2026-11-01"]);
    assert_eq!(rest["count"], CLIENTS - first, "{}", rest["count"]);
    let numbers: Vec<u64> = d
        .query("SELECT number FROM invoice ORDER BY number")
        .iter()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(numbers.len(), CLIENTS);
    assert!(
        numbers.windows(2).all(|w| w[1] == w[0] + 1),
        "the numbers leave a gap"
    );
}

/// Clients 2..=`clients` as copies of client 1, each with a copy of its one subscription:
/// a large billing run written in a second, on the stopped daemon's SQLite.
fn seed_copies_of_client_1(d: &Daemon, clients: usize) {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            r#"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
n = int(sys.argv[2])
def columns(table):
    return [r[1] for r in c.execute(f"PRAGMA table_info({table})") if r[1] != "id"]
own = {"number": "CAST(n.i AS TEXT)", "number_numeric": "n.i",
       "name": "'Client ' || n.i", "name_folded": "'client ' || n.i"}
cols = columns("client")
c.execute(f"WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) "
          f"INSERT INTO client ({', '.join(cols)}) "
          f"SELECT {', '.join(own.get(x, 't.' + x) for x in cols)} FROM n CROSS JOIN client t WHERE t.number = '1'")
own = {"client_id": "c.id", "variable_symbol": "NULL"}
cols = columns("subscription")
c.execute(f"INSERT INTO subscription ({', '.join(cols)}) "
          f"SELECT {', '.join(own.get(x, 't.' + x) for x in cols)} FROM client c CROSS JOIN subscription t "
          f"WHERE c.number <> '1'")
c.commit()
"#,
        ])
        .arg(d.state_dir.join("ispd.db"))
        .arg(clients.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Found probing from outside: 20 idle HTTP/2 connections to the admin API held a stop 5 s
/// ("admin connections still open after the grace period"): the server closes a connection
/// only once its client acknowledged the goodbye, and a client that does not read never
/// does. Idle connections are closed at once.
#[test]
fn idle_admin_connections_do_not_delay_the_stop() {
    use std::io::Write;
    let _machine = crate::daemon::timed();
    let mut d = Daemon::start("stop-idle", "");
    let admin = d.ports["admin"].as_str().unwrap().to_owned();
    // The HTTP/2 preface and an empty SETTINGS frame, then nothing: never read, never acked.
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    hello.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    let idle: Vec<std::net::TcpStream> = (0..20)
        .map(|_| {
            let mut conn = std::net::TcpStream::connect(&admin).unwrap();
            conn.write_all(&hello).unwrap();
            conn
        })
        .collect();
    // A call answered on a connection of its own, so the server has served them all.
    d.ispctl_json(&["system", "status"]);
    let signalled = Instant::now();
    d.stop();
    let took = signalled.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "the stop took {took:?} with {} idle connections:\n{}",
        idle.len(),
        d.log()
    );
    assert!(
        !d.log().contains("still open after the grace period"),
        "{}",
        d.log()
    );
}

/// Found probing from outside: during a PostgreSQL outage `system status` failed after 10 s
/// ("database error") while accounting was spooling — when its spool figure matters most. It
/// answers what it knows, the spool first, and says the database did not answer.
#[test]
fn status_answers_during_a_database_outage_with_the_spool() {
    let Some(db) = crate::daemon::PgDatabase::create("status_outage") else {
        return;
    };
    let (proxy, via_proxy) = crate::accounting::Outage::in_front_of(&db.url);
    let d = acct_daemon(
        "status-outage",
        &format!("\n[database]\nurl = {via_proxy:?}"),
    );
    let socket = crate::accounting::acct_socket(&d, Duration::from_secs(8));
    let mut buf = [0u8; 4096];
    let mut send = |i: u32| {
        socket
            .send(&novak_start(i as u8, &format!("o{i}")))
            .unwrap();
        socket.recv(&mut buf).expect("acknowledged");
    };
    for i in 0..5 {
        send(i);
    }
    let before = d.ispctl_json(&["system", "status"]);
    assert_eq!(before["database_reachable"], "yes", "{before}");
    assert_eq!(before["open_sessions"], 5, "{before}");
    proxy.set_up(false);
    for i in 5..30 {
        send(i);
    }
    let asked = Instant::now();
    let during = d.ispctl_json(&["system", "status"]);
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
    assert_eq!(during["database_reachable"], "no", "{during}");
    assert!(during["spool_bytes"].as_i64().unwrap() > 0, "{during}");
    assert!(during["database_bytes"].is_null(), "{during}");
    assert!(during["open_sessions"].is_null(), "{during}");
    assert_eq!(during["database"], "postgres");
    assert_eq!(during["access_cache_logins"], 1, "{during}");
    proxy.set_up(true);
}
