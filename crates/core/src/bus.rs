//! The `Bus` port: how committed changes and ephemeral signals reach every process that has
//! sockets interested in them. In process by default; Redis pub/sub when scaled out.
//!
//! The database is the truth; the bus is a best-effort hint. A subscriber that misses a
//! message notices the `seq` gap and catches up from `/events`.

use crate::event::RoomEvent;
use crate::ids::{MessageId, RoomId, SessionId, UserId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

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
    /// `rooms`: the user's rooms, so every process can find the audience (members of those).
    Presence {
        user_id: UserId,
        status: String,
        rooms: Vec<RoomId>,
    },
}

/// Everything carried by the bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusMessage {
    /// A committed history change.
    Event(Arc<RoomEvent>),
    Ephemeral(Ephemeral),
    /// Sessions ended (logout, ban of an account, password change): close their sockets.
    SessionsRevoked(Vec<SessionId>),
    /// A user joined or left a room: sockets adjust their subscriptions.
    Membership {
        room_id: RoomId,
        user_id: UserId,
        joined: bool,
    },
}

/// Receives everything published on the bus (from this process or, scaled out, others).
pub trait BusSink: Send + Sync + 'static {
    fn deliver(&self, msg: BusMessage);
}

pub trait Bus: Send + Sync + 'static {
    /// Publishes after commit. Never blocks the caller on a slow subscriber.
    fn publish(&self, msg: BusMessage);
    /// Attaches the process's receiver (the gateway hub). Called once at start-up.
    fn attach(&self, sink: Arc<dyn BusSink>);
}
