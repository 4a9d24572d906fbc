//! Writing accounting: a batch of Accounting-Requests in one transaction (group commit).
//! The NAS is answered only after this returns Ok.

use chrono::{DateTime, Utc};
use ispd_provisioning::accounting::{
    AcctRecord, Counters, SessionChange, SessionState, StatusType, UsageDelta, apply,
};
use std::collections::HashMap;

use sqlx::AnyConnection;

use super::{Store, StoreResult, corrupt, timestamp};

/// One decoded Accounting-Request and the NAS it came from.
#[derive(Debug, Clone)]
pub struct AcctItem {
    pub nas_name: String,
    pub record: AcctRecord,
    /// The login, resolved by the receiver from Class or User-Name in the access cache.
    pub login_id: Option<i64>,
}

/// What the writer remembers about sessions it has seen, so a typical Interim or Stop costs
/// one UPDATE instead of a SELECT and an UPDATE. Only committed state enters it.
#[derive(Debug, Default)]
pub struct SessionMemory {
    sessions: HashMap<(String, String), Known>,
}

#[derive(Debug, Clone)]
struct Known {
    row_id: i64,
    login_id: Option<i64>,
    state: SessionState,
}

/// Bound on remembered sessions; beyond it the memory starts again from the database.
const MEMORY_LIMIT: usize = 500_000;

/// How a committed batch changed the number of open sessions per login (for
/// Simultaneous-Use in the access cache).
pub type OpenSessionChanges = Vec<(i64, i32)>;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    login_id: Option<i64>,
    started_at: String,
    updated_at: String,
    stopped_at: Option<String>,
    terminate_cause: Option<String>,
    session_seconds: i64,
    input_octets: i64,
    output_octets: i64,
    input_packets: i64,
    output_packets: i64,
}

fn time(field: &str, text: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| corrupt(format!("session.{field}: {text:?}")))
}

