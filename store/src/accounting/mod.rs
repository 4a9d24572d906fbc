//! Writing accounting: a batch of Accounting-Requests in one transaction (group commit).
//! The NAS is answered only after this returns Ok.
//!
//! A batch is decided in memory first (`provisioning::accounting::apply` per record, in
//! arrival order), then written with a few multi-row statements: one SELECT for the sessions
//! the writer does not remember, then, on SQLite, one INSERT for new sessions, one UPDATE for
//! changed ones and one upsert for the daily usage; on PostgreSQL one statement does all
//! three and the announcement to the other instances ([`postgres`]). Round trips per batch,
//! not per record, are what lets a networked PostgreSQL keep up.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use ispd_provisioning::accounting::{
    AcctRecord, COUNTER_LIMIT, Counters, SessionChange, SessionState, StatusType, Stop, UsageDelta,
    apply, apply_earlier,
};
use ispd_provisioning::zone::Zone;
use sqlx::AnyConnection;

use super::change_log::{OpenSessionsChanged, SESSIONS_CHANNEL};
use super::{Backend, Store, StoreError, StoreResult, corrupt, date_text, timestamp};
use crate::Arg;
use crate::own_write::OwnConnection;
use crate::statements::{Cells, Kind, Statements, Value};

mod postgres;

/// One decoded Accounting-Request and the NAS it came from.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AcctItem {
    pub nas_name: String,
    pub record: AcctRecord,
    /// The login, resolved by the receiver from Class or User-Name in the access cache.
    pub login_id: Option<i64>,
}

/// How a committed batch changed the number of open sessions per login (for
/// Simultaneous-Use in the access cache).
pub type OpenSessionChanges = Vec<(i64, i32)>;

/// What a committed batch did to the open sessions.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Applied {
    pub changes: OpenSessionChanges,
    /// The sessions it opened — new, or reopened after a presumed stop — by NAS and
    /// Acct-Session-Id: enforcement tells those accepted before a push that missed them.
    pub opened: Vec<(String, String)>,
}

type Key = (String, String);

/// Several writers (one database connection each) share the sessions by a hash of NAS and
/// Acct-Session-Id, so every session has exactly one writer and its memory stays true.
#[derive(Debug, Clone, Copy)]
pub struct Partition {
    pub index: usize,
    pub count: usize,
}

impl Partition {
    pub fn of(nas_name: &str, acct_session_id: &str, count: usize) -> usize {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (nas_name, acct_session_id).hash(&mut h);
        (h.finish() % count.max(1) as u64) as usize
    }

    fn owns(&self, nas_name: &str, acct_session_id: &str) -> bool {
        Self::of(nas_name, acct_session_id, self.count) == self.index
    }
}

/// What one writer remembers about the sessions of its partition, so a typical Interim or
/// Stop needs no SELECT. Only committed state enters it.
#[derive(Debug)]
pub(crate) struct SessionMemory {
    partition: Partition,
    /// The zone whose days the usage is counted on (`[billing] timezone`).
    zone: Zone,
    sessions: HashMap<Key, Known>,
}

impl SessionMemory {
    pub(crate) fn new(partition: Partition, zone: Zone) -> SessionMemory {
        SessionMemory {
            partition,
            zone,
            sessions: HashMap::new(),
        }
    }
}

#[derive(Debug, Clone)]
struct Known {
    row_id: i64,
    /// The row's revision when it was read or written: an update applies only to it.
    revision: i64,
    login_id: Option<i64>,
    state: SessionState,
}

/// Bound on remembered sessions; beyond it the memory starts again from the database.
const MEMORY_LIMIT: usize = 500_000;
/// Rows per multi-row statement (19 parameters each stays far below SQLite's limit).
const ROWS_PER_STATEMENT: usize = 500;

/// A session created in this batch, not yet in the database.
struct NewSession<'a> {
    item: &'a AcctItem,
    state: SessionState,
    /// See [`session_key`].
    key: String,
}

impl<'a> Pending<'a> {
    fn new(zone: Zone) -> Self {
        Pending {
            zone,
            creates: Vec::new(),
            new: HashMap::new(),
            updates: HashMap::new(),
            usage: HashMap::new(),
        }
    }

    /// What is planned so far, leaving this one empty (in the same zone).
    fn take(&mut self) -> Self {
        std::mem::replace(self, Pending::new(self.zone))
    }

    /// A record for a session created earlier in this batch changes it before it is
    /// written: [`Planned::Done`] then, [`Planned::Stored`] when the session is not new in
    /// this batch, [`Planned::FlushFirst`] when the record is another session's under its
    /// Acct-Session-Id (the new one is then written before it is closed).
    fn amend_new(&mut self, key: &Key, record: &AcctRecord) -> Planned {
        let Some(new) = self.new.get_mut(key) else {
            return Planned::Stored;
        };
        match apply(Some(&new.state), record) {
            SessionChange::Update { session, usage } => {
                new.state = session;
                add(&mut self.usage, self.zone, new.item.login_id, record, usage);
            }
            SessionChange::Reused { .. } => return Planned::FlushFirst,
            SessionChange::Earlier => return Planned::Earlier,
            SessionChange::Create { .. } | SessionChange::Nothing => {}
        }
        Planned::Done
    }

    /// What one record does to a session stored before this batch (or unknown): the core
    /// decides, the batch remembers what to write. [`Planned::FlushFirst`]: the stored
    /// session is to be closed (a reused Acct-Session-Id) before the record is planned again.
    fn plan(
        &mut self,
        key: Key,
        item: &'a AcctItem,
        current: Option<Known>,
    ) -> StoreResult<Planned> {
        self.plan_by(apply, key, item, current)
    }

