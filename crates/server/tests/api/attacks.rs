//! Attacks on accounts and sessions (security issue 14), each performed against the real server:
//! forged and revived tokens, raced password guessing (in process and across instances on
//! Redis), lock-out through a shared network, request floods over REST, e-mail enumeration,
//! Unicode passwords, and JSON arrays in place of objects.
//!
//! (Over 600 lines: one attack per item of the audit, sharing the spawn-and-probe helpers.)

use crate::helpers::*;
use futures::future::join_all;
use justus_server::auth::jwt::Keyring;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn keyring() -> Keyring {
    Keyring::new(&[test_secret().as_bytes().to_vec()], "justus".into()).unwrap()
}

/// Anyone holding the signing secret can mint a token, but only for a session that exists, is
/// live and is that user's: a made-up `sid` (or another user's) is refused on REST and on the
/// gateway.
async fn minted_tokens_need_a_live_session(app: TestApp) {
    let reg = app.register("mallory").await;
    let victim = app.register("victim").await;
    let victim_id = victim["user"]["id"].as_str().unwrap().parse().unwrap();
    let now = chrono::Utc::now().timestamp();
    let (made_up, _) = keyring()
        .issue(victim_id, justus_core::SessionId::new(), now)
        .unwrap();
    let r = app.get("/api/v1/users/me", Some(&made_up)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(r.code(), "session_revoked");
    // Mallory's own, live session id with the victim's user id: still refused.
    let own_session = reg["session_id"].as_str().unwrap().parse().unwrap();
    let (swapped, _) = keyring().issue(victim_id, own_session, now).unwrap();
    let r = app.get("/api/v1/users/me", Some(&swapped)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let mut ws = crate::gateway::Ws::connect_raw_auth(&app, &made_up).await;
    assert_eq!(ws.closed().await, Some(4003), "gateway refuses it too");
    // The genuine token works.
    let r = app.get("/api/v1/users/me", Some(&token(&victim))).await;
    assert_eq!(r.status, StatusCode::OK);
}

/// Ended sessions stay ended across a restart: nothing in memory is needed to refuse them.
async fn a_restart_does_not_revive_ended_sessions(app: TestApp) {
    let kept = app.register("kept").await;
    let ended = app.login("kept", &password_for("kept")).await.body;
    let r = app
        .post("/api/v1/auth/logout", Some(&token(&ended)), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let app = app.restart().await;
    let r = app.get("/api/v1/users/me", Some(&token(&ended))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(r.code(), "session_revoked");
    let r = app.get("/api/v1/users/me", Some(&token(&kept))).await;
    assert_eq!(r.status, StatusCode::OK, "the other session lives on");
    // logout-all, then a restart: every token of the account is dead.
    app.post("/api/v1/auth/logout-all", Some(&token(&kept)), json!({}))
        .await;
    let app = app.restart().await;
    let r = app.get("/api/v1/users/me", Some(&token(&kept))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// `n` concurrent wrong guesses at `login`, each from one of `addresses` source addresses
/// (X-Forwarded-For through a trusted proxy, the loopback). Returns (401s, 429s).
async fn guess_in_parallel(
    apps: &[&TestApp],
    login: &str,
    n: usize,
    addresses: u8,
) -> (usize, usize) {
    let guesses = (0..n).map(|i| {
        let app = apps[i % apps.len()];
        let ip = format!("198.51.100.{}", 1 + (i as u8 % addresses));
        async move {
            app.send(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"login": login, "password": format!("guess number {i}")})),
                &[("x-forwarded-for", ip.as_str())],
            )
            .await
        }
    });
    let answers = join_all(guesses).await;
    let wrong = answers
        .iter()
        .filter(|r| r.status == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = answers
        .iter()
        .filter(|r| {
            r.status == StatusCode::TOO_MANY_REQUESTS && r.headers.contains_key("retry-after")
        })
        .count();
    assert_eq!(wrong + throttled, n, "every guess is answered 401 or 429");
    (wrong, throttled)
}

/// Keeps guessing, one at a time from fresh addresses, alternating instances, until refused;
/// returns how many more guesses were verified (answered 401).
async fn guess_until_refused(apps: &[&TestApp], login: &str) -> usize {
    for i in 0..100usize {
        let ip = format!("203.0.113.{}", 1 + i);
        let r = apps[i % apps.len()]
            .send(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"login": login, "password": format!("late guess {i}")})),
                &[("x-forwarded-for", ip.as_str())],
            )
            .await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            return i;
        }
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    }
    panic!("never refused");
}

fn behind_loopback_proxy(c: &mut justus_server::config::Config) {
    c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
}

