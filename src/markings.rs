//! Secrecy (MẬT, TỐI MẬT, TUYỆT MẬT) and circulation (LƯU HÀNH NỘI BỘ) markings, in the
//! many ways real documents write them, graded *certain* or *uncertain*.
//!
//! The principle: a marking is a **label standing on its own**: a whole line, a box, a
//! stamp, a form field, or a line whose other parts are themselves header items (the
//! number line, the motto, the date line, an urgency word, a copy number). The same words
//! inside a running sentence ("thực hiện Luật Bảo vệ bí mật nhà nước") are not a marking.
//! Matching ignores case, Unicode normalisation form, letter spacing ("M Ậ T"),
//! decorations (brackets, asterisks, boxes), marking prefixes ("TÀI LIỆU", "Độ mật:")
//! and suffixes ("Bản số: 05", "(đóng dấu)"), and a marking split over adjacent lines.
//!
//! Grades: a marking spelled exactly (diacritics included) where markings are placed —
//! the first page's header and foot, a stamp, an annotation, a form field — is
//! [`Grade::Certain`]. Anything marking-like that cannot be placed with certainty (a
//! diacritic-free or damaged spelling, a secrecy field with no or an unknown value, a
//! marking on a later page, an English stamp) is [`Grade::Uncertain`]: the document is
//! held for a clerk with the evidence. When in doubt about secrecy, hold.
//!
//! Architecture invariant: this module knows nothing about PDFs, the Decree-30 parser or
//! the store; it reads lines of text (with their page and origin) and short labels.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::text::{fold, normalize};

/// The three secrecy levels of the Law on Protection of State Secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecrecyLevel {
    Mat,
    ToiMat,
    TuyetMat,
}

impl SecrecyLevel {
    /// The marking as printed: "MẬT", "TỐI MẬT", "TUYỆT MẬT".
    pub fn label(self) -> &'static str {
        match self {
            SecrecyLevel::Mat => "MẬT",
            SecrecyLevel::ToiMat => "TỐI MẬT",
            SecrecyLevel::TuyetMat => "TUYỆT MẬT",
        }
    }
}

/// What a certain marking says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Marking {
    Secret(SecrecyLevel),
    /// LƯU HÀNH NỘI BỘ: internal circulation only.
    Internal,
}

impl Marking {
    pub fn label(self) -> &'static str {
        match self {
            Marking::Secret(level) => level.label(),
            Marking::Internal => "LƯU HÀNH NỘI BỘ",
        }
    }
}

/// How sure the detector is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// A marking: the document is classified or internal, never public.
    Certain(Marking),
    /// Marking-like, not placed with certainty: held for a clerk's review.
    Uncertain,
}

/// Where a line of text came from on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The page's content stream (text as laid out for reading).
    Content,
    /// An annotation's appearance or contents (a stamp, a free-text box, a note).
    Annotation,
    /// The value of an interactive form field.
    FormField,
    /// Text drawn at an angle (a rotated stamp).
    Rotated,
}

/// Where a finding sits, which decides how certain a well-spelled marking is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// The first page's header region (both columns, down to the title and abstract).
    Header,
    /// The last lines of the first page.
    Footer,
    /// Anywhere else in the page text: the body, later pages and their margins.
    Body,
    Annotation,
    FormField,
    RotatedStamp,
    /// A metadata value (an e-office package header field).
    Label,
}

impl Location {
    /// Vietnamese, for the clerk: "trang 1, đầu trang".
    pub fn describe(self) -> &'static str {
        match self {
            Location::Header => "đầu trang",
            Location::Footer => "chân trang",
            Location::Body => "trong thân văn bản",
            Location::Annotation => "dấu/chú thích trên trang",
            Location::FormField => "trường biểu mẫu",
            Location::RotatedStamp => "dấu xoay nghiêng",
            Location::Label => "thông tin gói văn bản",
        }
    }

    /// Markings are placed here: an exact spelling is certain.
    fn is_marking_place(self) -> bool {
        !matches!(self, Location::Body)
    }
}

/// One line of input for [`detect`].
#[derive(Debug, Clone)]
pub struct Line {
    pub text: String,
    pub page: u32,
    /// The line starts a new block (a new column, box, or after a paragraph gap).
    pub block_start: bool,
    pub origin: Origin,
}

impl Line {
    pub fn content(text: impl Into<String>, page: u32, block_start: bool) -> Line {
        Line {
            text: text.into(),
            page,
            block_start,
            origin: Origin::Content,
        }
    }
}

/// A marking, or a marking-like token held for review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub grade: Grade,
    /// The exact text read (lines of a split marking joined with " / ").
    pub evidence: String,
    /// 1-based page; 0 for a metadata value.
    pub page: u32,
    pub location: Location,
    /// Why this grade, in Vietnamese.
    pub reason: String,
    /// Indices of the lines given to [`detect`] that the finding covers (none for a label).
    pub lines: Vec<usize>,
    /// The finding covers its lines entirely (they are marking lines, not content).
    pub whole_lines: bool,
}

impl Finding {
    pub fn is_certain(&self) -> bool {
        matches!(self.grade, Grade::Certain(_))
    }

