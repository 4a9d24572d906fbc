//! One paced queue per NAS: requests leave at `[enforcement] rate` per second, at most 256 in
//! flight (the RADIUS identifier space of one socket), and a session queued twice is sent
//! once with the newer request — a tariff edited three times in a second costs each session
//! one CoA. A queued Disconnect is never downgraded to a CoA: re-authentication always
//! brings the newest answer. One session has at most one request in flight: a newer one waits
//! until the older is answered or given up, so a retransmission of an old CoA can never land
//! after the new one and leave the session with the old speed.
//!
//! A queue holds at most [`QUEUE_LIMIT`] sessions; beyond that a request is dropped, counted
//! and its login left unconfirmed for the reconcile, so a NAS that went dark cannot grow the
//! daemon's memory without bound.

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use ispd_provisioning::enforcement::{DisconnectCause, Outcome, RequestKind, settles};
use ispd_provisioning::nas::NasVendor;
use ispd_provisioning::reply::ReplyAttribute;
use ispd_radius::dict::rfc;
use ispd_radius::{Attribute, KeyedSecret, Secret};
use tokio::sync::{Notify, Semaphore, oneshot};
use tokio::time::Instant;

use super::client::{CoaClient, Reply, Retry};
use super::{Reason, Shared};
use crate::radius::NasEntry;
use crate::storage::{EnforcementAttempt, OpenSession};

/// Sessions one NAS's queue holds at most (a whole large NAS, twice over).
const QUEUE_LIMIT: usize = 200_000;
/// How far behind its schedule a queue may catch up at once (at most `rate × this` requests
/// back to back).
const CATCH_UP: Duration = Duration::from_millis(100);
/// Requests in flight to one NAS: one socket's identifiers.
const IN_FLIGHT: usize = 256;

pub(super) enum Request {
    Coa(Vec<ReplyAttribute>),
    Disconnect(DisconnectCause),
}

impl Request {
    fn kind(&self) -> RequestKind {
        match self {
            Request::Coa(_) => RequestKind::Coa,
            Request::Disconnect(_) => RequestKind::Disconnect,
        }
    }
}

pub(super) struct Job {
    pub session: OpenSession,
    pub login: Option<i64>,
    pub request: Request,
    pub reason: Reason,
    pub waiters: Vec<oneshot::Sender<Delivered>>,
}

impl Job {
    /// Takes in a newer job of the same session: its request replaces this one's (a
    /// Disconnect stays one), its waiters wait for this one.
    fn merge(&mut self, newer: Job) {
        self.waiters.extend(newer.waiters);
        self.reason = newer.reason;
        self.session = newer.session;
        self.login = newer.login.or(self.login);
        if !matches!(self.request, Request::Disconnect(_)) {
            self.request = newer.request;
        }
    }
}

/// What became of one session's request, as the operator who asked for it reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub session_id: i64,
    pub acct_session_id: String,
    pub nas: String,
    /// The last request sent (a Disconnect after a NAKed CoA).
    pub kind: RequestKind,
    pub outcome: Outcome,
    pub error_cause: Option<u32>,
}

pub(super) struct Queues {
    shared: Arc<Shared>,
    by_nas: Mutex<HashMap<String, Arc<NasQueue>>>,
}

impl Queues {
    pub fn new(shared: Arc<Shared>) -> Self {
        Queues {
            shared,
            by_nas: Mutex::default(),
        }
    }

