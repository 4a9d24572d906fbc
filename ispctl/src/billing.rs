//! `ispctl billing run` and `ispctl invoice …`: the billing run and the invoices it issues.
//!
//! Amounts are the server's exact decimal strings, never recomputed here; every amount a human
//! sees carries its currency (`1210.00 CZK`). `--json` keeps the API's field names, with the
//! amounts and the currency in separate fields.

use anyhow::Result;
use clap::Subcommand;
use ispd_admin_proto::v1::{
    CancelInvoiceRequest, GetInvoiceRequest, Invoice, IssueInvoiceRequest, ListInvoicesRequest,
    RefusedClient, RunBillingRequest, Supplier,
};

use crate::args;
use crate::connect::Api;
use crate::message;
use crate::output::{Out, Record, Table, escape, money};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Issue every invoice due by --as-of and not issued yet.
    ///
    /// A second run for the same date issues nothing. With --dry-run nothing is stored and no
    /// numbers are allocated: the table shows what a real run would issue.
    Run {
        /// Bill everything due up to this day, YYYY-MM-DD.
        #[arg(long, value_parser = args::required_date, value_name = "DATE")]
        as_of: String,
        /// Only show what would be issued: store nothing, allocate no numbers.
        #[arg(long)]
        dry_run: bool,
        /// Show at most N documents in full (all are counted and totalled) [default: 1000].
        #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
        limit: u32,
    },
}

#[derive(Subcommand, Debug)]
pub enum InvoiceCmd {
    /// List a client's invoices.
    List {
        /// Client number.
        #[arg(long, value_name = "NUMBER")]
        client: String,
    },
    /// Print one document with its supplier, lines, VAT summary and state.
    Show {
        /// Invoice number.
        number: String,
    },
    /// Cancel what an invoice, pro-forma or debit note still charges with a credit note.
    ///
    /// What the client had paid on it becomes credit, which settles their other open
    /// documents at once. With --rebill the next billing run invoices its periods again (for
    /// a price or client correction); refused unless they are the latest periods billed.
    Cancel {
        /// Invoice number.
        number: String,
        /// Why: printed on the credit note.
        #[arg(long)]
        reason: String,
        /// Issue date of the credit note, YYYY-MM-DD (default today).
        #[arg(long, value_parser = args::date, value_name = "DATE", default_value = "")]
        date: String,
        /// Let the next billing run invoice the cancelled periods again.
        #[arg(long)]
        rebill: bool,
    },
    /// Issue an invoice (or a payment request) now, ahead of the billing run.
    ///
    /// Bills what the run would for the chosen services — the periods that start by
    /// --through, with their one-off charges; the run will not bill them again.
    Issue(Box<IssueArgs>),
}

#[derive(clap::Args, Debug)]
pub struct IssueArgs {
    /// Client number.
    #[arg(long, value_name = "NUMBER")]
    client: String,
    /// A service to bill (repeatable); every service of the client when none is given.
    #[arg(long = "subscription", value_name = "ID")]
    subscriptions: Vec<i64>,
    /// A payment request (pro-forma) instead of an invoice.
    #[arg(long)]
    proforma: bool,
    /// Issue date, YYYY-MM-DD (default today).
    #[arg(long, value_parser = args::date, value_name = "DATE", default_value = "")]
    date: String,
    /// Bill the periods that start by this day, YYYY-MM-DD (default the issue date).
    #[arg(long, value_parser = args::date, value_name = "DATE", default_value = "")]
    through: String,
    /// Due date, YYYY-MM-DD (default the client's due days after the issue date).
    #[arg(long, value_parser = args::date, value_name = "DATE", default_value = "")]
    due: String,
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    match cmd {
        Cmd::Run {
            as_of,
            dry_run,
            limit,
        } => {
            let resp = api
                .billing()
                .await?
                .run_billing(RunBillingRequest {
                    as_of: as_of.clone(),
                    dry_run,
                    limit,
                })
                .await?
                .into_inner();
            let invoices = resp.invoices.iter().map(record).collect();
            let json = message::record(&resp)
                .replacing(Record::new().records("invoices", invoices))
                .to_json();
            if resp.count == 0 {
                out.value(&format!("nothing to invoice as of {as_of}"), json)?;
                return refused(&resp.refused);
            }
            let count = resp.count;
            let more = count.saturating_sub(resp.invoices.len() as u64);
            let totals = resp
                .totals
                .iter()
                .map(|t| money(&t.gross, &t.currency))
                .collect::<Vec<_>>()
                .join(" + ");
            let human = format!(
                "{}{}total: {totals} ({count} document{})",
                run_table(&resp.invoices).render(),
                if more > 0 {
                    format!("… and {more} more (--limit)\n")
                } else {
                    String::new()
                },
                if count == 1 { "" } else { "s" }
            );
            out.value(&human, json)?;
            refused(&resp.refused)
        }
    }
}

