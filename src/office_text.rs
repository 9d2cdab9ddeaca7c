//! Plain text of office files that travel with a document as further files (appendices
//! and drafts in e-office packages): `.docx`, `.xlsx`, `.odt`/`.ods` (ZIP + XML) and legacy
//! Word `.doc` (OLE). Only what the publication rules need — the words, in reading order,
//! one paragraph or cell a line, headers and footers included (markings live there) — not
//! a faithful conversion.
//!
//! Bounded: at most [`MAX_ENTRY_BYTES`] inflated per XML part and [`MAX_TEXT_CHARS`] of
//! text per file; a file past either is reported as unreadable rather than read in part,
//! since a marking could sit in what was not read.

use std::io::{Cursor, Read};

use quick_xml::Reader;
use quick_xml::events::Event;

/// Largest inflated XML part read from an office ZIP.
pub const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;
/// Most text kept from one file.
pub const MAX_TEXT_CHARS: usize = 4_000_000;
/// A legacy `.doc` yielding fewer letters than this is taken as unreadable (its text may
/// be stored in an 8-bit legacy encoding, or compressed).
const MIN_DOC_LETTERS: usize = 40;

/// Which office format a file is, by media type or, failing that, by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficeKind {
    Docx,
    Xlsx,
    OpenDocument,
    LegacyDoc,
    /// Another OLE compound file (a `.xls` workbook, a `.ppt`…): not read.
    OtherOle,
}

/// Whether `name` occurs in `bytes` as UTF-16LE (an OLE directory entry's name).
fn holds_utf16(bytes: &[u8], name: &str) -> bool {
    let needle: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    memchr::memmem::find(bytes, &needle).is_some()
}

impl OfficeKind {
    pub fn of(media_type: &str, bytes: &[u8]) -> Option<OfficeKind> {
        Some(match media_type {
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
                OfficeKind::Docx
            }
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => OfficeKind::Xlsx,
            "application/vnd.oasis.opendocument.text"
            | "application/vnd.oasis.opendocument.spreadsheet" => OfficeKind::OpenDocument,
            // An OLE compound file is read as Word only when it holds a `WordDocument`
            // stream; a legacy workbook (`.xls`) keeps Latin-1-only strings 8-bit and
            // others at odd offsets, so its text cannot be read whole: it is "other".
            _ if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) => {
                if holds_utf16(bytes, "WordDocument") {
                    OfficeKind::LegacyDoc
                } else {
                    OfficeKind::OtherOle
                }
            }
            _ => return None,
        })
    }
}

/// The text of an office file, or why it could not be read.
pub fn text_of(kind: OfficeKind, bytes: &[u8]) -> Result<String, String> {
    match kind {
        OfficeKind::Docx => zip_text(bytes, |name| {
            name == "word/document.xml"
                || (name.starts_with("word/header") || name.starts_with("word/footer"))
                    && name.ends_with(".xml")
                || name == "word/footnotes.xml"
        }),
        OfficeKind::Xlsx => zip_text(bytes, |name| {
            name == "xl/sharedStrings.xml"
                || name.starts_with("xl/worksheets/") && name.ends_with(".xml")
        }),
        OfficeKind::OpenDocument => {
            zip_text(bytes, |name| name == "content.xml" || name == "styles.xml")
        }
        OfficeKind::LegacyDoc => legacy_doc_text(bytes),
        OfficeKind::OtherOle => {
            Err("tệp Office cũ không phải Word (.xls, .ppt…): không đọc được văn bản".into())
        }
    }
}

/// Text of the ZIP parts `wanted` names, in the archive's order.
fn zip_text(bytes: &[u8], wanted: impl Fn(&str) -> bool) -> Result<String, String> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("ZIP hỏng: {e}"))?;
    let mut out = String::new();
    let mut parts = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| format!("ZIP hỏng: {e}"))?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        if !wanted(&name) {
            continue;
        }
        if entry.size() > MAX_ENTRY_BYTES {
            return Err(format!("phần {name} quá lớn"));
        }
        let mut xml = Vec::new();
        (&mut entry)
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut xml)
            .map_err(|e| format!("không giải nén được {name}: {e}"))?;
        if xml.len() as u64 > MAX_ENTRY_BYTES {
            return Err(format!("phần {name} quá lớn"));
        }
        xml_text(&xml, &mut out)?;
        parts += 1;
    }
    if parts == 0 {
        return Err("không có phần văn bản nào trong tệp".into());
    }
    Ok(out)
}

