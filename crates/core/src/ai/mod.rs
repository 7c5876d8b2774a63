//! Opt-in AI, the pure parts: the [`AiProvider`] port, redaction of personal data before any
//! text leaves for a provider, prompt building that keeps instructions apart from quoted user
//! content, daily budgets, the circuit breaker and language tags. No I/O here; time is a value.

pub mod breaker;
pub mod budget;
pub mod lang;
pub mod prompt;
pub mod provider;
pub mod redact;

pub use breaker::{Breaker, BreakerConfig, BreakerState};
pub use budget::{BudgetLedger, BudgetLimits, BudgetRefusal, BudgetScope};
pub use lang::parse_language_tag;
pub use provider::{
    AiError, AiProvider, ChatMessage, ChatRequest, ChatRole, Completion, DeltaSink, TokenUsage,
};
pub use redact::{RedactionMap, redact};

/// A user's AI preferences (per account; nothing is sent anywhere because of them alone).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AiPrefs {
    /// BCP-47 tag, normalised by [`parse_language_tag`].
    pub preferred_language: Option<String>,
    pub auto_translate: bool,
}
