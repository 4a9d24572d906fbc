//! PaymentService: payments typed in or imported from bank statements, balances, the
//! dunning run and a client's dunning controls (stop, pause, resume).

use ispd_admin_proto::v1;
use ispd_billing::money;
use tonic::{Request, Response, Status};

use super::{AdminState, caller, date, date_text, field, invalid, writer, written};
use crate::app::{InCurrency, dunning, payments};
use crate::storage::{Actor, DunningControl, DunningHold, PaymentOutcome};

/// The answer for each payment; a client's restore is reported on its first payment.
fn payment_results(
    outcomes: Vec<PaymentOutcome>,
    restored: &std::collections::HashSet<String>,
) -> Vec<v1::PaymentResult> {
    let mut reported = std::collections::HashSet::new();
    outcomes
        .into_iter()
        .map(|o| {
            let restored = o.client_number.as_ref().is_some_and(|number| {
                !o.duplicate && restored.contains(number) && reported.insert(number.clone())
            });
            v1::PaymentResult {
                client_number: o.client_number.unwrap_or_default(),
                matched_by: o.matched_by.unwrap_or_default().to_owned(),
                // Always two decimal places, as money is printed everywhere else.
                amount: format!("{:.2}", o.amount),
                allocated: format!("{:.2}", o.allocated),
                to_credit: format!("{:.2}", o.to_credit),
                currency: o.currency,
                unmatched_reason: o.unmatched_reason.unwrap_or_default(),
                duplicate: o.duplicate,
                bank_transaction_id: o.bank_transaction_id.unwrap_or_default(),
                restored,
            }
        })
        .collect()
}

fn hold_to(client_number: String, hold: DunningHold) -> v1::DunningHold {
    v1::DunningHold {
        client_number,
        stopped: hold.stopped,
        paused_until: date_text(hold.paused_until),
    }
}

/// `currency` is the billing currency, that of a suspension's overdue sum.
fn change_to(change: crate::dunning_run::DunningChange, currency: &str) -> v1::DunningChange {
    use crate::dunning_run::DunningChange as C;
    match change {
        C::Suspend {
            client_number,
            overdue,
            reason,
        } => v1::DunningChange {
            client_number,
            action: "suspend".into(),
            overdue: format!("{overdue:.2}"),
            currency: currency.to_owned(),
            reason: reason
                .into_iter()
                .map(|r| v1::OverdueInvoice {
                    number: r.number,
                    due_date: r.due_date.to_string(),
                    open: format!("{:.2}", r.open),
                    days_overdue: r.days_overdue,
                })
                .collect(),
            ..Default::default()
        },
        C::Restore { client_number } => v1::DunningChange {
            client_number,
            action: "restore".into(),
            ..Default::default()
        },
        C::Reminder {
            client_number,
            invoice_number,
            level,
            deadline,
            final_notice,
            fee,
            debit_note_number,
            currency,
            ..
        } => v1::DunningChange {
            client_number,
            action: "reminder".into(),
            invoice_number,
            level: u32::from(level),
            deadline: date_text(Some(deadline)),
            fee: fee.map(|f| format!("{f:.2}")).unwrap_or_default(),
            debit_note_number: debit_note_number.unwrap_or_default(),
            currency,
            final_notice,
            ..Default::default()
        },
    }
}

fn received_to(received: payments::Received) -> Vec<v1::PaymentResult> {
    payment_results(received.outcomes, &received.restored)
}

#[tonic::async_trait]
impl v1::payment_service_server::PaymentService for AdminState {
    async fn add_payment(
        &self,
        request: Request<v1::AddPaymentRequest>,
    ) -> Result<Response<v1::PaymentResult>, Status> {
        let (actor, r) = written(request)?;
        if r.client_number.is_empty() {
            return Err(field("client_number", "required"));
        }
        let payment = payments::ManualPayment {
            amount: money::parse("amount", &r.amount).map_err(invalid)?,
            received_on: date("received_on", &r.received_on)?,
            currency: Some(r.currency.trim())
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
            client_number: r.client_number,
            note: r.note,
        };
        let mut results = received_to(payments::add(&self.app(), &actor, payment).await?);
        Ok(Response::new(results.remove(0)))
    }

    async fn import_statement(
        &self,
        request: Request<v1::ImportStatementRequest>,
    ) -> Result<Response<v1::ImportStatementResponse>, Status> {
        let (actor, r) = written(request)?;
        let file = payments::StatementFile {
            format: &r.format,
            content: &r.content,
            mapping: &r.mapping,
        };
        let results = received_to(payments::import(&self.app(), &actor, file).await?);
        let count =
            |f: fn(&v1::PaymentResult) -> bool| results.iter().filter(|p| f(p)).count() as u32;
        Ok(Response::new(v1::ImportStatementResponse {
            recorded: count(|p| !p.duplicate),
            duplicates: count(|p| p.duplicate),
            unmatched: count(|p| !p.duplicate && p.client_number.is_empty()),
            payments: results,
        }))
    }

    async fn list_unmatched(
        &self,
        _request: Request<v1::ListUnmatchedRequest>,
    ) -> Result<Response<v1::ListUnmatchedResponse>, Status> {
        let payments = payments::unmatched(&self.app()).await?;
        Ok(Response::new(v1::ListUnmatchedResponse {
            payments: payments
                .into_iter()
                .map(|p| v1::UnmatchedPayment {
                    id: p.id,
                    amount: money::from_minor_units(p.amount_minor).to_string(),
                    currency: p.currency,
                    received_on: p.received_on,
                    variable_symbol: p.variable_symbol.unwrap_or_default(),
                    payer_account: p.payer_account.unwrap_or_default(),
                    payer_name: p.payer_name.unwrap_or_default(),
                    message: p.message.unwrap_or_default(),
                })
                .collect(),
        }))
    }

