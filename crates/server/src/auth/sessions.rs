//! Is the session behind an access token still live?
//!
//! Access tokens are signed and stateless for their 10 minutes, but a valid signature is not
//! enough: whoever obtained the signing secret could mint a token naming any session, and a
//! restart must not revive sessions that ended before it. So every token's `sid` is checked
//! against the store (the truth), and the answer cached briefly:
//!
//! - a session ended here or on another instance (the bus carries it) is in `revoked` at once
//!   and refused before any cache is consulted, so a cached "live" can never outlast a logout;
//! - a session the store confirmed live is trusted for [`CONFIRM_TTL`], then asked again;
//! - an unknown session, another user's session, or one revoked or expired in the store is
//!   refused.

use dashmap::DashMap;
use justus_core::bus::{BusMessage, BusSink};
use justus_core::session::RefreshPolicy;
use justus_core::store::Store;
use justus_core::{SessionId, StoreError, UserId};
use std::time::{Duration, Instant};

/// Revoked ids only need to outlive the longest access token (after that the store answers).
const KEEP_REVOKED: Duration = Duration::from_secs(super::jwt::ACCESS_TTL_SECS as u64 + 60);
/// How long a store answer of "live" is reused.
pub const CONFIRM_TTL: Duration = Duration::from_secs(30);
/// Bounds on both maps; past them, stale entries are swept (and, for the cache, it restarts).
const MAX_REVOKED: usize = 100_000;
const MAX_CONFIRMED: usize = 200_000;

/// Why a token's session was refused.
#[derive(Debug)]
pub enum Refused {
    /// Unknown, revoked, expired, or not this user's.
    Ended,
    /// The store could not answer.
    Unavailable(StoreError),
}

#[derive(Default)]
pub struct Sessions {
    revoked: DashMap<SessionId, Instant>,
    confirmed: DashMap<SessionId, (UserId, Instant)>,
}

impl Sessions {
    /// Ends a session here at once (its tokens stop working; callers also publish it).
    pub fn revoke(&self, id: SessionId) {
        let now = Instant::now();
        if self.revoked.len() >= MAX_REVOKED {
            self.revoked
                .retain(|_, at| now.duration_since(*at) < KEEP_REVOKED);
        }
        self.confirmed.remove(&id);
        self.revoked.insert(id, now);
    }

    pub fn is_revoked(&self, id: SessionId) -> bool {
        self.revoked.contains_key(&id)
    }

    /// `Ok` when `session` belongs to `user` and is live.
    pub async fn check(
        &self,
        store: &dyn Store,
        session: SessionId,
        user: UserId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), Refused> {
        if self.is_revoked(session) {
            return Err(Refused::Ended);
        }
        if let Some(hit) = self.confirmed.get(&session)
            && hit.0 == user
            && hit.1.elapsed() < CONFIRM_TTL
        {
            return Ok(());
        }
        match store.session(session).await {
            Ok(s) if s.user_id == user && s.is_live(now, &RefreshPolicy::default()) => {
                if self.confirmed.len() >= MAX_CONFIRMED {
                    self.confirmed
                        .retain(|_, (_, at)| at.elapsed() < CONFIRM_TTL);
                    if self.confirmed.len() >= MAX_CONFIRMED {
                        self.confirmed.clear();
                    }
                }
                self.confirmed.insert(session, (user, Instant::now()));
                metrics::counter!("auth_session_checks_total", "outcome" => "live").increment(1);
                Ok(())
            }
            Ok(_) | Err(StoreError::NotFound) => {
                metrics::counter!("auth_session_checks_total", "outcome" => "ended").increment(1);
                Err(Refused::Ended)
            }
            Err(e) => Err(Refused::Unavailable(e)),
        }
    }

    #[cfg(test)]
    fn confirmed_len(&self) -> usize {
        self.confirmed.len()
    }
}

/// Revocations announced by other processes (this process's own are recorded before publishing).
impl BusSink for Sessions {
    fn deliver(&self, msg: BusMessage) {
        if let BusMessage::SessionsRevoked(ids) = msg {
            for id in ids {
                self.revoke(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoking_drops_the_cached_answer() {
        let s = Sessions::default();
        let (sid, uid) = (SessionId::new(), UserId::new());
        s.confirmed.insert(sid, (uid, Instant::now()));
        assert_eq!(s.confirmed_len(), 1);
        s.revoke(sid);
        assert!(s.is_revoked(sid));
        assert_eq!(s.confirmed_len(), 0);
    }
}
