//! From what a citizen types to a ranked, filtered, faceted result page.
//!
//! Every syllable of the query must match (in any field, in any of its forms: with its
//! diacritics, folded, decoded from Telex, expanded from an abbreviation, or one typo
//! away when long); matches on the accent-preserving fields, in the abstract and type,
//! and on adjacent syllables (bigrams) score higher. A query that looks like a
//! number-symbol also matches the number-symbol keys, far above any text match, and a
//! document's own number far above documents that merely cite it. When no document has
//! every syllable, the query is retried with any syllable.

use std::ops::Bound;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;
use tantivy::aggregation::AggregationCollector;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, PhraseQuery, Query,
    RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, Order, Searcher, TantivyDocument, Term};
use unicode_normalization::UnicodeNormalization;

use super::analysis::{
    accent_form, decode_telex, folded_form, has_marks, number_symbol_parts,
    number_symbol_query_keys, syllables,
};
use super::{Fields, HitRecord, SearchError, SearchIndex, buckets, days, hit_record, today};
use crate::doctypes::DocTypeTable;

/// Abbreviations citizens type for types and bodies, with the words they stand for.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("qd", "quyet dinh"),
    ("nd", "nghi dinh"),
    ("nq", "nghi quyet"),
    ("tt", "thong tu"),
    ("ct", "chi thi"),
    ("kh", "ke hoach"),
    ("tb", "thong bao"),
    ("bc", "bao cao"),
    ("cv", "cong van"),
    ("ubnd", "uy ban nhan dan"),
    ("hdnd", "hoi dong nhan dan"),
    ("tthc", "thu tuc hanh chinh"),
    ("vbqppl", "van ban quy pham phap luat"),
    ("tp", "thanh pho"),
];

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
}

/// Field weights: type and abstract above signer and issuer above body.
struct Weights;
impl Weights {
    const ABSTRACT: f32 = 4.0;
    const TYPE: f32 = 3.0;
    const ISSUER: f32 = 2.0;
    const SIGNER: f32 = 2.0;
    const BODY: f32 = 1.0;
    /// Accent-preserving matches count this much more than folded ones.
    const ACCENT: f32 = 1.6;
    const BIGRAM: f32 = 1.5;
    const FUZZY: f32 = 0.25;
    const OWN_NUMBER: f32 = 40.0;
    const CITED_NUMBER: f32 = 6.0;
}

fn term(field: Field, text: &str) -> Term {
    Term::from_field_text(field, text)
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, boost))
}

fn term_query(field: Field, text: &str, boost: f32) -> Box<dyn Query> {
    boosted(
        Box::new(TermQuery::new(
            term(field, text),
            IndexRecordOption::WithFreqs,
        )),
        boost,
    )
}

/// The ways one query syllable can match.
/// `expand_abbreviations` is off for number-symbol queries: there "ubnd" and "qd" are
/// symbol parts that occur literally, and phrase-matching "uy ban nhan dan" against every
/// issuer would cost milliseconds for nothing.
fn syllable_alternatives(
    f: &Fields,
    searcher: &Searcher,
    syllable: &str,
    expand_abbreviations: bool,
) -> Box<dyn Query> {
    let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let folded_fields = [
        (f.abstract_folded, Weights::ABSTRACT),
        (f.type_folded, Weights::TYPE),
        (f.issuer_folded, Weights::ISSUER),
        (f.signer_folded, Weights::SIGNER),
        (f.body_folded, Weights::BODY),
    ];
    let accent_fields = [
        (f.abstract_accent, Weights::ABSTRACT),
        (f.type_accent, Weights::TYPE),
        (f.issuer_accent, Weights::ISSUER),
        (f.signer_accent, Weights::SIGNER),
        (f.body_accent, Weights::BODY),
    ];
    let add_folded = |folded: &str, factor: f32, out: &mut Vec<(Occur, Box<dyn Query>)>| {
        for (field, w) in folded_fields {
            out.push((Occur::Should, term_query(field, folded, w * factor)));
        }
    };
    let folded = folded_form(syllable);
    add_folded(&folded, 1.0, &mut alternatives);
    if has_marks(syllable) {
        let accent = accent_form(syllable);
        for (field, w) in accent_fields {
            alternatives.push((
                Occur::Should,
                term_query(field, &accent, w * Weights::ACCENT),
            ));
        }
    }
    if let Some(accent) = decode_telex(syllable) {
        let decoded_folded = folded_form(accent.trim_end_matches(|c: char| c.is_ascii_digit()));
        add_folded(&decoded_folded, 1.0, &mut alternatives);
        for (field, w) in accent_fields {
            alternatives.push((Occur::Should, term_query(field, &accent, w)));
        }
    }
    if let Some((_, expansion)) = ABBREVIATIONS
        .iter()
        .find(|(a, _)| expand_abbreviations && *a == folded)
    {
        let words: Vec<&str> = expansion.split(' ').collect();
        // Not over the body: a phrase of four very common syllables ("uy ban nhan dan")
        // across every body costs milliseconds, and the abbreviation itself is matched there.
        for (field, w) in [
            (f.abstract_folded, Weights::ABSTRACT),
            (f.type_folded, Weights::TYPE),
            (f.issuer_folded, Weights::ISSUER),
        ] {
            let terms: Vec<Term> = words.iter().map(|word| term(field, word)).collect();
            alternatives.push((Occur::Should, boosted(Box::new(PhraseQuery::new(terms)), w)));
        }
    }
    // One typo, on long syllables the index does not know: short ones have too many
    // neighbours in Vietnamese, and expanding a word that exists ("trien" → "trieu",
    // "tien"…) only adds million-entry posting lists to every query.
    let unknown = |field: Field| {
        searcher
            .doc_freq(&term(field, &folded))
            .is_ok_and(|n| n == 0)
    };
    if folded.chars().count() >= 5
        && !folded.chars().all(|c| c.is_ascii_digit())
        && unknown(f.body_folded)
        && unknown(f.abstract_folded)
    {
        for field in [f.abstract_folded, f.body_folded] {
            alternatives.push((
                Occur::Should,
                boosted(
                    Box::new(FuzzyTermQuery::new(term(field, &folded), 1, true)),
                    Weights::FUZZY,
                ),
            ));
        }
    }
    Box::new(BooleanQuery::new(alternatives))
}

