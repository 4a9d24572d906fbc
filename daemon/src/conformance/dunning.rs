//! Dunning: reminder fees as debit notes, per-client controls.

use ispd_store::testkit::fixtures::*;

/// Issues the invoices due by `as_of` with the default `[billing]` settings; their numbers.
pub(super) async fn bill(store: &Store, as_of: NaiveDate) -> Vec<String> {
    crate::app::billing_run::run(
        store,
        &crate::config::BillingConfig::default(),
        &actor(),
        as_of,
        (false, usize::MAX),
        &crate::app::Stopping::new(),
    )
    .await
    .unwrap()
    .documents
    .into_iter()
    .map(|i| i.number.expect("issued"))
    .collect()
}

pub(super) async fn dunning_input(store: &Store, number: &str) -> crate::storage::DunningInput {
    store
        .dunning_inputs()
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.client_number == number)
        .unwrap_or_else(|| panic!("client {number} has no dunning input"))
}

pub(super) fn reminder(
    invoice_id: i64,
    level: u8,
    deadline: NaiveDate,
    fee: Option<&str>,
) -> ispd_billing::dunning::ReminderDue {
    ispd_billing::dunning::ReminderDue {
        invoice_id,
        level,
        deadline,
        fee: fee.map(dec),
        final_notice: false,
    }
}

/// Records a reminder through the use case the dunning run uses.
async fn record_reminder(
    store: &Store,
    reminder: &ispd_billing::dunning::ReminderDue,
    sent_on: NaiveDate,
) -> crate::app::AppResult<crate::app::dunning_run::RecordedReminder> {
    crate::app::dunning_run::record_reminder(store, &actor(), reminder, sent_on).await
}

pub(super) async fn debit_notes(store: &Store, client: &str) -> Vec<String> {
    store
        .list_invoices(client)
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.draft.kind == crate::storage::DocumentKind::DebitNote)
        .map(|i| i.number)
        .collect()
}

