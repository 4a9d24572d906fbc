//! Code lists (client groups, client statuses, payment types): what the client card may name.

use super::{App, AppResult};
use crate::storage::{Actor, CodeList};

/// The list's codes and labels.
pub async fn list(app: &App<'_>, list: CodeList) -> AppResult<Vec<(String, String)>> {
    Ok(app.store.list_codes(list).await?)
}

/// Adds a code or relabels it.
pub async fn put(
    app: &App<'_>,
    actor: &Actor,
    list: CodeList,
    (code, label): (&str, &str),
) -> AppResult<()> {
    ispd_billing::client::validate_code(code, label)?;
    Ok(app.store.put_code(actor, list, code, label).await?)
}

pub async fn delete(app: &App<'_>, actor: &Actor, list: CodeList, code: &str) -> AppResult<()> {
    Ok(app.store.delete_code(actor, list, code).await?)
}
