//! The accounting model (RFC 2866): how a session's stored state changes when an
//! Accounting-Request arrives, whatever order the NAS's packets arrive in.
//!
//! Rules: a lost Start is recreated from the first Interim or Stop — also when the NAS
//! reused the Acct-Session-Id of a session that is over, if the record's session began after
//! that one stopped (its event time less its Acct-Session-Time), or is another user's; a
//! record of a session that began after the stored one's last record while that one is still
//! open, or another user's, means the NAS reused the id without telling (a reboot whose
//! Accounting-On never came): the stored session is closed as of its last record and the
//! record begins a session of its own ([`SessionChange::Reused`]); a Stop closes; a
//! retransmission or a late packet never moves counters backwards and never counts the same
//! traffic twice; a session the NAS closed is never reopened — but one ispd only presumed
//! closed (no update for `stale_after`: a lost Stop, or a NAS cut off from ispd) is reopened
//! by a later Interim, and takes a later Stop's time and cause, since the NAS has the last
//! word on its own sessions. The daemon stores what [`apply`] decides, in one transaction
//! with the usage delta.

use chrono::{DateTime, Utc};

/// Acct-Status-Type (RFC 2866 §5.1, RFC 2869).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StatusType {
    Start,
    Stop,
    InterimUpdate,
    /// The NAS (re)started: every session it had open is over.
    AccountingOn,
    /// The NAS is shutting down: likewise.
    AccountingOff,
}

impl StatusType {
    pub fn from_code(code: u32) -> Option<StatusType> {
        match code {
            1 => Some(StatusType::Start),
            2 => Some(StatusType::Stop),
            3 => Some(StatusType::InterimUpdate),
            7 => Some(StatusType::AccountingOn),
            8 => Some(StatusType::AccountingOff),
            _ => None,
        }
    }
}

/// Octets and packets in both directions. "Input" is what the NAS received from the
/// subscriber (upload), "output" what it sent to them (download).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Counters {
    pub input_octets: u64,
    pub output_octets: u64,
    pub input_packets: u64,
    pub output_packets: u64,
}

impl Counters {
    /// Per-field maximum: counters only grow within a session.
    fn max(self, other: Counters) -> Counters {
        Counters {
            input_octets: self.input_octets.max(other.input_octets),
            output_octets: self.output_octets.max(other.output_octets),
            input_packets: self.input_packets.max(other.input_packets),
            output_packets: self.output_packets.max(other.output_packets),
        }
    }
}

/// The largest count kept: what the database's BIGINT holds. No session moves 8 EiB, so a
/// counter beyond it is a NAS bug or a hostile packet; it is held at the limit rather than
/// wrapped or allowed to overflow a sum in SQL.
pub const COUNTER_LIMIT: u64 = i64::MAX as u64;

/// Acct-Input-Octets with Acct-Input-Gigawords (RFC 2869 §5.1): the 64-bit count, held at
/// [`COUNTER_LIMIT`].
pub fn octets(low: u32, gigawords: u32) -> u64 {
    ((u64::from(gigawords) << 32) | u64::from(low)).min(COUNTER_LIMIT)
}

/// How far an Event-Timestamp may lie ahead of the arrival: more is a NAS clock that is
/// wrong (or a hostile packet), and a session "started" decades ahead would never go stale.
pub const EVENT_AHEAD_LIMIT: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// How far back an event may lie: a NAS replays its own backlog after an outage (hours,
/// Acct-Delay-Time), but a router without a clock sends 1970.
pub const EVENT_BEHIND_LIMIT: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// When a record's event happened: its Event-Timestamp, "the time that this event occurred
/// on the NAS" (RFC 2869 §5.3), else the arrival less Acct-Delay-Time, which "can be
/// subtracted from the time of arrival" (RFC 2866 §5.2) — never both, as FreeRADIUS reads
/// them (found probing from outside: a Stop delivered two hours late was dated two hours
/// before its own event, before the session's last Interim) — unless that falls outside the
/// window around the arrival that a sane NAS clock allows; then the arrival itself.
pub fn event_time(
    received: DateTime<Utc>,
    event_timestamp: Option<DateTime<Utc>>,
    delay_seconds: u32,
) -> DateTime<Utc> {
    let claimed = event_timestamp
        .unwrap_or_else(|| received - chrono::TimeDelta::seconds(i64::from(delay_seconds)));
    if claimed > received + EVENT_AHEAD_LIMIT || claimed < received - EVENT_BEHIND_LIMIT {
        received
    } else {
        claimed
    }
}

