//! Conformance cases: rooms, membership, messages, history, read state, search.
//!
//! Only the contract is asserted (the `Store` doc comments and the shared schema rules): no
//! adapter's incidental orderings. Where two rows could tie on a timestamp, the cases give them
//! distinct times; where the contract gives a list no order (mentions), it is compared sorted.

use super::accounts::{t0, user};
use crate::error::{StoreError, StoreResult};
use crate::event::{EventKind, RoomChanges, RoomEvent};
use crate::ids::{MessageId, RoomId, UserId};
use crate::message::{Forwarded, MAX_PINS, Message, NewMessage, Page};
use crate::room::{Invite, Member, NewGroup, Role, Room, RoomKind, RoomPatch, UNREAD_CAP};
use crate::store::{HIGHLIGHT_END, HIGHLIGHT_START, SendOutcome, Store};
use chrono::{DateTime, Duration, Utc};
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// Generous member limit for cases that are not about it.
const MAX_MEMBERS: u32 = 1000;

// --- helpers -------------------------------------------------------------------------------------

fn at(secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(secs)
}

/// Polls all futures concurrently on the current task (they borrow the store, so they cannot be
/// spawned), returning their outputs in order.
pub(super) async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futures.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *slot = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    out.into_iter()
        .map(|o| o.expect("every future completed"))
        .collect()
}

#[track_caller]
fn not_found<T: Debug>(r: StoreResult<T>) {
    match r {
        Err(StoreError::NotFound) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[track_caller]
fn conflict<T: Debug>(r: StoreResult<T>, name: &str) {
    match r {
        Err(StoreError::Conflict(n)) if n == name => {}
        other => panic!("expected Conflict({name:?}), got {other:?}"),
    }
}

async fn group_at(store: &dyn Store, owner: UserId, name: &str, now: DateTime<Utc>) -> Room {
    let new = NewGroup {
        id: RoomId::new(),
        name: name.into(),
        topic: None,
        owner,
        now,
    };
    store.create_group(&new).await.expect("create group").0
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

async fn group(store: &dyn Store, owner: UserId, name: &str) -> Room {
    group_at(store, owner, name, t0()).await
}

async fn join(store: &dyn Store, room: RoomId, user: UserId, now: DateTime<Utc>) -> Member {
    store
        .add_member(room, user, Role::Member, user, MAX_MEMBERS, now)
        .await
        .expect("add member")
        .0
}

fn new_msg(room: RoomId, sender: UserId, body: &str, now: DateTime<Utc>) -> NewMessage {
    NewMessage {
        id: MessageId::new(),
        room_id: room,
        sender_id: sender,
        client_id: format!("c-{}", MessageId::new()),
        body: body.into(),
        reply_to: None,
        forwarded: None,
        mentions: Vec::new(),
        mentions_room: false,
        now,
        attachments: Vec::new(),
    }
}

async fn send_new(store: &dyn Store, new: &NewMessage) -> (Message, RoomEvent) {
    match store.send_message(new).await.expect("send") {
        SendOutcome::Created(m, e) => (m, e),
        other => panic!("expected a new message, got {other:?}"),
    }
}

async fn send(
    store: &dyn Store,
    room: RoomId,
    sender: UserId,
    body: &str,
    now: DateTime<Utc>,
) -> Message {
    send_new(store, &new_msg(room, sender, body, now)).await.0
}

/// Mentions are a set: compare them sorted.
fn norm(mut m: Message) -> Message {
    m.mentions.sort();
    m
}

fn norm_ev(mut e: RoomEvent) -> RoomEvent {
    e.message = e.message.map(norm);
    e
}

async fn all_events(store: &dyn Store, room: RoomId) -> Vec<RoomEvent> {
    let page = store.events(room, 0, 10_000).await.expect("events");
    assert!(!page.has_more);
    page.events
}

async fn last_seq(store: &dyn Store, room: RoomId) -> i64 {
    store.room(room).await.expect("room").last_seq
}

fn hostile_queries() -> Vec<String> {
    let mut v: Vec<String> = [
        "\"",
        "\"\"",
        "*",
        "**",
        "NEAR(",
        "NEAR(a b, 3)",
        "') OR 1=1 --",
        "'; DROP TABLE messages; --",
        "a AND OR NOT b",
        "body:secret",
        "^start",
        "a -b +c",
        "(((",
        "\\",
        "%_%",
        "🎉🎉🎉",
        "👍🏽",
        "",
        "   ",
        "\u{0}",
        "\u{E000}x\u{E001}",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    v.push("x".repeat(10 * 1024));
    v.push("banana ".repeat(1500));
    v.push("\"banana\" OR ".repeat(700));
    v
}

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
        only_admins_post: None,
    };
    let (updated, ev) = store
        .update_room(room.id, &patch, owner.id, at(5))
        .await
        .unwrap();
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
        })
    );
    assert_eq!(store.room(room.id).await.unwrap(), updated);

    // Clearing the topic is a change too (`topic: null`); untouched fields stay.
    let clear = RoomPatch {
        name: None,
        topic: Some(None),
        only_admins_post: Some(true),
    };
    let (updated, ev2) = store
        .update_room(room.id, &clear, owner.id, at(6))
        .await
        .unwrap();
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

// --- membership ----------------------------------------------------------------------------------

pub async fn add_member_conflicts(store: &dyn Store) {
    let owner = user(store, "host").await;
    let guest = user(store, "guest").await;
    let third = user(store, "third").await;
    let room = group(store, owner.id, "Club").await;
    let (m, ev) = store
        .add_member(room.id, guest.id, Role::Member, owner.id, 2, at(1))
        .await
        .unwrap();
    assert_eq!(
        (m.room_id, m.user_id, m.role, m.joined_at),
        (room.id, guest.id, Role::Member, at(1))
    );
    assert_eq!(
        (ev.kind, ev.seq, ev.actor_id, ev.user_id, ev.role),
        (
            EventKind::MemberJoined,
            2,
            owner.id,
            Some(guest.id),
            Some(Role::Member)
        )
    );
    assert_eq!(m.read_seq, ev.seq, "history before the join is not unread");
    assert_eq!(
        store.member(room.id, guest.id).await.unwrap(),
        Some(m.clone())
    );
    let r = store.room(room.id).await.unwrap();
    assert_eq!((r.member_count, r.last_seq), (2, 2));

    conflict(
        store
            .add_member(
                room.id,
                guest.id,
                Role::Member,
                owner.id,
                MAX_MEMBERS,
                at(2),
            )
            .await,
        "member",
    );
    conflict(
        store
            .add_member(room.id, third.id, Role::Member, owner.id, 2, at(2))
            .await,
        "room_full",
    );
    assert_eq!(
        last_seq(store, room.id).await,
        2,
        "failed adds record nothing"
    );

    store.ban(room.id, third.id, owner.id, at(3)).await.unwrap();
    conflict(
        store
            .add_member(
                room.id,
                third.id,
                Role::Member,
                owner.id,
                MAX_MEMBERS,
                at(4),
            )
            .await,
        "banned",
    );

    // Owner first, then by join time.
    let late = user(store, "late").await;
    join(store, room.id, late.id, at(5)).await;
    let order: Vec<UserId> = store
        .members(room.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.user_id)
        .collect();
    assert_eq!(order, vec![owner.id, guest.id, late.id]);
}

