//! Logins, with their password sealed at rest.

use ispd_provisioning::login::{AuthType, ExtraAttribute, Login};
use ispd_provisioning::speed::TemporarySpeed;
use sqlx::{AnyConnection, Row as _};

use super::{
    Actor, Arg, Audit, Page, PageRequest, Store, StoreError, StoreResult, Where, corrupt,
    unique_as_conflict,
};
use crate::page::{Order, fetch_page};
use sqlx::AssertSqlSafe;

/// A login with the client it belongs to (through its subscription).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LoginRecord {
    pub login: Login,
    pub client_number: String,
    /// Set apart from the login's fields (`set_temporary_speed`); kept after it ends.
    pub temporary: Option<TemporarySpeed>,
}

#[derive(sqlx::FromRow)]
struct LoginRow {
    id: i64,
    username: String,
    auth_type: String,
    mac: Option<String>,
    ipv4: Option<String>,
    ipv6_prefix: Option<String>,
    nas_json: String,
    attributes_json: String,
    subscription_id: i64,
    disabled: i64,
    note: String,
    version: i64,
    client_number: String,
    temporary_download_kbps: Option<i64>,
    temporary_upload_kbps: Option<i64>,
    temporary_until: Option<String>,
}

const SELECT: &str = "SELECT l.id, l.username, l.auth_type, l.mac, l.ipv4, l.ipv6_prefix,
    l.nas_json, l.attributes_json, l.subscription_id, l.disabled, l.note, l.version,
    c.number AS client_number, l.temporary_download_kbps, l.temporary_upload_kbps,
    l.temporary_until
    FROM login l JOIN subscription s ON s.id = l.subscription_id JOIN client c ON c.id = s.client_id";

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredAttribute {
    name: String,
    value: String,
}

impl LoginRow {
    fn into_record(self) -> StoreResult<LoginRecord> {
        let bad = |what: &str| corrupt(format!("login {}: {what}", self.username));
        let temporary = super::temporary_speed::temporary_speed(
            &self.username,
            self.temporary_download_kbps,
            self.temporary_upload_kbps,
            self.temporary_until.as_deref(),
        )?;
        Ok(LoginRecord {
            temporary,
            login: Login {
                id: self.id,
                auth_type: AuthType::parse(&self.auth_type).ok_or_else(|| bad("auth type"))?,
                mac: column(&self.username, "mac", self.mac.as_deref())?,
                ipv4: column(&self.username, "ipv4", self.ipv4.as_deref())?,
                ipv6_prefix: column(&self.username, "ipv6 prefix", self.ipv6_prefix.as_deref())?,
                nas: nas_names(&self.username, &self.nas_json)?,
                attributes: extra_attributes(&self.username, &self.attributes_json)?,
                subscription_id: self.subscription_id,
                disabled: self.disabled != 0,
                note: self.note,
                version: self.version,
                username: self.username,
            },
            client_number: self.client_number,
        })
    }
}

/// A nullable text column parsed into its type; a value that does not parse is corruption.
pub(super) fn column<T: std::str::FromStr>(
    username: &str,
    what: &str,
    text: Option<&str>,
) -> StoreResult<Option<T>> {
    text.map(str::parse)
        .transpose()
        .map_err(|_| corrupt(format!("login {username}: {what}")))
}

pub(super) fn nas_names(username: &str, json: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(json).map_err(|_| corrupt(format!("login {username}: nas")))
}

pub(super) fn extra_attributes(username: &str, json: &str) -> StoreResult<Vec<ExtraAttribute>> {
    let stored: Vec<StoredAttribute> =
        serde_json::from_str(json).map_err(|_| corrupt(format!("login {username}: attributes")))?;
    Ok(stored
        .into_iter()
        .map(|a| ExtraAttribute {
            name: a.name,
            value: a.value,
        })
        .collect())
}

fn attributes_json(login: &Login) -> String {
    let stored: Vec<StoredAttribute> = login
        .attributes
        .iter()
        .map(|a| StoredAttribute {
            name: a.name.clone(),
            value: a.value.clone(),
        })
        .collect();
    serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into())
}

