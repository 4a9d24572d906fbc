//! One instance per scheduled job. Several ispd on one PostgreSQL each run the daily schedule;
//! a transaction-scoped advisory lock lets exactly one of them do a job while the others skip
//! it. The lock lives in an open transaction on its own connection, so a crash, a panic or a
//! lost connection releases it (the transaction ends) and no job is ever blocked for good.
//! SQLite is one instance by construction: the lock is always granted.

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

/// A stable 64-bit key per job name (FNV-1a), in ispd's own key space: the high half is
/// "ispd" so other applications' advisory locks on the same server do not collide.
fn job_key(job: &str) -> i64 {
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
