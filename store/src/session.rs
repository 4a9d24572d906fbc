//! Reading sessions and daily usage (accounting writes them, see `accounting.rs`).

use chrono::NaiveDate;
use sqlx::AssertSqlSafe;

use super::{Arg, Page, PageRequest, Store, StoreError, StoreResult, Where, date_text};
use crate::page::{Order, fetch_page};

/// A session as the NAS reported it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub nas_name: String,
    pub acct_session_id: String,
    pub login_id: Option<i64>,
    pub username: String,
    pub client_number: Option<String>,
    pub framed_ip: Option<String>,
    pub calling_station: Option<String>,
    pub nas_port: Option<String>,
    /// RFC 3339 UTC text, as stored.
    pub started_at: String,
    pub updated_at: String,
    pub stopped_at: Option<String>,
    pub terminate_cause: Option<String>,
    pub session_seconds: i64,
    pub input_octets: i64,
    pub output_octets: i64,
    pub input_packets: i64,
    pub output_packets: i64,
}

/// Filters for open sessions; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub client_number: String,
    pub username: String,
    pub nas_name: String,
    pub framed_ip: String,
}

/// One login's traffic on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageDay {
    pub day: NaiveDate,
    pub input_octets: i64,
    pub output_octets: i64,
    pub session_seconds: i64,
}

const SELECT: &str = "SELECT s.id, s.nas_name, s.acct_session_id, s.login_id, s.username,
    c.number AS client_number, s.framed_ip, s.calling_station, s.nas_port, s.started_at,
    s.updated_at, s.stopped_at, s.terminate_cause, s.session_seconds, s.input_octets,
    s.output_octets, s.input_packets, s.output_packets
    FROM session s LEFT JOIN login l ON l.id = s.login_id
    LEFT JOIN subscription sub ON sub.id = l.subscription_id
    LEFT JOIN client c ON c.id = sub.client_id";

impl Store {
    /// How many sessions are open (no Stop yet), on every NAS.
    pub async fn count_open_sessions(&self) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM session WHERE stopped_at IS NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Who is online now (sessions without a Stop), oldest first.
    pub async fn open_sessions(
        &self,
        filter: &SessionFilter,
        page: PageRequest,
    ) -> StoreResult<Page<SessionRow>> {
        let mut w = Where::default();
        w.and_true("s.stopped_at IS NULL");
        w.equals("c.number", &filter.client_number);
        w.equals("s.username", &filter.username);
        w.equals("s.nas_name", &filter.nas_name);
        w.equals("s.framed_ip", &filter.framed_ip);
        fetch_page(
            &mut *self.pool.acquire().await?,
            SELECT,
            ("s.id", Order::OldestFirst),
            w,
            page,
            |row: SessionRow| Ok(row),
            |r| r.id,
        )
        .await
    }

    /// A login's sessions, newest first (open and closed).
    pub async fn session_history(
        &self,
        username: &str,
        page: PageRequest,
    ) -> StoreResult<Page<SessionRow>> {
        let mut w = Where::default();
        w.and("s.username = {}", Arg::Text(username.to_owned()));
        fetch_page(
            &mut *self.pool.acquire().await?,
            SELECT,
            ("s.id", Order::NewestFirst),
            w,
            page,
            |row: SessionRow| Ok(row),
            |r| r.id,
        )
        .await
    }

    /// A login's traffic per day in `from..=to`, days without traffic omitted.
    pub async fn daily_usage(
        &self,
        username: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<UsageDay>> {
        let login_id: i64 = sqlx::query_scalar("SELECT id FROM login WHERE username = $1")
            .bind(username.to_owned())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("login", username.to_owned()))?;
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT day, input_octets, output_octets, session_seconds FROM usage_daily
             WHERE login_id = $1 AND day >= $2 AND day <= $3 ORDER BY day",
        )
        .bind(login_id)
        .bind(date_text(from))
        .bind(date_text(to))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(day, input_octets, output_octets, session_seconds)| {
                Ok(UsageDay {
                    day: super::parse_date("usage_daily.day", &day)?,
                    input_octets,
                    output_octets,
                    session_seconds,
                })
            })
            .collect()
    }
}

