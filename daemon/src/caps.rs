//! Data caps (FUP): which logins have crossed their tariff's monthly cap. A crossed login
//! gets the cap's reduced rate (`ispd_provisioning::speed::speed_at`) until the month ends.
//!
//! Checked as accounting arrives: the accounting writers name the logins of each committed
//! batch, and the watch sums this month's traffic of those that have a cap and are still
//! under it (one query per second at most, `usage_daily` from the first of the month in
//! `[billing] timezone`). A login that crossed is marked in the access cache and published on
//! the change feed, so enforcement pushes the reduced rate to its sessions like any other
//! change. At the turn of the month every mark is lifted the same way. Every minute all
//! capped logins are checked too, the net for a batch the watch missed. The marks live in
//! memory and are rebuilt from the database at start.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use tokio::sync::mpsc;

use crate::changes::{Change, ChangeFeed};
use crate::clock::Clock;
use crate::radius::RadiusService;
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
    rx: mpsc::Receiver<Vec<i64>>,
}

/// The first day of the month `day` is in: caps count from there.
fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

impl CapWatch {
    /// Hooks the watch to committed accounting; `run` it on the runtime.
    pub fn new(
        store: Store,
        radius: Arc<RadiusService>,
        changes: ChangeFeed,
        clock: Clock,
    ) -> Self {
        let (tx, rx) = mpsc::channel(BACKLOG);
        radius.watch_traffic(tx);
        CapWatch {
            store,
            radius,
            changes,
            clock,
            rx,
        }
    }

    pub async fn run(mut self) {
        let mut month = month_of(self.clock.today());
        self.check(None, month).await;
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
                    let now = month_of(self.clock.today());
                    if now != month {
                        month = now;
                        self.lift_all().await;
                    }
                    if since_full >= FULL_CHECK {
                        since_full = Duration::ZERO;
                        touched.clear();
                        self.check(None, month).await;
                    } else if !touched.is_empty() {
                        let logins = std::mem::take(&mut touched);
                        self.check(Some(&logins), month).await;
                    }
                }
            }
        }
    }

    /// Marks the logins under a cap (of `only`, or all) whose traffic since `month` crossed
    /// it, and publishes each.
    async fn check(&self, only: Option<&HashSet<i64>>, month: NaiveDate) {
        let under: Vec<_> = self
            .radius
            .caps()
            .into_iter()
            .filter(|(id, _, crossed)| !crossed && only.is_none_or(|o| o.contains(id)))
            .collect();
        if under.is_empty() {
            return;
        }
        let ids: Vec<i64> = under.iter().map(|(id, _, _)| *id).collect();
        let usage = match self.store.usage_since(&ids, month).await {
            Ok(usage) => usage,
            Err(e) => {
                tracing::warn!(error = %e, "data caps not checked; retrying");
                return;
            }
        };
        let crossed: Vec<i64> = under
            .iter()
            .filter(|(id, cap, _)| {
                usage
                    .get(id)
                    .is_some_and(|(down, up)| cap.crossed(*down, *up))
            })
            .map(|(id, _, _)| *id)
            .collect();
        if crossed.is_empty() {
            return;
        }
        tracing::info!(
            logins = crossed.len(),
            "data cap crossed: reduced rate until the month ends"
        );
        self.radius.set_capped(&crossed, true);
        for id in crossed {
            self.changes
                .publish(Change::Access(AccessScope::Login(id)))
                .await;
        }
    }

    /// A new month: every login gets its tariff's speed back.
    async fn lift_all(&self) {
        let capped: Vec<i64> = self
            .radius
            .caps()
            .into_iter()
            .filter(|(_, _, crossed)| *crossed)
            .map(|(id, _, _)| id)
            .collect();
        self.radius.set_capped(&capped, false);
        for id in capped {
            self.changes
                .publish(Change::Access(AccessScope::Login(id)))
                .await;
        }
    }
}
