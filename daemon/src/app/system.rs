//! The daemon itself: a copy of its database to back up.

use std::path::PathBuf;

use crate::storage::Backend;

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
