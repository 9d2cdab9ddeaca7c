//! Realistic hub traffic for the demo, the integration tests and the sync benchmark:
//! Decree-30 PDFs generated from the search corpus's records, wrapped in edXML packages
//! the way e-office systems send them — half in the VNPT shape, the rest prefixed,
//! unprefixed or without namespace (see [`edxml::Shape`]); mostly zipped, some raw; some
//! with a Word draft and a spreadsheet appendix beside the PDF — plus every lifecycle
//! event (revoke, update, replace), status packages, classified and internal documents,
//! documents about citizens, broken packages, and a revocation that arrives before its
//! document.
//!
//! [`Expected`] says what the public registry must show once everything is synced. It is
//! computed here from the events, not by running the engine, so tests compare two
//! independent accounts.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use edxml::{
    Business, BusinessKind, MessageHeader, Organization, Package, Reference, Replacement,
    ResponseFor, Shape, TraceHeaderList,
};
use eoffice::fake_hub::HubPackage;

use crate::pdf::writer::{Decree30Page, decree30_pdf};
use crate::search::IndexDocument;
use crate::search::corpus::{CorpusGenerator, Rng, UNITS};

#[derive(Debug, Clone)]
pub struct ScenarioOptions {
    pub seed: u64,
    /// Ordinary new documents.
    pub documents: usize,
    /// Of those, revoked by a later package.
    pub revoked: usize,
    /// Of those, updated by a later package (new abstract, new file).
    pub updated: usize,
    /// Of those, replaced by a later new document.
    pub replaced: usize,
    /// Extra documents marked MẬT (in the edXML header or only in the text).
    pub classified: usize,
    /// Extra documents for internal circulation.
    pub internal: usize,
    /// Extra documents naming a citizen with an ID number (review, not public).
    pub personal: usize,
    pub status_packages: usize,
    /// Packages that are not well-formed XML (never storable).
    pub malformed: usize,
    /// Revocations delivered before the document they revoke.
    pub out_of_order: usize,
    /// Organ code of the system receiving the packages (the portal).
    pub receiver: String,
    /// Signed PDFs to deliver as they are (attached raw, the way some e-office systems
    /// send the signed original); their headers are read from the files.
    pub signed: Vec<SignedAttachment>,
    /// Package shapes, used in turn (`[Shape::Vnpt]` alone for the benchmark).
    pub shapes: Vec<Shape>,
    /// One document in this many also carries a Word draft and a spreadsheet appendix
    /// (0: none).
    pub extras_every: usize,
}

/// The default rotation: the VNPT shape for half the packages, then each other shape.
pub const SHAPES: [Shape; 6] = [
    Shape::Vnpt,
    Shape::Unprefixed,
    Shape::Vnpt,
    Shape::NoNamespace,
    Shape::Vnpt,
    Shape::Prefixed,
];

/// A signed PDF delivered through the hub.
#[derive(Debug, Clone)]
pub struct SignedAttachment {
    pub pdf: Vec<u8>,
    pub unit: String,
    /// Whether its signature lets it be published (a broken one goes to review).
    pub expect_public: bool,
}

impl SignedAttachment {
    /// The signed fixtures in the repository (`tests/fixtures/signed`), when present:
    /// one intact two-signer decision and one whose signed bytes were altered.
    pub fn fixtures(repo: &std::path::Path) -> Vec<SignedAttachment> {
        let dir = repo.join("tests/fixtures/signed");
        [
            ("03-two-signers.pdf", "000.49.24.H44", true),
            ("06-byte-flipped.pdf", "000.47.24.H44", false),
        ]
        .into_iter()
        .filter_map(|(name, unit, expect_public)| {
            Some(SignedAttachment {
                pdf: std::fs::read(dir.join(name)).ok()?,
                unit: unit.to_string(),
                expect_public,
            })
        })
        .collect()
    }
}