/// 200 concurrent guesses from 20 addresses: attempts are reserved before Argon2 runs, so the
/// account's allowance (20) bounds the verifications however the requests interleave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_cannot_race_the_throttle() {
    let app = TestApp::spawn_with(Backend::Sqlite, behind_loopback_proxy)
        .await
        .unwrap();
    app.register("target").await;
    let before = app.password_checks();
    let (wrong, throttled) = guess_in_parallel(&[&app], "target", 200, 20).await;
    let runs = app.password_checks() - before;
    assert_eq!(
        runs as usize, wrong,
        "one Argon2 run per answered guess, none for refused ones"
    );
    assert!(
        wrong <= 20,
        "the account's allowance bounds the work: {wrong} verified"
    );
    assert!(
        wrong >= 1 && throttled >= 180,
        "{wrong} verified, {throttled} refused"
    );
    // Whatever the burst left of the allowance, the account gets exactly 20 verified guesses.
    let later = guess_until_refused(&[&app], "target").await;
    assert_eq!(wrong + later, 20, "{wrong} in the burst, {later} after");
}

/// The same attack spread over two instances sharing Redis: the reservation is one Redis
/// script, so the allowance holds for the cluster, not per instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_over_two_instances_share_one_allowance() {
    let Some(redis) = test_redis_url().await else {
        return;
    };
    let prefix = format!("t{}", uuid::Uuid::now_v7().simple());
    let cluster = |c: &mut justus_server::config::Config| {
        behind_loopback_proxy(c);
        c.redis.url = Some(justus_server::config::Secret::new(redis.clone()));
        c.redis.prefix = prefix.clone();
    };
    // One PostgreSQL database shared by both instances, like a real deployment.
    let Some(a) = TestApp::spawn_with(Backend::Postgres, &cluster).await else {
        return;
    };
    let b = TestApp::spawn_with(Backend::Postgres, |c| {
        *c = a.config.clone();
    })
    .await
    .unwrap();
    a.register("shared").await;
    let before = a.password_checks() + b.password_checks();
    let (wrong, _) = guess_in_parallel(&[&a, &b], "shared", 200, 20).await;
    let runs = a.password_checks() + b.password_checks() - before;
    assert_eq!(runs as usize, wrong);
    assert!(
        wrong <= 20,
        "one allowance for the cluster: {wrong} verified"
    );
    // Exactly the one allowance of 20 for the account, over both instances (the Redis script
    // applies the in-process rule).
    let later = guess_until_refused(&[&a, &b], "shared").await;
    assert_eq!(wrong + later, 20, "{wrong} in the burst, {later} after");
}

/// An attacker behind the office NAT sprays guesses over many accounts and hammers one: the
/// network is throttled for strangers, but the owner's device (device token from an earlier
/// login) and an account that logged in from this network before keep working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_network_under_attack_does_not_lock_owners_out() {
    let app = TestApp::spawn_with(Backend::Sqlite, behind_loopback_proxy)
        .await
        .unwrap();
    let login = |name: String, password: String, extra: Value| {
        login_from(&app, "192.0.2.10", name, password, extra)
    };
    app.register("owner").await;
    app.register("regular").await;
    for name in (0..40).map(|i| format!("sprayed{i}")) {
        app.register(&name).await;
    }
    // The owner logged in from the office before (device token kept by the client).
    let first = login("owner".into(), password_for("owner"), json!({})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let device = first.body["device_token"]
        .as_str()
        .expect("device token")
        .to_owned();
    // So did "regular" (known (account, network) pair), without keeping the device token.
    assert_eq!(
        login("regular".into(), password_for("regular"), json!({}))
            .await
            .status,
        StatusCode::OK
    );
    // The attack: password spraying over 40 accounts, then hammering the owner.
    for i in 0..40 {
        login(format!("sprayed{i}"), "Winter2026!".into(), json!({})).await;
    }
    for i in 0..30 {
        login("owner".into(), format!("guess {i}"), json!({})).await;
    }
    // A stranger on the office network is throttled now…
    app.register("newcomer").await;
    let r = login("newcomer".into(), password_for("newcomer"), json!({})).await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "network throttled: {}",
        r.text
    );
    // …the owner on their device is not, although it is the same address and account…
    let r = login(
        "owner".into(),
        password_for("owner"),
        json!({"device_token": device}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "device keeps working: {}", r.text);
    // …and neither is an account that logged in from this network before.
    let r = login("regular".into(), password_for("regular"), json!({})).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "known pair keeps working: {}",
        r.text
    );
    // A forged or another account's device token buys nothing.
    let r = login(
        "owner".into(),
        "guess x".into(),
        json!({"device_token": "d1.1.forged.token"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

async fn login_from(app: &TestApp, ip: &str, name: String, password: String, extra: Value) -> Resp {
    let mut body = json!({"login": name, "password": password});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    app.send(
        reqwest::Method::POST,
        "/api/v1/auth/login",
        None,
        Some(body),
        &[("x-forwarded-for", ip)],
    )
    .await
}

/// Web clients get the device token as an HttpOnly cookie, sent back with the next login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_clients_keep_the_device_token_in_a_cookie() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.register("cookie").await;
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"login": "cookie", "password": password_for("cookie"), "session_cookie": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.get("device_token").is_none(),
        "not in the body for cookie clients"
    );
    let cookies: Vec<_> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("justus_device=d1.")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Strict")),
        "{cookies:?}"
    );
}

