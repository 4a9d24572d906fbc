//! Enforcement: every committed change of what a login should get reaches its online
//! sessions on their NAS, by RFC 5176 CoA or Disconnect, within a second.
//!
//! The [`Enforcer`] is one more consumer of the change feed (it subscribes after the access
//! cache, so it reads the logins as RADIUS now answers for them); no write path calls it. It
//! keeps, per login, the answer its sessions were last told ("enforced"), and on each change
//! asks the pure rule [`plan`] what each open session of a changed login needs. Requests go
//! out from one paced queue per NAS ([`queue`]), so the RADIUS receive path never waits for a
//! NAS and a tariff change for 10,000 sessions leaves at the NAS's rate.
//!
//! A request that fails (timeout, unsent, a NAK that the fallback Disconnect cannot fix)
//! marks its login unconfirmed; the periodic [`Enforcer::reconcile`] pushes the whole current
//! answer to the sessions of unconfirmed logins and disconnects any session whose login would
//! now be refused — the safety net for lost packets and NASes that were unreachable.
//!
//! A session can come up on an answer a change replaces before its Start is stored: the
//! push reads the open sessions from the database and misses it. So can one the stale-session
//! sweep presumed over while its NAS was cut off from ispd. Our Class attribute carries the
//! moment each Accept was decided; when accounting stores a session open — its Start, the
//! first record of one whose Start was lost, or an Interim that reopens a swept one — for a
//! login whose answer was pushed after that moment, the enforcer tells that session too
//! ([`Enforcer::follow_starts`]).
//!
//! Sessions whose User-Name matches no login are left alone: ispd did not authenticate them.

pub mod client;
mod ended;
mod queue;
mod recorder;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ispd_provisioning::enforcement::{DisconnectCause, Plan, Told, plan, settles};
use ispd_provisioning::nas::NasVendor;
use ispd_provisioning::policy::{LoginAccess, NasContext, PolicyConfig};
use ispd_provisioning::speed::{At, is_timed, speed_at};
use tokio::sync::oneshot;

use crate::app::{AppError, AppResult};
use crate::changes::{Change, Consumer};
use crate::config::Config;
use crate::lead::Lead;
use crate::live::Live;
use crate::radius::{Entry, RadiusService, Started};
use crate::storage::{
    AccessScope, EnforcementAttemptRow, Logged, OpenSession, Page, PageRequest, Store, StoreError,
    StoreResult,
};

pub use queue::Delivered;

/// How long an operator's reload or disconnect waits for the NAS's answers before it reports
/// what it has (the requests still complete and are recorded).
const OPERATOR_WAIT: Duration = Duration::from_secs(30);
/// How long a stop waits for the enforcement log to be written.
const RECORDER_STOP: Duration = Duration::from_secs(3);
/// How long a reconcile asked for, or a read at start, waits before it is tried again; a
/// reconcile that keeps failing (a long outage) waits twice as long each time, up to
/// [`RETRY_MAX`].
const RETRY: Duration = Duration::from_secs(5);
const RETRY_MAX: Duration = Duration::from_secs(60);
/// How far before a dead instance's last heartbeat its logged changes are taken as possibly
/// untold: its heartbeat beats every 5 s whatever the enforcer did, a transaction's log rows
/// carry the time they were written (a long run's first ones minutes before its commit), and
/// a recorder can fall behind while the database is slow.
const UNTOLD_WINDOW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// Open sessions read per page by the reconcile.
const RECONCILE_PAGE: i64 = 1_000;
/// How often time-dependent speeds are looked at: a window edge or the end of a temporary
/// speed reaches the NAS within this (plus the queue).
const TIME_STEP: Duration = Duration::from_secs(1);
/// Batches of started sessions enforcement may hold unread before accounting stops telling
/// it (the reconcile covers what is missed).
const STARTS_BACKLOG: usize = 1024;

/// What enforcement shares with its queues: where to read the NAS table and settings, where
/// to record attempts, and which logins a failed request left unconfirmed.
struct Shared {
    radius: Arc<RadiusService>,
    config: Arc<Live<Config>>,
    recorder: recorder::Recorder,
    /// Closes the sessions a NAS said are over.
    ended: ended::Ended,
    unconfirmed: Mutex<HashSet<i64>>,
}

