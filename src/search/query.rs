//! From what a citizen types to a ranked, filtered, faceted result page.
//!
//! Every syllable of the query must match (in any field, in any of its forms: with its
//! diacritics, folded, decoded from Telex, expanded from an abbreviation, or one typo
//! away when long); matches on the accent-preserving fields, in the abstract and type,
//! and on adjacent syllables (bigrams) score higher. A query that looks like a
//! number-symbol also matches the number-symbol keys, far above any text match, and a
//! document's own number far above documents that merely cite it. When no document has
//! every syllable, the query is retried with all syllables but one.
//!
//! Execution: the match set is a bitmap per segment (see [`super::bitmaps`]), which
//! counts and facets in microseconds however many documents match; big match sets are
//! ranked through a pruned single-field first pass and only its best candidates get the
//! full score (see [`SearchIndex::run`] and ARCHITECTURE.md).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::Bound;

use chrono::NaiveDate;
use roaring::RoaringBitmap;
use serde::Serialize;
use tantivy::query::{
    BooleanQuery, BoostQuery, EnableScoring, FuzzyTermQuery, Occur, Query, RangeQuery, TermQuery,
    Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocSet, Searcher, TantivyDocument, Term};
use unicode_normalization::UnicodeNormalization;

use super::analysis::{
    ABBREVIATIONS, accent_form, decode_telex, folded_form, has_marks, number_symbol_keys,
    number_symbol_parts, number_symbol_query_keys, syllables,
};
use super::{Fields, HitRecord, SearchError, SearchIndex, bitmaps, days, hit_record, today};
use crate::doctypes::DocTypeTable;

/// Facet values listed per facet, biggest first.
const FACET_SIZE: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Relevance for a text query, newest first for an empty one.
    #[default]
    Relevance,
    Newest,
    Oldest,
}

/// Validity (hiệu lực) derived from the effective date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    InForce,
    NotYetInForce,
}

impl Validity {
    pub fn parse(s: &str) -> Option<Validity> {
        match s {
            "in_force" | "con_hieu_luc" => Some(Validity::InForce),
            "not_yet_in_force" | "chua_co_hieu_luc" => Some(Validity::NotYetInForce),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Validity::InForce => "in_force",
            Validity::NotYetInForce => "not_yet_in_force",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Validity::InForce => "Còn hiệu lực",
            Validity::NotYetInForce => "Chưa có hiệu lực",
        }
    }
    pub fn of(effective: Option<NaiveDate>) -> Validity {
        match effective {
            Some(d) if d > today() => Validity::NotYetInForce,
            _ => Validity::InForce,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub q: String,
    /// Organ code of one unit, or `None` for every unit of the deployment.
    pub unit: Option<String>,
    pub doc_type: Option<String>,
    pub issuer: Option<String>,
    pub year: Option<i32>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub validity: Option<Validity>,
    pub sort: Sort,
    /// 1-based.
    pub page: usize,
    pub per_page: usize,
    pub with_facets: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub score: f32,
    #[serde(flatten)]
    pub record: HitRecord,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Facets {
    pub doc_type: Vec<(String, u64)>,
    pub issuer: Vec<(String, u64)>,
    pub year: Vec<(String, u64)>,
    pub validity: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
    pub facets: Facets,
    /// Folded query syllables, for highlighting.
    pub terms: Vec<String>,
    /// True when no document had every syllable and any-syllable matching was used.
    pub relaxed: bool,
    /// For a query that names a number-symbol in full: whether a document carries it.
    pub number_symbol: Option<NumberSymbolResult>,
}

/// Whether a document carries the number-symbol a query names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberSymbolMatch {
    /// At least one document (within the filters) carries it as its own number-symbol.
    Exact,
    /// None does: the hits are only documents that cite it or hold every word of the
    /// query, never a looser match; `near` lists numbers that resemble it.
    None,
}

/// What a query naming a number-symbol (`116/QĐ-UBND`, `43/2011/NĐ-CP`) found.
#[derive(Debug, Clone, Serialize)]
pub struct NumberSymbolResult {
    /// The number-symbol as the query wrote it.
    pub query: String,
    #[serde(rename = "match")]
    pub matched: NumberSymbolMatch,
    /// With `None`: documents whose own number-symbol has the same number and shares a
    /// part with the query (another symbol or year), newest first, at most [`NEAR_LIMIT`].
    pub near: Vec<HitRecord>,
}

/// Near number-symbols offered when none matches.
pub const NEAR_LIMIT: usize = 5;

/// The number-symbol a query spells in full (`116/QĐ-UBND`, `43/2011/NĐ-CP`), if any. A
/// loose spelling (`qd 116`) is not one: it may as well be words and a number.
pub fn typed_number_symbol(q: &str) -> Option<String> {
    static PATTERN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?:^|[^\p{L}\d/])(\d{1,6}\s*/\s*(?:\d{4}\s*/\s*)?\p{L}[\p{L}\d]*(?:\s*-\s*[\p{L}\d]+)*)",
        )
        .expect("valid pattern")
    });
    let nfc: String = q.nfc().collect();
    PATTERN
        .captures(&nfc)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().split_whitespace().collect::<String>())
}

