//! SystemService: the instances working on this database.

use ispd_admin_proto::v1;
use tonic::{Request, Response, Status};

use super::AdminState;

#[tonic::async_trait]
impl v1::system_service_server::SystemService for AdminState {
    async fn list_instances(
        &self,
        _request: Request<v1::ListInstancesRequest>,
    ) -> Result<Response<v1::ListInstancesResponse>, Status> {
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
}
