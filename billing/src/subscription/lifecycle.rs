//! A lifecycle transition applied on its day: what the subscription becomes, which of its
//! days stop or start being charged, and the line its history keeps. [`apply`] is the whole
//! rule; the use case loads the subscription and its running uncharged range, calls it, and
//! storage writes what it returns.
//!
//! Days not charged: a running range (a pause or block with billing suspended) ends the day
//! before the transition's date — for an End on the last charged day — and a range left
//! without days is dropped; a Pause or Block with billing suspended starts a new one on its
//! date.

use chrono::NaiveDate;

use super::{
    Subscription, SubscriptionState, Transition, TransitionError, check_end_date, check_reason,
    not_in_future, transition,
};
use crate::FieldError;
use crate::field::{Text, text};

/// A transition with the day it takes effect, as the operator (or a scheduled change on its
/// day) asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatedTransition {
    pub transition: Transition,
    /// The day it takes effect (not after today); for [`Transition::End`] the last charged
    /// day (Mango: Platba do).
    pub date: NaiveDate,
    /// Pause and Block only: the days from `date` until the resume are not charged.
    pub billing_suspended: bool,
    /// Free text for the history (Mango: ≤255).
    pub note: String,
    /// End only: why the service is cancelled, a code of the cancellation-reason list
    /// (Mango's reason of a termination); empty: none given.
    pub reason: String,
}

impl DatedTransition {
    /// What the request must say before anything is read: a date not ahead of today (End
    /// may name a future last day, refused later by [`check_end_date`] with its own field),
    /// a note within limits, and billing suspended only by a pause or a block.
    pub fn check(&self, today: NaiveDate) -> Result<(), FieldError> {
        if self.transition != Transition::End {
            not_in_future("date", self.date, today)?;
        }
        text("note", &self.note, Text::Note)?;
        check_reason(self.transition == Transition::End, &self.reason)?;
        let restricts = matches!(self.transition, Transition::Pause | Transition::Block);
        if self.billing_suspended && !restricts {
            return Err(FieldError::new(
                "billing_suspended",
                "only a pause or a block suspends billing",
            ));
        }
        Ok(())
    }

    /// The history line: what happened from when, and whether the days are charged.
    fn history_note(&self, to: SubscriptionState) -> String {
        let date = self.date;
        let line = match self.transition {
            Transition::Activate => format!("activated on {date}"),
            Transition::Pause | Transition::Block if self.billing_suspended => {
                format!("{to}, billing suspended from {date}")
            }
            Transition::Pause | Transition::Block => format!("{to} from {date}, still charged"),
            Transition::Resume => format!("resumed on {date}"),
            Transition::End if self.reason.is_empty() => format!("ended, last charged day {date}"),
            Transition::End => format!("ended, last charged day {date}, reason {}", self.reason),
        };
        if self.note.is_empty() {
            line
        } else {
            format!("{line}; {}", self.note)
        }
    }
}

/// What becomes of the running range of days not charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunningRange {
    /// None was running, or it runs on (nothing to write).
    Untouched,
    /// It ends on this day, inclusive.
    EndsOn(NaiveDate),
    /// It would end before it began: it had no day, and goes.
    Dropped,
}

