//! Match sets as compressed bitmaps (roaring), one per segment.
//!
//! Counting and faceting a query that matches most of a million documents by walking
//! posting lists costs tens of milliseconds; AND-ing and counting bitmaps of the same
//! sets costs microseconds. The bitmaps of frequent terms (every common syllable, every
//! facet value) are built once per segment from their posting lists and kept in a
//! byte-bounded LRU cache, the way Lucene's query cache keeps dense filter clauses; rare
//! terms are read from their short posting lists on each query. Posting lists of a
//! segment never change, so an entry is valid as long as its segment exists; deletions are
//! applied separately through the segment's alive set. A warmer builds the bitmaps of a
//! new segment's most frequent terms in the background, so the first queries after a
//! start or a merge do not pay for them.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use roaring::RoaringBitmap;
use tantivy::index::SegmentId;
use tantivy::query::Weight;
use tantivy::schema::{Field, FieldType, IndexRecordOption};
use tantivy::{
    COLLECT_BLOCK_BUFFER_LEN, DocSet, Searcher, SearcherGeneration, SegmentReader, TERMINATED,
    Term, Warmer,
};

/// A term is cached when it occurs in at least 1/DENSE_DIVISOR of a segment's documents.
const DENSE_DIVISOR: u32 = 64;
/// The warmer builds at most this many term bitmaps per segment, most frequent first.
const WARM_TERMS: usize = 512;

#[derive(Hash, PartialEq, Eq, Clone)]
enum Key {
    Term(SegmentId, Field, Vec<u8>),
    /// The documents not deleted, by segment and delete generation.
    Alive(SegmentId, Option<u64>),
    /// Documents whose effective date is after a given day (validity facet).
    After(SegmentId, Field, i64),
}

/// The per-segment bitmap cache of one index.
pub struct BitmapCache {
    entries: Mutex<Entries>,
    budget_bytes: usize,
}

struct Entries {
    lru: LruCache<Key, Arc<RoaringBitmap>>,
    bytes: usize,
}

impl BitmapCache {
    pub fn new(budget_bytes: usize) -> BitmapCache {
        BitmapCache {
            entries: Mutex::new(Entries {
                lru: LruCache::unbounded(),
                bytes: 0,
            }),
            budget_bytes,
        }
    }

    fn get(&self, key: &Key) -> Option<Arc<RoaringBitmap>> {
        self.entries
            .lock()
            .expect("bitmap cache")
            .lru
            .get(key)
            .cloned()
    }

    fn put(&self, key: Key, bitmap: Arc<RoaringBitmap>) {
        let size = bitmap.serialized_size();
        if size > self.budget_bytes {
            return;
        }
        let mut entries = self.entries.lock().expect("bitmap cache");
        if let Some(old) = entries.lru.put(key, bitmap) {
            entries.bytes -= old.serialized_size();
        }
        entries.bytes += size;
        while entries.bytes > self.budget_bytes {
            match entries.lru.pop_lru() {
                Some((_, evicted)) => entries.bytes -= evicted.serialized_size(),
                None => break,
            }
        }
    }

    /// Bytes held (for metrics and tests).
    pub fn bytes(&self) -> usize {
        self.entries.lock().expect("bitmap cache").bytes
    }

