//! Attachment content. The base64 text is decoded as the package is read, by
//! [`Base64Sink`], straight from the package bytes into the payload (no copy of the text,
//! whitespace and line breaks skipped). The payload is a ZIP of one or several files
//! (declared `application/zip`, named `.zip`, or a `PK` archive that is not itself an
//! Office/ODF file), or the file itself (raw PDF, OLE `.doc`, `.docx`…). Limits keep
//! hostile packages bounded: decoded size, ZIP entry count, inflation ratio.

use std::io::Read;

use base64::Engine;

use crate::EdxmlError;
use crate::model::Attachment;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest decoded file (and largest total of a ZIP's files).
    pub max_bytes: u64,
    /// Most entries a ZIP may list.
    pub max_entries: usize,
    /// Largest uncompressed/compressed ratio accepted (a ZIP bomb beats any real PDF).
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 200 * 1024 * 1024,
            max_entries: 16,
            max_ratio: 100,
        }
    }
}

/// Streaming base64 decoder: fed the text in pieces (as the XML reader hands them over),
/// tolerant of whitespace anywhere, of missing padding and of the URL-safe alphabet.
#[derive(Debug, Default)]
pub(crate) struct Base64Sink {
    pub(crate) out: Vec<u8>,
    quad: [u8; 4],
    n: usize,
    padding: usize,
    seen: u64,
    pub(crate) error: Option<String>,
}

fn sextet(c: u8) -> Option<u8> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    })
}

impl Base64Sink {
    pub(crate) fn feed(&mut self, text: &[u8]) {
        if self.error.is_some() {
            return;
        }
        // One reservation per piece: the output never grows by doubling (which would hold
        // two copies for a moment).
        self.out.reserve(text.len() / 4 * 3 + 3);
        for &c in text {
            self.seen += 1;
            if c.is_ascii_whitespace() {
                continue;
            }
            if c == b'=' {
                self.padding += 1;
                if self.padding > 2 || self.n < 2 {
                    self.error = Some(format!("misplaced '=' at character {}", self.seen));
                    return;
                }
                continue;
            }
            if self.padding > 0 {
                self.error = Some(format!("data after '=' padding at character {}", self.seen));
                return;
            }
            let Some(v) = sextet(c) else {
                self.error = Some(format!(
                    "character {:?} at position {} is not base64",
                    c as char, self.seen
                ));
                return;
            };
            self.quad[self.n] = v;
            self.n += 1;
            if self.n == 4 {
                let q = self.quad;
                self.out.extend_from_slice(&[
                    (q[0] << 2) | (q[1] >> 4),
                    (q[1] << 4) | (q[2] >> 2),
                    (q[2] << 6) | q[3],
                ]);
                self.n = 0;
            }
        }
    }

    /// Nothing but whitespace was fed.
    pub(crate) fn is_blank(&self) -> bool {
        self.out.is_empty() && self.n == 0 && self.padding == 0 && self.error.is_none()
    }

    /// The decoded bytes, or why the text is not base64.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, String> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let q = self.quad;
        match self.n {
            0 => {}
            1 => return Err("the base64 text is cut (one character left over)".into()),
            2 => self.out.push((q[0] << 2) | (q[1] >> 4)),
            _ => self
                .out
                .extend_from_slice(&[(q[0] << 2) | (q[1] >> 4), (q[1] << 4) | (q[2] >> 2)]),
        }
        self.out.shrink_to_fit();
        Ok(self.out)
    }
}

/// A file an attachment carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedFile {
    /// The name to show: `AttachmentName` for a single file (with the entry's extension
    /// when the name is the ZIP's), the entry's own name inside a ZIP of several.
    pub name: Option<String>,
    /// The ZIP entry's name, when the file came out of a ZIP.
    pub entry: Option<String>,
    /// Sniffed from the bytes first, then the name, then the declared type.
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
}

const OLE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";

