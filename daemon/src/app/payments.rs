//! What happens when money arrives or is put where it belongs: payments typed in or imported
//! from a bank statement, an unmatched payment assigned by hand. Each records the money and
//! restores every suspended client it paid enough — one transaction, so a payment never lands
//! without the restore it causes, nor the other way round — then publishes the restores.

use std::collections::HashSet;

use chrono::NaiveDate;
use ispd_billing::dunning::DunningSettings;
use rust_decimal::Decimal;

use crate::changes::{Change, ChangeFeed};
use crate::dunning_run::{DunningChange, decide};
use crate::storage::{AccessScope, Actor, NewPayment, PaymentOutcome, Store, StoreResult, WriteTx};

/// The payments as recorded, and the clients whose access they restored.
#[derive(Debug)]
pub struct Received {
    pub outcomes: Vec<PaymentOutcome>,
    pub restored: HashSet<String>,
}

/// Records the payments (duplicates skipped, matched, allocated oldest document first, the
/// rest as credit) and restores the suspended clients they paid. RADIUS answers those clients
/// at full speed before this returns.
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
    let paid: Vec<&str> = outcomes
        .iter()
        .filter(|o| !o.duplicate)
        .filter_map(|o| o.client_number.as_deref())
        .collect();
    let restored = restore_paid_in(store, &mut tx, settings, actor, &paid, today).await?;
    tx.commit().await?;
    publish(feed, &restored).await;
    Ok(Received { outcomes, restored })
}

/// Assigns an unmatched payment to a client (and optionally one of its documents), and
/// restores the client if that pays its debt.
pub async fn assign(
    store: &Store,
    feed: &ChangeFeed,
    settings: &DunningSettings,
    actor: &Actor,
    (payment_id, client_number, invoice): (i64, &str, Option<&str>),
    today: NaiveDate,
) -> StoreResult<Received> {
    let mut tx = store.begin_write().await?;
    let outcome = store
        .assign_payment_in(&mut tx, actor, payment_id, client_number, invoice)
        .await?;
    let restored =
        restore_paid_in(store, &mut tx, settings, actor, &[client_number], today).await?;
    tx.commit().await?;
    publish(feed, &restored).await;
    Ok(Received {
        outcomes: vec![outcome],
        restored,
    })
}

/// Inside the caller's transaction: every client of `paid` that is suspended for debt and
/// whose debt no longer justifies it (the pure core's `access_decision`) is restored, with its
/// audit record. Reads see what the transaction wrote (the money just allocated).
pub(super) async fn restore_paid_in(
    store: &Store,
    tx: &mut WriteTx,
    settings: &DunningSettings,
    actor: &Actor,
    paid: &[&str],
    today: NaiveDate,
) -> StoreResult<HashSet<String>> {
    // Only suspended clients can be restored: one query, not one per payment.
    let suspended = store.debt_suspended_clients_in(tx).await?;
    let mut restored = HashSet::new();
    for &number in paid {
        if !suspended.contains(number) || restored.contains(number) {
            continue;
        }
        let Some(input) = store.suspended_dunning_input_in(tx, number).await? else {
            continue;
        };
        if let Some(DunningChange::Restore { .. }) = decide(settings, &input, today) {
            store
                .set_debt_suspended_in(
                    tx,
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
    Ok(restored)
}

/// After the commit: RADIUS and every other consumer learn of the restores.
pub(super) async fn publish(feed: &ChangeFeed, restored: &HashSet<String>) {
    for number in restored {
        feed.publish(Change::Access(AccessScope::Client(number.clone())))
            .await;
    }
}