/// Appends the character data of an office XML part: a line break after each paragraph,
/// table cell, shared string or row; a tab for `w:tab`. Element names are compared by
/// local name (producers differ in prefixes).
fn xml_text(xml: &[u8], out: &mut String) -> Result<(), String> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("XML hỏng: {e}"))?;
        match event {
            Event::Text(t) => out.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                // An entity reference between text runs (&amp;, &#7853;…).
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    out.push(c);
                } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(r.as_ref()) {
                    out.push_str(s);
                }
            }
            Event::CData(c) => out.push_str(&c.into_inner()),
            Event::Empty(e) if e.local_name().as_ref() == "tab" => out.push('\t'),
            Event::Empty(e) if matches!(e.local_name().as_ref(), "br" | "line-break") => {
                out.push('\n')
            }
            Event::End(e)
                if matches!(
                    e.local_name().as_ref(),
                    "p" | "h" | "tc" | "si" | "row" | "oddHeader" | "oddFooter" | "c"
                ) =>
            {
                out.push('\n')
            }
            Event::Eof => break,
            _ => {}
        }
        if out.len() > MAX_TEXT_CHARS {
            return Err("văn bản quá dài".into());
        }
        buf.clear();
    }
    Ok(())
}

/// Legacy Word (OLE compound file): Word 97 and later store text needing more than one
/// code page as UTF-16LE, which Vietnamese always does. Runs of UTF-16LE letters,
/// digits, punctuation and spaces are taken as lines; an 8-bit or compressed store gives
/// too few letters and is reported as unreadable (the caller holds the record).
fn legacy_doc_text(bytes: &[u8]) -> Result<String, String> {
    // A piece of text may start at an odd offset: both alignments are read (the wrong one
    // decodes to non-Latin characters, which are not taken for text).
    let mut out = String::new();
    let mut letters = 0usize;
    for start in [0, 1] {
        letters += utf16_runs(bytes.get(start..).unwrap_or_default(), &mut out)?;
    }
    if letters < MIN_DOC_LETTERS {
        return Err("định dạng Word cũ, không đọc được văn bản".into());
    }
    Ok(out)
}

/// Appends the UTF-16LE runs of Vietnamese text in `bytes` to `out`, a line each; returns
/// how many letters they hold.
fn utf16_runs(bytes: &[u8], out: &mut String) -> Result<usize, String> {
    /// Keeps a run that holds a few letters; returns how many.
    fn flush(run: &mut String, out: &mut String) -> usize {
        let trimmed = run.trim();
        let letters = trimmed.chars().filter(|c| is_latin_letter(*c)).count();
        let kept = if letters >= 3 {
            out.push_str(trimmed);
            out.push('\n');
            letters
        } else {
            0
        };
        run.clear();
        kept
    }
    let mut run = String::new();
    let mut letters = 0usize;
    for pair in bytes.chunks_exact(2) {
        let unit = u16::from_le_bytes([pair[0], pair[1]]);
        match char::from_u32(u32::from(unit)) {
            Some(c)
                if is_latin_letter(c)
                    || c.is_ascii_digit()
                    || c == ' '
                    || c == '\t'
                    || is_text_punct(c) =>
            {
                run.push(c)
            }
            // Paragraph and cell ends, and anything that is not text, end a run.
            _ => letters += flush(&mut run, out),
        }
        if out.len() > MAX_TEXT_CHARS {
            return Err("văn bản quá dài".into());
        }
    }
    letters += flush(&mut run, out);
    Ok(letters)
}

/// Letters of Vietnamese text: ASCII, the Latin supplements and extensions (ư, ơ, đ) and
/// Latin Extended Additional (ạ…ỹ), plus combining marks. Byte pairs of 8-bit text read
/// as UTF-16 fall elsewhere (CJK, mostly), so they do not pass for text.
fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || ('\u{C0}'..='\u{24F}').contains(&c) && c != '\u{D7}' && c != '\u{F7}'
        || ('\u{1E00}'..='\u{1EFF}').contains(&c)
        || ('\u{300}'..='\u{36F}').contains(&c)
}