/// Field weights: type and abstract above signer and issuer above body.
struct Weights;
impl Weights {
    const ABSTRACT: f32 = 4.0;
    const TYPE: f32 = 3.0;
    const ISSUER: f32 = 2.0;
    const SIGNER: f32 = 2.0;
    const BODY: f32 = 1.0;
    /// An abbreviation (`ubnd`) met as its spelled-out words in a header field.
    const ABBREVIATION: f32 = 3.0;
    /// Accent-preserving matches count this much more than folded ones.
    const ACCENT: f32 = 1.6;
    const BIGRAM: f32 = 1.5;
    const FUZZY: f32 = 0.25;
    const OWN_NUMBER: f32 = 40.0;
    const CITED_NUMBER: f32 = 6.0;
}

/// A match set at most this big is ranked in full; a bigger one through a first pass
/// that picks the best candidates by a single-field score (see [`SearchIndex::run`]).
pub const FULL_RANKING_BELOW: u64 = 1_000;
/// Candidates the first pass hands to the full ranking (at least; deeper pages get more).
const RESCORE_WINDOW: usize = 400;

fn term(field: Field, text: &str) -> Term {
    Term::from_field_text(field, text)
}

fn term_query(field: Field, text: &str, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(
        Box::new(TermQuery::new(
            term(field, text),
            IndexRecordOption::WithFreqs,
        )),
        boost,
    ))
}

/// One query syllable: the folded terms that match it (itself, its Telex decoding), or,
/// for a long word the index does not know, the word whose one-typo neighbours match it.
struct Group {
    terms: Vec<String>,
    fuzzy: Option<String>,
}

/// A parsed query: what a document must match and what adds to its score.
struct Plan {
    /// Every group must match (or, relaxed, all but one), in `all_folded`.
    groups: Vec<Group>,
    /// Number-symbol keys (`116:qd`…): a document holding one matches whatever the text.
    ns_keys: Vec<String>,
    /// The query's adjacent syllable pairs that occur in the index (`bigrams` field).
    bigrams: Vec<Vec<String>>,
    /// Summed into the score of a matching document; none decides whether it matches.
    scoring: Vec<Box<dyn Query>>,
}

impl Plan {
    fn group_terms(&self) -> Vec<Vec<String>> {
        self.groups.iter().map(|g| g.terms.clone()).collect()
    }
}

