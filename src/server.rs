//! The HTTP server (axum on hyper's HTTP/1 connection, with our own accept loop): health,
//! the public web surface (`crate::web`), and the background indexer that keeps the
//! search index in step with the database.
//!
//! Bounded by construction: at most `server.max_connections` connections are served at
//! once (a semaphore permit per connection; further clients wait in the listen backlog),
//! a client that does not send a whole request head within `server.header_timeout_seconds`
//! (slow headers, or an idle keep-alive connection) is disconnected, and a request not
//! answered within `server.request_timeout_seconds` gets 503.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::{Router, routing::get};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::trace::TraceLayer;

use crate::config::ServerSettings;
use crate::web::{self, AppState};

/// File descriptors kept for everything but client connections: the database, the
/// search index's segment files, blobs being read, the sync's sockets.
const RESERVED_FDS: u64 = 256;

pub fn router(state: Arc<AppState>) -> Router {
    let deadlines = Deadlines {
        request: Duration::from_secs(state.settings.server.request_timeout_seconds.max(1)),
        upload: Duration::from_secs(state.settings.server.upload_timeout_seconds.max(1)),
    };
    Router::new()
        .route("/healthz", get(health))
        .with_state(state.clone())
        .merge(web::router(state))
        .layer(axum::middleware::from_fn_with_state(deadlines, deadline))
        .layer(TraceLayer::new_for_http())
}

/// How long a request may take before it is answered 503: one limit for every request,
/// a longer one for desk uploads.
#[derive(Debug, Clone, Copy)]
struct Deadlines {
    request: Duration,
    upload: Duration,
}

async fn deadline(
    State(deadlines): State<Deadlines>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let limit = if request.method() == axum::http::Method::POST
        && request.uri().path() == crate::desk::upload::UPLOAD_PATH
    {
        deadlines.upload
    } else {
        deadlines.request
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// What bounds the server's connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    /// How long shutdown waits for open requests to finish.
    pub drain: Duration,
}

impl Limits {
    pub fn from_settings(settings: &ServerSettings) -> Limits {
        Limits {
            max_connections: settings.max_connections.max(1),
            header_timeout: Duration::from_secs(settings.header_timeout_seconds.max(1)),
            drain: Duration::from_secs(settings.request_timeout_seconds.max(1) + 5),
        }
    }

    /// Lowers the connection cap to what `fd_limit` open files can hold, saying so.
    pub fn fit_fd_limit(mut self, fd_limit: Option<u64>) -> Limits {
        if let Some(limit) = fd_limit {
            let room = limit.saturating_sub(RESERVED_FDS).max(16) as usize;
            if self.max_connections > room {
                tracing::warn!(
                    configured = self.max_connections,
                    open_file_limit = limit,
                    max_connections = room,
                    "server.max_connections lowered to fit the open-file limit"
                );
                self.max_connections = room;
            }
        }
        self
    }
}

/// Raises the soft limit on open files (RLIMIT_NOFILE) to the hard limit; returns the
/// soft limit now in force (`None` where it cannot be read).
// `rlim_t` is u64 on Linux but not on every Unix.
#[allow(clippy::unnecessary_cast)]
pub fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut current = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read and write the struct passed.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut current) } != 0 {
            return None;
        }
        if current.rlim_cur < current.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: current.rlim_max,
                rlim_max: current.rlim_max,
            };
            // SAFETY: as above.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                tracing::debug!(limit = raised.rlim_cur, "open-file limit raised");
                return Some(raised.rlim_cur as u64);
            }
            tracing::warn!(
                soft = current.rlim_cur,
                hard = current.rlim_max,
                "cannot raise the open-file limit"
            );
        }
        Some(current.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets open
/// requests finish (at most `limits.drain`) and returns. Each request carries the peer
/// address as [`ConnectInfo`].
pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_headers(100);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors (EMFILE/ENFILE) or a connection reset before
                    // it was accepted: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let http = http.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service =
                hyper::service::service_fn(move |mut request: axum::http::Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    app.clone().oneshot(request)
                });
            let connection = http.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection closed");
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a permit: all of them back means every connection is done.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.drain, permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("open connections did not finish in time; closing them");
    }
}

/// Brings the index up to date at start (rebuilding it when new or of an old schema),
/// then follows the database's change log until `stop` fires.
pub async fn run_indexer(state: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    // Index work (tantivy writes and commits, which fsync) runs on a blocking thread,
    // driving its database reads through this runtime: it never stalls request handling.
    let off_runtime = |rebuild: bool| {
        let (index, store) = (state.index.clone(), state.store.clone());
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            handle.block_on(async {
                if rebuild {
                    index.rebuild(&store, |_| {}).await
                } else {
                    index.catch_up(&store).await
                }
            })
        })
    };
    match state.index.needs_rebuild(&state.store).await {
        Ok(true) => {
            tracing::info!("search index is empty or was recreated; rebuilding from the database");
            match flatten(off_runtime(true).await) {
                Ok(run) => tracing::info!(documents = run.upserted, "search index rebuilt"),
                Err(e) => tracing::error!(error = %e, "search index rebuild failed"),
            }
        }
        Ok(false) => {}
        Err(e) => tracing::error!(error = %e, "cannot check the search index"),
    }
    loop {
        match flatten(off_runtime(false).await) {
            Ok(run) if run.upserted + run.removed > 0 => tracing::info!(
                upserted = run.upserted,
                removed = run.removed,
                watermark = run.watermark,
                "search index updated"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "search index update failed; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
            // A sync commit: apply it now (debounced a little: commits come in bursts).
            _ = state.changes.notified() => {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            _ = stop.changed() => break,
        }
    }
}

/// A blocking index task's result, a panic counted as a failure.
fn flatten(
    joined: Result<
        Result<crate::search::IndexRun, crate::search::SearchError>,
        tokio::task::JoinError,
    >,
) -> Result<crate::search::IndexRun, String> {
    match joined {
        Ok(Ok(run)) => Ok(run),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("index task panicked: {e}")),
    }
}

async fn health(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(
                json!({"status": "ok", "database": state.store.backend(), "version": env!("CARGO_PKG_VERSION")}),
            ),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    json!({"status": "unavailable", "code": "database_unreachable", "message": "Không kết nối được cơ sở dữ liệu"}),
                ),
            )
        }
    }
}

/// Binds the listen address (before the state is built, so that links can name the
/// address actually bound, port 0 included).
pub async fn bind(listen: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_fits_the_open_file_limit() {
        let limits = Limits {
            max_connections: 1000,
            header_timeout: Duration::from_secs(10),
            drain: Duration::from_secs(35),
        };
        for (fd_limit, expected) in [
            (None, 1000),
            (Some(1_048_576), 1000),
            (Some(1256), 1000),
            (Some(1024), 768),
            (Some(100), 16),
        ] {
            assert_eq!(
                limits.fit_fd_limit(fd_limit).max_connections,
                expected,
                "{fd_limit:?}"
            );
        }
        // Raising never lowers the limit in force.
        let raised = raise_fd_limit();
        assert!(raise_fd_limit() >= raised);
    }
}
