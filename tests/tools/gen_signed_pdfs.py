#!/usr/bin/env python3
"""Generates the signed-PDF fixtures of tests/fixtures/signed/ with a throwaway test CA.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pyhanko cryptography
    /tmp/venv/bin/python tests/tools/gen_signed_pdfs.py

Every run makes fresh keys: the root and the PDFs written together are consistent, and
no private key is ever committed. Writes:

- tests/fixtures/signed/*.pdf and expected.json (what each file must verify as, stated
  here from how the file was made, not by running vanban);
- config/trust-anchors/test-only/vanban-test-root.pem, the test root (loaded only when a
  test or an operator points `signatures.trust_anchors` at that folder).
"""

import datetime as dt
import io
import json
import os
import pathlib
import tempfile

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/fixtures/signed"
ANCHORS = ROOT / "config/trust-anchors/test-only"
BASE = ROOT / "tests/fixtures/pdf/seed001-nam-chinh.libreoffice.pdf"
BASE2 = ROOT / "tests/fixtures/pdf/qd-kien-toan.libreoffice.pdf"

NOW = dt.datetime.now(dt.timezone.utc)


def name(cn, o=None, ou=None, locality=None, cn_type=None):
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if locality:
        attrs.append(x509.NameAttribute(NameOID.LOCALITY_NAME, locality))
    if o:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o))
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    if cn_type is None:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    else:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn, _type=cn_type))
    return x509.Name(attrs)


def make_cert(subject, key, issuer_name, issuer_key, *, ca=False, not_before=None, not_after=None, serial=None):
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before or NOW - dt.timedelta(days=365))
        .not_valid_after(not_after or NOW + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    )
    # A CA signs certificates; a signer's key is for non-repudiation (content commitment).
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=True, content_commitment=not ca, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
            encipher_only=False, decipher_only=False,
        ),
        critical=True,
    )
    return builder.sign(issuer_key, hashes.SHA256())


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def to_asn1(cert):
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def key_to_asn1(key):
    return asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def signer(cert, key, chain, **kw):
    return signers.SimpleSigner(
        signing_cert=to_asn1(cert),
        signing_key=key_to_asn1(key),
        cert_registry=SimpleCertificateStore.from_certs([to_asn1(c) for c in chain]),
        **kw,
    )


def sign(data, who, field, *, visible=False, md="sha256", subfilter=None, name_text=None):
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    meta = signers.PdfSignatureMetadata(
        field_name=field, md_algorithm=md, reason="Phát hành văn bản", location="Quốc Tuấn",
        name=name_text, **({"subfilter": subfilter} if subfilter else {}),
    )
    spec = fields.SigFieldSpec(field, box=(330, 60, 540, 120) if visible else None)
    out = signers.sign_pdf(w, meta, signer=who, new_field_spec=spec)
    return out.getvalue()


