//! A socket's requests: each incoming text frame parsed once (`frames::parse_request`) and
//! answered. `ping`, re-`auth` and refusals are answered at once; calls are rate-limited,
//! queued, and run one at a time, in order, through the same `chat` use cases as REST (the
//! socket task in `conn` polls the one in flight). The use case's `Error` becomes an `error`
//! frame with the same `code` and `message`.

use super::conn::{AUTH_NEEDS_TOKEN, CLOSE_AUTH_FAILED, Identity, verify};
use super::frames::{self, AuthReq, Call, Op, Refused, Request};
use crate::chat;
use crate::chat::messages::SendInput;
use crate::error::Error;
use crate::state::AppState;
use crate::traces;
use axum::extract::ws::Utf8Bytes;
use justus_core::{MessageId, RoomId, UserId};
use serde_json::json;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use tracing::Instrument;

/// Requests waiting behind the one in flight.
const MAX_QUEUED: usize = 32;

/// A request's outcome: its finished `ack` frame, or the error to answer with.
type Reply = Result<Utf8Bytes, Error>;
/// A call waiting for its turn.
pub(super) struct Queued {
    pub id: String,
    /// The call, or why its payload did not parse.
    pub call: Result<Call, Error>,
    /// The client's `traceparent`, kept only while traces are exported (`crate::traces`).
    pub traceparent: Option<String>,
}
pub(super) type InFlight = Pin<Box<dyn Future<Output = (String, Reply)> + Send>>;
/// A started call: runs alone, in order (see [`dispatch`]).
pub(super) type Started = Pin<Box<dyn Future<Output = Step> + Send>>;

/// What a started call came to.
pub(super) enum Step {
    /// Its answer.
    Done(String, Reply),
    /// A send whose write is queued: its answer comes with its commit, and the socket may start
    /// its next send meanwhile (the store commits them in that order).
    Committing(InFlight),
}

/// Sends of one socket queued for commit at once, beyond which the next request waits.
pub(super) const MAX_COMMITTING: usize = 32;

/// The `d` of a send or edit `ack`, serialised straight from the message (no `Value` copy:
/// this runs once per message sent).
#[derive(serde::Serialize)]
struct MessageAck<'a> {
    message: &'a justus_core::message::Message,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<bool>,
}

fn ack<T: serde::Serialize>(id: &str, d: &T) -> Utf8Bytes {
    frames::frame("ack", Some(id), d)
}

