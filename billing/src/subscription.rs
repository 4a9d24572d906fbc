//! Subscriptions: a client's service on a tariff, and its lifecycle (Mango manual:
//! activate_service, pause_service, block_service, cancel_service).
//!
//! # Lifecycle
//! [`transition`] is the whole state machine; [`apply`] applies one on its day (dates, the
//! days not charged, the history line):
//!
//! | from \ transition | Activate | Pause  | Block   | Resume | End   |
//! | ---               | ---      | ---    | ---     | ---    | ---   |
//! | NotYetActive      | Active   | –      | –       | –      | Ended |
//! | Active            | –        | Paused | Blocked | –      | Ended |
//! | Paused            | –        | –      | Blocked | Active | Ended |
//! | Blocked           | –        | –      | –       | Active | Ended |
//! | Ended             | –        | –      | –       | –      | –     |
//!
//! Paused → Blocked is allowed: the operator's block (abuse, debt) may overtake a client's
//! pause. Blocked → Paused is not: a client's request must not replace an operator's block;
//! resume first. Ended is final: a returning client gets a new subscription.

mod commitment;
pub mod expiration;
mod lifecycle;
pub mod transfer;

use chrono::NaiveDate;
use rust_decimal::Decimal;

pub use commitment::Commitment;
pub use lifecycle::{Applied, DatedTransition, LifecycleError, RunningRange, apply};

use crate::FieldError;
use crate::field::{Text, text};
use crate::period::Period;
use crate::schedule::Alignment;

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

impl std::fmt::Display for SubscriptionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an operator (or the daily job, for Activate) does to a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// The service starts working (Mango: Potvrzení; the daily job on the activation date).
    Activate,
    /// Interrupted at the client's request (Mango: Přerušení).
    Pause,
    /// Blocked by the operator (Mango: Blokování).
    Block,
    /// Back to full service after a pause or block.
    Resume,
    /// Cancelled (Mango: Ukončení); final.
    End,
}

impl Transition {
    pub const ALL: [Transition; 5] = [
        Transition::Activate,
        Transition::Pause,
        Transition::Block,
        Transition::Resume,
        Transition::End,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Activate => "activate",
            Transition::Pause => "pause",
            Transition::Block => "block",
            Transition::Resume => "resume",
            Transition::End => "end",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The state the transition leads to, when it is allowed.
    pub fn target(self) -> SubscriptionState {
        match self {
            Transition::Activate | Transition::Resume => SubscriptionState::Active,
            Transition::Pause => SubscriptionState::Paused,
            Transition::Block => SubscriptionState::Blocked,
            Transition::End => SubscriptionState::Ended,
        }
    }
}

/// A transition the state machine refuses; names both states for the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot go from {from} to {to}")]
pub struct TransitionError {
    pub from: SubscriptionState,
    pub to: SubscriptionState,
}

/// The state after `t`, or why it is refused (see the module's table).
pub fn transition(
    from: SubscriptionState,
    t: Transition,
) -> Result<SubscriptionState, TransitionError> {
    use SubscriptionState::{Active, Blocked, Ended, NotYetActive, Paused};
    let allowed = match t {
        Transition::Activate => from == NotYetActive,
        Transition::Pause => from == Active,
        Transition::Block => matches!(from, Active | Paused),
        Transition::Resume => matches!(from, Paused | Blocked),
        Transition::End => from != Ended,
    };
    if allowed {
        Ok(t.target())
    } else {
        Err(TransitionError {
            from,
            to: t.target(),
        })
    }
}

/// What a scheduled change does on its day.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A step of the lifecycle state machine.
    Lifecycle(Transition),
    /// Moves the subscription to another tariff: its days from then on are charged at the
    /// new price (see [`crate::price_change`]) and its logins get the new speed.
    ChangeTariff { tariff: String },
    /// Transfers the service to another client or tariff (see [`transfer`]): the client's
    /// number and the tariff's name it goes to, each empty for the same one.
    Transfer { client: String, tariff: String },
}

