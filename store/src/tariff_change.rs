//! Tariff changes from a date: the subscription moves to the new tariff, and the price the
//! days before the change were charged at is kept beside it, so the billing run can charge
//! each part of a period at its own price (`ispd_billing::price_change`). Also what else
//! moves a service's billing along its days: a price change, an expiration moved by hand. Whether a change may
//! happen, and what it keeps, is the billing core's call (`check_tariff_change`,
//! `move_tariff`), made by the use case.

use std::collections::HashMap;

use ispd_billing::money;
use ispd_billing::period::Period;
use ispd_billing::price_change::{PriceChange, RecordedChange, ServicePrice, TariffMove};
use ispd_billing::subscription::expiration::ExpirationMove;

use sqlx::AnyConnection;

use super::{
    Actor, Audit, Store, StoreError, StoreResult, SubscriptionRecord, WriteTx, corrupt, date_text,
    now, parse_date, parse_timestamp,
};

impl Store {
    /// Writes a dated change the core decided (`ispd_billing::price_change::move_tariff` or
    /// `reprice`): the subscription (as read in `before`; refused as stale if it changed
    /// since) on tariff `next` at its own price `price_override` (`None`: the tariff's), the
    /// price its days before `moved.change.from` keep, a history entry and the audit record —
    /// one transaction.
    pub async fn change_tariff(
        &self,
        actor: &Actor,
        before: &SubscriptionRecord,
        next: (i64, Option<rust_decimal::Decimal>),
        moved: &TariffMove,
    ) -> StoreResult<SubscriptionRecord> {
        self.alone(async |tx| self.change_tariff_in(tx, actor, before, next, moved).await)
            .await
    }

