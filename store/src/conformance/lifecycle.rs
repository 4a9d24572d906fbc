//! Lifecycle and discounts.

use crate::testkit::fixtures::*;

pub(super) async fn alignment_round_trips(store: Store) {
    store
        .create_client(&actor(), minimal_client("1", "One"))
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
    let actions = client_audit_actions(&store, "1", "discount").await;
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
        reason: String::new(),
    };
    let later = date(2026, 12, 20);
    let sooner = date(2026, 12, 10);
    let resume = store
        .schedule_action(&actor(), sub, &change(Transition::Resume, later), None)
        .await
        .unwrap();
    let pause = store
        .schedule_action(&actor(), sub, &change(Transition::Pause, sooner), None)
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
        .schedule_action(&actor(), other, &to_tariff, None)
        .await
        .unwrap();
    assert_eq!(stored.change, to_tariff, "a tariff change keeps its tariff");
    let transfer = ScheduledChange {
        action: Action::Transfer {
            client: "1001".into(),
            tariff: String::new(),
        },
        ..to_tariff.clone()
    };
    let stored = store
        .schedule_action(&actor(), other, &transfer, None)
        .await
        .unwrap();
    assert_eq!(
        stored.change, transfer,
        "a transfer keeps its client and tariff"
    );
    store.withdraw_action(&actor(), stored.id).await.unwrap();
    expect_not_found(
        store
            .schedule_action(&actor(), 9999, &change(Transition::Block, later), None)
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
    use ispd_billing::price_change::{MoveError, PriceChange, ServicePrice, move_tariff};
    let before = subscribed_client(&store, "1").await;
    let id = before.subscription.id;
    store
        .create_tariff(&actor(), tariff("Fiber 300", "799.00"))
        .await
        .unwrap();
    // What the use case does: the core decides the move from the tariffs as stored.
    let decide = |from: &crate::SubscriptionRecord, to: &'static str, day| {
        let (store, from) = (&store, from.clone());
        async move {
            let current = store.get_tariff(&from.tariff_name).await?;
            let next = store.get_tariff(to).await?;
            let moved = move_tariff(&from.subscription, &current, &next, day, "faster");
            Ok::<_, crate::StoreError>((next.id, moved))
        }
    };
    let (next, moved) = decide(&before, "Fiber 300", date(2026, 12, 15))
        .await
        .unwrap();
    let changed = store
        .change_tariff(&actor(), &before, (next, None), &moved.unwrap())
        .await
        .unwrap();
    assert_eq!(changed.tariff_name, "Fiber 300");
    assert_eq!(
        changed.subscription.version,
        before.subscription.version + 1
    );
    assert_eq!(changed.subscription.state, before.subscription.state);
    // The same read again is stale; the tariff it already has is refused.
    let (next, moved) = decide(&before, "Fiber 300", date(2026, 12, 20))
        .await
        .unwrap();
    let stale = store
        .change_tariff(&actor(), &before, (next, None), &moved.unwrap())
        .await;
    assert!(
        matches!(stale, Err(crate::StoreError::Stale { .. })),
        "{stale:?}"
    );
    let (_, same) = decide(&changed, "Fiber 300", date(2026, 12, 20))
        .await
        .unwrap();
    assert!(matches!(same, Err(MoveError::AlreadyOn { .. })), "{same:?}");
    let missing = decide(&changed, "Nope", date(2026, 12, 20)).await;
    expect_not_found(missing);

    let changes = store.price_changes().await.unwrap();
    let kept: Option<Vec<_>> = changes
        .get(&id)
        .map(|c| c.iter().map(|c| c.change.clone()).collect());
    assert_eq!(
        kept.as_deref(),
        Some(
            &[PriceChange {
                from: date(2026, 12, 15),
                before: ServicePrice {
                    name: "Fiber 100".into(),
                    price: "499.90".parse().unwrap(),
                    includes_vat: true,
                    vat_rate: "21".parse().unwrap(),
                    period: ispd_billing::period::Period::Monthly,
                },
            }][..]
        )
    );
    let history = store.subscription_history(id).await.unwrap();
    assert_eq!(
        history.last().map(|h| h.note.as_str()),
        Some("tariff Fiber 100 → Fiber 300 from 2026-12-15; faster")
    );

    // A price of its own from a later day: the same row shape, the tariff kept, the price
    // stored, the last change's day read back.
    assert_eq!(
        store.last_price_change(id).await.unwrap(),
        Some(date(2026, 12, 15))
    );
    let tariff = store.get_tariff("Fiber 300").await.unwrap();
    let own: rust_decimal::Decimal = "699.00".parse().unwrap();
    let repriced = ispd_billing::price_change::reprice(
        &changed.subscription,
        &tariff,
        Some(own),
        date(2027, 1, 10),
        Some(date(2026, 12, 15)),
        "",
    )
    .unwrap();
    let priced = store
        .change_tariff(&actor(), &changed, (tariff.id, Some(own)), &repriced)
        .await
        .unwrap();
    assert_eq!(priced.tariff_name, "Fiber 300");
    assert_eq!(priced.subscription.price_override, Some(own));
    assert_eq!(
        store.last_price_change(id).await.unwrap(),
        Some(date(2027, 1, 10))
    );
    let changes = store.price_changes().await.unwrap();
    let kept: Vec<_> = changes[&id]
        .iter()
        .map(|c| (c.change.from, c.change.before.price))
        .collect();
    assert_eq!(
        kept,
        [
            (date(2026, 12, 15), "499.90".parse().unwrap()),
            (date(2027, 1, 10), tariff.price),
        ]
    );
}

