//! `ispctl nas …`: the devices allowed to talk RADIUS to ispd.
//!
//! The shared secret goes to the server and nowhere else: it is never printed, and the server
//! only ever says whether one is set. Because a secret on the command line ends up in shell
//! history and process listings, `--secret-file` and `ISPD_NAS_SECRET` are offered too.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use ispd_admin_proto::v1::{
    CreateNasRequest, DeleteNasRequest, GetNasRequest, ListNasRequest, Nas, NasVendor,
    UpdateNasRequest,
};

use crate::args::{ProtoEnum, assign, ensure_changed, enum_name};
use crate::connect::Api;
use crate::message;
use crate::output::{Out, Table, yes_no};
use crate::paging::{self, PageArgs};

const SECRET_ENV: &str = "ISPD_NAS_SECRET";

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Register a NAS. The secret comes from --secret, --secret-file or ISPD_NAS_SECRET.
    Add(Box<AddArgs>),
    /// Print one NAS (without its secret).
    Show {
        /// NAS name.
        name: String,
    },
    /// List NAS devices, including those declared in the config file.
    List {
        #[command(flatten)]
        page: PageArgs,
    },
    /// Change the given fields of a NAS; the secret is kept unless a new one is given.
    Edit(Box<EditArgs>),
    /// Delete a NAS (only those added through the API; config entries live in the config).
    Delete {
        /// NAS name.
        name: String,
    },
}

/// Decides which rate-limit attributes RADIUS replies carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VendorArg {
    Generic,
    Mikrotik,
    Cisco,
    Juniper,
    #[value(alias = "accel_ppp")]
    AccelPpp,
}

impl ProtoEnum for VendorArg {
    fn to_proto(self) -> i32 {
        (match self {
            Self::Generic => NasVendor::Generic,
            Self::Mikrotik => NasVendor::Mikrotik,
            Self::Cisco => NasVendor::Cisco,
            Self::Juniper => NasVendor::Juniper,
            Self::AccelPpp => NasVendor::AccelPpp,
        }) as i32
    }
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// Unique NAS name.
    #[arg(long)]
    name: String,
    /// Source IP address of its RADIUS requests.
    #[arg(long, value_name = "IP")]
    address: String,
    /// Shared secret, at least 8 characters (visible in process listings: prefer
    /// --secret-file or ISPD_NAS_SECRET).
    #[arg(long, conflicts_with = "secret_file")]
    secret: Option<String>,
    /// Read the shared secret from this file (trailing newline ignored).
    #[arg(long, value_name = "PATH")]
    secret_file: Option<PathBuf>,
    #[command(flatten)]
    fields: Fields,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    /// Name of the NAS to change.
    name: String,
    /// Rename the NAS.
    #[arg(long, value_name = "NAME")]
    new_name: Option<String>,
    /// Source IP address of its RADIUS requests.
    #[arg(long, value_name = "IP")]
    address: Option<String>,
    /// Set a new shared secret (ISPD_NAS_SECRET is not read here, so that a variable left
    /// over in the environment cannot change a secret by accident).
    #[arg(long, conflicts_with = "secret_file")]
    secret: Option<String>,
    /// Read the new shared secret from this file.
    #[arg(long, value_name = "PATH")]
    secret_file: Option<PathBuf>,
    #[command(flatten)]
    fields: Fields,
}

/// Optional fields shared by `add` and `edit`.
#[derive(Args, Debug)]
struct Fields {
    /// Vendor, which decides the rate-limit attributes [server default: generic].
    #[arg(long)]
    vendor: Option<VendorArg>,
    /// Port for CoA / Disconnect requests [server default: 3799].
    #[arg(long, value_name = "PORT")]
    coa_port: Option<u16>,
    /// Accept Access-Requests without a Message-Authenticator (weakens the BlastRADIUS
    /// protection; only for devices that cannot send one).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    no_require_message_authenticator: Option<bool>,
    /// Accept Proxy-State without a Message-Authenticator (only for an upstream RADIUS
    /// proxy that cannot sign; a NAS never sends Proxy-State).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    no_limit_proxy_state: Option<bool>,
    /// How changes reach online sessions: coa, disconnect or none; "" = the vendor's default
    /// (coa for mikrotik, accel-ppp and cisco, disconnect otherwise).
    #[arg(long, value_name = "MODE", value_parser = ["coa", "disconnect", "none", ""])]
    coa: Option<String>,
    /// Free-text note.
    #[arg(long)]
    note: Option<String>,
}