    /// Queues a job on its session's NAS, starting that NAS's sender on first use. The job
    /// is recorded as queued first, so its answer is always recorded after that; one for a
    /// NAS no longer configured is recorded unsent at once (no sender for it).
    pub fn push(&self, job: Job) {
        let nas = job.session.nas_name.clone();
        if self.shared.radius.nas_table().by_name(&nas).is_none() {
            tracing::warn!(nas = %nas, session = job.session.id, "the session's NAS is no longer configured: the change cannot reach it (recorded unsent)");
            give_up(job, &nas, &self.shared);
            return;
        }
        self.shared
            .recorder
            .record(vec![record(&job, &nas, Outcome::Queued)]);
        let queue = {
            let mut by_nas = self.by_nas.lock().unwrap_or_else(|e| e.into_inner());
            by_nas
                .entry(job.session.nas_name.clone())
                .or_insert_with(|| {
                    let queue = Arc::new(NasQueue::new(job.session.nas_name.clone()));
                    tokio::spawn(queue.clone().run(self.shared.clone()));
                    queue
                })
                .clone()
        };
        if let Err(job) = queue.push(job) {
            metrics::counter!("ispd_enforcement_queue_dropped_total", "nas" => nas.clone())
                .increment(1);
            give_up(*job, &nas, &self.shared);
        }
    }

    /// At a clean stop: every job not yet done, as unsent, for the caller to write — those
    /// queued taken out of their queue (their waiters told), and those taken (waiting for
    /// their turn, or out to the NAS: an answer that still comes is recorded after this one
    /// and supersedes it; one that does not is sent again by the next start).
    pub fn unsent_at_stop(&self) -> Vec<EnforcementAttempt> {
        let queues: Vec<Arc<NasQueue>> = {
            let by_nas = self.by_nas.lock().unwrap_or_else(|e| e.into_inner());
            by_nas.values().cloned().collect()
        };
        let mut attempts = Vec::new();
        for queue in queues {
            let jobs: Vec<Job> = {
                let mut pending = queue.pending.lock().unwrap_or_else(|e| e.into_inner());
                pending.order.clear();
                pending.jobs.drain().map(|(_, job)| job).collect()
            };
            attempts.extend(jobs.into_iter().map(|job| unsent(job, &queue.name)));
            let out = queue.out.lock().unwrap_or_else(|e| e.into_inner());
            attempts.extend(out.values().cloned());
        }
        attempts
    }

    pub fn depths(&self) -> Vec<(String, usize)> {
        let by_nas = self.by_nas.lock().unwrap_or_else(|e| e.into_inner());
        let mut depths: Vec<_> = by_nas.iter().map(|(n, q)| (n.clone(), q.depth())).collect();
        depths.sort();
        depths
    }
}

#[derive(Default)]
struct Pending {
    order: VecDeque<i64>,
    jobs: HashMap<i64, Job>,
    /// Sessions with a request out: their next one waits.
    busy: std::collections::HashSet<i64>,
}

struct NasQueue {
    name: String,
    pending: Mutex<Pending>,
    /// Each job taken from `pending` and not yet done (waiting for its turn, or out to the
    /// NAS), by session, as its attempt would be recorded had it not been sent.
    out: Mutex<HashMap<i64, EnforcementAttempt>>,
    ready: Notify,
    in_flight: Arc<Semaphore>,
    /// Sessions queued at most; see [`QUEUE_LIMIT`].
    limit: usize,
}

/// A NAS's client, kept while its address, secret and retry settings stay the same.
struct Peer {
    addr: SocketAddr,
    secret: KeyedSecret,
    retry: Retry,
    client: Arc<CoaClient>,
}

impl NasQueue {
    fn new(name: String) -> Self {
        Self::with_limit(name, QUEUE_LIMIT)
    }

    fn with_limit(name: String, limit: usize) -> Self {
        NasQueue {
            name,
            pending: Mutex::default(),
            out: Mutex::default(),
            ready: Notify::new(),
            in_flight: Arc::new(Semaphore::new(IN_FLIGHT)),
            limit,
        }
    }

    fn depth(&self) -> usize {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .jobs
            .len()
    }

