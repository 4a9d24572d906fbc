//! The dunning run and the moment-of-payment check: the shell around
//! `ispd_billing::dunning::access_decision`. A decision is stored with its audit record, then
//! the client's logins are reloaded in the RADIUS cache, so the next Access-Request gets the
//! walled garden (or full speed again).

use chrono::NaiveDate;
use ispd_billing::dunning::{AccessDecision, ClientDunningState, DunningSettings, access_decision};
use rust_decimal::Decimal;

use crate::radius::RadiusService;
use crate::storage::{AccessScope, Actor, DunningInput, Store, StoreResult};

/// A change the run made (or, in a dry run, would make).
#[derive(Debug, Clone, PartialEq)]
pub struct DunningChange {
    pub client_number: String,
    pub suspend: bool,
    pub overdue: Decimal,
}

/// Suspends every client overdue past the grace period and restores every suspended client
/// who no longer is. Idempotent: a second run on the same day changes nothing.
pub async fn run(
    store: &Store,
    radius: &RadiusService,
    actor: &Actor,
    today: NaiveDate,
    dry_run: bool,
) -> StoreResult<Vec<DunningChange>> {
    let settings = DunningSettings::default();
    let mut changes = Vec::new();
    for input in store.dunning_inputs().await? {
        if let Some(change) = decide(&settings, &input, today) {
            if !dry_run {
                apply(store, radius, actor, &change).await?;
            }
            changes.push(change);
        }
    }
    Ok(changes)
}

/// After a payment: restores the client at once when the debt no longer justifies the
/// suspension ("restore them the moment they pay"). Returns whether it did.
pub async fn restore_if_paid(
    store: &Store,
    radius: &RadiusService,
    actor: &Actor,
    client_number: &str,
    today: NaiveDate,
) -> StoreResult<bool> {
    let settings = DunningSettings::default();
    let inputs = store.dunning_inputs().await?;
    let Some(input) = inputs.iter().find(|i| i.client_number == client_number) else {
        return Ok(false);
    };
    match decide(&settings, input, today) {
        Some(change) if !change.suspend => {
            apply(store, radius, actor, &change).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

fn decide(
    settings: &DunningSettings,
    input: &DunningInput,
    today: NaiveDate,
) -> Option<DunningChange> {
    let state = ClientDunningState {
        no_auto_reminders: input.no_auto_reminders,
        never_suspend: input.never_suspend,
        stopped: false,
        paused_until: None,
        reminders_sent: Vec::new(),
    };
    match access_decision(
        settings,
        &state,
        &input.open_invoices,
        input.debt_suspended,
        today,
    ) {
        AccessDecision::Keep => None,
        AccessDecision::Suspend { overdue, .. } => Some(DunningChange {
            client_number: input.client_number.clone(),
            suspend: true,
            overdue,
        }),
        AccessDecision::Restore => Some(DunningChange {
            client_number: input.client_number.clone(),
            suspend: false,
            overdue: Decimal::ZERO,
        }),
    }
}

async fn apply(
    store: &Store,
    radius: &RadiusService,
    actor: &Actor,
    change: &DunningChange,
) -> StoreResult<()> {
    store
        .set_debt_suspended(actor, &change.client_number, change.suspend, change.overdue)
        .await?;
    radius
        .refresh(store, AccessScope::Client(change.client_number.clone()))
        .await;
    Ok(())
}
