//! The read side of accounting: who is online, session history, traffic per day.

use chrono::NaiveDate;

use super::{App, AppResult, field};
use ispd_provisioning::accounting::UsageDelta;
use ispd_provisioning::pool::PoolUsage;

use crate::radius::RadiusService;
use crate::storage::{Page, PageRequest, SessionFilter, SessionRow, UsageDay};

/// The widest date range [`daily_usage`] answers, in days between `from` and `to`.
const MAX_USAGE_SPAN_DAYS: i64 = 366;

/// The address pools ispd hands out itself, with how full each is (memory, not storage).
pub fn pools(radius: &RadiusService) -> Vec<PoolUsage> {
    radius.pool_usage()
}

pub async fn open(
    app: &App<'_>,
    filter: &SessionFilter,
    page: PageRequest,
) -> AppResult<Page<SessionRow>> {
    Ok(app.store.open_sessions(filter, page).await?)
}

/// A login's sessions, newest first.
pub async fn history(
    app: &App<'_>,
    username: &str,
    page: PageRequest,
) -> AppResult<Page<SessionRow>> {
    Ok(app.store.session_history(username, page).await?)
}

/// A login's traffic per day over a span, and in all.
#[derive(Debug)]
pub struct Usage {
    pub days: Vec<UsageDay>,
    /// Held at the counters' limit, as every stored sum is (`UsageDelta::plus`).
    pub total: UsageDelta,
}

/// A login's traffic per day from `from` to `to`, at most [`MAX_USAGE_SPAN_DAYS`] apart.
pub async fn daily_usage(
    app: &App<'_>,
    username: &str,
    (from, to): (NaiveDate, NaiveDate),
) -> AppResult<Usage> {
    if to < from {
        return Err(field(
            "to",
            format!("must not be before from ({from}), got {to}"),
        ));
    }
    let span = (to - from).num_days();
    if span > MAX_USAGE_SPAN_DAYS {
        return Err(field(
            "to",
            format!(
                "at most {MAX_USAGE_SPAN_DAYS} days after from ({from}); {to} is {span} days \
                 after it"
            ),
        ));
    }
    let days = app.store.daily_usage(username, from, to).await?;
    let counted = |n: i64| u64::try_from(n).unwrap_or(0);
    let total = days.iter().fold(UsageDelta::default(), |total, day| {
        total.plus(UsageDelta {
            input_octets: counted(day.input_octets),
            output_octets: counted(day.output_octets),
            session_seconds: counted(day.session_seconds),
        })
    });
    Ok(Usage { days, total })
}
