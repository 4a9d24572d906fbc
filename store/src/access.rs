//! The rows the RADIUS access cache is built from: one per login, joined with its
//! subscription, client and tariff, password opened. Read at start-up and after each change,
//! never on the RADIUS hot path.

use ispd_billing::period::Period;
use ispd_billing::subscription::{PeriodAlignment, SubscriptionState};
use ispd_billing::tariff::{Burst, CapPeriod, DataCap, Rate, SpeedWindow};
use ispd_provisioning::login::{AuthType, ExtraAttribute};
use ispd_provisioning::mac::MacAddress;
use ispd_provisioning::speed::TemporarySpeed;
use sqlx::AssertSqlSafe;

use super::login::{column, extra_attributes, nas_names};
use super::{Arg, Store, StoreResult, Where, corrupt, parse_date};
use crate::own_read::own_row;

/// Which logins to (re)load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessScope {
    All,
    Login(i64),
    /// Several logins at once: another instance's changes, read from the change log in a
    /// batch, are loaded with one query rather than one each.
    Logins(Vec<i64>),
    Subscription(i64),
    Client(String),
    Tariff(i64),
}

impl AccessScope {
    /// The logins the scope names one by one; `None` when it names them by what they share.
    pub fn login_ids(&self) -> Option<&[i64]> {
        match self {
            AccessScope::Login(id) => Some(std::slice::from_ref(id)),
            AccessScope::Logins(ids) => Some(ids),
            _ => None,
        }
    }
}

/// Everything RADIUS needs to answer for one login.
#[derive(Clone, PartialEq)]
pub struct AccessRow {
    pub login_id: i64,
    pub username: String,
    pub password: String,
    pub auth_type: AuthType,
    pub mac: Option<MacAddress>,
    pub ipv4: Option<std::net::Ipv4Addr>,
    pub ipv6_prefix: Option<ispd_provisioning::login::Ipv6Prefix>,
    pub nas: Vec<String>,
    pub attributes: Vec<ExtraAttribute>,
    pub disabled: bool,
    pub subscription_id: i64,
    pub tariff_id: i64,
    pub subscription_state: SubscriptionState,
    pub client_number: String,
    pub never_suspend: bool,
    /// Set by the dunning run: the client is suspended for debt.
    pub debt_suspended: bool,
    pub rate: Rate,
    pub burst: Option<Burst>,
    pub framed_pool: String,
    pub window: Option<SpeedWindow>,
    pub temporary: Option<TemporarySpeed>,
    pub cap: Option<DataCap>,
    /// The subscription's billing periods, which its data cap counts in.
    pub cap_period: CapPeriod,
}

impl std::fmt::Debug for AccessRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessRow")
            .field("login_id", &self.login_id)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish_non_exhaustive()
    }
}

own_row! {
    /// The columns of [`SELECT`], in its order.
    struct Row {
    login_id: i64,
    username: String,
    password_sealed: String,
    auth_type: String,
    mac: Option<String>,
    ipv4: Option<String>,
    ipv6_prefix: Option<String>,
    nas_json: String,
    attributes_json: String,
    disabled: i64,
    subscription_id: i64,
    tariff_id: i64,
    state: String,
    client_number: String,
    never_suspend: i64,
    debt_suspended: i64,
    download_kbps: i64,
    upload_kbps: i64,
    burst_download_kbps: Option<i64>,
    burst_upload_kbps: Option<i64>,
    burst_threshold_download_kbps: Option<i64>,
    burst_threshold_upload_kbps: Option<i64>,
    burst_time_seconds: Option<i64>,
    framed_pool: String,
    window_from: Option<String>,
    window_to: Option<String>,
    window_download_kbps: Option<i64>,
    window_upload_kbps: Option<i64>,
    temporary_download_kbps: Option<i64>,
    temporary_upload_kbps: Option<i64>,
    temporary_until: Option<String>,
    cap_download_octets: Option<i64>,
    cap_upload_octets: Option<i64>,
    cap_download_kbps: Option<i64>,
    cap_upload_kbps: Option<i64>,
    charge_period: String,
    alignment: String,
    billing_day: i64,
    billing_from: String,
    }
}

