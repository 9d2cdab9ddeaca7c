//! Packages as real producers lay them out: the VNPT shape (base64 in a prefixed
//! `edXML:ContentTransferEncoded`, unprefixed siblings, wrapped lines), a default
//! namespace, no namespace, raw files, several attachments, ZIPs of several entries,
//! broken base64, and the urgency code.

use base64::Engine;
use edxml::*;

fn b64_wrapped(bytes: &[u8]) -> String {
    let text = base64::engine::general_purpose::STANDARD.encode(bytes);
    text.as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n")
}

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj <</Type /Sig /ByteRange [0 1 2 3]>> endobj\n%%EOF\n";
const OLE_DOC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 word 97 draft";

const HEADER: &str = "<edXML:MessageHeader><edXML:Subject>Về việc tổ chức Tết</edXML:Subject>\
<edXML:Code><edXML:CodeNumber>12</edXML:CodeNumber><edXML:CodeNotation>UBND-VP</edXML:CodeNotation></edXML:Code>\
<edXML:OtherInfo><edXML:Priority>2</edXML:Priority></edXML:OtherInfo></edXML:MessageHeader>";

/// What the VNPT producer writes: the payload element prefixed, its siblings not, in
/// their own order, the base64 wrapped in CRLF lines.
fn vnpt(attachments: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<edXML:edXML xmlns:edXML=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">\
<edXML:edXMLEnvelope><edXML:edXMLHeader>",
    );
    xml.push_str(HEADER);
    xml.push_str("</edXML:edXMLHeader><edXML:edXMLBody><edXML:edXMLManifest>");
    for (i, (name, _, _)) in attachments.iter().enumerate() {
        xml.push_str(&format!(
            "<edXML:Reference><edXML:ContentId>cid:{i}</edXML:ContentId><edXML:AttachmentName>{name}</edXML:AttachmentName></edXML:Reference>"
        ));
    }
    xml.push_str(
        "</edXML:edXMLManifest></edXML:edXMLBody></edXML:edXMLEnvelope><edXML:AttachmentEncoded>",
    );
    for (i, (name, content_type, payload)) in attachments.iter().enumerate() {
        xml.push_str(&format!(
            "<edXML:Attachment><AttachmentName>{name}</AttachmentName><ContentType>{content_type}</ContentType>\
<edXML:ContentTransferEncoded>\r\n{payload}\r\n</edXML:ContentTransferEncoded><ContentId>{i}</ContentId></edXML:Attachment>"
        ));
    }
    xml.push_str("</edXML:AttachmentEncoded></edXML:edXML>\r\n");
    xml.into_bytes()
}

fn files(package: &Package) -> Vec<Result<Vec<DecodedFile>, EdxmlError>> {
    package
        .attachments
        .iter()
        .map(|a| decode_files(a, &Limits::default()))
        .collect()
}

#[test]
fn vnpt_shape_zip_with_one_entry() {
    let zip = zip_files(&[("3f2a9c1e-uuid.pdf", PDF)]).unwrap();
    let package = parse(&vnpt(&[(
        "Cong van 12.zip",
        "application/zip",
        &b64_wrapped(&zip),
    )]))
    .unwrap();
    assert_eq!(package.namespace, NAMESPACE);
    assert_eq!(
        package.header.subject.as_deref(),
        Some("Về việc tổ chức Tết")
    );
    assert_eq!(
        package.header.other_info.urgency(),
        Some(Priority::VeryUrgent)
    );
    let a = package
        .attachment_for(&package.manifest[0])
        .expect("matched");
    assert_eq!(a.payload, zip);
    let decoded = decode_files(a, &Limits::default()).unwrap();
    assert_eq!(decoded.len(), 1);
    assert_eq!(decoded[0].bytes, PDF);
    assert_eq!(decoded[0].media_type, "application/pdf");
    // The real name is AttachmentName's, with the entry's extension.
    assert_eq!(decoded[0].name.as_deref(), Some("Cong van 12.pdf"));
    assert_eq!(decoded[0].entry.as_deref(), Some("3f2a9c1e-uuid.pdf"));
}

