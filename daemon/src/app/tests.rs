//! The record rules as the use cases enforce them, on a real SQLite store: storage writes what
//! it is given, so "an invalid X is refused and nothing is written" is a use-case property.
//! The cases were the storage conformance suite's while storage validated.

use std::fmt::Debug;

use chrono::TimeZone;
use ispd_billing::client::Client;
use ispd_billing::invoice::DiscountValue;
use ispd_billing::invoice_group::InvoiceGroup;
use ispd_provisioning::login::AuthType;
use ispd_store::testkit::fixtures::*;
use rust_decimal::Decimal;

use super::{App, AppError, AppResult};
use crate::changes::ChangeFeed;
use crate::clock::Clock;
use crate::config::Config;
use crate::live::Live;
use crate::seal::Sealer;
use crate::storage::{CodeList, Store, StoreError};

/// A store in a fresh SQLite file and what an [`App`] borrows; the use cases' own tests
/// stand on it too.
pub(super) struct Harness {
    pub(super) store: Store,
    pub(super) changes: ChangeFeed,
    config: Live<Config>,
    path: std::path::PathBuf,
}

impl Harness {
    pub(super) async fn new(name: &str) -> Harness {
        let path = std::env::temp_dir().join(format!(
            "ispd-app-{name}-{}-{}.db",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        let url = format!("sqlite:{}", path.display());
        let store = Store::open(&url, 2, Sealer::from_key([7; 32]))
            .await
            .unwrap();
        Harness {
            store,
            changes: ChangeFeed::default(),
            config: Live::new(Config::default()),
            path,
        }
    }

    pub(super) fn app(&self) -> App<'_> {
        static NOT_STOPPING: crate::app::Stopping = crate::app::Stopping::new();
        App {
            store: &self.store,
            changes: &self.changes,
            clock: Clock::fixed(
                chrono::Utc
                    .with_ymd_and_hms(2026, 11, 15, 12, 0, 0)
                    .unwrap(),
            ),
            config: &self.config,
            stopping: &NOT_STOPPING,
        }
    }

    pub(super) async fn close(self) {
        self.store.close().await;
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Refused as invalid with `field` named, whether by a core's rule or by storage (a code the
/// code list lacks is storage's to know).
#[track_caller]
fn expect_invalid<T: Debug>(result: AppResult<T>, field: &str) {
    match result {
        Err(AppError::Invalid(e)) | Err(AppError::Store(StoreError::Invalid(e)))
            if e.field == field => {}
        other => panic!("expected {field} to be refused as invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn client_validation() {
    let h = Harness::new("client-validation").await;
    let app = h.app();
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
        expect_invalid(super::clients::create(&app, &actor(), client).await, field);
    }
    assert!(all_clients(&h.store).await.is_empty());

    // Moved from the conformance test `variable_symbols_are_unique_and_limited`.
    let mut taker = minimal_client("2", "Taker");
    taker.invoicing.variable_symbols = ["1", "2", "3", "4"].map(String::from).to_vec();
    expect_invalid(
        super::clients::create(&app, &actor(), taker).await,
        "client.invoicing.variable_symbols",
    );
    h.close().await;
}

#[tokio::test]
async fn code_lists() {
    let h = Harness::new("code-lists").await;
    let app = h.app();
    let list = CodeList::ClientGroup;
    expect_invalid(
        super::codes::put(&app, &actor(), list, ("Bad Code", "Bad")).await,
        "code.code",
    );
    expect_invalid(
        super::codes::put(&app, &actor(), list, ("empty", " ")).await,
        "code.label",
    );
    assert!(h.store.list_codes(list).await.unwrap().is_empty());
    h.close().await;
}

#[tokio::test]
async fn invoice_groups() {
    let h = Harness::new("invoice-groups").await;
    let app = h.app();
    let mut bad = InvoiceGroup::new("bad", "Bad");
    bad.number_formats.invoice = Some("{year}".into());
    expect_invalid(
        super::invoice_groups::create(&app, &actor(), bad).await,
        "invoice_group.invoice_number_format",
    );
    let mut bad = InvoiceGroup::new("bad", "Bad");
    bad.iban = "CZ6508000000192000145390".into();
    expect_invalid(
        super::invoice_groups::create(&app, &actor(), bad).await,
        "invoice_group.iban",
    );
    assert!(h.store.invoice_group("bad").await.is_err());
    h.close().await;
}

#[tokio::test]
async fn one_off_charges_and_discounts() {
    let h = Harness::new("charges-discounts").await;
    let app = h.app();
    let one = subscribed_client(&h.store, "1001").await.subscription.id;
    let december = date(2026, 12, 1);

    let mut zero = one_off("Zero", "1", december);
    zero.quantity = Decimal::ZERO;
    expect_invalid(
        super::charges::add(&app, &actor(), ("1001", None), Some(december), |_| zero).await,
        "charge.quantity",
    );
    assert!(h.store.list_charges("1001").await.unwrap().is_empty());

    let cases = [
        (
            discount(
                "Too much",
                DiscountValue::Percent(dec("101")),
                today(),
                None,
            ),
            "discount.value",
        ),
        (
            discount(
                "Backwards",
                DiscountValue::Amount(dec("10")),
                today(),
                Some(date(2026, 1, 1)),
            ),
            "discount.valid_to",
        ),
        (
            discount(" ", DiscountValue::Amount(dec("10")), today(), None),
            "discount.name",
        ),
    ];
    for (bad, field) in cases {
        expect_invalid(
            super::discounts::add(&app, &actor(), one, Some(today()), |_| bad).await,
            field,
        );
    }
    assert!(h.store.list_discounts(one).await.unwrap().is_empty());
    h.close().await;
}

#[tokio::test]
async fn logins_and_subscriptions() {
    let h = Harness::new("logins-subscriptions").await;
    let app = h.app();
    let sub = subscribed_client(&h.store, "1").await.subscription.id;
    let mut no_mac = ppp_login("dhcp", sub);
    no_mac.auth_type = AuthType::Mac;
    expect_invalid(
        super::logins::create(&app, &actor(), no_mac, "pw".into()).await,
        "login.mac",
    );
    assert!(h.store.get_login("dhcp").await.is_err());

    let mut early = subscription(date(2026, 12, 1));
    early.billing_from = date(2026, 11, 30);
    expect_invalid(
        super::subscriptions::create(&app, &actor(), ("1", "Fiber 100"), early, None).await,
        "subscription.billing_from",
    );
    h.close().await;
}