    /// [`Self::plan`], with the core's rule for the record given: [`apply`], or
    /// [`apply_earlier`] for the earlier session of a reused Acct-Session-Id.
    fn plan_by(
        &mut self,
        decide: fn(Option<&SessionState>, &AcctRecord) -> SessionChange,
        key: Key,
        item: &'a AcctItem,
        current: Option<Known>,
    ) -> StoreResult<Planned> {
        let record = &item.record;
        match decide(current.as_ref().map(|k| &k.state), record) {
            SessionChange::Nothing => {}
            SessionChange::Earlier => return Ok(Planned::Earlier),
            // The stored session's change in this batch is written first: the new one
            // may only be inserted once the old one is closed (a NAS's session is open once).
            SessionChange::Create { .. } if self.updates.contains_key(&key) => {
                return Ok(Planned::FlushFirst);
            }
            SessionChange::Reused { closed } => {
                let Some(known) = current else {
                    return Err(corrupt(format!("session {key:?}: closed without a row")));
                };
                let before = self
                    .updates
                    .remove(&key)
                    .map_or(known, |(original, _)| original);
                self.updates.insert(key, (before, closed));
                return Ok(Planned::FlushFirst);
            }
            SessionChange::Create { session, usage } => {
                add(&mut self.usage, self.zone, item.login_id, record, usage);
                self.creates.push(key.clone());
                self.new.insert(
                    key,
                    NewSession {
                        item,
                        state: session,
                        key: String::new(),
                    },
                );
            }
            SessionChange::Update { session, usage } => {
                let Some(known) = current else {
                    return Err(corrupt(format!("session {key:?}: an update without a row")));
                };
                add(&mut self.usage, self.zone, known.login_id, record, usage);
                let before = self
                    .updates
                    .remove(&key)
                    .map_or(known, |(original, _)| original);
                self.updates.insert(key, (before, session));
            }
        }
        Ok(Planned::Done)
    }
}

/// What planning a record left to do.
#[derive(Debug, PartialEq, Eq)]
enum Planned {
    Done,
    /// The record's session is stored before the batch, not new in it.
    Stored,
    /// Write what is planned so far, then plan the record again against what was written.
    FlushFirst,
    /// The record is news of an earlier session than the latest under its Acct-Session-Id
    /// ([`SessionChange::Earlier`]): written on its own by [`write_earlier`].
    Earlier,
}

/// The batch's decisions, written by [`Store::flush`].
struct Pending<'a> {
    /// The zone whose days the usage is counted on.
    zone: Zone,
    /// In creation order; keyed so later records of the same session update them in place.
    creates: Vec<Key>,
    new: HashMap<Key, NewSession<'a>>,
    /// Final state of changed stored rows, with their state when the batch began.
    updates: HashMap<Key, (Known, SessionState)>,
    usage: HashMap<(i64, NaiveDate), UsageDelta>,
}

/// What a batch wrote, and what it could not.
#[derive(Default)]
struct Written {
    /// Open sessions per login, as the batch changed them.
    changes: OpenSessionChanges,
    /// The sessions it opened (see [`Applied::opened`]).
    opened: Vec<Key>,
    /// NASes whose sessions an Accounting-On/Off closed: the memory forgets them.
    forget: Vec<String>,
    /// The state committed with the batch, for the memory.
    known: Vec<(Key, Known)>,
    /// Sessions changed or created by another writer since this one read them: the batch is
    /// decided again.
    stale: Vec<Key>,
    /// Whether a new session that is already stored sends the batch round again (the first
    /// try: another writer may have created it meanwhile) or adds nothing (a later try: it
    /// is a duplicate under another identifier).
    retry_conflicts: bool,
}

/// Tries at a batch whose sessions keep changing under it (each try rereads them).
const ATTEMPTS: usize = 4;

/// How long a batch on SQLite waits for the write lock: the writer's bound on a commit, after
/// which it spools the batch instead of holding its NASes longer.
const BUSY: std::time::Duration = std::time::Duration::from_secs(3);

/// The columns of a stored session the writer reads, in [`SESSION_COLUMNS`] order.
const SESSION_KINDS: [Kind; 17] = [
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Text,
];
const SESSION_COLUMNS: &str = "id, revision, nas_name, acct_session_id, login_id, started_at,
    updated_at, stopped_at, terminate_cause, session_seconds, input_octets, output_octets,
    input_packets, output_packets, stop_presumed, heard_at, username";

impl Cells {
    fn time(&mut self, what: &str) -> StoreResult<DateTime<Utc>> {
        time(what, &self.text(what)?)
    }

    fn counter(&mut self, what: &str) -> StoreResult<u64> {
        Ok(narrow(self.int(what)?))
    }

    /// A row of [`SESSION_COLUMNS`]: its key and what the writer knows of it.
    fn session(values: Vec<Value<'static>>) -> StoreResult<(Key, Known)> {
        let mut c = Cells::new("session", values);
        let row_id = c.int("id")?;
        let revision = c.int("revision")?;
        let key = (c.text("nas_name")?, c.text("acct_session_id")?);
        let login_id = c.opt_int("login_id")?;
        let started_at = c.time("started_at")?;
        let updated_at = c.time("updated_at")?;
        let stopped_at = c.opt_text("stopped_at")?;
        let cause = c.opt_text("terminate_cause")?;
        let session_seconds = c.counter("session_seconds")?;
        let counters = Counters {
            input_octets: c.counter("input_octets")?,
            output_octets: c.counter("output_octets")?,
            input_packets: c.counter("input_packets")?,
            output_packets: c.counter("output_packets")?,
        };
        let presumed = c.int("stop_presumed")? != 0;
        // Rows from before it was kept: the NAS's time of the last record.
        let heard_at = match c.opt_text("heard_at")? {
            Some(at) => time("heard_at", &at)?,
            None => updated_at,
        };
        let stop = match stopped_at {
            Some(at) => Some(Stop {
                at: time("stopped_at", &at)?,
                cause,
                presumed,
            }),
            None => None,
        };
        let username = c.text("username")?;
        let state = SessionState {
            username,
            started_at,
            updated_at,
            heard_at,
            stop,
            session_seconds,
            counters,
        };
        Ok((
            key,
            Known {
                row_id,
                revision,
                login_id,
                state,
            },
        ))
    }
}

