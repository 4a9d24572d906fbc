//! Lifecycle and discounts.

use crate::testkit::fixtures::*;

/// A transition request as of `date`.
pub(super) fn change(
    transition: Transition,
    date: NaiveDate,
    billing_suspended: bool,
) -> TransitionRequest {
    TransitionRequest {
        transition,
        date,
        billing_suspended,
        note: String::new(),
    }
}

pub(super) async fn apply(
    store: &Store,
    id: i64,
    request: TransitionRequest,
) -> SubscriptionRecord {
    store
        .transition_subscription(&actor(), id, &request, today())
        .await
        .unwrap()
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
    let filter = AuditFilter {
        client_number: "1".into(),
        entity: "subscription".into(),
    };
    let actions: Vec<String> = store
        .list_audit(&filter, PageRequest::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.action)
        .collect();
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
        store
            .transition_subscription(
                &actor(),
                id,
                &change(Transition::End, today(), true),
                today(),
            )
            .await,
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
        store
            .transition_subscription(
                &actor(),
                id,
                &change(Transition::End, date(2026, 11, 30), false),
                today(),
            )
            .await,
        "last_day",
    );
    // Before the day before billing-from: a typo, not an end.
    expect_invalid(
        store
            .transition_subscription(
                &actor(),
                id,
                &change(Transition::End, date(2025, 12, 30), false),
                today(),
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
    expect_precondition(
        store
            .transition_subscription(
                &actor(),
                id,
                &change(Transition::Resume, today(), false),
                today(),
            )
            .await,
    );
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
    let refused = store
        .transition_subscription(
            &actor(),
            id,
            &change(Transition::Resume, today(), false),
            today(),
        )
        .await;
    match refused {
        Err(StoreError::Precondition(message)) => assert_eq!(
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
        store
            .transition_subscription(
                &actor(),
                id,
                &change(Transition::Pause, tomorrow, false),
                today(),
            )
            .await,
        "date",
    );
    expect_invalid(
        store
            .transition_subscription(
                &actor(),
                id,
                &change(Transition::Pause, date(2025, 12, 31), false),
                today(),
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
        store
            .transition_subscription(
                &actor(),
                id,
                &change(Transition::Resume, date(2026, 11, 9), false),
                today(),
            )
            .await,
        "date",
    );
    expect_not_found(
        store
            .transition_subscription(
                &actor(),
                999,
                &change(Transition::Pause, today(), false),
                today(),
            )
            .await,
    );
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
    expect_precondition(
        store
            .transition_subscription(
                &actor(),
                id,
                &change(Transition::Pause, today(), false),
                today(),
            )
            .await,
    );
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
        store
            .activate_due(date(2026, 11, 19))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.activate_due(date(2026, 11, 20)).await.unwrap(),
        [planned.id]
    );
    assert_eq!(
        store.activate_due(date(2026, 11, 20)).await.unwrap(),
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

pub(super) async fn alignment_round_trips(store: Store) {
    store
        .create_client(&actor(), minimal_client("1", "One"), today(), "CZK")
        .await
        .unwrap();
    store
        .create_tariff(&actor(), tariff("Fiber 100", "499.90"))
        .await
        .unwrap();
    let mut floating = subscription(date(2026, 11, 3));
    floating.alignment = PeriodAlignment::Floating;
    let created = store
        .create_subscription(&actor(), "1", "Fiber 100", floating, today())
        .await
        .unwrap();
    assert_eq!(created.subscription.alignment, PeriodAlignment::Floating);
    assert_eq!(created.subscription.end_date, None);
    let mut edit = created.subscription.clone();
    edit.alignment = PeriodAlignment::BillingDay;
    let edited = store
        .update_subscription(&actor(), "Fiber 100", edit)
        .await
        .unwrap();
    assert_eq!(edited.subscription.alignment, PeriodAlignment::BillingDay);
    assert_eq!(
        store
            .get_subscription(created.subscription.id)
            .await
            .unwrap(),
        edited
    );
}

pub(super) async fn discounts_add_list_delete(store: Store) {
    let one = subscribed_client(&store, "1").await.subscription.id;
    let two = subscribed_client(&store, "2").await.subscription.id;
    let welcome = discount(
        "Welcome",
        DiscountValue::Percent(dec("12.5")),
        date(2026, 11, 1),
        Some(date(2027, 1, 31)),
    );
    let loyal = discount(
        "Loyalty",
        DiscountValue::Amount(dec("100")),
        date(2026, 12, 1),
        None,
    );
    let target = discount(
        "Senior",
        DiscountValue::ResultingPrice(dec("299.90")),
        date(2026, 11, 15),
        None,
    );
    let a = store
        .add_discount(&actor(), one, welcome.clone())
        .await
        .unwrap();
    let b = store
        .add_discount(&actor(), two, target.clone())
        .await
        .unwrap();
    let c = store
        .add_discount(&actor(), one, loyal.clone())
        .await
        .unwrap();
    assert_eq!(a.subscription_id, one);
    assert_eq!(a.discount, welcome);
    // Amounts are kept to the cent (Decimal equality ignores the scale; the text does not).
    match c.discount.value {
        DiscountValue::Amount(v) => assert_eq!(v.to_string(), "100.00"),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.list_discounts(two).await.unwrap(), [b]);
    let listed = store.list_discounts(one).await.unwrap();
    assert_eq!(listed, [a.clone(), c.clone()]);
    let all = store.discounts_by_subscription().await.unwrap();
    assert_eq!(all[&one], [welcome.clone(), c.discount.clone()]);
    assert_eq!(all[&two], [target]);
    assert_eq!(all.len(), 2);

    expect_not_found(store.add_discount(&actor(), 999, welcome.clone()).await);
    expect_not_found(store.list_discounts(999).await);

    store.delete_discount(&actor(), a.id).await.unwrap();
    assert_eq!(store.list_discounts(one).await.unwrap(), [c]);
    expect_not_found(store.delete_discount(&actor(), a.id).await);
    let filter = AuditFilter {
        client_number: "1".into(),
        entity: "discount".into(),
    };
    let actions: Vec<String> = store
        .list_audit(&filter, PageRequest::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["discount.delete", "discount.add", "discount.add"]);
    // Deleting the subscription takes its discounts along.
    store.delete_subscription(&actor(), one).await.unwrap();
    let all = store.discounts_by_subscription().await.unwrap();
    assert!(!all.contains_key(&one));
    assert_eq!(all.len(), 1);
}

pub(super) async fn scheduled_actions_are_kept_listed_and_withdrawn(store: Store) {
    use crate::ActionState;
    use ispd_billing::subscription::{Action, ScheduledChange};
    let sub = subscribed_client(&store, "1001").await.subscription.id;
    let other = subscribed_client(&store, "1002").await.subscription.id;
    let change = |t, effective: NaiveDate| ScheduledChange {
        action: Action::Lifecycle(t),
        effective,
        date: effective,
        billing_suspended: t == Transition::Pause,
        note: "holiday".into(),
    };
    let later = date(2026, 12, 20);
    let sooner = date(2026, 12, 10);
    let resume = store
        .schedule_action(&actor(), sub, &change(Transition::Resume, later))
        .await
        .unwrap();
    let pause = store
        .schedule_action(&actor(), sub, &change(Transition::Pause, sooner))
        .await
        .unwrap();
    let to_tariff = ScheduledChange {
        action: Action::ChangeTariff {
            tariff: "Fiber 300".into(),
        },
        billing_suspended: false,
        ..change(Transition::Block, later)
    };
    let stored = store
        .schedule_action(&actor(), other, &to_tariff)
        .await
        .unwrap();
    assert_eq!(stored.change, to_tariff, "a tariff change keeps its tariff");
    expect_not_found(
        store
            .schedule_action(&actor(), 9999, &change(Transition::Block, later))
            .await,
    );
    assert_eq!(
        pause.change,
        change(Transition::Pause, sooner),
        "every field"
    );
    assert_eq!(
        (pause.state, pause.created_by.as_str()),
        (ActionState::Pending, "conformance-operator")
    );

    let mine = store.scheduled_actions(Some(sub), false).await.unwrap();
    assert_eq!(mine, [pause.clone(), resume.clone()], "by effective day");
    assert_eq!(store.scheduled_actions(None, false).await.unwrap().len(), 3);
    let due: Vec<i64> = store
        .due_actions(sooner)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(due, [pause.id]);

    store
        .finish_action(pause.id, ActionState::Failed, "cannot go from x to y")
        .await
        .unwrap();
    let withdrawn = store.withdraw_action(&actor(), resume.id).await.unwrap();
    assert_eq!(withdrawn.state, ActionState::Withdrawn);
    let refused = store.withdraw_action(&actor(), resume.id).await;
    assert!(
        matches!(refused, Err(crate::StoreError::Precondition(_))),
        "{refused:?}"
    );
    assert!(
        store
            .scheduled_actions(Some(sub), false)
            .await
            .unwrap()
            .is_empty()
    );
    let all = store.scheduled_actions(Some(sub), true).await.unwrap();
    assert_eq!(
        all.iter()
            .map(|a| (a.state, a.result.as_str()))
            .collect::<Vec<_>>(),
        [
            (ActionState::Failed, "cannot go from x to y"),
            (ActionState::Withdrawn, "")
        ]
    );
    assert!(
        store
            .due_actions(later)
            .await
            .unwrap()
            .iter()
            .all(|a| a.subscription_id == other)
    );
}

pub(super) async fn a_tariff_change_keeps_the_price_of_the_days_before(store: Store) {
    use crate::TariffChangeRequest;
    use ispd_billing::price_change::{PriceChange, ServicePrice};
    let before = subscribed_client(&store, "1").await;
    let id = before.subscription.id;
    store
        .create_tariff(&actor(), tariff("Fiber 300", "799.00"))
        .await
        .unwrap();
    let request = |tariff, from| TariffChangeRequest {
        tariff,
        from,
        note: "faster",
    };
    let changed = store
        .change_tariff(&actor(), &before, &request("Fiber 300", date(2026, 12, 15)))
        .await
        .unwrap();
    assert_eq!(changed.tariff_name, "Fiber 300");
    assert_eq!(
        changed.subscription.version,
        before.subscription.version + 1
    );
    assert_eq!(changed.subscription.state, before.subscription.state);
    // The same read again is stale; the tariff it already has is refused.
    let stale = store
        .change_tariff(&actor(), &before, &request("Fiber 300", date(2026, 12, 20)))
        .await;
    assert!(
        matches!(stale, Err(crate::StoreError::Stale { .. })),
        "{stale:?}"
    );
    let same = store
        .change_tariff(
            &actor(),
            &changed,
            &request("Fiber 300", date(2026, 12, 20)),
        )
        .await;
    assert!(
        matches!(same, Err(crate::StoreError::Precondition(_))),
        "{same:?}"
    );
    let missing = store
        .change_tariff(&actor(), &changed, &request("Nope", date(2026, 12, 20)))
        .await;
    expect_not_found(missing);

    let changes = store.price_changes().await.unwrap();
    assert_eq!(
        changes.get(&id).map(Vec::as_slice),
        Some(
            &[PriceChange {
                from: date(2026, 12, 15),
                before: ServicePrice {
                    name: "Fiber 100".into(),
                    price: "499.90".parse().unwrap(),
                    includes_vat: true,
                    vat_rate: "21".parse().unwrap(),
                },
            }][..]
        )
    );
    let history = store.subscription_history(id).await.unwrap();
    assert_eq!(
        history.last().map(|h| h.note.as_str()),
        Some("tariff Fiber 100 → Fiber 300 from 2026-12-15; faster")
    );
}