const SELECT: &str = "SELECT l.id AS login_id, l.username, l.password_sealed, l.auth_type, l.mac,
    l.ipv4, l.ipv6_prefix, l.nas_json, l.attributes_json, l.disabled, s.id AS subscription_id,
    t.id AS tariff_id, s.state, c.number AS client_number, c.never_suspend, c.debt_suspended, t.download_kbps, t.upload_kbps,
    t.burst_download_kbps, t.burst_upload_kbps, t.burst_threshold_download_kbps,
    t.burst_threshold_upload_kbps, t.burst_time_seconds, t.framed_pool, t.window_from,
    t.window_to, t.window_download_kbps, t.window_upload_kbps, l.temporary_download_kbps,
    l.temporary_upload_kbps, l.temporary_until, t.cap_download_octets, t.cap_upload_octets,
    t.cap_download_kbps, t.cap_upload_kbps, COALESCE(s.period, t.period) AS charge_period,
    s.alignment, c.billing_day, s.billing_from
    FROM login l JOIN subscription s ON s.id = l.subscription_id
    JOIN client c ON c.id = s.client_id JOIN tariff t ON t.id = s.tariff_id";

fn kbps(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Store {
    pub async fn access_rows(&self, scope: &AccessScope) -> StoreResult<Vec<AccessRow>> {
        let mut w = Where::default();
        match scope {
            AccessScope::All => {}
            AccessScope::Login(id) => w.and("l.id = {}", Arg::Int(*id)),
            AccessScope::Logins(ids) => w.and_in("l.id", ids),
            AccessScope::Subscription(id) => w.and("s.id = {}", Arg::Int(*id)),
            AccessScope::Client(number) => w.and("c.number = {}", Arg::Text(number.clone())),
            AccessScope::Tariff(id) => w.and("t.id = {}", Arg::Int(*id)),
        }
        let sql = format!("{SELECT} {} ORDER BY l.id", w.sql());
        let rows = w
            .bind(sqlx::query_as::<_, Row>(AssertSqlSafe(sql)))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(|r| self.access_row(r)).collect()
    }

    /// Every login's row, handed to `each` as it is read: the start-up load, which holds no
    /// list of a million rows. On SQLite it reads with a connection of its own
    /// ([`crate::own_read`]) on the calling thread, so it blocks that thread: call it where
    /// blocking is allowed.
    pub async fn each_access_row(&self, mut each: impl FnMut(AccessRow)) -> StoreResult<()> {
        self.each_row(&format!("{SELECT} ORDER BY l.id"), &[], |row| {
            each(self.access_row(row)?);
            Ok(())
        })
        .await
    }

    fn access_row(&self, r: Row) -> StoreResult<AccessRow> {
        let bad = |what: &str| corrupt(format!("login {}: {what}", r.username));
        let burst = super::tariff::burst(
            (r.burst_download_kbps, r.burst_upload_kbps),
            (
                r.burst_threshold_download_kbps,
                r.burst_threshold_upload_kbps,
            ),
            r.burst_time_seconds,
        );
        let window = super::tariff::speed_window(
            &r.username,
            r.window_from.as_deref(),
            r.window_to.as_deref(),
            r.window_download_kbps,
            r.window_upload_kbps,
        )?;
        let temporary = super::temporary_speed::temporary_speed(
            &r.username,
            r.temporary_download_kbps,
            r.temporary_upload_kbps,
            r.temporary_until.as_deref(),
        )?;
        let cap = super::tariff::data_cap(
            r.cap_download_octets,
            r.cap_upload_octets,
            r.cap_download_kbps,
            r.cap_upload_kbps,
        );
        let alignment = PeriodAlignment::parse(&r.alignment).ok_or_else(|| bad("alignment"))?;
        let cap_period = CapPeriod {
            period: Period::parse(&r.charge_period).ok_or_else(|| bad("period"))?,
            alignment: alignment.with_billing_day(u32::try_from(r.billing_day).unwrap_or(1)),
            billing_from: parse_date("billing_from", &r.billing_from)?,
        };
        Ok(AccessRow {
            login_id: r.login_id,
            cap_period,
            window,
            temporary,
            cap,
            password: self.sealer.open(&r.password_sealed)?,
            auth_type: AuthType::parse(&r.auth_type).ok_or_else(|| bad("auth type"))?,
            mac: column(&r.username, "mac", r.mac.as_deref())?,
            ipv4: column(&r.username, "ipv4", r.ipv4.as_deref())?,
            ipv6_prefix: column(&r.username, "ipv6 prefix", r.ipv6_prefix.as_deref())?,
            nas: nas_names(&r.username, &r.nas_json)?,
            attributes: extra_attributes(&r.username, &r.attributes_json)?,
            disabled: r.disabled != 0,
            subscription_id: r.subscription_id,
            tariff_id: r.tariff_id,
            subscription_state: SubscriptionState::parse(&r.state).ok_or_else(|| bad("state"))?,
            client_number: r.client_number,
            never_suspend: r.never_suspend != 0,
            debt_suspended: r.debt_suspended != 0,
            rate: Rate {
                download_kbps: kbps(r.download_kbps),
                upload_kbps: kbps(r.upload_kbps),
            },
            burst,
            framed_pool: r.framed_pool,
            username: r.username,
        })
    }
}

impl Store {
    /// Open sessions per login, for Simultaneous-Use: read into memory at start-up.
    /// The open sessions' addresses and prefixes, for the address pools to hold them again
    /// at start. A stored value that does not read as an address or a prefix holds nothing.
    pub async fn open_session_addresses(&self) -> StoreResult<Vec<OpenAddress>> {
        self.open_addresses_heard_since(None).await
    }

    /// [`Store::open_session_addresses`] of the sessions heard of (by any instance) after
    /// `since`, or of all.
    pub async fn open_addresses_heard_since(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> StoreResult<Vec<OpenAddress>> {
        type Row = (
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT nas_name, updated_at, username, calling_station, framed_ip, delegated_prefix
             FROM session
             WHERE stopped_at IS NULL AND (framed_ip IS NOT NULL OR delegated_prefix IS NOT NULL)
                AND ($1 IS NULL OR COALESCE(heard_at, updated_at) > $1)",
        )
        .bind(since.map(super::timestamp))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(nas_name, updated_at, username, device, ip, prefix)| {
                Ok(OpenAddress {
                    nas_name,
                    updated_at: super::parse_timestamp("session.updated_at", &updated_at)?,
                    username,
                    device: device.unwrap_or_default(),
                    ipv4: ip.and_then(|ip| ip.parse().ok()),
                    prefix: prefix.and_then(|p| p.parse().ok()),
                })
            })
            .collect()
    }

    pub async fn open_session_counts(&self) -> StoreResult<std::collections::HashMap<i64, u32>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT login_id, COUNT(*) FROM session
             WHERE stopped_at IS NULL AND login_id IS NOT NULL GROUP BY login_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(counts(rows))
    }

    /// The open sessions of each of `logins` (one with none is absent), as the database
    /// holds them whichever instance stored them.
    pub async fn open_session_counts_of(
        &self,
        logins: &[i64],
    ) -> StoreResult<std::collections::HashMap<i64, u32>> {
        let mut out = std::collections::HashMap::new();
        for chunk in logins.chunks(super::rows_per_statement(1)) {
            let sql = format!(
                "SELECT login_id, COUNT(*) FROM session
                 WHERE stopped_at IS NULL AND login_id IN ({}) GROUP BY login_id",
                super::Placeholders::for_backend(self.backend).list(chunk.len())
            );
            let mut query = sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            out.extend(counts(query.fetch_all(&self.pool).await?));
        }
        Ok(out)
    }
}

fn counts(rows: Vec<(i64, i64)>) -> std::collections::HashMap<i64, u32> {
    rows.into_iter()
        .map(|(login, n)| (login, u32::try_from(n).unwrap_or(u32::MAX)))
        .collect()
}

/// An open session's address and prefix as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAddress {
    pub nas_name: String,
    /// The NAS's time of the session's latest record.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub username: String,
    /// The Calling-Station-Id; empty when the NAS sent none.
    pub device: String,
    pub ipv4: Option<std::net::Ipv4Addr>,
    pub prefix: Option<ispd_provisioning::login::Ipv6Prefix>,
}
