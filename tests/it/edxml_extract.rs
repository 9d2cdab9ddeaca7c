//! `vanban extract PACKAGE.edxml`: the same JSON contract as for PDFs, metadata from the
//! edXML header (winning over the attachment's text), text from the attached PDF.

use std::process::Command;

use base64::Engine as _;
use edxml::*;

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
            content: base64::engine::general_purpose::STANDARD.encode(pdf),
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
