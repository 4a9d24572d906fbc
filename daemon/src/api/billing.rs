//! BillingService: the billing run on demand and the invoices it issued.

use ispd_admin_proto::v1;
use ispd_billing::money;
use rust_decimal::Decimal;
use tonic::{Request, Response};

use super::{AdminState, Reply, date, date_text, field, invalid, written};
use crate::app::{InCurrency, billing, books, documents, interest};
use crate::storage::{DocumentKind, InvoiceDraft, InvoiceRecord};

fn invoice_to(number: Option<&str>, draft: &InvoiceDraft, state: &str) -> v1::Invoice {
    v1::Invoice {
        kind: draft.kind.as_str().to_owned(),
        related_number: draft.related_number.clone().unwrap_or_default(),
        note: draft.note.clone(),
        paid: format!("{:.2}", Decimal::ZERO),
        credited: format!("{:.2}", Decimal::ZERO),
        open: draft.totals.gross.to_string(),
        supplier: None,
        number: number.unwrap_or_default().to_owned(),
        invoice_group: draft.invoice_group.clone(),
        client_number: draft.client_number.clone(),
        client_name: draft.client_name.clone(),
        issue_date: date_text(Some(draft.issue_date)),
        taxable_supply_date: date_text(Some(draft.taxable_supply_date)),
        due_date: date_text(Some(draft.due_date)),
        variable_symbol: draft.variable_symbol.clone(),
        currency: draft.currency.clone(),
        net: draft.totals.net.to_string(),
        vat: draft.totals.vat.to_string(),
        gross: draft.totals.gross.to_string(),
        state: state.to_owned(),
        lines: draft
            .lines
            .iter()
            .map(|l| v1::InvoiceLine {
                description: l.line.description.clone(),
                quantity: l.line.quantity.normalize().to_string(),
                unit_price: l.line.unit_price.to_string(),
                vat_rate: l.line.vat_rate.normalize().to_string(),
                net: l.line.net.to_string(),
                vat: l.line.vat.to_string(),
                gross: l.line.gross.to_string(),
                subscription_id: l.subscription_id.unwrap_or_default(),
                period_from: date_text(l.period.map(|p| p.0)),
                period_to: date_text(l.period.map(|p| p.1)),
            })
            .collect(),
        vat_summary: draft
            .totals
            .by_rate
            .iter()
            .map(|s| v1::VatSummary {
                rate: s.rate.normalize().to_string(),
                net: s.net.to_string(),
                vat: s.vat.to_string(),
                gross: s.gross.to_string(),
            })
            .collect(),
    }
}

fn record_to(r: &InvoiceRecord) -> v1::Invoice {
    let mut invoice = invoice_to(Some(&r.number), &r.draft, &r.state);
    invoice.paid = r.paid.to_string();
    invoice.credited = r.credited.to_string();
    invoice.open = (r.draft.totals.gross - r.credited - r.paid).to_string();
    invoice.supplier = Some(supplier_to(&r.supplier_json));
    invoice
}

/// The supplier snapshot stored as JSON on the document.
fn supplier_to(json: &str) -> v1::Supplier {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let text = |key: &str| v[key].as_str().unwrap_or_default().to_owned();
    v1::Supplier {
        code: text("code"),
        name: text("name"),
        street: text("street"),
        postcode: text("postcode"),
        city: text("city"),
        country: text("country"),
        company_id: text("company_id"),
        vat_id: text("vat_id"),
        bank_account: text("bank_account"),
        iban: text("iban"),
        bic: text("bic"),
        email: text("email"),
        phone: text("phone"),
    }
}

#[tonic::async_trait]
impl v1::billing_service_server::BillingService for AdminState {
    async fn run_billing(
        &self,
        request: Request<v1::RunBillingRequest>,
    ) -> Reply<v1::RunBillingResponse> {
        let (actor, r) = written(request)?;
        let as_of = date("as_of", &r.as_of)?.ok_or_else(|| field("as_of", "required"))?;
        let keep = if r.limit == 0 { 1000 } else { r.limit as usize };
        let InCurrency {
            value: run,
            currency,
        } = billing::run(&self.app(), &actor, as_of, r.dry_run, keep).await?;
        let single = (run.totals.len() == 1)
            .then(|| run.totals.iter().next())
            .flatten();
        Ok(Response::new(v1::RunBillingResponse {
            invoices: run
                .documents
                .iter()
                .map(|i| match &i.stored {
                    // Issued: as stored, the same answer as `invoice show`.
                    Some(stored) => record_to(stored),
                    // Proposed: a credit note is settled on issue; credit the client holds
                    // then may pay an invoice at once too, which only issuing decides.
                    None => {
                        let state = if i.draft.kind == DocumentKind::CreditNote {
                            "paid"
                        } else {
                            "unpaid"
                        };
                        invoice_to(i.number.as_deref(), &i.draft, state)
                    }
                })
                .collect(),
            total_gross: single.map(|(_, t)| t.1.to_string()).unwrap_or_default(),
            currency: single.map(|(c, _)| c.clone()).unwrap_or_else(|| {
                if run.totals.is_empty() {
                    currency
                } else {
                    String::new()
                }
            }),
            dry_run: r.dry_run,
            count: run.count as u64,
            totals: run
                .totals
                .iter()
                .map(|(currency, (documents, gross))| v1::CurrencyTotal {
                    currency: currency.clone(),
                    documents: *documents as u64,
                    gross: gross.to_string(),
                })
                .collect(),
            refused: run
                .refused
                .iter()
                .map(|r| v1::RefusedClient {
                    client_number: r.client_number.clone(),
                    problem: r.problem.clone(),
                })
                .collect(),
        }))
    }

