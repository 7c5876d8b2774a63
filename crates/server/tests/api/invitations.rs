//! Consent to be added, against both stores: a person's setting turns an add into an
//! invitation they accept or decline, told live on their socket.

use crate::gateway::Ws;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

async fn an_add_becomes_an_invitation_the_person_accepts_or_declines(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (alice, _) = app.user("alice").await;
    let (bob, bob_id) = app.user("bob").await;
    let (carol, carol_id) = app.user("carol").await;
    let r = app.get("/api/v1/users/me", Some(&bob)).await;
    assert_eq!(r.body["group_adds"], "anyone", "the default: {}", r.text);
    for bad in [json!("everyone"), json!(1), json!(["nobody"])] {
        let r = app
            .patch("/api/v1/users/me", Some(&bob), json!({ "group_adds": bad }))
            .await;
        assert!(r.status.is_client_error(), "{bad}: {}", r.text);
    }
    assert_eq!(
        app.get("/api/v1/users/me", Some(&bob)).await.body["group_adds"],
        "anyone",
        "nothing changed"
    );
    let r = app
        .patch(
            "/api/v1/users/me",
            Some(&bob),
            json!({"group_adds": "nobody"}),
        )
        .await;
    assert_eq!(r.body["group_adds"], "nobody", "{}", r.text);
    let (mut bob_ws, _) = Ws::connect(&app, &bob).await;

    let room = app.group(&alice, "team").await;
    let add = |who: &str| {
        let (app, alice, room, who) = (&app, alice.clone(), room.clone(), who.to_owned());
        async move {
            app.post(
                &format!("/api/v1/rooms/{room}/members"),
                Some(&alice),
                json!({ "user_id": who }),
            )
            .await
        }
    };
    let r = add(&bob_id).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["status"], "invited");
    let frame = bob_ws.next_op("invitation").await;
    assert_eq!(frame["d"]["room_id"], room.as_str(), "{frame}");
    let r = add(&bob_id).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "already_invited"),
        "{}",
        r.text
    );
    // Not a member until he says so.
    let r = app
        .get(&format!("/api/v1/rooms/{room}/messages"), Some(&bob))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app.get("/api/v1/invitations", Some(&bob)).await;
    let list = r.body["invitations"]
        .as_array()
        .expect("invitations")
        .clone();
    assert_eq!(list.len(), 1, "{}", r.text);
    assert_eq!(list[0]["room_name"], "team");
    assert_eq!(list[0]["invited_by"]["username"], "alice");
    let r = app
        .post(
            &format!("/api/v1/invitations/{room}/accept"),
            Some(&bob),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["my_role"], "member");
    let r = app
        .get(&format!("/api/v1/rooms/{room}/events?after=0"), Some(&bob))
        .await;
    let joined = r.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["type"] == "member.joined" && e["user_id"] == bob_id.as_str())
        .expect("bob joined")
        .clone();
    let alice_id = app.get("/api/v1/users/me", Some(&alice)).await.body["id"].clone();
    assert_eq!(joined["actor_id"], alice_id, "added by the inviter");
    assert!(
        app.get("/api/v1/invitations", Some(&bob)).await.body["invitations"]
            .as_array()
            .expect("invitations")
            .is_empty()
    );

    // "People I share a room with": Alice now shares one with Bob, not with Carol.
    for token in [&bob, &carol] {
        let r = app
            .patch(
                "/api/v1/users/me",
                Some(token),
                json!({"group_adds": "shared_room"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let second = app.group(&alice, "second").await;
    let r = app
        .post(
            &format!("/api/v1/rooms/{second}/members"),
            Some(&alice),
            json!({ "user_id": bob_id }),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "they share a room: {}",
        r.text
    );
    let r = app
        .post(
            &format!("/api/v1/rooms/{second}/members"),
            Some(&alice),
            json!({ "user_id": carol_id }),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let r = app
        .delete(&format!("/api/v1/invitations/{second}"), Some(&carol))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .delete(&format!("/api/v1/invitations/{second}"), Some(&carol))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/invitations/{second}/accept"),
            Some(&carol),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "declined: {}", r.text);
    let r = app
        .get(&format!("/api/v1/rooms/{second}/members"), Some(&alice))
        .await;
    assert_eq!(
        r.body["members"].as_array().map(Vec::len),
        Some(2),
        "Carol never joined: {}",
        r.text
    );

    // Blocking still wins: a blocked person cannot even invite.
    let r = app
        .put(
            &format!("/api/v1/users/{}/block", alice_id.as_str().expect("id")),
            Some(&carol),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/rooms/{second}/members"),
            Some(&alice),
            json!({ "user_id": carol_id }),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "blocked"),
        "{}",
        r.text
    );
}

crate::backend_tests!(an_add_becomes_an_invitation_the_person_accepts_or_declines);
