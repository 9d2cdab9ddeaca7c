//! edXML packages of the Vietnamese e-office exchange (QCVN 102:2016/BTTTT): parse what
//! hubs deliver, write what they expect. Knows nothing of vanban's database.
//!
//! Parsing is lenient where real packages are sloppy and strict where it matters:
//! elements are matched by namespace + local name (both known namespaces, or none), in any
//! order, unknown ones ignored; a BOM or stray bytes before `<?xml` are skipped; dates are
//! kept raw and flagged when impossible (`2014/02/30`); attachment payloads are
//! base64-decoded while reading (from the package bytes, whatever the payload element is
//! called: `ContentTransferEncoded`, `Value`…), then unzipped (one or several entries) or
//! taken as the raw file, under size, entry-count and ratio limits.

mod attachment;
mod model;
mod parse;
mod write;

pub use attachment::{
    DecodedFile, Limits, decode_attachment, decode_files, encode_attachment, media_type,
    take_files, zip_files,
};
pub use model::*;
pub use parse::{PAYLOAD_ELEMENTS, parse};
pub use write::{Shape, write_document, write_document_as, write_status};

/// The QCVN 102:2016 namespace.
pub const NAMESPACE: &str = "http://www.mic.gov.vn/TBT/QCVN_102_2016";
/// The older namespace some producers still use.
pub const LEGACY_NAMESPACE: &str = "http://www.go.vn/eDoc";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EdxmlError {
    #[error("not an edXML package: {0}")]
    NotEdxml(String),
    #[error("malformed XML at byte {position}: {message}")]
    Xml { position: u64, message: String },
    #[error("attachment {name:?}: {message}")]
    Attachment { name: String, message: String },
    #[error("limit exceeded: {0}")]
    Limit(String),
}
