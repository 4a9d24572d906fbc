//! Who may talk RADIUS to us: NAS entries by source address, with their opened secrets.
//! Built from the config file and the database; swapped whole when either changes.

use std::collections::HashMap;
use std::net::IpAddr;

use ispd_provisioning::enforcement::{CoaMode, Outcome, RequestKind};
use ispd_provisioning::nas::{Nas, NasVendor};
use ispd_provisioning::policy::RejectReason;
use ispd_radius::KeyedSecret;

use crate::config::Config;
use crate::storage::{Store, StoreResult};

/// One NAS as the RADIUS server needs it.
#[derive(Clone)]
pub struct NasEntry {
    pub name: smol_str::SmolStr,
    /// Where its RADIUS requests come from, and where CoA and Disconnect go.
    pub address: IpAddr,
    pub coa_port: u16,
    pub coa: CoaMode,
    pub secret: KeyedSecret,
    pub vendor: NasVendor,
    pub require_message_authenticator: bool,
    pub limit_proxy_state: bool,
    /// Its answers, counted by name: registered when the table is built, so the hot path
    /// only adds.
    pub answers: NasAnswers,
}

/// `ispd_radius_answers_total{nas, answer}`: what one NAS was answered. A dashboard shows
/// each NAS's load and reject rate from it, and an alert a NAS gone silent.
#[derive(Clone)]
pub struct NasAnswers {
    pub accept: metrics::Counter,
    pub reject: metrics::Counter,
    pub accounting: metrics::Counter,
    /// `ispd_radius_reject_reasons_total{nas, reason}`, one per [`RejectReason::ALL`].
    reasons: Vec<(RejectReason, metrics::Counter)>,
}

impl NasAnswers {
    fn of(nas: &str) -> NasAnswers {
        let counter = |answer: &'static str| metrics::counter!("ispd_radius_answers_total", "nas" => nas.to_owned(), "answer" => answer);
        // The CoA outcomes and queue too, so a NAS that never needed one shows zeros, not
        // nothing.
        let _registered = metrics::gauge!("ispd_enforcement_queue_depth", "nas" => nas.to_owned());
        for kind in [RequestKind::Coa, RequestKind::Disconnect] {
            // A queued request is recorded, not counted: the counter is of answers.
            for outcome in Outcome::ALL.into_iter().filter(|o| *o != Outcome::Queued) {
                let _registered = metrics::counter!(
                    "ispd_enforcement_requests_total",
                    "nas" => nas.to_owned(),
                    "kind" => kind.as_str(),
                    "outcome" => outcome.as_str(),
                );
            }
        }
        NasAnswers {
            accept: counter("accept"),
            reject: counter("reject"),
            accounting: counter("accounting"),
            reasons: RejectReason::ALL
                .iter()
                .map(|&reason| {
                    let counter = metrics::counter!(
                        "ispd_radius_reject_reasons_total",
                        "nas" => nas.to_owned(),
                        "reason" => reason.as_str(),
                    );
                    (reason, counter)
                })
                .collect(),
        }
    }

    /// Counts a reject of this NAS, in total and by its reason.
    pub fn rejected(&self, reason: RejectReason) {
        self.reject.increment(1);
        if let Some((_, counter)) = self.reasons.iter().find(|(r, _)| *r == reason) {
            counter.increment(1);
        }
    }
}

impl std::fmt::Debug for NasEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NasEntry")
            .field("name", &self.name)
            .field("address", &self.address)
            .field("coa_port", &self.coa_port)
            .field("coa", &self.coa)
            .field("secret", &"<redacted>")
            .field("vendor", &self.vendor)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
pub struct NasTable {
    by_address: HashMap<IpAddr, NasEntry>,
    /// Name → address: sessions name their NAS.
    by_name: HashMap<String, IpAddr>,
}

impl NasTable {
    pub fn get(&self, address: IpAddr) -> Option<&NasEntry> {
        self.by_address.get(&canonical(address))
    }

    pub fn by_name(&self, name: &str) -> Option<&NasEntry> {
        self.by_address.get(self.by_name.get(name)?)
    }

    pub fn len(&self) -> usize {
        self.by_address.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_address.is_empty()
    }

    fn insert(&mut self, nas: &Nas, secret: &str) {
        let address = canonical(nas.address);
        if let Some(shadowed) = self.by_address.get(&address) {
            self.by_name.remove(&*shadowed.name);
        }
        self.by_name.insert(nas.name.clone(), address);
        self.by_address.insert(
            address,
            NasEntry {
                name: nas.name.as_str().into(),
                address,
                coa_port: nas.coa_port,
                coa: nas.coa_mode(),
                secret: KeyedSecret::new(secret.as_bytes()),
                vendor: nas.vendor,
                require_message_authenticator: nas.require_message_authenticator,
                limit_proxy_state: nas.limit_proxy_state,
                answers: NasAnswers::of(&nas.name),
            },
        );
    }

    /// The config's entries and the database's; the API refuses a database entry at a
    /// config entry's address or name, but a `[[nas]]` added to the file later may take one
    /// of the database's. The file's wins, and the database's is left out whole (not
    /// answered under either), with a WARN at every build naming both — found probing from
    /// outside: it was silent, `nas list` showed two, and only the file's secret answered.
    pub async fn load(config: &Config, store: &Store) -> StoreResult<NasTable> {
        let mut table = NasTable::default();
        let declared: Vec<Nas> = (0..config.nas.len())
            .map(|i| config.nas_record(i))
            .collect();
        for (nas, secret) in store.nas_with_secrets().await? {
            let address = canonical(nas.address);
            let taken = declared
                .iter()
                .find(|d| canonical(d.address) == address || d.name == nas.name);
            if let Some(file) = taken {
                tracing::warn!(
                    config_nas = %file.name,
                    config_address = %file.address,
                    api_nas = %nas.name,
                    api_address = %nas.address,
                    "a [[nas]] of the config file has the address or name of a NAS added \
                     through the API: the file's is answered, the API's left out; delete one"
                );
                continue;
            }
            table.insert(&nas, &secret);
        }
        for (i, declared) in config.nas.iter().enumerate() {
            table.insert(&config.nas_record(i), &declared.secret);
        }
        Ok(table)
    }
}

/// An IPv4 peer reached through a dual-stack socket shows up as ::ffff:a.b.c.d.
pub(super) fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}
