//! Interest on overdue invoices (net47 "Odsetki ustawowe" and its interest note, "Nota
//! odsetkowa"): what accrues, day by day, on what an invoice still asks after its due date —
//! billed on an interest note, or waived ("deleted", permanently). Each overdue day of a
//! document is charged or waived once: a document's interest runs from the day after its due
//! date, or after the last day already charged or waived, through the day asked about.
//!
//! Only invoices carry interest: a debit note is itself a fee or interest (no interest on
//! interest) and a pro-forma asks for an advance before any supply, so nothing is owed late.
//! The year counts 365 days, as the Czech and Polish statutory rules reckon a daily rate.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::FieldError;
use crate::invoice::{Line, round_money, untaxed_line};

/// The annual rate interest accrues at, in percent: above zero, at most 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterestRate(Decimal);

impl InterestRate {
    /// `field` names the setting in the error (`billing.interest_rate_percent`).
    pub fn new(field: &str, annual_percent: Decimal) -> Result<Self, FieldError> {
        if annual_percent <= Decimal::ZERO || annual_percent > Decimal::ONE_HUNDRED {
            return Err(FieldError::new(
                field,
                "an annual rate in percent above 0 and at most 100",
            ));
        }
        Ok(Self(annual_percent))
    }

    pub fn annual_percent(self) -> Decimal {
        self.0
    }
}

/// An invoice after its due date, as interest sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    pub document_id: i64,
    pub number: String,
    pub due_date: NaiveDate,
    /// What the invoice still asks (its total less payments and credit notes).
    pub open: Decimal,
    /// What was settled on it after its due date, by day (payments, credit, credit notes):
    /// each day before one asked that much more. Paid late, an invoice still accrues for the
    /// days it was owed.
    pub settled_late: Vec<(NaiveDate, Decimal)>,
    /// The last day whose interest was already charged or waived.
    pub settled_until: Option<NaiveDate>,
}

impl Overdue {
    /// What it asked on `day`: what it asks now and what was settled on that day or after
    /// (the day of payment is still a day of delay, as the statutory rules count it: interest
    /// runs up to the payment day inclusive).
    fn asked_on(&self, day: NaiveDate) -> Decimal {
        self.open
            + self
                .settled_late
                .iter()
                .filter(|(on, _)| *on >= day)
                .map(|(_, amount)| *amount)
                .sum::<Decimal>()
    }
}

/// The interest one invoice accrued over `from..=until`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Accrued {
    pub document_id: i64,
    pub number: String,
    pub from: NaiveDate,
    /// The last day it accrued: `today`, or the day before it was paid up.
    pub until: NaiveDate,
    /// The days it accrued on.
    pub days: u32,
    /// What it asks now.
    pub open: Decimal,
    /// The runs of days it asked one amount: (days, amount), oldest first.
    pub asked: Vec<(u32, Decimal)>,
    pub amount: Decimal,
}

/// The interest `document` accrued through `today` and not charged or waived yet, each day
/// on what it asked that day; `None` when it owed nothing on those days, is not overdue, or
/// the interest rounds to nothing.
pub fn accrued(rate: InterestRate, document: &Overdue, today: NaiveDate) -> Option<Accrued> {
    let first = document
        .settled_until
        .unwrap_or(document.due_date)
        .max(document.due_date);
    let from = first.succ_opt()?;
    if from > today {
        return None;
    }
    // The days what it asked changes on (the day after each settlement), each starting a run.
    let mut starts: Vec<NaiveDate> = document
        .settled_late
        .iter()
        .filter_map(|(on, _)| on.succ_opt())
        .filter(|on| *on > from && *on <= today)
        .collect();
    starts.push(from);
    starts.sort_unstable();
    starts.dedup();
    let (mut asked, mut until, mut owed) = (Vec::new(), from, Decimal::ZERO);
    for (i, start) in starts.iter().enumerate() {
        let end = starts
            .get(i + 1)
            .and_then(|next| next.pred_opt())
            .unwrap_or(today);
        let amount = document.asked_on(*start);
        if amount <= Decimal::ZERO {
            continue;
        }
        let days = u32::try_from((end - *start).num_days() + 1).ok()?;
        owed += amount * Decimal::from(days);
        asked.push((days, amount));
        until = end;
    }
    let amount =
        round_money(owed * rate.annual_percent() / (Decimal::ONE_HUNDRED * Decimal::from(365)));
    (amount > Decimal::ZERO).then(|| Accrued {
        document_id: document.document_id,
        number: document.number.clone(),
        from,
        until,
        days: asked.iter().map(|(days, _)| days).sum(),
        open: document.open,
        asked,
        amount,
    })
}

