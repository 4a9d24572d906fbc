//! The daemon's one clock. Use cases, API handlers and jobs ask it for "now" and "today";
//! the pure cores take what it says as arguments and storage takes the day it is given.
//!
//! "Today" is the date in one time zone, the same for every caller, so a change made just
//! after midnight lands on one day everywhere: `[billing] timezone` (an IANA name such as
//! `Europe/Prague`), or the host's zone (`TZ`, the unit's `Environment=TZ=…`, /etc/localtime)
//! when it is not set. The daily jobs run at `[billing] run_at` in the same zone.
//!
//! Instants recorded where they happen — when a row was written (`created_at`, the audit
//! log's `at`), when a datagram arrived — are not business dates and are read there.

use chrono::{DateTime, NaiveDate, Utc};

pub use ispd_provisioning::zone::Zone;

/// "Now" and "today" for everything that is not a pure core.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    fixed: Option<DateTime<Utc>>,
    zone: Zone,
}

impl Clock {
    /// The system clock, in the host's zone until [`Clock::in_zone`].
    pub fn system() -> Clock {
        Clock {
            fixed: None,
            zone: Zone::Host,
        }
    }

    /// A clock that always says `at`: for tests.
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock {
            fixed: Some(at),
            zone: Zone::Host,
        }
    }

    /// The same clock, counting dates in `zone`.
    pub fn in_zone(self, zone: Zone) -> Clock {
        Clock { zone, ..self }
    }

    pub fn zone(&self) -> Zone {
        self.zone
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.fixed.unwrap_or_else(Utc::now)
    }

    /// [`Clock::now`] as the speed rules read it: the instant and its local time of day.
    pub fn at(&self) -> ispd_provisioning::speed::At {
        self.at_instant(self.now())
    }

    /// `utc` as the speed rules read it, in this clock's zone.
    pub fn at_instant(&self, utc: DateTime<Utc>) -> ispd_provisioning::speed::At {
        ispd_provisioning::speed::At {
            utc,
            local: self.zone.time_of(utc),
        }
    }

    /// The date of [`Clock::now`] in the clock's zone.
    pub fn today(&self) -> NaiveDate {
        self.zone.date_of(self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Local, NaiveTime, TimeZone};
    use chrono_tz::Tz;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn prague() -> Zone {
        Zone::parse("Europe/Prague").unwrap()
    }

    #[test]
    fn a_fixed_clock_says_the_same_day_in_the_host_zone() {
        let at = utc(2026, 12, 4, 12, 0);
        let clock = Clock::fixed(at);
        assert_eq!(clock.now(), at);
        assert_eq!(clock.today(), at.with_timezone(&Local).date_naive());
    }

    #[test]
    fn today_is_the_date_in_the_configured_zone() {
        // 23:30 UTC on 31 December is already New Year's Day in Prague, still New Year's Eve
        // in New York.
        let at = utc(2026, 12, 31, 23, 30);
        let date = |zone| Clock::fixed(at).in_zone(zone).today();
        assert_eq!(date(prague()), NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        let new_york = Zone::parse("America/New_York").unwrap();
        assert_eq!(
            date(new_york),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
    }

    #[test]
    fn zone_names_are_checked() {
        assert_eq!(Zone::parse("").unwrap(), Zone::Host);
        assert_eq!(Zone::parse(" UTC ").unwrap(), Zone::Named(Tz::UTC));
        let error = Zone::parse("Europe/Praha").unwrap_err();
        assert!(
            error.contains("Europe/Praha") && error.contains("IANA"),
            "{error}"
        );
    }

    #[test]
    fn next_run_is_today_or_tomorrow() {
        let at = time(2, 30);
        let local = |d, h, m| {
            Local
                .with_ymd_and_hms(2026, 11, d, h, m, 0)
                .unwrap()
                .to_utc()
        };
        let before = local(24, 1, 0);
        assert_eq!(Zone::Host.next(before, at), local(24, 2, 30));
        let after = local(24, 3, 0);
        assert_eq!(Zone::Host.next(after, at), local(25, 2, 30));
        let exactly = local(24, 2, 30);
        assert_eq!(Zone::Host.next(exactly, at), exactly);
    }

    #[test]
    fn the_next_run_is_today_or_tomorrow_at_the_local_time() {
        let zone = prague();
        // 01:00 in Prague (CET, UTC+1) → 02:30 the same day.
        assert_eq!(
            zone.next(utc(2026, 11, 24, 0, 0), time(2, 30)),
            utc(2026, 11, 24, 1, 30)
        );
        // 03:00 in Prague → 02:30 the next day.
        assert_eq!(
            zone.next(utc(2026, 11, 24, 2, 0), time(2, 30)),
            utc(2026, 11, 25, 1, 30)
        );
        // Exactly then → now.
        assert_eq!(
            zone.next(utc(2026, 11, 24, 1, 30), time(2, 30)),
            utc(2026, 11, 24, 1, 30)
        );
    }

    #[test]
    fn a_time_skipped_by_daylight_saving_runs_an_hour_later_and_a_repeated_one_once() {
        let zone = prague();
        // 29 March 2026: clocks jump from 02:00 to 03:00 CEST; 02:30 does not exist.
        assert_eq!(
            zone.next(utc(2026, 3, 28, 23, 0), time(2, 30)),
            // 03:30 CEST = 01:30 UTC.
            utc(2026, 3, 29, 1, 30)
        );
        // 25 October 2026: 02:30 happens twice; the first (CEST, 00:30 UTC) is taken.
        assert_eq!(
            zone.next(utc(2026, 10, 24, 23, 0), time(2, 30)),
            utc(2026, 10, 25, 0, 30)
        );
    }
}
