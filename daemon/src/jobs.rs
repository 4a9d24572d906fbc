//! The daily jobs: activation of subscriptions whose day has come, the billing run, then the
//! dunning run, once a day at `[billing] run_at` in the clock's zone (`[billing] timezone`),
//! and again later that day for each one that failed. All are idempotent, so a restart that
//! runs them twice on a day is harmless. Several instances on one PostgreSQL
//! each wake up; a PostgreSQL advisory lock lets one of them run the day's jobs, and a row in
//! `job_run` says they are done. The others wait: if the runner dies before it is done, its
//! lock goes with its connection and one of them runs the jobs instead.

use std::sync::Arc;
use std::time::Duration;

use crate::changes::ChangeFeed;
use crate::clock::Clock;
use crate::config::Config;
use crate::live::Live;
use crate::storage::{Actor, JobLock, Store};

/// Runs forever: sleeps until the jobs are due (see [`due`]), then activates, bills and dunns
/// as of today.
pub async fn daily(
    config: Arc<Live<Config>>,
    store: Store,
    changes: ChangeFeed,
    clock: Clock,
    stopping: Arc<crate::app::Stopping>,
) {
    let actor = Actor("schedule".into());
    // The day this process last ran them, should recording that have failed.
    let mut ran: Option<chrono::NaiveDate> = None;
    loop {
        let Some(at) = config.load().billing.run_at() else {
            // Not scheduled: look again after a reload might have changed that.
            tokio::time::sleep(Duration::from_secs(60)).await;
            continue;
        };
        let now = clock.now();
        let today = clock.today();
        // Not known (the database away): taken as not run; the lock's holder looks again.
        let ran_today = ran == Some(today) || store.job_ran(DAILY, today).await.unwrap_or(false);
        let when = due(clock.zone(), now, at, ran_today);
        if when == now {
            tracing::info!(%today, run_at = %at, "today's daily jobs did not run at their time (ispd was not running, or stopped before they were done); running them now");
        }
        let wait = (when - now).to_std().unwrap_or_default();
        tokio::time::sleep(wait.max(Duration::from_secs(1))).await;
        let today = clock.today();
        let Some(_lock) = take_over(&store, clock, today).await else {
            tokio::time::sleep(Duration::from_secs(61)).await;
            continue;
        };
        let app = crate::app::App {
            store: &store,
            changes: &changes,
            clock,
            config: &config,
            stopping: &stopping,
        };
        let outcome = run_daily(&app, &actor, today).await;
        ran = Some(today);
        if let Err(e) = store.record_job_run(DAILY, today, &outcome).await {
            tracing::warn!(error = %e, %today, "the daily jobs ran but are not recorded as run; another instance may run them again (harmless)");
        }
        // Past the minute, so the same run time is not taken twice.
        tokio::time::sleep(Duration::from_secs(61)).await;
    }
}

/// When the daily jobs are next due: at once if today's run time (`at` in `zone`) has passed
/// and today's jobs have not run — ispd was not running at that time, or stopped before they
/// were done, and a day's scheduled changes, billing and dunning must not wait for tomorrow —
/// else the next run time.
fn due(
    zone: crate::clock::Zone,
    now: chrono::DateTime<chrono::Utc>,
    at: chrono::NaiveTime,
    ran_today: bool,
) -> chrono::DateTime<chrono::Utc> {
    let next = zone.next(now, at);
    if !ran_today && zone.date_of(next) != zone.date_of(now) {
        now
    } else {
        next
    }
}

/// The daily jobs, in the order they run (their order as declared).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Job {
    /// The changes scheduled for today (a pause from today, an end today), then the
    /// activations: both before billing reads subscriptions.
    ScheduledChanges,
    Activation,
    Violations,
    Billing,
    Dunning,
}

impl Job {
    const ALL: [Job; 5] = [
        Job::ScheduledChanges,
        Job::Activation,
        Job::Violations,
        Job::Billing,
        Job::Dunning,
    ];

    /// Runs the job for `today` and logs what it did; returns that as `ispctl system status`
    /// shows it.
    async fn run(
        self,
        app: &crate::app::App<'_>,
        actor: &Actor,
        today: chrono::NaiveDate,
    ) -> crate::app::AppResult<String> {
        use crate::app::{billing, dunning_run, subscriptions, violations};
        Ok(match self {
            Job::ScheduledChanges => {
                let applied = subscriptions::apply_due(app, actor, today).await?;
                tracing::info!(applied = applied.len(), %today, "scheduled changes");
                format!("{} scheduled changes", applied.len())
            }
            Job::Activation => {
                let ids = subscriptions::activate_due(app, today).await?;
                tracing::info!(activated = ids.len(), %today, "daily activation");
                format!("{} activated", ids.len())
            }
            Job::Violations => {
                let enforced = violations::enforce_due(app, actor, today).await?;
                tracing::info!(enforced = enforced.len(), %today, "violation notices past their deadline");
                format!("{} violation notices enforced", enforced.len())
            }
            Job::Billing => {
                let began = std::time::Instant::now();
                let run = billing::run(app, actor, today, false, 0).await?.value;
                tracing::info!(documents = run.count, refused = run.refused.len(), %today, "daily billing run");
                metrics::gauge!("ispd_billing_last_run_documents").set(run.count as f64);
                metrics::gauge!("ispd_billing_last_run_refused_clients")
                    .set(run.refused.len() as f64);
                metrics::gauge!("ispd_billing_last_run_seconds").set(began.elapsed().as_secs_f64());
                match run.refused.len() {
                    0 => format!("billing: {} documents", run.count),
                    refused => format!(
                        "billing: {} documents, {refused} clients not billed (see the log)",
                        run.count
                    ),
                }
            }
            Job::Dunning => {
                let dunning = app.config.load().dunning.settings();
                let changes =
                    dunning_run::run(app.store, app.changes, &dunning, actor, today, false).await?;
                tracing::info!(changes = changes.len(), %today, "daily dunning run");
                format!("dunning: {} changes", changes.len())
            }
        })
    }

