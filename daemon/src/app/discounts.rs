//! Discounts on a subscription, read by each billing run. RADIUS does not care about them, so
//! nothing is published.

use chrono::NaiveDate;
use ispd_billing::invoice::Discount;

use super::{App, AppResult};
use crate::storage::{Actor, DiscountRecord};

/// Adds a discount to the subscription; `discount` makes it starting on its first day, which
/// is `valid_from` or today (Mango).
pub async fn add(
    app: &App<'_>,
    actor: &Actor,
    subscription_id: i64,
    valid_from: Option<NaiveDate>,
    discount: impl FnOnce(NaiveDate) -> Discount,
) -> AppResult<DiscountRecord> {
    let discount = discount(app.day_or_today(valid_from));
    discount.validate()?;
    Ok(app
        .store
        .add_discount(actor, subscription_id, discount)
        .await?)
}

pub async fn list(app: &App<'_>, subscription_id: i64) -> AppResult<Vec<DiscountRecord>> {
    Ok(app.store.list_discounts(subscription_id).await?)
}

pub async fn delete(app: &App<'_>, actor: &Actor, id: i64) -> AppResult<()> {
    Ok(app.store.delete_discount(actor, id).await?)
}
