//! The e-office sync: packages from exchange hubs and drop folders into the registry.
//!
//! A run of one source: take the source's lease (one runner per source across every node
//! on the database), list what the source holds, skip what the ledger says is finished,
//! then fetch → read (edXML header + attached file's text) → decide publication → keep
//! the bytes (blob store) → plan against the registry → commit the effect and the ledger
//! row in one transaction → acknowledge. Packages are prepared several at a time but
//! committed one at a time in the source's order, so lifecycle events on one document
//! (new, then update, then revoke) apply in order.
//!
//! Invariants: a package is acknowledged only after its commit; a package is stored at
//! most once (ledger key, DocumentId and file SHA-256); one failing package is recorded
//! with its reason and retried with back-off on later runs, and after `max_attempts` it
//! waits in the "needs attention" list; a crash at any point is finished by the next run.

pub mod demo;
pub mod package;
pub mod scenario;
pub mod schedule;
pub mod source;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use eoffice::{AckStatus, DropFolder, HubClient, HubError};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::json;
use tokio::sync::Notify;

use crate::blob::BlobStore;
use crate::config::Settings;
use crate::doctypes::DocTypeTable;
use crate::store::{PackageState, PendingStatus, Store, StoreError, SyncAction};
use package::{Failure, Ready};
use source::{SourceConfig, SourceKind};

/// Packages between two returns of freed memory to the system (see `crate::memory`).
const TRIM_EVERY: usize = 250;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// New packages, and failed ones whose back-off has passed.
    Incremental,
    /// Everything the source holds, failed packages whatever their back-off.
    Full,
    /// Reads and plans, writes nothing, acknowledges nothing.
    DryRun,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Incremental => "incremental",
            Mode::Full => "full",
            Mode::DryRun => "dry_run",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "không có nguồn đồng bộ \"{0}\" (unknown sync source; see [sync.sources] in the configuration)"
    )]
    UnknownSource(String),
    #[error("nguồn \"{0}\" đang tắt (enabled = false)")]
    Disabled(String),
    #[error("nguồn \"{name}\" đang được đồng bộ bởi {holder} (another run holds the job's lease)")]
    Busy { name: String, holder: String },
    #[error("cấu hình nguồn đồng bộ: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a run did, package by package class.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Counts {
    pub listed: usize,
    pub fetched: usize,
    pub new: usize,
    pub updated: usize,
    pub revoked: usize,
    pub replaced: usize,
    pub duplicate: usize,
    pub status: usize,
    pub revoke_pending: usize,
    pub published: usize,
    pub review: usize,
    pub failed: usize,
    pub deferred: usize,
    pub needs_attention: usize,
    pub acked: usize,
    pub ack_failed: usize,
    /// Status packages sent back to senders (`send_status`), and sends that failed (retried
    /// by later runs).
    pub status_sent: usize,
    pub status_failed: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageError {
    pub package: String,
    pub error: String,
}

/// One line of a dry run: what a package would do.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub package: String,
    pub outcome: String,
    pub status: Option<String>,
    pub reason: Option<String>,
    pub number_symbol: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub source: String,
    pub mode: Mode,
    pub run_id: Option<i64>,
    pub status: String,
    pub counts: Counts,
    pub errors: Vec<PackageError>,
    pub planned: Vec<Planned>,
    /// Why the run stopped early, when it did.
    pub stopped: Option<String>,
}

impl RunReport {
    fn error(&mut self, package: &str, error: impl Into<String>) {
        // Enough to act on without bloating the run record.
        if self.errors.len() < 200 {
            self.errors.push(PackageError {
                package: package.to_string(),
                error: error.into(),
            });
        }
    }
}

pub struct SyncEngine {
    store: Store,
    blobs: BlobStore,
    settings: Settings,
    types: &'static DocTypeTable,
    node: String,
    sources: BTreeMap<String, SourceConfig>,
    /// One client per hub for the life of the process: its circuit breaker and bearer
    /// token outlive a run.
    hubs: std::sync::Mutex<HashMap<String, Arc<HubClient>>>,
    /// Woken after each commit (the search indexer waits on it).
    on_change: Option<Arc<Notify>>,
    stop: Arc<AtomicBool>,
    /// Runs in progress in this process, and a signal when the count drops.
    active: std::sync::atomic::AtomicUsize,
    idle: Notify,
}

