//! LoginService. Passwords go in, never out: only a password the server generated is
//! returned, once, in the response that created it.

use ispd_admin_proto::v1;
use ispd_billing::tariff::Rate;
use ispd_provisioning::login::{AuthType, ExtraAttribute, Login};
use ispd_provisioning::policy::InForce;
use ispd_provisioning::speed::TemporarySpeed;
use tonic::{Request, Response, Status};

use super::{AdminState, Reply, field, page, paged, required, written};
use crate::app::logins;
use crate::storage::{AuthLogEntry, AuthLogFilter, AuthResult, LoginRecord};

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

fn view_to(v: logins::LoginView) -> v1::LoginView {
    let (access_state, (answer, refused_reason, rate)) = match v.now {
        None => (String::new(), ("", "", None)),
        Some((state, now)) => (
            state.as_str().to_owned(),
            match now {
                InForce::Full(rate) => ("full", "", Some(rate)),
                InForce::WalledGarden(rate) => ("walled_garden", "", Some(rate)),
                InForce::Refused(reason) => ("refused", reason.as_str(), None),
            },
        ),
    };
    v1::LoginView {
        login: Some(login_to(&v.record)),
        access_state,
        answer: answer.to_owned(),
        refused_reason: refused_reason.to_owned(),
        download_kbps: rate.map_or(0, |r| r.download_kbps),
        upload_kbps: rate.map_or(0, |r| r.upload_kbps),
        sessions: v
            .sessions
            .into_iter()
            .map(super::session::session_to)
            .collect(),
        last_auth: v.last_auth.map(auth_attempt_to),
        tariff: v.tariff,
    }
}

fn auth_attempt_to(e: AuthLogEntry) -> v1::AuthAttempt {
    v1::AuthAttempt {
        id: e.id,
        at: e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        last_at: e
            .last_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        count: e.count,
        login: e.login,
        nas: e.nas_name,
        calling_station: e.calling_station,
        method: e.method,
        result: e.result.as_str().to_owned(),
        reason: e.reason,
    }
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
        temporary_speed: r.temporary.map(|t| v1::TemporarySpeed {
            download_kbps: t.rate.download_kbps,
            upload_kbps: t.rate.upload_kbps,
            until: t.until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }),
    }
}

fn temporary_from(t: v1::TemporarySpeed) -> Result<TemporarySpeed, Status> {
    let until = chrono::DateTime::parse_from_rfc3339(t.until.trim())
        .map_err(|_| {
            field(
                "speed.until",
                format!(
                    "an RFC 3339 moment, e.g. 2026-12-05T18:00:00+01:00, not {:?}",
                    t.until
                ),
            )
        })?
        .with_timezone(&chrono::Utc);
    Ok(TemporarySpeed {
        rate: Rate {
            download_kbps: t.download_kbps,
            upload_kbps: t.upload_kbps,
        },
        until,
    })
}

#[tonic::async_trait]
impl v1::login_service_server::LoginService for AdminState {
    async fn create_login(
        &self,
        request: Request<v1::CreateLoginRequest>,
    ) -> Reply<v1::CreateLoginResponse> {
        let (actor, r) = written(request)?;
        let login = login_from(required(r.login, "login")?)?;
        let created = logins::create(&self.app(), &actor, login, r.password).await?;
        Ok(Response::new(v1::CreateLoginResponse {
            login: Some(login_to(&created.login)),
            generated_password: created.generated_password.unwrap_or_default(),
        }))
    }

    async fn get_login(&self, request: Request<v1::GetLoginRequest>) -> Reply<v1::Login> {
        let r = logins::get(&self.app(), &request.into_inner().username).await?;
        Ok(Response::new(login_to(&r)))
    }

    async fn update_login(&self, request: Request<v1::UpdateLoginRequest>) -> Reply<v1::Login> {
        let (actor, r) = written(request)?;
        let login = login_from(required(r.login, "login")?)?;
        if login.id == 0 {
            return Err(field("login.id", "required: it says which login to update"));
        }
        let new_password = (!r.new_password.is_empty()).then_some(r.new_password.as_str());
        let stored = logins::update(&self.app(), &actor, login, new_password).await?;
        Ok(Response::new(login_to(&stored)))
    }

    async fn list_logins(
        &self,
        request: Request<v1::ListLoginsRequest>,
    ) -> Reply<v1::ListLoginsResponse> {
        let r = request.into_inner();
        let subscription = (r.subscription_id != 0).then_some(r.subscription_id);
        let page = logins::list(&self.app(), &r.client_number, subscription, page(r.page)?).await?;
        let (logins, next_page_token) = paged(page, |l| login_to(&l));
        Ok(Response::new(v1::ListLoginsResponse {
            logins,
            next_page_token,
        }))
    }

    async fn describe_login(&self, request: Request<v1::GetLoginRequest>) -> Reply<v1::LoginView> {
        let username = request.into_inner().username;
        let view = logins::view(&self.app(), &self.radius, &username).await?;
        Ok(Response::new(view_to(view)))
    }

    async fn list_auth_attempts(
        &self,
        request: Request<v1::ListAuthAttemptsRequest>,
    ) -> Reply<v1::ListAuthAttemptsResponse> {
        let r = request.into_inner();
        let result = match r.result.trim() {
            "" => None,
            text => Some(
                AuthResult::parse(text)
                    .ok_or_else(|| field("result", format!("accept or reject, not {text:?}")))?,
            ),
        };
        let filter = AuthLogFilter {
            login: r.login.trim().to_owned(),
            nas_name: r.nas.trim().to_owned(),
            result,
            reason: r.reason.trim().to_owned(),
        };
        let found = self
            .radius
            .auth_log
            .list(&filter, page(r.page)?)
            .await
            .map_err(crate::app::AppError::from)?;
        let (attempts, next_page_token) = paged(found.page, auth_attempt_to);
        Ok(Response::new(v1::ListAuthAttemptsResponse {
            attempts,
            next_page_token,
            memory_only: found.memory_only,
        }))
    }

    async fn delete_login(
        &self,
        request: Request<v1::DeleteLoginRequest>,
    ) -> Reply<v1::DeleteLoginResponse> {
        let (actor, r) = written(request)?;
        logins::delete(&self.app(), &actor, &r.username).await?;
        Ok(Response::new(v1::DeleteLoginResponse {}))
    }

    async fn reset_login_password(
        &self,
        request: Request<v1::ResetLoginPasswordRequest>,
    ) -> Reply<v1::ResetLoginPasswordResponse> {
        let (actor, r) = written(request)?;
        let password = logins::reset_password(&self.app(), &actor, &r.username).await?;
        Ok(Response::new(v1::ResetLoginPasswordResponse { password }))
    }

    async fn set_temporary_speed(
        &self,
        request: Request<v1::SetTemporarySpeedRequest>,
    ) -> Reply<v1::Login> {
        let (actor, r) = written(request)?;
        let speed = r.speed.map(temporary_from).transpose()?;
        let record =
            logins::set_temporary_speed(&self.app(), &actor, r.username.trim(), speed).await?;
        Ok(Response::new(login_to(&record)))
    }
}
