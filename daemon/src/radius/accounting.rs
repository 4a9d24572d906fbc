//! The accounting server (RFC 2866): receive threads decode and verify, writers commit
//! batches (group commit), and only then is each NAS answered. While the database is away
//! the answer comes after the record is fsynced to the spool; a request that could be
//! neither committed nor spooled gets no answer, so the NAS retransmits it: nothing
//! acknowledged is ever lost, and no record the database refuses holds up the others.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ispd_provisioning::accounting::{
    AcctRecord, Counters, StatusType, attribute_text, event_time, octets, session_time,
};
use ispd_provisioning::login::Ipv6Prefix;
use ispd_provisioning::policy::parse_class;
use ispd_radius::dict::rfc;
use ispd_radius::{Code, KeyedSecret, MaPolicy, PacketRef};
use tokio::sync::mpsc;

use super::RadiusService;
use super::burst;
use super::dedup::ReplyCache;
use super::reachability::Reachability;
use super::rejected::Rejected;
use super::spool::{self, Spool};
use super::stats::RadiusStats;
use crate::storage::{AccountingWriter, AcctItem, Backend, Partition, Store, StoreError};

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
    /// When the datagram arrived, for the receive-to-reply latency.
    received: std::time::Instant,
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
    /// Set at a clean stop: each writer ends after the batch in hand.
    stop: tokio::sync::watch::Sender<bool>,
    /// Ends (every sender gone) once each writer has closed its database connection.
    writers_done: std::sync::Mutex<Option<mpsc::Receiver<()>>>,
}

impl AccountingService {
    /// Starts the writers (which also sweep stale sessions and replay their spools): on
    /// PostgreSQL as tasks of the current tokio runtime, on SQLite on a thread of its own,
    /// since its writer runs each batch's statements itself (see
    /// `ispd_store::AccountingWriter`). Fails only if a spool or a thread cannot be had.
    pub fn start(
        radius: Arc<RadiusService>,
        store: Store,
        stale_after: Duration,
        down: Downtime,
        state_dir: &std::path::Path,
    ) -> std::io::Result<Arc<AccountingService>> {
        // One writer on either backend. SQLite has one writer at a time anyway. On
        // PostgreSQL two writers committing in parallel were measured slower than one
        // (`ispd-bench acct --database-url …`: 12,900–15,700/s against 14,100–17,800/s at
        // 64 in flight, 25,000/s against 29,400–30,800/s at 256): one writer's batches grow
        // with the time a commit takes (up to MAX_BATCH), which serves a distant server
        // too, and the database has one backend's work instead of two competing.
        let writers = 1;
        for orphan in spool::adopt_orphans(state_dir, writers)? {
            tracing::warn!(path = %orphan.display(), "spooled accounting of a writer no longer run; handed to the writers that are, replayed before new records");
        }
        let (queues, receivers): (Vec<_>, Vec<_>) =
            (0..writers).map(|_| mpsc::channel(QUEUE)).unzip();
        let (stop, _) = tokio::sync::watch::channel(false);
        let (done, writers_done) = mpsc::channel(1);
        let service = Arc::new(AccountingService {
            radius: radius.clone(),
            replies: ReplyCache::new(super::ACCT_DUPLICATE_WINDOW, super::DUPLICATE_CAPACITY),
            queues,
            stop,
            writers_done: std::sync::Mutex::new(Some(writers_done)),
        });
        let reachability = Reachability::new(store.clone(), radius.clone());
        let rejected = Arc::new(Rejected::new(state_dir));
        let spooled = radius.spool_bytes.clone();
        tokio::spawn(sweeper(
            store.clone(),
            radius.clone(),
            reachability.clone(),
            spooled.clone(),
            stale_after,
            down,
        ));
        if store.backend() == Backend::Postgres {
            tokio::spawn(follow_addresses(store.clone(), radius.clone()));
        }
        for (index, rx) in receivers.into_iter().enumerate() {
            let spool = Spool::open(state_dir, index)?;
            if spool.is_pending() {
                tracing::warn!(path = %spool.path().display(), "spooled accounting found; it is replayed before new records");
            }
            let partition = Partition {
                index,
                count: writers,
            };
            let mut own = Writer {
                rx,
                stop: service.stop.subscribe(),
                _done: done.clone(),
                spool,
                partition,
                answers: answerer(index, radius.clone(), service.clone())?,
                reported_spool_bytes: 0,
                spooled: spooled.clone(),
                busy: radius.health.writer(),
                undurable: 0,
                undurable_logged: None,
                queue_depth: metrics::gauge!(
                    "ispd_radius_acct_queue_depth",
                    "writer" => index.to_string()
                ),
                spool_since: metrics::gauge!(
                    "ispd_radius_acct_spool_oldest_timestamp_seconds",
                    "writer" => index.to_string()
                ),
            };
            own.report_spool_bytes(&radius.stats);
            let task = writer(
                radius.health.started(),
                own,
                Shared {
                    store: store.clone(),
                    radius: radius.clone(),
                    reachability: reachability.clone(),
                    rejected: rejected.clone(),
                },
            );
            match store.backend() {
                Backend::Sqlite => on_own_thread(index, task)?,
                Backend::Postgres => drop(tokio::spawn(task)),
            }
        }
        Ok(service)
    }