fn is_text_punct(c: char) -> bool {
    matches!(
        c,
        '.' | ','
            | ':'
            | ';'
            | '-'
            | '/'
            | '('
            | ')'
            | '"'
            | '\''
            | '–'
            | '—'
            | '…'
            | '?'
            | '!'
            | '%'
            | '&'
            | '['
            | ']'
            | '“'
            | '”'
            | '‘'
            | '’'
            | '*'
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_of(parts: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        for (name, body) in parts {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(body.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn docx_paragraphs_headers_and_entities_are_read() {
        let docx = zip_of(&[
            (
                "word/document.xml",
                r#"<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>PHỤ LỤC</w:t></w:r></w:p><w:p><w:r><w:t xml:space="preserve">Kèm theo &amp; </w:t></w:r><w:r><w:t>Quyết định</w:t></w:r></w:p></w:body></w:document>"#,
            ),
            (
                "word/header1.xml",
                r#"<w:hdr xmlns:w="x"><w:p><w:r><w:t>M&#7852;T</w:t></w:r></w:p></w:hdr>"#,
            ),
            (
                "word/styles.xml",
                r#"<w:styles xmlns:w="x"><w:t>ignored</w:t></w:styles>"#,
            ),
        ]);
        let kind = OfficeKind::of(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            &docx,
        )
        .unwrap();
        let text = text_of(kind, &docx).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines, ["PHỤ LỤC", "Kèm theo & Quyết định", "MẬT"]);
    }

    #[test]
    fn xlsx_shared_strings_and_sheet_headers_are_read() {
        let xlsx = zip_of(&[
            (
                "xl/sharedStrings.xml",
                r#"<sst><si><t>Danh sách</t></si><si><t>Lưu hành nội bộ</t></si></sst>"#,
            ),
            (
                "xl/worksheets/sheet1.xml",
                r#"<worksheet><headerFooter><oddHeader>&amp;CTÀI LIỆU MẬT</oddHeader></headerFooter></worksheet>"#,
            ),
        ]);
        let text = text_of(OfficeKind::Xlsx, &xlsx).unwrap();
        assert!(text.lines().any(|l| l == "Lưu hành nội bộ"), "{text}");
        assert!(text.contains("TÀI LIỆU MẬT"), "{text}");
    }

    #[test]
    fn legacy_doc_text_is_found_in_utf16_runs_or_refused() {
        let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
        let mut doc = ole.to_vec();
        doc.extend(utf16("Root Entry\0WordDocument\0"));
        // An odd number of padding bytes: the text starts at an odd offset.
        doc.extend(std::iter::repeat_n(0u8, 65));
        let body =
            "ỦY BAN NHÂN DÂN XÃ NAM CHÍNH\rMẬT\rQuyết định về việc phê duyệt kế hoạch năm 2025\r";
        for unit in body.encode_utf16() {
            doc.extend(unit.to_le_bytes());
        }
        doc.extend(std::iter::repeat_n(0u8, 64));
        let kind = OfficeKind::of("application/octet-stream", &doc).unwrap();
        assert_eq!(kind, OfficeKind::LegacyDoc);
        let text = text_of(kind, &doc).unwrap();
        assert!(text.lines().any(|l| l == "MẬT"), "{text}");
        // An 8-bit store (or garbage) yields no text: unreadable, not empty-and-clean.
        let mut eight_bit = ole.to_vec();
        eight_bit.extend(utf16("WordDocument"));
        eight_bit
            .extend(b"UBND XA NAM CHINH MAT quyet dinh ke hoach cua uy ban nhan dan xa nam chinh");
        assert!(text_of(OfficeKind::LegacyDoc, &eight_bit).is_err());
        // A legacy workbook (no WordDocument stream) is not read at all, even with text.
        let mut workbook = ole.to_vec();
        workbook.extend(utf16("Root Entry\0Workbook\0"));
        workbook.extend(utf16(body));
        let kind = OfficeKind::of("application/vnd.ms-excel", &workbook).unwrap();
        assert_eq!(kind, OfficeKind::OtherOle);
        assert!(text_of(kind, &workbook).is_err());
    }

    #[test]
    fn a_broken_zip_is_an_error_not_empty_text() {
        assert!(text_of(OfficeKind::Docx, b"PK\x03\x04 broken").is_err());
        let no_parts = zip_of(&[("other.xml", "<a>x</a>")]);
        assert!(text_of(OfficeKind::Docx, &no_parts).is_err());
    }
}
