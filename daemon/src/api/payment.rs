//! PaymentService: payments typed in or imported from bank statements, their assignment,
//! balances, refunds and the client statement.

use bytes::Bytes;
use ispd_admin_proto::v1;
use ispd_billing::money;
use ispd_billing::payment::assignment::Rest;
use tonic::{Request, Response, Streaming};

use super::{AdminState, Reply, STATEMENT_LIMIT, date, date_text, field, invalid, written};
use crate::app::statement_upload::StatementUpload;
use crate::app::{AppError, AppResult, InCurrency, field as app_field, payments};
use crate::storage::PaymentOutcome;

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
                unpaired: {
                    // Money on the wire has its cents, also a zero.
                    let mut unpaired = o.unpaired;
                    unpaired.rescale(2);
                    unpaired.to_string()
                },
                duplicate: o.duplicate,
                bank_transaction_id: o.bank_transaction_id.unwrap_or_default(),
                restored,
            }
        })
        .collect()
}

fn received_to(received: payments::Received) -> Vec<v1::PaymentResult> {
    payment_results(received.outcomes, &received.restored)
}

/// A statement import's answer: every payment, and how many were recorded, duplicates and
/// unmatched, and the statement's reversals.
fn imported(mut received: payments::Received) -> Reply<v1::ImportStatementResponse> {
    let reversals = std::mem::take(&mut received.reversals)
        .into_iter()
        .map(reversal_to)
        .collect();
    let results = received_to(received);
    let count = |f: fn(&v1::PaymentResult) -> bool| results.iter().filter(|p| f(p)).count() as u32;
    Ok(Response::new(v1::ImportStatementResponse {
        recorded: count(|p| !p.duplicate),
        duplicates: count(|p| p.duplicate),
        unmatched: count(|p| !p.duplicate && p.client_number.is_empty()),
        payments: results,
        reversals,
    }))
}

fn reversal_to(line: ispd_billing::bank::StatementLine) -> v1::StatementReversal {
    v1::StatementReversal {
        line: u32::try_from(line.line).unwrap_or(u32::MAX),
        booked_on: line.booked_on.to_string(),
        amount: format!("{:.2}", line.amount),
        currency: line.currency,
        variable_symbol: line.variable_symbol.unwrap_or_default(),
        payer_account: line.payer_account.unwrap_or_default(),
        payer_name: line.payer_name.unwrap_or_default(),
        bank_transaction_id: line.bank_transaction_id,
        message: line.message.unwrap_or_default(),
    }
}

/// Pieces of an uploaded statement waiting for its reader: the client's upload waits (HTTP/2
/// flow control) while they do.
const PIECES_IN_FLIGHT: usize = 4;

/// Hands the upload's pieces to the import, `first` first, until the upload ends, breaks off
/// or outgrows [`STATEMENT_LIMIT`] (then the import is told why and records nothing), or the
/// import stops listening.
async fn forward(
    first: Bytes,
    mut upload: Streaming<v1::ImportStatementRequest>,
    pieces: tokio::sync::mpsc::Sender<AppResult<Bytes>>,
) {
    let mut size = first.len();
    let mut piece = Ok(first);
    loop {
        let last = piece.is_err();
        if pieces.send(piece).await.is_err() || last {
            return;
        }
        piece = match upload.message().await {
            Ok(Some(message)) => {
                size += message.content.len();
                if size > STATEMENT_LIMIT {
                    Err(app_field(
                        "content",
                        format!(
                            "a statement is at most {} MiB; split it",
                            STATEMENT_LIMIT >> 20
                        ),
                    ))
                } else {
                    Ok(message.content)
                }
            }
            Ok(None) => return,
            Err(status) => Err(AppError::Unavailable(format!(
                "the statement's upload broke off: {}",
                status.message()
            ))),
        };
    }
}

#[tonic::async_trait]
impl v1::payment_service_server::PaymentService for AdminState {
    async fn add_payment(
        &self,
        request: Request<v1::AddPaymentRequest>,
    ) -> Reply<v1::PaymentResult> {
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
            for_subscription: (r.for_subscription != 0).then_some(r.for_subscription),
        };
        let mut results = received_to(payments::add(&self.app(), &actor, payment).await?);
        Ok(Response::new(results.remove(0)))
    }

    async fn import_statement(
        &self,
        request: Request<v1::ImportStatementRequest>,
    ) -> Reply<v1::ImportStatementResponse> {
        let (actor, r) = written(request)?;
        let file = payments::StatementFile {
            format: &r.format,
            content: r.content,
            mapping: &r.mapping,
        };
        imported(payments::import(&self.app(), &actor, file).await?)
    }

    async fn import_statement_stream(
        &self,
        request: Request<Streaming<v1::ImportStatementRequest>>,
    ) -> Reply<v1::ImportStatementResponse> {
        let (actor, mut upload) = written(request)?;
        let v1::ImportStatementRequest {
            format,
            content,
            mapping,
        } = upload.message().await?.ok_or_else(|| {
            field(
                "format",
                "required: the first message names the statement's format",
            )
        })?;
        let (sender, pieces) = tokio::sync::mpsc::channel(PIECES_IN_FLIGHT);
        let statement = StatementUpload {
            format: &format,
            mapping: &mapping,
            pieces,
        };
        let app = self.app();
        let (received, ()) = tokio::join!(
            payments::import_upload(&app, &actor, statement),
            forward(content, upload, sender)
        );
        imported(received?)
    }

    async fn list_unmatched(
        &self,
        _request: Request<v1::ListUnmatchedRequest>,
    ) -> Reply<v1::ListUnmatchedResponse> {
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
    ) -> Reply<v1::PaymentResult> {
        let (actor, r) = written(request)?;
        if r.client_number.is_empty() {
            return Err(field("client_number", "required"));
        }
        let invoice = (!r.invoice_number.is_empty()).then_some(r.invoice_number.as_str());
        if invoice.is_some() && r.only_up_to_debt {
            return Err(field(
                "only_up_to_debt",
                "the invoice named is paid first and the rest is credit; pair only up to the debt \
                 without one",
            ));
        }
        let order = payments::Assignment {
            payment_id: r.payment_id,
            client_number: &r.client_number,
            invoice,
            rest: if r.only_up_to_debt {
                Rest::Unpaired
            } else {
                Rest::Credit
            },
        };
        let assigned = payments::assign(&self.app(), &actor, order).await?;
        let mut results = received_to(assigned);
        Ok(Response::new(results.remove(0)))
    }

    async fn unassign_payment(
        &self,
        request: Request<v1::UnassignPaymentRequest>,
    ) -> Reply<v1::UnassignPaymentResponse> {
        let (actor, r) = written(request)?;
        let client_number = payments::unassign(&self.app(), &actor, r.payment_id).await?;
        Ok(Response::new(v1::UnassignPaymentResponse { client_number }))
    }

    async fn client_balance(
        &self,
        request: Request<v1::ClientBalanceRequest>,
    ) -> Reply<v1::ClientBalanceResponse> {
        let number = request.into_inner().client_number;
        let InCurrency { value: b, currency } = payments::balance(&self.app(), &number).await?;
        Ok(Response::new(v1::ClientBalanceResponse {
            // Always two decimal places, as money is printed everywhere else.
            balance: format!("{:.2}", ispd_billing::payment::standing(b.credit, b.owed)),
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
    ) -> Reply<v1::RefundCreditResponse> {
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
    ) -> Reply<v1::ClientStatementResponse> {
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
}
