//! Finding signature dictionaries in the raw bytes of a PDF, every revision included:
//! each `/ByteRange [a b c d]` whose excluded gap `[a+b, c)` is exactly the `/Contents`
//! hex string. Reading the bytes rather than the object graph finds signatures of earlier
//! revisions and of files an object parser would reject, and gives the exact byte ranges.

use std::sync::LazyLock;

use regex::bytes::Regex;

use crate::pdf::lexer::ContentLexer;

/// Refuse to consider more signature dictionaries than this (a file of thousands is an
/// attack on our time, not a document).
pub const MAX_SIGNATURES: usize = 200;
/// Largest `/Contents` accepted (real signatures with full chains are under 64 KB).
const MAX_CONTENTS_HEX: usize = 2 * 1024 * 1024;

/// One `/ByteRange` found, and what is known of it before any cryptography.
#[derive(Debug, Clone)]
pub struct Found {
    /// Where `/ByteRange` appears.
    pub position: usize,
    pub byte_range: Vec<i64>,
    /// The DER bytes of `/Contents` (zero padding included), when the ranges are sane.
    pub contents: Result<Vec<u8>, String>,
    /// Whether the ranges' gap is exactly `/Contents`. When not (the file was rewritten
    /// after signing and offsets moved), `contents` is read from the dictionary instead.
    pub frames_contents: bool,
    pub sub_filter: Option<String>,
    /// `/M`, the signing time the PDF states (not signed).
    pub pdf_time: Option<String>,
    /// `/Name`, `/Reason`, `/Location`, as written.
    pub name: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
}

impl Found {
    /// The end of the revision this signature signs (`c + d`), when the ranges are sane.
    pub fn revision_end(&self) -> Option<usize> {
        match self.byte_range[..] {
            [_, _, c, d] if c >= 0 && d >= 0 => Some((c + d) as usize),
            _ => None,
        }
    }
}

