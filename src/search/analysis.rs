//! Vietnamese text analysis for the search index: syllable tokens in two forms, syllable
//! bigrams for phrase proximity, number-symbol keys, and Telex decoding of queries.
//!
//! * accent form: the syllable with its vowel marks and its tone written as a trailing
//!   digit (`hòa` and `hoà` → `hoa2`, `ủy` and `uỷ` → `uy3`), so tone placement variants
//!   meet while `hòa` and `hóa` stay apart;
//! * folded form: every mark removed and đ → d (`hoa`, `uy`), what citizens type.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::text::fold;

/// Tone marks, in the order of the digit they become.
const TONES: [char; 5] = ['\u{301}', '\u{300}', '\u{309}', '\u{303}', '\u{323}'];

/// Splits text into lower-case syllables (runs of letters, marks and digits) with their
/// byte offsets in the input.
pub fn syllables(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        let word_char = c.is_alphanumeric() || is_combining_mark(c);
        match (word_char, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i, text[s..i].to_lowercase()));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len(), text[s..].to_lowercase()));
    }
    out
}

/// `hoà` → `hoa2`; a syllable without a tone is returned unchanged (NFC).
pub fn accent_form(syllable: &str) -> String {
    let mut tone = None;
    let mut base = String::with_capacity(syllable.len());
    for c in syllable.nfd() {
        match TONES.iter().position(|&t| t == c) {
            Some(k) => tone = Some(k + 1),
            None => base.push(c),
        }
    }
    let mut out: String = base.nfc().collect();
    if let Some(k) = tone {
        out.push(char::from(b'0' + k as u8));
    }
    out
}

/// `Quyết` → `quyet`.
pub fn folded_form(syllable: &str) -> String {
    fold(syllable)
}

/// Does the syllable carry any Vietnamese mark (so an accent match is meaningful)?
pub fn has_marks(syllable: &str) -> bool {
    fold(syllable) != syllable.to_lowercase()
}

/// Decodes a syllable typed in Telex without an input method (`quyeets` → `quyết`,
/// `ddinhj` → `định`, `nguwowif` → `người`). Returns the accent form, or `None` when the
/// token holds no Telex keys. Valid unaccented Vietnamese syllables never end in s/f/r/x/j
/// after a vowel nor contain dd/aa/ee/oo/w, so decoding cannot misread one.
pub fn decode_telex(token: &str) -> Option<String> {
    if token.is_empty() || !token.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let chars: Vec<char> = token.to_ascii_lowercase().chars().collect();
    let is_vowel = |c: char| "aeiouyâăêôơư".contains(c);
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let mut tone: Option<usize> = None;
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let seen_vowel = out.iter().any(|&v| is_vowel(v));
        match c {
            'd' if next == Some('d') => {
                out.push('đ');
                i += 1;
                changed = true;
            }
            'a' | 'e' | 'o' if next == Some(c) => {
                out.push(match c {
                    'a' => 'â',
                    'e' => 'ê',
                    _ => 'ô',
                });
                i += 1;
                changed = true;
            }
            'w' => {
                changed = true;
                let len = out.len();
                match out.last().copied() {
                    Some('a') => out[len - 1] = 'ă',
                    Some('o') if len >= 2 && out[len - 2] == 'u' => {
                        out[len - 2] = 'ư';
                        out[len - 1] = 'ơ';
                    }
                    Some('o') => out[len - 1] = 'ơ',
                    Some('u') => out[len - 1] = 'ư',
                    // "uwow" / "ưow": the horn on both.
                    _ if out.ends_with(&['ư', 'o']) => out[len - 1] = 'ơ',
                    _ => {
                        // A horn typed after the final consonant ("thuongw") applies to
                        // the vowel cluster before it.
                        if let Some(k) = out.iter().rposition(|&v| "aou".contains(v)) {
                            out[k] = match out[k] {
                                'a' => 'ă',
                                'o' => 'ơ',
                                _ => 'ư',
                            };
                            if out[k] == 'ơ' && k > 0 && out[k - 1] == 'u' {
                                out[k - 1] = 'ư';
                            }
                        } else {
                            out.push('ư');
                        }
                    }
                }
            }
            's' | 'f' | 'r' | 'x' | 'j' if seen_vowel => {
                tone = Some(match c {
                    's' => 1,
                    'f' => 2,
                    'r' => 3,
                    'x' => 4,
                    _ => 5,
                });
                changed = true;
            }
            'z' if seen_vowel => changed = true,
            _ => out.push(c),
        }
        i += 1;
    }
    if !changed {
        return None;
    }
    let mut base: String = out.into_iter().collect();
    if let Some(k) = tone {
        base.push(char::from(b'0' + k as u8));
    }
    Some(base)
}

