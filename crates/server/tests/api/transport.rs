//! Attacks on the transport (issue 14): slow-loris headers, connection floods from one
//! address, idle upgrades that never authenticate, request floods, slow requests. Each test
//! configures small limits and checks that the attacker is cut off while others are served.
//! Source addresses spread over 127.0.0.0/8 (all loopback on Linux); loopback is exempt from
//! the per-address caps by default (a local reverse proxy), so these tests lift that.

use crate::helpers::*;
use justus_server::config::NetList;
use reqwest::StatusCode;
use serde_json::json;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite;

async fn connect_from(addr: SocketAddr, src: Ipv4Addr) -> TcpStream {
    let s = TcpSocket::new_v4().expect("socket");
    s.bind(SocketAddr::from((src, 0))).expect("bind source");
    s.connect(addr).await.expect("connect")
}

/// Reads until the server closes the connection; `Some(bytes read)` if it did within `d`.
async fn closed_within(tcp: &mut (impl AsyncReadExt + Unpin), d: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + d;
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends one complete request on `tcp` and returns the response head + body read so far.
async fn request(tcp: &mut TcpStream, path: &str) -> String {
    let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n");
    if tcp.write_all(req.as_bytes()).await.is_err() {
        return String::new();
    }
    let mut buf = vec![0u8; 8192];
    match tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf)).await {
        Ok(Ok(n)) => String::from_utf8_lossy(&buf[..n]).into_owned(),
        _ => String::new(),
    }
}

/// Slow-loris: connections from many addresses send a request head one line at a time and
/// never finish it. They are closed after the header timeout (1 s here), however long they
/// keep trickling, while a normal client keeps getting answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_loris_connections_are_closed_after_the_header_timeout() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.transport.header_timeout_seconds = 1)
        .await
        .unwrap();
    let addr = app._server.addr;
    let mut slow = Vec::new();
    for i in 0..40u8 {
        let src = Ipv4Addr::new(127, 0, 0, 10 + i / 2);
        slow.push(tokio::spawn(async move {
            let tcp = connect_from(addr, src).await;
            let start = Instant::now();
            let (mut rd, mut wr) = tcp.into_split();
            let trickle = tokio::spawn(async move {
                let _ = wr
                    .write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n")
                    .await;
                for _ in 0..200 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if wr.write_all(b"X-Slow: 1\r\n").await.is_err() {
                        break;
                    }
                }
            });
            let closed = closed_within(&mut rd, Duration::from_secs(20)).await;
            trickle.abort();
            (closed, start.elapsed())
        }));
    }
    // Meanwhile, a normal client is served.
    let mut served = 0;
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        assert_eq!(app.get("/health", None).await.status, StatusCode::OK);
        served += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served > 5, "normal requests answered: {served}");
    let mut lived = Vec::new();
    for t in slow {
        let (closed, life) = t.await.unwrap();
        let got = closed.expect("a slow-loris connection must be closed by the header timeout");
        assert!(
            got.is_empty(),
            "no answer for an unfinished request head: {got:?}"
        );
        lived.push(life);
    }
    lived.sort();
    println!(
        "slow-loris lifetimes with HTTP_HEADER_TIMEOUT_SECONDS=1: min {:?}, max {:?}",
        lived[0],
        lived[lived.len() - 1]
    );
}

/// A connection that finished its request and then sits idle is closed after the idle
/// timeout; one that sends nothing at all after the header timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.transport.idle_timeout_seconds = 1;
        c.transport.header_timeout_seconds = 2;
    })
    .await
    .unwrap();
    let addr = app._server.addr;
    let mut kept = connect_from(addr, Ipv4Addr::new(127, 0, 0, 60)).await;
    let res = request(&mut kept, "/health").await;
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    let got = closed_within(&mut kept, Duration::from_secs(15))
        .await
        .expect("an idle kept-alive connection is closed");
    assert!(got.is_empty(), "{got:?}");
    let mut silent = connect_from(addr, Ipv4Addr::new(127, 0, 0, 61)).await;
    assert!(
        closed_within(&mut silent, Duration::from_secs(15))
            .await
            .is_some(),
        "a connection that never sends a byte is closed"
    );
}

