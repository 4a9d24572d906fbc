//! The subscription lifecycle and discounts end to end, through `ispctl` as an operator
//! would: pause, block, resume and end change what RADIUS answers before the command
//! returns, the history tells the story, and the unbilled days land where billing reads them.

use std::process::Output;

use serde_json::json;

use crate::daemon::{Daemon, stderr, stdout};

const SECRET: &str = "testing123-secret";
const REQUEST: &str =
    "User-Name = \"novak\", User-Password = \"arctangent\", Message-Authenticator = 0x00\n";

/// A daemon with one MikroTik NAS, client 100 on "Fiber 50" (active since 2026-01-01) and a
/// PPP login "novak"; returns the subscription id.
fn lifecycle_daemon(name: &str) -> (Daemon, String) {
    let d = Daemon::start(
        name,
        &format!(
            "[[nas]]\nname = \"mt-core\"\naddress = \"127.0.0.1\"\nsecret = \"{SECRET}\"\nvendor = \"mikrotik\"\n"
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
        "tariff", "add", "--name", "Fiber 50", "--down", "50M", "--up", "10M", "--price", "399",
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
    assert_eq!(sub["state"], "active");
    assert_eq!(sub["alignment"], "billing-day");
    let id = sub["id"].to_string();
    d.ispctl_json(&[
        "login",
        "add",
        "--subscription",
        &id,
        "--username",
        "novak",
        "--password",
        "arctangent",
    ]);
    (d, id)
}

/// The reply's code and attribute lines, as radclient printed them.
fn answer(d: &Daemon) -> (String, Vec<String>) {
    let out = d.radclient("auth", "auth", SECRET, REQUEST);
    let text = stdout(&out);
    let Some((_, reply)) = text.split_once("Received ") else {
        panic!("no answer: {text}{}", stderr(&out));
    };
    let code = reply
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    let lines = reply
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with('\t'))
        .map(|l| l.trim().to_owned())
        .collect();
    (code, lines)
}

fn assert_full_speed(d: &Daemon) {
    let (code, lines) = answer(d);
    assert_eq!(code, "Access-Accept");
    assert!(
        lines
            .iter()
            .any(|l| l == "Mikrotik-Rate-Limit = \"10M/50M\""),
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("Mikrotik-Address-List")),
        "{lines:?}"
    );
}

