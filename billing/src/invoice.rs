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
use crate::schedule::{Charge, FRACTION_SCALE, charged_days};

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

/// The invoice lines of one charge: the service line, then one negative line per discount.
///
/// Rules:
/// - a charge with fraction 0 (a wholly suspended period) gives no lines;
/// - a discount's per-period amount is rounded to the cent first, so its line shows a price
///   the customer can check; a percent is of the base price, a resulting price gives
///   base − target (nothing when the target is above the base);
/// - discounts never take the service below zero: each is limited to what the base price
///   minus the discounts listed before it leaves — each of those counted for the part of the
///   charge it covers (a discount over ten of thirty-one days takes ten thirty-firsts of its
///   amount from what is left, not all of it);
/// - a discount valid on only part of the charge is prorated like the charge itself: its
///   quantity is the charge's fraction × its charged days / the charge's charged days (6
///   places, half-up), so a discount covering the whole charge has exactly the service's
///   quantity, and one over days not charged (`unbilled`: pauses with billing suspended)
///   takes nothing for them.
pub fn charge_lines(
    service_name: &str,
    base_price: Decimal,
    basis: PriceBasis,
    vat_rate: Decimal,
    (charge, unbilled): (&Charge, &[(NaiveDate, NaiveDate)]),
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
    let charge_days = charged_days(charge.from, charge.to, unbilled);
    for discount in discounts {
        let Some((from, to)) = discount.overlap(charge.from, charge.to) else {
            continue;
        };
        let covered = charged_days(from, to, unbilled);
        if covered == 0 {
            continue;
        }
        // The share of the charge it covers, and the most a period of it may take there.
        let share = Decimal::from(covered) / Decimal::from(charge_days);
        let room = (remaining / share).round_dp_with_strategy(2, RoundingStrategy::ToZero);
        let amount = discount.per_period(base_price).min(room);
        if amount.is_zero() {
            continue;
        }
        remaining = (remaining - amount * share).max(Decimal::ZERO);
        let quantity = (charge.fraction * share)
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

/// The year a number series of `pattern` counts within: `year` when the pattern names it
/// (`{year}`, `{yy}`), else 0 — one series for every year, since a pattern without the year
/// that began again each January would repeat its numbers.
pub fn series_year(pattern: &str, year: i32) -> Result<i32, NumberFormatError> {
    let names_year = parse_pattern(pattern)?
        .iter()
        .any(|t| matches!(t, Token::Year | Token::ShortYear));
    Ok(if names_year { year } else { 0 })
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
mod tests;
