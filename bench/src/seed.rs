//! Seeds a state directory with one client, one tariff, one subscription and N logins,
//! through ispd's own storage layer (a bulk import in one transaction).

use std::path::Path;
use std::time::{Duration, Instant};

use ispd::seal::Sealer;
use ispd::storage::{Actor, Store};
use ispd_billing::client::{Address, Client};
use ispd_billing::period::Period;
use ispd_billing::subscription::{PeriodAlignment, Subscription, SubscriptionState};
use ispd_billing::tariff::{Rate, Tariff};

/// Shared secret of the benchmark NAS (127.0.0.1).
pub const SECRET: &str = "bench-secret-123";

pub fn username(i: usize) -> String {
    format!("user{i:06}")
}

pub fn password(i: usize) -> String {
    format!("pw-{i:06}")
}

pub fn seed(state_dir: &Path, logins: usize) -> anyhow::Result<Duration> {
    seed_with(state_dir, logins, None)
}

/// Seeds into SQLite under `state_dir`, or into the PostgreSQL database at `database_url`.
pub fn seed_with(
    state_dir: &Path,
    logins: usize,
    database_url: Option<&str>,
) -> anyhow::Result<Duration> {
    let _ = std::fs::remove_dir_all(state_dir);
    std::fs::create_dir_all(state_dir)?;
    std::fs::write(
        state_dir.join("ispd.toml"),
        format!(
            "state_dir = {dir:?}\n[log]\nlevel = \"warn,ispd::radius=info\"\n\
             [radius]\nauth_listen = [\"127.0.0.1:0\"]\nacct_listen = [\"127.0.0.1:0\"]\n\
             [admin]\nlisten = \"127.0.0.1:0\"\n{database}\
             [[nas]]\nname = \"bench\"\naddress = \"127.0.0.1\"\nsecret = \"{SECRET}\"\nvendor = \"mikrotik\"\n",
            dir = state_dir.display().to_string(),
            database = database_url
                .map(|url| format!("[database]\nurl = {url:?}\n"))
                .unwrap_or_default(),
        ),
    )?;
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let sealer = Sealer::load_or_create(state_dir)?;
        let url = database_url.map_or_else(
            || format!("sqlite://{}", state_dir.join("ispd.db").display()),
            str::to_owned,
        );
        let store = Store::open(&url, 2, sealer).await?;
        let actor = Actor("bench".into());
        let client = Client {
            number: "1".into(),
            name: "Benchmark".into(),
            address: Address {
                street: "Loopback 1".into(),
                postcode: "127".into(),
                city: "Localhost".into(),
                ..Address::default()
            },
            ..Client::default()
        };
        store.create_client(&actor, client).await?;
        let tariff = Tariff {
            id: 0,
            name: "Bench 100".into(),
            rate: Rate {
                download_kbps: 100_000,
                upload_kbps: 20_000,
            },
            burst: None,
            price: rust_decimal::Decimal::new(49_900, 2),
            price_includes_vat: true,
            vat_rate: rust_decimal::Decimal::from(21),
            period: Period::Monthly,
            framed_pool: String::new(),
            note: String::new(),
            version: 0,
        };
        store.create_tariff(&actor, tariff).await?;
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date");
        let subscription = Subscription {
            id: 0,
            client_id: 0,
            tariff_id: 0,
            activation_date: day,
            billing_from: day,
            price_override: None,
            period: None,
            commitment_until: None,
            variable_symbol: String::new(),
            note: String::new(),
            state: SubscriptionState::Active,
            alignment: PeriodAlignment::BillingDay,
            end_date: None,
            version: 0,
        };
        let sub = store
            .create_subscription(&actor, "1", "Bench 100", subscription, day)
            .await?;
        let batch: Vec<(String, String)> =
            (0..logins).map(|i| (username(i), password(i))).collect();
        store
            .import_logins(&actor, sub.subscription.id, &batch)
            .await?;
        store.close().await;
        anyhow::Ok(())
    })?;
    Ok(started.elapsed())
}
