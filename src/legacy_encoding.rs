//! Conversion of text typed in the pre-Unicode Vietnamese font encodings that older
//! government documents still use: TCVN3 (ABC; fonts `.VnTime`, `.VnArial`, upper-case
//! variants `.VnTimeH`…) and VNI (fonts `VNI-Times`…).
//!
//! Both encodings reuse Latin-1 code points for Vietnamese letters, so a PDF written with
//! such a font decodes (through WinAnsi or a Latin-1 ToUnicode map) to mojibake such as
//! `Uû ban nh©n d©n` (TCVN3) or `UÛy ban nhaân daân` (VNI). TCVN3 maps one byte to one
//! letter; VNI writes a base letter followed by one byte holding its diacritics.

use unicode_normalization::UnicodeNormalization;

/// TCVN3 (ABC) byte → lower-case Vietnamese letter, for the bytes whose meaning differs
/// from Latin-1. Upper-case letters with diacritics only exist in the "H" fonts, which draw
/// these same bytes as capitals.
const TCVN3: &[(char, char)] = &[
    ('\u{A1}', 'Ă'),
    ('\u{A2}', 'Â'),
    ('\u{A3}', 'Ê'),
    ('\u{A4}', 'Ô'),
    ('\u{A5}', 'Ơ'),
    ('\u{A6}', 'Ư'),
    ('\u{A7}', 'Đ'),
    ('\u{A8}', 'ă'),
    ('\u{A9}', 'â'),
    ('\u{AA}', 'ê'),
    ('\u{AB}', 'ô'),
    ('\u{AC}', 'ơ'),
    ('\u{AD}', 'ư'),
    ('\u{AE}', 'đ'),
    ('\u{B5}', 'à'),
    ('\u{B6}', 'ả'),
    ('\u{B7}', 'ã'),
    ('\u{B8}', 'á'),
    ('\u{B9}', 'ạ'),
    ('\u{BB}', 'ằ'),
    ('\u{BC}', 'ẳ'),
    ('\u{BD}', 'ẵ'),
    ('\u{BE}', 'ắ'),
    ('\u{C6}', 'ặ'),
    ('\u{C7}', 'ầ'),
    ('\u{C8}', 'ẩ'),
    ('\u{C9}', 'ẫ'),
    ('\u{CA}', 'ấ'),
    ('\u{CB}', 'ậ'),
    ('\u{CC}', 'è'),
    ('\u{CE}', 'ẻ'),
    ('\u{CF}', 'ẽ'),
    ('\u{D0}', 'é'),
    ('\u{D1}', 'ẹ'),
    ('\u{D2}', 'ề'),
    ('\u{D3}', 'ể'),
    ('\u{D4}', 'ễ'),
    ('\u{D5}', 'ế'),
    ('\u{D6}', 'ệ'),
    ('\u{D7}', 'ì'),
    ('\u{D8}', 'ỉ'),
    ('\u{DC}', 'ĩ'),
    ('\u{DD}', 'í'),
    ('\u{DE}', 'ị'),
    ('\u{DF}', 'ò'),
    ('\u{E1}', 'ỏ'),
    ('\u{E2}', 'õ'),
    ('\u{E3}', 'ó'),
    ('\u{E4}', 'ọ'),
    ('\u{E5}', 'ồ'),
    ('\u{E6}', 'ổ'),
    ('\u{E7}', 'ỗ'),
    ('\u{E8}', 'ố'),
    ('\u{E9}', 'ộ'),
    ('\u{EA}', 'ờ'),
    ('\u{EB}', 'ở'),
    ('\u{EC}', 'ỡ'),
    ('\u{ED}', 'ớ'),
    ('\u{EE}', 'ợ'),
    ('\u{EF}', 'ù'),
    ('\u{F1}', 'ủ'),
    ('\u{F2}', 'ũ'),
    ('\u{F3}', 'ú'),
    ('\u{F4}', 'ụ'),
    ('\u{F5}', 'ừ'),
    ('\u{F6}', 'ử'),
    ('\u{F7}', 'ữ'),
    ('\u{F8}', 'ứ'),
    ('\u{F9}', 'ự'),
    ('\u{FA}', 'ỳ'),
    ('\u{FB}', 'ỷ'),
    ('\u{FC}', 'ỹ'),
    ('\u{FD}', 'ý'),
    ('\u{FE}', 'ỵ'),
];

