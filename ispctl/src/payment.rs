//! `ispctl payment …`: payments, their matching to clients, balances, refunds and the client
//! statement.
//!
//! Amounts are the server's exact decimal strings, never recomputed here. Payments and the
//! balance come with a currency, and carry it wherever a human sees it (`-349.30 CZK`).
//! `--json` keeps the API's field names.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use ispd_admin_proto::v1::payment_service_client::PaymentServiceClient;
use ispd_admin_proto::v1::{
    AddPaymentRequest, AssignPaymentRequest, ClientBalanceRequest, ClientStatementRequest,
    ImportStatementRequest, ImportStatementResponse, ListUnmatchedRequest, PaymentResult,
    RefundCreditRequest, UnassignPaymentRequest, UnmatchedPayment,
};
use serde_json::{Value, json};

use crate::args;
use crate::connect::{Api, Svc};
use crate::dunning::dunning_state;
use crate::message;
use crate::output::{Out, Table, money, yes_no};

type Payments = PaymentServiceClient<Svc>;

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Record a payment typed in by an operator (cash, card) for a known client.
    ///
    /// The server pays the client's invoices oldest first and keeps the rest as credit; a
    /// payment that settles a suspended client's debt restores their access.
    Add {
        /// Client number.
        #[arg(long, value_name = "NUMBER")]
        client: String,
        /// Amount received, e.g. 499.00 (a decimal comma is accepted).
        #[arg(long, value_parser = args::required_money, value_name = "AMOUNT")]
        amount: String,
        /// Day the payment was received, YYYY-MM-DD [default: today on the server]
        #[arg(long, value_parser = args::required_date, value_name = "DATE")]
        date: Option<String>,
        /// Free-text note.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// Currency of the money received, e.g. CZK [default: the currency the client is
        /// invoiced in]; another currency than the client's is refused.
        #[arg(long, value_name = "CODE")]
        currency: Option<String>,
        /// Cash for this service of the client (subscription ID): whole periods of its
        /// price, paying its documents first (Mango).
        #[arg(long, value_name = "ID")]
        for_subscription: Option<i64>,
    },
    /// Import a bank statement file and match its payments to clients.
    ///
    /// All or nothing: a bad file records nothing and the error names the line. Importing
    /// the same statement again records nothing new (payments already recorded are shown as
    /// DUPLICATE); payments that match no client are shown as UNMATCHED and listed by
    /// `ispctl payment unmatched`. So is a payment in another currency than the client it
    /// names is invoiced in: it never pays that client's documents.
    Import {
        /// The statement file.
        file: PathBuf,
        /// The file's format.
        #[arg(long, value_name = "FORMAT")]
        format: Format,
        /// Column mapping of a csv statement, as TOML; required with --format csv.
        #[arg(long, value_name = "FILE", required_if_eq("format", "csv"))]
        mapping: Option<PathBuf>,
    },
    /// List bank payments that matched no client.
    Unmatched,
    /// Assign an unmatched payment to a client by hand.
    ///
    /// The payment pays the client's debt oldest first — with --invoice that invoice first
    /// (Mango's "whole payment to one charge") — and the rest becomes credit; with
    /// --only-up-to-debt (Mango's "only up to the debt") the rest stays unpaired instead.
    Assign {
        /// Payment id, as listed by `ispctl payment unmatched`.
        payment: i64,
        /// Client number.
        #[arg(long, value_name = "NUMBER")]
        client: String,
        /// Pay this invoice of the client first (never beyond what it asks).
        #[arg(long, value_name = "NUMBER")]
        invoice: Option<String>,
        /// Pair only up to the client's debt (Mango): the rest stays unpaired, a payment of
        /// its own among the unmatched, instead of becoming credit.
        #[arg(long, conflicts_with = "invoice")]
        only_up_to_debt: bool,
    },
    /// Print a client's account in date order with the running balance (also
    /// `ispctl client statement`).
    Statement {
        /// Client number.
        client: String,
    },
    /// Pay credit back to a client (a recorded refund, not a bank order).
    Refund {
        /// Client number.
        client: String,
        /// Amount to pay back; at most the client's credit.
        #[arg(long, value_parser = args::required_money, value_name = "AMOUNT")]
        amount: String,
        /// Free-text note.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// Undo an assignment: the payment waits among the unmatched again.
    Unassign {
        /// Payment id.
        payment: i64,
    },
    /// Print a client's balance (owed, credit, suspended) and dunning state; also
    /// `ispctl client balance`.
    ///
    /// A negative balance is owed, a positive one is credit.
    Balance {
        /// Client number.
        client: String,
    },
}

