//! The daemon's TOML configuration: every key optional with a documented default (README),
//! unknown keys refused, validated before anything starts.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::token::Role;

mod listeners;
mod pool;
mod reload;

pub use listeners::{AdminConfig, MetricsConfig};
pub use pool::PoolConfig;

/// Root of ispd.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Database, key file, admin token and ports.json live here.
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub radius: RadiusConfig,
    #[serde(default)]
    pub admin: AdminConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
    #[serde(default)]
    pub billing: BillingConfig,
    #[serde(default)]
    pub dunning: DunningConfig,
    #[serde(default)]
    pub enforcement: EnforcementConfig,
    #[serde(default)]
    pub auth_log: AuthLogConfig,
    #[serde(default)]
    pub logins: LoginsConfig,
    #[serde(default)]
    pub nas: Vec<NasConfig>,
    #[serde(default)]
    pub pool: Vec<PoolConfig>,
    #[serde(default)]
    pub token: Vec<TokenConfig>,
    /// When the daemon took this configuration (at start, or a reload), for
    /// `ispctl system status`; not a key of the file.
    #[serde(skip)]
    pub loaded_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn default_state_dir() -> PathBuf {
    PathBuf::from("ispd-data")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human on a terminal, JSON otherwise.
    #[default]
    Auto,
    Human,
    Json,
    /// Plain lines without timestamps: journald adds its own.
    Journald,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter such as "info" or "ispd=debug,sqlx=warn".
    #[serde(default = "default_log_level")]
    pub level: String,
    #[serde(default)]
    pub format: LogFormat,
}

