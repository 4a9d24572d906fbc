//! The subscription lifecycle through its use cases (`app::subscriptions`): the billing core
//! decides, storage writes the state, the days not charged, the history and the audit — held
//! to the same behaviour on SQLite and PostgreSQL.

use ispd_billing::subscription::DatedTransition;
use ispd_store::testkit::fixtures::*;

use super::app;
use crate::app::subscriptions::{activate_due, transition_now};
use crate::app::{AppError, AppResult};

/// A transition as of `date`.
fn change(transition: Transition, date: NaiveDate, billing_suspended: bool) -> DatedTransition {
    DatedTransition {
        transition,
        date,
        billing_suspended,
        note: String::new(),
        reason: String::new(),
    }
}

async fn apply(store: &Store, id: i64, change: DatedTransition) -> SubscriptionRecord {
    attempt(store, id, change).await.unwrap()
}

/// The transition as of [`today`], for a test that expects it refused.
async fn attempt(store: &Store, id: i64, change: DatedTransition) -> AppResult<SubscriptionRecord> {
    transition_now(&app(store), &actor(), id, &change, today()).await
}

#[track_caller]
fn expect_invalid<T: std::fmt::Debug>(result: AppResult<T>, field: &str) {
    match result {
        Err(AppError::Invalid(e)) if e.field == field => {}
        other => panic!("expected {field} to be refused as invalid, got {other:?}"),
    }
}

#[track_caller]
fn expect_precondition<T: std::fmt::Debug>(result: AppResult<T>) {
    match result {
        Err(AppError::Precondition(_)) => {}
        other => panic!("expected a refused precondition, got {other:?}"),
    }
}

#[track_caller]
fn expect_not_found<T: std::fmt::Debug>(result: AppResult<T>) {
    match result {
        Err(AppError::Store(StoreError::NotFound { .. })) => {}
        other => panic!("expected not found, got {other:?}"),
    }
}

pub(super) async fn pause_with_billing_suspended_then_resume(store: Store) {
    let id = subscribed_client(&store, "1").await.subscription.id;
    let paused = apply(
        &store,
        id,
        change(Transition::Pause, date(2026, 11, 10), true),
    )
    .await;
    assert_eq!(paused.subscription.state, SubscriptionState::Paused);
    assert_eq!(paused.subscription.version, 2);
    let open = store.unbilled_ranges().await.unwrap();
    assert_eq!(open[&id], [(date(2026, 11, 10), None)], "runs on");
    let resumed = apply(
        &store,
        id,
        change(Transition::Resume, date(2026, 11, 14), false),
    )
    .await;
    assert_eq!(resumed.subscription.state, SubscriptionState::Active);
    let ranges = store.unbilled_ranges().await.unwrap();
    assert_eq!(
        ranges[&id],
        [(date(2026, 11, 10), Some(date(2026, 11, 13)))],
        "the 10th to the day before the resume"
    );
    let history = store.subscription_history(id).await.unwrap();
    let steps: Vec<_> = history
        .iter()
        .map(|h| (h.from_state, h.to_state, h.note.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (None, SubscriptionState::Active, "created"),
            (
                Some(SubscriptionState::Active),
                SubscriptionState::Paused,
                "paused, billing suspended from 2026-11-10"
            ),
            (
                Some(SubscriptionState::Paused),
                SubscriptionState::Active,
                "resumed on 2026-11-14"
            ),
        ]
    );
    let actions = client_audit_actions(&store, "1", "subscription").await;
    assert_eq!(
        actions,
        [
            "subscription.resume",
            "subscription.pause",
            "subscription.create"
        ]
    );
    // A block from the resume day with billing suspended; ended on the same day it began:
    // the range has no day left and goes.
    apply(
        &store,
        id,
        change(Transition::Block, date(2026, 11, 15), true),
    )
    .await;
    apply(
        &store,
        id,
        change(Transition::Resume, date(2026, 11, 15), false),
    )
    .await;
    assert_eq!(
        store.unbilled_ranges().await.unwrap()[&id],
        [(date(2026, 11, 10), Some(date(2026, 11, 13)))]
    );
}

