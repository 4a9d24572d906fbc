//! A login's temporary speed (net47's "prędkość tymczasowa"): a rate until a moment, kept
//! beside the login and read with its access row. Setting one is an audited write of its own,
//! so the login's version (and an edit in progress) is not disturbed.

use ispd_billing::tariff::Rate;
use ispd_provisioning::speed::TemporarySpeed;

use super::{Actor, Audit, Store, StoreResult, timestamp};

/// A temporary speed from its three columns: all set, or none.
pub(super) fn temporary_speed(
    username: &str,
    download: Option<i64>,
    upload: Option<i64>,
    until: Option<&str>,
) -> StoreResult<Option<TemporarySpeed>> {
    let kbps = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(match (download, upload, until) {
        (Some(d), Some(u), Some(until)) => Some(TemporarySpeed {
            rate: Rate {
                download_kbps: kbps(d),
                upload_kbps: kbps(u),
            },
            until: crate::parse_timestamp(
                &format!("login {username}: temporary speed end"),
                until,
            )?,
        }),
        _ => None,
    })
}

impl Store {
    /// Sets a login's temporary speed, or clears it with `None`; returns the login's id.
    pub async fn set_temporary_speed(
        &self,
        actor: &Actor,
        username: &str,
        speed: Option<TemporarySpeed>,
    ) -> StoreResult<i64> {
        let wide = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let mut tx = self.write_tx().await?;
        let record = Self::login_by_username(&mut tx, username).await?;
        sqlx::query(
            "UPDATE login SET temporary_download_kbps = $1, temporary_upload_kbps = $2,
                temporary_until = $3 WHERE id = $4",
        )
        .bind(speed.map(|s| wide(s.rate.download_kbps)))
        .bind(speed.map(|s| wide(s.rate.upload_kbps)))
        .bind(speed.map(|s| timestamp(s.until)))
        .bind(record.login.id)
        .execute(&mut *tx)
        .await?;
        let mut audit =
            Audit::new("login.temporary_speed", "login", username).client(&record.client_number);
        if let Some(speed) = &speed {
            audit = audit.after(speed);
        }
        audit.commit(tx, actor).await?;
        Ok(record.login.id)
    }

    /// A login's temporary speed, as stored (also one that has ended).
    pub async fn temporary_speed(&self, username: &str) -> StoreResult<Option<TemporarySpeed>> {
        let row: Option<(Option<i64>, Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT temporary_download_kbps, temporary_upload_kbps, temporary_until
             FROM login WHERE username = $1",
        )
        .bind(username.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        let (d, u, until) =
            row.ok_or_else(|| super::StoreError::not_found("login", username.to_owned()))?;
        temporary_speed(username, d, u, until.as_deref())
    }
}
