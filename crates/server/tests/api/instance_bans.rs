//! Instance-wide bans against both stores: a suspended account is out at once (tokens, refresh,
//! sockets) and cannot sign in again until reinstated; sign-up blocks refuse new accounts from
//! a range; only instance admins do either, and every change is in the instance's audit log.

use crate::gateway::Ws;
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> Resp {
    app.send(Method::PUT, path, Some(token), Some(body), &[])
        .await
}

fn audit_actions(r: &Resp) -> Vec<(String, String)> {
    r.body["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("entries: {}", r.text))
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_owned(),
                e["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn a_suspended_account_is_out_at_once_and_cannot_sign_in(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| {
        c.auth.admin_users = vec!["dave".into(), "erin".into()]
    })
    .await
    else {
        return;
    };
    let dave_auth = app.register("dave").await;
    assert_eq!(
        dave_auth["user"]["instance_admin"], true,
        "login and sign-up answers say who is an instance admin: {dave_auth}"
    );
    let dave = token(&dave_auth);
    let (_, erin_id) = app.user("erin").await;
    let (alice, _) = app.user("alice").await;
    let mallory_auth = app.register("mallory").await;
    assert_eq!(mallory_auth["user"]["instance_admin"], false);
    let mallory = token(&mallory_auth);
    let mallory_id = mallory_auth["user"]["id"].as_str().expect("id").to_owned();
    let (mut ws, _) = Ws::connect(&app, &mallory).await;
    let path = format!("/api/v1/admin/suspensions/{mallory_id}");

    // Only instance admins; not oneself; not another instance admin.
    let r = put(&app, &path, &alice, json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{}",
        r.text
    );
    let dave_id = dave_auth["user"]["id"].as_str().expect("id");
    let r = put(
        &app,
        &format!("/api/v1/admin/suspensions/{dave_id}"),
        &dave,
        json!({}),
    )
    .await;
    assert_eq!(r.code(), "cannot_suspend_self", "{}", r.text);
    let r = put(
        &app,
        &format!("/api/v1/admin/suspensions/{erin_id}"),
        &dave,
        json!({}),
    )
    .await;
    assert_eq!(r.code(), "cannot_suspend_admin", "{}", r.text);
    let r = put(
        &app,
        &format!("/api/v1/admin/suspensions/{}", uuid::Uuid::now_v7()),
        &dave,
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = put(&app, "/api/v1/admin/suspensions/nope", &dave, json!({})).await;
    assert_eq!(r.code(), "invalid_id", "{}", r.text);
    let r = put(&app, &path, &dave, json!({"reason": "x".repeat(501)})).await;
    assert_eq!(r.code(), "too_long", "{}", r.text);
    let r = put(
        &app,
        &path,
        &dave,
        json!({"block_signups_from": "0.0.0.0/0"}),
    )
    .await;
    assert_eq!(r.code(), "too_wide", "{}", r.text);
    // The refused requests changed nothing.
    assert_eq!(
        app.get("/api/v1/users/me", Some(&mallory)).await.status,
        StatusCode::OK
    );

    let r = put(&app, &path, &dave, json!({"reason": "spam run"})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    // Out at once: the access token, the socket, the refresh token.
    let r = app.get("/api/v1/users/me", Some(&mallory)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(ws.closed().await, Some(4003), "the socket is closed");
    let r = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh_token(&mallory_auth)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    // Signing in again: refused after the password check (a wrong one says only "wrong").
    let r = app.login("mallory", &password_for("mallory")).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "account_suspended"),
        "{}",
        r.text
    );
    let r = app.login("mallory", "not the password at all").await;
    assert_eq!(r.code(), "invalid_credentials", "{}", r.text);
    // Idempotent; listed.
    let r = put(&app, &path, &dave, json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app.get("/api/v1/admin/suspensions", Some(&dave)).await;
    assert_eq!(r.body["users"][0]["id"], mallory_id.as_str(), "{}", r.text);
    assert_eq!(r.body["users"][0]["username"], "mallory");
    assert!(r.body["users"][0]["suspended_at"].is_string());
    let r = app.get("/api/v1/admin/suspensions", Some(&alice)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Reinstated: signs in as before.
    let r = app
        .delete(&format!("{path}?reason=appeal%20granted"), Some(&dave))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app.login("mallory", &password_for("mallory")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.get("/api/v1/admin/suspensions", Some(&dave)).await;
    assert_eq!(r.body["users"], json!([]), "{}", r.text);

    let r = app.get("/api/v1/admin/audit", Some(&dave)).await;
    let actions = audit_actions(&r);
    assert_eq!(
        actions[..2],
        [
            (
                "account_unsuspended".to_owned(),
                "appeal granted".to_owned()
            ),
            ("account_suspended".to_owned(), "spam run".to_owned()),
        ],
        "once each, however often asked: {actions:?}"
    );
    assert_eq!(r.body["entries"][1]["target_user_id"], mallory_id.as_str());
}

async fn sign_ups_from_a_blocked_range_are_refused(backend: Backend) {
    let Some(app) =
        TestApp::spawn_with(backend, |c| c.auth.admin_users = vec!["dave".into()]).await
    else {
        return;
    };
    let (dave, _) = app.user("dave").await;
    let (alice, _) = app.user("alice").await;
    let (_, bob_id) = app.user("bob").await;
    let block = |token: String, body: Value| {
        let app = &app;
        async move {
            app.post("/api/v1/admin/signup-blocks", Some(&token), body)
                .await
        }
    };
    let r = block(alice.clone(), json!({"cidr": "127.0.0.1"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    for (cidr, code) in [
        ("localhost", "invalid"),
        ("10.0.0.0/33", "invalid"),
        ("10.0.0.0/7", "too_wide"),
        ("::/15", "too_wide"),
    ] {
        let r = block(dave.clone(), json!({ "cidr": cidr })).await;
        assert_eq!(
            (r.status, r.code(), r.body["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, code, Some("cidr")),
            "{cidr}: {}",
            r.text
        );
    }
    let r = block(
        dave.clone(),
        json!({"cidr": " 127.0.0.1 ", "reason": "sign-up bots"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["cidr"], "127.0.0.1/32", "normalised");
    let block_id = r.body["id"].as_str().expect("id").to_owned();
    let r = block(dave.clone(), json!({"cidr": "127.0.0.1/32"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "already_blocked"),
        "{}",
        r.text
    );

    let register = |name: &str| {
        let (app, name) = (&app, name.to_owned());
        async move {
            app.post(
                "/api/v1/auth/register",
                None,
                json!({"username": name, "password": password_for(&name)}),
            )
            .await
        }
    };
    let r = register("newcomer").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "signup_blocked"),
        "{}",
        r.text
    );
    // Existing accounts are not affected.
    assert_eq!(
        app.login("bob", &password_for("bob")).await.status,
        StatusCode::OK
    );
    assert!(
        app.metrics()
            .await
            .contains("abuse_refusals_total{rule=\"signup_block\"}")
    );

    let r = app.get("/api/v1/admin/signup-blocks", Some(&dave)).await;
    assert_eq!(r.body["blocks"][0]["id"], block_id.as_str(), "{}", r.text);
    assert_eq!(r.body["blocks"][0]["reason"], "sign-up bots");
    let r = app
        .delete(
            &format!("/api/v1/admin/signup-blocks/{block_id}"),
            Some(&dave),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .delete(
            &format!("/api/v1/admin/signup-blocks/{block_id}"),
            Some(&dave),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = register("newcomer").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // Suspending can block the person's range in the same step.
    let r = put(
        &app,
        &format!("/api/v1/admin/suspensions/{bob_id}"),
        &dave,
        json!({"reason": "ban evasion", "block_signups_from": "127.0.0.0/24"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(register("bobagain").await.code(), "signup_blocked");
    let r = app.get("/api/v1/admin/audit", Some(&dave)).await;
    let actions = audit_actions(&r);
    assert_eq!(
        actions[..2],
        [
            ("signup_block_added".to_owned(), "ban evasion".to_owned()),
            ("account_suspended".to_owned(), "ban evasion".to_owned()),
        ],
        "{actions:?}"
    );
}

crate::backend_tests!(
    a_suspended_account_is_out_at_once_and_cannot_sign_in,
    sign_ups_from_a_blocked_range_are_refused,
);
