//! Which periods of a service are due for charging, and what fraction of each is charged.
//!
//! Billing is in advance: a period is due on its first charged day. Periods are either
//! *aligned* to the client's billing day (a day-15 client is billed 15th to 14th; quarterly,
//! half-yearly and yearly periods follow calendar quarters, halves and years, each starting on
//! the billing day) or *floating* (Mango "plovoucí perioda": periods of 1/3/6/12 months counted
//! from the service's own billing-from date).
//!
//! Proration rule ([`Proration::ByDays`], the default): a period's fraction is
//! charged days / days in the period, exact to 6 decimal places (half-up), and exactly 1 for a
//! full period. Charged days are the days between billing-from and the end ("pay until") that
//! lie in the period, minus the days of pauses and blocks with billing suspended.
//!
//! Nothing here remembers anything: the caller stores the last charged day (`to` of the last
//! charge) and passes it back, which is what makes repeated runs idempotent.

use chrono::{Days, Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::client::MAX_BILLING_DAY;
use crate::period::Period;

/// Decimal places of a charge's fraction: exact enough that a year's price prorated to one
/// day stays correct to the cent.
pub const FRACTION_SCALE: u32 = 6;

/// Where a service's periods start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Alignment {
    /// On the client's billing day (1-28, so every month has it; other values are clamped).
    BillingDay(u32),
    /// On the service's billing-from date, whatever day that is (Mango "plovoucí perioda").
    Floating,
}

/// How a partial period is charged (a configuration switch).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Proration {
    /// Charged days / period days.
    #[default]
    ByDays,
    /// A period with at least one charged day is charged in full; one with none is free.
    WholePeriod,
}

/// What decides a service's charges: everything `due_charges` needs, loaded by the caller.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChargeTerms {
    /// First charged day (Mango "Placení k").
    pub billing_from: NaiveDate,
    /// Last charged day (Mango "Platba do"); `None` while the service runs on.
    pub end: Option<NaiveDate>,
    pub period: Period,
    pub alignment: Alignment,
    /// Inclusive date ranges not charged: pauses and blocks with billing suspended. They may
    /// overlap or be unsorted.
    pub unbilled: Vec<(NaiveDate, NaiveDate)>,
    /// Days from which the service is charged at another price (a tariff changed from a date,
    /// see [`crate::price_change`]). Under [`Proration::ByDays`] no charge spans one, so each
    /// part carries the price of its own days; a whole-period charge is not cut.
    pub price_changes: Vec<NaiveDate>,
    /// The last day of the commitment: with [`Period::Total`] the one period runs from
    /// `billing_from` to it, and nothing is charged without it.
    pub commitment_until: Option<NaiveDate>,
    /// Days a floating service's periods begin anew (its expiration moved by hand, see
    /// [`crate::subscription::expiration`]): a period ends the day before the next restart,
    /// and the periods from a restart follow it.
    pub restarts: Vec<NaiveDate>,
}

impl ChargeTerms {
    /// The period containing `date` under these terms; a total price's is its whole term.
    pub fn period_containing(&self, date: NaiveDate) -> (NaiveDate, NaiveDate) {
        if let (Period::Total, Some(last)) = (self.period, self.commitment_until) {
            return (self.billing_from, last);
        }
        let anchor = self
            .restarts
            .iter()
            .copied()
            .filter(|day| *day <= date)
            .fold(self.billing_from, NaiveDate::max);
        let (start, end) = period_containing(date, self.period, self.alignment, anchor);
        let cut = self
            .restarts
            .iter()
            .copied()
            .filter(|day| *day > date)
            .min()
            .and_then(|day| day.pred_opt());
        (start, cut.map_or(end, |cut| end.min(cut)))
    }

    /// The last day anything is charged: the end date, and for a total price the end of its
    /// term. `None` when nothing can be: a total price without a term.
    fn last_charged_day(&self) -> Option<NaiveDate> {
        let end = self.end.unwrap_or(NaiveDate::MAX);
        match self.period {
            Period::Total => self.commitment_until.map(|last| last.min(end)),
            _ => Some(end),
        }
    }
}

/// One charge: a period, or the part of it the service was billable in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Charge {
    /// First day covered, inclusive.
    pub from: NaiveDate,
    /// Last day covered, inclusive. Store it: it is the next run's `already_billed_until`.
    pub to: NaiveDate,
    /// Days of `from..=to` actually charged (pauses with billing suspended removed).
    pub charged_days: u32,
    /// Days in the whole period `from..=to` belongs to.
    pub period_days: u32,
    /// Share of the period's price: `charged_days / period_days` to 6 places, 1 when full.
    /// Negative on a credit (see [`credit_for_early_end`]).
    pub fraction: Decimal,
}

impl Charge {
    fn one_off(day: NaiveDate) -> Self {
        Self {
            from: day,
            to: day,
            charged_days: 1,
            period_days: 1,
            fraction: Decimal::ONE,
        }
    }
}

