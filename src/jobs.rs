//! Durable jobs: desk uploads processed in the background by a bounded pool of workers,
//! outside the request path, surviving restarts (rows in `jobs`, migration 0009).
//!
//! - **Enqueue** ([`enqueue_upload`]): the uploaded bytes are written through a
//!   [`BlobGuard`] and the job row that keeps them is inserted in the transaction that
//!   consumes the blob's intent: an upload that never became a job leaves nothing.
//! - **Claim**: a worker takes the oldest runnable row with a lease
//!   (`Store::claim_job`: PostgreSQL `FOR UPDATE SKIP LOCKED`, SQLite one
//!   `UPDATE … RETURNING` in a write transaction). Workers poll, and are woken at once by
//!   [`Jobs::wake`] when a job is enqueued.
//! - **Run**: the one intake (`crate::intake`), whose extraction runs on the blocking pool
//!   (at most one file per worker, so at most `[jobs] workers` at once). The lease is
//!   renewed while the job runs; a worker that dies lets it expire and the job is claimed
//!   again (at once, on restart, when the dead server was on this host).
//! - **End**: done with its record; a transient failure is retried with exponential
//!   back-off up to `max_attempts`; a permanent one (not a PDF, a broken file, a refusal)
//!   fails at once with its Vietnamese reason.
//!
//! Exactly once across crashes: the record is committed by the intake, then the job is
//! marked done. A crash between the two leaves the job running; when it runs again the
//! intake finds the record its file already made (same SHA-256, `source_ref` naming this
//! job) and the job ends done with that record. The documents' unique file constraint
//! makes two runs of one job (a stalled worker whose lease was taken) store one record.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::blob::{BlobGuard, BlobStore};
use crate::domain::Status;
use crate::intake::{FileInput, Intake, Origin, Outcome};
use crate::store::{JobEnd, JobKind, JobPhase, JobRecord, NewJob, Store, StoreError};
use crate::web::AppState;

/// What a clerk sees of an upload's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// A worker is reading it.
    Extracting,
    /// Failed for a transient reason; waits for its next attempt.
    Retrying,
    /// Stored, held for a clerk (or kept as a draft).
    WaitingForReview,
    /// Stored and public.
    Published,
    /// Stored and not public for good (withdrawn, rejected).
    Stored,
    /// Given up: the detail says why.
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Extracting => "extracting",
            JobState::Retrying => "retrying",
            JobState::WaitingForReview => "waiting_for_review",
            JobState::Published => "published",
            JobState::Stored => "stored",
            JobState::Failed => "failed",
        }
    }

    /// The label a clerk reads.
    pub fn label(self) -> &'static str {
        match self {
            JobState::Queued => "Đang chờ xử lý",
            JobState::Extracting => "Đang đọc tệp",
            JobState::Retrying => "Chờ thử lại",
            JobState::WaitingForReview => "Chờ văn thư xem xét",
            JobState::Published => "Đã công khai",
            JobState::Stored => "Đã lưu, không công khai",
            JobState::Failed => "Không xử lý được",
        }
    }

    /// No further change will come from the job itself.
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            JobState::Queued | JobState::Extracting | JobState::Retrying
        )
    }

    fn of(job: &JobRecord) -> JobState {
        match job.phase {
            JobPhase::Queued if job.attempts > 0 => JobState::Retrying,
            JobPhase::Queued => JobState::Queued,
            JobPhase::Running => JobState::Extracting,
            JobPhase::Failed => JobState::Failed,
            JobPhase::Done => match job.document_status {
                Some(Status::Published) => JobState::Published,
                Some(Status::NeedsReview | Status::Draft) => JobState::WaitingForReview,
                // Withdrawn, or the record is gone.
                _ => JobState::Stored,
            },
        }
    }
}

/// One upload as the desk shows it.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    pub id: i64,
    pub filename: String,
    pub media_type: String,
    pub size: i64,
    pub state: JobState,
    /// `state.label()`, for JSON clients.
    pub label: &'static str,
    /// Why: the record's hold reason, what it duplicates, the error.
    pub detail: String,
    pub document_id: Option<i64>,
    pub unit_code: String,
    pub actor: String,
    pub attempts: i32,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

