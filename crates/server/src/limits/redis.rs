//! Cluster-wide counters in Redis. Each decision is one script run inside Redis (atomic, and
//! timed by Redis's clock so instances with skewed clocks agree). Keys never contain personal
//! data: accounts and addresses are hashed.

use crate::auth::throttle::{self, Key};
use justus_core::UserId;
use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::LazyLock;
use std::time::Duration;

/// How long a socket slot lives without being refreshed (a killed instance frees its slots).
pub const SLOT_TTL: Duration = Duration::from_secs(60);
const TIMEOUT: Duration = Duration::from_millis(500);

/// Generic cell rate algorithm: returns 0 when allowed, else the milliseconds to wait.
static GCRA: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local allow_at = tat - tolerance
if now < allow_at then return allow_at - now end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now) + 1)
return 0",
    )
});

/// Login counters: returns Redis's now (ms), whether the pair is trusted, then (failures,
/// last failure ms) per counter key.
static LOGIN_STATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local out = { tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), redis.call('EXISTS', KEYS[1]) }
for i = 2, #KEYS do
  local v = redis.call('HMGET', KEYS[i], 'f', 'last')
  table.insert(out, tonumber(v[1]) or 0)
  table.insert(out, tonumber(v[2]) or 0)
end
return out",
    )
});

/// Records a failure on every counter key; ARGV[1] = decay (ms).
static LOGIN_FAIL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #KEYS do
  redis.call('HINCRBY', KEYS[i], 'f', 1)
  redis.call('HSET', KEYS[i], 'last', now)
  redis.call('PEXPIRE', KEYS[i], ARGV[1])
end
return 0",
    )
});

/// Claims a socket slot: ARGV = slot, max, ttl (ms). Returns 1 when claimed.
static SOCKET_OPEN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1",
    )
});

/// Extends live slots: KEYS[i] holds ARGV[i+1]; ARGV[1] = ttl (ms).
static SOCKETS_ALIVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now + ttl, ARGV[i + 1])
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return 0",
    )
});

pub struct RedisLimits {
    conn: ConnectionManager,
    prefix: String,
}

fn hashed(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..12])
}

fn ms(d: Duration) -> u64 {
    d.as_millis().max(1) as u64
}

async fn run<T: redis::FromRedisValue>(
    fut: impl Future<Output = redis::RedisResult<T>>,
) -> redis::RedisResult<T> {
    tokio::time::timeout(TIMEOUT, fut)
        .await
        .unwrap_or_else(|_| {
            Err(redis::RedisError::from(std::io::Error::from(
                std::io::ErrorKind::TimedOut,
            )))
        })
}

impl RedisLimits {
    pub fn new(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("REDIS_URL is not a valid Redis URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_max_delay(Duration::from_secs(2));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
        })
    }

    fn key(&self, rest: &str) -> String {
        format!("{}:limit:{rest}", self.prefix)
    }

    pub async fn gcra(
        &self,
        name: &str,
        every: Duration,
        burst: u32,
    ) -> redis::RedisResult<super::Limited> {
        let mut conn = self.conn.clone();
        let key = self.key(&hashed(name));
        let wait: u64 = run(GCRA
            .key(key)
            .arg(ms(every))
            .arg(burst.max(1))
            .invoke_async(&mut conn))
        .await?;
        Ok(if wait == 0 {
            Ok(())
        } else {
            Err(Duration::from_millis(wait))
        })
    }

    fn login_key(&self, key: &Key) -> String {
        let name = match key {
            Key::AccountIp(a, ip) => format!("ai:{a}:{ip}"),
            Key::Ip(ip) => format!("i:{ip}"),
            Key::Account(a) => format!("a:{a}"),
        };
        self.key(&format!("login:{}", hashed(&name)))
    }

    fn trust_key(&self, account: &str, ip: IpAddr) -> String {
        self.key(&format!("trust:{}", hashed(&format!("{account}:{ip}"))))
    }

    pub async fn login_check(
        &self,
        account: &str,
        ip: IpAddr,
    ) -> redis::RedisResult<super::Limited> {
        let all = throttle::keys_for(account, ip, false);
        let mut inv = LOGIN_STATE.key(self.trust_key(account, ip));
        for (k, _) in &all {
            inv.key(self.login_key(k));
        }
        let mut conn = self.conn.clone();
        let out: Vec<i64> = run(inv.invoke_async(&mut conn)).await?;
        let (now, trusted) = (out.first().copied().unwrap_or(0), out.get(1) == Some(&1));
        let mut wait = Duration::ZERO;
        for (i, (key, rule)) in all.iter().enumerate() {
            if trusted && matches!(key, Key::Account(_)) {
                continue;
            }
            let failures = out.get(2 + 2 * i).copied().unwrap_or(0);
            let last = out.get(3 + 2 * i).copied().unwrap_or(0);
            if failures > 0 {
                let since = Duration::from_millis(now.saturating_sub(last).max(0) as u64);
                wait = wait.max(throttle::wait_for(rule, failures as u32, since));
            }
        }
        Ok(if wait.is_zero() { Ok(()) } else { Err(wait) })
    }

    pub async fn login_failed(&self, account: &str, ip: IpAddr) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        let trusted: bool = run(redis::cmd("EXISTS")
            .arg(self.trust_key(account, ip))
            .query_async(&mut conn))
        .await?;
        let mut inv = LOGIN_FAIL.prepare_invoke();
        for (k, _) in throttle::keys_for(account, ip, trusted) {
            inv.key(self.login_key(&k));
        }
        inv.arg(ms(throttle::DECAY));
        run(inv.invoke_async::<()>(&mut conn)).await
    }

    pub async fn login_succeeded(&self, account: &str, ip: IpAddr) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        pipe.del(self.login_key(&Key::AccountIp(account.to_owned(), ip)))
            .ignore()
            .set_ex(self.trust_key(account, ip), 1, throttle::TRUST.as_secs())
            .ignore();
        run(pipe.query_async::<()>(&mut conn)).await
    }

    fn sockets_key(&self, user: UserId) -> String {
        self.key(&format!("sockets:{user}"))
    }

    pub async fn socket_open(
        &self,
        user: UserId,
        slot: &str,
        max: u32,
    ) -> redis::RedisResult<bool> {
        let mut conn = self.conn.clone();
        let claimed: i64 = run(SOCKET_OPEN
            .key(self.sockets_key(user))
            .arg(slot)
            .arg(max)
            .arg(ms(SLOT_TTL))
            .invoke_async(&mut conn))
        .await?;
        Ok(claimed == 1)
    }

    pub async fn socket_closed(&self, user: UserId, slot: &str) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        run(redis::cmd("ZREM")
            .arg(self.sockets_key(user))
            .arg(slot)
            .query_async::<()>(&mut conn))
        .await
    }

    pub async fn sockets_alive(&self, slots: &[(UserId, String)]) -> redis::RedisResult<()> {
        for chunk in slots.chunks(500) {
            let mut inv = SOCKETS_ALIVE.prepare_invoke();
            inv.arg(ms(SLOT_TTL));
            for (user, slot) in chunk {
                inv.key(self.sockets_key(*user));
                inv.arg(slot);
            }
            let mut conn = self.conn.clone();
            run(inv.invoke_async::<()>(&mut conn)).await?;
        }
        Ok(())
    }
}
