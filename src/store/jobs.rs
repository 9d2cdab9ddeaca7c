//! Durable jobs (`migrations/*/0009_jobs.sql`): the rows `crate::jobs` workers claim,
//! lease, finish, retry or fail. Every state change is one statement or one write
//! transaction, and every change a worker makes names its lease (`lease_owner`), so a
//! worker that lost its lease (it stalled past the expiry and another took the job) changes
//! nothing.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::intents::{blob_wanted_tx, lock_blob_tx};
use super::{BeginWrite, Status, Store, StoreError};

/// Where a job row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobPhase {
    /// Waiting for a worker (from `run_after`).
    Queued,
    /// A worker holds its lease.
    Running,
    /// Finished: the record is stored (`document_id`).
    Done,
    /// Given up: `last_error` says why.
    Failed,
}

impl JobPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            JobPhase::Queued => "queued",
            JobPhase::Running => "running",
            JobPhase::Done => "done",
            JobPhase::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<JobPhase> {
        Some(match s {
            "queued" => JobPhase::Queued,
            "running" => JobPhase::Running,
            "done" => JobPhase::Done,
            "failed" => JobPhase::Failed,
            _ => return None,
        })
    }
}

/// What kind of work a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// A file uploaded at the desk, whose bytes wait in the blob store.
    Upload,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Upload => "upload",
        }
    }
}

/// A job to insert.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: JobKind,
    /// The uploaded bytes (already in the blob store, announced by an intent that the
    /// insert consumes).
    pub blob_sha256: String,
    pub filename: String,
    pub media_type: String,
    pub size: i64,
    pub unit_code: String,
    pub actor: String,
    /// Publish the record if every rule allows (else it is kept as a draft).
    pub publish: bool,
    pub max_attempts: i32,
}

/// A job row.
#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: i64,
    pub kind: JobKind,
    pub phase: JobPhase,
    /// Held while the job is queued or running; released when it ends.
    pub blob_sha256: Option<String>,
    pub filename: String,
    pub media_type: String,
    pub size: i64,
    pub unit_code: String,
    pub actor: String,
    pub publish: bool,
    /// Claims so far (the running one included).
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: DateTime<Utc>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The failure is not worth retrying (not a PDF, a broken file, a refusal).
    pub permanent: bool,
    /// `new`, `duplicate`, `superseded` or `conflict` once done.
    pub outcome: Option<String>,
    pub detail: Option<String>,
    pub document_id: Option<i64>,
    /// The record's status now (joined when listing jobs).
    pub document_status: Option<Status>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const JOB_COLUMNS: &str = "jobs.id, jobs.kind, jobs.state, jobs.blob_sha256, jobs.filename, jobs.media_type, \
     jobs.size, jobs.unit_code, jobs.actor, jobs.publish, jobs.attempts, jobs.max_attempts, jobs.run_after, \
     jobs.lease_owner, jobs.lease_expires_at, jobs.last_error, jobs.permanent, jobs.outcome, jobs.detail, \
     jobs.document_id, jobs.created_at, jobs.updated_at, jobs.finished_at";

macro_rules! job_from_row {
    ($row:expr, $status:expr) => {{
        let row = $row;
        JobRecord {
            id: row.try_get("id")?,
            kind: JobKind::Upload,
            phase: JobPhase::parse(&row.try_get::<String, _>("state")?).unwrap_or(JobPhase::Failed),
            blob_sha256: row.try_get("blob_sha256")?,
            filename: row.try_get("filename")?,
            media_type: row.try_get("media_type")?,
            size: row.try_get("size")?,
            unit_code: row.try_get("unit_code")?,
            actor: row.try_get("actor")?,
            publish: row.try_get("publish")?,
            attempts: row.try_get("attempts")?,
            max_attempts: row.try_get("max_attempts")?,
            run_after: row.try_get("run_after")?,
            lease_owner: row.try_get("lease_owner")?,
            lease_expires_at: row.try_get("lease_expires_at")?,
            last_error: row.try_get("last_error")?,
            permanent: row.try_get("permanent")?,
            outcome: row.try_get("outcome")?,
            detail: row.try_get("detail")?,
            document_id: row.try_get("document_id")?,
            document_status: $status,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            finished_at: row.try_get("finished_at")?,
        }
    }};
}

