//! Standard attributes: RFC 2865, 2866, 2867, 2868, 2869, 3162, 3576/5176,
//! 4072, 4372, 4818, 5580 and 6911.

attributes! {
    USER_NAME = 1 => "User-Name": Text,
    USER_PASSWORD = 2 => "User-Password": Encrypted,
    CHAP_PASSWORD = 3 => "CHAP-Password": Octets,
    NAS_IP_ADDRESS = 4 => "NAS-IP-Address": Ipv4Addr,
    NAS_PORT = 5 => "NAS-Port": Integer,
    SERVICE_TYPE = 6 => "Service-Type": Integer,
    FRAMED_PROTOCOL = 7 => "Framed-Protocol": Integer,
    FRAMED_IP_ADDRESS = 8 => "Framed-IP-Address": Ipv4Addr,
    FRAMED_IP_NETMASK = 9 => "Framed-IP-Netmask": Ipv4Addr,
    FRAMED_ROUTING = 10 => "Framed-Routing": Integer,
    FILTER_ID = 11 => "Filter-Id": Text,
    FRAMED_MTU = 12 => "Framed-MTU": Integer,
    FRAMED_COMPRESSION = 13 => "Framed-Compression": Integer,
    LOGIN_IP_HOST = 14 => "Login-IP-Host": Ipv4Addr,
    LOGIN_SERVICE = 15 => "Login-Service": Integer,
    LOGIN_TCP_PORT = 16 => "Login-TCP-Port": Integer,
    REPLY_MESSAGE = 18 => "Reply-Message": Text,
    CALLBACK_NUMBER = 19 => "Callback-Number": Text,
    CALLBACK_ID = 20 => "Callback-Id": Text,
    FRAMED_ROUTE = 22 => "Framed-Route": Text,
    FRAMED_IPX_NETWORK = 23 => "Framed-IPX-Network": Ipv4Addr,
    STATE = 24 => "State": Octets,
    CLASS = 25 => "Class": Octets,
    VENDOR_SPECIFIC = 26 => "Vendor-Specific": Vsa,
    SESSION_TIMEOUT = 27 => "Session-Timeout": Integer,
    IDLE_TIMEOUT = 28 => "Idle-Timeout": Integer,
    TERMINATION_ACTION = 29 => "Termination-Action": Integer,
    CALLED_STATION_ID = 30 => "Called-Station-Id": Text,
    CALLING_STATION_ID = 31 => "Calling-Station-Id": Text,
    NAS_IDENTIFIER = 32 => "NAS-Identifier": Text,
    PROXY_STATE = 33 => "Proxy-State": Octets,
    LOGIN_LAT_SERVICE = 34 => "Login-LAT-Service": Text,
    LOGIN_LAT_NODE = 35 => "Login-LAT-Node": Text,
    LOGIN_LAT_GROUP = 36 => "Login-LAT-Group": Octets,
    FRAMED_APPLETALK_LINK = 37 => "Framed-AppleTalk-Link": Integer,
    FRAMED_APPLETALK_NETWORK = 38 => "Framed-AppleTalk-Network": Integer,
    FRAMED_APPLETALK_ZONE = 39 => "Framed-AppleTalk-Zone": Text,
    ACCT_STATUS_TYPE = 40 => "Acct-Status-Type": Integer,
    ACCT_DELAY_TIME = 41 => "Acct-Delay-Time": Integer,
    ACCT_INPUT_OCTETS = 42 => "Acct-Input-Octets": Integer,
    ACCT_OUTPUT_OCTETS = 43 => "Acct-Output-Octets": Integer,
    ACCT_SESSION_ID = 44 => "Acct-Session-Id": Text,
    ACCT_AUTHENTIC = 45 => "Acct-Authentic": Integer,
    ACCT_SESSION_TIME = 46 => "Acct-Session-Time": Integer,
    ACCT_INPUT_PACKETS = 47 => "Acct-Input-Packets": Integer,
    ACCT_OUTPUT_PACKETS = 48 => "Acct-Output-Packets": Integer,
    ACCT_TERMINATE_CAUSE = 49 => "Acct-Terminate-Cause": Integer,
    ACCT_MULTI_SESSION_ID = 50 => "Acct-Multi-Session-Id": Text,
    ACCT_LINK_COUNT = 51 => "Acct-Link-Count": Integer,
    ACCT_INPUT_GIGAWORDS = 52 => "Acct-Input-Gigawords": Integer,
    ACCT_OUTPUT_GIGAWORDS = 53 => "Acct-Output-Gigawords": Integer,
    EVENT_TIMESTAMP = 55 => "Event-Timestamp": Date,
    CHAP_CHALLENGE = 60 => "CHAP-Challenge": Octets,
    NAS_PORT_TYPE = 61 => "NAS-Port-Type": Integer,
    PORT_LIMIT = 62 => "Port-Limit": Integer,
    LOGIN_LAT_PORT = 63 => "Login-LAT-Port": Text,
    TUNNEL_TYPE = 64 => "Tunnel-Type": TaggedInteger,
    TUNNEL_MEDIUM_TYPE = 65 => "Tunnel-Medium-Type": TaggedInteger,
    TUNNEL_CLIENT_ENDPOINT = 66 => "Tunnel-Client-Endpoint": TaggedText,
    TUNNEL_SERVER_ENDPOINT = 67 => "Tunnel-Server-Endpoint": TaggedText,
    ACCT_TUNNEL_CONNECTION = 68 => "Acct-Tunnel-Connection": Text,
    TUNNEL_PASSWORD = 69 => "Tunnel-Password": Encrypted,
    ARAP_PASSWORD = 70 => "ARAP-Password": Octets,
    ARAP_FEATURES = 71 => "ARAP-Features": Octets,
    ARAP_ZONE_ACCESS = 72 => "ARAP-Zone-Access": Integer,
    ARAP_SECURITY = 73 => "ARAP-Security": Integer,
    ARAP_SECURITY_DATA = 74 => "ARAP-Security-Data": Text,
    PASSWORD_RETRY = 75 => "Password-Retry": Integer,
    PROMPT = 76 => "Prompt": Integer,
    CONNECT_INFO = 77 => "Connect-Info": Text,
    CONFIGURATION_TOKEN = 78 => "Configuration-Token": Text,
    EAP_MESSAGE = 79 => "EAP-Message": Octets,
    MESSAGE_AUTHENTICATOR = 80 => "Message-Authenticator": Octets,
    TUNNEL_PRIVATE_GROUP_ID = 81 => "Tunnel-Private-Group-Id": TaggedText,
    TUNNEL_ASSIGNMENT_ID = 82 => "Tunnel-Assignment-Id": TaggedText,
    TUNNEL_PREFERENCE = 83 => "Tunnel-Preference": TaggedInteger,
    ARAP_CHALLENGE_RESPONSE = 84 => "ARAP-Challenge-Response": Octets,
    ACCT_INTERIM_INTERVAL = 85 => "Acct-Interim-Interval": Integer,
    ACCT_TUNNEL_PACKETS_LOST = 86 => "Acct-Tunnel-Packets-Lost": Integer,
    NAS_PORT_ID = 87 => "NAS-Port-Id": Text,
    FRAMED_POOL = 88 => "Framed-Pool": Text,
    CHARGEABLE_USER_IDENTITY = 89 => "Chargeable-User-Identity": Octets,
    TUNNEL_CLIENT_AUTH_ID = 90 => "Tunnel-Client-Auth-Id": TaggedText,
    TUNNEL_SERVER_AUTH_ID = 91 => "Tunnel-Server-Auth-Id": TaggedText,
    NAS_IPV6_ADDRESS = 95 => "NAS-IPv6-Address": Ipv6Addr,
    FRAMED_INTERFACE_ID = 96 => "Framed-Interface-Id": InterfaceId,
    FRAMED_IPV6_PREFIX = 97 => "Framed-IPv6-Prefix": Ipv6Prefix,
    LOGIN_IPV6_HOST = 98 => "Login-IPv6-Host": Ipv6Addr,
    FRAMED_IPV6_ROUTE = 99 => "Framed-IPv6-Route": Text,
    FRAMED_IPV6_POOL = 100 => "Framed-IPv6-Pool": Text,
    ERROR_CAUSE = 101 => "Error-Cause": Integer,
    EAP_KEY_NAME = 102 => "EAP-Key-Name": Octets,
    DELEGATED_IPV6_PREFIX = 123 => "Delegated-IPv6-Prefix": Ipv6Prefix,
    OPERATOR_NAME = 126 => "Operator-Name": Text,
    FRAMED_IPV6_ADDRESS = 168 => "Framed-IPv6-Address": Ipv6Addr,
    DNS_SERVER_IPV6_ADDRESS = 169 => "DNS-Server-IPv6-Address": Ipv6Addr,
    ROUTE_IPV6_INFORMATION = 170 => "Route-IPv6-Information": Ipv6Prefix,
    DELEGATED_IPV6_PREFIX_POOL = 171 => "Delegated-IPv6-Prefix-Pool": Text,
    STATEFUL_IPV6_ADDRESS_POOL = 172 => "Stateful-IPv6-Address-Pool": Text,
}

