//! A tariff changed from a date (Mango: change of a service "k datu"): the days before the
//! change are charged at the price they had, the days from it at the new tariff's price.
//!
//! The rule, for the billing run:
//! - a day is charged at [`price_on`] that day: the price a change kept for the days before
//!   it, or the subscription's current price after the last change;
//! - periods are cut at each change day ([`crate::schedule::split_at_price_changes`]), so every
//!   invoice line has one price;
//! - a period invoiced before the change took effect keeps its invoiced price up to the day
//!   before the change; the part from the change day on is charged anew ([`repriced`]).
//!   Without a dated change inside an invoiced period, that period is never repriced — an
//!   edited tariff price counts from the next period, as it always has.

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// What a service is charged at: enough for an invoice line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServicePrice {
    /// The line's description (the tariff's name).
    pub name: String,
    pub price: Decimal,
    pub includes_vat: bool,
    /// Percent, e.g. 21.
    pub vat_rate: Decimal,
}

/// A tariff change that took effect on `from`, with the price the days before it had.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PriceChange {
    pub from: NaiveDate,
    pub before: ServicePrice,
}

/// The price of `day`: the `before` of the first change after it, else `current`.
pub fn price_on<'a>(
    day: NaiveDate,
    changes: &'a [PriceChange],
    current: &'a ServicePrice,
) -> &'a ServicePrice {
    changes
        .iter()
        .filter(|c| c.from > day)
        .min_by_key(|c| c.from)
        .map_or(current, |c| &c.before)
}

/// The price a part of an invoiced period must now carry, when a change took effect inside
/// that period on or before the part's first day (`invoiced_from..=part_from`); `None` when
/// the part keeps the price it was invoiced at.
pub fn repriced<'a>(
    part_from: NaiveDate,
    invoiced_from: NaiveDate,
    changes: &'a [PriceChange],
    current: &'a ServicePrice,
) -> Option<&'a ServicePrice> {
    changes
        .iter()
        .any(|c| c.from >= invoiced_from && c.from <= part_from)
        .then(|| price_on(part_from, changes, current))
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
        assert_eq!(price_on(d(1, 1), &[], &current).name, "Turbo");
    }

    #[test]
    fn which_parts_of_an_invoiced_period_are_repriced() {
        let (changes, current) = history();
        let name = |p: Option<&ServicePrice>| p.map(|p| p.name.clone());
        for (part_from, invoiced_from, want) in [
            // December invoiced whole on 1 Dec: its first half keeps the invoiced price ...
            (d(12, 1), d(12, 1), None),
            // ... the part from the change day is charged at the new tariff.
            (d(12, 15), d(12, 1), Some("Fast")),
            // A period that began on the change day is charged at the new price throughout.
            (d(12, 15), d(12, 15), Some("Fast")),
            // November had no change inside it: never repriced, even if the tariff's own
            // price was edited since.
            (d(11, 1), d(11, 1), None),
            (d(11, 20), d(11, 1), None),
        ] {
            assert_eq!(
                name(repriced(part_from, invoiced_from, &changes, &current)),
                want.map(str::to_owned),
                "part from {part_from} of a period invoiced from {invoiced_from}"
            );
        }
    }
}
