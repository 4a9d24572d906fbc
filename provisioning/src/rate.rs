//! A tariff's speed in each NAS vendor's dialect.
//!
//! [`Rate`] is in kbit/s from the subscriber's point of view (download = what the NAS sends).
//! Every vendor names the directions and the units differently, and getting either wrong is
//! the classic support call ("I pay for 50 down and get 10"), so each format below cites the
//! vendor document it follows and is pinned by tests.

use ispd_billing::tariff::{Burst, MAX_RATE_KBPS, Rate};

use crate::nas::NasVendor;
use crate::reply::ReplyAttribute;

/// How a Cisco NAS gets the rate. Both forms are Cisco-AVPair (vendor 9, attribute 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CiscoShaping {
    /// Names of policy-maps configured on the router, one per speed, reused in both directions:
    /// `ip:sub-qos-policy-in=ispd-<upload>k` (traffic from the subscriber) and
    /// `ip:sub-qos-policy-out=ispd-<download>k` (traffic to the subscriber). Cisco's "QoS:
    /// Per-Session Shaping and Queuing on LNS" guide calls `ip:sub-qos-policy-in/out` the
    /// recommended AV pair (over the legacy `lcp:interface-config=service-policy`), and it keeps
    /// full virtual-access interfaces out of the picture. One policy-map per speed (rather than
    /// per down/up pair) keeps the operator's router config to one entry per tariff speed.
    #[default]
    PolicyNames,
    /// Committed access rate pushed as interface configuration:
    /// `lcp:interface-config#1=rate-limit input <bps> <normal> <max> conform-action transmit
    /// exceed-action drop` and `#2=rate-limit output ...` (Cisco 10000 "Per Session Rate
    /// Limiting"; accel-ppp's shaper reads the same "cisco-like" form). Bursts follow Cisco's
    /// CAR sizing advice: normal = 1.5 s of traffic in bytes, max = twice that. Needs no
    /// policy-maps on the router, at the cost of full virtual-access interfaces.
    RateLimit,
}

/// The rate attributes for `vendor`. A rate of zero in both directions means "unlimited" and
/// yields none, so the NAS keeps its own default instead of a zero-speed queue.
///
/// Burst is a MikroTik queue concept; the other formats carry the plain rate only.
///
/// - MikroTik: [`mikrotik_rate_limit`].
/// - accel-ppp: [`accel_ppp_filter_id`].
/// - Cisco: [`cisco_av_pairs`] per [`CiscoShaping`].
/// - Generic: WISPr-Bandwidth-Max-Up/Down ([`wispr`]). Hotspot gateways (CoovaChilli,
///   pfSense, most captive portals) are entered as generic NASes and understand WISPr; a NAS
///   that does not know vendor 14122 ignores the attributes (RFC 2865 §5.26 lets it), so they
///   cost nothing elsewhere.
/// - Juniper: [`juniper_service`], when the operator named a dynamic service profile
///   (`[radius] juniper_service`); none otherwise — the service name and its parameters exist
///   only in the router's configuration, and a guessed name would fail silently there.
pub fn rate_attributes(
    vendor: NasVendor,
    rate: Rate,
    burst: Option<&Burst>,
    cisco: CiscoShaping,
    juniper: Option<&str>,
) -> Vec<ReplyAttribute> {
    if rate == Rate::default() {
        return Vec::new();
    }
    match vendor {
        NasVendor::Mikrotik => vec![ReplyAttribute::MikrotikRateLimit(mikrotik_rate_limit(
            rate, burst,
        ))],
        NasVendor::AccelPpp => vec![ReplyAttribute::FilterId(accel_ppp_filter_id(rate))],
        NasVendor::Cisco => cisco_av_pairs(rate, cisco)
            .into_iter()
            .map(ReplyAttribute::CiscoAvPair)
            .collect(),
        NasVendor::Generic => wispr(rate).to_vec(),
        NasVendor::Juniper => juniper
            .map(|service| ReplyAttribute::ErxServiceActivate {
                tag: JUNIPER_SERVICE_TAG,
                value: juniper_service(service, rate),
            })
            .into_iter()
            .collect(),
    }
}

/// The tag of the one service ispd activates (Junos accepts up to 31 per request).
pub const JUNIPER_SERVICE_TAG: u8 = 1;

/// Junos `ERX-Service-Activate` value for a dynamic service profile with two user-defined
/// variables, download then upload ("Changing CoS Services Overview", Junos subscriber
/// management): `name(<download>k,<upload>k)`, kbit/s with Junos's `k` suffix (×1000) as a
/// `shaping-rate` or policer takes it. A direction left at 0 (unlimited elsewhere) has no
/// "unlimited" in a shaping rate, so it is sent as the largest rate a tariff may have.
pub fn juniper_service(service: &str, rate: Rate) -> String {
    let kbps = |k: u64| if k == 0 { MAX_RATE_KBPS } else { k };
    format!(
        "{service}({}k,{}k)",
        kbps(rate.download_kbps),
        kbps(rate.upload_kbps)
    )
}

/// What a CoA carries to change a session's rate in place, given the rate attributes an
/// Access-Accept would carry. For Juniper the running instance of the service is deactivated
/// in the same request: Junos (16.1R4 and later) processes every deactivation in a CoA before
/// its activations, so the service comes back with the new parameters.
pub fn in_place(vendor: NasVendor, speed: Vec<ReplyAttribute>) -> Vec<ReplyAttribute> {
    if vendor != NasVendor::Juniper {
        return speed;
    }
    let mut coa: Vec<ReplyAttribute> = speed
        .iter()
        .filter_map(|a| match a {
            ReplyAttribute::ErxServiceActivate { value, .. } => {
                let service = value.split('(').next().unwrap_or(value);
                Some(ReplyAttribute::ErxServiceDeactivate(service.to_owned()))
            }
            _ => None,
        })
        .collect();
    coa.extend(speed);
    coa
}

