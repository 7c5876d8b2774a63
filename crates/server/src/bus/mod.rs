//! Bus adapters: in process (one instance), or Redis pub/sub (many instances, `REDIS_URL`).

mod local;
pub mod redis;
pub mod wire;

pub use local::LocalBus;
pub use redis::RedisBus;

/// Seconds since an event was created (its commit time), never negative: the latency the
/// fan-out and bus metrics report. Clocks of two instances may disagree; 0 then.
pub fn event_age_seconds(created_at: chrono::DateTime<chrono::Utc>) -> f64 {
    (chrono::Utc::now() - created_at)
        .num_microseconds()
        .unwrap_or(0)
        .max(0) as f64
        / 1e6
}
