//! The violation notices of ClientService: conversions, and the four calls the service's
//! impl hands over to (each converts, calls one use case, converts back).

use ispd_admin_proto::v1;
use ispd_billing::violation::{NewNotice, Notice, NoticeState};
use tonic::{Request, Response};

use super::{AdminState, Reply, date, date_text, field, required, written};
use crate::app::violations;

fn violation_to(n: &Notice) -> v1::Violation {
    let on = match n.state {
        NoticeState::Open => None,
        NoticeState::Enforced(on) | NoticeState::Resolved(on) => Some(on),
    };
    v1::Violation {
        id: n.id,
        client_number: n.client_number.clone(),
        reason: n.notice.reason.clone(),
        issued_on: date_text(Some(n.issued_on)),
        deadline: date_text(Some(n.notice.deadline)),
        points: n.notice.points,
        stop_services: n.notice.stop_services,
        state: n.state.as_str().to_owned(),
        state_on: date_text(on),
        resolution: n.resolution.clone(),
        blocked_subscriptions: n.blocked.clone(),
    }
}

pub(super) async fn add(
    state: &AdminState,
    request: Request<v1::AddViolationRequest>,
) -> Reply<v1::Violation> {
    let (actor, r) = written(request)?;
    let v = required(r.violation, "violation")?;
    if v.client_number.trim().is_empty() {
        return Err(field("violation.client_number", "required"));
    }
    let new = NewNotice {
        reason: v.reason.trim().to_owned(),
        deadline: date("violation.deadline", &v.deadline)?
            .ok_or_else(|| field("violation.deadline", "required"))?,
        points: v.points,
        stop_services: v.stop_services,
    };
    let notice = violations::add(&state.app(), &actor, v.client_number.trim(), new).await?;
    Ok(Response::new(violation_to(&notice)))
}

pub(super) async fn list(
    state: &AdminState,
    request: Request<v1::ListViolationsRequest>,
) -> Reply<v1::ListViolationsResponse> {
    let number = request.into_inner().client_number;
    let (notices, penalty_points) = violations::list(&state.app(), number.trim()).await?;
    Ok(Response::new(v1::ListViolationsResponse {
        violations: notices.iter().map(violation_to).collect(),
        penalty_points,
    }))
}

pub(super) async fn resolve(
    state: &AdminState,
    request: Request<v1::ResolveViolationRequest>,
) -> Reply<v1::Violation> {
    let (actor, r) = written(request)?;
    let notice = violations::resolve(&state.app(), &actor, r.id, &r.note).await?;
    Ok(Response::new(violation_to(&notice)))
}

pub(super) async fn enforce(
    state: &AdminState,
    request: Request<v1::EnforceViolationsRequest>,
) -> Reply<v1::EnforceViolationsResponse> {
    let (actor, r) = written(request)?;
    let app = state.app();
    let day = date("as_of", &r.as_of)?.unwrap_or_else(|| app.clock.today());
    let enforced = violations::enforce_due(&app, &actor, day).await?;
    Ok(Response::new(v1::EnforceViolationsResponse {
        violations: enforced.iter().map(violation_to).collect(),
    }))
}
