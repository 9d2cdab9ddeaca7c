//! The one intake: every document that enters the registry — a file given to `vanban
//! ingest`, a package from the e-office sync, a file uploaded at the desk — goes through
//! the same stages:
//!
//! 1. **read + extract** ([`extract_file`], [`read_package`]): on the blocking pool, never
//!    on the async threads, within the extraction budget. A PDF is read as text; an image
//!    (JPEG, PNG, TIFF) becomes a record with no text that waits for OCR or a clerk; an
//!    edXML package is parsed with its attached files.
//! 2. **decide** ([`decide`], [`decide_package`]): `policy::decide`, plus what holds an
//!    image or a package's file.
//! 3. **keep blobs**: through one [`BlobGuard`], whose intents the record's transaction
//!    consumes (a record that does not commit leaves no blob behind).
//! 4. **place** ([`placement`]): one document, one record (`domain::place`).
//! 5. **store**: [`Intake::store_document`] for a single file (insert, supersede, or a
//!    held conflict, in one transaction); the sync plans its lifecycle packages (revoke,
//!    update, replace) and writes them with `Store::apply_sync` (`sync::package`).
//!
//! Callers keep only what is theirs: `ingest` walks files, `sync` keeps its ledger and
//! acknowledgements, `jobs` leases and retries.

use std::sync::{Arc, LazyLock};

use serde::Serialize;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::blob::{BlobGuard, BlobStore};
use crate::config::{PublicationSettings, Settings};
use crate::decree30::{Metadata, Warning};
use crate::doctypes::DocTypeTable;
use crate::domain::{self, Arrival, Evidence, Holder, Placement};
use crate::edxml_import::{ImportedPackage, import_edxml};
use crate::extract::{self, Extraction, TextSource, sha256_hex};
use crate::pdf;
use crate::policy::{self, Decision, Request};
use crate::store::{DocumentFields, NewCitation, NewDocument, NewFile, Status, Store, StoreError};

/// Why an input could not be taken in this time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// In Vietnamese: what the clerk or operator reads.
    pub message: String,
    /// Worth retrying as it is (the disk or the database may recover; a hub's transfer
    /// may have corrupted a package). A file that is not a PDF, or a refusal, is not.
    pub transient: bool,
}

impl Failure {
    pub fn permanent(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            transient: false,
        }
    }
    pub fn transient(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            transient: true,
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        match e {
            // Another writer published the same document, or stored the same file,
            // between plan and commit: the next attempt plans against the registry as it
            // now stands.
            StoreError::Conflict {
                constraint: "documents_registry_key" | "documents_file_unique",
                message,
            } => Failure::transient(message),
            StoreError::Conflict { message, .. } => Failure::permanent(message),
            StoreError::Refused(refusal) => Failure::permanent(refusal.to_string()),
            // The blob's intent was swept: storing again is safe.
            e @ StoreError::BlobIntentLost(_) => Failure::transient(e.to_string()),
            other => Failure::transient(format!("cơ sở dữ liệu: {other}")),
        }
    }
}

/// What became of one file taken in.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    New {
        id: i64,
        status: String,
        reason: String,
    },
    Duplicate {
        id: i64,
    },
    /// The file is the signed original of record `id`'s unsigned or broken copy: the
    /// record now shows and serves it (the copy stays in its history).
    Superseded {
        id: i64,
        status: String,
        reason: String,
    },
    Failed {
        reason: String,
    },
}

/// Where a document came from.
pub struct Origin<'a> {
    /// `cli`, `upload`, or `sync:<source name>`.
    pub source: &'a str,
    /// A path, a hub's package id, or `job:<id>`.
    pub source_ref: Option<String>,
    /// The edXML `DocumentId`.
    pub external_id: Option<String>,
    pub original_name: Option<String>,
}

/// What a single file is, by its first bytes (not its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    /// An image a scanner or a phone made; the media type.
    Image(&'static str),
}

impl FileKind {
    /// Sniffs `bytes`: `%PDF-` in the first kilobyte (some producers put junk before
    /// it), or the JPEG, PNG or TIFF signature. `None` for anything else.
    pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
        let head = &bytes[..bytes.len().min(1024)];
        if memchr::memmem::find(head, b"%PDF-").is_some() {
            return Some(FileKind::Pdf);
        }
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(FileKind::Image("image/jpeg"));
        }
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Some(FileKind::Image("image/png"));
        }
        if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
            return Some(FileKind::Image("image/tiff"));
        }
        None
    }

    pub fn media_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Image(media_type) => media_type,
        }
    }
}

/// The warning code and reason of an image taken in: there is no text to read until OCR.
pub const IMAGE_NEEDS_TEXT: &str = "image_needs_text";
pub const IMAGE_REASON: &str = "Tệp ảnh chưa có chữ: cần nhận dạng chữ hoặc văn thư nhập thông tin";

