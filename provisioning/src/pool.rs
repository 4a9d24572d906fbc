//! Address pools ispd hands out itself (net47's IP pools; what FreeRADIUS does with
//! rlm_sqlippool): a tariff's Framed-Pool that names a pool of ispd's config is answered with
//! a Framed-IP-Address from that pool instead of the pool's name, so the NAS needs no pool of
//! its own and the operator sees who holds which address.
//!
//! The rules, all in memory (the RADIUS hot path does no database I/O):
//! - a pool serves the NAS devices it names, or every NAS when it names none; a pool named
//!   for the asking NAS goes before a global one of the same name;
//! - a login on one device (its Calling-Station-Id) keeps the address it holds: a reconnect
//!   gets it back; a second device of the same login gets another;
//! - otherwise the next address after the last one handed out, round the pool, that nobody
//!   holds and that is no login's static address — so an address just released rests before
//!   it is given again;
//! - an address offered in an Access-Accept is held for [`Pools::OFFER_HOLD`]; accounting
//!   that shows it in use (Start, Interim-Update) keeps it held, a Stop releases it, and one
//!   not heard of for the stale time is released as its session is;
//! - an address accounting reports in use that nobody was offered (a restart, another
//!   instance's Accept, an operator's static address on the NAS) is taken as held, so it is
//!   never handed out twice.
//!
//! Time is passed in; nothing here reads a clock.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

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

/// A pool as the config declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSpec {
    /// What a tariff's Framed-Pool names.
    pub name: String,
    /// The NAS devices it serves (their names); empty = every NAS.
    pub nas: Vec<String>,
    pub ranges: Vec<Ipv4Range>,
}

/// Who holds an address: a login on one device.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Holder {
    pub username: String,
    /// The Calling-Station-Id (the CPE's MAC, usually); empty when the NAS sends none.
    pub device: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// Offered in an Access-Accept, not yet seen in accounting: free again after `until`.
    Offered { until: DateTime<Utc> },
    /// Seen in accounting, last at `seen`.
    InUse { seen: DateTime<Utc> },
}

#[derive(Debug, Clone)]
struct Lease {
    holder: Holder,
    held: Held,
}

#[derive(Debug, Clone)]
struct Pool {
    spec: PoolSpec,
    size: u64,
    leases: HashMap<Ipv4Addr, Lease>,
    by_holder: HashMap<Holder, Ipv4Addr>,
    /// Where the next search starts (an offset into the ranges).
    next: u64,
}

impl Pool {
    fn new(spec: PoolSpec) -> Pool {
        Pool {
            size: spec.ranges.iter().map(Ipv4Range::len).sum(),
            spec,
            leases: HashMap::new(),
            by_holder: HashMap::new(),
            next: 0,
        }
    }

    fn serves(&self, nas: &str) -> bool {
        self.spec.nas.is_empty() || self.spec.nas.iter().any(|n| n == nas)
    }

    fn contains(&self, ip: Ipv4Addr) -> bool {
        self.spec.ranges.iter().any(|r| r.contains(ip))
    }

    /// The address at `offset` into the ranges.
    fn at(&self, mut offset: u64) -> Option<Ipv4Addr> {
        for range in &self.spec.ranges {
            if offset < range.len() {
                let ip = u64::from(range.first) + offset;
                return u32::try_from(ip).ok().map(Ipv4Addr::from);
            }
            offset -= range.len();
        }
        None
    }

    fn hold(&mut self, ip: Ipv4Addr, holder: Holder, held: Held) {
        if let Some(previous) = self.leases.get(&ip)
            && previous.holder != holder
        {
            self.by_holder.remove(&previous.holder);
        }
        if let Some(old) = self.by_holder.insert(holder.clone(), ip)
            && old != ip
        {
            self.leases.remove(&old);
        }
        self.leases.insert(ip, Lease { holder, held });
    }

    fn release(&mut self, ip: Ipv4Addr) {
        if let Some(lease) = self.leases.remove(&ip) {
            self.by_holder.remove(&lease.holder);
        }
    }
}

/// Why a pool configuration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error("pool {0:?}: no address ranges")]
    Empty(String),
    #[error("pool {pool:?}: range {range} overlaps {other} of pool {other_pool:?}")]
    Overlap {
        pool: String,
        range: Ipv4Range,
        other_pool: String,
        other: Ipv4Range,
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
}

