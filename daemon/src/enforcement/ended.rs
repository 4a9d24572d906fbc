//! Sessions their NAS said are over — a Disconnect-ACK, or a Disconnect-NAK "Session Context
//! Not Found" (503) — are closed at once, presumed as of their last record, the way the stale
//! sweep closes them: they stop counting for Simultaneous-Use and in `session list`. Before,
//! they counted until the NAS's Stop, which a NAS that has no such session never sends, so the
//! subscriber's next login was refused until the sweep (found probing from outside). The
//! NAS's Stop, when it comes, outranks the presumed end; an Interim after it reopens the
//! session, as after the sweep.
//!
//! Off the senders' path, in batches, as the attempt log is written: a failed write only
//! leaves the session to its Stop or the sweep.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::radius::RadiusService;
use crate::storage::Store;

/// Sessions waiting to be closed at most; past it they are left to their Stop or the sweep.
const BACKLOG: usize = 10_000;
/// Sessions closed per transaction at most.
const BATCH: usize = 500;

pub(super) struct Ended {
    tx: mpsc::Sender<i64>,
}

impl Ended {
    pub fn start(store: Store, radius: Arc<RadiusService>) -> Self {
        let (tx, rx) = mpsc::channel(BACKLOG);
        tokio::spawn(close(store, radius, rx));
        Ended { tx }
    }

    /// The NAS ended session `id` (the session table's id).
    pub fn ended(&self, id: i64) {
        let _ = self.tx.try_send(id);
    }
}

async fn close(store: Store, radius: Arc<RadiusService>, mut rx: mpsc::Receiver<i64>) {
    let mut ids = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut ids, BATCH).await > 0 {
        match store.close_ended_sessions(&ids).await {
            Ok(changes) => radius.adjust_open_sessions(&changes),
            Err(e) => tracing::warn!(
                error = %e,
                sessions = ids.len(),
                "sessions their NAS ended are left open until their Stop or the stale sweep"
            ),
        }
        ids.clear();
    }
}
