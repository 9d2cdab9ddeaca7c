//! Writing simple text PDFs: what the demo, the tests and the benchmarks feed the
//! e-office pipeline (real signed PDFs cannot be generated in bulk).
//!
//! Text uses the unembedded Times New Roman faces as simple TrueType fonts: each
//! Vietnamese letter gets a byte code through `/Differences` with its `uniXXXX` glyph name
//! (so viewers render it with the substitute font's glyph) and a `/ToUnicode` entry (so
//! text extraction, ours and poppler's, reads Unicode). Widths approximate Times.

use std::collections::BTreeMap;

use lopdf::{Dictionary, Document, Object, Stream, dictionary};
use unicode_normalization::UnicodeNormalization;

/// A line of text at a position (points from the bottom left of an A4 page).
#[derive(Debug, Clone)]
pub struct TextRun {
    pub text: String,
    pub x: f32,
    pub y: f32,
    pub size: f32,
    pub bold: bool,
}

pub const PAGE_WIDTH: f32 = 595.0;
pub const PAGE_HEIGHT: f32 = 842.0;

/// Times-Roman advance widths (1/1000 em) of ASCII 32..=126, from its AFM.
const TIMES_ASCII: [u16; 95] = [
    250, 333, 408, 500, 500, 833, 778, 333, 333, 333, 500, 564, 250, 333, 250, 278, 500, 500, 500,
    500, 500, 500, 500, 500, 500, 500, 278, 278, 564, 564, 564, 444, 921, 722, 667, 667, 722, 611,
    556, 722, 722, 333, 389, 722, 611, 889, 722, 722, 556, 722, 667, 556, 611, 722, 722, 944, 722,
    722, 611, 333, 278, 333, 469, 500, 333, 444, 500, 444, 500, 444, 333, 500, 500, 278, 278, 500,
    278, 778, 500, 500, 500, 500, 333, 389, 278, 500, 500, 722, 500, 500, 444, 480, 200, 480, 541,
];

/// Advance width of `c` in 1/1000 em: Times for ASCII, the base letter's for a letter with
/// diacritics, a middling width for anything else.
pub fn advance(c: char, bold: bool) -> f32 {
    let base = match c {
        'đ' => 'd',
        'Đ' => 'D',
        '–' => '-',
        '“' | '”' => '"',
        _ => c.nfd().next().unwrap_or(c),
    };
    let w = match base as u32 {
        32..=126 => TIMES_ASCII[(base as u32 - 32) as usize] as f32,
        _ => 500.0,
    };
    if bold { w * 1.05 } else { w }
}

pub fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    text.chars().map(|c| advance(c, bold)).sum::<f32>() * size / 1000.0
}

