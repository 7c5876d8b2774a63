//! Password-guessing throttle: growing delays, attempts reserved before the hash runs, and no
//! lock-out an attacker can impose on an account's owner.
//!
//! Each attempt is counted on a few keys, each with a free allowance; beyond it, the next
//! attempt must wait `2^(excess)` seconds (capped). Counters decay after a quiet window.
//!
//! - **Reserved before verifying.** An attempt is counted *before* the password is checked, in
//!   the same step that decides whether it may go ahead, so N parallel guesses cannot all pass
//!   a check that only sees finished failures. A success gives its reservation back.
//! - **Keys.** Without a device token: (account, network), the network, and the account. With a
//!   valid device token for the account (see `auth::device`): only (account, device), so the
//!   owner's own device keeps working however hard the account or the shared network (a NAT,
//!   an office) is hammered. An (account, network) pair that logged in successfully before
//!   skips the network and account keys (the owner's usual network keeps working too).
//! - **Networks.** IPv6 clients are keyed by their /64 (one subscriber's prefix), IPv4 by address.
//!
//! The rules and the in-process counters are here; scaled out, Redis applies the same rules
//! atomically in one script (`limits::redis`), checked against these by a test.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    AccountIp(String, IpAddr),
    AccountDevice(String, String),
    Ip(IpAddr),
    Account(String),
}

pub struct Rule {
    pub free: u32,
    pub cap: Duration,
}

/// What an attempt is made on, from where.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// The account's stable key (its user id when it exists, else the login as typed).
    pub account: String,
    /// The client's network key ([`network`]).
    pub ip: IpAddr,
    /// The device id from a valid device token for this account.
    pub device: Option<String>,
}

/// The key an address is counted under: IPv4 (and IPv4-mapped IPv6) by address, IPv6 by /64.
pub fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let seg = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(
                    seg[0], seg[1], seg[2], seg[3], 0, 0, 0, 0,
                ))
            }
        },
    }
}

