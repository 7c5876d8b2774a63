//! OpenTelemetry traces: the OTLP exporter, W3C trace context in and out, and the spans that
//! cross a task, a queue or a process.
//!
//! Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set;
//! the exporter and the SDK read the standard `OTEL_*` variables themselves (headers, timeout,
//! sampler, batch delay, service name and resource attributes). While off, the spans below are
//! disabled at their call sites (one cached check each) and nothing is propagated.
//!
//! Every exported span has the target [`TARGET`] and level DEBUG, so the log filter
//! (`JUSTUS_LOG`, INFO by default) never formats them and the exporter sees nothing else. The
//! tree of one request or gateway op: the server span (`GET /api/v1/...`, `ws send`), the use
//! case (`chat.*`), one span per store call or batch (`db.system.name`, `db.operation.name`:
//! the statement's name, never its values), the bus publish (until Redis has it), and on every
//! other instance the bus receive and the fan-out to its sockets.

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::registry::LookupSpan;

/// The target of every span meant for the exporter (and of nothing else).
pub const TARGET: &str = "justus::trace";

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported (set once, at start-up).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Flushes and stops the exporter when dropped (at shutdown): spans still queued are sent.
pub struct Guard(SdkTracerProvider);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.shutdown();
    }
}

/// Whether the environment asks for traces: an OTLP endpoint is set and neither
/// `OTEL_SDK_DISABLED=true` nor `OTEL_TRACES_EXPORTER=none` turns them off.
pub fn configured(env: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| env(name).is_some_and(|v| !v.trim().is_empty());
    (set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
        && !env("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        && !env("OTEL_TRACES_EXPORTER").is_some_and(|v| v.trim().eq_ignore_ascii_case("none"))
}

/// The exporting layer, when [`configured`]: OTLP over HTTP with protobuf, batched on the
/// SDK's own thread (an unreachable collector never slows a request; full batches are dropped
/// by the SDK, which counts them in its own log).
pub fn layer<S>() -> anyhow::Result<Option<(impl Layer<S>, Guard)>>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    if !configured(|name| std::env::var(name).ok()) {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|e| anyhow::anyhow!("OTEL_EXPORTER_OTLP_ENDPOINT: {e}"))?;
    let mut resource = opentelemetry_sdk::Resource::builder()
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_attribute(opentelemetry::KeyValue::new(
            "service.instance.id",
            uuid::Uuid::now_v7().to_string(),
        ));
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("justus");
    }
    let provider = SdkTracerProvider::builder()
        .with_sampler(EdgeRoots(
            opentelemetry_sdk::trace::Config::default().sampler,
        ))
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build();
    let tracer = provider.tracer("justus");
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_target(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_filter(Targets::new().with_target(TARGET, tracing::Level::DEBUG));
    ENABLED.store(true, Ordering::Relaxed);
    Ok(Some((layer, Guard(provider))))
}

/// Traces start only where work enters the process (a request, an op, a bus message); a store
/// call or a fan-out outside any of them (a sweep, a catch-up) is not a trace of its own.
/// Everything else is decided by the sampler the environment configures (`OTEL_TRACES_SAMPLER`,
/// parent-based always-on by default).
#[derive(Clone, Debug)]
struct EdgeRoots(Box<dyn opentelemetry_sdk::trace::ShouldSample>);

impl opentelemetry_sdk::trace::ShouldSample for EdgeRoots {
    fn should_sample(
        &self,
        parent: Option<&opentelemetry::Context>,
        trace_id: opentelemetry::trace::TraceId,
        name: &str,
        kind: &opentelemetry::trace::SpanKind,
        attributes: &[opentelemetry::KeyValue],
        links: &[opentelemetry::trace::Link],
    ) -> opentelemetry_sdk::trace::SamplingResult {
        use opentelemetry::trace::SpanKind;
        use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult};
        let has_parent = parent.is_some_and(|cx| cx.span().span_context().is_valid());
        if !has_parent && !matches!(kind, SpanKind::Server | SpanKind::Consumer) {
            return SamplingResult {
                decision: SamplingDecision::Drop,
                attributes: Vec::new(),
                trace_state: Default::default(),
            };
        }
        self.0
            .should_sample(parent, trace_id, name, kind, attributes, links)
    }
}

