//! One task per socket: authenticate, send `ready`, then loop over outgoing frames, incoming
//! frames, the one request being processed, heartbeats, token expiry and hub signals.
//!
//! Requests of one socket are started one at a time and answered in order (a client's sends
//! commit in the order it sent them), while outgoing frames keep flowing: the started request
//! is a future polled by the same `select!`, and later requests wait in a small queue
//! (`requests` parses, queues and runs them). A send only waits for its checks: once its write
//! is queued (on a store that commits in queue order) the next send may start, and the
//! committing ones are answered in order as they commit. That keeps a busy socket's sends in
//! one group commit instead of one commit each.

use super::frames::{self, AuthReq, ClientFrame};
use super::hub::{CLOSE_RESTARTING, CLOSE_SESSION_ENDED};
use super::outbox::Outbox;
use super::requests::{self, FrameError, InFlight, Queued, Started, Step};
use crate::auth::jwt::TokenError;
use crate::chat;
use crate::error::Error;
use crate::http::slots::SlotGuard;
use crate::state::AppState;
use crate::wire::PublicUser;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::FuturesOrdered;
use futures_util::{SinkExt, StreamExt};
use justus_core::{RoomId, SessionId, UserId};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::{Instant, sleep_until};

const AUTH_DEADLINE: Duration = Duration::from_secs(10);
const HEARTBEAT: Duration = Duration::from_secs(30);
const IDLE_TIMEOUT: Duration = Duration::from_secs(75);
/// Queued outgoing frames written before one flush.
const MAX_BATCH: usize = 64;
/// Refused or malformed frames in a row before the socket is closed for abuse.
const ABUSE_LIMIT: u32 = 50;

pub const CLOSE_AUTH_TIMEOUT: u16 = 4001;
pub const CLOSE_AUTH_FAILED: u16 = 4002;
pub const CLOSE_TOKEN_EXPIRED: u16 = 4004;
pub const CLOSE_POLICY: u16 = 4008;
pub const CLOSE_TOO_MANY: u16 = 4010;

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
pub(super) struct Identity {
    pub(super) user: UserId,
    pub(super) session: SessionId,
    pub(super) expires_at: i64,
}

/// Why an `auth` whose `d` is not `{"token"}` closes the socket.
pub(super) const AUTH_NEEDS_TOKEN: &str = "auth needs {\"token\": …}";

