//! Tariff changes from a date: the subscription moves to the new tariff, and the price the
//! days before the change were charged at is kept beside it, so the billing run can charge
//! each part of a period at its own price (`ispd_billing::price_change`). Whether a change may
//! happen is the billing core's call (`check_tariff_change`), made by the use case.

use std::collections::HashMap;

use chrono::NaiveDate;
use ispd_billing::money;
use ispd_billing::price_change::{PriceChange, ServicePrice};

use super::{
    Actor, Audit, Store, StoreError, StoreResult, SubscriptionRecord, corrupt, date_text, now,
    parse_date,
};

/// A tariff change as the use case has checked it.
#[derive(Debug, Clone)]
pub struct TariffChangeRequest<'a> {
    /// The tariff to move to.
    pub tariff: &'a str,
    /// Its first day at the new tariff.
    pub from: NaiveDate,
    pub note: &'a str,
}

impl Store {
    /// Moves the subscription (as read in `before`; refused as stale if it changed since) to
    /// another tariff from `request.from`, dropping a price override (the new tariff's price
    /// applies). In one transaction: the subscription, the price kept for the days before,
    /// a history entry, the audit record.
    pub async fn change_tariff(
        &self,
        actor: &Actor,
        before: &SubscriptionRecord,
        request: &TariffChangeRequest<'_>,
    ) -> StoreResult<SubscriptionRecord> {
        let s = &before.subscription;
        let mut tx = self.write_tx().await?;
        let after = Self::tariff_by_name(&mut tx, request.tariff).await?;
        if after.id == s.tariff_id {
            return Err(StoreError::Precondition(format!(
                "subscription {} is on {} already",
                s.id, after.name
            )));
        }
        let (name, price_minor, includes_vat, vat_rate): (String, i64, i64, String) =
            sqlx::query_as(
                "SELECT name, price_minor, price_includes_vat, vat_rate FROM tariff WHERE id = $1",
            )
            .bind(s.tariff_id)
            .fetch_one(&mut *tx)
            .await?;
        let before_price = match s.price_override {
            Some(price) => money::to_minor_units("subscription.price_override", price)?,
            None => price_minor,
        };
        sqlx::query(
            "INSERT INTO tariff_change (subscription_id, valid_from, before_tariff_id,
                before_name, before_price_minor, before_includes_vat, before_vat_rate,
                after_tariff_id, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(s.id)
        .bind(date_text(request.from))
        .bind(s.tariff_id)
        .bind(name.clone())
        .bind(before_price)
        .bind(includes_vat)
        .bind(vat_rate)
        .bind(after.id)
        .bind(now())
        .bind(actor.0.clone())
        .execute(&mut *tx)
        .await?;
        let updated = sqlx::query(
            "UPDATE subscription SET tariff_id = $1, price_override_minor = NULL,
                version = version + 1
             WHERE id = $2 AND version = $3",
        )
        .bind(after.id)
        .bind(s.id)
        .bind(s.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::Stale {
                entity: "subscription",
                key: s.id.to_string(),
            });
        }
        let mut note = format!("tariff {name} → {} from {}", after.name, request.from);
        if !request.note.trim().is_empty() {
            note = format!("{note}; {}", request.note.trim());
        }
        Self::record_history(&mut tx, s.id, Some(s.state), s.state, actor, &note).await?;
        let stored = Self::subscription_by_id(&mut tx, s.id).await?;
        Audit::new(
            "subscription.change_tariff",
            "subscription",
            &s.id.to_string(),
        )
        .client(&stored.client_number)
        .before(before)
        .after(&stored)
        .record(&mut tx, actor)
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Every subscription's dated tariff changes, oldest first: the billing run's prices of
    /// days before each change.
    pub async fn price_changes(&self) -> StoreResult<HashMap<i64, Vec<PriceChange>>> {
        let rows: Vec<(i64, String, String, i64, i64, String)> = sqlx::query_as(
            "SELECT subscription_id, valid_from, before_name, before_price_minor,
                before_includes_vat, before_vat_rate
             FROM tariff_change ORDER BY subscription_id, valid_from, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut changes: HashMap<i64, Vec<PriceChange>> = HashMap::new();
        for (id, from, name, price, includes_vat, vat_rate) in rows {
            let vat_rate = vat_rate
                .parse()
                .map_err(|_| corrupt(format!("tariff change vat rate {vat_rate:?}")))?;
            changes.entry(id).or_default().push(PriceChange {
                from: parse_date("valid_from", &from)?,
                before: ServicePrice {
                    name,
                    price: money::from_minor_units(price),
                    includes_vat: includes_vat != 0,
                    vat_rate,
                },
            });
        }
        Ok(changes)
    }
}
