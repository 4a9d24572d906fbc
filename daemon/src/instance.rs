//! This process among the instances working on one database: its id, and the heartbeat that
//! tells the others (and `ispctl system instances`) it is alive and how far it has read the
//! change log.

use std::sync::Arc;
use std::time::Duration;

use crate::change_log::Position;
use crate::storage::{InstanceRow, Store, timestamp};

/// How often the heartbeat is written.
const BEAT: Duration = Duration::from_secs(5);
/// An instance silent this long is forgotten.
const FORGET: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// host:pid — as its PostgreSQL connections name themselves (`application_name`) and the
/// change log records the origin of each change.
pub fn id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    format!("{host}:{}", std::process::id())
}

/// This instance's heartbeat: written every [`BEAT`] while the daemon runs, and once more
/// at a clean stop — the moment the next start takes the online sessions' answers as of.
pub struct Heartbeat {
    store: Store,
    started_at: String,
    position: Arc<Position>,
    /// Whether the last heartbeat is written: a periodic one after it would mark the
    /// instance as alive again, with changes the next start would tell again. Held across
    /// each write, so none is still under way when the last one is.
    last: tokio::sync::Mutex<bool>,
}

impl Heartbeat {
    pub fn new(store: Store, position: Arc<Position>) -> Arc<Heartbeat> {
        Arc::new(Heartbeat {
            store,
            started_at: timestamp(chrono::Utc::now()),
            position,
            last: tokio::sync::Mutex::new(false),
        })
    }

    /// Beats every [`BEAT`] for as long as the daemon runs.
    pub async fn run(self: Arc<Self>) {
        let mut tick = tokio::time::interval(BEAT);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let last = self.last.lock().await;
            if *last {
                return;
            }
            self.write().await;
        }
    }

    /// The last heartbeat, at a clean stop once enforcement has recorded every request it
    /// queued: nothing this instance changed is left for the next start to tell again.
    pub async fn write_last(&self) {
        let mut last = self.last.lock().await;
        *last = true;
        self.write().await;
        if let Err(e) = self
            .store
            .mark_told(&[self.store.instance().to_owned()])
            .await
        {
            tracing::warn!(error = %e, "the clean stop not recorded; the next start tells the sessions of the last minutes' changes again");
        }
    }

    /// One heartbeat, now.
    async fn write(&self) {
        let now = chrono::Utc::now();
        let row = InstanceRow {
            id: self.store.instance().to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: self.started_at.clone(),
            heartbeat_at: timestamp(now),
            applied_change: self.position.applied(),
        };
        if let Err(e) = self.store.heartbeat(&row, now - FORGET).await {
            tracing::debug!(error = %e, "heartbeat not written; the database is unavailable");
        }
    }
}
