//! A minimal Prometheus endpoint: enough for "is it up, how big is it" until the RADIUS
//! counters arrive with the RADIUS server.

use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::storage::Store;

pub async fn serve(listener: TcpListener, store: Store) {
    let started = Instant::now();
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let store = store.clone();
        tokio::spawn(async move {
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request).await;
            let clients = store.count_clients().await.unwrap_or(-1);
            let body = format!(
                "# HELP ispd_up 1 while the daemon runs.\n# TYPE ispd_up gauge\nispd_up 1\n\
                 # HELP ispd_uptime_seconds Seconds since start.\n# TYPE ispd_uptime_seconds gauge\nispd_uptime_seconds {}\n\
                 # HELP ispd_clients Client records stored.\n# TYPE ispd_clients gauge\nispd_clients {clients}\n",
                started.elapsed().as_secs()
            );
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        });
    }
}
