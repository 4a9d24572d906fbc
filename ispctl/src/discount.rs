//! `ispctl discount …`: discounts on a subscription (Mango "slevová kampaň"), each its own
//! negative line on the invoices the billing run issues.

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use ispd_admin_proto::v1::{
    AddDiscountRequest, DeleteDiscountRequest, Discount, DiscountKind, ListDiscountsRequest,
};

use crate::args::{self, ProtoEnum, enum_name};
use crate::connect::Api;
use crate::message;
use crate::output::{Out, Table};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Add a discount to a subscription; several may apply at once.
    Add(AddArgs),
    /// List a subscription's discounts in the order they apply.
    List {
        /// Subscription ID.
        subscription: i64,
    },
    /// Delete a discount (issued invoices keep their lines).
    Delete {
        /// Discount ID (from `discount list`).
        id: i64,
    },
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("value").required(true).args(["percent", "amount", "price"])))]
pub struct AddArgs {
    /// Subscription ID.
    subscription: i64,
    /// Campaign name, shown on the invoice line.
    #[arg(long)]
    name: String,
    /// Percent off the price, 0-100.
    #[arg(long, value_parser = args::decimal, value_name = "PERCENT")]
    percent: Option<String>,
    /// Amount off each full period (with or without VAT, like the tariff's price).
    #[arg(long, value_parser = args::money, value_name = "AMOUNT")]
    amount: Option<String>,
    /// The price the client pays per period instead (Mango "resulting price").
    #[arg(long, value_parser = args::money, value_name = "PRICE")]
    price: Option<String>,
    /// First day it applies, YYYY-MM-DD [default: today].
    #[arg(long, value_parser = args::date, value_name = "DATE")]
    from: Option<String>,
    /// Last day it applies, YYYY-MM-DD [default: open-ended].
    #[arg(long, value_parser = args::date, value_name = "DATE")]
    to: Option<String>,
}

/// How a discount's value is meant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Percent,
    Amount,
    #[value(alias = "resulting_price")]
    ResultingPrice,
}

impl ProtoEnum for KindArg {
    fn to_proto(self) -> i32 {
        (match self {
            Self::Percent => DiscountKind::Percent,
            Self::Amount => DiscountKind::Amount,
            Self::ResultingPrice => DiscountKind::ResultingPrice,
        }) as i32
    }
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    match cmd {
        Cmd::Add(a) => {
            // The group makes exactly one of the three present.
            let (kind, value) = match (a.percent, a.amount, a.price) {
                (Some(p), _, _) => (KindArg::Percent, p),
                (_, Some(v), _) => (KindArg::Amount, v),
                (_, _, Some(p)) => (KindArg::ResultingPrice, p),
                (None, None, None) => unreachable!("clap requires one of the value flags"),
            };
            let discount = Discount {
                subscription_id: a.subscription,
                name: a.name,
                kind: kind.to_proto(),
                value,
                valid_from: a.from.unwrap_or_default(),
                valid_to: a.to.unwrap_or_default(),
                ..Discount::default()
            };
            let request = AddDiscountRequest {
                discount: Some(discount),
            };
            out.reply(
                api.discounts().await?.add_discount(request).await?,
                message::record,
            )
        }
        Cmd::List { subscription } => {
            let discounts = api
                .discounts()
                .await?
                .list_discounts(ListDiscountsRequest {
                    subscription_id: subscription,
                })
                .await?
                .into_inner()
                .discounts;
            out.list(&discounts, "", message::record, table)
        }
        Cmd::Delete { id } => {
            api.discounts()
                .await?
                .delete_discount(DeleteDiscountRequest { id })
                .await?;
            out.deleted("discount", &id.to_string())
        }
    }
}

fn table(discounts: &[Discount]) -> Table {
    Table::of(
        ["ID", "NAME", "KIND", "VALUE", "FROM", "TO"],
        discounts.iter().map(|d| {
            [
                d.id.to_string(),
                d.name.clone(),
                enum_name::<KindArg>(d.kind),
                d.value.clone(),
                d.valid_from.clone(),
                d.valid_to.clone(),
            ]
        }),
    )
}
