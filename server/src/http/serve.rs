//! The accept loop: axum's `serve` sets no timeouts and no connection limits, so a client
//! could hold any number of half-sent requests open forever (slowloris). Here every
//! connection is HTTP/1.1 through hyper with:
//! - a global and a per-address connection cap (a connection over either is closed at once);
//! - a header read timeout (a request's headers must arrive within it);
//! - an idle timeout (no bytes either way for that long closes the connection; event streams
//!   write a keep-alive every 15 s, so live subscribers stay);
//! - graceful shutdown on Ctrl-C.
//!
//! Body deadlines are per request (`guard::deadline_body`).

use crate::config::HttpLimits;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Open connections per peer address.
#[derive(Default)]
struct PerIp(Mutex<HashMap<IpAddr, usize>>);

impl PerIp {
    fn try_add(&self, ip: IpAddr, max: usize) -> bool {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(ip).or_insert(0);
        if *n >= max {
            return false;
        }
        *n += 1;
        true
    }

    fn remove(&self, ip: IpAddr) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&ip);
            }
        }
    }
}

/// A TCP stream that remembers when it last moved a byte (ms since `epoch`).
struct Tracked {
    inner: TcpStream,
    epoch: Instant,
    last: Arc<AtomicU64>,
}

impl Tracked {
    fn touch(&self) {
        self.last
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        r
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let conns = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_ip = Arc::new(PerIp::default());
    let limits = Arc::new(limits);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = conns.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "connection refused: global connection limit");
            drop(stream);
            continue;
        };
        if !per_ip.try_add(peer.ip(), limits.max_connections_per_ip) {
            tracing::debug!(%peer, "connection refused: per-address connection limit");
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let per_ip = per_ip.clone();
        let limits = limits.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let last = Arc::new(AtomicU64::new(0));
            let epoch = Instant::now();
            let io = TokioIo::new(Tracked {
                inner: stream,
                epoch,
                last: last.clone(),
            });
            let svc = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    router.clone().oneshot(req.map(axum::body::Body::new))
                },
            );
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .keep_alive(true)
                .serve_connection(io, svc);
            tokio::pin!(conn);
            let idle = limits.idle_timeout;
            let mut check = tokio::time::interval(
                idle.min(Duration::from_secs(5))
                    .max(Duration::from_millis(100)),
            );
            check.tick().await;
            let mut closing = false;
            loop {
                tokio::select! {
                    r = conn.as_mut() => {
                        if let Err(e) = r {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    _ = check.tick(), if !closing => {
                        let quiet = epoch.elapsed().saturating_sub(Duration::from_millis(last.load(Ordering::Relaxed)));
                        if quiet >= idle {
                            tracing::debug!(%peer, "closing an idle connection");
                            conn.as_mut().graceful_shutdown();
                            // A connection that does not finish within a grace period is dropped.
                            let grace = tokio::time::sleep(Duration::from_secs(5));
                            tokio::select! {
                                _ = conn.as_mut() => {}
                                _ = grace => {}
                            }
                            break;
                        }
                    }
                    _ = stop.changed(), if !closing => {
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
            }
            per_ip.remove(peer.ip());
        });
    }
    let _ = stop_tx.send(true);
    Ok(())
}
