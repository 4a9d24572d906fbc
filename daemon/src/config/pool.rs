//! `[[pool]]`: the address pools ispd hands out itself (the rules are
//! `ispd_provisioning::pool`'s). A tariff's Framed-Pool naming one of them is answered with a
//! Framed-IP-Address from its ranges and a delegated prefix from its IPv6 blocks; any other
//! Framed-Pool still goes to the NAS as a name.

use anyhow::bail;
use ispd_provisioning::pool::{PoolSpec, Pools, PrefixBlock};
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
    #[serde(default)]
    pub ranges: Vec<String>,
    /// IPv6 blocks (`2001:db8:100::/40`) handed out as prefixes of `prefix_length` bits.
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// The length of each delegated prefix, e.g. 56; required with `prefixes`.
    pub prefix_length: Option<u8>,
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
                prefixes: pool.prefix_blocks(i)?,
            });
        }
        Ok(specs)
    }

    /// Every pool reads, has ranges or prefixes, and no two share an address.
    pub(super) fn validate_pools(&self) -> anyhow::Result<()> {
        Pools::new(self.pool_specs()?).map_err(|e| anyhow::anyhow!("pool: {e}"))?;
        Ok(())
    }
}

impl PoolConfig {
    /// The IPv6 blocks of pool `i`, each error naming its key.
    fn prefix_blocks(&self, i: usize) -> anyhow::Result<Vec<PrefixBlock>> {
        if self.prefixes.is_empty() {
            return Ok(Vec::new());
        }
        let Some(length) = self.prefix_length else {
            bail!("pool[{i}].prefix_length: required with prefixes, e.g. 56");
        };
        self.prefixes
            .iter()
            .enumerate()
            .map(|(j, text)| {
                let block = text
                    .parse()
                    .map_err(|e| anyhow::anyhow!("pool[{i}].prefixes[{j}]: {e}"))?;
                PrefixBlock::new(block, length)
                    .map_err(|e| anyhow::anyhow!("pool[{i}].prefixes[{j}]: {e}"))
            })
            .collect()
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
                Some("no address ranges or prefixes"),
            ),
            (
                "[[pool]]\nname = \"c\"\nprefixes = [\"2001:db8:100::/40\"]\nprefix_length = 56\n",
                None,
            ),
            (
                "[[pool]]\nname = \"c\"\nprefixes = [\"2001:db8:100::/40\"]\n",
                Some("pool[0].prefix_length: required"),
            ),
            (
                "[[pool]]\nname = \"c\"\nprefixes = [\"2001:db8:100::1/40\"]\nprefix_length = 56\n",
                Some("pool[0].prefixes[0]: host bits set"),
            ),
            (
                "[[pool]]\nname = \"c\"\nprefixes = [\"2001:db8:100::/40\"]\nprefix_length = 32\n",
                Some("pool[0].prefixes[0]"),
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