    /// A clean stop: each writer commits and answers the batch in hand and what is queued
    /// behind it (one batch more, up to its size), then closes its database connection — on
    /// SQLite the store's last connection to close folds the log into the database file, so a
    /// copy of `ispd.db` alone is whole. A request that arrives later goes unanswered; its NAS
    /// sends it again to the next start. False if a writer did not stop `within` (one waiting
    /// for the database, say).
    pub async fn stop(&self, within: Duration) -> bool {
        self.stop.send_replace(true);
        let done = self.writers_done.lock().ok().and_then(|mut d| d.take());
        let Some(mut done) = done else {
            return true;
        };
        tokio::time::timeout(within, done.recv()).await.is_ok()
    }

    pub fn serve(self: &Arc<Self>, socket: UdpSocket) -> std::io::Result<()> {
        let socket = Arc::new(socket);
        let service = self.clone();
        let alive = self.radius.health.started();
        std::thread::Builder::new()
            .name("radius-acct".into())
            .spawn(move || {
                let _alive = alive;
                service.receive_loop(&socket);
            })?;
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
        let received = std::time::Instant::now();
        let stats = &self.radius.stats;
        RadiusStats::bump(&stats.acct_requests_total);
        self.radius.rates.acct_received();
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
        if let Some(r) = &record {
            self.radius.addresses.accounted(&nas.name, r);
        }
        let reply = packet
            .reply(Code::AccountingResponse)
            .encode_response(&authenticator, &nas.secret)
            .ok()?;
        // Counted as taken: it is answered once durable (or retransmitted until it is).
        nas.answers.accounting.increment(1);
        Some(Pending {
            item: record.map(|record| AcctItem {
                login_id: self
                    .radius
                    .login_for_accounting(record.login_id, &record.username),
                nas_name: nas.name.to_string(),
                record,
            }),
            reply,
            to: from,
            identifier: packet.identifier(),
            authenticator,
            socket: socket.clone(),
            countdown: None,
            received,
        })
    }
}

/// RFC 5997 §3: Status-Server on the accounting port is answered with an Accounting-Response
/// at once (it stores nothing, so it waits for no commit), signed with a Message-Authenticator;
/// one without a valid Message-Authenticator is discarded.
fn status_server(
    packet: &PacketRef<'_>,
    secret: &KeyedSecret,
    stats: &RadiusStats,
) -> Option<Vec<u8>> {
    if packet.verify_request(secret, MaPolicy::Required).is_err() {
        RadiusStats::bump(&stats.dropped_authenticator_total);
        return None;
    }
    RadiusStats::bump(&stats.status_server_total);
    let mut reply = packet.reply(Code::AccountingResponse);
    reply.insert_message_authenticator();
    reply.encode_response(packet.authenticator(), secret).ok()
}

