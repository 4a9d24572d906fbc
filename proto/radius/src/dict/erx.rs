//! Juniper ERX / Junos subscriber-management attributes ("ERX-*"), which
//! keep the Unisphere vendor id 4874. These carry the rate and policy
//! settings of Juniper BNGs. Attributes FreeRADIUS marks `has_tag`
//! (Service-Activate, -Volume, -Timeout, -Statistics, -Acct-Interval) start
//! their value with a one-octet tag.

/// Unisphere (Juniper ERX) SMI Private Enterprise Code.
pub const VENDOR_ID: u32 = 4874;

attributes! {
    ERX_VIRTUAL_ROUTER_NAME = 1 => "ERX-Virtual-Router-Name": Text,
    ERX_ADDRESS_POOL_NAME = 2 => "ERX-Address-Pool-Name": Text,
    ERX_LOCAL_LOOPBACK_INTERFACE = 3 => "ERX-Local-Loopback-Interface": Text,
    ERX_PRIMARY_DNS = 4 => "ERX-Primary-Dns": Ipv4Addr,
    ERX_SECONDARY_DNS = 5 => "ERX-Secondary-Dns": Ipv4Addr,
    ERX_PRIMARY_WINS = 6 => "ERX-Primary-Wins": Ipv4Addr,
    ERX_SECONDARY_WINS = 7 => "ERX-Secondary-Wins": Ipv4Addr,
    ERX_INGRESS_POLICY_NAME = 10 => "ERX-Ingress-Policy-Name": Text,
    ERX_EGRESS_POLICY_NAME = 11 => "ERX-Egress-Policy-Name": Text,
    ERX_INGRESS_STATISTICS = 12 => "ERX-Ingress-Statistics": Integer,
    ERX_EGRESS_STATISTICS = 13 => "ERX-Egress-Statistics": Integer,
    ERX_QOS_PROFILE_NAME = 26 => "ERX-Qos-Profile-Name": Text,
    ERX_SERVICE_BUNDLE = 31 => "ERX-Service-Bundle": Text,
    ERX_INPUT_GIGAPKTS = 42 => "ERX-Input-Gigapkts": Integer,
    ERX_OUTPUT_GIGAPKTS = 43 => "ERX-Output-Gigapkts": Integer,
    ERX_IPV6_PRIMARY_DNS = 47 => "ERX-Ipv6-Primary-Dns": Ipv6Addr,
    ERX_IPV6_SECONDARY_DNS = 48 => "ERX-Ipv6-Secondary-Dns": Ipv6Addr,
    ERX_SERVICE_DESCRIPTION = 53 => "ERX-Service-Description": Text,
    ERX_DHCP_MAC_ADDR = 56 => "ERX-Dhcp-Mac-Addr": Text,
    ERX_SERVICE_ACTIVATE = 65 => "ERX-Service-Activate": TaggedText,
    ERX_SERVICE_DEACTIVATE = 66 => "ERX-Service-Deactivate": Text,
    ERX_SERVICE_VOLUME = 67 => "ERX-Service-Volume": TaggedInteger,
    ERX_SERVICE_TIMEOUT = 68 => "ERX-Service-Timeout": TaggedInteger,
    ERX_SERVICE_STATISTICS = 69 => "ERX-Service-Statistics": TaggedInteger,
    ERX_QOS_PARAMETERS = 82 => "ERX-Qos-Parameters": Text,
    ERX_SERVICE_SESSION = 83 => "ERX-Service-Session": Text,
    ERX_IPV6_INGRESS_POLICY_NAME = 106 => "ERX-IPv6-Ingress-Policy-Name": Text,
    ERX_IPV6_EGRESS_POLICY_NAME = 107 => "ERX-IPv6-Egress-Policy-Name": Text,
    ERX_ACC_LOOP_CIR_ID = 110 => "ERX-Acc-Loop-Cir-Id": Text,
    ERX_ACC_AGGR_CIR_ID_ASC = 112 => "ERX-Acc-Aggr-Cir-Id-Asc": Text,
    ERX_ACT_DATA_RATE_UP = 113 => "ERX-Act-Data-Rate-Up": Integer,
    ERX_ACT_DATA_RATE_DN = 114 => "ERX-Act-Data-Rate-Dn": Integer,
    ERX_IPV6_NDRA_PREFIX = 129 => "ERX-IPv6-NdRa-Prefix": Ipv6Prefix,
    ERX_SERVICE_ACCT_INTERVAL = 140 => "ERX-Service-Acct-Interval": TaggedInteger,
    ERX_IPV6_DELEGATED_POOL_NAME = 161 => "ERX-IPv6-Delegated-Pool-Name": Text,
    ERX_ACC_LOOP_REMOTE_ID = 182 => "ERX-Acc-Loop-Remote-Id": Text,
}
