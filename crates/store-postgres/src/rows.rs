//! Rows as PostgreSQL returns them, and their conversion into domain types.

use chrono::{DateTime, Utc};
use justus_core::event::{EventKind, RoomChanges, RoomEvent};
use justus_core::message::{Forwarded, Message, Reaction};
use justus_core::room::{Invite, Member, Role, Room, RoomKind, RoomPermissions};
use justus_core::session::{RefreshRecord, Session, TokenHash};
use justus_core::user::{DisplayName, Email, User, Username};
use justus_core::{MediaId, MessageId, RoomId, SessionId, StoreError, UserId};
use uuid::Uuid;

// Column lists matching the row structs, as macros so queries can be `concat!`-ed literals.

/// The columns of [`UserRow`], for `users` aliased as `u`.
macro_rules! user_columns {
    () => {
        "u.id, u.username, u.email, u.display_name, u.created_at, u.updated_at, u.avatar, \
         u.suspended_at"
    };
}

/// The columns of [`SessionRow`].
macro_rules! session_columns {
    () => {
        "id, user_id, created_at, last_used_at, expires_at, user_agent, ip, revoked_at"
    };
}

/// The columns of [`TokenRow`].
macro_rules! token_columns {
    () => {
        "hash, session_id, created_at, replaced_at, replaced_by"
    };
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    username: String,
    email: Option<String>,
    display_name: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    avatar: Option<Uuid>,
    suspended_at: Option<DateTime<Utc>>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: UserId(r.id),
            // The store only ever holds values the domain parsed.
            username: Username::from_trusted(r.username),
            display_name: DisplayName::from_trusted(r.display_name),
            email: r.email.map(Email::from_trusted),
            created_at: r.created_at,
            updated_at: r.updated_at,
            avatar: r.avatar.map(MediaId),
            suspended_at: r.suspended_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SignupBlockRow {
    id: Uuid,
    cidr: String,
    reason: Option<String>,
    created_by: Uuid,
    created_at: DateTime<Utc>,
}

impl From<SignupBlockRow> for justus_core::instance_ban::SignupBlock {
    fn from(r: SignupBlockRow) -> Self {
        Self {
            id: justus_core::SignupBlockId(r.id),
            cidr: r.cidr,
            reason: r.reason,
            created_by: UserId(r.created_by),
            created_at: r.created_at,
        }
    }
}

/// A user joined with their password hash, for login.
#[derive(sqlx::FromRow)]
pub(crate) struct LoginRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub password_hash: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    id: Uuid,
    user_id: Uuid,
    created_at: DateTime<Utc>,
    last_used_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    user_agent: Option<String>,
    ip: Option<String>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            id: SessionId(r.id),
            user_id: UserId(r.user_id),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            expires_at: r.expires_at,
            user_agent: r.user_agent,
            ip: r.ip,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    hash: Vec<u8>,
    session_id: Uuid,
    created_at: DateTime<Utc>,
    replaced_at: Option<DateTime<Utc>>,
    replaced_by: Option<Vec<u8>>,
}

impl TokenRow {
    /// The hash of the token that replaced this one, if any.
    pub fn replaced_by(&self) -> Result<Option<TokenHash>, StoreError> {
        self.replaced_by.as_deref().map(token_hash).transpose()
    }

    pub fn into_record(self) -> Result<RefreshRecord, StoreError> {
        Ok(RefreshRecord {
            hash: token_hash(&self.hash)?,
            session_id: SessionId(self.session_id),
            created_at: self.created_at,
            replaced_at: self.replaced_at,
        })
    }
}

fn token_hash(bytes: &[u8]) -> Result<TokenHash, StoreError> {
    <[u8; 32]>::try_from(bytes).map(TokenHash).map_err(|_| {
        StoreError::Other(format!(
            "stored refresh-token hash has {} bytes, expected 32",
            bytes.len()
        ))
    })
}

// --- conversations -------------------------------------------------------------------------

/// The columns of [`RoomRow`], for `rooms` aliased as `r`.
macro_rules! room_columns {
    () => {
        "r.id, r.kind, r.name, r.topic, r.created_by, r.created_at, r.last_seq, \
         r.last_activity_at, r.only_admins_post, r.member_count, r.dm_key, r.avatar, \
         r.retention_days, r.slow_mode_seconds, r.invite_role, r.pin_role, r.mention_room_role"
    };
}

/// The columns of [`MemberRow`], for `room_members` aliased as `m`.
macro_rules! member_columns {
    () => {
        "m.room_id, m.user_id, m.role, m.joined_at, m.read_seq, m.muted_until"
    };
}

