//! One task per socket: authenticate, send `ready`, then loop over outgoing frames, incoming
//! frames, the one request being processed, heartbeats, token expiry and hub signals.
//!
//! Requests of one socket are processed one at a time, in order (a client's sends commit in
//! the order it sent them), while outgoing frames keep flowing: the in-flight request is a
//! future polled by the same `select!`, and later requests wait in a small queue.

use super::frames::{
    self, AuthReq, ClientFrame, EditReq, MessageRef, PresenceReq, ReactReq, ReadReq, SendReq,
    TypingReq,
};
use super::hub::{CLOSE_RESTARTING, CLOSE_SESSION_ENDED, PRESENCE_GRACE};
use crate::api::wire::PublicUser;
use crate::auth::jwt::TokenError;
use crate::chat;
use crate::chat::messages::SendInput;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use justus_core::bus::{BusMessage, Ephemeral};
use justus_core::{MessageId, RoomId, SessionId, UserId};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

const AUTH_DEADLINE: Duration = Duration::from_secs(10);
const HEARTBEAT: Duration = Duration::from_secs(30);
const IDLE_TIMEOUT: Duration = Duration::from_secs(75);
/// Requests waiting behind the one in flight.
const MAX_QUEUED: usize = 32;
/// Refused or malformed frames in a row before the socket is closed for abuse.
const ABUSE_LIMIT: u32 = 50;

pub const CLOSE_AUTH_TIMEOUT: u16 = 4001;
pub const CLOSE_AUTH_FAILED: u16 = 4002;
pub const CLOSE_TOKEN_EXPIRED: u16 = 4004;
pub const CLOSE_POLICY: u16 = 4008;
pub const CLOSE_TOO_MANY: u16 = 4010;

type Reply = Result<Value, ApiError>;
type InFlight = Pin<Box<dyn Future<Output = (String, Reply)> + Send>>;

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    metrics::counter!("gateway_closes_total", "code" => code.to_string()).increment(1);
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        })))
        .await;
}

/// Who the socket is, once authenticated.
#[derive(Clone, Copy)]
struct Identity {
    user: UserId,
    session: SessionId,
    expires_at: i64,
}

fn verify(app: &AppState, d: Value) -> Result<Identity, (u16, &'static str)> {
    let req: AuthReq =
        serde_json::from_value(d).map_err(|_| (CLOSE_AUTH_FAILED, "auth needs {\"token\": …}"))?;
    let t = app.keys.verify(&req.token).map_err(|e| match e {
        TokenError::Expired => (CLOSE_TOKEN_EXPIRED, "token expired"),
        TokenError::Invalid => (CLOSE_AUTH_FAILED, "invalid token"),
    })?;
    if app.revocations.is_revoked(t.session_id) {
        return Err((CLOSE_SESSION_ENDED, "session ended"));
    }
    Ok(Identity {
        user: t.user_id,
        session: t.session_id,
        expires_at: t.expires_at,
    })
}

fn expiry_instant(expires_at: i64) -> Instant {
    let secs = (expires_at - chrono::Utc::now().timestamp()).max(0) as u64;
    Instant::now() + Duration::from_secs(secs)
}

pub async fn run(app: AppState, mut socket: WebSocket) {
    metrics::counter!("gateway_connects_total").increment(1);
    // 1. The first frame must be `auth`, in time.
    let first = match tokio::time::timeout(AUTH_DEADLINE, socket.recv()).await {
        Ok(Some(Ok(Message::Text(t)))) => t,
        Ok(Some(Ok(_))) => {
            return close(&mut socket, CLOSE_AUTH_FAILED, "first frame must be auth").await;
        }
        Ok(_) => return,
        Err(_) => return close(&mut socket, CLOSE_AUTH_TIMEOUT, "no auth within 10 s").await,
    };
    let frame = match serde_json::from_str::<ClientFrame>(first.as_str()) {
        Ok(f) if f.op == "auth" => f,
        _ => return close(&mut socket, CLOSE_AUTH_FAILED, "first frame must be auth").await,
    };
    let mut who = match verify(&app, frame.d) {
        Ok(w) => w,
        Err((code, reason)) => return close(&mut socket, code, reason).await,
    };
    tracing::Span::current().record("user_id", tracing::field::display(who.user));

    // 2. Register with the hub, enforce the per-user cap, subscribe, send `ready`.
    let (tx, mut rx) = mpsc::channel::<Utf8Bytes>(super::QUEUE_FRAMES);
    let (conn_id, shared, count) = app.hub.register(who.user, who.session, tx);
    let slot = app.hub.slot(conn_id);
    if !app.limits.socket_open(who.user, &slot, count).await {
        app.hub.unregister(conn_id);
        return close(&mut socket, CLOSE_TOO_MANY, "too many open sockets").await;
    }
    let ready = match build_ready(&app, conn_id, who).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = ?e.code, "ready failed");
            app.hub.unregister(conn_id);
            app.limits.socket_closed(who.user, &slot).await;
            return close(&mut socket, 1011, "try again").await;
        }
    };
    if count == 1 {
        app.hub.set_presence(who.user, Some("online"));
        publish_presence(&app, who.user, "online").await;
    }
    if socket.send(Message::Text(ready)).await.is_ok() {
        serve(&app, &mut socket, &mut rx, &shared, &mut who).await;
    }

    // 3. Clean up; presence goes offline only after a grace period without sockets.
    app.limits.socket_closed(who.user, &slot).await;
    if app.hub.unregister(conn_id) {
        let app = app.clone();
        let user = who.user;
        tokio::spawn(async move {
            tokio::time::sleep(PRESENCE_GRACE).await;
            if !app.hub.is_online(user) {
                app.hub.set_presence(user, None);
                publish_presence(&app, user, "offline").await;
            }
        });
    }
}

