//! Writing accounting: a batch of Accounting-Requests in one transaction (group commit).
//! The NAS is answered only after this returns Ok.

use chrono::{DateTime, Utc};
use ispd_provisioning::accounting::{
    AcctRecord, Counters, SessionChange, SessionState, StatusType, UsageDelta, apply,
};
use sqlx::AnyConnection;

use super::{Store, StoreResult, corrupt, timestamp};

/// One decoded Accounting-Request and the NAS it came from.
#[derive(Debug, Clone)]
pub struct AcctItem {
    pub nas_name: String,
    pub record: AcctRecord,
}

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
    pub async fn apply_accounting(&self, batch: &[AcctItem]) -> StoreResult<OpenSessionChanges> {
        let mut tx = self.write_tx().await?;
        let mut changes = Vec::new();
        for item in batch {
            Self::apply_one(&mut tx, item, &mut changes).await?;
        }
        tx.commit().await?;
        Ok(changes)
    }

    async fn apply_one(
        conn: &mut AnyConnection,
        item: &AcctItem,
        changes: &mut OpenSessionChanges,
    ) -> StoreResult<()> {
        let record = &item.record;
        if matches!(
            record.status,
            StatusType::AccountingOn | StatusType::AccountingOff
        ) {
            return Self::close_nas_sessions(
                conn,
                &item.nas_name,
                record.event_time,
                "NAS-Reboot",
                changes,
            )
            .await;
        }
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, login_id, started_at, updated_at, stopped_at, terminate_cause,
                session_seconds, input_octets, output_octets, input_packets, output_packets
             FROM session WHERE nas_name = $1 AND acct_session_id = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(item.nas_name.clone())
        .bind(record.acct_session_id.clone())
        .fetch_optional(&mut *conn)
        .await?;
        let existing = row.as_ref().map(Row::state).transpose()?;
        match apply(existing.as_ref(), record) {
            SessionChange::Nothing => Ok(()),
            SessionChange::Create { session, usage } => {
                let login_id = match record.login_id {
                    Some(id) => Some(id),
                    None => {
                        sqlx::query_scalar("SELECT id FROM login WHERE username = $1")
                            .bind(record.username.clone())
                            .fetch_optional(&mut *conn)
                            .await?
                    }
                };
                // A Class naming a login that no longer exists: keep the session, unlinked.
                let login_id = match login_id {
                    Some(id) => {
                        sqlx::query_scalar("SELECT id FROM login WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&mut *conn)
                            .await?
                    }
                    None => None,
                };
                let key = format!(
                    "{}/{}/{}",
                    item.nas_name,
                    record.acct_session_id,
                    session.started_at.timestamp()
                );
                sqlx::query(
                    "INSERT INTO session (nas_name, acct_session_id, session_key, login_id, username,
                        framed_ip, calling_station, nas_port, started_at, updated_at, stopped_at,
                        terminate_cause, session_seconds, input_octets, output_octets,
                        input_packets, output_packets)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
                     ON CONFLICT (session_key) DO NOTHING",
                )
                .bind(item.nas_name.clone())
                .bind(record.acct_session_id.clone())
                .bind(key)
                .bind(login_id)
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
                .execute(&mut *conn)
                .await?;
                if let Some(login) = login_id {
                    if session.stopped_at.is_none() {
                        changes.push((login, 1));
                    }
                    Self::add_usage(conn, login, record.event_time, usage).await?;
                }
                Ok(())
            }
            SessionChange::Update { session, usage } => {
                let row = row.expect("an update has a stored row");
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
                .bind(row.id)
                .execute(&mut *conn)
                .await?;
                if let Some(login) = row.login_id {
                    if row.stopped_at.is_none() && session.stopped_at.is_some() {
                        changes.push((login, -1));
                    }
                    Self::add_usage(conn, login, record.event_time, usage).await?;
                }
                Ok(())
            }
        }
    }

    /// Adds traffic to the login's day (local date of the event: what an operator calls
    /// "today").
    async fn add_usage(
        conn: &mut AnyConnection,
        login_id: i64,
        at: DateTime<Utc>,
        usage: UsageDelta,
    ) -> StoreResult<()> {
        if usage.is_zero() {
            return Ok(());
        }
        let day = at.with_timezone(&chrono::Local).date_naive();
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

    /// Closes sessions not updated since `before` (lost Stop, NAS gone): the sweeper.
    pub async fn close_stale_sessions(
        &self,
        before: DateTime<Utc>,
    ) -> StoreResult<OpenSessionChanges> {
        let mut tx = self.write_tx().await?;
        let stale: Vec<(i64, Option<i64>, String)> = sqlx::query_as(
            "SELECT id, login_id, updated_at FROM session WHERE stopped_at IS NULL AND updated_at < $1",
        )
        .bind(timestamp(before))
        .fetch_all(&mut *tx)
        .await?;
        for (id, _, updated_at) in &stale {
            sqlx::query(
                "UPDATE session SET stopped_at = $1, terminate_cause = 'Lost-Carrier' WHERE id = $2",
            )
            .bind(updated_at.clone())
            .bind(*id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(stale
            .into_iter()
            .filter_map(|(_, l, _)| l.map(|l| (l, -1)))
            .collect())
    }
}
