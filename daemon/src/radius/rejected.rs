//! Accounting records the database refuses (a value it cannot hold, a byte its encoding
//! forbids) are set aside here instead of being retried forever in front of the records
//! behind them. The file, `<state_dir>/accounting.rejected`, holds one JSON object per line
//! with when, why and the whole record, for an operator to inspect (`jq`) and, once the
//! cause is fixed, to feed back. Written and fsynced before the NAS is answered.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::storage::AcctItem;

pub struct Rejected {
    path: PathBuf,
    /// Writers share the file; appends must not interleave.
    lock: Mutex<()>,
}

impl Rejected {
    pub fn new(state_dir: &Path) -> Rejected {
        Rejected {
            path: state_dir.join("accounting.rejected"),
            lock: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records `item` with the reason; after Ok it survives a crash.
    pub fn set_aside(&self, item: &AcctItem, reason: &str) -> std::io::Result<()> {
        let entry = serde_json::json!({
            "at": crate::storage::timestamp(chrono::Utc::now()),
            "reason": reason,
            "record": item,
        });
        let mut line = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        let before = file.metadata()?.len();
        let written = file.write_all(&line).and_then(|()| file.sync_data());
        if written.is_err() {
            // A line cut short (a full disk) must not run into the next one.
            let _ = file.set_len(before);
        }
        written
    }
}
