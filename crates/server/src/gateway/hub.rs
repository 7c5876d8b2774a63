//! The hub: which sockets of this process want which rooms, and fan-out.
//!
//! Everything published on the bus arrives in [`Hub::deliver`]. A room event is serialised once
//! into shared bytes and offered to each subscribed socket's bounded queue with `try_send`: a
//! full queue marks that socket as lagging (it is closed with 4009 and resyncs) and never slows
//! the others. Events of a room are delivered in `seq` order: one that arrives ahead of a gap
//! (two commits racing to publish) is held briefly until the gap fills, or flushed after
//! [`HOLD`] so clients catch up by `seq`.

use crate::gateway::frames;
use axum::extract::ws::Utf8Bytes;
use justus_core::bus::{BusMessage, BusSink, Ephemeral};
use justus_core::event::{EventKind, RoomEvent};
use justus_core::{RoomId, SessionId, UserId};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};

pub type ConnId = u64;

/// How long an event that arrived ahead of a gap waits for the missing one.
const HOLD: Duration = Duration::from_millis(250);
/// How long a user stays "online" after their last socket closed (hides reconnects).
pub const PRESENCE_GRACE: Duration = Duration::from_secs(30);

/// What the hub shares with a connection task.
pub struct ConnShared {
    /// A close code set by the hub (lagging, session ended); 0 = none.
    pub close_code: AtomicU16,
    pub notify: Notify,
}

impl ConnShared {
    pub fn close(&self, code: u16) {
        let _ = self
            .close_code
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire);
        self.notify.notify_one();
    }
}

struct Conn {
    user: UserId,
    session: SessionId,
    tx: mpsc::Sender<Utf8Bytes>,
    shared: Arc<ConnShared>,
    rooms: HashSet<RoomId>,
}

#[derive(Default)]
struct RoomSubs {
    conns: HashSet<ConnId>,
    /// Highest seq delivered (None until the first event or subscription snapshot).
    delivered: Option<i64>,
    /// Events that arrived ahead of a gap, by seq, with when they arrived.
    held: BTreeMap<i64, (Utf8Bytes, Instant)>,
}

#[derive(Default)]
struct State {
    conns: HashMap<ConnId, Conn>,
    rooms: HashMap<RoomId, RoomSubs>,
    users: HashMap<UserId, HashSet<ConnId>>,
    /// Users with a live socket, or within the grace period, and their status.
    presence: HashMap<UserId, String>,
    /// Latest seq published per room (bounded: cleared when it grows past PUBLISHED_CAP).
    published: HashMap<RoomId, i64>,
    /// Rooms holding events ahead of a gap (swept periodically).
    held_rooms: HashSet<RoomId>,
}

const PUBLISHED_CAP: usize = 200_000;

#[derive(Default)]
pub struct Hub {
    state: Mutex<State>,
    next_id: AtomicU64,
}

/// Closes with this code when the socket's queue overflows.
pub const CLOSE_LAGGING: u16 = 4009;
pub const CLOSE_SESSION_ENDED: u16 = 4003;