/// The extraction of an image file: no pages of text, no metadata, waiting for OCR.
pub fn image_extraction(bytes: &[u8], media_type: &'static str) -> Extraction {
    Extraction {
        sha256: sha256_hex(bytes),
        size: bytes.len() as u64,
        media_type,
        pages: 1,
        text: String::new(),
        text_source: TextSource::None,
        metadata: Metadata::default(),
        warnings: vec![Warning {
            code: IMAGE_NEEDS_TEXT,
            message: IMAGE_REASON.into(),
        }],
        producer: None,
        signatures: Default::default(),
    }
}

/// How many extractions run at once in this process, whoever asks (ingest, sync, job
/// workers): one per core (at least two). CPU work beyond that would only queue inside
/// the blocking pool holding memory; here it waits without a thread.
static EXTRACTION_SLOTS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Arc::new(Semaphore::new(cores.max(2)))
});

/// Runs CPU-heavy intake work (parsing, extraction) on the blocking pool, never on the
/// async threads, with at most one task per core at a time.
pub async fn on_blocking_pool<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    let permit = EXTRACTION_SLOTS
        .clone()
        .acquire_owned()
        .await
        .expect("the extraction semaphore is never closed");
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
}

/// Stage 1 for a single file: reads `bytes` as what they are (a PDF, or an image),
/// on the blocking pool within `budget`. Gives the bytes back for the blob stage.
pub async fn extract_file(
    bytes: Vec<u8>,
    types: &'static DocTypeTable,
    budget: pdf::Budget,
) -> Result<(Extraction, Vec<u8>), Failure> {
    let read = on_blocking_pool(move || {
        let result = match FileKind::sniff(&bytes) {
            Some(FileKind::Image(media_type)) => Ok(image_extraction(&bytes, media_type)),
            // Anything else is read as a PDF, which says what is wrong with it.
            Some(FileKind::Pdf) | None => extract::extract_pdf_within(&bytes, types, budget),
        };
        (result, bytes)
    })
    .await;
    match read {
        Ok((Ok(x), bytes)) => Ok((x, bytes)),
        Ok((Err(e), _)) => Err(Failure::permanent(e.to_string())),
        Err(e) => Err(Failure::permanent(format!(
            "trích xuất bị lỗi nội bộ (extraction panicked: {e})"
        ))),
    }
}

/// Stage 1 for an e-office package (called on the blocking pool): parses the edXML,
/// extracts the attached document and reads its further files.
pub fn read_package(bytes: &[u8], types: &DocTypeTable) -> Result<ImportedPackage, Failure> {
    import_edxml(bytes, types).map_err(|e| match e {
        // Already says "gói edXML không đọc được (…)".
        extract::ExtractError::Edxml(_) => Failure::permanent(e.to_string()),
        e => Failure::permanent(format!("gói edXML không đọc được: {e}")),
    })
}

/// Stage 2 for a single file: the publication rules, and an image waits for its text.
pub fn decide(x: &Extraction, publication: &PublicationSettings, request: Request) -> Decision {
    let mut decision = policy::decide(x, publication, request);
    if x.warnings.iter().any(|w| w.code == IMAGE_NEEDS_TEXT) {
        decision = Decision {
            status: Status::NeedsReview,
            reason: IMAGE_REASON.into(),
        };
    }
    decision
}

/// Stage 2 for a package: the publication rules on its document, and a package without
/// a document file, or whose further files raise a concern, is held.
pub fn decide_package(
    imported: &ImportedPackage,
    publication: &PublicationSettings,
    request: Request,
) -> Decision {
    let mut decision = policy::decide(&imported.extraction, publication, request);
    if imported.file.is_none() && decision.status == Status::Published {
        decision = Decision {
            status: Status::NeedsReview,
            reason: "Gói edXML không có tệp văn bản đính kèm: cần văn thư bổ sung tệp".into(),
        };
    }
    // The further files are served with the record: what holds one of them holds it.
    if !imported.concerns.is_empty() && decision.status == Status::Published {
        decision = Decision {
            status: Status::NeedsReview,
            reason: format!("{}: cần văn thư xem xét", imported.concerns.join("; ")),
        };
    }
    decision
}

/// The stages that need the registry: blobs, placement, store.
pub struct Intake<'a> {
    pub store: &'a Store,
    pub blobs: &'a BlobStore,
    pub settings: &'a Settings,
    pub types: &'static DocTypeTable,
}

/// One single file to take in (`vanban ingest`, a desk upload).
pub struct FileInput<'a> {
    pub bytes: Vec<u8>,
    pub unit_code: &'a str,
    pub actor: &'a str,
    pub publish: bool,
    pub origin: Origin<'a>,
}

