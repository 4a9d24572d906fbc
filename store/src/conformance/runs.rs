//! What the daily runs rely on: billing candidates in pages of clients, one instance per job.

use crate::testkit::fixtures::*;

pub(super) async fn billing_candidates_come_in_pages_of_clients(store: Store) {
    for number in ["4001", "4002", "4003"] {
        subscribed_client(&store, number).await;
    }
    // A client without subscriptions still takes its place in a page.
    store
        .create_client(&actor(), minimal_client("4004", "Contact"))
        .await
        .unwrap();
    let mut after = i64::MIN;
    let mut pages = Vec::new();
    loop {
        let (candidates, last) = store.billing_candidates_page(after, 2).await.unwrap();
        let Some(last) = last else { break };
        pages.push(
            candidates
                .iter()
                .map(|c| c.client_number.clone())
                .collect::<Vec<_>>(),
        );
        after = last;
    }
    assert_eq!(pages, [vec!["4001", "4002"], vec!["4003"]]);
}

pub(super) async fn one_instance_runs_a_job(store: Store) {
    let first = store.try_job_lock("daily").await.unwrap();
    assert!(first.is_some());
    let other = store.try_job_lock("sweep").await.unwrap();
    assert!(other.is_some(), "other jobs are not blocked");
    if store.backend() == crate::Backend::Postgres {
        assert!(
            store.try_job_lock("daily").await.unwrap().is_none(),
            "a second instance skips the job"
        );
    }
    drop(first);
    assert!(
        store.try_job_lock("daily").await.unwrap().is_some(),
        "released on drop"
    );
}