impl Action {
    /// The stored and displayed name: a transition's own, `change_tariff` or `transfer`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Lifecycle(t) => t.as_str(),
            Action::ChangeTariff { .. } => "change_tariff",
            Action::Transfer { .. } => "transfer",
        }
    }
}

/// A change asked for a day after today (a pause from next Monday, an end at the end of the
/// month, a faster tariff from the 1st): stored, and applied by the daily job on `effective` as
/// if it were asked then — the state machine decides on that day, from the state of that day.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScheduledChange {
    pub action: Action,
    /// The day it is applied.
    pub effective: NaiveDate,
    /// The request's own day: the first paused or blocked day, the resume day, the activation
    /// day, the first day at the new tariff — all `effective` — or for End the last charged
    /// day (Mango: Platba do).
    pub date: NaiveDate,
    pub billing_suspended: bool,
    pub note: String,
    /// End only: the cancellation-reason code (see [`DatedTransition::reason`]).
    pub reason: String,
}

/// Shifts the end of a fixed-length service (Mango list_size): a service whose end is set
/// ahead — the pending scheduled end `pending` — ends on `to` instead, its last charged day
/// moved by as many days (the gap between access stopping and the last day paid stays). A
/// service without a scheduled end has no fixed length: the caller refuses it. Checked as any
/// scheduled change ([`ScheduledChange::validate`]): `to` lies after `today`.
pub fn shift_end(
    pending: &ScheduledChange,
    to: NaiveDate,
    today: NaiveDate,
) -> Result<ScheduledChange, FieldError> {
    let delta = to - pending.effective;
    let date = pending
        .date
        .checked_add_signed(delta)
        .ok_or_else(|| FieldError::new("date", "out of range"))?;
    let shifted = ScheduledChange {
        effective: to,
        date,
        ..pending.clone()
    };
    shifted.validate(today)?;
    Ok(shifted)
}

/// A reason belongs to an end only, and is a code.
pub(crate) fn check_reason(ends: bool, reason: &str) -> Result<(), FieldError> {
    if !ends && !reason.is_empty() {
        return Err(FieldError::new("reason", "only an end has a reason"));
    }
    text("reason", reason, Text::Identifier)
}

impl ScheduledChange {
    /// Whether it adds anything to the changes `pending` for its subscription, whose tariff
    /// today is `tariff`: the same change for the same day is there already, or a tariff
    /// change moves to the tariff the service will be on that day (found probing from
    /// outside: both were stored, and the second failed on its day).
    pub fn check_against(
        &self,
        pending: &[ScheduledChange],
        tariff: &str,
    ) -> Result<(), FieldError> {
        if pending
            .iter()
            .any(|p| p.action == self.action && p.effective == self.effective)
        {
            return Err(FieldError::new(
                "date",
                format!(
                    "the same change is scheduled for {} already",
                    self.effective
                ),
            ));
        }
        if let Action::ChangeTariff { tariff: next } = &self.action {
            let then = pending
                .iter()
                .filter(|p| p.effective < self.effective)
                .filter_map(|p| match &p.action {
                    Action::ChangeTariff { tariff } => Some((p.effective, tariff.as_str())),
                    _ => None,
                })
                .max_by_key(|(effective, _)| *effective)
                .map_or(tariff, |(_, tariff)| tariff);
            if then == next {
                return Err(FieldError::new(
                    "tariff",
                    format!("the service is on {next} on {} already", self.effective),
                ));
            }
        }
        Ok(())
    }