pub async fn set_role_and_transfer(store: &dyn Store) {
    let owner = user(store, "founder").await;
    let heir = user(store, "heir").await;
    let outsider = user(store, "outsider").await;
    let room = group(store, owner.id, "Dynasty").await;
    join(store, room.id, heir.id, at(1)).await;

    let ev = store
        .set_role(room.id, heir.id, Role::Admin, owner.id, at(2))
        .await
        .unwrap();
    assert_eq!(
        (ev.kind, ev.seq, ev.actor_id, ev.user_id, ev.role),
        (
            EventKind::MemberRoleChanged,
            3,
            owner.id,
            Some(heir.id),
            Some(Role::Admin)
        )
    );
    assert_eq!(
        store.member(room.id, heir.id).await.unwrap().unwrap().role,
        Role::Admin
    );
    not_found(
        store
            .set_role(room.id, outsider.id, Role::Admin, owner.id, at(3))
            .await,
    );

    let events = store
        .transfer_ownership(room.id, owner.id, heir.id, at(4))
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert!(
        events
            .iter()
            .all(|e| e.kind == EventKind::MemberRoleChanged)
    );
    let mut seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    seqs.sort();
    assert_eq!(seqs, vec![4, 5]);
    let change_of = |u: UserId| {
        events
            .iter()
            .find(|e| e.user_id == Some(u))
            .and_then(|e| e.role)
    };
    assert_eq!(change_of(heir.id), Some(Role::Owner));
    assert_eq!(change_of(owner.id), Some(Role::Admin));
    assert_eq!(
        store.member(room.id, heir.id).await.unwrap().unwrap().role,
        Role::Owner
    );
    assert_eq!(
        store.member(room.id, owner.id).await.unwrap().unwrap().role,
        Role::Admin
    );
    assert_eq!(
        store.members(room.id).await.unwrap()[0].user_id,
        heir.id,
        "owner first"
    );
    assert_eq!(last_seq(store, room.id).await, 5);
    let listed = store.rooms_for_user(owner.id).await.unwrap();
    assert_eq!(listed[0].my_role, Role::Admin);
}

pub async fn remove_member_kinds(store: &dyn Store) {
    let owner = user(store, "boss").await;
    let leaver = user(store, "leaver").await;
    let kicked = user(store, "kicked").await;
    let room = group(store, owner.id, "Office").await;
    join(store, room.id, leaver.id, at(1)).await;
    join(store, room.id, kicked.id, at(2)).await;
    assert_eq!(store.room(room.id).await.unwrap().member_count, 3);

    let left = store
        .remove_member(room.id, leaver.id, leaver.id, at(3))
        .await
        .unwrap();
    assert_eq!(
        (left.kind, left.actor_id, left.user_id, left.seq),
        (EventKind::MemberLeft, leaver.id, Some(leaver.id), 4)
    );
    let out = store
        .remove_member(room.id, kicked.id, owner.id, at(4))
        .await
        .unwrap();
    assert_eq!(
        (out.kind, out.actor_id, out.user_id, out.seq),
        (EventKind::MemberKicked, owner.id, Some(kicked.id), 5)
    );

    assert_eq!(store.member(room.id, leaver.id).await.unwrap(), None);
    assert_eq!(store.room(room.id).await.unwrap().member_count, 1);
    assert!(store.rooms_for_user(kicked.id).await.unwrap().is_empty());
    not_found(
        store
            .remove_member(room.id, kicked.id, owner.id, at(5))
            .await,
    );
    // Removed members may come back (no ban).
    join(store, room.id, kicked.id, at(6)).await;
}

pub async fn ban_and_unban(store: &dyn Store) {
    let owner = user(store, "sheriff").await;
    let outlaw = user(store, "outlaw").await;
    let stranger = user(store, "stranger").await;
    let room = group(store, owner.id, "Town").await;
    join(store, room.id, outlaw.id, at(1)).await;

    let ev = store
        .ban(room.id, outlaw.id, owner.id, at(2))
        .await
        .unwrap();
    assert_eq!(
        (ev.kind, ev.actor_id, ev.user_id, ev.seq),
        (EventKind::MemberBanned, owner.id, Some(outlaw.id), 3)
    );
    assert_eq!(
        store.member(room.id, outlaw.id).await.unwrap(),
        None,
        "a ban removes the membership"
    );
    assert_eq!(store.room(room.id).await.unwrap().member_count, 1);
    assert!(store.is_banned(room.id, outlaw.id).await.unwrap());
    assert!(store.rooms_for_user(outlaw.id).await.unwrap().is_empty());
    conflict(
        store
            .add_member(
                room.id,
                outlaw.id,
                Role::Member,
                owner.id,
                MAX_MEMBERS,
                at(3),
            )
            .await,
        "banned",
    );
    not_found(
        store
            .send_message(&new_msg(room.id, outlaw.id, "let me in", at(3)))
            .await,
    );

    // Banning a non-member records the ban and the event.
    let ev = store
        .ban(room.id, stranger.id, owner.id, at(4))
        .await
        .unwrap();
    assert_eq!(
        (ev.kind, ev.user_id),
        (EventKind::MemberBanned, Some(stranger.id))
    );
    assert!(store.is_banned(room.id, stranger.id).await.unwrap());
    let mut bans = store.bans(room.id).await.unwrap();
    bans.sort();
    let mut want = vec![outlaw.id, stranger.id];
    want.sort();
    assert_eq!(bans, want);
    assert_eq!(store.room(room.id).await.unwrap().member_count, 1);

    let seq_before = last_seq(store, room.id).await;
    store.unban(room.id, outlaw.id).await.unwrap();
    assert_eq!(
        last_seq(store, room.id).await,
        seq_before,
        "unban is not history"
    );
    assert!(!store.is_banned(room.id, outlaw.id).await.unwrap());
    not_found(store.unban(room.id, outlaw.id).await);
    assert_eq!(store.bans(room.id).await.unwrap(), vec![stranger.id]);
    join(store, room.id, outlaw.id, at(5)).await;
}

// --- invites -------------------------------------------------------------------------------------

fn invite_for(
    room: RoomId,
    by: UserId,
    code: &str,
    expires_at: Option<DateTime<Utc>>,
    max_uses: Option<i64>,
) -> Invite {
    Invite {
        code: code.into(),
        room_id: room,
        created_by: by,
        created_at: t0(),
        expires_at,
        max_uses,
        uses: 0,
    }
}

pub async fn invites(store: &dyn Store) {
    let owner = user(store, "inviter").await;
    let u1 = user(store, "invitee1").await;
    let u2 = user(store, "invitee2").await;
    let u3 = user(store, "invitee3").await;
    let room = group(store, owner.id, "Party").await;
    let inv = invite_for(room.id, owner.id, "abc123", Some(at(3600)), Some(2));
    store.create_invite(&inv).await.unwrap();
    assert_eq!(store.invite("abc123").await.unwrap(), inv);

    let (m, ev) = store
        .accept_invite("abc123", u1.id, MAX_MEMBERS, at(10))
        .await
        .unwrap();
    assert_eq!(
        (m.user_id, m.role, m.read_seq),
        (u1.id, Role::Member, ev.seq)
    );
    assert_eq!(
        (ev.kind, ev.user_id, ev.actor_id, ev.role),
        (
            EventKind::MemberJoined,
            Some(u1.id),
            u1.id,
            Some(Role::Member)
        )
    );
    assert_eq!(store.invite("abc123").await.unwrap().uses, 1);

    // Already a member: a conflict that uses nothing.
    conflict(
        store
            .accept_invite("abc123", u1.id, MAX_MEMBERS, at(11))
            .await,
        "member",
    );
    assert_eq!(store.invite("abc123").await.unwrap().uses, 1);

    store
        .accept_invite("abc123", u2.id, MAX_MEMBERS, at(12))
        .await
        .unwrap();
    assert_eq!(store.invite("abc123").await.unwrap().uses, 2);
    conflict(
        store
            .accept_invite("abc123", u3.id, MAX_MEMBERS, at(13))
            .await,
        "invite_expired",
    );
    assert_eq!(store.member(room.id, u3.id).await.unwrap(), None);

    // Expiry.
    store
        .create_invite(&invite_for(room.id, owner.id, "short", Some(at(60)), None))
        .await
        .unwrap();
    conflict(
        store
            .accept_invite("short", u3.id, MAX_MEMBERS, at(60))
            .await,
        "invite_expired",
    );
    conflict(
        store
            .accept_invite("short", u3.id, MAX_MEMBERS, at(61))
            .await,
        "invite_expired",
    );
    assert_eq!(store.invite("short").await.unwrap().uses, 0);

    // Unlimited invites still obey add_member's rules.
    store
        .create_invite(&invite_for(room.id, owner.id, "open", None, None))
        .await
        .unwrap();
    conflict(
        store.accept_invite("open", u3.id, 3, at(70)).await,
        "room_full",
    );
    store.ban(room.id, u3.id, owner.id, at(71)).await.unwrap();
    conflict(
        store
            .accept_invite("open", u3.id, MAX_MEMBERS, at(72))
            .await,
        "banned",
    );
    assert_eq!(
        store.invite("open").await.unwrap().uses,
        0,
        "failed accepts use nothing"
    );
    not_found(
        store
            .accept_invite("nope", u3.id, MAX_MEMBERS, at(73))
            .await,
    );
}

