//! The accounting server (RFC 2866): receive threads decode and verify, one writer commits
//! batches (group commit), and only then is each NAS answered. A request whose batch failed
//! to commit gets no answer, so the NAS retransmits it: nothing acknowledged is ever lost.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ispd_provisioning::accounting::{AcctRecord, Counters, StatusType, login_from_class, octets};
use ispd_radius::dict::rfc;
use ispd_radius::{Code, MaPolicy, PacketRef};
use tokio::sync::mpsc;

use super::RadiusService;
use super::dedup::ReplyCache;
use super::spool::Spool;
use super::stats::RadiusStats;
use crate::storage::{AcctItem, Backend, Partition, SessionMemory, Store};

/// Requests waiting for the writer; beyond this the receive threads wait (back-pressure).
const QUEUE: usize = 20_000;
/// Most requests committed in one transaction.
const MAX_BATCH: usize = 2_000;
/// How long a batch may wait for the database before it goes to the spool.
const STORE_TIMEOUT: Duration = Duration::from_secs(3);

/// A request decoded and verified, waiting for its commit before the reply goes out.
#[derive(Clone)]
struct Pending {
    item: Option<AcctItem>,
    reply: Vec<u8>,
    to: SocketAddr,
    identifier: u8,
    authenticator: [u8; 16],
    socket: Arc<UdpSocket>,
    /// For Accounting-On/Off, which every writer handles for its share of the sessions:
    /// the writer that brings this to zero sends the reply.
    countdown: Option<Arc<AtomicUsize>>,
}

impl Pending {
    /// Whether this writer is the one to answer (always, unless the request was shared).
    fn answer_now(&self) -> bool {
        self.countdown
            .as_ref()
            .is_none_or(|c| c.fetch_sub(1, Ordering::AcqRel) == 1)
    }
}

pub struct AccountingService {
    radius: Arc<RadiusService>,
    replies: ReplyCache,
    /// One queue per writer; a session always goes to the same writer.
    queues: Vec<mpsc::Sender<Pending>>,
}

