//! A minimal Prometheus text endpoint: liveness, sizes and the RADIUS counters.

use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use std::sync::Arc;

use crate::radius::RadiusService;
use crate::storage::Store;

pub async fn serve(listener: TcpListener, store: Store, radius: Arc<RadiusService>) {
    let started = Instant::now();
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let store = store.clone();
        let radius = radius.clone();
        tokio::spawn(async move {
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request).await;
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
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        });
    }
}
