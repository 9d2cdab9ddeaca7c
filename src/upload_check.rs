//! Upload checks: a file a clerk sends is judged by its bytes, never by its name.
//!
//! Accepted: PDF (`%PDF-` within the first 1,024 bytes and a finished file: `startxref`
//! then `%%EOF` near its end), JPEG, PNG and TIFF. Anything else is refused with what it
//! looks like ("là tệp ZIP"), even when it is named `.pdf`. Also refused: a file over
//! `[extraction] max_file_bytes`; a PDF whose Flate streams inflate past
//! `[extraction] max_decoded_bytes` (inflated with a byte budget, never held: the output
//! is counted and thrown away) or at an absurd ratio; an image whose header declares
//! more than `[extraction] max_image_pixels` on a page.
//!
//! Architecture invariant: pure. No store, no blobs, no HTTP: the caller streams the
//! upload to a temporary file and hands it here with its size; a refusal is a value with a
//! Vietnamese message naming the file, and the caller stores nothing.

use std::collections::HashSet;
use std::io::{self, BufRead, Read, Seek, SeekFrom};

use flate2::{Decompress, FlushDecompress, Status};

use crate::config::ExtractionSettings;

/// Where `%PDF-` may start (as readers accept it: some producers put junk before it).
const PDF_HEADER_WINDOW: usize = 1024;
/// How far from the end the final `%%EOF` may be (trailing junk after it is common).
const PDF_TAIL_WINDOW: u64 = 4096;
/// Inflated bytes from which the overall ratio is judged: small files that inflate a
/// lot (a blank page image) are harmless.
const RATIO_FLOOR_BYTES: u64 = 128 * 1024 * 1024;
/// Inflated bytes per stored byte past which a PDF is a bomb (once over the floor). One
/// Flate layer cannot exceed about 1,032:1; real documents stay far below 100:1 overall.
pub const MAX_INFLATE_RATIO: u64 = 500;
/// Bytes read at a time while scanning a PDF.
const CHUNK: usize = 256 * 1024;
/// Overlap kept between chunks so a keyword is never cut in two.
const OVERLAP: usize = 16;
/// IFDs (pages) a TIFF may chain before it is treated as hostile.
const MAX_TIFF_PAGES: usize = 10_000;
/// JPEG segments read before the frame header must have appeared.
const MAX_JPEG_SEGMENTS: usize = 10_000;

/// What an accepted upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Jpeg,
    Png,
    Tiff,
}

impl Kind {
    pub fn media_type(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Tiff => "image/tiff",
        }
    }

    /// For clerks: "PDF", "ảnh JPEG"…
    pub fn label(self) -> &'static str {
        match self {
            Kind::Pdf => "PDF",
            Kind::Jpeg => "ảnh JPEG",
            Kind::Png => "ảnh PNG",
            Kind::Tiff => "ảnh TIFF",
        }
    }
}

/// What a refused file looks like, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Foreign {
    Empty,
    Zip,
    Html,
    Xml,
    /// Word 97–2003, Excel 97–2003 and other compound files.
    Ole,
    Rtf,
    Gif,
    Bmp,
    Webp,
    Gzip,
    Rar,
    SevenZip,
    Executable,
    Text,
    Unknown,
}

impl Foreign {
    pub fn label(self) -> &'static str {
        match self {
            Foreign::Empty => "tệp rỗng",
            Foreign::Zip => "tệp ZIP hoặc Word/Excel (.docx/.xlsx)",
            Foreign::Html => "trang HTML",
            Foreign::Xml => "tệp XML",
            Foreign::Ole => "tệp Word/Excel cũ (.doc/.xls)",
            Foreign::Rtf => "tệp RTF",
            Foreign::Gif => "ảnh GIF",
            Foreign::Bmp => "ảnh BMP",
            Foreign::Webp => "ảnh WebP",
            Foreign::Gzip => "tệp nén GZIP",
            Foreign::Rar => "tệp nén RAR",
            Foreign::SevenZip => "tệp nén 7z",
            Foreign::Executable => "tệp chương trình",
            Foreign::Text => "tệp văn bản thuần",
            Foreign::Unknown => "định dạng không nhận ra",
        }
    }
}

/// The limits an upload is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_file_bytes: u64,
    /// All files of one request together.
    pub max_request_bytes: u64,
    pub max_decoded_bytes: u64,
    /// Pixels on one image page (width × height from the header).
    pub max_pixels: u64,
}

impl Limits {
    pub fn from_settings(settings: &ExtractionSettings) -> Limits {
        Limits {
            max_file_bytes: settings.max_file_bytes,
            max_request_bytes: settings.max_upload_request_bytes,
            max_decoded_bytes: settings.max_decoded_bytes,
            max_pixels: settings.max_image_pixels,
        }
    }
}