fn time(field: &str, text: &str) -> StoreResult<DateTime<Utc>> {
    crate::parse_timestamp(&format!("session.{field}"), text)
}

fn wide(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn narrow(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// One accounting writer's way to the database: its memory of the sessions it owns and, on
/// SQLite, a connection of its own that runs the batch on the writer's thread (on
/// PostgreSQL, the store's pool). Held by one writer; its batches are stored in order.
pub struct AccountingWriter {
    store: Store,
    memory: SessionMemory,
    own: Option<OwnConnection>,
}

impl Store {
    /// The writer for one partition of the sessions. On SQLite it opens its own connection
    /// to the store's file; call it from the thread that will store the batches, since each
    /// batch then blocks that thread for its commit.
    /// `zone` is the one whose days usage is counted on (`[billing] timezone`).
    pub async fn accounting_writer(
        &self,
        partition: Partition,
        zone: Zone,
    ) -> StoreResult<AccountingWriter> {
        // PostgreSQL, or an in-memory SQLite database with no file to open twice: the pool.
        let own = match self.sqlite_file() {
            Some(file) => Some(OwnConnection::open(&file, BUSY, self.write_turns.clone())?),
            None => None,
        };
        Ok(AccountingWriter {
            store: self.clone(),
            memory: SessionMemory::new(partition, zone),
            own,
        })
    }
}

impl AccountingWriter {
    /// Stores a batch in one transaction. Returns the open-session changes per login. The
    /// memory takes what the transaction wrote only when it commits.
    ///
    /// The database is the arbiter between writers (other instances, the stale-session
    /// sweep): a remembered session is updated only at the revision remembered, and a NAS's
    /// session is open at most once (a unique index), so a session another writer created
    /// meanwhile is not created twice. Either way the session is forgotten and the batch
    /// decided again from what the database holds.
    pub async fn apply(&mut self, batch: &[AcctItem]) -> StoreResult<Applied> {
        for attempt in 0..ATTEMPTS {
            let mut written = self.try_apply(batch, attempt == 0).await?;
            if written.stale.is_empty() {
                // The memory takes what was written, not what it changed.
                let applied = Applied {
                    changes: std::mem::take(&mut written.changes),
                    opened: std::mem::take(&mut written.opened),
                };
                self.memory.remember(written);
                return Ok(applied);
            }
            for key in written.stale {
                self.memory.sessions.remove(&key);
            }
        }
        Err(StoreError::Precondition(format!(
            "sessions kept changing under the accounting writer ({ATTEMPTS} attempts)"
        )))
    }

    /// One try: committed unless a session was found stale (then rolled back).
    async fn try_apply(&mut self, batch: &[AcctItem], first_try: bool) -> StoreResult<Written> {
        if let Some(own) = &mut self.own {
            return own.run(
                async |tx| write(tx, batch, &self.memory, first_try, None).await,
                |written| written.stale.is_empty(),
            );
        }
        // On PostgreSQL the batch tells the other instances whose open sessions it changed.
        let origin = (self.store.backend == Backend::Postgres).then(|| self.store.instance());
        let mut tx = self.store.write_tx().await?;
        let written = write(&mut *tx, batch, &self.memory, first_try, origin).await?;
        if written.stale.is_empty() {
            tx.commit().await?;
        }
        Ok(written)
    }
}

impl SessionMemory {
    /// What a committed batch wrote.
    fn remember(&mut self, written: Written) {
        for nas in written.forget {
            self.sessions.retain(|(n, _), _| n != &nas);
        }
        if self.sessions.len() + written.known.len() > MEMORY_LIMIT {
            self.sessions.clear();
        }
        self.sessions.extend(written.known);
    }
}

/// Decides the batch against what the writer remembers and what the database holds, and
/// writes it in the caller's transaction. With an `origin`, its last statement also
/// announces (NOTIFY, delivered at commit) whose open sessions it changed.
async fn write<S: Statements>(
    conn: &mut S,
    batch: &[AcctItem],
    memory: &SessionMemory,
    first_try: bool,
    origin: Option<&str>,
) -> StoreResult<Written> {
    let mut written = Written {
        retry_conflicts: first_try,
        ..Written::default()
    };
    let mut pending = Pending::new(memory.zone);
    let mut loaded = load_unknown(conn, batch, memory).await?;
    for item in batch {
        let record = &item.record;
        if matches!(
            record.status,
            StatusType::AccountingOn | StatusType::AccountingOff
        ) {
            // Everything before it in the batch first, then close the NAS's sessions.
            flush(conn, pending.take(), &mut written, None).await?;
            written.known.retain(|((nas, _), _)| nas != &item.nas_name);
            written.opened.retain(|(nas, _)| nas != &item.nas_name);
            loaded.retain(|(nas, _), _| nas != &item.nas_name);
            written.forget.push(item.nas_name.clone());
            close_nas_sessions(
                conn,
                &item.nas_name,
                record.event_time,
                (memory.partition, memory.zone),
                &mut written.changes,
            )
            .await?;
            continue;
        }
        let key: Key = (item.nas_name.clone(), record.acct_session_id.clone());
        // At most twice round: a reused Acct-Session-Id closes the stored session, written
        // first (a NAS's session is open once), then the record begins its own.
        loop {
            let planned = match pending.amend_new(&key, record) {
                Planned::Stored => {
                    let current = pending
                        .current(&key)
                        .or_else(|| written_or_known(&written, memory, &loaded, &key));
                    pending.plan(key.clone(), item, current)?
                }
                planned => planned,
            };
            if planned == Planned::Done {
                break;
            }
            flush(conn, pending.take(), &mut written, None).await?;
            if planned == Planned::Earlier {
                write_earlier(conn, item, memory.zone, &mut written).await?;
            }
            if !written.stale.is_empty() {
                return Ok(written);
            }
            if planned == Planned::Earlier {
                break;
            }
        }
    }
    let announce = origin.and_then(|origin| pending.announcement(&written.changes, origin));
    flush(conn, pending, &mut written, announce).await?;
    Ok(written)
}

/// A record of an earlier session than the latest under its Acct-Session-Id (another user's
/// session has begun under it since): that session — its user's latest begun no later than
/// the record — takes it with [`apply_earlier`] and stays closed. The writer's memory holds
/// the latest session of each id, so what this writes is not remembered.
async fn write_earlier<S: Statements>(
    conn: &mut S,
    item: &AcctItem,
    zone: Zone,
    written: &mut Written,
) -> StoreResult<()> {
    let record = &item.record;
    let key: Key = (item.nas_name.clone(), record.acct_session_id.clone());
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM session
         WHERE nas_name = $1 AND acct_session_id = $2 AND username = $3 AND started_at <= $4
         ORDER BY started_at DESC, id DESC LIMIT 1"
    );
    let params = vec![
        Value::from(item.nas_name.as_str()),
        Value::from(record.acct_session_id.as_str()),
        Value::from(record.username.as_str()),
        Value::from(timestamp(record.event_time)),
    ];
    let current = match conn.rows(&sql, params, &SESSION_KINDS).await?.pop() {
        Some(row) => Some(Cells::session(row)?.1),
        None => None,
    };
    let mut pending = Pending::new(zone);
    pending.plan_by(apply_earlier, key, item, current)?;
    let remembered = written.known.len();
    flush(conn, pending, written, None).await?;
    written.known.truncate(remembered);
    Ok(())
}

impl Pending<'_> {
    /// A stored session as this batch has changed it so far.
    fn current(&self, key: &Key) -> Option<Known> {
        self.updates.get(key).map(|(known, state)| Known {
            state: state.clone(),
            ..known.clone()
        })
    }

    /// What to tell the other instances, written before the batch is: the logins whose open
    /// sessions `changes` (the batch so far) and these decisions change — a few more than
    /// change if a new session turns out to be stored already, which only has them counted
    /// again. None when no login's open sessions change.
    fn announcement(&self, changes: &OpenSessionChanges, origin: &str) -> Option<String> {
        let opened = self.creates.iter().filter_map(|key| {
            let new = self.new.get(key)?;
            new.opens().then_some(new.item.login_id)?
        });
        let reopened_or_stopped = self.updates.values().filter_map(|(before, state)| {
            (opening(before, state) != 0).then_some(before.login_id)?
        });
        let mut logins: Vec<i64> = changes
            .iter()
            .map(|(login, _)| *login)
            .chain(opened)
            .chain(reopened_or_stopped)
            .collect();
        if logins.is_empty() {
            return None;
        }
        logins.sort_unstable();
        logins.dedup();
        Some(OpenSessionsChanged::Logins(logins).payload(origin))
    }
}

