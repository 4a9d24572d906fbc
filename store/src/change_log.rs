//! The change log on PostgreSQL: what other instances committed that alters a login's answer
//! or the NAS table. Its rows are written by triggers in the changing transaction itself
//! (migration 0016), each with the writing instance's id (the connection's
//! `application_name`); this module reads them, waits for their NOTIFY, and prunes them. A
//! SQLite database serves one instance and logs nothing.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;

use super::{AccessScope, Backend, Store, StoreError, StoreResult};

/// The NOTIFY channel the triggers announce on.
const CHANNEL: &str = "ispd_change";

/// What a logged change touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logged {
    Access(AccessScope),
    Nas,
}

/// One row of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedChange {
    pub id: i64,
    pub what: Logged,
    /// The instance that committed it.
    pub origin: String,
}

/// Waits for the log's NOTIFY on a connection of its own.
pub struct ChangeListener(PgListener);

impl ChangeListener {
    /// The next notification. A lost connection is an error; the next call reconnects (and
    /// notifications sent meanwhile are lost: read on from the last applied id).
    pub async fn next(&mut self) -> StoreResult<()> {
        match self.0.try_recv().await? {
            Some(_) => Ok(()),
            None => Err(StoreError::Precondition(
                "the change-log listener lost its connection".into(),
            )),
        }
    }
}

impl Store {
    /// A listener for the change log; `None` on SQLite.
    pub async fn listen_changes(&self) -> StoreResult<Option<ChangeListener>> {
        let Some(url) = self.listen_url.as_deref() else {
            return Ok(None);
        };
        let mut listener = PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(ChangeListener(listener)))
    }

    /// This store's instance id, as its changes are logged.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The logged changes after `after`, oldest first, at most `limit`.
    pub async fn changes_after(&self, after: i64, limit: i64) -> StoreResult<Vec<LoggedChange>> {
        if self.backend != Backend::Postgres {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT id, scope, key, origin FROM change_log WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, scope, key, origin)| {
                let bad = || super::corrupt(format!("change log {id}: {scope} {key:?}"));
                let number = || key.parse::<i64>().map_err(|_| bad());
                let what = match scope.as_str() {
                    "login" => Logged::Access(AccessScope::Login(number()?)),
                    "subscription" => Logged::Access(AccessScope::Subscription(number()?)),
                    "tariff" => Logged::Access(AccessScope::Tariff(number()?)),
                    "client" => Logged::Access(AccessScope::Client(key.clone())),
                    "nas" => Logged::Nas,
                    _ => return Err(bad()),
                };
                Ok(LoggedChange { id, what, origin })
            })
            .collect()
    }

    /// The first and last id in the log (`None` when it is empty): an instance whose last
    /// applied id lies before the first missed pruned changes and reloads everything.
    pub async fn change_log_bounds(&self) -> StoreResult<(Option<i64>, Option<i64>)> {
        if self.backend != Backend::Postgres {
            return Ok((None, None));
        }
        Ok(sqlx::query_as("SELECT MIN(id), MAX(id) FROM change_log")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Deletes the log's rows older than `before`; returns how many.
    pub async fn prune_change_log(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        if self.backend != Backend::Postgres {
            return Ok(0);
        }
        // Timestamps cross the Any driver as text; PostgreSQL casts the RFC 3339 form.
        Ok(
            sqlx::query("DELETE FROM change_log WHERE at < CAST($1 AS TIMESTAMPTZ)")
                .bind(super::timestamp(before))
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }
}
