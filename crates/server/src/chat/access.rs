//! The send path's memory of who may post where: a group and the sender's membership, kept
//! from one send to the next so a send reads nothing from the store before its write.
//!
//! Why a stale entry cannot let through what the database would refuse, or not for long:
//! - membership itself is re-checked inside the send's write transaction, so a member removed
//!   anywhere (kicked, banned, left) can never send, cached or not, and a deleted room takes no
//!   message;
//! - every event that changes a room or its members drops that room's entries, whether it was
//!   committed here or arrives over the bus from another instance, and a resync drops them all;
//! - a lookup that started before any drop is not kept (one generation counter: drops are
//!   rare, so a lookup thrown away because another room changed costs nothing worth a map);
//! - entries expire after [`TTL`], which bounds the one thing the bus could leave stale: a role
//!   change, a mute, a slow mode or an "only admins post" switch made on another instance whose
//!   event never reached this one (the bus is a hint; that instance may not even subscribe to
//!   the room).
//!
//! Only the send path reads it; every other use case, and every read of history, asks the
//! store. Direct messages are never cached (their block check reads the store each time).

use justus_core::bus::{BusMessage, BusSink};
use justus_core::event::EventKind;
use justus_core::room::{Member, Room};
use justus_core::{RoomId, UserId};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an entry is trusted without an event confirming it.
pub const TTL: Duration = Duration::from_secs(2);
/// Entries kept at most; past this, expired ones are dropped, and if that is not enough, all.
const CAPACITY: usize = 100_000;

/// A group and one member's membership, as read from the store.
#[derive(Debug)]
pub struct Access {
    pub room: Room,
    pub member: Member,
}

#[derive(Default)]
pub struct PostAccess {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<(RoomId, UserId), (Instant, Arc<Access>)>,
    /// Bumped by every drop.
    generation: u64,
}

/// Taken before a store lookup; the result is kept only if nothing was dropped meanwhile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp(u64);

impl PostAccess {
    /// A fresh entry for `user` in `room`.
    pub fn get(&self, room: RoomId, user: UserId) -> Option<Arc<Access>> {
        let inner = self.inner.lock();
        let (at, access) = inner.entries.get(&(room, user))?;
        (at.elapsed() < TTL).then(|| access.clone())
    }

    /// Call before reading the store for an entry to [`put`](Self::put).
    pub fn stamp(&self) -> Stamp {
        Stamp(self.inner.lock().generation)
    }

    /// Keeps what the store said at `stamp`, unless the room changed since.
    pub fn put(&self, stamp: Stamp, access: Arc<Access>) {
        let mut inner = self.inner.lock();
        let key = (access.room.id, access.member.user_id);
        if Stamp(inner.generation) != stamp {
            return;
        }
        if inner.entries.len() >= CAPACITY {
            inner.entries.retain(|_, (at, _)| at.elapsed() < TTL);
            if inner.entries.len() >= CAPACITY {
                inner.entries.clear();
            }
        }
        inner.entries.insert(key, (Instant::now(), access));
    }

    /// Drops every entry of `room`.
    pub fn invalidate(&self, room: RoomId) {
        let mut inner = self.inner.lock();
        inner.generation += 1;
        inner.entries.retain(|(r, _), _| *r != room);
    }

    /// Drops everything.
    pub fn clear(&self) {
        let mut inner = self.inner.lock();
        inner.generation += 1;
        inner.entries.clear();
    }
}

/// Whether an event of this kind may change who may post in its room, or how.
fn changes_access(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::MemberJoined
            | EventKind::MemberLeft
            | EventKind::MemberKicked
            | EventKind::MemberBanned
            | EventKind::MemberRoleChanged
            | EventKind::MemberMuted
            | EventKind::MemberUnmuted
            | EventKind::RoomUpdated
            | EventKind::RoomDeleted
    )
}

