//! Helpers shared by the conformance cases about rooms, messages, history and search.

use super::accounts::t0;
use crate::error::{StoreError, StoreResult};
use crate::event::RoomEvent;
use crate::ids::{MessageId, RoomId, UserId};
use crate::message::{Message, NewMessage};
use crate::room::{Member, NewGroup, Role, Room};
use crate::store::{SendOutcome, Store};
use chrono::{DateTime, Duration, Utc};
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// Generous member limit for cases that are not about it.
pub(super) const MAX_MEMBERS: u32 = 1000;

// --- helpers -------------------------------------------------------------------------------------

pub(super) fn at(secs: i64) -> DateTime<Utc> {
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
pub(super) fn not_found<T: Debug>(r: StoreResult<T>) {
    match r {
        Err(StoreError::NotFound) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[track_caller]
pub(super) fn conflict<T: Debug>(r: StoreResult<T>, name: &str) {
    match r {
        Err(StoreError::Conflict(n)) if n == name => {}
        other => panic!("expected Conflict({name:?}), got {other:?}"),
    }
}

pub(super) async fn group_at(
    store: &dyn Store,
    owner: UserId,
    name: &str,
    now: DateTime<Utc>,
) -> Room {
    let new = NewGroup {
        id: RoomId::new(),
        name: name.into(),
        topic: None,
        owner,
        now,
    };
    store.create_group(&new).await.expect("create group").0
}

pub(super) async fn group(store: &dyn Store, owner: UserId, name: &str) -> Room {
    group_at(store, owner, name, t0()).await
}

pub(super) async fn join(
    store: &dyn Store,
    room: RoomId,
    user: UserId,
    now: DateTime<Utc>,
) -> Member {
    store
        .add_member(room, user, Role::Member, user, MAX_MEMBERS, now)
        .await
        .expect("add member")
        .0
}

pub(super) fn new_msg(room: RoomId, sender: UserId, body: &str, now: DateTime<Utc>) -> NewMessage {
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

pub(super) async fn send_new(store: &dyn Store, new: &NewMessage) -> (Message, RoomEvent) {
    match store.send_message(new).await.expect("send") {
        SendOutcome::Created(m, e) => (m, e),
        other => panic!("expected a new message, got {other:?}"),
    }
}

pub(super) async fn send(
    store: &dyn Store,
    room: RoomId,
    sender: UserId,
    body: &str,
    now: DateTime<Utc>,
) -> Message {
    send_new(store, &new_msg(room, sender, body, now)).await.0
}

/// Mentions are a set: compare them sorted.
pub(super) fn norm(mut m: Message) -> Message {
    m.mentions.sort();
    m
}

pub(super) fn norm_ev(mut e: RoomEvent) -> RoomEvent {
    e.message = e.message.map(norm);
    e
}

pub(super) async fn all_events(store: &dyn Store, room: RoomId) -> Vec<RoomEvent> {
    let page = store.events(room, 0, 10_000).await.expect("events");
    assert!(!page.has_more);
    page.events
}

pub(super) async fn last_seq(store: &dyn Store, room: RoomId) -> i64 {
    store.room(room).await.expect("room").last_seq
}
