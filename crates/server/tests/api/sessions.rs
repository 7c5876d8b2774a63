use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

crate::both_backends!(
    logout_ends_this_session_only,
    logout_all_ends_every_session,
    list_and_revoke_sessions,
    forwarded_for_only_from_trusted_proxies
);

async fn logout_ends_this_session_only(app: TestApp) {
    let a = app.register("olga").await;
    let b = app.login("olga", &password_for("olga")).await.body;
    let r = app
        .send(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&token(&a)),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let me = app.get("/api/v1/users/me", Some(&token(&a))).await;
    assert_eq!(
        (me.status, me.code()),
        (StatusCode::UNAUTHORIZED, "session_revoked")
    );
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh_token(&a)}),
        )
        .await;
    assert_eq!(
        (refresh.status, refresh.code()),
        (StatusCode::UNAUTHORIZED, "session_expired")
    );
    assert_eq!(
        app.get("/api/v1/users/me", Some(&token(&b))).await.status,
        StatusCode::OK,
        "other device unaffected"
    );
}

async fn logout_all_ends_every_session(app: TestApp) {
    let a = app.register("pete").await;
    let b = app.login("pete", &password_for("pete")).await.body;
    let other_user = app.register("quinn").await;
    let r = app
        .send(
            Method::POST,
            "/api/v1/auth/logout-all",
            Some(&token(&b)),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    for s in [&a, &b] {
        assert_eq!(
            app.get("/api/v1/users/me", Some(&token(s))).await.status,
            StatusCode::UNAUTHORIZED
        );
        let refresh = app
            .post(
                "/api/v1/auth/refresh",
                None,
                json!({"refresh_token": refresh_token(s)}),
            )
            .await;
        assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.get("/api/v1/users/me", Some(&token(&other_user)))
            .await
            .status,
        StatusCode::OK
    );
}

async fn list_and_revoke_sessions(app: TestApp) {
    let a = app.register("rosa").await;
    let b = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"login": "rosa", "password": password_for("rosa")})),
            &[("user-agent", "RosaPhone/2.0")],
        )
        .await
        .body;
    let list = app.get("/api/v1/auth/sessions", Some(&token(&a))).await;
    assert_eq!(list.status, StatusCode::OK);
    let sessions = list.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0]["id"], b["session_id"], "newest first");
    assert_eq!(sessions[0]["user_agent"], "RosaPhone/2.0");
    assert_eq!(sessions[0]["ip"], "127.0.0.1");
    assert_eq!(sessions[0]["current"], false);
    assert_eq!(sessions[1]["current"], true);

    let mallory = app.register("mallory").await;
    let path = format!(
        "/api/v1/auth/sessions/{}",
        b["session_id"].as_str().unwrap()
    );
    let theirs = app
        .send(Method::DELETE, &path, Some(&token(&mallory)), None, &[])
        .await;
    assert_eq!(
        theirs.status,
        StatusCode::NOT_FOUND,
        "cannot end someone else's session"
    );
    let ok = app
        .send(Method::DELETE, &path, Some(&token(&a)), None, &[])
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&token(&b))).await.status,
        StatusCode::UNAUTHORIZED
    );
    let again = app
        .send(Method::DELETE, &path, Some(&token(&a)), None, &[])
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let bad = app
        .send(
            Method::DELETE,
            "/api/v1/auth/sessions/123",
            Some(&token(&a)),
            None,
            &[],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get("/api/v1/auth/sessions", Some(&token(&a)))
            .await
            .body["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn forwarded_for_only_from_trusted_proxies(app: TestApp) {
    // Not trusted: the header is ignored.
    let r = app
        .send(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"username": "sam", "password": password_for("sam")})),
            &[("x-forwarded-for", "203.0.113.9")],
        )
        .await;
    let list = app
        .get("/api/v1/auth/sessions", Some(&token(&r.body)))
        .await;
    assert_eq!(list.body["sessions"][0]["ip"], "127.0.0.1");
}

#[tokio::test]
async fn forwarded_for_from_a_trusted_proxy_is_believed() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]
    })
    .await
    .unwrap();
    let r = app
        .send(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"username": "tess", "password": password_for("tess")})),
            &[("x-forwarded-for", "6.6.6.6, 203.0.113.9")],
        )
        .await;
    let list = app
        .get("/api/v1/auth/sessions", Some(&token(&r.body)))
        .await;
    assert_eq!(
        list.body["sessions"][0]["ip"], "203.0.113.9",
        "right-most untrusted hop"
    );
}
