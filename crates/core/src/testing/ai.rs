//! Conformance cases: AI opt-in per room, per-user AI preferences, the translation cache.

use super::accounts::{t0, user};
use crate::ai::AiPrefs;
use crate::error::StoreError;
use crate::ids::{MessageId, RoomId, UserId};
use crate::message::NewMessage;
use crate::room::NewGroup;
use crate::store::{SendOutcome, Store};

async fn ai_group(store: &dyn Store, owner: UserId) -> RoomId {
    let new = NewGroup {
        id: RoomId::new(),
        name: "ai room".into(),
        topic: None,
        owner,
        now: t0(),
    };
    store.create_group(&new).await.expect("create group").0.id
}

pub async fn ai_room_switch(store: &dyn Store) {
    let owner = user(store, "aiowner").await;
    let room = ai_group(store, owner.id).await;
    assert!(
        !store.room_ai_enabled(room).await.unwrap(),
        "off by default"
    );
    store
        .set_room_ai_enabled(room, true, owner.id, t0())
        .await
        .unwrap();
    assert!(store.room_ai_enabled(room).await.unwrap());
    // Idempotent, and switchable back off.
    store
        .set_room_ai_enabled(room, true, owner.id, t0())
        .await
        .unwrap();
    store
        .set_room_ai_enabled(room, false, owner.id, t0())
        .await
        .unwrap();
    assert!(!store.room_ai_enabled(room).await.unwrap());
    // Other rooms are unaffected; unknown rooms are off and cannot be switched on.
    let other = ai_group(store, owner.id).await;
    store
        .set_room_ai_enabled(room, true, owner.id, t0())
        .await
        .unwrap();
    assert!(!store.room_ai_enabled(other).await.unwrap());
    let unknown = RoomId::new();
    assert!(!store.room_ai_enabled(unknown).await.unwrap());
    assert!(matches!(
        store
            .set_room_ai_enabled(unknown, true, owner.id, t0())
            .await,
        Err(StoreError::NotFound)
    ));
    // A deleted room cannot be switched.
    store.delete_room(other, owner.id, t0()).await.unwrap();
    assert!(matches!(
        store.set_room_ai_enabled(other, true, owner.id, t0()).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn ai_prefs_roundtrip(store: &dyn Store) {
    let u = user(store, "polyglot").await;
    assert_eq!(store.ai_prefs(u.id).await.unwrap(), AiPrefs::default());
    let prefs = AiPrefs {
        preferred_language: Some("pt-BR".into()),
        auto_translate: true,
    };
    store.set_ai_prefs(u.id, &prefs, t0()).await.unwrap();
    assert_eq!(store.ai_prefs(u.id).await.unwrap(), prefs);
    let cleared = AiPrefs {
        preferred_language: None,
        auto_translate: false,
    };
    store.set_ai_prefs(u.id, &cleared, t0()).await.unwrap();
    assert_eq!(store.ai_prefs(u.id).await.unwrap(), cleared);
    assert!(matches!(
        store.set_ai_prefs(UserId::new(), &prefs, t0()).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn translation_cache(store: &dyn Store) {
    let owner = user(store, "translator").await;
    let room = ai_group(store, owner.id).await;
    let new = NewMessage {
        id: MessageId::new(),
        room_id: room,
        sender_id: owner.id,
        client_id: "c-1".into(),
        body: "hello".into(),
        reply_to: None,
        forwarded: None,
        mentions: Vec::new(),
        mentions_room: false,
        attachments: Vec::new(),
        now: t0(),
    };
    let msg = match store.send_message(&new).await.unwrap() {
        SendOutcome::Created(m, _) => m,
        other => panic!("expected created, got {other:?}"),
    };
    assert_eq!(store.translation(msg.id, 0, "de").await.unwrap(), None);
    store
        .put_translation(msg.id, 0, "de", "hallo", t0())
        .await
        .unwrap();
    // First write wins (concurrent translators may race; both are valid answers).
    store
        .put_translation(msg.id, 0, "de", "servus", t0())
        .await
        .unwrap();
    assert_eq!(
        store.translation(msg.id, 0, "de").await.unwrap().as_deref(),
        Some("hallo")
    );
    // Keyed by version and language.
    assert_eq!(store.translation(msg.id, 1, "de").await.unwrap(), None);
    assert_eq!(store.translation(msg.id, 0, "fr").await.unwrap(), None);
    store
        .put_translation(msg.id, 1, "de", "hallo!", t0())
        .await
        .unwrap();
    assert_eq!(
        store.translation(msg.id, 1, "de").await.unwrap().as_deref(),
        Some("hallo!")
    );
}
