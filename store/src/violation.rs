//! Violation notices as stored: written, listed per client, found when due, and moved to
//! enforced or resolved with their audit records. Whether one is due and whether it may be
//! resolved is `ispd_billing::violation`'s.

use chrono::NaiveDate;
use ispd_billing::violation::{NewNotice, Notice, NoticeState};

use super::{
    Actor, Audit, Store, StoreError, StoreResult, WriteTx, corrupt, date_text, now, parse_date,
    parse_opt_date,
};

type Row = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    Option<String>,
    String,
    String,
);

const SELECT: &str = "SELECT v.id, c.number, v.reason, v.issued_on, v.deadline, v.points,
    v.stop_services, v.state, v.state_on, v.resolution, v.blocked_json
    FROM violation v JOIN client c ON c.id = v.client_id";

fn notice(row: Row) -> StoreResult<Notice> {
    let (id, client_number, reason, issued, deadline, points, stop, state, on, resolution, blocked) =
        row;
    let on = parse_opt_date("violation.state_on", on)?;
    let state = match (state.as_str(), on) {
        ("open", _) => NoticeState::Open,
        ("enforced", Some(on)) => NoticeState::Enforced(on),
        ("resolved", Some(on)) => NoticeState::Resolved(on),
        _ => return Err(corrupt(format!("violation {id}: state {state:?}"))),
    };
    Ok(Notice {
        id,
        client_number,
        issued_on: parse_date("violation.issued_on", &issued)?,
        notice: NewNotice {
            reason,
            deadline: parse_date("violation.deadline", &deadline)?,
            points: u32::try_from(points).unwrap_or(0),
            stop_services: stop != 0,
        },
        state,
        resolution,
        blocked: serde_json::from_str(&blocked)
            .map_err(|e| corrupt(format!("violation {id}: blocked: {e}")))?,
    })
}

impl Store {
    /// Records a notice for client `client_number` issued on `today`, with its audit record.
    pub async fn add_violation_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        client_number: &str,
        new: &NewNotice,
        today: NaiveDate,
    ) -> StoreResult<Notice> {
        let conn = tx.conn();
        let client = Self::client_id_of(conn, client_number).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO violation (client_id, reason, issued_on, deadline, points,
                stop_services, state, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8) RETURNING id",
        )
        .bind(client)
        .bind(new.reason.clone())
        .bind(date_text(today))
        .bind(date_text(new.deadline))
        .bind(i64::from(new.points))
        .bind(i64::from(new.stop_services))
        .bind(now())
        .bind(actor.0.clone())
        .fetch_one(&mut *conn)
        .await?;
        let stored = Self::violation_in(conn, id).await?;
        Audit::new("violation.add", "violation", &id.to_string())
            .client(client_number)
            .after(&summary(&stored))
            .record(conn, actor)
            .await?;
        Ok(stored)
    }

    async fn violation_in(conn: &mut sqlx::AnyConnection, id: i64) -> StoreResult<Notice> {
        let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE v.id = $1")))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::not_found("violation notice", id.to_string()))?;
        notice(row)
    }

    /// Notice `id`, inside a use case's transaction.
    pub async fn violation_by_id_in(&self, tx: &mut WriteTx, id: i64) -> StoreResult<Notice> {
        Self::violation_in(tx.conn(), id).await
    }

    /// A client's notices, oldest first.
    pub async fn client_violations(&self, client_number: &str) -> StoreResult<Vec<Notice>> {
        let mut conn = self.pool.acquire().await?;
        Self::client_id_of(&mut *conn, client_number).await?;
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE c.number = $1 ORDER BY v.id"
        )))
        .bind(client_number.to_owned())
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter().map(notice).collect()
    }

    /// The open notices that stop services and whose deadline lies before `today`: the
    /// candidates the core's `due` decides on.
    pub async fn overdue_violations(&self, today: NaiveDate) -> StoreResult<Vec<Notice>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE v.state = 'open' AND v.stop_services <> 0 AND v.deadline < $1
             ORDER BY v.id"
        )))
        .bind(date_text(today))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(notice).collect()
    }

    /// Writes a notice's new state (enforced or resolved, with the subscriptions it blocked
    /// and the resolution's note) and its audit record — only while the stored notice is still
    /// in the state `from` the caller read: `false`, nothing written, when another writer
    /// (a second enforcer, a resolve) got there first.
    pub async fn record_violation_state_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        after: &Notice,
        from: &NoticeState,
    ) -> StoreResult<bool> {
        let conn = tx.conn();
        let name = |state: &NoticeState| match state {
            NoticeState::Open => ("open", None),
            NoticeState::Enforced(on) => ("enforced", Some(*on)),
            NoticeState::Resolved(on) => ("resolved", Some(*on)),
        };
        let (state, on) = name(&after.state);
        let moved = sqlx::query(
            "UPDATE violation SET state = $1, state_on = $2, resolution = $3, blocked_json = $4
             WHERE id = $5 AND state = $6",
        )
        .bind(state)
        .bind(on.map(date_text))
        .bind(after.resolution.clone())
        .bind(serde_json::to_string(&after.blocked).unwrap_or_else(|_| "[]".into()))
        .bind(after.id)
        .bind(name(from).0)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if moved == 0 {
            return Ok(false);
        }
        Audit::new(
            &format!("violation.{state}"),
            "violation",
            &after.id.to_string(),
        )
        .client(&after.client_number)
        .after(&summary(after))
        .record(conn, actor)
        .await?;
        Ok(true)
    }
}

/// What the audit record says of a notice.
fn summary(n: &Notice) -> serde_json::Value {
    serde_json::json!({
        "reason": n.notice.reason,
        "deadline": date_text(n.notice.deadline),
        "points": n.notice.points,
        "stop_services": n.notice.stop_services,
        "state": n.state.as_str(),
        "resolution": n.resolution,
        "blocked": n.blocked,
    })
}