/// A stored session as the batch wrote it (a flush before the batch's end), else as the
/// writer remembers it or read it.
fn written_or_known(
    written: &Written,
    memory: &SessionMemory,
    loaded: &HashMap<Key, Known>,
    key: &Key,
) -> Option<Known> {
    if let Some((_, known)) = written.known.iter().rev().find(|(k, _)| k == key) {
        return Some(known.clone());
    }
    memory
        .sessions
        .get(key)
        .filter(|_| !written.forget.contains(&key.0))
        .or_else(|| loaded.get(key))
        .cloned()
}

/// Tells the other instances (NOTIFY, delivered at commit) whose open sessions changed,
/// so each counts them again for Simultaneous-Use.
async fn announce_open_sessions(
    conn: &mut AnyConnection,
    origin: &str,
    changes: &OpenSessionChanges,
) -> StoreResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut logins: Vec<i64> = changes.iter().map(|(login, _)| *login).collect();
    logins.sort_unstable();
    logins.dedup();
    sqlx::query("SELECT CAST(pg_notify($1, $2) AS TEXT)")
        .bind(SESSIONS_CHANNEL)
        .bind(OpenSessionsChanged::Logins(logins).payload(origin))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The batch's sessions the writer does not remember, read in one statement (on SQLite, one
/// per NAS).
async fn load_unknown<S: Statements>(
    conn: &mut S,
    batch: &[AcctItem],
    memory: &SessionMemory,
) -> StoreResult<HashMap<Key, Known>> {
    let mut unknown: Vec<(&str, &str)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for item in batch {
        let key = (item.nas_name.clone(), item.record.acct_session_id.clone());
        if !item.record.acct_session_id.is_empty()
            && !memory.sessions.contains_key(&key)
            && seen.insert(key)
        {
            unknown.push((&item.nas_name, &item.record.acct_session_id));
        }
    }
    if unknown.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = match conn.backend() {
        Backend::Postgres => postgres::sessions(conn, &unknown).await?,
        Backend::Sqlite => sessions_by_nas(conn, &unknown).await?,
    };
    // Ordered by id: the latest session with a reused Acct-Session-Id wins.
    let mut found: HashMap<Key, Known> = HashMap::new();
    for row in rows {
        let (key, known) = Cells::session(row)?;
        found.insert(key, known);
    }
    Ok(found)
}

