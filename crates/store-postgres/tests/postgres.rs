// Over 600 lines: PostgreSQL-only cases (locks, races, pool, search syntax) on one set of fixtures.
//! PostgreSQL-specific behaviour beyond the shared conformance suite.

use chrono::Duration;
use justus_core::event::EventKind;
use justus_core::message::{NewMessage, Page};
use justus_core::room::{NewGroup, Role, Room};
use justus_core::session::{NewSession, RefreshOutcome, RefreshPolicy, TokenHash};
use justus_core::store::prelude::*;
use justus_core::store::{HIGHLIGHT_END, HIGHLIGHT_START, SendOutcome};
use justus_core::testing::{t0, user};
use justus_core::user::User;
use justus_core::{MessageId, RoomId, SessionId, StoreError, UserId};
use justus_store_postgres::PgStore;
use justus_store_postgres::testing::fresh_database_url;
use std::sync::Arc;

/// A store on a fresh database, or `None` (skip) when there is no server and not on CI.
async fn fresh() -> Option<PgStore> {
    fresh_with(5).await
}

async fn fresh_with(max_connections: u32) -> Option<PgStore> {
    let url = fresh_database_url().await?;
    Some(
        PgStore::connect(&url, max_connections)
            .await
            .expect("connect to the test database"),
    )
}

