//! `Store` implementation for SQLite.

mod accounts;
mod ai;
mod avatars;
mod history;
mod load;
mod media;
mod messages;
mod rooms;

pub(crate) use history::insert_event;
pub(crate) use messages::apply_search_queue;

use crate::conn::{SqliteOptions, Threads, map_err, open_dir_check};
use crate::rows::{self, SESSION_COLS, USER_COLS, ts};
use accounts::{insert_token, refresh_tx, session_by_id, user_by_id};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::ai::AiPrefs;
use justus_core::event::{EventPage, RoomEvent};
use justus_core::media::Media;
use justus_core::message::{Message, NewMessage, Page};
use justus_core::room::{Invite, Member, NewGroup, Role, Room, RoomPatch, RoomSummary};
use justus_core::session::{NewSession, RefreshOutcome, RefreshPolicy, Session, TokenHash};
use justus_core::store::{SearchHit, SendOutcome, Store};
use justus_core::user::{NewUser, User, UserPatch};
use justus_core::{MediaId, MessageId, RoomId, SessionId, StoreError, StoreResult, UserId};
use rusqlite::params;
use std::path::{Path, PathBuf};

pub struct SqliteStore {
    threads: Threads,
    /// A scratch file beside the database, written to find out whether space has returned.
    probe_path: PathBuf,
}

/// What the probe writes: enough that a nearly full disk fails it.
const PROBE_BYTES: usize = 1024 * 1024;

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path, opts: &SqliteOptions) -> StoreResult<Self> {
        open_dir_check(path)?;
        let mut probe = path.as_os_str().to_owned();
        probe.push("-writeprobe");
        Ok(Self {
            threads: Threads::start(path, opts, messages::apply_search_queue)?,
            probe_path: PathBuf::from(probe),
        })
    }
}

