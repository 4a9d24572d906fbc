//! The time zone business dates are counted in: `[billing] timezone` (an IANA name), or the
//! host's zone when it is not set. Pure: it turns instants into local dates and times of day
//! and back, and reads no clock (the daemon's `clock` says what "now" is).

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The time zone business dates are counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    /// The host's zone, as the C library sees it.
    #[default]
    Host,
    /// An IANA zone named in the config, whatever the host is set to.
    Named(Tz),
}

impl Zone {
    /// `""` is the host's zone; anything else must be an IANA name (`Europe/Prague`).
    pub fn parse(name: &str) -> Result<Zone, String> {
        let name = name.trim();
        if name.is_empty() {
            return Ok(Zone::Host);
        }
        name.parse::<Tz>().map(Zone::Named).map_err(|_| {
            format!("unknown time zone {name:?}; use an IANA name such as \"Europe/Prague\"")
        })
    }

    /// The date `at` falls on in this zone.
    pub fn date_of(self, at: DateTime<Utc>) -> NaiveDate {
        match self {
            Zone::Host => at.with_timezone(&Local).date_naive(),
            Zone::Named(tz) => at.with_timezone(&tz).date_naive(),
        }
    }

    /// The wall-clock time of day `at` shows in this zone.
    pub fn time_of(self, at: DateTime<Utc>) -> NaiveTime {
        match self {
            Zone::Host => at.with_timezone(&Local).time(),
            Zone::Named(tz) => at.with_timezone(&tz).time(),
        }
    }

    /// When local `day` began, as an instant. A zone whose clocks skip midnight that day
    /// (Santiago's spring change): the first instant of the day there is, near enough.
    pub fn midnight(self, day: NaiveDate) -> DateTime<Utc> {
        match self {
            Zone::Host => midnight_in(&Local, day),
            Zone::Named(tz) => midnight_in(&tz, day),
        }
    }

    /// The first instant at or after `now` whose time of day in this zone is `at`.
    pub fn next(self, now: DateTime<Utc>, at: NaiveTime) -> DateTime<Utc> {
        match self {
            Zone::Host => next_in(&Local, now, at),
            Zone::Named(tz) => next_in(&tz, now, at),
        }
    }
}

/// [`Zone::midnight`] in one zone: midnight, else an hour later (a skipped midnight).
fn midnight_in<Z: TimeZone>(zone: &Z, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    [midnight, midnight + chrono::Duration::hours(1)]
        .into_iter()
        .find_map(|local| zone.from_local_datetime(&local).earliest())
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

/// [`Zone::next`] in one zone. A time of day the zone skips that day (the hour a
/// daylight-saving change jumps over) is taken an hour later, as cron does; one it passes
/// twice is taken the first time.
fn next_in<Z: TimeZone>(zone: &Z, now: DateTime<Utc>, at: NaiveTime) -> DateTime<Utc> {
    let resolve = |local: NaiveDateTime| {
        zone.from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                zone.from_local_datetime(&(local + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
    };
    let today = now.with_timezone(zone).date_naive();
    [today, today + chrono::Duration::days(1)]
        .into_iter()
        .filter_map(|day| resolve(day.and_time(at)))
        .find(|candidate| *candidate >= now)
        .unwrap_or(now + chrono::Duration::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_begins_at_its_local_midnight() {
        let prague = Zone::parse("Europe/Prague").unwrap();
        let day = |m, d| NaiveDate::from_ymd_opt(2027, m, d).unwrap();
        let utc = |m, d, h| Utc.with_ymd_and_hms(2027, m, d, h, 0, 0).unwrap();
        assert_eq!(
            prague.midnight(day(1, 1)),
            utc(12, 31, 23) - chrono::Duration::days(365)
        );
        // Summer time: an hour earlier in UTC.
        assert_eq!(prague.midnight(day(7, 1)), utc(6, 30, 22));
        assert_eq!(
            Zone::parse("UTC").unwrap().midnight(day(7, 1)),
            utc(7, 1, 0)
        );
        // Santiago skips from 24:00 to 01:00 on 5 September 2027: the day begins at 01:00.
        let santiago = Zone::parse("America/Santiago").unwrap();
        assert_eq!(santiago.midnight(day(9, 5)), utc(9, 5, 4));
    }
}