    /// Queues a job, or merges it into the one queued for its session; a full queue hands it
    /// back.
    fn push(&self, job: Job) -> Result<(), Box<Job>> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let id = job.session.id;
        if let Some(queued) = pending.jobs.get_mut(&id) {
            queued.merge(job);
        } else if pending.jobs.len() >= self.limit {
            return Err(Box::new(job));
        } else {
            pending.order.push_back(id);
            pending.jobs.insert(id, job);
        }
        let depth = pending.jobs.len();
        drop(pending);
        metrics::gauge!("ispd_enforcement_queue_depth", "nas" => self.name.clone())
            .set(depth as f64);
        self.ready.notify_one();
        Ok(())
    }

    /// The session's request is answered or given up (and recorded): its next one may go.
    /// A next one already waiting is handed to `record` as queued again, after that answer,
    /// so the session's last record is not an answer to the request before it.
    fn done(&self, session: i64, record_next: impl FnOnce(EnforcementAttempt)) {
        self.out
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&session);
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.busy.remove(&session);
            // Under the lock: the next one cannot be taken, sent and answered before this.
            if let Some(next) = pending.jobs.get(&session) {
                record_next(record(next, &self.name, Outcome::Queued));
            }
        }
        self.ready.notify_one();
    }

    /// A job queued for `job`'s session while `job` waited for its turn is merged into it:
    /// the session is sent once, the newer request (found probing from outside: the older
    /// went out, then the newer — a useless CoA to the NAS).
    fn catch_up(&self, job: &mut Job) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(newer) = pending.jobs.remove(&job.session.id) {
            job.merge(newer);
        }
    }

    /// The oldest queued job whose session has no request out, marked busy.
    async fn next(&self) -> Job {
        loop {
            if let Some(job) = self.take() {
                return job;
            }
            self.ready.notified().await;
        }
    }

    fn take(&self) -> Option<Job> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let mut waiting = Vec::new();
        let mut found = None;
        while let Some(id) = pending.order.pop_front() {
            if !pending.jobs.contains_key(&id) {
                continue;
            }
            if pending.busy.contains(&id) {
                waiting.push(id);
                continue;
            }
            found = pending.jobs.remove(&id);
            pending.busy.insert(id);
            break;
        }
        // Sessions still waiting for their answer keep their place at the front.
        for id in waiting.into_iter().rev() {
            pending.order.push_front(id);
        }
        let depth = pending.jobs.len();
        drop(pending);
        metrics::gauge!("ispd_enforcement_queue_depth", "nas" => self.name.clone())
            .set(depth as f64);
        found
    }

    /// Sends the queue's jobs, paced, for as long as the daemon runs.
    async fn run(self: Arc<Self>, shared: Arc<Shared>) {
        let mut next_send = Instant::now();
        let mut peer: Option<Peer> = None;
        loop {
            let mut job = self.next().await;
            self.out
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(job.session.id, record(&job, &self.name, Outcome::Unsent));
            let settings = shared.config.load().enforcement.clone();
            tokio::time::sleep_until(next_send).await;
            self.catch_up(&mut job);
            self.out
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(job.session.id, record(&job, &self.name, Outcome::Unsent));
            // Keep the average at the rate: a late wake-up (timers tick in milliseconds) is
            // made up by the next sends, but an idle queue does not save up a burst.
            let now = Instant::now();
            if now > next_send + CATCH_UP {
                next_send = now;
            }
            next_send += Duration::from_secs_f64(1.0 / f64::from(settings.rate.max(1)));
            let table = shared.radius.nas_table();
            let session = job.session.id;
            let Some(nas) = table.by_name(&self.name).cloned() else {
                give_up(job, &self.name, &shared);
                self.done(session, |next| shared.recorder.record(vec![next]));
                continue;
            };
            let retry = Retry {
                first_timeout: settings.first_timeout(),
                tries: settings.tries,
            };
            let client = match client_for(&nas, retry, &mut peer).await {
                Ok(client) => client,
                Err(e) => {
                    tracing::warn!(nas = %nas.name, error = %e, "no socket for CoA to this NAS");
                    give_up(job, &self.name, &shared);
                    self.done(session, |next| shared.recorder.record(vec![next]));
                    continue;
                }
            };
            let Ok(permit) = self.in_flight.clone().acquire_owned().await else {
                return;
            };
            let shared = shared.clone();
            let queue = self.clone();
            tokio::spawn(async move {
                deliver(job, &client, &nas, &shared).await;
                queue.done(session, |next| shared.recorder.record(vec![next]));
                drop(permit);
            });
        }
    }
}