    /// The reason a clerk reads when the document is held:
    /// "«M ậ t» (trang 1, đầu trang): viết không dấu…".
    pub fn describe(&self) -> String {
        let place = match self.page {
            // A metadata value has no page.
            0 => self.location.describe().to_string(),
            page => format!("trang {page}, {}", self.location.describe()),
        };
        format!("«{}» ({place}): {}", self.evidence, self.reason)
    }
}

/// Grades a short label, such as an e-office header value: "Mật", "TỐI MẬT", "Độ mật:
/// Tuyệt mật", "Lưu hành nội bộ", "Nội bộ" → certain; "MAT", "Độ mật: ???",
/// "Confidential" → uncertain; "Thường", "" or a sentence → `None`.
pub fn grade_label(value: &str) -> Option<Grade> {
    let hit = classify(value)?;
    Some(match hit.form {
        Form::Exact(marking) => Grade::Certain(marking),
        // A header field that says "Nội bộ" is the circulation field, not prose.
        Form::BareInternal { exact: true } => Grade::Certain(Marking::Internal),
        _ => Grade::Uncertain,
    })
}

/// A finding for a metadata value (an e-office header field named `field`), ready for
/// `decree30::apply_markings`: certain values set the marking, doubtful ones hold the
/// document for review like any other doubt.
pub fn label_finding(field: &str, value: &str) -> Option<Finding> {
    let grade = grade_label(value)?;
    let reason = match grade {
        Grade::Certain(marking) => format!("trường {field} ghi {}", marking.label()),
        Grade::Uncertain => format!(
            "trường {field} có giá trị giống dấu chỉ độ mật / lưu hành nội bộ nhưng không rõ; văn thư kiểm tra"
        ),
    };
    Some(Finding {
        grade,
        evidence: crate::text::tidy_line(normalize(value).trim()),
        page: 0,
        location: Location::Label,
        reason,
        lines: Vec::new(),
        whole_lines: true,
    })
}

/// True when the whole text is a marking (certain or not), e.g. "M Ậ T", "TÀI LIỆU LƯU
/// HÀNH NỘI BỘ", "Độ mật: Mật": the header parser skips such lines.
pub fn is_marking_line(text: &str) -> bool {
    classify(text).is_some_and(|hit| hit.whole)
}

/// The text with its marking removed, when the marking shares the line with other header
/// items ("Số: 12/BC-UBND MẬT" → "Số: 12/BC-UBND"). `None` when the line holds no
/// marking or is nothing but one.
pub fn strip_marking(text: &str) -> Option<String> {
    let normalized = normalize(text);
    let hit = classify(&normalized)?;
    if hit.whole {
        return None;
    }
    let mut out = String::new();
    out.push_str(&normalized[..hit.span.start]);
    out.push(' ');
    out.push_str(&normalized[hit.span.end..]);
    Some(crate::text::tidy_line(out.trim()))
}

/// Lines of the first page before the body starts are the header; never more than this.
const HEADER_MAX_LINES: usize = 40;
/// The last lines (with letters) of a page are its foot.
const FOOTER_LINES: usize = 3;
/// A marking split over more than two lines is letter by letter: each line this short.
const SPLIT_PIECE_MAX_CHARS: usize = 3;
const SPLIT_MAX_LINES: usize = 12;
/// Letters of a marking split letter by letter ("lưuhànhtrongnộibộ" has 17).
const SPLIT_MAX_CHARS: usize = 20;
/// Longest line that may hold a marking standing on its own (with header items glued).
const MAX_MARKING_LINE_CHARS: usize = 240;
/// Longest piece beside a marking read as another marking ("MẬT - LƯU HÀNH NỘI BỘ").
const MAX_MARKING_PIECE_CHARS: usize = 48;
/// Findings kept per document (a hostile file may repeat a marking on every line).
const MAX_FINDINGS: usize = 100;