/// The columns of [`InviteRow`], for `invites` aliased as `i`.
macro_rules! invite_columns {
    () => {
        "i.code, i.room_id, i.created_by, i.created_at, i.expires_at, i.max_uses, i.uses"
    };
}

/// The columns of [`MessageRow`], for `messages` aliased as `msg`.
macro_rules! message_columns {
    () => {
        "msg.id, msg.room_id, msg.seq, msg.sender_id, msg.client_id, msg.body, msg.reply_to, \
         msg.fwd_sender_id, msg.fwd_sent_at, msg.mentions_room, msg.pinned_at, msg.created_at, \
         msg.edited_at, msg.deleted_at, msg.deleted_by"
    };
}

/// The columns of [`EventRow`], for `room_events` aliased as `e`.
macro_rules! event_columns {
    () => {
        "e.room_id, e.seq, e.kind, e.actor_id, e.created_at, e.message_id, e.user_id, e.emoji, \
         e.role, e.changes::text AS changes, e.muted_until"
    };
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Other(format!("stored {what} {value:?} is not valid"))
}

pub(crate) fn parse_role(s: &str) -> Result<Role, StoreError> {
    Role::parse(s).ok_or_else(|| corrupt("role", s))
}

#[derive(sqlx::FromRow)]
pub(crate) struct RoomRow {
    id: Uuid,
    kind: String,
    name: Option<String>,
    topic: Option<String>,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    last_seq: i64,
    last_activity_at: DateTime<Utc>,
    only_admins_post: bool,
    member_count: i64,
    pub dm_key: Option<String>,
    avatar: Option<Uuid>,
    retention_days: Option<i32>,
    slow_mode_seconds: i32,
    invite_role: String,
    pin_role: String,
    mention_room_role: String,
}

impl TryFrom<RoomRow> for Room {
    type Error = StoreError;
    fn try_from(r: RoomRow) -> Result<Self, StoreError> {
        Ok(Room {
            id: RoomId(r.id),
            kind: RoomKind::parse(&r.kind).ok_or_else(|| corrupt("room kind", &r.kind))?,
            name: r.name,
            topic: r.topic,
            created_by: UserId(r.created_by),
            created_at: r.created_at,
            last_seq: r.last_seq,
            last_activity_at: r.last_activity_at,
            only_admins_post: r.only_admins_post,
            member_count: r.member_count,
            avatar: r.avatar.map(MediaId),
            retention_days: r.retention_days,
            slow_mode_seconds: r.slow_mode_seconds,
            permissions: RoomPermissions {
                invite: parse_role(&r.invite_role)?,
                pin: parse_role(&r.pin_role)?,
                mention_room: parse_role(&r.mention_room_role)?,
            },
        })
    }
}

impl RoomRow {
    /// For a DM, the participant other than `me` (from the DM key).
    pub fn dm_peer(&self, me: UserId) -> Option<UserId> {
        let (a, b) = self.dm_key.as_deref()?.split_once(':')?;
        let (a, b) = (Uuid::parse_str(a).ok()?, Uuid::parse_str(b).ok()?);
        Some(UserId(if a == me.as_uuid() { b } else { a }))
    }
}

/// The DM key of a pair: both ids as hyphenated lower-case text, smaller first.
pub(crate) fn dm_key(a: UserId, b: UserId) -> String {
    let (lo, hi) = if a.as_uuid() <= b.as_uuid() {
        (a, b)
    } else {
        (b, a)
    };
    format!(
        "{}:{}",
        lo.as_uuid().hyphenated(),
        hi.as_uuid().hyphenated()
    )
}

/// A room with the caller's membership, if any (`room_columns!` plus `m.user_id`, `m.role`,
/// `m.joined_at`, `m.read_seq` from a LEFT JOIN on `room_members m`).
#[derive(sqlx::FromRow)]
pub(crate) struct RoomMemberRow {
    #[sqlx(flatten)]
    room: RoomRow,
    user_id: Option<Uuid>,
    role: Option<String>,
    joined_at: Option<DateTime<Utc>>,
    read_seq: Option<i64>,
    muted_until: Option<DateTime<Utc>>,
}

