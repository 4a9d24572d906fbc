//! The change log: what instances committed that alters a login's answer or the NAS table.
//! Its rows are written by triggers in the changing transaction itself (migration 0016 on
//! PostgreSQL, 0034 on SQLite), on PostgreSQL each with the writing instance's id (the
//! connection's `application_name`); this module reads them, waits for their NOTIFY, and
//! prunes them. On PostgreSQL the other instances follow it; on SQLite, which serves one
//! instance, only a start after a crash reads it ([`Store::logged_since`]).

use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;

use super::{AccessScope, Backend, Store, StoreError, StoreResult};

/// The NOTIFY channel the triggers announce on.
const CHANNEL: &str = "ispd_change";
/// The NOTIFY channel the accounting writers announce opened and closed sessions on. Not a
/// log: a count is read again from the sessions themselves, so a lost notification is
/// made good by counting everything again after a reconnect. Each announcement names the
/// instance that made it, which has counted its own changes already and does not listen to
/// them (with an instance's accounting at thousands of batches a second, counting again
/// what it had just counted doubled the queries it sent).
pub(crate) const SESSIONS_CHANNEL: &str = "ispd_sessions";
/// PostgreSQL's limit on a NOTIFY payload is 8,000 bytes; a longer list says "everyone".
const PAYLOAD_LIMIT: usize = 7_900;

/// Whose open sessions changed, as announced on [`SESSIONS_CHANNEL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenSessionsChanged {
    Logins(Vec<i64>),
    /// Too many to name, or not known: count every login again.
    All,
}

impl OpenSessionsChanged {
    /// `origin/3,14,15` or `origin/*`; an instance id holds no `/` (see `Store::open_instance`).
    pub(crate) fn payload(&self, origin: &str) -> String {
        let logins = match self {
            OpenSessionsChanged::Logins(ids) => {
                let text = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
                if origin.len() + text.len() < PAYLOAD_LIMIT {
                    text
                } else {
                    "*".to_owned()
                }
            }
            OpenSessionsChanged::All => "*".to_owned(),
        };
        format!("{origin}/{logins}")
    }

    /// The announcing instance (none from an instance older than the origin in the payload)
    /// and whose sessions changed. A list that does not parse counts everyone again rather
    /// than nobody.
    fn parse(payload: &str) -> (Option<&str>, OpenSessionsChanged) {
        let (origin, logins) = match payload.split_once('/') {
            Some((origin, logins)) => (Some(origin), logins),
            None => (None, payload),
        };
        let changed = logins
            .split(',')
            .map(str::parse::<i64>)
            .collect::<Result<Vec<_>, _>>()
            .map_or(OpenSessionsChanged::All, OpenSessionsChanged::Logins);
        (origin, changed)
    }
}

/// What the listener heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// The change log has new rows.
    Logged,
    OpenSessions(OpenSessionsChanged),
}

/// What a logged change touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logged {
    Access(AccessScope),
    Nas,
}

/// One row of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedChange {
    pub id: i64,
    pub what: Logged,
    /// The instance that committed it.
    pub origin: String,
    /// When it was written (the database server's clock).
    pub at: DateTime<Utc>,
}

/// Waits for the log's NOTIFY on a connection of its own.
pub struct ChangeListener {
    listener: PgListener,
    /// This store's instance: its own announcements of open sessions are not heard.
    instance: std::sync::Arc<str>,
}

impl ChangeListener {
    /// The next notification from another instance. A lost connection is an error, and
    /// notifications sent meanwhile are lost: reconnect, read the log on from the last
    /// applied id and count every login's open sessions again.
    pub async fn next(&mut self) -> StoreResult<Heard> {
        loop {
            let Some(n) = self.listener.try_recv().await? else {
                return Err(StoreError::Precondition(
                    "the change-log listener lost its connection".into(),
                ));
            };
            if let Some(heard) = self.heard(&n) {
                return Ok(heard);
            }
        }
    }

    /// A notification from another instance already received, without waiting.
    pub fn buffered(&mut self) -> Option<Heard> {
        loop {
            let n = self.listener.next_buffered()?;
            if let Some(heard) = self.heard(&n) {
                return Some(heard);
            }
        }
    }

    /// What `n` tells this instance; `None` for its own announcement of open sessions.
    fn heard(&self, n: &sqlx::postgres::PgNotification) -> Option<Heard> {
        if n.channel() != SESSIONS_CHANNEL {
            return Some(Heard::Logged);
        }
        let (origin, changed) = OpenSessionsChanged::parse(n.payload());
        (origin != Some(&*self.instance)).then_some(Heard::OpenSessions(changed))
    }
}

impl Store {
    /// A listener for the change log; `None` on SQLite.
    pub async fn listen_changes(&self) -> StoreResult<Option<ChangeListener>> {
        let Some(url) = self.listen_url.as_deref() else {
            return Ok(None);
        };
        let mut listener = PgListener::connect(url).await?;
        listener.listen_all([CHANNEL, SESSIONS_CHANNEL]).await?;
        Ok(Some(ChangeListener {
            listener,
            instance: self.instance.clone(),
        }))
    }

