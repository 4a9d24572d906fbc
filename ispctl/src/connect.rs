//! Finding the daemon and the admin token, and the authenticated gRPC channel.
//!
//! Discovery follows what `ispd` itself writes into its state directory (`admin.token` and
//! `ports.json`), so that on the daemon's own host `ispctl` works with no flags at all, and a
//! developer running ispd from a checkout (state in `./ispd-data`) gets the same.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use ispd_admin_proto::v1::audit_service_client::AuditServiceClient;
use ispd_admin_proto::v1::billing_service_client::BillingServiceClient;
use ispd_admin_proto::v1::charge_service_client::ChargeServiceClient;
use ispd_admin_proto::v1::client_service_client::ClientServiceClient;
use ispd_admin_proto::v1::code_list_service_client::CodeListServiceClient;
use ispd_admin_proto::v1::discount_service_client::DiscountServiceClient;
use ispd_admin_proto::v1::dunning_service_client::DunningServiceClient;
use ispd_admin_proto::v1::invoice_group_service_client::InvoiceGroupServiceClient;
use ispd_admin_proto::v1::login_service_client::LoginServiceClient;
use ispd_admin_proto::v1::nas_service_client::NasServiceClient;
use ispd_admin_proto::v1::payment_service_client::PaymentServiceClient;
use ispd_admin_proto::v1::session_service_client::SessionServiceClient;
use ispd_admin_proto::v1::subscription_service_client::SubscriptionServiceClient;
use ispd_admin_proto::v1::tariff_service_client::TariffServiceClient;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::errors::causes;

const TOKEN_FILE: &str = "admin.token";
const PORTS_FILE: &str = "ports.json";
const LOCAL_STATE_DIR: &str = "ispd-data";
const SYSTEM_STATE_DIR: &str = "/var/lib/ispd";
const DEFAULT_SERVER: &str = "http://127.0.0.1:50051";

/// Connection options; global so they may come before or after the subcommand.
#[derive(Args, Debug)]
pub struct Global {
    /// Admin API address, e.g. http://127.0.0.1:50051 [default: the "admin" entry of
    /// <state dir>/ports.json, else http://127.0.0.1:50051]
    #[arg(long, global = true, env = "ISPD_SERVER", value_name = "URL")]
    pub server: Option<String>,

    /// File holding the admin token, used when ISPD_TOKEN is unset [default: <state
    /// dir>/admin.token]
    #[arg(long, global = true, value_name = "PATH")]
    pub token_file: Option<PathBuf>,

    /// ispd's state directory, where the daemon writes admin.token and ports.json [default:
    /// ./ispd-data if it holds admin.token, else /var/lib/ispd]
    #[arg(long, global = true, env = "ISPD_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// PEM CA certificate that signed the admin API's TLS certificate (an https:// server)
    #[arg(long, global = true, env = "ISPD_CA", value_name = "PATH")]
    pub ca: Option<PathBuf>,

    /// PEM client certificate, for a server that requires one ([admin] tls_client_ca)
    #[arg(
        long,
        global = true,
        env = "ISPD_CERT",
        value_name = "PATH",
        requires = "key"
    )]
    pub cert: Option<PathBuf>,

    /// PEM private key of --cert
    #[arg(
        long,
        global = true,
        env = "ISPD_KEY",
        value_name = "PATH",
        requires = "cert"
    )]
    pub key: Option<PathBuf>,
}

/// The TLS files ispctl was given; read when it connects.
#[derive(Default)]
struct TlsFiles {
    ca: Option<PathBuf>,
    identity: Option<(PathBuf, PathBuf)>,
}

/// Where to connect and with which credentials, plus where each came from, so that errors can
/// say what was tried. Deliberately not `Debug`: it holds the token.
pub struct Target {
    server: String,
    server_source: String,
    token: Token,
    tls: TlsFiles,
}

enum Token {
    Found {
        header: MetadataValue<Ascii>,
        source: String,
    },
    Missing {
        looked: String,
    },
}

/// Statement imports and billing runs can be large (100,000 payments or documents).
const LARGE: usize = 256 * 1024 * 1024;

