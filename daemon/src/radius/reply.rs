//! Encoding the policy's typed reply attributes with the codec's dictionaries.

use ispd_provisioning::reply::ReplyAttribute;
use ispd_radius::dict::{cisco, erx, microsoft, mikrotik, rfc, wispr};
use ispd_radius::{Attribute, Ipv6Prefix};

/// Encodes one attribute. `salt` supplies fresh salts for the MPPE keys (RFC 2548 §2.4.2),
/// which are encrypted with the shared secret and the request authenticator.
pub fn encode(
    attr: &ReplyAttribute,
    secret: &[u8],
    request_authenticator: &[u8; 16],
    salt: &mut impl FnMut() -> [u8; 2],
) -> Option<Attribute> {
    use ReplyAttribute as R;
    let vendor = |id, typ, value: &[u8]| Attribute::vendor(id, typ, value).ok();
    match attr {
        R::FramedIpAddress(a) => Some(Attribute::ipv4(rfc::FRAMED_IP_ADDRESS, *a)),
        R::FramedIpv6Prefix(p) => Some(Attribute::ipv6_prefix(rfc::FRAMED_IPV6_PREFIX, prefix(p)?)),
        R::DelegatedIpv6Prefix(p) => Some(Attribute::ipv6_prefix(
            rfc::DELEGATED_IPV6_PREFIX,
            prefix(p)?,
        )),
        R::FramedPool(pool) => Some(Attribute::string(rfc::FRAMED_POOL, pool)),
        R::SessionTimeout(s) => Some(Attribute::integer(rfc::SESSION_TIMEOUT, *s)),
        R::IdleTimeout(s) => Some(Attribute::integer(rfc::IDLE_TIMEOUT, *s)),
        R::AcctInterimInterval(s) => Some(Attribute::integer(rfc::ACCT_INTERIM_INTERVAL, *s)),
        R::Class(bytes) => Some(Attribute::new(rfc::CLASS, bytes.clone())),
        R::ReplyMessage(text) => Some(Attribute::string(rfc::REPLY_MESSAGE, text)),
        R::FilterId(text) => Some(Attribute::string(rfc::FILTER_ID, text)),
        R::MikrotikRateLimit(text) => vendor(
            mikrotik::VENDOR_ID,
            mikrotik::MIKROTIK_RATE_LIMIT,
            text.as_bytes(),
        ),
        R::MikrotikAddressList(text) => vendor(
            mikrotik::VENDOR_ID,
            mikrotik::MIKROTIK_ADDRESS_LIST,
            text.as_bytes(),
        ),
        R::CiscoAvPair(text) => vendor(cisco::VENDOR_ID, cisco::CISCO_AVPAIR, text.as_bytes()),
        R::WisprBandwidthMaxUp(bps) => vendor(
            wispr::VENDOR_ID,
            wispr::WISPR_BANDWIDTH_MAX_UP,
            &bps.to_be_bytes(),
        ),
        R::WisprBandwidthMaxDown(bps) => vendor(
            wispr::VENDOR_ID,
            wispr::WISPR_BANDWIDTH_MAX_DOWN,
            &bps.to_be_bytes(),
        ),
        R::MsChap2Success(value) => {
            vendor(microsoft::VENDOR_ID, microsoft::MS_CHAP2_SUCCESS, value)
        }
        R::MsChapError(value) => vendor(microsoft::VENDOR_ID, microsoft::MS_CHAP_ERROR, value),
        R::MsMppeSendKey(key) | R::MsMppeRecvKey(key) => {
            let typ = if matches!(attr, R::MsMppeSendKey(_)) {
                microsoft::MS_MPPE_SEND_KEY
            } else {
                microsoft::MS_MPPE_RECV_KEY
            };
            let sealed =
                ispd_radius::salt::encrypt(&key.0, secret, request_authenticator, salt()).ok()?;
            vendor(microsoft::VENDOR_ID, typ, &sealed)
        }
        R::MsMppeEncryptionPolicy(v) => vendor(
            microsoft::VENDOR_ID,
            microsoft::MS_MPPE_ENCRYPTION_POLICY,
            &v.to_be_bytes(),
        ),
        R::MsMppeEncryptionTypes(v) => vendor(
            microsoft::VENDOR_ID,
            microsoft::MS_MPPE_ENCRYPTION_TYPES,
            &v.to_be_bytes(),
        ),
        R::ErxServiceActivate { tag, value } => {
            // A tagged string: the tag octet, then the text (FreeRADIUS `has_tag`).
            let mut tagged = Vec::with_capacity(value.len() + 1);
            tagged.push(*tag);
            tagged.extend_from_slice(value.as_bytes());
            vendor(erx::VENDOR_ID, erx::ERX_SERVICE_ACTIVATE, &tagged)
        }
        R::ErxServiceDeactivate(name) => {
            vendor(erx::VENDOR_ID, erx::ERX_SERVICE_DEACTIVATE, name.as_bytes())
        }
        R::Extra { name, value } => extra(name, value),
    }
}

