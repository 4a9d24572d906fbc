//! The accounting spool: when the database cannot take a batch, its records go to an
//! append-only file (fsynced before the NAS is answered) and are replayed, in order, once
//! the database is back. Replaying is idempotent (a record already stored changes nothing),
//! so a crash half-way through a replay repeats work but never counts twice.
//!
//! The file is a framed log, one record per line: `LLLLLLLL CCCCCCCC {json}\n`, the JSON's
//! length and its CRC-32C in hex. A frame is complete only when its length, checksum and
//! newline all agree, so a record cut short (ENOSPC, a crash mid-append) is recognised and
//! never read as part of the next one. The spool remembers where its complete records end
//! and cuts anything beyond before it appends: a torn tail is never merged with a new
//! record. (Spools written before framing, plain JSON lines, are still read.)

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::storage::AcctItem;

const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);
/// `LLLLLLLL CCCCCCCC `: two 8-digit hex fields and their separators.
const HEADER: usize = 18;

pub struct Spool {
    path: PathBuf,
    /// Where the complete records end; bytes beyond are a torn append, cut before the next.
    len: u64,
    /// How far the records are replayed into the database (kept in memory: after a crash
    /// the whole spool is replayed again, which is harmless).
    replayed: u64,
    /// Since when records have been waiting (the file's creation after a restart).
    pending_since: Option<std::time::SystemTime>,
}

impl Spool {
    /// Opens the spool of writer `index` (each writer keeps its own, so appends never
    /// interleave), cutting a torn tail left by a crash or a full disk.
    pub fn open(state_dir: &Path, index: usize) -> std::io::Result<Spool> {
        let path = state_dir.join(format!("accounting.{index}.spool"));
        let mut spool = Spool {
            path,
            len: 0,
            replayed: 0,
            pending_since: None,
        };
        let (complete, file_len) = match File::open(&spool.path) {
            Ok(file) => {
                let metadata = file.metadata()?;
                let file_len = metadata.len();
                spool.pending_since = metadata.created().or_else(|_| metadata.modified()).ok();
                let mut reader = BufReader::new(file);
                let mut end = 0;
                while let Some(frame) = next_frame(&mut reader, end)? {
                    end = frame.end;
                }
                (end, file_len)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (0, 0),
            Err(e) => return Err(e),
        };
        spool.len = complete;
        if complete == 0 {
            spool.pending_since = None;
        }
        if file_len > complete {
            tracing::warn!(
                path = %spool.path.display(),
                bytes = file_len - complete,
                "cut the end of the accounting spool: a record cut short (by a crash or a full disk) that was never acknowledged"
            );
            OpenOptions::new()
                .write(true)
                .open(&spool.path)?
                .set_len(complete)?;
        }
        Ok(spool)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether records are waiting: then new records must queue behind them.
    pub fn is_pending(&self) -> bool {
        self.len > self.replayed
    }

    /// Bytes of records not yet replayed (for the metrics).
    pub fn pending_bytes(&self) -> u64 {
        self.len - self.replayed
    }

    /// Since when the oldest waiting record has waited (for the metrics); `None` when empty.
    pub fn pending_since(&self) -> Option<std::time::SystemTime> {
        self.pending_since.filter(|_| self.is_pending())
    }

    /// Appends and fsyncs: after Ok the records survive a crash of the process or the host.
    /// On any error the file is cut back to its complete records, so nothing half-written
    /// stays in front of the next append.
    pub fn append(&mut self, items: &[AcctItem]) -> std::io::Result<()> {
        let mut bytes = Vec::new();
        for item in items {
            let json = serde_json::to_vec(item).map_err(std::io::Error::other)?;
            write!(bytes, "{:08x} {:08x} ", json.len(), CRC.checksum(&json))?;
            bytes.extend_from_slice(&json);
            bytes.push(b'\n');
        }
        let created = self.len == 0;
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&self.path)?;
        let written = (|| {
            if file.metadata()?.len() != self.len {
                file.set_len(self.len)?;
            }
            file.seek(SeekFrom::Start(self.len))?;
            file.write_all(&bytes)?;
            file.sync_data()?;
            if created {
                // The file's name must be as durable as its contents.
                if let Some(dir) = self.path.parent() {
                    File::open(dir)?.sync_all()?;
                }
            }
            Ok(())
        })();
        match written {
            Ok(()) => {
                if !self.is_pending() {
                    self.pending_since = Some(std::time::SystemTime::now());
                }
                self.len += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Cutting back frees space, so it works on a full disk too; if it does not,
                // the next append or start cuts the tail.
                let _ = file.set_len(self.len);
                Err(e)
            }
        }
    }

    /// Up to `max` records from where the replay stands, and the offset after them.
    pub fn next_records(&self, max: usize) -> std::io::Result<(Vec<AcctItem>, u64)> {
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(self.replayed))?;
        let mut reader = BufReader::new(file.take(self.len - self.replayed));
        let mut items = Vec::new();
        let mut end = self.replayed;
        while items.len() < max {
            let Some(frame) = next_frame(&mut reader, end)? else {
                break;
            };
            end = frame.end;
            items.extend(frame.item);
        }
        Ok((items, end))
    }