// --- users: blocks and search --------------------------------------------------------------------

pub async fn blocks(store: &dyn Store) {
    let a = user(store, "blocker").await;
    let b = user(store, "blockee").await;
    let c = user(store, "neutral").await;
    assert!(!store.is_blocked_between(a.id, b.id).await.unwrap());
    store.block_user(a.id, b.id, at(1)).await.unwrap();
    store.block_user(a.id, b.id, at(2)).await.unwrap();
    assert!(store.is_blocked_between(a.id, b.id).await.unwrap());
    assert!(
        store.is_blocked_between(b.id, a.id).await.unwrap(),
        "either direction"
    );
    assert!(!store.is_blocked_between(a.id, c.id).await.unwrap());
    assert_eq!(store.blocked_users(a.id).await.unwrap(), vec![b.id]);
    assert!(store.blocked_users(b.id).await.unwrap().is_empty());
    store.block_user(a.id, c.id, at(3)).await.unwrap();
    let mut list = store.blocked_users(a.id).await.unwrap();
    list.sort();
    let mut want = vec![b.id, c.id];
    want.sort();
    assert_eq!(list, want);
    store.unblock_user(a.id, b.id).await.unwrap();
    store.unblock_user(a.id, b.id).await.unwrap();
    assert!(!store.is_blocked_between(b.id, a.id).await.unwrap());
    assert_eq!(store.blocked_users(a.id).await.unwrap(), vec![c.id]);
}

