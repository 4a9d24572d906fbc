//! The Prometheus endpoint: liveness, sizes and every counter registered with the `metrics`
//! facade, rendered by `metrics-exporter-prometheus`'s recorder. The HTTP serving is ours
//! (the exporter's listener has no connection limit or head timeout):
//!
//! One request per connection. The connections are bounded (see [`crate::connections`]):
//! a client that connects and sends nothing, or sends its request head slowly, or never
//! reads the answer, holds a slot for at most the idle timeout.

use std::sync::Arc;
use std::time::Instant;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::connections::{Conn, Listener};
use crate::radius::RadiusService;
use crate::storage::Store;

/// The most of a request head that is read; the rest is ignored.
const HEAD_LIMIT: usize = 4096;

/// Installs the process-wide recorder; counters registered after this are rendered by the
/// returned handle. Call once, before anything registers a counter. Durations and batch
/// sizes are histograms with fixed buckets (a dashboard draws quantiles from them).
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_records".into()), RECORDS))
        .map_err(|e| anyhow::anyhow!("cannot set the metrics' buckets: {e}"))?;
    let handle = recorder
        .install_recorder()
        .map_err(|e| anyhow::anyhow!("cannot install the metrics recorder: {e}"))?;
    describe();
    Ok(handle)
}

/// Buckets of a duration: 1 ms to 30 s.
const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Buckets of a batch size: 1 to the most one commit takes.
const RECORDS: &[f64] = &[1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0];

/// Every metric set at a scrape or by a rare event, described and registered at start, so a
/// dashboard and the alert rules find them in the first scrape.
fn describe() {
    use metrics::{describe_gauge, describe_histogram, gauge, histogram};
    describe_gauge!("ispd_up", "1 while the daemon runs.");
    describe_gauge!(
        "ispd_build_info",
        "1, labelled with the version and the git commit built (unknown when not given)."
    );
    describe_gauge!(
        "ispd_start_time_seconds",
        "When the daemon started, Unix time."
    );
    describe_gauge!("ispd_uptime_seconds", "Seconds since start.");
    describe_gauge!("ispd_clients", "Client records stored.");
    describe_gauge!(
        "ispd_clients_suspended_for_debt",
        "Clients whose access is restricted for unpaid invoices."
    );
    describe_gauge!("ispd_subscriptions", "Subscriptions by lifecycle state.");
    describe_gauge!("ispd_open_sessions", "Sessions without a Stop, by NAS.");
    describe_gauge!(
        "ispd_access_cache_build_seconds",
        "How long building the RADIUS access cache took at start."
    );
    describe_gauge!(
        "ispd_radius_acct_spool_oldest_timestamp_seconds",
        "Since when the oldest spooled accounting record has waited for the database, Unix time, by writer; 0 with an empty spool."
    );
    describe_gauge!(
        "ispd_radius_acct_queue_depth",
        "Accounting requests waiting for a writer, by writer (sampled at each batch)."
    );
    describe_books();
    describe_gauge!(
        "ispd_access_cache_logins",
        "Logins held in the RADIUS access cache."
    );
    describe_gauge!(
        "ispd_database_connections",
        "Connections of the database pool, by state (in_use, idle)."
    );
    describe_gauge!(
        "ispd_daily_jobs_last_run_timestamp_seconds",
        "When the daily jobs (scheduled changes, activation, billing, dunning) last finished, Unix time; 0 before the first run."
    );
    describe_histogram!(
        "ispd_accounting_commit_seconds",
        "Time to commit one batch of accounting records."
    );
    describe_histogram!(
        "ispd_accounting_batch_records",
        "Accounting records committed together."
    );
    let _registered = histogram!("ispd_accounting_commit_seconds");
    let _registered = histogram!("ispd_accounting_batch_records");
    // PostgreSQL only (the change log), present on SQLite as an empty histogram.
    let _registered = histogram!("ispd_change_log_lag_seconds");
    // The commit comes from the build's environment (`ISPD_GIT_COMMIT=$(git rev-parse --short
    // HEAD) cargo build …`), not a build script: one reading git would rebuild this crate on
    // every commit.
    gauge!(
        "ispd_build_info",
        "version" => env!("CARGO_PKG_VERSION"),
        "commit" => option_env!("ISPD_GIT_COMMIT").unwrap_or("unknown"),
    )
    .set(1.0);
}

