//! Tariffs: what a service is sold as (price, VAT, period) and the speed it gives.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::FieldError;
use crate::field::{max_len, require};
use crate::period::Period;
use crate::schedule::{Alignment, period_containing};

/// Rates are in kbit/s from the subscriber's point of view: download is what the NAS sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Rate {
    pub download_kbps: u64,
    pub upload_kbps: u64,
}

/// MikroTik-style burst: `rate` is allowed while the average over `time_seconds` stays under
/// `threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Burst {
    pub rate: Rate,
    pub threshold: Rate,
    pub time_seconds: u32,
}

/// Another rate for a daily window of local time, e.g. a night boost 00:00–06:00. A window
/// whose end is not after its start runs over midnight (22:00–06:00); start == end is the
/// whole day. The tariff's burst does not apply inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SpeedWindow {
    pub from: chrono::NaiveTime,
    pub to: chrono::NaiveTime,
    pub rate: Rate,
}

impl SpeedWindow {
    pub fn contains(&self, t: chrono::NaiveTime) -> bool {
        if self.from < self.to {
            self.from <= t && t < self.to
        } else {
            t >= self.from || t < self.to
        }
    }
}

/// A data cap (FUP): past this much traffic in a billing period of the subscription (all its
/// logins together), the reduced `rate` until the period ends. Octets as RADIUS counts them;
/// 0 = that direction is not capped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct DataCap {
    /// What the subscriber downloads (the NAS's output octets).
    pub download_octets: u64,
    /// What the subscriber uploads (the NAS's input octets).
    pub upload_octets: u64,
    pub rate: Rate,
}

impl DataCap {
    /// Whether a period's traffic (download, upload) has crossed the cap.
    pub fn crossed(&self, download: u64, upload: u64) -> bool {
        (self.download_octets > 0 && download >= self.download_octets)
            || (self.upload_octets > 0 && upload >= self.upload_octets)
    }
}

/// The billing periods a subscription's data cap counts in: its own (a day-15 client's cap
/// resets on the 15th, a floating one's on its billing-from day of the month).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CapPeriod {
    pub period: Period,
    pub alignment: Alignment,
    pub billing_from: NaiveDate,
}

