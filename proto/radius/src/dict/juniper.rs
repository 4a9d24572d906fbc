//! Juniper (Junos) vendor attributes, vendor 2636. Junos subscriber
//! management policy attributes (ERX-*) use the Unisphere vendor id instead;
//! see [`super::erx`].

/// Juniper Networks' SMI Private Enterprise Code.
pub const VENDOR_ID: u32 = 2636;

attributes! {
    JUNIPER_LOCAL_USER_NAME = 1 => "Juniper-Local-User-Name": Text,
    JUNIPER_ALLOW_COMMANDS = 2 => "Juniper-Allow-Commands": Text,
    JUNIPER_DENY_COMMANDS = 3 => "Juniper-Deny-Commands": Text,
    JUNIPER_ALLOW_CONFIGURATION = 4 => "Juniper-Allow-Configuration": Text,
    JUNIPER_DENY_CONFIGURATION = 5 => "Juniper-Deny-Configuration": Text,
    JUNIPER_INTERACTIVE_COMMAND = 8 => "Juniper-Interactive-Command": Text,
    JUNIPER_CONFIGURATION_CHANGE = 9 => "Juniper-Configuration-Change": Text,
    JUNIPER_USER_PERMISSIONS = 10 => "Juniper-User-Permissions": Text,
    JUNIPER_PRIMARY_DNS = 31 => "Juniper-Primary-Dns": Ipv4Addr,
    JUNIPER_PRIMARY_WINS = 32 => "Juniper-Primary-Wins": Ipv4Addr,
    JUNIPER_SECONDARY_DNS = 33 => "Juniper-Secondary-Dns": Ipv4Addr,
    JUNIPER_SECONDARY_WINS = 34 => "Juniper-Secondary-Wins": Ipv4Addr,
    JUNIPER_INTERFACE_ID = 35 => "Juniper-Interface-id": Text,
    JUNIPER_IP_POOL_NAME = 36 => "Juniper-Ip-Pool-Name": Text,
    JUNIPER_KEEP_ALIVE = 37 => "Juniper-Keep-Alive": Integer,
    JUNIPER_COS_TRAFFIC_CONTROL_PROFILE = 38 => "Juniper-CoS-Traffic-Control-Profile": Text,
    JUNIPER_COS_PARAMETER = 39 => "Juniper-CoS-Parameter": Text,
    JUNIPER_ENCAPSULATION_OVERHEAD = 40 => "Juniper-encapsulation-overhead": Integer,
    JUNIPER_CELL_OVERHEAD = 41 => "Juniper-cell-overhead": Integer,
    JUNIPER_TX_CONNECT_SPEED = 42 => "Juniper-tx-connect-speed": Integer,
    JUNIPER_RX_CONNECT_SPEED = 43 => "Juniper-rx-connect-speed": Integer,
    JUNIPER_FIREWALL_FILTER_NAME = 44 => "Juniper-Firewall-filter-name": Text,
    JUNIPER_POLICER_PARAMETER = 45 => "Juniper-Policer-Parameter": Text,
    JUNIPER_LOCAL_GROUP_NAME = 46 => "Juniper-Local-Group-Name": Text,
    JUNIPER_LOCAL_INTERFACE = 47 => "Juniper-Local-Interface": Text,
    JUNIPER_SWITCHING_FILTER = 48 => "Juniper-Switching-Filter": Text,
    JUNIPER_VOIP_VLAN = 49 => "Juniper-VoIP-Vlan": Text,
}
