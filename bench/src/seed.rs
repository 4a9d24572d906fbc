//! Seeds a state directory: for `auth`/`acct` one client, one tariff, one subscription and N
//! logins through ispd's own storage layer (a bulk import in one transaction); for `billing`
//! N clients with one subscription each (see [`seed_billing`]).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{Datelike, Months, NaiveDate};
use ispd::storage::{Actor, Store};
use ispd_billing::client::{Address, Client, Invoicing};
use ispd_billing::period::Period;
use ispd_billing::subscription::{PeriodAlignment, Subscription, SubscriptionState};
use ispd_billing::tariff::{Rate, Tariff};
use ispd_provisioning::login::{AuthType, Login};
use rust_decimal::Decimal;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AssertSqlSafe, Column, Row};

/// Shared secret of the benchmark NAS (127.0.0.1).
pub const SECRET: &str = "bench-secret-123";

pub fn username(i: usize) -> String {
    format!("user{i:06}")
}

pub fn password(i: usize) -> String {
    format!("pw-{i:06}")
}

/// The logins as a FreeRADIUS users file: the same names and passwords `seed` gives ispd.
pub fn users_file(out: &Path, logins: usize) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    for i in 0..logins {
        writeln!(
            file,
            "{} Cleartext-Password := \"{}\"",
            username(i),
            password(i)
        )?;
    }
    file.flush()?;
    Ok(())
}

/// Seeds into SQLite under `state_dir`, or into the PostgreSQL database at `database_url`.
pub fn seed_with(
    state_dir: &Path,
    logins: usize,
    database_url: Option<&str>,
) -> anyhow::Result<Duration> {
    seed_with_extra(state_dir, logins, database_url, "")
}

/// [`seed_with`], with `extra` appended to the config after the NAS table (TOML).
pub fn seed_with_extra(
    state_dir: &Path,
    logins: usize,
    database_url: Option<&str>,
    extra: &str,
) -> anyhow::Result<Duration> {
    write_config(state_dir, database_url, extra)?;
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = open_store(state_dir, database_url).await?;
        let actor = Actor("bench".into());
        store
            .create_client(&actor, first_client("Benchmark", Invoicing::default())?)
            .await?;
        store
            .create_tariff(
                &actor,
                monthly_tariff("Bench 100", Decimal::new(49_900, 2))?,
            )
            .await?;
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date");
        let subscription = active_from(day)?;
        let sub = store
            .create_subscription(&actor, "1", "Bench 100", subscription, day)
            .await?;
        let batch: Vec<(String, String)> =
            (0..logins).map(|i| (username(i), password(i))).collect();
        for (username, password) in &batch {
            ppp_login(username, sub.subscription.id).validate()?;
            ispd_provisioning::login::validate_password(password)?;
        }
        store
            .insert_logins(&actor, sub.subscription.id, &batch)
            .await?;
        store.close().await;
        anyhow::Ok(())
    })?;
    Ok(started.elapsed())
}

/// Stores `sessions` closed sessions of the seeded logins from the benchmark's NAS, a past
/// month's worth, as a running ISP's database holds; on PostgreSQL then analyzes the table,
/// as autovacuum has long done in a running deployment. Accounting is then measured against
/// a table of a realistic size, not an empty one: PostgreSQL plans a statement on a table it
/// last saw empty as for a small one, and such a plan, cached on the connection, reads the
/// whole table once it has grown — until autovacuum analyzes it again, which in a deployment
/// is within a minute and in a ten-second run never. (SQLite is left unanalyzed, as ispd
/// leaves it.)
pub fn seed_session_history(
    state_dir: &Path,
    database_url: Option<&str>,
    sessions: usize,
) -> anyhow::Result<()> {
    if sessions == 0 {
        return Ok(());
    }
    let url = self::database_url(state_dir, database_url);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await?;
        sqlx::query(
            "WITH RECURSIVE n(i) AS (
                SELECT CAST(1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < $1)
             INSERT INTO session (nas_name, acct_session_id, session_key, login_id, username,
                started_at, updated_at, stopped_at, terminate_cause, session_seconds,
                input_octets, output_octets, input_packets, output_packets)
             SELECT 'bench', 'h-' || CAST(n.i AS TEXT), 'bench/h-' || CAST(n.i AS TEXT) || '/0',
                l.id, l.username, '2026-11-01T00:00:00.000000Z', '2026-11-01T08:00:00.000000Z',
                '2026-11-01T08:00:00.000000Z', 'User-Request', 28800, 150000000, 2000000000,
                200000, 1500000
             FROM n JOIN login l
                ON l.id = (SELECT MIN(id) FROM login) + n.i % (SELECT COUNT(*) FROM login)",
        )
        .bind(i64::try_from(sessions)?)
        .execute(&pool)
        .await
        .context("seeding the session history")?;
        settle(&pool, database_url.is_some(), "session").await?;
        pool.close().await;
        anyhow::Ok(())
    })
}

