//! The Redis bus: many `justus` processes share one Redis for cross-process fan-out.
//!
//! - Publishing delivers to this process's hub at once, then hands the encoded message to one
//!   publisher task that pipelines `PUBLISH`es over a single multiplexed connection. A full
//!   queue or a Redis error drops the message (counted): the database is the truth and other
//!   processes catch up (see [`BusMessage::Resync`]): once publishing works again, the process
//!   announces that it dropped messages, and every peer refills its sockets from the store.
//! - One subscriber connection per process (never per socket) listens to the shared channel and
//!   to the channels of the rooms that have local sockets; the hub reports those as they change
//!   (reference counting lives in the hub's subscriber sets). After a reconnect it resubscribes
//!   everything and tells the process to catch up from the store.
//! - Plain `SUBSCRIBE`, not sharded `SSUBSCRIBE`: with one Redis primary they are the same, and
//!   the async pub/sub connection of the `redis` crate speaks only the former. Redis Cluster
//!   would need the cluster client's sharded pub/sub; see docs/operations.md.

use super::wire::{self, Route};
use crate::traces;
use futures_util::StreamExt;
use justus_core::RoomId;
use justus_core::bus::{Bus, BusHealth, BusMessage, BusSink, InstanceId};
use parking_lot::{Mutex, RwLock};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// Messages waiting for the publisher task; beyond this they are dropped (and counted).
const PUBLISH_QUEUE: usize = 65_536;
/// Largest pipeline of `PUBLISH`es sent in one round trip.
const PUBLISH_BATCH: usize = 512;
const IO_TIMEOUT: Duration = Duration::from_secs(3);
/// How often the subscriber connection proves it is alive.
const PING_EVERY: Duration = Duration::from_secs(5);
/// Channels per SUBSCRIBE command when resubscribing many rooms.
const SUBSCRIBE_CHUNK: usize = 1_000;

struct Shared {
    instance: InstanceId,
    prefix: String,
    sinks: RwLock<Vec<Arc<dyn BusSink>>>,
    subscribed: AtomicBool,
    publish_error: Mutex<Option<String>>,
}

impl Shared {
    fn deliver(&self, msg: BusMessage) {
        let sinks = self.sinks.read();
        if let Some((last, rest)) = sinks.split_last() {
            for sink in rest {
                sink.deliver(msg.clone());
            }
            last.deliver(msg);
        }
    }
}

pub struct RedisBus {
    shared: Arc<Shared>,
    out: mpsc::Sender<Outgoing>,
    interest: mpsc::UnboundedSender<(RoomId, bool)>,
}

impl RedisBus {
    /// Starts the publisher and subscriber tasks. Never waits for Redis: while it is away the
    /// bus reports itself degraded and keeps retrying.
    pub fn start(url: &str, prefix: &str, instance: InstanceId) -> anyhow::Result<Arc<Self>> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("REDIS_URL is not a valid Redis URL: {e}"))?;
        let shared = Arc::new(Shared {
            instance,
            prefix: prefix.to_owned(),
            sinks: RwLock::new(Vec::new()),
            subscribed: AtomicBool::new(false),
            publish_error: Mutex::new(None),
        });
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(IO_TIMEOUT))
            .set_response_timeout(Some(IO_TIMEOUT))
            .set_max_delay(Duration::from_secs(2));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
        let (out, out_rx) = mpsc::channel(PUBLISH_QUEUE);
        let (interest, interest_rx) = mpsc::unbounded_channel();
        tokio::spawn(publisher(shared.clone(), conn, out_rx));
        tokio::spawn(subscriber(shared.clone(), client, interest_rx));
        Ok(Arc::new(Self {
            shared,
            out,
            interest,
        }))
    }
}

/// An encoded message for the publisher task, with its span (`traces::bus_publish`), which
/// ends once Redis has it.
type Outgoing = (Route, String, tracing::Span);