impl TryFrom<RoomMemberRow> for (Room, Option<Member>) {
    type Error = StoreError;
    fn try_from(r: RoomMemberRow) -> Result<Self, StoreError> {
        // The LEFT JOIN found a membership exactly when its NOT NULL columns are present.
        let member = match (r.user_id, r.role, r.joined_at, r.read_seq) {
            (Some(user_id), Some(role), Some(joined_at), Some(read_seq)) => Some(
                MemberRow {
                    room_id: r.room.id,
                    user_id,
                    role,
                    joined_at,
                    read_seq,
                    muted_until: r.muted_until,
                }
                .try_into()?,
            ),
            _ => None,
        };
        Ok((r.room.try_into()?, member))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MemberRow {
    room_id: Uuid,
    user_id: Uuid,
    role: String,
    joined_at: DateTime<Utc>,
    read_seq: i64,
    muted_until: Option<DateTime<Utc>>,
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;
    fn try_from(r: MemberRow) -> Result<Self, StoreError> {
        Ok(Member {
            room_id: RoomId(r.room_id),
            user_id: UserId(r.user_id),
            role: parse_role(&r.role)?,
            joined_at: r.joined_at,
            read_seq: r.read_seq,
            muted_until: r.muted_until,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct InviteRow {
    code: String,
    room_id: Uuid,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    max_uses: Option<i64>,
    uses: i64,
}

impl From<InviteRow> for Invite {
    fn from(r: InviteRow) -> Self {
        Invite {
            code: r.code,
            room_id: RoomId(r.room_id),
            created_by: UserId(r.created_by),
            created_at: r.created_at,
            expires_at: r.expires_at,
            max_uses: r.max_uses,
            uses: r.uses,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MessageRow {
    pub id: Uuid,
    room_id: Uuid,
    seq: i64,
    sender_id: Uuid,
    client_id: String,
    body: String,
    reply_to: Option<Uuid>,
    fwd_sender_id: Option<Uuid>,
    fwd_sent_at: Option<DateTime<Utc>>,
    mentions_room: bool,
    pinned_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    edited_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    deleted_by: Option<Uuid>,
}

impl MessageRow {
    /// The message, given its mentions and reactions (loaded separately, in batches).
    pub fn into_message(self, mentions: Vec<UserId>, reactions: Vec<Reaction>) -> Message {
        let forwarded = match (self.fwd_sender_id, self.fwd_sent_at) {
            (Some(sender), Some(sent_at)) => Some(Forwarded {
                sender_id: UserId(sender),
                sent_at,
            }),
            _ => None,
        };
        Message {
            id: MessageId(self.id),
            room_id: RoomId(self.room_id),
            seq: self.seq,
            sender_id: UserId(self.sender_id),
            client_id: self.client_id,
            body: self.body,
            reply_to: self.reply_to.map(MessageId),
            forwarded,
            mentions,
            mentions_room: self.mentions_room,
            pinned: self.pinned_at.is_some(),
            reactions,
            created_at: self.created_at,
            edited_at: self.edited_at,
            deleted_at: self.deleted_at,
            deleted_by: self.deleted_by.map(UserId),
            attachments: Vec::new(),
        }
    }
}

/// One emoji's reactions on one message.
#[derive(sqlx::FromRow)]
pub(crate) struct ReactionRow {
    pub message_id: Uuid,
    emoji: String,
    count: i64,
    users: Vec<Uuid>,
}

impl From<ReactionRow> for Reaction {
    fn from(r: ReactionRow) -> Self {
        Reaction {
            emoji: r.emoji,
            count: r.count,
            users: r.users.into_iter().map(UserId).collect(),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    room_id: Uuid,
    seq: i64,
    kind: String,
    actor_id: Uuid,
    created_at: DateTime<Utc>,
    pub message_id: Option<Uuid>,
    user_id: Option<Uuid>,
    emoji: Option<String>,
    role: Option<String>,
    changes: Option<String>,
    muted_until: Option<DateTime<Utc>>,
}

impl EventRow {
    /// The event without its message (the caller attaches the current state).
    pub fn into_event(self) -> Result<RoomEvent, StoreError> {
        let kind = EventKind::parse(&self.kind).ok_or_else(|| corrupt("event kind", &self.kind))?;
        let changes = self
            .changes
            .as_deref()
            .map(serde_json::from_str::<RoomChanges>)
            .transpose()
            .map_err(|e| StoreError::Other(format!("stored room changes are not valid: {e}")))?;
        Ok(RoomEvent {
            room_id: RoomId(self.room_id),
            seq: self.seq,
            kind,
            actor_id: UserId(self.actor_id),
            created_at: self.created_at,
            message_id: self.message_id.map(MessageId),
            user_id: self.user_id.map(UserId),
            emoji: self.emoji,
            role: self.role.as_deref().map(parse_role).transpose()?,
            muted_until: self.muted_until,
            message: None,
            changes,
        })
    }
}