/// After a bulk load: on PostgreSQL analyzes the loaded `tables`, as autovacuum does soon
/// after a load this size (only those: the empty ones stay never analysed, as in a database
/// that has not used them yet); on SQLite checkpoints the WAL into the database file, so the
/// daemon does not start behind a large WAL.
async fn settle(pool: &sqlx::AnyPool, postgres: bool, tables: &str) -> anyhow::Result<()> {
    let sql = if postgres {
        format!("ANALYZE {tables}")
    } else {
        "PRAGMA wal_checkpoint(TRUNCATE)".to_owned()
    };
    sqlx::query(AssertSqlSafe(sql)).execute(pool).await?;
    Ok(())
}

/// A seeded login as storage writes it (`Store::insert_logins`), for the cores' check.
fn ppp_login(username: &str, subscription_id: i64) -> Login {
    Login {
        id: 0,
        username: username.to_owned(),
        auth_type: AuthType::Ppp,
        mac: None,
        ipv4: None,
        ipv6_prefix: None,
        nas: Vec::new(),
        attributes: Vec::new(),
        subscription_id,
        disabled: false,
        note: String::new(),
        version: 1,
    }
}

/// A fresh state directory with the benchmark's `ispd.toml`; `extra` is appended (TOML).
pub fn write_config(
    state_dir: &Path,
    database_url: Option<&str>,
    extra: &str,
) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(state_dir);
    std::fs::create_dir_all(state_dir)?;
    std::fs::write(
        state_dir.join("ispd.toml"),
        format!(
            "state_dir = {dir:?}\n[log]\nlevel = \"warn,ispd::radius=info,ispd::app::billing_run=info\"\n\
             [radius]\nauth_listen = [\"127.0.0.1:0\"]\nacct_listen = [\"127.0.0.1:0\"]\n\
             [admin]\nlisten = \"127.0.0.1:0\"\n{database}\
             [[nas]]\nname = \"bench\"\naddress = \"127.0.0.1\"\nsecret = \"{SECRET}\"\nvendor = \"mikrotik\"\n\
             {extra}",
            dir = state_dir.display().to_string(),
            database = database_url
                .map(|url| format!("[database]\nurl = {url:?}\n"))
                .unwrap_or_default(),
        ),
    )?;
    Ok(())
}

/// Sets `[auth_log] enabled` in the seeded `ispd.toml` (the table is kept last, so a run
/// with the other setting replaces it) and empties the log, so a run counts its own attempts.
pub fn set_auth_log(state_dir: &Path, enabled: bool) -> anyhow::Result<()> {
    let path = state_dir.join("ispd.toml");
    let text = std::fs::read_to_string(&path)?;
    let kept = text.split("[auth_log]\n").next().unwrap_or_default();
    std::fs::write(&path, format!("{kept}[auth_log]\nenabled = {enabled}\n"))?;
    if !state_dir.join("ispd.db").exists() {
        // Seeded into PostgreSQL: a fresh database, its log empty.
        return Ok(());
    }
    on_sqlite(state_dir, async |pool| {
        // A database seeded before the log existed has no table until ispd migrates it.
        let _ = sqlx::query("DELETE FROM auth_log").execute(pool).await;
        Ok(())
    })
}

