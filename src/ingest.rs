//! Ingestion: files from disk → extraction → blob store → database, one file at a time,
//! deduplicated by SHA-256. A failing file is reported with its reason and never stops
//! the batch; nothing half-written is left behind.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use crate::blob::{BlobGuard, BlobStore};
use crate::config::Settings;
use crate::doctypes::DocTypeTable;
use crate::domain::{self, Arrival, Evidence, Holder, Placement};
use crate::extract::{self, Extraction, sha256_hex};
use crate::policy;
use crate::store::{DocumentFields, NewCitation, NewDocument, NewFile, Status, Store, StoreError};

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

#[derive(Debug, Clone, Serialize)]
pub struct FileResult {
    pub path: PathBuf,
    pub sha256: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub new: usize,
    pub duplicate: usize,
    pub superseded: usize,
    pub failed: usize,
    pub results: Vec<FileResult>,
}

pub struct Ingestor<'a> {
    pub store: &'a Store,
    pub blobs: &'a BlobStore,
    pub settings: &'a Settings,
    pub types: &'static DocTypeTable,
    pub unit_code: String,
    pub publish: bool,
    pub actor: String,
}

/// Expands files and directories (recursively) into a sorted list of files.
pub fn collect_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.is_dir() {
            for entry in walkdir::WalkDir::new(path)
                .follow_links(false)
                .sort_by_file_name()
            {
                match entry {
                    Ok(e)
                        if e.file_type().is_file()
                            && !e.file_name().to_string_lossy().starts_with('.') =>
                    {
                        files.push(e.into_path())
                    }
                    Ok(_) => {}
                    Err(e) => errors.push((
                        e.path().map(Path::to_path_buf).unwrap_or_default(),
                        e.to_string(),
                    )),
                }
            }
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            errors.push((
                path.clone(),
                "không tìm thấy tệp hoặc thư mục (not found)".into(),
            ));
        }
    }
    (files, errors)
}

impl Ingestor<'_> {
    pub async fn ingest_file(&self, path: &Path) -> FileResult {
        let failed = |sha256: Option<String>, reason: String| FileResult {
            path: path.to_path_buf(),
            sha256,
            outcome: Outcome::Failed { reason },
        };
        let size = match std::fs::metadata(path) {
            Ok(m) => m.len(),
            Err(e) => {
                return failed(
                    None,
                    format!("không đọc được tệp (file vanished or unreadable: {e})"),
                );
            }
        };
        if size > self.settings.extraction.max_file_bytes {
            return failed(
                None,
                format!(
                    "tệp quá lớn ({size} byte > {} byte)",
                    self.settings.extraction.max_file_bytes
                ),
            );
        }
        let bytes = match tokio::fs::read(path).await {
            Ok(b) => b,
            Err(e) => {
                return failed(
                    None,
                    format!("không đọc được tệp (file vanished or unreadable: {e})"),
                );
            }
        };
        let sha256 = sha256_hex(&bytes);
        match self.store.document_id_for_file(&sha256).await {
            Ok(Some(id)) => {
                return FileResult {
                    path: path.to_path_buf(),
                    sha256: Some(sha256),
                    outcome: Outcome::Duplicate { id },
                };
            }
            Ok(None) => {}
            Err(e) => return failed(Some(sha256), e.to_string()),
        }
        let types = self.types;
        let budget = self.settings.extraction.budget();
        // Off the async threads; the budget stops a hostile file on this thread.
        let extraction = match tokio::task::spawn_blocking(move || {
            let result = extract::extract_pdf_within(&bytes, types, budget);
            (result, bytes)
        })
        .await
        {
            Ok((Ok(x), bytes)) => (x, bytes),
            Ok((Err(e), _)) => return failed(Some(sha256), e.to_string()),
            Err(e) => {
                return failed(
                    Some(sha256),
                    format!("trích xuất bị lỗi nội bộ (extraction panicked: {e})"),
                );
            }
        };
        let (extraction, bytes) = extraction;
        match self.store_extraction(path, &bytes, &extraction).await {
            Ok(outcome) => FileResult {
                path: path.to_path_buf(),
                sha256: Some(sha256),
                outcome,
            },
            Err(reason) => failed(Some(sha256), reason),
        }
    }

    async fn store_extraction(
        &self,
        path: &Path,
        bytes: &[u8],
        x: &Extraction,
    ) -> Result<Outcome, String> {
        let request = if self.publish {
            policy::Request::Publish
        } else {
            policy::Request::Hold
        };
        let decision = policy::decide(x, &self.settings.publication, request);
        let mut doc = new_document(
            x,
            &self.unit_code,
            &decision,
            &self.actor,
            Origin {
                source: "cli",
                source_ref: Some(path.display().to_string()),
                external_id: None,
                original_name: path.file_name().map(|n| n.to_string_lossy().to_string()),
            },
        );
        // Decided before the file is written: a duplicate writes nothing.
        let placement = placement(self.store, &doc, &[])
            .await
            .map_err(|e| e.to_string())?;
        if let Placement::Duplicate { of } = placement {
            return Ok(Outcome::Duplicate { id: of });
        }
        // Announced before it is written, so that a crash before the record commits
        // leaves nothing the next run does not clean up.
        let mut guard = BlobGuard::new(self.store, self.blobs);
        if let Err(e) = guard.put(&x.sha256, bytes).await {
            guard.abandon().await;
            return Err(e.to_string());
        }
        let claims = guard.claim(&x.sha256);
        let stored = match placement {
            Placement::Duplicate { of } => return Ok(Outcome::Duplicate { id: of }),
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
            Placement::New => self
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
                Err(match e {
                    StoreError::Conflict { message, .. } => message,
                    other => other.to_string(),
                })
            }
        }
    }
}

/// One document, one record: where `doc` goes given the records that already carry its
/// registry key (`domain::place`). The one decision both paths take — the hand ingest
/// here and the e-office sync's plan. Records whose external id is in `replacing` (a
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
    doc.holds.push(domain::Hold::new(
        domain::HoldCode::RegistryConflict,
        reason.clone(),
    ));
    doc.status_reason = match doc.status {
        // Other reasons to hold or withdraw it stay on record beside this one.
        Status::NeedsReview | Status::Withdrawn => format!("{reason}; {}", doc.status_reason),
        _ => reason,
    };
    if doc.status != Status::Withdrawn {
        doc.status = Status::NeedsReview;
    }
}

/// Where a document came from.
pub struct Origin<'a> {
    /// `cli`, or `sync:<source name>`.
    pub source: &'a str,
    /// A path, or a hub's package id.
    pub source_ref: Option<String>,
    /// The edXML `DocumentId`.
    pub external_id: Option<String>,
    pub original_name: Option<String>,
}

/// Maps an extraction into the row the store keeps.
pub fn new_document(
    x: &Extraction,
    unit_code: &str,
    decision: &policy::Decision,
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
                    .map(|d| (crate::domain::MARKING_DOUBT.to_string(), d.describe())),
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
        holds: decision.holds.clone(),
    }
}