fn assert_walled_garden(d: &Daemon) {
    let (code, lines) = answer(d);
    assert_eq!(code, "Access-Accept");
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

/// ispctl that must fail: its stderr.
fn refused(out: Output) -> String {
    assert!(
        !out.status.success(),
        "expected a refusal, got: {}",
        stdout(&out)
    );
    stderr(&out)
}

#[test]
fn pause_block_and_resume_change_the_radius_answer_at_once() {
    let (d, id) = lifecycle_daemon("lifecycle-pause");
    assert_full_speed(&d);

    // The client called on the 10th: backdated, billing suspended.
    let paused = d.ispctl_json(&[
        "subscription",
        "pause",
        &id,
        "--date",
        "2026-11-10",
        "--billing-suspended",
        "--note",
        "holiday",
    ]);
    assert_eq!(paused["state"], "paused");
    assert_walled_garden(&d);
    assert_eq!(
        d.query("SELECT from_date, to_date FROM subscription_unbilled"),
        ["2026-11-10|None"]
    );

    let resumed = d.ispctl_json(&["subscription", "resume", &id, "--date", "2026-11-20"]);
    assert_eq!(resumed["state"], "active");
    assert_full_speed(&d);
    assert_eq!(
        d.query("SELECT from_date, to_date FROM subscription_unbilled"),
        ["2026-11-10|2026-11-19"],
        "the paused days, up to the day before the resume"
    );

    // A block without suspended billing: walled garden, no unbilled days.
    let blocked = d.ispctl_json(&["subscription", "block", &id, "--date", "2026-11-21"]);
    assert_eq!(blocked["state"], "blocked");
    assert_walled_garden(&d);
    d.ispctl_json(&["subscription", "resume", &id]);
    assert_full_speed(&d);
    assert_eq!(d.query("SELECT COUNT(*) FROM subscription_unbilled"), ["1"]);

    let history = d.ispctl_json(&["subscription", "history", &id]);
    let steps: Vec<(String, String, String)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["from_state"].as_str().unwrap().to_owned(),
                h["to_state"].as_str().unwrap().to_owned(),
                h["note"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let today = chrono::Local::now().date_naive().to_string();
    let expected = [
        ("unspecified", "active", "created".to_owned()),
        (
            "active",
            "paused",
            "paused, billing suspended from 2026-11-10; holiday".to_owned(),
        ),
        ("paused", "active", "resumed on 2026-11-20".to_owned()),
        (
            "active",
            "blocked",
            "blocked from 2026-11-21, still charged".to_owned(),
        ),
        ("blocked", "active", format!("resumed on {today}")),
    ]
    .map(|(from, to, note)| (from.to_owned(), to.to_owned(), note));
    assert_eq!(steps, expected);

    // Refusals name what is wrong and change nothing.
    let err = refused(d.ispctl(&["subscription", "resume", &id]));
    assert!(err.contains("cannot go from active to active"), "{err}");
    // A date ahead schedules the change instead; the subscription stays as it is until then.
    let scheduled = d.ispctl_json(&["subscription", "pause", &id, "--date", "2099-01-01"]);
    assert_eq!(scheduled["state"], "active");
    assert_eq!(
        (
            scheduled["scheduled"][0]["transition"].as_str(),
            scheduled["scheduled"][0]["effective"].as_str()
        ),
        (Some("pause"), Some("2099-01-01"))
    );
    let action = scheduled["scheduled"][0]["id"].to_string();
    d.ispctl_json(&["subscription", "withdraw", &action]);
    assert_eq!(
        d.ispctl_json(&["subscription", "show", &id])["state"],
        "active"
    );
    assert_full_speed(&d);
}

#[test]
fn an_ended_subscription_shows_its_last_charged_day_and_is_refused() {
    let (d, id) = lifecycle_daemon("lifecycle-end");
    let ended = d.ispctl_json(&[
        "subscription",
        "end",
        &id,
        "--last-day",
        "2026-11-20",
        "--note",
        "moved away",
    ]);
    assert_eq!(ended["state"], "ended");
    assert_eq!(ended["end_date"], "2026-11-20");
    let show = d.ispctl(&["subscription", "show", &id]);
    assert!(show.status.success(), "{}", stderr(&show));
    let text = stdout(&show);
    assert!(text.contains("state: ended\n"), "{text}");
    assert!(text.contains("end_date: 2026-11-20\n"), "{text}");
    let (code, _) = answer(&d);
    assert_eq!(code, "Access-Reject", "an ended service has no access");
    // Ended is final.
    let err = refused(d.ispctl(&["subscription", "pause", &id]));
    assert!(err.contains("cannot go from ended to paused"), "{err}");
    // --last-day is required.
    let usage = d.ispctl(&["subscription", "end", &id]);
    assert_eq!(usage.status.code(), Some(2), "{}", stderr(&usage));
}

/// Mango's cancellation: an end carries a reason from the editable code list; "cancel all"
/// ends every service of the client at once, all or nothing.
#[test]
fn services_are_cancelled_with_a_reason_one_or_all_at_once() {
    let (d, first) = lifecycle_daemon("lifecycle-cancel");
    let second = d.subscribe("100", "Fiber 50", "2026-01-01");
    let third = d.subscribe("100", "Fiber 50", "2026-01-01");
    // The list comes seeded and is editable.
    let reasons = d.ispctl_json(&["code", "list", "cancellation-reason"]);
    assert!(reasons.to_string().contains("competitor"), "{reasons}");
    d.ispctl_json(&[
        "code",
        "put",
        "cancellation-reason",
        "fibre_cut",
        "Fibre cut for good",
    ]);
    // One service, with a reason: kept on it and in its history.
    let ended = d.ispctl_json(&[
        "subscription",
        "end",
        &first,
        "--last-day",
        "2026-11-20",
        "--reason",
        "fibre_cut",
    ]);
    assert_eq!(
        (&ended["state"], &ended["end_reason"]),
        (&json!("ended"), &json!("fibre_cut"))
    );
    let history = d
        .ispctl_json(&["subscription", "history", &first])
        .to_string();
    assert!(history.contains("reason fibre_cut"), "{history}");
    // A reason not in the list, or given to anything but an end, is refused by name.
    let err = refused(d.ispctl(&[
        "subscription",
        "end",
        &second,
        "--last-day",
        "2026-11-20",
        "--reason",
        "bored",
    ]));
    assert!(
        err.contains("reason") && err.contains("cancellation_reason"),
        "{err}"
    );
    // An end ahead keeps its reason until its day.
    let later = d.subscribe("100", "Fiber 50", "2026-01-01");
    let scheduled = d.ispctl_json(&[
        "subscription",
        "end",
        &later,
        "--last-day",
        "2099-01-31",
        "--date",
        "2099-01-31",
        "--reason",
        "price",
    ]);
    assert_eq!(
        (&scheduled["state"], &scheduled["scheduled"][0]["reason"]),
        (&json!("active"), &json!("price"))
    );
    let action = scheduled["scheduled"][0]["id"].to_string();
    d.ispctl_json(&["subscription", "withdraw", &action]);
    d.ispctl_json(&["subscription", "end", &later, "--last-day", "2026-11-20"]);
    // A code in use stays.
    let err = refused(d.ispctl(&["code", "delete", "cancellation-reason", "fibre_cut"]));
    assert!(err.contains("used by 1 subscription"), "{err}");
    // Cancel all: one last day the rules refuse for any service refuses them all.
    let err = refused(d.ispctl(&[
        "subscription",
        "end-all",
        "--client",
        "100",
        "--last-day",
        "2025-06-01",
    ]));
    assert!(err.contains("last_day"), "{err}");
    for id in [&second, &third] {
        assert_eq!(
            d.ispctl_json(&["subscription", "show", id])["state"],
            "active"
        );
    }
    let all = d.ispctl_json(&[
        "subscription",
        "end-all",
        "--client",
        "100",
        "--last-day",
        "2026-11-30",
        "--reason",
        "moved",
    ]);
    let ended: Vec<_> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].to_string(),
                s["state"].clone(),
                s["end_reason"].clone(),
            )
        })
        .collect();
    assert_eq!(
        ended,
        [
            (second.clone(), json!("ended"), json!("moved")),
            (third.clone(), json!("ended"), json!("moved"))
        ],
        "the one ended before is left as it was"
    );
    let err = refused(d.ispctl(&[
        "subscription",
        "end-all",
        "--client",
        "100",
        "--last-day",
        "2026-11-30",
    ]));
    assert!(err.contains("no service that has not ended"), "{err}");
}