/// Stored sessions by NAS and Acct-Session-Id, one `IN` list per NAS, each ordered by id.
async fn sessions_by_nas<S: Statements>(
    conn: &mut S,
    wanted: &[(&str, &str)],
) -> StoreResult<Vec<Vec<Value<'static>>>> {
    let mut by_nas: HashMap<&str, Vec<&str>> = HashMap::new();
    for (nas, id) in wanted {
        by_nas.entry(nas).or_default().push(id);
    }
    let mut rows = Vec::new();
    for (nas, ids) in by_nas {
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let mut placeholders = conn.placeholders();
            let nas_placeholder = placeholders.one();
            let sql = format!(
                "SELECT {SESSION_COLUMNS} FROM session
                 WHERE nas_name = {nas_placeholder} AND acct_session_id IN ({}) ORDER BY id",
                placeholders.list(chunk.len())
            );
            let mut params = Vec::with_capacity(chunk.len() + 1);
            params.push(Value::from(nas));
            params.extend(chunk.iter().map(|id| Value::from(*id)));
            rows.extend(conn.rows(&sql, params, &SESSION_KINDS).await?);
        }
    }
    Ok(rows)
}

/// What a flush writes, in the order every writer locks rows (session id, then login and
/// day), so two batches that touch the same rows wait for each other instead of
/// deadlocking.
struct Rows<'a> {
    creates: Vec<NewSession<'a>>,
    updates: Vec<(Key, (Known, SessionState))>,
    usage: Vec<((i64, NaiveDate), UsageDelta)>,
}

/// What makes a stored session one: its NAS, Acct-Session-Id, start and user. Two writers
/// (instances hearing the same NAS) that create the same session insert it once; sessions
/// a NAS numbered alike stay apart — a reused id begins later, or (a reboot the same
/// second) for another user. The id and the user are length-prefixed, so no choice of
/// either can spell another session's key.
fn session_key(nas: &str, acct_session_id: &str, session: &SessionState) -> String {
    format!(
        "{nas}/{}/{}:{acct_session_id}/{}:{}",
        session.started_at.timestamp(),
        acct_session_id.len(),
        session.username.len(),
        session.username
    )
}

/// Writes the batch's decisions into `written`, with the announcement for the other
/// instances when one is given.
async fn flush<S: Statements>(
    conn: &mut S,
    pending: Pending<'_>,
    written: &mut Written,
    announce: Option<String>,
) -> StoreResult<()> {
    let mut new = pending.new;
    // A new session's key is its start, final once the batch is decided.
    let creates: Vec<NewSession> = pending
        .creates
        .iter()
        .filter_map(|k| new.remove(k))
        .map(|mut s| {
            s.key = session_key(&s.item.nas_name, &s.item.record.acct_session_id, &s.state);
            s
        })
        .collect();
    let mut updates: Vec<(Key, (Known, SessionState))> = pending.updates.into_iter().collect();
    updates.sort_unstable_by_key(|(_, (known, _))| known.row_id);
    let mut usage: Vec<((i64, NaiveDate), UsageDelta)> = pending.usage.into_iter().collect();
    usage.sort_unstable_by_key(|(key, _)| *key);
    let rows = Rows {
        creates,
        updates,
        usage,
    };
    match conn.backend() {
        Backend::Postgres => postgres::write(conn, &rows, announce, written).await,
        Backend::Sqlite => {
            insert_sessions(conn, &rows.creates, written).await?;
            update_sessions(conn, &rows.updates, written).await?;
            add_usage(conn, &rows.usage).await
        }
    }
}

impl NewSession<'_> {
    /// Whether storing it adds an open session (one opened and closed within the batch does
    /// not).
    fn opens(&self) -> bool {
        self.state.stop.is_none()
    }

    /// The session's row, in the column order of [`INSERT_COLUMNS`].
    fn row(&self) -> [Value<'_>; 19] {
        let r = &self.item.record;
        [
            Value::from(self.item.nas_name.as_str()),
            Value::from(r.acct_session_id.as_str()),
            Value::from(self.key.as_str()),
            Value::from(self.item.login_id),
            Value::from(r.username.as_str()),
            Value::from(r.framed_ip.map(|a| a.to_string())),
            Value::from(r.calling_station.as_deref()),
            Value::from(r.nas_port.as_deref()),
            Value::from(timestamp(self.state.started_at)),
            Value::from(timestamp(self.state.updated_at)),
            Value::from(self.state.stop.as_ref().map(|s| timestamp(s.at))),
            Value::from(self.state.stop.as_ref().and_then(|s| s.cause.as_deref())),
            Value::from(wide(self.state.session_seconds)),
            Value::from(wide(self.state.counters.input_octets)),
            Value::from(wide(self.state.counters.output_octets)),
            Value::from(wide(self.state.counters.input_packets)),
            Value::from(wide(self.state.counters.output_packets)),
            Value::from(self.item.record.delegated_prefix.map(|p| p.to_string())),
            Value::from(timestamp(self.state.heard_at)),
        ]
    }
}

/// The columns a new session is inserted with.
const INSERT_COLUMNS: &str = "nas_name, acct_session_id, session_key, login_id, username,
    framed_ip, calling_station, nas_port, started_at, updated_at, stopped_at,
    terminate_cause, session_seconds, input_octets, output_octets,
    input_packets, output_packets, delegated_prefix, heard_at";

/// What a stored session's change does to its login's open sessions: -1 when it closes,
/// +1 when it reopens (a presumed stop the NAS contradicted).
fn opening(before: &Known, after: &SessionState) -> i32 {
    match (&before.state.stop, &after.stop) {
        (None, Some(_)) => -1,
        (Some(_), None) => 1,
        _ => 0,
    }
}

