//! The extraction pipeline: bytes → text (NFC, lookalikes fixed) → Decree-30 metadata →
//! citations, with warnings a clerk can act on. Pure: no storage, no network.

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::decree30::{self, Metadata, SourceLine, Warning, is_signature_stamp};
use crate::doctypes::DocTypeTable;
use crate::markings::{self, Finding, Grade, Origin};
use crate::pdf::{self, PdfError};
use crate::text::{diacritic_ratio, normalize, tidy_line};

/// Where the text of a document came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSource {
    TextLayer,
    /// The header of an edXML package (plus its attachment's text layer, when any).
    Edxml,
    /// No usable text: a scan waiting for OCR.
    None,
}

impl TextSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TextSource::TextLayer => "text_layer",
            TextSource::Edxml => "edxml",
            TextSource::None => "none",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Extraction {
    pub sha256: String,
    pub size: u64,
    pub media_type: &'static str,
    pub pages: u32,
    /// Full text in reading order; pages separated by form feeds; signature stamps removed.
    pub text: String,
    pub text_source: TextSource,
    pub metadata: Metadata,
    pub warnings: Vec<Warning>,
    pub producer: Option<String>,
    /// The file's digital signatures (none for an unsigned file).
    pub signatures: crate::signature::Verification,
}

/// Warning code of an extraction stopped by its budget ([`pdf::Budget`]); its message is
/// the reason a clerk reads.
pub const BUDGET_EXCEEDED: &str = "extraction_budget";
/// How the reason of a record stored over budget begins (see [`budget_warning`]).
pub const BUDGET_REASON: &str = "Trích xuất vượt giới hạn";

impl Extraction {
    /// No text layer to read: a scan waiting for OCR (not a file whose reading was cut
    /// short by the budget, which OCR would not help).
    pub fn needs_ocr(&self) -> bool {
        self.text_source == TextSource::None && self.budget_exceeded().is_none()
    }

    /// The warning saying the extraction stopped at its budget, if it did.
    pub fn budget_exceeded(&self) -> Option<&Warning> {
        self.warnings.iter().find(|w| w.code == BUDGET_EXCEEDED)
    }

    pub fn classified(&self) -> bool {
        self.metadata.secrecy.value.is_some()
    }

    pub fn internal_only(&self) -> bool {
        self.metadata.internal_circulation.value == Some(true)
    }

    /// Marking-like tokens that could not be placed with certainty: the document is held
    /// for a clerk (see `markings` and `policy`).
    pub fn marking_doubts(&self) -> Vec<&Finding> {
        self.metadata
            .markings
            .iter()
            .filter(|f| f.grade == Grade::Uncertain)
            .collect()
    }

    /// The JSON contract of `vanban extract --format json` (see README).
    pub fn to_json(&self) -> Value {
        let m = &self.metadata;
        let date = |d: &Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
        let field = |name: &str, f: &decree30::Field<String>| {
            (
                name.to_string(),
                json!({"confidence": f.confidence, "evidence": f.evidence}),
            )
        };
        let fields: serde_json::Map<String, Value> = [
            field("doc_type", &m.doc_type),
            field("number", &m.number),
            field("symbol", &m.symbol),
            field("issuer", &m.issuer),
            field("place", &m.place),
            (
                "issued_date".into(),
                json!({"confidence": m.issued_date.confidence, "evidence": m.issued_date.evidence}),
            ),
            (
                "effective_date".into(),
                json!({"confidence": m.effective_date.confidence, "evidence": m.effective_date.evidence}),
            ),
            field("abstract", &m.abstract_text),
            field("signer_name", &m.signer_name),
            field("signer_title", &m.signer_title),
            field("signing_authority", &m.signing_authority),
            (
                "recipients".into(),
                json!({"confidence": m.recipients.confidence, "evidence": m.recipients.evidence}),
            ),
        ]
        .into_iter()
        .collect();
        json!({
            "sha256": self.sha256,
            "doc_type": m.doc_type.value,
            "number": m.number.value,
            "symbol": m.symbol.value,
            "number_symbol": m.number_symbol(),
            "issuer": m.issuer.value,
            "place": m.place.value,
            "issued_date": date(&m.issued_date.value),
            "abstract": m.abstract_text.value,
            "signer_name": m.signer_name.value,
            "signer_title": m.signer_title.value,
            "signing_authority": m.signing_authority.value,
            "recipients": m.recipients.value.clone().unwrap_or_default(),
            "references": m.citations.iter().map(|c| c.number_symbol.clone()).collect::<Vec<_>>(),
            "classified": self.classified(),
            "urgent": m.urgency.value.is_some(),
            "signature": self.signatures.summary_json(),
            "text_source": self.text_source.as_str(),
            "pages": self.pages,
            "warnings": self.warnings,
            // Beyond the contract: fields integrators asked for and the registry needs.
            "effective_date": date(&m.effective_date.value),
            "issued_year": m.issued_year.value,
            "issuer_parent": m.issuer_parent.value,
            "secrecy": m.secrecy.value,
            "urgency": m.urgency.value,
            "internal_circulation": self.internal_only(),
            // Every marking found (certain or not), and those held for a clerk's review.
            "markings": m.markings,
            "marking_doubts": self.marking_doubts(),
            "citations": m.citations,
            "signatures": self.signatures.signatures,
            "fields": fields,
        })
    }