/// BILLmanager's violation notice: a deadline and penalty points; unanswered past its
/// deadline, every active service of the client is blocked (the walled garden), and
/// resolving the notice gives them back.
#[test]
fn a_violation_past_its_deadline_blocks_the_services_until_it_is_resolved() {
    let (d, first) = lifecycle_daemon("lifecycle-violation");
    let second = d.subscribe("100", "Fiber 50", "2026-01-01");
    // The daemon counts days in the host's zone (no [billing] timezone here).
    let day = chrono::Local::now().date_naive();
    let (today, tomorrow) = (day.to_string(), (day + chrono::Days::new(1)).to_string());
    // Refused by name: a deadline in the past, no reason.
    let err = refused(d.ispctl(&[
        "violation",
        "add",
        "100",
        "--reason",
        "spam",
        "--deadline",
        "2020-01-01",
    ]));
    assert!(err.contains("deadline"), "{err}");
    let err = refused(d.ispctl(&[
        "violation",
        "add",
        "100",
        "--reason",
        " ",
        "--deadline",
        &today,
    ]));
    assert!(err.contains("reason"), "{err}");
    let warning = d.ispctl_json(&[
        "violation",
        "add",
        "100",
        "--reason",
        "shared the account",
        "--deadline",
        &today,
        "--points",
        "2",
    ]);
    let notice = d.ispctl_json(&[
        "violation",
        "add",
        "100",
        "--reason",
        "spam from the CPE",
        "--deadline",
        &today,
        "--points",
        "5",
        "--stop-services",
    ]);
    assert_eq!(notice["state"], "open");
    // On its deadline nothing happens; the day after, the stopping one is enforced.
    let none = d.ispctl_json(&["violation", "enforce", "--as-of", &today]);
    assert_eq!(none["items"], json!([]));
    let enforced = d.ispctl_json(&["violation", "enforce", "--as-of", &tomorrow]);
    let items = enforced["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "only the notice that stops services: {enforced}"
    );
    assert_eq!(items[0]["id"], notice["id"]);
    let blocked: Vec<String> = items[0]["blocked_subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(blocked, [first.clone(), second.clone()]);
    for id in [&first, &second] {
        assert_eq!(
            d.ispctl_json(&["subscription", "show", id])["state"],
            "blocked"
        );
    }
    assert_walled_garden(&d);
    // Enforced once: a second run does nothing.
    let again = d.ispctl_json(&["violation", "enforce", "--as-of", &tomorrow]);
    assert_eq!(again["items"], json!([]));
    let listed = d.ispctl_json(&["violation", "list", "100"]);
    assert_eq!(listed["penalty_points"], 7);
    // Resolved: the services come back, and RADIUS says so at once.
    let id = notice["id"].to_string();
    let resolved = d.ispctl_json(&["violation", "resolve", &id, "--note", "router replaced"]);
    assert_eq!(
        (&resolved["state"], &resolved["resolution"]),
        (&json!("resolved"), &json!("router replaced"))
    );
    for id in [&first, &second] {
        assert_eq!(
            d.ispctl_json(&["subscription", "show", id])["state"],
            "active"
        );
    }
    assert_full_speed(&d);
    let err = refused(d.ispctl(&["violation", "resolve", &id]));
    assert!(err.contains("resolved on"), "{err}");
    let warning_id = warning["id"].to_string();
    d.ispctl_json(&["violation", "resolve", &warning_id]);
}

/// Mango's units: one service of a tariff's class per unit; a tariff without a class, or an
/// ended service, never counts.
#[test]
fn a_unit_holds_one_service_of_a_class() {
    let (d, _) = lifecycle_daemon("lifecycle-units");
    for (name, class) in [
        ("Fiber A", "internet"),
        ("Fiber B", "internet"),
        ("TV", "tv"),
    ] {
        d.ispctl_json(&[
            "tariff", "add", "--name", name, "--down", "10M", "--up", "1M", "--price", "100",
            "--class", class,
        ]);
    }
    let unit = d.ispctl_json(&["unit", "add", "--name", "Dlouhá 12, flat 3"])["id"].to_string();
    let on_unit = |tariff: &str| {
        d.ispctl(&[
            "subscription",
            "add",
            "--client",
            "100",
            "--tariff",
            tariff,
            "--activation",
            "2026-01-01",
            "--unit",
            &unit,
        ])
    };
    let first = on_unit("Fiber A");
    assert!(first.status.success(), "{}", stderr(&first));
    let listed = d.ispctl_json(&["subscription", "list", "--client", "100"]);
    let first = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["tariff"] == "Fiber A")
        .unwrap()["id"]
        .to_string();
    assert!(on_unit("TV").status.success(), "another class is welcome");
    assert!(
        on_unit("Fiber 50").status.success(),
        "a tariff without a class never counts"
    );
    let err = refused(on_unit("Fiber B"));
    assert!(
        err.contains("subscription.unit") && err.contains("class internet"),
        "{err}"
    );
    let err = refused(d.ispctl(&["unit", "delete", &unit]));
    assert!(err.contains("named by 3 subscription"), "{err}");
    // Once the first internet service has ended, the unit takes another.
    d.ispctl_json(&["subscription", "end", &first, "--last-day", "2026-11-30"]);
    assert!(on_unit("Fiber B").status.success());
    // Nor does a service reach the class by another road: moved to a tariff of it, or
    // transferred onto one (found probing: both skipped the rule).
    let listed = d.ispctl_json(&["subscription", "list", "--client", "100"]);
    let classless = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["tariff"] == "Fiber 50" && s["unit_id"] == unit.parse::<i64>().unwrap())
        .unwrap()["id"]
        .to_string();
    for road in [
        vec!["subscription", "change-tariff", &classless, "Fiber A"],
        vec![
            "subscription",
            "transfer",
            &classless,
            "--tariff",
            "Fiber A",
        ],
    ] {
        let err = refused(d.ispctl(&road));
        assert!(
            err.contains("subscription.unit") && err.contains("class internet"),
            "{road:?}: {err}"
        );
    }
    let kept = d.ispctl_json(&["subscription", "show", &classless]);
    assert_eq!(
        (&kept["tariff"], &kept["state"]),
        (&json!("Fiber 50"), &json!("active")),
        "a refused change leaves the service as it was"
    );
    // Moved onto another class, it is welcome.
    d.ispctl_json(&[
        "tariff", "add", "--name", "Voice", "--down", "1M", "--up", "1M", "--price", "50",
        "--class", "voice",
    ]);
    d.ispctl_json(&["subscription", "change-tariff", &classless, "Voice"]);
    // A tariff given a class the unit holds already is refused, as a service would be.
    let err = refused(d.ispctl(&["tariff", "edit", "TV", "--class", "voice"]));
    assert!(
        err.contains("tariff.service_class") && err.contains("class voice"),
        "{err}"
    );
    assert_eq!(
        d.ispctl_json(&["tariff", "show", "TV"])["service_class"],
        "tv"
    );
    let units = d.ispctl_json(&["unit", "list"]);
    assert_eq!(units["items"][0]["name"], "Dlouhá 12, flat 3");
    let err = refused(d.ispctl(&["unit", "add", "--name", "Dlouhá 12, flat 3"]));
    assert!(err.contains("unit.name"), "{err}");
}

