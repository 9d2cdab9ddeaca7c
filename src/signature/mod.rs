//! Digital signatures of PDFs (PAdES / CMS), every revision: whether each signature is
//! intact, what happened to the file after it was signed, who signed and when, and how
//! far the signer's certificate chains to the configured trust anchors.
//!
//! Per signature: the `/ByteRange` must cover the whole revision but `/Contents`; the
//! digest of the signed bytes (the algorithm the CMS names) must equal the signed
//! `messageDigest`; the signature over the signed attributes must verify with the
//! signer's key (RSA PKCS#1 v1.5 or PSS, ECDSA P-256/P-384). Then later revisions are
//! judged (see `revisions`). Offline: revocation is not checked, and results say so.
//!
//! Architecture invariant: verification only reads the file; nothing here writes bytes.

pub mod cms;
pub mod find;
pub mod revisions;
pub mod trust;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use cms::{DigestAlg, Parsed, SigFailure};
pub use trust::{ChainStatus, TrustStore};

/// What a signature says about the file, weakest last in rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Verifies and covers the whole file.
    Intact,
    /// Verifies; later revisions only add signatures, annotations, form fields.
    IntactWithLaterChanges,
    /// Verifies, but a later revision changed page content.
    ModifiedAfterSigning,
    /// The signed bytes no longer hash to the signed digest.
    DigestMismatch,
    /// The digest matches but the signature does not verify with the signer's key.
    InvalidSignature,
    /// An algorithm or form this verifier does not handle.
    Unsupported,
    /// Broken ranges, unreadable CMS, missing parts.
    Malformed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Intact => "intact",
            Status::IntactWithLaterChanges => "intact_with_later_changes",
            Status::ModifiedAfterSigning => "modified_after_signing",
            Status::DigestMismatch => "digest_mismatch",
            Status::InvalidSignature => "invalid_signature",
            Status::Unsupported => "unsupported",
            Status::Malformed => "malformed",
        }
    }
    /// Higher is stronger; the document's verdict is its signatures' weakest.
    fn rank(self) -> u8 {
        match self {
            Status::Intact => 6,
            Status::IntactWithLaterChanges => 5,
            Status::Unsupported => 4,
            Status::Malformed => 3,
            Status::ModifiedAfterSigning => 2,
            Status::InvalidSignature => 1,
            Status::DigestMismatch => 0,
        }
    }
    /// For people (Vietnamese).
    pub fn label(self) -> &'static str {
        match self {
            Status::Intact => "Nguyên vẹn",
            Status::IntactWithLaterChanges => "Nguyên vẹn (sau đó chỉ thêm chữ ký, chú thích)",
            Status::ModifiedAfterSigning => "Nội dung bị thay đổi sau khi ký",
            Status::DigestMismatch => "Không khớp với tệp",
            Status::InvalidSignature => "Chữ ký không hợp lệ",
            Status::Unsupported => "Chưa kiểm tra được",
            Status::Malformed => "Chữ ký bị hỏng",
        }
    }

    /// The file is what was signed (at most with allowed additions).
    pub fn valid(self) -> bool {
        matches!(self, Status::Intact | Status::IntactWithLaterChanges)
    }
    /// The file or the signature is demonstrably wrong (not merely unverifiable here).
    pub fn broken(self) -> bool {
        matches!(
            self,
            Status::ModifiedAfterSigning
                | Status::DigestMismatch
                | Status::InvalidSignature
                | Status::Malformed
        )
    }
}

