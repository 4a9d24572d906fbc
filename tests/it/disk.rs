//! A small filesystem of the test's own, for faults of a full disk.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::daemon::{stderr, stdout};

/// A small tmpfs the test mounts itself (the suite runs as root, as `scripts/test` does),
/// so "the disk is full" is a real ENOSPC from the kernel. Unmounted on drop.
pub struct SmallDisk {
    at: PathBuf,
}

impl SmallDisk {
    pub fn mount(at: &Path, bytes: u64) -> SmallDisk {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={bytes},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mounting a tmpfs needs root (scripts/test runs as root): {}",
            stderr(&out)
        );
        SmallDisk { at: at.to_owned() }
    }

    fn filler(&self) -> PathBuf {
        self.at.join("filler")
    }

    /// Bytes the filesystem still has for an unprivileged write.
    pub fn available(&self) -> u64 {
        let out = Command::new("stat")
            .args(["-f", "-c", "%a %S"])
            .arg(&self.at)
            .output()
            .unwrap();
        let text = stdout(&out);
        let mut parts = text.split_whitespace().map(|p| p.parse::<u64>().unwrap());
        parts.next().unwrap() * parts.next().unwrap()
    }

    /// Fills the filesystem so that only `leave` bytes stay free (0: full).
    pub fn fill_leaving(&self, leave: u64) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.filler())
            .unwrap();
        let chunk = vec![0xA5u8; 64 * 1024];
        loop {
            let free = self.available();
            if free <= leave {
                break;
            }
            let n = usize::try_from((free - leave).min(chunk.len() as u64)).unwrap();
            if file.write_all(&chunk[..n]).is_err() {
                break;
            }
        }
        let _ = file.sync_all();
    }

    pub fn free(&self) {
        std::fs::remove_file(self.filler()).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.at).status();
    }
}