impl Bus for RedisBus {
    fn publish(&self, msg: BusMessage) {
        let span = traces::bus_publish();
        if let Some((route, payload)) = wire::encode(
            self.shared.instance,
            &msg,
            traces::traceparent(&span).as_deref(),
        ) && self.out.try_send((route, payload, span)).is_err()
        {
            metrics::counter!("bus_errors_total", "op" => "publish_queue_full").increment(1);
            // Peers will be told to catch up once publishing flows again.
            self.shared
                .publish_error
                .lock()
                .get_or_insert_with(|| "publish queue full".into());
        }
        self.shared.deliver(msg);
    }

    fn attach(&self, sink: Arc<dyn BusSink>) {
        self.shared.sinks.write().push(sink);
    }

    fn set_room_interest(&self, room: RoomId, interested: bool) {
        let _ = self.interest.send((room, interested));
    }

    fn is_shared(&self) -> bool {
        true
    }

    fn health(&self) -> BusHealth {
        if !self.shared.subscribed.load(Ordering::Acquire) {
            return BusHealth::Degraded("redis: subscriber disconnected".into());
        }
        match self.shared.publish_error.lock().as_ref() {
            Some(e) => BusHealth::Degraded(format!("redis: publish failed: {e}")),
            None => BusHealth::Ok,
        }
    }
}

async fn publisher(
    shared: Arc<Shared>,
    mut conn: ConnectionManager,
    mut rx: mpsc::Receiver<Outgoing>,
) {
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    while rx.recv_many(&mut batch, PUBLISH_BATCH).await > 0 {
        let mut pipe = redis::pipe();
        let dropped_before = shared.publish_error.lock().is_some();
        if dropped_before {
            pipe.publish(
                wire::all_channel(&shared.prefix),
                wire::resync(shared.instance),
            )
            .ignore();
        }
        let mut spans = Vec::new();
        for (route, payload, span) in batch.drain(..) {
            let channel = match route {
                Route::Room(room) => wire::room_channel(&shared.prefix, room),
                Route::All => wire::all_channel(&shared.prefix),
            };
            pipe.publish(channel, payload).ignore();
            if !span.is_disabled() {
                spans.push(span);
            }
        }
        let n = pipe.len() as u64;
        let result = tokio::time::timeout(IO_TIMEOUT, pipe.query_async::<()>(&mut conn)).await;
        let failed = match result {
            Ok(Ok(())) => {
                metrics::counter!("bus_published_total").increment(n);
                *shared.publish_error.lock() = None;
                false
            }
            Ok(Err(e)) => {
                publish_failed(&shared, n, e.to_string());
                true
            }
            Err(_) => {
                publish_failed(&shared, n, "timed out".into());
                true
            }
        };
        if failed {
            spans
                .iter()
                .for_each(|span| traces::fail(span, "redis publish failed"));
        }
        // Dropping the spans ends them: the message is in Redis (or lost, marked above).
        drop(spans);
    }
}

fn publish_failed(shared: &Shared, n: u64, error: String) {
    metrics::counter!("bus_errors_total", "op" => "publish").increment(1);
    metrics::counter!("bus_publish_dropped_total").increment(n);
    let mut last = shared.publish_error.lock();
    if last.is_none() {
        tracing::warn!(%error, dropped = n, "redis publish failed; peers will catch up from the database");
    }
    *last = Some(error);
}

