use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use justus_server::auth::jwt::{Keyring, derive_key};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

crate::both_backends!(
    refresh_rotates_and_reuse_revokes_family,
    refresh_grace_after_lost_response,
    cookie_refresh_and_cross_site_refusal,
    expired_access_token,
    forged_access_tokens_are_refused,
);

async fn refresh(app: &TestApp, token: &str) -> Resp {
    app.post(
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": token}),
    )
    .await
}

async fn refresh_rotates_and_reuse_revokes_family(app: TestApp) {
    let reg = app.register("ivan").await;
    let r1 = refresh_token(&reg);
    let second = refresh(&app, &r1).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    let r2 = refresh_token(&second.body);
    assert_ne!(r1, r2, "rotated");
    assert_eq!(
        app.get("/api/v1/users/me", Some(&token(&second.body)))
            .await
            .status,
        StatusCode::OK
    );
    // The successor is used, so token 1 is definitely retired.
    let third = refresh(&app, &r2).await;
    assert_eq!(third.status, StatusCode::OK);
    let r3 = refresh_token(&third.body);
    // A thief replays token 1: the whole family dies.
    let replay = refresh(&app, &r1).await;
    assert_eq!(
        (replay.status, replay.code()),
        (StatusCode::UNAUTHORIZED, "refresh_token_reused")
    );
    let newest = refresh(&app, &r3).await;
    assert_eq!(
        (newest.status, newest.code()),
        (StatusCode::UNAUTHORIZED, "session_expired")
    );
    let me = app.get("/api/v1/users/me", Some(&token(&third.body))).await;
    assert_eq!(
        (me.status, me.code()),
        (StatusCode::UNAUTHORIZED, "session_revoked"),
        "access tokens of the family stop at once"
    );
    // Garbage and unknown tokens.
    for bad in ["", "x", &"A".repeat(43), &"💥".repeat(20)] {
        let r = refresh(&app, bad).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bad:?}");
    }
    let none = app
        .send(Method::POST, "/api/v1/auth/refresh", None, None, &[])
        .await;
    assert_eq!(
        (none.status, none.code()),
        (StatusCode::UNAUTHORIZED, "missing_token")
    );
}

async fn refresh_grace_after_lost_response(app: TestApp) {
    let reg = app.register("judy").await;
    let r1 = refresh_token(&reg);
    let lost = refresh(&app, &r1).await;
    assert_eq!(lost.status, StatusCode::OK);
    // The client never saw `lost`; it retries with token 1 and must not be logged out.
    let retry = refresh(&app, &r1).await;
    assert_eq!(retry.status, StatusCode::OK, "grace retry: {}", retry.text);
    // The undelivered token from the lost response is dead; presenting it is a replay.
    let ghost = refresh(&app, &refresh_token(&lost.body)).await;
    assert_eq!(ghost.code(), "refresh_token_reused");
}

async fn cookie_refresh_and_cross_site_refusal(app: TestApp) {
    app.register("kim").await;
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"login": "kim", "password": password_for("kim"), "session_cookie": true}),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(
        login.body.get("refresh_token").is_none(),
        "token only in the cookie"
    );
    let set_cookie = login.headers["set-cookie"].to_str().unwrap().to_owned();
    for attr in ["justus_refresh=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attr), "{set_cookie}");
    }
    assert!(
        !set_cookie.contains("Secure"),
        "plain-http localhost gets a usable cookie"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    // Cross-site attempts with the cookie are refused.
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
    ] {
        let mut h = headers.clone();
        h.push(("cookie", &cookie));
        let r = app
            .send(Method::POST, "/api/v1/auth/refresh", None, None, &h)
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "cross_site_request"),
            "{headers:?}"
        );
    }
    // Same-origin works and rotates the cookie.
    let origin = app.base.clone();
    let r = app
        .send(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            None,
            &[
                ("cookie", &cookie),
                ("origin", &origin),
                ("sec-fetch-site", "same-origin"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body.get("refresh_token").is_none());
    let rotated = r.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(rotated, cookie);
    // Logout clears the cookie.
    let out = app
        .send(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&token(&r.body)),
            None,
            &[],
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}

fn keyring() -> Keyring {
    Keyring::new(&[test_secret().as_bytes().to_vec()], "justus".into()).unwrap()
}

async fn expired_access_token(app: TestApp) {
    let reg = app.register("liam").await;
    let user = reg["user"]["id"].as_str().unwrap().parse().unwrap();
    let session = reg["session_id"].as_str().unwrap().parse().unwrap();
    let (old, _) = keyring()
        .issue(user, session, chrono::Utc::now().timestamp() - 601)
        .unwrap();
    let r = app.get("/api/v1/users/me", Some(&old)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "token_expired")
    );
    let (fresh, _) = keyring()
        .issue(user, session, chrono::Utc::now().timestamp())
        .unwrap();
    assert_eq!(
        app.get("/api/v1/users/me", Some(&fresh)).await.status,
        StatusCode::OK
    );
}