/// Mango's transfer: the service moves to another client (or tariff) from a day — the
/// original ends the day before, the new one starts with its logins and running discounts,
/// and one audit record tells it.
#[test]
fn a_service_is_transferred_to_another_client_with_its_logins_and_discounts() {
    let (d, id) = lifecycle_daemon("lifecycle-transfer");
    d.add_client("200");
    d.ispctl_json(&[
        "discount",
        "add",
        &id,
        "--name",
        "Welcome",
        "--percent",
        "10",
        "--from",
        "2026-01-01",
    ]);
    let day = chrono::Local::now().date_naive();
    let (today, yesterday) = (day.to_string(), day.pred_opt().unwrap().to_string());
    let err = refused(d.ispctl(&["subscription", "transfer", &id]));
    assert!(err.contains("tariff"), "nothing to move to: {err}");
    let audits = |d: &Daemon| d.query("SELECT COUNT(*) FROM audit")[0].clone();
    let before = audits(&d).parse::<u32>().unwrap();
    let moved = d.ispctl_json(&[
        "subscription",
        "transfer",
        &id,
        "--client",
        "200",
        "--note",
        "the son took over",
    ]);
    let items = moved["items"].as_array().unwrap();
    let (ended, started) = (&items[0], &items[1]);
    assert_eq!(
        (&ended["state"], &ended["end_date"], &ended["client_number"]),
        (&json!("ended"), &json!(yesterday), &json!("100"))
    );
    assert_eq!(
        (
            &started["state"],
            &started["activation_date"],
            &started["client_number"],
            &started["tariff"]
        ),
        (
            &json!("active"),
            &json!(today),
            &json!("200"),
            &json!("Fiber 50")
        )
    );
    assert_eq!(
        audits(&d).parse::<u32>().unwrap(),
        before + 1,
        "one audit record"
    );
    assert_eq!(
        d.query("SELECT action FROM audit ORDER BY id DESC LIMIT 1"),
        ["subscription.transfer"]
    );
    // The login went with it: the new client's service answers it at full speed.
    let new_id = started["id"].to_string();
    let logins = d.ispctl_json(&["login", "list", "--subscription", &new_id]);
    assert_eq!(logins["items"][0]["username"], "novak");
    assert_full_speed(&d);
    // The running discount restarts on the transfer day.
    let discounts = d.ispctl_json(&["discount", "list", &new_id]);
    assert_eq!(
        (
            &discounts["items"][0]["name"],
            &discounts["items"][0]["valid_from"]
        ),
        (&json!("Welcome"), &json!(today))
    );
    let history = d.ispctl_json(&["subscription", "history", &id]).to_string();
    assert!(
        history.contains("transferred from") && history.contains("the son took over"),
        "{history}"
    );
}

