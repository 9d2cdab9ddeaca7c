//! Publication rules: what may be published without a clerk, and why not. Every decision
//! carries its reasons (all of them, not just the first), which the audit trail keeps.
//!
//! Architecture invariant: a document marked secret (MẬT, TỐI MẬT, TUYỆT MẬT) or for
//! internal circulation is never given `published` here, whatever the caller asks.

use std::sync::LazyLock;

use regex::Regex;

use crate::config::PublicationSettings;
use crate::domain::{Hold, HoldCode};
use crate::extract::Extraction;
use crate::store::Status;

/// Marking doubts spelled out in a decision's reason (the rest are counted).
const MAX_DOUBTS_IN_REASON: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub status: Status,
    /// A summary of the reasons (the holds' messages joined), for the audit trail.
    pub reason: String,
    /// Every reason the document is held, each with its code and evidence (empty when
    /// nothing holds it).
    pub holds: Vec<Hold>,
}

impl Decision {
    /// A decision holding the document for review for these reasons.
    pub fn held(holds: Vec<Hold>) -> Decision {
        Decision {
            status: Status::NeedsReview,
            reason: summary(&holds),
            holds,
        }
    }

    /// A decision with no hold (publish, keep as a draft, withdraw).
    pub fn plain(status: Status, reason: impl Into<String>) -> Decision {
        Decision {
            status,
            reason: reason.into(),
            holds: Vec::new(),
        }
    }
}

/// The reasons of a list of holds as one line ("…; …").
pub fn summary(holds: &[Hold]) -> String {
    holds
        .iter()
        .map(|h| h.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
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

/// One piece of personal data found in a text: its kind and the exact span read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalMatch {
    /// What it is ("nơi cư trú"…), for the reason.
    pub kind: &'static str,
    /// The matched text, with the rest of its line for a label (the value).
    pub span: String,
    /// 1-based page, when the text separates pages with form feeds.
    pub page: Option<u32>,
}

/// Characters a blank form line is drawn with: dots, ellipses, underscores, dashes.
fn is_filler(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '.' | '…' | '_' | '-' | '–' | '—' | ':' | ',' | ';' | '/' | '(' | ')' | '*'
        )
}

/// The value written after a label on its line, or `None` when the label is followed
/// only by dots, underscores or blanks: a form template to fill in ("Nơi thường trú:
/// ……"), not a person's data.
fn label_value(text: &str, label_end: usize) -> Option<&str> {
    let rest = &text[label_end..];
    let line = rest.split(['\n', '\r', '\u{c}']).next().unwrap_or("");
    let value = line.trim_matches(is_filler);
    (!value.is_empty()).then_some(line.trim_end())
}

/// Personal data about a citizen in `text`, each with its span. The principle: data is a
/// value, so a label standing before nothing but dots, underscores or blanks — the blank
/// line of a form annexed to a decision — is not personal data. Number and date patterns
/// need their digits, so only labels can match a blank form.
pub fn personal_data_matches(text: &str) -> Vec<PersonalMatch> {
    let page_of = |at: usize| -> Option<u32> {
        text.contains('\u{c}')
            .then(|| text[..at].matches('\u{c}').count() as u32 + 1)
    };
    let mut out = Vec::new();
    let mut push = |kind: &'static str, start: usize, span: &str| {
        if !out.iter().any(|m: &PersonalMatch| m.kind == kind) {
            out.push(PersonalMatch {
                kind,
                span: span.trim().to_string(),
                page: page_of(start),
            });
        }
    };
    if let Some(c) = CITIZEN_ID.captures(text).and_then(|c| c.get(1)) {
        push("số định danh cá nhân", c.start(), c.as_str());
    }
    if let Some(m) = LABELLED_ID.find(text) {
        push("số giấy tờ tùy thân", m.start(), m.as_str());
    }
    if let Some(m) = BIRTH_DATE.find(text) {
        push("ngày, năm sinh", m.start(), m.as_str());
    }
    for m in RESIDENCE.find_iter(text) {
        if let Some(value) = label_value(text, m.end()) {
            let span = format!("{}{}", m.as_str(), value);
            push("nơi cư trú", m.start(), &span);
            break;
        }
    }
    out
}