impl Hub {
    /// Registers a socket; returns its id and the shared close signal.
    pub fn register(
        &self,
        user: UserId,
        session: SessionId,
        tx: mpsc::Sender<Utf8Bytes>,
    ) -> (ConnId, Arc<ConnShared>, usize) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let shared = Arc::new(ConnShared {
            close_code: AtomicU16::new(0),
            notify: Notify::new(),
        });
        let mut st = self.state.lock();
        st.conns.insert(
            id,
            Conn {
                user,
                session,
                tx,
                shared: shared.clone(),
                rooms: HashSet::new(),
            },
        );
        let set = st.users.entry(user).or_default();
        set.insert(id);
        let count = set.len();
        metrics::gauge!("gateway_open_sockets").set(st.conns.len() as f64);
        (id, shared, count)
    }

    /// Removes a socket; returns true when it was the user's last one.
    pub fn unregister(&self, id: ConnId) -> bool {
        let mut st = self.state.lock();
        let Some(conn) = st.conns.remove(&id) else {
            return false;
        };
        for room in &conn.rooms {
            if let Some(subs) = st.rooms.get_mut(room) {
                subs.conns.remove(&id);
                if subs.conns.is_empty() {
                    st.rooms.remove(room);
                }
            }
        }
        let last = match st.users.get_mut(&conn.user) {
            Some(set) => {
                set.remove(&id);
                set.is_empty()
            }
            None => true,
        };
        if last {
            st.users.remove(&conn.user);
        }
        metrics::gauge!("gateway_open_sockets").set(st.conns.len() as f64);
        last
    }

    /// Subscribes a socket to rooms, with each room's latest seq from the snapshot it was sent.
    pub fn subscribe(&self, id: ConnId, rooms: &[(RoomId, i64)]) {
        let mut st = self.state.lock();
        for (room, last_seq) in rooms {
            let subs = st.rooms.entry(*room).or_default();
            subs.conns.insert(id);
            if subs.delivered.is_none() {
                subs.delivered = Some(*last_seq);
            }
            if let Some(c) = st.conns.get_mut(&id) {
                c.rooms.insert(*room);
            }
        }
    }

    pub fn set_presence(&self, user: UserId, status: Option<&str>) {
        let mut st = self.state.lock();
        match status {
            Some(s) => {
                st.presence.insert(user, s.to_owned());
            }
            None => {
                st.presence.remove(&user);
            }
        }
    }

    pub fn is_online(&self, user: UserId) -> bool {
        self.state.lock().users.contains_key(&user)
    }

    fn room_event(&self, ev: &RoomEvent) {
        let started = Instant::now();
        let frame = frames::frame("event", None, ev);
        let mut st = self.state.lock();
        if st.published.len() >= PUBLISHED_CAP {
            st.published.clear();
        }
        let latest = st.published.entry(ev.room_id).or_insert(ev.seq);
        *latest = (*latest).max(ev.seq);
        let State {
            rooms,
            conns,
            held_rooms,
            ..
        } = &mut *st;
        let Some(subs) = rooms.get_mut(&ev.room_id) else {
            return;
        };
        let expected = subs.delivered.map(|d| d + 1);
        match expected {
            Some(next) if ev.seq < next => return, // already delivered (or in the snapshot)
            Some(next) if ev.seq > next => {
                subs.held.insert(ev.seq, (frame, Instant::now()));
                held_rooms.insert(ev.room_id);
                flush_stale(subs, conns);
                return;
            }
            _ => {}
        }
        fan_out(subs, conns, &frame);
        subs.delivered = Some(ev.seq);
        // Anything held that is now in order goes out too.
        while let Some(entry) = subs.held.first_entry() {
            let seq = *entry.key();
            if Some(seq) != subs.delivered.map(|d| d + 1) {
                break;
            }
            let (held, _) = entry.remove();
            fan_out(subs, conns, &held);
            subs.delivered = Some(seq);
        }
        flush_stale(subs, conns);
        let lag = (chrono::Utc::now() - ev.created_at)
            .num_microseconds()
            .unwrap_or(0)
            .max(0) as f64
            / 1e6;
        metrics::histogram!("gateway_fanout_seconds").record(lag);
        metrics::histogram!("gateway_fanout_cpu_seconds").record(started.elapsed().as_secs_f64());
    }

    fn membership(&self, room: RoomId, user: UserId, joined: bool) {
        let mut st = self.state.lock();
        let ids: Vec<ConnId> = st
            .users
            .get(&user)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        for id in ids {
            if joined {
                st.rooms.entry(room).or_default().conns.insert(id);
                if let Some(c) = st.conns.get_mut(&id) {
                    c.rooms.insert(room);
                }
            } else {
                if let Some(subs) = st.rooms.get_mut(&room) {
                    subs.conns.remove(&id);
                }
                if let Some(c) = st.conns.get_mut(&id) {
                    c.rooms.remove(&room);
                }
            }
        }
    }

    fn ephemeral_to_room(&self, room: RoomId, frame: Utf8Bytes) {
        let st = self.state.lock();
        if let Some(subs) = st.rooms.get(&room) {
            for id in &subs.conns {
                if let Some(c) = st.conns.get(id) {
                    offer(c, frame.clone());
                }
            }
        }
    }

    /// Sends `frame` once to every socket subscribed to any of `rooms`, except `user`'s own.
    fn to_rooms_once(&self, rooms: &[RoomId], user: UserId, frame: Utf8Bytes) {
        let st = self.state.lock();
        let mut seen = HashSet::new();
        for room in rooms {
            if let Some(subs) = st.rooms.get(room) {
                for id in &subs.conns {
                    if let Some(c) = st.conns.get(id)
                        && c.user != user
                        && seen.insert(*id)
                    {
                        offer(c, frame.clone());
                    }
                }
            }
        }
    }

    /// Users with a socket subscribed to any of `rooms` (other than `me`), with their status:
    /// the presence snapshot for `ready`.
    pub fn online_peers(&self, rooms: &[RoomId], me: UserId) -> Vec<(UserId, String)> {
        let st = self.state.lock();
        let mut users = HashSet::new();
        for room in rooms {
            if let Some(subs) = st.rooms.get(room) {
                for id in &subs.conns {
                    if let Some(c) = st.conns.get(id)
                        && c.user != me
                    {
                        users.insert(c.user);
                    }
                }
            }
        }
        users
            .into_iter()
            .map(|u| {
                (
                    u,
                    st.presence
                        .get(&u)
                        .cloned()
                        .unwrap_or_else(|| "online".into()),
                )
            })
            .collect()
    }

    /// The highest seq this process has seen published for each room (for `ready`: a commit
    /// published between the snapshot and the subscription must still be caught up).
    pub fn last_published(&self, room: RoomId) -> Option<i64> {
        self.state.lock().published.get(&room).copied()
    }

    /// Flushes held events whose gap did not fill in time (called periodically).
    pub fn sweep(&self) {
        let mut st = self.state.lock();
        let State {
            rooms,
            conns,
            held_rooms,
            ..
        } = &mut *st;
        held_rooms.retain(|room| match rooms.get_mut(room) {
            Some(subs) => {
                flush_stale(subs, conns);
                !subs.held.is_empty()
            }
            None => false,
        });
    }

    fn end_sessions(&self, sessions: &[SessionId]) {
        let st = self.state.lock();
        for c in st.conns.values() {
            if sessions.contains(&c.session) {
                c.shared.close(CLOSE_SESSION_ENDED);
            }
        }
    }
}

