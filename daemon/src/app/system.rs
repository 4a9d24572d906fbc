//! The daemon itself: what it is doing, and a copy of its database to back up.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use crate::radius::RadiusService;
use crate::radius::rates::PerSecond;
use crate::storage::{Backend, JobRun};

use super::{App, AppError, AppResult};

/// A consistent copy of the database, written beside it in the state directory, for the
/// caller to send on and then remove.
#[derive(Debug)]
pub struct BackupCopy {
    pub file: PathBuf,
    pub size: u64,
    /// Where the seal key lies: the copy's NAS secrets and login passwords open only with it.
    pub key_path: PathBuf,
}

/// Copies the SQLite database while ispd keeps answering (see `Store::copy_into`). Refused on
/// PostgreSQL, whose own tool does it better (and the instances sharing it need no one
/// instance to stop). The copy needs as much free space in the state directory as the
/// database takes; when it cannot be written, nothing is left behind.
pub async fn backup(app: &App<'_>) -> AppResult<BackupCopy> {
    let state_dir = app.config.load().state_dir.clone();
    let key_path = crate::seal::key_path(&state_dir);
    if app.store.backend() != Backend::Sqlite {
        return Err(AppError::Precondition(format!(
            "the database is PostgreSQL: back it up with pg_dump (for example \
             `pg_dump --format=custom --file=ispd.dump ispd`), and keep {} with it: the NAS \
             secrets and login passwords in it open only with that key",
            key_path.display()
        )));
    }
    let stamp = app.clock.now().format("%Y%m%dT%H%M%S%.6fZ");
    let file = state_dir.join(format!("backup-{stamp}.partial"));
    let copied = app.store.copy_into(&file).await;
    let size = match copied {
        Ok(()) => tokio::fs::metadata(&file).await.map(|m| m.len()),
        Err(e) => Err(std::io::Error::other(e.to_string())),
    };
    match size {
        Ok(size) => Ok(BackupCopy {
            file,
            size,
            key_path,
        }),
        Err(e) => {
            let _ = tokio::fs::remove_file(&file).await;
            Err(AppError::Unavailable(format!(
                "the copy could not be written in {}: {e}",
                state_dir.display()
            )))
        }
    }
}

/// What `ispctl system status` shows of this instance.
#[derive(Debug)]
pub struct Status {
    pub instance: String,
    pub started_at: DateTime<Utc>,
    pub uptime_seconds: i64,
    pub backend: Backend,
    /// What only the database knows; `Err` says why it is not known (an outage).
    pub database: Result<DatabaseFigures, String>,
    pub access_cache_logins: usize,
    pub per_second: PerSecond,
    pub spool_bytes: u64,
    pub config_loaded_at: Option<DateTime<Utc>>,
}

/// The part of the status read from the database.
#[derive(Debug)]
pub struct DatabaseFigures {
    pub database_bytes: i64,
    pub open_sessions: i64,
    pub last_daily_run: Option<JobRun>,
}

/// How long the status waits for the database: during an outage the pool waits 10 s for a
/// connection, and the status is wanted then most, for the spool.
const DATABASE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The instance's state as of now: the RADIUS side from memory, the rest from the database.
/// A database that does not answer within [`DATABASE_WAIT`] leaves its part out, marked,
/// and the rest is answered all the same.
pub async fn status(
    app: &App<'_>,
    radius: &RadiusService,
    started_at: DateTime<Utc>,
) -> AppResult<Status> {
    let now = app.clock.now();
    let database = match tokio::time::timeout(DATABASE_WAIT, database_figures(app)).await {
        Ok(Ok(figures)) => Ok(figures),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} s", DATABASE_WAIT.as_secs())),
    };
    Ok(Status {
        instance: app.store.instance().to_string(),
        started_at,
        uptime_seconds: (now - started_at).num_seconds(),
        backend: app.store.backend(),
        database,
        access_cache_logins: radius.cached_logins(),
        per_second: radius.rates.per_second(std::time::Instant::now()),
        spool_bytes: radius.spool_bytes.load(Ordering::Relaxed),
        config_loaded_at: app.config.load().loaded_at,
    })
}

async fn database_figures(app: &App<'_>) -> AppResult<DatabaseFigures> {
    Ok(DatabaseFigures {
        database_bytes: app.store.database_bytes().await?,
        open_sessions: app.store.count_open_sessions().await?,
        last_daily_run: app.store.last_job_run(crate::jobs::DAILY).await?,
    })
}
