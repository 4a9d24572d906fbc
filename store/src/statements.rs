//! The statements of a write batch, over either driver: sqlx for PostgreSQL (and for an
//! in-memory SQLite database), and a SQLite connection of the store's own
//! ([`crate::own_write`]), which runs them on the calling thread.
//!
//! Why not sqlx everywhere: sqlx runs SQLite on a worker thread of its own and hands every
//! statement and every returned row across threads, each value copied. For the accounting
//! writer — a handful of multi-row statements per batch, a few thousand batches a second — for
//! the billing run's batches of thousands of documents and for a bank statement's import (the
//! repositories that take [`crate::Tx`]), those hand-offs cost more than SQLite's own work.
//! The decisions and the SQL stay in one place (the repository's module); only binding values
//! and reading rows differ, and that is all this trait covers.

use std::borrow::Cow;

use sqlx::{AnyConnection, AssertSqlSafe, Row as _};

use crate::{Backend, Placeholders, StoreResult, corrupt};

/// A value bound to or read from a batch's statement: its columns are integers and text,
/// each possibly NULL (a NULL keeps its type: PostgreSQL checks it against the column).
/// Text bound from the batch is borrowed, not copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    Int(Option<i64>),
    Text(Option<Cow<'a, str>>),
}

/// What a returned column holds, so each driver decodes it as such.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Int,
    Text,
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}

impl From<String> for Value<'_> {
    fn from(v: String) -> Self {
        Value::Text(Some(Cow::Owned(v)))
    }
}

impl From<Option<String>> for Value<'_> {
    fn from(v: Option<String>) -> Self {
        Value::Text(v.map(Cow::Owned))
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(Some(Cow::Borrowed(v)))
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Value::Text(v.map(Cow::Borrowed))
    }
}

impl Value<'_> {
    pub(crate) fn int(&self) -> Option<i64> {
        match self {
            Value::Int(v) => *v,
            Value::Text(_) => None,
        }
    }

    pub(crate) fn into_text(self) -> Option<String> {
        match self {
            Value::Text(v) => v.map(Cow::into_owned),
            Value::Int(_) => None,
        }
    }
}

/// A row's columns as `kinds` says, each read by the driver's `int` or `text`.
pub(crate) fn decode<E>(
    kinds: &[Kind],
    int: impl Fn(usize) -> Result<Option<i64>, E>,
    text: impl Fn(usize) -> Result<Option<String>, E>,
) -> Result<Vec<Value<'static>>, E> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| match kind {
            Kind::Int => int(i).map(Value::Int),
            Kind::Text => text(i).map(Value::from),
        })
        .collect()
}

/// A returned row, read column by column in the order the statement names them; `table`
/// names the row in the error when a column is missing or NULL where it may not be.
pub(crate) struct Cells {
    table: &'static str,
    values: std::vec::IntoIter<Value<'static>>,
}

impl Cells {
    pub(crate) fn new(table: &'static str, row: Vec<Value<'static>>) -> Cells {
        Cells {
            table,
            values: row.into_iter(),
        }
    }

    fn next(&mut self, what: &str) -> StoreResult<Value<'static>> {
        let table = self.table;
        self.values
            .next()
            .ok_or_else(|| corrupt(format!("{table}: no column {what}")))
    }

    pub(crate) fn opt_int(&mut self, what: &str) -> StoreResult<Option<i64>> {
        Ok(self.next(what)?.int())
    }

    pub(crate) fn int(&mut self, what: &str) -> StoreResult<i64> {
        let table = self.table;
        self.opt_int(what)?
            .ok_or_else(|| corrupt(format!("{table}.{what}: NULL")))
    }

    pub(crate) fn opt_text(&mut self, what: &str) -> StoreResult<Option<String>> {
        Ok(self.next(what)?.into_text())
    }

    pub(crate) fn text(&mut self, what: &str) -> StoreResult<String> {
        let table = self.table;
        self.opt_text(what)?
            .ok_or_else(|| corrupt(format!("{table}.{what}: NULL")))
    }
}

/// A connection in a transaction, running a batch's statements.
///
/// Crate-internal, though `pub`: a public [`crate::Tx`] names it through its sealed
/// supertrait, which no other crate can name or call, so neither the futures' auto traits
/// nor [`Placeholders`] are part of any interface outside this crate.
#[allow(async_fn_in_trait, private_interfaces)]
pub trait Statements {
    /// The database behind the connection, for what its dialects write differently.
    fn backend(&self) -> Backend;

    /// Placeholders in the connection's dialect.
    fn placeholders(&self) -> Placeholders {
        Placeholders::for_backend(self.backend())
    }

    /// Runs `sql` and returns its rows, each column decoded as `kinds` says.
    async fn rows(
        &mut self,
        sql: &str,
        params: Vec<Value<'_>>,
        kinds: &[Kind],
    ) -> StoreResult<Vec<Vec<Value<'static>>>>;

    /// Runs `sql`; returns how many rows it changed.
    async fn execute(&mut self, sql: &str, params: Vec<Value<'_>>) -> StoreResult<u64>;
}

impl Statements for AnyConnection {
    fn backend(&self) -> Backend {
        Backend::of_connection(self)
    }

    async fn rows(
        &mut self,
        sql: &str,
        params: Vec<Value<'_>>,
        kinds: &[Kind],
    ) -> StoreResult<Vec<Vec<Value<'static>>>> {
        // Each row decoded as it comes, as a typed query's are, not held whole first.
        Ok(bound(sqlx::query(AssertSqlSafe(sql.to_owned())), params)
            .try_map(|row: sqlx::any::AnyRow| decode(kinds, |i| row.try_get(i), |i| row.try_get(i)))
            .fetch_all(&mut *self)
            .await?)
    }

    async fn execute(&mut self, sql: &str, params: Vec<Value<'_>>) -> StoreResult<u64> {
        let done = bound(sqlx::query(AssertSqlSafe(sql.to_owned())), params)
            .execute(&mut *self)
            .await?;
        Ok(done.rows_affected())
    }
}

fn bound<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    params: Vec<Value<'q>>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for p in params {
        query = match p {
            Value::Int(v) => query.bind(v),
            Value::Text(Some(Cow::Borrowed(v))) => query.bind(v),
            Value::Text(v) => query.bind(v.map(Cow::into_owned)),
        };
    }
    query
}

impl Statements for rusqlite::Transaction<'_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn rows(
        &mut self,
        sql: &str,
        params: Vec<Value<'_>>,
        kinds: &[Kind],
    ) -> StoreResult<Vec<Vec<Value<'static>>>> {
        let mut statement = self.prepare_cached(sql)?;
        bind(&mut statement, params)?;
        let mut rows = statement.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(decode(kinds, |i| row.get(i), |i| row.get(i))?);
        }
        Ok(out)
    }

    async fn execute(&mut self, sql: &str, params: Vec<Value<'_>>) -> StoreResult<u64> {
        let mut statement = self.prepare_cached(sql)?;
        bind(&mut statement, params)?;
        Ok(statement.raw_execute()? as u64)
    }
}

/// Binds by position: SQLite numbers `$N` and `?` by first appearance, as the SQL is written.
fn bind(statement: &mut rusqlite::CachedStatement<'_>, params: Vec<Value<'_>>) -> StoreResult<()> {
    for (i, value) in params.into_iter().enumerate() {
        match value {
            Value::Int(v) => statement.raw_bind_parameter(i + 1, v)?,
            Value::Text(v) => statement.raw_bind_parameter(i + 1, v)?,
        }
    }
    Ok(())
}
