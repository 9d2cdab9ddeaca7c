//! Signatures come inside files from anyone: finding them, decoding CMS (DER or BER),
//! hashing the ranges and judging later revisions must answer every input with a status,
//! never a panic or a hang. Two shapes of input: a whole file (first byte even), or a
//! CMS blob placed into the /Contents gap of a real signed fixture (first byte odd), so
//! mutations reach deep into the CMS decoder and the verifier.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vanban::signature::{TrustStore, verify};

const TEMPLATE: &[u8] = include_bytes!("../../fixtures/signed/01-rsa-invisible.pdf");

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let anchors = TrustStore::empty();
    if mode % 2 == 0 {
        let v = verify(rest, None, &anchors);
        let _ = v.summary_json();
        return;
    }
    let found = vanban::signature::find::find_signatures(TEMPLATE);
    let range = &found[0].byte_range;
    let (start, end) = (range[1] as usize + 1, range[2] as usize - 1);
    let room = (end - start) / 2;
    let mut hex = String::with_capacity(end - start);
    for b in rest.iter().take(room) {
        hex.push_str(&format!("{b:02x}"));
    }
    while hex.len() < end - start {
        hex.push('0');
    }
    let mut pdf = TEMPLATE.to_vec();
    pdf.splice(start..end, hex.bytes());
    let v = verify(&pdf, None, &anchors);
    assert_eq!(v.signatures.len(), 1);
    let _ = v.message();
});
