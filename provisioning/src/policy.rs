//! The access policy: whether a login gets in, and with which reply attributes.
//!
//! One pure function, [`decide`], takes everything the daemon knows about an Access-Request
//! (the login from its access cache, the proof presented, the NAS, the open session count and
//! the configured policy) and returns a [`Decision`]. The daemon logs and counts the
//! [`RejectReason`], encodes the [`ReplyAttribute`]s and sends the packet.

use std::net::Ipv4Addr;
use std::num::NonZeroU32;

use chrono::{DateTime, Utc};
use ispd_billing::subscription::SubscriptionState;
use ispd_billing::tariff::{Burst, DataCap, Rate};

use crate::auth::{self, Credential, Proof, mschapv2};
use crate::login::{AuthType, ExtraAttribute, Ipv6Prefix};
use crate::mac::MacAddress;
use crate::nas::NasVendor;
use crate::rate::{CiscoShaping, rate_attributes};
use crate::reply::{MppeKey, ReplyAttribute};
use crate::speed::{At, SpeedWindow, TemporarySpeed, speed_at};

/// Where a login stands for network access. One enum rather than flags, so "paused but
/// suspended for debt" has exactly one meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessState {
    Active,
    /// Active subscription, but the client owes money past the suspension rule.
    SuspendedForDebt,
    /// Blocked by the operator.
    Blocked,
    /// Paused at the client's request.
    Paused,
    Ended,
    NotYetActive,
}

impl AccessState {
    pub const ALL: [AccessState; 6] = [
        AccessState::Active,
        AccessState::SuspendedForDebt,
        AccessState::Blocked,
        AccessState::Paused,
        AccessState::Ended,
        AccessState::NotYetActive,
    ];

    /// Stable label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessState::Active => "active",
            AccessState::SuspendedForDebt => "suspended_for_debt",
            AccessState::Blocked => "blocked",
            AccessState::Paused => "paused",
            AccessState::Ended => "ended",
            AccessState::NotYetActive => "not_yet_active",
        }
    }
}

impl std::fmt::Display for AccessState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Combines the subscription's lifecycle state with the billing side's debt verdict.
///
/// Debt suspension only ever narrows an Active subscription: a paused or blocked one is
/// already restricted for its own reason (which the operator chose and should see), and an
/// ended one is over. Clients marked never-suspend (e.g. a hospital, the mayor's office) keep
/// access whatever they owe.
pub fn access_state(
    subscription: SubscriptionState,
    debt_suspended: bool,
    never_suspend: bool,
) -> AccessState {
    match subscription {
        SubscriptionState::Active if debt_suspended && !never_suspend => {
            AccessState::SuspendedForDebt
        }
        SubscriptionState::Active => AccessState::Active,
        SubscriptionState::Blocked => AccessState::Blocked,
        SubscriptionState::Paused => AccessState::Paused,
        SubscriptionState::Ended => AccessState::Ended,
        SubscriptionState::NotYetActive => AccessState::NotYetActive,
    }
}

/// The restricted reply: a slow connection marked for the operator's captive portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalledGarden {
    /// Mikrotik-Address-List for the session's address; the operator's firewall redirects
    /// that list to the payment page. Only MikroTik NASes understand it.
    pub address_list: String,
    /// A separate pool for restricted sessions. This is how non-MikroTik NASes (and
    /// firewalls keyed on address ranges) recognise them; when set it replaces the login's
    /// static address and the tariff pool.
    pub framed_pool: Option<String>,
    /// The walled-garden speed; the tariff's rate and burst do not apply.
    pub rate: Rate,
}

impl Default for WalledGarden {
    fn default() -> Self {
        WalledGarden {
            address_list: "ispd-suspended".to_owned(),
            framed_pool: None,
            rate: Rate {
                download_kbps: 256,
                upload_kbps: 256,
            },
        }
    }
}

/// What to do with a login in a restricted state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restricted {
    /// Access-Reject: the subscriber's router keeps retrying and shows "no connection".
    Reject,
    /// Access-Accept into the walled garden, so the subscriber sees why and can pay.
    WalledGarden(WalledGarden),
}

