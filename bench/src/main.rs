//! `ispd-bench`: drives a real ispd from this machine and prints what an operator compares:
//! for RADIUS requests per second, unanswered requests, latency percentiles, resident memory
//! and the access-cache build time; for billing the time of a billing run and of a bank
//! import over N clients, and the daemon's memory. Every loop is bounded.
//!
//! ```text
//! cargo run --release -p ispd-bench -- auth --logins 100000
//! cargo run --release -p ispd-bench -- acct --sessions 100000
//! cargo run --release -p ispd-bench -- billing --clients 100000
//! cargo run --release -p ispd-bench -- instances --database-url postgres://…/ispd_bench_two
//! ```
//!
//! `auth` and `acct` load any RADIUS server given `--server ADDR --secret S` (no ispd is
//! started then), with the same logins `users-file` writes for FreeRADIUS: `bench/compare`
//! runs both sides that way.

#![deny(clippy::too_many_lines)]

mod billing;
mod coa;
mod daemon;
mod instances;
mod load;
mod seed;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "ispd-bench", about = "Load generator for ispd (loopback only)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// PAP Access-Requests for distinct logins: closed loop for throughput, then open loop
    /// at a fixed rate for latency.
    Auth(AuthArgs),
    /// Start/Interim/Stop cycles (each answered only after its commit): closed loop for
    /// throughput, then open loop at a fixed rate for latency.
    Acct(AcctArgs),
    /// A billing run over N clients (one RunBilling call), then a bank statement paying every
    /// invoice (one ImportStatement call), with the idempotence checks.
    Billing(billing::BillingArgs),
    /// A tariff edited for N online sessions: every CoA, the pace per NAS, auth latency
    /// meanwhile; and the time from a single decision to its CoA.
    Coa(coa::CoaArgs),
    /// Two instances on one PostgreSQL: throughput with the load split over them, and how
    /// long a committed change takes to reach the other instance's answers.
    Instances(instances::InstancesArgs),
    /// Writes the benchmark's logins as a FreeRADIUS users file (`name Cleartext-Password :=
    /// "..."`), for loading FreeRADIUS with the same requests.
    UsersFile {
        #[arg(long, default_value_t = 100_000)]
        logins: usize,
        #[arg(long)]
        out: PathBuf,
    },
}

/// Another RADIUS server to load instead of starting ispd.
#[derive(clap::Args)]
struct External {
    /// Its address (auth port for `auth`, accounting port for `acct`), on loopback.
    #[arg(long)]
    server: Option<std::net::SocketAddr>,
    /// Its shared secret for this client.
    #[arg(long, default_value = seed::SECRET)]
    secret: String,
    /// Its process (all its threads), to report the CPU it used per answered request.
    #[arg(long)]
    pid: Option<u32>,
}

impl External {
    fn target(&self) -> Option<Target<'_>> {
        Some(Target {
            addr: self.server?,
            secret: self.secret.as_bytes(),
            pid: self.pid,
        })
    }
}

#[derive(clap::Args)]
struct AcctArgs {
    /// Sessions cycled through (Start, Interim, Stop each).
    #[arg(long, default_value_t = 100_000)]
    sessions: usize,
    /// Logins the sessions belong to.
    #[arg(long, default_value_t = 10_000)]
    logins: usize,
    /// Closed sessions stored before the load, as a running ISP's database holds them (0: an
    /// empty session table, as on the first day).
    #[arg(long, default_value_t = 100_000)]
    history: usize,
    #[arg(long, default_value = "/tmp/ispd-bench-acct")]
    state_dir: PathBuf,
    /// PostgreSQL instead of SQLite, e.g. postgres://ispd:ispd@127.0.0.1:5432/ispd_bench
    /// (the database must exist and be empty; it is seeded).
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long)]
    ispd: Option<PathBuf>,
    #[arg(long, default_value_t = 256)]
    window: usize,
    #[arg(long, default_value_t = 10)]
    closed_seconds: u64,
    #[arg(long, default_value_t = 10_000)]
    rate: u64,
    #[arg(long, default_value_t = 10)]
    open_seconds: u64,
    #[command(flatten)]
    external: External,
}

#[derive(clap::Args)]
struct AuthArgs {
    /// Distinct logins in the database (and in the requests).
    #[arg(long, default_value_t = 100_000)]
    logins: usize,
    /// State directory for the benchmarked daemon; seeded when it has no database.
    #[arg(long, default_value = "/tmp/ispd-bench-auth")]
    state_dir: PathBuf,
    /// Seed a fresh database even when one exists.
    #[arg(long)]
    reseed: bool,
    /// PostgreSQL instead of SQLite (an empty database, seeded each run); answers come from
    /// memory either way.
    #[arg(long)]
    database_url: Option<String>,
    /// The ispd binary; default: next to this one.
    #[arg(long)]
    ispd: Option<PathBuf>,
    /// Closed loop: requests in flight.
    #[arg(long, default_value_t = 256)]
    window: usize,
    /// Closed loop duration in seconds.
    #[arg(long, default_value_t = 10)]
    closed_seconds: u64,
    /// Open loop: offered requests per second.
    #[arg(long, default_value_t = 30_000)]
    rate: u64,
    /// Open loop duration in seconds.
    #[arg(long, default_value_t = 10)]
    open_seconds: u64,
    /// Run with the authentication log off (`[auth_log] enabled = false`), for the A/B of
    /// what recording every request costs.
    #[arg(long)]
    no_auth_log: bool,
    #[command(flatten)]
    external: External,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Auth(args) => auth(args),
        Command::Acct(args) => acct(args),
        Command::Billing(args) => {
            let ispd = ispd_path(args.ispd.clone())?;
            billing::billing(args, ispd)
        }
        Command::Coa(args) => {
            let ispd = ispd_path(args.ispd.clone())?;
            coa::coa(args, ispd)
        }
        Command::Instances(args) => {
            let ispd = ispd_path(args.ispd.clone())?;
            instances::instances(args, ispd)
        }
        Command::UsersFile { logins, out } => seed::users_file(&out, logins),
    }
}

