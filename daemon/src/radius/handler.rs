//! One Access-Request or Status-Server, from verified datagram to encoded reply. Everything
//! here is in memory: the NAS table, the access cache and the policy.

use ispd_provisioning::auth::ProofAttributes;
use ispd_provisioning::mac::MacAddress;
use ispd_provisioning::policy::{
    AccessRequest, Decision, NasContext, PolicyConfig, RejectReason, decide,
};
use ispd_provisioning::reply::ReplyAttribute;
use ispd_provisioning::speed::At;
use ispd_radius::dict::{microsoft, rfc};
use ispd_radius::{Attribute, Code, MaPolicy, PacketRef, Secret};

use super::access_cache::AccessCache;
use super::addresses::Addresses;
use super::nas_table::NasEntry;
use super::stats::RadiusStats;
use crate::storage::{AuthAttempt, AuthResult};

/// What to do with a datagram from a known NAS.
pub enum Outcome {
    /// Send `bytes`; `attempt` is what the authentication log records of it (none for a
    /// Status-Server).
    Reply {
        bytes: Vec<u8>,
        attempt: Option<AuthAttempt>,
    },
    /// Silently discarded (RFC 2865 §3); already counted.
    Drop,
}

/// What every request is answered from, shared by the receive threads.
pub struct Shared<'a> {
    pub cache: &'a AccessCache,
    pub policy: &'a PolicyConfig,
    pub stats: &'a RadiusStats,
    pub addresses: &'a Addresses,
}

pub fn handle(datagram: &[u8], nas: &NasEntry, shared: &Shared<'_>, at: At) -> Outcome {
    let stats = shared.stats;
    let packet = match PacketRef::decode(datagram) {
        Ok(p) => p,
        Err(e) => {
            RadiusStats::bump(&stats.dropped_malformed_total);
            tracing::debug!(nas = %nas.name, reason = e.reason(), "malformed RADIUS datagram dropped");
            return Outcome::Drop;
        }
    };
    match packet.code() {
        Code::AccessRequest | Code::StatusServer => {}
        other => {
            RadiusStats::bump(&stats.dropped_unexpected_code_total);
            tracing::debug!(nas = %nas.name, code = other.name(), "unexpected code on the auth port");
            return Outcome::Drop;
        }
    }
    let ma_policy = if nas.require_message_authenticator {
        MaPolicy::Required
    } else {
        MaPolicy::IfPresent
    };
    if let Err(e) = packet.verify_request(&nas.secret, ma_policy) {
        RadiusStats::bump(&stats.dropped_authenticator_total);
        tracing::debug!(nas = %nas.name, reason = e.reason(), "request failed verification: wrong secret or forged");
        return Outcome::Drop;
    }
    // FreeRADIUS 3.2.5 hardening (`limit_proxy_state`): Proxy-State without
    // Message-Authenticator is the shape of the BlastRADIUS forgery, even from a NAS not
    // required to sign. A NAS never sends Proxy-State; only an upstream proxy does.
    if nas.limit_proxy_state
        && packet.first(rfc::PROXY_STATE).is_some()
        && packet.first(rfc::MESSAGE_AUTHENTICATOR).is_none()
    {
        RadiusStats::bump(&stats.dropped_authenticator_total);
        return Outcome::Drop;
    }
    let (mut reply, attempt) = if packet.code() == Code::StatusServer {
        RadiusStats::bump(&stats.status_server_total);
        let mut reply = packet.reply(Code::AccessAccept);
        reply.push(Attribute::string(rfc::REPLY_MESSAGE, "ispd is up"));
        (reply, None)
    } else {
        let Some((reply, attempt)) = access_request(&packet, nas, shared, at) else {
            return Outcome::Drop;
        };
        (reply, Some(attempt))
    };
    reply.insert_message_authenticator();
    match reply.encode_response(packet.authenticator(), &nas.secret) {
        Ok(bytes) => Outcome::Reply { bytes, attempt },
        Err(e) => {
            tracing::error!(nas = %nas.name, error = %e, "reply could not be encoded");
            Outcome::Drop
        }
    }
}

