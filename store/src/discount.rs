//! Discounts on subscriptions (Mango "slevová kampaň"): percent, amount or resulting price,
//! valid from a day, optionally to a day. The billing run turns each into its own line.

use std::collections::HashMap;

use ispd_billing::invoice::{Discount, DiscountValue};
use ispd_billing::money;
use rust_decimal::Decimal;

use super::{
    Actor, Audit, Store, StoreError, StoreResult, corrupt, date_text, now, parse_date,
    parse_opt_date,
};

/// A stored discount with the ids needed to show and delete it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DiscountRecord {
    pub id: i64,
    pub subscription_id: i64,
    pub discount: Discount,
}

#[derive(sqlx::FromRow)]
struct DiscountRow {
    id: i64,
    subscription_id: i64,
    name: String,
    kind: String,
    value: String,
    valid_from: String,
    valid_to: Option<String>,
}

const SELECT: &str =
    "SELECT id, subscription_id, name, kind, value, valid_from, valid_to FROM discount";

/// The `kind` column and the exact decimal text of the `value` column. Amounts are stored
/// to the cent ("100" becomes "100.00") so listings show money as money.
fn kind_and_value(value: DiscountValue) -> StoreResult<(&'static str, String)> {
    Ok(match value {
        DiscountValue::Percent(p) => ("percent", p.to_string()),
        DiscountValue::Amount(a) => ("amount", cents("discount.value", a)?),
        DiscountValue::ResultingPrice(p) => ("resulting_price", cents("discount.value", p)?),
    })
}

fn cents(field: &str, amount: Decimal) -> StoreResult<String> {
    Ok(money::from_minor_units(money::to_minor_units(field, amount)?).to_string())
}

impl DiscountRow {
    fn into_record(self) -> StoreResult<DiscountRecord> {
        let bad = || corrupt(format!("discount {}: value {:?}", self.id, self.value));
        let amount: Decimal = self.value.parse().map_err(|_| bad())?;
        let value = match self.kind.as_str() {
            "percent" => DiscountValue::Percent(amount),
            "amount" => DiscountValue::Amount(amount),
            "resulting_price" => DiscountValue::ResultingPrice(amount),
            other => return Err(corrupt(format!("discount kind {other:?}"))),
        };
        Ok(DiscountRecord {
            id: self.id,
            subscription_id: self.subscription_id,
            discount: Discount {
                name: self.name,
                value,
                valid_from: parse_date("valid_from", &self.valid_from)?,
                valid_to: parse_opt_date("valid_to", self.valid_to)?,
            },
        })
    }
}

impl Store {
    /// Adds a discount to a subscription after [`Discount::validate`]; several may apply at
    /// once, each becoming its own invoice line.
    pub async fn add_discount(
        &self,
        actor: &Actor,
        subscription_id: i64,
        discount: Discount,
    ) -> StoreResult<DiscountRecord> {
        let mut tx = self.write_tx().await?;
        let subscription = Self::subscription_by_id(&mut tx, subscription_id).await?;
        let id = Self::insert_discount(&mut tx, subscription_id, &discount).await?;
        let stored = Self::discount_by_id(&mut tx, id).await?;
        Audit::new("discount.add", "discount", &id.to_string())
            .client(&subscription.client_number)
            .after(&stored)
            .commit(tx, actor)
            .await?;
        Ok(stored)
    }

    /// The discount row of subscription `subscription_id`; returns its id.
    pub(super) async fn insert_discount(
        conn: &mut sqlx::AnyConnection,
        subscription_id: i64,
        discount: &Discount,
    ) -> StoreResult<i64> {
        let (kind, value) = kind_and_value(discount.value)?;
        Ok(sqlx::query_scalar(
            "INSERT INTO discount (subscription_id, name, kind, value, valid_from, valid_to,
                created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(subscription_id)
        .bind(discount.name.trim().to_owned())
        .bind(kind.to_owned())
        .bind(value)
        .bind(date_text(discount.valid_from))
        .bind(discount.valid_to.map(date_text))
        .bind(now())
        .fetch_one(&mut *conn)
        .await?)
    }

    async fn discount_by_id(
        conn: &mut sqlx::AnyConnection,
        id: i64,
    ) -> StoreResult<DiscountRecord> {
        sqlx::query_as::<_, DiscountRow>(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_optional(conn)
            .await?
            .ok_or_else(|| StoreError::not_found("discount", id.to_string()))?
            .into_record()
    }

    /// A subscription's discounts in the order they were added (NotFound for an unknown
    /// subscription, so a typo is not mistaken for "no discounts").
    pub async fn list_discounts(&self, subscription_id: i64) -> StoreResult<Vec<DiscountRecord>> {
        let mut conn = self.pool.acquire().await?;
        Self::subscription_by_id(&mut conn, subscription_id).await?;
        sqlx::query_as::<_, DiscountRow>(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE subscription_id = $1 ORDER BY id"
        )))
        .bind(subscription_id)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(DiscountRow::into_record)
        .collect()
    }

    /// One discount by its id.
    pub async fn get_discount(&self, id: i64) -> StoreResult<DiscountRecord> {
        let mut conn = self.pool.acquire().await?;
        Self::discount_by_id(&mut conn, id).await
    }

    /// Removes a discount. Invoices already issued keep their discount lines.
    pub async fn delete_discount(&self, actor: &Actor, id: i64) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let before = Self::discount_by_id(&mut tx, id).await?;
        let subscription = Self::subscription_by_id(&mut tx, before.subscription_id).await?;
        sqlx::query("DELETE FROM discount WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        Audit::new("discount.delete", "discount", &id.to_string())
            .client(&subscription.client_number)
            .before(&before)
            .commit(tx, actor)
            .await?;
        Ok(())
    }

    /// Every discount per subscription, each list in the order added (by id): the order in
    /// which `charge_lines` applies them. For the billing run.
    pub async fn discounts_by_subscription(&self) -> StoreResult<HashMap<i64, Vec<Discount>>> {
        let rows: Vec<DiscountRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY id")))
                .fetch_all(&self.pool)
                .await?;
        let mut by_subscription: HashMap<i64, Vec<Discount>> = HashMap::new();
        for row in rows {
            let record = row.into_record()?;
            by_subscription
                .entry(record.subscription_id)
                .or_default()
                .push(record.discount);
        }
        Ok(by_subscription)
    }
}
