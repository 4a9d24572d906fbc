//! A minimal Prometheus text endpoint: liveness, sizes and the RADIUS counters.
//!
//! One request per connection. The connections are bounded (see [`crate::connections`]):
//! a client that connects and sends nothing, or sends its request head slowly, or never
//! reads the answer, holds a slot for at most the idle timeout.

use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::connections::{Conn, Listener};
use crate::radius::RadiusService;
use crate::storage::Store;

/// The most of a request head that is read; the rest is ignored.
const HEAD_LIMIT: usize = 4096;

pub async fn serve(mut listener: Listener, store: Store, radius: Arc<RadiusService>) {
    let started = Instant::now();
    let head_timeout = listener.idle_timeout();
    loop {
        let conn = listener.accept().await;
        let store = store.clone();
        let radius = radius.clone();
        tokio::spawn(async move {
            answer(conn, head_timeout, started, &store, &radius).await;
        });
    }
}

async fn answer(
    mut conn: Conn,
    head_timeout: std::time::Duration,
    started: Instant,
    store: &Store,
    radius: &RadiusService,
) {
    // The whole head within the timeout, not one byte per timeout.
    let Ok(Ok(())) = tokio::time::timeout(head_timeout, read_head(&mut conn)).await else {
        return;
    };
    let busy = conn.handle().busy();
    let clients = store.count_clients().await.unwrap_or(-1);
    let mut body = format!(
        "# HELP ispd_up 1 while the daemon runs.\n# TYPE ispd_up gauge\nispd_up 1\n\
         # HELP ispd_uptime_seconds Seconds since start.\n# TYPE ispd_uptime_seconds gauge\nispd_uptime_seconds {}\n\
         # HELP ispd_clients Client records stored.\n# TYPE ispd_clients gauge\nispd_clients {clients}\n",
        started.elapsed().as_secs()
    );
    body.push_str(&format!(
        "# HELP ispd_access_cache_logins Logins held in the RADIUS access cache.\n# TYPE ispd_access_cache_logins gauge\nispd_access_cache_logins {}\n",
        radius.cached_logins()
    ));
    radius.stats.render(&mut body);
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
