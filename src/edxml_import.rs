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

/// An edXML package read into the domain: the parsed package, the extraction (whose
/// `sha256`, `size` and `media_type` describe the document's file: the attachment, or the
/// package itself when it carries none) and the attached file's bytes.
pub struct ImportedPackage {
    pub package: edxml::Package,
    pub extraction: Extraction,
    pub file: Option<AttachedFile>,
}

/// The document's file as attached to the package: the signed original.
pub struct AttachedFile {
    pub bytes: Vec<u8>,
    pub name: Option<String>,
    pub media_type: String,
}

/// Extracts an edXML package for `vanban extract`: like [`import_edxml`], with `sha256`,
/// `size` and `media_type` of the package file given (the contract's "hex of the file
/// bytes").
pub fn extract_edxml(bytes: &[u8], types: &DocTypeTable) -> Result<Extraction, ExtractError> {
    let mut extraction = import_edxml(bytes, types)?.extraction;
    extraction.sha256 = sha256_hex(bytes);
    extraction.size = bytes.len() as u64;
    extraction.media_type = "application/xml";
    Ok(extraction)
}

/// A media type for an attachment: the declared one when specific, else by name or bytes.
fn attachment_media_type(file: &[u8], name: Option<&str>, declared: Option<&str>) -> String {
    if crate::pdf::looks_like_pdf(file) {
        return "application/pdf".into();
    }
    let lower = name.unwrap_or("").to_ascii_lowercase();
    let by_name = [
        (
            ".docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (".doc", "application/msword"),
        (
            ".xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (".xls", "application/vnd.ms-excel"),
        (".odt", "application/vnd.oasis.opendocument.text"),
        (".jpg", "image/jpeg"),
        (".png", "image/png"),
        (".tif", "image/tiff"),
    ]
    .into_iter()
    .find(|(ext, _)| lower.ends_with(ext))
    .map(|(_, t)| t.to_string());
    match (by_name, declared) {
        (Some(t), _) => t,
        (None, Some(d)) if !d.to_ascii_lowercase().contains("zip") && d.contains('/') => {
            d.to_string()
        }
        _ => "application/octet-stream".into(),
    }
}

/// Secrecy and circulation markings carried in the header (`OtherInfo`, `TypeDetail`):
/// the values some e-office systems put there ("Mật", "Độ mật: Tối mật", "Lưu hành nội
/// bộ"). A word like "bí mật" inside a sentence is not a marking.
pub fn header_markings(h: &edxml::MessageHeader) -> (Option<String>, bool) {
    let mut secrecy: Option<String> = None;
    let mut internal = false;
    let values = [
        &h.other_info.priority,
        &h.other_info.sphere_of_promulgation,
        &h.other_info.direction,
        &h.type_detail,
    ];
    for value in values.into_iter().flatten() {
        let folded = fold(value).to_lowercase();
        let bare = folded
            .trim()
            .trim_start_matches("do mat")
            .trim_start_matches(':')
            .trim();
        let level = match bare {
            "tuyet mat" => Some("TUYỆT MẬT"),
            "toi mat" => Some("TỐI MẬT"),
            "mat" => Some("MẬT"),
            _ => None,
        };
        if let Some(level) = level {
            // The strongest marking wins.
            let rank = |s: &str| ["MẬT", "TỐI MẬT", "TUYỆT MẬT"].iter().position(|l| *l == s);
            if secrecy
                .as_deref()
                .is_none_or(|current| rank(level) > rank(current))
            {
                secrecy = Some(level.to_string());
            }
        }
        if folded.contains("luu hanh noi bo") || bare == "noi bo" {
            internal = true;
        }
    }
    (secrecy, internal)
}

/// Reads an edXML package: header metadata, and text (and any missing fields) from the
/// attached document when it is a PDF with a text layer.
pub fn import_edxml(bytes: &[u8], types: &DocTypeTable) -> Result<ImportedPackage, ExtractError> {
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
    if package.attachments.len() > 1 {
        warnings.push(Warning {
            code: "edxml_more_attachments",
            message: format!(
                "Gói có {} tệp đính kèm: tệp văn bản được lưu riêng, các tệp khác (phụ lục) nằm trong gói gốc đã lưu",
                package.attachments.len()
            ),
        });
    }
    let mut base: Option<Extraction> = None;
    let mut file: Option<AttachedFile> = None;
    if let Some(a) = attachment {
        match edxml::decode_attachment(a, &edxml::Limits::default()) {
            Ok((bytes, entry_name)) => {
                let name = entry_name.or_else(|| a.attachment_name.clone());
                let media_type =
                    attachment_media_type(&bytes, name.as_deref(), a.content_type.as_deref());
                if media_type == "application/pdf" {
                    match extract::extract_pdf(&bytes, types) {
                        Ok(x) => base = Some(x),
                        Err(e) => warnings.push(Warning {
                            code: "edxml_attachment",
                            message: format!("Tệp đính kèm không đọc được: {e}"),
                        }),
                    }
                } else {
                    warnings.push(Warning {
                        code: "edxml_attachment",
                        message: format!(
                            "Tệp đính kèm không phải PDF ({media_type}): chỉ dùng thông tin trong gói"
                        ),
                    });
                }
                file = Some(AttachedFile {
                    bytes,
                    name,
                    media_type,
                });
            }
            Err(e) => warnings.push(Warning {
                code: "edxml_attachment",
                message: format!("Tệp đính kèm không giải mã được: {e}"),
            }),
        }
    } else {
        warnings.push(Warning {
            code: "edxml_no_attachment",
            message: "Gói edXML không có tệp văn bản đính kèm".into(),
        });
    }
    let (text, pages, mut metadata, producer, signatures) = match base {
        Some(x) => {
            warnings.extend(
                x.warnings
                    .into_iter()
                    .filter(|w| w.code != "field_not_found"),
            );
            (x.text, x.pages, x.metadata, x.producer, x.signatures)
        }
        None => (
            String::new(),
            0,
            Metadata::default(),
            None,
            Default::default(),
        ),
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
    let (secrecy, internal) = header_markings(h);
    if let Some(level) = secrecy
        && metadata.secrecy.value.is_none()
    {
        metadata.secrecy = Field::found(level.clone(), 0.99, header_evidence("OtherInfo", &level));
    }
    if internal && metadata.internal_circulation.value != Some(true) {
        metadata.internal_circulation =
            Field::found(true, 0.99, header_evidence("OtherInfo", "Lưu hành nội bộ"));
    }
    let (sha256, size, media_type) = match &file {
        Some(f) => (
            sha256_hex(&f.bytes),
            f.bytes.len() as u64,
            media_type_static(&f.media_type),
        ),
        None => (sha256_hex(bytes), bytes.len() as u64, "application/xml"),
    };
    Ok(ImportedPackage {
        extraction: Extraction {
            sha256,
            size,
            media_type,
            pages,
            text,
            text_source: TextSource::Edxml,
            metadata,
            warnings,
            producer,
            signatures,
        },
        package,
        file,
    })
}

/// `Extraction::media_type` is a static string: the known types, or a generic one.
fn media_type_static(media_type: &str) -> &'static str {
    [
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel",
        "application/vnd.oasis.opendocument.text",
        "image/jpeg",
        "image/png",
        "image/tiff",
        "application/xml",
    ]
    .into_iter()
    .find(|t| *t == media_type)
    .unwrap_or("application/octet-stream")
}
