//! A tariff changed from a date (Mango: change of a service "k datu"): the days before the
//! change are charged at the price they had, the days from it at the new tariff's price.
//!
//! The rule, for the billing run:
//! - a day is charged at [`price_on`] that day: the price a change kept for the days before
//!   it, or the subscription's current price after the last change;
//! - periods are cut at each change day ([`crate::schedule::split_at_price_changes`]), so every
//!   invoice line has one price;
//! - a period invoiced before a change was recorded keeps its invoiced price up to the day
//!   before the change; the part from the change day on is charged anew ([`repriced`]) —
//!   also a later period invoiced in advance, wholly after the change day. A period invoiced
//!   after every change that reaches it is never repriced: an edited tariff price counts
//!   from the next period, as it always has.

use std::borrow::Borrow;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::invoice::{LineInput, PriceBasis, compute_line};
use crate::period::Period;
use crate::subscription::Subscription;
use crate::tariff::Tariff;

/// What a service is charged at: enough for an invoice line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServicePrice {
    /// The line's description (the tariff's name).
    pub name: String,
    pub price: Decimal,
    pub includes_vat: bool,
    /// Percent, e.g. 21.
    pub vat_rate: Decimal,
    /// The period `price` is for: days charged at it are a share of a period of this length
    /// (a change between tariffs of different periods keeps the old one for the days before).
    pub period: Period,
}

impl ServicePrice {
    /// What a service on `tariff` is charged a period: its own price when it has one, else
    /// the tariff's.
    pub fn of(tariff: &Tariff, price_override: Option<Decimal>) -> ServicePrice {
        ServicePrice {
            name: tariff.name.clone(),
            price: price_override.unwrap_or(tariff.price),
            includes_vat: tariff.price_includes_vat,
            vat_rate: tariff.vat_rate,
            period: tariff.period,
        }
    }

    /// One period's gross, as its invoice line charges it (before discounts).
    pub fn period_gross(&self) -> Decimal {
        compute_line(&LineInput {
            description: String::new(),
            quantity: Decimal::ONE,
            unit_price: self.price,
            basis: if self.includes_vat {
                PriceBasis::Gross
            } else {
                PriceBasis::Net
            },
            vat_rate: self.vat_rate,
        })
        .gross
    }
}

/// A tariff change that took effect on `from`, with the price the days before it had.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PriceChange {
    pub from: NaiveDate,
    pub before: ServicePrice,
}

/// A change as the books hold it: when it was recorded tells which invoiced periods were
/// charged without it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordedChange {
    pub change: PriceChange,
    pub recorded: DateTime<Utc>,
}

impl Borrow<PriceChange> for RecordedChange {
    fn borrow(&self) -> &PriceChange {
        &self.change
    }
}

/// The price of `day`: the `before` of the first change after it, else `current`.
pub fn price_on<'a, C: Borrow<PriceChange>>(
    day: NaiveDate,
    changes: &'a [C],
    current: &'a ServicePrice,
) -> &'a ServicePrice {
    changes
        .iter()
        .map(Borrow::borrow)
        .filter(|c| c.from > day)
        .min_by_key(|c| c.from)
        .map_or(current, |c| &c.before)
}

/// The price a part of a period invoiced at `invoiced_at` must now carry, when a change
/// recorded after that took effect on or before the part's first day — inside the period,
/// or before a period invoiced in advance; `None` when the part keeps the price it was
/// invoiced at.
pub fn repriced<'a>(
    part_from: NaiveDate,
    invoiced_at: DateTime<Utc>,
    changes: &'a [RecordedChange],
    current: &'a ServicePrice,
) -> Option<&'a ServicePrice> {
    changes
        .iter()
        .any(|c| c.change.from <= part_from && c.recorded > invoiced_at)
        .then(|| price_on(part_from, changes, current))
}

/// A tariff change decided: what the days before it keep, and the subscription's history line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TariffMove {
    pub change: PriceChange,
    pub history: String,
}