impl Default for Restricted {
    fn default() -> Self {
        Restricted::WalledGarden(WalledGarden::default())
    }
}

/// The policy knobs the daemon fills from its configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfig {
    pub suspended_for_debt: Restricted,
    pub blocked: Restricted,
    pub paused: Restricted,
    /// Session-Timeout for every accepted session; `None` sends none (sessions last until
    /// the NAS or a Disconnect-Request ends them).
    pub session_timeout: Option<u32>,
    /// Acct-Interim-Interval in seconds; 0 sends none and leaves the NAS default.
    pub acct_interim_interval: u32,
    pub idle_timeout: Option<u32>,
    pub cisco_shaping: CiscoShaping,
    /// The Junos dynamic service profile that takes the rate (`[radius] juniper_service`).
    pub juniper_service: Option<String>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            suspended_for_debt: Restricted::default(),
            blocked: Restricted::default(),
            paused: Restricted::default(),
            session_timeout: None,
            acct_interim_interval: 300,
            idle_timeout: None,
            cisco_shaping: CiscoShaping::default(),
            juniper_service: None,
        }
    }
}

impl PolicyConfig {
    /// The configured action for a restricted state; `None` for states that are not
    /// restricted but plainly allowed (Active) or refused (Ended, NotYetActive).
    pub fn restricted(&self, state: AccessState) -> Option<&Restricted> {
        match state {
            AccessState::SuspendedForDebt => Some(&self.suspended_for_debt),
            AccessState::Blocked => Some(&self.blocked),
            AccessState::Paused => Some(&self.paused),
            AccessState::Active | AccessState::Ended | AccessState::NotYetActive => None,
        }
    }
}

/// What the daemon's access cache holds per login: the joined login, subscription, tariff and
/// client facts that an Access-Request needs, so answering one touches no database.
#[derive(Clone, PartialEq)]
pub struct LoginAccess {
    pub login_id: i64,
    /// For the daemon's logs; not sent to the NAS.
    pub client_number: String,
    pub username: String,
    /// Clear text, needed to verify CHAP and MS-CHAPv2. Never logged (see the Debug impl).
    pub password: String,
    pub auth_type: AuthType,
    /// The MAC a MAC login is bound to; compared with Calling-Station-Id.
    pub mac: Option<MacAddress>,
    pub disabled: bool,
    /// NAS names the login may use; empty = any.
    pub allowed_nas: Vec<String>,
    pub state: AccessState,
    pub rate: Rate,
    pub burst: Option<Burst>,
    /// The tariff's Framed-Pool; `None` or empty = let the NAS pick.
    pub framed_pool: Option<String>,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6_prefix: Option<Ipv6Prefix>,
    pub attributes: Vec<ExtraAttribute>,
    /// Most sessions the login may hold at once; `None` = no limit.
    pub simultaneous_use: Option<NonZeroU32>,
    /// The tariff's daily window with another rate (a night boost).
    pub window: Option<SpeedWindow>,
    /// A rate set for this login until a moment; outranks the tariff and its window.
    pub temporary: Option<TemporarySpeed>,
    /// The tariff's data cap (FUP), per billing period of the subscription.
    pub cap: Option<DataCap>,
    /// The subscription's traffic this period has crossed the cap: the cap's reduced rate applies.
    pub capped: bool,
}

/// The default session limit: one, since a second concurrent session with the same
/// credentials is almost always a shared or stolen password.
pub const DEFAULT_SIMULTANEOUS_USE: NonZeroU32 = NonZeroU32::MIN;

/// Everything but the password, which must never reach a log line.
impl std::fmt::Debug for LoginAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginAccess")
            .field("login_id", &self.login_id)
            .field("client_number", &self.client_number)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("auth_type", &self.auth_type)
            .field("mac", &self.mac)
            .field("disabled", &self.disabled)
            .field("allowed_nas", &self.allowed_nas)
            .field("state", &self.state)
            .field("rate", &self.rate)
            .field("burst", &self.burst)
            .field("framed_pool", &self.framed_pool)
            .field("ipv4", &self.ipv4)
            .field("ipv6_prefix", &self.ipv6_prefix)
            .field("attributes", &self.attributes)
            .field("simultaneous_use", &self.simultaneous_use)
            .field("window", &self.window)
            .field("temporary", &self.temporary)
            .field("cap", &self.cap)
            .field("capped", &self.capped)
            .finish()
    }
}