    /// [`Store::change_tariff`] in the caller's transaction, which commits it.
    pub async fn change_tariff_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        before: &SubscriptionRecord,
        (next, price_override): (i64, Option<rust_decimal::Decimal>),
        moved: &TariffMove,
    ) -> StoreResult<SubscriptionRecord> {
        let s = &before.subscription;
        let conn = tx.conn();
        let tariffs = (s.tariff_id, next);
        Self::insert_price_change(conn, actor, s.id, tariffs, &moved.change).await?;
        let updated = sqlx::query(
            "UPDATE subscription SET tariff_id = $1, price_override_minor = $2,
                version = version + 1
             WHERE id = $3 AND version = $4",
        )
        .bind(next)
        .bind(
            price_override
                .map(|p| money::to_minor_units("subscription.price_override", p))
                .transpose()?,
        )
        .bind(s.id)
        .bind(s.version)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        let action = if next == s.tariff_id {
            "subscription.change_price"
        } else {
            "subscription.change_tariff"
        };
        Self::finish_dated_change(conn, actor, before, updated, (action, &moved.history)).await
    }

    /// Writes an expiration moved by hand (`ispd_billing::subscription::expiration`): the
    /// subscription (as read in `before`; refused as stale if it changed since) billed until
    /// the day before the new expiration, its periods restarting there, a history entry and
    /// the audit record — one transaction.
    pub async fn move_expiration(
        &self,
        actor: &Actor,
        before: &SubscriptionRecord,
        moved: &ExpirationMove,
    ) -> StoreResult<SubscriptionRecord> {
        let s = &before.subscription;
        let mut tx = self.write_tx().await?;
        let restarts: String =
            sqlx::query_scalar("SELECT restarts FROM subscription WHERE id = $1")
                .bind(s.id)
                .fetch_one(&mut *tx)
                .await?;
        let mut days = crate::billing_candidates::restarts(&restarts)?;
        days.push(moved.restart);
        let restarts: Vec<String> = days.into_iter().map(date_text).collect();
        let updated = sqlx::query(
            "UPDATE subscription SET billed_until = $1, restarts = $2, version = version + 1
             WHERE id = $3 AND version = $4",
        )
        .bind(date_text(moved.billed_until))
        .bind(restarts.join(","))
        .bind(s.id)
        .bind(s.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let action = ("subscription.move_expiration", moved.history.as_str());
        let stored = Self::finish_dated_change(&mut tx, actor, before, updated, action).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// The end of a dated change's transaction: refused as stale when its UPDATE at the
    /// version read touched no row (`updated`), else the history line, the record read back
    /// and the audit record (`action`) — then the commit.
    async fn finish_dated_change(
        conn: &mut AnyConnection,
        actor: &Actor,
        before: &SubscriptionRecord,
        updated: u64,
        (action, history): (&str, &str),
    ) -> StoreResult<SubscriptionRecord> {
        let s = &before.subscription;
        if updated == 0 {
            return Err(StoreError::Stale {
                entity: "subscription",
                key: s.id.to_string(),
            });
        }
        Self::record_history(conn, s.id, Some(s.state), s.state, actor, history).await?;
        let stored = Self::subscription_by_id(conn, s.id).await?;
        Audit::new(action, "subscription", &s.id.to_string())
            .client(&stored.client_number)
            .before(before)
            .after(&stored)
            .record(conn, actor)
            .await?;
        Ok(stored)
    }

    /// Writes one dated change of subscription `id` from tariff `before` to `after` (ids; the
    /// same for a price change), stamped now.
    pub(crate) async fn insert_price_change(
        conn: &mut AnyConnection,
        actor: &Actor,
        id: i64,
        (before, after): (i64, i64),
        change: &PriceChange,
    ) -> StoreResult<()> {
        let kept = &change.before;
        sqlx::query(
            "INSERT INTO tariff_change (subscription_id, valid_from, before_tariff_id,
                before_name, before_price_minor, before_includes_vat, before_vat_rate,
                after_tariff_id, created_at, created_by, before_period)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id)
        .bind(date_text(change.from))
        .bind(before)
        .bind(kept.name.clone())
        .bind(money::to_minor_units("tariff_change.price", kept.price)?)
        .bind(i64::from(kept.includes_vat))
        .bind(kept.vat_rate.normalize().to_string())
        .bind(after)
        .bind(now())
        .bind(actor.0.clone())
        .bind(kept.period.as_str())
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Subscription `id`'s dated changes, oldest first.
    pub async fn price_changes_of(&self, id: i64) -> StoreResult<Vec<PriceChange>> {
        let all = Self::recorded_changes(&mut *self.pool.acquire().await?, Some(id)).await?;
        Ok(all
            .into_values()
            .flatten()
            .map(|recorded| recorded.change)
            .collect())
    }

    /// The day the latest dated change of subscription `id` took effect, if any.
    pub async fn last_price_change(&self, id: i64) -> StoreResult<Option<chrono::NaiveDate>> {
        let last: Option<String> = sqlx::query_scalar(
            "SELECT MAX(valid_from) FROM tariff_change WHERE subscription_id = $1",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        last.map(|d| parse_date("valid_from", &d)).transpose()
    }

    /// Every subscription's dated tariff changes, oldest first: the billing run's prices of
    /// days before each change.
    pub async fn price_changes(&self) -> StoreResult<HashMap<i64, Vec<RecordedChange>>> {
        Self::recorded_changes(&mut *self.pool.acquire().await?, None).await
    }

    /// Every subscription's dated changes, or `only` one's.
    async fn recorded_changes(
        conn: &mut AnyConnection,
        only: Option<i64>,
    ) -> StoreResult<HashMap<i64, Vec<RecordedChange>>> {
        type Row = (i64, String, String, i64, i64, String, String, String);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT c.subscription_id, c.valid_from, c.before_name, c.before_price_minor,
                c.before_includes_vat, c.before_vat_rate, c.created_at,
                COALESCE(c.before_period, t.period)
             FROM tariff_change c
             JOIN subscription s ON s.id = c.subscription_id
             JOIN tariff t ON t.id = s.tariff_id
             WHERE $1 IS NULL OR c.subscription_id = $1
             ORDER BY c.subscription_id, c.valid_from, c.id",
        )
        .bind(only)
        .fetch_all(conn)
        .await?;
        let mut changes: HashMap<i64, Vec<RecordedChange>> = HashMap::new();
        for (id, from, name, price, includes_vat, vat_rate, recorded, period) in rows {
            let vat_rate = vat_rate
                .parse()
                .map_err(|_| corrupt(format!("tariff change vat rate {vat_rate:?}")))?;
            let change = PriceChange {
                from: parse_date("valid_from", &from)?,
                before: ServicePrice {
                    name,
                    price: money::from_minor_units(price),
                    includes_vat: includes_vat != 0,
                    vat_rate,
                    period: Period::parse(&period)
                        .ok_or_else(|| corrupt(format!("tariff change period {period:?}")))?,
                },
            };
            changes.entry(id).or_default().push(RecordedChange {
                change,
                recorded: parse_timestamp("tariff_change.created_at", &recorded)?,
            });
        }
        Ok(changes)
    }
}
