//! The registry's own rules, below every other module: the publication status, the one
//! public predicate (in Rust and as SQL), the one check that lets a record become
//! published, and the registry key that says two records are one document.
//!
//! Architecture invariant: "public" is written here once. [`is_public`] is the Rust form
//! (the search index, every web handler) and [`public_sql!`](crate::public_sql) the SQL
//! form (every store query that lists or finds public records); a test evaluates both on
//! every combination and a test fails if `'published'` appears in SQL anywhere else.
//! Every write that makes a record published — a policy decision stored by ingest or sync,
//! a clerk's or an operator's status change — goes through [`check_publishable`] inside the
//! store's transaction, so nobody can publish a classified or internal record.

use serde::Serialize;

/// Publication status of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    NeedsReview,
    Published,
    /// A clerk decided to keep it back from the public, with a reason ("không công khai").
    Withheld,
    /// Not a registry document (a wrong file, a duplicate merged into another record).
    Rejected,
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Draft,
        Status::NeedsReview,
        Status::Published,
        Status::Withheld,
        Status::Rejected,
        Status::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::NeedsReview => "needs_review",
            Status::Published => "published",
            Status::Withheld => "withheld",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "draft" => Status::Draft,
            "needs_review" => Status::NeedsReview,
            "published" => Status::Published,
            "withheld" => Status::Withheld,
            "rejected" => Status::Rejected,
            "withdrawn" => Status::Withdrawn,
            _ => return None,
        })
    }

    /// The Vietnamese name clerks see.
    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "bản nháp",
            Status::NeedsReview => "chờ văn thư xem xét",
            Status::Published => "đã công khai",
            Status::Withheld => "không công khai",
            Status::Rejected => "đã loại",
            Status::Withdrawn => "đã thu hồi",
        }
    }
}

/// The public predicate: published, not classified, not for internal circulation. The
/// only Rust statement of it; [`public_sql!`](crate::public_sql) is the SQL one.
pub fn is_public(status: Status, secrecy: Option<&str>, internal_circulation: bool) -> bool {
    status == Status::Published && secrecy.is_none() && !internal_circulation
}

/// The public predicate as an SQL condition over the `documents` columns, optionally
/// qualified by a table alias: `public_sql!()` or `public_sql!("d.")`. A `&'static str`
/// (so queries stay static text); the same condition as [`is_public`].
#[macro_export]
macro_rules! public_sql {
    () => {
        $crate::public_sql!("")
    };
    ($alias:literal) => {
        concat!(
            "(",
            $alias,
            "status = 'published' AND ",
            $alias,
            "secrecy IS NULL AND NOT ",
            $alias,
            "internal_circulation)"
        )
    };
}

/// Whether a withdrawn record shows the public its withdrawal notice ("Đã thu hồi ngày
/// …: lý do", its identity, no file, no text): only a record that was once public, and
/// never a classified or internal one. Everything else that is not [`is_public`] answers
/// as if it did not exist.
pub fn shows_withdrawal_notice(
    status: Status,
    secrecy: Option<&str>,
    internal_circulation: bool,
    ever_published: bool,
) -> bool {
    status == Status::Withdrawn && ever_published && secrecy.is_none() && !internal_circulation
}

/// What the publication rule looks at in a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordFacts<'a> {
    pub status: Status,
    pub secrecy: Option<&'a str>,
    pub internal_circulation: bool,
    /// Set when a later document replaced this one.
    pub replaced_by: Option<i64>,
    /// The record's current holds (superseded ones left out) and their state.
    pub holds: &'a [(HoldCode, HoldState)],
}

/// Why a status change (or a write that would publish) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("Văn bản mật ({0}): không bao giờ được công khai, dù ai yêu cầu")]
    Classified(String),
    #[error("Văn bản lưu hành nội bộ: không được công khai, dù ai yêu cầu")]
    Internal,
    #[error("Văn bản đã được thay thế bởi văn bản #{0}: không công khai lại bản cũ")]
    Replaced(i64),
    #[error(
        "Văn bản #{other} cùng cơ quan ban hành, năm và số ký hiệu đang được công khai: thu hồi văn bản đó trước"
    )]
    SameKeyPublished { other: i64 },
    #[error("Không chuyển được từ trạng thái \"{}\" sang \"{}\"", .from.label(), .to.label())]
    InvalidTransition { from: Status, to: Status },
    #[error("{}", held_message(*.code, *.state))]
    Held { code: HoldCode, state: HoldState },
    #[error("Lý do giữ lại #{0} đã được xử lý")]
    HoldResolved(i64),
    #[error("Không gộp được văn bản #{0} vào chính nó")]
    MergeIntoItself(i64),
    #[error("Văn bản #{0} đang công khai: thu hồi trước khi gộp")]
    MergePublished(i64),
    #[error("Văn bản #{0} đã bị loại: không gộp vào văn bản đã loại")]
    MergeIntoRejected(i64),
    #[error("Cần ghi lý do cho thao tác \"{}\"", .0.label())]
    ReasonRequired(Action),
}

