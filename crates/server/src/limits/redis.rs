//! Cluster-wide counters in Redis. Each decision is one script run inside Redis (atomic, and
//! timed by Redis's clock so instances with skewed clocks agree). Keys never contain personal
//! data: accounts and addresses are hashed.

use super::login::{self, Attempt, Key};
use justus_core::UserId;
use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sha2::{Digest, Sha256};
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

/// Login attempt: checks every counter and, when none says wait, counts the attempt on each in
/// the same step (so parallel attempts cannot all pass). KEYS[1] = the (account, network)
/// trust flag, KEYS[2..] = counters; ARGV[1] = decay (ms), then per counter: free, cap (ms), and
/// `1` when a trusted pair skips it. The rule is `limits::login::wait_for` (a test runs both).
/// Returns `{wait ms}` when refused, else `{0, index…}` of the counters that were counted.
static LOGIN_BEGIN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local decay = tonumber(ARGV[1])
local trusted = redis.call('EXISTS', KEYS[1]) == 1
local wait = 0
local use = {}
local state = {}
for i = 2, #KEYS do
  local base = 2 + (i - 2) * 3
  local free = tonumber(ARGV[base])
  local cap = tonumber(ARGV[base + 1])
  if not (trusted and ARGV[base + 2] == '1') then
    local v = redis.call('HMGET', KEYS[i], 'f', 'last')
    local f = tonumber(v[1]) or 0
    local last = tonumber(v[2]) or 0
    if now - last >= decay then f = 0 end
    if f >= free then
      local w = math.min(cap, 1000 * 2 ^ math.min(f - free, 20)) - (now - last)
      if w > wait then wait = w end
    end
    table.insert(use, i)
    state[i] = f
  end
end
if wait > 0 then return { math.ceil(wait) } end
local out = { 0 }
for _, i in ipairs(use) do
  redis.call('HSET', KEYS[i], 'f', state[i] + 1, 'last', now)
  redis.call('PEXPIRE', KEYS[i], decay)
  table.insert(out, i)
end
return out",
    )
});

/// A login succeeded: KEYS[1] = trust flag (set for ARGV[1] s), KEYS[2..] = the counters it
/// was counted on; ARGV[i] = `1` to clear that counter (the pair's), `0` to give one back.
static LOGIN_SUCCESS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('SET', KEYS[1], 1, 'EX', ARGV[1])
for i = 2, #KEYS do
  if ARGV[i] == '1' then
    redis.call('DEL', KEYS[i])
  else
    local f = tonumber(redis.call('HGET', KEYS[i], 'f') or '0')
    if f > 0 then redis.call('HINCRBY', KEYS[i], 'f', -1) end
  end
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
            Key::AccountDevice(a, d) => format!("ad:{a}:{d}"),
            Key::Ip(ip) => format!("i:{ip}"),
            Key::Account(a) => format!("a:{a}"),
        };
        self.key(&format!("login:{}", hashed(&name)))
    }

    fn trust_key(&self, a: &Attempt) -> String {
        self.key(&format!(
            "trust:{}",
            hashed(&format!("{}:{}", a.account, a.ip))
        ))
    }

    /// Checks and reserves an attempt; `Ok(Ok((counter keys, clear-on-success flags)))` when it
    /// may go ahead.
    pub async fn login_begin(
        &self,
        a: &Attempt,
    ) -> redis::RedisResult<Result<(Vec<String>, Vec<bool>), Duration>> {
        // The untrusted key set; the script skips what a trusted pair does not count on.
        let all = login::keys_for(a, false);
        let trusted_skips = login::keys_for(a, true);
        let mut inv = LOGIN_BEGIN.key(self.trust_key(a));
        inv.arg(ms(login::DECAY));
        for (k, rule) in &all {
            inv.key(self.login_key(k));
            let skip = !trusted_skips.iter().any(|(t, _)| t == k);
            inv.arg(rule.free)
                .arg(ms(rule.cap))
                .arg(if skip { 1 } else { 0 });
        }
        let mut conn = self.conn.clone();
        let out: Vec<i64> = run(inv.invoke_async(&mut conn)).await?;
        match out.first().copied() {
            Some(0) => {
                let mut keys = Vec::new();
                let mut clear = Vec::new();
                for i in out.iter().skip(1) {
                    // Indices are KEYS positions (1-based, the trust flag first).
                    if let Some((k, _)) = usize::try_from(*i - 2).ok().and_then(|i| all.get(i)) {
                        keys.push(self.login_key(k));
                        clear.push(matches!(k, Key::AccountIp(..) | Key::AccountDevice(..)));
                    }
                }
                Ok(Ok((keys, clear)))
            }
            Some(wait) => Ok(Err(Duration::from_millis(wait.max(1) as u64))),
            None => Err(redis::RedisError::from((
                redis::ErrorKind::Parse,
                "empty answer from the login script",
            ))),
        }
    }

    pub async fn login_succeeded(
        &self,
        a: &Attempt,
        keys: &[String],
        clear: &[bool],
    ) -> redis::RedisResult<()> {
        let mut inv = LOGIN_SUCCESS.key(self.trust_key(a));
        inv.arg(login::TRUST.as_secs());
        for (k, c) in keys.iter().zip(clear) {
            inv.key(k).arg(if *c { 1 } else { 0 });
        }
        let mut conn = self.conn.clone();
        run(inv.invoke_async::<()>(&mut conn)).await
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
