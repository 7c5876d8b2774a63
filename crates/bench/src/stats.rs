//! Latency histograms (HDR, microseconds) shared by many tasks, and their JSON summary.

use hdrhistogram::Histogram;
use serde_json::{Value, json};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// One clock for every timestamp a payload carries: monotonic, and shared by senders and
/// receivers because they live in this one process.
pub fn now_ns() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

fn new_hist() -> Histogram<u64> {
    // 1 µs .. 10 min at 3 significant digits; bounds are constants, so this cannot fail.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("constant, valid bounds")
}

/// A histogram split into shards so thousands of receiver tasks rarely wait on one lock.
pub struct Latencies {
    shards: Vec<Mutex<Histogram<u64>>>,
}

impl Default for Latencies {
    fn default() -> Self {
        Self {
            shards: (0..16).map(|_| Mutex::new(new_hist())).collect(),
        }
    }
}

impl Latencies {
    pub fn record_us(&self, shard: usize, us: u64) {
        if let Ok(mut h) = self.shards[shard % self.shards.len()].lock() {
            h.saturating_record(us.max(1));
        }
    }

    pub fn merged(&self) -> Histogram<u64> {
        let mut all = new_hist();
        for s in &self.shards {
            if let Ok(h) = s.lock() {
                let _ = all.add(&*h);
            }
        }
        all
    }
}

/// `{"count", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms"}`.
pub fn summary(h: &Histogram<u64>) -> Value {
    let ms = |us: u64| (us as f64) / 1000.0;
    if h.is_empty() {
        return json!({"count": 0});
    }
    json!({
        "count": h.len(),
        "p50_ms": ms(h.value_at_quantile(0.50)),
        "p90_ms": ms(h.value_at_quantile(0.90)),
        "p99_ms": ms(h.value_at_quantile(0.99)),
        "p999_ms": ms(h.value_at_quantile(0.999)),
        "max_ms": ms(h.max()),
        "mean_ms": h.mean() / 1000.0,
    })
}

pub fn p(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        0.0
    } else {
        h.value_at_quantile(q) as f64 / 1000.0
    }
}

/// A fresh histogram for single-task use.
pub fn histogram() -> Histogram<u64> {
    new_hist()
}
