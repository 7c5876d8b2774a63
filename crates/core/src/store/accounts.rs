//! The accounts aggregate: users and their credentials, sessions, user search and blocks.

use crate::error::StoreResult;
use crate::ids::{SessionId, SignupBlockId, UserId};
use crate::instance_ban::SignupBlock;
use crate::session::{NewSession, RefreshOutcome, RefreshPolicy, Session, TokenHash};
use crate::user::{NewUser, User, UserPatch};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait Accounts: Send + Sync {
    // --- users -------------------------------------------------------------------------------

    /// Creates a user with its password hash. `Conflict("username")` / `Conflict("email")`.
    async fn create_user(&self, new: &NewUser) -> StoreResult<User>;
    async fn user_by_id(&self, id: UserId) -> StoreResult<User>;
    /// The users among `ids` that exist (unknown ids are skipped), in no particular order.
    async fn users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<User>>;
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
    /// The user's sessions that are neither revoked nor expired, newest first (idle ones are
    /// left out as [`crate::session::listing_idle_cutoff`] says).
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

    // --- users: search and blocks ------------------------------------------------------------

    /// Users whose username starts with `prefix` (lower-case), alphabetical, at most `limit`.
    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>>;
    /// `blocker` blocks `blocked` (idempotent).
    async fn block_user(
        &self,
        blocker: UserId,
        blocked: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Idempotent.
    async fn unblock_user(&self, blocker: UserId, blocked: UserId) -> StoreResult<()>;
    /// Users `blocker` has blocked.
    async fn blocked_users(&self, blocker: UserId) -> StoreResult<Vec<UserId>>;
    /// Whether either user blocked the other.
    async fn is_blocked_between(&self, a: UserId, b: UserId) -> StoreResult<bool>;
    /// Who may add `user` to a group without asking (`NotFound` for an unknown user).
    async fn group_adds(&self, user: UserId) -> StoreResult<crate::user::GroupAdds>;
    async fn set_group_adds(&self, user: UserId, policy: crate::user::GroupAdds)
    -> StoreResult<()>;

    /// Records that `user` was online until `at` ("last seen"). `NotFound` for an unknown user.
    async fn set_last_seen(&self, user: UserId, at: DateTime<Utc>) -> StoreResult<()>;
    /// When `user` was last seen online, if ever recorded.
    async fn last_seen(&self, user: UserId) -> StoreResult<Option<DateTime<Utc>>>;

    // --- instance-wide bans (see [`crate::instance_ban`]) -------------------------------------

    /// Suspends (`suspend`) or reinstates `user`, audited with `reason`, in one transaction;
    /// suspending revokes every live session and returns their ids. `Ok(None)` when the account
    /// already was in that state (nothing changed, nothing audited); `NotFound` for an unknown
    /// user.
    async fn set_suspended(
        &self,
        user: UserId,
        suspend: bool,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Vec<SessionId>>>;
    /// Suspended accounts, most recently suspended first.
    async fn suspended_users(&self) -> StoreResult<Vec<User>>;
    /// Every sign-up block, newest first.
    async fn signup_blocks(&self) -> StoreResult<Vec<SignupBlock>>;
    /// Adds a block (audited). `Conflict("cidr")` when that range is already blocked.
    async fn add_signup_block(&self, block: &SignupBlock) -> StoreResult<()>;
    /// Lifts a block (audited, with `reason`); returns it. `NotFound` if there is none.
    async fn remove_signup_block(
        &self,
        id: SignupBlockId,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<SignupBlock>;
}