/// A transfer for a later day is scheduled and made by the daily job on its day.
#[test]
fn a_transfer_for_a_later_day_is_scheduled_and_made_on_it() {
    let (d, id) = lifecycle_daemon("lifecycle-transfer-later");
    d.add_client("200");
    let tomorrow = (chrono::Local::now().date_naive() + chrono::Days::new(1)).to_string();
    let scheduled = d.ispctl_json(&[
        "subscription",
        "transfer",
        &id,
        "--client",
        "200",
        "--date",
        &tomorrow,
    ]);
    let original = &scheduled["items"][0];
    assert_eq!(
        (
            &original["state"],
            &original["scheduled"][0]["transition"],
            &original["scheduled"][0]["client_number"]
        ),
        (&json!("active"), &json!("transfer"), &json!("200"))
    );
    assert_eq!(
        scheduled["items"].as_array().unwrap().len(),
        1,
        "nothing started yet"
    );
    // A target that does not exist is refused now, not on the day.
    let err = refused(d.ispctl(&[
        "subscription",
        "transfer",
        &id,
        "--client",
        "999",
        "--date",
        &tomorrow,
    ]));
    assert!(err.contains("999"), "{err}");
    // Its day: the daily job makes it.
    let applied = d.ispctl_json(&["subscription", "apply-due", "--as-of", &tomorrow]);
    assert_eq!(applied["items"][0]["state"], "done", "{applied}");
    assert_eq!(
        d.ispctl_json(&["subscription", "show", &id])["state"],
        "ended"
    );
    let theirs = d.ispctl_json(&["subscription", "list", "--client", "200"]);
    let new_id = theirs["items"][0]["id"].to_string();
    assert_eq!(theirs["items"][0]["activation_date"], json!(tomorrow));
    let logins = d.ispctl_json(&["login", "list", "--subscription", &new_id]);
    assert_eq!(logins["items"][0]["username"], "novak");
}

