//! One instance per scheduled job. Several ispd on one PostgreSQL each run the daily schedule;
//! a transaction-scoped advisory lock lets exactly one of them do a job while the others skip
//! it. The lock lives in an open transaction on its own connection, so a crash, a panic or a
//! lost connection releases it (the transaction ends) and no job is ever blocked for good.
//! SQLite is one instance by construction: the lock is always granted.
//!
//! What the clock causes rather than a change (a daily speed window opening, a data cap
//! crossed) is sent to the sessions by one instance, the one that holds the [`Lead`]: a
//! session-level advisory lock on a connection of its own, held for as long as the instance
//! lives and released with that connection when it dies.

use super::{Backend, Store, StoreResult};

/// Held while a job runs; dropping it releases the lock.
pub struct JobLock {
    _tx: Option<sqlx::Transaction<'static, sqlx::Any>>,
}

impl Store {
    /// `None` when another instance is running `job` right now.
    pub async fn try_job_lock(&self, job: &str) -> StoreResult<Option<JobLock>> {
        if self.backend == Backend::Sqlite {
            return Ok(Some(JobLock { _tx: None }));
        }
        let mut tx = self.pool.begin().await?;
        let granted: i64 = sqlx::query_scalar(
            "SELECT CAST(CASE WHEN pg_try_advisory_xact_lock($1) THEN 1 ELSE 0 END AS BIGINT)",
        )
        .bind(job_key(job))
        .fetch_one(&mut *tx)
        .await?;
        Ok((granted == 1).then_some(JobLock { _tx: Some(tx) }))
    }
}

impl Store {
    /// Whether `job` finished for `day` (in any instance).
    pub async fn job_ran(&self, job: &str, day: chrono::NaiveDate) -> StoreResult<bool> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT instance FROM job_run WHERE job = $1 AND day = $2")
                .bind(job.to_owned())
                .bind(super::date_text(day))
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    /// Records that `job` finished for `day` in this instance, with what it did.
    pub async fn record_job_run(
        &self,
        job: &str,
        day: chrono::NaiveDate,
        outcome: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO job_run (job, day, instance, finished_at, outcome)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (job, day) DO NOTHING",
        )
        .bind(job.to_owned())
        .bind(super::date_text(day))
        .bind(self.instance.to_string())
        .bind(super::timestamp(chrono::Utc::now()))
        .bind(outcome.to_owned())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The latest recorded run of `job`, by whichever instance ran it.
    pub async fn last_job_run(&self, job: &str) -> StoreResult<Option<JobRun>> {
        Ok(sqlx::query_as(
            "SELECT day, instance, finished_at, outcome FROM job_run WHERE job = $1
             ORDER BY day DESC LIMIT 1",
        )
        .bind(job.to_owned())
        .fetch_optional(&self.pool)
        .await?)
    }
}

/// A daily job's recorded run.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRun {
    /// The day it ran for, `YYYY-MM-DD`.
    pub day: String,
    pub instance: String,
    /// RFC 3339, UTC.
    pub finished_at: String,
    pub outcome: String,
}

/// The lead of `role`, held by one instance at a time (see the module's doc).
pub struct Lead {
    conn: Option<sqlx::postgres::PgConnection>,
}

impl Store {
    /// `None` while another instance leads.
    pub async fn try_lead(&self, role: &str) -> StoreResult<Option<Lead>> {
        use sqlx::Connection;
        let Some(url) = self.listen_url.as_deref() else {
            return Ok(Some(Lead { conn: None }));
        };
        let mut conn = sqlx::postgres::PgConnection::connect(url).await?;
        let granted: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(job_key(role))
            .fetch_one(&mut conn)
            .await?;
        Ok(granted.then_some(Lead { conn: Some(conn) }))
    }
}

impl Lead {
    /// Whether the lead is still held: its connection answers.
    pub async fn check(&mut self) -> StoreResult<()> {
        if let Some(conn) = self.conn.as_mut() {
            sqlx::query("SELECT 1").execute(conn).await?;
        }
        Ok(())
    }
}

/// A stable 64-bit key per job name (FNV-1a), in ispd's own key space: the high half is
/// "ispd" so other applications' advisory locks on the same server do not collide.
pub(crate) fn job_key(job: &str) -> i64 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in job.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (i64::from(u32::from_be_bytes(*b"ispd")) << 32) | i64::from(hash)
}

#[cfg(test)]
mod tests {
    use super::job_key;

    #[test]
    fn keys_are_stable_and_distinct() {
        assert_eq!(job_key("daily"), job_key("daily"));
        assert_ne!(job_key("daily"), job_key("sweep"));
        assert_eq!(job_key("daily") >> 32, 0x6973_7064);
    }
}
