//! `ispctl subscription pending | withdraw | apply-due`: changes scheduled for a later day.
//! A pause, block, resume, activation, end or tariff change given a date after today is stored
//! by the server and applied by its daily job on that day; these commands list, withdraw and
//! (for a day's catch-up or a test) apply them.

use anyhow::Result;
use ispd_admin_proto::v1::{
    ApplyScheduledActionsRequest, ListScheduledActionsRequest, ScheduledAction,
    WithdrawScheduledActionRequest,
};

use super::subscription::Subscriptions;
use crate::message;
use crate::output::{Out, Table};

pub async fn list(svc: &mut Subscriptions, id: Option<i64>, all: bool, out: Out) -> Result<()> {
    let request = ListScheduledActionsRequest {
        subscription_id: id.unwrap_or(0),
        all,
    };
    let actions = svc
        .list_scheduled_actions(request)
        .await?
        .into_inner()
        .actions;
    out.list(&actions, "", message::record, table)
}

pub async fn withdraw(svc: &mut Subscriptions, id: i64, out: Out) -> Result<()> {
    let request = WithdrawScheduledActionRequest { id };
    out.reply(
        svc.withdraw_scheduled_action(request).await?,
        message::record,
    )
}

pub async fn apply_due(svc: &mut Subscriptions, as_of: Option<String>, out: Out) -> Result<()> {
    let request = ApplyScheduledActionsRequest {
        as_of: as_of.unwrap_or_default(),
    };
    let actions = svc
        .apply_scheduled_actions(request)
        .await?
        .into_inner()
        .actions;
    out.list(&actions, "", message::record, table)
}

fn table(actions: &[ScheduledAction]) -> Table {
    Table::of(
        [
            "ID",
            "SUBSCRIPTION",
            "ON",
            "CHANGE",
            "DATE",
            "STATE",
            "NOTE",
        ],
        actions.iter().map(|a| {
            let change = if a.billing_suspended {
                format!("{} (billing suspended)", a.transition)
            } else if !a.tariff.is_empty() {
                format!("{} to {}", a.transition, a.tariff)
            } else {
                a.transition.clone()
            };
            let state = if a.result.is_empty() {
                a.state.clone()
            } else {
                format!("{}: {}", a.state, a.result)
            };
            [
                a.id.to_string(),
                a.subscription_id.to_string(),
                a.effective.clone(),
                change,
                a.date.clone(),
                state,
                a.note.clone(),
            ]
        }),
    )
}