fn plan(
    f: &Fields,
    searcher: &Searcher,
    q: &str,
    types: &DocTypeTable,
    only_key: Option<&str>,
) -> Option<Plan> {
    let nfc: String = q.nfc().collect();
    let syllables: Vec<String> = syllables(&nfc).into_iter().map(|(_, _, s)| s).collect();
    if syllables.is_empty() {
        return None;
    }
    let exists =
        |field: Field, text: &str| searcher.doc_freq(&term(field, text)).is_ok_and(|n| n > 0);
    // Clauses of terms no document holds are left out: they cost a lookup per segment
    // and add nothing.
    let mut scoring: Vec<Box<dyn Query>> = Vec::new();
    let mut fuzzy_scoring: Vec<Box<dyn Query>> = Vec::new();
    let mut add = |field: Field, text: &str, boost: f32| {
        if exists(field, text) {
            scoring.push(term_query(field, text, boost));
        }
    };
    let folded_fields = [
        (f.abstract_folded, Weights::ABSTRACT),
        (f.type_folded, Weights::TYPE),
        (f.issuer_folded, Weights::ISSUER),
        (f.signer_folded, Weights::SIGNER),
        (f.all_folded, Weights::BODY),
    ];
    let accent_fields = [
        (f.abstract_accent, Weights::ABSTRACT),
        (f.type_accent, Weights::TYPE),
        (f.issuer_accent, Weights::ISSUER),
        (f.signer_accent, Weights::SIGNER),
        (f.body_accent, Weights::BODY),
    ];
    let mut groups = Vec::with_capacity(syllables.len());
    for syllable in &syllables {
        let folded = folded_form(syllable);
        let telex = decode_telex(syllable);
        let mut terms = vec![folded.clone()];
        if let Some(accent) = &telex {
            let decoded = folded_form(accent.trim_end_matches(|c: char| c.is_ascii_digit()));
            if !terms.contains(&decoded) {
                terms.push(decoded);
            }
        }
        terms.retain(|t| exists(f.all_folded, t));
        // One typo, only on long words the index does not know: short ones have too many
        // neighbours in Vietnamese, and a known word needs no guessing.
        let fuzzy = (terms.is_empty()
            && folded.chars().count() >= 5
            && !folded.chars().all(|c| c.is_ascii_digit()))
        .then(|| folded.clone());
        for t in &terms {
            for (field, w) in folded_fields {
                add(field, t, w);
            }
        }
        if has_marks(syllable) {
            let accent = accent_form(syllable);
            for (field, w) in accent_fields {
                add(field, &accent, w * Weights::ACCENT);
            }
        }
        if let Some(accent) = &telex {
            for (field, w) in accent_fields {
                add(field, accent, w);
            }
        }
        if ABBREVIATIONS.iter().any(|(a, _)| *a == folded) {
            add(f.head_folded, &folded, Weights::ABBREVIATION);
        }
        if let Some(word) = &fuzzy {
            for field in [f.abstract_folded, f.all_folded] {
                fuzzy_scoring.push(Box::new(BoostQuery::new(
                    Box::new(FuzzyTermQuery::new(term(field, word), 1, true)),
                    Weights::FUZZY,
                )));
            }
        }
        groups.push(Group { terms, fuzzy });
    }
    // Adjacent syllables, adjacent in the document: a phrase match ranks first.
    let mut bigrams = Vec::new();
    for pair in syllables.windows(2) {
        let bigram = format!("{}_{}", folded_form(&pair[0]), folded_form(&pair[1]));
        add(f.bigrams, &bigram, Weights::BIGRAM);
        bigrams.push(vec![bigram]);
    }
    let mut ns_keys = Vec::new();
    let mut parts = number_symbol_parts(&nfc);
    if let Some(key) = only_key {
        // A number nobody carries: only its whole key (documents citing it), not the
        // pairings (`999:qd` would bring any decision numbered 999).
        add(f.ns_cited, key, Weights::CITED_NUMBER * 3.0);
        ns_keys.push(key.to_string());
    } else if parts.iter().any(|p| p.chars().all(|c| c.is_ascii_digit())) {
        // "quyết định 142" names the type in words: its code joins the keys (142:qd).
        let folded = format!(" {} ", crate::text::fold(&nfc));
        for t in &types.types {
            if let Some(code) = &t.code
                && folded.contains(&format!(" {} ", crate::text::fold(&t.name)))
            {
                parts.push(crate::text::fold(code));
            }
        }
        if parts.len() >= 2 {
            for key in number_symbol_query_keys(&parts) {
                // The whole key scores more than one pairing; several pairings add up.
                let weight = if key.contains(':') { 1.0 } else { 3.0 };
                add(f.ns_own, &key, Weights::OWN_NUMBER * weight);
                add(f.ns_cited, &key, Weights::CITED_NUMBER * weight);
                ns_keys.push(key);
            }
        }
    }
    scoring.append(&mut fuzzy_scoring);
    Some(Plan {
        groups,
        ns_keys,
        bigrams,
        scoring,
    })
}

/// A first-pass query over one field: every term (a pure term intersection, which
/// tantivy prunes block by block) or, when a syllable has several terms or the query is
/// relaxed, any of them (a pure term union, pruned the same way; the match set does the
/// filtering).
fn first_pass_query(
    terms: &[Vec<String>],
    field: Field,
    all_syllables: bool,
) -> Option<Box<dyn Query>> {
    let single = terms.iter().all(|t| t.len() == 1);
    let occur = if all_syllables && single {
        Occur::Must
    } else {
        Occur::Should
    };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = terms
        .iter()
        .flatten()
        .map(|t| {
            (
                occur,
                Box::new(TermQuery::new(term(field, t), IndexRecordOption::WithFreqs))
                    as Box<dyn Query>,
            )
        })
        .collect();
    match clauses.len() {
        0 => None,
        // A lone term query prunes by itself; wrapped in a boolean query it would not.
        1 => clauses.pop().map(|(_, q)| q),
        _ => Some(Box::new(BooleanQuery::new(clauses))),
    }
}

