//! Invoice lines, VAT, totals, numbering and dates.
//!
//! # Rounding
//! Every line is computed and rounded on its own, half-up (away from zero) to 0.01:
//! - price without VAT ([`PriceBasis::Net`]): net = round(quantity × unit price),
//!   vat = round(net × rate / 100), gross = net + vat;
//! - price with VAT ([`PriceBasis::Gross`]): gross = round(quantity × unit price),
//!   vat = round(gross × rate / (100 + rate)), net = gross − vat.
//!
//! Totals, and the VAT summary per rate, are plain sums of the rounded lines, so the lines
//! always add up to the totals exactly (this can differ by cents from rounding the total once:
//! three 499.00 lines with VAT carry 3 × 86.60 = 259.80 VAT, not 259.81). Negative lines
//! (discounts, credits) follow the same rule and round symmetrically to their positive twin.
//!
//! # Charges and discounts
//! A charge becomes a service line with quantity = the charge's fraction of the period and
//! unit price = the price of a full period, so the invoice shows the proration openly
//! ("0.7 × 499.00"). Each discount that applies becomes its own negative line after it, at the
//! same VAT rate and basis (see [`charge_lines`]).

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::FieldError;
use crate::schedule::{Charge, FRACTION_SCALE};

/// Whether a unit price includes VAT (a tariff's `price_includes_vat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceBasis {
    Net,
    Gross,
}

impl PriceBasis {
    pub fn from_includes_vat(includes_vat: bool) -> Self {
        if includes_vat {
            PriceBasis::Gross
        } else {
            PriceBasis::Net
        }
    }
}

/// A line as requested, before VAT is worked out.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LineInput {
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub basis: PriceBasis,
    /// Percent, e.g. 21.
    pub vat_rate: Decimal,
}

/// A computed line; `gross = net + vat` always.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Line {
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub net: Decimal,
    pub vat: Decimal,
    pub gross: Decimal,
    pub vat_rate: Decimal,
}

/// Half-up to the cent, the one rounding of money on an invoice.
pub fn round_money(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(crate::money::SCALE, RoundingStrategy::MidpointAwayFromZero)
}

/// A line that is no supply — an opening balance, a reminder's fee, a balance adjustment:
/// one unit at a gross `amount`, VAT 0 (compensation and transfers of money are not taxed).
pub fn untaxed_line(description: String, amount: Decimal) -> Line {
    compute_line(&LineInput {
        description,
        quantity: Decimal::ONE,
        unit_price: amount,
        basis: PriceBasis::Gross,
        vat_rate: Decimal::ZERO,
    })
}

/// Computes a line's net, VAT and gross by the module's rounding rule.
pub fn compute_line(input: &LineInput) -> Line {
    let amount = round_money(input.quantity * input.unit_price);
    let rate = input.vat_rate;
    let (net, vat, gross) = match input.basis {
        PriceBasis::Net => {
            let vat = round_money(amount * rate / Decimal::ONE_HUNDRED);
            (amount, vat, amount + vat)
        }
        PriceBasis::Gross => {
            let vat = round_money(amount * rate / (Decimal::ONE_HUNDRED + rate));
            (amount - vat, vat, amount)
        }
    };
    Line {
        description: input.description.clone(),
        quantity: input.quantity,
        unit_price: input.unit_price,
        net,
        vat,
        gross,
        vat_rate: rate,
    }
}

/// The VAT recapitulation of one rate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VatSummary {
    pub rate: Decimal,
    pub net: Decimal,
    pub vat: Decimal,
    pub gross: Decimal,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Totals {
    pub net: Decimal,
    pub vat: Decimal,
    pub gross: Decimal,
    /// One entry per rate, lowest rate first.
    pub by_rate: Vec<VatSummary>,
}

/// Sums the lines; no rounding happens here, so totals and lines agree to the cent.
pub fn totals(lines: &[Line]) -> Totals {
    let mut by_rate: BTreeMap<Decimal, VatSummary> = BTreeMap::new();
    for line in lines {
        // normalize(): 21 and 21.00 are one rate.
        let rate = line.vat_rate.normalize();
        let sum = by_rate.entry(rate).or_insert(VatSummary {
            rate,
            net: Decimal::ZERO,
            vat: Decimal::ZERO,
            gross: Decimal::ZERO,
        });
        sum.net += line.net;
        sum.vat += line.vat;
        sum.gross += line.gross;
    }
    let by_rate: Vec<VatSummary> = by_rate.into_values().collect();
    Totals {
        net: by_rate.iter().map(|s| s.net).sum(),
        vat: by_rate.iter().map(|s| s.vat).sum(),
        gross: by_rate.iter().map(|s| s.gross).sum(),
        by_rate,
    }
}

