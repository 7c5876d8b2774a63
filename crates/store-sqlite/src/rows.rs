//! Mapping between SQLite rows and domain types.

use chrono::{DateTime, Utc};
use justus_core::event::{EventKind, RoomChanges, RoomEvent};
use justus_core::message::{Forwarded, Message};
use justus_core::room::{Invite, Member, Role, Room, RoomKind, RoomPermissions};
use justus_core::session::{RefreshRecord, Session, TokenHash};
use justus_core::user::{DisplayName, Email, User, Username};
use justus_core::{MediaId, MessageId, RoomId, SessionId, UserId};
use rusqlite::Row;
use uuid::Uuid;

/// Timestamps are stored as microseconds since the epoch (the precision PostgreSQL keeps too).
pub fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub fn from_ts(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

pub const USER_COLS: &str = "u.id, u.username, u.email, u.display_name, u.created_at, u.updated_at, u.avatar, u.suspended_at";
/// Number of columns in [`USER_COLS`].
pub const USER_NCOLS: usize = 8;

pub fn user(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: UserId(r.get(0)?),
        username: Username::from_trusted(r.get(1)?),
        email: r.get::<_, Option<String>>(2)?.map(Email::from_trusted),
        display_name: DisplayName::from_trusted(r.get(3)?),
        created_at: from_ts(r.get(4)?),
        updated_at: from_ts(r.get(5)?),
        avatar: r.get::<_, Option<Uuid>>(6)?.map(MediaId),
        suspended_at: r.get::<_, Option<i64>>(7)?.map(from_ts),
    })
}

pub const SESSION_COLS: &str =
    "id, user_id, created_at, last_used_at, expires_at, user_agent, ip, revoked_at";

pub fn session(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: SessionId(r.get(0)?),
        user_id: UserId(r.get(1)?),
        created_at: from_ts(r.get(2)?),
        last_used_at: from_ts(r.get(3)?),
        expires_at: from_ts(r.get(4)?),
        user_agent: r.get(5)?,
        ip: r.get(6)?,
        revoked_at: r.get::<_, Option<i64>>(7)?.map(from_ts),
    })
}

pub const TOKEN_COLS: &str = "hash, session_id, created_at, replaced_at, replaced_by";

pub fn hash(bytes: Vec<u8>) -> rusqlite::Result<TokenHash> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| {
        rusqlite::Error::InvalidColumnType(0, "hash".into(), rusqlite::types::Type::Blob)
    })?;
    Ok(TokenHash(arr))
}

/// A token row with the hash of its successor.
pub fn token(r: &Row<'_>) -> rusqlite::Result<(RefreshRecord, Option<TokenHash>)> {
    let rec = RefreshRecord {
        hash: hash(r.get(0)?)?,
        session_id: SessionId(r.get(1)?),
        created_at: from_ts(r.get(2)?),
        replaced_at: r.get::<_, Option<i64>>(3)?.map(from_ts),
    };
    let next = r.get::<_, Option<Vec<u8>>>(4)?.map(hash).transpose()?;
    Ok((rec, next))
}

/// A column whose text is not one of the values the domain knows.
fn bad_text(idx: usize, what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        idx,
        rusqlite::types::Type::Text,
        format!("unknown {what} {value:?}").into(),
    )
}

fn role_at(r: &Row<'_>, idx: usize) -> rusqlite::Result<Role> {
    let s: String = r.get(idx)?;
    Role::parse(&s).ok_or_else(|| bad_text(idx, "role", &s))
}

pub const ROOM_COLS: &str = "r.id, r.kind, r.name, r.topic, r.created_by, r.created_at, r.last_seq, \
     r.last_activity_at, r.only_admins_post, r.member_count, r.avatar, r.retention_days, \
     r.slow_mode_seconds, r.invite_role, r.pin_role, r.mention_room_role";
/// Number of columns in [`ROOM_COLS`].
pub const ROOM_NCOLS: usize = 16;

pub fn room(r: &Row<'_>) -> rusqlite::Result<Room> {
    let kind: String = r.get(1)?;
    Ok(Room {
        id: RoomId(r.get(0)?),
        kind: RoomKind::parse(&kind).ok_or_else(|| bad_text(1, "room kind", &kind))?,
        name: r.get(2)?,
        topic: r.get(3)?,
        created_by: UserId(r.get(4)?),
        created_at: from_ts(r.get(5)?),
        last_seq: r.get(6)?,
        last_activity_at: from_ts(r.get(7)?),
        only_admins_post: r.get(8)?,
        member_count: r.get(9)?,
        avatar: r.get::<_, Option<Uuid>>(10)?.map(MediaId),
        retention_days: r.get(11)?,
        slow_mode_seconds: r.get(12)?,
        permissions: RoomPermissions {
            invite: role_at(r, 13)?,
            pin: role_at(r, 14)?,
            mention_room: role_at(r, 15)?,
        },
    })
}

