//! Juniper ERX / Junos subscriber-management attributes ("ERX-*"), which
//! keep the Unisphere vendor id 4874. These carry the rate and policy
//! settings of Juniper BNGs. Attributes FreeRADIUS marks `has_tag`
//! (Service-Activate, -Volume, -Timeout, -Statistics, -Acct-Interval) start
//! their value with a one-octet tag.

/// Unisphere (Juniper ERX) SMI Private Enterprise Code.
pub const VENDOR_ID: u32 = 4874;

attributes! {
    ERX_VIRTUAL_ROUTER_NAME = 1 => "ERX-Virtual-Router-Name",
    ERX_ADDRESS_POOL_NAME = 2 => "ERX-Address-Pool-Name",
    ERX_LOCAL_LOOPBACK_INTERFACE = 3 => "ERX-Local-Loopback-Interface",
    ERX_PRIMARY_DNS = 4 => "ERX-Primary-Dns",
    ERX_SECONDARY_DNS = 5 => "ERX-Secondary-Dns",
    ERX_PRIMARY_WINS = 6 => "ERX-Primary-Wins",
    ERX_SECONDARY_WINS = 7 => "ERX-Secondary-Wins",
    ERX_INGRESS_POLICY_NAME = 10 => "ERX-Ingress-Policy-Name",
    ERX_EGRESS_POLICY_NAME = 11 => "ERX-Egress-Policy-Name",
    ERX_INGRESS_STATISTICS = 12 => "ERX-Ingress-Statistics",
    ERX_EGRESS_STATISTICS = 13 => "ERX-Egress-Statistics",
    ERX_QOS_PROFILE_NAME = 26 => "ERX-Qos-Profile-Name",
    ERX_SERVICE_BUNDLE = 31 => "ERX-Service-Bundle",
    ERX_INPUT_GIGAPKTS = 42 => "ERX-Input-Gigapkts",
    ERX_OUTPUT_GIGAPKTS = 43 => "ERX-Output-Gigapkts",
    ERX_IPV6_PRIMARY_DNS = 47 => "ERX-Ipv6-Primary-Dns",
    ERX_IPV6_SECONDARY_DNS = 48 => "ERX-Ipv6-Secondary-Dns",
    ERX_SERVICE_DESCRIPTION = 53 => "ERX-Service-Description",
    ERX_DHCP_MAC_ADDR = 56 => "ERX-Dhcp-Mac-Addr",
    ERX_SERVICE_ACTIVATE = 65 => "ERX-Service-Activate",
    ERX_SERVICE_DEACTIVATE = 66 => "ERX-Service-Deactivate",
    ERX_SERVICE_VOLUME = 67 => "ERX-Service-Volume",
    ERX_SERVICE_TIMEOUT = 68 => "ERX-Service-Timeout",
    ERX_SERVICE_STATISTICS = 69 => "ERX-Service-Statistics",
    ERX_QOS_PARAMETERS = 82 => "ERX-Qos-Parameters",
    ERX_SERVICE_SESSION = 83 => "ERX-Service-Session",
    ERX_IPV6_INGRESS_POLICY_NAME = 106 => "ERX-IPv6-Ingress-Policy-Name",
    ERX_IPV6_EGRESS_POLICY_NAME = 107 => "ERX-IPv6-Egress-Policy-Name",
    ERX_ACC_LOOP_CIR_ID = 110 => "ERX-Acc-Loop-Cir-Id",
    ERX_ACC_AGGR_CIR_ID_ASC = 112 => "ERX-Acc-Aggr-Cir-Id-Asc",
    ERX_ACT_DATA_RATE_UP = 113 => "ERX-Act-Data-Rate-Up",
    ERX_ACT_DATA_RATE_DN = 114 => "ERX-Act-Data-Rate-Dn",
    ERX_IPV6_NDRA_PREFIX = 129 => "ERX-IPv6-NdRa-Prefix",
    ERX_SERVICE_ACCT_INTERVAL = 140 => "ERX-Service-Acct-Interval",
    ERX_IPV6_DELEGATED_POOL_NAME = 161 => "ERX-IPv6-Delegated-Pool-Name",
    ERX_ACC_LOOP_REMOTE_ID = 182 => "ERX-Acc-Loop-Remote-Id",
}
