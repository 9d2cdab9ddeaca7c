//! Desk uploads in process, through the real router with a signed-in session: three PDFs
//! (clean, a personal-data hit, a scan without text) are accepted, processed by the job
//! workers and end in the right states; a ZIP named `.pdf`, an oversize file, a Flate bomb
//! and a PNG of absurd dimensions are refused with their reasons and leave nothing (blob
//! directory, jobs, temporary files); a viewer, another unit's clerk and a request without
//! its CSRF token are refused.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use lopdf::{Document, Object, Stream, dictionary};
use serde_json::Value;

use vanban::auth::Role;
use vanban::jobs::{JobState, WorkerPool, job_views};
use vanban::pdf::writer::{Decree30Page, decree30_pdf};

use crate::desk_support::{DeskSession, desk_account};
use crate::web::{TestApp, app_with};

const UNIT: &str = "000.46.24.H44";
const OTHER_UNIT: &str = "000.46.25.H45";
const BOUNDARY: &str = "----vanban-upload-test-7d1f";

/// A decision of this number with these body paragraphs.
pub fn decision(n: usize, paragraphs: &[&str]) -> Vec<u8> {
    let page = Decree30Page {
        issuer_lines: vec!["ỦY BAN NHÂN DÂN".into(), "XÃ QUỐC TUẤN".into()],
        number_symbol: format!("{n}/QĐ-UBND"),
        place_date: format!("Quốc Tuấn, ngày {} tháng 4 năm 2025", n % 28 + 1),
        markings: Vec::new(),
        type_title: "QUYẾT ĐỊNH".into(),
        abstract_text: format!("Về việc phê duyệt kế hoạch số {n} năm 2025"),
        paragraphs: paragraphs.iter().map(|p| p.to_string()).collect(),
        recipients: vec!["UBND huyện".into(), "Lưu: VT".into()],
        signer_block: vec!["TM. ỦY BAN NHÂN DÂN".into(), "CHỦ TỊCH".into()],
        signer_name: "Trần Văn Bình".into(),
    };
    decree30_pdf(&page, &format!("Quyết định {n}"))
}

/// A one-page "scan": a grey image drawn over the page, no text at all.
pub fn scan_pdf() -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let pixels: Vec<u8> = (0..200 * 280).map(|i| 200 + (i % 37) as u8).collect();
    let mut image = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 200, "Height" => 280,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
        },
        pixels,
    );
    image.compress().unwrap();
    let image_id = doc.add_object(image);
    let content = doc.add_object(Stream::new(
        dictionary! {},
        b"q 595 0 0 842 0 0 cm /Im1 Do Q".to_vec(),
    ));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "Resources" => dictionary! { "XObject" => dictionary! { "Im1" => image_id } },
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A valid-looking PDF whose one stream inflates to `bytes` zeros.
fn flate_bomb(bytes: usize) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; 1 << 20];
    for _ in 0..bytes / block.len() {
        encoder.write_all(&block).unwrap();
    }
    let data = encoder.finish().unwrap();
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut stream = Stream::new(dictionary! { "Filter" => "FlateDecode" }, data);
    stream.allows_compression = false;
    let content = doc.add_object(stream);
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&[8, 0, 0, 0, 0, 0, 0, 0, 0]);
    out
}

/// A `multipart/form-data` body: text fields, then file parts named `files`.
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (filename, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{filename}\"\r\n\
                 Content-Type: application/pdf\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// POSTs an upload as the page's script does (JSON answer) or as the plain form does.
async fn post_upload(
    app: &TestApp,
    session: &DeskSession,
    fields: &[(&str, &str)],
    files: &[(&str, &[u8])],
    json: bool,
) -> (StatusCode, String) {
    let mut builder = session.authorize(
        Request::builder()
            .method(Method::POST)
            .uri("/desk/upload")
            .header(header::CONTENT_TYPE, multipart_type()),
    );
    if json {
        builder = builder.header(header::ACCEPT, "application/json");
    }
    let request = builder.body(Body::from(multipart(fields, files))).unwrap();
    let (status, headers, body) = app.request(request).await;
    assert_eq!(
        headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "desk answers are not cached"
    );
    (status, String::from_utf8(body).unwrap())
}

/// Every file under the blob directory, the jobs and the upload spool: what "nothing
/// stored" compares.
async fn footprint(app: &TestApp) -> (BTreeSet<String>, usize, usize) {
    let root = app.state.settings.blob_dir();
    let blobs: BTreeSet<String> = walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(&root).unwrap().display().to_string())
        .collect();
    let jobs = app
        .state
        .store
        .recent_jobs(None, 10_000)
        .await
        .unwrap()
        .len();
    let spool = app.state.settings.storage.data_dir.join("upload-tmp");
    let spooled = count_files(&spool);
    (blobs, jobs, spooled)
}

fn count_files(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .count()
}