/// Counts a run as active for as long as it lives.
struct ActiveRun<'a>(&'a SyncEngine);

impl<'a> ActiveRun<'a> {
    fn new(engine: &'a SyncEngine) -> ActiveRun<'a> {
        engine.active.fetch_add(1, Ordering::SeqCst);
        ActiveRun(engine)
    }
}

impl Drop for ActiveRun<'_> {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
        self.0.idle.notify_waiters();
    }
}

/// `host:pid`, naming this process in leases and run records.
pub fn node_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{}", std::process::id())
}

impl SyncEngine {
    /// Resolves every configured source (secrets from the environment); a mistake in any
    /// of them is an error naming the source and key.
    pub fn new(
        store: Store,
        blobs: BlobStore,
        settings: Settings,
        types: &'static DocTypeTable,
    ) -> Result<SyncEngine, SyncError> {
        let env = |k: &str| std::env::var(k).ok();
        let mut sources = BTreeMap::new();
        for (name, s) in &settings.sync.sources {
            sources.insert(
                name.clone(),
                source::resolve(name, s, &env).map_err(SyncError::Config)?,
            );
        }
        Ok(SyncEngine {
            store,
            blobs,
            settings,
            types,
            node: node_name(),
            sources,
            hubs: Default::default(),
            on_change: None,
            stop: Arc::new(AtomicBool::new(false)),
            active: Default::default(),
            idle: Notify::new(),
        })
    }

    pub fn with_change_notifier(mut self, notify: Arc<Notify>) -> SyncEngine {
        self.on_change = Some(notify);
        self
    }

