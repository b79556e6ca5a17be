//! Connections: a cap on how many are open, and timeouts for clients that send slowly or not at
//! all. hyper as axum runs it enforces neither (no timer is set), so a few hundred connections
//! trickling their headers, or idling between requests, could hold every file descriptor.
//!
//! Each accepted connection's IO is wrapped: while no request is in flight, a read that waits
//! past its deadline ends the connection (an EOF to hyper, which closes it cleanly). The deadline
//! is the idle keep-alive timeout from the end of the last request, or the header timeout from
//! the first byte of the next one. While a request is in flight (the router marks it through
//! the connection's [`Activity`]) nothing times out here: the request timeout governs the work,
//! and reading the body has its own timeout in the Graph layer.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// How long a connection may wait in each state, and how many may be open.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// What the router tells a connection about its requests.
#[derive(Debug)]
pub struct Activity {
    in_flight: AtomicUsize,
    /// Bytes of a request head arrived while none was in flight.
    head_started: AtomicBool,
    /// When the connection last became idle, or the head of the next request began.
    since: Mutex<Instant>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            in_flight: AtomicUsize::new(0),
            head_started: AtomicBool::new(false),
            since: Mutex::new(Instant::now()),
        }
    }

    fn mark(&self) {
        *self.since.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    /// A request's head was read: it is in flight until [`Activity::finished`].
    pub fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.head_started.store(false, Ordering::SeqCst);
    }

    pub fn finished(&self) {
        self.mark();
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    /// When a read that is still waiting must give up, if it must.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let since = *self.since.lock().unwrap_or_else(|p| p.into_inner());
        let wait = if self.head_started.load(Ordering::SeqCst) { limits.header_timeout } else { limits.idle_timeout };
        Some(since + wait)
    }

    fn bytes_read(&self) {
        if self.in_flight.load(Ordering::SeqCst) == 0 && !self.head_started.swap(true, Ordering::SeqCst) {
            self.mark();
        }
    }
}

/// The connection's activity, handed to every request as `ConnectInfo`.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    pub activity: Arc<Activity>,
}

impl<L: Listener<Addr = SocketAddr>> Connected<IncomingStream<'_, GuardedListener<L>>> for ConnInfo {
    fn connect_info(stream: IncomingStream<'_, GuardedListener<L>>) -> Self {
        stream.remote_addr().clone()
    }
}

/// A listener that caps open connections and wraps each in [`Guarded`].
pub struct GuardedListener<L> {
    inner: L,
    limits: Limits,
    permits: Arc<Semaphore>,
}

impl<L> GuardedListener<L> {
    pub fn new(inner: L, limits: Limits) -> GuardedListener<L> {
        let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
        GuardedListener { inner, limits, permits }
    }
}

/// The answer to a connection over the cap, before it is closed.
fn busy() -> Vec<u8> {
    let error = graph::GraphError::new(
        graph::error::Code::ServiceNotAvailable,
        Some("serviceNotAvailable"),
        "The server has as many connections open as it takes; retry shortly.",
    );
    let date = graph::context::iso_date(std::time::SystemTime::now());
    let body = error.envelope(&date, "", "").to_string();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    [head.into_bytes(), body.into_bytes()].concat()
}

impl<L> Listener for GuardedListener<L>
where
    L: Listener<Addr = SocketAddr>,
{
    type Io = Guarded<L::Io>;
    type Addr = ConnInfo;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (mut io, _peer) = self.inner.accept().await;
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                // Over the cap: say so and close, off the accept loop.
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(2), async {
                        let _ = io.write_all(&busy()).await;
                        let _ = io.shutdown().await;
                    })
                    .await;
                });
                continue;
            };
            let activity = Arc::new(Activity::new());
            let guarded =
                Guarded { inner: io, activity: activity.clone(), limits: self.limits, sleep: None, _permit: permit };
            return (guarded, ConnInfo { activity });
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()?;
        Ok(ConnInfo { activity: Arc::new(Activity::new()) })
    }
}

/// A connection's IO with the idle and header timeouts; it holds its place under the cap.
pub struct Guarded<T> {
    inner: T,
    activity: Arc<Activity>,
    limits: Limits,
    sleep: Option<Pin<Box<Sleep>>>,
    _permit: OwnedSemaphorePermit,
}

impl<T: AsyncRead + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    self.activity.bytes_read();
                }
                self.sleep = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let Some(deadline) = self.activity.deadline(&self.limits) else {
                    self.sleep = None;
                    return Poll::Pending;
                };
                if deadline <= Instant::now() {
                    // An EOF: hyper closes the connection as a client hang-up.
                    return Poll::Ready(Ok(()));
                }
                let sleep = self.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if sleep.deadline() != deadline {
                    sleep.as_mut().reset(deadline);
                }
                match sleep.as_mut().poll(cx) {
                    // The deadline passed: poll again so the state of that moment decides.
                    Poll::Ready(()) => {
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Router middleware: marks the connection busy while a request is served.
pub async fn track(
    axum::extract::ConnectInfo(info): axum::extract::ConnectInfo<ConnInfo>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    struct Busy(Arc<Activity>);
    impl Drop for Busy {
        fn drop(&mut self) {
            self.0.finished();
        }
    }
    info.activity.started();
    let _busy = Busy(info.activity.clone());
    next.run(request).await
}

/// The soft limit on open files (`/proc/self/limits`), when it can be read.
pub fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}
