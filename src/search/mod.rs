//! The public search index (tantivy). It holds only what citizens may see: published,
//! unclassified records. The database is the source of truth; the index follows its
//! change log (`search_changes`) and records how far it got (the watermark) inside its own
//! commit, so a crash between the two can only make it re-apply changes, never skip one.

pub mod analysis;
pub mod bench;
pub mod bitmaps;
pub mod corpus;
pub mod eval;
pub mod query;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tantivy::schema::{
    FAST, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::store::{DocumentRecord, NewCitation, Store, StoreError};
use analysis::{Form, VietnameseTokenizer};

/// Bump when the schema or the analysis changes: an index of another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 2;
const VERSION_FILE: &str = "schema_version";
/// Changes are re-read this far below the watermark: PostgreSQL hands out sequence numbers
/// before commit, so a lower number can become visible after a higher one.
const CHANGE_OVERLAP: i64 = 256;
const CHANGE_BATCH: i64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the search index is locked by another process (a running `vanban serve`?): {0}")]
    Locked(String),
}

/// Field handles of the schema.
#[derive(Clone, Copy)]
pub struct Fields {
    pub id: tantivy::schema::Field,
    pub unit: tantivy::schema::Field,
    pub doc_type: tantivy::schema::Field,
    pub issuer: tantivy::schema::Field,
    pub year: tantivy::schema::Field,
    pub issued_days: tantivy::schema::Field,
    pub effective_days: tantivy::schema::Field,
    pub sort_days: tantivy::schema::Field,
    pub type_accent: tantivy::schema::Field,
    pub type_folded: tantivy::schema::Field,
    pub abstract_accent: tantivy::schema::Field,
    pub abstract_folded: tantivy::schema::Field,
    pub issuer_accent: tantivy::schema::Field,
    pub issuer_folded: tantivy::schema::Field,
    pub signer_accent: tantivy::schema::Field,
    pub signer_folded: tantivy::schema::Field,
    pub body_accent: tantivy::schema::Field,
    /// Every header field (type, abstract, issuer, signer, number-symbol), folded with
    /// abbreviations: the first-pass ranking field.
    pub head_folded: tantivy::schema::Field,
    /// The header and the body, folded with abbreviations: what a query must match, what
    /// is counted, and the body's share of the score.
    pub all_folded: tantivy::schema::Field,
    pub bigrams: tantivy::schema::Field,
    pub ns_own: tantivy::schema::Field,
    pub ns_cited: tantivy::schema::Field,
    pub number: tantivy::schema::Field,
    pub record: tantivy::schema::Field,
}

fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tokenizer: &str, positions: bool| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(if positions {
                    IndexRecordOption::WithFreqsAndPositions
                } else {
                    IndexRecordOption::WithFreqs
                }),
        )
    };
    let fields = Fields {
        id: b.add_u64_field("id", INDEXED | STORED | FAST),
        unit: b.add_text_field("unit", STRING | FAST),
        doc_type: b.add_text_field("doc_type", STRING | FAST),
        issuer: b.add_text_field("issuer", STRING | FAST),
        year: b.add_u64_field("year", INDEXED | FAST),
        issued_days: b.add_i64_field("issued_days", INDEXED | FAST),
        effective_days: b.add_i64_field("effective_days", INDEXED | FAST),
        sort_days: b.add_i64_field("sort_days", FAST),
        type_accent: b.add_text_field("type_accent", text("vi_accent", true)),
        type_folded: b.add_text_field("type_folded", text("vi_folded", true)),
        abstract_accent: b.add_text_field("abstract_accent", text("vi_accent", true)),
        abstract_folded: b.add_text_field("abstract_folded", text("vi_folded", true)),
        issuer_accent: b.add_text_field("issuer_accent", text("vi_accent", true)),
        issuer_folded: b.add_text_field("issuer_folded", text("vi_folded", true)),
        signer_accent: b.add_text_field("signer_accent", text("vi_accent", true)),
        signer_folded: b.add_text_field("signer_folded", text("vi_folded", true)),
        body_accent: b.add_text_field("body_accent", text("vi_accent", false)),
        head_folded: b.add_text_field("head_folded", text("vi_match", false)),
        all_folded: b.add_text_field("all_folded", text("vi_match", false)),
        bigrams: b.add_text_field("bigrams", text("vi_bigram", false)),
        ns_own: b.add_text_field("ns_own", STRING),
        ns_cited: b.add_text_field("ns_cited", STRING),
        number: b.add_text_field("number", STRING),
        record: b.add_text_field("record", STORED),
    };
    (b.build(), fields)
}

