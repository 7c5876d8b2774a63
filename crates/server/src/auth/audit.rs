//! Security events in the log: failed logins and refused authorizations, with who (user id, or
//! a hash of the login typed: never the login itself, never a password), from where and why.
//!
//! An attacker controls how many of these happen, so the log lines are rate-limited (a token
//! bucket for the whole process); suppressed lines are counted, reported on the next line that
//! gets through, and every event is still counted in `security_events_total`.

use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Lines per second, sustained, and the burst allowed.
const PER_SECOND: f64 = 20.0;
const BURST: f64 = 100.0;

struct Bucket {
    tokens: f64,
    at: Instant,
}

static BUCKET: Mutex<Option<Bucket>> = Mutex::new(None);
static SUPPRESSED: AtomicU64 = AtomicU64::new(0);

/// Whether a line may be written now; `Some(n)`: yes, after `n` suppressed ones.
fn admit() -> Option<u64> {
    let mut b = BUCKET.lock();
    let now = Instant::now();
    let bucket = b.get_or_insert(Bucket {
        tokens: BURST,
        at: now,
    });
    bucket.tokens =
        (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * PER_SECOND).min(BURST);
    bucket.at = now;
    if bucket.tokens >= 1.0 {
        bucket.tokens -= 1.0;
        Some(SUPPRESSED.swap(0, Ordering::Relaxed))
    } else {
        SUPPRESSED.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("security_log_suppressed_total").increment(1);
        None
    }
}

/// A short, stable, non-reversible handle for a login as typed (to correlate attempts).
pub fn login_hash(login: &str) -> String {
    hex::encode(&Sha256::digest(login.as_bytes())[..8])
}

/// A password check failed or was throttled.
pub fn login_failed(login: &str, user: Option<justus_core::UserId>, ip: IpAddr, reason: &str) {
    metrics::counter!("security_events_total", "event" => "login_failed", "reason" => reason.to_owned())
        .increment(1);
    if let Some(suppressed) = admit() {
        tracing::warn!(
            target: "security",
            event = "login_failed",
            login_hash = %login_hash(login),
            user = user.map(|u| u.to_string()),
            ip = %ip,
            reason,
            suppressed,
            "password check refused"
        );
    }
}

/// A request was refused for lack of authentication or permission (401/403). The request's
/// span carries the route, request id and, when known, the user id.
pub fn access_refused(status: u16, code: &str, ip: Option<IpAddr>) {
    metrics::counter!("security_events_total", "event" => "access_refused", "reason" => code.to_owned())
        .increment(1);
    if let Some(suppressed) = admit() {
        tracing::warn!(
            target: "security",
            event = "access_refused",
            status,
            reason = code,
            ip = ip.map(|i| i.to_string()),
            suppressed,
            "request refused"
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_flood_is_suppressed_and_counted() {
        let mut written = 0;
        for _ in 0..10_000 {
            if super::admit().is_some() {
                written += 1;
            }
        }
        // The burst, plus what refilled during the loop (well under a second).
        assert!(written <= 150, "{written}");
        assert!(super::SUPPRESSED.load(std::sync::atomic::Ordering::Relaxed) >= 9_000);
    }
}
