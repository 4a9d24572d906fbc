//! EnforcementService: the operator's reload, disconnect and reconcile, and the record of
//! every CoA and Disconnect sent.

use ispd_admin_proto::v1;
use ispd_provisioning::enforcement::settles;
use tonic::{Request, Response, Status};

use super::{AdminState, Reply, field, page, paged, writer};
use crate::enforcement::Delivered;
use crate::storage::EnforcementAttemptRow;

fn result(delivered: Vec<Delivered>) -> Response<v1::EnforcementResult> {
    Response::new(v1::EnforcementResult {
        sessions: delivered
            .into_iter()
            .map(|d| v1::SessionOutcome {
                session_id: d.session_id,
                acct_session_id: d.acct_session_id,
                nas: d.nas,
                kind: d.kind.as_str().to_owned(),
                outcome: d.outcome.as_str().to_owned(),
                error_cause: d.error_cause.unwrap_or(0),
                settled: settles(d.kind, d.outcome, d.error_cause),
            })
            .collect(),
    })
}

fn attempt_to(a: EnforcementAttemptRow) -> v1::Attempt {
    v1::Attempt {
        id: a.id,
        at: a
            .attempt
            .at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        login: a.attempt.username,
        session_id: a.attempt.session_id.unwrap_or(0),
        acct_session_id: a.attempt.acct_session_id,
        nas: a.attempt.nas_name,
        kind: a.attempt.kind.as_str().to_owned(),
        reason: a.attempt.reason,
        sent: a.attempt.sent,
        outcome: a.attempt.outcome.as_str().to_owned(),
        error_cause: a.attempt.error_cause.unwrap_or(0),
        tries: a.attempt.tries,
    }
}

fn login_name(text: &str) -> Result<&str, Status> {
    match text.trim() {
        "" => Err(field("login", "required")),
        name => Ok(name),
    }
}

#[tonic::async_trait]
impl v1::enforcement_service_server::EnforcementService for AdminState {
    async fn reload_login(
        &self,
        request: Request<v1::ReloadLoginRequest>,
    ) -> Reply<v1::EnforcementResult> {
        writer(&request)?;
        let login = login_name(&request.get_ref().login)?;
        Ok(result(self.enforcer.reload(login).await?))
    }

    async fn disconnect_session(
        &self,
        request: Request<v1::DisconnectSessionRequest>,
    ) -> Reply<v1::EnforcementResult> {
        writer(&request)?;
        let r = request.get_ref();
        let delivered = match (r.session_id, r.login.trim()) {
            (0, "") => return Err(field("session_id", "a session id or a login is required")),
            (id, "") if id > 0 => self.enforcer.disconnect_session(id).await?,
            (0, login) => self.enforcer.disconnect_login(login).await?,
            (id, "") => return Err(field("session_id", format!("not a session id: {id}"))),
            _ => return Err(field("login", "give a session id or a login, not both")),
        };
        Ok(result(delivered))
    }

    async fn reconcile(
        &self,
        request: Request<v1::ReconcileRequest>,
    ) -> Reply<v1::ReconcileResponse> {
        writer(&request)?;
        let report = self
            .enforcer
            .reconcile()
            .await
            .map_err(crate::app::AppError::from)?;
        Ok(Response::new(v1::ReconcileResponse {
            sessions: report.sessions,
            queued: report.queued,
        }))
    }

    async fn enforcement_status(
        &self,
        _request: Request<v1::EnforcementStatusRequest>,
    ) -> Reply<v1::EnforcementStatusResponse> {
        let (queues, unconfirmed) = self.enforcer.status();
        Ok(Response::new(v1::EnforcementStatusResponse {
            queues: queues
                .into_iter()
                .map(|(nas, queued)| v1::NasQueue {
                    nas,
                    queued: queued as u64,
                })
                .collect(),
            unconfirmed: unconfirmed as u64,
        }))
    }

    async fn list_attempts(
        &self,
        request: Request<v1::ListAttemptsRequest>,
    ) -> Reply<v1::ListAttemptsResponse> {
        let r = request.into_inner();
        let page = self.enforcer.history(r.login.trim(), page(r.page)?).await?;
        let (attempts, next_page_token) = paged(page, attempt_to);
        Ok(Response::new(v1::ListAttemptsResponse {
            attempts,
            next_page_token,
        }))
    }
}
