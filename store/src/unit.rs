//! Units as stored: created, listed, deleted while no service uses them, and the services on
//! one as the one-of-a-class rule (`ispd_billing::unit`) reads them.

use ispd_billing::subscription::SubscriptionState;
use ispd_billing::unit::{OnUnit, Unit};

use sqlx::AnyConnection;

use super::{
    Actor, Audit, Store, StoreError, StoreResult, WriteTx, corrupt, now, unique_as_conflict,
};

impl Store {
    /// Stores a unit (its name is unique), with its audit record.
    pub async fn create_unit(&self, actor: &Actor, unit: &Unit) -> StoreResult<Unit> {
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO unit (name, note, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(unit.name.clone())
        .bind(unit.note.clone())
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| unique_as_conflict(e, "unit.name"))?;
        let stored = Unit { id, ..unit.clone() };
        Audit::new("unit.create", "unit", &id.to_string())
            .after(&serde_json::json!({"name": stored.name, "note": stored.note}))
            .commit(tx, actor)
            .await?;
        Ok(stored)
    }

    /// Every unit, by id.
    pub async fn list_units(&self) -> StoreResult<Vec<Unit>> {
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, name, note FROM unit ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, note)| Unit { id, name, note })
            .collect())
    }

    /// Deletes a unit no subscription names, with its audit record.
    pub async fn delete_unit(&self, actor: &Actor, id: i64) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subscription WHERE unit_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if used > 0 {
            return Err(StoreError::Precondition(format!(
                "unit {id} is named by {used} subscription(s)"
            )));
        }
        let deleted = sqlx::query("DELETE FROM unit WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::not_found("unit", id.to_string()));
        }
        Audit::new("unit.delete", "unit", &id.to_string())
            .commit(tx, actor)
            .await?;
        Ok(())
    }

    /// The subscriptions on unit `id`, each with its tariff's service class and its state;
    /// `NotFound` when there is no such unit.
    pub async fn services_on_unit(&self, id: i64) -> StoreResult<Vec<OnUnit>> {
        Self::services_on(&mut *self.pool.acquire().await?, id).await
    }

    /// [`Store::services_on_unit`] as the caller's transaction reads them.
    pub async fn services_on_unit_in(&self, tx: &mut WriteTx, id: i64) -> StoreResult<Vec<OnUnit>> {
        Self::services_on(tx.conn(), id).await
    }

    /// The units holding a service of tariff `id` that has not ended, each with that
    /// service, as the caller's transaction reads them.
    pub async fn tariff_on_units_in(
        &self,
        tx: &mut WriteTx,
        id: i64,
    ) -> StoreResult<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT unit_id, id FROM subscription
             WHERE tariff_id = $1 AND unit_id IS NOT NULL AND state <> 'ended' ORDER BY id",
        )
        .bind(id)
        .fetch_all(tx.conn())
        .await?)
    }

    async fn services_on(conn: &mut AnyConnection, id: i64) -> StoreResult<Vec<OnUnit>> {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM unit WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_none() {
            return Err(StoreError::not_found("unit", id.to_string()));
        }
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT s.id, t.service_class, s.state FROM subscription s
             JOIN tariff t ON t.id = s.tariff_id WHERE s.unit_id = $1 ORDER BY s.id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter()
            .map(|(subscription, class, state)| {
                Ok(OnUnit {
                    subscription,
                    class,
                    state: SubscriptionState::parse(&state)
                        .ok_or_else(|| corrupt(format!("subscription {subscription}: state")))?,
                })
            })
            .collect()
    }
}
