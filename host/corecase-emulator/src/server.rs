//! The accept loop. axum's own `serve` cannot close a connection without an
//! answer, which the `reset` fault needs, so connections are served with
//! hyper directly: a response carrying [`ResetConnection`] becomes a service
//! error, on which hyper drops the connection without writing anything.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tower::ServiceExt as _;

/// Marker on a response: drop the connection instead of sending it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResetConnection;

impl std::fmt::Display for ResetConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset injected by the Core Case emulator")
    }
}

impl std::error::Error for ResetConnection {}

/// How long in-flight requests get to finish at shutdown.
const DRAIN: Duration = Duration::from_secs(2);

/// Serve `app` on `listener` until `shutdown` completes.
pub(crate) async fn run(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: pause, go on.
                    tracing::warn!(error = %e, "Core Case emulator: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let app = app.clone();
            async move {
                let resp = match app.oneshot(req.map(Body::new)).await {
                    Ok(resp) => resp,
                    Err(never) => match never {},
                };
                if resp.extensions().get::<ResetConnection>().is_some() {
                    Err(ResetConnection)
                } else {
                    Ok::<_, ResetConnection>(resp)
                }
            }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "Core Case emulator: connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN) => {}
    }
}
