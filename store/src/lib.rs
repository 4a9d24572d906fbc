//! Storage: one repository, [`Store`], over SQLite (the embedded default) and PostgreSQL.
//!
//! Both backends run the same SQL through sqlx's `Any` driver with `$n` placeholders; what
//! differs is kept to the edges: the migrations (`migrations/sqlite`, `migrations/postgres`,
//! differing only in identity columns) and the connection set-up. One schema shape for both
//! means one conformance suite (`conformance.rs`) proves both. Every write runs in one
//! transaction together with its audit record.

// Storage never panics on what it reads: outside tests, no unwrap or expect; a row that breaks
// an invariant is a corruption error.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
// A function over 80 lines (clippy.toml) hides steps that deserve a name.
#![cfg_attr(not(test), deny(clippy::too_many_lines))]

mod access;
mod accounting;
mod audit;
mod auth_log;
mod backup;
mod billing_candidates;
mod books;
mod change_log;
mod charge;
mod client;
mod codes;
mod discount;
mod dunning;
mod enforcement;
mod figures;
mod instance;
mod interest;
mod invoice;
mod invoice_batch;
mod invoice_group;
mod job_lock;
mod login;
mod nas;
mod own_read;
mod own_write;
mod page;
mod payment;
mod payment_batch;
mod scheduled_action;
pub mod seal;
mod session;
mod settlement;
mod statements;
mod subscription;
mod tariff;
mod tariff_change;
mod temporary_speed;
pub mod token;
mod tx;
mod unit;
mod violation;
mod write_turn;

#[cfg(test)]
mod conformance;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Connection, Executor};

pub use access::{AccessRow, AccessScope, OpenAddress};
pub use accounting::{AccountingWriter, AcctItem, Applied, OpenSessionChanges, Partition};
use audit::{Audit, AuditRow, record_audit_rows};
pub use audit::{AuditEntry, AuditFilter};
pub use auth_log::{AuthAttempt, AuthLogEntry, AuthLogFilter, AuthResult, SmolStr};
pub use billing_candidates::BillingCandidate;
pub use change_log::{ChangeListener, Heard, Logged, LoggedChange, OpenSessionsChanged};
pub use charge::ChargeRecord;
pub use client::{ClientFilter, SearchHit};
pub use codes::CodeList;
pub use discount::DiscountRecord;
pub use dunning::{DunningControl, DunningHold, DunningInput, OpenDocument, RemindedInvoice};
pub use enforcement::{EnforcementAttempt, EnforcementAttemptRow, LastRequest};
pub use figures::Figures;
pub use instance::InstanceRow;
pub use interest::{OverdueInvoice, OverdueOf};
pub use invoice::{
    BilledPeriods, ClientHead, DocumentKind, InvoiceDraft, InvoiceLineRecord, InvoiceRecord,
    Issued, LineRef, LiveLine,
};
pub use invoice_batch::IssuedBatch;
pub use job_lock::{JobLock, JobRun, Lead};
pub use login::LoginRecord;
pub use nas::NasRecord;
pub use page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest};
pub use payment::{ClientBalance, NewPayment, PaymentOutcome, UnmatchedPayment};
pub use scheduled_action::{ActionState, ScheduledAction};
pub use session::{OpenSession, SessionFilter, SessionRow, UsageDay};
pub use tx::{OwnTx, Tx};

pub use subscription::{HistoryEntry, SubscriptionFilter, SubscriptionRecord};

