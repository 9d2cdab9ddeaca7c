//! edXML packages into the domain: the header's fields win over what text extraction reads
//! from the attached PDF; where both exist and disagree, the disagreement is a warning a
//! clerk can check. The connector (`connectors/edxml`) knows nothing of this mapping.

use chrono::Datelike;

use crate::decree30::{Evidence, Field, Metadata, Warning, canonical_symbol, strip_vv};
use crate::doctypes::DocTypeTable;
use crate::extract::{self, ExtractError, Extraction, TextSource, sha256_hex};
use crate::markings;
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

/// An edXML package read into the domain: the parsed package (its attachment payloads
/// taken out), the extraction (whose `sha256`, `size` and `media_type` describe the
/// document's file: the attachment, or the package itself when it carries none), the
/// document's file and the package's other files.
pub struct ImportedPackage {
    pub package: edxml::Package,
    pub extraction: Extraction,
    pub file: Option<AttachedFile>,
    /// Appendices, drafts and other files the package carries beside the document, in
    /// package order.
    pub attachments: Vec<ExtraFile>,
    /// Why an attached file must keep the record from publication (a marking or personal
    /// data found in a PDF appendix), in Vietnamese.
    pub concerns: Vec<String>,
}

/// The document's file as attached to the package: the signed original.
pub struct AttachedFile {
    pub bytes: Vec<u8>,
    pub name: Option<String>,
    pub media_type: String,
}

/// A further file of the record (appendix, draft…).
pub struct ExtraFile {
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub name: String,
    pub media_type: String,
    pub role: AttachmentRole,
}

pub use crate::store::AttachmentRole;

/// The role a further file plays: by its name and description first ("phụ lục", "dự
/// thảo"), then by the kind of file (Word/ODF text: the editable version; spreadsheets
/// and further PDFs: appendices).
pub fn attachment_role(name: &str, description: Option<&str>, media_type: &str) -> AttachmentRole {
    let words = fold(&format!("{name} {}", description.unwrap_or(""))).to_lowercase();
    let words = words.replace(['_', '-', '.'], " ");
    if words.contains("phu luc") || words.split_whitespace().any(|w| w == "pl") {
        return AttachmentRole::Appendix;
    }
    if words.contains("du thao") {
        return AttachmentRole::Draft;
    }
    match media_type {
        "application/msword"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.oasis.opendocument.text"
        | "application/rtf" => AttachmentRole::Draft,
        "application/pdf"
        | "application/vnd.ms-excel"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.oasis.opendocument.spreadsheet" => AttachmentRole::Appendix,
        _ => AttachmentRole::Other,
    }
}

/// What `vanban extract` says about a package's further files.
pub fn attachments_json(files: &[ExtraFile]) -> serde_json::Value {
    serde_json::Value::Array(
        files
            .iter()
            .map(|f| {
                serde_json::json!({
                    "name": f.name, "media_type": f.media_type, "size": f.bytes.len(),
                    "sha256": f.sha256, "role": f.role,
                })
            })
            .collect(),
    )
}

/// Extracts an edXML package for `vanban extract`: like [`import_edxml`], with `sha256`,
/// `size` and `media_type` of the package file given (the contract's "hex of the file
/// bytes"); the further files are returned beside it.
pub fn extract_edxml(
    bytes: &[u8],
    types: &DocTypeTable,
) -> Result<(Extraction, Vec<ExtraFile>), ExtractError> {
    let imported = import_edxml(bytes, types)?;
    let mut extraction = imported.extraction;
    extraction.sha256 = sha256_hex(bytes);
    extraction.size = bytes.len() as u64;
    extraction.media_type = "application/xml";
    Ok((extraction, imported.attachments))
}

/// Whether a PDF carries a signature dictionary (a `/ByteRange`): cheap enough to look at
/// every attached PDF before choosing the document; the chosen one is verified in full.
fn has_signature_dictionary(pdf: &[u8]) -> bool {
    pdf.windows(10).any(|w| w == b"/ByteRange")
}

