//! The dunning run and the moment-of-payment check: the shell around
//! `ispd_billing::dunning::{reminders_due, access_decision}`. The settings come from the
//! `[dunning]` config section, read by the caller at each run (so a SIGHUP applies to the
//! next one). Reminders are recorded (with a debit note for a fee); a decision is stored with
//! its audit record, then the client's logins are reloaded in the RADIUS cache, so the next
//! Access-Request gets the walled garden (or full speed again).

use chrono::NaiveDate;
use ispd_billing::dunning::{
    AccessDecision, ClientDunningState, DunningSettings, OverdueInvoice, ReminderDue,
    access_decision, fee_line, reminders_due, suspension_reason,
};
use ispd_billing::payment::OpenInvoice;
use rust_decimal::Decimal;

use super::{AppError, AppResult, settlement};
use crate::changes::{Change, ChangeFeed};
use crate::storage::{
    AccessScope, Actor, DocumentKind, DunningInput, InvoiceDraft, InvoiceLineRecord, Store,
    StoreResult, WriteTx,
};

/// What the run did (or, in a dry run, would do) for a client.
#[derive(Debug, Clone, PartialEq)]
pub enum DunningChange {
    Suspend {
        client_number: String,
        overdue: Decimal,
        /// Why: the invoices counted, with their days overdue and open amounts.
        reason: Vec<OverdueInvoice>,
    },
    Restore {
        client_number: String,
    },
    /// A reminder of `level` for the invoice, to pay by `deadline`.
    Reminder {
        client_number: String,
        invoice_id: i64,
        invoice_number: String,
        level: u8,
        deadline: NaiveDate,
        /// The last level: suspension follows once the deadline has passed.
        final_notice: bool,
        /// The fee charged with the reminder, in `currency`.
        fee: Option<Decimal>,
        /// The debit note charging the fee; `None` in a dry run.
        debit_note_number: Option<String>,
        /// The reminded invoice's currency.
        currency: String,
    },
}

/// Sends the reminders that are due (charging their fees as debit notes), suspends every
/// client overdue past its grace period (and, with a final notice configured, past the
/// notice's deadline) and restores every suspended client who no longer is. Idempotent: a
/// second run on the same day changes nothing.
///
/// One read of every client finds those with something to do; each of them is then decided
/// again on what its own write transaction reads ([`settle_client`]), so a payment recorded
/// meanwhile is counted.
pub async fn run(
    store: &Store,
    feed: &ChangeFeed,
    settings: &DunningSettings,
    actor: &Actor,
    today: NaiveDate,
    dry_run: bool,
) -> AppResult<Vec<DunningChange>> {
    let mut changes = Vec::new();
    for input in store.dunning_inputs().await? {
        let due = reminders_of(settings, &input, today);
        let decision = decide(settings, &input, today);
        if dry_run {
            let reminded = due.iter().map(|r| {
                let number = input
                    .open_invoices
                    .iter()
                    .find(|i| i.id == r.invoice_id)
                    .map(|i| i.number.clone())
                    .unwrap_or_default();
                reminder_change(&input, r, number, None)
            });
            changes.extend(reminded);
            changes.extend(decision);
        } else if !due.is_empty() || decision.is_some() {
            let number = &input.client_number;
            changes.extend(settle_client(store, feed, settings, actor, today, number).await?);
        }
    }
    Ok(changes)
}

/// One client's reminders and access decision, decided on its dunning input as read inside
/// the transaction that writes them, and published once committed.
///
/// The run's first read of every client is stale by the time it reaches a client: a payment
/// committed in between paid the debt, and suspending on the old read left a paying client
/// suspended (the payment's own check had found nobody to restore) and charged a reminder
/// fee. The transaction holds the clients' money (`Store::begin_money_write`), as every
/// payment's does, so the two never decide on each other's stale reads.
pub(crate) async fn settle_client(
    store: &Store,
    feed: &ChangeFeed,
    settings: &DunningSettings,
    actor: &Actor,
    today: NaiveDate,
    client_number: &str,
) -> AppResult<Vec<DunningChange>> {
    let mut tx = store.begin_money_write().await?;
    let Some(input) = store.dunning_input_in(&mut tx, client_number).await? else {
        return Ok(Vec::new());
    };
    let mut changes = Vec::new();
    for reminder in reminders_of(settings, &input, today) {
        let recorded = record_reminder_in(store, &mut tx, actor, &reminder, today).await?;
        changes.push(reminder_change(
            &input,
            &reminder,
            recorded.invoice_number,
            recorded.debit_note_number,
        ));
    }
    let decision = decide(settings, &input, today);
    if let Some(change) = &decision {
        apply_in(store, &mut tx, actor, change).await?;
    }
    tx.commit().await?;
    if let Some(change) = decision {
        feed.publish(Change::Access(AccessScope::Client(input.client_number)))
            .await;
        changes.push(change);
    }
    Ok(changes)
}

