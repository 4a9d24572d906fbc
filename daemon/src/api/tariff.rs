//! TariffService.

use ispd_admin_proto::v1;
use ispd_billing::money;
use ispd_billing::period::Period;
use ispd_billing::tariff::{Burst, DataCap, Rate, SpeedWindow, Tariff};
use rust_decimal::Decimal;
use tonic::{Request, Response, Status};

use super::{
    AdminState, Reply, field, invalid, page, paged, period_from, period_to, required, written,
};
use crate::app::tariffs;

fn tariff_from(t: v1::Tariff) -> Result<Tariff, Status> {
    Ok(Tariff {
        id: t.id,
        name: t.name.trim().to_owned(),
        rate: Rate {
            download_kbps: t.download_kbps,
            upload_kbps: t.upload_kbps,
        },
        burst: t.burst.map(|b| Burst {
            rate: Rate {
                download_kbps: b.download_kbps,
                upload_kbps: b.upload_kbps,
            },
            threshold: Rate {
                download_kbps: b.threshold_download_kbps,
                upload_kbps: b.threshold_upload_kbps,
            },
            time_seconds: b.time_seconds,
        }),
        price: money::parse("tariff.price", &t.price).map_err(invalid)?,
        price_includes_vat: t.price_includes_vat,
        vat_rate: if t.vat_rate.trim().is_empty() {
            Decimal::ZERO
        } else {
            money::parse("tariff.vat_rate", &t.vat_rate).map_err(invalid)?
        },
        period: period_from(t.period)
            .map_err(|_| field("tariff.period", "unknown period"))?
            .unwrap_or(Period::Monthly),
        framed_pool: t.framed_pool.trim().to_owned(),
        service_class: t.service_class.trim().to_owned(),
        window: t.window.map(window_from).transpose()?,
        cap: t.cap.map(|c| DataCap {
            download_octets: c.download_octets,
            upload_octets: c.upload_octets,
            rate: Rate {
                download_kbps: c.download_kbps,
                upload_kbps: c.upload_kbps,
            },
        }),
        note: t.note,
        version: t.version,
    })
}

fn window_from(w: v1::SpeedWindow) -> Result<SpeedWindow, Status> {
    let time = |name: &str, text: &str| {
        let text = text.trim();
        chrono::NaiveTime::parse_from_str(text, "%H:%M:%S")
            .or_else(|_| chrono::NaiveTime::parse_from_str(text, "%H:%M"))
            .map_err(|_| field(name, format!("a time of day HH:MM[:SS], not {text:?}")))
    };
    Ok(SpeedWindow {
        from: time("tariff.window.from", &w.from)?,
        to: time("tariff.window.to", &w.to)?,
        rate: Rate {
            download_kbps: w.download_kbps,
            upload_kbps: w.upload_kbps,
        },
    })
}

fn tariff_to(t: &Tariff) -> v1::Tariff {
    v1::Tariff {
        id: t.id,
        name: t.name.clone(),
        download_kbps: t.rate.download_kbps,
        upload_kbps: t.rate.upload_kbps,
        burst: t.burst.map(|b| v1::Burst {
            download_kbps: b.rate.download_kbps,
            upload_kbps: b.rate.upload_kbps,
            threshold_download_kbps: b.threshold.download_kbps,
            threshold_upload_kbps: b.threshold.upload_kbps,
            time_seconds: b.time_seconds,
        }),
        price: t.price.to_string(),
        price_includes_vat: t.price_includes_vat,
        vat_rate: t.vat_rate.normalize().to_string(),
        period: period_to(Some(t.period)),
        framed_pool: t.framed_pool.clone(),
        service_class: t.service_class.clone(),
        window: t.window.map(|w| v1::SpeedWindow {
            from: w.from.format("%H:%M:%S").to_string(),
            to: w.to.format("%H:%M:%S").to_string(),
            download_kbps: w.rate.download_kbps,
            upload_kbps: w.rate.upload_kbps,
        }),
        cap: t.cap.map(|c| v1::DataCap {
            download_octets: c.download_octets,
            upload_octets: c.upload_octets,
            download_kbps: c.rate.download_kbps,
            upload_kbps: c.rate.upload_kbps,
        }),
        note: t.note.clone(),
        version: t.version,
    }
}

#[tonic::async_trait]
impl v1::tariff_service_server::TariffService for AdminState {
    async fn create_tariff(&self, request: Request<v1::CreateTariffRequest>) -> Reply<v1::Tariff> {
        let (actor, r) = written(request)?;
        let tariff = tariff_from(required(r.tariff, "tariff")?)?;
        let stored = tariffs::create(&self.app(), &actor, tariff).await?;
        Ok(Response::new(tariff_to(&stored)))
    }

    async fn get_tariff(&self, request: Request<v1::GetTariffRequest>) -> Reply<v1::Tariff> {
        let t = tariffs::get(&self.app(), &request.into_inner().name).await?;
        Ok(Response::new(tariff_to(&t)))
    }

    async fn update_tariff(&self, request: Request<v1::UpdateTariffRequest>) -> Reply<v1::Tariff> {
        let (actor, r) = written(request)?;
        let tariff = required(r.tariff, "tariff")?;
        if tariff.id == 0 {
            return Err(field(
                "tariff.id",
                "required: it says which tariff to update",
            ));
        }
        let stored = tariffs::update(&self.app(), &actor, tariff_from(tariff)?).await?;
        Ok(Response::new(tariff_to(&stored)))
    }

    async fn list_tariffs(
        &self,
        request: Request<v1::ListTariffsRequest>,
    ) -> Reply<v1::ListTariffsResponse> {
        let page = tariffs::list(&self.app(), page(request.into_inner().page)?).await?;
        let (tariffs, next_page_token) = paged(page, |t| tariff_to(&t));
        Ok(Response::new(v1::ListTariffsResponse {
            tariffs,
            next_page_token,
        }))
    }

    async fn delete_tariff(
        &self,
        request: Request<v1::DeleteTariffRequest>,
    ) -> Reply<v1::DeleteTariffResponse> {
        let (actor, r) = written(request)?;
        tariffs::delete(&self.app(), &actor, &r.name).await?;
        Ok(Response::new(v1::DeleteTariffResponse {}))
    }
}