/// Service-Type values (RFC 2865 §5.6, RFC 3576).
pub mod service_type {
    /// Login-User.
    pub const LOGIN_USER: u32 = 1;
    /// Framed-User: PPP and IPoE subscribers.
    pub const FRAMED_USER: u32 = 2;
    /// Callback-Login-User.
    pub const CALLBACK_LOGIN_USER: u32 = 3;
    /// Callback-Framed-User.
    pub const CALLBACK_FRAMED_USER: u32 = 4;
    /// Outbound-User.
    pub const OUTBOUND_USER: u32 = 5;
    /// Administrative-User.
    pub const ADMINISTRATIVE_USER: u32 = 6;
    /// NAS-Prompt-User.
    pub const NAS_PROMPT_USER: u32 = 7;
    /// Authenticate-Only.
    pub const AUTHENTICATE_ONLY: u32 = 8;
    /// Callback-NAS-Prompt.
    pub const CALLBACK_NAS_PROMPT: u32 = 9;
    /// Call-Check.
    pub const CALL_CHECK: u32 = 10;
    /// Callback-Administrative.
    pub const CALLBACK_ADMINISTRATIVE: u32 = 11;
    /// Authorize-Only (RFC 3576, RFC 5176 §3.1).
    pub const AUTHORIZE_ONLY: u32 = 17;
}

