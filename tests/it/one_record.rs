//! One document, one record (issue 11 §4): the same document reaching the registry by a
//! hand ingest and by a sync, as an unsigned copy and as its signed original, as a
//! tampered copy and as the genuine file, in every order.
//!
//! Files: `seed001-nam-chinh.*.pdf` are one report (339/BC-UBND of 2021, Ủy ban nhân dân
//! xã Nam Chính) rendered by three producers, unsigned; `signed/01-rsa-invisible.pdf` is
//! the libreoffice rendering signed (intact); `signed/05-…` (modified after signing) and
//! `signed/06-…` (a flipped byte) are tampered copies of 01.

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use edxml::*;
use vanban::ingest::{Ingestor, Outcome};
use vanban::store::{Status, SyncAction};
use vanban::sync::source::{SourceConfig, SourceKind};

use crate::web::{TestApp, app};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

const UNSIGNED: &str = "pdf/seed001-nam-chinh.libreoffice.pdf";
const UNSIGNED_OTHER_PRODUCER: &str = "pdf/seed001-nam-chinh.chromium.pdf";
const SIGNED: &str = "signed/01-rsa-invisible.pdf";
const TAMPERED: &str = "signed/05-signed-then-content-changed.pdf";
const BYTE_FLIPPED: &str = "signed/06-byte-flipped.pdf";
/// Another document, used as the content of a true conflict.
const OTHER_CONTENT: &str = "pdf/qd-kien-toan.libreoffice.pdf";

fn sha(name: &str) -> String {
    vanban::extract::sha256_hex(&std::fs::read(fixture(name)).unwrap())
}

async fn ingest(app: &TestApp, name: &str) -> Outcome {
    let s = &app.state;
    let ingestor = Ingestor {
        store: &s.store,
        blobs: &s.blobs,
        settings: &s.settings,
        types: s.types,
        unit_code: "000.47.24.H44".into(),
        publish: true,
        actor: "cli:test".into(),
    };
    ingestor.ingest_file(&fixture(name)).await.outcome
}

/// An edXML package for the report: header fields as a producer writes them (issuer as
/// `organ`), with `file` attached.
pub(crate) fn package(organ: &str, document_id: &str, file: &str) -> Vec<u8> {
    let pdf = std::fs::read(fixture(file)).unwrap();
    let package = Package {
        namespace: NAMESPACE.into(),
        header: MessageHeader {
            from: Some(Organization {
                organ_id: Some("000.47.24.H44".into()),
                organ_name: Some(organ.into()),
                ..Organization::default()
            }),
            document_id: Some(document_id.into()),
            code_number: Some("339".into()),
            code_notation: Some("BC-UBND".into()),
            place: Some("Nam Chính".into()),
            promulgation_date: Some(LenientDate::new("2021/09/13")),
            type_name: Some("Báo cáo".into()),
            subject: Some(
                "Tình hình hoạt động của trang thông tin điện tử xã Nam Chính năm 2021".into(),
            ),
            signer_full_name: Some("Nguyễn Bá Dũng".into()),
            signer_position: Some("Chủ tịch".into()),
            ..MessageHeader::default()
        },
        manifest: vec![Reference {
            content_id: Some("cid:bc339".into()),
            attachment_name: Some("BC339.pdf".into()),
            description: None,
        }],
        attachments: vec![Attachment {
            content_id: Some("bc339".into()),
            attachment_name: Some("BC339.pdf".into()),
            content_type: Some("application/pdf".into()),
            description: None,
            payload: pdf.to_vec(),
            payload_error: None,
        }],
        ..Package::default()
    };
    write_document(&package).into_bytes()
}

