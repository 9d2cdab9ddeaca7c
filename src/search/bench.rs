//! `vanban bench search`: index time and size, and query latency of the public search on
//! a generated corpus, beside SQLite FTS5 (`unicode61 remove_diacritics 2`) and PostgreSQL
//! full-text search (`unaccent`) on the same documents and queries, in the same run.

use std::path::Path;
use std::time::{Duration, Instant};

use sqlx::Row;

use super::SearchIndex;
use super::corpus::{CorpusGenerator, Rng};
use super::eval::baseline_words;
use super::query::SearchRequest;
use crate::text::fold;

pub const BENCH_SEED: u64 = 7;
/// Queries of the mix whose first page is compared with the full ranking.
const FIRST_PASS_SAMPLE: usize = 50;

/// A query of the mix, with its kind for the report.
pub struct BenchQuery {
    pub kind: &'static str,
    pub q: String,
}

/// The query mix: number-symbols typed loosely, unaccented topic words, signer names,
/// Telex, and one- or two-word queries; drawn from the corpus itself.
pub fn query_mix(count: usize, corpus_size: usize) -> Vec<BenchQuery> {
    let mut rng = Rng::new(99);
    let sample: Vec<_> = CorpusGenerator::new(BENCH_SEED, 1)
        .take(corpus_size.min(5_000))
        .collect();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let doc = &sample[rng.below(sample.len())];
        let ns = doc.number_symbol.clone().unwrap_or_default();
        let abstract_words: Vec<String> = fold(doc.abstract_text.as_deref().unwrap_or(""))
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        let (kind, q) = match i % 5 {
            0 => (
                "number-symbol",
                match rng.below(3) {
                    0 => ns.replace('Đ', "D"),
                    1 => ns.replace(['/', '-'], " "),
                    _ => {
                        let (number, symbol) = ns.split_once('/').unwrap_or((&ns, ""));
                        format!("{} {number}", fold(symbol.split('-').next().unwrap_or("")))
                    }
                },
            ),
            1 => {
                let start = rng.below(abstract_words.len().saturating_sub(3).max(1));
                (
                    "topic words",
                    abstract_words[start..(start + 4).min(abstract_words.len())].join(" "),
                )
            }
            2 => ("signer", fold(doc.signer_name.as_deref().unwrap_or(""))),
            3 => (
                "one or two words",
                abstract_words[rng.below(abstract_words.len())].clone(),
            ),
            _ => (
                "phrase",
                abstract_words
                    .iter()
                    .take(6)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        };
        out.push(BenchQuery { kind, q });
    }
    out
}

fn dir_size(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let k = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[k]
}

pub struct EngineResult {
    pub name: &'static str,
    /// Column heading of the per-kind tables.
    pub short: &'static str,
    pub index_time: Duration,
    pub index_bytes: u64,
    pub latencies: Vec<Duration>,
}

impl EngineResult {
    fn p(&self, q: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        percentile(&sorted, q)
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// What one `bench search` run does.
pub struct BenchOptions<'a> {
    pub docs: usize,
    pub queries: usize,
    pub postgres: Option<&'a str>,
    pub work_dir: Option<&'a Path>,
    /// Keep the tantivy index here and reuse it when it already holds `docs` documents
    /// of the current schema (its build time is then reported as 0).
    pub index_dir: Option<&'a Path>,
    /// Skip the SQLite FTS5 baseline (tuning runs; the report then has no ratios).
    pub skip_fts5: bool,
}

pub async fn run(
    options: BenchOptions<'_>,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<String> {
    let BenchOptions {
        docs,
        queries,
        postgres,
        work_dir,
        index_dir,
        skip_fts5,
    } = options;
    let tmp = tempfile::tempdir_in(work_dir.unwrap_or(&std::env::temp_dir()))?;
    let mix = query_mix(queries, docs);
    let mut results = Vec::new();

    // vanban (tantivy), on disk.
    let index_dir = index_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| tmp.path().join("tantivy"));
    let index = SearchIndex::open(&index_dir)?.with_writer_heap(512 << 20);
    let start = Instant::now();
    if index.num_docs() != docs as u64 {
        progress("indexing with tantivy");
        index.clear()?;
        let mut batch = Vec::with_capacity(1_000);
        for doc in CorpusGenerator::new(BENCH_SEED, 1).take(docs) {
            batch.push(doc);
            if batch.len() == 1_000 {
                index.upsert(&batch)?;
                batch.clear();
            }
        }
        index.upsert(&batch)?;
        index.commit(0)?;
        index.compact()?;
    }
    let index_time = start.elapsed();
    let index_bytes = dir_size(&index_dir);
    let engine = |name, short| EngineResult {
        name,
        short,
        index_time,
        index_bytes,
        latencies: Vec::new(),
    };
    // The first round runs with the bitmap cache empty (a fresh server); the others after
    // a warm-up round of their own kind.
    let mut engines = [
        engine(
            "vanban (tantivy), API query, first round (cold cache)",
            "vanban cold",
        ),
        engine("vanban (tantivy), top 20 only", "vanban top20"),
        engine(
            "vanban (tantivy), API query: top 20 + count + facets",
            "vanban API",
        ),
    ];
    progress("querying tantivy");
    for (with_facets, recorded_in) in [
        (true, Some(0)),
        (false, None),
        (false, Some(1)),
        (true, None),
        (true, Some(2)),
    ] {
        for q in &mix {
            let req = SearchRequest {
                q: q.q.clone(),
                page: 1,
                per_page: 20,
                with_facets,
                ..SearchRequest::default()
            };
            let t = Instant::now();
            let _ = index.search(&req)?;
            if let Some(k) = recorded_in {
                engines[k].latencies.push(t.elapsed());
            }
        }
    }
    // How much of the full ranking's first page the first pass keeps (the full ranking
    // scores every match: slow on purpose, so only a sample of the mix).
    progress("comparing the first pass with the full ranking");
    let full = SearchIndex::open(&index_dir)?.with_full_ranking_below(u64::MAX);
    // (kind, kept, compared)
    let mut overlap: Vec<(&str, usize, usize)> = Vec::new();
    // The first queries of the mix: kinds take turns, so every kind is sampled.
    for q in mix.iter().take(FIRST_PASS_SAMPLE) {
        let req = SearchRequest {
            q: q.q.clone(),
            page: 1,
            per_page: 20,
            ..SearchRequest::default()
        };
        let fast: Vec<u64> = index
            .search(&req)?
            .hits
            .iter()
            .map(|h| h.record.id)
            .collect();
        let exact = full.search(&req)?;
        let kept = exact
            .hits
            .iter()
            .filter(|h| fast.contains(&h.record.id))
            .count();
        match overlap.iter_mut().find(|(kind, _, _)| *kind == q.kind) {
            Some(row) => {
                row.1 += kept;
                row.2 += exact.hits.len();
            }
            None => overlap.push((q.kind, kept, exact.hits.len())),
        }
    }
    drop(full);
    drop(index);
    let [cold, top, api] = engines;
    results.push(top);
    results.push(api);
    results.push(cold);