fn number_symbol_query(f: &Fields, parts: &[String]) -> Box<dyn Query> {
    let keys = number_symbol_query_keys(parts);
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for key in &keys {
        // The whole key scores more than one pairing; several pairings add up.
        let weight = if key.contains(':') { 1.0 } else { 3.0 };
        clauses.push((
            Occur::Should,
            term_query(f.ns_own, key, Weights::OWN_NUMBER * weight),
        ));
        clauses.push((
            Occur::Should,
            term_query(f.ns_cited, key, Weights::CITED_NUMBER * weight),
        ));
    }
    Box::new(BooleanQuery::new(clauses))
}

/// The text part of a query: `None` for an empty query (list everything).
///
/// Shape: (all syllables [or, relaxed, all but one]  OR  the number-symbol keys) and, as
/// score only, adjacent-syllable bigrams.
fn text_query(
    f: &Fields,
    searcher: &Searcher,
    q: &str,
    all_syllables: bool,
    types: &DocTypeTable,
) -> Option<Box<dyn Query>> {
    let nfc: String = q.nfc().collect();
    let syllables: Vec<String> = syllables(&nfc).into_iter().map(|(_, _, s)| s).collect();
    if syllables.is_empty() {
        return None;
    }
    let mut parts = number_symbol_parts(&nfc);
    let number_symbol_like =
        parts.len() >= 2 && parts.iter().any(|p| p.chars().all(|c| c.is_ascii_digit()));
    let groups: Vec<(Occur, Box<dyn Query>)> = syllables
        .iter()
        .map(|s| {
            (
                if all_syllables {
                    Occur::Must
                } else {
                    Occur::Should
                },
                syllable_alternatives(f, searcher, s, !number_symbol_like),
            )
        })
        .collect();
    let text: Box<dyn Query> = if all_syllables {
        Box::new(BooleanQuery::new(groups))
    } else {
        let n = groups.len();
        let minimum = if n >= 3 { n - 1 } else { 1 };
        Box::new(BooleanQuery::with_minimum_required_clauses(groups, minimum))
    };
    let mut core: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, text)];
    if parts.iter().any(|p| p.chars().all(|c| c.is_ascii_digit())) {
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
            core.push((Occur::Should, number_symbol_query(f, &parts)));
        }
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
        Occur::Must,
        Box::new(BooleanQuery::with_minimum_required_clauses(core, 1)),
    )];
    // Adjacent syllables, adjacent in the document: a phrase match ranks first.
    for pair in syllables.windows(2) {
        let bigram = format!("{}_{}", folded_form(&pair[0]), folded_form(&pair[1]));
        clauses.push((
            Occur::Should,
            term_query(f.bigrams, &bigram, Weights::BIGRAM),
        ));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

fn filters(f: &Fields, req: &SearchRequest) -> Vec<(Occur, Box<dyn Query>)> {
    let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut must = |q: Box<dyn Query>| {
        out.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(q, 0.0)) as Box<dyn Query>,
        ))
    };
    if let Some(unit) = &req.unit {
        must(Box::new(TermQuery::new(
            term(f.unit, unit),
            IndexRecordOption::Basic,
        )));
    }
    if let Some(t) = &req.doc_type {
        must(Box::new(TermQuery::new(
            term(f.doc_type, t),
            IndexRecordOption::Basic,
        )));
    }
    if let Some(issuer) = &req.issuer {
        must(Box::new(TermQuery::new(
            term(f.issuer, issuer),
            IndexRecordOption::Basic,
        )));
    }
    if let Some(year) = req.year {
        must(Box::new(TermQuery::new(
            Term::from_field_u64(f.year, year.max(0) as u64),
            IndexRecordOption::Basic,
        )));
    }
    if req.from.is_some() || req.to.is_some() {
        let lower = req.from.map_or(Bound::Unbounded, |d| {
            Bound::Included(Term::from_field_i64(f.issued_days, days(d)))
        });
        let upper = req.to.map_or(Bound::Unbounded, |d| {
            Bound::Included(Term::from_field_i64(f.issued_days, days(d)))
        });
        must(Box::new(RangeQuery::new(lower, upper)));
    }
    if let Some(validity) = req.validity {
        let today = days(today());
        let (lower, upper) = match validity {
            Validity::InForce => (
                Bound::Unbounded,
                Bound::Included(Term::from_field_i64(f.effective_days, today)),
            ),
            Validity::NotYetInForce => (
                Bound::Excluded(Term::from_field_i64(f.effective_days, today)),
                Bound::Unbounded,
            ),
        };
        must(Box::new(RangeQuery::new(lower, upper)));
    }
    out
}

