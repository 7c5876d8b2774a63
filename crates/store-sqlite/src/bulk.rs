//! Bulk seeding for benchmarks (`justus-bench history --seed bulk`): appends synthetic messages
//! straight to a database file that no server has open. Sending 10M messages through the
//! gateway takes close to an hour here; this takes minutes.
//!
//! It keeps every invariant the store relies on: per-room seqs stay dense (continuing from
//! `rooms.last_seq`), each message has its `message.created` event, `rooms.last_seq` and
//! `last_activity_at` move with them, `(sender_id, client_id)` stays unique, and the full-text
//! index is applied through the same queue as the writer's (`apply_search_queue`).

use crate::conn::map_err;
use crate::rows::ts;
use crate::store::{apply_search_queue, insert_event};
use chrono::{Duration, Utc};
use justus_core::event::{EventKind, RoomEvent};
use justus_core::{MessageId, RoomId, StoreError, StoreResult, UserId};
use rusqlite::{Connection, params};
use std::path::Path;

/// Messages per transaction: large enough to amortise the commit, small enough to keep the
/// full-text queue (applied before each commit) in memory.
const CHUNK: u64 = 50_000;

/// One room to fill: `sender` must already be a member (the bench seeds the room's owner).
#[derive(Clone, Copy, Debug)]
pub struct SeedRoom {
    pub room: RoomId,
    pub sender: UserId,
}

/// Appends `per_room` messages to each room, oldest first, with creation times one
/// millisecond apart ending now. `progress` is called with the running total after each
/// chunk. Returns the number of messages written.
pub fn seed_messages(
    path: &Path,
    rooms: &[SeedRoom],
    per_room: u64,
    mut progress: impl FnMut(u64),
) -> StoreResult<u64> {
    if !path.exists() {
        return Err(StoreError::NotFound);
    }
    let mut conn = Connection::open(path).map_err(map_err)?;
    // The file is ours alone while seeding; durability is the final checkpoint's job.
    conn.pragma_update(None, "journal_mode", "wal")
        .and_then(|()| conn.pragma_update(None, "synchronous", "off"))
        .and_then(|()| conn.pragma_update(None, "cache_size", -262_144))
        .and_then(|()| conn.pragma_update(None, "foreign_keys", true))
        .map_err(map_err)?;
    let total = per_room * rooms.len() as u64;
    let start = Utc::now() - Duration::milliseconds(total as i64);
    let mut written = 0u64;
    for (r, seed) in rooms.iter().enumerate() {
        let first_seq: i64 = conn
            .query_row(
                "SELECT last_seq FROM rooms WHERE id = ?1 AND deleted_at IS NULL",
                params![seed.room.0],
                |row| row.get(0),
            )
            .map_err(map_err)?;
        let mut done = 0u64;
        while done < per_room {
            let n = CHUNK.min(per_room - done);
            let tx = conn.transaction().map_err(map_err)?;
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO messages (id, room_id, seq, sender_id, client_id, body, \
                         created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )
                    .map_err(map_err)?;
                for i in done..done + n {
                    let seq = first_seq + 1 + i as i64;
                    // Interleaved rooms: creation times stay increasing across the whole file.
                    let now =
                        start + Duration::milliseconds((i * rooms.len() as u64) as i64 + r as i64);
                    let id = MessageId::new();
                    insert
                        .execute(params![
                            id.0,
                            seed.room.0,
                            seq,
                            seed.sender.0,
                            format!("bulk-{r}-{i:010}"),
                            body(r, i),
                            ts(now),
                        ])
                        .map_err(map_err)?;
                    let mut ev =
                        RoomEvent::new(seed.room, seq, EventKind::MessageCreated, seed.sender, now);
                    ev.message_id = Some(id);
                    insert_event(&tx, &ev)?;
                }
            }
            let last = first_seq + (done + n) as i64;
            tx.execute(
                "UPDATE rooms SET last_seq = ?2, last_activity_at = max(last_activity_at, ?3) \
                 WHERE id = ?1",
                params![seed.room.0, last, ts(Utc::now())],
            )
            .map_err(map_err)?;
            apply_search_queue(&tx).map_err(map_err)?;
            tx.commit().map_err(map_err)?;
            done += n;
            written += n;
            progress(written);
        }
    }
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(map_err)?;
    Ok(written)
}

/// A varied, searchable body of chat-like length (40–120 bytes).
fn body(room: usize, i: u64) -> String {
    const WORDS: [&str; 16] = [
        "deploy",
        "lunch",
        "review",
        "tomorrow",
        "meeting",
        "coffee",
        "release",
        "bug",
        "design",
        "ticket",
        "weekend",
        "merge",
        "tests",
        "docs",
        "benchmark",
        "latency",
    ];
    let mut s = format!("message {i} in room {room}:");
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ room as u64;
    for _ in 0..4 + (i % 9) {
        s.push(' ');
        s.push_str(WORDS[(x & 15) as usize]);
        x >>= 4;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::body;

    #[test]
    fn bodies_vary_and_stay_short() {
        let (a, b) = (body(0, 1), body(0, 2));
        assert_ne!(a, b);
        assert!((20..=140).contains(&a.len()), "{a}");
        assert!(body(3, 99_999).contains("room 3"));
    }
}
