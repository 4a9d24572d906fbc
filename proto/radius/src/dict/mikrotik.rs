//! MikroTik RouterOS vendor attributes (rate limits, address lists,
//! traffic limits).

/// MikroTik's SMI Private Enterprise Code.
pub const VENDOR_ID: u32 = 14988;

attributes! {
    MIKROTIK_RECV_LIMIT = 1 => "Mikrotik-Recv-Limit": Integer,
    MIKROTIK_XMIT_LIMIT = 2 => "Mikrotik-Xmit-Limit": Integer,
    MIKROTIK_GROUP = 3 => "Mikrotik-Group": Text,
    MIKROTIK_WIRELESS_FORWARD = 4 => "Mikrotik-Wireless-Forward": Integer,
    MIKROTIK_WIRELESS_SKIP_DOT1X = 5 => "Mikrotik-Wireless-Skip-Dot1x": Integer,
    MIKROTIK_WIRELESS_ENC_ALGO = 6 => "Mikrotik-Wireless-Enc-Algo": Integer,
    MIKROTIK_WIRELESS_ENC_KEY = 7 => "Mikrotik-Wireless-Enc-Key": Text,
    MIKROTIK_RATE_LIMIT = 8 => "Mikrotik-Rate-Limit": Text,
    MIKROTIK_REALM = 9 => "Mikrotik-Realm": Text,
    MIKROTIK_HOST_IP = 10 => "Mikrotik-Host-IP": Ipv4Addr,
    MIKROTIK_MARK_ID = 11 => "Mikrotik-Mark-Id": Text,
    MIKROTIK_ADVERTISE_URL = 12 => "Mikrotik-Advertise-URL": Text,
    MIKROTIK_ADVERTISE_INTERVAL = 13 => "Mikrotik-Advertise-Interval": Integer,
    MIKROTIK_RECV_LIMIT_GIGAWORDS = 14 => "Mikrotik-Recv-Limit-Gigawords": Integer,
    MIKROTIK_XMIT_LIMIT_GIGAWORDS = 15 => "Mikrotik-Xmit-Limit-Gigawords": Integer,
    MIKROTIK_WIRELESS_PSK = 16 => "Mikrotik-Wireless-PSK": Text,
    MIKROTIK_TOTAL_LIMIT = 17 => "Mikrotik-Total-Limit": Integer,
    MIKROTIK_TOTAL_LIMIT_GIGAWORDS = 18 => "Mikrotik-Total-Limit-Gigawords": Integer,
    MIKROTIK_ADDRESS_LIST = 19 => "Mikrotik-Address-List": Text,
    MIKROTIK_WIRELESS_MPKEY = 20 => "Mikrotik-Wireless-MPKey": Text,
    MIKROTIK_WIRELESS_COMMENT = 21 => "Mikrotik-Wireless-Comment": Text,
    MIKROTIK_DELEGATED_IPV6_POOL = 22 => "Mikrotik-Delegated-IPv6-Pool": Text,
    MIKROTIK_DHCP_OPTION_SET = 23 => "Mikrotik-DHCP-Option-Set": Text,
    MIKROTIK_DHCP_OPTION_PARAM_STR1 = 24 => "Mikrotik-DHCP-Option-Param-STR1": Text,
    MIKROTIK_DHCP_OPTION_PARAM_STR2 = 25 => "Mikrotik-DHCP-Option-Param-STR2": Text,
    MIKROTIK_WIRELESS_VLANID = 26 => "Mikrotik-Wireless-VLANID": Integer,
    MIKROTIK_WIRELESS_VLANID_TYPE = 27 => "Mikrotik-Wireless-VLANID-Type": Integer,
    MIKROTIK_WIRELESS_MINSIGNAL = 28 => "Mikrotik-Wireless-Minsignal": Text,
    MIKROTIK_WIRELESS_MAXSIGNAL = 29 => "Mikrotik-Wireless-Maxsignal": Text,
}
