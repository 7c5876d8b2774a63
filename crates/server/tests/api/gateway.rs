//! The WebSocket gateway with real clients against the real server.

use crate::helpers::*;
use futures::{SinkExt, StreamExt};
use justus_server::auth::jwt::Keyring;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Stream = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

pub struct Ws {
    s: Stream,
    next_id: u64,
}

impl Ws {
    pub async fn raw(app: &TestApp) -> Stream {
        Self::raw_with(app, None).await.expect("connect")
    }

    async fn raw_with(
        app: &TestApp,
        rcvbuf: Option<usize>,
    ) -> Result<Stream, tokio_tungstenite::tungstenite::Error> {
        let addr: std::net::SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
        let sock =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        if let Some(n) = rcvbuf {
            sock.set_recv_buffer_size(n).unwrap();
        }
        sock.set_nonblocking(true).unwrap();
        let tcp = tokio::net::TcpSocket::from_std_stream(sock.into());
        let stream = tcp.connect(addr).await.unwrap();
        let req = format!("ws://{addr}/api/v1/ws")
            .into_client_request()
            .unwrap();
        tokio_tungstenite::client_async(req, stream)
            .await
            .map(|(s, _)| s)
    }

    /// Connects and sends `auth` without waiting for `ready` (for tokens that must be refused).
    pub async fn connect_raw_auth(app: &TestApp, token: &str) -> Ws {
        let s = Self::raw_with(app, None).await.expect("connect");
        let mut ws = Ws { s, next_id: 0 };
        ws.send_json(json!({"op": "auth", "id": "auth", "d": {"token": token}}))
            .await;
        ws
    }

    /// Connects and authenticates; returns the socket and the `ready` payload.
    pub async fn connect(app: &TestApp, token: &str) -> (Ws, Value) {
        Self::connect_with(app, token, None).await
    }

    async fn connect_with(app: &TestApp, token: &str, rcvbuf: Option<usize>) -> (Ws, Value) {
        let s = Self::raw_with(app, rcvbuf).await.expect("connect");
        let mut ws = Ws { s, next_id: 0 };
        ws.send_json(json!({"op": "auth", "id": "auth", "d": {"token": token}}))
            .await;
        let ready = ws.next_op("ready").await;
        (ws, ready["d"].clone())
    }

    pub async fn send_json(&mut self, v: Value) {
        self.s
            .send(Message::Text(v.to_string().into()))
            .await
            .expect("send frame");
    }

    /// The next JSON frame (pings skipped); panics after 5 s.
    pub async fn next(&mut self) -> Value {
        self.next_within(Duration::from_secs(5))
            .await
            .expect("a frame within 5 s")
    }

    pub async fn next_within(&mut self, d: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + d;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.s.next())
                .await
                .ok()??;
            match msg {
                Ok(Message::Text(t)) => {
                    return Some(serde_json::from_str(t.as_str()).expect("json frame"));
                }
                Ok(Message::Close(f)) => {
                    return Some(json!({"op": "__close", "code": f.map(|f| u16::from(f.code))}));
                }
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    pub async fn next_op(&mut self, op: &str) -> Value {
        loop {
            let f = self.next().await;
            if f["op"] == op {
                return f;
            }
            assert_ne!(f["op"], "__close", "closed while waiting for {op}: {f}");
        }
    }

    /// Sends a request and returns its ack or error (other frames in between are skipped).
    pub async fn request(&mut self, op: &str, d: Value) -> Value {
        self.next_id += 1;
        let id = format!("r{}", self.next_id);
        self.send_json(json!({"op": op, "id": id, "d": d})).await;
        loop {
            let f = self.next().await;
            if f["id"] == id.as_str() {
                return f;
            }
            assert_ne!(f["op"], "__close", "closed while waiting for {op}: {f}");
        }
    }

    /// Reads until the server closes; returns the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            match self.next_within(Duration::from_secs(15)).await {
                Some(f) if f["op"] == "__close" => return f["code"].as_u64().map(|c| c as u16),
                Some(_) => continue,
                None => return None,
            }
        }
    }

    /// Asserts nothing but pings arrives for `d`.
    pub async fn silent_for(&mut self, d: Duration) {
        if let Some(f) = self.next_within(d).await {
            panic!("expected silence, got {f}");
        }
    }
}