/// A stored session's change: its id, the new values of [`UPDATE_SET`]'s columns, and the
/// revision it was read at.
fn update_row<'a>(before: &Known, state: &'a SessionState) -> [Value<'a>; 12] {
    let stop = state.stop.as_ref();
    [
        Value::from(before.row_id),
        Value::from(timestamp(state.updated_at)),
        Value::from(stop.map(|s| timestamp(s.at))),
        Value::from(stop.and_then(|s| s.cause.as_deref())),
        Value::from(wide(state.session_seconds)),
        Value::from(wide(state.counters.input_octets)),
        Value::from(wide(state.counters.output_octets)),
        Value::from(wide(state.counters.input_packets)),
        Value::from(wide(state.counters.output_packets)),
        Value::from(i64::from(stop.is_some_and(|s| s.presumed))),
        Value::from(timestamp(state.heard_at)),
        Value::from(before.revision),
    ]
}

/// How an update's values (`v`, columns named as [`update_row`] orders them) change a stored
/// session. The row is the one decided on (its revision), so the values replace it whole —
/// also a stop with none, when the NAS reopens a session the sweep presumed over.
const UPDATE_SET: &str = "updated_at = v.updated_at,
    stopped_at = v.stopped_at, terminate_cause = v.terminate_cause,
    stop_presumed = v.stop_presumed, heard_at = v.heard_at,
    session_seconds = v.session_seconds,
    input_octets = v.input_octets, output_octets = v.output_octets,
    input_packets = v.input_packets, output_packets = v.output_packets,
    revision = session.revision + 1";

/// Which rows [`UPDATE_SET`] changes: the row at the revision decided on, unless it would
/// reopen a session while the NAS has another open under the same Acct-Session-Id (a
/// reused id, stored by another instance meanwhile) — then it is decided again, against
/// that one, instead of breaking the NAS's session-open-once index.
const UPDATE_WHERE: &str = "session.id = v.id AND session.revision = v.revision
    AND (v.stopped_at IS NOT NULL OR session.stopped_at IS NULL OR NOT EXISTS (
        SELECT 1 FROM session AS other
        WHERE other.nas_name = session.nas_name
          AND other.acct_session_id = session.acct_session_id
          AND other.stopped_at IS NULL))";

/// The names of [`update_row`]'s values.
const UPDATE_VALUES: &str = "id, updated_at, stopped_at, terminate_cause, session_seconds,
    input_octets, output_octets, input_packets, output_packets, stop_presumed, heard_at,
    revision";

/// A login's traffic of a day.
fn usage_row(((login, day), delta): &((i64, NaiveDate), UsageDelta)) -> [Value<'static>; 5] {
    [
        Value::from(*login),
        Value::from(date_text(*day)),
        Value::from(wide(delta.input_octets)),
        Value::from(wide(delta.output_octets)),
        Value::from(wide(delta.session_seconds)),
    ]
}

/// Daily usage per login is added to what the day already has (saturating at the counter
/// limit). `rows` yields the [`usage_row`]s as `column1`…`column5` (what both databases call
/// the columns of a VALUES list). A login deleted meanwhile has no days any more: its rows are
/// left out — a Stop after the Disconnect of a deleted login failed its batch on the foreign
/// key, was set aside, and left the session open (found probing from outside).
fn usage_upsert(rows: &str) -> String {
    format!(
        "INSERT INTO usage_daily (login_id, day, input_octets, output_octets, session_seconds)
         SELECT column1, column2, column3, column4, column5 FROM ({rows}) AS v
         WHERE v.column1 IN (SELECT id FROM login)
         ON CONFLICT (login_id, day) DO UPDATE SET
            input_octets = {}, output_octets = {}, session_seconds = {}",
        saturating_sum("input_octets"),
        saturating_sum("output_octets"),
        saturating_sum("session_seconds"),
    )
}

/// New sessions, many rows a statement. One already stored — the same session key, or
/// an open session of the same NAS and Acct-Session-Id — is not inserted: see
/// [`Written::retry_conflicts`].
async fn insert_sessions<S: Statements>(
    conn: &mut S,
    creates: &[NewSession<'_>],
    written: &mut Written,
) -> StoreResult<()> {
    for chunk in creates.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO session ({INSERT_COLUMNS})
             VALUES {} ON CONFLICT DO NOTHING RETURNING id, session_key",
            conn.placeholders().rows(chunk.len(), &[""; 19])
        );
        let params: Vec<Value> = chunk.iter().flat_map(NewSession::row).collect();
        let mut inserted: HashMap<String, i64> = HashMap::new();
        for row in conn.rows(&sql, params, &[Kind::Int, Kind::Text]).await? {
            let mut c = Cells::new("session", row);
            let id = c.int("id")?;
            inserted.insert(c.text("session_key")?, id);
        }
        note_inserted(chunk, &inserted, written);
    }
    Ok(())
}

