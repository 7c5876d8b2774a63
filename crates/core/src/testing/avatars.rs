//! Conformance cases: user and room avatars.

use super::accounts::{new_user, t0, user};
use crate::error::StoreError;
use crate::event::EventKind;
use crate::event::RoomEvent;
use crate::ids::{MediaId, RoomId, UserId};
use crate::media::{Media, MediaKind};
use crate::room::{NewGroup, Room, RoomPatch};
use crate::store::Store;
use crate::store::StoreResult;
use chrono::{DateTime, Duration, Utc};

/// A room avatar change is a `RoomPatch` with only `avatar` set; it is always announced.
async fn set_room_avatar(
    store: &dyn Store,
    room: RoomId,
    avatar: Option<MediaId>,
    actor: UserId,
    now: DateTime<Utc>,
) -> StoreResult<(Room, RoomEvent)> {
    let patch = RoomPatch {
        avatar: Some(avatar),
        ..RoomPatch::default()
    };
    let (room, ev) = store.update_room(room, &patch, actor, now).await?;
    Ok((room, ev.expect("an avatar change records room.updated")))
}

fn at(secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(secs)
}

async fn avatar_media(store: &dyn Store, owner: UserId) -> MediaId {
    let m = Media {
        id: MediaId::new(),
        owner_id: owner,
        kind: MediaKind::Image,
        mime: "image/webp".into(),
        size: 1234,
        name: "avatar.webp".into(),
        width: Some(512),
        height: Some(512),
        duration_ms: None,
        blurhash: None,
        has_thumbs: false,
        created_at: t0(),
        attached_at: Some(t0()),
    };
    store.create_media(&m).await.expect("create media");
    m.id
}

pub async fn user_avatar_set_replace_clear(store: &dyn Store) {
    let ada = user(store, "ada").await;
    assert_eq!(ada.avatar, None);
    let first = avatar_media(store, ada.id).await;
    let second = avatar_media(store, ada.id).await;

    let u = store
        .set_user_avatar(ada.id, Some(first), at(1))
        .await
        .unwrap();
    assert_eq!((u.avatar, u.updated_at), (Some(first), at(1)));
    assert_eq!(store.user_by_id(ada.id).await.unwrap().avatar, Some(first));

    let u = store
        .set_user_avatar(ada.id, Some(second), at(2))
        .await
        .unwrap();
    assert_eq!(u.avatar, Some(second));
    // Every read path carries it.
    assert_eq!(
        store.users_by_ids(&[ada.id]).await.unwrap()[0].avatar,
        Some(second)
    );
    let login = new_user("ada");
    let (by_login, _) = store.user_by_login(login.username.as_str()).await.unwrap();
    assert_eq!(by_login.avatar, Some(second));
    assert_eq!(
        store.search_users("ad", 5).await.unwrap()[0].avatar,
        Some(second)
    );

    let u = store.set_user_avatar(ada.id, None, at(3)).await.unwrap();
    assert_eq!(u.avatar, None);
    assert_eq!(store.user_by_id(ada.id).await.unwrap().avatar, None);

    assert!(matches!(
        store
            .set_user_avatar(UserId::new(), Some(first), at(4))
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn room_avatar_events(store: &dyn Store) {
    let owner = user(store, "owner").await;
    let (room, _) = store
        .create_group(&NewGroup {
            id: RoomId::new(),
            name: "pics".into(),
            topic: None,
            owner: owner.id,
            now: t0(),
        })
        .await
        .unwrap();
    assert_eq!(room.avatar, None);
    let pic = avatar_media(store, owner.id).await;

    let (updated, ev) = set_room_avatar(store, room.id, Some(pic), owner.id, at(5))
        .await
        .unwrap();
    assert_eq!(updated.avatar, Some(pic));
    assert_eq!(updated.last_seq, room.last_seq + 1);
    assert_eq!(
        (ev.kind, ev.seq, ev.actor_id),
        (EventKind::RoomUpdated, updated.last_seq, owner.id)
    );
    let changes = ev.changes.clone().unwrap();
    assert_eq!(changes.avatar, Some(Some(pic)));
    assert_eq!(changes.name, None);
    assert_eq!(store.room(room.id).await.unwrap().avatar, Some(pic));
    let list = store.rooms_for_user(owner.id).await.unwrap();
    assert_eq!(list[0].room.avatar, Some(pic));
    // The history keeps the change, as the live event had it.
    let page = store.events(room.id, room.last_seq, 10).await.unwrap();
    assert_eq!(page.events.last().unwrap().changes, ev.changes);

    let (cleared, ev) = set_room_avatar(store, room.id, None, owner.id, at(6))
        .await
        .unwrap();
    assert_eq!(cleared.avatar, None);
    assert_eq!(ev.changes.unwrap().avatar, Some(None));
    let page = store.events(room.id, updated.last_seq, 10).await.unwrap();
    assert_eq!(
        page.events.last().unwrap().changes.as_ref().unwrap().avatar,
        Some(None)
    );

    store.delete_room(room.id, owner.id, at(7)).await.unwrap();
    assert!(matches!(
        set_room_avatar(store, room.id, Some(pic), owner.id, at(8)).await,
        Err(StoreError::NotFound)
    ));
}

/// `update_room` applies a whole `RoomPatch` in one transaction: AI alone is no event and
/// spends no seq; a patch with visible fields records one event carrying exactly them, with
/// the AI switch committed alongside; a deleted room refuses the lot and writes nothing.
pub async fn room_patch_is_one_commit(store: &dyn Store) {
    let owner = user(store, "patcher").await;
    let (room, _) = store
        .create_group(&NewGroup {
            id: RoomId::new(),
            name: "Patched".into(),
            topic: None,
            owner: owner.id,
            now: t0(),
        })
        .await
        .unwrap();
    let ai_only = RoomPatch {
        ai_enabled: Some(true),
        ..RoomPatch::default()
    };
    let (same, ev) = store
        .update_room(room.id, &ai_only, owner.id, at(1))
        .await
        .unwrap();
    assert_eq!(ev, None, "the AI switch alone is not a room.updated event");
    assert_eq!(same.last_seq, room.last_seq);
    assert!(store.room_ai_enabled(room.id).await.unwrap());

    let pic = avatar_media(store, owner.id).await;
    let all = RoomPatch {
        name: Some("Renamed".into()),
        avatar: Some(Some(pic)),
        ai_enabled: Some(false),
        ..RoomPatch::default()
    };
    let (updated, ev) = store
        .update_room(room.id, &all, owner.id, at(2))
        .await
        .unwrap();
    let ev = ev.expect("visible changes are announced");
    assert_eq!(updated.last_seq, room.last_seq + 1);
    assert_eq!(
        (updated.name.as_deref(), updated.avatar),
        (Some("Renamed"), Some(pic))
    );
    let changes = ev.changes.expect("changes");
    assert_eq!(
        (changes.name.as_deref(), changes.avatar, changes.topic),
        (Some("Renamed"), Some(Some(pic)), None)
    );
    assert!(!store.room_ai_enabled(room.id).await.unwrap());

    store.delete_room(room.id, owner.id, at(3)).await.unwrap();
    let deleted = RoomPatch {
        name: Some("Ghost".into()),
        ai_enabled: Some(true),
        ..RoomPatch::default()
    };
    assert!(matches!(
        store.update_room(room.id, &deleted, owner.id, at(4)).await,
        Err(StoreError::NotFound)
    ));
}
