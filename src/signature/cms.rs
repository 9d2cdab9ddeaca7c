//! CMS SignedData (RFC 5652) as PDF signatures carry it: decoded with the `cms` crate,
//! plus the raw bytes of what was actually signed (signed attributes, certificates' TBS
//! parts) read from the original encoding — re-encoding a decoded structure sorts its
//! SETs, which breaks signatures from producers that did not.

use chrono::{DateTime, Utc};
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode, Reader, SliceReader, Tagged};
use sha2::Digest;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;

const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const TIMESTAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlg {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlg {
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<DigestAlg> {
        Some(match oid.to_string().as_str() {
            "1.3.14.3.2.26" => DigestAlg::Sha1,
            "2.16.840.1.101.3.4.2.1" => DigestAlg::Sha256,
            "2.16.840.1.101.3.4.2.2" => DigestAlg::Sha384,
            "2.16.840.1.101.3.4.2.3" => DigestAlg::Sha512,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            DigestAlg::Sha1 => "SHA-1",
            DigestAlg::Sha256 => "SHA-256",
            DigestAlg::Sha384 => "SHA-384",
            DigestAlg::Sha512 => "SHA-512",
        }
    }
    /// SHA-1 collisions are practical: a SHA-1 signature proves less than it claims.
    pub fn weak(self) -> bool {
        self == DigestAlg::Sha1
    }
    pub fn hasher(self) -> Hasher {
        match self {
            DigestAlg::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            DigestAlg::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            DigestAlg::Sha384 => Hasher::Sha384(sha2::Sha384::new()),
            DigestAlg::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let mut h = self.hasher();
        h.update(data);
        h.finish()
    }
}

/// A running digest of any of the algorithms (cloneable, so that several signatures
/// sharing a prefix of the file hash it once).
#[derive(Clone)]
pub enum Hasher {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }
    pub fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

/// A certificate with the exact bytes it arrived as (its signature covers those).
#[derive(Clone, Debug)]
pub struct RawCertificate {
    pub cert: Certificate,
    pub der: Vec<u8>,
}

impl RawCertificate {
    pub fn from_der(der: &[u8]) -> Result<RawCertificate, String> {
        let cert =
            Certificate::from_der(der).map_err(|e| format!("certificate unreadable: {e}"))?;
        Ok(RawCertificate {
            cert,
            der: der.to_vec(),
        })
    }
    /// The `tbsCertificate` as encoded (the first element of the certificate SEQUENCE).
    pub fn tbs_der(&self) -> Option<&[u8]> {
        let (_, inner) = tlv(&self.der).ok()?;
        let (first, _) = tlv(inner).ok()?;
        Some(first)
    }
}

/// A parsed signature container: the signer's info, the bytes its signature covers, and
/// the certificates it carries.
pub struct Parsed {
    pub signed_data: SignedData,
    pub signer: SignerInfo,
    /// The signed attributes re-tagged as the SET they are signed as, from the original
    /// encoding.
    pub signed_attrs_der: Option<Vec<u8>>,
    pub certificates: Vec<RawCertificate>,
}

/// One TLV at the start of `bytes`: (whole TLV, contents). DER, and the BER indefinite
/// lengths some signers use for the outer structures (contents end at the end-of-contents
/// marker, found by walking the children).
fn tlv(bytes: &[u8]) -> Result<(&[u8], &[u8]), String> {
    tlv_depth(bytes, 0)
}

fn tlv_depth(bytes: &[u8], depth: usize) -> Result<(&[u8], &[u8]), String> {
    if depth > 64 {
        return Err("ASN.1 nested too deeply".into());
    }
    if bytes.len() < 2 {
        return Err("truncated DER".into());
    }
    let mut i = 1;
    if bytes[0] & 0x1f == 0x1f {
        // High tag numbers: base-128 continuation bytes.
        while i < bytes.len() && bytes[i] & 0x80 != 0 {
            i += 1;
        }
        i += 1;
    }
    let first = *bytes.get(i).ok_or("truncated DER")?;
    i += 1;
    if first == 0x80 {
        if bytes[0] & 0x20 == 0 {
            return Err("indefinite length on a primitive value".into());
        }
        let mut at = i;
        loop {
            let rest = &bytes[at..];
            if rest.len() >= 2 && rest[0] == 0 && rest[1] == 0 {
                return Ok((&bytes[..at + 2], &bytes[i..at]));
            }
            let (child, _) = tlv_depth(rest, depth + 1)?;
            at += child.len();
        }
    }
    let len = if first & 0x80 == 0 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n > 4 || i + n > bytes.len() {
            return Err("DER length too large".into());
        }
        let mut len = 0usize;
        for &b in &bytes[i..i + n] {
            len = len << 8 | b as usize;
        }
        i += n;
        len
    };
    let end = i.checked_add(len).ok_or("DER length overflow")?;
    if end > bytes.len() {
        return Err("truncated DER".into());
    }
    Ok((&bytes[..end], &bytes[i..end]))
}

/// The children TLVs of a constructed value's contents.
fn children(mut contents: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    while !contents.is_empty() {
        if contents.len() >= 2 && contents[0] == 0 && contents[1] == 0 {
            break;
        }
        let (whole, _) = tlv(contents)?;
        out.push(whole);
        contents = &contents[whole.len()..];
    }
    Ok(out)
}

/// What of a SignedData must be read in its original encoding: the first SignerInfo's
/// signed attributes (re-tagged as a SET) and the certificates.
struct RawParts {
    signed_attrs: Option<Vec<u8>>,
    certificates: Vec<Vec<u8>>,
}

/// [`RawParts`] of the original encoding of a ContentInfo(SignedData).
fn raw_parts(der: &[u8]) -> Result<RawParts, String> {
    let (_, content_info) = tlv(der)?;
    let parts = children(content_info)?;
    let explicit = parts.get(1).ok_or("ContentInfo has no content")?;
    let (_, explicit_contents) = tlv(explicit)?;
    let (_, signed_data) = tlv(explicit_contents)?;
    let fields = children(signed_data)?;
    let mut certificates = Vec::new();
    let mut signer_infos = None;
    for field in fields.iter().skip(3) {
        match field[0] {
            0xA0 => {
                let (_, set) = tlv(field)?;
                for cert in children(set)? {
                    // Only X.509 certificates (SEQUENCE); other choices are skipped.
                    if cert[0] == 0x30 {
                        certificates.push(cert.to_vec());
                    }
                }
            }
            0x31 => signer_infos = Some(*field),
            _ => {}
        }
    }
    let signer_infos = signer_infos.ok_or("SignedData has no signerInfos")?;
    let (_, infos) = tlv(signer_infos)?;
    let first = children(infos)?
        .into_iter()
        .next()
        .ok_or("SignedData has no SignerInfo")?;
    let (_, info) = tlv(first)?;
    let signed_attrs = children(info)?.into_iter().find(|f| f[0] == 0xA0).map(|f| {
        let mut set = f.to_vec();
        set[0] = 0x31;
        set
    });
    Ok(RawParts {
        signed_attrs,
        certificates,
    })
}

/// Decodes `/Contents` (DER, or BER as some signers write it, then zero padding).
pub fn parse(contents: &[u8]) -> Result<Parsed, String> {
    let decode = |rules: der::EncodingRules| -> Result<(ContentInfo, usize), String> {
        let mut reader = SliceReader::new_with_encoding_rules(contents, rules)
            .map_err(|e| format!("CMS unreadable: {e}"))?;
        let info = ContentInfo::decode(&mut reader)
            .map_err(|e| format!("CMS ContentInfo unreadable: {e}"))?;
        Ok((info, u32::from(reader.position()) as usize))
    };
    let (info, used, rules) = match decode(der::EncodingRules::Der) {
        Ok((info, used)) => (info, used, der::EncodingRules::Der),
        Err(der_error) => {
            let (info, used) = decode(der::EncodingRules::Ber).map_err(|_| der_error)?;
            (info, used, der::EncodingRules::Ber)
        }
    };
    if contents[used..].iter().any(|&b| b != 0) {
        return Err("bytes other than zero padding follow the CMS structure".into());
    }
    if info.content_type != SIGNED_DATA {
        return Err(format!(
            "CMS content is {} rather than SignedData",
            info.content_type
        ));
    }
    let signed_data: SignedData = info
        .content
        .decode_as_encoding(rules)
        .map_err(|e| format!("CMS SignedData unreadable: {e}"))?;
    let signer = signed_data
        .signer_infos
        .0
        .iter()
        .next()
        .cloned()
        .ok_or("SignedData has no SignerInfo")?;
    let raw = raw_parts(&contents[..used])?;
    let signed_attrs_der = raw.signed_attrs;
    let certificates = raw
        .certificates
        .iter()
        .filter_map(|der| RawCertificate::from_der(der).ok())
        .collect();
    Ok(Parsed {
        signed_data,
        signer,
        signed_attrs_der,
        certificates,
    })
}

impl Parsed {
    pub fn digest_alg(&self) -> Result<DigestAlg, String> {
        DigestAlg::from_oid(&self.signer.digest_alg.oid).ok_or_else(|| {
            format!(
                "digest algorithm {} is not supported",
                self.signer.digest_alg.oid
            )
        })
    }

    fn attribute(&self, oid: ObjectIdentifier) -> Option<&der::Any> {
        self.signer
            .signed_attrs
            .as_ref()?
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next())
    }

    /// The `messageDigest` signed attribute.
    pub fn message_digest(&self) -> Option<Vec<u8>> {
        self.attribute(MESSAGE_DIGEST)?
            .decode_as::<OctetString>()
            .ok()
            .map(|o| o.as_bytes().to_vec())
    }

    /// The `signingTime` signed attribute.
    pub fn signing_time(&self) -> Option<DateTime<Utc>> {
        let time = self
            .attribute(SIGNING_TIME)?
            .decode_as::<x509_cert::time::Time>()
            .ok()?;
        DateTime::<Utc>::from_timestamp(time.to_unix_duration().as_secs() as i64, 0)
    }

    /// Whether an RFC 3161 signature time-stamp token is attached (unsigned attribute).
    pub fn has_timestamp_token(&self) -> bool {
        self.signer
            .unsigned_attrs
            .as_ref()
            .is_some_and(|attrs| attrs.iter().any(|a| a.oid == TIMESTAMP_TOKEN))
    }

    /// The encapsulated content, when the signature is not detached (adbe.pkcs7.sha1).
    pub fn encapsulated(&self) -> Option<Vec<u8>> {
        self.signed_data
            .encap_content_info
            .econtent
            .as_ref()?
            .decode_as::<OctetString>()
            .ok()
            .map(|o| o.as_bytes().to_vec())
    }

    /// The signer's certificate, found by issuer + serial or by subject key identifier.
    pub fn signer_certificate(&self) -> Option<&RawCertificate> {
        self.certificates.iter().find(|c| match &self.signer.sid {
            SignerIdentifier::IssuerAndSerialNumber(isn) => {
                let tbs = c.cert.tbs_certificate();
                tbs.serial_number() == &isn.serial_number && tbs.issuer() == &isn.issuer
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => c
                .cert
                .tbs_certificate()
                .get_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
                .ok()
                .flatten()
                .is_some_and(|(_, own)| own == *ski),
        })
    }
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigFailure {
    Invalid(String),
    Unsupported(String),
}

/// Verifies `signature` over `message` with the key of `spki`, by `algorithm` (the
/// digest comes from the algorithm, or from `digest` for bare `rsaEncryption` and
/// `id-ecPublicKey`). Returns the algorithm's name.
pub fn verify_signature(
    spki: &SubjectPublicKeyInfoOwned,
    algorithm: &spki::AlgorithmIdentifierOwned,
    digest: DigestAlg,
    message: &[u8],
    signature: &[u8],
) -> Result<&'static str, SigFailure> {
    use rsa::pkcs1v15::Pkcs1v15Sign;
    use rsa::pss::Pss;
    let oid = algorithm.oid.to_string();
    let (scheme, digest) = match oid.as_str() {
        "1.2.840.113549.1.1.1" => ("rsa", digest),
        "1.2.840.113549.1.1.5" => ("rsa", DigestAlg::Sha1),
        "1.2.840.113549.1.1.11" => ("rsa", DigestAlg::Sha256),
        "1.2.840.113549.1.1.12" => ("rsa", DigestAlg::Sha384),
        "1.2.840.113549.1.1.13" => ("rsa", DigestAlg::Sha512),
        "1.2.840.113549.1.1.10" => ("pss", digest),
        "1.2.840.10045.2.1" => ("ecdsa", digest),
        "1.2.840.10045.4.1" => ("ecdsa", DigestAlg::Sha1),
        "1.2.840.10045.4.3.2" => ("ecdsa", DigestAlg::Sha256),
        "1.2.840.10045.4.3.3" => ("ecdsa", DigestAlg::Sha384),
        "1.2.840.10045.4.3.4" => ("ecdsa", DigestAlg::Sha512),
        other => {
            return Err(SigFailure::Unsupported(format!(
                "signature algorithm {other} is not supported"
            )));
        }
    };
    let spki_der = spki
        .to_der()
        .map_err(|e| SigFailure::Invalid(format!("public key unreadable: {e}")))?;
    match scheme {
        "rsa" | "pss" => {
            use rsa::pkcs8::DecodePublicKey;
            let key = rsa::PublicKey::from_public_key_der(&spki_der)
                .map_err(|e| SigFailure::Unsupported(format!("RSA public key unreadable: {e}")))?;
            if scheme == "rsa" {
                let hashed = digest.digest(message);
                let padding = match digest {
                    DigestAlg::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
                    DigestAlg::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
                    DigestAlg::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
                    DigestAlg::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
                };
                key.verify(padding, &hashed, signature)
                    .map(|_| "RSA PKCS#1 v1.5")
                    .map_err(|_| SigFailure::Invalid("RSA signature does not verify".into()))
            } else {
                let params = algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<rsa::pkcs1::RsaPssParams<der::Any>>().ok());
                let (pss_digest, salt) = match &params {
                    Some(p) => (
                        DigestAlg::from_oid(&p.hash.oid).ok_or_else(|| {
                            SigFailure::Unsupported(format!(
                                "RSA-PSS hash {} is not supported",
                                p.hash.oid
                            ))
                        })?,
                        p.salt_len as usize,
                    ),
                    // Absent parameters mean SHA-1 with a 20-byte salt (RFC 4055).
                    None => (DigestAlg::Sha1, 20),
                };
                let hashed = pss_digest.digest(message);
                let result = match pss_digest {
                    DigestAlg::Sha1 => {
                        key.verify(Pss::<sha1::Sha1>::new_with_salt(salt), &hashed, signature)
                    }
                    DigestAlg::Sha256 => {
                        key.verify(Pss::<sha2::Sha256>::new_with_salt(salt), &hashed, signature)
                    }
                    DigestAlg::Sha384 => {
                        key.verify(Pss::<sha2::Sha384>::new_with_salt(salt), &hashed, signature)
                    }
                    DigestAlg::Sha512 => {
                        key.verify(Pss::<sha2::Sha512>::new_with_salt(salt), &hashed, signature)
                    }
                };
                result
                    .map(|_| "RSA-PSS")
                    .map_err(|_| SigFailure::Invalid("RSA-PSS signature does not verify".into()))
            }
        }
        _ => {
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            let hashed = digest.digest(message);
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                .map(|o| o.to_string());
            let point = spki.subject_public_key.raw_bytes();
            match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => {
                    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                        .map_err(|e| SigFailure::Invalid(format!("P-256 key unreadable: {e}")))?;
                    let sig = p256::ecdsa::Signature::from_der(signature).map_err(|e| {
                        SigFailure::Invalid(format!("ECDSA signature unreadable: {e}"))
                    })?;
                    key.verify_prehash(&hashed, &sig)
                        .map(|_| "ECDSA P-256")
                        .map_err(|_| SigFailure::Invalid("ECDSA signature does not verify".into()))
                }
                Some("1.3.132.0.34") => {
                    let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                        .map_err(|e| SigFailure::Invalid(format!("P-384 key unreadable: {e}")))?;
                    let sig = p384::ecdsa::Signature::from_der(signature).map_err(|e| {
                        SigFailure::Invalid(format!("ECDSA signature unreadable: {e}"))
                    })?;
                    key.verify_prehash(&hashed, &sig)
                        .map(|_| "ECDSA P-384")
                        .map_err(|_| SigFailure::Invalid("ECDSA signature does not verify".into()))
                }
                other => Err(SigFailure::Unsupported(format!(
                    "elliptic curve {} is not supported",
                    other.unwrap_or("(none)")
                ))),
            }
        }
    }
}