impl JobView {
    pub fn of(job: &JobRecord) -> JobView {
        let state = JobState::of(job);
        let detail = match state {
            JobState::Retrying => format!(
                "Lần thử {} không thành công: {}; sẽ thử lại",
                job.attempts,
                job.last_error.as_deref().unwrap_or("lỗi tạm thời")
            ),
            JobState::Failed => job.last_error.clone().unwrap_or_default(),
            _ => job.detail.clone().unwrap_or_default(),
        };
        JobView {
            id: job.id,
            filename: job.filename.clone(),
            media_type: job.media_type.clone(),
            size: job.size,
            state,
            label: state.label(),
            detail,
            document_id: job.document_id,
            unit_code: job.unit_code.clone(),
            actor: job.actor.clone(),
            attempts: job.attempts,
            created_at: job.created_at,
            updated_at: job.updated_at,
        }
    }
}

/// An uploaded file to process.
#[derive(Debug, Clone)]
pub struct NewUpload {
    /// The name the clerk's browser gave (shown, kept as the record's original name).
    pub filename: String,
    /// The media type the upload was accepted as (`application/pdf`, `image/png`…).
    pub media_type: String,
    /// The unit the record will belong to.
    pub unit_code: String,
    /// Who uploaded it (`desk:<account name>`), for the audit trail.
    pub actor: String,
    /// Publish the record if every rule allows; else it is kept as a draft.
    pub publish: bool,
}

/// The job machinery `AppState` carries: wakes the workers when a job is enqueued.
#[derive(Debug, Clone, Default)]
pub struct Jobs {
    wake: Arc<Notify>,
}

impl Jobs {
    /// Wakes one idle worker (a job was enqueued).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Stores `bytes` (through a [`BlobGuard`]) and enqueues the job that will take them in,
/// in the transaction that consumes the blob's intent; wakes a worker. Returns the job id.
pub async fn enqueue_upload(
    state: &AppState,
    upload: NewUpload,
    bytes: &[u8],
) -> Result<i64, StoreError> {
    let sha256 = crate::extract::sha256_hex(bytes);
    let mut guard = BlobGuard::new(&state.store, &state.blobs);
    if let Err(e) = guard.put(&sha256, bytes).await {
        guard.abandon().await;
        return Err(match e {
            crate::blob::GuardError::Announce(e) => e,
            crate::blob::GuardError::Write(e) => StoreError::Database(sqlx::Error::Io(e)),
        });
    }
    let claims = guard.claim(&sha256);
    let job = NewJob {
        kind: JobKind::Upload,
        blob_sha256: sha256,
        filename: upload.filename,
        media_type: upload.media_type,
        size: bytes.len() as i64,
        unit_code: upload.unit_code,
        actor: upload.actor,
        publish: upload.publish,
        max_attempts: state.settings.jobs.max_attempts.max(1) as i32,
    };
    match state.store.enqueue_job(&job, &claims).await {
        Ok(id) => {
            guard.committed().await;
            state.jobs.wake();
            Ok(id)
        }
        Err(e) => {
            guard.abandon().await;
            Err(e)
        }
    }
}

/// Jobs `ids` as the desk shows them, restricted to `scope`'s units (`None`: every unit).
/// Unknown ids and other units' jobs are left out.
pub async fn job_views(
    store: &Store,
    ids: &[i64],
    scope: Option<&[String]>,
) -> Result<Vec<JobView>, StoreError> {
    Ok(store
        .jobs(ids)
        .await?
        .iter()
        .filter(|j| scope.is_none_or(|units| units.contains(&j.unit_code)))
        .map(JobView::of)
        .collect())
}

/// This process's workers as lease owners: `<host hash>-<pid>-<start>/w<n>`, so that a
/// restarted server knows the dead one's leases (`crate::store::Holder::file_tag`).
fn owner_name(worker: usize) -> String {
    format!("{}/w{worker}", crate::store::Holder::current().file_tag())
}

/// Whether the lease owner named `owner` was a process of this host that is gone.
fn owner_is_dead(owner: &str) -> bool {
    let tag = owner.split('/').next().unwrap_or("");
    crate::store::Holder::from_file_tag(tag).is_some_and(|h| h.is_dead_here())
}

/// The running worker pool.
pub struct WorkerPool {
    stop: watch::Sender<bool>,
    workers: Vec<JoinHandle<()>>,
}

impl WorkerPool {
    /// Starts `count` workers (`[jobs] workers`) on `state`, first putting back in the
    /// queue the jobs a dead server of this host left running.
    pub async fn start(state: Arc<AppState>, count: usize) -> WorkerPool {
        match state.store.requeue_dead_jobs(owner_is_dead).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(jobs = n, "requeued the jobs of a server that stopped"),
            Err(e) => tracing::error!(error = %e, "cannot requeue interrupted jobs"),
        }
        let (stop, stop_rx) = watch::channel(false);
        let workers = (0..count.max(1))
            .map(|n| {
                let worker = Worker {
                    state: state.clone(),
                    owner: owner_name(n),
                };
                tokio::spawn(worker.run(stop_rx.clone()))
            })
            .collect();
        tracing::info!(workers = count.max(1), "job workers started");
        WorkerPool { stop, workers }
    }