    pub fn sources(&self) -> &BTreeMap<String, SourceConfig> {
        &self.sources
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Asks running jobs to stop after the package they are committing.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Waits (at most `limit`) until no run is in progress in this process.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let idle = self.idle.notified();
            if self.active.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                return self.active.load(Ordering::SeqCst) == 0;
            }
        }
    }

    fn hub_client(&self, source: &SourceConfig) -> Result<Arc<HubClient>, SyncError> {
        let SourceKind::Hub(config) = &source.kind else {
            return Err(SyncError::Config(format!("{} is not a hub", source.name)));
        };
        let mut hubs = self.hubs.lock().expect("hub clients");
        if let Some(client) = hubs.get(&source.name) {
            return Ok(client.clone());
        }
        let client = Arc::new(
            HubClient::new((**config).clone())
                .map_err(|e| SyncError::Config(format!("sync.sources.{}: {e}", source.name)))?,
        );
        hubs.insert(source.name.clone(), client.clone());
        Ok(client)
    }

    fn retry_after(&self, attempts: u32) -> chrono::Duration {
        let base = self.settings.sync.retry_base_seconds.max(1) as f64;
        let seconds = (base * 2f64.powi(attempts.saturating_sub(1).min(20) as i32)).min(86_400.0);
        // ±20 % so that packages failing together are not retried in lockstep.
        let jitter = 0.8 + 0.4 * fastrand::f64();
        chrono::Duration::milliseconds((seconds * jitter * 1000.0) as i64)
    }

    /// Runs one source once. Takes the source's lease for the duration (another node or
    /// process running it makes this return [`SyncError::Busy`]); a dry run takes none.
    pub async fn run(&self, source_name: &str, mode: Mode) -> Result<RunReport, SyncError> {
        let source = self
            .sources
            .get(source_name)
            .ok_or_else(|| SyncError::UnknownSource(source_name.to_string()))?
            .clone();
        if !source.enabled {
            return Err(SyncError::Disabled(source.name));
        }
        let _active = ActiveRun::new(self);
        let mut report = RunReport {
            source: source.name.clone(),
            mode,
            run_id: None,
            status: "running".into(),
            counts: Counts::default(),
            errors: Vec::new(),
            planned: Vec::new(),
            stopped: None,
        };
        if mode == Mode::DryRun {
            self.run_source(&source, mode, &AtomicBool::new(false), &mut report)
                .await;
            report.status = if report.counts.failed > 0 {
                "partial"
            } else {
                "succeeded"
            }
            .into();
            return Ok(report);
        }
        let job = format!("sync:{}", source.name);
        let holder = format!("{}#{:08x}", self.node, fastrand::u32(..));
        let ttl = chrono::Duration::seconds(self.settings.sync.lease_seconds.max(5) as i64);
        if !self.store.acquire_lease(&job, &holder, ttl).await?
            && !self.take_over_dead(&job, &holder, ttl).await?
        {
            let holder = self
                .store
                .lease_holder(&job)
                .await?
                .map(|(h, _)| h)
                .unwrap_or_else(|| "?".into());
            return Err(SyncError::Busy {
                name: source.name,
                holder,
            });
        }
        let run_id = match self
            .store
            .start_run(mode.as_str(), &source.name, &self.node)
            .await
        {
            Ok(id) => id,
            Err(e) => {
                let _ = self.store.release_lease(&job, &holder).await;
                return Err(e.into());
            }
        };
        report.run_id = Some(run_id);
        // Blobs announced by a process that died before its record committed.
        if let Err(e) = crate::blob::sweep(&self.store, &self.blobs).await {
            tracing::warn!(error = %e, "cannot sweep interrupted blob writes");
        }
        // Keep the lease while working; if it is lost (this process stalled past its
        // expiry and another node took the job), stop at the next package.
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = {
            let store = self.store.clone();
            let (job, holder, lost) = (job.clone(), holder.clone(), lost.clone());
            let period = Duration::from_secs((self.settings.sync.lease_seconds / 3).max(1));
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(period).await;
                    match store.renew_lease(&job, &holder, ttl).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::error!(%job, "sync lease lost; stopping the run");
                            lost.store(true, Ordering::SeqCst);
                            return;
                        }
                        Err(e) => tracing::warn!(%job, error = %e, "cannot renew the sync lease"),
                    }
                }
            })
        };
        self.run_source(&source, mode, &lost, &mut report).await;
        renewer.abort();
        if lost.load(Ordering::SeqCst) {
            report.stopped = Some("lease lost".into());
        }
        report.status = if report.status == "failed" {
            "failed".into()
        } else if report.counts.failed > 0
            || report.counts.ack_failed > 0
            || report.stopped.is_some()
        {
            "partial".into()
        } else {
            "succeeded".into()
        };
        let counts = serde_json::to_value(&report.counts).expect("counts");
        let mut errors = serde_json::to_value(&report.errors).expect("errors");
        if let Some(why) = &report.stopped
            && let Some(list) = errors.as_array_mut()
        {
            list.push(json!({"package": null, "error": format!("dừng sớm: {why}")}));
        }
        self.store
            .finish_run(run_id, &report.status, &counts, &errors)
            .await?;
        self.store.release_lease(&job, &holder).await?;
        tracing::info!(
            source = %report.source, mode = mode.as_str(), status = %report.status,
            new = report.counts.new, updated = report.counts.updated, revoked = report.counts.revoked,
            failed = report.counts.failed, acked = report.counts.acked, "sync run finished"
        );
        Ok(report)
    }

    /// Takes the lease of a holder that was a process on this host and no longer exists
    /// (it crashed or was killed): a restarted service need not wait for the lease to
    /// expire. A holder elsewhere, or alive, is left alone.
    async fn take_over_dead(
        &self,
        job: &str,
        holder: &str,
        ttl: chrono::Duration,
    ) -> Result<bool, SyncError> {
        let Some((current, _)) = self.store.lease_holder(job).await? else {
            return Ok(self.store.acquire_lease(job, holder, ttl).await?);
        };
        let (host, _) = self.node.rsplit_once(':').unwrap_or((&self.node, ""));
        let dead = current
            .split('#')
            .next()
            .and_then(|node| node.rsplit_once(':'))
            .is_some_and(|(h, pid)| {
                h == host
                    && pid.parse::<u32>().is_ok_and(|pid| {
                        pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
                    })
            });
        if !dead {
            return Ok(false);
        }
        tracing::warn!(%job, %current, "taking over the lease of a process that no longer runs");
        self.store.release_lease(job, &current).await?;
        Ok(self.store.acquire_lease(job, holder, ttl).await?)
    }

    async fn run_source(
        &self,
        source: &SourceConfig,
        mode: Mode,
        lost: &AtomicBool,
        report: &mut RunReport,
    ) {
        match &source.kind {
            SourceKind::Hub(_) => match self.hub_client(source) {
                Ok(client) => self.run_hub(source, client, mode, lost, report).await,
                Err(e) => {
                    report.status = "failed".into();
                    report.error("", e.to_string());
                }
            },
            SourceKind::Folder(path) => self.run_folder(source, path, mode, lost, report).await,
        }
    }

    fn interrupted(&self, lost: &AtomicBool, report: &mut RunReport) -> bool {
        if lost.load(Ordering::SeqCst) {
            return true;
        }
        if self.stop.load(Ordering::SeqCst) {
            report.stopped = Some("service shutting down".into());
            return true;
        }
        false
    }

    async fn run_hub(
        &self,
        source: &SourceConfig,
        client: Arc<HubClient>,
        mode: Mode,
        lost: &AtomicBool,
        report: &mut RunReport,
    ) {
        let entries = match client.received_list().await {
            Ok(e) => e,
            Err(e) => {
                report.status = "failed".into();
                report.error(
                    "",
                    format!("không lấy được danh sách văn bản từ trục liên thông: {e}"),
                );
                return;
            }
        };
        report.counts.listed = entries.len();
        let mut seen = HashSet::new();
        let now = chrono::Utc::now();
        let mut work = Vec::new();
        let mut acks: Vec<String> = Vec::new();
        for entry in entries {
            // A hub may list one package twice; the ledger decides the rest.
            if !seen.insert(entry.doc_id.clone()) {
                continue;
            }
            match self.store.package(&source.name, &entry.doc_id).await {
                Ok(Some(p)) => match p.state {
                    // Finished, but listed again: our acknowledgement was lost. Repeat it.
                    PackageState::Acked | PackageState::Stored => {
                        report.counts.duplicate += usize::from(p.state == PackageState::Acked);
                        acks.push(entry.doc_id);
                    }
                    PackageState::NeedsAttention => report.counts.needs_attention += 1,
                    PackageState::Failed
                        if mode == Mode::Incremental
                            && p.next_attempt_at.is_some_and(|t| t > now) =>
                    {
                        report.counts.deferred += 1
                    }
                    PackageState::Failed => work.push(entry.doc_id),
                },
                Ok(None) => work.push(entry.doc_id),
                Err(e) => {
                    report.counts.failed += 1;
                    report.error(&entry.doc_id, format!("sổ theo dõi: {e}"));
                }
            }
        }
        let mut acker = Acker::new(
            self.store.clone(),
            source.name.clone(),
            Some(client.clone()),
            mode,
        );
        for id in acks {
            acker.ack(id, false);
        }
        // Committed packages whose acknowledgement reached the hub but not our ledger (a
        // crash in between): the hub no longer lists them. Acknowledge them again; a hub
        // that no longer knows them has nothing pending either.
        match self
            .store
            .packages_in_state(Some(&source.name), PackageState::Stored, 10_000)
            .await
        {
            Ok(stored) => {
                for p in stored.into_iter().filter(|p| !seen.contains(&p.package_id)) {
                    acker.ack(p.package_id, true);
                }
            }
            Err(e) => report.error("", format!("sổ theo dõi: {e}")),
        }
        let concurrency = self.settings.sync.concurrency.max(1);
        let dry_run = mode == Mode::DryRun;
        let mut prepared = futures_util::stream::iter(work)
            .map(|package_id| {
                let client = client.clone();
                async move {
                    let bytes = client.get_edoc(&package_id).await.map_err(|e| {
                        Failure::transient(format!("không tải được gói từ trục liên thông: {e}"))
                    });
                    let result = match bytes {
                        Ok(bytes) => {
                            self.prepare(package_id.clone(), bytes, source, dry_run)
                                .await
                        }
                        Err(f) => Err(f),
                    };
                    (package_id, result)
                }
            })
            .buffered(concurrency);
        let mut handled = 0usize;
        while let Some((package_id, result)) = prepared.next().await {
            if self.interrupted(lost, report) {
                break;
            }
            handled += 1;
            if handled.is_multiple_of(TRIM_EVERY) {
                crate::memory::release_free_memory();
            }
            report.counts.fetched += usize::from(result.is_ok());
            match self.commit(source, result, mode, report).await {
                Ok(()) => acker.ack(package_id, false),
                Err(failure) => {
                    self.record_failure(source, &package_id, &failure, report)
                        .await;
                }
            }
        }
        drop(prepared);
        acker.finish(report).await;
        // Only once every acknowledgement is out: a status package never delays one.
        if source.send_status && mode != Mode::DryRun && !self.interrupted(lost, report) {
            self.send_statuses(source, &client, mode, report).await;
        }
    }

    /// Sends the status packages stored packages are owed (`send_status`): StatusCode 01
    /// (received) answering the sender's document. A failed send is recorded in the
    /// ledger and retried by a later run after a back-off (a full run retries at once).
    async fn send_statuses(
        &self,
        source: &SourceConfig,
        client: &HubClient,
        mode: Mode,
        report: &mut RunReport,
    ) {
        let now = chrono::Utc::now();
        let due_at = if mode == Mode::Full {
            now + chrono::Duration::days(36_500)
        } else {
            now
        };
        let due = match self.store.pending_status(&source.name, due_at, 1000).await {
            Ok(due) => due,
            Err(e) => {
                report.error("", format!("sổ theo dõi: {e}"));
                return;
            }
        };
        for pending in due {
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            let sent = match self.status_package(&pending).await {
                Ok((bytes, from)) => client
                    .send_edoc(bytes, &from, "status")
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("không gửi được gói trạng thái: {e}")),
                Err(e) => Err(e),
            };
            let outcome = match &sent {
                Ok(()) => Ok(()),
                Err(e) => {
                    let attempts = u32::try_from(pending.attempts).unwrap_or(0) + 1;
                    Err((e.as_str(), chrono::Utc::now() + self.retry_after(attempts)))
                }
            };
            if let Err(e) = self
                .store
                .record_status_send(&source.name, &pending.package_id, outcome)
                .await
            {
                report.error(&pending.package_id, format!("sổ theo dõi: {e}"));
                continue;
            }
            match sent {
                Ok(()) => report.counts.status_sent += 1,
                Err(e) => {
                    tracing::warn!(source = %source.name, package_id = %pending.package_id, error = %e,
                        "status package not sent; a later run retries");
                    report.counts.status_failed += 1;
                    report.error(&pending.package_id, e);
                }
            }
        }
    }

    /// The status package answering a stored package (read back from the blob store),
    /// and the organ it is sent from (the one the package was addressed to).
    async fn status_package(&self, pending: &PendingStatus) -> Result<(Vec<u8>, String), String> {
        let sha = pending
            .package_sha256
            .clone()
            .ok_or_else(|| "gói không còn được lưu".to_string())?;
        let status = match pending.document_id {
            Some(id) => self.store.get_document(id).await.ok().map(|d| d.status),
            None => None,
        };
        let blobs = self.blobs.clone();
        let header = tokio::task::spawn_blocking(move || {
            let bytes = blobs
                .read(&sha)
                .map_err(|e| format!("không đọc được gói đã lưu: {e}"))?;
            let package = edxml::parse(&bytes).map_err(|e| format!("gói đã lưu: {e}"))?;
            Ok::<_, String>(package.header)
        })
        .await
        .map_err(|e| format!("internal: {e}"))??;
        let description = match status {
            Some(crate::store::Status::Published) => "Đã nhận; văn bản đã được đăng công khai",
            Some(crate::store::Status::NeedsReview) => {
                "Đã nhận; văn bản chờ văn thư duyệt trước khi công khai"
            }
            _ => "Đã nhận",
        };
        let ours = header.to.first().cloned().unwrap_or_default();
        let from = ours.organ_id.clone().unwrap_or_default();
        let reply = edxml::MessageHeader {
            from: Some(ours),
            to: header.from.clone().into_iter().collect(),
            response_for: vec![edxml::ResponseFor {
                organ_id: header.from.as_ref().and_then(|f| f.organ_id.clone()),
                code: header.number_symbol(),
                promulgation_date: header.promulgation_date.clone(),
                document_id: header.document_id.clone(),
            }],
            status_code: Some("01".into()),
            description: Some(description.into()),
            timestamp: Some(edxml::LenientDate::new(
                chrono::Utc::now()
                    .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7"))
                    .format("%Y/%m/%d %H:%M:%S")
                    .to_string(),
            )),
            ..edxml::MessageHeader::default()
        };
        Ok((edxml::write_status(&reply).into_bytes(), from))
    }

    async fn run_folder(
        &self,
        source: &SourceConfig,
        path: &std::path::Path,
        mode: Mode,
        lost: &AtomicBool,
        report: &mut RunReport,
    ) {
        let settle = Duration::from_secs(self.settings.sync.folder_settle_seconds);
        let folder = match DropFolder::open(path, settle) {
            Ok(f) => f,
            Err(e) => {
                report.status = "failed".into();
                report.error("", format!("không mở được thư mục {}: {e}", path.display()));
                return;
            }
        };
        let dry_run = mode == Mode::DryRun;
        if !dry_run && let Err(e) = folder.reclaim_stale() {
            report.error("", format!("không thu hồi được tệp đang xử lý dở: {e}"));
        }
        let names = match folder.pending() {
            Ok(n) => n,
            Err(e) => {
                report.status = "failed".into();
                report.error(
                    "",
                    format!("không đọc được thư mục {}: {e}", path.display()),
                );
                return;
            }
        };
        report.counts.listed = names.len();
        let concurrency = self.settings.sync.concurrency.max(1);
        let mut prepared = futures_util::stream::iter(names)
            .map(|name| {
                let folder = &folder;
                async move {
                    // A dry run reads in place; a real run claims the file first.
                    let claim = if dry_run {
                        None
                    } else {
                        match folder.claim(&name) {
                            Ok(Some(c)) => Some(c),
                            Ok(None) => return None,
                            Err(e) => {
                                return Some((
                                    name,
                                    None,
                                    Err(Failure::transient(format!("không nhận được tệp: {e}"))),
                                ));
                            }
                        }
                    };
                    let bytes = match &claim {
                        Some(c) => c.read(),
                        None => std::fs::read(folder.root().join(&name)),
                    };
                    let bytes = match bytes {
                        Ok(b) => b,
                        Err(e) => {
                            return Some((
                                name,
                                claim,
                                Err(Failure::transient(format!("không đọc được tệp: {e}"))),
                            ));
                        }
                    };
                    // The package's identity is its content: the same file dropped twice
                    // is one package.
                    let package_id = crate::extract::sha256_hex(&bytes);
                    let result = self.prepare(package_id, bytes, source, dry_run).await;
                    Some((name, claim, result))
                }
            })
            .buffered(concurrency);
        let mut handled = 0usize;
        while let Some(item) = prepared.next().await {
            let Some((name, claim, mut result)) = item else {
                continue;
            };
            handled += 1;
            if handled.is_multiple_of(TRIM_EVERY) {
                crate::memory::release_free_memory();
            }
            if self.interrupted(lost, report) {
                if let Some(c) = claim {
                    let _ = c.release();
                }
                break;
            }
            let package_id = match &result {
                Ok(ready) => ready.package_id.clone(),
                Err(_) => name.clone(),
            };
            // Finished before (the same content dropped again): straight to done/.
            let previous = self
                .store
                .package(&source.name, &package_id)
                .await
                .ok()
                .flatten();
            let finished = previous
                .as_ref()
                .is_some_and(|p| matches!(p.state, PackageState::Acked | PackageState::Stored));
            let outcome = if finished {
                report.counts.duplicate += 1;
                if let Ok(ready) = &mut result {
                    ready.blobs.abandon().await;
                }
                Ok(())
            } else {
                if previous.is_some_and(|p| p.state == PackageState::NeedsAttention) && !dry_run {
                    // Dropped again by a person: a fresh start.
                    let _ = self
                        .store
                        .reset_packages(&source.name, Some(&package_id))
                        .await;
                }
                self.commit(source, result, mode, report).await
            };
            let Some(claim) = claim else { continue };
            match outcome {
                Ok(()) => match claim.done() {
                    Ok(_) => {
                        if let Err(e) = self.store.mark_acked(&source.name, &package_id).await {
                            report.error(&name, format!("sổ theo dõi: {e}"));
                        } else {
                            report.counts.acked += 1;
                        }
                    }
                    Err(e) => {
                        report.counts.ack_failed += 1;
                        report.error(&name, format!("không chuyển được tệp sang done/: {e}"));
                    }
                },
                Err(failure) => {
                    let state = if failure.transient {
                        self.record_failure(source, &package_id, &failure, report)
                            .await
                    } else {
                        // A file on disk does not get better by waiting: set it aside now.
                        report.counts.failed += 1;
                        report.error(&name, failure.message.clone());
                        self.store
                            .record_package_failure(
                                &source.name,
                                &package_id,
                                &failure.message,
                                1,
                                |_| chrono::Duration::zero(),
                            )
                            .await
                            .map(|(s, _)| s)
                            .unwrap_or(PackageState::NeedsAttention)
                    };
                    let moved = if state == PackageState::NeedsAttention {
                        claim.fail(&failure.message).map(|_| ())
                    } else {
                        claim.release()
                    };
                    if let Err(e) = moved {
                        report.error(&name, format!("không chuyển được tệp: {e}"));
                    }
                }
            }
        }
    }

    async fn prepare(
        &self,
        package_id: String,
        bytes: Vec<u8>,
        source: &SourceConfig,
        dry_run: bool,
    ) -> Result<Ready, Failure> {
        package::prepare(
            package_id,
            bytes,
            source,
            &self.settings.ingest.default_unit,
            &self.settings.publication,
            self.types,
            &self.store,
            &self.blobs,
            dry_run,
        )
        .await
    }

    /// Plans and commits one prepared package; in a dry run, reports the plan instead.
    async fn commit(
        &self,
        source: &SourceConfig,
        result: Result<Ready, Failure>,
        mode: Mode,
        report: &mut RunReport,
    ) -> Result<(), Failure> {
        let mut ready = result?;
        let planned = package::plan(&ready, source, &self.store).await;
        let write = match planned {
            Ok(w) => w,
            Err(f) => {
                ready.blobs.abandon().await;
                return Err(f);
            }
        };
        let (status, reason) = match &write.action {
            SyncAction::Insert { doc, .. }
            | SyncAction::Update { doc, .. }
            | SyncAction::Supersede { doc, .. } => {
                (Some(doc.status), Some(doc.status_reason.clone()))
            }
            _ => (None, None),
        };
        if mode == Mode::DryRun {
            report.planned.push(Planned {
                package: ready.package_id.clone(),
                outcome: write.outcome.clone(),
                status: status.map(|s| s.as_str().to_string()),
                reason,
                number_symbol: ready.imported.extraction.metadata.number_symbol(),
            });
            count_outcome(&mut report.counts, &write.outcome, status);
            return Ok(());
        }
        // The ledger row keeps the package; an inserted or updated record keeps its file.
        // A duplicate's file is referenced by nothing new: its intent is released after
        // the commit (and the blob removed unless another record has it).
        let mut claims = ready.blobs.claim(&ready.package_sha256);
        if matches!(
            write.action,
            SyncAction::Insert { .. } | SyncAction::Update { .. } | SyncAction::Supersede { .. }
        ) {
            claims.extend(ready.blobs.claim(&ready.imported.extraction.sha256));
            for attachment in &write.attachments {
                claims.extend(ready.blobs.claim(&attachment.sha256));
            }
        }
        match self.store.apply_sync_claiming(&write, &claims).await {
            Ok(_) => {
                ready.blobs.committed().await;
                count_outcome(&mut report.counts, &write.outcome, status);
                if let Some(n) = &self.on_change {
                    n.notify_one();
                }
                Ok(())
            }
            Err(e) => {
                ready.blobs.abandon().await;
                Err(e.into())
            }
        }
    }

    async fn record_failure(
        &self,
        source: &SourceConfig,
        package_id: &str,
        failure: &Failure,
        report: &mut RunReport,
    ) -> PackageState {
        report.counts.failed += 1;
        report.error(package_id, failure.message.clone());
        if report.mode == Mode::DryRun {
            // A dry run reports; it records nothing.
            return PackageState::Failed;
        }
        match self
            .store
            .record_package_failure(
                &source.name,
                package_id,
                &failure.message,
                self.settings.sync.max_attempts.max(1),
                |n| self.retry_after(n),
            )
            .await
        {
            Ok((state, attempts)) => {
                if state == PackageState::NeedsAttention {
                    report.counts.needs_attention += 1;
                    tracing::warn!(source = %source.name, package_id, attempts, error = %failure.message,
                        "package set aside after repeated failures");
                } else {
                    tracing::info!(source = %source.name, package_id, attempts, error = %failure.message,
                        "package failed; will be retried");
                }
                state
            }
            Err(e) => {
                tracing::error!(error = %e, package_id, "cannot record a package failure");
                PackageState::Failed
            }
        }
    }
}

