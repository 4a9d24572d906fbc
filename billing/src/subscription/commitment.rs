//! Minimum commitment periods as Mango offers them: 6, 12, 18, 24, 24+1 … 24+6, 36 and 48
//! months, counted from the first charged day (billing start). "24+3" is a 24-month contract
//! with three months more (a free quarter at the start, typically), 27 months in all.

use chrono::{Days, Months, NaiveDate};

use super::Subscription;
use crate::FieldError;

/// One of the offered commitment periods; nothing else can be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commitment {
    months: u32,
}

impl Commitment {
    /// The periods a subscription may be committed for, as an operator writes them.
    pub const OFFERED: [&'static str; 12] = [
        "6", "12", "18", "24", "24+1", "24+2", "24+3", "24+4", "24+5", "24+6", "36", "48",
    ];

    pub fn parse(text: &str) -> Result<Commitment, FieldError> {
        let text = text.trim();
        if !Self::OFFERED.contains(&text) {
            return Err(FieldError::new(
                "subscription.commitment",
                format!("one of {} months, not {text:?}", Self::OFFERED.join(", ")),
            ));
        }
        let months = text
            .split('+')
            .map(|part| part.parse::<u32>().unwrap_or(0))
            .sum();
        Ok(Commitment { months })
    }

    pub fn months(self) -> u32 {
        self.months
    }

    /// The commitment's last day: `months` after billing start, less a day (committed from
    /// 2026-11-01 for 24 months runs to 2028-10-31). A start on the 31st counts to the end of a
    /// shorter month.
    pub fn until(self, billing_from: NaiveDate) -> NaiveDate {
        billing_from
            .checked_add_months(Months::new(self.months))
            .and_then(|end| end.checked_sub_days(Days::new(1)))
            .unwrap_or(NaiveDate::MAX)
    }
}

impl Subscription {
    /// Commits the subscription for `commitment`, counted from its billing start; an end date
    /// given as well must be the same day.
    pub fn commit(&mut self, commitment: Commitment) -> Result<(), FieldError> {
        let until = commitment.until(self.billing_from);
        match self.commitment_until {
            Some(given) if given != until => Err(FieldError::new(
                "subscription.commitment",
                format!(
                    "{} months from billing start {} end on {until}, not on the commitment_until \
                     given ({given}); send one of the two",
                    commitment.months, self.billing_from
                ),
            )),
            _ => {
                self.commitment_until = Some(until);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn each_offered_period_ends_counted_from_billing_start() {
        let cases = [
            ("6", day(2026, 11, 1), 6, day(2027, 4, 30)),
            ("12", day(2026, 11, 15), 12, day(2027, 11, 14)),
            ("18", day(2026, 1, 1), 18, day(2027, 6, 30)),
            ("24", day(2026, 11, 1), 24, day(2028, 10, 31)),
            ("24+1", day(2026, 11, 1), 25, day(2028, 11, 30)),
            ("24+3", day(2026, 11, 1), 27, day(2029, 1, 31)),
            (" 24+6 ", day(2026, 11, 1), 30, day(2029, 4, 30)),
            ("36", day(2026, 11, 1), 36, day(2029, 10, 31)),
            ("48", day(2026, 11, 1), 48, day(2030, 10, 31)),
            // From the 31st: the shorter month's end, less a day.
            ("6", day(2026, 8, 31), 6, day(2027, 2, 27)),
        ];
        for (text, from, months, until) in cases {
            let c = Commitment::parse(text).unwrap();
            assert_eq!(
                (c.months(), c.until(from)),
                (months, until),
                "{text} from {from}"
            );
        }
    }

    #[test]
    fn only_the_offered_periods_are_accepted() {
        for text in ["", "0", "7", "24+7", "24+0", "25", "12+1", "60", "x"] {
            let e = Commitment::parse(text).unwrap_err();
            assert_eq!(e.field, "subscription.commitment", "{text:?}");
        }
    }

    #[test]
    fn a_commitment_sets_the_end_unless_another_was_given() {
        let mut s = Subscription {
            billing_from: day(2026, 11, 1),
            ..crate::subscription::tests::subscription()
        };
        let c = Commitment::parse("24").unwrap();
        s.commit(c).unwrap();
        assert_eq!(s.commitment_until, Some(day(2028, 10, 31)));
        s.commit(c).unwrap();
        s.commitment_until = Some(day(2028, 11, 30));
        assert_eq!(
            s.commit(c).unwrap_err().field,
            "subscription.commitment",
            "a different end given as well"
        );
    }
}
