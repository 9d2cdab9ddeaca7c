//! What the incremental updates after a signed revision changed. Allowed after signing
//! (what multi-signer workflows do): new signatures, annotations and form fields, their
//! appearances, pages re-written only to list those annotations, the catalog and
//! validation data (DSS). Not allowed: a page's content streams or resources, the page
//! tree, or a page's own content description (contents, resources, boxes, rotation).
//!
//! Objects changed after a revision are those (re)defined after its end, found by their
//! `N G obj` headers (objects inside object streams go with their stream). They are
//! judged in the final document, which is loaded once; a page's signed version is read
//! from the signed revision, loaded only when a later update re-wrote a page.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};

use lopdf::{Dictionary, Document, Object, ObjectId};

fn pdf_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | 0)
}

/// `(object number, header start, offset after "obj")` of every `N G obj` header in the
/// file: found by a substring search for "obj" and read backwards, much faster than a
/// regex over megabytes of binary streams.
fn object_headers(bytes: &[u8]) -> Vec<(u32, usize, usize)> {
    let mut out = Vec::new();
    for at in memchr::memmem::find_iter(bytes, b"obj") {
        let after = at + 3;
        if bytes.get(after).is_some_and(|b| b.is_ascii_alphanumeric()) {
            continue; // "objects", "objstm"…
        }
        let mut i = at;
        let skip_space = |i: &mut usize| {
            let start = *i;
            while *i > 0 && pdf_space(bytes[*i - 1]) {
                *i -= 1;
            }
            *i < start
        };
        let digits = |i: &mut usize| {
            let end = *i;
            while *i > 0 && bytes[*i - 1].is_ascii_digit() && end - *i < 10 {
                *i -= 1;
            }
            (*i < end).then_some((*i, end))
        };
        if !skip_space(&mut i) || digits(&mut i).is_none() || !skip_space(&mut i) {
            continue;
        }
        let Some((start, end)) = digits(&mut i) else {
            continue;
        };
        if start > 0 && !pdf_space(bytes[start - 1]) {
            continue;
        }
        if let Some(number) = std::str::from_utf8(&bytes[start..end])
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
        {
            out.push((number, start, after));
        }
    }
    out
}

/// What changed after a revision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Kinds of allowed changes (Vietnamese, for people).
    pub allowed: BTreeSet<String>,
    /// Content changes, described (Vietnamese).
    pub content: BTreeSet<String>,
    /// Why the changes could not be judged, when they could not.
    pub unknown: Option<String>,
}

pub struct Analyzer<'a> {
    bytes: &'a [u8],
    doc: &'a Document,
    /// Object number → offset of its latest definition (its object stream's, if packed).
    latest: HashMap<u32, usize>,
    /// Object number → (header start, end of "obj") of each definition, in file order.
    definitions: HashMap<u32, Vec<(usize, usize)>>,
    /// Object number → where it is packed: (its object stream's header start, the
    /// stream's number, the object's bytes range in the decompressed stream).
    packed: HashMap<u32, Vec<(usize, u32, std::ops::Range<usize>)>>,
    /// Decompressed object streams by number.
    object_streams: HashMap<u32, Vec<u8>>,
    /// Revisions ending at or before this offset cannot be read object by object (an
    /// object stream was re-defined, or packed objects sit in a stream we cannot read):
    /// they are loaded whole.
    load_whole_before: usize,
    /// Objects a page's appearance depends on: content streams and everything reachable
    /// from page resources; with the page number they serve.
    content: HashMap<ObjectId, u32>,
    pages: HashMap<ObjectId, u32>,
    signed_revisions: RefCell<HashMap<usize, Option<Document>>>,
}

/// Everything reachable from `object`, not following links back up the tree.
fn reach(
    doc: &Document,
    object: &Object,
    out: &mut HashMap<ObjectId, u32>,
    page: u32,
    budget: &mut usize,
) {
    if *budget == 0 {
        return;
    }
    *budget -= 1;
    match object {
        Object::Reference(id) => {
            if out.insert(*id, page).is_none()
                && let Ok(target) = doc.get_object(*id)
            {
                reach(doc, target, out, page, budget);
            }
        }
        Object::Array(items) => {
            for item in items {
                reach(doc, item, out, page, budget);
            }
        }
        Object::Dictionary(d) => reach_dict(doc, d, out, page, budget),
        Object::Stream(s) => reach_dict(doc, &s.dict, out, page, budget),
        _ => {}
    }
}

