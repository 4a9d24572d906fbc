//! The gRPC admin API (`ispd.admin.v1`): the edge. Each handler converts the request to
//! domain types, calls ONE use case in [`crate::app`], and converts the answer back; the
//! token check is a layer, and [`AppError`] becomes a status in one place (here), with the
//! offending field named.

mod audit;
mod authorize;
mod billing;
mod charge;
mod client;
mod codes;
mod discount;
mod dunning;
mod enforcement;
mod invoice_group;
mod login;
mod nas;
mod payment;
mod session;
mod subscription;
mod system;
mod tariff;
mod violation;

use std::sync::Arc;

use ispd_admin_proto::v1;
use tonic::{Request, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::app::{App, AppError};
use crate::changes::ChangeFeed;
use crate::clock::Clock;
use crate::config::Config;
use crate::enforcement::Enforcer;
use crate::live::Live;
use crate::radius::RadiusService;
use crate::storage::{Actor, Page, PageRequest, Store, StoreError};
use crate::token::{Caller, Role, TokenSet};

pub use authorize::AuthorizeLayer;
use ispd_billing::FieldError;

/// Shared state of every admin service.
#[derive(Clone)]
pub struct AdminState {
    pub store: Store,
    /// Swapped on reload: NAS entries declared in the file can change.
    pub config: Arc<Live<Config>>,
    /// Where every committed change that alters what RADIUS answers is published.
    pub changes: ChangeFeed,
    /// The one clock: "today" for every date a request leaves out.
    pub clock: Clock,
    /// Pushes changes to online sessions; the operator's reload and disconnect go here.
    pub enforcer: Arc<Enforcer>,
    /// The access cache, to name a login's id for enforcement.
    pub radius: Arc<RadiusService>,
    /// When this instance started, for `ispctl system status`.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Set at SIGTERM: a billing run in flight ends after the batch in hand.
    pub stopping: Arc<crate::app::Stopping>,
}

/// What an admin method answers: its reply message, or the status that refused it.
type Reply<T> = Result<tonic::Response<T>, Status>;

/// Largest statement import (request) and its answer: 100,000 payments with room to spare.
pub const STATEMENT_LIMIT: usize = 256 * 1024 * 1024;

/// What a client may send, on one call and on one connection, before the daemon's HTTP/2 flow
/// control asks it to wait: one piece of a statement upload. It is also what a connection can
/// make the daemon hold unread, so at most `max_connections` MiB in all (256 by default).
const UPLOAD_WINDOW: u32 = 1024 * 1024;

impl AdminState {
    /// What the use cases work with.
    fn app(&self) -> App<'_> {
        App {
            store: &self.store,
            changes: &self.changes,
            clock: self.clock,
            config: &self.config,
            stopping: &self.stopping,
        }
    }
}

/// The caller [`AuthorizeLayer`] attached after checking the token and the method's role.
fn caller<T>(request: &Request<T>) -> Result<&Caller, Status> {
    request
        .extensions()
        .get::<Caller>()
        .ok_or_else(|| Status::unauthenticated("no authenticated caller"))
}

/// The caller as the audit actor, refused unless their role may change data.
fn writer<T>(request: &Request<T>) -> Result<Actor, Status> {
    let caller = caller(request)?;
    if !caller.role.can_write() {
        return Err(Status::permission_denied(format!(
            "token {:?} is {}: it cannot change data",
            caller.name,
            caller.role.as_str()
        )));
    }
    Ok(Actor(caller.name.clone()))
}

/// As [`writer`], for changes reserved to admins (the role table's `Need::Admin`).
fn admin<T>(request: &Request<T>) -> Result<Actor, Status> {
    let actor = writer(request)?;
    if caller(request)?.role != Role::Admin {
        return Err(Status::permission_denied(
            "only an admin token may make this change",
        ));
    }
    Ok(actor)
}

/// A request that changes data: its [`writer`] (the audit actor) and its message.
fn written<T>(request: Request<T>) -> Result<(Actor, T), Status> {
    let actor = writer(&request)?;
    Ok((actor, request.into_inner()))
}

/// As [`written`], for changes reserved to admins.
fn written_by_admin<T>(request: Request<T>) -> Result<(Actor, T), Status> {
    let actor = admin(&request)?;
    Ok((actor, request.into_inner()))
}

/// A message field the request must carry.
fn required<T>(value: Option<T>, name: &str) -> Result<T, Status> {
    value.ok_or_else(|| field(name, "required"))
}

/// INVALID_ARGUMENT naming the field, in the message and as a google.rpc.BadRequest detail.
pub fn invalid(error: FieldError) -> Status {
    Status::with_error_details(
        tonic::Code::InvalidArgument,
        error.to_string(),
        ErrorDetails::with_bad_request_violation(error.field.clone(), error.problem.clone()),
    )
}

fn field(field: &str, problem: impl Into<String>) -> Status {
    invalid(FieldError::new(field, problem))
}

