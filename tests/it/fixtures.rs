//! The generated fixture corpus (`tests/tools/gen_fixture_pdfs.py`: LibreOffice, Chromium and
//! cairo producers), compared field by field with `*.expected.json`.

use std::path::Path;

use vanban::doctypes::DocTypeTable;
use vanban::eval;

#[test]
fn fixture_corpus_matches_expected_fields() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pdf");
    assert!(
        eval::labelled_pdfs(&dir).len() >= 30,
        "the corpus must keep at least 30 labelled PDFs"
    );
    let report = eval::evaluate(&dir, DocTypeTable::builtin()).expect("evaluate");
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(
        report.mismatches.is_empty(),
        "mismatches:\n{}",
        report.mismatches.join("\n")
    );
}
