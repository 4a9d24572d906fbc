//! The instances working on one database and their heartbeats: which are alive, since when,
//! and how far each has read the change log.

use chrono::{DateTime, Utc};

use super::{Backend, Store, StoreResult, timestamp};

/// One instance as its last heartbeat left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRow {
    pub id: String,
    pub version: String,
    pub started_at: String,
    pub heartbeat_at: String,
    /// The last change-log id it applied (0 on SQLite).
    pub applied_change: i64,
}

impl Store {
    /// Records that `row.id` is alive as of `row.heartbeat_at` — and, alive, may have changes
    /// not yet told to the sessions (see [`Store::mark_told`]) — and forgets instances silent
    /// since before `forget_before`.
    pub async fn heartbeat(
        &self,
        row: &InstanceRow,
        forget_before: DateTime<Utc>,
    ) -> StoreResult<()> {
        // One transaction: on SQLite each commit is an fsync that accounting's writer waits
        // behind.
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO instance (id, version, started_at, heartbeat_at, applied_change)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version,
                started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
                applied_change = excluded.applied_change, told = 0",
        )
        .bind(row.id.clone())
        .bind(row.version.clone())
        .bind(row.started_at.clone())
        .bind(row.heartbeat_at.clone())
        .bind(row.applied_change)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM instance WHERE heartbeat_at < $1")
            .bind(timestamp(forget_before))
            .execute(&mut *tx)
            .await?;
        // On PostgreSQL the instances following the log prune it (keeping what one cut off
        // for a while still needs); on SQLite nothing else does.
        if self.backend == Backend::Sqlite {
            let (sql, at) = super::change_log::prune(self.backend, forget_before);
            sqlx::query(sql).bind(at).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The instances that died without telling the online sessions everything they changed:
    /// not this one, not stopped cleanly, not yet caught up on by a start, and — on
    /// PostgreSQL — without a connection open (a live instance keeps its pool; on SQLite one
    /// instance serves at a time, so every other is gone). With each, its last heartbeat.
    pub async fn instances_untold(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
        let sql = match self.backend {
            Backend::Postgres => {
                "SELECT id, heartbeat_at FROM instance
                 WHERE told = 0 AND id <> $1
                   AND id NOT IN (SELECT application_name FROM pg_stat_activity
                                  WHERE application_name IS NOT NULL)
                 ORDER BY id"
            }
            Backend::Sqlite => {
                "SELECT id, heartbeat_at FROM instance WHERE told = 0 AND id <> $1 ORDER BY id"
            }
        };
        let rows: Vec<(String, String)> = sqlx::query_as(sql)
            .bind(self.instance().to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|(id, at)| Ok((id, super::parse_timestamp("instance heartbeat", &at)?)))
            .collect()
    }

    /// Marks instances as having told the sessions everything they changed: this one at its
    /// clean stop, the dead ones once a start has caught up on them.
    pub async fn mark_told(&self, ids: &[String]) -> StoreResult<()> {
        for id in ids {
            sqlx::query("UPDATE instance SET told = 1 WHERE id = $1")
                .bind(id.clone())
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// The last heartbeat of any instance but this one: on a database that served alone, when
    /// the process before this one was last alive — the moment whose answers the online
    /// sessions were last told. `None` on a database no instance has served yet.
    pub async fn last_heartbeat_of_others(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let last: Option<String> =
            sqlx::query_scalar("SELECT MAX(heartbeat_at) FROM instance WHERE id <> $1")
                .bind(self.instance().to_owned())
                .fetch_one(&self.pool)
                .await?;
        last.map(|text| super::parse_timestamp("instance heartbeat", &text))
            .transpose()
    }

    /// Every instance that beat recently enough to be kept, by id.
    pub async fn instances(&self) -> StoreResult<Vec<InstanceRow>> {
        let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT id, version, started_at, heartbeat_at, applied_change FROM instance
             ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, version, started_at, heartbeat_at, applied_change)| InstanceRow {
                    id,
                    version,
                    started_at,
                    heartbeat_at,
                    applied_change,
                },
            )
            .collect())
    }
}
