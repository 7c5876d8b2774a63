//! Subscriptions and fan-out: which sockets of this process want which rooms, and delivering
//! frames to them.
//!
//! A frame is offered to each subscribed socket's bounded queue without waiting: a full queue
//! marks that socket as lagging (it is closed with 4009 and resyncs) and never slows the others.
//! Room events go through the room's [`SeqOrder`], so each socket gets them once and in `seq`
//! order. Scaled out, the first local subscriber of a room subscribes the process to the room's
//! bus channel and the last one leaving unsubscribes.
//!
//! One lock over sockets, rooms and users, held while delivering: subscribing, unsubscribing
//! and delivering are atomic with respect to each other, which is what keeps a room's frames in
//! order and a subscriber's start consistent with its `ready` snapshot. Nothing else is locked
//! while it is held (the bus is only told about interest, which never calls back).

use super::order::{Offered, SeqOrder};
use super::outbox::Outbox;
use axum::extract::ws::Utf8Bytes;
use justus_core::bus::Bus;
use justus_core::{RoomId, SessionId, UserId};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Instant;
use tokio::sync::Notify;

pub type ConnId = u64;

/// Closes with this code when the socket's queue overflows.
pub const CLOSE_LAGGING: u16 = 4009;
pub const CLOSE_SESSION_ENDED: u16 = 4003;
/// Closes every socket with this code when the process shuts down: reconnect elsewhere.
pub const CLOSE_RESTARTING: u16 = 4011;

/// Latest seq published per room is forgotten past this many rooms.
const PUBLISHED_CAP: usize = 200_000;

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
    order: SeqOrder,
}

#[derive(Default)]
struct State {
    conns: HashMap<ConnId, Conn>,
    rooms: HashMap<RoomId, RoomSubs>,
    users: HashMap<UserId, HashSet<ConnId>>,
    /// Latest seq published per room (bounded: cleared when it grows past PUBLISHED_CAP).
    published: HashMap<RoomId, i64>,
    /// Rooms holding events ahead of a gap (swept periodically).
    held_rooms: HashSet<RoomId>,
}

#[derive(Default)]
pub struct Subscriptions {
    state: Mutex<State>,
    next_id: AtomicU64,
    /// Told about room interest changes (set once at start-up; weak: the bus owns the hub).
    bus: OnceLock<Weak<dyn Bus>>,
}

