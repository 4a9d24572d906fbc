//! Clients: round trips, numbering, duplicates, validation, versions, listing and search.

use crate::testkit::fixtures::*;

pub(super) async fn client_round_trip(store: Store) {
    create_full_client_codes(&store).await;
    let sent = full_client();
    let (created, warnings) = store.create_client(&actor(), sent.clone()).await.unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(created.id > 0);
    assert_eq!(created.version, 1);

    let stored = store.get_client("1001").await.unwrap();
    let mut expected = sent;
    expected.id = created.id;
    expected.version = 1;
    assert_eq!(stored, expected);
    assert_eq!(created, stored);
    assert_eq!(stored.invoicing.opening_balance.to_string(), "-1234.50");
}

pub(super) async fn duplicate_client_number_conflicts(store: Store) {
    store
        .create_client(&actor(), minimal_client("1001", "Novák Jan"))
        .await
        .unwrap();
    let mut second = minimal_client("1001", "Svoboda Petr");
    second.invoicing.variable_symbols = vec!["777".into()];
    expect_conflict(store.create_client(&actor(), second).await, "client.number");

    let clients = all_clients(&store).await;
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].name, "Novák Jan");
    assert!(
        found(&store, "777").await.is_empty(),
        "refused client's symbol was kept"
    );
    let audit = store
        .list_audit(&AuditFilter::default(), PageRequest::default())
        .await
        .unwrap();
    let creates = audit
        .items
        .iter()
        .filter(|e| e.action == "client.create")
        .count();
    assert_eq!(creates, 1, "the refused create was audited");
}

pub(super) async fn client_numbers_are_proposed(store: Store) {
    assert_eq!(store.next_client_number().await.unwrap(), "1");
    let (first, _) = store
        .create_client(&actor(), minimal_client("", "First"))
        .await
        .unwrap();
    assert_eq!(first.number, "1");
    assert_eq!(
        first.portal_login, "1",
        "the portal login defaults to the number"
    );
    let (second, _) = store
        .create_client(&actor(), minimal_client("", "Second"))
        .await
        .unwrap();
    assert_eq!(second.number, "2");
    assert_eq!(store.get_client("2").await.unwrap().name, "Second");

    store
        .create_client(&actor(), minimal_client("1041", "By hand"))
        .await
        .unwrap();
    assert_eq!(store.next_client_number().await.unwrap(), "1042");
    store
        .create_client(&actor(), minimal_client("A-7", "Lettered"))
        .await
        .unwrap();
    assert_eq!(store.next_client_number().await.unwrap(), "1042");
    let (next, _) = store
        .create_client(&actor(), minimal_client("", "Next"))
        .await
        .unwrap();
    assert_eq!(next.number, "1042");
}

pub(super) async fn duplicate_identifiers_warn(store: Store) {
    let mut first = minimal_client("1", "First");
    first.id_number = "801017/1234".into();
    first.company_id = "12345678".into();
    let (_, warnings) = store.create_client(&actor(), first).await.unwrap();
    assert!(warnings.is_empty());

    let mut same_id = minimal_client("2", "Same ID card");
    same_id.id_number = "801017/1234".into();
    let (_, warnings) = store.create_client(&actor(), same_id).await.unwrap();
    assert_eq!(
        warnings,
        [Duplicate {
            field: "id_number",
            other_client: "1".into()
        }]
    );

    let mut same_company = minimal_client("3", "Same company");
    same_company.company_id = "12345678".into();
    let (_, warnings) = store.create_client(&actor(), same_company).await.unwrap();
    assert_eq!(
        warnings,
        [Duplicate {
            field: "company_id",
            other_client: "1".into()
        }]
    );

    // Both were saved despite the warnings.
    assert_eq!(all_clients(&store).await.len(), 3);
    assert_eq!(
        store.get_client("2").await.unwrap().id_number,
        "801017/1234"
    );
    assert_eq!(store.get_client("3").await.unwrap().company_id, "12345678");
}