    // SQLite FTS5.
    if !skip_fts5 {
        progress("indexing with SQLite FTS5");
        let sqlite_path = tmp.path().join("fts5.db");
        let pool =
            sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", sqlite_path.display()))
                .await?;
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&pool)
            .await?;
        sqlx::query("PRAGMA synchronous = OFF")
            .execute(&pool)
            .await?;
        sqlx::query(
        "CREATE VIRTUAL TABLE fts USING fts5(number_symbol, doc_type, issuer, abstract, signer, body, \
         tokenize = 'unicode61 remove_diacritics 2')",
    )
    .execute(&pool)
    .await?;
        let start = Instant::now();
        let mut tx = pool.begin().await?;
        for (i, doc) in CorpusGenerator::new(BENCH_SEED, 1).take(docs).enumerate() {
            sqlx::query("INSERT INTO fts (rowid, number_symbol, doc_type, issuer, abstract, signer, body) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(doc.id as i64)
            .bind(&doc.number_symbol)
            .bind(&doc.doc_type)
            .bind(&doc.issuer)
            .bind(&doc.abstract_text)
            .bind(&doc.signer_name)
            .bind(&doc.body)
            .execute(&mut *tx)
            .await?;
            if i % 10_000 == 9_999 {
                tx.commit().await?;
                tx = pool.begin().await?;
            }
        }
        tx.commit().await?;
        sqlx::query("INSERT INTO fts(fts) VALUES('optimize')")
            .execute(&pool)
            .await?;
        let mut fts5 = EngineResult {
            name: "SQLite FTS5 remove_diacritics 2, top 20",
            short: "SQLite FTS5",
            index_time: start.elapsed(),
            index_bytes: std::fs::metadata(&sqlite_path)
                .map(|m| m.len())
                .unwrap_or(0),
            latencies: Vec::new(),
        };
        progress("querying SQLite FTS5");
        for round in 0..2 {
            for q in &mix {
                let words = baseline_words(&q.q);
                let expression = words
                    .iter()
                    .map(|w| format!("\"{w}\""))
                    .collect::<Vec<_>>()
                    .join(" ");
                let t = Instant::now();
                let _ = sqlx::query(
                    "SELECT rowid FROM fts WHERE fts MATCH $1 ORDER BY bm25(fts) LIMIT 20",
                )
                .bind(&expression)
                .fetch_all(&pool)
                .await;
                if round == 1 {
                    fts5.latencies.push(t.elapsed());
                }
            }
        }
        pool.close().await;
        results.push(fts5);
    }

