//! Transfer of a service to another client or tariff (Mango "Změna služby na jinou"): the
//! original ends the day before the chosen date and a new service starts on it — same place,
//! period and alignment, the new client's and tariff's — with the original's logins, and the
//! discounts still running or to come carried over (Mango's rule for discounts without a
//! condition: current and future carried; a running one restarts on the transfer day). On
//! the same tariff its own price goes along, with the price changes of later days: a price
//! recorded for a later day is the service's price already, and the days before that day
//! keep the price they had.

use chrono::NaiveDate;

use super::lifecycle::DatedTransition;
use super::{Subscription, Transition};
use crate::FieldError;
use crate::invoice::Discount;
use crate::price_change::PriceChange;

/// What a transfer does: the original's end, the new service, the discounts and price
/// changes it gets.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferPlan {
    /// The original's end: its last charged day is the day before the transfer.
    pub end: DatedTransition,
    pub next: Subscription,
    pub carried: Vec<Discount>,
    /// The original's price changes of days after the transfer's, on the same tariff.
    pub price_changes: Vec<PriceChange>,
}

/// Plans moving `old` (with its `discounts` and price `changes`) to client `client` on
/// tariff `tariff` (ids) from `date`, as of `today`. The day is today or earlier — one ahead
/// is a scheduled change ([`super::Action::Transfer`]) planned on its day; the original's end
/// is then checked by the state machine as any end is.
pub fn plan(
    old: &Subscription,
    (discounts, changes): (&[Discount], &[PriceChange]),
    (client, tariff): (i64, i64),
    (date, today): (NaiveDate, NaiveDate),
    note: &str,
) -> Result<TransferPlan, FieldError> {
    if date > today {
        return Err(FieldError::new(
            "date",
            format!(
                "{date} is after today ({today}): a transfer ahead is scheduled for its day \
                 and made then"
            ),
        ));
    }
    if client == old.client_id && tariff == old.tariff_id {
        return Err(FieldError::new(
            "tariff",
            "a transfer moves the service to another client or tariff: name one",
        ));
    }
    let last_day = date.pred_opt().unwrap_or(date);
    let same_tariff = tariff == old.tariff_id;
    let mut history = format!("transferred from {date}");
    if !note.trim().is_empty() {
        history = format!("{history}; {}", note.trim());
    }
    let next = Subscription {
        id: 0,
        client_id: client,
        tariff_id: tariff,
        activation_date: date,
        billing_from: date,
        // The old price belongs to the old tariff.
        price_override: old.price_override.filter(|_| same_tariff),
        period: old.period,
        commitment_until: None,
        // A symbol names one service; the new one gets its own.
        variable_symbol: String::new(),
        note: old.note.clone(),
        invoice_note: if same_tariff {
            old.invoice_note.clone()
        } else {
            String::new()
        },
        state: Subscription::initial_state(date, today),
        alignment: old.alignment,
        end_date: None,
        end_reason: String::new(),
        unit: old.unit,
        version: 0,
    };
    let carried = discounts
        .iter()
        .filter(|d| d.valid_to.is_none_or(|to| to >= date))
        .map(|d| Discount {
            valid_from: d.valid_from.max(date),
            ..d.clone()
        })
        .collect();
    let price_changes = changes
        .iter()
        .filter(|c| same_tariff && c.from > date)
        .cloned()
        .collect();
    Ok(TransferPlan {
        end: DatedTransition {
            transition: Transition::End,
            date: last_day,
            billing_suspended: false,
            note: history,
            reason: String::new(),
        },
        next,
        carried,
        price_changes,
    })
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::super::tests::{day, subscription};
    use super::*;
    use crate::invoice::DiscountValue;

    fn discount(name: &str, from: u32, to: Option<u32>) -> Discount {
        Discount {
            name: name.into(),
            value: DiscountValue::Percent(Decimal::TEN),
            valid_from: day(from),
            valid_to: to.map(day),
        }
    }

    #[test]
    fn the_old_ends_the_day_before_the_new_starts_with_what_is_carried() {
        let old = Subscription {
            id: 7,
            activation_date: day(1),
            billing_from: day(1),
            price_override: Some(Decimal::ONE_HUNDRED),
            unit: Some(3),
            ..subscription()
        };
        let discounts = [
            discount("over", 1, Some(9)),
            discount("running", 1, Some(20)),
            discount("coming", 25, None),
            discount("open", 2, None),
        ];
        let plan = plan(
            &old,
            (&discounts, &[]),
            (2, 1),
            (day(10), day(15)),
            " moved ",
        )
        .unwrap();
        assert_eq!(
            (plan.end.transition, plan.end.date, plan.end.note.as_str()),
            (
                Transition::End,
                day(9),
                "transferred from 2026-11-10; moved"
            )
        );
        let n = &plan.next;
        assert_eq!(
            (
                n.client_id,
                n.tariff_id,
                n.activation_date,
                n.billing_from,
                n.unit
            ),
            (2, 1, day(10), day(10), Some(3))
        );
        assert_eq!(
            n.price_override,
            Some(Decimal::ONE_HUNDRED),
            "same tariff, same price"
        );
        let carried: Vec<_> = plan
            .carried
            .iter()
            .map(|d| (d.name.as_str(), d.valid_from, d.valid_to))
            .collect();
        assert_eq!(
            carried,
            [
                ("running", day(10), Some(day(20))),
                ("coming", day(25), None),
                ("open", day(10), None)
            ]
        );
        let other_tariff = super::plan(&old, (&[], &[]), (1, 2), (day(10), day(15)), "").unwrap();
        assert_eq!(
            other_tariff.next.price_override, None,
            "a new tariff, its own price"
        );
    }

    /// A price recorded for a later day is the service's price already; the change goes
    /// along so that the days before it keep the price they had (found probing: the new
    /// service charged them at the later price). Another tariff has its own price.
    #[test]
    fn price_changes_of_later_days_go_along_on_the_same_tariff() {
        use crate::price_change::ServicePrice;
        let old = Subscription {
            price_override: Some(Decimal::ONE_HUNDRED),
            ..subscription()
        };
        let change = |from| PriceChange {
            from: day(from),
            before: ServicePrice {
                name: "Fiber 100".into(),
                price: Decimal::from(499),
                includes_vat: true,
                vat_rate: Decimal::from(21),
                period: crate::period::Period::Monthly,
            },
        };
        let changes = [change(5), change(20)];
        let to = (2, old.tariff_id);
        let same = plan(&old, (&[], &changes), to, (day(10), day(15)), "").unwrap();
        assert_eq!(same.price_changes, [change(20)]);
        let moved = (2, old.tariff_id + 1);
        let other = plan(&old, (&[], &changes), moved, (day(10), day(15)), "").unwrap();
        assert!(other.price_changes.is_empty());
    }

    #[test]
    fn what_a_transfer_refuses() {
        let old = subscription();
        let cases = [
            ((2, 1), (day(16), day(15)), "date"),
            ((old.client_id, old.tariff_id), (day(15), day(15)), "tariff"),
        ];
        for (to, dates, field) in cases {
            let refused = plan(&old, (&[], &[]), to, dates, "").unwrap_err();
            assert_eq!(refused.field, field, "{to:?} {dates:?}");
        }
    }
}
