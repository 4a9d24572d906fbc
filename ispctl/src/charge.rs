//! `ispctl charge …`: one-off charges (installation fee, equipment, a one-time credit), billed
//! once on the client's next invoice on or after their date.
//!
//! Prices are taken without VAT unless `--price-includes-vat` is given: the same default as
//! `ispctl tariff add`, so the two never surprise an operator differently.

use anyhow::Result;
use clap::Subcommand;
use ispd_admin_proto::v1::{AddChargeRequest, Charge, DeleteChargeRequest, ListChargesRequest};

use crate::args;
use crate::connect::Api;
use crate::message;
use crate::output::{Out, Record, Table, yes_no};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Add a one-off charge to a client's next invoice.
    ///
    /// A negative --price is a one-off credit (deducted on the next invoice). The charge is
    /// billed by the first billing run on or after --on.
    Add {
        /// Client number.
        client: String,
        /// The invoice line's text, e.g. "Installation".
        #[arg(long, value_name = "TEXT")]
        description: String,
        /// Unit price, e.g. 1500.00; negative for a credit. Without VAT unless
        /// --price-includes-vat is given (as for tariffs).
        #[arg(long, value_parser = args::required_money, allow_hyphen_values = true, value_name = "AMOUNT")]
        price: String,
        /// Quantity, e.g. 2 or 1.5.
        #[arg(long, value_parser = args::decimal, value_name = "N", default_value = "1")]
        quantity: String,
        /// VAT rate in percent; 0 for no VAT.
        #[arg(long, value_parser = args::decimal, value_name = "PERCENT", default_value = "21")]
        vat_rate: String,
        /// The price already includes VAT [default: it does not, as for tariffs].
        #[arg(long, conflicts_with = "price_without_vat")]
        price_includes_vat: bool,
        /// The price excludes VAT (the default; for scripts that want to say so).
        #[arg(long)]
        price_without_vat: bool,
        /// The client's subscription the charge belongs to (an id from `subscription list`).
        #[arg(long, value_name = "ID")]
        subscription: Option<i64>,
        /// Bill it on the first run on or after this day, YYYY-MM-DD [default: today on the
        /// server].
        #[arg(long, value_parser = args::date, value_name = "DATE")]
        on: Option<String>,
    },
    /// List a client's charges, billed ones with their invoice number.
    List {
        /// Client number.
        client: String,
    },
    /// Delete a charge that is not billed yet.
    Delete {
        /// Charge id, as listed by `ispctl charge list`.
        id: i64,
    },
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut svc = api.charges().await?;
    match cmd {
        Cmd::Add {
            client,
            description,
            price,
            quantity,
            vat_rate,
            price_includes_vat,
            price_without_vat: _,
            subscription,
            on,
        } => {
            // Empty: the server's today, in its `[billing] timezone`.
            let charge_on = on.unwrap_or_default();
            let charge = Charge {
                client_number: client,
                subscription_id: subscription,
                description,
                quantity,
                unit_price: price,
                price_includes_vat,
                vat_rate,
                charge_on,
                ..Charge::default()
            };
            let request = AddChargeRequest {
                charge: Some(charge),
            };
            out.reply(svc.add_charge(request).await?, record)
        }
        Cmd::List { client } => {
            let charges = svc
                .list_charges(ListChargesRequest {
                    client_number: client,
                })
                .await?
                .into_inner()
                .charges;
            out.list(&charges, "", record, table)
        }
        Cmd::Delete { id } => {
            svc.delete_charge(DeleteChargeRequest { id }).await?;
            out.deleted("charge", &id.to_string())
        }
    }
}

/// The charge as JSON / human lines; `invoice_number` is null while unbilled.
fn record(c: &Charge) -> Record {
    message::record(c).replacing(
        Record::new()
            // Always shown: which basis the price is on is half of what it means.
            .opt("price_includes_vat", Some(c.price_includes_vat))
            .opt(
                "invoice_number",
                (!c.invoice_number.is_empty()).then_some(c.invoice_number.as_str()),
            ),
    )
}

fn table(charges: &[Charge]) -> Table {
    Table::of(
        [
            "ID",
            "ON",
            "DESCRIPTION",
            "QTY",
            "PRICE",
            "VAT%",
            "INCL_VAT",
            "SUBSCRIPTION",
            "INVOICE",
        ],
        charges.iter().map(|c| {
            [
                c.id.to_string(),
                c.charge_on.clone(),
                c.description.clone(),
                c.quantity.clone(),
                c.unit_price.clone(),
                c.vat_rate.clone(),
                yes_no(c.price_includes_vat).to_owned(),
                c.subscription_id.map(|s| s.to_string()).unwrap_or_default(),
                if c.invoice_number.is_empty() {
                    "unbilled".to_owned()
                } else {
                    c.invoice_number.clone()
                },
            ]
        }),
    )
}
