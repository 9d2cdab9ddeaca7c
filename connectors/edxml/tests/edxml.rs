//! edXML reading on real-shaped packages, attachment decoding under limits, writing, and
//! the round trip parse(write(x)) == x as a property.

use std::io::Write;

use base64::Engine;
use edxml::*;
use proptest::prelude::*;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn zip_of(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut writer = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        for (name, bytes) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap();
    }
    cursor.into_inner()
}

/// The shape hubs deliver: BOM, CRLF, the legacy namespace on a second prefix, elements
/// out of the standard's order, an unknown element, an XML signature, a ZIP attachment
/// whose ContentId lacks the `cid:` the manifest uses, and an impossible date.
fn real_shaped(zip_b64: &str) -> Vec<u8> {
    let xml = format!(
        "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
<edXML:edXML xmlns:edXML=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">\r\n\
<edXML:edXMLEnvelope><edXML:edXMLHeader><edXML:MessageHeader>\r\n\
  <edXML:Subject>V/v kiện toàn Ban biên tập Trang thông tin điện tử &amp; cổng</edXML:Subject>\r\n\
  <edXML:From><edXML:OrganName>UBND xã Quốc Tuấn</edXML:OrganName><edXML:OrganId>000.46.24.H44</edXML:OrganId></edXML:From>\r\n\
  <edXML:To><edXML:OrganId>000.00.24.H44</edXML:OrganId><edXML:OrganName>UBND huyện Nam Sách</edXML:OrganName></edXML:To>\r\n\
  <edXML:To><edXML:OrganId>000.47.24.H44</edXML:OrganId></edXML:To>\r\n\
  <edXML:DocumentId>000.46.24.H44,2021/09/24,116/QĐ-UBND</edXML:DocumentId>\r\n\
  <edXML:Code><edXML:CodeNotation>QĐ-UBND</edXML:CodeNotation><edXML:CodeNumber>116</edXML:CodeNumber></edXML:Code>\r\n\
  <edXML:PromulgationInfo><edXML:Place>Quốc Tuấn</edXML:Place><edXML:PromulgationDate>2021/09/24</edXML:PromulgationDate></edXML:PromulgationInfo>\r\n\
  <edXML:DocumentType><edXML:Type>1</edXML:Type><edXML:TypeName>Quyết định</edXML:TypeName></edXML:DocumentType>\r\n\
  <edXML:SignerInfo><edXML:Competence>TM. Ủy ban nhân dân</edXML:Competence><edXML:Position>Chủ tịch</edXML:Position><edXML:FullName>Nguyễn Văn Hòa</edXML:FullName></edXML:SignerInfo>\r\n\
  <edXML:DueDate>2014/02/30</edXML:DueDate>\r\n\
  <edXML:VendorExtension><edXML:Anything>ignored</edXML:Anything></edXML:VendorExtension>\r\n\
  <edXML:ToPlaces><edXML:Place>UBND huyện</edXML:Place><edXML:Place>Lưu VT</edXML:Place></edXML:ToPlaces>\r\n\
  <edXML:OtherInfo><edXML:Priority>0</edXML:Priority><edXML:PageAmount>2</edXML:PageAmount><edXML:Appendixes><edXML:Appendix>Phụ lục I</edXML:Appendix></edXML:Appendixes></edXML:OtherInfo>\r\n\
</edXML:MessageHeader>\r\n\
<edXML:TraceHeaderList><edXML:TraceHeader><edXML:OrganId>000.46.24.H44</edXML:OrganId><edXML:Timestamp>2021/09/24 10:15:00</edXML:Timestamp></edXML:TraceHeader>\r\n\
  <edXML:Bussiness><edXML:BussinessDocType>3</edXML:BussinessDocType><edXML:BussinessDocReason>Thay thế văn bản ban hành sai</edXML:BussinessDocReason>\r\n\
  <edXML:ReplacementInfoList><edXML:ReplacementInfo><edXML:DocumentId>000.46.24.H44,2021/09/20,110/QĐ-UBND</edXML:DocumentId><edXML:OrganIdList><edXML:OrganId>000.00.24.H44</edXML:OrganId></edXML:OrganIdList></edXML:ReplacementInfo></edXML:ReplacementInfoList>\r\n\
  </edXML:Bussiness></edXML:TraceHeaderList>\r\n\
<ds:Signature><ds:SignedInfo>…</ds:SignedInfo><edXML:Subject>not the subject</edXML:Subject></ds:Signature>\r\n\
</edXML:edXMLHeader>\r\n\
<edXML:edXMLBody><edXML:edXMLManifest><edXML:Reference><edXML:ContentId>cid:qd116</edXML:ContentId><edXML:AttachmentName>QD116.pdf</edXML:AttachmentName></edXML:Reference></edXML:edXMLManifest></edXML:edXMLBody>\r\n\
</edXML:edXMLEnvelope>\r\n\
<edXML:AttachmentEncoded><edXML:Attachment><edXML:ContentType>application/zip</edXML:ContentType><edXML:ContentId>qd116</edXML:ContentId><edXML:AttachmentName>QD116.zip</edXML:AttachmentName>\r\n\
<edXML:Value>\r\n{zip_b64}\r\n</edXML:Value></edXML:Attachment></edXML:AttachmentEncoded>\r\n\
</edXML:edXML>\r\n"
    );
    xml.into_bytes()
}

