//! A content-stream interpreter that keeps what text extraction needs: every glyph's text,
//! baseline position, advance and size, including text drawn inside Form XObjects (which
//! lopdf's own `extract_text` skips) — signature appearances and some producers' headers live there.

use std::collections::{HashMap, HashSet};

use lopdf::{Dictionary, Document, Object, ObjectId};
use unicode_normalization::UnicodeNormalization;

use super::budget::{BudgetExceeded, Meter};
use super::fonts::{FontDecoder, LegacyEncoding, deref, number};
use super::lexer::ContentLexer;

/// Form XObjects nest; a malicious file can make them recurse forever.
const MAX_FORM_DEPTH: usize = 8;
/// A page with more glyphs than this is not a document page but an attack or a map.
const MAX_GLYPHS_PER_PAGE: usize = 400_000;
/// Largest content stream we inflate for one page or form.
const MAX_CONTENT_BYTES: usize = 64 * 1024 * 1024;

/// One positioned glyph in device space (points, origin bottom-left).
#[derive(Debug, Clone)]
pub struct Glyph {
    pub text: String,
    pub x0: f32,
    pub x1: f32,
    /// Baseline.
    pub y: f32,
    /// Effective font size (vertical scale of the text rendering matrix).
    pub size: f32,
}

/// A glyph drawn at an angle (a rotated stamp), with its advance in device space.
#[derive(Debug, Clone)]
pub struct RotatedGlyph {
    pub text: String,
    pub x: f32,
    pub y: f32,
    pub dx: f32,
    pub dy: f32,
    pub size: f32,
}

/// Where a piece of stamp text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StampKind {
    /// An annotation's appearance or `/Contents` (a stamp, a free-text box, a note).
    Annotation,
    /// An interactive form field's value or appearance.
    FormField,
    /// Text drawn at an angle in the page content.
    Rotated,
}

/// Text that is not laid out with the page: annotations, form fields, rotated stamps.
/// Markings are looked for in it (see `markings`); lines separated by '\n'.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamp {
    pub kind: StampKind,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct PageGlyphs {
    pub glyphs: Vec<Glyph>,
    /// Glyphs drawn at an angle, in drawing order (kept out of the reading order).
    pub rotated: Vec<RotatedGlyph>,
    /// Annotation, form-field and rotated text of the page.
    pub stamps: Vec<Stamp>,
    /// Legacy 8-bit Vietnamese fonts used on the page (their text needs conversion).
    pub legacy_fonts: Vec<(String, LegacyEncoding)>,
    /// Glyphs dropped because they were not horizontal (rotated stamps, vertical margins).
    pub skipped_rotated: usize,
    pub truncated: bool,
}

type Matrix = [f32; 6];
const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

fn mul(m1: &Matrix, m2: &Matrix) -> Matrix {
    [
        m1[0] * m2[0] + m1[1] * m2[2],
        m1[0] * m2[1] + m1[1] * m2[3],
        m1[2] * m2[0] + m1[3] * m2[2],
        m1[2] * m2[1] + m1[3] * m2[3],
        m1[4] * m2[0] + m1[5] * m2[2] + m2[4],
        m1[4] * m2[1] + m1[5] * m2[3] + m2[5],
    ]
}

#[derive(Clone)]
struct GraphicsState {
    ctm: Matrix,
    char_spacing: f32,
    word_spacing: f32,
    horizontal_scale: f32,
    leading: f32,
    rise: f32,
    font_key: Option<FontKey>,
    font_size: f32,
}

impl Default for GraphicsState {
    fn default() -> Self {
        GraphicsState {
            ctm: IDENTITY,
            char_spacing: 0.0,
            word_spacing: 0.0,
            horizontal_scale: 1.0,
            leading: 0.0,
            rise: 0.0,
            font_key: None,
            font_size: 0.0,
        }
    }
}

/// Identifies a font by the dictionary it came from, so each is decoded once per page.
type FontKey = usize;

struct Interpreter<'a> {
    doc: &'a Document,
    meter: &'a Meter,
    fonts: HashMap<FontKey, FontDecoder<'a>>,
    out: PageGlyphs,
    forms_in_progress: HashSet<ObjectId>,
    /// The font of the last glyph emitted, so a VNI diacritic joins only its own letter.
    last_glyph_font: Option<FontKey>,
    /// Legacy fonts that drew at least one non-ASCII character, i.e. text that was converted
    /// (many documents carry a VNI font used only for spaces or digits).
    converted_fonts: HashSet<FontKey>,
}

