//! The Decree-30 parser: metadata of a Vietnamese administrative document from its text lines.
//!
//! Input is text in reading order (left header column before the right one, see
//! `pdf::layout`). Every field records how sure the parser is and the line it came from.
//! A field that is blank on the page (`Số:   /BC-UBND`, `ngày   tháng   năm 2022`) is `None`;
//! nothing is guessed.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use regex::Regex;
use serde::Serialize;

use crate::doctypes::{DocTypeTable, TypeKind};
use crate::markings::{self, Finding};
use crate::text::{capitalize, fold, is_upper, sentence_case, tidy_line, title_case};

/// One line of input: normalised text, its page, and whether a new block starts there.
#[derive(Debug, Clone)]
pub struct SourceLine {
    pub text: String,
    pub page: u32,
    pub block_start: bool,
}

impl SourceLine {
    /// Lines from plain text: a blank line marks the start of a new block.
    pub fn from_plain_text(text: &str) -> Vec<SourceLine> {
        let mut out = Vec::new();
        let mut page = 1;
        let mut block_start = true;
        for raw in text.split('\n') {
            let mut raw = raw;
            while let Some(rest) = raw.strip_prefix('\u{000C}') {
                page += 1;
                block_start = true;
                raw = rest;
            }
            let line = tidy_line(&crate::text::normalize(raw));
            if line.is_empty() {
                block_start = true;
                continue;
            }
            out.push(SourceLine {
                text: line,
                page,
                block_start,
            });
            block_start = false;
        }
        out
    }
}

/// Where a value was read: page, line index in the document, and the line's text.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evidence {
    pub page: u32,
    pub line: usize,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Field<T> {
    pub value: Option<T>,
    pub confidence: f64,
    pub evidence: Option<Evidence>,
}

impl<T> Default for Field<T> {
    fn default() -> Self {
        Field {
            value: None,
            confidence: 0.0,
            evidence: None,
        }
    }
}

impl<T> Field<T> {
    pub fn found(value: T, confidence: f64, evidence: Evidence) -> Field<T> {
        Field {
            value: Some(value),
            confidence,
            evidence: Some(evidence),
        }
    }
    /// The field is present on the page but blank (e.g. an unnumbered draft).
    fn blank(evidence: Evidence) -> Field<T> {
        Field {
            value: None,
            confidence: 0.9,
            evidence: Some(evidence),
        }
    }
}

/// A number-symbol of another document cited in the text.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Citation {
    pub number_symbol: String,
    /// The type word before it ("Quyết định" in "Quyết định số 116/QĐ-UBND"), when given.
    pub doc_type: Option<String>,
    pub date: Option<NaiveDate>,
    pub page: u32,
    pub line: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Metadata {
    pub doc_type: Field<String>,
    pub number: Field<String>,
    pub symbol: Field<String>,
    pub issuer: Field<String>,
    pub issuer_parent: Field<String>,
    pub place: Field<String>,
    pub issued_date: Field<NaiveDate>,
    /// Year of issue, known even when the day is blank (`ngày   tháng   năm 2022`).
    pub issued_year: Field<i32>,
    pub effective_date: Field<NaiveDate>,
    pub abstract_text: Field<String>,
    pub signer_name: Field<String>,
    pub signer_title: Field<String>,
    pub signing_authority: Field<String>,
    pub recipients: Field<Vec<String>>,
    /// MẬT / TỐI MẬT / TUYỆT MẬT.
    pub secrecy: Field<String>,
    /// KHẨN / THƯỢNG KHẨN / HỎA TỐC.
    pub urgency: Field<String>,
    /// LƯU HÀNH NỘI BỘ.
    pub internal_circulation: Field<bool>,
    /// Every secrecy or circulation marking found, certain or held for review (see
    /// `markings`): certain ones also fill `secrecy` / `internal_circulation`.
    pub markings: Vec<Finding>,
    pub citations: Vec<Citation>,
    pub warnings: Vec<Warning>,
}

impl Metadata {
    /// `number/symbol` without spaces, or `None` when the number is blank.
    pub fn number_symbol(&self) -> Option<String> {
        match (&self.number.value, &self.symbol.value) {
            (Some(n), Some(s)) => Some(format!("{n}/{s}")),
            _ => None,
        }
    }
}

/// How many lines from the top the header may occupy.
const HEADER_WINDOW: usize = 45;

static NUMBER_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:Số|SỐ|Sô|SÔ|So|SO)\s*[:;.]?\s*(?P<rest>.*)$").unwrap());
static NUMBER_SYMBOL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?P<num>\d+(?: \d+)*)?\s*\.?\s*/\s*(?P<sym>[\p{L}\d&]+(?:\s*[-/]\s*[\p{L}\d&.]+)*)",
    )
    .unwrap()
});
static DATE_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|[,\s])ngày\s*(?P<d>\d{1,2})?\s*(?:tháng\s*(?P<m>\d{1,2})?\s*năm\s*(?P<y>\d{4})|[/.\-]\s*(?P<m2>\d{1,2})\s*[/.\-]\s*(?P<y2>\d{4}))",
    )
    .unwrap()
});
static PRECEDENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^Án lệ số (?P<num>\d{1,4})/(?P<year>\d{4})/AL\b\s*(?P<rest>.*)$").unwrap()
});
static ADOPTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^Được (?P<body>.{5,120}?) thông qua ngày (?P<d>\d{1,2}) tháng (?P<m>\d{1,2}) năm (?P<y>\d{4})",
    )
    .unwrap()
});
static PASSED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?P<kind>Hiến pháp|Bộ luật|Luật|Pháp lệnh|Nghị quyết) này đã được (?P<body>[^,;]{3,120}?) (?:khóa|khoá) [IVXLC]+.{0,60}? thông qua ngày (?P<d>\d{1,2}) tháng (?P<m>\d{1,2}) năm (?P<y>\d{4})",
    )
    .unwrap()
});
/// "Địa điểm: …", "Chủ đầu tư: …": a labelled line under the title, not the abstract
/// running on.
static LABEL_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\p{Lu}\p{Ll}*(?: \p{Ll}+){0,3}:\s").unwrap());
static CITATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:(?P<num>\d{1,6})\s?/\s?(?P<sym>(?:\d{4}\s?/\s?)?\p{Lu}[\p{L}\d&]*(?:\s?-\s?\p{Lu}[\p{L}\d&]*)*)|(?P<pnum>\d{1,5})-(?P<pcode>\p{Lu}{1,4})/(?P<porg>\p{Lu}[\p{L}\d]*))",
    )
    .unwrap()
});
static CITED_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*,?\s*(?:ngày|ban hành ngày)\s*(?P<d>\d{1,2})\s*(?:tháng\s*(?P<m>\d{1,2})\s*năm\s*(?P<y>\d{4})|[/.\-]\s*(?P<m2>\d{1,2})\s*[/.\-]\s*(?P<y2>\d{4}))").unwrap()
});
static EFFECTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)có hiệu lực(?: thi hành| thực hiện)?(?: kể)? từ ngày\s*(?:(?P<sign>ký|ban hành)|(?P<d>\d{1,2})\s*(?:tháng\s*(?P<m>\d{1,2})\s*năm\s*(?P<y>\d{4})|[/.\-]\s*(?P<m2>\d{1,2})\s*[/.\-]\s*(?P<y2>\d{4})))").unwrap()
});
static SIGNATURE_STAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:ký bởi|người ký|email|cơ quan|thời gian ký|ngày ký|chức vụ|đơn vị)\s*:")
        .unwrap()
});
static RULE_PREFIX: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[-_=*~.—–]{3,}\s*").unwrap());
static AUTHORITY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?P<m>TM|KT|TL|TUQ|Q|T\.M|K\.T)\s*\.\s*(?P<rest>.*)$").unwrap());

