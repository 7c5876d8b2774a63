//! Sessions and refresh-token rotation.
//!
//! A session is one refresh-token *family*: login creates it with a first token; every refresh
//! replaces the presented token with a new one. The rules deciding what a presented token gets
//! live here, as a pure function the stores call inside their transaction, so both databases
//! apply exactly the same policy (written down in docs/security.md).

use crate::ids::{SessionId, UserId};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// SHA-256 of an opaque refresh token. Only the hash is ever stored.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

/// A login session (= a refresh-token family).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    /// Absolute expiry, fixed at login.
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Input for a new session.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub token: TokenHash,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// One refresh token of a family as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshRecord {
    pub hash: TokenHash,
    pub session_id: SessionId,
    pub created_at: DateTime<Utc>,
    /// Set when the token was exchanged for its successor.
    pub replaced_at: Option<DateTime<Utc>>,
}

/// Lifetimes and the grace rule.
#[derive(Clone, Copy, Debug)]
pub struct RefreshPolicy {
    /// A session unused for this long is over (idle expiry).
    pub idle: Duration,
    /// How long after a rotation the previous token may still be exchanged once more, provided
    /// its successor was never used: the client most likely lost the response.
    pub grace: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::days(7),
            grace: Duration::seconds(30),
        }
    }
}

/// Sessions unused since before this are no longer listed by
/// [`crate::store::Accounts::list_sessions`]. The listing is not given the idle policy, so the
/// default one is assumed: a session idle that long could not be refreshed anyway.
pub fn listing_idle_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now - RefreshPolicy::default().idle
}

/// What a presented refresh token gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshDecision {
    /// Exchange it: mark it replaced, issue a successor.
    Rotate,
    /// A retry within the grace window after a lost response: the unused successor is retired
    /// too (its `replaced_at` set, with *no* successor of its own, so presenting it later is a
    /// replay), the presented token's successor becomes the fresh one (its `replaced_at` stays
    /// as it was: the window does not restart) and a fresh successor is issued.
    RotateWithinGrace,
    /// Replay of a retired token: the family is compromised. Revoke the whole session.
    ReuseDetected,
    /// Session revoked or past its absolute or idle expiry.
    Expired,
}

impl Session {
    /// Not revoked and within its absolute and idle expiry: its tokens may be used.
    pub fn is_live(&self, now: DateTime<Utc>, policy: &RefreshPolicy) -> bool {
        self.revoked_at.is_none() && now < self.expires_at && now - self.last_used_at < policy.idle
    }
}

/// Decides the fate of a presented token. `successor` is the token that replaced it, if any.
pub fn decide_refresh(
    session: &Session,
    token: &RefreshRecord,
    successor: Option<&RefreshRecord>,
    now: DateTime<Utc>,
    policy: &RefreshPolicy,
) -> RefreshDecision {
    if !session.is_live(now, policy) {
        return RefreshDecision::Expired;
    }
    match token.replaced_at {
        None => RefreshDecision::Rotate,
        Some(replaced) => {
            let successor_unused = successor.is_some_and(|s| s.replaced_at.is_none());
            if now - replaced <= policy.grace && successor_unused {
                RefreshDecision::RotateWithinGrace
            } else {
                RefreshDecision::ReuseDetected
            }
        }
    }
}

/// Result of a refresh attempt as the store reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The new token is stored; here is the (touched) session.
    Rotated(Session),
    /// Unknown token.
    Invalid,
    Expired,
    /// The family was revoked because a retired token was replayed.
    ReuseDetected {
        session_id: SessionId,
        user_id: UserId,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn session() -> Session {
        Session {
            id: SessionId::new(),
            user_id: UserId::new(),
            created_at: at(0),
            last_used_at: at(0),
            expires_at: at(30 * 86400),
            user_agent: None,
            ip: None,
            revoked_at: None,
        }
    }

    fn token(replaced: Option<i64>) -> RefreshRecord {
        RefreshRecord {
            hash: TokenHash([1; 32]),
            session_id: SessionId::new(),
            created_at: at(0),
            replaced_at: replaced.map(at),
        }
    }

    #[test]
    fn fresh_token_rotates() {
        let p = RefreshPolicy::default();
        assert_eq!(
            decide_refresh(&session(), &token(None), None, at(60), &p),
            RefreshDecision::Rotate
        );
    }

    #[test]
    fn replay_within_grace_with_unused_successor_rotates_again() {
        let p = RefreshPolicy::default();
        let succ = token(None);
        assert_eq!(
            decide_refresh(&session(), &token(Some(10)), Some(&succ), at(20), &p),
            RefreshDecision::RotateWithinGrace
        );
    }

    #[test]
    fn replay_after_grace_or_after_successor_used_is_reuse() {
        let p = RefreshPolicy::default();
        assert_eq!(
            decide_refresh(&session(), &token(Some(10)), Some(&token(None)), at(41), &p),
            RefreshDecision::ReuseDetected
        );
        assert_eq!(
            decide_refresh(
                &session(),
                &token(Some(10)),
                Some(&token(Some(12))),
                at(15),
                &p
            ),
            RefreshDecision::ReuseDetected
        );
        assert_eq!(
            decide_refresh(&session(), &token(Some(10)), None, at(15), &p),
            RefreshDecision::ReuseDetected
        );
    }

    #[test]
    fn expiry_absolute_idle_and_revoked() {
        let p = RefreshPolicy::default();
        let mut s = session();
        assert_eq!(
            decide_refresh(&s, &token(None), None, at(7 * 86400), &p),
            RefreshDecision::Expired
        );
        s.last_used_at = at(29 * 86400);
        assert_eq!(
            decide_refresh(&s, &token(None), None, at(30 * 86400), &p),
            RefreshDecision::Expired
        );
        let mut s = session();
        s.revoked_at = Some(at(1));
        assert_eq!(
            decide_refresh(&s, &token(None), None, at(2), &p),
            RefreshDecision::Expired
        );
    }
}
