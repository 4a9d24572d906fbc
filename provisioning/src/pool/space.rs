//! What a pool hands out from: IPv4 address ranges, and IPv6 blocks cut into delegated
//! prefixes of one length. [`Space`] is what the lease book needs of either: how many, the
//! n-th, and whether one belongs.

use std::hash::Hash;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::login::Ipv6Prefix;

/// A block of addresses or prefixes a pool hands out one by one.
pub(super) trait Space {
    type Addr: Copy + Eq + Hash + std::fmt::Debug;
    /// How many it holds.
    fn count(&self) -> u64;
    /// The one at `offset` (below [`Space::count`]).
    fn nth(&self, offset: u64) -> Option<Self::Addr>;
    fn holds(&self, addr: Self::Addr) -> bool;
    fn overlaps(&self, other: &Self) -> bool;
}

/// An inclusive range of IPv4 addresses: `10.0.0.10-10.0.0.250`, or a CIDR block
/// `10.0.0.0/24` (its network and broadcast addresses left out when it has more than two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Range {
    first: u32,
    last: u32,
}

impl Ipv4Range {
    pub fn len(&self) -> u64 {
        u64::from(self.last - self.first) + 1
    }

    /// Never: a range holds at least its first address.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        (self.first..=self.last).contains(&u32::from(ip))
    }
}

impl Space for Ipv4Range {
    type Addr = Ipv4Addr;

    fn count(&self) -> u64 {
        self.len()
    }

    fn nth(&self, offset: u64) -> Option<Ipv4Addr> {
        let ip = u64::from(self.first) + offset;
        (offset < self.len())
            .then(|| u32::try_from(ip).ok().map(Ipv4Addr::from))
            .flatten()
    }

    fn holds(&self, ip: Ipv4Addr) -> bool {
        self.contains(ip)
    }

    fn overlaps(&self, other: &Ipv4Range) -> bool {
        self.first <= other.last && other.first <= self.last
    }
}

impl std::fmt::Display for Ipv4Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}-{}",
            Ipv4Addr::from(self.first),
            Ipv4Addr::from(self.last)
        )
    }
}

impl FromStr for Ipv4Range {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let address = |t: &str| {
            t.trim()
                .parse::<Ipv4Addr>()
                .map(u32::from)
                .map_err(|_| format!("{t:?} is not an IPv4 address"))
        };
        if let Some((first, last)) = text.split_once('-') {
            let (first, last) = (address(first)?, address(last)?);
            if first > last {
                return Err(format!("{text:?}: the first address is after the last"));
            }
            return Ok(Ipv4Range { first, last });
        }
        let (base, len) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?}: a range FIRST-LAST or a CIDR block A.B.C.D/N"))?;
        let len: u32 = len
            .parse()
            .ok()
            .filter(|l| *l <= 32)
            .ok_or_else(|| format!("{text:?}: the prefix length is 0-32"))?;
        let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
        let network = address(base)?;
        if network & !mask != 0 {
            return Err(format!(
                "{text:?}: host bits set; the block starts elsewhere"
            ));
        }
        let broadcast = network | !mask;
        Ok(if len <= 30 {
            Ipv4Range {
                first: network + 1,
                last: broadcast - 1,
            }
        } else {
            Ipv4Range {
                first: network,
                last: broadcast,
            }
        })
    }
}

/// An IPv6 block handed out as prefixes of one length (`2001:db8:100::/40` in /56s: 65,536
/// prefixes), as DHCPv6 prefix delegation gives each CPE its LAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixBlock {
    block: Ipv6Prefix,
    delegated: u8,
}

impl PrefixBlock {
    /// The most prefixes one block is cut into (2^32): enough for any ISP, and a walk of a
    /// block's prefixes stays bounded.
    pub const MAX_SPLIT: u8 = 32;

    /// `block` cut into prefixes of `delegated` bits (at least the block's length, at most
    /// 128, and at most [`Self::MAX_SPLIT`] bits longer).
    pub fn new(block: Ipv6Prefix, delegated: u8) -> Result<PrefixBlock, String> {
        if delegated < block.len || delegated > 128 {
            return Err(format!(
                "{block}: the delegated length /{delegated} must lie between /{} and /128",
                block.len
            ));
        }
        if delegated - block.len > Self::MAX_SPLIT {
            return Err(format!(
                "{block}: /{delegated} cuts it into more than 2^{} prefixes",
                Self::MAX_SPLIT
            ));
        }
        Ok(PrefixBlock { block, delegated })
    }

    pub fn block(&self) -> Ipv6Prefix {
        self.block
    }

    pub fn delegated(&self) -> u8 {
        self.delegated
    }

    fn start(&self) -> u128 {
        u128::from(self.block.addr)
    }

    /// How many of its prefixes `other` (a login's static prefix) covers or sits in.
    pub fn blocked_by(&self, other: Ipv6Prefix) -> u64 {
        if !self.overlaps_prefix(other) {
            return 0;
        }
        let bits = self.delegated.saturating_sub(other.len.max(self.block.len));
        1u64.checked_shl(u32::from(bits)).unwrap_or(u64::MAX)
    }

    /// Whether `other` shares an address with the block.
    fn overlaps_prefix(&self, other: Ipv6Prefix) -> bool {
        self.block.overlaps(&other)
    }
}

impl Space for PrefixBlock {
    type Addr = Ipv6Prefix;

    fn count(&self) -> u64 {
        1u64 << (self.delegated - self.block.len)
    }

    fn nth(&self, offset: u64) -> Option<Ipv6Prefix> {
        if offset >= self.count() {
            return None;
        }
        let step = 1u128
            .checked_shl(128 - u32::from(self.delegated))
            .unwrap_or(0);
        let addr = self.start() + u128::from(offset) * step;
        Some(Ipv6Prefix {
            addr: Ipv6Addr::from(addr),
            len: self.delegated,
        })
    }

    fn holds(&self, prefix: Ipv6Prefix) -> bool {
        prefix.len == self.delegated && self.overlaps_prefix(prefix)
    }

    fn overlaps(&self, other: &PrefixBlock) -> bool {
        self.overlaps_prefix(other.block)
    }
}

impl std::fmt::Display for PrefixBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in /{}s", self.block, self.delegated)
    }
}
