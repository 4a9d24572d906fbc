//! Reading the audit log (writing happens inside each change's transaction, see `mod.rs`).

use super::{Arg, Page, PageRequest, Store, StoreResult, Where, page_of};
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_key: String,
    pub client_number: Option<String>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub client_number: String,
    pub entity: String,
}

impl Store {
    /// Newest first.
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> StoreResult<Page<AuditEntry>> {
        let mut w = Where::default();
        if let Some(before) = page.after {
            w.and("id < {}", Arg::Int(before));
        }
        if !filter.client_number.is_empty() {
            w.and(
                "client_number = {}",
                Arg::Text(filter.client_number.clone()),
            );
        }
        if !filter.entity.is_empty() {
            w.and("entity = {}", Arg::Text(filter.entity.clone()));
        }
        let limit = page.limit();
        let sql = format!(
            "SELECT id, at, actor, action, entity, entity_key, client_number, before_json, after_json
             FROM audit {} ORDER BY id DESC LIMIT {}",
            w.sql(),
            w.next_placeholder()
        );
        let rows = w
            .bind(sqlx::query_as::<_, AuditEntry>(AssertSqlSafe(sql)))
            .bind(limit + 1)
            .fetch_all(&self.pool)
            .await?;
        Ok(page_of(rows, limit, |e| e.id))
    }
}
