//! Error types of the domain.
//!
//! Policy: adapters map their driver errors into [`StoreError`] (a tiny, matchable set);
//! validation failures are [`ValidationError`] with a stable `code` the API returns verbatim.
//! The HTTP layer owns the mapping to status codes, in one place.

use std::fmt;

/// Failure of a Store operation.
#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was violated; the string names it (e.g. `username`, `email`).
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// The database cannot be reached or is shutting down: the caller may retry.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store error: {0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// An input that fails a domain rule. `field` names the offending input, `code` is a stable
/// machine-readable reason and `message` is for humans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ValidationError {}
