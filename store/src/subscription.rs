//! Subscriptions, their lifecycle transitions and state history, and the days not charged
//! (pauses and blocks with billing suspended).

use std::collections::HashMap;

use chrono::NaiveDate;
use ispd_billing::invoice::Discount;
use ispd_billing::money;
use ispd_billing::period::Period;
use ispd_billing::price_change::PriceChange;
use ispd_billing::subscription::{
    Applied, PeriodAlignment, RunningRange, Subscription, SubscriptionState,
};
use sqlx::{AnyConnection, Row};

use super::{
    Actor, Arg, Audit, Page, PageRequest, Store, StoreError, StoreResult, Where, WriteTx, corrupt,
    date_text, now, parse_date, parse_opt_date, unique_as_conflict,
};
use crate::page::{Order, fetch_page};
use sqlx::AssertSqlSafe;

/// A subscription with the names the API speaks in.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SubscriptionRecord {
    pub subscription: Subscription,
    pub client_number: String,
    pub tariff_name: String,
    /// The last day invoiced.
    pub billed_until: Option<NaiveDate>,
    /// Mango "expiration": the first day of the oldest charge still unpaid.
    pub expiration: Option<NaiveDate>,
    /// The last day paid for: the day before the expiration, else the last day invoiced.
    pub paid_until: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default)]
pub struct SubscriptionFilter {
    pub client_number: String,
    pub tariff: String,
    pub state: Option<SubscriptionState>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub at: String,
    pub from_state: Option<SubscriptionState>,
    pub to_state: SubscriptionState,
    pub actor: String,
    pub note: String,
}

#[derive(sqlx::FromRow)]
struct SubscriptionRow {
    id: i64,
    client_id: i64,
    tariff_id: i64,
    activation_date: String,
    billing_from: String,
    price_override_minor: Option<i64>,
    period: Option<String>,
    commitment_until: Option<String>,
    variable_symbol: Option<String>,
    note: String,
    invoice_note: String,
    state: String,
    alignment: String,
    end_date: Option<String>,
    end_reason: String,
    unit_id: Option<i64>,
    version: i64,
    client_number: String,
    tariff_name: String,
    billed_until: Option<String>,
    expiration: Option<String>,
}

const SELECT: &str = "SELECT s.id, s.client_id, s.tariff_id, s.activation_date, s.billing_from,
    s.price_override_minor, s.period, s.commitment_until, s.variable_symbol, s.note, s.invoice_note, s.state,
    s.alignment, s.end_date, s.end_reason, s.unit_id, s.version, c.number AS client_number, t.name AS tariff_name,
    s.billed_until,
    (SELECT MIN(l.period_from) FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id
        WHERE l.subscription_id = s.id AND l.reversed_by IS NULL AND l.unit_price_minor > 0
            AND i.state IN ('unpaid', 'partially_paid') AND i.kind IN ('invoice', 'proforma'))
        AS expiration
    FROM subscription s JOIN client c ON c.id = s.client_id JOIN tariff t ON t.id = s.tariff_id";

fn state(text: &str) -> StoreResult<SubscriptionState> {
    SubscriptionState::parse(text).ok_or_else(|| corrupt(format!("subscription state {text:?}")))
}

/// The terms a subscription row has in both its INSERT and its UPDATE, in that order: its
/// tariff, dates, price, period, commitment, variable symbol and note.
fn bind_terms<'q>(q: Query<'q>, s: &Subscription) -> StoreResult<Query<'q>> {
    Ok(q.bind(s.tariff_id)
        .bind(date_text(s.activation_date))
        .bind(date_text(s.billing_from))
        .bind(
            s.price_override
                .map(|p| money::to_minor_units("subscription.price_override", p))
                .transpose()?,
        )
        .bind(s.period.map(|p| p.as_str().to_owned()))
        .bind(s.commitment_until.map(date_text))
        .bind((!s.variable_symbol.is_empty()).then(|| s.variable_symbol.clone()))
        .bind(s.note.clone()))
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

