//! Traces across two instances: a real OTLP/HTTP receiver (this file's, decoding with the
//! official protobuf definitions from `opentelemetry-proto`) collects what both instances
//! export, and the test checks the span tree of one send: the client's span → the gateway op
//! (or REST request) → the use case → the store → the bus publish on one instance, and the bus
//! receive → the fan-out on the other; `trace_id` in the log lines; no message text in any span.

use super::*;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message as _;

/// One span as received, flattened.
#[derive(Clone, Debug)]
struct Got {
    trace: String,
    id: String,
    parent: String,
    name: String,
    /// OTLP `SpanKind`: 2 server, 3 client, 4 producer, 5 consumer.
    kind: i32,
    attrs: HashMap<String, String>,
    /// The exporting process (`service.instance.id`).
    instance: String,
    /// OTLP status code: 2 is error.
    status: i32,
}

fn text(v: &Option<AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

fn attrs(kvs: &[KeyValue]) -> HashMap<String, String> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), text(&kv.value)))
        .collect()
}

type Received = Arc<parking_lot::Mutex<Vec<Got>>>;

/// Starts the receiver; returns its base URL (for `OTEL_EXPORTER_OTLP_ENDPOINT`).
async fn otlp_receiver(received: Received) -> String {
    use axum::body::Bytes;
    use axum::http::header::CONTENT_TYPE;
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: Bytes| {
            let received = received.clone();
            async move {
                let Ok(req) = ExportTraceServiceRequest::decode(body) else {
                    return (axum::http::StatusCode::BAD_REQUEST, Vec::new());
                };
                let mut got = received.lock();
                for rs in req.resource_spans {
                    let resource = rs
                        .resource
                        .map(|r| attrs(&r.attributes))
                        .unwrap_or_default();
                    let instance = resource
                        .get("service.instance.id")
                        .cloned()
                        .unwrap_or_default();
                    assert_eq!(
                        resource.get("service.name").map(String::as_str),
                        Some("justus")
                    );
                    for ss in rs.scope_spans {
                        for s in ss.spans {
                            got.push(Got {
                                trace: hex::encode(&s.trace_id),
                                id: hex::encode(&s.span_id),
                                parent: hex::encode(&s.parent_span_id),
                                name: s.name.clone(),
                                kind: s.kind,
                                attrs: attrs(&s.attributes),
                                instance: instance.clone(),
                                status: s.status.map(|st| st.code).unwrap_or(0),
                            });
                        }
                    }
                }
                (
                    axum::http::StatusCode::OK,
                    ExportTraceServiceResponse::default().encode_to_vec(),
                )
            }
        }),
    );
    let app = app.layer(axum::middleware::map_response(
        |mut res: axum::response::Response| async move {
            res.headers_mut().insert(
                CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/x-protobuf"),
            );
            res
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// Waits until the trace `trace` holds spans satisfying `done`; returns that trace's spans.
async fn trace_of(received: &Received, trace: &str, done: impl Fn(&[Got]) -> bool) -> Vec<Got> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let spans: Vec<Got> = received
            .lock()
            .iter()
            .filter(|s| s.trace == trace)
            .cloned()
            .collect();
        if done(&spans) {
            return spans;
        }
        assert!(
            Instant::now() < deadline,
            "trace {trace} incomplete: {:#?}",
            spans
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn named<'a>(spans: &'a [Got], name: &str) -> Vec<&'a Got> {
    spans.iter().filter(|s| s.name == name).collect()
}

/// The one span named `name`, child of `parent` (by span id).
fn child<'a>(spans: &'a [Got], parent: &Got, name: &str) -> &'a Got {
    let found: Vec<&Got> = spans
        .iter()
        .filter(|s| s.name == name && s.parent == parent.id)
        .collect();
    assert!(
        !found.is_empty(),
        "no {name} under {} ({}): {spans:#?}",
        parent.name,
        parent.id
    );
    found[0]
}