/// How a discount's value is entered (Mango "Zadat slevu jako").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountValue {
    /// Percent of the base price.
    Percent(Decimal),
    /// A fixed amount per full period, on the same basis (with or without VAT) as the price.
    Amount(Decimal),
    /// The price the customer should pay per period; the discount is base − this, never
    /// below zero, and ignores other discounts.
    ResultingPrice(Decimal),
}

/// A discount attached to a service (Mango "slevová kampaň"); several may apply at once.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Discount {
    pub name: String,
    pub value: DiscountValue,
    pub valid_from: NaiveDate,
    /// Last day it applies; `None` = open-ended.
    pub valid_to: Option<NaiveDate>,
}

impl Discount {
    pub fn validate(&self) -> Result<(), FieldError> {
        crate::field::require("discount.name", &self.name)?;
        crate::field::max_len("discount.name", &self.name, 100)?;
        if self.valid_to.is_some_and(|to| to < self.valid_from) {
            return Err(FieldError::new(
                "discount.valid_to",
                "must not be before valid_from",
            ));
        }
        match self.value {
            DiscountValue::Percent(p) if p.is_sign_negative() || p > Decimal::ONE_HUNDRED => {
                Err(FieldError::new("discount.value", "percent, 0-100"))
            }
            DiscountValue::Percent(_) => Ok(()),
            DiscountValue::Amount(v) | DiscountValue::ResultingPrice(v) if v.is_sign_negative() => {
                Err(FieldError::new("discount.value", "must not be negative"))
            }
            DiscountValue::Amount(v) | DiscountValue::ResultingPrice(v) => {
                crate::money::to_minor_units("discount.value", v).map(drop)
            }
        }
    }

    /// The discount on one full period of `base`, to the cent, not yet capped.
    fn per_period(&self, base: Decimal) -> Decimal {
        let amount = match self.value {
            DiscountValue::Percent(p) => base * p / Decimal::ONE_HUNDRED,
            DiscountValue::Amount(a) => a,
            DiscountValue::ResultingPrice(target) => base - target,
        };
        round_money(amount).max(Decimal::ZERO)
    }

    /// The days of `from..=to` it is valid on, if any.
    fn overlap(&self, from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let start = self.valid_from.max(from);
        let end = self.valid_to.map_or(to, |v| v.min(to));
        (start <= end).then_some((start, end))
    }
}

/// "Name 2026-11-15 – 2026-12-14", or "Name 2026-11-10" for a single day (a one-off fee).
fn described(name: &str, from: NaiveDate, to: NaiveDate) -> String {
    if from == to {
        format!("{name} {from}")
    } else {
        format!("{name} {from} – {to}")
    }
}

fn days(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days() + 1
}

/// The invoice lines of one charge: the service line, then one negative line per discount.
///
/// Rules:
/// - a charge with fraction 0 (a wholly suspended period) gives no lines;
/// - a discount's per-period amount is rounded to the cent first, so its line shows a price
///   the customer can check; a percent is of the base price, a resulting price gives
///   base − target (nothing when the target is above the base);
/// - discounts never take the service below zero: each is limited to what the base price
///   minus the discounts listed before it leaves;
/// - a discount valid on only part of the charge is prorated like the charge itself: its
///   quantity is the charge's fraction × overlapping days / days of the charge (6 places,
///   half-up), so a discount covering the whole charge has exactly the service's quantity.
///   Suspended days inside the charge are assumed spread evenly over it.
pub fn charge_lines(
    service_name: &str,
    base_price: Decimal,
    basis: PriceBasis,
    vat_rate: Decimal,
    charge: &Charge,
    discounts: &[Discount],
) -> Vec<LineInput> {
    if charge.fraction.is_zero() {
        return Vec::new();
    }
    let line = |description, quantity, unit_price| LineInput {
        description,
        quantity,
        unit_price,
        basis,
        vat_rate,
    };
    let mut lines = vec![line(
        described(service_name, charge.from, charge.to),
        charge.fraction,
        base_price,
    )];
    let mut remaining = base_price.max(Decimal::ZERO);
    let charge_days = Decimal::from(days(charge.from, charge.to));
    for discount in discounts {
        let Some((from, to)) = discount.overlap(charge.from, charge.to) else {
            continue;
        };
        let amount = discount.per_period(base_price).min(remaining);
        if amount.is_zero() {
            continue;
        }
        remaining -= amount;
        let quantity = (charge.fraction * Decimal::from(days(from, to)) / charge_days)
            .round_dp_with_strategy(FRACTION_SCALE, RoundingStrategy::MidpointAwayFromZero);
        let name = format!("{service_name}: {}", discount.name);
        lines.push(line(described(&name, from, to), quantity, -amount));
    }
    lines
}

