//! Tariffs.

use ispd_billing::money;
use ispd_billing::period::Period;
use ispd_billing::tariff::{Burst, DataCap, Rate, SpeedWindow, Tariff};
use sqlx::AnyConnection;

use super::{
    Actor, Audit, Page, PageRequest, Store, StoreError, StoreResult, WriteTx, corrupt,
    unique_as_conflict,
};
use crate::Where;
use crate::page::{Order, fetch_page};
use sqlx::AssertSqlSafe;

#[derive(sqlx::FromRow)]
struct TariffRow {
    id: i64,
    name: String,
    download_kbps: i64,
    upload_kbps: i64,
    burst_download_kbps: Option<i64>,
    burst_upload_kbps: Option<i64>,
    burst_threshold_download_kbps: Option<i64>,
    burst_threshold_upload_kbps: Option<i64>,
    burst_time_seconds: Option<i64>,
    price_minor: i64,
    price_includes_vat: i64,
    vat_rate: String,
    period: String,
    framed_pool: String,
    note: String,
    version: i64,
    window_from: Option<String>,
    window_to: Option<String>,
    window_download_kbps: Option<i64>,
    window_upload_kbps: Option<i64>,
    cap_download_octets: Option<i64>,
    cap_upload_octets: Option<i64>,
    cap_download_kbps: Option<i64>,
    cap_upload_kbps: Option<i64>,
    service_class: String,
}

const COLUMNS: &str =
    "id, name, download_kbps, upload_kbps, burst_download_kbps, burst_upload_kbps,
    burst_threshold_download_kbps, burst_threshold_upload_kbps, burst_time_seconds, price_minor,
    price_includes_vat, vat_rate, period, framed_pool, note, version, window_from, window_to,
    window_download_kbps, window_upload_kbps, cap_download_octets, cap_upload_octets,
    cap_download_kbps, cap_upload_kbps, service_class";

fn kbps(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl TariffRow {
    fn into_tariff(self) -> StoreResult<Tariff> {
        let burst = burst(
            (self.burst_download_kbps, self.burst_upload_kbps),
            (
                self.burst_threshold_download_kbps,
                self.burst_threshold_upload_kbps,
            ),
            self.burst_time_seconds,
        );
        let window = speed_window(
            &self.name,
            self.window_from.as_deref(),
            self.window_to.as_deref(),
            self.window_download_kbps,
            self.window_upload_kbps,
        )?;
        let cap = data_cap(
            self.cap_download_octets,
            self.cap_upload_octets,
            self.cap_download_kbps,
            self.cap_upload_kbps,
        );
        Ok(Tariff {
            service_class: self.service_class,
            id: self.id,
            window,
            cap,
            rate: Rate {
                download_kbps: kbps(self.download_kbps),
                upload_kbps: kbps(self.upload_kbps),
            },
            burst,
            price: money::from_minor_units(self.price_minor),
            price_includes_vat: self.price_includes_vat != 0,
            vat_rate: self
                .vat_rate
                .parse()
                .map_err(|_| corrupt(format!("tariff {}: vat rate", self.name)))?,
            period: Period::parse(&self.period)
                .ok_or_else(|| corrupt(format!("tariff {}: period", self.name)))?,
            name: self.name,
            framed_pool: self.framed_pool,
            note: self.note,
            version: self.version,
        })
    }
}

type Q<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

fn bind_tariff<'q>(q: Q<'q>, t: &Tariff) -> StoreResult<Q<'q>> {
    let b = t.burst;
    let wide = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    Ok(q.bind(t.name.clone())
        .bind(wide(t.rate.download_kbps))
        .bind(wide(t.rate.upload_kbps))
        .bind(b.map(|b| wide(b.rate.download_kbps)))
        .bind(b.map(|b| wide(b.rate.upload_kbps)))
        .bind(b.map(|b| wide(b.threshold.download_kbps)))
        .bind(b.map(|b| wide(b.threshold.upload_kbps)))
        .bind(b.map(|b| i64::from(b.time_seconds)))
        .bind(money::to_minor_units("tariff.price", t.price)?)
        .bind(i64::from(t.price_includes_vat))
        .bind(t.vat_rate.normalize().to_string())
        .bind(t.period.as_str().to_owned())
        .bind(t.framed_pool.clone())
        .bind(t.note.clone())
        .bind(t.version)
        .bind(t.window.map(|w| time_text(w.from)))
        .bind(t.window.map(|w| time_text(w.to)))
        .bind(t.window.map(|w| wide(w.rate.download_kbps)))
        .bind(t.window.map(|w| wide(w.rate.upload_kbps)))
        .bind(t.cap.map(|c| wide(c.download_octets)))
        .bind(t.cap.map(|c| wide(c.upload_octets)))
        .bind(t.cap.map(|c| wide(c.rate.download_kbps)))
        .bind(t.cap.map(|c| wide(c.rate.upload_kbps)))
        .bind(t.service_class.clone()))
}

