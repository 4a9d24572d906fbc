//! AuditService.

use ispd_admin_proto::v1;
use tonic::{Request, Response};

use super::{AdminState, Reply, page, paged};
use crate::app::audit;
use crate::storage::AuditFilter;

#[tonic::async_trait]
impl v1::audit_service_server::AuditService for AdminState {
    async fn list_audit(
        &self,
        request: Request<v1::ListAuditRequest>,
    ) -> Reply<v1::ListAuditResponse> {
        let r = request.into_inner();
        let filter = AuditFilter {
            client_number: r.client_number,
            entity: r.entity,
        };
        let page = audit::list(&self.app(), &filter, page(r.page)?).await?;
        let (entries, next_page_token) = paged(page, |e| v1::AuditEntry {
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            entity: e.entity,
            entity_key: e.entity_key,
            client_number: e.client_number.unwrap_or_default(),
            before: e.before_json.unwrap_or_default(),
            after: e.after_json.unwrap_or_default(),
        });
        Ok(Response::new(v1::ListAuditResponse {
            entries,
            next_page_token,
        }))
    }
}