pub async fn search_users_by_prefix(store: &dyn Store) {
    for name in ["alpine", "alpha", "alps_fan", "beta", "ann_x", "annex"] {
        user(store, name).await;
    }
    let names = |users: Vec<crate::user::User>| {
        users
            .iter()
            .map(|u| u.username.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(store.search_users("alp", 10).await.unwrap()),
        vec!["alpha", "alpine", "alps_fan"]
    );
    assert_eq!(
        names(store.search_users("alp", 2).await.unwrap()),
        vec!["alpha", "alpine"]
    );
    assert_eq!(
        names(store.search_users("beta", 10).await.unwrap()),
        vec!["beta"]
    );
    assert!(store.search_users("zed", 10).await.unwrap().is_empty());
    // Pattern characters are data.
    assert_eq!(
        names(store.search_users("ann_", 10).await.unwrap()),
        vec!["ann_x"]
    );
    assert!(store.search_users("%", 10).await.unwrap().is_empty());
    assert!(store.search_users("a%", 10).await.unwrap().is_empty());
    assert!(
        store
            .search_users("' or 1=1 --", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

// --- messages ------------------------------------------------------------------------------------

pub async fn send_message_basics(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let room = group(store, alice.id, "Chat").await;
    join(store, room.id, bob.id, at(1)).await;

    let mut new = new_msg(room.id, alice.id, "hello **bob**", at(2));
    new.mentions = vec![bob.id, alice.id];
    new.mentions_room = true;
    new.forwarded = Some(Forwarded {
        sender_id: bob.id,
        sent_at: at(-100),
    });
    let (m, ev) = send_new(store, &new).await;
    assert_eq!(
        (m.id, m.room_id, m.seq, m.sender_id),
        (new.id, room.id, 3, alice.id)
    );
    assert_eq!(m.client_id, new.client_id);
    assert_eq!(m.body, "hello **bob**");
    assert_eq!(m.forwarded, new.forwarded);
    let mut mentioned = m.mentions.clone();
    mentioned.sort();
    let mut want = vec![alice.id, bob.id];
    want.sort();
    assert_eq!(mentioned, want);
    assert!(m.mentions_room);
    assert!(!m.pinned && m.reactions.is_empty());
    assert_eq!(
        (m.created_at, m.edited_at, m.deleted_at),
        (at(2), None, None)
    );
    assert_eq!(
        (ev.kind, ev.seq, ev.actor_id, ev.message_id, ev.created_at),
        (EventKind::MessageCreated, 3, alice.id, Some(m.id), at(2))
    );
    assert_eq!(ev.message.clone().map(norm), Some(norm(m.clone())));
    assert_eq!(
        norm(store.message(room.id, m.id).await.unwrap()),
        norm(m.clone())
    );

    let m2 = send(store, room.id, bob.id, "hi", at(3)).await;
    assert_eq!(m2.seq, 4);
    let r = store.room(room.id).await.unwrap();
    assert_eq!((r.last_seq, r.last_activity_at), (4, at(3)));
    assert_eq!(
        all_events(store, room.id)
            .await
            .into_iter()
            .map(norm_ev)
            .collect::<Vec<_>>()[2],
        norm_ev(ev)
    );

    // A message is only found in its own room.
    let other = group(store, alice.id, "Elsewhere").await;
    not_found(store.message(other.id, m.id).await);
    not_found(store.message(room.id, MessageId::new()).await);
}

pub async fn send_idempotent(store: &dyn Store) {
    let alice = user(store, "retrier").await;
    let bob = user(store, "other").await;
    let room = group(store, alice.id, "Retries").await;
    join(store, room.id, bob.id, at(1)).await;
    let first = new_msg(room.id, alice.id, "once", at(2));
    let (m, _) = send_new(store, &first).await;
    let seq = last_seq(store, room.id).await;

    // Same (sender, client_id): the stored message, untouched, whatever the new content.
    let mut retry = first.clone();
    retry.id = MessageId::new();
    retry.body = "twice?".into();
    retry.now = at(3);
    match store.send_message(&retry).await.unwrap() {
        SendOutcome::Existing(e) => assert_eq!(norm(e), norm(m.clone())),
        other => panic!("expected Existing, got {other:?}"),
    }
    assert_eq!(
        last_seq(store, room.id).await,
        seq,
        "a retry allocates no seq"
    );
    assert_eq!(
        store
            .messages(room.id, Page::Latest, 10)
            .await
            .unwrap()
            .len(),
        1
    );

    // The key is per sender.
    let mut theirs = first.clone();
    theirs.id = MessageId::new();
    theirs.sender_id = bob.id;
    let (m2, _) = send_new(store, &theirs).await;
    assert_eq!(m2.client_id, first.client_id);
    assert_eq!(m2.seq, seq + 1);
}

pub async fn send_rejections(store: &dyn Store) {
    let alice = user(store, "poster").await;
    let eve = user(store, "intruder").await;
    let room = group(store, alice.id, "Guarded").await;
    let other = group(store, alice.id, "Other").await;
    let foreign = send(store, other.id, alice.id, "in the other room", at(1)).await;
    let gone = send(store, room.id, alice.id, "to be deleted", at(2)).await;
    store
        .delete_message(room.id, gone.id, alice.id, at(3))
        .await
        .unwrap();
    let seq = last_seq(store, room.id).await;

    not_found(
        store
            .send_message(&new_msg(room.id, eve.id, "let me in", at(4)))
            .await,
    );
    let mut reply = new_msg(room.id, alice.id, "re: nothing", at(4));
    reply.reply_to = Some(MessageId::new());
    not_found(store.send_message(&reply).await);
    reply.reply_to = Some(foreign.id);
    not_found(store.send_message(&reply).await);
    reply.reply_to = Some(gone.id);
    not_found(store.send_message(&reply).await);
    assert_eq!(
        last_seq(store, room.id).await,
        seq,
        "rejected sends record nothing"
    );

    // A rejected send does not burn its client_id.
    let target = send(store, room.id, alice.id, "answer me", at(5)).await;
    reply.reply_to = Some(target.id);
    let (m, _) = send_new(store, &reply).await;
    assert_eq!(m.reply_to, Some(target.id));
    assert_eq!(
        store.message(room.id, m.id).await.unwrap().reply_to,
        Some(target.id)
    );

    // A member who left is no longer a sender.
    let bob = user(store, "leaving").await;
    join(store, room.id, bob.id, at(6)).await;
    store
        .remove_member(room.id, bob.id, bob.id, at(7))
        .await
        .unwrap();
    not_found(
        store
            .send_message(&new_msg(room.id, bob.id, "still here?", at(8)))
            .await,
    );
}

/// Many concurrent sends into one room: every one gets a seq, gap-free and unique.
pub async fn concurrent_sends_gap_free(store: &dyn Store) {
    const N: usize = 50;
    let owner = user(store, "crowd0").await;
    let room = group(store, owner.id, "Crowd").await;
    let mut senders = vec![owner.id];
    for i in 1..5 {
        let u = user(store, &format!("crowd{i}")).await;
        join(store, room.id, u.id, at(i)).await;
        senders.push(u.id);
    }
    let base = last_seq(store, room.id).await;
    assert_eq!(base, 5);
    let msgs: Vec<NewMessage> = (0..N)
        .map(|i| {
            new_msg(
                room.id,
                senders[i % senders.len()],
                &format!("message {i}"),
                at(10),
            )
        })
        .collect();
    let results = join_all(msgs.iter().map(|m| store.send_message(m)).collect()).await;
    let mut seqs: Vec<i64> = results
        .into_iter()
        .map(|r| match r.expect("send") {
            SendOutcome::Created(m, e) => {
                assert_eq!(m.seq, e.seq);
                m.seq
            }
            other => panic!("expected Created, got {other:?}"),
        })
        .collect();
    seqs.sort();
    assert_eq!(seqs, (base + 1..=base + N as i64).collect::<Vec<_>>());
    assert_eq!(last_seq(store, room.id).await, base + N as i64);
    let events = all_events(store, room.id).await;
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=base + N as i64).collect::<Vec<_>>()
    );
    let page = store.messages(room.id, Page::Latest, 100).await.unwrap();
    assert_eq!(page.len(), N);
    assert!(page.windows(2).all(|w| w[0].seq < w[1].seq));
}

/// The same (sender, client_id) sent many times at once creates one message.
pub async fn concurrent_same_client_id(store: &dyn Store) {
    let owner = user(store, "spammer").await;
    let room = group(store, owner.id, "Dedup").await;
    let first = new_msg(room.id, owner.id, "just once", at(1));
    let msgs: Vec<NewMessage> = (0..20)
        .map(|_| NewMessage {
            id: MessageId::new(),
            ..first.clone()
        })
        .collect();
    let results: Vec<SendOutcome> = join_all(msgs.iter().map(|m| store.send_message(m)).collect())
        .await
        .into_iter()
        .map(|r| r.expect("send"))
        .collect();
    let created: Vec<&Message> = results
        .iter()
        .filter_map(|o| {
            if let SendOutcome::Created(m, _) = o {
                Some(m)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(created.len(), 1, "exactly one send creates the message");
    let id = created[0].id;
    for o in &results {
        if let SendOutcome::Existing(m) = o {
            assert_eq!(m.id, id);
        }
    }
    let page = store.messages(room.id, Page::Latest, 100).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(last_seq(store, room.id).await, 2);
}

pub async fn message_paging(store: &dyn Store) {
    let u = user(store, "pager").await;
    let room = group(store, u.id, "Pages").await;
    for i in 0..10 {
        send(store, room.id, u.id, &format!("m{i}"), at(i)).await;
    }
    // Messages have seqs 2..=11.
    let seqs = |v: Vec<Message>| v.iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(store.messages(room.id, Page::Latest, 3).await.unwrap()),
        vec![9, 10, 11]
    );
    assert_eq!(
        seqs(store.messages(room.id, Page::Latest, 100).await.unwrap()),
        (2..=11).collect::<Vec<_>>()
    );
    assert_eq!(
        seqs(store.messages(room.id, Page::Before(9), 3).await.unwrap()),
        vec![6, 7, 8]
    );
    assert_eq!(
        seqs(store.messages(room.id, Page::Before(4), 3).await.unwrap()),
        vec![2, 3]
    );
    assert!(
        store
            .messages(room.id, Page::Before(2), 3)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        seqs(store.messages(room.id, Page::After(2), 3).await.unwrap()),
        vec![3, 4, 5]
    );
    assert_eq!(
        seqs(store.messages(room.id, Page::After(9), 3).await.unwrap()),
        vec![10, 11]
    );
    assert!(
        store
            .messages(room.id, Page::After(11), 3)
            .await
            .unwrap()
            .is_empty()
    );
    let page = store.messages(room.id, Page::After(0), 2).await.unwrap();
    assert_eq!(
        page.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        vec!["m0", "m1"]
    );

    // Tombstones stay in the history.
    let victim = store
        .messages(room.id, Page::After(4), 1)
        .await
        .unwrap()
        .remove(0);
    store
        .delete_message(room.id, victim.id, u.id, at(20))
        .await
        .unwrap();
    let page = store.messages(room.id, Page::After(4), 1).await.unwrap();
    assert_eq!(page[0].id, victim.id);
    assert!(page[0].deleted_at.is_some() && page[0].body.is_empty());
    // Messages of other rooms never leak in.
    let other = group(store, u.id, "Other").await;
    send(store, other.id, u.id, "elsewhere", at(30)).await;
    assert_eq!(
        store
            .messages(room.id, Page::Latest, 100)
            .await
            .unwrap()
            .len(),
        10
    );
}

pub async fn edit_message_history(store: &dyn Store) {
    let alice = user(store, "editor").await;
    let bob = user(store, "reader").await;
    let room = group(store, alice.id, "Drafts").await;
    join(store, room.id, bob.id, at(1)).await;
    let mut new = new_msg(room.id, alice.id, "first draft", at(2));
    new.mentions = vec![bob.id];
    let (m, _) = send_new(store, &new).await;

    let (edited, ev) = store
        .edit_message(room.id, m.id, "second draft", &[], true, alice.id, at(3))
        .await
        .unwrap();
    assert_eq!(edited.body, "second draft");
    assert_eq!(edited.edited_at, Some(at(3)));
    assert_eq!(
        (edited.seq, edited.created_at),
        (m.seq, m.created_at),
        "an edit keeps the message's place"
    );
    assert!(edited.mentions.is_empty(), "mentions are replaced");
    assert!(edited.mentions_room);
    assert_eq!(
        (ev.kind, ev.seq, ev.actor_id, ev.message_id),
        (EventKind::MessageEdited, m.seq + 1, alice.id, Some(m.id))
    );
    assert_eq!(ev.message.clone().map(norm), Some(norm(edited.clone())));
    assert_eq!(
        norm(store.message(room.id, m.id).await.unwrap()),
        norm(edited)
    );

    let (edited, _) = store
        .edit_message(room.id, m.id, "final", &[bob.id], false, alice.id, at(4))
        .await
        .unwrap();
    assert_eq!(edited.mentions, vec![bob.id]);
    assert!(!edited.mentions_room);
    assert_eq!(
        store.edit_history(room.id, m.id).await.unwrap(),
        vec![
            ("first draft".to_owned(), at(3)),
            ("second draft".to_owned(), at(4))
        ]
    );
    let fresh = send(store, room.id, alice.id, "never edited", at(5)).await;
    assert!(
        store
            .edit_history(room.id, fresh.id)
            .await
            .unwrap()
            .is_empty()
    );

    let other = group(store, alice.id, "Other").await;
    not_found(
        store
            .edit_message(other.id, m.id, "hijack", &[], false, alice.id, at(6))
            .await,
    );
    store
        .delete_message(room.id, m.id, alice.id, at(7))
        .await
        .unwrap();
    not_found(
        store
            .edit_message(room.id, m.id, "too late", &[], false, alice.id, at(8))
            .await,
    );
}

pub async fn delete_message_tombstone(store: &dyn Store) {
    let alice = user(store, "shredder").await;
    let bob = user(store, "witness").await;
    let room = group(store, alice.id, "Shred").await;
    join(store, room.id, bob.id, at(1)).await;
    let target = send(store, room.id, bob.id, "original", at(2)).await;
    let mut new = new_msg(room.id, alice.id, "secret @witness @room", at(3));
    new.mentions = vec![bob.id];
    new.mentions_room = true;
    new.reply_to = Some(target.id);
    let (m, _) = send_new(store, &new).await;
    store
        .edit_message(room.id, m.id, "secret v2", &[bob.id], true, alice.id, at(4))
        .await
        .unwrap();
    store
        .set_reaction(room.id, m.id, bob.id, "👍", true, at(5))
        .await
        .unwrap();
    store
        .set_pinned(room.id, m.id, true, alice.id, at(6))
        .await
        .unwrap();

    let ev = store
        .delete_message(room.id, m.id, alice.id, at(7))
        .await
        .unwrap();
    assert_eq!(
        (ev.kind, ev.actor_id, ev.message_id),
        (EventKind::MessageDeleted, alice.id, Some(m.id))
    );
    assert_eq!(ev.seq, last_seq(store, room.id).await);
    let tomb = ev.message.clone().expect("the event carries the tombstone");
    assert_eq!(tomb.deleted_at, Some(at(7)));
    assert_eq!(tomb.body, "");
    assert!(tomb.reactions.is_empty());
    assert!(tomb.mentions.is_empty());
    assert!(!tomb.mentions_room);
    assert_eq!(tomb.reply_to, None);
    assert!(!tomb.pinned);
    assert_eq!((tomb.id, tomb.seq, tomb.sender_id), (m.id, m.seq, alice.id));
    assert_eq!(store.message(room.id, m.id).await.unwrap(), tomb);
    assert!(
        store.edit_history(room.id, m.id).await.unwrap().is_empty(),
        "edit history is removed"
    );
    assert!(store.pinned(room.id).await.unwrap().is_empty());

    not_found(store.delete_message(room.id, m.id, alice.id, at(8)).await);
    let other = group(store, alice.id, "Other").await;
    not_found(
        store
            .delete_message(other.id, target.id, alice.id, at(8))
            .await,
    );
    not_found(
        store
            .delete_message(room.id, MessageId::new(), alice.id, at(8))
            .await,
    );
    // The message replied to is unaffected.
    assert_eq!(
        store.message(room.id, target.id).await.unwrap().body,
        "original"
    );
}

pub async fn reactions(store: &dyn Store) {
    let a = user(store, "reactor_a").await;
    let b = user(store, "reactor_b").await;
    let room = group(store, a.id, "Emoji").await;
    join(store, room.id, b.id, at(1)).await;
    let m = send(store, room.id, a.id, "react to me", at(2)).await;

    let ev = store
        .set_reaction(room.id, m.id, a.id, "👍", true, at(3))
        .await
        .unwrap()
        .expect("added");
    assert_eq!(
        (ev.kind, ev.actor_id, ev.user_id, ev.message_id),
        (EventKind::ReactionAdded, a.id, Some(a.id), Some(m.id))
    );
    assert_eq!(ev.emoji.as_deref(), Some("👍"));
    assert!(ev.message.is_none(), "reaction events carry no message");
    assert_eq!(ev.seq, last_seq(store, room.id).await);
    let seq = ev.seq;
    assert_eq!(
        store
            .set_reaction(room.id, m.id, a.id, "👍", true, at(4))
            .await
            .unwrap(),
        None
    );
    assert_eq!(last_seq(store, room.id).await, seq, "no change, no history");

    store
        .set_reaction(room.id, m.id, b.id, "👍", true, at(5))
        .await
        .unwrap()
        .expect("added");
    store
        .set_reaction(room.id, m.id, a.id, "❤️", true, at(6))
        .await
        .unwrap()
        .expect("added");
    let got = store.message(room.id, m.id).await.unwrap().reactions;
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].emoji.as_str(), got[0].count, got[0].users.clone()),
        ("👍", 2, vec![a.id, b.id])
    );
    assert_eq!(
        (got[1].emoji.as_str(), got[1].count, got[1].users.clone()),
        ("❤️", 1, vec![a.id])
    );

    let ev = store
        .set_reaction(room.id, m.id, a.id, "👍", false, at(7))
        .await
        .unwrap()
        .expect("removed");
    assert_eq!(
        (ev.kind, ev.user_id, ev.emoji.as_deref()),
        (EventKind::ReactionRemoved, Some(a.id), Some("👍"))
    );
    assert_eq!(
        store
            .set_reaction(room.id, m.id, a.id, "👍", false, at(8))
            .await
            .unwrap(),
        None
    );
    let got = store.message(room.id, m.id).await.unwrap().reactions;
    let thumbs = got
        .iter()
        .find(|r| r.emoji == "👍")
        .expect("b's reaction remains");
    assert_eq!((thumbs.count, thumbs.users.clone()), (1, vec![b.id]));

    // Many reactors: the count is exact, the user list stops at 20, oldest first.
    let mut reactors = Vec::new();
    for i in 0..25 {
        let u = user(store, &format!("fan{i:02}")).await;
        join(store, room.id, u.id, at(10)).await;
        store
            .set_reaction(room.id, m.id, u.id, "🎉", true, at(100 + i))
            .await
            .unwrap();
        reactors.push(u.id);
    }
    let got = store.message(room.id, m.id).await.unwrap().reactions;
    let party = got.iter().find(|r| r.emoji == "🎉").expect("party");
    assert_eq!(party.count, 25);
    assert_eq!(party.users, reactors[..20].to_vec());
    // Loaded pages carry the same reactions.
    let page = store.messages(room.id, Page::Latest, 10).await.unwrap();
    assert_eq!(
        page.iter()
            .find(|x| x.id == m.id)
            .map(|x| x.reactions.clone()),
        Some(got)
    );

    let other = group(store, a.id, "Other").await;
    not_found(
        store
            .set_reaction(other.id, m.id, a.id, "👍", true, at(200))
            .await,
    );
    store
        .delete_message(room.id, m.id, a.id, at(201))
        .await
        .unwrap();
    not_found(
        store
            .set_reaction(room.id, m.id, b.id, "👍", true, at(202))
            .await,
    );
    not_found(
        store
            .set_reaction(room.id, m.id, b.id, "👍", false, at(202))
            .await,
    );
}

pub async fn pins(store: &dyn Store) {
    let u = user(store, "pinner").await;
    let room = group(store, u.id, "Board").await;
    let m1 = send(store, room.id, u.id, "first", at(1)).await;
    let m2 = send(store, room.id, u.id, "second", at(2)).await;

    let ev = store
        .set_pinned(room.id, m1.id, true, u.id, at(3))
        .await
        .unwrap()
        .expect("pinned");
    assert_eq!(
        (ev.kind, ev.actor_id, ev.message_id),
        (EventKind::MessagePinned, u.id, Some(m1.id))
    );
    assert!(ev.message.as_ref().is_some_and(|m| m.pinned));
    assert_eq!(
        store
            .set_pinned(room.id, m1.id, true, u.id, at(4))
            .await
            .unwrap(),
        None
    );
    store
        .set_pinned(room.id, m2.id, true, u.id, at(5))
        .await
        .unwrap()
        .expect("pinned");
    let ids = |v: Vec<Message>| v.iter().map(|m| m.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.pinned(room.id).await.unwrap()),
        vec![m2.id, m1.id],
        "most recently created first"
    );
    assert!(store.message(room.id, m1.id).await.unwrap().pinned);

    let ev = store
        .set_pinned(room.id, m1.id, false, u.id, at(6))
        .await
        .unwrap()
        .expect("unpinned");
    assert_eq!(ev.kind, EventKind::MessageUnpinned);
    assert!(ev.message.as_ref().is_some_and(|m| !m.pinned));
    assert_eq!(
        store
            .set_pinned(room.id, m1.id, false, u.id, at(7))
            .await
            .unwrap(),
        None
    );
    assert_eq!(ids(store.pinned(room.id).await.unwrap()), vec![m2.id]);

    // The cap.
    for i in 1..MAX_PINS {
        let m = send(store, room.id, u.id, &format!("pin {i}"), at(10 + i)).await;
        store
            .set_pinned(room.id, m.id, true, u.id, at(10 + i))
            .await
            .unwrap()
            .expect("pinned");
    }
    assert_eq!(store.pinned(room.id).await.unwrap().len() as i64, MAX_PINS);
    let seq = last_seq(store, room.id).await;
    conflict(
        store.set_pinned(room.id, m1.id, true, u.id, at(500)).await,
        "too_many_pins",
    );
    assert_eq!(last_seq(store, room.id).await, seq);
    // Unpinning makes room again.
    store
        .set_pinned(room.id, m2.id, false, u.id, at(501))
        .await
        .unwrap()
        .expect("unpinned");
    store
        .set_pinned(room.id, m1.id, true, u.id, at(502))
        .await
        .unwrap()
        .expect("pinned");

    let other = group(store, u.id, "Other").await;
    not_found(store.set_pinned(other.id, m2.id, true, u.id, at(503)).await);
    store
        .delete_message(room.id, m2.id, u.id, at(504))
        .await
        .unwrap();
    not_found(store.set_pinned(room.id, m2.id, true, u.id, at(505)).await);
}

