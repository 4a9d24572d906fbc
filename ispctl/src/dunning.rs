//! `ispctl dunning …`: the dunning run that reminds and suspends clients who do not pay and
//! restores them when they do, and a client's dunning controls (stop, pause, resume).
//!
//! Amounts are the server's exact decimal strings, never recomputed here; a reminder's fee
//! and a suspension's overdue sum carry their currency. `--json` keeps the API's field names.

use anyhow::Result;
use clap::Subcommand;
use ispd_admin_proto::v1::dunning_service_client::DunningServiceClient;
use ispd_admin_proto::v1::{
    DunningChange, DunningHold, PauseDunningRequest, ResumeDunningRequest, RunDunningRequest,
    StopDunningRequest,
};

use crate::args;
use crate::connect::{Api, Svc};
use crate::message;
use crate::output::{Out, Table, money};

type Dunning = DunningServiceClient<Svc>;

#[derive(Subcommand, Debug)]
pub enum DunningCmd {
    /// Send the reminders due as of --as-of (a fee becomes a debit note), suspend clients
    /// overdue past the grace period (and past a final notice's deadline, when the last level
    /// is one), and restore those who have paid.
    ///
    /// Suspended clients land in the RADIUS walled garden. With --dry-run nothing changes:
    /// the table shows who would get which reminder, with its fee, and who would be suspended
    /// or restored.
    Run {
        /// Judge overdue invoices as of this day, YYYY-MM-DD.
        #[arg(long, value_parser = args::required_date, value_name = "DATE")]
        as_of: String,
        /// Only show what would change: send, charge, suspend and restore nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Stop a client's automatic reminders until `dunning resume`.
    ///
    /// Only letters stop: suspension still follows the debt rule (but with a final-notice
    /// level, no final notice means no suspension).
    Stop {
        /// Client number.
        client: String,
    },
    /// Hold a client's automatic reminders until a date; they resume on the date itself.
    Pause {
        /// Client number.
        client: String,
        /// No automatic reminders before this day, YYYY-MM-DD.
        #[arg(long, value_parser = args::required_date, value_name = "DATE")]
        until: String,
    },
    /// Clear a stop or a pause: reminders go out again from the next run.
    Resume {
        /// Client number.
        client: String,
    },
}

pub async fn run(cmd: DunningCmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut svc = api.dunning().await?;
    let hold = match cmd {
        DunningCmd::Run { as_of, dry_run } => {
            return dunning_run(&mut svc, as_of, dry_run, out).await;
        }
        DunningCmd::Stop { client } => {
            let request = StopDunningRequest {
                client_number: client,
            };
            svc.stop_dunning(request).await?
        }
        DunningCmd::Pause { client, until } => {
            let request = PauseDunningRequest {
                client_number: client,
                until,
            };
            svc.pause_dunning(request).await?
        }
        DunningCmd::Resume { client } => {
            let request = ResumeDunningRequest {
                client_number: client,
            };
            svc.resume_dunning(request).await?
        }
    };
    hold_out(out, &hold.into_inner())
}

async fn dunning_run(svc: &mut Dunning, as_of: String, dry_run: bool, out: Out) -> Result<()> {
    let resp = svc
        .run_dunning(RunDunningRequest {
            as_of: as_of.clone(),
            dry_run,
        })
        .await?
        .into_inner();
    let json = message::record(&resp).to_json();
    if resp.changes.is_empty() {
        return out.value(&format!("no changes as of {as_of}"), json);
    }
    let mut human = dunning_table(&resp.changes).render();
    if resp.dry_run {
        human.push_str("(dry run: nothing was changed)");
    }
    out.value(human.trim_end(), json)
}

/// A client's dunning controls in words.
pub(crate) fn dunning_state(stopped: bool, paused_until: &str) -> String {
    if stopped {
        "stopped".to_owned()
    } else if !paused_until.is_empty() {
        format!("paused until {paused_until}")
    } else {
        "active".to_owned()
    }
}

fn hold_out(out: Out, hold: &DunningHold) -> Result<()> {
    out.value(
        &format!(
            "dunning of client {}: {}",
            hold.client_number,
            dunning_state(hold.stopped, &hold.paused_until)
        ),
        message::record(hold).to_json(),
    )
}

fn dunning_table(changes: &[DunningChange]) -> Table {
    Table::of(
        [
            "CLIENT",
            "ACTION",
            "OVERDUE",
            "INVOICE",
            "LEVEL",
            "DEADLINE",
            "FEE",
            "DEBIT_NOTE",
        ],
        changes.iter().map(|c| {
            let level = if c.level == 0 {
                String::new()
            } else {
                c.level.to_string()
            };
            let action = if c.final_notice {
                "final notice".to_owned()
            } else {
                c.action.clone()
            };
            // A suspension names the invoices behind it, with their days overdue.
            let invoice = if c.reason.is_empty() {
                c.invoice_number.clone()
            } else {
                c.reason
                    .iter()
                    .map(|r| format!("{} ({} d)", r.number, r.days_overdue))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            [
                c.client_number.clone(),
                action,
                money(&c.overdue, &c.currency),
                invoice,
                level,
                c.deadline.clone(),
                money(&c.fee, &c.currency),
                c.debit_note_number.clone(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dunning_rows_show_fees_with_their_currency() {
        let rows = [
            DunningChange {
                client_number: "1001".into(),
                action: "reminder".into(),
                invoice_number: "202600001".into(),
                level: 2,
                deadline: "2026-10-22".into(),
                fee: "50.00".into(),
                debit_note_number: "DN202600001".into(),
                currency: "CZK".into(),
                final_notice: true,
                ..DunningChange::default()
            },
            DunningChange {
                client_number: "1002".into(),
                action: "suspend".into(),
                overdue: "499.00".into(),
                currency: "CZK".into(),
                ..DunningChange::default()
            },
        ];
        assert_eq!(
            dunning_table(&rows).render(),
            "CLIENT  ACTION        OVERDUE     INVOICE    LEVEL  DEADLINE    FEE        DEBIT_NOTE\n\
             1001    final notice              202600001  2      2026-10-22  50.00 CZK  DN202600001\n\
             1002    suspend       499.00 CZK\n"
        );
        assert_eq!(dunning_state(false, ""), "active");
        assert_eq!(
            dunning_state(false, "2027-01-10"),
            "paused until 2027-01-10"
        );
        assert_eq!(dunning_state(true, ""), "stopped");
    }
}
