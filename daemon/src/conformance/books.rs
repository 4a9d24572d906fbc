//! The books: numbering under concurrent runs, idempotent imports, money conserved.

use ispd_store::testkit::fixtures::*;

use super::dunning::bill;

/// Money is conserved for a client: what their documents received, plus their credit, plus
/// what was refunded, is what they paid (plus an opening credit); and every document's paid
/// amount is explained by its payment allocations and credit applications.
pub(super) async fn assert_books_balance(store: &Store, number: &str) {
    let client: i64 = sqlx::query_scalar("SELECT id FROM client WHERE number = $1")
        .bind(number.to_owned())
        .fetch_one(ispd_store::testkit::pool(store))
        .await
        .unwrap();
    let sum = |sql: &'static str| {
        let pool = ispd_store::testkit::pool(store).clone();
        async move {
            let total: Option<i64> = sqlx::query_scalar(sql)
                .bind(client)
                .fetch_one(&pool)
                .await
                .unwrap();
            total.unwrap_or(0)
        }
    };
    let paid_on_documents = sum("SELECT CAST(SUM(paid_minor) AS BIGINT) FROM invoice WHERE client_id = $1 AND kind <> 'credit_note' AND NOT (kind = 'invoice' AND related_invoice_id IS NOT NULL AND EXISTS (SELECT 1 FROM invoice p WHERE p.id = invoice.related_invoice_id AND p.kind = 'proforma'))").await;
    let credit = sum("SELECT credit_minor FROM client WHERE id = $1").await;
    let refunds =
        sum("SELECT CAST(SUM(amount_minor) AS BIGINT) FROM refund WHERE client_id = $1").await;
    let payments =
        sum("SELECT CAST(SUM(amount_minor) AS BIGINT) FROM payment WHERE client_id = $1").await;
    let opening = sum(
        "SELECT CASE WHEN opening_balance_minor > 0 THEN opening_balance_minor ELSE 0 END
         FROM client WHERE id = $1",
    )
    .await;
    assert_eq!(
        paid_on_documents + credit + refunds,
        payments + opening,
        "client {number}: paid on documents {paid_on_documents} + credit {credit} + refunds \
         {refunds} != payments {payments} + opening credit {opening}"
    );
    let unexplained: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM invoice i WHERE i.client_id = $1 AND i.kind <> 'credit_note'
            AND NOT (i.kind = 'invoice' AND i.related_invoice_id IS NOT NULL)
            AND i.paid_minor <>
                COALESCE((SELECT SUM(a.amount_minor) FROM payment_allocation a
                    WHERE a.invoice_id = i.id), 0)
                + COALESCE((SELECT SUM(c.amount_minor) FROM credit_application c
                    WHERE c.invoice_id = i.id), 0)",
    )
    .bind(client)
    .fetch_one(ispd_store::testkit::pool(store))
    .await
    .unwrap();
    assert_eq!(
        unexplained, 0,
        "client {number}: a document's paid amount is unexplained"
    );
    // The balance (`ispctl client balance`) and the statement's closing line are the same
    // books seen from two sides: they agree.
    let b = store.client_balance(number).await.unwrap();
    let closing = crate::app::payments::statement(&super::app(store), number)
        .await
        .unwrap()
        .value
        .last()
        .map_or(rust_decimal::Decimal::ZERO, |row| row.running_balance);
    assert_eq!(
        ispd_billing::payment::standing(b.credit, b.owed),
        closing,
        "client {number}: balance (credit {}, owed {}) and statement disagree",
        b.credit,
        b.owed
    );
}

pub(super) async fn concurrent_billing_runs_number_without_gaps(store: Store) {
    for n in 0..12 {
        subscribed_client(&store, &format!("{}", 2001 + n)).await;
    }
    let (a, b) = tokio::join!(
        bill(&store, date(2026, 1, 1)),
        bill(&store, date(2026, 1, 1))
    );
    let mut numbers: Vec<String> = a.into_iter().chain(b).collect();
    numbers.sort();
    let expected: Vec<String> = (1..=12).map(|n| format!("2026{n:05}")).collect();
    assert_eq!(numbers, expected, "each client once, numbers gap-free");
    assert!(bill(&store, date(2026, 1, 1)).await.is_empty());
    // The next month continues the series.
    assert_eq!(
        bill(&store, date(2026, 2, 1))
            .await
            .first()
            .map(String::as_str),
        Some("202600013")
    );
}

