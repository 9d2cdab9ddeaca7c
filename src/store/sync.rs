//! What the e-office sync keeps: the per-package ledger (what was stored, acknowledged,
//! failed), lifecycle writes (new, update, revoke, replace) applied in the same transaction
//! as the ledger row, run records, and job leases shared by every node.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use sqlx::types::Json;

use super::{
    BeginWrite, DOCUMENT_COLUMNS, DocumentFields, DocumentRecord, NewDocument, Status, Store,
    StoreError, classify, facts_of, key_of,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageState {
    /// Committed; the hub has not yet been told.
    Stored,
    /// Committed and acknowledged: finished.
    Acked,
    /// Will be retried from `next_attempt_at`.
    Failed,
    /// Failed too often: waits for a person (`vanban sync retry`).
    NeedsAttention,
}

impl PackageState {
    pub fn as_str(self) -> &'static str {
        match self {
            PackageState::Stored => "stored",
            PackageState::Acked => "acked",
            PackageState::Failed => "failed",
            PackageState::NeedsAttention => "needs_attention",
        }
    }
    fn parse(s: &str) -> PackageState {
        match s {
            "stored" => PackageState::Stored,
            "acked" => PackageState::Acked,
            "needs_attention" => PackageState::NeedsAttention,
            _ => PackageState::Failed,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageRecord {
    pub source: String,
    pub package_id: String,
    pub state: PackageState,
    pub business: Option<String>,
    pub external_id: Option<String>,
    pub targets: Vec<String>,
    pub document_id: Option<i64>,
    pub package_sha256: Option<String>,
    pub outcome: Option<String>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub first_seen_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub acked_at: Option<DateTime<Utc>>,
}

/// What a package does to the registry.
#[derive(Debug, Clone)]
pub enum SyncAction {
    /// A new document; `replaces` names (by external id) the documents it replaces, which
    /// are withdrawn and pointed at it.
    Insert {
        doc: Box<NewDocument>,
        replaces: Vec<String>,
        /// Set when a replace package for this document arrived before it did.
        replaced_by: Option<i64>,
    },
    /// A new version of an existing document (the previous one is kept in
    /// `document_versions`).
    Update {
        document_id: i64,
        doc: Box<NewDocument>,
    },
    /// The package carries the signed original of a record that holds an unsigned or broken
    /// copy (`domain::place`): the record takes the original's file and fields, the copy
    /// stays in `document_versions`, and the audit entry `superseded` says why.
    Supersede {
        document_id: i64,
        doc: Box<NewDocument>,
        reason: String,
    },
    /// The document leaves the public registry (it stays in the database with its history).
    Revoke { document_id: i64, reason: String },
    /// Nothing to write but the ledger row, linked to `document_id` when the package is
    /// about a document already stored (duplicates); a status package, or a revocation of
    /// a document not seen yet, is remembered by the row alone.
    Record { document_id: Option<i64> },
}

/// What a further file of a record is (appendix, draft…), for its label on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentRole {
    /// `Phụ lục`: named so, or a spreadsheet, or a further PDF.
    Appendix,
    /// `Dự thảo`, or the editable (Word/ODF) version of the document.
    Draft,
    Other,
}

impl AttachmentRole {
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentRole::Appendix => "appendix",
            AttachmentRole::Draft => "draft",
            AttachmentRole::Other => "other",
        }
    }
    pub fn parse(s: &str) -> AttachmentRole {
        match s {
            "appendix" => AttachmentRole::Appendix,
            "draft" => AttachmentRole::Draft,
            _ => AttachmentRole::Other,
        }
    }
    /// What the public page calls it.
    pub fn label(self) -> &'static str {
        match self {
            AttachmentRole::Appendix => "Phụ lục",
            AttachmentRole::Draft => "Bản soạn thảo",
            AttachmentRole::Other => "Tệp đính kèm",
        }
    }
}

/// A further file of a record, its bytes already in the blob store under `sha256`.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub sha256: String,
    pub filename: String,
    pub media_type: String,
    pub size: i64,
    pub role: AttachmentRole,
}

