//! Value parsers and value enums shared by several resources.
//!
//! Whatever can be checked without the server (dates, amounts, rates) is checked here, inside
//! clap, so that the error names the flag the bad value came from. Everything else (required
//! combinations, ranges, code-list membership) is the server's business: it knows the rules
//! and answers with the offending field in its message.

use std::str::FromStr;

use clap::ValueEnum;
use clap::builder::PossibleValue;
use ispd_admin_proto::v1::Period;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Parses a calendar date as `YYYY-MM-DD` and sends it back normalised (zero-padded).
///
/// The empty string passes through unchanged so that `edit --some-date ""` can clear a date.
pub fn date(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(String::new());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| format!("expected a date as YYYY-MM-DD (e.g. 2026-11-24), got {s:?}"))
}

/// [`date`] for a date the API requires: empty is refused too.
pub fn required_date(s: &str) -> Result<String, String> {
    match date(s)? {
        d if d.is_empty() => {
            Err("expected a date as YYYY-MM-DD (e.g. 2026-11-24), got \"\"".to_owned())
        }
        d => Ok(d),
    }
}

/// Parses a money amount. A decimal comma is accepted (people paste amounts from Czech
/// documents) and sent as a point; the digits are otherwise passed on exactly as typed so the
/// server, not a float, decides on rounding. Empty passes through to allow clearing.
pub fn money(s: &str) -> Result<String, String> {
    decimal_text(s).map_err(|t| format!("expected a decimal amount such as 1234.50, got {t:?}"))
}

/// [`money`] for an amount the API requires: empty is refused too.
pub fn required_money(s: &str) -> Result<String, String> {
    match money(s)? {
        m if m.is_empty() => Err("expected a decimal amount such as 1234.50, got \"\"".to_owned()),
        m => Ok(m),
    }
}

/// Parses a plain decimal number (VAT rate, GPS coordinate); empty passes through.
pub fn decimal(s: &str) -> Result<String, String> {
    decimal_text(s)
        .map_err(|t| format!("expected a decimal number such as 21 or 50.0755, got {t:?}"))
}

fn decimal_text(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(String::new());
    }
    let normalized = if t.contains(',') && !t.contains('.') {
        t.replacen(',', ".", 1)
    } else {
        t.to_owned()
    };
    match Decimal::from_str(&normalized) {
        Ok(_) => Ok(normalized),
        Err(_) => Err(t.to_owned()),
    }
}

/// Parses a rate into kbit/s: a bare number is kbit/s, and `k`, `M`, `G` suffixes (decimal,
/// as network speeds are quoted) are accepted, optionally followed by `bit`, `bps` or `bit/s`:
/// `512k` = 512, `20M` = 20000, `1.5G` = 1500000.
pub fn rate(s: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "expected a rate in kbit/s, optionally with a k/M/G suffix (e.g. 512k, 20M, 1.5G), got {s:?}"
        )
    };
    let lower = s.trim().to_ascii_lowercase();
    let body = ["bit/s", "bps", "bit"]
        .iter()
        .find_map(|unit| lower.strip_suffix(unit))
        .unwrap_or(&lower)
        .trim_end();
    let (number, factor) = match body.chars().last() {
        Some('k') => (&body[..body.len() - 1], 1u32),
        Some('m') => (&body[..body.len() - 1], 1_000),
        Some('g') => (&body[..body.len() - 1], 1_000_000),
        _ => (body, 1),
    };
    let value = Decimal::from_str(number.trim()).map_err(|_| bad())? * Decimal::from(factor);
    if value.is_sign_negative() || !value.fract().is_zero() {
        return Err(bad());
    }
    value.to_u64().ok_or_else(bad)
}

/// Renders kbit/s the way [`rate`] reads it, for tables: `20M`, `512k`, `1.5G`.
pub fn rate_text(kbps: u64) -> String {
    let scaled = |divisor: u64, unit: &str| {
        let d = Decimal::from(kbps) / Decimal::from(divisor);
        format!("{}{unit}", d.normalize())
    };
    match kbps {
        0 => "0".to_owned(),
        k if k >= 1_000_000 && k % 1_000_000 == 0 => scaled(1_000_000, "G"),
        k if k >= 1_000 => scaled(1_000, "M"),
        k => format!("{k}k"),
    }
}

