//! Revoked sessions whose access tokens may still be unexpired.
//!
//! Access tokens are stateless for their 10 minutes; logout, logout-all, password change and
//! reuse detection put the session here so its tokens stop working at once. Entries only need
//! to outlive the longest access token, so the set stays small and is swept as it grows.
//! With several instances the bus carries revocations to the others ([`BusSink`] below).

use dashmap::DashMap;
use justus_core::SessionId;
use justus_core::bus::{BusMessage, BusSink};
use std::time::{Duration, Instant};

const KEEP: Duration = Duration::from_secs(super::jwt::ACCESS_TTL_SECS as u64 + 60);

#[derive(Default)]
pub struct Revocations {
    revoked: DashMap<SessionId, Instant>,
}

impl Revocations {
    pub fn revoke(&self, id: SessionId) {
        let now = Instant::now();
        if self.revoked.len() > 10_000 {
            self.revoked.retain(|_, at| now.duration_since(*at) < KEEP);
        }
        self.revoked.insert(id, now);
    }

    pub fn is_revoked(&self, id: SessionId) -> bool {
        self.revoked.contains_key(&id)
    }
}

/// Revocations announced by other processes (this process's own are recorded before publishing).
impl BusSink for Revocations {
    fn deliver(&self, msg: BusMessage) {
        if let BusMessage::SessionsRevoked(ids) = msg {
            for id in ids {
                self.revoke(id);
            }
        }
    }
}