/// A further file of a record as stored; `position` (from 1) names it in URLs.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentRecord {
    pub position: i32,
    pub sha256: String,
    pub filename: String,
    pub media_type: String,
    pub size: i64,
    pub role: AttachmentRole,
}

/// A stored package whose sender is owed a status package.
#[derive(Debug, Clone)]
pub struct PendingStatus {
    pub package_id: String,
    pub package_sha256: Option<String>,
    pub document_id: Option<i64>,
    pub attempts: i32,
}

#[derive(Debug, Clone)]
pub struct SyncWrite {
    pub source: String,
    pub package_id: String,
    /// `new`, `revoke`, `update`, `replace` or `status`.
    pub business: String,
    pub external_id: Option<String>,
    pub targets: Vec<String>,
    pub package_sha256: String,
    /// What happened, for reports: `new`, `updated`, `revoked`, `replaced`, `duplicate`…
    pub outcome: String,
    pub actor: String,
    pub action: SyncAction,
    /// The record's further files (appendices, drafts), written with an insert or update.
    pub attachments: Vec<NewAttachment>,
    /// Whether the sender is owed a status package once this is stored (`send_status`).
    pub send_status: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncRun {
    pub id: i64,
    pub job: String,
    pub source: String,
    pub node: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: String,
    pub counts: Value,
    pub errors: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct VersionRecord {
    pub version: i32,
    pub status: String,
    pub file_sha256: String,
    pub fields: Value,
    pub actor: String,
    pub reason: String,
    pub superseded_at: DateTime<Utc>,
}

/// What an earlier package said about a document that had not arrived yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tombstone {
    Revoked { package_id: String },
    ReplacedBy { document_id: i64 },
}

const PACKAGE_COLUMNS: &str = "source, package_id, state, business, external_id, targets, document_id, package_sha256, \
     outcome, attempts, last_error, next_attempt_at, first_seen_at, updated_at, acked_at";

macro_rules! package_from_row {
    ($row:expr) => {{
        let row = $row;
        PackageRecord {
            source: row.try_get("source")?,
            package_id: row.try_get("package_id")?,
            state: PackageState::parse(&row.try_get::<String, _>("state")?),
            business: row.try_get("business")?,
            external_id: row.try_get("external_id")?,
            targets: serde_json::from_str(&row.try_get::<String, _>("targets")?)
                .unwrap_or_default(),
            document_id: row.try_get("document_id")?,
            package_sha256: row.try_get("package_sha256")?,
            outcome: row.try_get("outcome")?,
            attempts: row.try_get("attempts")?,
            last_error: row.try_get("last_error")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
            first_seen_at: row.try_get("first_seen_at")?,
            updated_at: row.try_get("updated_at")?,
            acked_at: row.try_get("acked_at")?,
        }
    }};
}

macro_rules! run_from_row {
    ($row:expr) => {{
        let row = $row;
        SyncRun {
            id: row.try_get("id")?,
            job: row.try_get("job")?,
            source: row.try_get("source")?,
            node: row.try_get("node")?,
            started_at: row.try_get("started_at")?,
            finished_at: row.try_get("finished_at")?,
            status: row.try_get("status")?,
            counts: row.try_get::<Json<Value>, _>("counts")?.0,
            errors: row.try_get::<Json<Value>, _>("errors")?.0,
        }
    }};
}

impl Store {
    /// Applies one package's effect and records it in the ledger as `stored`, in one
    /// transaction: after a crash either both happened or neither did.
    pub async fn apply_sync(&self, w: &SyncWrite) -> Result<Option<i64>, StoreError> {
        self.apply_sync_claiming(w, &[]).await
    }

