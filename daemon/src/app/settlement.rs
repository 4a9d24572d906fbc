//! What an issued document does to the client's account — decided here, by the core's rules,
//! inside the caller's transaction; storage only writes it.
//!
//! - A credit note cancels part of the invoice it corrects (`credit_note::apply`); money the
//!   client had paid beyond what the invoice now asks becomes credit. A credit note on no
//!   invoice is credit outright. Either way the credit note is settled on issue.
//! - The tax invoice that follows a paid pro-forma is paid by the pro-forma's money.
//! - After any other document: the client's credit pays its open documents oldest first
//!   (`payment::apply_credit`), so a client never holds credit and an unpaid document at once,
//!   and a pro-forma that became paid gets its tax invoice.
//! - A card's opening balance (`opening_balance::put`): a credit is client credit, a debt an
//!   opening-balance document.

use chrono::NaiveDate;
use ispd_billing::client::Client;
use ispd_billing::credit_note::{self, CreditNoteEffect};
use ispd_billing::opening_balance;
use ispd_billing::payment::apply_credit;
use ispd_billing::payment::receipt::DocumentPaid;
use rust_decimal::Decimal;

use super::{AppError, AppResult};
use crate::storage::{
    Actor, ClientHead, DocumentKind, InvoiceDraft, InvoiceLineRecord, Issued, Store, WriteTx,
};

/// Issues `draft` and settles it; `None` when a concurrent run issued it first. A document
/// dated in the closed period is refused, whichever use case drafted it.
pub(crate) async fn issue(
    store: &Store,
    tx: &mut WriteTx,
    actor: &Actor,
    draft: &InvoiceDraft,
) -> AppResult<Option<Issued>> {
    let what = format!("the {}", draft.kind.as_str().replace('_', " "));
    let dated = [draft.issue_date, draft.taxable_supply_date].map(|day| (what.as_str(), day));
    super::books::check_open_in(store, tx, dated).await?;
    let Some(issued) = store.issue_document_in(tx, actor, draft).await? else {
        return Ok(None);
    };
    settle_issued(store, tx, actor, &issued, draft).await?;
    Ok(Some(issued))
}

/// What the freshly issued document `issued` (of `draft`) does to the client's account.
pub(crate) async fn settle_issued(
    store: &Store,
    tx: &mut WriteTx,
    actor: &Actor,
    issued: &Issued,
    draft: &InvoiceDraft,
) -> AppResult<()> {
    match draft.kind {
        DocumentKind::CreditNote => settle_credit_note(store, tx, issued, draft).await?,
        // The tax document of a paid pro-forma: paid by the pro-forma's money already.
        DocumentKind::Invoice if draft.related_invoice_id.is_some() => {
            return Ok(store.mark_settled_in(tx, issued.id).await?);
        }
        _ => {}
    }
    settle_account(store, tx, actor, draft.client_id, draft.issue_date).await
}

/// A credit note against its invoice (or, on none, credit outright); the note is settled.
pub(crate) async fn settle_credit_note(
    store: &Store,
    tx: &mut WriteTx,
    issued: &Issued,
    draft: &InvoiceDraft,
) -> AppResult<()> {
    let amount = -draft.totals.gross;
    let to_credit = match draft.related_invoice_id {
        Some(invoice) => {
            let mut effect = credit_effect(store, tx, invoice, amount).await?;
            // A pro-forma's tax invoice holds none of the money, which lies on the pro-forma:
            // the pro-forma is credited alike, and the money returned comes off it (found
            // probing from outside: it came off the tax invoice's mirror, and the pro-forma
            // kept it too — the client's money counted twice).
            let holder = match store.proforma_of_tax_invoice_in(tx, invoice).await? {
                Some(proforma) => {
                    let mirror = CreditNoteEffect {
                        to_credit: Decimal::ZERO,
                        ..effect
                    };
                    let ids = (issued.id, invoice, draft.client_id);
                    store
                        .record_credit_note_effect_in(tx, ids, &mirror, draft.issue_date)
                        .await?;
                    effect = credit_effect(store, tx, proforma, amount).await?;
                    proforma
                }
                None => invoice,
            };
            let ids = (issued.id, holder, draft.client_id);
            store
                .record_credit_note_effect_in(tx, ids, &effect, draft.issue_date)
                .await?;
            effect.to_credit
        }
        None => amount,
    };
    store.mark_settled_in(tx, issued.id).await?;
    if !to_credit.is_zero() {
        let credit = store.client_credit_in(tx, draft.client_id).await?;
        store
            .set_client_credit_in(tx, draft.client_id, credit + to_credit)
            .await?;
    }
    Ok(())
}

