use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

crate::both_backends!(bad_inputs_get_clear_errors);

async fn bad_inputs_get_clear_errors(app: TestApp) {
    let url = format!("{}/api/v1/auth/register", app.base);
    let raw = |body: &'static str, ct: Option<&'static str>| {
        let mut r = app.client.post(&url).body(body);
        if let Some(ct) = ct {
            r = r.header("content-type", ct);
        }
        TestApp::finish(r)
    };
    let r = raw("{\"username\": \"x\",", Some("application/json")).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_json"),
        "{}",
        r.text
    );
    let r = raw(
        "{\"username\": 42, \"password\": \"long enough passphrase\"}",
        Some("application/json"),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        "{}",
        r.text
    );
    let r = raw(
        "{\"username\": \"ursula\", \"password\": \"long enough passphrase\", \"is_admin\": true}",
        Some("application/json"),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        "unknown fields refused: {}",
        r.text
    );
    let r = raw("[]", Some("application/json")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = raw(
        "{\"username\": \"ursula\", \"password\": \"long enough passphrase\"}",
        Some("text/plain"),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let r = raw(
        "{\"username\": \"ursula\", \"password\": \"long enough passphrase\"}",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A 1 MB password: refused by length before any hashing.
    let huge = "p".repeat(1_000_000);
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"username": "victor", "password": huge}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "too_long"),
        "{}",
        &r.text[..r.text.len().min(300)]
    );
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"login": "victor", "password": huge}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "too_long")
    );
    assert!(r.text.len() < 1000, "the input is not echoed back");

    // A body over the limit (1 MiB by default).
    let oversized = json!({"username": "victor", "password": "x".repeat(2 * 1024 * 1024)});
    let r = app.post("/api/v1/auth/register", None, oversized).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        "{}",
        &r.text[..r.text.len().min(300)]
    );
    // The unread body ends the connection; the answer says so, so the client's next request
    // (below) goes down a new one instead of failing on this one.
    assert_eq!(r.headers["connection"], "close");

    // Unknown route and wrong method: JSON errors too.
    let r = app.get("/api/v1/nope", None).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = app
        .send(Method::DELETE, "/api/v1/auth/login", None, None, &[])
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    // SQL metacharacters are just characters.
    let r = app.login("' OR '1'='1' --", "' OR '1'='1' --").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
    // Every answer carries a request id.
    assert!(r.headers.contains_key("x-request-id"));
}
