//! Writing packages the way producers send them. The default, [`Shape::Vnpt`], is what
//! real hubs require and the VNPT producer writes: the `edXML:` prefix bound to the
//! QCVN 102 namespace on every element but an attachment's fields, which are unprefixed,
//! and the base64 text in `edXML:ContentTransferEncoded`, wrapped in 76-character lines.
//! Other shapes seen in the field are written for tests and demos. UTF-8, fields in the
//! standard's order.

use quick_xml::escape::escape;

use crate::NAMESPACE;
use crate::attachment::base64_text;
use crate::model::*;

/// How a producer lays a package out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// `edXML:` everywhere, attachment fields unprefixed, `edXML:ContentTransferEncoded`
    /// with CRLF-wrapped base64.
    Vnpt,
    /// `edXML:` on every element, the base64 text in `edXML:Value` on one line.
    Prefixed,
    /// The QCVN 102 namespace as the default namespace, no prefix at all.
    Unprefixed,
    /// No namespace at all; the base64 text in `Content`.
    NoNamespace,
}

impl Shape {
    pub const ALL: [Shape; 4] = [
        Shape::Vnpt,
        Shape::Prefixed,
        Shape::Unprefixed,
        Shape::NoNamespace,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Shape::Vnpt => "vnpt",
            Shape::Prefixed => "prefixed",
            Shape::Unprefixed => "unprefixed",
            Shape::NoNamespace => "no_namespace",
        }
    }
    fn prefix(self) -> &'static str {
        match self {
            Shape::Vnpt | Shape::Prefixed => "edXML:",
            Shape::Unprefixed | Shape::NoNamespace => "",
        }
    }
}

struct Out {
    xml: String,
    prefix: &'static str,
}

impl Out {
    fn open(&mut self, name: &str) {
        self.xml.push('<');
        self.xml.push_str(self.prefix);
        self.xml.push_str(name);
        self.xml.push('>');
    }
    fn close(&mut self, name: &str) {
        self.xml.push_str("</");
        self.xml.push_str(self.prefix);
        self.xml.push_str(name);
        self.xml.push('>');
    }
    fn bare_leaf(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.xml.push('<');
            self.xml.push_str(name);
            self.xml.push('>');
            self.xml.push_str(&escape(v));
            self.xml.push_str("</");
            self.xml.push_str(name);
            self.xml.push('>');
        }
    }
    fn leaf(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.open(name);
            self.xml.push_str(&escape(v));
            self.close(name);
        }
    }
    fn date(&mut self, name: &str, value: &Option<LenientDate>) {
        self.leaf(name, value.as_ref().map(|d| d.raw.as_str()));
    }
    fn organization(&mut self, name: &str, o: &Organization) {
        self.open(name);
        self.leaf("OrganId", o.organ_id.as_deref());
        self.leaf("OrganizationInCharge", o.organization_in_charge.as_deref());
        self.leaf("OrganName", o.organ_name.as_deref());
        self.leaf("OrganAdd", o.organ_add.as_deref());
        self.leaf("Email", o.email.as_deref());
        self.leaf("Telephone", o.telephone.as_deref());
        self.leaf("Fax", o.fax.as_deref());
        self.leaf("Website", o.website.as_deref());
        self.close(name);
    }
    fn response_for(&mut self, r: &ResponseFor) {
        self.open("ResponseFor");
        self.leaf("OrganId", r.organ_id.as_deref());
        self.leaf("Code", r.code.as_deref());
        self.date("PromulgationDate", &r.promulgation_date);
        self.leaf("DocumentId", r.document_id.as_deref());
        self.close("ResponseFor");
    }
    fn start_package(&mut self, shape: Shape) {
        self.xml
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        match shape {
            Shape::Vnpt | Shape::Prefixed => self
                .xml
                .push_str(&format!("<edXML:edXML xmlns:edXML=\"{NAMESPACE}\">")),
            Shape::Unprefixed => self.xml.push_str(&format!("<edXML xmlns=\"{NAMESPACE}\">")),
            Shape::NoNamespace => self.xml.push_str("<edXML>"),
        }
        self.open("edXMLEnvelope");
        self.open("edXMLHeader");
    }
    fn end_package(&mut self) {
        self.close("edXML");
        self.xml.push('\n');
    }
}

