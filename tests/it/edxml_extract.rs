//! `vanban extract PACKAGE.edxml`: the same JSON contract as for PDFs, metadata from the
//! edXML header (winning over the attachment's text), text from the attached PDF.

use std::process::Command;

use base64::Engine as _;
use edxml::*;

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// A package as the VNPT producer writes it, by hand (not by our writer): prefixed
/// header, the payload in `edXML:ContentTransferEncoded` with unprefixed siblings and
/// CRLF-wrapped base64, three attachments: a draft `.doc` first, then a ZIP of one entry
/// named by UUID holding the signed PDF, then a ZIP of two appendices.
fn vnpt_package(signed_pdf: &[u8], appendix_pdf: &[u8], priority: &str) -> Vec<u8> {
    let b64 = |bytes: &[u8]| {
        base64::engine::general_purpose::STANDARD
            .encode(bytes)
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap().to_string())
            .collect::<Vec<_>>()
            .join("\r\n")
    };
    let doc = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 du thao quyet dinh";
    let signed_zip =
        zip_files(&[("5b0c3f8e-8f0e-4f51-9d3c-1a2b3c4d5e6f.pdf", signed_pdf)]).unwrap();
    let appendices = zip_files(&[
        ("Phu luc 1 - Danh muc.pdf", appendix_pdf),
        (
            "Phu luc 2 - Bang tong hop.xlsx",
            b"PK-not-really-a-workbook",
        ),
    ])
    .unwrap();
    let attachment = |id: &str, name: &str, kind: &str, payload: &[u8]| {
        format!(
            "<edXML:Attachment><AttachmentName>{name}</AttachmentName><ContentType>{kind}</ContentType>\
             <Description>{name}</Description><edXML:ContentTransferEncoded>{}</edXML:ContentTransferEncoded>\
             <ContentId>{id}</ContentId></edXML:Attachment>",
            b64(payload)
        )
    };
    format!(
        "\u{FEFF}<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n\
<edXML:edXML xmlns:edXML=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\"><edXML:edXMLEnvelope><edXML:edXMLHeader><edXML:MessageHeader>\
<edXML:From><edXML:OrganId>000.46.24.H44</edXML:OrganId><edXML:OrganName>UBND xã Nam Chính</edXML:OrganName></edXML:From>\
<edXML:DocumentId>000.46.24.H44,2024/05/10,vnpt</edXML:DocumentId>\
<edXML:OtherInfo><edXML:Priority>{priority}</edXML:Priority><edXML:PageAmount>1</edXML:PageAmount></edXML:OtherInfo>\
</edXML:MessageHeader></edXML:edXMLHeader><edXML:edXMLBody><edXML:edXMLManifest>\
<edXML:Reference><edXML:ContentId>cid:van-ban</edXML:ContentId><edXML:AttachmentName>QD.zip</edXML:AttachmentName></edXML:Reference>\
</edXML:edXMLManifest></edXML:edXMLBody></edXML:edXMLEnvelope><edXML:AttachmentEncoded>{}{}{}</edXML:AttachmentEncoded></edXML:edXML>\r\n",
        attachment("du-thao", "Du thao QD.doc", "application/msword", doc),
        attachment("van-ban", "Quyet dinh.zip", "application/zip", &signed_zip),
        attachment("phu-luc", "Phu luc.zip", "application/zip", &appendices),
    )
    .into_bytes()
}

