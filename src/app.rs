//! The one way to start the application: `vanban serve` (and `--demo`), the in-process
//! tests and the demo all build it here, in one order:
//!
//! settings → store (migrated) → blobs (dead writers' intents swept) → search index →
//! [`AppState`] → router; then, when it runs ([`Application::run_until_stopped`] or
//! [`Application::start_background`]), the background indexer, the job workers and the
//! sync schedules. Shutdown stops accepting, drains open requests, lets each job worker
//! and the sync finish the item in hand, then stops the indexer.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

use crate::blob::{self, BlobStore};
use crate::config::Settings;
use crate::doctypes::DocTypeTable;
use crate::jobs::{Jobs, WorkerPool};
use crate::search::SearchIndex;
use crate::server::{self, Limits};
use crate::store::Store;
use crate::sync::SyncEngine;
use crate::web::{AppState, SharedState};

/// What to build beside the state and the router.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Listen here (`serve`): bound first, so that links can name the address actually
    /// bound (port 0 resolved). `None`: no listener (in-process tests).
    pub listen: Option<String>,
    /// Build the e-office sync engine and run its schedules (`serve`).
    pub sync: bool,
    /// Run every sync source once right away, besides the schedules (the demo).
    pub sync_at_start: bool,
}

/// A built application, not yet running.
pub struct Application {
    pub state: SharedState,
    pub router: Router,
    listener: Option<TcpListener>,
    sync: Option<Arc<SyncEngine>>,
    sync_at_start: bool,
}

impl Application {
    pub async fn build(
        mut settings: Settings,
        types: &'static DocTypeTable,
        options: Options,
    ) -> anyhow::Result<Application> {
        let listener = match &options.listen {
            Some(listen) => {
                // Before anything opens files: a busy server needs more than 1,024.
                server::raise_fd_limit();
                let listener = server::bind(listen).await?;
                // Links fall back to the address actually bound (port 0 resolved).
                settings.server.listen = listener.local_addr()?.to_string();
                crate::web::warn_about_public_base_url(&settings);
                Some(listener)
            }
            None => None,
        };
        std::fs::create_dir_all(&settings.storage.data_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create data directory {}: {e}",
                settings.storage.data_dir.display()
            )
        })?;
        let store =
            Store::connect(&settings.database_url(), settings.storage.max_connections).await?;
        // Every record's unit is in the units table (configured, default, sync sources).
        crate::auth::seed_units(&store, &settings).await?;
        let blobs = BlobStore::open(settings.blob_dir())?;
        // Blobs a killed writer announced and never committed, and its `.part` files.
        blob::sweep(&store, &blobs).await?;
        let index = Arc::new(SearchIndex::open(&settings.index_dir())?);
        let changes = Arc::new(tokio::sync::Notify::new());
        let sync = if options.sync {
            Some(Arc::new(
                SyncEngine::new(store.clone(), blobs.clone(), settings.clone(), types)?
                    .with_change_notifier(changes.clone()),
            ))
        } else {
            None
        };
        let state = Arc::new(AppState {
            store,
            index,
            blobs,
            settings,
            types,
            changes,
            jobs: Jobs::default(),
        });
        let router = server::router(state.clone());
        Ok(Application {
            state,
            router,
            listener,
            sync,
            sync_at_start: options.sync_at_start,
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The state and the router, for in-process use (the listener, if any, is closed).
    pub fn into_parts(self) -> (SharedState, Router) {
        (self.state, self.router)
    }

    /// Starts what runs beside the requests: the search indexer, the job workers
    /// (`[jobs] workers`) and the sync schedules.
    pub async fn start_background(&self) -> anyhow::Result<Background> {
        let (stop_indexer, stop_rx) = tokio::sync::watch::channel(false);
        let indexer = tokio::spawn(server::run_indexer(self.state.clone(), stop_rx));
        let workers =
            WorkerPool::start(self.state.clone(), self.state.settings.jobs.worker_count()).await;
        let mut scheduler = None;
        if let Some(engine) = &self.sync {
            if self.state.settings.sync.scheduler && !engine.sources().is_empty() {
                scheduler = Some(
                    crate::sync::schedule::start(engine.clone(), &self.state.settings.sync)
                        .await
                        .map_err(|e| anyhow::anyhow!(e))?,
                );
            }
            if self.sync_at_start {
                let engine = engine.clone();
                tokio::spawn(async move {
                    crate::sync::schedule::run_all(&engine, crate::sync::Mode::Incremental).await
                });
            }
        }
        Ok(Background {
            indexer,
            stop_indexer,
            workers,
            sync: self.sync.clone(),
            scheduler,
        })
    }

    /// Serves until Ctrl-C or SIGTERM, with everything in the background running; then
    /// shuts down in order (see the module comment).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(server::shutdown_signal()).await
    }

    /// [`Application::run_until_stopped`], until `shutdown` completes.
    pub async fn run_until(mut self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let listener = self
            .listener
            .take()
            .ok_or_else(|| anyhow::anyhow!("the application was built without a listener"))?;
        let addr = listener.local_addr()?;
        let limits = Limits::from_settings(&self.state.settings.server)
            .fit_fd_limit(server::raise_fd_limit());
        tracing::info!(
            %addr,
            max_connections = limits.max_connections,
            header_timeout_seconds = limits.header_timeout.as_secs(),
            "listening"
        );
        let background = self.start_background().await?;
        // Tests and scripts read this line to learn the port when binding to :0.
        println!("listening on http://{addr}");
        server::serve_connections(listener, self.router.clone(), limits, shutdown).await;
        background.stop().await;
        tracing::info!("server stopped");
        Ok(())
    }
}

/// What runs beside the requests.
pub struct Background {
    indexer: tokio::task::JoinHandle<()>,
    stop_indexer: tokio::sync::watch::Sender<bool>,
    workers: WorkerPool,
    sync: Option<Arc<SyncEngine>>,
    scheduler: Option<tokio_cron_scheduler::JobScheduler>,
}

impl Background {
    /// Stops the sync and the job workers after the item each has in hand, then the
    /// indexer (a restarted server's indexer catches up from the change log).
    pub async fn stop(self) {
        let Background {
            indexer,
            stop_indexer,
            workers,
            sync,
            scheduler,
        } = self;
        if let Some(engine) = &sync {
            engine.stop();
        }
        if let Some(mut scheduler) = scheduler {
            let _ = scheduler.shutdown().await;
        }
        let sync_idle = async {
            match &sync {
                Some(engine) => engine.wait_idle(std::time::Duration::from_secs(20)).await,
                None => true,
            }
        };
        let (idle, ()) = tokio::join!(sync_idle, workers.shutdown());
        if !idle {
            tracing::warn!("a sync run did not stop in time; the next run finishes its work");
        }
        let _ = stop_indexer.send(true);
        let _ = indexer.await;
    }
}
