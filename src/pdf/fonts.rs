//! Font decoding for text extraction: character codes → Unicode text and glyph advance widths.
//!
//! lopdf resolves encodings, but for a simple TrueType font it prefers `/Encoding` over
//! `/ToUnicode`, which is the wrong way round for Vietnamese: Word writes `WinAnsiEncoding`
//! plus a `/ToUnicode` map that carries the real letters. Here `/ToUnicode` always wins.

use std::collections::HashMap;

use lopdf::{Dictionary, Document, Encoding, Object};

use crate::legacy_encoding;

/// Largest stream (ToUnicode CMap) we are willing to inflate for one font.
const MAX_CMAP_BYTES: usize = 4 * 1024 * 1024;

/// Everything needed to turn the bytes of a `Tj` string into glyphs.
pub struct FontDecoder<'a> {
    /// Type0 (CID) fonts use two-byte codes (Identity-H, the only CMap Vietnamese producers use).
    pub two_byte_codes: bool,
    to_unicode: Option<Encoding<'static>>,
    simple_encoding: Option<Encoding<'a>>,
    widths: HashMap<u32, f32>,
    default_width: f32,
    /// Glyph space → text space (0.001 except for Type3 fonts).
    width_scale: f32,
    /// `/BaseFont`, used to detect legacy TCVN3 (`.Vn*`) and VNI (`VNI-*`) fonts.
    pub base_font: String,
    /// Set when the font is a legacy Vietnamese font whose codes decode to Latin-1
    /// stand-ins; its text is converted to real Vietnamese letters.
    legacy: Option<LegacyEncoding>,
    /// TCVN3 "H" fonts (`.VnTimeH`) draw every letter as a capital.
    legacy_capitals: bool,
}

impl<'a> FontDecoder<'a> {
    pub fn new(doc: &'a Document, font: &'a Dictionary) -> FontDecoder<'a> {
        let subtype = font
            .get(b"Subtype")
            .and_then(Object::as_name)
            .unwrap_or(b"");
        let two_byte_codes = subtype == b"Type0";
        let base_font = font
            .get(b"BaseFont")
            .and_then(Object::as_name)
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();

        let to_unicode = if font.has(b"ToUnicode") {
            // Ask lopdf for the ToUnicode map alone, by hiding /Encoding from it.
            let mut only_to_unicode = font.clone();
            only_to_unicode.remove(b"Encoding");
            match only_to_unicode.get_font_encoding_with_limit(doc, MAX_CMAP_BYTES) {
                Ok(Encoding::UnicodeMapEncoding(cmap)) => Some(Encoding::UnicodeMapEncoding(cmap)),
                _ => None,
            }
        } else {
            None
        };
        let simple_encoding = if two_byte_codes {
            None
        } else {
            font.get_font_encoding_with_limit(doc, MAX_CMAP_BYTES).ok()
        };

        let mut widths = HashMap::new();
        let mut default_width = 0.0;
        let mut width_scale = 0.001;
        if two_byte_codes {
            default_width = 1000.0;
            if let Some(descendant) = first_descendant(doc, font) {
                if let Ok(dw) = descendant.get(b"DW").and_then(number) {
                    default_width = dw;
                }
                if let Ok(w) = deref(doc, descendant.get(b"W")).and_then(Object::as_array) {
                    read_cid_widths(doc, w, &mut widths);
                }
            }
        } else {
            if subtype == b"Type3"
                && let Ok(matrix) = deref(doc, font.get(b"FontMatrix")).and_then(Object::as_array)
                && let Some(scale) = matrix.first().and_then(|o| number(o).ok())
            {
                width_scale = scale;
            }
            let first_char = font.get(b"FirstChar").and_then(number).unwrap_or(0.0) as u32;
            if let Ok(array) = deref(doc, font.get(b"Widths")).and_then(Object::as_array) {
                for (i, w) in array.iter().enumerate() {
                    if let Ok(w) = deref(doc, Ok(w)).and_then(number) {
                        widths.insert(first_char + i as u32, w);
                    }
                }
            }
            if let Ok(descriptor) =
                deref(doc, font.get(b"FontDescriptor")).and_then(Object::as_dict)
                && let Ok(missing) = descriptor.get(b"MissingWidth").and_then(number)
            {
                default_width = missing;
            }
            if widths.is_empty() && default_width == 0.0 {
                // Standard-14 fonts carry no widths; half an em is a fair average for layout.
                default_width = 500.0;
            }
        }