/// The books' figures: the billing run, the statement imports, what is owed.
fn describe_books() {
    use metrics::{describe_counter, describe_gauge, gauge};
    describe_gauge!(
        "ispd_billing_last_run_documents",
        "Documents the last daily billing run on this instance issued."
    );
    describe_gauge!(
        "ispd_billing_last_run_seconds",
        "How long the last daily billing run on this instance took."
    );
    describe_gauge!(
        "ispd_receivables_open",
        "Owed on issued documents (unpaid and partly paid invoices, debit notes, opening balances, less unsettled credit notes), by currency."
    );
    describe_gauge!(
        "ispd_payments_last_import",
        "Payments of the last statement import on this instance, by result (matched, unmatched, duplicate)."
    );
    describe_gauge!(
        "ispd_payments_last_import_timestamp_seconds",
        "When this instance last imported a statement, Unix time; 0 before the first."
    );
    describe_counter!(
        "ispd_payments_imported_total",
        "Payments read from statements, by result (matched, unmatched, duplicate)."
    );
    for result in ["matched", "unmatched", "duplicate"] {
        gauge!("ispd_payments_last_import", "result" => result).set(0.0);
        let _registered = metrics::counter!("ispd_payments_imported_total", "result" => result);
    }
    gauge!("ispd_payments_last_import_timestamp_seconds").set(0.0);
}

pub async fn serve(
    mut listener: Listener,
    handle: PrometheusHandle,
    store: Store,
    radius: Arc<RadiusService>,
) {
    let started = Instant::now();
    let started_at = chrono::Utc::now().timestamp() as f64;
    metrics::gauge!("ispd_start_time_seconds").set(started_at);
    let head_timeout = listener.idle_timeout();
    loop {
        let conn = listener.accept().await;
        let store = store.clone();
        let radius = radius.clone();
        let handle = handle.clone();
        tokio::spawn(async move {
            answer(conn, head_timeout, started, &handle, &store, &radius).await;
        });
    }
}

/// The gauges read at a scrape: the process, the cache, and counts from the database (a
/// database that does not answer leaves the last values and `ispd_up` says the process is
/// alive).
async fn scrape(started: Instant, store: &Store, radius: &RadiusService) {
    use metrics::gauge;
    gauge!("ispd_up").set(1.0);
    gauge!("ispd_uptime_seconds").set(started.elapsed().as_secs() as f64);
    gauge!("ispd_access_cache_logins").set(radius.cached_logins() as f64);
    let (open, idle) = store.pool_usage();
    gauge!("ispd_database_connections", "state" => "idle").set(idle as f64);
    gauge!("ispd_database_connections", "state" => "in_use").set(f64::from(open) - idle as f64);
    if let Ok(figures) = store.figures().await {
        gauge!("ispd_clients").set(figures.clients as f64);
        gauge!("ispd_clients_suspended_for_debt").set(figures.clients_suspended_for_debt as f64);
        for (state, count) in figures.subscriptions {
            gauge!("ispd_subscriptions", "state" => state).set(count as f64);
        }
        for (nas, count) in figures.open_sessions {
            gauge!("ispd_open_sessions", "nas" => nas).set(count as f64);
        }
        for (currency, minor) in figures.receivables {
            // A graph's value, never arithmetic on money: the books keep the Decimal.
            let amount = ispd_billing::money::from_minor_units(minor);
            gauge!("ispd_receivables_open", "currency" => currency)
                .set(rust_decimal::prelude::ToPrimitive::to_f64(&amount).unwrap_or(0.0));
        }
    }
    if let Ok(run) = store.last_job_run(crate::jobs::DAILY).await {
        let at = run
            .and_then(|r| chrono::DateTime::parse_from_rfc3339(&r.finished_at).ok())
            .map_or(0.0, |at| at.timestamp() as f64);
        gauge!("ispd_daily_jobs_last_run_timestamp_seconds").set(at);
    }
}

async fn answer(
    mut conn: Conn,
    head_timeout: std::time::Duration,
    started: Instant,
    handle: &PrometheusHandle,
    store: &Store,
    radius: &RadiusService,
) {
    // The whole head within the timeout, not one byte per timeout.
    let Ok(Ok(())) = tokio::time::timeout(head_timeout, read_head(&mut conn)).await else {
        return;
    };
    let busy = conn.handle().busy();
    scrape(started, store, radius).await;
    handle.run_upkeep();
    let mut body = handle.render();
    radius.latency.render(&mut body);
    drop(busy);
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // A client that does not read is cut off by the connection's idle timeout.
    let _ = conn.write_all(response.as_bytes()).await;
    let _ = conn.shutdown().await;
}

/// Reads until the blank line that ends an HTTP request head, the limit, or EOF.
async fn read_head(conn: &mut Conn) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while head.len() < HEAD_LIMIT {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    Ok(())
}
