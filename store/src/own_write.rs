//! A SQLite connection of the store's own for write transactions of many rows — an
//! accounting writer's batches, the billing run's batches of documents, a bank statement's
//! import ([`crate::Store::write_alone`]) — which runs their
//! statements on the calling thread (see [`crate::statements`] for why not sqlx's worker). It
//! opens the file the store's pool has open, with the same settings, and takes part in
//! SQLite's locking like any other connection: `BEGIN IMMEDIATE` waits for the write lock as
//! long as its opener says, then gives up.
//!
//! In WAL mode SQLite copies the log into the database file (a checkpoint: the copy, then an
//! fsync of the file) on the connection whose commit leaves the log over 1,000 pages, before
//! that commit's call returns. A bulk write leaves thousands — a billing run's batch of 5,000
//! invoices, a statement's import of 100,000 payments — so each batch, and the import's one
//! commit, waited for the copy of all it wrote before the run went on or the call answered. A
//! bulk connection ([`OwnConnection::open_bulk`]) makes no checkpoint while its call runs;
//! once the call is over it copies the log on a thread of its own
//! ([`OwnConnection::close_after_checkpoint`]), after the answer. Alternated pairs of
//! `ispd-bench billing --clients 100000` (medians): the import 2.66 → 2.42 s and the run
//! 2.38 → 2.04 s in five pairs, each faster in four; 2.70 → 2.33 s (all six faster) and
//! 2.25 → 2.08 s in six pairs of a first build that copied on a connection of its own. A
//! checkpoint after each batch on a thread of its own, beside the next batch, gained nothing
//! on two cores. Meanwhile the log grows by the whole call (about 110 MB for 100,000
//! invoices); another connection's automatic checkpoint copies what is committed of it, the
//! accounting writer's when accounting arrives during a billing run — which answers sooner
//! for it all the same: 64 requests in flight (`ispd-bench acct --server …`) while `ispctl
//! billing run` issues 100,000 invoices, three alternated pairs, p99 2.6–5.0 → 2.4–2.5 ms and
//! p99.9 87–113 → 23–25 ms. The accounting writer keeps SQLite's automatic checkpoints: its
//! commits are small.

use std::path::Path;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::write_turn::{self, WriteTurns};
use crate::{StoreError, StoreResult};

/// Statements kept prepared: a batch runs a few, their text varying with the batch's size.
const PREPARED: usize = 64;

pub(crate) struct OwnConnection {
    conn: Connection,
    /// How its transactions take their turn at the write lock beside the other writers.
    turn: Turn,
}

enum Turn {
    /// An accounting writer: says it waits, asks every millisecond up to this long.
    Waits(Arc<WriteTurns>, Duration),
    /// A bulk call: lets a waiting writer in before each transaction.
    GivesWay(Arc<WriteTurns>),
}

impl OwnConnection {
    /// Opens `path` for a writer whose transaction waits up to `busy` for the write lock,
    /// with a turn before the next transaction of a bulk call (see [`write_turn`]).
    pub(crate) fn open(
        path: &Path,
        busy: Duration,
        turns: Arc<WriteTurns>,
    ) -> StoreResult<OwnConnection> {
        let conn = Self::connect(path)?;
        conn.busy_handler(Some(write_turn::ask_every_millisecond))?;
        Ok(OwnConnection {
            conn,
            turn: Turn::Waits(turns, busy),
        })
    }

    fn connect(path: &Path) -> StoreResult<Connection> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // WAL is the file's own setting (the pool set it); these are the connection's. A
        // multi-row statement's temporary journal stays in memory instead of a file created
        // and removed for each batch.
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY;
             PRAGMA journal_size_limit = {};",
            crate::LOG_SIZE_KEPT
        ))?;
        conn.set_prepared_statement_cache_capacity(PREPARED);
        Ok(conn)
    }

    /// Opens `path` for a bulk call: a transaction waits up to `busy` for the write lock, and
    /// lets a waiting writer in before it; no checkpoint while the call runs — close it with
    /// [`Self::close_after_checkpoint`].
    pub(crate) fn open_bulk(
        path: &Path,
        busy: Duration,
        turns: Arc<WriteTurns>,
    ) -> StoreResult<OwnConnection> {
        let conn = Self::connect(path)?;
        conn.busy_timeout(busy)?;
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")?;
        Ok(OwnConnection {
            conn,
            turn: Turn::GivesWay(turns),
        })
    }

    /// Copies the log into the database file on a thread of its own, then closes: the caller
    /// does not wait. PASSIVE copies what no reader still needs and waits for no one; a
    /// failure (a full disk) is left as SQLite leaves a failed automatic checkpoint — the log
    /// keeps every page, and the next checkpoint copies it.
    pub(crate) fn close_after_checkpoint(self) {
        let copy = move || {
            let _ = self
                .conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        };
        // Without a thread the next checkpoint, anyone's, copies it.
        let _ = std::thread::Builder::new()
            .name("ispd-checkpoint".to_owned())
            .spawn(copy);
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
        let waiting = match &self.turn {
            Turn::Waits(turns, busy) => {
                write_turn::wait_at_most(*busy);
                Some(turns.wait())
            }
            Turn::GivesWay(turns) => {
                turns.give_way();
                None
            }
        };
        let mut tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        if let Some(waiting) = waiting {
            waiting.took_it();
        }
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
