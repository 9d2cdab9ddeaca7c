//! What the e-office sync does with one package beyond the one intake
//! (`crate::intake`): the intake reads it (edXML header + attached files' text), decides
//! its publication and keeps its bytes ([`prepare`]); here the package is planned against
//! what the registry already holds — new, update, revoke, replace, status, a tombstone
//! from an earlier package, one document one record ([`plan`]). Writing the plan with the
//! ledger row is the store's job (`Store::apply_sync`, one transaction).

use edxml::BusinessKind;

use crate::blob::{BlobGuard, BlobStore};
use crate::config::PublicationSettings;
use crate::doctypes::DocTypeTable;
use crate::domain::{self, Placement};
use crate::edxml_import::ImportedPackage;
use crate::extract::sha256_hex;
use crate::intake::{self, Origin, hold_as_conflict, new_document, placement};
use crate::policy::{Decision, Request};
use crate::store::{NewAttachment, Status, Store, SyncAction, SyncWrite, Tombstone};

use super::source::SourceConfig;

/// Why a package could not be stored this time (the intake's failure: a malformed
/// package delivered by a hub counts as transient too, since transfers corrupt).
pub use crate::intake::Failure;

/// A package read and decided, its bytes kept, ready to be planned and applied.
pub struct Ready {
    pub package_id: String,
    pub package_sha256: String,
    pub imported: ImportedPackage,
    pub decision: Decision,
    pub unit: String,
    /// The blobs this package wrote, announced until its record commits (released, and
    /// removed if nothing else wants them, when it does not).
    pub blobs: BlobGuard,
}

impl Ready {
    /// The further files to list with the record (their bytes are in the blob store).
    pub fn attachments(&self) -> Vec<NewAttachment> {
        self.imported
            .attachments
            .iter()
            .map(|a| NewAttachment {
                sha256: a.sha256.clone(),
                filename: a.name.clone(),
                media_type: a.media_type.clone(),
                size: a.bytes.len() as i64,
                role: a.role,
            })
            .collect()
    }
}

/// Reads a package's bytes into a [`Ready`] package: parse, extract, decide; and, unless
/// `dry_run`, writes the document's file and the package itself to the blob store
/// (write-once, by SHA-256) so that the commit that follows can refer to them.
#[allow(clippy::too_many_arguments)]
pub async fn prepare(
    package_id: String,
    bytes: Vec<u8>,
    source: &SourceConfig,
    default_unit: &str,
    publication: &PublicationSettings,
    types: &'static DocTypeTable,
    store: &Store,
    blobs: &BlobStore,
    dry_run: bool,
) -> Result<Ready, Failure> {
    let mut guard = BlobGuard::new(store, blobs);
    let source = source.clone();
    let default_unit = default_unit.to_string();
    let publication = publication.clone();
    // Parsing, inflating and PDF extraction are CPU work: off the async threads.
    intake::on_blocking_pool(move || {
        let package_sha256 = sha256_hex(&bytes);
        let imported = intake::read_package(&bytes, types)?;
        let organ = imported
            .package
            .header
            .from
            .as_ref()
            .and_then(|f| f.organ_id.clone())
            .filter(|o| !o.trim().is_empty());
        let unit = organ
            .clone()
            .or_else(|| source.unit.clone())
            .unwrap_or(default_unit);
        let request = match source.distrust(organ.as_deref()) {
            Some(why) => Request::Review(why),
            None => Request::Publish,
        };
        let decision = intake::decide_package(&imported, &publication, request);
        if !dry_run {
            let mut items: Vec<(&str, &[u8])> = Vec::new();
            if let Some(file) = &imported.file {
                items.push((imported.extraction.sha256.as_str(), file.bytes.as_slice()));
            }
            for extra in &imported.attachments {
                items.push((extra.sha256.as_str(), extra.bytes.as_slice()));
            }
            items.push((package_sha256.as_str(), bytes.as_slice()));
            // On failure the guard, dropped, releases what it announced.
            guard
                .put_all_blocking(&items)
                .map_err(|e| Failure::transient(e.to_string()))?;
        }
        Ok(Ready {
            package_id,
            package_sha256,
            imported,
            decision,
            unit,
            blobs: guard,
        })
    })
    .await
    .map_err(|e| Failure::permanent(format!("xử lý gói bị lỗi nội bộ (panicked: {e})")))?
}