/// Secrecy and circulation markings written in the package header's free-text fields
/// (`OtherInfo` and `DocumentType/TypeDetail`), graded by [`markings::label_finding`]:
/// a certain marking makes the record classified or internal, a marking-like value holds
/// it for a clerk.
pub fn header_markings(h: &edxml::MessageHeader) -> Vec<markings::Finding> {
    [
        // Some producers write words instead of the urgency code, a secrecy level among them.
        ("OtherInfo/Priority", &h.other_info.priority),
        (
            "OtherInfo/SphereOfPromulgation",
            &h.other_info.sphere_of_promulgation,
        ),
        ("OtherInfo/Direction", &h.other_info.direction),
        ("DocumentType/TypeDetail", &h.type_detail),
    ]
    .into_iter()
    .filter_map(|(field, value)| markings::label_finding(field, value.as_deref()?))
    .collect()
}

/// Why a PDF's text could not be checked although the file was read.
const UNREADABLE_PDF: &str = "bản quét hoặc vượt giới hạn trích xuất";

/// The concern for a file served with the record whose text cannot be read to check it.
fn unreadable_concern(what: &str, why: &str) -> String {
    format!("{what} không đọc được nội dung để kiểm tra dấu mật, thông tin cá nhân ({why})")
}

/// Why a file served with the record (`what`: "Tệp kèm theo \"…\"" or the document's own
/// file) needs a clerk's look first: a secrecy or
/// circulation marking (certain or doubtful), personal data, or text that could not be
/// read to check for them (a scan, a damaged or unknown file): when in doubt about
/// secrecy, hold. Empty when the file was read and is clean.
fn further_file_concerns(
    what: &str,
    media_type: &str,
    bytes: &[u8],
    types: &DocTypeTable,
) -> Vec<String> {
    let unreadable = |why: &str| vec![unreadable_concern(what, why)];
    let (text, findings) = if media_type == "application/pdf" {
        match extract::extract_pdf(bytes, types) {
            Ok(x) if x.needs_ocr() || x.budget_exceeded().is_some() => {
                return unreadable(UNREADABLE_PDF);
            }
            Ok(x) => (x.text, x.metadata.markings),
            Err(e) => return unreadable(&e.to_string()),
        }
    } else if let Some(kind) = crate::office_text::OfficeKind::of(media_type, bytes) {
        match crate::office_text::text_of(kind, bytes) {
            Ok(text) => {
                let text = normalize(&text);
                let lines: Vec<markings::Line> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .enumerate()
                    .map(|(i, l)| markings::Line::content(l, 1, i == 0))
                    .collect();
                let findings = markings::detect(&lines);
                (text, findings)
            }
            Err(why) => return unreadable(&why),
        }
    } else if media_type.starts_with("image/") {
        return unreadable("ảnh chụp");
    } else {
        return unreadable(&format!("định dạng {media_type}"));
    };
    let mut concerns = Vec::new();
    for finding in findings.iter().take(3) {
        concerns.push(match finding.grade {
            markings::Grade::Certain(marking) => {
                format!("{what} mang dấu {}", marking.label())
            }
            markings::Grade::Uncertain => format!(
                "{what} nghi có dấu chỉ độ mật / lưu hành nội bộ: {}",
                finding.describe()
            ),
        });
    }
    let personal = crate::policy::personal_data(&text);
    if !personal.is_empty() {
        concerns.push(format!(
            "{what} có thông tin cá nhân ({})",
            personal.join(", ")
        ));
    }
    concerns
}

