//! One "today" for the whole daemon, in `[billing] timezone`: what an operator records without
//! a date lands on the zone's date, whatever the host's zone and wherever ispctl runs.

use chrono::Utc;

use crate::daemon::{Daemon, ISPD, TempDir, stderr};

/// UTC+14: from 10:00 UTC on, its date is a day ahead of UTC; the host (UTC here) never is.
const AHEAD: &str = "Pacific/Kiritimati";
/// UTC−11: until 11:00 UTC its date is a day behind UTC.
const BEHIND: &str = "Pacific/Pago_Pago";

fn started_in(zone: &str) -> Daemon {
    let d = Daemon::start_with(
        "timezone",
        &format!(
            "[radius]\nauth_listen = [\"127.0.0.1:0\"]\nacct_listen = [\"127.0.0.1:0\"]\n\
             [admin]\nlisten = \"127.0.0.1:0\"\n\
             [billing]\nrun_at = \"\"\ntimezone = {zone:?}\n"
        ),
    );
    crate::invoice_groups::add_client(&d, "1001", &[]);
    d
}

/// The dates `zone` is on just before and just after `action`: the action's date is one.
fn zone_dates_around<T>(zone: chrono_tz::Tz, action: impl FnOnce() -> T) -> (T, [String; 2]) {
    let date = || Utc::now().with_timezone(&zone).date_naive().to_string();
    let before = date();
    let value = action();
    (value, [before, date()])
}

#[test]
fn a_charge_without_a_date_falls_on_today_in_the_configured_zone() {
    // At any hour one of the two zones is on another date than UTC, so a daemon that counted
    // days in the host's zone fails here whatever the time of the run.
    for zone in [AHEAD, BEHIND] {
        let d = started_in(zone);
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        let (charge, dates) = zone_dates_around(tz, || {
            d.ispctl_json(&[
                "charge",
                "add",
                "1001",
                "--description",
                "Installation",
                "--price",
                "500",
            ])
        });
        let charge_on = charge["charge_on"].as_str().unwrap().to_owned();
        assert!(
            dates.contains(&charge_on),
            "{zone}: {charge_on} not in {dates:?}"
        );
    }
}

#[test]
fn an_unknown_zone_is_refused_by_key_before_anything_starts() {
    let dir = TempDir::new("timezone-bad");
    let path = dir.0.join("ispd.toml");
    std::fs::write(
        &path,
        // The base config ends in its `[billing]` table.
        format!(
            "{}timezone = \"Europe/Praha\"\n",
            crate::daemon::base_config(&dir.0.join("state"))
        ),
    )
    .unwrap();
    let out = std::process::Command::new(ISPD)
        .arg("check-config")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("billing.timezone") && err.contains("Europe/Praha"),
        "{err}"
    );
}

/// Found probing from outside: daily usage — and so a data cap's period — was counted on the
/// host's days, so on a UTC host a login's first hours of a local day went on the day before.
/// An Interim's traffic lands on its moment's date in the configured zone.
#[test]
fn usage_is_counted_on_the_configured_zones_day() {
    for zone in [AHEAD, BEHIND] {
        let config = crate::accounting::acct_config("")
            .replace("[billing]\n", &format!("[billing]\ntimezone = {zone:?}\n"));
        let d = Daemon::start_with("timezone-usage", &config);
        crate::accounting::add_login(&d);
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        let at = Utc::now() - chrono::Duration::seconds(60);
        let interim = format!(
            "Acct-Status-Type = Interim-Update, Acct-Session-Id = \"tz1\", User-Name = \"novak\", \
             Acct-Input-Octets = 1000, Event-Timestamp = {}\n",
            at.timestamp()
        );
        let out = d.radclient("acct", "acct", crate::accounting::SECRET, &interim);
        assert!(
            crate::daemon::stdout(&out).contains("Accounting-Response"),
            "{}",
            crate::daemon::stdout(&out)
        );
        let local_day = at.with_timezone(&tz).date_naive().to_string();
        assert_eq!(
            d.query("SELECT day, input_octets FROM usage_daily"),
            [format!("{local_day}|1000")],
            "{zone}"
        );
    }
}

/// Found probing from outside: `client list --registered-from/--registered-until` compared
/// the UTC day of the registration, so far from UTC a client registered "today" was listed
/// under yesterday or tomorrow.
#[test]
fn a_client_registered_today_is_listed_under_the_zones_today() {
    for zone in [AHEAD, BEHIND] {
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        let (d, dates) = zone_dates_around(tz, || started_in(zone));
        if dates[0] != dates[1] {
            continue; // registered at the zone's midnight: either day is right
        }
        let today = &dates[0];
        let listed = |from: &str, until: &str| -> usize {
            d.ispctl_json(&[
                "client",
                "list",
                "--registered-from",
                from,
                "--registered-until",
                until,
            ])["items"]
                .as_array()
                .unwrap()
                .len()
        };
        let day: chrono::NaiveDate = today.parse().unwrap();
        let (before, after) = (
            day.pred_opt().unwrap().to_string(),
            day.succ_opt().unwrap().to_string(),
        );
        assert_eq!(listed(today, today), 1, "{zone}: registered {today}");
        assert_eq!(listed(&before, &before), 0, "{zone}: not the day before");
        assert_eq!(listed(&after, &after), 0, "{zone}: not the day after");
    }
}
