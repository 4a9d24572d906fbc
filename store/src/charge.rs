//! One-off charges: entered on a client (optionally on one of its subscriptions), picked up
//! by the first billing run on or after their date, then linked to that invoice for good.

use chrono::NaiveDate;
use ispd_billing::FieldError;
use ispd_billing::charge::OneOffCharge;
use ispd_billing::money;
use sqlx::{AnyConnection, AssertSqlSafe};

use super::{Actor, Audit, Store, StoreError, StoreResult, corrupt, date_text, now, parse_date};

/// A stored charge with the names the API speaks in.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargeRecord {
    pub id: i64,
    pub client_id: i64,
    pub client_number: String,
    pub subscription_id: Option<i64>,
    pub charge: OneOffCharge,
    /// The invoice that billed it; `None` while it waits for a billing run.
    pub invoice_number: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ChargeRow {
    id: i64,
    client_id: i64,
    client_number: String,
    subscription_id: Option<i64>,
    description: String,
    quantity: String,
    unit_price_minor: i64,
    price_includes_vat: i64,
    vat_rate: String,
    charge_on: String,
    invoice_number: Option<String>,
}

const SELECT: &str = "SELECT ch.id, ch.client_id, c.number AS client_number, ch.subscription_id,
    ch.description, ch.quantity, ch.unit_price_minor, ch.price_includes_vat, ch.vat_rate,
    ch.charge_on, i.number AS invoice_number
    FROM one_off_charge ch JOIN client c ON c.id = ch.client_id
    LEFT JOIN invoice i ON i.id = ch.invoice_id";

impl ChargeRow {
    fn into_record(self) -> StoreResult<ChargeRecord> {
        let decimal = |field: &str, text: &str| {
            text.parse()
                .map_err(|_| corrupt(format!("one-off charge {}: {field} {text:?}", self.id)))
        };
        Ok(ChargeRecord {
            id: self.id,
            client_id: self.client_id,
            client_number: self.client_number.clone(),
            subscription_id: self.subscription_id,
            charge: OneOffCharge {
                description: self.description.clone(),
                quantity: decimal("quantity", &self.quantity)?,
                unit_price: money::from_minor_units(self.unit_price_minor),
                price_includes_vat: self.price_includes_vat != 0,
                vat_rate: decimal("vat_rate", &self.vat_rate)?,
                charge_on: parse_date("charge_on", &self.charge_on)?,
            },
            invoice_number: self.invoice_number,
        })
    }
}

/// The audit snapshot of a charge (`OneOffCharge` plus where it belongs).
fn audit_of(record: &ChargeRecord) -> serde_json::Value {
    serde_json::json!({
        "id": record.id,
        "client_number": record.client_number,
        "subscription_id": record.subscription_id,
        "charge": record.charge,
        "invoice_number": record.invoice_number,
    })
}

impl Store {
    async fn charge_by_id(conn: &mut AnyConnection, id: i64) -> StoreResult<ChargeRecord> {
        sqlx::query_as::<_, ChargeRow>(AssertSqlSafe(format!("{SELECT} WHERE ch.id = $1")))
            .bind(id)
            .fetch_optional(conn)
            .await?
            .ok_or_else(|| StoreError::not_found("one-off charge", id.to_string()))?
            .into_record()
    }

    /// Adds a charge to client `client_number`; a subscription, when given, must be one of
    /// that client's (it only says what the charge belongs to: the invoice is the client's).
    pub async fn add_charge(
        &self,
        actor: &Actor,
        client_number: &str,
        subscription_id: Option<i64>,
        charge: OneOffCharge,
    ) -> StoreResult<ChargeRecord> {
        let mut tx = self.write_tx().await?;
        let client_id = Self::client_id_of(&mut *tx, client_number).await?;
        if let Some(subscription) = subscription_id {
            let owner: Option<i64> =
                sqlx::query_scalar("SELECT client_id FROM subscription WHERE id = $1")
                    .bind(subscription)
                    .fetch_optional(&mut *tx)
                    .await?;
            match owner {
                Some(owner) if owner == client_id => {}
                Some(_) => {
                    return Err(FieldError::new(
                        "charge.subscription_id",
                        format!(
                            "subscription {subscription} is not a subscription of client {client_number}"
                        ),
                    )
                    .into());
                }
                None => {
                    return Err(FieldError::new(
                        "charge.subscription_id",
                        format!("no subscription {subscription}"),
                    )
                    .into());
                }
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO one_off_charge (client_id, subscription_id, description, quantity,
                unit_price_minor, price_includes_vat, vat_rate, charge_on, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(client_id)
        .bind(subscription_id)
        .bind(charge.description.clone())
        .bind(charge.quantity.normalize().to_string())
        .bind(money::to_minor_units(
            "charge.unit_price",
            charge.unit_price,
        )?)
        .bind(i64::from(charge.price_includes_vat))
        .bind(charge.vat_rate.normalize().to_string())
        .bind(date_text(charge.charge_on))
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        let stored = Self::charge_by_id(&mut tx, id).await?;
        Audit::new("charge.add", "one_off_charge", &id.to_string())
            .client(client_number)
            .after(&audit_of(&stored))
            .commit(tx, actor)
            .await?;
        Ok(stored)
    }

    /// A client's charges, billed ones included (with their invoice number), oldest first.
    pub async fn list_charges(&self, client_number: &str) -> StoreResult<Vec<ChargeRecord>> {
        let mut conn = self.pool.acquire().await?;
        let client_id = Self::client_id_of(&mut *conn, client_number).await?;
        sqlx::query_as::<_, ChargeRow>(AssertSqlSafe(format!(
            "{SELECT} WHERE ch.client_id = $1 ORDER BY ch.charge_on, ch.id"
        )))
        .bind(client_id)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(ChargeRow::into_record)
        .collect()
    }

    /// One charge by its id.
    pub async fn get_charge(&self, id: i64) -> StoreResult<ChargeRecord> {
        let mut conn = self.pool.acquire().await?;
        Self::charge_by_id(&mut conn, id).await
    }

    /// Deletes a charge that no invoice has billed yet; a billed one is part of an issued
    /// document and is corrected by a credit note instead.
    pub async fn delete_charge(&self, actor: &Actor, id: i64) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let before = Self::charge_by_id(&mut tx, id).await?;
        if let Some(invoice) = &before.invoice_number {
            return Err(StoreError::Precondition(format!(
                "one-off charge {id} is billed on invoice {invoice}; correct it with a credit note"
            )));
        }
        let deleted =
            sqlx::query("DELETE FROM one_off_charge WHERE id = $1 AND invoice_id IS NULL")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if deleted == 0 {
            return Err(StoreError::Precondition(format!(
                "one-off charge {id} was billed meanwhile"
            )));
        }
        Audit::new("charge.delete", "one_off_charge", &id.to_string())
            .client(&before.client_number)
            .before(&audit_of(&before))
            .commit(tx, actor)
            .await?;
        Ok(())
    }

    /// What the billing run as of `as_of` bills: every charge dated on or before it that no
    /// invoice has taken yet, by client, then in the order entered.
    pub async fn unbilled_charges(&self, as_of: NaiveDate) -> StoreResult<Vec<ChargeRecord>> {
        sqlx::query_as::<_, ChargeRow>(AssertSqlSafe(format!(
            "{SELECT} WHERE ch.invoice_id IS NULL AND ch.charge_on <= $1
             ORDER BY ch.client_id, ch.id"
        )))
        .bind(date_text(as_of))
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(ChargeRow::into_record)
        .collect()
    }
}
