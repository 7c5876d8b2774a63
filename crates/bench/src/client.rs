//! Speaking JustUs: REST provisioning calls and gateway sockets (auth → ready).

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

pub type Ws = WebSocketStream<TcpStream>;

/// Ephemeral ports per source address are ~28k; beyond that, spread over 127.0.0.x.
pub const SOCKETS_PER_SOURCE_ADDR: usize = 25_000;

#[derive(Clone, Debug)]
pub struct Account {
    pub token: String,
    pub user_id: String,
}

#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    addr: SocketAddr,
}

impl Api {
    pub async fn new(base: &str) -> anyhow::Result<Self> {
        let base = base.trim_end_matches('/').to_owned();
        let url = reqwest::Url::parse(&base).with_context(|| format!("bad --url {base}"))?;
        let host = url.host_str().context("--url needs a host")?;
        let port = url.port_or_known_default().unwrap_or(80);
        let addr = tokio::net::lookup_host((host, port))
            .await?
            .next()
            .with_context(|| format!("cannot resolve {host}"))?;
        justus_server::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Self { base, http, addr })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let text = res.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    pub async fn get(&self, path: &str, token: &str) -> anyhow::Result<(u16, Value)> {
        self.call(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    async fn post_ok(&self, path: &str, token: Option<&str>, body: Value) -> anyhow::Result<Value> {
        let (status, v) = self
            .call(reqwest::Method::POST, path, token, Some(body))
            .await?;
        if !(200..300).contains(&status) {
            bail!("POST {path}: HTTP {status}: {v}");
        }
        Ok(v)
    }

    pub async fn register(&self, username: &str) -> anyhow::Result<Account> {
        let v = self
            .post_ok(
                "/api/v1/auth/register",
                None,
                json!({"username": username, "password": format!("bench-{username}-Zq7!long")}),
            )
            .await
            .context("register (is REGISTER_PER_IP_PER_HOUR raised on the server?)")?;
        Ok(Account {
            token: str_field(&v, "access_token")?,
            user_id: v["user"]["id"]
                .as_str()
                .context("register: no user.id")?
                .to_owned(),
        })
    }

    pub async fn create_room(&self, token: &str, name: &str) -> anyhow::Result<String> {
        let v = self
            .post_ok("/api/v1/rooms", Some(token), json!({"name": name}))
            .await?;
        str_field(&v, "id")
    }

    pub async fn add_member(&self, token: &str, room: &str, user: &str) -> anyhow::Result<()> {
        self.post_ok(
            &format!("/api/v1/rooms/{room}/members"),
            Some(token),
            json!({"user_id": user}),
        )
        .await?;
        Ok(())
    }

    /// Opens a gateway socket from `source` (None: the kernel's choice), authenticates and
    /// returns it with the `ready` payload.
    pub async fn connect(
        &self,
        token: &str,
        source: Option<IpAddr>,
    ) -> anyhow::Result<(Ws, Value)> {
        let sock = TcpSocket::new_v4()?;
        if let Some(ip) = source {
            sock.bind(SocketAddr::new(ip, 0))?;
        }
        let stream = sock.connect(self.addr).await?;
        stream.set_nodelay(true)?;
        let url = format!("ws://{}/api/v1/ws", self.addr);
        let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await?;
        ws.send(Message::text(
            json!({"op": "auth", "d": {"token": token}}).to_string(),
        ))
        .await?;
        loop {
            match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => {
                    let mut v: Value = serde_json::from_str(t.as_str())?;
                    if v["op"] == "ready" {
                        return Ok((ws, v["d"].take()));
                    }
                }
                Ok(Some(Ok(Message::Close(c)))) => bail!("closed before ready: {c:?}"),
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(e))) => return Err(e.into()),
                Ok(None) => bail!("closed before ready"),
                Err(_) => bail!("no ready within 30 s"),
            }
        }
    }
}

fn str_field(v: &Value, k: &str) -> anyhow::Result<String> {
    Ok(v[k]
        .as_str()
        .with_context(|| format!("response has no `{k}`: {v}"))?
        .to_owned())
}

/// The source address for socket number `i` out of `total`.
pub fn source_for(i: usize, total: usize) -> Option<IpAddr> {
    if total <= 28_000 {
        return None;
    }
    let n = (i / SOCKETS_PER_SOURCE_ADDR) as u8;
    Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1u8.saturating_add(n))))
}

/// A `send` frame whose body carries what receivers need to measure: step, sender, seq and
/// the monotonic send time, `B|step|sender|seq|t_ns`.
pub fn send_frame(id: u64, room: &str, step: u32, sender: u32, seq: u64, t_ns: u64) -> String {
    format!(
        r#"{{"op":"send","id":"{id}","d":{{"room_id":"{room}","client_id":"b{step}-{sender}-{seq}","body":"B|{step}|{sender}|{seq}|{t_ns}"}}}}"#
    )
}

/// Parsed `B|…` payload of an event frame, found without a full JSON parse (receivers must be
/// cheap: the bench's one core parses hundreds of thousands of frames per second).
#[derive(Debug, PartialEq, Eq)]
pub struct Payload {
    pub step: u32,
    pub sender: u32,
    pub seq: u64,
    pub t_ns: u64,
}

pub fn parse_payload(frame: &str) -> Option<Payload> {
    if !frame.starts_with(r#"{"op":"event""#) {
        return None;
    }
    let at = frame.find("\"B|")? + 3;
    let rest = &frame[at..];
    let end = rest.find('"')?;
    let mut parts = rest[..end].split('|');
    Some(Payload {
        step: parts.next()?.parse().ok()?,
        sender: parts.next()?.parse().ok()?,
        seq: parts.next()?.parse().ok()?,
        t_ns: parts.next()?.parse().ok()?,
    })
}

/// The `seq` of an event frame (cheap scan, for resume bookkeeping).
pub fn event_room_seq(frame: &str) -> Option<(String, i64)> {
    let v: Value = serde_json::from_str(frame).ok()?;
    if v["op"] != "event" {
        return None;
    }
    Some((
        v["d"]["room_id"].as_str()?.to_owned(),
        v["d"]["seq"].as_i64()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_roundtrip() {
        let f = send_frame(1, "r", 2, 3, 4, 5);
        assert!(f.contains("B|2|3|4|5"));
        let ev =
            r#"{"op":"event","d":{"room_id":"r","seq":9,"message":{"body":"B|2|3|4|5","x":1}}}"#;
        assert_eq!(
            parse_payload(ev),
            Some(Payload {
                step: 2,
                sender: 3,
                seq: 4,
                t_ns: 5
            })
        );
        assert_eq!(parse_payload(r#"{"op":"ack","id":"1"}"#), None);
    }

    #[test]
    fn sources_spread_only_when_needed() {
        assert_eq!(source_for(5, 1000), None);
        assert_eq!(
            source_for(30_000, 40_000),
            Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        );
    }
}
