//! The `vanban` binary end to end: the extract JSON contract, bad input, ingest dedup, fsck.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vanban(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vanban"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("VANBAN__STORAGE__DATABASE_URL")
        .output()
        .expect("run vanban")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pdf")
        .join(name)
}

#[test]
fn extract_prints_the_json_contract() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = fixture("seed001-nam-chinh.libreoffice.pdf");
    let out = vanban(
        dir.path(),
        &["extract", pdf.to_str().unwrap(), "--format", "json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("exactly one JSON object");
    for key in [
        "sha256",
        "doc_type",
        "number",
        "symbol",
        "number_symbol",
        "issuer",
        "place",
        "issued_date",
        "abstract",
        "signer_name",
        "signer_title",
        "signing_authority",
        "recipients",
        "references",
        "classified",
        "urgent",
        "signature",
        "text_source",
        "pages",
        "warnings",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["number_symbol"], "339/BC-UBND");
    assert_eq!(json["issuer"], "Ủy ban nhân dân xã Nam Chính");
    assert_eq!(
        json["sha256"],
        vanban::extract::sha256_hex(&std::fs::read(&pdf).unwrap())
    );
    assert!(
        json["fields"]["number"]["evidence"]["text"]
            .as_str()
            .unwrap()
            .contains("339")
    );
    assert_eq!(
        json["signature"],
        serde_json::Value::Null,
        "an unsigned file"
    );
}

#[test]
fn extract_reports_signatures_with_the_configured_anchors() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pdf = root.join("tests/fixtures/signed/03-two-signers.pdf");
    let out = Command::new(env!("CARGO_BIN_EXE_vanban"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["extract", pdf.to_str().unwrap(), "--format", "json"])
        .env(
            "VANBAN__SIGNATURES__TRUST_ANCHORS",
            root.join("config/trust-anchors/test-only"),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &json["signature"];
    assert_eq!(s["valid"], true);
    assert_eq!(s["signer"], "Nguyễn Văn Thử");
    assert_eq!(s["count"], 2);
    assert_eq!(s["covers_whole_file"], true);
    assert_eq!(s["status"], "intact_with_later_changes");
    assert_eq!(s["trusted"], true);
    assert!(s["signed_at"].as_str().unwrap().ends_with("+00:00"));
    let sigs = json["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2);
    assert_eq!(sigs[0]["status"], "intact_with_later_changes");
    assert_eq!(sigs[0]["chain"]["status"], "trusted");
    assert_eq!(
        sigs[1]["signer"]["common_name"],
        "ỦY BAN NHÂN DÂN XÃ NAM CHÍNH"
    );
    assert_eq!(sigs[1]["revocation"], "not_checked");
}

#[test]
fn extract_reports_bad_files_and_continues() {
    let dir = tempfile::tempdir().unwrap();
    let not_pdf = dir.path().join("note.pdf");
    std::fs::write(&not_pdf, "xin chào").unwrap();
    let truncated = dir.path().join("truncated.pdf");
    let good = std::fs::read(fixture("qd-kien-toan.libreoffice.pdf")).unwrap();
    std::fs::write(&truncated, &good[..good.len() / 3]).unwrap();
    let good_path = fixture("qd-kien-toan.libreoffice.pdf");
    let out = vanban(
        dir.path(),
        &[
            "extract",
            not_pdf.to_str().unwrap(),
            good_path.to_str().unwrap(),
            truncated.to_str().unwrap(),
        ],
    );
    assert!(
        !out.status.success(),
        "a failed file makes the exit code non-zero"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("note.pdf") && stderr.contains("không phải tệp PDF"),
        "{stderr}"
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON Lines"))
        .collect();
    assert!(!lines.is_empty() && lines.iter().any(|l| l["number_symbol"] == "142/QĐ-UBND"));
}

#[test]
fn ingest_is_idempotent_and_fsck_detects_tampering() {
    let data = tempfile::tempdir().unwrap();
    let inbox = tempfile::tempdir().unwrap();
    for name in [
        "seed000-quoc-tuan.libreoffice.pdf",
        "kh-mat.chromium.pdf",
        "qd-kien-toan.cairo.pdf",
    ] {
        std::fs::copy(fixture(name), inbox.path().join(name)).unwrap();
    }
    std::fs::write(inbox.path().join("broken.pdf"), b"%PDF-1.7\n garbage").unwrap();
    let inbox_arg = inbox.path().to_str().unwrap();

    let first = vanban(data.path(), &["ingest", inbox_arg, "--publish"]);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.contains("summary: 3 new, 0 duplicate, 1 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("broken.pdf"),
        "the failed file is named: {stdout}"
    );
    // A classified plan is stored but never published.
    let mat_line = stdout.lines().find(|l| l.contains("kh-mat")).unwrap();
    assert!(
        mat_line.contains("[needs_review]") && mat_line.contains("MẬT"),
        "{mat_line}"
    );
    let qd_line = stdout.lines().find(|l| l.contains("qd-kien-toan")).unwrap();
    assert!(qd_line.contains("[published]"), "{qd_line}");

    let second = vanban(data.path(), &["ingest", inbox_arg]);
    assert!(
        String::from_utf8_lossy(&second.stdout).contains("summary: 0 new, 3 duplicate, 1 failed")
    );

    let fsck = vanban(data.path(), &["fsck"]);
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stdout)
    );
    let sha = vanban::extract::sha256_hex(&std::fs::read(fixture("kh-mat.chromium.pdf")).unwrap());
    let blob = data
        .path()
        .join("blobs")
        .join(&sha[0..2])
        .join(&sha[2..4])
        .join(&sha);
    assert_eq!(
        std::fs::read(&blob).unwrap(),
        std::fs::read(fixture("kh-mat.chromium.pdf")).unwrap()
    );
    std::fs::write(&blob, b"tampered").unwrap();
    let fsck = vanban(data.path(), &["fsck"]);
    assert!(!fsck.status.success());
    assert!(String::from_utf8_lossy(&fsck.stdout).contains(&format!("corrupt   {sha}")));
    let leftovers: Vec<_> = std::fs::read_dir(data.path().join("blobs/tmp"))
        .unwrap()
        .collect();
    assert!(leftovers.is_empty(), "no partial blobs are left behind");
}
