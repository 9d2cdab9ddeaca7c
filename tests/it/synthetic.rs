//! PDFs built in the test itself, for shapes no office suite writes on request: legacy
//! TCVN3/VNI fonts, encryption, zero pages, 500 pages, image-only scans.

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};

/// One line of text: font resource name, size, x, y, raw bytes as the font encodes them.
pub struct Run<'a> {
    pub font: &'a str,
    pub size: f32,
    pub x: f32,
    pub y: f32,
    pub bytes: Vec<u8>,
}

/// Latin-1 bytes of `text`: how a legacy-font document's bytes look when read as Latin-1.
pub fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 character"))
        .collect()
}

/// A font resource: name in the page's /Font dictionary and its /BaseFont.
pub struct FontSpec<'a> {
    pub resource: &'a str,
    pub base_font: &'a str,
}

fn page_content(runs: &[Run]) -> Vec<u8> {
    let mut operations = Vec::new();
    for run in runs {
        operations.extend([
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec![run.font.into(), run.size.into()]),
            Operation::new("Td", vec![run.x.into(), run.y.into()]),
            Operation::new("Tj", vec![Object::string_literal(run.bytes.clone())]),
            Operation::new("ET", vec![]),
        ]);
    }
    Content { operations }.encode().unwrap()
}

/// A PDF of A4 pages, each drawn from its runs, with unembedded WinAnsi fonts (how a
/// Word document typed in `.VnTime` is written when the font is not embedded).
pub fn pdf(fonts: &[FontSpec], pages: &[Vec<Run>]) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut font_dict = lopdf::Dictionary::new();
    for spec in fonts {
        let id = doc.add_object(dictionary! {
            "Type" => "Font",
            "Subtype" => "TrueType",
            "BaseFont" => Object::Name(spec.base_font.as_bytes().to_vec()),
            "Encoding" => "WinAnsiEncoding",
        });
        font_dict.set(spec.resource.as_bytes().to_vec(), id);
    }
    let resources_id = doc.add_object(dictionary! { "Font" => font_dict });
    let mut kids = Vec::new();
    for runs in pages {
        let content_id = doc.add_object(Stream::new(dictionary! {}, page_content(runs)));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
        });
        kids.push(Object::from(page_id));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A one-page PDF whose only content is an image (a scan without OCR).
pub fn image_only_pdf() -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let image_id = doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 2, "Height" => 2,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
        },
        vec![0, 255, 255, 0],
    ));
    let content = Content {
        operations: vec![
            Operation::new("q", vec![]),
            Operation::new(
                "cm",
                vec![
                    595.into(),
                    0.into(),
                    0.into(),
                    842.into(),
                    0.into(),
                    0.into(),
                ],
            ),
            Operation::new("Do", vec!["Im0".into()]),
            Operation::new("Q", vec![]),
        ],
    };
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
        "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A PDF with an empty page tree.
pub fn zero_page_pdf() -> Vec<u8> {
    pdf(&[], &[])
}

/// A PDF protected by the standard security handler with a user password we do not know.
pub fn encrypted_pdf() -> Vec<u8> {
    let mut doc = lopdf::Document::load_mem(&pdf(
        &[FontSpec {
            resource: "F1",
            base_font: "Times-Roman",
        }],
        &[vec![Run {
            font: "F1",
            size: 12.0,
            x: 72.0,
            y: 700.0,
            bytes: b"secret".to_vec(),
        }]],
    ))
    .unwrap();
    let encrypt_id = doc.add_object(dictionary! {
        "Filter" => "Standard",
        "V" => 1,
        "R" => 2,
        "O" => Object::string_literal(vec![0x11u8; 32]),
        "U" => Object::string_literal(vec![0x22u8; 32]),
        "P" => -44,
    });
    doc.trailer.set("Encrypt", encrypt_id);
    doc.trailer.set(
        "ID",
        vec![
            Object::string_literal(vec![1u8; 16]),
            Object::string_literal(vec![1u8; 16]),
        ],
    );
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}