/// Why a file is refused. [`Refusal::message`] words it for the clerk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotAccepted(Foreign),
    /// Over `max_file_bytes` (the upload stops reading at the limit: no exact size).
    TooLarge {
        limit: u64,
    },
    /// The request's files together are over `max_request_bytes`.
    RequestTooLarge {
        limit: u64,
    },
    /// Starts like a PDF but has no end (`startxref` … `%%EOF`): cut short or not a PDF.
    PdfUnfinished,
    /// Its Flate streams inflate past the budget (counting stopped there).
    PdfInflatesTooMuch {
        limit: u64,
    },
    PdfInflateRatio {
        ratio: u64,
    },
    ImageUnreadable(Kind),
    ImageTooLarge {
        kind: Kind,
        width: u64,
        height: u64,
        limit: u64,
    },
    /// The temporary copy could not be read back (a server fault, not the file's).
    Io(String),
}

impl Refusal {
    /// A stable machine code (JSON answers, tests).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotAccepted(_) => "not_pdf_or_image",
            Refusal::TooLarge { .. } => "too_large",
            Refusal::RequestTooLarge { .. } => "request_too_large",
            Refusal::PdfUnfinished => "pdf_unfinished",
            Refusal::PdfInflatesTooMuch { .. } => "decompression_bomb",
            Refusal::PdfInflateRatio { .. } => "decompression_bomb",
            Refusal::ImageUnreadable(_) => "image_unreadable",
            Refusal::ImageTooLarge { .. } => "image_too_large",
            Refusal::Io(_) => "io_error",
        }
    }

    /// The clerk's message, naming the file.
    pub fn message(&self, filename: &str) -> String {
        let name = display_name(filename);
        match self {
            Refusal::NotAccepted(Foreign::Empty) => format!("Tệp «{name}» rỗng (0 byte)."),
            Refusal::NotAccepted(foreign) => format!(
                "Tệp «{name}» không phải PDF hay ảnh (là {}). Chỉ nhận PDF, JPEG, PNG, TIFF.",
                foreign.label()
            ),
            Refusal::TooLarge { limit } => format!(
                "Tệp «{name}» quá lớn: vượt giới hạn {} cho một tệp.",
                human_bytes(*limit)
            ),
            Refusal::RequestTooLarge { limit } => format!(
                "Tệp «{name}» không được nhận: tổng dung lượng một lần tải lên vượt {}. \
                 Hãy tải các tệp còn lại trong lần sau.",
                human_bytes(*limit)
            ),
            Refusal::PdfUnfinished => format!(
                "Tệp «{name}» không phải PDF hoàn chỉnh (thiếu phần kết %%EOF): \
                 có thể tệp bị cắt dở hoặc hỏng."
            ),
            Refusal::PdfInflatesTooMuch { limit } => format!(
                "Tệp «{name}» bị từ chối: nội dung nén giải ra vượt {} (nghi là \
                 “bom giải nén”).",
                human_bytes(*limit)
            ),
            Refusal::PdfInflateRatio { ratio } => format!(
                "Tệp «{name}» bị từ chối: nội dung nén giải ra gấp {ratio} lần dung lượng \
                 tệp (nghi là “bom giải nén”)."
            ),
            Refusal::ImageUnreadable(kind) => format!(
                "Tệp «{name}» mang dấu hiệu {} nhưng không đọc được kích thước ảnh: \
                 tệp hỏng hoặc không phải ảnh.",
                kind.label()
            ),
            Refusal::ImageTooLarge {
                kind,
                width,
                height,
                limit,
            } => format!(
                "Tệp «{name}» bị từ chối: {} {width}×{height} điểm ảnh vượt giới hạn {} \
                 triệu điểm ảnh một trang.",
                kind.label(),
                limit / 1_000_000
            ),
            Refusal::Io(_) => format!("Tệp «{name}» không lưu tạm được trên máy chủ; hãy thử lại."),
        }
    }
}

/// An accepted file: what it is and what the check measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub kind: Kind,
    /// PDF: bytes its Flate streams inflate to.
    pub inflated_bytes: u64,
    /// Images: pages and the largest page's pixels.
    pub pages: u64,
    pub max_page_pixels: u64,
}

/// The file name as shown in a message: its last path part, control characters dropped,
/// at most 120 characters.
pub fn display_name(filename: &str) -> String {
    let base = filename
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(filename)
        .trim();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    if cleaned.is_empty() {
        "(không tên)".into()
    } else {
        cleaned
    }
}

fn human_bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= 1024 * MIB && n.is_multiple_of(1024 * MIB) {
        format!("{} GB", n / (1024 * MIB))
    } else if n >= MIB {
        format!("{} MB", n.div_ceil(MIB))
    } else if n >= 1024 {
        format!("{} KB", n.div_ceil(1024))
    } else {
        format!("{n} byte")
    }
}