/// Organisation heads that start an issuer line (folded). A line starting with one of
/// these is a new body, not the continuation of the line above it.
const ORGAN_HEADS: &[&str] = &[
    "uy ban nhan dan",
    "ubnd",
    "hoi dong nhan dan",
    "hdnd",
    "so ",
    "phong ",
    "ban ",
    "van phong",
    "bo ",
    "cuc ",
    "tong cuc",
    "chi cuc",
    "truong ",
    "trung tam",
    "cong an",
    "toa an",
    "vien kiem sat",
    "quoc hoi",
    "chinh phu",
    "thu tuong",
    "chu tich nuoc",
    "uy ban",
    "hoi ",
    "doan ",
    "mat tran",
    "dang uy",
    "thanh uy",
    "tinh uy",
    "huyen uy",
    "thi uy",
    "kho bac",
    "chi nhanh",
    "benh vien",
    "ban chi huy",
    "bo chi huy",
    "thanh tra",
];

/// Administrative levels: the words after them are a place name.
const LEVELS: &[&str] = &[
    "thành phố",
    "thị xã",
    "thị trấn",
    "tỉnh",
    "huyện",
    "quận",
    "xã",
    "phường",
    "đặc khu",
];

/// Parses the metadata of a document from its lines.
pub fn parse(lines: &[SourceLine], types: &DocTypeTable) -> Metadata {
    // Underlines drawn as text ("-------") often share a line with what follows them.
    let cleaned: Vec<SourceLine> = lines
        .iter()
        .map(|l| {
            let stripped = RULE_PREFIX.replace(&l.text, "");
            SourceLine {
                text: if stripped.is_empty() {
                    l.text.clone()
                } else {
                    stripped.into_owned()
                },
                page: l.page,
                block_start: l.block_start,
            }
        })
        .collect();
    // Secrecy and circulation markings, in every form (see `markings`). A marking sharing
    // a line with another header item is cut out of it; a marking split over several lines
    // is written on each of them, so the header reading below skips them all.
    let mut cleaned = cleaned;
    let marking_lines: Vec<markings::Line> = cleaned
        .iter()
        .map(|l| markings::Line::content(l.text.clone(), l.page, l.block_start))
        .collect();
    let findings = markings::detect(&marking_lines);
    for finding in &findings {
        if finding.whole_lines && finding.lines.len() > 1 {
            for &i in &finding.lines {
                cleaned[i].text = finding.evidence.clone();
            }
        } else if !finding.whole_lines
            && let Some(&i) = finding.lines.first()
            && let Some(rest) = markings::strip_marking(&cleaned[i].text)
        {
            cleaned[i].text = rest;
        }
    }
    let mut meta = Metadata::default();
    apply_markings(&mut meta, findings);
    // "Số:" whose number and symbol were laid out as a separate segment: join them.
    let mut i = 0;
    while i < cleaned.len().min(HEADER_WINDOW) {
        if fold(&cleaned[i].text).trim_end_matches([':', ' ']) == "so" {
            let follower = (i + 1..(i + 3).min(cleaned.len())).find(|&j| {
                cleaned[j].text.starts_with('/')
                    || cleaned[j].text.starts_with(|c: char| c.is_ascii_digit())
            });
            if let Some(j) = follower {
                let rest = cleaned.remove(j).text;
                cleaned[i].text = format!("{} {rest}", cleaned[i].text);
            }
        }
        i += 1;
    }
    let lines = cleaned.as_slice();
    let ev = |i: usize| Evidence {
        page: lines[i].page,
        line: i,
        text: lines[i].text.clone(),
    };
    let header_end = lines
        .iter()
        .position(|l| l.page > 1)
        .unwrap_or(lines.len())
        .min(HEADER_WINDOW);
    let header: Vec<usize> = (0..header_end)
        .filter(|&i| !is_noise(&lines[i].text))
        .collect();

    // Urgency: stand-alone upper-case stamps near the top (secrecy and circulation
    // markings were read above).
    for &i in &header {
        let text = lines[i].text.trim_matches(|c: char| !c.is_alphanumeric());
        if !is_upper(text) {
            continue;
        }
        if matches!(
            fold(text).as_str(),
            "khan" | "thuong khan" | "hoa toc" | "hoa toc hen gio"
        ) && meta.urgency.value.is_none()
        {
            meta.urgency = Field::found(text.to_string(), 0.95, ev(i));
        }
    }

    // Number and symbol.
    let mut number_line = None;
    for &i in &header {
        let Some(caps) = NUMBER_LINE.captures(&lines[i].text) else {
            continue;
        };
        let rest = caps.name("rest").map_or("", |m| m.as_str());
        let Some(ns) = NUMBER_SYMBOL.captures(rest) else {
            continue;
        };
        number_line = Some(i);
        let raw_symbol: String = ns["sym"].chars().filter(|c| !c.is_whitespace()).collect();
        let raw_symbol = raw_symbol.trim_end_matches(['.', '-', '/']).to_string();
        let (symbol, changed) = canonical_symbol(&raw_symbol, types);
        if changed {
            meta.warnings.push(Warning {
                code: "symbol_normalized",
                message: format!("Ký hiệu \"{raw_symbol}\" được chuẩn hóa thành \"{symbol}\""),
            });
        }
        let loose = ns
            .get(0)
            .is_some_and(|m| m.as_str().contains(' ') || m.as_str().contains(". "));
        let confidence = if loose || changed { 0.85 } else { 0.97 };
        meta.symbol = Field::found(symbol, confidence, ev(i));
        match ns.name("num") {
            Some(num) => {
                let digits: String = num.as_str().chars().filter(char::is_ascii_digit).collect();
                meta.number = Field::found(digits, confidence, ev(i));
            }
            None => meta.number = Field::blank(ev(i)),
        }
        break;
    }

    // Place and date. The header's date line comes before the type title and the body; a
    // body sentence wrapped so that a line starts with "ngày 01 tháng 01 năm 2021" is not it.
    let title_or_body = header
        .iter()
        .position(|&i| {
            let t = &lines[i].text;
            (is_upper(t) && types.by_title(t).is_some()) || starts_body(t)
        })
        .unwrap_or(header.len());
    let mut date_line = None;
    for (k, &i) in header[..title_or_body].iter().enumerate() {
        let mut text: &str = &lines[i].text;
        // Wide blanks for an unfilled day and month ("Đức Phổ, ngày      tháng      năm
        // 2022") can push "năm 2022" onto a line of its own: read the two as one.
        let joined;
        if !DATE_WORDS.is_match(text)
            && let Some(&next) = header.get(k + 1)
            && fold(text).trim_end().ends_with("thang")
            && fold(&lines[next].text).starts_with("nam ")
        {
            joined = format!("{} {}", text.trim_end(), lines[next].text.trim_start());
            text = &joined;
        }
        let Some(caps) = DATE_WORDS.captures(text) else {
            continue;
        };
        let whole = caps.get(0).expect("match");
        // A citation in the abstract ("... ngày 12/6/2025") is not the issue date: the
        // header date line has a place before it or stands alone at the line start.
        let before = text[..whole.start()].trim_end_matches([',', ' ']);
        let place = place_before(before);
        let header_like = before.split(' ').count() <= 6 || NUMBER_LINE.is_match(before);
        if (place.is_none() && !before.is_empty()) || !header_like {
            continue;
        }
        date_line = Some(i);
        if let Some(place) = place {
            meta.place = Field::found(place, 0.9, ev(i));
        }
        let year = caps
            .name("y")
            .or(caps.name("y2"))
            .and_then(|m| m.as_str().parse::<i32>().ok());
        let month = caps
            .name("m")
            .or(caps.name("m2"))
            .and_then(|m| m.as_str().parse::<u32>().ok());
        let day = caps.name("d").and_then(|m| m.as_str().parse::<u32>().ok());
        if let Some(year) = year {
            meta.issued_year = Field::found(year, 0.95, ev(i));
        }
        match (year, month, day) {
            (Some(y), Some(m), Some(d)) => match NaiveDate::from_ymd_opt(y, m, d) {
                Some(date) => meta.issued_date = Field::found(date, 0.95, ev(i)),
                None => {
                    meta.issued_date = Field::blank(ev(i));
                    meta.warnings.push(Warning {
                        code: "impossible_date",
                        message: format!("Ngày ban hành không hợp lệ: {d}/{m}/{y}"),
                    });
                }
            },
            _ => meta.issued_date = Field::blank(ev(i)),
        }
        break;
    }

    // Issuer: upper-case lines above the number (left column), minus the motto.
    let issuer_lines: Vec<usize> = header[..title_or_body]
        .iter()
        .copied()
        .take_while(|&i| Some(i) != number_line && Some(i) != date_line)
        .filter(|&i| {
            let t = &lines[i].text;
            is_upper(t)
                && !is_motto(t)
                && !is_rule(t)
                && !is_marking(t)
                && !fold(t).starts_with("cong bao")
        })
        .take(4)
        .collect();
    // Without a number or date line, or at least the motto beside it, there is no
    // Decree-30 header to read an issuer from.
    let motto_in_header = header[..title_or_body].iter().any(|&i| {
        // The motto as a line of its own, not the country's name inside a sentence.
        let f = fold(&lines[i].text);
        let f = f.trim_start();
        f.starts_with("cong hoa xa hoi chu nghia") || f.starts_with("doc lap")
    });
    if !issuer_lines.is_empty() && (number_line.is_some() || date_line.is_some() || motto_in_header)
    {
        // "VĂN BẢN HỢP NHẤT - VĂN PHÒNG QUỐC HỘI": the kind of text, then the body.
        let texts: Vec<&str> = issuer_lines
            .iter()
            .map(|&i| {
                let t = lines[i].text.as_str();
                match fold(t).strip_prefix("van ban hop nhat") {
                    Some(_) => t.split_once(['-', '–']).map_or(t, |(_, rest)| rest.trim()),
                    None => t,
                }
            })
            .collect();
        let (parent, issuer) = split_issuer(&texts);
        let last = *issuer_lines.last().expect("non-empty");
        if let Some(parent) = parent {
            meta.issuer_parent = Field::found(organ_case(&parent), 0.8, ev(issuer_lines[0]));
        }
        meta.issuer = Field::found(organ_case(&issuer), 0.85, ev(last));
    }

    // Type title and abstract.
    let after_header = [number_line, date_line]
        .iter()
        .flatten()
        .max()
        .map_or(0, |&i| i + 1);
    let mut abstract_start = None;
    let mut title_type: Option<String> = None;
    for &i in header.iter().filter(|&&i| i >= after_header) {
        let t = &lines[i].text;
        if is_motto(t) || is_rule(t) || is_marking(t) {
            continue;
        }
        if is_upper(t)
            && let Some(dt) = types.by_title(t)
        {
            title_type = Some(dt.name.clone());
            meta.doc_type = Field::found(dt.name.clone(), 0.95, ev(i));
            abstract_start = Some(i + 1);
            break;
        }
        if starts_body(t) {
            break;
        }
    }
    // Công văn: "V/v …" under the number, in the left column.
    let mut vv_abstract = false;
    if abstract_start.is_none()
        && let Some(n) = number_line
    {
        for &i in header.iter().filter(|&&i| i > n).take(4) {
            if fold(&lines[i].text).starts_with("v/v")
                || fold(&lines[i].text).starts_with("ve viec")
            {
                abstract_start = Some(i);
                vv_abstract = true;
                break;
            }
        }
    }
    if let Some(start) = abstract_start {
        let mut parts: Vec<usize> = Vec::new();
        let mut upper_abstract = false;
        #[allow(clippy::needless_range_loop)] // `i` is also the evidence line number
        for i in start..lines.len().min(start + 12) {
            let t = &lines[i].text;
            if is_noise(t) || is_rule(t) {
                if parts.is_empty() {
                    continue;
                }
                break;
            }
            if parts.is_empty() {
                // "Thực hiện …" right under the title is the abstract; after a gap it is the body.
                if (starts_body(t) && (lines[i].block_start || vv_abstract)) || (i > start + 1) {
                    break;
                }
                upper_abstract = is_upper(t);
                parts.push(i);
                continue;
            }
            if lines[i].block_start
                || starts_body(t)
                || is_motto(t)
                || DATE_WORDS.is_match(t) && vv_abstract
                || LABEL_LINE.is_match(t)
            {
                break;
            }
            // An upper-case line after a mixed-case abstract is the enacting authority.
            if is_upper(t) && !upper_abstract {
                break;
            }
            parts.push(i);
        }
        if !parts.is_empty() {
            let joined = parts
                .iter()
                .map(|&i| lines[i].text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let mut text = strip_vv(&joined);
            let mut confidence = 0.9;
            if upper_abstract {
                text = sentence_case_with_places(&text);
                confidence = 0.75;
            }
            if !text.is_empty() {
                meta.abstract_text = Field::found(text, confidence, ev(parts[0]));
            }
        }
    }

    // Type: from the symbol's type code, else the title line, else "Công văn" for V/v letters.
    let code_type = meta
        .symbol
        .value
        .as_deref()
        .and_then(|s| type_code_of(s, types));
    match (code_type, title_type) {
        (Some(from_code), Some(from_title)) if from_code != from_title => {
            meta.warnings.push(Warning {
                code: "type_mismatch",
                message: format!(
                    "Ký hiệu cho loại \"{from_code}\" nhưng tiêu đề là \"{from_title}\""
                ),
            });
        }
        (Some(from_code), None) => {
            let evidence = meta.symbol.evidence.clone().expect("symbol has evidence");
            meta.doc_type = Field::found(from_code, 0.85, evidence);
        }
        (None, None) if meta.symbol.value.is_some() && vv_abstract => {
            let evidence = meta
                .abstract_text
                .evidence
                .clone()
                .expect("abstract has evidence");
            meta.doc_type = Field::found("Công văn".to_string(), 0.85, evidence);
        }
        _ => {}
    }

    parse_signature_block(lines, &mut meta);
    if meta.number.value.is_none() {
        parse_precedent(lines, types, &mut meta);
    }
    parse_passing_sentence(lines, types, &mut meta);
    parse_effective_date(lines, &mut meta);
    meta.citations = find_citations(lines, meta.number_symbol().as_deref(), types);
    meta
}

/// Canonical symbol: type code spelled as in the table ("QD" → "QĐ"), "NĐCP" → "NĐ-CP".
pub(crate) fn canonical_symbol(raw: &str, types: &DocTypeTable) -> (String, bool) {
    let mut parts: Vec<String> = raw.split('/').map(str::to_string).collect();
    let type_part =
        if parts.len() > 1 && parts[0].len() == 4 && parts[0].chars().all(|c| c.is_ascii_digit()) {
            1
        } else {
            0
        };
    if let Some(part) = parts.get_mut(type_part) {
        let mut tokens: Vec<String> = part.split('-').map(str::to_string).collect();
        if let Some(first) = tokens.first_mut() {
            if let Some(dt) = types.by_code(first) {
                if let Some(code) = &dt.code {
                    *first = code.clone();
                }
            } else {
                // Glued code and issuer: "NĐCP", "QĐUBND".
                for glued_issuer in ["CP", "TTg", "UBND", "HĐND", "QH"] {
                    if let Some(prefix) = first.strip_suffix(glued_issuer)
                        && let Some(code) = types.by_code(prefix).and_then(|dt| dt.code.clone())
                    {
                        let issuer = glued_issuer.to_string();
                        *first = code;
                        tokens.insert(1, issuer);
                        break;
                    }
                }
            }
        }
        *part = tokens.join("-");
    }
    let symbol = parts.join("/");
    let changed = symbol != raw;
    (symbol, changed)
}

/// The type named by a symbol's code: "QĐ-UBND" → Quyết định, "2022/NQ-HĐND" → Nghị quyết.
fn type_code_of(symbol: &str, types: &DocTypeTable) -> Option<String> {
    let mut parts = symbol.split('/');
    let mut part = parts.next()?;
    if part.len() == 4 && part.chars().all(|c| c.is_ascii_digit()) {
        part = parts.next()?;
    }
    let code = part.split('-').next()?;
    types
        .by_code(code)
        .filter(|t| t.code.is_some())
        .map(|t| t.name.clone())
}

/// A line of a visible signature stamp ("Ký bởi: …", "Thời gian ký: …"): decoration, not content.
pub fn is_signature_stamp(text: &str) -> bool {
    SIGNATURE_STAMP.is_match(text)
}

/// Text to skip everywhere: signature stamps, bare page numbers, Công báo running heads.
fn is_noise(text: &str) -> bool {
    SIGNATURE_STAMP.is_match(text)
        || text
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
        || text.starts_with('(') && text.ends_with(')') && text.len() < 30
}

fn is_motto(text: &str) -> bool {
    let f = fold(text);
    f.contains("cong hoa xa hoi chu nghia") || f.contains("doc lap") && f.contains("hanh phuc")
}

fn is_rule(text: &str) -> bool {
    text.chars()
        .all(|c| matches!(c, '-' | '_' | '*' | '=' | '.' | '~' | ' ' | '—' | '–'))
}

/// A line that is only a marking: urgency in capitals, or a secrecy or circulation
/// marking in any written form ("M Ậ T", "Tài liệu lưu hành nội bộ", "Độ mật: Mật").
fn is_marking(text: &str) -> bool {
    let t = text.trim_matches(|c: char| !c.is_alphanumeric());
    is_upper(t)
        && matches!(
            fold(t).as_str(),
            "khan" | "thuong khan" | "hoa toc" | "hoa toc hen gio"
        )
        || markings::is_marking_line(text)
}

/// Records marking findings: certain ones fill `secrecy` (the strongest level wins) and
/// `internal_circulation`; all of them, doubts included, are kept in `markings`.
pub fn apply_markings(meta: &mut Metadata, findings: Vec<Finding>) {
    let evidence = |f: &Finding| Evidence {
        page: f.page,
        line: f.lines.first().copied().unwrap_or(0),
        text: f.evidence.clone(),
    };
    let (secret, internal) = markings::certain_markings(&findings);
    if let Some((level, finding)) = secret {
        let current = meta
            .secrecy
            .value
            .as_deref()
            .and_then(markings::grade_label)
            .and_then(|g| match g {
                markings::Grade::Certain(markings::Marking::Secret(l)) => Some(l),
                _ => None,
            });
        if meta.secrecy.value.is_none() || current.is_some_and(|c| level > c) {
            meta.secrecy = Field::found(level.label().to_string(), 0.95, evidence(finding));
        }
    }
    if let Some(finding) = internal
        && meta.internal_circulation.value != Some(true)
    {
        meta.internal_circulation = Field::found(true, 0.95, evidence(finding));
    }
    for finding in findings {
        if !meta.markings.iter().any(|f| {
            f.grade == finding.grade && f.page == finding.page && f.evidence == finding.evidence
        }) {
            meta.markings.push(finding);
        }
    }
}

fn starts_body(text: &str) -> bool {
    let f = fold(text);
    [
        "can cu",
        "kinh gui",
        "thuc hien",
        "theo de nghi",
        "xet de nghi",
        "dieu 1",
        "i.",
        "phan thu",
        "chuong ",
    ]
    .iter()
    .any(|p| f.starts_with(p))
}

/// "V/v phân công …" → "Phân công …".
pub(crate) fn strip_vv(text: &str) -> String {
    let t = text.trim();
    for prefix in ["V/v", "V/V", "v/v"] {
        if let Some(rest) = t.strip_prefix(prefix) {
            let rest = rest.trim_start_matches([':', ' ', '.']).trim();
            let mut chars = rest.chars();
            return match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            };
        }
    }
    t.to_string()
}