impl Subscriptions {
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
        if !st.rooms.contains_key(&room) {
            self.interest(room, true);
        }
        let subs = st.rooms.entry(room).or_default();
        subs.conns.insert(id);
        if let Some(c) = st.conns.get_mut(&id) {
            c.rooms.insert(room);
        }
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
            self.add_sub(&mut st, *room, id).order.start_at(*last_seq);
        }
    }

    /// A user joined or left a room: their sockets here follow.
    pub fn membership(&self, room: RoomId, user: UserId, joined: bool) {
        let mut st = self.state.lock();
        let ids: Vec<ConnId> = st
            .users
            .get(&user)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        for id in ids {
            if joined {
                self.add_sub(&mut st, room, id);
            } else {
                self.remove_sub(&mut st, room, id);
                if let Some(c) = st.conns.get_mut(&id) {
                    c.rooms.remove(&room);
                }
            }
        }
    }

    /// The room was deleted: nobody here receives it any more.
    pub fn forget_room(&self, room: RoomId) {
        let mut st = self.state.lock();
        if st.rooms.remove(&room).is_some() {
            st.held_rooms.remove(&room);
            self.interest(room, false);
        }
    }

    /// Delivers a room event's frame to the room's subscribers, in `seq` order, once. `None`:
    /// no socket here wants the room.
    pub fn room_event(&self, room_id: RoomId, seq: i64, frame: Utf8Bytes) -> Option<Offered> {
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
        let RoomSubs { conns: ids, order } = rooms.get_mut(&room_id)?;
        let offered = order.offer(seq, frame, Instant::now(), &mut |f| fan_out(ids, conns, f));
        if order.is_holding() {
            held_rooms.insert(room_id);
        }
        Some(offered)
    }

    /// Delivers held events whose gap did not fill in time.
    pub fn flush_stale(&self) {
        let mut st = self.state.lock();
        let State {
            rooms,
            conns,
            held_rooms,
            ..
        } = &mut *st;
        let now = Instant::now();
        held_rooms.retain(|room| match rooms.get_mut(room) {
            Some(RoomSubs { conns: ids, order }) => {
                order.flush_stale(now, &mut |f| fan_out(ids, conns, f));
                order.is_holding()
            }
            None => false,
        });
    }

    /// Sends an ephemeral frame to every socket subscribed to `room`.
    pub fn to_room(&self, room: RoomId, frame: Utf8Bytes) {
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
    pub fn to_rooms_once(&self, rooms: &[RoomId], user: UserId, frame: Utf8Bytes) {
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

    /// Sends `frame` to every socket of `user` here.
    pub fn to_user(&self, user: UserId, frame: Utf8Bytes) {
        let st = self.state.lock();
        if let Some(ids) = st.users.get(&user) {
            for id in ids {
                if let Some(c) = st.conns.get(id) {
                    offer(c, frame.clone());
                }
            }
        }
    }

    /// Whether `user` has a socket here.
    pub fn has_user(&self, user: UserId) -> bool {
        self.state.lock().users.contains_key(&user)
    }

    /// Keeps the entries whose user has no socket here.
    pub fn retain_absent<T>(&self, entries: &mut Vec<(UserId, T)>) {
        let st = self.state.lock();
        entries.retain(|(user, _)| !st.users.contains_key(user));
    }

    /// Users (other than `me`) with a socket subscribed to any of `rooms`.
    pub fn users_in(&self, rooms: &[RoomId], me: UserId) -> HashSet<UserId> {
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
    }

    /// Each user with a socket here, and the rooms their sockets are subscribed to.
    pub fn users_rooms(&self) -> Vec<(UserId, Vec<RoomId>)> {
        let st = self.state.lock();
        st.users
            .iter()
            .map(|(user, ids)| {
                let rooms: HashSet<RoomId> = ids
                    .iter()
                    .filter_map(|id| st.conns.get(id))
                    .flat_map(|c| c.rooms.iter().copied())
                    .collect();
                (*user, rooms.into_iter().collect())
            })
            .collect()
    }

    /// Rooms with local subscribers and the last seq delivered to them.
    pub fn delivered_rooms(&self) -> Vec<(RoomId, i64)> {
        let st = self.state.lock();
        st.rooms
            .iter()
            .filter_map(|(room, subs)| subs.order.delivered().map(|d| (*room, d)))
            .collect()
    }

    /// The highest seq seen published for `room`.
    pub fn last_published(&self, room: RoomId) -> Option<i64> {
        self.state.lock().published.get(&room).copied()
    }

    /// Every socket and its user.
    pub fn sockets(&self) -> Vec<(ConnId, UserId)> {
        let st = self.state.lock();
        st.conns.iter().map(|(id, c)| (*id, c.user)).collect()
    }

    pub fn count(&self) -> usize {
        self.state.lock().conns.len()
    }

    /// Closes every socket; returns how many there were.
    pub fn close_all(&self, code: u16) -> usize {
        let st = self.state.lock();
        for c in st.conns.values() {
            c.shared.close(code);
        }
        st.conns.len()
    }

    /// Closes the sockets of these sessions (4003).
    pub fn end_sessions(&self, sessions: &[SessionId]) {
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

fn fan_out(ids: &HashSet<ConnId>, conns: &HashMap<ConnId, Conn>, frame: &Utf8Bytes) {
    let mut sent = 0u64;
    for id in ids {
        if let Some(c) = conns.get(id)
            && try_offer(c, frame.clone())
        {
            sent += 1;
        }
    }
    metrics::counter!("gateway_frames_out_total").increment(sent);
}
