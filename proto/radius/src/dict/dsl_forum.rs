//! DSL Forum (Broadband Forum) vendor attributes (RFC 4679): the access
//! loop identifiers BNGs relay from PPPoE intermediate agents and DHCP
//! option 82.

/// ADSL Forum's SMI Private Enterprise Code.
pub const VENDOR_ID: u32 = 3561;

attributes! {
    AGENT_CIRCUIT_ID = 1 => "ADSL-Agent-Circuit-Id": Octets,
    AGENT_REMOTE_ID = 2 => "ADSL-Agent-Remote-Id": Octets,
    ACTUAL_DATA_RATE_UPSTREAM = 129 => "Actual-Data-Rate-Upstream": Integer,
    ACTUAL_DATA_RATE_DOWNSTREAM = 130 => "Actual-Data-Rate-Downstream": Integer,
    MINIMUM_DATA_RATE_UPSTREAM = 131 => "Minimum-Data-Rate-Upstream": Integer,
    MINIMUM_DATA_RATE_DOWNSTREAM = 132 => "Minimum-Data-Rate-Downstream": Integer,
    ATTAINABLE_DATA_RATE_UPSTREAM = 133 => "Attainable-Data-Rate-Upstream": Integer,
    ATTAINABLE_DATA_RATE_DOWNSTREAM = 134 => "Attainable-Data-Rate-Downstream": Integer,
    MAXIMUM_DATA_RATE_UPSTREAM = 135 => "Maximum-Data-Rate-Upstream": Integer,
    MAXIMUM_DATA_RATE_DOWNSTREAM = 136 => "Maximum-Data-Rate-Downstream": Integer,
    ACCESS_LOOP_ENCAPSULATION = 144 => "Access-Loop-Encapsulation": Octets,
}