pub(super) async fn a_run_in_batches_ends_as_in_one(store: Store) {
    // Nine clients in batches of two, one batch stored while the next is drafted; client
    // 5005 holds credit, so its batch goes the general way and the credit pays its invoice.
    for n in 1..=9 {
        subscribed_client(&store, &format!("500{n}")).await;
    }
    let credit = [line("B1", "100.00", "5005")];
    super::record_payments(&store, &actor(), &credit, "CZK")
        .await
        .unwrap();
    let run = |as_of| {
        let config = crate::config::BillingConfig::default();
        let store = store.clone();
        async move {
            let batches = crate::app::billing_run::Batches {
                size: 2,
                stopping: &crate::app::Stopping::new(),
            };
            crate::app::billing_run::run_in_batches(
                &store,
                &config,
                &actor(),
                as_of,
                false,
                3,
                batches,
            )
            .await
            .unwrap()
        }
    };
    let summary = run(date(2026, 1, 1)).await;
    assert_eq!(summary.count, 9);
    let kept: Vec<_> = summary
        .documents
        .iter()
        .map(|d| (d.number.as_deref(), d.draft.client_number.as_str()))
        .collect();
    assert_eq!(
        kept,
        [
            (Some("202600001"), "5001"),
            (Some("202600002"), "5002"),
            (Some("202600003"), "5003"),
        ],
        "the first documents kept in full, in client order"
    );
    assert!(summary.documents.iter().all(|d| d.stored.is_some()));
    // Every client's invoice, numbered gap-free in client order across the batches.
    for n in 1..=9 {
        let number = format!("20260000{n}");
        let invoice = store.get_invoice(&number).await.unwrap();
        assert_eq!(invoice.draft.client_number, format!("500{n}"));
        let paid = if n == 5 { dec("100.00") } else { dec("0") };
        assert_eq!(invoice.paid, paid, "{number}");
        assert_books_balance(&store, &format!("500{n}")).await;
    }
    assert_eq!(
        run(date(2026, 1, 1)).await.count,
        0,
        "nothing is billed twice"
    );
}

