//! `vanban eval-search`: relevance of the public search on a test set of queries written
//! the way citizens type, beside SQLite FTS5 (`unicode61 remove_diacritics 2`) and, when
//! a server is given, PostgreSQL full-text search with `unaccent`, on the same corpus.
//!
//! The corpus is the generated fixture PDFs (ingested through the real pipeline and
//! publication rules, so the classified plan among them is stored but never public) plus
//! a seeded synthetic corpus ([`super::corpus`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sqlx::Row;

use super::corpus::CorpusGenerator;
use super::query::SearchRequest;
use super::{IndexDocument, SearchIndex};
use crate::blob::BlobStore;
use crate::config::Settings;
use crate::doctypes::DocTypeTable;
use crate::ingest::{Ingestor, collect_files};
use crate::store::{DocumentFields, NewCitation, NewDocument, NewFile, Status, Store};

pub const CORPUS_SEED: u64 = 20_261_123;
pub const CORPUS_SIZE: usize = 3_000;

#[derive(Debug, Deserialize)]
pub struct QueryCase {
    pub q: String,
    #[serde(default)]
    pub unit: Option<String>,
    /// Relevant documents as `number_symbol` or `number_symbol@unit_code`.
    #[serde(default)]
    pub relevant: Vec<String>,
    /// The query must find nothing at all.
    #[serde(default)]
    pub expect_none: bool,
    /// Documents that must never appear (classified, not published).
    #[serde(default)]
    pub must_not: Vec<String>,
    #[serde(default)]
    pub note: String,
}

/// A ranked answer: (number_symbol, unit_code) of each hit, best first.
type Ranked = Vec<(String, String)>;

#[derive(Debug, Default, Clone)]
pub struct Scores {
    pub recall_sum: f64,
    pub reciprocal_rank_sum: f64,
    pub ranked_queries: usize,
    pub none_ok: usize,
    pub none_queries: usize,
    pub leaks: usize,
    pub failures: Vec<String>,
}

impl Scores {
    pub fn recall_at_10(&self) -> f64 {
        self.recall_sum / self.ranked_queries.max(1) as f64
    }
    pub fn mrr(&self) -> f64 {
        self.reciprocal_rank_sum / self.ranked_queries.max(1) as f64
    }
}

fn matches(spec: &str, hit: &(String, String)) -> bool {
    match spec.split_once('@') {
        Some((ns, unit)) => hit.0 == ns && hit.1 == unit,
        None => hit.0 == spec,
    }
}

pub fn score(cases: &[QueryCase], mut answer: impl FnMut(&QueryCase) -> Ranked) -> Scores {
    let mut s = Scores::default();
    for case in cases {
        let ranked = answer(case);
        let top: Vec<&(String, String)> = ranked.iter().take(10).collect();
        if case.expect_none {
            s.none_queries += 1;
            if ranked.is_empty() {
                s.none_ok += 1;
            } else {
                s.failures.push(format!(
                    "{:?}: expected nothing, got {}",
                    case.q,
                    ranked.len()
                ));
            }
        }
        for forbidden in &case.must_not {
            if ranked.iter().any(|h| matches(forbidden, h)) {
                s.leaks += 1;
                s.failures.push(format!("{:?}: LEAKED {forbidden}", case.q));
            }
        }
        if case.relevant.is_empty() {
            continue;
        }
        s.ranked_queries += 1;
        let found = case
            .relevant
            .iter()
            .filter(|spec| top.iter().any(|h| matches(spec, h)))
            .count();
        s.recall_sum += found as f64 / case.relevant.len().min(10) as f64;
        match top
            .iter()
            .position(|h| case.relevant.iter().any(|spec| matches(spec, h)))
        {
            Some(rank) => s.reciprocal_rank_sum += 1.0 / (rank + 1) as f64,
            None => s.failures.push(format!(
                "{:?}: no relevant hit in the top 10 (first: {:?})",
                case.q,
                top.first()
            )),
        }
    }
    s
}

pub fn load_cases(path: &Path) -> anyhow::Result<Vec<QueryCase>> {
    let text = std::fs::read_to_string(path)?;
    Ok(serde_json::from_str(&text)?)
}