impl Shared {
    fn unconfirm(&self, login: Option<i64>) {
        self.unconfirm_all(login);
    }

    fn unconfirm_all(&self, logins: impl IntoIterator<Item = i64>) {
        self.unconfirmed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(logins);
    }

    /// The login's whole current answer reached every session it has: nothing is left for
    /// the reconcile to correct.
    fn confirm(&self, login: i64) {
        self.unconfirmed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&login);
    }
}

/// Why a request went out, for the attempt record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A committed change (tariff, state, suspension, password, …).
    AccessChange,
    /// The periodic (or requested) comparison of every open session.
    Reconcile,
    /// `ispctl login reload`.
    Reload,
    /// `ispctl session disconnect`.
    Operator,
    /// A speed that depends on the time changed by itself (a window edge, a temporary speed's
    /// end).
    Time,
    /// The session's Start was stored after a change was pushed to its login, though it was
    /// accepted before: it came up on the old answer.
    LateStart,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::AccessChange => "access change",
            Reason::Reconcile => "reconcile",
            Reason::Reload => "reload",
            Reason::Operator => "operator",
            Reason::Time => "time",
            Reason::LateStart => "late start",
        }
    }
}

/// What a reconcile looked at and what it sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    pub sessions: u64,
    pub queued: u64,
}

pub struct Enforcer {
    store: Store,
    shared: Arc<Shared>,
    queues: queue::Queues,
    /// Per login, the answer its online sessions were last told to have.
    enforced: Mutex<HashMap<i64, Enforced>>,
    /// Whether this instance sends what the clock causes (see `crate::lead`).
    lead: Arc<Lead>,
    /// A reconcile asked for ([`Self::reconcile_soon`]): a change, a new policy or a late
    /// Start could not be planned (the open sessions not read), or a start found requests
    /// that did not settle.
    soon: tokio::sync::Notify,
}

/// A login as its sessions were last told, when (a speed that depends on the time is read at
/// that moment), and under which policy (a reloaded walled garden changes what they have).
#[derive(Clone)]
struct Enforced {
    entry: Entry,
    at: At,
    policy: Arc<PolicyConfig>,
    /// The last push to the login's sessions, if there was one since the start.
    pushed: Option<Arc<Pushed>>,
}

/// When the login's sessions were last told something new, and what they had before: a
/// session accepted before `when` whose Start was stored after it was not among them.
struct Pushed {
    when: chrono::DateTime<chrono::Utc>,
    before: Enforced,
}

impl Enforced {
    fn new(entry: Entry, at: At, policy: Arc<PolicyConfig>) -> Self {
        Enforced {
            entry,
            at,
            policy,
            pushed: None,
        }
    }

    fn told(&self) -> Told<'_> {
        Told {
            login: self.entry.access().as_ref(),
            at: self.at,
            policy: &self.policy,
        }
    }

    /// `next` as pushed at `when`, remembering `self` (without its own history) as before.
    fn followed_by(&self, mut next: Enforced, when: chrono::DateTime<chrono::Utc>) -> Enforced {
        let before = Enforced {
            pushed: None,
            ..self.clone()
        };
        next.pushed = Some(Arc::new(Pushed { when, before }));
        next
    }
}

impl Enforcer {
    /// Starts enforcement with every login as RADIUS answers for it from the same records,
    /// as of `told_at`: when the process before was last alive (its last heartbeat) — what
    /// the sessions that are up were told then. Where the answer depends on the time (a
    /// temporary speed, a daily window), the clock's next step pushes what changed since.
    pub fn start(
        store: Store,
        radius: Arc<RadiusService>,
        config: Arc<Live<Config>>,
        lead: Arc<Lead>,
        told_at: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        let at = radius.clock().at_instant(told_at);
        let policy = radius.policy();
        let enforced = radius
            .select(&AccessScope::All)
            .into_iter()
            .map(|(id, entry)| (id, Enforced::new(entry, at, policy.clone())))
            .collect();
        let shared = Arc::new(Shared {
            ended: ended::Ended::start(store.clone(), radius.clone()),
            radius,
            config,
            recorder: recorder::Recorder::start(store.clone()),
            unconfirmed: Mutex::default(),
        });
        Enforcer {
            store,
            queues: queue::Queues::new(shared.clone()),
            shared,
            enforced: Mutex::new(enforced),
            lead,
            soon: tokio::sync::Notify::new(),
        }
    }