/// The counters an attempt is checked and counted on. `trusted`: the (account, network) pair
/// logged in successfully within [`TRUST`].
pub fn keys_for(a: &Attempt, trusted: bool) -> Vec<(Key, &'static Rule)> {
    if let Some(device) = &a.device {
        return vec![(
            Key::AccountDevice(a.account.clone(), device.clone()),
            &ACCOUNT_DEVICE,
        )];
    }
    let mut keys = vec![(Key::AccountIp(a.account.clone(), a.ip), &ACCOUNT_IP)];
    if !trusted {
        keys.push((Key::Ip(a.ip), &IP));
        keys.push((Key::Account(a.account.clone()), &ACCOUNT));
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

pub const ACCOUNT_IP: Rule = Rule {
    free: 5,
    cap: Duration::from_secs(15 * 60),
};
pub const ACCOUNT_DEVICE: Rule = Rule {
    free: 5,
    cap: Duration::from_secs(15 * 60),
};
pub const IP: Rule = Rule {
    free: 30,
    cap: Duration::from_secs(15 * 60),
};
pub const ACCOUNT: Rule = Rule {
    free: 20,
    cap: Duration::from_secs(60),
};
pub const DECAY: Duration = Duration::from_secs(15 * 60);
pub const TRUST: Duration = Duration::from_secs(30 * 24 * 3600);
/// Most keys kept in memory; [`LoginThrottle::prune`] drops decayed ones, and past the bound an
/// arbitrary entry makes room (the attacker needs this many live keys to get there).
pub const MAX_ENTRIES: usize = 200_000;
/// Exponent cap of the delay (2^20 s is already far past every cap).
const MAX_EXP: u32 = 20;

fn delay(rule: &Rule, failures: u32) -> Duration {
    if failures < rule.free {
        return Duration::ZERO;
    }
    let exp = (failures - rule.free).min(MAX_EXP);
    Duration::from_secs(1u64 << exp).min(rule.cap)
}

struct Entry {
    failures: u32,
    last: Instant,
}

/// In-process counters (one instance, or Redis unavailable).
pub struct LoginThrottle {
    failures: Mutex<HashMap<Key, Entry>>,
    trusted: Mutex<HashMap<(String, IpAddr), Instant>>,
    max_entries: usize,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::with_max_entries(MAX_ENTRIES)
    }
}

/// An attempt allowed to run, counted as a failure until [`LoginThrottle::succeeded`].
#[derive(Debug)]
pub struct Reserved {
    pub keys: Vec<Key>,
}

fn make_room<K: Clone + Eq + std::hash::Hash, V>(map: &mut HashMap<K, V>, max: usize) {
    if map.len() >= max
        && let Some(k) = map.keys().next().cloned()
    {
        map.remove(&k);
    }
}

impl LoginThrottle {
    pub fn with_max_entries(max_entries: usize) -> Self {
        Self {
            failures: Mutex::default(),
            trusted: Mutex::default(),
            max_entries,
        }
    }

    fn is_trusted(&self, a: &Attempt, now: Instant) -> bool {
        self.trusted
            .lock()
            .get(&(a.account.clone(), a.ip))
            .is_some_and(|t| now.duration_since(*t) < TRUST)
    }

    /// Checks and, when the attempt may go ahead, counts it on every key in one step.
    /// `Err(wait)` when it must wait.
    pub fn begin(&self, a: &Attempt) -> Result<Reserved, Duration> {
        self.begin_at(a, Instant::now())
    }

    fn begin_at(&self, a: &Attempt, now: Instant) -> Result<Reserved, Duration> {
        let keys = keys_for(a, self.is_trusted(a, now));
        let mut map = self.failures.lock();
        let mut wait = Duration::ZERO;
        for (key, rule) in &keys {
            if let Some(e) = map.get(key) {
                wait = wait.max(wait_for(rule, e.failures, now.duration_since(e.last)));
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for (key, _) in &keys {
            if !map.contains_key(key) {
                make_room(&mut map, self.max_entries);
            }
            let e = map.entry(key.clone()).or_insert(Entry {
                failures: 0,
                last: now,
            });
            if now.duration_since(e.last) >= DECAY {
                e.failures = 0;
            }
            e.failures += 1;
            e.last = now;
        }
        Ok(Reserved {
            keys: keys.into_iter().map(|(k, _)| k).collect(),
        })
    }

    /// The attempt succeeded: its pair's counter is cleared, the shared counters get their
    /// reservation back, and the (account, network) pair becomes trusted.
    pub fn succeeded(&self, a: &Attempt, r: Reserved) {
        self.succeeded_at(a, r, Instant::now());
    }

    fn succeeded_at(&self, a: &Attempt, r: Reserved, now: Instant) {
        let mut map = self.failures.lock();
        for key in r.keys {
            match key {
                Key::AccountIp(..) | Key::AccountDevice(..) => {
                    map.remove(&key);
                }
                Key::Ip(_) | Key::Account(_) => {
                    if let Some(e) = map.get_mut(&key) {
                        e.failures = e.failures.saturating_sub(1);
                    }
                }
            }
        }
        drop(map);
        let mut trusted = self.trusted.lock();
        let pair = (a.account.clone(), a.ip);
        if !trusted.contains_key(&pair) {
            make_room(&mut trusted, self.max_entries);
        }
        trusted.insert(pair, now);
    }

    /// Drops decayed counters and expired trust (called periodically, so no request scans).
    pub fn prune(&self) {
        self.prune_at(Instant::now());
    }

    fn prune_at(&self, now: Instant) {
        self.failures
            .lock()
            .retain(|_, e| now.duration_since(e.last) < DECAY);
        self.trusted
            .lock()
            .retain(|_, t| now.duration_since(*t) < TRUST);
    }

    /// Keys held (counters, trusted pairs).
    pub fn len(&self) -> (usize, usize) {
        (self.failures.lock().len(), self.trusted.lock().len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7));

    fn at(account: &str, ip: IpAddr) -> Attempt {
        Attempt {
            account: account.into(),
            ip,
            device: None,
        }
    }

    fn fail(t: &LoginThrottle, a: &Attempt, now: Instant) -> Result<(), Duration> {
        t.begin_at(a, now).map(drop)
    }

    #[test]
    fn delays_grow_then_decay() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        let ada = at("ada", A);
        for _ in 0..ACCOUNT_IP.free {
            assert!(fail(&t, &ada, now).is_ok());
        }
        assert_eq!(fail(&t, &ada, now), Err(Duration::from_secs(1)));
        assert!(fail(&t, &ada, now + Duration::from_secs(1)).is_ok());
        assert_eq!(
            fail(&t, &ada, now + Duration::from_secs(1)),
            Err(Duration::from_secs(2))
        );
        assert!(fail(&t, &ada, now + DECAY * 2).is_ok());
        // Another account from the same IP is unaffected until the IP allowance runs out.
        assert!(fail(&t, &at("grace", A), now).is_ok());
    }

    #[test]
    fn parallel_attempts_are_reserved_not_raced() {
        // Attempts that have not finished count: the sixth concurrent guess on a pair waits.
        let t = LoginThrottle::default();
        let now = Instant::now();
        let held: Vec<_> = (0..ACCOUNT_IP.free)
            .map(|_| t.begin_at(&at("ada", A), now).expect("free"))
            .collect();
        assert!(t.begin_at(&at("ada", A), now).is_err());
        // A success gives the shared counters their reservation back and clears the pair.
        let a = at("ada", A);
        for r in held {
            t.succeeded_at(&a, r, now);
        }
        assert!(t.begin_at(&a, now).is_ok());
    }

    #[test]
    fn attacker_cannot_lock_out_the_owners_known_network() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        let owner = at("ada", B);
        let r = t.begin_at(&owner, now).unwrap();
        t.succeeded_at(&owner, r, now);
        // An attacker hammers the account from many addresses elsewhere.
        for i in 0..100u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let _ = fail(&t, &at("ada", ip), now);
        }
        assert!(fail(&t, &at("ada", A), now).is_err());
        assert!(
            fail(&t, &owner, now).is_ok(),
            "owner's known IP is not locked out"
        );
        // From an unknown network the account delay is capped at a minute.
        let c = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9));
        let wait = fail(&t, &at("ada", c), now).unwrap_err();
        assert!(wait <= ACCOUNT.cap);
    }

    #[test]
    fn a_shared_network_under_attack_keeps_known_accounts_and_devices_working() {
        // An attacker behind the office NAT sprays passwords over many accounts: the network
        // key fills up. The owner's known pair and the owner's device token still work.
        let t = LoginThrottle::default();
        let now = Instant::now();
        let known = at("ada", A);
        let r = t.begin_at(&known, now).unwrap();
        t.succeeded_at(&known, r, now);
        for i in 0..IP.free + 5 {
            let _ = fail(&t, &at(&format!("victim{i}"), A), now);
        }
        assert!(
            fail(&t, &at("newcomer", A), now).is_err(),
            "network throttled"
        );
        assert!(fail(&t, &known, now).is_ok(), "known pair unaffected");
        // The same account hammered from the same network (the attacker guesses ada's
        // password): the pair throttles, the device token does not.
        for _ in 0..10 {
            let _ = fail(&t, &known, now);
        }
        assert!(fail(&t, &known, now).is_err());
        let device = Attempt {
            device: Some("dev1".into()),
            ..known.clone()
        };
        assert!(fail(&t, &device, now).is_ok(), "owner's device unaffected");
    }

    #[test]
    fn ipv6_is_keyed_by_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network(a), network(b));
        assert_ne!(network(a), network(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(network(mapped), A);
        assert_eq!(network(A), A);
    }

    #[test]
    fn memory_stays_bounded_under_many_keys() {
        let max = 1_000;
        let t = LoginThrottle::with_max_entries(max);
        let now = Instant::now();
        for i in 0..(max as u32 * 5) {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(i));
            let _ = fail(&t, &at(&format!("u{i}"), ip), now);
        }
        let (counters, _) = t.len();
        assert!(counters <= max, "{counters}");
        t.prune_at(now + DECAY);
        assert_eq!(t.len().0, 0, "decayed counters are dropped");
    }
}