pub(super) async fn variable_symbols_are_unique_and_limited(store: Store) {
    let mut owner = minimal_client("1", "Owner");
    owner.invoicing.variable_symbols = vec!["2001".into()];
    let (owner, _) = store.create_client(&actor(), owner).await.unwrap();

    let mut taker = minimal_client("2", "Taker");
    taker.invoicing.variable_symbols = vec!["2001".into()];
    expect_conflict(
        store.create_client(&actor(), taker.clone()).await,
        "client.invoicing.variable_symbols[0]",
    );
    taker.invoicing.variable_symbols = vec!["3001".into(), "2001".into()];
    expect_conflict(
        store.create_client(&actor(), taker.clone()).await,
        "client.invoicing.variable_symbols[1]",
    );
    // Matching reads "0002001" as 2001 (banks pad symbols with zeros): the same symbol.
    taker.invoicing.variable_symbols = vec!["0002001".into()];
    expect_conflict(
        store.create_client(&actor(), taker.clone()).await,
        "client.invoicing.variable_symbols[0]",
    );
    // So is a client number that matching reads as another client's.
    expect_conflict(
        store
            .create_client(&actor(), minimal_client("0001", "Padded"))
            .await,
        "client.number",
    );
    expect_not_found(store.get_client("2").await);

    // The owner keeps its own symbol through an update.
    let mut edited = owner.clone();
    edited.note = "still mine".into();
    let (edited, _) = store.update_client(&actor(), edited).await.unwrap();
    assert_eq!(edited.invoicing.variable_symbols, ["2001"]);
    assert_eq!(
        store
            .get_client("1")
            .await
            .unwrap()
            .invoicing
            .variable_symbols,
        ["2001"]
    );
}

pub(super) async fn client_update_versions_and_audit(store: Store) {
    let (created, _) = store
        .create_client(&actor(), minimal_client("1001", "Novák Jan"))
        .await
        .unwrap();
    let mut edit = created.clone();
    edit.name = "Nováková Jana".into();
    let (updated, _) = store.update_client(&actor(), edit.clone()).await.unwrap();
    assert_eq!(updated.version, 2);
    let stored = store.get_client("1001").await.unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.name, "Nováková Jana");

    // The same edit again is based on version 1, which is gone.
    edit.name = "Lost update".into();
    expect_stale(store.update_client(&actor(), edit).await);
    assert_eq!(
        store.get_client("1001").await.unwrap().name,
        "Nováková Jana"
    );

    let audit = audit_of(&store, "1001", "").await;
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["client.update", "client.create"], "newest first");
    for entry in &audit {
        assert_eq!(entry.actor, actor().0);
        assert_eq!(entry.entity, "client");
        assert_eq!(entry.entity_key, "1001");
        assert_eq!(entry.client_number.as_deref(), Some("1001"));
    }
    assert!(audit[0].at >= audit[1].at);
    let json = |text: &Option<String>| -> serde_json::Value {
        serde_json::from_str(text.as_deref().expect("audit JSON present")).unwrap()
    };
    let (update, create) = (&audit[0], &audit[1]);
    assert_eq!(create.before_json, None);
    assert_eq!(json(&create.after_json)["name"], "Novák Jan");
    assert_eq!(json(&update.before_json)["name"], "Novák Jan");
    assert_eq!(json(&update.after_json)["name"], "Nováková Jana");
    assert_eq!(json(&update.after_json)["version"], 2);
}

/// An update replaces the whole record, child rows included: what is left out is gone.
pub(super) async fn client_update_replaces_everything(store: Store) {
    create_full_client_codes(&store).await;
    let (full, _) = store.create_client(&actor(), full_client()).await.unwrap();

    let mut bare = minimal_client("1001", "Novák Jan");
    bare.version = full.version;
    let (updated, _) = store.update_client(&actor(), bare.clone()).await.unwrap();
    let mut expected = bare;
    expected.apply_defaults();
    expected.id = full.id;
    expected.version = 2;
    let stored = store.get_client("1001").await.unwrap();
    assert_eq!(stored, expected);
    assert_eq!(updated, stored);

    // The symbols it gave up are free for others; taking one back is then refused whole.
    let mut other = minimal_client("1002", "Other");
    other.invoicing.variable_symbols = vec!["2001".into()];
    store.create_client(&actor(), other).await.unwrap();
    let mut again = full_client();
    again.version = 2;
    expect_conflict(
        store.update_client(&actor(), again.clone()).await,
        "client.invoicing.variable_symbols[0]",
    );
    assert_eq!(store.get_client("1001").await.unwrap(), expected);

    again.invoicing.variable_symbols = vec!["2003".into(), "2002".into()];
    store.update_client(&actor(), again.clone()).await.unwrap();
    again.id = full.id;
    again.version = 3;
    assert_eq!(store.get_client("1001").await.unwrap(), again);
    expect_not_found(
        store
            .update_client(&actor(), minimal_client("9999", "Nobody"))
            .await,
    );
}

