//! Publication rules: what `ingest --publish` may publish without a clerk, and why not.
//! Every decision carries its reason, which is stored in the audit trail.

use std::sync::LazyLock;

use regex::Regex;

use crate::config::PublicationSettings;
use crate::extract::Extraction;
use crate::store::Status;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub status: Status,
    pub reason: String,
}

/// 12-digit citizen identity numbers (CCCD) written in a document about a person.
static CITIZEN_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^\d.,])(\d{12})(?:$|[^\d])").unwrap());
/// "sinh ngày 12/03/1980", "ngày sinh: 12/3/1980".
static BIRTH_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:sinh ngày|ngày sinh|năm sinh)\s*:?\s*\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{4}",
    )
    .unwrap()
});

/// Decides the status of a freshly extracted document. `publish` is the operator's request.
pub fn decide(extraction: &Extraction, settings: &PublicationSettings, publish: bool) -> Decision {
    let m = &extraction.metadata;
    let review = |reason: String| Decision {
        status: Status::NeedsReview,
        reason,
    };
    if let Some(secrecy) = &m.secrecy.value {
        return review(format!("Văn bản mật ({secrecy}): không bao giờ công khai"));
    }
    if extraction.internal_only() {
        return review("Văn bản lưu hành nội bộ: không công khai".into());
    }
    if extraction.needs_ocr() {
        return review("Bản quét chưa có văn bản: cần OCR và văn thư kiểm tra".into());
    }
    let missing: Vec<&str> = [
        ("hình thức văn bản", m.doc_type.value.is_none()),
        ("số ký hiệu", m.number_symbol().is_none()),
        ("cơ quan ban hành", m.issuer.value.is_none()),
        ("ngày ban hành", m.issued_date.value.is_none()),
        ("trích yếu", m.abstract_text.value.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, absent)| absent.then_some(name))
    .collect();
    if !missing.is_empty() {
        return review(format!("Thiếu thông tin bắt buộc: {}", missing.join(", ")));
    }
    if CITIZEN_ID.is_match(&extraction.text) || BIRTH_DATE.is_match(&extraction.text) {
        return review(
            "Có thông tin cá nhân của công dân (số định danh, ngày sinh): cần văn thư xem xét"
                .into(),
        );
    }
    let doc_type = m.doc_type.value.as_deref().unwrap_or_default();
    if !settings.public_types.iter().any(|t| t == doc_type) {
        return review(format!(
            "Loại văn bản \"{doc_type}\" không nằm trong danh sách được công khai tự động"
        ));
    }
    if publish {
        Decision {
            status: Status::Published,
            reason: "Đủ điều kiện công khai theo quy tắc xuất bản".into(),
        }
    } else {
        Decision {
            status: Status::Draft,
            reason: "Đủ điều kiện; chờ lệnh công khai".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citizen_id_pattern() {
        assert!(CITIZEN_ID.is_match("Số CCCD: 001089012345, cấp ngày"));
        assert!(!CITIZEN_ID.is_match("tổng kinh phí 1.234.567.890.123 đồng"));
        assert!(BIRTH_DATE.is_match("Ông Nguyễn Văn A, sinh ngày 12/03/1980"));
    }
}
