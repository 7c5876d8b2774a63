//! Conformance cases: media records, attachments on messages, visibility, the sweeper's queries.

use super::accounts::{t0, user};
use super::support::join_all;
use crate::error::StoreError;
use crate::event::EventKind;
use crate::ids::{MediaId, MessageId, RoomId, UserId};
use crate::media::{Media, MediaKind};
use crate::message::{Message, NewMessage, Page};
use crate::room::{NewGroup, Role};
use crate::store::{SendOutcome, Store};
use chrono::{DateTime, Duration, Utc};

fn at(secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(secs)
}

pub(super) fn new_media(owner: UserId, size: i64, created_at: DateTime<Utc>) -> Media {
    Media {
        id: MediaId::new(),
        owner_id: owner,
        kind: MediaKind::Image,
        mime: "image/png".into(),
        size,
        name: "cat.png".into(),
        width: Some(640),
        height: Some(480),
        duration_ms: None,
        blurhash: Some("LEHV6nWB2yk8pyo0adR*.7kCMdnj".into()),
        has_thumbs: true,
        created_at,
        attached_at: None,
    }
}

async fn group(store: &dyn Store, owner: UserId) -> RoomId {
    let new = NewGroup {
        id: RoomId::new(),
        name: "media".into(),
        topic: None,
        owner,
        now: t0(),
    };
    store.create_group(&new).await.expect("create group").0.id
}

fn message_with(room: RoomId, sender: UserId, media: &[&Media], now: DateTime<Utc>) -> NewMessage {
    NewMessage {
        id: MessageId::new(),
        room_id: room,
        sender_id: sender,
        client_id: format!("c-{}", MessageId::new()),
        body: "look".into(),
        reply_to: None,
        forwarded: None,
        mentions: Vec::new(),
        mentions_room: false,
        now,
        attachments: media.iter().map(|m| m.attachment()).collect(),
    }
}

async fn send(store: &dyn Store, new: &NewMessage) -> Message {
    match store.send_message(new).await.expect("send") {
        SendOutcome::Created(m, ev) => {
            assert_eq!(ev.kind, EventKind::MessageCreated);
            assert_eq!(
                ev.message.as_ref().map(|m| m.attachments.clone()),
                Some(new.attachments.clone()),
                "the event carries the attachments"
            );
            m
        }
        other => panic!("expected a new message, got {other:?}"),
    }
}

pub async fn media_roundtrip(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let bob = user(store, "bob").await;
    let m = new_media(ada.id, 1000, t0());
    store.create_media(&m).await.unwrap();
    assert_eq!(store.media(m.id).await.unwrap(), m);
    match store.create_media(&m).await {
        Err(StoreError::Conflict("media")) => {}
        other => panic!("expected Conflict(media), got {other:?}"),
    }
    assert!(matches!(
        store.media(MediaId::new()).await,
        Err(StoreError::NotFound)
    ));
    let plain = Media {
        kind: MediaKind::File,
        mime: "application/pdf".into(),
        width: None,
        height: None,
        blurhash: None,
        has_thumbs: false,
        duration_ms: Some(1234),
        ..new_media(ada.id, 500, t0())
    };
    store.create_media(&plain).await.unwrap();
    assert_eq!(store.media(plain.id).await.unwrap(), plain);
    assert_eq!(store.media_usage(ada.id).await.unwrap(), 1500);
    assert_eq!(store.media_usage(bob.id).await.unwrap(), 0);

    let theirs = new_media(bob.id, 10, t0());
    store.create_media(&theirs).await.unwrap();
    let mut owned: Vec<MediaId> = store
        .media_owned_by(ada.id, &[m.id, theirs.id, plain.id, MediaId::new()])
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    owned.sort();
    let mut want = vec![m.id, plain.id];
    want.sort();
    assert_eq!(owned, want);
    assert!(store.media_owned_by(ada.id, &[]).await.unwrap().is_empty());
}

