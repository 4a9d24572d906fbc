//! Enforcement: the attempt log, and the open sessions enforcement reads.

use chrono::{Duration, TimeZone, Utc};
use ispd_provisioning::accounting::{AcctRecord, Counters, StatusType};
use ispd_provisioning::enforcement::{Outcome, RequestKind};
use ispd_provisioning::zone::Zone;

use crate::testkit::fixtures::*;
use crate::{AcctItem, EnforcementAttempt, Partition};

fn attempt(username: &str, minute: i64, outcome: Outcome) -> EnforcementAttempt {
    EnforcementAttempt {
        at: Utc.with_ymd_and_hms(2026, 12, 5, 10, 0, 0).unwrap() + Duration::minutes(minute),
        login_id: Some(7),
        username: username.into(),
        session_id: Some(42),
        acct_session_id: "81000001".into(),
        nas_name: "bras".into(),
        kind: RequestKind::Coa,
        reason: "access change".into(),
        sent: "MikrotikRateLimit(\"2M/10M\")".into(),
        outcome,
        error_cause: (outcome == Outcome::Nak).then_some(404),
        tries: 1,
    }
}

pub(super) async fn attempts_round_trip_newest_first_and_prune(store: Store) {
    let mut first = attempt("novak", 0, Outcome::Ack);
    first.login_id = None;
    first.session_id = None;
    first.kind = RequestKind::Disconnect;
    let batch = vec![
        first.clone(),
        attempt("novak", 1, Outcome::Nak),
        attempt("svoboda", 2, Outcome::Timeout),
        attempt("novak", 3, Outcome::Unsent),
    ];
    store.record_enforcement(&batch).await.unwrap();
    // A request's record while it waited for its turn: kept for a start, not listed.
    store
        .record_enforcement(&[attempt("novak", 4, Outcome::Queued)])
        .await
        .unwrap();
    store.record_enforcement(&[]).await.unwrap();

    let page = |size| crate::PageRequest { size, after: None };
    let novak = store.enforcement_history("novak", page(0)).await.unwrap();
    let got: Vec<_> = novak.items.iter().map(|r| r.attempt.clone()).collect();
    assert_eq!(
        got,
        [batch[3].clone(), batch[1].clone(), first],
        "every field, newest first"
    );
    let all = store.enforcement_history("", page(2)).await.unwrap();
    assert_eq!(all.items.len(), 2);
    let rest = store
        .enforcement_history(
            "",
            crate::PageRequest::parse(2, &all.next_page_token).unwrap(),
        )
        .await
        .unwrap();
    let usernames: Vec<_> = all
        .items
        .iter()
        .chain(&rest.items)
        .map(|r| r.attempt.username.as_str())
        .collect();
    assert_eq!(usernames, ["novak", "svoboda", "novak", "novak"]);
    assert!(rest.next_page_token.is_empty());

    let pruned = store.prune_enforcement(batch[2].at).await.unwrap();
    assert_eq!(pruned, 2, "the two older than the cut");
    let left = store.enforcement_history("", page(0)).await.unwrap();
    assert_eq!(left.items.len(), 2);
}

/// Opens (or stops) session `id` of `username` on "bras".
async fn session(store: &Store, login: Option<i64>, username: &str, id: &str, stop: bool) {
    let at = Utc.with_ymd_and_hms(2026, 12, 5, 10, 0, 0).unwrap();
    let item = |status| AcctItem {
        nas_name: "bras".into(),
        login_id: login,
        record: AcctRecord {
            status,
            acct_session_id: id.into(),
            username: username.into(),
            login_id: login,
            accepted_at: None,
            framed_ip: Some("100.64.0.7".parse().unwrap()),
            delegated_prefix: None,
            calling_station: None,
            nas_port: None,
            event_time: at,
            received_at: None,
            session_seconds: 0,
            counters: Counters::default(),
            terminate_cause: None,
        },
    };
    let mut items = vec![item(StatusType::Start)];
    if stop {
        items.push(item(StatusType::Stop));
    }
    let mut memory = store
        .accounting_writer(Partition { index: 0, count: 1 }, Zone::Host)
        .await
        .unwrap();
    memory.apply(&items).await.unwrap();
}

/// A login of subscription `sub` named `username`; its id.
async fn login(store: &Store, sub: i64, username: &str) -> i64 {
    store
        .create_login(&actor(), ppp_login(username, sub), "pw-123456")
        .await
        .unwrap()
        .login
        .id
}