/// Fails naming the clients a run could not bill, after the documents it did issue are shown:
/// a script must notice them.
fn refused(refused: &[RefusedClient]) -> Result<()> {
    if refused.is_empty() {
        return Ok(());
    }
    let named: Vec<String> = refused
        .iter()
        .map(|r| format!("client {}: {}", r.client_number, r.problem))
        .collect();
    anyhow::bail!(
        "{} client{} not billed: {}",
        refused.len(),
        if refused.len() == 1 { "" } else { "s" },
        named.join("; ")
    )
}

pub async fn invoice(cmd: InvoiceCmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut svc = api.billing().await?;
    match cmd {
        InvoiceCmd::List { client } => {
            let invoices = svc
                .list_invoices(ListInvoicesRequest {
                    client_number: client,
                })
                .await?
                .into_inner()
                .invoices;
            out.list(&invoices, "", record, list_table)
        }
        InvoiceCmd::Show { number } => {
            let inv = svc
                .get_invoice(GetInvoiceRequest { number })
                .await?
                .into_inner();
            if out.json {
                return out.record(&record(&inv));
            }
            out.record(&header(&inv))?;
            if let Some(supplier) = inv.supplier.as_ref().filter(|s| !s.name.is_empty()) {
                out.line("")?;
                out.line(&supplier_block(supplier))?;
            }
            out.line("")?;
            out.line(lines_table(&inv).render().trim_end())?;
            out.line("")?;
            out.line(vat_table(&inv).render().trim_end())
        }
        InvoiceCmd::Issue(a) => {
            let request = IssueInvoiceRequest {
                client_number: a.client,
                subscription_ids: a.subscriptions,
                proforma: a.proforma,
                date: a.date,
                through: a.through,
                due_date: a.due,
            };
            out.reply(svc.issue_invoice(request).await?, record)
        }
        InvoiceCmd::Cancel {
            number,
            reason,
            date,
            rebill,
        } => {
            let credit_note = svc
                .cancel_invoice(CancelInvoiceRequest {
                    number: number.clone(),
                    reason,
                    date,
                    rebill,
                })
                .await?
                .into_inner();
            let human = format!(
                "{number} cancelled by credit note {} ({})",
                credit_note.number,
                money(&credit_note.gross, &credit_note.currency)
            );
            out.value(&human, record(&credit_note).to_json())
        }
    }
}

/// The invoice as JSON: the API's fields, unchanged.
pub fn record(i: &Invoice) -> Record {
    // A draft has no supplier yet: its block is printed empty, as a stored invoice's would be.
    let supplier = i.supplier.clone().unwrap_or_default();
    message::record(i).replacing(Record::new().nested("supplier", message::record(&supplier)))
}

/// The supplier as printed at the top of a document.
fn supplier_block(s: &Supplier) -> String {
    let mut lines = vec![format!("Supplier: {}", s.name)];
    let street = [
        s.street.as_str(),
        &format!("{} {}", s.postcode, s.city),
        &s.country,
    ]
    .iter()
    .map(|p| p.trim())
    .filter(|p| !p.is_empty())
    .collect::<Vec<_>>()
    .join(", ");
    if !street.is_empty() {
        lines.push(format!("  {street}"));
    }
    let ids: Vec<String> = [("ID", &s.company_id), ("VAT ID", &s.vat_id)]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if !ids.is_empty() {
        lines.push(format!("  {}", ids.join(", ")));
    }
    let bank: Vec<String> = [
        ("account", &s.bank_account),
        ("IBAN", &s.iban),
        ("BIC", &s.bic),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k} {v}"))
    .collect();
    if !bank.is_empty() {
        lines.push(format!("  {}", bank.join(", ")));
    }
    // Each line escaped on its own: a line break in the supplier's name stays in its line.
    let lines: Vec<_> = lines.iter().map(|l| escape(l)).collect();
    lines.join("\n")
}

