//! One pool's book of leases over one kind of space (IPv4 addresses or IPv6 prefixes): who
//! holds what, offered or in use, and where the next search starts. The rules are the same
//! for both kinds, so they are written once here.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::space::Space;
use super::{Heard, Holder};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Held {
    /// Offered in an Access-Accept, not yet seen in accounting: free again after `until`.
    Offered { until: DateTime<Utc> },
    /// Seen in accounting, last at `seen` (ispd's clock), by `nas`, whose latest record of
    /// the session is of `event` (the NAS's clock): an Accounting-On/Off at or after it ends
    /// the session.
    InUse {
        seen: DateTime<Utc>,
        nas: String,
        event: DateTime<Utc>,
    },
}

/// An address whose holder's session ended (its Stop, or its NAS's Accounting-On/Off) at
/// `event` by the NAS's clock: a record of that holder's on the address from no later is
/// the ended session's own, arriving late, and does not hold the address again.
#[derive(Debug, Clone)]
struct Ended {
    holder: Holder,
    event: DateTime<Utc>,
    /// When it was noted (ispd's clock): forgotten a stale time later.
    noted: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub(super) struct Lease {
    pub(super) holder: Holder,
    pub(super) held: Held,
}

impl Lease {
    /// An offer whose Start did not come in time.
    fn lapsed(&self, now: DateTime<Utc>) -> bool {
        matches!(self.held, Held::Offered { until } if until <= now)
    }
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
    ended: HashMap<S::Addr, Ended>,
    /// The address each holder's session ended on last, so its next login gets it back.
    ended_by_holder: HashMap<super::Holder, S::Addr>,
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
            ended: HashMap::new(),
            ended_by_holder: HashMap::new(),
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

    /// What `holder` would get at `now`: the one it holds (unless it became `reserved`), else
    /// the next free one after the last handed out, round the blocks, that is not `reserved`.
    /// An offer that lapsed is free, whether or not the sweep has let it go yet (found
    /// probing from outside: a full pool refused logins for up to two minutes, not one).
    pub(super) fn pick(
        &self,
        holder: &Holder,
        now: DateTime<Utc>,
        reserved: impl Fn(S::Addr) -> bool,
    ) -> Option<Pick<S::Addr>> {
        if let Some(&addr) = self.by_holder.get(holder)
            && !reserved(addr)
        {
            return Some(Pick { addr, offset: None });
        }
        let taken = |addr: S::Addr| self.leases.get(&addr).is_some_and(|l| !l.lapsed(now));
        // A reconnect (its Stop came first) gets the address its session ended on back, while
        // nobody took it meanwhile (found probing from outside: it got the next free one).
        if let Some(&addr) = self.ended_by_holder.get(holder)
            && self.ended.get(&addr).is_some_and(|e| e.holder == *holder)
            && !taken(addr)
            && !reserved(addr)
        {
            return Some(Pick { addr, offset: None });
        }
        (0..self.size).find_map(|step| {
            let offset = (self.next + step) % self.size;
            let addr = self.at(offset)?;
            (!taken(addr) && !reserved(addr)).then_some(Pick {
                addr,
                offset: Some(offset),
            })
        })
    }

    /// Holds `pick` for `holder` as offered until `until` (a held one in use stays in use).
    pub(super) fn take(&mut self, pick: Pick<S::Addr>, holder: &Holder, until: DateTime<Utc>) {
        match pick.offset {
            None => match self.leases.get_mut(&pick.addr) {
                Some(lease) if lease.holder == *holder => {
                    if let Held::Offered { until: held } = &mut lease.held {
                        *held = until;
                    }
                }
                // The address its last session ended on, free (or a lapsed offer).
                _ => self.hold(pick.addr, holder.clone(), Held::Offered { until }),
            },
            Some(offset) => {
                self.next = (offset + 1) % self.size;
                self.hold(pick.addr, holder.clone(), Held::Offered { until });
            }
        }
    }

