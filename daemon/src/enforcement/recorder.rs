//! Writes enforcement attempts to the log in batches, off the senders' path: a push to
//! 10,000 sessions costs a few dozen transactions, not 10,000. When the database is away the
//! attempts wait in a bounded channel; past it they are dropped and counted — the attempt
//! log is a record for the support desk, never a reason to hold a CoA back.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::storage::{EnforcementAttempt, Store};

/// Attempts waiting for the database at most.
const BACKLOG: usize = 50_000;
/// Attempts written per transaction at most.
const BATCH: usize = 500;
/// Tries for one batch before it is dropped (a database that refuses it as data).
const TRIES: u32 = 30;

pub(super) struct Recorder {
    tx: mpsc::Sender<EnforcementAttempt>,
}

impl Recorder {
    pub fn start(store: Store) -> Self {
        let (tx, rx) = mpsc::channel(BACKLOG);
        tokio::spawn(write(store, rx));
        Recorder { tx }
    }

    pub fn record(&self, attempts: Vec<EnforcementAttempt>) {
        for attempt in attempts {
            if self.tx.try_send(attempt).is_err() {
                metrics::counter!("ispd_enforcement_attempts_unrecorded_total").increment(1);
            }
        }
    }
}

async fn write(store: Store, mut rx: mpsc::Receiver<EnforcementAttempt>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        for tried in 1..=TRIES {
            match store.record_enforcement(&batch).await {
                Ok(()) => break,
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
        batch.clear();
    }
}