    /// What can be said of a scheduled change before its day: that it lies ahead, that the
    /// note fits, that only a pause or block suspends billing. Whether it may happen at all
    /// is the state machine's call on the day.
    pub fn validate(&self, today: NaiveDate) -> Result<(), FieldError> {
        if self.effective <= today {
            return Err(FieldError::new(
                "date",
                "a change scheduled for today or earlier is made at once, not scheduled",
            ));
        }
        if self.action != Action::Lifecycle(Transition::End) && self.date != self.effective {
            return Err(FieldError::new(
                "date",
                "takes effect on its own date; only an end has a separate last charged day",
            ));
        }
        text("note", &self.note, Text::Note)?;
        check_reason(
            self.action == Action::Lifecycle(Transition::End),
            &self.reason,
        )?;
        let suspends = matches!(
            self.action,
            Action::Lifecycle(Transition::Pause | Transition::Block)
        );
        if self.billing_suspended && !suspends {
            return Err(FieldError::new(
                "billing_suspended",
                "only a pause or a block suspends billing",
            ));
        }
        if let Action::ChangeTariff { tariff } = &self.action
            && tariff.trim().is_empty()
        {
            return Err(FieldError::new("tariff", "required"));
        }
        Ok(())
    }
}

/// Why a tariff change from `from` is refused, if it is: an ended subscription keeps its
/// tariff, and a change takes effect today or later — days already charged keep their price
/// unless the change falls inside their period.
pub fn check_tariff_change(
    state: SubscriptionState,
    from: NaiveDate,
    today: NaiveDate,
) -> Result<(), TariffChangeError> {
    if state == SubscriptionState::Ended {
        return Err(TariffChangeError::Ended);
    }
    if from < today {
        return Err(TariffChangeError::Backdated);
    }
    Ok(())
}

/// A total price pays for the commitment term (Mango's price kind "total"): a service
/// charged so needs a commitment, whose end closes its one period.
pub fn check_total_price(
    period: Period,
    commitment_until: Option<NaiveDate>,
) -> Result<(), FieldError> {
    if period == Period::Total && commitment_until.is_none() {
        return Err(FieldError::new(
            "commitment",
            "a total price pays for the commitment term: give one (e.g. --commitment 12)",
        ));
    }
    Ok(())
}

/// A tariff change the rules refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TariffChangeError {
    #[error("an ended subscription keeps its tariff")]
    Ended,
    #[error("a tariff change takes effect today or later, not in the past")]
    Backdated,
}

/// Refuses an effective date after `today`. A change takes effect when it is made; it may be
/// backdated (the client called on the 10th) but not scheduled ahead.
pub fn not_in_future(field: &str, date: NaiveDate, today: NaiveDate) -> Result<(), FieldError> {
    if date > today {
        Err(FieldError::new(
            field,
            format!(
                "{date} is in the future (today is {today}); changes apply when made, so give today or an earlier day"
            ),
        ))
    } else {
        Ok(())
    }
}

/// Where a subscription's billing periods start (Mango: perioda vs. plovoucí perioda).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodAlignment {
    /// On the client's billing day, like the client's other services: one invoice date.
    #[default]
    BillingDay,
    /// On the subscription's own billing-from date.
    Floating,
}

impl PeriodAlignment {
    pub const ALL: [PeriodAlignment; 2] = [PeriodAlignment::BillingDay, PeriodAlignment::Floating];

    pub fn as_str(self) -> &'static str {
        match self {
            PeriodAlignment::BillingDay => "billing_day",
            PeriodAlignment::Floating => "floating",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }

    /// The schedule's alignment, given the client's billing day.
    pub fn with_billing_day(self, billing_day: u32) -> Alignment {
        match self {
            PeriodAlignment::BillingDay => Alignment::BillingDay(billing_day),
            PeriodAlignment::Floating => Alignment::Floating,
        }
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
    /// What the service's invoice lines say instead of the tariff's name (Mango "Poznámka na
    /// fakturu", at most 50 characters); empty: the tariff's name.
    pub invoice_note: String,
    pub state: SubscriptionState,
    pub alignment: PeriodAlignment,
    /// Last charged day (Mango: Platba do); set only by [`Transition::End`]. It may lie before
    /// a period already invoiced: the billing run then credits the difference.
    pub end_date: Option<NaiveDate>,
    /// Why it ended: a cancellation-reason code, set by [`Transition::End`]; empty when it
    /// has not ended or no reason was given.
    pub end_reason: String,
    /// The unit (place, connection point) it is delivered to, if the operator keeps units.
    pub unit: Option<i64>,
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
        text("subscription.note", &self.note, Text::Note)?;
        // Mango: an invoice note is at most 50 characters (60 on a later edit; one limit here).
        crate::field::max_len("subscription.invoice_note", &self.invoice_note, 50)?;
        if self.invoice_note.chars().any(char::is_control) {
            return Err(FieldError::new(
                "subscription.invoice_note",
                "one line, no control characters",
            ));
        }
        Ok(())
    }