fn default_log_level() -> String {
    "info".into()
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: default_log_level(),
            format: LogFormat::Auto,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://...`; unset = SQLite at `<state_dir>/ispd.db`.
    pub url: Option<String>,
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

fn default_max_connections() -> u32 {
    8
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: default_max_connections(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RadiusConfig {
    #[serde(default = "default_auth_listen")]
    pub auth_listen: Vec<SocketAddr>,
    #[serde(default = "default_acct_listen")]
    pub acct_listen: Vec<SocketAddr>,
    /// Acct-Interim-Interval sent in every Access-Accept; 0 sends none.
    #[serde(default = "default_interim")]
    pub acct_interim_interval: u32,
    /// Session-Timeout in seconds; unset sends none.
    #[serde(default)]
    pub session_timeout: Option<u32>,
    /// Idle-Timeout in seconds; unset sends none.
    #[serde(default)]
    pub idle_timeout: Option<u32>,
    /// An open session with no accounting update for this many seconds is closed as stale;
    /// unset = 3 × acct_interim_interval + 60.
    #[serde(default)]
    pub stale_after: Option<u64>,
    /// Sessions one login may hold at once; 0 = no limit.
    #[serde(default = "default_simultaneous_use")]
    pub simultaneous_use: u32,
    /// How Cisco NASes get the speed: named policy-maps or rate-limit interface config.
    #[serde(default)]
    pub cisco_shaping: CiscoShapingConfig,
    /// The Junos dynamic service profile that takes the rate, `name(down,up)`; empty = none.
    #[serde(default)]
    pub juniper_service: String,
    #[serde(default)]
    pub restricted: RestrictedConfig,
    #[serde(default)]
    pub walled_garden: WalledGardenConfig,
}

fn default_interim() -> u32 {
    300
}

fn default_simultaneous_use() -> u32 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CiscoShapingConfig {
    #[default]
    PolicyNames,
    RateLimit,
}

/// What a login in a restricted state gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RestrictedAction {
    /// Accepted into the walled garden: slow, marked, redirected to the "payment due" page.
    #[default]
    WalledGarden,
    Reject,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RestrictedConfig {
    #[serde(default)]
    pub suspended_for_debt: RestrictedAction,
    #[serde(default)]
    pub blocked: RestrictedAction,
    #[serde(default)]
    pub paused: RestrictedAction,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalledGardenConfig {
    /// Mikrotik-Address-List the operator's firewall redirects to the payment page.
    #[serde(default = "default_address_list")]
    pub address_list: String,
    /// A separate pool for restricted sessions (for NASes without address lists).
    #[serde(default)]
    pub framed_pool: Option<String>,
    #[serde(default = "default_garden_rate")]
    pub download_kbps: u64,
    #[serde(default = "default_garden_rate")]
    pub upload_kbps: u64,
}

fn default_address_list() -> String {
    "ispd-suspended".into()
}

fn default_garden_rate() -> u64 {
    256
}

impl Default for WalledGardenConfig {
    fn default() -> Self {
        Self {
            address_list: default_address_list(),
            framed_pool: None,
            download_kbps: default_garden_rate(),
            upload_kbps: default_garden_rate(),
        }
    }
}

impl RadiusConfig {
    pub fn stale_after(&self) -> std::time::Duration {
        let interim = u64::from(self.acct_interim_interval.max(60));
        std::time::Duration::from_secs(self.stale_after.unwrap_or(3 * interim + 60))
    }

    /// The access policy the provisioning core applies, from these keys.
    pub fn policy(&self) -> ispd_provisioning::policy::PolicyConfig {
        use ispd_provisioning::policy::{PolicyConfig, Restricted, WalledGarden};
        let garden = WalledGarden {
            address_list: self.walled_garden.address_list.clone(),
            framed_pool: self.walled_garden.framed_pool.clone(),
            rate: ispd_billing::tariff::Rate {
                download_kbps: self.walled_garden.download_kbps,
                upload_kbps: self.walled_garden.upload_kbps,
            },
        };
        let action = |a: RestrictedAction| match a {
            RestrictedAction::WalledGarden => Restricted::WalledGarden(garden.clone()),
            RestrictedAction::Reject => Restricted::Reject,
        };
        PolicyConfig {
            suspended_for_debt: action(self.restricted.suspended_for_debt),
            blocked: action(self.restricted.blocked),
            paused: action(self.restricted.paused),
            session_timeout: self.session_timeout,
            acct_interim_interval: self.acct_interim_interval,
            idle_timeout: self.idle_timeout,
            cisco_shaping: match self.cisco_shaping {
                CiscoShapingConfig::PolicyNames => {
                    ispd_provisioning::rate::CiscoShaping::PolicyNames
                }
                CiscoShapingConfig::RateLimit => ispd_provisioning::rate::CiscoShaping::RateLimit,
            },
            juniper_service: Some(self.juniper_service.trim().to_owned()).filter(|s| !s.is_empty()),
        }
    }
}

fn default_auth_listen() -> Vec<SocketAddr> {
    vec![SocketAddr::from(([127, 0, 0, 1], 1812))]
}

fn default_acct_listen() -> Vec<SocketAddr> {
    vec![SocketAddr::from(([127, 0, 0, 1], 1813))]
}

impl Default for RadiusConfig {
    #[allow(clippy::expect_used, reason = "the defaults are the empty table's")]
    fn default() -> Self {
        toml::from_str("").expect("an empty [radius] table is valid")
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingConfig {
    /// Due days for clients without their own (ISPadmin `splatnost_faktur`).
    #[serde(default = "default_due_days")]
    pub default_due_days: u32,
    /// ISO 4217 code printed beside every amount.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// How a period the service ran only part of is charged: `by_days` (charged days /
    /// period days) or `whole_period` (any charged day charges the period in full).
    #[serde(default)]
    pub proration: ispd_billing::schedule::Proration,
    /// Local time of day ("HH:MM") for the daily billing run and dunning run; "" = only on
    /// demand (`ispctl billing run`, `ispctl dunning run`).
    #[serde(default = "default_run_at")]
    pub run_at: String,
    /// The IANA time zone "today" is counted in (`Europe/Prague`): the date of an invoice, a
    /// payment, a suspension, and the zone of `run_at`. "" = the host's zone. Read at start.
    #[serde(default)]
    pub timezone: String,
    /// Whether a client's credit may be paid back (`ispctl payment refund`). Off, as in
    /// Mango, unless enabled: credit then settles the client's next documents.
    #[serde(default)]
    pub refunds: bool,
    /// The annual rate in percent of interest on overdue invoices (net47's statutory interest,
    /// billed by an interest note: `ispctl interest`); unset = no interest.
    #[serde(default, deserialize_with = "optional_money")]
    pub interest_rate_percent: Option<rust_decimal::Decimal>,
    /// The least interest worth a note: less accrued is left to be billed later.
    #[serde(default, deserialize_with = "money")]
    pub interest_minimum: rust_decimal::Decimal,
}

fn default_run_at() -> String {
    "02:30".into()
}

impl BillingConfig {
    /// The daily run's time of day, if scheduled.
    pub fn run_at(&self) -> Option<chrono::NaiveTime> {
        chrono::NaiveTime::parse_from_str(&self.run_at, "%H:%M").ok()
    }

    /// The interest rate, when interest is charged (validated at load).
    pub fn interest_rate(&self) -> Option<ispd_billing::interest::InterestRate> {
        let percent = self.interest_rate_percent?;
        ispd_billing::interest::InterestRate::new("billing.interest_rate_percent", percent).ok()
    }

    /// The zone of `timezone`; the host's when it is unset or (caught by validation) unknown.
    pub fn zone(&self) -> crate::clock::Zone {
        crate::clock::Zone::parse(&self.timezone).unwrap_or_default()
    }
}

fn default_due_days() -> u32 {
    14
}

fn default_currency() -> String {
    "CZK".into()
}

impl Default for BillingConfig {
    fn default() -> Self {
        Self {
            default_due_days: default_due_days(),
            currency: default_currency(),
            proration: ispd_billing::schedule::Proration::default(),
            run_at: default_run_at(),
            timezone: String::new(),
            refunds: false,
            interest_rate_percent: None,
            interest_minimum: rust_decimal::Decimal::ZERO,
        }
    }
}

/// `[dunning]`: reminders and suspension (ISPadmin `pozastavit_neplatice*`). Every key
/// defaults to `DunningSettings::default()`; absent `[[dunning.level]]` tables mean the default
/// ladder, `level = []` means no reminders.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DunningConfig {
    /// `pozastavit_neplatice`: suspend debtors automatically.
    #[serde(default = "default_suspend")]
    pub suspend: bool,
    /// `pozastavit_neplatice_min_castka`: the overdue sum that suspends.
    #[serde(default = "default_suspend_min_amount", deserialize_with = "money")]
    pub suspend_min_amount: rust_decimal::Decimal,
    /// `pozastavit_po_splatnosti`: only invoices overdue more than this many days count.
    #[serde(default = "default_suspend_days_after_due")]
    pub suspend_days_after_due: u32,
    /// The reminder ladder, level 1 first.
    #[serde(default = "default_levels")]
    pub level: Vec<ReminderLevelConfig>,
}

/// One `[[dunning.level]]`: its number is its position.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReminderLevelConfig {
    pub days_after_due: u32,
    pub deadline_days: u32,
    /// A fee above zero is charged with the reminder as a debit note.
    #[serde(default, deserialize_with = "optional_money")]
    pub fee: Option<rust_decimal::Decimal>,
    /// Only the last level may be one: suspension waits until its deadline has passed.
    #[serde(default)]
    pub final_notice: bool,
}

fn default_suspend() -> bool {
    ispd_billing::dunning::DunningSettings::default().suspend_enabled
}

fn default_suspend_min_amount() -> rust_decimal::Decimal {
    ispd_billing::dunning::DunningSettings::default().suspend_min_amount
}

fn default_suspend_days_after_due() -> u32 {
    ispd_billing::dunning::DunningSettings::default().suspend_days_after_due
}

fn default_levels() -> Vec<ReminderLevelConfig> {
    ispd_billing::dunning::DunningSettings::default()
        .levels
        .into_iter()
        .map(|level| ReminderLevelConfig {
            days_after_due: level.days_after_due,
            deadline_days: level.deadline_days,
            fee: level.fee,
            final_notice: level.final_notice,
        })
        .collect()
}

impl Default for DunningConfig {
    #[allow(clippy::expect_used, reason = "the defaults are the empty table's")]
    fn default() -> Self {
        toml::from_str("").expect("an empty [dunning] table is valid")
    }
}

impl DunningConfig {
    /// The settings the dunning core applies, from these keys.
    pub fn settings(&self) -> ispd_billing::dunning::DunningSettings {
        ispd_billing::dunning::DunningSettings {
            levels: self
                .level
                .iter()
                .enumerate()
                .map(|(i, level)| ispd_billing::dunning::ReminderLevel {
                    level: u8::try_from(i + 1).unwrap_or(u8::MAX),
                    days_after_due: level.days_after_due,
                    deadline_days: level.deadline_days,
                    fee: level.fee,
                    final_notice: level.final_notice,
                })
                .collect(),
            suspend_enabled: self.suspend,
            suspend_min_amount: self.suspend_min_amount,
            suspend_days_after_due: self.suspend_days_after_due,
        }
    }
}

/// An amount as a decimal string (`"1.50"`, exact) or a whole number (`1`); a TOML float
/// is refused so that no amount ever passes through binary floating point.
fn money<'de, D: serde::Deserializer<'de>>(d: D) -> Result<rust_decimal::Decimal, D::Error> {
    struct Money;
    impl serde::de::Visitor<'_> for Money {
        type Value = rust_decimal::Decimal;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an amount as a string such as \"1.50\", or a whole number")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            ispd_billing::money::parse("amount", v)
                .map_err(|_| E::custom(format!("not a decimal amount: {v:?}")))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(v.into())
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(v.into())
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Err(E::custom(format!(
                "write the amount as a string, e.g. \"{v}\": floats are not exact"
            )))
        }
    }
    d.deserialize_any(Money)
}

fn optional_money<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<rust_decimal::Decimal>, D::Error> {
    money(d).map(Some)
}

/// `[enforcement]`: how changes reach online sessions (RFC 5176 CoA and Disconnect).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnforcementConfig {
    /// Requests per second to one NAS; a tariff change for 10,000 sessions goes out at this
    /// pace, so a NAS's CPU and its RADIUS client are not flooded.
    #[serde(default = "default_coa_rate")]
    pub rate: u32,
    /// Seconds to wait for the first answer; each retry waits twice as long.
    #[serde(default = "default_coa_timeout")]
    pub timeout: f64,
    /// Times a request is sent before it counts as timed out.
    #[serde(default = "default_coa_tries")]
    pub tries: u32,
    /// Seconds between two reconciles of every open session with what it should have
    /// (net47 reconciles every 45 minutes); 0 = never.
    #[serde(default = "default_reconcile_interval")]
    pub reconcile_interval: u64,
    /// Days an attempt stays in the log.
    #[serde(default = "default_keep_days")]
    pub keep_days: u32,
}

