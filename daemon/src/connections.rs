//! TCP serving that a careless or hostile client cannot exhaust, for the admin and metrics
//! ports: at most `max_connections` are open at once (the longest-idle one is closed to make
//! room for a new one), a connection that moves no bytes for `idle_timeout` while no request
//! is being served is closed, and a failing `accept` (EMFILE: out of descriptors) backs off
//! instead of spinning.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// The bounds of one port.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub idle_timeout: Duration,
}

/// First and longest pause after a failed `accept`.
const BACKOFF_FIRST: Duration = Duration::from_millis(5);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// A listener whose connections are bounded by [`Limits`].
pub struct Listener {
    listener: TcpListener,
    limits: Limits,
    slots: Arc<Semaphore>,
    open: Arc<OpenSet>,
    backoff: Duration,
    /// Accept errors are logged at most once per [`WARN_EVERY`], with the count since.
    warned: Option<Instant>,
    errors: u64,
    /// Name of the config table, for the log.
    port: &'static str,
}

const WARN_EVERY: Duration = Duration::from_secs(10);

impl Listener {
    pub fn new(listener: TcpListener, limits: Limits, port: &'static str) -> Self {
        Self {
            listener,
            limits,
            slots: Arc::new(Semaphore::new(limits.max_connections)),
            open: Arc::new(OpenSet::default()),
            backoff: BACKOFF_FIRST,
            warned: None,
            errors: 0,
            port,
        }
    }

    pub fn idle_timeout(&self) -> Duration {
        self.limits.idle_timeout
    }

    /// What closes this listener's idle connections at a stop (see [`Drain`]).
    pub fn drain(&self) -> Drain {
        Drain(self.open.clone())
    }

    /// The next connection. Never fails: accept errors are logged and retried after a pause
    /// that doubles up to a second, and at the connection limit the longest-idle connection
    /// is closed (or, with every connection busy, one is waited for).
    pub async fn accept(&mut self) -> Conn {
        loop {
            match self.listener.accept().await {
                Ok((stream, _)) => {
                    self.backoff = BACKOFF_FIRST;
                    let permit = match self.slots.clone().try_acquire_owned() {
                        Ok(permit) => permit,
                        #[allow(
                            clippy::expect_used,
                            reason = "the listener owns the semaphore and never closes it"
                        )]
                        Err(_) => {
                            self.open.close_longest_idle();
                            self.slots
                                .clone()
                                .acquire_owned()
                                .await
                                .expect("the semaphore is never closed")
                        }
                    };
                    return Conn::new(stream, permit, self.open.clone(), self.limits.idle_timeout);
                }
                Err(e) => {
                    // Out of descriptors: an idle connection gives one back.
                    self.open.close_longest_idle();
                    self.errors += 1;
                    if self.warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
                        tracing::warn!(
                            port = self.port,
                            error = %e,
                            errors = self.errors,
                            "cannot accept connections; backing off (raise LimitNOFILE= or lower max_connections)"
                        );
                        self.warned = Some(Instant::now());
                        self.errors = 0;
                    }
                    tokio::time::sleep(self.backoff).await;
                    self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
    }
}

/// Closes a listener's connections once no call is being served on them: at a stop, after
/// the server's goodbye (HTTP/2 GOAWAY) went out. The server itself closes a connection only
/// once its client acknowledged the goodbye, and a client that holds an idle connection and
/// does not read (found probing from outside: 20 of them held the stop 5 s) never does.
pub struct Drain(Arc<OpenSet>);

impl Drain {
    /// From now on a connection with no call in flight fails its next read or write, and
    /// does so at once for those idle now.
    pub fn close_idle(&self) {
        self.0.draining.store(true, Ordering::Release);
        let conns = self.0.conns.lock().unwrap_or_else(PoisonError::into_inner);
        for activity in conns.values() {
            activity.wake();
        }
    }
}

