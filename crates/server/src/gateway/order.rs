//! The delivery order of one room's events: each `seq` at most once, in increasing order.
//!
//! Two commits racing to publish can arrive swapped. An event that arrives ahead of a gap is
//! held until the gap fills, or for at most [`HOLD`]: then everything held goes out in order and
//! clients, seeing the gap, catch up by `seq` (docs/protocol.md). Anything at or below the last
//! delivered `seq` (a duplicate, a catch-up overlap, or part of a new subscriber's snapshot) is
//! dropped. Pure bookkeeping: the caller (`subs`) says what "deliver" means and holds the lock.

use axum::extract::ws::Utf8Bytes;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long an event that arrived ahead of a gap waits for the missing one.
pub const HOLD: Duration = Duration::from_millis(250);

#[derive(Default)]
pub struct SeqOrder {
    /// Highest seq delivered (None until the first event or subscription snapshot).
    delivered: Option<i64>,
    /// Events that arrived ahead of a gap, by seq, with when they arrived.
    held: BTreeMap<i64, (Utf8Bytes, Instant)>,
}

/// What became of an offered event.
#[derive(Debug, PartialEq, Eq)]
pub enum Offered {
    /// At or below what was delivered: dropped.
    Duplicate,
    /// Ahead of a gap: held (unless the oldest held one was stale and everything went out).
    Held,
    /// Delivered, with whatever held events it made consecutive.
    Delivered,
}

impl SeqOrder {
    /// A subscriber's snapshot (`ready`) covers up to `last_seq`. Only the first one counts:
    /// later subscribers receive from where the room's delivery already is.
    pub fn start_at(&mut self, last_seq: i64) {
        if self.delivered.is_none() {
            self.delivered = Some(last_seq);
        }
    }

    pub fn delivered(&self) -> Option<i64> {
        self.delivered
    }

    pub fn is_holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// Offers event `seq`; `deliver` is called for each frame to deliver now, in order.
    pub fn offer(
        &mut self,
        seq: i64,
        frame: Utf8Bytes,
        now: Instant,
        deliver: &mut impl FnMut(&Utf8Bytes),
    ) -> Offered {
        match self.delivered.map(|d| d + 1) {
            Some(next) if seq < next => return Offered::Duplicate,
            Some(next) if seq > next => {
                self.held.insert(seq, (frame, now));
                self.flush_stale(now, deliver);
                return Offered::Held;
            }
            _ => {}
        }
        deliver(&frame);
        self.delivered = Some(seq);
        // Anything held that is now in order goes out too.
        while let Some(entry) = self.held.first_entry() {
            let seq = *entry.key();
            if Some(seq) != self.delivered.map(|d| d + 1) {
                break;
            }
            let (held, _) = entry.remove();
            deliver(&held);
            self.delivered = Some(seq);
        }
        self.flush_stale(now, deliver);
        Offered::Delivered
    }

    /// Gives up on a gap that has not filled within [`HOLD`]: delivers what is held, in order.
    pub fn flush_stale(&mut self, now: Instant, deliver: &mut impl FnMut(&Utf8Bytes)) {
        let stale = self
            .held
            .first_key_value()
            .is_some_and(|(_, (_, at))| now.saturating_duration_since(*at) >= HOLD);
        if !stale {
            return;
        }
        metrics::counter!("gateway_gaps_flushed_total").increment(1);
        for (seq, (frame, _)) in std::mem::take(&mut self.held) {
            deliver(&frame);
            self.delivered = Some(seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(order: &mut SeqOrder, seq: i64, now: Instant, out: &mut Vec<String>) -> Offered {
        let frame = Utf8Bytes::from(seq.to_string());
        order.offer(seq, frame, now, &mut |f| out.push(f.as_str().to_owned()))
    }

    #[test]
    fn in_order_once_and_gaps_wait_for_their_fill() {
        let t = Instant::now();
        let mut o = SeqOrder::default();
        let mut out = Vec::new();
        o.start_at(3);
        o.start_at(9); // a later snapshot does not move the start
        assert_eq!(run(&mut o, 2, t, &mut out), Offered::Duplicate);
        assert_eq!(run(&mut o, 3, t, &mut out), Offered::Duplicate);
        assert_eq!(run(&mut o, 4, t, &mut out), Offered::Delivered);
        assert_eq!(run(&mut o, 6, t, &mut out), Offered::Held);
        assert_eq!(run(&mut o, 7, t, &mut out), Offered::Held);
        assert!(o.is_holding());
        assert_eq!(run(&mut o, 5, t, &mut out), Offered::Delivered);
        assert_eq!(run(&mut o, 6, t, &mut out), Offered::Duplicate);
        assert_eq!(out, ["4", "5", "6", "7"]);
        assert_eq!(o.delivered(), Some(7));
        assert!(!o.is_holding());
    }

    #[test]
    fn a_gap_that_does_not_fill_is_given_up_after_hold() {
        let t = Instant::now();
        let mut o = SeqOrder::default();
        let mut out = Vec::new();
        assert_eq!(
            run(&mut o, 10, t, &mut out),
            Offered::Delivered,
            "no snapshot: any start"
        );
        assert_eq!(run(&mut o, 13, t, &mut out), Offered::Held);
        assert_eq!(run(&mut o, 12, t, &mut out), Offered::Held);
        o.flush_stale(t + HOLD / 2, &mut |f| out.push(f.as_str().to_owned()));
        assert_eq!(out, ["10"], "not yet");
        o.flush_stale(t + HOLD, &mut |f| out.push(f.as_str().to_owned()));
        assert_eq!(out, ["10", "12", "13"]);
        assert_eq!(o.delivered(), Some(13));
        // 11 arriving late is a duplicate now: the clients fetched it when they saw the gap.
        assert_eq!(run(&mut o, 11, t + HOLD, &mut out), Offered::Duplicate);
        // A stale hold also goes out when the next event arrives.
        assert_eq!(run(&mut o, 15, t, &mut out), Offered::Held);
        assert_eq!(run(&mut o, 17, t + HOLD, &mut out), Offered::Held);
        assert_eq!(out, ["10", "12", "13", "15", "17"]);
    }
}
