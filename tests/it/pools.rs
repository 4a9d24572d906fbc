//! Address pools ispd hands out itself (`[[pool]]`): a tariff's Framed-Pool naming one is
//! answered with a Framed-IP-Address from it, never a login's static address, kept per device,
//! released by the session's Stop, held again after a restart; `ispctl pool list` shows it all.

use crate::daemon::{Daemon, stdout};
use crate::radius::{SECRET, radclient, radius_daemon, received, reply_lines};

/// Three addresses for every NAS, the middle one login novak's static address; a second pool
/// of the same name only for another NAS.
const POOLS: &str = "[[pool]]\nname = \"customers\"\nranges = [\"100.64.0.9-100.64.0.11\"]\n\
                     [[pool]]\nname = \"customers\"\nnas = [\"elsewhere\"]\n\
                     ranges = [\"100.65.0.0/30\"]\n";

fn pooled_logins(d: &Daemon) {
    d.ispctl_json(&[
        "tariff",
        "add",
        "--name",
        "Pooled",
        "--down",
        "10M",
        "--up",
        "1M",
        "--price",
        "199",
        "--framed-pool",
        "customers",
    ]);
    let sub = d.subscribe("100", "Pooled", "2026-01-01");
    for user in ["p1", "p2", "p3"] {
        d.ispctl_json(&[
            "login",
            "add",
            "--subscription",
            &sub,
            "--username",
            user,
            "--password",
            "arctangent",
        ]);
    }
}

/// The Access-Request's answer: its code (`Access-Accept`) and its attribute lines.
fn answer(d: &Daemon, user: &str, device: &str) -> (String, Vec<String>) {
    let out = radclient(
        d,
        "auth",
        SECRET,
        &format!(
            "User-Name = \"{user}\", User-Password = \"arctangent\", \
             Calling-Station-Id = \"{device}\", Message-Authenticator = 0x00\n"
        ),
    );
    let lines = reply_lines(&out);
    assert!(
        !lines.iter().any(|l| l.starts_with("Framed-Pool")),
        "a pool of ispd's is never passed to the NAS by name: {lines:?}"
    );
    let code = received(&out)
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (code, lines)
}

/// The answer's code and the value of its attribute `name`.
fn answered(d: &Daemon, user: &str, device: &str, name: &str) -> (String, Option<String>) {
    let (code, lines) = answer(d, user, device);
    let prefix = format!("{name} = ");
    let value = lines
        .iter()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map(str::to_owned);
    (code, value)
}

/// The answer's code and the address it carries.
fn ask(d: &Daemon, user: &str, device: &str) -> (String, Option<String>) {
    answered(d, user, device, "Framed-IP-Address")
}

fn account(d: &Daemon, status: &str, user: &str, device: &str, ip: &str) {
    account_with(
        d,
        status,
        user,
        device,
        &format!("Framed-IP-Address = {ip}"),
    );
}

/// An Accounting-Request of `user`'s session carrying `address` (an attribute and its value).
fn account_with(d: &Daemon, status: &str, user: &str, device: &str, address: &str) {
    let out = d.radclient(
        "acct",
        "acct",
        SECRET,
        &format!(
            "User-Name = \"{user}\", Acct-Status-Type = {status}, Acct-Session-Id = \"{user}-1\", \
             {address}, Calling-Station-Id = \"{device}\"\n"
        ),
    );
    assert!(
        stdout(&out).contains("Received Accounting-Response"),
        "{}",
        stdout(&out)
    );
}

