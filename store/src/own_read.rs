//! Large reads of a SQLite file on a read-only connection of the store's own.
//!
//! sqlx runs SQLite on a worker thread of its own and hands every row across threads, each
//! value copied on the way (see [`crate::statements`]). For a read of thousands of rows —
//! the start-up load of the access cache, the billing run's candidates — that hand-off costs
//! several times SQLite's own work. Such a read opens the file read-only and steps the
//! statement where it runs. It sees what is committed, as a read from the pool does, so it
//! is for reads outside a write transaction only. PostgreSQL, and an in-memory SQLite
//! database (no file to open twice), read through the pool.
//!
//! A row type is declared once with [`own_row!`]: sqlx decodes it by column name, this
//! reader by position, and the position is checked against the statement's column names.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;

use crate::{Arg, Store, StoreError, StoreResult, bind_args, corrupt};

/// A row both drivers read: sqlx by name, the store's own connection by position.
pub(crate) trait OwnRow: for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin + 'static {
    /// The statement's columns, in the order [`OwnRow::read`] reads them.
    const COLUMNS: &'static [&'static str];

    fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

/// Declares a row struct whose fields are a statement's columns, in its order.
macro_rules! own_row {
    ($(#[$meta:meta])* struct $row:ident { $($name:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(sqlx::FromRow)]
        struct $row {
            $($name: $ty,)*
        }

        impl $crate::own_read::OwnRow for $row {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($name)),*];

            fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                let mut column = 0;
                Ok($row {
                    $($name: {
                        column += 1;
                        r.get(column - 1)?
                    },)*
                })
            }
        }
    };
}
pub(crate) use own_row;

impl Store {
    /// Every row of `sql`, whose placeholders `$1`, `$2`… stand for `args`. On a SQLite
    /// file it reads on a blocking thread with a connection of its own.
    pub(crate) async fn read_rows<R: OwnRow>(
        &self,
        sql: String,
        args: Vec<Arg>,
    ) -> StoreResult<Vec<R>> {
        let Some(file) = self.sqlite_file() else {
            let query = bind_args(sqlx::query_as::<_, R>(AssertSqlSafe(sql)), args);
            return Ok(query.fetch_all(&self.pool).await?);
        };
        tokio::task::spawn_blocking(move || {
            let mut rows = Vec::new();
            each_row_of_file(&file, &sql, &args, |row| {
                rows.push(row);
                Ok(())
            })?;
            Ok(rows)
        })
        .await
        .map_err(|e| StoreError::Precondition(format!("a read of the database stopped: {e}")))?
    }

    /// Every row of `sql`, handed to `each` as it is read, holding no list of them. On a
    /// SQLite file it blocks the calling thread: call it where blocking is allowed.
    pub(crate) async fn each_row<R: OwnRow>(
        &self,
        sql: &str,
        args: &[Arg],
        mut each: impl FnMut(R) -> StoreResult<()>,
    ) -> StoreResult<()> {
        match self.sqlite_file() {
            Some(file) => each_row_of_file(&file, sql, args, each),
            None => {
                for row in self.read_rows(sql.to_owned(), args.to_vec()).await? {
                    each(row)?;
                }
                Ok(())
            }
        }
    }
}

/// Runs `sql` on a read-only connection to `file`.
fn each_row_of_file<R: OwnRow>(
    file: &Path,
    sql: &str,
    args: &[Arg],
    mut each: impl FnMut(R) -> StoreResult<()>,
) -> StoreResult<()> {
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut statement = conn.prepare(sql)?;
    if statement.column_names() != R::COLUMNS {
        return Err(corrupt(format!(
            "a query's columns {:?} are not its row's {:?}",
            statement.column_names(),
            R::COLUMNS
        )));
    }
    for index in 1..=statement.parameter_count() {
        // `$n` is SQLite's parameter named "$n": bound by its number, as sqlx does.
        let arg = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| args.get(n.checked_sub(1)?))
            .ok_or_else(|| corrupt(format!("a query's parameter {index} has no value")))?;
        match arg {
            Arg::Int(v) => statement.raw_bind_parameter(index, v)?,
            Arg::Text(t) => statement.raw_bind_parameter(index, t)?,
        }
    }
    let mut rows = statement.raw_query();
    while let Some(row) = rows.next()? {
        each(R::read(row)?)?;
    }
    Ok(())
}