impl AccountingService {
    /// Starts the writer (which also sweeps stale sessions and replays the spool) on the
    /// current tokio runtime.
    pub fn start(
        radius: Arc<RadiusService>,
        store: Store,
        stale_after: Duration,
        state_dir: &std::path::Path,
    ) -> Arc<AccountingService> {
        // SQLite has one writer at a time anyway; PostgreSQL commits in parallel.
        let writers = match store.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 2,
        };
        let (queues, receivers): (Vec<_>, Vec<_>) =
            (0..writers).map(|_| mpsc::channel(QUEUE)).unzip();
        let service = Arc::new(AccountingService {
            radius: radius.clone(),
            replies: ReplyCache::new(super::DUPLICATE_WINDOW, super::DUPLICATE_CAPACITY),
            queues,
        });
        for (index, rx) in receivers.into_iter().enumerate() {
            let spool = Spool::new(state_dir, index);
            if spool.is_pending() {
                tracing::warn!(path = %spool.path().display(), "spooled accounting found; it is replayed before new records");
            }
            let partition = Partition {
                index,
                count: writers,
            };
            tokio::spawn(writer(
                rx,
                store.clone(),
                radius.clone(),
                service.clone(),
                stale_after,
                spool,
                partition,
            ));
        }
        service
    }

    pub fn serve(self: &Arc<Self>, socket: UdpSocket) -> std::io::Result<()> {
        let socket = Arc::new(socket);
        let service = self.clone();
        std::thread::Builder::new()
            .name("radius-acct".into())
            .spawn(move || service.receive_loop(&socket))?;
        Ok(())
    }

    fn receive_loop(&self, socket: &Arc<UdpSocket>) {
        let mut buf = vec![0u8; 4097];
        loop {
            let (len, from) = match socket.recv_from(&mut buf) {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accounting receive failed");
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            if let Some(pending) = self.process(&buf[..len], from, socket)
                && self.route(pending).is_err()
            {
                return;
            }
        }
    }

    /// A session's records go to its writer; Accounting-On/Off goes to every writer.
    fn route(&self, mut pending: Pending) -> Result<(), ()> {
        let session = pending
            .item
            .as_ref()
            .filter(|i| {
                !matches!(
                    i.record.status,
                    StatusType::AccountingOn | StatusType::AccountingOff
                )
            })
            .map(|i| (i.nas_name.clone(), i.record.acct_session_id.clone()));
        let queues = &self.queues;
        match session {
            Some((nas, sid)) => queues[Partition::of(&nas, &sid, queues.len())]
                .blocking_send(pending)
                .map_err(|_| ()),
            None if pending.item.is_none() => queues[0].blocking_send(pending).map_err(|_| ()),
            None => {
                pending.countdown = Some(Arc::new(AtomicUsize::new(queues.len())));
                for queue in queues {
                    queue.blocking_send(pending.clone()).map_err(|_| ())?;
                }
                Ok(())
            }
        }
    }

    fn process(
        &self,
        datagram: &[u8],
        from: SocketAddr,
        socket: &Arc<UdpSocket>,
    ) -> Option<Pending> {
        let stats = &self.radius.stats;
        RadiusStats::bump(&stats.acct_requests_total);
        let table = self.radius.nas.load();
        let Some(nas) = table.get(from.ip()) else {
            RadiusStats::bump(&stats.dropped_unknown_nas_total);
            self.radius.log_unknown_source(from.ip());
            return None;
        };
        let Ok(packet) = PacketRef::decode(datagram) else {
            RadiusStats::bump(&stats.dropped_malformed_total);
            return None;
        };
        if packet.code() == Code::StatusServer {
            if let Some(reply) = status_server(&packet, &nas.secret, stats)
                && let Err(e) = socket.send_to(&reply, from)
            {
                tracing::warn!(%from, error = %e, "Status-Server reply not sent");
            }
            return None;
        }
        if packet.code() != Code::AccountingRequest {
            RadiusStats::bump(&stats.dropped_unexpected_code_total);
            return None;
        }
        // RFC 2866: a request whose authenticator does not verify is silently discarded.
        if packet
            .verify_request(&nas.secret, MaPolicy::IfPresent)
            .is_err()
        {
            RadiusStats::bump(&stats.dropped_authenticator_total);
            return None;
        }
        let authenticator = *packet.authenticator();
        if let Some(reply) = self.replies.get(from, packet.identifier(), &authenticator) {
            RadiusStats::bump(&stats.duplicates_total);
            let _ = socket.send_to(&reply, from);
            return None;
        }
        let record = match record(&packet, Utc::now()) {
            Ok(r) => r,
            Err(problem) => {
                RadiusStats::bump(&stats.dropped_malformed_total);
                tracing::debug!(nas = %nas.name, problem, "Accounting-Request dropped");
                return None;
            }
        };
        let reply = packet
            .reply(Code::AccountingResponse)
            .encode_response(&authenticator, &nas.secret)
            .ok()?;
        Some(Pending {
            item: record.map(|record| AcctItem {
                login_id: self
                    .radius
                    .login_for_accounting(record.login_id, &record.username),
                nas_name: nas.name.clone(),
                record,
            }),
            reply,
            to: from,
            identifier: packet.identifier(),
            authenticator,
            socket: socket.clone(),
            countdown: None,
        })
    }
}

/// RFC 5997 §3: Status-Server on the accounting port is answered with an Accounting-Response
/// at once (it stores nothing, so it waits for no commit), signed with a Message-Authenticator;
/// one without a valid Message-Authenticator is discarded.
fn status_server(packet: &PacketRef<'_>, secret: &[u8], stats: &RadiusStats) -> Option<Vec<u8>> {
    if packet.verify_request(secret, MaPolicy::Required).is_err() {
        RadiusStats::bump(&stats.dropped_authenticator_total);
        return None;
    }
    RadiusStats::bump(&stats.status_server_total);
    let mut reply = packet.reply(Code::AccountingResponse);
    reply.insert_message_authenticator();
    reply.encode_response(packet.authenticator(), secret).ok()
}

