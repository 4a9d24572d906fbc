//! The RADIUS authentication server: thin receive loops around the codec (`ispd-radius`)
//! and the policy (`ispd-provisioning`), answering from memory only.

mod access_cache;
pub mod accounting;
pub mod addresses;
pub mod auth_log;
mod burst;
mod cache_updater;
mod dedup;
mod handler;
pub mod latency;
mod nas_table;
pub mod rates;
mod reachability;
mod rejected;
pub(crate) mod reply;
mod spool;
pub mod stats;
mod unknown_sources;

pub use cache_updater::CacheUpdater;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use ispd_provisioning::policy::PolicyConfig;
use std::net::UdpSocket;

pub use access_cache::{AccessCache, CapHolder, Entry};
pub use nas_table::{NasEntry, NasTable};

use crate::changes::Change;
use crate::clock::Clock;
use crate::config::Config;
use crate::live::Live;
use crate::storage::{
    AccessScope, OpenAddress, OpenSessionsChanged, Store, StoreError, StoreResult,
};
use dedup::ReplyCache;
use stats::RadiusStats;
use unknown_sources::UnknownSources;

/// RFC 5080 suggests keeping replies for the NAS's retransmission window.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(5);
/// Accounting answers are kept longer. Without Event-Timestamp a record's time is its
/// arrival, so a retransmission after the window was a new record: a Stop counted twice, a
/// Start splitting a live session (found probing from outside: a NAS retrying every 5 s).
/// An Accounting-Request's authenticator is a digest of the record, so the same source,
/// Identifier and authenticator is the same record; and with one reply kept per source and
/// Identifier (`dedup`), the longer window costs no memory.
const ACCT_DUPLICATE_WINDOW: Duration = Duration::from_secs(60);
/// Bounds the reply cache's memory (about 10 MB at most): it holds one reply per NAS source
/// port and Identifier (`dedup`), 256 a port, so only a NAS sending from some 400 ports
/// within the window would reach it.
const DUPLICATE_CAPACITY: usize = 100_000;
/// Receive threads per socket (one socket per CPU, `reuseport`): with one, a thread blocked
/// in a send or preempted by the load left its socket unserved (measured slower).
const WORKERS_PER_SOCKET: usize = 2;

/// Shared state of the auth server; committed changes reach it through the change feed
/// ([`CacheUpdater`]).
pub struct RadiusService {
    nas: Live<NasTable>,
    cache: RwLock<AccessCache>,
    replies: ReplyCache,
    policy: Live<PolicyConfig>,
    pub stats: RadiusStats,
    /// Requests per second over the last minute, for `ispctl system status`.
    pub rates: rates::Rates,
    /// Bytes of accounting waiting in the local spool for the database (every writer's).
    pub spool_bytes: Arc<std::sync::atomic::AtomicU64>,
    /// Whether the receive threads and accounting writers still work (the watchdog asks).
    pub health: crate::health::Health,
    unknown_sources: Arc<UnknownSources>,
    /// The time of a request, for speeds that depend on it; local time in `[billing] timezone`.
    clock: Clock,
    /// Where committed accounting names the logins whose traffic grew (the data-cap watch).
    traffic: std::sync::OnceLock<tokio::sync::mpsc::Sender<Vec<i64>>>,
    /// Where committed accounting names the sessions that started (enforcement).
    starts: std::sync::OnceLock<tokio::sync::mpsc::Sender<Vec<Started>>>,
    /// Every Access-Request's outcome, for the support desk.
    pub auth_log: auth_log::AuthLog,
    /// Receive-to-reply times of both ports, for the metrics endpoint.
    pub latency: latency::Latencies,
    /// The address pools ispd hands out itself (`[[pool]]`).
    pub addresses: addresses::Addresses,
}

/// A session just opened (its Start stored, or its stop presumed wrongly by the sweep), with
/// the moment its Accept was decided.
#[derive(Debug, Clone)]
pub struct Started {
    pub login_id: i64,
    pub accepted_at: chrono::DateTime<chrono::Utc>,
    pub nas_name: String,
    pub acct_session_id: String,
}

/// Every login, read into a new cache as the rows come. The store reads SQLite on the calling
/// thread, so the load runs on a blocking thread rather than on one of the runtime's.
async fn load_cache(store: &Store, simultaneous_use: u32) -> StoreResult<AccessCache> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        tokio::runtime::Handle::current().block_on(async {
            let mut cache = AccessCache::new(simultaneous_use);
            store.each_access_row(|row| cache.insert(row)).await?;
            Ok(cache)
        })
    })
    .await
    .map_err(|e| StoreError::Precondition(format!("the access cache load stopped: {e}")))?
}

