//! The authentication log: every Access-Request's outcome for the support desk, recorded off
//! the RADIUS path.
//!
//! A receive thread only appends the attempt to a buffer of its own ([`Recorder`]) and hands
//! the buffer to a bounded channel every [`HANDOFF`] or [`HANDOFF_BATCH`] attempts
//! (`try_send`, never a wait): one channel operation and one wake-up of the writer per
//! hundreds of requests, not per request. One task keeps the last `[auth_log] per_login`
//! attempts of each login in memory and writes them all to the database, gathered for
//! [`GATHER`]: a login's outcome repeated meanwhile (a router retrying a wrong password, a
//! flapping link) becomes one row with its count and its first and last time, and the rows go
//! in transactions of at most [`BATCH`]. One map keyed by login holds both the memory and
//! where each login's pending row is, so an attempt costs one hash lookup. FreeRADIUS's
//! `radpostauth` is one insert per request; here a retry storm costs one row, and a quiet
//! network one small transaction per [`GATHER`]. Past the channel's [`BACKLOG`] (a database away for long, or slower than the
//! requests) attempts are dropped and counted: the log is a record, never a reason to answer
//! late.
//!
//! A listing first waits for the receive threads' hand-over and has the task write what it
//! holds, so `ispctl login auth-log` shows the request made a moment ago; when the database
//! cannot be read it answers from memory and says so.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::storage::{
    AuthAttempt, AuthLogEntry, AuthLogFilter, Page, PageRequest, SmolStr, Store, StoreResult,
};

/// Buffers of attempts waiting for the writer at most (up to 100,000 attempts, about 20 MB).
const BACKLOG: usize = 400;
/// Buffers the writer takes from the channel at a time.
const RECEIVE: usize = 64;
/// Attempts a receive thread buffers before it hands them over.
const HANDOFF_BATCH: usize = 256;
/// The longest a receive thread keeps an attempt (its socket's read timeout is this too, so
/// an idle thread hands over what it has).
pub const HANDOFF: Duration = Duration::from_millis(100);
/// Rows written per transaction at most, so accounting never waits long for SQLite's lock.
const BATCH: usize = 5_000;
/// How long outcomes are gathered before they are written.
const GATHER: Duration = Duration::from_secs(5);
/// Distinct outcomes gathered at most before they are written early (about 40 MB).
const GATHERED: usize = 200_000;
/// Tries for one batch before it is dropped (a database that refuses it as data).
const TRIES: u32 = 10;
/// Logins kept in memory at most; past it the memory starts again (a flood of made-up
/// usernames must not grow it without bound; the database keeps them all).
const MEMORY_LOGINS: usize = 100_000;
/// How long a listing waits for the writer to catch up before it reads anyway.
const FLUSH_WAIT: Duration = Duration::from_secs(3);
/// How often attempts older than `keep_days` are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// `[auth_log]` as the recorder uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthLogSettings {
    pub enabled: bool,
    /// Attempts kept per login in memory.
    pub per_login: usize,
    /// Days an attempt stays in the database; 0 keeps them all.
    pub keep_days: u32,
}

enum Item {
    Attempts(Vec<AuthAttempt>),
    /// Write everything sent before this, then answer.
    Flush(oneshot::Sender<()>),
}

/// What the writer holds: the last attempts of each login (newest at the back), and the rows
/// gathered since the last write, each repeat of a login's latest outcome counted into its
/// row. One map keyed by login serves both, so an attempt costs one hash lookup.
#[derive(Default)]
struct Memory {
    per_login: usize,
    logins: HashMap<SmolStr, Kept, foldhash::fast::RandomState>,
    rows: Vec<AuthAttempt>,
    /// Counts the writes: a login's pending row is only its own while this has not moved.
    generation: u64,
}

/// One login's part of [`Memory`].
#[derive(Default)]
struct Kept {
    ring: VecDeque<AuthAttempt>,
    /// (generation, index in `rows`) of the row its latest outcome waits in.
    pending: Option<(u64, usize)>,
}