/// Overwrites `dst` only when the flag was given: the core of every `edit` command, which must
/// leave untouched whatever the operator did not mention.
pub fn assign(dst: &mut String, flag: &Option<String>) {
    if let Some(v) = flag {
        dst.clone_from(v);
    }
}

/// The refusal of an `edit` that names no change, pointing at the command's help.
pub fn ensure_changed(changed: bool, command: &str) -> anyhow::Result<()> {
    if changed {
        Ok(())
    } else {
        anyhow::bail!(
            "nothing to change: give at least one field flag (see `ispctl {command} --help`)"
        )
    }
}

/// A CLI value enum that mirrors a protobuf enum. Output uses the same spelling as input, so a
/// value read from `--json` output can be fed straight back to a flag.
pub trait ProtoEnum: ValueEnum + Copy + 'static {
    fn to_proto(self) -> i32;
}

/// The CLI name of a protobuf enum value: `unspecified` for 0, the number itself for a value
/// this ispctl does not know (a newer server).
pub fn enum_name<E: ProtoEnum>(raw: i32) -> String {
    E::value_variants()
        .iter()
        .find(|v| v.to_proto() == raw)
        .and_then(|v| v.to_possible_value())
        .map(|p: PossibleValue| p.get_name().to_owned())
        .unwrap_or_else(|| match raw {
            0 => "unspecified".to_owned(),
            n => n.to_string(),
        })
}

/// Billing period of a tariff or subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PeriodArg {
    Monthly,
    Quarterly,
    #[value(alias = "half_yearly")]
    HalfYearly,
    Yearly,
    #[value(alias = "one_off")]
    OneOff,
    /// One price for the whole commitment term, charged once in advance.
    Total,
}

impl ProtoEnum for PeriodArg {
    fn to_proto(self) -> i32 {
        (match self {
            Self::Monthly => Period::Monthly,
            Self::Quarterly => Period::Quarterly,
            Self::HalfYearly => Period::HalfYearly,
            Self::Yearly => Period::Yearly,
            Self::OneOff => Period::OneOff,
            Self::Total => Period::Total,
        }) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_with_suffixes() {
        assert_eq!(rate("512"), Ok(512));
        assert_eq!(rate("512k"), Ok(512));
        assert_eq!(rate("20M"), Ok(20_000));
        assert_eq!(rate("20 Mbit/s"), Ok(20_000));
        assert_eq!(rate("1.5G"), Ok(1_500_000));
        assert_eq!(rate("100mbps"), Ok(100_000));
        assert!(rate("fast").is_err());
        assert!(rate("-5M").is_err());
        assert!(rate("1.2345M").is_err());
        assert!(rate("").is_err());
    }

    #[test]
    fn rates_render_back() {
        assert_eq!(rate_text(0), "0");
        assert_eq!(rate_text(512), "512k");
        assert_eq!(rate_text(20_000), "20M");
        assert_eq!(rate_text(1_500), "1.5M");
        assert_eq!(rate_text(2_000_000), "2G");
        assert_eq!(rate_text(1_500_000), "1500M");
    }

    #[test]
    fn dates_and_money() {
        assert_eq!(date("2026-1-5"), Ok("2026-01-05".to_owned()));
        assert_eq!(date(""), Ok(String::new()));
        assert!(date("24.11.2026").is_err());
        assert!(date("2026-02-30").is_err());
        assert_eq!(money("499,50"), Ok("499.50".to_owned()));
        assert_eq!(money("-150"), Ok("-150".to_owned()));
        assert!(money("12 EUR").is_err());
    }

    // Moved with the functions from payment.rs and billing.rs.
    #[test]
    fn required_values() {
        assert_eq!(required_date("2026-11-1"), Ok("2026-11-01".to_owned()));
        assert!(required_date("").is_err());
        assert_eq!(required_money("499,50"), Ok("499.50".to_owned()));
        assert!(required_money("").is_err());
        assert!(required_money("499 CZK").is_err());
    }

    #[test]
    fn as_of_is_a_required_date() {
        assert_eq!(required_date("2026-11-1"), Ok("2026-11-01".to_owned()));
        assert!(required_date("").is_err());
        assert!(required_date("30.11.2026").is_err());
    }

    #[test]
    fn enum_names_round_trip() {
        assert_eq!(
            enum_name::<PeriodArg>(Period::HalfYearly as i32),
            "half-yearly"
        );
        assert_eq!(enum_name::<PeriodArg>(0), "unspecified");
        assert_eq!(enum_name::<PeriodArg>(42), "42");
    }
}