impl Store {
    async fn login_where(
        conn: &mut AnyConnection,
        condition: &str,
        key: Arg,
    ) -> StoreResult<Option<LoginRecord>> {
        let sql = format!("{SELECT} WHERE {condition}");
        let q = sqlx::query_as::<_, LoginRow>(AssertSqlSafe(sql));
        let row = match key {
            Arg::Text(t) => q.bind(t).fetch_optional(conn).await?,
            Arg::Int(i) => q.bind(i).fetch_optional(conn).await?,
        };
        row.map(LoginRow::into_record).transpose()
    }

    pub(super) async fn login_by_username(
        conn: &mut AnyConnection,
        username: &str,
    ) -> StoreResult<LoginRecord> {
        Self::login_where(conn, "l.username = $1", Arg::Text(username.to_owned()))
            .await?
            .ok_or_else(|| StoreError::not_found("login", username.to_owned()))
    }

    pub async fn get_login(&self, username: &str) -> StoreResult<LoginRecord> {
        let mut conn = self.pool.acquire().await?;
        Self::login_by_username(&mut conn, username).await
    }

    /// Usernames and static addresses identify one login each, so they are unique.
    async fn check_login_unique(conn: &mut AnyConnection, login: &Login) -> StoreResult<()> {
        let checks = [
            ("login.username", "username", Some(login.username.clone())),
            (
                "login.ipv6_prefix",
                "ipv6_prefix",
                login.ipv6_prefix.map(|p| p.to_string()),
            ),
        ];
        for (field, column, value) in checks {
            let Some(value) = value else { continue };
            let other: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT username FROM login WHERE {column} = $1 AND id <> $2"
            )))
            .bind(value.clone())
            .bind(login.id)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(other) = other {
                return Err(StoreError::Conflict {
                    field: field.into(),
                    message: format!("{value} is already used by login {other}"),
                });
            }
        }
        Self::check_own_ipv4_unique(conn, login).await?;
        let subscription: Option<i64> =
            sqlx::query_scalar("SELECT id FROM subscription WHERE id = $1")
                .bind(login.subscription_id)
                .fetch_optional(&mut *conn)
                .await?;
        if subscription.is_none() {
            return Err(StoreError::not_found(
                "subscription",
                login.subscription_id.to_string(),
            ));
        }
        Ok(())
    }

    /// A login's own IPv4 address — its static one, else an extra Framed-IP-Address — is no
    /// other login's, static or extra: found probing from outside, an extra naming another
    /// login's static address was taken, two subscribers on one address.
    async fn check_own_ipv4_unique(conn: &mut AnyConnection, login: &Login) -> StoreResult<()> {
        let extra = ispd_provisioning::login::extra_ipv4(&login.attributes);
        let (field, ip) = match (login.ipv4, extra) {
            (Some(ip), _) => ("login.ipv4".to_owned(), ip),
            (None, Some((i, ip))) => (format!("login.attributes[{i}]"), ip),
            (None, None) => return Ok(()),
        };
        // As `attributes_json` writes an extra (serde_json, compact, its fields in order).
        let as_extra = serde_json::to_string(&StoredAttribute {
            name: "Framed-IP-Address".into(),
            value: ip.to_string(),
        })
        .unwrap_or_default();
        let other: Option<String> = sqlx::query_scalar(
            "SELECT username FROM login
             WHERE id <> $1 AND (ipv4 = $2 OR attributes_json LIKE $3)",
        )
        .bind(login.id)
        .bind(ip.to_string())
        .bind(format!("%{as_extra}%"))
        .fetch_optional(&mut *conn)
        .await?;
        match other {
            Some(other) => Err(StoreError::Conflict {
                field,
                message: format!("{ip} is already used by login {other}"),
            }),
            None => Ok(()),
        }
    }

    pub async fn create_login(
        &self,
        actor: &Actor,
        mut login: Login,
        password: &str,
    ) -> StoreResult<LoginRecord> {
        login.apply_defaults();
        login.id = 0;
        login.version = 1;
        let sealed = self.sealer.seal(password)?;
        let mut tx = self.write_tx().await?;
        Self::check_login_unique(&mut tx, &login).await?;
        let insert = sqlx::query(
            "INSERT INTO login (username, auth_type, mac, ipv4, ipv6_prefix, nas_json,
                attributes_json, subscription_id, disabled, note, password_sealed, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        );
        let id: i64 = bind_columns(insert, &login, Some(sealed))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| unique_as_conflict(e, "login.username"))?
            .try_get(0)?;
        let stored = Self::login_where(&mut tx, "l.id = $1", Arg::Int(id))
            .await?
            .ok_or_else(|| corrupt("login vanished inside its transaction".into()))?;
        Audit::new("login.create", "login", &stored.login.username)
            .client(&stored.client_number)
            .after(&stored)
            .commit(tx, actor)
            .await?;
        Ok(stored)
    }

    /// Replaces a login found by id (so it can be renamed); the password changes only when
    /// `new_password` is given.
    pub async fn update_login(
        &self,
        actor: &Actor,
        mut login: Login,
        new_password: Option<&str>,
    ) -> StoreResult<LoginRecord> {
        login.apply_defaults();
        let sealed = match new_password {
            Some(p) => Some(self.sealer.seal(p)?),
            None => None,
        };
        let mut tx = self.write_tx().await?;
        let before = Self::login_where(&mut tx, "l.id = $1", Arg::Int(login.id))
            .await?
            .ok_or_else(|| StoreError::not_found("login", login.username.clone()))?;
        if before.login.version != login.version {
            return Err(StoreError::Stale {
                entity: "login",
                key: before.login.username,
            });
        }
        Self::check_login_unique(&mut tx, &login).await?;
        login.version += 1;
        let update = sqlx::query(
            "UPDATE login SET username = $1, auth_type = $2, mac = $3, ipv4 = $4, ipv6_prefix = $5,
                nas_json = $6, attributes_json = $7, subscription_id = $8, disabled = $9, note = $10,
                password_sealed = COALESCE($11, password_sealed), version = $12 WHERE id = $13 AND version = $14",
        );
        let updated = bind_columns(update, &login, sealed)
            .bind(login.id)
            .bind(before.login.version)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_as_conflict(e, "login.username"))?
            .rows_affected();
        if updated == 0 {
            return Err(StoreError::Stale {
                entity: "login",
                key: before.login.username.clone(),
            });
        }
        let stored = Self::login_where(&mut tx, "l.id = $1", Arg::Int(login.id))
            .await?
            .ok_or_else(|| corrupt("login vanished inside its transaction".into()))?;
        let action = if new_password.is_some() {
            "login.update+password"
        } else {
            "login.update"
        };
        Audit::new(action, "login", &stored.login.username)
            .client(&stored.client_number)
            .before(&before)
            .after(&stored)
            .commit(tx, actor)
            .await?;
        Ok(stored)
    }

    pub async fn set_login_password(
        &self,
        actor: &Actor,
        username: &str,
        password: &str,
    ) -> StoreResult<()> {
        let sealed = self.sealer.seal(password)?;
        let mut tx = self.write_tx().await?;
        let record = Self::login_by_username(&mut tx, username).await?;
        sqlx::query("UPDATE login SET password_sealed = $1, version = version + 1 WHERE id = $2")
            .bind(sealed)
            .bind(record.login.id)
            .execute(&mut *tx)
            .await?;
        Audit::new("login.password", "login", username)
            .client(&record.client_number)
            .commit(tx, actor)
            .await?;
        Ok(())
    }

    /// The clear-text password, for the RADIUS side (CHAP and MS-CHAPv2 need it).
    pub async fn login_password(&self, username: &str) -> StoreResult<String> {
        let sealed: String =
            sqlx::query_scalar("SELECT password_sealed FROM login WHERE username = $1")
                .bind(username.to_owned())
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StoreError::not_found("login", username.to_owned()))?;
        Ok(self.sealer.open(&sealed)?)
    }

    pub async fn list_logins(
        &self,
        client_number: &str,
        subscription_id: Option<i64>,
        page: PageRequest,
    ) -> StoreResult<Page<LoginRecord>> {
        let mut w = Where::default();
        w.equals("c.number", client_number);
        if let Some(id) = subscription_id {
            w.and("l.subscription_id = {}", Arg::Int(id));
        }
        fetch_page(
            &mut *self.pool.acquire().await?,
            SELECT,
            ("l.id", Order::OldestFirst),
            w,
            page,
            LoginRow::into_record,
            |r| r.login.id,
        )
        .await
    }

    pub async fn delete_login(&self, actor: &Actor, username: &str) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let before = Self::login_by_username(&mut tx, username).await?;
        // Its open sessions keep its id (their login_id goes with it): the reconcile tells
        // them they are refused until their NAS ends them.
        sqlx::query(
            "UPDATE session SET deleted_login_id = login_id
             WHERE login_id = $1 AND stopped_at IS NULL",
        )
        .bind(before.login.id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM login WHERE id = $1")
            .bind(before.login.id)
            .execute(&mut *tx)
            .await?;
        Audit::new("login.delete", "login", username)
            .client(&before.client_number)
            .before(&before)
            .commit(tx, actor)
            .await?;
        Ok(())
    }
}

