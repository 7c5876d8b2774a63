//! Conformance cases: full-text search over messages.
//!
//! Only the contract is asserted (the `Store` doc comments and the shared schema rules): no
//! adapter's incidental orderings. Where two rows could tie on a timestamp, the cases give them
//! distinct times; where the contract gives a list no order (mentions), it is compared sorted.

use super::accounts::user;
use super::support::{at, group, join, norm, send};
use crate::ids::MessageId;
use crate::store::{HIGHLIGHT_END, HIGHLIGHT_START, Store};

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
        .delete_message(r1.id, m4.id, alice.id, None, at(6))
        .await
        .unwrap();
    let m5 = send(store, r2.id, alice.id, "a banana in the pantry", at(7)).await;
    send(store, r3.id, eve.id, "eve hides a banana here", at(8)).await;
    let m7 = send(store, r4.id, bob.id, "banana left behind", at(9)).await;
    store
        .remove_member(r4.id, alice.id, alice.id, None, at(10))
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