/// The inclusive period of `period` that contains `date`. `anchor` is the first day of a
/// floating period (the billing-from date); aligned periods ignore it. A one-off charge has no
/// periods, so its "period" is the day itself.
pub fn period_containing(
    date: NaiveDate,
    period: Period,
    alignment: Alignment,
    anchor: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    let Some(step) = period.months() else {
        return (date, date);
    };
    let base = match alignment {
        // Any January works: billing days are 1-28, so the day never needs clamping, and
        // multi-month periods then follow calendar quarters, halves and years.
        #[allow(
            clippy::expect_used,
            reason = "January 2000 has every day from 1 to 28"
        )]
        Alignment::BillingDay(day) => {
            NaiveDate::from_ymd_opt(2000, 1, day.clamp(1, MAX_BILLING_DAY)).expect("valid date")
        }
        Alignment::Floating => anchor,
    };
    let mut k = (month_index(date) - month_index(base)).div_euclid(i64::from(step));
    // The estimate is off by at most one when the day of month is before the base day.
    while boundary(base, step, k) > date {
        k -= 1;
    }
    while boundary(base, step, k + 1) <= date {
        k += 1;
    }
    let end = boundary(base, step, k + 1)
        .pred_opt()
        .unwrap_or(NaiveDate::MAX);
    (boundary(base, step, k), end)
}