fn usage(d: &Daemon) -> serde_json::Value {
    let pools = d.ispctl_json(&["pool", "list"]);
    pools["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["nas"].as_array().is_some_and(Vec::is_empty))
        .unwrap()
        .clone()
}

fn counts(pool: &serde_json::Value) -> [u64; 5] {
    ["size", "offered", "in_use", "reserved", "free"].map(|k| pool[k].as_u64().unwrap())
}

#[test]
fn a_pool_hands_out_addresses_keeps_them_per_device_and_takes_them_back() {
    let mut d = radius_daemon("pools", POOLS);
    pooled_logins(&d);
    let accept = |address: &str| ("Access-Accept".to_owned(), Some(address.to_owned()));
    assert_eq!(
        ask(&d, "p1", "02-00-00-00-00-01").1.as_deref(),
        Some("100.64.0.9")
    );
    // A reconnect from the same device gets its address back; another device the next one,
    // past novak's static 100.64.0.10.
    assert_eq!(ask(&d, "p1", "02-00-00-00-00-01"), accept("100.64.0.9"));
    assert_eq!(ask(&d, "p2", "02-00-00-00-00-02"), accept("100.64.0.11"));
    let (code, address) = ask(&d, "p3", "02-00-00-00-00-03");
    assert!(
        code.contains("Access-Reject"),
        "the pool is exhausted: {code}"
    );
    assert_eq!(address, None);
    let listed = d.ispctl(&["pool", "list"]);
    assert!(
        stdout(&listed).contains("100.64.0.9-100.64.0.11"),
        "{}",
        stdout(&listed)
    );
    assert_eq!(counts(&usage(&d)), [3, 2, 0, 1, 0]);
    // The session starts: in use; it stops: free again, and p3 gets it.
    account(&d, "Start", "p1", "02-00-00-00-00-01", "100.64.0.9");
    assert_eq!(counts(&usage(&d)), [3, 1, 1, 1, 0]);
    account(&d, "Stop", "p1", "02-00-00-00-00-01", "100.64.0.9");
    assert_eq!(ask(&d, "p3", "02-00-00-00-00-03"), accept("100.64.0.9"));
    // p3's session runs across a restart: its address is held again from the stored session;
    // and p2's offer, whose Start has not come yet, is kept by a clean stop: not offered to
    // another login after the start (two routers on one address).
    account(&d, "Start", "p3", "02-00-00-00-00-03", "100.64.0.9");
    d.stop();
    d.spawn();
    assert_eq!(counts(&usage(&d)), [3, 1, 1, 1, 0]);
    let (code, _) = ask(&d, "p1", "02-00-00-00-00-01");
    assert!(code.contains("Access-Reject"), "still exhausted: {code}");
    assert_eq!(ask(&d, "p2", "02-00-00-00-00-02"), accept("100.64.0.11"));
    account(&d, "Start", "p2", "02-00-00-00-00-02", "100.64.0.11");
    assert_eq!(counts(&usage(&d)), [3, 0, 2, 1, 0]);
}

/// Accounting out of order: an Interim sent before the session's Stop and delivered after
/// it held the address again for a session that was over — a pool ran dry so — and a NAS's
/// Accounting-On (every session of it over) freed nothing until the stale time. Found by
/// probing from outside; both failed before.
#[test]
fn a_late_interim_holds_nothing_and_a_nas_reboot_frees_its_addresses() {
    let d = radius_daemon("pools-late", POOLS);
    pooled_logins(&d);
    let now = chrono::Utc::now().timestamp();
    let at = |ip: &str, seconds: i64| {
        format!(
            "Framed-IP-Address = {ip}, Event-Timestamp = {}",
            now + seconds
        )
    };
    let (p1, p2) = ("02-00-00-00-00-01", "02-00-00-00-00-02");
    assert_eq!(ask(&d, "p1", p1).1.as_deref(), Some("100.64.0.9"));
    account_with(&d, "Start", "p1", p1, &at("100.64.0.9", -30));
    account_with(&d, "Stop", "p1", p1, &at("100.64.0.9", -10));
    account_with(&d, "Interim-Update", "p1", p1, &at("100.64.0.9", -20));
    assert_eq!(
        counts(&usage(&d)),
        [3, 0, 0, 1, 2],
        "the late Interim holds nothing"
    );

    for (user, device) in [("p1", p1), ("p2", p2)] {
        let (code, address) = ask(&d, user, device);
        assert_eq!(code, "Access-Accept");
        account_with(&d, "Start", user, device, &at(&address.unwrap(), -5));
    }
    assert_eq!(counts(&usage(&d)), [3, 0, 2, 1, 0]);
    let out = d.radclient(
        "acct",
        "acct",
        SECRET,
        &format!(
            "Acct-Status-Type = Accounting-On, NAS-Identifier = \"x\", Event-Timestamp = {now}\n"
        ),
    );
    assert!(stdout(&out).contains("Received Accounting-Response"));
    assert_eq!(
        counts(&usage(&d)),
        [3, 0, 0, 1, 2],
        "the reboot ended both sessions"
    );
    assert_eq!(ask(&d, "p3", "02-00-00-00-00-03").0, "Access-Accept");
}

/// Ten IPv4 addresses and a /54 cut into four /56s, the second of them the static prefix
/// login p2 is given.
const DUAL: &str = "[[pool]]\nname = \"customers\"\nranges = [\"100.64.0.20-100.64.0.29\"]\n\
                    prefixes = [\"2001:db8:100::/54\"]\nprefix_length = 56\n";

/// The answer's code and the delegated prefix it carries.
fn ask_prefix(d: &Daemon, user: &str, device: &str) -> (String, Option<String>) {
    answered(d, user, device, "Delegated-IPv6-Prefix")
}

fn account_prefix(d: &Daemon, status: &str, user: &str, device: &str, prefix: &str) {
    account_with(
        d,
        status,
        user,
        device,
        &format!("Delegated-IPv6-Prefix = {prefix}"),
    );
}

fn prefix_counts(pool: &serde_json::Value) -> [u64; 5] {
    [
        "prefix_size",
        "prefixes_offered",
        "prefixes_in_use",
        "prefixes_reserved",
        "prefixes_free",
    ]
    .map(|k| pool[k].as_u64().unwrap())
}

#[test]
fn a_pool_delegates_ipv6_prefixes_beside_addresses_never_a_static_one() {
    let mut d = radius_daemon("pools-v6", DUAL);
    pooled_logins(&d);
    d.ispctl_json(&[
        "login",
        "edit",
        "p2",
        "--ipv6-prefix",
        "2001:db8:100:100::/56",
    ]);
    // p1 gets the first /56 with its address; p2 its own static prefix, none from the pool;
    // p3 the third, past p2's.
    let (code, first) = ask_prefix(&d, "p1", "02-00-00-00-00-01");
    assert_eq!(
        (code.as_str(), first.as_deref()),
        ("Access-Accept", Some("2001:db8:100::/56"))
    );
    assert_eq!(
        ask(&d, "p1", "02-00-00-00-00-01").1.as_deref(),
        Some("100.64.0.20")
    );
    assert_eq!(
        ask_prefix(&d, "p2", "02-00-00-00-00-02").1.as_deref(),
        Some("2001:db8:100:100::/56")
    );
    assert_eq!(
        ask_prefix(&d, "p3", "02-00-00-00-00-03").1.as_deref(),
        Some("2001:db8:100:200::/56")
    );
    let listed = d.ispctl(&["pool", "list"]);
    assert!(
        stdout(&listed).contains("2001:db8:100::/54 in /56s"),
        "{}",
        stdout(&listed)
    );
    assert_eq!(prefix_counts(&usage(&d)), [4, 2, 0, 1, 1]);
    // p1's session starts with its prefix: in use, and held again across a restart; p3's
    // offer, whose Start has not come, is kept by the clean stop.
    account_prefix(&d, "Start", "p1", "02-00-00-00-00-01", "2001:db8:100::/56");
    d.stop();
    d.spawn();
    assert_eq!(prefix_counts(&usage(&d)), [4, 1, 1, 1, 1]);
    assert_eq!(
        ask_prefix(&d, "p3", "02-00-00-00-00-03").1.as_deref(),
        Some("2001:db8:100:200::/56"),
        "after the restart p3 gets its offer again, not p1's"
    );
    // Its Stop frees it.
    account_prefix(&d, "Stop", "p1", "02-00-00-00-00-01", "2001:db8:100::/56");
    assert_eq!(prefix_counts(&usage(&d))[2], 0);
}

/// Two instances on one PostgreSQL: the Accept from A, the session's accounting only to B
/// (the NAS's accounting server list in another order). A holds the address it offered once
/// B has heard the session — before, A heard nothing, let the offer lapse after a minute and
/// could hand the address to another login while the session held it.
#[test]
fn an_address_offered_here_is_held_when_its_accounting_goes_to_another_instance() {
    let Some(db) = crate::daemon::PgDatabase::create("pool_follow") else {
        return;
    };
    let database = crate::daemon::database_section(Some(&db));
    let a = radius_daemon("pools-follow-a", &format!("{database}{POOLS}"));
    pooled_logins(&a);
    let nas = format!(
        "[[nas]]\nname = \"mt-core\"\naddress = \"127.0.0.1\"\nsecret = \"{SECRET}\"\nvendor = \"mikrotik\"\n"
    );
    let b = Daemon::start_beside("pools-follow-b", &format!("{database}{nas}"), &a);
    let (code, ip) = ask(&a, "p1", "d1");
    assert_eq!(code, "Access-Accept");
    let ip = ip.expect("an address from the pool");
    assert_eq!(counts(&usage(&a))[1..3], [1, 0], "offered, not yet in use");
    account(&b, "Start", "p1", "d1", &ip);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while counts(&usage(&a))[2] != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "A never held the address B heard: {}",
            usage(&a)
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert_eq!(counts(&usage(&a))[1], 0, "no longer merely offered");
}

/// One device, its MAC written three ways: one address (found probing from outside: each
/// notation took another, so one login could drain a pool).
#[test]
fn a_device_is_one_device_in_any_mac_notation() {
    let d = radius_daemon("pools-notation", POOLS);
    pooled_logins(&d);
    let (code, first) = ask(&d, "p1", "02:00:00:00:00:44");
    assert_eq!(code, "Access-Accept");
    for notation in ["02-00-00-00-00-44", "0200.0000.0044", "020000000044"] {
        assert_eq!(ask(&d, "p1", notation).1, first, "{notation}");
    }
    assert_eq!(counts(&usage(&d))[1], 1, "one offer: {}", usage(&d));
}

/// Found probing from outside: a login with an extra Framed-IP-Address on a pool's tariff got
/// the pool's address as well (two Framed-IP-Address in one Accept, and an offer held for
/// nothing), and the pool handed the extra's address to another login. The extra is the
/// login's own address, as a static one is: the login takes none from the pool, and the
/// pool never gives it to another.
#[test]
fn an_extra_address_is_the_logins_own_never_the_pools() {
    let d = radius_daemon("pools-extra", POOLS);
    pooled_logins(&d);
    d.ispctl_json(&[
        "login",
        "edit",
        "p1",
        "--attr",
        "Framed-IP-Address=100.64.0.9",
    ]);
    let (code, lines) = answer(&d, "p1", "02-00-00-00-00-01");
    assert_eq!(code, "Access-Accept");
    let addresses: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("Framed-IP-Address"))
        .collect();
    assert_eq!(addresses, ["Framed-IP-Address = 100.64.0.9"], "{lines:?}");
    // The pool's first address is the extra's: p2 and p3 get the others (novak's static one
    // is not in this pool's range).
    let given: Vec<Option<String>> = [("p2", "02-00-00-00-00-02"), ("p3", "02-00-00-00-00-03")]
        .iter()
        .map(|(user, device)| ask(&d, user, device).1)
        .collect();
    assert!(
        !given.contains(&Some("100.64.0.9".to_owned())),
        "the extra's address handed out again: {given:?}"
    );
    // Nor may another login take it, as a static address or an extra.
    for (args, field) in [
        (
            ["login", "edit", "p2", "--ipv4", "100.64.0.9"],
            "login.ipv4",
        ),
        (
            [
                "login",
                "edit",
                "p3",
                "--attr",
                "Framed-IP-Address=100.64.0.9",
            ],
            "login.attributes[0]",
        ),
    ] {
        let out = d.ispctl(&args);
        let err = crate::daemon::stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(field) && err.contains("already used by login p1"),
            "{args:?}: {err}"
        );
    }
}

