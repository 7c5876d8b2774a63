//! The `AiProvider` port: chat completion, optionally streamed as deltas, with token usage.

use async_trait::async_trait;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatRole {
    System,
    User,
    Assistant,
}

impl ChatRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatRole::System => "system",
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: ChatRole::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: ChatRole::User,
            content: content.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    /// Upper bound on the completion's length.
    pub max_tokens: u32,
    pub temperature: f32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl TokenUsage {
    pub fn total(&self) -> u64 {
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    pub usage: TokenUsage,
}

/// Why a call failed. [`AiError::retryable`] decides whether the adapter tries again.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AiError {
    #[error("the AI provider did not answer in time")]
    Timeout,
    #[error("the AI provider is rate limiting us")]
    RateLimited { retry_after: Option<Duration> },
    #[error("the AI provider failed (HTTP {status})")]
    Upstream { status: u16 },
    #[error("cannot reach the AI provider: {0}")]
    Transport(String),
    #[error("the AI provider sent an unusable answer: {0}")]
    BadResponse(String),
    #[error("the AI provider is failing; not calling it for a while")]
    CircuitOpen,
}

impl AiError {
    /// Transient failures worth another attempt: timeouts, 429, 5xx, connection errors.
    pub fn retryable(&self) -> bool {
        match self {
            AiError::Timeout | AiError::RateLimited { .. } | AiError::Transport(_) => true,
            AiError::Upstream { status } => *status >= 500,
            AiError::BadResponse(_) | AiError::CircuitOpen => false,
        }
    }

    /// Short label for metrics.
    pub fn outcome(&self) -> &'static str {
        match self {
            AiError::Timeout => "timeout",
            AiError::RateLimited { .. } => "rate_limited",
            AiError::Upstream { .. } => "upstream_error",
            AiError::Transport(_) => "transport_error",
            AiError::BadResponse(_) => "bad_response",
            AiError::CircuitOpen => "circuit_open",
        }
    }
}

/// Receives streamed text as it arrives, in order.
pub trait DeltaSink: Send + Sync {
    fn delta(&self, text: &str);
}

#[async_trait]
pub trait AiProvider: Send + Sync + 'static {
    /// One attempt (no retries: the caller owns the retry and breaker policy). With `sink`,
    /// the completion is streamed and every delta goes to it before the call returns the whole.
    async fn chat(
        &self,
        req: &ChatRequest,
        sink: Option<&dyn DeltaSink>,
    ) -> Result<Completion, AiError>;
}