/// Runs one package through the sync's own steps (prepare, plan, apply): what the engine
/// does for each package. Returns the plan's outcome and the record it touched.
pub(crate) async fn sync(app: &TestApp, package_id: &str, bytes: Vec<u8>) -> (String, Option<i64>) {
    let s = &app.state;
    let source = SourceConfig {
        name: "hub".into(),
        kind: SourceKind::Folder(PathBuf::from("/nonexistent")),
        enabled: true,
        trusted: true,
        trusted_organs: vec![],
        unit: None,
        send_status: false,
    };
    let mut ready = vanban::sync::package::prepare(
        package_id.into(),
        bytes,
        &source,
        "000.47.24.H44",
        &s.settings.publication,
        s.types,
        &s.store,
        &s.blobs,
        false,
    )
    .await
    .map_err(|f| f.message)
    .unwrap();
    let write = vanban::sync::package::plan(&ready, &source, &s.store)
        .await
        .map_err(|f| f.message)
        .unwrap();
    let id = s.store.apply_sync(&write).await.unwrap();
    // The record committed: the guard lets go of what it announced.
    ready.blobs.committed().await;
    if matches!(write.action, SyncAction::Record { .. }) {
        assert!(id.is_some(), "{package_id}: a duplicate names its record");
    }
    (write.outcome, id)
}

fn new_id(outcome: &Outcome) -> (i64, String) {
    match outcome {
        Outcome::New { id, status, .. } => (*id, status.clone()),
        other => panic!("expected a new record, got {other:?}"),
    }
}

/// The record shows and serves `file`; earlier files are in its history; the public sees
/// one record for the key.
async fn assert_serves(app: &TestApp, id: i64, file: &str, history: &[&str]) {
    let s = &app.state;
    let record = s.store.get_document(id).await.unwrap();
    assert_eq!(record.file_sha256, sha(file), "#{id} serves {file}");
    let versions: Vec<String> = s
        .store
        .versions(id)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.file_sha256)
        .collect();
    let want: Vec<String> = history.iter().map(|f| sha(f)).collect();
    assert_eq!(versions, want, "#{id} history");
    for old in history {
        // Both files are kept: the row and the blob.
        let stored = s
            .store
            .file(&sha(old))
            .await
            .unwrap()
            .expect("file row kept");
        assert!(s.blobs.contains(&stored.blob_key), "{old} blob kept");
    }
    if record.status == Status::Published {
        app.sync_index().await;
        let (code, _, body) = app.get(&format!("/api/v1/documents/{id}/file")).await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(vanban::extract::sha256_hex(&body), sha(file));
        let hits = app.search("339/BC-UBND").await;
        assert_eq!(hits, [id], "one public record for the document");
    }
}

