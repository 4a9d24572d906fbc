//! Invoice groups and one-off charges.

use crate::testkit::fixtures::*;

/// A group with every field set to something other than its default.
pub(super) fn full_invoice_group(code: &str) -> InvoiceGroup {
    InvoiceGroup {
        street: "Technická 5".into(),
        postcode: "160 00".into(),
        city: "Praha 6".into(),
        country: "CZ".into(),
        company_id: "87654321".into(),
        vat_id: "CZ87654321".into(),
        bank_account: "19-2000145399/0800".into(),
        iban: "CZ65 0800 0000 1920 0014 5399".into(),
        bic: "GIBACZPX".into(),
        email: "fakturace@isp.example.cz".into(),
        phone: "+420 222 000 111".into(),
        currency: Some("EUR".into()),
        due_days: Some(21),
        number_formats: NumberFormats {
            invoice: Some("FV{year}{seq:05}".into()),
            credit_note: Some("DD{yy}-{seq:04}".into()),
            proforma: Some("ZF{year}{seq}".into()),
            debit_note: Some("VR{year}{seq:03}".into()),
        },
        taxable_date_rule: TaxableDateRule::DaysBeforeIssue(14),
        ..InvoiceGroup::new(code, "ISP Business s.r.o.")
    }
}

/// Rows of the audit log about one kind of record.
pub(super) async fn audit_actions(store: &Store, entity: &str) -> Vec<String> {
    let filter = AuditFilter {
        entity: entity.into(),
        ..AuditFilter::default()
    };
    let mut actions: Vec<String> = store
        .list_audit(&filter, PageRequest::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| format!("{} {}", e.action, e.entity_key))
        .collect();
    actions.reverse();
    actions
}

/// Issues an invoice without lines for `client_number` in `group`; returns its database id.
pub(super) async fn issue_empty_invoice(store: &Store, client_number: &str, group: &str) -> i64 {
    let client = store.get_client(client_number).await.unwrap();
    let head = crate::ClientHead {
        client_id: client.id,
        client_number: client.number.clone(),
        client_name: client.name.clone(),
        invoice_group: group.into(),
    };
    let mut draft = InvoiceDraft::empty(crate::DocumentKind::Invoice, &head, today());
    draft.currency = "CZK".into();
    store
        .issue_document(&actor(), &draft)
        .await
        .unwrap()
        .expect("nothing billed these periods before")
        .id
}

pub(super) async fn invoice_groups_round_trip(store: Store) {
    let created = store
        .create_invoice_group(&actor(), full_invoice_group("business"))
        .await
        .unwrap();
    let mut expected = full_invoice_group("business");
    expected.iban = "CZ6508000000192000145399".into();
    expected.version = 1;
    assert_eq!(created, expected);
    assert_eq!(store.invoice_group("business").await.unwrap(), expected);
    let codes: Vec<String> = store
        .invoice_groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.code)
        .collect();
    assert_eq!(codes, ["business", "default"]);
    expect_not_found(store.invoice_group("nope").await);

    expect_conflict(
        store
            .create_invoice_group(&actor(), InvoiceGroup::new("business", "Again"))
            .await,
        "invoice_group.code",
    );
    expect_not_found(store.invoice_group("bad").await);

    // Every field can change, and back to the defaults; the version moves on.
    let mut edited = InvoiceGroup::new("business", "ISP Business a.s.");
    edited.taxable_date_rule = TaxableDateRule::EndOfPeriod;
    edited.version = 1;
    let updated = store
        .update_invoice_group(&actor(), edited.clone())
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(
        store.invoice_group("business").await.unwrap(),
        InvoiceGroup {
            version: 2,
            ..edited.clone()
        }
    );
    // A second writer still holding version 1 is refused, and nothing changes.
    let mut late = full_invoice_group("business");
    late.version = 1;
    expect_stale(store.update_invoice_group(&actor(), late).await);
    assert_eq!(store.invoice_group("business").await.unwrap().version, 2);
    let mut unknown = InvoiceGroup::new("nope", "Nope");
    unknown.version = 1;
    expect_not_found(store.update_invoice_group(&actor(), unknown).await);

    assert_eq!(
        audit_actions(&store, "invoice_group").await,
        [
            "invoice_group.create business",
            "invoice_group.update business"
        ]
    );
}

pub(super) async fn invoice_group_delete_refused_while_used(store: Store) {
    for code in ["branch", "old"] {
        store
            .create_invoice_group(&actor(), InvoiceGroup::new(code, "Branch"))
            .await
            .unwrap();
    }
    let mut client = minimal_client("1001", "Branch client");
    client.invoicing.invoice_group = "branch".into();
    let (client, _) = store.create_client(&actor(), client).await.unwrap();
    expect_precondition(store.delete_invoice_group(&actor(), "branch").await);
    assert!(store.invoice_group("branch").await.is_ok());

    // An issued document keeps its group even when no client is in it any more.
    issue_empty_invoice(&store, "1001", "old").await;
    expect_precondition(store.delete_invoice_group(&actor(), "old").await);

    let mut moved = client;
    moved.invoicing.invoice_group = "default".into();
    store.update_client(&actor(), moved).await.unwrap();
    store
        .delete_invoice_group(&actor(), "branch")
        .await
        .unwrap();
    expect_not_found(store.invoice_group("branch").await);
    expect_not_found(store.delete_invoice_group(&actor(), "branch").await);
    let mut client = minimal_client("1002", "Gone group");
    client.invoicing.invoice_group = "branch".into();
    expect_invalid(
        store.create_client(&actor(), client).await,
        "client.invoicing.invoice_group",
    );
    assert_eq!(
        audit_actions(&store, "invoice_group").await,
        [
            "invoice_group.create branch",
            "invoice_group.create old",
            "invoice_group.delete branch"
        ]
    );
}