impl RadiusService {
    /// Loads the NAS table and every login into memory.
    pub async fn load(config: &Config, store: &Store) -> StoreResult<RadiusService> {
        let started = Instant::now();
        let nas = NasTable::load(config, store).await?;
        let mut cache = load_cache(store, config.radius.simultaneous_use).await?;
        cache.set_open_sessions(store.open_session_counts().await?);
        tracing::info!(
            logins = cache.len(),
            nas = nas.len(),
            millis = started.elapsed().as_millis() as u64,
            "access cache built"
        );
        metrics::gauge!("ispd_access_cache_build_seconds").set(started.elapsed().as_secs_f64());
        let unknown_sources = Arc::new(UnknownSources::new(Instant::now()));
        unknown_sources.spawn_timer();
        Ok(RadiusService {
            nas: Live::new(nas),
            cache: RwLock::new(cache),
            replies: ReplyCache::new(DUPLICATE_WINDOW, DUPLICATE_CAPACITY),
            policy: Live::new(config.radius.policy()),
            stats: RadiusStats::default(),
            rates: rates::Rates::default(),
            spool_bytes: Arc::default(),
            health: crate::health::Health::default(),
            unknown_sources,
            clock: Clock::system().in_zone(config.billing.zone()),
            traffic: std::sync::OnceLock::new(),
            starts: std::sync::OnceLock::new(),
            auth_log: auth_log::AuthLog::start(store.clone(), config.auth_log.settings()),
            latency: latency::Latencies::default(),
            addresses: addresses::Addresses::default(),
        })
    }