/// A tariff's data cap from its four columns: all set, or none.
pub(super) fn data_cap(
    download: Option<i64>,
    upload: Option<i64>,
    download_kbps: Option<i64>,
    upload_kbps: Option<i64>,
) -> Option<DataCap> {
    let octets = |v: i64| u64::try_from(v).unwrap_or(0);
    match (download, upload, download_kbps, upload_kbps) {
        (Some(d), Some(u), Some(dk), Some(uk)) => Some(DataCap {
            download_octets: octets(d),
            upload_octets: octets(u),
            rate: Rate {
                download_kbps: kbps(dk),
                upload_kbps: kbps(uk),
            },
        }),
        _ => None,
    }
}

fn time_text(t: chrono::NaiveTime) -> String {
    t.format("%H:%M:%S").to_string()
}

/// A tariff's window from its four columns: all set, or none.
/// A tariff's burst from its five columns: all set, or no burst.
pub(super) fn burst(
    (download, upload): (Option<i64>, Option<i64>),
    (threshold_download, threshold_upload): (Option<i64>, Option<i64>),
    time_seconds: Option<i64>,
) -> Option<Burst> {
    Some(Burst {
        rate: Rate {
            download_kbps: kbps(download?),
            upload_kbps: kbps(upload?),
        },
        threshold: Rate {
            download_kbps: kbps(threshold_download?),
            upload_kbps: kbps(threshold_upload?),
        },
        time_seconds: u32::try_from(time_seconds?).unwrap_or(0),
    })
}

pub(super) fn speed_window(
    tariff: &str,
    from: Option<&str>,
    to: Option<&str>,
    download: Option<i64>,
    upload: Option<i64>,
) -> StoreResult<Option<SpeedWindow>> {
    let time = |text: &str| {
        chrono::NaiveTime::parse_from_str(text, "%H:%M:%S")
            .map_err(|_| corrupt(format!("tariff {tariff}: window time")))
    };
    Ok(match (from, to, download, upload) {
        (Some(from), Some(to), Some(d), Some(u)) => Some(SpeedWindow {
            from: time(from)?,
            to: time(to)?,
            rate: Rate {
                download_kbps: kbps(d),
                upload_kbps: kbps(u),
            },
        }),
        _ => None,
    })
}

