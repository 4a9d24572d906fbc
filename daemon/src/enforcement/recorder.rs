//! Writes enforcement attempts to the log in batches, off the senders' path: a push to
//! 10,000 sessions costs a few dozen transactions, not 10,000. When the database is away the
//! attempts wait in a bounded channel; past it they are dropped and counted — the attempt
//! log is a record for the support desk, never a reason to hold a CoA back.
//!
//! One writer, in the order recorded: a session's later record is always written after its
//! earlier one, which is what lets a start take a session's last record as its state.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::storage::{EnforcementAttempt, Store};

/// Attempts waiting for the database at most.
const BACKLOG: usize = 50_000;
/// Attempts written per transaction at most.
const BATCH: usize = 500;
/// Tries for one batch before it is dropped (a database that refuses it as data).
const TRIES: u32 = 30;

enum Entry {
    Attempt(EnforcementAttempt),
    /// Answered once everything recorded before it is written (or given up).
    Flush(oneshot::Sender<()>),
}

pub(super) struct Recorder {
    tx: mpsc::Sender<Entry>,
}

impl Recorder {
    pub fn start(store: Store) -> Self {
        let (tx, rx) = mpsc::channel(BACKLOG);
        tokio::spawn(write(store, rx));
        Recorder { tx }
    }

    pub fn record(&self, attempts: Vec<EnforcementAttempt>) {
        for attempt in attempts {
            if self.tx.try_send(Entry::Attempt(attempt)).is_err() {
                metrics::counter!("ispd_enforcement_attempts_unrecorded_total").increment(1);
            }
        }
    }

    /// Returns once everything recorded before the call is written: at a stop, before the
    /// store closes.
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.tx.send(Entry::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

async fn write(store: Store, mut rx: mpsc::Receiver<Entry>) {
    let mut entries = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut entries, BATCH).await > 0 {
        let mut batch = Vec::with_capacity(entries.len());
        let mut flushed = Vec::new();
        for entry in entries.drain(..) {
            match entry {
                Entry::Attempt(attempt) => batch.push(attempt),
                Entry::Flush(done) => flushed.push(done),
            }
        }
        if !batch.is_empty() {
            write_batch(&store, &batch).await;
        }
        for done in flushed {
            let _ = done.send(());
        }
    }
}

async fn write_batch(store: &Store, batch: &[EnforcementAttempt]) {
    for tried in 1..=TRIES {
        match store.record_enforcement(batch).await {
            Ok(()) => return,
            Err(e) if tried == TRIES => {
                tracing::error!(error = %e, attempts = batch.len(), "enforcement attempts dropped from the log");
                metrics::counter!("ispd_enforcement_attempts_unrecorded_total")
                    .increment(batch.len() as u64);
            }
            Err(e) => {
                tracing::warn!(error = %e, attempts = batch.len(), "enforcement attempts not yet recorded; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
