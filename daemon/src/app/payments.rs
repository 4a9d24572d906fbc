//! What happens when payments arrive, typed in or imported from a bank statement.

use std::collections::HashSet;

use chrono::NaiveDate;
use ispd_billing::dunning::DunningSettings;
use rust_decimal::Decimal;

use crate::changes::{Change, ChangeFeed};
use crate::dunning_run::{DunningChange, decide};
use crate::storage::{AccessScope, Actor, NewPayment, PaymentOutcome, Store, StoreResult};

/// The payments as recorded, and the clients whose access they restored.
#[derive(Debug)]
pub struct Received {
    pub outcomes: Vec<PaymentOutcome>,
    pub restored: HashSet<String>,
}

/// Records the payments (duplicates skipped, matched, allocated oldest document first, the
/// rest as credit), and restores every suspended client they paid enough — all in one
/// transaction, so a payment never lands without the restore it causes, nor the other way
/// round. After the commit the restores are published: RADIUS answers those clients at full
/// speed before this returns.
pub async fn receive(
    store: &Store,
    feed: &ChangeFeed,
    settings: &DunningSettings,
    actor: &Actor,
    payments: &[NewPayment],
    today: NaiveDate,
) -> StoreResult<Received> {
    let mut tx = store.begin_write().await?;
    let outcomes = store.record_payments_in(&mut tx, actor, payments).await?;
    // Only suspended clients can be restored: one query, not one per payment.
    let suspended = store.debt_suspended_clients_in(&mut tx).await?;
    let paid: HashSet<&str> = outcomes
        .iter()
        .filter(|o| !o.duplicate)
        .filter_map(|o| o.client_number.as_deref())
        .filter(|number| suspended.contains(*number))
        .collect();
    let mut restored = HashSet::new();
    for number in paid {
        let Some(input) = store.suspended_dunning_input_in(&mut tx, number).await? else {
            continue;
        };
        if let Some(DunningChange::Restore { .. }) = decide(settings, &input, today) {
            store
                .set_debt_suspended_in(
                    &mut tx,
                    actor,
                    number,
                    false,
                    Decimal::ZERO,
                    serde_json::json!([]),
                )
                .await?;
            restored.insert(number.to_owned());
        }
    }
    tx.commit().await?;
    for number in &restored {
        feed.publish(Change::Access(AccessScope::Client(number.clone())))
            .await;
    }
    Ok(Received { outcomes, restored })
}
