//! The real-time gateway (`GET /api/v1/ws`), specified in docs/protocol.md.
//!
//! - `hub`: receives everything from the bus and routes it; a façade over the three parts below,
//!   each with its own lock.
//! - `subs`: which sockets want which rooms; fan-out, serialising each event once and sharing
//!   the bytes between recipients; `order`: each room's events once and in `seq` order.
//! - `presence`: announcing the presence registry (`crate::presence`) to room members.
//! - `peers`: other processes' heartbeats; a silent one is dead.
//! - `conn`: one task per socket: authentication, `ready`, heartbeats, token expiry,
//!   backpressure; `requests`: its requests, parsed once and run in order through the same
//!   `chat` use cases as REST.
//! - `outbox`: each socket's outgoing queue (allocates nothing while idle).
//! - `frames`: the wire shapes.
//! - `catchup`: refills sockets from the store when the bus may have lost messages.

pub mod catchup;
pub mod conn;
pub mod frames;
pub mod hub;
mod order;
pub mod outbox;
mod peers;
mod presence;
mod requests;
mod subs;

use crate::http::client_ip::ClientIp;
use crate::http::slots::Refused;
use crate::state::AppState;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

/// Largest outgoing queue per socket before the socket is dropped as lagging.
pub const QUEUE_FRAMES: usize = 256;
/// Bytes of queued frames gathered into one socket write. tungstenite keeps its write
/// buffer's capacity, so a socket that once had a burst holds about this much more.
const WRITE_BATCH_BYTES: usize = 8 * 1024;
const READ_BUFFER_BYTES: usize = 512;

/// Upgrades to a WebSocket after checking the Origin (browsers only send one).
pub async fn upgrade(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let same_host = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            == Some(host);
        if !same_host && !app.allowed_origins.iter().any(|o| o == origin) {
            metrics::counter!("gateway_rejected_total", "reason" => "origin").increment(1);
            return crate::http::error::ApiError::forbidden(
                "origin_not_allowed",
                "this origin may not open a gateway connection",
            )
            .into_response();
        }
    }
    if app.hub.is_draining() {
        metrics::counter!("gateway_rejected_total", "reason" => "draining").increment(1);
        return crate::http::error::ApiError::unavailable(
            "server restarting: reconnect to another instance",
        )
        .into_response();
    }
    // Sockets that have not authenticated yet cost memory and a task for up to the auth
    // deadline each; cap them so a flood of idle upgrades cannot pile up.
    // Like connections: clients seen from this machine or a trusted proxy share its address.
    let exempt = app.config.transport.per_ip_limits_exempt.contains(&ip)
        || app.config.trusted_proxies.iter().any(|n| n.contains(&ip));
    let unauthenticated = match app
        .gateway_unauthenticated
        .try_acquire((!exempt).then_some(ip))
    {
        Ok(slot) => slot,
        Err(why) => {
            metrics::counter!("gateway_rejected_total", "reason" => format!("unauthenticated_{}", why.label()))
                .increment(1);
            return match why {
                Refused::PerIp => crate::http::error::ApiError::too_many(
                    "too_many_connections",
                    "too many sockets from your address are still authenticating",
                    1,
                ),
                Refused::Global => crate::http::error::ApiError {
                    retry_after: Some(1),
                    ..crate::http::error::ApiError::new(
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        "overloaded",
                        "too many sockets are still authenticating; retry shortly",
                    )
                },
            }
            .into_response();
        }
    };
    let max = app.config.limits.gateway_max_frame_bytes as usize;
    ws.max_message_size(max)
        .max_frame_size(max)
        // tungstenite's defaults (128 KiB write buffer, 64 MiB messages) are far too generous.
        // Allocated per socket for its whole life: client frames are small JSON, and a larger
        // one grows the buffer as needed (the frame size limit is separate).
        .read_buffer_size(READ_BUFFER_BYTES)
        // Frames fed in a burst (`conn::send_queued`) collect up to this much before a write;
        // `send` still flushes every frame at once.
        .write_buffer_size(WRITE_BATCH_BYTES)
        .max_write_buffer_size(max * 4)
        .on_failed_upgrade(|e| tracing::debug!(error = %e, "websocket upgrade failed"))
        .on_upgrade(move |socket| conn::run(app, socket, unauthenticated))
        .into_response()
}
