//! What an edXML package says, field by field (names follow the standard's elements).

use chrono::{NaiveDate, NaiveDateTime};

/// A date or timestamp as written (`yyyy/MM/dd`, `yyyy/MM/dd HH:mm:ss`), with its value
/// when it is a real date. Real packages contain `2014/02/30`: kept, flagged, not guessed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LenientDate {
    pub raw: String,
}

impl LenientDate {
    pub fn new(raw: impl Into<String>) -> LenientDate {
        LenientDate { raw: raw.into() }
    }
    /// The calendar date, when the text holds a valid one.
    pub fn date(&self) -> Option<NaiveDate> {
        let head = self.raw.trim().split([' ', 'T']).next().unwrap_or("");
        let parts: Vec<&str> = head.split(['/', '-']).collect();
        let [y, m, d] = parts.as_slice() else {
            return None;
        };
        let (y, m, d) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
        // Some producers write dd/MM/yyyy.
        if y > 31 {
            NaiveDate::from_ymd_opt(y, m, d)
        } else {
            NaiveDate::from_ymd_opt(d as i32, m, y as u32)
        }
    }
    /// The timestamp, when the text holds a valid one with a time.
    pub fn timestamp(&self) -> Option<NaiveDateTime> {
        let date = self.date()?;
        let time = self.raw.trim().split([' ', 'T']).nth(1)?;
        let t = chrono::NaiveTime::parse_from_str(time, "%H:%M:%S").ok()?;
        Some(date.and_time(t))
    }
    /// Non-empty text that is not a valid date.
    pub fn is_impossible(&self) -> bool {
        !self.raw.trim().is_empty() && self.date().is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Organization {
    pub organ_id: Option<String>,
    pub organization_in_charge: Option<String>,
    pub organ_name: Option<String>,
    pub organ_add: Option<String>,
    pub email: Option<String>,
    pub telephone: Option<String>,
    pub fax: Option<String>,
    pub website: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OtherInfo {
    pub priority: Option<String>,
    pub sphere_of_promulgation: Option<String>,
    pub typer_notation: Option<String>,
    pub promulgation_amount: Option<String>,
    pub page_amount: Option<String>,
    pub direction: Option<String>,
    pub appendixes: Vec<String>,
}

/// `OtherInfo/Priority`: the urgency code (0 thường, 1 khẩn, 2 thượng khẩn, 3 hỏa tốc,
/// 4 hỏa tốc hẹn giờ); some producers write the words instead of the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Priority {
    Normal,
    Urgent,
    VeryUrgent,
    Immediate,
    ImmediateScheduled,
}

impl Priority {
    /// The code or words as written; `None` for anything else (a secrecy word, say).
    pub fn parse(raw: &str) -> Option<Priority> {
        let folded: String = raw
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                'à' | 'á' | 'ả' | 'ã' | 'ạ' | 'ă' | 'ằ' | 'ắ' | 'ẳ' | 'ẵ' | 'ặ' | 'â' | 'ầ'
                | 'ấ' | 'ẩ' | 'ẫ' | 'ậ' => Some('a'),
                'è' | 'é' | 'ẻ' | 'ẽ' | 'ẹ' | 'ê' | 'ề' | 'ế' | 'ể' | 'ễ' | 'ệ' => {
                    Some('e')
                }
                'ì' | 'í' | 'ỉ' | 'ĩ' | 'ị' => Some('i'),
                'ò' | 'ó' | 'ỏ' | 'õ' | 'ọ' | 'ô' | 'ồ' | 'ố' | 'ổ' | 'ỗ' | 'ộ' | 'ơ' | 'ờ'
                | 'ớ' | 'ở' | 'ỡ' | 'ợ' => Some('o'),
                'ù' | 'ú' | 'ủ' | 'ũ' | 'ụ' | 'ư' | 'ừ' | 'ứ' | 'ử' | 'ữ' | 'ự' => {
                    Some('u')
                }
                'ỳ' | 'ý' | 'ỷ' | 'ỹ' | 'ỵ' => Some('y'),
                'đ' => Some('d'),
                // Combining marks of decomposed text.
                '\u{300}'..='\u{36F}' => None,
                c => Some(c),
            })
            .collect();
        let words: Vec<&str> = folded.split_whitespace().collect();
        Some(match words.join(" ").as_str() {
            "0" | "00" | "thuong" | "binh thuong" => Priority::Normal,
            "1" | "01" | "khan" => Priority::Urgent,
            "2" | "02" | "thuong khan" => Priority::VeryUrgent,
            "3" | "03" | "hoa toc" => Priority::Immediate,
            "4" | "04" | "hoa toc hen gio" => Priority::ImmediateScheduled,
            _ => return None,
        })
    }
    /// The marking as printed on a document (`None` for an ordinary one).
    pub fn marking(self) -> Option<&'static str> {
        match self {
            Priority::Normal => None,
            Priority::Urgent => Some("KHẨN"),
            Priority::VeryUrgent => Some("THƯỢNG KHẨN"),
            Priority::Immediate => Some("HỎA TỐC"),
            Priority::ImmediateScheduled => Some("HỎA TỐC HẸN GIỜ"),
        }
    }
}

impl OtherInfo {
    /// The urgency `Priority` gives, when it is a known code or word.
    pub fn urgency(&self) -> Option<Priority> {
        self.priority.as_deref().and_then(Priority::parse)
    }
}

