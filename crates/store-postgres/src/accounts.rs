//! Accounts and sessions; user search and blocks.
//!
//! Refresh-token rotation runs in one transaction that first locks the session row: the
//! session is the token family, so its row lock serialises every refresh of the family (and
//! always taking it first keeps the lock order deadlock-free).

use crate::PgStore;
use crate::errors::MapErr;
use crate::rows::{LoginRow, SessionRow, SignupBlockRow, TokenRow, UserRow};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::audit;
use justus_core::instance_ban::SignupBlock;
use justus_core::session::{
    NewSession, RefreshDecision, RefreshOutcome, RefreshPolicy, Session, TokenHash, decide_refresh,
    listing_idle_cutoff,
};
use justus_core::store::Accounts;
use justus_core::user::{NewUser, User, UserPatch};
use justus_core::{SessionId, SignupBlockId, StoreError, StoreResult, UserId};
use uuid::Uuid;

/// `s` with LIKE's wildcards (and its escape character) escaped.
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[async_trait]
impl Accounts for PgStore {
    // --- users -------------------------------------------------------------------------------

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "create_user", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "create_user"))]
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

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "user_by_id", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "user_by_id"))]
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

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "users_by_ids", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "users_by_ids"))]
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

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "user_by_login", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "user_by_login"))]
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

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "password_hash", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "password_hash"))]
    async fn password_hash(&self, id: UserId) -> StoreResult<String> {
        sqlx::query_scalar("SELECT password_hash FROM credentials WHERE user_id = $1")
            .bind(id.as_uuid())
            .fetch_one(&self.pool)
            .await
            .store()
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "update_user", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "update_user"))]
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

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_password_hash", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "set_password_hash"))]
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

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "create_session", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "create_session"))]
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

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "session", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "session"))]
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

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "refresh", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "refresh"))]
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

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "list_sessions", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "list_sessions"))]
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

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "revoke_session", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "revoke_session"))]
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

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "revoke_sessions", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "revoke_sessions"))]
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

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "search_users", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "search_users"))]
    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>> {
        let pattern = format!("{}%", escape_like(&prefix.to_lowercase()));
        // COLLATE "C": byte order, the same "alphabetical" as SQLite's.
        let rows: Vec<crate::rows::UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.username LIKE $1 ORDER BY u.username COLLATE \"C\" LIMIT $2"
        ))
        .bind(pattern)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .store()?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "block_user", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "block_user"))]
    async fn block_user(
        &self,
        blocker: UserId,
        blocked: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO user_blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(blocker.as_uuid())
        .bind(blocked.as_uuid())
        .bind(now)
        .execute(&self.pool)
        .await
        .store()?;
        Ok(())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "unblock_user", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "unblock_user"))]
    async fn unblock_user(&self, blocker: UserId, blocked: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2")
            .bind(blocker.as_uuid())
            .bind(blocked.as_uuid())
            .execute(&self.pool)
            .await
            .store()?;
        Ok(())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "blocked_users", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "blocked_users"))]
    async fn blocked_users(&self, blocker: UserId) -> StoreResult<Vec<UserId>> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT blocked_id FROM user_blocks WHERE blocker_id = $1 ORDER BY created_at, blocked_id",
        )
        .bind(blocker.as_uuid())
        .fetch_all(&self.pool)
        .await
        .store()?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "is_blocked_between", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "is_blocked_between"))]
    async fn is_blocked_between(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM user_blocks WHERE \
             (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1))",
        )
        .bind(a.as_uuid())
        .bind(b.as_uuid())
        .fetch_one(&self.pool)
        .await
        .store()
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "group_adds", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "group_adds"))]
    async fn group_adds(&self, user: UserId) -> StoreResult<justus_core::user::GroupAdds> {
        let s: Option<String> = sqlx::query_scalar("SELECT group_adds FROM users WHERE id = $1")
            .bind(user.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .store()?;
        let s = s.ok_or(StoreError::NotFound)?;
        justus_core::user::GroupAdds::parse(&s)
            .ok_or_else(|| StoreError::Other(format!("stored group_adds {s:?} is not valid")))
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_group_adds", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "set_group_adds"))]
    async fn set_group_adds(
        &self,
        user: UserId,
        policy: justus_core::user::GroupAdds,
    ) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET group_adds = $2 WHERE id = $1")
            .bind(user.as_uuid())
            .bind(policy.as_str())
            .execute(&self.pool)
            .await
            .store()?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_last_seen", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "set_last_seen"))]
    async fn set_last_seen(&self, user: UserId, at: DateTime<Utc>) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET last_seen_at = $2 WHERE id = $1")
            .bind(user.as_uuid())
            .bind(at)
            .execute(&self.pool)
            .await
            .store()?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "last_seen", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "last_seen"))]
    async fn last_seen(&self, user: UserId) -> StoreResult<Option<DateTime<Utc>>> {
        sqlx::query_scalar("SELECT last_seen_at FROM users WHERE id = $1")
            .bind(user.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .store()?
            .ok_or(StoreError::NotFound)
    }

    // --- instance-wide bans ------------------------------------------------------------------

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_suspended", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "set_suspended"))]
    async fn set_suspended(
        &self,
        user: UserId,
        suspend: bool,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Vec<SessionId>>> {
        let mut tx = self.pool.begin().await.store()?;
        let was: Option<Option<DateTime<Utc>>> =
            sqlx::query_scalar("SELECT suspended_at FROM users WHERE id = $1 FOR UPDATE")
                .bind(user.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .store()?;
        let Some(was) = was else {
            return Err(StoreError::NotFound);
        };
        if was.is_some() == suspend {
            return Ok(None);
        }
        sqlx::query("UPDATE users SET suspended_at = $2 WHERE id = $1")
            .bind(user.as_uuid())
            .bind(suspend.then_some(now))
            .execute(&mut *tx)
            .await
            .store()?;
        let ended: Vec<Uuid> = if suspend {
            sqlx::query_scalar(
                "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL \
                 RETURNING id",
            )
            .bind(user.as_uuid())
            .bind(now)
            .fetch_all(&mut *tx)
            .await
            .store()?
        } else {
            Vec::new()
        };
        crate::audit::insert(
            &mut tx,
            &audit::account_suspension(user, suspend, actor, reason, now),
        )
        .await?;
        tx.commit().await.store()?;
        Ok(Some(ended.into_iter().map(SessionId).collect()))
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "suspended_users", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "suspended_users"))]
    async fn suspended_users(&self) -> StoreResult<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.suspended_at IS NOT NULL ORDER BY u.suspended_at DESC"
        ))
        .fetch_all(&self.pool)
        .await
        .store()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "signup_blocks", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "signup_blocks"))]
    async fn signup_blocks(&self) -> StoreResult<Vec<SignupBlock>> {
        let rows: Vec<SignupBlockRow> = sqlx::query_as(
            "SELECT id, cidr, reason, created_by, created_at FROM signup_blocks \
             ORDER BY created_at DESC, id DESC",
        )
        .fetch_all(&self.pool)
        .await
        .store()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "add_signup_block", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "add_signup_block"))]
    async fn add_signup_block(&self, block: &SignupBlock) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.store()?;
        let added = sqlx::query(
            "INSERT INTO signup_blocks (id, cidr, reason, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (cidr) DO NOTHING",
        )
        .bind(block.id.as_uuid())
        .bind(&block.cidr)
        .bind(block.reason.as_deref())
        .bind(block.created_by.as_uuid())
        .bind(block.created_at)
        .execute(&mut *tx)
        .await
        .store()?;
        if added.rows_affected() == 0 {
            return Err(StoreError::Conflict("cidr"));
        }
        let entry = audit::signup_block(
            block,
            true,
            block.created_by,
            block.reason.clone(),
            block.created_at,
        );
        crate::audit::insert(&mut tx, &entry).await?;
        tx.commit().await.store()
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "remove_signup_block", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "remove_signup_block"))]
    async fn remove_signup_block(
        &self,
        id: SignupBlockId,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<SignupBlock> {
        let mut tx = self.pool.begin().await.store()?;
        let row: Option<SignupBlockRow> = sqlx::query_as(
            "DELETE FROM signup_blocks WHERE id = $1 \
             RETURNING id, cidr, reason, created_by, created_at",
        )
        .bind(id.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .store()?;
        let block: SignupBlock = row.ok_or(StoreError::NotFound)?.into();
        crate::audit::insert(
            &mut tx,
            &audit::signup_block(&block, false, actor, reason, now),
        )
        .await?;
        tx.commit().await.store()?;
        Ok(block)
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