/// A writer's own things: its queue, its share of the sessions and its spool.
struct Writer {
    rx: mpsc::Receiver<Pending>,
    /// True once the daemon stops cleanly.
    stop: tokio::sync::watch::Receiver<bool>,
    /// Held, never sent on: dropped when the writer has ended, its connection closed first.
    _done: mpsc::Sender<()>,
    spool: Spool,
    /// This writer's share of the sessions.
    partition: Partition,
    /// Durable batches, to be answered.
    answers: std::sync::mpsc::Sender<Vec<Pending>>,
    /// How many spool bytes this writer counts in the shared gauge and in `spooled`.
    reported_spool_bytes: u64,
    /// Spool bytes of all writers, not yet in the database: the sweep waits for them.
    spooled: Arc<AtomicU64>,
    /// When the batch in hand began, for the watchdog.
    busy: crate::health::Busy,
    /// Batches that could be neither stored nor spooled since the last log line about it:
    /// a full disk is told once, then every [`UNDURABLE_LOG_EVERY`], not once a batch.
    undurable: u64,
    undurable_logged: Option<std::time::Instant>,
    /// `ispd_radius_acct_queue_depth{writer}`: requests waiting behind the batch in hand.
    queue_depth: metrics::Gauge,
    /// `ispd_radius_acct_spool_oldest_timestamp_seconds{writer}`: since when the oldest
    /// spooled record has waited, Unix time; 0 with an empty spool.
    spool_since: metrics::Gauge,
}

const UNDURABLE_LOG_EVERY: Duration = Duration::from_secs(10);

/// What the writers share.
struct Shared {
    store: Store,
    radius: Arc<RadiusService>,
    reachability: Arc<Reachability>,
    rejected: Arc<Rejected>,
}

/// Commits what is queued, in batches, then answers. While the database does not take
/// accounting (this writer or another found it so), batches go to the spool (fsynced) and
/// are answered from there; new batches queue behind spooled ones, and the spool is replayed
/// a batch at a time, between new batches, once the probe finds the database back. Only if
/// the spool cannot be written either is a batch left unanswered, so the NASes retransmit.
async fn writer(_alive: crate::health::Alive, mut own: Writer, shared: Shared) {
    let zone = shared.radius.clock().zone();
    let mut accounting = open_writer(&shared.store, own.partition, zone).await;
    write_until_stopped(&mut own, &mut accounting, &shared).await;
    // The connection first: a clean stop waits for `own._done` to go, then closes the rest.
    drop(accounting);
    drop(own);
}

/// The writer's loop, until the daemon stops or the queue or the answerer is gone.
async fn write_until_stopped(own: &mut Writer, accounting: &mut AccountingWriter, shared: &Shared) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    let mut reachability = shared.reachability.watch();
    let mut next_replay = tokio::time::Instant::now();
    // Stopping: what is queued is the last batch.
    let mut last = false;
    loop {
        let replay_due = own.spool.is_pending() && !shared.reachability.is_down();
        let first = tokio::select! {
            next = own.rx.recv() => match next {
                Some(p) => p,
                None => return,
            },
            _ = tokio::time::sleep_until(next_replay), if replay_due => {
                next_replay = replay_step(own, accounting, shared).await;
                continue;
            }
            // Found down or back: look again at what is due.
            Ok(()) = reachability.changed() => continue,
            () = stopping(&mut own.stop) => match own.rx.try_recv() {
                Ok(p) => {
                    last = true;
                    p
                }
                Err(_) => return,
            },
        };
        own.busy.begin(std::time::Instant::now());
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match own.rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        own.queue_depth.set(own.rx.len() as f64);
        // The records go to the database; the rest of each request waits for its answer.
        let items: Vec<AcctItem> = batch.iter_mut().filter_map(|p| p.item.take()).collect();
        let durable = if own.spool.is_pending() || shared.reachability.is_down() {
            spool_batch(own, &items, shared)
        } else {
            match store_isolating(shared, &items, accounting).await {
                Ok(()) => true,
                Err((stored, e)) => {
                    RadiusStats::bump(&shared.radius.stats.acct_store_failures_total);
                    shared.reachability.lost(&e);
                    spool_batch(own, &items[stored..], shared)
                }
            }
        };
        if durable {
            // The answers go out from their own thread while this one starts the next batch.
            let answered = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
            if own.answers.send(answered).is_err() {
                return;
            }
        } else {
            batch.clear();
            own.busy.end();
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        own.busy.end();
        if last {
            return;
        }
    }
}

