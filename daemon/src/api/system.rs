//! SystemService: the instances working on this database, this one's status, and a copy of
//! the database for backup.

use ispd_admin_proto::v1;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::{AdminState, Reply};
use crate::app::system::{self, BackupCopy};

/// The most bytes in one streamed chunk of a backup: well under gRPC's 4 MiB message limit.
const CHUNK: usize = 256 * 1024;

#[tonic::async_trait]
impl v1::system_service_server::SystemService for AdminState {
    async fn list_instances(
        &self,
        _request: Request<v1::ListInstancesRequest>,
    ) -> Reply<v1::ListInstancesResponse> {
        let rows = self
            .store
            .instances()
            .await
            .map_err(crate::app::AppError::from)?;
        let this = self.store.instance();
        Ok(Response::new(v1::ListInstancesResponse {
            instances: rows
                .into_iter()
                .map(|r| v1::Instance {
                    this_instance: r.id == this,
                    id: r.id,
                    version: r.version,
                    started_at: r.started_at,
                    heartbeat_at: r.heartbeat_at,
                    applied_change: r.applied_change,
                })
                .collect(),
        }))
    }

    async fn status(&self, _request: Request<v1::StatusRequest>) -> Reply<v1::StatusResponse> {
        let status = system::status(&self.app(), &self.radius, self.started_at).await?;
        Ok(Response::new(status_to(status)))
    }

    type BackupStream = ReceiverStream<Result<v1::BackupChunk, Status>>;

    async fn backup(&self, _request: Request<v1::BackupRequest>) -> Reply<Self::BackupStream> {
        let copy = system::backup(&self.app()).await?;
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(send_copy(copy, tx));
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

fn status_to(s: system::Status) -> v1::StatusResponse {
    use crate::storage::timestamp;
    let (figures, database_problem) = match s.database {
        Ok(figures) => (Some(figures), String::new()),
        Err(problem) => (None, problem),
    };
    v1::StatusResponse {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        instance: s.instance,
        started_at: timestamp(s.started_at),
        uptime_seconds: s.uptime_seconds,
        database: s.backend.name().to_owned(),
        database_bytes: figures.as_ref().map_or(0, |f| f.database_bytes),
        access_cache_logins: i64::try_from(s.access_cache_logins).unwrap_or(i64::MAX),
        open_sessions: figures.as_ref().map_or(0, |f| f.open_sessions),
        auth_per_second: s.per_second.auth,
        accounting_per_second: s.per_second.acct,
        spool_bytes: i64::try_from(s.spool_bytes).unwrap_or(i64::MAX),
        last_daily_run: figures
            .and_then(|f| f.last_daily_run)
            .map(|r| v1::DailyRun {
                day: r.day,
                instance: r.instance,
                finished_at: r.finished_at,
                outcome: r.outcome,
            }),
        config_loaded_at: s.config_loaded_at.map(timestamp).unwrap_or_default(),
        database_unreachable: !database_problem.is_empty(),
        database_problem,
    }
}

/// Streams the copy in chunks, the first naming its size and the key's path, then removes
/// it — also when the caller goes away half-way.
async fn send_copy(copy: BackupCopy, tx: mpsc::Sender<Result<v1::BackupChunk, Status>>) {
    if let Err(e) = send_chunks(&copy, &tx).await {
        tracing::warn!(error = %e, file = %copy.file.display(), "a backup could not be sent");
        let _ = tx
            .send(Err(Status::unavailable(format!(
                "the copy could not be read back: {e}"
            ))))
            .await;
    }
    if let Err(e) = tokio::fs::remove_file(&copy.file).await {
        tracing::warn!(error = %e, file = %copy.file.display(), "a sent backup copy could not be removed; remove it by hand");
    }
}

async fn send_chunks(
    copy: &BackupCopy,
    tx: &mpsc::Sender<Result<v1::BackupChunk, Status>>,
) -> std::io::Result<()> {
    let mut file = tokio::fs::File::open(&copy.file).await?;
    let mut first = true;
    loop {
        let mut data = Vec::with_capacity(CHUNK);
        (&mut file)
            .take(CHUNK as u64)
            .read_to_end(&mut data)
            .await?;
        if data.is_empty() && !first {
            return Ok(());
        }
        let chunk = v1::BackupChunk {
            data,
            size: if first {
                i64::try_from(copy.size).unwrap_or(i64::MAX)
            } else {
                0
            },
            key_path: if first {
                copy.key_path.display().to_string()
            } else {
                String::new()
            },
        };
        first = false;
        if tx.send(Ok(chunk)).await.is_err() {
            // The caller went away; the copy is removed all the same.
            return Ok(());
        }
    }
}
