//! Cisco vendor attributes; Cisco-AVPair carries most of the policy.

/// Cisco's SMI Private Enterprise Code.
pub const VENDOR_ID: u32 = 9;

attributes! {
    CISCO_AVPAIR = 1 => "Cisco-AVPair",
    CISCO_NAS_PORT = 2 => "Cisco-NAS-Port",
    CISCO_POLICY_UP = 37 => "Cisco-Policy-Up",
    CISCO_POLICY_DOWN = 38 => "Cisco-Policy-Down",
    CISCO_DISCONNECT_CAUSE = 195 => "Cisco-Disconnect-Cause",
    CISCO_IDLE_LIMIT = 244 => "Cisco-Idle-Limit",
    CISCO_ACCOUNT_INFO = 250 => "Cisco-Account-Info",
    CISCO_SERVICE_INFO = 251 => "Cisco-Service-Info",
    CISCO_COMMAND_CODE = 252 => "Cisco-Command-Code",
    CISCO_CONTROL_INFO = 253 => "Cisco-Control-Info",
}
