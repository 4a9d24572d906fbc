//! NAS entries created over the API, with their shared secret sealed at rest.

use std::net::IpAddr;

use ispd_provisioning::enforcement::CoaMode;
use ispd_provisioning::nas::{Nas, NasVendor};
use sqlx::AnyConnection;

use super::{
    Actor, Audit, Page, PageRequest, Store, StoreError, StoreResult, corrupt, unique_as_conflict,
};
use crate::Where;
use crate::page::{Order, fetch_page};
use sqlx::AssertSqlSafe;

/// A stored NAS. The secret is only opened for the RADIUS side, never for the API.
#[derive(Debug, Clone, PartialEq)]
pub struct NasRecord {
    pub nas: Nas,
}

#[derive(sqlx::FromRow)]
struct NasRow {
    id: i64,
    name: String,
    address: String,
    vendor: String,
    coa_port: i64,
    require_message_authenticator: i64,
    limit_proxy_state: i64,
    coa: Option<String>,
    note: String,
    version: i64,
}

const COLUMNS: &str = "id, name, address, vendor, coa_port, require_message_authenticator, \
    limit_proxy_state, coa, note, version";

impl NasRow {
    fn into_nas(self) -> StoreResult<Nas> {
        Ok(Nas {
            id: self.id,
            address: self
                .address
                .parse::<IpAddr>()
                .map_err(|_| corrupt(format!("nas {}: address", self.name)))?,
            vendor: NasVendor::parse(&self.vendor)
                .ok_or_else(|| corrupt(format!("nas {}: vendor", self.name)))?,
            coa_port: u16::try_from(self.coa_port)
                .map_err(|_| corrupt(format!("nas {}: coa port", self.name)))?,
            require_message_authenticator: self.require_message_authenticator != 0,
            limit_proxy_state: self.limit_proxy_state != 0,
            coa: self
                .coa
                .map(|c| {
                    CoaMode::parse(&c).ok_or_else(|| corrupt(format!("nas {}: coa", self.name)))
                })
                .transpose()?,
            name: self.name,
            note: self.note,
            version: self.version,
        })
    }
}

