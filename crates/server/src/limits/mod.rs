//! Rate limits and caps: per process by default, cluster-wide in Redis when `REDIS_URL` is set,
//! so N instances do not multiply them.
//!
//! Every check goes to Redis when it is configured. If Redis fails, the check falls back to
//! this process's own counters (counted in `limits_fallbacks_total`), and so do the checks of
//! the next second, so an outage costs requests no timeouts: limits get looser by at most the
//! number of instances for the duration of the outage, and nobody is locked out by it.
//!
//! Limits (all per key, GCRA: a burst, then a steady rate):
//! - `requests`: a user's requests that change something, over REST and the gateway together;
//! - `search`: a user's searches;
//! - `email_change`: a user's e-mail changes (each one tells whether an address is taken);
//! - `register` and `register_conflict`: accounts created, and refused as taken, per network;
//! - `upload`: a user's uploads and avatar changes (each may decode a whole image);
//! - `slow_mode`: a member's messages in a room with slow mode (one per the room's interval);
//! - `duplicate_text`: the same text in too many rooms (this process only, `duplicates.rs`);
//! - `new_account_group` / `new_account_dm`: what a new account may start;
//! - login attempts: `limits::login`'s rules, reserved before the password is checked, plus a
//!   cap on password checks in flight per account and per network (this process).

mod duplicates;
mod local;
pub mod login;
mod redis;

use crate::config::Config;
use justus_core::RoomId;
use justus_core::UserId;
use local::{Cooldowns, Gcra};
use login::{Attempt, LoginThrottle, network};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use self::redis::RedisLimits;

/// A refused attempt, with how long to wait.
pub type Limited = Result<(), Duration>;

/// Password checks one account, or one network, may have running at once (this process).
pub const LOGIN_IN_FLIGHT_PER_ACCOUNT: u32 = 2;
pub const LOGIN_IN_FLIGHT_PER_NETWORK: u32 = 8;
/// E-mail changes per user: a burst of 5, then one per 6 minutes (10 an hour).
const EMAIL_CHANGE: (u32, Duration) = (5, Duration::from_secs(360));
/// Registrations refused as taken, per network: a burst of 5, then one per 6 minutes.
const REGISTER_CONFLICT: (u32, Duration) = (5, Duration::from_secs(360));

/// Invite previews per network (they need no account): a burst of 60, then one a second.
const INVITE_LOOKUP: (u32, Duration) = (60, Duration::from_secs(1));

/// `(burst, interval)` of a GCRA quota.
type Quota = (u32, Duration);

pub struct Limits {
    register: Gcra<IpAddr>,
    register_conflict: Gcra<IpAddr>,
    invite_lookup: Gcra<IpAddr>,
    requests: Gcra<UserId>,
    search: Gcra<UserId>,
    email_change: Gcra<UserId>,
    login: LoginThrottle,
    login_in_flight: Mutex<HashMap<InFlightKey, u32>>,
    register_quota: Quota,
    requests_quota: Quota,
    search_quota: Quota,
    max_sockets: u32,
    shared: Option<RedisLimits>,
    /// After a Redis failure, checks stay local until this many ms after `started`.
    local_until_ms: AtomicU64,
    started: Instant,
    /// Uploads (and avatar changes) per user (a burst of `MEDIA_UPLOADS_PER_MINUTE`, then one
    /// every 60 s / that).
    upload: Gcra<UserId>,
    upload_quota: Quota,
    /// A room's slow mode, per member.
    slow_mode: Cooldowns<(RoomId, UserId)>,
    /// The same text in many rooms.
    recent_texts: duplicates::RecentTexts,
    duplicate_window: Duration,
    /// New accounts: groups created and DMs opened with strangers.
    new_groups: Gcra<UserId>,
    new_groups_quota: Quota,
    new_dms: Gcra<UserId>,
    new_dms_quota: Quota,
    new_uploads: Gcra<UserId>,
    new_uploads_quota: Quota,
}

/// How long checks stay local after a Redis failure.
const LOCAL_AFTER_FAILURE: Duration = Duration::from_secs(1);

#[derive(Clone, PartialEq, Eq, Hash)]
enum InFlightKey {
    Account(String),
    Network(IpAddr),
}

/// A login attempt allowed to check its password. Dropping it without
/// [`Limits::login_succeeded`] leaves it counted as a failure; either way its in-flight slots
/// are released.
pub struct LoginTicket<'a> {
    limits: &'a Limits,
    attempt: Attempt,
    reserved: Reserved,
    in_flight: [InFlightKey; 2],
}

enum Reserved {
    Local(login::Reserved),
    Redis(Vec<String>, Vec<bool>),
}

impl Drop for LoginTicket<'_> {
    fn drop(&mut self) {
        let mut map = self.limits.login_in_flight.lock();
        for key in &self.in_flight {
            if let Some(n) = map.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    map.remove(key);
                }
            }
        }
    }
}

fn quota(burst: u32, every: Duration) -> Quota {
    (burst.max(1), every)
}

