//! Opt-in AI, the server side: the provider adapter, and [`AiService`] — everything between a
//! feature and the provider: the bounded queue and concurrency cap, daily budgets, retries with
//! backoff and jitter, the circuit breaker, and metrics. Features (`features.rs`,
//! `assistant.rs`) decide what to ask; nothing here knows about rooms or messages.
//!
//! AI is an untrusted downstream service: every failure becomes a clear [`AiFailure`], callers
//! never wait for it on the message send path, and only redacted text is handed to it.

pub mod assistant;
pub mod features;
pub mod openai;

use crate::config::Config;
use crate::error::Error;
use crate::error::ErrorKind;
use chrono::{DateTime, TimeDelta, Utc};
use justus_core::ai::{
    AiError, AiProvider, Breaker, BreakerConfig, BudgetLedger, BudgetLimits, BudgetScope,
    ChatRequest, Completion, DeltaSink, TokenUsage,
};
use parking_lot::Mutex;
use rand::Rng;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Why an AI request produced no answer, as shown to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AiFailure {
    /// The queue is full.
    Busy,
    Budget {
        scope: &'static str,
        resource: &'static str,
    },
    /// The provider failed (after retries) or the breaker is open.
    Provider(AiError),
}

impl AiFailure {
    /// One sentence for the user (also used as the assistant's in-place error text).
    pub fn user_message(&self) -> String {
        match self {
            AiFailure::Busy => "The assistant is busy right now; try again in a moment.".into(),
            AiFailure::Budget { scope, resource } => format!(
                "The daily AI budget ({resource}) for this {scope} is used up; it resets at midnight UTC."
            ),
            AiFailure::Provider(AiError::CircuitOpen) => {
                "The AI provider is failing; AI is paused for a short while.".into()
            }
            AiFailure::Provider(AiError::Timeout) => {
                "The AI provider did not answer in time.".into()
            }
            AiFailure::Provider(AiError::RateLimited { .. }) => {
                "The AI provider is rate limiting us; try again later.".into()
            }
            AiFailure::Provider(_) => "The AI provider failed to answer.".into(),
        }
    }
}

impl From<AiFailure> for Error {
    fn from(f: AiFailure) -> Self {
        let msg = f.user_message();
        match f {
            AiFailure::Busy => Error {
                retry_after: Some(2),
                ..Error::new(ErrorKind::Unavailable, "ai_busy", msg)
            },
            AiFailure::Budget { .. } => {
                let now = Utc::now();
                let midnight = (now.date_naive() + chrono::Days::new(1))
                    .and_hms_opt(0, 0, 0)
                    .map(|t| t.and_utc())
                    .unwrap_or(now);
                let secs = (midnight - now).num_seconds().max(1) as u64;
                Error::too_many("ai_budget_exceeded", msg, secs)
            }
            AiFailure::Provider(AiError::CircuitOpen) => Error {
                retry_after: Some(10),
                ..Error::new(ErrorKind::Unavailable, "ai_unavailable", msg)
            },
            AiFailure::Provider(AiError::Timeout) => {
                Error::new(ErrorKind::UpstreamTimeout, "ai_timeout", msg)
            }
            AiFailure::Provider(AiError::RateLimited { .. }) => Error {
                retry_after: Some(10),
                ..Error::new(ErrorKind::Unavailable, "ai_rate_limited", msg)
            },
            AiFailure::Provider(_) => Error::new(ErrorKind::Upstream, "ai_upstream_error", msg),
        }
    }
}

/// The error for every AI endpoint when no provider is configured.
pub fn disabled() -> Error {
    Error::new(
        ErrorKind::NotFound,
        "ai_disabled",
        "AI is not configured on this server",
    )
}

/// The provider's prices (`AI_PRICE_*`), in US dollars per million tokens.
#[derive(Clone, Copy, Debug, Default)]
struct Prices {
    prompt_per_million: f64,
    completion_per_million: f64,
}

impl Prices {
    /// The estimated cost of one call in millionths of a dollar (a dollar per million tokens
    /// is a microdollar per token), rounded to the nearest: counters take whole numbers.
    fn microdollars(&self, usage: &TokenUsage) -> u64 {
        let cost = usage.prompt_tokens as f64 * self.prompt_per_million
            + usage.completion_tokens as f64 * self.completion_per_million;
        cost.round().max(0.0) as u64
    }
}

pub struct AiService {
    provider: Arc<dyn AiProvider>,
    breaker: Mutex<Breaker>,
    budgets: Mutex<BudgetLedger>,
    slots: Semaphore,
    /// Requests admitted (waiting or running); bounded by concurrency + queue size.
    admitted: AtomicUsize,
    capacity: usize,
    max_retries: u32,
    retry_base: Duration,
    /// Longest wait we honour from a Retry-After header before giving up instead.
    max_retry_after: Duration,
    user_limits: BudgetLimits,
    room_limits: BudgetLimits,
    prices: Prices,
    pub(crate) context_messages: u32,
    pub(crate) assistant: assistant::Assistant,
    pub(crate) single_flight: features::SingleFlight,
}