async fn build_ready(app: &AppState, conn_id: u64, who: Identity) -> Result<Utf8Bytes, ApiError> {
    let user = app.store.user_by_id(who.user).await?;
    let summaries = app.store.rooms_for_user(who.user).await?;
    app.hub.subscribe(
        conn_id,
        &summaries
            .iter()
            .map(|s| (s.room.id, s.room.last_seq))
            .collect::<Vec<_>>(),
    );
    let room_ids: Vec<RoomId> = summaries.iter().map(|s| s.room.id).collect();
    let rooms: Vec<Value> = summaries
        .iter()
        .map(|s| {
            // A commit published after the snapshot was read must still be caught up.
            let last_seq = app.hub.last_published(s.room.id).map_or(s.room.last_seq, |p| p.max(s.room.last_seq));
            json!({
                "id": s.room.id, "kind": s.room.kind, "name": s.room.name, "last_seq": last_seq,
                "read_seq": s.read_seq, "unread": s.unread, "mentions": s.mentions, "my_role": s.my_role,
                "dm_peer": s.dm_peer, "avatar": s.room.avatar,
            })
        })
        .collect();
    let presence: Vec<Value> = app
        .hub
        .online_peers(&room_ids, who.user)
        .into_iter()
        .map(|(u, s)| json!({"user_id": u, "status": s}))
        .collect();
    Ok(frames::frame(
        "ready",
        None,
        &json!({
            "user": PublicUser::from(&user),
            "session_id": who.session,
            "heartbeat_interval_ms": HEARTBEAT.as_millis() as u64,
            "rooms": rooms,
            "presence": presence,
        }),
    ))
}

async fn publish_presence(app: &AppState, user: UserId, status: &str) {
    let rooms = match app.store.rooms_for_user(user).await {
        Ok(r) => r.into_iter().map(|s| s.room.id).collect(),
        Err(_) => return,
    };
    app.bus.publish(BusMessage::Ephemeral(Ephemeral::Presence {
        user_id: user,
        status: status.to_owned(),
        rooms,
        origin: app.instance,
    }));
}