/// `ResponseFor`: the document a package answers (status packages, replies).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResponseFor {
    pub organ_id: Option<String>,
    pub code: Option<String>,
    pub promulgation_date: Option<LenientDate>,
    pub document_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaffInfo {
    pub department: Option<String>,
    pub staff: Option<String>,
    pub email: Option<String>,
    pub mobile: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageHeader {
    pub from: Option<Organization>,
    pub to: Vec<Organization>,
    pub document_id: Option<String>,
    pub code_number: Option<String>,
    pub code_notation: Option<String>,
    pub place: Option<String>,
    pub promulgation_date: Option<LenientDate>,
    pub doc_type: Option<String>,
    pub type_detail: Option<String>,
    pub type_name: Option<String>,
    pub subject: Option<String>,
    pub content: Option<String>,
    pub signer_competence: Option<String>,
    pub signer_position: Option<String>,
    pub signer_full_name: Option<String>,
    pub due_date: Option<LenientDate>,
    pub to_places: Vec<String>,
    pub other_info: OtherInfo,
    pub response_for: Vec<ResponseFor>,
    pub steering_type: Option<String>,
    /// Status packages: `StatusCode` (01 received … 16 change rejected).
    pub status_code: Option<String>,
    pub description: Option<String>,
    pub timestamp: Option<LenientDate>,
    pub staff_info: Option<StaffInfo>,
}

impl MessageHeader {
    /// `CodeNumber/CodeNotation` ("116/QĐ-UBND"), when both are given.
    pub fn number_symbol(&self) -> Option<String> {
        match (&self.code_number, &self.code_notation) {
            (Some(n), Some(s)) if !n.trim().is_empty() && !s.trim().is_empty() => {
                Some(format!("{}/{}", n.trim(), s.trim()))
            }
            _ => None,
        }
    }
}

/// `BussinessDocType` (sic): what the package does to the document's life.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BusinessKind {
    #[default]
    New,
    Revoke,
    Update,
    Replace,
    /// A code the standard does not define, kept as written.
    Other(String),
}

impl BusinessKind {
    pub fn from_code(code: &str) -> BusinessKind {
        match code.trim() {
            "0" | "" => BusinessKind::New,
            "1" => BusinessKind::Revoke,
            "2" => BusinessKind::Update,
            "3" => BusinessKind::Replace,
            other => BusinessKind::Other(other.to_string()),
        }
    }
    pub fn code(&self) -> &str {
        match self {
            BusinessKind::New => "0",
            BusinessKind::Revoke => "1",
            BusinessKind::Update => "2",
            BusinessKind::Replace => "3",
            BusinessKind::Other(code) => code,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Replacement {
    pub document_id: Option<String>,
    pub organ_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Business {
    pub kind: BusinessKind,
    pub reason: Option<String>,
    pub replacements: Vec<Replacement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TraceHeader {
    pub organ_id: Option<String>,
    pub timestamp: Option<LenientDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TraceHeaderList {
    pub traces: Vec<TraceHeader>,
    pub business: Option<Business>,
}

/// A manifest `Reference`: which attachment belongs to the document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reference {
    pub content_id: Option<String>,
    pub attachment_name: Option<String>,
    pub description: Option<String>,
}

/// An attachment as carried. The base64 text is decoded while the package is read
/// (streamed from the package bytes, never copied as text): `payload` holds the carried
/// bytes (a ZIP, or the file itself); [`crate::decode_files`] turns them into files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attachment {
    pub content_id: Option<String>,
    pub attachment_name: Option<String>,
    pub content_type: Option<String>,
    pub description: Option<String>,
    /// The decoded payload (empty when the package carried none, or it was not base64).
    pub payload: Vec<u8>,
    /// Why the payload could not be decoded, when it could not; the rest of the package
    /// is read all the same.
    pub payload_error: Option<String>,
}

impl Attachment {
    /// `ContentId` without the `cid:` prefix and angle brackets (producers differ).
    pub fn bare_content_id(&self) -> Option<String> {
        self.content_id.as_deref().map(bare_cid)
    }
}

pub fn bare_cid(id: &str) -> String {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    id.strip_prefix("cid:").unwrap_or(id).to_string()
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Package {
    /// The namespace the package used (`NAMESPACE`, `LEGACY_NAMESPACE`, or empty).
    pub namespace: String,
    pub header: MessageHeader,
    pub trace: Option<TraceHeaderList>,
    pub manifest: Vec<Reference>,
    pub attachments: Vec<Attachment>,
    /// Whether the header carried an XML `Signature` (not verified here).
    pub has_signature: bool,
    /// What was odd but tolerated (impossible dates, stray bytes, unmatched references).
    pub warnings: Vec<String>,
}

impl Package {
    pub fn is_status(&self) -> bool {
        self.header.status_code.is_some()
    }
    pub fn business_kind(&self) -> BusinessKind {
        self.trace
            .as_ref()
            .and_then(|t| t.business.as_ref())
            .map(|b| b.kind.clone())
            .unwrap_or_default()
    }
    /// The attachment a manifest reference names, matching `ContentId` with or without
    /// `cid:`.
    pub fn attachment_for(&self, reference: &Reference) -> Option<&Attachment> {
        let wanted = reference.content_id.as_deref().map(bare_cid)?;
        self.attachments
            .iter()
            .find(|a| a.bare_content_id().as_deref() == Some(wanted.as_str()))
    }
}
