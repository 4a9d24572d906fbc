//! `ispd`: the daemon. `ispd [--config FILE]` runs it; `ispd check-config FILE` validates a
//! config file; `ispd hash-token` prints the hash of a token for a `[[token]]` table.

// A handler never panics on what it is sent: outside tests, no unwrap or expect without a
// local `allow` that says why the value is always there.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
// A function over 80 lines (clippy.toml) hides steps that deserve a name.
#![cfg_attr(not(test), deny(clippy::too_many_lines))]

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ispd::config::{Config, LogFormat};

#[derive(Parser)]
#[command(
    name = "ispd",
    version,
    about = "The ISP daemon: RADIUS, billing and the admin API"
)]
struct Cli {
    /// TOML config file; without one, every key takes its documented default.
    #[arg(long, short, global = true, env = "ISPD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon (the default).
    Run,
    /// Validate a config file and exit: 0 when valid, 1 with the offending key when not.
    CheckConfig {
        /// The file to check.
        file: PathBuf,
    },
    /// Read a token on standard input (at least 32 random characters) and print its
    /// `sha256:...` hash for a [[token]] table.
    HashToken,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run) {
        // The files the config names are read too: a TLS key that does not load fails here,
        // not at the next start.
        Command::CheckConfig { file } => match Config::load(&file)
            .and_then(|config| ispd::tls::server_config(&config.admin).map(|_| ()))
        {
            Ok(()) => {
                println!("{}: ok", file.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::HashToken => {
            let mut token = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut token) {
                eprintln!("error: cannot read the token from standard input: {e}");
                return ExitCode::FAILURE;
            }
            if token.trim().is_empty() {
                eprintln!("error: no token on standard input");
                return ExitCode::FAILURE;
            }
            if let Err(e) = ispd::token::check_strength(&token) {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
            println!("{}", ispd::token::TokenHash::of(&token));
            ExitCode::SUCCESS
        }
        Command::Run => match run(cli.config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!("{e:#}");
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn run(config_path: Option<PathBuf>) -> anyhow::Result<()> {
    let mut config = match &config_path {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    // Under systemd, StateDirectory= tells us where state lives unless the file says otherwise.
    if config_path.is_none()
        && let Some(dir) = std::env::var_os("STATE_DIRECTORY")
    {
        config.state_dir = PathBuf::from(dir);
    }
    init_logging(&config);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(ispd::server::run(config, config_path))
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ISPD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log.level));
    let format = match std::env::var("ISPD_LOG_FORMAT").as_deref() {
        Ok("human") => LogFormat::Human,
        Ok("json") => LogFormat::Json,
        Ok("journald") => LogFormat::Journald,
        _ => config.log.format,
    };
    let format = match format {
        LogFormat::Auto if std::io::stderr().is_terminal() => LogFormat::Human,
        LogFormat::Auto if std::env::var_os("JOURNAL_STREAM").is_some() => LogFormat::Journald,
        LogFormat::Auto => LogFormat::Json,
        other => other,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Journald => builder.without_time().with_ansi(false).init(),
        _ => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}