fn held_message(code: HoldCode, state: HoldState) -> String {
    if matches!(code, HoldCode::MissingFields | HoldCode::Scan) {
        return "Chưa đủ thông tin bắt buộc (hình thức, số ký hiệu, cơ quan ban hành, ngày ban hành, trích yếu): sửa thông tin văn bản trước khi công khai".into();
    }
    match state {
        HoldState::Confirmed => format!(
            "Văn thư đã xác nhận lý do giữ lại \"{}\": không công khai được (có thể chọn không công khai, kèm lý do)",
            code.label()
        ),
        _ => format!(
            "Còn lý do giữ lại chưa xử lý \"{}\": xác nhận hoặc bỏ qua trước khi công khai",
            code.label()
        ),
    }
}

/// Why a record is held for a clerk: one code per kind of reason, so the queue can count
/// and filter them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldCode {
    /// A certain secrecy or circulation marking.
    Marking,
    /// A marking-like token not placed with certainty.
    MarkingDoubt,
    /// Personal data of a citizen (the matched span is the evidence).
    PersonalData,
    /// No text layer: a scan that needs OCR.
    Scan,
    /// A document type outside the list published without a clerk.
    TypeNotPublic,
    /// Required fields could not be read.
    MissingFields,
    /// A signature that fails.
    SignatureBroken,
    /// A signature not verified against a configured trust anchor, or none.
    SignatureUntrusted,
    /// The source is not trusted to publish alone.
    UntrustedSource,
    /// Another record has the same registry key but other content.
    RegistryConflict,
    /// The extraction stopped at its budget.
    BudgetExceeded,
    /// A further file of the package holds the record (marking, personal data, unreadable).
    FurtherFiles,
    /// The package had no document file.
    NoFile,
    /// Any other reason (and reasons stored before holds were structured).
    Other,
}

impl HoldCode {
    pub const ALL: [HoldCode; 14] = [
        HoldCode::Marking,
        HoldCode::MarkingDoubt,
        HoldCode::PersonalData,
        HoldCode::Scan,
        HoldCode::TypeNotPublic,
        HoldCode::MissingFields,
        HoldCode::SignatureBroken,
        HoldCode::SignatureUntrusted,
        HoldCode::UntrustedSource,
        HoldCode::RegistryConflict,
        HoldCode::BudgetExceeded,
        HoldCode::FurtherFiles,
        HoldCode::NoFile,
        HoldCode::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HoldCode::Marking => "marking",
            HoldCode::MarkingDoubt => "marking_doubt",
            HoldCode::PersonalData => "personal_data",
            HoldCode::Scan => "scan",
            HoldCode::TypeNotPublic => "type_not_public",
            HoldCode::MissingFields => "missing_fields",
            HoldCode::SignatureBroken => "signature_broken",
            HoldCode::SignatureUntrusted => "signature_untrusted",
            HoldCode::UntrustedSource => "untrusted_source",
            HoldCode::RegistryConflict => "registry_conflict",
            HoldCode::BudgetExceeded => "budget_exceeded",
            HoldCode::FurtherFiles => "further_files",
            HoldCode::NoFile => "no_file",
            HoldCode::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<HoldCode> {
        HoldCode::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The Vietnamese name clerks see (queue filters, counts).
    pub fn label(self) -> &'static str {
        match self {
            HoldCode::Marking => "Có dấu chỉ độ mật / lưu hành nội bộ",
            HoldCode::MarkingDoubt => "Nghi có dấu chỉ độ mật",
            HoldCode::PersonalData => "Thông tin cá nhân",
            HoldCode::Scan => "Bản quét, chưa có văn bản",
            HoldCode::TypeNotPublic => "Loại văn bản không tự công khai",
            HoldCode::MissingFields => "Thiếu thông tin bắt buộc",
            HoldCode::SignatureBroken => "Chữ ký số không hợp lệ",
            HoldCode::SignatureUntrusted => "Chữ ký số chưa xác minh",
            HoldCode::UntrustedSource => "Nguồn chưa được tin cậy",
            HoldCode::RegistryConflict => "Trùng số ký hiệu",
            HoldCode::BudgetExceeded => "Vượt giới hạn trích xuất",
            HoldCode::FurtherFiles => "Tệp kèm theo cần xem xét",
            HoldCode::NoFile => "Không có tệp văn bản",
            HoldCode::Other => "Lý do khác",
        }
    }

    /// Whether a hold of this code in this state keeps the record from being published: a
    /// personal-data or marking-doubt hold until a clerk dismisses it (confirmed, it
    /// stays). Every other reason is the clerk's to weigh when publishing.
    /// A scan's or an unread document's missing fields block it while open: a record
    /// goes public with its type, number, issuer, date and abstract, which a clerk's
    /// correction fills (and so closes these holds).
    pub fn blocks_publishing(self, state: HoldState) -> bool {
        match self {
            HoldCode::PersonalData | HoldCode::MarkingDoubt => {
                matches!(state, HoldState::Open | HoldState::Confirmed)
            }
            HoldCode::MissingFields | HoldCode::Scan => state == HoldState::Open,
            _ => false,
        }
    }
}

/// Whether a document of this type carries a number-symbol (a constitution does not).
pub fn type_carries_number(doc_type: Option<&str>) -> bool {
    doc_type.is_none_or(|t| crate::text::fold(t).trim() != "hien phap")
}

/// Where a hold stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldState {
    Open,
    /// A clerk confirmed the reason (the personal data is there, the marking is real).
    Confirmed,
    /// A clerk found it does not apply.
    Dismissed,
    /// The record took a new version (another file): this hold was about the old one.
    Superseded,
}