/// What billing a client's interest through `today` comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteDecision {
    /// Issue an interest note with one line per invoice.
    Bill { items: Vec<Accrued>, total: Decimal },
    /// Less than the configured minimum accrued: no note (the days stay to be billed later).
    BelowMinimum { total: Decimal, minimum: Decimal },
    /// Nothing accrued.
    Nothing,
}

/// Whether an interest note is issued for a client's overdue invoices through `today`:
/// only when what accrued reaches `minimum` (net47's threshold below which a note costs more
/// than it brings).
pub fn note(
    rate: InterestRate,
    minimum: Decimal,
    documents: &[Overdue],
    today: NaiveDate,
) -> NoteDecision {
    let items: Vec<Accrued> = documents
        .iter()
        .filter_map(|d| accrued(rate, d, today))
        .collect();
    let total: Decimal = items.iter().map(|a| a.amount).sum();
    if items.is_empty() {
        NoteDecision::Nothing
    } else if total < minimum {
        NoteDecision::BelowMinimum { total, minimum }
    } else {
        NoteDecision::Bill { items, total }
    }
}

/// The interest note's line for one invoice: interest is no supply, so VAT 0.
pub fn line(rate: InterestRate, item: &Accrued) -> Line {
    let asked: Vec<String> = item
        .asked
        .iter()
        .map(|(days, amount)| format!("{days} days of {amount}"))
        .collect();
    let on = match item.asked.as_slice() {
        [(days, amount)] => format!("{days} days at {} % a year of {amount}", percent(rate)),
        _ => format!("{} at {} % a year", asked.join(" and "), percent(rate)),
    };
    untaxed_line(
        format!(
            "Interest on {} from {} to {}: {on}",
            item.number, item.from, item.until
        ),
        item.amount,
    )
}