/// Makes `span` the child of the caller's span named by a W3C `traceparent`. An absent or
/// malformed one leaves `span` a root (W3C: start a new trace).
pub fn continue_from(span: &Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent.filter(|_| !span.is_disabled()) else {
        return;
    };
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let cx = TraceContextPropagator::new().extract(&carrier);
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}

/// The W3C `traceparent` naming `span`, to hand to the next process; `None` while traces are
/// off or the span is not recorded.
pub fn traceparent(span: &Span) -> Option<String> {
    if !enabled() || span.is_disabled() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&span.context(), &mut carrier);
    carrier.remove("traceparent")
}

/// The trace and span ids (hex) of the current span, for log lines.
pub fn current_ids() -> Option<(String, String)> {
    if !enabled() {
        return None;
    }
    let span = Span::current();
    if span.is_disabled() {
        return None;
    }
    let cx = span.context();
    let sc = cx.span().span_context().clone();
    sc.is_valid()
        .then(|| (sc.trace_id().to_string(), sc.span_id().to_string()))
}

/// The trace id (hex) of `span`, once it is recorded.
pub fn trace_id(span: &Span) -> Option<String> {
    if !enabled() || span.is_disabled() {
        return None;
    }
    let sc = span.context().span().span_context().clone();
    sc.is_valid().then(|| sc.trace_id().to_string())
}

/// The span of one REST request, child of the caller's `traceparent` when it sent one.
/// Probes (`/health`, `/ready`, `/metrics`) are not traced: they would bury the requests.
pub fn http_request(method: &http::Method, route: &str, traceparent: Option<&str>) -> Span {
    if !enabled() || matches!(route, "/health" | "/ready" | "/metrics") {
        return Span::none();
    }
    let span = tracing::debug_span!(
        target: "justus::trace",
        parent: None,
        "http request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = route,
        http.response.status_code = tracing::field::Empty,
    );
    continue_from(&span, traceparent);
    span
}

/// The span of one gateway request, child of the client's `traceparent` when it sent one.
pub fn gateway_op(op: &'static str, user: justus_core::UserId, traceparent: Option<&str>) -> Span {
    let span = tracing::debug_span!(
        target: "justus::trace",
        parent: None,
        "gateway op",
        otel.name = %format_args!("ws {op}"),
        otel.kind = "server",
        gateway.op = op,
        user_id = %user,
    );
    continue_from(&span, traceparent);
    span
}

/// Whether the current span is exported: work done now belongs to a trace.
pub fn active() -> bool {
    enabled() && opentelemetry::Context::current().has_active_span()
}

/// The span of a message published on the bus, in the current trace; it ends when Redis has
/// the message (the publish queue and the round trip). Disabled outside a trace.
pub fn bus_publish() -> Span {
    if !active() {
        return Span::none();
    }
    tracing::debug_span!(
        target: "justus::trace",
        "bus publish",
        otel.kind = "producer",
        messaging.system = "redis",
        messaging.operation.type = "send",
    )
}

/// The span of a bus message from another instance, child of the publishing span.
pub fn bus_receive(traceparent: &str) -> Span {
    let span = tracing::debug_span!(
        target: "justus::trace",
        parent: None,
        "bus receive",
        otel.kind = "consumer",
        messaging.system = "redis",
        messaging.operation.type = "process",
    );
    continue_from(&span, Some(traceparent));
    span
}

/// The span of one event's fan-out to this instance's sockets. Disabled outside a trace.
pub fn fanout(seq: i64) -> Span {
    if !active() {
        return Span::none();
    }
    tracing::debug_span!(target: "justus::trace", "fanout", event.seq = seq)
}

/// Marks `span` failed (OpenTelemetry status `ERROR`) with a short, value-free description.
pub fn fail(span: &Span, code: &str) {
    if !span.is_disabled() {
        span.set_status(opentelemetry::trace::Status::error(code.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn traces_are_on_only_with_an_endpoint_and_not_turned_off() {
        assert!(!configured(env(&[])));
        assert!(!configured(env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")])));
        assert!(configured(env(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://collector:4318"
        )])));
        assert!(configured(env(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://collector:4318/v1/traces"
        )])));
        assert!(!configured(env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            ("OTEL_SDK_DISABLED", "TRUE"),
        ])));
        assert!(!configured(env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ])));
    }

    #[test]
    fn nothing_propagates_while_traces_are_off() {
        let span = tracing::info_span!("x");
        assert_eq!(traceparent(&span), None);
        assert_eq!(trace_id(&span), None);
        assert_eq!(current_ids(), None);
    }
}