/// A password is hashed in NFC when set; it must be compared in NFC too, or an account whose
/// password was typed with combining accents could never log in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_compared_in_one_unicode_form() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    // "Crème brûlée au café" typed with combining accents (NFD), as macOS and some keyboards do.
    let nfd = "Cre\u{300}me bru\u{302}le\u{301}e au cafe\u{301} 42";
    let nfc = "Crème brûlée au café 42";
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"username": "unicode", "password": nfd}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        app.login("unicode", nfd).await.status,
        StatusCode::OK,
        "as typed"
    );
    assert_eq!(
        app.login("unicode", nfc).await.status,
        StatusCode::OK,
        "precomposed"
    );
    // Changing the password with the NFD current password works too.
    let t = token(&app.login("unicode", nfd).await.body);
    let r = app
        .post(
            "/api/v1/users/me/password",
            Some(&t),
            json!({"current_password": nfd, "new_password": "an entirely new passphrase"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
}

/// REST writes and gateway requests share one per-user quota: posting over REST is no way
/// around the gateway's limit (300 sends were accepted in under a second before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_writes_share_the_request_quota() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.limits.gateway_requests_per_second = 5
    })
    .await
    .unwrap();
    let (t, _) = app.user("flooder").await;
    let room = app.group(&t, "flood").await;
    let sends = (0..60).map(|i| {
        let (app, t, room) = (&app, &t, &room);
        async move {
            app.post(
                &format!("/api/v1/rooms/{room}/messages"),
                Some(t),
                json!({"client_id": format!("c{i}"), "body": "spam"}),
            )
            .await
        }
    });
    let answers = join_all(sends).await;
    let accepted = answers
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let limited: Vec<_> = answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(accepted + limited.len(), 60);
    // A burst of 10 (twice the rate), plus what refilled while the requests ran.
    assert!(accepted < 30, "{accepted} accepted");
    assert!(
        limited
            .iter()
            .all(|r| r.code() == "rate_limited" && r.headers.contains_key("retry-after"))
    );
    // The gateway draws on the same, now empty, quota.
    let (mut ws, _) = crate::gateway::Ws::connect(&app, &t).await;
    let mut refused = false;
    for i in 0..10 {
        let a = ws
            .request(
                "send",
                json!({"room_id": room, "client_id": format!("g{i}"), "body": "more"}),
            )
            .await;
        if a["op"] == "error" && a["d"]["code"] == "rate_limited" {
            refused = true;
            break;
        }
    }
    assert!(refused, "the gateway shares the quota");
    // Reads are not metered.
    let r = app
        .get(&format!("/api/v1/rooms/{room}/messages"), Some(&t))
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

/// Searches have their own quota.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_are_rate_limited() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.limits.search_requests_per_minute = 6)
        .await
        .unwrap();
    let (t, _) = app.user("seeker").await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(app.get("/api/v1/search?q=hello", Some(&t)).await.status);
        statuses.push(app.get("/api/v1/users?search=se", Some(&t)).await.status);
    }
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(limited >= 12, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::TOO_MANY_REQUESTS)
    );
}

