//! Enforcement: what an online session must be told when the answer its login would get has
//! changed (RFC 5176 Change-of-Authorization and Disconnect).
//!
//! Pure like the rest of the crate: the daemon hands in the login as it was enforced and as it
//! is now, and the NAS the session is on; [`plan`] returns what to send. The daemon sends it,
//! records the [`Outcome`], and on a NAK of a CoA falls back to a Disconnect.

use serde::Serialize;

use crate::policy::{
    LoginAccess, NasContext, PolicyConfig, RejectReason, WalledGarden, admission, speed_attributes,
};
use crate::reply::ReplyAttribute;
use crate::speed::At;

/// How a NAS takes a change to an online session (`[[nas]] coa`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoaMode {
    /// Change the session in place with a CoA-Request where the NAS can; Disconnect where it
    /// cannot (a new address or pool, a password) or when the CoA is NAKed.
    Coa,
    /// Always Disconnect: the subscriber's router dials again and gets the new answer.
    Disconnect,
    /// Send nothing: changes reach a session at its next login.
    None,
}

impl CoaMode {
    pub const ALL: [CoaMode; 3] = [CoaMode::Coa, CoaMode::Disconnect, CoaMode::None];

    pub fn as_str(self) -> &'static str {
        match self {
            CoaMode::Coa => "coa",
            CoaMode::Disconnect => "disconnect",
            CoaMode::None => "none",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

impl std::fmt::Display for CoaMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which RFC 5176 request was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    Coa,
    Disconnect,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Coa => "coa",
            RequestKind::Disconnect => "disconnect",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [RequestKind::Coa, RequestKind::Disconnect]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// How one request ended — or, while it waits in its NAS's queue, that it has not ended yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Queued for its NAS, not yet answered: recorded when the request is queued, so that a
    /// daemon killed before it was sent finds the session untold when it starts again. A
    /// later record of the session's supersedes it.
    Queued,
    /// CoA-ACK or Disconnect-ACK.
    Ack,
    /// CoA-NAK or Disconnect-NAK (the Error-Cause is recorded beside it).
    Nak,
    /// No valid answer after every retry.
    Timeout,
    /// Not sent: the NAS is unknown, has no address to reach, the socket failed, or ispd
    /// stopped while the request waited for its turn.
    Unsent,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::Queued,
        Outcome::Ack,
        Outcome::Nak,
        Outcome::Timeout,
        Outcome::Unsent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Queued => "queued",
            Outcome::Ack => "ack",
            Outcome::Nak => "nak",
            Outcome::Timeout => "timeout",
            Outcome::Unsent => "unsent",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// RFC 5176 §3.5 Error-Cause 503, Session Context Not Found.
pub const SESSION_CONTEXT_NOT_FOUND: u32 = 503;

/// Whether a request's answer settles its session: the NAS acknowledged it, or a Disconnect
/// found the session already gone. Any other ending leaves the session's login for the
/// reconcile — in memory while the daemon runs, and read back from the attempt log when it
/// starts again.
pub fn settles(kind: RequestKind, outcome: Outcome, error_cause: Option<u32>) -> bool {
    outcome == Outcome::Ack
        || (kind == RequestKind::Disconnect && error_cause == Some(SESSION_CONTEXT_NOT_FOUND))
}

/// What one online session is to be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Nothing the session would notice has changed.
    Nothing,
    /// CoA-Request with these attributes, which set the session's speed and restriction.
    Coa(Vec<ReplyAttribute>),
    /// Disconnect-Request; the subscriber's router dials again into the new answer (or is
    /// refused).
    Disconnect(DisconnectCause),
}

/// Why a session is disconnected rather than changed in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectCause {
    /// Its login would now be refused (deleted, disabled, ended, not on this NAS, restricted
    /// to a reject).
    Refused(RejectReason),
    /// What the session was set up with changed: password, address, pool (also the move into
    /// or out of a walled-garden pool), MAC, extra attributes. Only a new login applies it.
    SetUpAnew,
    /// The NAS takes no CoA (`coa = "disconnect"`), or the new speed has no attribute in its
    /// dialect (a rate lifted to unlimited, a Juniper service profile).
    CannotChangeInPlace,
    /// An operator asked for it (`ispctl session disconnect`).
    Operator,
}

impl DisconnectCause {
    /// Stable label for the attempt record and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectCause::Refused(_) => "refused",
            DisconnectCause::SetUpAnew => "set up anew",
            DisconnectCause::CannotChangeInPlace => "cannot change in place",
            DisconnectCause::Operator => "operator",
        }
    }
}

