//! One-off charges on a client or one of its subscriptions, billed by the next run.

use chrono::NaiveDate;
use ispd_billing::charge::OneOffCharge;

use super::{App, AppResult, books};
use crate::storage::{Actor, ChargeRecord};

/// Adds a charge for the client (and subscription); `charge` makes it for its day, which is
/// `charge_on` or today.
pub async fn add(
    app: &App<'_>,
    actor: &Actor,
    (client_number, subscription_id): (&str, Option<i64>),
    charge_on: Option<NaiveDate>,
    charge: impl FnOnce(NaiveDate) -> OneOffCharge,
) -> AppResult<ChargeRecord> {
    let charge = charge(app.day_or_today(charge_on));
    charge.validate()?;
    books::check_open(app.store, "the charge", charge.charge_on).await?;
    Ok(app
        .store
        .add_charge(actor, client_number, subscription_id, charge)
        .await?)
}

pub async fn list(app: &App<'_>, client_number: &str) -> AppResult<Vec<ChargeRecord>> {
    Ok(app.store.list_charges(client_number).await?)
}

pub async fn delete(app: &App<'_>, actor: &Actor, id: i64) -> AppResult<()> {
    let charge = app.store.get_charge(id).await?;
    books::check_open(app.store, "the charge", charge.charge.charge_on).await?;
    Ok(app.store.delete_charge(actor, id).await?)
}
