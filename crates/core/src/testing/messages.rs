//! Conformance cases: paging, edits, deletes, reactions and pins.
//!
//! Only the contract is asserted (the `Store` doc comments and the shared schema rules): no
//! adapter's incidental orderings. Where two rows could tie on a timestamp, the cases give them
//! distinct times; where the contract gives a list no order (mentions), it is compared sorted.

use super::accounts::user;
use super::support::{
    at, conflict, group, join, last_seq, new_msg, norm, not_found, send, send_new,
};
use crate::event::EventKind;
use crate::ids::MessageId;
use crate::message::{MAX_PINS, Message, Page};
use crate::store::Store;

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
        .delete_message(room.id, victim.id, u.id, None, at(20))
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
        .delete_message(room.id, m.id, alice.id, None, at(7))
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
        .delete_message(room.id, m.id, alice.id, None, at(7))
        .await
        .unwrap();
    assert_eq!(
        (ev.kind, ev.actor_id, ev.message_id),
        (EventKind::MessageDeleted, alice.id, Some(m.id))
    );
    assert_eq!(ev.seq, last_seq(store, room.id).await);
    let tomb = ev.message.clone().expect("the event carries the tombstone");
    assert_eq!(tomb.deleted_at, Some(at(7)));
    assert_eq!(tomb.deleted_by, Some(alice.id), "deleted by its sender");
    assert_eq!(m.deleted_by, None, "a standing message names no deleter");
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

    not_found(
        store
            .delete_message(room.id, m.id, alice.id, None, at(8))
            .await,
    );
    let other = group(store, alice.id, "Other").await;
    not_found(
        store
            .delete_message(other.id, target.id, alice.id, None, at(8))
            .await,
    );
    not_found(
        store
            .delete_message(room.id, MessageId::new(), alice.id, None, at(8))
            .await,
    );
    // The message replied to is unaffected.
    assert_eq!(
        store.message(room.id, target.id).await.unwrap().body,
        "original"
    );
    // Removed by someone else (an admin): the tombstone says who, in history too.
    store
        .delete_message(room.id, target.id, alice.id, None, at(9))
        .await
        .unwrap();
    let removed = store.message(room.id, target.id).await.unwrap();
    assert_eq!(
        (removed.sender_id, removed.deleted_by),
        (bob.id, Some(alice.id))
    );
    let page = store
        .messages(room.id, crate::message::Page::Latest, 10)
        .await
        .unwrap();
    assert!(
        page.iter()
            .any(|m| m.id == target.id && m.deleted_by == Some(alice.id))
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
        .delete_message(room.id, m.id, a.id, None, at(201))
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
        .delete_message(room.id, m2.id, u.id, None, at(504))
        .await
        .unwrap();
    not_found(store.set_pinned(room.id, m2.id, true, u.id, at(505)).await);
}