/// The reply to an Access-Request and what the authentication log records of it; `None`
/// (dropped, counted) when an Accept's own attributes do not fit beside the Proxy-States.
fn access_request(
    packet: &PacketRef<'_>,
    nas: &NasEntry,
    shared: &Shared<'_>,
    at: At,
) -> Option<(ispd_radius::Packet, AuthAttempt)> {
    let cache = shared.cache;
    let (user_name, shown_user) = user_name_of(packet);
    // The un-hidden User-Password lives here; an undecodable one counts as empty.
    let hidden = packet.first(rfc::USER_PASSWORD);
    let password = hidden.and_then(|h| {
        ispd_radius::password::unhide(h.as_bytes(), nas.secret.bytes(), packet.authenticator()).ok()
    });
    let ms_chap2_response = packet
        .vendor_first(microsoft::VENDOR_ID, microsoft::MS_CHAP2_RESPONSE)
        .map(|a| a.as_bytes());
    let repeated = repeated_credentials(packet, ms_chap2_response.is_some());
    let credential = ProofAttributes {
        user_password: hidden.map(|_| password.as_ref().map_or(&[][..], |p| p.as_bytes())),
        chap_password: packet.first(rfc::CHAP_PASSWORD).map(|a| a.as_bytes()),
        chap_challenge: ispd_radius::chap::challenge(packet),
        ms_chap_challenge: packet
            .vendor_first(microsoft::VENDOR_ID, microsoft::MS_CHAP_CHALLENGE)
            .map(|a| a.as_bytes()),
        ms_chap2_response,
        eap_message: packet.first(rfc::EAP_MESSAGE).is_some(),
        repeated,
    }
    .credential();
    let calling_station_text = packet
        .first(rfc::CALLING_STATION_ID)
        .and_then(|a| a.as_str().ok())
        .unwrap_or_default();
    let calling_station = calling_station_text.parse::<MacAddress>().ok();
    let request = AccessRequest {
        user_name,
        credential,
        calling_station,
        at,
    };
    let login = cache.lookup(user_name, calling_station);
    let context = NasContext {
        name: &nas.name,
        vendor: nas.vendor,
    };
    let open_sessions = login.map_or(0, |l| cache.open_sessions(l.login_id));
    let decision = decide(login, &request, &context, open_sessions, shared.policy);
    let decision = shared.addresses.assign(
        decision,
        (&nas.name, &request),
        (user_name, calling_station_text),
        cache,
    );
    let answer = Answer::of(decision);
    let Some(reply) = encode_reply(packet, answer.code, &answer.attributes, nas, &shown_user)
    else {
        RadiusStats::bump(&shared.stats.dropped_reply_too_large_total);
        tracing::warn!(nas = %nas.name, user = %shown_user, "Access-Accept not sent: its attributes and the request's Proxy-States pass 4096 octets");
        return None;
    };
    answer.count(nas, shared.stats, &shown_user, credential.method());
    let Answer { result, reason, .. } = answer;
    let attempt = AuthAttempt {
        at: at.utc,
        last_at: at.utc,
        count: 1,
        login: login.map_or(&*shown_user, |l| l.username.as_str()).into(),
        nas_name: nas.name.clone(),
        calling_station: calling_station_text.into(),
        method: credential.method(),
        result,
        reason,
    };
    Some((reply, attempt))
}

/// Whether a credential attribute is sent twice: one pass over the attributes, the vendor
/// ones only when MS-CHAPv2 is there at all.
fn repeated_credentials(packet: &PacketRef<'_>, ms_chap2: bool) -> bool {
    let (mut passwords, mut chap) = (0u8, 0u8);
    for a in packet.attributes() {
        match a.typ {
            rfc::USER_PASSWORD => passwords = passwords.saturating_add(1),
            rfc::CHAP_PASSWORD => chap = chap.saturating_add(1),
            _ => {}
        }
    }
    passwords > 1
        || chap > 1
        || (ms_chap2
            && packet
                .vendor_all(microsoft::VENDOR_ID, microsoft::MS_CHAP2_RESPONSE)
                .nth(1)
                .is_some())
}