/// Returns once the daemon stops cleanly; never if the service is gone without a stop.
async fn stopping(stop: &mut tokio::sync::watch::Receiver<bool>) {
    if stop.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Stores `items` in order, committing what it can. A record the database refuses (see
/// [`StoreError::refuses_data`]) is found by halving the batch, set aside in
/// `accounting.rejected` and counted, so it never holds up the records behind it. On any
/// other failure (the database is unavailable) returns how many leading records are stored;
/// the rest must be spooled.
async fn store_isolating(
    shared: &Shared,
    items: &[AcctItem],
    accounting: &mut AccountingWriter,
) -> Result<(), (usize, StoreError)> {
    let mut ranges = std::collections::VecDeque::new();
    ranges.push_back(0..items.len());
    while let Some(range) = ranges.pop_front() {
        if range.is_empty() {
            continue;
        }
        // A database that hangs is as unavailable as one that refuses: give up after a
        // bounded wait (SQLite's own writer waits at most as long for its lock). If the
        // commit did land, storing the same records again is harmless.
        let began = std::time::Instant::now();
        let stored = tokio::time::timeout(STORE_TIMEOUT, accounting.apply(&items[range.clone()]))
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Precondition(format!(
                    "no commit within {STORE_TIMEOUT:?}"
                )))
            });
        match stored {
            Ok(applied) => {
                metrics::histogram!("ispd_accounting_commit_seconds")
                    .record(began.elapsed().as_secs_f64());
                metrics::histogram!("ispd_accounting_batch_records").record(range.len() as f64);
                shared.reachability.committed();
                shared.radius.adjust_open_sessions(&applied.changes);
                shared
                    .radius
                    .traffic_committed(items[range.clone()].iter().filter_map(|i| i.login_id));
                shared
                    .radius
                    .sessions_opened(&items[range.clone()], &applied.opened);
            }
            Err(e) if e.refuses_data() && range.len() > 1 => {
                let middle = range.start + range.len() / 2;
                ranges.push_front(middle..range.end);
                ranges.push_front(range.start..middle);
            }
            Err(e) if e.refuses_data() => {
                let item = &items[range.start];
                if let Err(io) = shared.rejected.set_aside(item, &e.to_string()) {
                    return Err((
                        range.start,
                        StoreError::Precondition(format!(
                            "a record the database refused ({e}) cannot be set aside in {}: {io}",
                            shared.rejected.path().display()
                        )),
                    ));
                }
                RadiusStats::bump(&shared.radius.stats.acct_rejected_records_total);
                tracing::error!(
                    nas = %item.nas_name,
                    acct_session_id = %item.record.acct_session_id,
                    error = %e,
                    path = %shared.rejected.path().display(),
                    "accounting record refused by the database; set aside so the records behind it are stored"
                );
            }
            Err(e) => return Err((range.start, e)),
        }
    }
    Ok(())
}

/// Answers durable batches in the order they were committed, on a thread of its own: sending
/// a batch's replies costs a system call each, and the writer need not wait for them.
fn answerer(
    index: usize,
    radius: Arc<RadiusService>,
    service: Arc<AccountingService>,
) -> std::io::Result<std::sync::mpsc::Sender<Vec<Pending>>> {
    let (tx, rx) = std::sync::mpsc::channel::<Vec<Pending>>();
    std::thread::Builder::new()
        .name(format!("acct-answer-{index}"))
        .spawn(move || {
            for batch in rx {
                let due: Vec<Pending> = batch.into_iter().filter(Pending::answer_now).collect();
                for group in due.chunk_by(|a, b| Arc::ptr_eq(&a.socket, &b.socket)) {
                    let replies: Vec<(&[u8], SocketAddr)> =
                        group.iter().map(|p| (p.reply.as_slice(), p.to)).collect();
                    burst::send_all(&group[0].socket, &replies, |i, sent| match sent {
                        Ok(()) => {
                            radius.latency.acct.record(group[i].received.elapsed());
                            RadiusStats::bump(&radius.stats.acct_responses_total);
                        }
                        Err(e) => {
                            let to = group[i].to;
                            tracing::warn!(%to, error = %e, "Accounting-Response not sent");
                        }
                    });
                }
                for p in due {
                    service
                        .replies
                        .put(p.to, p.identifier, p.authenticator, &p.reply);
                }
            }
        })?;
    Ok(tx)
}