/// One TCVN3 character. `capitals` is set for the upper-case "H" fonts (`.VnTimeH`).
pub fn tcvn3_char(c: char, capitals: bool) -> String {
    let mapped = TCVN3
        .binary_search_by_key(&c, |&(from, _)| from)
        .map(|i| TCVN3[i].1)
        .unwrap_or(c);
    if capitals {
        mapped.to_uppercase().collect()
    } else {
        mapped.to_string()
    }
}

/// A whole TCVN3 string → Unicode (NFC).
pub fn tcvn3_to_unicode(text: &str, capitals: bool) -> String {
    text.chars().map(|c| tcvn3_char(c, capitals)).collect()
}

/// The diacritics a VNI mark byte adds to the letter before it, as combining characters.
pub fn vni_mark(c: char) -> Option<&'static str> {
    Some(match c.to_lowercase().next()? {
        'ù' => "\u{301}",
        'ø' => "\u{300}",
        'û' => "\u{309}",
        'õ' => "\u{303}",
        'ï' => "\u{323}",
        'â' => "\u{302}",
        'á' => "\u{302}\u{301}",
        'à' => "\u{302}\u{300}",
        'å' => "\u{302}\u{309}",
        'ã' => "\u{302}\u{303}",
        'ä' => "\u{302}\u{323}",
        'ê' => "\u{306}",
        'é' => "\u{306}\u{301}",
        'è' => "\u{306}\u{300}",
        'ú' => "\u{306}\u{309}",
        'ü' => "\u{306}\u{303}",
        'ë' => "\u{306}\u{323}",
        _ => return None,
    })
}

/// VNI bytes that are letters of their own (horned o/u, đ, and the i/y forms).
pub fn vni_letter(c: char) -> Option<char> {
    Some(match c {
        'ô' => 'ơ',
        'Ô' => 'Ơ',
        'ö' => 'ư',
        'Ö' => 'Ư',
        'ñ' => 'đ',
        'Ñ' => 'Đ',
        'æ' => 'ỉ',
        'Æ' => 'Ỉ',
        'ó' => 'ĩ',
        'Ó' => 'Ĩ',
        'ò' => 'ị',
        'Ò' => 'Ị',
        'î' => 'ỵ',
        'Î' => 'Ỵ',
        _ => return None,
    })
}

/// A whole VNI string → Unicode (NFC).
pub fn vni_to_unicode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if let Some(letter) = vni_letter(c) {
            out.push(letter);
        } else if let Some(mark) = vni_mark(c)
            && out.chars().next_back().is_some_and(char::is_alphabetic)
        {
            out.push_str(mark);
        } else {
            out.push(c);
        }
    }
    out.nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(TCVN3.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn converts_tcvn3_headers() {
        assert_eq!(
            tcvn3_to_unicode("Uû ban nh©n d©n x· Nam ChÝnh", false),
            "Uỷ ban nhân dân xã Nam Chính"
        );
        assert_eq!(
            tcvn3_to_unicode("Céng hoµ x· héi chñ nghÜa ViÖt Nam", false),
            "Cộng hoà xã hội chủ nghĩa Việt Nam"
        );
        assert_eq!(
            tcvn3_to_unicode("§éc lËp - Tù do - H¹nh phóc", false),
            "Độc lập - Tự do - Hạnh phúc"
        );
        assert_eq!(tcvn3_to_unicode("quyÕt ®Þnh", true), "QUYẾT ĐỊNH");
        assert_eq!(
            tcvn3_to_unicode("M\u{AD}êng Kh\u{AD}\u{AC}ng", false),
            "Mường Khương"
        );
    }

    #[test]
    fn converts_vni_headers() {
        assert_eq!(
            vni_to_unicode("UÛY BAN NHAÂN DAÂN HUYEÄN ÑÖÙC PHOÅ"),
            "ỦY BAN NHÂN DÂN HUYỆN ĐỨC PHỔ"
        );
        assert_eq!(
            vni_to_unicode("Quyeát ñònh veà vieäc ban haønh Quy cheá laøm vieäc"),
            "Quyết định về việc ban hành Quy chế làm việc"
        );
        assert_eq!(vni_to_unicode("Hoaøng Maïnh Töôøng"), "Hoàng Mạnh Tường");
        assert_eq!(vni_to_unicode("naêm 2024, thaùng 5"), "năm 2024, tháng 5");
    }
}
