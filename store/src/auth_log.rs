//! The authentication log: every Access-Request's outcome, the support desk's first answer.
//! Written in batches by the daemon's recorder (never a write per request), read newest first
//! with filters, pruned after the configured days.

use chrono::{DateTime, Utc};
pub use smol_str::SmolStr;
use sqlx::AssertSqlSafe;

use super::{
    Page, PageRequest, Placeholders, Store, StoreResult, corrupt, rows_per_statement, timestamp,
};
use crate::page::{Order, fetch_page};
use crate::{Arg, Where};

/// Whether the request was let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthResult {
    Accept,
    Reject,
}

impl AuthResult {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthResult::Accept => "accept",
            AuthResult::Reject => "reject",
        }
    }

    pub fn parse(text: &str) -> Option<AuthResult> {
        match text {
            "accept" => Some(AuthResult::Accept),
            "reject" => Some(AuthResult::Reject),
            _ => None,
        }
    }
}

/// One Access-Request's outcome, or the same outcome repeated (`count` times from `at` to
/// `last_at`). Holds no credential: the method says how the subscriber proved who they are,
/// never with what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthAttempt {
    pub at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub count: u32,
    /// The login's name when the request found one, else the User-Name as sent. The text
    /// fields are `SmolStr`: a login, a NAS name or a MAC of up to 23 bytes is copied inline,
    /// so recording a request allocates nothing on the receive thread and frees nothing on the
    /// writer's.
    pub login: SmolStr,
    pub nas_name: SmolStr,
    /// Calling-Station-Id as sent (the subscriber's MAC on PPPoE and hotspots); may be empty.
    pub calling_station: SmolStr,
    /// `pap`, `chap`, `mschapv2`, `none` or `conflicting`.
    pub method: &'static str,
    pub result: AuthResult,
    /// A reject's reason (`bad_credential`, `mac_mismatch`, …) or an accept's access state
    /// (`active`, or the restricted state served from the walled garden).
    pub reason: &'static str,
}

impl AuthAttempt {
    /// Whether `other` is this outcome again: same login, NAS, device, method and answer.
    pub fn same_outcome(&self, other: &AuthAttempt) -> bool {
        self.login == other.login && self.same_answer(other)
    }

    /// [`Self::same_outcome`] but for the login, for a caller that keeps attempts by login
    /// (the cheap comparisons first: this runs once per request at full load).
    pub fn same_answer(&self, other: &AuthAttempt) -> bool {
        self.result == other.result
            && self.reason == other.reason
            && self.method == other.method
            && self.calling_station == other.calling_station
            && self.nas_name == other.nas_name
    }

    /// Counts `later`, the same outcome again, into this one.
    pub fn repeat(&mut self, later: &AuthAttempt) {
        self.count = self.count.saturating_add(later.count);
        self.last_at = self.last_at.max(later.last_at);
    }
}

/// A stored attempt as read back: its id (the paging key) and owned text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthLogEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub count: u32,
    pub login: String,
    pub nas_name: String,
    pub calling_station: String,
    pub method: String,
    pub result: AuthResult,
    pub reason: String,
}

/// Which entries to list; an empty field does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthLogFilter {
    pub login: String,
    pub nas_name: String,
    pub result: Option<AuthResult>,
    pub reason: String,
}

impl AuthLogFilter {
    /// Whether `attempt` is one this filter lists (for the entries still in memory).
    pub fn matches(&self, attempt: &AuthAttempt) -> bool {
        (self.login.is_empty() || self.login == attempt.login)
            && (self.nas_name.is_empty() || *self.nas_name == *attempt.nas_name)
            && self.result.is_none_or(|r| r == attempt.result)
            && (self.reason.is_empty() || self.reason == attempt.reason)
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: String,
    last_at: String,
    count: i64,
    login: String,
    nas_name: String,
    calling_station: String,
    method: String,
    result: String,
    reason: String,
}

impl Row {
    fn into_entry(self) -> StoreResult<AuthLogEntry> {
        let bad = |what: &str| corrupt(format!("auth log entry {}: {what}", self.id));
        Ok(AuthLogEntry {
            id: self.id,
            at: crate::parse_timestamp(&format!("auth log entry {}: at", self.id), &self.at)?,
            last_at: crate::parse_timestamp(
                &format!("auth log entry {}: last_at", self.id),
                &self.last_at,
            )?,
            count: u32::try_from(self.count).map_err(|_| bad("count"))?,
            result: AuthResult::parse(&self.result).ok_or_else(|| bad("result"))?,
            login: self.login,
            nas_name: self.nas_name,
            calling_station: self.calling_station,
            method: self.method,
            reason: self.reason,
        })
    }
}

const COLUMNS: usize = 9;

impl Store {
    /// Records a batch of attempts in one transaction.
    pub async fn record_auth_attempts(&self, attempts: &[AuthAttempt]) -> StoreResult<()> {
        if attempts.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        for chunk in attempts.chunks(rows_per_statement(COLUMNS)) {
            let sql = format!(
                "INSERT INTO auth_log (at, last_at, count, login, nas_name, calling_station,
                    method, result, reason)
                 VALUES {}",
                Placeholders::for_conn(&tx)
                    .rows(chunk.len(), &["", "", "BIGINT", "", "", "", "", "", ""])
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for a in chunk {
                query = query
                    .bind(timestamp(a.at))
                    .bind(timestamp(a.last_at))
                    .bind(i64::from(a.count))
                    .bind(a.login.as_str())
                    .bind(a.nas_name.as_str())
                    .bind(a.calling_station.as_str())
                    .bind(a.method)
                    .bind(a.result.as_str())
                    .bind(a.reason);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Attempts newest first.
    pub async fn auth_log(
        &self,
        filter: &AuthLogFilter,
        page: PageRequest,
    ) -> StoreResult<Page<AuthLogEntry>> {
        let mut w = Where::default();
        let text = [
            ("login = {}", &filter.login),
            ("nas_name = {}", &filter.nas_name),
            ("reason = {}", &filter.reason),
        ];
        for (clause, value) in text {
            if !value.is_empty() {
                w.and(clause, Arg::Text(value.clone()));
            }
        }
        if let Some(result) = filter.result {
            w.and("result = {}", Arg::Text(result.as_str().to_owned()));
        }
        fetch_page(
            &mut *self.pool.acquire().await?,
            "SELECT id, at, last_at, count, login, nas_name, calling_station, method, result,
                reason
             FROM auth_log",
            ("id", Order::NewestFirst),
            w,
            page,
            Row::into_entry,
            |e| e.id,
        )
        .await
    }

    /// Deletes the attempts older than `before`; returns how many.
    pub async fn prune_auth_log(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM auth_log WHERE at < $1")
            .bind(timestamp(before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
