//! `ispd-bench billing`: a monthly billing run over N clients, then the bank statement that
//! pays every invoice, each timed as ONE admin API call to a real daemon, with the daemon's
//! memory before, after and at its peak and its CPU time; then what an operator would check:
//! every invoice paid, a second run for the same date issues nothing, a re-import records
//! nothing. A dry run first separates computing the documents from storing them.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use ispd_admin_proto::v1;
use ispd_admin_proto::v1::billing_service_client::BillingServiceClient;
use ispd_admin_proto::v1::payment_service_client::PaymentServiceClient;
use prost::Message;
use rust_decimal::Decimal;
use sqlx::any::AnyPoolOptions;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status};

use crate::daemon::Daemon;
use crate::seed;

/// The daemon's limit on one statement import: a larger statement would be refused before any
/// work is done, so the bench splits only beyond it.
const SERVER_MESSAGE_LIMIT: usize = ispd::api::STATEMENT_LIMIT;
/// Room for the request's other fields and framing under [`SERVER_MESSAGE_LIMIT`].
const CHUNK_MARGIN: usize = 16 * 1024;
/// What this client accepts: the run's answer lists every invoice it issued.
const CLIENT_MESSAGE_LIMIT: usize = 1 << 30;
/// The targets of issue 16 (performance), for the verdict lines.
const RUN_TARGET: Duration = Duration::from_secs(2);
const IMPORT_TARGET: Duration = Duration::from_secs(2);
const IMPORT_PEAK_TARGET_MB: u64 = 150;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatementFormat {
    Camt053,
    Csv,
}

impl StatementFormat {
    fn name(self) -> &'static str {
        match self {
            StatementFormat::Camt053 => "camt053",
            StatementFormat::Csv => "csv",
        }
    }
}

#[derive(clap::Args)]
pub struct BillingArgs {
    /// Clients, each with one monthly subscription.
    #[arg(long, default_value_t = 100_000)]
    clients: usize,
    /// State directory for the benchmarked daemon; emptied and seeded on every run.
    #[arg(long, default_value = "/tmp/ispd-bench-billing")]
    state_dir: PathBuf,
    /// PostgreSQL instead of SQLite, e.g.
    /// postgres://ispd:ispd@127.0.0.1:5432/ispd_bench_billing (the database must exist and
    /// be empty; it is seeded).
    #[arg(long)]
    database_url: Option<String>,
    /// The ispd binary; default: next to this one.
    #[arg(long)]
    pub ispd: Option<PathBuf>,
    /// Date of the billing run; subscriptions are billed up to the month before it.
    #[arg(long, default_value = "2026-12-01")]
    as_of: NaiveDate,
    /// Bank statement format of the import.
    #[arg(long, value_enum, default_value_t = StatementFormat::Camt053)]
    format: StatementFormat,
    /// Deadline of each admin API call, in seconds.
    #[arg(long, default_value_t = 1800)]
    call_timeout: u64,
}

/// Adds the daemon's admin token to every call.
#[derive(Clone)]
struct Bearer(MetadataValue<Ascii>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

type Svc = InterceptedService<Channel, Bearer>;

/// One payment of the statement: an invoice's gross, with the client number as the variable
/// symbol.
struct Payment {
    bank_id: String,
    variable_symbol: String,
    amount: String,
    payer: String,
}

/// What one or several ImportStatement calls did.
#[derive(Default)]
struct Imported {
    calls: usize,
    bytes: usize,
    recorded: u64,
    duplicates: u64,
    unmatched: u64,
    allocated: Decimal,
    elapsed: Duration,
}

/// A named check and whether it held.
struct Checks(Vec<(String, bool)>);

impl Checks {
    fn check(&mut self, what: String, ok: bool) {
        println!("  {} {what}", if ok { "ok:" } else { "FAILED:" });
        self.0.push((what, ok));
    }

    /// An error naming every check that failed.
    fn verdict(&self) -> anyhow::Result<()> {
        let failed: Vec<&str> = self
            .0
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(what, _)| what.as_str())
            .collect();
        if !failed.is_empty() {
            bail!("checks failed: {}", failed.join("; "));
        }
        Ok(())
    }
}