pub(super) async fn reminder_fee_issues_one_debit_note(store: Store) {
    subscribed_client(&store, "1001").await;
    subscribed_client(&store, "1002").await;
    assert_eq!(
        bill(&store, date(2026, 1, 1)).await,
        ["202600001", "202600002"]
    );
    let invoice_of = |input: &crate::storage::DunningInput| input.open_invoices[0].id;
    let first = invoice_of(&dunning_input(&store, "1001").await);
    let second = invoice_of(&dunning_input(&store, "1002").await);
    let sent_on = date(2026, 1, 22);

    let recorded = record_reminder(
        &store,
        &reminder(first, 1, date(2026, 1, 29), Some("50.00")),
        sent_on,
    )
    .await
    .unwrap();
    assert_eq!(recorded.invoice_number, "202600001");
    assert_eq!(recorded.debit_note_number.as_deref(), Some("DN202600001"));
    // The same level again: nothing new, no second debit note.
    let again = record_reminder(
        &store,
        &reminder(first, 1, date(2026, 1, 30), Some("50.00")),
        date(2026, 1, 23),
    )
    .await
    .unwrap();
    assert_eq!(again.debit_note_number, None);
    assert_eq!(debit_notes(&store, "1001").await, ["DN202600001"]);
    // No fee, no debit note; the next fee takes the next number (gap-free per year).
    let free = record_reminder(
        &store,
        &reminder(second, 1, date(2026, 1, 29), None),
        sent_on,
    )
    .await
    .unwrap();
    assert_eq!(free.debit_note_number, None);
    let zero = record_reminder(
        &store,
        &reminder(second, 2, date(2026, 2, 5), Some("0")),
        date(2026, 1, 29),
    )
    .await
    .unwrap();
    assert_eq!(zero.debit_note_number, None, "a zero fee charges nothing");
    let charged = record_reminder(
        &store,
        &reminder(second, 3, date(2026, 2, 12), Some("75.50")),
        date(2026, 2, 5),
    )
    .await
    .unwrap();
    assert_eq!(charged.debit_note_number.as_deref(), Some("DN202600002"));
    let next_year = record_reminder(
        &store,
        &reminder(second, 4, date(2027, 1, 12), Some("10")),
        date(2027, 1, 5),
    )
    .await
    .unwrap();
    assert_eq!(next_year.debit_note_number.as_deref(), Some("DN202700001"));

    // The document: dated today, due on the deadline, one line at VAT 0, the client copied.
    let note = store.get_invoice("DN202600001").await.unwrap();
    assert_eq!(note.draft.kind, crate::storage::DocumentKind::DebitNote);
    assert_eq!(note.state, "unpaid");
    let d = &note.draft;
    assert_eq!(
        (d.issue_date, d.taxable_supply_date, d.due_date),
        (sent_on, sent_on, date(2026, 1, 29))
    );
    assert_eq!(
        (
            d.variable_symbol.as_str(),
            d.currency.as_str(),
            d.client_name.as_str()
        ),
        ("1001", "CZK", "Client 1001")
    );
    assert_eq!(d.lines.len(), 1);
    let line = &d.lines[0].line;
    assert_eq!(
        line.description,
        "Reminder fee (level 1, invoice 202600001)"
    );
    assert_eq!(
        (line.vat_rate, line.net, line.vat, line.gross),
        (Decimal::ZERO, dec("50.00"), dec("0.00"), dec("50.00"))
    );
    assert_eq!(
        (d.totals.net, d.totals.vat, d.totals.gross),
        (dec("50.00"), dec("0.00"), dec("50.00"))
    );
    assert_eq!(
        raw_text(
            &store,
            "SELECT r.number FROM invoice d JOIN invoice r ON r.id = d.related_invoice_id
             WHERE d.number = $1",
            "DN202600001"
        )
        .await,
        "202600001"
    );

    // Dunning sees it as an open debit note, and the reminder with its deadline.
    let input = dunning_input(&store, "1001").await;
    let ids: Vec<i64> = input.open_invoices.iter().map(|i| i.id).collect();
    assert_eq!(ids.len(), 2);
    let kinds: Vec<crate::storage::DocumentKind> =
        ids.iter().map(|id| input.documents[id].kind).collect();
    assert_eq!(
        kinds,
        [
            crate::storage::DocumentKind::Invoice,
            crate::storage::DocumentKind::DebitNote
        ]
    );
    assert_eq!(
        input.reminders_sent,
        [ispd_billing::dunning::SentReminder {
            invoice_id: first,
            level: 1,
            deadline: date(2026, 1, 29),
        }]
    );
    let audit = audit_of(&store, "1001", "").await;
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .take(2)
        .map(|e| (e.action.as_str(), e.entity_key.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("invoice.reminder", "202600001"),
            ("debit_note.issue", "DN202600001")
        ],
        "newest first, the repeated level left no trace"
    );

    // A payment settles it like an invoice: oldest first, invoice then fee.
    let invoice_gross = store
        .get_invoice("202600001")
        .await
        .unwrap()
        .draft
        .totals
        .gross;
    let paid = super::cash("1001", invoice_gross + dec("50.00"), date(2026, 2, 1));
    let outcome = super::record_payments(&store, &actor(), &[paid], "CZK")
        .await
        .unwrap();
    assert_eq!(outcome[0].to_credit, Decimal::ZERO);
    assert_eq!(
        store.get_invoice("DN202600001").await.unwrap().state,
        "paid"
    );
    assert_eq!(
        store.client_balance("1001").await.unwrap().owed,
        Decimal::ZERO
    );
}

