//! Address pools ispd hands out itself (net47's IP pools, IPv4 ranges and IPv6 prefixes; what
//! FreeRADIUS does with rlm_sqlippool): a tariff's Framed-Pool that names a pool of ispd's
//! config is answered with a Framed-IP-Address from the pool's IPv4 ranges instead of the
//! pool's name, and with a delegated IPv6 prefix from its IPv6 blocks, so the NAS needs no pool
//! of its own and the operator sees who holds which address. A pool with only IPv6 blocks
//! leaves the name to the NAS for IPv4 and adds the prefix.
//!
//! The rules, the same for addresses and prefixes (`side.rs`), all in memory (the RADIUS hot path does no database I/O):
//! - a pool serves the NAS devices it names, or every NAS when it names none; a pool named
//!   for the asking NAS goes before a global one of the same name;
//! - a login on one device (its Calling-Station-Id) keeps the address it holds: a reconnect
//!   gets it back; a second device of the same login gets another;
//! - otherwise the next address after the last one handed out, round the pool, that nobody
//!   holds and that is no login's static address (for IPv6: overlaps no login's static
//!   prefix) — so an address just released rests before it is given again; a login with a
//!   static prefix of its own takes none from the pool;
//! - an Accept gets all it asks of the pool or nothing: with one kind exhausted, none is held;
//! - an address offered in an Access-Accept is held for [`Pools::OFFER_HOLD`]; accounting
//!   that shows it in use (Start, Interim-Update) keeps it held, a Stop releases it, and one
//!   not heard of for the stale time is released as its session is;
//! - an address accounting reports in use that nobody was offered (a restart, another
//!   instance's Accept, an operator's static address on the NAS) is taken as held, so it is
//!   never handed out twice;
//! - an offer still waiting for its accounting is kept across a restart ([`Offered`]),
//!   unless accounting shows its address or its holder in use by then.
//!
//! Time is passed in; nothing here reads a clock.

mod side;
mod space;

use std::net::Ipv4Addr;

use chrono::{DateTime, Duration, Utc};

use crate::login::Ipv6Prefix;
use side::Side;
use space::Space;
pub use space::{Ipv4Range, PrefixBlock};

/// A pool as the config declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSpec {
    /// What a tariff's Framed-Pool names.
    pub name: String,
    /// The NAS devices it serves (their names); empty = every NAS.
    pub nas: Vec<String>,
    pub ranges: Vec<Ipv4Range>,
    /// IPv6 blocks handed out as delegated prefixes.
    pub prefixes: Vec<PrefixBlock>,
}

/// Who holds an address: a login on one device.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Holder {
    pub username: String,
    /// The Calling-Station-Id (the CPE's MAC, usually); empty when the NAS sends none.
    pub device: String,
}

/// What one accounting record tells the pools of its session.
#[derive(Debug, Clone, Copy)]
pub struct Heard<'a> {
    pub holder: &'a Holder,
    pub nas: &'a str,
    /// The record's event time (the NAS's clock): orders it against the session's Stop and
    /// the NAS's Accounting-On.
    pub event: DateTime<Utc>,
    /// Its arrival (ispd's clock): what a lease's silence is measured from.
    pub now: DateTime<Utc>,
}

/// Logins' static addresses and prefixes: a pool never hands them out.
pub trait Statics {
    fn has_ipv4(&self, ip: Ipv4Addr) -> bool;
    /// Whether `prefix` shares an address with a login's static prefix.
    fn overlaps_prefix(&self, prefix: Ipv6Prefix) -> bool;
    /// Every static prefix, for the usage figures.
    fn prefixes(&self) -> Vec<Ipv6Prefix>;
}

/// What an Accept is handed from a pool: an address when the pool has IPv4 ranges, a prefix
/// when it has IPv6 blocks and the login has none of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Offer {
    pub ipv4: Option<Ipv4Addr>,
    pub prefix: Option<Ipv6Prefix>,
}

#[derive(Debug, Clone)]
struct Pool {
    spec: PoolSpec,
    v4: Side<Ipv4Range>,
    v6: Side<PrefixBlock>,
}