fn gcra<K: std::hash::Hash + Eq + Clone>((burst, every): Quota) -> Gcra<K> {
    Gcra::new(every, burst)
}

impl Limits {
    pub fn new(config: &Config, shared: Option<RedisLimits>) -> Self {
        let per_hour = config.auth.register_per_ip_per_hour.max(1);
        let rps = config.limits.gateway_requests_per_second.max(1);
        let searches = config.limits.search_requests_per_minute.max(1);
        let register_quota = quota(per_hour, Duration::from_secs(3600) / per_hour);
        let requests_quota = quota(rps.saturating_mul(2), Duration::from_secs(1) / rps);
        let search_quota = quota(searches.min(10), Duration::from_secs(60) / searches);
        let uploads = config.media.uploads_per_minute.max(1);
        let upload_quota = quota(uploads, Duration::from_secs(60) / uploads);
        let groups = config.abuse.new_account_groups_per_day.max(1);
        let new_groups_quota = quota(groups, Duration::from_secs(86_400) / groups);
        let dms = config.abuse.new_account_dms_per_hour.max(1);
        let new_dms_quota = quota(dms, Duration::from_secs(3600) / dms);
        let uploads_new = config.abuse.new_account_uploads_per_hour.max(1);
        let new_uploads_quota = quota(uploads_new, Duration::from_secs(3600) / uploads_new);
        Self {
            register: gcra(register_quota),
            register_conflict: gcra(REGISTER_CONFLICT),
            invite_lookup: gcra(INVITE_LOOKUP),
            requests: gcra(requests_quota),
            search: gcra(search_quota),
            email_change: gcra(EMAIL_CHANGE),
            login: LoginThrottle::default(),
            login_in_flight: Mutex::default(),
            register_quota,
            requests_quota,
            search_quota,
            max_sockets: config.limits.gateway_max_sockets_per_user,
            shared,
            local_until_ms: AtomicU64::new(0),
            started: Instant::now(),
            upload: gcra(upload_quota),
            upload_quota,
            slow_mode: Cooldowns::default(),
            recent_texts: duplicates::RecentTexts::default(),
            duplicate_window: Duration::from_secs(config.abuse.duplicate_window_seconds),
            new_groups: gcra(new_groups_quota),
            new_groups_quota,
            new_dms: gcra(new_dms_quota),
            new_dms_quota,
            new_uploads: gcra(new_uploads_quota),
            new_uploads_quota,
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

    /// One GCRA check, in Redis under `name` or locally in `local`.
    async fn gcra<K: std::hash::Hash + Eq + Clone>(
        &self,
        what: &'static str,
        name: impl FnOnce() -> String,
        (burst, every): Quota,
        local: &Gcra<K>,
        key: &K,
    ) -> Limited {
        if let Some(r) = self.redis() {
            // Boxed: a Redis call's future is large and would otherwise sit inline in every
            // socket task's state (see docs/performance.md, idle memory).
            match Box::pin(r.gcra(&name(), every, burst)).await {
                Ok(outcome) => return outcome,
                Err(e) => self.fallback(what, &e),
            }
        }
        local.check(key)
    }

    /// Accounts created from one network (per hour).
    pub async fn register(&self, ip: IpAddr) -> Limited {
        let net = network(ip);
        self.gcra(
            "register",
            || format!("reg:{net}"),
            self.register_quota,
            &self.register,
            &net,
        )
        .await
    }

    /// Invite previews from one network (public: a logged-out person sees what they are
    /// invited to).
    pub async fn invite_lookup(&self, ip: IpAddr) -> Limited {
        let net = network(ip);
        self.gcra(
            "invite_lookup",
            || format!("inv:{net}"),
            INVITE_LOOKUP,
            &self.invite_lookup,
            &net,
        )
        .await
    }

    /// Registrations from one network refused because the name or address is taken: each
    /// one tells the caller something, so they are few.
    pub async fn register_conflict(&self, ip: IpAddr) -> Limited {
        let net = network(ip);
        self.gcra(
            "register_conflict",
            || format!("regc:{net}"),
            REGISTER_CONFLICT,
            &self.register_conflict,
            &net,
        )
        .await
    }

    /// A user's requests that change something: REST writes and gateway requests share it.
    pub async fn requests(&self, user: UserId) -> Limited {
        self.gcra(
            "requests",
            || format!("gw:{user}"),
            self.requests_quota,
            &self.requests,
            &user,
        )
        .await
    }

    /// A member's messages in a room with slow mode: one per `every`.
    pub async fn slow_mode(&self, room: RoomId, user: UserId, every: Duration) -> Limited {
        if let Some(r) = self.redis() {
            // Burst 1: the GCRA is then exactly a cooldown, and `every` may change between
            // calls (an admin changing the slow mode) without resetting anyone.
            match Box::pin(r.gcra(&format!("slow:{room}:{user}"), every, 1)).await {
                Ok(outcome) => return outcome,
                Err(e) => self.fallback("slow_mode", &e),
            }
        }
        self.slow_mode.check(&(room, user), every)
    }

    /// The same text sent to `rooms` other rooms within `SPAM_DUPLICATE_WINDOW_SECONDS` (this
    /// process).
    pub fn duplicate_text(
        &self,
        user: UserId,
        room: RoomId,
        fingerprint: u64,
        rooms: u32,
    ) -> Limited {
        self.recent_texts.check(
            user,
            room,
            fingerprint,
            rooms as usize,
            self.duplicate_window,
        )
    }

    /// Groups a new account creates (`NEW_ACCOUNT_GROUPS_PER_DAY`).
    pub async fn new_account_group(&self, user: UserId) -> Limited {
        self.gcra(
            "new_account_groups",
            || format!("newgroups:{user}"),
            self.new_groups_quota,
            &self.new_groups,
            &user,
        )
        .await
    }

    /// DMs a new account opens with people it shares no room with
    /// (`NEW_ACCOUNT_DMS_PER_HOUR`).
    pub async fn new_account_dm(&self, user: UserId) -> Limited {
        self.gcra(
            "new_account_dms",
            || format!("newdms:{user}"),
            self.new_dms_quota,
            &self.new_dms,
            &user,
        )
        .await
    }

    /// A new account's uploads (and picture changes).
    pub async fn new_account_upload(&self, user: UserId) -> Limited {
        self.gcra(
            "new_account_uploads",
            || format!("newup:{user}"),
            self.new_uploads_quota,
            &self.new_uploads,
            &user,
        )
        .await
    }

    /// A user's searches (messages and people).
    pub async fn search(&self, user: UserId) -> Limited {
        self.gcra(
            "search",
            || format!("search:{user}"),
            self.search_quota,
            &self.search,
            &user,
        )
        .await
    }

    /// A user's e-mail changes.
    pub async fn email_change(&self, user: UserId) -> Limited {
        self.gcra(
            "email_change",
            || format!("email:{user}"),
            EMAIL_CHANGE,
            &self.email_change,
            &user,
        )
        .await
    }

    /// Admits a password check: under the in-flight caps, and reserved on the throttle's
    /// counters in one atomic step. `Err(wait)` when it must not run now.
    pub async fn login_begin(&self, attempt: Attempt) -> Result<LoginTicket<'_>, Duration> {
        let in_flight = [
            InFlightKey::Account(attempt.account.clone()),
            InFlightKey::Network(attempt.ip),
        ];
        {
            let mut map = self.login_in_flight.lock();
            let busy = |k: &InFlightKey, cap| map.get(k).copied().unwrap_or(0) >= cap;
            if busy(&in_flight[0], LOGIN_IN_FLIGHT_PER_ACCOUNT)
                || busy(&in_flight[1], LOGIN_IN_FLIGHT_PER_NETWORK)
            {
                metrics::counter!("auth_login_in_flight_refused_total").increment(1);
                return Err(Duration::from_secs(1));
            }
            for k in &in_flight {
                *map.entry(k.clone()).or_insert(0) += 1;
            }
        }
        // From here the ticket owns the in-flight slots: dropping it (refusal included)
        // releases them.
        let mut ticket = LoginTicket {
            limits: self,
            attempt,
            reserved: Reserved::Local(login::Reserved { keys: Vec::new() }),
            in_flight,
        };
        if let Some(r) = self.redis() {
            match r.login_begin(&ticket.attempt).await {
                Ok(Ok((keys, clear))) => {
                    ticket.reserved = Reserved::Redis(keys, clear);
                    return Ok(ticket);
                }
                Ok(Err(wait)) => return Err(wait),
                Err(e) => self.fallback("login", &e),
            }
        }
        ticket.reserved = Reserved::Local(self.login.begin(&ticket.attempt)?);
        Ok(ticket)
    }

    /// The password was right: the attempt's reservation is given back.
    pub async fn login_succeeded(&self, mut ticket: LoginTicket<'_>) {
        let reserved = std::mem::replace(
            &mut ticket.reserved,
            Reserved::Local(login::Reserved { keys: Vec::new() }),
        );
        match reserved {
            Reserved::Redis(keys, clear) => {
                if let Some(r) = self.shared.as_ref()
                    && let Err(e) = r.login_succeeded(&ticket.attempt, &keys, &clear).await
                {
                    self.fallback("login", &e);
                }
            }
            Reserved::Local(r) => self.login.succeeded(&ticket.attempt, r),
        }
    }

    /// Drops state that has decayed (called from housekeeping, so no request scans maps).
    pub fn prune(&self) {
        self.login.prune();
        self.register.prune();
        self.register_conflict.prune();
        self.requests.prune();
        self.search.prune();
        self.email_change.prune();
        self.upload.prune();
        self.slow_mode.prune();
        self.recent_texts.prune(self.duplicate_window);
        self.new_groups.prune();
        self.new_dms.prune();
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
        self.gcra(
            "upload",
            || format!("up:{user}"),
            self.upload_quota,
            &self.upload,
            &user,
        )
        .await
    }
}
