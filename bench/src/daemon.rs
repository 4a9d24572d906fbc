//! The daemon under test: started on the seeded state directory, stopped on drop.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

pub struct Daemon {
    child: Child,
    pub auth_addr: SocketAddr,
    pub acct_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub cached_logins: u64,
    pub cache_millis: u64,
}

impl Daemon {
    pub fn start(ispd: &Path, state_dir: &Path) -> anyhow::Result<Daemon> {
        let ports = state_dir.join("ports.json");
        let _ = std::fs::remove_file(&ports);
        let log_path = state_dir.join("ispd.log");
        let log = std::fs::File::create(&log_path)?;
        let child = Command::new(ispd)
            .arg("--config")
            .arg(state_dir.join("ispd.toml"))
            .env("ISPD_LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| {
                format!("cannot start {} (build it with --release)", ispd.display())
            })?;
        let mut daemon = Daemon {
            child,
            auth_addr: "127.0.0.1:0".parse()?,
            acct_addr: "127.0.0.1:0".parse()?,
            admin_addr: "127.0.0.1:0".parse()?,
            cached_logins: 0,
            cache_millis: 0,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let ports: serde_json::Value = loop {
            if let Ok(text) = std::fs::read_to_string(&ports)
                && let Ok(value) = serde_json::from_str(&text)
            {
                break value;
            }
            if daemon.child.try_wait()?.is_some() {
                bail!("ispd exited; see {}", log_path.display());
            }
            if Instant::now() > deadline {
                bail!("ispd did not start within 60 s; see {}", log_path.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        daemon.auth_addr = ports["auth"]
            .as_str()
            .context("ports.json: auth")?
            .parse()?;
        daemon.acct_addr = ports["acct"]
            .as_str()
            .context("ports.json: acct")?
            .parse()?;
        daemon.admin_addr = ports["admin"]
            .as_str()
            .context("ports.json: admin")?
            .parse()?;
        for line in std::fs::read_to_string(&log_path)?.lines() {
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if entry["fields"]["message"] == "access cache built" {
                daemon.cached_logins = entry["fields"]["logins"].as_u64().unwrap_or(0);
                daemon.cache_millis = entry["fields"]["millis"].as_u64().unwrap_or(0);
            }
        }
        Ok(daemon)
    }

    /// VmRSS of the daemon, from /proc.
    pub fn rss_mb(&self) -> anyhow::Result<u64> {
        Ok(self.status_kb("VmRSS:")? / 1024)
    }

    /// VmHWM of the daemon: its peak resident memory since start or the last
    /// [`Daemon::reset_peak`].
    pub fn peak_mb(&self) -> anyhow::Result<u64> {
        Ok(self.status_kb("VmHWM:")? / 1024)
    }

    /// Starts VmHWM afresh (clear_refs "5"), so the next [`Daemon::peak_mb`] is the peak of
    /// what happens in between; false when the kernel refuses.
    pub fn reset_peak(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5").is_ok()
    }

    /// CPU time the daemon has used so far, user + system, in seconds.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        cpu_seconds(self.child.id())
    }

    /// The daemon as the load's target at `addr` (its auth or accounting address).
    pub fn target(&self, addr: SocketAddr) -> crate::Target<'static> {
        crate::Target {
            addr,
            secret: crate::seed::SECRET.as_bytes(),
            pid: Some(self.child.id()),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn status_kb(&self, key: &str) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("no {key} in /proc/{}/status", self.child.id()))
    }
}

impl Drop for Daemon {
    /// SIGTERM, then SIGKILL if the daemon is still there after 10 s.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("ispd did not stop within 10 s of SIGTERM: killed");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time process `pid` has used so far, all its threads, user + system, in seconds
/// (utime and stime of /proc/PID/stat, in USER_HZ = 100 ticks per second on Linux).
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("no process {pid}"))?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("malformed /proc/PID/stat")?
        .1
        .split_whitespace()
        .collect();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        Ok(fields
            .get(i)
            .context("short /proc/PID/stat")?
            .parse::<u64>()?)
    };
    // utime and stime are fields 14 and 15 of stat(5); 3 is the first after the name.
    Ok((ticks(14 - 3)? + ticks(15 - 3)?) as f64 / 100.0)
}