    /// Marks the records before `offset` as committed; once all are, the spool is removed.
    pub fn replayed_to(&mut self, offset: u64) -> std::io::Result<()> {
        self.replayed = offset.min(self.len);
        if self.replayed == self.len {
            match std::fs::remove_file(&self.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            self.len = 0;
            self.replayed = 0;
            self.pending_since = None;
        }
        Ok(())
    }
}

/// Hands the spools of writers this start does not run (a build or backend that ran more)
/// to writer `index % writers`, so nothing they acknowledged is left unreplayed: a
/// session's records are all in one spool, so appending one spool after another keeps each
/// session's order, and the records still wait in front of new ones. A crash between the
/// append and the removal replays them twice, which changes nothing. Returns the spools
/// handed over.
pub fn adopt_orphans(state_dir: &Path, writers: usize) -> std::io::Result<Vec<PathBuf>> {
    let mut orphans: Vec<usize> = std::fs::read_dir(state_dir)?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let index = name.strip_prefix("accounting.")?.strip_suffix(".spool")?;
            index.parse::<usize>().ok().filter(|i| *i >= writers)
        })
        .collect();
    orphans.sort_unstable();
    let mut adopted = Vec::new();
    for index in orphans {
        let orphan = Spool::open(state_dir, index)?;
        let (items, _) = orphan.next_records(usize::MAX)?;
        if !items.is_empty() {
            Spool::open(state_dir, index % writers.max(1))?.append(&items)?;
        }
        std::fs::remove_file(&orphan.path)?;
        File::open(state_dir)?.sync_all()?;
        adopted.push(orphan.path);
    }
    Ok(adopted)
}

/// One complete frame: where it ends, and its record (`None` for a damaged one).
struct Frame {
    end: u64,
    item: Option<AcctItem>,
}

/// Reads the frame starting at `start`; `None` at the end of the complete frames (the end
/// of the file, or a torn tail: bytes that do not end in a newline).
fn next_frame(reader: &mut impl BufRead, start: u64) -> std::io::Result<Option<Frame>> {
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?;
    if line.last() != Some(&b'\n') {
        return Ok(None);
    }
    let end = start + line.len() as u64;
    let body = &line[..line.len() - 1];
    let item = if body.first() == Some(&b'{') {
        // A spool written before framing: plain JSON lines.
        serde_json::from_slice(body).ok()
    } else {
        framed(body)
    };
    if item.is_none() {
        // Only damage on the disk can do this (appends cut back what they tear): the line's
        // record cannot be trusted; the records after it still can.
        tracing::error!(
            offset = start,
            bytes = line.len(),
            "damaged record in the accounting spool skipped (checksum or length mismatch)"
        );
    }
    Ok(Some(Frame { end, item }))
}

