//! Discounts on a subscription, read by each billing run. RADIUS does not care about them, so
//! nothing is published.

use chrono::NaiveDate;
use ispd_billing::invoice::Discount;

use super::{App, AppResult, books};
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
    books::check_open(app.store, "the discount", discount.valid_from).await?;
    Ok(app
        .store
        .add_discount(actor, subscription_id, discount)
        .await?)
}

pub async fn list(app: &App<'_>, subscription_id: i64) -> AppResult<Vec<DiscountRecord>> {
    Ok(app.store.list_discounts(subscription_id).await?)
}

/// Removes a discount, unless it reaches into the closed period (ISPadmin refuses that too).
pub async fn delete(app: &App<'_>, actor: &Actor, id: i64) -> AppResult<()> {
    let discount = app.store.get_discount(id).await?;
    books::check_open(app.store, "the discount", discount.discount.valid_from).await?;
    Ok(app.store.delete_discount(actor, id).await?)
}
