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
        let (reply, attempt) = access_request(&packet, nas, shared, at);
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

fn access_request(
    packet: &PacketRef<'_>,
    nas: &NasEntry,
    shared: &Shared<'_>,
    at: At,
) -> (ispd_radius::Packet, AuthAttempt) {
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
    let (code, attributes, result, reason) = counted(
        decision,
        nas,
        shared.stats,
        &shown_user,
        credential.method(),
    );
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
    let reply = encode_reply(packet, code, &attributes, nas, &shown_user);
    (reply, attempt)
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

/// The decision counted and logged, as the reply's code and attributes and the log's result
/// and reason.
fn counted(
    decision: Decision,
    nas: &NasEntry,
    stats: &RadiusStats,
    user_name: &str,
    method: &'static str,
) -> (Code, Vec<ReplyAttribute>, AuthResult, &'static str) {
    match decision {
        Decision::Accept { attributes, state } => {
            RadiusStats::bump(&stats.accepts_total);
            nas.answers.accept.increment(1);
            tracing::debug!(nas = %nas.name, user = user_name, method = method, state = state.as_str(), "accept");
            (
                Code::AccessAccept,
                attributes,
                AuthResult::Accept,
                state.as_str(),
            )
        }
        Decision::Reject {
            reason,
            reply_message,
            mut attributes,
        } => {
            RadiusStats::bump(&stats.rejects_total);
            nas.answers.rejected(reason);
            if reason == RejectReason::MultipleCredentials {
                RadiusStats::bump(&stats.rejects_multiple_credentials_total);
            }
            tracing::info!(nas = %nas.name, user = user_name, method = method, reason = reason.as_str(), "reject");
            attributes.insert(0, ReplyAttribute::ReplyMessage(reply_message));
            (
                Code::AccessReject,
                attributes,
                AuthResult::Reject,
                reason.as_str(),
            )
        }
    }
}

/// The reply packet with `attributes` encoded for `nas`; one that cannot be encoded (an
/// operator's extra attribute with an unknown name or a bad value) is left out and logged.
fn encode_reply(
    packet: &PacketRef<'_>,
    code: Code,
    attributes: &[ReplyAttribute],
    nas: &NasEntry,
    user_name: &str,
) -> ispd_radius::Packet {
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
    let mut len = reply.encoded_len();
    for attr in attributes {
        // An attribute that cannot go in the reply is left out, never the reply itself: a
        // login's extra attribute once silenced every answer to it (found probing from
        // outside). The built-in attributes come first, so what is left out is an extra.
        let fits =
            match super::reply::encode(attr, nas.secret.bytes(), packet.authenticator(), &mut salt)
            {
                None => Err("unknown name or bad value"),
                Some(a) if a.value.len() > ispd_radius::MAX_ATTRIBUTE_VALUE_LEN => {
                    Err("value over 253 octets")
                }
                Some(a) if len + 2 + a.value.len() > REPLY_ROOM => {
                    Err("the reply would pass 4096 octets")
                }
                Some(a) => Ok(a),
            };
        match fits {
            Ok(a) => {
                len += 2 + a.value.len();
                reply.push(a);
            }
            Err(reason) => {
                tracing::warn!(nas = %nas.name, user = user_name, attribute = ?attr_name(attr), reason, "reply attribute skipped");
            }
        }
    }
    reply
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
