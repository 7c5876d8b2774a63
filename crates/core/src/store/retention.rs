//! Retention: purging messages older than their room's policy, leaving tombstones.

use crate::error::StoreResult;
use crate::event::RoomEvent;
use crate::ids::RoomId;
use crate::media::Media;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait Retention: Send + Sync {
    /// Live rooms that may have messages to purge, with their own retention in days (`None`:
    /// the instance's): every room with its own retention, and every room when
    /// `instance_days` is set (0 = the instance keeps messages forever).
    async fn retention_rooms(&self, instance_days: u32) -> StoreResult<Vec<(RoomId, Option<i32>)>>;
    /// Purges, oldest first, at most `limit` messages of `room` created before `cutoff`, in one
    /// transaction: each one's body, edit history, reactions, mentions, pin, search entry,
    /// translations, attachment links and report excerpts go, and each one still live leaves a
    /// `message.deleted` event by [`crate::ids::UserId::SERVER`]. Uploads no message, user or
    /// room uses any more lose their records (returned: the caller removes their bytes).
    /// Starts after the room's previous purge, so each message is read once.
    async fn purge_room(
        &self,
        room: RoomId,
        cutoff: DateTime<Utc>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Purged>;
    /// How many messages of `room` [`Retention::purge_room`] would purge for `cutoff` (at most
    /// `limit`): the dry run.
    async fn purgeable(&self, room: RoomId, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<u64>;
}

/// What one [`Retention::purge_room`] call did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Messages purged (tombstoned ones included).
    pub messages: u64,
    /// The tombstone events, in seq order, to publish.
    pub events: Vec<RoomEvent>,
    /// Uploads whose records were deleted: their bytes are the caller's to remove.
    pub orphaned_media: Vec<Media>,
    /// Whether more messages before the cutoff remain (call again).
    pub more: bool,
}

/// The rule both adapters apply to the messages after a room's purge mark, read in seq order
/// (`limit + 1` of them): those created before `cutoff`, stopping at the first newer one, at
/// most `limit`; and whether more are due after them.
pub fn due_prefix<T>(
    rows: impl IntoIterator<Item = (T, DateTime<Utc>)>,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> (Vec<T>, bool) {
    let mut due: Vec<T> = rows
        .into_iter()
        .take_while(|(_, created)| *created < cutoff)
        .map(|(row, _)| row)
        .collect();
    let more = due.len() > limit as usize;
    due.truncate(limit as usize);
    (due, more)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn due_stops_at_the_first_newer_message_and_says_when_more_remain() {
        let t = |s| Utc.timestamp_opt(s, 0).single().expect("time");
        let rows = || [(1, t(10)), (2, t(20)), (3, t(30)), (4, t(40))];
        assert_eq!(due_prefix(rows(), t(25), 10), (vec![1, 2], false));
        assert_eq!(due_prefix(rows(), t(35), 2), (vec![1, 2], true));
        assert_eq!(due_prefix(rows(), t(5), 10), (vec![], false));
        // A later message created earlier (clock skew) is not reached past a newer one.
        assert_eq!(
            due_prefix([(1, t(10)), (2, t(50)), (3, t(20))], t(30), 10),
            (vec![1], false)
        );
    }
}
