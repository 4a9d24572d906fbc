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
    subscription.validate()?;
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
    subscription.validate()?;
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

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};

    use ispd_billing::subscription::SubscriptionState;
    use ispd_store::testkit::fixtures::{actor, minimal_client, subscription, tariff};

    use super::*;
    use crate::app::tests::Harness;
    use crate::changes::{Change, Consumer};
    use crate::storage::Store;

    /// Records what was published, and whether the change was committed by then.
    struct Recorder {
        store: Store,
        seen: Mutex<Vec<(Change, Option<SubscriptionState>)>>,
    }

    impl Consumer for Recorder {
        fn apply<'a>(
            &'a self,
            change: &'a Change,
        ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
            Box::pin(async move {
                let committed = match change {
                    Change::Access(AccessScope::Subscription(id)) => self
                        .store
                        .get_subscription(*id)
                        .await
                        .ok()
                        .map(|r| r.subscription.state),
                    _ => None,
                };
                self.seen.lock().unwrap().push((change.clone(), committed));
            })
        }
    }

    #[tokio::test]
    async fn a_transition_without_a_date_happens_on_the_clocks_today_and_is_published_after_commit()
    {
        let h = Harness::new("subscriptions").await;
        let recorder = Arc::new(Recorder {
            store: h.store.clone(),
            seen: Mutex::default(),
        });
        h.changes.subscribe(recorder.clone());
        // Noon UTC is the same date in every time zone the host may be in but ±12 h ones.
        let app = h.app();
        let clock = app.clock;
        let actor = actor();
        h.store
            .create_client(&actor, minimal_client("1", "Alice"), clock.today(), "CZK")
            .await
            .unwrap();
        h.store
            .create_tariff(&actor, tariff("Basic", "300"))
            .await
            .unwrap();
        let activation = clock.today() + chrono::Days::new(10);
        let subscription = Subscription {
            state: SubscriptionState::NotYetActive,
            ..subscription(activation)
        };
        let created = create(&app, &actor, ("1", "Basic"), subscription)
            .await
            .unwrap();
        let id = created.subscription.id;
        recorder.seen.lock().unwrap().clear();

        assert_eq!(created.subscription.state, SubscriptionState::NotYetActive);
        let activated = transition(
            &app,
            &actor,
            TransitionRequest {
                id,
                transition: Transition::Activate,
                date: None,
                billing_suspended: false,
                note: "  holiday  ",
            },
        )
        .await
        .unwrap();

        assert_eq!(activated.subscription.state, SubscriptionState::Active);
        assert_eq!(
            activated.subscription.activation_date,
            clock.today(),
            "no date: the clock's today"
        );
        assert_eq!(
            *recorder.seen.lock().unwrap(),
            [(
                Change::Access(AccessScope::Subscription(id)),
                Some(SubscriptionState::Active)
            )],
            "published once, after the commit"
        );
        let last = history(&app, id).await.unwrap().pop().unwrap();
        assert_eq!(
            last.note, "activated on 2026-11-15; holiday",
            "the note trimmed"
        );
        h.close().await;
    }
}
