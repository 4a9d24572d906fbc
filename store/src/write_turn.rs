//! A turn at SQLite's write lock for a writer that waits, between a bulk call's transactions.
//!
//! SQLite's write lock has no queue: a connection that finds it taken sleeps and tries again
//! (the default busy handler at growing intervals, up to 100 ms apart), and whoever asks at
//! the moment it is free gets it. A billing run's batches take it back to back — the next
//! batch is drafted before the last one commits — so an accounting batch could wait through
//! several of them: its slowest answer 0.13–0.94 s during a 100,000-invoice run, 49–52 ms
//! without the run. A longer run would have held it past its 3 s and sent accounting to the
//! spool. Both writers are this process's own connections ([`crate::own_write`]), so they
//! settle it here: the accounting writer says it waits and asks every millisecond, and a bulk
//! call, before each of its transactions, lets one waiting writer in first. Accounting then
//! waits at most one bulk transaction, however long the run: 64 requests in flight while
//! `ispctl billing run` issues 100,000 invoices (two alternated pairs), the slowest answer
//! 1.01 / 0.95 s → 0.21 / 0.20 s, the p99.9 24 / 109 → 192 / 188 ms (more answers wait one
//! batch, none waits several), the run 2.09 / 2.29 → 2.31 / 2.29 s.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a bulk transaction gives way at most, so that a waiter that gave up (or a count
/// gone wrong) cannot stall it.
const GIVE_WAY_AT_MOST: Duration = Duration::from_millis(100);

/// How often a waiting writer asks for the lock.
const ASK_EVERY: Duration = Duration::from_millis(1);

/// The writers of one SQLite file in this process that wait for its write lock.
#[derive(Debug, Default)]
pub(crate) struct WriteTurns {
    waiting: AtomicUsize,
    /// Turns taken by waiting writers so far: a bulk transaction gives way until one more.
    taken: AtomicU64,
}

impl WriteTurns {
    /// Counts the caller as waiting until the guard is dropped, with `taken` once it has the
    /// lock.
    pub(crate) fn wait(&self) -> Waiting<'_> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        Waiting { turns: self }
    }

    /// Before a bulk transaction: while a writer waits, lets one of them have the lock first.
    pub(crate) fn give_way(&self) {
        if self.waiting.load(Ordering::SeqCst) == 0 {
            return;
        }
        let taken = self.taken.load(Ordering::SeqCst);
        let until = Instant::now() + GIVE_WAY_AT_MOST;
        while self.waiting.load(Ordering::SeqCst) > 0
            && self.taken.load(Ordering::SeqCst) == taken
            && Instant::now() < until
        {
            std::thread::sleep(ASK_EVERY);
        }
    }
}

/// A waiting writer; dropped once it has the lock (or gave up).
pub(crate) struct Waiting<'a> {
    turns: &'a WriteTurns,
}

impl Waiting<'_> {
    pub(crate) fn took_it(self) {
        self.turns.taken.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.turns.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

thread_local! {
    /// When the waiting writer on this thread stops asking ([`ask_every_millisecond`]).
    static GIVE_UP_AT: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Sets how long the next wait on this thread may last.
pub(crate) fn wait_at_most(busy: Duration) {
    GIVE_UP_AT.set(Some(Instant::now() + busy));
}

/// A busy handler (rusqlite takes a plain function) that asks for the lock every millisecond
/// until the time [`wait_at_most`] set, where SQLite's own backs off to 100 ms.
pub(crate) fn ask_every_millisecond(_tries: i32) -> bool {
    match GIVE_UP_AT.get() {
        Some(at) if Instant::now() < at => {
            std::thread::sleep(ASK_EVERY);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::WriteTurns;
    use crate::own_write::OwnConnection;

    /// A bulk call that writes transactions of 25 ms back to back for a second lets a writer
    /// that waits in within about one of them — SQLite alone let it wait for the lock until
    /// the bulk call ended (checked by taking out `give_way`).
    #[test]
    fn a_waiting_writer_gets_in_between_a_bulk_calls_transactions() {
        let dir = std::env::temp_dir().join(format!("ispd-turn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("turn.db");
        let _ = std::fs::remove_file(&path);
        let setup = rusqlite::Connection::open(&path).unwrap();
        setup
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);")
            .unwrap();
        let turns = Arc::new(WriteTurns::default());
        let busy = Duration::from_secs(10);
        let mut bulk = OwnConnection::open_bulk(&path, busy, turns.clone()).unwrap();
        let mut waiter = OwnConnection::open(&path, busy, turns).unwrap();
        let bulk_call = std::thread::spawn(move || {
            for _ in 0..40 {
                bulk.run(
                    async |tx| -> crate::StoreResult<()> {
                        tx.execute("INSERT INTO t VALUES (1)", [])?;
                        std::thread::sleep(Duration::from_millis(25));
                        Ok(())
                    },
                    |_| true,
                )
                .unwrap();
            }
        });
        std::thread::sleep(Duration::from_millis(100));
        let asked = Instant::now();
        waiter
            .run(
                async |tx| -> crate::StoreResult<()> {
                    tx.execute("INSERT INTO t VALUES (2)", [])?;
                    Ok(())
                },
                |_| true,
            )
            .unwrap();
        let waited = asked.elapsed();
        bulk_call.join().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            waited < Duration::from_millis(300),
            "the waiting writer waited {waited:?} for a bulk call of 25 ms transactions"
        );
    }
}