/// The place name before ", ngày": the trailing capitalised words ("Nam Chính", "TP. Hồ Chí Minh").
fn place_before(before: &str) -> Option<String> {
    let words: Vec<&str> = before.split(' ').filter(|w| !w.is_empty()).collect();
    let mut taken = Vec::new();
    for w in words.iter().rev() {
        let first = w.chars().next()?;
        if (first.is_uppercase() || *w == "TP." || *w == "TP")
            && !w.contains('/')
            && !w.contains(':')
            && taken.len() < 5
        {
            taken.push(*w);
        } else {
            break;
        }
    }
    if taken.is_empty() {
        return None;
    }
    taken.reverse();
    Some(taken.join(" "))
}

/// Splits the issuer lines into (parent body, issuer). A line that starts with an organ
/// head begins a new body; other lines continue the one above ("ỦY BAN NHÂN DÂN" /
/// "THỊ TRẤN NGÃI GIAO").
fn split_issuer(texts: &[&str]) -> (Option<String>, String) {
    let mut bodies: Vec<String> = Vec::new();
    for t in texts {
        let f = fold(t);
        let new_body = ORGAN_HEADS.iter().any(|h| f.starts_with(h)) || bodies.is_empty();
        if new_body {
            bodies.push(t.to_string());
        } else if let Some(last) = bodies.last_mut() {
            last.push(' ');
            last.push_str(t);
        }
    }
    let issuer = bodies.pop().unwrap_or_default();
    let parent = if bodies.is_empty() {
        None
    } else {
        Some(bodies.join(" "))
    };
    (parent, issuer)
}

