//! Conformance cases: retention purges (bodies, history, search, translations, attachments),
//! tombstones in the event stream, orphaned uploads, batches that resume where they stopped.

use super::accounts::{t0, user};
use super::media::new_media;
use super::support::new_msg;
use crate::error::StoreError;
use crate::event::EventKind;
use crate::ids::{RoomId, UserId};
use crate::media::Media;
use crate::message::{Message, NewMessage};
use crate::room::{NewGroup, RoomPatch};
use crate::store::{SendOutcome, Store};
use chrono::{DateTime, Duration, Utc};

fn day(d: i64) -> DateTime<Utc> {
    t0() + Duration::days(d)
}

fn upload(owner: UserId) -> Media {
    Media {
        has_thumbs: false,
        ..new_media(owner, 10, t0())
    }
}

async fn send(
    store: &dyn Store,
    room: RoomId,
    sender: UserId,
    body: &str,
    media: &[&Media],
    now: DateTime<Utc>,
) -> Message {
    let new = NewMessage {
        attachments: media.iter().map(|m| m.attachment()).collect(),
        ..new_msg(room, sender, body, now)
    };
    match store.send_message(&new).await.expect("send") {
        SendOutcome::Created(m, _) => m,
        other => panic!("expected a new message, got {other:?}"),
    }
}

pub async fn retention_purges_with_tombstones(store: &dyn Store) {
    let ada = user(store, "keeper").await;
    let room = store
        .create_group(&NewGroup {
            id: RoomId::new(),
            name: "ephemeral".into(),
            topic: None,
            owner: ada.id,
            now: t0(),
        })
        .await
        .expect("group")
        .0
        .id;
    // Nothing to consider while neither the instance nor the room limits retention.
    assert!(store.retention_rooms(0).await.unwrap().is_empty());
    assert!(
        store
            .retention_rooms(30)
            .await
            .unwrap()
            .contains(&(room, None))
    );
    let (updated, ev) = store
        .update_room(
            room,
            &RoomPatch {
                retention_days: Some(Some(3)),
                ..RoomPatch::default()
            },
            ada.id,
            day(1),
        )
        .await
        .unwrap();
    assert_eq!(updated.retention_days, Some(3));
    assert_eq!(
        ev.and_then(|e| e.changes).and_then(|c| c.retention_days),
        Some(Some(3)),
        "members learn the new retention"
    );
    assert_eq!(store.room(room).await.unwrap().retention_days, Some(3));
    assert_eq!(
        store.retention_rooms(0).await.unwrap(),
        vec![(room, Some(3))]
    );

    let only_old = upload(ada.id);
    let shared = upload(ada.id);
    for m in [&only_old, &shared] {
        store.create_media(m).await.unwrap();
    }
    let m1 = send(store, room, ada.id, "zanzibar quartz", &[], day(1)).await;
    store
        .edit_message(
            room,
            m1.id,
            "zanzibar quartz v2",
            &[],
            false,
            ada.id,
            day(1),
        )
        .await
        .unwrap();
    store
        .set_reaction(room, m1.id, ada.id, "👍", true, day(1))
        .await
        .unwrap();
    store
        .set_pinned(room, m1.id, true, ada.id, day(1))
        .await
        .unwrap();
    store
        .put_translation(m1.id, 1, "de", "Sansibar Quarz", day(1))
        .await
        .unwrap();
    let m2 = send(store, room, ada.id, "with a file", &[&only_old], day(2)).await;
    let m3 = send(store, room, ada.id, "shared file", &[&shared], day(3)).await;
    let m4 = send(store, room, ada.id, "deleted already", &[], day(4)).await;
    store
        .delete_message(room, m4.id, ada.id, None, day(4))
        .await
        .unwrap();
    let m5 = send(store, room, ada.id, "still fresh", &[&shared], day(9)).await;
    let seq_before = store.room(room).await.unwrap().last_seq;

    let cutoff = day(5);
    assert_eq!(store.purgeable(room, cutoff, 100).await.unwrap(), 4);
    assert_eq!(
        store.purgeable(room, cutoff, 3).await.unwrap(),
        3,
        "bounded"
    );

    let first = store.purge_room(room, cutoff, 2, day(10)).await.unwrap();
    assert_eq!(first.messages, 2);
    assert!(first.more);
    assert_eq!(
        first
            .events
            .iter()
            .map(|e| (e.kind, e.actor_id, e.message_id))
            .collect::<Vec<_>>(),
        vec![
            (EventKind::MessageDeleted, UserId::SERVER, Some(m1.id)),
            (EventKind::MessageDeleted, UserId::SERVER, Some(m2.id)),
        ]
    );
    assert_eq!(first.events[0].seq, seq_before + 1);
    assert_eq!(
        first
            .orphaned_media
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        vec![only_old.id],
        "an upload only a purged message used goes"
    );
    assert!(matches!(
        store.media(only_old.id).await,
        Err(StoreError::NotFound)
    ));

    let second = store.purge_room(room, cutoff, 100, day(10)).await.unwrap();
    assert_eq!(second.messages, 2, "m3 and the tombstone m4");
    assert!(!second.more);
    assert_eq!(
        second
            .events
            .iter()
            .map(|e| e.message_id)
            .collect::<Vec<_>>(),
        vec![Some(m3.id)],
        "a message deleted before is not announced twice"
    );
    assert!(
        second.orphaned_media.is_empty(),
        "an upload a kept message still carries stays"
    );
    assert!(store.media(shared.id).await.is_ok());

    let third = store.purge_room(room, cutoff, 100, day(10)).await.unwrap();
    assert_eq!(
        (third.messages, third.events.len(), third.more),
        (0, 0, false),
        "a purge resumes after the last one"
    );
    assert_eq!(store.purgeable(room, cutoff, 100).await.unwrap(), 0);

    for id in [m1.id, m2.id, m3.id] {
        let m = store.message(room, id).await.unwrap();
        assert_eq!(m.body, "", "body gone");
        assert_eq!(m.deleted_at, Some(day(10)));
        assert_eq!(m.deleted_by, None, "expired, not deleted by anyone");
        assert!(m.attachments.is_empty(), "attachment links gone");
        assert!(m.reactions.is_empty());
        assert!(!m.pinned);
    }
    assert!(store.edit_history(room, m1.id).await.unwrap().is_empty());
    assert_eq!(store.translation(m1.id, 1, "de").await.unwrap(), None);
    assert!(store.pinned(room).await.unwrap().is_empty());
    assert!(
        store
            .search(ada.id, "zanzibar", Some(room), 10)
            .await
            .unwrap()
            .is_empty(),
        "search entries gone"
    );
    let fresh = store.message(room, m5.id).await.unwrap();
    assert_eq!(fresh.body, "still fresh");
    assert_eq!(fresh.attachments.len(), 1);
    // The tombstones are in the event stream: a client catching up sees them in order.
    let page = store.events(room, seq_before, 100).await.unwrap();
    assert_eq!(
        page.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![seq_before + 1, seq_before + 2, seq_before + 3]
    );
    assert!(
        page.events
            .iter()
            .all(|e| e.kind == EventKind::MessageDeleted
                && e.actor_id == UserId::SERVER
                && e.message.as_ref().is_some_and(|m| m.body.is_empty()))
    );

    // Back to the instance's policy.
    let (updated, _) = store
        .update_room(
            room,
            &RoomPatch {
                retention_days: Some(None),
                ..RoomPatch::default()
            },
            ada.id,
            day(11),
        )
        .await
        .unwrap();
    assert_eq!(updated.retention_days, None);
    assert!(store.retention_rooms(0).await.unwrap().is_empty());
}
