//! Scale-out suite: real `justus` processes sharing PostgreSQL and a real Redis, killed,
//! restarted and cut off while clients keep chatting. The database is the truth; the checks
//! are Jepsen-style: no acknowledged message lost, none duplicated, every reader converges to
//! the database's order.
//!
//! (Over 600 lines: every scale-out scenario runs on the same cluster harness; splitting it
//! would duplicate the process set-up per file.)

mod support;
mod traces;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

/// The suite's tests start processes and restart shared services: one at a time.
/// (tokio's mutex: each test has its own runtime, and the guard lives across awaits.)
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Cluster {
    extra: Vec<(&'static str, &'static str)>,
    db: String,
    redis: Redis,
    prefix: String,
    instances: Vec<Option<Instance>>,
    live: Live,
}

impl Cluster {
    async fn start(n: usize) -> Option<Cluster> {
        Self::start_with(n, &[]).await
    }

    async fn start_with(n: usize, extra: &[(&'static str, &'static str)]) -> Option<Cluster> {
        // The instances log in as a role that owns only their database (least privilege).
        let db = justus_store_postgres::testing::fresh_owned_database_url().await?;
        let prefix = format!("t{}", uuid::Uuid::now_v7().simple());
        let redis = Redis::start(&prefix)?;
        let mut c = Cluster {
            extra: extra.to_vec(),
            db,
            redis,
            prefix,
            instances: Vec::new(),
            live: Arc::new(parking_lot::RwLock::new(Vec::new())),
        };
        for i in 0..n {
            c.instances.push(None);
            c.live.write().push(None);
            c.respawn(i);
        }
        Some(c)
    }

    fn respawn(&mut self, i: usize) {
        let inst = Instance::spawn_with(
            &self.db,
            &self.redis.url(),
            &self.prefix,
            &format!("justus-{i}"),
            &self.extra,
        );
        self.live.write()[i] = Some((inst.base.clone(), inst.ws_url()));
        self.instances[i] = Some(inst);
    }

    /// A graceful stop, as a balancer and an orchestrator do it: out of the balancer first
    /// (no new connections), then SIGTERM; returns the exit status.
    fn terminate(&mut self, i: usize) -> std::process::ExitStatus {
        self.live.write()[i] = None;
        let inst = self.instances[i].take().expect("instance up");
        tokio::task::block_in_place(|| inst.terminate())
    }

    fn kill(&mut self, i: usize) {
        self.live.write()[i] = None;
        if let Some(inst) = self.instances[i].take() {
            inst.kill();
        }
    }

    fn base(&self, i: usize) -> String {
        self.instances[i]
            .as_ref()
            .expect("instance up")
            .base
            .clone()
    }

    /// The instance's private listener (`/metrics`, the detailed `/ready`).
    fn ops_base(&self, i: usize) -> String {
        self.instances[i]
            .as_ref()
            .expect("instance up")
            .ops_base
            .clone()
    }

    fn any_base(&self) -> String {
        self.instances
            .iter()
            .flatten()
            .next()
            .expect("an instance is up")
            .base
            .clone()
    }
}

/// `n` users spread over the instances, all members of `rooms` groups.
async fn population(c: &Cluster, n: usize, rooms: usize) -> (Vec<Client>, Vec<String>) {
    let base = c.base(0);
    let mut users = Vec::new();
    for i in 0..n {
        let name = format!("u{i}x{}", &c.prefix[c.prefix.len() - 6..]);
        let (token, id) = register(&base, &name).await;
        users.push((name, token, id));
    }
    let others: Vec<&str> = users[1..].iter().map(|u| u.2.as_str()).collect();
    let mut room_ids = Vec::new();
    for r in 0..rooms {
        room_ids.push(group(&base, &users[0].1, &format!("room {r}"), &others).await);
    }
    let clients = users
        .into_iter()
        .enumerate()
        .map(|(i, (name, token, id))| Client::new(&name, token, id, i % c.instances.len()))
        .collect();
    (clients, room_ids)
}