/// The longest Acct-Session-Time believed: a session up for over a year is rarer than a
/// wrapped or garbage counter (2^32 − 1 seconds is 136 years), which would date the session's
/// start to the 1890s and add a century to one day's time online.
pub const SESSION_TIME_LIMIT: u64 = 366 * 24 * 3600;

/// Acct-Session-Time in seconds; beyond [`SESSION_TIME_LIMIT`], taken as not sent (0).
pub fn session_time(seconds: u32) -> u64 {
    Some(u64::from(seconds))
        .filter(|s| *s <= SESSION_TIME_LIMIT)
        .unwrap_or(0)
}

/// An accounting record's Acct-Session-Id or User-Name as text: as sent when it is printable
/// UTF-8, else `0x` and its bytes in hex, so a NAS whose ids are binary is still stored (and
/// matched across its records) instead of dropped and retransmitted forever, and a session
/// whose user name is not text is stored under that name, not none.
pub fn attribute_text(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(text) if !text.chars().any(char::is_control) => text.to_owned(),
        _ => {
            let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
            format!("0x{hex}")
        }
    }
}

/// One Accounting-Request, decoded by the daemon. Serializable so the daemon can spool it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AcctRecord {
    pub status: StatusType,
    pub acct_session_id: String,
    pub username: String,
    /// From our Class attribute ("ispd:<login id>:<accept ms>"), when the NAS echoes it.
    pub login_id: Option<i64>,
    /// When the Accept that began the session was decided, from the same Class.
    #[serde(default)]
    pub accepted_at: Option<DateTime<Utc>>,
    pub framed_ip: Option<std::net::Ipv4Addr>,
    /// Delegated-IPv6-Prefix, else Framed-IPv6-Prefix: the session's prefix, for the pools.
    #[serde(default)]
    pub delegated_prefix: Option<crate::login::Ipv6Prefix>,
    pub calling_station: Option<String>,
    pub nas_port: Option<String>,
    /// When it happened: Event-Timestamp, else arrival, minus Acct-Delay-Time.
    pub event_time: DateTime<Utc>,
    /// When ispd received it, by its own clock (none in a record spooled by a version before
    /// it was kept).
    #[serde(default)]
    pub received_at: Option<DateTime<Utc>>,
    /// Acct-Session-Time.
    pub session_seconds: u64,
    pub counters: Counters,
    pub terminate_cause: Option<String>,
}

impl AcctRecord {
    /// When ispd heard it: its arrival, else (spooled by an older version) its event time.
    pub fn heard_at(&self) -> DateTime<Utc> {
        self.received_at.unwrap_or(self.event_time)
    }
}

/// What is stored about a session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionState {
    /// The User-Name it began under (empty when the NAS sent none).
    pub username: String,
    pub started_at: DateTime<Utc>,
    /// The NAS's time of its latest record.
    pub updated_at: DateTime<Utc>,
    /// When ispd last heard of it (a record that changed it), by ispd's clock: silence for
    /// the stale-session sweep is measured from here, not from the NAS's clock.
    pub heard_at: DateTime<Utc>,
    /// None while the session is open.
    pub stop: Option<Stop>,
    pub session_seconds: u64,
    pub counters: Counters,
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    pub at: DateTime<Utc>,
    /// Acct-Terminate-Cause, as its name.
    pub cause: Option<String>,
    /// Presumed by ispd (the stale-session sweep), not reported by the NAS: a later record
    /// of the session proves it was not over.
    pub presumed: bool,
}

impl Stop {
    /// The end a NAS reported (a Stop, or Accounting-On/Off for all its sessions).
    pub fn reported(at: DateTime<Utc>, cause: Option<String>) -> Stop {
        Stop {
            at,
            cause,
            presumed: false,
        }
    }
}

/// Traffic and time to add to the login's daily usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UsageDelta {
    pub input_octets: u64,
    pub output_octets: u64,
    pub session_seconds: u64,
}