/// What restricts the match set besides the text, prepared once per query.
struct Restrictions {
    terms: Vec<Term>,
    ranges: Vec<Box<dyn Weight>>,
}

fn restrictions(
    f: &Fields,
    searcher: &Searcher,
    req: &SearchRequest,
) -> tantivy::Result<Restrictions> {
    let mut terms = Vec::new();
    if let Some(unit) = &req.unit {
        terms.push(term(f.unit, unit));
    }
    if let Some(t) = &req.doc_type {
        terms.push(term(f.doc_type, t));
    }
    if let Some(issuer) = &req.issuer {
        terms.push(term(f.issuer, issuer));
    }
    if let Some(year) = req.year {
        terms.push(Term::from_field_u64(f.year, year.max(0) as u64));
    }
    let mut ranges: Vec<RangeQuery> = Vec::new();
    if req.from.is_some() || req.to.is_some() {
        let lower = req.from.map_or(Bound::Unbounded, |d| {
            Bound::Included(Term::from_field_i64(f.issued_days, days(d)))
        });
        let upper = req.to.map_or(Bound::Unbounded, |d| {
            Bound::Included(Term::from_field_i64(f.issued_days, days(d)))
        });
        ranges.push(RangeQuery::new(lower, upper));
    }
    if let Some(validity) = req.validity {
        let today = days(today());
        ranges.push(match validity {
            Validity::InForce => RangeQuery::new(
                Bound::Unbounded,
                Bound::Included(Term::from_field_i64(f.effective_days, today)),
            ),
            Validity::NotYetInForce => RangeQuery::new(
                Bound::Excluded(Term::from_field_i64(f.effective_days, today)),
                Bound::Unbounded,
            ),
        });
    }
    let ranges = ranges
        .iter()
        .map(|r| r.weight(EnableScoring::disabled_from_searcher(searcher)))
        .collect::<tantivy::Result<_>>()?;
    Ok(Restrictions { terms, ranges })
}

/// A candidate document and its score, ordered by score, then by address.
#[derive(Clone, Copy, PartialEq)]
struct Ranked {
    score: f32,
    address: DocAddress,
}
impl Eq for Ranked {}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.address.cmp(&self.address))
    }
}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The best `k` documents of the match sets by `query`'s score, letting tantivy skip
/// blocks of postings that cannot beat the `k`-th score found so far.
fn pruned_top(
    searcher: &Searcher,
    query: &dyn Query,
    sets: &[RoaringBitmap],
    k: usize,
) -> tantivy::Result<Vec<DocAddress>> {
    let weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
    let mut heap: BinaryHeap<Reverse<Ranked>> = BinaryHeap::with_capacity(k + 1);
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let set = &sets[ord];
        if set.is_empty() {
            continue;
        }
        let threshold = |heap: &BinaryHeap<Reverse<Ranked>>| match heap.peek() {
            Some(Reverse(min)) if heap.len() >= k => min.score,
            _ => f32::MIN,
        };
        let start = threshold(&heap);
        weight.for_each_pruning(start, reader, &mut |doc, score| {
            if set.contains(doc) {
                heap.push(Reverse(Ranked {
                    score,
                    address: DocAddress::new(ord as u32, doc),
                }));
                if heap.len() > k {
                    heap.pop();
                }
            }
            threshold(&heap)
        })?;
    }
    Ok(heap.into_iter().map(|Reverse(r)| r.address).collect())
}

/// The exact score of each candidate: every scoring clause seeks to it on its own, so a
/// few hundred candidates cost a few hundred skips per clause, wherever they lie.
fn rescore(
    searcher: &Searcher,
    scoring: &[Box<dyn Weight>],
    candidates: &[RoaringBitmap],
) -> tantivy::Result<Vec<Ranked>> {
    let mut out = Vec::new();
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let docs = &candidates[ord];
        if docs.is_empty() {
            continue;
        }
        let mut scores = vec![0f32; docs.len() as usize];
        for weight in scoring {
            let mut scorer = weight.scorer(reader, 1.0)?;
            for (k, doc) in docs.iter().enumerate() {
                if scorer.doc() < doc {
                    scorer.seek(doc);
                }
                if scorer.doc() == doc {
                    scores[k] += scorer.score();
                }
            }
        }
        out.extend(docs.iter().zip(scores).map(|(doc, score)| Ranked {
            score,
            address: DocAddress::new(ord as u32, doc),
        }));
    }
    Ok(out)
}

