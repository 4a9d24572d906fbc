//! The change-feed consumer that keeps the access cache and the NAS table true to the
//! database: it reloads what a change names, before the publisher goes on.
//!
//! A change is committed before it is published, so a reload that fails — the database
//! dropped between the commit and the read, a pool run dry — cannot be undone by refusing
//! the change: the cache would keep the old answer until the next restart. Such a change is
//! kept and published again after [`RETRY`] (backing off to [`RETRY_MAX`] while it keeps
//! failing) until the cache takes it; enforcement, the next consumer, then pushes it to the
//! online sessions as it would have.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::RadiusService;
use crate::changes::{Change, ChangeFeed, Consumer};
use crate::config::Config;
use crate::live::Live;
use crate::storage::{AccessScope, Store};

/// How soon the changes the cache could not read back are published again; while they keep
/// failing (a long outage) the wait doubles up to [`RETRY_MAX`], so the log is not flooded.
const RETRY: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(10);
/// Changes kept at most; beyond that they are kept as one reload of everything.
const KEPT: usize = 1_000;

pub struct CacheUpdater {
    radius: Arc<RadiusService>,
    store: Store,
    config: Arc<Live<Config>>,
    /// The changes whose reload failed, oldest first, each once.
    unapplied: Mutex<Vec<Change>>,
}

impl CacheUpdater {
    /// Subscribes the cache to `feed` (before any other consumer, which reads the cache),
    /// and publishes again, for as long as the daemon runs, what it could not reload.
    pub fn subscribe(
        feed: &ChangeFeed,
        radius: Arc<RadiusService>,
        store: Store,
        config: Arc<Live<Config>>,
    ) {
        let updater = Arc::new(CacheUpdater {
            radius,
            store,
            config,
            unapplied: Mutex::default(),
        });
        feed.subscribe(updater.clone());
        tokio::spawn(updater.retry(feed.clone()));
    }

    async fn retry(self: Arc<Self>, feed: ChangeFeed) {
        let mut pause = RETRY;
        loop {
            tokio::time::sleep(pause).await;
            let unapplied = std::mem::take(&mut *self.lock());
            if unapplied.is_empty() {
                pause = RETRY;
                continue;
            }
            tracing::info!(
                changes = unapplied.len(),
                "reloading the changes the access cache could not read"
            );
            for change in unapplied {
                feed.publish(change).await;
            }
            pause = if self.lock().is_empty() {
                RETRY
            } else {
                (pause * 2).min(RETRY_MAX)
            };
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Change>> {
        self.unapplied.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn keep(&self, change: &Change) {
        let mut unapplied = self.lock();
        if unapplied.contains(change) {
            return;
        }
        unapplied.push(change.clone());
        if unapplied.len() > KEPT {
            *unapplied = everything(&unapplied);
        }
    }
}

/// One reload of everything in place of `changes`: all logins (as this instance's own
/// change when any of them was), and the NAS table when any of them named it.
fn everything(changes: &[Change]) -> Vec<Change> {
    let all = if changes.iter().any(|c| matches!(c, Change::Access(_))) {
        Change::Access(AccessScope::All)
    } else {
        Change::Elsewhere(AccessScope::All)
    };
    let mut out = vec![all];
    if changes.contains(&Change::Nas) {
        out.push(Change::Nas);
    }
    out
}

impl Consumer for CacheUpdater {
    fn apply<'a>(&'a self, change: &'a Change) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            let applied = match change {
                Change::Access(scope) | Change::Elsewhere(scope) => {
                    self.radius.refresh(&self.store, scope.clone()).await
                }
                // Applied by `RadiusService::reload` before it was published.
                Change::Policy => true,
                Change::Nas => {
                    self.radius
                        .refresh_nas(&self.config.load(), &self.store)
                        .await
                }
            };
            if !applied {
                self.keep(change);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_many_kept_changes_become_one_reload_of_everything() {
        let elsewhere: Vec<Change> = (0..3)
            .map(|id| Change::Elsewhere(AccessScope::Login(id)))
            .collect();
        assert_eq!(
            everything(&elsewhere),
            [Change::Elsewhere(AccessScope::All)]
        );
        let mut mixed = elsewhere.clone();
        mixed.push(Change::Access(AccessScope::Login(9)));
        mixed.push(Change::Nas);
        assert_eq!(
            everything(&mixed),
            [Change::Access(AccessScope::All), Change::Nas],
            "our own change keeps being ours: enforcement pushes it"
        );
    }
}