/// The closed loop, then the open loop, against `target`, printed; the two reports. With
/// the server's process, each report says what CPU it used.
fn run_loops(
    workload: load::Workload,
    target: Target<'_>,
    logins: usize,
    (window, closed_seconds): (usize, u64),
    (rate, open_seconds): (u64, u64),
) -> anyhow::Result<(load::Report, load::Report)> {
    let (addr, secret) = (target.addr, target.secret);
    let mut closed = target.measured(|| {
        let duration = Duration::from_secs(closed_seconds);
        load::closed_loop(workload, addr, secret, logins, window, duration)
    })?;
    println!("closed loop, {window} in flight, {closed_seconds} s:");
    closed.print();
    let mut open = target.measured(|| {
        let duration = Duration::from_secs(open_seconds);
        load::open_loop(workload, addr, secret, logins, rate, duration)
    })?;
    println!("open loop, offered {rate}/s, {open_seconds} s:");
    open.print();
    Ok((closed, open))
}

/// The server under load: where to send, its secret, and its process when known.
pub struct Target<'a> {
    pub addr: std::net::SocketAddr,
    pub secret: &'a [u8],
    pub pid: Option<u32>,
}

impl Target<'_> {
    fn measured(
        &self,
        run: impl FnOnce() -> anyhow::Result<load::Report>,
    ) -> anyhow::Result<load::Report> {
        let before = self.pid.map(daemon::cpu_seconds).transpose()?;
        let mut report = run()?;
        if let (Some(pid), Some(before)) = (self.pid, before) {
            report.server_cpu_seconds = Some(daemon::cpu_seconds(pid)? - before);
        }
        Ok(report)
    }
}

fn ispd_path(arg: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match arg {
        Some(path) => Ok(path),
        None => Ok(std::env::current_exe()?
            .parent()
            .context("no directory beside ispd-bench")?
            .join("ispd")),
    }
}

fn acct(args: AcctArgs) -> anyhow::Result<()> {
    let workload = load::Workload::Acct {
        sessions: args.sessions,
        run: 0,
    };
    let loops = (
        (args.window, args.closed_seconds),
        (args.rate, args.open_seconds),
    );
    if let Some(target) = args.external.target() {
        run_loops(workload, target, args.logins, loops.0, loops.1)?;
        return Ok(());
    }
    println!(
        "seeding {} logins and {} past sessions into {}",
        args.logins,
        args.history,
        args.database_url.as_deref().unwrap_or("SQLite")
    );
    seed::seed_with(&args.state_dir, args.logins, args.database_url.as_deref())?;
    seed::seed_session_history(&args.state_dir, args.database_url.as_deref(), args.history)?;
    let daemon = daemon::Daemon::start(&ispd_path(args.ispd)?, &args.state_dir)?;
    let target = daemon.target(daemon.acct_addr);
    run_loops(workload, target, args.logins, loops.0, loops.1)?;
    println!(
        "ispd resident memory after the load: {} MB",
        daemon.rss_mb()?
    );
    Ok(())
}

fn auth(args: AuthArgs) -> anyhow::Result<()> {
    let loops = (
        (args.window, args.closed_seconds),
        (args.rate, args.open_seconds),
    );
    if let Some(target) = args.external.target() {
        run_loops(
            load::Workload::ForeignAuth,
            target,
            args.logins,
            loops.0,
            loops.1,
        )?;
        return Ok(());
    }
    let url = args.database_url.as_deref();
    if args.reseed || url.is_some() || !args.state_dir.join("ispd.db").exists() {
        println!(
            "seeding {} logins into {}",
            args.logins,
            url.unwrap_or(&args.state_dir.display().to_string())
        );
        let seeded = seed::seed_with(&args.state_dir, args.logins, url)?;
        println!("  seeded in {:.1} s", seeded.as_secs_f64());
    }
    seed::set_auth_log(&args.state_dir, !args.no_auth_log)?;
    let daemon = daemon::Daemon::start(&ispd_path(args.ispd)?, &args.state_dir)?;
    println!(
        "ispd: access cache of {} logins built in {} ms",
        daemon.cached_logins, daemon.cache_millis
    );
    println!(
        "ispd resident memory with the cache built: {} MB",
        daemon.rss_mb()?
    );
    let target = daemon.target(daemon.auth_addr);
    let (closed, open) = run_loops(load::Workload::Auth, target, args.logins, loops.0, loops.1)?;
    println!(
        "ispd resident memory after the load: {} MB",
        daemon.rss_mb()?
    );
    if !args.no_auth_log {
        // The writer gathers for up to 5 s before its last batch.
        std::thread::sleep(Duration::from_secs(7));
        let answered = closed.accepted + closed.rejected + open.accepted + open.rejected;
        let (rows, recorded) = seed::auth_log_rows(&args.state_dir)?;
        println!(
            "auth log: {recorded} attempts recorded of {answered} requests answered, in {rows} rows"
        );
    }
    Ok(())
}
