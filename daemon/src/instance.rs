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

/// Writes the heartbeat every [`BEAT`] for as long as the daemon runs.
pub async fn beat(store: Store, position: Arc<Position>) {
    let started_at = timestamp(chrono::Utc::now());
    let mut tick = tokio::time::interval(BEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = chrono::Utc::now();
        let row = InstanceRow {
            id: store.instance().to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: started_at.clone(),
            heartbeat_at: timestamp(now),
            applied_change: position.applied(),
        };
        if let Err(e) = store.heartbeat(&row, now - FORGET).await {
            tracing::debug!(error = %e, "heartbeat not written; the database is unavailable");
        }
    }
}
