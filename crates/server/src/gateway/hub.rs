//! The hub: this process's receiver of everything published on the bus, and the one handle the
//! rest of the server holds on the gateway's shared state. A thin façade over three parts, each
//! with its own lock:
//!
//! - `subs`: which sockets want which rooms, and fan-out (room events in `seq` order, once;
//!   ephemeral frames; lagging sockets closed);
//! - the presence registry (`crate::presence`) and `presence` (announcing it to room members);
//! - `peers`: other processes' heartbeats; a peer that stops beating loses its presence.
//!
//! [`Hub::deliver`] routes each bus message to the part that handles it. Events are serialised
//! once here and the bytes shared by every recipient.

use super::frames;
use super::order::Offered;
use super::peers::Peers;
use super::presence;
use super::subs::Subscriptions;
use crate::presence::Presence;
use crate::traces;
use axum::extract::ws::Utf8Bytes;
use justus_core::bus::{Bus, BusMessage, BusSink, Ephemeral, InstanceId, PresenceEntry};
use justus_core::event::EventKind;
use justus_core::{RoomId, SessionId, UserId};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;

pub use super::peers::PEER_TTL;
pub use super::subs::{CLOSE_LAGGING, CLOSE_RESTARTING, CLOSE_SESSION_ENDED, ConnId, ConnShared};

pub struct Hub {
    instance: InstanceId,
    subs: Subscriptions,
    presence: Arc<Presence>,
    peers: Peers,
    /// Set at shutdown: no new socket is accepted while the open ones are told to leave.
    draining: AtomicBool,
}

impl Hub {
    pub fn new(instance: InstanceId, presence: Arc<Presence>) -> Self {
        Self {
            instance,
            subs: Subscriptions::default(),
            presence,
            peers: Peers::default(),
            draining: AtomicBool::new(false),
        }
    }

    pub fn instance(&self) -> InstanceId {
        self.instance
    }

    /// Connects the hub to the bus it reports room interest to.
    pub fn set_bus(&self, bus: Weak<dyn Bus>) {
        self.subs.set_bus(bus);
    }

    /// Registers a socket; returns its id, what it shares with the hub (close signal and
    /// outgoing queue) and the user's local socket count.
    pub fn register(&self, user: UserId, session: SessionId) -> (ConnId, Arc<ConnShared>, usize) {
        self.subs.register(user, session)
    }

    /// Removes a socket; returns true when it was the user's last one.
    pub fn unregister(&self, id: ConnId) -> bool {
        self.subs.unregister(id)
    }

    /// Subscribes a socket to rooms, with each room's latest seq from the snapshot it was sent.
    pub fn subscribe(&self, id: ConnId, rooms: &[(RoomId, i64)]) {
        self.subs.subscribe(id, rooms);
    }

    /// Whether `user` has a socket on this process.
    pub fn is_online(&self, user: UserId) -> bool {
        self.subs.has_user(user)
    }

    /// Users with a socket subscribed to any of `rooms` (other than `me`), here or on another
    /// process, with their status: the presence snapshot for `ready`.
    pub fn online_peers(&self, rooms: &[RoomId], me: UserId) -> Vec<(UserId, String)> {
        presence::snapshot(&self.subs, &self.presence, rooms, me)
    }

    /// This process's online users, their status and rooms: the presence part of a heartbeat.
    pub fn local_presence(&self) -> Vec<PresenceEntry> {
        presence::local_list(&self.subs, &self.presence)
    }

    /// Rooms with local subscribers and the last seq delivered to them: where a catch-up from
    /// the store starts.
    pub fn delivered_rooms(&self) -> Vec<(RoomId, i64)> {
        self.subs.delivered_rooms()
    }

    /// Every local socket as (user, cluster-wide slot name), for the socket cap.
    pub fn socket_slots(&self) -> Vec<(UserId, String)> {
        self.subs
            .sockets()
            .into_iter()
            .map(|(id, user)| (user, self.slot(id)))
            .collect()
    }

    /// The name of a socket's slot in the cluster-wide socket cap.
    pub fn slot(&self, id: ConnId) -> String {
        format!("{}:{id}", self.instance)
    }

    pub fn socket_count(&self) -> usize {
        self.subs.count()
    }