#[tokio::test]
async fn unreachable_server_is_unavailable() {
    match PgStore::connect("postgres://postgres@127.0.0.1:1/postgres", 1).await {
        Err(StoreError::Unavailable(msg)) => {
            assert!(msg.contains("cannot connect to PostgreSQL"), "{msg}")
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn pool_stats_are_reported() {
    let Some(store) = fresh().await else { return };
    store.ping().await.unwrap();
    let stats = store.pool_stats().expect("PgStore has a pool");
    assert!(stats.size >= 1 && stats.idle <= stats.size, "{stats:?}");
}

/// A retry of the previous token racing the use of its successor: both refreshes take the
/// family lock first, so they serialise (no deadlock, no error) and exactly one rotates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predecessor_and_successor_racing_serialise() {
    let Some(store) = fresh().await else { return };
    let u = user(&store, "racer").await;
    let p = RefreshPolicy::default();
    let now = t0() + Duration::minutes(1);
    for i in 0..20u8 {
        let h = |k: u8| TokenHash([i * 4 + k; 32]);
        let session = NewSession {
            id: SessionId::new(),
            user_id: u.id,
            token: h(0),
            now: t0(),
            expires_at: t0() + Duration::days(30),
            user_agent: None,
            ip: None,
        };
        store.create_session(&session).await.unwrap();
        assert!(matches!(
            store.refresh(&h(0), &h(1), now, &p).await.unwrap(),
            RefreshOutcome::Rotated(_)
        ));
        let [k0, k1, k2, k3] = [h(0), h(1), h(2), h(3)];
        let (a, b) = tokio::join!(
            store.refresh(&k0, &k2, now, &p),
            store.refresh(&k1, &k3, now, &p)
        );
        let outcomes = [
            a.expect("retry of the previous token"),
            b.expect("use of the successor"),
        ];
        let rotated = outcomes
            .iter()
            .filter(|o| matches!(o, RefreshOutcome::Rotated(_)))
            .count();
        let reused = outcomes
            .iter()
            .filter(|o| matches!(o, RefreshOutcome::ReuseDetected { .. }))
            .count();
        assert_eq!((rotated, reused), (1, 1), "{outcomes:?}");
    }
}

// --- conversations ------------------------------------------------------------------------------

async fn group(store: &PgStore, owner: &User, name: &str) -> Room {
    let (room, ev) = store
        .create_group(&NewGroup {
            id: RoomId::new(),
            name: name.into(),
            topic: None,
            owner: owner.id,
            now: t0(),
        })
        .await
        .unwrap();
    assert_eq!(ev.seq, 1);
    room
}

fn new_message(room: RoomId, sender: UserId, client_id: &str, body: &str) -> NewMessage {
    NewMessage {
        id: MessageId::new(),
        room_id: room,
        sender_id: sender,
        client_id: client_id.into(),
        body: body.into(),
        reply_to: None,
        forwarded: None,
        mentions: vec![],
        mentions_room: false,
        now: t0() + Duration::minutes(1),
        attachments: vec![],
    }
}

/// 50 parallel sends to one room get exactly the seqs after the room's last one, and history
/// has no gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_sends_take_consecutive_seqs() {
    let Some(store) = fresh_with(20).await else {
        return;
    };
    let store = Arc::new(store);
    let owner = user(&*store, "owner").await;
    let room = group(&store, &owner, "busy").await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let store = Arc::clone(&store);
        let m = new_message(room.id, owner.id, &format!("c{i}"), &format!("message {i}"));
        tasks.push(tokio::spawn(async move { store.send_message(&m).await }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        match t.await.unwrap().unwrap() {
            SendOutcome::Created(m, ev) => {
                assert_eq!(m.seq, ev.seq);
                seqs.push(m.seq);
            }
            other => panic!("expected Created, got {other:?}"),
        }
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (2..52).collect::<Vec<i64>>());
    let page = store.events(room.id, 0, 100).await.unwrap();
    let event_seqs: Vec<i64> = page.events.iter().map(|e| e.seq).collect();
    assert_eq!(event_seqs, (1..52).collect::<Vec<i64>>());
    assert_eq!(store.room(room.id).await.unwrap().last_seq, 51);
}

/// 20 simultaneous sends with one client_id: one message, the same one for everybody, and the
/// seqs of the losers are given back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn duplicate_sends_create_one_message_without_gaps() {
    let Some(store) = fresh_with(20).await else {
        return;
    };
    let store = Arc::new(store);
    let owner = user(&*store, "owner").await;
    let room = group(&store, &owner, "dupes").await;
    for round in 0..5 {
        let client_id = format!("same-{round}");
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let store = Arc::clone(&store);
            let m = new_message(room.id, owner.id, &client_id, "hello");
            tasks.push(tokio::spawn(async move { store.send_message(&m).await }));
        }
        let mut created = Vec::new();
        let mut existing = Vec::new();
        for t in tasks {
            match t.await.unwrap().unwrap() {
                SendOutcome::Created(m, _) => created.push(m),
                SendOutcome::Existing(m) => existing.push(m),
            }
        }
        assert_eq!(created.len(), 1, "round {round}");
        assert_eq!(existing.len(), 19);
        assert!(existing.iter().all(|m| *m == created[0]));
        assert_eq!(created[0].seq, round + 2, "no seq lost to a duplicate");
    }
    let after = store
        .send_message(&new_message(room.id, owner.id, "next", "next"))
        .await
        .unwrap();
    let SendOutcome::Created(m, _) = after else {
        panic!("expected Created")
    };
    assert_eq!(m.seq, 7);
}

