//! Dunning on demand: the sweep that reminds, suspends and restores (see
//! [`crate::app::dunning_run`]), and a client's dunning controls (stop, pause, resume).

use chrono::NaiveDate;

use super::{App, AppResult, InCurrency, field};
use crate::app::dunning_run::DunningChange;
use crate::storage::{Actor, DunningControl, DunningHold};

/// Runs the dunning sweep as of `today` with the `[dunning]` settings as configured now;
/// the changes are stated in the billing currency.
pub async fn run(
    app: &App<'_>,
    actor: &Actor,
    today: NaiveDate,
    dry_run: bool,
) -> AppResult<InCurrency<Vec<DunningChange>>> {
    if !dry_run {
        // Its reminders' fees are documents of that day.
        super::books::check_open(app.store, "the dunning run", today).await?;
    }
    let settings = app.dunning_settings();
    let changes =
        crate::app::dunning_run::run(app.store, app.changes, &settings, actor, today, dry_run)
            .await?;
    Ok(app.in_currency(changes))
}

/// Applies a dunning control to a client; returns the client's controls after it.
pub async fn control(
    app: &App<'_>,
    actor: &Actor,
    client_number: &str,
    control: DunningControl,
) -> AppResult<DunningHold> {
    if client_number.is_empty() {
        return Err(field("client_number", "required"));
    }
    Ok(app
        .store
        .set_dunning_control(actor, client_number, control)
        .await?)
}
