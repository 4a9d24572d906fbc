//! Documents besides the billing run's: reading them, cancelling one, and a balance
//! adjustment made now.

use chrono::NaiveDate;
use ispd_billing::cancellation::{self, Charged};
use ispd_billing::credit_note;
use ispd_billing::field::{Text, text};
use ispd_billing::invoice::{InvoiceState, untaxed_line};
use rust_decimal::Decimal;

use super::payments::commit_restoring;
use super::{App, AppError, AppResult, billing_run, books, field, settlement};
use crate::storage::{
    Actor, ClientHead, DocumentKind, InvoiceDraft, InvoiceLineRecord, InvoiceRecord, Issued,
    LineRef, Store, WriteTx,
};

/// A cancellation as the operator asks for it.
#[derive(Debug)]
pub struct Cancellation<'a> {
    pub number: &'a str,
    /// Printed on the credit note.
    pub reason: &'a str,
    /// Whether the billing run charges the cancelled periods again.
    pub rebill: bool,
    /// The credit note's date; today when left out.
    pub date: Option<NaiveDate>,
}

/// Cancels a document with a credit note (Mango "storno", see [`cancel_in`]); what the client
/// had paid on it becomes credit, which may clear its debt: then the client
/// is restored in the same transaction, as a payment would restore it. Returns the credit
/// note.
pub async fn cancel(
    app: &App<'_>,
    actor: &Actor,
    order: Cancellation<'_>,
) -> AppResult<InvoiceRecord> {
    if order.number.is_empty() {
        return Err(field("number", "required"));
    }
    if order.reason.trim().is_empty() {
        return Err(field(
            "reason",
            "required: it is printed on the credit note",
        ));
    }
    text("reason", order.reason, Text::Note)?;
    let store = app.store;
    let day = app.day_or_today(order.date);
    let client = store.get_invoice(order.number).await?.draft.client_number;
    let mut tx = store.begin_money_write().await?;
    let issued = cancel_in(store, &mut tx, actor, &order, day).await?;
    commit_restoring(app, tx, actor, &[&client], day).await?;
    Ok(store.get_invoice(&issued.number).await?)
}

/// The cancellation inside the caller's transaction: the core says whether the document may
/// be cancelled (`cancellation::check`); the credit note reverses every line still in force
/// (`credit_note::reversal`); with `rebill`, the subscriptions' billed-until moves back
/// (`cancellation::billed_until_back`) so the next run invoices those periods again; the
/// credit note is issued and settled (`settlement`: the invoice cancelled, what was paid on it
/// returned to credit and spent on the client's other open documents).
pub(crate) async fn cancel_in(
    store: &Store,
    tx: &mut WriteTx,
    actor: &Actor,
    order: &Cancellation<'_>,
    day: NaiveDate,
) -> AppResult<Issued> {
    books::check_open_in(store, tx, [("the credit note", day)]).await?;
    let document = store.document_by_number_in(tx, order.number).await?;
    let tax_invoice = store.tax_invoice_of_in(tx, document.id).await?;
    let in_force = store.lines_in_force_in(tx, document.id).await?;
    let found = cancellation::Found {
        number: order.number,
        kind: document.draft.kind,
        cancelled: document.state == InvoiceState::Cancelled.as_str(),
        tax_invoice: tax_invoice.as_deref(),
    };
    cancellation::check(&found, in_force.len())?;
    if order.rebill {
        let charged: Vec<Charged> = in_force
            .iter()
            .filter_map(|(_, line)| {
                let (subscription, (from, to)) = (line.subscription_id?, line.period?);
                Some(Charged {
                    subscription,
                    from,
                    to,
                })
            })
            .collect();
        let subscriptions: Vec<i64> = charged.iter().map(|c| c.subscription).collect();
        let billed = store.billed_until_in(tx, &subscriptions).await?;
        let back = cancellation::billed_until_back(order.number, &charged, &billed)?;
        store.set_billed_until_in(tx, &back).await?;
    }
    let note = credit_note_of(document, in_force, order.reason.trim(), day);
    let issued = store
        .issue_document_in(tx, actor, &note)
        .await?
        .ok_or_else(|| {
            AppError::Precondition(format!(
                "{} was corrected meanwhile; try again",
                order.number
            ))
        })?;
    settlement::settle_issued(store, tx, actor, &issued, &note).await?;
    Ok(issued)
}

/// The credit note cancelling `document`: dated `day`, `reason` as its note, each line still
/// in force reversed.
fn credit_note_of(
    document: InvoiceRecord,
    in_force: Vec<(LineRef, InvoiceLineRecord)>,
    reason: &str,
    day: NaiveDate,
) -> InvoiceDraft {
    let mut note = document.draft;
    note.kind = DocumentKind::CreditNote;
    note.related_invoice_id = Some(document.id);
    note.related_number = Some(document.number);
    reason.clone_into(&mut note.note);
    note.issue_date = day;
    note.taxable_supply_date = day;
    note.due_date = day;
    note.billed_until.clear();
    note.charges.clear();
    note.lines = in_force
        .into_iter()
        .map(|(at, line)| InvoiceLineRecord {
            line: credit_note::reversal(&line.line),
            reverses: Some(at),
            ..line
        })
        .collect();
    note.total_up();
    note
}

