//! Microsoft vendor attributes (RFC 2548): MS-CHAP and MPPE keys.

/// Microsoft's SMI Private Enterprise Code.
pub const VENDOR_ID: u32 = 311;

attributes! {
    MS_CHAP_RESPONSE = 1 => "MS-CHAP-Response",
    MS_CHAP_ERROR = 2 => "MS-CHAP-Error",
    MS_CHAP_CPW_1 = 3 => "MS-CHAP-CPW-1",
    MS_CHAP_CPW_2 = 4 => "MS-CHAP-CPW-2",
    MS_CHAP_LM_ENC_PW = 5 => "MS-CHAP-LM-Enc-PW",
    MS_CHAP_NT_ENC_PW = 6 => "MS-CHAP-NT-Enc-PW",
    MS_MPPE_ENCRYPTION_POLICY = 7 => "MS-MPPE-Encryption-Policy",
    MS_MPPE_ENCRYPTION_TYPES = 8 => "MS-MPPE-Encryption-Types",
    MS_RAS_VENDOR = 9 => "MS-RAS-Vendor",
    MS_CHAP_DOMAIN = 10 => "MS-CHAP-Domain",
    MS_CHAP_CHALLENGE = 11 => "MS-CHAP-Challenge",
    MS_CHAP_MPPE_KEYS = 12 => "MS-CHAP-MPPE-Keys",
    MS_BAP_USAGE = 13 => "MS-BAP-Usage",
    MS_LINK_UTILIZATION_THRESHOLD = 14 => "MS-Link-Utilization-Threshold",
    MS_LINK_DROP_TIME_LIMIT = 15 => "MS-Link-Drop-Time-Limit",
    MS_MPPE_SEND_KEY = 16 => "MS-MPPE-Send-Key",
    MS_MPPE_RECV_KEY = 17 => "MS-MPPE-Recv-Key",
    MS_RAS_VERSION = 18 => "MS-RAS-Version",
    MS_CHAP2_RESPONSE = 25 => "MS-CHAP2-Response",
    MS_CHAP2_SUCCESS = 26 => "MS-CHAP2-Success",
    MS_CHAP2_CPW = 27 => "MS-CHAP2-CPW",
    MS_PRIMARY_DNS_SERVER = 28 => "MS-Primary-DNS-Server",
    MS_SECONDARY_DNS_SERVER = 29 => "MS-Secondary-DNS-Server",
    MS_PRIMARY_NBNS_SERVER = 30 => "MS-Primary-NBNS-Server",
    MS_SECONDARY_NBNS_SERVER = 31 => "MS-Secondary-NBNS-Server",
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