#[test]
fn unprefixed_and_namespaceless_packages_carry_their_files() {
    let payload = base64::engine::general_purpose::STANDARD.encode(PDF);
    // The standard's namespace as the default one; the payload in `ContentTransferEncoded`.
    let unprefixed = format!(
        "<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\"><edXMLEnvelope><edXMLHeader><MessageHeader>\
<Subject>Báo cáo</Subject><OtherInfo><Priority>3</Priority></OtherInfo></MessageHeader></edXMLHeader></edXMLEnvelope>\
<AttachmentEncoded><Attachment><ContentId>a</ContentId><AttachmentName>bc.pdf</AttachmentName>\
<ContentTransferEncoded>{payload}</ContentTransferEncoded></Attachment></AttachmentEncoded></edXML>"
    );
    // No namespace at all; the payload in `Value`.
    let bare = format!(
        "<edXML><edXMLEnvelope><edXMLHeader><MessageHeader><Subject>Báo cáo</Subject>\
<OtherInfo><Priority>0</Priority></OtherInfo></MessageHeader></edXMLHeader></edXMLEnvelope>\
<AttachmentEncoded><Attachment><AttachmentName>bc.pdf</AttachmentName><Value>{payload}</Value></Attachment></AttachmentEncoded></edXML>"
    );
    for (xml, namespace, urgency) in [
        (unprefixed, NAMESPACE, Some(Priority::Immediate)),
        (bare, "", Some(Priority::Normal)),
    ] {
        let package = parse(xml.as_bytes()).unwrap();
        assert_eq!(package.namespace, namespace);
        assert_eq!(package.header.subject.as_deref(), Some("Báo cáo"));
        assert_eq!(package.header.other_info.urgency(), urgency);
        let decoded = decode_files(&package.attachments[0], &Limits::default()).unwrap();
        assert_eq!(decoded[0].bytes, PDF, "raw PDF, not zipped");
        assert_eq!(decoded[0].media_type, "application/pdf");
        assert_eq!(decoded[0].entry, None);
    }
}

#[test]
fn several_attachments_and_zips_of_several_entries() {
    let docx = zip_files(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", b"<w:document/>"),
    ])
    .unwrap();
    let bundle = zip_files(&[
        ("phu-luc-1.pdf", b"%PDF-1.4 appendix one"),
        ("bang-tong-hop.xlsx", b"not really"),
        ("__MACOSX/._phu-luc-1.pdf", b"junk"),
    ])
    .unwrap();
    let package = parse(&vnpt(&[
        ("QD 116.pdf", "application/pdf", &b64_wrapped(PDF)),
        ("Du thao.doc", "application/msword", &b64_wrapped(OLE_DOC)),
        (
            "Ban word.docx",
            "application/octet-stream",
            &b64_wrapped(&docx),
        ),
        ("Phu luc.zip", "application/zip", &b64_wrapped(&bundle)),
    ]))
    .unwrap();
    assert_eq!(package.attachments.len(), 4);
    let all: Vec<Vec<DecodedFile>> = files(&package).into_iter().map(Result::unwrap).collect();
    let shown: Vec<(Option<&str>, &str)> = all
        .iter()
        .flatten()
        .map(|f| (f.name.as_deref(), f.media_type))
        .collect();
    assert_eq!(
        shown,
        [
            (Some("QD 116.pdf"), "application/pdf"),
            (Some("Du thao.doc"), "application/msword"),
            (
                Some("Ban word.docx"),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            ),
            (Some("phu-luc-1.pdf"), "application/pdf"),
            (
                Some("bang-tong-hop.xlsx"),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            ),
        ]
    );
    // The .docx is a file, not a wrapper to open.
    assert_eq!(all[2][0].bytes, docx);
}

#[test]
fn broken_base64_is_an_error_naming_the_attachment_and_the_rest_is_read() {
    let package = parse(&vnpt(&[
        ("QD 116.pdf", "application/pdf", &b64_wrapped(PDF)),
        ("Phu luc.pdf", "application/pdf", "JVBERi0x!!!broken"),
    ]))
    .unwrap();
    assert_eq!(
        package.header.subject.as_deref(),
        Some("Về việc tổ chức Tết")
    );
    let results = files(&package);
    assert_eq!(results[0].as_ref().unwrap()[0].bytes, PDF);
    let err = results[1].as_ref().unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, EdxmlError::Attachment { name, .. } if name == "Phu luc.pdf"),
        "{message}"
    );
    assert!(message.contains("not base64"), "{message}");
    // A base64 text cut one character into a quantum is an error too, not a short file
    // (a missing padding is not).
    let package = parse(&vnpt(&[("x.pdf", "application/pdf", "JVBERi0xL")])).unwrap();
    assert!(decode_files(&package.attachments[0], &Limits::default()).is_err());
}