    /// Tells the open sessions of every login in `scope` whose answer changed.
    async fn on_access(&self, scope: &AccessScope) {
        let at = self.shared.radius.clock().at();
        let now = self.shared.radius.select(scope);
        let before = self.swap_enforced(scope, &now, at);
        let changed: Vec<i64> = before
            .keys()
            .chain(now.keys())
            .copied()
            .collect::<HashSet<_>>()
            .into_iter()
            .filter(|id| before.get(id).map(|e| e.told().login) != access(now.get(id)))
            .collect();
        if changed.is_empty() {
            return;
        }
        // A deleted login's sessions lost their login id (ON DELETE SET NULL): find them by name.
        let gone: HashMap<String, i64> = changed
            .iter()
            .filter(|id| !now.contains_key(id))
            .filter_map(|id| Some((before.get(id)?.entry.owner.username().to_owned(), *id)))
            .collect();
        let names: Vec<String> = gone.keys().cloned().collect();
        let sessions = match self.store.open_sessions_of(&changed, &names).await {
            Ok(sessions) => sessions,
            Err(e) => {
                tracing::error!(error = %e, "enforcement cannot read the open sessions; a reconcile pushes the change once they can be read");
                self.reconcile_soon(changed);
                return;
            }
        };
        for session in sessions {
            let Some(id) = session
                .login_id
                .or_else(|| gone.get(&session.username).copied())
            else {
                continue;
            };
            let told = before.get(&id).map(Enforced::told);
            let planned = self.plan_for(&session, told, access(now.get(&id)), at);
            self.queue(session, Some(id), planned, Reason::AccessChange, None);
        }
    }

    /// Records `now` as enforced for `scope` (as of `at`; an unchanged login keeps the moment
    /// it was told) and returns what was enforced there before.
    fn swap_enforced(
        &self,
        scope: &AccessScope,
        now: &HashMap<i64, Entry>,
        at: At,
    ) -> HashMap<i64, Enforced> {
        let mut enforced = self.enforced.lock().unwrap_or_else(|e| e.into_inner());
        let ids: Vec<i64> = match scope.login_ids() {
            Some(ids) => ids.to_vec(),
            None => enforced
                .iter()
                .filter(|(id, e)| e.entry.owner.in_scope(**id, scope))
                .map(|(id, _)| *id)
                .collect(),
        };
        let before: HashMap<i64, Enforced> = ids
            .into_iter()
            .filter_map(|id| enforced.remove(&id).map(|e| (id, e)))
            .collect();
        let policy = self.shared.radius.policy();
        enforced.extend(now.iter().map(|(id, entry)| {
            let next = Enforced::new(entry.clone(), at, policy.clone());
            let told = match before.get(id) {
                Some(unchanged) if unchanged.entry.access() == entry.access() => unchanged.clone(),
                Some(changed) => changed.followed_by(next, at.utc),
                None => next,
            };
            (*id, told)
        }));
        before
    }

    /// The plan for one session on its NAS; `Nothing` when its NAS is unknown.
    fn plan_for(
        &self,
        session: &OpenSession,
        told: Option<Told<'_>>,
        now: Option<&LoginAccess>,
        at: At,
    ) -> Plan {
        let table = self.shared.radius.nas_table();
        // A NAS deleted while its sessions are open: what the session is owed is planned as
        // for a NAS of no known vendor (a Disconnect), so the queue records it unsent, the
        // operator's command says so, and the login stays unconfirmed (see `queue::give_up`).
        let (vendor, mode) = table.by_name(&session.nas_name).map_or(
            (NasVendor::Generic, NasVendor::Generic.default_coa()),
            |nas| (nas.vendor, nas.coa),
        );
        let context = NasContext {
            name: &session.nas_name,
            vendor,
        };
        plan(told, now, at, &context, mode, &self.shared.radius.policy())
    }