async fn run_until_final(app: &TestApp, ids: &[i64]) -> Vec<vanban::jobs::JobView> {
    let pool = WorkerPool::start(app.state.clone(), 2).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_pdfs_are_accepted_and_processed_to_their_states() {
    let app = app_with(&[]).await;
    let clerk = desk_account(&app, "vanthu-upload", Role::Clerk, &[UNIT]).await;

    // The page: the form, the unit, the script; usable without it.
    let (status, _, page) = clerk.get(&app, "/desk/upload").await;
    assert_eq!(status, StatusCode::OK);
    for expected in [
        "enctype=\"multipart/form-data\"",
        "name=\"csrf\"",
        UNIT,
        "Công khai ngay nếu văn bản đạt mọi điều kiện",
        "type=\"file\" name=\"files\" multiple",
        "/desk/upload.js",
    ] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
    let (status, _, script) = clerk.get(&app, "/desk/upload.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(script.contains("/desk/uploads/status"));

    let clean = decision(
        41,
        &["Phê duyệt kế hoạch chỉnh trang đường thôn và nhà văn hóa năm 2025."],
    );
    let personal = decision(
        42,
        &["Cấp hỗ trợ cho ông Nguyễn Văn An, số CCCD: 001089012345, thường trú tại thôn 3."],
    );
    let scan = scan_pdf();
    let files: Vec<(&str, &[u8])> = vec![
        ("quyet-dinh-41.pdf", &clean),
        ("quyet-dinh-42.pdf", &personal),
        ("ban-quet.pdf", &scan),
    ];
    let csrf = clerk.csrf.clone();
    let (status, body) = post_upload(
        &app,
        &clerk,
        &[("csrf", &csrf), ("unit", UNIT), ("publish", "1")],
        &files,
        true,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["accepted"], 3, "{answer}");
    let ids: Vec<i64> = answer["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["job_id"].as_i64().expect("accepted with a job id"))
        .collect();

    // Before a worker runs, the status endpoint shows them queued.
    let (status, _, json) = clerk
        .get(&app, &format!("/desk/uploads/status?ids={}", join(&ids)))
        .await;
    assert_eq!(status, StatusCode::OK);
    let queued: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(queued["jobs"].as_array().unwrap().len(), 3);
    assert!(
        queued["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["state"] == "queued" && j["final"] == false)
    );

    let views = run_until_final(&app, &ids).await;
    let [clean_view, personal_view, scan_view] = &views[..] else {
        panic!("{views:?}")
    };
    assert_eq!(clean_view.state, JobState::Published, "{clean_view:?}");
    assert_eq!(
        personal_view.state,
        JobState::WaitingForReview,
        "{personal_view:?}"
    );
    assert!(
        personal_view.detail.to_lowercase().contains("cá nhân"),
        "the hold names personal data: {personal_view:?}"
    );
    assert_eq!(scan_view.state, JobState::WaitingForReview, "{scan_view:?}");
    for view in &views {
        let id = view.document_id.expect("a record");
        let record = app.state.store.get_document(id).await.unwrap();
        assert_eq!(record.unit_code, UNIT);
        assert!(app.state.blobs.contains(&record.file_sha256));
    }

    // The status JSON links each record; the recent list shows the same labels.
    let (_, _, json) = clerk
        .get(&app, &format!("/desk/uploads/status?ids={}", join(&ids)))
        .await;
    let done: Value = serde_json::from_str(&json).unwrap();
    for job in done["jobs"].as_array().unwrap() {
        assert_eq!(job["final"], true);
        assert!(
            job["document_url"]
                .as_str()
                .unwrap()
                .starts_with("/desk/documents/")
        );
    }
    let (status, _, recent) = clerk.get(&app, "/desk/uploads").await;
    assert_eq!(status, StatusCode::OK);
    for expected in [
        "quyet-dinh-41.pdf",
        "ban-quet.pdf",
        JobState::Published.label(),
        JobState::WaitingForReview.label(),
    ] {
        assert!(recent.contains(expected), "{expected}: {recent}");
    }
    assert!(
        !recent.contains("http-equiv=\"refresh\""),
        "nothing pending"
    );

    // Another unit's clerk sees none of these jobs.
    let other = desk_account(&app, "vanthu-khac", Role::Clerk, &[OTHER_UNIT]).await;
    let (_, _, json) = other
        .get(&app, &format!("/desk/uploads/status?ids={}", join(&ids)))
        .await;
    let theirs: Value = serde_json::from_str(&json).unwrap();
    assert!(theirs["jobs"].as_array().unwrap().is_empty(), "{theirs}");
    let (_, _, recent) = other.get(&app, "/desk/uploads").await;
    assert!(!recent.contains("quyet-dinh-41.pdf"));
    assert_eq!(
        count_files(&app.state.settings.storage.data_dir.join("upload-tmp")),
        0
    );
}

fn join(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_files_and_refused_accounts_leave_nothing() {
    // Small limits so the oversize file and the bomb stay small in the test.
    let app = app_with(&[
        ("VANBAN__EXTRACTION__MAX_FILE_BYTES", "3000000"),
        ("VANBAN__EXTRACTION__MAX_DECODED_BYTES", "16777216"),
    ])
    .await;
    let clerk = desk_account(&app, "vanthu-tu-choi", Role::Clerk, &[UNIT]).await;
    let viewer = desk_account(&app, "nguoi-xem", Role::Viewer, &[UNIT]).await;
    let other = desk_account(&app, "vanthu-don-vi-khac", Role::Clerk, &[OTHER_UNIT]).await;
    let before = footprint(&app).await;

    let mut zip = b"PK\x03\x04\x14\0\0\0\x08\0".to_vec();
    zip.extend_from_slice(&[7u8; 500]);
    let mut oversize = decision(43, &["Một văn bản rất dài."]);
    let eof = oversize.len();
    oversize.splice(eof - 6..eof - 6, std::iter::repeat_n(b' ', 3_100_000));
    let bomb = flate_bomb(32 << 20);
    assert!(bomb.len() < 200_000, "the bomb is small: {}", bomb.len());
    let huge_png = png(100_000, 100_000);
    let cases: Vec<(&str, &[u8], &str, &str)> = vec![
        (
            "hop-dong.pdf",
            &zip,
            "not_pdf_or_image",
            "Tệp «hop-dong.pdf» không phải PDF hay ảnh (là tệp ZIP",
        ),
        (
            "qua-lon.pdf",
            &oversize,
            "too_large",
            "Tệp «qua-lon.pdf» quá lớn",
        ),
        (
            "bom.pdf",
            &bomb,
            "decompression_bomb",
            "Tệp «bom.pdf» bị từ chối: nội dung nén giải ra vượt",
        ),
        (
            "anh-khong-lo.png",
            &huge_png,
            "image_too_large",
            "100000×100000 điểm ảnh",
        ),
    ];
    let csrf = clerk.csrf.clone();
    let files: Vec<(&str, &[u8])> = cases.iter().map(|(n, b, _, _)| (*n, *b)).collect();
    let (status, body) = post_upload(
        &app,
        &clerk,
        &[("csrf", &csrf), ("unit", UNIT)],
        &files,
        true,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["accepted"], 0);
    for ((name, _, code, message), file) in cases.iter().zip(answer["files"].as_array().unwrap()) {
        assert_eq!(file["filename"], *name);
        assert_eq!(file["accepted"], false, "{file}");
        assert_eq!(file["code"], *code, "{file}");
        assert!(
            file["message"].as_str().unwrap().contains(message),
            "{file}"
        );
    }
    assert_eq!(
        footprint(&app).await,
        before,
        "nothing stored for refused files"
    );

    // The plain form (no script) answers a page with the same reasons, escaped.
    let (status, page) = post_upload(
        &app,
        &clerk,
        &[("csrf", &csrf), ("unit", UNIT)],
        &[("<b>x<b>.pdf", &zip)],
        false,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("&lt;b&gt;x&lt;b&gt;.pdf"), "{page}");
    assert!(!page.contains("<b>x"));

    // Refused accounts and requests: nothing stored either.
    let good = decision(44, &["Phê duyệt kế hoạch."]);
    let files: Vec<(&str, &[u8])> = vec![("tot.pdf", &good)];
    let viewer_csrf = viewer.csrf.clone();
    let other_csrf = other.csrf.clone();
    type Case<'a> = (&'a str, &'a DeskSession, Vec<(&'a str, &'a str)>);
    let refusals: Vec<Case> = vec![
        (
            "viewer",
            &viewer,
            vec![("csrf", &viewer_csrf), ("unit", UNIT)],
        ),
        (
            "another unit's clerk",
            &other,
            vec![("csrf", &other_csrf), ("unit", UNIT)],
        ),
        ("no CSRF token", &clerk, vec![("unit", UNIT)]),
        (
            "a wrong CSRF token",
            &clerk,
            vec![("csrf", "forged"), ("unit", UNIT)],
        ),
    ];
    for (who, session, fields) in refusals {
        let (status, body) = post_upload(&app, session, &fields, &files, false).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {body}");
        assert_eq!(footprint(&app).await, before, "{who}: nothing stored");
    }
    // Anonymous: no session at all.
    let request = Request::builder()
        .method(Method::POST)
        .uri("/desk/upload")
        .header(header::CONTENT_TYPE, multipart_type())
        .body(Body::from(multipart(&[("unit", UNIT)], &files)))
        .unwrap();
    let (status, _, _) = app.request(request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A viewer's page says it cannot upload.
    let (status, _, page) = viewer.get(&app, "/desk/upload").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("type=\"file\""));
    assert_eq!(footprint(&app).await, before);

    // The same clerk, with the token in the header instead: accepted.
    let request = clerk
        .authorize(
            Request::builder()
                .method(Method::POST)
                .uri("/desk/upload")
                .header(header::CONTENT_TYPE, multipart_type())
                .header(header::ACCEPT, "application/json")
                .header("x-csrf-token", &csrf),
        )
        .body(Body::from(multipart(&[("unit", UNIT)], &files)))
        .unwrap();
    let (status, _, body) = app.request(request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let after = footprint(&app).await;
    assert_eq!(after.1, before.1 + 1, "one job");
    assert_eq!(after.2, 0, "the spool is empty");
}
