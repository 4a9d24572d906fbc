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
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .context("no VmRSS")?;
        Ok(kb / 1024)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
