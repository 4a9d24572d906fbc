//! Lifecycle changes scheduled for a future day, until the daily job applies them or an
//! operator withdraws them. Storage only keeps them: what they may do is decided when they
//! are applied, by the same transition as an operator's change on that day.

use chrono::NaiveDate;
use ispd_billing::subscription::{Action, ScheduledChange, Transition};

use sqlx::{AnyConnection, AssertSqlSafe};

use super::{
    Actor, Audit, Store, StoreError, StoreResult, WriteTx, corrupt, date_text, now, parse_date,
};

/// What became of a scheduled change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionState {
    Pending,
    /// Applied on its day.
    Done,
    /// Refused on its day (the state machine, a date rule); `result` says why.
    Failed,
    Withdrawn,
}

impl ActionState {
    pub const ALL: [ActionState; 4] = [
        ActionState::Pending,
        ActionState::Done,
        ActionState::Failed,
        ActionState::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionState::Pending => "pending",
            ActionState::Done => "done",
            ActionState::Failed => "failed",
            ActionState::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A stored scheduled change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScheduledAction {
    pub id: i64,
    pub subscription_id: i64,
    pub change: ScheduledChange,
    pub state: ActionState,
    /// Why it failed; empty otherwise.
    pub result: String,
    pub created_at: String,
    pub created_by: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    subscription_id: i64,
    transition: String,
    tariff: Option<String>,
    client: Option<String>,
    effective: String,
    date: String,
    billing_suspended: i64,
    note: String,
    reason: String,
    state: String,
    result: String,
    created_at: String,
    created_by: String,
}

impl Row {
    fn into_action(self) -> StoreResult<ScheduledAction> {
        let bad = |what: &str| corrupt(format!("scheduled action {}: {what}", self.id));
        Ok(ScheduledAction {
            id: self.id,
            subscription_id: self.subscription_id,
            change: ScheduledChange {
                action: match (self.transition.as_str(), self.tariff) {
                    ("change_tariff", Some(tariff)) => Action::ChangeTariff { tariff },
                    ("transfer", tariff) => Action::Transfer {
                        client: self.client.unwrap_or_default(),
                        tariff: tariff.unwrap_or_default(),
                    },
                    (name, None) => {
                        Action::Lifecycle(Transition::parse(name).ok_or_else(|| bad("transition"))?)
                    }
                    _ => return Err(bad("transition")),
                },
                effective: parse_date("effective", &self.effective)?,
                date: parse_date("date", &self.date)?,
                billing_suspended: self.billing_suspended != 0,
                note: self.note,
                reason: self.reason,
            },
            state: ActionState::parse(&self.state).ok_or_else(|| bad("state"))?,
            result: self.result,
            created_at: self.created_at,
            created_by: self.created_by,
        })
    }
}

const SELECT: &str = "SELECT id, subscription_id, transition, tariff, client, effective, date,
    billing_suspended, note, reason, state, result, created_at, created_by FROM scheduled_action";

impl Store {
    /// How many pending changes name `name` as their tariff or client (`column`): what they
    /// name must stay until they are made or withdrawn.
    pub(crate) async fn pending_naming(
        conn: &mut AnyConnection,
        column: &'static str,
        name: &str,
    ) -> StoreResult<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM scheduled_action WHERE {column} = $1 AND state = 'pending'"
        );
        Ok(sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(name.to_owned())
            .fetch_one(conn)
            .await?)
    }

