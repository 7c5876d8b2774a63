//! Rooms, DMs, members, roles, invites and messages through the REST API, on both stores.
//! (Over 600 lines: one conversation scenario per test, sharing the room set-up helpers.)

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

crate::both_backends!(
    dm_flow_idempotent_sends_and_history,
    edits_deletes_reactions_and_catch_up,
    read_markers_unread_and_mentions,
    concurrent_sends_are_gap_free_and_idempotent,
    membership_roles_invites_and_leaving,
    blocks_prevent_dms,
    search_is_scoped_and_safe,
    bad_inputs_are_refused_clearly,
);

async fn dm_flow_idempotent_sends_and_history(app: TestApp) {
    let (a, _) = app.user("anna").await;
    let (b, b_id) = app.user("boris").await;
    let first = app
        .post("/api/v1/dms", Some(&a), json!({"user_id": b_id}))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let room = first.body["id"].as_str().unwrap().to_owned();
    assert_eq!(first.body["kind"], "dm");
    assert_eq!(first.body["dm_peer"]["username"], "boris");
    let again = app
        .post(
            "/api/v1/dms",
            Some(&b),
            json!({"user_id": first.body["created_by"]}),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "the same DM from the other side"
    );
    assert_eq!(again.body["id"], room.as_str());

    let path = format!("/api/v1/rooms/{room}/messages");
    let send = json!({"client_id": "c-1", "body": "hello **boris**"});
    let r1 = app.post(&path, Some(&a), send.clone()).await;
    assert_eq!(r1.status, StatusCode::CREATED, "{}", r1.text);
    let seq1 = r1.body["seq"].as_i64().unwrap();
    let retry = app.post(&path, Some(&a), send).await;
    assert_eq!(retry.status, StatusCode::OK, "a retry returns the original");
    assert_eq!(retry.body["id"], r1.body["id"]);
    let reuse = app
        .post(
            &path,
            Some(&a),
            json!({"client_id": "c-1", "body": "something else"}),
        )
        .await;
    assert_eq!(
        (reuse.status, reuse.code()),
        (StatusCode::CONFLICT, "client_id_reused")
    );
    let reply = app
        .post(
            &path,
            Some(&b),
            json!({"client_id": "c-1", "body": "hi anna", "reply_to": r1.body["id"]}),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "client ids are per sender: {}",
        reply.text
    );
    assert_eq!(reply.body["seq"].as_i64().unwrap(), seq1 + 1);
    assert_eq!(reply.body["reply_to"], r1.body["id"]);

    for i in 0..5 {
        app.say(&a, &room, &format!("msg {i}")).await;
    }
    let latest = app.get(&format!("{path}?limit=3"), Some(&b)).await;
    let seqs: Vec<i64> = latest.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs.len(), 3);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "ascending: {seqs:?}");
    assert_eq!(latest.body["has_more"], true);
    let older = app
        .get(&format!("{path}?before={}&limit=50", seqs[0]), Some(&b))
        .await;
    let older_seqs: Vec<i64> = older.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert!(older_seqs.iter().all(|s| *s < seqs[0]));
    assert_eq!(older.body["has_more"], false);
    assert_eq!(older_seqs.len() + 3, 7);
    let newer = app
        .get(&format!("{path}?after={}", older_seqs[0]), Some(&b))
        .await;
    assert_eq!(newer.body["messages"].as_array().unwrap().len(), 6);

    let rooms = app.get("/api/v1/rooms", Some(&b)).await;
    let listed = &rooms.body["rooms"][0];
    assert_eq!(listed["id"], room.as_str());
    assert_eq!(listed["last_message"]["body"], "msg 4");
}