/// What was inserted (`inserted`: row id by session key) joins `known`; an open one counts
/// in `changes`; one not inserted is stale on the first try.
fn note_inserted(
    creates: &[NewSession<'_>],
    inserted: &HashMap<String, i64>,
    written: &mut Written,
) {
    for s in creates {
        let key = (
            s.item.nas_name.clone(),
            s.item.record.acct_session_id.clone(),
        );
        let Some(row_id) = inserted.get(&s.key) else {
            if written.retry_conflicts {
                written.stale.push(key);
            }
            continue;
        };
        if s.opens() {
            written.opened.push(key.clone());
            if let Some(login) = s.item.login_id {
                written.changes.push((login, 1));
            }
        }
        written.known.push((
            key,
            Known {
                row_id: *row_id,
                revision: 0,
                login_id: s.item.login_id,
                state: s.state.clone(),
            },
        ));
    }
}

/// Sessions already stored, to their new state, each only at the revision it was read
/// at.
async fn update_sessions<S: Statements>(
    conn: &mut S,
    updates: &[(Key, (Known, SessionState))],
    written: &mut Written,
) -> StoreResult<()> {
    for chunk in updates.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "UPDATE session SET {UPDATE_SET}
             FROM (SELECT column1 AS id, column2 AS updated_at, column3 AS stopped_at,
                     column4 AS terminate_cause, column5 AS session_seconds,
                     column6 AS input_octets, column7 AS output_octets,
                     column8 AS input_packets, column9 AS output_packets,
                     column10 AS stop_presumed, column11 AS heard_at, column12 AS revision
                   FROM (VALUES {})) AS v
             WHERE {UPDATE_WHERE}
             RETURNING id",
            conn.placeholders().rows(chunk.len(), &[""; 12])
        );
        let params: Vec<Value> = chunk
            .iter()
            .flat_map(|(_, (before, state))| update_row(before, state))
            .collect();
        let updated: std::collections::HashSet<i64> = conn
            .rows(&sql, params, &[Kind::Int])
            .await?
            .into_iter()
            .filter_map(|row| row.first().and_then(Value::int))
            .collect();
        note_updated(chunk, &updated, written);
    }
    Ok(())
}

/// An update that took (`updated`: the row ids changed) joins `known`, and one that stops
/// or reopens a session counts in `changes`; one whose row changed meanwhile goes to
/// `written.stale`.
fn note_updated(
    updates: &[(Key, (Known, SessionState))],
    updated: &std::collections::HashSet<i64>,
    written: &mut Written,
) {
    for (key, (before, state)) in updates {
        if !updated.contains(&before.row_id) {
            written.stale.push(key.clone());
            continue;
        }
        let opening = opening(before, state);
        if opening > 0 {
            written.opened.push(key.clone());
        }
        if let Some(login) = before.login_id
            && opening != 0
        {
            written.changes.push((login, opening));
        }
        written.known.push((
            key.clone(),
            Known {
                revision: before.revision + 1,
                state: state.clone(),
                ..before.clone()
            },
        ));
    }
}

/// Adds the batch's daily usage, many rows a statement.
async fn add_usage<S: Statements>(
    conn: &mut S,
    usage: &[((i64, NaiveDate), UsageDelta)],
) -> StoreResult<()> {
    for chunk in usage.chunks(ROWS_PER_STATEMENT) {
        let values = format!("VALUES {}", conn.placeholders().rows(chunk.len(), &[""; 5]));
        let params: Vec<Value> = chunk.iter().flat_map(usage_row).collect();
        conn.execute(&usage_upsert(&values), params).await?;
    }
    Ok(())
}

/// Closes the NAS's open sessions of this writer's partition that began before the
/// Accounting-On/Off (each writer gets it).
async fn close_nas_sessions<S: Statements>(
    conn: &mut S,
    nas_name: &str,
    at: DateTime<Utc>,
    (partition, zone): (Partition, Zone),
    changes: &mut OpenSessionChanges,
) -> StoreResult<()> {
    // Only the sessions begun before it: a delayed or retransmitted Accounting-On (a new
    // Acct-Delay-Time, so a new request) arrives after the Starts that followed the reboot.
    let open = conn
        .rows(
            "SELECT id, login_id, acct_session_id, started_at, session_seconds FROM session
             WHERE nas_name = $1 AND stopped_at IS NULL AND started_at <= $2",
            vec![Value::from(nas_name), Value::from(timestamp(at))],
            &[Kind::Int, Kind::Int, Kind::Text, Kind::Text, Kind::Int],
        )
        .await?;
    let mut usage: HashMap<(i64, NaiveDate), UsageDelta> = HashMap::new();
    for row in open {
        let mut c = Cells::new("session", row);
        let (id, login, sid) = (
            c.int("id")?,
            c.opt_int("login_id")?,
            c.text("acct_session_id")?,
        );
        if !partition.owns(nas_name, &sid) {
            continue;
        }
        // The NAS ended it then: its time runs until then (as FreeRADIUS counts it), the
        // seconds since its last record added to the login's day as any record's are.
        let (started, seconds) = (c.time("started_at")?, c.counter("session_seconds")?);
        let until_then = u64::try_from((at - started).num_seconds()).unwrap_or(0);
        let seconds_then = seconds.max(until_then);
        let closed = conn
            .execute(
                "UPDATE session SET stopped_at = $1, terminate_cause = 'NAS-Reboot',
                    updated_at = CASE WHEN updated_at < $1 THEN $1 ELSE updated_at END,
                    session_seconds = $2, revision = revision + 1
                 WHERE id = $3 AND stopped_at IS NULL",
                vec![
                    Value::from(timestamp(at)),
                    Value::from(wide(seconds_then)),
                    Value::from(id),
                ],
            )
            .await?;
        if closed == 1 {
            changes.extend(login.map(|l| (l, -1)));
            let delta = UsageDelta {
                session_seconds: seconds_then - seconds,
                ..UsageDelta::default()
            };
            add_at(&mut usage, zone, login, at, delta);
        }
    }
    let mut usage: Vec<_> = usage.into_iter().collect();
    usage.sort_unstable_by_key(|(key, _)| *key);
    add_usage(conn, &usage).await
}

