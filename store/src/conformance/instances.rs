//! Several instances on one database: the change log and the heartbeats.

use crate::testkit::fixtures::*;
use crate::{AccessScope, Backend, InstanceRow, Logged};
use ispd_billing::subscription::{DatedTransition, apply};

pub(super) async fn the_change_log_records_what_alters_an_answer(store: Store) {
    let sub = subscribed_client(&store, "1001").await.subscription.id;
    let login = store
        .create_login(&actor(), ppp_login("novak", sub), "arctangent")
        .await
        .unwrap()
        .login
        .id;
    let changes = store.changes_after(0, 100).await.unwrap();
    if store.backend() == Backend::Sqlite {
        // One instance: nothing to tell anyone.
        assert!(changes.is_empty());
        assert_eq!(store.change_log_bounds().await.unwrap(), (None, None));
        return;
    }
    let logged: Vec<Logged> = changes.iter().map(|c| c.what.clone()).collect();
    assert!(
        logged.contains(&Logged::Access(AccessScope::Login(login))),
        "{logged:?}"
    );
    assert!(changes.iter().all(|c| c.origin == "ispd"), "{changes:?}");
    let last = changes.last().unwrap().id;
    assert!(changes.windows(2).all(|w| w[0].id < w[1].id), "in order");

    // What the billing run writes (billed_until) is no change of an answer; a block is.
    let before = store.get_subscription(sub).await.unwrap();
    let block = DatedTransition {
        transition: Transition::Block,
        date: today(),
        billing_suspended: false,
        note: String::new(),
        reason: String::new(),
    };
    let blocked = apply(&before.subscription, &block, None, today()).unwrap();
    store
        .write_transition(&actor(), &before, &blocked)
        .await
        .unwrap();
    let after = store.changes_after(last, 100).await.unwrap();
    assert_eq!(
        after.iter().map(|c| c.what.clone()).collect::<Vec<_>>(),
        [Logged::Access(AccessScope::Subscription(sub))]
    );
    assert_eq!(
        store.change_log_bounds().await.unwrap().1,
        Some(after[0].id)
    );
    // Pruned by age: everything is younger than an hour.
    let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    assert_eq!(store.prune_change_log(hour_ago).await.unwrap(), 0);
    let all = store.prune_change_log(chrono::Utc::now() + chrono::Duration::hours(1));
    assert!(all.await.unwrap() > 0);
    assert_eq!(store.change_log_bounds().await.unwrap(), (None, None));
}

pub(super) async fn heartbeats_round_trip(store: Store) {
    let beat = |id: &str, at: &str, applied| InstanceRow {
        id: id.into(),
        version: "0.1.0".into(),
        started_at: "2026-12-05T06:00:00.000000Z".into(),
        heartbeat_at: at.into(),
        applied_change: applied,
    };
    let long_ago = chrono::DateTime::parse_from_rfc3339("2026-12-04T00:00:00Z")
        .unwrap()
        .to_utc();
    let at = |text| chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc();
    assert_eq!(store.last_heartbeat_of_others().await.unwrap(), None);
    // This store's own beats are not another's.
    let own = beat(store.instance(), "2026-12-05T06:00:01.000000Z", 0);
    store.heartbeat(&own, long_ago).await.unwrap();
    assert_eq!(store.last_heartbeat_of_others().await.unwrap(), None);
    let a = beat("host-a:1", "2026-12-05T06:00:05.000000Z", 7);
    store.heartbeat(&a, long_ago).await.unwrap();
    let a = beat("host-a:1", "2026-12-05T06:00:10.000000Z", 9);
    store.heartbeat(&a, long_ago).await.unwrap();
    let b = beat("host-b:2", "2026-12-05T06:00:11.000000Z", 8);
    store.heartbeat(&b, long_ago).await.unwrap();
    assert_eq!(
        store.last_heartbeat_of_others().await.unwrap(),
        Some(at("2026-12-05T06:00:11Z"))
    );
    let mut all = vec![a.clone(), b.clone(), own];
    all.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(store.instances().await.unwrap(), all);
    // An instance silent since before the cut is forgotten.
    let cut = chrono::DateTime::parse_from_rfc3339("2026-12-05T06:00:10.500000Z")
        .unwrap()
        .to_utc();
    store.heartbeat(&b, cut).await.unwrap();
    assert_eq!(store.instances().await.unwrap(), [b]);
}