/// How a job ends (see [`Store::end_job`]).
#[derive(Debug, Clone)]
pub enum JobEnd<'a> {
    /// The record is stored (or was already).
    Done {
        document_id: i64,
        outcome: &'a str,
        detail: &'a str,
    },
    /// Try again from `run_after`.
    Retry {
        error: &'a str,
        run_after: DateTime<Utc>,
    },
    /// Give up.
    Failed { error: &'a str, permanent: bool },
}

impl Store {
    /// Inserts a queued job and, in the same transaction, consumes the intents of its
    /// blob (`BlobGuard::claim`): from then on the job row keeps the blob.
    pub async fn enqueue_job(&self, job: &NewJob, intents: &[i64]) -> Result<i64, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            super::intents::claim_intents_tx!(tx, intents);
            let id: i64 = sqlx::query(
                "INSERT INTO jobs (kind, state, blob_sha256, filename, media_type, size, unit_code, actor, publish, \
                 attempts, max_attempts, run_after, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $11, $11) RETURNING id",
            )
            .bind(job.kind.as_str())
            .bind(JobPhase::Queued.as_str())
            .bind(&job.blob_sha256)
            .bind(&job.filename)
            .bind(&job.media_type)
            .bind(job.size)
            .bind(&job.unit_code)
            .bind(&job.actor)
            .bind(job.publish)
            .bind(job.max_attempts)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Claims the oldest runnable job for `owner` for `lease`: a queued job whose
    /// `run_after` has come, or a running job whose lease expired (its worker died). The
    /// claim counts as an attempt. Exclusive: PostgreSQL skips rows another claimer has
    /// locked (`FOR UPDATE SKIP LOCKED`); SQLite runs the one `UPDATE … RETURNING` in a
    /// write transaction (one writer at a time).
    pub async fn claim_job(
        &self,
        owner: &str,
        lease: chrono::Duration,
    ) -> Result<Option<JobRecord>, StoreError> {
        let now = Utc::now();
        let lock = match self {
            Store::Postgres(_) => " FOR UPDATE SKIP LOCKED",
            Store::Sqlite(_) => "",
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', lease_owner = $1, lease_expires_at = $2, \
             attempts = attempts + 1, updated_at = $3 \
             WHERE id = (SELECT id FROM jobs WHERE (state = 'queued' AND run_after <= $3) \
             OR (state = 'running' AND lease_expires_at < $3) ORDER BY run_after, id LIMIT 1{lock}) \
             RETURNING {}",
            JOB_COLUMNS.replace("jobs.", "")
        );
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(owner)
                .bind(now + lease)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            let job = match row {
                Some(row) => Some(job_from_row!(row, None)),
                None => None,
            };
            tx.commit().await?;
            Ok(job)
        })
    }

    /// Extends `owner`'s lease on job `id`; `false` when the lease is no longer its own.
    pub async fn renew_job_lease(
        &self,
        id: i64,
        owner: &str,
        lease: chrono::Duration,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
            )
            .bind(now + lease)
            .bind(id)
            .bind(owner)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Ends `owner`'s run of job `id` as `end`. A job that ends (done or failed) lets go
    /// of its blob in the same transaction, and the blob is removed (`remove`) if nothing
    /// else wants it (a done job's record references it; a failed upload leaves nothing).
    /// `false` when the lease is no longer `owner`'s: nothing changes.
    pub async fn end_job(
        &self,
        id: i64,
        owner: &str,
        end: JobEnd<'_>,
        remove: impl FnOnce(&str) -> std::io::Result<()>,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let blob: Option<Option<String>> = sqlx::query(
                "SELECT blob_sha256 FROM jobs WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
            )
            .bind(id)
            .bind(owner)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("blob_sha256"))
            .transpose()?;
            let Some(blob) = blob else {
                tx.rollback().await?;
                return Ok(false);
            };
            let ends = match end {
                JobEnd::Done { document_id, outcome, detail } => {
                    sqlx::query(
                        "UPDATE jobs SET state = 'done', document_id = $1, outcome = $2, detail = $3, \
                         last_error = NULL, blob_sha256 = NULL, lease_owner = NULL, lease_expires_at = NULL, \
                         updated_at = $4, finished_at = $4 WHERE id = $5",
                    )
                    .bind(document_id)
                    .bind(outcome)
                    .bind(detail)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    true
                }
                JobEnd::Retry { error, run_after } => {
                    sqlx::query(
                        "UPDATE jobs SET state = 'queued', last_error = $1, run_after = $2, lease_owner = NULL, \
                         lease_expires_at = NULL, updated_at = $3 WHERE id = $4",
                    )
                    .bind(error)
                    .bind(run_after)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    false
                }
                JobEnd::Failed { error, permanent } => {
                    sqlx::query(
                        "UPDATE jobs SET state = 'failed', last_error = $1, permanent = $2, blob_sha256 = NULL, \
                         lease_owner = NULL, lease_expires_at = NULL, updated_at = $3, finished_at = $3 WHERE id = $4",
                    )
                    .bind(error)
                    .bind(permanent)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    true
                }
            };
            if ends && let Some(sha) = blob {
                lock_blob_tx!(self, tx, &sha);
                if !blob_wanted_tx!(tx, &sha, -1_i64) {
                    // Removed before the commit: a crash in between leaves the job
                    // running, reclaimed later and failed for its missing file.
                    remove(&sha).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
                }
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Puts back in the queue the running jobs whose lease owner `is_dead` says is gone
    /// (a server of this host that was killed), without waiting for their leases to
    /// expire. Returns how many.
    pub async fn requeue_dead_jobs(
        &self,
        is_dead: impl Fn(&str) -> bool,
    ) -> Result<usize, StoreError> {
        let now = Utc::now();
        let owners: Vec<(i64, String)> = with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT id, lease_owner FROM jobs WHERE state = 'running' AND lease_owner IS NOT NULL",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| Ok((r.try_get("id")?, r.try_get("lease_owner")?)))
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        let mut requeued = 0;
        for (id, owner) in owners {
            if !is_dead(&owner) {
                continue;
            }
            let done = with_pool!(self, pool => sqlx::query(
                    "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, \
                     run_after = $1, updated_at = $1 WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
                )
                .bind(now)
                .bind(id)
                .bind(&owner)
                .execute(pool)
                .await?
                .rows_affected());
            requeued += done as usize;
        }
        Ok(requeued)
    }

    /// Jobs `ids` (those that exist), with their record's status, in id order.
    pub async fn jobs(&self, ids: &[i64]) -> Result<Vec<JobRecord>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT {JOB_COLUMNS}, documents.status AS document_status FROM jobs \
             LEFT JOIN documents ON documents.id = jobs.document_id \
             WHERE jobs.id IN ({}) ORDER BY jobs.id",
            placeholders.join(", ")
        );
        with_pool!(self, pool => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in ids {
                query = query.bind(*id);
            }
            let rows = query.fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let status = row
                    .try_get::<Option<String>, _>("document_status")?
                    .as_deref()
                    .and_then(Status::parse);
                out.push(job_from_row!(row, status));
            }
            Ok(out)
        })
    }

    /// The most recent jobs (of `units`, or every unit when `None`), newest first.
    pub async fn recent_jobs(
        &self,
        units: Option<&[String]>,
        limit: i64,
    ) -> Result<Vec<JobRecord>, StoreError> {
        if units.is_some_and(<[String]>::is_empty) {
            return Ok(Vec::new()); // a scope of no unit sees nothing
        }
        let units = units.unwrap_or_default();
        let filter = if units.is_empty() {
            String::new()
        } else {
            let placeholders: Vec<String> = (2..units.len() + 2).map(|n| format!("${n}")).collect();
            format!("WHERE unit_code IN ({})", placeholders.join(", "))
        };
        let sql = format!("SELECT id FROM jobs {filter} ORDER BY id DESC LIMIT $1");
        let ids: Vec<i64> = with_pool!(self, pool => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit);
            for unit in units {
                query = query.bind(unit);
            }
            let rows = query.fetch_all(pool).await?;
            rows.iter()
                .map(|r| Ok(r.try_get::<i64, _>("id")?))
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        let mut jobs = self.jobs(&ids).await?;
        jobs.reverse();
        Ok(jobs)
    }

    /// Jobs per state (`queued`, `running`, `done`, `failed`).
    pub async fn job_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state ORDER BY state")
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
                .collect()
        })
    }
}
