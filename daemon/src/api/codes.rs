//! CodeListService.

use ispd_admin_proto::v1;
use tonic::{Request, Response, Status};

use super::{AdminState, Reply, field, required, written_by_admin};
use crate::app::codes;
use crate::storage::CodeList;

fn list_from(list: i32) -> Result<CodeList, Status> {
    match v1::CodeList::try_from(list) {
        Ok(v1::CodeList::ClientGroup) => Ok(CodeList::ClientGroup),
        Ok(v1::CodeList::ClientStatus) => Ok(CodeList::ClientStatus),
        Ok(v1::CodeList::PaymentType) => Ok(CodeList::PaymentType),
        Ok(v1::CodeList::CancellationReason) => Ok(CodeList::CancellationReason),
        _ => Err(field(
            "list",
            "one of client_group, client_status, payment_type, cancellation_reason (invoice \
             groups have their own service)",
        )),
    }
}

#[tonic::async_trait]
impl v1::code_list_service_server::CodeListService for AdminState {
    async fn list_codes(
        &self,
        request: Request<v1::ListCodesRequest>,
    ) -> Reply<v1::ListCodesResponse> {
        let list_id = request.into_inner().list;
        let list = list_from(list_id)?;
        let codes = codes::list(&self.app(), list).await?;
        Ok(Response::new(v1::ListCodesResponse {
            codes: codes
                .into_iter()
                .map(|(code, label)| v1::Code {
                    list: list_id,
                    code,
                    label,
                })
                .collect(),
        }))
    }

    async fn put_code(&self, request: Request<v1::PutCodeRequest>) -> Reply<v1::Code> {
        let (actor, r) = written_by_admin(request)?;
        let code = required(r.code, "code")?;
        let list = list_from(code.list)?;
        codes::put(&self.app(), &actor, list, (&code.code, &code.label)).await?;
        Ok(Response::new(code))
    }

    async fn delete_code(
        &self,
        request: Request<v1::DeleteCodeRequest>,
    ) -> Reply<v1::DeleteCodeResponse> {
        let (actor, r) = written_by_admin(request)?;
        codes::delete(&self.app(), &actor, list_from(r.list)?, &r.code).await?;
        Ok(Response::new(v1::DeleteCodeResponse {}))
    }
}
