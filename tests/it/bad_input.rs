//! Inputs that real batches contain: legacy-font documents, encrypted, empty, huge and
//! image-only PDFs, and files that vanish between listing and reading.

use std::path::Path;

use vanban::blob::BlobStore;
use vanban::config::Settings;
use vanban::doctypes::DocTypeTable;
use vanban::extract::extract_pdf;
use vanban::ingest::{Ingestor, Outcome, collect_files};
use vanban::store::Store;

use crate::synthetic::{self, FontSpec, Run, latin1};

fn types() -> &'static DocTypeTable {
    DocTypeTable::builtin()
}

fn run(font: &'static str, x: f32, y: f32, bytes: Vec<u8>) -> Run<'static> {
    Run {
        font,
        size: 13.0,
        x,
        y,
        bytes,
    }
}

/// A decision of Nam Chính commune typed in TCVN3: `.VnTime` for mixed case and
/// `.VnTimeH` (capitals) for the titles, as Word documents of the 2000s were.
fn tcvn3_decision() -> Vec<u8> {
    let t = |x, y, s: &str| run("F1", x, y, latin1(s));
    let h = |x, y, s: &str| run("F2", x, y, latin1(s));
    synthetic::pdf(
        &[
            FontSpec {
                resource: "F1",
                base_font: ".VnTime",
            },
            FontSpec {
                resource: "F2",
                base_font: "ABCDEF+.VnTimeH,Bold",
            },
        ],
        &[vec![
            h(70.0, 780.0, "uû ban nh©n d©n"),
            h(70.0, 765.0, "x· nam chÝnh"),
            t(70.0, 745.0, "Sè: 116/Q§-UBND"),
            h(290.0, 780.0, "céng hoµ x· héi chñ nghÜa viÖt nam"),
            t(320.0, 765.0, "§éc lËp - Tù do - H¹nh phóc"),
            t(320.0, 745.0, "Nam ChÝnh, ngµy 24 th¸ng 9 n¨m 2021"),
            h(250.0, 700.0, "quyÕt ®Þnh"),
            t(
                120.0,
                685.0,
                "VÒ viÖc kiÖn toµn Ban biªn tËp trang th«ng tin ®iÖn tö",
            ),
            t(
                70.0,
                650.0,
                "C¨n cø LuËt Tæ chøc chÝnh quyÒn ®Þa ph\u{AD}¬ng ngµy 19/6/2015;",
            ),
            t(70.0, 560.0, "N¬i nhËn:"),
            t(70.0, 545.0, "- UBND huyÖn;"),
            t(70.0, 530.0, "- L\u{AD}u: VT."),
            h(350.0, 560.0, "tm. uû ban nh©n d©n"),
            h(380.0, 545.0, "chñ tÞch"),
            t(370.0, 480.0, "NguyÔn B¸ Dòng"),
        ]],
    )
}

/// The same decision typed in VNI-Times, where a diacritic is a byte after its letter.
fn vni_decision() -> Vec<u8> {
    let v = |x, y, s: &str| run("F1", x, y, latin1(s));
    synthetic::pdf(
        &[FontSpec {
            resource: "F1",
            base_font: "VNI-Times",
        }],
        &[vec![
            v(70.0, 780.0, "UÛY BAN NHAÂN DAÂN"),
            v(70.0, 765.0, "XAÕ NAM CHÍNH"),
            v(70.0, 745.0, "Soá: 116/QÑ-UBND"),
            v(290.0, 780.0, "COÄNG HOØA XAÕ HOÄI CHUÛ NGHÓA VIEÄT NAM"),
            v(320.0, 765.0, "Ñoäc laäp - Töï do - Haïnh phuùc"),
            v(320.0, 745.0, "Nam Chính, ngaøy 24 thaùng 9 naêm 2021"),
            v(250.0, 700.0, "QUYEÁT ÑÒNH"),
            v(
                120.0,
                685.0,
                "Veà vieäc kieän toaøn Ban bieân taäp trang thoâng tin ñieän töû",
            ),
            v(70.0, 560.0, "Nôi nhaän:"),
            v(70.0, 545.0, "- UBND huyeän;"),
            v(70.0, 530.0, "- Löu: VT."),
            v(350.0, 560.0, "TM. UÛY BAN NHAÂN DAÂN"),
            v(380.0, 545.0, "CHUÛ TÒCH"),
            v(370.0, 480.0, "Nguyeãn Baù Duõng"),
        ]],
    )
}

/// `issuer` as printed: "UỶ" in the TCVN3 copy, "ỦY" in the VNI one.
fn assert_nam_chinh_decision(bytes: &[u8], issuer: &str) {
    let extraction = extract_pdf(bytes, types()).expect("extracts");
    let json = extraction.to_json();
    assert_eq!(json["doc_type"], "Quyết định", "{json:#}");
    assert_eq!(json["number_symbol"], "116/QĐ-UBND", "{json:#}");
    assert_eq!(json["issuer"], issuer, "{json:#}");
    assert_eq!(json["place"], "Nam Chính", "{json:#}");
    assert_eq!(json["issued_date"], "2021-09-24", "{json:#}");
    assert_eq!(
        json["abstract"], "Về việc kiện toàn Ban biên tập trang thông tin điện tử",
        "{json:#}"
    );
    assert_eq!(json["signer_name"], "Nguyễn Bá Dũng", "{json:#}");
    assert_eq!(json["signer_title"], "Chủ tịch", "{json:#}");
    assert_eq!(json["signing_authority"], "TM.", "{json:#}");
    assert_eq!(
        json["recipients"],
        serde_json::json!(["UBND huyện", "Lưu: VT"]),
        "{json:#}"
    );
    assert_eq!(json["text_source"], "text_layer");
    let codes: Vec<&str> = json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    assert!(codes.contains(&"legacy_font_converted"), "{codes:?}");
}

#[test]
fn tcvn3_documents_are_converted_to_unicode() {
    let bytes = tcvn3_decision();
    assert_nam_chinh_decision(&bytes, "Uỷ ban nhân dân xã Nam Chính");
    let text = extract_pdf(&bytes, types()).unwrap().text;
    assert!(
        text.contains("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19/6/2015;"),
        "{text}"
    );
}

#[test]
fn vni_documents_are_converted_to_unicode() {
    assert_nam_chinh_decision(&vni_decision(), "Ủy ban nhân dân xã Nam Chính");
}

#[test]
fn encrypted_empty_and_image_only_pdfs_get_clear_outcomes() {
    let encrypted = extract_pdf(&synthetic::encrypted_pdf(), types()).unwrap_err();
    assert!(encrypted.to_string().contains("mã hóa"), "{encrypted}");
    let empty = extract_pdf(&synthetic::zero_page_pdf(), types()).unwrap_err();
    assert!(empty.to_string().contains("không có trang"), "{empty}");
    let scan = extract_pdf(&synthetic::image_only_pdf(), types()).expect("a scan is not a failure");
    assert!(scan.needs_ocr());
    let json = scan.to_json();
    assert_eq!(json["text_source"], "none");
    assert!(
        json["number_symbol"].is_null(),
        "nothing is guessed on a scan"
    );
}

#[test]
fn a_500_page_document_is_read_whole() {
    let font = [FontSpec {
        resource: "F1",
        base_font: "Times-Roman",
    }];
    let pages: Vec<Vec<Run>> = (1..=500)
        .map(|n| {
            vec![run(
                "F1",
                72.0,
                700.0,
                format!("Trang so {n} cua phu luc").into_bytes(),
            )]
        })
        .collect();
    let extraction = extract_pdf(&synthetic::pdf(&font, &pages), types()).unwrap();
    assert_eq!(extraction.pages, 500);
    assert!(extraction.text.contains("Trang so 1 cua phu luc"));
    assert!(extraction.text.contains("Trang so 500 cua phu luc"));
}

fn blob_files(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test]
async fn a_batch_with_bad_and_vanishing_files_keeps_the_good_ones_only() {
    let data = tempfile::tempdir().unwrap();
    let inbox = tempfile::tempdir().unwrap();
    let put = |name: &str, bytes: Vec<u8>| std::fs::write(inbox.path().join(name), bytes).unwrap();
    put("01-tcvn3.pdf", tcvn3_decision());
    put("02-encrypted.pdf", synthetic::encrypted_pdf());
    put("03-empty.pdf", synthetic::zero_page_pdf());
    put("04-scan.pdf", synthetic::image_only_pdf());
    put("05-vanishes.pdf", vni_decision());
    put("06-not-a-pdf.pdf", b"<html>404</html>".to_vec());

    let loaded = Settings::load(
        None,
        [(
            "VANBAN__STORAGE__DATA_DIR".to_string(),
            data.path().display().to_string(),
        )],
    )
    .unwrap();
    let settings = loaded.settings;
    std::fs::create_dir_all(&settings.storage.data_dir).unwrap();
    let store = Store::connect(&settings.database_url(), 2).await.unwrap();
    store.migrate().await.unwrap();
    let blobs = BlobStore::open(settings.blob_dir()).unwrap();
    let ingestor = Ingestor {
        store: &store,
        blobs: &blobs,
        settings: &settings,
        types: types(),
        unit_code: "000.46.24.H44".into(),
        publish: true,
        actor: "test".into(),
    };

    let (files, walk_errors) = collect_files(&[inbox.path().to_path_buf()]);
    assert!(walk_errors.is_empty());
    assert_eq!(files.len(), 6);
    // The file disappears after the listing, before it is read (a clerk moved it).
    std::fs::remove_file(inbox.path().join("05-vanishes.pdf")).unwrap();

    let mut outcomes = Vec::new();
    for path in &files {
        outcomes.push(ingestor.ingest_file(path).await);
    }
    let reason_of = |name: &str| -> String {
        let result = outcomes
            .iter()
            .find(|r| r.path.ends_with(name))
            .unwrap_or_else(|| panic!("{name} was processed"));
        match &result.outcome {
            Outcome::Failed { reason } => reason.clone(),
            other => panic!("{name}: expected a failure, got {other:?}"),
        }
    };
    assert!(reason_of("02-encrypted.pdf").contains("mã hóa"));
    assert!(reason_of("03-empty.pdf").contains("không có trang"));
    assert!(reason_of("05-vanishes.pdf").contains("vanished"));
    assert!(reason_of("06-not-a-pdf.pdf").contains("không phải tệp PDF"));
    let stored: Vec<&str> = outcomes
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::New { .. }))
        .map(|r| r.path.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(stored, ["01-tcvn3.pdf", "04-scan.pdf"]);
    let scan = outcomes
        .iter()
        .find(|r| r.path.ends_with("04-scan.pdf"))
        .unwrap();
    let Outcome::New { status, .. } = &scan.outcome else {
        unreachable!()
    };
    assert_ne!(status, "published", "a scan waits for OCR and a clerk");

    // Exactly the two stored originals are in the blob store; nothing half-written.
    let mut expected: Vec<String> = stored
        .iter()
        .map(|name| vanban::extract::sha256_hex(&std::fs::read(inbox.path().join(name)).unwrap()))
        .collect();
    expected.sort();
    let mut on_disk = blob_files(&settings.blob_dir());
    on_disk.sort();
    assert_eq!(on_disk, expected);

    // A rerun adds nothing and fails the same files for the same reasons.
    let (files, _) = collect_files(&[inbox.path().to_path_buf()]);
    for path in &files {
        let again = ingestor.ingest_file(path).await;
        assert!(
            !matches!(again.outcome, Outcome::New { .. }),
            "{} was stored twice",
            path.display()
        );
    }
    store.close().await;
}

