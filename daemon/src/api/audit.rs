//! AuditService.

use ispd_admin_proto::v1;
use tonic::{Request, Response, Status};

use super::{AdminState, page};
use crate::storage::AuditFilter;

#[tonic::async_trait]
impl v1::audit_service_server::AuditService for AdminState {
    async fn list_audit(
        &self,
        request: Request<v1::ListAuditRequest>,
    ) -> Result<Response<v1::ListAuditResponse>, Status> {
        let r = request.into_inner();
        let filter = AuditFilter {
            client_number: r.client_number,
            entity: r.entity,
        };
        let page = self.store.list_audit(&filter, page(r.page)?).await?;
        Ok(Response::new(v1::ListAuditResponse {
            entries: page
                .items
                .into_iter()
                .map(|e| v1::AuditEntry {
                    id: e.id,
                    at: e.at,
                    actor: e.actor,
                    action: e.action,
                    entity: e.entity,
                    entity_key: e.entity_key,
                    client_number: e.client_number.unwrap_or_default(),
                    before: e.before_json.unwrap_or_default(),
                    after: e.after_json.unwrap_or_default(),
                })
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }
}