/// The signer as the certificate names them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Signer {
    #[serde(flatten)]
    pub name: cms::NameParts,
    /// Certificate serial number, hex.
    pub serial: String,
    pub issuer: String,
    pub not_before: Option<DateTime<Utc>>,
    pub not_after: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SignatureReport {
    /// 1-based, in file order.
    pub index: usize,
    pub status: Status,
    /// Why, when not intact (English, for logs and operators).
    pub detail: Option<String>,
    pub sub_filter: Option<String>,
    pub byte_range: Vec<i64>,
    pub covers_whole_file: bool,
    pub digest_algorithm: Option<String>,
    pub signature_algorithm: Option<String>,
    /// SHA-1: collisions are practical, the signature proves less.
    pub weak_algorithm: bool,
    pub signer: Option<Signer>,
    pub signed_at: Option<DateTime<Utc>>,
    /// `signed_attribute` (inside the signature) or `pdf` (the unsigned `/M`).
    pub signing_time_source: Option<String>,
    /// Whether the certificate was within its validity at the signing time.
    pub certificate_valid_at_signing: Option<bool>,
    pub chain: Option<ChainStatus>,
    /// Always `not_checked`: verification is offline.
    pub revocation: String,
    pub timestamp_token: bool,
    /// What later revisions changed (Vietnamese): allowed additions, or content changes.
    pub later_changes: Vec<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
}

impl SignatureReport {
    pub fn trusted(&self) -> Option<bool> {
        match &self.chain {
            Some(ChainStatus::Trusted { .. }) => Some(true),
            Some(ChainStatus::NoTrustAnchors) | None => None,
            Some(_) => Some(false),
        }
    }
}

/// Every signature of a file and the document's verdict.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Verification {
    pub signatures: Vec<SignatureReport>,
    /// Time spent verifying (for benchmarks; not stored).
    #[serde(skip)]
    pub elapsed: Duration,
}

/// `13:05 ngày 02/04/2024` in Vietnam time.
fn vietnam_time(t: &DateTime<Utc>) -> String {
    let local = t.with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).expect("offset"));
    local.format("%H:%M ngày %d/%m/%Y").to_string()
}

impl Verification {
    pub fn is_signed(&self) -> bool {
        !self.signatures.is_empty()
    }

    /// The weakest status of the document's signatures.
    pub fn overall(&self) -> Option<Status> {
        self.signatures
            .iter()
            .map(|s| s.status)
            .min_by_key(|s| s.rank())
    }

    pub fn valid(&self) -> bool {
        self.overall().is_some_and(Status::valid)
    }

    /// Whether the last signature covers the whole file (nothing was added after it).
    pub fn covers_whole_file(&self) -> bool {
        self.signatures.iter().any(|s| s.covers_whole_file)
    }

    /// Whether every signature chains to a trust anchor (`None`: none configured).
    pub fn trusted(&self) -> Option<bool> {
        let all: Vec<Option<bool>> = self
            .signatures
            .iter()
            .map(SignatureReport::trusted)
            .collect();
        if all.iter().all(Option::is_none) {
            return None;
        }
        Some(all.iter().all(|t| *t == Some(true)))
    }

    /// One line for citizens and clerks (Vietnamese).
    pub fn message(&self) -> Option<String> {
        let overall = self.overall()?;
        let names: Vec<String> = self
            .signatures
            .iter()
            .filter_map(|s| s.signer.as_ref().and_then(|p| p.name.common_name.clone()))
            .fold(Vec::new(), |mut acc, n| {
                if !acc.contains(&n) {
                    acc.push(n);
                }
                acc
            });
        let who = if names.is_empty() {
            "(không đọc được tên người ký)".to_string()
        } else {
            names.join(", ")
        };
        let when = self
            .signatures
            .iter()
            .filter_map(|s| s.signed_at)
            .max()
            .map(|t| format!(" lúc {}", vietnam_time(&t)))
            .unwrap_or_default();
        let mut line = match overall {
            Status::Intact => format!("Đã ký số bởi {who}{when}; tệp còn nguyên vẹn"),
            Status::IntactWithLaterChanges => format!(
                "Đã ký số bởi {who}{when}; tệp còn nguyên vẹn (sau khi ký chỉ thêm chữ ký hoặc chú thích)"
            ),
            Status::ModifiedAfterSigning => format!(
                "Cảnh báo: nội dung tệp đã bị thay đổi sau khi {who} ký số; bản này không còn đúng bản đã ký"
            ),
            Status::DigestMismatch | Status::InvalidSignature => format!(
                "Cảnh báo: chữ ký số của {who} không khớp với tệp; tệp có thể đã bị sửa sau khi ký"
            ),
            Status::Malformed
                if self.signatures.iter().any(|s| {
                    s.detail
                        .as_deref()
                        .is_some_and(|d| d.contains("beyond the end"))
                }) =>
            {
                "Chữ ký số trong tệp thuộc về tệp gốc đầy đủ; bản này là bản trích hoặc bị cắt \
                 nên không kiểm tra được chữ ký"
                    .into()
            }
            Status::Malformed => {
                "Cảnh báo: chữ ký số trong tệp bị hỏng, không kiểm tra được".into()
            }
            Status::Unsupported => {
                format!("Tệp có chữ ký số của {who}{when} theo dạng hệ thống chưa kiểm tra được")
            }
        };
        if overall.valid() {
            if self
                .signatures
                .iter()
                .any(|s| s.certificate_valid_at_signing == Some(false))
            {
                line.push_str("; chứng thư số không còn hiệu lực vào lúc ký");
            }
            match self.trusted() {
                Some(false) => line.push_str("; chưa xác minh được tổ chức cấp chứng thư số"),
                None => line.push_str("; chưa đối chiếu với chứng thư gốc"),
                Some(true) => {}
            }
            if self.signatures.iter().any(|s| s.weak_algorithm) {
                line.push_str("; dùng thuật toán băm SHA-1 đã lỗi thời");
            }
        }
        Some(line)
    }

