//! Durable jobs and the one intake.
//!
//! - The store's job rows on SQLite and PostgreSQL (`VANBAN_TEST_POSTGRES_URL`): a claim
//!   is exclusive between concurrent claimers, an expired lease is claimed again and the
//!   old owner can no longer end the job, back-off holds a job until its time, a job ends
//!   once, a failed job lets go of its upload's blob.
//! - The worker pool on the real application: a poisoned upload (not a PDF) fails with
//!   its reason while the others are stored; an image is held for its text; a record a
//!   killed run committed is not stored twice when the job runs again.
//! - The intake from each source: the same document by `vanban ingest`, by an upload and
//!   by an e-office package is one record.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use vanban::blob::BlobStore;
use vanban::intake::{FileInput, IMAGE_REASON, Intake, Origin, Outcome};
use vanban::jobs::{JobState, JobView, NewUpload, WorkerPool, enqueue_upload, job_ref, job_views};
use vanban::store::{JobEnd, JobKind, JobPhase, NewJob, Status, Store};

use crate::store::scratch_postgres;
use crate::web::{TestApp, app_with};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// A job row for blob `n` (announced, then claimed by the insert as an upload is).
async fn enqueue(store: &Store, n: u32) -> i64 {
    let sha = format!("{n:064x}");
    let intents = store
        .announce_blobs(&[sha.as_str()], chrono::Duration::hours(1))
        .await
        .unwrap();
    let job = NewJob {
        kind: JobKind::Upload,
        blob_sha256: sha,
        filename: format!("tep-{n}.pdf"),
        media_type: "application/pdf".into(),
        size: 10,
        unit_code: "000.46.24.H44".into(),
        actor: "desk:test".into(),
        publish: true,
        max_attempts: 3,
    };
    store.enqueue_job(&job, &intents).await.unwrap()
}

fn no_removal(_: &str) -> std::io::Result<()> {
    Ok(())
}

