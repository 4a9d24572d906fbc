//! Tariffs: speed and price. A changed tariff changes what every login on it gets.

use ispd_billing::tariff::Tariff;
use ispd_billing::unit;

use super::error::field;
use super::{App, AppResult};
use crate::storage::{AccessScope, Actor, Page, PageRequest};

pub async fn create(app: &App<'_>, actor: &Actor, tariff: Tariff) -> AppResult<Tariff> {
    tariff.validate()?;
    Ok(app.store.create_tariff(actor, tariff).await?)
}

/// Updates a tariff; its logins get the new speed before this returns. A service class it
/// takes must not put two services of one class on a unit (`unit::check_one_per_class`,
/// decided on the units as the update's transaction reads them, held as
/// [`Store::begin_unit_write`] holds them).
///
/// [`Store::begin_unit_write`]: crate::storage::Store::begin_unit_write
pub async fn update(app: &App<'_>, actor: &Actor, tariff: Tariff) -> AppResult<Tariff> {
    tariff.validate()?;
    let mut tx = app.store.begin_unit_write().await?;
    let stored = app.store.update_tariff_in(&mut tx, actor, tariff).await?;
    for (unit, service) in app.store.tariff_on_units_in(&mut tx, stored.id).await? {
        let others = app.store.services_on_unit_in(&mut tx, unit).await?;
        unit::check_one_per_class((unit, service), &stored.service_class, &others)
            .map_err(|e| field("tariff.service_class", e.problem))?;
    }
    tx.commit().await?;
    app.publish(AccessScope::Tariff(stored.id)).await;
    Ok(stored)
}

pub async fn get(app: &App<'_>, name: &str) -> AppResult<Tariff> {
    Ok(app.store.get_tariff(name).await?)
}

pub async fn list(app: &App<'_>, page: PageRequest) -> AppResult<Page<Tariff>> {
    Ok(app.store.list_tariffs(page).await?)
}

pub async fn delete(app: &App<'_>, actor: &Actor, name: &str) -> AppResult<()> {
    Ok(app.store.delete_tariff(actor, name).await?)
}