/// What an online session was last told: its login as it was, the moment, and the policy
/// (walled garden, restricted states, Cisco shaping) in force then.
#[derive(Debug, Clone, Copy)]
pub struct Told<'a> {
    pub login: &'a LoginAccess,
    pub at: At,
    pub policy: &'a PolicyConfig,
}

/// Decides what an online session on `nas` is told, given what it was last told (`None` =
/// unknown, so everything is sent: a forced reload), and its login as it is `at` now under
/// `policy` (`None` = the login is gone).
///
/// The rule, in order: a NAS in mode `none` is told nothing; a session whose login would now
/// be refused is disconnected; a change of what the session was set up with needs a new
/// login; an unchanged speed needs nothing; otherwise the new speed goes by CoA, or by
/// Disconnect where the NAS takes no CoA or the speed cannot be written as an attribute.
pub fn plan(
    told: Option<Told<'_>>,
    now: Option<&LoginAccess>,
    at: At,
    nas: &NasContext<'_>,
    mode: CoaMode,
    config: &PolicyConfig,
) -> Plan {
    if mode == CoaMode::None {
        return Plan::Nothing;
    }
    let Some(now) = now else {
        return Plan::Disconnect(DisconnectCause::Refused(RejectReason::UnknownUser));
    };
    let garden = match admission(now, nas, config) {
        Ok(garden) => garden,
        Err(reason) => return Plan::Disconnect(DisconnectCause::Refused(reason)),
    };
    let speed = speed_attributes(now, garden, nas, config, &at);
    if let Some(told) = told
        && let Ok(garden_before) = admission(told.login, nas, told.policy)
    {
        if set_up(told.login, garden_before) != set_up(now, garden) {
            return Plan::Disconnect(DisconnectCause::SetUpAnew);
        }
        let before = speed_attributes(told.login, garden_before, nas, told.policy, &told.at);
        if before == speed {
            return Plan::Nothing;
        }
    }
    if mode == CoaMode::Disconnect || speed.is_empty() {
        return Plan::Disconnect(DisconnectCause::CannotChangeInPlace);
    }
    Plan::Coa(crate::rate::in_place(nas.vendor, speed))
}

/// What a session is set up with at login and keeps until it ends.
#[derive(PartialEq)]
struct SetUp<'a> {
    password: &'a str,
    auth_type: crate::login::AuthType,
    mac: Option<crate::mac::MacAddress>,
    ipv4: Option<std::net::Ipv4Addr>,
    ipv6_prefix: Option<crate::login::Ipv6Prefix>,
    pool: Option<&'a str>,
    attributes: &'a [crate::login::ExtraAttribute],
}

fn set_up<'a>(login: &'a LoginAccess, garden: Option<&'a WalledGarden>) -> SetUp<'a> {
    let garden_pool = garden
        .and_then(|g| g.framed_pool.as_deref())
        .filter(|p| !p.is_empty());
    SetUp {
        password: &login.password,
        auth_type: login.auth_type,
        mac: login.mac,
        ipv4: login.ipv4.filter(|_| garden_pool.is_none()),
        ipv6_prefix: login.ipv6_prefix.filter(|_| garden.is_none()),
        pool: garden_pool.or(login.framed_pool.as_deref().filter(|p| !p.is_empty())),
        attributes: if garden.is_none() {
            &login.attributes
        } else {
            &[]
        },
    }
}

/// A login for the tests of this crate's modules.
#[cfg(test)]
pub(crate) mod tests_support {
    use crate::login::AuthType;
    use crate::policy::{AccessState, LoginAccess};
    use ispd_billing::tariff::Rate;

    pub fn login() -> LoginAccess {
        LoginAccess {
            login_id: 42,
            client_number: "10042".into(),
            username: "novak".into(),
            password: "tajne-heslo".into(),
            auth_type: AuthType::Ppp,
            mac: None,
            disabled: false,
            allowed_nas: vec![],
            state: AccessState::Active,
            rate: Rate {
                download_kbps: 50_000,
                upload_kbps: 10_000,
            },
            burst: None,
            framed_pool: None,
            ipv4: None,
            ipv6_prefix: None,
            attributes: vec![],
            simultaneous_use: None,
            window: None,
            temporary: None,
            cap: None,
            capped: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::login;
    use super::*;
    use crate::nas::NasVendor;
    use crate::policy::{AccessState, Restricted};
    use crate::speed::{SpeedWindow, TemporarySpeed};
    use chrono::{NaiveTime, TimeZone, Utc};
    use ispd_billing::tariff::Rate;

    fn told<'a>(login: &'a LoginAccess, at: At, policy: &'a PolicyConfig) -> Told<'a> {
        Told { login, at, policy }
    }

    /// Noon on a winter day, local time = UTC.
    fn noon() -> At {
        At {
            utc: Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0).unwrap(),
            local: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
        }
    }

    fn nas(vendor: NasVendor) -> NasContext<'static> {
        NasContext {
            name: "core-1",
            vendor,
        }
    }