/// Why a tariff move is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("subscription {subscription} is on {tariff} already")]
    AlreadyOn { subscription: i64, tariff: String },
    /// A one-off or total price has no periods to split the days by: such a service changes
    /// only to a tariff charged the same way.
    #[error(
        "{tariff} is charged {to}, the subscription {from}: a one-off or total price changes \
         only to a tariff charged the same way (end the service and add one on {tariff})"
    )]
    PeriodKinds {
        tariff: String,
        from: &'static str,
        to: &'static str,
    },
}

/// Moves `subscription` from its tariff `current` to `next` from `from` (whether it may move
/// then is [`crate::subscription::check_tariff_change`]'s): the days before keep the price
/// they were charged at — the subscription's own price when it had one, else the tariff's;
/// the override goes with the move. `note`: the operator's, added to the history line.
pub fn move_tariff(
    subscription: &Subscription,
    current: &Tariff,
    next: &Tariff,
    from: NaiveDate,
    note: &str,
) -> Result<TariffMove, MoveError> {
    if next.id == subscription.tariff_id {
        return Err(MoveError::AlreadyOn {
            subscription: subscription.id,
            tariff: next.name.clone(),
        });
    }
    let periodless = |p: Period| matches!(p, Period::OneOff | Period::Total);
    if current.period != next.period && (periodless(current.period) || periodless(next.period)) {
        return Err(MoveError::PeriodKinds {
            tariff: next.name.clone(),
            from: current.period.as_str(),
            to: next.period.as_str(),
        });
    }
    let before = ServicePrice::of(current, subscription.price_override);
    let mut history = format!("tariff {} → {} from {from}", current.name, next.name);
    if !note.trim().is_empty() {
        history = format!("{history}; {}", note.trim());
    }
    Ok(TariffMove {
        change: PriceChange { from, before },
        history,
    })
}

/// Why a dated change of a service's price (or tariff) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepriceError {
    #[error("subscription {0} is charged that price already")]
    Unchanged(i64),
    #[error("a change takes effect on or after the last one, which took effect on {0}")]
    BeforeLastChange(NaiveDate),
}

/// A change dated `from` comes on or after the latest one (`last`): the history then gives
/// every day exactly one price ([`price_on`] reads it in that order).
pub fn check_after_last(from: NaiveDate, last: Option<NaiveDate>) -> Result<(), RepriceError> {
    match last {
        Some(last) if from < last => Err(RepriceError::BeforeLastChange(last)),
        _ => Ok(()),
    }
}

