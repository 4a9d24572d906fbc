//! `ispctl login auth-log [LOGIN]`: the authentication log, the support desk's answer to
//! "why can't this subscriber connect?".

use anyhow::Result;
use clap::{Args, ValueEnum};
use ispd_admin_proto::v1::login_service_client::LoginServiceClient;
use ispd_admin_proto::v1::{AuthAttempt, ListAuthAttemptsRequest};

use crate::connect::Svc;
use crate::message;
use crate::output::{Out, Table};
use crate::paging::{self, PageArgs};

#[derive(Args, Debug)]
pub struct AuthLogArgs {
    /// Only this login's attempts (username; for a MAC login its name; an unknown user as the
    /// NAS sent it). Without it: every login.
    login: Option<String>,
    /// Only requests from this NAS (its name).
    #[arg(long, value_name = "NAS")]
    nas: Option<String>,
    /// Only accepts or only rejects.
    #[arg(long, value_enum)]
    result: Option<ResultArg>,
    /// Only this reason: bad_credential, unknown_user, mac_mismatch, disabled,
    /// nas_not_allowed, ended, not_yet_active, suspended_for_debt, blocked, paused,
    /// simultaneous_use, multiple_credentials; for accepts active (or the walled garden's state).
    #[arg(long, value_name = "REASON")]
    reason: Option<String>,
    #[command(flatten)]
    page: PageArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ResultArg {
    Accept,
    Reject,
}

pub async fn run(svc: &mut LoginServiceClient<Svc>, a: AuthLogArgs, out: Out) -> Result<()> {
    let mut memory_only = false;
    let page = paging::collect(&a.page, async |page| {
        let request = ListAuthAttemptsRequest {
            login: a.login.clone().unwrap_or_default(),
            nas: a.nas.clone().unwrap_or_default(),
            result: match a.result {
                Some(ResultArg::Accept) => "accept".into(),
                Some(ResultArg::Reject) => "reject".into(),
                None => String::new(),
            },
            reason: a.reason.clone().unwrap_or_default(),
            page: Some(page),
        };
        let resp = svc.list_auth_attempts(request).await?.into_inner();
        memory_only |= resp.memory_only;
        Ok((resp.attempts, resp.next_page_token))
    })
    .await?;
    if memory_only {
        eprintln!(
            "warning: the database could not be read; these are the answering instance's recent attempts only"
        );
    }
    out.pages(&page, message::record, table)
}

fn table(list: &[AuthAttempt]) -> Table {
    Table::of(
        [
            "AT",
            "TIMES",
            "LOGIN",
            "NAS",
            "CALLING_STATION",
            "METHOD",
            "RESULT",
            "REASON",
        ],
        list.iter().map(|a| {
            let reason = match (a.result.as_str(), a.reason.as_str()) {
                ("accept", "active") => String::new(),
                ("accept", state) => format!("walled garden: {state}"),
                (_, reason) => reason.to_owned(),
            };
            let times = match a.count {
                0 | 1 => String::new(),
                n => format!("{n}× to {}", a.last_at),
            };
            [
                a.at.clone(),
                times,
                a.login.clone(),
                a.nas.clone(),
                a.calling_station.clone(),
                a.method.clone(),
                a.result.clone(),
                reason,
            ]
        }),
    )
}