/// A stored record for a generated document (published).
pub fn new_document(doc: &IndexDocument) -> NewDocument {
    NewDocument {
        unit_code: doc.unit_code.clone(),
        status: Status::Published,
        source: "corpus".into(),
        source_ref: None,
        external_id: None,
        file: NewFile {
            sha256: doc.sha256.clone(),
            size: doc.body.len() as i64,
            media_type: "application/pdf".into(),
            original_name: None,
        },
        metadata: DocumentFields {
            doc_type: doc.doc_type.clone(),
            number: doc.number.clone(),
            symbol: doc
                .number_symbol
                .as_deref()
                .and_then(|ns| ns.split_once('/'))
                .map(|(_, s)| s.to_string()),
            number_symbol: doc.number_symbol.clone(),
            issuer: doc.issuer.clone(),
            issued_date: doc.issued_date,
            issued_year: doc.issued_year,
            abstract_text: doc.abstract_text.clone(),
            signer_name: doc.signer_name.clone(),
            signer_title: doc.signer_title.clone(),
            text_source: "text_layer".into(),
            pages: 1,
            field_evidence: serde_json::json!({}),
            ..DocumentFields::default()
        },
        text: doc.body.clone(),
        warnings: vec![],
        citations: doc
            .citations
            .iter()
            .map(|c| NewCitation {
                number_symbol: c.clone(),
                cited_type: None,
                cited_date: None,
            })
            .collect(),
        actor: "eval-search".into(),
        status_reason: "synthetic corpus".into(),
        holds: Vec::new(),
    }
}

/// The evaluation corpus in a fresh data directory: store, blobs and index filled.
pub struct EvalCorpus {
    _dir: tempfile::TempDir,
    pub store: Store,
    pub index: SearchIndex,
    pub sqlite_path: PathBuf,
}

pub async fn build_corpus(fixtures: &Path, synthetic: usize) -> anyhow::Result<EvalCorpus> {
    let dir = tempfile::tempdir()?;
    let settings = Settings::load(
        None,
        [(
            "VANBAN__STORAGE__DATA_DIR".to_string(),
            dir.path().display().to_string(),
        )],
    )?
    .settings;
    let store = Store::connect(&settings.database_url(), 4).await?;
    let blobs = BlobStore::open(settings.blob_dir())?;
    let ingestor = Ingestor {
        store: &store,
        blobs: &blobs,
        settings: &settings,
        types: DocTypeTable::builtin(),
        unit_code: "000.46.24.H44".into(),
        publish: true,
        actor: "eval-search".into(),
    };
    let (files, _) = collect_files(&[fixtures.to_path_buf()]);
    for file in files
        .iter()
        .filter(|f| f.to_string_lossy().ends_with(".libreoffice.pdf"))
    {
        ingestor.ingest_file(file).await;
    }
    for doc in CorpusGenerator::new(CORPUS_SEED, 1).take(synthetic) {
        store.insert_document(&new_document(&doc)).await?;
    }
    let index = SearchIndex::open(&settings.index_dir())?;
    index.catch_up(&store).await?;
    Ok(EvalCorpus {
        sqlite_path: dir.path().join("vanban.db"),
        _dir: dir,
        store,
        index,
    })
}

/// Public documents as the baselines index them: id → (ns, unit, fields…).
async fn public_rows(store: &Store) -> anyhow::Result<Vec<BaselineRow>> {
    let mut rows = Vec::new();
    let mut after = 0;
    loop {
        let ids = store.published_ids_after(after, 500).await?;
        let Some(&last) = ids.last() else { break };
        for id in ids {
            let r = store.get_document(id).await?;
            let f = r.fields;
            rows.push(BaselineRow {
                id,
                unit: r.unit_code,
                number_symbol: f.number_symbol.unwrap_or_default(),
                doc_type: f.doc_type.unwrap_or_default(),
                issuer: f.issuer.unwrap_or_default(),
                abstract_text: f.abstract_text.unwrap_or_default(),
                signer: f.signer_name.unwrap_or_default(),
                body: store.document_text(id).await.unwrap_or_default(),
            });
        }
        after = last;
    }
    Ok(rows)
}

pub struct BaselineRow {
    pub id: i64,
    pub unit: String,
    pub number_symbol: String,
    pub doc_type: String,
    pub issuer: String,
    pub abstract_text: String,
    pub signer: String,
    pub body: String,
}

/// Query words for the baselines: what a site would pass through from the search box.
pub fn baseline_words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// SQLite FTS5 with `unicode61 remove_diacritics 2` over the same public documents.
pub struct Fts5Baseline {
    pool: sqlx::SqlitePool,
    units: HashMap<i64, (String, String)>,
}

