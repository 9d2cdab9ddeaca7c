//! Whole extraction of arbitrary bytes: lopdf parsing, our content-stream lexer and
//! interpreter, font decoding, layout, normalisation and the Decree-30 parser. Any panic,
//! hang or runaway allocation is a finding; an `Err` is the expected answer to junk.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vanban::doctypes::DocTypeTable;

fuzz_target!(|data: &[u8]| {
    if let Ok(extraction) = vanban::extract::extract_pdf(data, DocTypeTable::builtin()) {
        // The JSON contract must be producible for anything we accept.
        let _ = extraction.to_json();
    }
});