fn facet_aggregations() -> Aggregations {
    let today = days(today()) as f64;
    serde_json::from_value(serde_json::json!({
        "doc_type": {"terms": {"field": "doc_type", "size": 50}},
        "issuer": {"terms": {"field": "issuer", "size": 50}},
        "year": {"terms": {"field": "year", "size": 50, "order": {"_key": "desc"}}},
        "validity": {"range": {"field": "effective_days", "ranges": [
            {"key": "in_force", "to": today + 1.0},
            {"key": "not_yet_in_force", "from": today + 1.0}
        ]}}
    }))
    .expect("valid aggregation request")
}

impl SearchIndex {
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResults, SearchError> {
        let searcher = self.reader.searcher();
        let first = self.run(&searcher, req, true)?;
        if first.total > 0 || req.q.trim().is_empty() {
            return Ok(first);
        }
        let mut relaxed = self.run(&searcher, req, false)?;
        relaxed.relaxed = true;
        Ok(relaxed)
    }

    fn run(
        &self,
        searcher: &Searcher,
        req: &SearchRequest,
        all_syllables: bool,
    ) -> Result<SearchResults, SearchError> {
        let f = &self.fields;
        let text = text_query(f, searcher, &req.q, all_syllables, DocTypeTable::builtin());
        let has_text = text.is_some();
        let mut clauses = filters(f, req);
        clauses.push((Occur::Must, text.unwrap_or_else(|| Box::new(AllQuery))));
        let query = BooleanQuery::new(clauses);

        let per_page = req.per_page.clamp(1, 100);
        let offset = (req.page.max(1) - 1) * per_page;
        let top = TopDocs::with_limit(per_page).and_offset(offset);
        let sort = match req.sort {
            Sort::Relevance if has_text => None,
            Sort::Relevance | Sort::Newest => Some(Order::Desc),
            Sort::Oldest => Some(Order::Asc),
        };
        let (addresses, total, aggregations): (Vec<(f32, DocAddress)>, usize, Value) = if req
            .with_facets
        {
            let aggs = AggregationCollector::from_aggs(facet_aggregations(), Default::default());
            match sort {
                None => {
                    let (docs, count, aggs) =
                        searcher.search(&query, &(top.order_by_score(), Count, aggs))?;
                    (docs, count, serde_json::to_value(aggs).unwrap_or_default())
                }
                Some(order) => {
                    let (docs, count, aggs) = searcher.search(
                        &query,
                        &(
                            top.order_by_fast_field::<i64>("sort_days", order),
                            Count,
                            aggs,
                        ),
                    )?;
                    (
                        docs.into_iter().map(|(_, a)| (0.0, a)).collect(),
                        count,
                        serde_json::to_value(aggs).unwrap_or_default(),
                    )
                }
            }
        } else {
            match sort {
                None => {
                    let (docs, count) = searcher.search(&query, &(top.order_by_score(), Count))?;
                    (docs, count, Value::Null)
                }
                Some(order) => {
                    let (docs, count) = searcher.search(
                        &query,
                        &(top.order_by_fast_field::<i64>("sort_days", order), Count),
                    )?;
                    (
                        docs.into_iter().map(|(_, a)| (0.0, a)).collect(),
                        count,
                        Value::Null,
                    )
                }
            }
        };
        let mut hits = Vec::with_capacity(addresses.len());
        for (score, address) in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(record) = hit_record(&doc, f) {
                hits.push(Hit { score, record });
            }
        }
        let facets = if req.with_facets {
            Facets {
                doc_type: buckets(&aggregations, "doc_type"),
                issuer: buckets(&aggregations, "issuer"),
                year: buckets(&aggregations, "year"),
                validity: buckets(&aggregations, "validity")
                    .into_iter()
                    .filter(|(_, n)| *n > 0)
                    .collect(),
            }
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
            total,
            hits,
            facets,
            terms,
            relaxed: false,
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
