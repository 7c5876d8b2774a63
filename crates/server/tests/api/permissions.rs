//! Per-room permissions beyond the roles, tombstones that say who removed a message, and the
//! rapid join-and-post rule, against both stores.

use crate::gateway::Ws;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

async fn patch_room(app: &TestApp, token: &str, room: &str, body: serde_json::Value) -> Resp {
    app.patch(&format!("/api/v1/rooms/{room}"), Some(token), body)
        .await
}

/// The owner opens pinning and inviting to members and keeps @room to herself; admins cannot
/// hand out or take back what is above them; members see the settings.
async fn a_room_opens_or_reserves_pinning_inviting_and_at_room(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (owner, _) = app.user("olga").await;
    let (admin, admin_id) = app.user("adam").await;
    let (member, member_id) = app.user("mona").await;
    let (_, newbie_id) = app.user("nick").await;
    let room = app.group(&owner, "team").await;
    app.add(&owner, &room, &admin_id).await;
    app.add(&owner, &room, &member_id).await;
    let r = app
        .patch(
            &format!("/api/v1/rooms/{room}/members/{admin_id}"),
            Some(&owner),
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "promote: {}", r.text);
    let r = app
        .get(&format!("/api/v1/rooms/{room}"), Some(&member))
        .await;
    assert_eq!(
        r.body["permissions"],
        json!({"invite": "admin", "pin": "admin", "mention_room": "admin"}),
        "the defaults are today's rules: {}",
        r.text
    );
    let msg = app.say(&member, &room, "pin me").await;
    let pin = format!(
        "/api/v1/rooms/{room}/messages/{}/pin",
        msg["id"].as_str().expect("id")
    );
    assert_eq!(
        app.put(&pin, Some(&member)).await.status,
        StatusCode::FORBIDDEN
    );
    let add = |token: String, user: String| {
        let (app, room) = (&app, room.clone());
        async move {
            app.post(
                &format!("/api/v1/rooms/{room}/members"),
                Some(&token),
                json!({ "user_id": user }),
            )
            .await
        }
    };
    assert_eq!(
        add(member.clone(), newbie_id.clone()).await.status,
        StatusCode::FORBIDDEN
    );

    // An admin cannot reserve @room to the owner (above her role)…
    let r = patch_room(
        &app,
        &admin,
        &room,
        json!({"permissions": {"mention_room": "owner"}}),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "permission_above_role"),
        "{}",
        r.text
    );
    // …bad values are refused as such…
    for body in [
        json!({"permissions": {"pin": "everyone"}}),
        json!({"permissions": {"kick": "member"}}),
        json!({"permissions": "member"}),
    ] {
        let r = patch_room(&app, &owner, &room, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text
        );
    }
    // …the owner can, and opens pinning and inviting to members, announced to everyone.
    let (mut ws, _) = Ws::connect(&app, &member).await;
    let r = patch_room(
        &app,
        &owner,
        &room,
        json!({"permissions": {"pin": "member", "invite": "member", "mention_room": "owner"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["permissions"],
        json!({"invite": "member", "pin": "member", "mention_room": "owner"})
    );
    let ev = loop {
        let ev = ws.next_op("event").await;
        if ev["d"]["type"] == "room.updated" {
            break ev;
        }
    };
    assert_eq!(
        ev["d"]["changes"]["permissions"],
        json!({"invite": "member", "pin": "member", "mention_room": "owner"}),
        "{ev}"
    );
    assert_eq!(
        app.put(&pin, Some(&member)).await.status,
        StatusCode::NO_CONTENT
    );
    let r = add(member.clone(), newbie_id.clone()).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "a member invites now: {}",
        r.text
    );
    // The admin's @room is plain text now; the owner's still notifies.
    let said = app.say(&admin, &room, "@room lunch?").await;
    assert_eq!(said["mentions_room"], false, "{said}");
    let said = app.say(&owner, &room, "@room lunch!").await;
    assert_eq!(said["mentions_room"], true, "{said}");
    // The owner's reserve stays out of the admin's reach, even to reopen.
    let r = patch_room(
        &app,
        &admin,
        &room,
        json!({"permissions": {"mention_room": "member"}}),
    )
    .await;
    assert_eq!(r.code(), "permission_above_role", "{}", r.text);
    // Audited as a settings change.
    let r = app
        .get(&format!("/api/v1/rooms/{room}/audit"), Some(&owner))
        .await;
    assert_eq!(r.body["entries"][0]["action"], "room_updated", "{}", r.text);
    assert_eq!(
        r.body["entries"][0]["details"]["permissions"]["pin"], "member",
        "{}",
        r.text
    );
}

/// A tombstone says who deleted it, in history as live: the sender, or an admin.
async fn tombstones_say_who_removed_the_message(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (owner, owner_id) = app.user("olga").await;
    let (bob, bob_id) = app.user("bob").await;
    let room = app.group(&owner, "team").await;
    app.add(&owner, &room, &bob_id).await;
    let own = app.say(&bob, &room, "oops").await;
    let rude = app.say(&bob, &room, "something rude").await;
    let standing = app.say(&bob, &room, "fine").await;
    for (token, msg) in [(&bob, &own), (&owner, &rude)] {
        let r = app
            .delete(
                &format!(
                    "/api/v1/rooms/{room}/messages/{}",
                    msg["id"].as_str().expect("id")
                ),
                Some(token),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    }
    let r = app
        .get(&format!("/api/v1/rooms/{room}/messages"), Some(&bob))
        .await;
    let by_id = |m: &serde_json::Value| {
        r.body["messages"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", r.text))
            .iter()
            .find(|x| x["id"] == m["id"])
            .cloned()
            .unwrap_or_else(|| panic!("{m} in {}", r.text))
    };
    assert_eq!(by_id(&own)["deleted_by"], bob_id.as_str());
    assert_eq!(by_id(&rude)["deleted_by"], owner_id.as_str());
    assert_eq!(by_id(&rude)["body"], "");
    assert_eq!(by_id(&standing)["deleted_by"], serde_json::Value::Null);
}

/// Links, mentions and files from someone who just joined are refused for a while, on REST and
/// the gateway; plain text passes; admins are exempt; counted.
async fn rapid_join_and_post_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| c.abuse.join_post_seconds = 600).await else {
        return;
    };
    let (owner, owner_id) = app.user("olga").await;
    let (bob, bob_id) = app.user("bob").await;
    let room = app.group(&owner, "team").await;
    app.add(&owner, &room, &bob_id).await;
    app.say(&bob, &room, "hello everyone").await;
    let send = |body: &str| {
        let (app, bob, room, body) = (&app, bob.clone(), room.clone(), body.to_owned());
        async move {
            app.post(
                &format!("/api/v1/rooms/{room}/messages"),
                Some(&bob),
                json!({"client_id": uuid::Uuid::now_v7().to_string(), "body": body}),
            )
            .await
        }
    };
    // (Bob's `@room` is plain text — members may not notify everyone — so it passes.)
    let r = send("@room free stuff").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    for body in ["visit https://spam.example now", "hey @olga"] {
        let r = send(body).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::TOO_MANY_REQUESTS, "too_soon_after_join"),
            "{body}: {}",
            r.text
        );
        let wait: u64 = r.headers["retry-after"]
            .to_str()
            .ok()
            .and_then(|s| s.parse().ok())
            .expect("Retry-After");
        assert!(
            (590..=600).contains(&wait),
            "about the rest of the window: {wait}"
        );
    }
    let (mut ws, _) = Ws::connect(&app, &bob).await;
    let err = ws
        .request(
            "send",
            json!({"room_id": room, "client_id": "ws-1", "body": "https://spam.example"}),
        )
        .await;
    assert_eq!(err["d"]["code"], "too_soon_after_join", "{err}");
    // A DM opened just now is not a group joined: links pass.
    let r = app
        .post("/api/v1/dms", Some(&bob), json!({ "user_id": owner_id }))
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let dm = r.body["id"].as_str().expect("dm id").to_owned();
    app.say(&bob, &dm, "my site: https://example.org").await;
    // The owner (who created the room just now) is exempt.
    let said = app
        .say(&owner, &room, "rules: https://example.org/rules")
        .await;
    assert!(said["id"].is_string());
    assert!(
        app.metrics()
            .await
            .contains("abuse_refusals_total{rule=\"join_and_post\"}")
    );
}

crate::backend_tests!(
    a_room_opens_or_reserves_pinning_inviting_and_at_room,
    tombstones_say_who_removed_the_message,
    rapid_join_and_post_is_refused,
);