async fn audit_actions(app: &TestApp, id: i64) -> Vec<String> {
    app.state
        .store
        .audit_trail(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn a_tampered_copy_first_never_blocks_the_genuine_original() {
    for tampered in [TAMPERED, BYTE_FLIPPED] {
        let app = app().await;
        let (id, status) = new_id(&ingest(&app, tampered).await);
        assert_eq!(status, "needs_review", "{tampered}: broken signature held");
        match ingest(&app, SIGNED).await {
            Outcome::Superseded {
                id: got,
                status,
                reason,
            } => {
                assert_eq!(got, id, "{tampered}");
                assert_eq!(status, "published", "{tampered}");
                assert!(reason.contains("chữ ký số không hợp lệ"), "{reason}");
                assert!(reason.contains(&format!("#{id}")), "{reason}");
            }
            other => panic!("{tampered}: {other:?}"),
        }
        assert_serves(&app, id, SIGNED, &[tampered]).await;
        assert_eq!(audit_actions(&app, id).await, ["created", "superseded"]);
        // The tampered copy again, or the unsigned one: duplicates of the record.
        for again in [tampered, UNSIGNED] {
            assert_eq!(
                ingest(&app, again).await,
                Outcome::Duplicate { id },
                "{again}"
            );
        }
    }
}

#[tokio::test]
async fn an_unsigned_copy_first_is_superseded_by_its_signed_original() {
    let app = app().await;
    let (id, status) = new_id(&ingest(&app, UNSIGNED).await);
    assert_eq!(status, "published");
    let Outcome::Superseded {
        id: got,
        status,
        reason,
    } = ingest(&app, SIGNED).await
    else {
        panic!("the signed original supersedes");
    };
    assert_eq!((got, status.as_str()), (id, "published"));
    assert!(reason.contains("chưa có chữ ký số hợp lệ"), "{reason}");
    assert_serves(&app, id, SIGNED, &[UNSIGNED]).await;
    let trail = app.state.store.audit_trail(id).await.unwrap();
    let superseded = &trail[1];
    assert_eq!(superseded.action, "superseded");
    assert_eq!(superseded.detail["previous_file_sha256"], sha(UNSIGNED));
    assert_eq!(superseded.detail["file_sha256"], sha(SIGNED));
    // The record now says it is signed.
    let record = app.json(&format!("/api/v1/documents/{id}")).await;
    assert_eq!(record["signature"]["valid"], true, "{record}");
}

#[tokio::test]
async fn a_signed_original_first_makes_later_copies_duplicates() {
    let app = app().await;
    let (id, status) = new_id(&ingest(&app, SIGNED).await);
    assert_eq!(status, "published");
    for copy in [UNSIGNED, UNSIGNED_OTHER_PRODUCER, TAMPERED] {
        assert_eq!(
            ingest(&app, copy).await,
            Outcome::Duplicate { id },
            "{copy}"
        );
        // Nothing of the copy was kept.
        assert!(
            app.state.store.file(&sha(copy)).await.unwrap().is_none(),
            "{copy}"
        );
    }
    assert_serves(&app, id, SIGNED, &[]).await;
    assert_eq!(audit_actions(&app, id).await, ["created"]);
}

#[tokio::test]
async fn a_true_conflict_goes_to_review_naming_the_other_record() {
    let app = app().await;
    let (first, _) = new_id(&ingest(&app, UNSIGNED).await);
    // Same issuer, year and number-symbol (from the header), other content.
    let (outcome, second) = sync(
        &app,
        "p-conflict",
        package(
            "UBND xã Nam Chính",
            "H44,2021/09/13,339/BC-UBND-X",
            OTHER_CONTENT,
        ),
    )
    .await;
    let second = second.unwrap();
    assert_eq!(outcome, "new");
    assert_ne!(second, first);
    let store = &app.state.store;
    let held = store.get_document(second).await.unwrap();
    assert_eq!(held.status, Status::NeedsReview);
    let reason = store.audit_trail(second).await.unwrap()[0].detail["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains(&format!(
            "Trùng số ký hiệu với văn bản #{first} nhưng khác nội dung"
        )),
        "{reason}"
    );
    assert!(
        store
            .warnings(second)
            .await
            .unwrap()
            .iter()
            .any(|(code, m)| code == "registry_conflict" && m.contains(&format!("#{first}")))
    );
    // Both are kept; the first stays the one public record; the review queue has the
    // newcomer, whose page names the first.
    assert_eq!(
        store.get_document(first).await.unwrap().status,
        Status::Published
    );
    let (queue, _) = store
        .documents_in_status(Status::NeedsReview, None, 10, 0)
        .await
        .unwrap();
    assert_eq!(queue.iter().map(|r| r.id).collect::<Vec<_>>(), [second]);
    assert_eq!(
        held.registry_key,
        store.get_document(first).await.unwrap().registry_key
    );
    assert_serves(&app, first, UNSIGNED, &[]).await;
    // A clerk cannot publish the second while the first is public…
    assert!(matches!(
        store.set_status(second, Status::Published, "clerk:an", "công khai").await,
        Err(vanban::store::StoreError::Refused(
            vanban::domain::Refusal::SameKeyPublished { other }
        )) if other == first
    ));
    // …and can once the first is withdrawn.
    store
        .set_status(first, Status::Withdrawn, "clerk:an", "nhầm số")
        .await
        .unwrap();
    store
        .set_status(second, Status::Published, "clerk:an", "bản đúng")
        .await
        .unwrap();
}