/// An adjustment of a client's balance made now (ISPadmin's manual balance correction):
/// what the operator credits (a positive `amount`) or debits (negative) the client.
#[derive(Debug)]
pub struct Adjustment<'a> {
    pub client_number: &'a str,
    pub amount: Decimal,
    /// Printed as the document's only line.
    pub reason: &'a str,
    /// The document's date; today when left out.
    pub date: Option<NaiveDate>,
}

/// Adjusts a client's balance now, as a document of its own so the statement, the books and
/// the tax records show it: a credit is a credit note on no invoice (the money becomes credit
/// and pays the client's open documents at once), a debit a debit note due the same day. Not
/// a supply: VAT 0. A credit that clears the client's debt restores them in the same
/// transaction, as a payment would. Returns the document.
pub async fn adjust(
    app: &App<'_>,
    actor: &Actor,
    order: Adjustment<'_>,
) -> AppResult<InvoiceRecord> {
    if order.amount.is_zero() {
        return Err(field(
            "amount",
            "must not be zero: positive credits the client, negative debits",
        ));
    }
    ispd_billing::money::to_minor_units("amount", order.amount)?;
    let reason = order.reason.trim();
    if reason.is_empty() {
        return Err(field("reason", "required: it is printed on the document"));
    }
    text("reason", reason, Text::Note)?;
    let store = app.store;
    let day = app.day_or_today(order.date);
    let client = store.get_client(order.client_number).await?;
    let kind = if order.amount > Decimal::ZERO {
        DocumentKind::CreditNote
    } else {
        DocumentKind::DebitNote
    };
    let mut draft = InvoiceDraft::empty(kind, &ClientHead::of(&client), day);
    draft.currency = store
        .currency_of_client(order.client_number, &app.currency())
        .await?;
    draft.lines.push(InvoiceLineRecord {
        // A credit note's total is negative: it takes off what the client owes.
        line: untaxed_line(reason.to_owned(), -order.amount),
        subscription_id: None,
        period: None,
        reverses: None,
    });
    draft.total_up();
    let mut tx = store.begin_money_write().await?;
    books::check_open_in(store, &mut tx, [("the adjustment", day)]).await?;
    let issued = settlement::issue(store, &mut tx, actor, &draft)
        .await?
        .ok_or_else(|| AppError::Precondition("the adjustment was not issued".into()))?;
    commit_restoring(app, tx, actor, &[order.client_number], day).await?;
    Ok(store.get_invoice(&issued.number).await?)
}

/// A document issued on demand (Mango): an invoice for chosen services now, ahead of the
/// run, or a payment request (pro-forma) with chosen dates.
#[derive(Debug)]
pub struct OnDemand<'a> {
    pub client_number: &'a str,
    /// The services it bills; every service of the client when empty.
    pub subscriptions: &'a [i64],
    /// A payment request instead of an invoice.
    pub proforma: bool,
    /// The issue day; today when left out.
    pub date: Option<NaiveDate>,
    /// The periods that start by this day are billed; the issue day when left out.
    pub through: Option<NaiveDate>,
    /// The due day; the client's (else the group's) due days after the issue when left out.
    pub due_date: Option<NaiveDate>,
}

/// Issues an on-demand document: what the billing run would bill the chosen services through
/// the chosen day (each period once: the run will not bill it again), numbered in the
/// client's series and settled from the client's credit like every document — one
/// transaction. Refused when nothing is due, for a due day before the issue day, and in
/// closed books.
pub async fn issue_now(
    app: &App<'_>,
    actor: &Actor,
    order: OnDemand<'_>,
) -> AppResult<InvoiceRecord> {
    let day = app.day_or_today(order.date);
    let through = order.through.unwrap_or(day);
    if order.due_date.is_some_and(|due| due < day) {
        return Err(field("due_date", "must not be before the issue date"));
    }
    let store = app.store;
    let client = store.get_client(order.client_number).await?;
    let config = app.config.load().billing.clone();
    let draft = billing_run::on_demand_draft(
        store,
        &config,
        &client,
        order.subscriptions,
        order.proforma,
        (day, through),
    )
    .await?;
    let Some(mut draft) = draft else {
        return Err(AppError::Precondition(format!(
            "client {}: nothing to bill through {through}",
            order.client_number
        )));
    };
    if let Some(due) = order.due_date {
        draft.due_date = due;
    }
    let mut tx = store.begin_money_write().await?;
    books::check_open_in(store, &mut tx, [("the document", day)]).await?;
    let issued = settlement::issue(store, &mut tx, actor, &draft)
        .await?
        .ok_or_else(|| {
            AppError::Precondition("those periods were billed meanwhile: nothing issued".into())
        })?;
    tx.commit().await?;
    Ok(store.get_invoice(&issued.number).await?)
}

/// One document by its number.
pub async fn get(app: &App<'_>, number: &str) -> AppResult<InvoiceRecord> {
    Ok(app.store.get_invoice(number).await?)
}

/// A client's documents.
pub async fn list(app: &App<'_>, client_number: &str) -> AppResult<Vec<InvoiceRecord>> {
    if client_number.is_empty() {
        return Err(field("client_number", "required"));
    }
    Ok(app.store.list_invoices(client_number).await?)
}
