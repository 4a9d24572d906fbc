//! A bank statement that arrives in pieces (the admin API's `ImportStatementStream`), read on
//! a thread of its own while the recording takes its payments part by part: neither the file
//! nor its parsed lines are ever held whole in memory — only the piece being read and the
//! parts between the reader and the recording.
//!
//! Where the recording holds the database's one write lock (a SQLite file: every writer
//! waits for it, accounting's too), the upload is first held on disk ([`spool`]) and read from
//! there once its last piece is in, so a client that sends slowly, or stops halfway, holds no
//! lock. Elsewhere (PostgreSQL) the pieces are read as they arrive ([`Pieces`]): the import's
//! transaction locks only the rows it writes.
//!
//! The parts are provisional until the reader's last word: a file refused at its end sends
//! its error after the parts before it, and the recording, one transaction, rolls back. The
//! recording may stop early (a statement for the general way, an error): the reader notices
//! at its next part and stops.

use std::fs::File;
use std::io::{BufReader, Read, Seek, Write};
use std::ops::ControlFlow;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Buf, Bytes, BytesMut};
use ispd_billing::bank::{Statement, StatementLine, read_camt053};
use tokio::sync::mpsc::{Receiver, Sender};

use super::payments::{Movements, movements_of};
use super::{AppError, AppResult, field};
use crate::storage::NewPayment;

/// A statement as it arrives.
pub struct StatementUpload<'a> {
    /// camt053, csv or gpc: only camt.053 is read part by part, the others once whole.
    pub format: &'a str,
    /// The column mapping as TOML, for csv.
    pub mapping: &'a str,
    /// The file's bytes in order; an error ends the upload (too large, broken off) and the
    /// import records nothing.
    pub pieces: Receiver<AppResult<Bytes>>,
}

/// The upload as the reader reads it while it arrives: [`std::io::Read`] over the pieces.
pub(super) struct Pieces {
    pieces: Receiver<AppResult<Bytes>>,
    current: Bytes,
    /// Why the upload ended early: what is reported, whatever the reader made of it.
    pub(super) failed: Option<AppError>,
}

impl Pieces {
    pub(super) fn new(pieces: Receiver<AppResult<Bytes>>) -> Pieces {
        Pieces {
            pieces,
            current: Bytes::new(),
            failed: None,
        }
    }
}

