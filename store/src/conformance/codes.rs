//! Code lists.

use crate::testkit::fixtures::*;

pub(super) async fn code_lists(store: Store) {
    let codes = |list: CodeList| {
        let store = store.clone();
        async move {
            store
                .list_codes(list)
                .await
                .unwrap()
                .into_iter()
                .map(|(code, _)| code)
                .collect::<Vec<_>>()
        }
    };
    let statuses = codes(CodeList::ClientStatus).await;
    for code in ["connected", "non_payer"] {
        assert!(statuses.iter().any(|c| c == code), "{code} in {statuses:?}");
    }
    let payment_types = codes(CodeList::PaymentType).await;
    for code in ["bank_transfer", "sipo"] {
        assert!(
            payment_types.iter().any(|c| c == code),
            "{code} in {payment_types:?}"
        );
    }
    let groups = store.invoice_groups().await.unwrap();
    assert!(
        groups.iter().any(|g| g.code == "default"),
        "the migrated default invoice group: {groups:?}"
    );

    store
        .put_code(&actor(), CodeList::ClientGroup, "vip", "VIP")
        .await
        .unwrap();
    store
        .put_code(&actor(), CodeList::ClientGroup, "vip", "VIP customers")
        .await
        .unwrap();
    assert_eq!(
        store.list_codes(CodeList::ClientGroup).await.unwrap(),
        [("vip".to_owned(), "VIP customers".to_owned())]
    );

    let mut client = minimal_client("1", "Grouped");
    client.groups = vec!["vip".into()];
    let (client, _) = store.create_client(&actor(), client).await.unwrap();
    expect_precondition(
        store
            .delete_code(&actor(), CodeList::ClientGroup, "vip")
            .await,
    );
    expect_precondition(
        store
            .delete_code(&actor(), CodeList::ClientStatus, "connected")
            .await,
    );
    expect_precondition(
        store
            .delete_code(&actor(), CodeList::PaymentType, "bank_transfer")
            .await,
    );
    assert!(
        codes(CodeList::ClientGroup)
            .await
            .contains(&"vip".to_owned())
    );

    // Once no client uses it, the code can go.
    let mut ungrouped = client;
    ungrouped.groups.clear();
    store.update_client(&actor(), ungrouped).await.unwrap();
    store
        .delete_code(&actor(), CodeList::ClientGroup, "vip")
        .await
        .unwrap();
    assert!(codes(CodeList::ClientGroup).await.is_empty());
    expect_not_found(
        store
            .delete_code(&actor(), CodeList::ClientGroup, "vip")
            .await,
    );
    let mut client = minimal_client("2", "Gone group");
    client.groups = vec!["vip".into()];
    expect_invalid(store.create_client(&actor(), client).await, "client.groups");
}

/// The closing of the books: none at first, recorded, moved forward in place (one row), read
/// inside a transaction too, each closing audited with what it replaced.
pub(super) async fn books_closing_round_trip(store: Store) {
    assert_eq!(store.books_closed_until().await.unwrap(), None);
    for until in [date(2026, 9, 30), date(2026, 10, 31)] {
        let mut tx = store.begin_write().await.unwrap();
        store
            .close_books_in(&mut tx, &actor(), until)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    assert_eq!(
        store.books_closed_until().await.unwrap(),
        Some(date(2026, 10, 31))
    );
    let mut tx = store.begin_write().await.unwrap();
    assert_eq!(
        store.books_closed_until_in(&mut tx).await.unwrap(),
        Some(date(2026, 10, 31))
    );
    drop(tx);
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM books_closing")
        .fetch_one(crate::testkit::pool(&store))
        .await
        .unwrap();
    assert_eq!(rows, 1);
    let audit = store
        .list_audit(&AuditFilter::default(), PageRequest::default())
        .await
        .unwrap();
    let closings: Vec<_> = audit
        .items
        .iter()
        .filter(|e| e.action == "books.close")
        .map(|e| {
            (
                e.entity_key.clone(),
                e.before_json.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(closings.len(), 2, "{closings:?}");
    assert!(
        closings
            .iter()
            .any(|(key, before)| key == "2026-10-31" && before.contains("2026-09-30")),
        "{closings:?}"
    );
}