fn sign(header: &Header, claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(key)).unwrap()
}

async fn forged_access_tokens_are_refused(app: TestApp) {
    let reg = app.register("mia").await;
    let good = token(&reg);
    let kid = keyring().active_kid().to_owned();
    let key = derive_key(test_secret().as_bytes(), "justus access token v1");
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "iss": "justus", "aud": "justus-api", "sub": reg["user"]["id"], "sid": reg["session_id"],
        "exp": now + 300, "iat": now, "typ": "access"
    });
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.clone());
    header.typ = Some("at+jwt".into());
    // Sanity: our forgery kit makes a token the server accepts when nothing is wrong with it.
    assert_eq!(
        app.get("/api/v1/users/me", Some(&sign(&header, &claims, &key)))
            .await
            .status,
        StatusCode::OK
    );

    let mut forged: Vec<(&str, String)> = Vec::new();
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    forged.push((
        "alg none",
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "at+jwt", "kid": kid})),
            b64(&claims)
        ),
    ));
    forged.push((
        "wrong key",
        sign(
            &header,
            &claims,
            b"some-other-key-some-other-key-some-other",
        ),
    ));
    forged.push((
        "raw master secret as key",
        sign(&header, &claims, test_secret().as_bytes()),
    ));
    let mut c = claims.clone();
    c["aud"] = json!("someone-else");
    forged.push(("wrong aud", sign(&header, &c, &key)));
    let mut c = claims.clone();
    c["iss"] = json!("https://evil.example");
    forged.push(("wrong iss", sign(&header, &c, &key)));
    let mut c = claims.clone();
    c["typ"] = json!("refresh");
    forged.push(("another kind of token", sign(&header, &c, &key)));
    let mut c = claims.clone();
    c.as_object_mut().unwrap().remove("exp");
    forged.push(("no exp", sign(&header, &c, &key)));
    let mut c = claims.clone();
    c.as_object_mut().unwrap().remove("sub");
    forged.push(("no sub", sign(&header, &c, &key)));
    let mut h = header.clone();
    h.kid = Some("0000000000000000".into());
    forged.push(("tampered kid", sign(&h, &claims, &key)));
    let mut h = header.clone();
    h.kid = None;
    forged.push(("no kid", sign(&h, &claims, &key)));
    let mut h = header.clone();
    h.typ = Some("JWT".into());
    forged.push(("untyped header", sign(&h, &claims, &key)));
    let mut h = header.clone();
    h.alg = Algorithm::HS512;
    forged.push(("other algorithm", sign(&h, &claims, &key)));
    // Payload swapped for another user's, signature kept.
    let parts: Vec<&str> = good.split('.').collect();
    let mut c = claims.clone();
    c["sub"] = json!(uuid::Uuid::now_v7().to_string());
    forged.push((
        "tampered payload",
        format!("{}.{}.{}", parts[0], b64(&c), parts[2]),
    ));
    forged.push(("refresh token as access token", refresh_token(&reg)));
    forged.push(("garbage", "not.a.jwt".into()));
    forged.push(("huge", "a".repeat(10_000)));

    for (what, tok) in forged {
        let r = app.get("/api/v1/users/me", Some(&tok)).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{what} was accepted: {}",
            r.text
        );
        assert_eq!(r.code(), "invalid_token", "{what}");
    }
    let r = app
        .send(
            Method::GET,
            "/api/v1/users/me",
            None,
            None,
            &[("authorization", "Basic Zm9vOmJhcg==")],
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    let r = app.get("/api/v1/users/me", None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "missing_token")
    );
}

#[tokio::test]
async fn https_public_url_gets_host_prefixed_secure_cookie_and_hsts() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.public_url = Some("https://chat.example.org".parse().unwrap())
    })
    .await
    .unwrap();
    app.register("nina").await;
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"login": "nina", "password": password_for("nina"), "session_cookie": true}),
        )
        .await;
    let cookie = login.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Host-justus_refresh="), "{cookie}");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(
        login.headers["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
}
