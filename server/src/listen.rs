//! The HTTP/1.1 accept loop: a connection limit, a header timeout that also closes idle
//! kept-alive connections, header size limits, and a graceful close that lets requests in
//! flight finish. `axum::serve` has none of these knobs.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// Connection limits and timeouts.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionConfig {
    /// Connections open at once; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// Time a connection may take, once ready for a request (new or kept alive), to send
    /// that request's headers; an idle or half-sent connection is closed after it.
    pub header_timeout: Duration,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// hyper's own limits sit far above the enveloped ones (`crate::limits`), so an oversized
/// head normally gets the JSON 431; only a head past these gets hyper's bare 431.
const HYPER_MAX_HEADERS: usize = 512;
const HYPER_MAX_BUF: usize = 1 << 20;

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, asks every
/// open connection to close after its current request, and returns once all have closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: ConnectionConfig,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    // Each connection holds a receiver: `closing` tells them to finish, and `closed()` on
    // the sender resolves once every one has been dropped.
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut closing = closing_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let service = TowerToHyperService::new(
                app.map_request(|request: Request<Incoming>| request.map(Body::new)),
            );
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(config.header_timeout)
                .max_headers(HYPER_MAX_HEADERS)
                .max_buf_size(HYPER_MAX_BUF);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended");
                    }
                    return;
                }
                _ = closing.wait_for(|closing| *closing) => {}
            }
            connection.as_mut().graceful_shutdown();
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended while closing");
            }
        });
    }
    drop(listener);
    drop(closing_rx);
    let _ = closing_tx.send(true);
    closing_tx.closed().await;
}
