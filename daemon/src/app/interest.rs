//! Interest on overdue invoices (net47): what has accrued, an interest note that bills it, and
//! a waiver that writes it off for good. The rule — which days, how much, when a note is worth
//! issuing — is `ispd_billing::interest`'s; these read the overdue invoices and write the
//! outcome in one transaction.

use chrono::NaiveDate;
use ispd_billing::interest::{self, Accrued, InterestRate, NoteDecision};
use ispd_billing::invoice::due_date;

use super::{App, AppError, AppResult, books, settlement};
use crate::storage::{
    Actor, ClientHead, DocumentKind, InvoiceDraft, InvoiceLineRecord, InvoiceRecord,
    OverdueInvoice, OverdueOf,
};

/// What one invoice's interest comes to, with whose it is and its currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub client_number: String,
    pub currency: String,
    pub accrued: Accrued,
}

/// The configured rate; refused when interest is not set up.
fn rate(app: &App<'_>) -> AppResult<InterestRate> {
    app.config.load().billing.interest_rate().ok_or_else(|| {
        AppError::Precondition(
            "interest is not charged: set [billing] interest_rate_percent to charge it".into(),
        )
    })
}

/// The interest accrued through `as_of` (today when left out) and not billed or waived yet:
/// every overdue invoice's, or one client's.
pub async fn pending(
    app: &App<'_>,
    client_number: Option<&str>,
    as_of: Option<NaiveDate>,
) -> AppResult<Vec<Pending>> {
    let rate = rate(app)?;
    let day = app.day_or_today(as_of);
    let of = client_number.map_or(OverdueOf::All, OverdueOf::Client);
    if let Some(number) = client_number {
        app.store.get_client(number).await?;
    }
    let overdue = app.store.overdue_invoices(of, day).await?;
    Ok(overdue
        .into_iter()
        .filter_map(|o| {
            interest::accrued(rate, &o.invoice, day).map(|accrued| Pending {
                client_number: o.client_number,
                currency: o.currency,
                accrued,
            })
        })
        .collect())
}

/// Bills a client's interest through `as_of` on one interest note — a debit note dated that
/// day with a line per invoice, due in the client's due days — and records the days it
/// charged, in one transaction. Refused when nothing accrued or less than
/// `[billing] interest_minimum`, and for a day in closed books.
pub async fn bill(
    app: &App<'_>,
    actor: &Actor,
    client_number: &str,
    as_of: Option<NaiveDate>,
) -> AppResult<InvoiceRecord> {
    let rate = rate(app)?;
    let (minimum, default_due_days) = {
        let config = app.config.load();
        (
            config.billing.interest_minimum,
            config.billing.default_due_days,
        )
    };
    let day = app.day_or_today(as_of);
    let client = app.store.get_client(client_number).await?;
    let store = app.store;
    let mut tx = store.begin_money_write().await?;
    books::check_open_in(store, &mut tx, [("the interest note", day)]).await?;
    let overdue = store
        .overdue_invoices_in(&mut tx, OverdueOf::Client(client_number), day)
        .await?;
    let documents: Vec<_> = overdue.iter().map(|o| o.invoice.clone()).collect();
    let items = match interest::note(rate, minimum, &documents, day) {
        NoteDecision::Bill { items, .. } => items,
        NoteDecision::BelowMinimum { total, minimum } => {
            return Err(AppError::Precondition(format!(
                "client {client_number}: {total} of interest accrued through {day}, less than \
                 the minimum of {minimum} ([billing] interest_minimum)"
            )));
        }
        NoteDecision::Nothing => {
            return Err(AppError::Precondition(format!(
                "client {client_number}: no interest accrued through {day}"
            )));
        }
    };
    let mut draft = InvoiceDraft::empty(DocumentKind::DebitNote, &ClientHead::of(&client), day);
    draft.due_date = due_date(day, client.invoicing.due_days, default_due_days);
    draft.currency = currency_of(&overdue, &items);
    draft.note = format!(
        "Interest note: interest at {} % a year",
        rate.annual_percent().normalize()
    );
    draft.lines = items
        .iter()
        .map(|item| InvoiceLineRecord {
            line: interest::line(rate, item),
            subscription_id: None,
            period: None,
            reverses: None,
        })
        .collect();
    draft.total_up();
    let issued = settlement::issue(store, &mut tx, actor, &draft)
        .await?
        .ok_or_else(|| AppError::Precondition("the interest note was not issued".into()))?;
    store
        .record_interest_charged_in(&mut tx, &items, issued.id)
        .await?;
    tx.commit().await?;
    Ok(store.get_invoice(&issued.number).await?)
}

/// The currency of the invoices interest is billed on: a client's documents are all in its
/// invoice group's currency.
fn currency_of(overdue: &[OverdueInvoice], items: &[Accrued]) -> String {
    overdue
        .iter()
        .find(|o| items.iter().any(|i| i.document_id == o.invoice.document_id))
        .map(|o| o.currency.clone())
        .unwrap_or_default()
}

/// Waives the interest invoice `number` accrued through `as_of` — net47's "delete", which
/// cannot be undone: those days are never billed. Needs `confirmed`; audited with what was
/// written off.
pub async fn waive(
    app: &App<'_>,
    actor: &Actor,
    number: &str,
    as_of: Option<NaiveDate>,
    confirmed: bool,
) -> AppResult<Pending> {
    let rate = rate(app)?;
    if !confirmed {
        return Err(super::clients::unconfirmed(&format!(
            "waiving the interest on invoice {number}"
        )));
    }
    let day = app.day_or_today(as_of);
    let store = app.store;
    let mut tx = store.begin_money_write().await?;
    let overdue = store
        .overdue_invoices_in(&mut tx, OverdueOf::Invoice(number), day)
        .await?;
    let Some((o, accrued)) = overdue
        .into_iter()
        .find_map(|o| interest::accrued(rate, &o.invoice, day).map(|a| (o, a)))
    else {
        store.get_invoice(number).await?;
        return Err(AppError::Precondition(format!(
            "invoice {number}: no interest accrued through {day} to waive"
        )));
    };
    store
        .record_interest_waived_in(&mut tx, actor, &o.client_number, &accrued)
        .await?;
    tx.commit().await?;
    Ok(Pending {
        client_number: o.client_number,
        currency: o.currency,
        accrued,
    })
}
