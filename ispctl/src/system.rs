//! `ispctl system …`: the daemon itself among the instances on one database, and a backup
//! of its SQLite database.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use ispd_admin_proto::v1::system_service_client::SystemServiceClient;
use ispd_admin_proto::v1::{
    BackupRequest, Instance, ListInstancesRequest, StatusRequest, StatusResponse,
};

use crate::connect::{Api, Svc};
use crate::message;
use crate::output::{Out, Record, Table};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// The instances working on this database, their last heartbeat and how far each has
    /// read the change log (`*` marks the one that answered).
    Instances,
    /// What the instance that answers is doing: version, uptime, database and its size,
    /// the access cache, open sessions, requests per second over the last minute, the
    /// accounting spool, the daily jobs' last run and when the configuration was loaded.
    Status,
    /// A consistent copy of the SQLite database, taken while ispd keeps answering, written
    /// to FILE (mode 0600). On the daemon's own host the seal key is copied beside it as
    /// FILE.key: without it the NAS secrets and login passwords in the copy cannot be
    /// opened. Restore: both into an empty state directory as ispd.db and secret.key.
    /// PostgreSQL is refused (use pg_dump).
    Backup {
        file: PathBuf,
        /// Replace FILE (and FILE.key) when they exist.
        #[arg(long)]
        force: bool,
    },
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut svc = SystemServiceClient::new(api.service().await?);
    match cmd {
        Cmd::Instances => {
            let instances = svc
                .list_instances(ListInstancesRequest {})
                .await?
                .into_inner()
                .instances;
            out.list(&instances, "", message::record, table)
        }
        Cmd::Status => {
            let status = svc.status(StatusRequest {}).await?.into_inner();
            out.record(&status_record(&status))
        }
        Cmd::Backup { file, force } => {
            let local = api.target().is_local();
            // Everything that can refuse is asked before the copy is streamed, so a refused
            // call leaves nothing behind (found probing from outside: the copy was written,
            // then its key refused).
            if local && key_file_of(&file).exists() && !force {
                bail!(
                    "{} exists; name another file or pass --force",
                    key_file_of(&file).display()
                );
            }
            let (size, key_path) = backup(&mut svc, &file, force).await?;
            let key_file = if local {
                copy_key(Path::new(&key_path), &file, force)?
            } else {
                None
            };
            match &key_file {
                Some(key) => eprintln!(
                    "warning: {} holds the seal key: the NAS secrets and login passwords in the \
                     backup open only with it. Keep both where only you can read them, and a \
                     copy away from this host.",
                    key.display()
                ),
                None => eprintln!(
                    "warning: the daemon's seal key ({key_path} on the daemon's host) is not sent \
                     over the API: copy it yourself and keep it with the backup; without it the \
                     NAS secrets and login passwords in the backup cannot be opened."
                ),
            }
            out.record(
                &Record::new()
                    .str("file", &file.display().to_string())
                    .num("bytes", size)
                    .str(
                        "key_file",
                        &key_file
                            .map(|k| k.display().to_string())
                            .unwrap_or_default(),
                    )
                    .str("key_path", &key_path),
            )
        }
    }
}