/// Every pool of the config with who holds what.
#[derive(Debug, Clone, Default)]
pub struct Pools {
    pools: Vec<Pool>,
}

impl Pools {
    /// How long an address offered in an Access-Accept waits for the session's accounting.
    pub const OFFER_HOLD: Duration = Duration::seconds(60);

    /// The pools of `specs`; ranges may not overlap, within a pool or between pools (one
    /// address, one holder).
    pub fn new(specs: Vec<PoolSpec>) -> Result<Pools, PoolError> {
        let mut seen: Vec<(&str, Ipv4Range)> = Vec::new();
        for spec in &specs {
            if spec.ranges.is_empty() {
                return Err(PoolError::Empty(spec.name.clone()));
            }
            for range in &spec.ranges {
                if let Some((other_pool, other)) = seen.iter().find(|(_, r)| r.overlaps(range)) {
                    return Err(PoolError::Overlap {
                        pool: spec.name.clone(),
                        range: *range,
                        other_pool: (*other_pool).to_owned(),
                        other: *other,
                    });
                }
                seen.push((&spec.name, *range));
            }
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
            for (ip, lease) in &old.leases {
                if let Some(pool) = next
                    .pools
                    .iter_mut()
                    .find(|p| p.spec.name == old.spec.name && p.contains(*ip))
                {
                    pool.hold(*ip, lease.holder.clone(), lease.held);
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

    /// The address for `holder` from pool `name` as `nas` sees it, offered until
    /// [`Self::OFFER_HOLD`] from `now`: the one it holds already, else the next free one
    /// that is not `reserved`. `None` when the pool is not ispd's or has no address left.
    pub fn offer(
        &mut self,
        (name, nas): (&str, &str),
        holder: &Holder,
        now: DateTime<Utc>,
        reserved: impl Fn(Ipv4Addr) -> bool,
    ) -> Option<Ipv4Addr> {
        let index = self.index(name, nas)?;
        let pool = &mut self.pools[index];
        if let Some(&ip) = pool.by_holder.get(holder)
            && !reserved(ip)
        {
            if let Some(lease) = pool.leases.get_mut(&ip)
                && let Held::Offered { until } = &mut lease.held
            {
                *until = now + Self::OFFER_HOLD;
            }
            return Some(ip);
        }
        let found = (0..pool.size).find_map(|step| {
            let offset = (pool.next + step) % pool.size;
            let ip = pool.at(offset)?;
            (!pool.leases.contains_key(&ip) && !reserved(ip)).then_some((offset, ip))
        });
        let (offset, ip) = found?;
        pool.next = (offset + 1) % pool.size;
        let until = now + Self::OFFER_HOLD;
        pool.hold(ip, holder.clone(), Held::Offered { until });
        Some(ip)
    }

    /// Accounting shows `ip` in use by `holder` (a Start or an Interim-Update): it stays
    /// held, also when nobody had been offered it.
    pub fn seen(&mut self, ip: Ipv4Addr, holder: &Holder, now: DateTime<Utc>) {
        if let Some(pool) = self.pools.iter_mut().find(|p| p.contains(ip)) {
            pool.hold(ip, holder.clone(), Held::InUse { seen: now });
        }
    }

    /// Accounting shows the session on `ip` stopped: the address is free, unless another
    /// holder has it by now.
    pub fn stopped(&mut self, ip: Ipv4Addr, holder: &Holder) {
        if let Some(pool) = self.pools.iter_mut().find(|p| p.contains(ip))
            && pool.leases.get(&ip).is_some_and(|l| l.holder == *holder)
        {
            pool.release(ip);
        }
    }

    /// Releases offers nobody took up by `now` and addresses whose session was not heard of
    /// for `stale` (as the stale-session sweep closes them). Returns how many.
    pub fn expire(&mut self, now: DateTime<Utc>, stale: Duration) -> usize {
        let mut released = 0;
        for pool in &mut self.pools {
            let gone: Vec<Ipv4Addr> = pool
                .leases
                .iter()
                .filter(|(_, lease)| match lease.held {
                    Held::Offered { until } => until <= now,
                    Held::InUse { seen } => {
                        seen.checked_add_signed(stale).is_some_and(|t| t <= now)
                    }
                })
                .map(|(ip, _)| *ip)
                .collect();
            released += gone.len();
            for ip in gone {
                pool.release(ip);
            }
        }
        released
    }

    /// Each pool's size and use; `reserved` tells a login's static address.
    pub fn usage(&self, reserved: impl Fn(Ipv4Addr) -> bool) -> Vec<PoolUsage> {
        self.pools
            .iter()
            .map(|pool| {
                let count = |offered: bool| {
                    pool.leases
                        .values()
                        .filter(|l| matches!(l.held, Held::Offered { .. }) == offered)
                        .count() as u64
                };
                PoolUsage {
                    name: pool.spec.name.clone(),
                    nas: pool.spec.nas.clone(),
                    ranges: pool.spec.ranges.clone(),
                    size: pool.size,
                    offered: count(true),
                    in_use: count(false),
                    reserved: reserved_in(pool, &reserved),
                }
            })
            .collect()
    }
}

/// The static addresses inside `pool`'s ranges (a pool of a /16 is walked in well under a
/// millisecond; `ispctl pool list` asks, not the hot path).
fn reserved_in(pool: &Pool, reserved: &impl Fn(Ipv4Addr) -> bool) -> u64 {
    (0..pool.size)
        .filter_map(|offset| pool.at(offset))
        .filter(|ip| reserved(*ip))
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Ipv4Addr {
        text.parse().unwrap()
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + seconds, 0).unwrap()
    }

    fn holder(username: &str, device: &str) -> Holder {
        Holder {
            username: username.into(),
            device: device.into(),
        }
    }

    fn spec(name: &str, nas: &[&str], ranges: &[&str]) -> PoolSpec {
        PoolSpec {
            name: name.into(),
            nas: nas.iter().map(|n| (*n).to_owned()).collect(),
            ranges: ranges.iter().map(|r| r.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn ranges_are_read_as_the_config_writes_them() {
        // (text, the range shown and its size, or part of the refusal)
        type Case<'a> = (&'a str, Result<(&'a str, u64), &'a str>);
        let cases: [Case<'_>; 7] = [
            ("10.0.0.10-10.0.0.12", Ok(("10.0.0.10-10.0.0.12", 3))),
            ("10.0.0.0/24", Ok(("10.0.0.1-10.0.0.254", 254))),
            ("10.0.0.0/31", Ok(("10.0.0.0-10.0.0.1", 2))),
            ("10.0.0.7/32", Ok(("10.0.0.7-10.0.0.7", 1))),
            ("10.0.0.5/24", Err("host bits set")),
            (
                "10.0.0.9-10.0.0.1",
                Err("the first address is after the last"),
            ),
            ("customers", Err("a range FIRST-LAST or a CIDR block")),
        ];
        for (text, expected) in cases {
            match (text.parse::<Ipv4Range>(), expected) {
                (Ok(range), Ok((shown, len))) => {
                    assert_eq!((range.to_string().as_str(), range.len()), (shown, len));
                }
                (Err(e), Err(part)) => assert!(e.contains(part), "{text}: {e}"),
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn overlapping_or_empty_pools_are_refused() {
        let overlap = Pools::new(vec![
            spec("a", &[], &["10.0.0.1-10.0.0.10"]),
            spec("b", &["nas-2"], &["10.0.0.10-10.0.0.20"]),
        ]);
        assert!(
            matches!(overlap, Err(PoolError::Overlap { .. })),
            "{overlap:?}"
        );
        let empty = Pools::new(vec![spec("a", &[], &[])]);
        assert_eq!(empty.unwrap_err(), PoolError::Empty("a".into()));
    }

    #[test]
    fn addresses_are_handed_out_in_turn_skipping_static_ones_and_kept_per_device() {
        let mut pools = Pools::new(vec![spec("c", &[], &["10.0.0.1-10.0.0.3"])]).unwrap();
        let statics = |a: Ipv4Addr| a == ip("10.0.0.2");
        let mut offer = |who: &Holder, now| pools.offer(("c", "nas-1"), who, now, statics);
        let (alice, alice_tablet) = (holder("alice", "aa"), holder("alice", "bb"));
        let cases = [
            // (holder, at) → address
            (&alice, 0, Some("10.0.0.1")),
            (&alice, 5, Some("10.0.0.1")), // a reconnect gets its address back
            (&alice_tablet, 6, Some("10.0.0.3")), // .2 is a login's static address
            (&holder("bob", "cc"), 7, None), // nothing left
        ];
        for (who, now, expected) in cases {
            assert_eq!(offer(who, at(now)), expected.map(ip), "{who:?} at {now}");
        }
        assert_eq!(
            pools.offer(("other", "nas-1"), &alice, at(8), statics),
            None,
            "a pool ispd does not have is the NAS's"
        );
    }

    #[test]
    fn offers_lapse_sessions_keep_them_and_stops_or_silence_free_them() {
        let mut pools = Pools::new(vec![spec("c", &[], &["10.0.0.1-10.0.0.2"])]).unwrap();
        let none = |_: Ipv4Addr| false;
        let (alice, bob, carol) = (
            holder("alice", "a"),
            holder("bob", "b"),
            holder("carol", "c"),
        );
        let stale = Duration::seconds(300);
        assert_eq!(
            pools.offer(("c", "n"), &alice, at(0), none),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            pools.offer(("c", "n"), &bob, at(0), none),
            Some(ip("10.0.0.2"))
        );
        pools.seen(ip("10.0.0.2"), &bob, at(30));
        // Alice never started: her offer lapses; Bob's session keeps his.
        assert_eq!(pools.expire(at(61), stale), 1);
        assert_eq!(
            pools.offer(("c", "n"), &carol, at(62), none),
            Some(ip("10.0.0.1"))
        );
        // Bob's Stop frees .2; a Stop of somebody else's session frees nothing.
        pools.stopped(ip("10.0.0.1"), &bob);
        pools.stopped(ip("10.0.0.2"), &bob);
        assert_eq!(
            pools.offer(("c", "n"), &alice, at(63), none),
            Some(ip("10.0.0.2"))
        );
        // A session not heard of for the stale time goes as the sweep closes it.
        pools.seen(ip("10.0.0.2"), &alice, at(100));
        pools.seen(ip("10.0.0.1"), &carol, at(300));
        assert_eq!(pools.expire(at(400), stale), 1, "alice's, last seen at 100");
        let usage = pools.usage(none);
        assert_eq!(
            (usage[0].in_use, usage[0].offered, usage[0].size),
            (1, 0, 2)
        );
    }

    #[test]
    fn an_address_in_use_that_nobody_was_offered_is_never_handed_out() {
        let mut pools = Pools::new(vec![spec("c", &[], &["10.0.0.1-10.0.0.2"])]).unwrap();
        let none = |_: Ipv4Addr| false;
        // After a restart, accounting reports .1 in use.
        pools.seen(ip("10.0.0.1"), &holder("dave", "d"), at(0));
        assert_eq!(
            pools.offer(("c", "n"), &holder("erin", "e"), at(1), none),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(
            pools.offer(("c", "n"), &holder("fred", "f"), at(2), none),
            None
        );
    }

    #[test]
    fn a_pool_for_the_asking_nas_goes_before_a_global_one() {
        let mut pools = Pools::new(vec![
            spec("c", &[], &["10.0.0.1-10.0.0.9"]),
            spec("c", &["brno"], &["10.1.0.1-10.1.0.9"]),
        ])
        .unwrap();
        let none = |_: Ipv4Addr| false;
        let from = |pools: &mut Pools, nas| pools.offer(("c", nas), &holder(nas, ""), at(0), none);
        assert_eq!(from(&mut pools, "brno"), Some(ip("10.1.0.1")));
        assert_eq!(from(&mut pools, "praha"), Some(ip("10.0.0.1")));
    }

    #[test]
    fn a_new_config_keeps_the_leases_that_still_fit() {
        let none = |_: Ipv4Addr| false;
        let mut pools = Pools::new(vec![spec("c", &[], &["10.0.0.1-10.0.0.9"])]).unwrap();
        pools.seen(ip("10.0.0.1"), &holder("a", ""), at(0));
        pools.seen(ip("10.0.0.9"), &holder("b", ""), at(0));
        let next = pools
            .reconfigured(vec![spec("c", &[], &["10.0.0.1-10.0.0.5"])])
            .unwrap();
        let usage = next.usage(none);
        assert_eq!((usage[0].size, usage[0].in_use), (5, 1));
    }
}