/// The first `k` documents of the match sets by issue date.
fn top_by_date(
    searcher: &Searcher,
    sets: &[RoaringBitmap],
    newest_first: bool,
    k: usize,
) -> tantivy::Result<Vec<DocAddress>> {
    // Keyed so that the heap's maximum is the entry to drop.
    let mut heap: BinaryHeap<(i64, DocAddress)> = BinaryHeap::with_capacity(k + 1);
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let set = &sets[ord];
        if set.is_empty() {
            continue;
        }
        let column = reader.fast_fields().i64("sort_days")?;
        for doc in set {
            let day = column.first(doc).unwrap_or(i64::MIN);
            let key = if newest_first { -day } else { day };
            let address = DocAddress::new(ord as u32, doc);
            if heap.len() < k {
                heap.push((key, address));
            } else if let Some(top) = heap.peek()
                && (key, address) < *top
            {
                heap.pop();
                heap.push((key, address));
            }
        }
    }
    Ok(heap.into_sorted_vec().into_iter().map(|(_, a)| a).collect())
}

/// Documents matching at least `minimum` of the sets.
fn at_least(mut sets: Vec<RoaringBitmap>, minimum: usize) -> RoaringBitmap {
    sets.sort_by_key(RoaringBitmap::len);
    let n = sets.len();
    if n == 0 {
        return RoaringBitmap::new();
    }
    if minimum >= n {
        let mut iter = sets.into_iter();
        let mut all = iter.next().unwrap_or_default();
        for s in iter {
            all &= s;
        }
        return all;
    }
    if minimum <= 1 {
        return sets
            .into_iter()
            .fold(RoaringBitmap::new(), |acc, s| acc | s);
    }
    // All but one (the only other minimum the relaxed query uses): for each set left out,
    // the intersection of the others.
    debug_assert_eq!(minimum, n - 1);
    let mut out = RoaringBitmap::new();
    for skip in 0..n {
        let mut others = sets.iter().enumerate().filter(|(k, _)| *k != skip);
        let Some((_, first)) = others.next() else {
            continue;
        };
        let mut all = first.clone();
        for (_, s) in others {
            all &= s;
        }
        out |= all;
    }
    out
}

impl SearchIndex {
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResults, SearchError> {
        let searcher = self.reader.searcher();
        if let Some(typed) = typed_number_symbol(&req.q) {
            let restrictions = restrictions(&self.fields, &searcher, req)?;
            let keys = number_symbol_keys(&typed);
            let whole = number_symbol_parts(&typed).concat();
            let carried = self.key_sets(
                &searcher,
                self.fields.ns_own,
                std::slice::from_ref(&whole),
                &restrictions,
            )?;
            if carried.iter().any(|s| !s.is_empty()) {
                let mut results = self.run(&searcher, req, true, None)?;
                results.number_symbol = Some(NumberSymbolResult {
                    query: typed,
                    matched: NumberSymbolMatch::Exact,
                    near: Vec::new(),
                });
                return Ok(results);
            }
            // Nobody carries it: say so, with what cites it or holds every word, and the
            // numbers that resemble it apart — never any-word matches.
            let mut results = self.run(&searcher, req, true, Some(&whole))?;
            let pairings: Vec<String> = keys.into_iter().filter(|k| k.contains(':')).collect();
            let near_sets =
                self.key_sets(&searcher, self.fields.ns_own, &pairings, &restrictions)?;
            let mut near = Vec::new();
            for address in top_by_date(&searcher, &near_sets, true, NEAR_LIMIT)? {
                let doc: TantivyDocument = searcher.doc(address)?;
                near.extend(hit_record(&doc, &self.fields));
            }
            results.number_symbol = Some(NumberSymbolResult {
                query: typed,
                matched: NumberSymbolMatch::None,
                near,
            });
            return Ok(results);
        }
        let first = self.run(&searcher, req, true, None)?;
        if first.total > 0 || req.q.trim().is_empty() {
            return Ok(first);
        }
        let mut relaxed = self.run(&searcher, req, false, None)?;
        relaxed.relaxed = true;
        Ok(relaxed)
    }

