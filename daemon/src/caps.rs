//! Data caps (FUP): which subscriptions have crossed their tariff's cap in the current
//! billing period. Every login of a crossed subscription gets the cap's reduced rate
//! (`ispd_provisioning::speed::speed_at`) until the period ends.
//!
//! A cap counts the traffic of all the subscription's logins together, from the first day of
//! its billing period (`CapPeriod::counts_from` in the billing core: the client's billing day,
//! or the service's own day for a floating period; `usage_daily` in `[billing] timezone`).
//! Checked as accounting arrives: the accounting writers name the logins of each committed
//! batch, and the watch sums the period's traffic of their subscriptions (at most once a
//! second). A subscription that crossed has its logins marked in the access cache and
//! published on the change feed, so enforcement pushes the reduced rate to their sessions like
//! any other change. Every minute, and when the day changes, every capped subscription is
//! checked again: one whose period ended (or whose cap was raised) is under it again and
//! gets its speed back the same way. The marks live in memory; at start the first check
//! publishes every crossing again, and a subscription that was over its cap when ispd was
//! last running and whose period turned since is marked first ([`CapWatch::mark_as_of`]),
//! so that check lifts it.
//!
//! With several instances each keeps its own marks (the minute's check finds what another
//! instance's accounting crossed), and only the one that leads (`crate::lead`) publishes a
//! crossing for enforcement; the others take it into their caches silently, so a session gets
//! one CoA. A crossing first seen by an instance that does not lead reaches the sessions at
//! the leader's next minute's check.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use tokio::sync::mpsc;

use crate::changes::{Change, ChangeFeed};
use crate::clock::Clock;
use crate::lead::Lead;
use crate::radius::{CapHolder, RadiusService};
use crate::storage::{AccessScope, Store};

/// Batches of logins the watch may hold unread before accounting stops telling it.
const BACKLOG: usize = 1024;
/// How often touched logins are checked.
const STEP: Duration = Duration::from_secs(1);
/// How often every capped login is checked, whatever accounting said.
const FULL_CHECK: Duration = Duration::from_secs(60);

pub struct CapWatch {
    store: Store,
    radius: Arc<RadiusService>,
    changes: ChangeFeed,
    clock: Clock,
    lead: Arc<Lead>,
    rx: mpsc::Receiver<Vec<i64>>,
}

impl CapWatch {
    /// Hooks the watch to committed accounting; `run` it on the runtime.
    pub fn new(
        store: Store,
        radius: Arc<RadiusService>,
        changes: ChangeFeed,
        clock: Clock,
        lead: Arc<Lead>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(BACKLOG);
        radius.watch_traffic(tx);
        CapWatch {
            store,
            radius,
            changes,
            clock,
            lead,
            rx,
        }
    }

    pub async fn run(mut self) {
        let mut day = self.clock.today();
        self.check(None, day).await;
        let mut tick = tokio::time::interval(STEP);
        let mut since_full = Duration::ZERO;
        let mut touched = HashSet::new();
        loop {
            tokio::select! {
                batch = self.rx.recv() => match batch {
                    Some(logins) => touched.extend(logins),
                    None => return,
                },
                _ = tick.tick() => {
                    since_full += STEP;
                    let today = self.clock.today();
                    if since_full >= FULL_CHECK || today != day {
                        day = today;
                        since_full = Duration::ZERO;
                        touched.clear();
                        self.check(None, day).await;
                    } else if !touched.is_empty() {
                        let logins = std::mem::take(&mut touched);
                        self.check(Some(&logins), day).await;
                    }
                }
            }
        }
    }

    /// At start, before enforcement reads the cache: the subscriptions over their cap on
    /// `day`, when ispd was last running, and under it today (their period turned meanwhile)
    /// are marked without publishing — their sessions were told the reduced rate — so the
    /// first check of `run` lifts them and publishes that. Those over it today are left
    /// unmarked: the first check publishes their crossing, which also pushes one that was
    /// crossed in the last moment before the stop and not told yet.
    pub async fn mark_as_of(&self, day: NaiveDate, today: NaiveDate) {
        if day == today {
            return;
        }
        let (Some((then, _)), Some((now, _))) = (
            self.changed(None, day).await,
            self.changed(None, today).await,
        ) else {
            return;
        };
        let over_now: HashSet<i64> = now.into_iter().collect();
        let turned: Vec<i64> = then
            .into_iter()
            .filter(|id| !over_now.contains(id))
            .collect();
        self.radius.set_capped(&turned, true);
    }

