//! Conformance cases: sending messages (idempotency, rejections, concurrency).
//!
//! Only the contract is asserted (the `Store` doc comments and the shared schema rules): no
//! adapter's incidental orderings. Where two rows could tie on a timestamp, the cases give them
//! distinct times; where the contract gives a list no order (mentions), it is compared sorted.

use super::accounts::user;
use super::support::{
    all_events, at, group, join, join_all, last_seq, new_msg, norm, norm_ev, not_found, send,
    send_new,
};
use crate::error::StoreError;
use crate::event::EventKind;
use crate::ids::{MediaId, MessageId};
use crate::media::{Attachment, MediaKind};
use crate::message::{Forwarded, Message, NewMessage, Page};
use crate::store::{SendOutcome, Store};

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
    assert!(
        !store
            .client_id_used(alice.id, &first.client_id)
            .await
            .unwrap()
    );
    let (m, _) = send_new(store, &first).await;
    let seq = last_seq(store, room.id).await;
    assert!(
        store
            .client_id_used(alice.id, &first.client_id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .client_id_used(bob.id, &first.client_id)
            .await
            .unwrap(),
        "per sender"
    );

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
        .delete_message(room.id, gone.id, alice.id, None, at(3))
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
        .remove_member(room.id, bob.id, bob.id, None, at(7))
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

/// Sends `msgs` together (`join_all` polls each future first in index order) into `room`, whose
/// last seq was `base`: the ones in `refused` must fail as `refused_ok` says, every other one
/// is created with its own body, and the created ones take the seqs after `base`, gap-free, in
/// submission order where the store promises it. Events follow the same seqs.
async fn send_together_expecting(
    store: &dyn Store,
    room: crate::ids::RoomId,
    base: i64,
    msgs: &[NewMessage],
    refused: &[usize],
    refused_ok: impl Fn(&crate::error::StoreResult<SendOutcome>) -> bool,
) {
    let results = join_all(msgs.iter().map(|m| store.send_message(m)).collect()).await;
    let mut seqs = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        if refused.contains(&i) {
            assert!(refused_ok(&r), "{i}: {r:?}");
            continue;
        }
        match r {
            Ok(SendOutcome::Created(m, e)) => {
                assert_eq!((m.seq, &m.body), (e.seq, &msgs[i].body));
                seqs.push(m.seq);
            }
            other => panic!("{i}: expected Created, got {other:?}"),
        }
    }
    let mut sorted = seqs.clone();
    sorted.sort();
    let committed = (msgs.len() - refused.len()) as i64;
    assert_eq!(sorted, (base + 1..=base + committed).collect::<Vec<_>>());
    if store.commits_sends_in_order() {
        assert_eq!(
            seqs, sorted,
            "seqs follow the order the sends were submitted"
        );
    }
    assert_eq!(last_seq(store, room).await, base + committed);
    let page = store.messages(room, Page::Latest, 100).await.unwrap();
    assert_eq!(page.len(), msgs.len() - refused.len());
    let events = all_events(store, room).await;
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=base + committed).collect::<Vec<_>>()
    );
}

/// Sends committed together (SQLite: one group transaction) fail alone: a non-member's send
/// and a reply to a missing message are refused, every other one commits, gap-free. A store
/// that says it commits sends in order gives them seqs in the order they were first polled.
pub async fn concurrent_sends_fail_alone(store: &dyn Store) {
    const N: usize = 30;
    let owner = user(store, "batcher").await;
    let outsider = user(store, "outsider").await;
    let room = group(store, owner.id, "Batch").await;
    let base = last_seq(store, room.id).await;
    let msgs: Vec<NewMessage> = (0..N)
        .map(|i| {
            let mut m = new_msg(room.id, owner.id, &format!("b{i}"), at(10));
            match i {
                7 => m.sender_id = outsider.id,
                13 => m.reply_to = Some(MessageId::new()),
                _ => {}
            }
            m
        })
        .collect();
    send_together_expecting(store, room.id, base, &msgs, &[7, 13], |r| {
        matches!(r, Err(StoreError::NotFound))
    })
    .await;
}

/// A send that breaks inside the write itself (it names an upload that does not exist, which
/// only the attachment insert finds out) fails alone too: the sends committed with it — before
/// and after it in the queue — commit, gap-free and, where the store promises it, in order.
/// (PostgreSQL's batch fails as a whole here and falls back to one send per transaction.)
pub async fn send_failing_mid_batch_fails_alone(store: &dyn Store) {
    const N: usize = 20;
    const BAD: usize = 9;
    let owner = user(store, "midbatch").await;
    let room = group(store, owner.id, "Mid batch").await;
    let base = last_seq(store, room.id).await;
    let msgs: Vec<NewMessage> = (0..N)
        .map(|i| {
            let mut m = new_msg(room.id, owner.id, &format!("m{i}"), at(10));
            if i == BAD {
                m.attachments = vec![Attachment {
                    id: MediaId::new(),
                    kind: MediaKind::File,
                    mime: "text/plain".into(),
                    name: "ghost.txt".into(),
                    size: 1,
                    width: None,
                    height: None,
                    blurhash: None,
                    duration_ms: None,
                }];
            }
            m
        })
        .collect();
    // The send naming a missing upload fails (how depends on the store); no attachment is
    // linked to any message.
    send_together_expecting(store, room.id, base, &msgs, &[BAD], |r| r.is_err()).await;
    let page = store.messages(room.id, Page::Latest, 100).await.unwrap();
    assert!(page.iter().all(|m| m.attachments.is_empty()));
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