/// The record of `LLLLLLLL CCCCCCCC {json}` when length and checksum agree.
fn framed(body: &[u8]) -> Option<AcctItem> {
    if body.len() < HEADER || body[8] != b' ' || body[17] != b' ' {
        return None;
    }
    let hex = |field: &[u8]| u32::from_str_radix(std::str::from_utf8(field).ok()?, 16).ok();
    let len = hex(&body[..8])?;
    let crc = hex(&body[9..17])?;
    let json = &body[HEADER..];
    if json.len() != len as usize || CRC.checksum(json) != crc {
        return None;
    }
    serde_json::from_slice(json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use ispd_provisioning::accounting::{AcctRecord, Counters, StatusType};

    fn item(session: &str) -> AcctItem {
        AcctItem {
            nas_name: "bras".into(),
            login_id: Some(1),
            record: AcctRecord {
                status: StatusType::Start,
                acct_session_id: session.into(),
                username: "novak".into(),
                login_id: None,
                accepted_at: None,
                framed_ip: None,
                delegated_prefix: None,
                calling_station: None,
                nas_port: None,
                event_time: Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap(),
                received_at: None,
                session_seconds: 0,
                counters: Counters::default(),
                terminate_cause: None,
            },
        }
    }

    fn sessions(spool: &Spool) -> Vec<String> {
        let (items, _) = spool.next_records(usize::MAX).unwrap();
        items
            .into_iter()
            .map(|i| i.record.acct_session_id)
            .collect()
    }

    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Dir {
            let dir = std::env::temp_dir().join(format!(
                "ispd-spool-{}-{name}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            Dir(dir)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn tear(path: &Path, fragment: &[u8]) {
        OpenOptions::new()
            .append(true)
            .open(path)
            .unwrap()
            .write_all(fragment)
            .unwrap();
    }

    #[test]
    fn the_spools_of_writers_no_longer_run_are_handed_to_the_ones_that_are() {
        let dir = Dir::new("orphans");
        Spool::open(&dir.0, 0)
            .unwrap()
            .append(&[item("a"), item("b")])
            .unwrap();
        Spool::open(&dir.0, 1)
            .unwrap()
            .append(&[item("c"), item("d")])
            .unwrap();
        Spool::open(&dir.0, 2)
            .unwrap()
            .append(&[item("e")])
            .unwrap();
        let adopted = adopt_orphans(&dir.0, 1).unwrap();
        assert_eq!(adopted.len(), 2, "{adopted:?}");
        let spool = Spool::open(&dir.0, 0).unwrap();
        assert_eq!(
            sessions(&spool),
            ["a", "b", "c", "d", "e"],
            "each in its order"
        );
        assert!(!dir.0.join("accounting.1.spool").exists());
        assert!(!dir.0.join("accounting.2.spool").exists());
        // The writers this start runs keep their own.
        assert!(adopt_orphans(&dir.0, 1).unwrap().is_empty());
        assert_eq!(
            sessions(&Spool::open(&dir.0, 0).unwrap()),
            ["a", "b", "c", "d", "e"]
        );
    }

    #[test]
    fn a_torn_tail_is_cut_before_the_next_append_never_merged() {
        let dir = Dir::new("torn");
        let mut spool = Spool::open(&dir.0, 0).unwrap();
        spool.append(&[item("a"), item("b")]).unwrap();
        // An append cut short by a full disk: half a frame, no newline.
        let whole = std::fs::read(spool.path()).unwrap();
        tear(spool.path(), &whole[..whole.len() / 3]);
        spool.append(&[item("c")]).unwrap();
        assert_eq!(sessions(&spool), ["a", "b", "c"]);
        // A restart finds the same records.
        let reopened = Spool::open(&dir.0, 0).unwrap();
        assert_eq!(sessions(&reopened), ["a", "b", "c"]);
    }

    #[test]
    fn a_torn_tail_left_by_a_crash_is_cut_at_start() {
        let dir = Dir::new("crash");
        let mut spool = Spool::open(&dir.0, 0).unwrap();
        spool.append(&[item("a")]).unwrap();
        let good = std::fs::metadata(spool.path()).unwrap().len();
        tear(spool.path(), b"0000004a 1234abcd {\"nas_na");
        let mut reopened = Spool::open(&dir.0, 0).unwrap();
        assert_eq!(std::fs::metadata(reopened.path()).unwrap().len(), good);
        reopened.append(&[item("b")]).unwrap();
        assert_eq!(sessions(&reopened), ["a", "b"]);
    }

    #[test]
    fn a_damaged_record_is_skipped_and_the_rest_replayed() {
        let dir = Dir::new("damaged");
        let mut spool = Spool::open(&dir.0, 0).unwrap();
        spool.append(&[item("a"), item("b"), item("c")]).unwrap();
        // One byte of "b"'s JSON flipped on the disk: its checksum no longer agrees.
        let mut bytes = std::fs::read(spool.path()).unwrap();
        let second = bytes.iter().position(|&b| b == b'\n').unwrap() + 1 + HEADER + 3;
        bytes[second] ^= 0x20;
        std::fs::write(spool.path(), &bytes).unwrap();
        let reopened = Spool::open(&dir.0, 0).unwrap();
        assert_eq!(sessions(&reopened), ["a", "c"]);
    }

    #[test]
    fn replay_walks_the_spool_in_order_and_removes_it_at_the_end() {
        let dir = Dir::new("replay");
        let mut spool = Spool::open(&dir.0, 0).unwrap();
        assert!(!spool.is_pending());
        spool.append(&[item("a"), item("b"), item("c")]).unwrap();
        assert!(spool.is_pending());
        let (first, offset) = spool.next_records(2).unwrap();
        assert_eq!(first.len(), 2);
        spool.replayed_to(offset).unwrap();
        // Appended while the replay is under way: queued behind.
        spool.append(&[item("d")]).unwrap();
        assert_eq!(sessions(&spool), ["c", "d"]);
        let (_, end) = spool.next_records(10).unwrap();
        spool.replayed_to(end).unwrap();
        assert!(!spool.is_pending());
        assert!(!spool.path().exists());
    }

    #[test]
    fn spools_written_before_framing_are_still_read() {
        let dir = Dir::new("legacy");
        let path = dir.0.join("accounting.0.spool");
        let line = serde_json::to_string(&item("old")).unwrap();
        std::fs::write(&path, format!("{line}\n")).unwrap();
        let mut spool = Spool::open(&dir.0, 0).unwrap();
        spool.append(&[item("new")]).unwrap();
        assert_eq!(sessions(&spool), ["old", "new"]);
    }
}
