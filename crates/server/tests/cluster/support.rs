//! Real processes for the scale-out tests: a private `redis-server`, several `justus` binaries
//! on one fresh PostgreSQL database, and chat clients that behave like the web client (retry
//! unacknowledged sends with the same `client_id`, reconnect elsewhere, detect `seq` gaps and
//! catch up from `/events`).
//!
//! (Over 600 lines: the harness for every real process the suite starts, one section each.)

use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The signing secret every instance shares, made for this run (published ones are refused).
pub fn secret() -> &'static str {
    static SECRET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SECRET.get_or_init(|| hex::encode(rand::random::<[u8; 32]>()))
}

/// Skips (outside CI) or fails (CI=true) when a service the suite needs is missing.
pub fn require(what: &str, ok: bool) -> bool {
    if ok {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is required for the scale-out suite (CI=true)");
    }
    eprintln!("SKIPPED: {what} is missing; the scale-out suite did not run");
    false
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn kill(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status();
}

// --- Redis -------------------------------------------------------------------------------

/// A private redis-server on its own port, so the suite can stop and restart it freely.
pub struct Redis {
    pub port: u16,
    child: Option<Child>,
    /// The only user that may connect: confined to `PREFIX:*` keys and channels.
    prefix: String,
    password: String,
}

impl Redis {
    /// A fresh redis-server whose only user (`justus`) may touch nothing but the keys and
    /// channels under `prefix:` (the least privilege docs/operations.md describes); the
    /// anonymous default user is off.
    pub fn start(prefix: &str) -> Option<Redis> {
        let found = Command::new("redis-server")
            .arg("--version")
            .output()
            .is_ok();
        if !require("redis-server", found) {
            return None;
        }
        let mut r = Redis {
            port: free_port(),
            child: None,
            prefix: prefix.to_owned(),
            password: uuid::Uuid::now_v7().simple().to_string(),
        };
        r.spawn();
        Some(r)
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--user",
                "default",
                "off",
                "--user",
                "justus",
                "on",
                &format!(">{}", self.password),
                &format!("~{}:*", self.prefix),
                &format!("&{}:*", self.prefix),
                "+@all",
                "-@dangerous",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self) -> String {
        format!("redis://justus:{}@127.0.0.1:{}", self.password, self.port)
    }

    /// Kills it (SIGKILL: nothing is kept) and starts a new one on the same port after `down`.
    pub fn restart(&mut self, down: Duration) {
        self.stop();
        std::thread::sleep(down);
        self.spawn();
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

// --- justus instances --------------------------------------------------------------------

pub struct Instance {
    pub base: String,
    /// The private listener: `/metrics` and the detailed `/ready`.
    pub ops_base: String,
    /// Every line it wrote on stdout besides its addresses (its logs).
    pub log: Arc<parking_lot::Mutex<Vec<String>>>,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Instance {
    /// Starts the real binary (with `extra` environment) and waits for its "serving on" line.
    pub fn spawn_with(
        database_url: &str,
        redis_url: &str,
        prefix: &str,
        name: &str,
        extra: &[(&str, &str)],
    ) -> Instance {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_justus"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("JUSTUS_BIND", "127.0.0.1:0")
            .env("METRICS_BIND", "127.0.0.1:0")
            .env("JUSTUS_DATA_DIR", dir.path())
            .env("DATABASE_URL", database_url)
            .env("DATABASE_MAX_CONNECTIONS", "8")
            .env("REDIS_URL", redis_url)
            .env("REDIS_PREFIX", prefix)
            .env("JWT_SECRET", secret())
            .env("REGISTER_PER_IP_PER_HOUR", "100000")
            .env("GATEWAY_REQUESTS_PER_SECOND", "5000")
            .env("SHUTDOWN_GRACE_SECONDS", "5")
            .env("JUSTUS_LOG", "warn")
            .envs(extra.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("justus starts");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let tag = name.to_owned();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[{tag}] {line}");
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let tag = name.to_owned();
        let log = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("JustUs is serving on ") {
                    let _ = tx.send((false, url.trim().to_owned()));
                } else if let Some(url) = line.strip_prefix("Metrics on ") {
                    let url = url.trim().trim_end_matches("/metrics").to_owned();
                    let _ = tx.send((true, url));
                } else {
                    eprintln!("[{tag}] {line}");
                    lines.lock().push(line);
                }
            }
        });
        let (mut base, mut ops_base) = (None, None);
        while base.is_none() || ops_base.is_none() {
            let (is_ops, url) = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("justus printed its addresses");
            if is_ops {
                ops_base = Some(url);
            } else {
                base = Some(url);
            }
        }
        Instance {
            base: base.unwrap_or_default(),
            ops_base: ops_base.unwrap_or_default(),
            log,
            child,
            _dir: dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no goodbye, no flush.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        kill(self.pid(), "-TERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "justus did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn ws_url(&self) -> String {
        format!("{}/api/v1/ws", self.base.replacen("http", "ws", 1))
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// --- REST --------------------------------------------------------------------------------

pub fn http() -> reqwest::Client {
    justus_server::tls::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

pub async fn call(
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = http().request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Registers `name`; returns (token, user id).
pub async fn register(base: &str, name: &str) -> (String, String) {
    let (s, b) = call(
        base,
        reqwest::Method::POST,
        "/api/v1/auth/register",
        None,
        Some(json!({"username": name, "email": format!("{name}@example.org"), "password": format!("{name} rides a purple bicycle")})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "register {name}: {b}");
    (
        b["access_token"].as_str().expect("token").to_owned(),
        b["user"]["id"].as_str().expect("id").to_owned(),
    )
}

/// A group owned by `owner` with `members` added.
pub async fn group(base: &str, owner: &str, name: &str, members: &[&str]) -> String {
    let (s, b) = call(
        base,
        reqwest::Method::POST,
        "/api/v1/rooms",
        Some(owner),
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "group: {b}");
    let room = b["id"].as_str().expect("room id").to_owned();
    for m in members {
        let (s, b) = call(
            base,
            reqwest::Method::POST,
            &format!("/api/v1/rooms/{room}/members"),
            Some(owner),
            Some(json!({"user_id": m})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "add member: {b}");
    }
    room
}

/// A room's whole history from the database: seq → (event type, message id, client id).
pub type History = BTreeMap<i64, (String, String, String)>;

pub async fn events_after(base: &str, token: &str, room: &str, after: i64) -> Option<Vec<Value>> {
    let mut out = Vec::new();
    let mut after = after;
    loop {
        let res = http()
            .get(format!(
                "{base}/api/v1/rooms/{room}/events?after={after}&limit=200"
            ))
            .bearer_auth(token)
            .send()
            .await
            .ok()?;
        if !res.status().is_success() {
            return None;
        }
        let page: Value = res.json().await.ok()?;
        let events = page["events"].as_array()?.clone();
        if let Some(last) = events.last() {
            after = last["seq"].as_i64()?;
        }
        out.extend(events);
        if page["has_more"] != json!(true) {
            return Some(out);
        }
    }
}

fn key(ev: &Value) -> (String, String, String) {
    (
        ev["type"].as_str().unwrap_or("").to_owned(),
        ev["message_id"].as_str().unwrap_or("").to_owned(),
        ev["message"]["client_id"].as_str().unwrap_or("").to_owned(),
    )
}

pub async fn history(base: &str, token: &str, room: &str) -> History {
    events_after(base, token, room, 0)
        .await
        .expect("history readable")
        .iter()
        .map(|e| (e["seq"].as_i64().expect("seq"), key(e)))
        .collect()
}

// --- chat clients ------------------------------------------------------------------------

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The instances clients may connect to (the harness swaps them as it kills and restarts).
pub type Live = Arc<parking_lot::RwLock<Vec<Option<(String, String)>>>>; // (http base, ws url)

/// A gateway `send` whose request id is its `client_id`, so a retry is the same request.
fn send_frame(client_id: &str, room: &str, body: &str) -> String {
    json!({"op": "send", "id": client_id, "d": {"room_id": room, "client_id": client_id, "body": body}})
        .to_string()
}

pub struct Client {
    pub name: String,
    pub token: String,
    pub user_id: String,
    /// Preferred instance index; falls back to any live one.
    pub home: usize,
    ws: Option<Ws>,
    /// What this client has seen, per room, by seq.
    pub view: HashMap<String, History>,
    /// Sends not yet acknowledged: client_id → (room, body).
    pub pending: BTreeMap<String, (String, String)>,
    /// Acknowledged sends: client_id → (message id, seq).
    pub acked: HashMap<String, (String, i64)>,
    pub reconnects: u32,
}

impl Client {
    pub fn new(name: &str, token: String, user_id: String, home: usize) -> Self {
        Client {
            name: name.to_owned(),
            token,
            user_id,
            home,
            ws: None,
            view: HashMap::new(),
            pending: BTreeMap::new(),
            acked: HashMap::new(),
            reconnects: 0,
        }
    }

    fn pick(&self, live: &Live) -> Option<(String, String)> {
        let l = live.read();
        l.get(self.home)
            .cloned()
            .flatten()
            .or_else(|| l.iter().flatten().next().cloned())
    }

    fn last(&self, room: &str) -> i64 {
        self.view
            .get(room)
            .and_then(|h| h.keys().next_back().copied())
            .unwrap_or(0)
    }

    /// Fills `room` from the REST history after what this client has contiguously.
    async fn catch_up(&mut self, base: &str, room: &str) -> bool {
        let have = self.view.entry(room.to_owned()).or_default();
        // The first hole (or the end) is where the gap starts.
        let mut from = 0;
        for seq in have.keys() {
            if *seq != from + 1 {
                break;
            }
            from = *seq;
        }
        let Some(events) = events_after(base, &self.token, room, from).await else {
            return false;
        };
        let have = self.view.entry(room.to_owned()).or_default();
        for e in events {
            if let Some(seq) = e["seq"].as_i64() {
                have.insert(seq, key(&e));
            }
        }
        true
    }

    async fn connect(&mut self, live: &Live) -> bool {
        let Some((base, url)) = self.pick(live) else {
            return false;
        };
        let Ok(Ok((mut ws, _))) = tokio::time::timeout(
            Duration::from_secs(3),
            tokio_tungstenite::connect_async(url.as_str()),
        )
        .await
        else {
            return false;
        };
        let auth = json!({"op": "auth", "id": "auth", "d": {"token": self.token}}).to_string();
        if ws.send(Message::Text(auth.into())).await.is_err() {
            return false;
        }
        let ready = loop {
            match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => {
                    let v: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
                    if v["op"] == "ready" {
                        break v;
                    }
                }
                Ok(Some(Ok(_))) => continue,
                _ => return false,
            }
        };
        self.ws = Some(ws);
        // Resume: every room that moved past what we have is caught up from history.
        let rooms: Vec<(String, i64)> = ready["d"]["rooms"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| Some((r["id"].as_str()?.to_owned(), r["last_seq"].as_i64()?)))
                    .collect()
            })
            .unwrap_or_default();
        for (room, last) in rooms {
            if last > self.last(&room) && !self.catch_up(&base, &room).await {
                self.ws = None;
                return false;
            }
        }
        // Everything not acknowledged is sent again, with the same client_id.
        let frames: Vec<String> = self
            .pending
            .iter()
            .map(|(cid, (room, body))| send_frame(cid, room, body))
            .collect();
        for f in frames {
            let Some(ws) = self.ws.as_mut() else {
                return false;
            };
            if ws.send(Message::Text(f.into())).await.is_err() {
                self.ws = None;
                return false;
            }
        }
        true
    }

    /// Queues a message and sends it now if connected.
    pub async fn queue(&mut self, room: &str, body: &str) -> String {
        let cid = uuid::Uuid::now_v7().to_string();
        self.pending
            .insert(cid.clone(), (room.to_owned(), body.to_owned()));
        if let Some(ws) = self.ws.as_mut() {
            let f = send_frame(&cid, room, body);
            if ws.send(Message::Text(f.into())).await.is_err() {
                self.ws = None;
            }
        }
        cid
    }

    /// Handles one frame; returns false when the socket is gone.
    async fn step(&mut self, live: &Live, wait: Duration) -> bool {
        let Some(ws) = self.ws.as_mut() else {
            return false;
        };
        let frame = match tokio::time::timeout(wait, ws.next()).await {
            Err(_) => return true, // quiet
            Ok(Some(Ok(Message::Text(t)))) => t,
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                self.ws = None;
                return false;
            }
            Ok(Some(Ok(_))) => return true,
        };
        let v: Value = serde_json::from_str(&frame).unwrap_or(Value::Null);
        match v["op"].as_str() {
            Some("ack") => {
                if let Some(id) = v["id"].as_str()
                    && self.pending.remove(id).is_some()
                {
                    let m = &v["d"]["message"];
                    self.acked.insert(
                        id.to_owned(),
                        (
                            m["id"].as_str().unwrap_or("").to_owned(),
                            m["seq"].as_i64().unwrap_or(0),
                        ),
                    );
                }
            }
            Some("error") => {
                // Retryable refusals (rate limits, a database restarting) stay pending; the
                // message is re-sent on the next connection or by `settle`.
                let code = v["d"]["code"].as_str().unwrap_or("");
                assert!(
                    matches!(code, "rate_limited" | "unavailable" | "internal"),
                    "{}: unexpected error {v}",
                    self.name
                );
                if let Some(id) = v["id"].as_str()
                    && let Some((room, body)) = self.pending.get(id).cloned()
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let f = send_frame(id, &room, &body);
                    if let Some(ws) = self.ws.as_mut()
                        && ws.send(Message::Text(f.into())).await.is_err()
                    {
                        self.ws = None;
                    }
                }
            }
            Some("event") => self.apply_event(live, &v["d"]).await,
            _ => {}
        }
        true
    }

    /// Records an event; a `seq` gap is filled from history, like the web client does.
    async fn apply_event(&mut self, live: &Live, d: &Value) {
        let (Some(room), Some(seq)) = (d["room_id"].as_str(), d["seq"].as_i64()) else {
            return;
        };
        let last = self.last(room);
        self.view
            .entry(room.to_owned())
            .or_default()
            .insert(seq, key(d));
        if seq > last + 1 {
            let room = room.to_owned();
            if let Some((base, _)) = self.pick(live) {
                self.catch_up(&base, &room).await;
            }
        }
    }

    /// Runs until nothing is pending (reconnecting as needed) or `deadline`.
    pub async fn drain(&mut self, live: &Live, deadline: Instant) -> bool {
        while Instant::now() < deadline {
            if self.ws.is_none() {
                if !self.pending.is_empty() || self.reconnects == 0 {
                    self.reconnects += 1;
                }
                if !self.connect(live).await {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            }
            if self.pending.is_empty() {
                return true;
            }
            self.step(live, Duration::from_millis(200)).await;
        }
        self.pending.is_empty()
    }

    /// Keeps reading (and reconnecting) for `d`, so the view converges.
    pub async fn listen(&mut self, live: &Live, d: Duration) {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if self.ws.is_none() && !self.connect(live).await {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            self.step(live, Duration::from_millis(50)).await;
        }
    }

    pub async fn send_raw(&mut self, frame: Value) -> bool {
        match self.ws.as_mut() {
            Some(ws) => ws
                .send(Message::Text(frame.to_string().into()))
                .await
                .is_ok(),
            None => false,
        }
    }

    /// Reads frames until one matches `pred` (other frames are applied as usual).
    pub async fn wait_for(
        &mut self,
        live: &Live,
        d: Duration,
        mut pred: impl FnMut(&Value) -> bool,
    ) -> Option<Value> {
        let until = Instant::now() + d;
        while Instant::now() < until {
            let ws = self.ws.as_mut()?;
            let Ok(Some(Ok(Message::Text(t)))) =
                tokio::time::timeout(Duration::from_millis(100), ws.next()).await
            else {
                continue;
            };
            let v: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
            if v["op"] == "event" {
                self.apply_event(live, &v["d"]).await;
            }
            if pred(&v) {
                return Some(v);
            }
        }
        None
    }

    pub async fn ensure_connected(&mut self, live: &Live) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.ws.is_none() {
            assert!(Instant::now() < deadline, "{} cannot connect", self.name);
            if !self.connect(live).await {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