    fn queue(
        &self,
        session: OpenSession,
        login: Option<i64>,
        plan: Plan,
        reason: Reason,
        waiter: Option<oneshot::Sender<Delivered>>,
    ) -> bool {
        let request = match plan {
            Plan::Nothing => return false,
            Plan::Coa(attributes) => queue::Request::Coa(attributes),
            Plan::Disconnect(cause) => queue::Request::Disconnect(cause),
        };
        self.queues.push(queue::Job {
            session,
            login,
            request,
            reason,
            waiters: waiter.into_iter().collect(),
        });
        true
    }

    /// Pushes a login's current answer to each of its online sessions now (net47's "force
    /// reload of settings") and returns what each NAS answered.
    pub async fn reload(&self, username: &str) -> AppResult<Vec<Delivered>> {
        let login_id = self.login_id(username)?;
        let now = self.shared.radius.select(&AccessScope::Login(login_id));
        let sessions = self
            .store
            .open_sessions_of(&[login_id], &[username.to_owned()])
            .await?;
        let mut waiting = Vec::new();
        for session in sessions {
            let at = self.shared.radius.clock().at();
            let planned = self.plan_for(&session, None, access(now.get(&login_id)), at);
            let (tx, rx) = oneshot::channel();
            if self.queue(session, Some(login_id), planned, Reason::Reload, Some(tx)) {
                waiting.push(rx);
            }
        }
        let asked = waiting.len();
        let delivered = wait_all(waiting).await;
        if delivered.len() == asked
            && delivered
                .iter()
                .all(|d| settles(d.kind, d.outcome, d.error_cause))
        {
            self.shared.confirm(login_id);
        }
        Ok(delivered)
    }

    /// Disconnects one open session.
    pub async fn disconnect_session(&self, id: i64) -> AppResult<Vec<Delivered>> {
        let session = self
            .store
            .open_session(id)
            .await?
            .ok_or_else(|| StoreError::not_found("open session", id.to_string()))?;
        Ok(self.disconnect(vec![session]).await)
    }

    /// Disconnects every open session of a login (also of one deleted since it logged in).
    pub async fn disconnect_login(&self, username: &str) -> AppResult<Vec<Delivered>> {
        let ids: Vec<i64> = self.shared.radius.login_id(username).into_iter().collect();
        let sessions = self
            .store
            .open_sessions_of(&ids, &[username.to_owned()])
            .await?;
        Ok(self.disconnect(sessions).await)
    }

    /// The attempts, newest first; `username` empty = every login.
    pub async fn history(
        &self,
        username: &str,
        page: PageRequest,
    ) -> AppResult<Page<EnforcementAttemptRow>> {
        Ok(self.store.enforcement_history(username, page).await?)
    }

    fn login_id(&self, username: &str) -> AppResult<i64> {
        self.shared
            .radius
            .login_id(username)
            .ok_or_else(|| AppError::Store(StoreError::not_found("login", username)))
    }

    /// Sends a Disconnect-Request to each of `sessions` and returns what each NAS answered.
    async fn disconnect(&self, sessions: Vec<OpenSession>) -> Vec<Delivered> {
        let mut waiting = Vec::new();
        for session in sessions {
            let (tx, rx) = oneshot::channel();
            let login = session.login_id;
            let planned = Plan::Disconnect(DisconnectCause::Operator);
            if self.queue(session, login, planned, Reason::Operator, Some(tx)) {
                waiting.push(rx);
            }
        }
        wait_all(waiting).await
    }