/// An invoice number pattern could not be used; names the pattern and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invoice number pattern {pattern:?}: {problem}")]
pub struct NumberFormatError {
    pub pattern: String,
    pub problem: String,
}

/// Widest useful `{seq:0N}`: a u64 has at most 20 digits.
const MAX_SEQ_WIDTH: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Text(String),
    Year,
    ShortYear,
    Seq { width: usize },
}

/// Splits a pattern into literal text and placeholders; `{{` and `}}` are literal braces.
/// Exactly one `{seq}`: without it every number would be the same, with two it could not be
/// read back.
fn parse_pattern(pattern: &str) -> Result<Vec<Token>, NumberFormatError> {
    let fail = |problem: String| NumberFormatError {
        pattern: pattern.to_owned(),
        problem,
    };
    let mut tokens = Vec::new();
    let mut text = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '}' => return Err(fail("unmatched \"}\" (write \"}}\" for a brace)".into())),
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed {
                    return Err(fail("unclosed \"{\"".into()));
                }
                let token = placeholder(&name).map_err(fail)?;
                if !text.is_empty() {
                    tokens.push(Token::Text(std::mem::take(&mut text)));
                }
                tokens.push(token);
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        tokens.push(Token::Text(text));
    }
    match tokens
        .iter()
        .filter(|t| matches!(t, Token::Seq { .. }))
        .count()
    {
        1 => Ok(tokens),
        _ => Err(fail("needs exactly one {seq}".into())),
    }
}

/// One placeholder's name (between the braces) to its token.
fn placeholder(name: &str) -> Result<Token, String> {
    match name {
        "year" => return Ok(Token::Year),
        "yy" => return Ok(Token::ShortYear),
        "seq" => return Ok(Token::Seq { width: 0 }),
        _ => {}
    }
    let width = name
        .strip_prefix("seq:0")
        .filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|w| w.parse::<usize>().ok())
        .filter(|w| (1..=MAX_SEQ_WIDTH).contains(w));
    match width {
        Some(width) => Ok(Token::Seq { width }),
        None => Err(format!(
            "unknown placeholder {{{name}}} (use {{year}}, {{yy}}, {{seq}} or {{seq:0N}}, N 1-{MAX_SEQ_WIDTH})"
        )),
    }
}

fn render(tokens: &[Token], year: i32, seq: u64) -> String {
    let mut out = String::new();
    for token in tokens {
        match token {
            Token::Text(text) => out.push_str(text),
            Token::Year => out.push_str(&year.to_string()),
            Token::ShortYear => out.push_str(&format!("{:02}", year.rem_euclid(100))),
            Token::Seq { width } => out.push_str(&format!("{seq:0width$}")),
        }
    }
    out
}

/// Checks a pattern when an operator saves it, before any number is needed.
pub fn check_pattern(pattern: &str) -> Result<(), NumberFormatError> {
    parse_pattern(pattern).map(drop)
}

/// An invoice number from its group's pattern: `{year}` (2026), `{yy}` (26), `{seq}` and
/// `{seq:05}` (the sequence, zero-padded to a width; longer numbers are not cut), literal
/// text, and `{{`/`}}` for braces. Allocating `seq` is the daemon's job, in its transaction.
pub fn format_number(pattern: &str, year: i32, seq: u64) -> Result<String, NumberFormatError> {
    Ok(render(&parse_pattern(pattern)?, year, seq))
}

