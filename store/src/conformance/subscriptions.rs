//! Tariffs and subscriptions.

use crate::testkit::fixtures::*;

pub(super) async fn tariffs(store: Store) {
    let sent = tariff("Fiber 100", "499.90");
    let created = store.create_tariff(&actor(), sent.clone()).await.unwrap();
    assert!(created.id > 0);
    assert_eq!(created.version, 1);
    let stored = store.get_tariff("Fiber 100").await.unwrap();
    let mut expected = sent.clone();
    expected.id = created.id;
    expected.version = 1;
    assert_eq!(stored, expected);
    assert_eq!(stored.price.to_string(), "499.90");
    assert_eq!(stored.vat_rate, dec("21"));
    assert_eq!(stored.burst, sent.burst);

    let mut plain = tariff("Plain", "299.00");
    plain.burst = None;
    plain.vat_rate = dec("12.5");
    plain.period = Period::Quarterly;
    store.create_tariff(&actor(), plain).await.unwrap();
    let plain = store.get_tariff("Plain").await.unwrap();
    assert_eq!(plain.burst, None);
    assert_eq!(plain.vat_rate, dec("12.5"));
    assert_eq!(plain.period, Period::Quarterly);

    expect_conflict(
        store
            .create_tariff(&actor(), tariff("Fiber 100", "1.00"))
            .await,
        "tariff.name",
    );
    expect_invalid(
        store
            .create_tariff(&actor(), tariff("Odd", "499.905"))
            .await,
        "tariff.price",
    );
    expect_not_found(store.get_tariff("Odd").await);

    let mut edit = stored.clone();
    edit.price = dec("549.00");
    let updated = store.update_tariff(&actor(), edit.clone()).await.unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(
        store.get_tariff("Fiber 100").await.unwrap().price,
        dec("549")
    );
    edit.price = dec("1.00");
    expect_stale(store.update_tariff(&actor(), edit).await);
    assert_eq!(
        store.get_tariff("Fiber 100").await.unwrap().price,
        dec("549")
    );
    let mut rename = updated.clone();
    rename.name = "Plain".into();
    expect_conflict(store.update_tariff(&actor(), rename).await, "tariff.name");

    store
        .create_client(&actor(), minimal_client("1", "User"))
        .await
        .unwrap();
    store
        .create_subscription(
            &actor(),
            "1",
            "Fiber 100",
            subscription(date(2026, 1, 1)),
            today(),
        )
        .await
        .unwrap();
    expect_precondition(store.delete_tariff(&actor(), "Fiber 100").await);
    assert!(store.get_tariff("Fiber 100").await.is_ok());
    store.delete_tariff(&actor(), "Plain").await.unwrap();
    expect_not_found(store.get_tariff("Plain").await);
}