impl Target {
    /// Resolves server and token as documented in `ispctl --help`. Fails only on problems the
    /// operator asked for explicitly (an unreadable `--token-file`, a broken ports.json); a
    /// missing default token is left for the server to refuse, with a hint then.
    pub fn discover(global: &Global) -> Result<Self> {
        let state_dir = match &global.state_dir {
            Some(dir) => dir.clone(),
            None if Path::new(LOCAL_STATE_DIR).join(TOKEN_FILE).is_file() => {
                PathBuf::from(LOCAL_STATE_DIR)
            }
            None => PathBuf::from(SYSTEM_STATE_DIR),
        };
        let (server, server_source) = discover_server(global, &state_dir)?;
        let token = discover_token(global, &state_dir)?;
        Ok(Self {
            server,
            server_source,
            token,
            tls: TlsFiles {
                ca: global.ca.clone(),
                identity: global.cert.clone().zip(global.key.clone()),
            },
        })
    }

    /// Whether the daemon answers on this host's loopback: then a file it names (the seal
    /// key of a backup) is a file here too.
    pub fn is_local(&self) -> bool {
        let authority = self
            .server
            .split_once("://")
            .map_or(self.server.as_str(), |(_, rest)| rest);
        let authority = authority.split('/').next().unwrap_or_default();
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => authority
                .rsplit_once(':')
                .map_or(authority, |(host, _)| host),
        };
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// Whether the server is spoken to over TLS.
    pub fn is_tls(&self) -> bool {
        self.server.starts_with("https://")
    }

    /// The URL tried, with where it came from: `http://… (from --server)`.
    pub fn server_desc(&self) -> String {
        format!("{} ({})", self.server, self.server_source)
    }

    /// Advice for an UNAUTHENTICATED answer; never contains the token itself.
    pub fn token_hint(&self) -> String {
        match &self.token {
            Token::Found { source, .. } => format!(
                "the server rejected the token from {source}; check that it is the admin.token \
                 of the ispd instance at {}",
                self.server
            ),
            Token::Missing { looked } => format!(
                "no admin token found ({looked}); set ISPD_TOKEN, pass --token-file, or point \
                 --state-dir at ispd's state directory"
            ),
        }
    }

    async fn connect(&self) -> Result<Channel> {
        let endpoint = Endpoint::from_shared(self.server.clone())
            .map_err(|e| {
                anyhow!(
                    "invalid server address {}: {}",
                    self.server_desc(),
                    causes(&e)
                )
            })?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60));
        let endpoint = match self.tls_config()? {
            Some(tls) => endpoint
                .tls_config(tls)
                .map_err(|e| anyhow!("TLS for {}: {}", self.server_desc(), causes(&e)))?,
            None => endpoint,
        };
        endpoint.connect().await.map_err(|e| {
            anyhow!(
                "cannot connect to ispd at {}: {}\nhint: check that ispd is running and that its \
                 admin API listens there (see ports.json in its state directory, or pass --server)",
                self.server_desc(),
                causes(&e)
            )
        })
    }
}

impl Target {
    /// The client side of TLS for an https:// server: the CA to trust (required: ispctl trusts
    /// no system roots) and the client certificate when given.
    fn tls_config(&self) -> Result<Option<tonic::transport::ClientTlsConfig>> {
        use tonic::transport::{Certificate, ClientTlsConfig, Identity};
        let read = |path: &Path, what: &str| {
            std::fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))
        };
        if !self.server.starts_with("https://") {
            if self.tls.ca.is_some() || self.tls.identity.is_some() {
                bail!(
                    "--ca, --cert and --key are for an https:// server; {} is plain",
                    self.server_desc()
                );
            }
            return Ok(None);
        }
        let Some(ca) = &self.tls.ca else {
            bail!(
                "{} is an https:// address: pass --ca FILE (or ISPD_CA), the CA certificate \
                 that signed the admin API's certificate (for a plain admin API, use http://)",
                self.server_desc()
            );
        };
        let mut tls =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca, "--ca")?));
        if let Some((cert, key)) = &self.tls.identity {
            tls = tls.identity(Identity::from_pem(
                read(cert, "--cert")?,
                read(key, "--key")?,
            ));
        }
        Ok(Some(tls))
    }
}

