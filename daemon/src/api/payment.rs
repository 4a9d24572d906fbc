//! PaymentService: payments typed in or imported from bank statements, balances, the
//! dunning run and a client's dunning controls (stop, pause, resume).

use ispd_admin_proto::v1;
use ispd_billing::bank::{CsvMapping, Statement};
use ispd_billing::field::{Text, text};
use ispd_billing::money;
use tonic::{Request, Response, Status};

use super::{AdminState, caller, date, date_text, field, invalid, writer};
use crate::storage::{Actor, DunningControl, DunningHold, NewPayment, PaymentOutcome};

impl AdminState {
    /// Receives payments through the use case (recorded, allocated, suspended clients
    /// restored, one transaction) and reports each outcome.
    async fn receive_payments(
        &self,
        actor: &Actor,
        payments: &[NewPayment],
    ) -> Result<Vec<v1::PaymentResult>, Status> {
        let settings = self.config.load().dunning.settings();
        let today = self.clock.today();
        let received = crate::app::payments::receive(
            &self.store,
            &self.changes,
            &settings,
            actor,
            payments,
            today,
        )
        .await?;
        Ok(payment_results(received.outcomes, &received.restored))
    }

    /// Applies a dunning control and answers with the client's controls after it.
    async fn dunning_control(
        &self,
        actor: &Actor,
        client_number: String,
        control: DunningControl,
    ) -> Result<Response<v1::DunningHold>, Status> {
        if client_number.is_empty() {
            return Err(field("client_number", "required"));
        }
        let hold = self
            .store
            .set_dunning_control(actor, &client_number, control)
            .await?;
        Ok(Response::new(hold_to(client_number, hold)))
    }
}

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

fn statement(format: &str, content: &[u8], mapping: &str) -> Result<Statement, Status> {
    let text = || {
        std::str::from_utf8(content).map_err(|_| {
            field(
                "content",
                "not UTF-8 text; convert the export (e.g. from Windows-1250) first",
            )
        })
    };
    let parsed = match format {
        "camt053" => ispd_billing::bank::parse_camt053(content),
        "gpc" => ispd_billing::bank::parse_gpc(text()?),
        "csv" => {
            if mapping.trim().is_empty() {
                return Err(field(
                    "mapping",
                    "required for csv: the column mapping as TOML",
                ));
            }
            let mapping: CsvMapping =
                toml::from_str(mapping).map_err(|e| field("mapping", e.to_string()))?;
            ispd_billing::bank::parse_csv(text()?, &mapping)
        }
        other => {
            return Err(field(
                "format",
                format!("camt053, csv or gpc, not {other:?}"),
            ));
        }
    };
    parsed.map_err(|e| field("content", e.to_string()))
}

#[tonic::async_trait]
impl v1::payment_service_server::PaymentService for AdminState {
    async fn add_payment(
        &self,
        request: Request<v1::AddPaymentRequest>,
    ) -> Result<Response<v1::PaymentResult>, Status> {
        let actor = writer(&request)?;
        let r = request.into_inner();
        if r.client_number.is_empty() {
            return Err(field("client_number", "required"));
        }
        let amount = money::parse("amount", &r.amount).map_err(invalid)?;
        text("note", &r.note, Text::Note).map_err(invalid)?;
        let received_on =
            date("received_on", &r.received_on)?.unwrap_or_else(|| self.clock.today());
        let currency = match r.currency.trim() {
            "" => self.store.currency_of_client(&r.client_number).await?,
            given => given.to_ascii_uppercase(),
        };
        let payment = NewPayment {
            amount,
            received_on,
            variable_symbol: None,
            payer_account: None,
            payer_name: None,
            message: (!r.note.is_empty()).then_some(r.note),
            bank_transaction_id: None,
            currency,
            source: "manual".into(),
            client_number: Some(r.client_number),
        };
        let mut results = self.receive_payments(&actor, &[payment]).await?;
        Ok(Response::new(results.remove(0)))
    }

    async fn import_statement(
        &self,
        request: Request<v1::ImportStatementRequest>,
    ) -> Result<Response<v1::ImportStatementResponse>, Status> {
        let actor = writer(&request)?;
        let r = request.into_inner();
        let parsed = statement(&r.format, &r.content, &r.mapping)?;
        let payments: Vec<NewPayment> = parsed
            .incoming()
            .map(|line| NewPayment {
                amount: line.amount,
                received_on: line.booked_on,
                variable_symbol: line.variable_symbol.clone(),
                payer_account: line.payer_account.clone(),
                payer_name: line.payer_name.clone(),
                message: line.message.clone(),
                bank_transaction_id: Some(line.bank_transaction_id.clone()),
                currency: line.currency.clone(),
                source: r.format.clone(),
                client_number: None,
            })
            .collect();
        let results = self.receive_payments(&actor, &payments).await?;
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
        let payments = self.store.unmatched_payments().await?;
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
        let actor = writer(&request)?;
        let r = request.into_inner();
        if r.client_number.is_empty() {
            return Err(field("client_number", "required"));
        }
        let invoice = (!r.invoice_number.is_empty()).then_some(r.invoice_number.as_str());
        let settings = self.config.load().dunning.settings();
        let assigned = crate::app::payments::assign(
            &self.store,
            &self.changes,
            &settings,
            &actor,
            (r.payment_id, &r.client_number, invoice),
            self.clock.today(),
        )
        .await?;
        let mut results = payment_results(assigned.outcomes, &assigned.restored);
        Ok(Response::new(results.remove(0)))
    }