#[test]
fn reads_a_real_shaped_package() {
    let pdf = b"%PDF-1.7\n signed decision \n%%EOF\n";
    let zip = zip_of(&[("QD116.pdf", pdf)], zip::CompressionMethod::Deflated);
    let package = parse(&real_shaped(&b64(&zip))).expect("parses");
    let h = &package.header;
    assert_eq!(package.namespace, NAMESPACE);
    assert_eq!(
        h.subject.as_deref(),
        Some("V/v kiện toàn Ban biên tập Trang thông tin điện tử & cổng")
    );
    assert_eq!(h.number_symbol().as_deref(), Some("116/QĐ-UBND"));
    assert_eq!(
        h.from.as_ref().unwrap().organ_id.as_deref(),
        Some("000.46.24.H44")
    );
    assert_eq!(h.to.len(), 2);
    assert_eq!(h.to[1].organ_id.as_deref(), Some("000.47.24.H44"));
    assert_eq!(h.place.as_deref(), Some("Quốc Tuấn"));
    let date = h.promulgation_date.as_ref().unwrap().date();
    assert_eq!(date, chrono::NaiveDate::from_ymd_opt(2021, 9, 24));
    assert_eq!(h.type_name.as_deref(), Some("Quyết định"));
    assert_eq!(h.signer_full_name.as_deref(), Some("Nguyễn Văn Hòa"));
    assert_eq!(h.to_places, ["UBND huyện", "Lưu VT"]);
    assert_eq!(h.other_info.appendixes, ["Phụ lục I"]);
    // The impossible date is kept as written and reported.
    assert_eq!(h.due_date.as_ref().unwrap().raw, "2014/02/30");
    assert!(h.due_date.as_ref().unwrap().is_impossible());
    assert!(
        package.warnings.iter().any(|w| w.contains("2014/02/30")),
        "{:?}",
        package.warnings
    );
    // Lifecycle: a replacement, with its target.
    assert_eq!(package.business_kind(), BusinessKind::Replace);
    let business = package.trace.as_ref().unwrap().business.as_ref().unwrap();
    assert_eq!(
        business.replacements[0].document_id.as_deref(),
        Some("000.46.24.H44,2021/09/20,110/QĐ-UBND")
    );
    let trace = &package.trace.as_ref().unwrap().traces[0];
    assert!(trace.timestamp.as_ref().unwrap().timestamp().is_some());
    // The signature's own elements are not taken for header fields.
    assert!(package.has_signature);
    // Manifest reference matched to the attachment despite the missing "cid:".
    let attachment = package
        .attachment_for(&package.manifest[0])
        .expect("matched");
    let (bytes, entry) = decode_attachment(attachment, &Limits::default()).unwrap();
    assert_eq!(bytes, pdf);
    assert_eq!(entry.as_deref(), Some("QD116.pdf"));
}

