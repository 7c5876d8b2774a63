//! Peer liveness: the other processes sharing the bus, and when each last showed a sign of life
//! (a heartbeat or a presence signal). One silent for [`PEER_TTL`] is dead: the hub forgets the
//! presence it announced (its users go offline) and catches this process's sockets up from the
//! store, since it may have died between a commit and its publish.
//!
//! Its own lock. The presence registry is changed under it when peers die, so a beat from a
//! peer being buried cannot slip in between "it is dead" and "forget its users" (lock order:
//! peers, then the registry; never the other way round).

use justus_core::bus::InstanceId;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A peer process that has not beaten for this long is dead.
pub const PEER_TTL: Duration = Duration::from_secs(6);

#[derive(Default)]
pub struct Peers {
    beats: Mutex<HashMap<InstanceId, Instant>>,
}

impl Peers {
    /// `peer` is alive now.
    pub fn beat(&self, peer: InstanceId) {
        self.beats.lock().insert(peer, Instant::now());
    }

    /// Removes the peers silent for [`PEER_TTL`] and runs `bury` on them, under the lock.
    /// Returns how many died and what `bury` returned.
    pub fn expire<R>(&self, bury: impl FnOnce(&[InstanceId]) -> R) -> (usize, R) {
        let mut beats = self.beats.lock();
        let now = Instant::now();
        let dead: Vec<InstanceId> = beats
            .iter()
            .filter(|(_, at)| now.saturating_duration_since(**at) >= PEER_TTL)
            .map(|(id, _)| *id)
            .collect();
        for peer in &dead {
            beats.remove(peer);
        }
        let buried = bury(&dead);
        (dead.len(), buried)
    }

    /// Peers currently beating.
    pub fn count(&self) -> usize {
        self.beats.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_lives_while_it_beats() {
        let peers = Peers::default();
        let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        peers.beat(a);
        peers.beat(b);
        assert_eq!(peers.count(), 2);
        let (n, seen) = peers.expire(|dead| dead.to_vec());
        assert_eq!((n, seen), (0, vec![]));
        // Age `a` past the TTL.
        let mut beats = peers.beats.lock();
        let at = beats.get_mut(&a).expect("a");
        *at = at.checked_sub(PEER_TTL).expect("uptime over the TTL");
        drop(beats);
        let (n, seen) = peers.expire(|dead| dead.to_vec());
        assert_eq!((n, seen), (1, vec![a]));
        assert_eq!(peers.count(), 1);
    }
}