    /// Compares every open session with what it should have now and queues a correction for
    /// each that differs; the sessions of unconfirmed logins get their whole answer again.
    pub async fn reconcile(&self) -> StoreResult<ReconcileReport> {
        let mut unconfirmed = std::mem::take(
            &mut *self
                .shared
                .unconfirmed
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        // Also the logins whose last request to an open session, from any instance, did not
        // settle: the memory holds only this instance's (found probing from outside: a CoA
        // that timed out at one instance was not sent again by another's reconcile, nor by
        // anyone once that instance died).
        match self.unsettled_logins().await {
            Ok(logins) => unconfirmed.extend(logins),
            Err(e) => {
                self.shared.unconfirm_all(unconfirmed);
                return Err(e);
            }
        }
        let mut report = ReconcileReport::default();
        let at = self.shared.radius.clock().at();
        let walked = self
            .each_open_session(|session, id| {
                report.sessions += 1;
                let Some(id) = id else { return };
                let now = self.shared.radius.select(&AccessScope::Login(id));
                let enforced = self.enforced_of(id).filter(|_| !unconfirmed.contains(&id));
                let told = enforced.as_ref().map(Enforced::told);
                let planned = self.plan_for(&session, told, access(now.get(&id)), at);
                if self.queue(session, Some(id), planned, Reason::Reconcile, None) {
                    report.queued += 1;
                    self.told(id, now.get(&id), at);
                }
            })
            .await;
        if let Err(e) = walked {
            // Not walked to the end (the database away): the logins taken stay unconfirmed.
            self.shared.unconfirm_all(unconfirmed);
            return Err(e);
        }
        Ok(report)
    }

    /// A reloaded config changed the access policy (walled garden, restricted states, Cisco
    /// shaping): every open session whose login was told under another policy gets what it
    /// should have under this one.
    async fn on_policy(&self) {
        let policy = self.shared.radius.policy();
        let at = self.shared.radius.clock().at();
        let walked = self
            .each_open_session(|session, id| {
                let Some(id) = id else { return };
                let told = self.enforced_of(id);
                let Some(told) = told.filter(|e| !Arc::ptr_eq(&e.policy, &policy)) else {
                    return;
                };
                let now = self.shared.radius.select(&AccessScope::Login(id));
                let planned = self.plan_for(&session, Some(told.told()), access(now.get(&id)), at);
                self.queue(session, Some(id), planned, Reason::AccessChange, None);
            })
            .await;
        if let Err(e) = walked {
            // Sessions keep the policy they were told under: the reconcile asked for compares
            // with it and pushes the rest.
            tracing::warn!(error = %e, "the new policy was not pushed to every online session; a reconcile does once they can be read");
            self.reconcile_soon([]);
            return;
        }
        let mut enforced = self.enforced.lock().unwrap_or_else(|e| e.into_inner());
        for e in enforced.values_mut() {
            let next = Enforced::new(e.entry.clone(), e.at, policy.clone());
            *e = e.followed_by(next, at.utc);
        }
    }

    /// Follows the sessions that accounting opens, for as long as the daemon runs (see the
    /// module's doc): a session accepted before its login's last push is told now.
    pub fn follow_starts(self: &Arc<Self>) {
        let (tx, mut rx) = tokio::sync::mpsc::channel(STARTS_BACKLOG);
        self.shared.radius.watch_starts(tx);
        let enforcer = self.clone();
        tokio::spawn(async move {
            while let Some(started) = rx.recv().await {
                enforcer.on_started(started).await;
            }
        });
    }

    async fn on_started(&self, started: Vec<Started>) {
        // Per session: its login, and what it was told if that is known (the answer before
        // the push, when the session was accepted after that answer was).
        let late: HashMap<(String, String), (i64, Option<Enforced>)> = {
            let enforced = self.enforced.lock().unwrap_or_else(|e| e.into_inner());
            started
                .into_iter()
                .filter_map(|s| {
                    let pushed = enforced.get(&s.login_id)?.pushed.clone()?;
                    (pushed.when > s.accepted_at).then(|| {
                        let before = &pushed.before;
                        let told = (before.at.utc <= s.accepted_at).then(|| before.clone());
                        ((s.nas_name, s.acct_session_id), (s.login_id, told))
                    })
                })
                .collect()
        };
        if late.is_empty() {
            return;
        }
        let logins: Vec<i64> = late.values().map(|(id, _)| *id).collect();
        let sessions = match self.store.open_sessions_of(&logins, &[]).await {
            Ok(sessions) => sessions,
            Err(e) => {
                tracing::warn!(error = %e, "sessions started on an old answer not told yet; a reconcile does once they can be read");
                self.reconcile_soon(logins);
                return;
            }
        };
        let at = self.shared.radius.clock().at();
        for session in sessions {
            let key = (session.nas_name.clone(), session.acct_session_id.clone());
            let Some((id, told)) = late.get(&key) else {
                continue;
            };
            let now = self.shared.radius.select(&AccessScope::Login(*id));
            let told = told.as_ref().map(Enforced::told);
            let planned = self.plan_for(&session, told, access(now.get(id)), at);
            self.queue(session, Some(*id), planned, Reason::LateStart, None);
        }
    }

    /// Calls `each` with every open session and its login id, a page at a time.
    async fn each_open_session(
        &self,
        mut each: impl FnMut(OpenSession, Option<i64>),
    ) -> StoreResult<()> {
        let mut after = 0;
        loop {
            let page = self.store.open_sessions_page(after, RECONCILE_PAGE).await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = last.id;
            for session in page {
                let id = session.login_id;
                each(session, id);
            }
        }
    }

    fn enforced_of(&self, id: i64) -> Option<Enforced> {
        self.enforced
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }

    /// Records that the sessions of login `id` were told its answer as of `at`.
    fn told(&self, id: i64, entry: Option<&Entry>, at: At) {
        let mut enforced = self.enforced.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = entry {
            let next = Enforced::new(entry.clone(), at, self.shared.radius.policy());
            let told = match enforced.get(&id) {
                Some(before) => before.followed_by(next, at.utc),
                None => next,
            };
            enforced.insert(id, told);
        }
    }

    /// Pushes the speeds that changed with the time — a temporary speed ended, a daily window
    /// opened or closed — to the sessions of their logins. Called every [`TIME_STEP`].
    ///
    /// The record of what the sessions were told moves on only once they are: an edge whose
    /// sessions could not be read (the database away) is tried again at the next step, and
    /// an instance that does not lead leaves its record where it is, so that when it takes
    /// the lead — the leader died, or this instance lost the lead in an outage and gets it
    /// back — it pushes every edge passed since. The cost: after a change of leader, edges
    /// the old leader had pushed already are pushed once more.
    async fn follow_time(&self) {
        if !self.lead.holds() {
            return;
        }
        let at = self.shared.radius.clock().at();
        let due: HashMap<i64, Enforced> = {
            let enforced = self.enforced.lock().unwrap_or_else(|e| e.into_inner());
            enforced
                .iter()
                .filter(|(_, e)| {
                    let login = e.entry.access().as_ref();
                    is_timed(login) && speed_at(login, &e.at) != speed_at(login, &at)
                })
                .map(|(id, e)| (*id, e.clone()))
                .collect()
        };
        if due.is_empty() || !self.push_time(&due, at).await {
            return;
        }
        // Only where the login is still what was read above: a change in between was told
        // by itself.
        let mut enforced = self.enforced.lock().unwrap_or_else(|e| e.into_inner());
        for (id, e) in &due {
            if let Some(current) = enforced.get_mut(id)
                && Arc::ptr_eq(current.entry.access(), e.entry.access())
            {
                let next = Enforced::new(e.entry.clone(), at, self.shared.radius.policy());
                *current = current.followed_by(next, at.utc);
            }
        }
    }

    /// Queues the `due` logins' sessions their speed at `at`; false when the sessions could
    /// not be read.
    async fn push_time(&self, due: &HashMap<i64, Enforced>, at: At) -> bool {
        let ids: Vec<i64> = due.keys().copied().collect();
        let sessions = match self.store.open_sessions_of(&ids, &[]).await {
            Ok(sessions) => sessions,
            Err(e) => {
                tracing::warn!(error = %e, "time-dependent speeds not pushed yet; retrying");
                return false;
            }
        };
        for session in sessions {
            let Some(e) = session.login_id.and_then(|id| due.get(&id)) else {
                continue;
            };
            let planned = self.plan_for(
                &session,
                Some(e.told()),
                Some(e.entry.access().as_ref()),
                at,
            );
            self.queue(
                session,
                e.entry.access().login_id.into(),
                planned,
                Reason::Time,
                None,
            );
        }
        true
    }

    /// Follows the clock for time-dependent speeds, for as long as the daemon runs.
    pub async fn run_clock(self: Arc<Self>) {
        let mut tick = tokio::time::interval(TIME_STEP);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.follow_time().await;
        }
    }

