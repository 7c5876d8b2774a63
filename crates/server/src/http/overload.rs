//! Request-level protection (connection-level is `http::serve`):
//!
//! - load shedding: at most `HTTP_MAX_IN_FLIGHT` requests are handled at once; the next one is
//!   answered `503 overloaded` with `Retry-After` at once instead of queueing without bound
//!   (health and readiness probes are never shed, so a busy instance is not declared dead);
//! - a deadline per request until its response starts (`HTTP_REQUEST_TIMEOUT_SECONDS`,
//!   `503 timeout`), except for routes that stream (uploads, file downloads, the WebSocket
//!   upgrade) and a longer one for AI routes, which wait for a provider;
//! - request bodies that stop moving for `HTTP_IDLE_TIMEOUT_SECONDS` fail (a stalled upload
//!   would otherwise hold its request forever).

use crate::config::Config;
use crate::http::error::ApiError;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tower_http::timeout::TimeoutBody;

#[derive(Clone)]
pub struct Overload {
    in_flight: Option<Arc<Semaphore>>,
    request_timeout: Duration,
    ai_timeout: Duration,
    body_idle: Duration,
}

impl Overload {
    pub fn from_config(c: &Config) -> Self {
        Self {
            in_flight: (c.transport.max_in_flight > 0)
                .then(|| Arc::new(Semaphore::new(c.transport.max_in_flight as usize))),
            request_timeout: Duration::from_secs(c.transport.request_timeout_seconds),
            ai_timeout: c.ai_request_deadline(),
            body_idle: Duration::from_secs(c.transport.idle_timeout_seconds),
        }
    }
}

/// How long a route may take until its response starts; `None`: it streams.
fn deadline(o: &Overload, method: &Method, route: Option<&str>) -> Option<Duration> {
    match route {
        Some("/api/v1/ws") => None,
        Some("/api/v1/media") if method == Method::POST => None,
        Some("/api/v1/media/files/{id}/{variant}") => None,
        Some(r) if r.contains("/ai/") || r.ends_with("/translate") => Some(o.ai_timeout),
        _ => Some(o.request_timeout),
    }
}

fn is_probe(route: Option<&str>) -> bool {
    matches!(route, Some("/health" | "/ready"))
}

pub async fn guard(State(o): State<Overload>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map(MatchedPath::as_str);
    let _permit = match &o.in_flight {
        Some(sem) if !is_probe(route) => match sem.clone().try_acquire_owned() {
            Ok(p) => Some(p),
            Err(_) => {
                metrics::counter!("http_requests_shed_total").increment(1);
                return ApiError {
                    retry_after: Some(1),
                    ..ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "overloaded",
                        "the server is busy; retry shortly",
                    )
                }
                .into_response();
            }
        },
        _ => None,
    };
    let limit = deadline(&o, req.method(), route);
    let body_idle = o.body_idle;
    let req = req.map(|b| Body::new(TimeoutBody::new(body_idle, b)));
    match limit {
        None => next.run(req).await,
        Some(limit) => match tokio::time::timeout(limit, next.run(req)).await {
            Ok(res) => res,
            Err(_) => {
                metrics::counter!("http_request_timeouts_total").increment(1);
                ApiError {
                    retry_after: Some(1),
                    ..ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "timeout",
                        "the request took too long",
                    )
                }
                .into_response()
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_routes_have_no_deadline_and_ai_a_longer_one() {
        let c = Config::defaults();
        let o = Overload::from_config(&c);
        let short = Some(Duration::from_secs(c.transport.request_timeout_seconds));
        assert_eq!(deadline(&o, &Method::GET, Some("/api/v1/ws")), None);
        assert_eq!(deadline(&o, &Method::POST, Some("/api/v1/media")), None);
        assert_eq!(
            deadline(&o, &Method::GET, Some("/api/v1/media/files/{id}/{variant}")),
            None
        );
        assert_eq!(
            deadline(&o, &Method::GET, Some("/api/v1/media/{id}")),
            short
        );
        assert_eq!(deadline(&o, &Method::GET, None), short);
        let ai = deadline(&o, &Method::POST, Some("/api/v1/rooms/{id}/ai/summary"));
        assert!(ai > short, "{ai:?}");
        assert_eq!(
            deadline(
                &o,
                &Method::POST,
                Some("/api/v1/rooms/{id}/messages/{message_id}/translate")
            ),
            ai
        );
    }
}