/// "ỦY BAN NHÂN DÂN XÃ NAM CHÍNH" → "Ủy ban nhân dân xã Nam Chính";
/// "SỞ GIÁO DỤC VÀ ĐÀO TẠO" → "Sở Giáo dục và Đào tạo"; "UBND HUYỆN X" → "UBND huyện X".
/// "CHỦ TỊCH QUỐC HỘI" → "Chủ tịch Quốc hội", "BỘ TRƯỞNG BỘ Y TẾ" → "Bộ trưởng Bộ Y tế":
/// the office in sentence case, the body it belongs to cased as an organ name.
fn signer_title_case(upper: &str) -> String {
    if !is_upper(upper) {
        return upper.to_string();
    }
    const ORGAN_HEADS: &[&str] = &[
        "quoc", "chinh", "bo", "uy", "ubnd", "hdnd", "so", "hoi", "toa", "vien", "nha",
    ];
    let words: Vec<&str> = upper.split_whitespace().collect();
    // The office itself has two syllables or more ("Chủ tịch", "Bộ trưởng", "Phó chủ tịch").
    let organ_at = (2..words.len()).find(|&i| ORGAN_HEADS.contains(&fold(words[i]).as_str()));
    match organ_at {
        Some(i) => format!(
            "{} {}",
            sentence_case(&words[..i].join(" ")),
            organ_case(&words[i..].join(" "))
        ),
        None => sentence_case(upper),
    }
}