#[test]
fn the_preferred_payload_element_wins_and_empty_ones_are_no_content() {
    let good = base64::engine::general_purpose::STANDARD.encode(PDF);
    let xml = format!(
        "<edXML><edXMLEnvelope/><AttachmentEncoded>\
<Attachment><AttachmentName>a.pdf</AttachmentName><Value>SGVsbG8=</Value><ContentTransferEncoded>{good}</ContentTransferEncoded></Attachment>\
<Attachment><AttachmentName>b.pdf</AttachmentName><ContentTransferEncoded>  </ContentTransferEncoded></Attachment>\
</AttachmentEncoded></edXML>"
    );
    let package = parse(xml.as_bytes()).unwrap();
    assert_eq!(package.attachments[0].payload, PDF);
    let err = decode_files(&package.attachments[1], &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("\"b.pdf\": no content"), "{err}");
}

#[test]
fn every_written_shape_reads_back() {
    let package = Package {
        namespace: NAMESPACE.into(),
        header: MessageHeader {
            subject: Some("Kế hoạch & dự toán".into()),
            ..MessageHeader::default()
        },
        attachments: vec![
            encode_attachment("cid:1", "kh.pdf", "application/pdf", PDF, true).unwrap(),
            encode_attachment("cid:2", "du-thao.doc", "application/msword", OLE_DOC, false)
                .unwrap(),
        ],
        ..Package::default()
    };
    for shape in Shape::ALL {
        let xml = write_document_as(&package, shape);
        if shape == Shape::Vnpt {
            assert!(xml.contains("<edXML:ContentTransferEncoded>"), "{xml}");
            assert!(xml.contains("<AttachmentName>kh.pdf</AttachmentName>"));
        }
        let back = parse(xml.as_bytes()).unwrap();
        assert_eq!(back.header.subject, package.header.subject, "{shape:?}");
        let decoded: Vec<DecodedFile> = files(&back).into_iter().flat_map(Result::unwrap).collect();
        assert_eq!(decoded[0].bytes, PDF, "{shape:?}");
        assert_eq!(decoded[1].bytes, OLE_DOC, "{shape:?}");
        assert_eq!(decoded[1].media_type, "application/msword");
    }
}

#[test]
fn priority_codes_and_words() {
    for (raw, expected) in [
        ("0", Some(Priority::Normal)),
        ("1", Some(Priority::Urgent)),
        ("2", Some(Priority::VeryUrgent)),
        ("3", Some(Priority::Immediate)),
        ("4", Some(Priority::ImmediateScheduled)),
        (" 01 ", Some(Priority::Urgent)),
        ("Khẩn", Some(Priority::Urgent)),
        ("THƯỢNG KHẨN", Some(Priority::VeryUrgent)),
        ("Hỏa tốc", Some(Priority::Immediate)),
        ("Hoả tốc hẹn giờ", Some(Priority::ImmediateScheduled)),
        ("Mật", None),
        ("7", None),
        ("", None),
    ] {
        assert_eq!(Priority::parse(raw), expected, "{raw:?}");
    }
    assert_eq!(Priority::Immediate.marking(), Some("HỎA TỐC"));
    assert_eq!(Priority::Normal.marking(), None);
}

/// An `AttachmentName` whose extension is padded with a wide space still names the ZIP:
/// the real name is cut at its last dot, never inside a character.
#[test]
fn a_zip_name_padded_with_wide_spaces_does_not_split_a_character() {
    let zip = zip_files(&[("3f2a9c1e-uuid.pdf", PDF)]).unwrap();
    for name in ["Công văn.\u{3000}zip", "x.\u{A0}zip", "Tờ trình. zip"] {
        let package = parse(&vnpt(&[(name, "application/zip", &b64_wrapped(&zip))])).unwrap();
        let decoded = decode_files(&package.attachments[0], &Limits::default()).unwrap();
        assert_eq!(decoded[0].bytes, PDF, "{name:?}");
        let shown = decoded[0].name.as_deref().unwrap();
        assert!(shown.ends_with(".pdf"), "{name:?} → {shown:?}");
    }
}
