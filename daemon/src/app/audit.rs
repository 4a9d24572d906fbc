//! The audit log: every change made through the API, newest first.

use super::{App, AppResult};
use crate::storage::{AuditEntry, AuditFilter, Page, PageRequest};

pub async fn list(
    app: &App<'_>,
    filter: &AuditFilter,
    page: PageRequest,
) -> AppResult<Page<AuditEntry>> {
    Ok(app.store.list_audit(filter, page).await?)
}