fn reach_dict(
    doc: &Document,
    d: &Dictionary,
    out: &mut HashMap<ObjectId, u32>,
    page: u32,
    budget: &mut usize,
) {
    for (key, value) in d.iter() {
        if matches!(
            key.as_slice(),
            b"Parent" | b"P" | b"Annots" | b"StructParents" | b"B"
        ) {
            continue;
        }
        reach(doc, value, out, page, budget);
    }
}

fn name<'d>(d: &'d Dictionary, key: &[u8]) -> Option<&'d [u8]> {
    d.get(key).ok().and_then(|o| o.as_name().ok())
}

impl<'a> Analyzer<'a> {
    pub fn new(bytes: &'a [u8], doc: &'a Document) -> Analyzer<'a> {
        let mut latest: HashMap<u32, usize> = HashMap::new();
        let mut definitions: HashMap<u32, Vec<(usize, usize)>> = HashMap::new();
        for (id, start, at) in object_headers(bytes) {
            let entry = latest.entry(id).or_insert(at);
            *entry = (*entry).max(at);
            definitions.entry(id).or_default().push((start, at));
        }
        let mut packed: HashMap<u32, Vec<(usize, u32, std::ops::Range<usize>)>> = HashMap::new();
        let mut object_streams = HashMap::new();
        let mut load_whole_before = 0usize;
        for (id, object) in &doc.objects {
            let Ok(stream) = object.as_stream() else {
                continue;
            };
            if name(&stream.dict, b"Type") != Some(b"ObjStm") {
                continue;
            }
            let Some(defs) = definitions.get(&id.0) else {
                load_whole_before = usize::MAX;
                continue;
            };
            if defs.len() > 1 {
                // A re-defined stream: its earlier contents are not the ones we hold.
                load_whole_before = load_whole_before.max(defs[defs.len() - 1].1);
            }
            let header_start = defs[defs.len() - 1].0;
            let Ok(content) = stream.decompressed_content() else {
                load_whole_before = usize::MAX;
                continue;
            };
            let first = stream
                .dict
                .get(b"First")
                .and_then(Object::as_i64)
                .unwrap_or(0)
                .max(0) as usize;
            let header = String::from_utf8_lossy(&content[..first.min(content.len())]).to_string();
            let numbers: Vec<usize> = header
                .split_ascii_whitespace()
                .filter_map(|t| t.parse().ok())
                .collect();
            let pairs: Vec<(u32, usize)> = numbers
                .chunks(2)
                .filter(|c| c.len() == 2)
                .map(|c| (c[0] as u32, first + c[1]))
                .collect();
            for (k, &(number, start)) in pairs.iter().enumerate() {
                let end = pairs.get(k + 1).map_or(content.len(), |p| p.1);
                if start <= end && end <= content.len() {
                    packed
                        .entry(number)
                        .or_default()
                        .push((header_start, id.0, start..end));
                }
            }
            object_streams.insert(id.0, content);
        }
        // Packed objects whose stream is not among those read: assume the worst.
        if doc.reference_table.entries.values().any(|e| {
            matches!(e, lopdf::xref::XrefEntry::Compressed { container, .. } if !object_streams.contains_key(container))
        }) {
            load_whole_before = usize::MAX;
        }
        // Objects packed in object streams were written where their stream was.
        for (id, entry) in &doc.reference_table.entries {
            if let lopdf::xref::XrefEntry::Compressed { container, .. } = entry
                && let Some(&at) = latest.get(container)
            {
                latest.insert(*id, at);
            }
        }
        let mut content = HashMap::new();
        let mut pages = HashMap::new();
        let mut budget = 200_000;
        for (number, page_id) in doc.get_pages() {
            pages.insert(page_id, number);
            let Ok(page) = doc.get_dictionary(page_id) else {
                continue;
            };
            for key in [&b"Contents"[..], b"Resources"] {
                if let Ok(value) = page.get(key) {
                    reach(doc, value, &mut content, number, &mut budget);
                }
            }
            // Resources inherited from the page tree.
            let mut parent = page.get(b"Parent").and_then(Object::as_reference).ok();
            let mut hops = 0;
            while let Some(id) = parent {
                hops += 1;
                if hops > 32 {
                    break;
                }
                let Ok(node) = doc.get_dictionary(id) else {
                    break;
                };
                if let Ok(resources) = node.get(b"Resources") {
                    reach(doc, resources, &mut content, number, &mut budget);
                }
                parent = node.get(b"Parent").and_then(Object::as_reference).ok();
            }
        }
        Analyzer {
            bytes,
            doc,
            latest,
            definitions,
            packed,
            object_streams,
            load_whole_before,
            content,
            pages,
            signed_revisions: RefCell::new(HashMap::new()),
        }
    }

    fn final_object(&self, number: u32) -> Option<(ObjectId, &Object)> {
        self.doc
            .objects
            .range((number, 0)..=(number, u16::MAX))
            .next()
            .map(|(id, o)| (*id, o))
    }

    /// The document as signed (the file up to `end`), loaded once.
    fn with_signed<T>(&self, end: usize, f: impl FnOnce(Option<&Document>) -> T) -> T {
        let mut cache = self.signed_revisions.borrow_mut();
        let doc = cache
            .entry(end)
            .or_insert_with(|| Document::load_mem(&self.bytes[..end.min(self.bytes.len())]).ok());
        f(doc.as_ref())
    }

    /// Object `id` as the revision ending at `end` had it, read from its last definition
    /// before `end` alone — written out, or packed in an object stream — wrapped in a
    /// one-object PDF for lopdf's parser: microseconds, where loading the whole revision
    /// takes milliseconds. `None`: the object did not exist then.
    fn signed_version(&self, end: usize, id: ObjectId) -> Result<Option<Dictionary>, String> {
        if end <= self.load_whole_before {
            return self.with_signed(end, |signed| {
                let signed = signed
                    .ok_or_else(|| "the signed revision cannot be read on its own".to_string())?;
                Ok(signed.get_dictionary(id).ok().cloned())
            });
        }
        let written = self
            .definitions
            .get(&id.0)
            .and_then(|defs| defs.iter().rev().find(|&&(_, after)| after <= end).copied());
        let packed = self
            .packed
            .get(&id.0)
            .and_then(|defs| defs.iter().rev().find(|(at, _, _)| *at < end).cloned());
        let text: Vec<u8> = match (written, packed) {
            (Some((start, after)), p) if p.as_ref().is_none_or(|(at, _, _)| *at < start) => {
                let rest = &self.bytes[after..end.min(self.bytes.len())];
                let close = memchr::memmem::find(&rest[..rest.len().min(1 << 20)], b"endobj")
                    .ok_or_else(|| format!("object {} has no endobj", id.0))?;
                self.bytes[start..after + close + 6].to_vec()
            }
            (_, Some((_, stream, range))) => {
                let content = &self.object_streams[&stream];
                let mut text = format!("{} 0 obj\n", id.0).into_bytes();
                text.extend_from_slice(&content[range]);
                text.extend_from_slice(b"\nendobj");
                text
            }
            (None, None) => return Ok(None),
            (Some(_), None) => unreachable!("covered by the first arm"),
        };
        let mut mini = b"%PDF-1.7\n".to_vec();
        let offset = mini.len();
        mini.extend_from_slice(&text);
        mini.push(b'\n');
        let xref = mini.len();
        mini.extend_from_slice(
            format!(
                "xref\n0 1\n0000000000 65535 f \n{n} 1\n{offset:010} 00000 n \ntrailer\n<< /Size {} /Root {n} 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                id.0 + 1,
                n = id.0
            )
            .as_bytes(),
        );
        let doc = Document::load_mem(&mini).map_err(|e| format!("object {}: {e}", id.0))?;
        Ok(doc
            .objects
            .iter()
            .find(|(k, _)| k.0 == id.0)
            .and_then(|(_, o)| match o {
                Object::Dictionary(d) => Some(d.clone()),
                Object::Stream(s) => Some(s.dict.clone()),
                _ => None,
            }))
    }

    /// Whether `keys` of object `id` are the same in the signed revision and now.
    fn same_in_signed(
        &self,
        end: usize,
        id: ObjectId,
        now: &Dictionary,
        keys: &[&[u8]],
    ) -> Result<bool, String> {
        Ok(match self.signed_version(end, id)? {
            Some(then) => keys.iter().all(|k| then.get(k).ok() == now.get(k).ok()),
            // The object did not exist when signed.
            None => false,
        })
    }

    /// What was (re)defined after `end`, judged.
    pub fn changes_after(&self, end: usize) -> Changes {
        let mut changes = Changes::default();
        let mut changed: Vec<u32> = self
            .latest
            .iter()
            .filter(|&(_, &at)| at > end)
            .map(|(&id, _)| id)
            .collect();
        changed.sort_unstable();
        let mut seen_pages = HashSet::new();
        for number in changed {
            let Some((id, object)) = self.final_object(number) else {
                changes.allowed.insert("xóa đối tượng không dùng".into());
                continue;
            };
            let dict = match object {
                Object::Dictionary(d) => Some(d),
                Object::Stream(s) => Some(&s.dict),
                _ => None,
            };
            if let Some(&page) = self.content.get(&id) {
                changes
                    .content
                    .insert(format!("nội dung hoặc tài nguyên của trang {page}"));
                continue;
            }
            let Some(d) = dict else {
                changes.allowed.insert("dữ liệu khác".into());
                continue;
            };
            let kind = name(d, b"Type");
            if matches!(kind, Some(b"XRef" | b"ObjStm")) {
                continue;
            }
            if d.has(b"ByteRange") {
                changes.allowed.insert("chữ ký số".into());
            } else if kind == Some(b"Annot")
                || name(d, b"Subtype") == Some(b"Widget")
                || (d.has(b"Rect") && d.has(b"Subtype"))
            {
                changes.allowed.insert("chú thích, ô chữ ký".into());
            } else if d.has(b"FT") || d.has(b"Fields") {
                changes.allowed.insert("trường biểu mẫu".into());
            } else if kind == Some(b"Page") {
                let page = self.pages.get(&id).copied().unwrap_or(0);
                match self.same_in_signed(
                    end,
                    id,
                    d,
                    &[
                        b"Contents",
                        b"Resources",
                        b"MediaBox",
                        b"CropBox",
                        b"Rotate",
                    ],
                ) {
                    Ok(true) => {
                        changes
                            .allowed
                            .insert("danh sách chú thích của trang".into());
                    }
                    Ok(false) => {
                        if seen_pages.insert(page) {
                            changes.content.insert(format!(
                                "mô tả trang {page} (nội dung, tài nguyên hoặc khổ trang)"
                            ));
                        }
                    }
                    Err(e) => changes.unknown = Some(e),
                }
            } else if kind == Some(b"Pages") {
                match self.same_in_signed(
                    end,
                    id,
                    d,
                    &[b"Kids", b"Count", b"Resources", b"MediaBox"],
                ) {
                    Ok(true) => {}
                    Ok(false) => {
                        changes
                            .content
                            .insert("cây trang (thêm, bớt hoặc thay trang)".into());
                    }
                    Err(e) => changes.unknown = Some(e),
                }
            } else if kind == Some(b"Catalog") {
                match self.same_in_signed(end, id, d, &[b"Pages"]) {
                    Ok(true) => {
                        changes
                            .allowed
                            .insert("danh mục tài liệu (biểu mẫu, dữ liệu xác thực)".into());
                    }
                    Ok(false) => {
                        changes
                            .content
                            .insert("cây trang được thay bằng cây khác".into());
                    }
                    Err(e) => changes.unknown = Some(e),
                }
            } else {
                changes
                    .allowed
                    .insert("dữ liệu khác (hình chữ ký, chứng thư, siêu dữ liệu)".into());
            }
        }
        changes
    }
}