/// Months since year 0, to count periods between two dates.
fn month_index(date: NaiveDate) -> i64 {
    use chrono::Datelike;
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

/// The first day of period `k` counted from `base`. Always computed from `base` (never chained)
/// so a floating period anchored on the 31st returns to the 31st after February.
fn boundary(base: NaiveDate, step: u32, k: i64) -> NaiveDate {
    let months = k.saturating_mul(i64::from(step));
    let shifted = match u32::try_from(months.unsigned_abs()) {
        Ok(m) if months >= 0 => base.checked_add_months(Months::new(m)),
        Ok(m) => base.checked_sub_months(Months::new(m)),
        Err(_) => None,
    };
    shifted.unwrap_or(if months >= 0 {
        NaiveDate::MAX
    } else {
        NaiveDate::MIN
    })
}

/// Inclusive day count of `from..=to` (0 when `to` is before `from`).
fn days_in(from: NaiveDate, to: NaiveDate) -> u32 {
    u32::try_from((to - from).num_days() + 1).unwrap_or(0)
}

/// Days of `from..=to` inside any of the `unbilled` ranges, each day counted once.
fn unbilled_days(from: NaiveDate, to: NaiveDate, unbilled: &[(NaiveDate, NaiveDate)]) -> u32 {
    let mut clipped: Vec<_> = unbilled
        .iter()
        .map(|&(a, b)| (a.max(from), b.min(to)))
        .filter(|(a, b)| a <= b)
        .collect();
    clipped.sort_unstable();
    let mut days = 0;
    let mut counted_until: Option<NaiveDate> = None;
    for (a, b) in clipped {
        let start = match counted_until {
            Some(c) if c >= a => match c.succ_opt() {
                Some(next) => next,
                None => continue,
            },
            _ => a,
        };
        days += days_in(start, b);
        counted_until = Some(counted_until.map_or(b, |c| c.max(b)));
    }
    days
}

/// The share of a period charged for `charged` of its `period_days` days.
fn fraction(charged: u32, period_days: u32, proration: Proration) -> Decimal {
    match proration {
        _ if charged == 0 => Decimal::ZERO,
        Proration::WholePeriod => Decimal::ONE,
        Proration::ByDays if charged >= period_days => Decimal::ONE,
        Proration::ByDays => (Decimal::from(charged) / Decimal::from(period_days))
            .round_dp_with_strategy(FRACTION_SCALE, RoundingStrategy::MidpointAwayFromZero),
    }
}

/// Charged days of `from..=to`, once suspended billing is removed.
fn charged_days(from: NaiveDate, to: NaiveDate, unbilled: &[(NaiveDate, NaiveDate)]) -> u32 {
    days_in(from, to) - unbilled_days(from, to, unbilled)
}

/// Every charge due on `as_of` that was not billed yet: periods (or their parts) from the day
/// after `already_billed_until` (or from billing-from) whose first charged day is on or before
/// `as_of`, cut at `end`. A period entirely suspended still yields a charge, with fraction 0,
/// so the billed-until date moves past it. A one-off service yields one charge on its
/// billing-from day, with fraction 1; a total price one charge for its whole term, in advance.
pub fn due_charges(
    terms: &ChargeTerms,
    already_billed_until: Option<NaiveDate>,
    as_of: NaiveDate,
    proration: Proration,
) -> Vec<Charge> {
    let mut cursor = match already_billed_until {
        Some(billed) if billed >= terms.billing_from => match billed.succ_opt() {
            Some(next) => next,
            None => return Vec::new(),
        },
        _ => terms.billing_from,
    };
    let Some(end) = terms.last_charged_day() else {
        return Vec::new();
    };
    if terms.period == Period::OneOff {
        let due = cursor == terms.billing_from && cursor <= as_of && cursor <= end;
        return if due {
            vec![Charge::one_off(cursor)]
        } else {
            Vec::new()
        };
    }
    let mut charges = Vec::new();
    while cursor <= as_of && cursor <= end {
        let (start, period_end) = terms.period_containing(cursor);
        let to = period_end.min(end);
        let period_days = days_in(start, period_end);
        let charged = charged_days(cursor, to, &terms.unbilled);
        let whole = Charge {
            from: cursor,
            to,
            charged_days: charged,
            period_days,
            fraction: fraction(charged, period_days, proration),
        };
        charges.extend(split_at_price_changes(whole, terms, proration));
        match to.succ_opt() {
            Some(next) => cursor = next,
            None => break,
        }
    }
    charges
}

/// `charge` cut at the days its price changes (`terms.price_changes`), each part with the
/// fraction of its own days. A whole-period charge is not cut: it is charged at the price of
/// its first day.
pub fn split_at_price_changes(
    charge: Charge,
    terms: &ChargeTerms,
    proration: Proration,
) -> Vec<Charge> {
    let mut cuts: Vec<NaiveDate> = terms
        .price_changes
        .iter()
        .copied()
        .filter(|day| *day > charge.from && *day <= charge.to)
        .collect();
    if cuts.is_empty() || proration == Proration::WholePeriod || charge.fraction < Decimal::ZERO {
        return vec![charge];
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut parts = Vec::with_capacity(cuts.len() + 1);
    let mut from = charge.from;
    for next in cuts.into_iter().map(Some).chain([None]) {
        let to = next.and_then(|day| day.pred_opt()).unwrap_or(charge.to);
        let charged = charged_days(from, to, &terms.unbilled);
        parts.push(Charge {
            from,
            to,
            charged_days: charged,
            period_days: charge.period_days,
            fraction: fraction(charged, charge.period_days, proration),
        });
        if let Some(day) = next {
            from = day;
        }
    }
    parts
}

/// The charge an invoiced `from..=to` (part of one period) should have under the current
/// terms: cut at the end date and with the suspended days removed. `None` when the service had
/// ended before `from`, so nothing of it is due. Used to correct periods invoiced in advance.
pub fn recharge(
    terms: &ChargeTerms,
    from: NaiveDate,
    to: NaiveDate,
    proration: Proration,
) -> Option<Charge> {
    let end = terms.last_charged_day()?;
    if from > end {
        return None;
    }
    if terms.period == Period::OneOff {
        return Some(Charge::one_off(from));
    }
    let to = to.min(end);
    let (start, period_end) = terms.period_containing(from);
    let period_days = days_in(start, period_end);
    let charged = charged_days(from, to, &terms.unbilled);
    Some(Charge {
        from,
        to,
        charged_days: charged,
        period_days,
        fraction: fraction(charged, period_days, proration),
    })
}

/// When a service ends (`new_end`, the new last charged day) inside a charge already invoiced,
/// the part after `new_end` as a credit: a charge over the uncharged days whose fraction is
/// negative. The fraction is the difference between what was invoiced and what the shortened
/// charge would have been, so invoiced + credit = the shortened charge. `unbilled` and
/// `proration` must be those the charge was made with. `None` when nothing is to be credited.
pub fn credit_for_early_end(
    invoiced: &Charge,
    new_end: NaiveDate,
    unbilled: &[(NaiveDate, NaiveDate)],
    proration: Proration,
) -> Option<Charge> {
    if new_end >= invoiced.to {
        return None;
    }
    let credit_from = new_end.succ_opt()?.max(invoiced.from);
    let kept_days = if new_end < invoiced.from {
        0
    } else {
        charged_days(invoiced.from, new_end, unbilled)
    };
    let kept = fraction(kept_days, invoiced.period_days, proration);
    let credit = kept - invoiced.fraction;
    (credit < Decimal::ZERO).then(|| Charge {
        from: credit_from,
        to: invoiced.to,
        charged_days: invoiced.charged_days.saturating_sub(kept_days),
        period_days: invoiced.period_days,
        fraction: credit,
    })
}

/// Mango "expiration": the first day of the oldest unpaid charge, i.e. the service is paid up
/// to the day before. Charges with nothing to pay (fraction 0 or below) do not count. `None`
/// when nothing is unpaid.
pub fn expiration<'a>(unpaid: impl IntoIterator<Item = &'a Charge>) -> Option<NaiveDate> {
    unpaid
        .into_iter()
        .filter(|c| c.fraction > Decimal::ZERO)
        .map(|c| c.from)
        .min()
}

/// The last paid day given the expiration: the day before it, or `billed_until` when nothing is
/// unpaid (`None` before anything was billed).
pub fn paid_until(
    expiration: Option<NaiveDate>,
    billed_until: Option<NaiveDate>,
) -> Option<NaiveDate> {
    match expiration {
        Some(day) => day.checked_sub_days(Days::new(1)),
        None => billed_until,
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

    fn terms(billing_from: NaiveDate, period: Period, alignment: Alignment) -> ChargeTerms {
        ChargeTerms {
            billing_from,
            end: None,
            period,
            alignment,
            unbilled: Vec::new(),
            price_changes: Vec::new(),
            commitment_until: None,
            restarts: Vec::new(),
        }
    }

    /// (from, to, charged_days, period_days, fraction) for compact tables.
    fn summary(charges: &[Charge]) -> Vec<(NaiveDate, NaiveDate, u32, u32, Decimal)> {
        charges
            .iter()
            .map(|c| (c.from, c.to, c.charged_days, c.period_days, c.fraction))
            .collect()
    }

    #[test]
    fn periods_by_alignment() {
        use Alignment::{BillingDay, Floating};
        use Period::*;
        let anchor = d(2026, 1, 31);
        for (date, period, alignment, want) in [
            // Billing day 1: calendar months, quarters, halves, years.
            (
                d(2026, 11, 10),
                Monthly,
                BillingDay(1),
                (d(2026, 11, 1), d(2026, 11, 30)),
            ),
            (
                d(2026, 11, 10),
                Quarterly,
                BillingDay(1),
                (d(2026, 10, 1), d(2026, 12, 31)),
            ),
            (
                d(2026, 11, 10),
                HalfYearly,
                BillingDay(1),
                (d(2026, 7, 1), d(2026, 12, 31)),
            ),
            (
                d(2026, 11, 10),
                Yearly,
                BillingDay(1),
                (d(2026, 1, 1), d(2026, 12, 31)),
            ),
            // Billing day 15: the manual's 15.11.-14.12.
            (
                d(2026, 11, 15),
                Monthly,
                BillingDay(15),
                (d(2026, 11, 15), d(2026, 12, 14)),
            ),
            (
                d(2026, 12, 14),
                Monthly,
                BillingDay(15),
                (d(2026, 11, 15), d(2026, 12, 14)),
            ),
            (
                d(2026, 11, 14),
                Monthly,
                BillingDay(15),
                (d(2026, 10, 15), d(2026, 11, 14)),
            ),
            (
                d(2027, 1, 10),
                Quarterly,
                BillingDay(15),
                (d(2026, 10, 15), d(2027, 1, 14)),
            ),
            (
                d(2026, 2, 28),
                Monthly,
                BillingDay(28),
                (d(2026, 2, 28), d(2026, 3, 27)),
            ),
            // Floating from the 31st: clamped in short months, back on the 31st after them.
            (
                d(2026, 2, 27),
                Monthly,
                Floating,
                (d(2026, 1, 31), d(2026, 2, 27)),
            ),
            (
                d(2026, 2, 28),
                Monthly,
                Floating,
                (d(2026, 2, 28), d(2026, 3, 30)),
            ),
            (
                d(2026, 3, 31),
                Monthly,
                Floating,
                (d(2026, 3, 31), d(2026, 4, 29)),
            ),
            (
                d(2026, 6, 1),
                Quarterly,
                Floating,
                (d(2026, 4, 30), d(2026, 7, 30)),
            ),
            (
                d(2025, 12, 31),
                Monthly,
                Floating,
                (d(2025, 12, 31), d(2026, 1, 30)),
            ),
            // A one-off charge has no periods: the day itself.
            (
                d(2026, 11, 10),
                OneOff,
                BillingDay(1),
                (d(2026, 11, 10), d(2026, 11, 10)),
            ),
        ] {
            assert_eq!(
                period_containing(date, period, alignment, anchor),
                want,
                "{date} {period:?} {alignment:?}"
            );
        }
    }

    #[test]
    fn due_charges_from_the_manuals() {
        use Alignment::{BillingDay, Floating};
        use Period::*;
        let nov10 = d(2026, 11, 10);
        let cases: Vec<(&str, ChargeTerms, NaiveDate, Vec<_>)> = vec![
            (
                "activated mid-month, billing day 1: 21/30 of November, then December",
                terms(nov10, Monthly, BillingDay(1)),
                d(2026, 12, 1),
                vec![
                    (nov10, d(2026, 11, 30), 21, 30, dec("0.7")),
                    (d(2026, 12, 1), d(2026, 12, 31), 31, 31, dec("1")),
                ],
            ),
            (
                "billing day 15: 5 days of the period 15.10.-14.11.",
                terms(nov10, Monthly, BillingDay(15)),
                d(2026, 11, 20),
                vec![
                    (nov10, d(2026, 11, 14), 5, 31, dec("0.161290")),
                    (d(2026, 11, 15), d(2026, 12, 14), 30, 30, dec("1")),
                ],
            ),
            (
                "floating: whole periods from billing-from",
                terms(nov10, Monthly, Floating),
                d(2026, 12, 10),
                vec![
                    (nov10, d(2026, 12, 9), 30, 30, dec("1")),
                    (d(2026, 12, 10), d(2027, 1, 9), 31, 31, dec("1")),
                ],
            ),
            (
                "quarterly aligned: 52 of Q4's 92 days",
                terms(nov10, Quarterly, BillingDay(1)),
                d(2027, 1, 1),
                vec![
                    (nov10, d(2026, 12, 31), 52, 92, dec("0.565217")),
                    (d(2027, 1, 1), d(2027, 3, 31), 90, 90, dec("1")),
                ],
            ),
            (
                "not yet due: billing in advance starts on billing-from",
                terms(nov10, Monthly, BillingDay(1)),
                d(2026, 11, 9),
                vec![],
            ),
            (
                "one-off installation fee",
                terms(nov10, OneOff, BillingDay(1)),
                d(2027, 5, 1),
                vec![(nov10, nov10, 1, 1, dec("1"))],
            ),
            (
                "pause 10.-19.12. with billing suspended",
                ChargeTerms {
                    unbilled: vec![(d(2026, 12, 10), d(2026, 12, 19))],
                    ..terms(d(2026, 12, 1), Monthly, BillingDay(1))
                },
                d(2026, 12, 1),
                vec![(d(2026, 12, 1), d(2026, 12, 31), 21, 31, dec("0.677419"))],
            ),
            (
                "overlapping pauses count each day once; a whole suspended month is free",
                ChargeTerms {
                    unbilled: vec![
                        (d(2027, 1, 5), d(2027, 2, 10)),
                        (d(2026, 12, 20), d(2027, 1, 10)),
                    ],
                    ..terms(d(2026, 12, 1), Monthly, BillingDay(1))
                },
                d(2027, 2, 1),
                vec![
                    (d(2026, 12, 1), d(2026, 12, 31), 19, 31, dec("0.612903")),
                    (d(2027, 1, 1), d(2027, 1, 31), 0, 31, dec("0")),
                    (d(2027, 2, 1), d(2027, 2, 28), 18, 28, dec("0.642857")),
                ],
            ),
            (
                "pay until 20.1.: the last period is cut and nothing follows",
                ChargeTerms {
                    end: Some(d(2027, 1, 20)),
                    ..terms(d(2026, 12, 1), Monthly, BillingDay(1))
                },
                d(2027, 6, 1),
                vec![
                    (d(2026, 12, 1), d(2026, 12, 31), 31, 31, dec("1")),
                    (d(2027, 1, 1), d(2027, 1, 20), 20, 31, dec("0.645161")),
                ],
            ),
        ];
        for (name, terms, as_of, want) in cases {
            let got = due_charges(&terms, None, as_of, Proration::ByDays);
            assert_eq!(summary(&got), want, "{name}");
        }
    }

    #[test]
    fn a_tariff_change_cuts_the_period_it_falls_in() {
        let changed = ChargeTerms {
            price_changes: vec![d(2026, 12, 15)],
            ..terms(d(2026, 12, 1), Period::Monthly, Alignment::BillingDay(1))
        };
        let cases = [
            (
                "by days: each part its own days",
                &changed,
                Proration::ByDays,
                vec![
                    (d(2026, 12, 1), d(2026, 12, 14), 14, 31, dec("0.451613")),
                    (d(2026, 12, 15), d(2026, 12, 31), 17, 31, dec("0.548387")),
                    (d(2027, 1, 1), d(2027, 1, 31), 31, 31, dec("1")),
                ],
            ),
            (
                "whole periods: not cut, the period keeps the price of its first day",
                &changed,
                Proration::WholePeriod,
                vec![
                    (d(2026, 12, 1), d(2026, 12, 31), 31, 31, dec("1")),
                    (d(2027, 1, 1), d(2027, 1, 31), 31, 31, dec("1")),
                ],
            ),
        ];
        for (name, terms, proration, want) in cases {
            let got = due_charges(terms, None, d(2027, 1, 1), proration);
            assert_eq!(summary(&got), want, "{name}");
        }
        // A change on a period's first day or a pause inside a part: no extra cut, and a
        // suspended day is removed from the part it falls in.
        let paused = ChargeTerms {
            price_changes: vec![d(2026, 12, 1), d(2026, 12, 15)],
            unbilled: vec![(d(2026, 12, 20), d(2026, 12, 21))],
            ..changed.clone()
        };
        let got = due_charges(&paused, None, d(2026, 12, 1), Proration::ByDays);
        assert_eq!(
            summary(&got),
            vec![
                (d(2026, 12, 1), d(2026, 12, 14), 14, 31, dec("0.451613")),
                (d(2026, 12, 15), d(2026, 12, 31), 15, 31, dec("0.483871")),
            ]
        );
    }

    #[test]
    fn repeated_runs_bill_each_day_once() {
        let terms = terms(d(2026, 11, 10), Period::Monthly, Alignment::BillingDay(1));
        let first = due_charges(&terms, None, d(2026, 11, 10), Proration::ByDays);
        assert_eq!(first.len(), 1);
        let billed = Some(first[0].to);
        assert!(due_charges(&terms, billed, d(2026, 11, 30), Proration::ByDays).is_empty());
        let next = due_charges(&terms, billed, d(2026, 12, 1), Proration::ByDays);
        assert_eq!(
            summary(&next),
            vec![(d(2026, 12, 1), d(2026, 12, 31), 31, 31, dec("1"))]
        );
        // A one-off fee is charged once.
        let fee = ChargeTerms {
            period: Period::OneOff,
            ..terms
        };
        let once = due_charges(&fee, None, d(2026, 12, 1), Proration::ByDays);
        assert!(due_charges(&fee, Some(once[0].to), d(2027, 1, 1), Proration::ByDays).is_empty());
    }

    #[test]
    fn whole_period_proration_charges_partial_periods_in_full() {
        let terms = ChargeTerms {
            unbilled: vec![(d(2027, 1, 1), d(2027, 1, 31))],
            ..terms(d(2026, 11, 10), Period::Monthly, Alignment::BillingDay(1))
        };
        let fractions: Vec<_> = due_charges(&terms, None, d(2027, 1, 1), Proration::WholePeriod)
            .into_iter()
            .map(|c| c.fraction)
            .collect();
        assert_eq!(fractions, vec![dec("1"), dec("1"), dec("0")]);
    }

    #[test]
    fn early_end_credits_the_uncharged_days() {
        let december = Charge {
            from: d(2026, 12, 1),
            to: d(2026, 12, 31),
            charged_days: 31,
            period_days: 31,
            fraction: Decimal::ONE,
        };
        let by_days = |end| credit_for_early_end(&december, end, &[], Proration::ByDays);
        let credit = by_days(d(2026, 12, 20)).unwrap();
        assert_eq!(
            summary(&[credit]),
            vec![(d(2026, 12, 21), d(2026, 12, 31), 11, 31, dec("-0.354839"))]
        );
        // Ended before the charge began: all of it is credited.
        let all = by_days(d(2026, 11, 30)).unwrap();
        assert_eq!((all.from, all.fraction), (d(2026, 12, 1), dec("-1")));
        // Ending on or after the charged end credits nothing.
        assert_eq!(by_days(d(2026, 12, 31)), None);
        assert_eq!(by_days(d(2027, 1, 31)), None);
        // A pause inside the credited part was never charged, so it is not credited.
        let paused = Charge {
            charged_days: 26,
            fraction: dec("0.838710"),
            ..december.clone()
        };
        let pause = [(d(2026, 12, 25), d(2026, 12, 29))];
        let credit = credit_for_early_end(&paused, d(2026, 12, 20), &pause, Proration::ByDays);
        let credit = credit.unwrap();
        assert_eq!(
            (credit.charged_days, credit.fraction),
            (6, dec("-0.193549"))
        );
        // Whole-period proration keeps the period charged while any day of it is.
        let whole = credit_for_early_end(&december, d(2026, 12, 20), &[], Proration::WholePeriod);
        assert_eq!(whole, None);
    }

    #[test]
    fn recharge_of_an_invoiced_period() {
        let mut t = terms(d(2026, 1, 1), Period::Monthly, Alignment::BillingDay(1));
        let nov = (d(2026, 11, 1), d(2026, 11, 30));
        // Nothing changed: the whole month is still due.
        let full = recharge(&t, nov.0, nov.1, Proration::ByDays).unwrap();
        assert_eq!((full.to, full.fraction), (nov.1, Decimal::ONE));
        // Ended on the 15th: 15 of 30 days.
        t.end = Some(d(2026, 11, 15));
        let ended = recharge(&t, nov.0, nov.1, Proration::ByDays).unwrap();
        assert_eq!(
            (ended.to, ended.charged_days, ended.fraction),
            (d(2026, 11, 15), 15, dec("0.5"))
        );
        // Whole-period proration keeps a period with any charged day in full.
        let whole = recharge(&t, nov.0, nov.1, Proration::WholePeriod).unwrap();
        assert_eq!(whole.fraction, Decimal::ONE);
        // Ended before the period: nothing of it is due.
        t.end = Some(d(2026, 10, 31));
        assert_eq!(recharge(&t, nov.0, nov.1, Proration::ByDays), None);
        // Paused with billing suspended 21-30 Nov: 20 of 30 days.
        t.end = None;
        t.unbilled = vec![(d(2026, 11, 21), NaiveDate::MAX)];
        let paused = recharge(&t, nov.0, nov.1, Proration::ByDays).unwrap();
        assert_eq!(
            (paused.charged_days, paused.fraction),
            (20, dec("0.666667"))
        );
    }

    #[test]
    fn a_total_price_is_charged_once_for_its_term_and_credited_when_it_ends_early() {
        let term = ChargeTerms {
            commitment_until: Some(d(2027, 10, 31)),
            ..terms(d(2026, 11, 1), Period::Total, Alignment::BillingDay(1))
        };
        // In advance on its first day, the whole term as one period; nothing after.
        let first = due_charges(&term, None, d(2026, 11, 1), Proration::ByDays);
        assert_eq!(
            summary(&first),
            [(d(2026, 11, 1), d(2027, 10, 31), 365, 365, dec("1"))]
        );
        assert!(
            due_charges(
                &term,
                Some(d(2027, 10, 31)),
                d(2028, 1, 1),
                Proration::ByDays
            )
            .is_empty()
        );
        // Ended after 181 days: the rest of the term is credited.
        let ended = ChargeTerms {
            end: Some(d(2027, 4, 30)),
            ..term.clone()
        };
        let credit = credit_for_early_end(
            &first[0],
            d(2027, 4, 30),
            &ended.unbilled,
            Proration::ByDays,
        )
        .unwrap();
        assert_eq!(
            (credit.from, credit.charged_days, credit.fraction),
            (d(2027, 5, 1), 184, dec("-0.504110"))
        );
        assert_eq!(
            recharge(&ended, d(2026, 11, 1), d(2027, 10, 31), Proration::ByDays).map(|c| c.to),
            Some(d(2027, 4, 30))
        );
        // Without a term nothing can be charged.
        let open = ChargeTerms {
            commitment_until: None,
            ..term
        };
        assert!(due_charges(&open, None, d(2027, 1, 1), Proration::ByDays).is_empty());
    }

    #[test]
    fn periods_begin_anew_where_the_expiration_was_moved() {
        // Floating from 10 November; the expiration moved from 10 December to the 20th.
        let moved = ChargeTerms {
            restarts: vec![d(2026, 12, 20)],
            ..terms(d(2026, 11, 10), Period::Monthly, Alignment::Floating)
        };
        assert_eq!(
            moved.period_containing(d(2026, 11, 15)),
            (d(2026, 11, 10), d(2026, 12, 9))
        );
        // The period running into the restart ends before it; the next follow it.
        assert_eq!(
            moved.period_containing(d(2026, 12, 15)),
            (d(2026, 12, 10), d(2026, 12, 19))
        );
        assert_eq!(
            moved.period_containing(d(2027, 1, 25)),
            (d(2027, 1, 20), d(2027, 2, 19))
        );
        // Billed through the 19th (the days given): the next charge is a whole period.
        let next = due_charges(
            &moved,
            Some(d(2026, 12, 19)),
            d(2026, 12, 20),
            Proration::ByDays,
        );
        assert_eq!(
            summary(&next),
            [(d(2026, 12, 20), d(2027, 1, 19), 31, 31, dec("1"))]
        );
    }

    #[test]
    fn expiration_is_the_oldest_unpaid_charge() {
        let charge = |from, fraction: &str| Charge {
            from,
            to: from,
            charged_days: 1,
            period_days: 1,
            fraction: dec(fraction),
        };
        let unpaid = [
            charge(d(2027, 1, 1), "1"),
            charge(d(2026, 11, 1), "0"),
            charge(d(2026, 12, 1), "1"),
        ];
        let expires = expiration(&unpaid);
        assert_eq!(expires, Some(d(2026, 12, 1)));
        assert_eq!(
            paid_until(expires, Some(d(2027, 1, 31))),
            Some(d(2026, 11, 30))
        );
        assert_eq!(expiration(&[]), None);
        assert_eq!(paid_until(None, Some(d(2027, 1, 31))), Some(d(2027, 1, 31)));
    }

    fn date_strategy() -> impl Strategy<Value = NaiveDate> {
        (0i64..4000).prop_map(|n| d(2020, 1, 1) + chrono::Duration::days(n))
    }

    fn periodic() -> impl Strategy<Value = Period> {
        prop_oneof![
            Just(Period::Monthly),
            Just(Period::Quarterly),
            Just(Period::HalfYearly),
            Just(Period::Yearly),
        ]
    }

    fn alignment() -> impl Strategy<Value = Alignment> {
        prop_oneof![
            (1u32..=28).prop_map(Alignment::BillingDay),
            Just(Alignment::Floating)
        ]
    }

    fn terms_strategy() -> impl Strategy<Value = ChargeTerms> {
        (
            date_strategy(),
            proptest::option::of(0i64..900),
            periodic(),
            alignment(),
            proptest::collection::vec((-40i64..900, 0i64..120), 0..4),
            proptest::collection::vec(-40i64..900, 0..3),
        )
            .prop_map(|(billing_from, end, period, alignment, pauses, changes)| {
                let at = |n: i64| billing_from + chrono::Duration::days(n);
                ChargeTerms {
                    billing_from,
                    end: end.map(at),
                    period,
                    alignment,
                    unbilled: pauses
                        .iter()
                        .map(|&(s, len)| (at(s), at(s + len)))
                        .collect(),
                    price_changes: changes.into_iter().map(at).collect(),
                    commitment_until: None,
                    restarts: Vec::new(),
                }
            })
    }

    proptest! {
        #[test]
        fn periods_contain_the_date_and_tile_the_calendar(
            date in date_strategy(),
            anchor in date_strategy(),
            period in periodic(),
            alignment in alignment(),
        ) {
            let (start, end) = period_containing(date, period, alignment, anchor);
            prop_assert!(start <= date && date <= end);
            let next = end.succ_opt().unwrap();
            prop_assert_eq!(period_containing(next, period, alignment, anchor).0, next);
            let months = i64::from(period.months().unwrap());
            let days = (end - start).num_days() + 1;
            prop_assert!((28 * months..=31 * months).contains(&days), "{} days", days);
            if alignment == Alignment::Floating {
                prop_assert_eq!(period_containing(anchor, period, alignment, anchor).0, anchor);
            }
        }

        #[test]
        fn repeated_runs_are_contiguous_and_never_overlap(
            terms in terms_strategy(),
            runs in proptest::collection::vec(-60i64..1200, 1..6),
            proration in prop_oneof![Just(Proration::ByDays), Just(Proration::WholePeriod)],
        ) {
            let at = |n: i64| terms.billing_from + chrono::Duration::days(n);
            let mut billed_until = None;
            let mut all: Vec<Charge> = Vec::new();
            for &run in &runs {
                let charges = due_charges(&terms, billed_until, at(run), proration);
                for c in &charges {
                    // In advance: a period is due on its first charged day, with the parts
                    // a price change cut off it.
                    prop_assert!(
                        c.from <= at(run) || terms.price_changes.contains(&c.from),
                        "billed before it was due"
                    );
                }
                if let Some(last) = charges.last() {
                    billed_until = Some(last.to);
                }
                all.extend(charges);
                // Idempotent: the same run again adds nothing.
                prop_assert!(due_charges(&terms, billed_until, at(run), proration).is_empty());
            }
            let latest = at(*runs.iter().max().unwrap());
            let end = terms.end.unwrap_or(NaiveDate::MAX);
            if latest < terms.billing_from || end < terms.billing_from {
                prop_assert!(all.is_empty());
                return Ok(());
            }
            prop_assert_eq!(all[0].from, terms.billing_from);
            for pair in all.windows(2) {
                prop_assert_eq!(pair[0].to.succ_opt().unwrap(), pair[1].from);
            }
            let covered = terms.period_containing(latest).1.min(end);
            prop_assert_eq!(all.last().unwrap().to, covered);
            let mut charged = 0;
            for c in &all {
                let (start, period_end) = terms.period_containing(c.from);
                prop_assert!(c.to <= period_end, "a charge spans two periods");
                prop_assert_eq!(c.period_days, days_in(start, period_end));
                prop_assert!(c.fraction >= Decimal::ZERO && c.fraction <= Decimal::ONE);
                prop_assert_eq!(c.fraction.is_zero(), c.charged_days == 0);
                if proration == Proration::ByDays {
                    prop_assert_eq!(c.fraction == Decimal::ONE, c.charged_days == c.period_days);
                }
                charged += c.charged_days;
            }
            let expected = days_in(terms.billing_from, covered)
                - unbilled_days(terms.billing_from, covered, &terms.unbilled);
            prop_assert_eq!(charged, expected);
        }

        #[test]
        fn invoiced_plus_credit_is_the_shortened_charge(
            terms in terms_strategy(),
            as_of in 0i64..900,
            cut in 0i64..400,
        ) {
            // An early end's credit is about whole charges; price changes cut them apart.
            let terms = ChargeTerms { price_changes: Vec::new(), ..terms };
            let as_of = terms.billing_from + chrono::Duration::days(as_of);
            let charges = due_charges(&terms, None, as_of, Proration::ByDays);
            let Some(last) = charges.last() else { return Ok(()) };
            let new_end = last.to - chrono::Duration::days(cut);
            let kept = if new_end < last.from {
                Decimal::ZERO
            } else {
                let shortened = ChargeTerms { end: Some(new_end), ..terms.clone() };
                let before = last.from.pred_opt();
                let redo = due_charges(&shortened, before, as_of, Proration::ByDays);
                redo.last().map_or(Decimal::ZERO, |c| c.fraction)
            };
            let credit = credit_for_early_end(last, new_end, &terms.unbilled, Proration::ByDays);
            let credited = credit.as_ref().map_or(Decimal::ZERO, |c| c.fraction);
            prop_assert_eq!(last.fraction + credited, kept);
            if let Some(c) = credit {
                prop_assert_eq!(c.to, last.to);
                prop_assert!(c.from > new_end && c.from >= last.from);
            }
        }
    }
}
