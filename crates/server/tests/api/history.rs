//! Reaching a point of history and a group from outside: `?around=` pages (jump to a search
//! result or a reply far back), the public invite preview a logged-out person sees, and
//! profile changes that keep names fresh (`user.updated`).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

fn seqs(r: &Resp) -> Vec<i64> {
    r.body["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("messages: {}", r.text))
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect()
}

async fn a_page_around_a_message_holds_it_and_its_neighbours(app: TestApp) {
    let (alice, _) = app.user("alice").await;
    let room = app.group(&alice, "long").await;
    let mut sent = Vec::new();
    for i in 0..30 {
        sent.push(
            app.say(&alice, &room, &format!("message {i}")).await["seq"]
                .as_i64()
                .expect("seq"),
        );
    }
    let path = |q: &str| format!("/api/v1/rooms/{room}/messages?{q}");
    // Around the 10th message, 6 a page: 3 up to and including it, 3 after.
    let target = sent[10];
    let r = app
        .get(&path(&format!("around={target}&limit=6")), Some(&alice))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(seqs(&r), sent[8..14].to_vec(), "{}", r.text);
    assert_eq!(
        (r.body["has_more"].clone(), r.body["has_newer"].clone()),
        (json!(true), json!(true))
    );
    // An odd limit gives the older side the extra one; near the ends, has_more/has_newer say so.
    let r = app
        .get(&path(&format!("around={}&limit=5", sent[1])), Some(&alice))
        .await;
    assert_eq!(seqs(&r), sent[0..4].to_vec(), "{}", r.text);
    assert_eq!(r.body["has_more"], false, "nothing older than the first");
    let r = app
        .get(&path(&format!("around={}&limit=4", sent[29])), Some(&alice))
        .await;
    assert_eq!(seqs(&r), sent[28..30].to_vec(), "{}", r.text);
    assert_eq!(r.body["has_newer"], false, "{}", r.text);
    // A seq that is not a message's (beyond the last) lands on the message before it.
    let r = app
        .get(
            &path(&format!("around={}&limit=1", sent[29] + 100)),
            Some(&alice),
        )
        .await;
    assert_eq!(seqs(&r), vec![sent[29]], "{}", r.text);
    // Plain pages do not carry has_newer.
    let r = app.get(&path("limit=2"), Some(&alice)).await;
    assert!(r.body.get("has_newer").is_none(), "{}", r.text);
    // Refused: mixed with before/after, negative.
    for q in ["around=3&before=9", "around=3&after=1", "around=-1"] {
        let r = app.get(&path(q), Some(&alice)).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "invalid_page"),
            "{q}: {}",
            r.text
        );
    }
    // One message by id tells its seq (a reply quote's way to the page around its original).
    let one = app
        .get(
            &format!(
                "/api/v1/rooms/{room}/messages/{}",
                r.body["messages"][0]["id"].as_str().expect("id")
            ),
            Some(&alice),
        )
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.body["seq"], r.body["messages"][0]["seq"]);
    let missing = app
        .get(
            &format!("/api/v1/rooms/{room}/messages/{}", uuid::Uuid::now_v7()),
            Some(&alice),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
    let bad = app
        .get(&format!("/api/v1/rooms/{room}/messages/nope"), Some(&alice))
        .await;
    assert_eq!(bad.code(), "invalid_id", "{}", bad.text);
    // Not a member: 404, as for any page.
    let (bob, _) = app.user("bob").await;
    let r = app
        .get(&path(&format!("around={target}")), Some(&bob))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let first_id = one.body["id"].as_str().expect("id").to_owned();
    let r = app
        .get(
            &format!("/api/v1/rooms/{room}/messages/{first_id}"),
            Some(&bob),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "not a member: {}", r.text);
}

