//! Several instances on one PostgreSQL, kept in step: each follows the database's change log
//! (written by triggers in every transaction that changes what a login should get, see
//! `ispd_store::LoggedChange`) and publishes what the *other* instances changed on its own
//! change feed as [`Change::Elsewhere`] — its access cache takes it, its enforcement keeps up
//! without telling the sessions (the instance that made the change does that, once).
//!
//! It waits for the log's NOTIFY and reads on from the last id it applied; every
//! [`POLL`] it reads on anyway. A lost listener connection is reconnected and the log read on
//! from the same id, so nothing committed meanwhile is missed; when the log was pruned past
//! that id (the instance was cut off longer than the log is kept) every login is reloaded.
//! Both are logged and counted (`ispd_change_log_reconnects_total`,
//! `ispd_change_log_full_reloads_total`); `ispd_change_log_applied_id` is the last id read,
//! and `ispd_change_log_lag_seconds` how long after its write each other instance's change was
//! applied here (against the database server's clock: keep the hosts in NTP).
//! SQLite serves one instance and has no log: nothing to follow.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::changes::{Change, ChangeFeed};
use crate::radius::RadiusService;
use crate::storage::{AccessScope, Heard, Logged, OpenSessionsChanged, Store, StoreResult};

/// How long a wait for a NOTIFY lasts before the log is read anyway.
const POLL: Duration = Duration::from_secs(1);
/// Rows read per query while catching up.
const BATCH: i64 = 1_000;
/// How long a failed listener connection waits before it is tried again.
const RETRY: Duration = Duration::from_secs(1);
/// How often the log is pruned, and how old its rows may get.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
const KEEP: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// Where this instance stands in the log, for status calls.
#[derive(Debug, Default)]
pub struct Position {
    applied: AtomicI64,
}

impl Position {
    /// The last change id read (0 before the first).
    pub fn applied(&self) -> i64 {
        self.applied.load(Ordering::Relaxed)
    }
}

/// Where to start following: the log's last id, read *before* the access cache is built, so
/// a change committed while it is built is read again rather than missed. -1 (reload
/// everything once the log can be read) when it cannot be read now.
pub async fn start(store: &Store) -> i64 {
    match store.change_log_bounds().await {
        Ok((_, newest)) => newest.unwrap_or(0),
        Err(e) => {
            tracing::warn!(error = %e, "the change log cannot be read yet; reloading everything once it can");
            -1
        }
    }
}

/// Follows the log from `from` (see [`start`]) for as long as the daemon runs, and counts
/// again the open sessions that the other instances' accounting announces; returns at once on
/// SQLite.
pub async fn follow(
    store: Store,
    changes: ChangeFeed,
    radius: Arc<RadiusService>,
    position: Arc<Position>,
    from: i64,
) {
    let mut listener = match store.listen_changes().await {
        Ok(None) => return,
        Ok(Some(listener)) => Some(listener),
        Err(e) => {
            tracing::warn!(error = %e, "the change-log listener cannot connect yet; retrying");
            None
        }
    };
    let mut last = from;
    tracing::info!(
        from = last,
        instance = store.instance(),
        "following the change log of the other instances"
    );
    let mut pruned_at = tokio::time::Instant::now();
    let mut recount = Recount::default();
    // Counted once LISTEN is on, so no session opened before it goes uncounted: the count at
    // start-up was taken before this listener existed.
    if listener.is_some() {
        recount.all();
    }
    // The log is read when it announces new rows, and every POLL anyway; not each time
    // another instance's accounting announces open sessions, which it does per batch.
    let mut read_at = tokio::time::Instant::now();
    let mut logged = true;
    loop {
        match listener.as_mut() {
            Some(l) => match tokio::time::timeout(POLL, l.next()).await {
                Ok(Ok(first)) => {
                    let mut heard = vec![first];
                    heard.extend(std::iter::from_fn(|| l.buffered()));
                    logged |= heard.contains(&Heard::Logged);
                    recount.extend(heard.into_iter().filter_map(|h| match h {
                        Heard::OpenSessions(changed) => Some(changed),
                        Heard::Logged => None,
                    }));
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, last_applied = last, "change-log listener lost; reconnecting, reading on from the last applied change and counting open sessions again");
                    metrics::counter!("ispd_change_log_reconnects_total").increment(1);
                    listener = None;
                }
                // A timeout is no error: the log is read on every POLL.
                Err(_) => {}
            },
            None => {
                tokio::time::sleep(RETRY).await;
                match store.listen_changes().await {
                    Ok(l) => {
                        tracing::info!(last_applied = last, "change-log listener connected");
                        // What was announced while none listened is lost: count everything,
                        // now that announcements are heard again.
                        if l.is_some() {
                            recount.all();
                        }
                        logged = true;
                        listener = l;
                    }
                    Err(e) => tracing::debug!(error = %e, "change-log listener still down"),
                }
            }
        }
        if let Some(changed) = recount.take()
            && let Err(e) = radius.recount_open_sessions(&store, &changed).await
        {
            tracing::debug!(error = %e, "open sessions not counted again yet; retrying");
            recount.extend([changed]);
        }
        if logged || listener.is_none() || read_at.elapsed() >= POLL {
            match read_on(&store, &changes, last).await {
                Ok(now) => {
                    last = now;
                    logged = false;
                    read_at = tokio::time::Instant::now();
                    position.applied.store(last, Ordering::Relaxed);
                    metrics::gauge!("ispd_change_log_applied_id").set(last as f64);
                }
                Err(e) => tracing::debug!(error = %e, "change log not read; retrying"),
            }
        }
        if pruned_at.elapsed() >= PRUNE_EVERY {
            pruned_at = tokio::time::Instant::now();
            prune(&store).await;
        }
    }
}