pub fn organ_case(upper: &str) -> String {
    if !is_upper(upper) {
        return upper.to_string();
    }
    let words: Vec<&str> = upper.split(' ').filter(|w| !w.is_empty()).collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    // After an administrative level every syllable is a proper name; after a ministry-like
    // head the first syllable of each conjunct is capitalised.
    let mut in_place_name = false;
    let mut conjunct_start = false;
    while i < words.len() {
        let w = words[i];
        if is_abbreviation(w) {
            out.push(w.to_string());
            i += 1;
            conjunct_start = false;
            continue;
        }
        if let Some(len) = LEVELS.iter().find_map(|lv| {
            let n = lv.split(' ').count();
            (i + n <= words.len() && lower[i..i + n].join(" ") == *lv).then_some(n)
        }) && !in_place_name
        {
            out.extend(lower[i..i + len].iter().cloned());
            i += len;
            in_place_name = true;
            conjunct_start = false;
            continue;
        }
        if in_place_name {
            out.push(capitalize(w));
        } else if out.is_empty() {
            out.push(capitalize(w));
            let head = lower[0].as_str();
            conjunct_start = matches!(
                head,
                "sở" | "bộ" | "phòng" | "cục" | "ban" | "vụ" | "viện" | "chi" | "tổng"
            );
            if head == "chi" || head == "tổng" {
                // "Chi cục", "Tổng cục": the head is two syllables.
                if let Some(next) = lower.get(1) {
                    out.push(next.clone());
                    i += 1;
                }
            }
        } else if conjunct_start {
            out.push(capitalize(w));
            conjunct_start = false;
        } else if lower[i] == "và" || w.ends_with(',') {
            out.push(lower[i].clone());
            conjunct_start = matches!(
                out.first().map(|s| fold(s)).as_deref(),
                Some("so" | "bo" | "phong" | "cuc" | "ban" | "vu" | "vien" | "chi" | "tong")
            );
        } else if matches!(fold(w).as_str(), "chinh" | "quoc")
            && i + 1 < words.len()
            && matches!(fold(words[i + 1]).as_str(), "phu" | "hoi")
        {
            // "Chính phủ", "Quốc hội" keep their capital inside a name.
            out.push(capitalize(w));
        } else {
            out.push(lower[i].clone());
        }
        i += 1;
    }
    out.join(" ")
}

fn is_abbreviation(word: &str) -> bool {
    let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() < 2 {
        return false;
    }
    const KNOWN: &[&str] = &[
        "UBND", "HĐND", "MTTQ", "TP", "TP.", "TW", "VN", "CA", "BCH", "QĐ", "TTĐT", "KH&CN",
        "GD&ĐT",
    ];
    if KNOWN.contains(&word) {
        return true;
    }
    // Vietnamese syllables have at most three leading consonants; "UBND" has a run of three
    // after a vowel, which no syllable has.
    let vowels = "AĂÂEÊIOÔƠUƯYÁÀẢÃẠẮẰẲẴẶẤẦẨẪẬÉÈẺẼẸẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌỐỒỔỖỘỚỜỞỠỢÚÙỦŨỤỨỪỬỮỰÝỲỶỸỴ";
    let vowel_groups = letters
        .split(|c| !vowels.contains(*c))
        .filter(|g| !g.is_empty())
        .count();
    vowel_groups == 0 || vowel_groups > 1 || letters.iter().all(|c| !vowels.contains(*c))
}

