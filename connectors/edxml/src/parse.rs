//! Reading a package: a streaming walk over the XML that keeps the path of element local
//! names (only elements of the edXML namespaces, or of none) and assigns each leaf's text
//! by the end of its path, so order and unknown elements do not matter.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::attachment::Base64Sink;
use crate::model::*;
use crate::{EdxmlError, LEGACY_NAMESPACE, NAMESPACE};

/// Names producers give the element holding an attachment's base64 text, in the order
/// they are preferred when an attachment carries more than one: the standard's
/// `ContentTransferEncoded` (VNPT), then the names other producers use.
pub const PAYLOAD_ELEMENTS: [&str; 6] = [
    "ContentTransferEncoded",
    "Value",
    "Content",
    "Data",
    "AttachmentText",
    "EncodedContent",
];

/// Largest package accepted (the hub's own limit is far below).
const MAX_PACKAGE_BYTES: usize = 512 * 1024 * 1024;
/// Deeper nesting than this is not an edXML package but an attack.
const MAX_DEPTH: usize = 64;

/// Marks an element of a foreign namespace on the path (never matched).
const FOREIGN: &str = "#";

pub fn parse(bytes: &[u8]) -> Result<Package, EdxmlError> {
    if bytes.len() > MAX_PACKAGE_BYTES {
        return Err(EdxmlError::Limit(format!(
            "package of {} bytes (limit {MAX_PACKAGE_BYTES})",
            bytes.len()
        )));
    }
    let mut package = Package::default();
    // A BOM, or stray bytes some gateways prepend, before the XML itself.
    let start = bytes
        .windows(5)
        .position(|w| w == b"<?xml")
        .or_else(|| bytes.iter().position(|&b| b == b'<'))
        .ok_or_else(|| EdxmlError::NotEdxml("no XML in the package".into()))?;
    let skipped = &bytes[..start];
    if !skipped.is_empty() && skipped != b"\xEF\xBB\xBF" {
        package.warnings.push(format!(
            "{} stray bytes before the XML were skipped",
            skipped.len()
        ));
    }
    let text = String::from_utf8_lossy(&bytes[start..]);
    if text.contains('\u{FFFD}') {
        package
            .warnings
            .push("invalid UTF-8 replaced (the package is not UTF-8 throughout)".into());
    }
    let mut reader = NsReader::from_str(&text);
    reader.config_mut().expand_empty_elements = true;

    let mut path: Vec<String> = Vec::new();
    let mut leaf = String::new();
    let mut seen_root = false;
    // The attachment payload being decoded: (depth of its element, preference rank, sink).
    let mut payload: Option<(usize, usize, Base64Sink)> = None;
    // Preference rank of the payload each attachment holds (see `PAYLOAD_ELEMENTS`).
    let mut ranks: Vec<usize> = Vec::new();
    loop {
        let position = reader.buffer_position();
        let (namespace, event) = reader.read_resolved_event().map_err(|e| EdxmlError::Xml {
            position,
            message: e.to_string(),
        })?;
        match event {
            Event::Start(e) => {
                let local = e.local_name().as_ref().to_string();
                let ours = match &namespace {
                    ResolveResult::Bound(ns) => {
                        let ns = ns.as_ref().to_string();
                        let known = ns == NAMESPACE || ns == LEGACY_NAMESPACE;
                        if known && package.namespace.is_empty() {
                            package.namespace = ns;
                        }
                        known
                    }
                    ResolveResult::Unbound => true,
                    ResolveResult::Unknown(_) => false,
                };
                if !seen_root {
                    seen_root = true;
                    if !ours || !(local == "edXML" || local == "edXMLEnvelope") {
                        return Err(EdxmlError::NotEdxml(format!(
                            "the root element is <{local}>, not <edXML>"
                        )));
                    }
                }
                if path.len() >= MAX_DEPTH {
                    return Err(EdxmlError::Limit(format!(
                        "elements nested over {MAX_DEPTH} deep"
                    )));
                }
                if local == "Signature" {
                    package.has_signature = true;
                }
                if ours {
                    open(&mut package, &path, &local);
                    let n = path.len();
                    if payload.is_none()
                        && n >= 2
                        && path[n - 1] == "Attachment"
                        && path[n - 2] == "AttachmentEncoded"
                        && let Some(rank) = PAYLOAD_ELEMENTS.iter().position(|p| *p == local)
                    {
                        payload = Some((n + 1, rank, Base64Sink::default()));
                    }
                    path.push(local);
                } else {
                    path.push(FOREIGN.to_string());
                }
                leaf.clear();
            }
            Event::End(_) => {
                if payload.as_ref().is_some_and(|(d, _, _)| *d == path.len()) {
                    let (_, rank, sink) = payload.take().expect("payload open");
                    let index = package.attachments.len().saturating_sub(1);
                    if let Some(a) = package.attachments.last_mut() {
                        ranks.resize(index + 1, usize::MAX);
                        store_payload(a, &mut ranks[index], rank, sink);
                    }
                } else if path.last().is_some_and(|l| l != FOREIGN) {
                    assign(&mut package, &path, leaf.trim());
                }
                path.pop();
                leaf.clear();
            }
            // The payload's text is decoded where it lies in the package (the reader
            // borrows it): no copy of the base64 text is ever made.
            Event::Text(t) if payload.as_ref().is_some_and(|(d, _, _)| *d == path.len()) => {
                if let Some((_, _, sink)) = payload.as_mut() {
                    let text: &str = &t;
                    sink.feed(text.as_bytes());
                }
            }
            Event::CData(c) if payload.as_ref().is_some_and(|(d, _, _)| *d == path.len()) => {
                if let Some((_, _, sink)) = payload.as_mut() {
                    let text: &str = &c;
                    sink.feed(text.as_bytes());
                }
            }
            Event::GeneralRef(r) if payload.as_ref().is_some_and(|(d, _, _)| *d == path.len()) => {
                // `&#13;` and the like between lines are whitespace; nothing else belongs.
                let whitespace = matches!(r.resolve_char_ref(), Ok(Some(c)) if c.is_whitespace());
                if !whitespace && let Some((_, _, sink)) = payload.as_mut() {
                    sink.feed(b"&");
                }
            }
            Event::Text(t) => leaf.push_str(&t.xml10_content()),
            Event::CData(c) => leaf.push_str(&c.into_inner()),
            Event::GeneralRef(r) => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    leaf.push(c);
                } else {
                    let name = r.as_ref().to_string();
                    match quick_xml::escape::resolve_predefined_entity(&name) {
                        Some(s) => leaf.push_str(s),
                        None => package
                            .warnings
                            .push(format!("unknown entity &{name}; dropped")),
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(EdxmlError::NotEdxml("empty document".into()));
    }
    if !path.is_empty() {
        return Err(EdxmlError::Xml {
            position: reader.buffer_position(),
            message: format!("unexpected end inside <{}>", path.join("/")),
        });
    }
    check(&mut package);
    Ok(package)
}

/// An element opens: create the record it starts.
fn open(p: &mut Package, path: &[String], local: &str) {
    let parent = path.last().map(String::as_str).unwrap_or("");
    let h = &mut p.header;
    match (parent, local) {
        ("MessageHeader", "From") => h.from = Some(Organization::default()),
        ("MessageHeader", "To") => h.to.push(Organization::default()),
        ("MessageHeader", "ResponseFor") => h.response_for.push(ResponseFor::default()),
        ("MessageHeader", "StaffInfo") => h.staff_info = Some(StaffInfo::default()),
        (_, "TraceHeaderList") => {
            p.trace.get_or_insert_with(TraceHeaderList::default);
        }
        ("TraceHeaderList", "TraceHeader") => p
            .trace
            .get_or_insert_with(TraceHeaderList::default)
            .traces
            .push(TraceHeader::default()),
        (_, "Bussiness") | (_, "Business") => {
            p.trace
                .get_or_insert_with(TraceHeaderList::default)
                .business = Some(Business::default())
        }
        ("ReplacementInfoList", "ReplacementInfo") => {
            if let Some(b) = business(p) {
                b.replacements.push(Replacement::default());
            }
        }
        ("edXMLManifest", "Reference") => p.manifest.push(Reference::default()),
        ("AttachmentEncoded", "Attachment") => p.attachments.push(Attachment::default()),
        _ => {}
    }
}

fn business(p: &mut Package) -> Option<&mut Business> {
    p.trace.as_mut()?.business.as_mut()
}

fn set(field: &mut Option<String>, value: &str) {
    if !value.is_empty() {
        *field = Some(value.to_string());
    }
}

fn set_date(field: &mut Option<LenientDate>, value: &str) {
    if !value.is_empty() {
        *field = Some(LenientDate::new(value));
    }
}

fn organization(o: &mut Organization, local: &str, value: &str) {
    match local {
        "OrganId" => set(&mut o.organ_id, value),
        "OrganizationInCharge" => set(&mut o.organization_in_charge, value),
        "OrganName" => set(&mut o.organ_name, value),
        "OrganAdd" => set(&mut o.organ_add, value),
        "Email" => set(&mut o.email, value),
        "Telephone" => set(&mut o.telephone, value),
        "Fax" => set(&mut o.fax, value),
        "Website" => set(&mut o.website, value),
        _ => {}
    }
}

/// An element closes: put its text where it belongs.
fn assign(p: &mut Package, path: &[String], value: &str) {
    let n = path.len();
    let local = path[n - 1].as_str();
    let parent = if n >= 2 { path[n - 2].as_str() } else { "" };
    let grand = if n >= 3 { path[n - 3].as_str() } else { "" };
    let h = &mut p.header;
    match (grand, parent, local) {
        ("MessageHeader", "From", field) => {
            if let Some(o) = h.from.as_mut() {
                organization(o, field, value);
            }
        }
        ("MessageHeader", "To", field) => {
            if let Some(o) = h.to.last_mut() {
                organization(o, field, value);
            }
        }
        ("MessageHeader", "ResponseFor", field) => {
            if let Some(r) = h.response_for.last_mut() {
                match field {
                    "OrganId" => set(&mut r.organ_id, value),
                    "Code" => set(&mut r.code, value),
                    "PromulgationDate" => set_date(&mut r.promulgation_date, value),
                    "DocumentId" => set(&mut r.document_id, value),
                    _ => {}
                }
            }
        }
        ("MessageHeader", "StaffInfo", field) => {
            if let Some(s) = h.staff_info.as_mut() {
                match field {
                    "Department" => set(&mut s.department, value),
                    "Staff" => set(&mut s.staff, value),
                    "Email" => set(&mut s.email, value),
                    "Mobile" => set(&mut s.mobile, value),
                    _ => {}
                }
            }
        }
        ("MessageHeader", "Code", "CodeNumber") => set(&mut h.code_number, value),
        ("MessageHeader", "Code", "CodeNotation") => set(&mut h.code_notation, value),
        ("MessageHeader", "PromulgationInfo", "Place") => set(&mut h.place, value),
        ("MessageHeader", "PromulgationInfo", "PromulgationDate") => {
            set_date(&mut h.promulgation_date, value)
        }
        ("MessageHeader", "DocumentType", "Type") => set(&mut h.doc_type, value),
        ("MessageHeader", "DocumentType", "TypeDetail") => set(&mut h.type_detail, value),
        ("MessageHeader", "DocumentType", "TypeName") => set(&mut h.type_name, value),
        ("MessageHeader", "SignerInfo", "Competence") => set(&mut h.signer_competence, value),
        ("MessageHeader", "SignerInfo", "Position") => set(&mut h.signer_position, value),
        ("MessageHeader", "SignerInfo", "FullName") => set(&mut h.signer_full_name, value),
        ("MessageHeader", "ToPlaces", "Place") if !value.is_empty() => {
            h.to_places.push(value.to_string())
        }
        ("MessageHeader", "OtherInfo", field) => {
            let o = &mut h.other_info;
            match field {
                "Priority" => set(&mut o.priority, value),
                "SphereOfPromulgation" => set(&mut o.sphere_of_promulgation, value),
                "TyperNotation" => set(&mut o.typer_notation, value),
                "PromulgationAmount" => set(&mut o.promulgation_amount, value),
                "PageAmount" => set(&mut o.page_amount, value),
                "Direction" => set(&mut o.direction, value),
                "Appendixes" if !value.is_empty() => o.appendixes.push(value.to_string()),
                _ => {}
            }
        }
        ("OtherInfo", "Appendixes", "Appendix") if !value.is_empty() => {
            h.other_info.appendixes.push(value.to_string())
        }
        (_, "MessageHeader", field) => match field {
            "DocumentId" => set(&mut h.document_id, value),
            "Subject" => set(&mut h.subject, value),
            "Content" => set(&mut h.content, value),
            "DueDate" => set_date(&mut h.due_date, value),
            "SteeringType" => set(&mut h.steering_type, value),
            "StatusCode" => set(&mut h.status_code, value),
            "Description" => set(&mut h.description, value),
            "Timestamp" => set_date(&mut h.timestamp, value),
            _ => {}
        },
        ("TraceHeaderList", "TraceHeader", field) => {
            if let Some(t) = p.trace.as_mut().and_then(|t| t.traces.last_mut()) {
                match field {
                    "OrganId" => set(&mut t.organ_id, value),
                    "Timestamp" => set_date(&mut t.timestamp, value),
                    _ => {}
                }
            }
        }
        (_, "Bussiness" | "Business", field) => {
            if let Some(b) = business(p) {
                match field {
                    "BussinessDocType" | "BusinessDocType" => {
                        b.kind = BusinessKind::from_code(value)
                    }
                    "BussinessDocReason" | "BusinessDocReason" => set(&mut b.reason, value),
                    _ => {}
                }
            }
        }
        ("ReplacementInfoList", "ReplacementInfo", "DocumentId") => {
            if let Some(r) = business(p).and_then(|b| b.replacements.last_mut()) {
                set(&mut r.document_id, value);
            }
        }
        ("ReplacementInfo", "OrganIdList", "OrganId") => {
            if let Some(r) = business(p).and_then(|b| b.replacements.last_mut())
                && !value.is_empty()
            {
                r.organ_ids.push(value.to_string());
            }
        }
        ("edXMLManifest", "Reference", field) => {
            if let Some(r) = p.manifest.last_mut() {
                match field {
                    "ContentId" => set(&mut r.content_id, value),
                    "AttachmentName" => set(&mut r.attachment_name, value),
                    "Description" => set(&mut r.description, value),
                    _ => {}
                }
            }
        }
        ("AttachmentEncoded", "Attachment", field) => {
            if let Some(a) = p.attachments.last_mut() {
                match field {
                    "ContentId" => set(&mut a.content_id, value),
                    "AttachmentName" => set(&mut a.attachment_name, value),
                    "ContentType" => set(&mut a.content_type, value),
                    "Description" => set(&mut a.description, value),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// Keeps a decoded payload on its attachment: the first one carried, unless a later
/// element of a preferred name (`ContentTransferEncoded` first) carries one too.
fn store_payload(a: &mut Attachment, held: &mut usize, rank: usize, sink: Base64Sink) {
    if sink.is_blank() || *held <= rank {
        return;
    }
    *held = rank;
    match sink.finish() {
        Ok(bytes) => {
            a.payload = bytes;
            a.payload_error = None;
        }
        Err(e) => {
            a.payload = Vec::new();
            a.payload_error = Some(e);
        }
    }
}

/// Cross-checks after the walk: impossible dates, manifest references without attachment.
fn check(p: &mut Package) {
    let h = &p.header;
    for (name, date) in [
        ("PromulgationDate", &h.promulgation_date),
        ("DueDate", &h.due_date),
        ("Timestamp", &h.timestamp),
    ] {
        if let Some(d) = date
            && d.is_impossible()
        {
            p.warnings.push(format!(
                "{name} \"{}\" is not a valid date (kept as written)",
                d.raw
            ));
        }
    }
    let missing: Vec<String> = p
        .manifest
        .iter()
        .filter(|r| p.attachment_for(r).is_none())
        .map(|r| r.content_id.clone().unwrap_or_default())
        .collect();
    for id in missing {
        p.warnings
            .push(format!("manifest reference {id:?} has no attachment"));
    }
}
