//! `ispctl unit …`: the places services are delivered to (Mango "jednotka"); a unit holds one
//! service of a tariff's service class at most (`subscription add --unit`, `tariff --class`).

use anyhow::Result;
use clap::Subcommand;
use ispd_admin_proto::v1::{CreateUnitRequest, DeleteUnitRequest, ListUnitsRequest, Unit};

use crate::connect::Api;
use crate::message;
use crate::output::{Out, Table};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Record a unit.
    Add {
        /// How the operator finds it (unique, at most 100 characters): an address and flat.
        #[arg(long)]
        name: String,
        /// Free-text note.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Every unit.
    List,
    /// Delete a unit no subscription names.
    Delete {
        /// The unit's ID.
        id: i64,
    },
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut svc = api.subscriptions().await?;
    match cmd {
        Cmd::Add { name, note } => {
            let unit = Unit { id: 0, name, note };
            let request = CreateUnitRequest { unit: Some(unit) };
            out.reply(svc.create_unit(request).await?, message::record)
        }
        Cmd::List => {
            let units = svc
                .list_units(ListUnitsRequest {})
                .await?
                .into_inner()
                .units;
            out.list(&units, "", message::record, table)
        }
        Cmd::Delete { id } => {
            svc.delete_unit(DeleteUnitRequest { id }).await?;
            out.deleted("unit", &id.to_string())
        }
    }
}

fn table(units: &[Unit]) -> Table {
    Table::of(
        ["ID", "NAME", "NOTE"],
        units
            .iter()
            .map(|u| [u.id.to_string(), u.name.clone(), u.note.clone()]),
    )
}