async fn conformance(store: Store) {
    let lease = chrono::Duration::minutes(5);

    // The insert consumed the blob's intent: the job row now keeps the blob.
    let first = enqueue(&store, 1).await;
    assert!(store.blob_intents().await.unwrap().is_empty());
    assert!(
        store
            .referenced_blob_keys()
            .await
            .unwrap()
            .contains(&format!("{:064x}", 1))
    );

    // Exclusive: four claimers race over 24 jobs; each job goes to exactly one of them.
    let mut ids = vec![first];
    for n in 2..=24 {
        ids.push(enqueue(&store, n).await);
    }
    let claimers: Vec<_> = (0..4)
        .map(|c| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(job) = store
                    .claim_job(&format!("claimer-{c}"), lease)
                    .await
                    .unwrap()
                {
                    assert_eq!(job.phase, JobPhase::Running);
                    assert_eq!(
                        job.lease_owner.as_deref(),
                        Some(format!("claimer-{c}").as_str())
                    );
                    assert_eq!(job.attempts, 1);
                    mine.push(job.id);
                }
                mine
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for c in claimers {
        claimed.extend(c.await.unwrap());
    }
    claimed.sort();
    assert_eq!(claimed, ids, "every job claimed once");
    assert!(store.claim_job("late", lease).await.unwrap().is_none());

    // A job ends once, and only by its lease owner.
    let job = store.jobs(&[first]).await.unwrap().remove(0);
    let owner = job.lease_owner.clone().unwrap();
    let wrong = store
        .end_job(
            first,
            "somebody-else",
            JobEnd::Failed {
                error: "x",
                permanent: true,
            },
            no_removal,
        )
        .await
        .unwrap();
    assert!(!wrong, "a worker without the lease changes nothing");
    let mut removed = Vec::new();
    let ended = store
        .end_job(
            first,
            &owner,
            JobEnd::Failed {
                error: "Tệp không phải PDF",
                permanent: true,
            },
            |sha| {
                removed.push(sha.to_string());
                Ok(())
            },
        )
        .await
        .unwrap();
    assert!(ended);
    assert_eq!(
        removed,
        [format!("{:064x}", 1)],
        "a failed upload leaves nothing"
    );
    let again = store
        .end_job(
            first,
            &owner,
            JobEnd::Failed {
                error: "again",
                permanent: true,
            },
            no_removal,
        )
        .await
        .unwrap();
    assert!(!again, "an ended job does not end twice");
    let failed = store.jobs(&[first]).await.unwrap().remove(0);
    assert_eq!(failed.phase, JobPhase::Failed);
    assert_eq!(failed.last_error.as_deref(), Some("Tệp không phải PDF"));
    assert!(failed.permanent);
    assert!(failed.blob_sha256.is_none());

    // Back-off: a retried job waits for its time; the others go on.
    let second = ids[1];
    let owner2 = store.jobs(&[second]).await.unwrap()[0]
        .lease_owner
        .clone()
        .unwrap();
    assert!(
        store
            .end_job(
                second,
                &owner2,
                JobEnd::Retry {
                    error: "cơ sở dữ liệu bận",
                    run_after: Utc::now() + chrono::Duration::hours(1),
                },
                no_removal,
            )
            .await
            .unwrap()
    );
    let waiting = store.jobs(&[second]).await.unwrap().remove(0);
    assert_eq!(waiting.phase, JobPhase::Queued);
    assert_eq!(waiting.attempts, 1);
    assert!(
        waiting.blob_sha256.is_some(),
        "a job to retry keeps its blob"
    );
    assert!(store.claim_job("w", lease).await.unwrap().is_none());
    let third = ids[2];
    let owner3 = store.jobs(&[third]).await.unwrap()[0]
        .lease_owner
        .clone()
        .unwrap();
    store
        .end_job(
            third,
            &owner3,
            JobEnd::Retry {
                error: "tạm thời",
                run_after: Utc::now() - chrono::Duration::seconds(1),
            },
            no_removal,
        )
        .await
        .unwrap();
    let retried = store.claim_job("w", lease).await.unwrap().unwrap();
    assert_eq!((retried.id, retried.attempts), (third, 2));

    // An expired lease (its worker died) is claimed again; the old owner is locked out.
    let fourth = ids[3];
    let owner4 = store.jobs(&[fourth]).await.unwrap()[0]
        .lease_owner
        .clone()
        .unwrap();
    // Renewed with a lease already over: as if the worker had stalled past its expiry.
    assert!(
        store
            .renew_job_lease(fourth, &owner4, chrono::Duration::seconds(-1))
            .await
            .unwrap()
    );
    let reclaimed = store.claim_job("rescuer", lease).await.unwrap().unwrap();
    assert_eq!((reclaimed.id, reclaimed.attempts), (fourth, 2));
    assert!(
        !store.renew_job_lease(fourth, &owner4, lease).await.unwrap(),
        "the stalled worker lost its lease"
    );
    assert!(
        !store
            .end_job(
                fourth,
                &owner4,
                JobEnd::Failed {
                    error: "x",
                    permanent: false
                },
                no_removal
            )
            .await
            .unwrap()
    );

    // A dead owner's jobs are put back at once, without waiting for the lease.
    let requeued = store
        .requeue_dead_jobs(|owner| owner == "rescuer")
        .await
        .unwrap();
    assert_eq!(requeued, 1);
    let back = store.claim_job("w2", lease).await.unwrap().unwrap();
    assert_eq!((back.id, back.attempts), (fourth, 3));

    // Views are scoped to units.
    let views = store.jobs(&ids).await.unwrap();
    assert_eq!(views.len(), ids.len());
    let recent = store
        .recent_jobs(Some(&["another.unit".to_string()]), 10)
        .await
        .unwrap();
    assert!(recent.is_empty());
    let recent = store.recent_jobs(None, 3).await.unwrap();
    assert_eq!(recent.len(), 3);
    assert_eq!(recent[0].id, *ids.last().unwrap(), "newest first");
    let counts = store.job_counts().await.unwrap();
    assert!(
        counts.iter().any(|(s, n)| s == "failed" && *n == 1),
        "{counts:?}"
    );
}

#[tokio::test]
async fn sqlite_jobs_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    conformance(Store::connect(&url, 4).await.expect("sqlite")).await;
}

#[tokio::test]
async fn postgres_jobs_conformance() {
    let Some(db) = scratch_postgres().await else {
        return;
    };
    conformance(Store::connect(&db.url, 8).await.expect("postgres")).await;
    db.drop().await;
}

