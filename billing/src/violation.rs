//! Violation notices (BILLmanager "Нарушение"): the operator tells a client of a breach of
//! the terms — abuse reports, spam from the CPE, a shared account, anything, not only debt —
//! with a deadline to put it right and penalty points kept on the client. A notice that
//! stops services and is still open when its deadline has passed blocks every active
//! service of the client; resolving it later gives back the services it blocked.

use chrono::NaiveDate;

use crate::FieldError;
use crate::field::{Text, require, text};

/// The most penalty points one notice carries.
pub const MAX_POINTS: u32 = 1000;

/// A notice as the operator writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    /// What the client did (at most 255 characters); the client is told it.
    pub reason: String,
    /// The last day to react.
    pub deadline: NaiveDate,
    pub points: u32,
    /// Whether an unanswered notice blocks the client's services after its deadline.
    pub stop_services: bool,
}

impl NewNotice {
    /// What the notice must say, as of `today`: a reason, a deadline not in the past, a
    /// bounded number of points.
    pub fn check(&self, today: NaiveDate) -> Result<(), FieldError> {
        require("reason", &self.reason)?;
        text("reason", &self.reason, Text::Note)?;
        if self.deadline < today {
            return Err(FieldError::new(
                "deadline",
                format!("{} is in the past (today is {today})", self.deadline),
            ));
        }
        if self.points > MAX_POINTS {
            return Err(FieldError::new("points", format!("at most {MAX_POINTS}")));
        }
        Ok(())
    }
}

/// Where a notice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeState {
    /// Waiting for the client's reaction.
    Open,
    /// The deadline passed unanswered: the client's services were blocked on that day.
    Enforced(NaiveDate),
    /// Put right (or withdrawn) on that day.
    Resolved(NaiveDate),
}

impl NoticeState {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeState::Open => "open",
            NoticeState::Enforced(_) => "enforced",
            NoticeState::Resolved(_) => "resolved",
        }
    }
}

/// A notice as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub id: i64,
    pub client_number: String,
    pub issued_on: NaiveDate,
    pub notice: NewNotice,
    pub state: NoticeState,
    /// What resolved it (the operator's note).
    pub resolution: String,
    /// The subscriptions its enforcement blocked, given back when it is resolved.
    pub blocked: Vec<i64>,
}

/// Whether `notice` blocks its client's services on `today`: it stops services, it is still
/// open, and its deadline has passed.
pub fn due(notice: &Notice, today: NaiveDate) -> bool {
    notice.state == NoticeState::Open
        && notice.notice.stop_services
        && notice.notice.deadline < today
}

/// Why a notice cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("violation notice {id} was resolved on {on} already")]
pub struct AlreadyResolved {
    pub id: i64,
    pub on: NaiveDate,
}

/// Resolving `notice` on `today`: it is resolved, and the services its enforcement blocked
/// (if any) are to be given back.
pub fn resolve(notice: &Notice, today: NaiveDate) -> Result<NoticeState, AlreadyResolved> {
    match notice.state {
        NoticeState::Resolved(on) => Err(AlreadyResolved { id: notice.id, on }),
        NoticeState::Open | NoticeState::Enforced(_) => Ok(NoticeState::Resolved(today)),
    }
}

/// A client's penalty points: every notice's, resolved or not (a resolved breach still
/// happened).
pub fn points(notices: &[Notice]) -> u32 {
    notices.iter().map(|n| n.notice.points).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn notice(state: NoticeState, stop_services: bool) -> Notice {
        Notice {
            id: 7,
            client_number: "1001".into(),
            issued_on: day(1),
            notice: NewNotice {
                reason: "spam from the CPE".into(),
                deadline: day(10),
                points: 5,
                stop_services,
            },
            state,
            resolution: String::new(),
            blocked: Vec::new(),
        }
    }

    #[test]
    fn a_notice_says_what_and_by_when() {
        let new = notice(NoticeState::Open, true).notice;
        let cases = [
            (new.clone(), day(10), None),
            (
                NewNotice {
                    reason: " ".into(),
                    ..new.clone()
                },
                day(1),
                Some("reason"),
            ),
            (
                NewNotice {
                    reason: "x".repeat(256),
                    ..new.clone()
                },
                day(1),
                Some("reason"),
            ),
            (new.clone(), day(11), Some("deadline")),
            (
                NewNotice {
                    points: MAX_POINTS + 1,
                    ..new
                },
                day(1),
                Some("points"),
            ),
        ];
        for (new, today, refused) in cases {
            let got = new.check(today).err().map(|e| e.field);
            assert_eq!(got.as_deref(), refused, "{new:?} on {today}");
        }
    }

    #[test]
    fn an_open_notice_that_stops_services_is_due_the_day_after_its_deadline() {
        let cases = [
            // (state, stops services, today) → due
            (NoticeState::Open, true, day(10), false),
            (NoticeState::Open, true, day(11), true),
            (NoticeState::Open, false, day(11), false),
            (NoticeState::Enforced(day(11)), true, day(12), false),
            (NoticeState::Resolved(day(9)), true, day(12), false),
        ];
        for (state, stops, today, expected) in cases {
            assert_eq!(
                due(&notice(state, stops), today),
                expected,
                "{state:?} {stops} {today}"
            );
        }
    }

    #[test]
    fn resolving_and_points() {
        assert_eq!(
            resolve(&notice(NoticeState::Enforced(day(11)), true), day(12)),
            Ok(NoticeState::Resolved(day(12)))
        );
        assert_eq!(
            resolve(&notice(NoticeState::Resolved(day(9)), true), day(12))
                .unwrap_err()
                .to_string(),
            "violation notice 7 was resolved on 2026-12-09 already"
        );
        let notices = [
            notice(NoticeState::Open, true),
            notice(NoticeState::Resolved(day(9)), false),
        ];
        assert_eq!(points(&notices), 10);
    }
}
