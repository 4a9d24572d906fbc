//! The daily jobs: activation of subscriptions whose day has come, the billing run, then the
//! dunning run, once a day at `[billing] run_at` in the clock's zone (`[billing] timezone`). All are idempotent, so a
//! restart that runs them twice on a day is harmless. Several instances on one PostgreSQL
//! each wake up; a PostgreSQL advisory lock lets one of them run the day's jobs and the others
//! skip them.

use std::sync::Arc;
use std::time::Duration;

use crate::changes::{Change, ChangeFeed};
use crate::clock::Clock;
use crate::config::Config;
use crate::live::Live;
use crate::storage::{AccessScope, Actor, Store};

/// Runs forever: sleeps until the configured time, then activates, bills and dunns as of today.
pub async fn daily(config: Arc<Live<Config>>, store: Store, changes: ChangeFeed, clock: Clock) {
    let actor = Actor("schedule".into());
    loop {
        let Some(at) = config.load().billing.run_at() else {
            // Not scheduled: look again after a reload might have changed that.
            tokio::time::sleep(Duration::from_secs(60)).await;
            continue;
        };
        let now = clock.now();
        let wait = (clock.zone().next(now, at) - now)
            .to_std()
            .unwrap_or_default();
        tokio::time::sleep(wait.max(Duration::from_secs(1))).await;
        let today = clock.today();
        let _lock = match store.try_job_lock("daily").await {
            Ok(Some(lock)) => lock,
            Ok(None) => {
                tracing::info!(%today, "daily jobs run by another instance");
                tokio::time::sleep(Duration::from_secs(61)).await;
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "daily jobs skipped: the database is unavailable");
                tokio::time::sleep(Duration::from_secs(61)).await;
                continue;
            }
        };
        // The changes scheduled for today first (a pause from today, an end today), then the
        // activations: both before billing reads subscriptions.
        let app = crate::app::App {
            store: &store,
            changes: &changes,
            clock,
            config: &config,
        };
        match crate::app::subscriptions::apply_due(&app, &actor, today).await {
            Ok(applied) => tracing::info!(applied = applied.len(), %today, "scheduled changes"),
            Err(e) => {
                tracing::error!(error = %e, "scheduled changes not applied; they run again tomorrow, or run `ispctl subscription apply-due`")
            }
        }
        // First, so the day's activations are in place before billing reads subscriptions.
        match store.activate_due(today).await {
            Ok(ids) => {
                for &id in &ids {
                    changes
                        .publish(Change::Access(AccessScope::Subscription(id)))
                        .await;
                }
                tracing::info!(activated = ids.len(), %today, "daily activation");
            }
            Err(e) => {
                tracing::error!(error = %e, "daily activation failed; it runs again tomorrow, or run `ispctl subscription activate ID`")
            }
        }
        let billing = config.load().billing.clone();
        match crate::app::billing_run::run(&store, &billing, &actor, today, false, 0).await {
            Ok(run) => tracing::info!(documents = run.count, %today, "daily billing run"),
            Err(e) => {
                tracing::error!(error = %e, "daily billing run failed; it runs again tomorrow, or run `ispctl billing run`")
            }
        }
        let dunning = config.load().dunning.settings();
        match crate::app::dunning_run::run(&store, &changes, &dunning, &actor, today, false).await {
            Ok(changes) => tracing::info!(changes = changes.len(), %today, "daily dunning run"),
            Err(e) => {
                tracing::error!(error = %e, "daily dunning run failed; run `ispctl dunning run`")
            }
        }
        // Past the minute, so the same run time is not taken twice.
        tokio::time::sleep(Duration::from_secs(61)).await;
    }
}