    /// Per segment, the live documents holding any of `keys` in `field`, within the
    /// filters.
    fn key_sets(
        &self,
        searcher: &Searcher,
        field: Field,
        keys: &[String],
        restrictions: &Restrictions,
    ) -> tantivy::Result<Vec<RoaringBitmap>> {
        let mut sets = Vec::with_capacity(searcher.segment_readers().len());
        for reader in searcher.segment_readers() {
            let mut set = RoaringBitmap::new();
            for key in keys {
                set |= &*self.bitmaps.term(reader, &term(field, key))?;
            }
            sets.push(self.restrict(reader, set, restrictions)?);
        }
        Ok(sets)
    }

    /// `set` within the filters, without deleted documents.
    fn restrict(
        &self,
        reader: &tantivy::SegmentReader,
        mut set: RoaringBitmap,
        restrictions: &Restrictions,
    ) -> tantivy::Result<RoaringBitmap> {
        for t in &restrictions.terms {
            set &= &*self.bitmaps.value(reader, t)?;
        }
        for weight in &restrictions.ranges {
            set &= bitmaps::weight_bitmap(weight.as_ref(), reader)?;
        }
        if reader.has_deletes() {
            set &= &*self.bitmaps.alive(reader);
        }
        Ok(set)
    }

    /// The match set of each segment: every syllable (or all but one), or a number-symbol
    /// key; then the filters; then only documents not deleted.
    fn match_sets(
        &self,
        searcher: &Searcher,
        plan: Option<&Plan>,
        restrictions: &Restrictions,
        all_syllables: bool,
    ) -> tantivy::Result<Vec<RoaringBitmap>> {
        let f = &self.fields;
        let fuzzy: Vec<Option<Box<dyn Weight>>> = plan
            .map(|p| &p.groups[..])
            .unwrap_or_default()
            .iter()
            .map(|g| {
                g.fuzzy
                    .as_ref()
                    .map(|word| {
                        FuzzyTermQuery::new(term(f.all_folded, word), 1, true)
                            .weight(EnableScoring::disabled_from_searcher(searcher))
                    })
                    .transpose()
            })
            .collect::<tantivy::Result<_>>()?;
        let mut sets = Vec::with_capacity(searcher.segment_readers().len());
        for reader in searcher.segment_readers() {
            let mut set: Option<RoaringBitmap> = None;
            if let Some(plan) = plan {
                let mut groups = Vec::with_capacity(plan.groups.len());
                for (group, fuzzy) in plan.groups.iter().zip(&fuzzy) {
                    let mut docs = RoaringBitmap::new();
                    for t in &group.terms {
                        docs |= &*self.bitmaps.term(reader, &term(f.all_folded, t))?;
                    }
                    if let Some(weight) = fuzzy {
                        docs |= bitmaps::weight_bitmap(weight.as_ref(), reader)?;
                    }
                    groups.push(docs);
                }
                let n = groups.len();
                let minimum = match (all_syllables, n) {
                    (true, _) => n,
                    (false, n) if n >= 3 => n - 1,
                    _ => 1,
                };
                let mut text = at_least(groups, minimum);
                for key in &plan.ns_keys {
                    for field in [f.ns_own, f.ns_cited] {
                        text |= &*self.bitmaps.term(reader, &term(field, key))?;
                    }
                }
                set = Some(text);
            }
            for t in &restrictions.terms {
                let docs = self.bitmaps.value(reader, t)?;
                set = Some(match set {
                    Some(s) => s & &*docs,
                    None => (*docs).clone(),
                });
            }
            for weight in &restrictions.ranges {
                let docs = bitmaps::weight_bitmap(weight.as_ref(), reader)?;
                set = Some(match set {
                    Some(s) => s & docs,
                    None => docs,
                });
            }
            sets.push(match set {
                None => (*self.bitmaps.alive(reader)).clone(),
                Some(s) if reader.has_deletes() => s & &*self.bitmaps.alive(reader),
                Some(s) => s,
            });
        }
        Ok(sets)
    }

