//! The bus's wire format between processes: one JSON envelope per message, naming the process
//! that published it (so it can ignore its own) and, for room traffic, published on the room's
//! channel (so a process only receives rooms it has sockets for).
//!
//! Events travel as their gateway JSON; the receiver reads the few routing fields and forwards
//! the bytes untouched.

use chrono::{DateTime, Utc};
use justus_core::bus::{BusMessage, EncodedEvent, Ephemeral, InstanceId, PresenceEntry};
use justus_core::event::{EventKind, RoomEvent};
use justus_core::{RoomId, SessionId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::sync::Arc;

#[derive(Serialize)]
struct OutEnvelope<'a> {
    o: InstanceId,
    m: Out<'a>,
    /// The W3C `traceparent` of the publishing span, while traces are exported.
    #[serde(skip_serializing_if = "Option::is_none")]
    t: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Out<'a> {
    Event(&'a RoomEvent),
    Ephemeral(&'a Ephemeral),
    Revoked(&'a [SessionId]),
    Membership {
        room_id: RoomId,
        user_id: UserId,
        joined: bool,
    },
    Heartbeat {
        presence: Option<&'a [PresenceEntry]>,
    },
    /// The sender dropped messages (Redis was unreachable): peers should catch up.
    Resync,
}

#[derive(Deserialize)]
struct InEnvelope<'a> {
    o: InstanceId,
    #[serde(borrow)]
    m: In<'a>,
    #[serde(default)]
    t: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum In<'a> {
    #[serde(borrow)]
    Event(&'a RawValue),
    Ephemeral(Ephemeral),
    Revoked(Vec<SessionId>),
    Membership {
        room_id: RoomId,
        user_id: UserId,
        joined: bool,
    },
    Heartbeat {
        presence: Option<Vec<PresenceEntry>>,
    },
    Resync,
}

/// The routing fields of an event's JSON.
#[derive(Deserialize)]
struct Head {
    room_id: RoomId,
    seq: i64,
    #[serde(rename = "type")]
    kind: String,
    created_at: DateTime<Utc>,
}

/// Where a message goes: its room's channel, or the channel every process listens to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Room(RoomId),
    All,
}

pub fn room_channel(prefix: &str, room: RoomId) -> String {
    format!("{prefix}:room:{room}")
}

pub fn all_channel(prefix: &str) -> String {
    format!("{prefix}:all")
}

/// Encodes a message for other processes, with the `traceparent` of the span publishing it;
/// `None` for what never leaves the process.
pub fn encode(
    origin: InstanceId,
    msg: &BusMessage,
    traceparent: Option<&str>,
) -> Option<(Route, String)> {
    let (route, m) = match msg {
        BusMessage::Event(ev) => (Route::Room(ev.room_id), Out::Event(ev)),
        BusMessage::Relayed(_) | BusMessage::Resync => return None,
        BusMessage::Ephemeral(e) => {
            let route = match e {
                Ephemeral::Typing { room_id, .. }
                | Ephemeral::Receipt { room_id, .. }
                | Ephemeral::AiDelta { room_id, .. } => Route::Room(*room_id),
                Ephemeral::Presence { .. }
                | Ephemeral::Invited { .. }
                | Ephemeral::UserUpdated { .. } => Route::All,
            };
            (route, Out::Ephemeral(e))
        }
        BusMessage::SessionsRevoked(ids) => (Route::All, Out::Revoked(ids)),
        BusMessage::Membership {
            room_id,
            user_id,
            joined,
        } => (
            Route::All,
            Out::Membership {
                room_id: *room_id,
                user_id: *user_id,
                joined: *joined,
            },
        ),
        BusMessage::Heartbeat { presence, .. } => (
            Route::All,
            Out::Heartbeat {
                presence: presence.as_deref(),
            },
        ),
    };
    let json = serde_json::to_string(&OutEnvelope {
        o: origin,
        m,
        t: traceparent,
    })
    .ok()?;
    Some((route, json))
}

/// The announcement a process publishes after it had to drop messages.
pub fn resync(origin: InstanceId) -> String {
    serde_json::to_string(&OutEnvelope {
        o: origin,
        m: Out::Resync,
        t: None,
    })
    .unwrap_or_default()
}

/// A message from another process: who sent it, what it is, and the publishing span's
/// `traceparent` if it came with one.
pub type Decoded = (InstanceId, BusMessage, Option<String>);

/// Decodes a message from another process. `None` for garbage (counted by the caller).
pub fn decode(payload: &str) -> Option<Decoded> {
    let env: InEnvelope<'_> = serde_json::from_str(payload).ok()?;
    let msg = match env.m {
        In::Event(raw) => {
            let head: Head = serde_json::from_str(raw.get()).ok()?;
            BusMessage::Relayed(Arc::new(EncodedEvent {
                room_id: head.room_id,
                seq: head.seq,
                kind: EventKind::parse(&head.kind)?,
                created_at: head.created_at,
                json: raw.get().to_owned(),
            }))
        }
        In::Ephemeral(e) => BusMessage::Ephemeral(e),
        In::Revoked(ids) => BusMessage::SessionsRevoked(ids),
        In::Membership {
            room_id,
            user_id,
            joined,
        } => BusMessage::Membership {
            room_id,
            user_id,
            joined,
        },
        In::Heartbeat { presence } => BusMessage::Heartbeat {
            origin: env.o,
            presence,
        },
        In::Resync => BusMessage::Resync,
    };
    Some((env.o, msg, env.t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use justus_core::MessageId;

    fn event() -> RoomEvent {
        RoomEvent {
            room_id: RoomId::new(),
            seq: 42,
            kind: EventKind::ReactionAdded,
            actor_id: UserId::new(),
            created_at: Utc::now(),
            message_id: Some(MessageId::new()),
            user_id: None,
            emoji: Some("👍".into()),
            role: None,
            muted_until: None,
            message: None,
            changes: None,
        }
    }

    #[test]
    fn the_publishing_span_travels_with_the_message() {
        let origin = InstanceId::now_v7();
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let msg = BusMessage::Event(Arc::new(event()));
        let (_, payload) = encode(origin, &msg, Some(tp)).expect("encodes");
        let (_, _, traceparent) = decode(&payload).expect("decodes");
        assert_eq!(traceparent.as_deref(), Some(tp));
        let (_, untraced) = encode(origin, &msg, None).expect("encodes");
        assert!(
            !untraced.contains("\"t\""),
            "no trace field while traces are off"
        );
    }

    #[test]
    fn events_go_to_their_room_and_keep_their_exact_json() {
        let origin = InstanceId::now_v7();
        let ev = event();
        let (route, payload) =
            encode(origin, &BusMessage::Event(Arc::new(ev.clone())), None).expect("encodes");
        assert_eq!(route, Route::Room(ev.room_id));
        let (from, msg, _) = decode(&payload).expect("decodes");
        assert_eq!(from, origin);
        let BusMessage::Relayed(got) = msg else {
            panic!("not relayed: {msg:?}")
        };
        assert_eq!(
            (got.room_id, got.seq, got.kind),
            (ev.room_id, 42, EventKind::ReactionAdded)
        );
        assert_eq!(got.json, serde_json::to_string(&ev).expect("json"));
    }

    #[test]
    fn control_messages_round_trip_on_the_shared_channel() {
        let origin = InstanceId::now_v7();
        let cases = vec![
            BusMessage::SessionsRevoked(vec![SessionId::new()]),
            BusMessage::Membership {
                room_id: RoomId::new(),
                user_id: UserId::new(),
                joined: true,
            },
            BusMessage::Ephemeral(Ephemeral::Presence {
                user_id: UserId::new(),
                status: "away".into(),
                rooms: vec![RoomId::new()],
                origin,
            }),
            // An invitation reaches the invitee wherever their sockets are.
            BusMessage::Ephemeral(Ephemeral::Invited {
                user_id: UserId::new(),
                room_id: RoomId::new(),
                invited_by: UserId::new(),
            }),
            // A profile change reaches everyone who shares a room, wherever they are.
            BusMessage::Ephemeral(Ephemeral::UserUpdated {
                user_id: UserId::new(),
                username: "ada".into(),
                display_name: "Ada L.".into(),
                avatar: None,
                rooms: vec![RoomId::new()],
            }),
            BusMessage::Heartbeat {
                origin,
                presence: Some(vec![PresenceEntry {
                    user_id: UserId::new(),
                    status: "online".into(),
                    rooms: vec![],
                }]),
            },
        ];
        for msg in cases {
            let (route, payload) = encode(origin, &msg, None).expect("encodes");
            assert_eq!(route, Route::All);
            assert_eq!(decode(&payload), Some((origin, msg, None)));
        }
    }

    #[test]
    fn typing_goes_to_the_room_and_local_only_messages_stay() {
        let room = RoomId::new();
        let typing = BusMessage::Ephemeral(Ephemeral::Typing {
            room_id: room,
            user_id: UserId::new(),
            active: true,
        });
        assert_eq!(
            encode(InstanceId::now_v7(), &typing, None).map(|r| r.0),
            Some(Route::Room(room))
        );
        assert_eq!(
            encode(InstanceId::now_v7(), &BusMessage::Resync, None),
            None
        );
        let origin = InstanceId::now_v7();
        assert_eq!(
            decode(&resync(origin)),
            Some((origin, BusMessage::Resync, None))
        );
    }

    #[test]
    fn garbage_and_unknown_event_types_are_refused() {
        assert!(decode("not json").is_none());
        assert!(decode(r#"{"o":"00000000-0000-0000-0000-000000000000","m":{"nope":1}}"#).is_none());
        let bad = r#"{"o":"00000000-0000-0000-0000-000000000000","m":{"event":{"room_id":"00000000-0000-0000-0000-000000000000","seq":1,"type":"x.y","created_at":"2026-01-01T00:00:00Z"}}}"#;
        assert!(decode(bad).is_none());
    }
}