    async fn list_invoices(
        &self,
        request: Request<v1::ListInvoicesRequest>,
    ) -> Reply<v1::ListInvoicesResponse> {
        let client = request.into_inner().client_number;
        let invoices = documents::list(&self.app(), &client).await?;
        Ok(Response::new(v1::ListInvoicesResponse {
            invoices: invoices.iter().map(record_to).collect(),
        }))
    }

    async fn get_invoice(&self, request: Request<v1::GetInvoiceRequest>) -> Reply<v1::Invoice> {
        let invoice = documents::get(&self.app(), &request.into_inner().number).await?;
        Ok(Response::new(record_to(&invoice)))
    }

    async fn cancel_invoice(
        &self,
        request: Request<v1::CancelInvoiceRequest>,
    ) -> Reply<v1::Invoice> {
        let (actor, r) = written(request)?;
        let cancellation = documents::Cancellation {
            number: &r.number,
            reason: &r.reason,
            rebill: r.rebill,
            date: date("date", &r.date)?,
        };
        let credit_note = documents::cancel(&self.app(), &actor, cancellation).await?;
        Ok(Response::new(record_to(&credit_note)))
    }

    async fn close_books(&self, request: Request<v1::CloseBooksRequest>) -> Reply<v1::Books> {
        let (actor, r) = written(request)?;
        let until = date("until", &r.until)?.ok_or_else(|| field("until", "required"))?;
        let closed = books::close(&self.app(), &actor, until).await?;
        Ok(Response::new(v1::Books {
            closed_until: date_text(Some(closed)),
        }))
    }

    async fn adjust_balance(
        &self,
        request: Request<v1::AdjustBalanceRequest>,
    ) -> Reply<v1::Invoice> {
        let (actor, r) = written(request)?;
        let adjustment = documents::Adjustment {
            client_number: &r.client_number,
            amount: money::parse("amount", &r.amount).map_err(invalid)?,
            reason: &r.reason,
            date: date("date", &r.date)?,
        };
        let document = documents::adjust(&self.app(), &actor, adjustment).await?;
        Ok(Response::new(record_to(&document)))
    }

    async fn get_books(&self, _request: Request<v1::GetBooksRequest>) -> Reply<v1::Books> {
        let closed = books::closed_until(&self.app()).await?;
        Ok(Response::new(v1::Books {
            closed_until: date_text(closed),
        }))
    }

    async fn issue_invoice(&self, request: Request<v1::IssueInvoiceRequest>) -> Reply<v1::Invoice> {
        let (actor, r) = written(request)?;
        let order = documents::OnDemand {
            client_number: &r.client_number,
            subscriptions: &r.subscription_ids,
            proforma: r.proforma,
            date: date("date", &r.date)?,
            through: date("through", &r.through)?,
            due_date: date("due_date", &r.due_date)?,
        };
        let document = documents::issue_now(&self.app(), &actor, order).await?;
        Ok(Response::new(record_to(&document)))
    }

    async fn list_interest(
        &self,
        request: Request<v1::ListInterestRequest>,
    ) -> Reply<v1::ListInterestResponse> {
        let r = request.into_inner();
        let client = (!r.client_number.is_empty()).then_some(r.client_number.as_str());
        let app = self.app();
        let pending = interest::pending(&app, client, date("as_of", &r.as_of)?).await?;
        let rate = app.config.load().billing.interest_rate_percent;
        Ok(Response::new(v1::ListInterestResponse {
            items: pending.iter().map(interest_to).collect(),
            annual_rate_percent: rate.map(|r| r.normalize().to_string()).unwrap_or_default(),
        }))
    }

    async fn bill_interest(&self, request: Request<v1::BillInterestRequest>) -> Reply<v1::Invoice> {
        let (actor, r) = written(request)?;
        let as_of = date("as_of", &r.as_of)?;
        let note = interest::bill(&self.app(), &actor, &r.client_number, as_of).await?;
        Ok(Response::new(record_to(&note)))
    }

    async fn waive_interest(
        &self,
        request: Request<v1::WaiveInterestRequest>,
    ) -> Reply<v1::Interest> {
        let (actor, r) = written(request)?;
        let as_of = date("as_of", &r.as_of)?;
        let waived =
            interest::waive(&self.app(), &actor, &r.invoice_number, as_of, r.confirm).await?;
        Ok(Response::new(interest_to(&waived)))
    }
}

fn interest_to(p: &interest::Pending) -> v1::Interest {
    let a = &p.accrued;
    v1::Interest {
        client_number: p.client_number.clone(),
        invoice_number: a.number.clone(),
        from: date_text(Some(a.from)),
        until: date_text(Some(a.until)),
        days: a.days,
        open_amount: a.open.to_string(),
        amount: a.amount.to_string(),
        currency: p.currency.clone(),
    }
}