/// Which personal-data patterns about a citizen the text holds (names for the reason).
pub fn personal_data(text: &str) -> Vec<&'static str> {
    personal_data_matches(text)
        .into_iter()
        .map(|m| m.kind)
        .collect()
}

/// Decides the status of a freshly extracted document.
pub fn decide(
    extraction: &Extraction,
    settings: &PublicationSettings,
    request: Request,
) -> Decision {
    let m = &extraction.metadata;
    let mut blockers: Vec<Hold> = Vec::new();
    let certain = |evidence: &mut Hold| {
        if let Some(f) = m.markings.iter().find(|f| f.is_certain()) {
            *evidence = evidence
                .clone()
                .with_evidence(f.evidence.clone(), Some(f.page));
        }
    };
    if let Some(secrecy) = &m.secrecy.value {
        let mut hold = Hold::new(
            HoldCode::Marking,
            format!("Văn bản mật ({secrecy}): không bao giờ công khai"),
        );
        certain(&mut hold);
        blockers.push(hold);
    }
    if extraction.internal_only() {
        let mut hold = Hold::new(
            HoldCode::Marking,
            "Văn bản lưu hành nội bộ: không công khai",
        );
        certain(&mut hold);
        blockers.push(hold);
    }
    // When in doubt about secrecy, hold: every marking-like token not placed with
    // certainty is shown to the clerk with its evidence.
    let doubts = extraction.marking_doubts();
    for doubt in doubts.iter().take(MAX_DOUBTS_IN_REASON) {
        blockers.push(
            Hold::new(
                HoldCode::MarkingDoubt,
                format!(
                    "Nghi có dấu chỉ độ mật / lưu hành nội bộ chưa xác định: {}",
                    doubt.describe()
                ),
            )
            .with_evidence(doubt.evidence.clone(), Some(doubt.page)),
        );
    }
    if doubts.len() > MAX_DOUBTS_IN_REASON {
        blockers.push(Hold::new(
            HoldCode::MarkingDoubt,
            format!(
                "và {} chỗ khác nghi là dấu chỉ độ mật / lưu hành nội bộ",
                doubts.len() - MAX_DOUBTS_IN_REASON
            ),
        ));
    }
    if let Some(budget) = extraction.budget_exceeded() {
        blockers.push(Hold::new(HoldCode::BudgetExceeded, budget.message.clone()));
    }
    if extraction.needs_ocr() {
        blockers.push(Hold::new(
            HoldCode::Scan,
            "Bản quét chưa có văn bản: cần OCR và văn thư kiểm tra",
        ));
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
        blockers.push(Hold::new(
            HoldCode::MissingFields,
            format!("Thiếu thông tin bắt buộc: {}", missing.join(", ")),
        ));
    }
    // One hold per kind of personal data, each with the span it was read from.
    for found in personal_data_matches(&extraction.text) {
        blockers.push(
            Hold::new(
                HoldCode::PersonalData,
                format!(
                    "Có thông tin cá nhân của công dân ({}): cần văn thư xem xét",
                    found.kind
                ),
            )
            .with_evidence(found.span, found.page),
        );
    }
    let signatures = &extraction.signatures;
    if let Some(status) = signatures.overall()
        && status.broken()
    {
        blockers.push(Hold::new(
            HoldCode::SignatureBroken,
            format!(
                "Chữ ký số không hợp lệ ({}): {}",
                status.as_str(),
                signatures.message().unwrap_or_default()
            ),
        ));
    }
    if settings.require_trusted_signature && signatures.trusted() != Some(true) {
        blockers.push(Hold::new(
            HoldCode::SignatureUntrusted,
            if signatures.is_signed() {
                "Chữ ký số chưa xác minh được với chứng thư gốc tin cậy đã cấu hình"
            } else {
                "Văn bản không có chữ ký số (cấu hình yêu cầu chữ ký số tin cậy)"
            },
        ));
    }
    if let Some(doc_type) = m.doc_type.value.as_deref()
        && !settings.public_types.iter().any(|t| t == doc_type)
    {
        blockers.push(Hold::new(
            HoldCode::TypeNotPublic,
            format!("Loại văn bản \"{doc_type}\" không nằm trong danh sách được công khai tự động"),
        ));
    }
    if !blockers.is_empty() {
        return Decision::held(blockers);
    }
    match request {
        Request::Publish => Decision::plain(
            Status::Published,
            "Đủ điều kiện công khai theo quy tắc xuất bản",
        ),
        Request::Hold => Decision::plain(Status::Draft, "Đủ điều kiện; chờ lệnh công khai"),
        Request::Review(reason) => {
            Decision::held(vec![Hold::new(HoldCode::UntrustedSource, reason)])
        }
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

    /// A label is data only with a value after it: the blank lines of a form annexed to a
    /// decision (the Bộ Y tế decision 2093 has "Nơi thường trú: ……") are templates.
    #[test]
    fn blank_form_lines_are_templates_not_personal_data() {
        let cases: &[(&str, Option<&str>)] = &[
            // Filled: held, with the span.
            (
                "Bà Lê Thị B, thường trú tại thôn 3, xã Nam Chính",
                Some("thường trú tại thôn 3, xã Nam Chính"),
            ),
            (
                "Nơi thường trú: số 12 phố Hàng Bài, Hoàn Kiếm, Hà Nội",
                Some("thường trú: số 12 phố Hàng Bài, Hoàn Kiếm, Hà Nội"),
            ),
            (
                "Nơi cư trú: Tổ 5, phường 2",
                Some("Nơi cư trú: Tổ 5, phường 2"),
            ),
            (
                "Nơi ở hiện nay: 45 Lê Lợi",
                Some("Nơi ở hiện nay: 45 Lê Lợi"),
            ),
            ("Tạm trú tại: …… xóm 2 ……", Some("Tạm trú tại: …… xóm 2 ……")),
            // Blank form lines: templates.
            ("Nơi thường trú: ……………………………………", None),
            (
                "Nơi thường trú: ..........................................",
                None,
            ),
            ("Nơi cư trú: ______________________", None),
            ("Nơi ở hiện nay:", None),
            ("Nơi ở hiện nay:   \nHọ và tên: …", None),
            ("thường trú tại: ……/……/……", None),
            ("Nơi tạm trú: - - - - - - -", None),
            (
                "Nơi thường trú: (ghi rõ) ………",
                Some("thường trú: (ghi rõ) ………"),
            ),
            // A blank line first, a filled one later: the filled one is found.
            (
                "Nơi thường trú: ……\nÔng A thường trú tại xã Nam Thanh",
                Some("thường trú tại xã Nam Thanh"),
            ),
        ];
        for (text, want) in cases {
            let got = personal_data_matches(text);
            let residence = got.iter().find(|m| m.kind == "nơi cư trú");
            assert_eq!(residence.map(|m| m.span.as_str()), *want, "{text}");
        }
        // A blank form with every label: nothing.
        let form = "Họ và tên: ……………\nNgày sinh: ……/……/……\nSố CCCD: ………………\n\
                    Nơi thường trú: ……………………\nNơi ở hiện nay: ____________";
        assert!(personal_data(form).is_empty(), "{:?}", personal_data(form));
        // Pages are counted from form feeds.
        let paged = personal_data_matches("trang một\u{c}Ông A, sinh ngày 01/02/1970");
        assert_eq!(paged[0].page, Some(2));
        assert_eq!(paged[0].span, "sinh ngày 01/02/1970");
    }
}
