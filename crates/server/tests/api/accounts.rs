use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

crate::both_backends!(
    register_login_and_profile,
    registration_validation,
    throttling_delays_and_recovers,
    unknown_user_and_wrong_password_look_the_same,
    password_change_revokes_other_sessions,
    xss_in_display_name_is_stored_as_text,
);

async fn register_login_and_profile(app: TestApp) {
    let reg = app.register("alice").await;
    assert_eq!(reg["token_type"], "Bearer");
    assert_eq!(reg["expires_in"], 600);
    assert_eq!(reg["user"]["username"], "alice");
    assert_eq!(reg["user"]["display_name"], "alice");
    assert!(refresh_token(&reg).len() >= 43, "≥ 256-bit refresh token");

    let me = app.get("/api/v1/users/me", Some(&token(&reg))).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], "alice@example.org");

    // Log in by username (any case) and by e-mail.
    for login in ["alice", "ALICE", "alice@example.org", "Alice@Example.org"] {
        let r = app.login(login, &password_for("alice")).await;
        assert_eq!(r.status, StatusCode::OK, "{login}: {}", r.text);
        assert_eq!(r.body["user"]["id"], reg["user"]["id"]);
    }

    let patched = app
        .send(
            reqwest::Method::PATCH,
            "/api/v1/users/me",
            Some(&token(&reg)),
            Some(json!({"display_name": "Alice L.", "email": null, "current_password": password_for("alice")})),
            &[],
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["display_name"], "Alice L.");
    assert!(patched.body.get("email").is_none());

    let bob = app.register("bob").await;
    let public = app
        .get(
            &format!("/api/v1/users/{}", reg["user"]["id"].as_str().unwrap()),
            Some(&token(&bob)),
        )
        .await;
    assert_eq!(public.status, StatusCode::OK);
    assert_eq!(public.body["display_name"], "Alice L.");
    assert!(public.body.get("email").is_none(), "e-mail is private");
    let missing = app
        .get(
            &format!("/api/v1/users/{}", uuid::Uuid::now_v7()),
            Some(&token(&bob)),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let bad = app
        .get("/api/v1/users/not-a-uuid", Some(&token(&bob)))
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "invalid_id")
    );
}

async fn registration_validation(app: TestApp) {
    let cases = [
        (
            json!({"username": "ab", "password": "long enough passphrase"}),
            "username",
            "invalid_length",
        ),
        (
            json!({"username": "bad name", "password": "long enough passphrase"}),
            "username",
            "invalid_characters",
        ),
        (
            json!({"username": "carol", "password": "short"}),
            "password",
            "too_short",
        ),
        (
            json!({"username": "carol", "password": "password123"}),
            "password",
            "too_common",
        ),
        (
            json!({"username": "carol", "password": "carol"}),
            "password",
            "too_short",
        ),
        (
            json!({"username": "carol", "password": "x".repeat(257)}),
            "password",
            "too_long",
        ),
        (
            json!({"username": "carol", "email": "not-an-email", "password": "long enough passphrase"}),
            "email",
            "invalid_email",
        ),
        (
            json!({"username": "carol", "display_name": "   ", "password": "long enough passphrase"}),
            "display_name",
            "required",
        ),
    ];
    for (body, field, code) in cases {
        let r = app.post("/api/v1/auth/register", None, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text
        );
        assert_eq!(r.code(), code, "{body}");
        assert_eq!(r.body["error"]["field"], field, "{body}");
    }
    app.register("carol").await;
    let dup = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"username": "CAROL", "password": "another good passphrase"}),
        )
        .await;
    assert_eq!(
        (dup.status, dup.code()),
        (StatusCode::CONFLICT, "registration_conflict")
    );
    let dup_mail =
        app.post("/api/v1/auth/register", None, json!({"username": "carol2", "email": "Carol@example.org", "password": "another good passphrase"})).await;
    assert_eq!(
        (dup_mail.status, dup_mail.code()),
        (StatusCode::CONFLICT, "registration_conflict"),
        "a taken address answers like a taken username"
    );
    // Any Unicode, no composition rules.
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"username": "dmitri", "password": "пароль-для-всех-дверей"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