impl UsageDelta {
    pub fn is_zero(&self) -> bool {
        *self == UsageDelta::default()
    }

    /// The sum of two deltas, each field held at [`COUNTER_LIMIT`]: a day's usage never
    /// wraps, whatever the records claim.
    pub fn plus(self, other: UsageDelta) -> UsageDelta {
        let sum = |a: u64, b: u64| a.saturating_add(b).min(COUNTER_LIMIT);
        UsageDelta {
            input_octets: sum(self.input_octets, other.input_octets),
            output_octets: sum(self.output_octets, other.output_octets),
            session_seconds: sum(self.session_seconds, other.session_seconds),
        }
    }

    fn between(old: &SessionState, new: &SessionState) -> UsageDelta {
        UsageDelta {
            input_octets: new
                .counters
                .input_octets
                .saturating_sub(old.counters.input_octets),
            output_octets: new
                .counters
                .output_octets
                .saturating_sub(old.counters.output_octets),
            session_seconds: new.session_seconds.saturating_sub(old.session_seconds),
        }
    }
}

/// The decision for one record against the latest stored session with its NAS and
/// Acct-Session-Id.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionChange {
    /// A new session row (a Start, or a lost Start recreated from Interim/Stop).
    Create {
        session: SessionState,
        usage: UsageDelta,
    },
    /// The existing row changes.
    Update {
        session: SessionState,
        usage: UsageDelta,
    },
    /// The stored session is open, but the record is another session's under its
    /// Acct-Session-Id: the stored one is to be `closed` first, then the record applied
    /// again (it then begins a session of its own).
    Reused { closed: SessionState },
    /// The record is another user's, of a session begun before the stored one (by its
    /// Acct-Session-Time, else its own time): news of an earlier session under the reused Acct-Session-Id (delayed or
    /// retransmitted), which the stored one must not take. It is applied to that session,
    /// found by its user, with [`apply_earlier`].
    Earlier,
    /// Nothing to store (a retransmitted Start, a late packet with nothing new).
    Nothing,
}

/// How much later than an open session's last record another session's start must lie to
/// tell them apart: a retransmission recomputes its event time from Acct-Delay-Time, a second
/// or two off, and a NAS that reboots takes longer than this to offer sessions again.
pub const REUSE_MARGIN: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

/// The cause given to a session ispd closes without the NAS's word (the stale-session sweep,
/// a reused Acct-Session-Id).
pub const PRESUMED_CAUSE: &str = "Lost-Carrier";

/// Applies one Start/Interim/Stop record. (Accounting-On/Off close every open session of
/// the NAS; that is a bulk update the daemon does directly.)
pub fn apply(existing: Option<&SessionState>, record: &AcctRecord) -> SessionChange {
    let start_of_record = record.event_time
        - chrono::Duration::seconds(i64::try_from(record.session_seconds).unwrap_or(i64::MAX / 2));
    match existing {
        None => {
            let session = SessionState {
                username: record.username.clone(),
                started_at: if record.status == StatusType::Start {
                    record.event_time
                } else {
                    start_of_record
                },
                updated_at: record.event_time,
                heard_at: record.heard_at(),
                stop: (record.status == StatusType::Stop)
                    .then(|| Stop::reported(record.event_time, record.terminate_cause.clone())),
                session_seconds: record.session_seconds,
                counters: record.counters,
            };
            let usage = UsageDelta {
                input_octets: record.counters.input_octets,
                output_octets: record.counters.output_octets,
                session_seconds: record.session_seconds,
            };
            SessionChange::Create { session, usage }
        }
        Some(old) => {
            // The NAS reused an Acct-Session-Id after the old session ended: a new session —
            // a Start after the stop, or an Interim or Stop of a session begun after it (its
            // Start lost). Without Acct-Session-Time the record's start is unknown.
            let began_after = |at: DateTime<Utc>| match record.status {
                StatusType::Start => record.event_time > at,
                _ => record.session_seconds > 0 && start_of_record > at,
            };
            let another_user = !record.username.is_empty()
                && !old.username.is_empty()
                && record.username != old.username;
            // Another user's record of a session begun before the stored one: its news.
            if another_user && start_of_record < old.started_at {
                return SessionChange::Earlier;
            }
            match &old.stop {
                Some(stop) if began_after(stop.at) || another_user => return apply(None, record),
                None if another_user || began_after(old.updated_at + REUSE_MARGIN) => {
                    let closed = SessionState {
                        stop: Some(Stop {
                            at: old.updated_at,
                            cause: Some(PRESUMED_CAUSE.to_owned()),
                            presumed: true,
                        }),
                        ..old.clone()
                    };
                    return SessionChange::Reused { closed };
                }
                _ if record.status == StatusType::Start => return SessionChange::Nothing,
                _ => {}
            }
            let mut new = old.clone();
            new.counters = old.counters.max(record.counters);
            new.session_seconds = old.session_seconds.max(record.session_seconds);
            new.updated_at = old.updated_at.max(record.event_time);
            // A presumed stop is as of the last update; anything the NAS says after it
            // outranks it.
            let open = match &old.stop {
                None => true,
                Some(stop) => stop.presumed && record.event_time > stop.at,
            };
            if open {
                new.stop = (record.status == StatusType::Stop).then(|| {
                    Stop::reported(
                        record.event_time.max(old.started_at),
                        record.terminate_cause.clone(),
                    )
                });
            }
            if new == *old {
                return SessionChange::Nothing;
            }
            new.heard_at = old.heard_at.max(record.heard_at());
            let usage = UsageDelta::between(old, &new);
            SessionChange::Update {
                session: new,
                usage,
            }
        }
    }
}

