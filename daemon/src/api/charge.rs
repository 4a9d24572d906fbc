//! ChargeService: one-off charges on a client or one of its subscriptions.

use ispd_admin_proto::v1;
use ispd_billing::charge::OneOffCharge;
use ispd_billing::money;
use rust_decimal::Decimal;
use tonic::{Request, Response};

use super::{AdminState, Reply, date, date_text, field, invalid, required, written};
use crate::app::charges;
use crate::storage::ChargeRecord;

fn charge_to(r: ChargeRecord) -> v1::Charge {
    let c = r.charge;
    v1::Charge {
        id: r.id,
        client_number: r.client_number,
        subscription_id: r.subscription_id,
        description: c.description,
        quantity: c.quantity.normalize().to_string(),
        unit_price: c.unit_price.to_string(),
        price_includes_vat: c.price_includes_vat,
        vat_rate: c.vat_rate.normalize().to_string(),
        charge_on: date_text(Some(c.charge_on)),
        invoice_number: r.invoice_number.unwrap_or_default(),
    }
}

#[tonic::async_trait]
impl v1::charge_service_server::ChargeService for AdminState {
    async fn add_charge(&self, request: Request<v1::AddChargeRequest>) -> Reply<v1::Charge> {
        let (actor, r) = written(request)?;
        let c = required(r.charge, "charge")?;
        if c.client_number.trim().is_empty() {
            return Err(field("charge.client_number", "required"));
        }
        if c.unit_price.trim().is_empty() {
            return Err(field("charge.unit_price", "required"));
        }
        // No silent 0 %: a forgotten rate would under-charge VAT on every such line.
        if c.vat_rate.trim().is_empty() {
            return Err(field("charge.vat_rate", "required (\"0\" for no VAT)"));
        }
        let quantity = if c.quantity.trim().is_empty() {
            Decimal::ONE
        } else {
            money::parse("charge.quantity", &c.quantity).map_err(invalid)?
        };
        let unit_price = money::parse("charge.unit_price", &c.unit_price).map_err(invalid)?;
        let vat_rate = money::parse("charge.vat_rate", &c.vat_rate).map_err(invalid)?;
        let charge_on = date("charge.charge_on", &c.charge_on)?;
        let stored = charges::add(
            &self.app(),
            &actor,
            (c.client_number.trim(), c.subscription_id),
            charge_on,
            |charge_on| OneOffCharge {
                description: c.description.trim().to_owned(),
                quantity,
                unit_price,
                price_includes_vat: c.price_includes_vat,
                vat_rate,
                charge_on,
            },
        )
        .await?;
        Ok(Response::new(charge_to(stored)))
    }

    async fn list_charges(
        &self,
        request: Request<v1::ListChargesRequest>,
    ) -> Reply<v1::ListChargesResponse> {
        let charges = charges::list(&self.app(), &request.into_inner().client_number).await?;
        Ok(Response::new(v1::ListChargesResponse {
            charges: charges.into_iter().map(charge_to).collect(),
        }))
    }

    async fn delete_charge(
        &self,
        request: Request<v1::DeleteChargeRequest>,
    ) -> Reply<v1::DeleteChargeResponse> {
        let (actor, r) = written(request)?;
        charges::delete(&self.app(), &actor, r.id).await?;
        Ok(Response::new(v1::DeleteChargeResponse {}))
    }
}
