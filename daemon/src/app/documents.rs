//! What happens to issued documents after the billing run: reading them, cancelling one.

use chrono::NaiveDate;
use ispd_billing::field::{Text, text};

use super::payments::{publish, restore_paid_in};
use super::{App, AppResult, books, field};
use crate::storage::{Actor, InvoiceRecord};

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

/// Cancels a document with a credit note (see [`crate::storage::Store::cancel_invoice`]);
/// what the client had paid on it becomes credit, which may clear its debt: then the client
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
    let (store, settings) = (app.store, app.dunning_settings());
    let day = app.day_or_today(order.date);
    let client = store.get_invoice(order.number).await?.draft.client_number;
    let mut tx = store.begin_write().await?;
    books::check_open_in(store, &mut tx, [("the credit note", day)]).await?;
    let issued = store
        .cancel_invoice_in(
            &mut tx,
            actor,
            order.number,
            order.reason.trim(),
            day,
            order.rebill,
        )
        .await?;
    let restored = restore_paid_in(store, &mut tx, &settings, actor, &[&client], day).await?;
    tx.commit().await?;
    publish(app.changes, &restored).await;
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