impl HoldState {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldState::Open => "open",
            HoldState::Confirmed => "confirmed",
            HoldState::Dismissed => "dismissed",
            HoldState::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<HoldState> {
        [
            HoldState::Open,
            HoldState::Confirmed,
            HoldState::Dismissed,
            HoldState::Superseded,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            HoldState::Open => "chưa xử lý",
            HoldState::Confirmed => "đã xác nhận",
            HoldState::Dismissed => "đã bỏ qua",
            HoldState::Superseded => "thuộc phiên bản trước",
        }
    }
}

/// One reason a record is held, with what it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    pub code: HoldCode,
    /// The reason in Vietnamese, as the clerk reads it.
    pub message: String,
    /// The matched span (personal data, a marking) when there is one.
    pub evidence: Option<String>,
    /// 1-based page of the evidence, when known.
    pub page: Option<u32>,
}

impl Hold {
    pub fn new(code: HoldCode, message: impl Into<String>) -> Hold {
        Hold {
            code,
            message: message.into(),
            evidence: None,
            page: None,
        }
    }

    pub fn with_evidence(mut self, evidence: impl Into<String>, page: Option<u32>) -> Hold {
        self.evidence = Some(evidence.into());
        self.page = page.filter(|p| *p > 0);
        self
    }
}

/// What a clerk (or a machine client of the admin API) does to a record's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Publish,
    Withhold,
    Reject,
    Withdraw,
    /// Back to the review queue.
    Return,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::Publish,
        Action::Withhold,
        Action::Reject,
        Action::Withdraw,
        Action::Return,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Publish => "publish",
            Action::Withhold => "withhold",
            Action::Reject => "reject",
            Action::Withdraw => "withdraw",
            Action::Return => "return",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Action::Publish => "Công khai",
            Action::Withhold => "Không công khai",
            Action::Reject => "Loại",
            Action::Withdraw => "Thu hồi",
            Action::Return => "Trả về chờ xem xét",
        }
    }

    /// The status the action moves a record to.
    pub fn target(self) -> Status {
        match self {
            Action::Publish => Status::Published,
            Action::Withhold => Status::Withheld,
            Action::Reject => Status::Rejected,
            Action::Withdraw => Status::Withdrawn,
            Action::Return => Status::NeedsReview,
        }
    }

    /// Withholding, rejecting and withdrawing need a written reason (a withdrawal's is
    /// shown publicly).
    pub fn requires_reason(self) -> bool {
        matches!(self, Action::Withhold | Action::Reject | Action::Withdraw)
    }

    /// Whether `reason` is enough for this action.
    pub fn check_reason(self, reason: &str) -> Result<(), Refusal> {
        if self.requires_reason() && reason.trim().is_empty() {
            return Err(Refusal::ReasonRequired(self));
        }
        Ok(())
    }
}

/// Whether a record with these facts may carry the status `published`. Asked by every
/// write that publishes; there is deliberately no actor parameter: nobody is exempt.
pub fn check_publishable(facts: &RecordFacts) -> Result<(), Refusal> {
    if let Some(level) = facts.secrecy {
        return Err(Refusal::Classified(level.to_string()));
    }
    if facts.internal_circulation {
        return Err(Refusal::Internal);
    }
    if let Some(by) = facts.replaced_by {
        return Err(Refusal::Replaced(by));
    }
    // What a clerk must settle about the content (personal data, a marking doubt) is
    // named before missing fields.
    let content_first = |code: &HoldCode| !matches!(code, HoldCode::MissingFields | HoldCode::Scan);
    if let Some((code, state)) = facts
        .holds
        .iter()
        .filter(|(code, _)| content_first(code))
        .chain(facts.holds.iter().filter(|(code, _)| !content_first(code)))
        .find(|(code, state)| code.blocks_publishing(*state))
    {
        return Err(Refusal::Held {
            code: *code,
            state: *state,
        });
    }
    Ok(())
}

