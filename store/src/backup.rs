//! A consistent copy of the SQLite database while the daemon keeps writing to it.

use std::path::Path;

use crate::{Backend, Store, StoreError, StoreResult};

impl Store {
    /// Writes a copy of the SQLite database to `path` (which must not exist) with SQLite's
    /// `VACUUM INTO`: it reads in one transaction, so the accounting writer goes on while it
    /// runs and the copy holds every transaction committed before it began and none half. A
    /// PostgreSQL database is not copied this way (its tool is pg_dump).
    pub async fn copy_into(&self, path: &Path) -> StoreResult<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Precondition(
                "only a SQLite database is copied by ispd; use pg_dump for PostgreSQL".into(),
            ));
        }
        let path = path.to_str().ok_or_else(|| {
            StoreError::Precondition(format!("{} is not a UTF-8 path", path.display()))
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(path.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
