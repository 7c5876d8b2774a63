use crate::helpers::*;
use reqwest::{Method, StatusCode};

crate::both_backends!(health_ready_metrics);

async fn health_ready_metrics(app: TestApp) {
    let h = app.get("/health", None).await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.body["status"], "ok");
    // The public readiness answer is a status word only: dependency errors stay private.
    let r = app.get("/ready", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body, serde_json::json!({"status": "ready"}), "{}", r.text);
    let detailed = app.ops("/ready").await;
    assert_eq!(detailed.status, StatusCode::OK, "{}", detailed.text);
    assert_eq!(detailed.body["checks"]["database"], "ok");
    let (wendy, _) = app.user("wendy").await;
    app.login("wendy", "wrong password for wendy").await;
    // A send records how long it waited for its commit.
    let persisted = |m: &str| {
        m.lines()
            .find(|l| l.starts_with("messages_persist_seconds_count"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let before = persisted(&app.ops("/metrics").await.text);
    let room = app.group(&wendy, "metrics").await;
    app.say(&wendy, &room, "counted").await;
    assert!(persisted(&app.ops("/metrics").await.text) >= before + 1.0);
    // Metrics are not on the public listener.
    let public = app.get("/metrics", None).await;
    assert_eq!(
        (public.status, public.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let m = app.ops("/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(
        m.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    for needle in [
        "http_requests_total{method=\"POST\",route=\"/api/v1/auth/register\",status=\"201\"}",
        "http_request_duration_seconds_bucket",
        "auth_logins_total{outcome=\"failure\"}",
        "auth_registrations_total",
    ] {
        assert!(m.text.contains(needle), "missing {needle}");
    }
    assert!(!m.text.contains("wendy"), "no user data in metrics");
}

/// METRICS_BIND=off: no private listener at all.
#[tokio::test]
async fn metrics_listener_can_be_turned_off() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.metrics_bind = justus_server::config::OptionalAddr(None)
    })
    .await
    .unwrap();
    assert!(app._server.metrics_addr.is_none());
    assert_eq!(
        app.get("/metrics", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/ready", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn request_ids_and_security_headers() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let r = app
        .send(
            Method::GET,
            "/health",
            None,
            None,
            &[("x-request-id", "client-chosen-42")],
        )
        .await;
    assert_eq!(r.headers["x-request-id"], "client-chosen-42");
    let r = app
        .send(
            Method::GET,
            "/health",
            None,
            None,
            &[("x-request-id", "bad id with spaces")],
        )
        .await;
    assert_ne!(r.headers["x-request-id"], "bad id with spaces");
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'")
            && !csp.contains("unsafe-inline")
            && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert_eq!(r.headers["referrer-policy"], "no-referrer");
    assert!(
        !r.headers.contains_key("strict-transport-security"),
        "no HSTS over plain http"
    );
    let api = app.get("/api/v1/users/me", None).await;
    assert_eq!(api.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn cors_only_for_configured_origins() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.cors_origins = vec!["https://app.example.org".into()]
    })
    .await
    .unwrap();
    async fn preflight(app: &TestApp, origin: &str) -> Resp {
        let headers = [
            ("origin", origin),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ];
        app.send(Method::OPTIONS, "/api/v1/auth/login", None, None, &headers)
            .await
    }
    let ok = preflight(&app, "https://app.example.org").await;
    assert_eq!(
        ok.headers["access-control-allow-origin"],
        "https://app.example.org"
    );
    let evil = preflight(&app, "https://evil.example").await;
    assert!(!evil.headers.contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn openapi_and_docs_are_served() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let spec = app.get("/api/openapi.json", None).await;
    assert_eq!(spec.status, StatusCode::OK);
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/logout-all",
        "/api/v1/auth/sessions",
        "/api/v1/auth/sessions/{id}",
        "/api/v1/users/me",
        "/api/v1/users/me/password",
        "/api/v1/users/{id}",
        "/health",
        "/ready",
    ] {
        assert!(
            spec.body["paths"].get(path).is_some(),
            "OpenAPI lacks {path}"
        );
    }
    assert!(
        spec.body["paths"].get("/metrics").is_none(),
        "metrics are not part of the public API"
    );
    let docs = app.get("/api/docs", None).await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(
        docs.text.contains("/api/docs/docs.js") && !docs.text.contains("<script>"),
        "no inline script"
    );
    assert_eq!(
        app.get("/api/docs/docs.js", None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn registration_is_rate_limited_per_ip() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.auth.register_per_ip_per_hour = 2)
        .await
        .unwrap();
    app.register("xena").await;
    app.register("yuri").await;
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            serde_json::json!({"username": "zack", "password": password_for("zack")}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    assert!(r.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn web_client_is_embedded_with_correct_caching() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let index = app.get("/", None).await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(
        index.text.contains("<div id=\"app\">"),
        "the web app is served at /"
    );
    assert_eq!(index.headers["cache-control"], "no-cache");
    assert!(!index.text.contains("<script>"), "no inline script");
    // Client-side routes get the app; API paths never do.
    assert!(
        app.get("/rooms/some-room", None)
            .await
            .text
            .contains("<div id=\"app\">")
    );
    assert_eq!(app.get("/api/v1/nothing", None).await.code(), "not_found");
    // Files that do not exist are 404s, not the app: a missing script must not be HTML.
    for missing in [
        "/assets/index-gone.js",
        "/assets/nothing",
        "/favicon.ico",
        "/rooms/x/file.json",
    ] {
        let r = app.get(missing, None).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{missing}"
        );
        assert!(!r.text.contains("<div id=\"app\">"), "{missing}");
    }
    let robots = app.get("/robots.txt", None).await;
    assert_eq!(robots.status, StatusCode::OK);
    assert!(
        robots.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(robots.text.contains("Disallow: /api/"), "{}", robots.text);
    assert!(
        app.get("/invite/Ab-9_x", None)
            .await
            .text
            .contains("<div id=\"app\">"),
        "invite links are app routes"
    );
    // Hashed assets are immutable and revalidate by ETag.
    let asset = index
        .text
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("script src")
        .to_owned();
    assert!(asset.starts_with("/assets/"), "{asset}");
    let js = app.get(&asset, None).await;
    assert_eq!(
        js.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let etag = js.headers["etag"].to_str().unwrap().to_owned();
    let again = app
        .send(Method::GET, &asset, None, None, &[("if-none-match", &etag)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let sw = app.get("/sw.js", None).await;
    assert_eq!(sw.headers["cache-control"], "no-cache");
    assert_eq!(
        app.get("/manifest.webmanifest", None).await.headers["content-type"],
        "application/manifest+json"
    );
    let gz = app
        .client
        .get(format!("{}{asset}", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip", "compressed");
}