fn percent(rate: InterestRate) -> Decimal {
    rate.annual_percent().normalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn overdue(open: Decimal, due: &str, settled: Option<&str>) -> Overdue {
        Overdue {
            document_id: 7,
            number: "2026000007".into(),
            due_date: day(due),
            open,
            settled_late: Vec::new(),
            settled_until: settled.map(day),
        }
    }

    fn rate(percent: Decimal) -> InterestRate {
        InterestRate::new("billing.interest_rate_percent", percent).unwrap()
    }

    /// Open amount, due date, settled until, today, and the expected (from, days, amount).
    type Case<'a> = (
        Decimal,
        &'a str,
        Option<&'a str>,
        &'a str,
        Option<(&'a str, u32, Decimal)>,
    );

    #[test]
    fn accrual_by_case() {
        // (open, due, settled until, today, expected (from, days, amount))
        let cases: &[Case] = &[
            // 1,000 at 10 % for 73 days = 20.00 exactly.
            (
                dec("1000"),
                "2026-01-31",
                None,
                "2026-04-14",
                Some(("2026-02-01", 73, dec("20.00"))),
            ),
            // Not overdue on its due date, one day the day after.
            (dec("1000"), "2026-01-31", None, "2026-01-31", None),
            (
                dec("1000"),
                "2026-01-31",
                None,
                "2026-02-01",
                Some(("2026-02-01", 1, dec("0.27"))),
            ),
            // Continues after the last day charged or waived, never twice.
            (
                dec("1000"),
                "2026-01-31",
                Some("2026-03-31"),
                "2026-04-14",
                Some(("2026-04-01", 14, dec("3.84"))),
            ),
            (
                dec("1000"),
                "2026-01-31",
                Some("2026-04-14"),
                "2026-04-14",
                None,
            ),
            // A settled day before the due date does not move the start earlier.
            (
                dec("1000"),
                "2026-01-31",
                Some("2026-01-10"),
                "2026-02-01",
                Some(("2026-02-01", 1, dec("0.27"))),
            ),
            // Nothing owed, or too little to round to a cent.
            (dec("0"), "2026-01-31", None, "2026-04-14", None),
            (dec("0.10"), "2026-01-31", None, "2026-02-01", None),
        ];
        for (open, due, settled, today, expected) in cases {
            let got = accrued(rate(dec("10")), &overdue(*open, due, *settled), day(today));
            let got = got.map(|a| (a.from, a.days, a.amount));
            let want = expected.map(|(from, days, amount)| (day(from), days, amount));
            assert_eq!(
                got, want,
                "open {open} due {due} settled {settled:?} on {today}"
            );
        }
    }

    /// Found probing from outside: the amount it asked now was charged for every overdue day,
    /// and an invoice paid late accrued nothing.
    #[test]
    fn each_day_accrues_on_what_it_asked_that_day() {
        let paid_in_part = Overdue {
            settled_late: vec![(day("2026-11-15"), dec("400"))],
            ..overdue(dec("600"), "2026-10-15", None)
        };
        let got = accrued(rate(dec("8.75")), &paid_in_part, day("2026-11-30")).unwrap();
        // 16 Oct – 15 Nov (the payment day too) at 1,000, 16 – 30 Nov at 600.
        assert_eq!(got.asked, [(31, dec("1000")), (15, dec("600"))]);
        assert_eq!((got.days, got.amount), (46, dec("9.59")));
        assert_eq!(
            line(rate(dec("8.75")), &got).description,
            "Interest on 2026000007 from 2026-10-16 to 2026-11-30: 31 days of 1000 and 15 days \
             of 600 at 8.75 % a year"
        );
        // Paid whole on the 28th, 13 days late: those days, then nothing.
        let paid_late = Overdue {
            settled_late: vec![(day("2026-10-28"), dec("300"))],
            ..overdue(Decimal::ZERO, "2026-10-15", None)
        };
        let got = accrued(rate(dec("8.75")), &paid_late, day("2026-11-30")).unwrap();
        assert_eq!(
            (got.from, got.until, got.days),
            (day("2026-10-16"), day("2026-10-28"), 13)
        );
        assert_eq!(got.amount, dec("0.93"));
        // Charged through then: nothing more.
        let charged = Overdue {
            settled_until: Some(day("2026-10-28")),
            ..paid_late
        };
        assert_eq!(
            accrued(rate(dec("8.75")), &charged, day("2026-11-30")),
            None
        );
    }

    #[test]
    fn a_note_needs_the_minimum() {
        let docs = [overdue(dec("1000"), "2026-01-31", None)];
        let today = day("2026-04-14");
        assert_eq!(
            note(rate(dec("10")), dec("25"), &docs, today),
            NoteDecision::BelowMinimum {
                total: dec("20.00"),
                minimum: dec("25")
            }
        );
        match note(rate(dec("10")), dec("20"), &docs, today) {
            NoteDecision::Bill { items, total } => {
                assert_eq!(total, dec("20.00"));
                assert_eq!(items.len(), 1);
            }
            other => panic!("expected a note, got {other:?}"),
        }
        assert_eq!(
            note(rate(dec("10")), dec("0"), &docs, day("2026-01-20")),
            NoteDecision::Nothing
        );
    }

    #[test]
    fn the_line_names_the_invoice_and_is_untaxed() {
        let item = accrued(
            rate(dec("8.75")),
            &overdue(dec("1000"), "2026-01-31", None),
            day("2026-03-02"),
        )
        .unwrap();
        let l = line(rate(dec("8.75")), &item);
        assert_eq!(
            l.description,
            "Interest on 2026000007 from 2026-02-01 to 2026-03-02: 30 days at 8.75 % a year of 1000"
        );
        assert_eq!(l.vat, dec("0"));
        assert_eq!(l.gross, item.amount);
        assert_eq!(item.amount, dec("7.19"));
    }

    #[test]
    fn the_rate_is_bounded() {
        for bad in [dec("0"), dec("-1"), dec("100.01")] {
            let err = InterestRate::new("billing.interest_rate_percent", bad).unwrap_err();
            assert_eq!(err.field, "billing.interest_rate_percent");
        }
        assert!(InterestRate::new("r", dec("100")).is_ok());
    }
}