/// Why a page's glyphs could not be read.
#[derive(Debug)]
pub enum PageError {
    /// The page alone is broken; the rest of the document is read.
    Unreadable(String),
    /// The document's extraction budget is spent: stop reading it.
    Budget(BudgetExceeded),
}

impl From<BudgetExceeded> for PageError {
    fn from(e: BudgetExceeded) -> PageError {
        PageError::Budget(e)
    }
}

/// Extracts the positioned glyphs of one page, charging `meter` for the work.
pub fn page_glyphs(
    doc: &Document,
    page_id: ObjectId,
    meter: &Meter,
) -> Result<PageGlyphs, PageError> {
    let content = doc
        .get_page_content_with_limit(page_id, MAX_CONTENT_BYTES)
        .map_err(|e| PageError::Unreadable(format!("page content unreadable: {e}")))?;
    meter.decoded(content.len())?;
    let resources = page_resources(doc, page_id);
    let mut interpreter = Interpreter {
        doc,
        meter,
        fonts: HashMap::new(),
        out: PageGlyphs::default(),
        forms_in_progress: HashSet::new(),
        last_glyph_font: None,
        converted_fonts: HashSet::new(),
    };
    let mut state = GraphicsState::default();
    interpreter.run(&content, &resources, &mut state, 0)?;
    let content_rotated = interpreter.out.rotated.len();
    interpreter.run_annotations(page_id)?;
    let rotated_text = rotated_runs(&interpreter.out.rotated[..content_rotated]);
    if !rotated_text.is_empty() {
        interpreter.out.stamps.push(Stamp {
            kind: StampKind::Rotated,
            text: rotated_text,
        });
    }
    let mut legacy: Vec<(String, LegacyEncoding)> = interpreter
        .converted_fonts
        .iter()
        .filter_map(|key| interpreter.fonts.get(key))
        .filter_map(|f| {
            f.legacy_vietnamese_encoding()
                .map(|e| (f.base_font.clone(), e))
        })
        .collect();
    legacy.sort_by(|a, b| a.0.cmp(&b.0));
    legacy.dedup();
    interpreter.out.legacy_fonts = legacy;
    Ok(interpreter.out)
}

/// The page's resource dictionaries, own first, then inherited ones.
fn page_resources(doc: &Document, page_id: ObjectId) -> Vec<&Dictionary> {
    let mut list = Vec::new();
    if let Ok((own, inherited)) = doc.get_page_resources(page_id) {
        if let Some(own) = own {
            list.push(own);
        }
        for id in inherited {
            if let Ok(dict) = doc.get_dictionary(id) {
                list.push(dict);
            }
        }
    }
    list
}

fn lookup<'a>(
    doc: &'a Document,
    resources: &[&'a Dictionary],
    category: &[u8],
    name: &[u8],
) -> Option<&'a Object> {
    resources.iter().find_map(|res| {
        let group = deref(doc, res.get(category)).ok()?.as_dict().ok()?;
        deref(doc, group.get(name)).ok()
    })
}