#[test]
fn floating_alignment_is_set_on_add_and_edit() {
    let (d, _) = lifecycle_daemon("lifecycle-alignment");
    let sub = d.ispctl_json(&[
        "subscription",
        "add",
        "--client",
        "100",
        "--tariff",
        "Fiber 50",
        "--activation",
        "2026-11-03",
        "--alignment",
        "floating",
    ]);
    assert_eq!(sub["alignment"], "floating");
    let id = sub["id"].to_string();
    let edited = d.ispctl_json(&["subscription", "edit", &id, "--alignment", "billing-day"]);
    assert_eq!(edited["alignment"], "billing-day");
    assert_eq!(
        d.ispctl_json(&["subscription", "show", &id])["alignment"],
        "billing-day"
    );
}

#[test]
fn a_commitment_period_sets_its_end_from_billing_start() {
    let (d, _) = lifecycle_daemon("lifecycle-commitment");
    let sub = d.ispctl_json(&[
        "subscription",
        "add",
        "--client",
        "100",
        "--tariff",
        "Fiber 50",
        "--activation",
        "2026-10-15",
        "--billing-from",
        "2026-11-01",
        "--commitment",
        "24+3",
    ]);
    assert_eq!(
        sub["commitment_until"], "2029-01-31",
        "27 months from billing start"
    );
    let id = sub["id"].to_string();
    let edited = d.ispctl_json(&["subscription", "edit", &id, "--commitment", "12"]);
    assert_eq!(edited["commitment_until"], "2027-10-31");
    let err = refused(d.ispctl(&["subscription", "edit", &id, "--commitment", "7"]));
    assert!(err.contains("subscription.commitment"), "{err}");
    assert_eq!(
        d.ispctl_json(&["subscription", "show", &id])["commitment_until"],
        "2027-10-31",
        "a refused edit changed nothing"
    );
}

