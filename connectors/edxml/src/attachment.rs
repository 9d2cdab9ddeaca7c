//! Attachment content: base64 → bytes; a ZIP (declared `application/zip`, or starting with
//! `PK\x03\x04`) holding one file → that file. Limits keep hostile packages bounded.

use std::io::Read;

use base64::Engine;

use crate::EdxmlError;
use crate::model::Attachment;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest decoded file.
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

/// The decoded file of an attachment: its bytes and, for a ZIP, the entry's name.
pub fn decode_attachment(
    attachment: &Attachment,
    limits: &Limits,
) -> Result<(Vec<u8>, Option<String>), EdxmlError> {
    let name = attachment.attachment_name.clone().unwrap_or_default();
    let fail = |message: String| EdxmlError::Attachment {
        name: name.clone(),
        message,
    };
    let text: String = attachment
        .content
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if text.is_empty() {
        return Err(fail("no content".into()));
    }
    if (text.len() as u64) / 4 * 3 > limits.max_bytes {
        return Err(EdxmlError::Limit(format!(
            "attachment {name:?} over {} bytes",
            limits.max_bytes
        )));
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(text.trim_end_matches('='))
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(text.trim_end_matches('='))
        })
        .map_err(|e| fail(format!("content is not base64: {e}")))?;
    let declared_zip = attachment
        .content_type
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().contains("zip"));
    if !(declared_zip || raw.starts_with(b"PK\x03\x04")) {
        return Ok((raw, None));
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&raw))
        .map_err(|e| fail(format!("ZIP unreadable: {e}")))?;
    if archive.len() > limits.max_entries {
        return Err(EdxmlError::Limit(format!(
            "attachment {name:?}: ZIP lists {} entries (limit {})",
            archive.len(),
            limits.max_entries
        )));
    }
    let files: Vec<usize> = (0..archive.len())
        .filter(|&i| archive.by_index(i).map(|f| f.is_file()).unwrap_or(false))
        .collect();
    let [index] = files.as_slice() else {
        return Err(fail(format!(
            "ZIP holds {} files; exactly one was expected",
            files.len()
        )));
    };
    let mut entry = archive
        .by_index(*index)
        .map_err(|e| fail(format!("ZIP entry unreadable: {e}")))?;
    let entry_name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
    let compressed = entry.compressed_size().max(1);
    if entry.size() > limits.max_bytes || entry.size() / compressed > limits.max_ratio {
        return Err(EdxmlError::Limit(format!(
            "attachment {name:?}: entry of {} bytes from {} compressed",
            entry.size(),
            entry.compressed_size()
        )));
    }
    let mut out = Vec::with_capacity(entry.size() as usize);
    // Never trust the declared size: read at most the limit, plus one byte to notice.
    (&mut entry)
        .take(limits.max_bytes + 1)
        .read_to_end(&mut out)
        .map_err(|e| fail(format!("ZIP entry unreadable: {e}")))?;
    if out.len() as u64 > limits.max_bytes {
        return Err(EdxmlError::Limit(format!(
            "attachment {name:?} inflates past {} bytes",
            limits.max_bytes
        )));
    }
    Ok((out, Some(entry_name)))
}

/// An attachment carrying `bytes` the way most producers send them: zipped (one entry
/// named `name`) and base64-encoded, or — `zipped` false — the raw file base64-encoded.
pub fn encode_attachment(
    content_id: &str,
    name: &str,
    content_type: &str,
    bytes: &[u8],
    zipped: bool,
) -> Result<Attachment, EdxmlError> {
    use std::io::Write;
    let payload = if zipped {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let fail = |e: String| EdxmlError::Attachment {
            name: name.to_string(),
            message: e,
        };
        writer
            .start_file(name, options)
            .map_err(|e| fail(e.to_string()))?;
        writer.write_all(bytes).map_err(|e| fail(e.to_string()))?;
        writer
            .finish()
            .map_err(|e| fail(e.to_string()))?
            .into_inner()
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
        content: base64::engine::general_purpose::STANDARD.encode(payload),
    })
}