/// Framed-Protocol values (RFC 2865 §5.7).
pub mod framed_protocol {
    /// PPP.
    pub const PPP: u32 = 1;
    /// SLIP.
    pub const SLIP: u32 = 2;
    /// AppleTalk Remote Access Protocol.
    pub const ARAP: u32 = 3;
    /// Gandalf proprietary SingleLink/MultiLink.
    pub const GANDALF_SLML: u32 = 4;
    /// Xylogics proprietary IPX/SLIP.
    pub const XYLOGICS_IPX_SLIP: u32 = 5;
    /// X.75 Synchronous.
    pub const X75_SYNCHRONOUS: u32 = 6;
}

/// NAS-Port-Type values (RFC 2865 §5.41, RFC 4603).
pub mod nas_port_type {
    /// Async.
    pub const ASYNC: u32 = 0;
    /// Sync.
    pub const SYNC: u32 = 1;
    /// ISDN Sync.
    pub const ISDN: u32 = 2;
    /// ISDN Async V.120.
    pub const ISDN_V120: u32 = 3;
    /// ISDN Async V.110.
    pub const ISDN_V110: u32 = 4;
    /// Virtual (e.g. L2TP/PPTP).
    pub const VIRTUAL: u32 = 5;
    /// PIAFS.
    pub const PIAFS: u32 = 6;
    /// HDLC Clear Channel.
    pub const HDLC_CLEAR_CHANNEL: u32 = 7;
    /// X.25.
    pub const X25: u32 = 8;
    /// X.75.
    pub const X75: u32 = 9;
    /// G.3 Fax.
    pub const G3_FAX: u32 = 10;
    /// SDSL.
    pub const SDSL: u32 = 11;
    /// ADSL-CAP.
    pub const ADSL_CAP: u32 = 12;
    /// ADSL-DMT.
    pub const ADSL_DMT: u32 = 13;
    /// IDSL.
    pub const IDSL: u32 = 14;
    /// Ethernet (PPPoE and IPoE on most BNGs).
    pub const ETHERNET: u32 = 15;
    /// xDSL.
    pub const XDSL: u32 = 16;
    /// Cable.
    pub const CABLE: u32 = 17;
    /// Wireless - Other.
    pub const WIRELESS_OTHER: u32 = 18;
    /// Wireless - IEEE 802.11.
    pub const WIRELESS_802_11: u32 = 19;
    /// PPPoA (RFC 4603).
    pub const PPPOA: u32 = 30;
    /// PPPoEoA (RFC 4603).
    pub const PPPOEOA: u32 = 31;
    /// PPPoEoE (RFC 4603).
    pub const PPPOEOE: u32 = 32;
    /// PPPoEoVLAN (RFC 4603).
    pub const PPPOEOVLAN: u32 = 33;
    /// PPPoEoQinQ (RFC 4603).
    pub const PPPOEOQINQ: u32 = 34;
}

