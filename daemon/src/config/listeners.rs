//! `[admin]` and `[metrics]`: the two TCP listeners besides RADIUS, each bounded in
//! connections and idle time.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::bail;
use serde::Deserialize;

use crate::connections::Limits;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    #[serde(default = "default_admin_listen")]
    pub listen: SocketAddr,
    /// Connections open at once; at the limit the longest-idle one is closed.
    #[serde(default = "default_admin_max_connections")]
    pub max_connections: usize,
    /// Seconds a connection may stay idle (no call, no bytes) before it is closed.
    #[serde(default = "default_admin_idle_timeout")]
    pub idle_timeout: u64,
    /// PEM certificate chain the admin API serves TLS with (with `tls_key`); re-read on
    /// SIGHUP. Required when `listen` is not a loopback address.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificates: when set, a client must present a certificate one of them signed.
    pub tls_client_ca: Option<PathBuf>,
}

impl AdminConfig {
    /// Whether the admin API speaks TLS.
    pub fn tls(&self) -> bool {
        self.tls_cert.is_some()
    }

    pub(super) fn validate(&self) -> anyhow::Result<()> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => bail!("admin.tls_key: required with admin.tls_cert"),
            (None, Some(_)) => bail!("admin.tls_cert: required with admin.tls_key"),
            _ => {}
        }
        if self.tls_client_ca.is_some() && !self.tls() {
            bail!(
                "admin.tls_client_ca: needs admin.tls_cert and admin.tls_key (client certificates are checked inside TLS)"
            );
        }
        if !self.listen.ip().is_loopback() && !self.tls() {
            bail!(
                "admin.listen: {} is not a loopback address, and the admin API leaves this host only over TLS: set admin.tls_cert and admin.tls_key (and admin.tls_client_ca to require client certificates), or listen on 127.0.0.1",
                self.listen
            );
        }
        Ok(())
    }
}

fn default_admin_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 50051))
}

fn default_admin_max_connections() -> usize {
    256
}

fn default_admin_idle_timeout() -> u64 {
    120
}

impl Default for AdminConfig {
    #[allow(clippy::expect_used, reason = "the defaults are the empty table's")]
    fn default() -> Self {
        toml::from_str("").expect("an empty [admin] table is valid")
    }
}

impl AdminConfig {
    pub fn limits(&self) -> Limits {
        limits(self.max_connections, self.idle_timeout)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Prometheus endpoint; unset = no endpoint.
    pub listen: Option<SocketAddr>,
    /// Connections open at once; at the limit the longest-idle one is closed.
    #[serde(default = "default_metrics_max_connections")]
    pub max_connections: usize,
    /// Seconds a client has to send its request (and a connection may stay idle).
    #[serde(default = "default_metrics_idle_timeout")]
    pub idle_timeout: u64,
}

fn default_metrics_max_connections() -> usize {
    16
}

fn default_metrics_idle_timeout() -> u64 {
    10
}

impl Default for MetricsConfig {
    #[allow(clippy::expect_used, reason = "the defaults are the empty table's")]
    fn default() -> Self {
        toml::from_str("").expect("an empty [metrics] table is valid")
    }
}

impl MetricsConfig {
    pub fn limits(&self) -> Limits {
        limits(self.max_connections, self.idle_timeout)
    }
}

/// A listener's bounds as its table states them (idle time in seconds).
fn limits(max_connections: usize, idle_timeout: u64) -> Limits {
    Limits {
        max_connections,
        idle_timeout: std::time::Duration::from_secs(idle_timeout),
    }
}
