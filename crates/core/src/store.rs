//! The `Store` port: everything JustUs persists. One adapter per database
//! (`justus-store-sqlite`, `justus-store-postgres`); both pass [`crate::testing`]'s suite.

use crate::ai::AiPrefs;
use crate::error::StoreResult;
use crate::event::{EventPage, RoomEvent};
use crate::ids::{MediaId, MessageId, RoomId, SessionId, UserId};
use crate::media::Media;
use crate::message::{Message, NewMessage, Page};
use crate::room::{Invite, Member, NewGroup, Role, Room, RoomPatch, RoomSummary};
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
#[allow(clippy::too_many_arguments)] // the port mirrors its operations' inputs one to one
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

    // --- rooms -------------------------------------------------------------------------------

    /// Creates a group with its owner as first member; returns the room and the owner's
    /// `member.joined` event (seq 1).
    async fn create_group(&self, new: &NewGroup) -> StoreResult<(Room, RoomEvent)>;
    /// Returns the DM between `a` and `b`, creating it (both members, seq 1 and 2 their
    /// `member.joined`) if there is none. `bool` = created. Concurrent calls create one room.
    async fn open_dm(
        &self,
        id: RoomId,
        a: UserId,
        b: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Room, bool, Vec<RoomEvent>)>;
    /// A live (not deleted) room; `NotFound` otherwise.
    async fn room(&self, id: RoomId) -> StoreResult<Room>;
    /// Applies the patch and records one `room.updated` event with the changed fields.
    async fn update_room(
        &self,
        id: RoomId,
        patch: &RoomPatch,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Room, RoomEvent)>;
    /// Soft-deletes the room (it disappears for everyone) and records `room.deleted`.
    async fn delete_room(
        &self,
        id: RoomId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent>;
    /// The user's live rooms with unread state and last message, most recent activity first.
    async fn rooms_for_user(&self, user: UserId) -> StoreResult<Vec<RoomSummary>>;

    // --- membership --------------------------------------------------------------------------

    /// The membership of `user` in a live room, if any.
    async fn member(&self, room: RoomId, user: UserId) -> StoreResult<Option<Member>>;
    /// [`Store::room`] and [`Store::member`] together: every room-scoped request asks both, so an
    /// adapter may answer in one round trip (SQLite: one reader job).
    async fn room_and_member(
        &self,
        room: RoomId,
        user: UserId,
    ) -> StoreResult<(Room, Option<Member>)> {
        let r = self.room(room).await?;
        Ok((r, self.member(room, user).await?))
    }
    /// All members of a room, owner first then by join time.
    async fn members(&self, room: RoomId) -> StoreResult<Vec<Member>>;
    /// Adds `user` with `role`; records `member.joined` (actor = who added them, or themselves).
    /// `Conflict("member")` if already a member, `Conflict("banned")` if banned,
    /// `Conflict("room_full")` if the room has `max_members` already. The new member's read
    /// marker starts at the join event, so history before it is not unread.
    async fn add_member(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        actor: UserId,
        max_members: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<(Member, RoomEvent)>;
    /// Changes a member's role; records `member.role_changed`. `NotFound` if not a member.
    async fn set_role(
        &self,
        room: RoomId,
        user: UserId,
        role: Role,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent>;
    /// Makes `to` the owner and `from` an admin, atomically; two `member.role_changed` events.
    async fn transfer_ownership(
        &self,
        room: RoomId,
        from: UserId,
        to: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<RoomEvent>>;
    /// Removes a member: `member.left` when actor == user, else `member.kicked`. `NotFound` if not a member.
    async fn remove_member(
        &self,
        room: RoomId,
        user: UserId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent>;
    /// Bans `user` (removing them if a member) and records `member.banned`. Idempotent ban
    /// of a non-member still records the ban (and the event).
    async fn ban(
        &self,
        room: RoomId,
        user: UserId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent>;
    /// Lifts a ban; `NotFound` if there was none. Not history (no seq).
    async fn unban(&self, room: RoomId, user: UserId) -> StoreResult<()>;
    async fn bans(&self, room: RoomId) -> StoreResult<Vec<UserId>>;
    async fn is_banned(&self, room: RoomId, user: UserId) -> StoreResult<bool>;

    // --- invites -----------------------------------------------------------------------------

    async fn create_invite(&self, invite: &Invite) -> StoreResult<()>;
    async fn invite(&self, code: &str) -> StoreResult<Invite>;
    /// Atomically checks the invite is usable at `now`, joins `user` as a member (same errors as
    /// `add_member`, plus `Conflict("invite_expired")` when expired or used up) and counts the
    /// use. Joining a room one is already in is `Conflict("member")` and uses nothing.
    async fn accept_invite(
        &self,
        code: &str,
        user: UserId,
        max_members: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<(Member, RoomEvent)>;

    // --- messages ----------------------------------------------------------------------------

    /// Persists a message with the room's next seq and its `message.created` event, in one
    /// transaction, or — when (sender, client_id) already exists — returns that message
    /// untouched as `SendOutcome::Existing` (the caller decides whether it is a retry or a
    /// conflicting reuse). `NotFound` if the sender is not a member of the live room (re-checked
    /// inside the transaction), or `reply_to` is not a live message of the same room.
    /// `new.attachments` are linked to the message (in order) and marked attached.
    async fn send_message(&self, new: &NewMessage) -> StoreResult<SendOutcome>;
    /// A message of `room` (tombstones included); `NotFound` if it is in another room.
    async fn message(&self, room: RoomId, id: MessageId) -> StoreResult<Message>;
    /// A page of messages (tombstones included), returned in ascending seq order.
    async fn messages(&self, room: RoomId, page: Page, limit: u32) -> StoreResult<Vec<Message>>;
    /// Replaces the body (keeping the previous one in the edit history), sets `edited_at`,
    /// replaces mentions; records `message.edited`. `NotFound` for a deleted or foreign message.
    async fn edit_message(
        &self,
        room: RoomId,
        id: MessageId,
        body: &str,
        mentions: &[UserId],
        mentions_room: bool,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Message, RoomEvent)>;
    /// Previous bodies of a message, oldest first, with the time each was replaced.
    async fn edit_history(
        &self,
        room: RoomId,
        id: MessageId,
    ) -> StoreResult<Vec<(String, DateTime<Utc>)>>;
    /// Tombstones a message (body emptied, edit history, reactions, mentions and pin removed);
    /// records `message.deleted`. `NotFound` if already deleted or foreign.
    async fn delete_message(
        &self,
        room: RoomId,
        id: MessageId,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent>;
    /// Adds (`add`) or removes a reaction; `Ok(None)` when nothing changed (idempotent).
    /// `NotFound` for a deleted or foreign message.
    async fn set_reaction(
        &self,
        room: RoomId,
        id: MessageId,
        user: UserId,
        emoji: &str,
        add: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<RoomEvent>>;
    /// Pins or unpins; `Ok(None)` when nothing changed; `Conflict("too_many_pins")` past
    /// [`crate::message::MAX_PINS`]. `NotFound` for a deleted or foreign message.
    async fn set_pinned(
        &self,
        room: RoomId,
        id: MessageId,
        pinned: bool,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<RoomEvent>>;
    /// Pinned messages, most recently created first.
    async fn pinned(&self, room: RoomId) -> StoreResult<Vec<Message>>;

    // --- history, read state, search -------------------------------------------------------

    /// Events with seq > `after`, ascending, at most `limit`; `has_more` if more follow.
    async fn events(&self, room: RoomId, after: i64, limit: u32) -> StoreResult<EventPage>;
    /// Moves the member's read marker forward to `min(seq, last_seq)`; never backwards.
    /// Returns the marker after the call. `NotFound` if not a member.
    async fn mark_read(&self, room: RoomId, user: UserId, seq: i64) -> StoreResult<i64>;
    /// Full-text search over live messages of rooms `user` is currently a member of
    /// (optionally one room), best first.
    async fn search(
        &self,
        user: UserId,
        query: &str,
        room: Option<RoomId>,
        limit: u32,
    ) -> StoreResult<Vec<SearchHit>>;

    // --- ai ----------------------------------------------------------------------------------

    /// Whether AI is switched on for the room (default off; unknown rooms are off).
    async fn room_ai_enabled(&self, room: RoomId) -> StoreResult<bool>;
    /// Switches AI on or off for a live room; `NotFound` for an unknown or deleted room.
    async fn set_room_ai_enabled(
        &self,
        room: RoomId,
        enabled: bool,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The user's AI preferences (defaults when never set).
    async fn ai_prefs(&self, user: UserId) -> StoreResult<AiPrefs>;
    /// Replaces the user's AI preferences; `NotFound` for an unknown user.
    async fn set_ai_prefs(
        &self,
        user: UserId,
        prefs: &AiPrefs,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// A cached translation of one version of a message (`version` changes with every edit).
    async fn translation(
        &self,
        message: MessageId,
        version: i64,
        lang: &str,
    ) -> StoreResult<Option<String>>;
    /// Caches a translation; a second write for the same key keeps the first (idempotent).
    async fn put_translation(
        &self,
        message: MessageId,
        version: i64,
        lang: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    // --- media -------------------------------------------------------------------------------

    /// Records an upload (its bytes are already in the media store). `Conflict("media")` if the
    /// id exists.
    async fn create_media(&self, media: &Media) -> StoreResult<()>;
    /// Records an upload like [`Store::create_media`], but only if its owner's recorded uploads
    /// plus this one stay within `quota` bytes. The check and the insert are one atomic step,
    /// so parallel calls, from any number of processes, never together exceed the quota.
    /// `Conflict("media_quota")` (and nothing recorded) when it does not fit.
    async fn create_media_within_quota(&self, media: &Media, quota: i64) -> StoreResult<()>;
    /// `NotFound` if unknown (or swept).
    async fn media(&self, id: MediaId) -> StoreResult<Media>;
    /// Uploads of `owner` among `ids` (unknown or foreign ids are left out), in no order.
    async fn media_owned_by(&self, owner: UserId, ids: &[MediaId]) -> StoreResult<Vec<Media>>;
    /// Total bytes of `owner`'s recorded uploads, for the quota.
    async fn media_usage(&self, owner: UserId) -> StoreResult<i64>;
    /// Whether `user` may read the upload: they uploaded it, or they are a member of a live
    /// room where a live (not deleted) message carries it.
    async fn media_visible_to(&self, id: MediaId, user: UserId) -> StoreResult<bool>;
    /// Marks an upload as used (e.g. as an avatar) so the sweeper keeps it. Idempotent.
    async fn mark_media_attached(&self, id: MediaId, now: DateTime<Utc>) -> StoreResult<()>;
    /// Uploads never attached and created before `cutoff`, oldest first, at most `limit`.
    async fn unattached_media(&self, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Media>>;
    /// Forgets an upload if it is still unattached; `false` when it was attached meanwhile
    /// (or is gone), so the caller keeps its bytes.
    async fn delete_unattached_media(&self, id: MediaId) -> StoreResult<bool>;

    // --- avatars -----------------------------------------------------------------------------

    /// Sets (or with `None` removes) the user's avatar and bumps `updated_at`.
    async fn set_user_avatar(
        &self,
        user: UserId,
        avatar: Option<MediaId>,
        now: DateTime<Utc>,
    ) -> StoreResult<User>;
    /// Sets (or removes) a room's avatar and records one `room.updated` event whose changes
    /// carry `avatar`. `NotFound` for a deleted room.
    async fn set_room_avatar(
        &self,
        room: RoomId,
        avatar: Option<MediaId>,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Room, RoomEvent)>;

    // --- operations (issue 14) -----------------------------------------------------------------

    /// Whether writes can succeed now, for readiness: `Unavailable` while the database cannot
    /// take writes (its disk is full, it is read-only, writes fail on I/O) even though reads
    /// still answer. Cheap enough to call on every readiness probe.
    async fn check_writable(&self) -> StoreResult<()>;
}

/// Result of [`Store::send_message`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // short-lived return value; boxing would cost an allocation per send
pub enum SendOutcome {
    Created(Message, RoomEvent),
    Existing(Message),
}

/// Highlight markers around matched terms in [`SearchHit::snippet`]. They are private-use
/// characters, so the API can split the snippet into plain-text segments.
pub const HIGHLIGHT_START: char = '\u{E000}';
pub const HIGHLIGHT_END: char = '\u{E001}';

#[derive(Clone, Debug, PartialEq)]
pub struct SearchHit {
    pub message: Message,
    /// An excerpt of the body with matches wrapped in [`HIGHLIGHT_START`]/[`HIGHLIGHT_END`].
    pub snippet: String,
    /// Higher is better.
    pub rank: f64,
}