    /// Shutdown: refuses new sockets from now on and tells every open one to reconnect
    /// elsewhere (4011). Without the refusal, clients reconnect to this very process while it
    /// waits for its sockets to go, and the wait never ends early.
    pub fn drain(&self) -> usize {
        self.draining.store(true, Ordering::Release);
        self.close_all(CLOSE_RESTARTING)
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Closes every socket.
    pub fn close_all(&self, code: u16) -> usize {
        self.subs.close_all(code)
    }

    /// The highest seq this process has seen published for each room (for `ready`: a commit
    /// published between the snapshot and the subscription must still be caught up).
    pub fn last_published(&self, room: RoomId) -> Option<i64> {
        self.subs.last_published(room)
    }

    /// Forgets peers that stopped beating (their users go offline), then flushes held events
    /// whose gap did not fill in time. Called periodically; returns how many peers were lost
    /// (the caller then catches up from the store).
    pub fn sweep(&self) -> usize {
        let (lost, left) = self
            .peers
            .expire(|dead| self.presence.forget_processes(dead));
        presence::offline_unless_here(&self.subs, left);
        if lost > 0 {
            metrics::counter!("bus_peers_lost_total").increment(lost as u64);
        }
        self.subs.flush_stale();
        lost
    }

    /// Other processes currently beating.
    pub fn peer_count(&self) -> usize {
        self.peers.count()
    }

    fn room_frame(
        &self,
        room_id: RoomId,
        seq: i64,
        created_at: chrono::DateTime<chrono::Utc>,
        frame: Utf8Bytes,
        started: Instant,
    ) {
        if self.subs.room_event(room_id, seq, frame) != Some(Offered::Delivered) {
            return;
        }
        metrics::histogram!("gateway_fanout_seconds")
            .record(crate::bus::event_age_seconds(created_at));
        metrics::histogram!("gateway_fanout_cpu_seconds").record(started.elapsed().as_secs_f64());
    }

    fn ephemeral(&self, e: &Ephemeral) {
        let to_room = |room: &RoomId, op: &str, d: serde_json::Value| {
            self.subs.to_room(*room, frames::frame(op, None, &d));
        };
        match e {
            Ephemeral::Typing {
                room_id,
                user_id,
                active,
            } => to_room(
                room_id,
                "typing",
                serde_json::json!({"room_id": room_id, "user_id": user_id, "active": active}),
            ),
            Ephemeral::AiDelta {
                room_id,
                message_id,
                index,
                delta,
            } => to_room(
                room_id,
                "ai.delta",
                serde_json::json!({"room_id": room_id, "message_id": message_id, "index": index, "delta": delta}),
            ),
            Ephemeral::Receipt {
                room_id,
                user_id,
                seq,
            } => to_room(
                room_id,
                "receipt",
                serde_json::json!({"room_id": room_id, "user_id": user_id, "seq": seq}),
            ),
            Ephemeral::Invited {
                user_id,
                room_id,
                invited_by,
            } => self.subs.to_user(
                *user_id,
                frames::frame(
                    "invitation",
                    None,
                    &serde_json::json!({"room_id": room_id, "invited_by": invited_by}),
                ),
            ),
            Ephemeral::UserUpdated {
                user_id,
                username,
                display_name,
                avatar,
                rooms,
            } => {
                let frame = frames::frame(
                    "user.updated",
                    None,
                    &serde_json::json!({
                        "id": user_id,
                        "username": username,
                        "display_name": display_name,
                        "avatar": avatar,
                    }),
                );
                self.subs.to_rooms_once(rooms, *user_id, frame.clone());
                self.subs.to_user(*user_id, frame);
            }
            Ephemeral::Presence {
                user_id,
                status,
                rooms,
                origin,
            } => {
                if *origin == self.instance {
                    presence::announce(&self.subs, *user_id, status, rooms);
                } else {
                    self.peers.beat(*origin);
                    presence::remote_signal(
                        &self.subs,
                        &self.presence,
                        *user_id,
                        status,
                        rooms,
                        *origin,
                    );
                }
            }
        }
    }

    /// A peer's heartbeat: it is alive, and (when listed) exactly these users are online there.
    fn heartbeat(&self, origin: InstanceId, list: Option<Vec<PresenceEntry>>) {
        if origin == self.instance {
            return;
        }
        self.peers.beat(origin);
        if let Some(list) = list {
            presence::remote_list(&self.subs, &self.presence, origin, list);
        }
    }
}

impl BusSink for Hub {
    fn deliver(&self, msg: BusMessage) {
        match msg {
            BusMessage::Event(ev) => {
                let _span = traces::fanout(ev.seq).entered();
                let started = Instant::now();
                let frame = frames::frame("event", None, &*ev);
                self.room_frame(ev.room_id, ev.seq, ev.created_at, frame, started);
                if ev.kind == EventKind::RoomDeleted {
                    self.subs.forget_room(ev.room_id);
                }
            }
            BusMessage::Relayed(ev) => {
                let _span = traces::fanout(ev.seq).entered();
                let started = Instant::now();
                let frame = frames::raw_frame("event", &ev.json);
                self.room_frame(ev.room_id, ev.seq, ev.created_at, frame, started);
                if ev.kind == EventKind::RoomDeleted {
                    self.subs.forget_room(ev.room_id);
                }
            }
            BusMessage::Ephemeral(e) => self.ephemeral(&e),
            BusMessage::Heartbeat { origin, presence } => self.heartbeat(origin, presence),
            BusMessage::Resync => {} // handled by gateway::catchup
            BusMessage::SessionsRevoked(ids) => self.subs.end_sessions(&ids),
            BusMessage::Membership {
                room_id,
                user_id,
                joined,
            } => {
                self.subs.membership(room_id, user_id, joined);
                if joined {
                    presence::joined(&self.subs, &self.presence, room_id, user_id);
                }
            }
        }
    }
}
