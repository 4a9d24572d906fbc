//! LoginService. Passwords go in, never out: only a password the server generated is
//! returned, once, in the response that created it.

use ispd_admin_proto::v1;
use ispd_provisioning::login::{AuthType, ExtraAttribute, Login, password_from_random};
use tonic::{Request, Response, Status};

use super::{AdminState, field, page, writer};
use crate::storage::{AccessScope, LoginRecord, StoreError};

fn login_from(l: v1::Login) -> Result<Login, Status> {
    let auth_type = match v1::AuthType::try_from(l.auth_type) {
        Ok(v1::AuthType::Unspecified | v1::AuthType::Ppp) => AuthType::Ppp,
        Ok(v1::AuthType::Mac) => AuthType::Mac,
        Err(_) => return Err(field("login.auth_type", "ppp or mac")),
    };
    let opt = |text: &str| (!text.trim().is_empty()).then(|| text.trim().to_owned());
    Ok(Login {
        id: l.id,
        username: l.username.trim().to_owned(),
        auth_type,
        mac: opt(&l.mac)
            .map(|m| m.parse())
            .transpose()
            .map_err(|e| field("login.mac", format!("{e}")))?,
        ipv4: opt(&l.ipv4)
            .map(|a| a.parse())
            .transpose()
            .map_err(|_| field("login.ipv4", format!("not an IPv4 address: {:?}", l.ipv4)))?,
        ipv6_prefix: opt(&l.ipv6_prefix)
            .map(|p| p.parse())
            .transpose()
            .map_err(|e: String| field("login.ipv6_prefix", e))?,
        nas: l.nas.into_iter().map(|n| n.trim().to_owned()).collect(),
        attributes: l
            .attributes
            .into_iter()
            .map(|a| ExtraAttribute {
                name: a.name.trim().to_owned(),
                value: a.value,
            })
            .collect(),
        subscription_id: l.subscription_id,
        disabled: l.disabled,
        note: l.note,
        version: l.version,
    })
}

fn login_to(r: &LoginRecord) -> v1::Login {
    let l = &r.login;
    v1::Login {
        id: l.id,
        username: l.username.clone(),
        auth_type: match l.auth_type {
            AuthType::Ppp => v1::AuthType::Ppp,
            AuthType::Mac => v1::AuthType::Mac,
        } as i32,
        mac: l.mac.map(|m| m.to_string()).unwrap_or_default(),
        ipv4: l.ipv4.map(|a| a.to_string()).unwrap_or_default(),
        ipv6_prefix: l.ipv6_prefix.map(|p| p.to_string()).unwrap_or_default(),
        nas: l.nas.clone(),
        attributes: l
            .attributes
            .iter()
            .map(|a| v1::RadiusAttribute {
                name: a.name.clone(),
                value: a.value.clone(),
            })
            .collect(),
        subscription_id: l.subscription_id,
        disabled: l.disabled,
        note: l.note.clone(),
        version: l.version,
        client_number: r.client_number.clone(),
    }
}

/// A fresh password from the operating system's random source.
fn generate_password() -> Result<String, Status> {
    loop {
        let mut random = [0u8; 64];
        getrandom::fill(&mut random)
            .map_err(|e| Status::internal(format!("no random numbers: {e}")))?;
        if let Some(password) = password_from_random(&random) {
            return Ok(password);
        }
    }
}

impl AdminState {
    /// A login may only name NAS devices ispd knows, from the config file or the API.
    async fn check_nas_names(&self, login: &Login) -> Result<(), Status> {
        for (i, name) in login.nas.iter().enumerate() {
            if self.config.load().nas.iter().any(|n| &n.name == name) {
                continue;
            }
            match self.store.get_nas(name).await {
                Ok(_) => {}
                Err(StoreError::NotFound { .. }) => {
                    return Err(field(
                        &format!("login.nas[{i}]"),
                        format!("unknown NAS {name:?}"),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

#[tonic::async_trait]
impl v1::login_service_server::LoginService for AdminState {
    async fn create_login(
        &self,
        request: Request<v1::CreateLoginRequest>,
    ) -> Result<Response<v1::CreateLoginResponse>, Status> {
        let actor = writer(&request)?;
        let r = request.into_inner();
        let login = login_from(r.login.ok_or_else(|| field("login", "required"))?)?;
        self.check_nas_names(&login).await?;
        let (password, generated) = if r.password.is_empty() {
            (generate_password()?, true)
        } else {
            (r.password, false)
        };
        let stored = self.store.create_login(&actor, login, &password).await?;
        self.refresh(AccessScope::Login(stored.login.id)).await;
        Ok(Response::new(v1::CreateLoginResponse {
            login: Some(login_to(&stored)),
            generated_password: if generated { password } else { String::new() },
        }))
    }

    async fn get_login(
        &self,
        request: Request<v1::GetLoginRequest>,
    ) -> Result<Response<v1::Login>, Status> {
        let r = self.store.get_login(&request.into_inner().username).await?;
        Ok(Response::new(login_to(&r)))
    }

    async fn update_login(
        &self,
        request: Request<v1::UpdateLoginRequest>,
    ) -> Result<Response<v1::Login>, Status> {
        let actor = writer(&request)?;
        let r = request.into_inner();
        let login = login_from(r.login.ok_or_else(|| field("login", "required"))?)?;
        if login.id == 0 {
            return Err(field("login.id", "required: it says which login to update"));
        }
        self.check_nas_names(&login).await?;
        let new_password = (!r.new_password.is_empty()).then_some(r.new_password.as_str());
        let stored = self.store.update_login(&actor, login, new_password).await?;
        self.refresh(AccessScope::Login(stored.login.id)).await;
        Ok(Response::new(login_to(&stored)))
    }

    async fn list_logins(
        &self,
        request: Request<v1::ListLoginsRequest>,
    ) -> Result<Response<v1::ListLoginsResponse>, Status> {
        let r = request.into_inner();
        let subscription = (r.subscription_id != 0).then_some(r.subscription_id);
        let page = self
            .store
            .list_logins(&r.client_number, subscription, page(r.page)?)
            .await?;
        Ok(Response::new(v1::ListLoginsResponse {
            logins: page.items.iter().map(login_to).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn delete_login(
        &self,
        request: Request<v1::DeleteLoginRequest>,
    ) -> Result<Response<v1::DeleteLoginResponse>, Status> {
        let actor = writer(&request)?;
        let username = request.into_inner().username;
        let id = self.store.get_login(&username).await?.login.id;
        self.store.delete_login(&actor, &username).await?;
        self.refresh(AccessScope::Login(id)).await;
        Ok(Response::new(v1::DeleteLoginResponse {}))
    }

    async fn reset_login_password(
        &self,
        request: Request<v1::ResetLoginPasswordRequest>,
    ) -> Result<Response<v1::ResetLoginPasswordResponse>, Status> {
        let actor = writer(&request)?;
        let password = generate_password()?;
        let username = request.into_inner().username;
        self.store
            .set_login_password(&actor, &username, &password)
            .await?;
        let id = self.store.get_login(&username).await?.login.id;
        self.refresh(AccessScope::Login(id)).await;
        Ok(Response::new(v1::ResetLoginPasswordResponse { password }))
    }
}