async fn client_for(
    nas: &NasEntry,
    retry: Retry,
    peer: &mut Option<Peer>,
) -> std::io::Result<Arc<CoaClient>> {
    let addr = SocketAddr::new(nas.address, nas.coa_port);
    if let Some(p) = peer
        && p.addr == addr
        && p.secret == nas.secret
        && p.retry == retry
    {
        return Ok(p.client.clone());
    }
    let client = Arc::new(CoaClient::new(addr, nas.secret.clone(), retry).await?);
    *peer = Some(Peer {
        addr,
        secret: nas.secret.clone(),
        retry,
        client: client.clone(),
    });
    Ok(client)
}

/// Sends one job's request (and the Disconnect that follows a NAKed CoA), records every
/// attempt, and tells whoever waits.
async fn deliver(job: Job, client: &CoaClient, nas: &NasEntry, shared: &Shared) {
    let identity = identification(&job.session, nas.vendor);
    let first = job.request.kind();
    let speed: &[ReplyAttribute] = match &job.request {
        Request::Coa(attributes) => attributes,
        Request::Disconnect(_) => &[],
    };
    let mut attempts = Vec::with_capacity(2);
    let mut last = (first, send(client, first, &identity, speed, nas).await);
    attempts.push(attempt(&job, &nas.name, first, speed, &last.1));
    if first == RequestKind::Coa && last.1.outcome == Outcome::Nak {
        last = (
            RequestKind::Disconnect,
            send(client, RequestKind::Disconnect, &identity, &[], nas).await,
        );
        attempts.push(attempt(
            &job,
            &nas.name,
            RequestKind::Disconnect,
            &[],
            &last.1,
        ));
    }
    let (kind, reply) = last;
    let settled = settles(kind, reply.outcome, reply.error_cause);
    if !settled {
        shared.unconfirm(job.login);
    } else if kind == RequestKind::Disconnect {
        // The NAS ended it, or has no such session: it is over.
        shared.ended.ended(job.session.id);
    }
    shared.recorder.record(attempts);
    let delivered = Delivered {
        session_id: job.session.id,
        acct_session_id: job.session.acct_session_id.clone(),
        nas: nas.name.to_string(),
        kind,
        outcome: reply.outcome,
        error_cause: reply.error_cause,
    };
    answer(job, delivered);
}

async fn send(
    client: &CoaClient,
    kind: RequestKind,
    identity: &[Attribute],
    speed: &[ReplyAttribute],
    nas: &NasEntry,
) -> Reply {
    let mut attributes = identity.to_vec();
    attributes.extend(speed.iter().filter_map(|a| {
        crate::radius::reply::encode(a, nas.secret.bytes(), &[0; 16], &mut || [0x80, 0])
    }));
    let reply = client.send(kind, attributes).await;
    metrics::counter!(
        "ispd_enforcement_requests_total",
        "nas" => nas.name.to_string(),
        "kind" => kind.as_str(),
        "outcome" => reply.outcome.as_str(),
    )
    .increment(1);
    reply
}