impl Memory {
    fn keep(&mut self, attempt: AuthAttempt) {
        let kept = match self.logins.get_mut(&attempt.login) {
            Some(kept) => kept,
            None => {
                if self.logins.len() >= MEMORY_LOGINS {
                    self.logins.clear();
                }
                self.logins.entry(attempt.login.clone()).or_default()
            }
        };
        // Everything kept under a login is that login's: only the answer needs comparing.
        if self.per_login > 0 {
            match kept.ring.back_mut() {
                Some(last) if last.same_answer(&attempt) => last.repeat(&attempt),
                _ => {
                    if kept.ring.len() == self.per_login {
                        kept.ring.pop_front();
                    }
                    kept.ring.push_back(attempt.clone());
                }
            }
        }
        match kept.pending {
            Some((generation, i))
                if generation == self.generation && self.rows[i].same_answer(&attempt) =>
            {
                self.rows[i].repeat(&attempt);
            }
            _ => {
                kept.pending = Some((self.generation, self.rows.len()));
                self.rows.push(attempt);
            }
        }
    }

    /// The rows gathered since the last call, in the order their first requests came: the
    /// receive threads hand their buffers over in no particular order, and the log's order
    /// is the rows' order.
    fn take(&mut self) -> Vec<AuthAttempt> {
        self.generation += 1;
        let mut rows = std::mem::take(&mut self.rows);
        rows.sort_by_key(|a| a.at);
        rows
    }

    /// The kept attempts `filter` lists, newest first, at most `limit`.
    fn list(&self, filter: &AuthLogFilter, limit: usize) -> Vec<AuthAttempt> {
        let mut found: Vec<&AuthAttempt> = if filter.login.is_empty() {
            self.logins
                .values()
                .flat_map(|kept| &kept.ring)
                .filter(|a| filter.matches(a))
                .collect()
        } else {
            self.logins
                .get(filter.login.as_str())
                .into_iter()
                .flat_map(|kept| &kept.ring)
                .filter(|a| filter.matches(a))
                .collect()
        };
        found.sort_by_key(|a| std::cmp::Reverse(a.last_at));
        found.into_iter().take(limit).cloned().collect()
    }
}

/// A listing of the log, and where it came from.
pub struct AuthLogPage {
    pub page: Page<AuthLogEntry>,
    /// The database could not be read: these are this instance's recent attempts only.
    pub memory_only: bool,
}

/// The recorder's handle: the receive threads record through it, the API lists through it.
pub struct AuthLog {
    tx: Option<mpsc::Sender<Item>>,
    memory: Arc<Mutex<Memory>>,
    store: Store,
}

impl AuthLog {
    /// Starts the writer and the pruner (none when the log is off).
    pub fn start(store: Store, settings: AuthLogSettings) -> AuthLog {
        let memory = Arc::new(Mutex::new(Memory {
            per_login: settings.per_login,
            ..Memory::default()
        }));
        let tx = settings.enabled.then(|| {
            let (tx, rx) = mpsc::channel(BACKLOG);
            tokio::spawn(write(store.clone(), rx, memory.clone()));
            if settings.keep_days > 0 {
                tokio::spawn(prune(store.clone(), settings.keep_days));
            }
            tx
        });
        AuthLog { tx, memory, store }
    }

    /// A receive thread's own buffer in front of the channel.
    pub fn recorder(&self) -> Recorder {
        Recorder {
            tx: self.tx.clone(),
            buffer: Vec::new(),
            since: std::time::Instant::now(),
        }
    }

