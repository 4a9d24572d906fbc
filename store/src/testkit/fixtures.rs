//! Records in their fullest form, the checks on errors, and the names the tests use.

pub use std::fmt::Debug;
pub use std::future::Future;

pub use chrono::NaiveDate;
pub use ispd_billing::charge::OneOffCharge;
pub use ispd_billing::client::{
    Address, BankAccount, Client, ClientKind, ContactPerson, Duplicate, Gps, Invoicing,
};
pub use ispd_billing::invoice::{Discount, DiscountValue, TaxableDateRule};
pub use ispd_billing::invoice_group::{InvoiceGroup, NumberFormats};
pub use ispd_billing::period::Period;
pub use ispd_billing::subscription::{
    PeriodAlignment, Subscription, SubscriptionState, Transition,
};
pub use ispd_billing::tariff::{Burst, Rate, Tariff};
pub use ispd_provisioning::login::{AuthType, ExtraAttribute, Login};
pub use ispd_provisioning::nas::{Nas, NasVendor};
pub use rust_decimal::Decimal;

pub use crate::seal::Sealer;
pub use crate::{
    Actor, AuditEntry, AuditFilter, ClientFilter, CodeList, InvoiceDraft, Page, PageRequest, Store,
    StoreError, StoreResult, SubscriptionFilter, SubscriptionRecord,
};

pub fn sealer() -> Sealer {
    Sealer::from_key([42; 32])
}

pub fn actor() -> Actor {
    Actor("conformance-operator".into())
}

/// The day the tests pretend it is, for subscription states.
pub fn today() -> NaiveDate {
    date(2026, 11, 15)
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

pub fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).expect("decimal literal")
}

pub fn gps(lat: &str, lon: &str) -> Option<Gps> {
    Some(Gps {
        lat: dec(lat),
        lon: dec(lon),
    })
}

/// A valid client with only the required fields.
pub fn minimal_client(number: &str, name: &str) -> Client {
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
pub async fn create_full_client_codes(store: &Store) {
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
pub fn full_client() -> Client {
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
        language: "cs".into(),
        relationship: ispd_billing::client::Relationship {
            characteristic: ispd_billing::client::Characteristic::Good,
            referrer: String::new(),
            referral_source: "a neighbour".into(),
            partner_programme: "Village Wi-Fi".into(),
        },
        registration_ip: Some("2001:db8::7".parse().expect("an IPv6 address")),
        version: 0,
    }
}

pub fn tariff(name: &str, price: &str) -> Tariff {
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
        window: None,
        cap: None,
        note: "Flagship".into(),
        service_class: String::new(),
        version: 0,
    }
}

pub fn subscription(activation: NaiveDate) -> Subscription {
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
        invoice_note: String::new(),
        state: SubscriptionState::Active,
        alignment: PeriodAlignment::BillingDay,
        end_date: None,
        end_reason: String::new(),
        unit: None,
        version: 0,
    }
}

pub fn ppp_login(username: &str, subscription_id: i64) -> Login {
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

pub fn nas(name: &str, address: &str) -> Nas {
    Nas {
        id: 0,
        name: name.into(),
        address: address.parse().expect("ip address"),
        vendor: NasVendor::Mikrotik,
        coa_port: 3799,
        require_message_authenticator: true,
        limit_proxy_state: false,
        coa: None,
        note: "rack A".into(),
        version: 0,
    }
}

/// Creates client `number` with one subscription on "Fiber 100" (created when missing).
pub async fn subscribed_client(store: &Store, number: &str) -> SubscriptionRecord {
    store
        .create_client(
            &actor(),
            minimal_client(number, &format!("Client {number}")),
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
pub async fn all_clients(store: &Store) -> Vec<Client> {
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
pub async fn listed(store: &Store, filter: ClientFilter) -> Vec<String> {
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
pub async fn found(store: &Store, query: &str) -> Vec<String> {
    store
        .search_clients(query, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|hit| format!("{} by {}", hit.client.number, hit.matched))
        .collect()
}

/// Reads one text column bypassing the Store, over a separate connection to its database.
pub async fn raw_text(store: &Store, sql: &'static str, key: &str) -> String {
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
pub fn expect_conflict<T: Debug>(result: StoreResult<T>, field: &str) {
    match result {
        Err(StoreError::Conflict { field: f, .. }) if f == field => {}
        other => panic!("expected a conflict on {field}, got {other:?}"),
    }
}

/// The audit records about client `number` (every client when empty) and `entity` records
/// (every entity when empty), newest first: the first page, as an operator sees it.
pub async fn audit_of(store: &Store, number: &str, entity: &str) -> Vec<AuditEntry> {
    let filter = AuditFilter {
        client_number: number.into(),
        entity: entity.into(),
    };
    store
        .list_audit(&filter, PageRequest::default())
        .await
        .unwrap()
        .items
}

/// The audit actions about `entity` records of client `number`, newest first.
pub async fn client_audit_actions(store: &Store, number: &str, entity: &str) -> Vec<String> {
    let audit = audit_of(store, number, entity).await;
    audit.into_iter().map(|e| e.action).collect()
}

#[track_caller]
pub fn expect_invalid<T: Debug>(result: StoreResult<T>, field: &str) {
    match result {
        Err(StoreError::Invalid(e)) if e.field == field => {}
        other => panic!("expected {field} to be refused as invalid, got {other:?}"),
    }
}

#[track_caller]
pub fn expect_stale<T: Debug>(result: StoreResult<T>) {
    match result {
        Err(StoreError::Stale { .. }) => {}
        other => panic!("expected a stale-version error, got {other:?}"),
    }
}

#[track_caller]
pub fn expect_precondition<T: Debug>(result: StoreResult<T>) {
    match result {
        Err(StoreError::Precondition(_)) => {}
        other => panic!("expected a refused precondition, got {other:?}"),
    }
}

#[track_caller]
pub fn expect_not_found<T: Debug>(result: StoreResult<T>) {
    match result {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("expected not found, got {other:?}"),
    }
}

pub fn one_off(description: &str, price: &str, on: NaiveDate) -> OneOffCharge {
    OneOffCharge {
        description: description.into(),
        quantity: Decimal::ONE,
        unit_price: dec(price),
        price_includes_vat: true,
        vat_rate: dec("21"),
        charge_on: on,
    }
}

pub fn discount(
    name: &str,
    value: DiscountValue,
    from: NaiveDate,
    to: Option<NaiveDate>,
) -> Discount {
    Discount {
        name: name.into(),
        value,
        valid_from: from,
        valid_to: to,
    }
}