/// The NAS that sent the request, as the daemon identified it by source address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NasContext<'a> {
    pub name: &'a str,
    pub vendor: NasVendor,
}

/// The parts of an Access-Request the policy reads.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    /// User-Name as received: MS-CHAPv2 hashes exactly what the peer typed.
    pub user_name: &'a str,
    pub credential: Credential<'a>,
    /// Calling-Station-Id, when it parses as a MAC address.
    pub calling_station: Option<MacAddress>,
    /// When it arrived: the speed of a login can depend on the time.
    pub at: At,
}

/// Why a request was refused. The daemon logs it and counts it per variant; it carries no
/// credential material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// More than one credential in one request (RFC 2865 §5.2, §5.3).
    MultipleCredentials,
    UnknownUser,
    BadCredential,
    /// A MAC-authenticated login asked for from a device the NAS did not see with its MAC
    /// (or with no Calling-Station-Id at all): the support desk's "wrong router".
    MacMismatch,
    Disabled,
    NasNotAllowed,
    Ended,
    NotYetActive,
    /// A restricted state whose configured action is [`Restricted::Reject`].
    Restricted(AccessState),
    SimultaneousUse,
    /// The login's tariff names a pool of ispd's (see [`crate::pool`]) with no address left.
    PoolExhausted,
}

impl RejectReason {
    /// Every reason a request can be refused for (the restricted states configurable to
    /// reject), so counters per reason can be registered before the first one.
    pub const ALL: [RejectReason; 13] = [
        RejectReason::MultipleCredentials,
        RejectReason::UnknownUser,
        RejectReason::BadCredential,
        RejectReason::MacMismatch,
        RejectReason::Disabled,
        RejectReason::NasNotAllowed,
        RejectReason::Ended,
        RejectReason::NotYetActive,
        RejectReason::Restricted(AccessState::SuspendedForDebt),
        RejectReason::Restricted(AccessState::Blocked),
        RejectReason::Restricted(AccessState::Paused),
        RejectReason::SimultaneousUse,
        RejectReason::PoolExhausted,
    ];