/// Reads an edXML package: header metadata, and text (and any missing fields) from the
/// attached document when it is a PDF with a text layer.
///
/// A package may carry several attachments, each a file or a ZIP of several. The
/// document is chosen as: the first PDF carrying a signature (in package order), else
/// the first PDF, else the first file of the manifest's first reference, else the first
/// file. Every other file is kept as a further file of the record ([`ExtraFile`]); a PDF
/// among them is read too, and a marking or personal data in it holds the record for
/// review ([`ImportedPackage::concerns`]).
pub fn import_edxml(bytes: &[u8], types: &DocTypeTable) -> Result<ImportedPackage, ExtractError> {
    let mut package = edxml::parse(bytes).map_err(|e| ExtractError::Edxml(e.to_string()))?;
    let mut warnings: Vec<Warning> = package
        .warnings
        .iter()
        .map(|w| Warning {
            code: "edxml_package",
            message: format!("Gói edXML: {w}"),
        })
        .collect();

    // Every file of every attachment, its payload moved out of the package.
    let first_referenced = package
        .manifest
        .iter()
        .find_map(|r| {
            let wanted = r.content_id.as_deref().map(edxml::bare_cid)?;
            package
                .attachments
                .iter()
                .position(|a| a.bare_content_id().as_deref() == Some(wanted.as_str()))
        })
        .unwrap_or(0);
    let limits = edxml::Limits::default();
    let mut files: Vec<(usize, edxml::DecodedFile)> = Vec::new();
    for (index, a) in package.attachments.iter_mut().enumerate() {
        match edxml::take_files(a, &limits) {
            Ok(decoded) => files.extend(decoded.into_iter().map(|f| (index, f))),
            Err(e) => warnings.push(Warning {
                code: "edxml_attachment",
                message: format!("Tệp đính kèm không giải mã được: {e}"),
            }),
        }
    }
    let chosen = files
        .iter()
        .position(|(_, f)| f.media_type == "application/pdf" && has_signature_dictionary(&f.bytes))
        .or_else(|| {
            files
                .iter()
                .position(|(_, f)| f.media_type == "application/pdf")
        })
        .or_else(|| files.iter().position(|(i, _)| *i == first_referenced))
        .or(if files.is_empty() { None } else { Some(0) });
    let main = chosen.map(|i| files.remove(i));
    let mut base: Option<Extraction> = None;
    let mut file: Option<AttachedFile> = None;
    let mut concerns = Vec::new();
    match main {
        Some((_, f)) => {
            let media_type = f.media_type.to_string();
            // The document's own file is served as the record's file: when its text cannot
            // be read (a scan, a damaged PDF, an office file) the header alone cannot say
            // it carries no marking, so it is checked like a further file (or held).
            let what = format!(
                "Tệp văn bản \"{}\"",
                f.name
                    .as_deref()
                    .or(f.entry.as_deref())
                    .unwrap_or("đính kèm")
            );
            if media_type == "application/pdf" {
                match extract::extract_pdf(&f.bytes, types) {
                    Ok(x) => {
                        // Read already: a scan or a file past the budget cannot be checked.
                        if x.needs_ocr() || x.budget_exceeded().is_some() {
                            concerns.push(unreadable_concern(&what, UNREADABLE_PDF));
                        }
                        base = Some(x);
                    }
                    Err(e) => {
                        warnings.push(Warning {
                            code: "edxml_attachment",
                            message: format!("Tệp đính kèm không đọc được: {e}"),
                        });
                        concerns.push(unreadable_concern(&what, &e.to_string()));
                    }
                }
            } else {
                concerns.extend(further_file_concerns(&what, &media_type, &f.bytes, types));
                warnings.push(Warning {
                    code: "edxml_attachment",
                    message: format!(
                        "Tệp đính kèm không phải PDF ({media_type}): chỉ dùng thông tin trong gói"
                    ),
                });
            }
            file = Some(AttachedFile {
                bytes: f.bytes,
                name: f.name.or(f.entry),
                media_type,
            });
        }
        None if package.attachments.is_empty() => warnings.push(Warning {
            code: "edxml_no_attachment",
            message: "Gói edXML không có tệp văn bản đính kèm".into(),
        }),
        None => {}
    }
    let mut attachments = Vec::with_capacity(files.len());
    for (position, (index, f)) in files.into_iter().enumerate() {
        let description = package.attachments[index].description.clone();
        let name = f
            .name
            .or(f.entry)
            .map(|n| normalize(n.trim()))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("tep-dinh-kem-{}", position + 1));
        concerns.extend(further_file_concerns(
            &format!("Tệp kèm theo \"{name}\""),
            f.media_type,
            &f.bytes,
            types,
        ));
        let role = attachment_role(&name, description.as_deref(), f.media_type);
        attachments.push(ExtraFile {
            sha256: sha256_hex(&f.bytes),
            bytes: f.bytes,
            name,
            media_type: f.media_type.to_string(),
            role,
        });
    }
    if !attachments.is_empty() {
        warnings.push(Warning {
            code: "edxml_more_attachments",
            message: format!(
                "Gói có {} tệp kèm theo văn bản (phụ lục, bản soạn thảo…): được lưu cùng văn bản",
                attachments.len()
            ),
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
    if let Some(urgency) = h.other_info.urgency() {
        match urgency.marking() {
            Some(mark) => take(
                &mut metadata.urgency,
                Some(mark.to_string()),
                "OtherInfo/Priority",
                "Độ khẩn",
                &mut warnings,
                |a: &String, b: &String| same_text(a, b),
            ),
            None => {
                if let Some(read) = &metadata.urgency.value {
                    warnings.push(Warning {
                        code: "edxml_disagrees",
                        message: format!(
                            "Độ khẩn: gói edXML ghi \"thường\", văn bản đính kèm ghi \"{read}\" (giữ giá trị trên văn bản)"
                        ),
                    });
                }
            }
        }
    }
    crate::decree30::apply_markings(&mut metadata, header_markings(h));
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
        attachments,
        concerns,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markings::{Grade, Marking, SecrecyLevel};

    /// Header values and the grade the package's markings get: (field, value, expected).
    #[test]
    fn header_fields_are_graded_like_any_marking() {
        let secret = |l| Some(Grade::Certain(Marking::Secret(l)));
        let internal = Some(Grade::Certain(Marking::Internal));
        let cases: &[(&str, &str, Option<Grade>)] = &[
            ("sphere", "Mật", secret(SecrecyLevel::Mat)),
            ("sphere", "TỐI MẬT", secret(SecrecyLevel::ToiMat)),
            (
                "type_detail",
                "Độ mật: Tuyệt mật",
                secret(SecrecyLevel::TuyetMat),
            ),
            ("direction", "Lưu hành nội bộ", internal),
            (
                "sphere",
                "T À I  L I Ệ U  L Ư U  H À N H  N Ộ I  B Ộ",
                internal,
            ),
            ("priority", "MAT", Some(Grade::Uncertain)),
            ("sphere", "Độ mật:", Some(Grade::Uncertain)),
            ("priority", "1", None),
            ("priority", "Hỏa tốc", None),
            ("sphere", "Toàn tỉnh", None),
            ("type_detail", "Quyết định cá biệt", None),
        ];
        for (field, value, expected) in cases {
            let mut h = edxml::MessageHeader::default();
            let slot = match *field {
                "sphere" => &mut h.other_info.sphere_of_promulgation,
                "direction" => &mut h.other_info.direction,
                "priority" => &mut h.other_info.priority,
                _ => &mut h.type_detail,
            };
            *slot = Some(value.to_string());
            let findings = header_markings(&h);
            let got = findings.first().map(|f| f.grade);
            assert_eq!(got, *expected, "{field} = {value:?}: {findings:?}");
            assert!(findings.len() <= 1, "{findings:?}");
        }
    }

    fn docx(header: &str, body: &str) -> Vec<u8> {
        use std::io::Write;
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        for (name, text) in [("word/header1.xml", header), ("word/document.xml", body)] {
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

    /// A further file is served with the record: what the rules cannot clear in it holds
    /// the record. (name, media type, bytes, a word the concern must hold or None.)
    #[test]
    fn further_files_hold_the_record_for_markings_personal_data_or_unreadable_text() {
        let docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
        let types = crate::doctypes::DocTypeTable::builtin();
        let cases: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
            (
                docx_type,
                docx("M Ậ T", "Phụ lục kèm theo"),
                Some("mang dấu MẬT"),
            ),
            (
                docx_type,
                docx("", "TÀI LIỆU LƯU HÀNH NỘI BỘ"),
                Some("LƯU HÀNH NỘI BỘ"),
            ),
            (
                docx_type,
                docx("", "Ông A, sinh ngày 12/03/1980, thường trú tại xã B"),
                Some("thông tin cá nhân"),
            ),
            (
                docx_type,
                docx(
                    "",
                    "Thực hiện Luật Bảo vệ bí mật nhà nước, UBND xã lập kế hoạch.",
                ),
                None,
            ),
            (docx_type, docx("", "Bảng tổng hợp kinh phí"), None),
            (
                docx_type,
                b"PK\x03\x04 not a zip".to_vec(),
                Some("không đọc được"),
            ),
            (
                "application/msword",
                b"\xD0\xCF\x11\xE0 8-bit TCVN3 text only".to_vec(),
                Some("không đọc được"),
            ),
            (
                "image/jpeg",
                b"\xFF\xD8\xFF".to_vec(),
                Some("không đọc được"),
            ),
            (
                "application/octet-stream",
                b"???".to_vec(),
                Some("không đọc được"),
            ),
        ];
        for (media_type, bytes, expected) in cases {
            let concerns =
                further_file_concerns("Tệp kèm theo \"Phu luc.docx\"", media_type, &bytes, types);
            match expected {
                Some(word) => assert!(
                    concerns.iter().any(|c| c.contains(word)),
                    "{media_type}: expected «{word}» in {concerns:?}"
                ),
                None => assert!(concerns.is_empty(), "{media_type}: {concerns:?}"),
            }
        }
    }
}