/// Streams the copy into `file` through `file.partial` (mode 0600, renamed when complete);
/// returns its size and the key's path on the daemon's host.
async fn backup(
    svc: &mut SystemServiceClient<Svc>,
    file: &Path,
    force: bool,
) -> Result<(u64, String)> {
    if file.exists() && !force {
        bail!(
            "{} exists; name another file or pass --force",
            file.display()
        );
    }
    if file.is_dir() {
        bail!("{} is a directory; name a file", file.display());
    }
    let mut partial_name = file.as_os_str().to_owned();
    partial_name.push(".partial");
    let partial = PathBuf::from(partial_name);
    let mut stream = svc.backup(BackupRequest {}).await?.into_inner();
    // A `.partial` left by a backup cut short is ours to replace.
    let mut out = create_private(&partial, true)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    let (mut size, mut key_path, mut written) = (None, String::new(), 0u64);
    let received = async {
        while let Some(chunk) = stream.message().await? {
            if size.is_none() {
                size = Some(u64::try_from(chunk.size).unwrap_or_default());
                key_path = chunk.key_path;
                refuse_the_state_dir(file, &key_path)?;
            }
            out.write_all(&chunk.data)
                .with_context(|| format!("cannot write {}", partial.display()))?;
            written += chunk.data.len() as u64;
        }
        out.sync_all()
            .with_context(|| format!("cannot write {}", partial.display()))?;
        anyhow::Ok(())
    }
    .await;
    let complete = received.and_then(|()| match size {
        Some(size) if size == written => Ok(size),
        _ => bail!("the copy arrived incomplete ({written} bytes of {size:?})"),
    });
    match complete {
        Ok(size) => {
            if let Err(e) = std::fs::rename(&partial, file) {
                let _ = std::fs::remove_file(&partial);
                return Err(e).with_context(|| {
                    format!("cannot rename {} to {}", partial.display(), file.display())
                });
            }
            Ok((size, key_path))
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// Refuses a backup into the daemon's state directory (where its seal key lies, `key_path`):
/// renamed over the live `ispd.db`, it left the daemon writing to an unlinked file and the
/// database malformed at the next start; anywhere in that directory it is lost with it.
fn refuse_the_state_dir(file: &Path, key_path: &str) -> Result<()> {
    let Some(state_dir) = Path::new(key_path).parent() else {
        return Ok(());
    };
    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // One directory by its device and inode, not its path: a bind mount names it otherwise
    // (found probing from outside).
    let identity = |dir: &Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(dir).ok().map(|m| (m.dev(), m.ino()))
    };
    if let (Ok(state), Some(target)) = (state_dir.canonicalize(), identity(parent))
        && identity(state_dir) == Some(target)
    {
        bail!(
            "{} is in the daemon's state directory {}: a backup there replaces or dies with the database; name a file elsewhere",
            file.display(),
            state.display()
        );
    }
    Ok(())
}

/// A new file of mode 0600 at `path`, never one already there: opening an existing name
/// would follow a symlink planted in its place and keep the permissions of a file someone
/// else made (found probing from outside: a backup written through a planted `.partial`
/// overwrote the link's target as root, and one through a leftover 0644 file stayed
/// world-readable). With `replace`, what is at `path` is removed first (the link itself,
/// not its target).
fn create_private(path: &Path, replace: bool) -> std::io::Result<std::fs::File> {
    if replace {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Where the seal key is copied beside a backup `file`: `file.key`.
fn key_file_of(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// Copies the seal key beside the backup as `<file>.key` (mode 0600) when it can be read
/// here; `None` when it cannot (another user, another host).
fn copy_key(key_path: &Path, file: &Path, force: bool) -> Result<Option<PathBuf>> {
    let Ok(key) = std::fs::read(key_path) else {
        return Ok(None);
    };
    let target = key_file_of(file);
    let mut out = create_private(&target, force).with_context(|| {
        format!(
            "cannot write {} (pass --force to replace it)",
            target.display()
        )
    })?;
    out.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    out.write_all(&key)?;
    out.sync_all()?;
    Ok(Some(target))
}

fn status_record(s: &StatusResponse) -> Record {
    let daily = s.last_daily_run.as_ref();
    // During an outage the database's figures are not known: left out, not shown as 0.
    let known = |v: i64| (!s.database_unreachable).then_some(v);
    Record::new()
        .str("version", &s.version)
        .str("instance", &s.instance)
        .str("started_at", &s.started_at)
        // The gauges are shown at 0 too: "0 open sessions" and "nothing spooled" are what
        // an operator checks (found probing from outside: the table left them out).
        .opt("uptime_seconds", Some(s.uptime_seconds))
        .str("database", &s.database)
        .str(
            "database_reachable",
            if s.database_unreachable { "no" } else { "yes" },
        )
        .str("database_problem", &s.database_problem)
        .opt("database_bytes", known(s.database_bytes))
        .opt("access_cache_logins", Some(s.access_cache_logins))
        .opt("open_sessions", known(s.open_sessions))
        .opt(
            "auth_per_second",
            Some((s.auth_per_second * 10.0).round() / 10.0),
        )
        .opt(
            "accounting_per_second",
            Some((s.accounting_per_second * 10.0).round() / 10.0),
        )
        .opt("spool_bytes", Some(s.spool_bytes))
        .str(
            "daily_run_day",
            match daily {
                Some(d) => d.day.as_str(),
                None if s.database_unreachable => "",
                None => "never",
            },
        )
        .str("daily_run_by", daily.map_or("", |d| d.instance.as_str()))
        .str(
            "daily_run_finished_at",
            daily.map_or("", |d| d.finished_at.as_str()),
        )
        .str(
            "daily_run_outcome",
            daily.map_or("", |d| d.outcome.as_str()),
        )
        .str("config_loaded_at", &s.config_loaded_at)
}

fn table(instances: &[Instance]) -> Table {
    Table::of(
        ["", "ID", "VERSION", "STARTED", "HEARTBEAT", "CHANGE"],
        instances.iter().map(|i| {
            [
                if i.this_instance { "*" } else { "" }.to_owned(),
                i.id.clone(),
                i.version.clone(),
                i.started_at.clone(),
                i.heartbeat_at.clone(),
                i.applied_change.to_string(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_shows_its_gauges_at_zero() {
        let lines = status_record(&StatusResponse::default()).lines();
        for key in ["open_sessions", "spool_bytes", "access_cache_logins"] {
            assert!(
                lines.iter().any(|(k, v)| k == key && v == "0"),
                "{key}: {lines:?}"
            );
        }
    }
}
