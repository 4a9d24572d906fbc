//! The gate in front of every admin call: the bearer token and the role the method needs,
//! both read from the request headers before the message is read. A readonly token sending
//! a 256 MiB ImportStatement is refused before the first byte of its body is buffered.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::Status;

use crate::live::Live;
use crate::token::{Caller, Role, TokenSet};

/// The package whose methods need a token; health and reflection answer without one, as
/// tools expect.
const ADMIN_PREFIX: &str = "/ispd.admin.v1.";

/// What a method needs of the caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any valid token.
    Read,
    /// A role that may change data (admin, operator).
    Write,
    /// An admin token: NAS secrets, code lists, closing the books, erasing personal data,
    /// a backup of everything.
    Admin,
}

impl Need {
    fn allows(self, role: Role) -> bool {
        match self {
            Need::Read => true,
            Need::Write => role.can_write(),
            Need::Admin => role == Role::Admin,
        }
    }
}

/// The role table: every method of `ispd.admin.v1`, by `Service/Method`. A method missing
/// here is refused to every token, so a new method cannot slip through unchecked.
pub fn need(method: &str) -> Option<Need> {
    books_need(method).or_else(|| network_need(method))
}

/// The clients and their books.
fn books_need(method: &str) -> Option<Need> {
    use Need::*;
    Some(match method {
        "AuditService/ListAudit" => Read,

        "BillingService/RunBilling" | "BillingService/CancelInvoice" => Write,
        "BillingService/ListInvoices" | "BillingService/GetInvoice" => Read,
        "BillingService/CloseBooks" => Admin,
        "BillingService/AdjustBalance" => Write,
        "BillingService/GetBooks" => Read,
        "BillingService/IssueInvoice" => Write,
        "BillingService/ListInterest" => Read,
        "BillingService/BillInterest" => Write,
        "BillingService/WaiveInterest" => Write,

        "ChargeService/AddCharge" | "ChargeService/DeleteCharge" => Write,
        "ChargeService/ListCharges" => Read,

        "ClientService/CreateClient"
        | "ClientService/UpdateClient"
        | "ClientService/DeleteClient" => Write,
        "ClientService/EraseClientData" => Admin,
        "ClientService/AddViolation"
        | "ClientService/ResolveViolation"
        | "ClientService/EnforceViolations" => Write,
        "ClientService/ListViolations" => Read,
        "ClientService/GetClient"
        | "ClientService/ListClients"
        | "ClientService/SearchClients"
        | "ClientService/NextClientNumber" => Read,

        "CodeListService/PutCode" | "CodeListService/DeleteCode" => Admin,
        "CodeListService/ListCodes" => Read,

        "DiscountService/AddDiscount" | "DiscountService/DeleteDiscount" => Write,
        "DiscountService/ListDiscounts" => Read,

        "InvoiceGroupService/CreateInvoiceGroup"
        | "InvoiceGroupService/UpdateInvoiceGroup"
        | "InvoiceGroupService/DeleteInvoiceGroup" => Write,
        "InvoiceGroupService/GetInvoiceGroup" | "InvoiceGroupService/ListInvoiceGroups" => Read,

        "PaymentService/AddPayment"
        | "PaymentService/ImportStatement"
        | "PaymentService/ImportStatementStream"
        | "PaymentService/AssignPayment"
        | "PaymentService/UnassignPayment"
        | "PaymentService/RefundCredit" => Write,
        "PaymentService/ListUnmatched"
        | "PaymentService/ClientBalance"
        | "PaymentService/ClientStatement" => Read,

        "DunningService/StopDunning"
        | "DunningService/PauseDunning"
        | "DunningService/ResumeDunning" => Write,
        // A dry run is a read; the handler asks for a writer when `dry_run` is false.
        "DunningService/RunDunning" => Read,

        _ => return None,
    })
}

