//! The Decree-30 header parser on arbitrary text (as OCR or a broken text layer gives it):
//! normalisation, line splitting into blocks, every field rule and citation extraction.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vanban::decree30::{SourceLine, parse};
use vanban::doctypes::DocTypeTable;
use vanban::text::normalize;

fuzz_target!(|data: &[u8]| {
    let text = normalize(&String::from_utf8_lossy(data));
    let lines = SourceLine::from_plain_text(&text);
    let metadata = parse(&lines, DocTypeTable::builtin());
    // Invariants of the contract: a field is either absent or non-empty, and a
    // number-symbol never contains white space.
    if let Some(number_symbol) = metadata.number_symbol() {
        assert!(
            !number_symbol.chars().any(char::is_whitespace),
            "{number_symbol:?}"
        );
    }
    for field in [
        &metadata.doc_type,
        &metadata.number,
        &metadata.symbol,
        &metadata.issuer,
        &metadata.place,
        &metadata.abstract_text,
        &metadata.signer_name,
        &metadata.signer_title,
    ] {
        if let Some(value) = &field.value {
            assert!(!value.trim().is_empty(), "empty field value");
        }
    }
    if let Some(recipients) = &metadata.recipients.value {
        assert!(recipients.iter().all(|r| !r.trim().is_empty()));
    }
});