#[test]
fn discounts_are_added_listed_and_deleted() {
    let (d, id) = lifecycle_daemon("lifecycle-discounts");
    let welcome = d.ispctl_json(&[
        "discount",
        "add",
        &id,
        "--name",
        "Welcome",
        "--percent",
        "10",
        "--from",
        "2026-11-01",
        "--to",
        "2027-01-31",
    ]);
    assert_eq!(welcome["kind"], "percent");
    assert_eq!(welcome["value"], "10");
    assert_eq!(welcome["valid_to"], "2027-01-31");
    let loyal = d.ispctl_json(&[
        "discount",
        "add",
        &id,
        "--name",
        "Loyalty",
        "--amount",
        "50",
        "--from",
        "2026-12-01",
    ]);
    assert_eq!(loyal["kind"], "amount");
    assert_eq!(loyal["value"], "50.00");
    assert_eq!(loyal["valid_to"], "");
    let senior = d.ispctl_json(&[
        "discount", "add", &id, "--name", "Senior", "--price", "299,90",
    ]);
    assert_eq!(senior["kind"], "resulting-price");
    assert_eq!(senior["value"], "299.90");
    assert_eq!(
        senior["valid_from"],
        chrono::Local::now().date_naive().to_string(),
        "the start defaults to today"
    );

    let list = d.ispctl_json(&["discount", "list", &id]);
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Welcome", "Loyalty", "Senior"]);
    assert_eq!(list["items"][0]["subscription_id"].to_string(), id);

    let deleted = d.ispctl_json(&["discount", "delete", &welcome["id"].to_string()]);
    assert_eq!(deleted["deleted"], true);
    let list = d.ispctl_json(&["discount", "list", &id]);
    let ids: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            loyal["id"].as_i64().unwrap(),
            senior["id"].as_i64().unwrap()
        ]
    );

    let err = refused(d.ispctl(&[
        "discount",
        "add",
        &id,
        "--name",
        "Greedy",
        "--percent",
        "150",
    ]));
    assert!(err.contains("discount.value"), "{err}");
    let usage = d.ispctl(&["discount", "add", &id, "--name", "Nothing"]);
    assert_eq!(
        usage.status.code(),
        Some(2),
        "one of --percent/--amount/--price"
    );
    let usage = d.ispctl(&[
        "discount",
        "add",
        &id,
        "--name",
        "Both",
        "--percent",
        "5",
        "--amount",
        "5",
    ]);
    assert_eq!(usage.status.code(), Some(2), "only one value flag");
    let err = refused(d.ispctl(&["discount", "list", "999"]));
    assert!(err.contains("not found"), "{err}");
}