fn default_coa_rate() -> u32 {
    200
}
fn default_coa_timeout() -> f64 {
    1.0
}
fn default_coa_tries() -> u32 {
    3
}
fn default_reconcile_interval() -> u64 {
    45 * 60
}
fn default_keep_days() -> u32 {
    90
}

impl Default for EnforcementConfig {
    fn default() -> Self {
        EnforcementConfig {
            rate: default_coa_rate(),
            timeout: default_coa_timeout(),
            tries: default_coa_tries(),
            reconcile_interval: default_reconcile_interval(),
            keep_days: default_keep_days(),
        }
    }
}

/// The longest a log is kept: a century.
const MAX_KEEP_DAYS: u32 = 36_500;
/// The longest between two runs of a periodic job: thirty days.
const MAX_INTERVAL_SECONDS: u64 = 30 * 86_400;

impl EnforcementConfig {
    fn validate(&self) -> anyhow::Result<()> {
        if !(1..=100_000).contains(&self.rate) {
            bail!("enforcement.rate: 1-100000 requests per second");
        }
        if !(0.01..=60.0).contains(&self.timeout) {
            bail!("enforcement.timeout: 0.01-60 seconds");
        }
        if !(1..=10).contains(&self.tries) {
            bail!("enforcement.tries: 1-10");
        }
        // Bounded so the dates and timers made of them stay in range (found probing from
        // outside: a huge value passed the check and panicked the reconcile task).
        if self.reconcile_interval > MAX_INTERVAL_SECONDS {
            bail!("enforcement.reconcile_interval: 0-{MAX_INTERVAL_SECONDS} seconds");
        }
        if self.keep_days > MAX_KEEP_DAYS {
            bail!("enforcement.keep_days: 0-{MAX_KEEP_DAYS} days");
        }
        Ok(())
    }

