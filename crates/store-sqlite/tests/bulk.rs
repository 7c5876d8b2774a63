//! The benchmark seeder writes rows the store reads back as if they had been sent.

use chrono::Utc;
use justus_core::message::{NewMessage, Page};
use justus_core::room::NewGroup;
use justus_core::store::prelude::*;
use justus_core::testing;
use justus_core::{MessageId, RoomId};
use justus_store_sqlite::bulk::{SeedRoom, seed_messages};
use justus_store_sqlite::{SqliteOptions, SqliteStore};

#[tokio::test]
async fn seeded_messages_read_back_dense_searchable_and_continuable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("justus.db");
    let mut rooms = Vec::new();
    {
        let store = SqliteStore::open(&path, &SqliteOptions::default()).expect("open");
        for name in ["ann", "bob"] {
            let owner = testing::user(&store, name).await;
            let (room, _) = store
                .create_group(&NewGroup {
                    id: RoomId::new(),
                    name: format!("{name}'s"),
                    topic: None,
                    owner: owner.id,
                    now: Utc::now(),
                })
                .await
                .expect("group");
            rooms.push((room, owner.id));
        }
    }
    let seeds: Vec<SeedRoom> = rooms
        .iter()
        .map(|(r, u)| SeedRoom {
            room: r.id,
            sender: *u,
        })
        .collect();
    let mut reports = Vec::new();
    let n = seed_messages(&path, &seeds, 1_234, |t| reports.push(t)).expect("seed");
    assert_eq!(n, 2_468);
    assert_eq!(reports.last(), Some(&2_468));

    let store = SqliteStore::open(&path, &SqliteOptions::default()).expect("reopen");
    for (room, owner) in &rooms {
        let now = store.room(room.id).await.expect("room");
        assert_eq!(
            now.last_seq,
            room.last_seq + 1_234,
            "last_seq moved with the messages"
        );
        // Dense seqs: every event after the creation events is a message, in order.
        let page = store
            .events(room.id, room.last_seq, 500)
            .await
            .expect("events");
        assert_eq!(page.events.len(), 500);
        assert!(page.has_more);
        for (k, ev) in page.events.iter().enumerate() {
            assert_eq!(ev.seq, room.last_seq + 1 + k as i64);
            assert_eq!(ev.kind.as_str(), "message.created");
            assert_eq!(ev.message.as_ref().map(|m| m.seq), Some(ev.seq));
        }
        let before = store
            .messages(room.id, Page::Before(room.last_seq + 101), 50)
            .await
            .expect("page");
        assert_eq!(before.len(), 50);
        assert_eq!(before.last().map(|m| m.seq), Some(room.last_seq + 100));
        assert!(
            before
                .windows(2)
                .all(|w| w[0].created_at <= w[1].created_at)
        );
        // The full-text index took the seeded bodies.
        let hits = store
            .search(*owner, "message 1233", Some(room.id), 5)
            .await
            .expect("search");
        assert!(
            hits.iter().any(|h| h.message.seq == room.last_seq + 1_234),
            "{}",
            hits.len()
        );
    }
    // A normal send continues the sequence.
    let (room, owner) = &rooms[0];
    let sent = store
        .send_message(&NewMessage {
            id: MessageId::new(),
            room_id: room.id,
            sender_id: *owner,
            client_id: "after-seed".into(),
            body: "after the seed".into(),
            reply_to: None,
            forwarded: None,
            mentions: Vec::new(),
            mentions_room: false,
            now: Utc::now(),
            attachments: Vec::new(),
        })
        .await
        .expect("send");
    let justus_core::store::SendOutcome::Created(m, _) = sent else {
        panic!("not created")
    };
    assert_eq!(m.seq, room.last_seq + 1_235);
}

#[test]
fn missing_database_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = seed_messages(&dir.path().join("nope.db"), &[], 1, |_| {});
    assert!(err.is_err());
}
