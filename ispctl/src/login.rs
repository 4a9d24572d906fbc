//! `ispctl login …`: network access credentials answered by RADIUS.
//!
//! Passwords are never returned by the server except once: when it generates one (on `add`
//! without `--password`, and on `reset-password`). That is the only time ispctl prints one.

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use ispd_admin_proto::v1::login_service_client::LoginServiceClient;
use ispd_admin_proto::v1::{
    AuthType, CreateLoginRequest, DeleteLoginRequest, GetLoginRequest, ListLoginsRequest, Login,
    LoginView, RadiusAttribute, ResetLoginPasswordRequest, SetTemporarySpeedRequest,
    TemporarySpeed, UpdateLoginRequest,
};
use serde_json::json;

use crate::args::{ProtoEnum, assign, ensure_changed, enum_name};
use crate::connect::{Api, Svc};
use crate::message;
use crate::output::{Out, Record, Table, yes_no};
use crate::paging::{self, PageArgs};

type Logins = LoginServiceClient<Svc>;

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Create a login for a subscription. Without --password the server generates one,
    /// printed this once only; without --username it names it by `[logins] username_pattern`.
    Add(Box<AddArgs>),
    /// Print one login, with what RADIUS gives it now (full speed, walled garden or refused,
    /// and the speed in force), its online sessions and its last authentication.
    Show {
        /// Username.
        username: String,
    },
    /// List logins, optionally of one client or subscription.
    List {
        /// Only this client's logins (client number).
        #[arg(long, value_name = "NUMBER")]
        client: Option<String>,
        /// Only the logins of this subscription.
        #[arg(long, value_name = "ID")]
        subscription: Option<i64>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Change the given fields of a login and leave the rest (and the password) untouched.
    Edit(Box<EditArgs>),
    /// Delete a login.
    Delete {
        /// Username.
        username: String,
    },
    /// Generate a new password for a login and print it (this once only).
    ResetPassword {
        /// Username.
        username: String,
    },
    /// Push the login's current settings (speed, walled garden, or a Disconnect where it may
    /// no longer be online) to each of its online sessions now, and show each NAS's answer.
    Reload {
        /// Username.
        username: String,
    },
    /// Give a login a speed of its own for a while (net47's temporary speed): its online
    /// sessions get it at once and the tariff's speed back when it ends, by themselves.
    Speed(SpeedArgs),
    /// The authentication log, newest first: each Access-Request's time, NAS, calling
    /// station, method, result and exact reason (wrong password, unknown user, MAC mismatch,
    /// session limit, suspended → walled garden, …). Filters combine.
    AuthLog(crate::auth_log::AuthLogArgs),
}

#[derive(Args, Debug)]
pub struct SpeedArgs {
    /// Username.
    username: String,
    /// Download rate: kbit/s, or with a suffix: 512k, 20M, 1G.
    #[arg(long, value_parser = crate::args::rate, value_name = "RATE", required_unless_present = "clear")]
    down: Option<u64>,
    /// Upload rate.
    #[arg(long, value_parser = crate::args::rate, value_name = "RATE", required_unless_present = "clear")]
    up: Option<u64>,
    /// For how long from now: 90s, 30m, 2h, 3d.
    #[arg(long = "for", value_parser = duration, value_name = "DURATION", conflicts_with = "until", required_unless_present_any = ["until", "clear"])]
    for_: Option<chrono::Duration>,
    /// Until this moment, RFC 3339 (2026-12-24T18:00:00+01:00).
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Take the temporary speed away now.
    #[arg(long, conflicts_with_all = ["down", "up", "for_", "until"])]
    clear: bool,
}

/// `90s`, `30m`, `2h`, `3d`.
fn duration(text: &str) -> Result<chrono::Duration, String> {
    let bad = || format!("expected a duration such as 90s, 30m, 2h or 3d, got {text:?}");
    let text = text.trim();
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| bad())?;
    let d = match unit {
        "s" => chrono::Duration::try_seconds(n),
        "m" => chrono::Duration::try_minutes(n),
        "h" => chrono::Duration::try_hours(n),
        "d" => chrono::Duration::try_days(n),
        _ => None,
    };
    d.filter(|d| *d > chrono::Duration::zero()).ok_or_else(bad)
}

async fn speed(svc: &mut LoginServiceClient<Svc>, a: SpeedArgs, out: Out) -> Result<()> {
    let until = match (a.for_, a.until) {
        (Some(d), _) => chrono::Utc::now()
            .checked_add_signed(d)
            .with_context(|| format!("--for: {} days is past any date", d.num_days()))?
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        (None, Some(until)) => until,
        (None, None) => String::new(),
    };
    let speed = (!a.clear).then(|| TemporarySpeed {
        download_kbps: a.down.unwrap_or(0),
        upload_kbps: a.up.unwrap_or(0),
        until,
    });
    let request = SetTemporarySpeedRequest {
        username: a.username,
        speed,
    };
    out.reply(svc.set_temporary_speed(request).await?, message::record)
}

