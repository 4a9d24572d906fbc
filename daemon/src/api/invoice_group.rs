//! InvoiceGroupService.

use ispd_admin_proto::v1;
use ispd_billing::invoice::TaxableDateRule;
use ispd_billing::invoice_group::{InvoiceGroup, NumberFormats};
use tonic::{Request, Response, Status};

use super::{AdminState, Reply, field, required, written};
use crate::app::invoice_groups;

/// Empty text is "not set" on the wire.
fn set(text: String) -> Option<String> {
    (!text.trim().is_empty()).then_some(text)
}

fn rule_from(rule: i32, days_before: u32) -> Result<TaxableDateRule, Status> {
    use v1::TaxableDateRule as R;
    let rule = match R::try_from(rule) {
        Ok(R::Unspecified | R::IssueDate) => TaxableDateRule::IssueDate,
        Ok(R::EndOfPeriod) => TaxableDateRule::EndOfPeriod,
        Ok(R::DaysBeforeIssue) => return Ok(TaxableDateRule::DaysBeforeIssue(days_before)),
        Err(_) => {
            return Err(field(
                "invoice_group.taxable_date_rule",
                format!("unknown rule {rule}"),
            ));
        }
    };
    if days_before != 0 {
        return Err(field(
            "invoice_group.taxable_days_before",
            "only with the days_before_issue rule",
        ));
    }
    Ok(rule)
}

fn group_from(g: v1::InvoiceGroup) -> Result<InvoiceGroup, Status> {
    Ok(InvoiceGroup {
        taxable_date_rule: rule_from(g.taxable_date_rule, g.taxable_days_before)?,
        code: g.code,
        name: g.name,
        street: g.street,
        postcode: g.postcode,
        city: g.city,
        country: g.country,
        company_id: g.company_id,
        vat_id: g.vat_id,
        bank_account: g.bank_account,
        iban: g.iban,
        bic: g.bic,
        email: g.email,
        phone: g.phone,
        currency: set(g.currency),
        due_days: g.due_days,
        number_formats: NumberFormats {
            invoice: set(g.invoice_number_format),
            credit_note: set(g.credit_note_number_format),
            proforma: set(g.proforma_number_format),
            debit_note: set(g.debit_note_number_format),
        },
        version: g.version,
    })
}

fn group_to(g: InvoiceGroup) -> v1::InvoiceGroup {
    use v1::TaxableDateRule as R;
    let (rule, days_before) = match g.taxable_date_rule {
        TaxableDateRule::IssueDate => (R::IssueDate, 0),
        TaxableDateRule::EndOfPeriod => (R::EndOfPeriod, 0),
        TaxableDateRule::DaysBeforeIssue(n) => (R::DaysBeforeIssue, n),
    };
    let f = g.number_formats;
    v1::InvoiceGroup {
        code: g.code,
        name: g.name,
        street: g.street,
        postcode: g.postcode,
        city: g.city,
        country: g.country,
        company_id: g.company_id,
        vat_id: g.vat_id,
        bank_account: g.bank_account,
        iban: g.iban,
        bic: g.bic,
        email: g.email,
        phone: g.phone,
        currency: g.currency.unwrap_or_default(),
        due_days: g.due_days,
        invoice_number_format: f.invoice.unwrap_or_default(),
        credit_note_number_format: f.credit_note.unwrap_or_default(),
        proforma_number_format: f.proforma.unwrap_or_default(),
        debit_note_number_format: f.debit_note.unwrap_or_default(),
        taxable_date_rule: rule as i32,
        taxable_days_before: days_before,
        version: g.version,
    }
}

#[tonic::async_trait]
impl v1::invoice_group_service_server::InvoiceGroupService for AdminState {
    async fn create_invoice_group(
        &self,
        request: Request<v1::CreateInvoiceGroupRequest>,
    ) -> Reply<v1::InvoiceGroup> {
        let (actor, r) = written(request)?;
        let group = group_from(required(r.invoice_group, "invoice_group")?)?;
        let stored = invoice_groups::create(&self.app(), &actor, group).await?;
        Ok(Response::new(group_to(stored)))
    }

    async fn get_invoice_group(
        &self,
        request: Request<v1::GetInvoiceGroupRequest>,
    ) -> Reply<v1::InvoiceGroup> {
        let group = invoice_groups::get(&self.app(), &request.into_inner().code).await?;
        Ok(Response::new(group_to(group)))
    }

    async fn update_invoice_group(
        &self,
        request: Request<v1::UpdateInvoiceGroupRequest>,
    ) -> Reply<v1::InvoiceGroup> {
        let (actor, r) = written(request)?;
        let group = group_from(required(r.invoice_group, "invoice_group")?)?;
        let stored = invoice_groups::update(&self.app(), &actor, group).await?;
        Ok(Response::new(group_to(stored)))
    }

    async fn list_invoice_groups(
        &self,
        _request: Request<v1::ListInvoiceGroupsRequest>,
    ) -> Reply<v1::ListInvoiceGroupsResponse> {
        let groups = invoice_groups::list(&self.app()).await?;
        Ok(Response::new(v1::ListInvoiceGroupsResponse {
            invoice_groups: groups.into_iter().map(group_to).collect(),
        }))
    }

    async fn delete_invoice_group(
        &self,
        request: Request<v1::DeleteInvoiceGroupRequest>,
    ) -> Reply<v1::DeleteInvoiceGroupResponse> {
        let (actor, r) = written(request)?;
        invoice_groups::delete(&self.app(), &actor, &r.code).await?;
        Ok(Response::new(v1::DeleteInvoiceGroupResponse {}))
    }
}