/// The one status transition: whether a record in `current` may be moved to `to`
/// (by a clerk, an administrator, the CLI or any future caller). Publishing also
/// passes [`check_publishable`].
pub fn check_transition(current: &RecordFacts, to: Status) -> Result<(), Refusal> {
    use Status::*;
    let allowed = match (current.status, to) {
        (from, to) if from == to => false,
        // Withdrawal is for what was public (its notice is shown publicly); a record never
        // published is withheld or rejected instead.
        (Draft | NeedsReview, to) => to != Withdrawn,
        // Once public, a record leaves by withdrawal (with a public notice) or goes back
        // to a clerk; it does not silently become a draft, withheld or rejected.
        (Published, Withdrawn | NeedsReview) => true,
        (Withdrawn, Published | NeedsReview) => true,
        // A clerk's decision to keep a record back can be revisited.
        (Withheld, Published | NeedsReview | Rejected) => true,
        // A rejected record goes back to review before anything else.
        (Rejected, NeedsReview) => true,
        _ => false,
    };
    if !allowed {
        return Err(Refusal::InvalidTransition {
            from: current.status,
            to,
        });
    }
    if to == Published {
        check_publishable(current)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The registry key: one document, one record.

/// Abbreviations of issuing bodies as written in headers and packages (folded), with the
/// words they stand for. `&` joins its neighbours first: `GD&ĐT` → `gddt`.
const ISSUER_ABBREVIATIONS: &[(&str, &str)] = &[
    ("ubnd", "uy ban nhan dan"),
    ("hdnd", "hoi dong nhan dan"),
    ("tand", "toa an nhan dan"),
    ("vksnd", "vien kiem sat nhan dan"),
    ("ubmttqvn", "uy ban mat tran to quoc viet nam"),
    ("ubmttq", "uy ban mat tran to quoc"),
    ("mttqvn", "mat tran to quoc viet nam"),
    ("mttq", "mat tran to quoc"),
    ("cand", "cong an nhan dan"),
    ("bchqs", "ban chi huy quan su"),
    ("tp", "thanh pho"),
    ("tx", "thi xa"),
    ("tt", "thi tran"),
    ("gddt", "giao duc dao tao"),
    ("khdt", "ke hoach dau tu"),
    ("tnmt", "tai nguyen moi truong"),
    ("ldtbxh", "lao dong thuong binh xa hoi"),
    ("vhttdl", "van hoa the thao du lich"),
    ("nnptnt", "nong nghiep phat trien nong thon"),
    ("gtvt", "giao thong van tai"),
    ("tttt", "thong tin truyen thong"),
];

/// The issuer as the registry key compares it: NFC, diacritics and case folded (so
/// "Uỷ"/"Ủy", "ỦY BAN"/"Ủy ban" agree), abbreviations expanded ("UBND" = "Ủy ban nhân
/// dân"), punctuation and the linking word "và" dropped. Folding the tones can only make
/// two issuers look alike, never two spellings of one issuer look different; a false
/// match sends a document to review, it never hides or publishes one.
pub fn canonical_issuer(issuer: &str) -> Option<String> {
    let folded = crate::text::fold(&crate::text::normalize(issuer)).replace('&', "");
    let mut words: Vec<&str> = Vec::new();
    for token in folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
    {
        match ISSUER_ABBREVIATIONS.iter().find(|(a, _)| *a == token) {
            Some((_, expansion)) => words.extend(expansion.split(' ')),
            None if token == "va" => {}
            None => words.push(token),
        }
    }
    (!words.is_empty()).then(|| words.join(" "))
}

/// The number-symbol as the registry key compares it: folded, upper case, without
/// spaces, the number without leading zeros: `05 /QĐ- UBND` → `5/QD-UBND`.
pub fn canonical_number_symbol(number_symbol: &str) -> Option<String> {
    let folded = crate::text::fold(&crate::text::normalize(number_symbol)).to_ascii_uppercase();
    let kept: String = folded
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '.'))
        .collect();
    let (number, rest) = match kept.split_once('/') {
        Some((n, r)) => (n, Some(r)),
        None => (kept.as_str(), None),
    };
    let trimmed = number.trim_start_matches('0');
    let number = if trimmed.is_empty() && !number.is_empty() {
        "0"
    } else {
        trimmed
    };
    let out = match rest {
        Some(r) => format!("{number}/{r}"),
        None => number.to_string(),
    };
    (!out.is_empty() && out.chars().any(|c| c.is_ascii_alphanumeric())).then_some(out)
}

/// The registry key of a document: canonical issuer, year of issue, canonical
/// number-symbol; `None` unless all three are known. The edXML organ code is not part of
/// it: a hand ingest does not know it, and a key that differs by the path a document took
/// would let the same document in twice.
pub fn registry_key(
    issuer: Option<&str>,
    year: Option<i32>,
    number_symbol: Option<&str>,
) -> Option<String> {
    Some(format!(
        "{}|{}|{}",
        canonical_issuer(issuer?)?,
        year?,
        canonical_number_symbol(number_symbol?)?
    ))
}

/// How far a file's own signatures vouch for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// A signature that fails (modified after signing, digest mismatch, invalid…).
    Broken,
    /// No signature, or one that verifies but chains to a root known to be untrusted.
    Plain,
    /// Every signature verifies and none chains to an untrusted root: the signed original.
    Genuine,
}