/// How the login authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuthArg {
    /// PPPoE / PPTP / L2TP / hotspot: username and password.
    Ppp,
    /// DHCP or hotspot MAC authentication: the MAC is the identity.
    Mac,
}

impl ProtoEnum for AuthArg {
    fn to_proto(self) -> i32 {
        (match self {
            Self::Ppp => AuthType::Ppp,
            Self::Mac => AuthType::Mac,
        }) as i32
    }
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// Subscription the login belongs to.
    #[arg(long, value_name = "ID")]
    subscription: i64,
    /// Username [default: from the server's `[logins] username_pattern`, e.g. 1001-1; for
    /// MAC logins the MAC].
    #[arg(long)]
    username: Option<String>,
    /// Password [default: generated by the server and printed once].
    #[arg(long)]
    password: Option<String>,
    #[command(flatten)]
    fields: Fields,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    /// Username of the login to change.
    username: String,
    /// Rename the login.
    #[arg(long, value_name = "USERNAME")]
    new_username: Option<String>,
    /// Set this password (the stored one is kept otherwise).
    #[arg(long, value_name = "PASSWORD")]
    new_password: Option<String>,
    /// Move the login to another subscription.
    #[arg(long, value_name = "ID")]
    subscription: Option<i64>,
    #[command(flatten)]
    fields: Fields,
    /// Allow login from any NAS again.
    #[arg(long, help_heading = "Clearing")]
    clear_nas: bool,
    /// No longer allow login from this NAS; repeatable.
    #[arg(long, value_name = "NAME", help_heading = "Clearing")]
    remove_nas: Vec<String>,
    /// Remove all extra RADIUS attributes.
    #[arg(long, help_heading = "Clearing")]
    clear_attrs: bool,
    /// Remove the extra RADIUS attributes with this name; repeatable.
    #[arg(long, value_name = "NAME", help_heading = "Clearing")]
    remove_attr: Vec<String>,
}

/// Optional fields shared by `add` and `edit`; "" clears a text field. Repeatable flags add to
/// the existing list in `edit`.
#[derive(Args, Debug)]
struct Fields {
    /// Authentication type [server default: ppp].
    #[arg(long)]
    auth: Option<AuthArg>,
    /// MAC address, any common notation (required for --auth mac).
    #[arg(long)]
    mac: Option<String>,
    /// Static IPv4 address [default: from a pool].
    #[arg(long, value_name = "ADDRESS")]
    ipv4: Option<String>,
    /// Static delegated IPv6 prefix, e.g. 2001:db8:1::/56.
    #[arg(long, value_name = "PREFIX")]
    ipv6_prefix: Option<String>,
    /// NAS this login may log in from; repeatable [default: any NAS].
    #[arg(long = "nas", value_name = "NAME")]
    nas: Vec<String>,
    /// Extra RADIUS reply attribute NAME=VALUE, e.g. Mikrotik-Address-List=vip; repeatable.
    #[arg(long = "attr", value_parser = parse_attr, value_name = "NAME=VALUE")]
    attrs: Vec<RadiusAttribute>,
    /// Refuse authentication for this login.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    disabled: Option<bool>,
    /// Free-text note.
    #[arg(long)]
    note: Option<String>,
}

fn parse_attr(s: &str) -> Result<RadiusAttribute, String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok(RadiusAttribute {
            name: name.trim().to_owned(),
            value: value.to_owned(),
        }),
        _ => Err("expected NAME=VALUE, e.g. Mikrotik-Address-List=vip".to_owned()),
    }
}

