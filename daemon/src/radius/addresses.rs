//! The address pools ispd hands out itself, shared by the auth and accounting ports: the
//! rules are `ispd_provisioning::pool`'s, this is where they meet the packets. Everything is
//! in memory; what survives a restart is what accounting stored — every open session's
//! Framed-IP-Address and delegated prefix are held again for its login on start.
//!
//! One lock for all pools: it is taken only for an Accept whose tariff names a pool of
//! ispd's, and for an Accounting-Request that carries an address or a prefix.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use ispd_provisioning::accounting::AcctRecord;
use ispd_provisioning::policy::{AccessRequest, Decision, RejectReason, ipv6_attribute, reject};
use ispd_provisioning::pool::{Holder, PoolError, PoolSpec, PoolUsage, Pools};
use ispd_provisioning::reply::ReplyAttribute;

use super::access_cache::AccessCache;
use crate::storage::OpenAddress;

#[derive(Default)]
pub struct Addresses {
    pools: Mutex<Pools>,
    /// Whether any pool is configured: without one, accounting never takes the lock.
    any: AtomicBool,
}

impl Addresses {
    /// Takes the pools of the config at start, with the addresses and prefixes of the `open`
    /// sessions held again.
    pub fn start(
        &self,
        specs: Vec<PoolSpec>,
        open: Vec<OpenAddress>,
        now: DateTime<Utc>,
    ) -> Result<(), PoolError> {
        let mut pools = Pools::new(specs)?;
        for open in open {
            let holder = Holder {
                username: open.username,
                device: open.device,
            };
            if let Some(ip) = open.ipv4 {
                pools.seen(ip, &holder, now);
            }
            if let Some(prefix) = open.prefix {
                pools.seen_prefix(prefix, &holder, now);
            }
        }
        self.any.store(!pools.is_empty(), Ordering::Release);
        *self.pools() = pools;
        Ok(())
    }

    fn pools(&self) -> std::sync::MutexGuard<'_, Pools> {
        self.pools.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A reloaded config's pools, keeping the leases that still fit.
    pub fn reconfigure(&self, specs: Vec<PoolSpec>) -> Result<(), PoolError> {
        let mut pools = self.pools();
        *pools = pools.reconfigured(specs)?;
        self.any.store(!pools.is_empty(), Ordering::Release);
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
            device: device.to_owned(),
        };
        // A login with a prefix of its own takes none from the pool.
        let wants_prefix = !attributes.iter().any(|a| {
            matches!(
                a,
                ReplyAttribute::FramedIpv6Prefix(_) | ReplyAttribute::DelegatedIpv6Prefix(_)
            )
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

    /// An Accounting-Request's address and prefix: held while its session runs, free at its
    /// Stop.
    pub fn accounted(&self, record: &AcctRecord, stopped: bool, now: DateTime<Utc>) {
        if !self.any.load(Ordering::Acquire)
            || (record.framed_ip.is_none() && record.delegated_prefix.is_none())
        {
            return;
        }
        let holder = Holder {
            username: record.username.clone(),
            device: record.calling_station.clone().unwrap_or_default(),
        };
        let mut pools = self.pools();
        if let Some(ip) = record.framed_ip {
            if stopped {
                pools.stopped(ip, &holder);
            } else {
                pools.seen(ip, &holder, now);
            }
        }
        if let Some(prefix) = record.delegated_prefix {
            if stopped {
                pools.stopped_prefix(prefix, &holder);
            } else {
                pools.seen_prefix(prefix, &holder, now);
            }
        }
    }

    /// Frees offers nobody took up and addresses of sessions not heard of for `stale`.
    pub fn expire(&self, now: DateTime<Utc>, stale: std::time::Duration) -> usize {
        let stale = chrono::Duration::from_std(stale).unwrap_or(chrono::Duration::MAX);
        self.pools().expire(now, stale)
    }

    pub fn usage(&self, cache: &AccessCache) -> Vec<PoolUsage> {
        self.pools().usage(cache)
    }
}