impl Store {
    async fn nas_by(
        conn: &mut AnyConnection,
        column: &str,
        key: String,
    ) -> StoreResult<Option<Nas>> {
        sqlx::query_as::<_, NasRow>(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM nas WHERE {column} = $1"
        )))
        .bind(key)
        .fetch_optional(conn)
        .await?
        .map(NasRow::into_nas)
        .transpose()
    }

    pub async fn get_nas(&self, name: &str) -> StoreResult<Nas> {
        let mut conn = self.pool.acquire().await?;
        Self::nas_by(&mut conn, "name", name.to_owned())
            .await?
            .ok_or_else(|| StoreError::not_found("nas", name.to_owned()))
    }

    async fn check_nas_unique(conn: &mut AnyConnection, nas: &Nas) -> StoreResult<()> {
        for (field, column, value) in [
            ("nas.name", "name", nas.name.clone()),
            ("nas.address", "address", nas.address.to_string()),
        ] {
            if let Some(other) = Self::nas_by(conn, column, value.clone()).await?
                && other.id != nas.id
            {
                return Err(StoreError::Conflict {
                    field: field.into(),
                    message: format!("{value} is already used by NAS {}", other.name),
                });
            }
        }
        Ok(())
    }

    pub async fn create_nas(&self, actor: &Actor, mut nas: Nas, secret: &str) -> StoreResult<Nas> {
        nas.id = 0;
        nas.version = 1;
        let sealed = self.sealer.seal(secret)?;
        let mut tx = self.write_tx().await?;
        Self::check_nas_unique(&mut tx, &nas).await?;
        sqlx::query(
            "INSERT INTO nas (name, address, vendor, coa_port, require_message_authenticator,
                secret_sealed, note, version, limit_proxy_state, coa)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(nas.name.clone())
        .bind(nas.address.to_string())
        .bind(nas.vendor.as_str().to_owned())
        .bind(i64::from(nas.coa_port))
        .bind(i64::from(nas.require_message_authenticator))
        .bind(sealed)
        .bind(nas.note.clone())
        .bind(nas.version)
        .bind(i64::from(nas.limit_proxy_state))
        .bind(nas.coa.map(|c| c.as_str().to_owned()))
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_as_conflict(e, "nas.name"))?;
        let stored = Self::nas_by(&mut tx, "name", nas.name.clone())
            .await?
            .ok_or_else(|| corrupt("nas vanished inside its transaction".into()))?;
        Audit::new("nas.create", "nas", &stored.name)
            .after(&stored)
            .commit(tx, actor)
            .await?;
        Ok(stored)
    }

    pub async fn update_nas(
        &self,
        actor: &Actor,
        mut nas: Nas,
        new_secret: Option<&str>,
    ) -> StoreResult<Nas> {
        let sealed = match new_secret {
            Some(s) => Some(self.sealer.seal(s)?),
            None => None,
        };
        let mut tx = self.write_tx().await?;
        let before = sqlx::query_as::<_, NasRow>(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM nas WHERE id = $1"
        )))
        .bind(nas.id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("nas", nas.name.clone()))?
        .into_nas()?;
        if before.version != nas.version {
            return Err(StoreError::Stale {
                entity: "nas",
                key: before.name,
            });
        }
        Self::check_nas_unique(&mut tx, &nas).await?;
        nas.version += 1;
        let updated = sqlx::query(
            "UPDATE nas SET name = $1, address = $2, vendor = $3, coa_port = $4,
                require_message_authenticator = $5, secret_sealed = COALESCE($6, secret_sealed),
                note = $7, version = $8, limit_proxy_state = $11, coa = $12 WHERE id = $9 AND version = $10",
        )
        .bind(nas.name.clone())
        .bind(nas.address.to_string())
        .bind(nas.vendor.as_str().to_owned())
        .bind(i64::from(nas.coa_port))
        .bind(i64::from(nas.require_message_authenticator))
        .bind(sealed)
        .bind(nas.note.clone())
        .bind(nas.version)
        .bind(nas.id)
        .bind(before.version)
        .bind(i64::from(nas.limit_proxy_state))
        .bind(nas.coa.map(|c| c.as_str().to_owned()))
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_as_conflict(e, "nas.name"))?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::Stale {
                entity: "nas",
                key: before.name.clone(),
            });
        }
        let action = if new_secret.is_some() {
            "nas.update+secret"
        } else {
            "nas.update"
        };
        Audit::new(action, "nas", &nas.name)
            .before(&before)
            .after(&nas)
            .commit(tx, actor)
            .await?;
        Ok(nas)
    }

    pub async fn list_nas(&self, page: PageRequest) -> StoreResult<Page<Nas>> {
        fetch_page(
            &mut *self.pool.acquire().await?,
            &format!("SELECT {COLUMNS} FROM nas"),
            ("id", Order::OldestFirst),
            Where::default(),
            page,
            NasRow::into_nas,
            |n| n.id,
        )
        .await
    }

    /// Every stored NAS with its opened secret: what the RADIUS side loads at start-up.
    pub async fn nas_with_secrets(&self) -> StoreResult<Vec<(Nas, String)>> {
        #[derive(sqlx::FromRow)]
        struct WithSecret {
            #[sqlx(flatten)]
            nas: NasRow,
            secret_sealed: String,
        }
        let rows = sqlx::query_as::<_, WithSecret>(AssertSqlSafe(format!(
            "SELECT {COLUMNS}, secret_sealed FROM nas ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| Ok((r.nas.into_nas()?, self.sealer.open(&r.secret_sealed)?)))
            .collect()
    }

    pub async fn delete_nas(&self, actor: &Actor, name: &str) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let before = Self::nas_by(&mut tx, "name", name.to_owned())
            .await?
            .ok_or_else(|| StoreError::not_found("nas", name.to_owned()))?;
        sqlx::query("DELETE FROM nas WHERE id = $1")
            .bind(before.id)
            .execute(&mut *tx)
            .await?;
        Audit::new("nas.delete", "nas", name)
            .before(&before)
            .commit(tx, actor)
            .await?;
        Ok(())
    }
}
