//! TariffService.

use ispd_admin_proto::v1;
use ispd_billing::money;
use ispd_billing::period::Period;
use ispd_billing::tariff::{Burst, Rate, Tariff};
use rust_decimal::Decimal;
use tonic::{Request, Response, Status};

use crate::storage::AccessScope;

use super::{AdminState, field, invalid, page, period_from, period_to, writer};

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
        note: t.note,
        version: t.version,
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
        note: t.note.clone(),
        version: t.version,
    }
}

#[tonic::async_trait]
impl v1::tariff_service_server::TariffService for AdminState {
    async fn create_tariff(
        &self,
        request: Request<v1::CreateTariffRequest>,
    ) -> Result<Response<v1::Tariff>, Status> {
        let actor = writer(&request)?;
        let tariff = request
            .into_inner()
            .tariff
            .ok_or_else(|| field("tariff", "required"))?;
        let stored = self
            .store
            .create_tariff(&actor, tariff_from(tariff)?)
            .await?;
        Ok(Response::new(tariff_to(&stored)))
    }

    async fn get_tariff(
        &self,
        request: Request<v1::GetTariffRequest>,
    ) -> Result<Response<v1::Tariff>, Status> {
        let t = self.store.get_tariff(&request.into_inner().name).await?;
        Ok(Response::new(tariff_to(&t)))
    }

    async fn update_tariff(
        &self,
        request: Request<v1::UpdateTariffRequest>,
    ) -> Result<Response<v1::Tariff>, Status> {
        let actor = writer(&request)?;
        let tariff = request
            .into_inner()
            .tariff
            .ok_or_else(|| field("tariff", "required"))?;
        if tariff.id == 0 {
            return Err(field(
                "tariff.id",
                "required: it says which tariff to update",
            ));
        }
        let stored = self
            .store
            .update_tariff(&actor, tariff_from(tariff)?)
            .await?;
        self.refresh(AccessScope::Tariff(stored.id)).await;
        Ok(Response::new(tariff_to(&stored)))
    }

    async fn list_tariffs(
        &self,
        request: Request<v1::ListTariffsRequest>,
    ) -> Result<Response<v1::ListTariffsResponse>, Status> {
        let page = self
            .store
            .list_tariffs(page(request.into_inner().page)?)
            .await?;
        Ok(Response::new(v1::ListTariffsResponse {
            tariffs: page.items.iter().map(tariff_to).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn delete_tariff(
        &self,
        request: Request<v1::DeleteTariffRequest>,
    ) -> Result<Response<v1::DeleteTariffResponse>, Status> {
        let actor = writer(&request)?;
        self.store
            .delete_tariff(&actor, &request.into_inner().name)
            .await?;
        Ok(Response::new(v1::DeleteTariffResponse {}))
    }
}