crate::both_backends!(
    messages_flow_in_order_and_retries_are_idempotent,
    reconnect_catches_up_exactly,
    a_burst_of_requests_is_answered_and_committed_in_order
);

/// 30 requests written without waiting for answers (inside the socket's wait list of 32): sends pipeline into one group commit on
/// SQLite (one at a time on PostgreSQL), yet every request is answered, in the order sent —
/// a send refused by its checks, one refused at commit (a reused `client_id`) and a non-send
/// in the middle included — and the others commit with seqs in that order.
async fn a_burst_of_requests_is_answered_and_committed_in_order(app: TestApp) {
    let (a, _) = app.user("burster").await;
    let (b, b_id) = app.user("burstee").await;
    let room = app.group(&a, "Burst").await;
    app.add(&a, &room, &b_id).await;
    let (mut wa, _) = Ws::connect(&app, &a).await;
    let (mut wb, ready_b) = Ws::connect(&app, &b).await;
    let start_seq = ready_b["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == room.as_str())
        .unwrap()["last_seq"]
        .as_i64()
        .unwrap();
    const N: usize = 30;
    let pipelined = |metrics: String| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("gateway_sends_pipelined_total "))
            .map_or(0, |v| v.trim().parse().expect("counter"))
    };
    let pipelined_before = pipelined(app.metrics().await);
    for i in 0..N {
        let frame = match i {
            10 => {
                json!({"op": "send", "id": format!("q{i}"), "d": {"room_id": room, "client_id": "blank", "body": "   "}})
            }
            20 => {
                json!({"op": "send", "id": format!("q{i}"), "d": {"room_id": room, "client_id": "c-5", "body": "not the first"}})
            }
            25 => {
                json!({"op": "typing", "id": format!("q{i}"), "d": {"room_id": room, "active": true}})
            }
            _ => {
                json!({"op": "send", "id": format!("q{i}"), "d": {"room_id": room, "client_id": format!("c-{i}"), "body": format!("burst {i}")}})
            }
        };
        wa.send_json(frame).await;
    }
    let mut answers = Vec::new();
    while answers.len() < N {
        let f = wa.next().await;
        assert_ne!(f["op"], "__close", "{f}");
        if f["id"].is_string() {
            answers.push(f);
        }
    }
    let ids: Vec<String> = answers
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    let sent: Vec<String> = (0..N).map(|i| format!("q{i}")).collect();
    assert_eq!(ids, sent, "answered in the order sent");
    assert_eq!(
        (
            answers[10]["op"].as_str(),
            answers[10]["d"]["code"].as_str()
        ),
        (Some("error"), Some("required"))
    );
    assert_eq!(
        answers[20]["d"]["code"], "client_id_reused",
        "{}",
        answers[20]
    );
    assert_eq!(answers[25]["op"], "ack");
    if app._server.state.store.commits_sends_in_order() {
        assert!(
            pipelined(app.metrics().await) > pipelined_before,
            "sends started while earlier ones were committing"
        );
    }
    let mut seq = start_seq;
    let mut bodies = Vec::new();
    for (i, f) in answers.iter().enumerate() {
        if [10, 20, 25].contains(&i) {
            continue;
        }
        assert_eq!(f["op"], "ack", "{f}");
        assert_eq!(f["d"]["created"], true);
        let s = f["d"]["message"]["seq"].as_i64().unwrap();
        assert!(
            s > seq,
            "seq {s} after {seq}: commits follow the order sent"
        );
        seq = s;
        bodies.push(format!("burst {i}"));
    }
    // The other member gets them in seq order, with no gaps and nothing else.
    let mut got = Vec::new();
    let mut have = start_seq;
    while got.len() < bodies.len() {
        let ev = wb.next_op("event").await;
        assert_eq!(ev["d"]["seq"].as_i64().unwrap(), have + 1, "{ev}");
        have += 1;
        got.push(ev["d"]["message"]["body"].as_str().unwrap().to_owned());
    }
    assert_eq!(got, bodies);
}