    /// Stable label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::MultipleCredentials => "multiple_credentials",
            RejectReason::UnknownUser => "unknown_user",
            RejectReason::BadCredential => "bad_credential",
            RejectReason::MacMismatch => "mac_mismatch",
            RejectReason::Disabled => "disabled",
            RejectReason::NasNotAllowed => "nas_not_allowed",
            RejectReason::Ended => "ended",
            RejectReason::NotYetActive => "not_yet_active",
            RejectReason::Restricted(AccessState::SuspendedForDebt) => "suspended_for_debt",
            RejectReason::Restricted(AccessState::Blocked) => "blocked",
            RejectReason::Restricted(AccessState::Paused) => "paused",
            RejectReason::Restricted(_) => "restricted",
            RejectReason::SimultaneousUse => "simultaneous_use",
            RejectReason::PoolExhausted => "pool_exhausted",
        }
    }

    /// The Reply-Message the subscriber's router may show. An unknown user and a wrong
    /// password read the same, so the reply does not tell a guesser which usernames exist;
    /// the other reasons are only reached after the credential verified.
    pub fn reply_message(self) -> &'static str {
        match self {
            RejectReason::MultipleCredentials
            | RejectReason::UnknownUser
            | RejectReason::BadCredential
            | RejectReason::MacMismatch => "Authentication failed",
            RejectReason::Disabled => "Account disabled",
            RejectReason::NasNotAllowed => "Login not allowed on this access server",
            RejectReason::Ended => "Service has ended",
            RejectReason::NotYetActive => "Service is not active yet",
            RejectReason::Restricted(AccessState::SuspendedForDebt) => {
                "Service suspended for unpaid invoices"
            }
            RejectReason::Restricted(AccessState::Paused) => "Service is paused",
            RejectReason::Restricted(_) => "Service blocked",
            RejectReason::SimultaneousUse => "Already logged in: session limit reached",
            RejectReason::PoolExhausted => "No address free: try again later",
        }
    }

    /// The RFC 2759 §6 code an MS-CHAPv2 peer shows for this reason.
    fn mschap_failure(self) -> mschapv2::FailureCode {
        match self {
            RejectReason::MultipleCredentials
            | RejectReason::UnknownUser
            | RejectReason::BadCredential
            | RejectReason::MacMismatch
            | RejectReason::SimultaneousUse
            | RejectReason::PoolExhausted => mschapv2::FailureCode::AuthenticationFailure,
            RejectReason::Disabled => mschapv2::FailureCode::AccountDisabled,
            RejectReason::NasNotAllowed
            | RejectReason::Ended
            | RejectReason::NotYetActive
            | RejectReason::Restricted(_) => mschapv2::FailureCode::NoDialinPermission,
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer to an Access-Request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Access-Accept with these attributes, in this order: static addressing, pool, timeouts,
    /// rate, address list, per-login extras, Class, then what the authentication method
    /// needs (MS-CHAP2-Success and the MPPE keys).
    Accept {
        attributes: Vec<ReplyAttribute>,
        /// Active, or the restricted state served from the walled garden.
        state: AccessState,
    },
    /// Access-Reject. `attributes` holds what the method needs besides Reply-Message
    /// (MS-CHAP-Error for MS-CHAPv2, so the peer shows a proper error instead of timing out).
    Reject {
        reason: RejectReason,
        reply_message: String,
        attributes: Vec<ReplyAttribute>,
    },
}

impl Decision {
    pub fn is_accept(&self) -> bool {
        matches!(self, Decision::Accept { .. })
    }
}

/// Decides an Access-Request.
///
/// `login` is the daemon's cache entry for the User-Name (for MAC logins: for the MAC), `None`
/// when there is none. `open_sessions` is the login's count of sessions the daemon believes
/// are up, not counting the one being authenticated.
///
/// The checks run in this order, and the order is part of the contract:
/// 0. more than one credential (before the lookup: the request is malformed for anyone),
/// 1. unknown user,
/// 2. credential,
/// 3. disabled,
/// 4. NAS allowed,
/// 5. ended / not yet active,
/// 6. restricted state configured to reject,
/// 7. Simultaneous-Use.
///
/// The credential comes before anything that reveals facts about the account, so without the
/// password nobody learns whether a login exists, is disabled or is in debt. Simultaneous-Use
/// comes last so that a subscriber with a stale session hears "limit reached" only when
/// nothing else would have refused them anyway.
pub fn decide(
    login: Option<&LoginAccess>,
    request: &AccessRequest<'_>,
    nas: &NasContext<'_>,
    open_sessions: u32,
    config: &PolicyConfig,
) -> Decision {
    if request.credential == Credential::Conflicting {
        return reject(RejectReason::MultipleCredentials, request);
    }
    let Some(login) = login else {
        return reject(RejectReason::UnknownUser, request);
    };
    let proof = match verify(login, request) {
        Ok(proof) => proof,
        Err(reason) => return reject(reason, request),
    };
    let garden = match admission(login, nas, config) {
        Ok(garden) => garden,
        Err(reason) => return reject(reason, request),
    };
    if let Some(limit) = login.simultaneous_use
        && open_sessions >= limit.get()
    {
        return reject(RejectReason::SimultaneousUse, request);
    }
    Decision::Accept {
        attributes: accept_attributes(login, garden, &proof, nas, config, &request.at),
        state: login.state,
    }
}

/// Whether a login, its credential proven, may be online on `nas`: `Ok(None)` with full
/// access, `Ok(Some(garden))` restricted to the walled garden, `Err` refused. Checks 3 to 6 of
/// [`decide`], in its order; enforcement asks the same of every online session, so a session
/// is refused exactly when its next login would be.
pub fn admission<'c>(
    login: &LoginAccess,
    nas: &NasContext<'_>,
    config: &'c PolicyConfig,
) -> Result<Option<&'c WalledGarden>, RejectReason> {
    if login.disabled {
        return Err(RejectReason::Disabled);
    }
    if !login.allowed_nas.is_empty() && !login.allowed_nas.iter().any(|n| n == nas.name) {
        return Err(RejectReason::NasNotAllowed);
    }
    state_admission(login.state, config)
}