fn wide(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn narrow(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Row {
    fn state(&self) -> StoreResult<SessionState> {
        Ok(SessionState {
            started_at: time("started_at", &self.started_at)?,
            updated_at: time("updated_at", &self.updated_at)?,
            stopped_at: self
                .stopped_at
                .as_deref()
                .map(|t| time("stopped_at", t))
                .transpose()?,
            terminate_cause: self.terminate_cause.clone(),
            session_seconds: narrow(self.session_seconds),
            counters: Counters {
                input_octets: narrow(self.input_octets),
                output_octets: narrow(self.output_octets),
                input_packets: narrow(self.input_packets),
                output_packets: narrow(self.output_packets),
            },
        })
    }
}

impl Store {
    /// Stores a batch in one transaction. Returns the open-session changes per login.
    /// `memory` is updated only when the transaction commits.
    pub async fn apply_accounting(
        &self,
        batch: &[AcctItem],
        memory: &mut SessionMemory,
    ) -> StoreResult<OpenSessionChanges> {
        let mut tx = self.write_tx().await?;
        let mut staged: HashMap<(String, String), Known> = HashMap::new();
        let mut usage: HashMap<(i64, chrono::NaiveDate), UsageDelta> = HashMap::new();
        let mut changes = Vec::new();
        for item in batch {
            let record = &item.record;
            if matches!(
                record.status,
                StatusType::AccountingOn | StatusType::AccountingOff
            ) {
                Self::close_nas_sessions(
                    &mut tx,
                    &item.nas_name,
                    record.event_time,
                    "NAS-Reboot",
                    &mut changes,
                )
                .await?;
                staged.retain(|(nas, _), _| nas != &item.nas_name);
                memory.sessions.retain(|(nas, _), _| nas != &item.nas_name);
                continue;
            }
            let key = (item.nas_name.clone(), record.acct_session_id.clone());
            let known = match staged.get(&key).or_else(|| memory.sessions.get(&key)) {
                Some(k) => Some(k.clone()),
                None => Self::load_session(&mut tx, &key).await?,
            };
            if let Some(k) = Self::apply_one(&mut tx, item, known, &mut changes, &mut usage).await?
            {
                staged.insert(key, k);
            }
        }
        for ((login, day), delta) in &usage {
            Self::add_usage(&mut tx, *login, *day, *delta).await?;
        }
        tx.commit().await?;
        if memory.sessions.len() + staged.len() > MEMORY_LIMIT {
            memory.sessions.clear();
        }
        for (key, known) in staged {
            memory.sessions.insert(key, known);
        }
        Ok(changes)
    }

    async fn load_session(
        conn: &mut AnyConnection,
        key: &(String, String),
    ) -> StoreResult<Option<Known>> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, login_id, started_at, updated_at, stopped_at, terminate_cause,
                session_seconds, input_octets, output_octets, input_packets, output_packets
             FROM session WHERE nas_name = $1 AND acct_session_id = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(key.0.clone())
        .bind(key.1.clone())
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|r| {
            Ok(Known {
                row_id: r.id,
                login_id: r.login_id,
                state: r.state()?,
            })
        })
        .transpose()
    }

    /// Stores one record's change; returns what is now known about its session.
    async fn apply_one(
        conn: &mut AnyConnection,
        item: &AcctItem,
        known: Option<Known>,
        changes: &mut OpenSessionChanges,
        usage: &mut HashMap<(i64, chrono::NaiveDate), UsageDelta>,
    ) -> StoreResult<Option<Known>> {
        let record = &item.record;
        let day = record.event_time.with_timezone(&chrono::Local).date_naive();
        let mut add_usage = |login: Option<i64>, delta: UsageDelta| {
            if let Some(login) = login
                && !delta.is_zero()
            {
                let total = usage.entry((login, day)).or_default();
                total.input_octets += delta.input_octets;
                total.output_octets += delta.output_octets;
                total.session_seconds += delta.session_seconds;
            }
        };
        match apply(known.as_ref().map(|k| &k.state), record) {
            SessionChange::Nothing => Ok(known),
            SessionChange::Create {
                session,
                usage: delta,
            } => {
                let key = format!(
                    "{}/{}/{}",
                    item.nas_name,
                    record.acct_session_id,
                    session.started_at.timestamp()
                );
                let row_id: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO session (nas_name, acct_session_id, session_key, login_id, username,
                        framed_ip, calling_station, nas_port, started_at, updated_at, stopped_at,
                        terminate_cause, session_seconds, input_octets, output_octets,
                        input_packets, output_packets)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
                     ON CONFLICT (session_key) DO NOTHING RETURNING id",
                )
                .bind(item.nas_name.clone())
                .bind(record.acct_session_id.clone())
                .bind(key)
                .bind(item.login_id)
                .bind(record.username.clone())
                .bind(record.framed_ip.map(|a| a.to_string()))
                .bind(record.calling_station.clone())
                .bind(record.nas_port.clone())
                .bind(timestamp(session.started_at))
                .bind(timestamp(session.updated_at))
                .bind(session.stopped_at.map(timestamp))
                .bind(session.terminate_cause.clone())
                .bind(wide(session.session_seconds))
                .bind(wide(session.counters.input_octets))
                .bind(wide(session.counters.output_octets))
                .bind(wide(session.counters.input_packets))
                .bind(wide(session.counters.output_packets))
                .fetch_optional(&mut *conn)
                .await?;
                let Some(row_id) = row_id else {
                    // The same session key exists already (a duplicate under another
                    // identifier): nothing new to store.
                    return Ok(known);
                };
                if let Some(login) = item.login_id
                    && session.stopped_at.is_none()
                {
                    changes.push((login, 1));
                }
                add_usage(item.login_id, delta);
                Ok(Some(Known {
                    row_id,
                    login_id: item.login_id,
                    state: session,
                }))
            }
            SessionChange::Update {
                session,
                usage: delta,
            } => {
                let known = known.expect("an update has a stored row");
                sqlx::query(
                    "UPDATE session SET updated_at = $1, stopped_at = $2, terminate_cause = $3,
                        session_seconds = $4, input_octets = $5, output_octets = $6,
                        input_packets = $7, output_packets = $8,
                        framed_ip = COALESCE(framed_ip, $9) WHERE id = $10",
                )
                .bind(timestamp(session.updated_at))
                .bind(session.stopped_at.map(timestamp))
                .bind(session.terminate_cause.clone())
                .bind(wide(session.session_seconds))
                .bind(wide(session.counters.input_octets))
                .bind(wide(session.counters.output_octets))
                .bind(wide(session.counters.input_packets))
                .bind(wide(session.counters.output_packets))
                .bind(record.framed_ip.map(|a| a.to_string()))
                .bind(known.row_id)
                .execute(&mut *conn)
                .await?;
                if let Some(login) = known.login_id
                    && known.state.stopped_at.is_none()
                    && session.stopped_at.is_some()
                {
                    changes.push((login, -1));
                }
                add_usage(known.login_id, delta);
                Ok(Some(Known {
                    state: session,
                    ..known
                }))
            }
        }
    }

    /// Adds traffic to the login's day (local date of the event: what an operator calls
    /// "today").
    async fn add_usage(
        conn: &mut AnyConnection,
        login_id: i64,
        day: chrono::NaiveDate,
        usage: UsageDelta,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO usage_daily (login_id, day, input_octets, output_octets, session_seconds)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (login_id, day) DO UPDATE SET
                input_octets = usage_daily.input_octets + excluded.input_octets,
                output_octets = usage_daily.output_octets + excluded.output_octets,
                session_seconds = usage_daily.session_seconds + excluded.session_seconds",
        )
        .bind(login_id)
        .bind(super::date_text(day))
        .bind(wide(usage.input_octets))
        .bind(wide(usage.output_octets))
        .bind(wide(usage.session_seconds))
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn close_nas_sessions(
        conn: &mut AnyConnection,
        nas_name: &str,
        at: DateTime<Utc>,
        cause: &str,
        changes: &mut OpenSessionChanges,
    ) -> StoreResult<()> {
        let logins: Vec<Option<i64>> = sqlx::query_scalar(
            "SELECT login_id FROM session WHERE nas_name = $1 AND stopped_at IS NULL",
        )
        .bind(nas_name.to_owned())
        .fetch_all(&mut *conn)
        .await?;
        changes.extend(logins.into_iter().flatten().map(|l| (l, -1)));
        sqlx::query(
            "UPDATE session SET stopped_at = $1, updated_at = $1, terminate_cause = $2
             WHERE nas_name = $3 AND stopped_at IS NULL",
        )
        .bind(timestamp(at))
        .bind(cause.to_owned())
        .bind(nas_name.to_owned())
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Closes sessions not updated since `before` (lost Stop, NAS gone): the sweeper,
    /// run by the accounting writer so its [`SessionMemory`] stays true.
    pub async fn close_stale_sessions(
        &self,
        before: DateTime<Utc>,
        memory: &mut SessionMemory,
    ) -> StoreResult<OpenSessionChanges> {
        let mut tx = self.write_tx().await?;
        let stale: Vec<(i64, Option<i64>, String, String, String)> = sqlx::query_as(
            "SELECT id, login_id, updated_at, nas_name, acct_session_id FROM session
             WHERE stopped_at IS NULL AND updated_at < $1",
        )
        .bind(timestamp(before))
        .fetch_all(&mut *tx)
        .await?;
        for (id, _, updated_at, _, _) in &stale {
            sqlx::query(
                "UPDATE session SET stopped_at = $1, terminate_cause = 'Lost-Carrier' WHERE id = $2",
            )
            .bind(updated_at.clone())
            .bind(*id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        for (_, _, _, nas, sid) in &stale {
            memory.sessions.remove(&(nas.clone(), sid.clone()));
        }
        Ok(stale
            .into_iter()
            .filter_map(|(_, l, ..)| l.map(|l| (l, -1)))
            .collect())
    }
}
