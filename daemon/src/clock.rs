//! The daemon's one clock. Use cases, API handlers and jobs ask it for "now" and "today";
//! the pure cores take what it says as arguments and storage takes the day it is given.
//! "Today" is the local date in the host's time zone (`TZ`, or the unit's
//! `Environment=TZ=…`), the same for every caller, so a change made just after midnight lands
//! on one day everywhere.
//!
//! Instants recorded where they happen — when a row was written (`created_at`, the audit
//! log's `at`), when a datagram arrived — are not business dates and are read there.

use chrono::{DateTime, Local, NaiveDate, Utc};

#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    fixed: Option<DateTime<Utc>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock { fixed: None }
    }

    /// A clock that always says `at`: for tests.
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock { fixed: Some(at) }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.fixed.unwrap_or_else(Utc::now)
    }

    /// The local date of [`Clock::now`].
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&Local).date_naive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_fixed_clock_says_the_same_day_in_local_time() {
        let at = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
        let clock = Clock::fixed(at);
        assert_eq!(clock.now(), at);
        assert_eq!(clock.today(), at.with_timezone(&Local).date_naive());
    }
}