/// The access state's part of [`admission`] (checks 5 and 6).
fn state_admission(
    state: AccessState,
    config: &PolicyConfig,
) -> Result<Option<&WalledGarden>, RejectReason> {
    match state {
        AccessState::Active => Ok(None),
        AccessState::Ended => Err(RejectReason::Ended),
        AccessState::NotYetActive => Err(RejectReason::NotYetActive),
        state => match config.restricted(state) {
            Some(Restricted::WalledGarden(garden)) => Ok(Some(garden)),
            Some(Restricted::Reject) | None => Err(RejectReason::Restricted(state)),
        },
    }
}

/// What a login gets right now, its password right and on a NAS it may use: the support
/// desk's "what does this subscriber have?" (`ispctl login show`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InForce {
    /// Full access at this rate (after a temporary speed, a crossed data cap, the tariff's
    /// time window).
    Full(Rate),
    /// The walled garden at its rate.
    WalledGarden(Rate),
    /// Refused.
    Refused(RejectReason),
}

/// [`InForce`] for `login` at `at`, by the same rules as an Access-Request ([`admission`] but
/// the NAS, then [`speed_at`]).
pub fn in_force(login: &LoginAccess, config: &PolicyConfig, at: &At) -> InForce {
    if login.disabled {
        return InForce::Refused(RejectReason::Disabled);
    }
    match state_admission(login.state, config) {
        Ok(None) => InForce::Full(speed_at(login, at).0),
        Ok(Some(garden)) => InForce::WalledGarden(garden.rate),
        Err(reason) => InForce::Refused(reason),
    }
}

/// The attributes that set a session's speed and restriction: the rate in the NAS's dialect
/// and, in the walled garden of a MikroTik, the address list. The Access-Accept carries them
/// and a CoA-Request changes them in place.
pub fn speed_attributes(
    login: &LoginAccess,
    garden: Option<&WalledGarden>,
    nas: &NasContext<'_>,
    config: &PolicyConfig,
    at: &At,
) -> Vec<ReplyAttribute> {
    match garden {
        Some(garden) => {
            let juniper = config.juniper_service.as_deref();
            let mut out =
                rate_attributes(nas.vendor, garden.rate, None, config.cisco_shaping, juniper);
            if nas.vendor == NasVendor::Mikrotik && !garden.address_list.is_empty() {
                out.push(ReplyAttribute::MikrotikAddressList(
                    garden.address_list.clone(),
                ));
            }
            out
        }
        None => {
            let (rate, burst) = speed_at(login, at);
            let juniper = config.juniper_service.as_deref();
            rate_attributes(
                nas.vendor,
                rate,
                burst.as_ref(),
                config.cisco_shaping,
                juniper,
            )
        }
    }
}

/// Checks the request's proof for this login.
///
/// A MAC login is proven by the NAS having seen that MAC (Calling-Station-Id), whatever
/// password the request carries: DHCP and hotspot MAC authentication send the MAC itself, an
/// empty or a fixed password depending on the NAS. Requiring the MAC match keeps a PPPoE user
/// from typing a MAC login's username with any password. A PPP login always needs the
/// password.
fn verify(login: &LoginAccess, request: &AccessRequest<'_>) -> Result<Proof, RejectReason> {
    match login.auth_type {
        // An MS-CHAPv2 or EAP peer waits for an answer (MS-CHAP2-Success, an EAP-Message)
        // that a MAC login, with no secret, cannot give: the NAS could not finish, and the
        // PPP credential would never be checked.
        AuthType::Mac
            if matches!(
                request.credential,
                Credential::MsChapV2 { .. } | Credential::Unsupported
            ) =>
        {
            Err(RejectReason::BadCredential)
        }
        AuthType::Mac => match (login.mac, request.calling_station) {
            (Some(bound), Some(seen)) if bound == seen => Ok(Proof::Password),
            _ => Err(RejectReason::MacMismatch),
        },
        AuthType::Ppp => {
            auth::verify_password(&request.credential, request.user_name, &login.password)
                .ok_or(RejectReason::BadCredential)
        }
    }
}

