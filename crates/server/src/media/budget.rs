//! The memory budget of image decoding (`MEDIA_DECODE_MEMORY_BYTES`).
//!
//! A small upload can claim large dimensions (a PNG of zeros compresses about 1000:1), so what a
//! decode costs is its pixels, not its bytes. Every decode (uploads and avatars) first takes its
//! estimated peak from a weighted semaphore sized to the budget, so concurrent decodes together
//! stay within it. An estimate above the whole budget takes the whole budget: that image decodes
//! alone. Waiting is bounded: past `MEDIA_DECODE_QUEUE` waiting decodes, a request is refused at
//! once (`503 media_busy`) instead of holding its connection and temp file in a growing queue.

use crate::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Permits are KiB, so a `u32` acquisition covers budgets up to 4 TiB.
const UNIT: u64 = 1024;
/// What a refused client is told to wait, in seconds.
pub const BUSY_RETRY_AFTER_SECS: u64 = 5;

pub struct DecodeBudget {
    permits: Arc<Semaphore>,
    /// The budget, in permits.
    total: u32,
    max_waiting: usize,
    waiting: Arc<AtomicUsize>,
}

/// Held while a decode runs; move it into the blocking task so that memory stays accounted
/// for until the decode really ends, even if the request is cancelled meanwhile.
#[derive(Debug)]
pub struct DecodePermit {
    _permit: OwnedSemaphorePermit,
    bytes: u64,
}

impl DecodePermit {
    /// The bytes granted: the decode's allocation limit.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for DecodePermit {
    fn drop(&mut self) {
        metrics::gauge!("media_decode_reserved_bytes").decrement(self.bytes as f64);
    }
}

/// The queue of waiting decodes is full.
#[derive(Debug, PartialEq, Eq)]
pub struct Busy;

impl From<Busy> for Error {
    fn from(_: Busy) -> Self {
        Error {
            retry_after: Some(BUSY_RETRY_AFTER_SECS),
            ..Error::new(
                crate::error::ErrorKind::Unavailable,
                "media_busy",
                "the server is busy processing images; retry shortly",
            )
        }
    }
}

/// Counts a waiting decode for as long as it waits (dropped on cancellation too).
struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
        metrics::gauge!("media_decode_waiting").decrement(1.0);
    }
}

impl DecodeBudget {
    /// `bytes` of decode memory in all; at most `max_waiting` decodes wait for it.
    pub fn new(bytes: u64, max_waiting: usize) -> Self {
        let total = u32::try_from((bytes / UNIT).max(1)).unwrap_or(u32::MAX);
        Self {
            permits: Arc::new(Semaphore::new(total as usize)),
            total,
            max_waiting,
            waiting: Arc::default(),
        }
    }

    /// The budget in bytes.
    pub fn bytes(&self) -> u64 {
        u64::from(self.total) * UNIT
    }

    /// Decodes waiting for memory now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Bytes of the budget not taken by running decodes.
    pub fn available(&self) -> u64 {
        self.permits.available_permits() as u64 * UNIT
    }

    /// Takes `estimate` bytes of the budget (all of it, if the estimate is larger), waiting
    /// behind earlier decodes; `Busy` when too many are waiting already.
    pub async fn acquire(&self, estimate: u64) -> Result<DecodePermit, Busy> {
        let weight = u32::try_from(estimate.div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .clamp(1, self.total);
        let granted = |permit| {
            let bytes = u64::from(weight) * UNIT;
            metrics::gauge!("media_decode_reserved_bytes").increment(bytes as f64);
            DecodePermit {
                _permit: permit,
                bytes,
            }
        };
        // Nobody queued: take it now if it fits. (With a queue, newcomers line up behind it,
        // so a large decode is not starved by a stream of small ones.)
        if self.waiting() == 0
            && let Ok(p) = self.permits.clone().try_acquire_many_owned(weight)
        {
            return Ok(granted(p));
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            metrics::counter!("media_decode_busy_total").increment(1);
            return Err(Busy);
        }
        metrics::gauge!("media_decode_waiting").increment(1.0);
        let _waiting = Waiting(self.waiting.clone());
        // The semaphore is never closed, so this only fails if it were; treat that as busy.
        let permit = self
            .permits
            .clone()
            .acquire_many_owned(weight)
            .await
            .map_err(|_| Busy)?;
        Ok(granted(permit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls `f` until it holds, yielding to the runtime between tries (a bounded number).
    async fn eventually(mut f: impl FnMut() -> bool) {
        for _ in 0..10_000 {
            if f() {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("condition never held");
    }

    #[tokio::test]
    async fn decodes_share_the_budget_and_the_queue_is_bounded() {
        let budget = Arc::new(DecodeBudget::new(100 * UNIT, 1));
        let a = budget.acquire(60 * UNIT).await.expect("fits");
        assert_eq!(budget.available(), 40 * UNIT);
        // 60 more do not fit: the next one waits (the queue holds one)...
        let waiter = {
            let budget = budget.clone();
            tokio::spawn(async move { budget.acquire(60 * UNIT).await })
        };
        eventually(|| budget.waiting() == 1).await;
        // ...and with the queue full, the next is refused at once, even one that would fit:
        // it must not overtake the waiting decode.
        assert_eq!(budget.acquire(10 * UNIT).await.unwrap_err(), Busy);
        assert!(!waiter.is_finished());
        drop(a);
        let b = waiter
            .await
            .expect("task")
            .expect("granted once a finished");
        assert_eq!(budget.waiting(), 0);
        assert_eq!(budget.available(), 40 * UNIT);
        drop(b);
        assert_eq!(budget.available(), 100 * UNIT);
    }

    #[tokio::test]
    async fn a_huge_estimate_takes_the_whole_budget_and_runs_alone() {
        let budget = DecodeBudget::new(100 * UNIT, 4);
        let huge = budget
            .acquire(10_000 * UNIT)
            .await
            .expect("clamped, not refused");
        assert_eq!(budget.available(), 0);
        drop(huge);
        // Tiny estimates still take one unit, so they are counted.
        let tiny = budget.acquire(1).await.expect("fits");
        assert_eq!(budget.available(), 99 * UNIT);
        drop(tiny);
    }

    #[tokio::test]
    async fn a_cancelled_wait_leaves_the_queue() {
        let budget = Arc::new(DecodeBudget::new(10 * UNIT, 1));
        let all = budget.acquire(10 * UNIT).await.expect("fits");
        let waiter = {
            let budget = budget.clone();
            tokio::spawn(async move { budget.acquire(UNIT).await })
        };
        eventually(|| budget.waiting() == 1).await;
        waiter.abort();
        let _ = waiter.await;
        assert_eq!(budget.waiting(), 0, "a client that hung up no longer waits");
        drop(all);
        assert!(budget.acquire(UNIT).await.is_ok());
    }
}
