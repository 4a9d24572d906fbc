use super::*;

/// Every key the example documents, uncommented, is a valid configuration: the example
/// cannot drift from the parser.
#[test]
fn the_documented_example_parses_with_every_key_set() {
    let example = include_str!("../../../systemd/ispd.toml.example");
    let uncommented: String = example
        .lines()
        .map(|line| {
            let body = line.strip_prefix('#').unwrap_or(line);
            let is_setting = body.starts_with('[')
                || body.split_once(" = ").is_some_and(|(k, _)| {
                    !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                });
            if line.starts_with('#') && is_setting {
                body
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config = Config::parse(&uncommented).unwrap_or_else(|e| panic!("{e:#}\n{uncommented}"));
    assert_eq!(
        config.billing.proration,
        ispd_billing::schedule::Proration::ByDays
    );
    assert_eq!(config.dunning.level.len(), 2);
    assert_eq!(config.nas.len(), 1);
    assert_eq!(
        config.radius.policy().juniper_service.as_deref(),
        Some("ispd-rate")
    );
}

#[test]
fn a_juniper_service_is_a_plain_profile_name() {
    for (name, ok) in [
        ("ispd-rate", true),
        ("", true),
        ("svc(1,2)", false),
        ("a b", false),
    ] {
        let text = format!("[radius]\njuniper_service = {name:?}\n");
        assert_eq!(Config::parse(&text).is_ok(), ok, "{name:?}");
    }
}

#[test]
fn empty_file_gives_documented_defaults() {
    let c = Config::parse("").unwrap();
    assert_eq!(c.state_dir, PathBuf::from("ispd-data"));
    assert_eq!(
        c.radius.auth_listen,
        vec!["127.0.0.1:1812".parse().unwrap()]
    );
    assert_eq!(
        c.radius.acct_listen,
        vec!["127.0.0.1:1813".parse().unwrap()]
    );
    assert_eq!(c.admin.listen, "127.0.0.1:50051".parse().unwrap());
    assert_eq!(c.database_url(), "sqlite://ispd-data/ispd.db");
    assert_eq!(c.billing.default_due_days, 14);
    assert_eq!(
        c.dunning.settings(),
        ispd_billing::dunning::DunningSettings::default()
    );
}

#[test]
fn dunning_keys() {
    let c = Config::parse(
        "[dunning]\nsuspend = false\nsuspend_min_amount = \"150.50\"\n\
         suspend_days_after_due = 30\n\
         [[dunning.level]]\ndays_after_due = 5\ndeadline_days = 10\nfee = \"0\"\n\
         [[dunning.level]]\ndays_after_due = 20\ndeadline_days = 7\nfee = 100\n\
         final_notice = true\n",
    )
    .unwrap();
    let s = c.dunning.settings();
    assert!(!s.suspend_enabled);
    assert_eq!(s.suspend_min_amount, "150.50".parse().unwrap());
    assert_eq!(s.suspend_days_after_due, 30);
    let levels: Vec<_> = s
        .levels
        .iter()
        .map(|l| {
            (
                l.level,
                l.days_after_due,
                l.deadline_days,
                l.fee,
                l.final_notice,
            )
        })
        .collect();
    assert_eq!(
        levels,
        [
            (1, 5, 10, Some(rust_decimal::Decimal::ZERO), false),
            (2, 20, 7, Some(rust_decimal::Decimal::ONE_HUNDRED), true)
        ]
    );
    assert_eq!(s.final_notice_level(), Some(2));
    // Only the ladder given: the other keys keep their defaults; `level = []` is silence.
    let c = Config::parse("[dunning]\nlevel = []\n").unwrap();
    assert!(c.dunning.level.is_empty() && c.dunning.suspend);
    let c = Config::parse("[dunning]\nsuspend_days_after_due = 40\n").unwrap();
    assert_eq!(c.dunning.level.len(), 2, "the default ladder");
}

#[test]
fn bad_dunning_values_name_the_key() {
    let level =
        |extra: &str| format!("[[dunning.level]]\ndays_after_due = 7\ndeadline_days = 7\n{extra}");
    for (text, key) in [
        (
            format!("{}{}", level(""), level("final_notice = true\n")).replace(
                "days_after_due = 7\ndeadline_days = 7\nfinal_notice",
                "days_after_due = 14\ndeadline_days = 7\nfinal_notice",
            ),
            "",
        ),
        (
            format!("{}{}", level("final_notice = true\n"), level("")).replacen(
                "days_after_due = 7",
                "days_after_due = 3",
                1,
            ),
            "dunning.level[0].final_notice",
        ),
        (level("fee = \"-5\"\n"), "dunning.level[0].fee"),
        (level("fee = \"0.001\"\n"), "dunning.level[0].fee"),
        (level("fee = 1.5\n"), "fee"),
        (level("fee = \"abc\"\n"), "fee"),
        (
            level("").replace("7\ndeadline", "0\ndeadline"),
            "dunning.level[0].days_after_due",
        ),
        (
            format!("{}{}", level(""), level("")),
            "dunning.level[1].days_after_due",
        ),
        (level("grace = 3\n"), "grace"),
        (
            "[dunning]\nsuspend_min_amount = \"-1\"\n".to_owned(),
            "dunning.suspend_min_amount",
        ),
    ] {
        match Config::parse(&text) {
            Ok(_) => assert!(key.is_empty(), "{text} was accepted"),
            Err(e) => {
                let err = format!("{e:#}");
                assert!(!key.is_empty() && err.contains(key), "{key}: {err}");
            }
        }
    }
}

#[test]
fn unknown_keys_are_named_with_their_line() {
    let err = Config::parse("state_dir = \"/tmp/x\"\n[radius]\nauth_port = 1812\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("auth_port"), "{err}");
    assert!(err.contains("line 3"), "{err}");
}

#[test]
fn bad_values_name_the_key() {
    for (text, key) in [
        ("[database]\nurl = \"mysql://x\"", "database.url"),
        ("[billing]\ncurrency = \"Kč\"", "billing.currency"),
        ("[billing]\ntimezone = \"Europe/Praha\"", "billing.timezone"),
        // Every session stale within a second (found probing from outside).
        ("[radius]\nstale_after = 0", "radius.stale_after"),
        (
            "[[nas]]\nname = \"a\"\naddress = \"192.0.2.1\"\nsecret = \"short\"",
            "nas[0].secret",
        ),
        (
            "[[nas]]\nname = \"a\"\naddress = \"192.0.2.1\"\nsecret = \"longenough\"\nvendor = \"huawei\"",
            "nas[0].vendor",
        ),
        (
            "[[token]]\nname = \"ops\"\nrole = \"admin\"\nhash = \"md5:abc\"",
            "token[0].hash",
        ),
    ] {
        let err = format!("{:#}", Config::parse(text).unwrap_err());
        assert!(err.contains(key), "{key}: {err}");
    }
    let err = format!(
        "{:#}",
        Config::parse("[[token]]\nname = \"ops\"\nrole = \"root\"\nhash = \"x\"").unwrap_err()
    );
    assert!(err.contains("role") || err.contains("root"), "{err}");
}

/// A malformed line may be a secret's: the error names its line, never shows it.
#[test]
fn a_malformed_secret_line_is_not_echoed() {
    for text in [
        "[[nas]]\nname = \"a\"\naddress = \"192.0.2.1\"\nsecret = \"hunter2-xyzzy\n",
        "[[nas]]\nname = \"a\"\naddress = \"192.0.2.1\"\nsecret = hunter2-xyzzy\n",
        "[[nas]]\nname = \"a\"\naddress = \"192.0.2.1\"\nsecret = [\"hunter2-xyzzy\"]\n",
    ] {
        let err = format!("{:#}", Config::parse(text).unwrap_err());
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("line 4"), "{err}");
        // The key its line sets is named (found probing from outside: only the place was).
        assert!(err.contains("secret"), "{err}");
    }
    // Found probing from outside: a secret typed as a number, a float or a boolean was shown
    // in the type error ("invalid type: integer `8177334455667788`").
    for value in ["8177334455667788", "1.5e3", "true"] {
        let text = format!("[[nas]]\nname = \"a\"\naddress = \"192.0.2.1\"\nsecret = {value}\n");
        let err = format!("{:#}", Config::parse(&text).unwrap_err());
        for shown in ["8177334455667788", "1500", "true"] {
            assert!(!err.contains(shown), "{err}");
        }
        assert!(
            err.contains("line 4") && err.contains("nas.secret"),
            "{err}"
        );
    }
}

#[test]
fn nas_secret_stays_out_of_debug() {
    let c = Config::parse(
        "[[nas]]\nname = \"core\"\naddress = \"192.0.2.1\"\nsecret = \"xyzzy5461secret\"",
    )
    .unwrap();
    assert!(!format!("{c:?}").contains("xyzzy5461"));
    assert!(c.nas[0].require_message_authenticator);
    assert!(c.nas[0].limit_proxy_state, "on unless turned off");
}

/// Found probing from outside: values that passed `check-config` and then panicked a task
/// (dates of a huge keep_days) or dated an invoice in the year 262142.
#[test]
fn numbers_that_would_overflow_a_date_are_refused_by_key() {
    for (text, key) in [
        (
            "[enforcement]\nkeep_days = 4000000000\n",
            "enforcement.keep_days",
        ),
        (
            "[enforcement]\nreconcile_interval = 18446744073709551615\n",
            "enforcement.reconcile_interval",
        ),
        ("[auth_log]\nkeep_days = 4000000000\n", "auth_log.keep_days"),
        (
            "[billing]\ndefault_due_days = 4000000000\n",
            "billing.default_due_days",
        ),
        (
            "[dunning]\nsuspend_days_after_due = 4000000000\n",
            "dunning.suspend_days_after_due",
        ),
        (
            "[[dunning.level]]\ndays_after_due = 7\ndeadline_days = 4000000000\n",
            "dunning.level[0].deadline_days",
        ),
    ] {
        let err = format!("{:#}", Config::parse(text).unwrap_err());
        assert!(err.starts_with(key), "{text}: {err}");
    }
    assert!(
        Config::parse("[enforcement]\nkeep_days = 36500\n[billing]\ndefault_due_days = 365\n")
            .is_ok()
    );
}

/// A reload applies what it can (a NAS, a dunning rule) and keeps the running value of every
/// key read only at start, naming those that changed. Found probing from outside: a reloaded
/// `state_dir` was half applied, and the log level, the admin idle timeout and `stale_after`
/// were ignored without a word.
#[test]
fn a_reload_keeps_what_applies_only_at_a_restart_and_names_it() {
    let running = Config::parse("state_dir = \"/var/lib/ispd\"\n").unwrap();
    let new = Config::parse(
        "state_dir = \"/srv/other\"\n[log]\nlevel = \"trace\"\n\
         [radius]\nstale_after = 600\n[admin]\nidle_timeout = 1\n\
         [billing]\ntimezone = \"Europe/Prague\"\ncurrency = \"EUR\"\n\
         [[nas]]\nname = \"a\"\naddress = \"192.0.2.1\"\nsecret = \"longenough\"\n",
    )
    .unwrap();
    let (applied, waiting) = new.reloaded_over(&running);
    assert_eq!(applied.state_dir, running.state_dir);
    assert_eq!(applied.log.level, running.log.level);
    assert_eq!(applied.radius.stale_after, None);
    assert_eq!(applied.admin.idle_timeout, running.admin.idle_timeout);
    assert_eq!(applied.billing.timezone, "");
    assert_eq!(
        waiting,
        [
            "state_dir",
            "log",
            "radius.auth_listen, acct_listen, stale_after",
            "admin.listen, max_connections, idle_timeout, TLS on or off",
            "billing.timezone",
        ]
    );
    // What a reload applies, it applies.
    assert_eq!(
        (applied.nas.len(), applied.billing.currency.as_str()),
        (1, "EUR")
    );
    // The same file again: nothing waits.
    let (_, none) = running.clone().reloaded_over(&running);
    assert!(none.is_empty(), "{none:?}");
}
