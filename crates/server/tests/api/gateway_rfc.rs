//! RFC 6455 conformance of the gateway, with frames written byte by byte over TCP (a real
//! client library would refuse to send most of them): the closing handshake (§5.5.1), invalid
//! UTF-8 (§8.1, close 1007), reserved bits (§5.2, close 1002); and the gateway's own rule that
//! a payload is an object, never an array filled in by position.

use crate::helpers::*;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TEXT: u8 = 0x1;
const CLOSE: u8 = 0x8;
const FIN: u8 = 0x80;
const RSV1: u8 = 0x40;

struct RawWs {
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl RawWs {
    async fn open(app: &TestApp) -> RawWs {
        let mut tcp = TcpStream::connect(app._server.addr).await.unwrap();
        tcp.write_all(
            b"GET /api/v1/ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await
        .unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        let end = loop {
            let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut chunk))
                .await
                .expect("handshake answered")
                .unwrap();
            assert!(n > 0, "closed during the handshake");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        RawWs {
            tcp,
            buf: buf[end..].to_vec(),
        }
    }

    /// Writes one masked frame (clients must mask) with the given first byte.
    async fn frame(&mut self, first: u8, payload: &[u8]) {
        let mask = [0x12u8, 0x34, 0x56, 0x78];
        let mut out = vec![first];
        match u16::try_from(payload.len()) {
            Ok(n) if n < 126 => out.push(0x80 | n as u8),
            Ok(n) => {
                out.push(0x80 | 126);
                out.extend_from_slice(&n.to_be_bytes());
            }
            Err(_) => panic!("frames up to 64 KiB only"),
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.tcp.write_all(&out).await.unwrap();
    }

    async fn text(&mut self, v: &Value) {
        self.frame(FIN | TEXT, v.to_string().as_bytes()).await;
    }

    /// The next frame from the server: (opcode, payload); `None` once the TCP stream ends.
    async fn read(&mut self) -> Option<(u8, Vec<u8>)> {
        loop {
            if self.buf.len() >= 2 {
                let len = (self.buf[1] & 0x7f) as usize;
                let (hdr, len) = match len {
                    126 if self.buf.len() >= 4 => {
                        (4, u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize)
                    }
                    126 | 127 => (usize::MAX, 0), // need more bytes (127: never sent to us)
                    n => (2, n),
                };
                if hdr != usize::MAX && self.buf.len() >= hdr + len {
                    let op = self.buf[0] & 0x0f;
                    let payload = self.buf[hdr..hdr + len].to_vec();
                    self.buf.drain(..hdr + len);
                    return Some((op, payload));
                }
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(Duration::from_secs(10), self.tcp.read(&mut chunk))
                .await
                .expect("the server answers or closes within 10 s")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Skips data frames until a Close; returns its code (`None`: the stream ended without one).
    async fn close_code(&mut self) -> Option<u16> {
        while let Some((op, payload)) = self.read().await {
            if op == CLOSE {
                return Some(if payload.len() >= 2 {
                    u16::from_be_bytes([payload[0], payload[1]])
                } else {
                    1005
                });
            }
        }
        None
    }

    async fn json(&mut self) -> Value {
        loop {
            let (op, payload) = self.read().await.expect("a frame");
            assert_ne!(op, CLOSE, "closed: {payload:?}");
            if op == TEXT {
                return serde_json::from_slice(&payload).expect("json");
            }
        }
    }

    async fn authenticated(app: &TestApp, token: &str) -> RawWs {
        let mut ws = RawWs::open(app).await;
        ws.text(&json!({"op": "auth", "id": "a", "d": {"token": token}}))
            .await;
        loop {
            if ws.json().await["op"] == "ready" {
                return ws;
            }
        }
    }

    /// After a Close, the server ends the TCP connection too.
    async fn ends(&mut self) -> bool {
        let mut chunk = [0u8; 256];
        matches!(
            tokio::time::timeout(Duration::from_secs(10), self.tcp.read(&mut chunk)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }
}

fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    p
}

/// §5.5.1: an endpoint that receives a Close MUST answer with a Close; the server then closes
/// the TCP connection. Both on an authenticated socket and during `auth`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_frame_is_answered_with_a_close() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (token, _) = app.user("rfc").await;
    let mut ws = RawWs::authenticated(&app, &token).await;
    ws.frame(FIN | CLOSE, &close_payload(1000, "bye")).await;
    assert_eq!(ws.close_code().await, Some(1000), "the Close is echoed");
    assert!(ws.ends().await, "then the server closes the connection");

    let mut early = RawWs::open(&app).await;
    early.frame(FIN | CLOSE, &close_payload(1001, "")).await;
    assert!(
        early.close_code().await.is_some(),
        "a Close during auth is answered too"
    );
}

/// §8.1: a text message that is not UTF-8 fails the connection with 1007.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_text_closes_with_1007() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (token, _) = app.user("utf").await;
    let mut ws = RawWs::authenticated(&app, &token).await;
    ws.frame(FIN | TEXT, b"{\"op\":\"ping\",\"id\":\"\xff\xfe\"}")
        .await;
    assert_eq!(ws.close_code().await, Some(1007));
    assert!(ws.ends().await);
}

/// The same before `auth`: the first frame already gets the right close code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_errors_before_auth_close_with_their_codes() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut ws = RawWs::open(&app).await;
    ws.frame(FIN | TEXT, b"{\"op\":\"auth\",\"id\":\"\xff\"}")
        .await;
    assert_eq!(ws.close_code().await, Some(1007));
    let mut ws = RawWs::open(&app).await;
    ws.frame(FIN | RSV1 | TEXT, br#"{"op":"auth","id":"1"}"#)
        .await;
    assert_eq!(ws.close_code().await, Some(1002));
}

/// §5.2: reserved bits set without a negotiated extension fail the connection with 1002.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_bits_close_with_1002() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (token, _) = app.user("rsv").await;
    let mut ws = RawWs::authenticated(&app, &token).await;
    ws.frame(FIN | RSV1 | TEXT, br#"{"op":"ping","id":"1"}"#)
        .await;
    assert_eq!(ws.close_code().await, Some(1002));
    assert!(ws.ends().await);
}

/// A request whose `d` is an array is refused (`invalid_frame`), not read by position; the
/// same request as an object works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_arrays_are_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (token, _) = app.user("arr").await;
    let room = app.group(&token, "arrays").await;
    let mut ws = RawWs::authenticated(&app, &token).await;
    ws.text(&json!({"op": "send", "id": "1", "d": [room, "c-arr", "by position", null, []]}))
        .await;
    let reply = ws.json().await;
    assert_eq!(reply["op"], "error", "{reply}");
    assert_eq!(reply["d"]["code"], "invalid_frame", "{reply}");
    ws.text(&json!({"op": "send", "id": "2", "d": {"room_id": room, "client_id": "c-obj", "body": "by name"}}))
        .await;
    let ack = loop {
        let f = ws.json().await;
        if f["id"] == "2" {
            break f;
        }
    };
    assert_eq!(ack["op"], "ack", "{ack}");
    let page = app
        .get(&format!("/api/v1/rooms/{room}/messages"), Some(&token))
        .await;
    let bodies: Vec<&str> = page.body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert_eq!(bodies, vec!["by name"], "{}", page.text);
}
