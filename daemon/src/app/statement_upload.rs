//! A bank statement that arrives in pieces (the admin API's `ImportStatementStream`), read on
//! a thread of its own as it arrives while the recording takes its payments part by part: a
//! 100,000-payment camt.053 file is recorded while it is still coming in, and neither the
//! file nor its parsed lines are ever held whole — only the piece being read and the parts
//! between the reader and the recording.
//!
//! The parts are provisional until the reader's last word: a file refused at its end sends
//! its error after the parts before it, and the recording, one transaction, rolls back. The
//! recording may stop early (a statement for the general way, an error): the reader notices
//! at its next part and stops. The pieces are kept, for the general way, while it may be taken
//! ([`Kept`]).

use std::io::BufReader;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::{Buf, Bytes, BytesMut};
use ispd_billing::bank::{StatementLine, read_camt053};
use tokio::sync::mpsc::{Receiver, Sender};

use super::payments::payment_of;
use super::{AppError, AppResult, field};
use crate::storage::NewPayment;

/// A statement as it arrives.
pub struct StatementUpload<'a> {
    /// camt053, csv or gpc: only camt.053 is read as it arrives, the others once whole.
    pub format: &'a str,
    /// The column mapping as TOML, for csv.
    pub mapping: &'a str,
    /// The file's bytes in order; an error ends the upload (too large, broken off) and the
    /// import records nothing.
    pub pieces: tokio::sync::mpsc::Receiver<AppResult<Bytes>>,
}

/// The pieces received so far while the general way may still need the whole file; `None`
/// once it cannot (no client has an open pro-forma).
#[derive(Clone)]
pub(super) struct Kept(Arc<Mutex<Option<Vec<Bytes>>>>);

impl Kept {
    pub(super) fn new() -> Kept {
        Kept(Arc::new(Mutex::new(Some(Vec::new()))))
    }

    fn lock(&self) -> MutexGuard<'_, Option<Vec<Bytes>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The general way will not be taken: the pieces go as soon as the reader is through them.
    pub(super) fn let_go(&self) {
        drop(self.lock().take());
    }

    fn keep(&self, piece: &Bytes) {
        if let Some(kept) = self.lock().as_mut() {
            kept.push(piece.clone());
        }
    }
}

/// The upload as the reader reads it: [`std::io::Read`] over the pieces, each kept while the
/// general way may need it.
pub(super) struct Pieces {
    pieces: tokio::sync::mpsc::Receiver<AppResult<Bytes>>,
    current: Bytes,
    kept: Kept,
    /// Why the upload ended early: what is reported, whatever the reader made of it.
    pub(super) failed: Option<AppError>,
}

impl Pieces {
    pub(super) fn new(pieces: tokio::sync::mpsc::Receiver<AppResult<Bytes>>, kept: Kept) -> Pieces {
        Pieces {
            pieces,
            current: Bytes::new(),
            kept,
            failed: None,
        }
    }

    /// The whole file for the general way: the pieces kept so far and the rest of the upload.
    pub(super) async fn whole(mut self) -> AppResult<Bytes> {
        let kept = self.kept.lock().take().ok_or_else(|| {
            AppError::Precondition("a statement's pieces went before the general way".into())
        })?;
        let mut whole = BytesMut::new();
        for piece in kept {
            whole.extend_from_slice(&piece);
        }
        while let Some(piece) = self.pieces.recv().await {
            whole.extend_from_slice(&piece?);
        }
        Ok(whole.freeze())
    }
}

impl std::io::Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.pieces.blocking_recv() {
                Some(Ok(piece)) => {
                    self.kept.keep(&piece);
                    self.current = piece;
                }
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

/// A whole upload, for the formats read whole and the stores that record a statement the
/// general way.
pub(super) async fn gather(
    mut pieces: tokio::sync::mpsc::Receiver<AppResult<Bytes>>,
) -> AppResult<Bytes> {
    let mut whole = BytesMut::new();
    while let Some(piece) = pieces.recv().await {
        whole.extend_from_slice(&piece?);
    }
    Ok(whole.freeze())
}

/// What the reader says, in order: parts, then one last word.
pub(super) enum Said {
    Part(Vec<NewPayment>),
    /// Every part has been sent: the file is whole.
    Whole,
    Refused(AppError),
}

/// Reads a camt.053 upload and sends its incoming payments in parts of `per_part` on `parts`,
/// then its last word; returns the pieces (with the upload's own failure, if any). Returns
/// early when the recording has hung up.
pub(super) fn read(pieces: Pieces, per_part: usize, parts: &Sender<Said>) -> Pieces {
    // quick-xml asks for a few bytes at a time: read the pieces through a buffer.
    let mut input = BufReader::with_capacity(64 * 1024, pieces);
    let sent = |lines: Vec<StatementLine>| -> ControlFlow<()> {
        let part: Vec<NewPayment> = lines
            .into_iter()
            .filter(StatementLine::is_incoming_payment)
            .map(|line| payment_of(line, "camt053"))
            .collect();
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
    input.into_inner()
}

/// The parts as the recording takes them — on a thread of its own (the store's own
/// connection: [`Iterator`]) or on the runtime (the pool's transaction: [`Parts::next_part`]).
/// An error is the reader's refusal, or its thread ending without a last word.
pub(super) struct Parts {
    said: Receiver<Said>,
    ended: bool,
}

impl Parts {
    pub(super) fn new(said: Receiver<Said>) -> Parts {
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