pub(super) async fn verify(app: &AppState, req: AuthReq) -> Result<Identity, (u16, &'static str)> {
    let t = app.keys.verify(&req.token).map_err(|e| match e {
        TokenError::Expired => (CLOSE_TOKEN_EXPIRED, "token expired"),
        TokenError::Invalid => (CLOSE_AUTH_FAILED, "invalid token"),
    })?;
    match app
        .sessions
        .check(&*app.store, t.session_id, t.user_id, app.now())
        .await
    {
        Ok(()) => {}
        Err(crate::auth::sessions::Refused::Ended) => {
            return Err((CLOSE_SESSION_ENDED, "session ended"));
        }
        Err(crate::auth::sessions::Refused::Unavailable(_)) => {
            return Err((1011, "try again"));
        }
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

/// The socket's task. Not an `async fn`: one moves its arguments into locals, so the future
/// would hold the 368-byte `WebSocket` twice (rust-lang/rust#62958); the block captures it once.
#[allow(clippy::manual_async_fn)] // deliberately not `async fn`, see above
pub fn run(
    app: AppState,
    mut socket: WebSocket,
    unauthenticated: SlotGuard,
) -> impl Future<Output = ()> + Send {
    async move {
        metrics::counter!("gateway_connects_total").increment(1);
        // Opening and closing run once and are boxed: inline, their state would enlarge the
        // future every socket keeps for its whole life (docs/performance.md, idle memory).
        let opened = Box::pin(open(&app, &mut socket)).await;
        // The socket is authenticated (or gone): it no longer counts as unauthenticated.
        drop(unauthenticated);
        let Some((mut open, ready)) = opened else {
            // A client's Close during `auth` is answered by tungstenite but only written on
            // the next flush (RFC 6455 §5.5.1).
            let _ = socket.flush().await;
            return;
        };
        if socket.send(Message::Text(ready)).await.is_ok()
            && let Some((code, reason)) =
                serve(&app, &mut socket, &open.shared, &mut open.who).await
        {
            Box::pin(close(&mut socket, code, reason)).await;
        }
        Box::pin(finish(app, open)).await;
    }
}

/// A socket that passed `auth` and is registered with the hub.
struct Open {
    who: Identity,
    conn_id: u64,
    shared: std::sync::Arc<super::hub::ConnShared>,
}

/// Authenticates (the first frame must be `auth`, in time), registers with the hub, enforces
/// the per-user cap, subscribes and builds `ready` (returned to send). `None` once the socket
/// has been closed.
async fn open(app: &AppState, socket: &mut WebSocket) -> Option<(Open, Utf8Bytes)> {
    let first = match tokio::time::timeout(AUTH_DEADLINE, socket.recv()).await {
        Ok(Some(Ok(Message::Text(t)))) => t,
        Ok(Some(Ok(_))) => {
            close(socket, CLOSE_AUTH_FAILED, "first frame must be auth").await;
            return None;
        }
        // Invalid UTF-8 or a protocol violation before `auth`: the same close codes as later.
        Ok(Some(Err(e))) => {
            if let Some((code, reason)) = protocol_close(e) {
                close(socket, code, reason).await;
            }
            return None;
        }
        Ok(None) => return None,
        Err(_) => {
            close(socket, CLOSE_AUTH_TIMEOUT, "no auth within 10 s").await;
            return None;
        }
    };
    let frame = match serde_json::from_str::<ClientFrame>(first.as_str()) {
        Ok(f) if f.op == "auth" => f,
        _ => {
            close(socket, CLOSE_AUTH_FAILED, "first frame must be auth").await;
            return None;
        }
    };
    let Ok(req) = frames::auth_payload(frame.d) else {
        close(socket, CLOSE_AUTH_FAILED, AUTH_NEEDS_TOKEN).await;
        return None;
    };
    let who = match verify(app, req).await {
        Ok(w) => w,
        Err((code, reason)) => {
            close(socket, code, reason).await;
            return None;
        }
    };
    tracing::Span::current().record("user_id", tracing::field::display(who.user));

    let (conn_id, shared, count) = app.hub.register(who.user, who.session);
    let slot = app.hub.slot(conn_id);
    if !app.limits.socket_open(who.user, &slot, count).await {
        app.hub.unregister(conn_id);
        close(socket, CLOSE_TOO_MANY, "too many open sockets").await;
        return None;
    }
    let (ready, rooms) = match build_ready(app, conn_id, who).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = ?e.code, "ready failed");
            app.hub.unregister(conn_id);
            app.limits.socket_closed(who.user, &slot).await;
            close(socket, 1011, "try again").await;
            return None;
        }
    };
    if count == 1 {
        chat::presence::came_online(app, who.user, rooms);
    }
    Some((
        Open {
            who,
            conn_id,
            shared,
        },
        ready,
    ))
}

/// Unregisters; presence goes offline only after a grace period without sockets.
async fn finish(app: AppState, open: Open) {
    let user = open.who.user;
    app.limits
        .socket_closed(user, &app.hub.slot(open.conn_id))
        .await;
    if app.hub.unregister(open.conn_id) {
        tokio::spawn(async move {
            tokio::time::sleep(crate::presence::GRACE).await;
            if !app.hub.is_online(user) {
                chat::presence::went_offline(&app, user).await;
            }
        });
    }
}

/// The `ready` frame, and the user's rooms (for the presence it may announce).
async fn build_ready(
    app: &AppState,
    conn_id: u64,
    who: Identity,
) -> Result<(Utf8Bytes, Vec<RoomId>), Error> {
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
    let frame = frames::frame(
        "ready",
        None,
        &json!({
            "user": PublicUser::from(&user),
            "session_id": who.session,
            "heartbeat_interval_ms": HEARTBEAT.as_millis() as u64,
            "rooms": rooms,
            "presence": presence,
        }),
    );
    Ok((frame, room_ids))
}

/// A socket's requests beyond the one being started.
#[derive(Default)]
struct Pending {
    /// Waiting to start, in order.
    queue: VecDeque<Queued>,
    /// Sends waiting for their commits, answered in order.
    committing: FuturesOrdered<InFlight>,
}

