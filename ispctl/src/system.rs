//! `ispctl system …`: the daemon itself among the instances on one database.

use anyhow::Result;
use clap::Subcommand;
use ispd_admin_proto::v1::system_service_client::SystemServiceClient;
use ispd_admin_proto::v1::{Instance, ListInstancesRequest};

use crate::connect::Api;
use crate::output::{Out, Record, Table};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// The instances working on this database, their last heartbeat and how far each has
    /// read the change log (`*` marks the one that answered).
    Instances,
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut svc = SystemServiceClient::new(api.service().await?);
    match cmd {
        Cmd::Instances => {
            let instances = svc
                .list_instances(ListInstancesRequest {})
                .await?
                .into_inner()
                .instances;
            out.list(&instances, "", record, table)
        }
    }
}

fn record(i: &Instance) -> Record {
    Record::new()
        .str("id", &i.id)
        .str("version", &i.version)
        .str("started_at", &i.started_at)
        .str("heartbeat_at", &i.heartbeat_at)
        .num("applied_change", i.applied_change)
        .flag("this_instance", i.this_instance)
}

fn table(instances: &[Instance]) -> Table {
    let mut t = Table::new(&["", "ID", "VERSION", "STARTED", "HEARTBEAT", "CHANGE"]);
    for i in instances {
        t.row(vec![
            if i.this_instance { "*" } else { "" }.to_owned(),
            i.id.clone(),
            i.version.clone(),
            i.started_at.clone(),
            i.heartbeat_at.clone(),
            i.applied_change.to_string(),
        ]);
    }
    t
}