pub fn billing(args: BillingArgs, ispd: PathBuf) -> anyhow::Result<()> {
    println!(
        "seeding {} clients with one monthly subscription each into {}",
        args.clients,
        if args.database_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    let seeded = seed::seed_billing(
        &args.state_dir,
        args.clients,
        args.database_url.as_deref(),
        args.as_of,
    )?;
    println!(
        "  seeded in {:.1} s (tariffs, client 1 and its subscription through ispd's Store, \
         the other rows copied from those by INSERT … SELECT)",
        seeded.as_secs_f64()
    );
    let daemon = Daemon::start(&ispd, &args.state_dir)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(scenario(&args, &daemon));
    // First the client's connection (its task lives on this runtime): the daemon finishes
    // open admin connections before it stops.
    drop(runtime);
    drop(daemon);
    result
}

async fn scenario(args: &BillingArgs, daemon: &Daemon) -> anyhow::Result<()> {
    let mut bench = Scenario::connect(args, daemon).await?;
    println!(
        "ispd (pid {}) started: resident memory {} MB; load average {}",
        daemon.pid(),
        daemon.rss_mb()?,
        load_average()
    );
    bench.dry_run().await?;
    let run_time = bench.run().await?;
    let statement = bench.statement().await?;
    let (first, import_peak) = bench.import(&statement).await?;
    bench.balances().await?;
    bench.again(&statement).await?;
    println!("ispd resident memory at the end: {} MB", daemon.rss_mb()?);
    println!("load average at the end: {}", load_average());
    verdicts(run_time, first.elapsed, import_peak);
    bench.checks.verdict()
}

/// The statement that pays every invoice issued, what it adds up to, and its booking day.
struct Statement {
    payments: Vec<Payment>,
    total: Decimal,
    booked_on: NaiveDate,
}

/// One bench run against a daemon: its admin clients and what has been checked so far.
struct Scenario<'a> {
    args: &'a BillingArgs,
    daemon: &'a Daemon,
    billing: BillingServiceClient<Svc>,
    payments: PaymentServiceClient<Svc>,
    checks: Checks,
}