/// The User-Name as a login is looked up by ("" when it is not UTF-8: no login's), and as logs
/// and the authentication log show it: as sent, or in hex when it is not UTF-8 (a CPE in
/// another code page), as accounting stores it — it was "", and every such name merged into
/// one row (found probing from outside).
fn user_name_of<'a>(packet: &PacketRef<'a>) -> (&'a str, std::borrow::Cow<'a, str>) {
    let raw = packet
        .first(rfc::USER_NAME)
        .map(|a| a.as_bytes())
        .unwrap_or_default();
    let text = std::str::from_utf8(raw).unwrap_or_default();
    let shown = if text.len() == raw.len() {
        text.into()
    } else {
        ispd_provisioning::accounting::attribute_text(raw).into()
    };
    (text, shown)
}

/// A decision as the reply's code and attributes and the log's result and reason.
struct Answer {
    code: Code,
    attributes: Vec<ReplyAttribute>,
    result: AuthResult,
    reason: &'static str,
    rejected: Option<RejectReason>,
}

impl Answer {
    fn of(decision: Decision) -> Answer {
        match decision {
            Decision::Accept { attributes, state } => Answer {
                code: Code::AccessAccept,
                attributes,
                result: AuthResult::Accept,
                reason: state.as_str(),
                rejected: None,
            },
            Decision::Reject {
                reason,
                reply_message,
                mut attributes,
            } => {
                attributes.insert(0, ReplyAttribute::ReplyMessage(reply_message));
                Answer {
                    code: Code::AccessReject,
                    attributes,
                    result: AuthResult::Reject,
                    reason: reason.as_str(),
                    rejected: Some(reason),
                }
            }
        }
    }

    /// Counted and logged once its reply is encoded, so a dropped one is no accept.
    fn count(&self, nas: &NasEntry, stats: &RadiusStats, user_name: &str, method: &'static str) {
        let Some(reason) = self.rejected else {
            RadiusStats::bump(&stats.accepts_total);
            nas.answers.accept.increment(1);
            tracing::debug!(nas = %nas.name, user = user_name, method = method, state = self.reason, "accept");
            return;
        };
        RadiusStats::bump(&stats.rejects_total);
        nas.answers.rejected(reason);
        if reason == RejectReason::MultipleCredentials {
            RadiusStats::bump(&stats.rejects_multiple_credentials_total);
        }
        tracing::info!(nas = %nas.name, user = user_name, method = method, reason = reason.as_str(), "reject");
    }
}

/// The reply packet with `attributes` encoded for `nas`; `None` when it is an Accept whose
/// own attributes do not fit (see [`fit`]). One that cannot be encoded (an operator's extra
/// attribute with an unknown name or a bad value) or does not fit is left out and logged.
fn encode_reply(
    packet: &PacketRef<'_>,
    code: Code,
    attributes: &[ReplyAttribute],
    nas: &NasEntry,
    user_name: &str,
) -> Option<ispd_radius::Packet> {
    let mut salt_counter = 0u16;
    let mut salt = || {
        let mut s = [0u8; 2];
        if getrandom::fill(&mut s).is_err() {
            salt_counter = salt_counter.wrapping_add(1);
            s = salt_counter.to_be_bytes();
        }
        s[0] |= 0x80;
        s
    };
    let mut reply = packet.reply(code);
    let encoded: Vec<(Option<Attribute>, bool)> = attributes
        .iter()
        .map(|attr| {
            let a =
                super::reply::encode(attr, nas.secret.bytes(), packet.authenticator(), &mut salt);
            (a, matches!(attr, ReplyAttribute::Extra { .. }))
        })
        .collect();
    let verdicts = fit(reply.encoded_len(), &encoded, code == Code::AccessAccept)?;
    for ((attr, (a, _)), verdict) in attributes.iter().zip(encoded).zip(verdicts) {
        match (verdict, a) {
            (Ok(()), Some(a)) => reply.push(a),
            // `fit` passes no attribute that was not encoded.
            (Ok(()), None) => {}
            (Err(reason), _) => {
                tracing::warn!(nas = %nas.name, user = user_name, attribute = ?attr_name(attr), reason, "reply attribute skipped");
            }
        }
    }
    Some(reply)
}

