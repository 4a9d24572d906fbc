//! The authentication log: batches in, filtered pages out newest first, pruned by age.

use chrono::{Duration, TimeZone, Utc};

use crate::testkit::fixtures::*;
use crate::{AuthAttempt, AuthLogEntry, AuthLogFilter, AuthResult, PageRequest};

fn attempt(login: &str, minute: i64, nas: &str, reason: &'static str) -> AuthAttempt {
    let at = Utc.with_ymd_and_hms(2026, 12, 5, 10, 0, 0).unwrap() + Duration::minutes(minute);
    AuthAttempt {
        at,
        last_at: at + Duration::seconds(9),
        count: 3,
        login: login.into(),
        nas_name: nas.into(),
        calling_station: "AA-BB-CC-DD-EE-0F".into(),
        method: "pap",
        result: if reason == "active" {
            AuthResult::Accept
        } else {
            AuthResult::Reject
        },
        reason,
    }
}

fn same(entry: &AuthLogEntry, attempt: &AuthAttempt) -> bool {
    entry.at == attempt.at
        && entry.last_at == attempt.last_at
        && entry.count == attempt.count
        && entry.login == attempt.login
        && *entry.nas_name == *attempt.nas_name
        && entry.calling_station == attempt.calling_station
        && entry.method == attempt.method
        && entry.result == attempt.result
        && entry.reason == attempt.reason
}

pub(super) async fn auth_log_filters_pages_and_prunes(store: Store) {
    let batch = [
        attempt("novak", 0, "bras-1", "bad_credential"),
        attempt("novak", 1, "bras-1", "active"),
        attempt("svoboda", 2, "bras-2", "suspended_for_debt"),
        attempt("novak", 3, "bras-2", "simultaneous_use"),
        attempt("02:00:00:00:00:01", 4, "hotspot", "unknown_user"),
    ];
    store.record_auth_attempts(&batch[..2]).await.unwrap();
    store.record_auth_attempts(&batch[2..]).await.unwrap();
    store.record_auth_attempts(&[]).await.unwrap();
    let list = |filter: AuthLogFilter, size| {
        let store = store.clone();
        async move {
            store
                .auth_log(&filter, PageRequest { size, after: None })
                .await
                .unwrap()
        }
    };

    let novak = list(
        AuthLogFilter {
            login: "novak".into(),
            ..Default::default()
        },
        0,
    )
    .await;
    assert_eq!(novak.items.len(), 3);
    for (entry, expected) in novak.items.iter().zip([&batch[3], &batch[1], &batch[0]]) {
        assert!(
            same(entry, expected),
            "every field, newest first: {entry:?}"
        );
    }
    let rejects_on_bras_2 = list(
        AuthLogFilter {
            nas_name: "bras-2".into(),
            result: Some(AuthResult::Reject),
            ..Default::default()
        },
        0,
    )
    .await;
    let logins: Vec<_> = rejects_on_bras_2
        .items
        .iter()
        .map(|e| e.login.as_str())
        .collect();
    assert_eq!(logins, ["novak", "svoboda"]);
    let by_reason = list(
        AuthLogFilter {
            reason: "unknown_user".into(),
            ..Default::default()
        },
        0,
    )
    .await;
    assert_eq!(by_reason.items.len(), 1);
    assert!(same(&by_reason.items[0], &batch[4]));
    assert!(
        AuthLogFilter {
            reason: "unknown_user".into(),
            ..Default::default()
        }
        .matches(&batch[4])
    );

    let first = list(AuthLogFilter::default(), 2).await;
    let rest = store
        .auth_log(
            &AuthLogFilter::default(),
            PageRequest::parse(10, &first.next_page_token).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(first.items.len() + rest.items.len(), batch.len());
    assert!(rest.next_page_token.is_empty());

    let pruned = store.prune_auth_log(batch[2].at).await.unwrap();
    assert_eq!(pruned, 2, "the two older than the cut");
    assert_eq!(list(AuthLogFilter::default(), 0).await.items.len(), 3);
}