#[test]
fn a_vnpt_package_brings_its_signed_pdf_text_signatures_and_further_files() {
    let dir = tempfile::tempdir().unwrap();
    let signed = fixture("tests/fixtures/signed/03-two-signers.pdf");
    let appendix = fixture("tests/fixtures/pdf/qd-kien-toan.libreoffice.pdf");
    let path = dir.path().join("vnpt.edxml");
    std::fs::write(&path, vnpt_package(&signed, &appendix, "3")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vanban"))
        .args(["extract", path.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let direct =
        vanban::extract::extract_pdf(&signed, vanban::doctypes::DocTypeTable::builtin()).unwrap();
    // The signed PDF is the document, though a .doc came first: its text, pages,
    // citations and every signature verdict.
    assert_eq!(json["pages"], direct.pages, "{json}");
    assert_eq!(json["references"], direct.to_json()["references"]);
    let imported = vanban::edxml_import::import_edxml(
        &std::fs::read(&path).unwrap(),
        vanban::doctypes::DocTypeTable::builtin(),
    )
    .unwrap();
    assert!(direct.text.len() > 100);
    assert_eq!(
        imported.extraction.text, direct.text,
        "the record's text is the PDF's"
    );
    assert_eq!(
        imported.file.unwrap().bytes,
        signed,
        "the signed bytes, unzipped"
    );
    assert_eq!(json["signature"]["valid"], true, "{}", json["signature"]);
    assert_eq!(json["signature"]["count"], 2);
    assert_eq!(json["signatures"].as_array().unwrap().len(), 2);
    assert_eq!(
        json["citations"].as_array().map(Vec::len),
        direct.to_json()["citations"].as_array().map(Vec::len)
    );
    // Header fields win: the urgency is Priority 3's.
    assert_eq!(json["urgency"], "HỎA TỐC");
    // The other files, in package order, with their roles.
    let further: Vec<(String, String)> = json["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        further,
        [
            ("Du thao QD.doc".to_string(), "draft".to_string()),
            (
                "Phu luc 1 - Danh muc.pdf".to_string(),
                "appendix".to_string()
            ),
            (
                "Phu luc 2 - Bang tong hop.xlsx".to_string(),
                "appendix".to_string()
            ),
        ]
    );
    assert_eq!(
        json["attachments"][1]["sha256"],
        vanban::extract::sha256_hex(&appendix)
    );
}

fn package_with(pdf: &[u8], subject: &str) -> Vec<u8> {
    let package = Package {
        namespace: NAMESPACE.into(),
        header: MessageHeader {
            from: Some(Organization {
                organ_id: Some("000.49.24.H44".into()),
                organ_name: Some("ỦY BAN NHÂN DÂN THỊ TRẤN NGÃI GIAO".into()),
                ..Organization::default()
            }),
            code_number: Some("142".into()),
            code_notation: Some("QD-UBND".into()),
            place: Some("Ngãi Giao".into()),
            promulgation_date: Some(LenientDate::new("2024/03/29")),
            type_name: Some("Quyết định".into()),
            subject: Some(subject.into()),
            signer_full_name: Some("Nguyễn Xuân Quang".into()),
            signer_position: Some("Chủ tịch".into()),
            ..MessageHeader::default()
        },
        manifest: vec![Reference {
            content_id: Some("cid:qd142".into()),
            attachment_name: Some("QD142.pdf".into()),
            description: None,
        }],
        attachments: vec![Attachment {
            content_id: Some("qd142".into()),
            attachment_name: Some("QD142.pdf".into()),
            content_type: Some("application/pdf".into()),
            description: None,
            payload: pdf.to_vec(),
            payload_error: None,
        }],
        ..Package::default()
    };
    write_document(&package).into_bytes()
}

#[test]
fn an_edxml_package_prints_the_extract_contract() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/pdf/qd-kien-toan.libreoffice.pdf"),
    )
    .unwrap();
    let path = dir.path().join("qd142.edxml");
    std::fs::write(
        &path,
        package_with(&pdf, "V/v phân công nhiệm vụ (bản edXML)"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vanban"))
        .args(["extract", path.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["text_source"], "edxml");
    assert_eq!(json["number_symbol"], "142/QĐ-UBND", "symbol canonicalised");
    assert_eq!(json["doc_type"], "Quyết định");
    assert_eq!(json["issuer"], "Ủy ban nhân dân thị trấn Ngãi Giao");
    assert_eq!(json["issued_date"], "2024-03-29");
    assert_eq!(
        json["abstract"], "Phân công nhiệm vụ (bản edXML)",
        "the header wins"
    );
    assert_eq!(json["signer_name"], "Nguyễn Xuân Quang");
    assert_eq!(
        json["pages"], 1,
        "text and pages come from the attached PDF"
    );
    assert_eq!(
        json["sha256"],
        vanban::extract::sha256_hex(&std::fs::read(&path).unwrap())
    );
    let warnings = json["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w["code"] == "edxml_disagrees"
            && w["message"].as_str().unwrap().contains("Trích yếu")),
        "the abstract disagreement is reported: {warnings:?}"
    );
    // A broken package is a clear, named failure.
    let broken = dir.path().join("broken.edxml");
    std::fs::write(&broken, b"<edXML:edXML xmlns:edXML=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\"><edXML:edXMLEnvelope>").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vanban"))
        .args(["extract", broken.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.edxml") && stderr.contains("edXML"),
        "{stderr}"
    );
}

/// The package's own document, when its text cannot be read as a PDF's, is checked like a
/// further file (its markings, or else held as unreadable): the header alone cannot say
/// the file carries no marking. (attachment name, payload, what the concern says)
#[test]
fn a_document_file_that_cannot_be_read_as_text_is_checked_or_held() {
    fn docx_with_header(header: &str) -> Vec<u8> {
        use std::io::Write;
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        for (name, text) in [
            ("[Content_Types].xml", ""),
            ("word/header1.xml", header),
            ("word/document.xml", "Quyết định"),
        ] {
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            write!(
                zip,
                "<w:d xmlns:w=\"w\"><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:d>"
            )
            .unwrap();
        }
        zip.finish().unwrap();
        out.into_inner()
    }
    let cases: [(&str, Vec<u8>, Option<&str>); 4] = [
        ("QD142.docx", docx_with_header("MẬT"), Some("mang dấu MẬT")),
        ("QD142.docx", docx_with_header("ỦY BAN NHÂN DÂN"), None),
        (
            "QD142.pdf",
            b"%PDF-1.7\nbroken beyond repair".to_vec(),
            Some("không đọc được"),
        ),
        (
            "QD142.jpg",
            b"\xFF\xD8\xFF\xE0 scan".to_vec(),
            Some("không đọc được"),
        ),
    ];
    for (name, payload, expected) in cases {
        let bytes = package_with(&payload, "Về việc kiện toàn").replace_name("QD142.pdf", name);
        let imported =
            vanban::edxml_import::import_edxml(&bytes, vanban::doctypes::DocTypeTable::builtin())
                .unwrap();
        match expected {
            Some(word) => assert!(
                imported
                    .concerns
                    .iter()
                    .any(|c| c.contains(word) && c.contains("Tệp văn bản")),
                "{name}: «{word}» in {:?}",
                imported.concerns
            ),
            None => assert!(
                imported.concerns.is_empty(),
                "{name}: {:?}",
                imported.concerns
            ),
        }
    }
}

trait ReplaceName {
    fn replace_name(self, from: &str, to: &str) -> Vec<u8>;
}

impl ReplaceName for Vec<u8> {
    /// The package with its attachment renamed (names are plain text in the XML).
    fn replace_name(self, from: &str, to: &str) -> Vec<u8> {
        String::from_utf8(self)
            .unwrap()
            .replace(from, to)
            .into_bytes()
    }
}
