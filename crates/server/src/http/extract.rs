//! Request extractors that fail with our JSON errors.

use crate::auth::jwt::TokenError;
use crate::error::ApiError;
use crate::state::AppState;
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
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
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

/// An authenticated caller: a valid, unexpired, unrevoked access token in
/// `Authorization: Bearer …`.
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
        if state.revocations.is_revoked(verified.session_id) {
            return Err(ApiError::unauthorized(
                "session_revoked",
                "this session has ended; log in again",
            ));
        }
        tracing::Span::current().record("user_id", tracing::field::display(verified.user_id));
        Ok(Auth {
            user_id: verified.user_id,
            session_id: verified.session_id,
        })
    }
}