/// Two instances (two stores, each with its own batching writer) sending into the same rooms
/// at once, every message through both of them (a client retrying on the other instance):
/// their batches lock rooms in one order (no deadlock), each key is created once and answered
/// as the same message by the other instance, and every room's seqs and events stay gap-free.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_batching_into_the_same_rooms_stay_gap_free() {
    let Some(url) = fresh_database_url().await else {
        return;
    };
    let a = Arc::new(PgStore::connect(&url, 8).await.expect("connect a"));
    let b = Arc::new(PgStore::connect(&url, 8).await.expect("connect b"));
    let owner = user(&*a, "owner").await;
    let mut rooms = Vec::new();
    for name in ["one", "two", "three"] {
        rooms.push(group(&a, &owner, name).await);
    }
    const KEYS: usize = 150;
    let mut tasks = Vec::new();
    for k in 0..KEYS {
        let room = rooms[k % rooms.len()].id;
        let m = new_message(room, owner.id, &format!("k{k}"), &format!("body {k}"));
        // Half the keys reach `b` first, and `b` walks the rooms in the other order.
        let (first, second) = if k % 2 == 0 { (&a, &b) } else { (&b, &a) };
        for store in [first, second] {
            let store = Arc::clone(store);
            let m = NewMessage {
                id: MessageId::new(),
                ..m.clone()
            };
            tasks.push(tokio::spawn(
                async move { (k, store.send_message(&m).await) },
            ));
        }
    }
    let mut by_key: std::collections::HashMap<usize, Vec<SendOutcome>> = Default::default();
    for t in tasks {
        let (k, outcome) = t.await.unwrap();
        by_key.entry(k).or_default().push(outcome.expect("send"));
    }
    for (k, outcomes) in &by_key {
        let created: Vec<_> = outcomes
            .iter()
            .filter(|o| matches!(o, SendOutcome::Created(..)))
            .collect();
        assert_eq!(created.len(), 1, "key {k}: {outcomes:?}");
        let ids: std::collections::HashSet<MessageId> = outcomes
            .iter()
            .map(|o| match o {
                SendOutcome::Created(m, _) | SendOutcome::Existing(m) => m.id,
            })
            .collect();
        assert_eq!(
            ids.len(),
            1,
            "key {k}: both instances answer the same message"
        );
    }
    for room in &rooms {
        let per_room = (KEYS / rooms.len()) as i64;
        assert_eq!(a.room(room.id).await.unwrap().last_seq, per_room + 1);
        let page = a.events(room.id, 0, 500).await.unwrap();
        let seqs: Vec<i64> = page.events.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (1..=per_room + 1).collect::<Vec<i64>>(),
            "{}",
            room.id
        );
    }
}

/// The send writer holds a connection between batches. A restart of the database between two
/// sends (its connections ended) costs no failed send: the next batch finds its connection
/// broken and runs again on a fresh one. While the database refuses connections, sends fail as
/// `Unavailable` (retryable), and the first send after it is back succeeds, gap-free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_survive_a_restart_between_batches_and_fail_unavailable_during_an_outage() {
    let Some(url) = fresh_database_url().await else {
        return;
    };
    let store = PgStore::connect(&url, 4).await.expect("connect");
    let owner = user(&store, "owner").await;
    let room = group(&store, &owner, "outage").await;
    let send = |key: &str| {
        let m = new_message(room.id, owner.id, key, key);
        let store = store.clone();
        async move { store.send_message(&m).await }
    };
    let seq = |o: SendOutcome| match o {
        SendOutcome::Created(m, _) => m.seq,
        other => panic!("expected Created, got {other:?}"),
    };
    assert_eq!(seq(send("a").await.expect("before")), 2);
    // Every open connection (the writer's too) is ended; new ones are let in again at once.
    justus_store_postgres::testing::set_outage(&url, true).await;
    justus_store_postgres::testing::set_outage(&url, false).await;
    assert_eq!(seq(send("b").await.expect("after a restart")), 3);
    justus_store_postgres::testing::set_outage(&url, true).await;
    let during = send("c").await;
    justus_store_postgres::testing::set_outage(&url, false).await;
    assert!(
        matches!(during, Err(StoreError::Unavailable(_))),
        "{during:?}"
    );
    assert_eq!(seq(send("c").await.expect("back")), 4);
}

/// Concurrent opens of the same DM, from both sides, make one room.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_dm_opens_make_one_room() {
    let Some(store) = fresh_with(20).await else {
        return;
    };
    let store = Arc::new(store);
    let a = user(&*store, "alice").await;
    let b = user(&*store, "bobby").await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = Arc::clone(&store);
        let (x, y) = if i % 2 == 0 {
            (a.id, b.id)
        } else {
            (b.id, a.id)
        };
        tasks.push(tokio::spawn(async move {
            store.open_dm(RoomId::new(), x, y, t0()).await
        }));
    }
    let mut rooms = Vec::new();
    let mut created = 0;
    for t in tasks {
        let (room, was_created, events) = t.await.unwrap().unwrap();
        if was_created {
            created += 1;
            assert_eq!(events.len(), 2);
            assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
        } else {
            assert!(events.is_empty());
        }
        rooms.push(room.id);
    }
    assert_eq!(created, 1);
    rooms.dedup();
    assert_eq!(rooms.len(), 1);
    let members = store.members(rooms[0]).await.unwrap();
    assert_eq!(members.len(), 2);
    let summaries = store.rooms_for_user(a.id).await.unwrap();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].dm_peer, Some(b.id));
    assert_eq!(summaries[0].room.member_count, 2);
}