pub(super) async fn books_balance_through_payments_imports_credit_notes_and_refunds(store: Store) {
    let mut migrated = minimal_client("3001", "Migrated");
    migrated.invoicing.opening_balance = dec("100.00");
    crate::app::clients::create(&super::app(&store), &actor(), migrated)
        .await
        .unwrap();
    store
        .create_tariff(&actor(), tariff("Fiber 100", "499.90"))
        .await
        .unwrap();
    store
        .create_subscription(
            &actor(),
            "3001",
            "Fiber 100",
            subscription(date(2026, 1, 1)),
            today(),
        )
        .await
        .unwrap();
    assert_books_balance(&store, "3001").await;
    // The opening credit pays part of the first invoice as it is issued.
    let january = bill(&store, date(2026, 1, 1)).await;
    assert_books_balance(&store, "3001").await;
    let statement = [
        line("T1", "250.00", "3001"),
        line("T2", "400.00", "3001"),
        line("T3", "5.00", "9999"),
    ];
    let first = super::record_payments(&store, &actor(), &statement, "CZK")
        .await
        .unwrap();
    assert_eq!(first.iter().filter(|o| o.duplicate).count(), 0);
    assert_books_balance(&store, "3001").await;
    // The same statement again records nothing.
    let again = super::record_payments(&store, &actor(), &statement, "CZK")
        .await
        .unwrap();
    assert!(again.iter().all(|o| o.duplicate));
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payment")
        .fetch_one(ispd_store::testkit::pool(&store))
        .await
        .unwrap();
    assert_eq!(count, 3);
    // A line repeated inside one statement is recorded once.
    let repeated = [line("T4", "1.00", "9999"), line("T4", "1.00", "9999")];
    let outcomes = super::record_payments(&store, &actor(), &repeated, "CZK")
        .await
        .unwrap();
    assert_eq!(
        outcomes.iter().map(|o| o.duplicate).collect::<Vec<_>>(),
        [false, true]
    );
    // Money in another currency than the client is invoiced in is never taken for it: the
    // entry naming 3001 is stored unmatched with its own currency, and cannot be assigned.
    let euros = crate::storage::NewPayment {
        currency: "EUR".into(),
        ..line("T5", "20.00", "3001")
    };
    let outcome = super::record_payments(&store, &actor(), &[euros], "CZK")
        .await
        .unwrap();
    assert_eq!(
        (outcome[0].client_id, outcome[0].currency.as_str()),
        (None, "EUR")
    );
    assert!(outcome[0].unmatched_reason.is_some());
    let unmatched = store.unmatched_payments("CZK").await.unwrap();
    let foreign = unmatched.iter().find(|u| u.currency == "EUR").unwrap();
    assert_eq!(foreign.amount_minor, 2000);
    let refused = super::assign_payment(&store, foreign.id, "3001", None)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, crate::app::AppError::Precondition(_)),
        "{refused:?}"
    );
    let manual = crate::storage::NewPayment {
        currency: "EUR".into(),
        client_number: Some("3001".into()),
        bank_transaction_id: None,
        statement_account: None,
        ..line("", "20.00", "")
    };
    let refused = super::record_payments(&store, &actor(), &[manual], "CZK")
        .await
        .unwrap_err();
    assert!(
        matches!(refused, crate::app::AppError::Invalid(_)),
        "{refused:?}"
    );
    // 100 + 650 paid against 499.90: the rest is credit.
    let balance = store.client_balance("3001").await.unwrap();
    assert_eq!((balance.credit, balance.owed), (dec("250.10"), dec("0")));
    // Cancelling the paid invoice returns its money to credit; refunding part of it.
    super::cancel_invoice(&store, &january[0], "wrong tariff", date(2026, 1, 25))
        .await
        .unwrap();
    assert_books_balance(&store, "3001").await;
    assert_eq!(
        store.client_balance("3001").await.unwrap().credit,
        dec("750.00")
    );
    let refund = ("3001", dec("50.00"), "");
    crate::app::payments::refund(
        &super::app(&store),
        &actor(),
        refund,
        Some(date(2026, 1, 26)),
    )
    .await
    .unwrap();
    assert_books_balance(&store, "3001").await;
    // February is paid from the credit at issue.
    bill(&store, date(2026, 2, 1)).await;
    assert_books_balance(&store, "3001").await;
    let balance = store.client_balance("3001").await.unwrap();
    assert_eq!((balance.credit, balance.owed), (dec("200.10"), dec("0")));
    // March takes the credit at issue (299.80 left), April is billed in full; then 600.00
    // arrives unmatched and is assigned by hand to March by its number: March first, the
    // 300.20 beyond what it asks goes on April (it once stayed on March, where the balance
    // showed it as debt and no refund or later document saw it).
    let march = bill(&store, date(2026, 3, 1)).await;
    bill(&store, date(2026, 4, 1)).await;
    super::record_payments(&store, &actor(), &[line("T6", "600.00", "4242")], "CZK")
        .await
        .unwrap();
    let unmatched = store.unmatched_payments("CZK").await.unwrap();
    let six_hundred = unmatched.iter().find(|u| u.amount_minor == 60000).unwrap();
    super::assign_payment(&store, six_hundred.id, "3001", Some(&march[0]))
        .await
        .unwrap();
    let balance = store.client_balance("3001").await.unwrap();
    assert_eq!((balance.credit, balance.owed), (dec("0"), dec("199.70")));
    assert_books_balance(&store, "3001").await;
}

/// A client whose only record is a billed one-off charge keeps its books: the refusal names
/// them, not the charge (which can no longer be deleted: it is on an invoice).
pub(super) async fn a_client_with_books_is_refused_naming_them(store: Store) {
    store
        .create_client(&actor(), minimal_client("4001", "Survey only"))
        .await
        .unwrap();
    let survey = store
        .add_charge(
            &actor(),
            "4001",
            None,
            one_off("Survey", "300", date(2026, 1, 5)),
        )
        .await
        .unwrap();
    assert_eq!(bill(&store, date(2026, 1, 31)).await.len(), 1);
    expect_precondition(store.delete_charge(&actor(), survey.id).await);
    match store.delete_client(&actor(), "4001").await {
        Err(StoreError::Precondition(reason)) => assert!(
            reason.contains("invoices or payments") && !reason.contains("unbilled"),
            "{reason}"
        ),
        other => panic!("expected the books named, got {other:?}"),
    }
}

