//! Conformance cases: rooms (groups and DMs), their lifecycle and lookups.
//!
//! Only the contract is asserted (the `Store` doc comments and the shared schema rules): no
//! adapter's incidental orderings. Where two rows could tie on a timestamp, the cases give them
//! distinct times; where the contract gives a list no order (mentions), it is compared sorted.

use super::accounts::{t0, user};
use super::support::{
    MAX_MEMBERS, all_events, at, group, join, last_seq, new_msg, not_found, send,
};
use crate::error::StoreError;
use crate::event::{EventKind, RoomChanges};
use crate::ids::{MessageId, RoomId, UserId};
use crate::message::Page;
use crate::room::{NewGroup, Role, RoomKind, RoomPatch};
use crate::store::Store;
use chrono::Duration;

// --- rooms ---------------------------------------------------------------------------------------

pub async fn group_create(store: &dyn Store) {
    let owner = user(store, "owner").await;
    let new = NewGroup {
        id: RoomId::new(),
        name: "Team".into(),
        topic: Some("Plans".into()),
        owner: owner.id,
        now: at(1),
    };
    let (room, ev) = store.create_group(&new).await.unwrap();
    assert_eq!(room.id, new.id);
    assert_eq!(room.kind, RoomKind::Group);
    assert_eq!(room.name.as_deref(), Some("Team"));
    assert_eq!(room.topic.as_deref(), Some("Plans"));
    assert_eq!(room.created_by, owner.id);
    assert_eq!(room.created_at, at(1));
    assert_eq!(room.last_seq, 1);
    assert_eq!(room.last_activity_at, at(1));
    assert!(!room.only_admins_post);
    assert_eq!(room.member_count, 1);

    assert_eq!(ev.room_id, room.id);
    assert_eq!(ev.seq, 1);
    assert_eq!(ev.kind, EventKind::MemberJoined);
    assert_eq!(ev.actor_id, owner.id);
    assert_eq!(ev.user_id, Some(owner.id));
    assert_eq!(ev.role, Some(Role::Owner));
    assert_eq!(ev.created_at, at(1));
    assert!(ev.message.is_none() && ev.message_id.is_none());

    assert_eq!(store.room(room.id).await.unwrap(), room);
    let m = store
        .member(room.id, owner.id)
        .await
        .unwrap()
        .expect("owner is a member");
    assert_eq!(m.role, Role::Owner);
    assert_eq!(m.joined_at, at(1));
    assert_eq!(m.read_seq, 1, "the read marker starts at the join event");
    assert_eq!(store.members(room.id).await.unwrap(), vec![m]);
    assert_eq!(all_events(store, room.id).await, vec![ev]);

    let list = store.rooms_for_user(owner.id).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].room, room);
    assert_eq!(list[0].my_role, Role::Owner);
    assert_eq!((list[0].unread, list[0].mentions), (0, 0));
    assert_eq!(list[0].last_message, None);
    assert_eq!(list[0].dm_peer, None);
}

