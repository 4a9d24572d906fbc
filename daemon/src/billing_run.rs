//! The billing run: the shell around `ispd_billing`. It loads what can be charged, asks the
//! pure core which periods are due and what the lines are, and issues one invoice per client
//! (each in its own transaction, so a failure leaves every issued invoice whole and the next
//! run picks up the rest). Running twice for the same date issues nothing new.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use ispd_billing::invoice::{PriceBasis, charge_lines, compute_line, due_date, totals};
use ispd_billing::schedule::{Alignment, ChargeTerms, Proration, due_charges};

use crate::config::BillingConfig;
use crate::storage::{
    Actor, BillingCandidate, InvoiceDraft, InvoiceLineRecord, Store, StoreResult,
};

/// An invoice of the run: issued (with its number) or, in a dry run, proposed.
#[derive(Debug, Clone)]
pub struct RunInvoice {
    pub number: Option<String>,
    pub draft: InvoiceDraft,
}

/// Issues (or with `dry_run` only computes) every invoice due by `as_of`.
pub async fn run(
    store: &Store,
    config: &BillingConfig,
    actor: &Actor,
    as_of: NaiveDate,
    dry_run: bool,
) -> StoreResult<Vec<RunInvoice>> {
    let mut by_client: BTreeMap<i64, Vec<BillingCandidate>> = BTreeMap::new();
    for candidate in store.billing_candidates().await? {
        by_client
            .entry(candidate.client_id)
            .or_default()
            .push(candidate);
    }
    let mut invoices = Vec::new();
    for subscriptions in by_client.values() {
        let Some(draft) = draft_for_client(subscriptions, config, as_of) else {
            continue;
        };
        let number = if dry_run {
            None
        } else {
            match store
                .issue_invoice(actor, &draft, &config.number_format)
                .await?
            {
                Some(number) => Some(number),
                // A concurrent run billed these periods first.
                None => continue,
            }
        };
        invoices.push(RunInvoice { number, draft });
    }
    Ok(invoices)
}

/// One client's invoice for everything due by `as_of`; `None` when nothing is.
fn draft_for_client(
    subscriptions: &[BillingCandidate],
    config: &BillingConfig,
    as_of: NaiveDate,
) -> Option<InvoiceDraft> {
    let first = subscriptions.first()?;
    let mut lines = Vec::new();
    let mut billed_until = Vec::new();
    for s in subscriptions {
        let terms = ChargeTerms {
            billing_from: s.billing_from,
            end: None,
            period: s.period,
            alignment: Alignment::BillingDay(s.billing_day),
            unbilled: Vec::new(),
        };
        let charges = due_charges(&terms, s.billed_until, as_of, Proration::ByDays);
        for charge in &charges {
            let basis = PriceBasis::from_includes_vat(s.price_includes_vat);
            for input in charge_lines(&s.tariff_name, s.price, basis, s.vat_rate, charge, &[]) {
                lines.push(InvoiceLineRecord {
                    line: compute_line(&input),
                    subscription_id: Some(s.subscription_id),
                    period: Some((charge.from, charge.to)),
                });
            }
        }
        if let Some(last) = charges.last() {
            billed_until.push((s.subscription_id, last.to));
        }
    }
    if lines.is_empty() {
        return None;
    }
    let plain: Vec<_> = lines.iter().map(|l| l.line.clone()).collect();
    Some(InvoiceDraft {
        client_id: first.client_id,
        client_number: first.client_number.clone(),
        client_name: first.client_name.clone(),
        invoice_group: first.invoice_group.clone(),
        issue_date: as_of,
        taxable_supply_date: as_of,
        due_date: due_date(as_of, first.due_days, config.default_due_days),
        variable_symbol: first.client_number.clone(),
        currency: config.currency.clone(),
        totals: totals(&plain),
        lines,
        billed_until,
    })
}
