//! Circuit breaker: after `failure_threshold` consecutive failures the provider is not called
//! for `open_for` (callers fail fast); then one trial call is let through (half-open): success
//! closes the circuit, failure opens it again. Pure: the caller passes the time.

use chrono::{DateTime, TimeDelta, Utc};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    /// For the metrics gauge: 0 closed, 1 half-open, 2 open.
    pub fn gauge(self) -> f64 {
        match self {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerConfig {
    pub failure_threshold: u32,
    pub open_for: TimeDelta,
}

#[derive(Clone, Debug)]
pub struct Breaker {
    config: BreakerConfig,
    state: BreakerState,
    failures: u32,
    opened_at: Option<DateTime<Utc>>,
    trial_in_flight: bool,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: BreakerState::Closed,
            failures: 0,
            opened_at: None,
            trial_in_flight: false,
        }
    }

    /// The state at `now` (an open circuit whose time is up reports half-open).
    pub fn state(&self, now: DateTime<Utc>) -> BreakerState {
        match (self.state, self.opened_at) {
            (BreakerState::Open, Some(t)) if now - t >= self.config.open_for => {
                BreakerState::HalfOpen
            }
            (s, _) => s,
        }
    }

    /// Whether a call may go out now. In half-open, only one trial call at a time.
    pub fn try_acquire(&mut self, now: DateTime<Utc>) -> bool {
        match self.state(now) {
            BreakerState::Closed => true,
            BreakerState::Open => false,
            BreakerState::HalfOpen => {
                self.state = BreakerState::HalfOpen;
                if self.trial_in_flight {
                    false
                } else {
                    self.trial_in_flight = true;
                    true
                }
            }
        }
    }

    pub fn on_success(&mut self) {
        self.state = BreakerState::Closed;
        self.failures = 0;
        self.opened_at = None;
        self.trial_in_flight = false;
    }

    pub fn on_failure(&mut self, now: DateTime<Utc>) {
        self.trial_in_flight = false;
        match self.state {
            BreakerState::HalfOpen | BreakerState::Open => self.open(now),
            BreakerState::Closed => {
                self.failures += 1;
                if self.failures >= self.config.failure_threshold.max(1) {
                    self.open(now);
                }
            }
        }
    }

    fn open(&mut self, now: DateTime<Utc>) {
        self.state = BreakerState::Open;
        self.opened_at = Some(now);
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn opens_half_opens_and_closes() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut b = Breaker::new(BreakerConfig {
            failure_threshold: 3,
            open_for: TimeDelta::seconds(30),
        });
        assert!(b.try_acquire(t0));
        b.on_failure(t0);
        b.on_failure(t0);
        b.on_success(); // resets the count
        b.on_failure(t0);
        b.on_failure(t0);
        assert_eq!(b.state(t0), BreakerState::Closed);
        b.on_failure(t0);
        assert_eq!(b.state(t0), BreakerState::Open);
        assert!(!b.try_acquire(t0 + TimeDelta::seconds(29)));
        let t1 = t0 + TimeDelta::seconds(30);
        assert_eq!(b.state(t1), BreakerState::HalfOpen);
        assert!(b.try_acquire(t1));
        assert!(!b.try_acquire(t1), "one trial at a time");
        b.on_failure(t1);
        assert_eq!(b.state(t1 + TimeDelta::seconds(10)), BreakerState::Open);
        let t2 = t1 + TimeDelta::seconds(30);
        assert!(b.try_acquire(t2));
        b.on_success();
        assert_eq!(b.state(t2), BreakerState::Closed);
        assert!(b.try_acquire(t2) && b.try_acquire(t2));
    }
}