fn count_outcome(counts: &mut Counts, outcome: &str, status: Option<crate::store::Status>) {
    match outcome {
        "new" => counts.new += 1,
        // A signed original taking its copy's record is a new version of that record.
        "updated" | "superseded" => counts.updated += 1,
        "revoked" => counts.revoked += 1,
        "replaced" => counts.replaced += 1,
        "duplicate" => counts.duplicate += 1,
        "status" => counts.status += 1,
        "revoke_pending" => counts.revoke_pending += 1,
        _ => {}
    }
    match status {
        Some(crate::store::Status::Published) => counts.published += 1,
        Some(crate::store::Status::NeedsReview) => counts.review += 1,
        _ => {}
    }
}

/// Acknowledges committed packages in the background, a few at a time: the hub's answer
/// time does not hold up the next commit. Finished acknowledgements are collected as new
/// ones start, so memory stays flat however many packages a run acknowledges.
struct Acker {
    store: Store,
    source: String,
    client: Option<Arc<HubClient>>,
    dry_run: bool,
    tasks: tokio::task::JoinSet<Result<(), (String, String)>>,
    permits: Arc<tokio::sync::Semaphore>,
    acked: usize,
    failed: Vec<(String, String)>,
}

impl Acker {
    fn new(store: Store, source: String, client: Option<Arc<HubClient>>, mode: Mode) -> Acker {
        Acker {
            store,
            source,
            client,
            dry_run: mode == Mode::DryRun,
            tasks: tokio::task::JoinSet::new(),
            permits: Arc::new(tokio::sync::Semaphore::new(4)),
            acked: 0,
            failed: Vec::new(),
        }
    }