impl Intake<'_> {
    /// Every stage for one file: the same bytes stored before are a duplicate (nothing is
    /// read again); else read, decide, keep, place and store. Returns the file's SHA-256
    /// (when it was read) and the outcome.
    pub async fn take_file(&self, input: FileInput<'_>) -> (String, Result<Outcome, Failure>) {
        let sha256 = sha256_hex(&input.bytes);
        match self.store.document_id_for_file(&sha256).await {
            Ok(Some(id)) => return (sha256, Ok(Outcome::Duplicate { id })),
            Ok(None) => {}
            Err(e) => return (sha256, Err(e.into())),
        }
        let budget = self.settings.extraction.budget();
        let (x, bytes) = match extract_file(input.bytes, self.types, budget).await {
            Ok(read) => read,
            Err(f) => return (sha256, Err(f)),
        };
        let request = if input.publish {
            Request::Publish
        } else {
            Request::Hold
        };
        let decision = decide(&x, &self.settings.publication, request);
        let doc = new_document(&x, input.unit_code, &decision, input.actor, input.origin);
        (sha256, self.store_document(&bytes, doc, &decision).await)
    }

    /// Stages 3–5 for one decided document: placed first (a duplicate writes nothing),
    /// then its file kept through the guard, then stored in one transaction that consumes
    /// the guard's intent.
    pub async fn store_document(
        &self,
        bytes: &[u8],
        mut doc: NewDocument,
        decision: &Decision,
    ) -> Result<Outcome, Failure> {
        let placement = placement(self.store, &doc, &[]).await?;
        if let Placement::Duplicate { of } = placement {
            return Ok(Outcome::Duplicate { id: of });
        }
        // Announced before it is written, so that a crash before the record commits
        // leaves nothing the next run does not clean up.
        let mut guard = BlobGuard::new(self.store, self.blobs);
        if let Err(e) = guard.put(&doc.file.sha256, bytes).await {
            guard.abandon().await;
            return Err(Failure::transient(e.to_string()));
        }
        let claims = guard.claim(&doc.file.sha256);
        let stored = match placement {
            Placement::Supersede { record, copy } => {
                let reason = domain::supersede_reason(record, copy);
                self.store
                    .supersede(record, &doc, &reason, &claims)
                    .await
                    .map(|status| Outcome::Superseded {
                        id: record,
                        status: status.as_str().to_string(),
                        reason,
                    })
            }
            Placement::Conflict { with } => {
                hold_as_conflict(&mut doc, with);
                self.store
                    .insert_document_claiming(&doc, &claims)
                    .await
                    .map(|id| Outcome::New {
                        id,
                        status: doc.status.as_str().to_string(),
                        reason: doc.status_reason.clone(),
                    })
            }
            Placement::New | Placement::Duplicate { .. } => self
                .store
                .insert_document_claiming(&doc, &claims)
                .await
                .map(|id| Outcome::New {
                    id,
                    status: decision.status.as_str().to_string(),
                    reason: decision.reason.clone(),
                }),
        };
        match stored {
            Ok(outcome) => {
                guard.committed().await;
                Ok(outcome)
            }
            Err(e) => {
                // The record did not commit: the blob must not linger unreferenced.
                guard.abandon().await;
                Err(e.into())
            }
        }
    }
}

/// One document, one record: where `doc` goes given the records that already carry its
/// registry key (`domain::place`). The one decision every intake takes — a hand ingest,
/// an upload, the e-office sync's plan. Records whose external id is in `replacing` (a
/// sync replace package's targets, withdrawn in the same transaction) do not count.
pub async fn placement(
    store: &Store,
    doc: &NewDocument,
    replacing: &[String],
) -> Result<Placement, StoreError> {
    let m = &doc.metadata;
    let Some(key) = domain::registry_key(
        m.issuer.as_deref(),
        m.issued_year,
        m.number_symbol.as_deref(),
    ) else {
        return Ok(Placement::New);
    };
    let mut records = store.records_with_key(&key).await?;
    records.retain(|r| {
        r.external_id
            .as_ref()
            .is_none_or(|e| !replacing.contains(e))
    });
    if records.is_empty() {
        return Ok(Placement::New);
    }
    let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
    let texts = store.document_texts(&ids).await?;
    let holders: Vec<Holder> = records
        .iter()
        .map(|r| Holder {
            id: r.id,
            status: r.status,
            evidence: Evidence::of_stored(r.fields.signature.as_ref()),
            fingerprint: domain::content_fingerprint(
                texts.get(&r.id).map(String::as_str).unwrap_or(""),
            ),
        })
        .collect();
    let arrival = Arrival {
        evidence: Evidence::of_stored(m.signature.as_ref()),
        fingerprint: domain::content_fingerprint(&doc.text),
    };
    Ok(domain::place(&arrival, &holders))
}