/// The network: logins, NAS devices, sessions, subscriptions and tariffs, the daemon.
fn network_need(method: &str) -> Option<Need> {
    use Need::*;
    Some(match method {
        "LoginService/CreateLogin"
        | "LoginService/UpdateLogin"
        | "LoginService/DeleteLogin"
        | "LoginService/ResetLoginPassword"
        | "LoginService/SetTemporarySpeed" => Write,
        "LoginService/GetLogin"
        | "LoginService/ListLogins"
        | "LoginService/ListAuthAttempts"
        | "LoginService/DescribeLogin" => Read,

        "NasService/CreateNas" | "NasService/UpdateNas" | "NasService/DeleteNas" => Admin,
        "NasService/GetNas" | "NasService/ListNas" => Read,

        "EnforcementService/ReloadLogin"
        | "EnforcementService/DisconnectSession"
        | "EnforcementService/Reconcile" => Write,
        "EnforcementService/ListAttempts" | "EnforcementService/EnforcementStatus" => Read,

        "SystemService/ListInstances" | "SystemService/Status" => Read,
        // The copy holds every client's data.
        "SystemService/Backup" => Admin,

        "SessionService/ListOpenSessions"
        | "SessionService/SessionHistory"
        | "SessionService/DailyUsage"
        | "SessionService/ListPools" => Read,

        "SubscriptionService/CreateSubscription"
        | "SubscriptionService/UpdateSubscription"
        | "SubscriptionService/DeleteSubscription"
        | "SubscriptionService/ActivateSubscription"
        | "SubscriptionService/PauseSubscription"
        | "SubscriptionService/BlockSubscription"
        | "SubscriptionService/ResumeSubscription"
        | "SubscriptionService/EndSubscription"
        | "SubscriptionService/EndClientSubscriptions"
        | "SubscriptionService/TransferSubscription"
        | "SubscriptionService/CreateUnit"
        | "SubscriptionService/DeleteUnit"
        | "SubscriptionService/ChangeTariff"
        | "SubscriptionService/ChangePrice"
        | "SubscriptionService/MoveExpiration"
        | "SubscriptionService/ShiftEnd"
        | "SubscriptionService/WithdrawScheduledAction"
        | "SubscriptionService/ApplyScheduledActions" => Write,
        "SubscriptionService/GetSubscription"
        | "SubscriptionService/ListSubscriptions"
        | "SubscriptionService/SubscriptionHistory"
        | "SubscriptionService/ListScheduledActions"
        | "SubscriptionService/ListUnits" => Read,

        "TariffService/CreateTariff"
        | "TariffService/UpdateTariff"
        | "TariffService/DeleteTariff" => Write,
        "TariffService/GetTariff" | "TariffService/ListTariffs" => Read,

        _ => return None,
    })
}

/// The tower layer for tonic's server builder: shares `tokens` with the reloader, so a
/// changed `[[token]]` list applies at once.
#[derive(Clone)]
pub struct AuthorizeLayer {
    tokens: Arc<Live<TokenSet>>,
}

impl AuthorizeLayer {
    pub fn new(tokens: Arc<Live<TokenSet>>) -> Self {
        Self { tokens }
    }

    /// The caller of an admin method, `None` for the open services, or the refusal.
    fn check(&self, path: &str, headers: &http::HeaderMap) -> Result<Option<Caller>, Status> {
        let Some(method) = path.strip_prefix(ADMIN_PREFIX) else {
            return Ok(None);
        };
        let header = headers
            .get("authorization")
            .ok_or_else(|| Status::unauthenticated("missing authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| Status::unauthenticated("authorization must be \"Bearer <token>\""))?;
        let caller = self
            .tokens
            .load()
            .authenticate(token)
            .ok_or_else(|| Status::unauthenticated("unknown or revoked token"))?
            .clone();
        let Some(need) = need(method) else {
            return Err(Status::unimplemented(format!("unknown method {method}")));
        };
        if !need.allows(caller.role) {
            let what = match need {
                Need::Admin => format!("only an admin token may call {method}"),
                _ => "it cannot change data".to_owned(),
            };
            return Err(Status::permission_denied(format!(
                "token {:?} is {}: {what}",
                caller.name,
                caller.role.as_str()
            )));
        }
        Ok(Some(caller))
    }
}