/// The Access-Reject for `reason`, with the MS-CHAPv2 error an MS-CHAPv2 peer expects.
pub fn reject(reason: RejectReason, request: &AccessRequest<'_>) -> Decision {
    let message = reason.reply_message();
    let mut attributes = Vec::new();
    if let Credential::MsChapV2 {
        challenge,
        response,
    } = request.credential
        && let (Ok(challenge), Some(response)) = (
            <&[u8; 16]>::try_from(challenge),
            mschapv2::Response::parse(response),
        )
    {
        // C= echoes the exchange's own challenge: with R=0 the peer never answers it, and the
        // policy has no random source of its own.
        attributes.push(ReplyAttribute::MsChapError(mschapv2::error_value(
            response.ident,
            reason.mschap_failure(),
            challenge,
            message,
        )));
    }
    Decision::Reject {
        reason,
        reply_message: message.to_owned(),
        attributes,
    }
}

impl LoginAccess {
    /// The login's own IPv4 address: its static one, else what an extra Framed-IP-Address
    /// names. A pool never hands it to another, and the login takes none from a pool (found
    /// probing from outside: an extra address went out beside the pool's, and the pool gave
    /// it to another login).
    pub fn own_ipv4(&self) -> Option<Ipv4Addr> {
        self.ipv4
            .or_else(|| crate::login::extra_ipv4(&self.attributes).map(|(_, ip)| ip))
    }

    /// The login's own IPv6 prefix: its static one, else what an extra Framed-IPv6-Prefix or
    /// Delegated-IPv6-Prefix names (as [`LoginAccess::own_ipv4`]).
    pub fn own_ipv6_prefix(&self) -> Option<Ipv6Prefix> {
        self.ipv6_prefix.or_else(|| {
            self.attributes
                .iter()
                .find(|a| OWN_PREFIX_EXTRAS.contains(&a.name.as_str()))
                .and_then(|a| a.value.trim().parse().ok())
        })
    }
}

/// The extras that give a login a prefix of its own.
pub const OWN_PREFIX_EXTRAS: [&str; 2] = ["Framed-IPv6-Prefix", "Delegated-IPv6-Prefix"];

