//! DiscountService.

use chrono::NaiveDate;
use ispd_admin_proto::v1;
use ispd_billing::invoice::{Discount, DiscountValue};
use ispd_billing::money;
use tonic::{Request, Response, Status};

use super::{AdminState, Reply, date, date_text, field, invalid, required, written};
use crate::app::discounts;
use crate::storage::DiscountRecord;

/// The discount, and the day it starts if the request names one (else the use case's today,
/// Mango).
fn discount_from(
    d: &v1::Discount,
) -> Result<
    (
        Option<NaiveDate>,
        impl FnOnce(NaiveDate) -> Discount + use<>,
    ),
    Status,
> {
    if d.value.trim().is_empty() {
        return Err(field("discount.value", "required"));
    }
    let value = money::parse("discount.value", &d.value).map_err(invalid)?;
    let value = match v1::DiscountKind::try_from(d.kind) {
        Ok(v1::DiscountKind::Percent) => DiscountValue::Percent(value),
        Ok(v1::DiscountKind::Amount) => DiscountValue::Amount(value),
        Ok(v1::DiscountKind::ResultingPrice) => DiscountValue::ResultingPrice(value),
        Ok(v1::DiscountKind::Unspecified) => {
            return Err(field(
                "discount.kind",
                "required: percent, amount or resulting price",
            ));
        }
        Err(_) => {
            return Err(field("discount.kind", format!("unknown kind {}", d.kind)));
        }
    };
    let valid_from = date("discount.valid_from", &d.valid_from)?;
    let valid_to = date("discount.valid_to", &d.valid_to)?;
    let name = d.name.trim().to_owned();
    Ok((valid_from, move |valid_from| Discount {
        name,
        value,
        valid_from,
        valid_to,
    }))
}

fn discount_to(r: &DiscountRecord) -> v1::Discount {
    let (kind, value) = match r.discount.value {
        DiscountValue::Percent(v) => (v1::DiscountKind::Percent, v),
        DiscountValue::Amount(v) => (v1::DiscountKind::Amount, v),
        DiscountValue::ResultingPrice(v) => (v1::DiscountKind::ResultingPrice, v),
    };
    v1::Discount {
        id: r.id,
        subscription_id: r.subscription_id,
        name: r.discount.name.clone(),
        kind: kind as i32,
        value: value.to_string(),
        valid_from: date_text(Some(r.discount.valid_from)),
        valid_to: date_text(r.discount.valid_to),
    }
}

#[tonic::async_trait]
impl v1::discount_service_server::DiscountService for AdminState {
    async fn add_discount(&self, request: Request<v1::AddDiscountRequest>) -> Reply<v1::Discount> {
        let (actor, r) = written(request)?;
        let d = required(r.discount, "discount")?;
        if d.subscription_id == 0 {
            return Err(field("discount.subscription_id", "required"));
        }
        let (valid_from, discount) = discount_from(&d)?;
        let stored =
            discounts::add(&self.app(), &actor, d.subscription_id, valid_from, discount).await?;
        Ok(Response::new(discount_to(&stored)))
    }

    async fn list_discounts(
        &self,
        request: Request<v1::ListDiscountsRequest>,
    ) -> Reply<v1::ListDiscountsResponse> {
        let records = discounts::list(&self.app(), request.into_inner().subscription_id).await?;
        Ok(Response::new(v1::ListDiscountsResponse {
            discounts: records.iter().map(discount_to).collect(),
        }))
    }

    async fn delete_discount(
        &self,
        request: Request<v1::DeleteDiscountRequest>,
    ) -> Reply<v1::DeleteDiscountResponse> {
        let (actor, r) = written(request)?;
        discounts::delete(&self.app(), &actor, r.id).await?;
        Ok(Response::new(v1::DeleteDiscountResponse {}))
    }
}
