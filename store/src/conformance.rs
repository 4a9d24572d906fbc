//! Storage conformance suite: every test runs against a fresh SQLite file and a fresh
//! PostgreSQL database, so both backends are held to the same behaviour.
//!
//! `cargo test -p ispd --lib storage::conformance::postgres::client_round_trip` runs one test
//! on one backend. PostgreSQL tests need `ISPD_TEST_DATABASE_URL` (a role with CREATEDB;
//! `scripts/test` sets it); without it they are skipped with a note on stderr.

use std::fmt::Debug;
use std::future::Future;

use chrono::NaiveDate;
use ispd_billing::charge::OneOffCharge;
use ispd_billing::client::{
    Address, BankAccount, Client, ClientKind, ContactPerson, Duplicate, Gps, Invoicing,
};
use ispd_billing::invoice::{Discount, DiscountValue, TaxableDateRule};
use ispd_billing::invoice_group::{InvoiceGroup, NumberFormats};
use ispd_billing::period::Period;
use ispd_billing::subscription::{PeriodAlignment, Subscription, SubscriptionState, Transition};
use ispd_billing::tariff::{Burst, Rate, Tariff};
use ispd_provisioning::login::{AuthType, ExtraAttribute, Login};
use ispd_provisioning::nas::{Nas, NasVendor};
use rust_decimal::Decimal;

use super::{
    Actor, AuditFilter, ClientFilter, CodeList, InvoiceDraft, Page, PageRequest, Store, StoreError,
    StoreResult, SubscriptionFilter, SubscriptionRecord, TransitionRequest,
};
use crate::seal::Sealer;

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

fn sealer() -> Sealer {
    Sealer::from_key([42; 32])
}

fn actor() -> Actor {
    Actor("conformance-operator".into())
}

/// The day the tests pretend it is, for subscription states.
fn today() -> NaiveDate {
    date(2026, 11, 15)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).expect("decimal literal")
}

fn gps(lat: &str, lon: &str) -> Option<Gps> {
    Some(Gps {
        lat: dec(lat),
        lon: dec(lon),
    })
}

/// A valid client with only the required fields.
fn minimal_client(number: &str, name: &str) -> Client {
    Client {
        number: number.into(),
        name: name.into(),
        address: Address {
            street: "Dlouhá 12".into(),
            postcode: "110 00".into(),
            city: "Praha".into(),
            country: "CZ".into(),
            gps: None,
        },
        ..Client::default()
    }
}

/// Codes and the invoice group [`full_client`] refers to besides the built-in ones.
async fn create_full_client_codes(store: &Store) {
    for (list, code, label) in [
        (CodeList::ClientGroup, "vip", "VIP"),
        (CodeList::ClientGroup, "wireless", "Wireless"),
    ] {
        store.put_code(&actor(), list, code, label).await.unwrap();
    }
    store
        .create_invoice_group(&actor(), InvoiceGroup::new("corporate", "Corporate"))
        .await
        .unwrap();
}

/// A client with every field set to something other than its default.
fn full_client() -> Client {
    Client {
        id: 0,
        number: "1001".into(),
        name: "Novák Jan".into(),
        kind: ClientKind::Corporate,
        name2: "Novák & syn s.r.o.".into(),
        contact_person: "Jana Nováková".into(),
        address: Address {
            street: "Dlouhá 12".into(),
            postcode: "110 00".into(),
            city: "Praha".into(),
            country: "CZ".into(),
            gps: gps("50.0875100", "-14.4213"),
        },
        floor: "3".into(),
        flat: "12b".into(),
        id_number: "801017/1234".into(),
        birth_date: Some(date(1980, 10, 17)),
        company_id: "12345678".into(),
        vat_id: "CZ12345678".into(),
        email: "Jan.Novak@Example.cz".into(),
        invoice_email: "ucetni@novak.cz".into(),
        technical_email: "tech@novak.cz".into(),
        business_email: "obchod@novak.cz".into(),
        phone: "+420 777 123 456".into(),
        mobile: "+420 603 000 111".into(),
        fax: "+420 222 333 444".into(),
        website: "https://novak.example.cz".into(),
        groups: vec!["vip".into(), "wireless".into()],
        status: "non_payer".into(),
        installation_address: Some(Address {
            street: "Krátká 3".into(),
            postcode: "252 42".into(),
            city: "Jesenice".into(),
            country: "CZ".into(),
            gps: gps("49.9681", "14.5136"),
        }),
        bank_accounts: vec![
            BankAccount {
                number: "123456789/0800".into(),
                iban: "CZ6508000000192000145399".into(),
                bic: "GIBACZPX".into(),
            },
            BankAccount {
                number: String::new(),
                iban: "DE89370400440532013000".into(),
                bic: "COBADEFFXXX".into(),
            },
        ],
        contract_returned_on: Some(date(2024, 2, 1)),
        highlight: Some("Pays late; call before suspending".into()),
        invoicing: Invoicing {
            invoice_group: "corporate".into(),
            payment_type: "sipo".into(),
            billing_day: 15,
            due_days: Some(21),
            send_by_post: true,
            send_by_email: false,
            no_auto_reminders: true,
            proforma: true,
            never_suspend: true,
            suspend_after_days: Some(45),
            variable_symbols: vec!["2001".into(), "2002".into(), "2003".into()],
            opening_balance: dec("-1234.50"),
            sipo_number: "1234567890".into(),
        },
        no_bulk_email: true,
        contact_persons: vec![
            ContactPerson {
                name: "Petr Novák".into(),
                role: "accountant".into(),
                email: "petr@novak.cz".into(),
                phone: "+420 777 000 001".into(),
                note: "mornings only".into(),
            },
            ContactPerson {
                name: "Eva Nováková".into(),
                role: "technician".into(),
                email: String::new(),
                phone: "+420 777 000 002".into(),
                note: String::new(),
            },
        ],
        note: "Note for the client".into(),
        internal_note_1: "Internal one".into(),
        internal_note_2: "Internal two".into(),
        portal_login: "novak-portal".into(),
        version: 0,
    }
}

fn tariff(name: &str, price: &str) -> Tariff {
    Tariff {
        id: 0,
        name: name.into(),
        rate: Rate {
            download_kbps: 100_000,
            upload_kbps: 20_000,
        },
        burst: Some(Burst {
            rate: Rate {
                download_kbps: 150_000,
                upload_kbps: 30_000,
            },
            threshold: Rate {
                download_kbps: 80_000,
                upload_kbps: 15_000,
            },
            time_seconds: 16,
        }),
        price: dec(price),
        price_includes_vat: true,
        vat_rate: dec("21"),
        period: Period::Monthly,
        framed_pool: "customers".into(),
        note: "Flagship".into(),
        version: 0,
    }
}

fn subscription(activation: NaiveDate) -> Subscription {
    Subscription {
        id: 0,
        client_id: 0,
        tariff_id: 0,
        activation_date: activation,
        billing_from: activation,
        price_override: None,
        period: None,
        commitment_until: None,
        variable_symbol: String::new(),
        note: String::new(),
        state: SubscriptionState::Active,
        alignment: PeriodAlignment::BillingDay,
        end_date: None,
        version: 0,
    }
}

fn ppp_login(username: &str, subscription_id: i64) -> Login {
    Login {
        id: 0,
        username: username.into(),
        auth_type: AuthType::Ppp,
        mac: None,
        ipv4: None,
        ipv6_prefix: None,
        nas: Vec::new(),
        attributes: Vec::new(),
        subscription_id,
        disabled: false,
        note: String::new(),
        version: 0,
    }
}

fn nas(name: &str, address: &str) -> Nas {
    Nas {
        id: 0,
        name: name.into(),
        address: address.parse().expect("ip address"),
        vendor: NasVendor::Mikrotik,
        coa_port: 3799,
        require_message_authenticator: true,
        limit_proxy_state: false,
        note: "rack A".into(),
        version: 0,
    }
}

/// Creates client `number` with one subscription on "Fiber 100" (created when missing).
async fn subscribed_client(store: &Store, number: &str) -> SubscriptionRecord {
    store
        .create_client(
            &actor(),
            minimal_client(number, &format!("Client {number}")),
            today(),
        )
        .await
        .unwrap();
    if store.get_tariff("Fiber 100").await.is_err() {
        store
            .create_tariff(&actor(), tariff("Fiber 100", "499.90"))
            .await
            .unwrap();
    }
    store
        .create_subscription(
            &actor(),
            number,
            "Fiber 100",
            subscription(date(2026, 1, 1)),
            today(),
        )
        .await
        .unwrap()
}

/// Every client, in id order.
async fn all_clients(store: &Store) -> Vec<Client> {
    let page = PageRequest {
        size: 1000,
        after: None,
    };
    store
        .list_clients(&ClientFilter::default(), page)
        .await
        .unwrap()
        .items
}

/// Client numbers matching a filter, in id order (one page is plenty here).
async fn listed(store: &Store, filter: ClientFilter) -> Vec<String> {
    store
        .list_clients(&filter, PageRequest::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.number)
        .collect()
}

/// Search results as "number by field".
async fn found(store: &Store, query: &str) -> Vec<String> {
    store
        .search_clients(query, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|hit| format!("{} by {}", hit.client.number, hit.matched))
        .collect()
}

/// Reads one text column bypassing the Store, over a separate connection to its database.
async fn raw_text(store: &Store, sql: &'static str, key: &str) -> String {
    use sqlx::{ConnectOptions, Connection};
    let mut conn = store.pool.connect_options().connect().await.unwrap();
    let value: String = sqlx::query_scalar(sql)
        .bind(key.to_owned())
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    value
}

// Expected errors. Each names what it expected and shows what came instead.

#[track_caller]
fn expect_conflict<T: Debug>(result: StoreResult<T>, field: &str) {
    match result {
        Err(StoreError::Conflict { field: f, .. }) if f == field => {}
        other => panic!("expected a conflict on {field}, got {other:?}"),
    }
}

