//! Moderation against both stores, over REST and the gateway: mutes, slow mode, reasons, and
//! the audit log that records every action and that nothing in the API can change.

use crate::gateway::Ws;
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// The next event of `kind` on the socket (others skipped).
async fn next_event(ws: &mut Ws, kind: &str) -> serde_json::Value {
    loop {
        let ev = ws.next_op("event").await;
        if ev["d"]["type"] == kind {
            return ev;
        }
    }
}

async fn send(app: &TestApp, token: &str, room: &str, client_id: &str) -> Resp {
    app.post(
        &format!("/api/v1/rooms/{room}/messages"),
        Some(token),
        json!({"client_id": client_id, "body": format!("hello {client_id}")}),
    )
    .await
}

/// A muted member can read but not post (REST and gateway), react or edit, until the mute is
/// lifted; only admins mute, only those they outrank, and everyone sees the events.
async fn a_muted_member_cannot_post_react_or_edit(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (alice, alice_id) = app.user("alice").await;
    let (bob, bob_id) = app.user("bob").await;
    let (carol, carol_id) = app.user("carol").await;
    let room = app.group(&alice, "team").await;
    app.add(&alice, &room, &bob_id).await;
    app.add(&alice, &room, &carol_id).await;
    let before = app.say(&bob, &room, "before the mute").await;
    let msg_id = before["id"].as_str().expect("id").to_owned();
    let (mut bob_ws, _) = Ws::connect(&app, &bob).await;

    let mute = |who: &str, token: &str, minutes: i64| {
        let path = format!("/api/v1/rooms/{room}/members/{who}/mute");
        let token = token.to_owned();
        let app = &app;
        async move {
            app.send(
                Method::PUT,
                &path,
                Some(&token),
                Some(json!({"minutes": minutes, "reason": "flooding"})),
                &[],
            )
            .await
        }
    };
    // Members cannot mute; nobody mutes the owner; the length is bounded.
    let r = mute(&carol_id, &bob, 10).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = mute(&bob_id, &alice, 0).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = mute(&bob_id, &alice, 525_601).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = app
        .patch(
            &format!("/api/v1/rooms/{room}/members/{carol_id}"),
            Some(&alice),
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = mute(&alice_id, &carol, 10).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "an admin cannot mute the owner"
    );

    let r = mute(&bob_id, &carol, 10).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["muted_until"].is_string(), "{}", r.text);
    let ev = next_event(&mut bob_ws, "member.muted").await;
    assert_eq!(ev["d"]["user_id"], bob_id.as_str());
    assert_eq!(ev["d"]["muted_until"], r.body["muted_until"]);
    let members = app
        .get(&format!("/api/v1/rooms/{room}/members"), Some(&alice))
        .await;
    let bob_row = members.body["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["user"]["id"] == bob_id.as_str())
        .expect("bob listed")
        .clone();
    assert_eq!(bob_row["muted_until"], r.body["muted_until"]);

    let r = send(&app, &bob, &room, "muted-rest").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "muted"),
        "{}",
        r.text
    );
    let err = bob_ws
        .request(
            "send",
            json!({"room_id": room, "client_id": "muted-ws", "body": "let me"}),
        )
        .await;
    assert_eq!(
        (err["op"].as_str(), err["d"]["code"].as_str()),
        (Some("error"), Some("muted")),
        "{err}"
    );
    let r = app
        .put(
            &format!("/api/v1/rooms/{room}/messages/{msg_id}/reactions/%F0%9F%91%8D"),
            Some(&bob),
        )
        .await;
    assert_eq!(r.code(), "muted", "{}", r.text);
    let r = app
        .patch(
            &format!("/api/v1/rooms/{room}/messages/{msg_id}"),
            Some(&bob),
            json!({"body": "edited while muted"}),
        )
        .await;
    assert_eq!(r.code(), "muted", "{}", r.text);
    // Reading still works, and others still talk.
    let r = app
        .get(&format!("/api/v1/rooms/{room}/messages"), Some(&bob))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        send(&app, &carol, &room, "carol-ok").await.status,
        StatusCode::CREATED
    );

    // Lifted: posting works again at once (the send path's cache hears the event).
    let r = app
        .delete(
            &format!("/api/v1/rooms/{room}/members/{bob_id}/mute?reason=apologised"),
            Some(&carol),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let ev = next_event(&mut bob_ws, "member.unmuted").await;
    assert_eq!(ev["d"]["actor_id"], carol_id.as_str(), "{ev}");
    let r = app
        .delete(
            &format!("/api/v1/rooms/{room}/members/{bob_id}/mute"),
            Some(&carol),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "not muted any more: {}",
        r.text
    );
    assert_eq!(
        send(&app, &bob, &room, "free-again").await.status,
        StatusCode::CREATED
    );
    let ack = bob_ws
        .request(
            "send",
            json!({"room_id": room, "client_id": "free-ws", "body": "and here"}),
        )
        .await;
    assert_eq!(ack["op"], "ack", "{ack}");
}

