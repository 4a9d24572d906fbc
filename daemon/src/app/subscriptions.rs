//! Subscriptions: a client's service on a tariff, and its lifecycle (activate, pause, block,
//! resume, end). Every change that can alter a login's answer is published after commit.

use chrono::NaiveDate;
use ispd_billing::subscription::{Subscription, Transition};

use super::{App, AppResult};
use crate::storage::{
    self, AccessScope, Actor, HistoryEntry, Page, PageRequest, SubscriptionFilter,
    SubscriptionRecord,
};

/// A lifecycle change as the operator asks for it (storage takes it with the date resolved).
#[derive(Debug)]
pub struct TransitionRequest<'a> {
    pub id: i64,
    pub transition: Transition,
    /// The day it takes effect, today when left out; for [`Transition::End`] the last charged
    /// day, which the edge requires.
    pub date: Option<NaiveDate>,
    /// Pause and Block only: the days from `date` until the resume are not charged.
    pub billing_suspended: bool,
    pub note: &'a str,
}

/// Applies one lifecycle transition (the state machine of the billing core decides whether it
/// may happen); the subscription's logins get their new answer before this returns.
pub async fn transition(
    app: &App<'_>,
    actor: &Actor,
    request: TransitionRequest<'_>,
) -> AppResult<SubscriptionRecord> {
    let today = app.clock.today();
    let resolved = storage::TransitionRequest {
        transition: request.transition,
        date: request.date.unwrap_or(today),
        billing_suspended: request.billing_suspended,
        note: request.note.trim().to_owned(),
    };
    let stored = app
        .store
        .transition_subscription(actor, request.id, &resolved, today)
        .await?;
    app.publish(AccessScope::Subscription(request.id)).await;
    Ok(stored)
}

/// Creates a subscription of the client on the tariff; its logins (none yet, or moved to it)
/// are answered anew.
pub async fn create(
    app: &App<'_>,
    actor: &Actor,
    (client_number, tariff): (&str, &str),
    subscription: Subscription,
) -> AppResult<SubscriptionRecord> {
    let today = app.clock.today();
    let stored = app
        .store
        .create_subscription(actor, client_number, tariff, subscription, today)
        .await?;
    app.publish(AccessScope::Subscription(stored.subscription.id))
        .await;
    Ok(stored)
}

/// Updates a subscription (its tariff among the rest); its logins get the new answer.
pub async fn update(
    app: &App<'_>,
    actor: &Actor,
    tariff: &str,
    subscription: Subscription,
) -> AppResult<SubscriptionRecord> {
    let stored = app
        .store
        .update_subscription(actor, tariff, subscription)
        .await?;
    app.publish(AccessScope::Subscription(stored.subscription.id))
        .await;
    Ok(stored)
}

pub async fn get(app: &App<'_>, id: i64) -> AppResult<SubscriptionRecord> {
    Ok(app.store.get_subscription(id).await?)
}

pub async fn list(
    app: &App<'_>,
    filter: &SubscriptionFilter,
    page: PageRequest,
) -> AppResult<Page<SubscriptionRecord>> {
    Ok(app.store.list_subscriptions(filter, page).await?)
}

pub async fn delete(app: &App<'_>, actor: &Actor, id: i64) -> AppResult<()> {
    Ok(app.store.delete_subscription(actor, id).await?)
}

/// The subscription's state changes, oldest first.
pub async fn history(app: &App<'_>, id: i64) -> AppResult<Vec<HistoryEntry>> {
    Ok(app.store.subscription_history(id).await?)
}