    /// After a start: the logins whose last request to an open session did not settle (its
    /// NAS was away, or the daemon stopped before its turn came) are unconfirmed again — the
    /// memory that held them went with the process before, and a started enforcer takes every
    /// session to have been told its login's answer — and reconciled at once, whatever
    /// `reconcile_interval` says: it finishes changes already made. Read until it can be.
    pub async fn catch_up(self: Arc<Self>) {
        self.catch_up_on_the_dead().await;
        let missed = read_until_it_can(
            "which sessions a change did not reach before the start",
            || self.unsettled_logins(),
        )
        .await;
        if missed.is_empty() {
            return;
        }
        tracing::info!(
            logins = missed.len(),
            "sessions a change did not reach before the start: their answer is pushed again"
        );
        self.reconcile_soon(missed);
    }

    /// The logins whose last request to an open session, from any instance, did not settle
    /// (the attempt log).
    async fn unsettled_logins(&self) -> StoreResult<HashSet<i64>> {
        Ok(self
            .store
            .last_requests_to_open_sessions()
            .await?
            .into_iter()
            .filter(|r| !settles(r.kind, r.outcome, r.error_cause))
            .filter_map(|r| r.login_id)
            .collect())
    }

    /// After a start: an instance that died (a kill -9, a crash, power loss) took with it
    /// the changes it had committed but not yet queued for their sessions — nothing recorded
    /// those. Its change log since shortly before its last heartbeat names every login such
    /// a change could have touched ([`UNTOLD_WINDOW`] covers a long transaction's rows and a
    /// recorder behind); they are reconciled, so each open session gets its login's whole
    /// answer again (one told already gets the same twice). An instance that stopped cleanly
    /// recorded everything first and is skipped. Read until it can be.
    async fn catch_up_on_the_dead(&self) {
        let logins = read_until_it_can("what an instance that died had changed", || {
            self.untold_logins()
        })
        .await;
        if !logins.is_empty() {
            tracing::info!(
                logins = logins.len(),
                "logins changed in the last minutes of an instance that died: their answer is pushed again"
            );
            self.reconcile_soon(logins);
        }
    }