/// Slow mode lets a member post once per interval on REST and the gateway together (429
/// `slow_mode` with Retry-After), spares admins, lets a retry of a sent message through, and
/// turns off.
async fn slow_mode_paces_members_but_not_admins(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (alice, _) = app.user("alice").await;
    let (bob, bob_id) = app.user("bob").await;
    let room = app.group(&alice, "calm").await;
    app.add(&alice, &room, &bob_id).await;
    let r = app
        .patch(
            &format!("/api/v1/rooms/{room}"),
            Some(&bob),
            json!({"slow_mode_seconds": 60}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "members cannot set it");
    for bad in [json!(-1), json!(21_601), json!("60")] {
        let r = app
            .patch(
                &format!("/api/v1/rooms/{room}"),
                Some(&alice),
                json!({ "slow_mode_seconds": bad }),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
    }
    let r = app
        .patch(
            &format!("/api/v1/rooms/{room}"),
            Some(&alice),
            json!({"slow_mode_seconds": 60}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["slow_mode_seconds"], 60);
    let r = app.get(&format!("/api/v1/rooms/{room}"), Some(&bob)).await;
    assert_eq!(r.body["slow_mode_seconds"], 60, "members see it");

    let first = send(&app, &bob, &room, "s-1").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let r = send(&app, &bob, &room, "s-2").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "slow_mode"),
        "{}",
        r.text
    );
    let retry: u64 = r.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // The gateway shares the same pace.
    let (mut ws, _) = Ws::connect(&app, &bob).await;
    let err = ws
        .request(
            "send",
            json!({"room_id": room, "client_id": "s-ws", "body": "me too"}),
        )
        .await;
    assert_eq!(err["d"]["code"], "slow_mode", "{err}");
    // A retry of the message already sent is answered with it, not refused.
    let again = send(&app, &bob, &room, "s-1").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["id"], first.body["id"]);
    // Admins are exempt.
    for i in 0..3 {
        let r = send(&app, &alice, &room, &format!("a-{i}")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    // Off again: Bob may post (his earlier cooldown was under the old interval, so turning
    // slow mode off lets him through at once).
    let r = app
        .patch(
            &format!("/api/v1/rooms/{room}"),
            Some(&alice),
            json!({"slow_mode_seconds": 0}),
        )
        .await;
    assert_eq!(r.body["slow_mode_seconds"], 0, "{}", r.text);
    let r = send(&app, &bob, &room, "s-3").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

/// Every moderation action is in the room's audit log with actor, target, reason and time;
/// only admins read it; nothing in the API alters it.
async fn the_audit_log_records_each_action_and_cannot_be_altered(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (alice, alice_id) = app.user("alice").await;
    let (bob, bob_id) = app.user("bob").await;
    let (carol, carol_id) = app.user("carol").await;
    let room = app.group(&alice, "audited").await;
    app.add(&alice, &room, &bob_id).await;
    app.add(&alice, &room, &carol_id).await;
    let rude = app.say(&bob, &room, "something rude").await;
    let rude_id = rude["id"].as_str().expect("id").to_owned();

    let r = app
        .delete(
            &format!("/api/v1/rooms/{room}/messages/{rude_id}?reason=rude"),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .patch(
            &format!("/api/v1/rooms/{room}"),
            Some(&alice),
            json!({"slow_mode_seconds": 10, "topic": "be nice"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .delete(
            &format!("/api/v1/rooms/{room}/members/{carol_id}?reason=inactive"),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/rooms/{room}/bans"),
            Some(&alice),
            json!({"user_id": bob_id, "reason": "repeated abuse"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/rooms/{room}/bans"),
            Some(&alice),
            json!({"user_id": bob_id, "reason": "x".repeat(501)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = app
        .delete(
            &format!("/api/v1/rooms/{room}/bans/{bob_id}?reason=second%20chance"),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

    let log = app
        .get(&format!("/api/v1/rooms/{room}/audit"), Some(&alice))
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    let entries = log.body["entries"].as_array().expect("entries").clone();
    let summary: Vec<(&str, Option<&str>, Option<&str>)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action"),
                e["target_user_id"].as_str(),
                e["reason"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "member_unbanned",
                Some(bob_id.as_str()),
                Some("second chance")
            ),
            (
                "member_banned",
                Some(bob_id.as_str()),
                Some("repeated abuse")
            ),
            ("member_kicked", Some(carol_id.as_str()), Some("inactive")),
            ("room_updated", None, None),
            ("message_removed", Some(bob_id.as_str()), Some("rude")),
        ],
        "{}",
        log.text
    );
    assert!(entries.iter().all(|e| e["actor_id"] == alice_id.as_str()));
    assert_eq!(entries[4]["target_message_id"], rude_id.as_str());
    assert_eq!(entries[3]["details"]["slow_mode_seconds"], 10);
    assert_eq!(entries[3]["details"]["topic"], "be nice");
    assert!(entries[0]["created_at"].is_string());

    // Paged by id.
    let oldest_two = app
        .get(
            &format!(
                "/api/v1/rooms/{room}/audit?before={}&limit=2",
                entries[2]["id"].as_str().expect("id")
            ),
            Some(&alice),
        )
        .await;
    let ids: Vec<&str> = oldest_two.body["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        vec![
            entries[3]["id"].as_str().unwrap(),
            entries[4]["id"].as_str().unwrap()
        ]
    );
    let r = app
        .get(&format!("/api/v1/rooms/{room}/audit?limit=0"), Some(&alice))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);

    // Members don't read it; outsiders don't learn the room exists.
    app.add(&alice, &room, &bob_id).await;
    let r = app
        .get(&format!("/api/v1/rooms/{room}/audit"), Some(&bob))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = app
        .get(&format!("/api/v1/rooms/{room}/audit"), Some(&carol))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // No method changes it.
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        let r = app
            .send(
                method.clone(),
                &format!("/api/v1/rooms/{room}/audit"),
                Some(&alice),
                Some(json!({"entries": []})),
                &[],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}: {}",
            r.text
        );
    }
    let after = app
        .get(&format!("/api/v1/rooms/{room}/audit"), Some(&alice))
        .await;
    assert_eq!(after.body["entries"].as_array().map(Vec::len), Some(5));
}

crate::backend_tests!(
    a_muted_member_cannot_post_react_or_edit,
    slow_mode_paces_members_but_not_admins,
    the_audit_log_records_each_action_and_cannot_be_altered,
);