// --- history, read state -------------------------------------------------------------------------

pub async fn events_feed(store: &dyn Store) {
    let alice = user(store, "narrator").await;
    let bob = user(store, "sidekick").await;
    let carol = user(store, "extra").await;
    let room = group(store, alice.id, "Saga").await;
    join(store, room.id, bob.id, at(1)).await; // 2
    let m = send(store, room.id, bob.id, "once upon a time", at(2)).await; // 3
    store
        .edit_message(
            room.id,
            m.id,
            "once upon a midnight",
            &[],
            false,
            bob.id,
            at(3),
        )
        .await
        .unwrap(); // 4
    store
        .set_reaction(room.id, m.id, alice.id, "👍", true, at(4))
        .await
        .unwrap(); // 5
    store
        .set_reaction(room.id, m.id, alice.id, "👍", false, at(5))
        .await
        .unwrap(); // 6
    store
        .set_pinned(room.id, m.id, true, alice.id, at(6))
        .await
        .unwrap(); // 7
    store
        .set_pinned(room.id, m.id, false, alice.id, at(7))
        .await
        .unwrap(); // 8
    let patch = RoomPatch {
        topic: Some(Some("dreary".into())),
        ..RoomPatch::default()
    };
    store
        .update_room(room.id, &patch, alice.id, at(8))
        .await
        .unwrap(); // 9
    store
        .set_role(room.id, bob.id, Role::Admin, alice.id, at(9))
        .await
        .unwrap(); // 10
    join(store, room.id, carol.id, at(10)).await; // 11
    store
        .remove_member(room.id, carol.id, bob.id, at(11))
        .await
        .unwrap(); // 12
    store
        .ban(room.id, carol.id, alice.id, at(12))
        .await
        .unwrap(); // 13
    let kept = send(store, room.id, alice.id, "the end", at(13)).await; // 14
    store
        .delete_message(room.id, m.id, alice.id, at(14))
        .await
        .unwrap(); // 15

    let events = all_events(store, room.id).await;
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=15).collect::<Vec<_>>()
    );
    assert_eq!(last_seq(store, room.id).await, 15);
    use EventKind::*;
    assert_eq!(
        events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![
            MemberJoined,
            MemberJoined,
            MessageCreated,
            MessageEdited,
            ReactionAdded,
            ReactionRemoved,
            MessagePinned,
            MessageUnpinned,
            RoomUpdated,
            MemberRoleChanged,
            MemberJoined,
            MemberKicked,
            MemberBanned,
            MessageCreated,
            MessageDeleted,
        ]
    );
    assert!(events.iter().all(|e| e.room_id == room.id));
    assert_eq!(
        events[8].changes.as_ref().map(|c| c.topic.clone()),
        Some(Some(Some("dreary".into())))
    );
    assert_eq!(
        (events[9].user_id, events[9].role),
        (Some(bob.id), Some(Role::Admin))
    );
    assert_eq!(
        (events[11].user_id, events[11].actor_id),
        (Some(carol.id), bob.id)
    );
    assert_eq!(events[12].user_id, Some(carol.id));
    assert_eq!(events[1].role, Some(Role::Member));

    // Message events show the message as it is now: the deleted text never comes back.
    for e in &events {
        if e.kind.is_message_event() {
            assert!(
                e.message_id.is_some(),
                "{:?} carries its message id",
                e.kind
            );
        }
        match e.kind {
            ReactionAdded | ReactionRemoved => {
                assert!(e.message.is_none());
                assert_eq!(
                    (e.user_id, e.emoji.as_deref()),
                    (Some(alice.id), Some("👍"))
                );
            }
            MessageCreated | MessageEdited | MessageDeleted | MessagePinned | MessageUnpinned => {
                let msg = e
                    .message
                    .as_ref()
                    .expect("message events carry the message");
                assert_eq!(Some(msg.id), e.message_id);
                if msg.id == m.id {
                    assert_eq!(msg.body, "", "{:?} shows the tombstone", e.kind);
                    assert!(msg.deleted_at.is_some());
                } else {
                    assert_eq!(msg.body, "the end");
                }
            }
            _ => assert!(e.message.is_none()),
        }
    }
    assert_eq!(events[13].message.clone().map(norm), Some(norm(kept)));

    // Catch-up from any point: exactly what follows, in order, in pages.
    for after in [0, 3, 7, 14, 15, 99] {
        let page = store.events(room.id, after, 100).await.unwrap();
        assert!(!page.has_more);
        assert_eq!(
            page.events,
            events
                .iter()
                .filter(|e| e.seq > after)
                .cloned()
                .collect::<Vec<_>>()
        );
    }
    let page = store.events(room.id, 0, 4).await.unwrap();
    assert!(page.has_more);
    assert_eq!(
        page.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    let page = store.events(room.id, 11, 4).await.unwrap();
    assert_eq!(
        page.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![12, 13, 14, 15]
    );
    assert!(!page.has_more, "nothing follows the last one");
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = store.events(room.id, after, 4).await.unwrap();
        after = page.events.last().map_or(after, |e| e.seq);
        paged.extend(page.events);
        if !page.has_more {
            break;
        }
    }
    assert_eq!(paged, events);
    // Other rooms' histories are separate.
    let other = group(store, alice.id, "Other").await;
    assert_eq!(all_events(store, other.id).await.len(), 1);
}