    pub fn first_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.timeout)
    }
}

/// `[auth_log]`: every Access-Request's outcome, for the support desk. Changes take effect
/// at the next start.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthLogConfig {
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Days an attempt stays in the database; 0 keeps them all.
    #[serde(default = "default_auth_log_keep_days")]
    pub keep_days: u32,
    /// Attempts kept in memory per login (answered from when the database is away).
    #[serde(default = "default_auth_log_per_login")]
    pub per_login: u32,
}

fn default_auth_log_keep_days() -> u32 {
    30
}
fn default_auth_log_per_login() -> u32 {
    20
}

impl Default for AuthLogConfig {
    fn default() -> Self {
        AuthLogConfig {
            enabled: true,
            keep_days: default_auth_log_keep_days(),
            per_login: default_auth_log_per_login(),
        }
    }
}

impl AuthLogConfig {
    fn validate(&self) -> anyhow::Result<()> {
        if self.per_login > 1000 {
            bail!("auth_log.per_login: 0-1000 attempts");
        }
        if self.keep_days > MAX_KEEP_DAYS {
            bail!("auth_log.keep_days: 0-{MAX_KEEP_DAYS} days");
        }
        Ok(())
    }

    pub fn settings(&self) -> crate::radius::auth_log::AuthLogSettings {
        crate::radius::auth_log::AuthLogSettings {
            enabled: self.enabled,
            per_login: self.per_login as usize,
            keep_days: self.keep_days,
        }
    }
}

