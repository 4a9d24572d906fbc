//! The instances working on one database and their heartbeats: which are alive, since when,
//! and how far each has read the change log.

use chrono::{DateTime, Utc};

use super::{Store, StoreResult, timestamp};

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
    /// Records that `row.id` is alive as of `row.heartbeat_at`, and forgets instances silent
    /// since before `forget_before`.
    pub async fn heartbeat(
        &self,
        row: &InstanceRow,
        forget_before: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO instance (id, version, started_at, heartbeat_at, applied_change)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version,
                started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
                applied_change = excluded.applied_change",
        )
        .bind(row.id.clone())
        .bind(row.version.clone())
        .bind(row.started_at.clone())
        .bind(row.heartbeat_at.clone())
        .bind(row.applied_change)
        .execute(&self.pool)
        .await?;
        sqlx::query("DELETE FROM instance WHERE heartbeat_at < $1")
            .bind(timestamp(forget_before))
            .execute(&self.pool)
            .await?;
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