/// Acct-Status-Type values (RFC 2866 §5.1, RFC 2867).
pub mod acct_status_type {
    /// Start.
    pub const START: u32 = 1;
    /// Stop.
    pub const STOP: u32 = 2;
    /// Interim-Update (RFC 2869; FreeRADIUS also calls it Alive).
    pub const INTERIM_UPDATE: u32 = 3;
    /// Accounting-On: the NAS (re)started; its sessions are gone.
    pub const ACCOUNTING_ON: u32 = 7;
    /// Accounting-Off: the NAS is going down.
    pub const ACCOUNTING_OFF: u32 = 8;
    /// Tunnel-Start (RFC 2867).
    pub const TUNNEL_START: u32 = 9;
    /// Tunnel-Stop (RFC 2867).
    pub const TUNNEL_STOP: u32 = 10;
    /// Tunnel-Reject (RFC 2867).
    pub const TUNNEL_REJECT: u32 = 11;
    /// Tunnel-Link-Start (RFC 2867).
    pub const TUNNEL_LINK_START: u32 = 12;
    /// Tunnel-Link-Stop (RFC 2867).
    pub const TUNNEL_LINK_STOP: u32 = 13;
    /// Tunnel-Link-Reject (RFC 2867).
    pub const TUNNEL_LINK_REJECT: u32 = 14;
    /// Failed (RFC 2866 errata; sent by some NASes).
    pub const FAILED: u32 = 15;
}

/// Acct-Authentic values (RFC 2866 §5.6).
pub mod acct_authentic {
    /// Authenticated by RADIUS.
    pub const RADIUS: u32 = 1;
    /// Authenticated locally by the NAS.
    pub const LOCAL: u32 = 2;
    /// Authenticated by another remote protocol.
    pub const REMOTE: u32 = 3;
    /// Authenticated by Diameter.
    pub const DIAMETER: u32 = 4;
}