pub(super) async fn subscriptions(store: Store) {
    store
        .create_client(&actor(), minimal_client("1", "One"))
        .await
        .unwrap();
    store
        .create_client(&actor(), minimal_client("2", "Two"))
        .await
        .unwrap();
    store
        .create_tariff(&actor(), tariff("Fiber 100", "499.90"))
        .await
        .unwrap();

    let mut future = subscription(date(2026, 12, 1));
    future.billing_from = date(2026, 12, 15);
    future.price_override = Some(dec("399.50"));
    future.period = Some(Period::Yearly);
    future.commitment_until = Some(date(2028, 11, 30));
    future.variable_symbol = "5001".into();
    future.note = "promo".into();
    let future = store
        .create_subscription(&actor(), "1", "Fiber 100", future, today())
        .await
        .unwrap();
    assert_eq!(future.subscription.state, SubscriptionState::NotYetActive);
    assert_eq!(future.client_number, "1");
    assert_eq!(future.tariff_name, "Fiber 100");
    assert_eq!(future.subscription.version, 1);
    let stored = store
        .get_subscription(future.subscription.id)
        .await
        .unwrap();
    assert_eq!(stored, future);
    assert_eq!(
        stored.subscription.price_override.map(|p| p.to_string()),
        Some("399.50".into())
    );
    assert_eq!(
        stored.subscription.commitment_until,
        Some(date(2028, 11, 30))
    );

    let past = store
        .create_subscription(
            &actor(),
            "1",
            "Fiber 100",
            subscription(date(2026, 11, 1)),
            today(),
        )
        .await
        .unwrap();
    assert_eq!(past.subscription.state, SubscriptionState::Active);
    let same_day = store
        .create_subscription(&actor(), "2", "Fiber 100", subscription(today()), today())
        .await
        .unwrap();
    assert_eq!(same_day.subscription.state, SubscriptionState::Active);
    let tomorrow = today().succ_opt().unwrap();
    let tomorrow = store
        .create_subscription(&actor(), "2", "Fiber 100", subscription(tomorrow), today())
        .await
        .unwrap();
    assert_eq!(tomorrow.subscription.state, SubscriptionState::NotYetActive);

    let history = store
        .subscription_history(future.subscription.id)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].from_state, None);
    assert_eq!(history[0].to_state, SubscriptionState::NotYetActive);
    assert_eq!(history[0].actor, actor().0);

    let mut clash = subscription(date(2026, 1, 1));
    clash.variable_symbol = "5001".into();
    expect_conflict(
        store
            .create_subscription(&actor(), "2", "Fiber 100", clash.clone(), today())
            .await,
        "subscription.variable_symbol",
    );
    // Moving an existing subscription onto a taken symbol conflicts too.
    let mut moved = past.subscription.clone();
    moved.variable_symbol = "5001".into();
    expect_conflict(
        store
            .update_subscription(&actor(), "Fiber 100", moved)
            .await,
        "subscription.variable_symbol",
    );
    expect_not_found(
        store
            .create_subscription(&actor(), "9", "Fiber 100", subscription(today()), today())
            .await,
    );

    let ids = async |filter: SubscriptionFilter| -> Vec<i64> {
        let page = store.list_subscriptions(&filter, PageRequest::default());
        let page = page.await.unwrap();
        page.items.iter().map(|r| r.subscription.id).collect()
    };
    let of_one = SubscriptionFilter {
        client_number: "1".into(),
        ..SubscriptionFilter::default()
    };
    assert_eq!(
        ids(of_one).await,
        [future.subscription.id, past.subscription.id]
    );
    let active = SubscriptionFilter {
        state: Some(SubscriptionState::Active),
        ..SubscriptionFilter::default()
    };
    assert_eq!(
        ids(active).await,
        [past.subscription.id, same_day.subscription.id]
    );
    let pending_of_two = SubscriptionFilter {
        client_number: "2".into(),
        state: Some(SubscriptionState::NotYetActive),
        ..SubscriptionFilter::default()
    };
    assert_eq!(ids(pending_of_two).await, [tomorrow.subscription.id]);

    // Update: versions as for clients.
    let mut edit = past.subscription.clone();
    edit.note = "edited".into();
    let edited = store
        .update_subscription(&actor(), "Fiber 100", edit.clone())
        .await
        .unwrap();
    assert_eq!(edited.subscription.version, 2);
    assert_eq!(edited.subscription.note, "edited");
    expect_stale(store.update_subscription(&actor(), "Fiber 100", edit).await);

    store
        .create_login(&actor(), ppp_login("one", past.subscription.id), "pw-1")
        .await
        .unwrap();
    expect_precondition(
        store
            .delete_subscription(&actor(), past.subscription.id)
            .await,
    );
    assert!(store.get_subscription(past.subscription.id).await.is_ok());
    store
        .delete_subscription(&actor(), future.subscription.id)
        .await
        .unwrap();
    expect_not_found(store.get_subscription(future.subscription.id).await);
    expect_not_found(store.subscription_history(future.subscription.id).await);
}

pub(super) async fn units_and_service_classes_round_trip(store: Store) {
    use ispd_billing::subscription::SubscriptionState;
    use ispd_billing::unit::{OnUnit, Unit};
    let unit = store
        .create_unit(
            &actor(),
            &Unit {
                id: 0,
                name: "Dlouhá 12, flat 3".into(),
                note: "3rd floor".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store.list_units().await.unwrap(),
        std::slice::from_ref(&unit)
    );
    assert!(store.services_on_unit(unit.id).await.unwrap().is_empty());
    expect_not_found(store.services_on_unit(unit.id + 1).await);
    let mut fiber = tariff("Fiber unit", "499.00");
    fiber.service_class = "internet".into();
    store.create_tariff(&actor(), fiber).await.unwrap();
    assert_eq!(
        store.get_tariff("Fiber unit").await.unwrap().service_class,
        "internet"
    );
    let placed = subscribed_client(&store, "1").await;
    let mut moved = placed.subscription.clone();
    moved.unit = Some(unit.id);
    let stored = store
        .update_subscription(&actor(), "Fiber unit", moved)
        .await
        .unwrap();
    assert_eq!(stored.subscription.unit, Some(unit.id));
    assert_eq!(
        store.services_on_unit(unit.id).await.unwrap(),
        [OnUnit {
            subscription: stored.subscription.id,
            class: "internet".into(),
            state: SubscriptionState::Active,
        }]
    );
    let refused = store.delete_unit(&actor(), unit.id).await;
    assert!(
        matches!(refused, Err(crate::StoreError::Precondition(_))),
        "{refused:?}"
    );
}