/// Applies a record to the earlier session it belongs to (see [`SessionChange::Earlier`]) as
/// [`apply`] does, except that the session stays closed: a later one has begun under its
/// Acct-Session-Id, so it ended before — when the NAS said, else presumed at its last record.
pub fn apply_earlier(existing: Option<&SessionState>, record: &AcctRecord) -> SessionChange {
    let closed = |mut session: SessionState| {
        if session.stop.is_none() {
            session.stop = Some(Stop {
                at: session.updated_at,
                cause: Some(PRESUMED_CAUSE.to_owned()),
                presumed: true,
            });
        }
        session
    };
    match apply(existing, record) {
        SessionChange::Create { session, usage } => SessionChange::Create {
            session: closed(session),
            usage,
        },
        SessionChange::Update { session, usage } => {
            let session = closed(session);
            if existing == Some(&session) {
                return SessionChange::Nothing;
            }
            SessionChange::Update { session, usage }
        }
        // The earlier session is its user's and closed: neither arises.
        SessionChange::Reused { .. } | SessionChange::Earlier | SessionChange::Nothing => {
            SessionChange::Nothing
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 10, minute, 0).unwrap()
    }

    fn record(
        status: StatusType,
        minute: u32,
        seconds: u64,
        input: u64,
        output: u64,
    ) -> AcctRecord {
        AcctRecord {
            status,
            acct_session_id: "81000001".into(),
            username: "novak".into(),
            login_id: Some(7),
            accepted_at: None,
            framed_ip: None,
            delegated_prefix: None,
            calling_station: None,
            nas_port: None,
            event_time: at(minute),
            received_at: Some(at(minute)),
            session_seconds: seconds,
            counters: Counters {
                input_octets: input,
                output_octets: output,
                input_packets: 0,
                output_packets: 0,
            },
            terminate_cause: (status == StatusType::Stop).then(|| "User-Request".to_owned()),
        }
    }

    fn stored(change: SessionChange) -> (SessionState, UsageDelta) {
        match change {
            SessionChange::Create { session, usage } | SessionChange::Update { session, usage } => {
                (session, usage)
            }
            SessionChange::Nothing | SessionChange::Reused { .. } | SessionChange::Earlier => {
                panic!("expected a change: {change:?}")
            }
        }
    }

    fn stopped_at(s: &SessionState) -> Option<DateTime<Utc>> {
        s.stop.as_ref().map(|stop| stop.at)
    }

    #[test]
    fn start_interim_stop() {
        let (s, u) = stored(apply(None, &record(StatusType::Start, 0, 0, 0, 0)));
        assert_eq!((s.started_at, stopped_at(&s)), (at(0), None));
        assert!(u.is_zero());
        let (s, u) = stored(apply(
            Some(&s),
            &record(StatusType::InterimUpdate, 5, 300, 1000, 5000),
        ));
        assert_eq!(
            u,
            UsageDelta {
                input_octets: 1000,
                output_octets: 5000,
                session_seconds: 300
            }
        );
        let (s, u) = stored(apply(
            Some(&s),
            &record(StatusType::Stop, 7, 420, 1500, 9000),
        ));
        assert_eq!(
            s.stop,
            Some(Stop::reported(at(7), Some("User-Request".into())))
        );
        assert_eq!(
            u,
            UsageDelta {
                input_octets: 500,
                output_octets: 4000,
                session_seconds: 120
            }
        );
    }

    #[test]
    fn retransmissions_and_late_packets_never_count_twice() {
        let (s, _) = stored(apply(None, &record(StatusType::Start, 0, 0, 0, 0)));
        assert_eq!(
            apply(Some(&s), &record(StatusType::Start, 0, 0, 0, 0)),
            SessionChange::Nothing
        );
        let (s, _) = stored(apply(
            Some(&s),
            &record(StatusType::InterimUpdate, 10, 600, 2000, 2000),
        ));
        // An older interim arriving late: nothing moves backwards, nothing is added.
        assert_eq!(
            apply(
                Some(&s),
                &record(StatusType::InterimUpdate, 5, 300, 1000, 1000)
            ),
            SessionChange::Nothing
        );
        let (closed, _) = stored(apply(
            Some(&s),
            &record(StatusType::Stop, 12, 720, 3000, 3000),
        ));
        assert_eq!(
            apply(
                Some(&closed),
                &record(StatusType::Stop, 12, 720, 3000, 3000)
            ),
            SessionChange::Nothing
        );
        // A late interim after the Stop does not reopen the session.
        assert_eq!(
            apply(
                Some(&closed),
                &record(StatusType::InterimUpdate, 11, 660, 2500, 2500)
            ),
            SessionChange::Nothing
        );
    }

    #[test]
    fn lost_start_is_recreated_from_interim_or_stop() {
        let (s, u) = stored(apply(
            None,
            &record(StatusType::InterimUpdate, 10, 600, 100, 200),
        ));
        assert_eq!(
            s.started_at,
            at(0),
            "start = event time - Acct-Session-Time"
        );
        assert_eq!(s.stop, None);
        assert_eq!(u.input_octets, 100);
        let (s, _) = stored(apply(None, &record(StatusType::Stop, 10, 600, 100, 200)));
        assert_eq!((s.started_at, stopped_at(&s)), (at(0), Some(at(10))));
    }

    /// A NAS that rebooted without its Accounting-On reaching ispd offers its session ids
    /// again: a record of a session begun after the open one's last record, or another
    /// user's, closes the open one as of its last record and begins its own. Found probing
    /// from outside: it was merged into the open session, its traffic lost or counted for
    /// another login.
    #[test]
    fn a_session_id_reused_while_the_old_session_is_open_begins_a_new_one() {
        use StatusType::{InterimUpdate, Start};
        let (s, _) = stored(apply(None, &record(Start, 0, 0, 0, 0)));
        let (s, _) = stored(apply(Some(&s), &record(InterimUpdate, 5, 300, 1000, 1000)));
        let other_user = AcctRecord {
            username: "svoboda".into(),
            ..record(Start, 3, 0, 0, 0)
        };
        let table = [
            // (record, another session)
            (record(Start, 20, 0, 0, 0), true),
            // Began at minute 29, after the last record at minute 5.
            (record(InterimUpdate, 30, 60, 500, 500), true),
            (other_user, true),
            // A retransmitted Start, the session's own next Interim, one without a time.
            (record(Start, 0, 0, 0, 0), false),
            (record(InterimUpdate, 10, 600, 2000, 2000), false),
            (record(InterimUpdate, 30, 0, 2000, 2000), false),
        ];
        for (record, reused) in table {
            let change = apply(Some(&s), &record);
            let SessionChange::Reused { closed } = change else {
                assert!(!reused, "{record:?}: {change:?}");
                continue;
            };
            assert!(reused, "{record:?}");
            assert_eq!(
                closed.stop,
                Some(Stop {
                    at: at(5),
                    cause: Some(PRESUMED_CAUSE.into()),
                    presumed: true
                })
            );
            assert_eq!(closed.counters, s.counters, "its traffic kept");
            // Applied again to the closed session, the record begins its own, from nothing.
            let (new, usage) = stored(apply(Some(&closed), &record));
            assert_eq!(
                (new.stop, new.username, usage.input_octets),
                (None, record.username.clone(), record.counters.input_octets)
            );
        }
    }

    #[test]
    fn a_reused_session_id_after_the_stop_is_a_new_session() {
        let (s, _) = stored(apply(None, &record(StatusType::Start, 0, 0, 0, 0)));
        let (closed, _) = stored(apply(Some(&s), &record(StatusType::Stop, 5, 300, 10, 10)));
        assert!(matches!(
            apply(Some(&closed), &record(StatusType::Start, 30, 0, 0, 0)),
            SessionChange::Create { .. }
        ));
    }

    /// The stale-session sweep's stop (as of the last update, cause Lost-Carrier) against
    /// what the NAS says next: a session it still reports is open again, its Stop replaces
    /// the presumed one, and a record from before the sweep's stop changes nothing of it. A
    /// stop the NAS reported is final.
    #[test]
    fn a_presumed_stop_yields_to_what_the_nas_says_after_it() {
        let (open, _) = stored(apply(
            Some(&stored(apply(None, &record(StatusType::Start, 0, 0, 0, 0))).0),
            &record(StatusType::InterimUpdate, 5, 300, 1000, 1000),
        ));
        let presumed = SessionState {
            stop: Some(Stop {
                at: at(5),
                cause: Some("Lost-Carrier".into()),
                presumed: true,
            }),
            ..open.clone()
        };
        let reported = SessionState {
            stop: Some(Stop::reported(at(5), Some("Lost-Carrier".into()))),
            ..open.clone()
        };
        let user_request = Some(Stop::reported(at(40), Some("User-Request".into())));
        let table = [
            // (stored, record, its stop after, traffic added)
            (
                &presumed,
                record(StatusType::InterimUpdate, 30, 1800, 4000, 9000),
                None,
                3000,
            ),
            (
                &presumed,
                record(StatusType::Stop, 40, 2400, 5000, 9000),
                user_request,
                4000,
            ),
            // Late: sent before the sweep's stop (counted, but no proof of life after it).
            (
                &presumed,
                record(StatusType::InterimUpdate, 4, 240, 1500, 1000),
                presumed.stop.clone(),
                500,
            ),
            (
                &reported,
                record(StatusType::InterimUpdate, 30, 1800, 4000, 9000),
                reported.stop.clone(),
                3000,
            ),
            (
                &reported,
                record(StatusType::Stop, 40, 2400, 5000, 9000),
                reported.stop.clone(),
                4000,
            ),
        ];
        for (before, record, stop, input) in table {
            let (after, usage) = stored(apply(Some(before), &record));
            assert_eq!(
                after.stop, stop,
                "{:?} after {:?}",
                record.status, before.stop
            );
            assert_eq!(
                usage.input_octets, input,
                "{:?} after {:?}",
                record.status, before.stop
            );
        }
        // A reused Acct-Session-Id after a presumed stop is a new session, as after any.
        assert!(matches!(
            apply(Some(&presumed), &record(StatusType::Start, 30, 0, 0, 0)),
            SessionChange::Create { .. }
        ));
    }

    /// A NAS reuses Acct-Session-Ids (a counter reset by a reboot): a record of a session
    /// that began after the stored one stopped is a new session even when its Start was lost;
    /// one that began before is the stored session's own late record.
    #[test]
    fn a_reused_session_id_whose_start_was_lost_is_a_new_session() {
        let (s, _) = stored(apply(None, &record(StatusType::Start, 0, 0, 0, 0)));
        let (closed, _) = stored(apply(
            Some(&s),
            &record(StatusType::Stop, 5, 300, 5000, 5000),
        ));
        let presumed = SessionState {
            stop: Some(Stop {
                at: at(5),
                cause: Some("Lost-Carrier".into()),
                presumed: true,
            }),
            ..closed.clone()
        };
        let table = [
            // (stored, record, a new session)
            (
                &closed,
                record(StatusType::InterimUpdate, 30, 540, 300, 4000),
                true,
            ),
            (&closed, record(StatusType::Stop, 30, 600, 400, 4500), true),
            // Began at minute 2, before the stop: a late record of the old session.
            (
                &closed,
                record(StatusType::InterimUpdate, 30, 1680, 6000, 6000),
                false,
            ),
            // No Acct-Session-Time: its start is unknown, so not a new session.
            (
                &closed,
                record(StatusType::InterimUpdate, 30, 0, 300, 4000),
                false,
            ),
            (
                &presumed,
                record(StatusType::InterimUpdate, 30, 540, 300, 4000),
                true,
            ),
            // Began before the presumed stop: the same session, reopened.
            (
                &presumed,
                record(StatusType::InterimUpdate, 30, 1800, 6000, 6000),
                false,
            ),
        ];
        for (before, record, new) in table {
            let change = apply(Some(before), &record);
            assert_eq!(
                matches!(change, SessionChange::Create { .. }),
                new,
                "{:?} {}s after {:?}: {change:?}",
                record.status,
                record.session_seconds,
                before.stop
            );
        }
        // The new session's own traffic, from nothing.
        let (new, usage) = stored(apply(
            Some(&closed),
            &record(StatusType::InterimUpdate, 30, 540, 300, 4000),
        ));
        assert_eq!((new.started_at, new.stop), (at(21), None));
        assert_eq!((usage.input_octets, usage.session_seconds), (300, 540));
    }

    /// The NAS gave novak's id to svoboda; novak's Stop or Interim that arrives after
    /// svoboda's Start is novak's news: it does not touch svoboda's session, and novak's
    /// session takes it and stays closed. Found probing from outside: it closed svoboda's
    /// live session and counted novak's traffic a second time.
    #[test]
    fn a_late_record_of_the_earlier_user_is_that_users_sessions() {
        use StatusType::{InterimUpdate, Start, Stop as StopType};
        let svoboda = |status, minute, seconds| AcctRecord {
            username: "svoboda".into(),
            ..record(status, minute, seconds, 0, 0)
        };
        let (theirs, _) = stored(apply(None, &svoboda(Start, 10, 0)));
        let (mine, _) = stored(apply(None, &record(Start, 0, 0, 0, 0)));
        let (mine, _) = stored(apply(Some(&mine), &record(InterimUpdate, 5, 300, 100, 100)));
        // Closed when svoboda's Start came, as of its last record.
        let SessionChange::Reused { closed: mine } = apply(Some(&mine), &svoboda(Start, 10, 0))
        else {
            panic!("svoboda's Start closes novak's open session");
        };
        let table = [
            // (novak's record, what the latest session — svoboda's — makes of it)
            (record(StopType, 10, 600, 200, 200), true),
            (record(InterimUpdate, 8, 480, 150, 150), true),
            // Began after svoboda's: novak's new session, which closes svoboda's.
            (record(Start, 20, 0, 0, 0), false),
            (record(InterimUpdate, 30, 300, 10, 10), false),
        ];
        for (record, earlier) in table {
            let change = apply(Some(&theirs), &record);
            assert_eq!(
                change == SessionChange::Earlier,
                earlier,
                "{record:?}: {change:?}"
            );
        }
        // novak's late Stop: its time, cause and traffic, the 100 octets beyond the Interim.
        let (stopped, usage) = stored(apply_earlier(
            Some(&mine),
            &record(StopType, 10, 600, 200, 200),
        ));
        assert_eq!(stopped_at(&stopped), Some(at(10)));
        assert!(!stopped.stop.as_ref().unwrap().presumed);
        assert_eq!((usage.input_octets, usage.session_seconds), (100, 300));
        // A late Interim adds its traffic and leaves the session closed at its last record.
        let (late, usage) = stored(apply_earlier(
            Some(&mine),
            &record(InterimUpdate, 8, 480, 150, 150),
        ));
        assert_eq!(stopped_at(&late), Some(at(8)));
        assert!(late.stop.as_ref().unwrap().presumed);
        assert_eq!(usage.input_octets, 50);
        // Retransmitted: nothing more.
        assert_eq!(
            apply_earlier(Some(&late), &record(InterimUpdate, 8, 480, 150, 150)),
            SessionChange::Nothing
        );
        // novak's session never stored (its records lost): created closed.
        let (created, usage) = stored(apply_earlier(
            None,
            &record(InterimUpdate, 8, 480, 150, 150),
        ));
        assert_eq!(
            (created.started_at, stopped_at(&created)),
            (at(0), Some(at(8)))
        );
        assert_eq!(usage.input_octets, 150);
    }

    #[test]
    fn an_implausible_session_time_is_taken_as_not_sent() {
        assert_eq!(session_time(0), 0);
        assert_eq!(session_time(3600), 3600);
        let year = u32::try_from(SESSION_TIME_LIMIT).unwrap();
        assert_eq!(session_time(year), SESSION_TIME_LIMIT);
        assert_eq!(session_time(year + 1), 0);
        assert_eq!(session_time(u32::MAX), 0);
    }

    #[test]
    fn gigawords_extend_the_counters() {
        assert_eq!(octets(5, 0), 5);
        assert_eq!(octets(0, 1), 1 << 32);
        assert_eq!(octets(u32::MAX, 2), (2 << 32) + u64::from(u32::MAX));
        // Beyond what storage holds: held at the limit, never wrapped.
        assert_eq!(octets(u32::MAX, u32::MAX), COUNTER_LIMIT);
        assert_eq!(octets(u32::MAX, 1 << 31), COUNTER_LIMIT);
        assert_eq!(octets(u32::MAX, (1 << 31) - 1), COUNTER_LIMIT);
    }

    #[test]
    fn usage_sums_saturate_at_the_limit() {
        let big = UsageDelta {
            input_octets: COUNTER_LIMIT,
            output_octets: 1 << 62,
            session_seconds: 10,
        };
        let table = [
            (big, big, COUNTER_LIMIT, COUNTER_LIMIT, 20),
            (big, UsageDelta::default(), COUNTER_LIMIT, 1 << 62, 10),
            (
                UsageDelta {
                    input_octets: u64::MAX,
                    ..big
                },
                big,
                COUNTER_LIMIT,
                COUNTER_LIMIT,
                20,
            ),
        ];
        for (a, b, input, output, seconds) in table {
            let sum = a.plus(b);
            assert_eq!(
                (sum.input_octets, sum.output_octets, sum.session_seconds),
                (input, output, seconds),
                "{a:?} + {b:?}"
            );
        }
    }

    #[test]
    fn event_time_is_kept_within_a_sane_window() {
        let now = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
        let table = [
            // (Event-Timestamp, Acct-Delay-Time, expected)
            (None, 0, now),
            (None, 90, now - chrono::TimeDelta::seconds(90)),
            (
                Some(now - chrono::TimeDelta::hours(3)),
                0,
                now - chrono::TimeDelta::hours(3),
            ),
            // Delivered two hours late: the delay is in the arrival, not in the event.
            (
                Some(now - chrono::TimeDelta::hours(2)),
                7200,
                now - chrono::TimeDelta::hours(2),
            ),
            (
                Some(now + chrono::TimeDelta::minutes(2)),
                0,
                now + chrono::TimeDelta::minutes(2),
            ),
            // Decades ahead (a hostile or broken clock): the arrival.
            (
                Some(Utc.with_ymd_and_hms(2090, 1, 1, 0, 0, 0).unwrap()),
                0,
                now,
            ),
            // A router without a clock (1970): the arrival.
            (Some(DateTime::<Utc>::UNIX_EPOCH), 0, now),
            // A delay of a century: the arrival.
            (None, u32::MAX, now),
        ];
        for (event, delay, expected) in table {
            assert_eq!(
                event_time(now, event, delay),
                expected,
                "{event:?} - {delay}s"
            );
        }
    }

    #[test]
    fn session_ids_and_user_names_that_are_not_text_are_kept_in_hex() {
        assert_eq!(attribute_text(b"81a00002"), "81a00002");
        assert_eq!(attribute_text(&[0xff, 0xfe, 0x01]), "0xfffe01");
        assert_eq!(attribute_text(b"a\0b"), "0x610062");
        assert_eq!(attribute_text(b"line\nbreak"), "0x6c696e650a627265616b");
    }

    #[test]
    fn status_types_by_code() {
        assert_eq!(StatusType::from_code(3), Some(StatusType::InterimUpdate));
        assert_eq!(StatusType::from_code(9), None);
    }
}
