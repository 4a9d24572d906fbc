//! Whether the database takes accounting, shared by the accounting writers. When a commit
//! fails for want of the database (connection lost, disk full, timed out), every writer
//! answers from the spool at once, and one probe task beside them asks the database again
//! with back-off. No writer ever waits on a reconnect: a NAS keeps its answers within
//! milliseconds however long the database is away.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::RadiusService;
use super::stats::RadiusStats;
use crate::storage::{Store, StoreError};

/// The longest a probe may take; beyond it the database counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// First pause between probes, doubled after each failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// While the database stays away, a reminder in the log at most this often.
const LOG_EVERY: Duration = Duration::from_secs(60);

pub struct Reachability {
    store: Store,
    radius: Arc<RadiusService>,
    /// `true` while the database is believed down; writers watch it to replay on its return.
    down: watch::Sender<bool>,
    probing: AtomicBool,
    /// Failures since the last commit that went through: the back-off grows with them, so a
    /// database that answers a probe but fails every write (a full disk) is not hammered.
    failures: AtomicU32,
    /// When a rate-limited line was last logged.
    logged: Mutex<Option<Instant>>,
}

impl Reachability {
    pub fn new(store: Store, radius: Arc<RadiusService>) -> Arc<Reachability> {
        Arc::new(Reachability {
            store,
            radius,
            down: watch::channel(false).0,
            probing: AtomicBool::new(false),
            failures: AtomicU32::new(0),
            logged: Mutex::new(None),
        })
    }

    pub fn is_down(&self) -> bool {
        *self.down.borrow()
    }

    /// Wakes when the database is found down or back.
    pub fn watch(&self) -> watch::Receiver<bool> {
        self.down.subscribe()
    }

    /// Whether a minute passed since the last line this allowed.
    fn log_due(&self) -> bool {
        let mut last = self.logged.lock().unwrap_or_else(|e| e.into_inner());
        let due = last.is_none_or(|at| at.elapsed() >= LOG_EVERY);
        if due {
            *last = Some(Instant::now());
        }
        due
    }

    /// A commit went through: the back-off starts again from its shortest pause.
    pub fn committed(&self) {
        self.failures.store(0, Ordering::Relaxed);
    }

    /// A write failed for want of the database: writers switch to the spool and a probe
    /// starts (one at a time) to find out when it is back.
    pub fn lost(self: &Arc<Self>, cause: &StoreError) {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        let was_down = self.down.send_replace(true);
        self.radius.stats.acct_database_down.set(1.0);
        // The first loss after a commit is always told; a database that answers probes but
        // fails every write (a full disk) is told about once a minute, not once a cycle.
        if !was_down && (failures == 1 || self.log_due()) {
            tracing::error!(error = %cause, failures, "database unavailable for accounting; answering NASes from the local spool until it is back");
        }
        if !self.probing.swap(true, Ordering::AcqRel) {
            tokio::spawn(self.clone().probe());
        }
    }

    async fn probe(self: Arc<Self>) {
        let since = Instant::now();
        let mut logged = Instant::now();
        let mut attempts = 0u32;
        loop {
            let exponent = self
                .failures
                .load(Ordering::Relaxed)
                .saturating_sub(1)
                .min(16);
            tokio::time::sleep((FIRST_BACKOFF * 2u32.pow(exponent)).min(MAX_BACKOFF)).await;
            attempts += 1;
            let cause = match tokio::time::timeout(PROBE_TIMEOUT, self.store.ping()).await {
                Ok(Ok(())) => break,
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!("no answer within {PROBE_TIMEOUT:?}"),
            };
            self.failures.fetch_add(1, Ordering::Relaxed);
            RadiusStats::bump(&self.radius.stats.acct_database_probe_failures_total);
            if logged.elapsed() >= LOG_EVERY {
                logged = Instant::now();
                tracing::warn!(
                    error = %cause,
                    attempts,
                    down_for_s = since.elapsed().as_secs(),
                    "database still unavailable for accounting; the spool keeps every record"
                );
            }
        }
        if self.failures.load(Ordering::Relaxed) <= 1 || self.log_due() {
            tracing::info!(
                down_for_s = since.elapsed().as_secs(),
                "database answers again; replaying the accounting spool"
            );
        }
        self.probing.store(false, Ordering::Release);
        self.radius.stats.acct_database_down.set(0.0);
        self.down.send_replace(false);
    }
}
