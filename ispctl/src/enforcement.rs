//! `ispctl enforcement …`, `ispctl login reload` and `ispctl session disconnect`: what reaches
//! online sessions by RFC 5176 CoA and Disconnect, and the operator's controls over it.
//!
//! Every change of speed or access is pushed by the server on its own; these commands force a
//! push, end sessions, run the reconcile now, and show the record of what was sent.

use anyhow::Result;
use clap::Subcommand;
use ispd_admin_proto::v1::enforcement_service_client::EnforcementServiceClient;
use ispd_admin_proto::v1::{
    Attempt, DisconnectSessionRequest, EnforcementResult, EnforcementStatusRequest,
    ListAttemptsRequest, ReconcileRequest, ReloadLoginRequest,
};
use serde_json::json;

use crate::connect::{Api, Svc};
use crate::message;
use crate::output::{Out, Table};
use crate::paging::{self, PageArgs};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// The CoA and Disconnect requests sent, newest first, with each NAS's answer.
    List {
        /// Only this login's (username).
        #[arg(long, value_name = "USERNAME")]
        login: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Compare every open session with what it should have now and correct those that
    /// differ (the server also does this every `[enforcement] reconcile_interval`).
    Reconcile,
    /// What is still to be sent, per NAS (the progress of a large push), and the logins left
    /// for the next reconcile.
    Status,
}

async fn client(api: &mut Api<'_>) -> Result<EnforcementServiceClient<Svc>> {
    Ok(EnforcementServiceClient::new(api.service().await?))
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut svc = client(api).await?;
    match cmd {
        Cmd::List { login, page } => {
            let page = paging::collect(&page, async |page| {
                let resp = svc
                    .list_attempts(ListAttemptsRequest {
                        login: login.clone().unwrap_or_default(),
                        page: Some(page),
                    })
                    .await?
                    .into_inner();
                Ok((resp.attempts, resp.next_page_token))
            })
            .await?;
            out.pages(&page, message::record, attempt_table)
        }
        Cmd::Status => {
            let r = svc
                .enforcement_status(EnforcementStatusRequest {})
                .await?
                .into_inner();
            let table = Table::of(
                ["NAS", "QUEUED"],
                r.queues
                    .iter()
                    .map(|q| [q.nas.clone(), q.queued.to_string()]),
            );
            let human = format!(
                "{}{} logins unconfirmed (pushed again by the next reconcile)",
                table.render(),
                r.unconfirmed
            );
            out.value(&human, message::record(&r).to_json())
        }
        Cmd::Reconcile => {
            let r = svc.reconcile(ReconcileRequest {}).await?.into_inner();
            out.value(
                &format!(
                    "{} open sessions compared, {} corrections queued",
                    r.sessions, r.queued
                ),
                json!({ "sessions": r.sessions, "queued": r.queued }),
            )
        }
    }
}

/// `ispctl login reload LOGIN`.
pub async fn reload(login: String, api: &mut Api<'_>, out: Out) -> Result<()> {
    let result = client(api)
        .await?
        .reload_login(ReloadLoginRequest {
            login: login.clone(),
        })
        .await?
        .into_inner();
    outcomes(&login, &result, out)
}

/// `ispctl session disconnect SESSION | --login LOGIN`.
pub async fn disconnect(
    session: Option<i64>,
    login: Option<String>,
    api: &mut Api<'_>,
    out: Out,
) -> Result<()> {
    let what = match (&session, &login) {
        (Some(id), _) => format!("session {id}"),
        (None, Some(login)) => login.clone(),
        (None, None) => anyhow::bail!("name a session id or --login"),
    };
    let result = client(api)
        .await?
        .disconnect_session(DisconnectSessionRequest {
            session_id: session.unwrap_or(0),
            login: login.unwrap_or_default(),
        })
        .await?
        .into_inner();
    outcomes(&what, &result, out)
}

fn outcomes(what: &str, result: &EnforcementResult, out: Out) -> Result<()> {
    let json = message::record(result).to_json();
    if result.sessions.is_empty() {
        return out.value(&format!("{what}: no online session"), json);
    }
    let table = Table::of(
        ["SESSION", "ACCT_SESSION_ID", "NAS", "SENT", "ANSWER"],
        result.sessions.iter().map(|s| {
            [
                s.session_id.to_string(),
                s.acct_session_id.clone(),
                s.nas.clone(),
                s.kind.clone(),
                answer(&s.outcome, s.error_cause),
            ]
        }),
    );
    out.value(table.render().trim_end(), json)?;
    // A script must not take a NAK or a silence for done: the change is not in force yet.
    let unsettled = result.sessions.iter().filter(|s| !s.settled).count();
    if unsettled > 0 {
        anyhow::bail!(
            "{unsettled} of {} sessions not confirmed by their NAS; the reconcile sends it \
             again (ispctl enforcement list shows each attempt)",
            result.sessions.len()
        );
    }
    Ok(())
}

fn answer(outcome: &str, error_cause: u32) -> String {
    match error_cause {
        0 => outcome.to_owned(),
        cause => format!("{outcome} (Error-Cause {cause})"),
    }
}

fn attempt_table(list: &[Attempt]) -> Table {
    Table::of(
        [
            "AT",
            "LOGIN",
            "NAS",
            "SENT",
            "REASON",
            "ANSWER",
            "TRIES",
            "ATTRIBUTES",
        ],
        list.iter().map(|a| {
            [
                a.at.clone(),
                a.login.clone(),
                a.nas.clone(),
                a.kind.clone(),
                a.reason.clone(),
                answer(&a.outcome, a.error_cause),
                a.tries.to_string(),
                a.sent.clone(),
            ]
        }),
    )
}
