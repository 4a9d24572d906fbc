//! WISPr vendor attributes (Wi-Fi Alliance WISPr 1.0): hotspot bandwidth and
//! redirection.

/// WISPr's SMI Private Enterprise Code.
pub const VENDOR_ID: u32 = 14122;

attributes! {
    WISPR_LOCATION_ID = 1 => "WISPr-Location-ID": Text,
    WISPR_LOCATION_NAME = 2 => "WISPr-Location-Name": Text,
    WISPR_LOGOFF_URL = 3 => "WISPr-Logoff-URL": Text,
    WISPR_REDIRECTION_URL = 4 => "WISPr-Redirection-URL": Text,
    WISPR_BANDWIDTH_MIN_UP = 5 => "WISPr-Bandwidth-Min-Up": Integer,
    WISPR_BANDWIDTH_MIN_DOWN = 6 => "WISPr-Bandwidth-Min-Down": Integer,
    WISPR_BANDWIDTH_MAX_UP = 7 => "WISPr-Bandwidth-Max-Up": Integer,
    WISPR_BANDWIDTH_MAX_DOWN = 8 => "WISPr-Bandwidth-Max-Down": Integer,
    WISPR_SESSION_TERMINATE_TIME = 9 => "WISPr-Session-Terminate-Time": Text,
    WISPR_SESSION_TERMINATE_END_OF_DAY = 10 => "WISPr-Session-Terminate-End-Of-Day": Text,
    WISPR_BILLING_CLASS_OF_SERVICE = 11 => "WISPr-Billing-Class-Of-Service": Text,
}
