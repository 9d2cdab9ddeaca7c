//! `vanban ingest`: walks files and directories and gives each file to the one intake
//! (`crate::intake`: read → extract → decide → blobs → place → store), one file at a
//! time, deduplicated by SHA-256. A failing file is reported with its reason and never
//! stops the batch; nothing half-written is left behind.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::blob::BlobStore;
use crate::config::Settings;
use crate::doctypes::DocTypeTable;
use crate::intake::{FileInput, Intake};
use crate::store::Store;

// The intake's vocabulary, under the names ingest has always exported.
pub use crate::intake::{Origin, Outcome, hold_as_conflict, new_document, placement};

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
        let intake = Intake {
            store: self.store,
            blobs: self.blobs,
            settings: self.settings,
            types: self.types,
        };
        let (sha256, outcome) = intake
            .take_file(FileInput {
                bytes,
                unit_code: &self.unit_code,
                actor: &self.actor,
                publish: self.publish,
                origin: Origin {
                    source: "cli",
                    source_ref: Some(path.display().to_string()),
                    external_id: None,
                    original_name: path.file_name().map(|n| n.to_string_lossy().to_string()),
                },
            })
            .await;
        FileResult {
            path: path.to_path_buf(),
            sha256: Some(sha256),
            outcome: outcome.unwrap_or_else(|f| Outcome::Failed { reason: f.message }),
        }
    }
}
