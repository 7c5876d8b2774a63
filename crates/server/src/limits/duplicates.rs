//! The duplicate-text heuristic: the same text (by `message::spam_fingerprint`) sent by one user
//! to too many different rooms within a window is refused in the next room. In process: a
//! spammer spread over instances gets at most that many rooms per instance, which still caps
//! the flood.

use justus_core::{RoomId, UserId};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Texts remembered per user.
const PER_USER: usize = 64;
/// Users remembered at most (past this, the oldest-looking are dropped on the next prune).
const MAX_USERS: usize = 100_000;

/// One text sent: its fingerprint, where, when.
type Sent = (u64, RoomId, Instant);

#[derive(Default)]
pub struct RecentTexts {
    users: Mutex<HashMap<UserId, VecDeque<Sent>>>,
}

impl RecentTexts {
    /// Records that `user` sends text `fingerprint` to `room`, unless it already went to `rooms`
    /// other rooms within `window`: then `Err(wait)` until the oldest of those leaves it.
    pub fn check(
        &self,
        user: UserId,
        room: RoomId,
        fingerprint: u64,
        rooms: usize,
        window: Duration,
    ) -> Result<(), Duration> {
        let now = Instant::now();
        let mut users = self.users.lock();
        if users.len() >= MAX_USERS && !users.contains_key(&user) {
            users.retain(|_, q| q.back().is_some_and(|(_, _, at)| now - *at < window));
        }
        let recent = users.entry(user).or_default();
        while recent
            .front()
            .is_some_and(|(_, _, at)| now.duration_since(*at) >= window)
        {
            recent.pop_front();
        }
        let mut seen: Vec<(RoomId, Instant)> = Vec::new();
        for (f, r, at) in recent.iter() {
            if *f == fingerprint && *r != room && !seen.iter().any(|(s, _)| s == r) {
                seen.push((*r, *at));
            }
        }
        if seen.len() >= rooms {
            let oldest = seen.iter().map(|(_, at)| *at).min().unwrap_or(now);
            return Err((oldest + window).saturating_duration_since(now));
        }
        if recent.len() >= PER_USER {
            recent.pop_front();
        }
        recent.push_back((fingerprint, room, now));
        Ok(())
    }

    /// Forgets users with nothing inside `window`.
    pub fn prune(&self, window: Duration) {
        let now = Instant::now();
        self.users
            .lock()
            .retain(|_, q| q.back().is_some_and(|(_, _, at)| now - *at < window));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_in_too_many_rooms_is_refused_and_retries_are_not_counted() {
        let t = RecentTexts::default();
        let (u, w) = (UserId::new(), Duration::from_secs(300));
        let rooms: Vec<RoomId> = (0..4).map(|_| RoomId::new()).collect();
        for r in &rooms[..3] {
            assert!(t.check(u, *r, 7, 3, w).is_ok());
        }
        assert!(
            t.check(u, rooms[0], 7, 3, w).is_ok(),
            "again in a room it was in"
        );
        let wait = t.check(u, rooms[3], 7, 3, w).expect_err("a fourth room");
        assert!(wait > Duration::from_secs(290) && wait <= w, "{wait:?}");
        assert!(t.check(u, rooms[3], 8, 3, w).is_ok(), "other text");
        assert!(
            t.check(UserId::new(), rooms[3], 7, 3, w).is_ok(),
            "other user"
        );
        let short = Duration::from_millis(1);
        let v = UserId::new();
        for r in &rooms[..3] {
            assert!(t.check(v, *r, 9, 3, short).is_ok());
        }
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            t.check(v, rooms[3], 9, 3, short).is_ok(),
            "the window passed"
        );
        t.prune(short);
        std::thread::sleep(Duration::from_millis(5));
        t.prune(short);
        assert!(!t.users.lock().contains_key(&v), "forgotten");
    }
}
