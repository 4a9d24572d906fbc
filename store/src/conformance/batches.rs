//! Batches of documents: the billing run's two ways of issuing them write the same.

use ispd_billing::invoice::{LineInput, PriceBasis, compute_line};

use super::invoice_groups::full_invoice_group;
use crate::testkit::fixtures::*;
use crate::{
    Backend, BilledPeriods, ClientHead, DocumentKind, InvoiceDraft, InvoiceLineRecord,
    InvoiceRecord, StoreResult,
};

/// December's invoice of a client's one subscription.
async fn december(store: &Store, number: &str) -> InvoiceDraft {
    let record = subscribed_client(store, number).await;
    let client = store.get_client(number).await.unwrap();
    let head = ClientHead {
        client_id: client.id,
        client_number: client.number.clone(),
        client_name: client.name.clone(),
        invoice_group: "business".into(),
    };
    let mut draft = InvoiceDraft::empty(DocumentKind::Invoice, &head, date(2026, 12, 1));
    draft.currency = "CZK".into();
    draft.due_date = date(2026, 12, 15);
    let line = compute_line(&LineInput {
        description: "Fiber 100 12/2026".into(),
        quantity: dec("1"),
        unit_price: dec("499.90"),
        basis: PriceBasis::Gross,
        vat_rate: dec("21"),
    });
    let period = (date(2026, 12, 1), date(2026, 12, 31));
    draft.lines.push(InvoiceLineRecord {
        line,
        subscription_id: Some(record.subscription.id),
        period: Some(period),
        reverses: None,
    });
    draft.billed_until.push(BilledPeriods {
        subscription: record.subscription.id,
        from: record.billed_until,
        until: period.1,
    });
    draft.total_up();
    draft
}

/// How far the draft's subscription is billed now.
async fn billed_until(store: &Store, draft: &InvoiceDraft) -> Option<chrono::NaiveDate> {
    let subscription = draft.billed_until[0].subscription;
    store
        .get_subscription(subscription)
        .await
        .unwrap()
        .billed_until
}

/// What a document holds apart from whom it is for and its number.
fn content(mut record: InvoiceRecord) -> InvoiceRecord {
    record.id = 0;
    record.number.clear();
    let d = &mut record.draft;
    (d.client_id, d.client_number, d.client_name) = (0, String::new(), String::new());
    d.variable_symbol.clear();
    d.billed_until.clear();
    for line in &mut d.lines {
        line.subscription_id = None;
    }
    record
}

/// A batch issued on its own (on a SQLite file, on the store's own connection) stores what
/// the general path stores; a batch whose client holds credit, or that is not plain new
/// invoices, is declined with nothing written — the use case must settle it in one
/// transaction with its issuing.
pub(super) async fn a_batch_issued_alone_stores_what_the_general_path_does(store: Store) {
    create_full_client_codes(&store).await;
    store
        .create_invoice_group(&actor(), full_invoice_group("business"))
        .await
        .unwrap();
    let alone = december(&store, "5001").await;
    let general = december(&store, "5002").await;
    let holding = december(&store, "5003").await;
    sqlx::query("UPDATE client SET credit_minor = 10000 WHERE number = '5003'")
        .execute(&store.pool)
        .await
        .unwrap();

    let (drafts, issued) = store
        .issue_batch_alone(&actor(), vec![alone.clone()])
        .await
        .unwrap();
    assert_eq!(
        drafts,
        std::slice::from_ref(&alone),
        "the drafts come back as they went"
    );
    let issued = match store.backend() {
        Backend::Sqlite => issued.expect("a plain batch with no credit is issued alone"),
        // PostgreSQL has no connection of the store's own: always the general way.
        Backend::Postgres => {
            assert_eq!(issued, None);
            let mut tx = store.begin_write().await.unwrap();
            let issued = store
                .issue_batch_in(&mut tx, &actor(), &drafts)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            issued
        }
    };
    let mut tx = store.begin_write().await.unwrap();
    let second = store
        .issue_batch_in(&mut tx, &actor(), std::slice::from_ref(&general))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let first = issued[0].clone().expect("issued");
    let second = second[0].clone().expect("issued");
    // One series, no gap between the two ways.
    let seq = |number: &str| number[number.len() - 4..].parse::<u32>().unwrap();
    assert_eq!(seq(&second.number), seq(&first.number) + 1);
    let (a, b) = (
        store.get_invoice(&first.number).await.unwrap(),
        store.get_invoice(&second.number).await.unwrap(),
    );
    assert_eq!(a.draft.client_number, "5001");
    assert_eq!(a.draft.lines.len(), 1);
    assert_eq!(content(a), content(b));
    for (number, draft) in [(&first.number, &alone), (&second.number, &general)] {
        assert_eq!(billed_until(&store, draft).await, Some(date(2026, 12, 31)));
        assert_eq!(
            audit_of(&store, &draft.client_number, "invoice")
                .await
                .iter()
                .map(|e| (e.action.as_str(), e.entity_key.as_str()))
                .collect::<Vec<_>>(),
            [("invoice.issue", number.as_str())]
        );
    }
    // The same client data, snapshotted both ways, but each its own.
    let snapshot = "SELECT client_snapshot_json FROM invoice WHERE number = $1";
    let (x, y) = (
        raw_text(&store, snapshot, &first.number).await,
        raw_text(&store, snapshot, &second.number).await,
    );
    assert_eq!(x.replace("5001", "5002"), y);

    // Declined: a client holding credit, a credit note. Nothing is written.
    let mut credit_note = alone.clone();
    credit_note.kind = DocumentKind::CreditNote;
    for batch in [vec![holding.clone()], vec![credit_note]] {
        let (_, issued) = store.issue_batch_alone(&actor(), batch).await.unwrap();
        assert_eq!(issued, None);
    }
    assert_eq!(billed_until(&store, &holding).await, None);
    assert!(audit_of(&store, "5003", "invoice").await.is_empty());
}

