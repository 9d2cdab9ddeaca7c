//! The search path for big match sets (bitmap counting and faceting, first-pass ranking)
//! checked against an independent reading of the same generated documents.

use std::collections::{HashMap, HashSet};

use vanban::search::SearchIndex;
use vanban::search::bench::{BENCH_SEED, query_mix};
use vanban::search::corpus::CorpusGenerator;
use vanban::search::query::{SearchRequest, Sort};
use vanban::text::fold;

const DOCS: usize = 1_500;
/// Below the default, so the first pass runs on sets a small corpus can have.
const FULL_RANKING_BELOW: u64 = 100;

fn words(text: &str) -> HashSet<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn request(q: &str, per_page: usize) -> SearchRequest {
    SearchRequest {
        q: q.to_string(),
        page: 1,
        per_page,
        with_facets: true,
        ..SearchRequest::default()
    }
}

#[test]
fn big_match_sets_are_counted_faceted_and_ranked_like_the_full_ranking() {
    let docs: Vec<_> = CorpusGenerator::new(BENCH_SEED, 1).take(DOCS).collect();
    let index = SearchIndex::in_memory(64 << 20)
        .unwrap()
        .with_full_ranking_below(FULL_RANKING_BELOW);
    for chunk in docs.chunks(500) {
        index.upsert(chunk).unwrap();
        // Several segments, as a server that commits as it goes has.
        index.commit(0).unwrap();
    }
    let full = SearchIndex::in_memory(64 << 20)
        .unwrap()
        .with_full_ranking_below(u64::MAX);
    full.upsert(&docs).unwrap();
    full.commit(0).unwrap();

    // Counts and facets against a plain reading of every document: each query word must
    // occur (folded) in one of the texts the index searches.
    let texts: Vec<HashSet<String>> = docs
        .iter()
        .map(|d| {
            words(&format!(
                "{} {} {} {} {} {} {}",
                d.doc_type.as_deref().unwrap_or(""),
                d.abstract_text.as_deref().unwrap_or(""),
                d.issuer.as_deref().unwrap_or(""),
                d.signer_name.as_deref().unwrap_or(""),
                d.signer_title.as_deref().unwrap_or(""),
                d.number_symbol.as_deref().unwrap_or(""),
                d.body
            ))
        })
        .collect();
    for q in ["ke hoach", "dia ban", "chu tich", "thuc hien nghiem tuc"] {
        let wanted = words(q);
        let matching: Vec<usize> = (0..docs.len())
            .filter(|&k| wanted.iter().all(|w| texts[k].contains(w)))
            .collect();
        assert!(
            matching.len() as u64 > 2 * FULL_RANKING_BELOW,
            "{q}: the test wants a big match set"
        );
        let results = index.search(&request(q, 20)).unwrap();
        assert_eq!(results.total, matching.len(), "{q}: total");
        let mut by_type: HashMap<String, u64> = HashMap::new();
        let mut by_year: HashMap<String, u64> = HashMap::new();
        for &k in &matching {
            *by_type
                .entry(docs[k].doc_type.clone().unwrap_or_default())
                .or_default() += 1;
            *by_year
                .entry(docs[k].issued_year.unwrap_or_default().to_string())
                .or_default() += 1;
        }
        let facet = |v: &[(String, u64)]| v.iter().cloned().collect::<HashMap<_, _>>();
        assert_eq!(facet(&results.facets.doc_type), by_type, "{q}: type facet");
        assert_eq!(facet(&results.facets.year), by_year, "{q}: year facet");
        let validity: u64 = results.facets.validity.iter().map(|(_, n)| n).sum();
        assert_eq!(validity, matching.len() as u64, "{q}: validity facet");
        let years: Vec<u64> = results
            .facets
            .year
            .iter()
            .map(|(y, _)| y.parse().unwrap())
            .collect();
        let sorted = {
            let mut s = years.clone();
            s.sort_by(|a, b| b.cmp(a));
            s
        };
        assert_eq!(years, sorted, "years newest first");

        // Sorting by date lists the newest of the whole match set first.
        let newest = index
            .search(&SearchRequest {
                sort: Sort::Newest,
                ..request(q, 5)
            })
            .unwrap();
        let newest_day = matching
            .iter()
            .filter_map(|&k| docs[k].issued_date)
            .max()
            .unwrap();
        assert_eq!(newest.hits[0].record.issued_date, Some(newest_day), "{q}");
    }

    // The first pass keeps what the full ranking puts on the first page.
    let mix = query_mix(40, DOCS);
    let mut kept = 0;
    let mut compared = 0;
    for query in &mix {
        let fast = index.search(&request(&query.q, 10)).unwrap();
        let exact = full.search(&request(&query.q, 10)).unwrap();
        assert_eq!(fast.total, exact.total, "{}: total", query.q);
        let fast_ids: HashSet<u64> = fast.hits.iter().map(|h| h.record.id).collect();
        kept += exact
            .hits
            .iter()
            .filter(|h| fast_ids.contains(&h.record.id))
            .count();
        compared += exact.hits.len();
        if query.kind == "number-symbol" {
            assert_eq!(
                fast.hits[0].record.id, exact.hits[0].record.id,
                "{}: the document carrying the number comes first",
                query.q
            );
        }
    }
    let share = kept as f64 / compared as f64;
    eprintln!("first-page overlap with the full ranking: {share:.3} ({kept}/{compared})");
    assert!(
        share >= 0.9,
        "first-page overlap with the full ranking: {share:.3}"
    );

    // Removed documents leave counts and results at once.
    let before = index.search(&request("ke hoach", 20)).unwrap();
    let gone = before.hits[0].record.id;
    index.remove(gone).unwrap();
    index.commit(0).unwrap();
    let after = index.search(&request("ke hoach", 20)).unwrap();
    assert_eq!(after.total, before.total - 1);
    assert!(after.hits.iter().all(|h| h.record.id != gone));
}