    /// The `signature` object of the extraction contract (`null` for an unsigned file).
    pub fn summary_json(&self) -> Value {
        let Some(overall) = self.overall() else {
            return Value::Null;
        };
        let first = &self.signatures[0];
        json!({
            "valid": overall.valid(),
            "signer": first.signer.as_ref().and_then(|s| s.name.common_name.clone()),
            "signed_at": first.signed_at.map(|t| t.to_rfc3339()),
            "covers_whole_file": self.covers_whole_file(),
            "status": overall.as_str(),
            "count": self.signatures.len(),
            "trusted": self.trusted(),
            "message": self.message(),
        })
    }
}

/// Verifies every signature of `bytes`. `doc` is the file already loaded (the text
/// extraction's), used to judge later revisions; loaded here when absent and needed.
pub fn verify(bytes: &[u8], doc: Option<&lopdf::Document>, trust: &TrustStore) -> Verification {
    let started = Instant::now();
    let found: Vec<find::Found> = find::find_signatures(bytes)
        .into_iter()
        // An empty placeholder is a signature field never signed, not a signature.
        .filter(|f| !matches!(&f.contents, Err(e) if e.contains("placeholder")))
        .collect();
    if found.is_empty() {
        return Verification {
            signatures: Vec::new(),
            elapsed: started.elapsed(),
        };
    }
    let parsed: Vec<Result<Parsed, String>> = found
        .iter()
        .map(|f| match &f.contents {
            Ok(der) => cms::parse(der),
            Err(e) => Err(e.clone()),
        })
        .collect();
    let digests = signed_digests(bytes, &found, &parsed);
    // Judging later revisions needs the file's objects, loaded once.
    let end_of_file = bytes.len() - trailing_whitespace(bytes);
    let needs_analysis = found
        .iter()
        .any(|f| f.revision_end().is_some_and(|e| e < end_of_file));
    let loaded;
    let doc = match doc {
        Some(d) => Some(d),
        None if needs_analysis => {
            loaded = lopdf::Document::load_mem(bytes).ok();
            loaded.as_ref()
        }
        None => None,
    };
    let analyzer = doc
        .filter(|_| needs_analysis)
        .map(|d| revisions::Analyzer::new(bytes, d));
    let mut signatures = Vec::with_capacity(found.len());
    for (i, (f, p)) in found.iter().zip(&parsed).enumerate() {
        signatures.push(check_one(
            i + 1,
            bytes,
            end_of_file,
            f,
            p,
            digests.get(&i),
            analyzer.as_ref(),
            trust,
        ));
    }
    Verification {
        signatures,
        elapsed: started.elapsed(),
    }
}