/// Finds every marking and marking-like token in the lines of a document (content lines
/// in reading order, then stamp, annotation and form-field lines, each with its page).
pub fn detect(lines: &[Line]) -> Vec<Finding> {
    let locations = locations(lines);
    // Only a line holding a piece of a marking word can be (or help make) a marking.
    let candidate: Vec<bool> = lines
        .iter()
        .map(|l| l.text.len() <= 4 * MAX_MARKING_LINE_CHARS && may_hold_marking(&l.text))
        .collect();
    let singles: Vec<Option<Hit>> = lines
        .iter()
        .zip(&candidate)
        .map(|(l, &c)| if c { classify(&l.text) } else { None })
        .collect();
    let mut findings = Vec::new();
    let mut consumed = vec![false; lines.len()];

    // Split markings: "TỐI" / "MẬT", "LƯU HÀNH" / "NỘI BỘ", "M" / "Ậ" / "T".
    let letters: Vec<usize> = lines.iter().map(|l| compact_len(&l.text)).collect();
    for start in 0..lines.len() {
        if consumed[start] || letters[start] == 0 {
            continue;
        }
        let same_place =
            |j: usize| lines[j].page == lines[start].page && lines[j].origin == lines[start].origin;
        // Lines after `start` short enough to be letters of a marking split one by one.
        let mut short_end = start;
        let mut short_letters = 0;
        while short_end < lines.len()
            && short_end - start < SPLIT_MAX_LINES
            && (1..=SPLIT_PIECE_MAX_CHARS).contains(&letters[short_end])
            && short_letters + letters[short_end] <= SPLIT_MAX_CHARS
            && same_place(short_end)
        {
            short_letters += letters[short_end];
            short_end += 1;
        }
        let pair_possible = start + 1 < lines.len()
            && letters[start + 1] > 0
            && same_place(start + 1)
            && (candidate[start] || candidate[start + 1]);
        let longest = short_end.max(if pair_possible { start + 2 } else { start });
        for end in (start + 2..=longest).rev() {
            let window = &lines[start..end];
            let joined = window
                .iter()
                .map(|l| l.text.trim())
                .collect::<Vec<_>>()
                .join(" ");
            let Some(hit) = classify(&joined).filter(|h| h.whole) else {
                continue;
            };
            let singles_here = &singles[start..end];
            // Joined only when the join says more than the lines do alone: "TỐI" / "MẬT",
            // or "Độ mật" / "Mật" (a bare label beside its value).
            let better = match hit.form {
                Form::Exact(marking) => {
                    !singles_here
                        .iter()
                        .flatten()
                        .any(|s| s.form == Form::Exact(marking))
                        || singles_here
                            .iter()
                            .flatten()
                            .any(|s| !matches!(s.form, Form::Exact(_)))
                }
                _ => singles_here.iter().all(Option::is_none),
            };
            if !better {
                continue;
            }
            let location = locations[start];
            if let Some((grade, reason)) = grade_of(hit.form, location, false) {
                findings.push(Finding {
                    grade,
                    evidence: window
                        .iter()
                        .map(|l| l.text.trim())
                        .collect::<Vec<_>>()
                        .join(" / "),
                    page: lines[start].page,
                    location,
                    reason,
                    lines: (start..end).collect(),
                    whole_lines: true,
                });
                consumed[start..end].iter_mut().for_each(|c| *c = true);
            }
            break;
        }
    }

    for (i, line) in lines.iter().enumerate() {
        if consumed[i] {
            continue;
        }
        let location = locations[i];
        let mut text = normalize(&line.text);
        let mut hit = singles[i].clone();
        // A line may hold two markings ("MẬT - LƯU HÀNH NỘI BỘ"): read what is left.
        for _ in 0..3 {
            let Some(found) = hit.take() else {
                break;
            };
            let continuation = found.whole
                && line.origin == Origin::Content
                && (continues_sentence(lines, i) || continued_by_next(lines, i));
            // Prose on both sides: a phrase wrapped over three lines, not a box.
            let inside_phrase = found.whole
                && line.origin == Origin::Content
                && !line.block_start
                && i > 0
                && continued_by_next(lines, i);
            let graded = if inside_phrase {
                None
            } else {
                grade_of(found.form, location, continuation)
            };
            if let Some((grade, reason)) = graded {
                let evidence = if found.whole {
                    text.trim()
                } else {
                    text[found.span.clone()].trim()
                };
                findings.push(Finding {
                    grade,
                    evidence: crate::text::tidy_line(evidence),
                    page: line.page,
                    location,
                    reason,
                    lines: vec![i],
                    whole_lines: found.whole,
                });
            }
            if found.whole {
                break;
            }
            text = format!("{} {}", &text[..found.span.start], &text[found.span.end..]);
            hit = classify(&text);
        }
    }
    // The same stamp is often seen twice: drawn on the page and as an annotation.
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert((f.grade, f.page, compact_folded(&f.evidence))));
    findings.sort_by_key(|f| f.lines.first().copied().unwrap_or(usize::MAX));
    if findings.len() > MAX_FINDINGS {
        // Keep every certain one first, then the first doubts.
        findings.sort_by_key(|f| !f.is_certain());
        findings.truncate(MAX_FINDINGS);
        findings.sort_by_key(|f| f.lines.first().copied().unwrap_or(usize::MAX));
    }
    findings
}

/// The strongest certain marking of each kind among findings: (secrecy, internal).
pub fn certain_markings(
    findings: &[Finding],
) -> (Option<(SecrecyLevel, &Finding)>, Option<&Finding>) {
    let mut secret: Option<(SecrecyLevel, &Finding)> = None;
    let mut internal = None;
    for f in findings {
        match f.grade {
            Grade::Certain(Marking::Secret(level)) => {
                if secret.is_none_or(|(current, _)| level > current) {
                    secret = Some((level, f));
                }
            }
            Grade::Certain(Marking::Internal) => {
                if internal.is_none() {
                    internal = Some(f);
                }
            }
            Grade::Uncertain => {}
        }
    }
    (secret, internal)
}

/// How a marking-like token is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Spelled exactly, diacritics and all.
    Exact(Marking),
    /// Only the diacritic-free spelling matches ("MAT", "Mặt", "LUU HANH NOI BO").
    Folded(Marking),
    /// A damaged or partial spelling ("LƯU HÀNH NỘ", "TỐI M?T").
    Partial,
    /// A secrecy field with no value or one that is not a level ("Độ mật:", "Độ mật: X").
    BareLabel,
    /// "NỘI BỘ" alone: the circulation marking without its verb, or a department name.
    BareInternal { exact: bool },
    /// An English stamp: "CONFIDENTIAL", "TOP SECRET", "INTERNAL USE ONLY".
    Foreign,
}

