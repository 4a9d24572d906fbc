//! `ispctl violation …`: violation notices (BILLmanager "Нарушение") — a breach of the terms
//! told to a client with a deadline and penalty points; one that stops services blocks the
//! client's active services once its deadline has passed, and resolving it resumes them.

use anyhow::Result;
use clap::Subcommand;
use ispd_admin_proto::v1::{
    AddViolationRequest, EnforceViolationsRequest, ListViolationsRequest, ResolveViolationRequest,
    Violation,
};
use serde_json::json;

use crate::args;
use crate::connect::Api;
use crate::message;
use crate::output::{Out, Table};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Tell a client of a violation, with the last day to react.
    Add {
        /// The client's number.
        client: String,
        /// What the client did (at most 255 characters).
        #[arg(long)]
        reason: String,
        /// The last day to react, YYYY-MM-DD (today or later).
        #[arg(long, value_parser = args::date, value_name = "DATE")]
        deadline: String,
        /// Penalty points kept on the client.
        #[arg(long, default_value_t = 0)]
        points: u32,
        /// Block every active service of the client once the deadline has passed unanswered.
        #[arg(long)]
        stop_services: bool,
    },
    /// A client's notices and penalty points.
    List {
        /// The client's number.
        client: String,
    },
    /// The client put it right (or the notice is withdrawn): services it blocked are resumed.
    Resolve {
        /// The notice's ID (as `list` shows it).
        id: i64,
        /// How it was resolved.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Block the services of every notice past its deadline now (the daily jobs do this).
    Enforce {
        /// Enforce what is due on this day, YYYY-MM-DD [default: today].
        #[arg(long, value_parser = args::date, value_name = "DATE")]
        as_of: Option<String>,
    },
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut svc = api.clients().await?;
    match cmd {
        Cmd::Add {
            client,
            reason,
            deadline,
            points,
            stop_services,
        } => {
            let violation = Violation {
                client_number: client,
                reason,
                deadline,
                points,
                stop_services,
                ..Violation::default()
            };
            let request = AddViolationRequest {
                violation: Some(violation),
            };
            out.reply(svc.add_violation(request).await?, message::record)
        }
        Cmd::List { client } => {
            let request = ListViolationsRequest {
                client_number: client,
            };
            let resp = svc.list_violations(request).await?.into_inner();
            if out.json {
                let items: Vec<_> = resp
                    .violations
                    .iter()
                    .map(|v| message::record(v).to_json())
                    .collect();
                let points = resp.penalty_points;
                return out.value("", json!({ "items": items, "penalty_points": points }));
            }
            out.list(&resp.violations, "", message::record, table)?;
            out.line(&format!("penalty points: {}", resp.penalty_points))
        }
        Cmd::Resolve { id, note } => {
            let request = ResolveViolationRequest { id, note };
            out.reply(svc.resolve_violation(request).await?, message::record)
        }
        Cmd::Enforce { as_of } => {
            let request = EnforceViolationsRequest {
                as_of: as_of.unwrap_or_default(),
            };
            let resp = svc.enforce_violations(request).await?.into_inner();
            out.list(&resp.violations, "", message::record, table)
        }
    }
}

fn table(notices: &[Violation]) -> Table {
    Table::of(
        [
            "ID", "CLIENT", "ISSUED", "DEADLINE", "POINTS", "STOPS", "STATE", "REASON",
        ],
        notices.iter().map(|v| {
            [
                v.id.to_string(),
                v.client_number.clone(),
                v.issued_on.clone(),
                v.deadline.clone(),
                v.points.to_string(),
                if v.stop_services { "yes" } else { "no" }.into(),
                v.state.clone(),
                v.reason.clone(),
            ]
        }),
    )
}