/// How the NAS finds the session (RFC 5176 §3): User-Name and Acct-Session-Id always, the
/// session's IPv4 address when known, and for generic (hotspot) NASes the MAC as
/// Calling-Station-Id. NAS-IP-Address is left out on purpose: a NAS compares it with its own
/// idea of its address and NAKs on a mismatch (403), and the source address ispd knows it by
/// is not always that one (NAT, several interfaces).
fn identification(session: &OpenSession, vendor: NasVendor) -> Vec<Attribute> {
    let mut out = Vec::with_capacity(4);
    if !session.username.is_empty() {
        out.push(Attribute::string(rfc::USER_NAME, &session.username));
    }
    if !session.acct_session_id.is_empty() {
        out.push(Attribute::string(
            rfc::ACCT_SESSION_ID,
            &session.acct_session_id,
        ));
    }
    if let Some(ip) = session
        .framed_ip
        .as_deref()
        .and_then(|text| text.parse::<Ipv4Addr>().ok())
    {
        out.push(Attribute::ipv4(rfc::FRAMED_IP_ADDRESS, ip));
    }
    if vendor == NasVendor::Generic
        && let Some(mac) = session.calling_station.as_deref().filter(|m| !m.is_empty())
    {
        out.push(Attribute::string(rfc::CALLING_STATION_ID, mac));
    }
    out
}

fn attempt(
    job: &Job,
    nas: &str,
    kind: RequestKind,
    speed: &[ReplyAttribute],
    reply: &Reply,
) -> EnforcementAttempt {
    EnforcementAttempt {
        at: Utc::now(),
        login_id: job.login,
        username: job.session.username.clone(),
        session_id: Some(job.session.id),
        acct_session_id: job.session.acct_session_id.clone(),
        nas_name: nas.to_owned(),
        kind,
        reason: match &job.request {
            Request::Disconnect(cause) => format!("{}: {}", job.reason.as_str(), cause.as_str()),
            Request::Coa(_) => job.reason.as_str().to_owned(),
        },
        sent: speed
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", "),
        outcome: reply.outcome,
        error_cause: reply.error_cause,
        tries: reply.tries,
    }
}

/// A job that cannot be sent (NAS gone, no socket, queue full): recorded as unsent, its
/// login left to the reconcile.
fn give_up(job: Job, nas: &str, shared: &Shared) {
    shared.unconfirm(job.login);
    shared.recorder.record(vec![unsent(job, nas)]);
}

/// Tells a job's waiters it was not sent; returns its attempt record.
fn unsent(job: Job, nas: &str) -> EnforcementAttempt {
    let kind = job.request.kind();
    let record = record(&job, nas, Outcome::Unsent);
    let delivered = Delivered {
        session_id: job.session.id,
        acct_session_id: job.session.acct_session_id.clone(),
        nas: nas.to_owned(),
        kind,
        outcome: Outcome::Unsent,
        error_cause: None,
    };
    answer(job, delivered);
    record
}

/// A job's record while it is not (yet) sent: queued, or unsent.
fn record(job: &Job, nas: &str, outcome: Outcome) -> EnforcementAttempt {
    let reply = Reply {
        outcome,
        error_cause: None,
        tries: 0,
    };
    attempt(job, nas, job.request.kind(), &[], &reply)
}