    /// Stores a change for its day; the subscription must exist. Returns it with its id.
    ///
    /// The subscription's version moves with its schedule: a change decided on what was read
    /// before — a price change that found no tariff change pending — is then refused as
    /// stale, and with `read_at` (the version the caller decided on) so is this one when the
    /// subscription changed since.
    pub async fn schedule_action(
        &self,
        actor: &Actor,
        subscription_id: i64,
        change: &ScheduledChange,
        read_at: Option<i64>,
    ) -> StoreResult<ScheduledAction> {
        let mut tx = self.write_tx().await?;
        let client = Self::client_of_subscription(&mut tx, subscription_id).await?;
        let moved = sqlx::query(
            "UPDATE subscription SET version = version + 1
             WHERE id = $1 AND ($2 IS NULL OR version = $2)",
        )
        .bind(subscription_id)
        .bind(read_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved == 0 {
            return Err(StoreError::Stale {
                entity: "subscription",
                key: subscription_id.to_string(),
            });
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO scheduled_action (subscription_id, transition, tariff, client, effective,
                date, billing_suspended, note, reason, state, result, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', '', $10, $11) RETURNING id",
        )
        .bind(subscription_id)
        .bind(change.action.as_str().to_owned())
        .bind(match &change.action {
            Action::ChangeTariff { tariff } | Action::Transfer { tariff, .. } => {
                Some(tariff.clone())
            }
            Action::Lifecycle(_) => None,
        })
        .bind(match &change.action {
            Action::Transfer { client, .. } => Some(client.clone()),
            _ => None,
        })
        .bind(date_text(change.effective))
        .bind(date_text(change.date))
        .bind(i64::from(change.billing_suspended))
        .bind(change.note.clone())
        .bind(change.reason.clone())
        .bind(now())
        .bind(actor.0.clone())
        .fetch_one(&mut *tx)
        .await?;
        let stored = Self::action_in(&mut tx, id).await?;
        Audit::new(
            "subscription.schedule",
            "subscription",
            &subscription_id.to_string(),
        )
        .client(&client)
        .after(&stored)
        .commit(tx, actor)
        .await?;
        Ok(stored)
    }

    async fn action_in(conn: &mut sqlx::AnyConnection, id: i64) -> StoreResult<ScheduledAction> {
        sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_optional(conn)
            .await?
            .ok_or_else(|| StoreError::not_found("scheduled action", id.to_string()))?
            .into_action()
    }

    /// Scheduled changes, by effective day then id: the pending ones of one subscription or
    /// of all, or (with `all_states`) everything ever scheduled for it.
    pub async fn scheduled_actions(
        &self,
        subscription_id: Option<i64>,
        all_states: bool,
    ) -> StoreResult<Vec<ScheduledAction>> {
        sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE ($1 = 0 OR subscription_id = $1) AND ($2 = 1 OR state = 'pending')
             ORDER BY effective, id"
        )))
        .bind(subscription_id.unwrap_or(0))
        .bind(i64::from(all_states))
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(Row::into_action)
        .collect()
    }

    /// The pending changes whose day has come (effective on or before `day`), oldest first.
    pub async fn due_actions(&self, day: NaiveDate) -> StoreResult<Vec<ScheduledAction>> {
        sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE state = 'pending' AND effective <= $1 ORDER BY effective, id"
        )))
        .bind(date_text(day))
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(Row::into_action)
        .collect()
    }

    /// Withdraws a pending change; one already applied, failed or withdrawn is refused.
    pub async fn withdraw_action(&self, actor: &Actor, id: i64) -> StoreResult<ScheduledAction> {
        let mut tx = self.write_tx().await?;
        let before = Self::action_in(&mut tx, id).await?;
        if before.state != ActionState::Pending {
            return Err(StoreError::Precondition(format!(
                "scheduled action {id} is {}, not pending",
                before.state.as_str()
            )));
        }
        sqlx::query("UPDATE scheduled_action SET state = 'withdrawn' WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let after = Self::action_in(&mut tx, id).await?;
        Audit::new(
            "subscription.withdraw",
            "subscription",
            &before.subscription_id.to_string(),
        )
        .before(&before)
        .after(&after)
        .commit(tx, actor)
        .await?;
        Ok(after)
    }

    /// Moves pending action `id` to the days of `change` (the core decided them), with its
    /// audit record; refused unless it is still pending.
    pub async fn reschedule_action(
        &self,
        actor: &Actor,
        id: i64,
        change: &ScheduledChange,
    ) -> StoreResult<ScheduledAction> {
        let mut tx = self.write_tx().await?;
        let before = Self::action_in(&mut tx, id).await?;
        let moved = sqlx::query(
            "UPDATE scheduled_action SET effective = $1, date = $2
             WHERE id = $3 AND state = 'pending'",
        )
        .bind(date_text(change.effective))
        .bind(date_text(change.date))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved == 0 {
            return Err(StoreError::Precondition(format!(
                "scheduled action {id} is {}, not pending",
                before.state.as_str()
            )));
        }
        let after = Self::action_in(&mut tx, id).await?;
        let client = Self::client_of_subscription(&mut tx, before.subscription_id).await?;
        Audit::new(
            "subscription.reschedule",
            "subscription",
            &before.subscription_id.to_string(),
        )
        .client(&client)
        .before(&before)
        .after(&after)
        .commit(tx, actor)
        .await?;
        Ok(after)
    }

    /// Records what became of a pending change on its day (done, or failed and why).
    pub async fn finish_action(
        &self,
        id: i64,
        state: ActionState,
        result: &str,
    ) -> StoreResult<bool> {
        let finished = sqlx::query(
            "UPDATE scheduled_action SET state = $1, result = $2 WHERE id = $3 AND state = 'pending'",
        )
        .bind(state.as_str().to_owned())
        .bind(result.to_owned())
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(finished == 1)
    }

    /// Marks pending action `id` done in the transaction that makes it: `false` when it is
    /// pending no longer — withdrawn, or made by another run — and the caller's change must
    /// not be committed. The change and its mark commit together, so none is made twice nor
    /// made after it was withdrawn.
    pub async fn claim_action_in(&self, tx: &mut WriteTx, id: i64) -> StoreResult<bool> {
        let claimed = sqlx::query(
            "UPDATE scheduled_action SET state = 'done', result = '' WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }
}