/// The sequence number of `number` under `pattern` and `year` (e.g. to continue a series
/// imported from another system); `None` when the number does not follow the pattern.
pub fn sequence_of(
    pattern: &str,
    year: i32,
    number: &str,
) -> Result<Option<u64>, NumberFormatError> {
    let tokens = parse_pattern(pattern)?;
    #[allow(
        clippy::expect_used,
        reason = "parse_pattern refuses a pattern without {seq}"
    )]
    let at = tokens
        .iter()
        .position(|t| matches!(t, Token::Seq { .. }))
        .expect("parse_pattern guarantees one {seq}");
    let prefix = render(&tokens[..at], year, 0);
    let suffix = render(&tokens[at + 1..], year, 0);
    let seq = number
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix(&suffix))
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse::<u64>().ok());
    // Re-rendering rejects padding that does not match the pattern ("0042" for {seq:03}).
    Ok(seq.filter(|&seq| render(&tokens, year, seq) == number))
}

/// Which date an invoice states as the date of taxable supply (DUZP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxableDateRule {
    IssueDate,
    /// The last day of the period invoiced.
    EndOfPeriod,
    /// Mango generates charges with the taxable supply 14 days before the issue date.
    DaysBeforeIssue(u32),
}

/// The taxable supply date of an invoice issued on `issue` for a period ending `period_end`.
pub fn taxable_supply_date(
    rule: TaxableDateRule,
    issue: NaiveDate,
    period_end: NaiveDate,
) -> NaiveDate {
    match rule {
        TaxableDateRule::IssueDate => issue,
        TaxableDateRule::EndOfPeriod => period_end,
        TaxableDateRule::DaysBeforeIssue(n) => issue
            .checked_sub_days(Days::new(n.into()))
            .unwrap_or(NaiveDate::MIN),
    }
}

/// Issue date + the client's own due days, else the invoice group's default.
pub fn due_date(issue: NaiveDate, client_due_days: Option<u32>, group_default: u32) -> NaiveDate {
    let days = client_due_days.unwrap_or(group_default);
    issue
        .checked_add_days(Days::new(days.into()))
        .unwrap_or(NaiveDate::MAX)
}

/// Where an invoice is in being paid (net47: settled / unsettled / partially settled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceState {
    Unpaid,
    PartiallyPaid,
    Paid,
    /// Cancelled by a credit note; nothing more is owed.
    Cancelled,
}