    fn with(change: impl FnOnce(&mut LoginAccess)) -> LoginAccess {
        let mut l = login();
        change(&mut l);
        l
    }

    fn rate(text: &str) -> ReplyAttribute {
        ReplyAttribute::MikrotikRateLimit(text.into())
    }

    fn garden_list() -> ReplyAttribute {
        ReplyAttribute::MikrotikAddressList("ispd-suspended".into())
    }

    /// What happened, the login as enforced and as now, the policy, the NAS's mode, the plan.
    type Case<'a> = (
        &'a str,
        Option<LoginAccess>,
        Option<LoginAccess>,
        &'a PolicyConfig,
        CoaMode,
        Plan,
    );

    #[test]
    fn the_rule_table() {
        use DisconnectCause::*;
        let mikrotik = nas(NasVendor::Mikrotik);
        let config = PolicyConfig::default();
        let pool_garden = PolicyConfig {
            suspended_for_debt: Restricted::WalledGarden(WalledGarden {
                framed_pool: Some("garden".into()),
                ..WalledGarden::default()
            }),
            ..PolicyConfig::default()
        };
        let rejecting = PolicyConfig {
            blocked: Restricted::Reject,
            ..PolicyConfig::default()
        };
        let suspended = with(|l| l.state = AccessState::SuspendedForDebt);
        let faster = with(|l| l.rate.download_kbps = 100_000);
        #[rustfmt::skip]
        let table: Vec<Case> = vec![
            ("nothing changed", Some(login()), Some(login()), &config, CoaMode::Coa, Plan::Nothing),
            ("a client note is no change", Some(login()), Some(with(|l| l.client_number = "x".into())), &config, CoaMode::Coa, Plan::Nothing),
            ("new tariff speed", Some(login()), Some(faster.clone()), &config, CoaMode::Coa, Plan::Coa(vec![rate("10M/100M")])),
            ("new speed, NAS takes no CoA", Some(login()), Some(faster.clone()), &config, CoaMode::Disconnect, Plan::Disconnect(CannotChangeInPlace)),
            ("mode none sends nothing", Some(login()), None, &config, CoaMode::None, Plan::Nothing),
            ("suspended into the garden", Some(login()), Some(suspended.clone()), &config, CoaMode::Coa, Plan::Coa(vec![rate("256k/256k"), garden_list()])),
            ("restored out of the garden", Some(suspended.clone()), Some(login()), &config, CoaMode::Coa, Plan::Coa(vec![rate("10M/50M")])),
            ("into a garden pool", Some(login()), Some(suspended.clone()), &pool_garden, CoaMode::Coa, Plan::Disconnect(SetUpAnew)),
            ("out of a garden pool", Some(suspended.clone()), Some(login()), &pool_garden, CoaMode::Coa, Plan::Disconnect(SetUpAnew)),
            ("login deleted", Some(login()), None, &config, CoaMode::Coa, Plan::Disconnect(Refused(RejectReason::UnknownUser))),
            ("login disabled", Some(login()), Some(with(|l| l.disabled = true)), &config, CoaMode::Coa, Plan::Disconnect(Refused(RejectReason::Disabled))),
            ("ended", Some(login()), Some(with(|l| l.state = AccessState::Ended)), &config, CoaMode::Coa, Plan::Disconnect(Refused(RejectReason::Ended))),
            ("blocked, blocked rejects", Some(login()), Some(with(|l| l.state = AccessState::Blocked)), &rejecting, CoaMode::Coa, Plan::Disconnect(Refused(RejectReason::Restricted(AccessState::Blocked)))),
            ("NAS no longer allowed", Some(login()), Some(with(|l| l.allowed_nas = vec!["edge-2".into()])), &config, CoaMode::Coa, Plan::Disconnect(Refused(RejectReason::NasNotAllowed))),
            ("password changed", Some(login()), Some(with(|l| l.password = "nove-heslo".into())), &config, CoaMode::Coa, Plan::Disconnect(SetUpAnew)),
            ("static address changed", Some(login()), Some(with(|l| l.ipv4 = Some("100.64.0.9".parse().unwrap()))), &config, CoaMode::Coa, Plan::Disconnect(SetUpAnew)),
            ("address changed, NAS takes no CoA", Some(login()), Some(with(|l| l.ipv4 = Some("100.64.0.9".parse().unwrap()))), &config, CoaMode::Disconnect, Plan::Disconnect(SetUpAnew)),
            ("speed lifted to unlimited", Some(login()), Some(with(|l| l.rate = Rate::default())), &config, CoaMode::Coa, Plan::Disconnect(CannotChangeInPlace)),
            ("forced reload pushes the speed", None, Some(login()), &config, CoaMode::Coa, Plan::Coa(vec![rate("10M/50M")])),
            ("forced reload of a refused login", None, Some(with(|l| l.disabled = true)), &config, CoaMode::Coa, Plan::Disconnect(Refused(RejectReason::Disabled))),
            ("was refused, now allowed: push", Some(with(|l| l.disabled = true)), Some(login()), &config, CoaMode::Coa, Plan::Coa(vec![rate("10M/50M")])),
        ];
        for (case, before, now, config, mode, expected) in table {
            assert_eq!(
                plan(
                    before.as_ref().map(|login| Told {
                        login,
                        at: noon(),
                        policy: config
                    }),
                    now.as_ref(),
                    noon(),
                    &mikrotik,
                    mode,
                    config
                ),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn each_vendor_gets_its_own_rate_attributes() {
        let config = PolicyConfig::default();
        let faster = with(|l| l.rate.download_kbps = 100_000);
        let cases = [
            (
                NasVendor::AccelPpp,
                Plan::Coa(vec![ReplyAttribute::FilterId("100000/10000".into())]),
            ),
            (
                NasVendor::Cisco,
                Plan::Coa(vec![
                    ReplyAttribute::CiscoAvPair("ip:sub-qos-policy-in=ispd-10000k".into()),
                    ReplyAttribute::CiscoAvPair("ip:sub-qos-policy-out=ispd-100000k".into()),
                ]),
            ),
            // ispd writes no rate for Juniper (see `rate_attributes`), so a tariff speed is
            // no change to its sessions; its per-login extras are (set up anew).
            (NasVendor::Juniper, Plan::Nothing),
        ];
        for (vendor, expected) in cases {
            let nas = nas(vendor);
            assert_eq!(
                plan(
                    Some(told(&login(), noon(), &config)),
                    Some(&faster),
                    noon(),
                    &nas,
                    vendor.default_coa(),
                    &config
                ),
                expected,
                "{vendor:?}"
            );
        }
        // With a Junos service profile configured, a Juniper NAS told to take CoA gets the
        // service deactivated and activated again with the new rate, in one request.
        let junos = PolicyConfig {
            juniper_service: Some("ispd-rate".into()),
            ..PolicyConfig::default()
        };
        assert_eq!(
            plan(
                Some(told(&login(), noon(), &junos)),
                Some(&faster),
                noon(),
                &nas(NasVendor::Juniper),
                CoaMode::Coa,
                &junos
            ),
            Plan::Coa(vec![
                ReplyAttribute::ErxServiceDeactivate("ispd-rate".into()),
                ReplyAttribute::ErxServiceActivate {
                    tag: 1,
                    value: "ispd-rate(100000k,10000k)".into()
                },
            ])
        );
        let generic = nas(NasVendor::Generic);
        assert_eq!(
            plan(
                Some(told(&login(), noon(), &config)),
                Some(&faster),
                noon(),
                &generic,
                CoaMode::Coa,
                &config
            ),
            Plan::Coa(vec![
                ReplyAttribute::WisprBandwidthMaxUp(10_000_000),
                ReplyAttribute::WisprBandwidthMaxDown(100_000_000),
            ]),
            "a generic NAS told to take CoA gets WISPr"
        );
    }

    #[test]
    fn time_rules_change_the_speed_by_themselves() {
        let config = PolicyConfig::default();
        let mikrotik = nas(NasVendor::Mikrotik);
        let later = |at: At, minutes: i64| At {
            utc: at.utc + chrono::Duration::minutes(minutes),
            local: at.local + chrono::Duration::minutes(minutes),
        };
        let boosted = with(|l| {
            l.temporary = Some(TemporarySpeed {
                rate: Rate {
                    download_kbps: 200_000,
                    upload_kbps: 20_000,
                },
                until: later(noon(), 30).utc,
            })
        });
        let plan_at = |login: &LoginAccess, then: At, now: At| {
            plan(
                Some(told(login, then, &config)),
                Some(login),
                now,
                &mikrotik,
                CoaMode::Coa,
                &config,
            )
        };
        assert_eq!(
            plan(
                Some(told(&login(), noon(), &config)),
                Some(&boosted),
                noon(),
                &mikrotik,
                CoaMode::Coa,
                &config
            ),
            Plan::Coa(vec![rate("20M/200M")]),
            "a temporary speed applies at once"
        );
        assert_eq!(plan_at(&boosted, noon(), later(noon(), 29)), Plan::Nothing);
        assert_eq!(
            plan_at(&boosted, noon(), later(noon(), 30)),
            Plan::Coa(vec![rate("10M/50M")]),
            "and ends by itself"
        );
        let night = with(|l| {
            l.window = Some(SpeedWindow {
                from: NaiveTime::from_hms_opt(12, 30, 0).unwrap(),
                to: NaiveTime::from_hms_opt(13, 0, 0).unwrap(),
                rate: Rate {
                    download_kbps: 100_000,
                    upload_kbps: 10_000,
                },
            })
        });
        assert_eq!(plan_at(&night, noon(), later(noon(), 29)), Plan::Nothing);
        assert_eq!(
            plan_at(&night, noon(), later(noon(), 30)),
            Plan::Coa(vec![rate("10M/100M")]),
            "the window opens"
        );
        assert_eq!(
            plan_at(&night, later(noon(), 30), later(noon(), 60)),
            Plan::Coa(vec![rate("10M/50M")]),
            "and closes"
        );
    }

    #[test]
    fn a_garden_changed_by_the_config_reaches_the_sessions_in_it() {
        let mikrotik = nas(NasVendor::Mikrotik);
        let suspended = with(|l| l.state = AccessState::SuspendedForDebt);
        let old = PolicyConfig::default();
        let faster_garden = PolicyConfig {
            suspended_for_debt: Restricted::WalledGarden(WalledGarden {
                rate: Rate {
                    download_kbps: 512,
                    upload_kbps: 512,
                },
                ..WalledGarden::default()
            }),
            ..PolicyConfig::default()
        };
        let rejecting = PolicyConfig {
            suspended_for_debt: Restricted::Reject,
            ..PolicyConfig::default()
        };
        let under = |new: &PolicyConfig, login: &LoginAccess| {
            plan(
                Some(told(login, noon(), &old)),
                Some(login),
                noon(),
                &mikrotik,
                CoaMode::Coa,
                new,
            )
        };
        assert_eq!(
            under(&faster_garden, &suspended),
            Plan::Coa(vec![rate("512k/512k"), garden_list()])
        );
        assert_eq!(
            under(&faster_garden, &login()),
            Plan::Nothing,
            "not in the garden"
        );
        assert_eq!(
            under(&rejecting, &suspended),
            Plan::Disconnect(DisconnectCause::Refused(RejectReason::Restricted(
                AccessState::SuspendedForDebt
            )))
        );
    }

    #[test]
    fn what_settles_a_session() {
        use Outcome::{Ack, Nak, Queued, Timeout, Unsent};
        use RequestKind::{Coa, Disconnect};
        let gone = Some(SESSION_CONTEXT_NOT_FOUND);
        let cases = [
            (Coa, Ack, None, true),
            (Disconnect, Ack, None, true),
            // The session is gone already: nothing left to tell it.
            (Disconnect, Nak, gone, true),
            (Coa, Nak, gone, false),
            (Coa, Nak, Some(404), false),
            (Disconnect, Nak, Some(404), false),
            (Coa, Timeout, None, false),
            (Disconnect, Timeout, None, false),
            (Coa, Unsent, None, false),
            (Disconnect, Unsent, None, false),
            // Still waiting for its turn (or ispd died before it was sent).
            (Coa, Queued, None, false),
            (Disconnect, Queued, None, false),
        ];
        for (kind, outcome, cause, settled) in cases {
            assert_eq!(
                settles(kind, outcome, cause),
                settled,
                "{kind:?} {outcome:?} {cause:?}"
            );
        }
    }

    #[test]
    fn modes_parse_back() {
        for mode in CoaMode::ALL {
            assert_eq!(CoaMode::parse(mode.as_str()), Some(mode));
        }
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
        }
        for kind in [RequestKind::Coa, RequestKind::Disconnect] {
            assert_eq!(RequestKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(CoaMode::parse("CoA"), None);
    }
}