    /// This store's instance id, as its changes are logged.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The logged changes after `after`, oldest first, at most `limit`.
    pub async fn changes_after(&self, after: i64, limit: i64) -> StoreResult<Vec<LoggedChange>> {
        if self.backend != Backend::Postgres {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
            "SELECT id, scope, key, origin, CAST(EXTRACT(EPOCH FROM at) * 1000000 AS BIGINT)
             FROM change_log WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, scope, key, origin, micros)| {
                let what = Logged::of(id, &scope, key)?;
                let at = DateTime::from_timestamp_micros(micros)
                    .ok_or_else(|| super::corrupt(format!("change log {id}: at {micros}")))?;
                Ok(LoggedChange {
                    id,
                    what,
                    origin,
                    at,
                })
            })
            .collect()
    }

    /// What the instances `origins` logged since `since`, oldest first: after they died,
    /// what their last minutes changed. On SQLite, which one instance serves at a time and
    /// logs no origin, everything logged since.
    pub async fn logged_since(
        &self,
        origins: &[String],
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<Logged>> {
        let rows: Vec<(i64, String, String)> = match self.backend {
            Backend::Postgres => {
                if origins.is_empty() {
                    return Ok(Vec::new());
                }
                let listed: Vec<String> = (2..origins.len() + 2).map(|n| format!("${n}")).collect();
                let sql = format!(
                    "SELECT id, scope, key FROM change_log
                     WHERE at >= CAST($1 AS TIMESTAMPTZ) AND origin IN ({}) ORDER BY id",
                    listed.join(", ")
                );
                // Only placeholders are put in: the origins are bound.
                let mut query =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(super::timestamp(since));
                for origin in origins {
                    query = query.bind(origin.clone());
                }
                query.fetch_all(&self.pool).await?
            }
            Backend::Sqlite => {
                sqlx::query_as("SELECT id, scope, key FROM change_log WHERE at >= $1 ORDER BY id")
                    .bind(log_time(since))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.into_iter()
            .map(|(id, scope, key)| Logged::of(id, &scope, key))
            .collect()
    }

    /// The first and last id in the log (`None` when it is empty): an instance whose last
    /// applied id lies before the first missed pruned changes and reloads everything.
    pub async fn change_log_bounds(&self) -> StoreResult<(Option<i64>, Option<i64>)> {
        if self.backend != Backend::Postgres {
            return Ok((None, None));
        }
        Ok(sqlx::query_as("SELECT MIN(id), MAX(id) FROM change_log")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Deletes the log's rows older than `before`; returns how many.
    pub async fn prune_change_log(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let (sql, at) = prune(self.backend, before);
        Ok(sqlx::query(sql)
            .bind(at)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}

/// The statement that deletes the log's rows older than `before`, and its one parameter.
/// Timestamps cross the Any driver as text; PostgreSQL casts the RFC 3339 form.
pub(crate) fn prune(backend: Backend, before: DateTime<Utc>) -> (&'static str, String) {
    match backend {
        Backend::Postgres => (
            "DELETE FROM change_log WHERE at < CAST($1 AS TIMESTAMPTZ)",
            super::timestamp(before),
        ),
        Backend::Sqlite => ("DELETE FROM change_log WHERE at < $1", log_time(before)),
    }
}

/// A moment as SQLite's triggers write the log's `at` (`strftime('%Y-%m-%dT%H:%M:%fZ')`,
/// milliseconds), so the text compares as the time does.
fn log_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

impl Logged {
    /// Row `id`'s scope and key.
    fn of(id: i64, scope: &str, key: String) -> StoreResult<Logged> {
        let bad = || super::corrupt(format!("change log {id}: {scope} {key:?}"));
        let number = || key.parse::<i64>().map_err(|_| bad());
        Ok(match scope {
            "login" => Logged::Access(AccessScope::Login(number()?)),
            "subscription" => Logged::Access(AccessScope::Subscription(number()?)),
            "tariff" => Logged::Access(AccessScope::Tariff(number()?)),
            "client" => Logged::Access(AccessScope::Client(key)),
            "nas" => Logged::Nas,
            _ => return Err(bad()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::OpenSessionsChanged;

    #[test]
    fn a_payload_names_its_instance_and_the_logins_or_everyone() {
        let some = OpenSessionsChanged::Logins(vec![3, 14, 15]);
        assert_eq!(some.payload("ispd-a"), "ispd-a/3,14,15");
        assert_eq!(
            OpenSessionsChanged::parse(&some.payload("ispd-a")),
            (Some("ispd-a"), some)
        );
        let many = OpenSessionsChanged::Logins((0..2_000).collect());
        assert_eq!(many.payload("ispd-a"), "ispd-a/*");
        assert_eq!(
            OpenSessionsChanged::parse("ispd-a/*"),
            (Some("ispd-a"), OpenSessionsChanged::All)
        );
        assert_eq!(
            OpenSessionsChanged::parse("ispd-a/1,x"),
            (Some("ispd-a"), OpenSessionsChanged::All)
        );
        // From an instance that does not name itself yet: heard by every instance.
        assert_eq!(
            OpenSessionsChanged::parse("3,14"),
            (None, OpenSessionsChanged::Logins(vec![3, 14]))
        );
    }
}