/// A transition the rules allow, as storage is to write it.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub transition: Transition,
    /// The subscription after the transition (state, dates; the version as it was read, for
    /// the optimistic check).
    pub subscription: Subscription,
    pub from: SubscriptionState,
    pub running: RunningRange,
    /// A new range of days not charged, from this day on (a pause or block with billing
    /// suspended).
    pub uncharged_from: Option<NaiveDate>,
    /// The history line.
    pub note: String,
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// The state machine does not allow it from the current state.
    #[error(transparent)]
    Refused(#[from] TransitionError),
    /// A date (or the note) the rules refuse.
    #[error(transparent)]
    Invalid(#[from] FieldError),
}

/// Applies `change` to `s` as of `today`. `running_since` is the first day of the running
/// range of days not charged, if one runs. The checks, in order: the request itself
/// ([`DatedTransition::check`]), the state machine ([`transition`]), the date against the
/// subscription (Activate moves the dates, see [`Subscription::activate_on`]; End's last
/// charged day by [`check_end_date`]; any other not before the activation), the date against
/// the running range, and the result ([`Subscription::validate`]).
pub fn apply(
    s: &Subscription,
    change: &DatedTransition,
    running_since: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Applied, LifecycleError> {
    change.check(today)?;
    let t = change.transition;
    let to = transition(s.state, t)?;
    let mut next = s.clone();
    match t {
        Transition::Activate => next.activate_on(change.date),
        Transition::End => check_end_date(change.date, s.billing_from, today)?,
        _ if change.date < s.activation_date => {
            return Err(FieldError::new(
                "date",
                format!(
                    "{} is before the activation date {}",
                    change.date, s.activation_date
                ),
            )
            .into());
        }
        _ => {}
    }
    let running = match running_since {
        None => RunningRange::Untouched,
        Some(from) => {
            let last = if t == Transition::End {
                change.date
            } else if change.date < from {
                return Err(FieldError::new(
                    "date",
                    format!(
                        "{} is before the running {} with billing suspended began ({from})",
                        change.date, s.state
                    ),
                )
                .into());
            } else {
                change.date.pred_opt().unwrap_or(change.date)
            };
            if last < from {
                RunningRange::Dropped
            } else {
                RunningRange::EndsOn(last)
            }
        }
    };
    if t == Transition::End {
        next.end_date = Some(change.date);
        next.end_reason.clone_from(&change.reason);
    }
    next.state = to;
    next.validate()?;
    Ok(Applied {
        transition: t,
        subscription: next,
        from: s.state,
        running,
        uncharged_from: change.billing_suspended.then_some(change.date),
        note: change.history_note(to),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{day, subscription};
    use super::*;

    const TODAY: u32 = 15;

    fn active_from(d: u32) -> Subscription {
        Subscription {
            id: 7,
            activation_date: day(d),
            billing_from: day(d),
            version: 3,
            ..subscription()
        }
    }

    fn dated(transition: Transition, d: u32, billing_suspended: bool) -> DatedTransition {
        DatedTransition {
            transition,
            date: day(d),
            billing_suspended,
            note: String::new(),
            reason: String::new(),
        }
    }

    fn field_of(result: Result<Applied, LifecycleError>) -> String {
        match result {
            Err(LifecycleError::Invalid(e)) => e.field,
            other => panic!("expected a refused field, got {other:?}"),
        }
    }

    #[test]
    fn the_running_range_and_a_new_one() {
        use RunningRange::{Dropped, EndsOn, Untouched};
        let paused = Subscription {
            state: SubscriptionState::Paused,
            ..active_from(1)
        };
        // (subscription, change, running since) → (running, new range, history line)
        let table = [
            (
                active_from(1),
                dated(Transition::Pause, 10, true),
                None,
                (
                    Untouched,
                    Some(day(10)),
                    "paused, billing suspended from 2026-11-10",
                ),
            ),
            (
                active_from(1),
                dated(Transition::Pause, 10, false),
                None,
                (Untouched, None, "paused from 2026-11-10, still charged"),
            ),
            (
                paused.clone(),
                dated(Transition::Resume, 14, false),
                Some(day(10)),
                (EndsOn(day(13)), None, "resumed on 2026-11-14"),
            ),
            (
                paused.clone(),
                dated(Transition::Resume, 10, false),
                Some(day(10)),
                (Dropped, None, "resumed on 2026-11-10"),
            ),
            (
                paused.clone(),
                dated(Transition::Block, 12, false),
                Some(day(10)),
                (
                    EndsOn(day(11)),
                    None,
                    "blocked from 2026-11-12, still charged",
                ),
            ),
            (
                paused,
                dated(Transition::End, 12, false),
                Some(day(10)),
                (EndsOn(day(12)), None, "ended, last charged day 2026-11-12"),
            ),
        ];
        for (s, change, since, (running, uncharged_from, note)) in table {
            let applied = apply(&s, &change, since, day(TODAY)).unwrap();
            assert_eq!(
                (
                    applied.running,
                    applied.uncharged_from,
                    applied.note.as_str()
                ),
                (running, uncharged_from, note),
                "{change:?} from {since:?}"
            );
            assert_eq!(applied.from, s.state);
            assert_eq!(applied.subscription.state, change.transition.target());
            assert_eq!(applied.subscription.version, s.version, "as read");
        }
    }

    #[test]
    fn refusals_in_order() {
        let s = active_from(5);
        let refused = |change: DatedTransition, since| apply(&s, &change, since, day(TODAY));
        // (change, running since) → the field named
        let table = [
            (dated(Transition::Pause, 16, false), None, "date"),
            (dated(Transition::Pause, 4, false), None, "date"),
            (dated(Transition::Block, 9, false), Some(day(10)), "date"),
            (dated(Transition::End, 30, false), None, "last_day"),
            (dated(Transition::End, 3, false), None, "last_day"),
            (dated(Transition::End, 10, true), None, "billing_suspended"),
        ];
        for (change, since, field) in table {
            assert_eq!(
                field_of(refused(change.clone(), since)),
                field,
                "{change:?}"
            );
        }
        let mut long = dated(Transition::Pause, 10, false);
        long.note = "x".repeat(256);
        assert_eq!(field_of(refused(long, None)), "note");
        assert_eq!(
            refused(dated(Transition::Resume, 10, false), None),
            Err(LifecycleError::Refused(TransitionError {
                from: SubscriptionState::Active,
                to: SubscriptionState::Active,
            }))
        );
    }

    #[test]
    fn activation_and_end_move_the_dates() {
        let planned = Subscription {
            state: SubscriptionState::NotYetActive,
            ..active_from(20)
        };
        let early = apply(
            &planned,
            &dated(Transition::Activate, 14, false),
            None,
            day(TODAY),
        )
        .unwrap()
        .subscription;
        assert_eq!(
            (early.activation_date, early.billing_from),
            (day(14), day(14))
        );
        let mut note = dated(Transition::End, 7, false);
        note.note = "moved away".into();
        let ended = apply(&active_from(1), &note, None, day(TODAY)).unwrap();
        assert_eq!(ended.subscription.end_date, Some(day(7)));
        assert_eq!(ended.note, "ended, last charged day 2026-11-07; moved away");
    }

    #[test]
    fn only_an_end_has_a_reason_and_the_subscription_keeps_it() {
        let with_reason = |t| DatedTransition {
            reason: "moved".into(),
            ..dated(t, 7, false)
        };
        let ended = apply(
            &active_from(1),
            &with_reason(Transition::End),
            None,
            day(TODAY),
        )
        .unwrap();
        assert_eq!(ended.subscription.end_reason, "moved");
        assert_eq!(
            ended.note,
            "ended, last charged day 2026-11-07, reason moved"
        );
        for t in [Transition::Pause, Transition::Block, Transition::Resume] {
            let refused = apply(&active_from(1), &with_reason(t), None, day(TODAY));
            assert!(
                matches!(&refused, Err(LifecycleError::Invalid(f)) if f.field == "reason"),
                "{t:?}: {refused:?}"
            );
        }
    }
}
