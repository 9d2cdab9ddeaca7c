//! edXML packages into the domain: the header's fields win over what text extraction reads
//! from the attached PDF; where both exist and disagree, the disagreement is a warning a
//! clerk can check. The connector (`connectors/edxml`) knows nothing of this mapping.

use chrono::Datelike;

use crate::decree30::{Evidence, Field, Metadata, Warning, canonical_symbol, strip_vv};
use crate::doctypes::DocTypeTable;
use crate::extract::{self, ExtractError, Extraction, TextSource, sha256_hex};
use crate::text::{fold, normalize, sentence_case};

/// Does this look like an edXML package (rather than a PDF)?
pub fn looks_like_edxml(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    !crate::pdf::looks_like_pdf(bytes) && head.windows(5).any(|w| w == b"edXML")
}

fn header_evidence(element: &str, value: &str) -> Evidence {
    Evidence {
        page: 0,
        line: 0,
        text: format!("edXML {element}: {value}"),
    }
}

/// Sets `field` from the header, recording a warning when the text said otherwise.
fn take<T: PartialEq + std::fmt::Display + Clone>(
    field: &mut Field<T>,
    value: Option<T>,
    element: &str,
    label: &str,
    warnings: &mut Vec<Warning>,
    same: impl Fn(&T, &T) -> bool,
) {
    let Some(value) = value else { return };
    if let Some(read) = &field.value
        && !same(read, &value)
    {
        warnings.push(Warning {
            code: "edxml_disagrees",
            message: format!(
                "{label}: gói edXML ghi \"{value}\", văn bản đính kèm ghi \"{read}\" (dùng giá trị edXML)"
            ),
        });
    }
    *field = Field::found(
        value.clone(),
        0.99,
        header_evidence(element, &value.to_string()),
    );
}

fn same_text(a: &str, b: &str) -> bool {
    fold(a).split_whitespace().eq(fold(b).split_whitespace())
}

/// The signing marker at the start of `Competence` ("TM. Ủy ban nhân dân" → "TM.").
fn authority_marker(competence: &str) -> Option<String> {
    let first = competence.split_whitespace().next()?.to_uppercase();
    ["TM.", "KT.", "TL.", "TUQ.", "Q."]
        .contains(&first.as_str())
        .then_some(first)
}