#[test]
fn raw_attachments_and_stray_bytes_are_tolerated() {
    let pdf = b"%PDF-1.4 raw, not zipped";
    let mut xml = b"garbage-from-gateway\n".to_vec();
    xml.extend(format!(
        "<edXML xmlns=\"http://www.go.vn/eDoc\"><edXMLEnvelope><edXMLHeader><MessageHeader>\
         <Subject>Báo cáo</Subject></MessageHeader></edXMLHeader></edXMLEnvelope>\
         <AttachmentEncoded><Attachment><ContentId>&lt;cid:a1&gt;</ContentId><ContentType>application/pdf</ContentType>\
         <Value>{}</Value></Attachment></AttachmentEncoded></edXML>",
        b64(pdf)
    ).bytes());
    let package = parse(&xml).unwrap();
    assert_eq!(package.namespace, LEGACY_NAMESPACE);
    assert_eq!(package.header.subject.as_deref(), Some("Báo cáo"));
    assert!(package.warnings.iter().any(|w| w.contains("stray bytes")));
    assert_eq!(
        package.attachments[0].bare_content_id().as_deref(),
        Some("a1")
    );
    let (bytes, entry) = decode_attachment(&package.attachments[0], &Limits::default()).unwrap();
    assert_eq!((bytes.as_slice(), entry), (&pdf[..], None));
}

#[test]
fn bad_packages_get_clear_errors() {
    assert!(matches!(parse(b"hello"), Err(EdxmlError::NotEdxml(_))));
    assert!(matches!(
        parse(b"<html><body/></html>"),
        Err(EdxmlError::NotEdxml(_))
    ));
    let truncated = real_shaped("AAAA");
    let cut = &truncated[..truncated.len() / 2];
    assert!(
        matches!(parse(cut), Err(EdxmlError::Xml { .. })),
        "{:?}",
        parse(cut)
    );
    let mismatched = b"<edXML xmlns=\"http://www.go.vn/eDoc\"><a></b></edXML>";
    assert!(matches!(parse(mismatched), Err(EdxmlError::Xml { .. })));
}

#[test]
fn attachment_limits_hold() {
    let attachment = |bytes: &[u8]| Attachment {
        attachment_name: Some("x.zip".into()),
        content_type: Some("application/zip".into()),
        payload: bytes.to_vec(),
        ..Attachment::default()
    };
    // Two files where one is expected.
    let two = zip_of(
        &[("a.pdf", b"%PDF a"), ("b.pdf", b"%PDF b")],
        zip::CompressionMethod::Stored,
    );
    let err = decode_attachment(&attachment(&two), &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("exactly one"), "{err}");
    // A bomb: 20 MB of zeros deflated to a few KB.
    let zeros = vec![0u8; 20 * 1024 * 1024];
    let bomb = zip_of(&[("bomb.pdf", &zeros)], zip::CompressionMethod::Deflated);
    let err = decode_attachment(&attachment(&bomb), &Limits::default()).unwrap_err();
    assert!(matches!(err, EdxmlError::Limit(_)), "{err}");
    // Too many entries.
    let names: Vec<String> = (0..20).map(|i| format!("f{i}.txt")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let many = zip_of(&entries, zip::CompressionMethod::Stored);
    assert!(matches!(
        decode_attachment(&attachment(&many), &Limits::default()),
        Err(EdxmlError::Limit(_))
    ));
    // Not base64 (as the reader records it).
    let mut broken = attachment(b"");
    broken.payload_error = Some("character '!' at position 1 is not base64".into());
    assert!(decode_attachment(&broken, &Limits::default()).is_err());
}

#[test]
fn status_packages_round_trip_with_the_edxml_prefix() {
    let header = MessageHeader {
        from: Some(Organization {
            organ_id: Some("000.46.24.H44".into()),
            organ_name: Some("UBND xã Quốc Tuấn".into()),
            ..Organization::default()
        }),
        response_for: vec![ResponseFor {
            organ_id: Some("000.00.24.H44".into()),
            code: Some("116/QĐ-UBND".into()),
            promulgation_date: Some(LenientDate::new("2021/09/24")),
            document_id: Some("000.00.24.H44,2021/09/24,116/QĐ-UBND".into()),
        }],
        status_code: Some("01".into()),
        description: Some("Đã nhận văn bản".into()),
        timestamp: Some(LenientDate::new("2021/09/24 11:00:00")),
        staff_info: Some(StaffInfo {
            department: Some("Văn phòng".into()),
            staff: Some("Trần Thị Lan".into()),
            ..StaffInfo::default()
        }),
        ..MessageHeader::default()
    };
    let xml = write_status(&header);
    assert!(xml.contains("<edXML:StatusCode>01</edXML:StatusCode>"));
    assert!(xml.contains(&format!("xmlns:edXML=\"{NAMESPACE}\"")));
    assert!(
        !xml.contains("<MessageHeader"),
        "every element carries the edXML: prefix"
    );
    let back = parse(xml.as_bytes()).unwrap();
    assert!(back.is_status());
    assert_eq!(back.header, header);
}

fn text() -> impl Strategy<Value = String> {
    // Vietnamese letters, digits, punctuation and XML metacharacters; no outer spaces
    // (the reader trims).
    "[A-Za-zÀ-ỹĐđ0-9<>&\"'/.,()-]([A-Za-zÀ-ỹĐđ0-9 <>&\"'/.,()-]{0,30}[A-Za-zÀ-ỹĐđ0-9<>&\"'/.,()-])?"
}

fn opt() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text())
}

