//! The in-memory access cache: every login with what RADIUS needs to answer for it, so the
//! hot path never touches the database. Built at start-up; each admin change reloads the
//! logins it touches before the API call returns.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use ispd_billing::tariff::{CapPeriod, DataCap};
use ispd_provisioning::login::Ipv6Prefix;
use ispd_provisioning::mac::MacAddress;
use ispd_provisioning::pool::Statics;
use std::num::NonZeroU32;

use ispd_provisioning::policy::{LoginAccess, access_state};

use crate::storage::{AccessRow, AccessScope};

/// What a cached login belongs to, so a change to a subscription, client or tariff finds it.
/// Its name, client and MAC are the login's own (one copy per login, however many indexes
/// hold it: at a million logins every copy is tens of megabytes).
#[derive(Debug, Clone)]
pub struct Owner {
    access: Arc<LoginAccess>,
    subscription_id: i64,
    tariff_id: i64,
    /// The subscription's billing periods, which a data cap counts in.
    cap_period: CapPeriod,
}

/// A login under a data cap, as the cap watch sees it on a day.
#[derive(Debug, Clone, Copy)]
pub struct CapHolder {
    pub login_id: i64,
    /// A cap counts the traffic of all the subscription's logins together.
    pub subscription_id: i64,
    pub cap: DataCap,
    /// Marked as crossed now.
    pub crossed: bool,
    /// The first day of the billing period the day is in.
    pub counts_from: NaiveDate,
}

impl Owner {
    /// Whether the login `id` with this owner lies inside `scope`.
    pub fn in_scope(&self, id: i64, scope: &AccessScope) -> bool {
        match scope {
            AccessScope::All => true,
            AccessScope::Login(login) => id == *login,
            AccessScope::Logins(logins) => logins.contains(&id),
            AccessScope::Subscription(s) => self.subscription_id == *s,
            AccessScope::Client(number) => &self.access.client_number == number,
            AccessScope::Tariff(t) => self.tariff_id == *t,
        }
    }

    pub fn username(&self) -> &str {
        &self.access.username
    }
}

/// A cached login with its owner, as [`AccessCache::select`] hands it out.
#[derive(Debug, Clone)]
pub struct Entry {
    pub owner: Owner,
}

impl Entry {
    /// The login's access, as the owner holds it.
    pub fn access(&self) -> &Arc<LoginAccess> {
        &self.owner.access
    }
}

#[derive(Default)]
pub struct AccessCache {
    by_username: HashMap<String, Arc<LoginAccess>>,
    by_mac: HashMap<MacAddress, Arc<LoginAccess>>,
    owners: HashMap<i64, Owner>,
    /// Open sessions per login id, for Simultaneous-Use (maintained by accounting).
    open_sessions: HashMap<i64, u32>,
    /// `[radius] simultaneous_use`; `None` = no limit.
    simultaneous_use: Option<NonZeroU32>,
    /// Logins over their tariff's data cap this period (kept by the cap watch, not stored).
    capped: std::collections::HashSet<i64>,
    /// Every login's static IPv4 address: an address pool never hands these out.
    static_ipv4: HashMap<std::net::Ipv4Addr, i64>,
    /// Every login's static IPv6 prefix by its first address: (length, login), for the same.
    static_ipv6: BTreeMap<u128, (u8, i64)>,
}

impl AccessCache {
    /// An empty cache; [`AccessCache::insert`] fills it (the start-up load, row by row).
    pub fn new(simultaneous_use: u32) -> AccessCache {
        AccessCache {
            simultaneous_use: NonZeroU32::new(simultaneous_use),
            ..AccessCache::default()
        }
    }

    pub fn set_open_sessions(&mut self, open: HashMap<i64, u32>) {
        self.open_sessions = open;
    }

    /// Sets the counts of `logins` to `open` (a login absent there has none).
    pub fn set_open_sessions_of(&mut self, logins: &[i64], open: &HashMap<i64, u32>) {
        for login in logins {
            match open.get(login) {
                Some(&n) if n > 0 => self.open_sessions.insert(*login, n),
                _ => self.open_sessions.remove(login),
            };
        }
    }