    /// Newest first. The first page waits (briefly) for what was answered before the call:
    /// the receive threads' buffers handed over, then the writer's rows written.
    pub async fn list(
        &self,
        filter: &AuthLogFilter,
        page: PageRequest,
    ) -> StoreResult<AuthLogPage> {
        if page.after.is_none() {
            self.write_what_was_answered().await;
        }
        match self.store.auth_log(filter, page).await {
            Ok(page) => Ok(AuthLogPage {
                page,
                memory_only: false,
            }),
            Err(e) if page.after.is_none() => {
                tracing::warn!(error = %e, "the auth log is read from memory: the database cannot be read");
                let limit = match page.size {
                    0 => crate::storage::DEFAULT_PAGE_SIZE,
                    n => n.min(crate::storage::MAX_PAGE_SIZE),
                };
                let items = self
                    .memory
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .list(filter, limit as usize)
                    .into_iter()
                    .map(entry_of)
                    .collect();
                Ok(AuthLogPage {
                    page: Page {
                        items,
                        next_page_token: String::new(),
                    },
                    memory_only: true,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// At a clean stop: what was gathered goes to the database before the store closes, so
    /// the attempts of the last seconds before a restart are not lost.
    pub async fn stop(&self) {
        self.write_what_was_answered().await;
    }

    /// Waits for the receive threads to hand over what they answered until now, then has
    /// the writer write everything it holds (at most [`FLUSH_WAIT`]).
    async fn write_what_was_answered(&self) {
        if self.tx.is_none() {
            return;
        }
        tokio::time::sleep(HANDOFF + HANDOFF / 2).await;
        self.flush().await;
    }

    async fn flush(&self) {
        let Some(tx) = &self.tx else { return };
        let (ack, done) = oneshot::channel();
        let _ = tokio::time::timeout(FLUSH_WAIT, async {
            if tx.send(Item::Flush(ack)).await.is_ok() {
                let _ = done.await;
            }
        })
        .await;
    }
}

/// One receive thread's attempts on their way to the writer.
pub struct Recorder {
    tx: Option<mpsc::Sender<Item>>,
    buffer: Vec<AuthAttempt>,
    since: std::time::Instant,
}

impl Recorder {
    /// Never waits: past the writer's backlog the buffer is dropped and counted.
    pub fn record(&mut self, attempt: AuthAttempt) {
        if self.tx.is_none() {
            return;
        }
        if self.buffer.is_empty() {
            self.since = std::time::Instant::now();
        }
        self.buffer.push(attempt);
        if self.buffer.len() >= HANDOFF_BATCH || self.since.elapsed() >= HANDOFF {
            self.hand_over();
        }
    }

    /// Hands over what is buffered (the receive loop calls this when its socket is idle).
    pub fn hand_over(&mut self) {
        let Some(tx) = &self.tx else { return };
        if self.buffer.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut self.buffer, Vec::with_capacity(HANDOFF_BATCH));
        let n = batch.len();
        if tx.try_send(Item::Attempts(batch)).is_err() {
            metrics::counter!("ispd_auth_log_unrecorded_total").increment(n as u64);
        }
    }
}

/// An attempt from memory, in the shape of a stored one (id 0: it is on no page).
fn entry_of(a: AuthAttempt) -> AuthLogEntry {
    AuthLogEntry {
        id: 0,
        at: a.at,
        last_at: a.last_at,
        count: a.count,
        login: a.login.into(),
        nas_name: a.nas_name.into(),
        calling_station: a.calling_station.into(),
        method: a.method.to_owned(),
        result: a.result,
        reason: a.reason.to_owned(),
    }
}

async fn write(store: Store, mut rx: mpsc::Receiver<Item>, memory: Arc<Mutex<Memory>>) {
    let mut items = Vec::with_capacity(RECEIVE);
    let mut acks = Vec::new();
    let mut since: Option<Instant> = None;
    loop {
        let received = match since {
            None => rx.recv_many(&mut items, RECEIVE).await,
            Some(first) => {
                tokio::time::timeout_at(first + GATHER, rx.recv_many(&mut items, RECEIVE))
                    .await
                    .unwrap_or(usize::MAX)
            }
        };
        if received == 0 {
            break;
        }
        let (gathered, due) = {
            let mut memory = memory.lock().unwrap_or_else(|e| e.into_inner());
            for item in items.drain(..) {
                match item {
                    Item::Attempts(attempts) => {
                        for a in attempts {
                            memory.keep(a);
                        }
                    }
                    Item::Flush(ack) => acks.push(ack),
                }
            }
            let gathered = memory.rows.len();
            let due = gathered >= GATHERED
                || since.is_some_and(|first| first.elapsed() >= GATHER)
                || !acks.is_empty();
            (gathered, due.then(|| memory.take()))
        };
        if let Some(rows) = due {
            write_rows(&store, rows).await;
            since = None;
            for ack in acks.drain(..) {
                let _ = ack.send(());
            }
        } else if gathered > 0 && since.is_none() {
            since = Some(Instant::now());
        }
    }
    let rows = memory.lock().unwrap_or_else(|e| e.into_inner()).take();
    write_rows(&store, rows).await;
}

async fn write_rows(store: &Store, rows: Vec<AuthAttempt>) {
    for batch in rows.chunks(BATCH) {
        write_batch(store, batch).await;
    }
}

async fn write_batch(store: &Store, batch: &[AuthAttempt]) {
    if batch.is_empty() {
        return;
    }
    let attempts: u64 = batch.iter().map(|a| u64::from(a.count)).sum();
    for tried in 1..=TRIES {
        match store.record_auth_attempts(batch).await {
            Ok(()) => {
                metrics::counter!("ispd_auth_log_recorded_total").increment(attempts);
                return;
            }
            Err(e) if tried == TRIES => {
                tracing::error!(error = %e, attempts, "authentication attempts dropped from the log");
                metrics::counter!("ispd_auth_log_unrecorded_total").increment(attempts);
            }
            Err(e) => {
                tracing::warn!(error = %e, attempts, "authentication attempts not yet recorded; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn prune(store: Store, keep_days: u32) {
    loop {
        let before = chrono::Utc::now() - chrono::Duration::days(i64::from(keep_days));
        match store.prune_auth_log(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, keep_days, "auth log pruned"),
            Err(e) => tracing::warn!(error = %e, "the auth log was not pruned"),
        }
        tokio::time::sleep(PRUNE_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::storage::AuthResult;

    fn attempt(login: &str, second: u32) -> AuthAttempt {
        let at = Utc.with_ymd_and_hms(2026, 12, 5, 10, 0, second).unwrap();
        AuthAttempt {
            at,
            last_at: at,
            count: 1,
            login: login.into(),
            nas_name: "bras".into(),
            // A device of its own each: distinct outcomes unless a test says otherwise.
            calling_station: format!("02-00-00-00-00-{second:02}").into(),
            method: "pap",
            result: AuthResult::Reject,
            reason: "bad_credential",
        }
    }

    #[test]
    fn memory_keeps_the_last_attempts_of_each_login() {
        let mut memory = Memory {
            per_login: 2,
            ..Memory::default()
        };
        for (login, second) in [("novak", 1), ("svoboda", 2), ("novak", 3), ("novak", 4)] {
            memory.keep(attempt(login, second));
        }
        let novak = AuthLogFilter {
            login: "novak".into(),
            ..Default::default()
        };
        let seconds = |found: Vec<AuthAttempt>| -> Vec<_> {
            found.iter().map(|a| a.at.timestamp() % 60).collect()
        };
        assert_eq!(seconds(memory.list(&novak, 10)), [4, 3], "the oldest went");
        assert_eq!(
            seconds(memory.list(&AuthLogFilter::default(), 2)),
            [4, 3],
            "every login, newest first, cut to the page"
        );
        assert_eq!(
            seconds(memory.list(&AuthLogFilter::default(), 10)),
            [4, 3, 2]
        );
    }

    #[test]
    fn a_repeated_outcome_is_one_row_with_its_count() {
        let mut memory = Memory {
            per_login: 5,
            ..Memory::default()
        };
        let mut accepted = attempt("novak", 9);
        accepted.result = AuthResult::Accept;
        accepted.reason = "active";
        for a in [
            attempt("novak", 1),
            attempt("svoboda", 2),
            attempt("novak", 3),
            attempt("novak", 4),
            accepted,
        ] {
            let mut a = a;
            a.calling_station = SmolStr::default();
            memory.keep(a);
        }
        let rows: Vec<_> = memory
            .take()
            .into_iter()
            .map(|a| {
                (
                    a.login.to_string(),
                    a.count,
                    a.at.timestamp() % 60,
                    a.last_at.timestamp() % 60,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("novak".to_owned(), 3, 1, 4),
                ("svoboda".to_owned(), 1, 2, 2),
                ("novak".to_owned(), 1, 9, 9)
            ]
        );
        assert!(memory.take().is_empty(), "taken once");
        // A repeat after the write is a row of its own.
        let mut again = attempt("svoboda", 20);
        again.calling_station = SmolStr::default();
        memory.keep(again);
        assert_eq!(memory.take().len(), 1);
        let novak = AuthLogFilter {
            login: "novak".into(),
            ..Default::default()
        };
        let kept: Vec<_> = memory
            .list(&novak, 10)
            .iter()
            .map(|a| (a.reason, a.count))
            .collect();
        assert_eq!(
            kept,
            [("active", 1), ("bad_credential", 3)],
            "repeats count in memory too"
        );
    }

    #[test]
    fn memory_of_size_zero_keeps_nothing_but_still_writes() {
        let mut memory = Memory::default();
        memory.keep(attempt("novak", 1));
        assert!(memory.list(&AuthLogFilter::default(), 10).is_empty());
        assert_eq!(memory.take().len(), 1);
    }
}