pub async fn mark_read_forward_only(store: &dyn Store) {
    let a = user(store, "reader_a").await;
    let b = user(store, "reader_b").await;
    let outsider = user(store, "not_in").await;
    let room = group(store, a.id, "Reading").await;
    join(store, room.id, b.id, at(1)).await; // 2
    for i in 0..5 {
        send(store, room.id, a.id, &format!("line {i}"), at(2 + i)).await; // 3..=7
    }
    assert_eq!(
        store.member(room.id, b.id).await.unwrap().unwrap().read_seq,
        2
    );
    assert_eq!(store.mark_read(room.id, b.id, 5).await.unwrap(), 5);
    assert_eq!(
        store.member(room.id, b.id).await.unwrap().unwrap().read_seq,
        5
    );
    assert_eq!(
        store.mark_read(room.id, b.id, 3).await.unwrap(),
        5,
        "never backwards"
    );
    assert_eq!(
        store.mark_read(room.id, b.id, 1_000).await.unwrap(),
        7,
        "clamped to last_seq"
    );
    assert_eq!(store.mark_read(room.id, b.id, i64::MAX).await.unwrap(), 7);
    assert_eq!(
        store.member(room.id, b.id).await.unwrap().unwrap().read_seq,
        7
    );
    assert_eq!(last_seq(store, room.id).await, 7, "reading is not history");
    not_found(store.mark_read(room.id, outsider.id, 3).await);
}

