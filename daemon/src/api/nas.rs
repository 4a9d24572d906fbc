//! NasService. Entries from the config file are listed with source "config" and are
//! read-only here; secrets are write-only.

use ispd_admin_proto::v1;
use ispd_provisioning::nas::{DEFAULT_COA_PORT, Nas, NasVendor};
use tonic::{Request, Response, Status};

use super::{AdminState, admin, field, page};
use crate::changes::Change;

fn vendor_to(v: NasVendor) -> i32 {
    (match v {
        NasVendor::Generic => v1::NasVendor::Generic,
        NasVendor::Mikrotik => v1::NasVendor::Mikrotik,
        NasVendor::Cisco => v1::NasVendor::Cisco,
        NasVendor::Juniper => v1::NasVendor::Juniper,
        NasVendor::AccelPpp => v1::NasVendor::AccelPpp,
    }) as i32
}

fn nas_from(n: v1::Nas) -> Result<Nas, Status> {
    let vendor = match v1::NasVendor::try_from(n.vendor) {
        Ok(v1::NasVendor::Unspecified | v1::NasVendor::Generic) => NasVendor::Generic,
        Ok(v1::NasVendor::Mikrotik) => NasVendor::Mikrotik,
        Ok(v1::NasVendor::Cisco) => NasVendor::Cisco,
        Ok(v1::NasVendor::Juniper) => NasVendor::Juniper,
        Ok(v1::NasVendor::AccelPpp) => NasVendor::AccelPpp,
        Err(_) => return Err(field("nas.vendor", "unknown vendor")),
    };
    let coa_port = match n.coa_port {
        0 => DEFAULT_COA_PORT,
        p => u16::try_from(p).map_err(|_| field("nas.coa_port", "must be 1-65535"))?,
    };
    Ok(Nas {
        id: n.id,
        name: n.name.trim().to_owned(),
        address: n
            .address
            .trim()
            .parse()
            .map_err(|_| field("nas.address", format!("not an IP address: {:?}", n.address)))?,
        vendor,
        coa_port,
        require_message_authenticator: n.require_message_authenticator.unwrap_or(true),
        limit_proxy_state: n.limit_proxy_state.unwrap_or(true),
        note: n.note,
        version: n.version,
    })
}

fn nas_to(n: &Nas, source: &str) -> v1::Nas {
    v1::Nas {
        id: n.id,
        name: n.name.clone(),
        address: n.address.to_string(),
        vendor: vendor_to(n.vendor),
        coa_port: u32::from(n.coa_port),
        require_message_authenticator: Some(n.require_message_authenticator),
        limit_proxy_state: Some(n.limit_proxy_state),
        secret_set: true,
        source: source.to_owned(),
        note: n.note.clone(),
        version: n.version,
    }
}

impl AdminState {
    fn config_nas(&self) -> Vec<Nas> {
        let config = self.config.load();
        (0..config.nas.len())
            .map(|i| config.nas_record(i))
            .collect()
    }

    /// Config entries own their name and address: the API may not shadow or change them.
    fn refuse_config_clash(&self, nas: &Nas, changing: Option<&str>) -> Result<(), Status> {
        for declared in self.config_nas() {
            if changing == Some(declared.name.as_str()) {
                return Err(Status::failed_precondition(format!(
                    "NAS {:?} is declared in the config file; change it there",
                    declared.name
                )));
            }
            if declared.name == nas.name {
                return Err(Status::already_exists(format!(
                    "nas.name: {:?} is declared in the config file",
                    nas.name
                )));
            }
            if declared.address == nas.address {
                return Err(Status::already_exists(format!(
                    "nas.address: {} is declared in the config file as {:?}",
                    nas.address, declared.name
                )));
            }
        }
        Ok(())
    }
}

#[tonic::async_trait]
impl v1::nas_service_server::NasService for AdminState {
    async fn create_nas(
        &self,
        request: Request<v1::CreateNasRequest>,
    ) -> Result<Response<v1::Nas>, Status> {
        let actor = admin(&request)?;
        let r = request.into_inner();
        let nas = nas_from(r.nas.ok_or_else(|| field("nas", "required"))?)?;
        self.refuse_config_clash(&nas, None)?;
        let stored = self.store.create_nas(&actor, nas, &r.secret).await?;
        self.changes.publish(Change::Nas).await;
        Ok(Response::new(nas_to(&stored, "api")))
    }

    async fn get_nas(
        &self,
        request: Request<v1::GetNasRequest>,
    ) -> Result<Response<v1::Nas>, Status> {
        let name = request.into_inner().name;
        if let Some(n) = self.config_nas().into_iter().find(|n| n.name == name) {
            return Ok(Response::new(nas_to(&n, "config")));
        }
        Ok(Response::new(nas_to(
            &self.store.get_nas(&name).await?,
            "api",
        )))
    }

    async fn update_nas(
        &self,
        request: Request<v1::UpdateNasRequest>,
    ) -> Result<Response<v1::Nas>, Status> {
        let actor = admin(&request)?;
        let r = request.into_inner();
        let nas = nas_from(r.nas.ok_or_else(|| field("nas", "required"))?)?;
        if nas.id == 0 {
            self.refuse_config_clash(&nas, Some(&nas.name))?;
            return Err(field("nas.id", "required: it says which NAS to update"));
        }
        self.refuse_config_clash(&nas, None)?;
        let new_secret = (!r.new_secret.is_empty()).then_some(r.new_secret.as_str());
        let stored = self.store.update_nas(&actor, nas, new_secret).await?;
        self.changes.publish(Change::Nas).await;
        Ok(Response::new(nas_to(&stored, "api")))
    }

    async fn list_nas(
        &self,
        request: Request<v1::ListNasRequest>,
    ) -> Result<Response<v1::ListNasResponse>, Status> {
        let page = page(request.into_inner().page)?;
        let mut nas: Vec<v1::Nas> = Vec::new();
        if page.after.is_none() {
            nas.extend(self.config_nas().iter().map(|n| nas_to(n, "config")));
        }
        let stored = self.store.list_nas(page).await?;
        nas.extend(stored.items.iter().map(|n| nas_to(n, "api")));
        Ok(Response::new(v1::ListNasResponse {
            nas,
            next_page_token: stored.next_page_token,
        }))
    }

    async fn delete_nas(
        &self,
        request: Request<v1::DeleteNasRequest>,
    ) -> Result<Response<v1::DeleteNasResponse>, Status> {
        let actor = admin(&request)?;
        let name = request.into_inner().name;
        if self.config.load().nas.iter().any(|n| n.name == name) {
            return Err(Status::failed_precondition(format!(
                "NAS {name:?} is declared in the config file; remove it there"
            )));
        }
        self.store.delete_nas(&actor, &name).await?;
        self.changes.publish(Change::Nas).await;
        Ok(Response::new(v1::DeleteNasResponse {}))
    }
}
