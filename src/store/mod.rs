//! The document store: SQLite (embedded default) or PostgreSQL (scale-out), same schema
//! semantics (`migrations/sqlite`, `migrations/postgres`), same code.
//!
//! Every query is written once with `$N` placeholders (both drivers accept them) and the
//! `with_pool!` macro expands it for each backend, so the two cannot drift apart.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::types::Json;
use sqlx::{Row, migrate::Migrator};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the backend's pool; the body is compiled per backend.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            Store::Sqlite($pool) => $body,
            Store::Postgres($pool) => $body,
        }
    };
}

/// Starts a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and writes later fails
/// with SQLITE_BUSY, without waiting, when another connection commits in between.
trait BeginWrite {
    type Db: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>>
    + Send;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error>,
    > + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error>,
    > + Send {
        self.begin()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule of the registry was violated; `constraint` is its stable name.
    #[error("{message}")]
    Conflict {
        constraint: &'static str,
        message: String,
    },
    #[error("không tìm thấy văn bản {0}")]
    NotFound(i64),
    #[error("không tìm thấy lý do giữ lại {0}")]
    HoldNotFound(i64),
    /// The publication rule refused the write (`domain::check_transition`).
    #[error("{0}")]
    Refused(#[from] crate::domain::Refusal),
    /// The record's blob was announced by an intent that is gone (swept as its holder's
    /// expired or dead): the record is not committed; storing it again is safe.
    #[error("tệp vừa ghi không còn được giữ cho văn bản này (blob intent {0} lost): cần lưu lại")]
    BlobIntentLost(i64),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Maps constraint violations to named, explained conflicts (SQLite names the columns,
/// PostgreSQL the constraint; both are recognised).
fn classify(err: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &err {
        let name = db.constraint().unwrap_or("");
        let message = db.message();
        if name == "documents_registry_key" || message.contains("documents.registry_key") {
            return StoreError::Conflict {
                constraint: "documents_registry_key",
                message: "Đã có văn bản cùng cơ quan ban hành, năm và số ký hiệu đang được công khai (documents_registry_key)".into(),
            };
        }
        if name == "documents_external_id_unique" || message.contains("documents.external_id") {
            return StoreError::Conflict {
                constraint: "documents_external_id_unique",
                message: "Văn bản có cùng mã định danh liên thông (DocumentId) đã được lưu (documents_external_id_unique)".into(),
            };
        }
        if name == "documents_file_unique" || message.contains("documents.file_sha256") {
            return StoreError::Conflict {
                constraint: "documents_file_unique",
                message: "Tệp này đã được lưu cho một văn bản khác (documents_file_unique)".into(),
            };
        }
    }
    StoreError::Database(err)
}

pub use crate::domain::Status;

/// Everything needed to insert one document with its file, text and findings.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub unit_code: String,
    pub status: Status,
    pub source: String,
    pub source_ref: Option<String>,
    /// The e-office identity (edXML `DocumentId`), unique across the registry.
    pub external_id: Option<String>,
    pub file: NewFile,
    pub metadata: DocumentFields,
    pub text: String,
    pub warnings: Vec<(String, String)>,
    pub citations: Vec<NewCitation>,
    pub actor: String,
    /// Why the status was chosen (recorded in the audit trail).
    pub status_reason: String,
    /// Every reason the record is held (`policy::Decision::holds`), stored with it. A
    /// record stored for review without any gets one from `status_reason`.
    pub holds: Vec<crate::domain::Hold>,
}

#[derive(Debug, Clone)]
pub struct NewFile {
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub original_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DocumentFields {
    pub doc_type: Option<String>,
    pub number: Option<String>,
    pub symbol: Option<String>,
    pub number_symbol: Option<String>,
    pub issuer: Option<String>,
    pub issuer_parent: Option<String>,
    pub place: Option<String>,
    pub issued_date: Option<NaiveDate>,
    pub issued_year: Option<i32>,
    pub effective_date: Option<NaiveDate>,
    pub abstract_text: Option<String>,
    pub signer_name: Option<String>,
    pub signer_title: Option<String>,
    pub signing_authority: Option<String>,
    pub recipients: Vec<String>,
    pub secrecy: Option<String>,
    pub urgency: Option<String>,
    pub internal_circulation: bool,
    pub needs_ocr: bool,
    pub text_source: String,
    pub pages: i32,
    /// Per-field confidence and evidence.
    pub field_evidence: Value,
    /// The file's digital signatures as verified when stored (`signature::Verification`);
    /// `None` for an unsigned file.
    pub signature: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewCitation {
    pub number_symbol: String,
    pub cited_type: Option<String>,
    pub cited_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentRecord {
    pub id: i64,
    pub unit_code: String,
    pub status: Status,
    pub source: String,
    pub source_ref: Option<String>,
    pub file_sha256: String,
    pub external_id: Option<String>,
    /// Set when a later document replaced this one (which is then withdrawn).
    pub replaced_by: Option<i64>,
    /// Canonical issuer, year and number-symbol (`domain::registry_key`); `None` unless
    /// all three are known.
    pub registry_key: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether the record was ever public (a withdrawn one then shows its notice).
    pub ever_published: bool,
    /// The public withdrawal notice: when, and why.
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawal_reason: Option<String>,
    /// The record a clerk merged this duplicate into (it is then rejected).
    pub merged_into: Option<i64>,
    #[serde(flatten)]
    pub fields: DocumentFields,
}

impl DocumentRecord {
    /// Whether the public may see this record (`domain::is_public`).
    pub fn is_public(&self) -> bool {
        crate::domain::is_public(
            self.status,
            self.fields.secrecy.as_deref(),
            self.fields.internal_circulation,
        )
    }

    /// Whether the public sees this record's withdrawal notice instead of a 404
    /// (`domain::shows_withdrawal_notice`).
    pub fn shows_withdrawal_notice(&self) -> bool {
        crate::domain::shows_withdrawal_notice(
            self.status,
            self.fields.secrecy.as_deref(),
            self.fields.internal_circulation,
            self.ever_published,
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub action: String,
    pub actor: String,
    pub detail: Value,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredFile {
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub blob_key: String,
    pub original_name: Option<String>,
}

const DOCUMENT_COLUMNS: &str = "id, unit_code, status, source, source_ref, file_sha256, external_id, replaced_by, registry_key, version, created_at, updated_at, \
     doc_type, number, symbol, number_symbol, issuer, issuer_parent, place, issued_date, issued_year, effective_date, \
     abstract, signer_name, signer_title, signing_authority, recipients, secrecy, urgency, internal_circulation, \
     needs_ocr, text_source, pages, field_evidence, signature, ever_published, withdrawn_at, withdrawal_reason, merged_into";

/// Inserts a document's extraction warnings and citations on an open transaction.
macro_rules! insert_findings_tx {
    ($tx:expr, $id:expr, $doc:expr) => {{
        for (code, message) in &$doc.warnings {
            sqlx::query("INSERT INTO extraction_warnings (document_id, code, message) VALUES ($1, $2, $3)")
                .bind($id)
                .bind(code)
                .bind(message)
                .execute(&mut *$tx)
                .await?;
        }
        for (position, c) in $doc.citations.iter().enumerate() {
            sqlx::query(
                "INSERT INTO citations (document_id, position, number_symbol, cited_type, cited_date) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind($id)
            .bind(position as i64)
            .bind(&c.number_symbol)
            .bind(&c.cited_type)
            .bind(c.cited_date)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

/// Appends an audit entry and a search change-log entry for `$id` on a transaction
/// (every write that changes what a record says or shows).
macro_rules! audit_and_change_tx {
    ($tx:expr, $id:expr, $action:expr, $actor:expr, $detail:expr, $now:expr) => {{
        sqlx::query("INSERT INTO audit_log (document_id, action, actor, detail, at) VALUES ($1, $2, $3, $4, $5)")
            .bind($id)
            .bind($action)
            .bind($actor)
            .bind(Json($detail))
            .bind($now)
            .execute(&mut *$tx)
            .await?;
        sqlx::query("INSERT INTO search_changes (document_id, at) VALUES ($1, $2)")
            .bind($id)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
    }};
}

/// The file row of a record's document (write-once, keyed by SHA-256), on an open
/// transaction.
macro_rules! insert_file_tx {
    ($tx:expr, $doc:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO files (sha256, size, media_type, blob_key, original_name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&$doc.file.sha256)
        .bind($doc.file.size)
        .bind(&$doc.file.media_type)
        .bind(&$doc.file.sha256)
        .bind(&$doc.file.original_name)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
    };
}

/// Inserts a document with its file row, text, warnings, citations, audit entry and
/// change-log entry on an open transaction, and evaluates to the new id. A macro rather
/// than a function so that it compiles for each backend's transaction type (like
/// `with_pool!`), and so that sync writes can add their ledger row to the same transaction.
macro_rules! insert_document_tx {
    ($tx:expr, $doc:expr, $now:expr) => {{
            if $doc.status == Status::Published {
                crate::domain::check_publishable(&facts_of(&$doc.metadata, None))?;
            }
            insert_file_tx!($tx, $doc, $now);
            let id: i64 = sqlx::query(
                "INSERT INTO documents (unit_code, status, source, source_ref, external_id, file_sha256, doc_type, number, symbol, \
                 number_symbol, issuer, issuer_parent, place, issued_date, issued_year, effective_date, abstract, \
                 signer_name, signer_title, signing_authority, recipients, secrecy, urgency, internal_circulation, \
                 needs_ocr, text_source, pages, field_evidence, signature, registry_key, version, created_at, updated_at, \
                 ever_published) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
                 $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, 1, $31, $32, $33) RETURNING id",
            )
            .bind(&$doc.unit_code)
            .bind($doc.status.as_str())
            .bind(&$doc.source)
            .bind(&$doc.source_ref)
            .bind(&$doc.external_id)
            .bind(&$doc.file.sha256)
            .bind(&$doc.metadata.doc_type)
            .bind(&$doc.metadata.number)
            .bind(&$doc.metadata.symbol)
            .bind(&$doc.metadata.number_symbol)
            .bind(&$doc.metadata.issuer)
            .bind(&$doc.metadata.issuer_parent)
            .bind(&$doc.metadata.place)
            .bind($doc.metadata.issued_date)
            .bind($doc.metadata.issued_year)
            .bind($doc.metadata.effective_date)
            .bind(&$doc.metadata.abstract_text)
            .bind(&$doc.metadata.signer_name)
            .bind(&$doc.metadata.signer_title)
            .bind(&$doc.metadata.signing_authority)
            .bind(Json(&$doc.metadata.recipients))
            .bind(&$doc.metadata.secrecy)
            .bind(&$doc.metadata.urgency)
            .bind($doc.metadata.internal_circulation)
            .bind($doc.metadata.needs_ocr)
            .bind(&$doc.metadata.text_source)
            .bind($doc.metadata.pages)
            .bind(Json(&$doc.metadata.field_evidence))
            .bind($doc.metadata.signature.as_ref().map(Json))
            .bind(key_of(&$doc.metadata))
            .bind($now)
            .bind($now)
            .bind($doc.status == Status::Published)
            .fetch_one(&mut *$tx)
            .await
            .map_err(classify)?
            .try_get("id")?;
            sqlx::query("INSERT INTO document_texts (document_id, body) VALUES ($1, $2)")
                .bind(id)
                .bind(&$doc.text)
                .execute(&mut *$tx)
                .await?;
            insert_findings_tx!($tx, id, $doc);
            let holds = crate::store::stored_holds($doc.status, &$doc.holds, &$doc.status_reason);
            insert_holds_tx!($tx, id, &holds, $now);
            let detail = serde_json::json!({
                "status": $doc.status.as_str(),
                "reason": $doc.status_reason,
                "holds": holds.iter().map(|h| h.code.as_str()).collect::<Vec<_>>(),
                "source": $doc.source,
                "file_sha256": $doc.file.sha256,
            });
            audit_and_change_tx!($tx, id, "created", &$doc.actor, &detail, $now);
            id
    }};
}

/// What the publication rule looks at in a document's fields.
fn facts_of(m: &DocumentFields, replaced_by: Option<i64>) -> crate::domain::RecordFacts<'_> {
    crate::domain::RecordFacts {
        status: Status::Published,
        secrecy: m.secrecy.as_deref(),
        internal_circulation: m.internal_circulation,
        replaced_by,
        holds: &[],
    }
}

/// The holds stored with a record in `status`: its decision's, and for a record held for
/// review without any (a caller that gave only a reason), one hold from the reason, so
/// that every held record says why in the queue.
fn stored_holds(
    status: Status,
    holds: &[crate::domain::Hold],
    reason: &str,
) -> Vec<crate::domain::Hold> {
    if holds.is_empty() && status == Status::NeedsReview {
        let reason = if reason.trim().is_empty() {
            "Chờ văn thư xem xét"
        } else {
            reason
        };
        return vec![crate::domain::Hold::new(
            crate::domain::HoldCode::Other,
            reason,
        )];
    }
    holds.to_vec()
}

/// Inserts a record's holds (state open) on an open transaction.
macro_rules! insert_holds_tx {
    ($tx:expr, $id:expr, $holds:expr, $now:expr) => {{
        for hold in $holds {
            let hold: &crate::domain::Hold = hold;
            sqlx::query(
                "INSERT INTO document_holds (document_id, code, message, evidence, page, state, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind($id)
            .bind(hold.code.as_str())
            .bind(&hold.message)
            .bind(&hold.evidence)
            .bind(hold.page.map(|p| p as i32))
            .bind(crate::domain::HoldState::Open.as_str())
            .bind($now)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

/// The current holds of record `$id` (superseded ones left out) as the publication rule
/// reads them, on an open transaction.
macro_rules! hold_facts_tx {
    ($tx:expr, $id:expr) => {{
        let rows = sqlx::query(
            "SELECT code, state FROM document_holds WHERE document_id = $1 AND state <> $2",
        )
        .bind($id)
        .bind(crate::domain::HoldState::Superseded.as_str())
        .fetch_all(&mut *$tx)
        .await?;
        let mut facts: Vec<(crate::domain::HoldCode, crate::domain::HoldState)> = Vec::new();
        for r in &rows {
            let code: String = r.try_get("code")?;
            let state: String = r.try_get("state")?;
            facts.push((
                // An unknown code is kept as "other": never dropped.
                crate::domain::HoldCode::parse(&code).unwrap_or(crate::domain::HoldCode::Other),
                // An unknown state is taken as still open.
                crate::domain::HoldState::parse(&state).unwrap_or(crate::domain::HoldState::Open),
            ));
        }
        facts
    }};
}

/// The registry key stored with a document's fields.
fn key_of(m: &DocumentFields) -> Option<String> {
    crate::domain::registry_key(
        m.issuer.as_deref(),
        m.issued_year,
        m.number_symbol.as_deref(),
    )
}

/// A `DocumentRecord` from a row selected with `DOCUMENT_COLUMNS`.
macro_rules! record_from_row {
    ($row:expr) => {{
        let row = $row;
        DocumentRecord {
            id: row.try_get("id")?,
            unit_code: row.try_get("unit_code")?,
            status: Status::parse(&row.try_get::<String, _>("status")?).unwrap_or(Status::Draft),
            source: row.try_get("source")?,
            source_ref: row.try_get("source_ref")?,
            file_sha256: row.try_get("file_sha256")?,
            external_id: row.try_get("external_id")?,
            replaced_by: row.try_get("replaced_by")?,
            registry_key: row.try_get("registry_key")?,
            version: row.try_get("version")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            ever_published: row.try_get("ever_published")?,
            withdrawn_at: row.try_get("withdrawn_at")?,
            withdrawal_reason: row.try_get("withdrawal_reason")?,
            merged_into: row.try_get("merged_into")?,
            fields: DocumentFields {
                doc_type: row.try_get("doc_type")?,
                number: row.try_get("number")?,
                symbol: row.try_get("symbol")?,
                number_symbol: row.try_get("number_symbol")?,
                issuer: row.try_get("issuer")?,
                issuer_parent: row.try_get("issuer_parent")?,
                place: row.try_get("place")?,
                issued_date: row.try_get("issued_date")?,
                issued_year: row.try_get("issued_year")?,
                effective_date: row.try_get("effective_date")?,
                abstract_text: row.try_get("abstract")?,
                signer_name: row.try_get("signer_name")?,
                signer_title: row.try_get("signer_title")?,
                signing_authority: row.try_get("signing_authority")?,
                recipients: row.try_get::<Json<Vec<String>>, _>("recipients")?.0,
                secrecy: row.try_get("secrecy")?,
                urgency: row.try_get("urgency")?,
                internal_circulation: row.try_get("internal_circulation")?,
                needs_ocr: row.try_get("needs_ocr")?,
                text_source: row.try_get("text_source")?,
                pages: row.try_get("pages")?,
                field_evidence: row.try_get::<Json<Value>, _>("field_evidence")?.0,
                signature: row
                    .try_get::<Option<Json<Value>>, _>("signature")?
                    .map(|j| j.0),
            },
        }
    }};
}

/// Makes `$doc` the current version of record `$id` on an open transaction: the previous
/// state (status, file, fields) is kept in `document_versions`, the record takes the new
/// file, fields, text and findings, with an audit entry `$action` and a change-log entry.
/// `$status_of` maps the record's current status to its new one; a new status of
/// `published` passes `domain::check_publishable` first. Evaluates to (old record, new
/// status). Shared by sync updates and by a signed original superseding its copy.
macro_rules! new_version_tx {
    ($tx:expr, $id:expr, $doc:expr, $status_of:expr, $actor:expr, $version_reason:expr, $action:expr, $extra:expr, $now:expr) => {{
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind($id)
            .fetch_optional(&mut *$tx)
            .await?
            .ok_or(StoreError::NotFound($id))?;
        let old = record_from_row!(row);
        let old_doubt = sqlx::query(
            "SELECT 1 AS one FROM extraction_warnings WHERE document_id = $1 AND code = $2 LIMIT 1",
        )
        .bind($id)
        .bind(crate::domain::MARKING_DOUBT)
        .fetch_optional(&mut *$tx)
        .await?
        .is_some();
        let status: Status = ($status_of)(old.status);
        // Publishing a version that itself carries a marking is refused, as any write is.
        if status == Status::Published {
            crate::domain::check_publishable(&facts_of(&$doc.metadata, old.replaced_by))?;
        }
        // What the record carried stays; a marked or doubtful record is held, not published.
        let (secrecy, internal_circulation, status) = crate::domain::keep_markings(
            old.fields.secrecy.as_deref(),
            old.fields.internal_circulation,
            old_doubt,
            $doc.metadata.secrecy.as_deref(),
            $doc.metadata.internal_circulation,
            status,
        );
        sqlx::query(
            "INSERT INTO document_versions (document_id, version, status, file_sha256, fields, actor, reason, superseded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(old.id)
        .bind(old.version)
        .bind(old.status.as_str())
        .bind(&old.file_sha256)
        .bind(Json(&old.fields))
        .bind($actor)
        .bind($version_reason)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
        insert_file_tx!($tx, $doc, $now);
        let m = &$doc.metadata;
        sqlx::query(
            "UPDATE documents SET status = $1, file_sha256 = $2, doc_type = $3, number = $4, symbol = $5, \
             number_symbol = $6, issuer = $7, issuer_parent = $8, place = $9, issued_date = $10, issued_year = $11, \
             effective_date = $12, abstract = $13, signer_name = $14, signer_title = $15, signing_authority = $16, \
             recipients = $17, secrecy = $18, urgency = $19, internal_circulation = $20, needs_ocr = $21, \
             text_source = $22, pages = $23, field_evidence = $24, signature = $25, registry_key = $26, \
             version = version + 1, updated_at = $27, ever_published = (ever_published OR $29) WHERE id = $28",
        )
        .bind(status.as_str())
        .bind(&$doc.file.sha256)
        .bind(&m.doc_type)
        .bind(&m.number)
        .bind(&m.symbol)
        .bind(&m.number_symbol)
        .bind(&m.issuer)
        .bind(&m.issuer_parent)
        .bind(&m.place)
        .bind(m.issued_date)
        .bind(m.issued_year)
        .bind(m.effective_date)
        .bind(&m.abstract_text)
        .bind(&m.signer_name)
        .bind(&m.signer_title)
        .bind(&m.signing_authority)
        .bind(Json(&m.recipients))
        .bind(&secrecy)
        .bind(&m.urgency)
        .bind(internal_circulation)
        .bind(m.needs_ocr)
        .bind(&m.text_source)
        .bind(m.pages)
        .bind(Json(&m.field_evidence))
        .bind(m.signature.as_ref().map(Json))
        .bind(key_of(m))
        .bind($now)
        .bind($id)
        .bind(status == Status::Published)
        .execute(&mut *$tx)
        .await
        .map_err(classify)?;
        sqlx::query("UPDATE document_texts SET body = $1 WHERE document_id = $2")
            .bind(&$doc.text)
            .bind($id)
            .execute(&mut *$tx)
            .await?;
        sqlx::query("DELETE FROM extraction_warnings WHERE document_id = $1")
            .bind($id)
            .execute(&mut *$tx)
            .await?;
        sqlx::query("DELETE FROM citations WHERE document_id = $1")
            .bind($id)
            .execute(&mut *$tx)
            .await?;
        insert_findings_tx!($tx, $id, $doc);
        // The holds were about the previous file: the new version brings its own.
        sqlx::query("UPDATE document_holds SET state = $1 WHERE document_id = $2 AND state <> $1")
            .bind(crate::domain::HoldState::Superseded.as_str())
            .bind($id)
            .execute(&mut *$tx)
            .await?;
        let mut holds = $doc.holds.clone();
        if status == Status::NeedsReview {
            let was_marked = old.fields.secrecy.is_some() || old.fields.internal_circulation;
            if was_marked && !holds.iter().any(|h| h.code == crate::domain::HoldCode::Marking) {
                holds.push(crate::domain::Hold::new(
                    crate::domain::HoldCode::Marking,
                    "Phiên bản trước mang dấu chỉ độ mật / lưu hành nội bộ: văn thư xem xét",
                ));
            }
            if old_doubt && !holds.iter().any(|h| h.code == crate::domain::HoldCode::MarkingDoubt) {
                holds.push(crate::domain::Hold::new(
                    crate::domain::HoldCode::MarkingDoubt,
                    "Phiên bản trước có dấu hiệu độ mật / lưu hành nội bộ chưa xác định: văn thư kiểm tra",
                ));
            }
        }
        let holds = crate::store::stored_holds(status, &holds, &$doc.status_reason);
        insert_holds_tx!($tx, $id, &holds, $now);
        if old_doubt && !$doc.warnings.iter().any(|(code, _)| code == crate::domain::MARKING_DOUBT) {
            sqlx::query("INSERT INTO extraction_warnings (document_id, code, message) VALUES ($1, $2, $3)")
                .bind($id)
                .bind(crate::domain::MARKING_DOUBT)
                .bind("Phiên bản trước có dấu hiệu độ mật / lưu hành nội bộ chưa xác định: văn thư kiểm tra")
                .execute(&mut *$tx)
                .await?;
        }
        let mut detail = serde_json::json!({
            "version": old.version + 1, "from": old.status.as_str(), "to": status.as_str(),
            "reason": $doc.status_reason, "file_sha256": $doc.file.sha256,
            "previous_file_sha256": old.file_sha256,
        });
        if let (Some(d), serde_json::Value::Object(extra)) = (detail.as_object_mut(), $extra) {
            d.extend(extra);
        }
        audit_and_change_tx!($tx, $id, $action, $actor, &detail, $now);
        (old, status)
    }};
}

/// Moves record `$id` to status `$to` on an open transaction, the one way a status
/// changes by request (a clerk's action, the admin API, the CLI): the record's facts and
/// current holds are read inside the transaction and the move is checked by
/// `domain::check_transition` (a classified or internal record is refused whoever asks;
/// an open or confirmed personal-data or marking-doubt hold blocks publishing), and so is
/// publishing a second record under a registry key another public record holds. A record
/// outside `$scope` (units; `None`: all) is not found. Publishing marks the record as
/// once public, clears an earlier withdrawal notice and closes the remaining holds as
/// dismissed by the publisher; withdrawing records the public notice; returning a record
/// to review with nothing open gives it a hold saying why. Audited (`status_changed`,
/// with `$extra` merged into the detail) and appended to the change log. Evaluates to
/// the previous status.
macro_rules! transition_tx {
    ($tx:expr, $id:expr, $to:expr, $scope:expr, $actor:expr, $reason:expr, $extra:expr, $now:expr) => {{
        let to: Status = $to;
        let reason: &str = $reason;
        let row = sqlx::query(
            "SELECT status, unit_code, secrecy, internal_circulation, replaced_by, registry_key FROM documents WHERE id = $1",
        )
        .bind($id)
        .fetch_optional(&mut *$tx)
        .await?
        .ok_or(StoreError::NotFound($id))?;
        let unit: String = row.try_get("unit_code")?;
        let scope: Option<&[String]> = $scope;
        if scope.is_some_and(|units| !units.iter().any(|u| *u == unit)) {
            return Err(StoreError::NotFound($id));
        }
        let previous: String = row.try_get("status")?;
        let secrecy: Option<String> = row.try_get("secrecy")?;
        let key: Option<String> = row.try_get("registry_key")?;
        let holds = hold_facts_tx!($tx, $id);
        let facts = crate::domain::RecordFacts {
            // An unknown stored status can only be left, never kept.
            status: Status::parse(&previous).unwrap_or(Status::NeedsReview),
            secrecy: secrecy.as_deref(),
            internal_circulation: row.try_get("internal_circulation")?,
            replaced_by: row.try_get("replaced_by")?,
            holds: &holds,
        };
        crate::domain::check_transition(&facts, to)?;
        if to == Status::Published && let Some(key) = &key {
            let other: Option<i64> = sqlx::query(
                "SELECT id FROM documents WHERE registry_key = $1 AND status = $2 AND id <> $3 LIMIT 1",
            )
            .bind(key)
            .bind(Status::Published.as_str())
            .bind($id)
            .fetch_optional(&mut *$tx)
            .await?
            .map(|r| r.try_get("id"))
            .transpose()?;
            if let Some(other) = other {
                return Err(crate::domain::Refusal::SameKeyPublished { other }.into());
            }
        }
        sqlx::query(
            "UPDATE documents SET status = $1, version = version + 1, updated_at = $2, \
             ever_published = (ever_published OR $3) WHERE id = $4",
        )
        .bind(to.as_str())
        .bind($now)
        .bind(to == Status::Published)
        .bind($id)
        .execute(&mut *$tx)
        .await
        .map_err(classify)?;
        match to {
            Status::Withdrawn => {
                sqlx::query("UPDATE documents SET withdrawn_at = $1, withdrawal_reason = $2 WHERE id = $3")
                    .bind($now)
                    .bind(reason.trim())
                    .bind($id)
                    .execute(&mut *$tx)
                    .await?;
            }
            Status::Published => {
                sqlx::query("UPDATE documents SET withdrawn_at = NULL, withdrawal_reason = NULL WHERE id = $1")
                    .bind($id)
                    .execute(&mut *$tx)
                    .await?;
                sqlx::query(
                    "UPDATE document_holds SET state = $1, resolved_by = $2, resolved_at = $3, resolution_note = $4 \
                     WHERE document_id = $5 AND state = $6",
                )
                .bind(crate::domain::HoldState::Dismissed.as_str())
                .bind($actor)
                .bind($now)
                .bind(format!("Công khai văn bản: {}", reason.trim()).trim_end_matches([':', ' ']).to_string())
                .bind($id)
                .bind(crate::domain::HoldState::Open.as_str())
                .execute(&mut *$tx)
                .await?;
            }
            Status::NeedsReview => {
                let open = holds.iter().any(|(_, s)| *s == crate::domain::HoldState::Open);
                if !open {
                    let message = if reason.trim().is_empty() {
                        "Được trả về chờ văn thư xem xét".to_string()
                    } else {
                        format!("Được trả về chờ văn thư xem xét: {}", reason.trim())
                    };
                    let hold = [crate::domain::Hold::new(crate::domain::HoldCode::Other, message)];
                    insert_holds_tx!($tx, $id, &hold, $now);
                }
            }
            _ => {}
        }
        let mut detail = serde_json::json!({"from": previous, "to": to.as_str(), "reason": reason});
        if let (Some(d), serde_json::Value::Object(extra)) = (detail.as_object_mut(), $extra) {
            d.extend(extra);
        }
        audit_and_change_tx!($tx, $id, "status_changed", $actor, &detail, $now);
        previous
    }};
}

/// Brings the definition of SQLite's `documents` table in line with what later migrations
/// need but SQLite cannot alter in place: it removes the registry-key constraint of
/// migration 0001 (written inside `CREATE TABLE documents`, over the issuer as written;
/// migration 0006 moved the rule to the canonical `registry_key` column), and widens the
/// CHECK over `status` to every `domain::Status` (migration 0010 added `withheld` and
/// `rejected`). The rebuild follows SQLite's documented procedure on a connection without
/// foreign-key enforcement (dropping the old table must not cascade), copies the table's
/// current definition — whatever columns later migrations added — with those two edits,
/// copies every row, re-creates its indexes and checks the foreign keys before
/// committing. A no-op once done.
async fn sqlite_rebuild_documents(pool: &SqlitePool) -> Result<(), StoreError> {
    use sqlx::Connection;
    static LEGACY: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r",\s*CONSTRAINT\s+documents_registry_key\s+UNIQUE\s*\(\s*issuer\s*,\s*issued_year\s*,\s*number_symbol\s*\)",
        )
        .expect("regex")
    });
    static NAME: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"^CREATE TABLE\s+"?documents"?"#).expect("regex")
    });
    static STATUS_CHECK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"CHECK\s*\(\s*status\s+IN\s*\([^)]*\)\s*\)").expect("regex")
    });
    let table: String =
        sqlx::query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'documents'")
            .fetch_one(pool)
            .await?
            .try_get("sql")?;
    let statuses: Vec<String> = Status::ALL
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let check = format!("CHECK (status IN ({}))", statuses.join(", "));
    let wanted = STATUS_CHECK
        .replace(&LEGACY.replace(&table, ""), regex::NoExpand(&check))
        .into_owned();
    if wanted == table {
        return Ok(());
    }
    let rebuilt = NAME
        .replace(&wanted, "CREATE TABLE documents_rebuilt")
        .into_owned();
    let options = (*pool.connect_options()).clone().foreign_keys(false);
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let indexes: Vec<String> = sqlx::query(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'documents' AND sql IS NOT NULL",
    )
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| r.try_get("sql"))
    .collect::<Result<_, _>>()?;
    let sequence: Option<i64> =
        sqlx::query("SELECT seq FROM sqlite_sequence WHERE name = 'documents'")
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("seq"))
            .transpose()?;
    sqlx::query(sqlx::AssertSqlSafe(rebuilt))
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO documents_rebuilt SELECT * FROM documents")
        .execute(&mut *tx)
        .await?;
    sqlx::query("DROP TABLE documents")
        .execute(&mut *tx)
        .await?;
    sqlx::query("ALTER TABLE documents_rebuilt RENAME TO documents")
        .execute(&mut *tx)
        .await?;
    for index in indexes {
        sqlx::query(sqlx::AssertSqlSafe(index))
            .execute(&mut *tx)
            .await?;
    }
    if let Some(seq) = sequence {
        sqlx::query("UPDATE sqlite_sequence SET seq = MAX(seq, $1) WHERE name = 'documents'")
            .bind(seq)
            .execute(&mut *tx)
            .await?;
    }
    let broken = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut *tx)
        .await?;
    if !broken.is_empty() {
        // Rolled back when `tx` drops: the database stays as it was.
        return Err(StoreError::Database(sqlx::Error::Protocol(format!(
            "rebuilding documents would break {} foreign keys",
            broken.len()
        ))));
    }
    tx.commit().await?;
    conn.close().await?;
    Ok(())
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) and applies pending migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            Store::Postgres(pool)
        } else {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .connect_with(options)
                .await?;
            Store::Sqlite(pool)
        };
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(pool) => {
                SQLITE_MIGRATIONS.run(pool).await?;
                sqlite_rebuild_documents(pool).await?;
            }
            Store::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        self.backfill_registry_keys().await
    }

    /// Gives every record stored before migration 0006 its registry key (the canonical
    /// form needs Rust: abbreviations, folding). Two published records that turn out to
    /// share a key — the double publication the key exists to prevent — keep the first
    /// public and send the later one to review, with an audit entry naming the first.
    async fn backfill_registry_keys(&self) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut after = 0i64;
        loop {
            let done = with_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                let rows = sqlx::query(
                    "SELECT id, status, issuer, issued_year, number_symbol FROM documents \
                     WHERE registry_key IS NULL AND issuer IS NOT NULL AND issued_year IS NOT NULL \
                     AND number_symbol IS NOT NULL AND id > $1 ORDER BY id LIMIT 500",
                )
                .bind(after)
                .fetch_all(&mut *tx)
                .await?;
                for row in &rows {
                    let id: i64 = row.try_get("id")?;
                    after = id;
                    let issuer: Option<String> = row.try_get("issuer")?;
                    let number_symbol: Option<String> = row.try_get("number_symbol")?;
                    let Some(key) = crate::domain::registry_key(
                        issuer.as_deref(),
                        row.try_get("issued_year")?,
                        number_symbol.as_deref(),
                    ) else {
                        continue;
                    };
                    let status: String = row.try_get("status")?;
                    if status == Status::Published.as_str() {
                        let holder: Option<i64> = sqlx::query(
                            "SELECT id FROM documents WHERE registry_key = $1 AND status = $2 LIMIT 1",
                        )
                        .bind(&key)
                        .bind(Status::Published.as_str())
                        .fetch_optional(&mut *tx)
                        .await?
                        .map(|r| r.try_get("id"))
                        .transpose()?;
                        if let Some(holder) = holder {
                            sqlx::query("UPDATE documents SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3")
                                .bind(Status::NeedsReview.as_str())
                                .bind(now)
                                .bind(id)
                                .execute(&mut *tx)
                                .await?;
                            let detail = serde_json::json!({
                                "from": status, "to": Status::NeedsReview.as_str(), "other": holder,
                                "reason": format!(
                                    "{} (phát hiện khi chuẩn hoá cơ quan ban hành)",
                                    crate::domain::conflict_reason(holder)
                                ),
                            });
                            audit_and_change_tx!(tx, id, "status_changed", "system:migrate", &detail, now);
                        }
                    }
                    sqlx::query("UPDATE documents SET registry_key = $1 WHERE id = $2")
                        .bind(&key)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                rows.len() < 500
            });
            if done {
                return Ok(());
            }
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }

    /// The document stored for a file, if any: the record serving it, else the record
    /// that served it before (a copy its signed original superseded, an updated version).
    pub async fn document_id_for_file(&self, sha256: &str) -> Result<Option<i64>, StoreError> {
        let row = with_pool!(self, pool => sqlx::query(
                "SELECT id FROM (SELECT id, 0 AS rank FROM documents WHERE file_sha256 = $1 \
                 UNION ALL SELECT document_id AS id, 1 AS rank FROM document_versions WHERE file_sha256 = $1) found \
                 ORDER BY rank, id LIMIT 1",
            )
            .bind(sha256)
            .fetch_optional(pool)
            .await?
            .map(|r| r.try_get::<i64, _>("id"))
            .transpose()?);
        Ok(row)
    }

    /// Inserts a document, its file row, text, warnings, citations and an audit entry in
    /// one transaction: either all of it is stored or none of it.
    pub async fn insert_document(&self, doc: &NewDocument) -> Result<i64, StoreError> {
        self.insert_document_claiming(doc, &[]).await
    }

    /// [`Store::insert_document`], consuming in the same transaction the blob intents
    /// (`crate::blob::BlobGuard::claim`) of the blobs the document references.
    pub async fn insert_document_claiming(
        &self,
        doc: &NewDocument,
        intents: &[i64],
    ) -> Result<i64, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            intents::claim_intents_tx!(tx, intents);
            let id = insert_document_tx!(tx, doc, now);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Makes `doc` (a signed original) the current version of record `id`, which held an
    /// unsigned or broken copy of the same document (`domain::place`): the copy's file
    /// and fields stay in `document_versions`, the audit entry `superseded` says why, and
    /// the status follows `domain::superseded_status`. Returns the new status. `intents`
    /// are the blob intents of the original's file (`BlobGuard::claim`), claimed in the
    /// same transaction.
    pub async fn supersede(
        &self,
        id: i64,
        doc: &NewDocument,
        reason: &str,
        intents: &[i64],
    ) -> Result<Status, StoreError> {
        let now = Utc::now();
        let decided = doc.status;
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            intents::claim_intents_tx!(tx, intents);
            let (_, status) = new_version_tx!(
                tx,
                id,
                doc,
                |current| crate::domain::superseded_status(current, decided),
                &doc.actor,
                reason,
                "superseded",
                serde_json::json!({"superseded": reason, "source": doc.source}),
                now
            );
            tx.commit().await?;
            Ok(status)
        })
    }

    /// Every record carrying `registry_key`, in id order (one document, one record: see
    /// `domain::place`).
    pub async fn records_with_key(
        &self,
        registry_key: &str,
    ) -> Result<Vec<DocumentRecord>, StoreError> {
        let sql =
            format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE registry_key = $1 ORDER BY id");
        with_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(registry_key).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(record_from_row!(row));
            }
            Ok(out)
        })
    }

    pub async fn get_document(&self, id: i64) -> Result<DocumentRecord, StoreError> {
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = $1");
        with_pool!(self, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?.ok_or(StoreError::NotFound(id))?;
            Ok(record_from_row!(row))
        })
    }

    pub async fn document_text(&self, id: i64) -> Result<String, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query("SELECT body FROM document_texts WHERE document_id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound(id))?;
            Ok(row.try_get("body")?)
        })
    }

    /// Texts of several documents in one round trip (result snippets).
    pub async fn document_texts(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, String>, StoreError> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|k| format!("${k}")).collect();
        let sql = format!(
            "SELECT document_id, body FROM document_texts WHERE document_id IN ({})",
            placeholders.join(", ")
        );
        with_pool!(self, pool => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in ids {
                query = query.bind(id);
            }
            let rows = query.fetch_all(pool).await?;
            rows.iter()
                .map(|r| Ok((r.try_get("document_id")?, r.try_get("body")?)))
                .collect()
        })
    }

    pub async fn warnings(&self, id: i64) -> Result<Vec<(String, String)>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query("SELECT code, message FROM extraction_warnings WHERE document_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(pool)
                .await?;
            rows.iter().map(|r| Ok((r.try_get("code")?, r.try_get("message")?))).collect()
        })
    }

    pub async fn citations(&self, id: i64) -> Result<Vec<NewCitation>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT number_symbol, cited_type, cited_date FROM citations WHERE document_id = $1 ORDER BY position",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(NewCitation {
                        number_symbol: r.try_get("number_symbol")?,
                        cited_type: r.try_get("cited_type")?,
                        cited_date: r.try_get("cited_date")?,
                    })
                })
                .collect()
        })
    }

    /// Changes a record's status, bumping its version and recording who and why. The
    /// record's current facts are read inside the transaction and the change is checked by
    /// `domain::check_transition`: publishing a classified or internal record is refused
    /// (`StoreError::Refused`) whoever the actor, and so is publishing a second record
    /// under a registry key another public record holds.
    pub async fn set_status(
        &self,
        id: i64,
        status: Status,
        actor: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let no_scope: Option<&[String]> = None;
            transition_tx!(tx, id, status, no_scope, actor, reason, serde_json::json!({}), now);
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn audit_trail(&self, id: i64) -> Result<Vec<AuditEntry>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query("SELECT action, actor, detail, at FROM audit_log WHERE document_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(AuditEntry {
                        action: r.try_get("action")?,
                        actor: r.try_get("actor")?,
                        detail: r.try_get::<Json<Value>, _>("detail")?.0,
                        at: r.try_get("at")?,
                    })
                })
                .collect()
        })
    }

    pub async fn file(&self, sha256: &str) -> Result<Option<StoredFile>, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query("SELECT sha256, size, media_type, blob_key, original_name FROM files WHERE sha256 = $1")
                .bind(sha256)
                .fetch_optional(pool)
                .await?;
            row.map(|r| {
                Ok(StoredFile {
                    sha256: r.try_get("sha256")?,
                    size: r.try_get("size")?,
                    media_type: r.try_get("media_type")?,
                    blob_key: r.try_get("blob_key")?,
                    original_name: r.try_get("original_name")?,
                })
            })
            .transpose()
        })
    }

    /// Blob keys of every stored file (for `fsck` to find missing blobs).
    pub async fn blob_keys(&self) -> Result<Vec<String>, StoreError> {
        with_pool!(self, pool => {
            // Further files of records (edXML appendices) are blobs named by their SHA-256.
            let rows = sqlx::query(
                "SELECT blob_key FROM files UNION SELECT sha256 AS blob_key FROM document_attachments ORDER BY 1",
            )
            .fetch_all(pool)
            .await?;
            rows.iter().map(|r| Ok(r.try_get("blob_key")?)).collect()
        })
    }

    /// Documents per status.
    pub async fn status_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM documents GROUP BY status ORDER BY status")
                .fetch_all(pool)
                .await?;
            rows.iter().map(|r| Ok((r.try_get("status")?, r.try_get("n")?))).collect()
        })
    }

    /// Entries of the search change log after `after_seq`, oldest first.
    pub async fn search_changes_after(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT seq, document_id FROM search_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(after_seq)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            rows.iter().map(|r| Ok((r.try_get("seq")?, r.try_get("document_id")?))).collect()
        })
    }

    /// The newest change-log sequence number (0 when empty).
    pub async fn max_search_change(&self) -> Result<i64, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM search_changes")
                .fetch_one(pool)
                .await?;
            Ok(row.try_get("seq")?)
        })
    }

    /// Ids of public documents (published, unclassified, not internal) after `after_id`,
    /// ascending (for a full reindex and the sitemap).
    pub async fn published_ids_after(
        &self,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                concat!("SELECT id FROM documents WHERE ", crate::public_sql!(), " AND id > $1 ORDER BY id LIMIT $2"),
            )
            .bind(after_id)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
        })
    }

    /// Public documents that cite `number_symbol`, newest first.
    pub async fn published_citing(&self, number_symbol: &str) -> Result<Vec<i64>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                concat!(
                    "SELECT d.id FROM citations c JOIN documents d ON d.id = c.document_id \
                     WHERE c.number_symbol = $1 AND ",
                    crate::public_sql!("d."),
                    " ORDER BY d.issued_date DESC, d.id DESC LIMIT 200"
                ),
            )
            .bind(number_symbol)
            .fetch_all(pool)
            .await?;
            rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
        })
    }

    /// The public document carrying `number_symbol`, if the registry has it.
    pub async fn published_by_number_symbol(
        &self,
        number_symbol: &str,
    ) -> Result<Option<i64>, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                concat!(
                    "SELECT id FROM documents WHERE number_symbol = $1 AND ",
                    crate::public_sql!(),
                    " ORDER BY id LIMIT 1"
                ),
            )
            .bind(number_symbol)
            .fetch_optional(pool)
            .await?;
            row.map(|r| Ok(r.try_get("id")?)).transpose()
        })
    }

    /// Public records with this year and number (ELI resolution narrows further).
    pub async fn published_by_year_number(
        &self,
        year: i32,
        number: &str,
    ) -> Result<Vec<i64>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                concat!(
                    "SELECT id FROM documents WHERE issued_year = $1 AND number = $2 AND ",
                    crate::public_sql!(),
                    " ORDER BY id LIMIT 50"
                ),
            )
            .bind(year)
            .bind(number)
            .fetch_all(pool)
            .await?;
            rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
        })
    }

    /// A trivial round trip, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, pool => { sqlx::query("SELECT 1").execute(pool).await?; });
        Ok(())
    }
}

// After the macros above, which it uses.
mod actions;
pub use actions::{Actor, BulkItem, Corrections, HoldRecord, Resolution};
mod intents;
pub use intents::{BlobIntent, Holder, Release};
mod sync;
pub use sync::{
    AttachmentRecord, AttachmentRole, NewAttachment, PackageRecord, PackageState, PendingStatus,
    SyncAction, SyncRun, SyncWrite, Tombstone, VersionRecord,
};
mod accounts;
pub use accounts::{
    Account, AccountAuditEntry, Credentials, NewAccount, NewSession, SessionAccount, Unit,
};
