//! The [`Store`] port on PostgreSQL, for scaled-out deployments.
//!
//! Queries are checked at run time (no database is needed to build); the schema lives in
//! `migrations/` and is applied by [`PgStore::connect`]. Driver errors are mapped to
//! [`StoreError`] in one place (`errors.rs`), rows to domain types in `rows.rs`.
//!
//! Refresh-token rotation runs in one transaction that first locks the session row: the
//! session is the token family, so its row lock serialises every refresh of the family (and
//! always taking it first keeps the lock order deadlock-free).
//!
//! Conversations (`rooms.rs`, `messages.rs`, shared parts in `history.rs`): every history change
//! takes its room's next seq with `UPDATE rooms … RETURNING last_seq` inside its transaction,
//! so a room's writers serialise on that one row lock (other rooms are unaffected) and a write
//! that fails or turns out to be a no-op rolls back, giving its seq back: seqs stay gap-free.
#![forbid(unsafe_code)]

#[macro_use]
mod rows;
mod ai;
mod avatars;
mod errors;
mod history;
mod media;
mod messages;
mod rooms;
#[cfg(feature = "testing")]
pub mod testing;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use errors::MapErr;
use justus_core::ai::AiPrefs;
use justus_core::event::{EventPage, RoomEvent};
use justus_core::media::Media;
use justus_core::message::{Message, NewMessage, Page};
use justus_core::room::{Invite, Member, NewGroup, Role, Room, RoomPatch, RoomSummary};
use justus_core::session::{
    NewSession, RefreshDecision, RefreshOutcome, RefreshPolicy, Session, TokenHash, decide_refresh,
};
use justus_core::store::{PoolStats, SearchHit, SendOutcome, Store};
use justus_core::user::{NewUser, User, UserPatch};
use justus_core::{MediaId, MessageId, RoomId, SessionId, StoreError, StoreResult, UserId};
use rows::{LoginRow, SessionRow, TokenRow, UserRow};
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::time::Duration;
use uuid::Uuid;

/// How long a request waits for a pooled connection before the store reports `Unavailable`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A [`Store`] backed by a PostgreSQL connection pool.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url`, keeping up to `max_connections` connections, and applies pending
    /// migrations (under PostgreSQL's advisory lock, so concurrent instances are safe).
    pub async fn connect(url: &str, max_connections: u32) -> Result<PgStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        sqlx::migrate!().run(&pool).await.map_err(|e| {
            StoreError::Unavailable(format!("cannot apply PostgreSQL migrations: {e}"))
        })?;
        tracing::debug!(
            max_connections,
            "connected to PostgreSQL, schema up to date"
        );
        Ok(PgStore { pool })
    }

    /// The underlying pool (for adapters sharing the database, and for tests).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Sessions unused since before this are no longer listed. [`Store::list_sessions`] is not