    /// The logins the dead instances' last minutes changed; the instances are then marked
    /// caught up on.
    async fn untold_logins(&self) -> StoreResult<HashSet<i64>> {
        let dead = self.store.instances_untold().await?;
        let Some(since) = dead.iter().map(|(_, beat)| *beat).min() else {
            return Ok(HashSet::new());
        };
        let ids: Vec<String> = dead.into_iter().map(|(id, _)| id).collect();
        let mut logins = HashSet::new();
        for logged in self.store.logged_since(&ids, since - UNTOLD_WINDOW).await? {
            match logged {
                // Also a login deleted since: its sessions are refused now.
                Logged::Access(AccessScope::Login(id)) => {
                    logins.insert(id);
                }
                Logged::Access(scope) => {
                    logins.extend(self.shared.radius.select(&scope).into_keys())
                }
                Logged::Nas => {}
            }
        }
        self.store.mark_told(&ids).await?;
        Ok(logins)
    }

    /// Leaves `logins` unconfirmed and asks for a reconcile now, whatever
    /// `reconcile_interval` says (`run_periodic` runs it until it has run).
    fn reconcile_soon(&self, logins: impl IntoIterator<Item = i64>) {
        self.shared.unconfirm_all(logins);
        self.soon.notify_one();
    }

    /// At a clean stop: the requests not yet answered (a large push, paced) are recorded as
    /// unsent, and every record is written before the store closes. Each was recorded as
    /// queued when it was queued — what the next start reads ([`Self::catch_up`]), after a
    /// kill -9 too; the unsent record tells the support desk it was never sent.
    pub async fn stop(&self) {
        // An edge passed since the clock's last step is queued first: the last heartbeat,
        // written after this, tells the next start the sessions were told as of now.
        self.follow_time().await;
        let unsent = self.queues.unsent_at_stop();
        let requests = unsent.len();
        self.shared.recorder.record(unsent);
        if tokio::time::timeout(RECORDER_STOP, self.shared.recorder.flush())
            .await
            .is_err()
        {
            tracing::error!(
                within_s = RECORDER_STOP.as_secs(),
                "the enforcement log was not written before the stop; a request queued in the last moments may not be sent again by the next start"
            );
        } else if requests > 0 {
            tracing::info!(
                requests,
                "requests still queued for the NASes recorded as unsent; the next start sends them"
            );
        }
    }

