//! The billing run on demand: which documents the subscriptions, charges and discounts call
//! for "as of" a day, issued or only proposed (dry run).

use chrono::NaiveDate;

use super::{App, AppError, AppResult, InCurrency, books};
use crate::app::billing_run::RunSummary;
use crate::storage::Actor;

/// Runs billing as of `as_of` with the `[billing]` settings as configured now; `keep` is
/// how many documents the answer lists at most. A run the daemon's stop cut short is an
/// error naming what was issued: the caller learns the run is not complete.
pub async fn run(
    app: &App<'_>,
    actor: &Actor,
    as_of: NaiveDate,
    dry_run: bool,
    keep: usize,
) -> AppResult<InCurrency<RunSummary>> {
    if !dry_run {
        books::check_open(app.store, "the billing run", as_of).await?;
    }
    let config = app.config.load();
    let run = crate::app::billing_run::run(
        app.store,
        &config.billing,
        actor,
        as_of,
        (dry_run, keep),
        app.stopping,
    )
    .await?;
    if !dry_run {
        restore_credited(app, actor, &run, as_of).await?;
    }
    if run.cut_short {
        return Err(AppError::Unavailable(format!(
            "the billing run was cut short by ispd's stop after {} documents{}; run it again \
             once ispd is back: it issues the rest, and nothing twice",
            run.count,
            if dry_run {
                " (a dry run: none issued)"
            } else {
                ", which are issued"
            }
        )));
    }
    Ok(InCurrency {
        value: run,
        currency: config.billing.currency.clone(),
    })
}

/// The clients the run credited whose debt suspension the dunning rule now lifts are
/// restored, as a payment or a cancellation would restore them: a credit note can clear the
/// overdue debt (a period paused or ended after it was invoiced). Found probing from
/// outside: such a client stayed suspended until the next dunning run.
async fn restore_credited(
    app: &App<'_>,
    actor: &Actor,
    run: &RunSummary,
    as_of: NaiveDate,
) -> AppResult<()> {
    if run.credited.is_empty() {
        return Ok(());
    }
    let credited: Vec<&str> = run.credited.iter().map(String::as_str).collect();
    let tx = app.store.begin_money_write().await?;
    super::payments::commit_restoring(app, tx, actor, &credited, as_of).await?;
    Ok(())
}