/// What the first bytes of a file say it is.
pub fn sniff(head: &[u8]) -> Result<Kind, Foreign> {
    if head.is_empty() {
        return Err(Foreign::Empty);
    }
    let window = &head[..head.len().min(PDF_HEADER_WINDOW)];
    if memchr::memmem::find(window, b"%PDF-").is_some() {
        return Ok(Kind::Pdf);
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Kind::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(Kind::Png);
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        return Ok(Kind::Tiff);
    }
    Err(foreign(head))
}

fn foreign(head: &[u8]) -> Foreign {
    let starts = |sig: &[u8]| head.starts_with(sig);
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") || starts(b"PK\x07\x08") {
        return Foreign::Zip;
    }
    if starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Foreign::Ole;
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Foreign::Gif;
    }
    if starts(b"BM") && head.len() >= 14 {
        return Foreign::Bmp;
    }
    if starts(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        return Foreign::Webp;
    }
    if starts(&[0x1F, 0x8B]) {
        return Foreign::Gzip;
    }
    if starts(b"Rar!\x1a\x07") {
        return Foreign::Rar;
    }
    if starts(b"7z\xBC\xAF\x27\x1C") {
        return Foreign::SevenZip;
    }
    if starts(b"MZ") || starts(b"\x7FELF") || starts(&[0xCF, 0xFA, 0xED, 0xFE]) {
        return Foreign::Executable;
    }
    if starts(b"{\\rtf") {
        return Foreign::Rtf;
    }
    // Text-like: skip a UTF-8 byte-order mark and leading blanks, look at the first tag.
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let lead = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let text = &text[lead..];
    let lower: Vec<u8> = text
        .iter()
        .take(256)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    if lower.starts_with(b"<!doctype html")
        || lower.starts_with(b"<html")
        || lower.starts_with(b"<head")
        || lower.starts_with(b"<body")
        || memchr::memmem::find(&lower, b"<html").is_some()
    {
        return Foreign::Html;
    }
    if lower.starts_with(b"<?xml") {
        return Foreign::Xml;
    }
    if std::str::from_utf8(&head[..head.len().min(512)]).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || c.is_ascii_whitespace())
    }) {
        return Foreign::Text;
    }
    Foreign::Unknown
}

/// Checks a whole file of `size` bytes (the caller's count of what it wrote).
pub fn check<R: Read + Seek>(mut file: R, size: u64, limits: &Limits) -> Result<Accepted, Refusal> {
    if size > limits.max_file_bytes {
        return Err(Refusal::TooLarge {
            limit: limits.max_file_bytes,
        });
    }
    let io = |e: io::Error| Refusal::Io(e.to_string());
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut head = Vec::with_capacity(PDF_HEADER_WINDOW);
    (&mut file)
        .take(PDF_HEADER_WINDOW as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    let kind = sniff(&head).map_err(Refusal::NotAccepted)?;
    match kind {
        Kind::Pdf => check_pdf(&mut file, size, limits),
        Kind::Png => check_png(&head).and_then(|dims| image_accepted(kind, &[dims], limits)),
        Kind::Jpeg => {
            let dims = jpeg_dimensions(&mut file).map_err(io)?;
            let dims = dims.ok_or(Refusal::ImageUnreadable(kind))?;
            image_accepted(kind, &[dims], limits)
        }
        Kind::Tiff => {
            let pages = tiff_dimensions(&mut file, size).map_err(io)?;
            let pages = pages.ok_or(Refusal::ImageUnreadable(kind))?;
            image_accepted(kind, &pages, limits)
        }
    }
}

fn image_accepted(kind: Kind, pages: &[(u64, u64)], limits: &Limits) -> Result<Accepted, Refusal> {
    if pages.is_empty() {
        return Err(Refusal::ImageUnreadable(kind));
    }
    let mut max_page_pixels = 0;
    for &(width, height) in pages {
        if width == 0 || height == 0 {
            return Err(Refusal::ImageUnreadable(kind));
        }
        let pixels = width.saturating_mul(height);
        if pixels > limits.max_pixels {
            return Err(Refusal::ImageTooLarge {
                kind,
                width,
                height,
                limit: limits.max_pixels,
            });
        }
        max_page_pixels = max_page_pixels.max(pixels);
    }
    Ok(Accepted {
        kind,
        inflated_bytes: 0,
        pages: pages.len() as u64,
        max_page_pixels,
    })
}

fn check_png(head: &[u8]) -> Result<(u64, u64), Refusal> {
    // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4).
    if head.len() < 24 || &head[12..16] != b"IHDR" {
        return Err(Refusal::ImageUnreadable(Kind::Png));
    }
    let width = u32::from_be_bytes(head[16..20].try_into().expect("4 bytes"));
    let height = u32::from_be_bytes(head[20..24].try_into().expect("4 bytes"));
    Ok((u64::from(width), u64::from(height)))
}

/// The frame size of a JPEG from its first SOF segment; `None` when the markers do not
/// lead to one.
fn jpeg_dimensions<R: Read + Seek>(file: &mut R) -> io::Result<Option<(u64, u64)>> {
    file.seek(SeekFrom::Start(2))?;
    let mut byte = [0u8; 1];
    for _ in 0..MAX_JPEG_SEGMENTS {
        // A marker: 0xFF, optional fill bytes 0xFF, then the code.
        if !read_exact_or_eof(file, &mut byte)? || byte[0] != 0xFF {
            return Ok(None);
        }
        let mut marker = 0xFF;
        while marker == 0xFF {
            if !read_exact_or_eof(file, &mut byte)? {
                return Ok(None);
            }
            marker = byte[0];
        }
        match marker {
            // Standalone markers: no length.
            0x01 | 0xD0..=0xD7 => continue,
            // End of image or start of scan before any frame header.
            0xD8..=0xDA => return Ok(None),
            _ => {}
        }
        let mut len = [0u8; 2];
        if !read_exact_or_eof(file, &mut len)? {
            return Ok(None);
        }
        let len = u16::from_be_bytes(len);
        if len < 2 {
            return Ok(None);
        }
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            let mut frame = [0u8; 5];
            if len < 7 || !read_exact_or_eof(file, &mut frame)? {
                return Ok(None);
            }
            let height = u16::from_be_bytes([frame[1], frame[2]]);
            let width = u16::from_be_bytes([frame[3], frame[4]]);
            return Ok(Some((u64::from(width), u64::from(height))));
        }
        file.seek(SeekFrom::Current(i64::from(len) - 2))?;
    }
    Ok(None)
}

