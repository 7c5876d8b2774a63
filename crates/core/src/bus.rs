//! The `Bus` port: how committed changes and ephemeral signals reach every process that has
//! sockets interested in them. In process by default; Redis pub/sub when scaled out.
//!
//! The database is the truth; the bus is a best-effort hint. A subscriber that misses a
//! message notices the `seq` gap and catches up from `/events`; a process that knows it may have
//! missed messages (its bus reconnected, or a peer died between commit and publish) is told so
//! with [`BusMessage::Resync`] and catches its sockets up from the store itself.

use crate::event::{EventKind, RoomEvent};
use crate::ids::{MessageId, RoomId, SessionId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;

/// Identifies one running `justus` process (random at start-up).
pub type InstanceId = Uuid;

/// Signals that are not history (no `seq`, not persisted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ephemeral {
    Typing {
        room_id: RoomId,
        user_id: UserId,
        active: bool,
    },
    Receipt {
        room_id: RoomId,
        user_id: UserId,
        seq: i64,
    },
    /// A piece of the assistant's streamed reply to message `message_id`, numbered from 0
    /// (the committed `message.edited` event carries the final text).
    AiDelta {
        room_id: RoomId,
        message_id: MessageId,
        index: u32,
        delta: String,
    },
    /// `user_id` was invited to `room_id` by `invited_by` (their consent setting turned an add
    /// into an invitation): only their sockets are told.
    Invited {
        user_id: UserId,
        room_id: RoomId,
        invited_by: UserId,
    },
    /// `user_id` changed their display name or avatar: the members of `rooms` (theirs) and
    /// their own other sockets are told, once each, so names and pictures never go stale.
    UserUpdated {
        user_id: UserId,
        username: String,
        display_name: String,
        avatar: Option<crate::ids::MediaId>,
        rooms: Vec<RoomId>,
    },
    /// `rooms`: the user's rooms, so every process can find the audience (members of those).
    /// `origin`: the process holding the user's sockets (a user may be online on several).
    Presence {
        user_id: UserId,
        status: String,
        rooms: Vec<RoomId>,
        origin: InstanceId,
    },
}

/// One online user of a process, as announced in its heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceEntry {
    pub user_id: UserId,
    pub status: String,
    pub rooms: Vec<RoomId>,
}

/// A committed event relayed from another process, already encoded as its wire JSON (the
/// receiving process forwards the bytes without rebuilding the domain object).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedEvent {
    pub room_id: RoomId,
    pub seq: i64,
    pub kind: EventKind,
    pub created_at: DateTime<Utc>,
    /// The [`RoomEvent`]'s JSON, exactly as the gateway sends it in `d`.
    pub json: String,
}

/// Everything carried by the bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusMessage {
    /// A committed history change (published by this process).
    Event(Arc<RoomEvent>),
    /// A committed history change published by another process.
    Relayed(Arc<EncodedEvent>),
    Ephemeral(Ephemeral),
    /// Sessions ended (logout, ban of an account, password change): close their sockets.
    SessionsRevoked(Vec<SessionId>),
    /// A user joined or left a room: sockets adjust their subscriptions.
    Membership {
        room_id: RoomId,
        user_id: UserId,
        joined: bool,
    },
    /// A process is alive; `presence` (sent every few beats) lists its online users, so peers
    /// learn them after a restart and drop them when the process stops beating.
    Heartbeat {
        origin: InstanceId,
        presence: Option<Vec<PresenceEntry>>,
    },
    /// Messages may have been lost (bus reconnected): catch up from the store.
    Resync,
}

/// Receives everything published on the bus (from this process or, scaled out, others).
pub trait BusSink: Send + Sync + 'static {
    fn deliver(&self, msg: BusMessage);
}

/// The bus's own view of its health, for `/ready` and metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusHealth {
    Ok,
    /// Cross-process delivery is down; local delivery and commits go on.
    Degraded(String),
}

pub trait Bus: Send + Sync + 'static {
    /// Publishes after commit. Never blocks the caller on a slow subscriber or a slow network.
    fn publish(&self, msg: BusMessage);
    /// Attaches a receiver (the gateway hub, …). Called at start-up.
    fn attach(&self, sink: Arc<dyn BusSink>);
    /// This process has (or no longer has) sockets interested in `room`. The hub calls it when
    /// a room gains its first / loses its last local subscriber; a shared bus subscribes to the
    /// room's channel accordingly.
    fn set_room_interest(&self, _room: RoomId, _interested: bool) {}
    /// Whether other processes share this bus (heartbeats and presence relays are only needed
    /// then).
    fn is_shared(&self) -> bool {
        false
    }
    fn health(&self) -> BusHealth {
        BusHealth::Ok
    }
}
