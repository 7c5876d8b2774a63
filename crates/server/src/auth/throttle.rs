//! Login throttling with growing delays and no lock-out an attacker can impose.
//!
//! Failures are counted per (account, client IP), per client IP, and per account. Each key has
//! a free allowance; beyond it, the next attempt must wait `2^(excess-1)` seconds (capped).
//! A throttled attempt is refused before the password is checked, so a delay cannot be used
//! to test passwords. Counters decay after a quiet window.
//!
//! The per-account counter is what an attacker on other IPs could use to lock a user out, so
//! (1) its cap is short, and (2) it is skipped for an (account, IP) pair that has logged in
//! successfully before: the owner's usual network keeps working during an attack.
//! The rules and the decision are here; the counters live in process memory
//! ([`LoginThrottle`]) or, scaled out, in Redis (`crate::limits`), which applies the same rules.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    AccountIp(String, IpAddr),
    Ip(IpAddr),
    Account(String),
}

pub struct Rule {
    free: u32,
    cap: Duration,
}

/// The counters that apply to an attempt on `account` from `ip`; the per-account one is left
/// out when the pair is trusted (logged in successfully before).
pub fn keys_for(account: &str, ip: IpAddr, trusted: bool) -> Vec<(Key, &'static Rule)> {
    let mut keys = vec![
        (Key::AccountIp(account.to_owned(), ip), &ACCOUNT_IP),
        (Key::Ip(ip), &IP),
    ];
    if !trusted {
        keys.push((Key::Account(account.to_owned()), &ACCOUNT));
    }
    keys
}

/// How long an attempt must still wait given a counter's failures and the time since its last.
pub fn wait_for(rule: &Rule, failures: u32, since_last: Duration) -> Duration {
    if since_last >= DECAY {
        return Duration::ZERO;
    }
    delay(rule, failures).saturating_sub(since_last)
}

const ACCOUNT_IP: Rule = Rule {
    free: 5,
    cap: Duration::from_secs(15 * 60),
};
const IP: Rule = Rule {
    free: 30,
    cap: Duration::from_secs(15 * 60),
};
const ACCOUNT: Rule = Rule {
    free: 20,
    cap: Duration::from_secs(60),
};
pub const DECAY: Duration = Duration::from_secs(15 * 60);
pub const TRUST: Duration = Duration::from_secs(30 * 24 * 3600);
const MAX_ENTRIES: usize = 200_000;

struct Entry {
    failures: u32,
    last: Instant,
}

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<Key, Entry>>,
    trusted: Mutex<HashMap<(String, IpAddr), Instant>>,
}

fn delay(rule: &Rule, failures: u32) -> Duration {
    if failures < rule.free {
        return Duration::ZERO;
    }
    let exp = (failures - rule.free).min(20);
    Duration::from_secs(1u64 << exp).min(rule.cap)
}

impl LoginThrottle {
    fn keys(&self, account: &str, ip: IpAddr) -> Vec<(Key, &'static Rule)> {
        let trusted = self
            .trusted
            .lock()
            .get(&(account.to_owned(), ip))
            .is_some_and(|t| t.elapsed() < TRUST);
        keys_for(account, ip, trusted)
    }

    /// `Err(wait)` if an attempt for `account` from `ip` must wait; checked before the password.
    pub fn check(&self, account: &str, ip: IpAddr) -> Result<(), Duration> {
        self.check_at(account, ip, Instant::now())
    }

    fn check_at(&self, account: &str, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let keys = self.keys(account, ip);
        let map = self.failures.lock();
        let mut wait = Duration::ZERO;
        for (key, rule) in keys {
            if let Some(e) = map.get(&key) {
                wait = wait.max(wait_for(rule, e.failures, now.duration_since(e.last)));
            }
        }
        if wait.is_zero() { Ok(()) } else { Err(wait) }
    }

    pub fn record_failure(&self, account: &str, ip: IpAddr) {
        self.record_failure_at(account, ip, Instant::now());
    }

    fn record_failure_at(&self, account: &str, ip: IpAddr, now: Instant) {
        let keys = self.keys(account, ip);
        let mut map = self.failures.lock();
        if map.len() > MAX_ENTRIES {
            map.retain(|_, e| now.duration_since(e.last) < DECAY);
        }
        for (key, _) in keys {
            let e = map.entry(key).or_insert(Entry {
                failures: 0,
                last: now,
            });
            if now.duration_since(e.last) >= DECAY {
                e.failures = 0;
            }
            e.failures += 1;
            e.last = now;
        }
    }

    pub fn record_success(&self, account: &str, ip: IpAddr) {
        let mut map = self.failures.lock();
        map.remove(&Key::AccountIp(account.to_owned(), ip));
        drop(map);
        let mut trusted = self.trusted.lock();
        if trusted.len() > MAX_ENTRIES {
            trusted.retain(|_, t| t.elapsed() < TRUST);
        }
        trusted.insert((account.to_owned(), ip), Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7));

    #[test]
    fn delays_grow_then_decay() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..ACCOUNT_IP.free {
            assert!(t.check_at("ada", A, now).is_ok());
            t.record_failure_at("ada", A, now);
        }
        assert_eq!(t.check_at("ada", A, now), Err(Duration::from_secs(1)));
        t.record_failure_at("ada", A, now);
        assert_eq!(t.check_at("ada", A, now), Err(Duration::from_secs(2)));
        assert!(t.check_at("ada", A, now + Duration::from_secs(2)).is_ok());
        assert!(t.check_at("ada", A, now + DECAY).is_ok());
        // Another account from the same IP is unaffected until the IP allowance runs out.
        assert!(t.check_at("grace", A, now).is_ok());
    }

    #[test]
    fn attacker_cannot_lock_out_the_owners_known_network() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        t.record_success("ada", B);
        // An attacker hammers the account from elsewhere.
        for _ in 0..100 {
            t.record_failure_at("ada", A, now);
        }
        assert!(t.check_at("ada", A, now).is_err());
        assert!(
            t.check_at("ada", B, now).is_ok(),
            "owner's known IP is not locked out"
        );
        // From an unknown network the account delay is capped at a minute.
        let c = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9));
        let wait = t.check_at("ada", c, now).unwrap_err();
        assert!(wait <= ACCOUNT.cap);
    }
}