/// Breaks `text` into lines no wider than `width`.
pub fn wrap(text: &str, width: f32, size: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_width(&candidate, size, false) > width {
            lines.push(std::mem::take(&mut line));
            line = word.to_string();
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A run centred on `center`.
pub fn centered(text: &str, center: f32, y: f32, size: f32, bold: bool) -> TextRun {
    TextRun {
        text: text.to_string(),
        x: center - text_width(text, size, bold) / 2.0,
        y,
        size,
        bold,
    }
}

/// Byte codes for the characters of a document: ASCII keeps its own; every other
/// character gets one of the codes ASCII leaves free.
struct Encoding {
    codes: BTreeMap<char, u8>,
}

impl Encoding {
    fn new(pages: &[Vec<TextRun>]) -> Encoding {
        let mut free = (128u8..=255).chain(1u8..=31);
        let mut codes = BTreeMap::new();
        for c in pages
            .iter()
            .flatten()
            .flat_map(|r| r.text.nfc().collect::<Vec<_>>())
        {
            if (32..=126).contains(&(c as u32)) || codes.contains_key(&c) {
                continue;
            }
            // A document with more distinct non-ASCII characters than free codes writes
            // the rest as '?' (Vietnamese needs 134 letters; 159 codes are free).
            if let Some(code) = free.next() {
                codes.insert(c, code);
            }
        }
        Encoding { codes }
    }

    fn bytes(&self, text: &str) -> Vec<u8> {
        text.nfc()
            .map(|c| match c as u32 {
                32..=126 => c as u8,
                _ => self.codes.get(&c).copied().unwrap_or(b'?'),
            })
            .collect()
    }

    fn differences(&self) -> Vec<Object> {
        let mut out = Vec::new();
        for (c, code) in self.by_code() {
            out.push(Object::Integer(code as i64));
            out.push(Object::Name(format!("uni{:04X}", c as u32).into_bytes()));
        }
        out
    }

    fn by_code(&self) -> Vec<(char, u8)> {
        let mut v: Vec<(char, u8)> = self.codes.iter().map(|(c, b)| (*c, *b)).collect();
        v.sort_by_key(|(_, b)| *b);
        v
    }

    fn to_unicode(&self) -> Vec<u8> {
        let mut cmap = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Vanban-UCS def\n/CMapType 2 def\n\
             1 begincodespacerange\n<00> <FF>\nendcodespacerange\n\
             1 beginbfrange\n<20> <7E> <0020>\nendbfrange\n",
        );
        for chunk in self.by_code().chunks(100) {
            cmap.push_str(&format!("{} beginbfchar\n", chunk.len()));
            for (c, code) in chunk {
                cmap.push_str(&format!("<{code:02X}> <{:04X}>\n", *c as u32));
            }
            cmap.push_str("endbfchar\n");
        }
        cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        cmap.into_bytes()
    }

    fn widths(&self, bold: bool) -> Vec<Object> {
        let mut by_code: BTreeMap<u8, char> = (32u8..=126).map(|b| (b, b as char)).collect();
        for (c, code) in &self.codes {
            by_code.insert(*code, *c);
        }
        (1u8..=255)
            .map(|code| {
                let w = by_code.get(&code).map_or(0.0, |c| advance(*c, bold));
                Object::Integer(w.round() as i64)
            })
            .collect()
    }
}

fn font(doc: &mut Document, encoding: &Encoding, bold: bool) -> lopdf::ObjectId {
    let to_unicode = doc.add_object(Stream::new(dictionary! {}, encoding.to_unicode()));
    let name = if bold {
        "TimesNewRomanPS-BoldMT"
    } else {
        "TimesNewRomanPSMT"
    };
    let descriptor = doc.add_object(dictionary! {
        "Type" => "FontDescriptor",
        "FontName" => Object::Name(name.as_bytes().to_vec()),
        "Flags" => 34,
        "FontBBox" => vec![(-568).into(), (-216).into(), 2046.into(), 891.into()],
        "ItalicAngle" => 0,
        "Ascent" => 891,
        "Descent" => -216,
        "CapHeight" => 662,
        "StemV" => if bold { 136 } else { 82 },
    });
    doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "TrueType",
        "BaseFont" => Object::Name(name.as_bytes().to_vec()),
        "FirstChar" => 1,
        "LastChar" => 255,
        "Widths" => encoding.widths(bold),
        "FontDescriptor" => descriptor,
        "Encoding" => dictionary! {
            "Type" => "Encoding",
            "BaseEncoding" => "WinAnsiEncoding",
            "Differences" => encoding.differences(),
        },
        "ToUnicode" => to_unicode,
    })
}

/// An A4 PDF with these pages of text; `title` goes into the document information.
pub fn write_pdf(pages: &[Vec<TextRun>], title: &str) -> Vec<u8> {
    let encoding = Encoding::new(pages);
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let regular = font(&mut doc, &encoding, false);
    let bold = font(&mut doc, &encoding, true);
    let resources = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => regular, "F2" => bold },
    });
    let mut kids = Vec::new();
    for runs in pages {
        let mut content = Vec::new();
        for run in runs {
            content.extend_from_slice(
                format!(
                    "BT /{} {:.1} Tf {:.2} {:.2} Td ",
                    if run.bold { "F2" } else { "F1" },
                    run.size,
                    run.x,
                    run.y
                )
                .as_bytes(),
            );
            content.push(b'<');
            content.extend_from_slice(hex::encode_upper(encoding.bytes(&run.text)).as_bytes());
            content.extend_from_slice(b"> Tj ET\n");
        }
        let mut stream = Stream::new(dictionary! {}, content);
        let _ = stream.compress();
        let content_id = doc.add_object(stream);
        let page = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
            "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), PAGE_WIDTH.into(), PAGE_HEIGHT.into()],
        });
        kids.push(Object::from(page));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    let mut info = Dictionary::new();
    info.set("Title", Object::string_literal(utf16_text(title)));
    info.set("Producer", Object::string_literal("vanban pdf writer"));
    let info = doc.add_object(info);
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("in memory");
    out
}