/// The one mapping of what a use case refused, or what failed under it, to a status.
impl From<AppError> for Status {
    fn from(error: AppError) -> Status {
        match error {
            AppError::Invalid(e) => invalid(e),
            AppError::Taken { field, message } => conflict(field, message),
            AppError::Precondition(message) => Status::failed_precondition(message),
            AppError::Random(_) => Status::internal(error.to_string()),
            AppError::Unavailable(message) => Status::unavailable(message),
            AppError::Store(e) => store_status(e),
        }
    }
}

/// ALREADY_EXISTS naming the field, in the message and as a google.rpc.BadRequest detail.
fn conflict(field: String, message: String) -> Status {
    Status::with_error_details(
        tonic::Code::AlreadyExists,
        format!("{field}: {message}"),
        ErrorDetails::with_bad_request_violation(field, message),
    )
}

fn store_status(error: StoreError) -> Status {
    match error {
        StoreError::NotFound { .. } => Status::not_found(error.to_string()),
        StoreError::Conflict { field, message } => conflict(field, message),
        StoreError::Stale { .. } => Status::aborted(error.to_string()),
        StoreError::Precondition(message) => Status::failed_precondition(message),
        StoreError::Invalid(e) => invalid(e),
        StoreError::Seal(e) => {
            tracing::error!(error = %e, "a stored secret cannot be opened");
            Status::internal("a stored secret cannot be opened; see the server log")
        }
        // A record the change refers to went (or one referring to it came) in another
        // transaction between this one's reads and its write: two operators or instances at
        // once. Nothing was written; the change read again meets the other.
        StoreError::Database(sqlx::Error::Database(ref db)) if db.is_foreign_key_violation() => {
            tracing::info!(error = %error, "an admin call met a concurrent change");
            Status::aborted(
                "another change at the same time added or removed a record this one refers to; \
                 nothing was written: read again and retry",
            )
        }
        StoreError::Database(_) | StoreError::Sqlite(_) => {
            tracing::error!(error = %error, "database error in an admin call");
            Status::unavailable("database error; see the server log")
        }
    }
}

fn page(p: Option<v1::PageRequest>) -> Result<PageRequest, Status> {
    let p = p.unwrap_or_default();
    PageRequest::parse(p.page_size, &p.page_token).map_err(invalid)
}

/// A page of records as the answer's items and its next page token.
fn paged<T, U>(page: Page<T>, to: impl FnMut(T) -> U) -> (Vec<U>, String) {
    (
        page.items.into_iter().map(to).collect(),
        page.next_page_token,
    )
}

fn date(name: &str, text: &str) -> Result<Option<chrono::NaiveDate>, Status> {
    if text.is_empty() {
        return Ok(None);
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| field(name, format!("not a date (YYYY-MM-DD): {text:?}")))?;
    ispd_billing::field::record_date(name, date)
        .map(Some)
        .map_err(invalid)
}

