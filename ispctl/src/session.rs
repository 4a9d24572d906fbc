//! `ispctl session …` and `ispctl usage`: the read side of RADIUS accounting.
//!
//! Directions in tables are the subscriber's: DOWN (download) is RADIUS "output" (what the NAS
//! sent to the subscriber), UP (upload) is RADIUS "input". `--json` keeps the API's field names
//! (`input_octets`, `output_octets`) and exact numbers; tables show decimal units (1 GB =
//! 10^9 bytes), as line speeds and traffic are quoted.

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use ispd_admin_proto::v1::{
    DailyUsageRequest, ListOpenSessionsRequest, Session, SessionHistoryRequest,
};

use crate::args;
use crate::connect::Api;
use crate::message;
use crate::output::{Out, Record, Table};
use crate::paging::{self, PageArgs};

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Who is online: sessions the NAS has not reported as stopped, oldest first.
    ///
    /// DURATION is the time since the session started (by this machine's clock); the NAS's
    /// own count, which lags by up to the interim interval, is `duration_seconds` in --json.
    List {
        /// Only this client's sessions (client number).
        #[arg(long, value_name = "NUMBER")]
        client: Option<String>,
        /// Only sessions of this username.
        #[arg(long, value_name = "USERNAME")]
        login: Option<String>,
        /// Only sessions on this NAS.
        #[arg(long, value_name = "NAME")]
        nas: Option<String>,
        /// Only the session with this framed IP address.
        #[arg(long, value_name = "ADDRESS")]
        ip: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// A login's sessions, open and closed, newest first.
    ///
    /// DURATION is the NAS's Acct-Session-Time for closed sessions and the time since the
    /// start for open ones.
    History {
        /// Username.
        login: String,
        #[command(flatten)]
        page: PageArgs,
    },
    /// End online sessions with a Disconnect-Request to their NAS (RFC 5176), and show what
    /// each NAS answered.
    Disconnect {
        /// The session's id (as `session list` shows it).
        #[arg(required_unless_present = "login", conflicts_with = "login")]
        session: Option<i64>,
        /// Every online session of this login instead (username).
        #[arg(long, value_name = "USERNAME")]
        login: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct UsageArgs {
    /// Username.
    login: String,
    /// First day, YYYY-MM-DD.
    #[arg(long, value_parser = args::date, value_name = "DATE")]
    from: String,
    /// Last day (inclusive), YYYY-MM-DD; at most 366 days after --from.
    #[arg(long, value_parser = args::date, value_name = "DATE")]
    to: String,
}

pub async fn run(cmd: Cmd, api: &mut Api<'_>, out: Out) -> Result<()> {
    let mut svc = api.sessions().await?;
    match cmd {
        Cmd::Disconnect { session, login } => {
            crate::enforcement::disconnect(session, login, api, out).await
        }
        Cmd::List {
            client,
            login,
            nas,
            ip,
            page,
        } => {
            let page = paging::collect(&page, async |page| {
                let resp = svc
                    .list_open_sessions(ListOpenSessionsRequest {
                        page: Some(page),
                        client_number: client.clone().unwrap_or_default(),
                        username: login.clone().unwrap_or_default(),
                        nas: nas.clone().unwrap_or_default(),
                        framed_ip: ip.clone().unwrap_or_default(),
                    })
                    .await?
                    .into_inner();
                Ok((resp.sessions, resp.next_page_token))
            })
            .await?;
            out.pages(&page, message::record, online_table)
        }
        Cmd::History { login, page } => {
            let page = paging::collect(&page, async |page| {
                let resp = svc
                    .session_history(SessionHistoryRequest {
                        username: login.clone(),
                        page: Some(page),
                    })
                    .await?
                    .into_inner();
                Ok((resp.sessions, resp.next_page_token))
            })
            .await?;
            out.pages(&page, message::record, history_table)
        }
    }
}

pub async fn usage(a: UsageArgs, api: &mut Api<'_>, out: Out) -> Result<()> {
    let resp = api
        .sessions()
        .await?
        .daily_usage(DailyUsageRequest {
            username: a.login.clone(),
            from: a.from.clone(),
            to: a.to.clone(),
        })
        .await?
        .into_inner();
    let asked = Record::new()
        .str("username", &a.login)
        .str("from", &a.from)
        .str("to", &a.to);
    let json = message::record(&resp).replacing(asked).to_json();
    let total = [
        "TOTAL".to_owned(),
        bytes(resp.total_output_octets),
        bytes(resp.total_input_octets),
        hms(resp.total_session_seconds),
    ];
    let days = resp.days.iter().map(|d| {
        [
            d.day.clone(),
            bytes(d.output_octets),
            bytes(d.input_octets),
            hms(d.session_seconds),
        ]
    });
    let t = Table::of(
        ["DAY", "DOWNLOAD", "UPLOAD", "TIME"],
        days.chain(std::iter::once(total)),
    );
    out.value(t.render().trim_end(), json)
}

fn online_table(sessions: &[Session]) -> Table {
    let now = Utc::now();

    Table::of(
        [
            "USERNAME", "CLIENT", "NAS", "IP", "MAC", "STARTED", "DURATION", "DOWN", "UP",
        ],
        sessions.iter().map(|s| {
            [
                s.username.clone(),
                s.client_number.clone(),
                s.nas.clone(),
                s.framed_ip.clone(),
                s.calling_station.clone(),
                short_time(&s.started_at),
                hms(shown_duration(s, now)),
                bytes(s.output_octets),
                bytes(s.input_octets),
            ]
        }),
    )
}

fn history_table(sessions: &[Session]) -> Table {
    let now = Utc::now();

    Table::of(
        [
            "STARTED", "STOPPED", "DURATION", "DOWN", "UP", "NAS", "IP", "CAUSE",
        ],
        sessions.iter().map(|s| {
            let stopped = if s.stopped_at.is_empty() {
                "online".to_owned()
            } else {
                short_time(&s.stopped_at)
            };
            [
                short_time(&s.started_at),
                stopped,
                hms(shown_duration(s, now)),
                bytes(s.output_octets),
                bytes(s.input_octets),
                s.nas.clone(),
                s.framed_ip.clone(),
                s.terminate_cause.clone(),
            ]
        }),
    )
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// RFC 3339 UTC to the second, `2026-11-24T10:00:00Z`; unparsable text is shown as it is.
fn short_time(text: &str) -> String {
    parse_time(text).map_or_else(
        || text.to_owned(),
        |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

/// The NAS's count for a closed session; for an open one the time since its start, which
/// does not lag like the NAS's count (never less than that count, in case of clock skew).
fn shown_duration(s: &Session, now: DateTime<Utc>) -> u64 {
    if !s.stopped_at.is_empty() {
        return s.duration_seconds;
    }
    parse_time(&s.started_at)
        .and_then(|started| u64::try_from((now - started).num_seconds()).ok())
        .map_or(s.duration_seconds, |elapsed| {
            elapsed.max(s.duration_seconds)
        })
}

/// `h:mm:ss`, hours unbounded (a week online is `168:00:00`).
fn hms(seconds: u64) -> String {
    format!(
        "{}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// Bytes in decimal units with one decimal: `512 B`, `1.2 GB`.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["kB", "MB", "GB", "TB", "PB", "EB"];
    if n < 1000 {
        return format!("{n} B");
    }
    // f64's 53 bits are plenty at one decimal.
    let mut value = n as f64 / 1000.0;
    let mut unit = 0;
    // 999.96 kB would print as "1000.0 kB": move up before rounding does.
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_human() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1000), "1.0 kB");
        assert_eq!(bytes(1_234_567_890), "1.2 GB");
        assert_eq!(bytes(999_960), "1.0 MB");
        assert_eq!(bytes(u64::MAX), "18.4 EB");
    }

    #[test]
    fn durations() {
        assert_eq!(hms(0), "0:00:00");
        assert_eq!(hms(3_725), "1:02:05");
        assert_eq!(hms(7 * 86_400), "168:00:00");
        let now = parse_time("2026-11-24T12:00:00Z").unwrap();
        let mut s = Session {
            started_at: "2026-11-24T10:00:00.000000Z".into(),
            duration_seconds: 3_600,
            ..Session::default()
        };
        assert_eq!(shown_duration(&s, now), 7_200, "open: time since start");
        s.stopped_at = "2026-11-24T11:00:00.000000Z".into();
        assert_eq!(shown_duration(&s, now), 3_600, "closed: the NAS's count");
        s.stopped_at.clear();
        s.started_at = "2026-11-24T13:00:00Z".into();
        assert_eq!(shown_duration(&s, now), 3_600, "start in the future");
        assert_eq!(
            short_time("2026-11-24T10:00:00.123456Z"),
            "2026-11-24T10:00:00Z"
        );
        assert_eq!(short_time("garbage"), "garbage");
    }
}