impl<S> tower_layer::Layer<S> for AuthorizeLayer {
    type Service = Authorize<S>;

    fn layer(&self, inner: S) -> Authorize<S> {
        Authorize {
            gate: self.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub struct Authorize<S> {
    gate: AuthorizeLayer,
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> tower_service::Service<http::Request<B>> for Authorize<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        match self.gate.check(request.uri().path(), request.headers()) {
            Ok(caller) => {
                if let Some(caller) = caller {
                    // tonic hands the request's extensions to the handler: the audit actor.
                    request.extensions_mut().insert(caller);
                }
                Box::pin(self.inner.call(request))
            }
            // The body is dropped unread; the client gets the status in the trailers.
            Err(status) => Box::pin(std::future::ready(Ok(status.into_http()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenHash;

    /// Every method the proto declares has a row in the table.
    #[test]
    fn every_admin_method_has_a_role() {
        use prost::Message;
        let set =
            prost_types::FileDescriptorSet::decode(ispd_admin_proto::FILE_DESCRIPTOR_SET).unwrap();
        let mut methods = 0;
        for file in set.file.iter().filter(|f| f.package() == "ispd.admin.v1") {
            for service in &file.service {
                for method in &service.method {
                    let path = format!("{}/{}", service.name(), method.name());
                    assert!(
                        need(&path).is_some(),
                        "{path} is missing from the role table"
                    );
                    methods += 1;
                }
            }
        }
        assert!(methods > 50, "{methods} methods found");
    }

    #[test]
    fn roles_are_checked_from_headers_alone() {
        let mut set = TokenSet::default();
        for (token, name, role) in [
            ("t-read", "auditor", Role::Readonly),
            ("t-op", "ops", Role::Operator),
            ("t-admin", "boss", Role::Admin),
        ] {
            set.insert(
                TokenHash::of(token),
                Caller {
                    name: name.into(),
                    role,
                },
            );
        }
        let gate = AuthorizeLayer::new(Arc::new(Live::new(set)));
        let headers = |token: &str| {
            let mut h = http::HeaderMap::new();
            h.insert("authorization", format!("Bearer {token}").parse().unwrap());
            h
        };
        let import = "/ispd.admin.v1.PaymentService/ImportStatement";
        let nas = "/ispd.admin.v1.NasService/CreateNas";
        let list = "/ispd.admin.v1.ClientService/ListClients";
        let code = |path: &str, token: &str| {
            gate.check(path, &headers(token))
                .map(|c| c.map(|c| c.name))
                .map_err(|s| s.code())
        };
        assert_eq!(code(import, "t-read"), Err(tonic::Code::PermissionDenied));
        assert_eq!(code(import, "t-op"), Ok(Some("ops".into())));
        // The refusal names what was asked (it once said "NAS entries" for a backup).
        let backup = "/ispd.admin.v1.SystemService/Backup";
        let refused = gate.check(backup, &headers("t-op")).unwrap_err();
        assert_eq!(
            refused.message(),
            "token \"ops\" is operator: only an admin token may call SystemService/Backup"
        );
        let upload = "/ispd.admin.v1.PaymentService/ImportStatementStream";
        assert_eq!(code(upload, "t-read"), Err(tonic::Code::PermissionDenied));
        assert_eq!(code(upload, "t-op"), Ok(Some("ops".into())));
        assert_eq!(code(nas, "t-op"), Err(tonic::Code::PermissionDenied));
        assert_eq!(code(nas, "t-admin"), Ok(Some("boss".into())));
        assert_eq!(code(list, "t-read"), Ok(Some("auditor".into())));
        assert_eq!(code(list, "nope"), Err(tonic::Code::Unauthenticated));
        assert_eq!(
            code("/ispd.admin.v1.ClientService/Bogus", "t-admin"),
            Err(tonic::Code::Unimplemented)
        );
        assert_eq!(
            gate.check("/grpc.health.v1.Health/Check", &http::HeaderMap::new())
                .map_err(|s| s.code()),
            Ok(None)
        );
    }
}