pub async fn dm_open_idempotent(store: &dyn Store) {
    let a = user(store, "dm_a").await;
    let b = user(store, "dm_b").await;
    let (room, created, events) = store
        .open_dm(RoomId::new(), a.id, b.id, at(1))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(room.kind, RoomKind::Dm);
    assert_eq!(room.name, None);
    assert_eq!(room.member_count, 2);
    assert_eq!(room.last_seq, 2);
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert!(
        events
            .iter()
            .all(|e| e.kind == EventKind::MemberJoined && e.room_id == room.id)
    );
    let mut joined: Vec<UserId> = events.iter().filter_map(|e| e.user_id).collect();
    joined.sort();
    let mut both = vec![a.id, b.id];
    both.sort();
    assert_eq!(joined, both);
    let mut members: Vec<UserId> = store
        .members(room.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.user_id)
        .collect();
    members.sort();
    assert_eq!(members, both);

    // Either order finds the same room, and creates nothing.
    let (again, created, events) = store
        .open_dm(RoomId::new(), b.id, a.id, at(2))
        .await
        .unwrap();
    assert!(!created);
    assert!(events.is_empty());
    assert_eq!(again.id, room.id);
    let (again, created, _) = store
        .open_dm(RoomId::new(), a.id, b.id, at(3))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.id, room.id);
    assert_eq!(last_seq(store, room.id).await, 2);

    let list = store.rooms_for_user(a.id).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].dm_peer, Some(b.id));
    assert_eq!(
        store.rooms_for_user(b.id).await.unwrap()[0].dm_peer,
        Some(a.id)
    );

    // Concurrent opens of a new pair create exactly one room.
    let c = user(store, "dm_c").await;
    let d = user(store, "dm_d").await;
    let (r1, r2, r3) = tokio::join!(
        store.open_dm(RoomId::new(), c.id, d.id, at(4)),
        store.open_dm(RoomId::new(), d.id, c.id, at(4)),
        store.open_dm(RoomId::new(), c.id, d.id, at(4)),
    );
    let outcomes = [r1.unwrap(), r2.unwrap(), r3.unwrap()];
    assert_eq!(
        outcomes.iter().filter(|o| o.1).count(),
        1,
        "exactly one open created the DM"
    );
    assert!(outcomes.iter().all(|o| o.0.id == outcomes[0].0.id));
    assert_eq!(store.rooms_for_user(c.id).await.unwrap().len(), 1);
    assert_eq!(all_events(store, outcomes[0].0.id).await.len(), 2);
}

pub async fn room_update_events(store: &dyn Store) {
    let owner = user(store, "updater").await;
    let room = group(store, owner.id, "Before").await;
    let patch = RoomPatch {
        name: Some("After".into()),
        topic: Some(Some("A topic".into())),
        ..RoomPatch::default()
    };
    let (updated, ev) = store
        .update_room(room.id, &patch, owner.id, at(5))
        .await
        .unwrap();
    let ev = ev.expect("a visible change records room.updated");
    assert_eq!(updated.name.as_deref(), Some("After"));
    assert_eq!(updated.topic.as_deref(), Some("A topic"));
    assert_eq!(updated.last_seq, 2);
    assert_eq!(updated.last_activity_at, at(5));
    assert_eq!(
        (ev.kind, ev.seq, ev.actor_id, ev.created_at),
        (EventKind::RoomUpdated, 2, owner.id, at(5))
    );
    assert_eq!(
        ev.changes,
        Some(RoomChanges {
            name: Some("After".into()),
            topic: Some(Some("A topic".into())),
            only_admins_post: None,
            avatar: None,
            retention_days: None,
            slow_mode_seconds: None,
            permissions: None,
        })
    );
    assert_eq!(store.room(room.id).await.unwrap(), updated);

    // Clearing the topic is a change too (`topic: null`); untouched fields stay.
    let clear = RoomPatch {
        name: None,
        topic: Some(None),
        only_admins_post: Some(true),
        ..RoomPatch::default()
    };
    let (updated, ev2) = store
        .update_room(room.id, &clear, owner.id, at(6))
        .await
        .unwrap();
    let ev2 = ev2.expect("a visible change records room.updated");
    assert_eq!(updated.name.as_deref(), Some("After"));
    assert_eq!(updated.topic, None);
    assert!(updated.only_admins_post);
    let changes = ev2.changes.clone().expect("changes");
    assert_eq!(changes.topic, Some(None));
    assert_eq!(changes.only_admins_post, Some(true));
    assert_eq!(changes.name, None);

    // The history returns the same events, changes included.
    let events = all_events(store, room.id).await;
    assert_eq!(events[1..], [ev, ev2]);
}

