//! What the systemd watchdog's keep-alive stands for: every RADIUS receive thread and
//! accounting writer is alive, no writer has been inside one batch longer than [`STUCK`],
//! and the SQLite database is still the file the daemon opened. When that fails the keep-alive stops, and systemd restarts the daemon
//! (`WatchdogSec=` in the unit): a wedged daemon is worse than a restart — the NASes
//! retransmit what was not answered, and a fresh process answers it from the spool or the
//! database. A process that merely idles stays healthy: nothing here needs traffic.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest one accounting batch may take — its commit attempts are bounded by seconds
/// and a spool write by the disk — before the writer counts as stuck.
pub const STUCK: Duration = Duration::from_secs(60);

/// The workers the keep-alive vouches for.
#[derive(Debug)]
pub struct Health {
    origin: Instant,
    started: AtomicUsize,
    alive: Arc<AtomicUsize>,
    /// Per writer: when its current batch began (milliseconds after `origin`, plus one), or
    /// 0 between batches.
    busy: Mutex<Vec<Arc<AtomicU64>>>,
    /// The SQLite database file as opened (its path, device and inode; SQLite holds it
    /// open, so the inode is no other file's while the daemon runs). Not opened here: closing
    /// any descriptor of a file drops the process's POSIX locks on it, SQLite's among them.
    database: std::sync::OnceLock<(std::path::PathBuf, u64, u64)>,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            origin: Instant::now(),
            started: AtomicUsize::new(0),
            alive: Arc::default(),
            busy: Mutex::default(),
            database: std::sync::OnceLock::new(),
        }
    }
}

/// A file's device and inode: the same name may come to name another file.
fn identity(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Held by a worker for as long as it runs; dropped when it returns or unwinds from a panic.
#[derive(Debug)]
pub struct Alive(Arc<AtomicUsize>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An accounting writer's slot: it marks when a batch begins and ends.
#[derive(Debug)]
pub struct Busy {
    origin: Instant,
    since: Arc<AtomicU64>,
}

impl Busy {
    pub fn begin(&self, now: Instant) {
        let ms = now.saturating_duration_since(self.origin).as_millis();
        self.since.store(
            u64::try_from(ms).unwrap_or(u64::MAX - 1) + 1,
            Ordering::Relaxed,
        );
    }

    pub fn end(&self) {
        self.since.store(0, Ordering::Relaxed);
    }
}

impl Health {
    /// A worker starts; it is alive until the returned guard drops.
    pub fn started(&self) -> Alive {
        self.started.fetch_add(1, Ordering::Relaxed);
        self.alive.fetch_add(1, Ordering::Relaxed);
        Alive(self.alive.clone())
    }

    /// A new accounting writer's slot.
    pub fn writer(&self) -> Busy {
        let since = Arc::new(AtomicU64::new(0));
        self.busy
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(since.clone());
        Busy {
            origin: self.origin,
            since,
        }
    }

    /// The SQLite database file the daemon opened: it must stay the file at that path. A
    /// database deleted or replaced under the running daemon leaves it writing — and
    /// acknowledging accounting — into a file no longer there, lost at the stop (found
    /// probing from outside); the keep-alive then stops, and the start after refuses a state
    /// directory whose database is missing.
    pub fn watch_database(&self, path: &std::path::Path) {
        if let Some((dev, ino)) = identity(path) {
            let _ = self.database.set((path.to_path_buf(), dev, ino));
        }
    }

    /// Healthy, or what is not.
    pub fn verdict(&self, now: Instant) -> Result<(), String> {
        if let Some((path, dev, ino)) = self.database.get()
            && identity(path) != Some((*dev, *ino))
        {
            return Err(format!(
                "the database {} was removed or replaced under the running daemon",
                path.display()
            ));
        }
        let (started, alive) = (
            self.started.load(Ordering::Relaxed),
            self.alive.load(Ordering::Relaxed),
        );
        if alive < started {
            return Err(format!(
                "{} of {started} RADIUS workers have stopped",
                started - alive
            ));
        }
        let now_ms = now.saturating_duration_since(self.origin).as_millis();
        let busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        for since in busy.iter() {
            let began = u128::from(since.load(Ordering::Relaxed));
            if began > 0 && now_ms + 1 >= began + STUCK.as_millis() {
                return Err(format!(
                    "an accounting writer has been in one batch for {} s",
                    (now_ms + 1 - began) / 1000
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_removed_or_replaced_is_unhealthy() {
        let dir = std::env::temp_dir().join(format!("ispd-health-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("ispd.db");
        std::fs::write(&db, "db").unwrap();
        // Held open, as SQLite holds it: its inode stays its own.
        let _sqlite = std::fs::File::open(&db).unwrap();
        let health = Health::default();
        health.watch_database(&db);
        let t0 = Instant::now();
        assert_eq!(health.verdict(t0), Ok(()));
        std::fs::remove_file(&db).unwrap();
        assert!(
            health
                .verdict(t0)
                .unwrap_err()
                .contains("removed or replaced")
        );
        // Another file under the name is not the database either.
        let other = dir.join("other");
        std::fs::write(&other, "other").unwrap();
        std::fs::rename(&other, &db).unwrap();
        assert!(health.verdict(t0).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_stopped_worker_or_a_stuck_writer_is_unhealthy() {
        let health = Health::default();
        let t0 = Instant::now();
        assert_eq!(health.verdict(t0), Ok(()), "nothing started yet");
        let alive = health.started();
        let dies = health.started();
        assert_eq!(health.verdict(t0), Ok(()));
        // A worker that panics drops its guard while unwinding.
        let panicked = std::thread::spawn(move || {
            let _guard = dies;
            panic!("a receive thread dies");
        })
        .join();
        assert!(panicked.is_err());
        assert_eq!(
            health.verdict(t0),
            Err("1 of 2 RADIUS workers have stopped".into())
        );
        drop(alive);

        let health = Health::default();
        let writer = health.writer();
        let later = |s| health.origin + Duration::from_secs(s);
        writer.begin(later(10));
        assert_eq!(health.verdict(later(69)), Ok(()), "busy, not yet stuck");
        assert!(health.verdict(later(70)).is_err(), "a minute in one batch");
        writer.end();
        assert_eq!(health.verdict(later(500)), Ok(()), "idle is healthy");
    }
}
