//! PDF reading: load with lopdf, interpret content streams, order text for reading.
//!
//! See ARCHITECTURE.md ("Text extraction") for why this does not use `Document::extract_text`.

pub mod budget;
pub mod content;
pub mod fonts;
pub mod layout;
pub mod lexer;
pub mod writer;

use lopdf::Document;

pub use budget::{Budget, BudgetExceeded, Limit, Meter};
pub use content::{Glyph, Stamp, StampKind};
pub use fonts::LegacyEncoding;
pub use layout::Line;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum PdfError {
    #[error("không phải tệp PDF (not a PDF: the file does not start with %PDF-)")]
    NotPdf,
    #[error("tệp PDF được mã hóa bằng mật khẩu (encrypted PDF: {0})")]
    Encrypted(String),
    #[error("tệp PDF bị hỏng hoặc không đầy đủ (corrupt or truncated PDF: {0})")]
    Corrupt(String),
    #[error("tệp PDF không có trang nào (the PDF has no pages)")]
    NoPages,
    /// The extraction budget (pages, time, glyphs, inflated bytes) is spent: the file is
    /// kept for a clerk rather than read to the end.
    #[error("trích xuất vượt giới hạn ({0})")]
    Budget(#[from] BudgetExceeded),
}

/// Text of one page, in reading order.
#[derive(Debug, Clone, Default)]
pub struct PageText {
    pub number: u32,
    pub lines: Vec<Line>,
    pub width: f32,
    pub height: f32,
    /// Characters of text found on the page (0 for a scanned page).
    pub char_count: usize,
    pub has_images: bool,
    pub legacy_fonts: Vec<(String, LegacyEncoding)>,
    /// Why the page's text could not be read, when it could not.
    pub error: Option<String>,
    /// Annotation, form-field and rotated text (also in `lines` when laid out upright).
    pub stamps: Vec<Stamp>,
}

impl PageText {
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (i, line) in self.lines.iter().enumerate() {
            if i > 0 && line.block_start {
                out.push('\n');
            }
            out.push_str(&line.text);
            out.push('\n');
        }
        out
    }
}

#[derive(Debug, Clone, Default)]
pub struct PdfText {
    pub pages: Vec<PageText>,
    pub producer: Option<String>,
}

/// Is this the start of a PDF? (Some producers put junk before `%PDF-`; the spec allows 1 KiB.)
pub fn looks_like_pdf(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    head.windows(5).any(|w| w == b"%PDF-")
}

pub fn load(bytes: &[u8]) -> Result<Document, PdfError> {
    if !looks_like_pdf(bytes) {
        return Err(PdfError::NotPdf);
    }
    let doc = Document::load_mem(bytes).map_err(|e| match e {
        lopdf::Error::Decryption(d) => PdfError::Encrypted(d.to_string()),
        lopdf::Error::InvalidPassword => PdfError::Encrypted("a user password is required".into()),
        other => PdfError::Corrupt(other.to_string()),
    })?;
    if doc.is_encrypted() {
        return Err(PdfError::Encrypted("a user password is required".into()));
    }
    Ok(doc)
}

/// Extracts the text of every page within the process's budget ([`Budget::global`]). A
/// page whose content cannot be read is reported on that page and does not fail the
/// document.
pub fn extract_text(bytes: &[u8]) -> Result<PdfText, PdfError> {
    extract_text_of(&load(bytes)?, &Meter::start(Budget::global()))
}

/// The document's `/Producer`, when it names one.
pub fn producer(doc: &Document) -> Option<String> {
    doc.trailer
        .get(b"Info")
        .ok()
        .and_then(|info| doc.dereference(info).ok())
        .and_then(|(_, o)| o.as_dict().ok())
        .and_then(|info| info.get(b"Producer").ok())
        .and_then(|p| p.as_str().ok())
        .map(|raw| {
            lopdf::decode_text_string(&lopdf::Object::string_literal(raw.to_vec()))
                .unwrap_or_default()
        })
}