/// An open session as enforcement needs it: how to name it to its NAS.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenSession {
    pub id: i64,
    /// Its login, or the one it had when that was deleted.
    pub login_id: Option<i64>,
    pub username: String,
    pub nas_name: String,
    pub acct_session_id: String,
    pub framed_ip: Option<String>,
    pub calling_station: Option<String>,
    pub nas_port: Option<String>,
}

/// A deleted login's sessions name it still (`deleted_login_id`): a login that is not there
/// is one that would now be refused.
const OPEN: &str = "SELECT id, COALESCE(login_id, deleted_login_id) AS login_id, username,
    nas_name, acct_session_id, framed_ip, calling_station, nas_port
    FROM session WHERE stopped_at IS NULL";

impl Store {
    /// The open sessions of these logins, and of these usernames: deleting a login sets its
    /// sessions' login id to NULL, and they stay open until their NAS ends them. By id, each
    /// once.
    pub async fn open_sessions_of(
        &self,
        login_ids: &[i64],
        usernames: &[String],
    ) -> StoreResult<Vec<OpenSession>> {
        let mut found = std::collections::BTreeMap::new();
        let per = super::rows_per_statement(1);
        let ids = login_ids
            .chunks(per)
            .map(|c| ("login_id", c.iter().map(|id| Arg::Int(*id)).collect()));
        let names = usernames
            .chunks(per)
            .map(|c| ("username", c.iter().map(|n| Arg::Text(n.clone())).collect()));
        for (column, chunk) in ids.chain(names) {
            let chunk: Vec<Arg> = chunk;
            let sql = format!(
                "{OPEN} AND {column} IN ({})",
                super::Placeholders::for_backend(self.backend).list(chunk.len())
            );
            let mut query = sqlx::query_as::<_, OpenSession>(AssertSqlSafe(sql));
            for arg in chunk {
                query = match arg {
                    Arg::Int(id) => query.bind(id),
                    Arg::Text(name) => query.bind(name),
                };
            }
            found.extend(
                query
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|s| (s.id, s)),
            );
        }
        Ok(found.into_values().collect())
    }

    /// Up to `limit` open sessions with an id above `after_id`, by id: the reconcile walks
    /// every open session with it.
    pub async fn open_sessions_page(
        &self,
        after_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<OpenSession>> {
        Ok(sqlx::query_as::<_, OpenSession>(AssertSqlSafe(format!(
            "{OPEN} AND id > $1 ORDER BY id LIMIT $2"
        )))
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// An open session by id; `None` when unknown or stopped.
    pub async fn open_session(&self, id: i64) -> StoreResult<Option<OpenSession>> {
        Ok(
            sqlx::query_as::<_, OpenSession>(AssertSqlSafe(format!("{OPEN} AND id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}

impl Store {
    /// Traffic per login from `since` on (days as accounting sums them), as (download =
    /// output octets, upload = input octets): what a data cap is checked against.
    pub async fn usage_since(
        &self,
        login_ids: &[i64],
        since: NaiveDate,
    ) -> StoreResult<std::collections::HashMap<i64, (u64, u64)>> {
        let mut usage = std::collections::HashMap::new();
        for chunk in login_ids.chunks(super::rows_per_statement(1)) {
            let mut p = super::Placeholders::for_backend(self.backend);
            let day = p.one();
            let sql = format!(
                "SELECT login_id, CAST(SUM(output_octets) AS BIGINT), CAST(SUM(input_octets) AS BIGINT)
                 FROM usage_daily WHERE day >= {day} AND login_id IN ({})
                 GROUP BY login_id",
                p.list(chunk.len())
            );
            let mut query =
                sqlx::query_as::<_, (i64, i64, i64)>(AssertSqlSafe(sql)).bind(date_text(since));
            for id in chunk {
                query = query.bind(*id);
            }
            for (id, down, up) in query.fetch_all(&self.pool).await? {
                let octets = |v: i64| u64::try_from(v).unwrap_or(0);
                usage.insert(id, (octets(down), octets(up)));
            }
        }
        Ok(usage)
    }
}