impl Pool {
    fn new(spec: PoolSpec) -> Pool {
        Pool {
            v4: Side::new(spec.ranges.clone()),
            v6: Side::new(spec.prefixes.clone()),
            spec,
        }
    }

    fn serves(&self, nas: &str) -> bool {
        self.spec.nas.is_empty() || self.spec.nas.iter().any(|n| n == nas)
    }
}

/// Why a pool configuration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error("pool {0:?}: no address ranges or prefixes")]
    Empty(String),
    #[error("pool {pool:?}: {range} overlaps {other} of pool {other_pool:?}")]
    Overlap {
        pool: String,
        range: String,
        other_pool: String,
        other: String,
    },
}

/// How full a pool is, for `ispctl pool list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUsage {
    pub name: String,
    pub nas: Vec<String>,
    pub ranges: Vec<Ipv4Range>,
    pub size: u64,
    /// Offered and not yet seen in accounting.
    pub offered: u64,
    pub in_use: u64,
    /// Logins' static addresses inside the pool: never handed out.
    pub reserved: u64,
    /// The same for the IPv6 prefixes.
    pub prefixes: Vec<PrefixBlock>,
    pub prefix_size: u64,
    pub prefixes_offered: u64,
    pub prefixes_in_use: u64,
    pub prefixes_reserved: u64,
}

/// An address or a prefix offered in an Access-Accept whose session's accounting has not
/// come yet: what the pools, held in memory, would forget at a restart. The daemon keeps
/// them across a clean one, so that none is offered to another login in between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offered {
    pub holder: Holder,
    pub held: OfferedAddress,
    /// Free again after this, as any offer nobody took up.
    pub until: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferedAddress {
    Ipv4(Ipv4Addr),
    Prefix(Ipv6Prefix),
}

/// Every pool of the config with who holds what.
#[derive(Debug, Clone, Default)]
pub struct Pools {
    pools: Vec<Pool>,
}

/// The first two blocks of `specs` (by `blocks`) that share an address, named.
fn overlap<S: Space + std::fmt::Display>(
    specs: &[PoolSpec],
    blocks: impl Fn(&PoolSpec) -> &[S],
) -> Option<PoolError> {
    let mut seen: Vec<(&str, &S)> = Vec::new();
    for spec in specs {
        for block in blocks(spec) {
            if let Some((other_pool, other)) = seen.iter().find(|(_, b)| b.overlaps(block)) {
                return Some(PoolError::Overlap {
                    pool: spec.name.clone(),
                    range: block.to_string(),
                    other_pool: (*other_pool).to_owned(),
                    other: other.to_string(),
                });
            }
            seen.push((&spec.name, block));
        }
    }
    None
}

impl Pools {
    /// How long an address offered in an Access-Accept waits for the session's accounting.
    pub const OFFER_HOLD: Duration = Duration::seconds(60);

    /// The pools of `specs`; ranges may not overlap, within a pool or between pools (one
    /// address, one holder), nor may IPv6 blocks.
    pub fn new(specs: Vec<PoolSpec>) -> Result<Pools, PoolError> {
        if let Some(spec) = specs
            .iter()
            .find(|s| s.ranges.is_empty() && s.prefixes.is_empty())
        {
            return Err(PoolError::Empty(spec.name.clone()));
        }
        if let Some(e) = overlap(&specs, |s| &s.ranges).or_else(|| overlap(&specs, |s| &s.prefixes))
        {
            return Err(e);
        }
        Ok(Pools {
            pools: specs.into_iter().map(Pool::new).collect(),
        })
    }