fn business_name(kind: &BusinessKind, is_status: bool) -> &'static str {
    if is_status {
        return "status";
    }
    match kind {
        BusinessKind::New | BusinessKind::Other(_) => "new",
        BusinessKind::Revoke => "revoke",
        BusinessKind::Update => "update",
        BusinessKind::Replace => "replace",
    }
}

/// What `ready` does to the registry as it stands.
pub async fn plan(
    ready: &Ready,
    source: &SourceConfig,
    store: &Store,
) -> Result<SyncWrite, Failure> {
    let package = &ready.imported.package;
    let x = &ready.imported.extraction;
    let kind = package.business_kind();
    let business = business_name(&kind, package.is_status());
    let external_id = package
        .header
        .document_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let targets: Vec<String> = package
        .trace
        .as_ref()
        .and_then(|t| t.business.as_ref())
        .map(|b| {
            b.replacements
                .iter()
                .filter_map(|r| r.document_id.clone())
                .filter(|id| Some(id) != external_id.as_ref())
                .collect()
        })
        .unwrap_or_default();
    let actor = format!("sync:{}", source.name);
    let mut write = SyncWrite {
        source: source.name.clone(),
        package_id: ready.package_id.clone(),
        business: business.to_string(),
        external_id: external_id.clone(),
        targets: targets.clone(),
        package_sha256: ready.package_sha256.clone(),
        outcome: String::new(),
        actor: actor.clone(),
        action: SyncAction::Record { document_id: None },
        attachments: ready.attachments(),
        send_status: source.send_status,
    };
    let reason = package
        .trace
        .as_ref()
        .and_then(|t| t.business.as_ref())
        .and_then(|b| b.reason.clone());
    let document = |decision: &Decision| {
        let mut doc = new_document(
            x,
            &ready.unit,
            decision,
            &actor,
            Origin {
                source: &actor,
                source_ref: Some(ready.package_id.clone()),
                external_id: external_id.clone(),
                original_name: ready.imported.file.as_ref().and_then(|f| f.name.clone()),
            },
        );
        if let BusinessKind::Other(code) = &kind {
            doc.warnings.push((
                "edxml_business".into(),
                format!(
                    "Mã nghiệp vụ BussinessDocType \"{code}\" không xác định: xử lý như văn bản mới"
                ),
            ));
        }
        Box::new(doc)
    };
    match business {
        "status" => {
            write.outcome = "status".into();
            Ok(write)
        }
        "revoke" => {
            let Some(id) = &external_id else {
                return Err(Failure::permanent(
                    "Gói thu hồi không có DocumentId: không biết thu hồi văn bản nào",
                ));
            };
            match store.document_by_external_id(id).await? {
                Some(doc) if doc.status == Status::Withdrawn => {
                    write.outcome = "duplicate".into();
                    write.action = SyncAction::Record {
                        document_id: Some(doc.id),
                    };
                }
                Some(doc) => {
                    write.outcome = "revoked".into();
                    write.action = SyncAction::Revoke {
                        document_id: doc.id,
                        reason: format!(
                            "Thu hồi theo gói liên thông {}{}",
                            ready.package_id,
                            reason.map(|r| format!(": {r}")).unwrap_or_default()
                        ),
                    };
                }
                // Remembered by the ledger row: the document is withdrawn when it arrives.
                None => write.outcome = "revoke_pending".into(),
            }
            Ok(write)
        }
        "update" => {
            let existing = match &external_id {
                Some(id) => store.document_by_external_id(id).await?,
                None => None,
            };
            match existing {
                Some(doc) => {
                    let unchanged = doc.file_sha256 == x.sha256
                        && doc.fields.abstract_text == x.metadata.abstract_text.value
                        && doc.fields.number_symbol == x.metadata.number_symbol();
                    if unchanged {
                        write.outcome = "duplicate".into();
                        write.action = SyncAction::Record {
                            document_id: Some(doc.id),
                        };
                    } else {
                        // A withdrawn document stays withdrawn: an update does not bring it back.
                        let decision = if doc.status == Status::Withdrawn {
                            Decision {
                                status: Status::Withdrawn,
                                reason: "Văn bản đã bị thu hồi: bản cập nhật được lưu, không công khai lại".into(),
                            }
                        } else {
                            ready.decision.clone()
                        };
                        write.outcome = "updated".into();
                        write.action = SyncAction::Update {
                            document_id: doc.id,
                            doc: document(&decision),
                        };
                    }
                    Ok(write)
                }
                None => {
                    // An update of a document never received is the document itself.
                    write.business = "new".into();
                    insert(write, store, document(&ready.decision), Vec::new()).await
                }
            }
        }
        _ => {
            let doc = document(&ready.decision);
            insert(write, store, doc, targets).await
        }
    }
}