/// MikroTik `Mikrotik-Rate-Limit` (vendor 14988, attribute 8), per the MikroTik wiki
/// "Manual:RADIUS Client" (and help.mikrotik.com "RADIUS"):
///
/// `rx-rate[/tx-rate] [rx-burst-rate[/tx-burst-rate] [rx-burst-threshold[/tx-burst-threshold]
/// [rx-burst-time[/tx-burst-time] [priority] [rx-rate-min[/tx-rate-min]]]]` "from the point of
/// view of the router (so "rx" is client upload, and "tx" is client download)". Rates take an
/// optional `k` (×1000) or `M` (×1 000 000) suffix; times are seconds.
///
/// So the first number is the subscriber's UPLOAD. Both halves are always written, since a
/// lone value would set both directions. Priority and minimum rates are left to the queue
/// defaults.
pub fn mikrotik_rate_limit(rate: Rate, burst: Option<&Burst>) -> String {
    let pair = |r: Rate| {
        format!(
            "{}/{}",
            mikrotik_speed(r.upload_kbps),
            mikrotik_speed(r.download_kbps)
        )
    };
    let mut text = pair(rate);
    if let Some(burst) = burst {
        text.push(' ');
        text.push_str(&pair(burst.rate));
        text.push(' ');
        text.push_str(&pair(burst.threshold));
        text.push_str(&format!(" {0}/{0}", burst.time_seconds));
    }
    text
}

/// A kbit/s value with MikroTik's suffixes: whole megabits as `M` (100000 → `100M`), anything
/// else as `k` (1500 → `1500k`), so no rounding ever changes the speed. Zero stays `0`,
/// which MikroTik reads as "unlimited" in that direction.
pub fn mikrotik_speed(kbps: u64) -> String {
    match kbps {
        0 => "0".to_owned(),
        k if k % 1000 == 0 => format!("{}M", k / 1000),
        k => format!("{k}k"),
    }
}

/// accel-ppp `Filter-Id` per its documentation, section `[shaper]`, option `attr`
/// (default `attr=Filter-Id`): "`Filter-Id=2000/3000`, means 2000Kbit down-stream rate and
/// 3000Kbit up-stream rate". Plain kbit/s and DOWNLOAD first — the reverse of MikroTik.
pub fn accel_ppp_filter_id(rate: Rate) -> String {
    format!("{}/{}", rate.download_kbps, rate.upload_kbps)
}

/// Cisco-AVPair values for `shaping`; see [`CiscoShaping`] for the documents each follows.
/// "input" on the subscriber's virtual-access interface is the UPLOAD, "output" the download.
pub fn cisco_av_pairs(rate: Rate, shaping: CiscoShaping) -> Vec<String> {
    match shaping {
        CiscoShaping::PolicyNames => vec![
            format!(
                "ip:sub-qos-policy-in={}",
                cisco_policy_name(rate.upload_kbps)
            ),
            format!(
                "ip:sub-qos-policy-out={}",
                cisco_policy_name(rate.download_kbps)
            ),
        ],
        CiscoShaping::RateLimit => vec![
            format!(
                "lcp:interface-config#1={}",
                cisco_rate_limit("input", rate.upload_kbps)
            ),
            format!(
                "lcp:interface-config#2={}",
                cisco_rate_limit("output", rate.download_kbps)
            ),
        ],
    }
}

/// The policy-map name the operator configures for one speed: `ispd-<kbit/s>k`.
pub fn cisco_policy_name(kbps: u64) -> String {
    format!("ispd-{kbps}k")
}

/// `rate-limit <direction> <bps> <normal burst bytes> <max burst bytes> conform-action
/// transmit exceed-action drop`: CAR takes bit/s in steps of 8 kbit/s from 8,000 to
/// 2,000,000,000, and bursts of 1,000 to 512,000,000 bytes (max 2,000 to 1,024,000,000) — a
/// rate off the steps or past the range is a command IOS refuses (found probing from
/// outside), so it is rounded down to a step and held in the range.
fn cisco_rate_limit(direction: &str, kbps: u64) -> String {
    const STEP: u64 = 8_000;
    let bps = (kbps.saturating_mul(1000) / STEP * STEP).clamp(STEP, 2_000_000_000);
    // 1.5 seconds of traffic, in bytes: bps / 8 * 1.5.
    let normal = (bps.saturating_mul(3) / 16).clamp(1_000, 512_000_000);
    let max = normal.saturating_mul(2).clamp(2_000, 1_024_000_000);
    format!(
        "rate-limit {direction} {bps} {normal} {max} conform-action transmit exceed-action drop"
    )
}

/// WISPr-Bandwidth-Max-Up and -Down (vendor 14122, attributes 7 and 8) from the Wi-Fi
/// Alliance WISPr 1.0 appendix: bit/s, upload first. 32-bit integers, so anything above
/// 4.29 Gbit/s saturates at `u32::MAX` rather than wrapping to a tiny rate.
pub fn wispr(rate: Rate) -> [ReplyAttribute; 2] {
    let bps = |kbps: u64| u32::try_from(kbps.saturating_mul(1000)).unwrap_or(u32::MAX);
    [
        ReplyAttribute::WisprBandwidthMaxUp(bps(rate.upload_kbps)),
        ReplyAttribute::WisprBandwidthMaxDown(bps(rate.download_kbps)),
    ]
}