    /// Stops the workers after the job each is running, and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for worker in self.workers {
            let _ = worker.await;
        }
    }
}

struct Worker {
    state: Arc<AppState>,
    owner: String,
}

impl Worker {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let poll = Duration::from_secs(self.state.settings.jobs.poll_seconds.max(1));
        loop {
            if *stop.borrow() {
                break;
            }
            match self.state.store.claim_job(&self.owner, self.lease()).await {
                Ok(Some(job)) => {
                    self.run_job(job).await;
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "cannot claim a job"),
            }
            tokio::select! {
                _ = self.state.jobs.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                changed = stop.changed() => {
                    if changed.is_err() {
                        break; // the pool is gone
                    }
                }
            }
        }
    }

    fn lease(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.state.settings.jobs.lease_seconds.max(3) as i64)
    }

    /// Runs one claimed job to its end (or to its next attempt), renewing its lease
    /// meanwhile.
    async fn run_job(&self, job: JobRecord) {
        let renew_every =
            Duration::from_secs((self.state.settings.jobs.lease_seconds.max(3) / 3).max(1));
        let work = self.process(&job);
        tokio::pin!(work);
        let result = loop {
            tokio::select! {
                result = &mut work => break result,
                _ = tokio::time::sleep(renew_every) => {
                    match self.state.store.renew_job_lease(job.id, &self.owner, self.lease()).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(job = job.id, "job lease lost; another worker may run it"),
                        Err(e) => tracing::warn!(job = job.id, error = %e, "cannot renew a job lease"),
                    }
                }
            }
        };
        let end = match &result {
            Ok((document_id, outcome, detail)) => JobEnd::Done {
                document_id: *document_id,
                outcome,
                detail,
            },
            Err(f) if f.transient && job.attempts < job.max_attempts => JobEnd::Retry {
                error: &f.message,
                run_after: Utc::now() + backoff(&self.state.settings.jobs, job.attempts),
            },
            Err(f) => JobEnd::Failed {
                error: &f.message,
                permanent: !f.transient,
            },
        };
        let blobs: BlobStore = self.state.blobs.clone();
        match self
            .state
            .store
            .end_job(job.id, &self.owner, end.clone(), |sha| {
                blobs.remove_unreferenced(sha)
            })
            .await
        {
            Ok(true) => {
                match &end {
                    JobEnd::Done {
                        document_id,
                        outcome,
                        ..
                    } => {
                        tracing::info!(job = job.id, document = document_id, outcome, "job done");
                        // The search index picks the record up now.
                        self.state.changes.notify_one();
                    }
                    JobEnd::Retry { error, .. } => {
                        tracing::info!(
                            job = job.id,
                            attempts = job.attempts,
                            error,
                            "job failed; will be retried"
                        )
                    }
                    JobEnd::Failed { error, .. } => {
                        tracing::warn!(job = job.id, attempts = job.attempts, error, "job failed")
                    }
                }
            }
            Ok(false) => tracing::warn!(job = job.id, "job lease lost before its end was recorded"),
            Err(e) => {
                tracing::error!(job = job.id, error = %e, "cannot record a job's end; it runs again after its lease")
            }
        }
    }

    /// The work of one job: the intake of its file. `(record, outcome, detail)` or why not.
    async fn process(
        &self,
        job: &JobRecord,
    ) -> Result<(i64, &'static str, String), crate::intake::Failure> {
        use crate::intake::Failure;
        if job.attempts > job.max_attempts {
            // Claimed again after every attempt was cut short (the server died each time).
            return Err(Failure::permanent(format!(
                "Đã thử {} lần, lần nào cũng bị gián đoạn: văn thư tải lại tệp hoặc báo quản trị",
                job.attempts - 1
            )));
        }
        let Some(sha256) = job.blob_sha256.clone() else {
            return Err(Failure::permanent("Công việc không còn tệp tải lên"));
        };
        let blobs = self.state.blobs.clone();
        let bytes = match tokio::task::spawn_blocking(move || blobs.read(&sha256)).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Failure::permanent(
                    "Tệp tải lên không còn trong kho: văn thư tải lại tệp",
                ));
            }
            Ok(Err(e)) => return Err(Failure::transient(format!("không đọc được tệp: {e}"))),
            Err(e) => return Err(Failure::transient(format!("không đọc được tệp: {e}"))),
        };
        if bytes.len() as u64 > self.state.settings.extraction.max_file_bytes {
            return Err(Failure::permanent(format!(
                "tệp quá lớn ({} byte > {} byte)",
                bytes.len(),
                self.state.settings.extraction.max_file_bytes
            )));
        }
        let intake = Intake {
            store: &self.state.store,
            blobs: &self.state.blobs,
            settings: &self.state.settings,
            types: self.state.types,
        };
        let source_ref = job_ref(job.id);
        let (_, outcome) = intake
            .take_file(FileInput {
                bytes,
                unit_code: &job.unit_code,
                actor: &job.actor,
                publish: job.publish,
                origin: Origin {
                    source: UPLOAD_SOURCE,
                    source_ref: Some(source_ref.clone()),
                    external_id: None,
                    original_name: Some(job.filename.clone()),
                },
            })
            .await;
        match outcome? {
            Outcome::New { id, reason, .. } => Ok((id, "new", reason)),
            Outcome::Superseded { id, reason, .. } => Ok((id, "superseded", reason)),
            Outcome::Duplicate { id } => {
                // This job's own record, committed by a run that died before the job was
                // marked done: the job is done with it (exactly once).
                let record = self.state.store.get_document(id).await?;
                if record.source == UPLOAD_SOURCE
                    && record.source_ref.as_deref() == Some(source_ref.as_str())
                {
                    Ok((id, "new", "Văn bản đã được lưu ở lần xử lý trước".into()))
                } else {
                    Ok((
                        id,
                        "duplicate",
                        format!("Trùng với văn bản #{id} đã có trong sổ: không lưu thêm"),
                    ))
                }
            }
            Outcome::Failed { reason } => Err(Failure::permanent(reason)),
        }
    }
}