fn apply(n: &mut Nas, f: &Fields) {
    if let Some(v) = f.vendor {
        n.vendor = v.to_proto();
    }
    if let Some(port) = f.coa_port {
        n.coa_port = u32::from(port);
    }
    if let Some(b) = f.no_require_message_authenticator {
        n.require_message_authenticator = Some(!b);
    }
    if let Some(b) = f.no_limit_proxy_state {
        n.limit_proxy_state = Some(!b);
    }
    assign(&mut n.coa, &f.coa);
    assign(&mut n.note, &f.note);
}

/// Reads a secret file; only line endings are stripped, as spaces may belong to the secret.
/// The secret in `path`, without its line end. A file far longer than any secret is refused
/// here, by the field's rule, before it is read whole and sent (found probing from outside:
/// 100 MB ended in the transport's "message length too large").
fn read_secret(path: &Path) -> Result<String> {
    const READ_AT_MOST: u64 = 4096;
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read secret file {}", path.display()))?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, READ_AT_MOST + 1), &mut text)
        .with_context(|| format!("cannot read secret file {}", path.display()))?;
    if text.len() as u64 > READ_AT_MOST {
        bail!(
            "secret: at most 128 printable characters ({} holds far more)",
            path.display()
        );
    }
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    match cmd {
        Cmd::Add(a) => {
            // The secret first: a missing one fails before any connection is made.
            let secret = match (a.secret, &a.secret_file) {
                (Some(s), _) => s,
                (None, Some(path)) => read_secret(path)?,
                (None, None) => match std::env::var(SECRET_ENV) {
                    Ok(s) if !s.is_empty() => s,
                    _ => bail!(
                        "a shared secret is required: pass --secret-file, --secret or set {SECRET_ENV}"
                    ),
                },
            };
            let mut nas = Nas {
                name: a.name,
                address: a.address,
                ..Nas::default()
            };
            apply(&mut nas, &a.fields);
            let request = CreateNasRequest {
                nas: Some(nas),
                secret,
            };
            out.reply(api.nas().await?.create_nas(request).await?, message::record)
        }
        Cmd::Show { name } => {
            let request = GetNasRequest { name };
            out.reply(api.nas().await?.get_nas(request).await?, message::record)
        }
        Cmd::List { page } => {
            let mut svc = api.nas().await?;
            let page = paging::collect(&page, async |page| {
                let request = ListNasRequest { page: Some(page) };
                let resp = svc.list_nas(request).await?.into_inner();
                Ok((resp.nas, resp.next_page_token))
            })
            .await?;
            out.pages(&page, message::record, table)
        }
        Cmd::Edit(e) => edit(*e, api, out).await,
        Cmd::Delete { name } => {
            let request = DeleteNasRequest { name: name.clone() };
            api.nas().await?.delete_nas(request).await?;
            out.deleted("nas", &name)
        }
    }
}

async fn edit(e: EditArgs, api: &mut Api<'_>, out: Out) -> Result<()> {
    let new_secret = match (e.secret, &e.secret_file) {
        (Some(s), _) => s,
        (None, Some(path)) => read_secret(path)?,
        (None, None) => String::new(),
    };
    let mut svc = api.nas().await?;
    let request = GetNasRequest {
        name: e.name.clone(),
    };
    let read = svc.get_nas(request).await?.into_inner();
    let mut nas = read.clone();
    assign(&mut nas.name, &e.new_name);
    assign(&mut nas.address, &e.address);
    apply(&mut nas, &e.fields);
    ensure_changed(nas != read || !new_secret.is_empty(), "nas edit")?;
    let request = UpdateNasRequest {
        nas: Some(nas),
        new_secret,
    };
    out.reply(svc.update_nas(request).await?, message::record)
}

fn table(list: &[Nas]) -> Table {
    Table::of(
        [
            "NAME", "ADDRESS", "VENDOR", "COA_PORT", "MSG_AUTH", "SECRET", "SOURCE",
        ],
        list.iter().map(|n| {
            let coa_port = if n.coa_port == 0 {
                "3799".to_owned()
            } else {
                n.coa_port.to_string()
            };
            [
                n.name.clone(),
                n.address.clone(),
                enum_name::<VendorArg>(n.vendor),
                coa_port,
                yes_no(n.require_message_authenticator.unwrap_or(true)).to_owned(),
                (if n.secret_set { "set" } else { "missing" }).to_owned(),
                n.source.clone(),
            ]
        }),
    )
}