    /// Sums the period's traffic of the subscriptions under a cap (those of the logins in
    /// `only`, or all), marks the logins of each that crossed and lifts the marks of each that
    /// is under it again, and publishes every login whose mark changed.
    async fn check(&self, only: Option<&HashSet<i64>>, today: NaiveDate) {
        let Some((crossed, lifted)) = self.changed(only, today).await else {
            return;
        };
        if !crossed.is_empty() {
            tracing::info!(
                logins = crossed.len(),
                "data cap crossed: reduced rate until the billing period ends"
            );
            self.radius.set_capped(&crossed, true);
        }
        if !lifted.is_empty() {
            tracing::info!(
                logins = lifted.len(),
                "data cap lifted: a new billing period"
            );
            self.radius.set_capped(&lifted, false);
        }
        for id in crossed.into_iter().chain(lifted) {
            let scope = AccessScope::Login(id);
            let change = if self.lead.holds() {
                Change::Access(scope)
            } else {
                Change::Elsewhere(scope)
            };
            self.changes.publish(change).await;
        }
    }

    /// The logins (of `only`, or all) whose subscription crossed its cap in its period of
    /// `today` and are not marked, and those marked that are under it again; `None` when the
    /// traffic cannot be read.
    async fn changed(
        &self,
        only: Option<&HashSet<i64>>,
        today: NaiveDate,
    ) -> Option<(Vec<i64>, Vec<i64>)> {
        let holders = self.radius.caps(today);
        let subscriptions: HashSet<i64> = match only {
            Some(logins) => holders
                .iter()
                .filter(|h| logins.contains(&h.login_id))
                .map(|h| h.subscription_id)
                .collect(),
            None => holders.iter().map(|h| h.subscription_id).collect(),
        };
        let holders: Vec<CapHolder> = holders
            .into_iter()
            .filter(|h| subscriptions.contains(&h.subscription_id))
            .collect();
        if holders.is_empty() {
            return None;
        }
        let traffic = match self.traffic(&holders).await {
            Ok(traffic) => traffic,
            Err(e) => {
                tracing::warn!(error = %e, "data caps not checked; retrying");
                return None;
            }
        };
        let (mut crossed, mut lifted) = (Vec::new(), Vec::new());
        for h in &holders {
            let (down, up) = traffic.get(&h.subscription_id).copied().unwrap_or_default();
            match (h.cap.crossed(down, up), h.crossed) {
                (true, false) => crossed.push(h.login_id),
                (false, true) => lifted.push(h.login_id),
                _ => {}
            }
        }
        Some((crossed, lifted))
    }

    /// Each subscription's (download, upload) octets since the start of its billing period:
    /// one query per distinct first day.
    async fn traffic(
        &self,
        holders: &[CapHolder],
    ) -> crate::storage::StoreResult<HashMap<i64, (u64, u64)>> {
        let mut by_day: BTreeMap<NaiveDate, Vec<i64>> = BTreeMap::new();
        for h in holders {
            by_day.entry(h.counts_from).or_default().push(h.login_id);
        }
        let subscription_of: HashMap<i64, i64> = holders
            .iter()
            .map(|h| (h.login_id, h.subscription_id))
            .collect();
        let mut traffic: HashMap<i64, (u64, u64)> = HashMap::new();
        for (from, logins) in by_day {
            for (login, (down, up)) in self.store.usage_since(&logins, from).await? {
                if let Some(subscription) = subscription_of.get(&login) {
                    let sum = traffic.entry(*subscription).or_default();
                    *sum = (sum.0.saturating_add(down), sum.1.saturating_add(up));
                }
            }
        }
        Ok(traffic)
    }
}
