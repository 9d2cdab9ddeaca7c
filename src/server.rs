//! The HTTP server (axum): health, the public web surface (`crate::web`), and the
//! background indexer that keeps the search index in step with the database.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json};
use axum::{Router, routing::get};
use serde_json::json;
use tower_http::trace::TraceLayer;

use crate::sync::SyncEngine;
use crate::web::{self, AppState};

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .with_state(state.clone())
        .merge(web::router(state))
        .layer(TraceLayer::new_for_http())
}

/// Brings the index up to date at start (rebuilding it when new or of an old schema),
/// then follows the database's change log until `stop` fires.
pub async fn run_indexer(state: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    match state.index.needs_rebuild(&state.store).await {
        Ok(true) => {
            tracing::info!("search index is empty or was recreated; rebuilding from the database");
            match state.index.rebuild(&state.store, |_| {}).await {
                Ok(run) => tracing::info!(documents = run.upserted, "search index rebuilt"),
                Err(e) => tracing::error!(error = %e, "search index rebuild failed"),
            }
        }
        Ok(false) => {}
        Err(e) => tracing::error!(error = %e, "cannot check the search index"),
    }
    loop {
        match state.index.catch_up(&state.store).await {
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

/// The e-office sync as `serve` runs it: the engine, and whether to run every source once
/// right away (the demo) besides the schedules.
pub struct SyncService {
    pub engine: Arc<SyncEngine>,
    pub run_at_start: bool,
}

/// Binds `listen` and serves until Ctrl-C or SIGTERM, then drains open requests; with
/// `sync`, runs the sync schedules beside (and lets a running job finish its package).
pub async fn serve(
    listen: &str,
    state: Arc<AppState>,
    sync: Option<SyncService>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    // Tests and scripts read this line to learn the port when binding to :0.
    println!("listening on http://{addr}");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let indexer = tokio::spawn(run_indexer(state.clone(), stop_rx));
    let mut scheduler = None;
    if let Some(sync) = &sync {
        if state.settings.sync.scheduler && !sync.engine.sources().is_empty() {
            scheduler = Some(
                crate::sync::schedule::start(sync.engine.clone(), &state.settings.sync)
                    .await
                    .map_err(|e| anyhow::anyhow!(e))?,
            );
        }
        if sync.run_at_start {
            let engine = sync.engine.clone();
            tokio::spawn(async move {
                crate::sync::schedule::run_all(&engine, crate::sync::Mode::Incremental).await
            });
        }
    }
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    if let Some(sync) = &sync {
        sync.engine.stop();
        if let Some(mut scheduler) = scheduler {
            let _ = scheduler.shutdown().await;
        }
        if !sync
            .engine
            .wait_idle(std::time::Duration::from_secs(20))
            .await
        {
            tracing::warn!("a sync run did not stop in time; the next run finishes its work");
        }
    }
    let _ = stop_tx.send(true);
    let _ = indexer.await;
    tracing::info!("server stopped");
    Ok(())
}

async fn shutdown_signal() {
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
