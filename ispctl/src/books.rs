//! `ispctl books …`: the closing of the books — after it nothing dated on or before the closing
//! day is created, changed or deleted.

use anyhow::Result;
use clap::Subcommand;
use ispd_admin_proto::v1::{Books, CloseBooksRequest, GetBooksRequest};

use crate::args;
use crate::connect::Api;
use crate::output::{Out, Record};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Close the books through a day (an accounting closing, ISPadmin "účetní uzávěrka").
    ///
    /// Afterwards payments, documents, one-off charges and discounts dated on or before it
    /// are refused, naming the closing date. Only a day before today; a closing never moves
    /// back. Admin role.
    Close {
        /// The last day of the closed period, YYYY-MM-DD.
        #[arg(long, value_parser = args::required_date, value_name = "DATE")]
        until: String,
    },
    /// Print the closing in force.
    Show,
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut billing = api.billing().await?;
    match cmd {
        Cmd::Close { until } => {
            let request = CloseBooksRequest { until };
            out.reply(billing.close_books(request).await?, record)
        }
        Cmd::Show => out.reply(billing.get_books(GetBooksRequest {}).await?, record),
    }
}

fn record(books: &Books) -> Record {
    let closed = match books.closed_until.as_str() {
        "" => "never",
        day => day,
    };
    Record::new().str("closed_until", closed)
}