static BYTE_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    // ASCII classes (?-u): on binary data Unicode classes push the regex engine onto its
    // slowest path.
    Regex::new(
        r"(?-u)/ByteRange\s*\[\s*(-?\d{1,12})\s+(-?\d{1,12})\s+(-?\d{1,12})\s+(-?\d{1,12})\s*\]",
    )
    .unwrap()
});
static SUB_FILTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)/SubFilter\s*/([A-Za-z0-9._#-]{1,64})").unwrap());
static PDF_TIME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)/M\s*\((D:[0-9+\-Z' ]{4,40})\)").unwrap());
static OBJ: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)\d+\s+\d+\s+obj[^A-Za-z]").unwrap());

/// A PDF text string (`(...)` literal or `<...>` hex, PDFDoc or UTF-16BE) after `key`.
fn text_after(window: &[u8], key: &[u8]) -> Option<String> {
    let at = window.windows(key.len()).position(|w| w == key)? + key.len();
    let value = ContentLexer::new(&window[at..]).next_object()?;
    let text = lopdf::decode_text_string(&value).ok()?;
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// Hex digits (white space allowed) to bytes; an odd count ends with a 0 nibble.
pub fn hex_decode(hex: &[u8]) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = hex
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(digits.len() / 2 + 1);
    for pair in digits.chunks(2) {
        let nibble = |b: u8| -> Result<u8, String> {
            (b as char)
                .to_digit(16)
                .map(|d| d as u8)
                .ok_or_else(|| format!("/Contents holds a non-hex byte 0x{b:02x}"))
        };
        let high = nibble(pair[0])?;
        let low = if pair.len() == 2 { nibble(pair[1])? } else { 0 };
        out.push(high << 4 | low);
    }
    Ok(out)
}

/// Checks the ranges against the file and reads `/Contents` from the gap they leave.
fn contents_of(bytes: &[u8], r: &[i64]) -> Result<Vec<u8>, String> {
    let [a, b, c, d] = r[..] else {
        return Err("/ByteRange does not hold four numbers".into());
    };
    if [a, b, c, d].iter().any(|&n| n < 0) {
        return Err(format!(
            "/ByteRange [{a} {b} {c} {d}] holds a negative number"
        ));
    }
    let len = bytes.len() as i64;
    if a != 0 {
        return Err(format!(
            "/ByteRange [{a} {b} {c} {d}] does not start at the beginning of the file"
        ));
    }
    if a + b > len || c > len || c + d > len {
        return Err(format!(
            "/ByteRange [{a} {b} {c} {d}] reaches beyond the end of this file ({len} bytes): \
             it is an excerpt or a truncated copy of the signed file"
        ));
    }
    if c < a + b {
        return Err(format!("/ByteRange [{a} {b} {c} {d}]: the ranges overlap"));
    }
    let gap = &bytes[(a + b) as usize..c as usize];
    if gap.len() < 2 || gap[0] != b'<' || gap[gap.len() - 1] != b'>' {
        return Err(format!(
            "/ByteRange [{a} {b} {c} {d}] leaves unsigned bytes that are not the /Contents string"
        ));
    }
    if gap.len() > MAX_CONTENTS_HEX {
        return Err(format!("/Contents of {} bytes is too large", gap.len()));
    }
    let der = hex_decode(&gap[1..gap.len() - 1])?;
    if der.iter().all(|&b| b == 0) {
        return Err("/Contents is empty (a placeholder never filled)".into());
    }
    Ok(der)
}

static CONTENTS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?-u)/Contents\s*<").unwrap());

/// The `/Contents <hex>` of the dictionary around `position` (within a few KB).
fn dictionary_contents(bytes: &[u8], position: usize) -> Option<Vec<u8>> {
    let from = position.saturating_sub(4096);
    let to = (position + 4096).min(bytes.len());
    let window = &bytes[from..to];
    let found = CONTENTS
        .find_iter(window)
        .min_by_key(|m| (from + m.start()).abs_diff(position))?;
    let start = from + found.end();
    let end = start
        + bytes[start..]
            .iter()
            .take(MAX_CONTENTS_HEX)
            .position(|&b| b == b'>')?;
    let der = hex_decode(&bytes[start..end]).ok()?;
    (!der.iter().all(|&b| b == 0)).then_some(der)
}

/// Every signature dictionary of the file, in file order.
pub fn find_signatures(bytes: &[u8]) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    for caps in BYTE_RANGE.captures_iter(bytes) {
        if found.len() >= MAX_SIGNATURES {
            break;
        }
        let whole = caps.get(0).expect("match");
        let byte_range: Vec<i64> = (1..=4)
            .filter_map(|i| {
                std::str::from_utf8(caps.get(i)?.as_bytes())
                    .ok()?
                    .parse()
                    .ok()
            })
            .collect();
        // The same dictionary seen twice (a /ByteRange repeated inside a /Reference
        // transform, say) counts once.
        if found.iter().any(|f| f.byte_range == byte_range) {
            continue;
        }
        let mut contents = contents_of(bytes, &byte_range);
        let mut frames_contents = contents.is_ok();
        // The dictionary around it: from its "N G obj" to the end of /Contents and a little
        // beyond, the /Contents hex itself left out.
        let start = OBJ
            .find_iter(&bytes[whole.start().saturating_sub(4096)..whole.start()])
            .last()
            .map(|m| whole.start().saturating_sub(4096) + m.start())
            .unwrap_or(whole.start().saturating_sub(512));
        let (gap_start, gap_end) = match byte_range[..] {
            [a, b, c, _] if contents.is_ok() => ((a + b) as usize, c as usize),
            _ => (whole.end(), whole.end()),
        };
        let after_end = (gap_end + 2048).min(bytes.len());
        let after = bytes[gap_end..after_end]
            .windows(6)
            .position(|w| w == b"endobj")
            .map_or(after_end, |p| gap_end + p);
        let mut window = Vec::with_capacity(4096);
        if start < gap_start.min(bytes.len()) {
            window.extend_from_slice(&bytes[start..gap_start.min(bytes.len())]);
        }
        window.push(b' ');
        if gap_end < after {
            window.extend_from_slice(&bytes[gap_end..after]);
        }
        let capture = |re: &Regex| {
            re.captures(&window)
                .and_then(|c| c.get(1))
                .map(|m| String::from_utf8_lossy(m.as_bytes()).to_string())
        };
        if matches!(&contents, Err(e) if e.contains("not the /Contents string")) {
            // Rewritten after signing: read the signature where the dictionary has it.
            if let Some(der) = dictionary_contents(bytes, whole.start()) {
                contents = Ok(der);
                frames_contents = false;
            }
        }
        found.push(Found {
            position: whole.start(),
            byte_range,
            contents,
            frames_contents,
            sub_filter: capture(&SUB_FILTER),
            pdf_time: capture(&PDF_TIME),
            name: text_after(&window, b"/Name"),
            reason: text_after(&window, b"/Reason"),
            location: text_after(&window, b"/Location"),
        });
    }
    found
}

/// `D:20240402111053+07'00'` as an instant (missing parts default as the PDF spec says).
pub fn parse_pdf_date(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{FixedOffset, NaiveDate, TimeZone};
    let t = text.trim().strip_prefix("D:").unwrap_or(text.trim());
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.len() < 4 {
        return None;
    }
    let part = |from: usize, len: usize, default: u32| -> u32 {
        digits
            .get(from..from + len)
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let year = part(0, 4, 0) as i32;
    let date = NaiveDate::from_ymd_opt(year, part(4, 2, 1), part(6, 2, 1))?;
    let time = date.and_hms_opt(part(8, 2, 0), part(10, 2, 0), part(12, 2, 0))?;
    let rest = &t[digits.len()..];
    let offset = match rest.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let nums: Vec<i32> = rest[1..]
                .split(['\'', ':'])
                .filter(|s| !s.is_empty())
                .filter_map(|s| s.parse().ok())
                .collect();
            let secs =
                nums.first().copied().unwrap_or(0) * 3600 + nums.get(1).copied().unwrap_or(0) * 60;
            FixedOffset::east_opt(if sign == '-' { -secs } else { secs })?
        }
        _ => FixedOffset::east_opt(0)?,
    };
    offset
        .from_local_datetime(&time)
        .single()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_are_checked_against_the_file() {
        let mut pdf = b"%PDF-1.7\n1 0 obj <</Type/Sig/SubFilter/adbe.pkcs7.detached/M(D:20240402111053+07'00')/Name(Nguy\\341n)/ByteRange [0 80 90 20] /Contents <3082>>>endobj".to_vec();
        pdf.resize(200, b' ');
        let found = find_signatures(&pdf);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].sub_filter.as_deref(), Some("adbe.pkcs7.detached"));
        // The ranges do not frame /Contents: it is read from the dictionary, and flagged.
        assert!(!found[0].frames_contents);
        assert_eq!(found[0].contents.as_deref().ok(), Some(&[0x30, 0x82][..]));
        assert_eq!(
            found[0].pdf_time.as_deref(),
            Some("D:20240402111053+07'00'")
        );
        assert_eq!(found[0].name.as_deref(), Some("Nguyán"));
        for (range, why) in [
            ("[0 10 5 20]", "overlap"),
            ("[0 10 200 20]", "beyond the end"),
            ("[5 10 20 20]", "beginning"),
            ("[0 -1 20 20]", "negative"),
        ] {
            let doc = format!("%PDF-1.7 /ByteRange {range} /Contents <00>").into_bytes();
            let mut doc = doc;
            doc.resize(100, b' ');
            let f = &find_signatures(&doc)[0];
            let err = f.contents.as_ref().unwrap_err();
            assert!(err.contains(why), "{range}: {err}");
        }
    }

    #[test]
    fn pdf_dates() {
        assert_eq!(
            parse_pdf_date("D:20240402111053+07'00'")
                .unwrap()
                .to_rfc3339(),
            "2024-04-02T04:10:53+00:00"
        );
        assert_eq!(
            parse_pdf_date("D:20250529").unwrap().to_rfc3339(),
            "2025-05-29T00:00:00+00:00"
        );
        assert!(parse_pdf_date("D:20xx").is_none());
    }
}