impl std::io::Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.pieces.blocking_recv() {
                Some(Ok(piece)) => self.current = piece,
                Some(Err(e)) => {
                    let said = e.to_string();
                    self.failed = Some(e);
                    return Err(std::io::Error::other(said));
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

/// Names the files [`spool`] makes, one per upload.
static SPOOLED: AtomicU64 = AtomicU64::new(0);

/// The whole upload in a file of `dir`, rewound, once its last piece is in. The file is
/// removed from `dir` as soon as it is made (it lives while it is open), so nothing is left
/// behind whatever happens to the import or the daemon. The upload's own failure (too large,
/// broken off) or the disk's (full) refuses the import before anything is recorded.
pub(super) async fn spool(mut pieces: Receiver<AppResult<Bytes>>, dir: &Path) -> AppResult<File> {
    let path = dir.join(format!(
        ".statement-upload-{}-{}",
        std::process::id(),
        SPOOLED.fetch_add(1, Ordering::Relaxed)
    ));
    tokio::task::spawn_blocking(move || {
        let held = |e: std::io::Error| {
            AppError::Unavailable(format!(
                "the statement could not be held on disk ({}): {e}",
                path.display()
            ))
        };
        // A statement names payers and their accounts: the owner's alone, as the database.
        let mut file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(held)?;
        std::fs::remove_file(&path).map_err(held)?;
        while let Some(piece) = pieces.blocking_recv() {
            file.write_all(&piece?).map_err(held)?;
        }
        file.rewind().map_err(held)?;
        Ok(file)
    })
    .await
    .map_err(|e| AppError::Precondition(format!("holding the statement on disk stopped: {e}")))?
}

/// A spooled statement read again whole, for the general way.
pub(super) async fn whole(mut file: File) -> AppResult<Bytes> {
    tokio::task::spawn_blocking(move || {
        let mut content = Vec::new();
        file.rewind()?;
        file.read_to_end(&mut content)?;
        Ok(Bytes::from(content))
    })
    .await
    .map_err(|e| AppError::Precondition(format!("reading the statement again stopped: {e}")))?
    .map_err(|e: std::io::Error| {
        AppError::Unavailable(format!("the statement held on disk could not be read: {e}"))
    })
}

/// A whole upload, for the formats read once whole (CSV, GPC).
pub(super) async fn gather(mut pieces: Receiver<AppResult<Bytes>>) -> AppResult<Bytes> {
    let mut whole = BytesMut::new();
    while let Some(piece) = pieces.recv().await {
        whole.extend_from_slice(&piece?);
    }
    Ok(whole.freeze())
}

/// Reads `input` on a blocking thread of its own (see [`read`]): the parts as the recording
/// takes them, and the reader, which gives `input` back when it ends.
pub(super) fn start_reading<R: Read + Send + 'static>(
    input: R,
    per_part: usize,
) -> (Parts, Reader<R>) {
    let (said, parts) = tokio::sync::mpsc::channel(1);
    let reader = tokio::task::spawn_blocking(move || read(input, per_part, &said));
    (Parts::new(parts), Reader(reader))
}

/// A reader started by [`start_reading`].
pub(super) struct Reader<R>(tokio::task::JoinHandle<(R, Vec<StatementLine>)>);

impl<R> Reader<R> {
    /// What it read from and the statement's reversals, once it has sent its last word, or
    /// stopped at its next part when nobody read.
    pub(super) async fn end(self) -> AppResult<(R, Vec<StatementLine>)> {
        self.0
            .await
            .map_err(|e| AppError::Precondition(format!("the statement's reader stopped: {e}")))
    }
}

/// What the reader says, in order: parts, then one last word.
enum Said {
    Part(Vec<NewPayment>),
    /// Every part has been sent: the file is whole.
    Whole,
    Refused(AppError),
}

/// Reads a camt.053 statement and sends its incoming payments in parts of `per_part` on
/// `parts`, then its last word; returns what it read from ([`Pieces`] with the upload's own
/// failure, if any). Returns early when the recording has hung up.
fn read<R: Read>(input: R, per_part: usize, parts: &Sender<Said>) -> (R, Vec<StatementLine>) {
    // quick-xml asks for a few bytes at a time: read through a buffer.
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let mut reversals = Vec::new();
    let sent = |part: Statement| -> ControlFlow<()> {
        let Movements {
            payments: part,
            reversals: reversed,
        } = movements_of(part, "camt053");
        reversals.extend(reversed);
        if part.is_empty() || parts.blocking_send(Said::Part(part)).is_ok() {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    };
    let end = match read_camt053(&mut input, per_part, sent) {
        Ok(ControlFlow::Continue(_)) => Some(Said::Whole),
        Ok(ControlFlow::Break(())) => None,
        Err(e) => Some(Said::Refused(field("content", e.to_string()))),
    };
    if let Some(end) = end {
        // The recording may have hung up meanwhile; then nobody waits for the last word.
        let _ = parts.blocking_send(end);
    }
    (input.into_inner(), reversals)
}

/// The parts as the recording takes them — on a thread of its own (the store's own
/// connection: [`Iterator`]) or on the runtime (the pool's transaction: [`Parts::next_part`]).
/// An error is the reader's refusal, or its thread ending without a last word.
pub(super) struct Parts {
    said: Receiver<Said>,
    ended: bool,
}

impl Parts {
    fn new(said: Receiver<Said>) -> Parts {
        Parts { said, ended: false }
    }

    /// The next part, awaited on the runtime.
    pub(super) async fn next_part(&mut self) -> Option<AppResult<Vec<NewPayment>>> {
        if self.ended {
            return None;
        }
        let said = self.said.recv().await;
        if !matches!(said, Some(Said::Part(_))) {
            self.ended = true;
        }
        match said {
            Some(Said::Part(part)) => Some(Ok(part)),
            Some(Said::Whole) => None,
            Some(Said::Refused(e)) => Some(Err(e)),
            None => Some(Err(AppError::Precondition(
                "the statement's reader stopped before the file's end".to_owned(),
            ))),
        }
    }

    /// After the recording failed: the reader's refusal if the file has one (a file's own
    /// problem is named before what its recording ran into, as when it was parsed first),
    /// else `failed`. Reads the file to its end to know.
    pub(super) async fn verdict(mut self, failed: AppError) -> AppError {
        while let Some(part) = self.next_part().await {
            if let Err(refused) = part {
                return refused;
            }
        }
        failed
    }

    /// [`Parts::verdict`] on a thread that may block (the store's own connection's).
    pub(super) fn blocking_verdict(self, failed: AppError) -> AppError {
        tokio::runtime::Handle::current().block_on(self.verdict(failed))
    }
}

impl Iterator for Parts {
    type Item = AppResult<Vec<NewPayment>>;

    /// On a thread that may block (the store's own connection's).
    fn next(&mut self) -> Option<Self::Item> {
        tokio::runtime::Handle::current().block_on(self.next_part())
    }
}