fn organization() -> impl Strategy<Value = Organization> {
    (opt(), opt(), opt(), opt(), opt()).prop_map(
        |(organ_id, organ_name, organ_add, email, website)| Organization {
            organ_id,
            organ_name,
            organ_add,
            email,
            website,
            ..Organization::default()
        },
    )
}

fn package() -> impl Strategy<Value = Package> {
    let header = (
        proptest::option::of(organization()),
        proptest::collection::vec(organization(), 0..3),
        (opt(), opt(), opt(), opt(), opt()),
        (opt(), opt(), opt(), proptest::collection::vec(text(), 0..3)),
    )
        .prop_map(
            |(
                from,
                to,
                (document_id, code_number, code_notation, place, subject),
                (signer, position, date, to_places),
            )| MessageHeader {
                from,
                to,
                document_id,
                code_number,
                code_notation,
                place,
                subject,
                signer_full_name: signer,
                signer_position: position,
                promulgation_date: date.map(LenientDate::new),
                to_places,
                ..MessageHeader::default()
            },
        );
    let business = (
        0u8..4,
        opt(),
        proptest::collection::vec((opt(), proptest::collection::vec(text(), 0..2)), 0..2),
    )
        .prop_map(|(kind, reason, replacements)| Business {
            kind: BusinessKind::from_code(&kind.to_string()),
            reason,
            replacements: replacements
                .into_iter()
                .map(|(document_id, organ_ids)| Replacement {
                    document_id,
                    organ_ids,
                })
                .collect(),
        });
    let attachments = proptest::collection::vec(
        (
            text(),
            opt(),
            proptest::collection::vec(any::<u8>(), 1..200),
        )
            .prop_map(|(id, name, payload)| Attachment {
                content_id: Some(format!("cid:{id}")),
                attachment_name: name,
                content_type: Some("application/pdf".into()),
                description: None,
                payload,
                payload_error: None,
            }),
        0..3,
    );
    (header, proptest::option::of(business), attachments).prop_map(
        |(header, business, attachments)| {
            let manifest = attachments
                .iter()
                .map(|a| Reference {
                    content_id: a.content_id.clone(),
                    attachment_name: a.attachment_name.clone(),
                    description: None,
                })
                .collect();
            Package {
                namespace: NAMESPACE.into(),
                header,
                trace: business.map(|b| TraceHeaderList {
                    traces: vec![],
                    business: Some(b),
                }),
                manifest,
                attachments,
                has_signature: false,
                warnings: vec![],
            }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn parse_of_write_is_identity(p in package(), shape in proptest::sample::select(Shape::ALL.to_vec())) {
        let xml = write_document_as(&p, shape);
        let mut back = parse(xml.as_bytes()).expect("our own output parses");
        // Dates are free text here: their validity warnings are expected.
        back.warnings.retain(|w| !w.contains("not a valid date"));
        let mut p = p;
        if shape == Shape::NoNamespace {
            p.namespace = String::new();
        }
        prop_assert_eq!(back, p);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse(&bytes);
    }
}

#[test]
fn encoded_attachments_decode_to_the_same_bytes() {
    let file = b"%PDF-1.7 the signed original".repeat(50);
    for zipped in [true, false] {
        let a =
            edxml::encode_attachment("cid:1", "quyet-dinh.pdf", "application/pdf", &file, zipped)
                .unwrap();
        assert_eq!(
            a.content_type.as_deref(),
            Some(if zipped {
                "application/zip"
            } else {
                "application/pdf"
            })
        );
        let (bytes, entry) = edxml::decode_attachment(&a, &edxml::Limits::default()).unwrap();
        assert_eq!(bytes, file);
        assert_eq!(entry.as_deref(), zipped.then_some("quyet-dinh.pdf"));
    }
}