impl<'a> Scenario<'a> {
    async fn connect(args: &'a BillingArgs, daemon: &'a Daemon) -> anyhow::Result<Self> {
        let token = std::fs::read_to_string(args.state_dir.join("admin.token"))
            .context("the daemon wrote no admin.token")?;
        let mut bearer = MetadataValue::try_from(format!("Bearer {}", token.trim()))?;
        bearer.set_sensitive(true);
        let channel = Endpoint::from_shared(format!("http://{}", daemon.admin_addr))?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(args.call_timeout))
            .connect()
            .await
            .context("cannot connect to the daemon's admin API")?;
        let billing =
            BillingServiceClient::with_interceptor(channel.clone(), Bearer(bearer.clone()))
                .max_decoding_message_size(CLIENT_MESSAGE_LIMIT)
                .max_encoding_message_size(CLIENT_MESSAGE_LIMIT);
        let payments = PaymentServiceClient::with_interceptor(channel, Bearer(bearer))
            .max_decoding_message_size(CLIENT_MESSAGE_LIMIT)
            .max_encoding_message_size(CLIENT_MESSAGE_LIMIT);
        Ok(Scenario {
            args,
            daemon,
            billing,
            payments,
            checks: Checks(Vec::new()),
        })
    }

    /// One RunBilling call for the bench's day; the answer lists one document (counted and
    /// totalled in full: the daemon holds one batch at a time).
    async fn run_billing(&mut self, dry_run: bool) -> anyhow::Result<v1::RunBillingResponse> {
        let answer = self
            .billing
            .run_billing(v1::RunBillingRequest {
                as_of: self.args.as_of.to_string(),
                dry_run,
                limit: 1,
            })
            .await
            .context(if dry_run {
                "RunBilling (dry run)"
            } else {
                "RunBilling"
            })?;
        Ok(answer.into_inner())
    }

    /// What computing the documents costs (loading, the pure core, the answer), without
    /// storing anything: the rest of the real run is issuing them.
    async fn dry_run(&mut self) -> anyhow::Result<()> {
        let rss_before = self.daemon.rss_mb()?;
        let peak_reset = self.daemon.reset_peak();
        let started = Instant::now();
        let dry = self.run_billing(true).await?;
        println!(
            "dry run as of {}: {} invoices proposed in {:.2} s",
            self.args.as_of,
            dry.count,
            started.elapsed().as_secs_f64()
        );
        memory_line(self.daemon, rss_before, peak_reset)
    }

    /// The billing run, timed: one invoice per client.
    async fn run(&mut self) -> anyhow::Result<Duration> {
        println!(
            "billing run as of {} (one RunBilling call):",
            self.args.as_of
        );
        let rss_before = self.daemon.rss_mb()?;
        let peak_reset = self.daemon.reset_peak();
        let cpu_before = self.daemon.cpu_seconds()?;
        let started = Instant::now();
        let run = self.run_billing(false).await?;
        let run_time = started.elapsed();
        println!(
            "  {} invoices issued, total {} {}, {:.2} s ({:.0} invoices/s); answer {:.1} MB",
            run.count,
            run.total_gross,
            run.currency,
            run_time.as_secs_f64(),
            run.count as f64 / run_time.as_secs_f64(),
            mb(run.encoded_len())
        );
        cpu_line(self.daemon, cpu_before, run_time)?;
        memory_line(self.daemon, rss_before, peak_reset)?;
        self.checks.check(
            format!(
                "one invoice per client ({} for {} clients)",
                run.count, self.args.clients
            ),
            run.count == self.args.clients as u64
                && run.invoices.iter().all(|i| i.kind == "invoice"),
        );
        Ok(run_time)
    }

    /// One payment per invoice issued, read from the daemon's database (the run's answer
    /// lists only the first).
    async fn statement(&self) -> anyhow::Result<Statement> {
        let url = seed::database_url(&self.args.state_dir, self.args.database_url.as_deref());
        let payments: Vec<Payment> = issued_invoices(&url)
            .await?
            .into_iter()
            .enumerate()
            .map(|(k, (client_number, client_name, amount))| Payment {
                bank_id: format!("BENCH{:09}", k + 1),
                // How clients pay in the Czech Republic: the client number as the variable
                // symbol.
                variable_symbol: client_number,
                amount,
                payer: client_name,
            })
            .collect();
        let total: Decimal = payments
            .iter()
            .map(|p| p.amount.parse::<Decimal>())
            .sum::<Result<Decimal, _>>()
            .context("an invoice gross is not a number")?;
        let booked_on = self
            .args
            .as_of
            .checked_add_days(chrono::Days::new(5))
            .context("--as-of too late")?;
        Ok(Statement {
            payments,
            total,
            booked_on,
        })
    }

    /// The statement's import, timed, and the daemon's peak memory during it.
    async fn import(&mut self, statement: &Statement) -> anyhow::Result<(Imported, Option<u64>)> {
        let (format, count) = (self.args.format, statement.payments.len());
        println!(
            "bank import of {count} payments, one per invoice by variable symbol ({}):",
            format.name()
        );
        let parse = parse_time(format, &statement.payments, statement.booked_on)?;
        println!(
            "  (parsing it alone, with the daemon's parser in this process: {:.2} s)",
            parse.as_secs_f64()
        );
        let rss_before = self.daemon.rss_mb()?;
        let peak_reset = self.daemon.reset_peak();
        let cpu_before = self.daemon.cpu_seconds()?;
        let first = import(
            &mut self.payments,
            format,
            &statement.payments,
            statement.booked_on,
        )
        .await?;
        println!(
            "  {} recorded, {} matched, {} unmatched, {} duplicates, {:.2} s in {} call(s) \
             ({:.0} payments/s)",
            first.recorded,
            first.recorded - first.unmatched,
            first.unmatched,
            first.duplicates,
            first.elapsed.as_secs_f64(),
            first.calls,
            first.recorded as f64 / first.elapsed.as_secs_f64(),
        );
        cpu_line(self.daemon, cpu_before, first.elapsed)?;
        memory_line(self.daemon, rss_before, peak_reset)?;
        let import_peak = peak_reset.then(|| self.daemon.peak_mb()).transpose()?;
        let matched = first.recorded - first.unmatched;
        self.checks.check(
            format!("every payment recorded and matched to a client ({matched} of {count})"),
            first.recorded == count as u64 && first.unmatched == 0,
        );
        self.checks.check(
            format!(
                "everything paid went to invoices ({} of {})",
                first.allocated, statement.total
            ),
            first.allocated == statement.total,
        );
        Ok((first, import_peak))
    }

    /// Every invoice paid, by SQL on the daemon's database and by ClientBalance of a few
    /// clients.
    async fn balances(&mut self) -> anyhow::Result<()> {
        let url = seed::database_url(&self.args.state_dir, self.args.database_url.as_deref());
        let (paid, invoices) = paid_invoices(&url).await?;
        self.checks.check(
            format!("{paid} of {invoices} invoices paid (SQL on the daemon's database)"),
            paid == invoices && invoices == self.args.clients as i64,
        );
        let clients = self.args.clients;
        let mut sample: Vec<usize> = vec![1, clients.div_ceil(2), clients];
        sample.dedup();
        for number in sample {
            let balance = self
                .payments
                .client_balance(v1::ClientBalanceRequest {
                    client_number: number.to_string(),
                })
                .await
                .context("ClientBalance")?
                .into_inner();
            let owed: Decimal = balance.owed.parse().context("ClientBalance.owed")?;
            self.checks.check(
                format!(
                    "client {number} owes {} {} (ClientBalance)",
                    balance.owed, balance.currency
                ),
                owed.is_zero(),
            );
        }
        Ok(())
    }

    /// A second run for the same day issues nothing; the same statement again records
    /// nothing.
    async fn again(&mut self, statement: &Statement) -> anyhow::Result<()> {
        println!("second billing run as of {}:", self.args.as_of);
        let started = Instant::now();
        let again = self.run_billing(false).await?;
        self.checks.check(
            format!(
                "{} invoices issued, {:.2} s",
                again.count,
                started.elapsed().as_secs_f64()
            ),
            again.count == 0,
        );
        println!("re-import of the same statement:");
        let second = import(
            &mut self.payments,
            self.args.format,
            &statement.payments,
            statement.booked_on,
        )
        .await?;
        self.checks.check(
            format!(
                "{} recorded, {} duplicates, {:.2} s in {} call(s)",
                second.recorded,
                second.duplicates,
                second.elapsed.as_secs_f64(),
                second.calls
            ),
            second.recorded == 0 && second.duplicates == statement.payments.len() as u64,
        );
        Ok(())
    }
}

