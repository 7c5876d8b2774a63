//! In-process rate limiting: a keyed GCRA (the same algorithm as the Redis script), with a
//! bounded number of keys.
//!
//! A key whose theoretical arrival time (TAT) has passed is indistinguishable from a new one,
//! so [`Gcra::prune`] drops it; past [`MAX_KEYS`] an arbitrary key makes room (an attacker needs
//! that many live keys to get there, and then holds at most that many allowances anyway).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

pub const MAX_KEYS: usize = 100_000;

/// `burst` requests at once, then one per `every`.
pub struct Gcra<K> {
    every: Duration,
    burst: u32,
    max_keys: usize,
    start: Instant,
    /// Key → TAT, as time since `start`.
    tat: Mutex<HashMap<K, Duration>>,
}

impl<K: Hash + Eq + Clone> Gcra<K> {
    pub fn new(every: Duration, burst: u32) -> Self {
        Self::with_max_keys(every, burst, MAX_KEYS)
    }

    pub fn with_max_keys(every: Duration, burst: u32, max_keys: usize) -> Self {
        Self {
            every: every.max(Duration::from_nanos(1)),
            burst: burst.max(1),
            max_keys,
            start: Instant::now(),
            tat: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` when `key` must wait.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let now = now.duration_since(self.start);
        let tolerance = self.every * (self.burst - 1);
        let mut map = self.tat.lock();
        let tat = map.get(key).copied().unwrap_or(now).max(now);
        let allow_at = tat.saturating_sub(tolerance);
        if now < allow_at {
            return Err(allow_at - now);
        }
        if !map.contains_key(key)
            && map.len() >= self.max_keys
            && let Some(k) = map.keys().next().cloned()
        {
            map.remove(&k);
        }
        map.insert(key.clone(), tat + self.every);
        Ok(())
    }

    /// Forgets keys that are back to a full allowance.
    pub fn prune(&self) {
        self.prune_at(Instant::now());
    }

    fn prune_at(&self, now: Instant) {
        let now = now.duration_since(self.start);
        let mut map = self.tat.lock();
        map.retain(|_, tat| *tat > now);
        let keep = map.len() * 2;
        map.shrink_to(keep);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.tat.lock().len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One action per key per `every`, where `every` comes with each check (a room's slow mode, which
/// its admins may change at any time). Bounded like [`Gcra`].
pub struct Cooldowns<K> {
    max_keys: usize,
    /// Key → when the next action is allowed.
    next: Mutex<HashMap<K, Instant>>,
}

impl<K: Hash + Eq + Clone> Default for Cooldowns<K> {
    fn default() -> Self {
        Self {
            max_keys: MAX_KEYS,
            next: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq + Clone> Cooldowns<K> {
    /// `Err(wait)` while `key`'s cooldown runs; otherwise starts a new one of `every`.
    pub fn check(&self, key: &K, every: Duration) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self.next.lock();
        if let Some(&at) = map.get(key)
            && now < at
        {
            return Err(at - now);
        }
        if !map.contains_key(key) && map.len() >= self.max_keys {
            map.retain(|_, at| *at > now);
            if map.len() >= self.max_keys
                && let Some(k) = map.keys().next().cloned()
            {
                map.remove(&k);
            }
        }
        map.insert(key.clone(), now + every);
        Ok(())
    }

    /// Forgets keys whose cooldown is over.
    pub fn prune(&self) {
        let now = Instant::now();
        let mut map = self.next.lock();
        map.retain(|_, at| *at > now);
        let keep = map.len() * 2;
        map.shrink_to(keep);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cooldown_refuses_until_it_ends_and_each_check_names_its_length() {
        let c = Cooldowns::default();
        let long = Duration::from_secs(60);
        assert!(c.check(&1, long).is_ok());
        let wait = c.check(&1, long).expect_err("cooling down");
        assert!(wait > Duration::from_secs(59) && wait <= long, "{wait:?}");
        assert!(c.check(&2, long).is_ok(), "keys are independent");
        assert!(c.check(&3, Duration::from_millis(1)).is_ok());
        std::thread::sleep(Duration::from_millis(5));
        assert!(c.check(&3, Duration::from_millis(1)).is_ok(), "over");
        std::thread::sleep(Duration::from_millis(5));
        c.prune();
        assert_eq!(c.next.lock().len(), 2, "the ended one is forgotten");
    }

    #[test]
    fn burst_then_steady_rate() {
        let g = Gcra::new(Duration::from_millis(100), 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(g.check_at(&1, t0).is_ok());
        }
        assert_eq!(g.check_at(&1, t0), Err(Duration::from_millis(100)));
        assert!(g.check_at(&1, t0 + Duration::from_millis(100)).is_ok());
        assert!(g.check_at(&2, t0).is_ok(), "keys are independent");
    }

    #[test]
    fn many_distinct_keys_stay_bounded_and_are_pruned() {
        let g = Gcra::with_max_keys(Duration::from_secs(1), 5, 1_000);
        let t0 = Instant::now();
        for k in 0..5_000u64 {
            assert!(g.check_at(&k, t0).is_ok());
        }
        assert_eq!(g.len(), 1_000);
        g.prune_at(t0 + Duration::from_secs(2));
        assert!(g.is_empty(), "every key is back to a full allowance");
    }
}
