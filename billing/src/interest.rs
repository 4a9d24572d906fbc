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
    /// The last day whose interest was already charged or waived.
    pub settled_until: Option<NaiveDate>,
}

/// The interest one invoice accrued over `from..=until`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Accrued {
    pub document_id: i64,
    pub number: String,
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub days: u32,
    pub open: Decimal,
    pub amount: Decimal,
}

/// The interest `document` accrued through `today` and not charged or waived yet; `None` when
/// it owes nothing, is not overdue, or the interest rounds to nothing.
pub fn accrued(rate: InterestRate, document: &Overdue, today: NaiveDate) -> Option<Accrued> {
    let first = document
        .settled_until
        .unwrap_or(document.due_date)
        .max(document.due_date);
    let from = first.succ_opt()?;
    if document.open <= Decimal::ZERO || from > today {
        return None;
    }
    let days = u32::try_from((today - from).num_days() + 1).ok()?;
    let amount = round_money(
        document.open * rate.annual_percent() * Decimal::from(days)
            / (Decimal::ONE_HUNDRED * Decimal::from(365)),
    );
    (amount > Decimal::ZERO).then(|| Accrued {
        document_id: document.document_id,
        number: document.number.clone(),
        from,
        until: today,
        days,
        open: document.open,
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
    untaxed_line(
        format!(
            "Interest on {} from {} to {}: {} days at {} % a year of {}",
            item.number,
            item.from,
            item.until,
            item.days,
            rate.annual_percent().normalize(),
            item.open
        ),
        item.amount,
    )
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