#[derive(Debug, Clone)]
struct Hit {
    form: Form,
    /// Byte range of the marking (with its prefix and suffix words) in the normalised text.
    span: Range<usize>,
    /// The marking is all the text holds.
    whole: bool,
}

fn grade_of(form: Form, location: Location, continuation: bool) -> Option<(Grade, String)> {
    let body = !location.is_marking_place();
    let uncertain = |reason: String| Some((Grade::Uncertain, reason));
    match form {
        Form::Exact(marking) if continuation => {
            if body {
                None
            } else {
                uncertain(format!(
                    "dòng «{}» có thể là phần cuối của một câu bị ngắt dòng; văn thư kiểm tra",
                    marking.label()
                ))
            }
        }
        Form::Exact(marking) if !body => Some((
            Grade::Certain(marking),
            format!("dấu chỉ {} đứng riêng ({})", marking.label(), location.describe()),
        )),
        Form::Exact(marking) => uncertain(format!(
            "dấu chỉ {} đứng riêng nhưng không ở phần đầu trang 1, chân trang 1 hay trên dấu/trường biểu mẫu; văn thư kiểm tra",
            marking.label()
        )),
        Form::BareLabel => uncertain(
            "trường độ mật không có giá trị hoặc giá trị không phải là một độ mật; văn thư kiểm tra"
                .into(),
        ),
        _ if body => None,
        Form::Folded(marking) => uncertain(format!(
            "giống dấu chỉ {} nhưng viết không dấu hoặc sai dấu (có thể là «mặt», «mất»…); văn thư kiểm tra",
            marking.label()
        )),
        Form::Partial => uncertain(
            "dấu chỉ độ mật / lưu hành nội bộ viết thiếu hoặc lỗi phông chữ; văn thư kiểm tra"
                .into(),
        ),
        Form::BareInternal { .. } => uncertain(
            "chữ «nội bộ» đứng riêng: có thể là dấu chỉ lưu hành nội bộ; văn thư kiểm tra".into(),
        ),
        Form::Foreign => uncertain(
            "dấu tiếng Anh chỉ tài liệu mật hoặc nội bộ; văn thư kiểm tra".into(),
        ),
    }
}

/// The location of every line: header and foot of page 1 for content lines, otherwise
/// the origin's own place.
fn locations(lines: &[Line]) -> Vec<Location> {
    let first_page = lines
        .iter()
        .filter(|l| l.origin == Origin::Content)
        .map(|l| l.page)
        .min()
        .unwrap_or(1);
    let content_of_first: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].origin == Origin::Content && lines[i].page == first_page)
        .collect();
    let header_end = content_of_first
        .iter()
        .position(|&i| starts_body(&lines[i].text))
        .unwrap_or(content_of_first.len())
        .min(HEADER_MAX_LINES);
    let header: std::collections::HashSet<usize> =
        content_of_first[..header_end].iter().copied().collect();
    let footer: std::collections::HashSet<usize> = content_of_first
        .iter()
        .rev()
        .filter(|&&i| lines[i].text.chars().any(char::is_alphabetic))
        .take(FOOTER_LINES)
        .copied()
        .collect();
    (0..lines.len())
        .map(|i| match lines[i].origin {
            Origin::Annotation => Location::Annotation,
            Origin::FormField => Location::FormField,
            Origin::Rotated => Location::RotatedStamp,
            Origin::Content if header.contains(&i) => Location::Header,
            Origin::Content if footer.contains(&i) => Location::Footer,
            Origin::Content => Location::Body,
        })
        .collect()
}

fn starts_body(text: &str) -> bool {
    let f = fold(text);
    let f = f.trim_start();
    [
        "can cu",
        "kinh gui",
        "dieu 1",
        "xet de nghi",
        "theo de nghi",
        "chuong i",
        "phan i",
        "i. ",
        "1. ",
    ]
    .iter()
    .any(|p| f.starts_with(p))
        || word_count(text) >= 18
}

/// The line is the tail of a sentence wrapped from the line above ("… quản lý tài liệu" /
/// "mật."), not a box of its own.
fn continues_sentence(lines: &[Line], i: usize) -> bool {
    if i == 0 || lines[i].block_start {
        return false;
    }
    let prev = &lines[i - 1];
    if prev.page != lines[i].page || prev.origin != Origin::Content {
        return false;
    }
    let text = prev.text.trim();
    let folded = folded_text(text);
    word_count(text) >= 6
        && text.chars().any(char::is_lowercase)
        && !text.ends_with(['.', ':', ';', '!', '?', ')'])
        && !structural(&folded)
        // A header row read across both columns ("Số: 339/BC-UBND Nam Chính, ngày …").
        && !HEADER_ROW.is_match(&folded)
}

/// The next line carries on the same phrase ("Mật" / "độ xây dựng" in a table heading,
/// "lưu hành nội bộ" / "trong cơ quan"): same block, starting with a lower-case letter.
fn continued_by_next(lines: &[Line], i: usize) -> bool {
    let Some(next) = lines.get(i + 1) else {
        return false;
    };
    next.page == lines[i].page
        && next.origin == Origin::Content
        && !next.block_start
        && next
            .text
            .chars()
            .find(|c| c.is_alphabetic())
            .is_some_and(char::is_lowercase)
}

