//! DiscountService.

use ispd_admin_proto::v1;
use ispd_billing::invoice::{Discount, DiscountValue};
use ispd_billing::money;
use tonic::{Request, Response, Status};

use super::{AdminState, date, date_text, field, invalid, writer};
use crate::storage::DiscountRecord;

/// `today` is where a discount starts when the request names no day (Mango).
fn discount_from(d: &v1::Discount, today: chrono::NaiveDate) -> Result<Discount, Status> {
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
    Ok(Discount {
        name: d.name.trim().to_owned(),
        value,
        valid_from: date("discount.valid_from", &d.valid_from)?.unwrap_or(today),
        valid_to: date("discount.valid_to", &d.valid_to)?,
    })
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
    async fn add_discount(
        &self,
        request: Request<v1::AddDiscountRequest>,
    ) -> Result<Response<v1::Discount>, Status> {
        let actor = writer(&request)?;
        let d = request
            .into_inner()
            .discount
            .ok_or_else(|| field("discount", "required"))?;
        if d.subscription_id == 0 {
            return Err(field("discount.subscription_id", "required"));
        }
        // Billing reads discounts at each run; RADIUS does not care, so nothing to refresh.
        let stored = self
            .store
            .add_discount(
                &actor,
                d.subscription_id,
                discount_from(&d, self.clock.today())?,
            )
            .await?;
        Ok(Response::new(discount_to(&stored)))
    }

    async fn list_discounts(
        &self,
        request: Request<v1::ListDiscountsRequest>,
    ) -> Result<Response<v1::ListDiscountsResponse>, Status> {
        let records = self
            .store
            .list_discounts(request.into_inner().subscription_id)
            .await?;
        Ok(Response::new(v1::ListDiscountsResponse {
            discounts: records.iter().map(discount_to).collect(),
        }))
    }

    async fn delete_discount(
        &self,
        request: Request<v1::DeleteDiscountRequest>,
    ) -> Result<Response<v1::DeleteDiscountResponse>, Status> {
        let actor = writer(&request)?;
        self.store
            .delete_discount(&actor, request.into_inner().id)
            .await?;
        Ok(Response::new(v1::DeleteDiscountResponse {}))
    }
}