    fn collect(&mut self, done: Result<Result<(), (String, String)>, tokio::task::JoinError>) {
        match done {
            Ok(Ok(())) => self.acked += 1,
            Ok(Err(failure)) => self.failed.push(failure),
            Err(e) => self
                .failed
                .push((String::new(), format!("ack task failed: {e}"))),
        }
    }

    /// Acknowledges in the background; `unlisted`: the hub no longer lists the package,
    /// so its refusal means it holds nothing pending for it either.
    fn ack(&mut self, package_id: String, unlisted: bool) {
        if self.dry_run {
            return;
        }
        while let Some(done) = self.tasks.try_join_next() {
            self.collect(done);
        }
        let Some(client) = self.client.clone() else {
            return;
        };
        let store = self.store.clone();
        let source = self.source.clone();
        let permits = self.permits.clone();
        self.tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("semaphore open");
            match client.update_status(&package_id, AckStatus::Done).await {
                Ok(()) => {}
                Err(HubError::Refused { .. }) if unlisted => {}
                Err(e) => {
                    return Err((
                        package_id.clone(),
                        format!("không báo được trạng thái cho trục: {e}"),
                    ));
                }
            }
            store
                .mark_acked(&source, &package_id)
                .await
                .map_err(|e| (package_id.clone(), format!("sổ theo dõi: {e}")))
        });
    }

    async fn finish(mut self, report: &mut RunReport) {
        while let Some(done) = self.tasks.join_next().await {
            self.collect(done);
        }
        report.counts.acked += self.acked;
        report.counts.ack_failed += self.failed.len();
        for (package, error) in self.failed {
            report.error(&package, error);
        }
    }
}
