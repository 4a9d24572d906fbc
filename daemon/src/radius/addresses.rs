//! The address pools ispd hands out itself, shared by the auth and accounting ports: the
//! rules are `ispd_provisioning::pool`'s, this is where they meet the packets. Everything is
//! in memory; what survives a restart is what accounting stored — every open session's
//! Framed-IP-Address and delegated prefix are held again for its login on start — and the
//! offers whose accounting had not come yet, which a clean stop writes to
//! [`OFFERS_FILE`] in the state directory and the next start reads (and removes). A plain
//! file rather than the database: it is this instance's memory, read once, and the hot path
//! that makes the offers never touches the database.
//!
//! One lock for all pools: it is taken only for an Accept whose tariff names a pool of
//! ispd's, and for an Accounting-Request that carries an address or a prefix.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use ispd_provisioning::accounting::{AcctRecord, StatusType};
use ispd_provisioning::policy::{AccessRequest, Decision, RejectReason, ipv6_attribute, reject};
use ispd_provisioning::pool::{
    Heard, Holder, Offered, OfferedAddress, PoolError, PoolSpec, PoolUsage, Pools,
};
use ispd_provisioning::reply::ReplyAttribute;

use super::access_cache::AccessCache;
use crate::storage::OpenAddress;

#[derive(Default)]
pub struct Addresses {
    pools: Mutex<Pools>,
    /// Whether any pool is configured: without one, accounting never takes the lock.
    any: AtomicBool,
    /// Where a clean stop keeps the offers: `<state dir>/`[`OFFERS_FILE`], set at start.
    offers_file: std::sync::OnceLock<PathBuf>,
}

impl Addresses {
    /// Takes the pools of the config at start, with the addresses and prefixes of the `open`
    /// sessions held again, then the offers the stop before kept in `state_dir` that still
    /// last.
    pub fn start(
        &self,
        specs: Vec<PoolSpec>,
        open: Vec<OpenAddress>,
        state_dir: &Path,
        now: DateTime<Utc>,
    ) -> Result<(), PoolError> {
        let file = state_dir.join(OFFERS_FILE);
        let kept = kept_offers(&file);
        let _ = self.offers_file.set(file);
        let mut pools = Pools::new(specs)?;
        hold(&mut pools, open, now);
        for offer in &kept {
            pools.offer_again(offer, now);
        }
        self.any.store(!pools.is_empty(), Ordering::Release);
        *self.pools() = pools;
        Ok(())
    }