/// A writer holding one room's lock does not hold up sends to another room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_do_not_serialise_on_each_other() {
    let Some(store) = fresh().await else { return };
    let owner = user(&store, "owner").await;
    let busy = group(&store, &owner, "busy").await;
    let other = group(&store, &owner, "other").await;
    let mut tx = store.pool().begin().await.unwrap();
    sqlx::query("SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE")
        .bind(busy.id.as_uuid())
        .execute(&mut *tx)
        .await
        .unwrap();
    let sent = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        store.send_message(&new_message(other.id, owner.id, "c1", "hi")),
    )
    .await
    .expect("a send to another room must not wait for this lock")
    .unwrap();
    assert!(matches!(sent, SendOutcome::Created(..)));
    // And the locked room's writers do wait, then proceed once it is released.
    let store2 = store.clone();
    let owner_id = owner.id;
    let busy_id = busy.id;
    let waiting = tokio::spawn(async move {
        store2
            .send_message(&new_message(busy_id, owner_id, "c2", "hi"))
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished());
    tx.rollback().await.unwrap();
    let SendOutcome::Created(m, _) = waiting.await.unwrap().unwrap() else {
        panic!("expected Created")
    };
    assert_eq!(m.seq, 2);
}

/// Whatever users type, search answers (possibly nothing) rather than failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_search_queries_do_not_fail() {
    let Some(store) = fresh().await else { return };
    let owner = user(&store, "owner").await;
    let room = group(&store, &owner, "search").await;
    store
        .send_message(&new_message(
            room.id,
            owner.id,
            "c1",
            "the quick brown fox jumps over the lazy dog",
        ))
        .await
        .unwrap();
    for q in [
        "\"",
        "'",
        "&",
        "|",
        "!",
        "!!",
        ":*",
        "fox:*",
        "(",
        ")",
        "\\",
        "a & | b",
        "-",
        "--fox",
        "\"unterminated",
        "or",
        "OR OR",
        "\u{0}",
        "fox\u{0}",
        "<->",
        "%",
        "_",
        "*",
        "'; DROP TABLE messages; --",
        " ",
        "",
    ] {
        let hits = store.search(owner.id, q, None, 10).await;
        assert!(hits.is_ok(), "{q:?}: {hits:?}");
    }
    let hits = store.search(owner.id, "FOX", None, 10).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert!(
        hits[0]
            .snippet
            .contains(&format!("{HIGHLIGHT_START}fox{HIGHLIGHT_END}")),
        "{:?}",
        hits[0].snippet
    );
    assert!(hits[0].rank > 0.0);
    let hits = store
        .search(owner.id, "\"lazy dog\" -cat", Some(room.id), 10)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    // Not a member: nothing.
    let stranger = user(&store, "stranger").await;
    assert!(
        store
            .search(stranger.id, "fox", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A tour of the conversation methods, checking the details the schema rules fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversation_tour() {
    let Some(store) = fresh().await else { return };
    let owner = user(&store, "owner").await;
    let bob = user(&store, "bobby").await;
    let carol = user(&store, "carol").await;
    let room = group(&store, &owner, "tour").await;
    let at = |m: i64| t0() + Duration::minutes(m);

    let (member, joined) = store
        .add_member(room.id, bob.id, Role::Member, owner.id, 10, at(1))
        .await
        .unwrap();
    assert_eq!((member.read_seq, joined.seq), (2, 2));
    assert_eq!(joined.role, Some(Role::Member));
    assert!(matches!(
        store
            .add_member(room.id, bob.id, Role::Member, owner.id, 10, at(1))
            .await,
        Err(StoreError::Conflict("member"))
    ));
    assert!(matches!(
        store
            .add_member(room.id, carol.id, Role::Member, owner.id, 2, at(1))
            .await,
        Err(StoreError::Conflict("room_full"))
    ));

    let mut m1 = new_message(room.id, bob.id, "b1", "hello @owner");
    m1.mentions = vec![owner.id];
    m1.now = at(2);
    let SendOutcome::Created(msg, ev) = store.send_message(&m1).await.unwrap() else {
        panic!()
    };
    assert_eq!(ev.seq, 3);
    assert_eq!(ev.kind, EventKind::MessageCreated);
    assert_eq!(ev.message.as_ref(), Some(&msg));
    assert_eq!(msg.mentions, vec![owner.id]);
    assert_eq!(store.message(room.id, msg.id).await.unwrap(), msg);

    // Unread and mentions for the owner.
    let summaries = store.rooms_for_user(owner.id).await.unwrap();
    assert_eq!((summaries[0].unread, summaries[0].mentions), (1, 1));
    assert_eq!(summaries[0].last_message.as_ref(), Some(&msg));
    assert_eq!(summaries[0].my_role, Role::Owner);
    assert_eq!(store.mark_read(room.id, owner.id, 1_000).await.unwrap(), 3);
    assert_eq!(store.mark_read(room.id, owner.id, 1).await.unwrap(), 3);
    let summaries = store.rooms_for_user(owner.id).await.unwrap();
    assert_eq!((summaries[0].unread, summaries[0].mentions), (0, 0));

    // Reactions: grouped, ordered, idempotent.
    let r1 = store
        .set_reaction(room.id, msg.id, owner.id, "👍", true, at(3))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r1.seq, r1.message.is_none()), (4, true));
    assert!(
        store
            .set_reaction(room.id, msg.id, owner.id, "👍", true, at(3))
            .await
            .unwrap()
            .is_none()
    );
    store
        .set_reaction(room.id, msg.id, bob.id, "❤️", true, at(3))
        .await
        .unwrap();
    store
        .set_reaction(room.id, msg.id, bob.id, "👍", true, at(3))
        .await
        .unwrap();
    let got = store.message(room.id, msg.id).await.unwrap();
    assert_eq!(got.reactions.len(), 2);
    assert_eq!(got.reactions[0].emoji, "👍");
    assert_eq!(got.reactions[0].count, 2);
    assert_eq!(got.reactions[0].users, vec![owner.id, bob.id]);
    assert_eq!(got.reactions[1].emoji, "❤️");

    // Edits keep history; pins; delete tombstones.
    let (edited, ev) = store
        .edit_message(room.id, msg.id, "hello again", &[], true, bob.id, at(4))
        .await
        .unwrap();
    assert_eq!(ev.seq, 7);
    assert_eq!(edited.body, "hello again");
    assert!(edited.mentions.is_empty() && edited.mentions_room);
    store
        .edit_message(room.id, msg.id, "third", &[], false, bob.id, at(4))
        .await
        .unwrap();
    let history = store.edit_history(room.id, msg.id).await.unwrap();
    assert_eq!(
        history,
        vec![
            ("hello @owner".to_owned(), at(4)),
            ("hello again".to_owned(), at(4))
        ]
    );
    let pin = store
        .set_pinned(room.id, msg.id, true, owner.id, at(5))
        .await
        .unwrap()
        .unwrap();
    assert!(pin.message.as_ref().unwrap().pinned);
    assert_eq!(store.pinned(room.id).await.unwrap().len(), 1);
    let del = store
        .delete_message(room.id, msg.id, bob.id, None, at(6))
        .await
        .unwrap();
    let tomb = del.message.unwrap();
    assert!(tomb.body.is_empty() && tomb.reactions.is_empty() && !tomb.pinned);
    assert!(
        store
            .edit_history(room.id, msg.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store
            .delete_message(room.id, msg.id, bob.id, None, at(6))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(store.pinned(room.id).await.unwrap().is_empty());

    // History replays the message's current (deleted) state.
    let page = store.events(room.id, 0, 3).await.unwrap();
    assert!(page.has_more);
    assert_eq!(page.events.len(), 3);
    let created = &page.events[2];
    assert_eq!(created.kind, EventKind::MessageCreated);
    assert_eq!(created.message.as_ref().map(|m| m.body.as_str()), Some(""));
    let rest = store.events(room.id, 3, 100).await.unwrap();
    assert!(!rest.has_more);
    assert_eq!(
        rest.events.last().map(|e| e.kind),
        Some(EventKind::MessageDeleted)
    );

    // Pages.
    for i in 0..5 {
        let mut m = new_message(room.id, owner.id, &format!("p{i}"), &format!("page {i}"));
        m.now = at(10 + i);
        store.send_message(&m).await.unwrap();
    }
    let latest = store.messages(room.id, Page::Latest, 3).await.unwrap();
    assert_eq!(
        latest.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        vec!["page 2", "page 3", "page 4"]
    );
    let before = store
        .messages(room.id, Page::Before(latest[0].seq), 10)
        .await
        .unwrap();
    assert_eq!(before.len(), 3);
    assert!(before.windows(2).all(|w| w[0].seq < w[1].seq));
    let after = store
        .messages(room.id, Page::After(before[0].seq), 2)
        .await
        .unwrap();
    assert_eq!(after[0].seq, before[1].seq);

    // Room updates, bans, kicks, invites.
    let (renamed, ev) = store
        .update_room(
            room.id,
            &justus_core::room::RoomPatch {
                name: Some("renamed".into()),
                topic: Some(None),
                ..Default::default()
            },
            owner.id,
            at(20),
        )
        .await
        .unwrap();
    let ev = ev.expect("a rename records room.updated");
    assert_eq!(renamed.name.as_deref(), Some("renamed"));
    let changes = ev.changes.clone().unwrap();
    assert_eq!(changes.topic, Some(None));
    let replayed = store.events(room.id, ev.seq - 1, 1).await.unwrap();
    assert_eq!(replayed.events[0], ev);
    store
        .ban(room.id, bob.id, owner.id, None, at(21))
        .await
        .unwrap();
    assert!(store.member(room.id, bob.id).await.unwrap().is_none());
    assert_eq!(store.room(room.id).await.unwrap().member_count, 1);
    assert!(store.is_banned(room.id, bob.id).await.unwrap());
    let invite = justus_core::room::Invite {
        code: "join-us".into(),
        room_id: room.id,
        created_by: owner.id,
        created_at: at(22),
        expires_at: None,
        max_uses: Some(1),
        uses: 0,
    };
    store.create_invite(&invite).await.unwrap();
    assert!(matches!(
        store.accept_invite("join-us", bob.id, 10, at(23)).await,
        Err(StoreError::Conflict("banned"))
    ));
    assert_eq!(store.invite("join-us").await.unwrap().uses, 0);
    store
        .accept_invite("join-us", carol.id, 10, at(23))
        .await
        .unwrap();
    assert!(matches!(
        store.accept_invite("join-us", carol.id, 10, at(23)).await,
        Err(StoreError::Conflict("member"))
    ));
    store
        .unban(room.id, bob.id, owner.id, None, at(22))
        .await
        .unwrap();
    assert!(matches!(
        store.accept_invite("join-us", bob.id, 10, at(23)).await,
        Err(StoreError::Conflict("invite_expired"))
    ));
    let evs = store
        .transfer_ownership(room.id, owner.id, carol.id, at(24))
        .await
        .unwrap();
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[1].seq, evs[0].seq + 1);
    let members = store.members(room.id).await.unwrap();
    assert_eq!(members[0].user_id, carol.id);
    assert_eq!(members[0].role, Role::Owner);
    let left = store
        .remove_member(room.id, owner.id, owner.id, None, at(25))
        .await
        .unwrap();
    assert_eq!(left.kind, EventKind::MemberLeft);
    store.delete_room(room.id, carol.id, at(26)).await.unwrap();
    assert!(matches!(
        store.room(room.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.rooms_for_user(carol.id).await.unwrap().is_empty());

    // Users: prefix search (LIKE wildcards are literal) and blocks.
    let found = store.search_users("b", 10).await.unwrap();
    assert_eq!(found.iter().map(|u| u.id).collect::<Vec<_>>(), vec![bob.id]);
    assert!(store.search_users("_", 10).await.unwrap().is_empty());
    assert!(store.search_users("%", 10).await.unwrap().is_empty());
    store.block_user(bob.id, carol.id, at(1)).await.unwrap();
    store.block_user(bob.id, carol.id, at(1)).await.unwrap();
    assert!(store.is_blocked_between(carol.id, bob.id).await.unwrap());
    assert_eq!(store.blocked_users(bob.id).await.unwrap(), vec![carol.id]);
    store.unblock_user(bob.id, carol.id).await.unwrap();
    assert!(!store.is_blocked_between(carol.id, bob.id).await.unwrap());
}

/// A DM with oneself (the SQLite store allows it too) has one member and one join event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dm_with_oneself() {
    let Some(store) = fresh().await else { return };
    let me = user(&store, "narcissus").await;
    let (room, created, events) = store
        .open_dm(RoomId::new(), me.id, me.id, t0())
        .await
        .unwrap();
    assert!(created);
    assert_eq!((room.member_count, room.last_seq, events.len()), (1, 1, 1));
    let (again, created, _) = store
        .open_dm(RoomId::new(), me.id, me.id, t0())
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.id, room.id);
    let list = store.rooms_for_user(me.id).await.unwrap();
    assert_eq!(list[0].dm_peer, Some(me.id));
}

/// Search-as-you-type: the last word is also a prefix, and `or` before it keeps its meaning.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_last_word_prefix() {
    let Some(store) = fresh().await else { return };
    let me = user(&store, "typist").await;
    let room = group(&store, &me, "typing").await;
    let send = |client: &'static str, body: &'static str| {
        let m = new_message(room.id, me.id, client, body);
        let store = &store;
        async move {
            match store.send_message(&m).await.unwrap() {
                SendOutcome::Created(m, _) => m.id,
                SendOutcome::Existing(_) => panic!("expected Created"),
            }
        }
    };
    let apple = send("c1", "apple pie").await;
    let banana = send("c2", "banana bread").await;
    let ids = |hits: Vec<justus_core::store::SearchHit>| {
        let mut v: Vec<MessageId> = hits.into_iter().map(|h| h.message.id).collect();
        v.sort();
        v
    };
    let mut both = vec![apple, banana];
    both.sort();
    assert_eq!(
        ids(store.search(me.id, "appl", None, 10).await.unwrap()),
        vec![apple]
    );
    assert_eq!(
        ids(store.search(me.id, "apple or ban", None, 10).await.unwrap()),
        both
    );
    assert_eq!(
        ids(store.search(me.id, "bread -appl", None, 10).await.unwrap()),
        vec![banana]
    );
    assert!(
        store
            .search(me.id, "\"appl\"", None, 10)
            .await
            .unwrap()
            .is_empty(),
        "quoted: exact"
    );
    let hits = store.search(me.id, "ban", None, 10).await.unwrap();
    assert!(
        hits[0]
            .snippet
            .contains(&format!("{HIGHLIGHT_START}banana{HIGHLIGHT_END}"))
    );
}

/// The audit log cannot be rewritten, not even by a connection that bypasses the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_refuses_updates_deletes_and_truncation() {
    let Some(store) = fresh().await else { return };
    let owner = user(&store, "auditowner").await;
    let bob = user(&store, "auditbob").await;
    let room = group(&store, &owner, "Audited").await;
    store
        .ban(room.id, bob.id, owner.id, Some("spam".into()), t0())
        .await
        .unwrap();
    for sql in [
        "UPDATE audit_log SET reason = 'nothing happened'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let err = sqlx::query(sql)
            .execute(store.pool())
            .await
            .expect_err(sql)
            .to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    let log = store.audit_log(Some(room.id), None, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].reason.as_deref(), Some("spam"));
}
