//! Publication rules: what may be published without a clerk, and why not. Every decision
//! carries its reasons (all of them, not just the first), which the audit trail keeps.
//!
//! Architecture invariant: a document marked secret (MẬT, TỐI MẬT, TUYỆT MẬT) or for
//! internal circulation is never given `published` here, whatever the caller asks.

use std::sync::LazyLock;

use regex::Regex;

use crate::config::PublicationSettings;
use crate::extract::Extraction;
use crate::store::Status;

/// Marking doubts spelled out in a decision's reason (the rest are counted).
const MAX_DOUBTS_IN_REASON: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub status: Status,
    pub reason: String,
}

/// What the caller asks for a document that passes every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Publish it (an operator's `--publish`, or a trusted sync source).
    Publish,
    /// Keep it as a draft until someone publishes it.
    Hold,
    /// A clerk must look first, for this reason (an untrusted source, say).
    Review(String),
}

/// 12-digit citizen identity numbers (CCCD) written in a document about a person.
static CITIZEN_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^\d.,])(\d{12})(?:$|[^\d])").unwrap());
/// An identity document number after its label: "CMND số 123456789", "CCCD: 0010…".
static LABELLED_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:CMND|CCCD|căn cước|chứng minh nhân dân|hộ chiếu)[^\d\n]{0,24}\d{8,12}")
        .unwrap()
});
/// "sinh ngày 12/03/1980", "ngày sinh: 12/3/1980", "sinh năm 1980".
static BIRTH_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:(?:sinh ngày|ngày sinh|năm sinh)\s*:?\s*\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{4}|(?:sinh năm|năm sinh)\s*:?\s*(?:19|20)\d{2})",
    )
    .unwrap()
});
/// A person's home address: "thường trú tại", "nơi cư trú:".
static RESIDENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:thường trú|tạm trú|nơi cư trú|nơi ở hiện nay)\s*(?:tại|:)").unwrap()
});

/// Which personal-data patterns about a citizen the text holds (names for the reason).
pub fn personal_data(text: &str) -> Vec<&'static str> {
    [
        ("số định danh cá nhân", CITIZEN_ID.is_match(text)),
        ("số giấy tờ tùy thân", LABELLED_ID.is_match(text)),
        ("ngày, năm sinh", BIRTH_DATE.is_match(text)),
        ("nơi cư trú", RESIDENCE.is_match(text)),
    ]
    .into_iter()
    .filter_map(|(name, found)| found.then_some(name))
    .collect()
}

/// Decides the status of a freshly extracted document.
pub fn decide(
    extraction: &Extraction,
    settings: &PublicationSettings,
    request: Request,
) -> Decision {
    let m = &extraction.metadata;
    let mut blockers: Vec<String> = Vec::new();
    if let Some(secrecy) = &m.secrecy.value {
        blockers.push(format!("Văn bản mật ({secrecy}): không bao giờ công khai"));
    }
    if extraction.internal_only() {
        blockers.push("Văn bản lưu hành nội bộ: không công khai".into());
    }
    // When in doubt about secrecy, hold: every marking-like token not placed with
    // certainty is shown to the clerk with its evidence.
    let doubts = extraction.marking_doubts();
    for doubt in doubts.iter().take(MAX_DOUBTS_IN_REASON) {
        blockers.push(format!(
            "Nghi có dấu chỉ độ mật / lưu hành nội bộ chưa xác định: {}",
            doubt.describe()
        ));
    }
    if doubts.len() > MAX_DOUBTS_IN_REASON {
        blockers.push(format!(
            "và {} chỗ khác nghi là dấu chỉ độ mật / lưu hành nội bộ",
            doubts.len() - MAX_DOUBTS_IN_REASON
        ));
    }
    if let Some(budget) = extraction.budget_exceeded() {
        blockers.push(budget.message.clone());
    }
    if extraction.needs_ocr() {
        blockers.push("Bản quét chưa có văn bản: cần OCR và văn thư kiểm tra".into());
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
    if !missing.is_empty() && !extraction.needs_ocr() && extraction.budget_exceeded().is_none() {
        blockers.push(format!("Thiếu thông tin bắt buộc: {}", missing.join(", ")));
    }
    let personal = personal_data(&extraction.text);
    if !personal.is_empty() {
        blockers.push(format!(
            "Có thông tin cá nhân của công dân ({}): cần văn thư xem xét",
            personal.join(", ")
        ));
    }
    let signatures = &extraction.signatures;
    if let Some(status) = signatures.overall()
        && status.broken()
    {
        blockers.push(format!(
            "Chữ ký số không hợp lệ ({}): {}",
            status.as_str(),
            signatures.message().unwrap_or_default()
        ));
    }
    if settings.require_trusted_signature && signatures.trusted() != Some(true) {
        blockers.push(if signatures.is_signed() {
            "Chữ ký số chưa xác minh được với chứng thư gốc tin cậy đã cấu hình".into()
        } else {
            "Văn bản không có chữ ký số (cấu hình yêu cầu chữ ký số tin cậy)".into()
        });
    }
    if let Some(doc_type) = m.doc_type.value.as_deref()
        && !settings.public_types.iter().any(|t| t == doc_type)
    {
        blockers.push(format!(
            "Loại văn bản \"{doc_type}\" không nằm trong danh sách được công khai tự động"
        ));
    }
    if !blockers.is_empty() {
        return Decision {
            status: Status::NeedsReview,
            reason: blockers.join("; "),
        };
    }
    match request {
        Request::Publish => Decision {
            status: Status::Published,
            reason: "Đủ điều kiện công khai theo quy tắc xuất bản".into(),
        },
        Request::Hold => Decision {
            status: Status::Draft,
            reason: "Đủ điều kiện; chờ lệnh công khai".into(),
        },
        Request::Review(reason) => Decision {
            status: Status::NeedsReview,
            reason,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_patterns() {
        assert_eq!(
            personal_data("Số CCCD: 001089012345, cấp ngày"),
            ["số định danh cá nhân", "số giấy tờ tùy thân"]
        );
        assert!(personal_data("tổng kinh phí 1.234.567.890.123 đồng").is_empty());
        assert_eq!(
            personal_data("Ông Nguyễn Văn A, sinh ngày 12/03/1980"),
            ["ngày, năm sinh"]
        );
        assert_eq!(
            personal_data("Bà Lê Thị B, sinh năm 1975, thường trú tại thôn 3"),
            ["ngày, năm sinh", "nơi cư trú"]
        );
        assert_eq!(personal_data("CMND số 123456789"), ["số giấy tờ tùy thân"]);
        assert!(personal_data("Luật Cư trú năm 2020; kế hoạch năm 2024").is_empty());
    }
}
