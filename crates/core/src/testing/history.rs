//! Conformance cases: the event feed, read markers, and the room list's unread state.
//!
//! Only the contract is asserted (the `Store` doc comments and the shared schema rules): no
//! adapter's incidental orderings. Where two rows could tie on a timestamp, the cases give them
//! distinct times; where the contract gives a list no order (mentions), it is compared sorted.

use super::accounts::user;
use super::support::{
    all_events, at, group, group_at, join, join_all, last_seq, new_msg, norm, not_found, send,
    send_new,
};
use crate::event::EventKind;
use crate::ids::RoomId;
use crate::message::NewMessage;
use crate::room::{Role, RoomKind, RoomPatch, UNREAD_CAP};
use crate::store::Store;

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
        .remove_member(room.id, carol.id, bob.id, None, at(11))
        .await
        .unwrap(); // 12
    store
        .ban(room.id, carol.id, alice.id, None, at(12))
        .await
        .unwrap(); // 13
    let kept = send(store, room.id, alice.id, "the end", at(13)).await; // 14
    store
        .delete_message(room.id, m.id, alice.id, None, at(14))
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
        .delete_message(room.id, oops.id, alice.id, None, at(7))
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
        .delete_message(b.id, b2.id, me.id, None, at(50))
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
