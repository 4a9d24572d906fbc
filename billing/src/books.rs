//! Closed accounting periods (ISPadmin "účetní uzávěrka"): once the books are closed through a
//! day, nothing dated on or before it is created, changed or deleted — payments, documents,
//! one-off charges, discounts. What was reported to the tax office stays what it was.

use chrono::NaiveDate;

/// Something dated inside the closed period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} is dated {date}, in a closed period: the books are closed until {until}")]
pub struct ClosedPeriod {
    pub what: String,
    pub date: NaiveDate,
    pub until: NaiveDate,
}

/// Why a closing is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloseError {
    /// A day not yet over may still get payments and documents.
    #[error("the books can be closed only through a day before today ({today}), not {until}")]
    NotPast { until: NaiveDate, today: NaiveDate },
    /// A closing is final: it never moves back.
    #[error("the books are closed until {closed}; a closing never moves back to {until}")]
    Backwards { until: NaiveDate, closed: NaiveDate },
}

/// Whether `what`, dated `date`, may be created, changed or deleted with the books closed
/// through `closed_until` (never closed: `None`).
pub fn check_open(
    closed_until: Option<NaiveDate>,
    what: &str,
    date: NaiveDate,
) -> Result<(), ClosedPeriod> {
    match closed_until {
        Some(until) if date <= until => Err(ClosedPeriod {
            what: what.to_owned(),
            date,
            until,
        }),
        _ => Ok(()),
    }
}

/// Closes the books through `until`, decided on `today`: only a past day, and never before
/// an earlier closing (closing the same day again changes nothing).
pub fn close(
    closed_until: Option<NaiveDate>,
    until: NaiveDate,
    today: NaiveDate,
) -> Result<NaiveDate, CloseError> {
    if until >= today {
        return Err(CloseError::NotPast { until, today });
    }
    match closed_until {
        Some(closed) if until < closed => Err(CloseError::Backwards { until, closed }),
        _ => Ok(until),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    #[test]
    fn what_is_dated_in_a_closed_period_is_refused() {
        let cases = [
            (None, day(1, 1), true),
            (Some(day(10, 31)), day(10, 30), false),
            (Some(day(10, 31)), day(10, 31), false),
            (Some(day(10, 31)), day(11, 1), true),
        ];
        for (closed, date, open) in cases {
            assert_eq!(
                check_open(closed, "payment", date).is_ok(),
                open,
                "{closed:?} {date}"
            );
        }
        assert_eq!(
            check_open(Some(day(10, 31)), "charge", day(10, 5))
                .unwrap_err()
                .to_string(),
            "charge is dated 2026-10-05, in a closed period: the books are closed until 2026-10-31"
        );
    }

    #[test]
    fn the_books_close_only_through_a_past_day_and_never_back() {
        let today = day(12, 5);
        let cases = [
            (None, day(11, 30), Ok(day(11, 30))),
            (None, day(12, 4), Ok(day(12, 4))),
            (
                None,
                day(12, 5),
                Err(CloseError::NotPast {
                    until: day(12, 5),
                    today,
                }),
            ),
            (Some(day(10, 31)), day(11, 30), Ok(day(11, 30))),
            (Some(day(10, 31)), day(10, 31), Ok(day(10, 31))),
            (
                Some(day(10, 31)),
                day(9, 30),
                Err(CloseError::Backwards {
                    until: day(9, 30),
                    closed: day(10, 31),
                }),
            ),
        ];
        for (closed, until, expected) in cases {
            assert_eq!(close(closed, until, today), expected, "{closed:?} {until}");
        }
    }
}