pub(super) async fn pause_without_billing_suspended_is_charged(store: Store) {
    let id = subscribed_client(&store, "1").await.subscription.id;
    apply(
        &store,
        id,
        change(Transition::Pause, date(2026, 11, 10), false),
    )
    .await;
    let history = store.subscription_history(id).await.unwrap();
    assert_eq!(
        history.last().unwrap().note,
        "paused from 2026-11-10, still charged"
    );
    apply(&store, id, change(Transition::Resume, today(), false)).await;
    assert!(store.unbilled_ranges().await.unwrap().is_empty());
    // The flag belongs to pauses and blocks only.
    expect_invalid(
        attempt(&store, id, change(Transition::End, today(), true)).await,
        "billing_suspended",
    );
}

pub(super) async fn end_sets_the_last_charged_day(store: Store) {
    let id = subscribed_client(&store, "1").await.subscription.id;
    apply(
        &store,
        id,
        change(Transition::Block, date(2026, 11, 5), true),
    )
    .await;
    // Pay-until in the future is not supported: the end takes effect on the call.
    expect_invalid(
        attempt(
            &store,
            id,
            change(Transition::End, date(2026, 11, 30), false),
        )
        .await,
        "last_day",
    );
    // Before the day before billing-from: a typo, not an end.
    expect_invalid(
        attempt(
            &store,
            id,
            change(Transition::End, date(2025, 12, 30), false),
        )
        .await,
        "last_day",
    );
    let mut request = change(Transition::End, date(2026, 11, 7), false);
    request.note = "moved away".into();
    let ended = apply(&store, id, request).await;
    assert_eq!(ended.subscription.state, SubscriptionState::Ended);
    assert_eq!(ended.subscription.end_date, Some(date(2026, 11, 7)));
    assert_eq!(store.get_subscription(id).await.unwrap(), ended);
    assert_eq!(
        store.unbilled_ranges().await.unwrap()[&id],
        [(date(2026, 11, 5), Some(date(2026, 11, 7)))],
        "the open block closes on the last charged day"
    );
    assert_eq!(
        store
            .subscription_history(id)
            .await
            .unwrap()
            .last()
            .unwrap()
            .note,
        "ended, last charged day 2026-11-07; moved away"
    );
    // Editing keeps the end date; the state machine refuses anything after the end.
    let mut edit = ended.subscription.clone();
    edit.end_date = None;
    edit.note = "after the end".into();
    let edited = store
        .update_subscription(&actor(), "Fiber 100", edit)
        .await
        .unwrap();
    assert_eq!(edited.subscription.end_date, Some(date(2026, 11, 7)));
    expect_precondition(attempt(&store, id, change(Transition::Resume, today(), false)).await);
    // A service cancelled before it began: today is its last charged day, nothing is charged.
    let mut planned = subscription(date(2026, 12, 1));
    planned.billing_from = date(2026, 12, 15);
    let planned = store
        .create_subscription(&actor(), "1", "Fiber 100", planned, today())
        .await
        .unwrap();
    let cancelled = apply(
        &store,
        planned.subscription.id,
        change(Transition::End, today(), false),
    )
    .await;
    assert_eq!(cancelled.subscription.state, SubscriptionState::Ended);
    assert_eq!(cancelled.subscription.end_date, Some(today()));
}

pub(super) async fn invalid_transitions_are_refused(store: Store) {
    let record = subscribed_client(&store, "1").await;
    let id = record.subscription.id;
    let refused = attempt(&store, id, change(Transition::Resume, today(), false)).await;
    match refused {
        Err(AppError::Precondition(message)) => assert_eq!(
            message,
            format!("subscription {id}: cannot go from active to active")
        ),
        other => panic!("expected a refused transition, got {other:?}"),
    }
    assert_eq!(
        store.get_subscription(id).await.unwrap(),
        record,
        "unchanged"
    );
    assert_eq!(store.subscription_history(id).await.unwrap().len(), 1);
    // Dates: not ahead of today, not before the activation, not before a running pause.
    let tomorrow = today().succ_opt().unwrap();
    expect_invalid(
        attempt(&store, id, change(Transition::Pause, tomorrow, false)).await,
        "date",
    );
    expect_invalid(
        attempt(
            &store,
            id,
            change(Transition::Pause, date(2025, 12, 31), false),
        )
        .await,
        "date",
    );
    apply(
        &store,
        id,
        change(Transition::Pause, date(2026, 11, 10), true),
    )
    .await;
    expect_invalid(
        attempt(
            &store,
            id,
            change(Transition::Resume, date(2026, 11, 9), false),
        )
        .await,
        "date",
    );
    expect_not_found(attempt(&store, 999, change(Transition::Pause, today(), false)).await);
    // A block overtakes a pause: the pause's unbilled days end the day before.
    apply(
        &store,
        id,
        change(Transition::Block, date(2026, 11, 12), false),
    )
    .await;
    assert_eq!(
        store.unbilled_ranges().await.unwrap()[&id],
        [(date(2026, 11, 10), Some(date(2026, 11, 11)))]
    );
    expect_precondition(attempt(&store, id, change(Transition::Pause, today(), false)).await);
}

