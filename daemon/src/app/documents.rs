//! What happens to issued documents after the billing run.

use chrono::NaiveDate;
use ispd_billing::dunning::DunningSettings;

use super::payments::{publish, restore_paid_in};
use crate::changes::ChangeFeed;
use crate::storage::{Actor, Issued, Store, StoreResult};

/// Cancels a document with a credit note dated `day` (see [`Store::cancel_invoice`]); what the
/// client had paid on it becomes credit, which may clear its debt: then the client is restored
/// in the same transaction, as a payment would restore it.
pub async fn cancel(
    store: &Store,
    feed: &ChangeFeed,
    settings: &DunningSettings,
    actor: &Actor,
    (number, reason, rebill): (&str, &str, bool),
    day: NaiveDate,
) -> StoreResult<Issued> {
    let client = store.get_invoice(number).await?.draft.client_number;
    let mut tx = store.begin_write().await?;
    let issued = store
        .cancel_invoice_in(&mut tx, actor, number, reason, day, rebill)
        .await?;
    let restored = restore_paid_in(store, &mut tx, settings, actor, &[&client], day).await?;
    tx.commit().await?;
    publish(feed, &restored).await;
    Ok(issued)
}