/// Writes, syncs and removes [`PROBE_BYTES`] next to the database.
fn probe_write(path: &Path) -> std::io::Result<()> {
    use std::io::Write;
    let result = std::fs::File::create(path).and_then(|mut f| {
        f.write_all(&vec![0u8; PROBE_BYTES])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(path);
    result
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.threads
            .read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(map_err))
            .await
    }

    /// Free while writes succeed. After a commit failed (disk full, I/O), a probe file shows
    /// whether space has returned; the failure itself is forgotten only when a commit that
    /// changed something succeeds. The probe runs on a reader thread, beside the writes.
    async fn check_writable(&self) -> StoreResult<()> {
        let Some(why) = self.threads.write_failure() else {
            return Ok(());
        };
        let path = self.probe_path.clone();
        self.threads
            .read(move |_| {
                probe_write(&path).map_err(|e| {
                    StoreError::Unavailable(format!("writes fail ({why}); probe: {e}"))
                })
            })
            .await
    }

    async fn create_user(&self, new: &NewUser) -> StoreResult<User> {
        let new = new.clone();
        self.threads
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO users (id, username, email, display_name, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        new.id.0,
                        new.username.as_str(),
                        new.email.as_ref().map(|e| e.as_str()),
                        new.display_name.as_str(),
                        ts(new.now)
                    ])
                })
                .map_err(map_err)?;
                c.prepare_cached("INSERT INTO credentials (user_id, password_hash, updated_at) VALUES (?1, ?2, ?3)")
                    .and_then(|mut st| st.execute(params![new.id.0, new.password_hash, ts(new.now)]))
                    .map_err(map_err)?;
                Ok(User {
                    id: new.id,
                    username: new.username,
                    display_name: new.display_name,
                    email: new.email,
                    created_at: new.now,
                    updated_at: new.now,
                    avatar: None,
                })
            })
            .await
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<User> {
        self.threads.read(move |c| user_by_id(c, id)).await
    }

    async fn users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<uuid::Uuid> = ids.iter().map(|u| u.0).collect();
        self.threads
            .read(move |c| {
                let mut out = Vec::with_capacity(ids.len());
                // Chunks stay far below SQLite's bound-parameter limit.
                for chunk in ids.chunks(500) {
                    let marks = vec!["?"; chunk.len()].join(",");
                    let mut st = c
                        .prepare(&format!(
                            "SELECT {USER_COLS} FROM users u WHERE u.id IN ({marks})"
                        ))
                        .map_err(map_err)?;
                    let rows = st
                        .query_map(rusqlite::params_from_iter(chunk.iter()), rows::user)
                        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                        .map_err(map_err)?;
                    out.extend(rows);
                }
                Ok(out)
            })
            .await
    }

    async fn user_by_login(&self, login: &str) -> StoreResult<(User, String)> {
        let login = login.to_lowercase();
        self.threads
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {USER_COLS}, cr.password_hash FROM users u JOIN credentials cr ON cr.user_id = u.id \
                     WHERE u.username = ?1 OR u.email = ?1 LIMIT 1"
                ))
                .and_then(|mut st| st.query_row([login], |r| Ok((rows::user(r)?, r.get(7)?))))
                .map_err(map_err)
            })
            .await
    }

    async fn password_hash(&self, id: UserId) -> StoreResult<String> {
        self.threads
            .read(move |c| {
                c.prepare_cached("SELECT password_hash FROM credentials WHERE user_id = ?1")
                    .and_then(|mut st| st.query_row([id.0], |r| r.get(0)))
                    .map_err(map_err)
            })
            .await
    }

    async fn update_user(
        &self,
        id: UserId,
        patch: &UserPatch,
        now: DateTime<Utc>,
    ) -> StoreResult<User> {
        let patch = patch.clone();
        self.threads
            .write(move |c| {
                let mut current = user_by_id(c, id)?;
                if let Some(name) = patch.display_name {
                    current.display_name = name;
                }
                if let Some(email) = patch.email {
                    current.email = email;
                }
                current.updated_at = now;
                c.prepare_cached(
                    "UPDATE users SET display_name = ?2, email = ?3, updated_at = ?4 WHERE id = ?1",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        id.0,
                        current.display_name.as_str(),
                        current.email.as_ref().map(|e| e.as_str()),
                        ts(now)
                    ])
                })
                .map_err(map_err)?;
                Ok(current)
            })
            .await
    }

    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let hash = hash.to_owned();
        self.threads
            .write(move |c| {
                let n = c
                    .prepare_cached("UPDATE credentials SET password_hash = ?2, updated_at = ?3 WHERE user_id = ?1")
                    .and_then(|mut st| st.execute(params![id.0, hash, ts(now)]))
                    .map_err(map_err)?;
                if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            })
            .await
    }

    async fn create_session(&self, new: &NewSession) -> StoreResult<Session> {
        let new = new.clone();
        self.threads
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip) \
                     VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6)",
                )
                .and_then(|mut st| {
                    st.execute(params![new.id.0, new.user_id.0, ts(new.now), ts(new.expires_at), new.user_agent, new.ip])
                })
                .map_err(map_err)?;
                insert_token(c, &new.token, new.id, new.now).map_err(map_err)?;
                Ok(Session {
                    id: new.id,
                    user_id: new.user_id,
                    created_at: new.now,
                    last_used_at: new.now,
                    expires_at: new.expires_at,
                    user_agent: new.user_agent,
                    ip: new.ip,
                    revoked_at: None,
                })
            })
            .await
    }

    async fn session(&self, id: SessionId) -> StoreResult<Session> {
        self.threads.read(move |c| session_by_id(c, id)).await
    }

    async fn refresh(
        &self,
        presented: &TokenHash,
        next: &TokenHash,
        now: DateTime<Utc>,
        policy: &RefreshPolicy,
    ) -> StoreResult<RefreshOutcome> {
        let (presented, next, policy) = (*presented, *next, *policy);
        self.threads
            .write(move |c| refresh_tx(c, &presented, &next, now, &policy))
            .await
    }

    async fn list_sessions(&self, user: UserId, now: DateTime<Utc>) -> StoreResult<Vec<Session>> {
        let idle_cutoff = now - RefreshPolicy::default().idle;
        self.threads
            .read(move |c| {
                let mut st = c
                    .prepare_cached(&format!(
                        "SELECT {SESSION_COLS} FROM sessions WHERE user_id = ?1 AND revoked_at IS NULL \
                         AND expires_at > ?2 AND last_used_at > ?3 ORDER BY created_at DESC, id DESC"
                    ))
                    .map_err(map_err)?;
                st.query_map(params![user.0, ts(now), ts(idle_cutoff)], rows::session)
                    .and_then(|rows| rows.collect())
                    .map_err(map_err)
            })
            .await
    }

    async fn revoke_session(
        &self,
        user: UserId,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.threads
            .write(move |c| {
                let n = c
                    .prepare_cached("UPDATE sessions SET revoked_at = ?3 WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL")
                    .and_then(|mut st| st.execute(params![id.0, user.0, ts(now)]))
                    .map_err(map_err)?;
                if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            })
            .await
    }

    async fn revoke_sessions(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionId>> {
        self.threads
            .write(move |c| {
                let mut st = c
                    .prepare_cached(
                        "UPDATE sessions SET revoked_at = ?3 WHERE user_id = ?1 AND revoked_at IS NULL \
                         AND (?2 IS NULL OR id <> ?2) RETURNING id",
                    )
                    .map_err(map_err)?;
                st.query_map(params![user.0, keep.map(|k| k.0), ts(now)], |r| Ok(SessionId(r.get(0)?)))
                    .and_then(|rows| rows.collect())
                    .map_err(map_err)
            })
            .await
    }

    // --- users: search and blocks ---------------------------------------------------------

    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>> {
        let prefix = prefix.to_owned();
        self.threads
            .read(move |c| accounts::search_users(c, &prefix, limit))
            .await
    }

    async fn block_user(
        &self,
        blocker: UserId,
        blocked: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.threads
            .write(move |c| accounts::block_user(c, blocker, blocked, now))
            .await
    }

    async fn unblock_user(&self, blocker: UserId, blocked: UserId) -> StoreResult<()> {
        self.threads
            .write(move |c| accounts::unblock_user(c, blocker, blocked))
            .await
    }

    async fn blocked_users(&self, blocker: UserId) -> StoreResult<Vec<UserId>> {
        self.threads
            .read(move |c| accounts::blocked_users(c, blocker))
            .await
    }

    async fn is_blocked_between(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        self.threads
            .read(move |c| accounts::is_blocked_between(c, a, b))
            .await
    }

    // --- rooms -------------------------------------------------------------------------------

    async fn create_group(&self, new: &NewGroup) -> StoreResult<(Room, RoomEvent)> {
        let new = new.clone();
        self.threads
            .write(move |c| rooms::create_group(c, &new))
            .await
    }

    async fn open_dm(
        &self,
        id: RoomId,
        a: UserId,
        b: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Room, bool, Vec<RoomEvent>)> {
        self.threads
            .write(move |c| rooms::open_dm(c, id, a, b, now))
            .await
    }

    async fn room(&self, id: RoomId) -> StoreResult<Room> {
        self.threads.read(move |c| rooms::room(c, id)).await
    }

    async fn update_room(
        &self,
        id: RoomId,
        patch: &RoomPatch,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Room, RoomEvent)> {
        let patch = patch.clone();
        self.threads
            .write(move |c| rooms::update_room(c, id, &patch, actor, now))
            .await
    }

    async fn delete_room(
        &self,
        id: RoomId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        self.threads
            .write(move |c| rooms::delete_room(c, id, actor, now))
            .await
    }

    async fn rooms_for_user(&self, user: UserId) -> StoreResult<Vec<RoomSummary>> {
        self.threads
            .read(move |c| rooms::rooms_for_user(c, user))
            .await
    }

    // --- membership --------------------------------------------------------------------------

    async fn member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Member>> {
        self.threads
            .read(move |c| rooms::member(c, room, user))
            .await
    }

    async fn room_and_member(
        &self,
        room: RoomId,
        user: UserId,
    ) -> StoreResult<(Room, Option<Member>)> {
        // One reader job: a thread hand-off saved on every room-scoped request.
        self.threads
            .read(move |c| Ok((rooms::room(c, room)?, rooms::member(c, room, user)?)))
            .await
    }

    async fn members(&self, room: RoomId) -> StoreResult<Vec<Member>> {
        self.threads.read(move |c| rooms::members(c, room)).await
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
        self.threads
            .write(move |c| rooms::add_member(c, room, user, role, actor, max_members, now))
            .await
    }

    async fn set_role(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        self.threads
            .write(move |c| rooms::set_role(c, room, user, role, actor, now))
            .await
    }

    async fn transfer_ownership(
        &self,
        room: RoomId,
        from: UserId,
        to: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<RoomEvent>> {
        self.threads
            .write(move |c| rooms::transfer_ownership(c, room, from, to, now))
            .await
    }

    async fn remove_member(
        &self,
        room: RoomId,
        user: UserId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        self.threads
            .write(move |c| rooms::remove_member(c, room, user, actor, now))
            .await
    }

    async fn ban(
        &self,
        room: RoomId,
        user: UserId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        self.threads
            .write(move |c| rooms::ban(c, room, user, actor, now))
            .await
    }

    async fn unban(&self, room: RoomId, user: UserId) -> StoreResult<()> {
        self.threads
            .write(move |c| rooms::unban(c, room, user))
            .await
    }

    async fn bans(&self, room: RoomId) -> StoreResult<Vec<UserId>> {
        self.threads.read(move |c| rooms::bans(c, room)).await
    }

    async fn is_banned(&self, room: RoomId, user: UserId) -> StoreResult<bool> {
        self.threads
            .read(move |c| rooms::is_banned(c, room, user))
            .await
    }

    // --- invites -----------------------------------------------------------------------------

    async fn create_invite(&self, invite: &Invite) -> StoreResult<()> {
        let invite = invite.clone();
        self.threads
            .write(move |c| rooms::create_invite(c, &invite))
            .await
    }

    async fn invite(&self, code: &str) -> StoreResult<Invite> {
        let code = code.to_owned();
        self.threads.read(move |c| rooms::invite(c, &code)).await
    }

    async fn accept_invite(
        &self,
        code: &str,
        user: UserId,
        max_members: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<(Member, RoomEvent)> {
        let code = code.to_owned();
        self.threads
            .write(move |c| rooms::accept_invite(c, &code, user, max_members, now))
            .await
    }

    // --- messages ----------------------------------------------------------------------------

    async fn send_message(&self, new: &NewMessage) -> StoreResult<SendOutcome> {
        let new = new.clone();
        self.threads
            .write(move |c| messages::send_message(c, &new))
            .await
    }

    async fn message(&self, room: RoomId, id: MessageId) -> StoreResult<Message> {
        self.threads.read(move |c| load::message(c, room, id)).await
    }

    async fn messages(&self, room: RoomId, page: Page, limit: u32) -> StoreResult<Vec<Message>> {
        self.threads
            .read(move |c| messages::messages(c, room, page, limit))
            .await
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
        let (body, mentions) = (body.to_owned(), mentions.to_vec());
        self.threads
            .write(move |c| {
                messages::edit_message(c, room, id, &body, &mentions, mentions_room, actor, now)
            })
            .await
    }

    async fn edit_history(
        &self,
        room: RoomId,
        id: MessageId,
    ) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
        self.threads
            .read(move |c| messages::edit_history(c, room, id))
            .await
    }

    async fn delete_message(
        &self,
        room: RoomId,
        id: MessageId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        self.threads
            .write(move |c| messages::delete_message(c, room, id, actor, now))
            .await
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
        let emoji = emoji.to_owned();
        self.threads
            .write(move |c| messages::set_reaction(c, room, id, user, &emoji, add, now))
            .await
    }

    async fn set_pinned(
        &self,
        room: RoomId,
        id: MessageId,
        pinned: bool,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<RoomEvent>> {
        self.threads
            .write(move |c| messages::set_pinned(c, room, id, pinned, actor, now))
            .await
    }

    async fn pinned(&self, room: RoomId) -> StoreResult<Vec<Message>> {
        self.threads.read(move |c| messages::pinned(c, room)).await
    }

    // --- history, read state, search ---------------------------------------------------------

    async fn events(&self, room: RoomId, after: i64, limit: u32) -> StoreResult<EventPage> {
        self.threads
            .read(move |c| history::events(c, room, after, limit))
            .await
    }

    async fn mark_read(&self, room: RoomId, user: UserId, seq: i64) -> StoreResult<i64> {
        self.threads
            .write(move |c| messages::mark_read(c, room, user, seq))
            .await
    }

    async fn search(
        &self,
        user: UserId,
        query: &str,
        room: Option<RoomId>,
        limit: u32,
    ) -> StoreResult<Vec<SearchHit>> {
        let query = query.to_owned();
        self.threads
            .read(move |c| messages::search(c, user, &query, room, limit))
            .await
    }

    // --- ai ----------------------------------------------------------------------------------

    async fn room_ai_enabled(&self, room: RoomId) -> StoreResult<bool> {
        self.threads
            .read(move |c| ai::room_ai_enabled(c, room))
            .await
    }

    async fn set_room_ai_enabled(
        &self,
        room: RoomId,
        enabled: bool,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.threads
            .write(move |c| ai::set_room_ai_enabled(c, room, enabled, actor, now))
            .await
    }

    async fn ai_prefs(&self, user: UserId) -> StoreResult<AiPrefs> {
        self.threads.read(move |c| ai::ai_prefs(c, user)).await
    }

    async fn set_ai_prefs(
        &self,
        user: UserId,
        prefs: &AiPrefs,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let prefs = prefs.clone();
        self.threads
            .write(move |c| ai::set_ai_prefs(c, user, &prefs, now))
            .await
    }

    async fn translation(
        &self,
        message: MessageId,
        version: i64,
        lang: &str,
    ) -> StoreResult<Option<String>> {
        let lang = lang.to_owned();
        self.threads
            .read(move |c| ai::translation(c, message, version, &lang))
            .await
    }

    async fn put_translation(
        &self,
        message: MessageId,
        version: i64,
        lang: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (lang, text) = (lang.to_owned(), text.to_owned());
        self.threads
            .write(move |c| ai::put_translation(c, message, version, &lang, &text, now))
            .await
    }

    // --- media -------------------------------------------------------------------------------

    async fn create_media(&self, m: &Media) -> StoreResult<()> {
        let m = m.clone();
        self.threads.write(move |c| media::create(c, &m)).await
    }

    async fn create_media_within_quota(&self, m: &Media, quota: i64) -> StoreResult<()> {
        let m = m.clone();
        self.threads
            .write(move |c| media::create_within_quota(c, &m, quota))
            .await
    }

    async fn media(&self, id: MediaId) -> StoreResult<Media> {
        self.threads.read(move |c| media::by_id(c, id)).await
    }

    async fn media_owned_by(&self, owner: UserId, ids: &[MediaId]) -> StoreResult<Vec<Media>> {
        let ids = ids.to_vec();
        self.threads
            .read(move |c| media::owned_by(c, owner, &ids))
            .await
    }

    async fn media_usage(&self, owner: UserId) -> StoreResult<i64> {
        self.threads.read(move |c| media::usage(c, owner)).await
    }

    async fn media_visible_to(&self, id: MediaId, user: UserId) -> StoreResult<bool> {
        self.threads
            .read(move |c| media::visible_to(c, id, user))
            .await
    }

    async fn mark_media_attached(&self, id: MediaId, now: DateTime<Utc>) -> StoreResult<()> {
        self.threads
            .write(move |c| media::mark_attached(c, id, now))
            .await
    }

    async fn unattached_media(&self, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Media>> {
        self.threads
            .read(move |c| media::unattached(c, cutoff, limit))
            .await
    }

    async fn delete_unattached_media(&self, id: MediaId) -> StoreResult<bool> {
        self.threads
            .write(move |c| media::delete_unattached(c, id))
            .await
    }

    // --- avatars -----------------------------------------------------------------------------

    async fn set_user_avatar(
        &self,
        user: UserId,
        avatar: Option<MediaId>,
        now: DateTime<Utc>,
    ) -> StoreResult<User> {
        self.threads
            .write(move |c| avatars::set_user_avatar(c, user, avatar, now))
            .await
    }

    async fn set_room_avatar(
        &self,
        room: RoomId,
        avatar: Option<MediaId>,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Room, RoomEvent)> {
        self.threads
            .write(move |c| avatars::set_room_avatar(c, room, avatar, actor, now))
            .await
    }
}