/// Commits what is queued, in batches, then answers. When the database cannot take a batch,
/// the batch goes to the spool (fsynced) and is answered; while anything is spooled, new
/// batches queue behind it there, and the spool is replayed as soon as the database takes it
/// again. Only if the spool cannot be written either is a batch left unanswered, so the NASes
/// retransmit. Between batches the writer also closes stale sessions, so its memory of open
/// sessions never disagrees with the sweep.
async fn writer(
    mut rx: mpsc::Receiver<Pending>,
    store: Store,
    radius: Arc<RadiusService>,
    service: Arc<AccountingService>,
    stale_after: Duration,
    spool: Spool,
    partition: Partition,
) {
    let mut memory = SessionMemory::new(partition);
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    let period = (stale_after / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    let mut sweep = tokio::time::interval(period);
    let mut retry = tokio::time::interval(Duration::from_secs(1));
    loop {
        let first = tokio::select! {
            next = rx.recv() => match next {
                Some(p) => p,
                None => return,
            },
            _ = retry.tick(), if spool.is_pending() => {
                replay(&spool, &store, &radius, &mut memory).await;
                continue;
            }
            _ = sweep.tick() => {
                if !spool.is_pending() {
                    sweep_stale(&store, &radius, stale_after, &mut memory).await;
                }
                continue;
            }
        };
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let items: Vec<AcctItem> = batch.iter().filter_map(|p| p.item.clone()).collect();
        let durable = if spool.is_pending() {
            spool_batch(&spool, &items, &radius)
        } else {
            // A database that hangs is as unavailable as one that refuses: spool after a
            // bounded wait. If the commit did land, replaying the same records is harmless.
            let stored =
                tokio::time::timeout(STORE_TIMEOUT, store.apply_accounting(&items, &mut memory))
                    .await
                    .unwrap_or_else(|_| {
                        Err(crate::storage::StoreError::Precondition(format!(
                            "no commit within {STORE_TIMEOUT:?}"
                        )))
                    });
            match stored {
                Ok(changes) => {
                    radius.adjust_open_sessions(&changes);
                    true
                }
                Err(e) => {
                    tracing::error!(error = %e, requests = items.len(), "database unavailable for accounting; spooling to {}", spool.path().display());
                    RadiusStats::bump(&radius.stats.acct_store_failures_total);
                    spool_batch(&spool, &items, &radius)
                }
            }
        };
        if durable {
            for p in batch.drain(..) {
                if !p.answer_now() {
                    continue;
                }
                if let Err(e) = p.socket.send_to(&p.reply, p.to) {
                    tracing::warn!(to = %p.to, error = %e, "Accounting-Response not sent");
                }
                service
                    .replies
                    .put(p.to, p.identifier, p.authenticator, p.reply);
                RadiusStats::bump(&radius.stats.acct_responses_total);
            }
        } else {
            batch.clear();
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Appends a batch to the spool; false (nothing may be answered) when even that fails.
fn spool_batch(spool: &Spool, items: &[AcctItem], radius: &RadiusService) -> bool {
    match spool.append(items) {
        Ok(()) => {
            RadiusStats::bump(&radius.stats.acct_spooled_batches_total);
            true
        }
        Err(e) => {
            tracing::error!(error = %e, path = %spool.path().display(), "accounting cannot be spooled either; not answering, the NASes will retransmit");
            false
        }
    }
}

/// Moves the spool into the database, in order, in batches; keeps it on any failure.
async fn replay(spool: &Spool, store: &Store, radius: &RadiusService, memory: &mut SessionMemory) {
    let items = match spool.read() {
        Ok(items) => items,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the accounting spool");
            return;
        }
    };
    for chunk in items.chunks(MAX_BATCH) {
        match store.apply_accounting(chunk, memory).await {
            Ok(changes) => radius.adjust_open_sessions(&changes),
            Err(e) => {
                tracing::debug!(error = %e, "database still unavailable; the spool waits");
                return;
            }
        }
    }
    match spool.clear() {
        Ok(()) => tracing::info!(
            records = items.len(),
            "spooled accounting replayed into the database"
        ),
        Err(e) => {
            tracing::error!(error = %e, "spool replayed but not cleared; it will be replayed again (harmless)")
        }
    }
}

/// Closes sessions the NAS stopped reporting on (no update for `stale_after`).
async fn sweep_stale(
    store: &Store,
    radius: &RadiusService,
    stale_after: Duration,
    memory: &mut SessionMemory,
) {
    let before = Utc::now() - chrono::Duration::from_std(stale_after).unwrap_or_default();
    match store.close_stale_sessions(before, memory).await {
        Ok(changes) if !changes.is_empty() => {
            tracing::info!(
                sessions = changes.len(),
                "closed stale sessions (no update from the NAS)"
            );
            radius.adjust_open_sessions(&changes);
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "stale-session sweep failed; retrying later"),
    }
}

/// The record an Accounting-Request carries; `Ok(None)` for status types that are
/// acknowledged but not stored (Failed, tunnel records), `Err` for a malformed request.
fn record(
    packet: &PacketRef<'_>,
    received: DateTime<Utc>,
) -> Result<Option<AcctRecord>, &'static str> {
    let u32_of = |typ: u8| packet.first(typ).and_then(|a| a.as_u32().ok());
    let text_of = |typ: u8| {
        packet
            .first(typ)
            .and_then(|a| a.as_str().ok())
            .map(str::to_owned)
    };
    let status_code = u32_of(rfc::ACCT_STATUS_TYPE).ok_or("no Acct-Status-Type")?;
    let Some(status) = StatusType::from_code(status_code) else {
        return Ok(None);
    };
    let acct_session_id = text_of(rfc::ACCT_SESSION_ID).unwrap_or_default();
    if acct_session_id.is_empty()
        && !matches!(status, StatusType::AccountingOn | StatusType::AccountingOff)
    {
        return Err("no Acct-Session-Id");
    }
    let event = packet
        .first(rfc::EVENT_TIMESTAMP)
        .and_then(|a| a.as_date().ok())
        .map(DateTime::<Utc>::from)
        .unwrap_or(received);
    let delay = i64::from(u32_of(rfc::ACCT_DELAY_TIME).unwrap_or(0));
    let counter = |low: u8, high: u8| octets(u32_of(low).unwrap_or(0), u32_of(high).unwrap_or(0));
    Ok(Some(AcctRecord {
        status,
        acct_session_id,
        username: text_of(rfc::USER_NAME).unwrap_or_default(),
        login_id: packet
            .first(rfc::CLASS)
            .and_then(|a| login_from_class(a.as_bytes())),
        framed_ip: packet
            .first(rfc::FRAMED_IP_ADDRESS)
            .and_then(|a| a.as_ipv4().ok()),
        calling_station: text_of(rfc::CALLING_STATION_ID),
        nas_port: text_of(rfc::NAS_PORT_ID)
            .or_else(|| u32_of(rfc::NAS_PORT).map(|p| p.to_string())),
        event_time: event - chrono::Duration::seconds(delay),
        session_seconds: u64::from(u32_of(rfc::ACCT_SESSION_TIME).unwrap_or(0)),
        counters: Counters {
            input_octets: counter(rfc::ACCT_INPUT_OCTETS, rfc::ACCT_INPUT_GIGAWORDS),
            output_octets: counter(rfc::ACCT_OUTPUT_OCTETS, rfc::ACCT_OUTPUT_GIGAWORDS),
            input_packets: u64::from(u32_of(rfc::ACCT_INPUT_PACKETS).unwrap_or(0)),
            output_packets: u64::from(u32_of(rfc::ACCT_OUTPUT_PACKETS).unwrap_or(0)),
        },
        terminate_cause: u32_of(rfc::ACCT_TERMINATE_CAUSE).map(terminate_cause),
    }))
}

/// Acct-Terminate-Cause by its RFC 2866 name.
fn terminate_cause(code: u32) -> String {
    const NAMES: [&str; 22] = [
        "",
        "User-Request",
        "Lost-Carrier",
        "Lost-Service",
        "Idle-Timeout",
        "Session-Timeout",
        "Admin-Reset",
        "Admin-Reboot",
        "Port-Error",
        "NAS-Error",
        "NAS-Request",
        "NAS-Reboot",
        "Port-Unneeded",
        "Port-Preempted",
        "Port-Suspended",
        "Service-Unavailable",
        "Callback",
        "User-Error",
        "Host-Request",
        "Supplicant-Restart",
        "Reauthentication-Failure",
        "Port-Reinitialized",
    ];
    NAMES
        .get(code as usize)
        .filter(|n| !n.is_empty())
        .map_or_else(|| code.to_string(), |n| (*n).to_owned())
}