/// The open connections of one listener, so that the longest-idle one can be closed.
struct OpenSet {
    /// What every connection's `last_ms` counts from, so that they compare.
    epoch: Instant,
    next_id: AtomicU64,
    conns: Mutex<HashMap<u64, Arc<Activity>>>,
    /// Set by [`Drain::close_idle`].
    draining: AtomicBool,
}

impl Default for OpenSet {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            conns: Mutex::default(),
            draining: AtomicBool::new(false),
        }
    }
}

impl OpenSet {
    fn close_longest_idle(&self) {
        let conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
        let idle = conns
            .values()
            .filter(|a| {
                a.in_flight.load(Ordering::Acquire) == 0 && !a.closing.load(Ordering::Acquire)
            })
            .min_by_key(|a| a.last_ms.load(Ordering::Relaxed));
        if let Some(activity) = idle {
            activity.close();
        }
    }
}

/// What a connection's reader, its requests and the listener share.
struct Activity {
    id: u64,
    /// The listener's [`OpenSet::epoch`].
    epoch: Instant,
    /// Milliseconds after `epoch` when bytes last moved (or the connection was accepted).
    last_ms: AtomicU64,
    /// Requests being served: a connection with one is never idle.
    in_flight: AtomicUsize,
    /// Set by the listener to make room; the connection's next poll fails.
    closing: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Activity {
    fn touch(&self) {
        let ms = self.epoch.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.epoch + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }

    fn close(&self) {
        self.closing.store(true, Ordering::Release);
        self.wake();
    }

    fn wake(&self) {
        if let Some(waker) = self
            .waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            waker.wake();
        }
    }
}

/// Marks its connection busy while a request is served: its idle time does not run. Also
/// says where the connection came from (tonic's own `remote_addr` knows only its own
/// listeners' connections).
#[derive(Clone)]
pub struct ConnHandle(Arc<Activity>, Option<std::net::SocketAddr>);

impl ConnHandle {
    pub fn busy(&self) -> Busy {
        self.0.in_flight.fetch_add(1, Ordering::AcqRel);
        CALLS_IN_FLIGHT.fetch_add(1, Ordering::AcqRel);
        Busy(self.0.clone())
    }

    /// The address of the caller at the other end.
    pub fn peer(&self) -> Option<std::net::SocketAddr> {
        self.1
    }
}

/// See [`ConnHandle::busy`].
pub struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        CALLS_IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Admin calls being served, on every connection: a clean stop lets them finish first.
static CALLS_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// How many admin calls are being served now.
pub fn calls_in_flight() -> usize {
    CALLS_IN_FLIGHT.load(Ordering::Acquire)
}

/// An accepted connection holding one of the listener's slots; its reads and writes fail
/// with `TimedOut` once it has been idle too long.
pub struct Conn {
    stream: TcpStream,
    activity: Arc<Activity>,
    open: Arc<OpenSet>,
    idle_timeout: Duration,
    idle: Pin<Box<Sleep>>,
    _slot: OwnedSemaphorePermit,
}

impl Conn {
    fn new(
        stream: TcpStream,
        slot: OwnedSemaphorePermit,
        open: Arc<OpenSet>,
        idle_timeout: Duration,
    ) -> Conn {
        let _ = stream.set_nodelay(true);
        let now = Instant::now();
        let activity = Arc::new(Activity {
            id: open.next_id.fetch_add(1, Ordering::Relaxed),
            epoch: open.epoch,
            last_ms: AtomicU64::new(now.duration_since(open.epoch).as_millis() as u64),
            in_flight: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            waker: Mutex::new(None),
        });
        open.conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(activity.id, activity.clone());
        Conn {
            stream,
            activity,
            open,
            idle_timeout,
            idle: Box::pin(tokio::time::sleep_until(now + idle_timeout)),
            _slot: slot,
        }
    }