    /// Facet counts of the match sets, by AND-ing them with each facet value's bitmap.
    fn facets(&self, searcher: &Searcher, sets: &[RoaringBitmap]) -> tantivy::Result<Facets> {
        let f = &self.fields;
        let mut counts: [std::collections::HashMap<String, u64>; 3] = Default::default();
        let mut not_yet = 0u64;
        let today = days(today());
        let after_today = RangeQuery::new(
            Bound::Excluded(Term::from_field_i64(f.effective_days, today)),
            Bound::Unbounded,
        )
        .weight(EnableScoring::disabled_from_searcher(searcher))?;
        for (reader, set) in searcher.segment_readers().iter().zip(sets) {
            if set.is_empty() {
                continue;
            }
            for (k, field) in [f.doc_type, f.issuer, f.year].into_iter().enumerate() {
                for (key, value_term) in bitmaps::value_terms(reader, field)? {
                    let docs = self.bitmaps.value(reader, &value_term)?;
                    let n = set.intersection_len(&docs);
                    if n > 0 {
                        *counts[k].entry(key).or_default() += n;
                    }
                }
            }
            let after =
                self.bitmaps
                    .after_day(reader, f.effective_days, today, after_today.as_ref())?;
            not_yet += set.intersection_len(&after);
        }
        let total: u64 = sets.iter().map(RoaringBitmap::len).sum();
        let [doc_type, issuer, year] = counts.map(|m| m.into_iter().collect::<Vec<_>>());
        let by_count = |mut v: Vec<(String, u64)>| {
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v.truncate(FACET_SIZE);
            v
        };
        let mut year = year;
        year.sort_by(|a, b| {
            b.0.parse::<u64>()
                .unwrap_or(0)
                .cmp(&a.0.parse::<u64>().unwrap_or(0))
        });
        year.truncate(FACET_SIZE);
        Ok(Facets {
            doc_type: by_count(doc_type),
            issuer: by_count(issuer),
            year,
            validity: [
                (Validity::InForce.as_str().to_string(), total - not_yet),
                (Validity::NotYetInForce.as_str().to_string(), not_yet),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .collect(),
        })
    }

    /// One search. The match set is computed as bitmaps, so counting and faceting cost
    /// the same for ten matches or a million. Ranking a big match set in full would not:
    /// first passes take the best few hundred candidates each by the score of one field —
    /// the query's adjacent pairs, its syllables in the header, and (for one word, or when
    /// those found too few) the whole text — with tantivy's block-max pruning, and only
    /// those candidates get the full score (every field, the accent forms, adjacency,
    /// number-symbol keys). Pages past the window widen it.
    fn run(
        &self,
        searcher: &Searcher,
        req: &SearchRequest,
        all_syllables: bool,
        only_key: Option<&str>,
    ) -> Result<SearchResults, SearchError> {
        let f = &self.fields;
        let plan = plan(f, searcher, &req.q, DocTypeTable::builtin(), only_key);
        let restrictions = restrictions(f, searcher, req)?;
        let sets = self.match_sets(searcher, plan.as_ref(), &restrictions, all_syllables)?;
        let total: u64 = sets.iter().map(RoaringBitmap::len).sum();

        let per_page = req.per_page.clamp(1, 100);
        let offset = (req.page.max(1) - 1) * per_page;
        let want = offset + per_page;
        let ranked: Vec<(f32, DocAddress)> = match (&plan, req.sort) {
            (Some(plan), Sort::Relevance) => {
                let candidates: Vec<RoaringBitmap> = if total <= self.full_ranking_below {
                    sets.clone()
                } else {
                    let window = RESCORE_WINDOW.max(want + per_page);
                    let mut chosen = vec![RoaringBitmap::new(); sets.len()];
                    // A document carrying the number-symbol is always a candidate, and so
                    // are the documents citing it when they are few (a citation usually
                    // also matches the text, but need not).
                    let mut citing = vec![RoaringBitmap::new(); sets.len()];
                    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
                        for key in &plan.ns_keys {
                            let own = self.bitmaps.term(reader, &term(f.ns_own, key))?;
                            chosen[ord] |= &*own & &sets[ord];
                            let cited = self.bitmaps.term(reader, &term(f.ns_cited, key))?;
                            citing[ord] |= &*cited & &sets[ord];
                        }
                    }
                    if citing.iter().map(RoaringBitmap::len).sum::<u64>() <= window as u64 {
                        for (chosen, citing) in chosen.iter_mut().zip(citing) {
                            *chosen |= citing;
                        }
                    }
                    // Passes, each the best `window` of the match set by one field's score:
                    // the whole phrase (every adjacent pair), the header (every syllable),
                    // then — for a single word, or when those found too few — the whole
                    // text, where only the body tells documents with equal headers apart.
                    let passes = [
                        (f.bigrams, plan.bigrams.clone()),
                        (f.head_folded, plan.group_terms()),
                        (f.all_folded, plan.group_terms()),
                    ];
                    let mut found = 0;
                    for (k, (field, terms)) in passes.into_iter().enumerate() {
                        let last = k == 2;
                        if last && found >= window && plan.groups.len() > 1 {
                            break;
                        }
                        if let Some(query) = first_pass_query(&terms, field, all_syllables) {
                            let top = pruned_top(searcher, query.as_ref(), &sets, window)?;
                            for address in top {
                                if chosen[address.segment_ord as usize].insert(address.doc_id) {
                                    found += 1;
                                }
                            }
                        }
                    }
                    chosen
                };
                let scoring: Vec<Box<dyn Weight>> = plan
                    .scoring
                    .iter()
                    .map(|q| q.weight(EnableScoring::enabled_from_searcher(searcher)))
                    .collect::<tantivy::Result<_>>()?;
                let mut ranked = rescore(searcher, &scoring, &candidates)?;
                ranked.sort_by(|a, b| b.cmp(a));
                ranked
                    .into_iter()
                    .map(|r| (r.score, r.address))
                    .skip(offset)
                    .take(per_page)
                    .collect()
            }
            (_, sort) => top_by_date(searcher, &sets, sort != Sort::Oldest, want)?
                .into_iter()
                .skip(offset)
                .map(|a| (0.0, a))
                .collect(),
        };
        let mut hits = Vec::with_capacity(ranked.len());
        for (score, address) in ranked {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(record) = hit_record(&doc, f) {
                hits.push(Hit { score, record });
            }
        }
        let facets = if req.with_facets {
            self.facets(searcher, &sets)?
        } else {
            Facets::default()
        };
        let terms = syllables(&req.q.nfc().collect::<String>())
            .into_iter()
            .map(|(_, _, s)| {
                decode_telex(&s)
                    .map(|a| folded_form(a.trim_end_matches(|c: char| c.is_ascii_digit())))
                    .unwrap_or_else(|| folded_form(&s))
            })
            .collect();
        Ok(SearchResults {
            total: total as usize,
            hits,
            facets,
            terms,
            relaxed: false,
            number_symbol: None,
        })
    }
}