/// The `source` of records stored from desk uploads.
pub const UPLOAD_SOURCE: &str = "upload";

/// The `source_ref` of the record job `id` stores.
pub fn job_ref(id: i64) -> String {
    format!("job:{id}")
}

/// The wait before attempt `attempts + 1`: base × 2^(attempts − 1), at most an hour.
pub fn backoff(settings: &crate::config::JobSettings, attempts: i32) -> chrono::Duration {
    let exponent = attempts.saturating_sub(1).clamp(0, 20) as u32;
    let seconds = settings
        .retry_base_seconds
        .max(1)
        .saturating_mul(1u64 << exponent)
        .min(3_600);
    chrono::Duration::seconds(seconds as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_an_hour() {
        let settings = crate::config::JobSettings {
            workers: 1,
            max_attempts: 5,
            retry_base_seconds: 5,
            lease_seconds: 60,
            poll_seconds: 2,
        };
        let waits: Vec<i64> = (1..=12)
            .map(|n| backoff(&settings, n).num_seconds())
            .collect();
        assert_eq!(
            waits,
            [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
    }

    #[test]
    fn a_lease_owner_names_this_process() {
        let mine = owner_name(3);
        assert!(mine.ends_with("/w3"));
        assert!(!owner_is_dead(&mine), "this process is alive");
        assert!(
            !owner_is_dead("not a tag"),
            "an unknown owner waits for its lease"
        );
    }
}