async fn edits_deletes_reactions_and_catch_up(app: TestApp) {
    let (a, _) = app.user("carla").await;
    let (b, b_id) = app.user("dmitri").await;
    let room = app.group(&a, "Team").await;
    app.add(&a, &room, &b_id).await;
    let before = app
        .get(&format!("/api/v1/rooms/{room}"), Some(&b))
        .await
        .body["last_seq"]
        .as_i64()
        .unwrap();

    let m1 = app.say(&a, &room, "first").await;
    let m2 = app.say(&b, &room, "second").await;
    let mid = |m: &Value| m["id"].as_str().unwrap().to_owned();
    let edit = app
        .patch(
            &format!("/api/v1/rooms/{room}/messages/{}", mid(&m1)),
            Some(&a),
            json!({"body": "first, edited"}),
        )
        .await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.text);
    assert!(edit.body["edited_at"].is_string());
    let hist = app
        .get(
            &format!("/api/v1/rooms/{room}/messages/{}/history", mid(&m1)),
            Some(&b),
        )
        .await;
    assert_eq!(hist.body["edits"][0]["body"], "first");
    let not_mine = app
        .patch(
            &format!("/api/v1/rooms/{room}/messages/{}", mid(&m1)),
            Some(&b),
            json!({"body": "hijack"}),
        )
        .await;
    assert_eq!(not_mine.status, StatusCode::FORBIDDEN);
    let react = app
        .put(
            &format!(
                "/api/v1/rooms/{room}/messages/{}/reactions/%F0%9F%91%8D",
                mid(&m2)
            ),
            Some(&a),
        )
        .await;
    assert_eq!(react.status, StatusCode::NO_CONTENT, "{}", react.text);
    let again = app
        .put(
            &format!(
                "/api/v1/rooms/{room}/messages/{}/reactions/%F0%9F%91%8D",
                mid(&m2)
            ),
            Some(&a),
        )
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT, "idempotent");
    let del = app
        .delete(
            &format!("/api/v1/rooms/{room}/messages/{}", mid(&m1)),
            Some(&a),
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let del_again = app
        .delete(
            &format!("/api/v1/rooms/{room}/messages/{}", mid(&m1)),
            Some(&a),
        )
        .await;
    assert_eq!(del_again.status, StatusCode::NOT_FOUND);

    // A client that last saw `before` gets every change after it, in order, and nothing before.
    let ev = app
        .get(
            &format!("/api/v1/rooms/{room}/events?after={before}"),
            Some(&b),
        )
        .await;
    assert_eq!(ev.status, StatusCode::OK, "{}", ev.text);
    let events = ev.body["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        vec![
            "message.created",
            "message.created",
            "message.edited",
            "reaction.added",
            "message.deleted"
        ]
    );
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (before + 1..=before + 5).collect::<Vec<_>>(),
        "gap-free"
    );
    assert_eq!(ev.body["last_seq"], before + 5);
    assert_eq!(
        events[0]["message"]["body"], "",
        "history never resurrects deleted text"
    );
    assert!(events[0]["message"]["deleted_at"].is_string());
    assert_eq!(events[3]["emoji"], "👍");
    let tail = app
        .get(
            &format!("/api/v1/rooms/{room}/events?after={}", before + 4),
            Some(&b),
        )
        .await;
    assert_eq!(tail.body["events"].as_array().unwrap().len(), 1);
    let paged = app
        .get(
            &format!("/api/v1/rooms/{room}/events?after={before}&limit=2"),
            Some(&b),
        )
        .await;
    assert_eq!(paged.body["has_more"], true);
    let msgs = app
        .get(&format!("/api/v1/rooms/{room}/messages"), Some(&b))
        .await;
    let second = msgs.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == m2["id"])
        .unwrap()
        .clone();
    assert_eq!(second["reactions"][0]["emoji"], "👍");
    assert_eq!(second["reactions"][0]["count"], 1);
}