    /// Reloads the logins in `scope` after an admin change, before the API call returns.
    /// Reloads the logins in `scope` (everything when they cannot be read alone); false when
    /// nothing could be read, the cache left as it was.
    pub async fn refresh(&self, store: &Store, scope: AccessScope) -> bool {
        match store.access_rows(&scope).await {
            Ok(rows) => {
                self.cache
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .apply(&scope, rows);
                true
            }
            Err(e) => {
                tracing::error!(error = %e, ?scope, "access cache refresh failed; reloading everything");
                match store.access_rows(&AccessScope::All).await {
                    Ok(rows) => {
                        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
                        cache.apply(&AccessScope::All, rows);
                        true
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "access cache not reloaded; trying again in a second");
                        false
                    }
                }
            }
        }
    }

    /// Applies a reloaded config's pools, policy and Simultaneous-Use limit, and returns the
    /// changes to publish once the config is stored: the NAS table (read with the new
    /// config's `[[nas]]` by the feed's cache consumer, which reads it again until it can),
    /// every login when the limit changed, and the policy when it did (enforcement pushes it
    /// to online sessions).
    /// `open`: the open sessions' addresses, which the pools hold again.
    pub fn reload(&self, config: &Config, open: Vec<OpenAddress>) -> Vec<Change> {
        // The config was validated before it got here: its pools read and do not overlap.
        if let Ok(specs) = config.pool_specs()
            && let Err(e) = self.addresses.reconfigure(specs, open, self.clock.now())
        {
            tracing::error!(error = %e, "address pools not reloaded; the old ones stay");
        }
        let mut changes = vec![Change::Nas];
        let limit_changed = self
            .cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .set_simultaneous_use(config.radius.simultaneous_use);
        if limit_changed {
            changes.push(Change::Access(AccessScope::All));
        }
        let policy = config.radius.policy();
        if *self.policy.load() != policy {
            self.policy.store(policy);
            changes.push(Change::Policy);
        }
        changes
    }

    /// Reloads the NAS table (after a NAS change over the API or a config reload).
    /// false when the table could not be read (the old one stays).
    pub async fn refresh_nas(&self, config: &Config, store: &Store) -> bool {
        match NasTable::load(config, store).await {
            Ok(table) => {
                self.nas.store(table);
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "NAS table reload failed; the old one stays");
                false
            }
        }
    }

    /// Each address pool's size and use, as this instance holds them.
    pub fn pool_usage(&self) -> Vec<ispd_provisioning::pool::PoolUsage> {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        self.addresses.usage(&cache, self.clock.now())
    }

    /// Applies committed session openings and closings to the Simultaneous-Use counts.
    pub fn adjust_open_sessions(&self, changes: &[(i64, i32)]) {
        if changes.is_empty() {
            return;
        }
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        for (login, delta) in changes {
            cache.adjust_open_sessions(*login, *delta);
        }
    }

    /// Counts the open sessions of `changed` again from the database, where every instance
    /// stores them, so Simultaneous-Use is decided alike whichever instance is asked.
    pub async fn recount_open_sessions(
        &self,
        store: &Store,
        changed: &OpenSessionsChanged,
    ) -> StoreResult<()> {
        match changed {
            OpenSessionsChanged::All => {
                let open = store.open_session_counts().await?;
                self.cache
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .set_open_sessions(open);
            }
            OpenSessionsChanged::Logins(logins) => {
                let open = store.open_session_counts_of(logins).await?;
                self.cache
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .set_open_sessions_of(logins, &open);
            }
        }
        Ok(())
    }

    /// The login an accounting record belongs to: the Class we put in the Accept when it
    /// still names a login, else the login with that User-Name (or MAC).
    pub fn login_for_accounting(&self, from_class: Option<i64>, username: &str) -> Option<i64> {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        from_class
            .filter(|id| cache.contains_login(*id))
            .or_else(|| cache.lookup(username, None).map(|l| l.login_id))
    }

    /// The cached logins inside `scope` as RADIUS answers for them now.
    pub fn select(&self, scope: &AccessScope) -> std::collections::HashMap<i64, Entry> {
        self.cache
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .select(scope)
    }

    /// Sends the logins of committed accounting to `watch` from now on (once).
    pub fn watch_traffic(&self, watch: tokio::sync::mpsc::Sender<Vec<i64>>) {
        let _ = self.traffic.set(watch);
    }

    /// Committed accounting grew these logins' traffic. Never waits: a full watch misses
    /// the batch and catches up at its next full check.
    pub fn traffic_committed(&self, logins: impl Iterator<Item = i64>) {
        if let Some(watch) = self.traffic.get() {
            let logins: Vec<i64> = logins.collect();
            if !logins.is_empty() {
                let _ = watch.try_send(logins);
            }
        }
    }

    /// Sends the sessions whose Start was stored to `watch` from now on (once).
    pub fn watch_starts(&self, watch: tokio::sync::mpsc::Sender<Vec<Started>>) {
        let _ = self.starts.set(watch);
    }

    /// Committed accounting opened these sessions (`opened`, by NAS and Acct-Session-Id, of
    /// `items`): new ones, and ones reopened after the stale-session sweep presumed them
    /// over. Never waits: a full watch misses them, and the reconcile is the net.
    pub fn sessions_opened(&self, items: &[crate::storage::AcctItem], opened: &[(String, String)]) {
        let Some(watch) = self.starts.get() else {
            return;
        };
        if opened.is_empty() {
            return;
        }
        let opened: std::collections::HashSet<(&str, &str)> = opened
            .iter()
            .map(|(nas, id)| (nas.as_str(), id.as_str()))
            .collect();
        // A session with several records in the batch is named more than once; the watcher
        // takes each session once.
        let started: Vec<Started> = items
            .iter()
            .filter(|i| opened.contains(&(i.nas_name.as_str(), i.record.acct_session_id.as_str())))
            .filter_map(|i| {
                Some(Started {
                    login_id: i.login_id?,
                    accepted_at: i.record.accepted_at?,
                    nas_name: i.nas_name.clone(),
                    acct_session_id: i.record.acct_session_id.clone(),
                })
            })
            .collect();
        if !started.is_empty() {
            let _ = watch.try_send(started);
        }
    }

    /// Marks logins over (or back under) their data cap; the caller publishes the change,
    /// which rebuilds their cache entries with it.
    pub fn set_capped(&self, logins: &[i64], capped: bool) {
        self.cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .set_capped(logins, capped);
    }

    /// Every login whose tariff has a data cap, as of `today`.
    pub fn caps(&self, today: chrono::NaiveDate) -> Vec<CapHolder> {
        self.cache
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .caps(today)
    }

    /// The id of the login a username (or MAC) names.
    pub fn login_id(&self, username: &str) -> Option<i64> {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        cache.lookup(username, None).map(|l| l.login_id)
    }

    /// The NAS table in force.
    pub fn nas_table(&self) -> Arc<NasTable> {
        self.nas.load()
    }

    /// The clock requests are answered by (enforcement reads the same).
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// The access policy in force.
    pub fn policy(&self) -> Arc<PolicyConfig> {
        self.policy.load()
    }

    /// What an Access-Request of `username` gets now by the access cache and the policy in
    /// force (NAS and password aside), with its access state; `None` when the cache holds no
    /// such login.
    pub fn in_force(
        &self,
        username: &str,
    ) -> Option<(
        ispd_provisioning::policy::AccessState,
        ispd_provisioning::policy::InForce,
    )> {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        let login = cache.lookup(username, None)?;
        let policy = self.policy.load();
        let now = ispd_provisioning::policy::in_force(login, &policy, &self.clock.at());
        Some((login.state, now))
    }

    pub fn cached_logins(&self) -> usize {
        self.cache.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Serves one bound (blocking) socket until the process ends. The hot path needs no
    /// async I/O, so plain threads blocked in recv answer with the least latency.
    pub fn serve(self: &Arc<Self>, socket: UdpSocket) -> std::io::Result<()> {
        // An idle thread wakes this often to hand its buffered auth-log attempts over.
        socket.set_read_timeout(Some(auth_log::HANDOFF))?;
        let socket = Arc::new(socket);
        for i in 0..WORKERS_PER_SOCKET {
            let service = self.clone();
            let socket = socket.clone();
            let alive = self.health.started();
            std::thread::Builder::new()
                .name(format!("radius-auth-{i}"))
                .spawn(move || {
                    let _alive = alive;
                    service.receive_loop(&socket);
                })?;
        }
        Ok(())
    }

    fn receive_loop(&self, socket: &UdpSocket) {
        // One byte more than the largest legal packet, so oversize datagrams are recognised.
        let mut buf = vec![0u8; 4097];
        let mut recorder = self.auth_log.recorder();
        let mut replies = Vec::with_capacity(burst::BURST);
        loop {
            let (len, from) = match socket.recv_from(&mut buf) {
                Ok(x) => x,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    recorder.hand_over();
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "RADIUS receive failed");
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            // This one and those queued behind it, a burst (see `burst`).
            let mut next = Some((len, from));
            let mut taken = 0;
            while let Some((len, from)) = next {
                let received = Instant::now();
                if let Some(reply) = self.process(&buf[..len], from, &mut recorder) {
                    replies.push((reply, from, received));
                }
                taken += 1;
                next = if taken < burst::BURST {
                    // An error here surfaces again at the next blocking receive.
                    burst::try_recv_from(socket, &mut buf).unwrap_or(None)
                } else {
                    None
                };
            }
            self.answer(socket, &mut replies);
        }
    }

    /// Sends a burst's replies in one call and times each from its request's arrival.
    fn answer(&self, socket: &UdpSocket, replies: &mut Vec<(Vec<u8>, SocketAddr, Instant)>) {
        let out: Vec<(&[u8], SocketAddr)> = replies
            .iter()
            .map(|(reply, to, _)| (reply.as_slice(), *to))
            .collect();
        burst::send_all(socket, &out, |i, sent| match sent {
            Ok(()) => self.latency.auth.record(replies[i].2.elapsed()),
            Err(e) => tracing::warn!(to = %out[i].1, error = %e, "RADIUS reply not sent"),
        });
        replies.clear();
    }

    /// The whole decision for one datagram; `None` = drop silently.
    fn process(
        &self,
        datagram: &[u8],
        from: SocketAddr,
        recorder: &mut auth_log::Recorder,
    ) -> Option<Vec<u8>> {
        RadiusStats::bump(&self.stats.requests_total);
        self.rates.auth_received();
        let table = self.nas.load();
        let Some(nas) = table.get(from.ip()) else {
            RadiusStats::bump(&self.stats.dropped_unknown_nas_total);
            self.log_unknown_source(from.ip());
            return None;
        };
        // Retransmission: the same reply bytes, not a second evaluation (RFC 5080).
        if datagram.len() >= 20 {
            let mut authenticator = [0u8; 16];
            authenticator.copy_from_slice(&datagram[4..20]);
            if let Some(reply) = self.replies.get(from, datagram[1], &authenticator) {
                RadiusStats::bump(&self.stats.duplicates_total);
                return Some(reply);
            }
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            let policy = self.policy.load();
            let shared = handler::Shared {
                cache: &cache,
                policy: &policy,
                stats: &self.stats,
                addresses: &self.addresses,
            };
            match handler::handle(datagram, nas, &shared, self.clock.at()) {
                handler::Outcome::Reply {
                    bytes: reply,
                    attempt,
                } => {
                    drop(cache);
                    if let Some(attempt) = attempt {
                        recorder.record(attempt);
                    }
                    self.replies.put(from, datagram[1], authenticator, &reply);
                    Some(reply)
                }
                handler::Outcome::Drop => None,
            }
        } else {
            RadiusStats::bump(&self.stats.dropped_malformed_total);
            None
        }
    }

    /// RFC 2865: unknown sources are dropped silently; the log names the first one and then
    /// sums them up once a minute, so a misconfigured NAS is visible and a flood is not.
    fn log_unknown_source(&self, ip: IpAddr) {
        self.unknown_sources
            .dropped(nas_table::canonical(ip), Instant::now());
    }
}