/// `[logins]`: how a login created without a username is named, and how generated passwords
/// look (the rules are `ispd_provisioning::login::Generation`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginsConfig {
    pub username_pattern: String,
    pub password_length: usize,
    pub password_alphabet: String,
}

impl Default for LoginsConfig {
    fn default() -> Self {
        let g = ispd_provisioning::login::Generation::default();
        LoginsConfig {
            username_pattern: g.username_pattern,
            password_length: g.password_length,
            password_alphabet: String::from_utf8_lossy(&g.password_alphabet).into_owned(),
        }
    }
}

impl LoginsConfig {
    pub fn generation(&self) -> ispd_provisioning::login::Generation {
        ispd_provisioning::login::Generation {
            username_pattern: self.username_pattern.clone(),
            password_length: self.password_length,
            password_alphabet: self.password_alphabet.as_bytes().to_vec(),
        }
    }
}

/// A NAS declared in the file; such entries are read-only over the API.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NasConfig {
    pub name: String,
    pub address: IpAddr,
    pub secret: String,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub coa_port: Option<u16>,
    #[serde(default = "default_true")]
    pub require_message_authenticator: bool,
    #[serde(default = "default_true")]
    pub limit_proxy_state: bool,
    /// `"coa"`, `"disconnect"` or `"none"`; unset = the vendor's default.
    #[serde(default)]
    pub coa: Option<String>,
}

fn default_true() -> bool {
    true
}

impl std::fmt::Debug for NasConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NasConfig")
            .field("name", &self.name)
            .field("address", &self.address)
            .field("secret", &"<redacted>")
            .field("vendor", &self.vendor)
            .finish_non_exhaustive()
    }
}

/// An API token declared in the file: only its hash is written down.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    pub name: String,
    pub role: Role,
    /// `sha256:<64 hex digits>`, as printed by `ispd hash-token`.
    pub hash: String,
}

impl Default for Config {
    #[allow(clippy::expect_used, reason = "the defaults are the empty table's")]
    fn default() -> Self {
        toml::from_str("").expect("the empty config is valid")
    }
}