fn extension(name: Option<&str>) -> String {
    name.and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The media type of a file: its first bytes decide where they can (`%PDF`, OLE, PNG,
/// JPEG, TIFF, an Office Open XML or ODF archive), then its name's extension, then the
/// declared `ContentType` (unless it only says "zip"), else `application/octet-stream`.
pub fn media_type(bytes: &[u8], name: Option<&str>, declared: Option<&str>) -> &'static str {
    let ext = extension(name);
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return "application/pdf";
    }
    if bytes.starts_with(OLE) {
        return match ext.as_str() {
            "xls" => "application/vnd.ms-excel",
            "ppt" => "application/vnd.ms-powerpoint",
            _ => "application/msword",
        };
    }
    if bytes.starts_with(b"\x89PNG") {
        return "image/png";
    }
    if bytes.starts_with(b"\xFF\xD8\xFF") {
        return "image/jpeg";
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return "image/tiff";
    }
    if bytes.starts_with(b"PK\x03\x04")
        && let Some(t) = office_archive(bytes)
    {
        return t;
    }
    let by_ext = match ext.as_str() {
        "pdf" => Some("application/pdf"),
        "doc" => Some("application/msword"),
        "docx" => Some(DOCX),
        "xls" => Some("application/vnd.ms-excel"),
        "xlsx" => Some(XLSX),
        "pptx" => Some(PPTX),
        "odt" => Some("application/vnd.oasis.opendocument.text"),
        "ods" => Some("application/vnd.oasis.opendocument.spreadsheet"),
        "rtf" => Some("application/rtf"),
        "txt" => Some("text/plain"),
        "xml" => Some("application/xml"),
        "zip" => Some("application/zip"),
        "rar" => Some("application/vnd.rar"),
        "jpg" | "jpeg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        "tif" | "tiff" => Some("image/tiff"),
        _ => None,
    };
    if let Some(t) = by_ext {
        return t;
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return "application/zip";
    }
    match declared.map(|d| d.trim().to_ascii_lowercase()) {
        Some(d) if d == "application/pdf" => "application/pdf",
        Some(d) if d == "application/msword" => "application/msword",
        Some(d) if d == DOCX => DOCX,
        Some(d) if d == XLSX => XLSX,
        Some(d) if d == "application/vnd.ms-excel" => "application/vnd.ms-excel",
        _ => "application/octet-stream",
    }
}

/// Whether a `PK` archive is an Office Open XML or ODF file (a file, not a wrapper), and
/// which.
fn office_archive(bytes: &[u8]) -> Option<&'static str> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let (mut odf, mut ooxml, mut word, mut excel, mut slides) = (false, false, false, false, false);
    for name in archive.file_names() {
        let Ok(name) = name else { continue };
        odf |= name == "mimetype";
        ooxml |= name == "[Content_Types].xml";
        word |= name.starts_with("word/");
        excel |= name.starts_with("xl/");
        slides |= name.starts_with("ppt/");
    }
    if odf {
        let mut kind = String::new();
        archive
            .by_name("mimetype")
            .ok()?
            .take(100)
            .read_to_string(&mut kind)
            .ok()?;
        return match kind.trim() {
            "application/vnd.oasis.opendocument.text" => {
                Some("application/vnd.oasis.opendocument.text")
            }
            "application/vnd.oasis.opendocument.spreadsheet" => {
                Some("application/vnd.oasis.opendocument.spreadsheet")
            }
            _ => None,
        };
    }
    if !ooxml {
        return None;
    }
    if word {
        Some(DOCX)
    } else if excel {
        Some(XLSX)
    } else if slides {
        Some(PPTX)
    } else {
        None
    }
}

/// Whether the payload is a wrapper ZIP to open (rather than the file itself).
fn is_wrapper_zip(attachment: &Attachment) -> bool {
    let raw = &attachment.payload;
    if !raw.starts_with(b"PK\x03\x04") && !raw.starts_with(b"PK\x05\x06") {
        return false;
    }
    // An Office or ODF document is a ZIP too, but it is the file.
    office_archive(raw).is_none()
}

/// The files an attachment carries, its payload left in place (copied for a raw file).
pub fn decode_files(
    attachment: &Attachment,
    limits: &Limits,
) -> Result<Vec<DecodedFile>, EdxmlError> {
    let mut copy = attachment.clone();
    take_files(&mut copy, limits)
}