pub const MEMBER_COLS: &str =
    "m.room_id, m.user_id, m.role, m.joined_at, m.read_seq, m.muted_until";

pub fn member(r: &Row<'_>) -> rusqlite::Result<Member> {
    Ok(Member {
        room_id: RoomId(r.get(0)?),
        user_id: UserId(r.get(1)?),
        role: role_at(r, 2)?,
        joined_at: from_ts(r.get(3)?),
        read_seq: r.get(4)?,
        muted_until: r.get::<_, Option<i64>>(5)?.map(from_ts),
    })
}

pub const INVITE_COLS: &str = "code, room_id, created_by, created_at, expires_at, max_uses, uses";

pub fn invite(r: &Row<'_>) -> rusqlite::Result<Invite> {
    Ok(Invite {
        code: r.get(0)?,
        room_id: RoomId(r.get(1)?),
        created_by: UserId(r.get(2)?),
        created_at: from_ts(r.get(3)?),
        expires_at: r.get::<_, Option<i64>>(4)?.map(from_ts),
        max_uses: r.get(5)?,
        uses: r.get(6)?,
    })
}

/// The columns of a message row (alias `m`), as a literal for `concat!` in hot-path SQL.
macro_rules! message_cols {
    () => {
        "m.id, m.room_id, m.seq, m.sender_id, m.client_id, m.body, m.reply_to, m.fwd_sender_id, \
         m.fwd_sent_at, m.mentions_room, m.pinned_at, m.created_at, m.edited_at, m.deleted_at, m.deleted_by"
    };
}
pub(crate) use message_cols;

/// A message row without its reactions and mentions (see `store::load`).
pub const MESSAGE_COLS: &str = message_cols!();
/// Number of columns in [`MESSAGE_COLS`].
pub const MESSAGE_NCOLS: usize = 15;

pub fn message(r: &Row<'_>) -> rusqlite::Result<Message> {
    let fwd_sender: Option<Uuid> = r.get(7)?;
    let fwd_sent_at: Option<i64> = r.get(8)?;
    Ok(Message {
        id: MessageId(r.get(0)?),
        room_id: RoomId(r.get(1)?),
        seq: r.get(2)?,
        sender_id: UserId(r.get(3)?),
        client_id: r.get(4)?,
        body: r.get(5)?,
        reply_to: r.get::<_, Option<Uuid>>(6)?.map(MessageId),
        forwarded: match (fwd_sender, fwd_sent_at) {
            (Some(s), Some(t)) => Some(Forwarded {
                sender_id: UserId(s),
                sent_at: from_ts(t),
            }),
            _ => None,
        },
        mentions: Vec::new(),
        mentions_room: r.get(9)?,
        pinned: r.get::<_, Option<i64>>(10)?.is_some(),
        reactions: Vec::new(),
        created_at: from_ts(r.get(11)?),
        edited_at: r.get::<_, Option<i64>>(12)?.map(from_ts),
        deleted_at: r.get::<_, Option<i64>>(13)?.map(from_ts),
        deleted_by: r.get::<_, Option<Uuid>>(14)?.map(UserId),
        attachments: Vec::new(),
    })
}

pub const EVENT_COLS: &str = "e.room_id, e.seq, e.kind, e.actor_id, e.created_at, e.message_id, e.user_id, \
     e.emoji, e.role, e.changes, e.muted_until";

/// An event row; message events get their `message` filled by the caller.
pub fn event(r: &Row<'_>) -> rusqlite::Result<RoomEvent> {
    let kind: String = r.get(2)?;
    let role: Option<String> = r.get(8)?;
    let changes: Option<String> = r.get(9)?;
    Ok(RoomEvent {
        room_id: RoomId(r.get(0)?),
        seq: r.get(1)?,
        kind: EventKind::parse(&kind).ok_or_else(|| bad_text(2, "event kind", &kind))?,
        actor_id: UserId(r.get(3)?),
        created_at: from_ts(r.get(4)?),
        message_id: r.get::<_, Option<Uuid>>(5)?.map(MessageId),
        user_id: r.get::<_, Option<Uuid>>(6)?.map(UserId),
        emoji: r.get(7)?,
        role: role
            .map(|s| Role::parse(&s).ok_or_else(|| bad_text(8, "role", &s)))
            .transpose()?,
        muted_until: r.get::<_, Option<i64>>(10)?.map(from_ts),
        message: None,
        changes: changes
            .map(|json| {
                serde_json::from_str::<RoomChanges>(&json).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        9,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })
            })
            .transpose()?,
    })
}