pub(super) async fn activate_due_activates_on_the_day(store: Store) {
    subscribed_client(&store, "1").await;
    let mut planned = subscription(date(2026, 11, 20));
    planned.billing_from = date(2026, 12, 1);
    let planned = store
        .create_subscription(&actor(), "1", "Fiber 100", planned, today())
        .await
        .unwrap()
        .subscription;
    let later = store
        .create_subscription(
            &actor(),
            "1",
            "Fiber 100",
            subscription(date(2026, 11, 25)),
            today(),
        )
        .await
        .unwrap()
        .subscription;
    assert_eq!(planned.state, SubscriptionState::NotYetActive);
    assert!(
        activate_due(&app(&store), date(2026, 11, 19))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        activate_due(&app(&store), date(2026, 11, 20))
            .await
            .unwrap(),
        [planned.id]
    );
    assert_eq!(
        activate_due(&app(&store), date(2026, 11, 20))
            .await
            .unwrap(),
        Vec::<i64>::new(),
        "idempotent"
    );
    let active = store
        .get_subscription(planned.id)
        .await
        .unwrap()
        .subscription;
    assert_eq!(active.state, SubscriptionState::Active);
    assert_eq!(
        (active.activation_date, active.billing_from),
        (date(2026, 11, 20), date(2026, 12, 1)),
        "activated on its own date: nothing moves"
    );
    let last = store.subscription_history(planned.id).await.unwrap();
    let last = last.last().unwrap();
    assert_eq!(last.actor, "schedule");
    assert_eq!(
        last.note,
        "activated on 2026-11-20; activation date reached"
    );
    // By hand, earlier than planned: the dates follow (billing-from was the activation date).
    let early = apply(
        &store,
        later.id,
        change(Transition::Activate, date(2026, 11, 14), false),
    )
    .await
    .subscription;
    assert_eq!(early.state, SubscriptionState::Active);
    assert_eq!(
        (early.activation_date, early.billing_from),
        (date(2026, 11, 14), date(2026, 11, 14))
    );
}

/// Two enforcers of one violation notice at once (two instances, or the daily job beside an
/// operator): the second read the notice open, found the services blocked already and
/// recorded an empty list over the first's, so resolving the notice resumed nothing (found by
/// probing two instances on one PostgreSQL from outside). What the first blocked is kept, and
/// resolving gives it back.
pub(super) async fn a_notice_enforced_twice_keeps_what_it_blocked(store: Store) {
    use ispd_billing::subscription::SubscriptionState;
    let record = subscribed_client(&store, "1001").await;
    let id = record.subscription.id;
    let (app, operator) = (app(&store), actor());
    let new = ispd_billing::violation::NewNotice {
        reason: "spam from the client's network".into(),
        deadline: date(2026, 11, 20),
        points: 1,
        stop_services: true,
    };
    let notice = crate::app::violations::add(&app, &operator, "1001", new)
        .await
        .unwrap();
    let day = date(2026, 11, 21);
    let read_first = store.overdue_violations(day).await.unwrap().remove(0);
    let enforced = crate::app::violations::enforce_due(&app, &operator, day)
        .await
        .unwrap();
    assert_eq!(enforced[0].blocked, [id]);
    let second = crate::app::violations::enforce(&app, &operator, read_first)
        .await
        .unwrap();
    assert_eq!(second, None, "the notice was enforced already");
    assert_eq!(
        store.client_violations("1001").await.unwrap()[0].blocked,
        [id]
    );
    crate::app::violations::resolve(&app, &operator, notice.id, "cleaned up")
        .await
        .unwrap();
    let state = store.get_subscription(id).await.unwrap().subscription.state;
    assert_eq!(state, SubscriptionState::Active);
}

