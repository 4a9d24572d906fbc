//! Requests from source addresses that are no known NAS: dropped silently (RFC 2865 §3), counted,
//! and reported so that a misconfigured NAS shows up in the journal.
//!
//! A flood from many addresses must cost the valid NASes nothing, so each drop does a bounded,
//! constant amount of work under a short lock, the memory is fixed, and the journal gets one
//! line for the first source after a quiet period and then one summary per period, never a
//! line per source. Distinct sources are counted exactly up to [`EXACT`] addresses (the usual
//! case: one NAS whose address changed) and estimated beyond that by a 256-register
//! HyperLogLog (standard error about 6.5 %). The sketch is written here rather than taken
//! from a crate: it is thirty lines, and a dependency for one log line is not worth it.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a summary is logged while unknown sources keep sending.
pub const PERIOD: Duration = Duration::from_secs(60);
/// Distinct addresses remembered exactly per period (also the examples in the summary).
const EXACT: usize = 16;
/// Addresses named in a summary.
const EXAMPLES: usize = 3;
/// HyperLogLog registers: 2^8, indexed by the top 8 bits of the address's hash.
const REGISTERS: usize = 256;
/// How often the timer looks for a period that is over; bounds how late a summary can be.
const TIMER: Duration = Duration::from_secs(5);

/// What one period saw: the state the log lines are made from. Pure: time comes in.
#[derive(Debug, Clone)]
pub struct Window {
    started: Instant,
    requests: u64,
    exact: Vec<IpAddr>,
    /// More distinct addresses arrived than `exact` holds: the count is the sketch's.
    overflowed: bool,
    registers: [u8; REGISTERS],
    /// The previous period saw no unknown source, so the next one is logged at once.
    quiet: bool,
}

/// One period's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub requests: u64,
    /// Distinct source addresses: exact up to [`EXACT`], an estimate beyond (`estimated`).
    pub sources: u64,
    pub estimated: bool,
    pub examples: Vec<IpAddr>,
    pub seconds: u64,
}

impl Window {
    pub fn new(now: Instant) -> Window {
        Window {
            started: now,
            requests: 0,
            exact: Vec::with_capacity(EXACT),
            overflowed: false,
            registers: [0; REGISTERS],
            quiet: true,
        }
    }

    /// Counts one dropped request. True when it is the first of a period that follows a
    /// quiet one: that source is worth a line of its own right away.
    pub fn record(&mut self, source: IpAddr) -> bool {
        let first = self.requests == 0 && self.quiet;
        self.requests += 1;
        if !self.overflowed && !self.exact.contains(&source) {
            if self.exact.len() < EXACT {
                self.exact.push(source);
            } else {
                self.overflowed = true;
            }
        }
        let mut hasher = DefaultHasher::new();
        source.hash(&mut hasher);
        let hash = hasher.finish();
        let index = (hash >> 56) as usize;
        // The remaining 56 bits, with a stop bit so the rank is at most 57.
        let rank = ((hash << 8) | 0x80).leading_zeros() as u8 + 1;
        self.registers[index] = self.registers[index].max(rank);
        first
    }

    /// Ends the period if it has lasted [`PERIOD`]: its summary when anything arrived.
    pub fn close_if_due(&mut self, now: Instant) -> Option<Summary> {
        let elapsed = now.saturating_duration_since(self.started);
        if elapsed < PERIOD {
            return None;
        }
        let summary = (self.requests > 0).then(|| Summary {
            requests: self.requests,
            sources: if self.overflowed {
                self.estimate().clamp(EXACT as u64 + 1, self.requests)
            } else {
                self.exact.len() as u64
            },
            estimated: self.overflowed,
            examples: self.exact.iter().take(EXAMPLES).copied().collect(),
            seconds: elapsed.as_secs(),
        });
        let quiet = self.requests == 0;
        *self = Window::new(now);
        self.quiet = quiet;
        summary
    }

    /// HyperLogLog (Flajolet et al. 2007) with linear counting for small numbers.
    fn estimate(&self) -> u64 {
        let m = REGISTERS as f64;
        let sum: f64 = self
            .registers
            .iter()
            .map(|&r| 2f64.powi(-i32::from(r)))
            .sum();
        let raw = 0.7213 / (1.0 + 1.079 / m) * m * m / sum;
        let zeros = self.registers.iter().filter(|&&r| r == 0).count();
        let estimate = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        estimate.round() as u64
    }
}