/// A small PDF that costs a great deal to read: each of `pages` pages draws the same Form
/// XObject `draws_per_page` times, and the form shows `glyphs_per_draw` characters in
/// lines of 100. All pages share one content stream, so 5,000 pages × 100 draws × 1,000
/// glyphs (500 million glyphs) fit in a few hundred kilobytes: the classic amplification
/// the extraction budget ([`crate::pdf::Budget`]) stops.
pub fn amplified_pdf(pages: usize, draws_per_page: usize, glyphs_per_draw: usize) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let text = b"Noi dung lap lai nhieu lan trong mot tep nho de kiem tra gioi han trich xuat ";
    let mut form_content = Vec::new();
    let mut left = glyphs_per_draw;
    let mut y = PAGE_HEIGHT - 40.0;
    while left > 0 {
        let n = left.min(100);
        let line: Vec<u8> = text.iter().copied().cycle().take(n).collect();
        form_content.extend_from_slice(format!("BT /F1 6 Tf 20 {y:.1} Td (").as_bytes());
        form_content.extend_from_slice(&line);
        form_content.extend_from_slice(b") Tj ET\n");
        left -= n;
        y = if y < 40.0 {
            PAGE_HEIGHT - 40.0
        } else {
            y - 7.0
        };
    }
    let mut form = Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), PAGE_WIDTH.into(), PAGE_HEIGHT.into()],
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
        },
        form_content,
    );
    let _ = form.compress();
    let form = doc.add_object(form);
    let page_content = "q /X0 Do Q\n".repeat(draws_per_page).into_bytes();
    let mut content = Stream::new(dictionary! {}, page_content);
    let _ = content.compress();
    let content = doc.add_object(content);
    let resources = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font },
        "XObject" => dictionary! { "X0" => form },
    });
    let kids: Vec<Object> = (0..pages)
        .map(|_| {
            Object::from(doc.add_object(dictionary! {
                "Type" => "Page",
                "Parent" => pages_id,
                "Contents" => content,
                "Resources" => resources,
                "MediaBox" => vec![0.into(), 0.into(), PAGE_WIDTH.into(), PAGE_HEIGHT.into()],
            }))
        })
        .collect();
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("in memory");
    out
}

/// A PDF text string in UTF-16BE with its byte-order mark (any language).
fn utf16_text(text: &str) -> Vec<u8> {
    let mut out = vec![0xFE, 0xFF];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
    out
}

/// What a Decree-30 document shows, for [`decree30_pdf`].
#[derive(Debug, Clone, Default)]
pub struct Decree30Page {
    /// Parent body, issuer: in capitals, one or two lines each.
    pub issuer_lines: Vec<String>,
    /// `Số: …` as printed ("116/QĐ-UBND", or "   /BC-UBND" for a blank number).
    pub number_symbol: String,
    /// "Quốc Tuấn, ngày 5 tháng 3 năm 2024".
    pub place_date: String,
    /// Secrecy or urgency stamps under the number ("MẬT", "KHẨN").
    pub markings: Vec<String>,
    /// "QUYẾT ĐỊNH"; empty for a công văn (whose abstract is "V/v …" under the number).
    pub type_title: String,
    pub abstract_text: String,
    pub paragraphs: Vec<String>,
    pub recipients: Vec<String>,
    /// "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH".
    pub signer_block: Vec<String>,
    pub signer_name: String,
}

