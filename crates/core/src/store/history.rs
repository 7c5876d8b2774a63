//! Reading a room's history back: the event feed, read markers and full-text search.

use crate::error::StoreResult;
use crate::event::EventPage;
use crate::ids::{RoomId, UserId};
use crate::message::Message;
use async_trait::async_trait;

#[async_trait]
pub trait History: Send + Sync {
    /// Events with seq > `after`, ascending, at most `limit`; `has_more` if more follow.
    async fn events(&self, room: RoomId, after: i64, limit: u32) -> StoreResult<EventPage>;
    /// Moves the member's read marker forward to `min(seq, last_seq)`; never backwards.
    /// Returns the marker after the call. `NotFound` if not a member.
    async fn mark_read(&self, room: RoomId, user: UserId, seq: i64) -> StoreResult<i64>;
    /// Full-text search over live messages of rooms `user` is currently a member of
    /// (optionally one room), best first.
    async fn search(
        &self,
        user: UserId,
        query: &str,
        room: Option<RoomId>,
        limit: u32,
    ) -> StoreResult<Vec<SearchHit>>;
}

/// Highlight markers around matched terms in [`SearchHit::snippet`]. They are private-use
/// characters, so the API can split the snippet into plain-text segments.
pub const HIGHLIGHT_START: char = '\u{E000}';
pub const HIGHLIGHT_END: char = '\u{E001}';

#[derive(Clone, Debug, PartialEq)]
pub struct SearchHit {
    pub message: Message,
    /// An excerpt of the body with matches wrapped in [`HIGHLIGHT_START`]/[`HIGHLIGHT_END`].
    pub snippet: String,
    /// Higher is better.
    pub rank: f64,
}
