//! Typed reply attributes: what an Access-Accept or Access-Reject should say, before any
//! encoding. The daemon maps each variant to its dictionary entry and encodes it; keeping the
//! codec out of this crate lets the policy be tested as plain data.

use std::net::Ipv4Addr;

use crate::login::Ipv6Prefix;

/// A 16-byte MPPE key in the clear. The codec must hide it with the shared secret, the
/// Request Authenticator and a salt (RFC 2548 §2.4.2) before it goes on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct MppeKey(pub [u8; 16]);

/// Key material stays out of logs.
impl std::fmt::Debug for MppeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MppeKey(..)")
    }
}

/// One reply attribute. Vendor-specific ones name their vendor (MikroTik 14988, Cisco 9,
/// WISPr 14122, Microsoft 311, Juniper ERX 4874) so the daemon's encoder needs no further
/// context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyAttribute {
    /// Framed-IP-Address (8, RFC 2865 §5.8): the login's static IPv4 address.
    FramedIpAddress(Ipv4Addr),
    /// Framed-IPv6-Prefix (97, RFC 3162 §2.3): the prefix on the PPP link itself (a /64 the
    /// CPE autoconfigures its WAN address from).
    FramedIpv6Prefix(Ipv6Prefix),
    /// Delegated-IPv6-Prefix (123, RFC 4818): a prefix routed to the CPE for its LAN, handed
    /// out by the NAS with DHCPv6 prefix delegation.
    DelegatedIpv6Prefix(Ipv6Prefix),
    /// Framed-Pool (88, RFC 2869 §5.18): the NAS-side pool to take an address from.
    FramedPool(String),
    /// Session-Timeout (27, RFC 2865 §5.27), seconds.
    SessionTimeout(u32),
    /// Idle-Timeout (28, RFC 2865 §5.28), seconds.
    IdleTimeout(u32),
    /// Acct-Interim-Interval (85, RFC 2869 §5.16), seconds.
    AcctInterimInterval(u32),
    /// Class (25, RFC 2865 §5.25): echoed by the NAS in accounting.
    Class(Vec<u8>),
    /// Reply-Message (18, RFC 2865 §5.18).
    ReplyMessage(String),
    /// Filter-Id (11, RFC 2865 §5.11); accel-ppp reads the rate from it.
    FilterId(String),
    /// Mikrotik-Rate-Limit (14988/8).
    MikrotikRateLimit(String),
    /// Mikrotik-Address-List (14988/19).
    MikrotikAddressList(String),
    /// Cisco-AVPair (9/1), the whole `name=value` text.
    CiscoAvPair(String),
    /// WISPr-Bandwidth-Max-Up (14122/7), bit/s.
    WisprBandwidthMaxUp(u32),
    /// WISPr-Bandwidth-Max-Down (14122/8), bit/s.
    WisprBandwidthMaxDown(u32),
    /// MS-CHAP2-Success (311/26, RFC 2548 §2.3.3): Ident + `S=<40 hex>`.
    MsChap2Success(Vec<u8>),
    /// MS-CHAP-Error (311/2, RFC 2548 §2.1.5): Ident + RFC 2759 §6 failure text.
    MsChapError(Vec<u8>),
    /// MS-MPPE-Send-Key (311/16, RFC 2548 §2.4.2): the NAS's key for sending to the peer.
    MsMppeSendKey(MppeKey),
    /// MS-MPPE-Recv-Key (311/17, RFC 2548 §2.4.3): the NAS's key for receiving from the peer.
    MsMppeRecvKey(MppeKey),
    /// MS-MPPE-Encryption-Policy (311/7, RFC 2548 §2.4.4): 1 allowed, 2 required.
    MsMppeEncryptionPolicy(u32),
    /// MS-MPPE-Encryption-Types (311/8, RFC 2548 §2.4.5): bit 0x2 40-bit, 0x4 128-bit.
    MsMppeEncryptionTypes(u32),
    /// ERX-Service-Activate (4874/65, tagged): a Junos dynamic service profile by name with
    /// its parameters, `name(p1,p2)`.
    ErxServiceActivate { tag: u8, value: String },
    /// ERX-Service-Deactivate (4874/66): the Junos service to take off the session.
    ErxServiceDeactivate(String),
    /// A per-login attribute by dictionary name; the daemon resolves and encodes it.
    Extra { name: String, value: String },
}

impl ReplyAttribute {
    /// The dictionary name of an attribute an Accept holds at most once (RFC 2865 §5.44):
    /// a login's extra of that name takes its place. `None` for those a reply may repeat
    /// (address lists, AV pairs) and for those no extra may name.
    pub fn single_name(&self) -> Option<&'static str> {
        Some(match self {
            ReplyAttribute::FramedIpAddress(_) => "Framed-IP-Address",
            ReplyAttribute::FramedIpv6Prefix(_) => "Framed-IPv6-Prefix",
            ReplyAttribute::DelegatedIpv6Prefix(_) => "Delegated-IPv6-Prefix",
            ReplyAttribute::FramedPool(_) => "Framed-Pool",
            ReplyAttribute::SessionTimeout(_) => "Session-Timeout",
            ReplyAttribute::IdleTimeout(_) => "Idle-Timeout",
            ReplyAttribute::AcctInterimInterval(_) => "Acct-Interim-Interval",
            ReplyAttribute::FilterId(_) => "Filter-Id",
            ReplyAttribute::MikrotikRateLimit(_) => "Mikrotik-Rate-Limit",
            ReplyAttribute::WisprBandwidthMaxUp(_) => "WISPr-Bandwidth-Max-Up",
            ReplyAttribute::WisprBandwidthMaxDown(_) => "WISPr-Bandwidth-Max-Down",
            _ => return None,
        })
    }
}
