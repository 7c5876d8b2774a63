//! Uploads still streaming, counted against their owner's quota (`MEDIA_QUOTA_BYTES`).
//!
//! The quota compares recorded usage with an upload's size, but an upload is recorded only
//! after it has streamed, been scanned and been processed, so parallel uploads would each see
//! the same usage and together exceed it. While an upload streams, its bytes so far are
//! claimed here, and each upload counts the claims of the same user's uploads that started
//! before it: the first ones to start are served, later ones stop as soon as they cannot fit,
//! and parallel uploads never starve each other. This is per process and only stops early;
//! the exact rule is the store's, which records an upload only if it fits
//! (`Store::create_media_within_quota`), across all processes.
//!
//! An upload about to be recorded stops counting against the others ([`Reservation::committing`]):
//! once recorded, its bytes are in the usage a later upload reads from the store, and counting
//! its claim too would refuse uploads that fit. Erring this way only lets an upload stream a
//! little longer before the store's exact check decides.

use justus_core::UserId;
use justus_core::media::Rejection;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
pub struct Reservations {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    next_ticket: u64,
    /// Per user: the claims in flight, in ticket order.
    claims: HashMap<UserId, Vec<Claim>>,
}

struct Claim {
    ticket: u64,
    bytes: u64,
    /// Being recorded: the store's usage will hold these bytes, so others no longer count them.
    committing: bool,
}

/// One upload's claim; given back when dropped (recorded, refused or abandoned alike).
pub struct Reservation<'a> {
    owner: &'a Reservations,
    user: UserId,
    ticket: u64,
    /// Recorded usage when the upload started.
    used: u64,
    quota: u64,
}

impl Reservations {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every update is one statement.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts an upload of `user`, whose recorded uploads take `used` bytes of `quota`.
    pub fn open(&self, user: UserId, used: u64, quota: u64) -> Reservation<'_> {
        let mut s = self.lock();
        let ticket = s.next_ticket;
        s.next_ticket += 1;
        s.claims.entry(user).or_default().push(Claim {
            ticket,
            bytes: 0,
            committing: false,
        });
        Reservation {
            owner: self,
            user,
            ticket,
            used,
            quota,
        }
    }

    /// Bytes claimed by `user`'s uploads in flight.
    pub fn claimed(&self, user: UserId) -> u64 {
        let s = self.lock();
        s.claims
            .get(&user)
            .map_or(0, |c| c.iter().map(|c| c.bytes).sum())
    }
}

impl Reservation<'_> {
    /// Claims `total` bytes (the upload's size so far), unless the recorded usage, the claims
    /// of this user's earlier uploads and `total` together exceed the quota.
    pub fn claim(&self, total: u64) -> Result<(), Rejection> {
        let mut s = self.owner.lock();
        let claims = s.claims.entry(self.user).or_default();
        let earlier: u64 = claims
            .iter()
            .filter(|c| c.ticket < self.ticket && !c.committing)
            .map(|c| c.bytes)
            .sum();
        if self.used.saturating_add(earlier).saturating_add(total) > self.quota {
            return Err(Rejection::QuotaExceeded { quota: self.quota });
        }
        if let Some(mine) = claims.iter_mut().find(|c| c.ticket == self.ticket) {
            mine.bytes = total;
        }
        Ok(())
    }

    /// The upload is about to be recorded: from now on the store's usage speaks for it.
    pub fn committing(&self) {
        let mut s = self.owner.lock();
        if let Some(mine) = s
            .claims
            .get_mut(&self.user)
            .and_then(|c| c.iter_mut().find(|c| c.ticket == self.ticket))
        {
            mine.committing = true;
        }
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut s = self.owner.lock();
        if let Some(claims) = s.claims.get_mut(&self.user) {
            claims.retain(|c| c.ticket != self.ticket);
            if claims.is_empty() {
                s.claims.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earlier_uploads_count_against_later_ones_only() {
        let r = Reservations::default();
        let ada = UserId::new();
        let first = r.open(ada, 10, 100);
        let second = r.open(ada, 10, 100);
        second.claim(50).expect("nothing earlier is claimed yet");
        first.claim(80).expect("the later upload does not count");
        assert_eq!(
            second.claim(51).unwrap_err(),
            Rejection::QuotaExceeded { quota: 100 },
            "10 used + 80 earlier + 51 > 100"
        );
        assert_eq!(
            r.claimed(ada),
            130,
            "a refused claim keeps the previous one"
        );
        // Another user's uploads are theirs.
        let bob = r.open(UserId::new(), 0, 100);
        bob.claim(100).expect("bob has his own quota");
        drop(first);
        second
            .claim(90)
            .expect("once the earlier upload ended, it fits");
        drop(second);
        assert_eq!(r.claimed(ada), 0);
        assert!(!r.lock().claims.contains_key(&ada), "nothing left behind");
    }

    #[test]
    fn an_upload_being_recorded_is_not_counted_twice() {
        // The first upload is recorded (the store's usage now holds its 60 bytes) but has not
        // given its claim back yet when a later one, which read that usage, streams.
        let r = Reservations::default();
        let ada = UserId::new();
        let first = r.open(ada, 0, 100);
        first.claim(60).expect("fits");
        first.committing();
        let later = r.open(ada, 60, 100);
        later
            .claim(40)
            .expect("60 recorded + 40 fits: the first upload's claim is not counted again");
        assert_eq!(
            later.claim(41).unwrap_err(),
            Rejection::QuotaExceeded { quota: 100 }
        );
    }

    #[test]
    fn parallel_uploads_that_fit_are_never_starved() {
        // Eight uploads of 30 bytes, quota 100, streaming in lockstep 10 bytes at a time: the
        // first three to start complete, the others stop.
        let r = Reservations::default();
        let ada = UserId::new();
        let mut uploads: Vec<_> = (0..8).map(|_| Some(r.open(ada, 0, 100))).collect();
        for step in 1..=3u64 {
            for slot in uploads.iter_mut() {
                // A refused upload stops streaming and gives its claim back.
                if slot.as_ref().is_some_and(|u| u.claim(step * 10).is_err()) {
                    *slot = None;
                }
            }
        }
        let alive: Vec<bool> = uploads.iter().map(Option::is_some).collect();
        assert_eq!(alive, [true, true, true, false, false, false, false, false]);
    }
}