    /// Accounting shows `addr` in use: held by the record's holder, unless the record is
    /// a late one of a session that ended on it.
    pub(super) fn seen(&mut self, addr: S::Addr, heard: &Heard<'_>) {
        if self
            .ended
            .get(&addr)
            .is_some_and(|e| e.holder == *heard.holder && heard.event <= e.event)
        {
            return;
        }
        self.forget_ended(addr);
        // Records of one session can arrive out of order: its latest event is kept.
        let event = match self.leases.get(&addr) {
            Some(Lease {
                holder,
                held: Held::InUse { event, .. },
            }) if holder == heard.holder => heard.event.max(*event),
            _ => heard.event,
        };
        let held = Held::InUse {
            seen: heard.now,
            nas: heard.nas.to_owned(),
            event,
        };
        self.hold(addr, heard.holder.clone(), held);
    }

    /// Accounting shows `addr` stopped for the record's holder: free, unless another holds
    /// it by now.
    pub(super) fn stopped(&mut self, addr: S::Addr, heard: &Heard<'_>) {
        if self
            .leases
            .get(&addr)
            .is_some_and(|l| l.holder == *heard.holder)
        {
            self.release(addr);
        }
        if !self.leases.contains_key(&addr) {
            self.end(addr, heard.holder.clone(), heard.event, heard.now);
        }
    }

    fn end(&mut self, addr: S::Addr, holder: Holder, event: DateTime<Utc>, now: DateTime<Utc>) {
        self.ended_by_holder.insert(holder.clone(), addr);
        let ended = Ended {
            holder,
            event,
            noted: now,
        };
        self.ended.insert(addr, ended);
    }

    fn forget_ended(&mut self, addr: S::Addr) {
        if let Some(ended) = self.ended.remove(&addr)
            && self.ended_by_holder.get(&ended.holder) == Some(&addr)
        {
            self.ended_by_holder.remove(&ended.holder);
        }
    }

    /// `nas` restarted at `at` (its clock): every address in use by a session it last
    /// reported before then is free. Returns how many.
    pub(super) fn nas_restarted(
        &mut self,
        nas: &str,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> usize {
        let gone: Vec<(S::Addr, Holder)> = self
            .leases
            .iter()
            .filter(|(_, lease)| {
                matches!(&lease.held, Held::InUse { nas: n, event, .. } if n == nas && *event <= at)
            })
            .map(|(addr, lease)| (*addr, lease.holder.clone()))
            .collect();
        for (addr, holder) in &gone {
            self.release(*addr);
            self.end(*addr, holder.clone(), at, now);
        }
        gone.len()
    }

    /// Releases lapsed offers and leases not heard of for `stale`; returns how many.
    pub(super) fn expire(&mut self, now: DateTime<Utc>, stale: Duration) -> usize {
        let gone: Vec<S::Addr> = self
            .leases
            .iter()
            .filter(|(_, lease)| match &lease.held {
                Held::Offered { until } => *until <= now,
                Held::InUse { seen, .. } => {
                    seen.checked_add_signed(stale).is_some_and(|t| t <= now)
                }
            })
            .map(|(addr, _)| *addr)
            .collect();
        for addr in &gone {
            self.release(*addr);
        }
        self.ended
            .retain(|_, e| e.noted.checked_add_signed(stale).is_some_and(|t| t > now));
        let ended = &self.ended;
        self.ended_by_holder
            .retain(|holder, addr| ended.get(addr).is_some_and(|e| e.holder == *holder));
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

    /// How many are offered and how many in use at `now` (a lapsed offer is free).
    pub(super) fn counts(&self, now: DateTime<Utc>) -> (u64, u64) {
        let (mut offered, mut in_use) = (0, 0);
        for lease in self.leases.values() {
            match lease.held {
                Held::Offered { .. } if lease.lapsed(now) => {}
                Held::Offered { .. } => offered += 1,
                Held::InUse { .. } => in_use += 1,
            }
        }
        (offered, in_use)
    }

    /// Whether `addr` is held (offered, or in use).
    pub(super) fn is_held(&self, addr: S::Addr) -> bool {
        self.leases.contains_key(&addr)
    }
}