/// An HTML snippet of `text` around the densest run of query terms: HTML-escaped, matches
/// wrapped in `<mark>`. Empty when no term occurs.
pub fn snippet(text: &str, terms: &[String], max_syllables: usize) -> String {
    // Stored text is NFC already; only normalise what is not.
    let nfc: std::borrow::Cow<str> = if unicode_normalization::is_nfc(text) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.nfc().collect())
    };
    let tokens = syllables(&nfc);
    if tokens.is_empty() || terms.is_empty() {
        return String::new();
    }
    let is_match: Vec<bool> = tokens
        .iter()
        .map(|(_, _, s)| terms.iter().any(|t| *t == folded_form(s)))
        .collect();
    let window = max_syllables.min(tokens.len()).max(1);
    let mut best = (0usize, 0usize);
    let mut count = is_match[..window].iter().filter(|m| **m).count();
    best.1 = count;
    for start in 1..=tokens.len() - window {
        if is_match[start - 1] {
            count -= 1;
        }
        if is_match[start + window - 1] {
            count += 1;
        }
        if count > best.1 {
            best = (start, count);
        }
    }
    if best.1 == 0 {
        return String::new();
    }
    // Centre the window on the matches it holds, so they come with context on both sides.
    let in_window: Vec<usize> = (best.0..best.0 + window).filter(|&k| is_match[k]).collect();
    let centre = (in_window[0] + in_window[in_window.len() - 1]) / 2;
    let start = centre.saturating_sub(window / 2).min(tokens.len() - window);
    let end = start + window - 1;
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut cursor = tokens[start].0;
    for k in start..=end {
        let (from, to, _) = &tokens[k];
        out.push_str(&crate::web::html::escape(&nfc[cursor..*from]));
        if is_match[k] {
            out.push_str("<mark>");
            out.push_str(&crate::web::html::escape(&nfc[*from..*to]));
            out.push_str("</mark>");
        } else {
            out.push_str(&crate::web::html::escape(&nfc[*from..*to]));
        }
        cursor = *to;
    }
    if end + 1 < tokens.len() {
        out.push('…');
    }
    out.replace('\n', " ")
}