/// The subscription's own price changed from `from` (Mango's service parameters "valid from"):
/// `price` is its new own price, `None` its tariff's. Like a tariff move, the days before keep
/// what they were charged at and each part of a period is charged at its day's price; the
/// change may be recorded ahead of its day, since no answer to the NAS depends on it.
/// `last_change`: the day the latest recorded change took effect.
pub fn reprice(
    subscription: &Subscription,
    tariff: &Tariff,
    price: Option<Decimal>,
    from: NaiveDate,
    last_change: Option<NaiveDate>,
    note: &str,
) -> Result<TariffMove, RepriceError> {
    if subscription.price_override == price {
        return Err(RepriceError::Unchanged(subscription.id));
    }
    check_after_last(from, last_change)?;
    let before = ServicePrice::of(tariff, subscription.price_override);
    let after = ServicePrice::of(tariff, price);
    let own = |p: Option<Decimal>, amount: Decimal| match p {
        Some(_) => amount.to_string(),
        None => format!("{amount} (the tariff's)"),
    };
    let mut history = format!(
        "price {} → {} from {from}",
        own(subscription.price_override, before.price),
        own(price, after.price)
    );
    if !note.trim().is_empty() {
        history = format!("{history}; {}", note.trim());
    }
    Ok(TariffMove {
        change: PriceChange { from, before },
        history,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn price(name: &str, amount: i64) -> ServicePrice {
        ServicePrice {
            name: name.into(),
            price: Decimal::from(amount),
            includes_vat: true,
            vat_rate: Decimal::from(21),
            period: Period::Monthly,
        }
    }

    /// Basic until 14 Dec, Fast from 15 Dec until 9 Jan, Turbo (current) from 10 Jan.
    fn history() -> (Vec<PriceChange>, ServicePrice) {
        let changes = vec![
            PriceChange {
                from: NaiveDate::from_ymd_opt(2027, 1, 10).unwrap(),
                before: price("Fast", 799),
            },
            PriceChange {
                from: d(12, 15),
                before: price("Basic", 499),
            },
        ];
        (changes, price("Turbo", 999))
    }

    #[test]
    fn the_price_of_a_day() {
        let (changes, current) = history();
        let jan = |day| NaiveDate::from_ymd_opt(2027, 1, day).unwrap();
        for (day, want) in [
            (d(11, 30), "Basic"),
            (d(12, 14), "Basic"),
            (d(12, 15), "Fast"),
            (jan(9), "Fast"),
            (jan(10), "Turbo"),
            (jan(31), "Turbo"),
        ] {
            assert_eq!(price_on(day, &changes, &current).name, want, "{day}");
        }
        assert_eq!(
            price_on::<PriceChange>(d(1, 1), &[], &current).name,
            "Turbo"
        );
    }

    #[test]
    fn which_parts_of_an_invoiced_period_are_repriced() {
        let (changes, current) = history();
        // Each change recorded on its own day, at noon.
        let changes: Vec<RecordedChange> = changes
            .into_iter()
            .map(|change| RecordedChange {
                recorded: change.from.and_hms_opt(12, 0, 0).unwrap().and_utc(),
                change,
            })
            .collect();
        let at = |day: NaiveDate| day.and_hms_opt(8, 0, 0).unwrap().and_utc();
        let jan = |day| NaiveDate::from_ymd_opt(2027, 1, day).unwrap();
        let name = |p: Option<&ServicePrice>| p.map(|p| p.name.clone());
        for (part_from, invoiced_on, want) in [
            // December invoiced whole on 1 Dec: its first half keeps the invoiced price ...
            (d(12, 1), d(12, 1), None),
            // ... the part from the change day is charged at the new tariff.
            (d(12, 15), d(12, 1), Some("Fast")),
            // A period that began on the change day, invoiced before it, is charged at the
            // new price throughout.
            (d(12, 15), d(12, 14), Some("Fast")),
            // November had no change inside it: never repriced, even if the tariff's own
            // price was edited since.
            (d(11, 1), d(11, 1), None),
            (d(11, 20), d(11, 1), None),
            // January invoiced in advance on 1 Dec, before both changes: at Fast until the
            // second change, at Turbo from it.
            (jan(1), d(12, 1), Some("Fast")),
            (jan(10), d(12, 1), Some("Turbo")),
            // January invoiced on 1 Jan knew the first change: only the second reprices.
            (jan(1), jan(1), None),
            (jan(10), jan(1), Some("Turbo")),
            // February invoiced after every change: never repriced.
            (NaiveDate::from_ymd_opt(2027, 2, 1).unwrap(), jan(20), None),
        ] {
            assert_eq!(
                name(repriced(part_from, at(invoiced_on), &changes, &current)),
                want.map(str::to_owned),
                "part from {part_from} of a period invoiced on {invoiced_on}"
            );
        }
    }

    fn tariff(id: i64, name: &str, price: i64) -> Tariff {
        Tariff {
            id,
            name: name.into(),
            rate: crate::tariff::Rate {
                download_kbps: 100_000,
                upload_kbps: 20_000,
            },
            burst: None,
            price: Decimal::from(price),
            price_includes_vat: true,
            vat_rate: Decimal::from(21),
            period: crate::period::Period::Monthly,
            framed_pool: String::new(),
            window: None,
            cap: None,
            note: String::new(),
            service_class: String::new(),
            version: 1,
        }
    }

    #[test]
    fn a_tariff_move_keeps_the_price_the_days_before_were_charged_at() {
        let subscription = |price_override: Option<i64>| Subscription {
            id: 70,
            price_override: price_override.map(Decimal::from),
            ..crate::subscription::tests::subscription()
        };
        let (basic, fast) = (tariff(1, "Basic", 499), tariff(2, "Fast", 799));
        let yearly = Tariff {
            period: crate::period::Period::Yearly,
            ..tariff(4, "Yearly", 4990)
        };
        let setup = Tariff {
            period: crate::period::Period::OneOff,
            ..tariff(5, "Setup", 1500)
        };
        let moved = |before: ServicePrice, history: &str| {
            Ok(TariffMove {
                change: PriceChange {
                    from: d(3, 15),
                    before,
                },
                history: history.to_owned(),
            })
        };
        let cases = [
            // (own price, to, note) → kept price and history, or the refusal
            (
                (None, &fast, ""),
                moved(price("Basic", 499), "tariff Basic → Fast from 2026-03-15"),
            ),
            (
                (Some(399), &fast, " moved up on request "),
                moved(
                    price("Basic", 399),
                    "tariff Basic → Fast from 2026-03-15; moved up on request",
                ),
            ),
            (
                (None, &basic, ""),
                Err("subscription 70 is on Basic already".to_owned()),
            ),
            // A yearly tariff splits the days by its periods; a one-off price has none.
            (
                (None, &yearly, ""),
                moved(price("Basic", 499), "tariff Basic → Yearly from 2026-03-15"),
            ),
            (
                (None, &setup, ""),
                Err(
                    "Setup is charged one-off, the subscription monthly: a one-off or total \
                     price changes only to a tariff charged the same way (end the service and \
                     add one on Setup)"
                        .to_owned(),
                ),
            ),
        ];
        for ((own, next, note), expected) in cases {
            let got = move_tariff(&subscription(own), &basic, next, d(3, 15), note)
                .map_err(|e| e.to_string());
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn a_price_change_keeps_the_days_before_and_comes_after_the_last_one() {
        let tariff = tariff(3, "Fiber 100", 499);
        let sub = Subscription {
            id: 7,
            tariff_id: 3,
            price_override: None,
            ..crate::subscription::tests::subscription()
        };
        let moved = reprice(
            &sub,
            &tariff,
            Some(Decimal::from(399)),
            d(12, 16),
            None,
            "loyal",
        )
        .unwrap();
        assert_eq!(moved.change.from, d(12, 16));
        assert_eq!(moved.change.before.price, Decimal::from(499));
        assert_eq!(
            moved.history,
            "price 499 (the tariff's) → 399 from 2026-12-16; loyal"
        );
        // Priced by day: 499 before the 16th, the new own price from it.
        let current = ServicePrice::of(&tariff, Some(Decimal::from(399)));
        let changes = [moved.change];
        assert_eq!(
            price_on(d(12, 15), &changes, &current).price,
            Decimal::from(499)
        );
        assert_eq!(
            price_on(d(12, 16), &changes, &current).price,
            Decimal::from(399)
        );
        // Back to the tariff's price; refused when nothing changes or before the last change.
        let own = Subscription {
            price_override: Some(Decimal::from(399)),
            ..sub.clone()
        };
        let back = reprice(&own, &tariff, None, d(12, 20), Some(d(12, 16)), "").unwrap();
        assert_eq!(back.change.before.price, Decimal::from(399));
        assert_eq!(
            back.history,
            "price 399 → 499 (the tariff's) from 2026-12-20"
        );
        assert_eq!(
            reprice(&own, &tariff, Some(Decimal::from(399)), d(12, 20), None, ""),
            Err(RepriceError::Unchanged(7))
        );
        assert_eq!(
            reprice(&own, &tariff, None, d(12, 10), Some(d(12, 16)), ""),
            Err(RepriceError::BeforeLastChange(d(12, 16)))
        );
        assert_eq!(check_after_last(d(12, 16), Some(d(12, 16))), Ok(()));
    }
}
