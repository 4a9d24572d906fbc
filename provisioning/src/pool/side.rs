//! One pool's book of leases over one kind of space (IPv4 addresses or IPv6 prefixes): who
//! holds what, offered or in use, and where the next search starts. The rules are the same
//! for both kinds, so they are written once here.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::Holder;
use super::space::Space;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Held {
    /// Offered in an Access-Accept, not yet seen in accounting: free again after `until`.
    Offered { until: DateTime<Utc> },
    /// Seen in accounting, last at `seen`.
    InUse { seen: DateTime<Utc> },
}

#[derive(Debug, Clone)]
pub(super) struct Lease {
    pub(super) holder: Holder,
    pub(super) held: Held,
}

/// What [`Side::pick`] found for a holder, not yet held.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pick<A> {
    pub(super) addr: A,
    /// Where a fresh one lies (the search goes on after it); `None`: the holder's own.
    offset: Option<u64>,
}

#[derive(Debug, Clone)]
pub(super) struct Side<S: Space> {
    pub(super) blocks: Vec<S>,
    pub(super) size: u64,
    pub(super) leases: HashMap<S::Addr, Lease>,
    by_holder: HashMap<super::Holder, S::Addr>,
    /// Where the next search starts (an offset into the blocks).
    next: u64,
}

impl<S: Space> Side<S> {
    pub(super) fn new(blocks: Vec<S>) -> Self {
        Side {
            size: blocks.iter().map(Space::count).sum(),
            blocks,
            leases: HashMap::new(),
            by_holder: HashMap::new(),
            next: 0,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    pub(super) fn contains(&self, addr: S::Addr) -> bool {
        self.blocks.iter().any(|b| b.holds(addr))
    }

    /// The address at `offset` into the blocks.
    pub(super) fn at(&self, mut offset: u64) -> Option<S::Addr> {
        for block in &self.blocks {
            if offset < block.count() {
                return block.nth(offset);
            }
            offset -= block.count();
        }
        None
    }

    pub(super) fn hold(&mut self, addr: S::Addr, holder: Holder, held: Held) {
        if let Some(previous) = self.leases.get(&addr)
            && previous.holder != holder
        {
            self.by_holder.remove(&previous.holder);
        }
        if let Some(old) = self.by_holder.insert(holder.clone(), addr)
            && old != addr
        {
            self.leases.remove(&old);
        }
        self.leases.insert(addr, Lease { holder, held });
    }

    pub(super) fn release(&mut self, addr: S::Addr) {
        if let Some(lease) = self.leases.remove(&addr) {
            self.by_holder.remove(&lease.holder);
        }
    }

    /// What `holder` would get: the one it holds (unless it became `reserved`), else the next
    /// free one after the last handed out, round the blocks, that is not `reserved`.
    pub(super) fn pick(
        &self,
        holder: &Holder,
        reserved: impl Fn(S::Addr) -> bool,
    ) -> Option<Pick<S::Addr>> {
        if let Some(&addr) = self.by_holder.get(holder)
            && !reserved(addr)
        {
            return Some(Pick { addr, offset: None });
        }
        (0..self.size).find_map(|step| {
            let offset = (self.next + step) % self.size;
            let addr = self.at(offset)?;
            (!self.leases.contains_key(&addr) && !reserved(addr)).then_some(Pick {
                addr,
                offset: Some(offset),
            })
        })
    }

    /// Holds `pick` for `holder` as offered until `until` (a held one in use stays in use).
    pub(super) fn take(&mut self, pick: Pick<S::Addr>, holder: &Holder, until: DateTime<Utc>) {
        match pick.offset {
            None => {
                if let Some(lease) = self.leases.get_mut(&pick.addr)
                    && let Held::Offered { until: held } = &mut lease.held
                {
                    *held = until;
                }
            }
            Some(offset) => {
                self.next = (offset + 1) % self.size;
                self.hold(pick.addr, holder.clone(), Held::Offered { until });
            }
        }
    }

    /// Accounting shows `addr` stopped for `holder`: free, unless another holds it by now.
    pub(super) fn stopped(&mut self, addr: S::Addr, holder: &Holder) {
        if self.leases.get(&addr).is_some_and(|l| l.holder == *holder) {
            self.release(addr);
        }
    }

    /// Releases lapsed offers and leases not heard of for `stale`; returns how many.
    pub(super) fn expire(&mut self, now: DateTime<Utc>, stale: Duration) -> usize {
        let gone: Vec<S::Addr> = self
            .leases
            .iter()
            .filter(|(_, lease)| match lease.held {
                Held::Offered { until } => until <= now,
                Held::InUse { seen } => seen.checked_add_signed(stale).is_some_and(|t| t <= now),
            })
            .map(|(addr, _)| *addr)
            .collect();
        for addr in &gone {
            self.release(*addr);
        }
        gone.len()
    }

    /// The offers not yet seen in accounting: (address, holder, until).
    pub(super) fn offers(&self) -> impl Iterator<Item = (S::Addr, &Holder, DateTime<Utc>)> {
        self.leases
            .iter()
            .filter_map(|(addr, lease)| match lease.held {
                Held::Offered { until } => Some((*addr, &lease.holder, until)),
                Held::InUse { .. } => None,
            })
    }

    /// Holds `addr` for `holder` as offered until `until`, unless the address or the holder
    /// is held already (what accounting shows in use wins over an offer).
    pub(super) fn offer_again(&mut self, addr: S::Addr, holder: &Holder, until: DateTime<Utc>) {
        if self.contains(addr)
            && !self.leases.contains_key(&addr)
            && !self.by_holder.contains_key(holder)
        {
            self.hold(addr, holder.clone(), Held::Offered { until });
        }
    }

    /// How many are offered and how many in use.
    pub(super) fn counts(&self) -> (u64, u64) {
        let offered = self
            .leases
            .values()
            .filter(|l| matches!(l.held, Held::Offered { .. }))
            .count() as u64;
        (offered, self.leases.len() as u64 - offered)
    }
}