/// Header items inside a longer line: the number line, the motto, the date line.
static HEADER_ROW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\bso\s*:\s*\d*\s*/|cong hoa xa hoi chu nghia|doc lap\W*tu do|\bngay\s*\d{0,2}\s*thang\s*\d{0,2}\s*nam\s*\d{4}",
    )
    .unwrap()
});

/// Text prepared for matching: per character, its lower-case form and an ASCII fold, so
/// that positions agree between the three.
struct Prepared {
    /// Byte offset in the normalised text of every character, and the end.
    offsets: Vec<usize>,
    /// Lower-case characters.
    lower: Vec<char>,
    /// One ASCII character per character: ASCII as is (lower case), the folded letter,
    /// ' ' for spaces, '?' for an unreadable character, 'x' for other letters, '#' for
    /// anything else.
    folded: String,
}

fn prepare(normalized: &str) -> Prepared {
    let mut offsets = Vec::new();
    let mut lower = Vec::new();
    let mut folded = String::new();
    for (offset, c) in normalized.char_indices() {
        offsets.push(offset);
        let lc = c.to_lowercase().next().unwrap_or(c);
        lower.push(lc);
        let ascii = if c == '\u{FFFD}' || c == '?' {
            '?'
        } else if c.is_whitespace() {
            ' '
        } else if c.is_ascii() {
            if c.is_ascii_control() {
                '#'
            } else {
                c.to_ascii_lowercase()
            }
        } else {
            let f = fold(lc.encode_utf8(&mut [0; 4]));
            let mut fc = f.chars();
            match (fc.next(), fc.next()) {
                (Some(a), None) if a.is_ascii_alphanumeric() => a,
                _ if c.is_alphanumeric() => 'x',
                _ => '#',
            }
        };
        folded.push(ascii);
    }
    offsets.push(normalized.len());
    Prepared {
        offsets,
        lower,
        folded,
    }
}

fn folded_text(text: &str) -> String {
    prepare(&normalize(text)).folded
}

/// Letters and digits only, folded: "M Ậ T" → "mat".
fn compact_folded(text: &str) -> String {
    folded_text(text)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// Words of a text, a letter-spaced run ("M Ậ T") counting as one word.
fn word_count(text: &str) -> usize {
    let mut count = 0;
    let mut in_spaced_run = false;
    for token in text
        .split_whitespace()
        .filter(|t| t.chars().any(char::is_alphanumeric))
    {
        let single = token.chars().filter(|c| c.is_alphanumeric()).count() == 1;
        if !(single && in_spaced_run) {
            count += 1;
        }
        in_spaced_run = single;
    }
    count
}

fn compact_len(text: &str) -> usize {
    text.chars().filter(|c| c.is_alphanumeric()).count()
}

/// A pattern for words spelled letter by letter with optional spaces ("m *a *t"), words
/// separated by anything that is not a letter or digit.
fn spaced(words: &str) -> String {
    words
        .split(' ')
        .map(|w| {
            w.chars()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(" *")
        })
        .collect::<Vec<_>>()
        .join("[^a-z0-9]*")
}

struct Core {
    pattern: Regex,
    /// The exact letters ("tốimật") of each accepted spelling.
    exact: &'static [&'static str],
    marking: Option<Marking>,
}

static CORES: LazyLock<Vec<Core>> = LazyLock::new(|| {
    let core = |alternatives: &[&str], exact: &'static [&'static str], marking| Core {
        pattern: Regex::new(
            &alternatives
                .iter()
                .map(|a| spaced(a))
                .collect::<Vec<_>>()
                .join("|"),
        )
        .unwrap(),
        exact,
        marking,
    };
    vec![
        core(
            &["luu hanh trong noi bo", "luu hanh noi bo"],
            &["lưuhànhtrongnộibộ", "lưuhànhnộibộ"],
            Some(Marking::Internal),
        ),
        core(
            &["tuyet mat"],
            &["tuyệtmật"],
            Some(Marking::Secret(SecrecyLevel::TuyetMat)),
        ),
        core(
            &["toi mat"],
            &["tốimật"],
            Some(Marking::Secret(SecrecyLevel::ToiMat)),
        ),
        core(&["noi bo"], &["nộibộ"], None),
        core(&["mat"], &["mật"], Some(Marking::Secret(SecrecyLevel::Mat))),
    ]
});

/// "Độ mật:", "Mức độ mật", "Độ bảo mật" at the start of a text.
static SECRECY_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        "^[^a-z0-9]*(?:(?:{}|{})[^a-z0-9]*)?{}[^a-z0-9]*(?:{}[^a-z0-9]*)?{}",
        spaced("muc"),
        spaced("cap"),
        spaced("do"),
        spaced("bao"),
        spaced("mat")
    ))
    .unwrap()
});