/// What a credit note of `amount` does to document `invoice` (the core's rule).
async fn credit_effect(
    store: &Store,
    tx: &mut WriteTx,
    invoice: i64,
    amount: Decimal,
) -> AppResult<CreditNoteEffect> {
    let settled = store.settled_in(tx, invoice).await?;
    credit_note::apply(settled, amount).map_err(|e| AppError::Precondition(e.to_string()))
}

/// The client's credit spent on its open documents, then the tax invoices of pro-formas that
/// became paid, dated `day`.
pub(crate) async fn settle_account(
    store: &Store,
    tx: &mut WriteTx,
    actor: &Actor,
    client: i64,
    day: NaiveDate,
) -> AppResult<()> {
    spend_credit(store, tx, client, day).await?;
    follow_proformas(store, tx, actor, client, day).await
}

/// Spends the client's credit on its open documents, oldest first.
async fn spend_credit(
    store: &Store,
    tx: &mut WriteTx,
    client: i64,
    day: NaiveDate,
) -> AppResult<()> {
    let (credit, open) = store.credit_and_open_in(tx, client).await?;
    if credit <= Decimal::ZERO {
        return Ok(());
    }
    let allocation =
        apply_credit(credit, &open).map_err(|e| AppError::Precondition(e.to_string()))?;
    let documents = DocumentPaid::after(&open, &allocation.to_invoices);
    let spent = (allocation.to_invoices.as_slice(), documents.as_slice());
    store
        .record_credit_spent_in(tx, client, spent, allocation.credit_after(credit), day)
        .await?;
    Ok(())
}

/// Issues the tax invoice of every fully paid pro-forma of the client that has none yet:
/// same lines, dated `day` (the day of the money that completed it), already paid.
pub(crate) async fn follow_proformas(
    store: &Store,
    tx: &mut WriteTx,
    actor: &Actor,
    client: i64,
    day: NaiveDate,
) -> AppResult<()> {
    for proforma in store.proformas_awaiting_tax_invoice_in(tx, client).await? {
        let mut draft = proforma.draft;
        draft.kind = DocumentKind::Invoice;
        draft.related_invoice_id = Some(proforma.id);
        draft.related_number = Some(proforma.number);
        draft.issue_date = day;
        draft.taxable_supply_date = day;
        draft.due_date = day;
        if let Some(issued) = store.issue_document_in(tx, actor, &draft).await? {
            store.mark_settled_in(tx, issued.id).await?;
        }
    }
    Ok(())
}

/// Puts the card's opening balance on the account when it changed from `before` (0 for a new
/// client): credit, or an opening-balance document dated `day` in the client's currency
/// (`default_currency` when its invoice group names none). Refused once the books started.
pub(crate) async fn opening_balance(
    store: &Store,
    tx: &mut WriteTx,
    actor: &Actor,
    (client, before): (&Client, Decimal),
    day: NaiveDate,
    default_currency: &str,
) -> AppResult<()> {
    let after = client.invoicing.opening_balance;
    if before == after {
        return Ok(());
    }
    let books_started = store.has_books_in(tx, client.id).await?;
    let credit = store.client_credit_in(tx, client.id).await?;
    let Some(on_account) = opening_balance::put(credit, before, after, books_started)
        .map_err(|e| AppError::Precondition(e.to_string()))?
    else {
        return Ok(());
    };
    store.remove_opening_balance_in(tx, client.id).await?;
    store
        .set_client_credit_in(tx, client.id, on_account.credit)
        .await?;
    if let Some(debt) = on_account.debt {
        let mut draft =
            InvoiceDraft::empty(DocumentKind::OpeningBalance, &ClientHead::of(client), day);
        draft.lines.push(InvoiceLineRecord {
            line: opening_balance::line(debt),
            subscription_id: None,
            period: None,
            reverses: None,
        });
        draft.currency = store
            .client_currency_in(tx, client.id, default_currency)
            .await?;
        draft.total_up();
        issue(store, tx, actor, &draft).await?;
    }
    Ok(())
}
