//! Request extractors that fail with our JSON errors.

use crate::auth::jwt::TokenError;
use crate::http::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use justus_core::{SessionId, UserId};
use serde::de::DeserializeOwned;

/// `Json<T>` with our error mapping: a body that is not JSON → 400 `invalid_json`; JSON of the
/// wrong shape or types → 422 `invalid_body`; no `application/json` → 415; too large → 413.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "request body is too large",
                )
            } else {
                ApiError::bad_request("invalid_body", e.body_text())
            }
        })?;
        require_object(&bytes)?;
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// Every request body is an object. serde would also fill a struct from an array, in field
/// order (`["alice", "<password>"]` as a login), which no client means to send.
pub fn require_object(body: &[u8]) -> Result<(), ApiError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return Ok(());
    }
    Err(
        match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => {
                ApiError::unprocessable("invalid_body", "the request body must be a JSON object")
            }
            Err(_) => ApiError::bad_request("invalid_json", "request body is not valid JSON"),
        },
    )
}

/// `application/json` or a `+json` type, parameters allowed.
pub fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected Content-Type: application/json",
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
            "invalid_json",
            format!("request body is not valid JSON: {}", e.body_text_inner()),
        ),
        JsonRejection::JsonDataError(e) => {
            ApiError::unprocessable("invalid_body", e.body_text_inner())
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "request body is too large",
        ),
        other => ApiError::bad_request("invalid_body", other.body_text()),
    }
}

/// serde's messages start with the byte position noise of axum's wrapper; keep the useful tail.
trait BodyTextInner {
    fn body_text_inner(&self) -> String;
}

impl<E: std::fmt::Display + std::error::Error> BodyTextInner for E {
    fn body_text_inner(&self) -> String {
        let mut msg = self.to_string();
        let mut src = self.source();
        while let Some(s) = src {
            msg = s.to_string();
            src = s.source();
        }
        // Bound the echo: serde may quote parts of the input.
        msg.chars().take(200).collect()
    }
}

/// A token whose session is over (or never existed: a forged token) gets the same answer.
pub fn session_refused(r: crate::auth::sessions::Refused) -> ApiError {
    match r {
        crate::auth::sessions::Refused::Ended => {
            ApiError::unauthorized("session_revoked", "this session has ended; log in again")
        }
        crate::auth::sessions::Refused::Unavailable(e) => e.into(),
    }
}

/// An authenticated caller: a valid, unexpired access token of a live session in
/// `Authorization: Bearer …`. For a method that changes something (not GET/HEAD/OPTIONS),
/// also one unit of the user's request quota (`limits::Limits::requests`).
#[derive(Clone, Copy, Debug)]
pub struct Auth {
    pub user_id: UserId,
    pub session_id: SessionId,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::unauthorized("missing_token", "an access token is required")
            })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthorized("invalid_token", "expected `Authorization: Bearer <token>`")
            })?;
        let verified = state.keys.verify(token).map_err(|e| {
            metrics::counter!("auth_token_rejections_total", "reason" => match e { TokenError::Expired => "expired", TokenError::Invalid => "invalid" }).increment(1);
            match e {
                TokenError::Expired => ApiError::unauthorized("token_expired", "the access token has expired; refresh it"),
                TokenError::Invalid => ApiError::unauthorized("invalid_token", "the access token is not valid"),
            }
        })?;
        state
            .sessions
            .check(
                &*state.store,
                verified.session_id,
                verified.user_id,
                state.now(),
            )
            .await
            .map_err(session_refused)?;
        tracing::Span::current().record("user_id", tracing::field::display(verified.user_id));
        // Requests that change something share one per-user quota with the gateway's requests,
        // so neither path is a way around the other's limit.
        if !parts.method.is_safe() {
            state
                .limits
                .requests(verified.user_id)
                .await
                .map_err(|wait| {
                    metrics::counter!("http_rate_limited_total").increment(1);
                    ApiError::rate_limited("too many requests; slow down", wait)
                })?;
        }
        Ok(Auth {
            user_id: verified.user_id,
            session_id: verified.session_id,
        })
    }
}

/// Parses a path id, answering 400 `invalid_id` for anything that is not a UUID.
pub fn parse_id<T: std::str::FromStr>(raw: &str, what: &'static str) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::bad_request("invalid_id", format!("{what} id must be a UUID")))
}