/// Upper-case abstracts become sentence case; the names after administrative levels keep
/// their capitals ("… TRÊN ĐỊA BÀN TỈNH CAO BẰNG" → "… trên địa bàn tỉnh Cao Bằng").
fn sentence_case_with_places(upper: &str) -> String {
    let base = sentence_case(upper);
    let words: Vec<&str> = base.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let level_len = LEVELS.iter().find_map(|lv| {
            let n = lv.split(' ').count();
            (i + n <= words.len() && words[i..i + n].join(" ") == *lv).then_some(n)
        });
        match level_len {
            Some(n) if i + n < words.len() => {
                out.extend(words[i..i + n].iter().map(|w| w.to_string()));
                i += n;
                let mut taken = 0;
                while i < words.len() && taken < 3 {
                    let w = words[i];
                    let stop = matches!(
                        fold(w.trim_end_matches([',', ';', '.'])).as_str(),
                        "va" | "nam"
                            | "giai"
                            | "den"
                            | "tu"
                            | "theo"
                            | "tren"
                            | "cua"
                            | "tai"
                            | "trong"
                            | "cho"
                            | "ve"
                    );
                    if stop {
                        break;
                    }
                    out.push(capitalize(w));
                    i += 1;
                    taken += 1;
                    if w.ends_with([',', ';', '.']) {
                        break;
                    }
                }
            }
            _ => {
                out.push(words[i].to_string());
                i += 1;
            }
        }
    }
    out.join(" ")
}

/// Recipients, signing authority, title and signer name around "Nơi nhận".
fn parse_signature_block(lines: &[SourceLine], meta: &mut Metadata) {
    let ev = |i: usize| Evidence {
        page: lines[i].page,
        line: i,
        text: lines[i].text.clone(),
    };
    let noi_nhan = lines
        .iter()
        .position(|l| fold(&l.text).starts_with("noi nhan"));
    let mut recipient_lines: Vec<usize> = Vec::new();
    if let Some(n) = noi_nhan {
        let mut recipients: Vec<String> = Vec::new();
        let first_rest = lines[n]
            .text
            .split_once(':')
            .map(|(_, r)| r.trim())
            .unwrap_or("");
        if !first_rest.is_empty() {
            recipients.push(first_rest.to_string());
        }
        let mut i = n + 1;
        while i < lines.len() && i < n + 40 {
            let t = lines[i].text.as_str();
            if is_noise(t) {
                i += 1;
                continue;
            }
            let bullet = t.starts_with(['-', '+', '•', '–']);
            if bullet {
                recipients.push(t.trim_start_matches(['-', '+', '•', '–', ' ']).to_string());
                recipient_lines.push(i);
            } else if let Some(last) = recipients.last_mut()
                && !last.ends_with([';', '.'])
                && !is_upper(t)
                && !lines[i].block_start
            {
                last.push(' ');
                last.push_str(t);
                recipient_lines.push(i);
            } else {
                // A list that has not reached "Lưu …" may resume below the signer block
                // when the page's reading order put the signer between its halves.
                let unfinished = !recipients.is_empty()
                    && !recipients.iter().any(|r| fold(r).starts_with("luu"))
                    && !recipients.last().is_some_and(|r| r.ends_with('.'));
                let resume = (i + 1..(i + 6).min(lines.len()))
                    .find(|&j| lines[j].text.starts_with(['-', '+', '•', '–']));
                match resume {
                    Some(j) if unfinished => {
                        i = j;
                        continue;
                    }
                    _ => break,
                }
            }
            i += 1;
            // "Lưu" is the last entry; only its own continuation lines may follow.
            let last_is_storage = recipients
                .last()
                .is_some_and(|r| fold(r).starts_with("luu"));
            if last_is_storage
                && (recipients.last().is_some_and(|r| r.ends_with('.'))
                    || lines
                        .get(i)
                        .is_none_or(|l| l.text.starts_with(['-', '+']) || is_upper(&l.text)))
            {
                break;
            }
        }
        let cleaned: Vec<String> = recipients
            .into_iter()
            .map(|r| {
                r.trim()
                    .trim_end_matches([';', '.', ',', ' '])
                    .trim()
                    .to_string()
            })
            .filter(|r| !r.is_empty())
            .collect();
        if !cleaned.is_empty() {
            meta.recipients = Field::found(cleaned, 0.85, ev(n));
        }
    }

    // The signer block sits beside or below the recipients; without "Nơi nhận", at the end of
    // the first document (before any annex).
    let (from, to) = match noi_nhan {
        Some(n) => (n.saturating_sub(12), (n + 45).min(lines.len())),
        None => {
            let end = lines
                .iter()
                .position(|l| fold(&l.text).starts_with("phu luc") && is_upper(&l.text))
                .unwrap_or(lines.len());
            (end.saturating_sub(25), end)
        }
    };
    let candidates: Vec<usize> = (from..to)
        .filter(|&i| {
            Some(i) != noi_nhan && !recipient_lines.contains(&i) && !is_noise(&lines[i].text)
        })
        .collect();

    let mut authority: Option<(usize, String, String)> = None;
    let mut title: Option<usize> = None;
    let mut name: Option<usize> = None;
    for (k, &i) in candidates.iter().enumerate() {
        let t = lines[i].text.as_str();
        if let Some(caps) = AUTHORITY.captures(t) {
            let marker = caps["m"].replace('.', "");
            authority = Some((i, format!("{marker}."), caps["rest"].trim().to_string()));
            title = None;
            name = None;
            continue;
        }
        if is_title_line(t) && name.is_none() {
            title = Some(i);
            continue;
        }
        // "Q. GIÁM ĐỐC" directly above the name: the title is on the authority line.
        if title.is_none()
            && let Some((a, _, rest)) = &authority
            && !rest.is_empty()
            && looks_like_name(t)
            && is_title_line(rest)
        {
            title = Some(*a);
        }
        if title.is_some() && name.is_none() && looks_like_name(t) {
            name = Some(i);
            // The name closes the block; a second block (joint signers) is reported.
            if candidates[k + 1..]
                .iter()
                .any(|&j| AUTHORITY.is_match(&lines[j].text))
            {
                meta.warnings.push(Warning {
                    code: "several_signers",
                    message: "Văn bản có nhiều người ký; chỉ người ký đầu tiên được ghi nhận"
                        .into(),
                });
            }
            break;
        }
    }
    if let Some(t) = title {
        let title_text = match &authority {
            Some((a, _, rest)) if *a == t => rest.clone(),
            _ => lines[t].text.clone(),
        };
        meta.signer_title = Field::found(signer_title_case(&title_text), 0.85, ev(t));
        if let Some((a, marker, _)) = authority
            && a <= t
        {
            meta.signing_authority = Field::found(marker, 0.9, ev(a));
        }
    }
    if let Some(n) = name {
        let raw = lines[n].text.trim();
        let value = if is_upper(raw) {
            title_case(raw)
        } else {
            raw.to_string()
        };
        meta.signer_name = Field::found(value, 0.85, ev(n));
    }
}