impl Store {
    /// Closes sessions not heard of since `before` (lost Stop, NAS gone), as of their last
    /// update. A writer that remembers one finds its revision moved and reads it again.
    pub async fn close_stale_sessions(
        &self,
        before: DateTime<Utc>,
    ) -> StoreResult<OpenSessionChanges> {
        self.close_presumed(
            ispd_provisioning::accounting::PRESUMED_CAUSE,
            "COALESCE(heard_at, updated_at) < $1",
            &[Arg::Text(timestamp(before))],
        )
        .await
    }

    /// Closes the sessions `ids` their NAS said are over (a Disconnect answered), presumed as
    /// the stale sweep closes them: the NAS's Stop outranks it.
    pub async fn close_ended_sessions(&self, ids: &[i64]) -> StoreResult<OpenSessionChanges> {
        let mut changes = OpenSessionChanges::new();
        for chunk in ids.chunks(super::rows_per_statement(1)) {
            let list = super::Placeholders::for_backend(self.backend).list(chunk.len());
            let args: Vec<Arg> = chunk.iter().map(|id| Arg::Int(*id)).collect();
            changes.extend(
                self.close_presumed("Admin-Reset", &format!("id IN ({list})"), &args)
                    .await?,
            );
        }
        Ok(changes)
    }

    /// Closes the open sessions `condition` (binding `args`) selects, presumed, as of their
    /// last update with `cause`, in one transaction that tells the other instances; returns
    /// the open-session changes per login.
    async fn close_presumed(
        &self,
        cause: &str,
        condition: &str,
        args: &[Arg],
    ) -> StoreResult<OpenSessionChanges> {
        let mut tx = self.write_tx().await?;
        let sql = format!(
            "UPDATE session SET stopped_at = updated_at, terminate_cause = '{cause}',
                stop_presumed = 1, revision = revision + 1
             WHERE stopped_at IS NULL AND {condition}
             RETURNING id, login_id"
        );
        let mut query = sqlx::query_as::<_, (i64, Option<i64>)>(sqlx::AssertSqlSafe(sql));
        for arg in args {
            query = match arg {
                Arg::Int(i) => query.bind(*i),
                Arg::Text(t) => query.bind(t.clone()),
            };
        }
        let closed = query.fetch_all(&mut *tx).await?;
        let changes: OpenSessionChanges = closed
            .into_iter()
            .filter_map(|(_, login)| login.map(|l| (l, -1)))
            .collect();
        if self.backend == Backend::Postgres {
            announce_open_sessions(&mut tx, self.instance(), &changes).await?;
        }
        tx.commit().await?;
        Ok(changes)
    }
}

/// Adds traffic to the login's local day of the event (what an operator calls "today"), in
/// `[billing] timezone` (found probing from outside: the host's zone was taken, so on a UTC
/// host a Prague login's first hour of a day, and of a data cap's period, went on the day
/// before).
fn add(
    usage: &mut HashMap<(i64, NaiveDate), UsageDelta>,
    zone: Zone,
    login: Option<i64>,
    record: &AcctRecord,
    delta: UsageDelta,
) {
    add_at(usage, zone, login, record.event_time, delta);
}

/// [`add`] for what happened at `at`: the traffic on that day, the time over the days it
/// covered, back from `at` — a first record of a long session, or one after days of silence,
/// would otherwise book them all on one day (more than 24 hours of it).
fn add_at(
    usage: &mut HashMap<(i64, NaiveDate), UsageDelta>,
    zone: Zone,
    login: Option<i64>,
    at: DateTime<Utc>,
    delta: UsageDelta,
) {
    let Some(login) = login else { return };
    if delta.is_zero() {
        return;
    }
    let mut day = zone.date_of(at);
    let (mut end, mut seconds) = (at, delta.session_seconds);
    let mut part = delta;
    // Ends: the time runs out, within SESSION_TIME_LIMIT's days.
    loop {
        let start = zone.midnight(day);
        let here = seconds.min(u64::try_from((end - start).num_seconds()).unwrap_or(0));
        part.session_seconds = here;
        seconds -= here;
        let total = usage.entry((login, day)).or_default();
        *total = total.plus(part);
        let Some(before) = day.pred_opt().filter(|_| seconds > 0) else {
            return;
        };
        (day, end, part) = (before, start, UsageDelta::default());
    }
}

/// `stored + excluded` for a usage column of the upsert, held at [`COUNTER_LIMIT`]: the
/// plain sum would fail on PostgreSQL ("bigint out of range") and silently turn the column
/// into REAL on SQLite. Both operands are at most the limit, so the test cannot overflow.
fn saturating_sum(column: &str) -> String {
    format!(
        "CASE WHEN usage_daily.{column} > {COUNTER_LIMIT} - excluded.{column} \
         THEN {COUNTER_LIMIT} ELSE usage_daily.{column} + excluded.{column} END"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found probing from outside: a first record of a session 300 days long put all 300
    /// days on one day (more than 86,400 s of it).
    #[test]
    fn a_records_time_is_booked_on_the_days_it_covered() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let zone = Zone::parse("Europe/Prague").unwrap();
        let at = zone.midnight(day(24)) + chrono::TimeDelta::hours(2);
        let mut usage = HashMap::new();
        let delta = UsageDelta {
            input_octets: 100,
            output_octets: 5,
            session_seconds: 2 * 86_400 + 3 * 3_600,
        };
        add_at(&mut usage, zone, Some(7), at, delta);
        let booked = |d| usage.get(&(7, day(d))).copied().unwrap_or_default();
        assert_eq!(
            booked(24),
            UsageDelta {
                session_seconds: 7_200,
                ..delta
            },
            "the traffic and the last two hours on the record's local day"
        );
        for d in [23, 22] {
            assert_eq!(booked(d).session_seconds, 86_400);
            assert_eq!(booked(d).input_octets, 0);
        }
        assert_eq!(booked(21).session_seconds, 3_600);
        assert_eq!(usage.len(), 4);
    }
}