impl SubscriptionRow {
    fn into_record(self) -> StoreResult<SubscriptionRecord> {
        let billed_until = parse_opt_date("billed_until", self.billed_until)?;
        let expiration = parse_opt_date("expiration", self.expiration)?;
        Ok(SubscriptionRecord {
            subscription: Subscription {
                unit: self.unit_id,
                id: self.id,
                client_id: self.client_id,
                tariff_id: self.tariff_id,
                activation_date: parse_date("activation_date", &self.activation_date)?,
                billing_from: parse_date("billing_from", &self.billing_from)?,
                price_override: self.price_override_minor.map(money::from_minor_units),
                period: self
                    .period
                    .map(|p| Period::parse(&p).ok_or_else(|| corrupt(format!("period {p:?}"))))
                    .transpose()?,
                commitment_until: parse_opt_date("commitment_until", self.commitment_until)?,
                variable_symbol: self.variable_symbol.unwrap_or_default(),
                note: self.note,
                invoice_note: self.invoice_note,
                state: state(&self.state)?,
                alignment: PeriodAlignment::parse(&self.alignment)
                    .ok_or_else(|| corrupt(format!("alignment {:?}", self.alignment)))?,
                end_date: parse_opt_date("end_date", self.end_date)?,
                end_reason: self.end_reason,
                version: self.version,
            },
            client_number: self.client_number,
            tariff_name: self.tariff_name,
            billed_until,
            expiration,
            paid_until: ispd_billing::schedule::paid_until(expiration, billed_until),
        })
    }
}

impl Store {
    pub(super) async fn subscription_by_id(
        conn: &mut AnyConnection,
        id: i64,
    ) -> StoreResult<SubscriptionRecord> {
        sqlx::query_as::<_, SubscriptionRow>(AssertSqlSafe(format!("{SELECT} WHERE s.id = $1")))
            .bind(id)
            .fetch_optional(conn)
            .await?
            .ok_or_else(|| StoreError::not_found("subscription", id.to_string()))?
            .into_record()
    }

    pub async fn get_subscription(&self, id: i64) -> StoreResult<SubscriptionRecord> {
        let mut conn = self.pool.acquire().await?;
        Self::subscription_by_id(&mut conn, id).await
    }

    async fn check_subscription_vs(conn: &mut AnyConnection, s: &Subscription) -> StoreResult<()> {
        if s.variable_symbol.is_empty() {
            return Ok(());
        }
        let taken: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM subscription WHERE variable_symbol = $1 AND id <> $2",
        )
        .bind(s.variable_symbol.clone())
        .bind(s.id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(other) = taken {
            return Err(StoreError::Conflict {
                field: "subscription.variable_symbol".into(),
                message: format!(
                    "{} is already used by subscription {other}",
                    s.variable_symbol
                ),
            });
        }
        match Self::variable_symbol_owner(conn, &s.variable_symbol, s.client_id).await? {
            Some(owner) => Err(StoreError::Conflict {
                field: "subscription.variable_symbol".into(),
                message: format!(
                    "{} is a variable symbol of client {owner}; payments could not tell them apart",
                    s.variable_symbol
                ),
            }),
            None => Ok(()),
        }
    }

    /// Creates a subscription for `client_number` on `tariff_name`; its state starts from the
    /// activation date and `today`, and the first history entry records it.
    pub async fn create_subscription(
        &self,
        actor: &Actor,
        client_number: &str,
        tariff_name: &str,
        s: Subscription,
        today: NaiveDate,
    ) -> StoreResult<SubscriptionRecord> {
        let names = (client_number, tariff_name);
        self.alone(async move |tx| {
            self.create_subscription_in(tx, actor, names, s, today)
                .await
        })
        .await
    }