impl Store {
    pub(super) async fn tariff_by_name(
        conn: &mut AnyConnection,
        name: &str,
    ) -> StoreResult<Tariff> {
        sqlx::query_as::<_, TariffRow>(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM tariff WHERE name = $1"
        )))
        .bind(name.to_owned())
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| StoreError::not_found("tariff", name.to_owned()))?
        .into_tariff()
    }

    pub async fn get_tariff(&self, name: &str) -> StoreResult<Tariff> {
        let mut conn = self.pool.acquire().await?;
        Self::tariff_by_name(&mut conn, name).await
    }

    /// [`Store::get_tariff`] as the caller's transaction reads it.
    pub async fn tariff_in(&self, tx: &mut WriteTx, name: &str) -> StoreResult<Tariff> {
        Self::tariff_by_name(tx.conn(), name).await
    }

    pub async fn create_tariff(&self, actor: &Actor, mut tariff: Tariff) -> StoreResult<Tariff> {
        tariff.version = 1;
        let mut tx = self.write_tx().await?;
        if Self::tariff_by_name(&mut tx, &tariff.name).await.is_ok() {
            return Err(StoreError::Conflict {
                field: "tariff.name".into(),
                message: format!("a tariff named {:?} already exists", tariff.name),
            });
        }
        let sql = format!(
            "INSERT INTO tariff ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)",
            COLUMNS.replacen("id, ", "", 1)
        );
        bind_tariff(sqlx::query(AssertSqlSafe(sql)), &tariff)?
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_as_conflict(e, "tariff.name"))?;
        let stored = Self::tariff_by_name(&mut tx, &tariff.name).await?;
        Audit::new("tariff.create", "tariff", &stored.name)
            .after(&stored)
            .commit(tx, actor)
            .await?;
        Ok(stored)
    }

    /// Replaces a tariff found by its id (so it can be renamed); versions must match.
    pub async fn update_tariff(&self, actor: &Actor, tariff: Tariff) -> StoreResult<Tariff> {
        self.alone(async move |tx| self.update_tariff_in(tx, actor, tariff).await)
            .await
    }

    /// [`Store::update_tariff`] in the caller's transaction, which commits it.
    pub async fn update_tariff_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        mut tariff: Tariff,
    ) -> StoreResult<Tariff> {
        let tx = tx.conn();
        let before = sqlx::query_as::<_, TariffRow>(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM tariff WHERE id = $1"
        )))
        .bind(tariff.id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("tariff", tariff.name.clone()))?
        .into_tariff()?;
        if before.version != tariff.version {
            return Err(StoreError::Stale {
                entity: "tariff",
                key: before.name,
            });
        }
        if before.name != tariff.name && Self::tariff_by_name(&mut *tx, &tariff.name).await.is_ok()
        {
            return Err(StoreError::Conflict {
                field: "tariff.name".into(),
                message: format!("a tariff named {:?} already exists", tariff.name),
            });
        }
        tariff.version += 1;
        let sql = "UPDATE tariff SET name = $1, download_kbps = $2, upload_kbps = $3,
            burst_download_kbps = $4, burst_upload_kbps = $5, burst_threshold_download_kbps = $6,
            burst_threshold_upload_kbps = $7, burst_time_seconds = $8, price_minor = $9,
            price_includes_vat = $10, vat_rate = $11, period = $12, framed_pool = $13, note = $14,
            version = $15, window_from = $16, window_to = $17, window_download_kbps = $18,
            window_upload_kbps = $19, cap_download_octets = $20, cap_upload_octets = $21,
            cap_download_kbps = $22, cap_upload_kbps = $23, service_class = $24
            WHERE id = $25 AND version = $26";
        let updated = bind_tariff(sqlx::query(sql), &tariff)?
            .bind(tariff.id)
            .bind(before.version)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_as_conflict(e, "tariff.name"))?
            .rows_affected();
        if updated == 0 {
            return Err(StoreError::Stale {
                entity: "tariff",
                key: before.name,
            });
        }
        if before.name != tariff.name {
            // A pending change names the tariff it moves to: it follows the rename.
            sqlx::query(
                "UPDATE scheduled_action SET tariff = $1 WHERE tariff = $2 AND state = 'pending'",
            )
            .bind(tariff.name.clone())
            .bind(before.name.clone())
            .execute(&mut *tx)
            .await?;
        }
        let stored = Self::tariff_by_name(&mut *tx, &tariff.name).await?;
        Audit::new("tariff.update", "tariff", &stored.name)
            .before(&before)
            .after(&stored)
            .record(&mut *tx, actor)
            .await?;
        Ok(stored)
    }

    pub async fn list_tariffs(&self, page: PageRequest) -> StoreResult<Page<Tariff>> {
        fetch_page(
            &mut *self.pool.acquire().await?,
            &format!("SELECT {COLUMNS} FROM tariff"),
            ("id", Order::OldestFirst),
            Where::default(),
            page,
            TariffRow::into_tariff,
            |t| t.id,
        )
        .await
    }

    pub async fn delete_tariff(&self, actor: &Actor, name: &str) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let before = Self::tariff_by_name(&mut tx, name).await?;
        let used: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM subscription WHERE tariff_id = $1")
                .bind(before.id)
                .fetch_one(&mut *tx)
                .await?;
        if used > 0 {
            return Err(StoreError::Precondition(format!(
                "tariff {name:?} is used by {used} subscription(s)"
            )));
        }
        let pending = Self::pending_naming(&mut tx, "tariff", name).await?;
        if pending > 0 {
            return Err(StoreError::Precondition(format!(
                "tariff {name:?} is named by {pending} scheduled change(s); withdraw them first \
                 (ispctl subscription pending)"
            )));
        }
        sqlx::query("DELETE FROM tariff WHERE id = $1")
            .bind(before.id)
            .execute(&mut *tx)
            .await?;
        Audit::new("tariff.delete", "tariff", name)
            .before(&before)
            .commit(tx, actor)
            .await?;
        Ok(())
    }
}
