//! Who may talk RADIUS to us: NAS entries by source address, with their opened secrets.
//! Built from the config file and the database; swapped whole when either changes.

use std::collections::HashMap;
use std::net::IpAddr;

use ispd_provisioning::nas::{Nas, NasVendor};

use crate::config::Config;
use crate::storage::{Store, StoreResult};

/// One NAS as the RADIUS server needs it.
#[derive(Clone)]
pub struct NasEntry {
    pub name: String,
    pub secret: Vec<u8>,
    pub vendor: NasVendor,
    pub require_message_authenticator: bool,
    pub limit_proxy_state: bool,
}

impl std::fmt::Debug for NasEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NasEntry")
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .field("vendor", &self.vendor)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
pub struct NasTable {
    by_address: HashMap<IpAddr, NasEntry>,
}

impl NasTable {
    pub fn get(&self, address: IpAddr) -> Option<&NasEntry> {
        self.by_address.get(&canonical(address))
    }

    pub fn len(&self) -> usize {
        self.by_address.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_address.is_empty()
    }

    fn insert(&mut self, nas: &Nas, secret: &str) {
        self.by_address.insert(
            canonical(nas.address),
            NasEntry {
                name: nas.name.clone(),
                secret: secret.as_bytes().to_vec(),
                vendor: nas.vendor,
                require_message_authenticator: nas.require_message_authenticator,
                limit_proxy_state: nas.limit_proxy_state,
            },
        );
    }

    /// Config entries first; a database entry cannot shadow one (the API refuses that).
    pub async fn load(config: &Config, store: &Store) -> StoreResult<NasTable> {
        let mut table = NasTable::default();
        for (nas, secret) in store.nas_with_secrets().await? {
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
