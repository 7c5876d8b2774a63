//! Retention against both stores: a purge removes old bodies, their files and search entries,
//! leaves tombstones a reconnecting client catches up with, and rooms may keep less than the
//! server, never more.

use crate::helpers::*;
use crate::media::{png, stored_objects, upload_ok};
use chrono::{Duration, Utc};
use justus_server::retention::purge_once;
use reqwest::StatusCode;
use serde_json::json;

async fn old_messages_go_with_their_files_leaving_tombstones(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| c.retention.days = 30).await else {
        return;
    };
    let r = app.get("/api/v1/config", None).await;
    assert_eq!(r.body["retention_days"], 30, "{}", r.text);
    let (alice, _) = app.user("alice").await;
    let (bob, bob_id) = app.user("bob").await;
    let room = app.group(&alice, "team").await;
    app.add(&alice, &room, &bob_id).await;
    let upload = upload_ok(&app, &alice, "old.png", &png(64, 64)).await;
    let media = upload["id"].as_str().expect("media id").to_owned();
    let r = app
        .post(
            &format!("/api/v1/rooms/{room}/messages"),
            Some(&alice),
            json!({"client_id": "c-old", "body": "quokka secrets", "attachments": [media]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let old_id = r.body["id"].as_str().expect("message id").to_owned();
    let bob_at = app
        .get(&format!("/api/v1/rooms/{room}"), Some(&bob))
        .await
        .body["last_seq"]
        .as_i64()
        .expect("last_seq");
    assert!(
        stored_objects(&app)
            .iter()
            .any(|p| p.to_string_lossy().contains(&media))
    );

    let state = &app._server.state;
    let now = purge_once(state, Utc::now(), false).await.expect("purge");
    assert_eq!(now.messages, 0, "nothing is due yet");
    let later = Utc::now() + Duration::days(31);
    let dry = purge_once(state, later, true).await.expect("dry run");
    assert_eq!((dry.rooms(), dry.messages), (1, 1));
    let r = app
        .get(&format!("/api/v1/rooms/{room}/messages"), Some(&bob))
        .await;
    assert_eq!(
        r.body["messages"][0]["body"], "quokka secrets",
        "a dry run changes nothing"
    );

    let done = purge_once(state, later, false).await.expect("purge");
    assert_eq!((done.rooms(), done.messages, done.files), (1, 1, 1));
    assert!(
        stored_objects(&app)
            .iter()
            .all(|p| !p.to_string_lossy().contains(&media)),
        "the file and its thumbnails are gone from disk"
    );
    let r = app
        .get(&format!("/api/v1/media/{media}"), Some(&alice))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // Bob, reconnecting, catches up from where he was: the tombstone, by the server.
    let r = app
        .get(
            &format!("/api/v1/rooms/{room}/events?after={bob_at}"),
            Some(&bob),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let events = r.body["events"].as_array().expect("events").clone();
    assert_eq!(events.len(), 1, "{}", r.text);
    assert_eq!(events[0]["type"], "message.deleted");
    assert_eq!(
        events[0]["actor_id"],
        "00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(events[0]["message"]["id"], old_id.as_str());
    assert_eq!(events[0]["message"]["body"], "");
    let r = app
        .get(&format!("/api/v1/rooms/{room}/messages"), Some(&bob))
        .await;
    let m = &r.body["messages"][0];
    assert_eq!(
        (
            m["body"].as_str(),
            m["attachments"].as_array().map(Vec::len)
        ),
        (Some(""), Some(0))
    );
    assert!(m["deleted_at"].is_string(), "{m}");
    let r = app.get("/api/v1/search?q=quokka", Some(&bob)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["results"].as_array().map(Vec::len),
        Some(0),
        "{}",
        r.text
    );
    // A second pass finds nothing more.
    assert_eq!(
        purge_once(state, later, false)
            .await
            .expect("purge")
            .messages,
        0
    );
}

async fn rooms_may_keep_less_never_more(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| c.retention.days = 30).await else {
        return;
    };
    let (alice, _) = app.user("alice").await;
    let (bob, bob_id) = app.user("bob").await;
    let room = app.group(&alice, "team").await;
    app.add(&alice, &room, &bob_id).await;
    let path = format!("/api/v1/rooms/{room}");
    for bad in [json!(0), json!(-1), json!(36_501), json!("7")] {
        let r = app
            .patch(&path, Some(&alice), json!({"retention_days": bad}))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
    }
    let r = app
        .patch(&path, Some(&bob), json!({"retention_days": 7}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "members may not: {}",
        r.text
    );
    let r = app
        .patch(&path, Some(&alice), json!({"retention_days": 7}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["retention_days"], 7);
    app.say(&alice, &room, "short-lived").await;
    let state = &app._server.state;
    let in_8_days = Utc::now() + Duration::days(8);
    assert_eq!(
        purge_once(state, in_8_days, true)
            .await
            .expect("dry")
            .messages,
        1,
        "the room's 7 days apply"
    );
    // A room asking for longer than the server keeps is held to the server's 30 days.
    let r = app
        .patch(&path, Some(&alice), json!({"retention_days": 365}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        purge_once(state, in_8_days, true)
            .await
            .expect("dry")
            .messages,
        0
    );
    let in_31_days = Utc::now() + Duration::days(31);
    assert_eq!(
        purge_once(state, in_31_days, true)
            .await
            .expect("dry")
            .messages,
        1
    );
    let r = app
        .patch(&path, Some(&alice), json!({"retention_days": null}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["retention_days"].is_null(), "{}", r.text);
}

crate::backend_tests!(
    old_messages_go_with_their_files_leaving_tombstones,
    rooms_may_keep_less_never_more,
);