/// Rows, and the attempts they count, in the authentication log of the SQLite database
/// under `state_dir`.
pub fn auth_log_rows(state_dir: &Path) -> anyhow::Result<(i64, i64)> {
    on_sqlite(state_dir, async |pool| {
        Ok(
            sqlx::query_as("SELECT COUNT(*), COALESCE(SUM(count), 0) FROM auth_log")
                .fetch_one(pool)
                .await?,
        )
    })
}

/// Runs `f` on a one-connection pool of the SQLite database under `state_dir`.
fn on_sqlite<T>(
    state_dir: &Path,
    f: impl AsyncFnOnce(&sqlx::AnyPool) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    sqlx::any::install_default_drivers();
    let url = database_url(state_dir, None);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let pool = sqlx::any::AnyPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await?;
            let result = f(&pool).await;
            pool.close().await;
            result
        })
}

/// The database URL the daemon will use for `state_dir`.
pub fn database_url(state_dir: &Path, database_url: Option<&str>) -> String {
    database_url.map_or_else(
        || format!("sqlite://{}", state_dir.join("ispd.db").display()),
        str::to_owned,
    )
}

/// ispd's own storage layer on the benchmark database (migrations applied).
async fn open_store(state_dir: &Path, database_url: Option<&str>) -> anyhow::Result<Store> {
    let sealer = ispd::seal::load_or_create(state_dir)?;
    Ok(Store::open(&self::database_url(state_dir, database_url), 2, sealer).await?)
}

/// The tariffs of the billing benchmark: monthly, prices with 21 % VAT; client `i` gets
/// `TARIFFS[i % 3]`.
pub const TARIFFS: [(&str, i64); 3] = [
    ("Bench 50", 39_900),
    ("Bench 100", 49_900),
    ("Bench 250", 69_900),
];

/// Seeds `clients` clients (numbers 1..=clients, billing day 1), each with one monthly
/// subscription active for a year and billed up to the month before `as_of`, so that a run
/// as of `as_of` issues one invoice of one line per client, as a monthly run does.
///
/// The tariffs, client 1 and its subscription go through ispd's storage layer; the other
/// clients and subscriptions are copies of those two rows made with one `INSERT … SELECT`
/// each through sqlx (the store has no bulk path for them), in one transaction. Copying every
/// column of rows the store wrote keeps them valid as migrations add columns. No audit rows
/// are written for the copies.
pub fn seed_billing(
    state_dir: &Path,
    clients: usize,
    database_url: Option<&str>,
    as_of: NaiveDate,
) -> anyhow::Result<Duration> {
    anyhow::ensure!(clients >= 1, "--clients: at least 1");
    // No daily run may start while the benchmark runs.
    write_config(state_dir, database_url, "[billing]\nrun_at = \"\"\n")?;
    let month = as_of.with_day(1).context("first of the month")?;
    let since = month
        .checked_sub_months(Months::new(12))
        .context("--as-of too early")?;
    let billed_until = month.pred_opt().context("--as-of too early")?;
    let url = self::database_url(state_dir, database_url);
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = open_store(state_dir, database_url).await?;
        let actor = Actor("bench".into());
        let mut tariff_ids = Vec::new();
        for (name, price) in TARIFFS {
            let tariff = monthly_tariff(name, Decimal::new(price, 2))?;
            tariff_ids.push(store.create_tariff(&actor, tariff).await?.id);
        }
        let invoicing = Invoicing {
            billing_day: 1,
            ..Invoicing::default()
        };
        let (client, _) = store
            .create_client(&actor, first_client("Client 1", invoicing)?)
            .await?;
        let subscription = active_from(since)?;
        let subscription = store
            .create_subscription(&actor, "1", TARIFFS[1].0, subscription, since)
            .await?
            .subscription;
        store.close().await;

        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await?;
        let mut tx = pool.begin().await?;
        let originals = (client.id, subscription.id);
        copy_clients(&mut tx, clients, originals, &tariff_ids, billed_until).await?;
        tx.commit().await?;
        settle(&pool, database_url.is_some(), "client, subscription").await?;
        pool.close().await;
        anyhow::Ok(())
    })?;
    Ok(started.elapsed())
}