fn prefix(p: &ispd_provisioning::login::Ipv6Prefix) -> Option<Ipv6Prefix> {
    Ipv6Prefix::new(p.addr, p.len).ok()
}

/// Attributes whose values are not text. The codec's dictionaries carry names, not types,
/// so the few non-text attributes an operator is likely to add per login are listed here;
/// every other attribute is sent as text.
const INTEGER_ATTRIBUTES: &[&str] = &[
    "Session-Timeout",
    "Idle-Timeout",
    "Acct-Interim-Interval",
    "Framed-MTU",
    "Port-Limit",
    "Service-Type",
    "Framed-Protocol",
    "Framed-Routing",
    "Mikrotik-Recv-Limit",
    "Mikrotik-Xmit-Limit",
    "Mikrotik-Recv-Limit-Gigawords",
    "Mikrotik-Xmit-Limit-Gigawords",
    "Mikrotik-Total-Limit",
    "Mikrotik-Total-Limit-Gigawords",
    "Mikrotik-Wireless-VLANID",
    "WISPr-Bandwidth-Max-Up",
    "WISPr-Bandwidth-Max-Down",
];
const ADDRESS_ATTRIBUTES: &[&str] = &["Framed-IP-Address", "Framed-IP-Netmask", "Mikrotik-Host-IP"];

/// A per-login extra attribute by dictionary name; `None` (logged by the caller) when the
/// name or the value does not fit.
pub fn extra(name: &str, value: &str) -> Option<Attribute> {
    let bytes: Vec<u8> = if INTEGER_ATTRIBUTES.contains(&name) {
        value.trim().parse::<u32>().ok()?.to_be_bytes().to_vec()
    } else if ADDRESS_ATTRIBUTES.contains(&name) {
        value
            .trim()
            .parse::<std::net::Ipv4Addr>()
            .ok()?
            .octets()
            .to_vec()
    } else {
        value.as_bytes().to_vec()
    };
    if let Some((typ, _)) = rfc::ALL.iter().find(|(_, n)| *n == name) {
        return Some(Attribute::new(*typ, bytes));
    }
    let vendors: [(u32, &[(u8, &str)]); 5] = [
        (mikrotik::VENDOR_ID, mikrotik::ALL),
        (cisco::VENDOR_ID, cisco::ALL),
        (microsoft::VENDOR_ID, microsoft::ALL),
        (wispr::VENDOR_ID, wispr::ALL),
        (
            ispd_radius::dict::juniper::VENDOR_ID,
            ispd_radius::dict::juniper::ALL,
        ),
    ];
    vendors.iter().find_map(|(id, table)| {
        let (typ, _) = table.iter().find(|(_, n)| *n == name)?;
        Attribute::vendor(*id, *typ, &bytes).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extras_are_typed_by_name() {
        let a = extra("Mikrotik-Address-List", "vip").unwrap();
        assert_eq!(a.typ, 26);
        assert!(a.value.ends_with(b"vip"));
        let a = extra("Session-Timeout", "3600").unwrap();
        assert_eq!(
            (a.typ, a.value.as_slice()),
            (27, &3600u32.to_be_bytes()[..])
        );
        let a = extra("Framed-IP-Netmask", "255.255.255.0").unwrap();
        assert_eq!(a.value, vec![255, 255, 255, 0]);
        assert!(extra("Session-Timeout", "soon").is_none());
        assert!(extra("No-Such-Attribute", "x").is_none());
    }
}