    /// Human-readable report with confidence and evidence, for `--format text`.
    pub fn to_text_report(&self) -> String {
        let m = &self.metadata;
        let mut out = String::new();
        let mut row = |label: &str,
                       value: Option<String>,
                       confidence: f64,
                       evidence: &Option<decree30::Evidence>| {
            let value = value.unwrap_or_else(|| "—".into());
            out.push_str(&format!("{label:<18} {value}\n"));
            if let Some(ev) = evidence {
                out.push_str(&format!(
                    "{:<18}   [{:.2}] p.{} l.{}: {}\n",
                    "", confidence, ev.page, ev.line, ev.text
                ));
            }
        };
        row("sha256", Some(self.sha256.clone()), 1.0, &None);
        row(
            "doc_type",
            m.doc_type.value.clone(),
            m.doc_type.confidence,
            &m.doc_type.evidence,
        );
        row(
            "number_symbol",
            m.number_symbol(),
            m.symbol.confidence,
            &m.symbol.evidence,
        );
        row(
            "issuer",
            m.issuer.value.clone(),
            m.issuer.confidence,
            &m.issuer.evidence,
        );
        row(
            "issuer_parent",
            m.issuer_parent.value.clone(),
            m.issuer_parent.confidence,
            &m.issuer_parent.evidence,
        );
        row(
            "place",
            m.place.value.clone(),
            m.place.confidence,
            &m.place.evidence,
        );
        row(
            "issued_date",
            m.issued_date.value.map(|d| d.to_string()),
            m.issued_date.confidence,
            &m.issued_date.evidence,
        );
        row(
            "effective_date",
            m.effective_date.value.map(|d| d.to_string()),
            m.effective_date.confidence,
            &m.effective_date.evidence,
        );
        row(
            "abstract",
            m.abstract_text.value.clone(),
            m.abstract_text.confidence,
            &m.abstract_text.evidence,
        );
        row(
            "signing_authority",
            m.signing_authority.value.clone(),
            m.signing_authority.confidence,
            &m.signing_authority.evidence,
        );
        row(
            "signer_title",
            m.signer_title.value.clone(),
            m.signer_title.confidence,
            &m.signer_title.evidence,
        );
        row(
            "signer_name",
            m.signer_name.value.clone(),
            m.signer_name.confidence,
            &m.signer_name.evidence,
        );
        row(
            "recipients",
            m.recipients.value.as_ref().map(|r| r.join(" | ")),
            m.recipients.confidence,
            &m.recipients.evidence,
        );
        row(
            "secrecy",
            m.secrecy.value.clone(),
            m.secrecy.confidence,
            &m.secrecy.evidence,
        );
        row(
            "urgency",
            m.urgency.value.clone(),
            m.urgency.confidence,
            &m.urgency.evidence,
        );
        row(
            "references",
            Some(
                m.citations
                    .iter()
                    .map(|c| c.number_symbol.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            1.0,
            &None,
        );
        row(
            "text_source",
            Some(self.text_source.as_str().into()),
            1.0,
            &None,
        );
        row("pages", Some(self.pages.to_string()), 1.0, &None);
        for doubt in self.marking_doubts() {
            out.push_str(&format!("marking_doubt      {}\n", doubt.describe()));
        }
        for w in &self.warnings {
            out.push_str(&format!("warning            {}: {}\n", w.code, w.message));
        }
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error("gói edXML không đọc được ({0})")]
    Edxml(String),
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Lines of text per page, normalised, ready for the parser.
fn source_lines(pdf: &pdf::PdfText) -> Vec<SourceLine> {
    let mut lines = Vec::new();
    for page in &pdf.pages {
        for (i, line) in page.lines.iter().enumerate() {
            let text = tidy_line(&normalize(&line.text));
            if text.is_empty() {
                continue;
            }
            lines.push(SourceLine {
                text,
                page: page.number,
                block_start: line.block_start || i == 0,
            });
        }
    }
    lines
}

/// Annotation, form-field and rotated text of every page, for the marking detector.
fn stamp_lines(pdf: &pdf::PdfText) -> Vec<markings::Line> {
    let mut out = Vec::new();
    for page in &pdf.pages {
        for stamp in &page.stamps {
            let origin = match stamp.kind {
                pdf::StampKind::Annotation => Origin::Annotation,
                pdf::StampKind::FormField => Origin::FormField,
                pdf::StampKind::Rotated => Origin::Rotated,
            };
            for (i, line) in stamp.text.lines().enumerate() {
                let text = tidy_line(&normalize(line));
                if !text.is_empty() {
                    out.push(markings::Line {
                        text,
                        page: page.number,
                        block_start: i == 0,
                        origin,
                    });
                }
            }
        }
    }
    out
}

/// Extracts text and metadata from a PDF's bytes, and verifies its signatures, within the
/// process's extraction budget ([`pdf::Budget::global`]).
pub fn extract_pdf(bytes: &[u8], types: &DocTypeTable) -> Result<Extraction, ExtractError> {
    extract_pdf_within(bytes, types, pdf::Budget::global())
}

/// [`extract_pdf`] within `budget`. A file past its budget is not an error: it yields an
/// extraction without text (`text_source` none) and a [`BUDGET_EXCEEDED`] warning, so that
/// the file is kept for a clerk with the reason and the batch goes on.
pub fn extract_pdf_within(
    bytes: &[u8],
    types: &DocTypeTable,
    budget: pdf::Budget,
) -> Result<Extraction, ExtractError> {
    let meter = pdf::Meter::start(budget);
    let doc = pdf::load(bytes)?;
    let pdf = match pdf::extract_text_of(&doc, &meter) {
        Ok(pdf) => pdf,
        Err(PdfError::Budget(exceeded)) => {
            // The signature check streams over the file's bytes (bounded by its size).
            let signatures =
                crate::signature::verify(bytes, Some(&doc), crate::signature::trust::global());
            return Ok(Extraction {
                sha256: sha256_hex(bytes),
                size: bytes.len() as u64,
                media_type: "application/pdf",
                pages: u32::try_from(doc.get_pages().len()).unwrap_or(u32::MAX),
                text: String::new(),
                text_source: TextSource::None,
                metadata: Metadata::default(),
                warnings: vec![budget_warning(&exceeded)],
                producer: pdf::producer(&doc),
                signatures,
            });
        }
        Err(e) => return Err(e.into()),
    };
    let signatures = crate::signature::verify(bytes, Some(&doc), crate::signature::trust::global());
    drop(doc);
    let lines = source_lines(&pdf);
    let mut metadata = decree30::parse(&lines, types);
    let stamp_findings = markings::detect(&stamp_lines(&pdf));
    decree30::apply_markings(&mut metadata, stamp_findings);

    let mut warnings = Vec::new();
    let total_chars: usize = pdf.pages.iter().map(|p| p.char_count).sum();
    // A page without text but with an image is a scanned page; a blank page is just blank.
    let empty_pages: Vec<u32> = pdf
        .pages
        .iter()
        .filter(|p| p.char_count < 20 && p.has_images)
        .map(|p| p.number)
        .collect();
    let body_text: String = lines
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let stamp_free_chars = metadata_free_chars(&lines);
    let body_ratio = diacritic_ratio(&body_text);
    let poor_layer = total_chars > 200 && body_ratio < 0.1;
    let mostly_scanned = empty_pages.len() * 2 >= pdf.pages.len() && pdf.pages.len() > 1;
    let text_source = if stamp_free_chars < 40 || poor_layer || mostly_scanned {
        warnings.push(Warning {
            code: "needs_ocr",
            message: "Tệp không có lớp văn bản (bản quét): cần nhận dạng ký tự (OCR)".into(),
        });
        TextSource::None
    } else {
        if !empty_pages.is_empty() {
            warnings.push(Warning {
                code: "pages_need_ocr",
                message: format!(
                    "Các trang không có lớp văn bản, cần OCR: {}",
                    join_numbers(&empty_pages)
                ),
            });
        }
        TextSource::TextLayer
    };
    if poor_layer {
        warnings.push(Warning {
            code: "poor_text_layer",
            message:
                "Lớp văn bản có sẵn mất dấu tiếng Việt (OCR cũ hoặc phông chữ cũ): cần OCR lại"
                    .into(),
        });
    }
    if text_source == TextSource::None {
        // Metadata read from a stamp or a garbled OCR layer would be a guess: leave it
        // blank. Markings stay: a scan stamped MẬT is secret before any OCR.
        metadata = Metadata {
            secrecy: metadata.secrecy,
            internal_circulation: metadata.internal_circulation,
            markings: metadata.markings,
            ..Metadata::default()
        };
    }
    let legacy: Vec<String> = pdf
        .pages
        .iter()
        .flat_map(|p| p.legacy_fonts.iter().map(|(name, _)| name.clone()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !legacy.is_empty() {
        // Converted, but a clerk should glance at the diacritics: font vendors varied.
        warnings.push(Warning {
            code: "legacy_font_converted",
            message: format!(
                "Văn bản dùng phông chữ cũ (TCVN3/VNI): {}; đã chuyển sang Unicode, cần kiểm tra lại dấu",
                legacy.join(", ")
            ),
        });
    }
    for page in &pdf.pages {
        if let Some(e) = &page.error {
            warnings.push(Warning {
                code: "page_unreadable",
                message: format!("Trang {}: {e}", page.number),
            });
        }
    }
    if text_source == TextSource::TextLayer {
        for (field, missing) in [
            ("số ký hiệu", metadata.symbol.evidence.is_none()),
            ("ngày ban hành", metadata.issued_date.evidence.is_none()),
            ("cơ quan ban hành", metadata.issuer.value.is_none()),
            (
                "trích yếu",
                metadata.abstract_text.value.is_none()
                    && metadata.doc_type.value.as_deref() != Some("Giấy giới thiệu"),
            ),
        ] {
            if missing {
                warnings.push(Warning {
                    code: "field_not_found",
                    message: format!("Không tìm thấy {field}"),
                });
            }
        }
    }
    warnings.extend(metadata.warnings.iter().cloned());

    let text = pages_text(&pdf);
    Ok(Extraction {
        sha256: sha256_hex(bytes),
        size: bytes.len() as u64,
        media_type: "application/pdf",
        pages: pdf.pages.len() as u32,
        text,
        text_source,
        metadata,
        warnings,
        producer: pdf.producer,
        signatures,
    })
}

/// The warning (and publication blocker) of an extraction stopped by its budget.
pub fn budget_warning(exceeded: &pdf::BudgetExceeded) -> Warning {
    Warning {
        code: BUDGET_EXCEEDED,
        message: format!("{BUDGET_REASON} ({exceeded}): văn thư kiểm tra"),
    }
}

/// Characters of text that are not a signature stamp (a scan carries only the stamp).
fn metadata_free_chars(lines: &[SourceLine]) -> usize {
    lines
        .iter()
        .filter(|l| !is_signature_stamp(&l.text))
        .map(|l| l.text.chars().filter(|c| !c.is_whitespace()).count())
        .sum()
}

fn pages_text(pdf: &pdf::PdfText) -> String {
    let mut out = String::new();
    for (i, page) in pdf.pages.iter().enumerate() {
        if i > 0 {
            out.push('\u{000C}');
        }
        let page_text = normalize(&page.text());
        for line in page_text.lines() {
            if is_signature_stamp(line) {
                continue;
            }
            out.push_str(&tidy_line(line));
            out.push('\n');
        }
    }
    out
}

fn join_numbers(numbers: &[u32]) -> String {
    numbers
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