/// A batch of payments recorded one payment or four at a time ends as in one go, in the
/// statement's order within and across parts: each part reads what
/// the parts before it wrote — a bank transaction repeated two parts later is a duplicate, a
/// client paid again finds its invoice paid and keeps the money as credit — and a refused
/// payment in the last part records none of the parts before it.
pub(super) async fn payments_recorded_in_parts_end_as_in_one(store: Store) {
    // Two clients for each size of part: one payment a part, and parts of four (the first
    // part holds a repeat and a client paid twice; the second is shorter).
    let sizes = [1, 4];
    for size in sizes {
        subscribed_client(&store, &format!("40{size}1")).await;
        subscribed_client(&store, &format!("40{size}2")).await;
    }
    assert_eq!(bill(&store, date(2026, 1, 1)).await.len(), 4);
    let payments = |parts: usize, statement: &[crate::storage::NewPayment]| {
        let (store, statement) = (store.clone(), statement.to_vec());
        async move {
            let mut tx = store.begin_write().await?;
            let outcomes = crate::app::payments::record_in_parts(
                &store,
                &mut tx,
                &actor(),
                statement,
                "CZK",
                parts,
            )
            .await?;
            tx.commit().await?;
            Ok::<_, crate::app::AppError>(outcomes)
        }
    };
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM payment")
            .fetch_one(ispd_store::testkit::pool(&store))
            .await
            .unwrap()
    };
    // The last part's payment is refused: nothing of the earlier parts stays.
    let refused = [line("R1", "499.90", "4011"), line("R2", "-1.00", "4012")];
    assert!(payments(1, &refused).await.is_err());
    assert_eq!(count().await, 0);

    for size in sizes {
        let (first, second) = (format!("40{size}1"), format!("40{size}2"));
        let id = |n: u8| format!("T{n}-{size}");
        let statement = [
            line(&id(1), "499.90", &first),
            line(&id(2), "200.00", &second),
            line(&id(1), "499.90", &first),
            line(&id(3), "100.00", &first),
            line(&id(4), "299.90", &second),
            line(&id(5), "5.00", "9999"),
        ];
        let outcomes = payments(size, &statement).await.unwrap();
        let shown: Vec<_> = outcomes
            .iter()
            .map(|o| {
                (
                    o.duplicate,
                    o.client_number.as_deref(),
                    o.allocated,
                    o.to_credit,
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (false, Some(first.as_str()), dec("499.90"), dec("0")),
                (false, Some(second.as_str()), dec("200.00"), dec("0")),
                (true, None, dec("0"), dec("0")),
                (false, Some(first.as_str()), dec("0"), dec("100.00")),
                (false, Some(second.as_str()), dec("299.90"), dec("0")),
                (false, None, dec("0"), dec("0")),
            ],
            "parts of {size}"
        );
        for number in [&first, &second] {
            let balance = store.client_balance(number).await.unwrap();
            assert_eq!(balance.owed, dec("0"), "client {number}");
            assert_books_balance(&store, number).await;
        }
        assert_eq!(
            store.client_balance(&first).await.unwrap().credit,
            dec("100.00")
        );
    }
    assert_eq!(count().await, 10);
}

/// A CZK line of a statement booked on 20 January 2026, paying by variable symbol.
fn line(id: &str, amount: &str, vs: &str) -> crate::storage::NewPayment {
    crate::storage::NewPayment {
        amount: dec(amount),
        received_on: date(2026, 1, 20),
        variable_symbol: Some(vs.into()),
        payer_account: None,
        payer_name: None,
        message: None,
        bank_transaction_id: Some(id.into()),
        statement_account: None,
        currency: "CZK".into(),
        source: "camt053".into(),
        client_number: None,
        for_subscription: None,
    }
}

