//! The billing run on demand: which documents the subscriptions, charges and discounts call
//! for "as of" a day, issued or only proposed (dry run).

use chrono::NaiveDate;

use super::{App, AppResult, InCurrency, books};
use crate::app::billing_run::RunSummary;
use crate::storage::Actor;

/// Runs billing as of `as_of` with the `[billing]` settings as configured now; `keep` is
/// how many documents the answer lists at most.
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
    let run = crate::app::billing_run::run(app.store, &config.billing, actor, as_of, dry_run, keep)
        .await?;
    Ok(InCurrency {
        value: run,
        currency: config.billing.currency.clone(),
    })
}