    // PostgreSQL full-text search.
    if let Some(url) = postgres {
        progress("indexing with PostgreSQL");
        let pool = super::eval::postgres_baseline_pool(url, 2).await?;
        sqlx::query("DROP TABLE IF EXISTS bench_docs")
            .execute(&pool)
            .await?;
        sqlx::query("CREATE TABLE bench_docs (id BIGINT PRIMARY KEY, tsv tsvector)")
            .execute(&pool)
            .await?;
        let start = Instant::now();
        let mut tx = pool.begin().await?;
        for (i, doc) in CorpusGenerator::new(BENCH_SEED, 1).take(docs).enumerate() {
            sqlx::query(
                "INSERT INTO bench_docs (id, tsv) VALUES ($1, \
                 setweight(to_tsvector('simple', baseline_unaccent($2)), 'A') || to_tsvector('simple', baseline_unaccent($3)))",
            )
            .bind(doc.id as i64)
            .bind(format!(
                "{} {} {} {} {}",
                doc.number_symbol.as_deref().unwrap_or(""),
                doc.doc_type.as_deref().unwrap_or(""),
                doc.abstract_text.as_deref().unwrap_or(""),
                doc.issuer.as_deref().unwrap_or(""),
                doc.signer_name.as_deref().unwrap_or("")
            ))
            .bind(&doc.body)
            .execute(&mut *tx)
            .await?;
            if i % 10_000 == 9_999 {
                tx.commit().await?;
                tx = pool.begin().await?;
            }
        }
        tx.commit().await?;
        sqlx::query("CREATE INDEX bench_docs_tsv ON bench_docs USING gin (tsv)")
            .execute(&pool)
            .await?;
        sqlx::query("VACUUM ANALYZE bench_docs")
            .execute(&pool)
            .await?;
        let size: i64 = sqlx::query("SELECT pg_total_relation_size('bench_docs')")
            .fetch_one(&pool)
            .await?
            .try_get(0)?;
        let mut pg = EngineResult {
            name: "PostgreSQL FTS + unaccent (GIN), top 20",
            short: "PostgreSQL",
            index_time: start.elapsed(),
            index_bytes: size as u64,
            latencies: Vec::new(),
        };
        progress("querying PostgreSQL");
        for round in 0..2 {
            for q in &mix {
                let t = Instant::now();
                let _ = sqlx::query(
                    "SELECT id FROM bench_docs WHERE tsv @@ plainto_tsquery('simple', baseline_unaccent($1)) \
                     ORDER BY ts_rank(tsv, plainto_tsquery('simple', baseline_unaccent($1))) DESC LIMIT 20",
                )
                .bind(&q.q)
                .fetch_all(&pool)
                .await;
                if round == 1 {
                    pg.latencies.push(t.elapsed());
                }
            }
        }
        sqlx::query("DROP TABLE bench_docs").execute(&pool).await?;
        pool.close().await;
        results.push(pg);
    }

    let fts5_p50 = results
        .iter()
        .find(|r| r.name.starts_with("SQLite"))
        .map(|r| r.p(0.5))
        .unwrap_or_default();
    let mut out = format!(
        "{docs} generated documents (seed {BENCH_SEED}), {} queries × 1 timed round (after a warm-up round)\n\n",
        mix.len()
    );
    out.push_str("engine                                                 index time   index size     p50        p99     p50 vs FTS5\n");
    for r in &results {
        let ratio = if fts5_p50.is_zero() {
            "–".to_string()
        } else {
            format!("{:.2}×", r.p(0.5).as_secs_f64() / fts5_p50.as_secs_f64())
        };
        out.push_str(&format!(
            "{:<54} {:>9.1} s {:>9.1} MB {:>10} {:>10} {:>9}\n",
            r.name,
            r.index_time.as_secs_f64(),
            r.index_bytes as f64 / 1e6,
            ms(r.p(0.5)),
            ms(r.p(0.99)),
            ratio,
        ));
    }
    let (kept, compared) = overlap
        .iter()
        .fold((0, 0), |(k, c), row| (k + row.1, c + row.2));
    out.push_str(&format!(
        "\nfirst pass: {:.1} % of the full ranking's top 20 kept ({kept} of {compared}; by kind: {})\n",
        100.0 * kept as f64 / compared.max(1) as f64,
        overlap
            .iter()
            .map(|(kind, k, c)| format!("{kind} {k}/{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let kinds: Vec<&str> = {
        let mut k: Vec<&str> = mix.iter().map(|q| q.kind).collect();
        k.dedup();
        k.sort();
        k.dedup();
        k
    };
    for (label, q) in [("p50", 0.5), ("p99", 0.99)] {
        out.push_str(&format!("\n{label} by query kind (ms):\n"));
        out.push_str(&format!("{:<20}", "kind"));
        for r in &results {
            out.push_str(&format!(" {:>14}", r.short));
        }
        out.push('\n');
        for kind in &kinds {
            out.push_str(&format!("{kind:<20}"));
            for r in &results {
                let mut lat: Vec<Duration> = r
                    .latencies
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mix[i % mix.len()].kind == *kind)
                    .map(|(_, d)| *d)
                    .collect();
                lat.sort();
                out.push_str(&format!(
                    " {:>14.2}",
                    percentile(&lat, q).as_secs_f64() * 1000.0
                ));
            }
            out.push('\n');
        }
    }
    Ok(out)
}