    /// The same pools under a new config: every lease whose address still lies in a pool of
    /// the same name is kept.
    pub fn reconfigured(&self, specs: Vec<PoolSpec>) -> Result<Pools, PoolError> {
        let mut next = Pools::new(specs)?;
        for old in &self.pools {
            let same = |p: &&mut Pool| p.spec.name == old.spec.name;
            for (ip, lease) in &old.v4.leases {
                if let Some(pool) = next
                    .pools
                    .iter_mut()
                    .filter(same)
                    .find(|p| p.v4.contains(*ip))
                {
                    pool.v4.hold(*ip, lease.holder.clone(), lease.held.clone());
                }
            }
            for (prefix, lease) in &old.v6.leases {
                if let Some(pool) = next
                    .pools
                    .iter_mut()
                    .filter(same)
                    .find(|p| p.v6.contains(*prefix))
                {
                    pool.v6
                        .hold(*prefix, lease.holder.clone(), lease.held.clone());
                }
            }
        }
        Ok(next)
    }

    pub fn is_empty(&self) -> bool {
        self.pools.is_empty()
    }

    /// The pool `name` as `nas` sees it: one naming that NAS, else a global one.
    fn index(&self, name: &str, nas: &str) -> Option<usize> {
        let named = |global: bool| {
            self.pools.iter().position(|p| {
                p.spec.name == name && p.serves(nas) && p.spec.nas.is_empty() == global
            })
        };
        named(false).or_else(|| named(true))
    }

    /// Whether `name` is a pool of ispd's for `nas` (else it is the NAS's own pool).
    pub fn serves(&self, name: &str, nas: &str) -> bool {
        self.index(name, nas).is_some()
    }

    /// What `holder` gets from pool `name` as `nas` sees it, offered until
    /// [`Self::OFFER_HOLD`] from `now`: the address (and, when `wants_prefix`, the prefix) it
    /// holds already, else the next free ones that are no login's. `None` when the pool is not
    /// ispd's or a kind it hands out is exhausted — then nothing is held.
    pub fn offer(
        &mut self,
        (name, nas): (&str, &str),
        holder: &Holder,
        wants_prefix: bool,
        now: DateTime<Utc>,
        statics: &impl Statics,
    ) -> Option<Offer> {
        let index = self.index(name, nas)?;
        let pool = &mut self.pools[index];
        let v4 = if pool.v4.is_empty() {
            None
        } else {
            Some(pool.v4.pick(holder, now, |ip| statics.has_ipv4(ip))?)
        };
        let v6 = if pool.v6.is_empty() || !wants_prefix {
            None
        } else {
            Some(pool.v6.pick(holder, now, |p| statics.overlaps_prefix(p))?)
        };
        let until = now + Self::OFFER_HOLD;
        if let Some(pick) = v4 {
            pool.v4.take(pick, holder, until);
        }
        if let Some(pick) = v6 {
            pool.v6.take(pick, holder, until);
        }
        Some(Offer {
            ipv4: v4.map(|p| p.addr),
            prefix: v6.map(|p| p.addr),
        })
    }

    /// Accounting shows `ip` in use (a Start or an Interim-Update): it stays held, also
    /// when nobody had been offered it — unless the record is a late one of a session that
    /// ended on it (its Stop, or its NAS's Accounting-On, came first).
    pub fn seen(&mut self, ip: Ipv4Addr, heard: &Heard<'_>) {
        if let Some(pool) = self.pools.iter_mut().find(|p| p.v4.contains(ip)) {
            pool.v4.seen(ip, heard);
        }
    }

    /// The same for a delegated prefix.
    pub fn seen_prefix(&mut self, prefix: Ipv6Prefix, heard: &Heard<'_>) {
        if let Some(pool) = self.pools.iter_mut().find(|p| p.v6.contains(prefix)) {
            pool.v6.seen(prefix, heard);
        }
    }

    /// Accounting shows the session on `ip` stopped: the address is free, unless another
    /// holder has it by now.
    pub fn stopped(&mut self, ip: Ipv4Addr, heard: &Heard<'_>) {
        if let Some(pool) = self.pools.iter_mut().find(|p| p.v4.contains(ip)) {
            pool.v4.stopped(ip, heard);
        }
    }

    /// The same for a delegated prefix.
    pub fn stopped_prefix(&mut self, prefix: Ipv6Prefix, heard: &Heard<'_>) {
        if let Some(pool) = self.pools.iter_mut().find(|p| p.v6.contains(prefix)) {
            pool.v6.stopped(prefix, heard);
        }
    }