#[tokio::test]
async fn ingest_then_sync_with_an_abbreviated_issuer_is_one_record() {
    let app = app().await;
    let (id, _) = new_id(&ingest(&app, UNSIGNED).await);
    // The package header says "UBND xã Nam Chính", the PDF "Ủy ban nhân dân xã Nam
    // Chính": one document. Another producer's rendering of the same text: a duplicate.
    let (outcome, got) = sync(
        &app,
        "p-copy",
        package(
            "UBND xã Nam Chính",
            "H44,2021/09/13,339/BC-UBND",
            UNSIGNED_OTHER_PRODUCER,
        ),
    )
    .await;
    assert_eq!((outcome.as_str(), got), ("duplicate", Some(id)));
    // The record adopts the package's DocumentId, so later packages find it…
    let record = app.state.store.get_document(id).await.unwrap();
    assert_eq!(
        record.external_id.as_deref(),
        Some("H44,2021/09/13,339/BC-UBND")
    );
    // …and the signed original from the hub, the old tone placement in its header,
    // supersedes the hand-ingested copy.
    let (outcome, got) = sync(
        &app,
        "p-signed",
        package(
            "Uỷ ban nhân dân xã Nam Chính",
            "H44,2021/09/13,339/BC-UBND",
            SIGNED,
        ),
    )
    .await;
    assert_eq!((outcome.as_str(), got), ("superseded", Some(id)));
    assert_serves(&app, id, SIGNED, &[UNSIGNED]).await;
    assert_eq!(audit_actions(&app, id).await, ["created", "superseded"]);
    // A revoke package by that DocumentId finds the record.
    let revoke = Package {
        namespace: NAMESPACE.into(),
        header: MessageHeader {
            document_id: Some("H44,2021/09/13,339/BC-UBND".into()),
            ..MessageHeader::default()
        },
        trace: Some(TraceHeaderList {
            business: Some(Business {
                kind: BusinessKind::Revoke,
                ..Business::default()
            }),
            ..TraceHeaderList::default()
        }),
        ..Package::default()
    };
    let (outcome, got) = sync(&app, "p-revoke", write_document(&revoke).into_bytes()).await;
    assert_eq!((outcome.as_str(), got), ("revoked", Some(id)));
    assert_eq!(
        app.state.store.get_document(id).await.unwrap().status,
        Status::Withdrawn
    );
}

#[tokio::test]
async fn sync_then_ingest_of_the_signed_original_is_one_record() {
    let app = app().await;
    let (outcome, id) = sync(
        &app,
        "p-unsigned",
        package(
            "ỦY BAN NHÂN DÂN XÃ NAM CHÍNH",
            "H44,2021/09/13,339/BC-UBND",
            UNSIGNED,
        ),
    )
    .await;
    let id = id.unwrap();
    assert_eq!(outcome, "new");
    assert_eq!(
        app.state.store.get_document(id).await.unwrap().status,
        Status::Published
    );
    let Outcome::Superseded {
        id: got, status, ..
    } = ingest(&app, SIGNED).await
    else {
        panic!("the hand-ingested signed original supersedes the synced copy");
    };
    assert_eq!((got, status.as_str()), (id, "published"));
    assert_serves(&app, id, SIGNED, &[UNSIGNED]).await;
    // The synced copy again (redelivered under another package id): a duplicate.
    let (outcome, got) = sync(
        &app,
        "p-unsigned-again",
        package(
            "UBND xã Nam Chính",
            "H44,2021/09/13,339/BC-UBND",
            UNSIGNED_OTHER_PRODUCER,
        ),
    )
    .await;
    assert_eq!((outcome.as_str(), got), ("duplicate", Some(id)));
    assert_serves(&app, id, SIGNED, &[UNSIGNED]).await;
}

