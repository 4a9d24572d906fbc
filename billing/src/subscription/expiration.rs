//! Moving a service's expiration by hand (Mango "Posun expirace", start_period_move): the
//! expiration — the first day not paid for — moves later as goodwill. The days between are
//! given: never charged; the service counts as paid until the day before the new expiration;
//! and its periods begin anew there (a restart, see `schedule::ChargeTerms::restarts`).
//!
//! Refused, as the manual refuses it, for a service whose periods cannot move: one billed on
//! the client's billing day rather than in floating periods. (ispd has no dependent services,
//! the manual's other refusal.) Refused too for an ended service, a day not after the current
//! expiration (it only moves forward), and while charges are unpaid — the expiration is then
//! the oldest unpaid charge's first day, and moving it would silently forgive them: cancel or
//! pay them first.

use chrono::NaiveDate;

use super::{PeriodAlignment, Subscription, SubscriptionState};

/// A decided move: what storage writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpirationMove {
    /// The service's new last billed (and paid) day: the day before `restart`.
    pub billed_until: NaiveDate,
    /// Its new expiration, where its periods begin anew.
    pub restart: NaiveDate,
    pub history: String,
}

/// Why an expiration may not move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpirationError {
    #[error(
        "only a service in floating periods can move its expiration: its periods follow the client's billing day"
    )]
    NotFloating,
    #[error("an ended service keeps its expiration")]
    Ended,
    #[error("charges from {0} are unpaid: cancel or pay them before moving the expiration")]
    Unpaid(NaiveDate),
    #[error("the expiration is {0}: it moves only later")]
    NotLater(NaiveDate),
}

/// Moves `subscription`'s expiration to `to`. `billed_until`: its last invoiced day;
/// `unpaid_from`: the first day of its oldest unpaid charge (its expiration when unpaid).
pub fn move_expiration(
    subscription: &Subscription,
    billed_until: Option<NaiveDate>,
    unpaid_from: Option<NaiveDate>,
    to: NaiveDate,
    note: &str,
) -> Result<ExpirationMove, ExpirationError> {
    if subscription.alignment != PeriodAlignment::Floating {
        return Err(ExpirationError::NotFloating);
    }
    if subscription.state == SubscriptionState::Ended {
        return Err(ExpirationError::Ended);
    }
    if let Some(day) = unpaid_from {
        return Err(ExpirationError::Unpaid(day));
    }
    let current = billed_until
        .and_then(|d| d.succ_opt())
        .unwrap_or(subscription.billing_from)
        .max(subscription.billing_from);
    let Some(billed_until) = to.pred_opt().filter(|_| to > current) else {
        return Err(ExpirationError::NotLater(current));
    };
    let mut history = format!("expiration {current} → {to}: the days between given");
    if !note.trim().is_empty() {
        history = format!("{history}; {}", note.trim());
    }
    Ok(ExpirationMove {
        billed_until,
        restart: to,
        history,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn an_expiration_moves_forward_on_a_floating_paid_up_service_only() {
        let floating = Subscription {
            alignment: PeriodAlignment::Floating,
            billing_from: d(11, 10),
            state: SubscriptionState::Active,
            ..crate::subscription::tests::subscription()
        };
        let on_billing_day = Subscription {
            alignment: PeriodAlignment::BillingDay,
            ..floating.clone()
        };
        let ended = Subscription {
            state: SubscriptionState::Ended,
            ..floating.clone()
        };
        let moved = |billed: NaiveDate, to: NaiveDate| {
            Ok(ExpirationMove {
                billed_until: to.pred_opt().unwrap(),
                restart: to,
                history: format!(
                    "expiration {} → {to}: the days between given",
                    billed.succ_opt().unwrap()
                ),
            })
        };
        // (service, billed until, unpaid from, to) → the move or the refusal
        let cases = [
            (
                (&floating, Some(d(12, 9)), None, d(12, 20)),
                moved(d(12, 9), d(12, 20)),
            ),
            (
                (&floating, Some(d(12, 9)), None, d(12, 10)),
                Err(ExpirationError::NotLater(d(12, 10))),
            ),
            (
                (&floating, Some(d(12, 9)), Some(d(11, 10)), d(12, 20)),
                Err(ExpirationError::Unpaid(d(11, 10))),
            ),
            (
                (&on_billing_day, Some(d(12, 9)), None, d(12, 20)),
                Err(ExpirationError::NotFloating),
            ),
            (
                (&ended, Some(d(12, 9)), None, d(12, 20)),
                Err(ExpirationError::Ended),
            ),
        ];
        for ((sub, billed, unpaid, to), expected) in cases {
            assert_eq!(
                move_expiration(sub, billed, unpaid, to, ""),
                expected,
                "{billed:?} {unpaid:?} → {to}"
            );
        }
        // Never billed: the expiration is its billing start.
        let first = move_expiration(&floating, None, None, d(11, 15), " goodwill ").unwrap();
        assert_eq!(
            first.history,
            "expiration 2026-11-10 → 2026-11-15: the days between given; goodwill"
        );
        assert_eq!(first.billed_until, d(11, 14));
    }
}