/// Whether each encoded attribute (with whether it is a login's extra) goes in a reply of
/// which `used` octets are taken (the header, the echoed Proxy-States), in order; `None` when
/// an Accept's own attributes do not fit. An Accept's own attributes (all but the extras:
/// the rate limit, Class, the timeouts) all go or none: left out, the subscriber would be let
/// in without them. Found probing from outside: sixteen Proxy-States pushed the rate limit
/// and Class out of an Accept that was still sent. The extras take the room those leave,
/// each that does not fit left out; a Reject may lose any, its Reply-Message too.
fn fit(
    used: usize,
    encoded: &[(Option<Attribute>, bool)],
    accept: bool,
) -> Option<Vec<Result<(), &'static str>>> {
    let size = |a: &Option<Attribute>| {
        a.as_ref()
            .filter(|a| a.value.len() <= ispd_radius::MAX_ATTRIBUTE_VALUE_LEN)
            .map(|a| 2 + a.value.len())
    };
    let own =
        |(a, extra): &(Option<Attribute>, bool)| if accept && !extra { size(a) } else { None };
    let mut reserved: usize = encoded.iter().filter_map(own).sum();
    if used + reserved > REPLY_ROOM {
        return None;
    }
    let mut len = used;
    let verdicts = encoded.iter().map(|entry| {
        let Some(n) = size(&entry.0) else {
            return Err(if entry.0.is_none() {
                "unknown name or bad value"
            } else {
                "value over 253 octets"
            });
        };
        if own(entry).is_some() {
            reserved -= n;
        } else if len + n + reserved > REPLY_ROOM {
            return Err("the reply would pass 4096 octets");
        }
        len += n;
        Ok(())
    });
    Some(verdicts.collect())
}

/// What a reply's attributes may take: RFC 2865 §3's 4096 octets, less the
/// Message-Authenticator (18 octets) every reply gets after them.
const REPLY_ROOM: usize = ispd_radius::MAX_PACKET_LEN - 18;

fn attr_name(attr: &ReplyAttribute) -> String {
    match attr {
        ReplyAttribute::Extra { name, .. } => name.clone(),
        _ => "built-in".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribute(len: usize) -> Option<Attribute> {
        Some(Attribute::new(rfc::CLASS, vec![0; len]))
    }

    /// Found probing from outside: Proxy-States filling the reply pushed the rate limit and
    /// Class out of an Accept that was still sent. An Accept's own attributes all go or the
    /// Accept does not; extras, wherever they stand, take only the room those leave.
    #[test]
    fn an_accept_sends_all_its_own_attributes_or_none() {
        let own = |len| (attribute(len), false);
        let extra = |len| (attribute(len), true);
        // An extra before the policy's last attribute (Class comes after the extras) cannot
        // take its room.
        let verdicts = fit(REPLY_ROOM - 200, &[own(50), extra(100), own(50)], true).unwrap();
        assert_eq!(
            verdicts,
            [Ok(()), Err("the reply would pass 4096 octets"), Ok(())]
        );
        let verdicts = fit(REPLY_ROOM - 300, &[own(50), extra(100), own(50)], true).unwrap();
        assert_eq!(verdicts, [Ok(()); 3]);
        // The Accept's own do not fit beside the Proxy-States: no Accept.
        assert_eq!(fit(REPLY_ROOM - 100, &[own(50), own(50)], true), None);
        assert!(fit(REPLY_ROOM - 104, &[own(50), own(50)], true).is_some());
        // A Reject loses what does not fit, its Reply-Message too.
        let verdicts = fit(REPLY_ROOM - 100, &[own(200), own(50)], false).unwrap();
        assert_eq!(verdicts, [Err("the reply would pass 4096 octets"), Ok(())]);
        // One that cannot be encoded is left out, as before.
        let verdicts = fit(20, &[(None, true), own(300)], true).unwrap();
        assert_eq!(
            verdicts,
            [
                Err("unknown name or bad value"),
                Err("value over 253 octets")
            ]
        );
    }
}
