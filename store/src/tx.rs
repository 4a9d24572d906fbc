//! The write transactions a use case can hand the repositories: the pool's ([`WriteTx`]),
//! and, for a bulk use case on a SQLite file, one on the store's own connection ([`OwnTx`],
//! opened by [`Store::write_alone`]). A repository that takes `impl Tx` runs the same
//! statements on either (through [`Statements`]); one that takes `&mut WriteTx` exists only
//! on the pool's, so a use case on the own connection cannot reach it: the compiler says
//! which repository it would still need.
//!
//! Why the own connection: sqlx runs SQLite on a worker thread and hands every statement and
//! every returned row across threads (see [`crate::statements`]). A statement import of
//! 100,000 payments reads and writes hundreds of thousands of rows in one transaction.

use sqlx::AnyConnection;

use crate::statements::{Kind, Statements, Value};
use crate::{Backend, Store, StoreError, StoreResult, WriteTx};

/// A write transaction on the store's own SQLite connection, inside [`Store::write_alone`].
pub struct OwnTx<'c, 't>(&'c mut rusqlite::Transaction<'t>);

/// A transaction the repositories that take it can write in (see the module doc).
pub trait Tx: sealed::Conn {
    /// The pool's transaction, for a repository only it reaches; `None` on the store's own
    /// connection.
    fn pool(&mut self) -> Option<&mut WriteTx>;
}

impl Tx for WriteTx {
    fn pool(&mut self) -> Option<&mut WriteTx> {
        Some(self)
    }
}

impl Tx for OwnTx<'_, '_> {
    fn pool(&mut self) -> Option<&mut WriteTx> {
        None
    }
}

pub(crate) mod sealed {
    /// The connection behind a [`super::Tx`]; sealed, so only this crate runs SQL on it. Its
    /// type is the transaction's own, so a use case's future on the pool's stays `Send`.
    pub trait Conn {
        type Statements<'a>: crate::statements::Statements
        where
            Self: 'a;

        fn conn(&mut self) -> Self::Statements<'_>;
    }
}

impl sealed::Conn for WriteTx {
    type Statements<'a> = &'a mut AnyConnection;

    fn conn(&mut self) -> &mut AnyConnection {
        WriteTx::conn(self)
    }
}

impl<'t> sealed::Conn for OwnTx<'_, 't> {
    type Statements<'a>
        = &'a mut rusqlite::Transaction<'t>
    where
        Self: 'a;

    fn conn(&mut self) -> &mut rusqlite::Transaction<'t> {
        self.0
    }
}

/// A connection borrowed for a repository's statements is one.
impl<S: Statements> Statements for &mut S {
    fn backend(&self) -> Backend {
        (**self).backend()
    }

    async fn rows(
        &mut self,
        sql: &str,
        params: Vec<Value<'_>>,
        kinds: &[Kind],
    ) -> StoreResult<Vec<Vec<Value<'static>>>> {
        (**self).rows(sql, params, kinds).await
    }

    async fn execute(&mut self, sql: &str, params: Vec<Value<'_>>) -> StoreResult<u64> {
        (**self).execute(sql, params).await
    }
}

impl Store {
    /// Whether [`Store::write_alone`] can run here: on a SQLite file, not on PostgreSQL or a
    /// database in memory (where [`Store::begin_write`] takes the same repositories).
    pub fn writes_alone(&self) -> bool {
        self.sqlite_file.is_some()
    }

    /// Runs `write` in one transaction on the store's own connection to the SQLite file, on a
    /// blocking thread, and commits what it returns when `keep` says so (otherwise it rolls
    /// back). Only where [`Store::writes_alone`]; elsewhere it refuses.
    ///
    /// `write` reaches nothing but repositories that take `impl Tx`: its future is polled to
    /// its end without an executor, as every statement there completes at once. The
    /// connection makes no checkpoint of the log while the bulk call runs: the call ends with
    /// [`Store::close_batch_connection`], which has it copied.
    pub async fn write_alone<T, E>(
        &self,
        write: impl AsyncFnOnce(&mut OwnTx<'_, '_>) -> Result<T, E> + Send + 'static,
        keep: impl FnOnce(&T) -> bool + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let file = self.sqlite_file().ok_or_else(|| {
            StoreError::Precondition("a write of the store's own needs a SQLite file".to_owned())
        })?;
        let connection = self.batch_connection.clone();
        let turns = self.write_turns.clone();
        let ran = tokio::task::spawn_blocking(move || {
            // One bulk write at a time on it: a second waits here as it would for the lock.
            let mut connection = connection.lock().unwrap_or_else(|e| e.into_inner());
            let own = match &mut *connection {
                Some(own) => own,
                None => connection.insert(
                    crate::own_write::OwnConnection::open_bulk(
                        &file,
                        crate::BUSY_TIMEOUT,
                        turns.clone(),
                    )
                    .map_err(E::from)?,
                ),
            };
            own.run(async |tx| write(&mut OwnTx(tx)).await, keep)
        })
        .await;
        match ran {
            Ok(result) => result,
            Err(e) => Err(E::from(StoreError::Precondition(format!(
                "a write on the store's own connection stopped: {e}"
            )))),
        }
    }
}