    pub fn adjust_open_sessions(&mut self, login_id: i64, delta: i32) {
        let count = self.open_sessions.entry(login_id).or_insert(0);
        *count = count.saturating_add_signed(delta);
        if *count == 0 {
            self.open_sessions.remove(&login_id);
        }
    }

    pub fn open_sessions(&self, login_id: i64) -> u32 {
        self.open_sessions.get(&login_id).copied().unwrap_or(0)
    }

    /// Returns whether the limit changed (cached logins then need rebuilding).
    pub fn set_simultaneous_use(&mut self, limit: u32) -> bool {
        let limit = NonZeroU32::new(limit);
        std::mem::replace(&mut self.simultaneous_use, limit) != limit
    }

    /// Whether `ip` is some login's static address.
    pub fn is_static(&self, ip: std::net::Ipv4Addr) -> bool {
        self.static_ipv4.contains_key(&ip)
    }

    pub fn contains_login(&self, login_id: i64) -> bool {
        self.owners.contains_key(&login_id)
    }

    pub fn len(&self) -> usize {
        self.by_username.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_username.is_empty()
    }

    /// The login a request names: by User-Name, or for MAC authentication by the MAC in
    /// User-Name or Calling-Station-Id.
    pub fn lookup(
        &self,
        user_name: &str,
        calling_station: Option<MacAddress>,
    ) -> Option<&LoginAccess> {
        if let Some(login) = self.by_username.get(user_name) {
            return Some(login);
        }
        let mac = user_name.parse::<MacAddress>().ok().or(calling_station)?;
        self.by_mac.get(&mac).map(Arc::as_ref)
    }

    /// Replaces every cached login inside `scope` with `rows` (the scope's logins as they are
    /// now in the database): deleted ones disappear, changed ones are replaced.
    pub fn apply(&mut self, scope: &AccessScope, rows: Vec<AccessRow>) {
        let stale: Vec<i64> = match scope.login_ids() {
            Some(ids) => ids.to_vec(),
            None => self
                .owners
                .iter()
                .filter(|(id, owner)| owner.in_scope(**id, scope))
                .map(|(id, _)| *id)
                .collect(),
        };
        for id in stale {
            self.remove(id);
        }
        for row in rows {
            self.remove(row.login_id);
            self.insert(row);
        }
    }

    /// Marks (or unmarks) `logins` as over their data cap; each login's answer follows at
    /// once — the start-up marks too, which no reload of the login follows.
    pub fn set_capped(&mut self, logins: &[i64], capped: bool) {
        for id in logins {
            if capped {
                self.capped.insert(*id);
            } else {
                self.capped.remove(id);
            }
            let Some(owner) = self.owners.get_mut(id) else {
                continue;
            };
            let marked = capped && owner.access.cap.is_some();
            if owner.access.capped == marked {
                continue;
            }
            let login = Arc::new(LoginAccess {
                capped: marked,
                ..(*owner.access).clone()
            });
            owner.access = login.clone();
            if let Some(mac) = login.mac {
                self.by_mac.insert(mac, login.clone());
            }
            self.by_username.insert(login.username.clone(), login);
        }
    }

    /// Every login whose tariff has a data cap, as of `today`.
    pub fn caps(&self, today: NaiveDate) -> Vec<CapHolder> {
        self.by_username
            .values()
            .filter_map(|l| {
                let owner = self.owners.get(&l.login_id)?;
                Some(CapHolder {
                    login_id: l.login_id,
                    subscription_id: owner.subscription_id,
                    cap: l.cap?,
                    crossed: self.capped.contains(&l.login_id),
                    counts_from: owner.cap_period.counts_from(today),
                })
            })
            .collect()
    }

    /// Every cached login inside `scope`, by id.
    pub fn select(&self, scope: &AccessScope) -> HashMap<i64, Entry> {
        let entry = |(id, owner): (&i64, &Owner)| {
            let owner = owner.clone();
            (*id, Entry { owner })
        };
        match scope.login_ids() {
            Some(ids) => ids
                .iter()
                .filter_map(|id| self.owners.get_key_value(id))
                .map(entry)
                .collect(),
            None => self
                .owners
                .iter()
                .filter(|(id, owner)| owner.in_scope(**id, scope))
                .map(entry)
                .collect(),
        }
    }

