//! The hub: which sockets of this process want which rooms, and fan-out.
//!
//! Everything published on the bus arrives in [`Hub::deliver`]. A room event is serialised once
//! into shared bytes and offered to each subscribed socket's bounded queue with `try_send`: a
//! full queue marks that socket as lagging (it is closed with 4009 and resyncs) and never slows
//! the others. Events of a room are delivered in `seq` order: one that arrives ahead of a gap
//! (two commits racing to publish) is held briefly until the gap fills, or flushed after
//! [`HOLD`] so clients catch up by `seq`.
//!
//! Scaled out, the hub also tells the bus which rooms this process cares about (the first local
//! subscriber subscribes the process to the room's channel, the last one leaving unsubscribes),
//! and keeps the presence of users whose sockets live on other processes: learned from their
//! presence signals and heartbeats, dropped when the process stops beating.

use super::outbox::Outbox;
use crate::gateway::frames;
use axum::extract::ws::Utf8Bytes;
use justus_core::bus::{
    Bus, BusMessage, BusSink, EncodedEvent, Ephemeral, InstanceId, PresenceEntry,
};
use justus_core::event::{EventKind, RoomEvent};
use justus_core::{RoomId, SessionId, UserId};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

pub type ConnId = u64;

/// How long an event that arrived ahead of a gap waits for the missing one.
const HOLD: Duration = Duration::from_millis(250);
/// How long a user stays "online" after their last socket closed (hides reconnects).
pub const PRESENCE_GRACE: Duration = Duration::from_secs(30);
/// A peer process that has not sent a heartbeat for this long is dead: its users go offline
/// and this process catches its sockets up from the store (the peer may have died between a
/// commit and its publish).
pub const PEER_TTL: Duration = Duration::from_secs(6);

/// What the hub shares with a connection task.
pub struct ConnShared {
    /// A close code set by the hub (lagging, session ended); 0 = none.
    pub close_code: AtomicU16,
    pub notify: Notify,
    /// Frames waiting to be written to the socket.
    pub outbox: Outbox,
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
    /// Users online on other processes: user → process → (status, rooms).
    remote: HashMap<UserId, HashMap<InstanceId, (String, Vec<RoomId>)>>,
    /// Other processes and when they last beat.
    peers: HashMap<InstanceId, Instant>,
}

const PUBLISHED_CAP: usize = 200_000;

pub struct Hub {
    instance: InstanceId,
    state: Mutex<State>,
    next_id: AtomicU64,
    /// Set at shutdown: no new socket is accepted while the open ones are told to leave.
    draining: AtomicBool,
    /// Told about room interest changes (set once at start-up; weak: the bus owns the hub).
    bus: OnceLock<Weak<dyn Bus>>,
}

/// Closes with this code when the socket's queue overflows.
pub const CLOSE_LAGGING: u16 = 4009;
pub const CLOSE_SESSION_ENDED: u16 = 4003;
/// Closes every socket with this code when the process shuts down: reconnect elsewhere.
pub const CLOSE_RESTARTING: u16 = 4011;

impl Hub {
    pub fn new(instance: InstanceId) -> Self {
        Self {
            instance,
            state: Mutex::new(State::default()),
            next_id: AtomicU64::new(0),
            draining: AtomicBool::new(false),
            bus: OnceLock::new(),
        }
    }

    pub fn instance(&self) -> InstanceId {
        self.instance
    }

    /// Connects the hub to the bus it reports room interest to.
    pub fn set_bus(&self, bus: Weak<dyn Bus>) {
        let _ = self.bus.set(bus);
    }

    fn interest(&self, room: RoomId, interested: bool) {
        if let Some(bus) = self.bus.get().and_then(Weak::upgrade) {
            bus.set_room_interest(room, interested);
        }
    }