/// The Access-Accept attributes, in the order documented on [`Decision::Accept`].
fn accept_attributes(
    login: &LoginAccess,
    garden: Option<&WalledGarden>,
    proof: &Proof,
    nas: &NasContext<'_>,
    config: &PolicyConfig,
    at: &At,
) -> Vec<ReplyAttribute> {
    let mut out = Vec::new();
    let garden_pool = garden
        .and_then(|g| g.framed_pool.as_deref())
        .filter(|p| !p.is_empty());

    // Addressing. A walled-garden pool replaces the static address: the operator keys the
    // restriction on the pool's range, and a static address would slip past it.
    if let Some(pool) = garden_pool {
        out.push(ReplyAttribute::FramedPool(pool.to_owned()));
    } else if let Some(ip) = login.ipv4 {
        out.push(ReplyAttribute::FramedIpAddress(ip));
    } else if let Some(pool) = login.framed_pool.as_deref().filter(|p| !p.is_empty())
        && login.own_ipv4().is_none()
    {
        // A login with an address of its own (an extra Framed-IP-Address) takes none from
        // the pool: the extra goes out below.
        out.push(ReplyAttribute::FramedPool(pool.to_owned()));
    }
    // IPv6 only outside the garden: MikroTik address lists and captive portals work on IPv4,
    // so a routed IPv6 prefix would be an open side door around the payment page.
    if garden.is_none()
        && let Some(prefix) = login.ipv6_prefix
    {
        out.push(ipv6_attribute(prefix));
    }

    if let Some(timeout) = config.session_timeout {
        out.push(ReplyAttribute::SessionTimeout(timeout));
    }
    if let Some(timeout) = config.idle_timeout {
        out.push(ReplyAttribute::IdleTimeout(timeout));
    }
    if config.acct_interim_interval > 0 {
        out.push(ReplyAttribute::AcctInterimInterval(
            config.acct_interim_interval,
        ));
    }

    out.extend(speed_attributes(login, garden, nas, config, at));
    // Extras only for full access: a per-login Framed-Route or rate override must not
    // loosen the operator's restriction. One naming an attribute ispd sends at most once
    // takes its place: never both (found probing from outside: two Session-Timeouts).
    if garden.is_none() {
        out.retain(|a| {
            a.single_name()
                .is_none_or(|name| !login.attributes.iter().any(|x| x.name == name))
        });
        out.extend(login.attributes.iter().map(|a| ReplyAttribute::Extra {
            name: a.name.clone(),
            value: a.value.clone(),
        }));
    }

    out.push(ReplyAttribute::Class(class(login.login_id, at.utc)));

    if let Proof::MsChapV2(success) = proof {
        out.push(ReplyAttribute::MsChap2Success(success.attribute_value()));
        out.push(ReplyAttribute::MsMppeRecvKey(MppeKey(success.mppe.recv)));
        out.push(ReplyAttribute::MsMppeSendKey(MppeKey(success.mppe.send)));
        // FreeRADIUS rlm_mschap's defaults: encryption allowed, not required; 40- and 128-bit
        // both offered (a 40-bit key is a prefix of the 128-bit one, RFC 3079 §3.4).
        out.push(ReplyAttribute::MsMppeEncryptionPolicy(1));
        out.push(ReplyAttribute::MsMppeEncryptionTypes(0x6));
    }
    out
}

/// Framed-IPv6-Prefix for a /64 or longer, Delegated-IPv6-Prefix for anything shorter.
///
/// RFC 3162 §2.3 Framed-IPv6-Prefix is the prefix advertised on the PPP link (router
/// advertisements, SLAAC), which is a /64 by RFC 4291 and never shorter; RFC 4818
/// Delegated-IPv6-Prefix is delegated to the CPE with DHCPv6-PD for its LAN, and ISPs delegate
/// /48 to /60 (RIPE-690 recommends /48 or /56). A login stores one prefix, so its length
/// tells which of the two it is.
pub fn ipv6_attribute(prefix: Ipv6Prefix) -> ReplyAttribute {
    if prefix.len >= 64 {
        ReplyAttribute::FramedIpv6Prefix(prefix)
    } else {
        ReplyAttribute::DelegatedIpv6Prefix(prefix)
    }
}

/// What our Class attribute brings back in accounting: the login, and the moment its Accept
/// was decided — enforcement uses it to find a session that came up on an answer a change has
/// replaced since, before the session's Start was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassTag {
    pub login_id: i64,
    /// `None` from a Class written before ispd recorded the moment.
    pub accepted_at: Option<DateTime<Utc>>,
}

/// The Class value that ties accounting back to the login and its Accept:
/// `ispd:<login id>:<milliseconds since the epoch>`. The NAS echoes it unchanged in every
/// Accounting-Request of the session (RFC 2865 §5.25).
pub fn class(login_id: i64, accepted_at: DateTime<Utc>) -> Vec<u8> {
    format!("ispd:{login_id}:{}", accepted_at.timestamp_millis()).into_bytes()
}

/// Reads a Class value back, when it is one of ispd's (also the older `ispd:<login id>`).
pub fn parse_class(value: &[u8]) -> Option<ClassTag> {
    let text = std::str::from_utf8(value).ok()?;
    let rest = text.strip_prefix("ispd:")?;
    let (id, millis) = match rest.split_once(':') {
        Some((id, millis)) => (id, Some(millis)),
        None => (rest, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(id) || millis.is_some_and(|m| !digits(m)) {
        return None;
    }
    let accepted_at = match millis {
        Some(m) => Some(DateTime::from_timestamp_millis(m.parse().ok()?)?),
        None => None,
    };
    Some(ClassTag {
        login_id: id.parse().ok()?,
        accepted_at,
    })
}