    /// `nas` restarted at `at` by its clock (Accounting-On/Off): the addresses and prefixes
    /// of the sessions it reported before then are free. Returns how many.
    pub fn nas_restarted(&mut self, nas: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> usize {
        self.pools
            .iter_mut()
            .map(|pool| pool.v4.nas_restarted(nas, at, now) + pool.v6.nas_restarted(nas, at, now))
            .sum()
    }

    /// Every offer not yet seen in accounting.
    pub fn offered(&self) -> Vec<Offered> {
        let mut out = Vec::new();
        for pool in &self.pools {
            out.extend(pool.v4.offers().map(|(ip, holder, until)| Offered {
                holder: holder.clone(),
                held: OfferedAddress::Ipv4(ip),
                until,
            }));
            out.extend(pool.v6.offers().map(|(prefix, holder, until)| Offered {
                holder: holder.clone(),
                held: OfferedAddress::Prefix(prefix),
                until,
            }));
        }
        out
    }

    /// Holds an offer of the daemon before a restart again, while it lasts at `now` and its
    /// address (or its holder) is not held by then — accounting read at start wins.
    pub fn offer_again(&mut self, offer: &Offered, now: DateTime<Utc>) {
        if offer.until <= now {
            return;
        }
        match offer.held {
            OfferedAddress::Ipv4(ip) => {
                if let Some(pool) = self.pools.iter_mut().find(|p| p.v4.contains(ip)) {
                    pool.v4.offer_again(ip, &offer.holder, offer.until);
                }
            }
            OfferedAddress::Prefix(prefix) => {
                if let Some(pool) = self.pools.iter_mut().find(|p| p.v6.contains(prefix)) {
                    pool.v6.offer_again(prefix, &offer.holder, offer.until);
                }
            }
        }
    }

    /// Releases offers nobody took up by `now` and addresses whose session was not heard of
    /// for `stale` (as the stale-session sweep closes them). Returns how many.
    pub fn expire(&mut self, now: DateTime<Utc>, stale: Duration) -> usize {
        self.pools
            .iter_mut()
            .map(|pool| pool.v4.expire(now, stale) + pool.v6.expire(now, stale))
            .sum()
    }

    /// Each pool's size and use at `now`, `statics` telling the logins' own addresses and
    /// prefixes.
    pub fn usage(&self, statics: &impl Statics, now: DateTime<Utc>) -> Vec<PoolUsage> {
        let static_prefixes = statics.prefixes();
        self.pools
            .iter()
            .map(|pool| {
                let (offered, in_use) = pool.v4.counts(now);
                let (prefixes_offered, prefixes_in_use) = pool.v6.counts(now);
                PoolUsage {
                    name: pool.spec.name.clone(),
                    nas: pool.spec.nas.clone(),
                    ranges: pool.spec.ranges.clone(),
                    size: pool.v4.size,
                    offered,
                    in_use,
                    reserved: reserved_in(&pool.v4, statics),
                    prefixes: pool.spec.prefixes.clone(),
                    prefix_size: pool.v6.size,
                    prefixes_offered,
                    prefixes_in_use,
                    prefixes_reserved: pool
                        .spec
                        .prefixes
                        .iter()
                        .flat_map(|b| static_prefixes.iter().map(|s| b.blocked_by(*s)))
                        .sum::<u64>()
                        .min(pool.v6.size),
                }
            })
            .collect()
    }
}

/// The static addresses inside a pool's ranges that are not held already — one in use is
/// counted there, not twice (found probing from outside: a static address online made a pool
/// look full). A pool of a /16 is walked in well under a millisecond; `ispctl pool list`
/// asks, not the hot path.
fn reserved_in(side: &Side<Ipv4Range>, statics: &impl Statics) -> u64 {
    (0..side.size)
        .filter_map(|offset| side.at(offset))
        .filter(|ip| statics.has_ipv4(*ip) && !side.is_held(*ip))
        .count() as u64
}

#[cfg(test)]
mod tests;