async fn insert(
    mut write: SyncWrite,
    store: &Store,
    mut doc: Box<crate::store::NewDocument>,
    replaces: Vec<String>,
) -> Result<SyncWrite, Failure> {
    if let Some(id) = &write.external_id
        && let Some(existing) = store.document_by_external_id(id).await?
    {
        // The same DocumentId again: a redelivery — unless it now carries the signed
        // original of a record that holds an unsigned or broken copy.
        let copy = domain::Evidence::of_stored(existing.fields.signature.as_ref());
        if existing.file_sha256 != doc.file.sha256
            && domain::supersedes(
                domain::Evidence::of_stored(doc.metadata.signature.as_ref()),
                copy,
            )
        {
            write.outcome = "superseded".into();
            write.action = SyncAction::Supersede {
                document_id: existing.id,
                doc,
                reason: domain::supersede_reason(existing.id, copy),
            };
            return Ok(write);
        }
        write.outcome = "duplicate".into();
        write.action = SyncAction::Record {
            document_id: Some(existing.id),
        };
        return Ok(write);
    }
    if let Some(existing) = store.document_id_for_file(&doc.file.sha256).await? {
        write.outcome = "duplicate".into();
        write.action = SyncAction::Record {
            document_id: Some(existing),
        };
        return Ok(write);
    }
    let mut replaced_by = None;
    if let Some(id) = &write.external_id {
        match store.tombstone(id).await? {
            Some(Tombstone::Revoked { package_id }) => {
                doc.status = Status::Withdrawn;
                doc.status_reason = format!(
                    "Đã nhận gói thu hồi {package_id} trước khi văn bản đến: không công khai"
                );
            }
            Some(Tombstone::ReplacedBy { document_id }) => {
                doc.status = Status::Withdrawn;
                doc.status_reason =
                    format!("Đã được thay thế bởi văn bản #{document_id} trước khi đến");
                replaced_by = Some(document_id);
            }
            None => {}
        }
    }
    // One document, one record: the same rule as every intake (`intake::placement`).
    match placement(store, &doc, &replaces).await? {
        Placement::New => {}
        Placement::Duplicate { of } => {
            write.outcome = "duplicate".into();
            write.action = SyncAction::Record {
                document_id: Some(of),
            };
            return Ok(write);
        }
        Placement::Supersede { record, copy } => {
            write.outcome = "superseded".into();
            write.action = SyncAction::Supersede {
                document_id: record,
                doc,
                reason: domain::supersede_reason(record, copy),
            };
            return Ok(write);
        }
        Placement::Conflict { with } => hold_as_conflict(&mut doc, with),
    }
    write.outcome = if replaces.is_empty() {
        "new"
    } else {
        "replaced"
    }
    .into();
    write.action = SyncAction::Insert {
        doc,
        replaces,
        replaced_by,
    };
    Ok(write)
}
