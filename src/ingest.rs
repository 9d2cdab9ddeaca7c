//! Ingestion: files from disk → extraction → blob store → database, one file at a time,
//! deduplicated by SHA-256. A failing file is reported with its reason and never stops
//! the batch; nothing half-written is left behind.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use crate::blob::{BlobGuard, BlobStore};
use crate::config::Settings;
use crate::doctypes::DocTypeTable;
use crate::extract::{self, Extraction, sha256_hex};
use crate::policy;
use crate::store::{DocumentFields, NewCitation, NewDocument, NewFile, Store, StoreError};

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
        // Announced before it is written, so that a crash before the record commits
        // leaves nothing the next run does not clean up.
        let mut guard = BlobGuard::new(self.store, self.blobs);
        if let Err(e) = guard.put(&x.sha256, bytes).await {
            guard.abandon().await;
            return Err(e.to_string());
        }
        let doc = new_document(
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
        let claims = guard.claim(&x.sha256);
        match self.store.insert_document_claiming(&doc, &claims).await {
            Ok(id) => {
                guard.committed().await;
                Ok(Outcome::New {
                    id,
                    status: decision.status.as_str().to_string(),
                    reason: decision.reason,
                })
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
        warnings: x
            .warnings
            .iter()
            .map(|w| (w.code.to_string(), w.message.clone()))
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