/// Every client queues `per_client` sends labelled `label` (rooms in turn), then all of them
/// drain at once while `disrupt` runs `after` into the burst. Returns whether a burst was still
/// running when `disrupt` ran; panics if a client could not get its sends acknowledged.
async fn burst(
    c: &mut Cluster,
    clients: &mut Vec<Client>,
    rooms: &[String],
    (label, per_client): (&str, usize),
    after: Duration,
    disrupt: impl FnOnce(&mut Cluster),
) -> bool {
    for (i, cl) in clients.iter_mut().enumerate() {
        for k in 0..per_client {
            let room = &rooms[(i + k) % rooms.len()];
            cl.queue(room, &format!("{label} c{i} m{k}")).await;
        }
    }
    let live = c.live.clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut tasks = Vec::new();
    for mut cl in clients.drain(..) {
        let live = live.clone();
        tasks.push(tokio::spawn(async move {
            let ok = cl.drain(&live, deadline).await;
            (cl, ok)
        }));
    }
    tokio::time::sleep(after).await;
    let running = tasks.iter().any(|t| !t.is_finished());
    disrupt(c);
    for t in tasks {
        let (cl, ok) = t.await.expect("client task");
        assert!(
            ok,
            "{label}: {} could not get its sends acknowledged",
            cl.name
        );
        clients.push(cl);
    }
    running
}

