//! A socket's outgoing queue: the hub offers frames without ever waiting, the socket task
//! takes them in order.
//!
//! Not a tokio `mpsc` channel: a channel allocates a 32-slot block up front (~1.5 KiB with its
//! state), for every socket, for its whole life. Most sockets are idle most of the time, so
//! this queue allocates nothing until a frame is queued and gives its buffer back once it has
//! drained (docs/performance.md, idle memory).

use axum::extract::ws::Utf8Bytes;
use parking_lot::Mutex;
use std::collections::VecDeque;
use tokio::sync::Notify;

/// Capacity kept after draining; anything larger is freed.
const KEEP_CAPACITY: usize = 8;

pub struct Outbox {
    frames: Mutex<VecDeque<Utf8Bytes>>,
    ready: Notify,
    limit: usize,
}

/// The queue already holds `limit` frames: its reader is lagging.
#[derive(Debug, PartialEq, Eq)]
pub struct Full;

impl Outbox {
    pub fn new(limit: usize) -> Self {
        Self {
            frames: Mutex::new(VecDeque::new()),
            ready: Notify::new(),
            limit,
        }
    }

    /// Queues a frame unless `limit` frames are already waiting.
    pub fn offer(&self, frame: Utf8Bytes) -> Result<(), Full> {
        {
            let mut q = self.frames.lock();
            if q.len() >= self.limit {
                return Err(Full);
            }
            q.push_back(frame);
        }
        // Stores a permit when the task is not waiting yet, so no wake-up is lost.
        self.ready.notify_one();
        Ok(())
    }

    /// The next queued frame, if any.
    pub fn try_next(&self) -> Option<Utf8Bytes> {
        let mut q = self.frames.lock();
        let frame = q.pop_front();
        if q.is_empty() && q.capacity() > KEEP_CAPACITY {
            *q = VecDeque::new();
        }
        frame
    }

    /// Waits for the next frame. Cancel-safe: a frame is only taken when it is returned.
    pub async fn next(&self) -> Utf8Bytes {
        loop {
            if let Some(frame) = self.try_next() {
                return frame;
            }
            self.ready.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn f(s: &'static str) -> Utf8Bytes {
        Utf8Bytes::from_static(s)
    }

    #[test]
    fn keeps_order_refuses_past_the_limit_and_frees_when_drained() {
        let q = Outbox::new(3);
        for s in ["a", "b", "c"] {
            assert_eq!(q.offer(f(s)), Ok(()));
        }
        assert_eq!(q.offer(f("d")), Err(Full));
        assert_eq!(q.try_next().as_deref(), Some("a"));
        assert_eq!(q.offer(f("d")), Ok(()));
        let rest: Vec<_> = std::iter::from_fn(|| q.try_next()).collect();
        assert_eq!(rest, [f("b"), f("c"), f("d")]);
        assert!(q.frames.lock().is_empty());

        let big = Outbox::new(100);
        for _ in 0..50 {
            big.offer(f("x")).expect("room");
        }
        while big.try_next().is_some() {}
        assert_eq!(
            big.frames.lock().capacity(),
            0,
            "a drained queue gives its buffer back"
        );
    }

    #[tokio::test]
    async fn next_wakes_for_a_frame_offered_while_waiting_and_before_waiting() {
        let q = Arc::new(Outbox::new(8));
        let waiter = tokio::spawn({
            let q = q.clone();
            async move { (q.next().await, q.next().await) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        q.offer(f("one")).expect("room");
        q.offer(f("two")).expect("room");
        let got = tokio::time::timeout(Duration::from_secs(2), waiter)
            .await
            .expect("woken")
            .expect("task");
        assert_eq!(got, (f("one"), f("two")));
        // A cancelled wait loses nothing.
        let q = Outbox::new(8);
        assert!(
            tokio::time::timeout(Duration::from_millis(10), q.next())
                .await
                .is_err()
        );
        q.offer(f("kept")).expect("room");
        assert_eq!(q.next().await, f("kept"));
    }
}