/// Titles of signers: upper case, short, made of title words.
fn is_title_line(text: &str) -> bool {
    if !is_upper(text) || text.chars().count() > 60 {
        return false;
    }
    let f = fold(text);
    const TITLES: &[&str] = &[
        "chu tich",
        "pho chu tich",
        "giam doc",
        "pho giam doc",
        "truong",
        "pho truong",
        "bo truong",
        "thu truong",
        "thu tuong",
        "pho thu tuong",
        "chanh",
        "pho chanh",
        "cuc truong",
        "vu truong",
        "tong cuc truong",
        "bi thu",
        "pho bi thu",
        "hieu truong",
        "chu nhiem",
        "tong thu ky",
        "thu ky",
        "ky thay",
        "uy vien",
        "tong giam doc",
        "vien truong",
        "chanh an",
        "vien truong",
        "chi huy truong",
        "can bo",
        "cong chuc",
        "nguoi ky",
        "tuq",
        "tl",
        "q.",
    ];
    TITLES.iter().any(|t| f.starts_with(t))
}

fn looks_like_name(text: &str) -> bool {
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    (2..=6).contains(&words.len())
        && words.iter().all(|w| {
            w.chars().next().is_some_and(char::is_uppercase)
                && w.chars().all(|c| c.is_alphabetic() || c == '.')
        })
        && !is_title_line(text)
}

/// A published precedent opens with its own title instead of a Decree-30 header:
/// "Án lệ số 27/2019/AL về thụ lý, … / Được Hội đồng Thẩm phán Tòa án nhân dân tối cao
/// thông qua ngày 22 tháng 8 năm 2019 và được công bố theo Quyết định số …".
fn parse_precedent(lines: &[SourceLine], types: &DocTypeTable, meta: &mut Metadata) {
    let Some(start) = lines
        .iter()
        .take(HEADER_WINDOW)
        .position(|l| PRECEDENT.is_match(&l.text))
    else {
        return;
    };
    let ev = |i: usize| Evidence {
        page: lines[i].page,
        line: i,
        text: lines[i].text.clone(),
    };
    let caps = PRECEDENT.captures(&lines[start].text).expect("matched");
    let mut title = caps["rest"].trim().to_string();
    let mut end = start;
    for (k, line) in lines.iter().enumerate().skip(start + 1).take(6) {
        if fold(&line.text).starts_with("duoc ") || line.block_start {
            break;
        }
        title.push(' ');
        title.push_str(line.text.trim());
        end = k;
    }
    if let Some(t) = types.by_name("Án lệ") {
        meta.doc_type = Field::found(t.name.clone(), 0.9, ev(start));
    }
    meta.number = Field::found(caps["num"].to_string(), 0.9, ev(start));
    meta.symbol = Field::found(format!("{}/AL", &caps["year"]), 0.9, ev(start));
    let mut chars = title.chars();
    if let Some(first) = chars.next() {
        // Only the first letter: "… mà Nhà nước đã quản lý" keeps its capital.
        let abstract_text: String = first.to_uppercase().chain(chars).collect();
        meta.abstract_text = Field::found(abstract_text, 0.85, ev(start));
    }
    // "Được <body> thông qua ngày …": the adopting body and date.
    let after: Vec<&str> = lines
        .iter()
        .skip(end + 1)
        .take(3)
        .map(|l| l.text.as_str())
        .collect();
    if let Some(adopted) = ADOPTED.captures(&after.join(" ")) {
        let i = end + 1;
        meta.issuer = Field::found(adopted["body"].trim().to_string(), 0.85, ev(i));
        if let Some(date) = NaiveDate::from_ymd_opt(
            adopted["y"].parse().unwrap_or(0),
            adopted["m"].parse().unwrap_or(0),
            adopted["d"].parse().unwrap_or(0),
        ) {
            meta.issued_date = Field::found(date, 0.85, ev(i));
            meta.issued_year = Field::found(date.year(), 0.85, ev(i));
        }
    }
}

/// "Hiến pháp này đã được Quốc hội … thông qua ngày 28 tháng 11 năm 2013": laws and
/// resolutions of elected bodies carry their date (and body, and type) in this closing
/// sentence rather than in a Decree-30 header. Used only for fields the header lacked.
fn parse_passing_sentence(lines: &[SourceLine], types: &DocTypeTable, meta: &mut Metadata) {
    if meta.issued_date.value.is_some() && meta.issuer.value.is_some() {
        return;
    }
    // Scanned from the end: the sentence closes the text, just above the signature.
    for i in (0..lines.len()).rev() {
        let window: Vec<&str> = lines[i..(i + 3).min(lines.len())]
            .iter()
            .map(|l| l.text.as_str())
            .collect();
        let text = window.join(" ");
        let Some(caps) = PASSED.captures(&text) else {
            continue;
        };
        if caps
            .get(0)
            .is_some_and(|m| m.start() >= lines[i].text.len())
        {
            continue;
        }
        let ev = Evidence {
            page: lines[i].page,
            line: i,
            text: lines[i].text.clone(),
        };
        let date = NaiveDate::from_ymd_opt(
            caps["y"].parse().unwrap_or(0),
            caps["m"].parse().unwrap_or(0),
            caps["d"].parse().unwrap_or(0),
        );
        if meta.issued_date.value.is_none()
            && let Some(date) = date
        {
            meta.issued_date = Field::found(date, 0.85, ev.clone());
            meta.issued_year = Field::found(date.year(), 0.85, ev.clone());
        }
        if meta.issuer.value.is_none() {
            let body = caps["body"].trim();
            let known = [
                "Quốc hội",
                "Ủy ban thường vụ Quốc hội",
                "Ủy ban Thường vụ Quốc hội",
            ];
            if let Some(name) = known.iter().find(|k| body.starts_with(*k)) {
                meta.issuer = Field::found(name.to_string(), 0.8, ev.clone());
            }
        }
        if meta.doc_type.value.is_none()
            && let Some(t) = types.by_name(&capitalize(&caps["kind"].to_lowercase()))
        {
            meta.doc_type = Field::found(t.name.clone(), 0.8, ev);
        }
        return;
    }
}