/// The real binary, as an operator runs it: `vanban ingest --publish` of the unsigned copy,
/// then `vanban sync eoffice` of a dropped package carrying the signed original under the
/// abbreviated issuer, then `vanban ingest` of another rendering of the copy: one record,
/// serving the signed original.
#[tokio::test]
async fn the_cli_ingest_and_the_cli_sync_keep_one_record() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("vanban.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\ndata_dir = \"{}\"\n[sync]\nfolder_settle_seconds = 0\n\
             [sync.sources.drop]\nkind = \"folder\"\npath = \"{}\"\ntrusted = true\n",
            data.display(),
            inbox.display()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vanban"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .env_remove("VANBAN__STORAGE__DATABASE_URL")
            .output()
            .expect("run vanban");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{args:?}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let first = run(&["ingest", "--publish", fixture(UNSIGNED).to_str().unwrap()]);
    assert!(first.contains("summary: 1 new"), "{first}");
    std::fs::write(
        inbox.join("bc339.edxml"),
        package("UBND xã Nam Chính", "H44,2021/09/13,339/BC-UBND", SIGNED),
    )
    .unwrap();
    let synced = run(&["sync", "eoffice", "--source", "drop", "--format", "json"]);
    let report: serde_json::Value =
        serde_json::from_str(&synced).unwrap_or_else(|e| panic!("{e}: {synced}"));
    let counts = &report["runs"][0]["counts"];
    // The signed original took the record's place (counted as an update), no new record.
    assert_eq!(
        (&counts["new"], &counts["updated"], &counts["acked"]),
        (&0.into(), &1.into(), &1.into()),
        "{report}"
    );
    let again = run(&[
        "ingest",
        "--publish",
        fixture(UNSIGNED_OTHER_PRODUCER).to_str().unwrap(),
    ]);
    assert!(again.contains("summary: 0 new, 1 duplicate"), "{again}");

    let url = format!("sqlite://{}?mode=rw", data.join("vanban.db").display());
    let store = vanban::store::Store::connect(&url, 1).await.unwrap();
    assert_eq!(
        store.status_counts().await.unwrap(),
        [("published".to_string(), 1)]
    );
    let record = store.get_document(1).await.unwrap();
    assert_eq!(record.file_sha256, sha(SIGNED));
    assert_eq!(
        record.external_id.as_deref(),
        Some("H44,2021/09/13,339/BC-UBND")
    );
    let actions: Vec<String> = store
        .audit_trail(1)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["created", "superseded"]);
    assert_eq!(
        store.versions(1).await.unwrap()[0].file_sha256,
        sha(UNSIGNED)
    );
}

/// A copy held for a marking — certain (the stamp said MẬT) or doubtful — is not published
/// by its signed original arriving without one: the record keeps the marking, stays held,
/// and shows the genuine file to the clerk. A published secret cannot be unpublished.
#[tokio::test]
async fn a_marked_or_doubtful_copy_is_not_published_by_its_original() {
    for doubt_only in [false, true] {
        let app = app().await;
        let (id, _) = new_id(&ingest(&app, UNSIGNED).await);
        let store = &app.state.store;
        if doubt_only {
            crate::public_rule::force(store, id, "status = 'needs_review'").await;
            let vanban::store::Store::Sqlite(pool) = store else {
                unreachable!("the test app runs on SQLite")
            };
            sqlx::query(
                "INSERT INTO extraction_warnings (document_id, code, message) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(vanban::domain::MARKING_DOUBT)
            .bind("«M A T» (trang 1, đầu trang)")
            .execute(pool)
            .await
            .unwrap();
        } else {
            crate::public_rule::force(store, id, "status = 'needs_review', secrecy = 'MẬT'").await;
        }
        let Outcome::Superseded {
            id: got, status, ..
        } = ingest(&app, SIGNED).await
        else {
            panic!("the signed original supersedes the copy");
        };
        assert_eq!(
            (got, status.as_str()),
            (id, "needs_review"),
            "doubt only: {doubt_only}"
        );
        let record = store.get_document(id).await.unwrap();
        assert!(!record.is_public());
        assert_eq!(
            record.file_sha256,
            sha(SIGNED),
            "the clerk sees the genuine file"
        );
        if doubt_only {
            assert!(
                store
                    .warnings(id)
                    .await
                    .unwrap()
                    .iter()
                    .any(|(code, _)| code == vanban::domain::MARKING_DOUBT),
                "the doubt stays with the record"
            );
        } else {
            assert_eq!(record.fields.secrecy.as_deref(), Some("MẬT"));
        }
        let (code, _, _) = app.get(&format!("/api/v1/documents/{id}")).await;
        assert_eq!(code, 404);
    }
}