/// Adds a scheme when the operator (or ports.json) gave a bare `host:port`, and turns a
/// wildcard listen address into loopback, which is where a wildcard listener is reachable.
fn normalize_server(addr: &str) -> String {
    let addr = addr.trim();
    if addr.contains("://") {
        return addr.to_owned();
    }
    let addr = if let Some(port) = addr.strip_prefix("0.0.0.0:") {
        format!("127.0.0.1:{port}")
    } else if let Some(port) = addr.strip_prefix("[::]:") {
        format!("[::1]:{port}")
    } else {
        addr.to_owned()
    };
    format!("http://{addr}")
}

fn discover_server(global: &Global, state_dir: &Path) -> Result<(String, String)> {
    if let Some(server) = global
        .server
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        return Ok((
            normalize_server(server),
            "from --server/ISPD_SERVER".to_owned(),
        ));
    }
    let ports = state_dir.join(PORTS_FILE);
    match std::fs::read_to_string(&ports) {
        Ok(text) => {
            let parsed: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("cannot parse {}; pass --server", ports.display()))?;
            if let Some(admin) = parsed
                .get("admin")
                .and_then(|v| v.as_str())
                .filter(|s| !s.trim().is_empty())
            {
                let mut url = normalize_server(admin);
                // A daemon serving TLS says so; its bare address then takes https.
                if parsed.get("admin_scheme").and_then(|v| v.as_str()) == Some("https") {
                    url = url.replacen("http://", "https://", 1);
                }
                return Ok((url, format!("from {}", ports.display())));
            }
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => bail!("cannot read {}: {e}; pass --server", ports.display()),
    }
    Ok((DEFAULT_SERVER.to_owned(), "the default".to_owned()))
}

fn discover_token(global: &Global, state_dir: &Path) -> Result<Token> {
    if let Ok(token) = std::env::var("ISPD_TOKEN")
        && !token.trim().is_empty()
    {
        return bearer(token.trim(), "ISPD_TOKEN");
    }
    if let Some(path) = &global.token_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read token file {} (--token-file)", path.display()))?;
        if text.trim().is_empty() {
            bail!("token file {} is empty", path.display());
        }
        return bearer(text.trim(), &path.display().to_string());
    }
    let path = state_dir.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => bearer(text.trim(), &path.display().to_string()),
        Ok(_) => Ok(Token::Missing {
            looked: format!("ISPD_TOKEN is unset and {} is empty", path.display()),
        }),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Token::Missing {
            looked: format!("ISPD_TOKEN is unset and {} does not exist", path.display()),
        }),
        Err(e) => Ok(Token::Missing {
            looked: format!(
                "ISPD_TOKEN is unset and {} cannot be read: {e}",
                path.display()
            ),
        }),
    }
}

fn bearer(token: &str, source: &str) -> Result<Token> {
    let mut header = MetadataValue::try_from(format!("Bearer {token}")).map_err(|_| {
        anyhow!("the token from {source} contains characters that cannot go into a gRPC header")
    })?;
    // Keeps the value out of any debug rendering of the request headers.
    header.set_sensitive(true);
    Ok(Token::Found {
        header,
        source: source.to_owned(),
    })
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Auth(Option<MetadataValue<Ascii>>);

impl Interceptor for Auth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(header) = &self.0 {
            req.metadata_mut().insert("authorization", header.clone());
        }
        Ok(req)
    }
}

pub type Svc = InterceptedService<Channel, Auth>;

/// Hands out service clients over one channel, connecting on first use so that commands can
/// finish their local checks (reading a secret file, say) before any network error appears.
pub struct Api<'t> {
    target: &'t Target,
    channel: Option<Channel>,
}

impl<'t> Api<'t> {
    pub fn new(target: &'t Target) -> Self {
        Self {
            target,
            channel: None,
        }
    }

    /// Where the commands go.
    pub fn target(&self) -> &Target {
        self.target
    }