    /// [`Store::create_subscription`] in the caller's transaction, which commits it.
    pub async fn create_subscription_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        (client_number, tariff_name): (&str, &str),
        mut s: Subscription,
        today: NaiveDate,
    ) -> StoreResult<SubscriptionRecord> {
        let tx = tx.conn();
        s.client_id = Self::client_id_of(&mut *tx, client_number).await?;
        s.tariff_id = Self::tariff_by_name(&mut *tx, tariff_name).await?.id;
        s.state = Subscription::initial_state(s.activation_date, today);
        s.end_date = None;
        s.end_reason.clear();
        s.version = 1;
        s.id = 0;
        Self::check_subscription_vs(&mut *tx, &s).await?;
        let id = Self::insert_subscription(&mut *tx, &s).await?;
        Self::record_history(&mut *tx, id, None, s.state, actor, "created").await?;
        let stored = Self::subscription_by_id(&mut *tx, id).await?;
        Audit::new("subscription.create", "subscription", &id.to_string())
            .client(client_number)
            .after(&stored)
            .record(&mut *tx, actor)
            .await?;
        Ok(stored)
    }

    /// Changes the editable fields (Mango: change_service / edit_service). The client, the
    /// state and the end date are not changed here: see [`Store::write_transition`].
    pub async fn update_subscription(
        &self,
        actor: &Actor,
        tariff_name: &str,
        s: Subscription,
    ) -> StoreResult<SubscriptionRecord> {
        self.alone(async move |tx| self.update_subscription_in(tx, actor, tariff_name, s).await)
            .await
    }

    /// [`Store::update_subscription`] in the caller's transaction, which commits it.
    pub async fn update_subscription_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        tariff_name: &str,
        mut s: Subscription,
    ) -> StoreResult<SubscriptionRecord> {
        let tx = tx.conn();
        let before = Self::subscription_by_id(&mut *tx, s.id).await?;
        if before.subscription.version != s.version {
            return Err(StoreError::Stale {
                entity: "subscription",
                key: s.id.to_string(),
            });
        }
        s.client_id = before.subscription.client_id;
        s.state = before.subscription.state;
        s.end_date = before.subscription.end_date;
        s.end_reason.clone_from(&before.subscription.end_reason);
        s.tariff_id = Self::tariff_by_name(&mut *tx, tariff_name).await?.id;
        Self::check_subscription_vs(&mut *tx, &s).await?;
        s.version += 1;
        let update = sqlx::query(
            "UPDATE subscription SET tariff_id = $1, activation_date = $2, billing_from = $3,
                price_override_minor = $4, period = $5, commitment_until = $6,
                variable_symbol = $7, note = $8, version = $9, alignment = $10,
                invoice_note = $11, unit_id = $12
             WHERE id = $13 AND version = $14",
        );
        let updated = bind_terms(update, &s)?
            .bind(s.version)
            .bind(s.alignment.as_str().to_owned())
            .bind(s.invoice_note.trim().to_owned())
            .bind(s.unit)
            .bind(s.id)
            .bind(before.subscription.version)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_as_conflict(e, "subscription.variable_symbol"))?
            .rows_affected();
        if updated == 0 {
            return Err(StoreError::Stale {
                entity: "subscription",
                key: s.id.to_string(),
            });
        }
        let stored = Self::subscription_by_id(&mut *tx, s.id).await?;
        Audit::new("subscription.update", "subscription", &s.id.to_string())
            .client(&stored.client_number)
            .before(&before)
            .after(&stored)
            .record(&mut *tx, actor)
            .await?;
        Ok(stored)
    }

    pub async fn list_subscriptions(
        &self,
        filter: &SubscriptionFilter,
        page: PageRequest,
    ) -> StoreResult<Page<SubscriptionRecord>> {
        let mut w = Where::default();
        w.equals("c.number", &filter.client_number);
        w.equals("t.name", &filter.tariff);
        if let Some(state) = filter.state {
            w.and("s.state = {}", Arg::Text(state.as_str().to_owned()));
        }
        fetch_page(
            &mut *self.pool.acquire().await?,
            SELECT,
            ("s.id", Order::OldestFirst),
            w,
            page,
            SubscriptionRow::into_record,
            |r| r.subscription.id,
        )
        .await
    }

    /// Mango's "delete completely": the subscription and its history go; refused while logins
    /// still belong to it.
    pub async fn delete_subscription(&self, actor: &Actor, id: i64) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let before = Self::subscription_by_id(&mut tx, id).await?;
        let logins: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM login WHERE subscription_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        if logins > 0 {
            return Err(StoreError::Precondition(format!(
                "subscription {id} has {logins} login(s); delete or move them first"
            )));
        }
        let charges: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM one_off_charge WHERE subscription_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        if charges > 0 {
            return Err(StoreError::Precondition(format!(
                "subscription {id} has {charges} one-off charge(s)"
            )));
        }
        for child in ["subscription_history", "subscription_unbilled", "discount"] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {child} WHERE subscription_id = $1"
            )))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM subscription WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        Audit::new("subscription.delete", "subscription", &id.to_string())
            .client(&before.client_number)
            .before(&before)
            .commit(tx, actor)
            .await?;
        Ok(())
    }

    pub async fn subscription_history(&self, id: i64) -> StoreResult<Vec<HistoryEntry>> {
        let mut conn = self.pool.acquire().await?;
        Self::subscription_by_id(&mut conn, id).await?;
        let rows: Vec<(String, Option<String>, String, String, String)> = sqlx::query_as(
            "SELECT at, from_state, to_state, actor, note FROM subscription_history
             WHERE subscription_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter()
            .map(|(at, from, to, actor, note)| {
                Ok(HistoryEntry {
                    at,
                    from_state: from.as_deref().map(state).transpose()?,
                    to_state: state(&to)?,
                    actor,
                    note,
                })
            })
            .collect()
    }

    /// The number of the client subscription `id` belongs to.
    pub(super) async fn client_of_subscription(
        conn: &mut AnyConnection,
        id: i64,
    ) -> StoreResult<String> {
        sqlx::query_scalar(
            "SELECT c.number FROM subscription s JOIN client c ON c.id = s.client_id
             WHERE s.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("subscription", id.to_string()))
    }

    pub(super) async fn record_history(
        conn: &mut AnyConnection,
        id: i64,
        from: Option<SubscriptionState>,
        to: SubscriptionState,
        actor: &Actor,
        note: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO subscription_history (subscription_id, at, from_state, to_state, actor, note)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(now())
        .bind(from.map(|f| f.as_str().to_owned()))
        .bind(to.as_str().to_owned())
        .bind(actor.0.clone())
        .bind(note.to_owned())
        .execute(conn)
        .await?;
        Ok(())
    }

    /// The first day of the running range of days not charged (a pause or block with
    /// billing suspended), if one runs: what [`ispd_billing::subscription::apply`] needs
    /// beside the subscription.
    pub async fn running_uncharged_since(&self, id: i64) -> StoreResult<Option<NaiveDate>> {
        let from: Option<String> = sqlx::query_scalar(
            "SELECT from_date FROM subscription_unbilled
             WHERE subscription_id = $1 AND to_date IS NULL",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        from.map(|f| parse_date("from_date", &f)).transpose()
    }

    /// Writes a transition the billing core applied to `before` — in one transaction: the
    /// subscription's state and dates at the version read (else [`StoreError::Stale`]), the
    /// days not charged, a history entry, and the audit record.
    pub async fn write_transition(
        &self,
        actor: &Actor,
        before: &SubscriptionRecord,
        applied: &Applied,
    ) -> StoreResult<SubscriptionRecord> {
        self.alone(async |tx| self.write_transition_in(tx, actor, before, applied).await)
            .await
    }

    /// [`Store::write_transition`] in the caller's transaction, which commits it.
    pub async fn write_transition_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        before: &SubscriptionRecord,
        applied: &Applied,
    ) -> StoreResult<SubscriptionRecord> {
        let id = applied.subscription.id;
        let tx = tx.conn();
        Self::transition_rows(&mut *tx, actor, before, applied).await?;
        let stored = Self::subscription_by_id(&mut *tx, id).await?;
        Audit::new(
            &format!("subscription.{}", applied.transition.as_str()),
            "subscription",
            &id.to_string(),
        )
        .client(&stored.client_number)
        .before(before)
        .after(&stored)
        .record(&mut *tx, actor)
        .await?;
        Ok(stored)
    }

    /// The subscription row; returns its id.
    async fn insert_subscription(conn: &mut AnyConnection, s: &Subscription) -> StoreResult<i64> {
        let insert = sqlx::query(
            "INSERT INTO subscription (client_id, tariff_id, activation_date, billing_from,
                price_override_minor, period, commitment_until, variable_symbol, note, state,
                version, created_at, alignment, invoice_note, unit_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             RETURNING id",
        );
        bind_terms(insert.bind(s.client_id), s)?
            .bind(s.state.as_str().to_owned())
            .bind(s.version)
            .bind(now())
            .bind(s.alignment.as_str().to_owned())
            .bind(s.invoice_note.trim().to_owned())
            .bind(s.unit)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| unique_as_conflict(e, "subscription.variable_symbol"))?
            .try_get(0)
            .map_err(StoreError::from)
    }

    /// A transition's rows: the subscription's state and dates at the version read (else
    /// [`StoreError::Stale`]), the days not charged, a history entry.
    async fn transition_rows(
        conn: &mut AnyConnection,
        actor: &Actor,
        before: &SubscriptionRecord,
        applied: &Applied,
    ) -> StoreResult<()> {
        let s = &applied.subscription;
        let id = s.id;
        let updated = sqlx::query(
            "UPDATE subscription SET state = $1, activation_date = $2, billing_from = $3,
                end_date = $4, end_reason = $5, version = $6 WHERE id = $7 AND version = $8",
        )
        .bind(s.state.as_str().to_owned())
        .bind(date_text(s.activation_date))
        .bind(date_text(s.billing_from))
        .bind(s.end_date.map(date_text))
        .bind(s.end_reason.clone())
        .bind(before.subscription.version + 1)
        .bind(id)
        .bind(before.subscription.version)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::Stale {
                entity: "subscription",
                key: id.to_string(),
            });
        }
        Self::write_uncharged(conn, id, applied).await?;
        Self::record_history(conn, id, Some(applied.from), s.state, actor, &applied.note).await
    }

    /// Writes a transfer the billing core planned (`subscription::transfer::plan`), in one
    /// transaction with one audit record: the original's end (`ended`, applied to `before`),
    /// the new service, the original's logins moved to it, the discounts carried.
    pub async fn record_transfer(
        &self,
        actor: &Actor,
        before: &SubscriptionRecord,
        ended: &Applied,
        next: (Subscription, &[Discount], &[PriceChange]),
    ) -> StoreResult<(SubscriptionRecord, SubscriptionRecord)> {
        self.alone(async move |tx| {
            self.record_transfer_in(tx, actor, before, ended, next)
                .await
        })
        .await
    }

    /// [`Store::record_transfer`] in the caller's transaction, which commits it.
    pub async fn record_transfer_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        before: &SubscriptionRecord,
        ended: &Applied,
        (mut next, carried, price_changes): (Subscription, &[Discount], &[PriceChange]),
    ) -> StoreResult<(SubscriptionRecord, SubscriptionRecord)> {
        let old = before.subscription.id;
        let tx = tx.conn();
        Self::transition_rows(&mut *tx, actor, before, ended).await?;
        next.version = 1;
        let id = Self::insert_subscription(&mut *tx, &next).await?;
        let note = format!("transferred from subscription {old}");
        Self::record_history(&mut *tx, id, None, next.state, actor, &note).await?;
        sqlx::query("UPDATE login SET subscription_id = $1 WHERE subscription_id = $2")
            .bind(id)
            .bind(old)
            .execute(&mut *tx)
            .await?;
        for discount in carried {
            Self::insert_discount(&mut *tx, id, discount).await?;
        }
        let tariffs = (next.tariff_id, next.tariff_id);
        for change in price_changes {
            Self::insert_price_change(&mut *tx, actor, id, tariffs, change).await?;
        }
        let ended = Self::subscription_by_id(&mut *tx, old).await?;
        let started = Self::subscription_by_id(&mut *tx, id).await?;
        Audit::new("subscription.transfer", "subscription", &old.to_string())
            .client(&started.client_number)
            .before(before)
            .after(&serde_json::json!({"ended": &ended, "started": &started, "discounts": carried.len()}))
            .record(&mut *tx, actor)
            .await?;
        Ok((ended, started))
    }

    /// The days not charged as the transition left them: the running range ended or dropped,
    /// a new one opened.
    async fn write_uncharged(
        conn: &mut AnyConnection,
        id: i64,
        applied: &Applied,
    ) -> StoreResult<()> {
        let running = "subscription_id = $1 AND to_date IS NULL";
        match applied.running {
            RunningRange::Untouched => {}
            RunningRange::Dropped => {
                sqlx::query(AssertSqlSafe(format!(
                    "DELETE FROM subscription_unbilled WHERE {running}"
                )))
                .bind(id)
                .execute(&mut *conn)
                .await?;
            }
            RunningRange::EndsOn(last) => {
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE subscription_unbilled SET to_date = $2 WHERE {running}"
                )))
                .bind(id)
                .bind(date_text(last))
                .execute(&mut *conn)
                .await?;
            }
        }
        if let Some(from) = applied.uncharged_from {
            sqlx::query(
                "INSERT INTO subscription_unbilled (subscription_id, from_date, to_date)
                 VALUES ($1, $2, NULL)",
            )
            .bind(id)
            .bind(date_text(from))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// The subscriptions not yet active whose activation date has come by `today`, with that
    /// date, for the daily activation.
    pub async fn due_activations(&self, today: NaiveDate) -> StoreResult<Vec<(i64, NaiveDate)>> {
        let due: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, activation_date FROM subscription
             WHERE state = $1 AND activation_date <= $2 ORDER BY id",
        )
        .bind(SubscriptionState::NotYetActive.as_str().to_owned())
        .bind(date_text(today))
        .fetch_all(&self.pool)
        .await?;
        due.into_iter()
            .map(|(id, day)| Ok((id, parse_date("activation_date", &day)?)))
            .collect()
    }

    /// Inclusive unbilled ranges per subscription, oldest first; an open range (to = None)
    /// runs on. For the billing run: these days are not charged.
    pub async fn unbilled_ranges(
        &self,
    ) -> StoreResult<HashMap<i64, Vec<(NaiveDate, Option<NaiveDate>)>>> {
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT subscription_id, from_date, to_date FROM subscription_unbilled
             ORDER BY subscription_id, from_date, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut ranges: HashMap<i64, Vec<_>> = HashMap::new();
        for (id, from, to) in rows {
            ranges.entry(id).or_default().push((
                parse_date("from_date", &from)?,
                parse_opt_date("to_date", to)?,
            ));
        }
        Ok(ranges)
    }
}