def annotate(data):
    """An incremental update that only adds a text annotation to page 1."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    page_ref, _resources = w.find_page_for_modification(0)
    page = page_ref.get_object()
    annot = generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/Text"),
        generic.NameObject("/Rect"): generic.ArrayObject([generic.NumberObject(n) for n in (50, 700, 70, 720)]),
        generic.NameObject("/Contents"): generic.TextStringObject("Ghi chú của văn thư"),
    })
    annot_ref = w.add_object(annot)
    annots = page.get("/Annots", generic.ArrayObject())
    annots.append(annot_ref)
    page[generic.NameObject("/Annots")] = annots
    w.update_container(page)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def change_content(data):
    """An incremental update that appends a content stream to page 1 (visible change)."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    stream = generic.StreamObject(stream_data=b"q 1 0 0 rg 72 400 200 30 re f Q")
    ref = w.add_object(stream)
    w.add_stream_to_page(0, ref)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def flip_byte(data):
    """One byte inside the first signed range, in the page text, flipped."""
    start = data.index(b"stream", 2000) + 20
    changed = bytearray(data)
    changed[start] ^= 0x01
    return bytes(changed)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    ANCHORS.mkdir(parents=True, exist_ok=True)
    base = BASE.read_bytes()
    base2 = BASE2.read_bytes()

    root_key = rsa_key()
    root_name = name("Vanban Test Root CA", o="vanban test PKI")
    root = make_cert(root_name, root_key, root_name, root_key, ca=True,
                     not_before=NOW - dt.timedelta(days=3650), not_after=NOW + dt.timedelta(days=7300))
    issuing_key = rsa_key()
    issuing_name = name("Vanban Test Issuing CA", o="vanban test PKI")
    issuing = make_cert(issuing_name, issuing_key, root_name, root_key, ca=True)
    chain = [issuing, root]

    person_key = rsa_key()
    person = make_cert(name("Nguyễn Văn Thử", o="Ủy ban nhân dân xã Nam Chính", ou="Văn phòng",
                            locality="Nam Chính"), person_key, issuing_name, issuing_key)
    seal_key = rsa_key()
    seal = make_cert(name("ỦY BAN NHÂN DÂN XÃ NAM CHÍNH", o="Ủy ban nhân dân xã Nam Chính",
                          cn_type=_ASN1Type.BMPString), seal_key, issuing_name, issuing_key)
    ec256_key = ec.generate_private_key(ec.SECP256R1())
    ec256 = make_cert(name("Trần Thị Ký", o="Sở Tư pháp"), ec256_key, issuing_name, issuing_key)
    ec384_key = ec.generate_private_key(ec.SECP384R1())
    ec384 = make_cert(name("Lê Văn Số", o="Sở Y tế"), ec384_key, issuing_name, issuing_key)
    expired_key = rsa_key()
    expired = make_cert(name("Phạm Hết Hạn", o="Ủy ban nhân dân xã Nam Chính"), expired_key, issuing_name,
                        issuing_key, not_before=NOW - dt.timedelta(days=800), not_after=NOW - dt.timedelta(days=30))
    rogue_key = rsa_key()
    rogue_name = name("Rogue Root", o="không tin cậy")
    rogue_root = make_cert(rogue_name, rogue_key, rogue_name, rogue_key, ca=True)
    stranger_key = rsa_key()
    stranger = make_cert(name("Người Lạ", o="Không rõ"), stranger_key, rogue_name, rogue_key)
    teletex_key = rsa_key()
    teletex = make_cert(name("Nguyên Hà", o="Phòng Tư pháp", cn_type=_ASN1Type.T61String), teletex_key,
                        issuing_name, issuing_key)

    (ANCHORS / "vanban-test-root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))

    expected = {}

    def write(file, data, **verdict):
        (OUT / file).write_bytes(data)
        expected[file] = verdict

    person_signer = signer(person, person_key, chain)
    one = sign(base, person_signer, "ChuKy1")
    write("01-rsa-invisible.pdf", one, status="intact", count=1, valid=True, covers_whole_file=True,
          signer="Nguyễn Văn Thử", organization="Ủy ban nhân dân xã Nam Chính", trusted=True,
          digest="SHA-256", algorithm="RSA PKCS#1 v1.5")
    write("02-rsa-visible.pdf", sign(base, person_signer, "ChuKy1", visible=True), status="intact", count=1,
          valid=True, covers_whole_file=True, signer="Nguyễn Văn Thử", trusted=True)
    first = sign(base2, person_signer, "ChuKy1", visible=True)
    two = sign(first, signer(seal, seal_key, chain), "ChuKyCoQuan", visible=True)
    write("03-two-signers.pdf", two, status="intact_with_later_changes", count=2, valid=True, covers_whole_file=True,
          signer="Nguyễn Văn Thử", signers=["Nguyễn Văn Thử", "ỦY BAN NHÂN DÂN XÃ NAM CHÍNH"],
          per_signature=["intact_with_later_changes", "intact"], trusted=True)
    write("04-signed-then-annotated.pdf", annotate(one), status="intact_with_later_changes", count=1,
          valid=True, covers_whole_file=False, signer="Nguyễn Văn Thử")
    write("05-signed-then-content-changed.pdf", change_content(one), status="modified_after_signing",
          count=1, valid=False, covers_whole_file=False, signer="Nguyễn Văn Thử")
    write("06-byte-flipped.pdf", flip_byte(one), status="digest_mismatch", count=1, valid=False,
          covers_whole_file=True)
    write("07-expired-certificate.pdf", sign(base, signer(expired, expired_key, chain), "ChuKy1"),
          status="intact", count=1, valid=True, signer="Phạm Hết Hạn", certificate_valid_at_signing=False,
          trusted=True)
    write("08-untrusted-root.pdf", sign(base, signer(stranger, stranger_key, [rogue_root]), "ChuKy1"),
          status="intact", count=1, valid=True, signer="Người Lạ", trusted=False)
    write("09-ecdsa-p256.pdf", sign(base, signer(ec256, ec256_key, chain), "ChuKy1"), status="intact",
          count=1, valid=True, signer="Trần Thị Ký", algorithm="ECDSA P-256", trusted=True)
    write("10-ecdsa-p384.pdf", sign(base, signer(ec384, ec384_key, chain), "ChuKy1", md="sha384"),
          status="intact", count=1, valid=True, signer="Lê Văn Số", algorithm="ECDSA P-384", digest="SHA-384",
          trusted=True)
    write("11-rsa-pss.pdf", sign(base, signer(person, person_key, chain, prefer_pss=True), "ChuKy1",
                                 md="sha512"),
          status="intact", count=1, valid=True, signer="Nguyễn Văn Thử", algorithm="RSA-PSS", digest="SHA-512",
          trusted=True)
    write("12-sha1-teletex.pdf", sign(base, signer(teletex, teletex_key, chain), "ChuKy1", md="sha1"),
          status="intact", count=1, valid=True, signer="Nguyên Hà", digest="SHA-1", weak=True, trusted=True)
    (OUT / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n")
    print(f"wrote {len(expected)} signed PDFs to {OUT}")


if __name__ == "__main__":
    main()