/// The reminders due for a client today: never for a debit note (a reminder fee is owed and
/// counts as debt, but reminding it would charge a fee for a fee), and one per invoice per
/// day, however often the run is started.
fn reminders_of(
    settings: &DunningSettings,
    input: &DunningInput,
    today: NaiveDate,
) -> Vec<ReminderDue> {
    let remindable: Vec<OpenInvoice> = input
        .open_invoices
        .iter()
        .filter(|i| {
            input
                .documents
                .get(&i.id)
                .is_none_or(|d| d.kind != DocumentKind::DebitNote)
        })
        .cloned()
        .collect();
    reminders_due(settings, &state_of(input), &remindable, today)
        .into_iter()
        .filter(|r| !input.reminded_on.contains(&(r.invoice_id, today)))
        .collect()
}

fn reminder_change(
    input: &DunningInput,
    reminder: &ReminderDue,
    invoice_number: String,
    debit_note_number: Option<String>,
) -> DunningChange {
    DunningChange::Reminder {
        client_number: input.client_number.clone(),
        invoice_id: reminder.invoice_id,
        invoice_number,
        level: reminder.level,
        deadline: reminder.deadline,
        final_notice: reminder.final_notice,
        fee: reminder.fee,
        debit_note_number,
        currency: input
            .documents
            .get(&reminder.invoice_id)
            .map(|d| d.currency.clone())
            .unwrap_or_default(),
    }
}

/// What recording a reminder stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordedReminder {
    pub invoice_number: String,
    /// The debit note charging the reminder's fee; `None` without a fee, or when this level
    /// had been recorded before (nothing new is stored then).
    pub debit_note_number: Option<String>,
}

/// Records a reminder once per invoice and level, in a transaction of its own (see
/// [`record_reminder_in`]).
#[cfg(test)]
pub(crate) async fn record_reminder(
    store: &Store,
    actor: &Actor,
    reminder: &ReminderDue,
    today: NaiveDate,
) -> AppResult<RecordedReminder> {
    let mut tx = store.begin_write().await?;
    let recorded = record_reminder_in(store, &mut tx, actor, reminder, today).await?;
    tx.commit().await?;
    Ok(recorded)
}

/// Records a reminder once per invoice and level, in the caller's transaction. A fee is
/// charged by a debit note (`dunning::fee_line`) due on the reminder's deadline, in the
/// reminded invoice's currency and group, paid and chased like an invoice — credit the client
/// holds pays it at once (`settlement`).
async fn record_reminder_in(
    store: &Store,
    tx: &mut WriteTx,
    actor: &Actor,
    reminder: &ReminderDue,
    today: NaiveDate,
) -> AppResult<RecordedReminder> {
    let (invoice, new) = store.insert_reminder_in(tx, reminder, today).await?;
    let mut debit_note_number = None;
    if new {
        if let Some(line) = fee_line(reminder, &invoice.number) {
            let mut draft = InvoiceDraft::empty(DocumentKind::DebitNote, &invoice.head, today);
            draft.related_invoice_id = Some(reminder.invoice_id);
            draft.related_number = Some(invoice.number.clone());
            draft.due_date = reminder.deadline;
            draft.currency = invoice.currency.clone();
            draft.lines.push(InvoiceLineRecord {
                line,
                subscription_id: None,
                period: None,
                reverses: None,
            });
            draft.total_up();
            let issued = settlement::issue(store, tx, actor, &draft)
                .await?
                .ok_or_else(|| AppError::Precondition("the debit note was not issued".into()))?;
            debit_note_number = Some(issued.number);
        }
        let debit_note = debit_note_number.as_deref();
        store
            .audit_reminder_in(tx, actor, &invoice, reminder, debit_note)
            .await?;
    }
    Ok(RecordedReminder {
        invoice_number: invoice.number,
        debit_note_number,
    })
}

fn state_of(input: &DunningInput) -> ClientDunningState {
    ClientDunningState {
        no_auto_reminders: input.no_auto_reminders,
        never_suspend: input.never_suspend,
        stopped: input.dunning_stopped,
        paused_until: input.dunning_paused_until,
        suspend_days_after_due: input.suspend_after_days,
        reminders_sent: input.reminders_sent.clone(),
    }
}

pub(crate) fn decide(
    settings: &DunningSettings,
    input: &DunningInput,
    today: NaiveDate,
) -> Option<DunningChange> {
    let state = state_of(input);
    match access_decision(
        settings,
        &state,
        &input.open_invoices,
        input.debt_suspended,
        today,
    ) {
        AccessDecision::Keep => None,
        AccessDecision::Suspend { overdue, .. } => Some(DunningChange::Suspend {
            client_number: input.client_number.clone(),
            overdue,
            reason: suspension_reason(settings, &state, &input.open_invoices, today),
        }),
        AccessDecision::Restore => Some(DunningChange::Restore {
            client_number: input.client_number.clone(),
        }),
    }
}

/// Writes a suspension or a restore, with its audit record, in the caller's transaction.
async fn apply_in(
    store: &Store,
    tx: &mut WriteTx,
    actor: &Actor,
    change: &DunningChange,
) -> StoreResult<()> {
    let (client, suspend, overdue, reason) = match change {
        DunningChange::Suspend {
            client_number,
            overdue,
            reason,
        } => (client_number, true, *overdue, reason.as_slice()),
        DunningChange::Restore { client_number } => (client_number, false, Decimal::ZERO, &[][..]),
        DunningChange::Reminder { .. } => return Ok(()),
    };
    let reason = serde_json::to_value(reason).unwrap_or_default();
    store
        .set_debt_suspended_in(tx, actor, client, suspend, overdue, reason)
        .await
}