/// Bank statement formats the server reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// ISO 20022 camt.053 XML.
    #[value(name = "camt053")]
    Camt053,
    /// CSV, with a column mapping (--mapping).
    Csv,
    /// GPC (ABO), the Czech banks' fixed-width format.
    Gpc,
}

impl Format {
    /// The API's name of the format.
    fn api_name(self) -> &'static str {
        match self {
            Self::Camt053 => "camt053",
            Self::Csv => "csv",
            Self::Gpc => "gpc",
        }
    }
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    match cmd {
        Cmd::Add {
            client,
            amount,
            date,
            note,
            currency,
            for_subscription,
        } => {
            let request = AddPaymentRequest {
                client_number: client,
                amount,
                // Empty: the server's today, in its `[billing] timezone`.
                received_on: date.unwrap_or_default(),
                note: note.unwrap_or_default(),
                currency: currency.unwrap_or_default(),
                for_subscription: for_subscription.unwrap_or_default(),
            };
            let result = api.payments().await?.add_payment(request).await?;
            let result = result.into_inner();
            out.value(&added_text(&result), message::record(&result).to_json())
        }
        Cmd::Import {
            file,
            format,
            mapping,
        } => {
            // Local files first, so a typo fails before any connection is made.
            let pieces = import_pieces(&file, format, mapping.as_deref())?;
            let resp = upload(&mut api.payments().await?, pieces).await?;
            out.value(&imported_text(&resp), imported_json(&resp))
        }
        Cmd::Unmatched => {
            let payments = api
                .payments()
                .await?
                .list_unmatched(ListUnmatchedRequest {})
                .await?
                .into_inner()
                .payments;
            out.list(&payments, "", message::record, unmatched_table)
        }
        Cmd::Assign {
            payment,
            client,
            invoice,
            only_up_to_debt,
        } => {
            let request = AssignPaymentRequest {
                payment_id: payment,
                client_number: client,
                invoice_number: invoice.unwrap_or_default(),
                only_up_to_debt,
            };
            let result = api.payments().await?.assign_payment(request).await?;
            let result = result.into_inner();
            out.value(&added_text(&result), message::record(&result).to_json())
        }
        Cmd::Statement { client } => statement(&mut api.payments().await?, client, out).await,
        Cmd::Refund {
            client,
            amount,
            note,
        } => refund(&mut api.payments().await?, client, amount, note, out).await,
        Cmd::Unassign { payment } => {
            let request = UnassignPaymentRequest {
                payment_id: payment,
            };
            let resp = api.payments().await?.unassign_payment(request).await?;
            let client = resp.into_inner().client_number;
            out.value(
                &format!("payment {payment} unassigned from client {client}"),
                json!({"payment_id": payment, "client_number": client}),
            )
        }
        Cmd::Balance { client } => balance(&mut api.payments().await?, client, out).await,
    }
}

/// How much of a statement file one message of the upload carries.
const PIECE: usize = 1 << 20;

/// The statement file as the messages of an upload (`ImportStatementStream`): the first names
/// the format and mapping, each carries the next megabyte of the file, so the daemon can
/// record a large camt.053 statement while the rest of it is still on the way.
fn import_pieces(
    file: &Path,
    format: Format,
    mapping: Option<&Path>,
) -> Result<Vec<ImportStatementRequest>> {
    let content = bytes::Bytes::from(read_file(file, "statement file")?);
    let mapping = match mapping {
        Some(path) => String::from_utf8(read_file(path, "mapping file")?)
            .with_context(|| format!("mapping file {} is not UTF-8", path.display()))?,
        None => String::new(),
    };
    // An empty file is still one message: the one that names the format.
    let mut pieces: Vec<ImportStatementRequest> = (0..content.len().max(1))
        .step_by(PIECE)
        .map(|start| ImportStatementRequest {
            content: content.slice(start..(start + PIECE).min(content.len())),
            ..ImportStatementRequest::default()
        })
        .collect();
    pieces[0].format = format.api_name().to_owned();
    pieces[0].mapping = mapping;
    Ok(pieces)
}