/// The attributes of a distinguished name that people read.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct NameParts {
    pub common_name: Option<String>,
    pub organization: Option<String>,
    pub organizational_unit: Option<String>,
    pub locality: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
}

/// A directory string in any of the encodings certificates use: UTF8String,
/// PrintableString, IA5String, BMPString (UTF-16BE), UniversalString (UTF-32BE), and
/// TeletexString, which Vietnamese CAs fill with UTF-8 or Latin-1 bytes.
pub fn directory_string(value: &der::Any) -> Option<String> {
    let bytes = value.value();
    let text = match value.tag().number().value() {
        12 | 19 | 22 | 26 => String::from_utf8_lossy(bytes).to_string(),
        20 => match std::str::from_utf8(bytes) {
            Ok(s) => s.to_string(),
            Err(_) => bytes.iter().map(|&b| b as char).collect(),
        },
        30 => {
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        28 => bytes
            .chunks(4)
            .filter_map(|c| {
                (c.len() == 4)
                    .then(|| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                    .flatten()
            })
            .collect(),
        _ => return None,
    };
    let text = crate::text::normalize(text.trim());
    (!text.is_empty()).then_some(text)
}

pub fn name_parts(name: &x509_cert::name::Name) -> NameParts {
    let mut parts = NameParts::default();
    for atv in name.iter() {
        let Some(value) = directory_string(&atv.value) else {
            continue;
        };
        let slot = match atv.oid.to_string().as_str() {
            "2.5.4.3" => &mut parts.common_name,
            "2.5.4.10" => &mut parts.organization,
            "2.5.4.11" => &mut parts.organizational_unit,
            "2.5.4.7" => &mut parts.locality,
            "2.5.4.8" => &mut parts.state,
            "2.5.4.6" => &mut parts.country,
            _ => continue,
        };
        // The most specific value wins for CN (RDN order runs from the country down).
        *slot = Some(value);
    }
    parts
}

/// "CN=…, O=…" for display.
pub fn display_name(name: &x509_cert::name::Name) -> String {
    let p = name_parts(name);
    [
        ("CN", &p.common_name),
        ("OU", &p.organizational_unit),
        ("O", &p.organization),
        ("L", &p.locality),
        ("C", &p.country),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
    .collect::<Vec<_>>()
    .join(", ")
}

pub fn time_of(t: &x509_cert::time::Time) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp(t.to_unix_duration().as_secs() as i64, 0)
}