impl Store {
    /// Creates many PPP logins on one subscription in one transaction, with one audit record:
    /// the path for seeding benchmarks. The caller has checked each login and password with
    /// the cores (`Login::validate`, `validate_password`); storage seals and writes. All or
    /// nothing: a taken username refuses the whole batch.
    pub async fn insert_logins(
        &self,
        actor: &Actor,
        subscription_id: i64,
        logins: &[(String, String)],
    ) -> StoreResult<usize> {
        let rows = logins
            .iter()
            .map(|(username, password)| Ok((username.clone(), self.sealer.seal(password)?)))
            .collect::<StoreResult<Vec<_>>>()?;
        let mut tx = self.write_tx().await?;
        let client_number = Self::client_of_subscription(&mut tx, subscription_id).await?;
        for (username, sealed) in &rows {
            sqlx::query(
                "INSERT INTO login (username, auth_type, mac, ipv4, ipv6_prefix, nas_json,
                    attributes_json, subscription_id, disabled, note, password_sealed, version)
                 VALUES ($1, 'ppp', NULL, NULL, NULL, '[]', '[]', $2, 0, '', $3, 1)",
            )
            .bind(username.clone())
            .bind(subscription_id)
            .bind(sealed.clone())
            .execute(&mut *tx)
            .await
            .map_err(|e| match unique_as_conflict(e, "login.username") {
                StoreError::Conflict { field, .. } => StoreError::Conflict {
                    field,
                    message: format!("{username} already exists"),
                },
                other => other,
            })?;
        }
        let summary = serde_json::json!({"subscription_id": subscription_id, "logins": rows.len()});
        Audit::new("login.import", "login", &format!("{} logins", rows.len()))
            .client(&client_number)
            .after(&summary)
            .commit(tx, actor)
            .await?;
        Ok(rows.len())
    }
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// The columns a login row has in both its INSERT and its UPDATE, in that order; `sealed` is
/// the password's sealed form (an update without one keeps the stored password).
fn bind_columns<'q>(q: Query<'q>, login: &Login, sealed: Option<String>) -> Query<'q> {
    q.bind(login.username.clone())
        .bind(login.auth_type.as_str().to_owned())
        .bind(login.mac.map(|m| m.to_string()))
        .bind(login.ipv4.map(|a| a.to_string()))
        .bind(login.ipv6_prefix.map(|p| p.to_string()))
        .bind(serde_json::to_string(&login.nas).unwrap_or_else(|_| "[]".into()))
        .bind(attributes_json(login))
        .bind(login.subscription_id)
        .bind(i64::from(login.disabled))
        .bind(login.note.clone())
        .bind(sealed)
        .bind(login.version)
}