/// Every page's size in a classic TIFF (each IFD's ImageWidth × ImageLength); `None` when
/// an IFD is out of the file, loops, or lacks either tag.
fn tiff_dimensions<R: Read + Seek>(file: &mut R, size: u64) -> io::Result<Option<Vec<(u64, u64)>>> {
    let mut header = [0u8; 8];
    file.seek(SeekFrom::Start(0))?;
    if !read_exact_or_eof(file, &mut header)? {
        return Ok(None);
    }
    let little = &header[..2] == b"II";
    let u16_at = |b: &[u8]| {
        let a = [b[0], b[1]];
        if little {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        }
    };
    let u32_at = |b: &[u8]| {
        let a = [b[0], b[1], b[2], b[3]];
        if little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let mut offset = u64::from(u32_at(&header[4..8]));
    let mut seen = HashSet::new();
    let mut pages = Vec::new();
    while offset != 0 {
        if pages.len() >= MAX_TIFF_PAGES || !seen.insert(offset) || offset + 2 > size {
            return Ok(None);
        }
        file.seek(SeekFrom::Start(offset))?;
        let mut count = [0u8; 2];
        if !read_exact_or_eof(file, &mut count)? {
            return Ok(None);
        }
        let count = usize::from(u16_at(&count));
        let mut entries = vec![0u8; count * 12 + 4];
        if !read_exact_or_eof(file, &mut entries)? {
            return Ok(None);
        }
        let (mut width, mut height) = (None, None);
        for entry in entries[..count * 12].chunks_exact(12) {
            let tag = u16_at(&entry[0..2]);
            let field_type = u16_at(&entry[2..4]);
            let value = match field_type {
                3 => u64::from(u16_at(&entry[8..10])), // SHORT
                4 => u64::from(u32_at(&entry[8..12])), // LONG
                _ => continue,
            };
            match tag {
                256 => width = Some(value),
                257 => height = Some(value),
                _ => {}
            }
        }
        let (Some(width), Some(height)) = (width, height) else {
            return Ok(None);
        };
        pages.push((width, height));
        offset = u64::from(u32_at(&entries[count * 12..]));
    }
    Ok(Some(pages))
}

fn read_exact_or_eof<R: Read>(file: &mut R, buf: &mut [u8]) -> io::Result<bool> {
    match file.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// Scans a PDF once, front to back: every `stream` whose data starts with a zlib header
/// is inflated into a scratch buffer (counted, not kept) and the scan resumes after the
/// bytes the inflater consumed; `startxref` and `%%EOF` are noted on the way. Memory is
/// bounded by the chunk and the inflater's buffers, whatever the file.
fn check_pdf<R: Read + Seek>(
    file: &mut R,
    size: u64,
    limits: &Limits,
) -> Result<Accepted, Refusal> {
    let io = |e: io::Error| Refusal::Io(e.to_string());
    let mut inflated: u64 = 0;
    let mut last_startxref: Option<u64> = None;
    let mut last_eof: Option<u64> = None;
    let mut chunk = vec![0u8; CHUNK];
    let mut scratch = vec![0u8; 64 * 1024];
    // The window chunk[..filled] holds the file's bytes [base, base + filled).
    let mut base: u64 = 0;
    let mut filled: usize = 0;
    let mut pos: u64 = 0;
    while pos < size {
        let window_end = base + filled as u64;
        let at_end = window_end >= size;
        // Refill when `pos` is outside the window or too close to its end to see a whole
        // keyword (unless the window reaches the file's end).
        if pos < base || pos >= window_end || (pos + OVERLAP as u64 >= window_end && !at_end) {
            file.seek(SeekFrom::Start(pos)).map_err(io)?;
            filled = read_up_to(file, &mut chunk).map_err(io)?;
            base = pos;
            if filled == 0 {
                break;
            }
            continue;
        }
        let window = &chunk[..filled];
        let from = (pos - base) as usize;
        let found = find_stream(window, from, at_end);
        let scanned_to = match found {
            StreamAt::Data(data) => data,
            StreamAt::Cut(_) | StreamAt::None => filled,
        };
        // Keywords wholly inside what was scanned (the overlap may see one twice).
        for at in memchr::memmem::find_iter(&window[from..scanned_to], b"startxref") {
            last_startxref = Some(pos + at as u64);
        }
        for at in memchr::memmem::find_iter(&window[from..scanned_to], b"%%EOF") {
            last_eof = Some(pos + at as u64);
        }
        let data = match found {
            StreamAt::Data(data) => data,
            StreamAt::Cut(keyword) => {
                pos = base + keyword as u64; // re-read with the keyword at the window's start
                continue;
            }
            StreamAt::None if at_end => break,
            StreamAt::None => {
                pos = base + (filled - OVERLAP).max(from) as u64;
                continue;
            }
        };
        let looks_zlib = window
            .get(data..data + 2)
            .is_some_and(|h| is_zlib_header(h[0], h[1]));
        let mut consumed = 0;
        if looks_zlib {
            // The window's bytes first, then the file from the window's end.
            file.seek(SeekFrom::Start(window_end)).map_err(io)?;
            let mut input =
                (&window[data..]).chain(io::BufReader::with_capacity(64 * 1024, &mut *file));
            let budget = limits.max_decoded_bytes.saturating_sub(inflated);
            let (out, used) = inflate_counting(&mut input, budget, &mut scratch).map_err(io)?;
            inflated += out;
            consumed = used;
            if inflated > limits.max_decoded_bytes {
                return Err(Refusal::PdfInflatesTooMuch {
                    limit: limits.max_decoded_bytes,
                });
            }
        }
        pos = base + data as u64 + consumed.max(1);
    }
    let finished = match (last_startxref, last_eof) {
        (Some(startxref), Some(eof)) => startxref < eof && size - eof <= PDF_TAIL_WINDOW,
        _ => false,
    };
    if !finished {
        return Err(Refusal::PdfUnfinished);
    }
    if inflated > RATIO_FLOOR_BYTES {
        let ratio = inflated / size.max(1);
        if ratio > MAX_INFLATE_RATIO {
            return Err(Refusal::PdfInflateRatio { ratio });
        }
    }
    Ok(Accepted {
        kind: Kind::Pdf,
        inflated_bytes: inflated,
        pages: 0,
        max_page_pixels: 0,
    })
}

/// Where the next stream's data starts in a window, searching from `from`.
enum StreamAt {
    /// Offset of the first data byte.
    Data(usize),
    /// A `stream` keyword (at this offset) whose end of line or first data bytes are
    /// past the window's end.
    Cut(usize),
    None,
}

fn find_stream(window: &[u8], from: usize, at_end: bool) -> StreamAt {
    for rel in memchr::memmem::find_iter(&window[from..], b"stream") {
        let at = from + rel;
        if at > 0 && window[at - 1].is_ascii_alphabetic() {
            continue; // "endstream", or a word such as a font name
        }
        let after = at + 6;
        if after + 4 > window.len() && !at_end {
            return StreamAt::Cut(at);
        }
        let data = match window.get(after..(after + 2).min(window.len())) {
            Some([b'\r', b'\n']) => after + 2,
            Some([b'\n', ..]) | Some([b'\r', ..]) => after + 1,
            _ => continue,
        };
        return StreamAt::Data(data);
    }
    StreamAt::None
}

fn read_up_to<R: Read>(file: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// A zlib stream header (RFC 1950): deflate, window ≤ 32 KiB, no preset dictionary,
/// check bits right.
fn is_zlib_header(cmf: u8, flg: u8) -> bool {
    cmf & 0x0F == 8
        && cmf >> 4 <= 7
        && flg & 0x20 == 0
        && (u16::from(cmf) * 256 + u16::from(flg)) % 31 == 0
}

/// Inflates a zlib stream from `input` and counts its output, stopping once more than
/// `budget` bytes came out (so the count says "over"), at the stream's end, or at an
/// error (corrupt data counts what it gave). Returns (bytes out, bytes of input used).
fn inflate_counting<R: BufRead>(
    input: &mut R,
    budget: u64,
    scratch: &mut [u8],
) -> io::Result<(u64, u64)> {
    let mut inflater = Decompress::new(true);
    loop {
        let available = input.fill_buf()?;
        let eof = available.is_empty();
        let before_in = inflater.total_in();
        let before_out = inflater.total_out();
        let flush = if eof {
            FlushDecompress::Finish
        } else {
            FlushDecompress::None
        };
        let status = inflater.decompress(available, scratch, flush);
        let used = (inflater.total_in() - before_in) as usize;
        input.consume(used);
        let progressed = used > 0 || inflater.total_out() != before_out;
        match status {
            Ok(Status::StreamEnd) | Err(_) => break,
            Ok(_) if inflater.total_out() > budget => break,
            Ok(_) if !progressed => break,
            Ok(_) => {}
        }
    }
    Ok((inflater.total_out(), inflater.total_in()))
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use super::*;

    const LIMITS: Limits = Limits {
        max_file_bytes: 8 * 1024 * 1024,
        max_request_bytes: 64 * 1024 * 1024,
        max_decoded_bytes: 32 * 1024 * 1024,
        max_pixels: 200_000_000,
    };

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    /// A small PDF shell around these raw stream bodies (not a valid xref: the check
    /// does not parse it).
    fn pdf_with_streams(streams: &[Vec<u8>], tail: &[u8]) -> Vec<u8> {
        let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
        for (i, body) in streams.iter().enumerate() {
            out.extend_from_slice(
                format!(
                    "{} 0 obj\n<< /Length {} /Filter /FlateDecode >>\nstream\r\n",
                    i + 1,
                    body.len()
                )
                .as_bytes(),
            );
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendstream\nendobj\n");
        }
        out.extend_from_slice(
            b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 >>\nstartxref\n9\n%%EOF\n",
        );
        out.extend_from_slice(tail);
        out
    }

    fn zeros_bomb(bytes: usize) -> Vec<u8> {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        let block = vec![0u8; 1024 * 1024];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(block.len());
            encoder.write_all(&block[..n]).unwrap();
            left -= n;
        }
        encoder.finish().unwrap()
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        out.extend_from_slice(&width.to_be_bytes());
        out.extend_from_slice(&height.to_be_bytes());
        out.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        out
    }

    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        // APP0 (JFIF), a comment, then SOF2 (progressive).
        out.extend_from_slice(&[0xFF, 0xE0, 0, 16]);
        out.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        out.extend_from_slice(&[0xFF, 0xFE, 0, 5, b'h', b'i', b'!']);
        out.extend_from_slice(&[0xFF, 0xC2, 0, 11, 8]);
        out.extend_from_slice(&height.to_be_bytes());
        out.extend_from_slice(&width.to_be_bytes());
        out.extend_from_slice(&[1, 1, 0x11, 0]);
        out.extend_from_slice(&[0xFF, 0xDA, 0, 2, 0xFF, 0xD9]);
        out
    }

    /// A TIFF with these pages (each IFD: width, length), little or big endian.
    fn tiff(pages: &[(u32, u32)], little: bool) -> Vec<u8> {
        let u16b = |v: u16| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let u32b = |v: u32| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let mut out = if little {
            b"II*\0".to_vec()
        } else {
            b"MM\0*".to_vec()
        };
        out.extend_from_slice(&u32b(8));
        for (i, &(w, h)) in pages.iter().enumerate() {
            out.extend_from_slice(&u16b(2));
            out.extend_from_slice(&u16b(256));
            out.extend_from_slice(&u16b(4));
            out.extend_from_slice(&u32b(1));
            out.extend_from_slice(&u32b(w));
            out.extend_from_slice(&u16b(257));
            out.extend_from_slice(&u16b(3));
            out.extend_from_slice(&u32b(1));
            out.extend_from_slice(&u16b(h.min(65_535) as u16));
            out.extend_from_slice(&[0, 0]);
            let next = if i + 1 == pages.len() {
                0
            } else {
                out.len() as u32 + 4
            };
            out.extend_from_slice(&u32b(next));
        }
        out
    }

    fn run(bytes: &[u8]) -> Result<Accepted, Refusal> {
        check(Cursor::new(bytes), bytes.len() as u64, &LIMITS)
    }

    fn real_pdf() -> Vec<u8> {
        use crate::pdf::writer::{Decree30Page, decree30_pdf};
        decree30_pdf(
            &Decree30Page {
                issuer_lines: vec!["ỦY BAN NHÂN DÂN".into(), "XÃ NAM CHÍNH".into()],
                number_symbol: "12/QĐ-UBND".into(),
                place_date: "Nam Chính, ngày 5 tháng 3 năm 2024".into(),
                type_title: "QUYẾT ĐỊNH".into(),
                abstract_text: "Về việc phê duyệt kế hoạch".into(),
                paragraphs: vec!["Phê duyệt kế hoạch chỉnh trang đường thôn.".into()],
                signer_name: "Nguyễn Bá Dũng".into(),
                ..Default::default()
            },
            "Quyết định 12",
        )
    }

    #[test]
    fn each_file_gets_its_verdict() {
        let text = b"BT /F1 12 Tf 72 700 Td (Quyet dinh) Tj ET\n".repeat(50);
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend_from_slice(&[0u8; 200]);
        let mut cut = real_pdf();
        cut.truncate(cut.len() / 2);
        let mut junk_before = vec![b' '; 300];
        junk_before.extend_from_slice(&real_pdf());
        let mut too_late = vec![b' '; 1100];
        too_late.extend_from_slice(&real_pdf());
        let mut huge = vec![b'%'; LIMITS.max_file_bytes as usize + 1];
        huge[..8].copy_from_slice(b"%PDF-1.7");
        // (name, bytes, expected: Ok(kind) or Err(code))
        let table: Vec<(&str, Vec<u8>, Result<Kind, &str>)> = vec![
            ("generated decision", real_pdf(), Ok(Kind::Pdf)),
            (
                "plain streams",
                pdf_with_streams(&[zlib(&text), b"raw, not compressed".to_vec()], b""),
                Ok(Kind::Pdf),
            ),
            ("junk before the header", junk_before, Ok(Kind::Pdf)),
            (
                "trailing junk after %%EOF",
                pdf_with_streams(&[zlib(&text)], &[b'\0'; 2000]),
                Ok(Kind::Pdf),
            ),
            ("header past 1024 bytes", too_late, Err("not_pdf_or_image")),
            ("cut in half", cut, Err("pdf_unfinished")),
            (
                "no trailer",
                b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n".to_vec(),
                Err("pdf_unfinished"),
            ),
            ("zip named .pdf", zip, Err("not_pdf_or_image")),
            (
                "html named .pdf",
                b"\n  <!DOCTYPE html><html><body>Not found</body></html>".to_vec(),
                Err("not_pdf_or_image"),
            ),
            (
                "old word",
                [
                    &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1][..],
                    &[0u8; 100],
                ]
                .concat(),
                Err("not_pdf_or_image"),
            ),
            ("empty", Vec::new(), Err("not_pdf_or_image")),
            ("over the size limit", huge, Err("too_large")),
            (
                "bomb past the budget",
                pdf_with_streams(&[zeros_bomb(40 * 1024 * 1024)], b""),
                Err("decompression_bomb"),
            ),
            (
                "bomb split over streams",
                pdf_with_streams(
                    &[
                        zeros_bomb(12 << 20),
                        zeros_bomb(12 << 20),
                        zeros_bomb(12 << 20),
                    ],
                    b"",
                ),
                Err("decompression_bomb"),
            ),
            (
                "under the budget",
                pdf_with_streams(&[zeros_bomb(8 << 20)], b""),
                Ok(Kind::Pdf),
            ),
            ("png", png(2480, 3508), Ok(Kind::Png)),
            (
                "png too many pixels",
                png(100_000, 100_000),
                Err("image_too_large"),
            ),
            ("png zero width", png(0, 10), Err("image_unreadable")),
            (
                "png cut",
                png(10, 10)[..20].to_vec(),
                Err("image_unreadable"),
            ),
            ("jpeg", jpeg(2480, 3508), Ok(Kind::Jpeg)),
            (
                "jpeg too many pixels",
                jpeg(65_000, 65_000),
                Err("image_too_large"),
            ),
            (
                "jpeg without frame",
                vec![0xFF, 0xD8, 0xFF, 0xDA, 0, 2],
                Err("image_unreadable"),
            ),
            (
                "tiff little endian, 3 pages",
                tiff(&[(2480, 3508); 3], true),
                Ok(Kind::Tiff),
            ),
            (
                "tiff big endian",
                tiff(&[(1000, 1000)], false),
                Ok(Kind::Tiff),
            ),
            (
                "tiff one page too large",
                tiff(&[(1000, 1000), (4_000_000, 60_000)], true),
                Err("image_too_large"),
            ),
            (
                "tiff dangling ifd",
                b"II*\0\xFF\xFF\0\0".to_vec(),
                Err("image_unreadable"),
            ),
        ];
        for (name, bytes, expected) in table {
            let got = run(&bytes);
            match (&got, expected) {
                (Ok(accepted), Ok(kind)) => assert_eq!(accepted.kind, kind, "{name}"),
                (Err(refusal), Err(code)) => {
                    assert_eq!(refusal.code(), code, "{name}: {refusal:?}")
                }
                _ => panic!("{name}: expected {expected:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn the_budget_stops_counting_past_the_limit() {
        // 40 MiB of zeros against a 32 MiB budget: refused, and the count stopped near the
        // budget rather than inflating everything.
        let bomb = zeros_bomb(40 << 20);
        let mut scratch = vec![0u8; 64 * 1024];
        let (out, used) = inflate_counting(&mut Cursor::new(&bomb), 1 << 20, &mut scratch).unwrap();
        assert!(out > 1 << 20 && out < 2 << 20, "{out}");
        assert!(used < bomb.len() as u64);
        let (out, used) =
            inflate_counting(&mut Cursor::new(&bomb), u64::MAX, &mut scratch).unwrap();
        assert_eq!(out, 40 << 20);
        assert_eq!(used, bomb.len() as u64);
    }

    #[test]
    fn a_compressed_stream_is_counted_once_and_the_scan_goes_on_after_it() {
        let body = b"q 1 0 0 1 0 0 cm BT (stream\nendstream) Tj ET Q\n".repeat(1000);
        let pdf = pdf_with_streams(&[zlib(&body), zlib(&body)], b"");
        let accepted = run(&pdf).unwrap();
        assert_eq!(accepted.inflated_bytes, 2 * body.len() as u64);
        // The same content with the keyword cut by the chunk boundary at every offset
        // near it still counts both streams.
        for pad in 0..40 {
            let mut shifted = b"%PDF-1.7\n".to_vec();
            shifted.extend(std::iter::repeat_n(b' ', CHUNK - 30 + pad));
            shifted.extend_from_slice(&pdf[9..]);
            let accepted = run(&shifted).unwrap();
            assert_eq!(accepted.inflated_bytes, 2 * body.len() as u64, "pad {pad}");
        }
    }

    #[test]
    fn the_ratio_rule_needs_a_large_inflated_total() {
        let limits = Limits {
            max_decoded_bytes: 1 << 40,
            max_file_bytes: 1 << 40,
            ..LIMITS
        };
        // 200 MiB of zeros from ~200 KB: far past 500:1 and past the floor.
        let pdf = pdf_with_streams(&[zeros_bomb(200 << 20)], b"");
        let got = check(Cursor::new(&pdf), pdf.len() as u64, &limits);
        assert_eq!(got.unwrap_err().code(), "decompression_bomb");
        // 8 MiB of zeros (a blank page image): a huge ratio but under the floor.
        let pdf = pdf_with_streams(&[zeros_bomb(8 << 20)], b"");
        assert!(check(Cursor::new(&pdf), pdf.len() as u64, &limits).is_ok());
    }

    #[test]
    fn messages_name_the_file_in_vietnamese() {
        let cases = [
            (
                Refusal::NotAccepted(Foreign::Zip),
                "x.pdf",
                "Tệp «x.pdf» không phải PDF hay ảnh (là tệp ZIP",
            ),
            (
                Refusal::NotAccepted(Foreign::Html),
                "C:\\tmp\\a.pdf",
                "Tệp «a.pdf» không phải PDF hay ảnh (là trang HTML)",
            ),
            (
                Refusal::TooLarge { limit: 200 << 20 },
                "b.pdf",
                "Tệp «b.pdf» quá lớn: vượt giới hạn 200 MB",
            ),
            (
                Refusal::PdfInflatesTooMuch { limit: 1 << 30 },
                "c.pdf",
                "vượt 1 GB (nghi là “bom giải nén”)",
            ),
            (
                Refusal::ImageTooLarge {
                    kind: Kind::Png,
                    width: 100_000,
                    height: 100_000,
                    limit: 200_000_000,
                },
                "d.png",
                "ảnh PNG 100000×100000 điểm ảnh vượt giới hạn 200 triệu",
            ),
            (
                Refusal::NotAccepted(Foreign::Empty),
                "\u{7}",
                "Tệp «(không tên)» rỗng",
            ),
        ];
        for (refusal, name, expected) in cases {
            let message = refusal.message(name);
            assert!(message.contains(expected), "{message}");
            assert!(unicode_normalization::is_nfc(&message), "{message}");
        }
    }
}
