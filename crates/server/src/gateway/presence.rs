//! Presence as the gateway shows it: announcing changes to the members of the rooms concerned,
//! the snapshot in `ready`, and this process's list in its heartbeat.
//!
//! The registry itself (statuses, users online on other processes) is `crate::presence`, below
//! the use cases that set statuses; sockets and rooms are `subs`. These functions combine the
//! two without holding both locks at once: each reads one, then the other, then offers frames.

use super::frames;
use super::subs::Subscriptions;
use crate::presence::{Left, OFFLINE, Presence};
use axum::extract::ws::Utf8Bytes;
use justus_core::bus::{InstanceId, PresenceEntry};
use justus_core::{RoomId, UserId};

fn frame(user: UserId, status: &str) -> Utf8Bytes {
    frames::frame(
        "presence",
        None,
        &serde_json::json!({"user_id": user, "status": status}),
    )
}

/// Tells the members of `rooms` (once each, never `user` themself) that `user` is `status`.
pub fn announce(subs: &Subscriptions, user: UserId, status: &str, rooms: &[RoomId]) {
    subs.to_rooms_once(rooms, user, frame(user, status));
}

/// A user's status changed on another process.
pub fn remote_signal(
    subs: &Subscriptions,
    registry: &Presence,
    user: UserId,
    status: &str,
    rooms: &[RoomId],
    origin: InstanceId,
) {
    // Still online on another process, or here: nothing changed for viewers.
    if !registry.set_remote(user, origin, status, rooms)
        || (status == OFFLINE && subs.has_user(user))
    {
        return;
    }
    announce(subs, user, status, rooms);
}

/// A peer's heartbeat listed exactly these users as online there.
pub fn remote_list(
    subs: &Subscriptions,
    registry: &Presence,
    origin: InstanceId,
    list: Vec<PresenceEntry>,
) {
    let (left, arrived) = registry.replace_remote(origin, list);
    offline_unless_here(subs, left);
    for e in arrived {
        announce(subs, e.user_id, &e.status, &e.rooms);
    }
}

/// `user` joined `room` (a new DM or group, an add, an invite accepted). Presence is otherwise
/// exchanged only at connect (`ready`) and on changes, so without this two people who just
/// opened a DM would each see the other offline until one of them changed status: the joiner's
/// sockets here learn who in the room is online, and the room's sockets here learn the
/// joiner's status, when the joiner is online here or (as the registry knows) elsewhere.
pub fn joined(subs: &Subscriptions, registry: &Presence, room: RoomId, user: UserId) {
    let status = if subs.has_user(user) {
        for (peer, status) in snapshot(subs, registry, &[room], user) {
            subs.to_user(user, frame(peer, &status));
        }
        registry
            .local_statuses([(user, ())])
            .pop()
            .map(|(_, status, ())| status)
    } else {
        registry.remote_status(user)
    };
    if let Some(status) = status {
        announce(subs, user, &status, &[room]);
    }
}

/// Users no process lists any more: offline, unless they have a socket here.
pub fn offline_unless_here(subs: &Subscriptions, left: Vec<Left>) {
    for Left { user, rooms } in left {
        if !subs.has_user(user) {
            announce(subs, user, OFFLINE, &rooms);
        }
    }
}

/// Users (other than `me`) online here or elsewhere in any of `rooms`, with their status: the
/// presence snapshot for `ready`.
pub fn snapshot(
    subs: &Subscriptions,
    registry: &Presence,
    rooms: &[RoomId],
    me: UserId,
) -> Vec<(UserId, String)> {
    let here = subs.users_in(rooms, me).into_iter().map(|u| (u, ()));
    let mut peers: Vec<(UserId, String)> = registry
        .local_statuses(here)
        .into_iter()
        .map(|(user, status, ())| (user, status))
        .collect();
    // Users with a socket here are listed above (or are in none of these rooms here).
    let mut elsewhere = registry.remote_in(rooms, me);
    subs.retain_absent(&mut elsewhere);
    peers.extend(elsewhere);
    peers
}

/// This process's online users, their status and rooms: the presence part of a heartbeat.
pub fn local_list(subs: &Subscriptions, registry: &Presence) -> Vec<PresenceEntry> {
    registry
        .local_statuses(subs.users_rooms())
        .into_iter()
        .map(|(user_id, status, rooms)| PresenceEntry {
            user_id,
            status,
            rooms,
        })
        .collect()
}