impl Evidence {
    /// From the verification stored with a record (`None`: unsigned).
    pub fn of(signature: Option<&crate::signature::Verification>) -> Evidence {
        let Some(v) = signature.filter(|v| v.is_signed()) else {
            return Evidence::Plain;
        };
        match v.overall() {
            Some(s) if s.broken() => Evidence::Broken,
            Some(s) if s.valid() && v.trusted() != Some(false) => Evidence::Genuine,
            _ => Evidence::Plain,
        }
    }

    /// From the JSON the store keeps (`DocumentFields::signature`).
    pub fn of_stored(signature: Option<&serde_json::Value>) -> Evidence {
        let parsed: Option<crate::signature::Verification> =
            signature.and_then(|v| serde_json::from_value(v.clone()).ok());
        if signature.is_some_and(|v| !v.is_null()) && parsed.is_none() {
            // Stored but unreadable: never let it vouch for anything.
            return Evidence::Broken;
        }
        Evidence::of(parsed.as_ref())
    }
}

/// The text as compared to decide "same content": folded letters and digits only, so
/// layout, spacing and line breaks of two renderings of one document do not matter.
pub fn content_fingerprint(text: &str) -> String {
    crate::text::fold(text)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// A record already holding a registry key, as [`place`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub id: i64,
    pub status: Status,
    pub evidence: Evidence,
    pub fingerprint: String,
}

/// A document arriving with a registry key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    pub evidence: Evidence,
    pub fingerprint: String,
}

/// Where an arriving document goes, given the records that already carry its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// No record has the key: a new record.
    New,
    /// The same document is already recorded (as well or better vouched for).
    Duplicate { of: i64 },
    /// The arrival is the signed original of record `record`'s unsigned or broken copy:
    /// it becomes the record's file (the old one stays in the record's history).
    Supersede { record: i64, copy: Evidence },
    /// Same key, different content, neither supersedes: the arrival becomes its own
    /// record, held for a clerk, naming the other.
    Conflict { with: i64 },
}

/// Whether a file vouched for by `arrival` takes the place of a record's file vouched for
/// by `holder`: only the signed original replaces, and only an unsigned or broken copy.
pub fn supersedes(arrival: Evidence, holder: Evidence) -> bool {
    arrival == Evidence::Genuine && holder != Evidence::Genuine
}

/// One document, one record: the rule both paths (hand ingest, e-office sync) follow.
/// `holders` are the records with the same registry key, in id order.
pub fn place(arrival: &Arrival, holders: &[Holder]) -> Placement {
    let same = |h: &&Holder| h.fingerprint == arrival.fingerprint;
    // The record that speaks for the key: the published one, else the first to arrive
    // that a clerk did not reject. A rejected record speaks for nothing, but the same
    // content arriving again is still the rejected document.
    let live: Vec<&Holder> = holders
        .iter()
        .filter(|h| h.status != Status::Rejected)
        .collect();
    let Some(principal) = live
        .iter()
        .copied()
        .find(|h| h.status == Status::Published)
        .or_else(|| live.first().copied())
    else {
        return match holders.iter().find(same) {
            Some(h) => Placement::Duplicate { of: h.id },
            None => Placement::New,
        };
    };
    if arrival.evidence == Evidence::Genuine {
        if supersedes(arrival.evidence, principal.evidence) {
            return Placement::Supersede {
                record: principal.id,
                copy: principal.evidence,
            };
        }
        if let Some(h) = holders
            .iter()
            .filter(|h| h.evidence == Evidence::Genuine)
            .find(same)
        {
            return Placement::Duplicate { of: h.id };
        }
        return Placement::Conflict { with: principal.id };
    }
    // A copy that is not the signed original: the same content already recorded makes it
    // a duplicate, whatever vouches for that record.
    if same(&principal) {
        return Placement::Duplicate { of: principal.id };
    }
    if let Some(h) = holders.iter().find(same) {
        return Placement::Duplicate { of: h.id };
    }
    Placement::Conflict { with: principal.id }
}

/// The warning code that keeps a marking doubt with a stored record.
pub const MARKING_DOUBT: &str = "marking_doubt";

/// What a new version of a record (a signed original superseding its copy, an update from
/// the e-office system) may not take away: a secrecy level or circulation marking the
/// record carried stays (the stronger level wins), and a record that carried a marking or
/// a marking doubt is not published by the new version — a clerk decides. A published
/// secret cannot be unpublished, so no automatic path declassifies.
pub fn keep_markings(
    old_secrecy: Option<&str>,
    old_internal: bool,
    old_doubt: bool,
    new_secrecy: Option<&str>,
    new_internal: bool,
    status: Status,
) -> (Option<String>, bool, Status) {
    let rank = |level: &str| match crate::markings::grade_label(level) {
        Some(crate::markings::Grade::Certain(crate::markings::Marking::Secret(l))) => Some(l),
        _ => None,
    };
    let secrecy = match (old_secrecy, new_secrecy) {
        (Some(a), Some(b)) => Some(if rank(a) >= rank(b) { a } else { b }),
        (a, b) => a.or(b),
    }
    .map(str::to_string);
    let internal = old_internal || new_internal;
    let was_marked = old_secrecy.is_some() || old_internal || old_doubt;
    let status = if status == Status::Published && (was_marked || secrecy.is_some() || internal) {
        Status::NeedsReview
    } else {
        status
    };
    (secrecy, internal, status)
}