impl ScenarioOptions {
    /// A few hundred packages with every kind of event.
    pub fn mixed(seed: u64, documents: usize) -> ScenarioOptions {
        ScenarioOptions {
            seed,
            documents,
            revoked: documents / 12,
            updated: documents / 10,
            replaced: documents / 15,
            classified: (documents / 25).max(2),
            internal: (documents / 40).max(1),
            personal: (documents / 40).max(1),
            status_packages: (documents / 20).max(2),
            malformed: (documents / 50).max(1),
            out_of_order: (documents / 50).max(1),
            receiver: "000.00.99.H44".into(),
            signed: Vec::new(),
            shapes: SHAPES.to_vec(),
            extras_every: 5,
        }
    }

    /// Only new, publishable documents (benchmarks), in the VNPT shape.
    pub fn plain(seed: u64, documents: usize) -> ScenarioOptions {
        ScenarioOptions {
            seed,
            documents,
            revoked: 0,
            updated: 0,
            replaced: 0,
            classified: 0,
            internal: 0,
            personal: 0,
            status_packages: 0,
            malformed: 0,
            out_of_order: 0,
            receiver: "000.00.99.H44".into(),
            signed: Vec::new(),
            shapes: vec![Shape::Vnpt],
            extras_every: 0,
        }
    }
}

/// A document the public registry must show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedDoc {
    pub number_symbol: String,
    pub abstract_text: String,
    pub unit: String,
    /// How its (last) package was laid out.
    pub shape: Shape,
    /// Names of the further files the record lists, in order.
    pub attachments: Vec<String>,
    /// Whether its file carries a valid signature.
    pub signed: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Expected {
    /// By edXML DocumentId.
    pub public: BTreeMap<String, ExpectedDoc>,
    /// DocumentIds that must not be public, with why.
    pub hidden: BTreeMap<String, &'static str>,
    /// Hub ids of packages that can never be stored (and must never be acknowledged).
    pub unstorable: BTreeSet<String>,
    /// Hub ids of every package.
    pub all: BTreeSet<String>,
}

pub struct Scenario {
    pub packages: Vec<HubPackage>,
    pub expected: Expected,
}

/// What a generated document says (the header fields and the PDF agree).
#[derive(Debug, Clone)]
struct Doc {
    record: IndexDocument,
    external_id: String,
    unit: String,
    issuer: String,
    place: String,
    markings: Vec<String>,
    header_secrecy: Option<String>,
    extra_paragraph: Option<String>,
    shape: Shape,
    /// Carries a Word draft and a spreadsheet appendix beside the PDF.
    extras: bool,
}

/// What a Word 97 draft starts with (the OLE compound file signature).
const OLE_DRAFT: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// A stand-in for a Word 97 draft as the registry reads one (`office_text`): the OLE
/// signature and a `WordDocument` directory name, then the text as UTF-16LE between
/// binary padding, as Word stores
/// Vietnamese text (paragraphs end in `\r`).
fn word97_draft(text: &str) -> Vec<u8> {
    let mut out = OLE_DRAFT.to_vec();
    // The directory names the `WordDocument` stream, as every Word file's does.
    out.extend(
        "Root Entry\0WordDocument\0"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    out.extend(std::iter::repeat_n(0u8, 460));
    for unit in text.encode_utf16().chain(std::iter::once(u16::from(b'\r'))) {
        out.extend(unit.to_le_bytes());
    }
    out.extend(std::iter::repeat_n(0u8, 512));
    out
}

/// A minimal workbook (`[Content_Types].xml`, one sheet, shared strings) holding `cells`.
fn xlsx_of(cells: &[&str]) -> Vec<u8> {
    use std::io::Write;
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;");
    let strings: String = cells
        .iter()
        .map(|c| format!("<si><t>{}</t></si>", escape(c)))
        .collect();
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#.to_string(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>"#.to_string(),
        ),
        (
            "xl/sharedStrings.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{strings}</sst>"#
            ),
        ),
    ];
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    for (name, body) in parts {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("zip entry");
        zip.write_all(body.as_bytes()).expect("zip write");
    }
    zip.finish().expect("zip");
    out.into_inner()
}