/// A document that shares its registry key with record `with` but not its content, and
/// does not supersede it: stored as its own record, held for a clerk, naming the other.
pub fn hold_as_conflict(doc: &mut NewDocument, with: i64) {
    let reason = domain::conflict_reason(with);
    doc.warnings
        .push(("registry_conflict".into(), reason.clone()));
    doc.status_reason = if doc.status == Status::Published || doc.status == Status::Draft {
        reason
    } else {
        // Other reasons to hold or withdraw it stay on record beside this one.
        format!("{reason}; {}", doc.status_reason)
    };
    if doc.status != Status::Withdrawn {
        doc.status = Status::NeedsReview;
    }
}

/// Maps an extraction into the row the store keeps.
pub fn new_document(
    x: &Extraction,
    unit_code: &str,
    decision: &Decision,
    actor: &str,
    origin: Origin,
) -> NewDocument {
    let m = &x.metadata;
    let evidence = x
        .to_json()
        .get("fields")
        .cloned()
        .unwrap_or_else(|| json!({}));
    NewDocument {
        unit_code: unit_code.to_string(),
        status: decision.status,
        source: origin.source.to_string(),
        source_ref: origin.source_ref,
        external_id: origin.external_id,
        file: NewFile {
            sha256: x.sha256.clone(),
            size: x.size as i64,
            media_type: x.media_type.into(),
            original_name: origin.original_name,
        },
        metadata: DocumentFields {
            doc_type: m.doc_type.value.clone(),
            number: m.number.value.clone(),
            symbol: m.symbol.value.clone(),
            number_symbol: m.number_symbol(),
            issuer: m.issuer.value.clone(),
            issuer_parent: m.issuer_parent.value.clone(),
            place: m.place.value.clone(),
            issued_date: m.issued_date.value,
            issued_year: m.issued_year.value,
            effective_date: m.effective_date.value,
            abstract_text: m.abstract_text.value.clone(),
            signer_name: m.signer_name.value.clone(),
            signer_title: m.signer_title.value.clone(),
            signing_authority: m.signing_authority.value.clone(),
            recipients: m.recipients.value.clone().unwrap_or_default(),
            secrecy: m.secrecy.value.clone(),
            urgency: m.urgency.value.clone(),
            internal_circulation: x.internal_only(),
            needs_ocr: x.needs_ocr(),
            text_source: x.text_source.as_str().into(),
            pages: x.pages as i32,
            field_evidence: evidence,
            signature: x
                .signatures
                .is_signed()
                .then(|| serde_json::to_value(&x.signatures).expect("signatures serialise")),
        },
        text: x.text.clone(),
        // Marking doubts are kept with the record (`marking_doubt`): a later version of it
        // (a signed original, an update) must not publish it unseen.
        warnings: x
            .warnings
            .iter()
            .map(|w| (w.code.to_string(), w.message.clone()))
            .chain(
                x.marking_doubts()
                    .into_iter()
                    .map(|d| (domain::MARKING_DOUBT.to_string(), d.describe())),
            )
            .collect(),
        citations: m
            .citations
            .iter()
            .map(|c| NewCitation {
                number_symbol: c.number_symbol.clone(),
                cited_type: c.doc_type.clone(),
                cited_date: c.date,
            })
            .collect(),
        actor: actor.to_string(),
        status_reason: decision.reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_bytes_not_their_names() {
        for (bytes, expected) in [
            (&b"%PDF-1.7\n"[..], Some(FileKind::Pdf)),
            (&b"\r\n\r\n%PDF-1.4 junk first"[..], Some(FileKind::Pdf)),
            (
                &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10][..],
                Some(FileKind::Image("image/jpeg")),
            ),
            (
                &b"\x89PNG\r\n\x1a\n\0\0"[..],
                Some(FileKind::Image("image/png")),
            ),
            (&b"II*\0\x08\0"[..], Some(FileKind::Image("image/tiff"))),
            (&b"MM\0*\0\0"[..], Some(FileKind::Image("image/tiff"))),
            (&b"PK\x03\x04 a docx renamed .pdf"[..], None),
            (&b"<html>not a pdf</html>"[..], None),
            (&b""[..], None),
        ] {
            assert_eq!(FileKind::sniff(bytes), expected, "{bytes:?}");
        }
    }

    #[test]
    fn an_image_is_held_for_its_text_whatever_is_asked() {
        let x = image_extraction(b"\x89PNG\r\n\x1a\nrest", "image/png");
        assert!(x.needs_ocr());
        assert_eq!(x.media_type, "image/png");
        for request in [Request::Publish, Request::Hold] {
            let publication = PublicationSettings {
                public_types: vec!["Quyết định".into()],
                require_trusted_signature: false,
            };
            let d = decide(&x, &publication, request);
            assert_eq!(d.status, Status::NeedsReview);
            assert_eq!(d.reason, IMAGE_REASON);
        }
    }
}
