//! TLS for the admin API: rustls (on ring) through tokio-rustls, under our own bounded
//! listener ([`crate::connections`]) rather than tonic's, so that a renewed certificate is
//! served after a SIGHUP without a restart, and a client that never finishes its handshake
//! holds a connection slot for at most the idle timeout.
//!
//! `[admin] tls_cert` and `tls_key` turn it on; with `tls_client_ca` every client must also
//! present a certificate that CA signed (ispctl's `--cert`/`--key`), on top of its token. The
//! config refuses an admin listener beyond loopback without TLS: the token is a bearer secret
//! and must not cross a network in clear.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use anyhow::{Context as _, bail};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::AdminConfig;
use crate::connections::{Conn, ConnHandle, Listener};
use crate::live::Live;

/// The server side of TLS as `[admin]` describes it; `None` when TLS is off. Reads the files,
/// so it runs at start, in `check-config` and at each reload.
pub fn server_config(admin: &AdminConfig) -> anyhow::Result<Option<ServerConfig>> {
    let (Some(cert), Some(key)) = (&admin.tls_cert, &admin.tls_key) else {
        return Ok(None);
    };
    let chain = certificates(cert, "admin.tls_cert")?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        anyhow::anyhow!(
            "admin.tls_key {}: no private key could be read ({e})",
            key.display()
        )
    })?;
    #[allow(
        deprecated,
        reason = "ring lacks only the post-quantum key exchange; aws-lc-rs would add a cmake build \
                  of a C library to every build, and tonic's client side (ispctl) is on ring too"
    )]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("admin TLS: the protocol versions")?;
    let builder = match &admin.tls_client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in certificates(ca, "admin.tls_client_ca")? {
                roots
                    .add(c)
                    .with_context(|| format!("admin.tls_client_ca {}", ca.display()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .with_context(|| format!("admin.tls_client_ca {}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .context("admin.tls_key does not belong to the certificate in admin.tls_cert")?;
    // gRPC is HTTP/2 only.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Some(config))
}

fn certificates(path: &Path, key: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let found = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("{key} {}: {e}", path.display()))?;
    if found.is_empty() {
        bail!("{key} {}: no PEM certificate in the file", path.display());
    }
    Ok(found)
}

/// An accepted admin connection, in clear (loopback without TLS) or after the handshake.
pub enum AdminConn {
    Plain(Conn),
    Tls(Box<TlsStream<Conn>>),
}

/// The admin connections as a stream for tonic's `serve_with_incoming`. With TLS each
/// handshake runs in its own task, bounded by the idle timeout, so a slow or silent client
/// never holds up the next one; a failed handshake is logged at debug and counted.
pub fn incoming(
    mut listener: Listener,
    tls: Option<Arc<Live<ServerConfig>>>,
) -> tokio_stream::wrappers::ReceiverStream<io::Result<AdminConn>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let handshake_timeout = listener.idle_timeout();
    tokio::spawn(async move {
        loop {
            let conn = tokio::select! {
                conn = listener.accept() => conn,
                () = tx.closed() => return,
            };
            let Some(tls) = &tls else {
                if tx.send(Ok(AdminConn::Plain(conn))).await.is_err() {
                    return;
                }
                continue;
            };
            let acceptor = TlsAcceptor::from(tls.load());
            let tx = tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(handshake_timeout, acceptor.accept(conn)).await {
                    Ok(Ok(stream)) => {
                        let _ = tx.send(Ok(AdminConn::Tls(Box::new(stream)))).await;
                    }
                    Ok(Err(e)) => {
                        metrics::counter!("ispd_admin_tls_handshake_failures_total").increment(1);
                        tracing::debug!(error = %e, "admin TLS handshake failed");
                    }
                    Err(_) => {
                        metrics::counter!("ispd_admin_tls_handshake_failures_total").increment(1);
                        tracing::debug!("admin TLS handshake timed out");
                    }
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

impl AsyncRead for AdminConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            AdminConn::Plain(c) => Pin::new(c).poll_read(cx, buf),
            AdminConn::Tls(c) => Pin::new(c.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for AdminConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            AdminConn::Plain(c) => Pin::new(c).poll_write(cx, buf),
            AdminConn::Tls(c) => Pin::new(c.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            AdminConn::Plain(c) => Pin::new(c).poll_flush(cx),
            AdminConn::Tls(c) => Pin::new(c.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            AdminConn::Plain(c) => Pin::new(c).poll_shutdown(cx),
            AdminConn::Tls(c) => Pin::new(c.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            AdminConn::Plain(c) => Pin::new(c).poll_write_vectored(cx, bufs),
            AdminConn::Tls(c) => Pin::new(c.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            AdminConn::Plain(c) => c.is_write_vectored(),
            AdminConn::Tls(c) => c.is_write_vectored(),
        }
    }
}

/// The admin server marks the connection busy while it serves a call, TLS or not.
impl tonic::transport::server::Connected for AdminConn {
    type ConnectInfo = ConnHandle;

    fn connect_info(&self) -> ConnHandle {
        match self {
            AdminConn::Plain(c) => c.handle(),
            AdminConn::Tls(c) => c.get_ref().0.handle(),
        }
    }
}