pub async fn room_list_unread_mentions(store: &dyn Store) {
    let alice = user(store, "talker").await;
    let bob = user(store, "listener").await;
    let carol = user(store, "newcomer").await;
    let room = group(store, alice.id, "Unread").await;
    join(store, room.id, bob.id, at(1)).await; // 2
    send(store, room.id, alice.id, "plain", at(2)).await; // 3
    let mut n = new_msg(room.id, alice.id, "hey @listener", at(3)); // 4
    n.mentions = vec![bob.id];
    send_new(store, &n).await;
    let mut n = new_msg(room.id, alice.id, "@room listen", at(4)); // 5
    n.mentions_room = true;
    send_new(store, &n).await;
    let mut n = new_msg(room.id, bob.id, "@talker @room mine", at(5)); // 6
    n.mentions = vec![alice.id, bob.id];
    n.mentions_room = true;
    send_new(store, &n).await;
    let mut n = new_msg(room.id, alice.id, "oops @listener", at(6)); // 7
    n.mentions = vec![bob.id];
    let (oops, _) = send_new(store, &n).await;
    store
        .delete_message(room.id, oops.id, alice.id, at(7))
        .await
        .unwrap(); // 8

    let summary = |list: Vec<crate::room::RoomSummary>| {
        list.into_iter()
            .find(|s| s.room.id == room.id)
            .expect("room listed")
    };
    let s = summary(store.rooms_for_user(bob.id).await.unwrap());
    assert_eq!(
        (s.read_seq, s.unread, s.mentions),
        (2, 3, 2),
        "bob: own and deleted messages do not count"
    );
    assert_eq!(s.my_role, Role::Member);
    let s = summary(store.rooms_for_user(alice.id).await.unwrap());
    assert_eq!(
        (s.read_seq, s.unread, s.mentions),
        (1, 1, 1),
        "alice: bob's message mentions her and @room"
    );

    join(store, room.id, carol.id, at(8)).await;
    let s = summary(store.rooms_for_user(carol.id).await.unwrap());
    assert_eq!(
        (s.unread, s.mentions),
        (0, 0),
        "history before joining is not unread"
    );

    store.mark_read(room.id, bob.id, 4).await.unwrap();
    let s = summary(store.rooms_for_user(bob.id).await.unwrap());
    assert_eq!((s.unread, s.mentions), (1, 1));
    let last = last_seq(store, room.id).await;
    store.mark_read(room.id, bob.id, last).await.unwrap();
    let s = summary(store.rooms_for_user(bob.id).await.unwrap());
    assert_eq!((s.read_seq, s.unread, s.mentions), (last, 0, 0));
}

pub async fn unread_count_capped(store: &dyn Store) {
    let alice = user(store, "firehose").await;
    let bob = user(store, "drinker").await;
    let room = group(store, alice.id, "Flood").await;
    join(store, room.id, bob.id, at(1)).await;
    let total = UNREAD_CAP as usize + 10;
    let msgs: Vec<NewMessage> = (0..total)
        .map(|i| {
            let mut m = new_msg(room.id, alice.id, &format!("flood {i}"), at(2));
            m.mentions_room = true;
            m
        })
        .collect();
    for chunk in msgs.chunks(100) {
        for r in join_all(chunk.iter().map(|m| store.send_message(m)).collect()).await {
            r.expect("send");
        }
    }
    let s = store.rooms_for_user(bob.id).await.unwrap().remove(0);
    assert_eq!(s.unread, UNREAD_CAP);
    assert_eq!(s.mentions, UNREAD_CAP);
}

pub async fn room_list_order_and_last(store: &dyn Store) {
    let me = user(store, "lister").await;
    let peer = user(store, "pal").await;
    let a = group_at(store, me.id, "Alpha", at(1)).await;
    let b = group_at(store, me.id, "Bravo", at(2)).await;
    let empty = group_at(store, me.id, "Empty", at(3)).await;
    let (dm, _, _) = store
        .open_dm(RoomId::new(), me.id, peer.id, at(4))
        .await
        .unwrap();
    send(store, a.id, me.id, "a1", at(10)).await;
    send(store, dm.id, peer.id, "dm1", at(20)).await;
    let b1 = send(store, b.id, me.id, "b1", at(30)).await;
    let b2 = send(store, b.id, me.id, "b2", at(40)).await;

    let list = store.rooms_for_user(me.id).await.unwrap();
    let order: Vec<RoomId> = list.iter().map(|s| s.room.id).collect();
    assert_eq!(
        order,
        vec![b.id, dm.id, a.id, empty.id],
        "most recent activity first"
    );
    assert_eq!(list[0].last_message.as_ref().map(|m| m.id), Some(b2.id));
    assert_eq!(
        list[1].last_message.as_ref().map(|m| m.body.as_str()),
        Some("dm1")
    );
    assert_eq!(list[1].dm_peer, Some(peer.id));
    assert_eq!(list[1].room.kind, RoomKind::Dm);
    assert_eq!((list[1].unread, list[1].mentions), (1, 0));
    assert_eq!(list[0].dm_peer, None);
    assert_eq!(list[0].my_role, Role::Owner);
    assert_eq!(list[3].last_message, None);

    // The last message skips tombstones; the deletion itself is activity.
    store
        .delete_message(b.id, b2.id, me.id, at(50))
        .await
        .unwrap();
    send(store, a.id, me.id, "a2", at(45)).await;
    let list = store.rooms_for_user(me.id).await.unwrap();
    assert_eq!(
        list.iter().map(|s| s.room.id).collect::<Vec<_>>(),
        vec![b.id, a.id, dm.id, empty.id]
    );
    assert_eq!(list[0].last_message.as_ref().map(|m| m.id), Some(b1.id));
    assert_eq!(
        list[1].last_message.as_ref().map(|m| m.body.as_str()),
        Some("a2")
    );
    assert_eq!(list[0].room.last_activity_at, at(50));

    // The peer sees only the DM.
    let theirs = store.rooms_for_user(peer.id).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].dm_peer, Some(me.id));
    assert_eq!(theirs[0].unread, 0, "own messages are never unread");
}