/// The status of a record after its signed original superseded its copy: a withdrawn
/// record stays withdrawn; a blocker found in the original sends it to review; otherwise
/// it is published if either the record was or the original's decision says so.
pub fn superseded_status(current: Status, decided: Status) -> Status {
    match (current, decided) {
        // A clerk's decision stands.
        (Status::Withheld | Status::Rejected, _) => current,
        (Status::Withdrawn, _) | (_, Status::Withdrawn) => Status::Withdrawn,
        (_, Status::Withheld | Status::Rejected) => decided,
        (_, Status::NeedsReview) => Status::NeedsReview,
        (_, Status::Published) | (Status::Published, Status::Draft) => Status::Published,
        (_, Status::Draft) => Status::Draft,
    }
}

/// The status of a record after an e-office update package: a clerk's decision to keep
/// it back or reject it stands; otherwise the new version's decision applies.
pub fn updated_status(current: Status, decided: Status) -> Status {
    match current {
        Status::Withheld | Status::Rejected => current,
        _ => decided,
    }
}

/// What the history of record `record` says when its signed original superseded its copy.
pub fn supersede_reason(record: i64, copy: Evidence) -> String {
    let copy = match copy {
        Evidence::Broken => "bản có chữ ký số không hợp lệ",
        _ => "bản chưa có chữ ký số hợp lệ",
    };
    format!(
        "Bản gốc có chữ ký số hợp lệ thay thế {copy} của văn bản #{record}; tệp cũ được giữ trong lịch sử phiên bản"
    )
}

