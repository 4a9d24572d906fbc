//! Cisco vendor attributes; Cisco-AVPair carries most of the policy.

/// Cisco's SMI Private Enterprise Code.
pub const VENDOR_ID: u32 = 9;

attributes! {
    CISCO_AVPAIR = 1 => "Cisco-AVPair": Text,
    CISCO_NAS_PORT = 2 => "Cisco-NAS-Port": Text,
    CISCO_POLICY_UP = 37 => "Cisco-Policy-Up": Text,
    CISCO_POLICY_DOWN = 38 => "Cisco-Policy-Down": Text,
    CISCO_DISCONNECT_CAUSE = 195 => "Cisco-Disconnect-Cause": Integer,
    CISCO_IDLE_LIMIT = 244 => "Cisco-Idle-Limit": Integer,
    CISCO_ACCOUNT_INFO = 250 => "Cisco-Account-Info": Text,
    CISCO_SERVICE_INFO = 251 => "Cisco-Service-Info": Text,
    CISCO_COMMAND_CODE = 252 => "Cisco-Command-Code": Text,
    CISCO_CONTROL_INFO = 253 => "Cisco-Control-Info": Text,
}