    /// [`Store::apply_sync`], consuming in the same transaction the blob intents of the
    /// blobs the write references (`crate::blob::BlobGuard::claim`).
    pub async fn apply_sync_claiming(
        &self,
        w: &SyncWrite,
        intents: &[i64],
    ) -> Result<Option<i64>, StoreError> {
        let now = Utc::now();
        let targets = serde_json::to_string(&w.targets).expect("json");
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            super::intents::claim_intents_tx!(tx, intents);
            let document_id: Option<i64> = match &w.action {
                SyncAction::Record { document_id } => *document_id,
                SyncAction::Insert { doc, replaces, replaced_by } => {
                    let doc: &NewDocument = doc;
                    // The replaced documents leave publication first: the replacement may
                    // carry the same registry key (one published record per key).
                    let mut withdrawn = Vec::new();
                    for replaced in replaces {
                        let old: Option<(i64, String)> = sqlx::query("SELECT id, status FROM documents WHERE external_id = $1")
                            .bind(replaced)
                            .fetch_optional(&mut *tx)
                            .await?
                            .map(|r| Ok::<_, sqlx::Error>((r.try_get("id")?, r.try_get("status")?)))
                            .transpose()?;
                        let Some((old_id, old_status)) = old else { continue };
                        sqlx::query(
                            "UPDATE documents SET status = $1, version = version + 1, updated_at = $2, \
                             withdrawn_at = $2 WHERE id = $3",
                        )
                            .bind(Status::Withdrawn.as_str())
                            .bind(now)
                            .bind(old_id)
                            .execute(&mut *tx)
                            .await?;
                        withdrawn.push((old_id, old_status));
                    }
                    let id = insert_document_tx!(tx, doc, now);
                    if let Some(by) = replaced_by {
                        sqlx::query("UPDATE documents SET replaced_by = $1 WHERE id = $2")
                            .bind(by)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    for (old_id, old_status) in withdrawn {
                        sqlx::query("UPDATE documents SET replaced_by = $1, withdrawal_reason = $3 WHERE id = $2")
                            .bind(id)
                            .bind(old_id)
                            .bind(format!("Được thay thế bởi văn bản #{id}"))
                            .execute(&mut *tx)
                            .await?;
                        let detail = serde_json::json!({
                            "from": old_status, "to": "withdrawn", "replaced_by": id,
                            "reason": format!("Được thay thế bởi văn bản #{id} (gói {})", w.package_id),
                        });
                        audit_and_change_tx!(tx, old_id, "replaced", &w.actor, &detail, now);
                    }
                    Some(id)
                }
                SyncAction::Update { document_id, doc } => {
                    let doc: &NewDocument = doc;
                    let decided = doc.status;
                    new_version_tx!(
                        tx,
                        *document_id,
                        doc,
                        |current| crate::domain::updated_status(current, decided),
                        &w.actor,
                        format!("Cập nhật theo gói {}", w.package_id),
                        "updated",
                        serde_json::json!({"package": w.package_id}),
                        now
                    );
                    Some(*document_id)
                }
                SyncAction::Supersede { document_id, doc, reason } => {
                    let doc: &NewDocument = doc;
                    let decided = doc.status;
                    new_version_tx!(
                        tx,
                        *document_id,
                        doc,
                        |current| crate::domain::superseded_status(current, decided),
                        &w.actor,
                        reason.clone(),
                        "superseded",
                        serde_json::json!({"package": w.package_id, "superseded": reason}),
                        now
                    );
                    Some(*document_id)
                }
                SyncAction::Revoke { document_id, reason } => {
                    let status: String = sqlx::query("SELECT status FROM documents WHERE id = $1")
                        .bind(document_id)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or(StoreError::NotFound(*document_id))?
                        .try_get("status")?;
                    if status != Status::Withdrawn.as_str() {
                        sqlx::query(
                            "UPDATE documents SET status = 'withdrawn', version = version + 1, updated_at = $1, \
                             withdrawn_at = $1, withdrawal_reason = $3 WHERE id = $2",
                        )
                            .bind(now)
                            .bind(document_id)
                            .bind(reason)
                            .execute(&mut *tx)
                            .await?;
                        let detail = serde_json::json!({"from": status, "to": "withdrawn", "reason": reason, "package": w.package_id});
                        audit_and_change_tx!(tx, *document_id, "revoked", &w.actor, &detail, now);
                    }
                    Some(*document_id)
                }
            };
            // The package's DocumentId names the record it was found to be (a duplicate
            // or the signed original of a hand-ingested copy): later update, revoke and
            // replace packages find it by that id.
            if matches!(w.action, SyncAction::Record { .. } | SyncAction::Supersede { .. })
                && let (Some(id), Some(external_id)) = (document_id, &w.external_id)
            {
                sqlx::query(
                    "UPDATE documents SET external_id = $1 WHERE id = $2 AND external_id IS NULL \
                     AND NOT EXISTS (SELECT 1 FROM documents o WHERE o.external_id = $1)",
                )
                .bind(external_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            let wrote_document = matches!(w.action, SyncAction::Insert { .. } | SyncAction::Update { .. } | SyncAction::Supersede { .. });
            if wrote_document
                && !w.attachments.is_empty()
                && let Some(id) = document_id
            {
                let version: i32 = sqlx::query("SELECT version FROM documents WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("version")?;
                for (i, a) in w.attachments.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO document_attachments (document_id, version, position, sha256, filename, \
                         media_type, size_bytes, role, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                         ON CONFLICT (document_id, version, position) DO NOTHING",
                    )
                    .bind(id)
                    .bind(version)
                    .bind(i as i32 + 1)
                    .bind(&a.sha256)
                    .bind(&a.filename)
                    .bind(&a.media_type)
                    .bind(a.size)
                    .bind(a.role.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            let status_send = (w.send_status && wrote_document).then_some("pending");
            sqlx::query(
                "INSERT INTO sync_packages (source, package_id, state, business, external_id, targets, document_id, \
                 package_sha256, outcome, attempts, last_error, next_attempt_at, first_seen_at, updated_at, status_send) \
                 VALUES ($1, $2, 'stored', $3, $4, $5, $6, $7, $8, 0, NULL, NULL, $9, $9, $10) \
                 ON CONFLICT (source, package_id) DO UPDATE SET state = 'stored', business = excluded.business, \
                 external_id = excluded.external_id, targets = excluded.targets, document_id = excluded.document_id, \
                 package_sha256 = excluded.package_sha256, outcome = excluded.outcome, last_error = NULL, \
                 next_attempt_at = NULL, updated_at = excluded.updated_at, status_send = excluded.status_send",
            )
            .bind(&w.source)
            .bind(&w.package_id)
            .bind(&w.business)
            .bind(&w.external_id)
            .bind(&targets)
            .bind(document_id)
            .bind(&w.package_sha256)
            .bind(&w.outcome)
            .bind(now)
            .bind(status_send)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(document_id)
        })
    }

    /// The hub has been told: the package is finished.
    pub async fn mark_acked(&self, source: &str, package_id: &str) -> Result<(), StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE sync_packages SET state = 'acked', acked_at = $1, updated_at = $1 \
                 WHERE source = $2 AND package_id = $3 AND state IN ('stored', 'acked')",
            )
            .bind(now)
            .bind(source)
            .bind(package_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records a failed attempt: retried after `retry_after(attempts)`, or set aside for a
    /// person after `max_attempts`. Returns the new state and attempt count.
    pub async fn record_package_failure(
        &self,
        source: &str,
        package_id: &str,
        error: &str,
        max_attempts: u32,
        retry_after: impl Fn(u32) -> chrono::Duration,
    ) -> Result<(PackageState, i32), StoreError> {
        let now = Utc::now();
        let previous = self.package(source, package_id).await?;
        // A package already committed is never demoted by a later failure (of its ack, say).
        if let Some(p) = &previous
            && matches!(p.state, PackageState::Stored | PackageState::Acked)
        {
            return Ok((p.state, p.attempts));
        }
        let attempts = previous.as_ref().map_or(0, |p| p.attempts) + 1;
        let (state, next) = if attempts as u32 >= max_attempts {
            (PackageState::NeedsAttention, None)
        } else {
            (
                PackageState::Failed,
                Some(now + retry_after(attempts as u32)),
            )
        };
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO sync_packages (source, package_id, state, attempts, last_error, next_attempt_at, first_seen_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                 ON CONFLICT (source, package_id) DO UPDATE SET state = excluded.state, attempts = excluded.attempts, \
                 last_error = excluded.last_error, next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at",
            )
            .bind(source)
            .bind(package_id)
            .bind(state.as_str())
            .bind(attempts)
            .bind(error)
            .bind(next)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok((state, attempts))
    }

    pub async fn package(
        &self,
        source: &str,
        package_id: &str,
    ) -> Result<Option<PackageRecord>, StoreError> {
        let sql = format!(
            "SELECT {PACKAGE_COLUMNS} FROM sync_packages WHERE source = $1 AND package_id = $2"
        );
        with_pool!(self, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(source)
                .bind(package_id)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(row) => Some(package_from_row!(row)),
                None => None,
            })
        })
    }

    /// Ledger rows in `state` (all sources when `source` is `None`), oldest change first.
    pub async fn packages_in_state(
        &self,
        source: Option<&str>,
        state: PackageState,
        limit: i64,
    ) -> Result<Vec<PackageRecord>, StoreError> {
        let sql = format!(
            "SELECT {PACKAGE_COLUMNS} FROM sync_packages WHERE state = $1 AND ($2 IS NULL OR source = $2) \
             ORDER BY updated_at, package_id LIMIT $3"
        );
        with_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(state.as_str())
                .bind(source)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(package_from_row!(row));
            }
            Ok(out)
        })
    }

    /// Ledger rows per state for a source.
    pub async fn package_counts(&self, source: &str) -> Result<Vec<(String, i64)>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT state, COUNT(*) AS n FROM sync_packages WHERE source = $1 GROUP BY state ORDER BY state",
            )
            .bind(source)
            .fetch_all(pool)
            .await?;
            rows.iter().map(|r| Ok((r.try_get("state")?, r.try_get("n")?))).collect()
        })
    }

    /// Every source the database has seen (in the ledger or in the run history), so a
    /// source removed from the configuration, or the demo's, still shows in `sync status`.
    pub async fn known_sources(&self) -> Result<Vec<String>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT DISTINCT source FROM sync_packages UNION SELECT DISTINCT source FROM sync_runs ORDER BY 1",
            )
            .fetch_all(pool)
            .await?;
            rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
        })
    }

    /// Makes a failed or set-aside package due again with a fresh attempt count; `None`
    /// resets every set-aside package of the source. Returns how many rows changed.
    pub async fn reset_packages(
        &self,
        source: &str,
        package_id: Option<&str>,
    ) -> Result<u64, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE sync_packages SET state = 'failed', attempts = 0, next_attempt_at = NULL, updated_at = $1 \
                 WHERE source = $2 AND ($3 IS NULL OR package_id = $3) \
                 AND (state = 'needs_attention' OR ($3 IS NOT NULL AND state = 'failed'))",
            )
            .bind(now)
            .bind(source)
            .bind(package_id)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        })
    }

    /// What an earlier package said about `external_id` before its document arrived: it
    /// was revoked, or another document replaced it.
    pub async fn tombstone(&self, external_id: &str) -> Result<Option<Tombstone>, StoreError> {
        let pattern = format!("%{}%", serde_json::to_string(external_id).expect("json"));
        with_pool!(self, pool => {
            let revoked = sqlx::query(
                "SELECT package_id FROM sync_packages WHERE business = 'revoke' AND external_id = $1 \
                 AND state IN ('stored', 'acked') ORDER BY first_seen_at LIMIT 1",
            )
            .bind(external_id)
            .fetch_optional(pool)
            .await?;
            if let Some(row) = revoked {
                return Ok(Some(Tombstone::Revoked { package_id: row.try_get("package_id")? }));
            }
            let replaced = sqlx::query(
                "SELECT document_id FROM sync_packages WHERE business = 'replace' AND targets LIKE $1 \
                 AND document_id IS NOT NULL AND state IN ('stored', 'acked') ORDER BY first_seen_at LIMIT 1",
            )
            .bind(&pattern)
            .fetch_optional(pool)
            .await?;
            Ok(match replaced {
                Some(row) => Some(Tombstone::ReplacedBy { document_id: row.try_get("document_id")? }),
                None => None,
            })
        })
    }

    pub async fn document_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<DocumentRecord>, StoreError> {
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE external_id = $1");
        with_pool!(self, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(external_id).fetch_optional(pool).await?;
            Ok(match row {
                Some(row) => Some(record_from_row!(row)),
                None => None,
            })
        })
    }

    /// The further files of a record, in order: the list of the latest version that wrote
    /// one. Status changes (publish, withdraw) and key backfills bump the version without
    /// touching the files, so the list is not tied to the current version number.
    pub async fn attachments(&self, document_id: i64) -> Result<Vec<AttachmentRecord>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT a.position, a.sha256, a.filename, a.media_type, a.size_bytes, a.role \
                 FROM document_attachments a WHERE a.document_id = $1 AND a.version = \
                 (SELECT MAX(l.version) FROM document_attachments l WHERE l.document_id = $1) \
                 ORDER BY a.position",
            )
            .bind(document_id)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(AttachmentRecord {
                        position: r.try_get("position")?,
                        sha256: r.try_get("sha256")?,
                        filename: r.try_get("filename")?,
                        media_type: r.try_get("media_type")?,
                        size: r.try_get("size_bytes")?,
                        role: AttachmentRole::parse(&r.try_get::<String, _>("role")?),
                    })
                })
                .collect()
        })
    }

    /// Stored packages of `source` whose sender is owed a status package, due at `now`.
    pub async fn pending_status(
        &self,
        source: &str,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<PendingStatus>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT package_id, package_sha256, document_id, status_attempts FROM sync_packages \
                 WHERE source = $1 AND status_send = 'pending' AND state IN ('stored', 'acked') \
                 AND (status_next_at IS NULL OR status_next_at <= $2) ORDER BY first_seen_at, package_id LIMIT $3",
            )
            .bind(source)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(PendingStatus {
                        package_id: r.try_get("package_id")?,
                        package_sha256: r.try_get("package_sha256")?,
                        document_id: r.try_get("document_id")?,
                        attempts: r.try_get("status_attempts")?,
                    })
                })
                .collect()
        })
    }

    /// The status package reached the hub (`Ok`), or did not: retried from `next` (`Err`).
    pub async fn record_status_send(
        &self,
        source: &str,
        package_id: &str,
        outcome: Result<(), (&str, DateTime<Utc>)>,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            match outcome {
                Ok(()) => {
                    sqlx::query(
                        "UPDATE sync_packages SET status_send = 'sent', status_error = NULL, status_next_at = NULL, \
                         status_attempts = status_attempts + 1 WHERE source = $1 AND package_id = $2",
                    )
                    .bind(source)
                    .bind(package_id)
                    .execute(pool)
                    .await?;
                }
                Err((error, next)) => {
                    sqlx::query(
                        "UPDATE sync_packages SET status_error = $1, status_next_at = $2, \
                         status_attempts = status_attempts + 1 WHERE source = $3 AND package_id = $4",
                    )
                    .bind(error)
                    .bind(next)
                    .bind(source)
                    .bind(package_id)
                    .execute(pool)
                    .await?;
                }
            }
        });
        Ok(())
    }

    pub async fn versions(&self, document_id: i64) -> Result<Vec<VersionRecord>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT version, status, file_sha256, fields, actor, reason, superseded_at FROM document_versions \
                 WHERE document_id = $1 ORDER BY version",
            )
            .bind(document_id)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(VersionRecord {
                        version: r.try_get("version")?,
                        status: r.try_get("status")?,
                        file_sha256: r.try_get("file_sha256")?,
                        fields: r.try_get::<Json<Value>, _>("fields")?.0,
                        actor: r.try_get("actor")?,
                        reason: r.try_get("reason")?,
                        superseded_at: r.try_get("superseded_at")?,
                    })
                })
                .collect()
        })
    }

    /// Records of `status` (the review queue), newest first, optionally of one unit; with
    /// the total.
    pub async fn documents_in_status(
        &self,
        status: Status,
        unit: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<DocumentRecord>, i64), StoreError> {
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE status = $1 AND ($2 IS NULL OR unit_code = $2) \
             ORDER BY updated_at DESC, id DESC LIMIT $3 OFFSET $4"
        );
        with_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(status.as_str())
                .bind(unit)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(record_from_row!(row));
            }
            let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM documents WHERE status = $1 AND ($2 IS NULL OR unit_code = $2)")
                .bind(status.as_str())
                .bind(unit)
                .fetch_one(pool)
                .await?
                .try_get("n")?;
            Ok((out, total))
        })
    }

    /// Starts a run record; any other run of the same job and source still marked
    /// running was cut short (its holder lost the lease) and is marked `interrupted`.
    pub async fn start_run(&self, job: &str, source: &str, node: &str) -> Result<i64, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE sync_runs SET status = 'interrupted', finished_at = $1 WHERE source = $2 AND status = 'running'",
            )
            .bind(now)
            .bind(source)
            .execute(&mut *tx)
            .await?;
            let id: i64 = sqlx::query(
                "INSERT INTO sync_runs (job, source, node, started_at, status, counts, errors) \
                 VALUES ($1, $2, $3, $4, 'running', $5, $6) RETURNING id",
            )
            .bind(job)
            .bind(source)
            .bind(node)
            .bind(now)
            .bind(Json(serde_json::json!({})))
            .bind(Json(serde_json::json!([])))
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
            tx.commit().await?;
            Ok(id)
        })
    }

    pub async fn finish_run(
        &self,
        id: i64,
        status: &str,
        counts: &Value,
        errors: &Value,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            sqlx::query("UPDATE sync_runs SET status = $1, finished_at = $2, counts = $3, errors = $4 WHERE id = $5")
                .bind(status)
                .bind(now)
                .bind(Json(counts))
                .bind(Json(errors))
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Runs, newest first (of one source, or all).
    pub async fn runs(&self, source: Option<&str>, limit: i64) -> Result<Vec<SyncRun>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT id, job, source, node, started_at, finished_at, status, counts, errors FROM sync_runs \
                 WHERE ($1 IS NULL OR source = $1) ORDER BY id DESC LIMIT $2",
            )
            .bind(source)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(run_from_row!(row));
            }
            Ok(out)
        })
    }

    pub async fn run(&self, id: i64) -> Result<Option<SyncRun>, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT id, job, source, node, started_at, finished_at, status, counts, errors FROM sync_runs WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?;
            Ok(match row {
                Some(row) => Some(run_from_row!(row)),
                None => None,
            })
        })
    }

    /// Takes the lease on `job` for `ttl` unless another holder has an unexpired one.
    /// The same holder may take it again (that renews it).
    pub async fn acquire_lease(
        &self,
        job: &str,
        holder: &str,
        ttl: chrono::Duration,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let done = sqlx::query(
                "INSERT INTO job_leases (job, holder, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
                 WHERE job_leases.expires_at < $4 OR job_leases.holder = excluded.holder",
            )
            .bind(job)
            .bind(holder)
            .bind(now + ttl)
            .bind(now)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Extends a lease this holder has; `false` when it was lost (expired and taken).
    pub async fn renew_lease(
        &self,
        job: &str,
        holder: &str,
        ttl: chrono::Duration,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let done = sqlx::query("UPDATE job_leases SET expires_at = $1 WHERE job = $2 AND holder = $3")
                .bind(now + ttl)
                .bind(job)
                .bind(holder)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    pub async fn release_lease(&self, job: &str, holder: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM job_leases WHERE job = $1 AND holder = $2")
                .bind(job)
                .bind(holder)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Who holds `job` and until when, if the lease is live.
    pub async fn lease_holder(
        &self,
        job: &str,
    ) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let row = sqlx::query("SELECT holder, expires_at FROM job_leases WHERE job = $1 AND expires_at >= $2")
                .bind(job)
                .bind(now)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(r) => Some((r.try_get("holder")?, r.try_get("expires_at")?)),
                None => None,
            })
        })
    }
}