async fn messages_flow_in_order_and_retries_are_idempotent(app: TestApp) {
    let (a, _) = app.user("wanda").await;
    let (b, b_id) = app.user("xavier").await;
    let room = app.group(&a, "Live").await;
    app.add(&a, &room, &b_id).await;
    let (mut wa, ready_a) = Ws::connect(&app, &a).await;
    let (mut wb, ready_b) = Ws::connect(&app, &b).await;
    assert_eq!(ready_a["user"]["username"], "wanda");
    let rb = ready_b["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == room.as_str())
        .unwrap()
        .clone();
    let mut have = rb["last_seq"].as_i64().unwrap();
    // 15 + the 4 requests below stay inside the gateway's burst of 20 (GATEWAY_REQUESTS_PER_SECOND
    // 10, burst ×2): acks come back at once, so a longer run would be rate limited.
    const SENDS: usize = 15;
    for i in 0..SENDS {
        let ack = wa.request("send", json!({"room_id": room, "client_id": format!("g-{i}"), "body": format!("hello {i}")})).await;
        assert_eq!(ack["op"], "ack", "{ack}");
        assert_eq!(ack["d"]["created"], true);
    }
    for i in 0..SENDS {
        let ev = wb.next_op("event").await;
        assert_eq!(ev["d"]["type"], "message.created");
        assert_eq!(
            ev["d"]["seq"].as_i64().unwrap(),
            have + 1,
            "in seq order, no gaps"
        );
        assert_eq!(ev["d"]["message"]["body"], format!("hello {i}"));
        have += 1;
    }
    // A retried send is the same message, announced once.
    let first = wa
        .request(
            "send",
            json!({"room_id": room, "client_id": "dup", "body": "once"}),
        )
        .await;
    let again = wa
        .request(
            "send",
            json!({"room_id": room, "client_id": "dup", "body": "once"}),
        )
        .await;
    assert_eq!(first["d"]["message"]["id"], again["d"]["message"]["id"]);
    assert_eq!(again["d"]["created"], false);
    let ev = wb.next_op("event").await;
    assert_eq!(ev["d"]["message"]["body"], "once");
    wb.silent_for(Duration::from_millis(300)).await;
    // REST and gateway are one path: a REST send reaches the socket too.
    app.say(&a, &room, "via rest").await;
    assert_eq!(
        wb.next_op("event").await["d"]["message"]["body"],
        "via rest"
    );
    // Errors come back with the request id.
    let err = wa
        .request(
            "send",
            json!({"room_id": room, "client_id": "e", "body": "   "}),
        )
        .await;
    assert_eq!(
        (err["op"].as_str(), err["d"]["code"].as_str()),
        (Some("error"), Some("required"))
    );
    let err = wa
        .request(
            "send",
            json!({"room_id": uuid::Uuid::now_v7(), "client_id": "e2", "body": "x"}),
        )
        .await;
    assert_eq!(err["d"]["code"], "not_found");
}

async fn reconnect_catches_up_exactly(app: TestApp) {
    let (a, _) = app.user("yasmin").await;
    let (b, b_id) = app.user("zoltan").await;
    let room = app.group(&a, "Resume").await;
    app.add(&a, &room, &b_id).await;
    let keep = app.say(&a, &room, "keep me").await;
    let (wb, ready) = Ws::connect(&app, &b).await;
    let have = ready["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == room.as_str())
        .unwrap()["last_seq"]
        .as_i64()
        .unwrap();
    // Client state: the messages it has, by id.
    let mut local: std::collections::BTreeMap<String, Value> = std::collections::BTreeMap::new();
    for m in app
        .get(&format!("/api/v1/rooms/{room}/messages"), Some(&b))
        .await
        .body["messages"]
        .as_array()
        .unwrap()
    {
        local.insert(m["id"].as_str().unwrap().to_owned(), m.clone());
    }
    drop(wb);
    // While away: creates, an edit, a delete and a reaction.
    let gone = app.say(&a, &room, "will vanish").await;
    let edited = app.say(&a, &room, "draft").await;
    app.patch(
        &format!(
            "/api/v1/rooms/{room}/messages/{}",
            edited["id"].as_str().unwrap()
        ),
        Some(&a),
        json!({"body": "final"}),
    )
    .await;
    app.delete(
        &format!(
            "/api/v1/rooms/{room}/messages/{}",
            gone["id"].as_str().unwrap()
        ),
        Some(&a),
    )
    .await;
    app.put(
        &format!(
            "/api/v1/rooms/{room}/messages/{}/reactions/%F0%9F%8E%89",
            keep["id"].as_str().unwrap()
        ),
        Some(&a),
    )
    .await;
    for i in 0..120 {
        app.say(&a, &room, &format!("backlog {i}")).await;
    }
    let (_wb, ready) = Ws::connect(&app, &b).await;
    let last = ready["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == room.as_str())
        .unwrap()["last_seq"]
        .as_i64()
        .unwrap();
    assert!(last > have);
    // The documented resume algorithm: page through /events after what we have.
    let mut after = have;
    loop {
        let page = app
            .get(
                &format!("/api/v1/rooms/{room}/events?after={after}&limit=50"),
                Some(&b),
            )
            .await
            .body;
        for ev in page["events"].as_array().unwrap() {
            assert_eq!(ev["seq"].as_i64().unwrap(), after + 1, "gap-free");
            after += 1;
            if let Some(m) = ev.get("message") {
                local.insert(m["id"].as_str().unwrap().to_owned(), m.clone());
            }
            if ev["type"] == "reaction.added" {
                let id = ev["message_id"].as_str().unwrap();
                let fresh = app
                    .get(
                        &format!(
                            "/api/v1/rooms/{room}/messages?after={}",
                            local[id]["seq"].as_i64().unwrap() - 1
                        ),
                        Some(&b),
                    )
                    .await;
                let m = fresh.body["messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|m| m["id"] == id)
                    .unwrap()
                    .clone();
                local.insert(id.to_owned(), m);
            }
        }
        if page["has_more"] != true {
            break;
        }
    }
    assert_eq!(after, last);
    // The client's state equals the server's history.
    let mut server = std::collections::BTreeMap::new();
    let mut before = None::<i64>;
    loop {
        let q = before
            .map(|b| format!("?before={b}&limit=200"))
            .unwrap_or_else(|| "?limit=200".into());
        let page = app
            .get(&format!("/api/v1/rooms/{room}/messages{q}"), Some(&b))
            .await
            .body;
        let msgs = page["messages"].as_array().unwrap();
        for m in msgs {
            server.insert(m["id"].as_str().unwrap().to_owned(), m.clone());
        }
        if page["has_more"] != true || msgs.is_empty() {
            break;
        }
        before = msgs[0]["seq"].as_i64();
    }
    assert_eq!(local, server, "client converged to the server");
    assert_eq!(server[gone["id"].as_str().unwrap()]["body"], "");
    assert_eq!(server[edited["id"].as_str().unwrap()]["body"], "final");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_signals_reach_members_only() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (a, _) = app.user("amelie").await;
    let (b, b_id) = app.user("bruno").await;
    let (c, c_id) = app.user("chloe").await;
    let (o, _) = app.user("outsider").await;
    let room = app.group(&a, "Signals").await;
    app.add(&a, &room, &b_id).await;
    app.add(&a, &room, &c_id).await;
    let (mut wo, _) = Ws::connect(&app, &o).await;
    let (mut wb, _) = Ws::connect(&app, &b).await;
    let (mut wa, ready_a) = Ws::connect(&app, &a).await;
    assert!(
        ready_a["presence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["user_id"] == b_id.as_str()),
        "ready lists online peers"
    );
    let p = wb.next_op("presence").await;
    assert_eq!(
        (
            p["d"]["status"].as_str(),
            p["d"]["user_id"].as_str().is_some()
        ),
        (Some("online"), true)
    );
    assert_eq!(
        wa.request("typing", json!({"room_id": room, "active": true}))
            .await["op"],
        "ack"
    );
    let t = wb.next_op("typing").await;
    assert_eq!(t["d"]["active"], true);
    let m = app.say(&c, &room, "read me").await;
    wb.next_op("event").await;
    let ack = wa
        .request("read", json!({"room_id": room, "seq": m["seq"]}))
        .await;
    assert_eq!(ack["d"]["read_seq"], m["seq"]);
    let r = wb.next_op("receipt").await;
    assert_eq!(r["d"]["seq"], m["seq"]);
    // The outsider saw none of it.
    wo.silent_for(Duration::from_millis(500)).await;
    // Typing in a room you are not in is refused.
    let err = wo
        .request("typing", json!({"room_id": room, "active": true}))
        .await;
    assert_eq!(err["d"]["code"], "not_found");
    drop(c);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kick_and_ban_stop_delivery_at_once() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (a, _) = app.user("dora").await;
    let (b, b_id) = app.user("emil").await;
    let room = app.group(&a, "Kick").await;
    app.add(&a, &room, &b_id).await;
    let (mut wb, _) = Ws::connect(&app, &b).await;
    app.say(&a, &room, "before").await;
    assert_eq!(wb.next_op("event").await["d"]["message"]["body"], "before");
    assert_eq!(
        app.delete(&format!("/api/v1/rooms/{room}/members/{b_id}"), Some(&a))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let kicked = wb.next_op("event").await;
    assert_eq!(
        kicked["d"]["type"], "member.kicked",
        "the kick is the last thing they see"
    );
    app.say(&a, &room, "after the kick").await;
    wb.silent_for(Duration::from_millis(500)).await;
    // Re-added users start receiving again; a ban stops it the same way.
    app.add(&a, &room, &b_id).await;
    assert_eq!(wb.next_op("event").await["d"]["type"], "member.joined");
    app.post(
        &format!("/api/v1/rooms/{room}/bans"),
        Some(&a),
        json!({"user_id": b_id}),
    )
    .await;
    assert_eq!(wb.next_op("event").await["d"]["type"], "member.banned");
    app.say(&a, &room, "after the ban").await;
    wb.silent_for(Duration::from_millis(500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_expiry_logout_and_reauth() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let reg = app.register("fiona").await;
    let user = reg["user"]["id"].as_str().unwrap().parse().unwrap();
    let session = reg["session_id"].as_str().unwrap().parse().unwrap();
    let ring = Keyring::new(&[test_secret().as_bytes().to_vec()], "justus".into()).unwrap();
    let now = chrono::Utc::now().timestamp();
    // A token with 2 s left: the socket closes with 4004 when it runs out...
    let (short, _) = ring.issue(user, session, now - 598).unwrap();
    let (mut ws, _) = Ws::connect(&app, &short).await;
    assert_eq!(ws.closed().await, Some(4004));
    // ...unless the client sends a fresh one in time (5 s of margin for a loaded machine).
    let now = chrono::Utc::now().timestamp();
    let (short, _) = ring.issue(user, session, now - 595).unwrap();
    let (mut ws, _) = Ws::connect(&app, &short).await;
    let ack = ws.request("auth", json!({"token": token(&reg)})).await;
    assert_eq!(ack["op"], "ack");
    ws.silent_for(Duration::from_secs(6)).await;
    // A different user's token on the same socket is refused.
    let other = app.register("gustav").await;
    ws.send_json(json!({"op": "auth", "id": "x", "d": {"token": token(&other)}}))
        .await;
    assert_eq!(ws.closed().await, Some(4002));
    // Logout closes the session's sockets with 4003.
    let (mut ws, _) = Ws::connect(&app, &token(&reg)).await;
    assert_eq!(
        app.send(
            reqwest::Method::POST,
            "/api/v1/auth/logout",
            Some(&token(&reg)),
            None,
            &[]
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(ws.closed().await, Some(4003));
    // Bad tokens never get a `ready`.
    let mut raw = Ws {
        s: Ws::raw(&app).await,
        next_id: 0,
    };
    raw.send_json(json!({"op": "auth", "id": "1", "d": {"token": "garbage"}}))
        .await;
    assert_eq!(raw.closed().await, Some(4002));
}

/// Shutdown drains: open sockets get 4011, and until the process is gone it refuses new
/// sockets and leaves readiness, so clients reconnect to another instance instead of to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_closes_with_4011_and_refuses_new_sockets() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (a, _) = app.user("dora").await;
    let (mut ws, _) = Ws::connect(&app, &a).await;
    assert_eq!(app.get("/ready", None).await.status, StatusCode::OK);
    assert_eq!(app._server.state.hub.drain(), 1);
    assert_eq!(ws.closed().await, Some(4011));
    match Ws::raw_with(&app, None).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert!(resp.headers().contains_key("retry-after"), "{resp:?}");
        }
        other => panic!(
            "a draining server must refuse the upgrade: {:?}",
            other.map(|_| ())
        ),
    }
    let ready = app.get("/ready", None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    let ready = app.ops("/ready").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        ready.body["checks"]["gateway"], "draining",
        "{}",
        ready.text
    );
    // REST keeps answering while in-flight work finishes.
    assert_eq!(
        app.get("/api/v1/users/me", Some(&a)).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_frames_are_refused_as_documented() {
    // The production default (the test harness raises it for seeding).
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.limits.gateway_requests_per_second = 10
    })
    .await
    .unwrap();
    let (a, _) = app.user("hilda").await;
    let (mut ws, _) = Ws::connect(&app, &a).await;
    ws.s.send(Message::Text("{not json".into())).await.unwrap();
    assert_eq!(ws.next().await["d"]["code"], "invalid_json");
    ws.send_json(json!({"op": "teleport", "id": "1", "d": {}}))
        .await;
    let f = ws.next().await;
    assert_eq!(
        (f["id"].as_str(), f["d"]["code"].as_str()),
        (Some("1"), Some("unknown_op"))
    );
    ws.send_json(json!({"op": "send"})).await;
    assert_eq!(ws.next().await["d"]["code"], "invalid_frame");
    let f = ws
        .request("send", json!({"room_id": "nope", "body": 5}))
        .await;
    assert_eq!(f["d"]["code"], "invalid_frame");
    ws.s.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(ws.next().await["d"]["code"], "unsupported_frame");
    // A flood over the rate limit is answered with rate_limited and a retry hint.
    let mut limited = None;
    for i in 0..40 {
        ws.send_json(json!({"op": "presence", "id": format!("f{i}"), "d": {"status": "online"}}))
            .await;
    }
    for _ in 0..40 {
        let f = ws.next().await;
        if f["d"]["code"] == "rate_limited" {
            limited = Some(f);
        }
    }
    let limited = limited.expect("a rate_limited error");
    assert!(limited["d"]["retry_after_ms"].as_u64().unwrap() > 0);
    // Frames over 64 KiB close the socket with 1009.
    let big = json!({"op": "ping", "id": "big", "d": {"pad": "x".repeat(70 * 1024)}});
    ws.send_json(big).await;
    assert_eq!(ws.closed().await, Some(1009));
    // Repeated abuse closes with 4008.
    let (mut ws, _) = Ws::connect(&app, &a).await;
    for _ in 0..60 {
        if ws.s.send(Message::Text("garbage".into())).await.is_err() {
            break;
        }
    }
    assert_eq!(ws.closed().await, Some(4008));
    // No auth frame in time: 4001 (the deadline is 10 s).
    let mut silent = Ws {
        s: Ws::raw(&app).await,
        next_id: 0,
    };
    assert_eq!(silent.closed().await, Some(4001));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_origin_is_refused_at_the_handshake() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.cors_origins = vec!["https://app.example.org".into()]
    })
    .await
    .unwrap();
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut req = format!("ws://{addr}/api/v1/ws")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let err = tokio_tungstenite::connect_async(req)
        .await
        .expect_err("refused");
    match err {
        tokio_tungstenite::tungstenite::Error::Http(res) => assert_eq!(res.status(), 403),
        other => panic!("expected HTTP 403, got {other:?}"),
    }
    let mut req = format!("ws://{addr}/api/v1/ws")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("origin", "https://app.example.org".parse().unwrap());
    assert!(
        tokio_tungstenite::connect_async(req).await.is_ok(),
        "allowed origin connects"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_reader_is_dropped_and_fast_reader_keeps_up() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (a, _) = app.user("ingrid").await;
    let (slow, slow_id) = app.user("jonas").await;
    let (fast, fast_id) = app.user("karin").await;
    let room = app.group(&a, "Firehose").await;
    app.add(&a, &room, &slow_id).await;
    app.add(&a, &room, &fast_id).await;
    // The slow client has a tiny receive buffer and never reads.
    let (mut ws_slow, _) = Ws::connect_with(&app, &slow, Some(4096)).await;
    let (mut ws_fast, _) = Ws::connect(&app, &fast).await;
    let body = "z".repeat(3900);
    let n = 1500;
    let reader = tokio::spawn(async move {
        let mut got = 0;
        let mut worst = Duration::ZERO;
        while got < n {
            let f = ws_fast
                .next_within(Duration::from_secs(20))
                .await
                .expect("fast reader keeps receiving");
            assert_ne!(f["op"], "__close", "the fast reader must not be dropped");
            if f["op"] == "event" && f["d"]["type"] == "message.created" {
                let sent: chrono::DateTime<chrono::Utc> =
                    f["d"]["created_at"].as_str().unwrap().parse().unwrap();
                worst = worst.max((chrono::Utc::now() - sent).to_std().unwrap_or_default());
                got += 1;
            }
        }
        worst
    });
    for i in 0..n {
        let r = app
            .post(
                &format!("/api/v1/rooms/{room}/messages"),
                Some(&a),
                json!({"client_id": format!("s{i}"), "body": body}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let worst = reader.await.unwrap();
    // Not a speed assertion: a fast reader stuck behind a slow one would wait for seconds.
    assert!(
        worst < Duration::from_secs(5),
        "fast reader delayed by {worst:?}"
    );
    assert_eq!(
        ws_slow.closed().await,
        Some(4009),
        "the laggard is told to resync"
    );
    let metrics = app.metrics().await;
    assert!(metrics.contains("gateway_lagging_disconnects_total"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_user_socket_cap() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.limits.gateway_max_sockets_per_user = 2
    })
    .await
    .unwrap();
    let (a, _) = app.user("lena").await;
    let (_w1, _) = Ws::connect(&app, &a).await;
    let (_w2, _) = Ws::connect(&app, &a).await;
    let mut third = Ws {
        s: Ws::raw(&app).await,
        next_id: 0,
    };
    third
        .send_json(json!({"op": "auth", "id": "1", "d": {"token": a}}))
        .await;
    assert_eq!(third.closed().await, Some(4010));
    drop(_w1);
    // A slot frees up once a socket closes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (mut w3, ready) = Ws::connect(&app, &a).await;
    assert!(ready["rooms"].is_array());
    assert_eq!(w3.request("ping", json!({})).await["op"], "ack");
}

/// The exact bytes of every refusal a request can get, and when it comes: envelope problems at
/// once (no `id`), a bad payload as that request's own answer, in order behind the requests
/// sent before it. Pinned so a change of the frame parser cannot change the protocol.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_answered_byte_for_byte_as_before() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (a, _) = app.user("golda").await;
    let room = app.group(&a, "Golden").await;
    let (mut ws, _) = Ws::connect(&app, &a).await;
    let mut exchange = async |frame: &str| -> String {
        ws.s.send(Message::Text(frame.to_owned().into()))
            .await
            .unwrap();
        loop {
            match ws.s.next().await.expect("open").expect("frame") {
                // Pushes (typing, presence) are not answers.
                Message::Text(t)
                    if t.starts_with(r#"{"op":"ack""#) || t.starts_with(r#"{"op":"error""#) =>
                {
                    return t.as_str().to_owned();
                }
                Message::Close(f) => return format!("close {:?}", f.map(|f| u16::from(f.code))),
                _ => continue,
            }
        }
    };
    const SHAPE: &str = r#"{"op":"error","d":{"code":"invalid_frame","message":"a frame is an object with a string `op` and `id` and an object `d`"}}"#;
    const NO_ID: &str = r#"{"op":"error","d":{"code":"invalid_frame","message":"requests need an `id` of 1–64 characters"}}"#;
    let no_room = uuid::Uuid::now_v7();
    let cases: Vec<(String, String)> = vec![
        (
            "{not json".into(),
            r#"{"op":"error","d":{"code":"invalid_json","message":"frame is not valid JSON"}}"#
                .into(),
        ),
        ("[1,2]".into(), SHAPE.into()),
        (r#"{"op":5,"id":"1"}"#.into(), SHAPE.into()),
        (r#"{"id":"1","d":{}}"#.into(), SHAPE.into()),
        (r#"{"op":"ping","id":7}"#.into(), SHAPE.into()),
        (r#"{"op":"send","id":"1","d":[1]}"#.into(), SHAPE.into()),
        (r#"{"op":"send","id":"1","d":"x"}"#.into(), SHAPE.into()),
        (r#"{"op":"send"}"#.into(), NO_ID.into()),
        (r#"{"op":"teleport","d":{}}"#.into(), NO_ID.into()),
        (format!(r#"{{"op":"ping","id":"{}"}}"#, "x".repeat(65)), NO_ID.into()),
        (
            r#"{"op":"teleport","id":"2","d":{}}"#.into(),
            r#"{"op":"error","id":"2","d":{"code":"unknown_op","message":"unknown op"}}"#.into(),
        ),
        (
            r#"{"op":"ping","id":"3","d":{"extra":[1]},"more":true}"#.into(),
            r#"{"op":"ack","id":"3","d":{}}"#.into(),
        ),
        (r#"{"op":"ping","id":"4"}"#.into(), r#"{"op":"ack","id":"4","d":{}}"#.into()),
        (
            r#"{"op":"send","id":"5"}"#.into(),
            r#"{"op":"error","id":"5","d":{"code":"invalid_frame","message":"invalid payload: invalid type: null, expected struct SendReq"}}"#.into(),
        ),
        (
            r#"{"op":"send","id":"6","d":{"room_id":"nope","body":5}}"#.into(),
            r#"{"op":"error","id":"6","d":{"code":"invalid_frame","message":"invalid payload: invalid type: integer `5`, expected a string"}}"#.into(),
        ),
        (
            r#"{"op":"send","id":"6b","d":{"room_id":"nope","client_id":"c"}}"#.into(),
            r#"{"op":"error","id":"6b","d":{"code":"invalid_frame","message":"invalid payload: UUID parsing failed: invalid character: found `n` at 0"}}"#.into(),
        ),
        (
            format!(r#"{{"op":"typing","id":"7","d":{{"room_id":"{room}","active":true,"x":1}}}}"#),
            r#"{"op":"error","id":"7","d":{"code":"invalid_frame","message":"invalid payload: unknown field `x`, expected `room_id` or `active`"}}"#.into(),
        ),
        (
            r#"{"op":"read","id":"8","d":{}}"#.into(),
            r#"{"op":"error","id":"8","d":{"code":"invalid_frame","message":"invalid payload: missing field `room_id`"}}"#.into(),
        ),
        (
            r#"{"op":"presence","id":"9","d":{"status":"away"}}"#.into(),
            r#"{"op":"error","id":"9","d":{"code":"invalid_status","message":"status must be online or idle"}}"#.into(),
        ),
        (
            r#"{"op":"presence","id":"10","d":{"status":"idle"}}"#.into(),
            r#"{"op":"ack","id":"10","d":{}}"#.into(),
        ),
        (
            format!(r#"{{"op":"typing","id":"11","d":{{"room_id":"{no_room}","active":true}}}}"#),
            r#"{"op":"error","id":"11","d":{"code":"not_found","message":"room not found"}}"#.into(),
        ),
        (
            format!(r#"{{"op":"typing","id":"12","d":{{"room_id":"{room}","active":false}}}}"#),
            r#"{"op":"ack","id":"12","d":{}}"#.into(),
        ),
        (
            format!(r#"{{"op":"delete","id":"13","d":{{"room_id":"{room}","message_id":"{no_room}"}}}}"#),
            r#"{"op":"error","id":"13","d":{"code":"not_found","message":"message not found"}}"#.into(),
        ),
    ];
    for (frame, want) in &cases {
        assert_eq!(&exchange(frame).await, want, "answer to {frame}");
    }
    // A bad payload is that request's answer, in order behind a request still in flight.
    ws.s.send(Message::Text(
        json!({"op": "send", "id": "s1", "d": {"room_id": room, "client_id": "g1", "body": "hi"}})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    ws.s.send(Message::Text(r#"{"op":"edit","id":"s2","d":{}}"#.into()))
        .await
        .unwrap();
    let mut answers = Vec::new();
    while answers.len() < 2 {
        let f = ws.next().await;
        if f["id"].is_string() {
            answers.push((f["id"].clone(), f["op"].clone()));
        }
    }
    assert_eq!(
        answers,
        [(json!("s1"), json!("ack")), (json!("s2"), json!("error"))]
    );
    // Re-authentication with a payload that is not `{"token"}` closes the socket (4002).
    ws.send_json(json!({"op": "auth", "id": "a", "d": {"jwt": "x"}}))
        .await;
    assert_eq!(ws.closed().await, Some(4002));
}
