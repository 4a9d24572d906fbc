//! MikroTik RouterOS vendor attributes (rate limits, address lists,
//! traffic limits).

/// MikroTik's SMI Private Enterprise Code.
pub const VENDOR_ID: u32 = 14988;

attributes! {
    MIKROTIK_RECV_LIMIT = 1 => "Mikrotik-Recv-Limit",
    MIKROTIK_XMIT_LIMIT = 2 => "Mikrotik-Xmit-Limit",
    MIKROTIK_GROUP = 3 => "Mikrotik-Group",
    MIKROTIK_WIRELESS_FORWARD = 4 => "Mikrotik-Wireless-Forward",
    MIKROTIK_WIRELESS_SKIP_DOT1X = 5 => "Mikrotik-Wireless-Skip-Dot1x",
    MIKROTIK_WIRELESS_ENC_ALGO = 6 => "Mikrotik-Wireless-Enc-Algo",
    MIKROTIK_WIRELESS_ENC_KEY = 7 => "Mikrotik-Wireless-Enc-Key",
    MIKROTIK_RATE_LIMIT = 8 => "Mikrotik-Rate-Limit",
    MIKROTIK_REALM = 9 => "Mikrotik-Realm",
    MIKROTIK_HOST_IP = 10 => "Mikrotik-Host-IP",
    MIKROTIK_MARK_ID = 11 => "Mikrotik-Mark-Id",
    MIKROTIK_ADVERTISE_URL = 12 => "Mikrotik-Advertise-URL",
    MIKROTIK_ADVERTISE_INTERVAL = 13 => "Mikrotik-Advertise-Interval",
    MIKROTIK_RECV_LIMIT_GIGAWORDS = 14 => "Mikrotik-Recv-Limit-Gigawords",
    MIKROTIK_XMIT_LIMIT_GIGAWORDS = 15 => "Mikrotik-Xmit-Limit-Gigawords",
    MIKROTIK_WIRELESS_PSK = 16 => "Mikrotik-Wireless-PSK",
    MIKROTIK_TOTAL_LIMIT = 17 => "Mikrotik-Total-Limit",
    MIKROTIK_TOTAL_LIMIT_GIGAWORDS = 18 => "Mikrotik-Total-Limit-Gigawords",
    MIKROTIK_ADDRESS_LIST = 19 => "Mikrotik-Address-List",
    MIKROTIK_WIRELESS_MPKEY = 20 => "Mikrotik-Wireless-MPKey",
    MIKROTIK_WIRELESS_COMMENT = 21 => "Mikrotik-Wireless-Comment",
    MIKROTIK_DELEGATED_IPV6_POOL = 22 => "Mikrotik-Delegated-IPv6-Pool",
    MIKROTIK_DHCP_OPTION_SET = 23 => "Mikrotik-DHCP-Option-Set",
    MIKROTIK_DHCP_OPTION_PARAM_STR1 = 24 => "Mikrotik-DHCP-Option-Param-STR1",
    MIKROTIK_DHCP_OPTION_PARAM_STR2 = 25 => "Mikrotik-DHCP-Option-Param-STR2",
    MIKROTIK_WIRELESS_VLANID = 26 => "Mikrotik-Wireless-VLANID",
    MIKROTIK_WIRELESS_VLANID_TYPE = 27 => "Mikrotik-Wireless-VLANID-Type",
    MIKROTIK_WIRELESS_MINSIGNAL = 28 => "Mikrotik-Wireless-Minsignal",
    MIKROTIK_WIRELESS_MAXSIGNAL = 29 => "Mikrotik-Wireless-Maxsignal",
}