async fn subscriber(
    shared: Arc<Shared>,
    client: redis::Client,
    mut interest: mpsc::UnboundedReceiver<(RoomId, bool)>,
) {
    let mut rooms: HashSet<RoomId> = HashSet::new();
    let mut connected_before = false;
    let mut backoff = Duration::from_millis(100);
    loop {
        // Take in interest changes made while disconnected, so the resubscription is exact.
        while let Ok((room, on)) = interest.try_recv() {
            apply(&mut rooms, room, on);
        }
        let pubsub = match tokio::time::timeout(IO_TIMEOUT, client.get_async_pubsub()).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                retry_later(&shared, &mut backoff, e.to_string()).await;
                continue;
            }
            Err(_) => {
                retry_later(&shared, &mut backoff, "connect timed out".into()).await;
                continue;
            }
        };
        let (mut sink, mut stream) = pubsub.split();
        let mut channels = vec![wire::all_channel(&shared.prefix)];
        channels.extend(rooms.iter().map(|r| wire::room_channel(&shared.prefix, *r)));
        let mut ok = true;
        for chunk in channels.chunks(SUBSCRIBE_CHUNK) {
            if !matches!(
                tokio::time::timeout(IO_TIMEOUT, sink.subscribe(chunk)).await,
                Ok(Ok(()))
            ) {
                ok = false;
                break;
            }
        }
        if !ok {
            retry_later(&shared, &mut backoff, "subscribe failed".into()).await;
            continue;
        }
        backoff = Duration::from_millis(100);
        shared.subscribed.store(true, Ordering::Release);
        if connected_before {
            metrics::counter!("bus_reconnects_total").increment(1);
            tracing::info!(
                rooms = rooms.len(),
                "redis bus reconnected and resubscribed; catching up"
            );
            // Anything published while we were away is missed: catch up from the store.
            shared.deliver(BusMessage::Resync);
        } else {
            tracing::info!("redis bus connected");
        }
        connected_before = true;

        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            tokio::select! {
                msg = stream.next() => {
                    let Some(msg) = msg else { break };
                    on_message(&shared, msg.get_payload_bytes());
                }
                change = interest.recv() => {
                    let Some((room, on)) = change else { return };
                    if apply(&mut rooms, room, on) {
                        let channel = wire::room_channel(&shared.prefix, room);
                        let done = if on {
                            tokio::time::timeout(IO_TIMEOUT, sink.subscribe(&channel)).await
                        } else {
                            tokio::time::timeout(IO_TIMEOUT, sink.unsubscribe(&channel)).await
                        };
                        if !matches!(done, Ok(Ok(()))) { break; }
                    }
                }
                _ = ping.tick() => {
                    let pong = tokio::time::timeout(IO_TIMEOUT, sink.ping::<String>()).await;
                    if !matches!(pong, Ok(Ok(_))) { break; }
                }
            }
        }
        shared.subscribed.store(false, Ordering::Release);
        metrics::counter!("bus_errors_total", "op" => "subscribe").increment(1);
        tracing::warn!("redis bus subscriber disconnected; reconnecting");
    }
}

/// Records an interest change; true when the set changed.
fn apply(rooms: &mut HashSet<RoomId>, room: RoomId, on: bool) -> bool {
    if on {
        rooms.insert(room)
    } else {
        rooms.remove(&room)
    }
}

async fn retry_later(shared: &Shared, backoff: &mut Duration, error: String) {
    if shared.subscribed.swap(false, Ordering::AcqRel) || *backoff == Duration::from_millis(100) {
        tracing::warn!(%error, "redis bus unavailable; retrying");
    }
    metrics::counter!("bus_errors_total", "op" => "connect").increment(1);
    // Jitter keeps a fleet of instances from reconnecting in lockstep.
    let jitter = Duration::from_millis(rand::random::<u64>() % 100);
    tokio::time::sleep(*backoff + jitter).await;
    *backoff = (*backoff * 2).min(Duration::from_secs(2));
}

fn on_message(shared: &Shared, payload: &[u8]) {
    let Some((origin, msg, traceparent)) = std::str::from_utf8(payload).ok().and_then(wire::decode)
    else {
        metrics::counter!("bus_errors_total", "op" => "decode").increment(1);
        return;
    };
    if origin == shared.instance {
        return; // delivered locally when published
    }
    metrics::counter!("bus_received_total").increment(1);
    if let BusMessage::Relayed(ev) = &msg {
        // The event's age on arrival: its commit, the publish queue and the Redis hop (plus
        // any clock difference between the two instances).
        metrics::histogram!("bus_event_age_seconds")
            .record(super::event_age_seconds(ev.created_at));
    }
    match traceparent.filter(|_| traces::enabled()) {
        Some(traceparent) => traces::bus_receive(&traceparent).in_scope(|| shared.deliver(msg)),
        None => shared.deliver(msg),
    }
}