/// Issue 16's targets against this run's figures.
fn verdicts(run_time: Duration, import_time: Duration, import_peak: Option<u64>) {
    println!("targets of issue 16 (this machine):");
    println!(
        "  billing run < {} s: {} ({:.2} s)",
        RUN_TARGET.as_secs(),
        verdict(run_time < RUN_TARGET),
        run_time.as_secs_f64()
    );
    println!(
        "  import and matching < {} s: {} ({:.2} s)",
        IMPORT_TARGET.as_secs(),
        verdict(import_time < IMPORT_TARGET),
        import_time.as_secs_f64()
    );
    match import_peak {
        Some(peak) => println!(
            "  import peak memory < {IMPORT_PEAK_TARGET_MB} MB: {} ({peak} MB)",
            verdict(peak < IMPORT_PEAK_TARGET_MB)
        ),
        None => println!(
            "  import peak memory < {IMPORT_PEAK_TARGET_MB} MB: unknown (the kernel refused \
             to reset the peak)"
        ),
    }
}

/// The 1, 5 and 15 minute load averages: other work on the machine skews the figures.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT MET" }
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// How much of a call's time the daemon spent on a CPU; the rest it waited (for the disk,
/// the database server, or the client).
fn cpu_line(daemon: &Daemon, before: f64, elapsed: Duration) -> anyhow::Result<()> {
    let used = daemon.cpu_seconds()? - before;
    println!(
        "  ispd CPU time {used:.2} s ({:.0} % of the call)",
        100.0 * used / elapsed.as_secs_f64()
    );
    Ok(())
}

fn memory_line(daemon: &Daemon, before: u64, peak_reset: bool) -> anyhow::Result<()> {
    println!(
        "  ispd resident memory: {before} MB before, {} MB after, peak {} MB{}",
        daemon.rss_mb()?,
        daemon.peak_mb()?,
        if peak_reset {
            " during the call"
        } else {
            " since start"
        }
    );
    Ok(())
}