fn date_text(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn period_from(p: i32) -> Result<Option<ispd_billing::period::Period>, Status> {
    use ispd_billing::period::Period;
    Ok(match v1::Period::try_from(p) {
        Ok(v1::Period::Unspecified) => None,
        Ok(v1::Period::Monthly) => Some(Period::Monthly),
        Ok(v1::Period::Quarterly) => Some(Period::Quarterly),
        Ok(v1::Period::HalfYearly) => Some(Period::HalfYearly),
        Ok(v1::Period::Yearly) => Some(Period::Yearly),
        Ok(v1::Period::OneOff) => Some(Period::OneOff),
        Ok(v1::Period::Total) => Some(Period::Total),
        Err(_) => return Err(field("period", format!("unknown period {p}"))),
    })
}

fn period_to(p: Option<ispd_billing::period::Period>) -> i32 {
    use ispd_billing::period::Period;
    (match p {
        None => v1::Period::Unspecified,
        Some(Period::Monthly) => v1::Period::Monthly,
        Some(Period::Quarterly) => v1::Period::Quarterly,
        Some(Period::HalfYearly) => v1::Period::HalfYearly,
        Some(Period::Yearly) => v1::Period::Yearly,
        Some(Period::OneOff) => v1::Period::OneOff,
        Some(Period::Total) => v1::Period::Total,
    }) as i32
}

/// The calls one admin connection may have open at once.
const MAX_STREAMS: u32 = 32;

/// The admin server's router: every admin service behind [`AuthorizeLayer`], plus the
/// standard health service and server reflection (both without a token, as tools expect).
pub type AdminRouter = tonic::transport::server::Router<
    tower_layer::Stack<
        AuthorizeLayer,
        tower_layer::Stack<crate::connections::BusyLayer, tower_layer::Identity>,
    >,
>;

/// Builds the [`AdminRouter`]; `tokens` is shared with the reloader.
pub fn router(state: AdminState, tokens: Arc<Live<TokenSet>>) -> anyhow::Result<AdminRouter> {
    use v1::{
        audit_service_server::AuditServiceServer, billing_service_server::BillingServiceServer,
        charge_service_server::ChargeServiceServer, client_service_server::ClientServiceServer,
        code_list_service_server::CodeListServiceServer,
        discount_service_server::DiscountServiceServer,
        dunning_service_server::DunningServiceServer,
        enforcement_service_server::EnforcementServiceServer,
        invoice_group_service_server::InvoiceGroupServiceServer,
        login_service_server::LoginServiceServer, nas_service_server::NasServiceServer,
        payment_service_server::PaymentServiceServer, session_service_server::SessionServiceServer,
        subscription_service_server::SubscriptionServiceServer,
        system_service_server::SystemServiceServer, tariff_service_server::TariffServiceServer,
    };
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(ispd_admin_proto::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    // The overall service ("") reports SERVING from the start; nothing toggles it yet.
    let (_reporter, health) = tonic_health::server::health_reporter();
    Ok(tonic::transport::Server::builder()
        // A statement upload's piece (a megabyte) in flight without waiting for a window
        // update: with HTTP/2's default 64 KiB a 34 MB upload stops for one 530 times
        // (import 3.18 -> 2.98 s, medians of ten alternated pairs; docs/PERFORMANCE.md, Billing).
        .initial_stream_window_size(Some(UPLOAD_WINDOW))
        .initial_connection_window_size(Some(UPLOAD_WINDOW))
        // Calls at once on one connection: ispctl makes one at a time; without a limit one
        // connection opened 100,000 and took the daemon from 43 to 923 MB (found probing).
        .max_concurrent_streams(MAX_STREAMS)
        // A connection serving a call is not idle (see `connections`).
        .layer(crate::connections::BusyLayer)
        .layer(AuthorizeLayer::new(tokens))
        .add_service(health)
        .add_service(reflection)
        .add_service(ClientServiceServer::new(state.clone()))
        .add_service(TariffServiceServer::new(state.clone()))
        .add_service(SubscriptionServiceServer::new(state.clone()))
        .add_service(LoginServiceServer::new(state.clone()))
        .add_service(NasServiceServer::new(state.clone()))
        // A bank statement of a whole month arrives in one call (camt.053 runs to ~1.5 kB per
        // payment), and its answer lists every payment.
        .add_service(
            PaymentServiceServer::new(state.clone())
                .max_decoding_message_size(STATEMENT_LIMIT)
                .max_encoding_message_size(STATEMENT_LIMIT),
        )
        // A dunning run's answer lists every change of the day.
        .add_service(
            DunningServiceServer::new(state.clone()).max_encoding_message_size(STATEMENT_LIMIT),
        )
        .add_service(BillingServiceServer::new(state.clone()))
        .add_service(AuditServiceServer::new(state.clone()))
        .add_service(SessionServiceServer::new(state.clone()))
        .add_service(EnforcementServiceServer::new(state.clone()))
        .add_service(SystemServiceServer::new(state.clone()))
        .add_service(InvoiceGroupServiceServer::new(state.clone()))
        .add_service(ChargeServiceServer::new(state.clone()))
        .add_service(DiscountServiceServer::new(state.clone()))
        .add_service(CodeListServiceServer::new(state)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field a status names in its google.rpc.BadRequest detail.
    fn violated_field(status: &Status) -> Option<String> {
        let details = status.get_error_details();
        let violations = &details.bad_request()?.field_violations;
        violations.first().map(|v| v.field.clone())
    }

    #[test]
    fn every_app_error_has_its_status_and_a_refused_field_stays_named() {
        let status = Status::from(AppError::Invalid(FieldError::new(
            "login.nas[0]",
            "unknown",
        )));
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(status.message(), "login.nas[0]: unknown");
        assert_eq!(violated_field(&status).as_deref(), Some("login.nas[0]"));

        let status = Status::from(AppError::Taken {
            field: "nas.name".into(),
            message: "\"edge\" is declared in the config file".into(),
        });
        assert_eq!(status.code(), tonic::Code::AlreadyExists);
        assert_eq!(
            status.message(),
            "nas.name: \"edge\" is declared in the config file"
        );
        assert_eq!(violated_field(&status).as_deref(), Some("nas.name"));

        let status = Status::from(AppError::Store(StoreError::Conflict {
            field: "client.number".into(),
            message: "already exists".into(),
        }));
        assert_eq!(status.code(), tonic::Code::AlreadyExists);
        assert_eq!(violated_field(&status).as_deref(), Some("client.number"));

        let status = Status::from(AppError::Store(StoreError::NotFound {
            entity: "client",
            key: "7".into(),
        }));
        assert_eq!(status.code(), tonic::Code::NotFound);
        assert_eq!(status.message(), "client \"7\" not found");

        let status = Status::from(AppError::Precondition("declared in the config file".into()));
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        assert_eq!(status.message(), "declared in the config file");

        let status = Status::from(AppError::Random("no entropy".into()));
        assert_eq!(status.code(), tonic::Code::Internal);
        assert_eq!(status.message(), "no random numbers: no entropy");
    }
}
