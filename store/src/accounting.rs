//! Writing accounting: a batch of Accounting-Requests in one transaction (group commit).
//! The NAS is answered only after this returns Ok.
//!
//! A batch is decided in memory first (`provisioning::accounting::apply` per record, in
//! arrival order), then written with a few multi-row statements: one SELECT for the sessions
//! the writer does not remember, one INSERT for new sessions, one UPDATE for changed ones and
//! one upsert for the daily usage. Round trips per batch, not per record, are what lets a
//! networked PostgreSQL keep up.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use ispd_provisioning::accounting::{
    AcctRecord, COUNTER_LIMIT, Counters, SessionChange, SessionState, StatusType, UsageDelta, apply,
};
use sqlx::{AnyConnection, AssertSqlSafe};

use super::change_log::{OpenSessionsChanged, SESSIONS_CHANNEL};
use super::{Backend, Placeholders, Store, StoreError, StoreResult, corrupt, date_text, timestamp};

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
pub struct SessionMemory {
    partition: Partition,
    sessions: HashMap<Key, Known>,
}

impl SessionMemory {
    pub fn new(partition: Partition) -> SessionMemory {
        SessionMemory {
            partition,
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
/// Rows per multi-row statement (18 parameters each stays far below SQLite's limit).
const ROWS_PER_STATEMENT: usize = 500;

/// A session created in this batch, not yet in the database.
struct NewSession {
    item: AcctItem,
    state: SessionState,
}

impl Pending {
    /// A record for a session created earlier in this batch changes it before it is
    /// written; `false` when the session is not new in this batch.
    fn amend_new(&mut self, key: &Key, record: &AcctRecord) -> bool {
        let Some(new) = self.new.get_mut(key) else {
            return false;
        };
        if let SessionChange::Update { session, usage } = apply(Some(&new.state), record) {
            new.state = session;
            add(&mut self.usage, new.item.login_id, record, usage);
        }
        true
    }

    /// What one record does to a session stored before this batch (or unknown): the core
    /// decides, the batch remembers what to write.
    fn plan(&mut self, key: Key, item: &AcctItem, current: Option<Known>) -> StoreResult<()> {
        let record = &item.record;
        match apply(current.as_ref().map(|k| &k.state), record) {
            SessionChange::Nothing => {}
            SessionChange::Create { session, usage } => {
                add(&mut self.usage, item.login_id, record, usage);
                self.updates.remove(&key);
                self.creates.push(key.clone());
                self.new.insert(
                    key,
                    NewSession {
                        item: item.clone(),
                        state: session,
                    },
                );
            }
            SessionChange::Update { session, usage } => {
                let Some(known) = current else {
                    return Err(corrupt(format!("session {key:?}: an update without a row")));
                };
                add(&mut self.usage, known.login_id, record, usage);
                let before = self
                    .updates
                    .remove(&key)
                    .map_or(known, |(original, _)| original);
                self.updates.insert(key, (before, session));
            }
        }
        Ok(())
    }
}

/// The batch's decisions, written by [`Store::flush`].
#[derive(Default)]
struct Pending {
    /// In creation order; keyed so later records of the same session update them in place.
    creates: Vec<Key>,
    new: HashMap<Key, NewSession>,
    /// Final state of changed stored rows, with their state when the batch began.
    updates: HashMap<Key, (Known, SessionState)>,
    usage: HashMap<(i64, NaiveDate), UsageDelta>,
}

/// What a batch wrote, and what it could not.
#[derive(Default)]
struct Written {
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

/// How one try at a batch ended.
enum Attempt {
    Committed(OpenSessionChanges),
    Stale(Vec<Key>),
}

/// Tries at a batch whose sessions keep changing under it (each try rereads them).
const ATTEMPTS: usize = 4;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    revision: i64,
    nas_name: String,
    acct_session_id: String,
    login_id: Option<i64>,
    started_at: String,
    updated_at: String,
    stopped_at: Option<String>,
    terminate_cause: Option<String>,
    session_seconds: i64,
    input_octets: i64,
    output_octets: i64,
    input_packets: i64,
    output_packets: i64,
}

fn time(field: &str, text: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| corrupt(format!("session.{field}: {text:?}")))
}

fn wide(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn narrow(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Row {
    fn known(&self) -> StoreResult<Known> {
        Ok(Known {
            row_id: self.id,
            revision: self.revision,
            login_id: self.login_id,
            state: SessionState {
                started_at: time("started_at", &self.started_at)?,
                updated_at: time("updated_at", &self.updated_at)?,
                stopped_at: self
                    .stopped_at
                    .as_deref()
                    .map(|t| time("stopped_at", t))
                    .transpose()?,
                terminate_cause: self.terminate_cause.clone(),
                session_seconds: narrow(self.session_seconds),
                counters: Counters {
                    input_octets: narrow(self.input_octets),
                    output_octets: narrow(self.output_octets),
                    input_packets: narrow(self.input_packets),
                    output_packets: narrow(self.output_packets),
                },
            },
        })
    }
}

impl Store {
    /// Stores a batch in one transaction. Returns the open-session changes per login.
    /// `memory` is updated only when the transaction commits.
    ///
    /// The database is the arbiter between writers (other instances, the stale-session
    /// sweep): a remembered session is updated only at the revision remembered, and a NAS's
    /// session is open at most once (a unique index), so a session another writer created
    /// meanwhile is not created twice. Either way the session is forgotten and the batch
    /// decided again from what the database holds.
    pub async fn apply_accounting(
        &self,
        batch: &[AcctItem],
        memory: &mut SessionMemory,
    ) -> StoreResult<OpenSessionChanges> {
        for attempt in 0..ATTEMPTS {
            match self
                .try_apply_accounting(batch, memory, attempt == 0)
                .await?
            {
                Attempt::Committed(changes) => return Ok(changes),
                Attempt::Stale(keys) => {
                    for key in keys {
                        memory.sessions.remove(&key);
                    }
                }
            }
        }
        Err(StoreError::Precondition(format!(
            "sessions kept changing under the accounting writer ({ATTEMPTS} attempts)"
        )))
    }

    async fn try_apply_accounting(
        &self,
        batch: &[AcctItem],
        memory: &mut SessionMemory,
        first_try: bool,
    ) -> StoreResult<Attempt> {
        let mut tx = self.write_tx().await?;
        let mut changes = Vec::new();
        let mut written = Written {
            retry_conflicts: first_try,
            ..Written::default()
        };
        let mut forget: Vec<String> = Vec::new();
        let mut pending = Pending::default();
        let mut loaded = Self::load_unknown(&mut tx, batch, memory).await?;
        for item in batch {
            let record = &item.record;
            if matches!(
                record.status,
                StatusType::AccountingOn | StatusType::AccountingOff
            ) {
                // Everything before it in the batch first, then close the NAS's sessions.
                Self::flush(
                    &mut tx,
                    std::mem::take(&mut pending),
                    &mut changes,
                    &mut written,
                )
                .await?;
                written.known.retain(|((nas, _), _)| nas != &item.nas_name);
                loaded.retain(|(nas, _), _| nas != &item.nas_name);
                forget.push(item.nas_name.clone());
                Self::close_nas_sessions(
                    &mut tx,
                    &item.nas_name,
                    record.event_time,
                    memory.partition,
                    &mut changes,
                )
                .await?;
                continue;
            }
            let key: Key = (item.nas_name.clone(), record.acct_session_id.clone());
            if pending.amend_new(&key, record) {
                continue;
            }
            let current = match pending.updates.get(&key) {
                Some((known, state)) => Some(Known {
                    state: state.clone(),
                    ..known.clone()
                }),
                None => memory
                    .sessions
                    .get(&key)
                    .filter(|_| !forget.contains(&key.0))
                    .or_else(|| loaded.get(&key))
                    .cloned(),
            };
            pending.plan(key, item, current)?;
        }
        Self::flush(&mut tx, pending, &mut changes, &mut written).await?;
        if !written.stale.is_empty() {
            // Dropping the transaction rolls the batch back.
            return Ok(Attempt::Stale(written.stale));
        }
        if self.backend == Backend::Postgres {
            Self::announce_open_sessions(&mut tx, &changes).await?;
        }
        tx.commit().await?;
        for nas in forget {
            memory.sessions.retain(|(n, _), _| n != &nas);
        }
        if memory.sessions.len() + written.known.len() > MEMORY_LIMIT {
            memory.sessions.clear();
        }
        memory.sessions.extend(written.known);
        Ok(Attempt::Committed(changes))
    }

    /// Tells the other instances (NOTIFY, delivered at commit) whose open sessions changed,
    /// so each counts them again for Simultaneous-Use.
    async fn announce_open_sessions(
        conn: &mut AnyConnection,
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
            .bind(OpenSessionsChanged::Logins(logins).payload())
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// One SELECT (per NAS) for the batch's sessions the writer does not remember.
    async fn load_unknown(
        conn: &mut AnyConnection,
        batch: &[AcctItem],
        memory: &SessionMemory,
    ) -> StoreResult<HashMap<Key, Known>> {
        let mut by_nas: HashMap<&str, Vec<&str>> = HashMap::new();
        for item in batch {
            let key = (item.nas_name.clone(), item.record.acct_session_id.clone());
            if !item.record.acct_session_id.is_empty() && !memory.sessions.contains_key(&key) {
                let ids = by_nas.entry(&item.nas_name).or_default();
                if !ids.contains(&item.record.acct_session_id.as_str()) {
                    ids.push(&item.record.acct_session_id);
                }
            }
        }
        let mut found: HashMap<Key, Known> = HashMap::new();
        for (nas, ids) in by_nas {
            for chunk in ids.chunks(ROWS_PER_STATEMENT) {
                let placeholders: Vec<String> =
                    (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "SELECT id, revision, nas_name, acct_session_id, login_id, started_at, updated_at,
                        stopped_at, terminate_cause, session_seconds, input_octets,
                        output_octets, input_packets, output_packets
                     FROM session WHERE nas_name = $1 AND acct_session_id IN ({}) ORDER BY id",
                    placeholders.join(", ")
                );
                let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql)).bind(nas.to_owned());
                for id in chunk {
                    query = query.bind((*id).to_owned());
                }
                // Ordered by id: the latest session with a reused Acct-Session-Id wins.
                for row in query.fetch_all(&mut *conn).await? {
                    let key = (row.nas_name.clone(), row.acct_session_id.clone());
                    found.insert(key, row.known()?);
                }
            }
        }
        Ok(found)
    }

    /// Writes the batch's decisions into `written`.
    async fn flush(
        conn: &mut AnyConnection,
        pending: Pending,
        changes: &mut OpenSessionChanges,
        written: &mut Written,
    ) -> StoreResult<()> {
        let mut new = pending.new;
        let creates: Vec<NewSession> = pending
            .creates
            .iter()
            .filter_map(|k| new.remove(k))
            .collect();
        Self::insert_sessions(conn, &creates, changes, written).await?;
        // Rows are locked in one order (session id, then login and day) by every writer, so
        // two batches that touch the same rows wait for each other instead of deadlocking.
        let mut updates: Vec<(Key, (Known, SessionState))> = pending.updates.into_iter().collect();
        updates.sort_unstable_by_key(|(_, (known, _))| known.row_id);
        Self::update_sessions(conn, &updates, changes, written).await?;
        let mut usage: Vec<((i64, NaiveDate), UsageDelta)> = pending.usage.into_iter().collect();
        usage.sort_unstable_by_key(|(key, _)| *key);
        Self::add_usage(conn, &usage).await
    }

    /// New sessions, many rows a statement. One already stored — the same session key, or
    /// an open session of the same NAS and Acct-Session-Id — is not inserted: see
    /// [`Written::retry_conflicts`]. What was inserted joins `known`; an open one counts in
    /// `changes`.
    async fn insert_sessions(
        conn: &mut AnyConnection,
        creates: &[NewSession],
        changes: &mut OpenSessionChanges,
        written: &mut Written,
    ) -> StoreResult<()> {
        for chunk in creates.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO session (nas_name, acct_session_id, session_key, login_id, username,
                    framed_ip, calling_station, nas_port, started_at, updated_at, stopped_at,
                    terminate_cause, session_seconds, input_octets, output_octets,
                    input_packets, output_packets, delegated_prefix)
                 VALUES {} ON CONFLICT DO NOTHING RETURNING id, session_key",
                Placeholders::for_conn(conn).rows(chunk.len(), &[""; 18])
            );
            let mut query = sqlx::query_as::<_, (i64, String)>(AssertSqlSafe(sql));
            for s in chunk {
                let r = &s.item.record;
                query = query
                    .bind(s.item.nas_name.clone())
                    .bind(r.acct_session_id.clone())
                    .bind(session_key(s))
                    .bind(s.item.login_id)
                    .bind(r.username.clone())
                    .bind(r.framed_ip.map(|a| a.to_string()))
                    .bind(r.calling_station.clone())
                    .bind(r.nas_port.clone())
                    .bind(timestamp(s.state.started_at))
                    .bind(timestamp(s.state.updated_at))
                    .bind(s.state.stopped_at.map(timestamp))
                    .bind(s.state.terminate_cause.clone())
                    .bind(wide(s.state.session_seconds))
                    .bind(wide(s.state.counters.input_octets))
                    .bind(wide(s.state.counters.output_octets))
                    .bind(wide(s.state.counters.input_packets))
                    .bind(wide(s.state.counters.output_packets))
                    .bind(r.delegated_prefix.map(|p| p.to_string()));
            }
            let inserted: HashMap<String, i64> = query
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .map(|(id, key)| (key, id))
                .collect();
            for s in chunk {
                let key = (
                    s.item.nas_name.clone(),
                    s.item.record.acct_session_id.clone(),
                );
                let Some(row_id) = inserted.get(&session_key(s)) else {
                    if written.retry_conflicts {
                        written.stale.push(key);
                    }
                    continue;
                };
                if let Some(login) = s.item.login_id
                    && s.state.stopped_at.is_none()
                {
                    changes.push((login, 1));
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
        Ok(())
    }

    /// Sessions already stored, to their new state, each only at the revision it was read
    /// at (one changed meanwhile goes to `written.stale`); one that stops leaves `changes`.
    async fn update_sessions(
        conn: &mut AnyConnection,
        updates: &[(Key, (Known, SessionState))],
        changes: &mut OpenSessionChanges,
        written: &mut Written,
    ) -> StoreResult<()> {
        for chunk in updates.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "UPDATE session SET updated_at = v.column2,
                    stopped_at = COALESCE(session.stopped_at, v.column3),
                    terminate_cause = COALESCE(session.terminate_cause, v.column4),
                    session_seconds = v.column5,
                    input_octets = v.column6, output_octets = v.column7,
                    input_packets = v.column8, output_packets = v.column9,
                    revision = session.revision + 1
                 FROM (VALUES {}) AS v
                 WHERE session.id = v.column1 AND session.revision = v.column10
                 RETURNING id",
                Placeholders::for_conn(conn).rows(
                    chunk.len(),
                    &[
                        "BIGINT", "TEXT", "TEXT", "TEXT", "BIGINT", "BIGINT", "BIGINT", "BIGINT",
                        "BIGINT", "BIGINT"
                    ]
                )
            );
            let mut query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql));
            for (_, (before, state)) in chunk {
                query = query
                    .bind(before.row_id)
                    .bind(timestamp(state.updated_at))
                    .bind(state.stopped_at.map(timestamp))
                    .bind(state.terminate_cause.clone())
                    .bind(wide(state.session_seconds))
                    .bind(wide(state.counters.input_octets))
                    .bind(wide(state.counters.output_octets))
                    .bind(wide(state.counters.input_packets))
                    .bind(wide(state.counters.output_packets))
                    .bind(before.revision);
            }
            let updated: std::collections::HashSet<i64> =
                query.fetch_all(&mut *conn).await?.into_iter().collect();
            for (key, (before, state)) in chunk {
                if !updated.contains(&before.row_id) {
                    written.stale.push(key.clone());
                    continue;
                }
                if let Some(login) = before.login_id
                    && before.state.stopped_at.is_none()
                    && state.stopped_at.is_some()
                {
                    changes.push((login, -1));
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
        Ok(())
    }

    /// Daily usage per login, added to what the day already has (saturating at the counter
    /// limit).
    async fn add_usage(
        conn: &mut AnyConnection,
        usage: &[((i64, NaiveDate), UsageDelta)],
    ) -> StoreResult<()> {
        for chunk in usage.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO usage_daily (login_id, day, input_octets, output_octets, session_seconds)
                 VALUES {}
                 ON CONFLICT (login_id, day) DO UPDATE SET
                    input_octets = {}, output_octets = {}, session_seconds = {}",
                Placeholders::for_conn(conn).rows(chunk.len(), &[""; 5]),
                saturating_sum("input_octets"),
                saturating_sum("output_octets"),
                saturating_sum("session_seconds"),
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for ((login, day), delta) in chunk {
                query = query
                    .bind(*login)
                    .bind(date_text(*day))
                    .bind(wide(delta.input_octets))
                    .bind(wide(delta.output_octets))
                    .bind(wide(delta.session_seconds));
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Closes the NAS's open sessions of this writer's partition (each writer gets the
    /// Accounting-On/Off).
    async fn close_nas_sessions(
        conn: &mut AnyConnection,
        nas_name: &str,
        at: DateTime<Utc>,
        partition: Partition,
        changes: &mut OpenSessionChanges,
    ) -> StoreResult<()> {
        let open: Vec<(i64, Option<i64>, String)> = sqlx::query_as(
            "SELECT id, login_id, acct_session_id FROM session
             WHERE nas_name = $1 AND stopped_at IS NULL",
        )
        .bind(nas_name.to_owned())
        .fetch_all(&mut *conn)
        .await?;
        for (id, login, sid) in open {
            if !partition.owns(nas_name, &sid) {
                continue;
            }
            let closed = sqlx::query(
                "UPDATE session SET stopped_at = $1, updated_at = $1, terminate_cause = 'NAS-Reboot',
                    revision = revision + 1
                 WHERE id = $2 AND stopped_at IS NULL",
            )
            .bind(timestamp(at))
            .bind(id)
            .execute(&mut *conn)
            .await?;
            if closed.rows_affected() == 1 {
                changes.extend(login.map(|l| (l, -1)));
            }
        }
        Ok(())
    }

    /// Closes sessions not updated since `before` (lost Stop, NAS gone), as of their last
    /// update. A writer that remembers one finds its revision moved and reads it again.
    pub async fn close_stale_sessions(
        &self,
        before: DateTime<Utc>,
    ) -> StoreResult<OpenSessionChanges> {
        let mut tx = self.write_tx().await?;
        let closed: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "UPDATE session SET stopped_at = updated_at, terminate_cause = 'Lost-Carrier',
                revision = revision + 1
             WHERE stopped_at IS NULL AND updated_at < $1 RETURNING id, login_id",
        )
        .bind(timestamp(before))
        .fetch_all(&mut *tx)
        .await?;
        let changes: OpenSessionChanges = closed
            .into_iter()
            .filter_map(|(_, login)| login.map(|l| (l, -1)))
            .collect();
        if self.backend == Backend::Postgres {
            Self::announce_open_sessions(&mut tx, &changes).await?;
        }
        tx.commit().await?;
        Ok(changes)
    }
}

/// NAS + Acct-Session-Id + start: unique even when a NAS reuses session ids.
fn session_key(s: &NewSession) -> String {
    format!(
        "{}/{}/{}",
        s.item.nas_name,
        s.item.record.acct_session_id,
        s.state.started_at.timestamp()
    )
}

/// Adds traffic to the login's local day of the event (what an operator calls "today").
fn add(
    usage: &mut HashMap<(i64, NaiveDate), UsageDelta>,
    login: Option<i64>,
    record: &AcctRecord,
    delta: UsageDelta,
) {
    let Some(login) = login else { return };
    if delta.is_zero() {
        return;
    }
    let day = record.event_time.with_timezone(&chrono::Local).date_naive();
    let total = usage.entry((login, day)).or_default();
    *total = total.plus(delta);
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
