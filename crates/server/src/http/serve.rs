//! Our own accept loop (instead of `axum::serve`, which has no timeouts and no caps), so a
//! slow or greedy client cannot hold the server's connections:
//!
//! - a global and a per-client-address connection cap, checked at accept; a refused
//!   connection gets a minimal 503/429 and is closed at once. The slot is held by the socket
//!   itself, so a connection upgraded to a WebSocket keeps counting until it closes;
//! - a header deadline: from a connection's first byte (or the first byte of the next
//!   request on a kept-alive one) to complete request headers; also from accept when nothing
//!   arrives at all. Trickling bytes does not extend it (slow-loris);
//! - an idle deadline: no request in progress and no byte moving (kept-alive connections, and
//!   response bodies the client stopped reading);
//! - HTTP/1.1 only: cleartext HTTP/2 needs prior knowledge, which browsers never use (TLS and
//!   h2 end at the reverse proxy), and leaving it out removes h2's own attack surface;
//! - TCP_NODELAY, `ConnectInfo<SocketAddr>` for extractors, WebSocket upgrades, and graceful
//!   shutdown: stop accepting, finish in-flight requests, close idle connections.
//!
//! Request-level limits (in-flight cap, request deadline) are middleware: `http::overload`.

use super::slots::{Refused, SlotGuard, Slots};
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use ipnet::IpNet;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tower::ServiceExt;

/// Largest request head (and read buffer) per connection: bounds what a connection that
/// trickles endless headers can make us hold.
const MAX_BUF_BYTES: usize = 64 * 1024;

pub struct ServeOptions {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    /// Connection caps (global, per client address).
    pub slots: Arc<Slots>,
    /// Peers exempt from the per-address cap: trusted proxies and `PER_IP_LIMITS_EXEMPT` (by
    /// default loopback), since every client behind a proxy shares its address.
    pub per_ip_exempt: Vec<IpNet>,
    /// Metric label telling this listener apart (`api`, `metrics`).
    pub listener: &'static str,
}

/// Serves `router` on `listener` until `shutdown` fires, then drains connections.
pub fn spawn(
    listener: TcpListener,
    router: Router,
    opts: ServeOptions,
    shutdown: oneshot::Receiver<()>,
) -> JoinHandle<io::Result<()>> {
    tokio::spawn(serve(listener, router, Arc::new(opts), shutdown))
}

async fn serve(
    listener: TcpListener,
    router: Router,
    opts: Arc<ServeOptions>,
    mut shutdown: oneshot::Receiver<()>,
) -> io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    // Every connection task holds a clone; `recv` returns `None` once all are gone.
    let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors (or similar): back off instead of spinning.
                    metrics::counter!("http_accept_errors_total").increment(1);
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let per_ip =
            (!opts.per_ip_exempt.iter().any(|n| n.contains(&peer.ip()))).then_some(peer.ip());
        let slot = match opts.slots.try_acquire(per_ip) {
            Ok(slot) => slot,
            Err(why) => {
                refuse(&stream, why, opts.listener);
                continue;
            }
        };
        // Chat frames are small and latency-bound: without TCP_NODELAY, Nagle holds a frame
        // written while an earlier one is unacknowledged until the peer's delayed ACK (~40 ms).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        tokio::spawn(connection(
            stream,
            peer,
            slot,
            router.clone(),
            opts.clone(),
            stop_rx.clone(),
            alive_tx.clone(),
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(alive_tx);
    let _ = alive_rx.recv().await;
    Ok(())
}

