//! Room history events: every change to a room takes the next per-room `seq` and is recorded as
//! one of these. `/events?after=` returns them; the gateway pushes the same objects.

use crate::ids::{MessageId, RoomId, UserId};
use crate::message::Message;
use crate::room::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

/// What happened. The string forms (`message.created`, …) are the wire `type`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum EventKind {
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "message.edited")]
    MessageEdited,
    #[serde(rename = "message.deleted")]
    MessageDeleted,
    #[serde(rename = "reaction.added")]
    ReactionAdded,
    #[serde(rename = "reaction.removed")]
    ReactionRemoved,
    #[serde(rename = "message.pinned")]
    MessagePinned,
    #[serde(rename = "message.unpinned")]
    MessageUnpinned,
    #[serde(rename = "member.joined")]
    MemberJoined,
    #[serde(rename = "member.left")]
    MemberLeft,
    #[serde(rename = "member.kicked")]
    MemberKicked,
    #[serde(rename = "member.banned")]
    MemberBanned,
    #[serde(rename = "member.role_changed")]
    MemberRoleChanged,
    /// A member may not post, react or edit until `muted_until`.
    #[serde(rename = "member.muted")]
    MemberMuted,
    #[serde(rename = "member.unmuted")]
    MemberUnmuted,
    #[serde(rename = "room.updated")]
    RoomUpdated,
    #[serde(rename = "room.deleted")]
    RoomDeleted,
}

impl EventKind {
    pub const ALL: [EventKind; 16] = [
        EventKind::MessageCreated,
        EventKind::MessageEdited,
        EventKind::MessageDeleted,
        EventKind::ReactionAdded,
        EventKind::ReactionRemoved,
        EventKind::MessagePinned,
        EventKind::MessageUnpinned,
        EventKind::MemberJoined,
        EventKind::MemberLeft,
        EventKind::MemberKicked,
        EventKind::MemberBanned,
        EventKind::MemberRoleChanged,
        EventKind::MemberMuted,
        EventKind::MemberUnmuted,
        EventKind::RoomUpdated,
        EventKind::RoomDeleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::MessageCreated => "message.created",
            EventKind::MessageEdited => "message.edited",
            EventKind::MessageDeleted => "message.deleted",
            EventKind::ReactionAdded => "reaction.added",
            EventKind::ReactionRemoved => "reaction.removed",
            EventKind::MessagePinned => "message.pinned",
            EventKind::MessageUnpinned => "message.unpinned",
            EventKind::MemberJoined => "member.joined",
            EventKind::MemberLeft => "member.left",
            EventKind::MemberKicked => "member.kicked",
            EventKind::MemberBanned => "member.banned",
            EventKind::MemberRoleChanged => "member.role_changed",
            EventKind::MemberMuted => "member.muted",
            EventKind::MemberUnmuted => "member.unmuted",
            EventKind::RoomUpdated => "room.updated",
            EventKind::RoomDeleted => "room.deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the event is about a message (and carries `message_id`).
    pub fn is_message_event(self) -> bool {
        matches!(
            self,
            EventKind::MessageCreated
                | EventKind::MessageEdited
                | EventKind::MessageDeleted
                | EventKind::ReactionAdded
                | EventKind::ReactionRemoved
                | EventKind::MessagePinned
                | EventKind::MessageUnpinned
        )
    }

    /// Whether events of this kind carry the message's current state (`RoomEvent::message`):
    /// reactions name their message but do not carry it.
    pub fn carries_message(self) -> bool {
        matches!(
            self,
            EventKind::MessageCreated
                | EventKind::MessageEdited
                | EventKind::MessageDeleted
                | EventKind::MessagePinned
                | EventKind::MessageUnpinned
        )
    }
}

/// One change in a room's history.
///
/// Message events carry the message's state as of the moment the event is read: for
/// `message.created` read long after, the body is the current (possibly edited, or emptied by a
/// delete) one, so replaying history never resurrects deleted text. Applying events in `seq`
/// order always converges to the server's state.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoomEvent {
    pub room_id: RoomId,
    pub seq: i64,
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// Who caused it.
    pub actor_id: UserId,
    pub created_at: DateTime<Utc>,
    /// The message concerned (message events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    /// The member concerned (member events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// Reaction events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    /// `member.joined` and `member.role_changed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// `member.muted`: when the mute ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub muted_until: Option<DateTime<Utc>>,
    /// The message's current state (created, edited, deleted, pinned events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// `room.updated`: the fields that changed, as JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<RoomChanges>,
}

/// Fields changed by `room.updated`. Stores keep it as JSON.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Some(None)` = topic cleared (serialised as `"topic": null`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    pub topic: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_admins_post: Option<bool>,
    /// The new avatar's media id; `Some(None)` = removed (`"avatar": null`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub avatar: Option<Option<crate::ids::MediaId>>,
    /// The room's new retention in days; `Some(None)` = back to the server's policy (`null`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "double_option"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    pub retention_days: Option<Option<i32>>,
    /// Seconds a member waits between messages (0: off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_mode_seconds: Option<i32>,
    /// The permissions changed (only those; see `Room.permissions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<crate::room::PermissionsPatch>,
}

/// Distinguishes an absent field (`None`) from `null` (`Some(None)`).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

impl RoomEvent {
    /// A bare event; builders below fill the kind-specific fields.
    pub fn new(
        room_id: RoomId,
        seq: i64,
        kind: EventKind,
        actor_id: UserId,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            room_id,
            seq,
            kind,
            actor_id,
            created_at,
            message_id: None,
            user_id: None,
            emoji: None,
            role: None,
            muted_until: None,
            message: None,
            changes: None,
        }
    }
}

/// A page of history events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventPage {
    pub events: Vec<RoomEvent>,
    pub has_more: bool,
}