/// A small file that costs minutes to read (each page draws a form of text again and
/// again) is stopped at the configured budget, stored for a clerk with the reason, and the
/// next file of the batch is ingested normally.
#[tokio::test]
async fn a_pdf_past_its_extraction_budget_is_kept_for_review_and_the_batch_goes_on() {
    let data = tempfile::tempdir().unwrap();
    let inbox = tempfile::tempdir().unwrap();
    // 400 pages × 20 draws × 1,000 glyphs: 8 million glyphs in a few kilobytes.
    let heavy = vanban::pdf::writer::amplified_pdf(400, 20, 1_000);
    assert!(heavy.len() < 64 * 1024, "{} bytes", heavy.len());
    std::fs::write(inbox.path().join("01-amplified.pdf"), &heavy).unwrap();
    std::fs::write(inbox.path().join("02-tcvn3.pdf"), tcvn3_decision()).unwrap();

    let cases: [(&str, &str, &str); 3] = [
        ("MAX_GLYPHS", "200000", "200 000 ký tự"),
        (
            "MAX_DECODED_BYTES",
            "1000000",
            "1 000 000 byte nội dung giải nén",
        ),
        ("MAX_PAGES", "100", "100 trang"),
    ];
    for (key, limit, described) in cases {
        let data = data.path().join(key);
        let loaded = Settings::load(
            None,
            [
                (
                    "VANBAN__STORAGE__DATA_DIR".to_string(),
                    data.display().to_string(),
                ),
                (format!("VANBAN__EXTRACTION__{key}"), limit.to_string()),
            ],
        )
        .unwrap();
        let settings = loaded.settings;
        std::fs::create_dir_all(&settings.storage.data_dir).unwrap();
        let store = Store::connect(&settings.database_url(), 2).await.unwrap();
        let blobs = BlobStore::open(settings.blob_dir()).unwrap();
        let ingestor = Ingestor {
            store: &store,
            blobs: &blobs,
            settings: &settings,
            types: types(),
            unit_code: "000.46.24.H44".into(),
            publish: true,
            actor: "test".into(),
        };
        let (files, _) = collect_files(&[inbox.path().to_path_buf()]);
        let mut outcomes = Vec::new();
        for path in &files {
            outcomes.push(ingestor.ingest_file(path).await);
        }
        let Outcome::New { id, status, reason } = &outcomes[0].outcome else {
            panic!("{key}: the heavy file is stored: {:?}", outcomes[0]);
        };
        assert_eq!(status, "needs_review", "{key}");
        assert_eq!(
            reason,
            &format!("Trích xuất vượt giới hạn ({described}): văn thư kiểm tra"),
            "{key}: the reason is the budget alone (not OCR, not missing fields)"
        );
        let record = store.get_document(*id).await.unwrap();
        assert_eq!(record.fields.text_source, "none");
        assert!(!record.fields.needs_ocr, "OCR would not help");
        let warnings = store.warnings(*id).await.unwrap();
        assert!(
            warnings.iter().any(|(code, _)| code == "extraction_budget"),
            "{warnings:?}"
        );
        assert!(
            blobs.contains(&vanban::extract::sha256_hex(&heavy)),
            "the file is kept"
        );

        let Outcome::New { status, .. } = &outcomes[1].outcome else {
            panic!("{key}: the next file is ingested: {:?}", outcomes[1]);
        };
        let next = store
            .get_document(match &outcomes[1].outcome {
                Outcome::New { id, .. } => *id,
                _ => unreachable!(),
            })
            .await
            .unwrap();
        assert_eq!(next.fields.text_source, "text_layer", "{key}: {status}");
        assert_eq!(next.fields.number_symbol.as_deref(), Some("116/QĐ-UBND"));
        store.close().await;
    }
}

/// The default budget never trips on an ordinary long document.
#[test]
fn the_default_budget_reads_an_ordinary_document_whole() {
    let x = vanban::extract::extract_pdf_within(
        &tcvn3_decision(),
        types(),
        vanban::pdf::Budget::default(),
    )
    .unwrap();
    assert!(x.budget_exceeded().is_none());
    let heavy = vanban::pdf::writer::amplified_pdf(3, 2, 1_000);
    let x = vanban::extract::extract_pdf_within(&heavy, types(), vanban::pdf::Budget::default())
        .unwrap();
    assert!(x.budget_exceeded().is_none(), "6,000 glyphs are no attack");
    assert_eq!(x.pages, 3);
}