/// Extracts an edXML package: header metadata, and text (and any missing fields) from the
/// attached document when it is a PDF with a text layer.
pub fn extract_edxml(bytes: &[u8], types: &DocTypeTable) -> Result<Extraction, ExtractError> {
    let package = edxml::parse(bytes).map_err(|e| ExtractError::Edxml(e.to_string()))?;
    let mut warnings: Vec<Warning> = package
        .warnings
        .iter()
        .map(|w| Warning {
            code: "edxml_package",
            message: format!("Gói edXML: {w}"),
        })
        .collect();

    // The document is the first manifest reference's attachment, else the first attachment.
    let attachment = package
        .manifest
        .iter()
        .find_map(|r| package.attachment_for(r))
        .or_else(|| package.attachments.first());
    let mut base: Option<Extraction> = None;
    if let Some(a) = attachment {
        match edxml::decode_attachment(a, &edxml::Limits::default()) {
            Ok((file, _)) if crate::pdf::looks_like_pdf(&file) => {
                match extract::extract_pdf(&file, types) {
                    Ok(x) => base = Some(x),
                    Err(e) => warnings.push(Warning {
                        code: "edxml_attachment",
                        message: format!("Tệp đính kèm không đọc được: {e}"),
                    }),
                }
            }
            Ok(_) => warnings.push(Warning {
                code: "edxml_attachment",
                message: "Tệp đính kèm không phải PDF: chỉ dùng thông tin trong gói".into(),
            }),
            Err(e) => warnings.push(Warning {
                code: "edxml_attachment",
                message: format!("Tệp đính kèm không giải mã được: {e}"),
            }),
        }
    }
    let (text, pages, mut metadata, producer) = match base {
        Some(x) => {
            warnings.extend(
                x.warnings
                    .into_iter()
                    .filter(|w| w.code != "field_not_found"),
            );
            (x.text, x.pages, x.metadata, x.producer)
        }
        None => (String::new(), 0, Metadata::default(), None),
    };

    let h = &package.header;
    let clean = |s: &Option<String>| {
        s.as_deref()
            .map(|v| normalize(v.trim()))
            .filter(|v| !v.is_empty())
    };
    let doc_type = clean(&h.type_name)
        .and_then(|t| {
            types
                .by_name(&sentence_case(&t))
                .or_else(|| types.by_title(&t))
        })
        .map(|t| t.name.clone());
    take(
        &mut metadata.doc_type,
        doc_type,
        "TypeName",
        "Loại văn bản",
        &mut warnings,
        |a: &String, b: &String| same_text(a, b),
    );
    take(
        &mut metadata.number,
        clean(&h.code_number),
        "CodeNumber",
        "Số",
        &mut warnings,
        |a: &String, b: &String| same_text(a, b),
    );
    let symbol = clean(&h.code_notation).map(|s| canonical_symbol(&s.replace(' ', ""), types).0);
    take(
        &mut metadata.symbol,
        symbol,
        "CodeNotation",
        "Ký hiệu",
        &mut warnings,
        |a: &String, b: &String| same_text(a, b),
    );
    let issuer = h.from.as_ref().and_then(|o| clean(&o.organ_name)).map(|n| {
        if crate::text::is_upper(&n) {
            crate::decree30::organ_case(&n)
        } else {
            n
        }
    });
    take(
        &mut metadata.issuer,
        issuer,
        "From/OrganName",
        "Cơ quan ban hành",
        &mut warnings,
        |a: &String, b: &String| same_text(a, b),
    );
    take(
        &mut metadata.place,
        clean(&h.place),
        "PromulgationInfo/Place",
        "Địa danh",
        &mut warnings,
        |a: &String, b: &String| same_text(a, b),
    );
    if let Some(date) = &h.promulgation_date {
        match date.date() {
            Some(d) => {
                take(
                    &mut metadata.issued_date,
                    Some(d),
                    "PromulgationDate",
                    "Ngày ban hành",
                    &mut warnings,
                    |a, b| a == b,
                );
                metadata.issued_year = Field::found(
                    d.year(),
                    0.99,
                    header_evidence("PromulgationDate", &date.raw),
                );
            }
            None if !date.raw.trim().is_empty() => warnings.push(Warning {
                code: "impossible_date",
                message: format!(
                    "Ngày ban hành trong gói edXML không hợp lệ: \"{}\"",
                    date.raw
                ),
            }),
            None => {}
        }
    }
    let subject = clean(&h.subject).map(|s| strip_vv(&s));
    take(
        &mut metadata.abstract_text,
        subject,
        "Subject",
        "Trích yếu",
        &mut warnings,
        |a: &String, b: &String| same_text(a, b),
    );
    take(
        &mut metadata.signer_name,
        clean(&h.signer_full_name),
        "SignerInfo/FullName",
        "Người ký",
        &mut warnings,
        |a: &String, b: &String| same_text(a, b),
    );
    let position = clean(&h.signer_position).map(|p| sentence_case(&p));
    take(
        &mut metadata.signer_title,
        position,
        "SignerInfo/Position",
        "Chức vụ người ký",
        &mut warnings,
        |a: &String, b: &String| same_text(a, b),
    );
    let marker = clean(&h.signer_competence).and_then(|c| authority_marker(&c));
    take(
        &mut metadata.signing_authority,
        marker,
        "SignerInfo/Competence",
        "Thẩm quyền ký",
        &mut warnings,
        |a: &String, b: &String| same_text(a, b),
    );
    if !h.to_places.is_empty() && metadata.recipients.value.is_none() {
        let places: Vec<String> = h.to_places.iter().map(|p| normalize(p.trim())).collect();
        metadata.recipients = Field::found(places, 0.99, header_evidence("ToPlaces", "…"));
    }
    Ok(Extraction {
        sha256: sha256_hex(bytes),
        size: bytes.len() as u64,
        media_type: "application/xml",
        pages,
        text,
        text_source: TextSource::Edxml,
        metadata,
        warnings,
        producer,
    })
}
