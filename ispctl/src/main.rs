//! `ispctl`: the admin command line of ispd.
//!
//! It is a thin client of the gRPC admin API and nothing else: it shares no code with the
//! daemon, so it can run on any machine that can reach the API, and every rule (validation,
//! defaults, permissions) lives in one place, the server.

// A handler never panics on what it is sent: outside tests, no unwrap or expect without a
// local `allow` that says why the value is always there.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
// One command, one readable function: none over 80 lines (ispctl/clippy.toml).
#![cfg_attr(not(test), deny(clippy::too_many_lines))]

mod args;
mod audit;
mod auth_log;
mod billing;
mod books;
mod charge;
mod client;
mod code;
mod connect;
mod discount;
mod dunning;
mod enforcement;
mod errors;
mod interest;
mod invoice_group;
mod login;
mod message;
mod nas;
mod output;
mod paging;
mod payment;
mod pool;
mod scheduled;
mod session;
mod subscription;
mod system;
mod tariff;
mod unit;
mod violation;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::connect::{Api, Global, Target};
use crate::output::Out;

const AFTER_HELP: &str = "\
Connection:
  The token is taken from ISPD_TOKEN, else --token-file, else <state dir>/admin.token.
  The server is --server (ISPD_SERVER), else the \"admin\" entry of <state dir>/ports.json,
  else http://127.0.0.1:50051. The state dir is --state-dir (ISPD_STATE_DIR), else
  ./ispd-data when it holds admin.token, else /var/lib/ispd.

Exit status: 0 on success, 1 on any error, 2 on a command-line usage error.";

/// Administer ispd (clients, tariffs, subscriptions, logins, NAS devices) over its admin API.
#[derive(Parser, Debug)]
#[command(name = "ispctl", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(flatten)]
    global: Global,

    /// Print JSON instead of tables: one object per record, {"items": [...],
    /// "next_page_token": ...} for lists.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Clients (contacts): the client card.
    #[command(subcommand)]
    Client(client::Cmd),
    /// Tariffs: price, period and speed profile.
    #[command(subcommand)]
    Tariff(tariff::Cmd),
    /// Subscriptions: a client's service on a tariff.
    #[command(subcommand, visible_alias = "sub")]
    Subscription(subscription::Cmd),
    /// Discounts on a subscription: percent, amount or resulting price, from a day.
    #[command(subcommand)]
    Discount(discount::Cmd),
    /// Logins: network access credentials answered by RADIUS.
    #[command(subcommand)]
    Login(login::Cmd),
    /// NAS devices allowed to send RADIUS requests.
    #[command(subcommand)]
    Nas(nas::Cmd),
    /// Code lists: client groups, statuses, payment types.
    #[command(subcommand)]
    Code(code::Cmd),
    /// Invoice groups: the provider's companies, their details and number series.
    #[command(subcommand)]
    InvoiceGroup(invoice_group::Cmd),
    /// One-off charges (installation, equipment, credits) for a client's next invoice.
    #[command(subcommand)]
    Charge(charge::Cmd),
    /// A client's action history, newest first.
    Audit(audit::AuditArgs),
    /// Accounting sessions: who is online, a login's session history.
    #[command(subcommand)]
    Session(session::Cmd),
    /// A login's traffic and online time per day.
    Usage(session::UsageArgs),
    /// The address pools ispd hands out itself (`[[pool]]`), and how full each is.
    #[command(subcommand)]
    Pool(pool::Cmd),
    /// The billing run: issue the invoices that are due.
    #[command(subcommand)]
    Billing(billing::Cmd),
    /// Invoices: listed, shown, cancelled, and issued on demand.
    #[command(subcommand)]
    Invoice(billing::InvoiceCmd),
    /// The closing of the books: nothing dated on or before it changes any more.
    #[command(subcommand)]
    Books(books::Cmd),
    /// Interest on overdue invoices: what accrued, the interest note, a waiver.
    #[command(subcommand)]
    Interest(interest::Cmd),
    /// Payments: record, import bank statements, unmatched payments, a client's balance.
    #[command(subcommand)]
    Payment(payment::Cmd),
    /// The dunning run: suspend clients who do not pay, restore those who did.
    #[command(subcommand)]
    Dunning(dunning::DunningCmd),
    /// Enforcement: the CoA and Disconnect requests that carry changes to online sessions.
    #[command(subcommand)]
    Enforcement(enforcement::Cmd),
    /// The daemon itself: the instances working on its database.
    #[command(subcommand)]
    System(system::Cmd),
    /// Violation notices: a breach of the terms with a deadline and penalty points.
    #[command(subcommand)]
    Violation(violation::Cmd),
    /// Units: the places services are delivered to, one service of a class each.
    #[command(subcommand)]
    Unit(unit::Cmd),
}

async fn dispatch(command: Command, api: &mut Api<'_>, out: Out) -> Result<()> {
    match command {
        Command::Client(cmd) => client::run(cmd, api, out).await,
        Command::Tariff(cmd) => tariff::run(cmd, api, out).await,
        Command::Subscription(cmd) => subscription::run(cmd, api, out).await,
        Command::Discount(cmd) => discount::run(cmd, api, out).await,
        Command::Login(cmd) => login::run(cmd, api, out).await,
        Command::Nas(cmd) => nas::run(cmd, api, out).await,
        Command::Code(cmd) => code::run(cmd, api, out).await,
        Command::InvoiceGroup(cmd) => invoice_group::run(cmd, api, out).await,
        Command::Charge(cmd) => charge::run(cmd, api, out).await,
        Command::Audit(args) => audit::run(args, api, out).await,
        Command::Session(cmd) => session::run(cmd, api, out).await,
        Command::Usage(args) => session::usage(args, api, out).await,
        Command::Pool(cmd) => pool::run(cmd, api, out).await,
        Command::Billing(cmd) => billing::run(cmd, api, out).await,
        Command::Invoice(cmd) => billing::invoice(cmd, api, out).await,
        Command::Books(cmd) => books::run(cmd, api, out).await,
        Command::Interest(cmd) => interest::run(cmd, api, out).await,
        Command::Payment(cmd) => payment::run(cmd, api, out).await,
        Command::Dunning(cmd) => dunning::run(cmd, api, out).await,
        Command::Enforcement(cmd) => enforcement::run(cmd, api, out).await,
        Command::System(cmd) => system::run(cmd, api, out).await,
        Command::Violation(cmd) => violation::run(cmd, api, out).await,
        Command::Unit(cmd) => unit::run(cmd, api, out).await,
    }
}

fn main() -> ExitCode {
    // Usage errors exit with 2 here, inside clap.
    let cli = Cli::parse();
    let out = Out { json: cli.json };
    let target = match Target::discover(&cli.global) {
        Ok(target) => target,
        Err(e) => {
            errors::report(&e, None);
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            errors::report(&e.into(), None);
            return ExitCode::FAILURE;
        }
    };
    let mut api = Api::new(&target);
    match runtime.block_on(dispatch(cli.command, &mut api, out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            errors::report(&e, Some(&target));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Catches clashing flag names and references to flags that do not exist (`conflicts_with`)
    /// across all subcommands, which clap otherwise reports only when that subcommand runs.
    #[test]
    fn command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