    /// Runs the reconcile every `[enforcement] reconcile_interval`, and prunes the attempt log,
    /// one instance at a time; and whenever a reconcile is asked for (`soon`) — that
    /// one tried again after [`RETRY`], backing off, until it has run.
    pub async fn run_periodic(self: Arc<Self>) {
        let mut retry = RETRY;
        loop {
            let settings = self.shared.config.load().enforcement.clone();
            let interval = Duration::from_secs(settings.reconcile_interval);
            // With the interval off, wake each minute to read it again.
            let wait = if interval.is_zero() {
                Duration::from_secs(60)
            } else {
                interval
            };
            let asked = tokio::select! {
                _ = tokio::time::sleep(wait) => false,
                _ = self.soon.notified() => true,
            };
            if !asked && interval.is_zero() {
                continue;
            }
            let ran = self.reconcile_once().await;
            if asked && !ran {
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(RETRY_MAX);
                self.soon.notify_one();
            } else if ran {
                retry = RETRY;
            }
            if !asked {
                let before =
                    chrono::Utc::now() - chrono::Duration::days(i64::from(settings.keep_days));
                if let Err(e) = self.store.prune_enforcement(before).await {
                    tracing::warn!(error = %e, "the enforcement log was not pruned");
                }
            }
        }
    }

    /// One reconcile, if no other instance runs one now; whether it ran.
    async fn reconcile_once(&self) -> bool {
        let _lock = match self.store.try_job_lock("reconcile").await {
            Ok(Some(lock)) => lock,
            Ok(None) => return false,
            Err(e) => {
                tracing::warn!(error = %e, "reconcile skipped: the database is unavailable");
                return false;
            }
        };
        match self.reconcile().await {
            Ok(r) => {
                tracing::info!(sessions = r.sessions, queued = r.queued, "reconcile");
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "reconcile failed");
                false
            }
        }
    }

    /// Sessions waiting to be sent, per NAS (the progress of a large push), and the logins
    /// left unconfirmed for the reconcile.
    pub fn status(&self) -> (Vec<(String, usize)>, usize) {
        let unconfirmed = self
            .shared
            .unconfirmed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len();
        (self.queues.depths(), unconfirmed)
    }
}

/// What `read` reads, tried again every [`RETRY`] until the database answers: what a start
/// must finish does not wait for the next start.
async fn read_until_it_can<T, F: Future<Output = StoreResult<T>>>(
    what: &str,
    mut read: impl FnMut() -> F,
) -> T {
    loop {
        match read().await {
            Ok(value) => return value,
            Err(e) => {
                tracing::error!(error = %e, "cannot read {what}; trying again in {} s", RETRY.as_secs());
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

fn access(entry: Option<&Entry>) -> Option<&LoginAccess> {
    entry.map(|e| e.access().as_ref())
}

/// Collects the answers that arrive within [`OPERATOR_WAIT`].
async fn wait_all(waiting: Vec<oneshot::Receiver<Delivered>>) -> Vec<Delivered> {
    let deadline = tokio::time::Instant::now() + OPERATOR_WAIT;
    let mut out = Vec::with_capacity(waiting.len());
    for rx in waiting {
        if let Ok(Ok(delivered)) = tokio::time::timeout_at(deadline, rx).await {
            out.push(delivered);
        }
    }
    out
}

impl Consumer for Enforcer {
    fn apply<'a>(&'a self, change: &'a Change) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            match change {
                Change::Access(scope) => self.on_access(scope).await,
                // Told by the instance that made it; this one only keeps up, so that a
                // session whose Start it stores, or a reconcile it runs, compares rightly.
                Change::Elsewhere(scope) => {
                    let at = self.shared.radius.clock().at();
                    let now = self.shared.radius.select(scope);
                    self.swap_enforced(scope, &now, at);
                }
                Change::Policy => self.on_policy().await,
                // A NAS's mode or address applies to the next request sent to it.
                Change::Nas => {}
            }
        })
    }
}
