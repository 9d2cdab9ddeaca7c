//! Vietnamese text normalisation shared by extraction, storage and (later) search.
//!
//! Everything that enters the system goes through [`normalize`]: NFC, then the lookalike
//! characters real producers emit are mapped to what a reader sees.

use unicode_normalization::UnicodeNormalization;

/// NFC + lookalike normalisation + whitespace tidy-up, line structure preserved.
pub fn normalize(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.nfc() {
        match c {
            // Icelandic Eth written for Vietnamese Đ (Công báo PDFs), and its lowercase.
            '\u{00D0}' => out.push('Đ'),
            '\u{00F0}' => out.push('đ'),
            // Dashes and minus signs.
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
            | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => out.push('-'),
            // Spaces that are not U+0020.
            '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' | '\t' => {
                out.push(' ')
            }
            // Invisible characters that split words.
            '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => {}
            // Typographic quotes to plain ones.
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' => out.push('\''),
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{2033}' => out.push('"'),
            '\r' => {}
            c if c.is_control() && c != '\n' && c != '\u{000C}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Collapses runs of spaces and trims each line.
pub fn tidy_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for word in line.split(' ').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Removes Vietnamese diacritics and folds đ→d, lowercasing: "Quyết Định" → "quyet dinh".
/// Used for matching labels and type names, and by search on every syllable, so the
/// letters Vietnamese uses are looked up in a table instead of being decomposed.
pub fn fold(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input.chars().peekable();
    while let Some(c) = rest.next() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        if let Some(base) = folded_letter(c) {
            out.push(base);
            continue;
        }
        // Anything else (combining marks, other scripts): the general path.
        let mut buffer = String::new();
        buffer.push(c);
        while let Some(&next) = rest.peek() {
            if next.is_ascii() || folded_letter(next).is_some() {
                break;
            }
            buffer.push(next);
            rest.next();
        }
        fold_decomposing(&buffer, &mut out);
    }
    out
}

fn fold_decomposing(input: &str, out: &mut String) {
    for c in input.nfd() {
        match c {
            'đ' | 'Đ' | '\u{00D0}' | '\u{00F0}' => out.push('d'),
            c if unicode_normalization::char::is_combining_mark(c) => {}
            c => out.extend(c.to_lowercase()),
        }
    }
}

/// The folded form of a precomposed Latin letter (Latin-1, Latin Extended-A/B and the
/// Vietnamese block U+1EA0–U+1EF9), when it folds to one ASCII letter.
fn folded_letter(c: char) -> Option<char> {
    const LATIN: std::ops::Range<u32> = 0x00C0..0x0250;
    const VIETNAMESE: std::ops::Range<u32> = 0x1EA0..0x1EFA;
    static TABLE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        LATIN
            .chain(VIETNAMESE)
            .map(|cp| {
                let mut folded = String::new();
                if let Some(ch) = char::from_u32(cp) {
                    fold_decomposing(&ch.to_string(), &mut folded);
                }
                let mut chars = folded.chars();
                match (chars.next(), chars.next()) {
                    (Some(base), None) if base.is_ascii_alphabetic() => base as u8,
                    _ => 0,
                }
            })
            .collect()
    });
    let cp = u32::from(c);
    let index = if LATIN.contains(&cp) {
        cp - LATIN.start
    } else if VIETNAMESE.contains(&cp) {
        cp - VIETNAMESE.start + (LATIN.end - LATIN.start)
    } else {
        return None;
    };
    match table[index as usize] {
        0 => None,
        b => Some(b as char),
    }
}

/// Is every letter of the line upper case (and is there at least one letter)?
pub fn is_upper(line: &str) -> bool {
    let mut letters = 0;
    for c in line.chars() {
        if c.is_alphabetic() {
            if c.is_lowercase() {
                return false;
            }
            letters += 1;
        }
    }
    letters > 0
}

/// "CHỦ TỊCH" → "Chủ tịch".
pub fn sentence_case(input: &str) -> String {
    let lower = input.to_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "NGUYỄN BÁ DŨNG" → "Nguyễn Bá Dũng".
pub fn title_case(input: &str) -> String {
    input
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(capitalize)
        .collect::<Vec<_>>()
        .join(" ")
}

/// First letter upper case, the rest lower case.
pub fn capitalize(word: &str) -> String {
    let lower = word.to_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Share of letters that carry a Vietnamese diacritic (clean Vietnamese ≈ 0.28–0.30;
/// below 0.1 means mojibake or an OCR layer that lost the marks).
pub fn diacritic_ratio(text: &str) -> f32 {
    let mut letters = 0usize;
    let mut marked = 0usize;
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        let mut decomposed = std::iter::once(c).nfd();
        let base = decomposed.next();
        if matches!(base, Some('đ') | Some('Đ')) || decomposed.next().is_some() {
            marked += 1;
        }
    }
    if letters == 0 {
        0.0
    } else {
        marked as f32 / letters as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_lookalikes_and_nfd() {
        let nfd = "Quye\u{0302}\u{0301}t \u{00D0}i\u{0323}nh\u{00A0}so\u{0302}\u{0301}\u{00AD} 116\u{2013}QĐ";
        assert_eq!(normalize(nfd), "Quyết Định số 116-QĐ");
    }

    #[test]
    fn folds_vietnamese() {
        assert_eq!(fold("Quyết Định ĐƯỜNG Ủy Uỷ"), "quyet dinh duong uy uy");
    }

    #[test]
    fn cases() {
        assert_eq!(sentence_case("PHÓ CHỦ TỊCH"), "Phó chủ tịch");
        assert_eq!(title_case("NGUYỄN  BÁ DŨNG"), "Nguyễn Bá Dũng");
        assert!(is_upper("SỐ: 12/QĐ-UBND"));
        assert!(!is_upper("Số: 12"));
    }

    #[test]
    fn diacritic_ratio_separates_vietnamese_from_ascii() {
        assert!(diacritic_ratio("Cộng hòa xã hội chủ nghĩa Việt Nam") > 0.2);
        assert!(diacritic_ratio("CONG HOA XA HOI CHU NGHIA") < 0.05);
    }
}

#[cfg(test)]
mod fold_tests {
    use super::*;

    #[test]
    fn table_fold_matches_decomposing_fold() {
        let samples = "Quyết Định ĐƯỜNG đường Ủy uỷ Hòa hoà NGHĨA Ð ð ÆØÅ ß Ω ǅ e\u{301} Привет 漢字 ạảãàáâậầấẩẫăặằắẳẵ";
        let mut slow = String::new();
        fold_decomposing(samples, &mut slow);
        assert_eq!(fold(samples), slow);
        assert_eq!(fold("Quyết Định"), "quyet dinh");
    }
}
