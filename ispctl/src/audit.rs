//! `ispctl audit CLIENT`: the client's action history, newest first.
//!
//! The server stores before/after snapshots as JSON text; they are embedded as JSON values in
//! `--json` output (so `jq '.items[0].after.name'` works) and shown with `--full`.

use anyhow::Result;
use clap::Args;
use ispd_admin_proto::v1::{AuditEntry, ListAuditRequest};
use serde_json::Value;

use crate::connect::Api;
use crate::message;
use crate::output::{Out, Record, Table, more_hint};
use crate::paging::{self, PageArgs};

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Client number.
    client: String,
    /// Only changes of this entity, e.g. client, subscription, login.
    #[arg(long)]
    entity: Option<String>,
    /// Print every entry in full, with its before/after snapshots, instead of a table.
    #[arg(long)]
    full: bool,
    #[command(flatten)]
    page: PageArgs,
}

pub async fn run(a: AuditArgs, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut svc = api.audit().await?;
    let page = paging::collect(&a.page, async |page| {
        let resp = svc
            .list_audit(ListAuditRequest {
                page: Some(page),
                client_number: a.client.clone(),
                entity: a.entity.clone().unwrap_or_default(),
            })
            .await?
            .into_inner();
        Ok((resp.entries, resp.next_page_token))
    })
    .await?;
    if a.full && !out.json {
        for (i, entry) in page.items.iter().enumerate() {
            if i > 0 {
                out.line("")?;
            }
            out.record(&record(entry))?;
        }
        more_hint(&page.next_page_token);
        return Ok(());
    }
    out.pages(&page, record, table)
}

/// A snapshot as JSON: parsed when it is JSON, kept as text when not, null when empty.
fn snapshot(text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::from(text))
}

fn record(e: &AuditEntry) -> Record {
    message::record(e).replacing(
        Record::new()
            .raw("before", snapshot(&e.before))
            .raw("after", snapshot(&e.after)),
    )
}

fn table(entries: &[AuditEntry]) -> Table {
    Table::of(
        ["AT", "ACTOR", "ACTION", "ENTITY", "KEY"],
        entries.iter().map(|e| {
            [
                e.at.clone(),
                e.actor.clone(),
                e.action.clone(),
                e.entity.clone(),
                e.entity_key.clone(),
            ]
        }),
    )
}