/// given the idle policy, so the default one is assumed (as the SQLite adapter does).
fn listing_idle_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now - RefreshPolicy::default().idle
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.store()?;
        Ok(())
    }

    /// `txid_current()` assigns a transaction id, so its commit writes WAL: it fails on a
    /// read-only server (a standby after a failover, `default_transaction_read_only`) and when
    /// PostgreSQL cannot write. Any failure here means writes would fail: `Unavailable`.
    async fn check_writable(&self) -> StoreResult<()> {
        sqlx::query("SELECT txid_current()")
            .execute(&self.pool)
            .await
            .map_err(|e| match errors::map(e) {
                StoreError::Other(why) => StoreError::Unavailable(why),
                other => other,
            })?;
        Ok(())
    }

    fn pool_stats(&self) -> Option<PoolStats> {
        Some(PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        })
    }

    // --- users -------------------------------------------------------------------------------

    async fn create_user(&self, new: &NewUser) -> StoreResult<User> {
        let mut tx = self.pool.begin().await.store()?;
        let user: UserRow = sqlx::query_as(concat!(
            "INSERT INTO users AS u (id, username, email, display_name, created_at, updated_at) ",
            "VALUES ($1, $2, $3, $4, $5, $5) RETURNING ",
            user_columns!()
        ))
        .bind(new.id.as_uuid())
        .bind(new.username.as_str())
        .bind(new.email.as_ref().map(|e| e.as_str()))
        .bind(new.display_name.as_str())
        .bind(new.now)
        .fetch_one(&mut *tx)
        .await
        .store()?;
        sqlx::query(
            "INSERT INTO credentials (user_id, password_hash, updated_at) VALUES ($1, $2, $3)",
        )
        .bind(new.id.as_uuid())
        .bind(&new.password_hash)
        .bind(new.now)
        .execute(&mut *tx)
        .await
        .store()?;
        tx.commit().await.store()?;
        Ok(user.into())
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<User> {
        let user: UserRow = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.id = $1"
        ))
        .bind(id.as_uuid())
        .fetch_one(&self.pool)
        .await
        .store()?;
        Ok(user.into())
    }

    async fn users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<uuid::Uuid> = ids.iter().map(|u| u.as_uuid()).collect();
        let rows: Vec<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.id = ANY($1)"
        ))
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .store()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn user_by_login(&self, login: &str) -> StoreResult<(User, String)> {
        // A username cannot contain '@' and an e-mail address must, so at most one row matches.
        let row: LoginRow = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            ", c.password_hash FROM users u JOIN credentials c ON c.user_id = u.id ",
            "WHERE u.username = $1 OR u.email = $1"
        ))
        .bind(login)
        .fetch_one(&self.pool)
        .await
        .store()?;
        Ok((row.user.into(), row.password_hash))
    }

    async fn password_hash(&self, id: UserId) -> StoreResult<String> {
        sqlx::query_scalar("SELECT password_hash FROM credentials WHERE user_id = $1")
            .bind(id.as_uuid())
            .fetch_one(&self.pool)
            .await
            .store()
    }

    async fn update_user(
        &self,
        id: UserId,
        patch: &UserPatch,
        now: DateTime<Utc>,
    ) -> StoreResult<User> {
        let user: UserRow = sqlx::query_as(concat!(
            "UPDATE users AS u SET ",
            "display_name = COALESCE($2, u.display_name), ",
            "email = CASE WHEN $3 THEN $4 ELSE u.email END, ",
            "updated_at = $5 ",
            "WHERE u.id = $1 RETURNING ",
            user_columns!()
        ))
        .bind(id.as_uuid())
        .bind(patch.display_name.as_ref().map(|d| d.as_str()))
        .bind(patch.email.is_some())
        .bind(
            patch
                .email
                .as_ref()
                .and_then(|e| e.as_ref())
                .map(|e| e.as_str()),
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .store()?;
        Ok(user.into())
    }

    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE credentials SET password_hash = $2, updated_at = $3 WHERE user_id = $1",
        )
        .bind(id.as_uuid())
        .bind(hash)
        .bind(now)
        .execute(&self.pool)
        .await
        .store()?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    // --- sessions ----------------------------------------------------------------------------

    async fn create_session(&self, new: &NewSession) -> StoreResult<Session> {
        let mut tx = self.pool.begin().await.store()?;
        let session: SessionRow = sqlx::query_as(concat!(
            "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip) ",
            "VALUES ($1, $2, $3, $3, $4, $5, $6) RETURNING ",
            session_columns!()
        ))
        .bind(new.id.as_uuid())
        .bind(new.user_id.as_uuid())
        .bind(new.now)
        .bind(new.expires_at)
        .bind(new.user_agent.as_deref())
        .bind(new.ip.as_deref())
        .fetch_one(&mut *tx)
        .await
        .store()?;
        insert_token(&mut tx, &new.token, new.id, new.now).await?;
        tx.commit().await.store()?;
        Ok(session.into())
    }

    async fn session(&self, id: SessionId) -> StoreResult<Session> {
        let session: SessionRow = sqlx::query_as(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE id = $1"
        ))
        .bind(id.as_uuid())
        .fetch_one(&self.pool)
        .await
        .store()?;
        Ok(session.into())
    }

    async fn refresh(
        &self,
        presented: &TokenHash,
        next: &TokenHash,
        now: DateTime<Utc>,
        policy: &RefreshPolicy,
    ) -> StoreResult<RefreshOutcome> {
        let mut tx = self.pool.begin().await.store()?;

        // Which family? A token never moves between sessions, so this needs no lock.
        let session_id: Option<Uuid> =
            sqlx::query_scalar("SELECT session_id FROM refresh_tokens WHERE hash = $1")
                .bind(&presented.0[..])
                .fetch_optional(&mut *tx)
                .await
                .store()?;
        let Some(session_id) = session_id else {
            return Ok(RefreshOutcome::Invalid);
        };

        // Lock the family. Every refresh takes this lock before touching any of the family's
        // tokens, so a concurrent refresh waits here and then (READ COMMITTED: each statement
        // sees what committed before it started) reads the tokens as the winner left them.
        let session: Session = sqlx::query_as::<_, SessionRow>(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE id = $1 FOR UPDATE"
        ))
        .bind(session_id)
        .fetch_one(&mut *tx)
        .await
        .store()?
        .into();

        let token: TokenRow = sqlx::query_as(concat!(
            "SELECT ",
            token_columns!(),
            " FROM refresh_tokens WHERE hash = $1 FOR UPDATE"
        ))
        .bind(&presented.0[..])
        .fetch_one(&mut *tx)
        .await
        .store()?;
        let successor = match token.replaced_by()? {
            None => None,
            Some(hash) => sqlx::query_as::<_, TokenRow>(concat!(
                "SELECT ",
                token_columns!(),
                " FROM refresh_tokens WHERE hash = $1 FOR UPDATE"
            ))
            .bind(&hash.0[..])
            .fetch_optional(&mut *tx)
            .await
            .store()?
            .map(TokenRow::into_record)
            .transpose()?,
        };
        let token = token.into_record()?;

        match decide_refresh(&session, &token, successor.as_ref(), now, policy) {
            RefreshDecision::Expired => Ok(RefreshOutcome::Expired),
            RefreshDecision::ReuseDetected => {
                sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1")
                    .bind(session.id.as_uuid())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .store()?;
                tx.commit().await.store()?;
                Ok(RefreshOutcome::ReuseDetected {
                    session_id: session.id,
                    user_id: session.user_id,
                })
            }
            RefreshDecision::Rotate => {
                sqlx::query(
                    "UPDATE refresh_tokens SET replaced_at = $2, replaced_by = $3 WHERE hash = $1",
                )
                .bind(&presented.0[..])
                .bind(now)
                .bind(&next.0[..])
                .execute(&mut *tx)
                .await
                .store()?;
                let session = issue_and_touch(&mut tx, next, session.id, now).await?;
                tx.commit().await.store()?;
                Ok(RefreshOutcome::Rotated(session))
            }
            RefreshDecision::RotateWithinGrace => {
                // The undelivered successor is retired *without* a successor of its own: were it
                // ever presented, that is a replay (`decide_refresh` sees no unused successor),
                // not another grace retry. Otherwise two racing refreshes could each keep a
                // live token and the family would fork.
                if let Some(successor) = &successor {
                    sqlx::query("UPDATE refresh_tokens SET replaced_at = $2 WHERE hash = $1")
                        .bind(&successor.hash.0[..])
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .store()?;
                }
                // The presented token keeps its original `replaced_at`, so the grace window is
                // not extended by retries; it now points at the fresh successor.
                sqlx::query("UPDATE refresh_tokens SET replaced_by = $2 WHERE hash = $1")
                    .bind(&presented.0[..])
                    .bind(&next.0[..])
                    .execute(&mut *tx)
                    .await
                    .store()?;
                let session = issue_and_touch(&mut tx, next, session.id, now).await?;
                tx.commit().await.store()?;
                Ok(RefreshOutcome::Rotated(session))
            }
        }
    }

    async fn list_sessions(&self, user: UserId, now: DateTime<Utc>) -> StoreResult<Vec<Session>> {
        let sessions: Vec<SessionRow> = sqlx::query_as(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions ",
            "WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_used_at > $3 ",
            "ORDER BY created_at DESC, id DESC"
        ))
        .bind(user.as_uuid())
        .bind(now)
        .bind(listing_idle_cutoff(now))
        .fetch_all(&self.pool)
        .await
        .store()?;
        Ok(sessions.into_iter().map(Session::from).collect())
    }

    async fn revoke_session(
        &self,
        user: UserId,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let done =
            sqlx::query("UPDATE sessions SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL")
                .bind(id.as_uuid())
                .bind(user.as_uuid())
                .bind(now)
                .execute(&self.pool)
                .await
                .store()?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn revoke_sessions(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionId>> {
        let ids: Vec<Uuid> = sqlx::query_scalar(concat!(
            "UPDATE sessions SET revoked_at = $3 ",
            "WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2) ",
            "RETURNING id"
        ))
        .bind(user.as_uuid())
        .bind(keep.map(|k| k.as_uuid()))
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .store()?;
        Ok(ids.into_iter().map(SessionId).collect())
    }

    // --- users: search and blocks ------------------------------------------------------------

    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>> {
        rooms::search_users(&self.pool, prefix, limit).await
    }
    async fn block_user(
        &self,
        blocker: UserId,
        blocked: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        rooms::block_user(&self.pool, blocker, blocked, now).await
    }
    async fn unblock_user(&self, blocker: UserId, blocked: UserId) -> StoreResult<()> {
        rooms::unblock_user(&self.pool, blocker, blocked).await
    }
    async fn blocked_users(&self, blocker: UserId) -> StoreResult<Vec<UserId>> {
        rooms::blocked_users(&self.pool, blocker).await
    }
    async fn is_blocked_between(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        rooms::is_blocked_between(&self.pool, a, b).await
    }

    // --- rooms -------------------------------------------------------------------------------

    async fn create_group(&self, new: &NewGroup) -> StoreResult<(Room, RoomEvent)> {
        rooms::create_group(&self.pool, new).await
    }
    async fn open_dm(
        &self,
        id: RoomId,
        a: UserId,
        b: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Room, bool, Vec<RoomEvent>)> {
        rooms::open_dm(&self.pool, id, a, b, now).await
    }
    async fn room(&self, id: RoomId) -> StoreResult<Room> {
        rooms::room(&self.pool, id).await
    }
    async fn update_room(
        &self,
        id: RoomId,
        patch: &RoomPatch,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Room, RoomEvent)> {
        rooms::update_room(&self.pool, id, patch, actor, now).await
    }
    async fn delete_room(
        &self,
        id: RoomId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        rooms::delete_room(&self.pool, id, actor, now).await
    }
    async fn rooms_for_user(&self, user: UserId) -> StoreResult<Vec<RoomSummary>> {
        rooms::rooms_for_user(&self.pool, user).await
    }

    // --- membership --------------------------------------------------------------------------

    async fn member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Member>> {
        rooms::member(&self.pool, room, user).await
    }
    async fn room_and_member(
        &self,
        room: RoomId,
        user: UserId,
    ) -> StoreResult<(Room, Option<Member>)> {
        rooms::room_and_member(&self.pool, room, user).await
    }
    async fn members(&self, room: RoomId) -> StoreResult<Vec<Member>> {
        rooms::members(&self.pool, room).await
    }
    async fn add_member(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        actor: UserId,
        max_members: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<(Member, RoomEvent)> {
        rooms::add_member(&self.pool, room, user, role, actor, max_members, now).await
    }
    async fn set_role(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        rooms::set_role(&self.pool, room, user, role, actor, now).await
    }
    async fn transfer_ownership(
        &self,
        room: RoomId,
        from: UserId,
        to: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<RoomEvent>> {
        rooms::transfer_ownership(&self.pool, room, from, to, now).await
    }
    async fn remove_member(
        &self,
        room: RoomId,
        user: UserId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        rooms::remove_member(&self.pool, room, user, actor, now).await
    }
    async fn ban(
        &self,
        room: RoomId,
        user: UserId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        rooms::ban(&self.pool, room, user, actor, now).await
    }
    async fn unban(&self, room: RoomId, user: UserId) -> StoreResult<()> {
        rooms::unban(&self.pool, room, user).await
    }
    async fn bans(&self, room: RoomId) -> StoreResult<Vec<UserId>> {
        rooms::bans(&self.pool, room).await
    }
    async fn is_banned(&self, room: RoomId, user: UserId) -> StoreResult<bool> {
        rooms::is_banned(&self.pool, room, user).await
    }

    // --- invites -----------------------------------------------------------------------------

    async fn create_invite(&self, invite: &Invite) -> StoreResult<()> {
        rooms::create_invite(&self.pool, invite).await
    }
    async fn invite(&self, code: &str) -> StoreResult<Invite> {
        rooms::invite(&self.pool, code).await
    }
    async fn accept_invite(
        &self,
        code: &str,
        user: UserId,
        max_members: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<(Member, RoomEvent)> {
        rooms::accept_invite(&self.pool, code, user, max_members, now).await
    }

    // --- messages ----------------------------------------------------------------------------

    async fn send_message(&self, new: &NewMessage) -> StoreResult<SendOutcome> {
        messages::send_message(&self.pool, new).await
    }
    async fn message(&self, room: RoomId, id: MessageId) -> StoreResult<Message> {
        messages::message(&self.pool, room, id).await
    }
    async fn messages(&self, room: RoomId, page: Page, limit: u32) -> StoreResult<Vec<Message>> {
        messages::messages(&self.pool, room, page, limit).await
    }
    async fn edit_message(
        &self,
        room: RoomId,
        id: MessageId,
        body: &str,
        mentions: &[UserId],
        mentions_room: bool,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Message, RoomEvent)> {
        messages::edit_message(
            &self.pool,
            room,
            id,
            body,
            mentions,
            mentions_room,
            actor,
            now,
        )
        .await
    }
    async fn edit_history(
        &self,
        room: RoomId,
        id: MessageId,
    ) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
        messages::edit_history(&self.pool, room, id).await
    }
    async fn delete_message(
        &self,
        room: RoomId,
        id: MessageId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        messages::delete_message(&self.pool, room, id, actor, now).await
    }
    async fn set_reaction(
        &self,
        room: RoomId,
        id: MessageId,
        user: UserId,
        emoji: &str,
        add: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<RoomEvent>> {
        messages::set_reaction(&self.pool, room, id, user, emoji, add, now).await
    }
    async fn set_pinned(
        &self,
        room: RoomId,
        id: MessageId,
        pinned: bool,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<RoomEvent>> {
        messages::set_pinned(&self.pool, room, id, pinned, actor, now).await
    }
    async fn pinned(&self, room: RoomId) -> StoreResult<Vec<Message>> {
        messages::pinned(&self.pool, room).await
    }

    // --- history, read state, search -------------------------------------------------------

    async fn events(&self, room: RoomId, after: i64, limit: u32) -> StoreResult<EventPage> {
        messages::events(&self.pool, room, after, limit).await
    }
    async fn mark_read(&self, room: RoomId, user: UserId, seq: i64) -> StoreResult<i64> {
        messages::mark_read(&self.pool, room, user, seq).await
    }
    async fn search(
        &self,
        user: UserId,
        query: &str,
        room: Option<RoomId>,
        limit: u32,
    ) -> StoreResult<Vec<SearchHit>> {
        messages::search(&self.pool, user, query, room, limit).await
    }

    // --- ai ----------------------------------------------------------------------------------

    async fn room_ai_enabled(&self, room: RoomId) -> StoreResult<bool> {
        ai::room_ai_enabled(&self.pool, room).await
    }

    async fn set_room_ai_enabled(
        &self,
        room: RoomId,
        enabled: bool,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        ai::set_room_ai_enabled(&self.pool, room, enabled, actor, now).await
    }

    async fn ai_prefs(&self, user: UserId) -> StoreResult<AiPrefs> {
        ai::ai_prefs(&self.pool, user).await
    }

    async fn set_ai_prefs(
        &self,
        user: UserId,
        prefs: &AiPrefs,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        ai::set_ai_prefs(&self.pool, user, prefs, now).await
    }

    async fn translation(
        &self,
        message: MessageId,
        version: i64,
        lang: &str,
    ) -> StoreResult<Option<String>> {
        ai::translation(&self.pool, message, version, lang).await
    }

    async fn put_translation(
        &self,
        message: MessageId,
        version: i64,
        lang: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        ai::put_translation(&self.pool, message, version, lang, text, now).await
    }

    // --- media -------------------------------------------------------------------------------

    async fn create_media(&self, m: &Media) -> StoreResult<()> {
        media::create(&self.pool, m).await
    }

    async fn create_media_within_quota(&self, m: &Media, quota: i64) -> StoreResult<()> {
        media::create_within_quota(&self.pool, m, quota).await
    }

    async fn media(&self, id: MediaId) -> StoreResult<Media> {
        media::by_id(&self.pool, id).await
    }

    async fn media_owned_by(&self, owner: UserId, ids: &[MediaId]) -> StoreResult<Vec<Media>> {
        media::owned_by(&self.pool, owner, ids).await
    }

    async fn media_usage(&self, owner: UserId) -> StoreResult<i64> {
        media::usage(&self.pool, owner).await
    }

    async fn media_visible_to(&self, id: MediaId, user: UserId) -> StoreResult<bool> {
        media::visible_to(&self.pool, id, user).await
    }

    async fn mark_media_attached(&self, id: MediaId, now: DateTime<Utc>) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.store()?;
        media::mark_attached(&mut conn, id, now).await
    }

    async fn unattached_media(&self, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Media>> {
        media::unattached(&self.pool, cutoff, limit).await
    }

    async fn delete_unattached_media(&self, id: MediaId) -> StoreResult<bool> {
        media::delete_unattached(&self.pool, id).await
    }

    // --- avatars -----------------------------------------------------------------------------

    async fn set_user_avatar(
        &self,
        user: UserId,
        avatar: Option<MediaId>,
        now: DateTime<Utc>,
    ) -> StoreResult<User> {
        avatars::set_user_avatar(&self.pool, user, avatar, now).await
    }

    async fn set_room_avatar(
        &self,
        room: RoomId,
        avatar: Option<MediaId>,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Room, RoomEvent)> {
        avatars::set_room_avatar(&self.pool, room, avatar, actor, now).await
    }
}

async fn insert_token(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    hash: &TokenHash,
    session: SessionId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ($1, $2, $3)")
        .bind(&hash.0[..])
        .bind(session.as_uuid())
        .bind(now)
        .execute(&mut **tx)
        .await
        .store()?;
    Ok(())
}

/// Stores `next` as the family's live token and marks the session used at `now`.
async fn issue_and_touch(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    next: &TokenHash,
    session: SessionId,
    now: DateTime<Utc>,
) -> StoreResult<Session> {
    insert_token(tx, next, session, now).await?;
    let session: SessionRow = sqlx::query_as(concat!(
        "UPDATE sessions SET last_used_at = $2 WHERE id = $1 RETURNING ",
        session_columns!()
    ))
    .bind(session.as_uuid())
    .bind(now)
    .fetch_one(&mut **tx)
    .await
    .store()?;
    Ok(session.into())
}