pub(super) async fn list_clients_filters_and_pages(store: Store) {
    for (list, code) in [
        (CodeList::ClientGroup, "vip"),
        (CodeList::ClientGroup, "wireless"),
    ] {
        store.put_code(&actor(), list, code, code).await.unwrap();
    }
    let clients = [
        ("1", "NOVÁK Jan", "Praha", "connected", "vip"),
        ("2", "novák Petr", "Praha", "connected", ""),
        ("3", "Svoboda Karel", "Brno", "non_payer", "wireless"),
        ("4", "Dvořák Aleš", "Brno", "connected", "vip"),
        ("5", "Černá Eva", "Ostrava", "disconnected", ""),
    ];
    for (number, name, city, status, group) in clients {
        let mut client = minimal_client(number, name);
        client.address.city = city.into();
        client.status = status.into();
        client.groups = [group]
            .iter()
            .filter(|g| !g.is_empty())
            .map(|g| g.to_string())
            .collect();
        store.create_client(&actor(), client).await.unwrap();
    }

    let by_name = |name: &str| ClientFilter {
        name_contains: name.into(),
        ..ClientFilter::default()
    };
    assert_eq!(listed(&store, by_name("novák")).await, ["1", "2"]);
    assert_eq!(listed(&store, by_name("NOVÁK")).await, ["1", "2"]);
    assert_eq!(listed(&store, by_name("ák")).await, ["1", "2", "4"]);
    let group = ClientFilter {
        group: "vip".into(),
        ..ClientFilter::default()
    };
    assert_eq!(listed(&store, group).await, ["1", "4"]);
    let status = ClientFilter {
        status: "non_payer".into(),
        ..ClientFilter::default()
    };
    assert_eq!(listed(&store, status).await, ["3"]);
    let city = ClientFilter {
        city: "Brno".into(),
        ..ClientFilter::default()
    };
    assert_eq!(listed(&store, city).await, ["3", "4"]);
    let combined = ClientFilter {
        city: "Brno".into(),
        group: "vip".into(),
        ..ClientFilter::default()
    };
    assert_eq!(listed(&store, combined).await, ["4"]);

    // The contract returned, the active product, the registration day.
    let mut first = store.get_client("1").await.unwrap();
    first.contract_returned_on = Some(today());
    store.update_client(&actor(), first).await.unwrap();
    let contract = |returned| ClientFilter {
        contract_returned: Some(returned),
        ..ClientFilter::default()
    };
    assert_eq!(listed(&store, contract(true)).await, ["1"]);
    assert_eq!(listed(&store, contract(false)).await, ["2", "3", "4", "5"]);
    store
        .create_tariff(&actor(), tariff("Fiber 100", "499.90"))
        .await
        .unwrap();
    store
        .create_subscription(&actor(), "3", "Fiber 100", subscription(today()), today())
        .await
        .unwrap();
    let product = |name: &str| ClientFilter {
        tariff: name.into(),
        ..ClientFilter::default()
    };
    assert_eq!(listed(&store, product("Fiber 100")).await, ["3"]);
    assert!(listed(&store, product("Fiber 300")).await.is_empty());
    // Registered a moment ago, by the database's own stamp (the real clock).
    let now = chrono::Utc::now();
    let registered = |since, before| ClientFilter {
        registered_since: since,
        registered_before: before,
        ..ClientFilter::default()
    };
    let hour = chrono::Duration::hours(1);
    assert_eq!(
        listed(&store, registered(Some(now - hour), None))
            .await
            .len(),
        5
    );
    assert!(
        listed(&store, registered(None, Some(now - hour)))
            .await
            .is_empty()
    );

    // Pages of two: 2 + 2 + 1, each with a token except the last, no client twice.
    let mut token = String::new();
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    loop {
        let request = PageRequest::parse(2, &token).unwrap();
        let page = store
            .list_clients(&ClientFilter::default(), request)
            .await
            .unwrap();
        sizes.push(page.items.len());
        seen.extend(page.items.into_iter().map(|c| c.number));
        token = page.next_page_token;
        if token.is_empty() || sizes.len() > 5 {
            break;
        }
    }
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(seen, ["1", "2", "3", "4", "5"]);

    // Paging combines with a filter.
    let first = store
        .list_clients(
            &by_name("ák"),
            PageRequest {
                size: 2,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    let rest = store
        .list_clients(
            &by_name("ák"),
            PageRequest::parse(2, &first.next_page_token).unwrap(),
        )
        .await
        .unwrap();
    let numbers: Vec<&str> = rest.items.iter().map(|c| c.number.as_str()).collect();
    assert_eq!(numbers, ["4"]);
    assert!(rest.next_page_token.is_empty());
}

/// `%` and `_` in a name filter are literal characters, not wildcards.
pub(super) async fn list_clients_name_filter_is_literal(store: Store) {
    for (number, name) in [("1", "100% Net"), ("2", "Net_Works"), ("3", "NetWorks 100")] {
        store
            .create_client(&actor(), minimal_client(number, name))
            .await
            .unwrap();
    }
    let by_name = |name: &str| ClientFilter {
        name_contains: name.into(),
        ..ClientFilter::default()
    };
    assert_eq!(listed(&store, by_name("0%")).await, ["1"]);
    assert_eq!(listed(&store, by_name("t_w")).await, ["2"]);
    assert_eq!(listed(&store, by_name("net")).await, ["1", "2", "3"]);
}

pub(super) async fn search_clients_finds_by_every_identifier(store: Store) {
    let mut novak = minimal_client("1001", "Novák Jan");
    novak.invoicing.variable_symbols = vec!["2001".into()];
    novak.email = "Jan.Novak@Example.cz".into();
    novak.phone = "+420 777 123 456".into();
    novak.mobile = "603000111".into();
    store.create_client(&actor(), novak).await.unwrap();
    let mut svoboda = minimal_client("1002", "Svoboda Petr");
    svoboda.email = "petr@svoboda.cz".into();
    svoboda.phone = "+420 777 999 999".into();
    store.create_client(&actor(), svoboda).await.unwrap();

    store
        .create_tariff(&actor(), tariff("Fiber 100", "499.90"))
        .await
        .unwrap();
    let mut with_vs = subscription(date(2026, 1, 1));
    with_vs.variable_symbol = "3001".into();
    let sub = store
        .create_subscription(&actor(), "1001", "Fiber 100", with_vs, today())
        .await
        .unwrap();
    let other_sub = store
        .create_subscription(
            &actor(),
            "1002",
            "Fiber 100",
            subscription(date(2026, 1, 1)),
            today(),
        )
        .await
        .unwrap();
    let id = sub.subscription.id;
    let mut ppp = ppp_login("novak", id);
    ppp.ipv4 = Some("10.0.0.5".parse().unwrap());
    store.create_login(&actor(), ppp, "pw-1").await.unwrap();
    let mut dhcp = ppp_login("", id);
    dhcp.auth_type = AuthType::Mac;
    dhcp.mac = Some("aa:bb:cc:dd:ee:ff".parse().unwrap());
    store.create_login(&actor(), dhcp, "pw-2").await.unwrap();
    let mut other = ppp_login("svoboda", other_sub.subscription.id);
    other.ipv4 = Some("10.0.0.6".parse().unwrap());
    store.create_login(&actor(), other, "pw-3").await.unwrap();

    assert_eq!(found(&store, "1001").await, ["1001 by number"]);
    assert_eq!(found(&store, " 1002 ").await, ["1002 by number"]);
    assert_eq!(found(&store, "2001").await, ["1001 by variable_symbol"]);
    assert_eq!(found(&store, "3001").await, ["1001 by variable_symbol"]);
    assert_eq!(found(&store, "novak").await, ["1001 by login"]);
    assert_eq!(found(&store, "10.0.0.5").await, ["1001 by ip"]);
    assert_eq!(found(&store, "10.0.0.6").await, ["1002 by ip"]);
    assert_eq!(found(&store, "AA-BB-CC-DD-EE-FF").await, ["1001 by mac"]);
    assert_eq!(found(&store, "aabb.ccdd.eeff").await, ["1001 by mac"]);
    assert_eq!(
        found(&store, "JAN.NOVAK@EXAMPLE.CZ").await,
        ["1001 by email"]
    );
    assert_eq!(found(&store, "+420777 123456").await, ["1001 by phone"]);
    assert_eq!(found(&store, "603 000 111").await, ["1001 by phone"]);
    assert_eq!(found(&store, "vák j").await, ["1001 by name"]);
    assert_eq!(found(&store, "NOVÁK").await, ["1001 by name"]);
    assert!(found(&store, "nobody").await.is_empty());
    assert!(found(&store, "  ").await.is_empty());
    // A matching client comes back whole.
    let hits = store.search_clients("2001", 0).await.unwrap();
    assert_eq!(hits[0].client, store.get_client("1001").await.unwrap());
}

pub(super) async fn delete_client_only_without_subscriptions(store: Store) {
    subscribed_client(&store, "1").await;
    expect_precondition(store.delete_client(&actor(), "1").await);
    assert_eq!(store.get_client("1").await.unwrap().number, "1");

    let mut contact = minimal_client("2", "Just a contact");
    contact.invoicing.variable_symbols = vec!["4001".into()];
    store.create_client(&actor(), contact).await.unwrap();
    store.delete_client(&actor(), "2").await.unwrap();
    expect_not_found(store.get_client("2").await);
    expect_not_found(store.delete_client(&actor(), "2").await);
    let audit = audit_of(&store, "2", "").await;
    assert_eq!(audit[0].action, "client.delete");
    assert_eq!(audit[0].after_json, None);
    assert!(
        audit[0]
            .before_json
            .as_deref()
            .unwrap()
            .contains("Just a contact")
    );
    // Its variable symbol went with it.
    let mut heir = minimal_client("3", "Heir");
    heir.invoicing.variable_symbols = vec!["4001".into()];
    store.create_client(&actor(), heir).await.unwrap();
    assert_eq!(all_clients(&store).await.len(), 2);
}

pub(super) async fn violation_notices_round_trip(store: Store) {
    use ispd_billing::violation::{NewNotice, NoticeState};
    store
        .create_client(&actor(), minimal_client("1001", "Novák"))
        .await
        .unwrap();
    let new = NewNotice {
        reason: "spam from the CPE".into(),
        deadline: date(2026, 12, 10),
        points: 5,
        stop_services: true,
    };
    let mut tx = store.begin_write().await.unwrap();
    let added = store
        .add_violation_in(&mut tx, &actor(), "1001", &new, date(2026, 12, 1))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (&added.notice, added.issued_on, added.state),
        (&new, date(2026, 12, 1), NoticeState::Open)
    );
    assert!(
        store
            .overdue_violations(date(2026, 12, 10))
            .await
            .unwrap()
            .is_empty()
    );
    let mut due = store.overdue_violations(date(2026, 12, 11)).await.unwrap();
    assert_eq!(due.len(), 1);
    let mut enforced = due.remove(0);
    enforced.state = NoticeState::Enforced(date(2026, 12, 11));
    enforced.blocked = vec![3, 4];
    let mut tx = store.begin_write().await.unwrap();
    let recorded = store
        .record_violation_state_in(&mut tx, &actor(), &enforced, &NoticeState::Open)
        .await
        .unwrap();
    assert!(recorded);
    // Recorded from the open state only: a second writer that read it open changes nothing.
    let stale = store
        .record_violation_state_in(&mut tx, &actor(), &enforced, &NoticeState::Open)
        .await
        .unwrap();
    assert!(!stale);
    tx.commit().await.unwrap();
    assert_eq!(store.client_violations("1001").await.unwrap(), [enforced]);
    assert!(
        store
            .overdue_violations(date(2026, 12, 12))
            .await
            .unwrap()
            .is_empty()
    );
    expect_not_found(store.client_violations("9999").await);
}
