//! Receive-to-reply latency of the RADIUS ports as fixed-bucket histograms.
//!
//! Our own rather than the `metrics` crate's: its Prometheus histograms keep every sample
//! until a scrape reads them, which at 100,000 requests a second — or with no scraper at all —
//! grows without bound. Here a request costs one clock read more and two relaxed atomic adds,
//! nothing allocated, nothing locked; the scrape renders the buckets as Prometheus text.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds in seconds: an answer from memory takes tens of microseconds, an accounting
/// reply waits for its group commit (milliseconds), a spooled one for an fsync.
const BOUNDS: [f64; 14] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 3.0,
];

/// One histogram: a count per bucket (the last is +Inf) and the sum.
pub struct Latency {
    counts: [AtomicU64; BOUNDS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_nanos: AtomicU64::new(0),
        }
    }
}

impl Latency {
    pub fn record(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = BOUNDS.partition_point(|&bound| bound < seconds);
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Appends the Prometheus text of this histogram, named `name`, to `out`.
    pub fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0u64;
        for (i, count) in self.counts.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            match BOUNDS.get(i) {
                Some(bound) => {
                    let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
                }
                None => {
                    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
                }
            }
        }
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {cumulative}");
    }
}

/// The two ports' histograms.
#[derive(Default)]
pub struct Latencies {
    /// Access-Request (and Status-Server) received → reply sent.
    pub auth: Latency,
    /// Accounting-Request received → Accounting-Response sent, after its commit or spool.
    pub acct: Latency,
}

impl Latencies {
    pub fn render(&self, out: &mut String) {
        self.auth.render(
            "ispd_radius_auth_latency_seconds",
            "Access-Request received to reply sent.",
            out,
        );
        self.acct.render(
            "ispd_radius_acct_latency_seconds",
            "Accounting-Request received to Accounting-Response sent (after the record is committed or spooled).",
            out,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_land_in_their_bucket_and_render_cumulatively() {
        let l = Latency::default();
        l.record(Duration::from_micros(30));
        l.record(Duration::from_micros(50));
        l.record(Duration::from_millis(2));
        l.record(Duration::from_secs(10));
        let mut text = String::new();
        l.render("x_seconds", "help", &mut text);
        assert!(text.contains("# TYPE x_seconds histogram\n"), "{text}");
        // 50 µs is at its bound: it counts in `le="0.00005"` (Prometheus buckets are ≤).
        assert!(
            text.contains("x_seconds_bucket{le=\"0.00005\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("x_seconds_bucket{le=\"0.001\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("x_seconds_bucket{le=\"0.0025\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("x_seconds_bucket{le=\"3\"} 3\n"), "{text}");
        assert!(text.contains("x_seconds_bucket{le=\"+Inf\"} 4\n"), "{text}");
        assert!(text.contains("x_seconds_count 4\n"), "{text}");
        let sum: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("x_seconds_sum "))
            .and_then(|v| v.parse().ok())
            .unwrap();
        assert!((sum - 10.00208).abs() < 1e-9, "{sum}");
    }
}
