//! Units (Mango "jednotka"): the places services are delivered to — a flat, a house, a
//! connection point. A tariff's service class says what kind of service it is (internet,
//! TV, voice); one unit holds at most one service of a class that has not ended, so a flat
//! is never connected twice by mistake. A tariff without a class is never counted.

use crate::FieldError;
use crate::field::{Text, require, text};
use crate::subscription::SubscriptionState;

/// A unit as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Unit {
    pub id: i64,
    /// How the operator finds it: an address and flat, a socket's label (unique).
    pub name: String,
    pub note: String,
}

impl Unit {
    pub fn validate(&self) -> Result<(), FieldError> {
        require("unit.name", &self.name)?;
        text("unit.name", &self.name, Text::Location)?;
        text("unit.note", &self.note, Text::Note)
    }
}

/// A service class: a short code, lowercase letters, digits, `_` or `-`; empty = none.
pub fn check_class(field: &str, class: &str) -> Result<(), FieldError> {
    let fits = class.len() <= 32
        && class
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if fits {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "a short code of lowercase letters, digits, _ or - (at most 32), e.g. internet",
        ))
    }
}

/// A service on a unit, as the rule reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnUnit {
    pub subscription: i64,
    /// Its tariff's class.
    pub class: String,
    pub state: SubscriptionState,
}

/// Whether subscription `subscription` (0 for a new one) with a tariff of `class` may be on
/// unit `unit`, which holds `others`: refused naming `subscription.unit` when another service
/// of that class, not ended, is there.
pub fn check_one_per_class(
    (unit, subscription): (i64, i64),
    class: &str,
    others: &[OnUnit],
) -> Result<(), FieldError> {
    if class.is_empty() {
        return Ok(());
    }
    match others.iter().find(|o| {
        o.subscription != subscription && o.class == class && o.state != SubscriptionState::Ended
    }) {
        Some(taken) => Err(FieldError::new(
            "subscription.unit",
            format!(
                "unit {unit} has service {} of class {class} already: one of a class per unit",
                taken.subscription
            ),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(subscription: i64, class: &str, state: SubscriptionState) -> OnUnit {
        OnUnit {
            subscription,
            class: class.into(),
            state,
        }
    }

    #[test]
    fn one_service_of_a_class_per_unit() {
        use SubscriptionState::{Active, Ended, NotYetActive, Paused};
        let there = [
            on(5, "internet", Active),
            on(6, "tv", Paused),
            on(7, "voice", Ended),
        ];
        let cases = [
            // (subscription, class) → allowed
            ((0, "internet"), false),
            ((0, "tv"), false),
            ((0, "voice"), true),    // the voice service there has ended
            ((0, ""), true),         // no class, never counted
            ((5, "internet"), true), // itself
            ((0, "iptv"), true),
        ];
        for ((subscription, class), allowed) in cases {
            let got = check_one_per_class((3, subscription), class, &there);
            assert_eq!(got.is_ok(), allowed, "{subscription} {class}: {got:?}");
        }
        let refused = check_one_per_class((3, 0), "internet", &[on(5, "internet", NotYetActive)]);
        assert_eq!(
            refused.unwrap_err().to_string(),
            "subscription.unit: unit 3 has service 5 of class internet already: one of a class \
             per unit"
        );
    }

    #[test]
    fn classes_and_units_are_checked() {
        for (class, ok) in [
            ("internet", true),
            ("", true),
            ("Internet", false),
            ("a b", false),
        ] {
            assert_eq!(
                check_class("tariff.service_class", class).is_ok(),
                ok,
                "{class}"
            );
        }
        let unit = |name: &str| Unit {
            name: name.into(),
            ..Unit::default()
        };
        assert!(unit("Dlouhá 12, flat 3").validate().is_ok());
        assert_eq!(unit(" ").validate().unwrap_err().field, "unit.name");
        assert_eq!(
            unit(&"x".repeat(101)).validate().unwrap_err().field,
            "unit.name"
        );
    }
}