/// Serves an open socket until it ends; returns the close frame to send, if any.
async fn serve(
    app: &AppState,
    socket: &mut WebSocket,
    shared: &super::hub::ConnShared,
    who: &mut Identity,
) -> Option<(u16, &'static str)> {
    let mut in_flight: Option<Started> = None;
    // Requests waiting to start and sends waiting for their commits: boxed, and dropped when
    // both are empty, so an idle socket holds one pointer for them (memory per idle socket).
    let mut pending: Option<Box<Pending>> = None;
    let mut last_seen = Instant::now();
    // One timer for both the heartbeat and token expiry (an `Interval` would be a second,
    // separately allocated timer per socket).
    let mut next_ping = Instant::now() + HEARTBEAT;
    let mut expiry = expiry_instant(who.expires_at);
    // A fresh `sleep_until` per turn of the loop (a timer registration per frame delivered,
    // ~2 % of fan-out CPU) rather than one kept across turns: keeping it costs 80 B per idle
    // socket, which would break the 4 KiB goal (docs/performance.md).
    let mut strikes: u32 = 0;

    loop {
        if pending
            .as_ref()
            .is_some_and(|p| p.queue.is_empty() && p.committing.is_empty())
        {
            pending = None;
        }
        if in_flight.is_none()
            && let Some(p) = pending.as_mut()
            && p.queue
                .front()
                .is_some_and(|q| requests::may_start(app, &q.call, p.committing.len()))
            && let Some(queued) = p.queue.pop_front()
        {
            if !p.committing.is_empty() {
                metrics::counter!("gateway_sends_pipelined_total").increment(1);
            }
            in_flight = Some(requests::dispatch(app.clone(), who.user, queued));
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
                // A restart answers the requests being processed first (their commits may be
                // done), in order.
                if code == CLOSE_RESTARTING {
                    let committing = pending.take().map(|p| p.committing);
                    Box::pin(answer_pending(socket, in_flight.take(), committing)).await;
                }
                return Some((code, reason));
            }
            frame = shared.outbox.next() => {
                if send_queued(socket, &shared.outbox, frame).await.is_err() {
                    return None;
                }
            }
            step = async { in_flight.as_mut().expect("guarded").await }, if in_flight.is_some() => {
                in_flight = None;
                let reply = match step {
                    Step::Committing(commit) => {
                        pending.get_or_insert_with(Default::default).committing.push_back(commit);
                        None
                    }
                    // Behind sends still committing, an answer waits its turn.
                    Step::Done(id, reply) => match pending.as_mut().filter(|p| !p.committing.is_empty()) {
                        Some(p) => {
                            p.committing.push_back(Box::pin(std::future::ready((id, reply))));
                            None
                        }
                        None => Some(requests::reply_frame(&id, reply)),
                    },
                };
                if let Some(frame) = reply && socket.send(Message::Text(frame)).await.is_err() {
                    return None;
                }
            }
            Some((id, reply)) = async { pending.as_mut().expect("guarded").committing.next().await }, if pending.as_ref().is_some_and(|p| !p.committing.is_empty()) => {
                let first = requests::reply_frame(&id, reply);
                if let Some(p) = pending.as_mut() && send_answers(socket, first, &mut p.committing).await.is_err() {
                    return None;
                }
            }
            incoming = socket.recv() => {
                let msg = match incoming {
                    Some(Ok(m)) => m,
                    Some(Err(e)) => return protocol_close(e),
                    None => return None,
                };
                last_seen = Instant::now();
                metrics::counter!("gateway_frames_in_total").increment(1);
                let text = match msg {
                    Message::Text(t) => t,
                    Message::Close(_) => {
                        // tungstenite queued the reply Close; write it before hanging up
                        // (RFC 6455 §5.5.1: the endpoint MUST answer a Close).
                        let _ = socket.flush().await;
                        return None;
                    }
                    Message::Ping(_) | Message::Pong(_) => continue,
                    Message::Binary(_) => {
                        strikes += 1;
                        if socket.send(Message::Text(frames::error(None, "unsupported_frame", "only JSON text frames are accepted"))).await.is_err() {
                            return None;
                        }
                        if strikes >= ABUSE_LIMIT { return Some((CLOSE_POLICY, "too many bad frames")); }
                        continue;
                    }
                };
                let queue = &mut pending.get_or_insert_with(Default::default).queue;
                match requests::handle_frame(app, who, &text, queue).await {
                    Ok(Some(reply)) => {
                        strikes = 0;
                        if let Some(exp) = reply.1 { expiry = expiry_instant(exp); }
                        if socket.send(Message::Text(reply.0)).await.is_err() { return None; }
                    }
                    Ok(None) => strikes = 0,
                    Err(FrameError::Reply(out)) => {
                        strikes += 1;
                        if socket.send(Message::Text(out)).await.is_err() { return None; }
                        if strikes >= ABUSE_LIMIT { return Some((CLOSE_POLICY, "too many bad frames")); }
                    }
                    Err(FrameError::Close(code, reason)) => return Some((code, reason)),
                }
            }
            () = sleep_until(next_ping.min(expiry)) => {
                if Instant::now() >= expiry {
                    return Some((CLOSE_TOKEN_EXPIRED, "token expired"));
                }
                if last_seen.elapsed() >= IDLE_TIMEOUT {
                    return Some((1001, "idle"));
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return None;
                }
                next_ping = Instant::now() + HEARTBEAT;
            }
        }
    }
}

