//! The relevance set (`tests/data/search_queries.json`) as a regression guard: the public
//! search must keep finding what citizens look for, never leak, and stay ahead of the
//! SQLite FTS5 baseline on the same corpus. `vanban eval-search` prints the full report.

use std::path::Path;

#[tokio::test]
async fn relevance_set_holds_and_beats_fts5() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let outcome = vanban::search::eval::run(
        &root.join("tests/fixtures/pdf"),
        &root.join("tests/data/search_queries.json"),
        None,
    )
    .await
    .expect("evaluation runs");
    let ours = &outcome.vanban;
    assert!(
        ours.ranked_queries >= 50,
        "the set keeps at least 50 ranked queries"
    );
    assert_eq!(ours.leaks, 0, "{}", outcome.report);
    assert_eq!(ours.none_ok, ours.none_queries, "{}", outcome.report);
    assert!(ours.recall_at_10() >= 0.95, "{}", outcome.report);
    assert!(ours.mrr() >= 0.90, "{}", outcome.report);
    assert!(
        ours.recall_at_10() > outcome.fts5.recall_at_10(),
        "{}",
        outcome.report
    );
}