pub(super) async fn open_sessions_for_enforcement(store: Store) {
    let sub = subscribed_client(&store, "1001").await.subscription.id;
    let novak = login(&store, sub, "novak").await;
    let dvorak = login(&store, sub, "dvorak").await;
    session(&store, Some(novak), "novak", "a", false).await;
    session(&store, Some(novak), "novak", "b", true).await;
    session(&store, Some(dvorak), "dvorak", "c", false).await;
    session(&store, None, "stranger", "d", false).await;

    // Traffic of an interim counts from its day on, summed per login.
    let mut memory = store
        .accounting_writer(Partition { index: 0, count: 1 }, Zone::Host)
        .await
        .unwrap();
    let interim = AcctItem {
        nas_name: "bras".into(),
        login_id: Some(novak),
        record: AcctRecord {
            status: StatusType::InterimUpdate,
            acct_session_id: "a".into(),
            username: "novak".into(),
            login_id: Some(novak),
            accepted_at: None,
            framed_ip: None,
            delegated_prefix: None,
            calling_station: None,
            nas_port: None,
            event_time: Utc.with_ymd_and_hms(2026, 12, 5, 10, 5, 0).unwrap(),
            received_at: None,
            session_seconds: 300,
            counters: Counters {
                input_octets: 1_000,
                output_octets: 7_000_000_000,
                input_packets: 0,
                output_packets: 0,
            },
            terminate_cause: None,
        },
    };
    memory.apply(&[interim]).await.unwrap();
    let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    let usage = store.usage_since(&[novak, dvorak], day(1)).await.unwrap();
    assert_eq!(
        usage.get(&novak),
        Some(&(7_000_000_000, 1_000)),
        "(download, upload)"
    );
    assert_eq!(usage.get(&dvorak), None, "no traffic, no row");
    assert!(
        store
            .usage_since(&[novak], day(6))
            .await
            .unwrap()
            .is_empty()
    );

    let ids = |sessions: Vec<crate::OpenSession>| -> Vec<String> {
        sessions.into_iter().map(|s| s.acct_session_id).collect()
    };
    let of = store.open_sessions_of(&[novak], &[]).await.unwrap();
    assert_eq!(of[0].framed_ip.as_deref(), Some("100.64.0.7"));
    assert_eq!(ids(of), ["a"], "stopped sessions are not online");
    assert_eq!(
        ids(store
            .open_sessions_of(&[novak], &["novak".into()])
            .await
            .unwrap()),
        ["a"],
        "a session matching both lists comes once"
    );
    assert!(store.open_sessions_of(&[], &[]).await.unwrap().is_empty());
    let many: Vec<i64> = (100_000..105_000).chain([dvorak]).collect();
    assert_eq!(
        ids(store.open_sessions_of(&many, &[]).await.unwrap()),
        ["c"]
    );

    // A deleted login's session keeps its username, and names the login it had: the
    // reconcile disconnects it as a login's that would now be refused (its login_id column is
    // gone with the login, so it is not found by login).
    store.delete_login(&actor(), "dvorak").await.unwrap();
    assert!(
        store
            .open_sessions_of(&[dvorak], &[])
            .await
            .unwrap()
            .is_empty()
    );
    let by_name = store
        .open_sessions_of(&[], &["dvorak".into()])
        .await
        .unwrap();
    assert_eq!(
        (by_name[0].login_id, ids(by_name.clone())),
        (Some(dvorak), vec!["c".to_owned()])
    );

    let first = store.open_sessions_page(0, 2).await.unwrap();
    let rest = store.open_sessions_page(first[1].id, 2).await.unwrap();
    assert_eq!(ids(first.clone()), ["a", "c"]);
    assert_eq!(ids(rest), ["d"]);
    assert_eq!(
        store.open_session(first[0].id).await.unwrap(),
        Some(first[0].clone())
    );
    let stopped = first[0].id + 1;
    assert_eq!(
        store.open_session(stopped).await.unwrap(),
        None,
        "b is stopped"
    );
    assert_eq!(store.open_session(999_999).await.unwrap(), None);
}