impl Config {
    /// Reads and validates a config file; errors name the file, the line and the key.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("invalid config file {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| syntax_error(text, e))?;
        config.validate()?;
        Ok(config)
    }

    /// Every rule a config must meet, each error naming its key; the first broken one wins.
    fn validate(&self) -> anyhow::Result<()> {
        self.validate_listeners()?;
        self.validate_billing()?;
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| anyhow::anyhow!("log.level: {e}"))?;
        self.validate_nas()?;
        self.validate_pools()?;
        self.enforcement.validate()?;
        self.auth_log.validate()?;
        self.logins.generation().check()?;
        self.validate_tokens()
    }

    /// The database, the listeners and their limits, the walled garden.
    fn validate_listeners(&self) -> anyhow::Result<()> {
        if let Some(url) = &self.database.url
            && !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
        {
            bail!("database.url: must start with sqlite: or postgres:// (got a different scheme)");
        }
        if self.database.max_connections == 0 {
            bail!("database.max_connections: must be at least 1");
        }
        for (table, max, idle) in [
            ("admin", self.admin.max_connections, self.admin.idle_timeout),
            (
                "metrics",
                self.metrics.max_connections,
                self.metrics.idle_timeout,
            ),
        ] {
            if max == 0 {
                bail!("{table}.max_connections: must be at least 1");
            }
            if idle == 0 {
                bail!("{table}.idle_timeout: at least 1 second");
            }
        }
        self.admin.validate()?;
        if self.radius.auth_listen.is_empty() {
            bail!("radius.auth_listen: at least one address");
        }
        if self.radius.acct_listen.is_empty() {
            bail!("radius.acct_listen: at least one address");
        }
        // 0 closed every session as stale within a second (found probing from outside).
        if self.radius.stale_after == Some(0) {
            bail!(
                "radius.stale_after: at least 1 second (leave it unset for 3 × \
                 acct_interim_interval + 60)"
            );
        }
        if self.radius.walled_garden.address_list.is_empty()
            || self.radius.walled_garden.address_list.len() > 64
        {
            bail!("radius.walled_garden.address_list: 1-64 characters");
        }
        if self.radius.walled_garden.download_kbps == 0
            || self.radius.walled_garden.upload_kbps == 0
        {
            bail!("radius.walled_garden: download_kbps and upload_kbps must be positive");
        }
        let service = self.radius.juniper_service.trim();
        if service.len() > 64
            || !service
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            bail!(
                "radius.juniper_service: the name of a Junos dynamic service profile \
                 (letters, digits, '-', '_', '.'; at most 64)"
            );
        }
        Ok(())
    }

    /// `[billing]` and `[dunning]`.
    fn validate_billing(&self) -> anyhow::Result<()> {
        if !ispd_billing::money::is_currency(&self.billing.currency) {
            bail!("billing.currency: an ISO 4217 code such as \"CZK\" or \"EUR\"");
        }
        if !self.billing.run_at.is_empty() && self.billing.run_at().is_none() {
            bail!("billing.run_at: a time of day as \"HH:MM\", or \"\" for no daily run");
        }
        if let Err(e) = crate::clock::Zone::parse(&self.billing.timezone) {
            bail!("billing.timezone: {e}");
        }
        if let Some(percent) = self.billing.interest_rate_percent {
            ispd_billing::interest::InterestRate::new("billing.interest_rate_percent", percent)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        if self.billing.default_due_days > ispd_billing::invoice_group::MAX_DUE_DAYS {
            bail!(
                "billing.default_due_days: at most {} days",
                ispd_billing::invoice_group::MAX_DUE_DAYS
            );
        }
        if self.billing.interest_minimum < rust_decimal::Decimal::ZERO {
            bail!("billing.interest_minimum: an amount of zero or more");
        }
        // The core names the keys as written here (`dunning.level[0].fee`).
        self.dunning
            .settings()
            .validate()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if self.dunning.level.len() > usize::from(u8::MAX) {
            bail!("dunning.level: at most {} levels", u8::MAX);
        }
        Ok(())
    }

    /// `[[nas]]`: unique names and addresses, known vendors, secrets long enough.
    fn validate_nas(&self) -> anyhow::Result<()> {
        let mut names = std::collections::HashSet::new();
        let mut addresses = std::collections::HashSet::new();
        for (i, nas) in self.nas.iter().enumerate() {
            let key = format!("nas[{i}]");
            if !names.insert(nas.name.as_str()) {
                bail!("{key}.name: {:?} is declared twice", nas.name);
            }
            if !addresses.insert(nas.address) {
                bail!("{key}.address: {} is declared twice", nas.address);
            }
            if let Some(vendor) = &nas.vendor
                && ispd_provisioning::nas::NasVendor::parse(vendor).is_none()
            {
                bail!("{key}.vendor: one of generic, mikrotik, cisco, juniper, accel-ppp");
            }
            if let Some(coa) = &nas.coa
                && ispd_provisioning::enforcement::CoaMode::parse(coa).is_none()
            {
                bail!("{key}.coa: one of coa, disconnect, none");
            }
            self.nas_record(i).validate().map_err(|e| {
                anyhow::anyhow!("{key}.{}", e.to_string().trim_start_matches("nas."))
            })?;
            ispd_provisioning::nas::validate_secret(&format!("{key}.secret"), &nas.secret)?;
        }
        Ok(())
    }

    /// `[[token]]`: unique names, hashes in the form `ispd hash-token` prints.
    fn validate_tokens(&self) -> anyhow::Result<()> {
        let mut token_names = std::collections::HashSet::new();
        for (i, token) in self.token.iter().enumerate() {
            if !token_names.insert(token.name.as_str()) {
                bail!("token[{i}].name: {:?} is declared twice", token.name);
            }
            crate::token::TokenHash::parse(&token.hash)
                .map_err(|e| anyhow::anyhow!("token[{i}].hash: {e}"))?;
        }
        Ok(())
    }

    /// The domain record of the i-th `[[nas]]` table.
    pub fn nas_record(&self, i: usize) -> ispd_provisioning::nas::Nas {
        let nas = &self.nas[i];
        ispd_provisioning::nas::Nas {
            id: 0,
            name: nas.name.clone(),
            address: nas.address,
            vendor: nas
                .vendor
                .as_deref()
                .and_then(ispd_provisioning::nas::NasVendor::parse)
                .unwrap_or_default(),
            coa_port: nas
                .coa_port
                .unwrap_or(ispd_provisioning::nas::DEFAULT_COA_PORT),
            require_message_authenticator: nas.require_message_authenticator,
            limit_proxy_state: nas.limit_proxy_state,
            coa: nas
                .coa
                .as_deref()
                .and_then(ispd_provisioning::enforcement::CoaMode::parse),
            note: String::new(),
            version: 0,
        }
    }

    /// The SQLite file under the state directory unless a URL is configured.
    /// The SQLite database's file, when the database is one (see [`Self::database_url`]).
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        crate::storage::Backend::sqlite_file_of(&self.database_url())
    }

    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.state_dir.join("ispd.db").display()),
        }
    }
}