/// The logins whose open sessions are to be counted again, gathered from the notifications
/// that arrived together: one query for all of them.
#[derive(Default)]
struct Recount(Option<OpenSessionsChanged>);

impl Recount {
    fn all(&mut self) {
        self.0 = Some(OpenSessionsChanged::All);
    }

    fn extend(&mut self, more: impl IntoIterator<Item = OpenSessionsChanged>) {
        for changed in more {
            self.0 = Some(match (self.0.take(), changed) {
                (None, changed) => changed,
                (Some(OpenSessionsChanged::Logins(mut a)), OpenSessionsChanged::Logins(b)) => {
                    a.extend(b);
                    a.sort_unstable();
                    a.dedup();
                    OpenSessionsChanged::Logins(a)
                }
                _ => OpenSessionsChanged::All,
            });
        }
    }

    fn take(&mut self) -> Option<OpenSessionsChanged> {
        self.0.take()
    }
}

/// Publishes every change after `last` that another instance made, and returns the last id
/// read. `last` < 0, or a log pruned past it, reloads every login instead.
async fn read_on(store: &Store, changes: &ChangeFeed, mut last: i64) -> StoreResult<i64> {
    let (oldest, newest) = store.change_log_bounds().await?;
    if last < 0 || oldest.is_some_and(|first| first > last + 1) {
        tracing::warn!(
            last_applied = last,
            "the change log no longer reaches back to the last applied change; reloading every login"
        );
        metrics::counter!("ispd_change_log_full_reloads_total").increment(1);
        let newest = newest.unwrap_or(0);
        changes.publish(Change::Elsewhere(AccessScope::All)).await;
        changes.publish(Change::Nas).await;
        return Ok(newest);
    }
    loop {
        let batch = store.changes_after(last, BATCH).await?;
        let full = batch.len() as i64 == BATCH;
        last = batch.last().map_or(last, |logged| logged.id);
        let others: Vec<_> = batch
            .into_iter()
            .filter(|logged| logged.origin != store.instance())
            .collect();
        let written: Vec<_> = others.iter().map(|logged| logged.at).collect();
        for change in coalesced(others.into_iter().map(|logged| logged.what)) {
            changes.publish(change).await;
        }
        // Applied: how long after it was written, by this host's clock against the database's.
        let now = chrono::Utc::now();
        for at in written {
            let lag = (now - at).to_std().unwrap_or_default();
            metrics::histogram!("ispd_change_log_lag_seconds").record(lag.as_secs_f64());
        }
        if !full {
            return Ok(last);
        }
    }
}

/// A batch of the log as few changes: each distinct one once, and the logins changed one by
/// one as one scope, loaded with one query (at a thousand changes a second, a query each
/// would fall behind).
fn coalesced(batch: impl IntoIterator<Item = Logged>) -> Vec<Change> {
    let mut logins = std::collections::BTreeSet::new();
    let mut out: Vec<Change> = Vec::new();
    for what in batch {
        let change = match what {
            Logged::Access(AccessScope::Login(id)) => {
                logins.insert(id);
                continue;
            }
            Logged::Access(scope) => Change::Elsewhere(scope),
            Logged::Nas => Change::Nas,
        };
        if !out.contains(&change) {
            out.push(change);
        }
    }
    match logins.len() {
        0 => {}
        1 => out.extend(
            logins
                .into_iter()
                .map(|id| Change::Elsewhere(AccessScope::Login(id))),
        ),
        _ => out.push(Change::Elsewhere(AccessScope::Logins(
            logins.into_iter().collect(),
        ))),
    }
    out
}

/// Deletes log rows older than [`KEEP`], one instance at a time.
async fn prune(store: &Store) {
    let Ok(Some(_lock)) = store.try_job_lock("change-log-prune").await else {
        return;
    };
    match store.prune_change_log(chrono::Utc::now() - KEEP).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(rows = n, "change log pruned"),
        Err(e) => tracing::warn!(error = %e, "the change log was not pruned"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_becomes_each_distinct_change_once_and_one_load_of_its_logins() {
        let login = |id| Logged::Access(AccessScope::Login(id));
        let batch = vec![
            login(7),
            Logged::Nas,
            login(3),
            Logged::Access(AccessScope::Tariff(1)),
            login(7),
            Logged::Nas,
        ];
        assert_eq!(
            coalesced(batch),
            [
                Change::Nas,
                Change::Elsewhere(AccessScope::Tariff(1)),
                Change::Elsewhere(AccessScope::Logins(vec![3, 7])),
            ]
        );
        assert_eq!(
            coalesced(vec![login(5)]),
            [Change::Elsewhere(AccessScope::Login(5))]
        );
        assert!(coalesced(Vec::new()).is_empty());
    }
}