/// Imports the statement in one ImportStatement call; when the daemon refuses a message that
/// large, says so and imports it in files under the daemon's limit instead (refused calls do
/// nothing, so this is safe).
async fn import(
    client: &mut PaymentServiceClient<Svc>,
    format: StatementFormat,
    statement: &[Payment],
    booked_on: NaiveDate,
) -> anyhow::Result<Imported> {
    let whole = statement_files(format, statement, booked_on, usize::MAX);
    match import_files(client, format, &whole).await {
        Ok(imported) => Ok(imported),
        Err(status) if status.code() == Code::OutOfRange => {
            println!(
                "  one call with the whole statement ({} bytes, {:.1} MB) is refused: {}",
                whole[0].len(),
                mb(whole[0].len()),
                status.message()
            );
            let files = statement_files(
                format,
                statement,
                booked_on,
                SERVER_MESSAGE_LIMIT - CHUNK_MARGIN,
            );
            println!(
                "  so the bench splits it into {} statements of at most {} bytes, imported \
                 one after the other (the time below is their sum)",
                files.len(),
                SERVER_MESSAGE_LIMIT - CHUNK_MARGIN
            );
            import_files(client, format, &files)
                .await
                .context("ImportStatement")
        }
        Err(status) => Err(status).context("ImportStatement"),
    }
}

async fn import_files(
    client: &mut PaymentServiceClient<Svc>,
    format: StatementFormat,
    files: &[Vec<u8>],
) -> Result<Imported, Status> {
    let mut total = Imported::default();
    for content in files {
        total.bytes += content.len();
        let started = Instant::now();
        // As `ispctl payment import` sends it: a megabyte a message, the daemon reading and
        // recording while the rest is on the way.
        let mut pieces = content
            .chunks(1 << 20)
            .map(|piece| v1::ImportStatementRequest {
                content: piece.to_vec().into(),
                ..v1::ImportStatementRequest::default()
            });
        let mut first = pieces.next().unwrap_or_default();
        first.format = format.name().to_owned();
        if format == StatementFormat::Csv {
            first.mapping = CSV_MAPPING.to_owned();
        }
        let messages: Vec<_> = std::iter::once(first).chain(pieces).collect();
        let answer = client
            .import_statement_stream(tonic::codegen::tokio_stream::iter(messages))
            .await?
            .into_inner();
        total.elapsed += started.elapsed();
        total.calls += 1;
        total.recorded += u64::from(answer.recorded);
        total.duplicates += u64::from(answer.duplicates);
        total.unmatched += u64::from(answer.unmatched);
        for p in &answer.payments {
            total.allocated += p.allocated.parse::<Decimal>().unwrap_or_default();
        }
    }
    Ok(total)
}

const CSV_MAPPING: &str = r#"
delimiter = ";"
has_header = true
date_format = "%Y-%m-%d"
decimal_comma = false
default_currency = "CZK"
[columns]
transaction_id = "ID"
date = "Date"
amount = "Amount"
variable_symbol = "VS"
payer_name = "Name"
"#;

/// The statement as files of at most `limit` bytes each (one file when it fits).
fn statement_files(
    format: StatementFormat,
    statement: &[Payment],
    booked_on: NaiveDate,
    limit: usize,
) -> Vec<Vec<u8>> {
    let (head, tail) = match format {
        StatementFormat::Camt053 => (
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>\n\
                 <GrpHdr><MsgId>BENCH</MsgId><CreDtTm>{booked_on}T05:00:00</CreDtTm></GrpHdr>\n\
                 <Stmt><Id>BENCH</Id><CreDtTm>{booked_on}T05:00:00</CreDtTm>\n\
                 <Acct><Id><IBAN>CZ6508000000192000145399</IBAN></Id><Ccy>CZK</Ccy></Acct>\n"
            ),
            "</Stmt></BkToCstmrStmt></Document>\n",
        ),
        StatementFormat::Csv => ("ID;Date;Amount;VS;Name\n".to_owned(), ""),
    };
    let mut files = Vec::new();
    let mut current = head.clone();
    let mut entries = 0;
    let mut entry = String::new();
    for p in statement {
        entry.clear();
        match format {
            StatementFormat::Camt053 => {
                let _ = writeln!(
                    entry,
                    "<Ntry><Amt Ccy=\"CZK\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>\
                     <Sts>BOOK</Sts><BookgDt><Dt>{booked_on}</Dt></BookgDt>\
                     <AcctSvcrRef>{id}</AcctSvcrRef><NtryDtls><TxDtls>\
                     <Refs><EndToEndId>VS{vs}</EndToEndId></Refs>\
                     <RltdPties><Dbtr><Nm>{payer}</Nm></Dbtr></RltdPties>\
                     <RmtInf><Ustrd>Internet {payer}</Ustrd></RmtInf>\
                     </TxDtls></NtryDtls></Ntry>",
                    amount = p.amount,
                    id = p.bank_id,
                    vs = p.variable_symbol,
                    payer = p.payer,
                );
            }
            StatementFormat::Csv => {
                let _ = writeln!(
                    entry,
                    "{};{booked_on};{};{};{}",
                    p.bank_id, p.amount, p.variable_symbol, p.payer
                );
            }
        }
        if entries > 0 && current.len() + entry.len() + tail.len() > limit {
            current.push_str(tail);
            files.push(std::mem::replace(&mut current, head.clone()).into_bytes());
            entries = 0;
        }
        current.push_str(&entry);
        entries += 1;
    }
    current.push_str(tail);
    files.push(current.into_bytes());
    files
}

