//! Requests per second over the last minute, for `ispctl system status`: two tallies the
//! receive loops bump beside their Prometheus counters (which cannot be read back), sampled
//! every few seconds. A dashboard takes its rates from the counters; an operator at the
//! console gets these.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How far back a rate looks.
const WINDOW: Duration = Duration::from_secs(60);

/// Datagrams received on the auth and the accounting ports, and samples of both.
#[derive(Debug, Default)]
pub struct Rates {
    auth: AtomicU64,
    acct: AtomicU64,
    samples: Mutex<VecDeque<Sample>>,
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    auth: u64,
    acct: u64,
}

/// Requests per second, averaged over the last minute (or since the first sample).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerSecond {
    pub auth: f64,
    pub acct: f64,
}

impl Rates {
    pub fn auth_received(&self) {
        self.auth.fetch_add(1, Ordering::Relaxed);
    }

    pub fn acct_received(&self) {
        self.acct.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes a sample at `now` and forgets those a window older than the next-oldest.
    pub fn sample(&self, now: Instant) {
        let sample = self.now(now);
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        while samples.len() > 1 && samples[1].at + WINDOW <= now {
            samples.pop_front();
        }
        samples.push_back(sample);
    }

    /// The rates from the oldest sample within the last minute to `now`; zero before any.
    pub fn per_second(&self, now: Instant) -> PerSecond {
        let current = self.now(now);
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let Some(from) = samples
            .iter()
            .find(|s| s.at + WINDOW >= now)
            .or(samples.back())
        else {
            return PerSecond {
                auth: 0.0,
                acct: 0.0,
            };
        };
        let seconds = now.duration_since(from.at).as_secs_f64();
        if seconds <= 0.0 {
            return PerSecond {
                auth: 0.0,
                acct: 0.0,
            };
        }
        PerSecond {
            auth: (current.auth - from.auth) as f64 / seconds,
            acct: (current.acct - from.acct) as f64 / seconds,
        }
    }

    fn now(&self, at: Instant) -> Sample {
        Sample {
            at,
            auth: self.auth.load(Ordering::Relaxed),
            acct: self.acct.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_of_samples_makes_the_rate() {
        let rates = Rates::default();
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert_eq!(
            rates.per_second(at(0)),
            PerSecond {
                auth: 0.0,
                acct: 0.0
            }
        );
        rates.sample(at(0));
        for _ in 0..600 {
            rates.auth_received();
        }
        rates.acct_received();
        rates.sample(at(30));
        // Since the first sample, 30 s ago.
        assert_eq!(
            rates.per_second(at(30)),
            PerSecond {
                auth: 20.0,
                acct: 1.0 / 30.0
            }
        );
        // Ninety seconds on, with 1,200 more: only the last minute counts.
        for _ in 0..1200 {
            rates.auth_received();
        }
        rates.sample(at(60));
        rates.sample(at(90));
        assert_eq!(rates.per_second(at(90)).auth, 1200.0 / 60.0);
        // Idle since: the rate falls to nothing once the minute has passed.
        rates.sample(at(150));
        rates.sample(at(155));
        assert_eq!(rates.per_second(at(155)).auth, 0.0);
    }
}