impl InvoiceState {
    pub const ALL: [InvoiceState; 4] = [
        InvoiceState::Unpaid,
        InvoiceState::PartiallyPaid,
        InvoiceState::Paid,
        InvoiceState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceState::Unpaid => "unpaid",
            InvoiceState::PartiallyPaid => "partially_paid",
            InvoiceState::Paid => "paid",
            InvoiceState::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The state from the amounts. A zero total is paid; an overpayment is paid (the surplus is
/// the payment side's business); a credit note (negative total) is settled by paying out, i.e.
/// `paid` of the same sign, so the rule is symmetric.
pub fn state_for(total_gross: Decimal, paid: Decimal, cancelled: bool) -> InvoiceState {
    if cancelled {
        return InvoiceState::Cancelled;
    }
    let (total, paid) = if total_gross.is_sign_negative() {
        (-total_gross, -paid)
    } else {
        (total_gross, paid)
    };
    if paid >= total {
        InvoiceState::Paid
    } else if paid > Decimal::ZERO {
        InvoiceState::PartiallyPaid
    } else {
        InvoiceState::Unpaid
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn input(quantity: &str, price: &str, basis: PriceBasis, rate: &str) -> LineInput {
        LineInput {
            description: "x".into(),
            quantity: dec(quantity),
            unit_price: dec(price),
            basis,
            vat_rate: dec(rate),
        }
    }

    #[test]
    fn line_vat_by_basis() {
        use PriceBasis::{Gross, Net};
        for (q, price, basis, rate, net, vat, gross) in [
            // The known case: 499.00 with VAT at 21 %.
            ("1", "499.00", Gross, "21", "412.40", "86.60", "499.00"),
            ("1", "412.40", Net, "21", "412.40", "86.60", "499.00"),
            // 21/30 of a month: gross rounded once, VAT split from it.
            ("0.7", "499.00", Gross, "21", "288.68", "60.62", "349.30"),
            ("0.161290", "499.00", Gross, "21", "66.51", "13.97", "80.48"),
            // Half-up at the cent, away from zero for negatives.
            ("1", "0.50", Net, "21", "0.50", "0.11", "0.61"),
            ("1", "-0.50", Net, "21", "-0.50", "-0.11", "-0.61"),
            ("-0.1", "499.00", Gross, "21", "-41.24", "-8.66", "-49.90"),
            ("1", "100", Gross, "0", "100", "0", "100"),
            ("3", "33.333", Net, "12", "100.00", "12.00", "112.00"),
        ] {
            let line = compute_line(&input(q, price, basis, rate));
            assert_eq!(
                (line.net, line.vat, line.gross),
                (dec(net), dec(vat), dec(gross)),
                "{q} × {price} {basis:?} {rate} %"
            );
        }
    }

    #[test]
    fn totals_are_sums_of_rounded_lines() {
        let service = input("1", "499.00", PriceBasis::Gross, "21");
        let lines: Vec<_> = [
            service.clone(),
            service.clone(),
            service,
            input("1", "100.00", PriceBasis::Net, "12"),
        ]
        .iter()
        .map(compute_line)
        .collect();
        let t = totals(&lines);
        // Per line 3 × 86.60; rounding the 1497.00 total once would give 259.81.
        assert_eq!(
            round_money(dec("1497.00") * dec("21") / dec("121")),
            dec("259.81")
        );
        assert_eq!(
            t.by_rate,
            vec![
                VatSummary {
                    rate: dec("12"),
                    net: dec("100.00"),
                    vat: dec("12.00"),
                    gross: dec("112.00")
                },
                VatSummary {
                    rate: dec("21"),
                    net: dec("1237.20"),
                    vat: dec("259.80"),
                    gross: dec("1497.00")
                },
            ]
        );
        assert_eq!(
            (t.net, t.vat, t.gross),
            (dec("1337.20"), dec("271.80"), dec("1609.00"))
        );
        assert!(totals(&[]).by_rate.is_empty());
    }

    fn charge(from: NaiveDate, to: NaiveDate, fraction: &str) -> Charge {
        Charge {
            from,
            to,
            charged_days: 0,
            period_days: 0,
            fraction: dec(fraction),
        }
    }

    fn discount(
        name: &str,
        value: DiscountValue,
        from: NaiveDate,
        to: Option<NaiveDate>,
    ) -> Discount {
        Discount {
            name: name.into(),
            value,
            valid_from: from,
            valid_to: to,
        }
    }

    /// (description, quantity, unit price) for compact tables.
    fn brief(lines: &[LineInput]) -> Vec<(String, Decimal, Decimal)> {
        lines
            .iter()
            .map(|l| (l.description.clone(), l.quantity, l.unit_price))
            .collect()
    }

    #[test]
    fn charge_lines_with_discounts() {
        use DiscountValue::{Amount, Percent, ResultingPrice};
        let nov = charge(d(2026, 11, 15), d(2026, 12, 14), "1");
        let open = |name, value| discount(name, value, d(2026, 1, 1), None);
        let price = dec("499.00");
        let line = |text: &str, q: &str, p: &str| (text.to_owned(), dec(q), dec(p));
        let service = line("Fiber 100 2026-11-15 – 2026-12-14", "1", "499.00");
        let cases: Vec<(&str, Charge, Vec<Discount>, Vec<_>)> = vec![
            ("no discount", nov.clone(), vec![], vec![service.clone()]),
            (
                "10 %",
                nov.clone(),
                vec![open("Loyalty", Percent(dec("10")))],
                vec![
                    service.clone(),
                    line("Fiber 100: Loyalty 2026-11-15 – 2026-12-14", "1", "-49.90"),
                ],
            ),
            (
                "percent rounded to the cent per period",
                nov.clone(),
                vec![open("Promo", Percent(dec("12.5")))],
                vec![
                    service.clone(),
                    line("Fiber 100: Promo 2026-11-15 – 2026-12-14", "1", "-62.38"),
                ],
            ),
            (
                "amount and resulting price together; resulting price ignores the other",
                nov.clone(),
                vec![
                    open("Neighbour", Amount(dec("100"))),
                    open("Campaign", ResultingPrice(dec("399"))),
                ],
                vec![
                    service.clone(),
                    line("Fiber 100: Neighbour 2026-11-15 – 2026-12-14", "1", "-100"),
                    line("Fiber 100: Campaign 2026-11-15 – 2026-12-14", "1", "-100"),
                ],
            ),
            (
                "resulting price above the base: no discount",
                nov.clone(),
                vec![open("Campaign", ResultingPrice(dec("600")))],
                vec![service.clone()],
            ),
            (
                "never below zero: the second amount is capped",
                nov.clone(),
                vec![open("A", Amount(dec("300"))), open("B", Amount(dec("300")))],
                vec![
                    service.clone(),
                    line("Fiber 100: A 2026-11-15 – 2026-12-14", "1", "-300"),
                    line("Fiber 100: B 2026-11-15 – 2026-12-14", "1", "-199.00"),
                ],
            ),
            (
                "valid from 1.12.: 14 of the charge's 30 days",
                nov.clone(),
                vec![discount("Winter", Percent(dec("20")), d(2026, 12, 1), None)],
                vec![
                    service.clone(),
                    line(
                        "Fiber 100: Winter 2026-12-01 – 2026-12-14",
                        "0.466667",
                        "-99.80",
                    ),
                ],
            ),
            (
                "prorated charge, discount over part of it",
                charge(d(2026, 11, 10), d(2026, 11, 30), "0.7"),
                vec![discount(
                    "Launch",
                    Amount(dec("50")),
                    d(2026, 1, 1),
                    Some(d(2026, 11, 16)),
                )],
                vec![
                    line("Fiber 100 2026-11-10 – 2026-11-30", "0.7", "499.00"),
                    line(
                        "Fiber 100: Launch 2026-11-10 – 2026-11-16",
                        "0.233333",
                        "-50",
                    ),
                ],
            ),
            (
                "expired and future discounts do not apply",
                nov.clone(),
                vec![
                    discount(
                        "Old",
                        Percent(dec("10")),
                        d(2025, 1, 1),
                        Some(d(2026, 11, 14)),
                    ),
                    discount("Future", Percent(dec("10")), d(2026, 12, 15), None),
                ],
                vec![service.clone()],
            ),
            (
                "a wholly suspended period gives no lines",
                charge(d(2026, 11, 15), d(2026, 12, 14), "0"),
                vec![open("Loyalty", Percent(dec("10")))],
                vec![],
            ),
            (
                "one-off fee",
                charge(d(2026, 11, 10), d(2026, 11, 10), "1"),
                vec![],
                vec![line("Fiber 100 2026-11-10", "1", "499.00")],
            ),
        ];
        for (name, charge, discounts, want) in cases {
            let got = charge_lines(
                "Fiber 100",
                price,
                PriceBasis::Gross,
                dec("21"),
                &charge,
                &discounts,
            );
            assert_eq!(brief(&got), want, "{name}");
            assert!(
                got.iter()
                    .all(|l| l.basis == PriceBasis::Gross && l.vat_rate == dec("21"))
            );
        }
    }

    #[test]
    fn discount_rules() {
        let ok = discount(
            "Loyalty",
            DiscountValue::Percent(dec("10")),
            d(2026, 1, 1),
            None,
        );
        assert_eq!(ok.validate(), Ok(()));
        let field = |edit: fn(&mut Discount)| {
            let mut x = ok.clone();
            edit(&mut x);
            x.validate().unwrap_err().field
        };
        assert_eq!(field(|x| x.name.clear()), "discount.name");
        assert_eq!(
            field(|x| x.valid_to = Some(d(2025, 12, 31))),
            "discount.valid_to"
        );
        assert_eq!(
            field(|x| x.value = DiscountValue::Percent(dec("101"))),
            "discount.value"
        );
        assert_eq!(
            field(|x| x.value = DiscountValue::Amount(dec("-1"))),
            "discount.value"
        );
        assert_eq!(
            field(|x| x.value = DiscountValue::ResultingPrice(dec("1.001"))),
            "discount.value"
        );
    }

    #[test]
    fn number_patterns() {
        for (pattern, seq, want) in [
            ("{year}/{seq:05}", 42, "2026/00042"),
            ("FV{yy}{seq:04}", 42, "FV260042"),
            ("{seq}", 42, "42"),
            ("{seq:03}", 12345, "12345"),
            ("{{{year}}}-{seq}", 7, "{2026}-7"),
            ("{{x-{seq}", 7, "{x-7"),
        ] {
            assert_eq!(
                format_number(pattern, 2026, seq).unwrap(),
                want,
                "{pattern}"
            );
            assert_eq!(sequence_of(pattern, 2026, want), Ok(Some(seq)), "{pattern}");
        }
        assert_eq!(format_number("{yy}-{seq}", 2005, 1).unwrap(), "05-1");
        for (pattern, problem) in [
            ("{foo}-{seq}", "unknown placeholder {foo}"),
            ("{seq:5}", "unknown placeholder {seq:5}"),
            ("{seq:021}", "unknown placeholder {seq:021}"),
            ("{seq", "unclosed"),
            ("{year}/{seq", "unclosed"),
            ("INV-{year}", "needs exactly one {seq}"),
            ("{seq}{seq}", "needs exactly one {seq}"),
            ("{seq}}", "unmatched"),
        ] {
            let err = format_number(pattern, 2026, 1).unwrap_err();
            assert_eq!(err.pattern, pattern);
            assert!(err.problem.contains(problem), "{pattern}: {err}");
            assert!(err.to_string().contains(pattern), "{err}");
        }
        assert_eq!(sequence_of("{year}/{seq:05}", 2026, "2025/00042"), Ok(None));
        assert_eq!(sequence_of("{year}/{seq:05}", 2026, "2026/0042"), Ok(None));
        assert_eq!(sequence_of("{year}/{seq}", 2026, "2026/x"), Ok(None));
        assert!(check_pattern("{year}").is_err());
    }

    #[test]
    fn dates() {
        let issue = d(2026, 12, 1);
        let end = d(2026, 12, 14);
        assert_eq!(
            taxable_supply_date(TaxableDateRule::IssueDate, issue, end),
            issue
        );
        assert_eq!(
            taxable_supply_date(TaxableDateRule::EndOfPeriod, issue, end),
            end
        );
        assert_eq!(
            taxable_supply_date(TaxableDateRule::DaysBeforeIssue(14), issue, end),
            d(2026, 11, 17)
        );
        assert_eq!(due_date(issue, Some(30), 14), d(2026, 12, 31));
        assert_eq!(due_date(issue, None, 14), d(2026, 12, 15));
        assert_eq!(due_date(issue, Some(0), 14), issue);
    }

    #[test]
    fn invoice_states() {
        use InvoiceState::*;
        for (total, paid, cancelled, want) in [
            ("499.00", "0", false, Unpaid),
            ("499.00", "100", false, PartiallyPaid),
            ("499.00", "499.00", false, Paid),
            ("499.00", "600", false, Paid),
            ("499.00", "-5", false, Unpaid),
            ("499.00", "0", true, Cancelled),
            ("499.00", "499.00", true, Cancelled),
            ("0", "0", false, Paid),
            ("-100", "0", false, Unpaid),
            ("-100", "-40", false, PartiallyPaid),
            ("-100", "-100", false, Paid),
        ] {
            assert_eq!(
                state_for(dec(total), dec(paid), cancelled),
                want,
                "{total} {paid}"
            );
        }
        for s in InvoiceState::ALL {
            assert_eq!(InvoiceState::parse(s.as_str()), Some(s));
        }
    }

    fn money() -> impl Strategy<Value = Decimal> {
        (-10_000_000i64..10_000_000).prop_map(|n| Decimal::new(n, 2))
    }

    fn line_input() -> impl Strategy<Value = LineInput> {
        (
            (-2_000_000i64..2_000_000).prop_map(|n| Decimal::new(n, FRACTION_SCALE)),
            money(),
            prop_oneof![Just(PriceBasis::Net), Just(PriceBasis::Gross)],
            prop_oneof![
                Just(dec("0")),
                Just(dec("10")),
                Just(dec("12")),
                Just(dec("21")),
                Just(dec("21.00")),
                (0i64..10_000).prop_map(|n| Decimal::new(n, 2)),
            ],
        )
            .prop_map(|(quantity, unit_price, basis, vat_rate)| LineInput {
                description: String::new(),
                quantity,
                unit_price,
                basis,
                vat_rate,
            })
    }

    proptest! {
        #[test]
        fn every_line_adds_up(input in line_input()) {
            let line = compute_line(&input);
            prop_assert_eq!(line.gross, line.net + line.vat);
            for amount in [line.net, line.vat, line.gross] {
                prop_assert_eq!(round_money(amount), amount);
            }
            let priced = round_money(input.quantity * input.unit_price);
            match input.basis {
                PriceBasis::Net => prop_assert_eq!(line.net, priced),
                PriceBasis::Gross => prop_assert_eq!(line.gross, priced),
            }
            // A negative line is the exact mirror of its positive twin.
            let negated = compute_line(&LineInput { unit_price: -input.unit_price, ..input });
            prop_assert_eq!((negated.net, negated.vat, negated.gross), (-line.net, -line.vat, -line.gross));
        }

        #[test]
        fn totals_equal_the_lines_and_the_summary(inputs in proptest::collection::vec(line_input(), 0..12)) {
            let lines: Vec<Line> = inputs.iter().map(compute_line).collect();
            let t = totals(&lines);
            prop_assert_eq!(t.net, lines.iter().map(|l| l.net).sum::<Decimal>());
            prop_assert_eq!(t.vat, lines.iter().map(|l| l.vat).sum::<Decimal>());
            prop_assert_eq!(t.gross, lines.iter().map(|l| l.gross).sum::<Decimal>());
            prop_assert_eq!(t.gross, t.net + t.vat);
            prop_assert_eq!(t.net, t.by_rate.iter().map(|s| s.net).sum::<Decimal>());
            prop_assert_eq!(t.vat, t.by_rate.iter().map(|s| s.vat).sum::<Decimal>());
            for s in &t.by_rate {
                let of_rate = || lines.iter().filter(|l| l.vat_rate == s.rate);
                prop_assert_eq!(s.net, of_rate().map(|l| l.net).sum::<Decimal>());
                prop_assert_eq!(s.vat, of_rate().map(|l| l.vat).sum::<Decimal>());
                prop_assert_eq!(s.gross, of_rate().map(|l| l.gross).sum::<Decimal>());
            }
            let mut rates: Vec<_> = t.by_rate.iter().map(|s| s.rate).collect();
            rates.dedup();
            prop_assert_eq!(rates.len(), t.by_rate.len(), "one summary per rate");
        }

        #[test]
        fn full_discount_cancels_the_service(
            price in (0i64..10_000_000).prop_map(|n| Decimal::new(n, 2)),
            fraction in (1i64..=1_000_000).prop_map(|n| Decimal::new(n, FRACTION_SCALE)),
            basis in prop_oneof![Just(PriceBasis::Net), Just(PriceBasis::Gross)],
        ) {
            let day = d(2026, 11, 1);
            let charge = Charge { from: day, to: d(2026, 11, 30), charged_days: 0, period_days: 30, fraction };
            let free = [
                discount("Free", DiscountValue::Percent(dec("100")), day, None),
                discount("More", DiscountValue::Amount(dec("5")), day, None),
            ];
            let lines = charge_lines("S", price, basis, dec("21"), &charge, &free);
            let lines: Vec<Line> = lines.iter().map(compute_line).collect();
            prop_assert!(totals(&lines).gross.is_zero());
        }

        #[test]
        fn format_number_round_trips_the_sequence(
            prefix in "[A-Z/-]{0,4}",
            width in 0usize..=MAX_SEQ_WIDTH,
            year in 1990i32..2100,
            seq in any::<u64>(),
            with_year in any::<bool>(),
        ) {
            let seq_token = if width == 0 { "{seq}".to_owned() } else { format!("{{seq:0{width}}}") };
            let year_part = if with_year { "{year}-" } else { "" };
            let pattern = format!("{prefix}{year_part}{seq_token}/{{yy}}");
            let number = format_number(&pattern, year, seq).unwrap();
            prop_assert_eq!(sequence_of(&pattern, year, &number), Ok(Some(seq)));
            prop_assert!(number.len() >= width);
        }

        #[test]
        fn credit_note_states_mirror_invoice_states(total in money(), paid in money()) {
            prop_assert_eq!(state_for(total, paid, false), state_for(-total, -paid, false));
        }
    }
}