/// Found probing from outside: a reload that shrank a pool past an online session's address
/// forgot its lease, and the next reload growing the pool back handed that address to
/// another login while the session held it. A reload holds the open sessions' addresses
/// again, as a start does.
#[test]
fn a_reload_never_hands_out_an_online_sessions_address() {
    let d = radius_daemon("pools-reload", POOLS);
    pooled_logins(&d);
    let (code, held) = ask(&d, "p1", "02-00-00-00-00-01");
    assert_eq!(
        (code.as_str(), held.as_deref()),
        ("Access-Accept", Some("100.64.0.9"))
    );
    account(&d, "Start", "p1", "02-00-00-00-00-01", "100.64.0.9");
    let config = std::fs::read_to_string(&d.config_path).unwrap();
    let reload = |text: String| {
        std::fs::write(&d.config_path, text).unwrap();
        let before = d.log().matches("configuration reloaded").count();
        d.signal("HUP");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while d.log().matches("configuration reloaded").count() == before {
            assert!(std::time::Instant::now() < deadline, "{}", d.log());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    reload(config.replace("100.64.0.9-100.64.0.11", "100.64.0.10-100.64.0.11"));
    reload(config);
    for (user, device) in [("p2", "02-00-00-00-00-02"), ("p3", "02-00-00-00-00-03")] {
        let (_, given) = ask(&d, user, device);
        assert_ne!(
            given.as_deref(),
            Some("100.64.0.9"),
            "{user} got the online session's address"
        );
    }
}