fn message_header(out: &mut Out, h: &MessageHeader) {
    out.open("MessageHeader");
    if let Some(from) = &h.from {
        out.organization("From", from);
    }
    for to in &h.to {
        out.organization("To", to);
    }
    out.leaf("DocumentId", h.document_id.as_deref());
    if h.code_number.is_some() || h.code_notation.is_some() {
        out.open("Code");
        out.leaf("CodeNumber", h.code_number.as_deref());
        out.leaf("CodeNotation", h.code_notation.as_deref());
        out.close("Code");
    }
    if h.place.is_some() || h.promulgation_date.is_some() {
        out.open("PromulgationInfo");
        out.leaf("Place", h.place.as_deref());
        out.date("PromulgationDate", &h.promulgation_date);
        out.close("PromulgationInfo");
    }
    if h.doc_type.is_some() || h.type_detail.is_some() || h.type_name.is_some() {
        out.open("DocumentType");
        out.leaf("Type", h.doc_type.as_deref());
        out.leaf("TypeDetail", h.type_detail.as_deref());
        out.leaf("TypeName", h.type_name.as_deref());
        out.close("DocumentType");
    }
    out.leaf("Subject", h.subject.as_deref());
    out.leaf("Content", h.content.as_deref());
    if h.signer_competence.is_some() || h.signer_position.is_some() || h.signer_full_name.is_some()
    {
        out.open("SignerInfo");
        out.leaf("Competence", h.signer_competence.as_deref());
        out.leaf("Position", h.signer_position.as_deref());
        out.leaf("FullName", h.signer_full_name.as_deref());
        out.close("SignerInfo");
    }
    out.date("DueDate", &h.due_date);
    if !h.to_places.is_empty() {
        out.open("ToPlaces");
        for place in &h.to_places {
            out.leaf("Place", Some(place));
        }
        out.close("ToPlaces");
    }
    let o = &h.other_info;
    if *o != OtherInfo::default() {
        out.open("OtherInfo");
        out.leaf("Priority", o.priority.as_deref());
        out.leaf("SphereOfPromulgation", o.sphere_of_promulgation.as_deref());
        out.leaf("TyperNotation", o.typer_notation.as_deref());
        out.leaf("PromulgationAmount", o.promulgation_amount.as_deref());
        out.leaf("PageAmount", o.page_amount.as_deref());
        out.leaf("Direction", o.direction.as_deref());
        if !o.appendixes.is_empty() {
            out.open("Appendixes");
            for a in &o.appendixes {
                out.leaf("Appendix", Some(a));
            }
            out.close("Appendixes");
        }
        out.close("OtherInfo");
    }
    for r in &h.response_for {
        out.response_for(r);
    }
    out.leaf("SteeringType", h.steering_type.as_deref());
    out.leaf("StatusCode", h.status_code.as_deref());
    out.leaf("Description", h.description.as_deref());
    out.date("Timestamp", &h.timestamp);
    if let Some(s) = &h.staff_info {
        out.open("StaffInfo");
        out.leaf("Department", s.department.as_deref());
        out.leaf("Staff", s.staff.as_deref());
        out.leaf("Email", s.email.as_deref());
        out.leaf("Mobile", s.mobile.as_deref());
        out.close("StaffInfo");
    }
    out.close("MessageHeader");
}

/// A document package in the VNPT shape: header, trace/business block, manifest and
/// attachments.
pub fn write_document(p: &Package) -> String {
    write_document_as(p, Shape::Vnpt)
}