/// Two services of one class arriving for one unit at once (found probing two instances from
/// outside): each use case read the unit before the other had written, and both were kept.
/// The first is written, its transaction still open, when the second arrives: the second is
/// refused once the first commits, and the unit holds one.
pub(super) async fn a_unit_takes_one_service_of_a_class_when_two_arrive_at_once(store: Store) {
    subscribed_client(&store, "1").await;
    let fiber = Tariff {
        service_class: "internet".into(),
        ..tariff("Fiber A", "399")
    };
    store.create_tariff(&actor(), fiber).await.unwrap();
    let place = ispd_billing::unit::Unit {
        id: 0,
        name: "Dlouhá 12, flat 3".into(),
        note: String::new(),
    };
    let unit = store.create_unit(&actor(), &place).await.unwrap().id;
    let on_unit = || Subscription {
        unit: Some(unit),
        ..subscription(date(2026, 1, 1))
    };
    let mut first = store.begin_unit_write().await.unwrap();
    store
        .create_subscription_in(&mut first, &actor(), ("1", "Fiber A"), on_unit(), today())
        .await
        .unwrap();
    let (app, operator) = (app(&store), actor());
    let second =
        crate::app::subscriptions::create(&app, &operator, ("1", "Fiber A"), on_unit(), None);
    let first_commits = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        first.commit().await.unwrap();
    };
    let (second, ()) = tokio::join!(second, first_commits);
    expect_invalid(second, "subscription.unit");
    assert_eq!(store.services_on_unit(unit).await.unwrap().len(), 1);
}

/// A client deleted while a service is being added for it, on two instances at once (found
/// probing from outside): PostgreSQL's foreign key refused the loser, and the operator was
/// told "database error; see the server log". Refused as a change that met another, nothing
/// written; the client keeps its new service.
pub(super) async fn a_client_deleted_while_a_service_is_added_is_refused_as_such(store: Store) {
    subscribed_client(&store, "1").await;
    store
        .create_client(&actor(), minimal_client("2", "Client 2"))
        .await
        .unwrap();
    let mut adding = store.begin_write().await.unwrap();
    let service = subscription(date(2026, 1, 1));
    store
        .create_subscription_in(&mut adding, &actor(), ("2", "Fiber 100"), service, today())
        .await
        .unwrap();
    let (app, operator) = (app(&store), actor());
    let deleting = crate::app::clients::delete(&app, &operator, "2", true);
    let added = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        adding.commit().await.unwrap();
    };
    let (deleted, ()) = tokio::join!(deleting, added);
    let status = tonic::Status::from(deleted.expect_err("the client has a service now"));
    assert!(
        matches!(
            status.code(),
            tonic::Code::FailedPrecondition | tonic::Code::Aborted
        ),
        "{status:?}"
    );
    assert!(!status.message().contains("database error"), "{status:?}");
    let kept = store.get_client("2").await.unwrap();
    assert_eq!(kept.number, "2");
}

/// A scheduled change made by another run (or withdrawn) while this one was making it
/// (found probing two instances from outside: withdrawn, and made anyway; or made twice, the
/// second marked failed). The change and its "done" commit together: here another run holds
/// it claimed, not yet committed, when the daily step reads it pending — this run's change
/// is then not made, and the action stays as the other left it.
pub(super) async fn a_scheduled_change_is_made_once(store: Store) {
    use ispd_billing::subscription::{Action, ScheduledChange};
    let id = subscribed_client(&store, "1").await.subscription.id;
    let day = date(2026, 12, 20);
    let pause = ScheduledChange {
        action: Action::Lifecycle(Transition::Pause),
        effective: day,
        date: day,
        billing_suspended: false,
        note: String::new(),
        reason: String::new(),
    };
    let scheduled = store
        .schedule_action(&actor(), id, &pause, None)
        .await
        .unwrap();
    let mut other = store.begin_write().await.unwrap();
    assert!(
        store
            .claim_action_in(&mut other, scheduled.id)
            .await
            .unwrap()
    );
    let (app, operator) = (app(&store), actor());
    let this_run = crate::app::subscriptions::apply_due(&app, &operator, day);
    let other_commits = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        other.commit().await.unwrap();
    };
    let (applied, ()) = tokio::join!(this_run, other_commits);
    let applied = applied.unwrap();
    assert_eq!(
        applied.iter().map(|a| a.state).collect::<Vec<_>>(),
        [crate::storage::ActionState::Done],
        "{applied:?}"
    );
    let state = store.get_subscription(id).await.unwrap().subscription.state;
    assert_eq!(state, SubscriptionState::Active, "not made by this run");
}