/// Clients 2 to `clients`, copies of client `originals.0` numbered and named by their
/// number, each with a copy of subscription `originals.1` on one of the three tariffs in
/// turn, all billed up to `billed_until`.
async fn copy_clients(
    tx: &mut AnyConnection,
    clients: usize,
    (client_id, subscription_id): (i64, i64),
    tariff_ids: &[i64],
    billed_until: NaiveDate,
) -> anyhow::Result<()> {
    let columns = copied_columns(tx, "client", client_id).await?;
    let values: Vec<String> = columns
        .iter()
        .map(|c| match c.as_str() {
            "number" => "CAST(n.i AS TEXT)".to_owned(),
            "number_numeric" => "n.i".to_owned(),
            "name" => "'Client ' || CAST(n.i AS TEXT)".to_owned(),
            "name_folded" => "'client ' || CAST(n.i AS TEXT)".to_owned(),
            other => format!("t.{other}"),
        })
        .collect();
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT CAST(2 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO client ({}) SELECT {} FROM n CROSS JOIN client t WHERE t.id = $2",
        columns.join(", "),
        values.join(", ")
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(i64::try_from(clients)?)
        .bind(client_id)
        .execute(&mut *tx)
        .await?;
    let columns = copied_columns(tx, "subscription", subscription_id).await?;
    let values: Vec<String> = columns
        .iter()
        .map(|c| match c.as_str() {
            "client_id" => "c.id".to_owned(),
            "tariff_id" => {
                "CASE c.number_numeric % 3 WHEN 0 THEN $3 WHEN 1 THEN $4 ELSE $5 END".to_owned()
            }
            other => format!("t.{other}"),
        })
        .collect();
    let sql = format!(
        "INSERT INTO subscription ({}) SELECT {} FROM client c CROSS JOIN subscription t
         WHERE t.id = $1 AND c.id <> $2",
        columns.join(", "),
        values.join(", ")
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(subscription_id)
        .bind(client_id)
        .bind(tariff_ids[0])
        .bind(tariff_ids[1])
        .bind(tariff_ids[2])
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE subscription SET billed_until = $1")
        .bind(billed_until.format("%Y-%m-%d").to_string())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A monthly tariff of 100/20 Mbit/s at `price`, VAT (21 %) included; validated.
fn monthly_tariff(name: &str, price: Decimal) -> anyhow::Result<Tariff> {
    let tariff = Tariff {
        id: 0,
        name: name.into(),
        rate: Rate {
            download_kbps: 100_000,
            upload_kbps: 20_000,
        },
        burst: None,
        price,
        price_includes_vat: true,
        vat_rate: Decimal::from(21),
        period: Period::Monthly,
        framed_pool: String::new(),
        window: None,
        cap: None,
        note: String::new(),
        service_class: String::new(),
        version: 0,
    };
    tariff.validate()?;
    Ok(tariff)
}

/// Client 1, on the loopback street, with its defaults applied; validated.
fn first_client(name: &str, invoicing: Invoicing) -> anyhow::Result<Client> {
    let mut client = Client {
        number: "1".into(),
        name: name.into(),
        address: Address {
            street: "Loopback 1".into(),
            postcode: "127".into(),
            city: "Localhost".into(),
            ..Address::default()
        },
        invoicing,
        ..Client::default()
    };
    client.apply_defaults();
    client.validate()?;
    Ok(client)
}

/// An active subscription activated and billed from `day`, at its tariff's price and
/// period; validated.
fn active_from(day: NaiveDate) -> anyhow::Result<Subscription> {
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
        invoice_note: String::new(),
        state: SubscriptionState::Active,
        alignment: PeriodAlignment::BillingDay,
        end_date: None,
        end_reason: String::new(),
        unit: None,
        version: 0,
    };
    subscription.validate()?;
    Ok(subscription)
}

/// Every column of `table` but `id`, read from the row to be copied.
async fn copied_columns(
    conn: &mut AnyConnection,
    table: &str,
    id: i64,
) -> anyhow::Result<Vec<String>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT * FROM {table} WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(row
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .filter(|name| name != "id")
        .collect())
}
