//! Rate limits and caps: per process by default, cluster-wide in Redis when `REDIS_URL` is set,
//! so N instances do not multiply them.
//!
//! Every check goes to Redis when it is configured. If Redis fails, the check falls back to
//! this process's own counters (counted in `limits_fallbacks_total`), and so do the checks of
//! the next second, so an outage costs requests no timeouts: limits get looser by at most the
//! number of instances for the duration of the outage, and nobody is locked out by it.

mod redis;

use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use justus_core::UserId;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use self::redis::RedisLimits;

/// A refused attempt, with how long to wait.
pub type Limited = Result<(), Duration>;

pub struct Limits {
    register: DefaultKeyedRateLimiter<IpAddr>,
    /// Gateway requests per user (burst 2×, sustained `GATEWAY_REQUESTS_PER_SECOND`).
    gateway: DefaultKeyedRateLimiter<UserId>,
    login: LoginThrottle,
    register_quota: (u32, Duration),
    gateway_quota: (u32, Duration),
    max_sockets: u32,
    shared: Option<RedisLimits>,
    /// After a Redis failure, checks stay local until this many ms after `started`.
    local_until_ms: AtomicU64,
    started: Instant,
    /// Uploads (and avatar changes) per user (a burst of `MEDIA_UPLOADS_PER_MINUTE`, then one
    /// every 60 s / that).
    upload: DefaultKeyedRateLimiter<UserId>,
    upload_quota: (u32, Duration),
}

/// How long checks stay local after a Redis failure.
const LOCAL_AFTER_FAILURE: Duration = Duration::from_secs(1);

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

fn wait(not_until: governor::NotUntil<governor::clock::QuantaInstant>) -> Duration {
    not_until.wait_time_from(governor::clock::Clock::now(
        &governor::clock::DefaultClock::default(),
    ))
}

impl Limits {
    pub fn new(config: &Config, shared: Option<RedisLimits>) -> Self {
        let per_hour = config.register_per_ip_per_hour.max(1);
        let rps = config.gateway_requests_per_second.max(1);
        Self {
            register: RateLimiter::keyed(Quota::per_hour(nz(per_hour))),
            gateway: RateLimiter::keyed(
                Quota::per_second(nz(rps)).allow_burst(nz(rps.saturating_mul(2))),
            ),
            login: LoginThrottle::default(),
            register_quota: (per_hour, Duration::from_secs(3600) / per_hour),
            gateway_quota: (rps.saturating_mul(2), Duration::from_secs(1) / rps),
            max_sockets: config.gateway_max_sockets_per_user,
            shared,
            local_until_ms: AtomicU64::new(0),
            started: Instant::now(),
            upload: RateLimiter::keyed(Quota::per_minute(nz(config.media_uploads_per_minute))),
            upload_quota: (
                config.media_uploads_per_minute.max(1),
                Duration::from_secs(60) / config.media_uploads_per_minute.max(1),
            ),
        }
    }

    /// Redis, unless it failed within the last second.
    fn redis(&self) -> Option<&RedisLimits> {
        let now = self.started.elapsed().as_millis() as u64;
        self.shared
            .as_ref()
            .filter(|_| now >= self.local_until_ms.load(Ordering::Relaxed))
    }

    fn fallback(&self, what: &'static str, e: &::redis::RedisError) {
        let until = (self.started.elapsed() + LOCAL_AFTER_FAILURE).as_millis() as u64;
        self.local_until_ms.store(until, Ordering::Relaxed);
        metrics::counter!("limits_fallbacks_total", "limit" => what).increment(1);
        tracing::debug!(error = %e, limit = what, "redis limits unavailable; using this process's counters");
    }

    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Accounts created from one address (per hour).
    pub async fn register(&self, ip: IpAddr) -> Limited {
        if let Some(r) = self.redis() {
            let (burst, every) = self.register_quota;
            match r.gcra(&format!("reg:{ip}"), every, burst).await {
                Ok(outcome) => return outcome,
                Err(e) => self.fallback("register", &e),
            }
        }
        self.register.check_key(&ip).map_err(wait)
    }

    /// Gateway requests of one user, over all their sockets.
    pub async fn gateway(&self, user: UserId) -> Limited {
        if let Some(r) = self.redis() {
            let (burst, every) = self.gateway_quota;
            // Boxed: a Redis call's future is large and would otherwise sit inline in every
            // socket task's state (see docs/performance.md, idle memory).
            match Box::pin(r.gcra(&format!("gw:{user}"), every, burst)).await {
                Ok(outcome) => return outcome,
                Err(e) => self.fallback("gateway", &e),
            }
        }
        self.gateway.check_key(&user).map_err(wait)
    }

    /// Whether a login attempt must wait (checked before the password).
    pub async fn login_check(&self, account: &str, ip: IpAddr) -> Limited {
        if let Some(r) = self.redis() {
            match r.login_check(account, ip).await {
                Ok(outcome) => return outcome,
                Err(e) => self.fallback("login", &e),
            }
        }
        self.login.check(account, ip)
    }

    pub async fn login_failed(&self, account: &str, ip: IpAddr) {
        if let Some(r) = self.redis() {
            match r.login_failed(account, ip).await {
                Ok(()) => return,
                Err(e) => self.fallback("login", &e),
            }
        }
        self.login.record_failure(account, ip);
    }

    pub async fn login_succeeded(&self, account: &str, ip: IpAddr) {
        if let Some(r) = self.redis() {
            match r.login_succeeded(account, ip).await {
                Ok(()) => return,
                Err(e) => self.fallback("login", &e),
            }
        }
        self.login.record_success(account, ip);
    }

    /// Claims one of the user's socket slots over the cluster; `false` when all are taken.
    /// `local_count` is the user's sockets on this process including the new one (the only
    /// count there is without Redis).
    pub async fn socket_open(&self, user: UserId, slot: &str, local_count: usize) -> bool {
        if let Some(r) = self.redis() {
            match Box::pin(r.socket_open(user, slot, self.max_sockets)).await {
                Ok(ok) => return ok,
                Err(e) => self.fallback("sockets", &e),
            }
        }
        local_count <= self.max_sockets as usize
    }

    pub async fn socket_closed(&self, user: UserId, slot: &str) {
        if let Some(r) = self.redis()
            && let Err(e) = Box::pin(r.socket_closed(user, slot)).await
        {
            self.fallback("sockets", &e);
        }
    }

    /// Keeps this process's socket slots alive (a dead process's slots expire on their own).
    pub async fn sockets_alive(&self, slots: &[(UserId, String)]) {
        if let Some(r) = self.redis()
            && let Err(e) = r.sockets_alive(slots).await
        {
            self.fallback("sockets", &e);
        }
    }

    /// Uploads (and avatar changes) of one user, over all instances.
    pub async fn upload(&self, user: UserId) -> Limited {
        if let Some(r) = self.redis() {
            let (burst, every) = self.upload_quota;
            match r.gcra(&format!("up:{user}"), every, burst).await {
                Ok(outcome) => return outcome,
                Err(e) => self.fallback("upload", &e),
            }
        }
        self.upload.check_key(&user).map_err(wait)
    }
}