fn register_tokenizers(index: &Index) {
    let manager = index.tokenizers();
    manager.register(
        "vi_accent",
        TextAnalyzer::builder(VietnameseTokenizer { form: Form::Accent }).build(),
    );
    manager.register(
        "vi_folded",
        TextAnalyzer::builder(VietnameseTokenizer { form: Form::Folded }).build(),
    );
    manager.register(
        "vi_match",
        TextAnalyzer::builder(VietnameseTokenizer {
            form: Form::FoldedWithAbbreviations,
        })
        .build(),
    );
    manager.register(
        "vi_bigram",
        TextAnalyzer::builder(VietnameseTokenizer {
            form: Form::FoldedBigram,
        })
        .build(),
    );
}

/// What the index needs of one public record.
#[derive(Debug, Clone, Default)]
pub struct IndexDocument {
    pub id: u64,
    pub unit_code: String,
    pub sha256: String,
    pub doc_type: Option<String>,
    pub type_code: Option<String>,
    pub number: Option<String>,
    pub number_symbol: Option<String>,
    pub issuer: Option<String>,
    pub issuer_parent: Option<String>,
    pub issued_date: Option<NaiveDate>,
    pub issued_year: Option<i32>,
    pub effective_date: Option<NaiveDate>,
    pub abstract_text: Option<String>,
    pub signer_name: Option<String>,
    pub signer_title: Option<String>,
    pub created: NaiveDate,
    pub body: String,
    pub citations: Vec<String>,
}

/// The fields a hit carries (stored in the index so a result page needs no database).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HitRecord {
    pub id: u64,
    pub unit_code: String,
    pub sha256: String,
    pub doc_type: Option<String>,
    pub number_symbol: Option<String>,
    pub issuer: Option<String>,
    pub issued_date: Option<NaiveDate>,
    pub effective_date: Option<NaiveDate>,
    pub abstract_text: Option<String>,
    pub signer_name: Option<String>,
}

impl IndexDocument {
    /// The index form of a stored record, or `None` when the public must not see it.
    pub fn from_record(
        record: &DocumentRecord,
        body: String,
        citations: &[NewCitation],
        types: &crate::doctypes::DocTypeTable,
    ) -> Option<IndexDocument> {
        if !is_public(record) {
            return None;
        }
        let f = &record.fields;
        Some(IndexDocument {
            id: record.id as u64,
            unit_code: record.unit_code.clone(),
            sha256: record.file_sha256.clone(),
            doc_type: f.doc_type.clone(),
            type_code: f
                .doc_type
                .as_deref()
                .and_then(|t| types.by_name(t))
                .and_then(|t| t.code.clone()),
            number: f.number.clone(),
            number_symbol: f.number_symbol.clone(),
            issuer: f.issuer.clone(),
            issuer_parent: f.issuer_parent.clone(),
            issued_date: f.issued_date,
            issued_year: f.issued_year,
            effective_date: f.effective_date,
            abstract_text: f.abstract_text.clone(),
            signer_name: f.signer_name.clone(),
            signer_title: f.signer_title.clone(),
            created: record.created_at.date_naive(),
            body,
            citations: citations.iter().map(|c| c.number_symbol.clone()).collect(),
        })
    }

    fn hit_record(&self) -> HitRecord {
        HitRecord {
            id: self.id,
            unit_code: self.unit_code.clone(),
            sha256: self.sha256.clone(),
            doc_type: self.doc_type.clone(),
            number_symbol: self.number_symbol.clone(),
            issuer: self.issuer.clone(),
            issued_date: self.issued_date,
            effective_date: self.effective_date,
            abstract_text: self.abstract_text.clone(),
            signer_name: self.signer_name.clone(),
        }
    }
}