/// Whether `span` descends from `ancestor` within `spans`.
fn descends(spans: &[Got], span: &Got, ancestor: &Got) -> bool {
    let mut at = span;
    for _ in 0..32 {
        if at.parent == ancestor.id {
            return true;
        }
        match spans.iter().find(|s| s.id == at.parent) {
            Some(p) => at = p,
            None => return false,
        }
    }
    false
}

fn traceparent() -> (String, String, String) {
    let trace = hex::encode(rand::random::<[u8; 16]>());
    let parent = hex::encode(rand::random::<[u8; 8]>());
    (format!("00-{trace}-{parent}-01"), trace, parent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_send_is_one_trace_across_two_instances() {
    let _g = SERIAL.lock().await;
    let received: Received = Arc::default();
    let endpoint: &'static str = Box::leak(otlp_receiver(received.clone()).await.into_boxed_str());
    let Some(c) = Cluster::start_with(
        2,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            // Export within 100 ms instead of 5 s.
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("JUSTUS_LOG", "info"),
        ],
    )
    .await
    else {
        return;
    };
    let (mut cl, rooms) = population(&c, 2, 1).await;
    let room = rooms[0].clone();
    for x in cl.iter_mut() {
        x.ensure_connected(&c.live).await;
    }

    // Over the gateway: client 0 (instance 0) sends with its own traceparent; client 1
    // (instance 1) receives it.
    let (tp, trace, client_span) = traceparent();
    let body = format!("confidential words {}", uuid::Uuid::now_v7().simple());
    assert!(
        cl[0]
            .send_raw(json!({
                "op": "send", "id": "traced", "traceparent": tp,
                "d": {"room_id": room, "client_id": uuid::Uuid::now_v7().to_string(), "body": body},
            }))
            .await
    );
    let ack = cl[0]
        .wait_for(&c.live, Duration::from_secs(10), |v| v["id"] == "traced")
        .await
        .expect("ack");
    assert_eq!(ack["op"], "ack", "{ack}");
    let body_seen = body.clone();
    cl[1]
        .wait_for(&c.live, Duration::from_secs(10), |v| {
            v["op"] == "event" && v["d"]["message"]["body"] == body_seen.as_str()
        })
        .await
        .expect("the message crossed instances");

    let spans = trace_of(&received, &trace, |s| {
        !named(s, "fanout").is_empty()
            && named(s, "bus receive")
                .iter()
                .any(|r| s.iter().any(|f| f.name == "fanout" && f.parent == r.id))
            && !named(s, "send_message").is_empty()
    })
    .await;
    let op = named(&spans, "ws send")[0];
    assert_eq!(op.parent, client_span, "the op continues the client's span");
    assert_eq!(op.kind, 2, "server span");
    assert_eq!(op.attrs["gateway.op"], "send");
    let commit = child(&spans, op, "chat.messages.commit_send");
    let store = child(&spans, commit, "send_message");
    assert_eq!(store.kind, 3, "client span");
    assert_eq!(store.attrs["db.system.name"], "postgresql");
    assert_eq!(store.attrs["db.operation.name"], "send_message");
    let batch = child(&spans, store, "send_batch");
    assert!(
        batch.attrs["db.operation.batch.size"]
            .parse::<u32>()
            .unwrap_or(0)
            >= 1
    );
    let prepare = child(&spans, op, "chat.messages.prepare_send");
    assert!(
        spans
            .iter()
            .any(|s| s.parent == prepare.id && s.attrs.contains_key("db.operation.name")),
        "the checks before the send query the store"
    );
    let publish = named(&spans, "bus publish")
        .into_iter()
        .find(|p| descends(&spans, p, commit))
        .expect("the commit publishes on the bus");
    assert_eq!(publish.kind, 4, "producer span");
    assert_eq!(publish.instance, op.instance);
    let receive = spans
        .iter()
        .find(|s| s.name == "bus receive" && s.parent == publish.id)
        .expect("the other instance continues the publishing span");
    assert_eq!(receive.kind, 5, "consumer span");
    assert_ne!(
        receive.instance, op.instance,
        "received on the other instance"
    );
    let remote_fanout = child(&spans, receive, "fanout");
    assert_eq!(remote_fanout.instance, receive.instance);
    // The sender's own instance fans out too, inside the commit.
    assert!(
        named(&spans, "fanout")
            .iter()
            .any(|f| f.instance == op.instance && descends(&spans, f, commit))
    );
    assert!(
        spans.iter().all(|s| s.status != 2),
        "nothing failed: {spans:#?}"
    );
    assert!(
        spans.iter().all(|s| !s.attrs.contains_key("target")),
        "no tracing internals exported"
    );

    // Over REST, with a traceparent header: the request span continues it, and the log line
    // of that request carries the trace id.
    let (tp, trace, client_span) = traceparent();
    let res = http()
        .post(format!("{}/api/v1/rooms/{room}/messages", c.base(0)))
        .bearer_auth(&cl[0].token)
        .header("traceparent", &tp)
        .json(&json!({"client_id": uuid::Uuid::now_v7().to_string(), "body": body}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::CREATED);
    let spans = trace_of(&received, &trace, |s| {
        named(s, "bus receive")
            .iter()
            .any(|r| s.iter().any(|f| f.name == "fanout" && f.parent == r.id))
    })
    .await;
    let request = *named(&spans, "POST /api/v1/rooms/{id}/messages")
        .first()
        .unwrap_or_else(|| panic!("no request span: {spans:#?}"));
    assert_eq!(request.parent, client_span);
    assert_eq!(request.attrs["http.response.status_code"], "201");
    assert_eq!(request.attrs["http.route"], "/api/v1/rooms/{id}/messages");
    child(&spans, request, "chat.messages.send");
    let logged = c.instances[0]
        .as_ref()
        .expect("instance 0 up")
        .log
        .lock()
        .iter()
        .any(|l| {
            l.contains(&format!("\"trace_id\":\"{trace}\"")) && l.contains("request finished")
        });
    assert!(logged, "the request's log line carries its trace id");

    // Statement names only, never values: no span anywhere holds the message text.
    let all = received.lock().clone();
    assert!(
        all.iter()
            .all(|s| s.attrs.values().all(|v| !v.contains("confidential"))),
        "a span attribute holds the message body"
    );
    // Probes are not traced.
    assert!(
        all.iter()
            .all(|s| !s.name.contains("/ready") && !s.name.contains("/health"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_an_endpoint_nothing_is_propagated() {
    let _g = SERIAL.lock().await;
    let Some(c) = Cluster::start(2).await else {
        return;
    };
    let (mut cl, rooms) = population(&c, 2, 1).await;
    let room = rooms[0].clone();
    for x in cl.iter_mut() {
        x.ensure_connected(&c.live).await;
    }
    // A Redis client of our own sees what instance 0 publishes: no trace field.
    let mut sub = redis::Client::open(c.redis.url())
        .expect("redis url")
        .get_async_pubsub()
        .await
        .expect("pubsub");
    sub.subscribe(format!("{}:room:{room}", c.prefix))
        .await
        .expect("subscribe");
    let mut stream = sub.on_message();
    let (tp, _, _) = traceparent();
    assert!(
        cl[0]
            .send_raw(json!({
                "op": "send", "id": "x", "traceparent": tp,
                "d": {"room_id": room, "client_id": uuid::Uuid::now_v7().to_string(), "body": "plain"},
            }))
            .await
    );
    let msg = tokio::time::timeout(
        Duration::from_secs(10),
        futures::StreamExt::next(&mut stream),
    )
    .await
    .expect("published")
    .expect("a message");
    let payload: String = msg.get_payload().expect("text");
    let v: Value = serde_json::from_str(&payload).expect("json");
    assert!(v.get("t").is_none(), "no traceparent on the bus: {payload}");
    assert!(v["m"]["event"].is_object(), "{payload}");
}
