//! Middleware: request identity and tracing, metrics, security headers, JSON error bodies.

use crate::http::error::ApiError;
use crate::state::AppState;
use crate::traces;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Accepts a caller's request id only if it is short and plain, so it is safe to log and echo.
fn sane_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (!s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)))
    .then(|| s.to_owned())
}

/// W3C `traceparent`: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
pub fn trace_id_from(traceparent: Option<&HeaderValue>) -> Option<String> {
    let s = traceparent?.to_str().ok()?;
    let mut parts = s.split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |p: &str, n: usize| {
        p.len() == n
            && p.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    (hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && trace != "0".repeat(32)
        && hex(parent, 16)
        && hex(flags, 2))
    .then(|| trace.to_owned())
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Gives every request an id (echoed in `x-request-id`), a trace id, a span carrying both,
/// an access-log line and HTTP metrics by route.
pub async fn observe(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(sane_request_id)
        .unwrap_or_else(|| random_hex(12));
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let traceparent = req.headers().get("traceparent");
    // The exported span (a disabled one while traces are off), and the trace id every log
    // line of this request carries: the exported trace's, else the caller's, else a new one.
    let server_span =
        traces::http_request(&method, &route, traceparent.and_then(|v| v.to_str().ok()));
    let trace_id = traces::trace_id(&server_span)
        .or_else(|| trace_id_from(traceparent))
        .unwrap_or_else(|| random_hex(16));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        req.headers_mut().insert(REQUEST_ID, v);
    }
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        trace_id = %trace_id,
        user_id = tracing::field::Empty,
        method = %method,
        route = %route,
    );
    // The log span innermost, so handlers record `user_id` on it; the exported span's
    // context stays the parent of what the handler traces.
    let mut res = next
        .run(req)
        .instrument(span.clone())
        .instrument(server_span.clone())
        .await;
    let status = res.status().as_u16();
    server_span.record("http.response.status_code", status);
    if status >= 500 {
        traces::fail(&server_span, "server error");
    }
    let elapsed = start.elapsed();
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        );
    });
    let labels = [
        ("method", method.to_string()),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2])
        .record(elapsed.as_secs_f64());
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    res
}

/// The Content-Security-Policy of every response: no inline script anywhere; media (images,
/// audio, video, and the fetches that read them) also from `media_origin`, the S3 endpoint that
/// signed media URLs point at when media is kept in S3.
pub fn content_security_policy(media_origin: Option<&str>) -> HeaderValue {
    let media = media_origin.map(|o| format!(" {o}")).unwrap_or_default();
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:{media}; \
         media-src 'self' blob:{media}; connect-src 'self'{media}; font-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'"
    );
    HeaderValue::from_str(&csp).unwrap_or_else(|_| {
        HeaderValue::from_static("default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
    })
}

/// Security headers on every response. The CSP allows no inline script anywhere.
pub async fn security_headers(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert_with(|| app.csp.clone());
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        h,
        HeaderName::from_static("permissions-policy"),
        "camera=(), geolocation=(), payment=(), usb=()",
    );
    if is_api {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    if app.config.is_https() {
        set(
            h,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    res
}

/// Errors produced outside our handlers (no route, wrong method, a panic) come without a
/// JSON body; give them the standard error shape so clients parse one format.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let status = res.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body is never read, so the connection closes after this answer:
        // saying so keeps a client from sending its next request down it (and losing it).
        res.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let (parts, body) = res.into_parts();
    // Framework rejections (bad query string, …) explain themselves in plain text; keep it.
    let detail = axum::body::to_bytes(body, 1024)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .filter(|s| !s.trim().is_empty());
    let err = match status {
        StatusCode::NOT_FOUND => ApiError::new(status, "not_found", "no such endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "method_not_allowed",
            "method not allowed on this endpoint",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(status, "payload_too_large", "request body is too large")
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::new(status, "unsupported_media_type", "unsupported content type")
        }
        StatusCode::REQUEST_TIMEOUT => {
            ApiError::new(status, "timeout", "the request took too long")
        }
        s if s.is_server_error() => ApiError::new(s, "internal", "internal server error"),
        s => ApiError::new(
            s,
            "bad_request",
            detail.unwrap_or_else(|| s.canonical_reason().unwrap_or("bad request").to_owned()),
        ),
    };
    let mut out = err.into_response();
    for (k, v) in &parts.headers {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().entry(k.clone()).or_insert(v.clone());
        }
    }
    out
}

/// Middleware: logs every request refused with 401 or 403 (failed password checks are logged
/// where they happen, with more detail).
pub async fn log_refusals(
    axum::extract::State(app): axum::extract::State<crate::state::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = peer
        .map(|p| crate::http::client_ip::resolve(p, req.headers(), &app.config.trusted_proxies));
    let res = next.run(req).await;
    let status = res.status().as_u16();
    if matches!(status, 401 | 403) {
        let code = res
            .extensions()
            .get::<crate::http::error::ErrorCode>()
            .map_or("unknown", |c| c.0);
        if code != "invalid_credentials" {
            crate::auth::audit::access_refused(status, code, ip);
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_parsing() {
        let ok =
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assert_eq!(
            trace_id_from(Some(&ok)).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "garbage",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(
                trace_id_from(Some(&HeaderValue::from_static(bad))),
                None,
                "{bad}"
            );
        }
    }

    #[test]
    fn csp_admits_the_s3_media_origin_only_for_media() {
        let local = content_security_policy(None);
        let local = local.to_str().unwrap();
        assert!(local.contains("img-src 'self' data: blob:;"), "{local}");
        let s3 = content_security_policy(Some("https://media.example.org"));
        let s3 = s3.to_str().unwrap();
        for directive in ["img-src", "media-src", "connect-src"] {
            let d = s3
                .split(';')
                .find(|d| d.trim().starts_with(directive))
                .unwrap();
            assert!(d.contains("https://media.example.org"), "{d}");
        }
        let script = s3
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert_eq!(script.trim(), "script-src 'self'");
    }

    #[test]
    fn request_ids_are_sanitised() {
        assert!(sane_request_id(&HeaderValue::from_static("abc-123")).is_some());
        assert!(sane_request_id(&HeaderValue::from_static("abc 123")).is_none());
        assert!(sane_request_id(&HeaderValue::from_str(&"a".repeat(65)).unwrap()).is_none());
    }
}