/// Writes `first` and every answer already committed behind it, then flushes once: the sends
/// of one group commit are answered with one write.
async fn send_answers(
    socket: &mut WebSocket,
    first: Utf8Bytes,
    committing: &mut FuturesOrdered<InFlight>,
) -> Result<(), axum::Error> {
    socket.feed(Message::Text(first)).await?;
    // Takes only answers that are ready; a pending one waits for the next turn of the loop.
    let mut ready = |cx: &mut std::task::Context<'_>| match committing.poll_next_unpin(cx) {
        std::task::Poll::Ready(next) => std::task::Poll::Ready(next),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    };
    while let Some((id, reply)) = std::future::poll_fn(&mut ready).await {
        socket
            .feed(Message::Text(requests::reply_frame(&id, reply)))
            .await?;
    }
    socket.flush().await
}

/// At a restart: answers the request being processed and the sends committing, in order.
async fn answer_pending(
    socket: &mut WebSocket,
    in_flight: Option<Started>,
    committing: Option<FuturesOrdered<InFlight>>,
) {
    let mut committing = committing.unwrap_or_default();
    let mut done = None;
    if let Some(started) = in_flight {
        match started.await {
            Step::Committing(commit) => committing.push_back(commit),
            Step::Done(id, reply) => done = Some((id, reply)),
        }
    }
    while let Some((id, reply)) = committing.next().await {
        let _ = socket
            .send(Message::Text(requests::reply_frame(&id, reply)))
            .await;
    }
    if let Some((id, reply)) = done {
        let _ = socket
            .send(Message::Text(requests::reply_frame(&id, reply)))
            .await;
    }
}

/// The close to send for a read error (RFC 6455 §7.4.1): 1009 for an oversized message, 1007
/// for a text message that is not UTF-8, 1002 for any other protocol violation (reserved bits,
/// bad opcodes, unmasked frames, …). I/O errors and resets end the socket without a frame.
fn protocol_close(e: axum::Error) -> Option<(u16, &'static str)> {
    use tungstenite::Error as WsError;
    let (code, reason, label) = match e.into_inner().downcast::<WsError>().map(|b| *b) {
        Ok(WsError::Capacity(_)) => (1009, "frame too big", "too_big"),
        Ok(WsError::Utf8(_)) => (1007, "text frame is not UTF-8", "invalid_utf8"),
        // A peer that vanished without a Close is gone; there is nobody to tell.
        Ok(WsError::Protocol(tungstenite::error::ProtocolError::ResetWithoutClosingHandshake)) => {
            return None;
        }
        Ok(WsError::Protocol(_)) => (1002, "protocol error", "protocol"),
        _ => return None,
    };
    metrics::counter!("gateway_frames_refused_total", "reason" => label).increment(1);
    Some((code, reason))
}

/// Writes `first` and every frame already queued behind it, then flushes once: a burst of
/// fan-out costs one `write` syscall instead of one per frame (needs a non-zero
/// `write_buffer_size`, see `gateway::upgrade`). Never waits for frames not yet queued.
async fn send_queued(
    socket: &mut WebSocket,
    outbox: &Outbox,
    first: Utf8Bytes,
) -> Result<(), axum::Error> {
    socket.feed(Message::Text(first)).await?;
    for _ in 1..MAX_BATCH {
        match outbox.try_next() {
            Some(frame) => socket.feed(Message::Text(frame)).await?,
            None => break,
        }
    }
    socket.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every socket's task holds this future for its whole life, so its size is memory per
    /// idle socket (docs/performance.md). Rare, large awaits are boxed to keep it small.
    #[test]
    fn socket_task_future_stays_small() {
        fn future_size<F, Fut>(_: F) -> usize
        where
            F: FnOnce(AppState, WebSocket, SlotGuard) -> Fut,
        {
            std::mem::size_of::<Fut>()
        }
        let bytes = future_size(run);
        println!("socket task future: {bytes} bytes");
        // 1,360 B in a debug build with Rust 1.95 (1,632 B as an `async fn`, which held the
        // socket twice).
        assert!(bytes <= 1400, "socket task future grew to {bytes} bytes");
    }
}