/// Acct-Terminate-Cause values (RFC 2866 §5.10).
pub mod acct_terminate_cause {
    /// User Request.
    pub const USER_REQUEST: u32 = 1;
    /// Lost Carrier.
    pub const LOST_CARRIER: u32 = 2;
    /// Lost Service.
    pub const LOST_SERVICE: u32 = 3;
    /// Idle Timeout.
    pub const IDLE_TIMEOUT: u32 = 4;
    /// Session Timeout.
    pub const SESSION_TIMEOUT: u32 = 5;
    /// Admin Reset (e.g. after a Disconnect-Request).
    pub const ADMIN_RESET: u32 = 6;
    /// Admin Reboot.
    pub const ADMIN_REBOOT: u32 = 7;
    /// Port Error.
    pub const PORT_ERROR: u32 = 8;
    /// NAS Error.
    pub const NAS_ERROR: u32 = 9;
    /// NAS Request.
    pub const NAS_REQUEST: u32 = 10;
    /// NAS Reboot.
    pub const NAS_REBOOT: u32 = 11;
    /// Port Unneeded.
    pub const PORT_UNNEEDED: u32 = 12;
    /// Port Preempted.
    pub const PORT_PREEMPTED: u32 = 13;
    /// Port Suspended.
    pub const PORT_SUSPENDED: u32 = 14;
    /// Service Unavailable.
    pub const SERVICE_UNAVAILABLE: u32 = 15;
    /// Callback.
    pub const CALLBACK: u32 = 16;
    /// User Error.
    pub const USER_ERROR: u32 = 17;
    /// Host Request.
    pub const HOST_REQUEST: u32 = 18;
}

/// Termination-Action values (RFC 2865 §5.29).
pub mod termination_action {
    /// Default.
    pub const DEFAULT: u32 = 0;
    /// RADIUS-Request: re-authenticate when the session ends.
    pub const RADIUS_REQUEST: u32 = 1;
}

/// Error-Cause values (RFC 5176 §3.5), carried in CoA/Disconnect ACKs and
/// NAKs.
pub mod error_cause {
    /// Residual Session Context Removed.
    pub const RESIDUAL_CONTEXT_REMOVED: u32 = 201;
    /// Invalid EAP Packet (Ignored).
    pub const INVALID_EAP_PACKET: u32 = 202;
    /// Unsupported Attribute.
    pub const UNSUPPORTED_ATTRIBUTE: u32 = 401;
    /// Missing Attribute.
    pub const MISSING_ATTRIBUTE: u32 = 402;
    /// NAS Identification Mismatch.
    pub const NAS_IDENTIFICATION_MISMATCH: u32 = 403;
    /// Invalid Request.
    pub const INVALID_REQUEST: u32 = 404;
    /// Unsupported Service.
    pub const UNSUPPORTED_SERVICE: u32 = 405;
    /// Unsupported Extension.
    pub const UNSUPPORTED_EXTENSION: u32 = 406;
    /// Invalid Attribute Value.
    pub const INVALID_ATTRIBUTE_VALUE: u32 = 407;
    /// Administratively Prohibited.
    pub const ADMINISTRATIVELY_PROHIBITED: u32 = 501;
    /// Request Not Routable (Proxy).
    pub const PROXY_REQUEST_NOT_ROUTABLE: u32 = 502;
    /// Session Context Not Found.
    pub const SESSION_CONTEXT_NOT_FOUND: u32 = 503;
    /// Session Context Not Removable.
    pub const SESSION_CONTEXT_NOT_REMOVABLE: u32 = 504;
    /// Other Proxy Processing Error.
    pub const PROXY_PROCESSING_ERROR: u32 = 505;
    /// Resources Unavailable.
    pub const RESOURCES_UNAVAILABLE: u32 = 506;
    /// Request Initiated.
    pub const REQUEST_INITIATED: u32 = 507;
    /// Multiple Session Selection Unsupported.
    pub const MULTIPLE_SESSION_SELECTION_UNSUPPORTED: u32 = 508;
}