/// Runs a pool of two workers until every job of `ids` is final; their views.
async fn run_until_final(app: &TestApp, ids: &[i64]) -> Vec<JobView> {
    let pool = WorkerPool::start(app.state.clone(), 2).await;
    // Generous: extraction of a fixture takes well under a second; a loaded machine more.
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    loop {
        let views = job_views(&app.state.store, ids, None).await.unwrap();
        if views.len() == ids.len() && views.iter().all(|v| v.state.is_final()) {
            pool.shutdown().await;
            return views;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "jobs did not finish: {views:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn upload(filename: &str, media_type: &str, publish: bool) -> NewUpload {
    NewUpload {
        filename: filename.into(),
        media_type: media_type.into(),
        unit_code: "000.46.24.H44".into(),
        actor: "desk:van-thu".into(),
        publish,
    }
}

#[tokio::test]
async fn a_poisoned_upload_fails_with_its_reason_and_the_others_are_stored() {
    let app = app_with(&[]).await;
    let state = &app.state;
    let pdf = fixture("pdf/seed000-quoc-tuan.libreoffice.pdf");
    // A PNG signature and nothing a viewer could show: still an image to the intake.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR scanned page".to_vec();
    let docx = b"PK\x03\x04 a Word file renamed .pdf".to_vec();
    let broken = crate::synthetic::zero_page_pdf();
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("quyet-dinh.pdf", "application/pdf", pdf.clone()),
        ("khong-phai-pdf.pdf", "application/pdf", docx.clone()),
        ("ban-chup.png", "image/png", png.clone()),
        ("khong-co-trang.pdf", "application/pdf", broken.clone()),
    ];
    let mut ids = Vec::new();
    for (name, media_type, bytes) in &cases {
        ids.push(
            enqueue_upload(state, upload(name, media_type, true), bytes)
                .await
                .unwrap(),
        );
    }
    // Nothing runs yet: every job is queued, and keeps its upload.
    for view in job_views(&state.store, &ids, None).await.unwrap() {
        assert_eq!(view.state, JobState::Queued, "{view:?}");
    }
    assert!(state.blobs.contains(&vanban::extract::sha256_hex(&docx)));
    assert!(state.store.blob_intents().await.unwrap().is_empty());

    let views = run_until_final(&app, &ids).await;
    let [good, poisoned, image, broken_view] = &views[..] else {
        panic!("{views:?}")
    };

    // The good file is a record of this upload.
    assert!(
        matches!(good.state, JobState::Published | JobState::WaitingForReview),
        "{good:?}"
    );
    let id = good.document_id.expect("a record");
    let record = state.store.get_document(id).await.unwrap();
    assert_eq!(record.source, "upload");
    assert_eq!(
        record.source_ref.as_deref(),
        Some(job_ref(good.id).as_str())
    );
    assert_eq!(record.file_sha256, vanban::extract::sha256_hex(&pdf));
    assert!(state.blobs.contains(&record.file_sha256));
    assert_eq!(
        good.state == JobState::Published,
        record.status == Status::Published
    );

    // Poisoned files fail at once with the reason, and leave nothing behind.
    for (view, bytes, reason) in [
        (poisoned, &docx, "không phải tệp PDF"),
        (broken_view, &broken, "không có trang"),
    ] {
        assert!(view.detail.contains(reason), "{view:?}");
        assert_eq!(view.state, JobState::Failed, "{view:?}");
        assert_eq!(
            view.attempts, 1,
            "a permanent failure is not retried: {view:?}"
        );
        assert!(!view.detail.is_empty());
        assert!(view.document_id.is_none());
        let sha = vanban::extract::sha256_hex(bytes);
        assert!(
            !state.blobs.contains(&sha),
            "{}: blob removed",
            view.filename
        );
        assert!(
            state
                .store
                .document_id_for_file(&sha)
                .await
                .unwrap()
                .is_none()
        );
    }

    // The image is a record with the image as its file, held for its text.
    assert_eq!(image.state, JobState::WaitingForReview, "{image:?}");
    assert_eq!(image.detail, IMAGE_REASON);
    let record = state
        .store
        .get_document(image.document_id.unwrap())
        .await
        .unwrap();
    assert_eq!(record.status, Status::NeedsReview);
    assert!(record.fields.needs_ocr);
    let file = state
        .store
        .file(&record.file_sha256)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(file.media_type, "image/png");
    assert_eq!(file.original_name.as_deref(), Some("ban-chup.png"));

    // Scoped views: another unit sees none of them.
    assert!(
        job_views(&state.store, &ids, Some(&["another.unit".to_string()]))
            .await
            .unwrap()
            .is_empty()
    );
    // No intent is left, and fsck finds no orphan.
    assert!(state.store.blob_intents().await.unwrap().is_empty());
    let referenced = state.store.referenced_blob_keys().await.unwrap();
    let report = state.blobs.fsck(|_| {}).unwrap();
    for key in &report.keys {
        assert!(referenced.contains(key), "orphan blob {key}");
    }
}

#[tokio::test]
async fn a_record_committed_before_a_crash_is_stored_once() {
    let app = app_with(&[]).await;
    let state = &app.state;
    let pdf = fixture("pdf/qd-kien-toan.libreoffice.pdf");
    let job = enqueue_upload(state, upload("qd.pdf", "application/pdf", false), &pdf)
        .await
        .unwrap();
    // A worker claims the job, commits its record, and dies before marking the job done:
    // its lease is left to expire.
    let claimed = state
        .store
        .claim_job("dead-worker", chrono::Duration::seconds(-1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, job);
    let intake = Intake {
        store: &state.store,
        blobs: &state.blobs,
        settings: &state.settings,
        types: state.types,
    };
    let (_, outcome) = intake
        .take_file(FileInput {
            bytes: pdf.clone(),
            unit_code: "000.46.24.H44",
            actor: "desk:van-thu",
            publish: false,
            origin: Origin {
                source: "upload",
                source_ref: Some(job_ref(job)),
                external_id: None,
                original_name: Some("qd.pdf".into()),
            },
        })
        .await;
    let Ok(Outcome::New { id, .. }) = outcome else {
        panic!("{outcome:?}")
    };
    // The same file uploaded again by a clerk: another job.
    let again = enqueue_upload(
        state,
        upload("qd-lan-2.pdf", "application/pdf", false),
        &pdf,
    )
    .await
    .unwrap();

    let views = run_until_final(&app, &[job, again]).await;
    // The job runs again (its second attempt) and ends with the record its first run made.
    assert_eq!(views[0].document_id, Some(id), "{:?}", views[0]);
    assert_eq!(views[0].state, JobState::WaitingForReview, "{:?}", views[0]);
    assert_eq!(views[0].attempts, 2);
    // The clerk's second upload is a duplicate of it, said so.
    assert_eq!(views[1].document_id, Some(id), "{:?}", views[1]);
    assert!(
        views[1].detail.contains(&format!("#{id}")),
        "{:?}",
        views[1]
    );
    // One record for the file.
    let (queue, total) = state
        .store
        .documents_in_status(Status::Draft, None, 10, 0)
        .await
        .unwrap();
    assert_eq!(total, 1, "{queue:?}");
}

#[tokio::test]
async fn one_document_from_every_source_is_one_record() {
    let app = app_with(&[]).await;
    let state = &app.state;
    let unsigned = "pdf/seed001-nam-chinh.libreoffice.pdf";
    // By hand.
    let ingestor = vanban::ingest::Ingestor {
        store: &state.store,
        blobs: &state.blobs,
        settings: &state.settings,
        types: state.types,
        unit_code: "000.47.24.H44".into(),
        publish: true,
        actor: "cli:test".into(),
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let Outcome::New { id, .. } = ingestor.ingest_file(&root.join(unsigned)).await.outcome else {
        panic!("expected a new record")
    };
    // Uploaded: the same bytes, and the same report from another producer.
    let same = enqueue_upload(
        state,
        upload("bc.pdf", "application/pdf", true),
        &fixture(unsigned),
    )
    .await
    .unwrap();
    let rendering = enqueue_upload(
        state,
        upload("bc-chromium.pdf", "application/pdf", true),
        &fixture("pdf/seed001-nam-chinh.chromium.pdf"),
    )
    .await
    .unwrap();
    let views = run_until_final(&app, &[same, rendering]).await;
    for view in &views {
        assert_eq!(view.document_id, Some(id), "{view:?}");
    }
    // From an e-office package.
    let package = crate::one_record::package("Ủy ban nhân dân xã Nam Chính", "NC-339", unsigned);
    let (outcome, record) = crate::one_record::sync(&app, "pkg-1", package).await;
    assert_eq!((outcome.as_str(), record), ("duplicate", Some(id)));
    // And the blob store holds no upload that no record wants.
    let referenced: BTreeSet<String> = state
        .store
        .referenced_blob_keys()
        .await
        .unwrap()
        .into_iter()
        .collect();
    let blobs = BlobStore::open(state.settings.blob_dir()).unwrap();
    for key in blobs.fsck(|_| {}).unwrap().keys {
        assert!(referenced.contains(&key), "orphan blob {key}");
    }
}