    /// Drops the entries of segments that are gone (merged away), so a long-running
    /// server's cache only holds live segments.
    pub fn retain_segments(&self, live: &[SegmentId]) {
        let mut entries = self.entries.lock().expect("bitmap cache");
        let mut freed = 0;
        let stale: Vec<Key> = entries
            .lru
            .iter()
            .filter(|(key, _)| {
                let segment = match key {
                    Key::Term(s, _, _) | Key::Alive(s, _) | Key::After(s, _, _) => s,
                };
                !live.contains(segment)
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in stale {
            if let Some(bitmap) = entries.lru.pop(&key) {
                freed += bitmap.serialized_size();
            }
        }
        entries.bytes -= freed;
    }

    /// The documents of `reader` holding `term` (deleted ones included); cached when the
    /// term is frequent.
    pub fn term(&self, reader: &SegmentReader, term: &Term) -> tantivy::Result<Arc<RoaringBitmap>> {
        self.term_bitmap(reader, term, false)
    }

    /// The documents of `reader` holding a value of a facet or filter field, always
    /// cached: every facet count visits every value, and the values of one field
    /// partition the documents, so together they take about as much as one dense term.
    pub fn value(
        &self,
        reader: &SegmentReader,
        term: &Term,
    ) -> tantivy::Result<Arc<RoaringBitmap>> {
        self.term_bitmap(reader, term, true)
    }

    fn term_bitmap(
        &self,
        reader: &SegmentReader,
        term: &Term,
        always_cache: bool,
    ) -> tantivy::Result<Arc<RoaringBitmap>> {
        let key = Key::Term(
            reader.segment_id(),
            term.field(),
            term.serialized_value_bytes().to_vec(),
        );
        if let Some(hit) = self.get(&key) {
            return Ok(hit);
        }
        let inverted = reader.inverted_index(term.field())?;
        let bitmap = match inverted.read_postings(term, IndexRecordOption::Basic)? {
            Some(mut postings) => bitmap_of(&mut postings),
            None => RoaringBitmap::new(),
        };
        let bitmap = Arc::new(bitmap);
        if always_cache || bitmap.len() >= u64::from(reader.max_doc() / DENSE_DIVISOR).max(1) {
            self.put(key, bitmap.clone());
        }
        Ok(bitmap)
    }

    /// The documents of `reader` that are not deleted.
    pub fn alive(&self, reader: &SegmentReader) -> Arc<RoaringBitmap> {
        let key = Key::Alive(reader.segment_id(), reader.delete_opstamp());
        if let Some(hit) = self.get(&key) {
            return hit;
        }
        let bitmap = match reader.alive_bitset() {
            None => {
                let mut all = RoaringBitmap::new();
                all.insert_range(0..reader.max_doc());
                all
            }
            Some(_) => {
                RoaringBitmap::from_sorted_iter(reader.doc_ids_alive()).expect("ascending ids")
            }
        };
        let bitmap = Arc::new(bitmap);
        self.put(key, bitmap.clone());
        bitmap
    }

    /// Documents matching `weight` whose `field` value is after `day`, cached per day
    /// (the validity facet asks the same question all day long).
    pub fn after_day(
        &self,
        reader: &SegmentReader,
        field: Field,
        day: i64,
        weight: &dyn Weight,
    ) -> tantivy::Result<Arc<RoaringBitmap>> {
        let key = Key::After(reader.segment_id(), field, day);
        if let Some(hit) = self.get(&key) {
            return Ok(hit);
        }
        let bitmap = Arc::new(weight_bitmap(weight, reader)?);
        self.put(key, bitmap.clone());
        Ok(bitmap)
    }
}

/// The values of a facet or filter field in one segment, each with its term.
pub fn value_terms(reader: &SegmentReader, field: Field) -> tantivy::Result<Vec<(String, Term)>> {
    let field_type = reader.schema().get_field_entry(field).field_type().clone();
    let inverted = reader.inverted_index(field)?;
    let mut stream = inverted.terms().stream()?;
    let mut out = Vec::new();
    while stream.advance() {
        let bytes = stream.key();
        let value = match field_type {
            FieldType::U64(_) => bytes
                .try_into()
                .ok()
                .map(u64::from_be_bytes)
                .map(|n| (n.to_string(), Term::from_field_u64(field, n))),
            _ => std::str::from_utf8(bytes)
                .ok()
                .map(|text| (text.to_string(), Term::from_field_text(field, text))),
        };
        out.extend(value);
    }
    Ok(out)
}

/// Builds, in a background thread, the bitmaps of each new segment's most frequent terms
/// of the text field and of every value of the facet fields; forgets segments that no
/// searcher uses any more.
pub struct BitmapWarmer {
    cache: Arc<BitmapCache>,
    text_field: Field,
    value_fields: Vec<Field>,
    started: Mutex<HashSet<SegmentId>>,
}

impl BitmapWarmer {
    pub fn new(cache: Arc<BitmapCache>, text_field: Field, value_fields: Vec<Field>) -> Self {
        BitmapWarmer {
            cache,
            text_field,
            value_fields,
            started: Mutex::new(HashSet::new()),
        }
    }
}

fn warm_segment(
    cache: &BitmapCache,
    reader: &SegmentReader,
    text_field: Field,
    value_fields: &[Field],
) -> tantivy::Result<()> {
    let dense = (reader.max_doc() / DENSE_DIVISOR).max(1);
    let inverted = reader.inverted_index(text_field)?;
    let mut stream = inverted.terms().stream()?;
    let mut frequent: Vec<(u32, String)> = Vec::new();
    while stream.advance() {
        let doc_freq = stream.value().doc_freq;
        if doc_freq >= dense
            && let Ok(text) = std::str::from_utf8(stream.key())
        {
            frequent.push((doc_freq, text.to_string()));
        }
    }
    frequent.sort_by_key(|t| std::cmp::Reverse(t.0));
    for (_, text) in frequent.into_iter().take(WARM_TERMS) {
        cache.term(reader, &Term::from_field_text(text_field, &text))?;
    }
    for field in value_fields {
        for (_, term) in value_terms(reader, *field)? {
            cache.value(reader, &term)?;
        }
    }
    Ok(())
}

impl Warmer for BitmapWarmer {
    fn warm(&self, searcher: &Searcher) -> tantivy::Result<()> {
        let fresh: Vec<SegmentId> = {
            let mut started = self.started.lock().expect("warmer");
            searcher
                .segment_readers()
                .iter()
                .map(SegmentReader::segment_id)
                .filter(|id| started.insert(*id))
                .collect()
        };
        if fresh.is_empty() {
            return Ok(());
        }
        // Warming a million-document segment takes a second or two: not on the thread
        // that reloads the index (the indexer's commit), and not before the first query.
        let cache = Arc::clone(&self.cache);
        let (text_field, value_fields) = (self.text_field, self.value_fields.clone());
        let searcher = searcher.clone();
        std::thread::Builder::new()
            .name("bitmap-warmer".into())
            .spawn(move || {
                let started = std::time::Instant::now();
                for reader in searcher.segment_readers() {
                    if fresh.contains(&reader.segment_id())
                        && let Err(e) = warm_segment(&cache, reader, text_field, &value_fields)
                    {
                        tracing::warn!(segment = %reader.segment_id(), error = %e, "bitmap warming failed");
                    }
                }
                tracing::debug!(
                    segments = fresh.len(),
                    ms = started.elapsed().as_millis() as u64,
                    cached_bytes = cache.bytes(),
                    "search bitmaps warmed"
                );
            })?;
        Ok(())
    }

    fn garbage_collect(&self, live_generations: &[&SearcherGeneration]) {
        let live: Vec<SegmentId> = live_generations
            .iter()
            .flat_map(|g| g.segments().keys().copied())
            .collect();
        self.cache.retain_segments(&live);
        self.started
            .lock()
            .expect("warmer")
            .retain(|id| live.contains(id));
    }
}

/// The documents a doc set visits, as a bitmap.
pub fn bitmap_of(docs: &mut dyn DocSet) -> RoaringBitmap {
    let mut bitmap = RoaringBitmap::new();
    let mut buffer = [0u32; COLLECT_BLOCK_BUFFER_LEN];
    if docs.doc() == TERMINATED {
        return bitmap;
    }
    loop {
        let n = docs.fill_buffer(&mut buffer);
        bitmap
            .append(buffer[..n].iter().copied())
            .expect("doc sets visit ascending ids");
        if n < COLLECT_BLOCK_BUFFER_LEN {
            return bitmap;
        }
    }
}

/// The documents of `reader` a query weight matches (deleted ones included).
pub fn weight_bitmap(
    weight: &dyn Weight,
    reader: &SegmentReader,
) -> tantivy::Result<RoaringBitmap> {
    let mut scorer = weight.scorer(reader, 1.0)?;
    Ok(bitmap_of(scorer.as_mut()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{STRING, Schema};
    use tantivy::{Index, TantivyDocument};

    #[test]
    fn term_bitmaps_match_postings_and_the_cache_stays_in_budget() {
        let mut schema = Schema::builder();
        let word = schema.add_text_field("word", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
        for i in 0..1000u32 {
            let mut doc = TantivyDocument::default();
            doc.add_text(word, if i % 3 == 0 { "three" } else { "other" });
            if i == 500 {
                doc.add_text(word, "rare");
            }
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        writer.delete_term(Term::from_field_text(word, "rare"));
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let reader = searcher.segment_reader(0);

        let cache = BitmapCache::new(1 << 20);
        let three = cache
            .term(reader, &Term::from_field_text(word, "three"))
            .unwrap();
        assert_eq!(three.len(), 334);
        assert!(three.contains(999) && !three.contains(998));
        assert!(cache.bytes() > 0, "a dense term is cached");
        let rare = cache
            .term(reader, &Term::from_field_text(word, "rare"))
            .unwrap();
        assert_eq!(rare.iter().collect::<Vec<_>>(), [500]);
        let missing = cache
            .term(reader, &Term::from_field_text(word, "none"))
            .unwrap();
        assert!(missing.is_empty());
        let alive = cache.alive(reader);
        assert_eq!(alive.len(), 999);
        assert!(!alive.contains(500), "deleted documents are not alive");

        let tiny = BitmapCache::new(64);
        tiny.term(reader, &Term::from_field_text(word, "other"))
            .unwrap();
        assert!(tiny.bytes() <= 64, "entries beyond the budget are evicted");
        cache.retain_segments(&[]);
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn new_segments_are_warmed_in_the_background() {
        let index = crate::search::SearchIndex::in_memory(32 << 20).unwrap();
        let docs: Vec<_> = crate::search::corpus::CorpusGenerator::new(7, 1)
            .take(300)
            .collect();
        index.upsert(&docs).unwrap();
        index.commit(0).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while index.bitmaps.bytes() == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(index.bitmaps.bytes() > 0, "the warmer filled the cache");
        let searcher = index.reader.searcher();
        let reader = searcher.segment_reader(0);
        let common = Term::from_field_text(index.fields.all_folded, "ubnd");
        let key = Key::Term(
            reader.segment_id(),
            common.field(),
            common.serialized_value_bytes().to_vec(),
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while index.bitmaps.get(&key).is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(
            index.bitmaps.get(&key).map(|b| b.len()),
            Some(300),
            "every generated document names its issuer"
        );
    }
}