#[track_caller]
fn expect_invalid<T: Debug>(result: StoreResult<T>, field: &str) {
    match result {
        Err(StoreError::Invalid(e)) if e.field == field => {}
        other => panic!("expected {field} to be refused as invalid, got {other:?}"),
    }
}

#[track_caller]
fn expect_stale<T: Debug>(result: StoreResult<T>) {
    match result {
        Err(StoreError::Stale { .. }) => {}
        other => panic!("expected a stale-version error, got {other:?}"),
    }
}

#[track_caller]
fn expect_precondition<T: Debug>(result: StoreResult<T>) {
    match result {
        Err(StoreError::Precondition(_)) => {}
        other => panic!("expected a refused precondition, got {other:?}"),
    }
}

#[track_caller]
fn expect_not_found<T: Debug>(result: StoreResult<T>) {
    match result {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("expected not found, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

async fn client_round_trip(store: Store) {
    create_full_client_codes(&store).await;
    let sent = full_client();
    let (created, warnings) = store
        .create_client(&actor(), sent.clone(), today())
        .await
        .unwrap();
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

async fn duplicate_client_number_conflicts(store: Store) {
    store
        .create_client(&actor(), minimal_client("1001", "Novák Jan"), today())
        .await
        .unwrap();
    let mut second = minimal_client("1001", "Svoboda Petr");
    second.invoicing.variable_symbols = vec!["777".into()];
    expect_conflict(
        store.create_client(&actor(), second, today()).await,
        "client.number",
    );

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

async fn client_numbers_are_proposed(store: Store) {
    assert_eq!(store.next_client_number().await.unwrap(), "1");
    let (first, _) = store
        .create_client(&actor(), minimal_client("", "First"), today())
        .await
        .unwrap();
    assert_eq!(first.number, "1");
    assert_eq!(
        first.portal_login, "1",
        "the portal login defaults to the number"
    );
    let (second, _) = store
        .create_client(&actor(), minimal_client("", "Second"), today())
        .await
        .unwrap();
    assert_eq!(second.number, "2");
    assert_eq!(store.get_client("2").await.unwrap().name, "Second");

    store
        .create_client(&actor(), minimal_client("1041", "By hand"), today())
        .await
        .unwrap();
    assert_eq!(store.next_client_number().await.unwrap(), "1042");
    store
        .create_client(&actor(), minimal_client("A-7", "Lettered"), today())
        .await
        .unwrap();
    assert_eq!(store.next_client_number().await.unwrap(), "1042");
    let (next, _) = store
        .create_client(&actor(), minimal_client("", "Next"), today())
        .await
        .unwrap();
    assert_eq!(next.number, "1042");
}

async fn duplicate_identifiers_warn(store: Store) {
    let mut first = minimal_client("1", "First");
    first.id_number = "801017/1234".into();
    first.company_id = "12345678".into();
    let (_, warnings) = store.create_client(&actor(), first, today()).await.unwrap();
    assert!(warnings.is_empty());

    let mut same_id = minimal_client("2", "Same ID card");
    same_id.id_number = "801017/1234".into();
    let (_, warnings) = store
        .create_client(&actor(), same_id, today())
        .await
        .unwrap();
    assert_eq!(
        warnings,
        [Duplicate {
            field: "id_number",
            other_client: "1".into()
        }]
    );

    let mut same_company = minimal_client("3", "Same company");
    same_company.company_id = "12345678".into();
    let (_, warnings) = store
        .create_client(&actor(), same_company, today())
        .await
        .unwrap();
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

async fn variable_symbols_are_unique_and_limited(store: Store) {
    let mut owner = minimal_client("1", "Owner");
    owner.invoicing.variable_symbols = vec!["2001".into()];
    let (owner, _) = store.create_client(&actor(), owner, today()).await.unwrap();

    let mut taker = minimal_client("2", "Taker");
    taker.invoicing.variable_symbols = vec!["2001".into()];
    expect_conflict(
        store.create_client(&actor(), taker.clone(), today()).await,
        "client.invoicing.variable_symbols[0]",
    );
    taker.invoicing.variable_symbols = vec!["3001".into(), "2001".into()];
    expect_conflict(
        store.create_client(&actor(), taker.clone(), today()).await,
        "client.invoicing.variable_symbols[1]",
    );
    expect_not_found(store.get_client("2").await);

    taker.invoicing.variable_symbols = ["1", "2", "3", "4"].map(String::from).to_vec();
    expect_invalid(
        store.create_client(&actor(), taker, today()).await,
        "client.invoicing.variable_symbols",
    );

    // The owner keeps its own symbol through an update.
    let mut edited = owner.clone();
    edited.note = "still mine".into();
    let (edited, _) = store
        .update_client(&actor(), edited, today())
        .await
        .unwrap();
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

async fn client_validation(store: Store) {
    type Edit = fn(&mut Client);
    let cases: [(Edit, &str); 7] = [
        (|c| c.name.clear(), "client.name"),
        (|c| c.address.street.clear(), "client.address.street"),
        (|c| c.address.postcode.clear(), "client.address.postcode"),
        (|c| c.address.city = "  ".into(), "client.address.city"),
        (|c| c.email = "novak@".into(), "client.email"),
        (|c| c.status = "gone".into(), "client.status"),
        (
            |c| c.invoicing.opening_balance = dec("0.005"),
            "client.invoicing.opening_balance",
        ),
    ];
    for (edit, field) in cases {
        let mut client = minimal_client("1", "Novák Jan");
        edit(&mut client);
        expect_invalid(store.create_client(&actor(), client, today()).await, field);
    }
    assert!(all_clients(&store).await.is_empty());
}

async fn client_update_versions_and_audit(store: Store) {
    let (created, _) = store
        .create_client(&actor(), minimal_client("1001", "Novák Jan"), today())
        .await
        .unwrap();
    let mut edit = created.clone();
    edit.name = "Nováková Jana".into();
    let (updated, _) = store
        .update_client(&actor(), edit.clone(), today())
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    let stored = store.get_client("1001").await.unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.name, "Nováková Jana");

    // The same edit again is based on version 1, which is gone.
    edit.name = "Lost update".into();
    expect_stale(store.update_client(&actor(), edit, today()).await);
    assert_eq!(
        store.get_client("1001").await.unwrap().name,
        "Nováková Jana"
    );

    let filter = AuditFilter {
        client_number: "1001".into(),
        ..AuditFilter::default()
    };
    let audit = store
        .list_audit(&filter, PageRequest::default())
        .await
        .unwrap()
        .items;
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
async fn client_update_replaces_everything(store: Store) {
    create_full_client_codes(&store).await;
    let (full, _) = store
        .create_client(&actor(), full_client(), today())
        .await
        .unwrap();

    let mut bare = minimal_client("1001", "Novák Jan");
    bare.version = full.version;
    let (updated, _) = store
        .update_client(&actor(), bare.clone(), today())
        .await
        .unwrap();
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
    store.create_client(&actor(), other, today()).await.unwrap();
    let mut again = full_client();
    again.version = 2;
    expect_conflict(
        store.update_client(&actor(), again.clone(), today()).await,
        "client.invoicing.variable_symbols[0]",
    );
    assert_eq!(store.get_client("1001").await.unwrap(), expected);

    again.invoicing.variable_symbols = vec!["2003".into(), "2002".into()];
    store
        .update_client(&actor(), again.clone(), today())
        .await
        .unwrap();
    again.id = full.id;
    again.version = 3;
    assert_eq!(store.get_client("1001").await.unwrap(), again);
    expect_not_found(
        store
            .update_client(&actor(), minimal_client("9999", "Nobody"), today())
            .await,
    );
}

async fn list_clients_filters_and_pages(store: Store) {
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
        store
            .create_client(&actor(), client, today())
            .await
            .unwrap();
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
async fn list_clients_name_filter_is_literal(store: Store) {
    for (number, name) in [("1", "100% Net"), ("2", "Net_Works"), ("3", "NetWorks 100")] {
        store
            .create_client(&actor(), minimal_client(number, name), today())
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

async fn search_clients_finds_by_every_identifier(store: Store) {
    let mut novak = minimal_client("1001", "Novák Jan");
    novak.invoicing.variable_symbols = vec!["2001".into()];
    novak.email = "Jan.Novak@Example.cz".into();
    novak.phone = "+420 777 123 456".into();
    novak.mobile = "603000111".into();
    store.create_client(&actor(), novak, today()).await.unwrap();
    let mut svoboda = minimal_client("1002", "Svoboda Petr");
    svoboda.email = "petr@svoboda.cz".into();
    svoboda.phone = "+420 777 999 999".into();
    store
        .create_client(&actor(), svoboda, today())
        .await
        .unwrap();

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

async fn delete_client_only_without_subscriptions(store: Store) {
    subscribed_client(&store, "1").await;
    expect_precondition(store.delete_client(&actor(), "1").await);
    assert_eq!(store.get_client("1").await.unwrap().number, "1");

    let mut contact = minimal_client("2", "Just a contact");
    contact.invoicing.variable_symbols = vec!["4001".into()];
    store
        .create_client(&actor(), contact, today())
        .await
        .unwrap();
    store.delete_client(&actor(), "2").await.unwrap();
    expect_not_found(store.get_client("2").await);
    expect_not_found(store.delete_client(&actor(), "2").await);
    let filter = AuditFilter {
        client_number: "2".into(),
        ..AuditFilter::default()
    };
    let audit = store
        .list_audit(&filter, PageRequest::default())
        .await
        .unwrap()
        .items;
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
    store.create_client(&actor(), heir, today()).await.unwrap();
    assert_eq!(all_clients(&store).await.len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Concurrency: operators working at the same time
// ---------------------------------------------------------------------------------------------

/// Runs `count` copies of a store operation at the same time (the pool has 4 connections).
async fn at_once<T, F, Fut>(store: &Store, count: usize, operation: F) -> Vec<StoreResult<T>>
where
    T: Send + 'static,
    F: Fn(Store, usize) -> Fut,
    Fut: Future<Output = StoreResult<T>> + Send + 'static,
{
    let tasks: Vec<_> = (0..count)
        .map(|i| tokio::spawn(operation(store.clone(), i)))
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("task"));
    }
    results
}

/// Of concurrent edits based on the same version exactly one succeeds; the others are Stale.
#[track_caller]
fn one_winner<T: Debug>(results: Vec<StoreResult<T>>) -> T {
    let mut winners = Vec::new();
    for result in results {
        match result {
            Ok(won) => winners.push(won),
            Err(StoreError::Stale { .. }) => {}
            Err(e) => panic!("expected success or Stale, got {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one edit may win");
    winners.pop().unwrap()
}

// BUG: SQLite fails with Database(SqliteError { code: 5, "database is locked" }). Every write
// method starts a DEFERRED transaction (`self.pool.begin()`), reads (its checks), then writes;
// in WAL mode the read-to-write upgrade fails at once with SQLITE_BUSY when another connection
// wrote meanwhile, and busy_timeout does not apply. Fix: begin write transactions with
// `self.pool.begin_with("BEGIN IMMEDIATE")` on SQLite (plain `begin()` on PostgreSQL).
/// Operators saving at the same time: every save lands, none is refused.
async fn concurrent_client_creates(store: Store) {
    let results = at_once(&store, 8, |store, i| async move {
        let client = minimal_client(&(i + 1).to_string(), "Parallel");
        store.create_client(&actor(), client, today()).await
    })
    .await;
    for result in results {
        result.unwrap();
    }
    assert_eq!(all_clients(&store).await.len(), 8);
}

// BUG: SQLite fails with "database is locked", as in `concurrent_client_creates`.
/// Two operators saving the same client: one wins, the others are told it changed (Stale).
async fn concurrent_updates_of_one_client(store: Store) {
    let (client, _) = store
        .create_client(&actor(), minimal_client("1", "Original"), today())
        .await
        .unwrap();
    let results = at_once(&store, 4, move |store, i| {
        let mut edit = client.clone();
        edit.name = format!("Edit {i}");
        async move { store.update_client(&actor(), edit, today()).await }
    })
    .await;
    let winner = one_winner(results).0;
    let stored = store.get_client("1").await.unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.name, winner.name);
}

// BUG: both backends fail: create_client proposes MAX(number_numeric) + 1 inside its transaction,
// but nothing stops two transactions from proposing the same number. PostgreSQL: the loser
// gets Conflict on client.number; SQLite: "database is locked" (see above). Fix: on PostgreSQL
// `LOCK TABLE client IN SHARE ROW EXCLUSIVE MODE` before propose_number when the number is
// empty (client.rs, create_client); on SQLite BEGIN IMMEDIATE already serialises writers.
/// Clients created at the same time without a number all get one, each a different one.
async fn concurrent_auto_numbers(store: Store) {
    let results = at_once(&store, 8, |store, _| async move {
        store
            .create_client(&actor(), minimal_client("", "Parallel"), today())
            .await
    })
    .await;
    let mut numbers: Vec<u32> = results
        .into_iter()
        .map(|r| r.unwrap().0.number.parse().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6, 7, 8]);
}

// Lost updates (the four tests below). PostgreSQL lets several of the edits succeed:
// update_tariff, update_subscription, update_login and update_nas compare versions only in Rust
// after a plain SELECT; concurrent editors all read version 1 and all write. Fix: add
// `AND version = $n` (the version read) to their UPDATE's WHERE and return Stale when no row
// was updated, as update_client does. On SQLite they fail with "database is locked" instead,
// see `concurrent_client_creates`.

// BUG: PostgreSQL lost update, SQLite "database is locked"; see the note above.
/// Concurrent edits of one tariff: one wins, the others are Stale.
async fn concurrent_tariff_updates(store: Store) {
    let tariff = store
        .create_tariff(&actor(), tariff("Fiber 100", "499.90"))
        .await
        .unwrap();
    let results = at_once(&store, 4, move |store, i| {
        let mut edit = tariff.clone();
        edit.note = format!("edit {i}");
        async move { store.update_tariff(&actor(), edit).await }
    })
    .await;
    let winner = one_winner(results);
    assert_eq!(store.get_tariff("Fiber 100").await.unwrap(), winner);
}

// BUG: PostgreSQL lost update, SQLite "database is locked"; see the note above.
/// Concurrent edits of one subscription: one wins, the others are Stale.
async fn concurrent_subscription_updates(store: Store) {
    let subscription = subscribed_client(&store, "1").await.subscription;
    let results = at_once(&store, 4, move |store, i| {
        let mut edit = subscription.clone();
        edit.note = format!("edit {i}");
        async move { store.update_subscription(&actor(), "Fiber 100", edit).await }
    })
    .await;
    let winner = one_winner(results);
    let id = winner.subscription.id;
    assert_eq!(store.get_subscription(id).await.unwrap(), winner);
}

// BUG: PostgreSQL lost update, SQLite "database is locked"; see the note above.
/// Concurrent edits of one login: one wins, the others are Stale.
async fn concurrent_login_updates(store: Store) {
    let sub = subscribed_client(&store, "1").await.subscription.id;
    let login = store
        .create_login(&actor(), ppp_login("novak", sub), "pw-1")
        .await
        .unwrap()
        .login;
    let results = at_once(&store, 4, move |store, i| {
        let mut edit = login.clone();
        edit.note = format!("edit {i}");
        async move { store.update_login(&actor(), edit, None).await }
    })
    .await;
    let winner = one_winner(results);
    assert_eq!(store.get_login("novak").await.unwrap(), winner);
}

// BUG: PostgreSQL lost update, SQLite "database is locked"; see the note above.
/// Concurrent edits of one NAS: one wins, the others are Stale.
async fn concurrent_nas_updates(store: Store) {
    let nas = store
        .create_nas(&actor(), nas("core-1", "192.0.2.1"), "xyzzy5461-secret")
        .await
        .unwrap();
    let results = at_once(&store, 4, move |store, i| {
        let mut edit = nas.clone();
        edit.note = format!("edit {i}");
        async move { store.update_nas(&actor(), edit, None).await }
    })
    .await;
    let winner = one_winner(results);
    assert_eq!(store.get_nas("core-1").await.unwrap(), winner);
}

/// Opening balances (BIGINT minor units) come back exactly, at both ends of the range.
async fn money_round_trips_exactly(store: Store) {
    for (number, amount) in [("1", "0.01"), ("2", "-99999999.99"), ("3", "99999999.99")] {
        let mut client = minimal_client(number, "Money");
        client.invoicing.opening_balance = dec(amount);
        store
            .create_client(&actor(), client, today())
            .await
            .unwrap();
        let stored = store.get_client(number).await.unwrap();
        assert_eq!(stored.invoicing.opening_balance, dec(amount));
        assert_eq!(stored.invoicing.opening_balance.to_string(), amount);
    }
    let stored = store
        .create_tariff(&actor(), tariff("Cheap", "0.01"))
        .await
        .unwrap();
    assert_eq!(stored.price.to_string(), "0.01");
}

// ---------------------------------------------------------------------------------------------
// Tariffs and subscriptions
// ---------------------------------------------------------------------------------------------

async fn tariffs(store: Store) {
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
        .create_client(&actor(), minimal_client("1", "User"), today())
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

async fn subscriptions(store: Store) {
    store
        .create_client(&actor(), minimal_client("1", "One"), today())
        .await
        .unwrap();
    store
        .create_client(&actor(), minimal_client("2", "Two"), today())
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

    let mut early = subscription(date(2026, 12, 1));
    early.billing_from = date(2026, 11, 30);
    expect_invalid(
        store
            .create_subscription(&actor(), "1", "Fiber 100", early, today())
            .await,
        "subscription.billing_from",
    );
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

    let ids = |page: Page<SubscriptionRecord>| -> Vec<i64> {
        page.items.iter().map(|r| r.subscription.id).collect()
    };
    let of_one = SubscriptionFilter {
        client_number: "1".into(),
        ..SubscriptionFilter::default()
    };
    assert_eq!(
        ids(store
            .list_subscriptions(&of_one, PageRequest::default())
            .await
            .unwrap()),
        [future.subscription.id, past.subscription.id]
    );
    let active = SubscriptionFilter {
        state: Some(SubscriptionState::Active),
        ..SubscriptionFilter::default()
    };
    assert_eq!(
        ids(store
            .list_subscriptions(&active, PageRequest::default())
            .await
            .unwrap()),
        [past.subscription.id, same_day.subscription.id]
    );
    let pending_of_two = SubscriptionFilter {
        client_number: "2".into(),
        state: Some(SubscriptionState::NotYetActive),
        ..SubscriptionFilter::default()
    };
    assert_eq!(
        ids(store
            .list_subscriptions(&pending_of_two, PageRequest::default())
            .await
            .unwrap()),
        [tomorrow.subscription.id]
    );

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

// ---------------------------------------------------------------------------------------------
// Logins and NAS
// ---------------------------------------------------------------------------------------------

async fn logins(store: Store) {
    let sub = subscribed_client(&store, "1001").await.subscription.id;
    let other_sub = subscribed_client(&store, "1002").await.subscription.id;

    let mut sent = ppp_login("novak", sub);
    sent.ipv4 = Some("10.0.0.5".parse().unwrap());
    sent.ipv6_prefix = Some("2001:db8:100::/56".parse().unwrap());
    sent.nas = vec!["core-2".into(), "core-1".into()];
    sent.attributes = vec![ExtraAttribute {
        name: "Mikrotik-Rate-Limit".into(),
        value: "10M/10M".into(),
    }];
    sent.note = "flat 12".into();
    let created = store
        .create_login(&actor(), sent.clone(), "s3cret-Pass")
        .await
        .unwrap();
    assert_eq!(created.client_number, "1001");
    assert_eq!(created.login.version, 1);
    assert_eq!(
        created.login.nas,
        ["core-1", "core-2"],
        "NAS list is sorted"
    );
    assert_eq!(store.get_login("novak").await.unwrap(), created);
    let mut expected = sent;
    expected.id = created.login.id;
    expected.version = 1;
    expected.nas.sort();
    assert_eq!(created.login, expected);

    assert_eq!(store.login_password("novak").await.unwrap(), "s3cret-Pass");
    let sealed = raw_text(
        &store,
        "SELECT password_sealed FROM login WHERE username = $1",
        "novak",
    )
    .await;
    assert!(
        !sealed.contains("s3cret-Pass"),
        "password stored in clear: {sealed}"
    );
    assert!(!sealed.is_empty());

    expect_conflict(
        store
            .create_login(&actor(), ppp_login("novak", other_sub), "pw")
            .await,
        "login.username",
    );
    let mut same_ip = ppp_login("other", other_sub);
    same_ip.ipv4 = Some("10.0.0.5".parse().unwrap());
    expect_conflict(
        store.create_login(&actor(), same_ip, "pw").await,
        "login.ipv4",
    );
    let mut same_prefix = ppp_login("other", other_sub);
    same_prefix.ipv6_prefix = Some("2001:db8:100::/56".parse().unwrap());
    expect_conflict(
        store.create_login(&actor(), same_prefix, "pw").await,
        "login.ipv6_prefix",
    );
    expect_not_found(
        store
            .create_login(&actor(), ppp_login("orphan", 9999), "pw")
            .await,
    );
    let mut no_mac = ppp_login("dhcp", sub);
    no_mac.auth_type = AuthType::Mac;
    expect_invalid(
        store.create_login(&actor(), no_mac, "pw").await,
        "login.mac",
    );
    expect_not_found(store.get_login("other").await);
    expect_not_found(store.get_login("dhcp").await);

    let mut dhcp = ppp_login("", sub);
    dhcp.auth_type = AuthType::Mac;
    dhcp.mac = Some("AA-BB-CC-DD-EE-FF".parse().unwrap());
    let dhcp = store.create_login(&actor(), dhcp, "mac-pw").await.unwrap();
    assert_eq!(dhcp.login.username, "aa:bb:cc:dd:ee:ff");
    assert_eq!(
        store
            .get_login("aa:bb:cc:dd:ee:ff")
            .await
            .unwrap()
            .login
            .mac,
        dhcp.login.mac
    );

    // A new password replaces the old one; without one the old one stays.
    let mut edit = created.login.clone();
    edit.note = "moved".into();
    let updated = store
        .update_login(&actor(), edit, Some("n3w-Pass"))
        .await
        .unwrap();
    assert_eq!(updated.login.version, 2);
    assert_eq!(store.login_password("novak").await.unwrap(), "n3w-Pass");
    let mut edit = updated.login.clone();
    edit.disabled = true;
    let updated = store.update_login(&actor(), edit, None).await.unwrap();
    assert!(updated.login.disabled);
    assert_eq!(store.login_password("novak").await.unwrap(), "n3w-Pass");
    expect_stale(
        store
            .update_login(&actor(), created.login.clone(), None)
            .await,
    );

    let usernames = |client: &'static str| {
        let store = store.clone();
        async move {
            store
                .list_logins(client, None, PageRequest::default())
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|r| r.login.username)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(usernames("1001").await, ["novak", "aa:bb:cc:dd:ee:ff"]);
    assert!(usernames("1002").await.is_empty());

    store.delete_login(&actor(), "novak").await.unwrap();
    expect_not_found(store.get_login("novak").await);
    expect_not_found(store.login_password("novak").await);
}

async fn nas_entries(store: Store) {
    let secret = "xyzzy5461-secret";
    let created = store
        .create_nas(&actor(), nas("core-1", "192.0.2.1"), secret)
        .await
        .unwrap();
    assert!(created.id > 0);
    assert_eq!(created.version, 1);
    let mut expected = nas("core-1", "192.0.2.1");
    expected.id = created.id;
    expected.version = 1;
    assert_eq!(created, expected);
    assert_eq!(store.get_nas("core-1").await.unwrap(), created);

    let sealed = raw_text(
        &store,
        "SELECT secret_sealed FROM nas WHERE name = $1",
        "core-1",
    )
    .await;
    assert!(!sealed.contains(secret), "secret stored in clear: {sealed}");
    assert_eq!(
        store.nas_with_secrets().await.unwrap(),
        [(created.clone(), secret.to_owned())]
    );

    expect_conflict(
        store
            .create_nas(&actor(), nas("core-2", "192.0.2.1"), secret)
            .await,
        "nas.address",
    );
    expect_conflict(
        store
            .create_nas(&actor(), nas("core-1", "192.0.2.2"), secret)
            .await,
        "nas.name",
    );
    expect_not_found(store.get_nas("core-2").await);
    let second = store
        .create_nas(&actor(), nas("core-2", "192.0.2.2"), secret)
        .await
        .unwrap();
    let mut onto_first = second.clone();
    onto_first.address = created.address;
    expect_conflict(
        store.update_nas(&actor(), onto_first, None).await,
        "nas.address",
    );
    store.delete_nas(&actor(), "core-2").await.unwrap();

    let mut edit = created.clone();
    edit.note = "rack B".into();
    edit.limit_proxy_state = true;
    let updated = store.update_nas(&actor(), edit, None).await.unwrap();
    assert_eq!(updated.version, 2);
    assert!(updated.limit_proxy_state);
    assert_eq!(store.get_nas("core-1").await.unwrap(), updated);
    assert_eq!(store.nas_with_secrets().await.unwrap()[0].1, secret);
    let mut edit = updated.clone();
    edit.address = "2001:db8::1".parse().unwrap();
    let updated = store
        .update_nas(&actor(), edit, Some("another-secret-42"))
        .await
        .unwrap();
    assert_eq!(
        store.nas_with_secrets().await.unwrap(),
        [(updated.clone(), "another-secret-42".to_owned())]
    );
    expect_stale(store.update_nas(&actor(), created, None).await);

    store.delete_nas(&actor(), "core-1").await.unwrap();
    expect_not_found(store.get_nas("core-1").await);
    assert!(store.nas_with_secrets().await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Code lists
// ---------------------------------------------------------------------------------------------

async fn code_lists(store: Store) {
    let codes = |list: CodeList| {
        let store = store.clone();
        async move {
            store
                .list_codes(list)
                .await
                .unwrap()
                .into_iter()
                .map(|(code, _)| code)
                .collect::<Vec<_>>()
        }
    };
    let statuses = codes(CodeList::ClientStatus).await;
    for code in ["connected", "non_payer"] {
        assert!(statuses.iter().any(|c| c == code), "{code} in {statuses:?}");
    }
    let payment_types = codes(CodeList::PaymentType).await;
    for code in ["bank_transfer", "sipo"] {
        assert!(
            payment_types.iter().any(|c| c == code),
            "{code} in {payment_types:?}"
        );
    }
    let groups = store.invoice_groups().await.unwrap();
    assert!(
        groups.iter().any(|g| g.code == "default"),
        "the migrated default invoice group: {groups:?}"
    );

    store
        .put_code(&actor(), CodeList::ClientGroup, "vip", "VIP")
        .await
        .unwrap();
    store
        .put_code(&actor(), CodeList::ClientGroup, "vip", "VIP customers")
        .await
        .unwrap();
    assert_eq!(
        store.list_codes(CodeList::ClientGroup).await.unwrap(),
        [("vip".to_owned(), "VIP customers".to_owned())]
    );
    expect_invalid(
        store
            .put_code(&actor(), CodeList::ClientGroup, "Bad Code", "Bad")
            .await,
        "code.code",
    );
    expect_invalid(
        store
            .put_code(&actor(), CodeList::ClientGroup, "empty", " ")
            .await,
        "code.label",
    );

    let mut client = minimal_client("1", "Grouped");
    client.groups = vec!["vip".into()];
    let (client, _) = store
        .create_client(&actor(), client, today())
        .await
        .unwrap();
    expect_precondition(
        store
            .delete_code(&actor(), CodeList::ClientGroup, "vip")
            .await,
    );
    expect_precondition(
        store
            .delete_code(&actor(), CodeList::ClientStatus, "connected")
            .await,
    );
    expect_precondition(
        store
            .delete_code(&actor(), CodeList::PaymentType, "bank_transfer")
            .await,
    );
    assert!(
        codes(CodeList::ClientGroup)
            .await
            .contains(&"vip".to_owned())
    );

    // Once no client uses it, the code can go.
    let mut ungrouped = client;
    ungrouped.groups.clear();
    store
        .update_client(&actor(), ungrouped, today())
        .await
        .unwrap();
    store
        .delete_code(&actor(), CodeList::ClientGroup, "vip")
        .await
        .unwrap();
    assert!(codes(CodeList::ClientGroup).await.is_empty());
    expect_not_found(
        store
            .delete_code(&actor(), CodeList::ClientGroup, "vip")
            .await,
    );
    let mut client = minimal_client("2", "Gone group");
    client.groups = vec!["vip".into()];
    expect_invalid(
        store.create_client(&actor(), client, today()).await,
        "client.groups",
    );
}

// ---------------------------------------------------------------------------------------------
// Persistence
// ---------------------------------------------------------------------------------------------

/// Closing and reopening the database keeps everything; migrations re-run harmlessly.
async fn reopened_store_keeps_data(store: Store, url: String) {
    create_full_client_codes(&store).await;
    let (client, _) = store
        .create_client(&actor(), full_client(), today())
        .await
        .unwrap();
    let nas = store
        .create_nas(&actor(), nas("core-1", "192.0.2.1"), "xyzzy5461-secret")
        .await
        .unwrap();
    let statuses = store.list_codes(CodeList::ClientStatus).await.unwrap();
    store.close().await;

    let reopened = Store::open(&url, 4, sealer()).await.expect("reopen");
    assert_eq!(reopened.get_client("1001").await.unwrap(), client);
    assert_eq!(
        reopened.nas_with_secrets().await.unwrap(),
        [(nas, "xyzzy5461-secret".to_owned())]
    );
    assert_eq!(
        reopened.list_codes(CodeList::ClientStatus).await.unwrap(),
        statuses
    );
    assert_eq!(reopened.next_client_number().await.unwrap(), "1002");
    reopened.close().await;
}

/// A variable symbol must lead a payment to one client: a client number, assigned symbols
/// and service symbols may not collide across clients.
async fn variable_symbols_name_one_client(store: Store) {
    let first = subscribed_client(&store, "1001").await;
    let mut second = minimal_client("1002", "Druhý");
    second.invoicing.variable_symbols = vec!["1001".into()];
    expect_conflict(
        store.create_client(&actor(), second.clone(), today()).await,
        "client.invoicing.variable_symbols[0]",
    );
    second.invoicing.variable_symbols = vec!["5555".into()];
    store
        .create_client(&actor(), second, today())
        .await
        .unwrap();
    // A service symbol equal to another client's assigned symbol is refused...
    let mut sub = first.subscription.clone();
    sub.variable_symbol = "5555".into();
    expect_conflict(
        store
            .update_subscription(&actor(), &first.tariff_name, sub.clone())
            .await,
        "subscription.variable_symbol",
    );
    // ...and a client number equal to another client's service symbol too.
    sub.variable_symbol = "7777".into();
    store
        .update_subscription(&actor(), &first.tariff_name, sub)
        .await
        .unwrap();
    expect_conflict(
        store
            .create_client(&actor(), minimal_client("7777", "Třetí"), today())
            .await,
        "client.number",
    );
}

// ---------------------------------------------------------------------------------------------
// The RADIUS side: access rows and accounting batches
// ---------------------------------------------------------------------------------------------

async fn access_rows_follow_the_records(store: Store) {
    use super::AccessScope;
    let sub = subscribed_client(&store, "1001").await.subscription.id;
    let mut login = ppp_login("novak", sub);
    login.ipv4 = Some("10.0.0.5".parse().unwrap());
    login.nas = vec!["core-1".into()];
    let created = store
        .create_login(&actor(), login, "arctangent")
        .await
        .unwrap();
    subscribed_client(&store, "1002").await;
    let rows = store.access_rows(&AccessScope::All).await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.username, "novak");
    assert_eq!(row.password, "arctangent", "opened for CHAP and MS-CHAPv2");
    assert_eq!(row.ipv4, Some("10.0.0.5".parse().unwrap()));
    assert_eq!(row.nas, ["core-1"]);
    assert_eq!(row.client_number, "1001");
    assert_eq!(row.subscription_id, sub);
    assert!(
        !format!("{row:?}").contains("arctangent"),
        "Debug redacts the password"
    );
    for scope in [
        AccessScope::Login(created.login.id),
        AccessScope::Subscription(sub),
        AccessScope::Client("1001".into()),
        AccessScope::Tariff(row.tariff_id),
    ] {
        assert_eq!(
            store.access_rows(&scope).await.unwrap().len(),
            1,
            "{scope:?}"
        );
    }
    assert!(
        store
            .access_rows(&AccessScope::Client("1002".into()))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn accounting_batches_store_sessions_once(store: Store) {
    use super::{AcctItem, Partition, SessionMemory};
    use ispd_provisioning::accounting::{AcctRecord, Counters, StatusType};
    let sub = subscribed_client(&store, "1001").await.subscription.id;
    let login = store
        .create_login(&actor(), ppp_login("novak", sub), "pw-123456")
        .await
        .unwrap()
        .login
        .id;
    let at = |minute: u32| {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(10, minute, 0)
            .unwrap()
            .and_utc()
    };
    let item = |status, minute, seconds: u64, input: u64| AcctItem {
        nas_name: "bras".into(),
        login_id: Some(login),
        record: AcctRecord {
            status,
            acct_session_id: "s1".into(),
            username: "novak".into(),
            login_id: Some(login),
            framed_ip: None,
            calling_station: None,
            nas_port: None,
            event_time: at(minute),
            session_seconds: seconds,
            counters: Counters {
                input_octets: input,
                output_octets: input * 4,
                input_packets: 0,
                output_packets: 0,
            },
            terminate_cause: None,
        },
    };
    let partition = Partition { index: 0, count: 1 };
    let mut memory = SessionMemory::new(partition);
    // Start and Interim in one batch, the Interim retransmitted in the next batch, then a
    // Stop from a writer that remembers nothing (as after a restart).
    let changes = store
        .apply_accounting(
            &[
                item(StatusType::Start, 0, 0, 0),
                item(StatusType::InterimUpdate, 5, 300, 1000),
            ],
            &mut memory,
        )
        .await
        .unwrap();
    assert_eq!(changes, [(login, 1)]);
    store
        .apply_accounting(
            &[item(StatusType::InterimUpdate, 5, 300, 1000)],
            &mut memory,
        )
        .await
        .unwrap();
    let mut fresh = SessionMemory::new(partition);
    let changes = store
        .apply_accounting(&[item(StatusType::Stop, 10, 600, 1500)], &mut fresh)
        .await
        .unwrap();
    assert_eq!(changes, [(login, -1)]);
    let open = store
        .open_sessions(&Default::default(), Default::default())
        .await
        .unwrap();
    assert!(open.items.is_empty());
    let history = store
        .session_history("novak", Default::default())
        .await
        .unwrap();
    assert_eq!(
        history.items.len(),
        1,
        "one session, however often it was reported"
    );
    let session = &history.items[0];
    assert_eq!((session.input_octets, session.output_octets), (1500, 6000));
    assert_eq!(session.session_seconds, 600);
    assert!(session.stopped_at.is_some());
    let day = at(0).with_timezone(&chrono::Local).date_naive();
    let usage = store.daily_usage("novak", day, day).await.unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(
        (usage[0].input_octets, usage[0].output_octets),
        (1500, 6000),
        "counted once"
    );
    assert_eq!(usage[0].session_seconds, 600);
    // Accounting-On closes what is open and reports it.
    let mut start = item(StatusType::Start, 20, 0, 0);
    start.record.acct_session_id = "s2".into();
    store.apply_accounting(&[start], &mut memory).await.unwrap();
    let mut on = item(StatusType::AccountingOn, 30, 0, 0);
    on.record.acct_session_id.clear();
    let changes = store.apply_accounting(&[on], &mut memory).await.unwrap();
    assert_eq!(changes, [(login, -1)]);
    assert_eq!(store.open_session_counts().await.unwrap().get(&login), None);
}

// ---------------------------------------------------------------------------------------------
// Invoice groups and one-off charges
// ---------------------------------------------------------------------------------------------

/// A group with every field set to something other than its default.
fn full_invoice_group(code: &str) -> InvoiceGroup {
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
async fn audit_actions(store: &Store, entity: &str) -> Vec<String> {
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
async fn issue_empty_invoice(store: &Store, client_number: &str, group: &str) -> i64 {
    let client = store.get_client(client_number).await.unwrap();
    let head = super::ClientHead {
        client_id: client.id,
        client_number: client.number.clone(),
        client_name: client.name.clone(),
        invoice_group: group.into(),
    };
    let mut draft = InvoiceDraft::empty(super::DocumentKind::Invoice, &head, today());
    draft.currency = "CZK".into();
    store
        .issue_document(&actor(), &draft)
        .await
        .unwrap()
        .expect("nothing billed these periods before")
        .id
}

async fn invoice_groups_round_trip(store: Store) {
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
    let mut bad = InvoiceGroup::new("bad", "Bad");
    bad.number_formats.invoice = Some("{year}".into());
    expect_invalid(
        store.create_invoice_group(&actor(), bad).await,
        "invoice_group.invoice_number_format",
    );
    let mut bad = InvoiceGroup::new("bad", "Bad");
    bad.iban = "CZ6508000000192000145390".into();
    expect_invalid(
        store.create_invoice_group(&actor(), bad).await,
        "invoice_group.iban",
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

async fn invoice_group_delete_refused_while_used(store: Store) {
    for code in ["branch", "old"] {
        store
            .create_invoice_group(&actor(), InvoiceGroup::new(code, "Branch"))
            .await
            .unwrap();
    }
    let mut client = minimal_client("1001", "Branch client");
    client.invoicing.invoice_group = "branch".into();
    let (client, _) = store
        .create_client(&actor(), client, today())
        .await
        .unwrap();
    expect_precondition(store.delete_invoice_group(&actor(), "branch").await);
    assert!(store.invoice_group("branch").await.is_ok());

    // An issued document keeps its group even when no client is in it any more.
    issue_empty_invoice(&store, "1001", "old").await;
    expect_precondition(store.delete_invoice_group(&actor(), "old").await);

    let mut moved = client;
    moved.invoicing.invoice_group = "default".into();
    store.update_client(&actor(), moved, today()).await.unwrap();
    store
        .delete_invoice_group(&actor(), "branch")
        .await
        .unwrap();
    expect_not_found(store.invoice_group("branch").await);
    expect_not_found(store.delete_invoice_group(&actor(), "branch").await);
    let mut client = minimal_client("1002", "Gone group");
    client.invoicing.invoice_group = "branch".into();
    expect_invalid(
        store.create_client(&actor(), client, today()).await,
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

fn one_off(description: &str, price: &str, on: NaiveDate) -> OneOffCharge {
    OneOffCharge {
        description: description.into(),
        quantity: Decimal::ONE,
        unit_price: dec(price),
        price_includes_vat: true,
        vat_rate: dec("21"),
        charge_on: on,
    }
}

async fn one_off_charges(store: Store) {
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
    let mut zero = one_off("Zero", "1", december);
    zero.quantity = Decimal::ZERO;
    expect_invalid(
        store.add_charge(&actor(), "1001", None, zero).await,
        "charge.quantity",
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
        |charges: Vec<super::ChargeRecord>| charges.into_iter().map(|c| c.id).collect::<Vec<_>>();
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
        .create_client(&actor(), minimal_client("1003", "Contact"), today())
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

// ---------------------------------------------------------------------------------------------
// Dunning: reminder fees as debit notes, per-client controls
// ---------------------------------------------------------------------------------------------

/// Issues the invoices due by `as_of` with the default `[billing]` settings; their numbers.
async fn bill(store: &Store, as_of: NaiveDate) -> Vec<String> {
    crate::billing_run::run(
        store,
        &crate::config::BillingConfig::default(),
        &actor(),
        as_of,
        false,
        usize::MAX,
    )
    .await
    .unwrap()
    .documents
    .into_iter()
    .map(|i| i.number.expect("issued"))
    .collect()
}

async fn dunning_input(store: &Store, number: &str) -> super::DunningInput {
    store
        .dunning_inputs()
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.client_number == number)
        .unwrap_or_else(|| panic!("client {number} has no dunning input"))
}

fn reminder(
    invoice_id: i64,
    level: u8,
    deadline: NaiveDate,
    fee: Option<&str>,
) -> ispd_billing::dunning::ReminderDue {
    ispd_billing::dunning::ReminderDue {
        invoice_id,
        level,
        deadline,
        fee: fee.map(dec),
        final_notice: false,
    }
}

async fn debit_notes(store: &Store, client: &str) -> Vec<String> {
    store
        .list_invoices(client)
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.draft.kind == super::DocumentKind::DebitNote)
        .map(|i| i.number)
        .collect()
}

async fn reminder_fee_issues_one_debit_note(store: Store) {
    subscribed_client(&store, "1001").await;
    subscribed_client(&store, "1002").await;
    assert_eq!(
        bill(&store, date(2026, 1, 1)).await,
        ["202600001", "202600002"]
    );
    let invoice_of = |input: &super::DunningInput| input.open_invoices[0].id;
    let first = invoice_of(&dunning_input(&store, "1001").await);
    let second = invoice_of(&dunning_input(&store, "1002").await);
    let sent_on = date(2026, 1, 22);

    let recorded = store
        .record_reminder(
            &actor(),
            "1001",
            &reminder(first, 1, date(2026, 1, 29), Some("50.00")),
            sent_on,
        )
        .await
        .unwrap();
    assert_eq!(recorded.invoice_number, "202600001");
    assert_eq!(recorded.debit_note_number.as_deref(), Some("DN202600001"));
    // The same level again: nothing new, no second debit note.
    let again = store
        .record_reminder(
            &actor(),
            "1001",
            &reminder(first, 1, date(2026, 1, 30), Some("50.00")),
            date(2026, 1, 23),
        )
        .await
        .unwrap();
    assert_eq!(again.debit_note_number, None);
    assert_eq!(debit_notes(&store, "1001").await, ["DN202600001"]);
    // No fee, no debit note; the next fee takes the next number (gap-free per year).
    let free = store
        .record_reminder(
            &actor(),
            "1002",
            &reminder(second, 1, date(2026, 1, 29), None),
            sent_on,
        )
        .await
        .unwrap();
    assert_eq!(free.debit_note_number, None);
    let zero = store
        .record_reminder(
            &actor(),
            "1002",
            &reminder(second, 2, date(2026, 2, 5), Some("0")),
            date(2026, 1, 29),
        )
        .await
        .unwrap();
    assert_eq!(zero.debit_note_number, None, "a zero fee charges nothing");
    let charged = store
        .record_reminder(
            &actor(),
            "1002",
            &reminder(second, 3, date(2026, 2, 12), Some("75.50")),
            date(2026, 2, 5),
        )
        .await
        .unwrap();
    assert_eq!(charged.debit_note_number.as_deref(), Some("DN202600002"));
    let next_year = store
        .record_reminder(
            &actor(),
            "1002",
            &reminder(second, 4, date(2027, 1, 12), Some("10")),
            date(2027, 1, 5),
        )
        .await
        .unwrap();
    assert_eq!(next_year.debit_note_number.as_deref(), Some("DN202700001"));

    // The document: dated today, due on the deadline, one line at VAT 0, the client copied.
    let note = store.get_invoice("DN202600001").await.unwrap();
    assert_eq!(note.draft.kind, super::DocumentKind::DebitNote);
    assert_eq!(note.state, "unpaid");
    let d = &note.draft;
    assert_eq!(
        (d.issue_date, d.taxable_supply_date, d.due_date),
        (sent_on, sent_on, date(2026, 1, 29))
    );
    assert_eq!(
        (
            d.variable_symbol.as_str(),
            d.currency.as_str(),
            d.client_name.as_str()
        ),
        ("1001", "CZK", "Client 1001")
    );
    assert_eq!(d.lines.len(), 1);
    let line = &d.lines[0].line;
    assert_eq!(
        line.description,
        "Reminder fee (level 1, invoice 202600001)"
    );
    assert_eq!(
        (line.vat_rate, line.net, line.vat, line.gross),
        (Decimal::ZERO, dec("50.00"), dec("0.00"), dec("50.00"))
    );
    assert_eq!(
        (d.totals.net, d.totals.vat, d.totals.gross),
        (dec("50.00"), dec("0.00"), dec("50.00"))
    );
    assert_eq!(
        raw_text(
            &store,
            "SELECT r.number FROM invoice d JOIN invoice r ON r.id = d.related_invoice_id
             WHERE d.number = $1",
            "DN202600001"
        )
        .await,
        "202600001"
    );

    // Dunning sees it as an open debit note, and the reminder with its deadline.
    let input = dunning_input(&store, "1001").await;
    let ids: Vec<i64> = input.open_invoices.iter().map(|i| i.id).collect();
    assert_eq!(ids.len(), 2);
    let kinds: Vec<super::DocumentKind> = ids.iter().map(|id| input.documents[id].kind).collect();
    assert_eq!(
        kinds,
        [super::DocumentKind::Invoice, super::DocumentKind::DebitNote]
    );
    assert_eq!(
        input.reminders_sent,
        [ispd_billing::dunning::SentReminder {
            invoice_id: first,
            level: 1,
            deadline: date(2026, 1, 29),
        }]
    );
    let audit = store
        .list_audit(
            &AuditFilter {
                client_number: "1001".into(),
                ..AuditFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap()
        .items;
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .take(2)
        .map(|e| (e.action.as_str(), e.entity_key.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("invoice.reminder", "202600001"),
            ("debit_note.issue", "DN202600001")
        ],
        "newest first, the repeated level left no trace"
    );

    // A payment settles it like an invoice: oldest first, invoice then fee.
    let invoice_gross = store
        .get_invoice("202600001")
        .await
        .unwrap()
        .draft
        .totals
        .gross;
    let outcome = store
        .record_payments(
            &actor(),
            &[super::NewPayment {
                amount: invoice_gross + dec("50.00"),
                received_on: date(2026, 2, 1),
                variable_symbol: None,
                payer_account: None,
                payer_name: None,
                message: None,
                bank_transaction_id: None,
                currency: "CZK".into(),
                source: "manual".into(),
                client_number: Some("1001".into()),
            }],
        )
        .await
        .unwrap();
    assert_eq!(outcome[0].to_credit, Decimal::ZERO);
    assert_eq!(
        store.get_invoice("DN202600001").await.unwrap().state,
        "paid"
    );
    assert_eq!(
        store.client_balance("1001").await.unwrap().owed,
        Decimal::ZERO
    );
}

async fn dunning_controls_and_own_grace_days(store: Store) {
    subscribed_client(&store, "1001").await;
    bill(&store, date(2026, 1, 1)).await;
    let mut client = store.get_client("1001").await.unwrap();
    assert_eq!(client.invoicing.suspend_after_days, None);
    client.invoicing.suspend_after_days = Some(60);
    store
        .update_client(&actor(), client, today())
        .await
        .unwrap();
    assert_eq!(
        store
            .get_client("1001")
            .await
            .unwrap()
            .invoicing
            .suspend_after_days,
        Some(60)
    );
    let input = dunning_input(&store, "1001").await;
    assert_eq!(input.suspend_after_days, Some(60));
    assert!(!input.dunning_stopped && input.dunning_paused_until.is_none());

    let hold = |stopped, paused_until| super::DunningHold {
        stopped,
        paused_until,
    };
    let stopped = store
        .set_dunning_control(&actor(), "1001", super::DunningControl::Stop)
        .await
        .unwrap();
    assert_eq!(stopped, hold(true, None));
    assert_eq!(
        store.client_balance("1001").await.unwrap().dunning,
        hold(true, None)
    );
    // Editing the client card leaves the dunning controls alone.
    let mut client = store.get_client("1001").await.unwrap();
    client.note = "called".into();
    client.invoicing.suspend_after_days = None;
    store
        .update_client(&actor(), client, today())
        .await
        .unwrap();
    let input = dunning_input(&store, "1001").await;
    assert!(input.dunning_stopped);
    assert_eq!(input.suspend_after_days, None);

    let until = date(2026, 2, 10);
    let paused = store
        .set_dunning_control(&actor(), "1001", super::DunningControl::PauseUntil(until))
        .await
        .unwrap();
    assert_eq!(
        paused,
        hold(false, Some(until)),
        "a pause replaces the stop"
    );
    let input = dunning_input(&store, "1001").await;
    assert_eq!(
        (input.dunning_stopped, input.dunning_paused_until),
        (false, Some(until))
    );
    let resumed = store
        .set_dunning_control(&actor(), "1001", super::DunningControl::Resume)
        .await
        .unwrap();
    assert_eq!(resumed, hold(false, None));
    assert_eq!(
        store.client_balance("1001").await.unwrap().dunning,
        hold(false, None)
    );
    expect_not_found(
        store
            .set_dunning_control(&actor(), "404", super::DunningControl::Stop)
            .await,
    );
    let audit = store
        .list_audit(
            &AuditFilter {
                client_number: "1001".into(),
                ..AuditFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap()
        .items;
    let controls: Vec<&str> = audit
        .iter()
        .map(|e| e.action.as_str())
        .filter(|a| a.starts_with("client.dunning_"))
        .collect();
    assert_eq!(
        controls,
        [
            "client.dunning_resume",
            "client.dunning_pause",
            "client.dunning_stop"
        ]
    );
    let pause = audit
        .iter()
        .find(|e| e.action == "client.dunning_pause")
        .unwrap();
    assert_eq!(
        pause.after_json.as_deref(),
        Some(r#"{"stopped":false,"paused_until":"2026-02-10"}"#)
    );
}

// ---------------------------------------------------------------------------------------------
// Lifecycle and discounts
// ---------------------------------------------------------------------------------------------

/// A transition request as of `date`.
fn change(transition: Transition, date: NaiveDate, billing_suspended: bool) -> TransitionRequest {
    TransitionRequest {
        transition,
        date,
        billing_suspended,
        note: String::new(),
    }
}

async fn apply(store: &Store, id: i64, request: TransitionRequest) -> SubscriptionRecord {
    store
        .transition_subscription(&actor(), id, &request, today())
        .await
        .unwrap()
}

async fn pause_with_billing_suspended_then_resume(store: Store) {
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

async fn pause_without_billing_suspended_is_charged(store: Store) {
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

async fn end_sets_the_last_charged_day(store: Store) {
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

async fn invalid_transitions_are_refused(store: Store) {
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

async fn activate_due_activates_on_the_day(store: Store) {
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

async fn alignment_round_trips(store: Store) {
    store
        .create_client(&actor(), minimal_client("1", "One"), today())
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

fn discount(name: &str, value: DiscountValue, from: NaiveDate, to: Option<NaiveDate>) -> Discount {
    Discount {
        name: name.into(),
        value,
        valid_from: from,
        valid_to: to,
    }
}

async fn discounts_add_list_delete(store: Store) {
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

    expect_invalid(
        store
            .add_discount(
                &actor(),
                one,
                discount(
                    "Too much",
                    DiscountValue::Percent(dec("101")),
                    today(),
                    None,
                ),
            )
            .await,
        "discount.value",
    );
    expect_invalid(
        store
            .add_discount(
                &actor(),
                one,
                discount(
                    "Backwards",
                    DiscountValue::Amount(dec("10")),
                    today(),
                    Some(date(2026, 1, 1)),
                ),
            )
            .await,
        "discount.valid_to",
    );
    expect_invalid(
        store
            .add_discount(
                &actor(),
                one,
                discount(" ", DiscountValue::Amount(dec("10")), today(), None),
            )
            .await,
        "discount.name",
    );
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

// ---------------------------------------------------------------------------------------------
// The books: numbering under concurrent runs, idempotent imports, money conserved
// ---------------------------------------------------------------------------------------------

/// Money is conserved for a client: what their documents received, plus their credit, plus
/// what was refunded, is what they paid (plus an opening credit); and every document's paid
/// amount is explained by its payment allocations and credit applications.
async fn assert_books_balance(store: &Store, number: &str) {
    let client: i64 = sqlx::query_scalar("SELECT id FROM client WHERE number = $1")
        .bind(number.to_owned())
        .fetch_one(&store.pool)
        .await
        .unwrap();
    let sum = |sql: &'static str| {
        let pool = store.pool.clone();
        async move {
            let total: Option<i64> = sqlx::query_scalar(sql)
                .bind(client)
                .fetch_one(&pool)
                .await
                .unwrap();
            total.unwrap_or(0)
        }
    };
    let paid_on_documents = sum("SELECT CAST(SUM(paid_minor) AS BIGINT) FROM invoice WHERE client_id = $1 AND kind <> 'credit_note' AND NOT (kind = 'invoice' AND related_invoice_id IS NOT NULL AND EXISTS (SELECT 1 FROM invoice p WHERE p.id = invoice.related_invoice_id AND p.kind = 'proforma'))").await;
    let credit = sum("SELECT credit_minor FROM client WHERE id = $1").await;
    let refunds =
        sum("SELECT CAST(SUM(amount_minor) AS BIGINT) FROM refund WHERE client_id = $1").await;
    let payments =
        sum("SELECT CAST(SUM(amount_minor) AS BIGINT) FROM payment WHERE client_id = $1").await;
    let opening = sum(
        "SELECT CASE WHEN opening_balance_minor > 0 THEN opening_balance_minor ELSE 0 END
         FROM client WHERE id = $1",
    )
    .await;
    assert_eq!(
        paid_on_documents + credit + refunds,
        payments + opening,
        "client {number}: paid on documents {paid_on_documents} + credit {credit} + refunds \
         {refunds} != payments {payments} + opening credit {opening}"
    );
    let unexplained: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM invoice i WHERE i.client_id = $1 AND i.kind <> 'credit_note'
            AND NOT (i.kind = 'invoice' AND i.related_invoice_id IS NOT NULL)
            AND i.paid_minor <>
                COALESCE((SELECT SUM(a.amount_minor) FROM payment_allocation a
                    WHERE a.invoice_id = i.id), 0)
                + COALESCE((SELECT SUM(c.amount_minor) FROM credit_application c
                    WHERE c.invoice_id = i.id), 0)",
    )
    .bind(client)
    .fetch_one(&store.pool)
    .await
    .unwrap();
    assert_eq!(
        unexplained, 0,
        "client {number}: a document's paid amount is unexplained"
    );
}

async fn concurrent_billing_runs_number_without_gaps(store: Store) {
    for n in 0..12 {
        subscribed_client(&store, &format!("{}", 2001 + n)).await;
    }
    let (a, b) = tokio::join!(
        bill(&store, date(2026, 1, 1)),
        bill(&store, date(2026, 1, 1))
    );
    let mut numbers: Vec<String> = a.into_iter().chain(b).collect();
    numbers.sort();
    let expected: Vec<String> = (1..=12).map(|n| format!("2026{n:05}")).collect();
    assert_eq!(numbers, expected, "each client once, numbers gap-free");
    assert!(bill(&store, date(2026, 1, 1)).await.is_empty());
    // The next month continues the series.
    assert_eq!(
        bill(&store, date(2026, 2, 1))
            .await
            .first()
            .map(String::as_str),
        Some("202600013")
    );
}

async fn books_balance_through_payments_imports_credit_notes_and_refunds(store: Store) {
    let mut migrated = minimal_client("3001", "Migrated");
    migrated.invoicing.opening_balance = dec("100.00");
    store
        .create_client(&actor(), migrated, today())
        .await
        .unwrap();
    store
        .create_tariff(&actor(), tariff("Fiber 100", "499.90"))
        .await
        .unwrap();
    store
        .create_subscription(
            &actor(),
            "3001",
            "Fiber 100",
            subscription(date(2026, 1, 1)),
            today(),
        )
        .await
        .unwrap();
    assert_books_balance(&store, "3001").await;
    // The opening credit pays part of the first invoice as it is issued.
    let january = bill(&store, date(2026, 1, 1)).await;
    assert_books_balance(&store, "3001").await;
    let line = |id: &str, amount: &str, vs: &str| super::NewPayment {
        amount: dec(amount),
        received_on: date(2026, 1, 20),
        variable_symbol: Some(vs.into()),
        payer_account: None,
        payer_name: None,
        message: None,
        bank_transaction_id: Some(id.into()),
        currency: "CZK".into(),
        source: "camt053".into(),
        client_number: None,
    };
    let statement = [
        line("T1", "250.00", "3001"),
        line("T2", "400.00", "3001"),
        line("T3", "5.00", "9999"),
    ];
    let first = store.record_payments(&actor(), &statement).await.unwrap();
    assert_eq!(first.iter().filter(|o| o.duplicate).count(), 0);
    assert_books_balance(&store, "3001").await;
    // The same statement again records nothing.
    let again = store.record_payments(&actor(), &statement).await.unwrap();
    assert!(again.iter().all(|o| o.duplicate));
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payment")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(count, 3);
    // A line repeated inside one statement is recorded once.
    let repeated = [line("T4", "1.00", "9999"), line("T4", "1.00", "9999")];
    let outcomes = store.record_payments(&actor(), &repeated).await.unwrap();
    assert_eq!(
        outcomes.iter().map(|o| o.duplicate).collect::<Vec<_>>(),
        [false, true]
    );
    // Money in another currency than the client is invoiced in is never taken for it: the
    // entry naming 3001 is stored unmatched with its own currency, and cannot be assigned.
    let euros = super::NewPayment {
        currency: "EUR".into(),
        ..line("T5", "20.00", "3001")
    };
    let outcome = store.record_payments(&actor(), &[euros]).await.unwrap();
    assert_eq!(
        (outcome[0].client_id, outcome[0].currency.as_str()),
        (None, "EUR")
    );
    assert!(outcome[0].unmatched_reason.is_some());
    let unmatched = store.unmatched_payments().await.unwrap();
    let foreign = unmatched.iter().find(|u| u.currency == "EUR").unwrap();
    assert_eq!(foreign.amount_minor, 2000);
    let refused = store
        .assign_payment(&actor(), foreign.id, "3001", None)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, StoreError::Precondition(_)),
        "{refused:?}"
    );
    let manual = super::NewPayment {
        currency: "EUR".into(),
        client_number: Some("3001".into()),
        bank_transaction_id: None,
        ..line("", "20.00", "")
    };
    let refused = store
        .record_payments(&actor(), &[manual])
        .await
        .unwrap_err();
    assert!(matches!(refused, StoreError::Invalid(_)), "{refused:?}");
    // 100 + 650 paid against 499.90: the rest is credit.
    let balance = store.client_balance("3001").await.unwrap();
    assert_eq!((balance.credit, balance.owed), (dec("250.10"), dec("0")));
    // Cancelling the paid invoice returns its money to credit; refunding part of it.
    store
        .cancel_invoice(
            &actor(),
            &january[0],
            "wrong tariff",
            date(2026, 1, 25),
            false,
        )
        .await
        .unwrap();
    assert_books_balance(&store, "3001").await;
    assert_eq!(
        store.client_balance("3001").await.unwrap().credit,
        dec("750.00")
    );
    store
        .refund_credit(&actor(), "3001", dec("50.00"), date(2026, 1, 26), "")
        .await
        .unwrap();
    assert_books_balance(&store, "3001").await;
    // February is paid from the credit at issue.
    bill(&store, date(2026, 2, 1)).await;
    assert_books_balance(&store, "3001").await;
    let balance = store.client_balance("3001").await.unwrap();
    assert_eq!((balance.credit, balance.owed), (dec("200.10"), dec("0")));
}

async fn billing_candidates_come_in_pages_of_clients(store: Store) {
    for number in ["4001", "4002", "4003"] {
        subscribed_client(&store, number).await;
    }
    // A client without subscriptions still takes its place in a page.
    store
        .create_client(&actor(), minimal_client("4004", "Contact"), today())
        .await
        .unwrap();
    let mut after = i64::MIN;
    let mut pages = Vec::new();
    loop {
        let (candidates, last) = store.billing_candidates_page(after, 2).await.unwrap();
        let Some(last) = last else { break };
        pages.push(
            candidates
                .iter()
                .map(|c| c.client_number.clone())
                .collect::<Vec<_>>(),
        );
        after = last;
    }
    assert_eq!(pages, [vec!["4001", "4002"], vec!["4003"]]);
}

async fn one_instance_runs_a_job(store: Store) {
    let first = store.try_job_lock("daily").await.unwrap();
    assert!(first.is_some());
    let other = store.try_job_lock("sweep").await.unwrap();
    assert!(other.is_some(), "other jobs are not blocked");
    if store.backend() == super::Backend::Postgres {
        assert!(
            store.try_job_lock("daily").await.unwrap().is_none(),
            "a second instance skips the job"
        );
    }
    drop(first);
    assert!(
        store.try_job_lock("daily").await.unwrap().is_some(),
        "released on drop"
    );
}

// ---------------------------------------------------------------------------------------------
// The suite, once per backend
// ---------------------------------------------------------------------------------------------

macro_rules! conformance {
    (store: [$($name:ident),* $(,)?] store_and_url: [$($url_name:ident),* $(,)?]) => {
        conformance!(@backend sqlite [$($name),*] [$($url_name),*]);
        conformance!(@backend postgres [$($name),*] [$($url_name),*]);
    };
    (@backend $backend:ident [$($name:ident),*] [$($url_name:ident),*]) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $name() {
                    super::harness::$backend(stringify!($name), |store, _url| super::$name(store))
                        .await;
                }
            )*
            $(
                #[tokio::test]
                async fn $url_name() {
                    super::harness::$backend(stringify!($url_name), super::$url_name).await;
                }
            )*
        }
    };
}

conformance! {
    store: [
        client_round_trip,
        duplicate_client_number_conflicts,
        client_numbers_are_proposed,
        duplicate_identifiers_warn,
        variable_symbols_are_unique_and_limited,
        client_validation,
        client_update_versions_and_audit,
        client_update_replaces_everything,
        concurrent_client_creates,
        concurrent_updates_of_one_client,
        concurrent_tariff_updates,
        concurrent_subscription_updates,
        concurrent_login_updates,
        concurrent_nas_updates,
        concurrent_auto_numbers,
        list_clients_filters_and_pages,
        list_clients_name_filter_is_literal,
        search_clients_finds_by_every_identifier,
        delete_client_only_without_subscriptions,
        money_round_trips_exactly,
        tariffs,
        subscriptions,
        logins,
        nas_entries,
        code_lists,
        variable_symbols_name_one_client,
        access_rows_follow_the_records,
        accounting_batches_store_sessions_once,
        invoice_groups_round_trip,
        invoice_group_delete_refused_while_used,
        one_off_charges,
        reminder_fee_issues_one_debit_note,
        dunning_controls_and_own_grace_days,
        pause_with_billing_suspended_then_resume,
        pause_without_billing_suspended_is_charged,
        end_sets_the_last_charged_day,
        invalid_transitions_are_refused,
        activate_due_activates_on_the_day,
        alignment_round_trips,
        discounts_add_list_delete,
        concurrent_billing_runs_number_without_gaps,
        books_balance_through_payments_imports_credit_notes_and_refunds,
        one_instance_runs_a_job,
        billing_candidates_come_in_pages_of_clients,
    ]
    store_and_url: [reopened_store_keeps_data]
}

/// Fresh databases per test, removed afterwards even when the test panics: the body runs in
/// its own task, its panic is caught by the join, the database dropped, then the panic resumed.
mod harness {
    use std::future::Future;
    use std::sync::atomic::{AtomicU32, Ordering};

    use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};

    use super::super::{Store, redact_url};
    use super::sealer;

    const URL_VARIABLE: &str = "ISPD_TEST_DATABASE_URL";

    /// pid + counter + nanoseconds: unique across parallel tests and test processes.
    fn unique() -> String {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        format!(
            "{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// A panic's payload, carried from the test task to the test thread.
    type Panic = Box<dyn std::any::Any + Send>;

    /// Opens a store on `url` and runs the body in its own task, so that a panic comes back as
    /// a value; the store is closed whatever happened, before the database is removed.
    async fn run<F, Fut>(url: String, body: F) -> Result<(), Panic>
    where
        F: FnOnce(Store, String) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let store = match Store::open(&url, 4, sealer()).await {
            Ok(store) => store,
            Err(e) => {
                let message = format!("cannot open {}: {e:#}", redact_url(&url));
                eprintln!("{message}");
                return Err(Box::new(message));
            }
        };
        let outcome = tokio::spawn(body(store.clone(), url)).await;
        store.close().await;
        outcome.map_err(|e| {
            e.try_into_panic()
                .unwrap_or_else(|e| Box::new(format!("test task failed: {e}")))
        })
    }

    /// Fails the test with the body's own panic, after the clean-up.
    fn finish(outcome: Result<(), Panic>) {
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }

    pub(super) async fn sqlite<F, Fut>(test: &str, body: F)
    where
        F: FnOnce(Store, String) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let dir = std::env::temp_dir().join(format!("ispd-conformance-{}-{test}", unique()));
        std::fs::create_dir_all(&dir).expect("create the test directory");
        let url = format!("sqlite://{}", dir.join("ispd.db").display());
        let outcome = run(url, body).await;
        let _ = std::fs::remove_dir_all(&dir);
        finish(outcome);
    }

    pub(super) async fn postgres<F, Fut>(test: &str, body: F)
    where
        F: FnOnce(Store, String) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Ok(base) = std::env::var(URL_VARIABLE) else {
            eprintln!(
                "{URL_VARIABLE} unset: skipping PostgreSQL conformance ({test}); scripts/test sets it"
            );
            return;
        };
        let name = format!("ispd_test_{}", unique());
        admin(&base, &format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let outcome = run(with_database(&base, &name), body).await;
        drop_database(&base, &name).await;
        finish(outcome);
    }

    /// `WITH (FORCE)` ends connections a panicked test left behind; it can still fail while
    /// one of them is starting up, hence the retries. A database left over is reported only.
    async fn drop_database(base: &str, name: &str) {
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        let mut attempts = 0;
        while let Err(e) = admin(base, &sql).await {
            attempts += 1;
            if attempts == 10 {
                eprintln!("warning: test database {name} left behind: {e}");
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// Runs one statement on the server the test URL points at. Panics when the server does
    /// not answer: a set but dead URL is a broken CI setup, not a reason to skip.
    async fn admin(base: &str, sql: &str) -> Result<(), String> {
        sqlx::any::install_default_drivers();
        let mut conn = AnyConnection::connect(base).await.unwrap_or_else(|e| {
            panic!(
                "{URL_VARIABLE}={} is set but PostgreSQL does not answer: {e}",
                redact_url(base)
            )
        });
        let result = conn.execute(AssertSqlSafe(sql.to_owned())).await;
        let _ = conn.close().await;
        result.map(drop).map_err(|e| format!("{sql}: {e}"))
    }

    /// The URL with its database name replaced, keeping any query string.
    pub(super) fn with_database(url: &str, database: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
        let (location, query) = match rest.split_once('?') {
            Some((location, query)) => (location, format!("?{query}")),
            None => (rest, String::new()),
        };
        let authority = location.split('/').next().unwrap_or_default();
        format!("{scheme}://{authority}/{database}{query}")
    }

    #[test]
    fn database_name_is_swapped() {
        assert_eq!(
            with_database("postgres://ispd:ispd@127.0.0.1:5432/postgres", "t1"),
            "postgres://ispd:ispd@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgresql://u@h/db?sslmode=disable", "t2"),
            "postgresql://u@h/t2?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "t3"),
            "postgres://h:5432/t3"
        );
    }
}