/// A payment being recorded, dated in the period a closing of the books would close: the
/// closing waits for it (both hold the money), so no payment lands in books closed before it
/// committed — and two closings at once never let the earlier one win. (The closing read and
/// wrote without the lock: a payment checked the books open, the closing committed, then the
/// payment did; found by probing two instances on one PostgreSQL from outside.)
pub(super) async fn closing_the_books_waits_for_a_payment_in_its_period(store: Store) {
    use std::sync::atomic::{AtomicBool, Ordering};
    subscribed_client(&store, "1001").await;
    let paid = super::cash("1001", dec("10.00"), date(2026, 1, 20));
    let mut open = store.begin_money_write().await.unwrap();
    crate::app::payments::record_in(&store, &mut open, &actor(), vec![paid], "CZK")
        .await
        .unwrap();
    let committed = AtomicBool::new(false);
    let (app, operator) = (super::app(&store), actor());
    let close = async {
        crate::app::books::close(&app, &operator, date(2026, 1, 31))
            .await
            .unwrap();
        committed.load(Ordering::SeqCst)
    };
    // Marked just before the commit: a closing that did not wait for the payment is over
    // before it (0.3 s in); one that waited returns once the commit lets it go — maybe before
    // this task runs again (marked after, that read false on a loaded runner).
    let commit = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        committed.store(true, Ordering::SeqCst);
        open.commit().await.unwrap();
    };
    let (waited, ()) = tokio::join!(close, commit);
    assert!(
        waited,
        "the closing committed while the payment was being recorded"
    );
}

/// Two payments of one client's debt recorded at once — two instances on one PostgreSQL, or
/// two operators: the second is decided on what the first wrote, so the debt is paid once and
/// the second payment becomes credit. (Each deciding on the account as it was before either
/// committed paid the invoice twice and lost the second payment's money.)
pub(super) async fn two_payments_at_once_pay_the_debt_once(store: Store) {
    subscribed_client(&store, "1001").await;
    bill(&store, date(2026, 1, 1)).await;
    let owed = store.client_balance("1001").await.unwrap().owed;
    assert!(owed > Decimal::ZERO);
    let cash = super::cash("1001", owed, date(2026, 1, 20));
    // The first payment is written, its transaction still open, when the second arrives.
    let mut first = store.begin_money_write().await.unwrap();
    crate::app::payments::record_in(&store, &mut first, &actor(), vec![cash], "CZK")
        .await
        .unwrap();
    let (app, operator) = (super::app(&store), actor());
    let second = crate::app::payments::add(
        &app,
        &operator,
        crate::app::payments::ManualPayment {
            client_number: "1001".into(),
            amount: owed,
            received_on: Some(date(2026, 1, 20)),
            currency: None,
            note: String::new(),
            for_subscription: None,
        },
    );
    let first_commits = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        first.commit().await.unwrap();
    };
    let (second, ()) = tokio::join!(second, first_commits);
    assert_eq!(second.unwrap().outcomes[0].to_credit, owed);
    let balance = store.client_balance("1001").await.unwrap();
    assert_eq!((balance.owed, balance.credit), (Decimal::ZERO, owed));
    assert_books_balance(&store, "1001").await;
}

/// Two documents drafted from one read of a client — an invoice on demand through November
/// and another through December, or one beside the billing run — both billed November: the
/// claim only asked billed-until to be earlier than the new end (found by probing two
/// instances from outside). A document moves billed-until only from where its draft read it,
/// so the second is not issued.
pub(super) async fn documents_drafted_from_one_read_bill_a_period_once(store: Store) {
    subscribed_client(&store, "1001").await;
    let client = store.get_client("1001").await.unwrap();
    let config = crate::config::BillingConfig::default();
    let draft = |through| {
        crate::app::billing_run::on_demand_draft(
            &store,
            &config,
            &client,
            &[],
            false,
            (through, through),
        )
    };
    let november = draft(date(2026, 11, 1)).await.unwrap().expect("due");
    let december = draft(date(2026, 12, 1)).await.unwrap().expect("due");
    let operator = actor();
    let issue = |document: crate::storage::InvoiceDraft| {
        let (store, operator) = (&store, &operator);
        async move {
            let mut tx = store.begin_money_write().await.unwrap();
            let issued = crate::app::settlement::issue(store, &mut tx, operator, &document)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            issued
        }
    };
    assert!(issue(november).await.is_some());
    assert!(issue(december).await.is_none(), "November billed twice");
    let invoices = store.list_invoices("1001").await.unwrap();
    assert_eq!(invoices.len(), 1);
}