/// Connections beyond MAX_CONNECTIONS_PER_IP are refused at once; other addresses are not
/// affected, and a freed slot can be used again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_per_ip_cap_are_refused() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.transport.max_connections_per_ip = 3;
        c.transport.per_ip_limits_exempt = NetList::default();
    })
    .await
    .unwrap();
    let addr = app._server.addr;
    let greedy = Ipv4Addr::new(127, 0, 0, 70);
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut tcp = connect_from(addr, greedy).await;
        let res = request(&mut tcp, "/health").await;
        assert!(res.starts_with("HTTP/1.1 200"), "{res}");
        held.push(tcp); // kept alive: still counted
    }
    let mut fourth = connect_from(addr, greedy).await;
    let res = request(&mut fourth, "/health").await;
    assert!(
        !res.contains("200 OK"),
        "the 4th connection must be refused: {res}"
    );
    if !res.is_empty() {
        assert!(res.starts_with("HTTP/1.1 429"), "{res}");
        assert!(res.contains("too_many_connections"), "{res}");
    }
    assert!(
        closed_within(&mut fourth, Duration::from_secs(5))
            .await
            .is_some(),
        "refused connections are closed"
    );
    let mut other = connect_from(addr, Ipv4Addr::new(127, 0, 0, 71)).await;
    let res = request(&mut other, "/health").await;
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut again = connect_from(addr, greedy).await;
        if request(&mut again, "/health")
            .await
            .starts_with("HTTP/1.1 200")
        {
            break;
        }
        assert!(Instant::now() < deadline, "a freed slot is usable again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn ws_from(
    app: &TestApp,
    src: Ipv4Addr,
) -> Result<tokio_tungstenite::WebSocketStream<TcpStream>, tungstenite::Error> {
    let addr = app._server.addr;
    let tcp = connect_from(addr, src).await;
    tokio_tungstenite::client_async(format!("ws://{addr}/api/v1/ws"), tcp)
        .await
        .map(|(s, _)| s)
}

fn refused_with(r: Result<impl Sized, tungstenite::Error>) -> Option<StatusCode> {
    match r {
        Err(tungstenite::Error::Http(resp)) => {
            assert!(resp.headers().contains_key("retry-after"), "{resp:?}");
            Some(resp.status())
        }
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => None,
    }
}

/// Gateway sockets that upgrade but never authenticate are capped per address and overall;
/// over the cap the upgrade is refused (429 / 503 with Retry-After). Authenticating frees the
/// slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_sockets_beyond_their_cap_are_refused() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.transport.gateway_max_unauthenticated = 3;
        c.transport.gateway_max_unauthenticated_per_ip = 2;
        c.transport.per_ip_limits_exempt = NetList::default();
    })
    .await
    .unwrap();
    let (token, _) = app.user("ulla").await;
    let a = Ipv4Addr::new(127, 0, 0, 80);
    let mut first = ws_from(&app, a).await.expect("1st from a");
    let _second = ws_from(&app, a).await.expect("2nd from a");
    assert_eq!(
        refused_with(ws_from(&app, a).await),
        Some(StatusCode::TOO_MANY_REQUESTS),
        "3rd unauthenticated socket from one address"
    );
    let _third = ws_from(&app, Ipv4Addr::new(127, 0, 0, 81))
        .await
        .expect("another address");
    assert_eq!(
        refused_with(ws_from(&app, Ipv4Addr::new(127, 0, 0, 82)).await),
        Some(StatusCode::SERVICE_UNAVAILABLE),
        "global cap"
    );
    // Authenticating moves a socket out of the cap.
    use futures::{SinkExt, StreamExt};
    first
        .send(tungstenite::Message::text(
            json!({"op": "auth", "id": "1", "d": {"token": token}}).to_string(),
        ))
        .await
        .unwrap();
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), first.next())
            .await
            .expect("ready in time")
            .expect("open")
            .expect("frame");
        if m.to_text().is_ok_and(|t| t.contains("\"ready\"")) {
            break;
        }
    }
    assert!(
        refused_with(ws_from(&app, Ipv4Addr::new(127, 0, 0, 82)).await).is_none(),
        "a slot was freed by authenticating"
    );
}

