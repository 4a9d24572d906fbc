//! The Prometheus endpoint: liveness, sizes and every counter registered with the `metrics`
//! facade, rendered by `metrics-exporter-prometheus`'s recorder. The HTTP serving is ours
//! (the exporter's listener has no connection limit or head timeout):
//!
//! One request per connection. The connections are bounded (see [`crate::connections`]):
//! a client that connects and sends nothing, or sends its request head slowly, or never
//! reads the answer, holds a slot for at most the idle timeout.

use std::sync::Arc;
use std::time::Instant;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::connections::{Conn, Listener};
use crate::radius::RadiusService;
use crate::storage::Store;

/// The most of a request head that is read; the rest is ignored.
const HEAD_LIMIT: usize = 4096;

/// Installs the process-wide recorder; counters registered after this are rendered by the
/// returned handle. Call once, before anything registers a counter.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| anyhow::anyhow!("cannot install the metrics recorder: {e}"))
}

pub async fn serve(
    mut listener: Listener,
    handle: PrometheusHandle,
    store: Store,
    radius: Arc<RadiusService>,
) {
    let started = Instant::now();
    metrics::describe_gauge!("ispd_up", "1 while the daemon runs.");
    metrics::describe_gauge!("ispd_uptime_seconds", "Seconds since start.");
    metrics::describe_gauge!("ispd_clients", "Client records stored.");
    metrics::describe_gauge!(
        "ispd_access_cache_logins",
        "Logins held in the RADIUS access cache."
    );
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
    let clients = store.count_clients().await.unwrap_or(-1);
    metrics::gauge!("ispd_up").set(1.0);
    metrics::gauge!("ispd_uptime_seconds").set(started.elapsed().as_secs() as f64);
    metrics::gauge!("ispd_clients").set(clients as f64);
    metrics::gauge!("ispd_access_cache_logins").set(radius.cached_logins() as f64);
    handle.run_upkeep();
    let body = handle.render();
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