impl CapPeriod {
    /// The first day of the period `today` is in: traffic counts from there. A one-off
    /// service has no periods, nor has a total price one short enough: its cap counts per
    /// calendar month.
    pub fn counts_from(&self, today: NaiveDate) -> NaiveDate {
        if matches!(self.period, Period::OneOff | Period::Total) {
            return today.with_day(1).unwrap_or(today);
        }
        period_containing(today, self.period, self.alignment, self.billing_from).0
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Tariff {
    pub id: i64,
    pub name: String,
    pub rate: Rate,
    pub burst: Option<Burst>,
    /// Price per period.
    pub price: Decimal,
    pub price_includes_vat: bool,
    /// Percent, e.g. 21.
    pub vat_rate: Decimal,
    pub period: Period,
    pub framed_pool: String,
    /// A daily window with another rate (time-of-day speed).
    pub window: Option<SpeedWindow>,
    /// A monthly data cap with its reduced rate (FUP).
    pub cap: Option<DataCap>,
    pub note: String,
    /// What kind of service it is (`internet`, `tv`, `voice`): a unit holds one service of a
    /// class at most (see [`crate::unit`]); empty = none.
    pub service_class: String,
    pub version: i64,
}

/// 100 Gbit/s: anything above is a unit mistake (bit/s typed as kbit/s).
pub const MAX_RATE_KBPS: u64 = 100_000_000;

impl Tariff {
    pub fn validate(&self) -> Result<(), FieldError> {
        require("tariff.name", &self.name)?;
        max_len("tariff.name", &self.name, 100)?;
        crate::unit::check_class("tariff.service_class", &self.service_class)?;
        validate_rate("tariff", self.rate)?;
        if self.rate.download_kbps == 0 || self.rate.upload_kbps == 0 {
            return Err(FieldError::new(
                "tariff.download_kbps",
                "download and upload rates must be positive",
            ));
        }
        if let Some(burst) = &self.burst {
            validate_rate("tariff.burst", burst.rate)?;
            validate_rate("tariff.burst.threshold", burst.threshold)?;
            if burst.rate.download_kbps < self.rate.download_kbps
                || burst.rate.upload_kbps < self.rate.upload_kbps
            {
                return Err(FieldError::new(
                    "tariff.burst",
                    "the burst rate must not be below the tariff rate",
                ));
            }
            if burst.time_seconds == 0 {
                return Err(FieldError::new(
                    "tariff.burst.time_seconds",
                    "must be positive",
                ));
            }
        }
        if self.price.is_sign_negative() {
            return Err(FieldError::new("tariff.price", "must not be negative"));
        }
        crate::money::to_minor_units("tariff.price", self.price)?;
        if self.vat_rate.is_sign_negative() || self.vat_rate > Decimal::ONE_HUNDRED {
            return Err(FieldError::new("tariff.vat_rate", "percent, 0-100"));
        }
        if let Some(window) = &self.window {
            validate_rate("tariff.window", window.rate)?;
            if window.rate.download_kbps == 0 || window.rate.upload_kbps == 0 {
                return Err(FieldError::new(
                    "tariff.window.download_kbps",
                    "download and upload rates must be positive",
                ));
            }
        }
        if let Some(cap) = &self.cap {
            validate_rate("tariff.cap", cap.rate)?;
            if cap.download_octets == 0 && cap.upload_octets == 0 {
                return Err(FieldError::new(
                    "tariff.cap.download_octets",
                    "a cap caps the download, the upload or both",
                ));
            }
            if cap.rate.download_kbps == 0 || cap.rate.upload_kbps == 0 {
                return Err(FieldError::new(
                    "tariff.cap.download_kbps",
                    "the reduced rates must be positive",
                ));
            }
        }
        max_len("tariff.framed_pool", &self.framed_pool, 64)
    }
}

fn validate_rate(prefix: &str, rate: Rate) -> Result<(), FieldError> {
    for (field, value) in [
        ("download_kbps", rate.download_kbps),
        ("upload_kbps", rate.upload_kbps),
    ] {
        if value > MAX_RATE_KBPS {
            return Err(FieldError::new(
                format!("{prefix}.{field}"),
                format!("at most {MAX_RATE_KBPS} kbit/s"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cap_counts_from_the_start_of_the_billing_period() {
        use super::{Alignment, CapPeriod, NaiveDate, Period};
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let cap = |period, alignment| CapPeriod {
            period,
            alignment,
            billing_from: d(3, 20),
        };
        for (terms, today, want) in [
            (
                cap(Period::Monthly, Alignment::BillingDay(1)),
                d(12, 5),
                d(12, 1),
            ),
            (
                cap(Period::Monthly, Alignment::BillingDay(15)),
                d(12, 5),
                d(11, 15),
            ),
            (
                cap(Period::Monthly, Alignment::BillingDay(15)),
                d(12, 15),
                d(12, 15),
            ),
            (
                cap(Period::Monthly, Alignment::Floating),
                d(12, 5),
                d(11, 20),
            ),
            (
                cap(Period::Quarterly, Alignment::BillingDay(1)),
                d(12, 5),
                d(10, 1),
            ),
            (
                cap(Period::OneOff, Alignment::BillingDay(15)),
                d(12, 5),
                d(12, 1),
            ),
        ] {
            assert_eq!(terms.counts_from(today), want, "{terms:?} on {today}");
        }
    }

    use super::*;

    fn tariff() -> Tariff {
        Tariff {
            id: 0,
            name: "Fiber 100".into(),
            rate: Rate {
                download_kbps: 100_000,
                upload_kbps: 20_000,
            },
            burst: None,
            price: Decimal::new(49900, 2),
            price_includes_vat: true,
            vat_rate: Decimal::from(21),
            period: Period::Monthly,
            framed_pool: String::new(),
            window: None,
            cap: None,
            note: String::new(),
            service_class: String::new(),
            version: 0,
        }
    }

    fn t(h: u32, m: u32) -> chrono::NaiveTime {
        chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn rate(down: u64) -> Rate {
        Rate {
            download_kbps: down,
            upload_kbps: down / 10,
        }
    }

    #[test]
    fn windows_over_midnight_and_within_a_day() {
        let night = SpeedWindow {
            from: t(22, 0),
            to: t(6, 0),
            rate: rate(1),
        };
        let day = SpeedWindow {
            from: t(0, 0),
            to: t(6, 0),
            rate: rate(1),
        };
        let whole = SpeedWindow {
            from: t(3, 0),
            to: t(3, 0),
            rate: rate(1),
        };
        #[rustfmt::skip]
        let cases = [
            (night, t(21, 59), false), (night, t(22, 0), true), (night, t(0, 0), true),
            (night, t(5, 59), true), (night, t(6, 0), false),
            (day, t(0, 0), true), (day, t(5, 59), true), (day, t(6, 0), false), (day, t(23, 59), false),
            (whole, t(3, 0), true), (whole, t(2, 59), true),
        ];
        for (window, at, inside) in cases {
            assert_eq!(window.contains(at), inside, "{window:?} at {at}");
        }
    }

    #[test]
    fn rules() {
        assert_eq!(tariff().validate(), Ok(()));
        let field = |edit: fn(&mut Tariff)| {
            let mut t = tariff();
            edit(&mut t);
            t.validate().unwrap_err().field
        };
        assert_eq!(field(|t| t.name.clear()), "tariff.name");
        assert_eq!(field(|t| t.rate.upload_kbps = 0), "tariff.download_kbps");
        assert_eq!(
            field(|t| t.rate.download_kbps = MAX_RATE_KBPS + 1),
            "tariff.download_kbps"
        );
        assert_eq!(field(|t| t.price = Decimal::new(-1, 0)), "tariff.price");
        assert_eq!(field(|t| t.price = Decimal::new(1, 3)), "tariff.price");
        assert_eq!(
            field(|t| t.vat_rate = Decimal::from(101)),
            "tariff.vat_rate"
        );
        assert_eq!(
            field(|t| t.burst = Some(Burst {
                rate: Rate {
                    download_kbps: 50_000,
                    upload_kbps: 50_000
                },
                threshold: Rate::default(),
                time_seconds: 8
            })),
            "tariff.burst"
        );
        assert_eq!(
            field(|t| t.burst = Some(Burst {
                rate: Rate {
                    download_kbps: 200_000,
                    upload_kbps: 40_000
                },
                threshold: Rate::default(),
                time_seconds: 0
            })),
            "tariff.burst.time_seconds"
        );
    }
}