fn syntax_error(text: &str, error: toml::de::Error) -> anyhow::Error {
    anyhow::anyhow!("{}", toml_error(text, error))
}

/// A TOML parse error on one line, by line, column and key, without the offending line (it
/// may hold a NAS secret) and without quoted values from the message (a secret under a
/// mistyped key). toml's own rendering spans several lines, which a one-line answer (a
/// refused CSV mapping over gRPC) would show escaped.
pub(crate) fn toml_error(text: &str, mut error: toml::de::Error) -> String {
    let place = error
        .span()
        .map(|span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            // A syntax error carries no key path: the key its line sets is named from the
            // line (a key is not a secret; what follows the `=` is never shown).
            let key = text
                .lines()
                .nth(line - 1)
                .and_then(|l| l.split_once('='))
                .map(|(key, _)| key.trim())
                .filter(|key| {
                    !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                })
                .map(|key| format!(" (key `{key}`)"))
                .unwrap_or_default();
            format!("line {line}, column {column}{key}: ")
        })
        .unwrap_or_default();
    // Without its input, toml renders the message and the key path ("in `nas.secret`").
    error.set_input(None);
    // A quote the parser expected ("expected `\"`") is not a quoted value.
    let rendered = error.to_string().replace("`\"`", "`\0`");
    let mut message = String::new();
    for (i, part) in rendered.trim().split('"').enumerate() {
        message.push_str(if i % 2 == 1 { "\"…\"" } else { part });
    }
    let message = message.replace("`\0`", "`\"`").replace('\n', " ");
    format!("{place}{}", without_values(&message))
}

/// A type error shows the value it found between backticks ("invalid type: integer
/// `8177334455667788`"): a secret typed as a number is hidden as a quoted one is. The key
/// path ("in `nas.secret`") and the tokens the parser expected stay.
fn without_values(message: &str) -> String {
    const SHOWN: [&str; 4] = ["integer `", "floating point `", "boolean `", "character `"];
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some((at, kind)) = SHOWN
        .iter()
        .filter_map(|kind| rest.find(kind).map(|at| (at, kind)))
        .min()
    {
        let value_at = at + kind.len();
        out.push_str(&rest[..value_at]);
        match rest[value_at..].find('`') {
            Some(end) => {
                out.push_str("…`");
                rest = &rest[value_at + end + 1..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