    /// Whether any pool is configured.
    pub fn any_pool(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    fn pools(&self) -> std::sync::MutexGuard<'_, Pools> {
        self.pools.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A reloaded config's pools, keeping the leases that still fit, with the addresses and
    /// prefixes of the `open` sessions held again as at start: a lease that fell outside a
    /// pool shrunk by one reload was forgotten, and the next reload growing it back handed
    /// the address of an online session to another login (found probing from outside).
    pub fn reconfigure(
        &self,
        specs: Vec<PoolSpec>,
        open: Vec<OpenAddress>,
        now: DateTime<Utc>,
    ) -> Result<(), PoolError> {
        let mut pools = self.pools();
        let mut next = pools.reconfigured(specs)?;
        hold(&mut next, open, now);
        self.any.store(!next.is_empty(), Ordering::Release);
        *pools = next;
        Ok(())
    }

    /// An Accept whose Framed-Pool names a pool of ispd's for this NAS carries an address
    /// from it instead; with the pool exhausted the request is rejected, since the NAS has
    /// no pool of that name to fall back on.
    pub fn assign(
        &self,
        decision: Decision,
        (nas, request): (&str, &AccessRequest<'_>),
        (username, device): (&str, &str),
        cache: &AccessCache,
    ) -> Decision {
        if !self.any.load(Ordering::Acquire) {
            return decision;
        }
        let Decision::Accept {
            mut attributes,
            state,
        } = decision
        else {
            return decision;
        };
        let found = attributes.iter().enumerate().find_map(|(i, a)| match a {
            ReplyAttribute::FramedPool(name) => Some((i, name.clone())),
            _ => None,
        });
        let Some((slot, name)) = found else {
            return Decision::Accept { attributes, state };
        };
        let mut pools = self.pools();
        if !pools.serves(&name, nas) {
            drop(pools);
            return Decision::Accept { attributes, state };
        }
        let holder = Holder {
            username: username.to_owned(),
            device: device_of(device),
        };
        // A login with a prefix of its own (static, or an extra's) takes none from the pool.
        let wants_prefix = !attributes.iter().any(|a| match a {
            ReplyAttribute::FramedIpv6Prefix(_) | ReplyAttribute::DelegatedIpv6Prefix(_) => true,
            ReplyAttribute::Extra { name, .. } => {
                ispd_provisioning::policy::OWN_PREFIX_EXTRAS.contains(&name.as_str())
            }
            _ => false,
        });
        let offered = pools.offer((&name, nas), &holder, wants_prefix, request.at.utc, cache);
        drop(pools);
        let Some(offer) = offered else {
            tracing::warn!(nas, user = username, pool = %name, "address pool exhausted");
            return reject(RejectReason::PoolExhausted, request);
        };
        // A pool without IPv4 ranges leaves the name to the NAS's own pool.
        if let Some(ip) = offer.ipv4 {
            attributes[slot] = ReplyAttribute::FramedIpAddress(ip);
        }
        if let Some(prefix) = offer.prefix {
            attributes.push(ipv6_attribute(prefix));
        }
        Decision::Accept { attributes, state }
    }

    /// An Accounting-Request of `nas`: its address and prefix held while its session runs,
    /// free at its Stop; an Accounting-On/Off frees those of the NAS's sessions before it.
    /// Silence is measured from the record's arrival.
    pub fn accounted(&self, nas: &str, record: &AcctRecord) {
        if !self.any.load(Ordering::Acquire) {
            return;
        }
        let now = record.heard_at();
        if matches!(
            record.status,
            StatusType::AccountingOn | StatusType::AccountingOff
        ) {
            self.pools().nas_restarted(nas, record.event_time, now);
            return;
        }
        if record.framed_ip.is_none() && record.delegated_prefix.is_none() {
            return;
        }
        let holder = Holder {
            username: record.username.clone(),
            device: device_of(record.calling_station.as_deref().unwrap_or_default()),
        };
        let heard = Heard {
            holder: &holder,
            nas,
            event: record.event_time,
            now,
        };
        let stopped = record.status == StatusType::Stop;
        let mut pools = self.pools();
        if let Some(ip) = record.framed_ip {
            if stopped {
                pools.stopped(ip, &heard);
            } else {
                pools.seen(ip, &heard);
            }
        }
        if let Some(prefix) = record.delegated_prefix {
            if stopped {
                pools.stopped_prefix(prefix, &heard);
            } else {
                pools.seen_prefix(prefix, &heard);
            }
        }
    }

    /// Holds the addresses and prefixes of `open` sessions another instance heard of (their
    /// accounting went there, the Accept may have come from here), as if heard here.
    pub fn heard_elsewhere(&self, open: Vec<OpenAddress>, now: DateTime<Utc>) {
        if !self.any.load(Ordering::Acquire) || open.is_empty() {
            return;
        }
        hold(&mut self.pools(), open, now);
    }

    /// Frees offers nobody took up and addresses of sessions not heard of for `stale`.
    pub fn expire(&self, now: DateTime<Utc>, stale: std::time::Duration) -> usize {
        let stale = chrono::Duration::from_std(stale).unwrap_or(chrono::Duration::MAX);
        self.pools().expire(now, stale)
    }

    pub fn usage(&self, cache: &AccessCache, now: DateTime<Utc>) -> Vec<PoolUsage> {
        self.pools().usage(cache, now)
    }

    /// At a clean stop: writes the offers whose accounting has not come yet to the state
    /// directory's [`OFFERS_FILE`], for the next start; returns how many.
    pub fn keep_offers(&self) -> std::io::Result<usize> {
        let offered: Vec<KeptOffer> = self.pools().offered().iter().map(KeptOffer::from).collect();
        let Some(path) = self.offers_file.get() else {
            return Ok(0);
        };
        if offered.is_empty() {
            return Ok(0);
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(&offered)?)?;
        std::fs::rename(&tmp, path)?;
        Ok(offered.len())
    }
}

/// The file of [`Addresses::keep_offers`].
pub const OFFERS_FILE: &str = "pool-offers.json";

/// The offers a clean stop kept in `path`, removed as they are read (a later start after a
/// kill -9 must not take them again): an unreadable file is logged and left out — the
/// offers lapse within a minute anyway.
/// The device a Calling-Station-Id names: a MAC in one notation whichever the NAS (or a
/// subscriber's client) wrote — `02-00-…`, `0200.0000.…` and `02:00:…` are one device, which
/// gets its address back instead of taking another each time (found probing from outside:
/// one login drained a pool by varying the notation). Anything else as it was sent.
fn device_of(calling_station: &str) -> String {
    calling_station
        .parse::<ispd_provisioning::mac::MacAddress>()
        .map_or_else(|_| calling_station.to_owned(), |mac| mac.to_string())
}

/// Holds the address and prefix of each `open` session for its holder, as heard `now`.
fn hold(pools: &mut Pools, open: Vec<OpenAddress>, now: DateTime<Utc>) {
    for open in open {
        let holder = Holder {
            username: open.username,
            device: device_of(&open.device),
        };
        let heard = Heard {
            holder: &holder,
            nas: &open.nas_name,
            event: open.updated_at,
            now,
        };
        if let Some(ip) = open.ipv4 {
            pools.seen(ip, &heard);
        }
        if let Some(prefix) = open.prefix {
            pools.seen_prefix(prefix, &heard);
        }
    }
}

fn kept_offers(path: &Path) -> Vec<Offered> {
    let read = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            tracing::warn!(error = %e, path = %path.display(), "the pools' offers kept by the last stop cannot be read; left out");
            return Vec::new();
        }
    };
    if let Err(e) = std::fs::remove_file(path) {
        tracing::warn!(error = %e, path = %path.display(), "the pools' offers file cannot be removed");
    }
    match serde_json::from_slice::<Vec<KeptOffer>>(&read) {
        Ok(kept) => kept
            .into_iter()
            .filter_map(KeptOffer::into_offered)
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, path = %path.display(), "the pools' offers kept by the last stop are malformed; left out");
            Vec::new()
        }
    }
}

/// One offer as the file holds it.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptOffer {
    username: String,
    device: String,
    /// An IPv4 address, or an IPv6 prefix (`2001:db8::/56`).
    address: String,
    until: DateTime<Utc>,
}

impl From<&Offered> for KeptOffer {
    fn from(o: &Offered) -> Self {
        KeptOffer {
            username: o.holder.username.clone(),
            device: o.holder.device.clone(),
            address: match o.held {
                OfferedAddress::Ipv4(ip) => ip.to_string(),
                OfferedAddress::Prefix(prefix) => prefix.to_string(),
            },
            until: o.until,
        }
    }
}

impl KeptOffer {
    fn into_offered(self) -> Option<Offered> {
        let held = match self.address.parse() {
            Ok(ip) => OfferedAddress::Ipv4(ip),
            Err(_) => OfferedAddress::Prefix(self.address.parse().ok()?),
        };
        Some(Offered {
            holder: Holder {
                username: self.username,
                device: self.device,
            },
            held,
            until: self.until,
        })
    }
}