    /// Its name in the log and in the outcome of a day it failed on.
    fn name(self) -> &'static str {
        match self {
            Job::ScheduledChanges => "scheduled changes",
            Job::Activation => "activation",
            Job::Violations => "violation notices",
            Job::Billing => "billing",
            Job::Dunning => "dunning",
        }
    }

    /// What the operator runs when the day ended before the job succeeded.
    fn by_hand(self) -> &'static str {
        match self {
            Job::ScheduledChanges => "ispctl subscription apply-due",
            Job::Activation => "ispctl subscription activate ID",
            Job::Violations => "ispctl violation enforce",
            Job::Billing => "ispctl billing run",
            Job::Dunning => "ispctl dunning run",
        }
    }
}

/// How long after a failure a daily job is tried again at first; each further failure
/// doubles it, up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_secs(5);
const RETRY_MAX: Duration = Duration::from_secs(600);

/// Runs the daily jobs in order. One that fails — the database away or refusing writes at the
/// run time — is tried again (with the others that failed, in their order) after
/// [`RETRY_FIRST`], doubling up to [`RETRY_MAX`], until it succeeds or the day is over: a
/// day's activations, suspensions and invoices do not wait for tomorrow. Every job is
/// idempotent, and each one runs whatever became of those before it, as on any day. Returns
/// what they did (or which failed), as `ispctl system status` shows it.
async fn run_daily(app: &crate::app::App<'_>, actor: &Actor, today: chrono::NaiveDate) -> String {
    let mut outcome = std::collections::BTreeMap::new();
    let mut left = Job::ALL.to_vec();
    let mut pause = RETRY_FIRST;
    loop {
        let mut failed = Vec::new();
        for job in left {
            let done = match job.run(app, actor, today).await {
                Ok(done) => done,
                Err(e) => {
                    tracing::error!(
                        error = %e,
                        "daily job {} failed; tried again in {} s",
                        job.name(),
                        pause.as_secs()
                    );
                    failed.push(job);
                    format!("{} FAILED", job.name())
                }
            };
            outcome.insert(job, done);
        }
        if failed.is_empty() {
            break;
        }
        tokio::time::sleep(pause).await;
        if app.clock.today() != today {
            for job in &failed {
                tracing::error!(
                    %today,
                    "the day ended before daily job {} succeeded; tomorrow's run catches up, or run `{}`",
                    job.name(),
                    job.by_hand()
                );
            }
            break;
        }
        pause = (pause * 2).min(RETRY_MAX);
        left = failed;
    }
    outcome.into_values().collect::<Vec<_>>().join(", ")
}

/// The daily jobs' name in the locks and in `job_run`.
pub const DAILY: &str = "daily";
/// How often an instance that found the jobs running elsewhere looks again.
const TAKEOVER: Duration = Duration::from_secs(10);

/// The lock to run today's jobs, once nobody else holds it and they have not run today; asked
/// again every [`TAKEOVER`] while another instance holds it (so if that one dies, this one
/// runs the jobs) or the database is away, until the day is over.
async fn take_over(store: &Store, clock: Clock, today: chrono::NaiveDate) -> Option<JobLock> {
    let mut told = false;
    while clock.today() == today {
        match store.try_job_lock(DAILY).await {
            Ok(Some(lock)) => match store.job_ran(DAILY, today).await {
                Ok(false) => return Some(lock),
                Ok(true) => {
                    tracing::info!(%today, "daily jobs already run by another instance");
                    return None;
                }
                Err(e) => {
                    tracing::error!(error = %e, "daily jobs waiting: the database is unavailable")
                }
            },
            Ok(None) if !told => {
                told = true;
                tracing::info!(%today, "daily jobs running in another instance; taking them over if it stops before they are done");
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "daily jobs waiting: the database is unavailable")
            }
        }
        tokio::time::sleep(TAKEOVER).await;
    }
    tracing::error!(%today, "the day ended before its daily jobs could run; run `ispctl billing run` and `ispctl dunning run`");
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Zone;
    use chrono::{NaiveTime, TimeZone, Utc};

    #[test]
    fn the_daily_jobs_are_due_at_their_time_or_at_once_when_missed() {
        let zone = Zone::parse("Europe/Prague").unwrap();
        let at = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        let utc = |d, h, m| Utc.with_ymd_and_hms(2026, 12, d, h, m, 0).unwrap();
        // 02:30 in Prague (CET) is 01:30 UTC.
        let cases = [
            // (now, ran today, due)
            (utc(7, 0, 0), false, utc(7, 1, 30)),
            (utc(7, 1, 30), false, utc(7, 1, 30)),
            // Started after the time, today's jobs not run: at once.
            (utc(7, 9, 0), false, utc(7, 9, 0)),
            (utc(7, 9, 0), true, utc(8, 1, 30)),
            // 23:30 UTC is already the 8th in Prague, before its 02:30.
            (utc(7, 23, 30), false, utc(8, 1, 30)),
            (utc(7, 0, 0), true, utc(7, 1, 30)),
        ];
        for (now, ran_today, expected) in cases {
            assert_eq!(
                due(zone, now, at, ran_today),
                expected,
                "{now} ran={ran_today}"
            );
        }
    }
}