/// Words that may stand before a marking: "TÀI LIỆU MẬT", "CHỈ LƯU HÀNH NỘI BỘ",
/// "Độ: Tối mật", an urgency marking in the same box.
const PREFIXES: &[&str] = &[
    "mucdobaomat",
    "mucdomat",
    "capdomat",
    "dobaomat",
    "domat",
    "tailieu",
    "vanban",
    "hoso",
    "chi",
    "dongdau",
    "dau",
    "mucdo",
    "capdo",
    "do",
    "phanloai",
    "sudung",
    "dung",
    "phathanh",
    "phobien",
    "hoatochengio",
    "hoatoc",
    "thuongkhan",
    "khan",
];

/// Words that make a bare "nội bộ" the circulation marking: "TÀI LIỆU NỘI BỘ".
const INTERNAL_PREFIXES: &[&str] = &[
    "tailieu", "vanban", "hoso", "chi", "sudung", "dung", "phathanh", "phobien",
];

/// What may follow a marking in its box: copy numbers, "(đóng dấu)", an urgency marking.
static SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:banso\d*|soban\d*|ban\d+|so\d+|\d+|dongdau|dau|dokhan(?:hoatochengio|hoatoc|thuongkhan|khan|thuong)?|hoatochengio|hoatoc|thuongkhan|khan)",
    )
    .unwrap()
});

/// Values of a secrecy field that say "not secret".
const PUBLIC_VALUES: &[&str] = &[
    "thuong",
    "binhthuong",
    "khong",
    "khongmat",
    "congkhai",
    "khongco",
    "0",
];

static NUMBER_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^so\s*[:.;]?\s*[0-9/]").unwrap());
static MOTTO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:cong hoa xa hoi chu nghia viet nam|doc lap\W*tu do\W*hanh phuc)$").unwrap()
});
static DATE_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[a-z ]{0,40}\W*)?ngay\b.{0,30}\bnam\s*\d{4}$").unwrap());
static URGENCY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:khan|thuong khan|hoa toc(?: hen gio)?)$").unwrap());
static PAGE_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:trang\s*)?\d+(?:\s*/\s*\d+)?$").unwrap());

/// A header item that may share a line with a marking (after layout glued them).
fn structural(folded: &str) -> bool {
    let t = folded.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let words = t.split_whitespace().collect::<Vec<_>>().join(" ");
    words.is_empty()
        || NUMBER_LINE.is_match(&words) && words.split(' ').count() <= 4
        || MOTTO.is_match(&words)
        || DATE_LINE.is_match(&words) && words.split(' ').count() <= 14
        || URGENCY.is_match(&words)
        || PAGE_NUMBER.is_match(&words)
}

/// Classifies a text (a line, a label, lines joined) as holding a marking that stands on
/// its own, or not.
fn classify(text: &str) -> Option<Hit> {
    classify_at(text, 0)
}

/// [`classify`], `depth` pieces deep: a piece beside a marking is read as another marking
/// only at the top level, so the work stays linear in the number of matches.
fn classify_at(text: &str, depth: u8) -> Option<Hit> {
    if text.len() > 4 * MAX_MARKING_LINE_CHARS || !may_hold_marking(text) {
        return None;
    }
    let normalized = normalize(text);
    // A marking and the header items it may share a line with are short; a longer line
    // is prose (and hostile lines must not cost more than linear time).
    if normalized.chars().count() > MAX_MARKING_LINE_CHARS {
        return None;
    }
    let p = prepare(&normalized);
    let n = p.lower.len();
    if let Some(label) = SECRECY_LABEL.find(&p.folded)
        && !p
            .folded
            .as_bytes()
            .get(label.end())
            .is_some_and(|b| b.is_ascii_alphanumeric())
    {
        return classify_label(&normalized, &p, label.end());
    }
    for core in CORES.iter() {
        for m in core.pattern.find_iter(&p.folded) {
            let (s, e) = (m.start(), m.end());
            let bytes = p.folded.as_bytes();
            if s > 0 && bytes[s - 1].is_ascii_alphanumeric()
                || e < n && bytes[e].is_ascii_alphanumeric()
            {
                continue;
            }
            let Some((left, right, prefix_words)) = surroundings(&normalized, &p, s, e, depth)
            else {
                continue;
            };
            let letters: String = p.lower[s..e].iter().filter(|c| c.is_alphabetic()).collect();
            let exact = core.exact.contains(&letters.as_str());
            let form = match core.marking {
                Some(marking) if exact => Form::Exact(marking),
                Some(marking) => Form::Folded(marking),
                None => {
                    let introduced = prefix_words.iter().any(|w| INTERNAL_PREFIXES.contains(w));
                    if introduced && exact {
                        Form::Exact(Marking::Internal)
                    } else if introduced {
                        Form::Folded(Marking::Internal)
                    } else {
                        Form::BareInternal { exact }
                    }
                }
            };
            let outside = |r: &str| !r.chars().any(|c| c.is_ascii_alphanumeric());
            return Some(Hit {
                form,
                span: p.offsets[left]..p.offsets[right],
                whole: outside(&p.folded[..left]) && outside(&p.folded[right..]),
            });
        }
    }
    damaged(&p).map(|form| Hit {
        form,
        span: 0..normalized.len(),
        whole: true,
    })
}