/// Runs a SQLite writer on a thread of its own, with a runtime of its own for its timers and
/// channels: each batch blocks it for the commit, and nothing else waits behind that.
fn on_own_thread(
    index: usize,
    task: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name(format!("acct-writer-{index}"))
        .spawn(move || runtime.block_on(task))?;
    Ok(())
}

/// The writer's way to the database, once it can be had: SQLite's own connection opens the
/// store's file, which fails only if the file cannot be opened at all (tried again each
/// second, told once).
async fn open_writer(
    store: &Store,
    partition: Partition,
    zone: crate::clock::Zone,
) -> AccountingWriter {
    let mut told = false;
    loop {
        match store.accounting_writer(partition, zone).await {
            Ok(writer) => return writer,
            Err(e) => {
                if !told {
                    tracing::error!(error = %e, "the accounting writer cannot open the database; retrying each second");
                    told = true;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Appends a batch to the spool; false (nothing may be answered) when even that fails.
fn spool_batch(own: &mut Writer, items: &[AcctItem], shared: &Shared) -> bool {
    let stats = &shared.radius.stats;
    let appended = own.spool.append(items);
    own.report_spool_bytes(stats);
    match appended {
        Ok(()) => {
            RadiusStats::bump(&stats.acct_spooled_batches_total);
            true
        }
        Err(e) => {
            RadiusStats::bump(&stats.acct_unanswered_batches_total);
            own.undurable += 1;
            if own
                .undurable_logged
                .is_none_or(|at| at.elapsed() >= UNDURABLE_LOG_EVERY)
            {
                tracing::error!(error = %e, path = %own.spool.path().display(), batches = own.undurable, "accounting cannot be spooled either; not answering, the NASes will retransmit");
                own.undurable_logged = Some(std::time::Instant::now());
                own.undurable = 0;
            }
            false
        }
    }
}

/// Moves the next batch of the spool into the database; returns when the next step may
/// run (at once, unless the spool could not be read).
async fn replay_step(
    own: &mut Writer,
    accounting: &mut AccountingWriter,
    shared: &Shared,
) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    let (items, end) = match own.spool.next_records(MAX_BATCH) {
        Ok(next) => next,
        Err(e) => {
            tracing::error!(error = %e, path = %own.spool.path().display(), "cannot read the accounting spool; retrying in 10 s");
            return now + Duration::from_secs(10);
        }
    };
    match store_isolating(shared, &items, accounting).await {
        Ok(()) => {
            if let Err(e) = own.spool.replayed_to(end) {
                tracing::error!(error = %e, "spool replayed but not removed; it will be replayed again (harmless)");
            }
            own.report_spool_bytes(&shared.radius.stats);
            if !own.spool.is_pending() {
                tracing::info!(
                    path = %own.spool.path().display(),
                    "spooled accounting replayed into the database"
                );
            }
        }
        Err((_, e)) => {
            // What was stored of this batch is replayed again later: harmless.
            RadiusStats::bump(&shared.radius.stats.acct_replay_failures_total);
            shared.reachability.lost(&e);
        }
    }
    now
}

impl Writer {
    fn report_spool_bytes(&mut self, stats: &RadiusStats) {
        let since = self
            .spool
            .pending_since()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0.0, |d| d.as_secs_f64());
        self.spool_since.set(since);
        let now = self.spool.pending_bytes();
        // Each writer adds its own change; the gauge is their sum.
        stats
            .acct_spool_bytes
            .increment(now as f64 - self.reported_spool_bytes as f64);
        self.spooled.fetch_add(now, Ordering::AcqRel);
        self.spooled
            .fetch_sub(self.reported_spool_bytes, Ordering::AcqRel);
        self.reported_spool_bytes = now;
    }
}

/// Closes sessions the NAS stopped reporting on (no update for `stale_after`), a quarter of
/// that apart. One instance sweeps at a time (a job lock), and none while its own accounting
/// waits in a spool or the database is away: a session whose updates are not stored yet is
/// not stale — nor is the time ispd itself was down counted ([`stale_before`]).
async fn sweeper(
    store: Store,
    radius: Arc<RadiusService>,
    reachability: Arc<Reachability>,
    spooled: Arc<AtomicU64>,
    stale_after: Duration,
    down: Downtime,
) {
    let period = (stale_after / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    let stale = chrono::Duration::from_std(stale_after).unwrap_or_default();
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // Addresses are this instance's memory: released whatever the database does.
        radius.addresses.expire(Utc::now(), stale_after);
        if spooled.load(Ordering::Acquire) > 0 || reachability.is_down() {
            continue;
        }
        let Ok(Some(_lock)) = store.try_job_lock("stale-sweep").await else {
            continue;
        };
        let before = stale_before(Utc::now(), stale, down);
        match store.close_stale_sessions(before).await {
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
}

/// How often an instance on a shared PostgreSQL reads the addresses the others heard of: well
/// inside an offer's hold (`Pools::OFFER_HOLD`), so an address offered here whose session's
/// accounting goes to another instance is held before its offer lapses.
const FOLLOW_ADDRESSES_EVERY: Duration = Duration::from_secs(5);
/// How far back each read reaches before the last one: instances' clocks a little apart.
const FOLLOW_OVERLAP: chrono::TimeDelta = chrono::TimeDelta::seconds(30);

/// Holds the addresses of open sessions other instances heard of, read every
/// [`FOLLOW_ADDRESSES_EVERY`] (sessions heard since the read before): an instance hears only
/// the accounting sent to it, and a NAS may send the Accept's session's accounting elsewhere.
/// The start holds every open session's address already. Off the hot path, and only while a
/// pool is configured.
async fn follow_addresses(store: Store, radius: Arc<RadiusService>) {
    let mut since = Utc::now() - FOLLOW_OVERLAP;
    let mut tick = tokio::time::interval(FOLLOW_ADDRESSES_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !radius.addresses.any_pool() {
            continue;
        }
        let now = Utc::now();
        match store.open_addresses_heard_since(Some(since)).await {
            Ok(open) => {
                radius.addresses.heard_elsewhere(open, now);
                since = now - FOLLOW_OVERLAP;
            }
            Err(e) => tracing::debug!(error = %e, "cannot read other instances' addresses yet"),
        }
    }
}

/// When ispd was not running before this start: from the last heartbeat of the instances
/// before (`from`) to this start (`to`); none on a new database.
#[derive(Debug, Clone, Copy)]
pub struct Downtime {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The sessions not updated since the moment returned are stale: no update for `stale_after`
/// of the time ispd was there to hear one. A NAS cannot report to a daemon that is not
/// running, so the time ispd was down does not count: an outage longer than `stale_after`
/// would otherwise close every session at the start, though the NASes kept them up — and
/// each would be out of Simultaneous-Use and enforcement until its next Interim reopened it.
fn stale_before(
    now: DateTime<Utc>,
    stale_after: chrono::Duration,
    down: Downtime,
) -> DateTime<Utc> {
    let before = now - stale_after;
    // Past `stale_after` after the start, every session last updated before the outage has
    // been heard from for that long (or not at all): the outage no longer matters.
    if now - down.to < stale_after {
        before - (down.to - down.from).max(chrono::Duration::zero())
    } else {
        before
    }
}

/// The record an Accounting-Request carries; `Ok(None)` for status types that are
/// acknowledged but not stored (Failed, tunnel records), `Err` for a malformed request.
fn record(
    packet: &PacketRef<'_>,
    received: DateTime<Utc>,
) -> Result<Option<AcctRecord>, &'static str> {
    let u32_of = |typ: u8| packet.first(typ).and_then(|a| a.as_u32().ok());
    // Every text of a record as User-Name and Acct-Session-Id are kept: as sent when it is
    // printable, else in hex (a NUL in a Calling-Station-Id set the whole record aside on
    // PostgreSQL, which refuses it in text).
    let text_of = |typ: u8| packet.first(typ).map(|a| attribute_text(a.as_bytes()));
    let status_code = u32_of(rfc::ACCT_STATUS_TYPE).ok_or("no Acct-Status-Type")?;
    let Some(status) = StatusType::from_code(status_code) else {
        return Ok(None);
    };
    let acct_session_id = packet
        .first(rfc::ACCT_SESSION_ID)
        .map(|a| attribute_text(a.as_bytes()))
        .unwrap_or_default();
    if acct_session_id.is_empty()
        && !matches!(status, StatusType::AccountingOn | StatusType::AccountingOff)
    {
        return Err("no Acct-Session-Id");
    }
    let event_timestamp = packet
        .first(rfc::EVENT_TIMESTAMP)
        .and_then(|a| a.as_date().ok())
        .map(DateTime::<Utc>::from);
    let delay = u32_of(rfc::ACCT_DELAY_TIME).unwrap_or(0);
    let counter = |low: u8, high: u8| octets(u32_of(low).unwrap_or(0), u32_of(high).unwrap_or(0));
    let class = packet
        .first(rfc::CLASS)
        .and_then(|a| parse_class(a.as_bytes()));
    Ok(Some(AcctRecord {
        status,
        acct_session_id,
        username: packet
            .first(rfc::USER_NAME)
            .map(|a| attribute_text(a.as_bytes()))
            .unwrap_or_default(),
        login_id: class.map(|c| c.login_id),
        accepted_at: class.and_then(|c| c.accepted_at),
        framed_ip: packet
            .first(rfc::FRAMED_IP_ADDRESS)
            .and_then(|a| a.as_ipv4().ok()),
        delegated_prefix: [rfc::DELEGATED_IPV6_PREFIX, rfc::FRAMED_IPV6_PREFIX]
            .into_iter()
            .find_map(|t| packet.first(t)?.as_ipv6_prefix().ok())
            .map(|p| Ipv6Prefix {
                addr: p.addr(),
                len: p.prefix_len(),
            }),
        calling_station: text_of(rfc::CALLING_STATION_ID),
        nas_port: text_of(rfc::NAS_PORT_ID)
            .or_else(|| u32_of(rfc::NAS_PORT).map(|p| p.to_string())),
        event_time: event_time(received, event_timestamp, delay),
        received_at: Some(received),
        session_seconds: session_time(u32_of(rfc::ACCT_SESSION_TIME).unwrap_or(0)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_time_ispd_was_down_does_not_make_a_session_stale() {
        let at = |h, m| Utc.with_ymd_and_hms(2026, 12, 7, h, m, 0).unwrap();
        let stale = chrono::Duration::minutes(16);
        let down = |from, to| Downtime { from, to };
        let cases = [
            // (now, downtime, sessions not updated since … are stale)
            // No outage: sixteen minutes of silence.
            (at(12, 0), down(at(9, 0), at(9, 0)), at(11, 44)),
            // Down from 10:00 to 11:00, up since: a session last heard at 9:50 has been
            // silent 10 minutes before the outage and 1 after it, not 71.
            (at(11, 1), down(at(10, 0), at(11, 0)), at(9, 45)),
            (at(11, 10), down(at(10, 0), at(11, 0)), at(9, 54)),
            // Sixteen minutes after the start the outage no longer matters.
            (at(11, 16), down(at(10, 0), at(11, 0)), at(11, 0)),
            (at(12, 0), down(at(10, 0), at(11, 0)), at(11, 44)),
            // Another instance's heartbeat after this start: no outage.
            (at(11, 1), down(at(11, 0), at(10, 59)), at(10, 45)),
        ];
        for (now, down, expected) in cases {
            assert_eq!(stale_before(now, stale, down), expected, "{now} {down:?}");
        }
    }
}