impl Doc {
    /// The further files its packages carry, (name, bytes), in package order.
    fn extra_files(&self) -> Vec<(String, Vec<u8>)> {
        if !self.extras {
            return Vec::new();
        }
        let stem = self
            .record
            .number_symbol
            .clone()
            .unwrap_or_default()
            .replace('/', "_");
        let draft = word97_draft(&format!(
            "Dự thảo văn bản số {stem}\rNội dung dự thảo trình lãnh đạo xem xét trước khi ký ban hành."
        ));
        vec![
            (format!("Du thao {stem}.doc"), draft),
            (
                format!("Phu luc {stem}.xlsx"),
                xlsx_of(&[
                    &format!("Bảng tổng hợp kèm theo văn bản số {stem}"),
                    "Số thứ tự",
                    "Nội dung công việc",
                    "Đơn vị thực hiện",
                ]),
            ),
        ]
    }
}

fn place_of(unit_name: &str) -> String {
    for prefix in ["thị trấn ", "xã ", "phường "] {
        if let Some(rest) = unit_name.strip_prefix(prefix) {
            return rest.to_string();
        }
    }
    unit_name.to_string()
}

/// The body sentences of a corpus record (its body starts with five header lines and
/// ends with the signer block, as `CorpusGenerator` writes it).
fn body_sentences(record: &IndexDocument) -> String {
    let body = record.body.splitn(6, '\n').nth(5).unwrap_or("");
    body.split("\nTM. ")
        .next()
        .unwrap_or(body)
        .trim()
        .to_string()
}