    fn remove(&mut self, login_id: i64) {
        if let Some(owner) = self.owners.remove(&login_id) {
            let removed = self.by_username.remove(owner.username());
            if let Some(ip) = removed.as_ref().and_then(|l| l.own_ipv4())
                && self.static_ipv4.get(&ip) == Some(&login_id)
            {
                self.static_ipv4.remove(&ip);
            }
            if let Some(prefix) = removed.as_ref().and_then(|l| l.own_ipv6_prefix()) {
                let start = u128::from(prefix.addr);
                if self
                    .static_ipv6
                    .get(&start)
                    .is_some_and(|(_, id)| *id == login_id)
                {
                    self.static_ipv6.remove(&start);
                }
            }
            if let Some(mac) = owner.access.mac
                && self
                    .by_mac
                    .get(&mac)
                    .is_some_and(|l| l.login_id == login_id)
            {
                self.by_mac.remove(&mac);
            }
        }
    }

    pub fn insert(&mut self, row: AccessRow) {
        let login = Arc::new(LoginAccess {
            login_id: row.login_id,
            state: access_state(
                row.subscription_state,
                row.debt_suspended,
                row.never_suspend,
            ),
            client_number: row.client_number,
            username: row.username,
            password: row.password,
            auth_type: row.auth_type,
            mac: row.mac,
            disabled: row.disabled,
            allowed_nas: row.nas,
            rate: row.rate,
            burst: row.burst,
            framed_pool: (!row.framed_pool.is_empty()).then_some(row.framed_pool),
            ipv4: row.ipv4,
            ipv6_prefix: row.ipv6_prefix,
            attributes: row.attributes,
            simultaneous_use: self.simultaneous_use,
            window: row.window,
            temporary: row.temporary,
            cap: row.cap,
            capped: row.cap.is_some() && self.capped.contains(&row.login_id),
        });
        if let Some(mac) = row.mac {
            self.by_mac.insert(mac, login.clone());
        }
        // A pool never hands out a login's own address or prefix, static or an extra's.
        if let Some(ip) = login.own_ipv4() {
            self.static_ipv4.insert(ip, row.login_id);
        }
        if let Some(prefix) = login.own_ipv6_prefix() {
            self.static_ipv6
                .insert(u128::from(prefix.addr), (prefix.len, row.login_id));
        }
        self.by_username
            .insert(login.username.clone(), login.clone());
        self.owners.insert(
            row.login_id,
            Owner {
                access: login,
                subscription_id: row.subscription_id,
                tariff_id: row.tariff_id,
                cap_period: row.cap_period,
            },
        );
    }
}

/// What the address pools must never hand out: the logins' own addresses and prefixes.
impl Statics for AccessCache {
    fn has_ipv4(&self, ip: std::net::Ipv4Addr) -> bool {
        self.is_static(ip)
    }

    /// A static prefix inside `prefix` starts within its range; one holding it is the
    /// nearest starting at or before it (static prefixes do not nest).
    fn overlaps_prefix(&self, prefix: Ipv6Prefix) -> bool {
        let start = u128::from(prefix.addr);
        if self
            .static_ipv6
            .range(start..=start | !prefix.mask())
            .next()
            .is_some()
        {
            return true;
        }
        self.static_ipv6
            .range(..start)
            .next_back()
            .is_some_and(|(first, (len, _))| {
                let held = Ipv6Prefix {
                    addr: std::net::Ipv6Addr::from(*first),
                    len: *len,
                };
                held.overlaps(&prefix)
            })
    }

    fn prefixes(&self) -> Vec<Ipv6Prefix> {
        self.static_ipv6
            .iter()
            .map(|(start, (len, _))| Ipv6Prefix {
                addr: std::net::Ipv6Addr::from(*start),
                len: *len,
            })
            .collect()
    }
}