pub(super) async fn dunning_controls_and_own_grace_days(store: Store) {
    subscribed_client(&store, "1001").await;
    bill(&store, date(2026, 1, 1)).await;
    let mut client = store.get_client("1001").await.unwrap();
    assert_eq!(client.invoicing.suspend_after_days, None);
    client.invoicing.suspend_after_days = Some(60);
    store.update_client(&actor(), client).await.unwrap();
    assert_eq!(
        store
            .get_client("1001")
            .await
            .unwrap()
            .invoicing
            .suspend_after_days,
        Some(60)
    );
    let input = dunning_input(&store, "1001").await;
    assert_eq!(input.suspend_after_days, Some(60));
    assert!(!input.dunning_stopped && input.dunning_paused_until.is_none());

    let hold = |stopped, paused_until| crate::storage::DunningHold {
        stopped,
        paused_until,
    };
    let stopped = store
        .set_dunning_control(&actor(), "1001", crate::storage::DunningControl::Stop)
        .await
        .unwrap();
    assert_eq!(stopped, hold(true, None));
    assert_eq!(
        store.client_balance("1001").await.unwrap().dunning,
        hold(true, None)
    );
    // Editing the client card leaves the dunning controls alone.
    let mut client = store.get_client("1001").await.unwrap();
    client.note = "called".into();
    client.invoicing.suspend_after_days = None;
    store.update_client(&actor(), client).await.unwrap();
    let input = dunning_input(&store, "1001").await;
    assert!(input.dunning_stopped);
    assert_eq!(input.suspend_after_days, None);

    let until = date(2026, 2, 10);
    let paused = store
        .set_dunning_control(
            &actor(),
            "1001",
            crate::storage::DunningControl::PauseUntil(until),
        )
        .await
        .unwrap();
    assert_eq!(
        paused,
        hold(false, Some(until)),
        "a pause replaces the stop"
    );
    let input = dunning_input(&store, "1001").await;
    assert_eq!(
        (input.dunning_stopped, input.dunning_paused_until),
        (false, Some(until))
    );
    let resumed = store
        .set_dunning_control(&actor(), "1001", crate::storage::DunningControl::Resume)
        .await
        .unwrap();
    assert_eq!(resumed, hold(false, None));
    assert_eq!(
        store.client_balance("1001").await.unwrap().dunning,
        hold(false, None)
    );
    expect_not_found(
        store
            .set_dunning_control(&actor(), "404", crate::storage::DunningControl::Stop)
            .await,
    );
    let audit = audit_of(&store, "1001", "").await;
    let controls: Vec<&str> = audit
        .iter()
        .map(|e| e.action.as_str())
        .filter(|a| a.starts_with("client.dunning_"))
        .collect();
    assert_eq!(
        controls,
        [
            "client.dunning_resume",
            "client.dunning_pause",
            "client.dunning_stop"
        ]
    );
    let pause = audit
        .iter()
        .find(|e| e.action == "client.dunning_pause")
        .unwrap();
    assert_eq!(
        pause.after_json.as_deref(),
        Some(r#"{"stopped":false,"paused_until":"2026-02-10"}"#)
    );
}

/// The dunning run reads every client once, then reaches them one by one: a payment recorded
/// in between paid the debt, and the run suspended the client on its first read (the
/// payment's own check had found nobody to restore) and charged it a reminder fee. Each
/// client is decided again on what the transaction that writes the decision reads.
pub(super) async fn a_payment_made_during_the_dunning_run_is_counted(store: Store) {
    subscribed_client(&store, "1001").await;
    bill(&store, date(2026, 1, 1)).await;
    let settings = ispd_billing::dunning::DunningSettings::default();
    let day = date(2026, 6, 1);
    let read_first = dunning_input(&store, "1001").await;
    assert!(
        matches!(
            crate::app::dunning_run::decide(&settings, &read_first, day),
            Some(crate::app::dunning_run::DunningChange::Suspend { .. })
        ),
        "overdue when the run read it"
    );
    let owed = store.client_balance("1001").await.unwrap().owed;
    let paid = super::cash("1001", owed, date(2026, 5, 31));
    super::record_payments(&store, &actor(), &[paid], "CZK")
        .await
        .unwrap();

    let feed = crate::changes::ChangeFeed::default();
    let changes = crate::app::dunning_run::settle_client(
        &store,
        &feed,
        &settings,
        &actor(),
        day,
        &read_first.client_number,
    )
    .await
    .unwrap();
    assert_eq!(changes, [], "nothing to do for a client who has paid");
    let balance = store.client_balance("1001").await.unwrap();
    assert!(!balance.suspended);
    assert_eq!(balance.owed, Decimal::ZERO);
    assert!(
        debit_notes(&store, "1001").await.is_empty(),
        "no reminder fee"
    );
}