// --- search --------------------------------------------------------------------------------------

pub async fn search_messages(store: &dyn Store) {
    let alice = user(store, "searcher").await;
    let bob = user(store, "colleague").await;
    let eve = user(store, "snoop").await;
    let r1 = group(store, alice.id, "Kitchen").await;
    join(store, r1.id, bob.id, at(1)).await;
    let r2 = group(store, alice.id, "Pantry").await;
    let r3 = group(store, eve.id, "Secret").await;
    let r4 = group(store, bob.id, "Left").await;
    join(store, r4.id, alice.id, at(1)).await;

    let m1 = send(
        store,
        r1.id,
        bob.id,
        "I like banana bread with walnuts",
        at(2),
    )
    .await;
    let m2 = send(store, r1.id, alice.id, "banana banana banana", at(3)).await;
    send(store, r1.id, alice.id, "apple pie is fine too", at(4)).await;
    let m4 = send(store, r1.id, alice.id, "banana split recipe", at(5)).await;
    store
        .delete_message(r1.id, m4.id, alice.id, at(6))
        .await
        .unwrap();
    let m5 = send(store, r2.id, alice.id, "a banana in the pantry", at(7)).await;
    send(store, r3.id, eve.id, "eve hides a banana here", at(8)).await;
    let m7 = send(store, r4.id, bob.id, "banana left behind", at(9)).await;
    store
        .remove_member(r4.id, alice.id, alice.id, at(10))
        .await
        .unwrap();

    let hits = store.search(alice.id, "banana", None, 20).await.unwrap();
    let mut ids: Vec<MessageId> = hits.iter().map(|h| h.message.id).collect();
    ids.sort();
    let mut want = vec![m1.id, m2.id, m5.id];
    want.sort();
    assert_eq!(
        ids, want,
        "live messages of rooms alice is in, nothing else"
    );
    assert!(
        hits.windows(2).all(|w| w[0].rank >= w[1].rank),
        "best first"
    );
    assert_eq!(hits[0].message.id, m2.id, "the most relevant first");
    let marked = format!("{HIGHLIGHT_START}banana{HIGHLIGHT_END}");
    for h in &hits {
        assert!(
            h.snippet.contains(&marked),
            "snippet {:?} highlights the match",
            h.snippet
        );
        assert!(h.rank.is_finite());
    }
    let hit1 = hits.iter().find(|h| h.message.id == m1.id).expect("m1");
    assert_eq!(
        norm(hit1.message.clone()),
        norm(store.message(r1.id, m1.id).await.unwrap())
    );

    // Case-insensitive; several words must all match.
    let ids =
        |hits: Vec<crate::store::SearchHit>| hits.iter().map(|h| h.message.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .search(alice.id, "BANANA Bread", None, 20)
            .await
            .unwrap()),
        vec![m1.id]
    );
    assert_eq!(
        ids(store
            .search(alice.id, "banana", Some(r2.id), 20)
            .await
            .unwrap()),
        vec![m5.id]
    );
    assert!(
        store
            .search(alice.id, "banana", Some(r3.id), 20)
            .await
            .unwrap()
            .is_empty(),
        "not a member"
    );
    assert!(
        store
            .search(alice.id, "banana", Some(r4.id), 20)
            .await
            .unwrap()
            .is_empty(),
        "left the room"
    );
    assert_eq!(
        store
            .search(alice.id, "banana", None, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .search(alice.id, "split", None, 20)
            .await
            .unwrap()
            .is_empty(),
        "deleted messages are not found"
    );
    assert!(
        store
            .search(alice.id, "durian", None, 20)
            .await
            .unwrap()
            .is_empty()
    );

    // Bob is still in r4; eve sees only her own room.
    let bob_hits = ids(store.search(bob.id, "banana", None, 20).await.unwrap());
    assert!(bob_hits.contains(&m7.id) && bob_hits.contains(&m1.id) && !bob_hits.contains(&m5.id));
    assert_eq!(
        store
            .search(eve.id, "banana", None, 20)
            .await
            .unwrap()
            .len(),
        1
    );

    // Edits are searchable by their new text only.
    store
        .edit_message(
            r1.id,
            m1.id,
            "I like mango bread",
            &[],
            false,
            bob.id,
            at(11),
        )
        .await
        .unwrap();
    assert_eq!(
        ids(store.search(alice.id, "mango", None, 20).await.unwrap()),
        vec![m1.id]
    );
    assert!(!ids(store.search(alice.id, "banana", None, 20).await.unwrap()).contains(&m1.id));
}

/// The last word of a query matches as a prefix (search-as-you-type).
pub async fn search_prefix(store: &dyn Store) {
    let u = user(store, "typist").await;
    let room = group(store, u.id, "Typing").await;
    let m = send(store, room.id, u.id, "wonderful weather tomorrow", at(1)).await;
    send(store, room.id, u.id, "nothing to see", at(2)).await;
    let hits = store.search(u.id, "wonder", None, 10).await.unwrap();
    assert_eq!(
        hits.iter().map(|h| h.message.id).collect::<Vec<_>>(),
        vec![m.id]
    );
    let hits = store.search(u.id, "weather tomor", None, 10).await.unwrap();
    assert_eq!(
        hits.iter().map(|h| h.message.id).collect::<Vec<_>>(),
        vec![m.id]
    );
}

/// Whatever the user types, search answers (possibly with nothing), never an error.
pub async fn search_hostile_queries(store: &dyn Store) {
    let u = user(store, "fuzzer").await;
    let room = group(store, u.id, "Fuzz").await;
    send(
        store,
        room.id,
        u.id,
        "banana \"quoted\" NEAR(x y) stars* and OR 1=1 --",
        at(1),
    )
    .await;
    for q in hostile_queries() {
        let shown: String = q.chars().take(40).collect();
        let hits = store.search(u.id, &q, None, 10).await;
        assert!(hits.is_ok(), "query {shown:?} failed: {hits:?}");
        let hits = store.search(u.id, &q, Some(room.id), 10).await;
        assert!(hits.is_ok(), "query {shown:?} (one room) failed: {hits:?}");
    }
    assert!(store.search(u.id, "🎉", None, 10).await.unwrap().is_empty());
    assert!(store.search(u.id, "", None, 10).await.unwrap().is_empty());
    assert_eq!(
        store
            .search(u.id, "\"banana\"", None, 10)
            .await
            .unwrap()
            .len(),
        1,
        "quotes are not syntax"
    );
}