impl AiService {
    /// `None` when AI is off (no `AI_PROVIDER`).
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Arc<Self>>> {
        let Some(kind) = config.ai.provider.as_deref() else {
            return Ok(None);
        };
        let timeout = Duration::from_secs_f64(config.ai.timeout_seconds);
        let provider: Arc<dyn AiProvider> = match kind {
            "openai" => Arc::new(openai::OpenAiCompatible::new(
                &config.ai.base_url,
                config.ai.api_key.as_ref().map(|k| k.expose().to_owned()),
                config.ai.model.clone(),
                timeout,
            )?),
            other => anyhow::bail!("AI_PROVIDER `{other}` is not supported"),
        };
        Ok(Some(Arc::new(Self::new(config, provider))))
    }

    pub fn new(config: &Config, provider: Arc<dyn AiProvider>) -> Self {
        let concurrency = config.ai.concurrency.max(1) as usize;
        metrics::gauge!("ai_breaker_state").set(0.0);
        Self {
            provider,
            breaker: Mutex::new(Breaker::new(BreakerConfig {
                failure_threshold: config.ai.breaker_failures,
                open_for: TimeDelta::milliseconds((config.ai.breaker_open_seconds * 1000.0) as i64),
            })),
            budgets: Mutex::new(BudgetLedger::new()),
            slots: Semaphore::new(concurrency),
            admitted: AtomicUsize::new(0),
            capacity: concurrency + config.ai.queue_size as usize,
            max_retries: config.ai.max_retries,
            retry_base: Duration::from_millis(config.ai.retry_base_ms),
            max_retry_after: Duration::from_secs(30),
            user_limits: BudgetLimits {
                requests_per_day: config.ai.user_requests_per_day,
                tokens_per_day: config.ai.user_tokens_per_day,
            },
            room_limits: BudgetLimits {
                requests_per_day: config.ai.room_requests_per_day,
                tokens_per_day: config.ai.room_tokens_per_day,
            },
            prices: Prices {
                prompt_per_million: config.ai.price_prompt_per_million,
                completion_per_million: config.ai.price_completion_per_million,
            },
            context_messages: config.ai.context_messages,
            assistant: assistant::Assistant::default(),
            single_flight: features::SingleFlight::default(),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// Runs one AI request for `feature`, charged to `user` and `room`: admission (queue,
    /// budgets), then attempts with retries under the breaker. `sink` streams the answer.
    pub async fn call(
        &self,
        feature: &'static str,
        user: justus_core::UserId,
        room: justus_core::RoomId,
        req: &ChatRequest,
        sink: Option<&dyn DeltaSink>,
    ) -> Result<Completion, AiFailure> {
        let started = Instant::now();
        let result = self.call_inner(feature, user, room, req, sink).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(AiFailure::Busy) => "busy",
            Err(AiFailure::Budget { .. }) => "budget_exceeded",
            Err(AiFailure::Provider(e)) => e.outcome(),
        };
        metrics::counter!("ai_calls_total", "feature" => feature, "outcome" => outcome)
            .increment(1);
        if !matches!(result, Err(AiFailure::Busy | AiFailure::Budget { .. })) {
            metrics::histogram!("ai_call_duration_seconds", "feature" => feature)
                .record(started.elapsed().as_secs_f64());
        }
        result
    }

    async fn call_inner(
        &self,
        feature: &'static str,
        user: justus_core::UserId,
        room: justus_core::RoomId,
        req: &ChatRequest,
        sink: Option<&dyn DeltaSink>,
    ) -> Result<Completion, AiFailure> {
        // Queue bound first: a refused request costs no budget.
        let _ticket = Admission::enter(&self.admitted, self.capacity).ok_or(AiFailure::Busy)?;
        let scopes = [
            (BudgetScope::User(user), self.user_limits),
            (BudgetScope::Room(room), self.room_limits),
        ];
        self.budgets
            .lock()
            .admit(&scopes, self.now())
            .map_err(|r| {
                let scope = match r.scope {
                    BudgetScope::User(_) => "user",
                    BudgetScope::Room(_) => "room",
                };
                metrics::counter!("ai_budget_refusals_total", "scope" => scope, "resource" => r.resource)
                    .increment(1);
                AiFailure::Budget {
                    scope,
                    resource: r.resource,
                }
            })?;
        let _slot = self.slots.acquire().await.map_err(|_| AiFailure::Busy)?;
        let mut attempt = 0u32;
        loop {
            if !self.breaker_acquire() {
                return Err(AiFailure::Provider(AiError::CircuitOpen));
            }
            let tracker = sink.map(|inner| TrackingSink {
                inner,
                sent: AtomicBool::new(false),
            });
            let result = self
                .provider
                .chat(req, tracker.as_ref().map(|t| t as &dyn DeltaSink))
                .await;
            let streamed = tracker.is_some_and(|t| t.sent.load(Ordering::Relaxed));
            match result {
                Ok(done) => {
                    self.breaker_record(true);
                    let now = self.now();
                    self.budgets.lock().charge_tokens(
                        &[BudgetScope::User(user), BudgetScope::Room(room)],
                        done.usage.total(),
                        now,
                    );
                    metrics::counter!("ai_tokens_total", "feature" => feature, "kind" => "prompt")
                        .increment(done.usage.prompt_tokens);
                    metrics::counter!("ai_tokens_total", "feature" => feature, "kind" => "completion")
                        .increment(done.usage.completion_tokens);
                    let cost = self.prices.microdollars(&done.usage);
                    if cost > 0 {
                        metrics::counter!("ai_cost_microdollars_total", "feature" => feature)
                            .increment(cost);
                    }
                    return Ok(done);
                }
                Err(e) => {
                    // A stream that already showed text must not be replayed into the same
                    // message: only unstarted streams and plain calls are retried.
                    self.breaker_record(false);
                    if !e.retryable() || streamed || attempt >= self.max_retries {
                        tracing::warn!(feature, attempt, error = %e, "AI call failed");
                        return Err(AiFailure::Provider(e));
                    }
                    let wait = self.backoff(attempt, &e);
                    let Some(wait) = wait else {
                        return Err(AiFailure::Provider(e));
                    };
                    metrics::counter!("ai_retries_total", "feature" => feature).increment(1);
                    tracing::debug!(feature, attempt, error = %e, wait_ms = wait.as_millis() as u64, "retrying AI call");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    /// Exponential backoff with full jitter; a Retry-After header wins (if not absurdly long).
    fn backoff(&self, attempt: u32, e: &AiError) -> Option<Duration> {
        if let AiError::RateLimited {
            retry_after: Some(after),
        } = e
        {
            return (*after <= self.max_retry_after).then_some(*after);
        }
        let cap = self.retry_base.saturating_mul(1 << attempt.min(16));
        let jitter = rand::thread_rng().gen_range(0.5..=1.0);
        Some(cap.mul_f64(jitter))
    }

    fn breaker_acquire(&self) -> bool {
        let now = self.now();
        let mut b = self.breaker.lock();
        let ok = b.try_acquire(now);
        metrics::gauge!("ai_breaker_state").set(b.state(now).gauge());
        ok
    }

    fn breaker_record(&self, ok: bool) {
        let now = self.now();
        let mut b = self.breaker.lock();
        if ok {
            b.on_success();
        } else {
            b.on_failure(now);
        }
        metrics::gauge!("ai_breaker_state").set(b.state(now).gauge());
    }
}

/// Remembers whether a stream already delivered text (then a retry would repeat it).
struct TrackingSink<'a> {
    inner: &'a dyn DeltaSink,
    sent: AtomicBool,
}

impl DeltaSink for TrackingSink<'_> {
    fn delta(&self, text: &str) {
        self.sent.store(true, Ordering::Relaxed);
        self.inner.delta(text);
    }
}

/// A place in the bounded queue, given back on drop.
struct Admission<'a>(&'a AtomicUsize);

impl<'a> Admission<'a> {
    fn enter(counter: &'a AtomicUsize, capacity: usize) -> Option<Self> {
        let mut cur = counter.load(Ordering::Relaxed);
        loop {
            if cur >= capacity {
                return None;
            }
            match counter.compare_exchange_weak(cur, cur + 1, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => {
                    metrics::gauge!("ai_queue_depth").set((cur + 1) as f64);
                    return Some(Self(counter));
                }
                Err(now) => cur = now,
            }
        }
    }
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        let left = self.0.fetch_sub(1, Ordering::AcqRel).saturating_sub(1);
        metrics::gauge!("ai_queue_depth").set(left as f64);
    }
}

#[cfg(test)]
mod price_tests {
    use super::*;

    #[test]
    fn cost_is_tokens_times_the_price_per_million_in_microdollars() {
        let prices = Prices {
            prompt_per_million: 2.5,
            completion_per_million: 10.0,
        };
        let usage = |prompt_tokens, completion_tokens| TokenUsage {
            prompt_tokens,
            completion_tokens,
        };
        assert_eq!(prices.microdollars(&usage(10, 5)), 75);
        // A million prompt tokens at $2.50 is $2.50.
        assert_eq!(prices.microdollars(&usage(1_000_000, 0)), 2_500_000);
        assert_eq!(
            prices.microdollars(&usage(1, 0)),
            3,
            "rounded to the nearest"
        );
        assert_eq!(Prices::default().microdollars(&usage(10, 5)), 0);
    }
}