async fn an_invite_preview_needs_no_account(app: TestApp) {
    let (owner, _) = app.user("olga").await;
    let room = app.group(&owner, "Book club").await;
    let inv = app
        .post(
            &format!("/api/v1/rooms/{room}/invites"),
            Some(&owner),
            json!({"max_uses": 5}),
        )
        .await;
    let code = inv.body["code"].as_str().expect("code").to_owned();
    let r = app.get(&format!("/api/v1/invites/{code}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["room_name"].clone(), r.body["member_count"].clone()),
        (json!("Book club"), json!(1))
    );
    // Unknown and hostile codes: 404, never an error page or a lookup of a huge string.
    for bad in ["nope", &"x".repeat(5000), "%00", "..%2F..%2Fetc"] {
        let r = app.get(&format!("/api/v1/invites/{bad}"), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad:.20}: {}", r.text);
    }
    let r = app
        .post("/api/v1/invites/%00/accept", Some(&owner), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    // Accepting still needs an account.
    let r = app
        .post(&format!("/api/v1/invites/{code}/accept"), None, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    // Lookups are limited per network: a burst, then 429 with Retry-After.
    let mut limited = None;
    for _ in 0..80 {
        let r = app.get(&format!("/api/v1/invites/{code}"), None).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("lookups are limited");
    assert!(r.headers.contains_key("retry-after"), "{}", r.text);
}

/// Frames of `op` that arrive before the event of the message `body` (which ends the wait).
async fn count_before(
    ws: &mut crate::gateway::Ws,
    op: &str,
    body: &str,
) -> (usize, Vec<serde_json::Value>) {
    let mut seen = Vec::new();
    loop {
        let f = ws.next().await;
        if f["op"] == "event" && f["d"]["message"]["body"] == body {
            return (seen.len(), seen);
        }
        if f["op"] == op {
            seen.push(f);
        }
    }
}

/// A new display name or picture reaches everyone who shares a room with the person (once,
/// however many rooms they share) and their own other devices; nobody else.
async fn a_profile_change_reaches_everyone_who_shares_a_room_once(app: TestApp) {
    use crate::gateway::Ws;
    let (alice, alice_id) = app.user("alice").await;
    let (_, bob_id) = app.user("bob").await;
    let (carol, _) = app.user("carol").await;
    let (dave, dave_id) = app.user("dave").await;
    let one = app.group(&alice, "one").await;
    let two = app.group(&alice, "two").await;
    app.add(&alice, &one, &bob_id).await;
    app.add(&alice, &two, &bob_id).await;
    let elsewhere = app.group(&carol, "elsewhere").await;
    app.add(&carol, &elsewhere, &dave_id).await;
    let bob_login = app.login("bob", &password_for("bob")).await;
    let bob = token(&bob_login.body);
    let (mut wb, _) = Ws::connect(&app, &bob).await;
    let (mut wc, _) = Ws::connect(&app, &carol).await;
    let (mut wa2, _) = Ws::connect(&app, &alice).await;

    let r = app
        .patch(
            "/api/v1/users/me",
            Some(&alice),
            json!({"display_name": "Alice Liddell"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    app.say(&alice, &one, "after the rename").await;
    app.say(&dave, &elsewhere, "meanwhile elsewhere").await;
    let (n, frames) = count_before(&mut wb, "user.updated", "after the rename").await;
    assert_eq!(n, 1, "once, though two rooms are shared: {frames:?}");
    assert_eq!(
        frames[0]["d"],
        json!({"id": alice_id, "username": "alice", "display_name": "Alice Liddell", "avatar": null})
    );
    let (n, _) = count_before(&mut wa2, "user.updated", "after the rename").await;
    assert_eq!(n, 1, "her other device too");
    let (n, frames) = count_before(&mut wc, "user.updated", "meanwhile elsewhere").await;
    assert_eq!(n, 0, "no shared room, no frame: {frames:?}");
}

/// "Last seen": recorded when someone's last socket goes (after the presence grace), shown
/// to people who share a room with them and to nobody else.
async fn last_seen_is_shown_only_to_people_who_share_a_room(app: TestApp) {
    use crate::gateway::Ws;
    let (alice, _) = app.user("alice").await;
    let (bob, bob_id) = app.user("bob").await;
    let (carol, _) = app.user("carol").await;
    let room = app.group(&alice, "team").await;
    app.add(&alice, &room, &bob_id).await;
    let profile = format!("/api/v1/users/{bob_id}");
    let r = app.get(&profile, Some(&alice)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["last_seen_at"],
        serde_json::Value::Null,
        "never online yet"
    );
    assert_eq!(
        r.body["username"], "bob",
        "the public profile is still there"
    );
    let before = chrono::Utc::now();
    let (ws, _) = Ws::connect(&app, &bob).await;
    drop(ws);
    // Offline after the presence grace (30 s).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let seen = loop {
        let r = app.get(&profile, Some(&alice)).await;
        if let Some(at) = r.body["last_seen_at"].as_str() {
            break at.parse::<chrono::DateTime<chrono::Utc>>().expect("a time");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "last seen recorded: {}",
            r.text
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    assert!(seen >= before, "{seen} after {before}");
    let r = app.get(&profile, Some(&bob)).await;
    assert!(r.body["last_seen_at"].is_string(), "their own: {}", r.text);
    let r = app.get(&profile, Some(&carol)).await;
    assert_eq!(
        r.body["last_seen_at"],
        serde_json::Value::Null,
        "no shared room: {}",
        r.text
    );
}

/// Two people online who share no room open a DM: each learns at once that the other is
/// online (presence is otherwise exchanged only at connect and on changes).
async fn a_new_dm_shows_each_person_the_others_presence(app: TestApp) {
    use crate::gateway::Ws;
    let (alice, alice_id) = app.user("alice").await;
    let (bob, bob_id) = app.user("bob").await;
    let (mut wa, ready_a) = Ws::connect(&app, &alice).await;
    let (mut wb, _) = Ws::connect(&app, &bob).await;
    assert_eq!(
        ready_a["presence"],
        json!([]),
        "no shared room yet: {ready_a}"
    );
    let r = app
        .post("/api/v1/dms", Some(&alice), json!({ "user_id": bob_id }))
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let presence_of = |f: &serde_json::Value| (f["d"]["user_id"].clone(), f["d"]["status"].clone());
    let f = wb.next_op("presence").await;
    assert_eq!(presence_of(&f), (json!(alice_id), json!("online")), "{f}");
    let f = wa.next_op("presence").await;
    assert_eq!(presence_of(&f), (json!(bob_id), json!("online")), "{f}");
}

crate::both_backends!(
    a_new_dm_shows_each_person_the_others_presence,
    last_seen_is_shown_only_to_people_who_share_a_room,
    a_page_around_a_message_holds_it_and_its_neighbours,
    an_invite_preview_needs_no_account,
    a_profile_change_reaches_everyone_who_shares_a_room_once,
);
