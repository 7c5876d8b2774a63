//! Reports against both stores: a report reaches the room's admins (a DM's, the instance's
//! admins only), is resolved with an audit entry, and the reporter learns the outcome.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn report(app: &TestApp, token: &str, body: Value) -> Resp {
    app.post("/api/v1/reports", Some(token), body).await
}

fn ids(r: &Resp) -> Vec<String> {
    r.body["reports"]
        .as_array()
        .unwrap_or_else(|| panic!("reports: {}", r.text))
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn a_report_reaches_the_admins_and_the_reporter_learns_the_outcome(backend: Backend) {
    let Some(app) =
        TestApp::spawn_with(backend, |c| c.auth.admin_users = vec!["dave".into()]).await
    else {
        return;
    };
    let (alice, alice_id) = app.user("alice").await;
    let (bob, bob_id) = app.user("bob").await;
    let (carol, carol_id) = app.user("carol").await;
    let (dave, _) = app.user("dave").await;
    let room = app.group(&alice, "team").await;
    app.add(&alice, &room, &bob_id).await;
    app.add(&alice, &room, &carol_id).await;
    let msg = app.say(&carol, &room, "buy cheap pills").await;
    let msg_id = msg["id"].as_str().expect("id").to_owned();

    // Refused: nothing or both named, oneself, no reason, too long, not a member.
    for (body, code) in [
        (json!({"room_id": room, "reason": "spam"}), "invalid_target"),
        (
            json!({"room_id": room, "message_id": msg_id, "user_id": carol_id, "reason": "spam"}),
            "invalid_target",
        ),
        (
            json!({"room_id": room, "user_id": bob_id, "reason": "me"}),
            "invalid_target",
        ),
        (
            json!({"room_id": room, "message_id": msg_id, "reason": "  "}),
            "required",
        ),
        (
            json!({"room_id": room, "message_id": msg_id, "reason": "x".repeat(1001)}),
            "too_long",
        ),
    ] {
        let r = report(&app, &bob, body.clone()).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, code),
            "{body}: {}",
            r.text
        );
    }
    let r = report(
        &app,
        &dave,
        json!({"room_id": room, "message_id": msg_id, "reason": "spam"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "not a member: {}", r.text);

    let r = report(
        &app,
        &bob,
        json!({"room_id": room, "message_id": msg_id, "reason": "spam, again"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let report_id = r.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        (
            r.body["status"].as_str(),
            r.body["target_user_id"].as_str(),
            r.body["excerpt"].as_str()
        ),
        (
            Some("open"),
            Some(carol_id.as_str()),
            Some("buy cheap pills")
        )
    );
    let r = report(
        &app,
        &bob,
        json!({"room_id": room, "message_id": msg_id, "reason": "spam"}),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "report_open"),
        "{}",
        r.text
    );
    // An edit cannot hide what was reported.
    let r = app
        .patch(
            &format!("/api/v1/rooms/{room}/messages/{msg_id}"),
            Some(&carol),
            json!({"body": "nothing to see"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // The room's admins see it; members do not.
    let r = app
        .get(&format!("/api/v1/rooms/{room}/reports"), Some(&carol))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = app
        .get(&format!("/api/v1/rooms/{room}/reports"), Some(&alice))
        .await;
    assert_eq!(ids(&r), vec![report_id.clone()]);
    assert_eq!(r.body["reports"][0]["excerpt"], "buy cheap pills");

    // A report about the owner is not shown to the owner, nor resolvable by them.
    let r = report(
        &app,
        &bob,
        json!({"room_id": room, "user_id": alice_id, "reason": "abuses admin rights"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let about_alice = r.body["id"].as_str().expect("id").to_owned();
    let r = app
        .get(&format!("/api/v1/rooms/{room}/reports"), Some(&alice))
        .await;
    assert_eq!(ids(&r), vec![report_id.clone()], "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/reports/{about_alice}/resolve"),
            Some(&alice),
            json!({"action_taken": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // Alice acts and resolves; the reporter reads the outcome; it is audited.
    let r = app
        .delete(
            &format!("/api/v1/rooms/{room}/messages/{msg_id}?reason=spam"),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/reports/{report_id}/resolve"),
            Some(&alice),
            json!({"action_taken": true, "note": "Removed, thanks."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "action_taken");
    assert_eq!(r.body["resolved_by"], alice_id.as_str());
    let r = app
        .post(
            &format!("/api/v1/reports/{report_id}/resolve"),
            Some(&alice),
            json!({"action_taken": false}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "report_resolved"),
        "{}",
        r.text
    );
    let r = app.get("/api/v1/reports/mine", Some(&bob)).await;
    let mine = r.body["reports"].as_array().expect("reports").clone();
    let resolved = mine
        .iter()
        .find(|r| r["id"] == report_id.as_str())
        .expect("listed");
    assert_eq!(resolved["status"], "action_taken");
    assert_eq!(resolved["resolution_note"], "Removed, thanks.");
    assert!(
        app.get("/api/v1/reports/mine", Some(&carol)).await.body["reports"]
            .as_array()
            .expect("reports")
            .is_empty()
    );
    let r = app
        .get(&format!("/api/v1/rooms/{room}/reports"), Some(&alice))
        .await;
    assert!(ids(&r).is_empty(), "open only by default: {}", r.text);
    let r = app
        .get(
            &format!("/api/v1/rooms/{room}/reports?open=false"),
            Some(&alice),
        )
        .await;
    assert_eq!(ids(&r), vec![report_id.clone()]);
    let log = app
        .get(&format!("/api/v1/rooms/{room}/audit"), Some(&alice))
        .await;
    let newest = &log.body["entries"][0];
    assert_eq!(newest["action"], "report_resolved", "{}", log.text);
    assert_eq!(newest["target_user_id"], carol_id.as_str());
    assert_eq!(newest["details"]["report_id"], report_id.as_str());
    assert_eq!(newest["details"]["outcome"], "action_taken");

    // The instance's admin sees every room's reports (the one about the owner too), resolves
    // it, and reads the whole audit log; others may not.
    for path in ["/api/v1/admin/reports", "/api/v1/admin/audit"] {
        let r = app.get(path, Some(&alice)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text);
    }
    let r = app.get("/api/v1/admin/reports", Some(&dave)).await;
    assert_eq!(ids(&r), vec![about_alice.clone()], "{}", r.text);
    assert_eq!(
        r.body["rooms"],
        json!([{"id": room, "kind": "group", "name": "team"}]),
        "the queue names the rooms, members or not: {}",
        r.text
    );
    let r = app
        .post(
            &format!("/api/v1/reports/{about_alice}/resolve"),
            Some(&dave),
            json!({"action_taken": false, "note": "Not against the rules."}),
        )
        .await;
    assert_eq!(r.body["status"], "dismissed", "{}", r.text);
    let r = app.get("/api/v1/admin/audit", Some(&dave)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let actions: Vec<&str> = r.body["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        vec!["report_resolved", "report_resolved", "message_removed"],
        "{}",
        r.text
    );
}

/// A DM has no admins: its reports go to the instance's admins only.
async fn reports_in_a_dm_go_to_the_instance_admins(backend: Backend) {
    let Some(app) =
        TestApp::spawn_with(backend, |c| c.auth.admin_users = vec!["dave".into()]).await
    else {
        return;
    };
    let (bob, _) = app.user("bob").await;
    let (erin, erin_id) = app.user("erin").await;
    let (dave, _) = app.user("dave").await;
    let r = app
        .post("/api/v1/dms", Some(&bob), json!({"user_id": erin_id}))
        .await;
    let dm = r.body["id"].as_str().expect("dm id").to_owned();
    let msg = app.say(&erin, &dm, "a threat").await;
    let r = report(
        &app,
        &bob,
        json!({"room_id": dm, "message_id": msg["id"], "reason": "threatening me"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().expect("id").to_owned();
    for who in [&bob, &erin] {
        let r = app
            .get(&format!("/api/v1/rooms/{dm}/reports"), Some(who))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        let r = app
            .post(
                &format!("/api/v1/reports/{id}/resolve"),
                Some(who),
                json!({"action_taken": false}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    }
    let r = app.get("/api/v1/admin/reports", Some(&dave)).await;
    assert_eq!(ids(&r), vec![id.clone()]);
    let r = app
        .post(
            &format!("/api/v1/reports/{id}/resolve"),
            Some(&dave),
            json!({"action_taken": true}),
        )
        .await;
    assert_eq!(r.body["status"], "action_taken", "{}", r.text);
}

crate::backend_tests!(
    a_report_reaches_the_admins_and_the_reporter_learns_the_outcome,
    reports_in_a_dm_go_to_the_instance_admins,
);
