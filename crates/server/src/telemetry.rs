//! Logs and metrics.
//!
//! Logs: one JSON object per line with `timestamp`, `severity` (Cloud Logging names), `message`,
//! `target`, the fields of enclosing spans (`request_id`, `trace_id`, `user_id`, …) and the
//! event's own fields; with traces exported, `trace_id` and `span_id` are those of the
//! current span (crate::traces). Nothing logs passwords, tokens or message bodies: handlers never put
//! them in fields, and request/response bodies are not logged.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::{Map, Value};
use std::fmt;
use std::sync::OnceLock;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer, prelude::*};

/// Installs the global logger (and the trace exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` is
/// set, see [`crate::traces`]). `format` is `json` or `pretty`. Keep the guard until shutdown:
/// dropping it flushes the spans not yet exported.
pub fn init_logging(filter: &str, format: &str) -> anyhow::Result<Option<crate::traces::Guard>> {
    let filter = EnvFilter::try_new(filter)
        .map_err(|e| anyhow::anyhow!("invalid JUSTUS_LOG filter: {e}"))?;
    // Without traces the filter is global, as cheap as it gets: every disabled call site (the
    // exporter's spans included) is never asked again. With traces it is the log layer's own:
    // the exporter's spans (DEBUG, `traces::TARGET`) are never formatted as logs, and the log
    // filter does not hide them from the exporter.
    macro_rules! install {
        ($logs:expr) => {
            match crate::traces::layer()? {
                None => {
                    tracing_subscriber::registry()
                        .with(filter)
                        .with($logs)
                        .try_init()?;
                    Ok(None)
                }
                Some((traces, guard)) => {
                    tracing_subscriber::registry()
                        .with($logs.with_filter(filter))
                        .with(traces)
                        .try_init()?;
                    Ok(Some(guard))
                }
            }
        };
    }
    if format == "pretty" {
        install!(
            tracing_subscriber::fmt::layer()
                .with_target(false)
                .with_writer(|| LossyStdout)
                .log_internal_errors(false)
        )
    } else {
        install!(
            tracing_subscriber::fmt::layer()
                .fmt_fields(JsonFields::new())
                .event_format(JsonLines)
                .with_writer(|| LossyStdout)
                .log_internal_errors(false)
        )
    }
}

/// Stdout that never fails its writer: a line that cannot be written (disk full, a closed
/// pipe, `/dev/full`) is dropped and counted in `log_write_failures_total`. Logging must not
/// take the server down, nor block it on an error path.
pub struct LossyStdout;

impl std::io::Write for LossyStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut out = std::io::stdout().lock();
        // Whole lines, flushed at once: a failed line is then dropped whole.
        if out.write_all(buf).and_then(|()| out.flush()).is_err() {
            metrics::counter!("log_write_failures_total").increment(1);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Prints one line on stdout for people (e.g. where we serve); never fails, like the logs.
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(LossyStdout, "{line}");
}

/// The process-wide Prometheus recorder (installed on first use).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ])
                // AI calls take seconds, not milliseconds.
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        metrics_exporter_prometheus::Matcher::Full(
                            "ai_call_duration_seconds".into(),
                        ),
                        &[0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 60.0, 120.0],
                    )
                })
                .map(|b| b.build_recorder())
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            // Fails only if another recorder is installed, in which case ours just stays unused.
            let _ = metrics::set_global_recorder(recorder);
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(
        "http_requests_total",
        "HTTP requests by method, route and status"
    );
    metrics::describe_histogram!(
        "http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP latency by method and route"
    );
    metrics::describe_counter!("auth_logins_total", "Login attempts by outcome");
    metrics::describe_counter!(
        "auth_throttled_total",
        "Login attempts refused by throttling"
    );
    metrics::describe_counter!(
        "auth_password_hashes_total",
        "Argon2 runs by op (hash, verify); unknown accounts verify against a dummy"
    );
    metrics::describe_counter!("auth_registrations_total", "Registrations by outcome");
    metrics::describe_counter!("auth_refresh_total", "Refresh-token exchanges by outcome");
    metrics::describe_counter!(
        "auth_token_rejections_total",
        "Access tokens refused, by reason"
    );
    metrics::describe_counter!("store_errors_total", "Database errors by kind");
    metrics::describe_counter!(
        "log_write_failures_total",
        "Log lines (and stdout lines) dropped because stdout could not be written"
    );
    metrics::describe_gauge!("db_pool_connections", "Open database connections");
    metrics::describe_gauge!("db_pool_idle_connections", "Idle database connections");
    metrics::describe_counter!("ai_calls_total", "AI requests by feature and outcome");
    metrics::describe_histogram!(
        "messages_persist_seconds",
        metrics::Unit::Seconds,
        "Time a send waits for its commit (queue and transaction)"
    );
    metrics::describe_histogram!(
        "bus_event_age_seconds",
        metrics::Unit::Seconds,
        "Age of an event from another instance when it arrives over Redis"
    );
    metrics::describe_histogram!(
        "ai_call_duration_seconds",
        metrics::Unit::Seconds,
        "AI request latency (retries included) by feature"
    );
    metrics::describe_counter!("ai_tokens_total", "AI tokens used, by feature and kind");
    metrics::describe_counter!(
        "ai_cost_microdollars_total",
        "Estimated AI spend in millionths of a US dollar (AI_PRICE_*), by feature"
    );
    metrics::describe_counter!(
        "retention_purged_messages_total",
        "Messages purged by retention (RETENTION_DAYS, rooms' retention_days)"
    );
    metrics::describe_counter!(
        "retention_purged_files_total",
        "Uploads whose bytes a retention purge removed"
    );
    metrics::describe_counter!(
        "retention_failures_total",
        "Retention passes that failed (retried at the next interval)"
    );
    metrics::describe_counter!(
        "ai_budget_refusals_total",
        "AI requests refused by a daily budget"
    );
    metrics::describe_counter!("ai_retries_total", "AI provider attempts retried");
    metrics::describe_gauge!(
        "ai_breaker_state",
        "AI circuit breaker: 0 closed, 1 half-open, 2 open"
    );
    metrics::describe_gauge!(
        "ai_queue_depth",
        "AI requests admitted (waiting or running)"
    );
    metrics::describe_counter!(
        "ai_translation_cache_total",
        "Translation cache hits and misses"
    );
}

struct JsonLines;

fn severity(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "DEBUG",
    }
}

struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::from(format!("{value:?}")));
    }
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut obj = Map::new();
        obj.insert(
            "timestamp".into(),
            Value::from(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        obj.insert("severity".into(), Value::from(severity(meta.level())));
        obj.insert("target".into(), Value::from(meta.target()));
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let ext = span.extensions();
                if let Some(fields) = ext.get::<FormattedFields<N>>()
                    && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(fields.as_str())
                {
                    obj.extend(map);
                }
            }
        }
        // With traces exported, the ids are the exported span's: a log line leads to its trace.
        if let Some((trace_id, span_id)) = crate::traces::current_ids() {
            obj.insert("trace_id".into(), Value::from(trace_id));
            obj.insert("span_id".into(), Value::from(span_id));
        }
        event.record(&mut Fields(&mut obj));
        writeln!(writer, "{}", Value::Object(obj))
    }
}