impl<'a> Interpreter<'a> {
    fn run(
        &mut self,
        content: &[u8],
        resources: &[&'a Dictionary],
        state: &mut GraphicsState,
        depth: usize,
    ) -> Result<(), BudgetExceeded> {
        let mut lexer = ContentLexer::new(content);
        let mut operands: Vec<Object> = Vec::with_capacity(8);
        let mut stack: Vec<GraphicsState> = Vec::new();
        let mut tm = IDENTITY;
        let mut tlm = IDENTITY;

        while let Some(operator) = lexer.next_operation(&mut operands) {
            self.meter.tick()?;
            if self.out.glyphs.len() >= MAX_GLYPHS_PER_PAGE {
                self.out.truncated = true;
                return Ok(());
            }
            let operands = &operands;
            let num = |i: usize| operands.get(i).and_then(|o| number(o).ok()).unwrap_or(0.0);
            match operator {
                b"q" => stack.push(state.clone()),
                b"Q" => {
                    if let Some(saved) = stack.pop() {
                        *state = saved;
                    }
                }
                b"cm" => {
                    let m = [num(0), num(1), num(2), num(3), num(4), num(5)];
                    state.ctm = mul(&m, &state.ctm);
                }
                b"BT" => {
                    tm = IDENTITY;
                    tlm = IDENTITY;
                }
                b"Tf" => {
                    state.font_size = num(1);
                    state.font_key = operands
                        .first()
                        .and_then(|o| o.as_name().ok())
                        .and_then(|name| self.font_for(resources, name));
                }
                b"Td" => {
                    tlm = mul(&[1.0, 0.0, 0.0, 1.0, num(0), num(1)], &tlm);
                    tm = tlm;
                }
                b"TD" => {
                    state.leading = -num(1);
                    tlm = mul(&[1.0, 0.0, 0.0, 1.0, num(0), num(1)], &tlm);
                    tm = tlm;
                }
                b"Tm" => {
                    tlm = [num(0), num(1), num(2), num(3), num(4), num(5)];
                    tm = tlm;
                }
                b"T*" => {
                    tlm = mul(&[1.0, 0.0, 0.0, 1.0, 0.0, -state.leading], &tlm);
                    tm = tlm;
                }
                b"Tc" => state.char_spacing = num(0),
                b"Tw" => state.word_spacing = num(0),
                b"Tz" => state.horizontal_scale = num(0) / 100.0,
                b"TL" => state.leading = num(0),
                b"Ts" => state.rise = num(0),
                b"Tj" => {
                    if let Some(Object::String(bytes, _)) = operands.first() {
                        self.show(bytes, state, &mut tm)?;
                    }
                }
                b"'" => {
                    tlm = mul(&[1.0, 0.0, 0.0, 1.0, 0.0, -state.leading], &tlm);
                    tm = tlm;
                    if let Some(Object::String(bytes, _)) = operands.first() {
                        self.show(bytes, state, &mut tm)?;
                    }
                }
                b"\"" => {
                    state.word_spacing = num(0);
                    state.char_spacing = num(1);
                    tlm = mul(&[1.0, 0.0, 0.0, 1.0, 0.0, -state.leading], &tlm);
                    tm = tlm;
                    if let Some(Object::String(bytes, _)) = operands.get(2) {
                        self.show(bytes, state, &mut tm)?;
                    }
                }
                b"TJ" => {
                    if let Some(Object::Array(items)) = operands.first() {
                        for item in items {
                            match item {
                                Object::String(bytes, _) => self.show(bytes, state, &mut tm)?,
                                other => {
                                    if let Ok(adjust) = number(other) {
                                        let tx = -adjust / 1000.0
                                            * state.font_size
                                            * state.horizontal_scale;
                                        tm = mul(&[1.0, 0.0, 0.0, 1.0, tx, 0.0], &tm);
                                    }
                                }
                            }
                        }
                    }
                }
                b"Do" if depth < MAX_FORM_DEPTH => {
                    if let Some(name) = operands.first().and_then(|o| o.as_name().ok()) {
                        self.run_form(resources, name, state, depth)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn run_form(
        &mut self,
        resources: &[&'a Dictionary],
        name: &[u8],
        state: &GraphicsState,
        depth: usize,
    ) -> Result<(), BudgetExceeded> {
        let doc = self.doc;
        let Some(reference) = resources.iter().find_map(|res| {
            let group = deref(doc, res.get(b"XObject")).ok()?.as_dict().ok()?;
            group.get(name).ok()
        }) else {
            return Ok(());
        };
        let mut form_state = state.clone();
        self.run_form_object(reference, resources, &mut form_state, None, depth)
    }

    /// Draws a Form XObject. `placement` maps the form's space onto the page for
    /// annotation appearances; for `Do` the current CTM already does.
    fn run_form_object(
        &mut self,
        reference: &'a Object,
        parent_resources: &[&'a Dictionary],
        state: &mut GraphicsState,
        placement: Option<[f32; 4]>,
        depth: usize,
    ) -> Result<(), BudgetExceeded> {
        let doc = self.doc;
        // The object id lets us refuse a form that (indirectly) draws itself.
        let id = reference.as_reference().ok();
        let Ok(Object::Stream(stream)) = deref(doc, Ok(reference)) else {
            return Ok(());
        };
        if stream.dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Form") {
            return Ok(());
        }
        if let Some(id) = id
            && !self.forms_in_progress.insert(id)
        {
            return Ok(());
        }
        let mut result = Ok(());
        if let Ok(content) = stream.get_plain_content_with_limit(MAX_CONTENT_BYTES) {
            let mut matrix = IDENTITY;
            if let Ok(array) = deref(doc, stream.dict.get(b"Matrix")).and_then(Object::as_array) {
                let m: Vec<f32> = array.iter().filter_map(|o| number(o).ok()).collect();
                if m.len() == 6 {
                    matrix = [m[0], m[1], m[2], m[3], m[4], m[5]];
                }
            }
            if let Some(rect) = placement {
                matrix = mul(&matrix, &appearance_placement(doc, stream, &matrix, rect));
            }
            state.ctm = mul(&matrix, &state.ctm);
            let mut form_resources: Vec<&'a Dictionary> = Vec::new();
            if let Ok(own) = deref(doc, stream.dict.get(b"Resources")).and_then(Object::as_dict) {
                form_resources.push(own);
            }
            form_resources.extend_from_slice(parent_resources);
            // A broken form draws what it can without losing the rest of the page; only
            // a spent budget stops the page (forms drawn again and again are the classic
            // amplification, so each drawing is charged).
            result = self
                .meter
                .decoded(content.len())
                .and_then(|()| self.run(&content, &form_resources, state, depth + 1));
        }
        if let Some(id) = id {
            self.forms_in_progress.remove(&id);
        }
        result
    }

    /// Text drawn by annotations: the e-office system often stamps the number and date of a
    /// signed document as a form field or free-text annotation, not in the page content.
    fn run_annotations(&mut self, page_id: ObjectId) -> Result<(), BudgetExceeded> {
        let doc = self.doc;
        let Ok(annotations) = doc.get_page_annotations(page_id) else {
            return Ok(());
        };
        for annotation in annotations {
            let flags = annotation.get(b"F").and_then(Object::as_i64).unwrap_or(0);
            const HIDDEN: i64 = 1 << 1;
            const NO_VIEW: i64 = 1 << 5;
            if flags & (HIDDEN | NO_VIEW) != 0 {
                continue;
            }
            if annotation.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Popup") {
                continue;
            }
            let Ok(rect) = deref(doc, annotation.get(b"Rect")).and_then(Object::as_array) else {
                continue;
            };
            let r: Vec<f32> = rect.iter().filter_map(|o| number(o).ok()).collect();
            if r.len() != 4 {
                continue;
            }
            let rect = [
                r[0].min(r[2]),
                r[1].min(r[3]),
                r[0].max(r[2]),
                r[1].max(r[3]),
            ];
            let subtype = annotation.get(b"Subtype").and_then(Object::as_name).ok();
            let kind = if subtype == Some(b"Widget") {
                StampKind::FormField
            } else {
                StampKind::Annotation
            };
            if subtype != Some(b"Link") {
                // What a viewer shows for the annotation besides its appearance: the
                // contents of a note or free-text box, a form field's value.
                let mut texts = Vec::new();
                if let Some(contents) = text_string(doc, annotation.get(b"Contents")) {
                    texts.push(contents);
                }
                if kind == StampKind::FormField
                    && let Some(value) = field_value(doc, annotation)
                {
                    texts.push(value);
                }
                for text in texts {
                    self.push_stamp(kind, text);
                }
            }
            let Ok(appearances) = deref(doc, annotation.get(b"AP")).and_then(Object::as_dict)
            else {
                continue;
            };
            let Ok(normal) = appearances.get(b"N") else {
                continue;
            };
            let normal = match deref(doc, Ok(normal)) {
                Ok(Object::Dictionary(states)) => {
                    // Checkbox-style appearances: pick the state named by /AS.
                    let Some(state_name) = annotation.get(b"AS").and_then(Object::as_name).ok()
                    else {
                        continue;
                    };
                    match states.get(state_name) {
                        Ok(o) => o,
                        Err(_) => continue,
                    }
                }
                Ok(_) => normal,
                Err(_) => continue,
            };
            let (glyphs_before, rotated_before) = (self.out.glyphs.len(), self.out.rotated.len());
            let mut state = GraphicsState::default();
            self.run_form_object(normal, &[], &mut state, Some(rect), 0)?;
            // The appearance is also kept as stamp text, so that a marking drawn by an
            // annotation is known to come from one.
            let mut text: Vec<String> = super::layout::lines_from_glyphs(
                &self.out.glyphs[glyphs_before.min(self.out.glyphs.len())..],
            )
            .into_iter()
            .map(|l| l.text)
            .collect();
            let rotated =
                rotated_runs(&self.out.rotated[rotated_before.min(self.out.rotated.len())..]);
            if !rotated.is_empty() {
                text.push(rotated);
            }
            self.push_stamp(kind, text.join("\n"));
        }
        Ok(())
    }

    fn push_stamp(&mut self, kind: StampKind, text: String) {
        let text = text.trim().to_string();
        if text.is_empty()
            || self
                .out
                .stamps
                .iter()
                .any(|s| s.kind == kind && s.text == text)
        {
            return;
        }
        self.out.stamps.push(Stamp { kind, text });
    }

    fn font_for(&mut self, resources: &[&'a Dictionary], name: &[u8]) -> Option<FontKey> {
        let font = lookup(self.doc, resources, b"Font", name)?.as_dict().ok()?;
        let key = font as *const Dictionary as usize;
        self.fonts
            .entry(key)
            .or_insert_with(|| FontDecoder::new(self.doc, font));
        Some(key)
    }

    fn show(
        &mut self,
        bytes: &[u8],
        state: &GraphicsState,
        tm: &mut Matrix,
    ) -> Result<(), BudgetExceeded> {
        let Some(font) = state.font_key.and_then(|k| self.fonts.get(&k)) else {
            return Ok(());
        };
        let fs = state.font_size;
        let th = state.horizontal_scale;
        let font_key = state.font_key.unwrap_or_default();
        for code in font.codes(bytes) {
            self.meter.glyph()?;
            let text = font.text(code);
            if code >= 0x80 && font.legacy_vietnamese_encoding().is_some() {
                self.converted_fonts.insert(font_key);
            }
            let w0 = font.advance(code);
            let is_space = !font.two_byte_codes && code == 32;
            let tx =
                (w0 * fs + state.char_spacing + if is_space { state.word_spacing } else { 0.0 })
                    * th;

            let text_to_device = mul(tm, &state.ctm);
            let trm = mul(&[fs * th, 0.0, 0.0, fs, 0.0, state.rise], &text_to_device);
            let horizontal_scale = (text_to_device[0].powi(2) + text_to_device[1].powi(2)).sqrt();
            let size = (trm[2].powi(2) + trm[3].powi(2)).sqrt();
            if trm[0] <= 0.0 || trm[1].abs() > 0.1 * trm[0].abs() {
                self.out.skipped_rotated += 1;
                if self.out.rotated.len() < MAX_GLYPHS_PER_PAGE / 8 && !text.is_empty() {
                    self.out.rotated.push(RotatedGlyph {
                        text: text.clone(),
                        x: trm[4],
                        y: trm[5],
                        dx: tx * text_to_device[0],
                        dy: tx * text_to_device[1],
                        size,
                    });
                }
            } else if font.is_vni_mark(code)
                && self.last_glyph_font == state.font_key
                && let Some(letter) = self.out.glyphs.last_mut()
                && (letter.y - trm[5]).abs() < size * 0.5
            {
                // VNI draws a diacritic as its own glyph over the letter before it.
                letter.text = letter.text.chars().chain(text.chars()).nfc().collect();
                letter.x1 = letter.x1.max(trm[4] + tx * horizontal_scale);
            } else if !text.is_empty() {
                self.last_glyph_font = state.font_key;
                let x0 = trm[4];
                self.out.glyphs.push(Glyph {
                    text,
                    x0,
                    x1: x0 + tx * horizontal_scale,
                    y: trm[5],
                    size,
                });
            }
            *tm = mul(&[1.0, 0.0, 0.0, 1.0, tx, 0.0], tm);
        }
        Ok(())
    }
}

/// Rotated glyphs → text: a glyph that does not start near where the previous one ended
/// starts a new line; a small gap is a space.
pub fn rotated_runs(glyphs: &[RotatedGlyph]) -> String {
    let mut out = String::new();
    let mut previous: Option<&RotatedGlyph> = None;
    for g in glyphs {
        if let Some(p) = previous {
            let (ex, ey) = (p.x + p.dx, p.y + p.dy);
            let gap = ((g.x - ex).powi(2) + (g.y - ey).powi(2)).sqrt();
            let em = p.size.max(g.size).max(0.1);
            if gap > 1.5 * em {
                out.push('\n');
            } else if gap > 0.2 * em && !out.ends_with([' ', '\n']) {
                out.push(' ');
            }
        }
        out.push_str(&g.text);
        previous = Some(g);
    }
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A PDF text string (PDFDocEncoding or UTF-16), when the object is one.
pub fn text_string(doc: &Document, object: Result<&Object, lopdf::Error>) -> Option<String> {
    let object = deref(doc, object).ok()?;
    match object {
        Object::String(..) => lopdf::decode_text_string(object).ok(),
        _ => None,
    }
    .map(|t| t.trim().to_string())
    .filter(|t| !t.is_empty())
}

/// The value of a text or choice field (inherited from its parents), as the text a
/// reader sees; a field named like a secrecy field ("Độ mật", "DoMat") gets that label.
pub fn field_value(doc: &Document, field: &Dictionary) -> Option<String> {
    let mut current = Some(field);
    let mut value = None;
    let mut name = None;
    for _ in 0..16 {
        let Some(dict) = current else { break };
        if value.is_none() {
            value = match deref(doc, dict.get(b"V")) {
                Ok(Object::Array(items)) => {
                    let parts: Vec<String> = items
                        .iter()
                        .filter_map(|o| text_string(doc, Ok(o)))
                        .collect();
                    (!parts.is_empty()).then(|| parts.join(", "))
                }
                Ok(_) => text_string(doc, dict.get(b"V")),
                Err(_) => None,
            };
        }
        if name.is_none() {
            name = text_string(doc, dict.get(b"TU")).or_else(|| text_string(doc, dict.get(b"T")));
        }
        current = dict
            .get(b"Parent")
            .ok()
            .and_then(|p| p.as_reference().ok())
            .and_then(|id| doc.get_dictionary(id).ok());
    }
    let value = value?;
    let secrecy_name = name.is_some_and(|n| {
        let folded: String = crate::text::fold(&n)
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        folded.contains("domat") || folded.contains("secrecy")
    });
    Some(if secrecy_name {
        format!("Độ mật: {value}")
    } else {
        value
    })
}

/// The matrix that maps an appearance stream's (transformed) bounding box onto the
/// annotation rectangle (PDF 32000-1, 12.5.5).
fn appearance_placement(
    doc: &Document,
    stream: &lopdf::Stream,
    matrix: &Matrix,
    rect: [f32; 4],
) -> Matrix {
    let bbox: Vec<f32> = deref(doc, stream.dict.get(b"BBox"))
        .and_then(Object::as_array)
        .map(|a| a.iter().filter_map(|o| number(o).ok()).collect())
        .unwrap_or_default();
    if bbox.len() != 4 {
        return [1.0, 0.0, 0.0, 1.0, rect[0], rect[1]];
    }
    let corners = [
        (bbox[0], bbox[1]),
        (bbox[2], bbox[1]),
        (bbox[0], bbox[3]),
        (bbox[2], bbox[3]),
    ];
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for (x, y) in corners {
        let tx = matrix[0] * x + matrix[2] * y + matrix[4];
        let ty = matrix[1] * x + matrix[3] * y + matrix[5];
        x0 = x0.min(tx);
        y0 = y0.min(ty);
        x1 = x1.max(tx);
        y1 = y1.max(ty);
    }
    let sx = if x1 - x0 > f32::EPSILON {
        (rect[2] - rect[0]) / (x1 - x0)
    } else {
        1.0
    };
    let sy = if y1 - y0 > f32::EPSILON {
        (rect[3] - rect[1]) / (y1 - y0)
    } else {
        1.0
    };
    [sx, 0.0, 0.0, sy, rect[0] - x0 * sx, rect[1] - y0 * sy]
}