async fn serve(
    app: &AppState,
    socket: &mut WebSocket,
    rx: &mut mpsc::Receiver<Utf8Bytes>,
    shared: &super::hub::ConnShared,
    who: &mut Identity,
) {
    let mut queue: VecDeque<(String, String, Value)> = VecDeque::new();
    let mut in_flight: Option<InFlight> = None;
    let mut last_seen = Instant::now();
    let mut heartbeat = tokio::time::interval_at(Instant::now() + HEARTBEAT, HEARTBEAT);
    let mut expiry = expiry_instant(who.expires_at);
    let mut strikes: u32 = 0;

    loop {
        if in_flight.is_none()
            && let Some((id, op, d)) = queue.pop_front()
        {
            in_flight = Some(dispatch(app.clone(), who.user, id, op, d));
        }
        tokio::select! {
            biased;
            () = shared.notify.notified() => {
                let code = shared.close_code.load(Ordering::Acquire);
                let reason = match code {
                    CLOSE_SESSION_ENDED => "session ended",
                    CLOSE_RESTARTING => "server restarting: reconnect and resume",
                    _ => "lagging: reconnect and resume",
                };
                // A restart answers the request being processed first (its commit may be done).
                if code == CLOSE_RESTARTING && let Some(pending) = in_flight.take() {
                    let (id, reply) = pending.await;
                    let _ = socket.send(Message::Text(reply_frame(&id, reply))).await;
                }
                return close(socket, code, reason).await;
            }
            Some(frame) = rx.recv() => {
                if socket.send(Message::Text(frame)).await.is_err() {
                    return;
                }
            }
            (id, reply) = async { in_flight.as_mut().expect("guarded").await }, if in_flight.is_some() => {
                in_flight = None;
                if socket.send(Message::Text(reply_frame(&id, reply))).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => {
                let msg = match incoming {
                    Some(Ok(m)) => m,
                    Some(Err(e)) => {
                        // Oversized frames surface here as a capacity error.
                        if e.to_string().to_lowercase().contains("too long") || e.to_string().to_lowercase().contains("capacity") {
                            metrics::counter!("gateway_frames_refused_total", "reason" => "too_big").increment(1);
                            return close(socket, 1009, "frame too big").await;
                        }
                        return;
                    }
                    None => return,
                };
                last_seen = Instant::now();
                metrics::counter!("gateway_frames_in_total").increment(1);
                let text = match msg {
                    Message::Text(t) => t,
                    Message::Close(_) => return,
                    Message::Ping(_) | Message::Pong(_) => continue,
                    Message::Binary(_) => {
                        strikes += 1;
                        if socket.send(Message::Text(frames::error(None, "unsupported_frame", "only JSON text frames are accepted"))).await.is_err() {
                            return;
                        }
                        if strikes >= ABUSE_LIMIT { return close(socket, CLOSE_POLICY, "too many bad frames").await; }
                        continue;
                    }
                };
                match handle_frame(app, who, &text, &mut queue).await {
                    Ok(Some(reply)) => {
                        strikes = 0;
                        if let Some(exp) = reply.1 { expiry = expiry_instant(exp); }
                        if socket.send(Message::Text(reply.0)).await.is_err() { return; }
                    }
                    Ok(None) => strikes = 0,
                    Err(FrameError::Reply(out)) => {
                        strikes += 1;
                        if socket.send(Message::Text(out)).await.is_err() { return; }
                        if strikes >= ABUSE_LIMIT { return close(socket, CLOSE_POLICY, "too many bad frames").await; }
                    }
                    Err(FrameError::Close(code, reason)) => return close(socket, code, reason).await,
                }
            }
            _ = heartbeat.tick() => {
                if last_seen.elapsed() >= IDLE_TIMEOUT {
                    return close(socket, 1001, "idle").await;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
            () = sleep_until(expiry) => {
                return close(socket, CLOSE_TOKEN_EXPIRED, "token expired").await;
            }
        }
    }
}

fn reply_frame(id: &str, reply: Reply) -> Utf8Bytes {
    match reply {
        Ok(d) => frames::frame("ack", Some(id), &d),
        Err(e) => frames::frame(
            "error",
            Some(id),
            &frames::ErrorD {
                code: e.code,
                message: &e.message,
                retry_after_ms: e.retry_after.map(|s| s * 1000),
            },
        ),
    }
}

enum FrameError {
    /// Answer with this error frame and count a strike.
    Reply(Utf8Bytes),
    Close(u16, &'static str),
}

/// Parses one text frame. Immediate answers (re-auth, ping, refusals) come back as `Ok(Some)`
/// with a new token expiry for re-auth; requests that need work are queued.
#[allow(clippy::type_complexity)]
async fn handle_frame(
    app: &AppState,
    who: &mut Identity,
    text: &str,
    queue: &mut VecDeque<(String, String, Value)>,
) -> Result<Option<(Utf8Bytes, Option<i64>)>, FrameError> {
    let frame: ClientFrame = match serde_json::from_str::<Value>(text) {
        Err(_) => {
            return Err(FrameError::Reply(frames::error(
                None,
                "invalid_json",
                "frame is not valid JSON",
            )));
        }
        Ok(v) => serde_json::from_value(v).map_err(|_| {
            FrameError::Reply(frames::error(
                None,
                "invalid_frame",
                "a frame is an object with a string `op` and `id`",
            ))
        })?,
    };
    let Some(id) = frame.id.filter(|i| !i.is_empty() && i.len() <= 64) else {
        return Err(FrameError::Reply(frames::error(
            None,
            "invalid_frame",
            "requests need an `id` of 1–64 characters",
        )));
    };
    match frame.op.as_str() {
        "ping" => Ok(Some((frames::frame("ack", Some(&id), &json!({})), None))),
        "auth" => match verify(app, frame.d) {
            Ok(new) if new.user == who.user => {
                *who = Identity {
                    session: who.session,
                    ..new
                };
                Ok(Some((
                    frames::frame("ack", Some(&id), &json!({"expires_at": new.expires_at})),
                    Some(new.expires_at),
                )))
            }
            Ok(_) => Err(FrameError::Close(
                CLOSE_AUTH_FAILED,
                "a socket cannot change user",
            )),
            Err((code, reason)) => Err(FrameError::Close(code, reason)),
        },
        "send" | "edit" | "delete" | "react" | "read" | "typing" | "presence" => {
            if let Err(wait) = app.limits.gateway(who.user).await {
                metrics::counter!("gateway_rate_limited_total").increment(1);
                let d = frames::ErrorD {
                    code: "rate_limited",
                    message: "slow down",
                    retry_after_ms: Some(wait.as_millis() as u64 + 1),
                };
                return Err(FrameError::Reply(frames::frame("error", Some(&id), &d)));
            }
            if queue.len() >= MAX_QUEUED {
                return Err(FrameError::Reply(frames::error(
                    Some(&id),
                    "rate_limited",
                    "too many requests in flight",
                )));
            }
            queue.push_back((id, frame.op, frame.d));
            Ok(None)
        }
        _ => Err(FrameError::Reply(frames::error(
            Some(&id),
            "unknown_op",
            "unknown op",
        ))),
    }
}

fn bad(e: serde_json::Error) -> ApiError {
    ApiError::unprocessable("invalid_frame", format!("invalid payload: {e}"))
}

/// Runs one request through the same use cases as REST.
fn dispatch(app: AppState, user: UserId, id: String, op: String, d: Value) -> InFlight {
    Box::pin(async move {
        let reply: Reply = async {
            match op.as_str() {
                "send" => {
                    let r: SendReq = serde_json::from_value(d).map_err(bad)?;
                    let input = SendInput {
                        client_id: r.client_id,
                        body: Some(r.body),
                        reply_to: r.reply_to.map(MessageId),
                        forward_from: None,
                        attachments: r
                            .attachments
                            .into_iter()
                            .map(justus_core::MediaId)
                            .collect(),
                    };
                    let (message, created) =
                        chat::messages::send(&app, user, RoomId(r.room_id), input).await?;
                    Ok(json!({"message": message, "created": created}))
                }
                "edit" => {
                    let r: EditReq = serde_json::from_value(d).map_err(bad)?;
                    let message = chat::messages::edit(
                        &app,
                        user,
                        RoomId(r.room_id),
                        MessageId(r.message_id),
                        &r.body,
                    )
                    .await?;
                    Ok(json!({"message": message}))
                }
                "delete" => {
                    let r: MessageRef = serde_json::from_value(d).map_err(bad)?;
                    chat::messages::delete(&app, user, RoomId(r.room_id), MessageId(r.message_id))
                        .await?;
                    Ok(json!({}))
                }
                "react" => {
                    let r: ReactReq = serde_json::from_value(d).map_err(bad)?;
                    chat::messages::react(
                        &app,
                        user,
                        RoomId(r.room_id),
                        MessageId(r.message_id),
                        &r.emoji,
                        r.add,
                    )
                    .await?;
                    Ok(json!({}))
                }
                "read" => {
                    let r: ReadReq = serde_json::from_value(d).map_err(bad)?;
                    let read_seq =
                        chat::messages::mark_read(&app, user, RoomId(r.room_id), r.seq).await?;
                    Ok(json!({"read_seq": read_seq}))
                }
                "typing" => {
                    let r: TypingReq = serde_json::from_value(d).map_err(bad)?;
                    let room_id = RoomId(r.room_id);
                    chat::member_access(&app, room_id, user).await?;
                    app.bus.publish(BusMessage::Ephemeral(Ephemeral::Typing {
                        room_id,
                        user_id: user,
                        active: r.active,
                    }));
                    Ok(json!({}))
                }
                "presence" => {
                    let r: PresenceReq = serde_json::from_value(d).map_err(bad)?;
                    if !matches!(r.status.as_str(), "online" | "idle") {
                        return Err(ApiError::unprocessable(
                            "invalid_status",
                            "status must be online or idle",
                        ));
                    }
                    app.hub.set_presence(user, Some(&r.status));
                    publish_presence(&app, user, &r.status).await;
                    Ok(json!({}))
                }
                _ => Err(ApiError::bad_request("unknown_op", "unknown op")),
            }
        }
        .await;
        (id, reply)
    })
}