    pub(crate) async fn service(&mut self) -> Result<Svc> {
        let channel = match &self.channel {
            Some(channel) => channel.clone(),
            None => {
                let channel = self.target.connect().await?;
                self.channel = Some(channel.clone());
                channel
            }
        };
        let header = match &self.target.token {
            Token::Found { header, .. } => Some(header.clone()),
            Token::Missing { .. } => None,
        };
        Ok(InterceptedService::new(channel, Auth(header)))
    }

    pub async fn clients(&mut self) -> Result<ClientServiceClient<Svc>> {
        Ok(ClientServiceClient::new(self.service().await?))
    }

    pub async fn tariffs(&mut self) -> Result<TariffServiceClient<Svc>> {
        Ok(TariffServiceClient::new(self.service().await?))
    }

    pub async fn subscriptions(&mut self) -> Result<SubscriptionServiceClient<Svc>> {
        Ok(SubscriptionServiceClient::new(self.service().await?))
    }

    pub async fn logins(&mut self) -> Result<LoginServiceClient<Svc>> {
        Ok(LoginServiceClient::new(self.service().await?))
    }

    pub async fn nas(&mut self) -> Result<NasServiceClient<Svc>> {
        Ok(NasServiceClient::new(self.service().await?))
    }

    pub async fn codes(&mut self) -> Result<CodeListServiceClient<Svc>> {
        Ok(CodeListServiceClient::new(self.service().await?))
    }

    pub async fn audit(&mut self) -> Result<AuditServiceClient<Svc>> {
        Ok(AuditServiceClient::new(self.service().await?))
    }

    pub async fn sessions(&mut self) -> Result<SessionServiceClient<Svc>> {
        Ok(SessionServiceClient::new(self.service().await?))
    }

    pub async fn billing(&mut self) -> Result<BillingServiceClient<Svc>> {
        Ok(BillingServiceClient::new(self.service().await?).max_decoding_message_size(LARGE))
    }

    pub async fn payments(&mut self) -> Result<PaymentServiceClient<Svc>> {
        Ok(PaymentServiceClient::new(self.service().await?)
            .max_decoding_message_size(LARGE)
            .max_encoding_message_size(LARGE))
    }

    pub async fn dunning(&mut self) -> Result<DunningServiceClient<Svc>> {
        Ok(DunningServiceClient::new(self.service().await?).max_decoding_message_size(LARGE))
    }

    pub async fn invoice_groups(&mut self) -> Result<InvoiceGroupServiceClient<Svc>> {
        Ok(InvoiceGroupServiceClient::new(self.service().await?))
    }

    pub async fn charges(&mut self) -> Result<ChargeServiceClient<Svc>> {
        Ok(ChargeServiceClient::new(self.service().await?))
    }

    pub async fn discounts(&mut self) -> Result<DiscountServiceClient<Svc>> {
        Ok(DiscountServiceClient::new(self.service().await?))
    }
}

#[cfg(test)]
mod tests {
    use super::{Target, Token, normalize_server};

    #[test]
    fn loopback_servers_are_local() {
        let target = |server: &str| Target {
            server: normalize_server(server),
            server_source: String::new(),
            token: Token::Missing {
                looked: String::new(),
            },
            tls: super::TlsFiles::default(),
        };
        for local in [
            "127.0.0.1:50051",
            "http://[::1]:1",
            "http://localhost:9",
            "127.9.9.9:1",
        ] {
            assert!(target(local).is_local(), "{local}");
        }
        for remote in [
            "192.0.2.1:50051",
            "https://isp.example:443",
            "http://[2001:db8::1]:1",
        ] {
            assert!(!target(remote).is_local(), "{remote}");
        }
    }

    #[test]
    fn bare_addresses_get_a_scheme_and_loopback() {
        assert_eq!(normalize_server("127.0.0.1:5"), "http://127.0.0.1:5");
        assert_eq!(normalize_server("0.0.0.0:5"), "http://127.0.0.1:5");
        assert_eq!(normalize_server("[::]:5"), "http://[::1]:5");
        assert_eq!(
            normalize_server("https://isp.example:5"),
            "https://isp.example:5"
        );
    }
}