/// [`extract_text`] of a document already loaded (the caller keeps it for more work),
/// charging `meter`; stops with [`PdfError::Budget`] once a limit is passed.
pub fn extract_text_of(doc: &Document, meter: &Meter) -> Result<PdfText, PdfError> {
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(PdfError::NoPages);
    }
    meter.pages(pages.len())?;
    let producer = producer(doc);
    let mut out = PdfText {
        pages: Vec::with_capacity(pages.len()),
        producer,
    };
    for (number, page_id) in pages {
        meter.check_time()?;
        let (width, height) = page_size(doc, page_id);
        let has_images = doc
            .get_page_images(page_id)
            .map(|i| !i.is_empty())
            .unwrap_or(false);
        let mut page = PageText {
            number,
            width,
            height,
            has_images,
            ..PageText::default()
        };
        match content::page_glyphs(doc, page_id, meter) {
            Ok(glyphs) => {
                page.char_count = glyphs
                    .glyphs
                    .iter()
                    .map(|g| g.text.trim().chars().count())
                    .sum();
                page.legacy_fonts = glyphs.legacy_fonts;
                page.stamps = glyphs.stamps;
                page.lines = layout::lines_from_glyphs(&glyphs.glyphs);
                if glyphs.truncated {
                    page.error = Some("too many glyphs on the page; text truncated".into());
                }
            }
            Err(content::PageError::Unreadable(e)) => page.error = Some(e),
            Err(content::PageError::Budget(e)) => return Err(e.into()),
        }
        out.pages.push(page);
    }
    // Form fields without a widget on any page still carry a value.
    for value in acroform_values(doc) {
        let known = out.pages.iter().any(|p| {
            p.stamps
                .iter()
                .any(|s| s.kind == StampKind::FormField && s.text == value)
        });
        if !known && let Some(first) = out.pages.first_mut() {
            first.stamps.push(Stamp {
                kind: StampKind::FormField,
                text: value,
            });
        }
    }
    Ok(out)
}

/// Values of the document's interactive form fields (`/AcroForm /Fields`, with kids).
fn acroform_values(doc: &Document) -> Vec<String> {
    const MAX_FIELDS: usize = 10_000;
    let Some(form) = doc
        .catalog()
        .ok()
        .and_then(|c| fonts::deref(doc, c.get(b"AcroForm")).ok())
        .and_then(|o| o.as_dict().ok())
    else {
        return Vec::new();
    };
    let Ok(fields) = fonts::deref(doc, form.get(b"Fields")).and_then(lopdf::Object::as_array)
    else {
        return Vec::new();
    };
    let mut pending: Vec<(&lopdf::Object, usize)> = fields.iter().map(|f| (f, 0)).collect();
    let mut values = Vec::new();
    let mut visited = 0;
    while let Some((field, depth)) = pending.pop() {
        visited += 1;
        if visited > MAX_FIELDS || depth > 16 {
            break;
        }
        let Ok(dict) = fonts::deref(doc, Ok(field)).and_then(lopdf::Object::as_dict) else {
            continue;
        };
        if let Ok(kids) = fonts::deref(doc, dict.get(b"Kids")).and_then(lopdf::Object::as_array) {
            pending.extend(kids.iter().map(|k| (k, depth + 1)));
        }
        if let Some(value) = content::field_value(doc, dict)
            && !values.contains(&value)
        {
            values.push(value);
        }
    }
    values
}

fn page_size(doc: &Document, page_id: lopdf::ObjectId) -> (f32, f32) {
    // MediaBox may be inherited from the page tree.
    let mut current = doc.get_dictionary(page_id).ok();
    let mut hops = 0;
    while let Some(dict) = current {
        if let Ok(array) =
            fonts::deref(doc, dict.get(b"MediaBox")).and_then(lopdf::Object::as_array)
        {
            let v: Vec<f32> = array.iter().filter_map(|o| fonts::number(o).ok()).collect();
            if v.len() == 4 {
                return ((v[2] - v[0]).abs(), (v[3] - v[1]).abs());
            }
        }
        hops += 1;
        if hops > 32 {
            break;
        }
        current = dict
            .get(b"Parent")
            .ok()
            .and_then(|p| p.as_reference().ok())
            .and_then(|id| doc.get_dictionary(id).ok());
    }
    (595.0, 842.0)
}