/// A minimal answer for a connection over a cap, written without waiting (the socket's send
/// buffer is empty), then the connection is dropped.
fn refuse(stream: &TcpStream, why: Refused, listener: &'static str) {
    metrics::counter!("http_connections_refused_total", "reason" => why.label(), "listener" => listener)
        .increment(1);
    let answer: &[u8] = match why {
        Refused::Global => concat!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n",
            "connection: close\r\ncontent-length: 69\r\n\r\n",
            r#"{"error":{"code":"overloaded","message":"too many open connections"}}"#
        )
        .as_bytes(),
        Refused::PerIp => concat!(
            "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 1\r\n",
            "connection: close\r\ncontent-length: 92\r\n\r\n",
            r#"{"error":{"code":"too_many_connections","message":"too many connections from your address"}}"#
        )
        .as_bytes(),
    };
    let _ = stream.try_write(answer);
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    slot: SlotGuard,
    router: Router,
    opts: Arc<ServeOptions>,
    mut stop: watch::Receiver<bool>,
    _alive: mpsc::Sender<()>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked {
        inner: Some(stream),
        activity: activity.clone(),
        slot: Some(slot),
    });
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            let busy = BusyGuard::start(&activity);
            req.extensions_mut().insert(ConnectInfo(peer));
            let call = router.clone().oneshot(req);
            async move {
                let res = call.await;
                drop(busy);
                res
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.max_buf_size(MAX_BUF_BYTES);
    let conn = builder.serve_connection(io, service).with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let mut draining = *stop.borrow();
    if draining {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            reason = watchdog(&activity, &opts) => {
                metrics::counter!("http_connections_closed_total", "reason" => reason, "listener" => opts.listener)
                    .increment(1);
                return; // dropping the connection closes the socket
            }
            changed = stop.changed(), if !draining => {
                draining = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// What a connection is doing, shared by its socket, its service and its watchdog. Times are
/// milliseconds since the connection was accepted.
struct Activity {
    accepted: Instant,
    /// A request is being handled (headers complete, response not yet started).
    busy: AtomicBool,
    /// Requests seen on this connection.
    requests: AtomicU64,
    /// When the first byte of a request head still being received arrived (+1; 0 = none).
    head_since: AtomicU64,
    /// When the last response started, or the last byte moved.
    last_active: AtomicU64,
    /// Wakes the watchdog when its deadline may have moved earlier.
    changed: Notify,
}

impl Activity {
    fn new() -> Self {
        Self {
            accepted: Instant::now(),
            busy: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            head_since: AtomicU64::new(0),
            last_active: AtomicU64::new(0),
            changed: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.accepted.elapsed().as_millis() as u64
    }

    fn at(&self, ms: u64) -> Instant {
        self.accepted + Duration::from_millis(ms)
    }

    fn bytes_read(&self) {
        let now = self.now_ms();
        self.last_active.store(now, Ordering::Relaxed);
        // Bytes while no request is being handled are (the start of) the next request head.
        // (A plain load first: after a WebSocket upgrade this runs for every read, and the
        // compare-exchange would fail each time.)
        if !self.busy.load(Ordering::Acquire)
            && self.head_since.load(Ordering::Relaxed) == 0
            && self
                .head_since
                .compare_exchange(0, now + 1, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.changed.notify_one();
        }
    }

    fn bytes_written(&self) {
        self.last_active.store(self.now_ms(), Ordering::Relaxed);
    }
}

/// Marks the connection busy from complete headers until the response starts.
struct BusyGuard(Arc<Activity>);

impl BusyGuard {
    fn start(a: &Arc<Activity>) -> Self {
        a.busy.store(true, Ordering::Release);
        a.head_since.store(0, Ordering::Release);
        a.requests.fetch_add(1, Ordering::Relaxed);
        a.changed.notify_one();
        Self(a.clone())
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.last_active.store(self.0.now_ms(), Ordering::Relaxed);
        self.0.busy.store(false, Ordering::Release);
        self.0.changed.notify_one();
    }
}

/// Resolves with the reason once the connection has overstayed a deadline.
async fn watchdog(a: &Activity, opts: &ServeOptions) -> &'static str {
    loop {
        let (deadline, reason) = if a.busy.load(Ordering::Acquire) {
            // The request deadline (middleware) and body timeouts govern a busy connection.
            (None, "")
        } else {
            match a.head_since.load(Ordering::Acquire) {
                0 if a.requests.load(Ordering::Relaxed) == 0 => {
                    (Some(a.at(0) + opts.header_timeout), "header_timeout")
                }
                0 => (
                    Some(a.at(a.last_active.load(Ordering::Relaxed)) + opts.idle_timeout),
                    "idle_timeout",
                ),
                since => (
                    Some(a.at(since - 1) + opts.header_timeout),
                    "header_timeout",
                ),
            }
        };
        match deadline {
            Some(d) if Instant::now() >= d => return reason,
            Some(d) => {
                tokio::select! {
                    () = tokio::time::sleep_until(d) => {}
                    () = a.changed.notified() => {}
                }
            }
            None => a.changed.notified().await,
        }
    }
}

/// The accepted socket, recording activity and holding the connection's slot for as long as
/// the socket lives (through a WebSocket upgrade too). Closed by [`linger`].
struct Tracked {
    /// Always `Some` until dropped.
    inner: Option<TcpStream>,
    activity: Arc<Activity>,
    slot: Option<SlotGuard>,
}

impl Tracked {
    fn stream(&mut self) -> &mut TcpStream {
        self.inner
            .as_mut()
            .unwrap_or_else(|| unreachable!("taken only in drop"))
    }
}

/// How long a closing connection keeps reading what the client is still sending.
const LINGER_TOTAL: Duration = Duration::from_secs(5);
const LINGER_QUIET: Duration = Duration::from_secs(1);

impl Drop for Tracked {
    /// Closing a socket with unread bytes makes the kernel send a reset, which can destroy the
    /// answer we just wrote before the client reads it: a large upload refused early (401,
    /// 413, 429) would reach the client as a broken connection instead of its error. So, like
    /// nginx's lingering close, the socket first stops sending (FIN), then discards what the
    /// client still sends, for a bounded time, and only then closes.
    fn drop(&mut self) {
        let (Some(stream), Ok(rt)) = (self.inner.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let slot = self.slot.take();
        rt.spawn(linger(stream, slot));
    }
}

async fn linger(mut stream: TcpStream, _slot: Option<SlotGuard>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if stream.shutdown().await.is_err() {
        return;
    }
    let deadline = Instant::now() + LINGER_TOTAL;
    let mut buf = [0u8; 8192];
    loop {
        let quiet = (Instant::now() + LINGER_QUIET).min(deadline);
        match tokio::time::timeout_at(quiet, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => continue,
            _ => return, // EOF, an error, or the client went quiet / took too long
        }
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(self.stream()).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_read();
        }
        res
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(self.stream()).poll_write(cx, data);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.bytes_written();
        }
        res
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(self.stream()).poll_write_vectored(cx, bufs);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.bytes_written();
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.as_ref().is_some_and(|s| s.is_write_vectored())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.stream()).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.stream()).poll_shutdown(cx)
    }
}
