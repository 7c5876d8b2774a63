//! The error the use cases (`chat/`, `auth/`, `media/`, `ai/`) return, free of any transport.
//!
//! - An `Error` says what kind of failure it is (`ErrorKind`), carries a stable snake_case
//!   `code` and a human `message` (never secrets), and optionally the input field at fault and
//!   how long to wait before retrying.
//! - Each transport maps it once: `http::error` to a status and JSON body, `gateway::conn` to
//!   an `error` frame with the same `code` and `message`.
//! - Domain errors convert here and nowhere else: `ValidationError` → `Invalid`, `StoreError`
//!   → `NotFound`/`Conflict`/`Unavailable`/`Internal`. Internal details are logged, not returned.

use justus_core::{StoreError, ValidationError};
use std::borrow::Cow;
use std::time::Duration;

/// What went wrong, in terms a caller can act on. Transports choose their own codes for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed (bad id, unknown op, missing part).
    BadRequest,
    /// No valid credentials, or they were refused.
    Unauthenticated,
    /// Authenticated, but not allowed to do this.
    Forbidden,
    /// The thing does not exist, or the caller may not know it does.
    NotFound,
    /// It clashes with existing state (name taken, already a member).
    Conflict,
    /// It existed but is no more (an expired invite).
    Gone,
    /// The input is larger than allowed.
    TooLarge,
    /// The input's type is not accepted.
    UnsupportedType,
    /// Well-formed but invalid input (validation rules).
    Invalid,
    /// A rate or concurrency limit refused it; `retry_after` says when to try again.
    RateLimited,
    /// A dependency (database, scanner, AI provider) cannot take it now; retry shortly.
    Unavailable,
    /// An upstream provider answered with an error.
    Upstream,
    /// An upstream provider took too long.
    UpstreamTimeout,
    /// A bug or an unexpected failure; details are in the log.
    Internal,
}

#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub message: Cow<'static, str>,
    /// Seconds, for rate-limited and unavailable answers.
    pub retry_after: Option<u64>,
    /// The offending input field, for validation errors.
    pub field: Option<&'static str>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
            retry_after: None,
            field: None,
        }
    }
    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::BadRequest, code, message)
    }
    pub fn unauthorized(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unauthenticated, code, message)
    }
    pub fn forbidden(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Forbidden, code, message)
    }
    pub fn not_found(what: &'static str) -> Self {
        Self::new(
            ErrorKind::NotFound,
            "not_found",
            format!("{what} not found"),
        )
    }
    /// 403 for what only the instance's admins (`ADMIN_USERS`) may do.
    pub fn instance_admins_only() -> Self {
        Self::forbidden("forbidden", "only the instance's admins may do this")
    }
    pub fn conflict(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }
    pub fn unprocessable(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Invalid, code, message)
    }
    pub fn too_many(
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
        retry_after: u64,
    ) -> Self {
        Self::new(ErrorKind::RateLimited, code, message).retry_after(retry_after)
    }
    /// `rate_limited` after a limit refused the request; `wait` becomes the retry hint.
    pub fn rate_limited(message: impl Into<Cow<'static, str>>, wait: Duration) -> Self {
        Self::too_many("rate_limited", message, wait.as_secs_f64().ceil() as u64)
    }
    pub fn unavailable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unavailable, "unavailable", message).retry_after(1)
    }
    pub fn internal() -> Self {
        Self::new(ErrorKind::Internal, "internal", "internal server error")
    }
    pub fn with_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }
    /// Seconds to wait before retrying (at least one).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Error::unprocessable(e.code, e.message).with_field(e.field)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::not_found("resource"),
            StoreError::Conflict(what) => {
                Error::conflict("conflict", format!("{what} is already taken"))
            }
            StoreError::Unavailable(detail) => {
                tracing::warn!(%detail, "store unavailable");
                metrics::counter!("store_errors_total", "kind" => "unavailable").increment(1);
                Error::unavailable("the database is unavailable; retry shortly")
            }
            StoreError::Other(detail) => {
                tracing::error!(%detail, "store error");
                metrics::counter!("store_errors_total", "kind" => "other").increment(1);
                Error::internal()
            }
        }
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        tracing::error!(error = %e, "internal error");
        Error::internal()
    }
}

/// Maps `StoreError::NotFound` to a 404 naming `what`; other errors convert as usual.
pub fn not_found(what: &'static str) -> impl Fn(StoreError) -> Error {
    move |e| match e {
        StoreError::NotFound => Error::not_found(what),
        other => other.into(),
    }
}