    pub fn handle(&self) -> ConnHandle {
        ConnHandle(self.activity.clone(), self.stream.peer_addr().ok())
    }

    /// Called when the inner stream is not ready: fails once the connection is to close.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        *self
            .activity
            .waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
        loop {
            if self.activity.closing.load(Ordering::Acquire) {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "closed to make room for a new connection",
                )));
            }
            if self.open.draining.load(Ordering::Acquire)
                && self.activity.in_flight.load(Ordering::Acquire) == 0
            {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "closed: ispd is stopping",
                )));
            }
            let deadline = self.activity.last() + self.idle_timeout;
            if self.idle.deadline() != deadline {
                self.idle.as_mut().reset(deadline);
            }
            match self.idle.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) if self.activity.in_flight.load(Ordering::Acquire) > 0 => {
                    self.activity.touch();
                }
                Poll::Ready(()) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "idle connection closed",
                    )));
                }
            }
        }
    }
}

use std::future::Future;

impl Drop for Conn {
    fn drop(&mut self) {
        self.open
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.activity.id);
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    this.activity.touch();
                }
                Poll::Ready(result)
            }
            Poll::Pending => this.poll_idle(cx),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write(cx, data) {
            Poll::Ready(result) => {
                if matches!(result, Ok(n) if n > 0) {
                    this.activity.touch();
                }
                Poll::Ready(result)
            }
            Poll::Pending => this.poll_idle(cx).map(|r| r.map(|()| 0)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write_vectored(cx, bufs) {
            Poll::Ready(result) => {
                if matches!(result, Ok(n) if n > 0) {
                    this.activity.touch();
                }
                Poll::Ready(result)
            }
            Poll::Pending => this.poll_idle(cx).map(|r| r.map(|()| 0)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// tonic puts this in every request's extensions: the admin server marks the connection
/// busy while it serves a call.
impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = ConnHandle;

    fn connect_info(&self) -> ConnHandle {
        self.handle()
    }
}

/// The services anyone may call without a token (`api::router`).
const TOKEN_FREE: [&str; 2] = ["/grpc.health.", "/grpc.reflection."];

/// The tower layer that marks a connection busy for the duration of each call.
#[derive(Clone, Copy, Default)]
pub struct BusyLayer;

impl<S> tower_layer::Layer<S> for BusyLayer {
    type Service = BusyService<S>;

    fn layer(&self, inner: S) -> BusyService<S> {
        BusyService(inner)
    }
}

#[derive(Clone)]
pub struct BusyService<S>(S);

impl<S, B, R> tower_service::Service<http::Request<B>> for BusyService<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<BusyBody<R>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The token-free services (health, reflection) do not make a connection busy: a
        // call of theirs that never sends its body held its connection past the idle
        // timeout, and 256 such locked every operator out (found probing from outside).
        let path = request.uri().path();
        let token_free = TOKEN_FREE.iter().any(|prefix| path.starts_with(prefix));
        let busy = request
            .extensions()
            .get::<ConnHandle>()
            .filter(|_| !token_free)
            .map(ConnHandle::busy);
        let call = self.0.call(request);
        Box::pin(async move {
            // Busy until the answer is sent whole, not only produced: a clean stop waits for
            // that (`server::finish_calls_in_flight`), and a large answer still being sent
            // when the server's shutdown began was cut off mid-body.
            let response = call.await?;
            Ok(response.map(|inner| BusyBody { inner, busy }))
        })
    }
}

pin_project_lite::pin_project! {
    /// A call's response body, holding its connection busy until the body's end is sent (or
    /// the body is dropped, the caller gone).
    pub struct BusyBody<B> {
        #[pin]
        inner: B,
        busy: Option<Busy>,
    }
}

impl<B: http_body::Body> http_body::Body for BusyBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = this.inner.poll_frame(cx);
        if matches!(frame, Poll::Ready(None | Some(Err(_)))) {
            this.busy.take();
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