/// How long the daemon's own parser takes for the whole statement, for the breakdown.
fn parse_time(
    format: StatementFormat,
    statement: &[Payment],
    booked_on: NaiveDate,
) -> anyhow::Result<Duration> {
    let files = statement_files(format, statement, booked_on, usize::MAX);
    let started = Instant::now();
    let parsed = match format {
        StatementFormat::Camt053 => ispd_billing::bank::parse_camt053(&files[0])?,
        StatementFormat::Csv => {
            let mapping: ispd_billing::bank::CsvMapping = toml::from_str(CSV_MAPPING)?;
            ispd_billing::bank::parse_csv(std::str::from_utf8(&files[0])?, &mapping)?
        }
    };
    let elapsed = started.elapsed();
    anyhow::ensure!(
        parsed.incoming().count() == statement.len(),
        "the statement does not parse into one payment per invoice"
    );
    Ok(elapsed)
}

/// (client number, client name, gross) of every invoice, read from the daemon's database.
async fn issued_invoices(url: &str) -> anyhow::Result<Vec<(String, String, String)>> {
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT c.number, c.name, i.gross_minor FROM invoice i
         JOIN client c ON c.id = i.client_id ORDER BY i.id",
    )
    .fetch_all(&pool)
    .await?;
    pool.close().await;
    Ok(rows
        .into_iter()
        .map(|(number, name, gross)| {
            let gross = ispd_billing::money::from_minor_units(gross).to_string();
            (number, name, gross)
        })
        .collect())
}

/// (paid invoices, all invoices), read from the daemon's database beside it.
async fn paid_invoices(url: &str) -> anyhow::Result<(i64, i64)> {
    let url = if url.starts_with("sqlite:") {
        format!("{url}?mode=ro")
    } else {
        url.to_owned()
    };
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await?;
    let counts: (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN state = 'paid' THEN 1 ELSE 0 END), 0), COUNT(*)
         FROM invoice",
    )
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payments(n: usize) -> Vec<Payment> {
        (1..=n)
            .map(|i| Payment {
                bank_id: format!("BENCH{i:09}"),
                variable_symbol: i.to_string(),
                amount: "499.00".into(),
                payer: format!("Client {i}"),
            })
            .collect()
    }

    /// Every file under the limit, each a statement the daemon's parsers accept, together
    /// holding every payment once with its variable symbol.
    #[test]
    fn statements_split_under_the_limit_and_parse() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let statement = payments(50);
        let mapping: ispd_billing::bank::CsvMapping = toml::from_str(CSV_MAPPING).unwrap();
        for format in [StatementFormat::Camt053, StatementFormat::Csv] {
            assert_eq!(
                statement_files(format, &statement, day, usize::MAX).len(),
                1
            );
            let files = statement_files(format, &statement, day, 2_000);
            assert!(files.len() > 1, "{format:?} was not split");
            let mut symbols = Vec::new();
            for file in &files {
                assert!(file.len() <= 2_000, "{format:?}: {} bytes", file.len());
                let parsed = match format {
                    StatementFormat::Camt053 => ispd_billing::bank::parse_camt053(file),
                    StatementFormat::Csv => {
                        ispd_billing::bank::parse_csv(std::str::from_utf8(file).unwrap(), &mapping)
                    }
                }
                .unwrap();
                for line in parsed.incoming() {
                    assert_eq!(line.amount, Decimal::new(49_900, 2));
                    assert_eq!(line.booked_on, day);
                    symbols.push(line.variable_symbol.clone().unwrap());
                }
            }
            let expected: Vec<String> = (1..=50).map(|i| i.to_string()).collect();
            assert_eq!(symbols, expected, "{format:?}");
        }
    }
}
