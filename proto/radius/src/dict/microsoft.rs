//! Microsoft vendor attributes (RFC 2548): MS-CHAP and MPPE keys.

/// Microsoft's SMI Private Enterprise Code.
pub const VENDOR_ID: u32 = 311;

attributes! {
    MS_CHAP_RESPONSE = 1 => "MS-CHAP-Response": Octets,
    MS_CHAP_ERROR = 2 => "MS-CHAP-Error": Text,
    MS_CHAP_CPW_1 = 3 => "MS-CHAP-CPW-1": Octets,
    MS_CHAP_CPW_2 = 4 => "MS-CHAP-CPW-2": Octets,
    MS_CHAP_LM_ENC_PW = 5 => "MS-CHAP-LM-Enc-PW": Octets,
    MS_CHAP_NT_ENC_PW = 6 => "MS-CHAP-NT-Enc-PW": Octets,
    MS_MPPE_ENCRYPTION_POLICY = 7 => "MS-MPPE-Encryption-Policy": Integer,
    MS_MPPE_ENCRYPTION_TYPES = 8 => "MS-MPPE-Encryption-Types": Integer,
    MS_RAS_VENDOR = 9 => "MS-RAS-Vendor": Integer,
    MS_CHAP_DOMAIN = 10 => "MS-CHAP-Domain": Text,
    MS_CHAP_CHALLENGE = 11 => "MS-CHAP-Challenge": Octets,
    MS_CHAP_MPPE_KEYS = 12 => "MS-CHAP-MPPE-Keys": Encrypted,
    MS_BAP_USAGE = 13 => "MS-BAP-Usage": Integer,
    MS_LINK_UTILIZATION_THRESHOLD = 14 => "MS-Link-Utilization-Threshold": Integer,
    MS_LINK_DROP_TIME_LIMIT = 15 => "MS-Link-Drop-Time-Limit": Integer,
    MS_MPPE_SEND_KEY = 16 => "MS-MPPE-Send-Key": Encrypted,
    MS_MPPE_RECV_KEY = 17 => "MS-MPPE-Recv-Key": Encrypted,
    MS_RAS_VERSION = 18 => "MS-RAS-Version": Text,
    MS_CHAP2_RESPONSE = 25 => "MS-CHAP2-Response": Octets,
    MS_CHAP2_SUCCESS = 26 => "MS-CHAP2-Success": Octets,
    MS_CHAP2_CPW = 27 => "MS-CHAP2-CPW": Octets,
    MS_PRIMARY_DNS_SERVER = 28 => "MS-Primary-DNS-Server": Ipv4Addr,
    MS_SECONDARY_DNS_SERVER = 29 => "MS-Secondary-DNS-Server": Ipv4Addr,
    MS_PRIMARY_NBNS_SERVER = 30 => "MS-Primary-NBNS-Server": Ipv4Addr,
    MS_SECONDARY_NBNS_SERVER = 31 => "MS-Secondary-NBNS-Server": Ipv4Addr,
}

/// MS-MPPE-Encryption-Policy values (RFC 2548 §2.4.4).
pub mod encryption_policy {
    /// Encryption allowed.
    pub const ALLOWED: u32 = 1;
    /// Encryption required.
    pub const REQUIRED: u32 = 2;
}

/// MS-MPPE-Encryption-Types bits (RFC 2548 §2.4.5).
pub mod encryption_types {
    /// 40-bit RC4 allowed.
    pub const RC4_40: u32 = 1;
    /// 128-bit RC4 allowed.
    pub const RC4_128: u32 = 2;
    /// 40- or 128-bit RC4 allowed.
    pub const RC4_40_OR_128: u32 = 6;
}