/// The searchable parts of a number-symbol: `43/2011/NĐ-CP` → `["43", "2011", "nd", "cp"]`;
/// letters and digits glued together are split (`QĐ116` → `["qd", "116"]`).
pub fn number_symbol_parts(text: &str) -> Vec<String> {
    let folded = fold(text);
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_is_digit = false;
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            let digit = c.is_ascii_digit();
            if !current.is_empty() && digit != current_is_digit {
                parts.push(std::mem::take(&mut current));
            }
            current_is_digit = digit;
            current.push(c);
        } else if !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// Index keys of a document's own number-symbol: the whole (`432011ndcp`) and the number
/// paired with each other part (`43:2011`, `43:nd`, `43:cp`), so loose queries such as
/// `NĐ 43/2011` or `qd 116` meet it.
pub fn number_symbol_keys(number_symbol: &str) -> Vec<String> {
    let parts = number_symbol_parts(number_symbol);
    let mut keys = vec![parts.concat()];
    if let Some(number) = parts
        .first()
        .filter(|p| p.chars().all(|c| c.is_ascii_digit()))
    {
        for part in &parts[1..] {
            keys.push(format!("{number}:{part}"));
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// Query-side keys for the same field: the concatenation as typed and every pairing of a
/// number-like part with another part.
pub fn number_symbol_query_keys(parts: &[String]) -> Vec<String> {
    let mut keys = vec![parts.concat()];
    for number in parts
        .iter()
        .filter(|p| p.len() <= 6 && p.chars().all(|c| c.is_ascii_digit()))
    {
        for part in parts.iter().filter(|p| *p != number) {
            keys.push(format!("{number}:{part}"));
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// Abbreviations citizens type for types and bodies, with the words they stand for.
pub const ABBREVIATIONS: &[(&str, &str)] = &[
    ("qd", "quyet dinh"),
    ("nd", "nghi dinh"),
    ("nq", "nghi quyet"),
    ("tt", "thong tu"),
    ("ct", "chi thi"),
    ("kh", "ke hoach"),
    ("tb", "thong bao"),
    ("bc", "bao cao"),
    ("cv", "cong van"),
    ("ubnd", "uy ban nhan dan"),
    ("hdnd", "hoi dong nhan dan"),
    ("tthc", "thu tuc hanh chinh"),
    ("vbqppl", "van ban quy pham phap luat"),
    ("tp", "thanh pho"),
];

/// Which form a tokenizer emits.
#[derive(Clone, Copy, Debug)]
pub enum Form {
    Accent,
    Folded,
    /// Folded syllables, plus the abbreviation of every expansion the text spells out
    /// ("uy ban nhan dan" also yields `ubnd`), so a query word `ubnd` is one term lookup
    /// instead of a phrase query: the form of the match-and-count fields.
    FoldedWithAbbreviations,
    /// Adjacent folded syllables joined by `_`: a match means the words were adjacent.
    FoldedBigram,
}

/// A tantivy tokenizer for one [`Form`]. Input is NFC-normalised first: NFD text would be
/// split inside syllables.
#[derive(Clone)]
pub struct VietnameseTokenizer {
    pub form: Form,
}

pub struct VecTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        if self.index < self.tokens.len() {
            self.index += 1;
            true
        } else {
            false
        }
    }
    fn token(&self) -> &Token {
        &self.tokens[self.index - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index - 1]
    }
}

/// Tokens of `text` in `form`, with positions and offsets into the NFC text.
pub fn tokens(text: &str, form: Form) -> Vec<Token> {
    let nfc: String = text.nfc().collect();
    let syllables = syllables(&nfc);
    match form {
        Form::Accent | Form::Folded => syllables
            .into_iter()
            .enumerate()
            .map(|(position, (from, to, s))| Token {
                offset_from: from,
                offset_to: to,
                position,
                text: match form {
                    Form::Accent => accent_form(&s),
                    _ => folded_form(&s),
                },
                position_length: 1,
            })
            .collect(),
        Form::FoldedWithAbbreviations => {
            let folded: Vec<String> = syllables.iter().map(|(_, _, s)| folded_form(s)).collect();
            let mut out = Vec::with_capacity(folded.len() + folded.len() / 8);
            for (position, ((from, to, _), word)) in syllables.iter().zip(&folded).enumerate() {
                out.push(Token {
                    offset_from: *from,
                    offset_to: *to,
                    position,
                    text: word.clone(),
                    position_length: 1,
                });
                for (abbreviation, expansion) in ABBREVIATIONS {
                    let words = expansion.split(' ');
                    let n = words.clone().count();
                    if position + 1 >= n
                        && words.eq(folded[position + 1 - n..=position]
                            .iter()
                            .map(String::as_str))
                    {
                        out.push(Token {
                            offset_from: syllables[position + 1 - n].0,
                            offset_to: *to,
                            position,
                            text: abbreviation.to_string(),
                            position_length: 1,
                        });
                    }
                }
            }
            out
        }
        Form::FoldedBigram => syllables
            .windows(2)
            .enumerate()
            .map(|(position, pair)| Token {
                offset_from: pair[0].0,
                offset_to: pair[1].1,
                position,
                text: format!("{}_{}", folded_form(&pair[0].2), folded_form(&pair[1].2)),
                position_length: 1,
            })
            .collect(),
    }
}

impl Tokenizer for VietnameseTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream {
            tokens: tokens(text, self.form),
            index: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_placement_variants_meet_and_tones_stay_apart() {
        assert_eq!(accent_form("hòa"), accent_form("hoà"));
        assert_eq!(accent_form("ủy"), accent_form("uỷ"));
        assert_eq!(accent_form("thuở"), accent_form("thủơ"));
        assert_ne!(accent_form("hòa"), accent_form("hóa"));
        assert_eq!(accent_form("hòa"), "hoa2");
        assert_eq!(accent_form("đường"), "đương2");
        assert_eq!(folded_form("Đường"), "duong");
    }

    #[test]
    fn match_form_adds_the_abbreviation_of_spelled_out_words() {
        let words: Vec<String> = tokens(
            "Ủy ban nhân dân xã Ngãi Giao ban hành Quyết định",
            Form::FoldedWithAbbreviations,
        )
        .into_iter()
        .map(|t| t.text)
        .collect();
        assert_eq!(
            words,
            [
                "uy", "ban", "nhan", "dan", "ubnd", "xa", "ngai", "giao", "ban", "hanh", "quyet",
                "dinh", "qd"
            ]
        );
        let plain: Vec<String> = tokens("ban nhân dân", Form::FoldedWithAbbreviations)
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(
            plain,
            ["ban", "nhan", "dan"],
            "a partial expansion adds nothing"
        );
    }

    #[test]
    fn telex_is_decoded() {
        assert_eq!(decode_telex("quyeets").as_deref(), Some("quyêt1"));
        assert_eq!(decode_telex("ddinhj").as_deref(), Some("đinh5"));
        assert_eq!(decode_telex("nguwowif").as_deref(), Some("ngươi2"));
        assert_eq!(decode_telex("uyr").as_deref(), Some("uy3"));
        assert_eq!(
            decode_telex("hoaf").map(|s| s.replace('2', "")),
            Some("hoa".into())
        );
        assert_eq!(
            decode_telex("quyet"),
            None,
            "plain unaccented typing is not Telex"
        );
        assert_eq!(decode_telex("sach"), None);
        assert_eq!(decode_telex("116"), None);
    }

    #[test]
    fn number_symbol_keys_meet_loose_queries() {
        let keys = number_symbol_keys("116/QĐ-UBND");
        for typed in ["116/QD-UBND", "116 QĐ UBND", "qd 116", "QĐ116"] {
            let query = number_symbol_query_keys(&number_symbol_parts(typed));
            assert!(query.iter().any(|k| keys.contains(k)), "{typed}: {query:?}");
        }
        let keys = number_symbol_keys("43/2011/NĐ-CP");
        let query = number_symbol_query_keys(&number_symbol_parts("NĐ 43/2011"));
        assert!(query.iter().filter(|k| keys.contains(k)).count() >= 2);
    }

    #[test]
    fn tokenizer_keeps_offsets_and_positions() {
        let t = tokens("Quyết định số 116/QĐ-UBND", Form::Folded);
        let texts: Vec<&str> = t.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["quyet", "dinh", "so", "116", "qd", "ubnd"]);
        assert_eq!(t[1].position, 1);
        let b = tokens("Quyết định số", Form::FoldedBigram);
        assert_eq!(b[0].text, "quyet_dinh");
        assert_eq!(b[1].text, "dinh_so");
    }
}