/// The reason a conflicting arrival is held, naming the other record.
pub fn conflict_reason(other: i64) -> String {
    format!("Trùng số ký hiệu với văn bản #{other} nhưng khác nội dung: văn thư xem xét")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(status: Status, secrecy: Option<&str>, internal: bool) -> RecordFacts<'_> {
        RecordFacts {
            status,
            secrecy,
            internal_circulation: internal,
            replaced_by: None,
            holds: &[],
        }
    }

    #[test]
    fn publishing_is_refused_for_classified_and_internal_records_from_any_status() {
        for from in Status::ALL {
            for (secrecy, internal, want) in [
                (Some("Mật"), false, Some(Refusal::Classified("Mật".into()))),
                (
                    Some("Tối mật"),
                    true,
                    Some(Refusal::Classified("Tối mật".into())),
                ),
                (None, true, Some(Refusal::Internal)),
                (None, false, None),
            ] {
                let got = check_transition(&facts(from, secrecy, internal), Status::Published);
                match (&want, got) {
                    (_, Err(Refusal::InvalidTransition { .. })) => {
                        // Already published, or rejected (back to review first).
                        assert!(matches!(from, Status::Published | Status::Rejected))
                    }
                    (Some(w), Err(e)) => assert_eq!(&e, w, "{from:?}"),
                    (None, Ok(())) => {}
                    (w, g) => panic!("{from:?} {secrecy:?} {internal}: want {w:?}, got {g:?}"),
                }
            }
        }
        // Leaving publication is always possible, classified or not.
        for (s, i) in [(Some("Mật"), false), (None, true)] {
            assert_eq!(
                check_transition(&facts(Status::Published, s, i), Status::Withdrawn),
                Ok(())
            );
        }
        let replaced = RecordFacts {
            replaced_by: Some(7),
            ..facts(Status::Withdrawn, None, false)
        };
        assert_eq!(
            check_transition(&replaced, Status::Published),
            Err(Refusal::Replaced(7))
        );
        assert!(matches!(
            check_transition(&facts(Status::Published, None, false), Status::Draft),
            Err(Refusal::InvalidTransition { .. })
        ));
        assert!(
            Refusal::Classified("Mật".into())
                .to_string()
                .contains("không bao giờ")
        );
    }

    #[test]
    fn the_transition_table() {
        use Status::*;
        // (from, to) pairs allowed for an ordinary record; everything else is refused.
        let allowed = [
            (Draft, NeedsReview),
            (Draft, Published),
            (Draft, Withheld),
            (Draft, Rejected),
            (NeedsReview, Draft),
            (NeedsReview, Published),
            (NeedsReview, Withheld),
            (NeedsReview, Rejected),
            (Published, Withdrawn),
            (Published, NeedsReview),
            (Withheld, Published),
            (Withheld, NeedsReview),
            (Withheld, Rejected),
            (Rejected, NeedsReview),
            (Withdrawn, Published),
            (Withdrawn, NeedsReview),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                let got = check_transition(&facts(from, None, false), to);
                assert_eq!(
                    got.is_ok(),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}: {got:?}"
                );
                // Classified and internal records: every move but publishing is as for
                // any record; publishing is refused whoever asks.
                for (secrecy, internal) in [(Some("Mật"), false), (None, true)] {
                    let got = check_transition(&facts(from, secrecy, internal), to);
                    if to == Published {
                        assert!(got.is_err(), "{from:?} {secrecy:?} {internal}");
                    } else {
                        assert_eq!(got.is_ok(), allowed.contains(&(from, to)));
                    }
                }
            }
        }
    }

    #[test]
    fn personal_data_marking_doubts_and_missing_fields_block_publishing() {
        use HoldCode::*;
        use HoldState::*;
        for code in HoldCode::ALL {
            for state in [Open, Confirmed, Dismissed, Superseded] {
                let holds = [(code, state), (TypeNotPublic, Open)];
                let f = RecordFacts {
                    holds: &holds,
                    ..facts(Status::NeedsReview, None, false)
                };
                let blocked = (matches!(code, PersonalData | MarkingDoubt)
                    && matches!(state, Open | Confirmed))
                    || (matches!(code, MissingFields | Scan) && state == Open);
                let got = check_transition(&f, Status::Published);
                assert_eq!(got.is_err(), blocked, "{code:?} {state:?}");
                if blocked {
                    assert_eq!(got, Err(Refusal::Held { code, state }));
                }
                // Other moves are never blocked by a hold.
                assert_eq!(check_transition(&f, Status::Withheld), Ok(()));
            }
        }
        assert_eq!(
            Action::Withdraw.check_reason("  "),
            Err(Refusal::ReasonRequired(Action::Withdraw))
        );
        assert_eq!(Action::Publish.check_reason(""), Ok(()));
        for code in HoldCode::ALL {
            assert_eq!(HoldCode::parse(code.as_str()), Some(code));
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn the_withdrawal_notice_shows_only_what_was_once_public() {
        use Status::*;
        for status in Status::ALL {
            for ever in [false, true] {
                for (secrecy, internal) in [(None, false), (Some("Mật"), false), (None, true)] {
                    let want = status == Withdrawn && ever && secrecy.is_none() && !internal;
                    assert_eq!(
                        shows_withdrawal_notice(status, secrecy, internal, ever),
                        want
                    );
                    // Never both public and a notice.
                    assert!(
                        !(shows_withdrawal_notice(status, secrecy, internal, ever)
                            && is_public(status, secrecy, internal))
                    );
                }
            }
        }
    }

    #[test]
    fn the_predicate_and_the_sql_name_the_same_columns() {
        assert_eq!(
            public_sql!("d."),
            "(d.status = 'published' AND d.secrecy IS NULL AND NOT d.internal_circulation)"
        );
        assert!(public_sql!().contains(Status::Published.as_str()));
        assert!(is_public(Status::Published, None, false));
        assert!(!is_public(Status::Published, Some(""), false));
        assert!(!is_public(Status::Published, None, true));
        assert!(!is_public(Status::Draft, None, false));
    }

    #[test]
    fn issuers_are_compared_in_canonical_form() {
        let same = [
            ("UBND xã Nam Chính", "Ủy ban nhân dân xã Nam Chính"),
            (
                "Uỷ ban nhân dân xã Nam Chính",
                "Ủy ban nhân dân xã Nam Chính",
            ),
            (
                "ỦY BAN NHÂN DÂN XÃ NAM CHÍNH",
                "Ủy ban nhân dân xã Nam Chính",
            ),
            // NFD input.
            (
                "U\u{309}y ban nha\u{302}n da\u{302}n xa\u{303} Nam Chi\u{301}nh",
                "UBND xã Nam Chính",
            ),
            ("UBND  xã  Nam Chính.", "Ủy ban nhân dân xã Nam Chính"),
            ("HĐND tỉnh Nam Định", "Hội đồng nhân dân tỉnh Nam Định"),
            (
                "Sở GD&ĐT tỉnh Nam Định",
                "Sở Giáo dục và Đào tạo tỉnh Nam Định",
            ),
            ("TAND huyện Trực Ninh", "Tòa án nhân dân huyện Trực Ninh"),
            (
                "VKSND TP Nam Định",
                "Viện kiểm sát nhân dân thành phố Nam Định",
            ),
            ("UBND TT Cổ Lễ", "Ủy ban nhân dân thị trấn Cổ Lễ"),
        ];
        for (a, b) in same {
            assert_eq!(canonical_issuer(a), canonical_issuer(b), "{a} ~ {b}");
        }
        let different = [
            ("UBND xã Nam Chính", "UBND xã Nam Thanh"),
            ("UBND xã Nam Chính", "HĐND xã Nam Chính"),
            ("Sở GD&ĐT", "Sở KH&ĐT"),
        ];
        for (a, b) in different {
            assert_ne!(canonical_issuer(a), canonical_issuer(b), "{a} / {b}");
        }
        assert_eq!(canonical_issuer(" - "), None);
    }

    #[test]
    fn number_symbols_are_compared_in_canonical_form() {
        for (a, b) in [
            ("116/QĐ-UBND", "116/QD-UBND"),
            ("116 /QĐ- UBND", "116/QĐ-UBND"),
            ("05/TB-UBND", "5/TB-UBND"),
            ("116/QÐ-UBND", "116/QĐ-UBND"),
            ("43/2011/NĐ-CP", "43/2011/ND-CP"),
            ("116/qđ-ubnd", "116/QĐ-UBND"),
        ] {
            assert_eq!(
                canonical_number_symbol(a),
                canonical_number_symbol(b),
                "{a}"
            );
        }
        assert_ne!(
            canonical_number_symbol("116/QĐ-UBND"),
            canonical_number_symbol("117/QĐ-UBND")
        );
        assert_eq!(
            canonical_number_symbol("/BC-UBND").as_deref(),
            Some("/BC-UBND")
        );
        assert_eq!(canonical_number_symbol("  "), None);
        assert_eq!(
            registry_key(Some("UBND xã Nam Chính"), Some(2021), Some("339/BC-UBND")).as_deref(),
            Some("uy ban nhan dan xa nam chinh|2021|339/BC-UBND")
        );
        assert_eq!(registry_key(None, Some(2021), Some("339/BC-UBND")), None);
    }

    #[test]
    fn placement_follows_the_ordering_cases() {
        use Evidence::*;
        let holder = |id, status, evidence, fp: &str| Holder {
            id,
            status,
            evidence,
            fingerprint: fp.into(),
        };
        let arrival = |evidence, fp: &str| Arrival {
            evidence,
            fingerprint: fp.into(),
        };
        let cases: &[(&str, Vec<Holder>, Arrival, Placement)] = &[
            ("nothing yet", vec![], arrival(Genuine, "a"), Placement::New),
            (
                "tampered first, genuine second",
                vec![holder(1, Status::NeedsReview, Broken, "a-tampered")],
                arrival(Genuine, "a"),
                Placement::Supersede {
                    record: 1,
                    copy: Broken,
                },
            ),
            (
                "unsigned first, signed original second",
                vec![holder(1, Status::Published, Plain, "a")],
                arrival(Genuine, "a"),
                Placement::Supersede {
                    record: 1,
                    copy: Plain,
                },
            ),
            (
                "signed first, unsigned copy second",
                vec![holder(1, Status::Published, Genuine, "a")],
                arrival(Plain, "a"),
                Placement::Duplicate { of: 1 },
            ),
            (
                "signed first, tampered copy second",
                vec![holder(1, Status::Published, Genuine, "a")],
                arrival(Broken, "a-tampered"),
                Placement::Conflict { with: 1 },
            ),
            (
                "two unsigned copies of one text",
                vec![holder(1, Status::Draft, Plain, "a")],
                arrival(Plain, "a"),
                Placement::Duplicate { of: 1 },
            ),
            (
                "true conflict",
                vec![holder(1, Status::Published, Plain, "a")],
                arrival(Plain, "b"),
                Placement::Conflict { with: 1 },
            ),
            (
                "two signed originals, different text",
                vec![holder(1, Status::Published, Genuine, "a")],
                arrival(Genuine, "b"),
                Placement::Conflict { with: 1 },
            ),
            (
                "the same signed original again (other bytes)",
                vec![holder(1, Status::Published, Genuine, "a")],
                arrival(Genuine, "a"),
                Placement::Duplicate { of: 1 },
            ),
            (
                "the published record speaks for the key",
                vec![
                    holder(1, Status::NeedsReview, Plain, "b"),
                    holder(2, Status::Published, Plain, "a"),
                ],
                arrival(Plain, "c"),
                Placement::Conflict { with: 2 },
            ),
            (
                "a held conflict copy seen again",
                vec![
                    holder(1, Status::Published, Genuine, "a"),
                    holder(2, Status::NeedsReview, Plain, "b"),
                ],
                arrival(Plain, "b"),
                Placement::Duplicate { of: 2 },
            ),
        ];
        for (name, holders, arrival, want) in cases {
            assert_eq!(&place(arrival, holders), want, "{name}");
        }
    }

    #[test]
    fn a_superseded_record_keeps_its_place_in_the_lifecycle() {
        use Status::*;
        for (current, decided, want) in [
            (Published, Published, Published),
            (Published, Draft, Published),
            (NeedsReview, Published, Published),
            (NeedsReview, Draft, Draft),
            (Published, NeedsReview, NeedsReview),
            (Withdrawn, Published, Withdrawn),
            (Draft, Draft, Draft),
        ] {
            assert_eq!(
                superseded_status(current, decided),
                want,
                "{current:?}+{decided:?}"
            );
        }
    }
}