fn answer(job: Job, delivered: Delivered) {
    for waiter in job.waiters {
        let _ = waiter.send(delivered.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(session: i64, request: Request) -> (Job, oneshot::Receiver<Delivered>) {
        let (tx, rx) = oneshot::channel();
        let job = Job {
            session: OpenSession {
                id: session,
                login_id: Some(7),
                username: "novak".into(),
                nas_name: "bras".into(),
                acct_session_id: format!("S{session}"),
                framed_ip: None,
                calling_station: None,
                nas_port: None,
            },
            login: Some(7),
            request,
            reason: Reason::AccessChange,
            waiters: vec![tx],
        };
        (job, rx)
    }

    fn coa(rate: &str) -> Request {
        Request::Coa(vec![ReplyAttribute::MikrotikRateLimit(rate.into())])
    }

    fn rate_of(job: &Job) -> Option<&str> {
        match &job.request {
            Request::Coa(attributes) => match attributes.first() {
                Some(ReplyAttribute::MikrotikRateLimit(rate)) => Some(rate),
                _ => None,
            },
            Request::Disconnect(_) => None,
        }
    }

    #[test]
    fn a_session_queued_twice_is_sent_once_with_the_newer_request() {
        let queue = NasQueue::new("bras".into());
        let (first, _) = job(1, coa("1M/1M"));
        let (second, _) = job(1, coa("2M/2M"));
        let (other, _) = job(2, coa("3M/3M"));
        assert!(
            queue.push(first).is_ok() && queue.push(second).is_ok() && queue.push(other).is_ok()
        );
        assert_eq!(queue.depth(), 2);
        let taken = queue.take().unwrap();
        assert_eq!((taken.session.id, rate_of(&taken)), (1, Some("2M/2M")));
        assert_eq!(taken.waiters.len(), 2, "both callers hear the answer");
        assert_eq!(queue.take().unwrap().session.id, 2);
        assert!(queue.take().is_none());
    }

    /// Found probing from outside: a job taken from the queue waits for its turn (the NAS's
    /// rate); a newer one for its session queued meanwhile went out after it.
    #[test]
    fn a_newer_request_queued_while_one_waits_for_its_turn_replaces_it() {
        let queue = NasQueue::new("bras".into());
        let (old, _) = job(1, coa("1M/1M"));
        assert!(queue.push(old).is_ok());
        let mut taken = queue.take().unwrap();
        let (newer, _) = job(1, coa("2M/2M"));
        assert!(queue.push(newer).is_ok());
        queue.catch_up(&mut taken);
        assert_eq!(rate_of(&taken), Some("2M/2M"));
        assert_eq!(taken.waiters.len(), 2, "both callers hear the answer");
        assert_eq!(queue.depth(), 0, "sent once");
    }

    #[test]
    fn a_queued_disconnect_is_not_downgraded() {
        let queue = NasQueue::new("bras".into());
        let (disconnect, _) = job(1, Request::Disconnect(DisconnectCause::SetUpAnew));
        let (later, _) = job(1, coa("2M/2M"));
        assert!(queue.push(disconnect).is_ok() && queue.push(later).is_ok());
        assert!(matches!(
            queue.take().unwrap().request,
            Request::Disconnect(_)
        ));
    }

    #[test]
    fn one_session_has_one_request_out_at_a_time() {
        let queue = NasQueue::new("bras".into());
        let (old, _) = job(1, coa("1M/1M"));
        assert!(queue.push(old).is_ok());
        assert_eq!(queue.take().unwrap().session.id, 1, "out, not yet answered");
        let (newer, _) = job(1, coa("2M/2M"));
        let (other, _) = job(2, coa("3M/3M"));
        assert!(queue.push(newer).is_ok() && queue.push(other).is_ok());
        assert_eq!(
            queue.take().unwrap().session.id,
            2,
            "the other session goes first"
        );
        assert!(queue.take().is_none(), "session 1 waits for its answer");
        let mut recorded = Vec::new();
        queue.done(1, |next| recorded.push(next));
        assert_eq!(
            recorded
                .iter()
                .map(|r| (r.session_id, r.outcome))
                .collect::<Vec<_>>(),
            [(Some(1), Outcome::Queued)],
            "the waiting one recorded as queued again, after the answer"
        );
        queue.done(2, |next| recorded.push(next));
        assert_eq!(recorded.len(), 1, "nothing waits behind session 2");
        let taken = queue.take().unwrap();
        assert_eq!((taken.session.id, rate_of(&taken)), (1, Some("2M/2M")));
    }

    #[test]
    fn a_full_queue_hands_the_job_back() {
        let queue = NasQueue::with_limit("bras".into(), 2);
        for session in 1..=2 {
            assert!(queue.push(job(session, coa("1M/1M")).0).is_ok());
        }
        let refused = queue.push(job(3, coa("1M/1M")).0).unwrap_err();
        assert_eq!(refused.session.id, 3);
        assert!(
            queue.push(job(2, coa("2M/2M")).0).is_ok(),
            "a queued session still merges"
        );
        assert_eq!(queue.depth(), 2);
    }
}