/// A Decree-30 layout: the two-column header, the title and abstract, the body, and the
/// recipients beside the signer block; as many A4 pages as the body needs.
pub fn decree30_pdf(d: &Decree30Page, title: &str) -> Vec<u8> {
    const SIZE: f32 = 13.0;
    const LEAD: f32 = 17.0;
    const LEFT: f32 = 70.0;
    const RIGHT: f32 = 545.0;
    let left_center = 170.0;
    let right_center = 395.0;
    let mut pages: Vec<Vec<TextRun>> = Vec::new();
    let mut page: Vec<TextRun> = Vec::new();
    let mut y = PAGE_HEIGHT - 60.0;
    let mut left_y = y;
    for line in &d.issuer_lines {
        page.push(centered(
            line,
            left_center,
            left_y,
            12.0,
            line == d.issuer_lines.last().unwrap(),
        ));
        left_y -= 15.0;
    }
    page.push(centered(
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        right_center,
        y,
        12.0,
        true,
    ));
    y -= 15.0;
    page.push(centered(
        "Độc lập - Tự do - Hạnh phúc",
        right_center,
        y,
        13.0,
        true,
    ));
    let number_y = left_y.min(y) - 22.0;
    page.push(centered(
        &format!("Số: {}", d.number_symbol),
        left_center,
        number_y,
        SIZE,
        false,
    ));
    page.push(centered(&d.place_date, right_center, number_y, SIZE, false));
    y = number_y;
    if d.type_title.is_empty() {
        for line in wrap(&d.abstract_text, 200.0, 12.0) {
            y -= 15.0;
            page.push(centered(&line, left_center, y, 12.0, false));
        }
    }
    for mark in &d.markings {
        y -= 20.0;
        page.push(centered(mark, left_center, y, 13.0, true));
    }
    y -= 34.0;
    if !d.type_title.is_empty() {
        page.push(centered(&d.type_title, PAGE_WIDTH / 2.0, y, 14.0, true));
        for line in wrap(&d.abstract_text, 380.0, 14.0) {
            y -= 19.0;
            page.push(centered(&line, PAGE_WIDTH / 2.0, y, 14.0, true));
        }
        y -= 28.0;
    }
    let mut newline = |page: &mut Vec<TextRun>, y: &mut f32, needed: f32| {
        if *y - needed < 70.0 {
            pages.push(std::mem::take(page));
            *y = PAGE_HEIGHT - 70.0;
        }
    };
    for paragraph in &d.paragraphs {
        let lines = wrap(paragraph, RIGHT - LEFT - 30.0, SIZE);
        for (i, line) in lines.iter().enumerate() {
            newline(&mut page, &mut y, LEAD);
            let indent = if i == 0 { 30.0 } else { 0.0 };
            page.push(TextRun {
                text: line.clone(),
                x: LEFT + indent,
                y,
                size: SIZE,
                bold: false,
            });
            y -= LEAD;
        }
        y -= 4.0;
    }
    let block_height = 15.0 * (d.recipients.len().max(d.signer_block.len() + 4) as f32 + 2.0);
    newline(&mut page, &mut y, block_height);
    y -= 12.0;
    let top = y;
    page.push(TextRun {
        text: "Nơi nhận:".into(),
        x: LEFT,
        y,
        size: 12.0,
        bold: true,
    });
    for r in &d.recipients {
        y -= 14.0;
        page.push(TextRun {
            text: format!("- {r};"),
            x: LEFT,
            y,
            size: 11.0,
            bold: false,
        });
    }
    let mut sy = top;
    for line in &d.signer_block {
        page.push(centered(line, 420.0, sy, 13.0, true));
        sy -= 16.0;
    }
    sy -= 50.0;
    page.push(centered(&d.signer_name, 420.0, sy, 13.0, true));
    pages.push(page);
    write_pdf(&pages, title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_text_round_trips_through_extraction() {
        let runs = vec![TextRun {
            text: "Quyết định về việc kiện toàn Ban biên tập Đảng ủy".into(),
            x: 72.0,
            y: 700.0,
            size: 13.0,
            bold: false,
        }];
        let bytes = write_pdf(&[runs], "Thử");
        let text = crate::pdf::extract_text(&bytes).unwrap();
        assert_eq!(
            text.pages[0].lines[0].text,
            "Quyết định về việc kiện toàn Ban biên tập Đảng ủy"
        );
    }

    #[test]
    fn wrapping_respects_the_width() {
        let lines = wrap("một hai ba bốn năm sáu bảy tám chín mười", 60.0, 13.0);
        assert!(lines.len() > 1);
        assert!(
            lines
                .iter()
                .all(|l| text_width(l, 13.0, false) <= 60.0 || !l.contains(' '))
        );
    }
}