/// Offers a frame to one socket; a full queue means the reader is lagging: close it.
fn offer(c: &Conn, frame: Utf8Bytes) {
    match c.tx.try_send(frame) {
        Ok(()) => metrics::counter!("gateway_frames_out_total").increment(1),
        Err(mpsc::error::TrySendError::Full(_)) => {
            if c.shared.close_code.load(Ordering::Acquire) == 0 {
                metrics::counter!("gateway_queue_drops_total").increment(1);
                metrics::counter!("gateway_lagging_disconnects_total").increment(1);
            }
            c.shared.close(CLOSE_LAGGING);
        }
        Err(mpsc::error::TrySendError::Closed(_)) => {}
    }
}

fn fan_out(subs: &RoomSubs, conns: &HashMap<ConnId, Conn>, frame: &Utf8Bytes) {
    for id in &subs.conns {
        if let Some(c) = conns.get(id) {
            offer(c, frame.clone());
        }
    }
}

/// Gives up on a gap that has not filled within HOLD: delivers what is held, in order.
fn flush_stale(subs: &mut RoomSubs, conns: &HashMap<ConnId, Conn>) {
    let stale = subs
        .held
        .first_key_value()
        .is_some_and(|(_, (_, at))| at.elapsed() >= HOLD);
    if !stale {
        return;
    }
    metrics::counter!("gateway_gaps_flushed_total").increment(1);
    for (seq, (frame, _)) in std::mem::take(&mut subs.held) {
        fan_out(subs, conns, &frame);
        subs.delivered = Some(seq);
    }
}

impl BusSink for Hub {
    fn deliver(&self, msg: BusMessage) {
        match msg {
            BusMessage::Event(ev) => {
                self.room_event(&ev);
                if ev.kind == EventKind::RoomDeleted {
                    self.state.lock().rooms.remove(&ev.room_id);
                }
            }
            BusMessage::Ephemeral(e) => match &e {
                Ephemeral::Typing { room_id, user_id, active } => self.ephemeral_to_room(
                    *room_id,
                    frames::frame("typing", None, &serde_json::json!({"room_id": room_id, "user_id": user_id, "active": active})),
                ),
                Ephemeral::AiDelta { room_id, message_id, index, delta } => self.ephemeral_to_room(
                    *room_id,
                    frames::frame("ai.delta", None, &serde_json::json!({"room_id": room_id, "message_id": message_id, "index": index, "delta": delta})),
                ),
                Ephemeral::Receipt { room_id, user_id, seq } => self.ephemeral_to_room(
                    *room_id,
                    frames::frame("receipt", None, &serde_json::json!({"room_id": room_id, "user_id": user_id, "seq": seq})),
                ),
                Ephemeral::Presence { user_id, status, rooms } => {
                    let frame = frames::frame("presence", None, &serde_json::json!({"user_id": user_id, "status": status}));
                    self.to_rooms_once(rooms, *user_id, frame);
                }
            },
            BusMessage::SessionsRevoked(ids) => self.end_sessions(&ids),
            BusMessage::Membership { room_id, user_id, joined } => self.membership(room_id, user_id, joined),
        }
    }
}