/// A tariff change scheduled for a day the jobs missed (ispd stopped that day) is made by the
/// next day's jobs from its own day, as every other scheduled change is; it was refused as
/// backdated and marked failed (found probing from outside).
#[test]
fn a_tariff_change_whose_day_was_missed_is_made_from_that_day() {
    let (d, id) = lifecycle_daemon("lifecycle-missed-tariff-day");
    d.ispctl_json(&[
        "tariff",
        "add",
        "--name",
        "Fiber 300",
        "--down",
        "300M",
        "--up",
        "50M",
        "--price",
        "799",
    ]);
    let day = chrono::Local::now().date_naive() + chrono::Days::new(3);
    let after = (day + chrono::Days::new(2)).to_string();
    let day = day.to_string();
    d.ispctl_json(&[
        "subscription",
        "change-tariff",
        &id,
        "Fiber 300",
        "--date",
        &day,
    ]);
    let applied = d.ispctl_json(&["subscription", "apply-due", "--as-of", &after]);
    assert_eq!(applied["items"][0]["state"], "done", "{applied}");
    assert_eq!(
        d.ispctl_json(&["subscription", "show", &id])["tariff"],
        "Fiber 300"
    );
    let history = d.ispctl_json(&["subscription", "history", &id]);
    assert!(
        history.to_string().contains(&format!("from {day}")),
        "the change counts from its own day: {history}"
    );
}

/// What a scheduled change names — the tariff it moves to, the client it goes to — is kept
/// while the change is pending: deleting it was accepted, and the change failed on its day
/// (or took a new record of the same name). Found probing from outside.
#[test]
fn what_a_pending_change_names_cannot_be_deleted() {
    let (d, id) = lifecycle_daemon("lifecycle-pending-names");
    d.ispctl_json(&[
        "tariff", "add", "--name", "Later", "--down", "1M", "--up", "1M", "--price", "1",
    ]);
    d.add_client("200");
    let day = (chrono::Local::now().date_naive() + chrono::Days::new(5)).to_string();
    let second = d.ispctl_json(&[
        "subscription",
        "add",
        "--client",
        "100",
        "--tariff",
        "Fiber 50",
        "--activation",
        "2026-01-01",
    ])["id"]
        .to_string();
    d.ispctl_json(&[
        "subscription",
        "change-tariff",
        &id,
        "Later",
        "--date",
        &day,
    ]);
    d.ispctl_json(&[
        "subscription",
        "transfer",
        &second,
        "--client",
        "200",
        "--date",
        &day,
    ]);
    // Renamed, the tariff stays the one the change moves to.
    d.ispctl_json(&["tariff", "edit", "Later", "--new-name", "Sooner"]);
    let pending = d.ispctl_json(&["subscription", "pending", &id]);
    assert_eq!(pending["items"][0]["tariff"], "Sooner", "{pending}");
    let err = refused(d.ispctl(&["tariff", "delete", "Sooner"]));
    assert!(err.contains("scheduled"), "{err}");
    let err = refused(d.ispctl(&["client", "delete", "200", "--yes"]));
    assert!(err.contains("scheduled"), "{err}");
    // Withdrawn, they can go.
    let pending = d.ispctl_json(&["subscription", "pending"]);
    for action in pending["items"].as_array().unwrap() {
        d.ispctl_json(&["subscription", "withdraw", &action["id"].to_string()]);
    }
    d.ispctl_json(&["tariff", "delete", "Sooner"]);
    d.ispctl_json(&["client", "delete", "200", "--yes"]);
}