/// Sends the statement's pieces (tonic's own stream of them: no stream crate for one list).
async fn upload(
    payments: &mut Payments,
    pieces: Vec<ImportStatementRequest>,
) -> Result<ImportStatementResponse> {
    let stream = tonic::codegen::tokio_stream::iter(pieces);
    Ok(payments.import_statement_stream(stream).await?.into_inner())
}

fn imported_json(resp: &ImportStatementResponse) -> Value {
    message::record(resp).to_json()
}

/// What `payment import` prints: the payments, the counts, whose access came back.
fn imported_text(resp: &ImportStatementResponse) -> String {
    let mut human = String::new();
    if !resp.payments.is_empty() {
        human.push_str(&import_table(&resp.payments).render());
    }
    human.push_str(&format!(
        "recorded {}, duplicates {}, unmatched {}",
        resp.recorded, resp.duplicates, resp.unmatched
    ));
    let restored: Vec<&str> = resp
        .payments
        .iter()
        .filter(|p| p.restored)
        .map(|p| p.client_number.as_str())
        .collect();
    if !restored.is_empty() {
        human.push_str(&format!("\nrestored access: {}", restored.join(", ")));
    }
    if !resp.reversals.is_empty() {
        let n = resp.reversals.len();
        let table = Table::of(
            ["LINE", "BOOKED", "AMOUNT", "VS", "PAYER_ACCOUNT", "BANK_ID"],
            resp.reversals.iter().map(|r| {
                [
                    r.line.to_string(),
                    r.booked_on.clone(),
                    format!("{} {}", r.amount, r.currency),
                    r.variable_symbol.clone(),
                    r.payer_account.clone(),
                    r.bank_transaction_id.clone(),
                ]
            }),
        );
        human.push_str(&format!(
            "\n{n} reversal{} by the bank, not recorded: where one takes back a recorded \
             payment, take that payment back too (ispctl payment unassign ID)\n{}",
            if n == 1 { "" } else { "s" },
            table.render().trim_end()
        ));
    }
    human
}

/// `payment statement` and `client statement`: the account with its running balance.
pub async fn statement(svc: &mut Payments, client: String, out: Out) -> Result<()> {
    let resp = svc
        .client_statement(ClientStatementRequest {
            client_number: client,
        })
        .await?
        .into_inner();
    let currency = resp.currency.clone();
    let table = Table::of(
        ["DATE", "KIND", "DESCRIPTION", "AMOUNT", "BALANCE"],
        resp.rows.iter().map(|r| {
            [
                r.date.clone(),
                r.kind.clone(),
                r.description.clone(),
                money(&r.amount, &currency),
                money(&r.running_balance, &currency),
            ]
        }),
    );
    let rows: Vec<_> = resp
        .rows
        .iter()
        .map(|r| {
            json!({
                "date": r.date,
                "kind": r.kind,
                "description": r.description,
                "amount": r.amount,
                "running_balance": r.running_balance,
            })
        })
        .collect();
    out.value(
        &table.render(),
        json!({"items": rows, "currency": currency, "next_page_token": null}),
    )
}

async fn refund(
    svc: &mut Payments,
    client: String,
    amount: String,
    note: Option<String>,
    out: Out,
) -> Result<()> {
    let resp = svc
        .refund_credit(RefundCreditRequest {
            client_number: client,
            amount,
            refunded_on: String::new(),
            note: note.unwrap_or_default(),
        })
        .await?
        .into_inner();
    out.value(
        &format!(
            "credit after the refund: {}",
            money(&resp.credit_after, &resp.currency)
        ),
        json!({"credit_after": resp.credit_after, "currency": resp.currency}),
    )
}

/// `payment balance` and `client balance`: owed, credit, suspended, dunning.
pub async fn balance(svc: &mut Payments, client: String, out: Out) -> Result<()> {
    let b = svc
        .client_balance(ClientBalanceRequest {
            client_number: client,
        })
        .await?
        .into_inner();
    let json = message::record(&b).to_json();
    let human = format!(
        "balance: {} (owed {}, credit {}), suspended: {}, dunning: {}",
        money(&b.balance, &b.currency),
        money(&b.owed, &b.currency),
        money(&b.credit, &b.currency),
        yes_no(b.suspended),
        dunning_state(b.dunning_stopped, &b.dunning_paused_until)
    );
    out.value(&human, json)
}

