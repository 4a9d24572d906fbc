//! The part of the storage conformance suite that needs the daemon's billing run: invoices,
//! reminder fees and payments through the real run, held to the same behaviour on SQLite and
//! PostgreSQL. It stands on the store's testkit (`ispd-store`, feature `testkit`), so each test
//! gets a fresh database on each backend exactly as the store's own suite does.
//!
//! `cargo test -p ispd --lib conformance::postgres::reminder_fee_issues_one_debit_note` runs one
//! test on one backend.

mod books;
mod dunning;

ispd_store::on_both_backends! {
    store: [
        dunning::reminder_fee_issues_one_debit_note,
        dunning::dunning_controls_and_own_grace_days,
        books::concurrent_billing_runs_number_without_gaps,
        books::books_balance_through_payments_imports_credit_notes_and_refunds,
    ]
    store_and_url: []
}
