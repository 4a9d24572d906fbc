//! An accounting writer's own SQLite connection, which runs the batch's statements on the
//! writer's thread (see [`super::statements`] for why not sqlx's worker). It opens the file
//! the store's pool has open, with the same settings, and takes part in SQLite's locking like
//! any other connection: `BEGIN IMMEDIATE` waits up to [`BUSY`] for the write lock, then gives
//! up so the writer spools the batch instead of holding its NASes longer.

use std::path::Path;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::Written;
use super::statements::{Kind, Statements, Value, decode};
use crate::{Backend, Placeholders, StoreError, StoreResult};

/// How long a batch waits for the write lock; the writer's bound on a commit.
const BUSY: Duration = Duration::from_secs(3);
/// Statements kept prepared: a batch runs a few, their text varying with the batch's size.
const PREPARED: usize = 64;

pub(crate) struct OwnConnection {
    conn: Connection,
}

impl OwnConnection {
    pub(crate) fn open(path: &Path) -> StoreResult<OwnConnection> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // WAL is the file's own setting (the pool set it); these are the connection's. A
        // multi-row statement's temporary journal stays in memory instead of a file created
        // and removed for each batch.
        conn.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY;",
        )?;
        conn.busy_timeout(BUSY)?;
        conn.set_prepared_statement_cache_capacity(PREPARED);
        Ok(OwnConnection { conn })
    }

    /// Runs `write` in a write transaction on this thread, then commits — unless it found a
    /// session stale, which rolls the batch back for another try.
    ///
    /// `write` is the same async code that runs over sqlx, but every statement here completes
    /// at once, so it is polled to its end without an executor: nothing holds the transaction
    /// across a real wait, and the writer's future stays `Send` (a transaction is not).
    pub(crate) fn run(
        &mut self,
        write: impl AsyncFnOnce(&mut rusqlite::Transaction<'_>) -> StoreResult<Written>,
    ) -> StoreResult<Written> {
        // A COMMIT that failed on a full disk can leave a transaction open: end it first.
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("ROLLBACK")?;
        }
        let mut tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let written = {
            let mut future = std::pin::pin!(write(&mut tx));
            match future
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
            {
                Poll::Ready(written) => written?,
                Poll::Pending => {
                    return Err(StoreError::Precondition(
                        "an accounting statement on SQLite waited; it never should".to_owned(),
                    ));
                }
            }
        };
        if written.stale.is_empty() {
            tx.commit()?;
        }
        Ok(written)
    }
}

impl Statements for rusqlite::Transaction<'_> {
    fn placeholders(&self) -> Placeholders {
        Placeholders::for_backend(Backend::Sqlite)
    }

    async fn rows(
        &mut self,
        sql: &str,
        params: Vec<Value<'_>>,
        kinds: &[Kind],
    ) -> StoreResult<Vec<Vec<Value<'static>>>> {
        let mut statement = self.prepare_cached(sql)?;
        bind(&mut statement, params)?;
        let mut rows = statement.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(decode(kinds, |i| row.get(i), |i| row.get(i))?);
        }
        Ok(out)
    }

    async fn execute(&mut self, sql: &str, params: Vec<Value<'_>>) -> StoreResult<u64> {
        let mut statement = self.prepare_cached(sql)?;
        bind(&mut statement, params)?;
        Ok(statement.raw_execute()? as u64)
    }
}

/// Binds by position: SQLite numbers `$N` and `?` by first appearance, as the SQL is written.
fn bind(statement: &mut rusqlite::CachedStatement<'_>, params: Vec<Value<'_>>) -> StoreResult<()> {
    for (i, value) in params.into_iter().enumerate() {
        match value {
            Value::Int(v) => statement.raw_bind_parameter(i + 1, v)?,
            Value::Text(v) => statement.raw_bind_parameter(i + 1, v)?,
        }
    }
    Ok(())
}