/// What `payment add` prints: where the money went.
fn added_text(p: &PaymentResult) -> String {
    let mut lines = Vec::new();
    if p.duplicate {
        lines.push("duplicate: already recorded, nothing changed".to_owned());
    }
    lines.push(match (p.client_number.as_str(), p.matched_by.as_str()) {
        ("", _) => "client: (unmatched)".to_owned(),
        (client, "") => format!("client: {client}"),
        (client, by) => format!("client: {client} (matched by {by})"),
    });
    lines.push(format!("amount: {}", money(&p.amount, &p.currency)));
    lines.push(format!("allocated: {}", money(&p.allocated, &p.currency)));
    lines.push(format!("to credit: {}", money(&p.to_credit, &p.currency)));
    // Nothing but zeros and the point: nothing was left unpaired.
    if !p.unpaired.trim_start_matches(['0', '.']).is_empty() {
        lines.push(format!(
            "left unpaired: {} (a payment of its own among the unmatched)",
            money(&p.unpaired, &p.currency)
        ));
    }
    if p.restored {
        lines.push("restored access".to_owned());
    }
    lines.join("\n")
}

/// MATCHED_BY, or why there is none.
fn matched_by(p: &PaymentResult) -> String {
    if p.duplicate {
        "DUPLICATE".to_owned()
    } else if !p.unmatched_reason.is_empty() {
        format!("UNMATCHED ({})", p.unmatched_reason)
    } else if p.client_number.is_empty() {
        "UNMATCHED".to_owned()
    } else {
        p.matched_by.clone()
    }
}

fn import_table(payments: &[PaymentResult]) -> Table {
    Table::of(
        [
            "BANK_ID",
            "CLIENT",
            "MATCHED_BY",
            "AMOUNT",
            "ALLOCATED",
            "CREDIT",
        ],
        payments.iter().map(|p| {
            [
                p.bank_transaction_id.clone(),
                p.client_number.clone(),
                matched_by(p),
                money(&p.amount, &p.currency),
                money(&p.allocated, &p.currency),
                money(&p.to_credit, &p.currency),
            ]
        }),
    )
}

fn unmatched_table(payments: &[UnmatchedPayment]) -> Table {
    Table::of(
        ["ID", "DATE", "AMOUNT", "VS", "ACCOUNT", "NAME", "MESSAGE"],
        payments.iter().map(|u| {
            [
                u.id.to_string(),
                u.received_on.clone(),
                money(&u.amount, &u.currency),
                u.variable_symbol.clone(),
                u.payer_account.clone(),
                u.payer_name.clone(),
                u.message.clone(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_rows_say_why_there_is_no_match() {
        let rows = [
            PaymentResult {
                bank_transaction_id: "T1".into(),
                client_number: "1002".into(),
                matched_by: "assigned_vs".into(),
                amount: "499.00".into(),
                allocated: "349.30".into(),
                to_credit: "149.70".into(),
                ..PaymentResult::default()
            },
            PaymentResult {
                bank_transaction_id: "T2".into(),
                amount: "10.00".into(),
                ..PaymentResult::default()
            },
            PaymentResult {
                bank_transaction_id: "T3".into(),
                client_number: "1002".into(),
                matched_by: "assigned_vs".into(),
                duplicate: true,
                ..PaymentResult::default()
            },
        ];
        assert_eq!(
            import_table(&rows).render(),
            "BANK_ID  CLIENT  MATCHED_BY   AMOUNT  ALLOCATED  CREDIT\n\
             T1       1002    assigned_vs  499.00  349.30     149.70\n\
             T2               UNMATCHED    10.00\n\
             T3       1002    DUPLICATE\n"
        );
        let v = message::record(&rows[1]).to_json();
        assert_eq!(v["client_number"], "");
        assert_eq!(v["restored"], false);
    }

    #[test]
    fn add_reports_restored_access() {
        let p = PaymentResult {
            client_number: "1002".into(),
            matched_by: "manual".into(),
            amount: "499.00".into(),
            allocated: "499.00".into(),
            to_credit: "0.00".into(),
            restored: true,
            ..PaymentResult::default()
        };
        assert_eq!(
            added_text(&p),
            "client: 1002 (matched by manual)\namount: 499.00\nallocated: 499.00\n\
             to credit: 0.00\nrestored access"
        );
    }
}
