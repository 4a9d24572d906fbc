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
    /// Days from which the service is billed by another period (a tariff of another period
    /// from a date), each with the period of the days before it: those days fall in the
    /// periods of their own tariff, each part charged as a share of its own period. Unsorted.
    pub periods_before: Vec<(NaiveDate, Period)>,
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
        let period = self.period_on(date);
        if let (Period::Total, Some(last)) = (period, self.commitment_until) {
            return (self.billing_from, last);
        }
        let anchor = self
            .restarts
            .iter()
            .copied()
            .filter(|day| *day <= date)
            .fold(self.billing_from, NaiveDate::max);
        let (start, end) = period_containing(date, period, self.alignment, anchor);
        let cut = self
            .restarts
            .iter()
            .copied()
            .filter(|day| *day > date)
            .min()
            .and_then(|day| day.pred_opt());
        (start, cut.map_or(end, |cut| end.min(cut)))
    }

    /// The period `day` is billed by: the one the first period change after it kept, else
    /// the service's own.
    pub fn period_on(&self, day: NaiveDate) -> Period {
        self.periods_before
            .iter()
            .filter(|(from, _)| *from > day)
            .min_by_key(|(from, _)| *from)
            .map_or(self.period, |(_, period)| *period)
    }

    /// The day before the first change after `day` to another period than the day's, if any.
    fn next_period_change(&self, day: NaiveDate) -> Option<NaiveDate> {
        let period = self.period_on(day);
        self.periods_before
            .iter()
            .map(|(from, _)| *from)
            .filter(|from| *from > day && self.period_on(*from) != period)
            .min()
            .and_then(|from| from.pred_opt())
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
pub fn charged_days(from: NaiveDate, to: NaiveDate, unbilled: &[(NaiveDate, NaiveDate)]) -> u32 {
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
        // From a change to another period on, the days fall in that period's own.
        let to = period_end
            .min(end)
            .min(terms.next_period_change(cursor).unwrap_or(NaiveDate::MAX));
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
/// fraction of its own days. A part billed by another period than the charge's (a tariff of
/// another period from a date) is cut again at that period's ends, each piece a share of its
/// own period. A whole-period charge is not cut: it is charged at the price of its first day.
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
        parts.extend(pieces_by_period(from, to, terms));
        if let Some(day) = next {
            from = day;
        }
    }
    parts
}

/// `from..=to` (one price) cut at the ends of the periods its days are billed by, each piece
/// the share of its own period (by days).
fn pieces_by_period(from: NaiveDate, to: NaiveDate, terms: &ChargeTerms) -> Vec<Charge> {
    let mut pieces = Vec::new();
    let mut cursor = from;
    while cursor <= to {
        let (start, period_end) = terms.period_containing(cursor);
        let end = period_end.min(to);
        let period_days = days_in(start, period_end);
        let charged = charged_days(cursor, end, &terms.unbilled);
        pieces.push(Charge {
            from: cursor,
            to: end,
            charged_days: charged,
            period_days,
            fraction: fraction(charged, period_days, Proration::ByDays),
        });
        match end.succ_opt() {
            Some(next) => cursor = next,
            None => break,
        }
    }
    pieces
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
mod tests;
