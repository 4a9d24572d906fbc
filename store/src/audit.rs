//! The audit log: [`Audit`], the record a write adds in its own transaction — so a change and
//! the record of it commit together or not at all — and reading the log back.

use super::{Actor, Page, PageRequest, Store, StoreResult, Where, now, rows_per_statement};
use crate::page::{Order, fetch_page};
use crate::statements::{Statements, Value};

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
        w.equals("client_number", &filter.client_number);
        w.equals("entity", &filter.entity);
        fetch_page(
            &mut *self.pool.acquire().await?,
            "SELECT id, at, actor, action, entity, entity_key, client_number, before_json, after_json
             FROM audit",
            ("id", Order::NewestFirst),
            w,
            page,
            |row: AuditEntry| Ok(row),
            |e| e.id,
        )
        .await
    }
}

/// One audit record as a write describes it: what was done (`action`) to which record
/// (`entity`, `key`), for which client, and the record before and after, as JSON. Records
/// hold no secrets (those are sealed apart), so nothing secret reaches the log this way.
#[must_use = "nothing is recorded until `record`"]
pub(crate) struct Audit<'a> {
    action: &'a str,
    entity: &'a str,
    key: &'a str,
    client_number: Option<&'a str>,
    before: Option<String>,
    after: Option<String>,
}

impl<'a> Audit<'a> {
    pub(crate) fn new(action: &'a str, entity: &'a str, key: &'a str) -> Self {
        Audit {
            action,
            entity,
            key,
            client_number: None,
            before: None,
            after: None,
        }
    }

    /// The client the record concerns: the audit log filters by it.
    pub(crate) fn client(self, number: &'a str) -> Self {
        Audit {
            client_number: Some(number),
            ..self
        }
    }

    /// The record as it was: absent for a creation.
    pub(crate) fn before(self, record: &impl serde::Serialize) -> Self {
        Audit {
            before: serde_json::to_string(record).ok(),
            ..self
        }
    }

    /// The record as it is now: absent for a deletion.
    pub(crate) fn after(self, record: &impl serde::Serialize) -> Self {
        Audit {
            after: serde_json::to_string(record).ok(),
            ..self
        }
    }

    /// Writes the record as the last write of the change it describes, and commits: an
    /// audited change cannot be committed without its record.
    pub(crate) async fn commit(
        self,
        mut tx: sqlx::Transaction<'static, sqlx::Any>,
        actor: &Actor,
    ) -> StoreResult<()> {
        self.record(&mut *tx, actor).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes the record in the transaction of the change it describes.
    pub(crate) async fn record(self, conn: &mut impl Statements, actor: &Actor) -> StoreResult<()> {
        let values = vec![
            Value::from(now()),
            Value::from(actor.0.as_str()),
            Value::from(self.action),
            Value::from(self.entity),
            Value::from(self.key),
            Value::from(self.client_number),
            Value::from(self.before),
            Value::from(self.after),
        ];
        Statements::execute(
            conn,
            "INSERT INTO audit (at, actor, action, entity, entity_key, client_number, before_json,
                after_json)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            values,
        )
        .await?;
        Ok(())
    }
}

/// One audit row of a batch: (action, entity key, client number, after JSON).
pub(crate) type AuditRow = (String, String, Option<String>, String);

/// Audit rows of a batch operation with multi-row statements.
pub(crate) async fn record_audit_rows(
    conn: &mut impl Statements,
    actor: &Actor,
    entity: &str,
    rows: &[AuditRow],
) -> StoreResult<()> {
    let at = now();
    for chunk in rows.chunks(rows_per_statement(7)) {
        let sql = format!(
            "INSERT INTO audit (at, actor, action, entity, entity_key, client_number, after_json)
             VALUES {}",
            conn.placeholders().rows(chunk.len(), &[""; 7])
        );
        let mut values = Vec::with_capacity(chunk.len() * 7);
        for (action, key, client, after) in chunk {
            values.extend([
                Value::from(at.as_str()),
                Value::from(actor.0.as_str()),
                Value::from(action.as_str()),
                Value::from(entity),
                Value::from(key.as_str()),
                Value::from(client.as_deref()),
                Value::from(after.as_str()),
            ]);
        }
        Statements::execute(conn, &sql, values).await?;
    }
    Ok(())
}
