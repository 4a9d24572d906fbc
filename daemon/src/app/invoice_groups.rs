//! Invoice groups: the provider's companies that issue documents.

use ispd_billing::invoice_group::InvoiceGroup;

use super::{App, AppResult};
use crate::storage::Actor;

/// The group as typed (spaced IBANs and all) made tidy, then checked: the core's rules.
fn checked(mut group: InvoiceGroup) -> AppResult<InvoiceGroup> {
    group.normalize();
    group.validate()?;
    Ok(group)
}

pub async fn create(app: &App<'_>, actor: &Actor, group: InvoiceGroup) -> AppResult<InvoiceGroup> {
    Ok(app
        .store
        .create_invoice_group(actor, checked(group)?)
        .await?)
}

pub async fn update(app: &App<'_>, actor: &Actor, group: InvoiceGroup) -> AppResult<InvoiceGroup> {
    Ok(app
        .store
        .update_invoice_group(actor, checked(group)?)
        .await?)
}

pub async fn get(app: &App<'_>, code: &str) -> AppResult<InvoiceGroup> {
    Ok(app.store.invoice_group(code).await?)
}

pub async fn list(app: &App<'_>) -> AppResult<Vec<InvoiceGroup>> {
    Ok(app.store.invoice_groups().await?)
}

pub async fn delete(app: &App<'_>, actor: &Actor, code: &str) -> AppResult<()> {
    Ok(app.store.delete_invoice_group(actor, code).await?)
}
