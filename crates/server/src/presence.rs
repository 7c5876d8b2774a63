//! The presence registry: who is online, where, and with what status.
//!
//! - Local users: those with a socket on this process (or within [`GRACE`] after their last one
//!   closed) and the status they chose (`online` until they say `idle`).
//! - Remote users: online on other processes, learned from those processes' presence signals and
//!   heartbeats, kept per process with the rooms the user is in (whose members may see them).
//!
//! A service below the use cases: `chat::presence` sets statuses; the gateway reads the registry
//! for `ready` and the heartbeat and announces its changes. It knows nothing of sockets: whether
//! a user still has one here is for the gateway to say. One lock; nothing else is locked while
//! it is held, except that the gateway's peer list may be held around [`Presence::forget_processes`].

use justus_core::bus::{InstanceId, PresenceEntry};
use justus_core::{RoomId, UserId};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// How long a user stays "online" after their last socket closed (hides reconnects).
pub const GRACE: Duration = Duration::from_secs(30);
/// The status of a user with a socket who has not chosen one.
pub const ONLINE: &str = "online";
pub const IDLE: &str = "idle";
pub const OFFLINE: &str = "offline";

#[derive(Default)]
pub struct Presence {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Users with a socket here, or within the grace period, and their status.
    local: HashMap<UserId, String>,
    /// Users online on other processes: user → process → what that process announced.
    remote: HashMap<UserId, HashMap<InstanceId, Remote>>,
}

struct Remote {
    status: String,
    rooms: Vec<RoomId>,
}

/// A user a process no longer lists, who is online on no other process: offline to the members
/// of `rooms` unless they have a socket here.
#[derive(Debug, PartialEq, Eq)]
pub struct Left {
    pub user: UserId,
    pub rooms: Vec<RoomId>,
}

impl Presence {
    /// Sets (or, with `None`, forgets) the status of a user of this process.
    pub fn set_local(&self, user: UserId, status: Option<&str>) {
        let mut st = self.state.lock();
        match status {
            Some(s) => {
                st.local.insert(user, s.to_owned());
            }
            None => {
                st.local.remove(&user);
            }
        }
    }

    /// The status of each of these local users (`online` unless they chose another).
    pub fn local_statuses<T>(
        &self,
        users: impl IntoIterator<Item = (UserId, T)>,
    ) -> Vec<(UserId, String, T)> {
        let st = self.state.lock();
        users
            .into_iter()
            .map(|(user, extra)| {
                let status = st.local.get(&user).map_or(ONLINE, String::as_str);
                (user, status.to_owned(), extra)
            })
            .collect()
    }

    /// Records `user`'s status on process `origin` (`offline` forgets them there). Returns
    /// whether the change may be news to viewers: always, except for an `offline` while the user
    /// is still online on another process.
    pub fn set_remote(
        &self,
        user: UserId,
        origin: InstanceId,
        status: &str,
        rooms: &[RoomId],
    ) -> bool {
        let mut st = self.state.lock();
        if status == OFFLINE {
            if let Some(by) = st.remote.get_mut(&user) {
                by.remove(&origin);
                if by.is_empty() {
                    st.remote.remove(&user);
                }
            }
            !st.remote.contains_key(&user)
        } else {
            st.remote.entry(user).or_default().insert(
                origin,
                Remote {
                    status: status.to_owned(),
                    rooms: rooms.to_vec(),
                },
            );
            true
        }
    }

    /// Process `origin`'s full list of its online users (from its heartbeat) replaces what was
    /// known of it. Returns who it no longer lists (and is online on no other process), and who
    /// it lists for the first time.
    pub fn replace_remote(
        &self,
        origin: InstanceId,
        list: Vec<PresenceEntry>,
    ) -> (Vec<Left>, Vec<PresenceEntry>) {
        let mut st = self.state.lock();
        let listed: HashSet<UserId> = list.iter().map(|e| e.user_id).collect();
        let mut gone = Vec::new();
        for (user, by) in st.remote.iter_mut() {
            if !listed.contains(user)
                && let Some(r) = by.remove(&origin)
            {
                gone.push((*user, r.rooms));
            }
        }
        st.remote.retain(|_, by| !by.is_empty());
        let mut arrived = Vec::new();
        for e in list {
            let known = st.remote.entry(e.user_id).or_default().insert(
                origin,
                Remote {
                    status: e.status.clone(),
                    rooms: e.rooms.clone(),
                },
            );
            if known.is_none() {
                arrived.push(e);
            }
        }
        (st.left(gone), arrived)
    }