        let mut decoder = FontDecoder {
            two_byte_codes,
            to_unicode,
            simple_encoding,
            widths,
            default_width,
            width_scale,
            base_font,
            legacy: None,
            legacy_capitals: false,
        };
        let legacy = legacy_encoding_of(&decoder.base_font);
        // A font with a legacy name whose ToUnicode map already yields Vietnamese letters
        // (a document converted with a modern tool) must not be converted a second time.
        if legacy.is_some() && !two_byte_codes && !decoder.maps_to_vietnamese_letters() {
            decoder.legacy = legacy;
            decoder.legacy_capitals = legacy == Some(LegacyEncoding::Tcvn3)
                && legacy_style_free_name(&decoder.base_font).ends_with('H');
        }
        decoder
    }

    fn maps_to_vietnamese_letters(&self) -> bool {
        (0u32..256).any(|code| {
            self.raw_text(code).chars().any(|c| {
                // Letters only Vietnamese uses (WinAnsi's Š, Œ, ƒ… do not count).
                matches!(
                    c,
                    'Ă' | 'ă'
                        | 'Đ'
                        | 'đ'
                        | 'Ĩ'
                        | 'ĩ'
                        | 'Ũ'
                        | 'ũ'
                        | 'Ơ'
                        | 'ơ'
                        | 'Ư'
                        | 'ư'
                        | '\u{1EA0}'..='\u{1EF9}'
                )
            })
        })
    }

    /// Splits a string operand into character codes.
    pub fn codes(&self, bytes: &[u8]) -> Vec<u32> {
        if self.two_byte_codes {
            bytes
                .chunks(2)
                .map(|pair| match pair {
                    [hi, lo] => u32::from(*hi) << 8 | u32::from(*lo),
                    [single] => u32::from(*single),
                    _ => 0,
                })
                .collect()
        } else {
            bytes.iter().map(|&b| u32::from(b)).collect()
        }
    }

    /// The Unicode text of one character code (may be several chars, or empty when unknown).
    /// For a VNI font, a diacritic byte comes back as its combining characters; the caller
    /// attaches them to the letter before (see [`FontDecoder::is_vni_mark`]).
    pub fn text(&self, code: u32) -> String {
        let raw = match self.legacy {
            None => return self.raw_text(code),
            // Legacy encodings are byte encodings: read the byte as Latin-1 rather than
            // through WinAnsi, which turns TCVN3's ư (0xAD, a soft hyphen) into "-".
            Some(_) => char::from(code as u8).to_string(),
        };
        match self.legacy {
            None => raw,
            Some(LegacyEncoding::Tcvn3) => raw
                .chars()
                .map(|c| legacy_encoding::tcvn3_char(c, self.legacy_capitals))
                .collect(),
            Some(LegacyEncoding::Vni) => raw
                .chars()
                .map(|c| {
                    if let Some(letter) = legacy_encoding::vni_letter(c) {
                        letter.to_string()
                    } else if let Some(mark) = legacy_encoding::vni_mark(c) {
                        mark.to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
        }
    }

    /// A VNI diacritic byte: drawn over the previous letter, it carries no letter itself.
    pub fn is_vni_mark(&self, code: u32) -> bool {
        self.legacy == Some(LegacyEncoding::Vni)
            && legacy_encoding::vni_mark(char::from(code as u8)).is_some()
    }

    fn raw_text(&self, code: u32) -> String {
        let code_len = if self.two_byte_codes { 2 } else { 1 };
        if let Some(Encoding::UnicodeMapEncoding(cmap)) = &self.to_unicode
            && let Some(units) = cmap.get(code, code_len)
        {
            let text = String::from_utf16_lossy(&units);
            if !text.is_empty() && text != "\u{FFFD}" {
                return text;
            }
        }
        if let Some(encoding) = &self.simple_encoding {
            let byte = [code as u8];
            if let Ok(text) = encoding.bytes_to_string(&byte) {
                return text;
            }
        }
        if !self.two_byte_codes && (0x20..0x7f).contains(&code) {
            return char::from(code as u8).to_string();
        }
        String::new()
    }

    /// Horizontal advance of one code in text space units (before font size).
    pub fn advance(&self, code: u32) -> f32 {
        self.widths
            .get(&code)
            .copied()
            .unwrap_or(self.default_width)
            * self.width_scale
    }

    /// The legacy encoding this font's text was converted from, if any.
    pub fn legacy_vietnamese_encoding(&self) -> Option<LegacyEncoding> {
        self.legacy
    }
}

/// TCVN3 fonts are named `.VnTime`, `.VnArial`…; VNI fonts `VNI-Times`…
fn legacy_encoding_of(base_font: &str) -> Option<LegacyEncoding> {
    // Subset fonts are prefixed with six letters and a plus sign: ABCDEF+VNI-Times.
    let name = base_font.split('+').next_back().unwrap_or("");
    if name.starts_with(".Vn")
        || name.starts_with("Vn") && name.len() > 2 && name.as_bytes()[2].is_ascii_uppercase()
    {
        Some(LegacyEncoding::Tcvn3)
    } else if name.to_ascii_uppercase().starts_with("VNI-") {
        Some(LegacyEncoding::Vni)
    } else {
        None
    }
}

/// `ABCDEF+.VnTimeH,Bold` → `.VnTimeH`.
fn legacy_style_free_name(base_font: &str) -> &str {
    let name = base_font.split('+').next_back().unwrap_or("");
    let name = name.split(',').next().unwrap_or(name);
    ["-BoldItalic", "-Bold", "-Italic"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyEncoding {
    Tcvn3,
    Vni,
}

fn first_descendant<'a>(doc: &'a Document, font: &'a Dictionary) -> Option<&'a Dictionary> {
    let array = deref(doc, font.get(b"DescendantFonts"))
        .ok()?
        .as_array()
        .ok()?;
    deref(doc, Ok(array.first()?)).ok()?.as_dict().ok()
}

/// `/W` array: `c [w1 w2 …]` or `c_first c_last w`.
fn read_cid_widths(doc: &Document, array: &[Object], widths: &mut HashMap<u32, f32>) {
    let mut i = 0;
    while i < array.len() {
        let Ok(first) = deref(doc, Ok(&array[i])).and_then(number) else {
            break;
        };
        match array.get(i + 1).map(|o| deref(doc, Ok(o))) {
            Some(Ok(Object::Array(list))) => {
                for (k, w) in list.iter().enumerate() {
                    if let Ok(w) = deref(doc, Ok(w)).and_then(number) {
                        widths.insert(first as u32 + k as u32, w);
                    }
                }
                i += 2;
            }
            Some(Ok(last)) => {
                let (Ok(last), Some(Ok(w))) = (
                    number(last),
                    array.get(i + 2).map(|o| deref(doc, Ok(o)).and_then(number)),
                ) else {
                    break;
                };
                // A hostile /W could name four billion codes; cap the span.
                let span = (last as u32).saturating_sub(first as u32).min(65_535);
                for code in first as u32..=first as u32 + span {
                    widths.insert(code, w);
                }
                i += 3;
            }
            _ => break,
        }
    }
}

pub fn deref<'a>(
    doc: &'a Document,
    object: lopdf::Result<&'a Object>,
) -> lopdf::Result<&'a Object> {
    let object = object?;
    doc.dereference(object).map(|(_, o)| o)
}

pub fn number(object: &Object) -> lopdf::Result<f32> {
    match object {
        Object::Integer(i) => Ok(*i as f32),
        Object::Real(r) => Ok(*r),
        _ => Err(lopdf::Error::ObjectType {
            expected: "Number",
            found: "other",
        }),
    }
}
