//! Digital signatures: the signed fixtures (made by tests/tools/gen_signed_pdfs.py with a
//! throwaway CA) verify as `expected.json` says they were made; hostile inputs get clear
//! per-signature statuses; signed originals are stored and served byte for byte; broken
//! signatures are never published automatically.

use std::path::{Path, PathBuf};

use serde_json::Value;
use vanban::signature::{ChainStatus, Status, TrustStore, verify};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/signed")
}

fn test_anchors() -> TrustStore {
    let store = TrustStore::load(&[
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/trust-anchors/test-only")
    ]);
    assert_eq!(store.len(), 1, "{:?}", store.problems);
    store
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(name)).unwrap()
}

#[test]
fn every_fixture_verifies_as_it_was_made() {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("expected.json")).unwrap())
            .unwrap();
    let anchors = test_anchors();
    for (file, want) in expected.as_object().unwrap() {
        let v = verify(&read(file), None, &anchors);
        let summary = v.summary_json();
        let overall = v.overall().unwrap();
        assert_eq!(
            overall.as_str(),
            want["status"],
            "{file}: {:#?}",
            v.signatures
        );
        assert_eq!(summary["count"], want["count"], "{file}");
        if let Some(valid) = want.get("valid") {
            assert_eq!(&summary["valid"], valid, "{file}");
        }
        if let Some(covers) = want.get("covers_whole_file") {
            assert_eq!(&summary["covers_whole_file"], covers, "{file}");
        }
        if let Some(signer) = want.get("signer") {
            assert_eq!(&summary["signer"], signer, "{file}");
        }
        if let Some(signers) = want.get("signers") {
            let got: Vec<Value> = v
                .signatures
                .iter()
                .map(|s| s.signer.as_ref().unwrap().name.common_name.clone().into())
                .collect();
            assert_eq!(&Value::Array(got), signers, "{file}");
        }
        if let Some(per) = want.get("per_signature") {
            let got: Vec<&str> = v.signatures.iter().map(|s| s.status.as_str()).collect();
            assert_eq!(serde_json::json!(got), *per, "{file}");
        }
        let first = &v.signatures[0];
        if let Some(org) = want.get("organization") {
            assert_eq!(
                first.signer.as_ref().unwrap().name.organization.as_deref(),
                org.as_str(),
                "{file}"
            );
        }
        if let Some(alg) = want.get("algorithm") {
            assert_eq!(first.signature_algorithm.as_deref(), alg.as_str(), "{file}");
        }
        if let Some(digest) = want.get("digest") {
            assert_eq!(first.digest_algorithm.as_deref(), digest.as_str(), "{file}");
        }
        assert_eq!(
            first.weak_algorithm,
            want.get("weak") == Some(&Value::Bool(true)),
            "{file}"
        );
        if let Some(valid_at) = want.get("certificate_valid_at_signing") {
            assert_eq!(
                first.certificate_valid_at_signing,
                valid_at.as_bool(),
                "{file}"
            );
        }
        if let Some(trusted) = want.get("trusted") {
            assert_eq!(v.trusted(), trusted.as_bool(), "{file}: {:?}", first.chain);
        }
        // Always said: offline, revocation not checked.
        assert!(v.signatures.iter().all(|s| s.revocation == "not_checked"));
        assert!(first.signed_at.is_some(), "{file}: signing time");
    }
}

#[test]
fn chains_name_their_anchor_or_what_is_missing() {
    let anchors = test_anchors();
    let trusted = verify(&read("01-rsa-invisible.pdf"), None, &anchors);
    assert_eq!(
        trusted.signatures[0].chain,
        Some(ChainStatus::Trusted {
            anchor: "CN=Vanban Test Root CA, O=vanban test PKI, C=VN".into()
        })
    );
    let rogue = verify(&read("08-untrusted-root.pdf"), None, &anchors);
    assert!(matches!(
        &rogue.signatures[0].chain,
        Some(ChainStatus::UntrustedRoot { root }) if root.contains("Rogue Root")
    ));
    // With no anchors at all, nothing is trusted — and the line says it was not checked.
    let none = verify(&read("01-rsa-invisible.pdf"), None, &TrustStore::empty());
    assert_eq!(none.signatures[0].chain, Some(ChainStatus::NoTrustAnchors));
    assert_eq!(none.trusted(), None);
    let line = none.message().unwrap();
    assert!(
        line.starts_with("Đã ký số bởi Nguyễn Văn Thử lúc "),
        "{line}"
    );
    assert!(line.contains("tệp còn nguyên vẹn"), "{line}");
    assert!(line.contains("chưa đối chiếu với chứng thư gốc"), "{line}");
    let expired = verify(&read("07-expired-certificate.pdf"), None, &anchors);
    assert!(
        expired
            .message()
            .unwrap()
            .contains("không còn hiệu lực vào lúc ký")
    );
    let changed = verify(&read("05-signed-then-content-changed.pdf"), None, &anchors);
    let line = changed.message().unwrap();
    assert!(
        line.starts_with("Cảnh báo: nội dung tệp đã bị thay đổi"),
        "{line}"
    );
    assert!(
        changed.signatures[0]
            .later_changes
            .iter()
            .any(|c| c.contains("trang 1")),
        "{:?}",
        changed.signatures[0].later_changes
    );
    let annotated = verify(&read("04-signed-then-annotated.pdf"), None, &anchors);
    assert!(
        annotated.signatures[0]
            .later_changes
            .iter()
            .any(|c| c.contains("chú thích")),
        "{:?}",
        annotated.signatures[0].later_changes
    );
}

