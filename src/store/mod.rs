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
        if name == "documents_registry_key"
            || message.contains("documents.issuer, documents.issued_year, documents.number_symbol")
        {
            return StoreError::Conflict {
                constraint: "documents_registry_key",
                message: "Đã có văn bản cùng cơ quan ban hành, năm và số ký hiệu (documents_registry_key)".into(),
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

/// Publication status of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    NeedsReview,
    Published,
    Withdrawn,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::NeedsReview => "needs_review",
            Status::Published => "published",
            Status::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "draft" => Status::Draft,
            "needs_review" => Status::NeedsReview,
            "published" => Status::Published,
            "withdrawn" => Status::Withdrawn,
            _ => return None,
        })
    }
}

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
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub fields: DocumentFields,
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

const DOCUMENT_COLUMNS: &str = "id, unit_code, status, source, source_ref, file_sha256, external_id, replaced_by, version, created_at, updated_at, \
     doc_type, number, symbol, number_symbol, issuer, issuer_parent, place, issued_date, issued_year, effective_date, \
     abstract, signer_name, signer_title, signing_authority, recipients, secrecy, urgency, internal_circulation, \
     needs_ocr, text_source, pages, field_evidence, signature";

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

/// Inserts a document with its file row, text, warnings, citations, audit entry and
/// change-log entry on an open transaction, and evaluates to the new id. A macro rather
/// than a function so that it compiles for each backend's transaction type (like
/// `with_pool!`), and so that sync writes can add their ledger row to the same transaction.
macro_rules! insert_document_tx {
    ($tx:expr, $doc:expr, $now:expr) => {{
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
            let id: i64 = sqlx::query(
                "INSERT INTO documents (unit_code, status, source, source_ref, external_id, file_sha256, doc_type, number, symbol, \
                 number_symbol, issuer, issuer_parent, place, issued_date, issued_year, effective_date, abstract, \
                 signer_name, signer_title, signing_authority, recipients, secrecy, urgency, internal_circulation, \
                 needs_ocr, text_source, pages, field_evidence, signature, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
                 $21, $22, $23, $24, $25, $26, $27, $28, $29, 1, $30, $31) RETURNING id",
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
            .bind($now)
            .bind($now)
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
            let detail = serde_json::json!({
                "status": $doc.status.as_str(),
                "reason": $doc.status_reason,
                "source": $doc.source,
                "file_sha256": $doc.file.sha256,
            });
            sqlx::query("INSERT INTO audit_log (document_id, action, actor, detail, at) VALUES ($1, $2, $3, $4, $5)")
                .bind(id)
                .bind("created")
                .bind(&$doc.actor)
                .bind(Json(&detail))
                .bind($now)
                .execute(&mut *$tx)
                .await?;
            sqlx::query("INSERT INTO search_changes (document_id, at) VALUES ($1, $2)")
                .bind(id)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
            id
    }};
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
            version: row.try_get("version")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
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
            Store::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Store::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
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

    /// The document stored for a file, if any.
    pub async fn document_id_for_file(&self, sha256: &str) -> Result<Option<i64>, StoreError> {
        let row = with_pool!(self, pool => sqlx::query("SELECT id FROM documents WHERE file_sha256 = $1")
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

    /// Changes a record's status, bumping its version and recording who and why.
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
            let previous: Option<String> = sqlx::query("SELECT status FROM documents WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("status"))
                .transpose()?;
            let previous = previous.ok_or(StoreError::NotFound(id))?;
            sqlx::query("UPDATE documents SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3")
                .bind(status.as_str())
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let detail = serde_json::json!({"from": previous, "to": status.as_str(), "reason": reason});
            sqlx::query("INSERT INTO audit_log (document_id, action, actor, detail, at) VALUES ($1, $2, $3, $4, $5)")
                .bind(id)
                .bind("status_changed")
                .bind(actor)
                .bind(Json(&detail))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO search_changes (document_id, at) VALUES ($1, $2)")
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
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
            let rows = sqlx::query("SELECT blob_key FROM files ORDER BY sha256").fetch_all(pool).await?;
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
                "SELECT id FROM documents WHERE status = 'published' AND secrecy IS NULL \
                 AND NOT internal_circulation AND id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after_id)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
        })
    }

    /// Published documents that cite `number_symbol`, newest first.
    pub async fn published_citing(&self, number_symbol: &str) -> Result<Vec<i64>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT d.id FROM citations c JOIN documents d ON d.id = c.document_id \
                 WHERE c.number_symbol = $1 AND d.status = 'published' AND d.secrecy IS NULL \
                 ORDER BY d.issued_date DESC, d.id DESC LIMIT 200",
            )
            .bind(number_symbol)
            .fetch_all(pool)
            .await?;
            rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
        })
    }

    /// The published document carrying `number_symbol`, if the registry has it.
    pub async fn published_by_number_symbol(
        &self,
        number_symbol: &str,
    ) -> Result<Option<i64>, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT id FROM documents WHERE number_symbol = $1 AND status = 'published' \
                 AND secrecy IS NULL ORDER BY id LIMIT 1",
            )
            .bind(number_symbol)
            .fetch_optional(pool)
            .await?;
            row.map(|r| Ok(r.try_get("id")?)).transpose()
        })
    }

    /// Published records with this year and number (ELI resolution narrows further).
    pub async fn published_by_year_number(
        &self,
        year: i32,
        number: &str,
    ) -> Result<Vec<i64>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT id FROM documents WHERE issued_year = $1 AND number = $2 \
                 AND status = 'published' AND secrecy IS NULL ORDER BY id LIMIT 50",
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
mod intents;
pub use intents::{BlobIntent, Holder, Release};
mod sync;
pub use sync::{
    PackageRecord, PackageState, SyncAction, SyncRun, SyncWrite, Tombstone, VersionRecord,
};