pub(super) async fn one_off_charges(store: Store) {
    let own = subscribed_client(&store, "1001").await.subscription.id;
    let foreign = subscribed_client(&store, "1002").await.subscription.id;
    let december = date(2026, 12, 1);
    let january = date(2027, 1, 15);

    let mut router = one_off("Router", "-200.00", january);
    router.quantity = dec("2.5");
    router.price_includes_vat = false;
    router.vat_rate = dec("12.5");
    let installation = store
        .add_charge(
            &actor(),
            "1001",
            Some(own),
            one_off("Installation", "1500.00", december),
        )
        .await
        .unwrap();
    let credit = store
        .add_charge(&actor(), "1001", None, router.clone())
        .await
        .unwrap();
    let other = store
        .add_charge(&actor(), "1002", None, one_off("Cable", "99.90", december))
        .await
        .unwrap();
    assert_eq!(credit.charge, router, "decimals and flags round-trip");
    assert_eq!(credit.subscription_id, None);
    assert_eq!(installation.subscription_id, Some(own));
    assert_eq!(installation.client_number, "1001");

    // The subscription must be the client's own; refused charges leave nothing behind.
    expect_invalid(
        store
            .add_charge(
                &actor(),
                "1001",
                Some(foreign),
                one_off("Wrong", "1", december),
            )
            .await,
        "charge.subscription_id",
    );
    expect_invalid(
        store
            .add_charge(
                &actor(),
                "1001",
                Some(foreign + 1000),
                one_off("Missing", "1", december),
            )
            .await,
        "charge.subscription_id",
    );
    expect_not_found(
        store
            .add_charge(&actor(), "9999", None, one_off("Nobody", "1", december))
            .await,
    );
    let listed = store.list_charges("1001").await.unwrap();
    assert_eq!(listed, [installation.clone(), credit.clone()]);
    assert_eq!(
        store.list_charges("1002").await.unwrap(),
        std::slice::from_ref(&other)
    );
    expect_not_found(store.list_charges("9999").await);

    // What a billing run sees: dated on or before its day, by client, not yet billed.
    let ids =
        |charges: Vec<crate::ChargeRecord>| charges.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert!(
        store
            .unbilled_charges(date(2026, 11, 30))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        ids(store.unbilled_charges(december).await.unwrap()),
        [installation.id, other.id]
    );
    assert_eq!(
        ids(store.unbilled_charges(january).await.unwrap()),
        [installation.id, credit.id, other.id]
    );

    // Billed the way the billing run marks it, inside its issuing transaction.
    let invoice = issue_empty_invoice(&store, "1001", "default").await;
    let marked = sqlx::query(
        "UPDATE one_off_charge SET invoice_id = $1 WHERE id = $2 AND invoice_id IS NULL",
    )
    .bind(invoice)
    .bind(installation.id)
    .execute(&store.pool)
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(marked, 1);
    assert_eq!(
        ids(store.unbilled_charges(january).await.unwrap()),
        [credit.id, other.id]
    );
    let billed = store.list_charges("1001").await.unwrap();
    let number = format!("{}00001", today().format("%Y"));
    assert_eq!(billed[0].invoice_number.as_deref(), Some(number.as_str()));
    assert_eq!(billed[1].invoice_number, None);

    expect_precondition(store.delete_charge(&actor(), installation.id).await);
    expect_precondition(store.delete_subscription(&actor(), own).await);
    store.delete_charge(&actor(), credit.id).await.unwrap();
    expect_not_found(store.delete_charge(&actor(), credit.id).await);
    assert_eq!(
        ids(store.list_charges("1001").await.unwrap()),
        [installation.id]
    );

    // A contact with only a charge cannot vanish from under it.
    store
        .create_client(&actor(), minimal_client("1003", "Contact"))
        .await
        .unwrap();
    let fee = store
        .add_charge(&actor(), "1003", None, one_off("Survey", "300", december))
        .await
        .unwrap();
    expect_precondition(store.delete_client(&actor(), "1003").await);
    store.delete_charge(&actor(), fee.id).await.unwrap();
    store.delete_client(&actor(), "1003").await.unwrap();

    let audit = audit_actions(&store, "one_off_charge").await;
    assert_eq!(
        audit,
        [
            format!("charge.add {}", installation.id),
            format!("charge.add {}", credit.id),
            format!("charge.add {}", other.id),
            format!("charge.delete {}", credit.id),
            format!("charge.add {}", fee.id),
            format!("charge.delete {}", fee.id),
        ]
    );
}