/// The signed bytes of a fixture with `f` applied to its `/Contents` hex.
fn with_contents(name: &str, f: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    let mut bytes = read(name);
    let range = vanban::signature::find::find_signatures(&bytes)[0]
        .byte_range
        .clone();
    let (start, end) = (range[1] as usize + 1, range[2] as usize - 1);
    let mut hex = bytes[start..end].to_vec();
    f(&mut hex);
    assert_eq!(hex.len(), end - start, "the test keeps the length");
    bytes.splice(start..end, hex);
    bytes
}

#[test]
fn hostile_signatures_get_clear_statuses_and_never_panic() {
    let anchors = test_anchors();
    let status = |bytes: &[u8]| {
        let v = verify(bytes, None, &anchors);
        (
            v.signatures[0].status,
            v.signatures[0].detail.clone().unwrap_or_default(),
        )
    };
    // Garbage where the CMS should be.
    let garbage = with_contents("01-rsa-invisible.pdf", |hex| {
        for b in hex.iter_mut().take(64) {
            *b = b'f';
        }
    });
    let (s, d) = status(&garbage);
    assert_eq!(s, Status::Malformed, "{d}");
    assert!(d.contains("CMS"), "{d}");
    // Truncated: the second half of the signature zeroed.
    let truncated = with_contents("01-rsa-invisible.pdf", |hex| {
        let n = hex.iter().rposition(|&b| b != b'0').unwrap();
        for b in hex.iter_mut().take(n).skip(n / 2) {
            *b = b'0';
        }
    });
    let (s, d) = status(&truncated);
    assert!(
        matches!(s, Status::Malformed | Status::InvalidSignature),
        "{s:?}: {d}"
    );
    // The signature value itself altered: the digest still matches, the key does not.
    let forged = with_contents("01-rsa-invisible.pdf", |hex| {
        let n = hex.iter().rposition(|&b| b != b'0').unwrap();
        hex[n - 10] = if hex[n - 10] == b'a' { b'b' } else { b'a' };
    });
    let (s, d) = status(&forged);
    assert_eq!(s, Status::InvalidSignature, "{d}");
    // Ranges pointing outside the file, overlapping, not at zero.
    let original = read("01-rsa-invisible.pdf");
    let at = original
        .windows(10)
        .position(|w| w == b"/ByteRange")
        .unwrap();
    let close = at + original[at..].iter().position(|&b| b == b']').unwrap();
    for (range, why) in [
        ("[0 100 99999999 10", "beyond the end"),
        ("[0 5000 4000 10", "overlap"),
        ("[7 100 200 10", "beginning"),
    ] {
        let mut bytes = original.clone();
        let width = close - at - "/ByteRange ".len();
        let replacement = format!("{range:<width$}");
        bytes.splice(at + "/ByteRange ".len()..close, replacement.bytes());
        let (s, d) = status(&bytes);
        assert_eq!(s, Status::Malformed, "{range}: {d}");
        assert!(d.contains(why), "{range}: {d}");
    }
    // A hundred signature dictionaries (copies of one, each with other ranges): every one
    // gets a status, and the work stays bounded.
    let mut many = original.clone();
    for i in 0..150 {
        many.extend_from_slice(
            format!(
                "\n{} 0 obj <</Type/Sig/ByteRange [0 {} 20 5] /Contents <00>>> endobj",
                900 + i,
                10 + i
            )
            .as_bytes(),
        );
    }
    let v = verify(&many, None, &anchors);
    assert!(v.signatures.len() <= vanban::signature::find::MAX_SIGNATURES);
    assert!(v.signatures.len() > 100);
    assert!(
        v.signatures
            .iter()
            .skip(1)
            .all(|s| s.status == Status::Malformed)
    );
    assert_eq!(v.overall(), Some(Status::Malformed));
    // Not a PDF at all, empty, random bytes: no signatures, no panic.
    for junk in [
        &b""[..],
        b"%PDF-1.7",
        &[0xffu8; 4096][..],
        b"/ByteRange [0 1 2",
    ] {
        assert!(!verify(junk, None, &anchors).is_signed());
    }
}

