//! edXML packages from a hub are untrusted: parsing and attachment decoding must answer
//! every input with a package or an error, within the limits, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(package) = edxml::parse(data) {
        let limits = edxml::Limits {
            max_bytes: 1 << 20,
            ..edxml::Limits::default()
        };
        for attachment in &package.attachments {
            let _ = edxml::decode_attachment(attachment, &limits);
        }
        // What we read, we can write and read again.
        let written = edxml::write_document(&package);
        edxml::parse(written.as_bytes()).expect("our own output parses");
    }
});
