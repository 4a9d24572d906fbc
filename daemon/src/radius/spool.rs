//! The accounting spool: when the database cannot take a batch, its records go to an
//! append-only file (fsynced before the NAS is answered) and are replayed, in order, once
//! the database is back. Replaying is idempotent (a record already stored changes nothing),
//! so a crash half-way through a replay repeats work but never counts twice.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use crate::storage::AcctItem;

pub struct Spool {
    path: PathBuf,
}

impl Spool {
    /// The spool of writer `index` (each writer keeps its own, so appends never interleave).
    pub fn new(state_dir: &Path, index: usize) -> Spool {
        Spool {
            path: state_dir.join(format!("accounting.{index}.spool")),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether records are waiting: then new records must queue behind them.
    pub fn is_pending(&self) -> bool {
        std::fs::metadata(&self.path).is_ok_and(|m| m.len() > 0)
    }

    /// Appends and fsyncs: after Ok the records survive a crash of the process or the host.
    pub fn append(&self, items: &[AcctItem]) -> std::io::Result<()> {
        let mut text = String::new();
        for item in items {
            text.push_str(&serde_json::to_string(item).map_err(std::io::Error::other)?);
            text.push('\n');
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(text.as_bytes())?;
        file.sync_data()
    }

    /// Everything spooled, in order. A torn last line (a crash mid-append, never
    /// acknowledged) is skipped.
    pub fn read(&self) -> std::io::Result<Vec<AcctItem>> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut items = Vec::new();
        for line in BufReader::new(file).lines() {
            match serde_json::from_str(&line?) {
                Ok(item) => items.push(item),
                Err(e) => {
                    tracing::warn!(error = %e, "unreadable spool line skipped (a write cut short before it was acknowledged)")
                }
            }
        }
        Ok(items)
    }

    /// Empties the spool after its records are committed to the database.
    pub fn clear(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