/// Cheap pre-filter: the folded letters hold a piece of some marking word (any
/// normalisation form: folding drops combining marks).
fn may_hold_marking(text: &str) -> bool {
    const NEEDLES: &[&str] = &[
        "mat",
        "noib",
        "luuhanh",
        "toim",
        "tuyetm",
        "confidential",
        "secret",
        "restricted",
        "classified",
        "internal",
        "notforpubli",
    ];
    let compact: String = fold(text)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '?' || *c == '\u{FFFD}')
        .collect();
    compact.contains(['?', '\u{FFFD}']) || NEEDLES.iter().any(|n| compact.contains(n))
}

/// Around a match at `s..e`: strips marking prefixes before it and suffixes after it,
/// and accepts it when what remains on each side is empty or a header item. Returns the
/// extended span (characters) and the prefix words stripped.
fn surroundings(
    normalized: &str,
    p: &Prepared,
    s: usize,
    e: usize,
    depth: u8,
) -> Option<(usize, usize, Vec<&'static str>)> {
    // Another marking in the same box ("MẬT - LƯU HÀNH NỘI BỘ") is a header item too.
    let piece_ok = |from: usize, to: usize| {
        let folded: String = p.folded.chars().skip(from).take(to - from).collect();
        structural(&folded)
            || depth == 0
                && to - from <= MAX_MARKING_PIECE_CHARS
                && classify_at(&normalized[p.offsets[from]..p.offsets[to]], 1)
                    .is_some_and(|h| h.whole && matches!(h.form, Form::Exact(_) | Form::Folded(_)))
    };
    let folded: Vec<char> = p.folded.chars().collect();
    // Left: the alphanumeric characters before the match, stripped of prefix words.
    let left_positions: Vec<usize> = (0..s)
        .filter(|&i| folded[i].is_ascii_alphanumeric())
        .collect();
    let mut left_compact: String = left_positions.iter().map(|&i| folded[i]).collect();
    let mut prefix_words = Vec::new();
    while let Some(word) = PREFIXES.iter().find(|w| left_compact.ends_with(*w)) {
        left_compact.truncate(left_compact.len() - word.len());
        prefix_words.push(*word);
    }
    let left = match left_compact.len() {
        0 => 0,
        k => left_positions[k - 1] + 1,
    };
    // Right: the characters after the match, stripped of suffixes.
    let right_positions: Vec<usize> = (e..folded.len())
        .filter(|&i| folded[i].is_ascii_alphanumeric())
        .collect();
    let right_compact: String = right_positions.iter().map(|&i| folded[i]).collect();
    let mut cut = 0;
    while let Some(m) = SUFFIX.find(&right_compact[cut..]) {
        if m.end() == 0 {
            break;
        }
        cut += m.end();
    }
    let right = if cut == right_positions.len() {
        folded.len()
    } else if cut == 0 {
        e
    } else {
        right_positions[cut - 1] + 1
    };
    if !piece_ok(0, left) {
        return None;
    }
    if piece_ok(right, folded.len()) {
        return Some((left, right, prefix_words));
    }
    // "MẬT Số: 12/BC-UBND": the whole rest is a header item that starts like a suffix.
    if right != e && piece_ok(e, folded.len()) {
        return Some((left, e, prefix_words));
    }
    None
}

/// "Độ mật: <value>": the value decides; no value or an unknown one is a bare label.
fn classify_label(normalized: &str, p: &Prepared, label_end: usize) -> Option<Hit> {
    let label_letters: String = p.lower[..label_end]
        .iter()
        .filter(|c| c.is_alphabetic())
        .collect();
    let label_exact = label_letters.ends_with("mật") && label_letters.contains("độ");
    let value = &normalized[p.offsets[label_end]..];
    let value_words = word_count(value);
    let whole = 0..normalized.len();
    if let Some(hit) = classify(value).filter(|h| h.whole) {
        let form = match hit.form {
            Form::Exact(marking) if label_exact => Form::Exact(marking),
            Form::Exact(marking) => Form::Folded(marking),
            Form::BareInternal { exact } => Form::BareInternal { exact },
            other => other,
        };
        return Some(Hit {
            form,
            span: whole,
            whole: true,
        });
    }
    let compact = compact_folded(value);
    let mut value_compact = compact.as_str();
    if let Some(at) = value_compact.find("dokhan") {
        value_compact = &value_compact[..at];
    }
    if PUBLIC_VALUES.contains(&value_compact) {
        return None;
    }
    // "Độ mật của tài liệu được xác định …": a sentence about secrecy, not a field.
    let colon = value.trim_start().starts_with([':', '-']);
    if value_words > 4 || (!colon && (value_words > 2 || !label_exact)) {
        return None;
    }
    Some(Hit {
        form: Form::BareLabel,
        span: whole,
        whole: true,
    })
}