/// Changing the e-mail address needs the password (a stolen session cannot redirect account
/// recovery), wrong passwords are throttled like logins, and changes are rate-limited because
/// each answer says whether an address is taken.
async fn email_change_needs_the_password(app: TestApp) {
    app.register("taken").await;
    let (t, _) = app.user("changer").await;
    let patch = |body: Value| app.patch("/api/v1/users/me", Some(&t), body);
    let r = patch(json!({"email": "new@example.org"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "invalid_credentials")
    );
    let r = patch(json!({"email": "new@example.org", "current_password": "not my password"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let me = app.get("/api/v1/users/me", Some(&t)).await;
    assert_eq!(me.body["email"], "changer@example.org", "nothing changed");
    let good = password_for("changer");
    let r = patch(json!({"email": "new@example.org", "current_password": good})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["email"], "new@example.org");
    // Other fields need no password.
    let r = patch(json!({"display_name": "Changer"})).await;
    assert_eq!(r.status, StatusCode::OK);
    // Probing addresses: a handful, then 429.
    let mut codes = Vec::new();
    for i in 0..8 {
        let email = if i % 2 == 0 {
            "taken@example.org".to_owned()
        } else {
            format!("free{i}@example.org")
        };
        let r = patch(json!({"email": email, "current_password": good})).await;
        codes.push(r.status);
    }
    assert!(codes.contains(&StatusCode::TOO_MANY_REQUESTS), "{codes:?}");
    // Guessing the current password is throttled like a login.
    let mut last = StatusCode::OK;
    for i in 0..12 {
        last = patch(json!({"email": "x@example.org", "current_password": format!("guess {i}")}))
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

/// Registering with a taken address answers exactly like a taken username, and such refusals
/// are few per network.
async fn registration_does_not_reveal_taken_addresses(app: TestApp) {
    app.register("owner").await;
    let try_register = |username: &str, email: &str| {
        app.post(
            "/api/v1/auth/register",
            None,
            json!({"username": username, "email": email, "password": "a long enough passphrase"}),
        )
    };
    let by_email = try_register("fresh1", "owner@example.org").await;
    let by_name = try_register("owner", "fresh@example.org").await;
    assert_eq!(by_email.status, StatusCode::CONFLICT);
    assert_eq!(by_email.text, by_name.text, "one answer for both");
    assert_eq!(by_email.code(), "registration_conflict");
    let mut last = StatusCode::CONFLICT;
    for i in 0..10 {
        last = try_register(&format!("probe{i}"), "owner@example.org")
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS, "probing is throttled");
}

/// Request bodies are JSON objects: serde would fill a struct from an array in field order.
async fn json_arrays_are_not_objects(app: TestApp) {
    app.register("arrays").await;
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            json!(["arrays", password_for("arrays")]),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        "{}",
        r.text
    );
    let r = app
        .post("/api/v1/auth/refresh", None, json!(["x".repeat(43)]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    for body in ["[", "\"a string\"", "42", "null"] {
        let r = TestApp::finish(
            app.client
                .post(format!("{}/api/v1/auth/login", app.base))
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
        let want = if body == "[" {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        assert_eq!(r.status, want, "{body}: {}", r.text);
    }
}

crate::both_backends!(
    minted_tokens_need_a_live_session,
    a_restart_does_not_revive_ended_sessions,
    email_change_needs_the_password,
    registration_does_not_reveal_taken_addresses,
    json_arrays_are_not_objects,
);

/// IPv6 clients are counted by their /64: addresses of one subscriber's prefix share a limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_clients_are_limited_per_64() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        behind_loopback_proxy(c);
        c.auth.register_per_ip_per_hour = 2;
    })
    .await
    .unwrap();
    let register = |name: &'static str, ip: &'static str| {
        let app = &app;
        async move {
            app.send(
                reqwest::Method::POST,
                "/api/v1/auth/register",
                None,
                Some(json!({"username": name, "password": password_for(name)})),
                &[("x-forwarded-for", ip)],
            )
            .await
        }
    };
    assert_eq!(
        register("six1", "2001:db8:1:2::1").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        register("six2", "2001:db8:1:2:ffff::2").await.status,
        StatusCode::CREATED
    );
    let r = register("six3", "2001:db8:1:2:abcd::3").await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "same /64: {}",
        r.text
    );
    assert_eq!(
        register("six4", "2001:db8:1:3::1").await.status,
        StatusCode::CREATED,
        "another /64"
    );
}

/// A large upload refused before its body is read (here: the request quota is used up) still
/// gets its JSON answer: the server drains what the client keeps sending before closing, so
/// the kernel does not reset the connection under the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_upload_refused_early_still_gets_its_answer() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.limits.gateway_requests_per_second = 1
    })
    .await
    .unwrap();
    let (t, _) = app.user("uploader").await;
    for i in 0..3 {
        app.post("/api/v1/rooms", Some(&t), json!({"name": format!("r{i}")}))
            .await;
    }
    for _ in 0..5 {
        let part = reqwest::multipart::Part::bytes(vec![b'x'; 4 << 20]).file_name("big.txt");
        let form = reqwest::multipart::Form::new().part("file", part);
        let r = TestApp::finish(
            app.client
                .post(format!("{}/api/v1/media", app.base))
                .bearer_auth(&t)
                .multipart(form),
        )
        .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
        assert_eq!(r.code(), "rate_limited");
    }
}