/// A document package laid out as `shape`.
pub fn write_document_as(p: &Package, shape: Shape) -> String {
    let payload: usize = p
        .attachments
        .iter()
        .map(|a| a.payload.len() / 3 * 4 + 8)
        .sum();
    let mut out = Out {
        xml: String::with_capacity(4096 + payload + payload / 38),
        prefix: shape.prefix(),
    };
    out.start_package(shape);
    message_header(&mut out, &p.header);
    if let Some(trace) = &p.trace {
        out.open("TraceHeaderList");
        for t in &trace.traces {
            out.open("TraceHeader");
            out.leaf("OrganId", t.organ_id.as_deref());
            out.date("Timestamp", &t.timestamp);
            out.close("TraceHeader");
        }
        if let Some(b) = &trace.business {
            out.open("Bussiness");
            out.leaf("BussinessDocType", Some(b.kind.code()));
            out.leaf("BussinessDocReason", b.reason.as_deref());
            if !b.replacements.is_empty() {
                out.open("ReplacementInfoList");
                for r in &b.replacements {
                    out.open("ReplacementInfo");
                    out.leaf("DocumentId", r.document_id.as_deref());
                    out.open("OrganIdList");
                    for id in &r.organ_ids {
                        out.leaf("OrganId", Some(id));
                    }
                    out.close("OrganIdList");
                    out.close("ReplacementInfo");
                }
                out.close("ReplacementInfoList");
            }
            out.close("Bussiness");
        }
        out.close("TraceHeaderList");
    }
    out.close("edXMLHeader");
    out.open("edXMLBody");
    out.open("edXMLManifest");
    for r in &p.manifest {
        out.open("Reference");
        out.leaf("ContentId", r.content_id.as_deref());
        out.leaf("AttachmentName", r.attachment_name.as_deref());
        out.leaf("Description", r.description.as_deref());
        out.close("Reference");
    }
    out.close("edXMLManifest");
    out.close("edXMLBody");
    out.close("edXMLEnvelope");
    if !p.attachments.is_empty() {
        out.open("AttachmentEncoded");
        for a in &p.attachments {
            out.open("Attachment");
            let text = base64_text(&a.payload);
            match shape {
                Shape::Vnpt => {
                    // Siblings unprefixed (no namespace), in the producer's order.
                    out.bare_leaf("AttachmentName", a.attachment_name.as_deref());
                    out.bare_leaf("ContentType", a.content_type.as_deref());
                    out.bare_leaf("ContentId", a.content_id.as_deref());
                    out.bare_leaf("Description", a.description.as_deref());
                    out.open("ContentTransferEncoded");
                    for (i, line) in text.as_bytes().chunks(76).enumerate() {
                        if i > 0 {
                            out.xml.push_str("\r\n");
                        }
                        out.xml
                            .push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
                    }
                    out.close("ContentTransferEncoded");
                }
                _ => {
                    out.leaf("ContentId", a.content_id.as_deref());
                    out.leaf("AttachmentName", a.attachment_name.as_deref());
                    out.leaf("ContentType", a.content_type.as_deref());
                    out.leaf("Description", a.description.as_deref());
                    let element = if shape == Shape::NoNamespace {
                        "Content"
                    } else {
                        "Value"
                    };
                    out.leaf(element, Some(&text));
                }
            }
            out.close("Attachment");
        }
        out.close("AttachmentEncoded");
    }
    out.end_package();
    out.xml
}

/// A status package (`StatusCode` 01–16) answering `response_for`.
pub fn write_status(header: &MessageHeader) -> String {
    let mut out = Out {
        xml: String::with_capacity(1024),
        prefix: Shape::Vnpt.prefix(),
    };
    out.start_package(Shape::Vnpt);
    message_header(&mut out, header);
    out.close("edXMLHeader");
    out.open("edXMLBody");
    out.open("edXMLManifest");
    out.close("edXMLManifest");
    out.close("edXMLBody");
    out.close("edXMLEnvelope");
    out.end_package();
    out.xml
}