/// A whole text that is a damaged or partial marking ("LƯU HÀNH NỘ", "M?T", "TỐI MẬ"),
/// or an English one.
fn damaged(p: &Prepared) -> Option<Form> {
    let compact: String = p
        .folded
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '?')
        .collect();
    if compact.len() < 3 || compact.len() > 24 {
        return None;
    }
    const FOREIGN: &[&str] = &[
        "confidential",
        "secret",
        "topsecret",
        "restricted",
        "classified",
        "internal",
        "internaluseonly",
        "forinternaluseonly",
        "notforpublicrelease",
        "notforpublication",
    ];
    if FOREIGN.contains(&compact.as_str()) {
        return Some(Form::Foreign);
    }
    // "BÍ MẬT" as a box of its own says "secret" without being a level.
    if ["bimat", "bimatnhanuoc", "tailieubimat", "vanbanbimat"].contains(&compact.as_str()) {
        return Some(Form::Partial);
    }
    let wildcards = compact.chars().filter(|&c| c == '?').count();
    if wildcards > 2 || compact.len() - wildcards < 2 || (compact.len() <= 4 && wildcards > 1) {
        return None;
    }
    for (core, distance, min_prefix) in [
        ("luuhanhnoibo", 2, 9),
        ("tuyetmat", 1, 6),
        ("toimat", 1, 5),
        ("mat", 0, 3),
    ] {
        let wildcard = wildcards > 0;
        if compact.len() < core.len() && compact.len() >= min_prefix && core.starts_with(&compact) {
            return Some(Form::Partial);
        }
        if (wildcard || distance > 0)
            && edit_distance(&compact, core) <= distance.max(usize::from(wildcard))
        {
            return Some(Form::Partial);
        }
    }
    None
}

/// Levenshtein distance where '?' in `a` matches any character.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let same = a[i - 1] == b[j - 1] || a[i - 1] == '?';
            row[j] = (prev[j - 1] + usize::from(!same))
                .min(prev[j] + 1)
                .min(row[j - 1] + 1);
        }
        prev = row;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(text: &str) -> Option<Form> {
        classify(text).filter(|h| h.whole).map(|h| h.form)
    }

    const MAT: Form = Form::Exact(Marking::Secret(SecrecyLevel::Mat));

    #[test]
    fn whole_line_forms() {
        assert_eq!(form("MẬT"), Some(MAT));
        assert_eq!(form("M Ậ T"), Some(MAT));
        assert_eq!(form("[ mật ]"), Some(MAT));
        assert_eq!(
            form("T Ố I  M Ậ T"),
            Some(Form::Exact(Marking::Secret(SecrecyLevel::ToiMat)))
        );
        assert_eq!(
            form("Tài liệu lưu hành nội bộ"),
            Some(Form::Exact(Marking::Internal))
        );
        assert_eq!(form("MẬT   Bản số: 05"), Some(MAT));
        assert_eq!(form("Độ mật: Mật"), Some(MAT));
        assert_eq!(form("Độ mật:"), Some(Form::BareLabel));
        assert_eq!(form("Độ mật: Thường"), None);
        assert_eq!(
            form("MAT"),
            Some(Form::Folded(Marking::Secret(SecrecyLevel::Mat)))
        );
        assert_eq!(form("LƯU HÀNH NỘ"), Some(Form::Partial));
        assert_eq!(form("bảo vệ bí mật nhà nước"), None);
        assert_eq!(form("mật độ dân số"), None);
    }

    #[test]
    fn marking_beside_the_number() {
        let hit = classify("Số: 12/BC-UBND MẬT").expect("a marking");
        assert_eq!(hit.form, MAT);
        assert!(!hit.whole);
        assert_eq!(
            strip_marking("Số: 12/BC-UBND MẬT").as_deref(),
            Some("Số: 12/BC-UBND")
        );
    }

    #[test]
    fn labels() {
        assert_eq!(
            grade_label("Tối mật"),
            Some(Grade::Certain(Marking::Secret(SecrecyLevel::ToiMat)))
        );
        assert_eq!(
            grade_label("Nội bộ"),
            Some(Grade::Certain(Marking::Internal))
        );
        assert_eq!(grade_label("MAT"), Some(Grade::Uncertain));
        assert_eq!(grade_label("Thường"), None);
        assert_eq!(grade_label(""), None);
    }

    #[test]
    fn header_values_become_findings() {
        let certain = label_finding("OtherInfo", "Độ mật: Tối mật").expect("a finding");
        assert_eq!(
            certain.grade,
            Grade::Certain(Marking::Secret(SecrecyLevel::ToiMat))
        );
        assert_eq!(certain.location, Location::Label);
        let doubt = label_finding("TypeDetail", "MAT").expect("a finding");
        assert_eq!(doubt.grade, Grade::Uncertain);
        assert!(doubt.describe().contains("«MAT»"));
        assert!(label_finding("TypeDetail", "Công văn").is_none());
    }

    #[test]
    fn hostile_input_is_bounded() {
        // A long line of markings is prose, read in linear time.
        assert!(classify(&"mật ".repeat(20_000)).is_none());
        // A marking on every line of many pages: a bounded list, certain ones kept.
        let mut lines = vec![Line::content("MẬT", 1, true)];
        lines.extend((0..600).map(|i| Line::content("MẬT", 2 + i / 5, true)));
        let findings = detect(&lines);
        assert_eq!(findings.len(), MAX_FINDINGS);
        assert!(findings[0].is_certain());
    }

    #[test]
    fn edit_distance_with_wildcards() {
        assert_eq!(edit_distance("m?t", "mat"), 0);
        assert_eq!(edit_distance("luuhanhnoib", "luuhanhnoibo"), 1);
    }
}