async fn read_markers_unread_and_mentions(app: TestApp) {
    let (a, _) = app.user("elena").await;
    let (b, b_id) = app.user("fedor").await;
    let room = app.group(&a, "Reading").await;
    app.add(&a, &room, &b_id).await;
    app.say(&a, &room, "one").await;
    app.say(&a, &room, "two, @fedor look").await;
    let last = app.say(&a, &room, "three @room").await;
    let summary = app
        .get(&format!("/api/v1/rooms/{room}"), Some(&b))
        .await
        .body;
    assert_eq!(summary["unread"], 3);
    assert_eq!(
        summary["mentions"], 2,
        "@fedor and @room (the owner may notify everyone)"
    );
    let seq = last["seq"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/rooms/{room}/read"),
            Some(&b),
            json!({"seq": seq - 1}),
        )
        .await;
    assert_eq!(r.body["read_seq"], seq - 1);
    let back = app
        .post(
            &format!("/api/v1/rooms/{room}/read"),
            Some(&b),
            json!({"seq": 1}),
        )
        .await;
    assert_eq!(back.body["read_seq"], seq - 1, "never backwards");
    let far = app
        .post(
            &format!("/api/v1/rooms/{room}/read"),
            Some(&b),
            json!({"seq": seq + 1000}),
        )
        .await;
    assert_eq!(far.body["read_seq"], seq, "clamped to the latest seq");
    let summary = app
        .get(&format!("/api/v1/rooms/{room}"), Some(&b))
        .await
        .body;
    assert_eq!(
        (summary["unread"].as_i64(), summary["mentions"].as_i64()),
        (Some(0), Some(0))
    );
    let members = app
        .get(&format!("/api/v1/rooms/{room}/members"), Some(&a))
        .await
        .body;
    let fedor = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"]["username"] == "fedor")
        .unwrap()
        .clone();
    assert_eq!(fedor["read_seq"], seq, "receipts visible to members");
    // A member's @room does not notify (needs a permission), their @name does.
    let (c, c_id) = app.user("galina").await;
    app.add(&a, &room, &c_id).await;
    app.say(&c, &room, "@room hello all").await;
    assert_eq!(
        app.get(&format!("/api/v1/rooms/{room}"), Some(&b))
            .await
            .body["mentions"],
        0
    );
}