/// The files an attachment carries, the payload moved out of it (a raw file is not
/// copied; a ZIP is dropped once inflated).
pub fn take_files(
    attachment: &mut Attachment,
    limits: &Limits,
) -> Result<Vec<DecodedFile>, EdxmlError> {
    let name = attachment
        .attachment_name
        .clone()
        .or_else(|| attachment.bare_content_id())
        .unwrap_or_default();
    let fail = |message: String| EdxmlError::Attachment {
        name: name.clone(),
        message,
    };
    if let Some(e) = &attachment.payload_error {
        return Err(fail(format!("content is not base64: {e}")));
    }
    if attachment.payload.is_empty() {
        return Err(fail("no content".into()));
    }
    if attachment.payload.len() as u64 > limits.max_bytes {
        return Err(EdxmlError::Limit(format!(
            "attachment {name:?} over {} bytes",
            limits.max_bytes
        )));
    }
    let declared = attachment.content_type.as_deref();
    if !is_wrapper_zip(attachment) {
        let bytes = std::mem::take(&mut attachment.payload);
        let media_type = media_type(&bytes, attachment.attachment_name.as_deref(), declared);
        return Ok(vec![DecodedFile {
            name: attachment.attachment_name.clone(),
            entry: None,
            media_type,
            bytes,
        }]);
    }
    let raw = std::mem::take(&mut attachment.payload);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&raw))
        .map_err(|e| fail(format!("ZIP unreadable: {e}")))?;
    if archive.len() > limits.max_entries {
        return Err(EdxmlError::Limit(format!(
            "attachment {name:?}: ZIP lists {} entries (limit {})",
            archive.len(),
            limits.max_entries
        )));
    }
    let mut indices = Vec::new();
    for i in 0..archive.len() {
        let entry = archive
            .by_index(i)
            .map_err(|e| fail(format!("ZIP entry unreadable: {e}")))?;
        let entry_name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        let base = entry_name.rsplit('/').next().unwrap_or("");
        // Folders and the metadata some archivers add are not files of the document.
        if entry.is_file() && !entry_name.starts_with("__MACOSX/") && !base.starts_with("._") {
            indices.push(i);
        }
    }
    if indices.is_empty() {
        return Err(fail("ZIP holds no file".into()));
    }
    let single = indices.len() == 1;
    let mut total = 0u64;
    let mut files = Vec::with_capacity(indices.len());
    for index in indices {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| fail(format!("ZIP entry unreadable: {e}")))?;
        let entry_name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        let compressed = entry.compressed_size().max(1);
        if entry.size() > limits.max_bytes || entry.size() / compressed > limits.max_ratio {
            return Err(EdxmlError::Limit(format!(
                "attachment {name:?}: entry {entry_name:?} of {} bytes from {} compressed",
                entry.size(),
                entry.compressed_size()
            )));
        }
        let budget = limits.max_bytes - total;
        let mut out = Vec::with_capacity(entry.size().min(budget) as usize);
        // Never trust the declared size: read at most what is left, plus one byte to notice.
        (&mut entry)
            .take(budget + 1)
            .read_to_end(&mut out)
            .map_err(|e| fail(format!("ZIP entry {entry_name:?} unreadable: {e}")))?;
        total += out.len() as u64;
        if total > limits.max_bytes {
            return Err(EdxmlError::Limit(format!(
                "attachment {name:?} inflates past {} bytes",
                limits.max_bytes
            )));
        }
        let base = entry_name.rsplit('/').next().unwrap_or("").to_string();
        let shown = if single {
            // One entry named `<uuid>.<ext>`: the real name is AttachmentName (with the
            // entry's extension when AttachmentName names the ZIP itself).
            match attachment.attachment_name.as_deref().map(str::trim) {
                Some(n) if !n.is_empty() && extension(Some(n)) == "zip" => {
                    // Cut at the last dot (the extension was trimmed to compare it, so
                    // its byte length is not the name's).
                    let stem = n.rsplit_once('.').map_or(n, |(stem, _)| stem);
                    match base.rsplit_once('.') {
                        Some((_, ext)) => Some(format!("{stem}.{ext}")),
                        None => Some(stem.to_string()),
                    }
                }
                Some(n) if !n.is_empty() => Some(n.to_string()),
                _ => Some(base.clone()),
            }
        } else {
            Some(base.clone())
        };
        let media_type = media_type(&out, Some(&base), None);
        files.push(DecodedFile {
            name: shown.filter(|n| !n.is_empty()),
            entry: Some(entry_name),
            media_type,
            bytes: out,
        });
    }
    Ok(files)
}

/// The decoded file of an attachment carrying exactly one: its bytes and, for a ZIP,
/// the entry's name. Use [`decode_files`] for attachments that may carry several.
pub fn decode_attachment(
    attachment: &Attachment,
    limits: &Limits,
) -> Result<(Vec<u8>, Option<String>), EdxmlError> {
    let mut files = decode_files(attachment, limits)?;
    if files.len() != 1 {
        return Err(EdxmlError::Attachment {
            name: attachment.attachment_name.clone().unwrap_or_default(),
            message: format!("ZIP holds {} files; exactly one was expected", files.len()),
        });
    }
    let file = files.remove(0);
    Ok((file.bytes, file.entry))
}

/// Builds a ZIP of `entries` (name, bytes), deflated: how producers wrap attachments.
pub fn zip_files(entries: &[(&str, &[u8])]) -> Result<Vec<u8>, EdxmlError> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        let fail = |e: String| EdxmlError::Attachment {
            name: name.to_string(),
            message: e,
        };
        writer
            .start_file(*name, options)
            .map_err(|e| fail(e.to_string()))?;
        writer.write_all(bytes).map_err(|e| fail(e.to_string()))?;
    }
    Ok(writer
        .finish()
        .map_err(|e| EdxmlError::Attachment {
            name: String::new(),
            message: e.to_string(),
        })?
        .into_inner())
}

/// An attachment carrying `bytes` the way most producers send them: zipped (one entry
/// named `name`), or — `zipped` false — the raw file. (Base64 is applied on writing.)
pub fn encode_attachment(
    content_id: &str,
    name: &str,
    content_type: &str,
    bytes: &[u8],
    zipped: bool,
) -> Result<Attachment, EdxmlError> {
    let payload = if zipped {
        zip_files(&[(name, bytes)])?
    } else {
        bytes.to_vec()
    };
    Ok(Attachment {
        content_id: Some(content_id.to_string()),
        attachment_name: Some(name.to_string()),
        content_type: Some(if zipped {
            "application/zip".to_string()
        } else {
            content_type.to_string()
        }),
        description: None,
        payload,
        payload_error: None,
    })
}

/// Base64 of a payload (standard alphabet, padded), for writers.
pub(crate) fn base64_text(payload: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(payload)
}
