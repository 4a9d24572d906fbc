//! Tariffs: speed and price. A changed tariff changes what every login on it gets.

use ispd_billing::tariff::Tariff;

use super::{App, AppResult};
use crate::storage::{AccessScope, Actor, Page, PageRequest};

pub async fn create(app: &App<'_>, actor: &Actor, tariff: Tariff) -> AppResult<Tariff> {
    tariff.validate()?;
    Ok(app.store.create_tariff(actor, tariff).await?)
}

/// Updates a tariff; its logins get the new speed before this returns.
pub async fn update(app: &App<'_>, actor: &Actor, tariff: Tariff) -> AppResult<Tariff> {
    tariff.validate()?;
    let stored = app.store.update_tariff(actor, tariff).await?;
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