/// The publication rule the index enforces on its own, whatever the caller did: only
/// published records, never a classified or internal-circulation one
/// (`domain::is_public`, the one statement of the rule).
pub fn is_public(record: &DocumentRecord) -> bool {
    record.is_public()
}

pub fn days(date: NaiveDate) -> i64 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days()
}

pub struct SearchIndex {
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
    writer: Mutex<Option<IndexWriter>>,
    writer_heap_bytes: usize,
    dir: Option<PathBuf>,
    /// Change-log entries already applied within the overlap window below the watermark:
    /// re-read every catch-up (a PostgreSQL sequence number can become visible late), but
    /// applied once. Empty after a restart, which only costs one re-application.
    applied: Mutex<std::collections::BTreeSet<i64>>,
    /// Bitmaps of frequent terms per segment (see [`bitmaps`]).
    pub(crate) bitmaps: Arc<bitmaps::BitmapCache>,
    /// Held here because the reader keeps only a weak reference to its warmers.
    _warmer: Arc<bitmaps::BitmapWarmer>,
    /// Match sets up to this size are ranked in full, bigger ones through the first pass.
    pub(crate) full_ranking_below: u64,
}

/// Memory for cached term bitmaps: at a million documents a common syllable takes
/// ~125 KB, so this holds about two thousand of them.
const BITMAP_CACHE_BYTES: usize = 256 << 20;

#[derive(Debug, Default, Serialize, Deserialize)]
struct CommitPayload {
    watermark: i64,
    /// Set on the intermediate commits of a rebuild (which keep its memory bounded): an
    /// index left like this by a crash is rebuilt again, never taken as complete.
    #[serde(default)]
    rebuilding: bool,
}

/// Documents a rebuild indexes between commits. tantivy queues up to 10,000 documents
/// ahead of its indexing threads; committing bounds what is held in memory.
const REBUILD_COMMIT_EVERY: usize = 1_000;