    async fn assign_payment(
        &self,
        request: Request<v1::AssignPaymentRequest>,
    ) -> Result<Response<v1::PaymentResult>, Status> {
        let (actor, r) = written(request)?;
        if r.client_number.is_empty() {
            return Err(field("client_number", "required"));
        }
        let invoice = (!r.invoice_number.is_empty()).then_some(r.invoice_number.as_str());
        let assigned = payments::assign(
            &self.app(),
            &actor,
            (r.payment_id, &r.client_number, invoice),
        )
        .await?;
        let mut results = received_to(assigned);
        Ok(Response::new(results.remove(0)))
    }

    async fn unassign_payment(
        &self,
        request: Request<v1::UnassignPaymentRequest>,
    ) -> Result<Response<v1::UnassignPaymentResponse>, Status> {
        let (actor, r) = written(request)?;
        let client_number = payments::unassign(&self.app(), &actor, r.payment_id).await?;
        Ok(Response::new(v1::UnassignPaymentResponse { client_number }))
    }

    async fn client_balance(
        &self,
        request: Request<v1::ClientBalanceRequest>,
    ) -> Result<Response<v1::ClientBalanceResponse>, Status> {
        let number = request.into_inner().client_number;
        let InCurrency { value: b, currency } = payments::balance(&self.app(), &number).await?;
        Ok(Response::new(v1::ClientBalanceResponse {
            // Always two decimal places, as money is printed everywhere else.
            balance: format!("{:.2}", b.credit - b.owed),
            credit: format!("{:.2}", b.credit),
            owed: format!("{:.2}", b.owed),
            currency,
            suspended: b.suspended,
            dunning_stopped: b.dunning.stopped,
            dunning_paused_until: date_text(b.dunning.paused_until),
        }))
    }

    async fn refund_credit(
        &self,
        request: Request<v1::RefundCreditRequest>,
    ) -> Result<Response<v1::RefundCreditResponse>, Status> {
        let (actor, r) = written(request)?;
        let amount = money::parse("amount", &r.amount).map_err(invalid)?;
        let on = date("refunded_on", &r.refunded_on)?;
        let InCurrency {
            value: after,
            currency,
        } = payments::refund(&self.app(), &actor, (&r.client_number, amount, &r.note), on).await?;
        Ok(Response::new(v1::RefundCreditResponse {
            credit_after: format!("{after:.2}"),
            currency,
        }))
    }

    async fn client_statement(
        &self,
        request: Request<v1::ClientStatementRequest>,
    ) -> Result<Response<v1::ClientStatementResponse>, Status> {
        let number = request.into_inner().client_number;
        let InCurrency {
            value: rows,
            currency,
        } = payments::statement(&self.app(), &number).await?;
        Ok(Response::new(v1::ClientStatementResponse {
            rows: rows
                .into_iter()
                .map(|r| v1::StatementRow {
                    date: r.date.format("%Y-%m-%d").to_string(),
                    kind: r.kind.as_str().to_owned(),
                    description: r.description,
                    amount: format!("{:.2}", r.amount),
                    running_balance: format!("{:.2}", r.running_balance),
                })
                .collect(),
            currency,
        }))
    }

    async fn run_dunning(
        &self,
        request: Request<v1::RunDunningRequest>,
    ) -> Result<Response<v1::RunDunningResponse>, Status> {
        let dry_run = request.get_ref().dry_run;
        let actor = if dry_run {
            Actor(caller(&request)?.name.clone())
        } else {
            writer(&request)?
        };
        let r = request.into_inner();
        let today = date("as_of", &r.as_of)?.ok_or_else(|| field("as_of", "required"))?;
        let InCurrency { value, currency } =
            dunning::run(&self.app(), &actor, today, r.dry_run).await?;
        Ok(Response::new(v1::RunDunningResponse {
            changes: value.into_iter().map(|c| change_to(c, &currency)).collect(),
            dry_run: r.dry_run,
        }))
    }

    async fn stop_dunning(
        &self,
        request: Request<v1::StopDunningRequest>,
    ) -> Result<Response<v1::DunningHold>, Status> {
        let (actor, r) = written(request)?;
        self.dunning_control(&actor, r.client_number, DunningControl::Stop)
            .await
    }

    async fn pause_dunning(
        &self,
        request: Request<v1::PauseDunningRequest>,
    ) -> Result<Response<v1::DunningHold>, Status> {
        let (actor, r) = written(request)?;
        let until = date("until", &r.until)?.ok_or_else(|| field("until", "required"))?;
        self.dunning_control(&actor, r.client_number, DunningControl::PauseUntil(until))
            .await
    }

    async fn resume_dunning(
        &self,
        request: Request<v1::ResumeDunningRequest>,
    ) -> Result<Response<v1::DunningHold>, Status> {
        let (actor, r) = written(request)?;
        self.dunning_control(&actor, r.client_number, DunningControl::Resume)
            .await
    }
}

impl AdminState {
    /// The three dunning controls: one use case, the client's controls after it.
    async fn dunning_control(
        &self,
        actor: &Actor,
        client_number: String,
        control: DunningControl,
    ) -> Result<Response<v1::DunningHold>, Status> {
        let hold = dunning::control(&self.app(), actor, &client_number, control).await?;
        Ok(Response::new(hold_to(client_number, hold)))
    }
}