/// A write on the store's own connection (a SQLite file only) commits what it keeps, and
/// nothing of a write it does not keep or that fails; elsewhere it is refused, and
/// `writes_alone` says so beforehand.
pub(super) async fn a_write_alone_commits_only_what_it_keeps(store: Store) {
    subscribed_client(&store, "6001").await;
    let suspend = |keep: bool| {
        let store = store.clone();
        async move |tx: &mut crate::OwnTx<'_, '_>| -> StoreResult<bool> {
            store
                .set_debt_suspended_in(tx, &actor(), "6001", true, dec("0"), serde_json::json!([]))
                .await?;
            Ok(keep)
        }
    };
    let suspended = async || {
        let mut tx = store.begin_write().await.unwrap();
        store.debt_suspended_clients_in(&mut tx).await.unwrap()
    };
    if store.backend() == Backend::Postgres {
        assert!(!store.writes_alone());
        let refused = store.write_alone(suspend(true), |keep| *keep).await;
        expect_precondition(refused);
        assert!(suspended().await.is_empty());
        return;
    }
    assert!(store.writes_alone());
    assert!(
        !store
            .write_alone(suspend(false), |keep| *keep)
            .await
            .unwrap()
    );
    assert!(suspended().await.is_empty(), "a write not kept rolls back");
    let failing = store.clone();
    let failed = store
        .write_alone(
            async move |tx: &mut crate::OwnTx<'_, '_>| -> StoreResult<i64> {
                failing.client_id_in(tx, "no-such").await
            },
            |_| true,
        )
        .await;
    expect_not_found(failed);
    assert!(
        store
            .write_alone(suspend(true), |keep| *keep)
            .await
            .unwrap()
    );
    assert_eq!(suspended().await, ["6001".to_owned()].into());
    assert_eq!(
        client_audit_actions(&store, "6001", "client")
            .await
            .first()
            .map(String::as_str),
        Some("client.suspend"),
        "the kept write has its audit record"
    );
}

/// A bulk call's log reaches the database file once the call closes its connection, with no
/// other write after it and no restart: the connection copies it on its way out. (Nothing
/// else writes the file here: the pool's writes checkpoint only past 1,000 pages of log, and
/// the bulk connection not while it writes.)
pub(super) async fn a_bulk_write_reaches_the_database_file(store: Store, url: String) {
    let Some(path) = url.strip_prefix("sqlite://") else {
        return; // PostgreSQL: no log of SQLite's to copy.
    };
    subscribed_client(&store, "6101").await;
    let outside = rusqlite::Connection::open(path).unwrap();
    // The log copied in full first, so that only the bulk write can change the file.
    outside
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let modified = || std::fs::metadata(path).unwrap().modified().unwrap();
    let before = modified();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let writer = store.clone();
    store
        .write_alone(
            async move |tx: &mut crate::OwnTx<'_, '_>| -> StoreResult<()> {
                writer
                    .set_debt_suspended_in(
                        tx,
                        &actor(),
                        "6101",
                        true,
                        dec("0"),
                        serde_json::json!([]),
                    )
                    .await
            },
            |_| true,
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(modified(), before, "copied while the bulk call still ran");
    store.close_batch_connection();
    for _ in 0..100 {
        if modified() != before {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the bulk call's log was not copied into the database file within 5 s of its end");
}