/// What a catch-up or rebuild did.
#[derive(Debug, Default, Clone, Copy)]
pub struct IndexRun {
    pub upserted: usize,
    pub removed: usize,
    pub watermark: i64,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it, or recreating it empty when it was built by
    /// another schema version (the caller then rebuilds; see [`SearchIndex::needs_rebuild`]).
    pub fn open(dir: &Path) -> Result<SearchIndex, SearchError> {
        std::fs::create_dir_all(dir)?;
        let version_path = dir.join(VERSION_FILE);
        let current = std::fs::read_to_string(&version_path)
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok());
        let (schema, fields) = build_schema();
        let index = if current == Some(SCHEMA_VERSION) && dir.join("meta.json").exists() {
            Index::open_in_dir(dir)?
        } else {
            if current.is_some() || dir.join("meta.json").exists() {
                tracing::warn!(
                    found = ?current,
                    expected = SCHEMA_VERSION,
                    "search index schema changed; recreating it"
                );
            }
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                if path.is_dir() {
                    std::fs::remove_dir_all(&path)?;
                } else {
                    std::fs::remove_file(&path)?;
                }
            }
            let index = Index::create_in_dir(dir, schema)?;
            std::fs::write(&version_path, SCHEMA_VERSION.to_string())?;
            index
        };
        Self::from_index(index, fields, Some(dir.to_path_buf()), 64 << 20)
    }

    /// An index in memory (tests, benchmarks).
    pub fn in_memory(writer_heap_bytes: usize) -> Result<SearchIndex, SearchError> {
        let (schema, fields) = build_schema();
        Self::from_index(
            Index::create_in_ram(schema),
            fields,
            None,
            writer_heap_bytes,
        )
    }

    fn from_index(
        index: Index,
        fields: Fields,
        dir: Option<PathBuf>,
        writer_heap_bytes: usize,
    ) -> Result<SearchIndex, SearchError> {
        register_tokenizers(&index);
        let bitmaps = Arc::new(bitmaps::BitmapCache::new(BITMAP_CACHE_BYTES));
        let warmer = Arc::new(bitmaps::BitmapWarmer::new(
            bitmaps.clone(),
            fields.all_folded,
            vec![fields.unit, fields.doc_type, fields.issuer, fields.year],
        ));
        let warmer_handle: Arc<dyn tantivy::Warmer> = warmer.clone();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .warmers(vec![Arc::downgrade(&warmer_handle)])
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            fields,
            writer: Mutex::new(None),
            writer_heap_bytes,
            dir,
            applied: Mutex::new(Default::default()),
            bitmaps,
            _warmer: warmer,
            full_ranking_below: query::FULL_RANKING_BELOW,
        })
    }

    /// Sets the indexing memory budget (bulk loads want more than the default 64 MB).
    pub fn with_writer_heap(mut self, bytes: usize) -> SearchIndex {
        self.writer_heap_bytes = bytes;
        self
    }

    /// Ranks every match set of up to `n` documents in full (`u64::MAX`: always; the
    /// tests compare the first pass with this).
    pub fn with_full_ranking_below(mut self, n: u64) -> SearchIndex {
        self.full_ranking_below = n;
        self
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The change-log position the index has applied.
    fn payload(&self) -> CommitPayload {
        self.index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| serde_json::from_str::<CommitPayload>(&p).ok())
            .unwrap_or_default()
    }

    pub fn watermark(&self) -> i64 {
        self.payload().watermark
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// True for an index that has never been filled (new, or recreated after a schema
    /// change) while the database already has records.
    pub async fn needs_rebuild(&self, store: &Store) -> Result<bool, SearchError> {
        let payload = self.payload();
        Ok(payload.rebuilding || (payload.watermark == 0 && store.max_search_change().await? > 0))
    }

    fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut IndexWriter) -> Result<T, SearchError>,
    ) -> Result<T, SearchError> {
        let mut guard = self.writer.lock().expect("index writer mutex");
        if guard.is_none() {
            let threads = if self.writer_heap_bytes >= (256 << 20) {
                2
            } else {
                1
            };
            let writer = self
                .index
                .writer_with_num_threads(threads, self.writer_heap_bytes)
                .map_err(|e| match e {
                    tantivy::TantivyError::LockFailure(..) => SearchError::Locked(e.to_string()),
                    other => SearchError::Index(other),
                })?;
            *guard = Some(writer);
        }
        f(guard.as_mut().expect("writer present"))
    }

    fn document(&self, doc: &IndexDocument) -> TantivyDocument {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_u64(f.id, doc.id);
        d.add_text(f.unit, &doc.unit_code);
        if let Some(t) = &doc.doc_type {
            d.add_text(f.doc_type, t);
            let typed = match &doc.type_code {
                Some(code) => format!("{t} {code}"),
                None => t.clone(),
            };
            d.add_text(f.type_accent, &typed);
            d.add_text(f.type_folded, &typed);
        }
        if let Some(issuer) = &doc.issuer {
            d.add_text(f.issuer, issuer);
        }
        let issuer_text = [doc.issuer.as_deref(), doc.issuer_parent.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        d.add_text(f.issuer_accent, &issuer_text);
        d.add_text(f.issuer_folded, &issuer_text);
        let signer = [doc.signer_name.as_deref(), doc.signer_title.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        d.add_text(f.signer_accent, &signer);
        d.add_text(f.signer_folded, &signer);
        if let Some(year) = doc.issued_year {
            d.add_u64(f.year, year.max(0) as u64);
        }
        if let Some(date) = doc.issued_date {
            d.add_i64(f.issued_days, days(date));
        }
        // A record without an effective date is in force from its issue (or, failing
        // that, its registration): the validity filter compares this with today.
        let effective = doc
            .effective_date
            .or(doc.issued_date)
            .unwrap_or(doc.created);
        d.add_i64(f.effective_days, days(effective));
        d.add_i64(f.sort_days, days(doc.issued_date.unwrap_or(doc.created)));
        let abstract_text = doc.abstract_text.as_deref().unwrap_or("");
        d.add_text(f.abstract_accent, abstract_text);
        d.add_text(f.abstract_folded, abstract_text);
        d.add_text(f.body_accent, &doc.body);
        let head = [
            doc.doc_type.as_deref(),
            doc.type_code.as_deref(),
            doc.abstract_text.as_deref(),
            Some(issuer_text.as_str()),
            Some(signer.as_str()),
            doc.number_symbol.as_deref(),
        ];
        for text in head.into_iter().flatten() {
            d.add_text(f.head_folded, text);
            d.add_text(f.all_folded, text);
        }
        d.add_text(f.all_folded, &doc.body);
        d.add_text(f.bigrams, format!("{abstract_text}\n{}", doc.body));
        if let Some(ns) = &doc.number_symbol {
            for key in analysis::number_symbol_keys(ns) {
                d.add_text(f.ns_own, key);
            }
        }
        if let Some(number) = &doc.number {
            d.add_text(f.number, number.trim_start_matches('0'));
        }
        let own = doc.number_symbol.as_deref().unwrap_or("");
        for cited in doc.citations.iter().filter(|c| c.as_str() != own) {
            for key in analysis::number_symbol_keys(cited) {
                d.add_text(f.ns_cited, key);
            }
        }
        d.add_text(
            f.record,
            serde_json::to_string(&doc.hit_record()).expect("hit record serialises"),
        );
        d
    }

    /// Adds or replaces documents (not committed).
    pub fn upsert(&self, docs: &[IndexDocument]) -> Result<(), SearchError> {
        self.with_writer(|w| {
            for doc in docs {
                w.delete_term(Term::from_field_u64(self.fields.id, doc.id));
                w.add_document(self.document(doc))?;
            }
            Ok(())
        })
    }

    /// Removes a document (not committed).
    pub fn remove(&self, id: u64) -> Result<(), SearchError> {
        self.with_writer(|w| {
            w.delete_term(Term::from_field_u64(self.fields.id, id));
            Ok(())
        })
    }

    /// Commits pending changes with the change-log position they bring the index to, and
    /// makes them visible to searches.
    pub fn commit(&self, watermark: i64) -> Result<(), SearchError> {
        self.commit_payload(CommitPayload {
            watermark,
            rebuilding: false,
        })
    }

    fn commit_payload(&self, payload: CommitPayload) -> Result<(), SearchError> {
        self.with_writer(|w| {
            let mut prepared = w.prepare_commit()?;
            prepared.set_payload(&serde_json::to_string(&payload).unwrap());
            prepared.commit()?;
            Ok(())
        })?;
        self.reader.reload()?;
        Ok(())
    }

    /// Empties the index (not committed).
    pub fn clear(&self) -> Result<(), SearchError> {
        self.with_writer(|w| {
            w.delete_all_documents()?;
            Ok(())
        })
    }

    /// Applies every change the database recorded since the watermark (and any that
    /// became visible late within the overlap window below it).
    pub async fn catch_up(&self, store: &Store) -> Result<IndexRun, SearchError> {
        let types = crate::doctypes::DocTypeTable::builtin();
        let start = self.watermark();
        let mut run = IndexRun {
            watermark: start,
            ..IndexRun::default()
        };
        let mut cursor = (start - CHANGE_OVERLAP).max(0);
        let mut applied_now: Vec<i64> = Vec::new();
        loop {
            let changes = store.search_changes_after(cursor, CHANGE_BATCH).await?;
            let Some(&(last, _)) = changes.last() else {
                break;
            };
            let fresh: Vec<(i64, i64)> = {
                let applied = self.applied.lock().expect("applied set");
                changes
                    .iter()
                    .copied()
                    .filter(|(seq, _)| *seq > start || !applied.contains(seq))
                    .collect()
            };
            let mut ids: Vec<i64> = fresh.iter().map(|&(_, id)| id).collect();
            ids.sort_unstable();
            ids.dedup();
            for id in ids {
                match load_index_document(store, id, types).await? {
                    Some(doc) => {
                        self.upsert(std::slice::from_ref(&doc))?;
                        run.upserted += 1;
                    }
                    None => {
                        self.remove(id as u64)?;
                        run.removed += 1;
                    }
                }
            }
            applied_now.extend(fresh.iter().map(|&(seq, _)| seq));
            cursor = last;
            run.watermark = run.watermark.max(last);
            if (changes.len() as i64) < CHANGE_BATCH {
                break;
            }
            // Every change up to `last` is applied: commit now, so that a long catch-up
            // holds one batch in memory, not all of it.
            self.commit(run.watermark)?;
            crate::memory::release_free_memory();
        }
        if run.upserted + run.removed > 0 || run.watermark != self.watermark() {
            self.commit(run.watermark)?;
        }
        let mut applied = self.applied.lock().expect("applied set");
        applied.extend(applied_now);
        let floor = run.watermark - CHANGE_OVERLAP;
        *applied = applied.split_off(&floor);
        Ok(run)
    }

    /// Rebuilds from the database: every published record, in id order and bounded
    /// batches, then the changes that arrived meanwhile. `progress` gets (done, total).
    pub async fn rebuild(
        &self,
        store: &Store,
        mut progress: impl FnMut(usize),
    ) -> Result<IndexRun, SearchError> {
        let types = crate::doctypes::DocTypeTable::builtin();
        let watermark = store.max_search_change().await?;
        self.clear()?;
        let rebuilding = || CommitPayload {
            watermark: 0,
            rebuilding: true,
        };
        self.commit_payload(rebuilding())?;
        let mut run = IndexRun::default();
        let mut after = 0;
        let mut since_commit = 0;
        loop {
            let ids = store.published_ids_after(after, 200).await?;
            let Some(&last) = ids.last() else { break };
            let mut batch = Vec::with_capacity(ids.len());
            for id in &ids {
                if let Some(doc) = load_index_document(store, *id, types).await? {
                    batch.push(doc);
                }
            }
            run.upserted += batch.len();
            since_commit += batch.len();
            self.upsert(&batch)?;
            progress(ids.len());
            after = last;
            if since_commit >= REBUILD_COMMIT_EVERY {
                self.commit_payload(rebuilding())?;
                crate::memory::release_free_memory();
                since_commit = 0;
            }
        }
        self.applied.lock().expect("applied set").clear();
        self.commit(watermark)?;
        let more = self.catch_up(store).await?;
        run.watermark = more.watermark.max(watermark);
        Ok(run)
    }

    /// Merges segments down and deletes files no commit refers to any more.
    pub fn compact(&self) -> Result<(), SearchError> {
        let segments = self.index.searchable_segment_ids()?;
        self.with_writer(|w| {
            if segments.len() > 1 {
                w.merge(&segments).wait()?;
            }
            w.garbage_collect_files().wait()?;
            Ok(())
        })?;
        self.reader.reload()?;
        Ok(())
    }
}

async fn load_index_document(
    store: &Store,
    id: i64,
    types: &crate::doctypes::DocTypeTable,
) -> Result<Option<IndexDocument>, SearchError> {
    let record = match store.get_document(id).await {
        Ok(r) => r,
        Err(StoreError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if !is_public(&record) {
        return Ok(None);
    }
    let body = store.document_text(id).await.unwrap_or_default();
    let citations = store.citations(id).await?;
    Ok(IndexDocument::from_record(&record, body, &citations, types))
}

/// Today's date in Vietnam (UTC+7), for validity filters.
pub fn today() -> NaiveDate {
    (Utc::now() + chrono::Duration::hours(7)).date_naive()
}

/// Parses the stored hit record of a document.
pub fn hit_record(doc: &TantivyDocument, fields: &Fields) -> Option<HitRecord> {
    use tantivy::schema::Value as _;
    let raw = doc.get_first(fields.record)?.as_str()?;
    serde_json::from_str(raw).ok()
}
