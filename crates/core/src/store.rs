//! The `Store` port: everything JustUs persists. One adapter per database
//! (`justus-store-sqlite`, `justus-store-postgres`); both pass [`crate::testing`]'s suite.

use crate::error::StoreResult;
use crate::ids::{SessionId, UserId};
use crate::session::{NewSession, RefreshOutcome, RefreshPolicy, Session, TokenHash};
use crate::user::{NewUser, User, UserPatch};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Connection pool occupancy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A cheap round trip, for readiness checks.
    async fn ping(&self) -> StoreResult<()>;

    /// Connection pool occupancy, for metrics; `None` where the adapter has no pool.
    fn pool_stats(&self) -> Option<PoolStats> {
        None
    }

    // --- users -------------------------------------------------------------------------------

    /// Creates a user with its password hash. `Conflict("username")` / `Conflict("email")`.
    async fn create_user(&self, new: &NewUser) -> StoreResult<User>;
    async fn user_by_id(&self, id: UserId) -> StoreResult<User>;
    /// Finds an account by username or e-mail (both stored lower-case), with its password hash.
    async fn user_by_login(&self, login: &str) -> StoreResult<(User, String)>;
    async fn password_hash(&self, id: UserId) -> StoreResult<String>;
    async fn update_user(
        &self,
        id: UserId,
        patch: &UserPatch,
        now: DateTime<Utc>,
    ) -> StoreResult<User>;
    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    // --- sessions ----------------------------------------------------------------------------

    async fn create_session(&self, new: &NewSession) -> StoreResult<Session>;
    async fn session(&self, id: SessionId) -> StoreResult<Session>;
    /// Exchanges `presented` for `next` atomically, applying
    /// [`crate::session::decide_refresh`]; a replay revokes the session.
    async fn refresh(
        &self,
        presented: &TokenHash,
        next: &TokenHash,
        now: DateTime<Utc>,
        policy: &RefreshPolicy,
    ) -> StoreResult<RefreshOutcome>;
    /// The user's sessions that are neither revoked nor expired, newest first.
    async fn list_sessions(&self, user: UserId, now: DateTime<Utc>) -> StoreResult<Vec<Session>>;
    /// Revokes one session of `user`; `NotFound` if it is not theirs or already gone.
    async fn revoke_session(
        &self,
        user: UserId,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Revokes every live session of `user` except `keep`; returns the revoked ids.
    async fn revoke_sessions(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionId>>;
}
