//! The enforcement log: every CoA-Request and Disconnect-Request sent to a NAS and how it
//! ended, and beside them the record of each request queued — what a start reads to find the
//! requests a killed daemon never sent. Written in batches by the daemon's recorder, read
//! newest first per login.

use chrono::{DateTime, Utc};
use ispd_provisioning::enforcement::{Outcome, RequestKind};
use sqlx::AssertSqlSafe;

use super::{
    Page, PageRequest, Placeholders, Store, StoreResult, corrupt, rows_per_statement, timestamp,
};
use crate::page::{Order, fetch_page};
use crate::{Arg, Where};

/// One request sent to a NAS (a retransmission is the same attempt, counted in `tries`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnforcementAttempt {
    pub at: DateTime<Utc>,
    pub login_id: Option<i64>,
    pub username: String,
    pub session_id: Option<i64>,
    pub acct_session_id: String,
    pub nas_name: String,
    pub kind: RequestKind,
    /// Why it was sent: "access change", "reconcile", "reload", "operator", with the cause of
    /// a Disconnect.
    pub reason: String,
    /// The speed and restriction attributes sent, as text; never a secret.
    pub sent: String,
    pub outcome: Outcome,
    /// RFC 5176 §3.5 Error-Cause of the answer.
    pub error_cause: Option<u32>,
    /// Datagrams sent.
    pub tries: u32,
}

/// A stored attempt with its id (the paging key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnforcementAttemptRow {
    pub id: i64,
    pub attempt: EnforcementAttempt,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: String,
    login_id: Option<i64>,
    username: String,
    session_id: Option<i64>,
    acct_session_id: String,
    nas_name: String,
    kind: String,
    reason: String,
    sent: String,
    outcome: String,
    error_cause: Option<i64>,
    tries: i64,
}

impl Row {
    fn into_attempt(self) -> StoreResult<EnforcementAttemptRow> {
        let bad = |what: &str| corrupt(format!("enforcement attempt {}: {what}", self.id));
        let (kind, outcome, error_cause) =
            answer(self.id, &self.kind, &self.outcome, self.error_cause)?;
        Ok(EnforcementAttemptRow {
            id: self.id,
            attempt: EnforcementAttempt {
                at: super::parse_timestamp(
                    &format!("enforcement attempt {}: at", self.id),
                    &self.at,
                )?,
                kind,
                outcome,
                error_cause,
                tries: u32::try_from(self.tries).map_err(|_| bad("tries"))?,
                login_id: self.login_id,
                username: self.username,
                session_id: self.session_id,
                acct_session_id: self.acct_session_id,
                nas_name: self.nas_name,
                reason: self.reason,
                sent: self.sent,
            },
        })
    }
}

/// A stored attempt's request kind and how it ended, as the types the core decides with.
fn answer(
    id: i64,
    kind: &str,
    outcome: &str,
    error_cause: Option<i64>,
) -> StoreResult<(RequestKind, Outcome, Option<u32>)> {
    let bad = |what: &str| corrupt(format!("enforcement attempt {id}: {what}"));
    Ok((
        RequestKind::parse(kind).ok_or_else(|| bad("kind"))?,
        Outcome::parse(outcome).ok_or_else(|| bad("outcome"))?,
        error_cause
            .map(|c| u32::try_from(c).map_err(|_| bad("error_cause")))
            .transpose()?,
    ))
}

const COLUMNS: usize = 12;

/// The last request recorded for a session that is still open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastRequest {
    pub login_id: Option<i64>,
    pub kind: RequestKind,
    pub outcome: Outcome,
    pub error_cause: Option<u32>,
}

impl Store {
    /// Records a batch of attempts in one transaction.
    pub async fn record_enforcement(&self, attempts: &[EnforcementAttempt]) -> StoreResult<()> {
        if attempts.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        for chunk in attempts.chunks(rows_per_statement(COLUMNS)) {
            let sql = format!(
                "INSERT INTO enforcement_attempt (at, login_id, username, session_id,
                    acct_session_id, nas_name, kind, reason, sent, outcome, error_cause, tries)
                 VALUES {}",
                Placeholders::for_conn(&tx).rows(
                    chunk.len(),
                    &[
                        "", "BIGINT", "", "BIGINT", "", "", "", "", "", "", "BIGINT", ""
                    ]
                )
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for a in chunk {
                query = query
                    .bind(timestamp(a.at))
                    .bind(a.login_id)
                    .bind(a.username.clone())
                    .bind(a.session_id)
                    .bind(a.acct_session_id.clone())
                    .bind(a.nas_name.clone())
                    .bind(a.kind.as_str().to_owned())
                    .bind(a.reason.clone())
                    .bind(a.sent.clone())
                    .bind(a.outcome.as_str().to_owned())
                    .bind(a.error_cause.map(i64::from))
                    .bind(i64::from(a.tries));
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Attempts newest first; `username` empty = every login. The records of requests
    /// queued ([`Outcome::Queued`]) are left out: the history is of requests sent and how
    /// each ended.
    pub async fn enforcement_history(
        &self,
        username: &str,
        page: PageRequest,
    ) -> StoreResult<Page<EnforcementAttemptRow>> {
        let mut w = Where::default();
        w.equals("username", username);
        w.and(
            "outcome <> {}",
            Arg::Text(Outcome::Queued.as_str().to_owned()),
        );
        fetch_page(
            &mut *self.pool.acquire().await?,
            "SELECT id, at, login_id, username, session_id, acct_session_id, nas_name, kind,
                reason, sent, outcome, error_cause, tries
             FROM enforcement_attempt",
            ("id", Order::NewestFirst),
            w,
            page,
            Row::into_attempt,
            |a| a.id,
        )
        .await
    }

    /// The last request recorded for each open session: what a daemon that starts again reads
    /// to find the sessions a change may not have reached, since what it had in memory is gone.
    pub async fn last_requests_to_open_sessions(&self) -> StoreResult<Vec<LastRequest>> {
        #[derive(sqlx::FromRow)]
        struct Last {
            id: i64,
            login_id: Option<i64>,
            kind: String,
            outcome: String,
            error_cause: Option<i64>,
        }
        let rows: Vec<Last> = sqlx::query_as(
            "SELECT a.id, a.login_id, a.kind, a.outcome, a.error_cause
             FROM enforcement_attempt a
             JOIN (SELECT MAX(id) AS id FROM enforcement_attempt
                   WHERE session_id IN (SELECT id FROM session WHERE stopped_at IS NULL)
                   GROUP BY session_id) last ON a.id = last.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let (kind, outcome, error_cause) =
                    answer(r.id, &r.kind, &r.outcome, r.error_cause)?;
                Ok(LastRequest {
                    login_id: r.login_id,
                    kind,
                    outcome,
                    error_cause,
                })
            })
            .collect()
    }

    /// Deletes the attempts older than `before`; returns how many.
    pub async fn prune_enforcement(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM enforcement_attempt WHERE at < $1")
            .bind(timestamp(before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