fn apply(l: &mut Login, f: &Fields) {
    if let Some(auth) = f.auth {
        l.auth_type = auth.to_proto();
    }
    assign(&mut l.mac, &f.mac);
    assign(&mut l.ipv4, &f.ipv4);
    assign(&mut l.ipv6_prefix, &f.ipv6_prefix);
    for nas in &f.nas {
        if !l.nas.contains(nas) {
            l.nas.push(nas.clone());
        }
    }
    l.attributes.extend(f.attrs.iter().cloned());
    if let Some(b) = f.disabled {
        l.disabled = b;
    }
    assign(&mut l.note, &f.note);
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut svc = api.logins().await?;
    match cmd {
        Cmd::Speed(a) => speed(&mut svc, a, out).await,
        Cmd::AuthLog(a) => crate::auth_log::run(&mut svc, a, out).await,
        Cmd::Reload { username } => crate::enforcement::reload(username, api, out).await,
        Cmd::Add(a) => add(&mut svc, *a, out).await,
        Cmd::Show { username } => {
            let request = GetLoginRequest { username };
            out.reply(svc.describe_login(request).await?, view_record)
        }
        Cmd::List {
            client,
            subscription,
            page,
        } => {
            let page = paging::collect(&page, async |page| {
                let request = ListLoginsRequest {
                    page: Some(page),
                    client_number: client.clone().unwrap_or_default(),
                    subscription_id: subscription.unwrap_or(0),
                };
                let resp = svc.list_logins(request).await?.into_inner();
                Ok((resp.logins, resp.next_page_token))
            })
            .await?;
            out.pages(&page, message::record, table)
        }
        Cmd::Edit(e) => edit(&mut svc, *e, out).await,
        Cmd::Delete { username } => {
            let request = DeleteLoginRequest {
                username: username.clone(),
            };
            svc.delete_login(request).await?;
            out.deleted("login", &username)
        }
        Cmd::ResetPassword { username } => {
            let request = ResetLoginPasswordRequest {
                username: username.clone(),
            };
            let password = svc
                .reset_login_password(request)
                .await?
                .into_inner()
                .password;
            out.value(
                &format!("new password for {username} (shown only now): {password}"),
                json!({ "username": username, "password": password }),
            )
        }
    }
}

/// `login add`: the stored login, and the password the server generated, printed this once.
async fn add(svc: &mut Logins, a: AddArgs, out: Out) -> Result<()> {
    let mut login = Login {
        subscription_id: a.subscription,
        username: a.username.unwrap_or_default(),
        ..Login::default()
    };
    apply(&mut login, &a.fields);
    let request = CreateLoginRequest {
        login: Some(login),
        password: a.password.unwrap_or_default(),
    };
    let resp = svc.create_login(request).await?.into_inner();
    let login = resp.login.unwrap_or_default();
    let generated = Some(resp.generated_password).filter(|p| !p.is_empty());
    if out.json {
        out.record(&message::record(&login).opt("generated_password", generated))
    } else {
        out.record(&message::record(&login))?;
        match generated {
            Some(p) => out.line(&format!("generated password (shown only now): {p}")),
            None => Ok(()),
        }
    }
}

async fn edit(svc: &mut Logins, e: EditArgs, out: Out) -> Result<()> {
    let request = GetLoginRequest {
        username: e.username.clone(),
    };
    let read = svc.get_login(request).await?.into_inner();
    let mut login = read.clone();
    assign(&mut login.username, &e.new_username);
    if let Some(id) = e.subscription {
        login.subscription_id = id;
    }
    if e.clear_nas {
        login.nas.clear();
    }
    login.nas.retain(|n| !e.remove_nas.contains(n));
    if e.clear_attrs {
        login.attributes.clear();
    }
    login
        .attributes
        .retain(|a| !e.remove_attr.contains(&a.name));
    apply(&mut login, &e.fields);
    let new_password = e.new_password.unwrap_or_default();
    ensure_changed(login != read || !new_password.is_empty(), "login edit")?;
    let request = UpdateLoginRequest {
        login: Some(login),
        new_password,
    };
    out.reply(svc.update_login(request).await?, message::record)
}

/// A login's message::record, then `now`, `sessions` and `last_auth`.
fn view_record(v: &LoginView) -> Record {
    let now = (!v.answer.is_empty()).then(|| {
        Record::new()
            .str("tariff", &v.tariff)
            .str("access_state", &v.access_state)
            .str("answer", &v.answer)
            .str("refused_reason", &v.refused_reason)
            .num("download_kbps", v.download_kbps)
            .num("upload_kbps", v.upload_kbps)
    });
    message::record(&v.login.clone().unwrap_or_default())
        .opt_nested("now", now)
        .records("sessions", v.sessions.iter().map(message::record).collect())
        .opt_nested("last_auth", v.last_auth.as_ref().map(message::record))
}

fn table(logins: &[Login]) -> Table {
    Table::of(
        [
            "USERNAME",
            "AUTH",
            "CLIENT",
            "SUBSCRIPTION",
            "MAC",
            "IPV4",
            "IPV6_PREFIX",
            "NAS",
            "DISABLED",
        ],
        logins.iter().map(|l| {
            [
                l.username.clone(),
                enum_name::<AuthArg>(l.auth_type),
                l.client_number.clone(),
                l.subscription_id.to_string(),
                l.mac.clone(),
                l.ipv4.clone(),
                l.ipv6_prefix.clone(),
                l.nas.join(","),
                yes_no(l.disabled).to_owned(),
            ]
        }),
    )
}