    /// Adds a socket to a room's subscribers (the caller holds the lock).
    fn add_sub<'s>(&self, st: &'s mut State, room: RoomId, id: ConnId) -> &'s mut RoomSubs {
        let created = !st.rooms.contains_key(&room);
        if created {
            self.interest(room, true);
        }
        let subs = st.rooms.entry(room).or_default();
        subs.conns.insert(id);
        subs
    }

    /// Removes a socket from a room's subscribers; forgets the room when it was the last.
    fn remove_sub(&self, st: &mut State, room: RoomId, id: ConnId) {
        if let Some(subs) = st.rooms.get_mut(&room) {
            subs.conns.remove(&id);
            if subs.conns.is_empty() {
                st.rooms.remove(&room);
                st.held_rooms.remove(&room);
                self.interest(room, false);
            }
        }
    }

    /// Registers a socket; returns its id, what it shares with the hub (close signal and
    /// outgoing queue) and the user's local socket count.
    pub fn register(&self, user: UserId, session: SessionId) -> (ConnId, Arc<ConnShared>, usize) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let shared = Arc::new(ConnShared {
            close_code: AtomicU16::new(0),
            notify: Notify::new(),
            outbox: Outbox::new(super::QUEUE_FRAMES),
        });
        let mut st = self.state.lock();
        st.conns.insert(
            id,
            Conn {
                user,
                session,
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
            self.remove_sub(&mut st, *room, id);
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
            let subs = self.add_sub(&mut st, *room, id);
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
        self.room_frame(ev.room_id, ev.seq, ev.created_at, frame, started);
    }

    fn relayed_event(&self, ev: &EncodedEvent) {
        let started = Instant::now();
        let frame = frames::raw_frame("event", &ev.json);
        self.room_frame(ev.room_id, ev.seq, ev.created_at, frame, started);
    }

    fn room_frame(
        &self,
        room_id: RoomId,
        seq: i64,
        created_at: chrono::DateTime<chrono::Utc>,
        frame: Utf8Bytes,
        started: Instant,
    ) {
        let mut st = self.state.lock();
        if st.published.len() >= PUBLISHED_CAP {
            st.published.clear();
        }
        let latest = st.published.entry(room_id).or_insert(seq);
        *latest = (*latest).max(seq);
        let State {
            rooms,
            conns,
            held_rooms,
            ..
        } = &mut *st;
        let Some(subs) = rooms.get_mut(&room_id) else {
            return;
        };
        let expected = subs.delivered.map(|d| d + 1);
        match expected {
            Some(next) if seq < next => return, // already delivered (or in the snapshot)
            Some(next) if seq > next => {
                subs.held.insert(seq, (frame, Instant::now()));
                held_rooms.insert(room_id);
                flush_stale(subs, conns);
                return;
            }
            _ => {}
        }
        fan_out(subs, conns, &frame);
        subs.delivered = Some(seq);
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
        let lag = (chrono::Utc::now() - created_at)
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
                self.add_sub(&mut st, room, id);
                if let Some(c) = st.conns.get_mut(&id) {
                    c.rooms.insert(room);
                }
            } else {
                self.remove_sub(&mut st, room, id);
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
        let mut peers: Vec<(UserId, String)> = users
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
            .collect();
        let wanted: HashSet<&RoomId> = rooms.iter().collect();
        for (user, by_instance) in &st.remote {
            if *user == me || st.users.contains_key(user) {
                continue;
            }
            if let Some((status, _)) = by_instance
                .values()
                .find(|(_, rs)| rs.iter().any(|r| wanted.contains(r)))
            {
                peers.push((*user, status.clone()));
            }
        }
        peers
    }

    /// This process's online users, their status and rooms: the presence part of a heartbeat.
    pub fn local_presence(&self) -> Vec<PresenceEntry> {
        let st = self.state.lock();
        st.users
            .iter()
            .map(|(user, ids)| {
                let rooms: HashSet<RoomId> = ids
                    .iter()
                    .filter_map(|id| st.conns.get(id))
                    .flat_map(|c| c.rooms.iter().copied())
                    .collect();
                PresenceEntry {
                    user_id: *user,
                    status: st
                        .presence
                        .get(user)
                        .cloned()
                        .unwrap_or_else(|| "online".into()),
                    rooms: rooms.into_iter().collect(),
                }
            })
            .collect()
    }

    /// Rooms with local subscribers and the last seq delivered to them: where a catch-up from
    /// the store starts.
    pub fn delivered_rooms(&self) -> Vec<(RoomId, i64)> {
        let st = self.state.lock();
        st.rooms
            .iter()
            .filter_map(|(room, subs)| subs.delivered.map(|d| (*room, d)))
            .collect()
    }

    /// Every local socket as (user, cluster-wide slot name), for the socket cap.
    pub fn socket_slots(&self) -> Vec<(UserId, String)> {
        let st = self.state.lock();
        st.conns
            .iter()
            .map(|(id, c)| (c.user, self.slot(*id)))
            .collect()
    }

    /// The name of a socket's slot in the cluster-wide socket cap.
    pub fn slot(&self, id: ConnId) -> String {
        format!("{}:{id}", self.instance)
    }

    pub fn socket_count(&self) -> usize {
        self.state.lock().conns.len()
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
        let st = self.state.lock();
        for c in st.conns.values() {
            c.shared.close(code);
        }
        st.conns.len()
    }

    /// Presence of a user on another process changed.
    fn remote_presence(&self, user: UserId, status: &str, rooms: &[RoomId], origin: InstanceId) {
        let frame = {
            let mut st = self.state.lock();
            st.peers.insert(origin, Instant::now());
            if status == "offline" {
                if let Some(by) = st.remote.get_mut(&user) {
                    by.remove(&origin);
                    if by.is_empty() {
                        st.remote.remove(&user);
                    }
                }
                // Still online here or on another process: nothing changed for viewers.
                if st.users.contains_key(&user) || st.remote.contains_key(&user) {
                    return;
                }
            } else {
                st.remote
                    .entry(user)
                    .or_default()
                    .insert(origin, (status.to_owned(), rooms.to_vec()));
            }
            presence_frame(user, status)
        };
        self.to_rooms_once(rooms, user, frame);
    }

    /// A peer's heartbeat: it is alive, and (when listed) exactly these users are online there.
    fn heartbeat(&self, origin: InstanceId, presence: Option<Vec<PresenceEntry>>) {
        if origin == self.instance {
            return;
        }
        let mut gone = Vec::new();
        let mut arrived = Vec::new();
        {
            let mut st = self.state.lock();
            st.peers.insert(origin, Instant::now());
            let Some(list) = presence else { return };
            let listed: HashSet<UserId> = list.iter().map(|e| e.user_id).collect();
            for (user, by) in st.remote.iter_mut() {
                if !listed.contains(user)
                    && let Some((_, rooms)) = by.remove(&origin)
                {
                    gone.push((*user, rooms));
                }
            }
            st.remote.retain(|_, by| !by.is_empty());
            for e in list {
                let by = st.remote.entry(e.user_id).or_default();
                if by
                    .insert(origin, (e.status.clone(), e.rooms.clone()))
                    .is_none()
                {
                    arrived.push(e);
                }
            }
        }
        for (user, rooms) in gone {
            self.offline_if_gone(user, &rooms);
        }
        for e in arrived {
            self.to_rooms_once(&e.rooms, e.user_id, presence_frame(e.user_id, &e.status));
        }
    }

    fn offline_if_gone(&self, user: UserId, rooms: &[RoomId]) {
        let online = {
            let st = self.state.lock();
            st.users.contains_key(&user) || st.remote.contains_key(&user)
        };
        if !online {
            self.to_rooms_once(rooms, user, presence_frame(user, "offline"));
        }
    }

    /// The highest seq this process has seen published for each room (for `ready`: a commit
    /// published between the snapshot and the subscription must still be caught up).
    pub fn last_published(&self, room: RoomId) -> Option<i64> {
        self.state.lock().published.get(&room).copied()
    }

    /// Flushes held events whose gap did not fill in time, and forgets peers that stopped
    /// beating (their users go offline). Called periodically; returns how many peers were lost
    /// (the caller then catches up from the store).
    pub fn sweep(&self) -> usize {
        let lost = self.expire_peers();
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
        lost
    }

    fn expire_peers(&self) -> usize {
        let mut gone = Vec::new();
        let lost = {
            let mut st = self.state.lock();
            let dead: Vec<InstanceId> = st
                .peers
                .iter()
                .filter(|(_, at)| at.elapsed() >= PEER_TTL)
                .map(|(id, _)| *id)
                .collect();
            for peer in &dead {
                st.peers.remove(peer);
                for (user, by) in st.remote.iter_mut() {
                    if let Some((_, rooms)) = by.remove(peer) {
                        gone.push((*user, rooms));
                    }
                }
            }
            st.remote.retain(|_, by| !by.is_empty());
            dead.len()
        };
        for (user, rooms) in gone {
            self.offline_if_gone(user, &rooms);
        }
        if lost > 0 {
            metrics::counter!("bus_peers_lost_total").increment(lost as u64);
        }
        lost
    }

    /// Other processes currently beating.
    pub fn peer_count(&self) -> usize {
        self.state.lock().peers.len()
    }

    fn forget_room(&self, room: RoomId) {
        let mut st = self.state.lock();
        if st.rooms.remove(&room).is_some() {
            st.held_rooms.remove(&room);
            self.interest(room, false);
        }
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
    if try_offer(c, frame) {
        metrics::counter!("gateway_frames_out_total").increment(1);
    }
}

/// [`offer`] without counting: fan-out updates the counter once per room, not once per
/// recipient (each update is a registry lookup).
fn try_offer(c: &Conn, frame: Utf8Bytes) -> bool {
    if c.shared.outbox.offer(frame).is_ok() {
        return true;
    }
    if c.shared.close_code.load(Ordering::Acquire) == 0 {
        metrics::counter!("gateway_queue_drops_total").increment(1);
        metrics::counter!("gateway_lagging_disconnects_total").increment(1);
    }
    c.shared.close(CLOSE_LAGGING);
    false
}

fn presence_frame(user: UserId, status: &str) -> Utf8Bytes {
    frames::frame(
        "presence",
        None,
        &serde_json::json!({"user_id": user, "status": status}),
    )
}

fn fan_out(subs: &RoomSubs, conns: &HashMap<ConnId, Conn>, frame: &Utf8Bytes) {
    let mut sent = 0u64;
    for id in &subs.conns {
        if let Some(c) = conns.get(id)
            && try_offer(c, frame.clone())
        {
            sent += 1;
        }
    }
    metrics::counter!("gateway_frames_out_total").increment(sent);
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
                    self.forget_room(ev.room_id);
                }
            }
            BusMessage::Relayed(ev) => {
                self.relayed_event(&ev);
                if ev.kind == EventKind::RoomDeleted {
                    self.forget_room(ev.room_id);
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
                Ephemeral::Presence { user_id, status, rooms, origin } => {
                    if *origin == self.instance {
                        self.to_rooms_once(rooms, *user_id, presence_frame(*user_id, status));
                    } else {
                        self.remote_presence(*user_id, status, rooms, *origin);
                    }
                }
            },
            BusMessage::Heartbeat { origin, presence } => self.heartbeat(origin, presence),
            BusMessage::Resync => {} // handled by gateway::catchup
            BusMessage::SessionsRevoked(ids) => self.end_sessions(&ids),
            BusMessage::Membership { room_id, user_id, joined } => self.membership(room_id, user_id, joined),
        }
    }
}
