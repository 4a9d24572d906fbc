//! The speed a login has at an instant: its tariff's, a daily window's (a night boost), or a
//! temporary speed set for it until a moment (net47's "prędkość tymczasowa").
//!
//! Pure: the daemon passes the instant in, as UTC and as the wall-clock time of its zone. The
//! Access-Request policy answers with [`speed_at`], and enforcement compares the speed a
//! session was given with the speed at a later instant, so the end of a temporary speed or a
//! window edge reaches online sessions by themselves.

use chrono::{DateTime, NaiveTime, Utc};
pub use ispd_billing::tariff::SpeedWindow;
use ispd_billing::tariff::{Burst, Rate};

use crate::policy::LoginAccess;

/// A moment, as an instant and as the local wall-clock time daily windows are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub utc: DateTime<Utc>,
    pub local: NaiveTime,
}

/// A rate for one login until a moment; it outranks the tariff and its windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TemporarySpeed {
    pub rate: Rate,
    pub until: DateTime<Utc>,
}

impl TemporarySpeed {
    /// A temporary speed has a real rate and ends in the future.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), crate::FieldError> {
        let max = ispd_billing::tariff::MAX_RATE_KBPS;
        for (field, kbps) in [
            ("speed.download_kbps", self.rate.download_kbps),
            ("speed.upload_kbps", self.rate.upload_kbps),
        ] {
            if kbps == 0 || kbps > max {
                return Err(crate::FieldError::new(field, format!("1-{max} kbit/s")));
            }
        }
        if self.until <= now {
            return Err(crate::FieldError::new(
                "speed.until",
                "must be in the future",
            ));
        }
        // A temporary speed ends within the years records hold (found probing from outside:
        // one until the year 4764 was taken, a permanent speed under another name).
        ispd_billing::field::record_date("speed.until", self.until.date_naive())?;
        Ok(())
    }
}

/// The rate and burst in force at `at`: a temporary speed until its end, else the data cap's
/// reduced rate once the billing period's traffic crossed it, else the tariff's window while it runs,
/// else the tariff's rate and burst. A burst belongs to the tariff's own rate and does not
/// carry over to the others.
pub fn speed_at(login: &LoginAccess, at: &At) -> (Rate, Option<Burst>) {
    if let Some(temporary) = login.temporary
        && at.utc < temporary.until
    {
        return (temporary.rate, None);
    }
    if let Some(cap) = login.cap
        && login.capped
    {
        return (cap.rate, None);
    }
    if let Some(window) = login.window
        && window.contains(at.local)
    {
        return (window.rate, None);
    }
    (login.rate, login.burst)
}

/// Whether the login's speed depends on the time at all (enforcement watches only these).
pub fn is_timed(login: &LoginAccess) -> bool {
    login.window.is_some() || login.temporary.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn rate(down: u64) -> Rate {
        Rate {
            download_kbps: down,
            upload_kbps: down / 10,
        }
    }

    #[test]
    fn a_temporary_speed_ends_in_the_future_within_the_record_years() {
        let now = Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0).unwrap();
        let until = |y, mo, d| TemporarySpeed {
            rate: rate(5_000),
            until: Utc.with_ymd_and_hms(y, mo, d, 0, 0, 0).unwrap(),
        };
        assert!(until(2026, 12, 6).validate(now).is_ok());
        assert!(until(2199, 12, 31).validate(now).is_ok());
        for late in [until(2200, 1, 1), until(4764, 11, 2), until(2026, 12, 5)] {
            assert_eq!(late.validate(now).unwrap_err().field, "speed.until");
        }
    }

    #[test]
    fn temporary_outranks_the_window_which_outranks_the_tariff() {
        let noon = Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0).unwrap();
        let mut login = crate::enforcement::tests_support::login();
        let tariff = (login.rate, login.burst);
        let at = |utc: DateTime<Utc>, local| At { utc, local };
        assert_eq!(speed_at(&login, &at(noon, t(12, 0))), tariff);
        assert!(!is_timed(&login));
        login.window = Some(SpeedWindow {
            from: t(0, 0),
            to: t(6, 0),
            rate: rate(100_000),
        });
        assert!(is_timed(&login));
        assert_eq!(speed_at(&login, &at(noon, t(12, 0))), tariff);
        assert_eq!(speed_at(&login, &at(noon, t(1, 0))), (rate(100_000), None));
        login.temporary = Some(TemporarySpeed {
            rate: rate(5_000),
            until: noon,
        });
        assert_eq!(
            speed_at(&login, &at(noon - chrono::Duration::seconds(1), t(1, 0))),
            (rate(5_000), None),
            "until the end"
        );
        assert_eq!(
            speed_at(&login, &at(noon, t(1, 0))),
            (rate(100_000), None),
            "and not from the end on"
        );
        login.cap = Some(ispd_billing::tariff::DataCap {
            download_octets: 1,
            upload_octets: 0,
            rate: rate(1_000),
        });
        assert_eq!(
            speed_at(&login, &at(noon, t(1, 0))),
            (rate(100_000), None),
            "a cap not crossed changes nothing"
        );
        login.capped = true;
        assert_eq!(
            speed_at(&login, &at(noon, t(1, 0))),
            (rate(1_000), None),
            "crossed, it outranks the window"
        );
        assert_eq!(
            speed_at(&login, &at(noon - chrono::Duration::seconds(1), t(1, 0))),
            (rate(5_000), None),
            "and a temporary speed outranks it"
        );
    }
}
