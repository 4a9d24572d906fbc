//! The part of the storage conformance suite that needs the daemon's use cases: invoices,
//! reminder fees and payments through the real billing run, and the subscription lifecycle,
//! held to the same behaviour on SQLite and PostgreSQL. It stands on the store's testkit
//! (`ispd-store`, feature `testkit`), so each test gets a fresh database on each backend
//! exactly as the store's own suite does.
//!
//! `cargo test -p ispd --lib conformance::postgres::reminder_fee_issues_one_debit_note` runs one
//! test on one backend.

use std::sync::LazyLock;

use ispd_store::testkit::fixtures::today;

use crate::changes::ChangeFeed;
use crate::clock::{Clock, Zone};
use crate::config::Config;
use crate::live::Live;

mod books;
mod dunning;
mod lifecycle;

ispd_store::on_both_backends! {
    store: [
        dunning::reminder_fee_issues_one_debit_note,
        dunning::dunning_controls_and_own_grace_days,
        dunning::a_payment_made_during_the_dunning_run_is_counted,
        books::concurrent_billing_runs_number_without_gaps,
        books::a_run_in_batches_ends_as_in_one,
        books::books_balance_through_payments_imports_credit_notes_and_refunds,
        books::a_client_with_books_is_refused_naming_them,
        books::payments_recorded_in_parts_end_as_in_one,
        books::two_payments_at_once_pay_the_debt_once,
        books::closing_the_books_waits_for_a_payment_in_its_period,
        books::documents_drafted_from_one_read_bill_a_period_once,
        lifecycle::pause_with_billing_suspended_then_resume,
        lifecycle::pause_without_billing_suspended_is_charged,
        lifecycle::end_sets_the_last_charged_day,
        lifecycle::invalid_transitions_are_refused,
        lifecycle::activate_due_activates_on_the_day,
        lifecycle::a_notice_enforced_twice_keeps_what_it_blocked,
        lifecycle::a_unit_takes_one_service_of_a_class_when_two_arrive_at_once,
        lifecycle::a_client_deleted_while_a_service_is_added_is_refused_as_such,
        lifecycle::a_scheduled_change_is_made_once,
    ]
    store_and_url: []
}

/// Cancels a document through the use case (no rebilling), in a transaction of its own.
async fn cancel_invoice(
    store: &crate::storage::Store,
    number: &str,
    reason: &str,
    day: chrono::NaiveDate,
) -> crate::app::AppResult<crate::storage::Issued> {
    let mut tx = store.begin_write().await?;
    let order = crate::app::documents::Cancellation {
        number,
        reason,
        rebill: false,
        date: Some(day),
    };
    let actor = ispd_store::testkit::fixtures::actor();
    let issued = crate::app::documents::cancel_in(store, &mut tx, &actor, &order, day).await?;
    tx.commit().await?;
    Ok(issued)
}

/// Assigns a payment by hand through the use case (in CZK), in a transaction of its own.
async fn assign_payment(
    store: &crate::storage::Store,
    payment: i64,
    client: &str,
    invoice: Option<&str>,
) -> crate::app::AppResult<crate::storage::PaymentOutcome> {
    let mut tx = store.begin_write().await?;
    let actor = ispd_store::testkit::fixtures::actor();
    let order = crate::app::payments::Assignment {
        payment_id: payment,
        client_number: client,
        invoice,
        rest: ispd_billing::payment::assignment::Rest::Credit,
    };
    let outcome = crate::app::payments::assign_in(store, &mut tx, &actor, order, "CZK").await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Cash in CZK for `client`, typed in by the operator (no matching).
fn cash(
    client: &str,
    amount: rust_decimal::Decimal,
    day: chrono::NaiveDate,
) -> crate::storage::NewPayment {
    crate::storage::NewPayment {
        amount,
        received_on: day,
        variable_symbol: None,
        payer_account: None,
        payer_name: None,
        message: None,
        bank_transaction_id: None,
        statement_account: None,
        currency: "CZK".into(),
        source: "manual".into(),
        client_number: Some(client.into()),
        for_subscription: None,
    }
}

/// Records payments through the use case, in a transaction of their own, as an import does.
async fn record_payments(
    store: &crate::storage::Store,
    actor: &crate::storage::Actor,
    payments: &[crate::storage::NewPayment],
    default_currency: &str,
) -> crate::app::AppResult<Vec<crate::storage::PaymentOutcome>> {
    let mut tx = store.begin_write().await?;
    let outcomes =
        crate::app::payments::record_in(store, &mut tx, actor, payments.to_vec(), default_currency)
            .await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// The use cases over `store`, on the suite's day in UTC, publishing to a feed nobody
/// follows.
pub(super) fn app(store: &crate::storage::Store) -> crate::app::App<'_> {
    static CHANGES: LazyLock<ChangeFeed> = LazyLock::new(ChangeFeed::default);
    static NOT_STOPPING: crate::app::Stopping = crate::app::Stopping::new();
    static CONFIG: LazyLock<Live<Config>> = LazyLock::new(|| {
        let mut config = Config::default();
        // The books' suite pays credit back (the gate itself is the e2e tests').
        config.billing.refunds = true;
        Live::new(config)
    });
    let noon = today().and_hms_opt(12, 0, 0).expect("a time").and_utc();
    crate::app::App {
        store,
        changes: &CHANGES,
        clock: Clock::fixed(noon).in_zone(Zone::parse("UTC").expect("a zone")),
        config: &CONFIG,
        stopping: &NOT_STOPPING,
    }
}
