//! Money is `Decimal` in code and integer minor units (hundredths) in storage: exact on every
//! backend, and summable in SQL. Never a float.

use rust_decimal::Decimal;

use crate::FieldError;

/// Digits after the decimal point that a stored amount may carry.
pub const SCALE: u32 = 2;

/// The largest amount, in either direction, that any money field takes: 9 999 999 999.99,
/// the most a GPC statement line can carry (12 digits of hundredths). Far above any ISP's
/// invoice or payment, and small enough that sums of amounts stay exact in `i64` hundredths
/// (over 9 million such amounts fit) and in `Decimal` arithmetic (VAT, quantities).
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(3_567_587_327, 232, 0, false, SCALE);

/// Converts to hundredths; refuses amounts with more precision than storage keeps, so nothing
/// is silently rounded away, and amounts beyond [`MAX_AMOUNT`] either way.
pub fn to_minor_units(field: &str, amount: Decimal) -> Result<i64, FieldError> {
    let normalized = amount.normalize();
    if normalized.scale() > SCALE {
        return Err(FieldError::new(
            field,
            format!("at most {SCALE} decimal places: {amount}"),
        ));
    }
    let out_of_range =
        || FieldError::new(field, format!("at most {MAX_AMOUNT} either way: {amount}"));
    if normalized.abs() > MAX_AMOUNT {
        return Err(out_of_range());
    }
    normalized
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|minor| i64::try_from(minor.trunc()).ok())
        .ok_or_else(out_of_range)
}

/// The inverse of [`to_minor_units`]; always has exactly two decimal places ("12.50").
pub fn from_minor_units(minor: i64) -> Decimal {
    Decimal::new(minor, SCALE)
}

/// Whether `code` is an ISO 4217 currency code ("CZK"): money in "ABC" or a typo such as
/// "CKZ" would be recorded and never match a client's account or a bank's statement.
pub fn is_currency(code: &str) -> bool {
    CURRENCIES.binary_search(&code).is_ok()
}

/// ISO 4217's codes as Debian's iso-codes 4.15 lists them (`iso_4217.json`), its test and
/// no-currency codes (XTS, XXX) left out, with the two added since (ZWG 2024, XCG 2025).
/// Sorted, for [`is_currency`]'s binary search. A list of 181 codes, not a crate: the crates
/// that carry it generate code from a table at build time for what is one lookup here.
const CURRENCIES: [&str; 181] = [
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP",
    "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP",
    "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HRK", "HTG", "HUF", "IDR",
    "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW",
    "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA",
    "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD",
    "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG",
    "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE",
    "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP",
    "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED",
    "VES", "VND", "VUV", "WST", "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG",
    "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XUA", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
];

/// Parses a decimal string as typed by an operator or sent over the API ("1234.5", "-20").
/// Empty text is zero.
pub fn parse(field: &str, text: &str) -> Result<Decimal, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Decimal::ZERO);
    }
    let bad = || FieldError::new(field, format!("not a decimal number: {text:?}"));
    // Plain notation only: "1e3" or "1_000" are typing mistakes in a money field.
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad());
    }
    exact(text).map_err(|problem| FieldError::new(field, problem))
}

/// `text` as a decimal, to the last digit: `Decimal`'s own parser rounds past 28 significant
/// digits, so "1.9999999999999999999999999999999" became 2.00 — refused instead.
pub fn exact(text: &str) -> Result<Decimal, String> {
    Decimal::from_str_exact(text).map_err(|_| match text.parse::<Decimal>() {
        Ok(_) => format!("{text:?} has more digits than can be kept exactly (28)"),
        Err(_) => format!("not a decimal number: {text:?}"),
    })
}

/// Parses and converts in one step, for API fields that carry money.
pub fn parse_minor_units(field: &str, text: &str) -> Result<i64, FieldError> {
    to_minor_units(field, parse(field, text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_exactly() {
        for (text, minor) in [
            ("0", 0),
            ("12.5", 1250),
            ("12.50", 1250),
            ("-0.01", -1),
            ("499.00", 49_900),
            ("9999999999.99", 999_999_999_999),
            ("-9999999999.99", -999_999_999_999),
        ] {
            assert_eq!(parse_minor_units("p", text).unwrap(), minor, "{text}");
            assert_eq!(from_minor_units(minor), parse("p", text).unwrap(), "{text}");
        }
        assert_eq!(from_minor_units(1250).to_string(), "12.50");
        assert_eq!(MAX_AMOUNT.to_string(), "9999999999.99");
    }

    #[test]
    fn refuses_what_it_cannot_store() {
        assert_eq!(
            parse_minor_units("tariff.price", "1.005")
                .unwrap_err()
                .to_string(),
            "tariff.price: at most 2 decimal places: 1.005"
        );
        assert!(parse_minor_units("p", "1e3").is_err());
        assert!(parse_minor_units("p", "abc").is_err());
        // Beyond the maximum, however far: a clear error naming the field, never a panic.
        for text in [
            "10000000000",
            "9999999999.991",
            "-10000000000.00",
            "92233720368547758.07",
            "92233720368547758.08",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "7922816251426433759354395033.5",
        ] {
            let err = parse_minor_units("payment.amount", text).unwrap_err();
            assert_eq!(err.field, "payment.amount", "{text}");
        }
        assert_eq!(
            to_minor_units("amount", Decimal::MAX)
                .unwrap_err()
                .to_string(),
            "amount: at most 9999999999.99 either way: 79228162514264337593543950335"
        );
        // Only ISO 4217's codes are currencies; the list stays sorted for the binary search.
        assert!(is_currency("CZK") && is_currency("EUR") && is_currency("ZWG"));
        for not in ["ABC", "CKZ", "czk", "XXX", "", "CZKK"] {
            assert!(!is_currency(not), "{not}");
        }
        assert!(CURRENCIES.windows(2).all(|w| w[0] < w[1]));
        // Trailing zeros beyond the scale are not extra precision.
        assert_eq!(parse_minor_units("p", "1.2000").unwrap(), 120);
        // Digits past what a Decimal keeps are refused, not rounded to 2.00.
        let err = parse_minor_units("payment.amount", "1.9999999999999999999999999999999");
        assert_eq!(
            err.unwrap_err().to_string(),
            "payment.amount: \"1.9999999999999999999999999999999\" has more digits than can \
             be kept exactly (28)"
        );
    }
}