pub async fn room_delete(store: &dyn Store) {
    let owner = user(store, "deleter").await;
    let other = user(store, "bystander").await;
    let room = group(store, owner.id, "Doomed").await;
    let keep = group(store, owner.id, "Kept").await;
    join(store, room.id, other.id, at(1)).await;
    send(store, room.id, owner.id, "last words", at(2)).await;
    let ev = store.delete_room(room.id, owner.id, at(3)).await.unwrap();
    assert_eq!(
        (ev.kind, ev.seq, ev.actor_id, ev.room_id),
        (EventKind::RoomDeleted, 4, owner.id, room.id)
    );
    not_found(store.room(room.id).await);
    let ids: Vec<RoomId> = store
        .rooms_for_user(owner.id)
        .await
        .unwrap()
        .iter()
        .map(|s| s.room.id)
        .collect();
    assert_eq!(ids, vec![keep.id]);
    assert!(
        store.rooms_for_user(other.id).await.unwrap().is_empty(),
        "gone for everyone"
    );
    assert_eq!(store.member(room.id, other.id).await.unwrap(), None);
    not_found(
        store
            .send_message(&new_msg(room.id, owner.id, "echo", at(4)))
            .await,
    );
    not_found(
        store
            .update_room(
                room.id,
                &RoomPatch {
                    name: Some("x".into()),
                    ..RoomPatch::default()
                },
                owner.id,
                at(4),
            )
            .await,
    );
    not_found(store.delete_room(room.id, owner.id, at(4)).await);
    not_found(
        store
            .add_member(
                room.id,
                user(store, "latecomer").await.id,
                Role::Member,
                owner.id,
                MAX_MEMBERS,
                at(4),
            )
            .await,
    );
    not_found(store.mark_read(room.id, other.id, 1).await);
    assert!(
        store
            .search(owner.id, "words", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn unknown_rooms_not_found(store: &dyn Store) {
    let u = user(store, "nobody_home").await;
    let ghost = RoomId::new();
    not_found(store.room(ghost).await);
    assert_eq!(store.member(ghost, u.id).await.unwrap(), None);
    not_found(store.room_and_member(ghost, u.id).await);
    not_found(
        store
            .update_room(
                ghost,
                &RoomPatch {
                    name: Some("x".into()),
                    ..RoomPatch::default()
                },
                u.id,
                t0(),
            )
            .await,
    );
    not_found(store.delete_room(ghost, u.id, t0()).await);
    not_found(
        store
            .add_member(ghost, u.id, Role::Member, u.id, MAX_MEMBERS, t0())
            .await,
    );
    not_found(
        store
            .send_message(&new_msg(ghost, u.id, "hello", t0()))
            .await,
    );
    not_found(store.message(ghost, MessageId::new()).await);
    not_found(store.mark_read(ghost, u.id, 1).await);
    not_found(store.invite("no-such-code").await);
    not_found(
        store
            .accept_invite("no-such-code", u.id, MAX_MEMBERS, t0())
            .await,
    );
    assert!(
        store
            .messages(ghost, Page::Latest, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.rooms_for_user(u.id).await.unwrap().is_empty());
}

/// `room_and_member` answers exactly what `room` and `member` answer apart.
pub async fn room_and_member_matches_parts(store: &dyn Store) {
    let owner = user(store, "ram_owner").await;
    let outsider = user(store, "ram_outsider").await;
    let room = group(store, owner.id, "both at once").await;
    let (r, m) = store.room_and_member(room.id, owner.id).await.unwrap();
    assert_eq!(r, store.room(room.id).await.unwrap());
    assert_eq!(m, store.member(room.id, owner.id).await.unwrap());
    assert_eq!(m.map(|m| m.role), Some(Role::Owner));
    let (r, m) = store.room_and_member(room.id, outsider.id).await.unwrap();
    assert_eq!(r.id, room.id);
    assert_eq!(m, None);
    // A plain member, with its own join time and read marker.
    let joined = join(store, room.id, outsider.id, t0() + Duration::seconds(5)).await;
    let (_, m) = store.room_and_member(room.id, outsider.id).await.unwrap();
    assert_eq!(m, Some(joined));
    assert_eq!(m, store.member(room.id, outsider.id).await.unwrap());
    // Unknown and deleted rooms are not found, whoever asks.
    assert!(matches!(
        store.room_and_member(RoomId::new(), owner.id).await,
        Err(StoreError::NotFound)
    ));
    store
        .delete_room(room.id, owner.id, t0() + Duration::seconds(9))
        .await
        .unwrap();
    assert!(matches!(
        store.room_and_member(room.id, owner.id).await,
        Err(StoreError::NotFound)
    ));
}