fn trailing_whitespace(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace() || **b == 0)
        .count()
}

/// The digest of each signature's signed bytes, computed in one pass per algorithm:
/// signatures sorted by where their first range ends share the hash of the common
/// prefix (the state is cloned at each boundary), so a file with many signatures is
/// read about once, not once per signature.
fn signed_digests(
    bytes: &[u8],
    found: &[find::Found],
    parsed: &[Result<Parsed, String>],
) -> HashMap<usize, Vec<u8>> {
    let mut groups: HashMap<DigestAlg, Vec<(usize, usize, usize, usize)>> = HashMap::new();
    for (i, (f, p)) in found.iter().zip(parsed).enumerate() {
        let (Ok(p), Ok(_)) = (p, &f.contents) else {
            continue;
        };
        let Ok(alg) = p.digest_alg() else { continue };
        let [_, b, c, d] = f.byte_range[..] else {
            continue;
        };
        // adbe.pkcs7.sha1 signs the SHA-1 of the bytes, whatever the CMS digest.
        let alg = if p.encapsulated().is_some() {
            DigestAlg::Sha1
        } else {
            alg
        };
        groups
            .entry(alg)
            .or_default()
            .push((i, b as usize, c as usize, d as usize));
    }
    let mut out = HashMap::new();
    for (alg, mut sigs) in groups {
        sigs.sort_by_key(|&(_, b, _, _)| b);
        let mut running = alg.hasher();
        let mut position = 0;
        for (i, b, c, d) in sigs {
            running.update(&bytes[position..b]);
            position = b;
            let mut own = running.clone();
            own.update(&bytes[c..c + d]);
            out.insert(i, own.finish());
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn check_one(
    index: usize,
    bytes: &[u8],
    end_of_file: usize,
    f: &find::Found,
    parsed: &Result<Parsed, String>,
    digest: Option<&Vec<u8>>,
    analyzer: Option<&revisions::Analyzer>,
    trust: &TrustStore,
) -> SignatureReport {
    let revision_end = f.revision_end();
    let covers_whole_file = revision_end.is_some_and(|e| e >= end_of_file && e <= bytes.len());
    let mut report = SignatureReport {
        index,
        status: Status::Malformed,
        detail: None,
        sub_filter: f.sub_filter.clone(),
        byte_range: f.byte_range.clone(),
        covers_whole_file,
        digest_algorithm: None,
        signature_algorithm: None,
        weak_algorithm: false,
        signer: None,
        signed_at: None,
        signing_time_source: None,
        certificate_valid_at_signing: None,
        chain: None,
        revocation: "not_checked".into(),
        timestamp_token: false,
        later_changes: Vec::new(),
        reason: f.reason.clone(),
        location: f.location.clone(),
    };
    // When, as the PDF states it (unsigned): replaced below by the signed time if any.
    if let Some(t) = f.pdf_time.as_deref().and_then(find::parse_pdf_date) {
        report.signed_at = Some(t);
        report.signing_time_source = Some("pdf".into());
    }
    let p = match parsed {
        Ok(p) => p,
        Err(e) => {
            report.detail = Some(e.clone());
            return report;
        }
    };
    // Who and when, whatever the verdict.
    report.timestamp_token = p.has_timestamp_token();
    if let Some(t) = p.signing_time() {
        report.signed_at = Some(t);
        report.signing_time_source = Some("signed_attribute".into());
    }
    let signer_cert = p.signer_certificate();
    if let Some(cert) = signer_cert {
        let tbs = cert.cert.tbs_certificate();
        let parts = cms::name_parts(tbs.subject());
        let validity = tbs.validity();
        let not_before = cms::time_of(&validity.not_before);
        let not_after = cms::time_of(&validity.not_after);
        report.signer = Some(Signer {
            name: parts,
            serial: hex::encode(tbs.serial_number().as_bytes()),
            issuer: cms::display_name(tbs.issuer()),
            not_before,
            not_after,
        });
        if let (Some(at), Some(from), Some(to)) = (report.signed_at, not_before, not_after) {
            report.certificate_valid_at_signing = Some(at >= from && at <= to);
        }
        report.chain = Some(trust.chain(cert, &p.certificates));
    }
    let alg = match p.digest_alg() {
        Ok(a) => a,
        Err(e) => {
            report.status = Status::Unsupported;
            report.detail = Some(e);
            return report;
        }
    };
    report.digest_algorithm = Some(alg.name().into());
    report.weak_algorithm = alg.weak();
    let Some(data_digest) = digest else {
        report.detail = Some("the signed bytes could not be hashed".into());
        return report;
    };
    // What the signer's digest covers: the bytes, or (adbe.pkcs7.sha1) their SHA-1.
    let content_digest = match p.encapsulated() {
        Some(content) => {
            report.weak_algorithm = true;
            if content != *data_digest {
                report.status = Status::DigestMismatch;
                report.detail =
                    Some("the SHA-1 of the signed bytes differs from the signed one".into());
                return report;
            }
            alg.digest(&content)
        }
        None => data_digest.clone(),
    };
    if !f.frames_contents {
        // The ranges no longer frame the signature: whatever they hash to, the bytes the
        // signer signed are not these.
        report.status = Status::DigestMismatch;
        report.detail = Some(
            "the signed ranges do not frame the signature's /Contents: the file was rewritten after signing".into(),
        );
        return report;
    }
    let Some(cert) = signer_cert else {
        report.status = Status::Unsupported;
        report.detail = Some("the signer's certificate is not in the signature".into());
        return report;
    };
    let spki = cert.cert.tbs_certificate().subject_public_key_info();
    let outcome = match (&p.signer.signed_attrs, &p.signed_attrs_der) {
        (Some(_), Some(attrs_der)) => {
            match p.message_digest() {
                None => {
                    report.detail = Some("the signed attributes hold no messageDigest".into());
                    return report;
                }
                Some(md) if md != content_digest => {
                    report.status = Status::DigestMismatch;
                    report.detail = Some(format!(
                        "the {} of the signed bytes differs from the signed messageDigest",
                        alg.name()
                    ));
                    return report;
                }
                Some(_) => {}
            }
            cms::verify_signature(
                spki,
                &p.signer.signature_algorithm,
                alg,
                attrs_der,
                p.signer.signature.as_bytes(),
            )
        }
        _ => {
            // No signed attributes: the signature is over the content itself.
            let content: Vec<u8> = match p.encapsulated() {
                Some(c) => c,
                None => match f.byte_range[..] {
                    [_, b, c, d] => {
                        [&bytes[..b as usize], &bytes[c as usize..(c + d) as usize]].concat()
                    }
                    _ => Vec::new(),
                },
            };
            cms::verify_signature(
                spki,
                &p.signer.signature_algorithm,
                alg,
                &content,
                p.signer.signature.as_bytes(),
            )
        }
    };
    match outcome {
        Ok(name) => report.signature_algorithm = Some(name.into()),
        Err(SigFailure::Invalid(e)) => {
            report.status = Status::InvalidSignature;
            report.detail = Some(e);
            return report;
        }
        Err(SigFailure::Unsupported(e)) => {
            report.status = Status::Unsupported;
            report.detail = Some(e);
            return report;
        }
    }
    if covers_whole_file {
        report.status = Status::Intact;
        return report;
    }
    let (Some(end), Some(analyzer)) = (revision_end, analyzer) else {
        report.status = Status::Unsupported;
        report.detail = Some("later revisions could not be read to judge them".into());
        return report;
    };
    let changes = analyzer.changes_after(end);
    if !changes.content.is_empty() {
        report.status = Status::ModifiedAfterSigning;
        report.later_changes = changes.content.iter().cloned().collect();
        report.detail = Some(format!(
            "a later revision changed {}",
            report.later_changes.join("; ")
        ));
    } else if let Some(why) = changes.unknown {
        report.status = Status::Unsupported;
        report.detail = Some(why);
    } else {
        report.status = Status::IntactWithLaterChanges;
        report.later_changes = changes.allowed.iter().cloned().collect();
    }
    report
}
