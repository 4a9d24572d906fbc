//! Subscriptions: a client's service on a tariff, and its lifecycle state (Mango manual).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::FieldError;
use crate::field::max_len;
use crate::period::Period;

/// Where a subscription is in its life. One enum rather than flags, so "paused and ended" cannot
/// be written down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionState {
    /// Activation date is still ahead.
    NotYetActive,
    Active,
    /// Interrupted at the client's request (Mango: Přerušení).
    Paused,
    /// Blocked by the operator (Mango: Blokování), e.g. for debt.
    Blocked,
    Ended,
}

impl SubscriptionState {
    pub const ALL: [SubscriptionState; 5] = [
        SubscriptionState::NotYetActive,
        SubscriptionState::Active,
        SubscriptionState::Paused,
        SubscriptionState::Blocked,
        SubscriptionState::Ended,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionState::NotYetActive => "not_yet_active",
            SubscriptionState::Active => "active",
            SubscriptionState::Paused => "paused",
            SubscriptionState::Blocked => "blocked",
            SubscriptionState::Ended => "ended",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Subscription {
    pub id: i64,
    pub client_id: i64,
    pub tariff_id: i64,
    /// Works from this day.
    pub activation_date: NaiveDate,
    /// First charged day (Mango: Placení k); never before activation.
    pub billing_from: NaiveDate,
    /// `None`: the tariff's price.
    pub price_override: Option<Decimal>,
    /// `None`: the tariff's period.
    pub period: Option<Period>,
    pub commitment_until: Option<NaiveDate>,
    /// Per-service variable symbol: a payment with it goes to this service.
    pub variable_symbol: String,
    pub note: String,
    pub state: SubscriptionState,
    pub version: i64,
}

impl Subscription {
    /// The state a new subscription starts in, given today's date.
    pub fn initial_state(activation_date: NaiveDate, today: NaiveDate) -> SubscriptionState {
        if activation_date > today {
            SubscriptionState::NotYetActive
        } else {
            SubscriptionState::Active
        }
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        if self.billing_from < self.activation_date {
            return Err(FieldError::new(
                "subscription.billing_from",
                "must not be before the activation date",
            ));
        }
        if self
            .commitment_until
            .is_some_and(|end| end < self.activation_date)
        {
            return Err(FieldError::new(
                "subscription.commitment_until",
                "must not be before the activation date",
            ));
        }
        if let Some(price) = self.price_override {
            if price.is_sign_negative() {
                return Err(FieldError::new(
                    "subscription.price_override",
                    "must not be negative",
                ));
            }
            crate::money::to_minor_units("subscription.price_override", price)?;
        }
        if !self.variable_symbol.is_empty()
            && !crate::client::is_variable_symbol(&self.variable_symbol)
        {
            return Err(FieldError::new(
                "subscription.variable_symbol",
                "1-10 digits",
            ));
        }
        max_len("subscription.note", &self.note, 255)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn subscription() -> Subscription {
        Subscription {
            id: 0,
            client_id: 1,
            tariff_id: 1,
            activation_date: day(15),
            billing_from: day(15),
            price_override: None,
            period: None,
            commitment_until: None,
            variable_symbol: String::new(),
            note: String::new(),
            state: SubscriptionState::Active,
            version: 0,
        }
    }

    #[test]
    fn initial_state_follows_the_activation_date() {
        assert_eq!(
            Subscription::initial_state(day(15), day(14)),
            SubscriptionState::NotYetActive
        );
        assert_eq!(
            Subscription::initial_state(day(15), day(15)),
            SubscriptionState::Active
        );
        assert_eq!(
            Subscription::initial_state(day(15), day(20)),
            SubscriptionState::Active
        );
    }

    #[test]
    fn rules() {
        assert_eq!(subscription().validate(), Ok(()));
        let field = |edit: fn(&mut Subscription)| {
            let mut s = subscription();
            edit(&mut s);
            s.validate().unwrap_err().field
        };
        assert_eq!(
            field(|s| s.billing_from = day(14)),
            "subscription.billing_from"
        );
        assert_eq!(
            field(|s| s.commitment_until = Some(day(1))),
            "subscription.commitment_until"
        );
        assert_eq!(
            field(|s| s.price_override = Some(Decimal::new(-5, 0))),
            "subscription.price_override"
        );
        assert_eq!(
            field(|s| s.variable_symbol = "abc".into()),
            "subscription.variable_symbol"
        );
    }

    #[test]
    fn state_names_round_trip() {
        for s in SubscriptionState::ALL {
            assert_eq!(SubscriptionState::parse(s.as_str()), Some(s));
        }
    }
}