async fn throttling_delays_and_recovers(app: TestApp) {
    app.register("dave").await;
    for i in 0..5 {
        let r = app.login("dave", "wrong password guess").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // Now throttled: even the right password is refused without being checked.
    let r = app.login("dave", &password_for("dave")).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
        "{}",
        r.text
    );
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "first delay is short: {retry}");
    assert_eq!(r.body["error"]["retry_after"], retry);
    // Another account from the same address is not affected.
    app.register("erin").await;
    assert_eq!(
        app.login("erin", &password_for("erin")).await.status,
        StatusCode::OK
    );
    // After the delay the owner gets in, and success clears the counter.
    tokio::time::sleep(std::time::Duration::from_millis(retry * 1000 + 100)).await;
    assert_eq!(
        app.login("dave", &password_for("dave")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.login("dave", "one more wrong guess").await.status,
        StatusCode::UNAUTHORIZED
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("auth_throttled_total"),
        "throttles are counted"
    );
}

async fn unknown_user_and_wrong_password_look_the_same(app: TestApp) {
    for i in 0..3 {
        app.register(&format!("frank{i}")).await;
    }
    let passwords = &app._server.state.passwords;
    for i in 0..3 {
        let before = passwords.runs();
        let a = app
            .login(&format!("frank{i}"), "not the password at all")
            .await;
        let after_wrong = passwords.runs();
        let b = app
            .login(&format!("nobody{i}"), "not the password at all")
            .await;
        let after_unknown = passwords.runs();
        assert_eq!(a.status, b.status);
        assert_eq!(a.body, b.body, "identical answers");
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.code(), "invalid_credentials");
        // Counted, not timed: an unknown account must run the same single Argon2
        // verification as a wrong password (the dummy's cost parity is a unit test in
        // auth::password), or its fast answer would reveal that the account does not exist.
        assert_eq!(
            after_wrong - before,
            1,
            "a wrong password runs one verification"
        );
        assert_eq!(
            after_unknown - after_wrong,
            1,
            "an unknown account runs one verification too"
        );
    }
}

async fn password_change_revokes_other_sessions(app: TestApp) {
    let a = app.register("grace").await;
    let b = app.login("grace", &password_for("grace")).await.body;
    let path = "/api/v1/users/me/password";
    let wrong = app
        .post(
            path,
            Some(&token(&a)),
            json!({"current_password": "nope nope nope", "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::FORBIDDEN, "invalid_credentials")
    );
    let weak = app
        .post(
            path,
            Some(&token(&a)),
            json!({"current_password": password_for("grace"), "new_password": "iloveyou"}),
        )
        .await;
    assert_eq!(
        (weak.status, weak.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "too_common")
    );
    assert_eq!(weak.body["error"]["field"], "new_password");
    let ok = app.post(path, Some(&token(&a)), json!({"current_password": password_for("grace"), "new_password": "a brand new passphrase"})).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.text);
    // This session lives on; the other one is over (access and refresh).
    assert_eq!(
        app.get("/api/v1/users/me", Some(&token(&a))).await.status,
        StatusCode::OK
    );
    let other = app.get("/api/v1/users/me", Some(&token(&b))).await;
    assert_eq!(
        (other.status, other.code()),
        (StatusCode::UNAUTHORIZED, "session_revoked")
    );
    let r = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh_token(&b)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login("grace", &password_for("grace")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("grace", "a brand new passphrase").await.status,
        StatusCode::OK
    );
}

async fn xss_in_display_name_is_stored_as_text(app: TestApp) {
    let payload = "<img src=x onerror=alert(1)>";
    let r = app
        .post("/api/v1/auth/register", None, json!({"username": "heidi", "display_name": payload, "password": "long enough passphrase"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    // Returned verbatim as JSON text (clients render text, never HTML) with a JSON content type.
    assert_eq!(r.body["user"]["display_name"], payload);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
}