/// The `show` header: the invoice's own fields, amounts with their currency.
fn header(i: &Invoice) -> Record {
    let amount = |a: &str| money(a, &i.currency);
    message::record(i)
        .without("currency")
        .without("supplier")
        .without("lines")
        .without("vat_summary")
        .replacing(
            Record::new()
                .str("net", &amount(&i.net))
                .str("vat", &amount(&i.vat))
                .str("gross", &amount(&i.gross))
                .str("paid", &amount(&i.paid))
                .str("credited", &amount(&i.credited))
                .str("open", &amount(&i.open)),
        )
}

fn run_table(invoices: &[Invoice]) -> Table {
    Table::of(
        ["NUMBER", "KIND", "CLIENT", "NAME", "GROSS", "LINES"],
        invoices.iter().map(|i| {
            let number = if i.number.is_empty() {
                "(dry run)".to_owned()
            } else {
                i.number.clone()
            };
            [
                number,
                i.kind.clone(),
                i.client_number.clone(),
                i.client_name.clone(),
                money(&i.gross, &i.currency),
                i.lines.len().to_string(),
            ]
        }),
    )
}

fn list_table(invoices: &[Invoice]) -> Table {
    Table::of(
        ["NUMBER", "KIND", "ISSUED", "DUE", "GROSS", "OPEN", "STATE"],
        invoices.iter().map(|i| {
            [
                i.number.clone(),
                i.kind.clone(),
                i.issue_date.clone(),
                i.due_date.clone(),
                money(&i.gross, &i.currency),
                money(&i.open, &i.currency),
                i.state.clone(),
            ]
        }),
    )
}

fn lines_table(i: &Invoice) -> Table {
    Table::of(
        [
            "DESCRIPTION",
            "QTY",
            "UNIT_PRICE",
            "VAT%",
            "NET",
            "VAT",
            "GROSS",
        ],
        i.lines.iter().map(|l| {
            [
                l.description.clone(),
                l.quantity.clone(),
                money(&l.unit_price, &i.currency),
                l.vat_rate.clone(),
                money(&l.net, &i.currency),
                money(&l.vat, &i.currency),
                money(&l.gross, &i.currency),
            ]
        }),
    )
}

fn vat_table(i: &Invoice) -> Table {
    Table::of(
        ["RATE", "NET", "VAT", "GROSS"],
        i.vat_summary.iter().map(|v| {
            [
                format!("{}%", v.rate),
                money(&v.net, &i.currency),
                money(&v.vat, &i.currency),
                money(&v.gross, &i.currency),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use ispd_admin_proto::v1::{InvoiceLine, VatSummary};

    use super::*;

    #[test]
    fn dry_run_rows_and_json_shape() {
        let inv = Invoice {
            client_number: "1002".into(),
            client_name: "ACME".into(),
            kind: "invoice".into(),
            currency: "CZK".into(),
            gross: "1210.00".into(),
            lines: vec![InvoiceLine::default()],
            vat_summary: vec![VatSummary {
                rate: "21".into(),
                ..VatSummary::default()
            }],
            ..Invoice::default()
        };
        assert_eq!(
            run_table(std::slice::from_ref(&inv)).render(),
            "NUMBER     KIND     CLIENT  NAME  GROSS        LINES\n\
             (dry run)  invoice  1002    ACME  1210.00 CZK  1\n"
        );
        let v = record(&inv).to_json();
        assert_eq!(v["number"], "");
        assert_eq!(v["lines"][0]["subscription_id"], 0);
        assert_eq!(v["vat_summary"][0]["rate"], "21");
    }
}