    /// Moves the dates to the day the service actually started working (Mango: Potvrzení):
    /// the activation date becomes `day`; billing-from follows when it was the activation
    /// date (the default) or would now precede `day`, and otherwise keeps an explicitly later
    /// first charged day (e.g. a free first month).
    pub fn activate_on(&mut self, day: NaiveDate) {
        if self.billing_from == self.activation_date || self.billing_from < day {
            self.billing_from = day;
        }
        self.activation_date = day;
    }
}

/// What a service's invoice lines are called: its invoice note, else its tariff's name.
pub fn line_name<'a>(invoice_note: &'a str, tariff: &'a str) -> &'a str {
    match invoice_note.trim() {
        "" => tariff,
        note => note,
    }
}

/// Checks an end's last charged day (the request field `last_day`), given as of `today`: not
/// in the future (see [`not_in_future`]), and not before the day before billing starts — that
/// day already means nothing is charged, so an earlier one is a typo — unless billing starts
/// after tomorrow, when today is the natural answer for a service cancelled before it began.
pub fn check_end_date(
    end: NaiveDate,
    billing_from: NaiveDate,
    today: NaiveDate,
) -> Result<(), FieldError> {
    not_in_future("last_day", end, today)?;
    let earliest = billing_from.pred_opt().unwrap_or(billing_from).min(today);
    if end < earliest {
        Err(FieldError::new(
            "last_day",
            format!(
                "{end} is before {earliest}: billing starts on {billing_from}, so {earliest} already means nothing is charged"
            ),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(super) fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    /// Found probing from outside: the same pause scheduled twice, and a tariff change to
    /// the tariff the service is on, were both stored; the second failed on its day.
    #[test]
    fn a_scheduled_change_adds_something() {
        let change = |action: Action, d: u32| ScheduledChange {
            action,
            effective: day(d),
            date: day(d),
            billing_suspended: false,
            note: String::new(),
            reason: String::new(),
        };
        let pause = change(Action::Lifecycle(Transition::Pause), 20);
        let to = |tariff: &str, d| {
            change(
                Action::ChangeTariff {
                    tariff: tariff.into(),
                },
                d,
            )
        };
        let pending = [pause.clone(), to("Fast", 25)];
        let refused =
            |c: &ScheduledChange| c.check_against(&pending, "Basic").err().map(|e| e.field);
        assert_eq!(refused(&pause).as_deref(), Some("date"));
        assert_eq!(refused(&to("Basic", 22)).as_deref(), Some("tariff"));
        assert_eq!(refused(&to("Fast", 28)).as_deref(), Some("tariff"));
        // Back to Basic after the move to Fast, a pause another day: welcome.
        assert_eq!(refused(&to("Basic", 28)), None);
        assert_eq!(
            refused(&change(Action::Lifecycle(Transition::Pause), 21)),
            None
        );
    }

    /// An active subscription from 2026-11-15 (also the lifecycle tests' base).
    pub(crate) fn subscription() -> Subscription {
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
            invoice_note: String::new(),
            state: SubscriptionState::Active,
            alignment: PeriodAlignment::BillingDay,
            end_date: None,
            end_reason: String::new(),
            unit: None,
            version: 0,
        }
    }

    #[test]
    fn an_invoice_note_names_the_lines_within_mangos_limit() {
        let cases = [
            ("", "Fiber 100", "Fiber 100"),
            ("  ", "Fiber 100", "Fiber 100"),
            ("Internet Dlouhá 1", "Fiber 100", "Internet Dlouhá 1"),
        ];
        for (note, tariff, named) in cases {
            assert_eq!(line_name(note, tariff), named, "{note:?}");
        }
        let with = |note: &str| Subscription {
            invoice_note: note.into(),
            ..subscription()
        };
        assert!(
            with(&"é".repeat(50)).validate().is_ok(),
            "50 characters, not bytes"
        );
        for bad in ["x".repeat(51), "two\nlines".into()] {
            assert_eq!(
                with(&bad).validate().unwrap_err().field,
                "subscription.invoice_note",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn what_a_scheduled_change_must_say() {
        let change = |t, effective, date, suspended| ScheduledChange {
            action: Action::Lifecycle(t),
            effective: day(effective),
            date: day(date),
            billing_suspended: suspended,
            note: String::new(),
            reason: String::new(),
        };
        let today = day(10);
        #[rustfmt::skip]
        let cases = [
            (change(Transition::Pause, 11, 11, true), None),
            (change(Transition::End, 30, 20, false), None),
            (change(Transition::Resume, 10, 10, false), Some("date")),
            (change(Transition::Pause, 9, 9, false), Some("date")),
            (change(Transition::Pause, 12, 11, false), Some("date")),
            (change(Transition::Resume, 12, 12, true), Some("billing_suspended")),
        ];
        for (c, refused) in cases {
            assert_eq!(
                c.validate(today).err().map(|e| e.field),
                refused.map(str::to_owned),
                "{c:?}"
            );
        }
        for t in Transition::ALL {
            assert_eq!(Transition::parse(t.as_str()), Some(t));
        }
        let to_tariff = |tariff: &str, suspended| ScheduledChange {
            action: Action::ChangeTariff {
                tariff: tariff.into(),
            },
            ..change(Transition::Resume, 11, 11, suspended)
        };
        assert_eq!(to_tariff("Fast", false).validate(today), Ok(()));
        assert_eq!(
            to_tariff(" ", false).validate(today).unwrap_err().field,
            "tariff"
        );
        assert_eq!(
            to_tariff("Fast", true).validate(today).unwrap_err().field,
            "billing_suspended"
        );
    }

    #[test]
    fn a_fixed_end_shifts_with_its_last_charged_day() {
        let end = ScheduledChange {
            action: Action::Lifecycle(Transition::End),
            effective: day(20),
            date: day(18),
            billing_suspended: false,
            note: "contract".into(),
            reason: "moving".into(),
        };
        let today = day(10);
        // Later and earlier, the two days keep their gap; never to today or before.
        let later = shift_end(&end, day(28), today).unwrap();
        assert_eq!((later.effective, later.date), (day(28), day(26)));
        assert_eq!(
            (later.note.as_str(), later.reason.as_str()),
            ("contract", "moving")
        );
        let earlier = shift_end(&end, day(15), today).unwrap();
        assert_eq!((earlier.effective, earlier.date), (day(15), day(13)));
        assert_eq!(shift_end(&end, day(10), today).unwrap_err().field, "date");
    }

    #[test]
    fn when_a_tariff_may_change() {
        use SubscriptionState::*;
        let today = day(10);
        #[rustfmt::skip]
        let cases = [
            (Active, day(10), Ok(())),
            (Paused, day(20), Ok(())),
            (NotYetActive, day(10), Ok(())),
            (Blocked, day(10), Ok(())),
            (Active, day(9), Err(TariffChangeError::Backdated)),
            (Ended, day(20), Err(TariffChangeError::Ended)),
        ];
        for (state, from, want) in cases {
            assert_eq!(
                check_tariff_change(state, from, today),
                want,
                "{state:?} {from}"
            );
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
    fn end_dates() {
        // (last day, billing from, today) -> accepted?
        let table = [
            // Inside or after the charged time, up to today.
            (20, 15, 24, true),
            (24, 15, 24, true),
            (25, 15, 24, false),
            // The day before billing starts: nothing charged. Earlier is a typo.
            (14, 15, 24, true),
            (13, 15, 24, false),
            // Billing starts after tomorrow: today (nothing charged) is fine, earlier is not.
            (24, 28, 24, true),
            (23, 28, 24, false),
        ];
        for (end, billing_from, today, ok) in table {
            let result = check_end_date(day(end), day(billing_from), day(today));
            assert_eq!(
                result.is_ok(),
                ok,
                "{end} {billing_from} {today}: {result:?}"
            );
            if let Err(e) = result {
                assert_eq!(e.field, "last_day");
            }
        }
    }

    #[test]
    fn transitions() {
        use SubscriptionState::{Active, Blocked, Ended, NotYetActive, Paused};
        use Transition::{Activate, Block, End, Pause, Resume};
        // Every (from, transition) pair: the resulting state, or None when refused.
        let table = [
            (NotYetActive, Activate, Some(Active)),
            (NotYetActive, Pause, None),
            (NotYetActive, Block, None),
            (NotYetActive, Resume, None),
            (NotYetActive, End, Some(Ended)),
            (Active, Activate, None),
            (Active, Pause, Some(Paused)),
            (Active, Block, Some(Blocked)),
            (Active, Resume, None),
            (Active, End, Some(Ended)),
            (Paused, Activate, None),
            (Paused, Pause, None),
            (Paused, Block, Some(Blocked)),
            (Paused, Resume, Some(Active)),
            (Paused, End, Some(Ended)),
            (Blocked, Activate, None),
            (Blocked, Pause, None),
            (Blocked, Block, None),
            (Blocked, Resume, Some(Active)),
            (Blocked, End, Some(Ended)),
            (Ended, Activate, None),
            (Ended, Pause, None),
            (Ended, Block, None),
            (Ended, Resume, None),
            (Ended, End, None),
        ];
        assert_eq!(
            table.len(),
            SubscriptionState::ALL.len() * Transition::ALL.len()
        );
        for (from, t, expected) in table {
            assert_eq!(transition(from, t).ok(), expected, "{from} {t:?}");
        }
        assert_eq!(
            transition(Ended, Pause).unwrap_err().to_string(),
            "cannot go from ended to paused"
        );
    }

    #[test]
    fn effective_dates_are_not_in_the_future() {
        assert_eq!(not_in_future("date", day(10), day(10)), Ok(()));
        assert_eq!(not_in_future("date", day(1), day(10)), Ok(()));
        assert_eq!(
            not_in_future("date", day(11), day(10)).unwrap_err().field,
            "date"
        );
    }

    #[test]
    fn activation_moves_the_dates() {
        // (activation, billing_from, activated on) -> (activation, billing_from)
        let table = [
            // Billing-from defaulted to the activation date follows it, earlier or later.
            ((15, 15), 10, (10, 10)),
            ((15, 15), 20, (20, 20)),
            ((15, 15), 15, (15, 15)),
            // An explicitly later first charged day stays unless the service starts after it.
            ((15, 25), 10, (10, 25)),
            ((15, 25), 20, (20, 25)),
            ((15, 25), 28, (28, 28)),
        ];
        for ((activation, billing_from), on, expected) in table {
            let mut s = subscription();
            s.activation_date = day(activation);
            s.billing_from = day(billing_from);
            s.activate_on(day(on));
            assert_eq!(
                (s.activation_date, s.billing_from),
                (day(expected.0), day(expected.1)),
                "{activation}/{billing_from} on {on}"
            );
            assert_eq!(s.validate(), Ok(()));
        }
    }

    #[test]
    fn alignment_names_round_trip() {
        for a in PeriodAlignment::ALL {
            assert_eq!(PeriodAlignment::parse(a.as_str()), Some(a));
        }
        assert_eq!(
            PeriodAlignment::BillingDay.with_billing_day(15),
            Alignment::BillingDay(15)
        );
        assert_eq!(
            PeriodAlignment::Floating.with_billing_day(15),
            Alignment::Floating
        );
    }

    #[test]
    fn state_names_round_trip() {
        for s in SubscriptionState::ALL {
            assert_eq!(SubscriptionState::parse(s.as_str()), Some(s));
        }
    }
}