use crate::seal::{SealError, Sealer};
use ispd_billing::FieldError;

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`, as the status shows it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    pub(crate) fn of_connection(conn: &AnyConnection) -> Backend {
        if conn.backend_name() == "SQLite" {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    /// The file a `sqlite:` URL names, before anything opens it; `None` for PostgreSQL, an
    /// in-memory database or a URL that does not parse (opening it then says why).
    pub fn sqlite_file_of(url: &str) -> Option<std::path::PathBuf> {
        if Backend::of_url(url) != Some(Backend::Sqlite)
            || url.contains(":memory:")
            || url.contains("mode=memory")
        {
            return None;
        }
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
        Some(options.get_filename().to_path_buf())
    }

    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// What went wrong, in the words the API maps to status codes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} {key:?} not found")]
    NotFound { entity: &'static str, key: String },
    /// A unique field already taken (client number, username, address...).
    #[error("{field}: {message}")]
    Conflict { field: String, message: String },
    /// The record changed since the caller read it.
    #[error("{entity} {key:?} was changed by someone else since it was read; read it again")]
    Stale { entity: &'static str, key: String },
    /// The operation is refused in the record's current situation (e.g. delete while in use).
    #[error("{0}")]
    Precondition(String),
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// From one of the store's own SQLite connections (`own_write`, `own_read`).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Why [`Store::open`] failed, worded for the operator who wrote `database.url`. The cause is
/// part of the message (not a `source`), so it is printed once however the error is shown.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("database.url must start with sqlite: or postgres://")]
    Scheme,
    #[error("database.url is not a valid database URL: {0}")]
    Url(sqlx::Error),
    #[error("cannot connect to the database ({url}): {cause}")]
    Connect { url: String, cause: sqlx::Error },
    #[error("cannot apply database migrations: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error(
        "the database was migrated by a newer ispd (it has migration {applied}; this ispd knows \
         migrations up to {known}): start that newer version, or restore the backup taken before \
         the upgrade. An older ispd never writes to a newer database"
    )]
    Newer { applied: i64, known: i64 },
}

impl StoreError {
    /// The record of `entity` named `key` is not there.
    pub fn not_found(entity: &'static str, key: impl Into<String>) -> Self {
        StoreError::NotFound {
            entity,
            key: key.into(),
        }
    }

    /// Whether the database refused the data itself (a value out of range, a constraint, a
    /// byte its encoding forbids, a stored row it cannot read) rather than being unavailable
    /// (connection lost, disk full, busy, timed out). Retrying refused data never succeeds,
    /// so a caller sets such a record aside instead of waiting for the database.
    pub fn refuses_data(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(db)) => {
                if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                    // SQLSTATE class 22 data exception, 23 integrity constraint.
                    pg.code().starts_with("22") || pg.code().starts_with("23")
                } else if let Some(sqlite) = db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
                    // The primary result code: TOOBIG, CONSTRAINT, MISMATCH, RANGE.
                    let code = sqlx::error::DatabaseError::code(sqlite)
                        .and_then(|c| c.parse::<u32>().ok());
                    code.is_some_and(|c| matches!(c & 0xff, 18 | 19 | 20 | 25))
                } else {
                    false
                }
            }
            StoreError::Database(sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. }) => true,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                matches!(e.extended_code & 0xff, 18 | 19 | 20 | 25)
            }
            StoreError::Sqlite(
                rusqlite::Error::FromSqlConversionFailure(..)
                | rusqlite::Error::InvalidColumnType(..)
                | rusqlite::Error::IntegralValueOutOfRange(..),
            ) => true,
            StoreError::Database(_) | StoreError::Sqlite(_) | StoreError::Precondition(_) => false,
            StoreError::NotFound { .. }
            | StoreError::Conflict { .. }
            | StoreError::Stale { .. }
            | StoreError::Invalid(_)
            | StoreError::Seal(_) => true,
        }
    }
}

/// Who made a change, for the audit log.
#[derive(Debug, Clone)]
pub struct Actor(pub String);

/// The repository. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    sealer: Sealer,
    /// The instance its PostgreSQL connections name themselves after (`application_name`),
    /// which the change log records as the origin of each change.
    instance: std::sync::Arc<str>,
    /// PostgreSQL only: where the change-log listener connects. Never printed (it may hold
    /// the password).
    listen_url: Option<std::sync::Arc<str>>,
    /// SQLite only: the database's file, read once at open (see [`Store::sqlite_file`]).
    sqlite_file: Option<std::sync::Arc<std::path::Path>>,
    /// SQLite only: the connection of the store's own that the billing run's batches write on
    /// (see `invoice_batch`), kept between batches with its page cache and prepared
    /// statements; `None` until the first batch opens it.
    batch_connection: std::sync::Arc<std::sync::Mutex<Option<own_write::OwnConnection>>>,
    /// SQLite only: the turns its own connections take at the file's write lock.
    write_turns: std::sync::Arc<write_turn::WriteTurns>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

/// A bind value for dynamically built filters.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
}

impl Arg {
    /// The argument as a statement's value.
    fn value(&self) -> statements::Value<'_> {
        match self {
            Arg::Text(t) => statements::Value::from(t.as_str()),
            Arg::Int(i) => statements::Value::from(*i),
        }
    }
}

/// Builds `WHERE a = $1 AND b LIKE $2 ...` with numbered placeholders, valid on both backends.
#[derive(Debug, Default)]
struct Where {
    conditions: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    /// Adds a condition; `{}` in it stands for the next placeholder.
    fn and(&mut self, condition: &str, arg: Arg) {
        self.args.push(arg);
        self.conditions
            .push(condition.replace("{}", &format!("${}", self.args.len())));
    }

    /// `column = text`, unless `text` is empty: an empty filter field means any value.
    fn equals(&mut self, column: &str, text: &str) {
        if !text.is_empty() {
            self.and(&format!("{column} = {{}}"), Arg::Text(text.to_owned()));
        }
    }

    /// A condition without a value.
    fn and_true(&mut self, condition: &str) {
        self.conditions.push(condition.to_owned());
    }

    /// `column IN (…)` over `ids`; nothing matches an empty list.
    fn and_in(&mut self, column: &str, ids: &[i64]) {
        if ids.is_empty() {
            self.conditions.push("1 = 0".to_owned());
            return;
        }
        let list: Vec<String> = ids
            .iter()
            .map(|id| {
                self.args.push(Arg::Int(*id));
                format!("${}", self.args.len())
            })
            .collect();
        self.conditions
            .push(format!("{column} IN ({})", list.join(", ")));
    }

    fn sql(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        }
    }

    fn next_placeholder(&self) -> String {
        format!("${}", self.args.len() + 1)
    }

    fn bind<'q, O>(
        &self,
        query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments> {
        bind_args(query, self.args.iter().cloned())
    }
}

/// Binds `args` to `query` in order, for `$1`, `$2`….
fn bind_args<'q, O>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments>,
    args: impl IntoIterator<Item = Arg>,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments> {
    for arg in args {
        query = match arg {
            Arg::Text(t) => query.bind(t),
            Arg::Int(i) => query.bind(i),
        };
    }
    query
}

/// Timestamps are fixed-width RFC 3339 UTC text, so text order is time order on both backends.
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    // `%Y-%m-%dT%H:%M:%S%.6fZ` without parsing a format string on every call: the accounting
    // writers and the auth log stamp every row with this.
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A timestamp [`timestamp`] wrote, read back; `what` names it in the error of a value that
/// is not one.
fn parse_timestamp(what: &str, text: &str) -> StoreResult<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| corrupt(format!("{what}: {text:?}")))
}

fn now() -> String {
    timestamp(chrono::Utc::now())
}

fn parse_date(field: &str, text: &str) -> StoreResult<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        StoreError::Database(sqlx::Error::Decode(
            format!("{field}: stored date {text:?} is not YYYY-MM-DD").into(),
        ))
    })
}

fn parse_opt_date(field: &str, text: Option<String>) -> StoreResult<Option<chrono::NaiveDate>> {
    text.map(|t| parse_date(field, &t)).transpose()
}

/// Dates are ISO 8601 text (`%Y-%m-%d`), so text order is date order. Written by `Display`,
/// which does not parse a format string on every call (a billing run writes several a row).
fn date_text(date: chrono::NaiveDate) -> String {
    date.to_string()
}

fn corrupt(what: String) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(what.into()))
}

/// Maps a unique-constraint violation that slipped past the explicit checks (a concurrent
/// insert) to a conflict on the given field.
fn unique_as_conflict(err: sqlx::Error, field: &str) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict {
            field: field.into(),
            message: "already exists".into(),
        },
        _ => StoreError::Database(err),
    }
}

impl Store {
    /// Connects, creating the SQLite file when needed, and applies the embedded migrations.
    pub async fn open(url: &str, max_connections: u32, sealer: Sealer) -> Result<Store, OpenError> {
        Self::open_instance(url, max_connections, sealer, "ispd").await
    }

    /// [`Store::open`] for one of several instances on a database: its PostgreSQL
    /// connections carry `instance` as their `application_name` (letters, digits and `.-_:`
    /// kept, at most 63), so the change log knows which instance wrote what and
    /// `pg_stat_activity` shows it.
    pub async fn open_instance(
        url: &str,
        max_connections: u32,
        sealer: Sealer,
        instance: &str,
    ) -> Result<Store, OpenError> {
        sqlx::any::install_default_drivers();
        let instance: std::sync::Arc<str> = instance
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || ".-_:".contains(*c))
            .take(63)
            .collect::<String>()
            .into();
        let name = instance.clone();
        let backend = Backend::of_url(url).ok_or(OpenError::Scheme)?;
        let url = match backend {
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url).map_err(OpenError::Url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_release(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // The ROLLBACK of a dropped transaction is queued to the connection's
                        // worker; let it run before asking.
                        conn.ping().await?;
                    }
                    // A transaction whose COMMIT failed and whose ROLLBACK then failed too
                    // (SQLITE_FULL rolls back by itself) leaves the driver counting an open
                    // transaction, and every later BEGIN on it fails. Such a connection is
                    // closed, never reused: the next write gets a clean one.
                    Ok(!conn.is_in_transaction())
                })
            })
            .after_connect(move |conn, _meta| {
                let name = name.clone();
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            conn.execute(sqlx::AssertSqlSafe(sqlite_pragmas())).await?;
                        }
                        Backend::Postgres => {
                            // `name` holds no quote (filtered above).
                            let set = format!("SET application_name = '{name}'");
                            conn.execute(sqlx::AssertSqlSafe(set)).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|cause| OpenError::Connect {
                url: redact_url(&url),
                cause,
            })?;
        let migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        let known = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        migrator.run(&pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::VersionMissing(applied) => {
                OpenError::Newer { applied, known }
            }
            other => OpenError::Migrate(other),
        })?;
        let sqlite_file =
            database_file(&pool, backend)
                .await
                .map_err(|cause| OpenError::Connect {
                    url: redact_url(&url),
                    cause,
                })?;
        Ok(Store {
            pool,
            backend,
            sealer,
            listen_url: (backend == Backend::Postgres).then(|| url.as_str().into()),
            instance,
            sqlite_file,
            batch_connection: Default::default(),
            write_turns: Default::default(),
        })
    }

    /// A write transaction. SQLite's default DEFERRED transactions fail with SQLITE_BUSY when
    /// they read before writing while another connection writes; IMMEDIATE takes the write lock
    /// up front and waits for it (busy_timeout).
    async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Whether any NAS secret or login password is stored sealed: then only the key they
    /// were sealed with will do.
    pub async fn holds_sealed_secrets(&self) -> StoreResult<bool> {
        let rows: i64 =
            sqlx::query_scalar("SELECT (SELECT COUNT(*) FROM nas) + (SELECT COUNT(*) FROM login)")
                .fetch_one(&self.pool)
                .await?;
        Ok(rows > 0)
    }

    /// The database's size on disk in bytes (SQLite: its pages, the write-ahead log aside;
    /// PostgreSQL: `pg_database_size`).
    pub async fn database_bytes(&self) -> StoreResult<i64> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
            }
            Backend::Postgres => "SELECT pg_database_size(current_database())",
        };
        Ok(sqlx::query_scalar(sql).fetch_one(&self.pool).await?)
    }

    /// The SQLite database's file, for a connection of the store's own beside the pool
    /// (accounting's writers, large reads, the billing batches); `None` on PostgreSQL or in
    /// memory.
    fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self.sqlite_file
            .as_deref()
            .map(std::path::Path::to_path_buf)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A write transaction for a use case that writes through several repository calls:
    /// what they write commits, or rolls back, together.
    pub async fn begin_write(&self) -> StoreResult<WriteTx> {
        Ok(WriteTx(self.write_tx().await?))
    }

    /// Runs `write` — one of the `_in` writes a use case may also run inside a transaction
    /// of its own — in a write transaction of its own, committed when it succeeds.
    async fn alone<T>(
        &self,
        write: impl AsyncFnOnce(&mut WriteTx) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut tx = self.begin_write().await?;
        let written = write(&mut tx).await?;
        tx.commit().await?;
        Ok(written)
    }

    /// A write transaction that changes clients' money — records or assigns a payment, issues
    /// or cancels a document, pays credit back, suspends or restores for debt — holding it
    /// from its start ([`Store::hold_money_in`]).
    pub async fn begin_money_write(&self) -> StoreResult<WriteTx> {
        let mut tx = self.begin_write().await?;
        self.hold_money_in(&mut tx).await?;
        Ok(tx)
    }

    /// A write transaction that puts a service on a unit, moves one on a unit to another
    /// tariff or service, or changes a tariff's service class, holding the units against every
    /// other such transaction from its start: the one-of-a-class rule
    /// (`ispd_billing::unit::check_one_per_class`) is decided on what it reads, and two
    /// services of one class arriving at once would each read the unit without the other.
    pub async fn begin_unit_write(&self) -> StoreResult<WriteTx> {
        let mut tx = self.begin_write().await?;
        self.hold_in(&mut tx, "units").await?;
        Ok(tx)
    }

    /// Holds the clients' money against every other transaction's until the caller's ends.
    ///
    /// A use case reads a client's account (its open documents, its credit, whether it is
    /// suspended), has the core decide, and writes the result. Two at once, each deciding on
    /// what it read before the other committed, lose or make money (two payments of one debt
    /// both paying it, one credit refunded twice, one payment assigned to two clients) or
    /// leave a client who paid suspended. SQLite runs its write transactions one at a time
    /// (`BEGIN IMMEDIATE`); on PostgreSQL, where several instances write at once, the
    /// transaction takes an advisory lock until it ends, before it reads or writes anything
    /// (so that no two wait for each other's rows).
    async fn hold_money_in(&self, tx: &mut impl Tx) -> StoreResult<()> {
        self.hold_in(tx, "money").await
    }

    /// Holds what `lock` names until the transaction ends: nothing to do on SQLite, whose
    /// write transactions run one at a time; a transaction-scoped advisory lock on PostgreSQL.
    async fn hold_in(&self, tx: &mut impl Tx, lock: &str) -> StoreResult<()> {
        if self.backend == Backend::Sqlite {
            return Ok(());
        }
        let key = statements::Value::from(job_lock::job_key(lock));
        let sql = "SELECT pg_advisory_xact_lock($1)";
        statements::Statements::execute(&mut tx.conn(), sql, vec![key]).await?;
        Ok(())
    }

    /// One round trip to the database: does it answer at all?
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The file a SQLite pool has open; `None` on PostgreSQL or in memory.
async fn database_file(
    pool: &AnyPool,
    backend: Backend,
) -> Result<Option<std::sync::Arc<std::path::Path>>, sqlx::Error> {
    if backend != Backend::Sqlite {
        return Ok(None);
    }
    let file: String =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(pool)
            .await?;
    Ok((!file.is_empty()).then(|| std::path::PathBuf::from(file).into()))
}

/// A write transaction held by a use case across repository calls (see
/// [`Store::begin_write`]). Dropped without [`WriteTx::commit`], it rolls back.
pub struct WriteTx(sqlx::Transaction<'static, sqlx::Any>);

impl WriteTx {
    pub async fn commit(self) -> StoreResult<()> {
        self.0.commit().await?;
        Ok(())
    }

    /// The connection, for the repositories only: a use case runs no SQL.
    fn conn(&mut self) -> &mut AnyConnection {
        &mut self.0
    }
}

/// The URL with any password replaced, for logs and errors: the userinfo's (up to the last
/// `@` of the authority, so a password with an `@` in it is hidden whole) and a query
/// parameter's (`password=`, `sslpassword=`: PostgreSQL takes either place).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority_path, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let mut redacted = format!("{scheme}://");
    match authority_path.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            redacted.push_str(&format!("{user}:***@{host}"));
        }
        None => redacted.push_str(authority_path),
    }
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.to_ascii_lowercase().contains("pass") => {
                    format!("{key}=***")
                }
                _ => pair.to_owned(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&pairs.join("&"));
    }
    redacted
}

/// Parameters per multi-row statement (see [`Placeholders`] for why SQLite's are anonymous).
const PARAMETERS_PER_STATEMENT: usize = 10000;

/// How long a write on SQLite waits for the file's write lock, held by another connection,
/// before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The settings of every pooled SQLite connection.
fn sqlite_pragmas() -> String {
    format!(
        "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = {}; PRAGMA synchronous = FULL;
         PRAGMA journal_size_limit = {LOG_SIZE_KEPT};",
        BUSY_TIMEOUT.as_millis()
    )
}

/// What SQLite's log file is cut back to when it starts over (`journal_size_limit`), in
/// bytes. A bulk call's log grows by all the call writes, copied only once it is over (a
/// billing run of 100,000 invoices: about 110 MB, see `own_write`); left at that size, the
/// file would keep the disk space until the daemon stops.
const LOG_SIZE_KEPT: u64 = 64 << 20;

/// Rows per multi-row statement of `columns` parameters each.
pub(crate) fn rows_per_statement(columns: usize) -> usize {
    (PARAMETERS_PER_STATEMENT / columns.max(1)).max(1)
}

/// Placeholders of the multi-row statements of batches. SQLite gets anonymous `?`, bound in
/// order: it resolves each named `$N` by a linear scan of the statement's names, so binding
/// costs grow with the square of their number (measured: 6,400 `$N` in one statement spent
/// 60 % of a billing run there). PostgreSQL gets `$N`.
pub(crate) struct Placeholders {
    numbered: bool,
    next: usize,
}

impl Placeholders {
    pub(crate) fn for_backend(backend: Backend) -> Self {
        Self {
            numbered: backend != Backend::Sqlite,
            next: 1,
        }
    }

    pub(crate) fn for_conn(conn: &AnyConnection) -> Self {
        Self::for_backend(Backend::of_connection(conn))
    }

    pub(crate) fn one(&mut self) -> String {
        let mut p = String::new();
        self.push(&mut p);
        p
    }

    /// Appends the next placeholder to `sql`: a batch's statement has thousands, each
    /// written in place.
    fn push(&mut self, sql: &mut String) {
        if self.numbered {
            use std::fmt::Write as _;
            let _ = write!(sql, "${}", self.next);
            self.next += 1;
        } else {
            sql.push('?');
        }
    }

    /// `p, p, p` for an `IN (...)` list.
    pub(crate) fn list(&mut self, n: usize) -> String {
        let mut sql = String::with_capacity(n * 4);
        for i in 0..n {
            if i > 0 {
                sql.push_str(", ");
            }
            self.push(&mut sql);
        }
        sql
    }

    /// `(p, p), (p, p)` for `rows` rows; `cast` wraps each column's placeholder (so
    /// PostgreSQL knows the types of a VALUES list).
    pub(crate) fn rows(&mut self, rows: usize, cast: &[&str]) -> String {
        let mut sql = String::with_capacity(rows * (cast.len() * 4 + 4));
        for row in 0..rows {
            sql.push_str(if row > 0 { ", (" } else { "(" });
            for (column, ty) in cast.iter().enumerate() {
                if column > 0 {
                    sql.push_str(", ");
                }
                if ty.is_empty() {
                    self.push(&mut sql);
                } else {
                    sql.push_str("CAST(");
                    self.push(&mut sql);
                    sql.push_str(" AS ");
                    sql.push_str(ty);
                    sql.push(')');
                }
            }
            sql.push(')');
        }
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_in_each_dialect() {
        let mut numbered = Placeholders::for_backend(Backend::Postgres);
        assert_eq!(
            numbered.rows(2, &["", "TEXT"]),
            "($1, CAST($2 AS TEXT)), ($3, CAST($4 AS TEXT))"
        );
        assert_eq!(numbered.list(2), "$5, $6");
        assert_eq!(numbered.one(), "$7");
        let mut anonymous = Placeholders::for_backend(Backend::Sqlite);
        assert_eq!(
            anonymous.rows(2, &["BIGINT", ""]),
            "(CAST(? AS BIGINT), ?), (CAST(? AS BIGINT), ?)"
        );
        assert_eq!(anonymous.list(3), "?, ?, ?");
        assert_eq!(anonymous.list(0), "");
    }

    #[test]
    fn dates_keep_their_stored_shape() {
        use chrono::NaiveDate;
        let days = [
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            NaiveDate::from_ymd_opt(1, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(),
            NaiveDate::MAX,
            NaiveDate::MIN,
        ];
        for day in days {
            assert_eq!(date_text(day), day.format("%Y-%m-%d").to_string());
            assert_eq!(parse_date("day", &date_text(day)).unwrap(), day);
        }
        assert_eq!(date_text(days[0]), "2026-12-01");
    }

    #[test]
    fn timestamps_keep_their_stored_shape() {
        use chrono::TimeZone;
        let instants = [
            chrono::Utc
                .with_ymd_and_hms(2026, 12, 5, 16, 36, 22)
                .unwrap(),
            chrono::Utc.timestamp_micros(1_764_952_582_000_001).unwrap(),
            chrono::Utc.timestamp_micros(999_999).unwrap(),
            chrono::Utc.with_ymd_and_hms(2099, 1, 1, 0, 0, 0).unwrap()
                + chrono::Duration::nanoseconds(123_456_789),
        ];
        for at in instants {
            assert_eq!(
                timestamp(at),
                at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
            );
        }
        assert_eq!(
            timestamp(chrono::Utc.timestamp_micros(999_999).unwrap()),
            "1970-01-01T00:00:00.999999Z"
        );
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://ispd:s3cret@db:5432/ispd"),
            "postgres://ispd:***@db:5432/ispd"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
        // Found probing from outside: a password in the query, or with an `@` in it.
        assert_eq!(
            redact_url("postgres://127.0.0.1:1/ispd?user=ispd&password=QPASSleak55&sslmode=off"),
            "postgres://127.0.0.1:1/ispd?user=ispd&password=***&sslmode=off"
        );
        assert_eq!(
            redact_url("postgres://ispd:PG@word@@db/ispd?sslpassword=x"),
            "postgres://ispd:***@db/ispd?sslpassword=***"
        );
    }

    /// Migration 36 rebuilds SQLite's payment table (to drop a column's UNIQUE): a database of
    /// the release before keeps its payments, their ids and the payments split off them, the
    /// numbering goes on after them, and foreign keys are enforced again afterwards.
    #[tokio::test]
    async fn the_sqlite_payment_rebuild_keeps_the_payments() {
        sqlx::any::install_default_drivers();
        let file = std::env::temp_dir().join(format!("ispd-rebuild-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&file);
        let url = format!("sqlite://{}", file.display());
        let older = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&format!("{url}?mode=rwc"))
            .await
            .unwrap();
        let mut before = sqlx::migrate!("migrations/sqlite");
        before.migrations = before
            .migrations
            .iter()
            .filter(|m| m.version < 36)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        before.run(&older).await.unwrap();
        sqlx::raw_sql(
            "PRAGMA foreign_keys = ON;
             INSERT INTO payment (amount_minor, received_on, source, created_at,
                bank_transaction_id, currency)
             VALUES (50000, '2026-10-05', 'camt053', 'now', 'B-1', 'CZK'),
                    (70000, '2026-10-05', 'camt053', 'now', 'B-2', 'CZK');
             INSERT INTO payment (amount_minor, received_on, source, created_at, split_from)
             VALUES (100, '2026-10-05', 'camt053', 'now', 2);",
        )
        .execute(&older)
        .await
        .unwrap();
        older.close().await;

        let store = Store::open(&url, 1, Sealer::from_key([1; 32]))
            .await
            .unwrap();
        let rows: Vec<(i64, Option<String>, Option<i64>, i64)> = sqlx::query_as(
            "SELECT id, bank_transaction_id, split_from, amount_minor FROM payment ORDER BY id",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap();
        assert_eq!(
            rows,
            [
                (1, Some("B-1".into()), None, 50000),
                (2, Some("B-2".into()), None, 70000),
                (3, None, Some(2), 100)
            ]
        );
        let insert = |split_from: i64| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO payment (amount_minor, received_on, source, created_at, split_from)
                 VALUES (1, '2026-10-06', 'manual', 'now', $1) RETURNING id",
            )
            .bind(split_from)
            .fetch_one(&store.pool)
        };
        assert_eq!(insert(1).await.unwrap(), 4, "numbering goes on");
        assert!(insert(999).await.is_err(), "foreign keys are enforced");
        let broken: Vec<(String,)> = sqlx::query_as("PRAGMA foreign_key_check")
            .fetch_all(&store.pool)
            .await
            .unwrap();
        assert!(broken.is_empty(), "{broken:?}");
        store.pool.close().await;
        let _ = std::fs::remove_file(&file);
    }

    #[test]
    fn where_builder_numbers_placeholders() {
        let mut w = Where::default();
        w.and("a = {}", Arg::Int(1));
        w.and("b LIKE {}", Arg::Text("x".into()));
        assert_eq!(w.sql(), "WHERE a = $1 AND b LIKE $2");
        assert_eq!(w.next_placeholder(), "$3");
    }
}