fn paragraphs(text: &str) -> Vec<String> {
    let sentences: Vec<&str> = text
        .split_inclusive(['.', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    sentences.chunks(3).map(|c| c.join(" ")).collect()
}

impl Doc {
    fn symbol(&self) -> (String, String) {
        let ns = self.record.number_symbol.clone().unwrap_or_default();
        let (n, s) = ns.split_once('/').unwrap_or(("", ""));
        (n.to_string(), s.to_string())
    }

    fn date(&self) -> NaiveDate {
        self.record.issued_date.expect("corpus dates")
    }

    fn pdf(&self) -> Vec<u8> {
        let r = &self.record;
        let doc_type = r.doc_type.clone().unwrap_or_default();
        let date = self.date();
        let cong_van = doc_type == "Công văn";
        let abstract_text = r.abstract_text.clone().unwrap_or_default();
        let mut body = paragraphs(&body_sentences(r));
        if let Some(extra) = &self.extra_paragraph {
            body.insert(0, extra.clone());
        }
        let page = Decree30Page {
            issuer_lines: vec![
                "ỦY BAN NHÂN DÂN".into(),
                self.issuer
                    .trim_start_matches("Ủy ban nhân dân ")
                    .to_uppercase(),
            ],
            number_symbol: r.number_symbol.clone().unwrap_or_default(),
            place_date: format!(
                "{}, ngày {} tháng {} năm {}",
                self.place,
                date.day(),
                date.month(),
                date.year()
            ),
            markings: self.markings.clone(),
            type_title: if cong_van {
                String::new()
            } else {
                doc_type.to_uppercase()
            },
            abstract_text: if cong_van {
                format!("V/v {}", lowercase_first(&abstract_text))
            } else {
                abstract_text
            },
            paragraphs: body,
            recipients: vec![
                "UBND huyện".into(),
                "Các ban, ngành, đoàn thể".into(),
                "Lưu: VT".into(),
            ],
            signer_block: vec!["TM. ỦY BAN NHÂN DÂN".into(), "CHỦ TỊCH".into()],
            signer_name: r.signer_name.clone().unwrap_or_default(),
        };
        decree30_pdf(
            &page,
            &format!("{doc_type} {}", r.number_symbol.clone().unwrap_or_default()),
        )
    }

    fn header(&self, receiver: &str) -> MessageHeader {
        let r = &self.record;
        let (number, symbol) = self.symbol();
        let date = self.date();
        let mut header = MessageHeader {
            from: Some(Organization {
                organ_id: Some(self.unit.clone()),
                organ_name: Some(self.issuer.clone()),
                ..Organization::default()
            }),
            to: vec![Organization {
                organ_id: Some(receiver.to_string()),
                organ_name: Some("Cổng thông tin điện tử".into()),
                ..Organization::default()
            }],
            document_id: Some(self.external_id.clone()),
            code_number: Some(number),
            code_notation: Some(symbol),
            place: Some(self.place.clone()),
            promulgation_date: Some(edxml::LenientDate::new(date.format("%Y/%m/%d").to_string())),
            doc_type: Some("1".into()),
            type_name: r.doc_type.clone(),
            subject: r.abstract_text.clone(),
            signer_competence: Some("TM. Ủy ban nhân dân".into()),
            signer_position: Some("Chủ tịch".into()),
            signer_full_name: r.signer_name.clone(),
            to_places: vec!["UBND huyện".into(), "Các ban, ngành, đoàn thể".into()],
            ..MessageHeader::default()
        };
        if let Some(level) = &self.header_secrecy {
            header.other_info.sphere_of_promulgation = Some(level.clone());
        }
        header
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

struct Builder {
    options: ScenarioOptions,
    corpus: CorpusGenerator,
    rng: Rng,
    seq: usize,
    shape_turn: usize,
    docs_made: usize,
    packages: Vec<HubPackage>,
    expected: Expected,
}

impl Builder {
    fn next_doc(&mut self) -> Doc {
        self.docs_made += 1;
        // The corpus spans 2015–2026; documents dated after mid-2026 would show as not
        // yet issued. A fixed cut-off keeps scenarios the same whatever today is.
        let cutoff = NaiveDate::from_ymd_opt(2026, 6, 30).expect("valid date");
        let record = loop {
            let r = self.corpus.next_document();
            if r.issued_date.is_some_and(|d| d <= cutoff) {
                break r;
            }
        };
        let unit_name = UNITS
            .iter()
            .find(|(code, _)| *code == record.unit_code)
            .map(|(_, name)| *name)
            .unwrap_or("xã Quốc Tuấn");
        let place = place_of(unit_name);
        let date = record.issued_date.expect("corpus dates");
        let external_id = format!(
            "{},{},{}",
            record.unit_code,
            date.format("%Y/%m/%d"),
            record.number_symbol.clone().unwrap_or_default()
        );
        Doc {
            unit: record.unit_code.clone(),
            issuer: format!("Ủy ban nhân dân {unit_name}"),
            place,
            external_id,
            record,
            markings: Vec::new(),
            header_secrecy: None,
            extra_paragraph: None,
            shape: self.next_shape(),
            extras: self.options.extras_every > 0
                && self.docs_made.is_multiple_of(self.options.extras_every),
        }
    }

    fn next_shape(&mut self) -> Shape {
        let shapes = &self.options.shapes;
        if shapes.is_empty() {
            return Shape::Vnpt;
        }
        let shape = shapes[self.shape_turn % shapes.len()];
        self.shape_turn += 1;
        shape
    }

    fn hub_id(&mut self) -> String {
        self.seq += 1;
        format!("hub-{:06}", self.seq)
    }

    fn push(&mut self, doc_id: String, from: &str, message_type: &str, bytes: Vec<u8>) {
        let mut p = HubPackage::new(doc_id.clone(), bytes);
        p.from = from.to_string();
        p.to = self.options.receiver.clone();
        p.message_type = message_type.into();
        self.expected.all.insert(doc_id);
        self.packages.push(p);
    }

    /// A document package; `business` and `replacements` make it a lifecycle event.
    fn document_package(
        &mut self,
        doc: &Doc,
        business: BusinessKind,
        reason: Option<&str>,
        replaces: Option<&str>,
        attach: bool,
    ) -> Vec<u8> {
        let mut package = Package {
            header: doc.header(&self.options.receiver),
            trace: Some(TraceHeaderList {
                traces: Vec::new(),
                business: Some(Business {
                    kind: business,
                    reason: reason.map(str::to_string),
                    replacements: replaces
                        .map(|id| {
                            vec![Replacement {
                                document_id: Some(id.to_string()),
                                organ_ids: vec![self.options.receiver.clone()],
                            }]
                        })
                        .unwrap_or_default(),
                }),
            }),
            ..Package::default()
        };
        if attach {
            let name = format!(
                "{}.pdf",
                doc.record
                    .number_symbol
                    .clone()
                    .unwrap_or_default()
                    .replace('/', "_")
            );
            // A Word draft first (the reader must still pick the PDF as the document).
            for (i, (extra, bytes)) in doc.extra_files().into_iter().enumerate() {
                let zipped_extra = i == 1;
                package.attachments.push(
                    edxml::encode_attachment(
                        &format!("{}-{i}", self.seq),
                        &extra,
                        "application/octet-stream",
                        &bytes,
                        zipped_extra,
                    )
                    .expect("in-memory ZIP"),
                );
            }
            // Most producers zip the file; some send it raw; some leave "cid:" off one side.
            let zipped = self.rng.below(5) != 0;
            let attachment = edxml::encode_attachment(
                &format!("{}", self.seq),
                &name,
                "application/pdf",
                &doc.pdf(),
                zipped,
            )
            .expect("in-memory ZIP");
            package.manifest.push(Reference {
                content_id: Some(format!("cid:{}", self.seq)),
                attachment_name: Some(name),
                description: Some("Văn bản".into()),
            });
            package.attachments.push(attachment);
        }
        edxml::write_document_as(&package, doc.shape).into_bytes()
    }

    fn new_document(&mut self, doc: &Doc) {
        let id = self.hub_id();
        let bytes = self.document_package(doc, BusinessKind::New, None, None, true);
        let unit = doc.unit.clone();
        self.push(id, &unit, "edoc", bytes);
    }

    fn public(&mut self, doc: &Doc, abstract_text: Option<String>) {
        // A tờ trình is a submission to a higher body, not a directive: the default
        // publication list leaves it to a clerk.
        if doc.record.doc_type.as_deref() == Some("Tờ trình") {
            self.hide(doc, "type_not_public");
            return;
        }
        self.expected.hidden.remove(&doc.external_id);
        self.expected.public.insert(
            doc.external_id.clone(),
            ExpectedDoc {
                number_symbol: doc.record.number_symbol.clone().unwrap_or_default(),
                abstract_text: abstract_text
                    .or_else(|| doc.record.abstract_text.clone())
                    .unwrap_or_default(),
                unit: doc.unit.clone(),
                shape: doc.shape,
                attachments: doc.extra_files().into_iter().map(|(n, _)| n).collect(),
                signed: false,
            },
        );
    }

    fn hide(&mut self, doc: &Doc, why: &'static str) {
        self.expected.public.remove(&doc.external_id);
        self.expected.hidden.insert(doc.external_id.clone(), why);
    }
}

/// Builds the packages, in the order the hub lists them.
pub fn generate(options: &ScenarioOptions) -> Scenario {
    let mut b = Builder {
        corpus: CorpusGenerator::new(options.seed, 1),
        rng: Rng::new(options.seed ^ 0x5eed),
        options: options.clone(),
        seq: 0,
        shape_turn: 0,
        docs_made: 0,
        packages: Vec::new(),
        expected: Expected::default(),
    };
    // Signed originals first: they are what a newcomer to the demo looks for.
    for signed in &options.signed {
        let x = crate::extract::extract_pdf(&signed.pdf, crate::doctypes::DocTypeTable::builtin())
            .expect("a signed fixture reads");
        let m = &x.metadata;
        let date = m.issued_date.value.expect("a dated fixture");
        let number_symbol = m.number_symbol().expect("a numbered fixture");
        let (number, notation) = number_symbol.split_once('/').expect("number/symbol");
        let external_id = format!(
            "{},{},{number_symbol}",
            signed.unit,
            date.format("%Y/%m/%d")
        );
        let mut package = Package {
            header: MessageHeader {
                from: Some(Organization {
                    organ_id: Some(signed.unit.clone()),
                    organ_name: m.issuer.value.clone(),
                    ..Organization::default()
                }),
                document_id: Some(external_id.clone()),
                code_number: Some(number.to_string()),
                code_notation: Some(notation.to_string()),
                place: m.place.value.clone(),
                promulgation_date: Some(edxml::LenientDate::new(
                    date.format("%Y/%m/%d").to_string(),
                )),
                type_name: m.doc_type.value.clone(),
                subject: m.abstract_text.value.clone(),
                signer_full_name: m.signer_name.value.clone(),
                ..MessageHeader::default()
            },
            manifest: vec![Reference {
                content_id: Some("cid:signed".into()),
                attachment_name: Some(format!("{}.pdf", number_symbol.replace('/', "_"))),
                description: None,
            }],
            ..Package::default()
        };
        // The intact original as VNPT sends it: a Word draft first, then the signed PDF
        // zipped under a UUID name; the altered one raw, in a default-namespace package.
        let (shape, drafts) = if signed.expect_public {
            let draft = word97_draft(
                "Dự thảo quyết định\rNội dung dự thảo trình lãnh đạo xem xét trước khi ký ban hành.",
            );
            (Shape::Vnpt, vec![("Du thao.doc".to_string(), draft)])
        } else {
            (Shape::Unprefixed, Vec::new())
        };
        for (name, bytes) in &drafts {
            package.attachments.push(
                edxml::encode_attachment("draft", name, "application/msword", bytes, false)
                    .expect("raw attachment"),
            );
        }
        let mut original = edxml::encode_attachment(
            "signed",
            "van-ban-da-ky.pdf",
            "application/pdf",
            &signed.pdf,
            false,
        )
        .expect("raw attachment");
        if signed.expect_public {
            original.attachment_name = Some("van-ban-da-ky.zip".into());
            original.content_type = Some("application/zip".into());
            original.payload =
                edxml::zip_files(&[("0b8e6c1a-3f4d-4e2b-9a7c-5d6e7f809a1b.pdf", &signed.pdf)])
                    .expect("in-memory ZIP");
        }
        package.attachments.push(original);
        let id = b.hub_id();
        b.push(
            id,
            &signed.unit,
            "edoc",
            edxml::write_document_as(&package, shape).into_bytes(),
        );
        if signed.expect_public {
            b.expected.public.insert(
                external_id,
                ExpectedDoc {
                    number_symbol,
                    abstract_text: m.abstract_text.value.clone().unwrap_or_default(),
                    unit: signed.unit.clone(),
                    shape,
                    attachments: drafts.into_iter().map(|(n, _)| n).collect(),
                    signed: true,
                },
            );
        } else {
            b.expected.hidden.insert(external_id, "broken_signature");
        }
    }
    let mut docs = Vec::new();
    for _ in 0..options.documents {
        let doc = b.next_doc();
        b.new_document(&doc);
        b.public(&doc, None);
        docs.push(doc);
    }
    let special =
        |b: &mut Builder, n: usize, setup: &dyn Fn(&mut Doc, usize), why: &'static str| {
            for i in 0..n {
                let mut doc = b.next_doc();
                setup(&mut doc, i);
                b.new_document(&doc);
                b.hide(&doc, why);
            }
        };
    special(
        &mut b,
        options.classified,
        &|doc, i| {
            // With further files: none of them may be served either.
            doc.extras = true;
            // Half say it in the edXML header only, half only on the page.
            if i % 2 == 0 {
                doc.header_secrecy = Some("Mật".into());
            } else {
                doc.markings.push("MẬT".into());
            }
        },
        "classified",
    );
    special(
        &mut b,
        options.internal,
        &|doc, _| doc.markings.push("LƯU HÀNH NỘI BỘ".into()),
        "internal",
    );
    special(
        &mut b,
        options.personal,
        &|doc, i| {
            doc.extra_paragraph = Some(format!(
                "Khen thưởng ông Nguyễn Văn Bình, sinh năm 1975, số CCCD 0010750{:05}, thường trú tại thôn 2.",
                i
            ))
        },
        "personal_data",
    );
    // Lifecycle events on earlier documents, each document used once.
    let mut pool: Vec<usize> = (0..docs.len()).collect();
    let mut take = |b: &mut Builder| -> Option<usize> {
        if pool.is_empty() {
            return None;
        }
        let i = b.rng.below(pool.len());
        Some(pool.swap_remove(i))
    };
    for _ in 0..options.revoked {
        let Some(i) = take(&mut b) else { break };
        let doc = docs[i].clone();
        let id = b.hub_id();
        let bytes = b.document_package(
            &doc,
            BusinessKind::Revoke,
            Some("Thu hồi do sai sót về thể thức"),
            None,
            false,
        );
        b.push(id, &doc.unit, "edoc", bytes);
        b.hide(&doc, "revoked");
    }
    for _ in 0..options.updated {
        let Some(i) = take(&mut b) else { break };
        let mut doc = docs[i].clone();
        let revised = format!(
            "{} (điều chỉnh lần 2)",
            doc.record.abstract_text.clone().unwrap_or_default()
        );
        doc.record.abstract_text = Some(revised.clone());
        let id = b.hub_id();
        let bytes = b.document_package(
            &doc,
            BusinessKind::Update,
            Some("Điều chỉnh trích yếu"),
            None,
            true,
        );
        b.push(id, &doc.unit, "edoc", bytes);
        b.public(&doc, Some(revised));
    }
    for _ in 0..options.replaced {
        let Some(i) = take(&mut b) else { break };
        let old = docs[i].clone();
        let mut new = b.next_doc();
        new.unit = old.unit.clone();
        let id = b.hub_id();
        let bytes = b.document_package(
            &new,
            BusinessKind::Replace,
            Some("Thay thế văn bản ban hành nhầm"),
            Some(&old.external_id),
            true,
        );
        b.push(id, &new.unit, "edoc", bytes);
        b.hide(&old, "replaced");
        b.public(&new, None);
    }
    for _ in 0..options.out_of_order {
        let doc = b.next_doc();
        let id = b.hub_id();
        let revoke = b.document_package(&doc, BusinessKind::Revoke, Some("Thu hồi"), None, false);
        b.push(id, &doc.unit, "edoc", revoke);
        b.new_document(&doc);
        b.hide(&doc, "revoked_before_arrival");
    }
    for i in 0..options.status_packages {
        let target = docs.get(i % docs.len().max(1)).cloned();
        let header = MessageHeader {
            from: Some(Organization {
                organ_id: Some(options.receiver.clone()),
                ..Organization::default()
            }),
            response_for: vec![ResponseFor {
                document_id: target.map(|d| d.external_id),
                ..ResponseFor::default()
            }],
            status_code: Some("03".into()),
            description: Some("Đã tiếp nhận".into()),
            timestamp: Some(edxml::LenientDate::new("2026/11/30 08:00:00")),
            ..MessageHeader::default()
        };
        let id = b.hub_id();
        let receiver = options.receiver.clone();
        b.push(
            id,
            &receiver,
            "edoc",
            edxml::write_status(&header).into_bytes(),
        );
    }
    for i in 0..options.malformed {
        let doc = b.next_doc();
        let id = b.hub_id();
        let mut bytes = b.document_package(&doc, BusinessKind::New, None, None, true);
        // Cut inside the envelope: never well-formed, whatever is retried.
        bytes.truncate(bytes.len() / 3 + i);
        b.push(id.clone(), &doc.unit, "edoc", bytes);
        b.expected.unstorable.insert(id);
    }
    Scenario {
        packages: b.packages,
        expected: b.expected,
    }
}

/// A VNPT-shaped package whose attached document (a generated Decree-30 PDF padded with
/// an unreferenced stream of random bytes, zipped under a UUID name) is about
/// `megabytes` large: for measuring what decoding a large attachment costs. Not used by
/// the service itself.
pub fn large_package(megabytes: usize, seed: u64) -> Vec<u8> {
    let mut b = Builder {
        corpus: CorpusGenerator::new(seed, 1),
        rng: Rng::new(seed),
        options: ScenarioOptions::plain(seed, 1),
        seq: 0,
        shape_turn: 0,
        docs_made: 0,
        packages: Vec::new(),
        expected: Expected::default(),
    };
    let doc = b.next_doc();
    let mut pdf = lopdf::Document::load_mem(&doc.pdf()).expect("a generated PDF reads");
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut padding = vec![0u8; megabytes * 1024 * 1024];
    rng.fill(&mut padding);
    let stream = lopdf::Stream::new(lopdf::Dictionary::new(), padding);
    let id = pdf.add_object(stream);
    if let Ok(catalog) = pdf.catalog_mut() {
        catalog.set("VanbanPadding", lopdf::Object::Reference(id));
    }
    let mut bytes = Vec::new();
    pdf.save_to(&mut bytes).expect("in-memory PDF");
    drop(pdf);
    let mut package = Package {
        header: doc.header(&b.options.receiver),
        ..Package::default()
    };
    package.manifest.push(Reference {
        content_id: Some("cid:large".into()),
        attachment_name: Some("van-ban.zip".into()),
        description: None,
    });
    let mut attachment = edxml::encode_attachment(
        "large",
        "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f.pdf",
        "application/pdf",
        &bytes,
        true,
    )
    .expect("in-memory ZIP");
    attachment.attachment_name = Some("van-ban.zip".into());
    package.attachments.push(attachment);
    drop(bytes);
    edxml::write_document_as(&package, Shape::Vnpt).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_packages_extract_to_their_header_fields() {
        let scenario = generate(&ScenarioOptions::mixed(3, 24));
        let types = crate::doctypes::DocTypeTable::builtin();
        let first = &scenario.packages[0];
        let imported = crate::edxml_import::import_edxml(&first.bytes, types).unwrap();
        let x = &imported.extraction;
        let disagreements: Vec<&str> = x
            .warnings
            .iter()
            .filter(|w| w.code == "edxml_disagrees")
            .map(|w| w.message.as_str())
            .collect();
        assert!(disagreements.is_empty(), "{disagreements:?}");
        assert_eq!(x.media_type, "application/pdf");
        assert!(x.metadata.number_symbol().is_some());
        assert_eq!(x.text_source, crate::extract::TextSource::Edxml);
        assert!(x.text.len() > 500, "the PDF's text layer was read");
        // Every kind of event is there, and the expectation is consistent.
        assert!(scenario.expected.hidden.values().any(|w| *w == "revoked"));
        assert!(scenario.expected.hidden.values().any(|w| *w == "replaced"));
        assert!(!scenario.expected.unstorable.is_empty());
        assert!(
            scenario
                .expected
                .public
                .keys()
                .all(|k| !scenario.expected.hidden.contains_key(k))
        );
    }
}