/// The value of an unlabelled metric (or a histogram's `_count`) on an instance's private
/// listener; 0 when it has not been recorded yet.
async fn metric(ops_base: &str, name: &str) -> f64 {
    let text = http()
        .get(format!("{ops_base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with([' ', '{']))
        })
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// The Jepsen-style verdict over the database's histories and what every client saw.
async fn verify(c: &Cluster, clients: &mut [Client], rooms: &[String], settle: Duration) {
    let base = c.any_base();
    let token = clients[0].token.clone();
    let mut truth = HashMap::new();
    for room in rooms {
        truth.insert(room.clone(), history(&base, &token, room).await);
    }
    // No duplicates: each client_id is in the history once.
    let mut by_client_id: HashMap<String, (String, i64)> = HashMap::new();
    for (room, h) in &truth {
        for (seq, (kind, message_id, client_id)) in h {
            if kind == "message.created" {
                assert!(
                    by_client_id
                        .insert(client_id.clone(), (message_id.clone(), *seq))
                        .is_none(),
                    "client_id {client_id} stored twice (room {room})"
                );
            }
        }
        // Seqs are dense: 1..=last with no hole.
        let seqs: Vec<i64> = h.keys().copied().collect();
        assert_eq!(
            seqs,
            (1..=seqs.len() as i64).collect::<Vec<_>>(),
            "holes in {room}"
        );
    }
    // No acknowledged message lost, and the ack named what was stored.
    let mut acked = 0;
    for cl in clients.iter() {
        assert!(
            cl.pending.is_empty(),
            "{} still has unacknowledged sends",
            cl.name
        );
        for (cid, ack) in &cl.acked {
            acked += 1;
            let stored = by_client_id
                .get(cid)
                .unwrap_or_else(|| panic!("acknowledged {cid} of {} is lost", cl.name));
            assert_eq!(stored, ack, "ack for {cid} disagrees with the database");
        }
    }
    assert!(acked > 0);
    // Every reader converges to the database, in the database's order.
    let deadline = Instant::now() + settle;
    for cl in clients.iter_mut() {
        loop {
            let converged = rooms.iter().all(|r| cl.view.get(r) == truth.get(r));
            if converged {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not converge: {:?}",
                cl.name,
                rooms
                    .iter()
                    .map(|r| (
                        cl.view.get(r).map(|h| h.len()),
                        truth.get(r).map(|h| h.len())
                    ))
                    .collect::<Vec<_>>()
            );
            cl.listen(&c.live, Duration::from_millis(200)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_messages_edits_reactions_typing_presence_receipts() {
    let _g = SERIAL.lock().await;
    let Some(mut c) = Cluster::start(2).await else {
        return;
    };
    // They migrated and serve as a role without superuser, CREATEDB or CREATEROLE.
    assert_eq!(
        justus_store_postgres::testing::role_privileges(&c.db).await,
        (false, false, false)
    );
    // Their Redis user may touch only keys under the instances' prefix.
    let mut redis = redis::Client::open(c.redis.url())
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis as the instances' user");
    let outside: redis::RedisResult<()> = redis::cmd("SET")
        .arg("elsewhere")
        .arg(1)
        .query_async(&mut redis)
        .await;
    assert!(
        outside
            .as_ref()
            .is_err_and(|e| e.to_string().to_ascii_uppercase().contains("NOPERM")),
        "{outside:?}"
    );
    let inside: redis::RedisResult<()> = redis::cmd("SET")
        .arg(format!("{}:probe", c.prefix))
        .arg(1)
        .query_async(&mut redis)
        .await;
    assert!(inside.is_ok(), "{inside:?}");
    let (mut cl, rooms) = population(&c, 3, 1).await;
    let room = rooms[0].clone();
    let (a0, b1) = (0, 1); // client 0 on instance 0, client 1 on instance 1
    for x in cl.iter_mut() {
        x.ensure_connected(&c.live).await;
    }
    // Presence: client 1 (instance 1) sees client 0 (instance 0) online via its ready snapshot
    // or a presence push; a new socket's ready on instance 1 lists both remote users.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, ready_peek) = {
        let (s, b) = call(&c.ops_base(1), Method::GET, "/ready", None, None).await;
        (s, b)
    };
    assert_eq!(ready_peek["checks"]["bus"], "ok", "{ready_peek}");

    // A message sent on instance 0 reaches the reader on instance 1.
    let cid = cl[a0].queue(&room, "hello across").await;
    assert!(
        cl[a0]
            .drain(&c.live, Instant::now() + Duration::from_secs(10))
            .await
    );
    let (mid, seq) = cl[a0].acked[&cid].clone();
    let got = cl[b1]
        .wait_for(&c.live, Duration::from_secs(5), |v| {
            v["op"] == "event" && v["d"]["seq"] == seq && v["d"]["type"] == "message.created"
        })
        .await
        .expect("message crossed instances");
    assert_eq!(got["d"]["message"]["body"], "hello across");
    // The receiving instance measured how old the event was when Redis brought it (bus lag).
    let aged = metric(&c.ops_base(1), "bus_event_age_seconds_count").await;
    assert!(
        aged >= 1.0,
        "bus_event_age_seconds counts relayed events: {aged}"
    );

    // Edit and reaction (REST on instance 1) reach the socket on instance 0.
    let (s, _) = call(
        &c.base(1),
        Method::PATCH,
        &format!("/api/v1/rooms/{room}/messages/{mid}"),
        Some(&cl[a0].token.clone()),
        Some(json!({"body": "hello, edited"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        &c.base(1),
        Method::PUT,
        &format!("/api/v1/rooms/{room}/messages/{mid}/reactions/%F0%9F%91%8D"),
        Some(&cl[b1].token.clone()),
        None,
    )
    .await;
    assert!(s.is_success(), "{s}");
    let edited = cl[a0]
        .wait_for(&c.live, Duration::from_secs(5), |v| {
            v["op"] == "event" && v["d"]["type"] == "message.edited"
        })
        .await
        .expect("edit crossed");
    assert_eq!(edited["d"]["message"]["body"], "hello, edited");
    cl[a0]
        .wait_for(&c.live, Duration::from_secs(5), |v| {
            v["op"] == "event" && v["d"]["type"] == "reaction.added"
        })
        .await
        .expect("reaction crossed");

    // Typing and read receipts (gateway on instance 1) reach instance 0.
    let uid1 = cl[b1].user_id.clone();
    assert!(
        cl[b1]
            .send_raw(json!({"op": "typing", "id": "t1", "d": {"room_id": room, "active": true}}))
            .await
    );
    cl[a0]
        .wait_for(&c.live, Duration::from_secs(5), |v| {
            v["op"] == "typing" && v["d"]["user_id"] == uid1.as_str()
        })
        .await
        .expect("typing crossed");
    assert!(
        cl[b1]
            .send_raw(json!({"op": "read", "id": "r1", "d": {"room_id": room, "seq": seq}}))
            .await
    );
    cl[a0]
        .wait_for(&c.live, Duration::from_secs(5), |v| {
            v["op"] == "receipt" && v["d"]["user_id"] == uid1.as_str()
        })
        .await
        .expect("receipt crossed");

    // Presence status change on instance 1 reaches instance 0.
    assert!(
        cl[b1]
            .send_raw(json!({"op": "presence", "id": "p1", "d": {"status": "idle"}}))
            .await
    );
    cl[a0]
        .wait_for(&c.live, Duration::from_secs(5), |v| {
            v["op"] == "presence"
                && v["d"]["user_id"] == uid1.as_str()
                && v["d"]["status"] == "idle"
        })
        .await
        .expect("presence crossed");

    // A third user connecting to instance 0 gets user 1 (on instance 1) in its ready snapshot.
    cl[2].home = 0;
    let (s, ready) = {
        use futures::{SinkExt, StreamExt};
        let url = c.instances[0].as_ref().expect("up").ws_url();
        let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .expect("ws");
        ws.send(tokio_tungstenite::tungstenite::Message::Text(
            json!({"op":"auth","id":"1","d":{"token": cl[2].token}})
                .to_string()
                .into(),
        ))
        .await
        .expect("auth");
        let mut ready = Value::Null;
        while let Some(Ok(m)) = ws.next().await {
            if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
                let v: Value = serde_json::from_str(&t).expect("json");
                if v["op"] == "ready" {
                    ready = v;
                    break;
                }
            }
        }
        (StatusCode::OK, ready)
    };
    assert_eq!(s, StatusCode::OK);
    let peers: HashSet<String> = ready["d"]["presence"]
        .as_array()
        .expect("presence")
        .iter()
        .filter_map(|p| p["user_id"].as_str().map(str::to_owned))
        .collect();
    assert!(
        peers.contains(&uid1),
        "remote user missing from ready presence: {ready}"
    );

    // Instance 1 dies without a word: its user goes offline on instance 0 (peer expiry).
    c.kill(1);
    cl[a0]
        .wait_for(&c.live, Duration::from_secs(15), |v| {
            v["op"] == "presence"
                && v["d"]["user_id"] == uid1.as_str()
                && v["d"]["status"] == "offline"
        })
        .await
        .expect("a dead instance's user goes offline");
}

/// Rolling restart: SIGTERM tells sockets to reconnect elsewhere and exits cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_closes_sockets_with_4011_and_exits_zero() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let _g = SERIAL.lock().await;
    let Some(mut c) = Cluster::start(1).await else {
        return;
    };
    let (cl, _rooms) = population(&c, 1, 1).await;
    let url = c.instances[0].as_ref().expect("up").ws_url();
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("ws");
    ws.send(Message::Text(
        json!({"op":"auth","id":"1","d":{"token": cl[0].token}})
            .to_string()
            .into(),
    ))
    .await
    .expect("auth");
    let inst = c.instances[0].take().expect("up");
    let pid = inst.pid();
    let waiter = std::thread::spawn(move || inst.terminate());
    let mut code = None;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        if let Message::Close(Some(f)) = m {
            code = Some(u16::from(f.code));
            break;
        }
    }
    assert_eq!(code, Some(4011), "pid {pid}: sockets get 4011 on shutdown");
    assert!(waiter.join().expect("join").success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_one_instance_mid_burst_twenty_rounds_no_loss_no_dup_same_order() {
    let _g = SERIAL.lock().await;
    let Some(mut c) = Cluster::start(2).await else {
        return;
    };
    let (mut clients, rooms) = population(&c, 6, 2).await;
    for cl in clients.iter_mut() {
        cl.ensure_connected(&c.live).await;
    }
    const ROUNDS: usize = 20;
    const PER_ROUND: usize = 8;
    let mut reconnects_seen = 0;
    for round in 0..ROUNDS {
        let victim = round % 2;
        // The victim dies a moment into the burst.
        let after = Duration::from_millis(5 + (round as u64 * 37) % 60);
        burst(
            &mut c,
            &mut clients,
            &rooms,
            (&format!("r{round}"), PER_ROUND),
            after,
            |c| c.kill(victim),
        )
        .await;
        c.respawn(victim);
        reconnects_seen = clients.iter().map(|c| c.reconnects).sum::<u32>();
    }
    assert!(
        reconnects_seen > ROUNDS as u32,
        "clients really reconnected ({reconnects_seen})"
    );
    verify(&c, &mut clients, &rooms, Duration::from_secs(30)).await;
    let total: usize = clients.iter().map(|c| c.acked.len()).sum();
    assert_eq!(
        total,
        ROUNDS * PER_ROUND * 6,
        "every send acknowledged exactly once"
    );
}

/// A rolling restart (each of three instances in turn: out of the balancer, SIGTERM, a new
/// process, back in) while every client keeps sending: every instance exits 0, every send is
/// acknowledged exactly once, none is lost or duplicated, and every client converges.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rolling_restart_under_continuous_sends_loses_nothing() {
    let _g = SERIAL.lock().await;
    let Some(mut c) = Cluster::start(3).await else {
        return;
    };
    let (mut clients, rooms) = population(&c, 6, 2).await;
    for cl in clients.iter_mut() {
        cl.ensure_connected(&c.live).await;
    }
    const PER_STEP: usize = 40;
    let mut mid_burst = 0;
    for step in 0..3 {
        let hit = burst(
            &mut c,
            &mut clients,
            &rooms,
            (&format!("s{step}"), PER_STEP),
            Duration::from_millis(20),
            |c| {
                let status = c.terminate(step);
                assert!(
                    status.success(),
                    "step {step}: exit {status:?} after SIGTERM"
                );
                c.respawn(step);
            },
        )
        .await;
        mid_burst += u32::from(hit);
    }
    assert!(
        mid_burst >= 2,
        "restarts hit running bursts ({mid_burst} of 3)"
    );
    verify(&c, &mut clients, &rooms, Duration::from_secs(30)).await;
    let reconnects: u32 = clients.iter().map(|c| c.reconnects).sum();
    assert!(
        reconnects >= 4,
        "the clients of the restarted instances moved ({reconnects})"
    );
    let total: usize = clients.iter().map(|c| c.acked.len()).sum();
    assert_eq!(
        total,
        3 * PER_STEP * 6,
        "every send acknowledged exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_restart_mid_burst_loses_nothing_and_resubscribes() {
    let _g = SERIAL.lock().await;
    let Some(mut c) = Cluster::start(2).await else {
        return;
    };
    let (mut clients, rooms) = population(&c, 4, 2).await;
    for cl in clients.iter_mut() {
        cl.ensure_connected(&c.live).await;
    }
    for round in 0..3 {
        // In round 1, Redis vanishes mid-burst and comes back empty after a moment; sends
        // must still commit and be acknowledged meanwhile.
        burst(
            &mut c,
            &mut clients,
            &rooms,
            (&format!("r{round}"), 10),
            Duration::from_millis(10),
            |c| {
                if round == 1 {
                    c.redis.restart(Duration::from_millis(700));
                }
            },
        )
        .await;
    }
    // Both instances resubscribed and report a healthy bus again.
    for i in 0..2 {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (_, b) = call(&c.ops_base(i), Method::GET, "/ready", None, None).await;
            if b["checks"]["bus"] == "ok" {
                break;
            }
            assert!(Instant::now() < deadline, "instance {i} bus not back: {b}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let reconnects = metric(&c.ops_base(i), "bus_reconnects_total").await;
        assert!(reconnects >= 1.0, "instance {i} counted its resubscription");
    }
    // After the outage, messages cross instances again at once.
    let cid = clients[0].queue(&rooms[0], "after the storm").await;
    assert!(
        clients[0]
            .drain(&c.live, Instant::now() + Duration::from_secs(10))
            .await
    );
    let seq = clients[0].acked[&cid].1;
    let live = c.live.clone();
    clients[1]
        .wait_for(&live, Duration::from_secs(5), |v| {
            v["op"] == "event" && v["d"]["seq"] == seq && v["d"]["room_id"] == rooms[0].as_str()
        })
        .await
        .expect("bus delivers again after Redis came back");
    verify(&c, &mut clients, &rooms, Duration::from_secs(20)).await;
}

fn pg_cluster() -> Option<(String, String)> {
    let version = std::fs::read_dir("/etc/postgresql")
        .ok()?
        .flatten()
        .next()?
        .file_name()
        .into_string()
        .ok()?;
    Some((version, "main".into()))
}

fn pg_ctl(action: &str) -> bool {
    let Some((v, name)) = pg_cluster() else {
        return false;
    };
    // `-m fast`: the default (smart) waits for every client to leave, which pools never do.
    Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &v, &name, action, "-m", "fast"])
        .status()
        .is_ok_and(|s| s.success())
}

use std::process::Command;

fn pg_ready() -> bool {
    Command::new("pg_isready")
        .args(["-h", "127.0.0.1", "-p", "5432", "-q"])
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restart_never_acks_falsely_and_recovers_within_5s() {
    let _g = SERIAL.lock().await;
    if std::env::var("JUSTUS_TEST_PG_RESTART").is_ok_and(|v| v == "0") {
        eprintln!("SKIPPED: JUSTUS_TEST_PG_RESTART=0");
        return;
    }
    if !require(
        "pg_ctlcluster (local PostgreSQL cluster)",
        pg_cluster().is_some(),
    ) {
        return;
    }
    let Some(c) = Cluster::start(2).await else {
        return;
    };
    let (mut clients, rooms) = population(&c, 2, 1).await;
    for cl in clients.iter_mut() {
        cl.ensure_connected(&c.live).await;
    }
    let room = rooms[0].clone();
    let base = c.base(0);
    let token = clients[0].token.clone();
    // A sender keeps writing over REST through the restart; each answer is recorded.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = {
        let (base, token, room, stop) = (base.clone(), token.clone(), room.clone(), stop.clone());
        tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut failed = 0u32;
            let mut slowest = Duration::ZERO;
            let mut first_ok_after_fail: Option<Instant> = None;
            let mut seen_fail = false;
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let cid = uuid::Uuid::now_v7().to_string();
                let sent_at = Instant::now();
                let res = http()
                    .post(format!("{base}/api/v1/rooms/{room}/messages"))
                    .bearer_auth(&token)
                    .json(&json!({"client_id": cid, "body": format!("pg {i}")}))
                    .send()
                    .await;
                slowest = slowest.max(sent_at.elapsed());
                match res {
                    Ok(r) if r.status() == StatusCode::CREATED => {
                        acked.push(cid);
                        if seen_fail && first_ok_after_fail.is_none() {
                            first_ok_after_fail = Some(Instant::now());
                        }
                    }
                    Ok(r) => {
                        let status = r.status();
                        let body: Value = r.json().await.unwrap_or(Value::Null);
                        assert!(status.is_server_error(), "unexpected {status}: {body}");
                        assert!(body["error"]["code"].is_string(), "clear error: {body}");
                        failed += 1;
                        seen_fail = true;
                    }
                    Err(_) => {
                        failed += 1;
                        seen_fail = true;
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (acked, failed, first_ok_after_fail, slowest)
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(pg_ctl("stop"), "pg_ctlcluster stop");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(pg_ctl("start"), "pg_ctlcluster start");
    while !pg_ready() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let back = Instant::now();
    // Recovery: a send succeeds within 5 s of PostgreSQL being back.
    let recovered = loop {
        let cid = uuid::Uuid::now_v7().to_string();
        let (s, _) = call(
            &base,
            Method::POST,
            &format!("/api/v1/rooms/{room}/messages"),
            Some(&token),
            Some(json!({"client_id": cid, "body": "probe"})),
        )
        .await;
        if s == StatusCode::CREATED {
            break back.elapsed();
        }
        assert!(back.elapsed() < Duration::from_secs(10), "no recovery");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        recovered <= Duration::from_secs(5),
        "recovered in {recovered:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (acked, failed, _, slowest) = sender.await.expect("sender");
    // A send during the outage is either refused (5xx) or held until PostgreSQL is back (the
    // pool waits for a connection); both are fine, a quick success throughout is not possible.
    assert!(
        failed > 0 || slowest >= Duration::from_millis(1000),
        "the restart was noticed by the sender (refused {failed}, slowest {slowest:?})"
    );
    // No false acknowledgement: everything acknowledged is in the database.
    let h = history(&base, &token, &room).await;
    let stored: HashSet<&str> = h.values().map(|(_, _, cid)| cid.as_str()).collect();
    for cid in &acked {
        assert!(
            stored.contains(cid.as_str()),
            "acknowledged {cid} is not in the database"
        );
    }
    eprintln!(
        "postgres restart: {} acked, {failed} refused, recovered {recovered:?} after PG was back",
        acked.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limits_hold_across_instances() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let _g = SERIAL.lock().await;
    let Some(c) = Cluster::start_with(
        2,
        &[
            ("REGISTER_PER_IP_PER_HOUR", "5"),
            ("GATEWAY_MAX_SOCKETS_PER_USER", "2"),
            ("GATEWAY_REQUESTS_PER_SECOND", "4"),
        ],
    )
    .await
    else {
        return;
    };
    let (a, b) = (c.base(0), c.base(1));
    let tag = &c.prefix[c.prefix.len() - 6..];
    // Registrations per address: 5 per hour over the whole cluster, not 5 per instance.
    let mut tokens = Vec::new();
    for i in 0..5 {
        let base = if i % 2 == 0 { &a } else { &b };
        tokens.push(register(base, &format!("lim{i}x{tag}")).await);
    }
    let (s, body) = call(
        &b,
        Method::POST,
        "/api/v1/auth/register",
        None,
        Some(json!({"username": format!("lim9x{tag}"), "password": "lim9 rides a purple bicycle"})),
    )
    .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");

    // Login throttling per (account, address): five failures spread over both instances, then
    // both refuse before checking the password.
    let login = format!("lim0x{tag}");
    for i in 0..5 {
        let base = if i % 2 == 0 { &a } else { &b };
        let (s, _) = call(
            base,
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"login": login, "password": "wrong wrong wrong"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    for base in [&a, &b] {
        let (s, body) = call(
            base,
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"login": login, "password": "lim0 rides a purple bicycle"})),
        )
        .await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["error"]["code"], "too_many_attempts");
    }

    // Sockets per user: 2 over the cluster. One on each instance, then a third is refused.
    let token = tokens[1].0.clone();
    let open = |i: usize| {
        let url = c.instances[i].as_ref().expect("up").ws_url();
        let token = token.clone();
        async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
                .await
                .expect("ws");
            ws.send(Message::Text(
                json!({"op":"auth","id":"1","d":{"token": token}})
                    .to_string()
                    .into(),
            ))
            .await
            .expect("auth");
            let mut first = None;
            while let Ok(Some(Ok(m))) =
                tokio::time::timeout(Duration::from_secs(5), ws.next()).await
            {
                match m {
                    Message::Text(t) => {
                        let v: Value = serde_json::from_str(&t).expect("json");
                        if v["op"] == "ready" {
                            first = Some(0u16);
                            break;
                        }
                    }
                    Message::Close(f) => {
                        first = f.map(|f| u16::from(f.code));
                        break;
                    }
                    _ => {}
                }
            }
            (ws, first)
        }
    };
    let (mut ws_a, ra) = open(0).await;
    let (mut ws_b, rb) = open(1).await;
    assert_eq!((ra, rb), (Some(0), Some(0)), "two sockets fit");
    let (_, third) = open(0).await;
    assert_eq!(
        third,
        Some(4010),
        "the third socket, on either instance, is refused"
    );

    // Gateway requests per user: burst 8 and 4/s over both sockets together. Sixteen typing
    // frames split over the two instances: per instance they would all pass (8 each), shared
    // they cannot.
    let room = group(&a, &tokens[1].0, "limits", &[]).await;
    for i in 0..8 {
        for ws in [&mut ws_a, &mut ws_b] {
            ws.send(Message::Text(
                json!({"op":"typing","id": format!("t{i}"),"d":{"room_id": room, "active": true}})
                    .to_string()
                    .into(),
            ))
            .await
            .expect("send");
        }
    }
    let mut limited = 0;
    for ws in [&mut ws_a, &mut ws_b] {
        while let Ok(Some(Ok(m))) =
            tokio::time::timeout(Duration::from_millis(700), ws.next()).await
        {
            if let Message::Text(t) = m {
                let v: Value = serde_json::from_str(&t).expect("json");
                if v["op"] == "error" && v["d"]["code"] == "rate_limited" {
                    assert!(v["d"]["retry_after_ms"].as_u64().is_some_and(|ms| ms > 0));
                    limited += 1;
                }
            }
        }
    }
    assert!(
        limited >= 6,
        "cluster-wide gateway limit refused {limited} of 16"
    );
}

/// A mute made on one instance stops sends on the other within the send path's cache lifetime
/// (2 s: B has no socket in the room, so it does not hear the room's events; one that does
/// drops its entry at once), and a room's slow mode is one pace over the cluster (Redis).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn moderation_holds_across_instances() {
    let _g = SERIAL.lock().await;
    let Some(c) = Cluster::start_with(2, &[]).await else {
        return;
    };
    let (a, b) = (c.base(0), c.base(1));
    let tag = &c.prefix[c.prefix.len() - 6..];
    let (alice, _) = register(&a, &format!("modalice{tag}")).await;
    let (bob, bob_id) = register(&b, &format!("modbob{tag}")).await;
    let room = group(&a, &alice, "moderated", &[&bob_id]).await;
    let say = |base: String, id: String| {
        let (bob, room) = (bob.clone(), room.clone());
        async move {
            call(
                &base,
                Method::POST,
                &format!("/api/v1/rooms/{room}/messages"),
                Some(&bob),
                Some(json!({"client_id": id, "body": "hello"})),
            )
            .await
        }
    };
    // Bob's first send on B leaves his access in B's cache.
    let (s, body) = say(b.clone(), "m-1".into()).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let (s, body) = call(
        &a,
        Method::PUT,
        &format!("/api/v1/rooms/{room}/members/{bob_id}/mute"),
        Some(&alice),
        Some(json!({"minutes": 10})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let deadline = tokio::time::Instant::now() + Duration::from_millis(2500);
    let mut i = 0;
    loop {
        i += 1;
        let (s, body) = say(b.clone(), format!("m-muted-{i}")).await;
        if s == StatusCode::FORBIDDEN {
            assert_eq!(body["error"]["code"], "muted", "{body}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "B still let a muted member post: {s} {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (s, body) = call(
        &a,
        Method::DELETE,
        &format!("/api/v1/rooms/{room}/members/{bob_id}/mute"),
        Some(&alice),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    let (s, body) = call(
        &a,
        Method::PATCH,
        &format!("/api/v1/rooms/{room}"),
        Some(&alice),
        Some(json!({"slow_mode_seconds": 60})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = say(a.clone(), "s-1".into()).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let (s, body) = say(b.clone(), "s-2".into()).await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("slow_mode")),
        "one pace over both instances: {body}"
    );
}

/// deploy/nginx.conf, rendered with this machine's addresses, in front of two instances.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nginx_in_front_of_two_instances_carries_a_websocket_session() {
    let _g = SERIAL.lock().await;
    let nginx = Command::new("nginx").arg("-v").output().is_ok();
    if !require("nginx (Debian package nginx-light)", nginx) {
        return;
    }
    let Some(c) = Cluster::start(2).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let addr = |i: usize| c.base(i).trim_start_matches("http://").to_owned();
    let site = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/nginx.conf"
    ))
    .expect("deploy/nginx.conf")
    .replace("justus-1:8080", &addr(0))
    .replace("justus-2:8080", &addr(1))
    .replace("listen 80;", &format!("listen 127.0.0.1:{port};"));
    let d = dir.path().display();
    std::fs::write(dir.path().join("site.conf"), site).expect("write site");
    std::fs::write(
        dir.path().join("nginx.conf"),
        format!(
            "daemon off; master_process off; pid {d}/nginx.pid; error_log {d}/error.log warn;\n\
             events {{}}\n\
             http {{ access_log off; client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
             include {d}/site.conf; }}\n"
        ),
    )
    .expect("write conf");
    let mut child = Command::new("nginx")
        .args(["-p", &d.to_string(), "-c", &format!("{d}/nginx.conf")])
        .spawn()
        .expect("nginx starts");
    let front = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nginx did not listen: {:?}",
            std::fs::read_to_string(dir.path().join("error.log"))
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let tag = &c.prefix[c.prefix.len() - 6..];
    let (t1, _) = register(&front, &format!("ngx1x{tag}")).await;
    let (t2, id2) = register(&front, &format!("ngx2x{tag}")).await;
    let room = group(&front, &t1, "through nginx", &[&id2]).await;
    let live: Live = Arc::new(parking_lot::RwLock::new(vec![Some((
        front.clone(),
        format!("ws://127.0.0.1:{port}/api/v1/ws"),
    ))]));
    let mut a = Client::new("a", t1, String::new(), 0);
    let mut b = Client::new("b", t2, String::new(), 0);
    a.ensure_connected(&live).await;
    b.ensure_connected(&live).await;
    let cid = a.queue(&room, "hello through nginx").await;
    assert!(
        a.drain(&live, Instant::now() + Duration::from_secs(10))
            .await
    );
    let seq = a.acked[&cid].1;
    let ev = b
        .wait_for(&live, Duration::from_secs(5), |v| {
            v["op"] == "event" && v["d"]["seq"] == seq
        })
        .await
        .expect("event through nginx");
    assert_eq!(ev["d"]["message"]["body"], "hello through nginx");
    let _ = child.kill();
    let _ = child.wait();
}

/// `docker compose config` validates deploy/compose.yaml where the Docker client has the compose
/// plugin (this machine has no Docker engine; the check needs only the client).
#[test]
fn compose_file_validates_where_docker_compose_exists() {
    let has_compose = Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_compose {
        eprintln!(
            "SKIPPED: `docker compose` is not available here; deploy/compose.yaml not validated"
        );
        return;
    }
    let compose = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/compose.yaml");
    let config = |env: &[(String, String)]| {
        let mut cmd = Command::new("docker");
        cmd.args(["compose", "-f", compose, "config", "-q"]);
        for var in [
            "JWT_SECRET",
            "POSTGRES_PASSWORD",
            "S3_ACCESS_KEY_ID",
            "S3_SECRET_ACCESS_KEY",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        cmd.output().expect("docker compose runs")
    };
    // No secret has a default (a default would be public): without them, compose refuses.
    let bare = config(&[]);
    assert!(!bare.status.success(), "compose must require its secrets");
    // With the values deploy/gen-env.sh writes, it validates.
    let gen_env = Command::new("sh")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/gen-env.sh"
        ))
        .output()
        .expect("gen-env.sh runs");
    let env: Vec<(String, String)> = String::from_utf8_lossy(&gen_env.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(env.len(), 4, "gen-env.sh writes every secret");
    let out = config(&env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