/// The shared bookkeeping: one [`Window`] behind a lock held for a few comparisons.
#[derive(Debug)]
pub struct UnknownSources {
    window: Mutex<Window>,
}

impl UnknownSources {
    pub fn new(now: Instant) -> UnknownSources {
        UnknownSources {
            window: Mutex::new(Window::new(now)),
        }
    }

    /// Counts one dropped request from `source`; logs only the first source after a quiet
    /// period and the summary of a period that is over.
    pub fn dropped(&self, source: IpAddr, now: Instant) {
        let (first, summary) = {
            let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
            let summary = window.close_if_due(now);
            (window.record(source), summary)
        };
        if let Some(summary) = summary {
            log_summary(&summary);
        }
        if first {
            tracing::warn!(%source, "RADIUS request from an unknown NAS dropped; add it with `ispctl nas add` or a [[nas]] table (further unknown sources are summarised once a minute)");
        }
    }

    /// Logs the summary of a period that is over, so the tail of a flood is reported even
    /// when nothing more arrives.
    pub fn flush(&self, now: Instant) {
        let summary = self
            .window
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .close_if_due(now);
        if let Some(summary) = summary {
            log_summary(&summary);
        }
    }

    /// Runs [`UnknownSources::flush`] every few seconds on the current tokio runtime, for as
    /// long as the bookkeeping exists.
    pub fn spawn_timer(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TIMER);
            loop {
                tick.tick().await;
                match weak.upgrade() {
                    Some(sources) => sources.flush(Instant::now()),
                    None => return,
                }
            }
        });
    }
}

fn log_summary(s: &Summary) {
    let examples = s
        .examples
        .iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let about = if s.estimated { "about " } else { "" };
    tracing::warn!(
        requests = s.requests,
        sources = s.sources,
        seconds = s.seconds,
        "{} RADIUS requests from {about}{} unknown NAS addresses dropped in the last {} s, e.g. {examples}",
        s.requests,
        s.sources,
        s.seconds
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn the_first_source_after_quiet_is_logged_then_only_summaries() {
        let t0 = Instant::now();
        let mut w = Window::new(t0);
        assert!(w.record(ip(1)), "first ever: logged at once");
        assert!(!w.record(ip(2)));
        assert!(!w.record(ip(1)));
        assert_eq!(w.close_if_due(t0 + Duration::from_secs(59)), None);
        let s = w.close_if_due(t0 + PERIOD).expect("a summary");
        assert_eq!(
            s,
            Summary {
                requests: 3,
                sources: 2,
                estimated: false,
                examples: vec![ip(1), ip(2)],
                seconds: 60,
            }
        );
        // The next period follows a busy one: its first source waits for the summary.
        let t1 = t0 + PERIOD;
        assert!(!w.record(ip(3)));
        assert_eq!(w.close_if_due(t1 + PERIOD).unwrap().requests, 1);
        // A period with nothing: no summary, and the one after it logs its first source.
        let t2 = t1 + PERIOD;
        assert_eq!(w.close_if_due(t2 + PERIOD), None);
        assert!(w.record(ip(4)));
    }

    #[test]
    fn a_flood_is_estimated_in_fixed_memory() {
        let t0 = Instant::now();
        for distinct in [17u32, 100, 1_000, 20_000, 100_000] {
            let mut w = Window::new(t0);
            for n in 0..distinct {
                w.record(ip(n));
                w.record(ip(n));
            }
            assert!(w.exact.len() <= EXACT);
            let s = w.close_if_due(t0 + PERIOD).unwrap();
            assert_eq!(s.requests, 2 * u64::from(distinct));
            assert!(s.estimated);
            assert_eq!(s.examples, vec![ip(0), ip(1), ip(2)]);
            let error = (s.sources as f64 - f64::from(distinct)).abs() / f64::from(distinct);
            assert!(error < 0.2, "{distinct} sources estimated as {}", s.sources);
        }
    }

    #[test]
    fn up_to_sixteen_sources_are_counted_exactly() {
        let t0 = Instant::now();
        let mut w = Window::new(t0);
        for n in 0..EXACT as u32 {
            w.record(ip(n));
        }
        let s = w.close_if_due(t0 + PERIOD).unwrap();
        assert_eq!((s.sources, s.estimated), (EXACT as u64, false));
    }
}
