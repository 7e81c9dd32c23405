//! The HTTP accept loop, with the limits that keep slow clients from holding the server.
//!
//! `axum::serve` hides hyper's connection builder, and with it every read timeout: 300
//! connections sending their headers a byte at a time were held for minutes, and uploads trickling
//! in kept a task and a file open indefinitely. So the service runs its own loop on
//! `hyper-util`'s `auto::Builder` (HTTP/1 and HTTP/2, upgrades), with:
//! - a header read timeout (`TRADIA_HEADER_TIMEOUT_SECS`): the whole request head must arrive
//!   within it. hyper starts that timer whenever it waits for a request head, so it is also how
//!   long an idle keep-alive connection stays open;
//! - a minimum body rate (`TRADIA_BODY_MIN_RATE_KBPS` after `TRADIA_BODY_GRACE_SECS`): a body
//!   that falls behind fails with an error naming the setting, the handler answers, and the
//!   connection closes. The defaults allow a `MAX_UPLOAD_MB` upload over a link of a few
//!   hundred kilobits per second;
//! - a cap on open connections (`TRADIA_MAX_CONNECTIONS`): beyond it, new connections wait in
//!   the listen backlog until one closes.
//!
//! Graceful shutdown: when the token is cancelled the loop stops accepting, every connection is
//! told to finish its current request and close, and the loop returns once they all have.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// The limits of [`serve`] (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Time for a request head to arrive, and for an idle keep-alive connection to stay open.
    pub header_timeout: Duration,
    /// Bytes per second a request body must average once the grace period is over (0: no
    /// minimum).
    pub body_min_rate: u64,
    /// Time a body is given before the minimum rate applies.
    pub body_grace: Duration,
    /// Open connections at most.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout: Duration::from_secs(30),
            body_min_rate: 16 * 1024,
            body_grace: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` is cancelled and every connection has closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(Some(limits.header_timeout));
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            permit = permits.clone().acquire_owned() => permit.map_err(std::io::Error::other)?,
        };
        let (stream, remote) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(%err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        // The peer address as `ConnectInfo` (what `into_make_service_with_connect_info` gave),
        // the body under the minimum rate.
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request = request.map(|body| {
                if limits.body_min_rate == 0 {
                    Body::new(body)
                } else {
                    Body::new(MinRateBody::new(body, limits.body_min_rate, limits.body_grace))
                }
            });
            request.extensions_mut().insert(ConnectInfo(remote));
            app.clone().oneshot(request)
        });
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let connection = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%err, remote = %remote, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A request body that fails when it arrives slower than a minimum average rate.
struct MinRateBody {
    inner: Incoming,
    started: Instant,
    received: u64,
    bytes_per_sec: u64,
    grace: Duration,
    timer: Pin<Box<Sleep>>,
}

/// The error of a body that fell behind the minimum rate.
#[derive(Debug, thiserror::Error)]
#[error(
    "the request body arrived too slowly ({received} bytes in {elapsed_s} s; the server \
     needs {rate} bytes per second after {grace_s} s, TRADIA_BODY_MIN_RATE_KBPS)"
)]
pub struct BodyTooSlow {
    received: u64,
    elapsed_s: u64,
    rate: u64,
    grace_s: u64,
}

/// The message of a [`BodyTooSlow`] anywhere in `error`'s source chain (the multipart reader
/// wraps the body's error).
pub fn too_slow(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(slow) = e.downcast_ref::<BodyTooSlow>() {
            return Some(slow.to_string());
        }
        current = e.source();
    }
    None
}

impl MinRateBody {
    fn new(inner: Incoming, bytes_per_sec: u64, grace: Duration) -> Self {
        let started = Instant::now();
        MinRateBody {
            inner,
            started,
            received: 0,
            bytes_per_sec,
            grace,
            timer: Box::pin(tokio::time::sleep_until(started + grace)),
        }
    }

    /// When the body is behind if no more bytes have come: the grace period plus one second
    /// per `bytes_per_sec` received.
    fn deadline(&self) -> Instant {
        let earned = Duration::from_secs_f64(self.received as f64 / self.bytes_per_sec as f64);
        self.started + self.grace + earned
    }

    fn too_slow(&self) -> BodyTooSlow {
        BodyTooSlow {
            received: self.received,
            elapsed_s: self.started.elapsed().as_secs(),
            rate: self.bytes_per_sec,
            grace_s: self.grace.as_secs(),
        }
    }
}

impl HttpBody for MinRateBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received = this.received.saturating_add(data.len() as u64);
                }
                return Poll::Ready(Some(Ok(frame)));
            }
            Poll::Ready(Some(Err(err))) => return Poll::Ready(Some(Err(err.into()))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        // Waiting for the client: wake up when it would fall behind.
        let deadline = this.deadline();
        if Instant::now() >= deadline {
            return Poll::Ready(Some(Err(this.too_slow().into())));
        }
        this.timer.as_mut().reset(deadline);
        match this.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(this.too_slow().into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