pub(super) fn reply_frame(id: &str, reply: Reply) -> Utf8Bytes {
    match reply {
        Ok(frame) => frame,
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

pub(super) enum FrameError {
    /// Answer with this error frame and count a strike.
    Reply(Utf8Bytes),
    Close(u16, &'static str),
}

/// Parses one text frame. Immediate answers (re-auth, ping, refusals) come back as `Ok(Some)`
/// with a new token expiry for re-auth; calls are queued, a call whose payload does not parse
/// too: its `invalid_frame` is its answer, in its turn, after the rate limit like any call.
pub(super) async fn handle_frame(
    app: &AppState,
    who: &mut Identity,
    text: &str,
    queue: &mut VecDeque<Queued>,
) -> Result<Option<(Utf8Bytes, Option<i64>)>, FrameError> {
    let (id, call, traceparent) = match frames::parse_request(text) {
        Ok(Request {
            id, op: Op::Ping, ..
        }) => return Ok(Some((ack(&id, &json!({})), None))),
        Ok(Request {
            id,
            op: Op::Auth(req),
            ..
        }) => return reauth(app, who, &id, req).await,
        Ok(Request {
            id,
            op: Op::Call(call),
            traceparent,
        }) => (id, Ok(call), traceparent.filter(|_| traces::enabled())),
        Err(Refused::Payload { id, error }) => (
            id,
            Err(Error::unprocessable(
                "invalid_frame",
                format!("invalid payload: {error}"),
            )),
            None,
        ),
        Err(Refused::Auth) => return Err(FrameError::Close(CLOSE_AUTH_FAILED, AUTH_NEEDS_TOKEN)),
        Err(Refused::UnknownOp { id }) => {
            return Err(FrameError::Reply(frames::error(
                Some(&id),
                "unknown_op",
                "unknown op",
            )));
        }
        Err(Refused::Frame(code, message)) => {
            return Err(FrameError::Reply(frames::error(None, code, message)));
        }
    };
    // Queued before the rate limit is asked and taken back if refused: held in a local across
    // that await, the call would enlarge the future every socket keeps for its whole life.
    // Nothing else touches the queue meanwhile (it is borrowed here).
    let full = queue.len() >= MAX_QUEUED;
    queue.push_back(Queued {
        id,
        call,
        traceparent,
    });
    let limited = app.limits.requests(who.user).await;
    if limited.is_err() || full {
        let Queued { id, .. } = queue.pop_back().expect("queued above");
        return Err(FrameError::Reply(match limited {
            Err(wait) => {
                metrics::counter!("gateway_rate_limited_total").increment(1);
                let d = frames::ErrorD {
                    code: "rate_limited",
                    message: "slow down",
                    retry_after_ms: Some(wait.as_millis() as u64 + 1),
                };
                frames::frame("error", Some(&id), &d)
            }
            Ok(()) => frames::error(Some(&id), "rate_limited", "too many requests in flight"),
        }));
    }
    Ok(None)
}

/// `auth` on an open socket: a fresh token for the same user (and the same session).
async fn reauth(
    app: &AppState,
    who: &mut Identity,
    id: &str,
    req: AuthReq,
) -> Result<Option<(Utf8Bytes, Option<i64>)>, FrameError> {
    match Box::pin(verify(app, req)).await {
        Ok(new) if new.user == who.user => {
            *who = Identity {
                session: who.session,
                ..new
            };
            Ok(Some((
                ack(id, &json!({"expires_at": new.expires_at})),
                Some(new.expires_at),
            )))
        }
        Ok(_) => Err(FrameError::Close(
            CLOSE_AUTH_FAILED,
            "a socket cannot change user",
        )),
        Err((code, reason)) => Err(FrameError::Close(code, reason)),
    }
}

/// Whether a queued call may start while `committing` earlier sends wait for their commits:
/// only a send, only on a store that commits sends in submission order, and only so many.
/// Anything else waits for them (an edit must find the message it edits committed).
pub(super) fn may_start(app: &AppState, call: &Result<Call, Error>, committing: usize) -> bool {
    committing == 0
        || (committing < MAX_COMMITTING
            && matches!(call, Ok(Call::Send(_)))
            && app.store.commits_sends_in_order())
}

/// Starts one call through the same use cases as REST, in its own span (`crate::traces`).
pub(super) fn dispatch(app: AppState, user: UserId, queued: Queued) -> Started {
    let Queued {
        id,
        call,
        traceparent,
    } = queued;
    let op = call.as_ref().map_or("invalid", Call::name);
    let span = traces::gateway_op(op, user, traceparent.as_deref());
    Box::pin(
        async move {
            let step = match call {
                Ok(Call::Send(r)) => send(app, user, id, r).await,
                Ok(call) => {
                    let reply = call_use_case(&app, user, &id, call).await;
                    Step::Done(id, reply)
                }
                Err(e) => Step::Done(id, Err(e)),
            };
            if let Step::Done(_, Err(e)) = &step {
                traces::fail(&tracing::Span::current(), e.code);
            }
            step
        }
        .instrument(span),
    )
}

/// A send: checked now, then its commit queued and handed back to be awaited in order.
async fn send(app: AppState, user: UserId, id: String, r: frames::SendReq) -> Step {
    let room = RoomId(r.room_id);
    let prepared = match chat::messages::prepare_send(&app, user, room, send_input(r)).await {
        Ok(p) => p,
        Err(e) => return Step::Done(id, Err(e)),
    };
    let mut commit: InFlight = Box::pin(
        async move {
            let reply =
                chat::messages::commit_send(&app, prepared)
                    .await
                    .map(|(message, created)| {
                        let created = Some(created);
                        ack(
                            &id,
                            &MessageAck {
                                message: &message,
                                created,
                            },
                        )
                    });
            if let Err(e) = &reply {
                traces::fail(&tracing::Span::current(), e.code);
            }
            (id, reply)
        }
        // Awaited later, outside the op's span: it carries the span itself (none while
        // traces are off, so the send path pays nothing for it).
        .instrument(if traces::enabled() {
            tracing::Span::current()
        } else {
            tracing::Span::none()
        }),
    );
    // Polled once here, in the socket's task: that queues the write now, before the socket
    // can start its next send, so the two commit in the order the client sent them.
    match std::future::poll_fn(|cx| Poll::Ready(commit.as_mut().poll(cx))).await {
        Poll::Ready((id, reply)) => Step::Done(id, reply),
        Poll::Pending => Step::Committing(commit),
    }
}

fn send_input(r: frames::SendReq) -> SendInput {
    SendInput {
        client_id: r.client_id,
        body: Some(r.body),
        reply_to: r.reply_to.map(MessageId),
        forward_from: None,
        attachments: r
            .attachments
            .into_iter()
            .map(justus_core::MediaId)
            .collect(),
    }
}

async fn call_use_case(app: &AppState, user: UserId, id: &str, call: Call) -> Reply {
    match call {
        // `dispatch` pipelines sends through `send`; this whole-send path answers the same.
        // `dispatch` starts sends itself; should one come here, it takes the same path, whole.
        Call::Send(r) => match Box::pin(send(app.clone(), user, id.to_owned(), r)).await {
            Step::Done(_, reply) => reply,
            Step::Committing(commit) => commit.await.1,
        },
        Call::Edit(r) => {
            let message = chat::messages::edit(
                app,
                user,
                RoomId(r.room_id),
                MessageId(r.message_id),
                &r.body,
            )
            .await?;
            Ok(ack(
                id,
                &MessageAck {
                    message: &message,
                    created: None,
                },
            ))
        }
        Call::Delete(r) => {
            chat::messages::delete(app, user, RoomId(r.room_id), MessageId(r.message_id), None)
                .await?;
            Ok(ack(id, &json!({})))
        }
        Call::React(r) => {
            chat::messages::react(
                app,
                user,
                RoomId(r.room_id),
                MessageId(r.message_id),
                &r.emoji,
                r.add,
            )
            .await?;
            Ok(ack(id, &json!({})))
        }
        Call::Read(r) => {
            let read_seq = chat::messages::mark_read(app, user, RoomId(r.room_id), r.seq).await?;
            Ok(ack(id, &json!({"read_seq": read_seq})))
        }
        Call::Typing(r) => {
            chat::presence::typing(app, user, RoomId(r.room_id), r.active).await?;
            Ok(ack(id, &json!({})))
        }
        Call::Presence(r) => {
            chat::presence::set_status(app, user, &r.status).await?;
            Ok(ack(id, &json!({})))
        }
    }
}