impl Fts5Baseline {
    pub async fn build(path: &Path, rows: &[BaselineRow]) -> anyhow::Result<Fts5Baseline> {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let pool = sqlx::SqlitePool::connect(&url).await?;
        sqlx::query("DROP TABLE IF EXISTS baseline_fts")
            .execute(&pool)
            .await?;
        sqlx::query(
            "CREATE VIRTUAL TABLE baseline_fts USING fts5(number_symbol, doc_type, issuer, abstract, signer, body, \
             tokenize = 'unicode61 remove_diacritics 2')",
        )
        .execute(&pool)
        .await?;
        let mut tx = pool.begin().await?;
        for r in rows {
            sqlx::query(
                "INSERT INTO baseline_fts (rowid, number_symbol, doc_type, issuer, abstract, signer, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(r.id)
            .bind(&r.number_symbol)
            .bind(&r.doc_type)
            .bind(&r.issuer)
            .bind(&r.abstract_text)
            .bind(&r.signer)
            .bind(&r.body)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let units = rows
            .iter()
            .map(|r| (r.id, (r.number_symbol.clone(), r.unit.clone())))
            .collect();
        Ok(Fts5Baseline { pool, units })
    }

    /// Every word must match (FTS5's implicit AND); best BM25 first.
    pub async fn search(&self, q: &str, unit: Option<&str>, limit: i64) -> Ranked {
        let words = baseline_words(q);
        if words.is_empty() {
            return Vec::new();
        }
        let expression = words
            .iter()
            .map(|w| format!("\"{}\"", w.replace('"', "")))
            .collect::<Vec<_>>()
            .join(" ");
        let rows = sqlx::query(
            "SELECT rowid FROM baseline_fts WHERE baseline_fts MATCH $1 ORDER BY bm25(baseline_fts) LIMIT $2",
        )
        .bind(&expression)
        .bind(limit * 4)
        .fetch_all(&self.pool)
        .await
        .unwrap_or_default();
        rows.iter()
            .filter_map(|r| r.try_get::<i64, _>(0).ok())
            .filter_map(|id| self.units.get(&id).cloned())
            .filter(|(_, u)| unit.is_none_or(|want| want == u))
            .take(limit as usize)
            .collect()
    }
}

/// A pool on the scratch database with `unaccent` and the indexable wrapper the
/// PostgreSQL baselines use.
pub async fn postgres_baseline_pool(url: &str, connections: u32) -> anyhow::Result<sqlx::PgPool> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(connections)
        .connect(url)
        .await?;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS unaccent")
        .execute(&pool)
        .await?;
    // unaccent() is not IMMUTABLE; a wrapper is, so the expression can be indexed.
    sqlx::query(
        "CREATE OR REPLACE FUNCTION baseline_unaccent(text) RETURNS text \
         LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT public.unaccent('public.unaccent', $1) $$",
    )
    .execute(&pool)
    .await?;
    Ok(pool)
}

/// PostgreSQL full-text search (`simple` configuration over `unaccent`), same documents.
pub struct PostgresBaseline {
    pool: sqlx::PgPool,
}

impl PostgresBaseline {
    pub async fn build(url: &str, rows: &[BaselineRow]) -> anyhow::Result<PostgresBaseline> {
        let pool = postgres_baseline_pool(url, 4).await?;
        sqlx::query("DROP TABLE IF EXISTS baseline_docs")
            .execute(&pool)
            .await?;
        sqlx::query(
            "CREATE TABLE baseline_docs (id BIGINT PRIMARY KEY, unit TEXT, number_symbol TEXT, \
             tsv tsvector)",
        )
        .execute(&pool)
        .await?;
        for chunk in rows.chunks(200) {
            let mut tx = pool.begin().await?;
            for r in chunk {
                sqlx::query(
                    "INSERT INTO baseline_docs (id, unit, number_symbol, tsv) VALUES ($1, $2, $3, \
                     setweight(to_tsvector('simple', baseline_unaccent($4)), 'A') || \
                     setweight(to_tsvector('simple', baseline_unaccent($5)), 'B') || \
                     to_tsvector('simple', baseline_unaccent($6)))",
                )
                .bind(r.id)
                .bind(&r.unit)
                .bind(&r.number_symbol)
                .bind(format!(
                    "{} {} {}",
                    r.number_symbol, r.doc_type, r.abstract_text
                ))
                .bind(format!("{} {}", r.issuer, r.signer))
                .bind(&r.body)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
        sqlx::query("CREATE INDEX baseline_docs_tsv ON baseline_docs USING gin (tsv)")
            .execute(&pool)
            .await?;
        sqlx::query("ANALYZE baseline_docs").execute(&pool).await?;
        Ok(PostgresBaseline { pool })
    }

    pub async fn search(&self, q: &str, unit: Option<&str>, limit: i64) -> Ranked {
        let rows = sqlx::query(
            "SELECT number_symbol, unit FROM baseline_docs \
             WHERE tsv @@ plainto_tsquery('simple', baseline_unaccent($1)) AND ($2::text IS NULL OR unit = $2) \
             ORDER BY ts_rank(tsv, plainto_tsquery('simple', baseline_unaccent($1))) DESC LIMIT $3",
        )
        .bind(q)
        .bind(unit)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .unwrap_or_default();
        rows.iter()
            .filter_map(|r| Some((r.try_get(0).ok()?, r.try_get(1).ok()?)))
            .collect()
    }
}

pub fn vanban_answer(index: &SearchIndex, case: &QueryCase) -> Ranked {
    let req = SearchRequest {
        q: case.q.clone(),
        unit: case.unit.clone(),
        page: 1,
        per_page: 100,
        ..SearchRequest::default()
    };
    match index.search(&req) {
        Ok(results) => results
            .hits
            .into_iter()
            .map(|h| {
                (
                    h.record.number_symbol.unwrap_or_default(),
                    h.record.unit_code,
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Runs the whole evaluation and renders a report.
pub async fn run(
    fixtures: &Path,
    cases_path: &Path,
    postgres: Option<&str>,
) -> anyhow::Result<EvalOutcome> {
    let cases = load_cases(cases_path)?;
    let corpus = build_corpus(fixtures, CORPUS_SIZE).await?;
    let ours = score(&cases, |case| vanban_answer(&corpus.index, case));
    let rows = public_rows(&corpus.store).await?;
    let fts = Fts5Baseline::build(&corpus.sqlite_path, &rows).await?;
    let mut fts_answers = Vec::new();
    for case in &cases {
        fts_answers.push(fts.search(&case.q, case.unit.as_deref(), 100).await);
    }
    let mut answers = fts_answers.into_iter();
    let fts_scores = score(&cases, |_| answers.next().unwrap_or_default());
    let pg_scores = match postgres {
        Some(url) => {
            let pg = PostgresBaseline::build(url, &rows).await?;
            let mut pg_answers = Vec::new();
            for case in &cases {
                pg_answers.push(pg.search(&case.q, case.unit.as_deref(), 100).await);
            }
            let mut answers = pg_answers.into_iter();
            Some(score(&cases, |_| answers.next().unwrap_or_default()))
        }
        None => None,
    };
    let mut out = format!(
        "{} queries ({} ranked, {} must find nothing) over {} public documents\n\n",
        cases.len(),
        ours.ranked_queries,
        ours.none_queries,
        rows.len()
    );
    out.push_str("engine                         recall@10    MRR   nothing-ok  leaks\n");
    let mut line = |name: &str, s: &Scores| {
        out.push_str(&format!(
            "{name:<30} {:>8.3} {:>7.3}   {:>4}/{:<4}  {:>5}\n",
            s.recall_at_10(),
            s.mrr(),
            s.none_ok,
            s.none_queries,
            s.leaks
        ));
    };
    line("vanban (tantivy)", &ours);
    line("SQLite FTS5 remove_diacritics", &fts_scores);
    match &pg_scores {
        Some(s) => line("PostgreSQL FTS + unaccent", s),
        None => out.push_str("PostgreSQL FTS + unaccent      (not run: pass --postgres URL)\n"),
    }
    if !ours.failures.is_empty() {
        out.push_str("\nvanban misses:\n");
        for f in &ours.failures {
            out.push_str(&format!("  {f}\n"));
        }
    }
    Ok(EvalOutcome {
        report: out,
        vanban: ours,
        fts5: fts_scores,
        postgres: pg_scores,
    })
}

pub struct EvalOutcome {
    pub report: String,
    pub vanban: Scores,
    pub fts5: Scores,
    pub postgres: Option<Scores>,
}