pub(super) async fn a_transfer_is_written_whole(store: Store) {
    use ispd_billing::invoice::{Discount, DiscountValue};
    use ispd_billing::subscription::{SubscriptionState, apply, transfer};
    let before = subscribed_client(&store, "1").await;
    store
        .create_client(&actor(), minimal_client("2", "Client 2"))
        .await
        .unwrap();
    let to = store.get_client("2").await.unwrap().id;
    let id = before.subscription.id;
    store
        .create_login(&actor(), ppp_login("novak", id), "pw")
        .await
        .unwrap();
    let welcome = Discount {
        name: "Welcome".into(),
        value: DiscountValue::Percent(rust_decimal::Decimal::TEN),
        valid_from: date(2026, 1, 1),
        valid_to: None,
    };
    store.add_discount(&actor(), id, welcome).await.unwrap();
    // What the use case does: the core plans it, the state machine ends the original.
    let day = today();
    let discounts = [store.list_discounts(id).await.unwrap()[0].discount.clone()];
    let plan = transfer::plan(
        &before.subscription,
        (&discounts, &[]),
        (to, before.subscription.tariff_id),
        (day, day),
        "",
    )
    .unwrap();
    let ended = apply(&before.subscription, &plan.end, None, day).unwrap();
    let (old, new) = store
        .record_transfer(&actor(), &before, &ended, (plan.next, &plan.carried, &[]))
        .await
        .unwrap();
    assert_eq!(old.subscription.state, SubscriptionState::Ended);
    assert_eq!(
        (new.client_number.as_str(), new.subscription.activation_date),
        ("2", day)
    );
    let login = store.get_login("novak").await.unwrap();
    assert_eq!(login.login.subscription_id, new.subscription.id);
    let carried = store.list_discounts(new.subscription.id).await.unwrap();
    assert_eq!(
        (carried.len(), carried[0].discount.valid_from),
        (1, day.max(date(2026, 1, 1)))
    );
    // Written at the version read: the same read again is stale, and nothing of it stays.
    let again = store
        .record_transfer(
            &actor(),
            &before,
            &ended,
            (new.subscription.clone(), &[], &[]),
        )
        .await;
    assert!(
        matches!(again, Err(crate::StoreError::Stale { .. })),
        "{again:?}"
    );
    let clients = store
        .list_subscriptions(
            &crate::SubscriptionFilter {
                client_number: "2".into(),
                ..Default::default()
            },
            crate::PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        clients.items.len(),
        1,
        "the stale transfer left nothing behind"
    );
}

/// A price change and a tariff change scheduled at once, on two instances (found probing
/// from outside): each checked for the other on what it had read, both were kept, and the
/// price history broke. Each is written at the version it read, and scheduling moves the
/// version: whichever comes second is refused as stale.
pub(super) async fn a_price_change_and_a_scheduled_tariff_change_never_pass(store: Store) {
    use ispd_billing::price_change::reprice;
    use ispd_billing::subscription::{Action, ScheduledChange};
    let before = subscribed_client(&store, "1001").await;
    let id = before.subscription.id;
    store
        .create_tariff(&actor(), tariff("Fiber 300", "799.00"))
        .await
        .unwrap();
    let to_tariff = ScheduledChange {
        action: Action::ChangeTariff {
            tariff: "Fiber 300".into(),
        },
        effective: date(2026, 12, 20),
        date: date(2026, 12, 20),
        billing_suspended: false,
        note: String::new(),
        reason: String::new(),
    };
    let own = Some(dec("399.00"));
    let tariff = store.get_tariff("Fiber 100").await.unwrap();
    let price = |read: &SubscriptionRecord| {
        reprice(
            &read.subscription,
            &tariff,
            own,
            date(2026, 12, 22),
            None,
            "",
        )
        .unwrap()
    };
    let operator = actor();
    // A price change decided on `before`; the tariff change scheduled meanwhile.
    let version = Some(before.subscription.version);
    let scheduled = store.schedule_action(&operator, id, &to_tariff, version);
    let scheduled = scheduled.await.unwrap();
    let moved = price(&before);
    let written = store.change_tariff(&operator, &before, (tariff.id, own), &moved);
    expect_stale(written.await);
    store
        .withdraw_action(&operator, scheduled.id)
        .await
        .unwrap();
    // The other way round: a tariff change scheduled on a version a price change moved.
    let read = store.get_subscription(id).await.unwrap();
    let moved = price(&read);
    let written = store.change_tariff(&operator, &read, (tariff.id, own), &moved);
    written.await.unwrap();
    let version = Some(read.subscription.version);
    expect_stale(
        store
            .schedule_action(&operator, id, &to_tariff, version)
            .await,
    );
}