/// A request whose body never arrives: its handler waits, holding an in-flight slot.
async fn stalled_login(addr: SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: test\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"login\":",
    )
    .await
    .unwrap();
    tcp
}

/// Past HTTP_MAX_IN_FLIGHT requests are shed with 503 `overloaded` and Retry-After, at once;
/// probes still answer, and service resumes when the load goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_the_in_flight_limit_are_shed() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.transport.max_in_flight = 1)
        .await
        .unwrap();
    let stalled = stalled_login(app._server.addr).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let shed = loop {
        let r = app.get("/api/v1/users/me", None).await;
        if r.status == StatusCode::SERVICE_UNAVAILABLE {
            break r;
        }
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        assert!(
            Instant::now() < deadline,
            "a second concurrent request must be shed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(shed.code(), "overloaded", "{}", shed.text);
    assert_eq!(shed.headers["retry-after"], "1");
    assert_eq!(app.get("/health", None).await.status, StatusCode::OK);
    assert_eq!(app.get("/ready", None).await.status, StatusCode::OK);
    drop(stalled);
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get("/api/v1/users/me", None).await.status != StatusCode::UNAUTHORIZED {
        assert!(Instant::now() < deadline, "service resumes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A request that takes longer than HTTP_REQUEST_TIMEOUT_SECONDS (here: its body never comes)
/// is answered `503 timeout` in our JSON shape; an upload, which streams, is not cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_requests_time_out_but_uploads_do_not() {
    // 3 s, not 1: registering (an Argon2 hash) must fit in it on a busy machine.
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.transport.request_timeout_seconds = 3)
        .await
        .unwrap();
    let (token, _) = app.user("uwe").await;
    let mut stalled = stalled_login(app._server.addr).await;
    let got = closed_within(&mut stalled, Duration::from_secs(15))
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    assert!(got.starts_with("HTTP/1.1 503"), "{got}");
    assert!(got.contains(r#""code":"timeout""#), "{got}");

    let mut tcp = TcpStream::connect(app._server.addr).await.unwrap();
    let boundary = "xXbOuNdArYxX";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"note.txt\"\r\nContent-Type: text/plain\r\n\r\n"
    );
    let tail = format!("hello, slowly\r\n--{boundary}--\r\n");
    let req = format!(
        "POST /api/v1/media HTTP/1.1\r\nHost: test\r\nauthorization: Bearer {token}\r\ncontent-type: multipart/form-data; boundary={boundary}\r\ncontent-length: {}\r\n\r\n{head}",
        head.len() + tail.len()
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(4000)).await; // > the request timeout
    tcp.write_all(tail.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
        .await
        .expect("upload answered")
        .unwrap();
    let res = String::from_utf8_lossy(&buf[..n]);
    assert!(res.starts_with("HTTP/1.1 201"), "{res}");
}

/// By default loopback peers are exempt from the per-address caps: behind a reverse proxy on
/// the same host (without TRUSTED_PROXIES) every client arrives from 127.0.0.1, and capping
/// that address would cap the whole service. Global caps still hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_is_exempt_from_per_address_caps_by_default() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.transport.max_connections_per_ip = 2;
        c.transport.gateway_max_unauthenticated_per_ip = 1;
        c.transport.gateway_max_unauthenticated = 3;
    })
    .await
    .unwrap();
    let local = Ipv4Addr::new(127, 0, 0, 90);
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut tcp = connect_from(app._server.addr, local).await;
        let res = request(&mut tcp, "/health").await;
        assert!(res.starts_with("HTTP/1.1 200"), "{res}");
        held.push(tcp);
    }
    let mut sockets = Vec::new();
    for _ in 0..3 {
        sockets.push(
            ws_from(&app, local)
                .await
                .expect("exempt from the per-IP cap"),
        );
    }
    assert_eq!(
        refused_with(ws_from(&app, local).await),
        Some(StatusCode::SERVICE_UNAVAILABLE),
        "the global cap still applies"
    );
}
