//! What the billing run reads: the subscriptions that can still be charged, with their
//! client and tariff, a page of clients at a time.

use chrono::NaiveDate;
use ispd_billing::money;
use ispd_billing::period::Period;
use rust_decimal::Decimal;

use super::{Arg, Store, StoreResult, corrupt, parse_date, parse_opt_date};
use crate::own_read::own_row;

/// A subscription as the billing run sees it, with its client and tariff.
#[derive(Debug, Clone)]
pub struct BillingCandidate {
    pub subscription_id: i64,
    pub client_id: i64,
    pub client_number: String,
    pub client_name: String,
    pub invoice_group: String,
    pub billing_day: u32,
    pub due_days: Option<u32>,
    pub billing_from: NaiveDate,
    pub billed_until: Option<NaiveDate>,
    pub period: Period,
    pub price: Decimal,
    pub price_includes_vat: bool,
    pub vat_rate: Decimal,
    pub tariff_name: String,
    /// The service's invoice note (see `ispd_billing::subscription::line_name`).
    pub invoice_note: String,
    /// Periods follow billing_from instead of the client's billing day.
    pub floating: bool,
    /// Last charged day of an ended service.
    pub end_date: Option<NaiveDate>,
    /// The client gets pro-formas (payment requests) instead of invoices.
    pub proforma: bool,
    /// The commitment's last day: a total price's term ends there.
    pub commitment_until: Option<NaiveDate>,
    /// Days its floating periods begin anew (its expiration moved by hand).
    pub restarts: Vec<NaiveDate>,
}

own_row! {
struct CandidateRow {
    subscription_id: i64,
    client_id: i64,
    client_number: String,
    client_name: String,
    invoice_group: String,
    billing_day: i64,
    due_days: Option<i64>,
    billing_from: String,
    billed_until: Option<String>,
    sub_period: Option<String>,
    tariff_period: String,
    price_override_minor: Option<i64>,
    price_minor: i64,
    price_includes_vat: i64,
    vat_rate: String,
    tariff_name: String,
    invoice_note: String,
    alignment: String,
    end_date: Option<String>,
    proforma: i64,
    commitment_until: Option<String>,
    restarts: String,
}
}

impl Store {
    /// The billing candidates of the next `clients` clients after client id `after`, and the
    /// last client id of that page (`None` when no client is left). A run walks the clients in
    /// pages, so its memory does not grow with their number.
    pub async fn billing_candidates_page(
        &self,
        after: i64,
        clients: usize,
    ) -> StoreResult<(Vec<BillingCandidate>, Option<i64>)> {
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(id) FROM (SELECT id FROM client WHERE id > $1 ORDER BY id LIMIT $2) AS page",
        )
        .bind(after)
        .bind(i64::try_from(clients).unwrap_or(i64::MAX))
        .fetch_one(&self.pool)
        .await?;
        let Some(last) = last else {
            return Ok((Vec::new(), None));
        };
        Ok((
            self.billing_candidates_between(after.saturating_add(1), last)
                .await?,
            Some(last),
        ))
    }

    /// Every subscription of client `client_id` that can still be charged: what an invoice
    /// issued on demand may bill.
    pub async fn billing_candidates_of(
        &self,
        client_id: i64,
    ) -> StoreResult<Vec<BillingCandidate>> {
        self.billing_candidates_between(client_id, client_id).await
    }

    /// Every subscription of the clients `first..=last` that can still be charged, with its
    /// client and tariff.
    async fn billing_candidates_between(
        &self,
        first: i64,
        last: i64,
    ) -> StoreResult<Vec<BillingCandidate>> {
        let rows: Vec<CandidateRow> = self
            .read_rows(
                "SELECT s.id AS subscription_id, c.id AS client_id, c.number AS client_number,
                c.name AS client_name, c.invoice_group, c.billing_day, c.due_days,
                s.billing_from, s.billed_until, s.period AS sub_period,
                t.period AS tariff_period, s.price_override_minor, t.price_minor,
                t.price_includes_vat, t.vat_rate, t.name AS tariff_name, s.invoice_note, s.alignment,
                s.end_date, c.proforma, s.commitment_until, s.restarts
             FROM subscription s JOIN client c ON c.id = s.client_id
             JOIN tariff t ON t.id = s.tariff_id
             WHERE (s.state <> 'ended' OR s.end_date IS NOT NULL) AND c.id BETWEEN $1 AND $2
             ORDER BY c.id, s.id"
                    .to_owned(),
                vec![Arg::Int(first), Arg::Int(last)],
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                let period_text = r.sub_period.as_deref().unwrap_or(&r.tariff_period);
                Ok(BillingCandidate {
                    subscription_id: r.subscription_id,
                    client_id: r.client_id,
                    client_number: r.client_number,
                    client_name: r.client_name,
                    invoice_group: r.invoice_group,
                    billing_day: u32::try_from(r.billing_day).unwrap_or(1),
                    due_days: r.due_days.and_then(|d| u32::try_from(d).ok()),
                    billing_from: parse_date("billing_from", &r.billing_from)?,
                    billed_until: parse_opt_date("billed_until", r.billed_until)?,
                    period: Period::parse(period_text)
                        .ok_or_else(|| corrupt(format!("period {period_text:?}")))?,
                    price: money::from_minor_units(r.price_override_minor.unwrap_or(r.price_minor)),
                    price_includes_vat: r.price_includes_vat != 0,
                    vat_rate: r
                        .vat_rate
                        .parse()
                        .map_err(|_| corrupt(format!("vat rate {:?}", r.vat_rate)))?,
                    tariff_name: r.tariff_name,
                    invoice_note: r.invoice_note,
                    floating: r.alignment == "floating",
                    end_date: parse_opt_date("end_date", r.end_date)?,
                    proforma: r.proforma != 0,
                    commitment_until: parse_opt_date("commitment_until", r.commitment_until)?,
                    restarts: restarts(&r.restarts)?,
                })
            })
            .collect()
    }
}

/// The restarts column: ISO dates separated by commas.
pub(crate) fn restarts(text: &str) -> StoreResult<Vec<NaiveDate>> {
    text.split(',')
        .filter(|day| !day.is_empty())
        .map(|day| parse_date("restarts", day))
        .collect()
}
