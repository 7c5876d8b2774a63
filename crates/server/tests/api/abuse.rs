//! Spam heuristics and new-account limits against both stores: each rule refuses with its own
//! code, on REST and the gateway, and is counted.

use crate::gateway::Ws;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

async fn send(app: &TestApp, token: &str, room: &str, client_id: &str, body: &str) -> Resp {
    app.post(
        &format!("/api/v1/rooms/{room}/messages"),
        Some(token),
        json!({"client_id": client_id, "body": body}),
    )
    .await
}

async fn link_and_mention_floods_and_the_same_text_in_many_rooms_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (alice, _) = app.user("alice").await;
    let rooms = [
        app.group(&alice, "one").await,
        app.group(&alice, "two").await,
        app.group(&alice, "three").await,
        app.group(&alice, "four").await,
    ];
    let links = |n: usize| {
        (0..n)
            .map(|i| format!("https://example.org/{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let r = send(&app, &alice, &rooms[0], "l-10", &links(10)).await;
    assert_eq!(r.status, StatusCode::CREATED, "ten links pass: {}", r.text);
    let r = send(&app, &alice, &rooms[0], "l-11", &links(11)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "link_flood"),
        "{}",
        r.text
    );
    let names = |n: usize| {
        (0..n)
            .map(|i| format!("@someone{i:02}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let r = send(&app, &alice, &rooms[0], "m-20", &names(20)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = send(&app, &alice, &rooms[0], "m-21", &names(21)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "mention_flood"),
        "{}",
        r.text
    );
    // Editing into a flood is refused too.
    let id = r.body["id"].clone();
    let first = send(&app, &alice, &rooms[0], "e-1", "short").await;
    let r = app
        .patch(
            &format!(
                "/api/v1/rooms/{}/messages/{}",
                rooms[0],
                first.body["id"].as_str().expect("id")
            ),
            Some(&alice),
            json!({"body": links(11)}),
        )
        .await;
    assert_eq!(r.code(), "link_flood", "{} {id}", r.text);

    // The same text in three rooms passes; the fourth room refuses it, on REST and the gateway.
    let spam = "Cheap pills, best prices, visit our shop now";
    for (i, room) in rooms[..3].iter().enumerate() {
        let r = send(&app, &alice, room, &format!("d-{i}"), spam).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let r = send(&app, &alice, &rooms[0], "d-again", spam).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "the same room again: {}",
        r.text
    );
    let r = send(
        &app,
        &alice,
        &rooms[3],
        "d-3",
        "CHEAP pills,   best prices, visit our shop now",
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "duplicate_message"),
        "case and spacing do not hide it: {}",
        r.text
    );
    assert!(r.headers.contains_key("retry-after"));
    let (mut ws, _) = Ws::connect(&app, &alice).await;
    let err = ws
        .request(
            "send",
            json!({"room_id": rooms[3], "client_id": "d-ws", "body": spam}),
        )
        .await;
    assert_eq!(err["d"]["code"], "duplicate_message", "{err}");
    let r = send(
        &app,
        &alice,
        &rooms[3],
        "d-other",
        "something else entirely, and long",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let metrics = app.metrics().await;
    for rule in ["link_flood", "mention_flood", "duplicate_text"] {
        assert!(
            metrics.contains(&format!("abuse_refusals_total{{rule=\"{rule}\"}}")),
            "{rule} counted"
        );
    }
}

async fn new_accounts_start_only_a_few_conversations(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| {
        c.abuse.new_account_hours = 24;
        c.abuse.new_account_groups_per_day = 2;
        c.abuse.new_account_dms_per_hour = 1;
        c.abuse.new_account_uploads_per_hour = 1;
        c.abuse.new_account_max_links = 1;
    })
    .await
    else {
        return;
    };
    let (alice, _) = app.user("alice").await;
    let (_, bob_id) = app.user("bob").await;
    let (_, carol_id) = app.user("carol").await;
    let (_, dave_id) = app.user("dave").await;
    let first = app.group(&alice, "first").await;
    app.group(&alice, "second").await;
    let r = app
        .post("/api/v1/rooms", Some(&alice), json!({"name": "third"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "new_account_limit"),
        "{}",
        r.text
    );
    assert!(r.headers.contains_key("retry-after"));
    // A DM with a stranger, then no more; someone she shares a room with is not a stranger.
    let dm = |peer: &str| {
        let (app, alice, peer) = (&app, alice.clone(), peer.to_owned());
        async move {
            app.post("/api/v1/dms", Some(&alice), json!({ "user_id": peer }))
                .await
        }
    };
    let r = dm(&bob_id).await;
    assert!(r.status.is_success(), "{}", r.text);
    let r = dm(&carol_id).await;
    assert_eq!(r.code(), "new_account_limit", "{}", r.text);
    app.add(&alice, &first, &dave_id).await;
    let r = dm(&dave_id).await;
    assert!(r.status.is_success(), "shares a room: {}", r.text);
    let r = dm(&bob_id).await;
    assert!(r.status.is_success(), "the existing DM: {}", r.text);

    // Fewer links per message, and fewer uploads.
    let r = send(&app, &alice, &first, "nl-1", "see https://a.example").await;
    assert_eq!(r.status, StatusCode::CREATED, "one link passes: {}", r.text);
    let r = send(
        &app,
        &alice,
        &first,
        "nl-2",
        "https://a.example https://b.example",
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "new_account_links"),
        "{}",
        r.text
    );
    let r = crate::media::upload(&app, &alice, "one.txt", b"first file").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = crate::media::upload(&app, &alice, "two.txt", b"second file").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "new_account_limit"),
        "{}",
        r.text
    );
    let metrics = app.metrics().await;
    for rule in ["new_account_links", "new_account_uploads"] {
        assert!(
            metrics.contains(&format!("abuse_refusals_total{{rule=\"{rule}\"}}")),
            "{rule} counted"
        );
    }
}

crate::backend_tests!(
    link_and_mention_floods_and_the_same_text_in_many_rooms_are_refused,
    new_accounts_start_only_a_few_conversations,
);