#[test]
fn a_huge_certificate_or_deep_nesting_is_refused_cleanly() {
    // A /Contents of nested constructed values, far deeper than any real CMS. The range
    // numbers are zero-padded to a fixed width so the offsets can be written in place.
    let hex: String = [0x30u8, 0x80]
        .repeat(5000)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let head =
        "%PDF-1.7\n1 0 obj <</Type/Sig/ByteRange [0 GGGGGGGGGG HHHHHHHHHH 0000000010] /Contents ";
    let gap_start = head.len();
    let gap_end = gap_start + hex.len() + 2;
    let pdf = format!("{head}<{hex}>>> endobj\n{}", " ".repeat(64))
        .replacen("GGGGGGGGGG", &format!("{gap_start:010}"), 1)
        .replacen("HHHHHHHHHH", &format!("{gap_end:010}"), 1);
    let v = verify(pdf.as_bytes(), None, &test_anchors());
    assert_eq!(v.signatures.len(), 1);
    assert_eq!(
        v.signatures[0].status,
        Status::Malformed,
        "{:?}",
        v.signatures[0].detail
    );
    assert!(v.signatures[0].detail.as_deref().unwrap().contains("CMS"));
}

/// Through the ingest path: the signed original is stored and served byte for byte, the
/// verdict is kept with the record and shown on the API and the page, and a broken
/// signature keeps the document out of the public registry.
#[tokio::test]
async fn signed_documents_are_stored_served_and_shown() {
    use vanban::ingest::{Ingestor, Outcome};
    let app = crate::web::app().await;
    let state = &app.state;
    let ingestor = Ingestor {
        store: &state.store,
        blobs: &state.blobs,
        settings: &state.settings,
        types: state.types,
        unit_code: "000.47.24.H44".into(),
        publish: true,
        actor: "test".into(),
    };
    // 05 and 06 are the same decision (one registry key): 06 goes to a second registry.
    let other = crate::web::app().await;
    let other_ingestor = Ingestor {
        store: &other.state.store,
        blobs: &other.state.blobs,
        settings: &other.state.settings,
        types: other.state.types,
        unit_code: "000.47.24.H44".into(),
        publish: true,
        actor: "test".into(),
    };
    let mut ids = std::collections::HashMap::new();
    for (name, ingestor) in [
        ("03-two-signers.pdf", &ingestor),
        ("05-signed-then-content-changed.pdf", &ingestor),
        ("06-byte-flipped.pdf", &other_ingestor),
    ] {
        let result = ingestor.ingest_file(&fixtures().join(name)).await;
        match result.outcome {
            Outcome::New { id, status, reason } => {
                ids.insert(name, (id, status, reason));
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    let (signed, status, _) = &ids["03-two-signers.pdf"];
    assert_eq!(status, "published", "{:?}", ids["03-two-signers.pdf"].2);
    for broken in ["05-signed-then-content-changed.pdf", "06-byte-flipped.pdf"] {
        let (_, status, reason) = &ids[broken];
        assert_eq!(status, "needs_review", "{broken}");
        assert!(
            reason.contains("Chữ ký số không hợp lệ"),
            "{broken}: {reason}"
        );
    }
    app.sync_index().await;

    // Served exactly as ingested.
    let original = read("03-two-signers.pdf");
    let (code, headers, body) = app.get(&format!("/api/v1/documents/{signed}/file")).await;
    assert_eq!(code, axum::http::StatusCode::OK);
    assert_eq!(body, original);
    let sha = vanban::extract::sha256_hex(&original);
    assert_eq!(vanban::extract::sha256_hex(&body), sha);
    assert_eq!(headers["etag"], format!("\"{sha}\""));

    // The API record carries the verdict and every signature.
    let record = app.json(&format!("/api/v1/documents/{signed}")).await;
    let summary = &record["signature"];
    assert_eq!(summary["valid"], true);
    assert_eq!(summary["count"], 2);
    assert_eq!(summary["signer"], "Nguyễn Văn Thử");
    assert_eq!(summary["status"], "intact_with_later_changes");
    let message = summary["message"].as_str().unwrap();
    assert!(
        message.starts_with("Đã ký số bởi Nguyễn Văn Thử, ỦY BAN NHÂN DÂN XÃ NAM CHÍNH lúc "),
        "{message}"
    );
    assert_eq!(record["signatures"].as_array().unwrap().len(), 2);
    assert_eq!(
        record["signatures"][1]["signer"]["common_name"],
        "ỦY BAN NHÂN DÂN XÃ NAM CHÍNH"
    );

    // The page says it in Vietnamese, with the details.
    let (_, _, page) = app.get(&format!("/van-ban/{signed}")).await;
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("<h2 id=\"chu-ky\">Chữ ký số</h2>"), "{page}");
    assert!(page.contains("tệp còn nguyên vẹn"));
    assert!(page.contains("Nguyên vẹn (sau đó chỉ thêm chữ ký, chú thích)"));
    assert!(page.contains("chưa kiểm tra thu hồi chứng thư"));

    // Broken ones are not public anywhere.
    let (id, _, _) = &ids["05-signed-then-content-changed.pdf"];
    let (code, _, _) = app.get(&format!("/api/v1/documents/{id}")).await;
    assert_eq!(code, axum::http::StatusCode::NOT_FOUND);
    // The stored verdict survives in the record for clerks.
    let stored = other
        .state
        .store
        .get_document(ids["06-byte-flipped.pdf"].0)
        .await
        .unwrap();
    let v = vanban::web::signatures_of(&stored).unwrap();
    assert_eq!(v.overall(), Some(Status::DigestMismatch));
}