pub async fn media_attachments_and_visibility(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let bob = user(store, "bob").await;
    let eve = user(store, "eve").await;
    let room = group(store, ada.id).await;
    store
        .add_member(room, bob.id, Role::Member, ada.id, 100, at(1))
        .await
        .unwrap();
    let first = new_media(ada.id, 10, at(2));
    let second = Media {
        name: "second.png".into(),
        ..new_media(ada.id, 20, at(3))
    };
    store.create_media(&first).await.unwrap();
    store.create_media(&second).await.unwrap();
    // Before posting only the owner sees them.
    assert!(store.media_visible_to(first.id, ada.id).await.unwrap());
    assert!(!store.media_visible_to(first.id, bob.id).await.unwrap());

    let new = message_with(room, ada.id, &[&second, &first], at(4));
    let sent = send(store, &new).await;
    assert_eq!(sent.attachments, new.attachments, "order kept");
    let loaded = store.message(room, sent.id).await.unwrap();
    assert_eq!(loaded.attachments, new.attachments);
    let page = store.messages(room, Page::Latest, 10).await.unwrap();
    let last = page.last().expect("a message");
    assert_eq!(last.attachments, new.attachments);
    // A retry returns the message with its attachments.
    match store.send_message(&new).await.unwrap() {
        SendOutcome::Existing(m) => assert_eq!(m.attachments, new.attachments),
        other => panic!("expected Existing, got {other:?}"),
    }
    assert!(store.media(first.id).await.unwrap().attached_at.is_some());

    assert!(store.media_visible_to(first.id, bob.id).await.unwrap());
    assert!(!store.media_visible_to(first.id, eve.id).await.unwrap());
    // A former member loses access.
    store
        .remove_member(room, bob.id, bob.id, None, at(5))
        .await
        .unwrap();
    assert!(!store.media_visible_to(first.id, bob.id).await.unwrap());
    store
        .add_member(room, eve.id, Role::Member, ada.id, 100, at(6))
        .await
        .unwrap();
    assert!(store.media_visible_to(second.id, eve.id).await.unwrap());
    // Deleting the message takes the attachments with it (for everyone but the owner).
    store
        .delete_message(room, sent.id, ada.id, None, at(7))
        .await
        .unwrap();
    assert!(!store.media_visible_to(second.id, eve.id).await.unwrap());
    assert!(store.media_visible_to(second.id, ada.id).await.unwrap());
    let tomb = store.message(room, sent.id).await.unwrap();
    assert!(tomb.attachments.is_empty());
    // Unknown media is visible to nobody.
    assert!(
        !store
            .media_visible_to(MediaId::new(), ada.id)
            .await
            .unwrap()
    );
}

pub async fn media_unattached_sweep(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let room = group(store, ada.id).await;
    let old = new_media(ada.id, 1, at(10));
    let older = new_media(ada.id, 1, at(5));
    let used = new_media(ada.id, 1, at(1));
    let avatar = new_media(ada.id, 1, at(2));
    let fresh = new_media(ada.id, 1, at(100));
    for m in [&old, &older, &used, &avatar, &fresh] {
        store.create_media(m).await.unwrap();
    }
    send(store, &message_with(room, ada.id, &[&used], at(20))).await;
    store.mark_media_attached(avatar.id, at(21)).await.unwrap();
    store.mark_media_attached(avatar.id, at(22)).await.unwrap(); // idempotent
    assert_eq!(
        store.media(avatar.id).await.unwrap().attached_at,
        Some(at(21))
    );
    assert!(matches!(
        store.mark_media_attached(MediaId::new(), at(21)).await,
        Err(StoreError::NotFound)
    ));

    let stale: Vec<MediaId> = store
        .unattached_media(at(50), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(
        stale,
        vec![older.id, old.id],
        "oldest first, only unattached"
    );
    assert_eq!(store.unattached_media(at(50), 1).await.unwrap().len(), 1);

    assert!(store.delete_unattached_media(older.id).await.unwrap());
    assert!(!store.delete_unattached_media(older.id).await.unwrap());
    assert!(!store.delete_unattached_media(used.id).await.unwrap());
    assert!(store.media(used.id).await.is_ok());
    assert!(matches!(
        store.media(older.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.media_usage(ada.id).await.unwrap(), 4);
}

pub async fn media_quota_atomic(store: &dyn Store) {
    let ada = user(store, "ada").await;
    let bob = user(store, "bob").await;
    let quota = 100;
    // Up to the quota exactly, then not a byte more; nothing is recorded when refused.
    store
        .create_media_within_quota(&new_media(ada.id, 60, t0()), quota)
        .await
        .unwrap();
    store
        .create_media_within_quota(&new_media(ada.id, 40, t0()), quota)
        .await
        .expect("an exact fit is allowed");
    let over = new_media(ada.id, 1, t0());
    match store.create_media_within_quota(&over, quota).await {
        Err(StoreError::Conflict("media_quota")) => {}
        other => panic!("expected Conflict(media_quota), got {other:?}"),
    }
    assert!(matches!(
        store.media(over.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.media_usage(ada.id).await.unwrap(), 100);
    // Another owner's uploads do not count; ids stay unique.
    let theirs = new_media(bob.id, 100, t0());
    store
        .create_media_within_quota(&theirs, quota)
        .await
        .unwrap();
    match store.create_media_within_quota(&theirs, 1000).await {
        Err(StoreError::Conflict("media")) => {}
        other => panic!("expected Conflict(media), got {other:?}"),
    }

    // Parallel: ten uploads of 30 bytes into an empty quota of 100: exactly three fit. Several
    // rounds (a user each), so a store that only sometimes races is caught.
    for round in 0..10 {
        let owner = user(store, &format!("racer{round}")).await;
        let uploads: Vec<Media> = (0..10).map(|_| new_media(owner.id, 30, t0())).collect();
        let results = join_all(
            uploads
                .iter()
                .map(|m| store.create_media_within_quota(m, quota))
                .collect(),
        )
        .await;
        let mut recorded = 0;
        for r in results {
            match r {
                Ok(()) => recorded += 1,
                Err(StoreError::Conflict("media_quota")) => {}
                Err(e) => panic!("expected Ok or Conflict(media_quota), got {e:?}"),
            }
        }
        assert_eq!(recorded, 3, "exactly the uploads that fit are recorded");
        assert_eq!(store.media_usage(owner.id).await.unwrap(), 90);
    }
}