async fn concurrent_sends_are_gap_free_and_idempotent(app: TestApp) {
    let (a, _) = app.user("hanna").await;
    let room = app.group(&a, "Load").await;
    let path = format!("/api/v1/rooms/{room}/messages");
    let sends = (0..40).map(|i| {
        app.post(
            &path,
            Some(&a),
            json!({"client_id": format!("p-{i}"), "body": format!("n{i}")}),
        )
    });
    let results = futures::future::join_all(sends).await;
    let mut seqs: Vec<i64> = results
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            r.body["seq"].as_i64().unwrap()
        })
        .collect();
    seqs.sort();
    let first = seqs[0];
    assert_eq!(
        seqs,
        (first..first + 40).collect::<Vec<_>>(),
        "unique and gap-free"
    );
    let same = (0..15).map(|_| {
        app.post(
            &path,
            Some(&a),
            json!({"client_id": "same-key", "body": "once"}),
        )
    });
    let results = futures::future::join_all(same).await;
    let ids: std::collections::HashSet<String> = results
        .iter()
        .map(|r| r.body["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "exactly one message for one client_id");
    assert_eq!(
        results
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .count(),
        1
    );
}

async fn membership_roles_invites_and_leaving(app: TestApp) {
    let (o, o_id) = app.user("ivana").await;
    let (m, m_id) = app.user("jurij").await;
    let (x, _) = app.user("kirill").await;
    let (y, y_id) = app.user("larisa").await;
    let room = app.group(&o, "Club").await;
    let inv = app
        .post(
            &format!("/api/v1/rooms/{room}/invites"),
            Some(&o),
            json!({"max_uses": 1, "expires_in": 3600}),
        )
        .await;
    assert_eq!(inv.status, StatusCode::CREATED, "{}", inv.text);
    let code = inv.body["code"].as_str().unwrap().to_owned();
    assert!(code.len() >= 22, "≥ 128-bit codes");
    let preview = app.get(&format!("/api/v1/invites/{code}"), Some(&m)).await;
    assert_eq!(preview.body["room_name"], "Club");
    let join = app
        .post(
            &format!("/api/v1/invites/{code}/accept"),
            Some(&m),
            json!({}),
        )
        .await;
    assert_eq!(join.status, StatusCode::OK, "{}", join.text);
    let used_up = app
        .post(
            &format!("/api/v1/invites/{code}/accept"),
            Some(&x),
            json!({}),
        )
        .await;
    assert_eq!(
        (used_up.status, used_up.code()),
        (StatusCode::GONE, "invite_expired")
    );
    let unknown = app
        .post("/api/v1/invites/nope/accept", Some(&x), json!({}))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // Roles: only the owner promotes; admins cannot touch each other.
    let promote = app
        .patch(
            &format!("/api/v1/rooms/{room}/members/{m_id}"),
            Some(&o),
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(promote.status, StatusCode::NO_CONTENT, "{}", promote.text);
    app.add(&m, &room, &y_id).await;
    let admin_promotes = app
        .patch(
            &format!("/api/v1/rooms/{room}/members/{y_id}"),
            Some(&m),
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(admin_promotes.status, StatusCode::FORBIDDEN);
    let kick_owner = app
        .delete(&format!("/api/v1/rooms/{room}/members/{o_id}"), Some(&m))
        .await;
    assert_eq!(kick_owner.status, StatusCode::FORBIDDEN);
    let kick = app
        .delete(&format!("/api/v1/rooms/{room}/members/{y_id}"), Some(&m))
        .await;
    assert_eq!(kick.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/api/v1/rooms/{room}"), Some(&y))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let ban = app
        .post(
            &format!("/api/v1/rooms/{room}/bans"),
            Some(&o),
            json!({"user_id": y_id}),
        )
        .await;
    assert_eq!(ban.status, StatusCode::NO_CONTENT);
    let inv2 = app
        .post(
            &format!("/api/v1/rooms/{room}/invites"),
            Some(&o),
            json!({}),
        )
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let banned_join = app
        .post(
            &format!("/api/v1/invites/{inv2}/accept"),
            Some(&y),
            json!({}),
        )
        .await;
    assert_eq!(
        (banned_join.status, banned_join.code()),
        (StatusCode::FORBIDDEN, "banned")
    );
    let bans = app
        .get(&format!("/api/v1/rooms/{room}/bans"), Some(&o))
        .await;
    assert_eq!(bans.body["user_ids"][0], y_id.as_str());
    assert_eq!(
        app.delete(&format!("/api/v1/rooms/{room}/bans/{y_id}"), Some(&o))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/invites/{inv2}/accept"),
            Some(&y),
            json!({})
        )
        .await
        .status,
        StatusCode::OK
    );

    // The owner must hand over before leaving.
    let leave = app
        .delete(&format!("/api/v1/rooms/{room}/members/{o_id}"), Some(&o))
        .await;
    assert_eq!(
        (leave.status, leave.code()),
        (StatusCode::CONFLICT, "owner_must_transfer")
    );
    let transfer = app
        .patch(
            &format!("/api/v1/rooms/{room}/members/{m_id}"),
            Some(&o),
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(transfer.status, StatusCode::NO_CONTENT, "{}", transfer.text);
    assert_eq!(
        app.delete(&format!("/api/v1/rooms/{room}/members/{o_id}"), Some(&o))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let members = app
        .get(&format!("/api/v1/rooms/{room}/members"), Some(&m))
        .await
        .body;
    let roles: Vec<(String, String)> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|mm| {
            (
                mm["user"]["username"].as_str().unwrap().to_owned(),
                mm["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        roles.contains(&("jurij".into(), "owner".into())),
        "{roles:?}"
    );
    assert!(!roles.iter().any(|(n, _)| n == "ivana"));
    // History records the membership story.
    let ev = app
        .get(&format!("/api/v1/rooms/{room}/events?after=0"), Some(&m))
        .await
        .body;
    let kinds: Vec<&str> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for k in [
        "member.joined",
        "member.role_changed",
        "member.kicked",
        "member.banned",
        "member.left",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let _ = x;
}

async fn blocks_prevent_dms(app: TestApp) {
    let (a, a_id) = app.user("maria").await;
    let (b, b_id) = app.user("nikolai").await;
    let dm = app
        .post("/api/v1/dms", Some(&a), json!({"user_id": b_id}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.put(&format!("/api/v1/users/{b_id}/block"), Some(&a))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let blocked = app
        .post("/api/v1/dms", Some(&b), json!({"user_id": a_id}))
        .await;
    assert_eq!(
        blocked.status,
        StatusCode::OK,
        "the existing DM is still readable"
    );
    let send = app
        .post(
            &format!("/api/v1/rooms/{dm}/messages"),
            Some(&b),
            json!({"client_id": "x", "body": "hey"}),
        )
        .await;
    assert_eq!(
        (send.status, send.code()),
        (StatusCode::FORBIDDEN, "blocked")
    );
    let send = app
        .post(
            &format!("/api/v1/rooms/{dm}/messages"),
            Some(&a),
            json!({"client_id": "x", "body": "hey"}),
        )
        .await;
    assert_eq!(
        send.status,
        StatusCode::FORBIDDEN,
        "blocking works both ways"
    );
    let (c, _) = app.user("oleg").await;
    let _ = c;
    let blocks = app.get("/api/v1/users/me/blocks", Some(&a)).await;
    assert_eq!(blocks.body["user_ids"][0], b_id.as_str());
    assert_eq!(
        app.delete(&format!("/api/v1/users/{b_id}/block"), Some(&a))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let send = app
        .post(
            &format!("/api/v1/rooms/{dm}/messages"),
            Some(&b),
            json!({"client_id": "y", "body": "hey again"}),
        )
        .await;
    assert_eq!(send.status, StatusCode::CREATED);
    let found = app.get("/api/v1/users?search=nik", Some(&a)).await;
    assert_eq!(found.body["users"][0]["username"], "nikolai");
    assert!(
        app.get("/api/v1/users?search=%27%20OR%201%3D1", Some(&a))
            .await
            .body["users"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

async fn search_is_scoped_and_safe(app: TestApp) {
    let (a, _) = app.user("pavel").await;
    let (b, b_id) = app.user("raisa").await;
    let (c, _) = app.user("sergei").await;
    let room = app.group(&a, "Search").await;
    app.add(&a, &room, &b_id).await;
    let other = app.group(&c, "Private").await;
    app.say(&a, &room, "the quick brown fox").await;
    let gone = app
        .say(&a, &room, "a brown secret that will be deleted")
        .await;
    app.say(&c, &other, "brown but private").await;
    app.delete(
        &format!(
            "/api/v1/rooms/{room}/messages/{}",
            gone["id"].as_str().unwrap()
        ),
        Some(&a),
    )
    .await;
    let r = app.get("/api/v1/search?q=brown", Some(&b)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["message"]["body"], "the quick brown fox");
    assert!(
        results[0]["snippet"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["highlight"] == true
                && p["text"].as_str().unwrap().to_lowercase().contains("brown"))
    );
    let prefix = app.get("/api/v1/search?q=qui", Some(&b)).await;
    assert_eq!(
        prefix.body["results"].as_array().unwrap().len(),
        1,
        "prefix match"
    );
    for hostile in [
        "%22",
        "*",
        "NEAR(",
        "%27)%20OR%201%3D1%20--",
        "%F0%9F%98%80",
        "brown%20AND%20",
        "-brown",
    ] {
        let r = app
            .get(&format!("/api/v1/search?q={hostile}"), Some(&b))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{hostile}: {}", r.text);
    }
    let long = "x".repeat(10 * 1024);
    let r = app.get(&format!("/api/v1/search?q={long}"), Some(&b)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "query_too_long")
    );
    let r = app
        .get(&format!("/api/v1/search?q=brown&room={other}"), Some(&b))
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "cannot search a room you are not in"
    );
    // After leaving, the room's messages are no longer found.
    app.delete(&format!("/api/v1/rooms/{room}/members/{b_id}"), Some(&b))
        .await;
    assert!(
        app.get("/api/v1/search?q=fox", Some(&b)).await.body["results"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

async fn bad_inputs_are_refused_clearly(app: TestApp) {
    let (a, _) = app.user("tatiana").await;
    let room = app.group(&a, "Inputs").await;
    let other = app.group(&a, "Elsewhere").await;
    let path = format!("/api/v1/rooms/{room}/messages");
    let send = |body: Value| app.post(&path, Some(&a), body);
    let r = send(json!({"client_id": "e1", "body": "   "})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "required")
    );
    let r = send(json!({"client_id": "e2", "body": "x".repeat(4001)})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "too_long")
    );
    let r = send(json!({"client_id": "", "body": "hi"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_client_id")
    );
    let r = send(json!({"body": "no client id"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")
    );
    let r = app
        .post(
            "/api/v1/rooms/not-a-uuid/messages",
            Some(&a),
            json!({"client_id": "e3", "body": "hi"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_id")
    );
    let r = app
        .post(
            &format!("/api/v1/rooms/{}/messages", uuid::Uuid::now_v7()),
            Some(&a),
            json!({"client_id": "e4", "body": "hi"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let foreign = app.say(&a, &other, "in another room").await;
    let r = send(json!({"client_id": "e5", "body": "reply", "reply_to": foreign["id"]})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_reply"),
        "no replies across rooms"
    );
    let dead = app.say(&a, &room, "to be deleted").await;
    app.delete(
        &format!("{path}/{}", dead["id"].as_str().unwrap()),
        Some(&a),
    )
    .await;
    let r = send(json!({"client_id": "e6", "body": "reply", "reply_to": dead["id"]})).await;
    assert_eq!(r.code(), "invalid_reply", "no replies to deleted messages");
    let live = app.say(&a, &room, "react to me").await;
    for emoji in ["x", "%3Cscript%3E", "%F0%9F%91%8D%F0%9F%91%8D", "smile"] {
        let r = app
            .put(
                &format!("{path}/{}/reactions/{emoji}", live["id"].as_str().unwrap()),
                Some(&a),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_emoji"),
            "{emoji}"
        );
    }
    let r = app
        .put(
            &format!(
                "/api/v1/rooms/{other}/messages/{}/reactions/%F0%9F%91%8D",
                live["id"].as_str().unwrap()
            ),
            Some(&a),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "message from another room");
    let r = app
        .put(
            &format!(
                "/api/v1/rooms/{other}/messages/{}/pin",
                live["id"].as_str().unwrap()
            ),
            Some(&a),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "pin across rooms");
    // XSS payloads are stored and returned as text (JSON), never interpreted.
    let xss = "<img src=x onerror=alert(1)><script>alert(2)</script>";
    let r = app
        .patch(
            &format!("/api/v1/rooms/{room}"),
            Some(&a),
            json!({"name": xss, "topic": xss}),
        )
        .await;
    assert_eq!(r.body["name"], xss);
    assert_eq!(app.say(&a, &room, xss).await["body"], xss);
    let r = app
        .get(&format!("/api/v1/rooms/{room}/events?after=abc"), Some(&a))
        .await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    let r = app.get(&format!("{path}?limit=100000"), Some(&a)).await;
    assert_eq!(r.code(), "invalid_limit");
}