/// Listens on the bus: this process's commits and, scaled out, everyone else's.
impl BusSink for PostAccess {
    fn deliver(&self, msg: BusMessage) {
        match msg {
            BusMessage::Event(ev) if changes_access(ev.kind) => self.invalidate(ev.room_id),
            BusMessage::Resync => self.clear(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use justus_core::event::RoomEvent;
    use justus_core::room::{Role, RoomKind};

    fn access(room: RoomId, user: UserId, role: Role) -> Arc<Access> {
        let now = Utc::now();
        Arc::new(Access {
            room: Room {
                id: room,
                kind: RoomKind::Group,
                name: Some("g".into()),
                topic: None,
                created_by: user,
                created_at: now,
                last_seq: 1,
                last_activity_at: now,
                only_admins_post: false,
                member_count: 2,
                avatar: None,
                retention_days: None,
                slow_mode_seconds: 0,
                permissions: Default::default(),
            },
            member: Member {
                room_id: room,
                user_id: user,
                role,
                joined_at: now,
                read_seq: 0,
                muted_until: None,
            },
        })
    }

    fn event(room: RoomId, kind: EventKind) -> BusMessage {
        BusMessage::Event(Arc::new(RoomEvent::new(
            room,
            2,
            kind,
            UserId::new(),
            Utc::now(),
        )))
    }

    #[test]
    fn membership_and_room_events_drop_the_room_and_nothing_else() {
        let cache = PostAccess::default();
        let (r1, r2, u) = (RoomId::new(), RoomId::new(), UserId::new());
        for r in [r1, r2] {
            cache.put(cache.stamp(), access(r, u, Role::Member));
        }
        cache.deliver(event(r1, EventKind::MessageCreated));
        cache.deliver(event(r1, EventKind::ReactionAdded));
        assert!(
            cache.get(r1, u).is_some(),
            "messages change no one's access"
        );
        for kind in [
            EventKind::MemberJoined,
            EventKind::MemberLeft,
            EventKind::MemberKicked,
            EventKind::MemberBanned,
            EventKind::MemberRoleChanged,
            EventKind::MemberMuted,
            EventKind::MemberUnmuted,
            EventKind::RoomUpdated,
            EventKind::RoomDeleted,
        ] {
            cache.put(cache.stamp(), access(r1, u, Role::Member));
            cache.deliver(event(r1, kind));
            assert!(cache.get(r1, u).is_none(), "{kind:?} drops the room");
            assert!(cache.get(r2, u).is_some(), "{kind:?} keeps other rooms");
        }
        cache.deliver(BusMessage::Resync);
        assert!(
            cache.inner.lock().entries.is_empty(),
            "a resync drops everything"
        );
    }

    /// A lookup that raced an invalidation must not bring the old state back.
    #[test]
    fn a_lookup_older_than_an_invalidation_is_not_kept() {
        let cache = PostAccess::default();
        let (r, u) = (RoomId::new(), UserId::new());
        let stamp = cache.stamp();
        cache.deliver(event(r, EventKind::MemberRoleChanged));
        cache.put(stamp, access(r, u, Role::Admin));
        assert!(cache.get(r, u).is_none());
        let stamp = cache.stamp();
        cache.clear();
        cache.put(stamp, access(r, u, Role::Admin));
        assert!(cache.get(r, u).is_none());
        cache.put(cache.stamp(), access(r, u, Role::Admin));
        assert!(cache.get(r, u).is_some());
    }

    #[test]
    fn entries_expire_and_the_map_stays_bounded() {
        let cache = PostAccess::default();
        let (r, u) = (RoomId::new(), UserId::new());
        {
            let mut inner = cache.inner.lock();
            let old = Instant::now()
                .checked_sub(TTL + Duration::from_millis(1))
                .expect("uptime");
            inner
                .entries
                .insert((r, u), (old, access(r, u, Role::Member)));
        }
        assert!(cache.get(r, u).is_none(), "expired");
        for _ in 0..CAPACITY + 10 {
            let r = RoomId::new();
            cache.put(cache.stamp(), access(r, u, Role::Member));
        }
        let len = cache.inner.lock().entries.len();
        assert!(len <= CAPACITY, "{len}");
    }
}