/// An instance that died (no clean stop, no connection left) is found by the next start
/// with its last heartbeat, and what it logged since shortly before it; once caught up on
/// (or stopped cleanly) it is not found again, until it beats again.
pub(super) async fn a_dead_instances_last_changes_are_found_once(store: Store) {
    let sub = subscribed_client(&store, "1001").await.subscription.id;
    let login = store
        .create_login(&actor(), ppp_login("novak", sub), "arctangent")
        .await
        .unwrap()
        .login
        .id;
    let dead = "host-a:1".to_owned();
    if store.backend() == Backend::Postgres {
        // The login was logged by this store's instance; the dead one logged another change.
        sqlx::query("INSERT INTO change_log (scope, key, origin) VALUES ('subscription', $1, $2)")
            .bind(sub.to_string())
            .bind(dead.clone())
            .execute(&store.pool)
            .await
            .unwrap();
    }
    let now = chrono::Utc::now();
    let beat = |id: &str| InstanceRow {
        id: id.into(),
        version: "0.1.0".into(),
        started_at: crate::timestamp(now - chrono::Duration::hours(1)),
        heartbeat_at: crate::timestamp(now - chrono::Duration::seconds(3)),
        applied_change: 0,
    };
    let long_ago = now - chrono::Duration::days(1);
    store.heartbeat(&beat(&dead), long_ago).await.unwrap();
    store
        .heartbeat(&beat(store.instance()), long_ago)
        .await
        .unwrap();
    let untold = store.instances_untold().await.unwrap();
    assert_eq!(untold.len(), 1, "not this instance: {untold:?}");
    assert_eq!(untold[0].0, dead);
    let since = untold[0].1 - chrono::Duration::minutes(5);
    let logged = store
        .logged_since(std::slice::from_ref(&dead), since)
        .await
        .unwrap();
    let expected = match store.backend() {
        // Only what the dead instance logged.
        Backend::Postgres => vec![Logged::Access(AccessScope::Subscription(sub))],
        // One instance at a time: everything logged since.
        Backend::Sqlite => vec![Logged::Access(AccessScope::Login(login))],
    };
    assert_eq!(logged, expected);
    let later = chrono::Utc::now() + chrono::Duration::minutes(1);
    assert!(
        store
            .logged_since(std::slice::from_ref(&dead), later)
            .await
            .unwrap()
            .is_empty()
    );

    store.mark_told(std::slice::from_ref(&dead)).await.unwrap();
    assert!(store.instances_untold().await.unwrap().is_empty());
    store.heartbeat(&beat(&dead), long_ago).await.unwrap();
    assert_eq!(
        store.instances_untold().await.unwrap().len(),
        1,
        "alive again"
    );
}

/// The daily jobs' record, and the lead of the clock's pushes: one holder at a time on
/// PostgreSQL, released with its connection; always granted to SQLite's one instance.
pub(super) async fn job_runs_and_the_lead(store: Store) {
    let day = date(2026, 12, 5);
    assert!(!store.job_ran("daily", day).await.unwrap());
    assert_eq!(store.last_job_run("daily").await.unwrap(), None);
    store
        .record_job_run("daily", day, "billing: 3 documents")
        .await
        .unwrap();
    store.record_job_run("daily", day, "again").await.unwrap();
    assert!(store.job_ran("daily", day).await.unwrap());
    let last = store.last_job_run("daily").await.unwrap().unwrap();
    assert_eq!(
        (last.day.as_str(), last.outcome.as_str()),
        ("2026-12-05", "billing: 3 documents"),
        "the first record of a day stands"
    );
    assert!(!store.job_ran("daily", date(2026, 12, 6)).await.unwrap());

    let mut first = store
        .try_lead("clock")
        .await
        .unwrap()
        .expect("nobody leads yet");
    first.check().await.unwrap();
    let second = store.try_lead("clock").await.unwrap();
    if store.backend() == Backend::Sqlite {
        assert!(second.is_some(), "one instance leads always");
        return;
    }
    assert!(second.is_none(), "one holder at a time");
    assert!(store.try_lead("another role").await.unwrap().is_some());
    drop(first);
    // The lock goes with the connection; the server notices the close at once on loopback,
    // but give it a moment.
    let mut taken = None;
    for _ in 0..50 {
        taken = store.try_lead("clock").await.unwrap();
        if taken.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        taken.is_some(),
        "the lead passes on when its holder is gone"
    );
}
