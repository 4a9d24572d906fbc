//! `ispctl interest …`: interest on overdue invoices (net47) — what accrued, the interest note
//! that bills it, and a waiver that writes it off for good.

use anyhow::Result;
use clap::Subcommand;
use ispd_admin_proto::v1::{
    BillInterestRequest, Interest, ListInterestRequest, WaiveInterestRequest,
};

use crate::args;
use crate::connect::Api;
use crate::message;
use crate::output::{Out, Table, money};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// List the interest accrued on overdue invoices and not billed or waived yet.
    ///
    /// Each day past an invoice's due date accrues its open amount x `[billing]
    /// interest_rate_percent` / 365.
    List {
        /// Only this client's invoices.
        #[arg(long)]
        client: Option<String>,
        /// The last day counted, YYYY-MM-DD (default today).
        #[arg(long, value_parser = args::date, value_name = "DATE")]
        as_of: Option<String>,
    },
    /// Bill a client's accrued interest on one interest note (a debit note, a line per invoice).
    ///
    /// Refused when less than `[billing] interest_minimum` accrued.
    Bill {
        #[arg(long)]
        client: String,
        /// The note's date and the last day it charges, YYYY-MM-DD (default today).
        #[arg(long, value_parser = args::date, value_name = "DATE")]
        as_of: Option<String>,
    },
    /// Waive an invoice's accrued interest for good (net47 "delete"): never billed; audited.
    Waive {
        /// The invoice's number.
        #[arg(long)]
        invoice: String,
        /// The last day waived, YYYY-MM-DD (default today).
        #[arg(long, value_parser = args::date, value_name = "DATE")]
        as_of: Option<String>,
        /// Confirm the waiver: it cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut billing = api.billing().await?;
    match cmd {
        Cmd::List { client, as_of } => {
            let request = ListInterestRequest {
                client_number: client.unwrap_or_default(),
                as_of: as_of.unwrap_or_default(),
            };
            let reply = billing.list_interest(request).await?.into_inner();
            out.list(&reply.items, "", message::record, table)
        }
        Cmd::Bill { client, as_of } => {
            let request = BillInterestRequest {
                client_number: client,
                as_of: as_of.unwrap_or_default(),
            };
            out.reply(
                billing.bill_interest(request).await?,
                crate::billing::record,
            )
        }
        Cmd::Waive {
            invoice,
            as_of,
            yes,
        } => {
            let request = WaiveInterestRequest {
                invoice_number: invoice,
                as_of: as_of.unwrap_or_default(),
                confirm: yes,
            };
            out.reply(billing.waive_interest(request).await?, message::record)
        }
    }
}

fn table(items: &[Interest]) -> Table {
    Table::of(
        [
            "CLIENT", "INVOICE", "FROM", "UNTIL", "DAYS", "OPEN", "INTEREST",
        ],
        items.iter().map(|i| {
            [
                i.client_number.clone(),
                i.invoice_number.clone(),
                i.from.clone(),
                i.until.clone(),
                i.days.to_string(),
                money(&i.open_amount, &i.currency),
                money(&i.amount, &i.currency),
            ]
        }),
    )
}
