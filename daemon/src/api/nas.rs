//! NasService. Entries from the config file are listed with source "config" and are
//! read-only here; secrets are write-only.

use ispd_admin_proto::v1;
use ispd_provisioning::enforcement::CoaMode;
use ispd_provisioning::nas::{DEFAULT_COA_PORT, Nas, NasVendor};
use tonic::{Request, Response, Status};

use super::{AdminState, Reply, field, page, paged, required, written_by_admin};
use crate::app::nas;

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
        coa: match n.coa.trim() {
            "" => None,
            text => Some(
                CoaMode::parse(text)
                    .ok_or_else(|| field("nas.coa", "one of \"coa\", \"disconnect\", \"none\""))?,
            ),
        },
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
        coa: n.coa.map(|c| c.as_str().to_owned()).unwrap_or_default(),
        coa_in_force: n.coa_mode().as_str().to_owned(),
        secret_set: true,
        source: source.to_owned(),
        note: n.note.clone(),
        version: n.version,
    }
}

fn entry_to((n, source): &nas::Entry) -> v1::Nas {
    nas_to(
        n,
        match source {
            nas::Source::Config => "config",
            nas::Source::Api => "api",
        },
    )
}

#[tonic::async_trait]
impl v1::nas_service_server::NasService for AdminState {
    async fn create_nas(&self, request: Request<v1::CreateNasRequest>) -> Reply<v1::Nas> {
        let (actor, r) = written_by_admin(request)?;
        let n = nas_from(required(r.nas, "nas")?)?;
        let stored = nas::create(&self.app(), &actor, n, &r.secret).await?;
        Ok(Response::new(nas_to(&stored, "api")))
    }

    async fn get_nas(&self, request: Request<v1::GetNasRequest>) -> Reply<v1::Nas> {
        let entry = nas::get(&self.app(), &request.into_inner().name).await?;
        Ok(Response::new(entry_to(&entry)))
    }

    async fn update_nas(&self, request: Request<v1::UpdateNasRequest>) -> Reply<v1::Nas> {
        let (actor, r) = written_by_admin(request)?;
        let n = nas_from(required(r.nas, "nas")?)?;
        let new_secret = (!r.new_secret.is_empty()).then_some(r.new_secret.as_str());
        let stored = nas::update(&self.app(), &actor, n, new_secret).await?;
        Ok(Response::new(nas_to(&stored, "api")))
    }

    async fn list_nas(&self, request: Request<v1::ListNasRequest>) -> Reply<v1::ListNasResponse> {
        let page = nas::list(&self.app(), page(request.into_inner().page)?).await?;
        let (nas, next_page_token) = paged(page, |e| entry_to(&e));
        Ok(Response::new(v1::ListNasResponse {
            nas,
            next_page_token,
        }))
    }

    async fn delete_nas(
        &self,
        request: Request<v1::DeleteNasRequest>,
    ) -> Reply<v1::DeleteNasResponse> {
        let (actor, r) = written_by_admin(request)?;
        nas::delete(&self.app(), &actor, &r.name).await?;
        Ok(Response::new(v1::DeleteNasResponse {}))
    }
}