    /// Forgets everything known of processes that died. Returns their users who are online on
    /// no other process.
    pub fn forget_processes(&self, dead: &[InstanceId]) -> Vec<Left> {
        let mut st = self.state.lock();
        let mut gone = Vec::new();
        for (user, by) in st.remote.iter_mut() {
            for peer in dead {
                if let Some(r) = by.remove(peer) {
                    gone.push((*user, r.rooms));
                }
            }
        }
        st.remote.retain(|_, by| !by.is_empty());
        st.left(gone)
    }

    /// `user`'s status on another process, if they are online on one.
    pub fn remote_status(&self, user: UserId) -> Option<String> {
        let st = self.state.lock();
        st.remote
            .get(&user)
            .and_then(|by| by.values().next())
            .map(|r| r.status.clone())
    }

    /// Users online on other processes in any of `rooms` (other than `me`), with the status of
    /// the first of their processes found listing one of those rooms.
    pub fn remote_in(&self, rooms: &[RoomId], me: UserId) -> Vec<(UserId, String)> {
        let wanted: HashSet<&RoomId> = rooms.iter().collect();
        let st = self.state.lock();
        st.remote
            .iter()
            .filter(|(user, _)| **user != me)
            .filter_map(|(user, by)| {
                by.values()
                    .find(|r| r.rooms.iter().any(|room| wanted.contains(room)))
                    .map(|r| (*user, r.status.clone()))
            })
            .collect()
    }
}

impl State {
    /// The users of `gone` that no process lists any more.
    fn left(&self, gone: Vec<(UserId, Vec<RoomId>)>) -> Vec<Left> {
        gone.into_iter()
            .filter(|(user, _)| !self.remote.contains_key(user))
            .map(|(user, rooms)| Left { user, rooms })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn user() -> UserId {
        UserId(Uuid::now_v7())
    }
    fn room() -> RoomId {
        RoomId(Uuid::now_v7())
    }
    fn entry(user: UserId, status: &str, rooms: &[RoomId]) -> PresenceEntry {
        PresenceEntry {
            user_id: user,
            status: status.into(),
            rooms: rooms.to_vec(),
        }
    }

    #[test]
    fn local_status_defaults_to_online() {
        let p = Presence::default();
        let (a, b) = (user(), user());
        p.set_local(a, Some("idle"));
        assert_eq!(
            p.local_statuses([(a, 1), (b, 2)]),
            [(a, "idle".to_owned(), 1), (b, "online".to_owned(), 2)]
        );
        p.set_local(a, None);
        assert_eq!(p.local_statuses([(a, ())])[0].1, "online");
    }

    #[test]
    fn offline_on_one_process_is_news_only_when_no_other_lists_the_user() {
        let p = Presence::default();
        let (u, r) = (user(), room());
        let (one, two) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(p.set_remote(u, one, "online", &[r]));
        assert!(p.set_remote(u, two, "idle", &[r]));
        assert!(
            !p.set_remote(u, one, "offline", &[r]),
            "still on process two"
        );
        assert_eq!(p.remote_in(&[r], user()), [(u, "idle".to_owned())]);
        assert!(p.remote_in(&[r], u).is_empty(), "never oneself");
        assert!(p.remote_in(&[room()], user()).is_empty(), "other rooms");
        assert!(p.set_remote(u, two, "offline", &[r]));
        assert!(p.remote_in(&[r], user()).is_empty());
    }

    #[test]
    fn a_heartbeat_list_replaces_what_was_known_of_its_process() {
        let p = Presence::default();
        let (a, b, c, r) = (user(), user(), user(), room());
        let (one, two) = (Uuid::now_v7(), Uuid::now_v7());
        let (left, arrived) = p.replace_remote(
            one,
            vec![entry(a, "online", &[r]), entry(b, "online", &[r])],
        );
        assert!(left.is_empty());
        assert_eq!(arrived.len(), 2);
        p.set_remote(b, two, "online", &[r]);
        // a and b are no longer listed by `one`; b is still on `two`; c is new.
        let (left, arrived) = p.replace_remote(one, vec![entry(c, "idle", &[r])]);
        assert_eq!(
            left,
            [Left {
                user: a,
                rooms: vec![r]
            }]
        );
        assert_eq!(arrived, [entry(c, "idle", &[r])]);
        // Listing the same again announces nothing.
        let (left, arrived) = p.replace_remote(one, vec![entry(c, "idle", &[r])]);
        assert!(left.is_empty() && arrived.is_empty());
        // `one` dies: c goes; b stays (on `two`).
        assert_eq!(
            p.forget_processes(&[one]),
            [Left {
                user: c,
                rooms: vec![r]
            }]
        );
        assert_eq!(p.remote_in(&[r], user()), [(b, "online".to_owned())]);
    }
}