pub(super) async fn speed_rules_round_trip(store: Store) {
    use ispd_billing::tariff::{Rate, SpeedWindow};
    use ispd_provisioning::speed::TemporarySpeed;
    let sub = subscribed_client(&store, "1001").await.subscription.id;
    store
        .create_login(&actor(), ppp_login("novak", sub), "pw-123456")
        .await
        .unwrap();
    let rate = |down| Rate {
        download_kbps: down,
        upload_kbps: down / 10,
    };
    // A night window over midnight, to the second.
    let mut fiber = store.get_tariff("Fiber 100").await.unwrap();
    let window = SpeedWindow {
        from: chrono::NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
        to: chrono::NaiveTime::from_hms_opt(6, 0, 30).unwrap(),
        rate: rate(500_000),
    };
    fiber.window = Some(window);
    let cap = ispd_billing::tariff::DataCap {
        download_octets: 500_000_000_000,
        upload_octets: 0,
        rate: rate(5_000),
    };
    fiber.cap = Some(cap);
    let updated = store.update_tariff(&actor(), fiber).await.unwrap();
    assert_eq!((updated.window, updated.cap), (Some(window), Some(cap)));
    assert_eq!(store.get_tariff("Fiber 100").await.unwrap(), updated);

    let speed = TemporarySpeed {
        rate: rate(200_000),
        until: Utc.with_ymd_and_hms(2026, 12, 24, 18, 0, 0).unwrap(),
    };
    let id = store
        .set_temporary_speed(&actor(), "novak", Some(speed))
        .await
        .unwrap();
    assert_eq!(store.temporary_speed("novak").await.unwrap(), Some(speed));
    assert_eq!(
        store.get_login("novak").await.unwrap().temporary,
        Some(speed)
    );
    let row = &store
        .access_rows(&crate::AccessScope::Login(id))
        .await
        .unwrap()[0];
    assert_eq!(
        (row.window, row.temporary, row.cap),
        (Some(window), Some(speed), Some(cap))
    );
    let audit = store
        .list_audit(
            &crate::AuditFilter::default(),
            crate::PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(audit.items[0].action, "login.temporary_speed");

    store
        .set_temporary_speed(&actor(), "novak", None)
        .await
        .unwrap();
    assert_eq!(store.temporary_speed("novak").await.unwrap(), None);
    expect_not_found(store.set_temporary_speed(&actor(), "nobody", None).await);
}

/// What a restarted daemon reads back: the last request to each session still open, so a
/// change a NAS missed before the restart is still corrected.
pub(super) async fn the_last_request_to_each_open_session(store: Store) {
    let sub = subscribed_client(&store, "1001").await.subscription.id;
    let novak = login(&store, sub, "novak").await;
    session(&store, Some(novak), "novak", "open", false).await;
    session(&store, Some(novak), "novak", "closed", true).await;
    let page = crate::PageRequest {
        size: 0,
        after: None,
    };
    let sessions = store.session_history("novak", page).await.unwrap().items;
    let id_of = |acct: &str| {
        sessions
            .iter()
            .find(|s| s.acct_session_id == acct)
            .map(|s| s.id)
            .unwrap()
    };
    let to = |acct: &str, minute, kind, outcome| EnforcementAttempt {
        login_id: Some(novak),
        session_id: Some(id_of(acct)),
        acct_session_id: acct.into(),
        kind,
        ..attempt("novak", minute, outcome)
    };
    store
        .record_enforcement(&[
            to("open", 0, RequestKind::Coa, Outcome::Ack),
            to("closed", 1, RequestKind::Coa, Outcome::Timeout),
            to("open", 2, RequestKind::Coa, Outcome::Nak),
        ])
        .await
        .unwrap();
    store
        .record_enforcement(&[to("open", 3, RequestKind::Disconnect, Outcome::Timeout)])
        .await
        .unwrap();
    assert_eq!(
        store.last_requests_to_open_sessions().await.unwrap(),
        [crate::LastRequest {
            login_id: Some(novak),
            kind: RequestKind::Disconnect,
            outcome: Outcome::Timeout,
            error_cause: None,
        }],
        "the open session's newest request only; the closed session's none"
    );
    // A newer request queued and never answered (the daemon was killed) is the last.
    store
        .record_enforcement(&[
            to("open", 4, RequestKind::Coa, Outcome::Ack),
            to("open", 5, RequestKind::Coa, Outcome::Queued),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.last_requests_to_open_sessions().await.unwrap()[0].outcome,
        Outcome::Queued
    );
}
