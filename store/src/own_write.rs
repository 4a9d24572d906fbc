//! A SQLite connection of the store's own for write transactions of many rows — an
//! accounting writer's batches, the billing run's batches of documents, a bank statement's
//! import ([`crate::Store::write_alone`]) — which runs their
//! statements on the calling thread (see [`crate::statements`] for why not sqlx's worker). It
//! opens the file the store's pool has open, with the same settings, and takes part in
//! SQLite's locking like any other connection: `BEGIN IMMEDIATE` waits for the write lock as
//! long as its opener says, then gives up.

use std::path::Path;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::{StoreError, StoreResult};

/// Statements kept prepared: a batch runs a few, their text varying with the batch's size.
const PREPARED: usize = 64;

pub(crate) struct OwnConnection {
    conn: Connection,
}

impl OwnConnection {
    /// Opens `path`; a transaction waits up to `busy` for the write lock.
    pub(crate) fn open(path: &Path, busy: Duration) -> StoreResult<OwnConnection> {
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
        conn.busy_timeout(busy)?;
        conn.set_prepared_statement_cache_capacity(PREPARED);
        Ok(OwnConnection { conn })
    }

    /// Runs `write` in a write transaction on this thread, then commits if `keep` says so of
    /// what it returned (an accounting batch that found a session stale rolls back for another
    /// try, a billing batch with credit to settle goes the general way).
    ///
    /// `write` is the same async code that runs over sqlx, but every statement here completes
    /// at once, so it is polled to its end without an executor: nothing holds the transaction
    /// across a real wait, and the caller's future stays `Send` (a transaction is not).
    pub(crate) fn run<T, E: From<StoreError>>(
        &mut self,
        write: impl AsyncFnOnce(&mut rusqlite::Transaction<'_>) -> Result<T, E>,
        keep: impl FnOnce(&T) -> bool,
    ) -> Result<T, E> {
        // A COMMIT that failed on a full disk can leave a transaction open: end it first.
        if !self.conn.is_autocommit() {
            self.conn
                .execute_batch("ROLLBACK")
                .map_err(StoreError::from)?;
        }
        let mut tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let written = {
            let mut future = std::pin::pin!(write(&mut tx));
            match future
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
            {
                Poll::Ready(written) => written?,
                Poll::Pending => {
                    return Err(E::from(StoreError::Precondition(
                        "a statement on SQLite's own connection waited; it never should".to_owned(),
                    )));
                }
            }
        };
        if keep(&written) {
            tx.commit().map_err(StoreError::from)?;
        }
        Ok(written)
    }
}