fn parse_effective_date(lines: &[SourceLine], meta: &mut Metadata) {
    // A consolidated text (văn bản hợp nhất) lists the effective dates of the law and of
    // each amending law: none of them is the date of the text in hand.
    let opening = fold(
        &lines
            .iter()
            .take(HEADER_WINDOW)
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    );
    let consolidated =
        opening.contains("van ban hop nhat") || opening.contains("duoc sua doi, bo sung boi");
    if consolidated {
        return;
    }
    for (i, line) in lines.iter().enumerate() {
        // Joined with the next line: "có hiệu lực kể từ ngày" often wraps.
        let joined;
        let text = match lines.get(i + 1) {
            Some(next) => {
                joined = format!("{} {}", line.text, next.text);
                joined.as_str()
            }
            None => line.text.as_str(),
        };
        let Some(caps) = EFFECTIVE.captures(text) else {
            continue;
        };
        if caps.get(0).is_some_and(|m| m.start() >= line.text.len()) {
            continue;
        }
        let ev = Evidence {
            page: line.page,
            line: i,
            text: line.text.clone(),
        };
        if caps.name("sign").is_some() {
            if let Some(date) = meta.issued_date.value {
                meta.effective_date = Field::found(date, 0.85, ev);
            }
        } else {
            let y = caps
                .name("y")
                .or(caps.name("y2"))
                .and_then(|m| m.as_str().parse().ok());
            let m = caps
                .name("m")
                .or(caps.name("m2"))
                .and_then(|m| m.as_str().parse().ok());
            let d = caps.name("d").and_then(|m| m.as_str().parse().ok());
            if let (Some(y), Some(m), Some(d)) = (y, m, d)
                && let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
            {
                meta.effective_date = Field::found(date, 0.85, ev);
            }
        }
        return;
    }
}

/// Number-symbols of other documents, first appearance first, own number excluded.
/// Lines are searched joined, since a symbol often wraps ("…/NĐ-" | "CP").
pub fn find_citations(
    lines: &[SourceLine],
    own: Option<&str>,
    types: &DocTypeTable,
) -> Vec<Citation> {
    let mut joined = String::new();
    let mut starts = Vec::with_capacity(lines.len());
    for line in lines {
        starts.push(joined.len());
        joined.push_str(&line.text);
        joined.push(' ');
    }
    let line_of = |offset: usize| starts.partition_point(|&s| s <= offset).saturating_sub(1);
    let mut out: Vec<Citation> = Vec::new();
    for caps in CITATION.captures_iter(&joined) {
        let whole = caps.get(0).expect("match");
        let number_symbol = if let (Some(num), Some(sym)) = (caps.name("num"), caps.name("sym")) {
            let sym: String = sym
                .as_str()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            // Cut at the first token that is a word, not a code ("NĐ-Toàn" from a table cell).
            let mut kept: Vec<&str> = Vec::new();
            for (k, token) in sym.split('-').enumerate() {
                if k > 0 && !is_code_token(token) {
                    break;
                }
                kept.push(token);
            }
            let sym = kept.join("-");
            let sym = sym.trim_end_matches(['-', '.']);
            let has_year = sym.len() > 5 && sym.as_bytes()[..4].iter().all(u8::is_ascii_digit);
            let is_assembly = sym.starts_with("QH") || sym.contains("/QH");
            if !(sym.contains('-') || has_year || is_assembly) {
                continue;
            }
            let (sym, _) = canonical_symbol(sym, types);
            format!("{}/{}", num.as_str(), sym)
        } else {
            format!("{}-{}/{}", &caps["pnum"], &caps["pcode"], &caps["porg"])
        };
        // Digits glued before the match ("2021/QĐ" inside a date) are not a citation.
        if joined[..whole.start()].ends_with(|c: char| c.is_ascii_digit() || c == '/') {
            continue;
        }
        if own == Some(number_symbol.as_str())
            || out.iter().any(|c| c.number_symbol == number_symbol)
        {
            continue;
        }
        // A symbol cut by a line or cell break ("148/2025/NĐ") beside its whole form.
        let truncated_of = |longer: &str, shorter: &str| longer.starts_with(&format!("{shorter}-"));
        if out
            .iter()
            .any(|c| truncated_of(&c.number_symbol, &number_symbol))
        {
            continue;
        }
        if let Some(existing) = out
            .iter_mut()
            .find(|c| truncated_of(&number_symbol, &c.number_symbol))
        {
            existing.number_symbol = number_symbol;
            continue;
        }
        let date = CITED_DATE.captures(&joined[whole.end()..]).and_then(|d| {
            let y = d.name("y").or(d.name("y2"))?.as_str().parse().ok()?;
            let m = d.name("m").or(d.name("m2"))?.as_str().parse().ok()?;
            NaiveDate::from_ymd_opt(y, m, d["d"].parse().ok()?)
        });
        let line = line_of(whole.start());
        let doc_type = cited_type(
            &joined[starts[line].min(whole.start())..whole.start()],
            types,
        );
        out.push(Citation {
            number_symbol,
            doc_type,
            date,
            page: lines[line].page,
            line,
        });
    }
    out
}

/// A symbol component is a code when capitals dominate ("UBND", "TTg", "CTr"), not a word ("Toàn").
fn is_code_token(token: &str) -> bool {
    let upper = token
        .chars()
        .filter(|c| c.is_uppercase() || c.is_ascii_digit())
        .count();
    let lower = token.chars().filter(|c| c.is_lowercase()).count();
    upper > 0 && upper >= lower
}

/// "… theo Quyết định số " → "Quyết định".
fn cited_type(before: &str, types: &DocTypeTable) -> Option<String> {
    let trimmed = before.trim_end();
    let trimmed = trimmed
        .strip_suffix("số")
        .or_else(|| trimmed.strip_suffix("Số"))
        .unwrap_or(trimmed)
        .trim_end();
    let words: Vec<&str> = trimmed.split(' ').collect();
    for n in (1..=4).rev() {
        if words.len() < n {
            continue;
        }
        let candidate = words[words.len() - n..].join(" ");
        if let Some(dt) = types.by_title(&candidate)
            && dt.kind != TypeKind::Copy
        {
            return Some(dt.name.clone());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the header_parser fuzz target: a symbol whose fourth byte falls inside a
    /// multi-byte letter ("05/CTDÂN") made the year check slice mid-character.
    #[test]
    fn symbols_with_multibyte_letters_do_not_panic() {
        let text = "MẬT\n\nUBND THÀNH PHỐ ĐÀ NẴNG\nSỞ GIÁO DỤC VÀ ĐÀO TẠO\nS\u{FFFD}ỦY BAN NHÂN \u{FFFD}: 05/CTDÂN\nTHÀNH PrH";
        let meta = parse(&SourceLine::from_plain_text(text), DocTypeTable::builtin());
        assert_eq!(meta.secrecy.value.as_deref(), Some("MẬT"));
        let lines = SourceLine::from_plain_text("Căn cứ văn bản số 5/AÂÂÂ-UBND và 7/ĐĐĐĐĐ-X.");
        let _ = parse(&lines, DocTypeTable::builtin());
    }
}
