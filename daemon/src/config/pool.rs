//! `[[pool]]`: the address pools ispd hands out itself (the rules are
//! `ispd_provisioning::pool`'s). A tariff's Framed-Pool naming one of them is answered with a
//! Framed-IP-Address from it; any other Framed-Pool still goes to the NAS as a name.

use anyhow::bail;
use ispd_provisioning::pool::{PoolSpec, Pools};
use serde::Deserialize;

use super::Config;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// What a tariff's `--framed-pool` names.
    pub name: String,
    /// The NAS devices (names) it serves; empty = every NAS.
    #[serde(default)]
    pub nas: Vec<String>,
    /// `FIRST-LAST` ranges or CIDR blocks.
    pub ranges: Vec<String>,
}

impl Config {
    /// The pools as the provisioning core takes them; each error names its key.
    pub fn pool_specs(&self) -> anyhow::Result<Vec<PoolSpec>> {
        let mut specs = Vec::with_capacity(self.pool.len());
        for (i, pool) in self.pool.iter().enumerate() {
            if pool.name.trim().is_empty() {
                bail!("pool[{i}].name: required");
            }
            let mut ranges = Vec::with_capacity(pool.ranges.len());
            for (j, range) in pool.ranges.iter().enumerate() {
                ranges.push(
                    range
                        .parse()
                        .map_err(|e| anyhow::anyhow!("pool[{i}].ranges[{j}]: {e}"))?,
                );
            }
            specs.push(PoolSpec {
                name: pool.name.trim().to_owned(),
                nas: pool.nas.clone(),
                ranges,
            });
        }
        Ok(specs)
    }

    /// Every pool reads, has ranges, and no two ranges share an address.
    pub(super) fn validate_pools(&self) -> anyhow::Result<()> {
        Pools::new(self.pool_specs()?).map_err(|e| anyhow::anyhow!("pool: {e}"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_are_checked_naming_the_key() {
        let cases = [
            (
                "[[pool]]\nname = \"c\"\nranges = [\"10.0.0.1-10.0.0.9\"]\n",
                None,
            ),
            (
                "[[pool]]\nname = \"c\"\nranges = [\"10.0.0.1-10.0.0.9\", \"10.0.0.300\"]\n",
                Some("pool[0].ranges[1]"),
            ),
            (
                "[[pool]]\nname = \"\"\nranges = [\"10.0.0.0/24\"]\n",
                Some("pool[0].name"),
            ),
            (
                "[[pool]]\nname = \"c\"\nranges = []\n",
                Some("no address ranges"),
            ),
            (
                "[[pool]]\nname = \"a\"\nranges = [\"10.0.0.0/24\"]\n\
                 [[pool]]\nname = \"b\"\nranges = [\"10.0.0.200-10.0.1.5\"]\n",
                Some("overlaps"),
            ),
        ];
        for (text, refused) in cases {
            let got = Config::parse(text).err().map(|e| format!("{e:#}"));
            match (got, refused) {
                (None, None) => {}
                (Some(e), Some(part)) => assert!(e.contains(part), "{text}: {e}"),
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }
}