    async fn unassign_payment(
        &self,
        request: Request<v1::UnassignPaymentRequest>,
    ) -> Result<Response<v1::UnassignPaymentResponse>, Status> {
        let actor = writer(&request)?;
        let client_number = self
            .store
            .unassign_payment(&actor, request.into_inner().payment_id)
            .await?;
        Ok(Response::new(v1::UnassignPaymentResponse { client_number }))
    }

    async fn client_balance(
        &self,
        request: Request<v1::ClientBalanceRequest>,
    ) -> Result<Response<v1::ClientBalanceResponse>, Status> {
        let number = request.into_inner().client_number;
        let b = self.store.client_balance(&number).await?;
        Ok(Response::new(v1::ClientBalanceResponse {
            // Always two decimal places, as money is printed everywhere else.
            balance: format!("{:.2}", b.credit - b.owed),
            credit: format!("{:.2}", b.credit),
            owed: format!("{:.2}", b.owed),
            currency: self.config.load().billing.currency.clone(),
            suspended: b.suspended,
            dunning_stopped: b.dunning.stopped,
            dunning_paused_until: date_text(b.dunning.paused_until),
        }))
    }

    async fn refund_credit(
        &self,
        request: Request<v1::RefundCreditRequest>,
    ) -> Result<Response<v1::RefundCreditResponse>, Status> {
        let actor = writer(&request)?;
        let r = request.into_inner();
        let amount = money::parse("amount", &r.amount).map_err(invalid)?;
        text("note", &r.note, Text::Note).map_err(invalid)?;
        let on = date("refunded_on", &r.refunded_on)?.unwrap_or_else(|| self.clock.today());
        let after = self
            .store
            .refund_credit(&actor, &r.client_number, amount, on, &r.note)
            .await?;
        Ok(Response::new(v1::RefundCreditResponse {
            credit_after: format!("{after:.2}"),
            currency: self.config.load().billing.currency.clone(),
        }))
    }

    async fn client_statement(
        &self,
        request: Request<v1::ClientStatementRequest>,
    ) -> Result<Response<v1::ClientStatementResponse>, Status> {
        let rows = self
            .store
            .client_statement(&request.into_inner().client_number)
            .await?;
        Ok(Response::new(v1::ClientStatementResponse {
            rows: rows
                .into_iter()
                .map(|r| v1::StatementRow {
                    date: r.date.format("%Y-%m-%d").to_string(),
                    kind: serde_json::to_value(r.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    description: r.description,
                    amount: format!("{:.2}", r.amount),
                    running_balance: format!("{:.2}", r.running_balance),
                })
                .collect(),
            currency: self.config.load().billing.currency.clone(),
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
        let config = self.config.load();
        let settings = config.dunning.settings();
        let changes = crate::dunning_run::run(
            &self.store,
            &self.changes,
            &settings,
            &actor,
            today,
            r.dry_run,
        )
        .await?;
        let currency = &config.billing.currency;
        Ok(Response::new(v1::RunDunningResponse {
            changes: changes
                .into_iter()
                .map(|c| change_to(c, currency))
                .collect(),
            dry_run: r.dry_run,
        }))
    }

    async fn stop_dunning(
        &self,
        request: Request<v1::StopDunningRequest>,
    ) -> Result<Response<v1::DunningHold>, Status> {
        let actor = writer(&request)?;
        let r = request.into_inner();
        self.dunning_control(&actor, r.client_number, DunningControl::Stop)
            .await
    }

    async fn pause_dunning(
        &self,
        request: Request<v1::PauseDunningRequest>,
    ) -> Result<Response<v1::DunningHold>, Status> {
        let actor = writer(&request)?;
        let r = request.into_inner();
        let until = date("until", &r.until)?.ok_or_else(|| field("until", "required"))?;
        self.dunning_control(&actor, r.client_number, DunningControl::PauseUntil(until))
            .await
    }

    async fn resume_dunning(
        &self,
        request: Request<v1::ResumeDunningRequest>,
    ) -> Result<Response<v1::DunningHold>, Status> {
        let actor = writer(&request)?;
        let r = request.into_inner();
        self.dunning_control(&actor, r.client_number, DunningControl::Resume)
            .await
    }
}
