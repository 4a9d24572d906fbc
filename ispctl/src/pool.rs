//! `ispctl pool …`: the address pools ispd hands out itself (`[[pool]]` in the config), and
//! how full each is.

use anyhow::Result;
use clap::Subcommand;
use ispd_admin_proto::v1::{ListPoolsRequest, Pool};

use crate::connect::Api;
use crate::message;
use crate::output::{Out, Table};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Each pool with its size, the addresses offered and in use, the logins' static
    /// addresses inside it (never handed out) and what is free — and the same for its IPv6
    /// prefixes — as the daemon holds them.
    List,
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    match cmd {
        Cmd::List => {
            let pools = api
                .sessions()
                .await?
                .list_pools(ListPoolsRequest {})
                .await?
                .into_inner()
                .pools;
            out.list(&pools, "", message::record, table)
        }
    }
}

fn table(pools: &[Pool]) -> Table {
    Table::of(
        [
            "NAME",
            "NAS",
            "RANGES",
            "SIZE",
            "OFFERED",
            "IN_USE",
            "RESERVED",
            "FREE",
            "PREFIXES",
            "PREFIXES_FREE",
        ],
        pools.iter().map(|p| {
            let nas = if p.nas.is_empty() {
                "(any)".to_owned()
            } else {
                p.nas.join(",")
            };
            [
                p.name.clone(),
                nas,
                p.ranges.join(","),
                p.size.to_string(),
                p.offered.to_string(),
                p.in_use.to_string(),
                p.reserved.to_string(),
                p.free.to_string(),
                prefixes(p),
                format!("{}/{}", p.prefixes_free, p.prefix_size),
            ]
        }),
    )
}

/// The IPv6 blocks and the length they are cut into: `2001:db8:100::/40 in /56s`.
fn prefixes(p: &Pool) -> String {
    if p.prefixes.is_empty() {
        return "-".into();
    }
    format!("{} in /{}s", p.prefixes.join(","), p.prefix_length)
}
