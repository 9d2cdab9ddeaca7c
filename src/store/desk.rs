//! What the clerk desk reads: the review queue (filtered, counted, paged by key so that
//! page 400 of 10,000 costs what page 1 costs), counts per status and unit, the oldest
//! waiting record, and a record's duplicates. Both backends, one SQL text each (see
//! `with_pool!`); the indexes are in migration 0011.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Status, Store, StoreError};

/// Which records a queue page lists. `scope` is the account's units (`None`: every unit,
/// an administrator); the other fields narrow it.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// `None`: held records (`needs_review`).
    pub status: Option<Status>,
    pub scope: Option<Vec<String>>,
    pub unit: Option<String>,
    /// A hold code (`document_holds.code`): only records held for it (open holds).
    pub hold: Option<String>,
    /// `cli`, `upload`, `sync:NAME` exactly, or `sync` for every sync source.
    pub source: Option<String>,
    /// Only records stored before this instant (the age filter).
    pub stored_before: Option<DateTime<Utc>>,
    /// Free text over the number-symbol and the abstract (case-insensitive for ASCII on
    /// SQLite, for every letter on PostgreSQL).
    pub text: Option<String>,
}

/// Oldest first (the default: the longest-waiting record is handled first) or newest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QueueOrder {
    #[default]
    Oldest,
    Newest,
}

/// Where a page starts: the first page, after the last row of a page (next), or before
/// the first row of a page (previous). The key is the record id, which grows with arrival.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QueueCursor {
    #[default]
    First,
    After(i64),
    Before(i64),
}

/// One row of the queue.
#[derive(Debug, Clone)]
pub struct QueueItem {
    pub id: i64,
    pub unit_code: String,
    pub status: Status,
    pub source: String,
    pub doc_type: Option<String>,
    pub number_symbol: Option<String>,
    pub issuer: Option<String>,
    pub abstract_text: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A page of the queue, in the order asked for, and whether rows exist on either side.
#[derive(Debug, Clone, Default)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    pub has_previous: bool,
    pub has_next: bool,
}

/// A hold of a record as a queue row shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldTag {
    pub code: String,
}

/// How a record duplicates another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DuplicateKind {
    /// The same file (SHA-256): as another record's file, an earlier version's, or a
    /// further file of it.
    SameFile,
    /// The same issuer, year and number-symbol (`domain::registry_key`).
    SameRegistryKey,
    /// The same number-symbol and near-identical text.
    SameNumberNearText,
}

impl DuplicateKind {
    pub fn label(self) -> &'static str {
        match self {
            DuplicateKind::SameFile => "Cùng tệp (SHA-256)",
            DuplicateKind::SameRegistryKey => "Cùng cơ quan ban hành, năm và số ký hiệu",
            DuplicateKind::SameNumberNearText => "Cùng số ký hiệu, nội dung gần như trùng",
        }
    }
}

/// Another record a record may duplicate, with every way it does.
#[derive(Debug, Clone)]
pub struct Duplicate {
    pub id: i64,
    pub unit_code: String,
    pub status: Status,
    pub doc_type: Option<String>,
    pub number_symbol: Option<String>,
    pub abstract_text: Option<String>,
    pub kinds: Vec<DuplicateKind>,
    /// Text similarity in 0..=1 when the texts were compared.
    pub similarity: Option<f64>,
}

/// Texts at least this similar (shingle overlap of their folded letters and digits) are
/// "near-identical".
pub const NEAR_IDENTICAL: f64 = 0.9;

/// A bound value of a dynamically built query.
#[derive(Debug, Clone)]
enum Arg {
    Text(String),
    Int(i64),
    Time(DateTime<Utc>),
}

/// A query built piece by piece with `$N` placeholders.
#[derive(Debug, Default)]
struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    fn push(&mut self, s: &str) -> &mut Sql {
        self.text.push_str(s);
        self
    }
    /// Adds a bound value and returns its placeholder.
    fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }
}

macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for a in $args {
            query = match a {
                Arg::Text(s) => query.bind(s.clone()),
                Arg::Int(i) => query.bind(*i),
                Arg::Time(t) => query.bind(*t),
            };
        }
        query
    }};
}

/// `%text%` for LIKE with `\` as the escape character.
fn like_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The WHERE conditions of `filter` over `documents d` (without the leading WHERE),
/// leaving out the status and/or the hold filter when asked (for counts per status and
/// per reason).
fn conditions(sql: &mut Sql, filter: &QueueFilter, with_status: bool, with_hold: bool) {
    let mut parts: Vec<String> = Vec::new();
    if with_status {
        let status = filter.status.unwrap_or(Status::NeedsReview);
        let p = sql.arg(Arg::Text(status.as_str().into()));
        parts.push(format!("d.status = {p}"));
    }
    if let Some(units) = &filter.scope {
        if units.is_empty() {
            parts.push("1 = 0".into());
        } else {
            let list: Vec<String> = units
                .iter()
                .map(|u| sql.arg(Arg::Text(u.clone())))
                .collect();
            parts.push(format!("d.unit_code IN ({})", list.join(", ")));
        }
    }
    if let Some(unit) = &filter.unit {
        let p = sql.arg(Arg::Text(unit.clone()));
        parts.push(format!("d.unit_code = {p}"));
    }
    if let Some(source) = &filter.source {
        if source == "sync" {
            parts.push("d.source LIKE 'sync:%'".into());
        } else {
            let p = sql.arg(Arg::Text(source.clone()));
            parts.push(format!("d.source = {p}"));
        }
    }
    if let Some(before) = filter.stored_before {
        let p = sql.arg(Arg::Time(before));
        parts.push(format!("d.created_at < {p}"));
    }
    if let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        // SQLite lowers ASCII letters only: the upper-case form also finds a number-symbol
        // as written ("QĐ-UBND") whatever case the clerk typed its Vietnamese letters in.
        let lower = sql.arg(Arg::Text(like_pattern(text)));
        let upper = sql.arg(Arg::Text(like_pattern(text).to_uppercase()));
        parts.push(format!(
            "(LOWER(COALESCE(d.number_symbol, '')) LIKE {lower} ESCAPE '\\' \
             OR UPPER(COALESCE(d.number_symbol, '')) LIKE {upper} ESCAPE '\\' \
             OR LOWER(COALESCE(d.abstract, '')) LIKE {lower} ESCAPE '\\')"
        ));
    }
    if with_hold && let Some(code) = &filter.hold {
        let p = sql.arg(Arg::Text(code.clone()));
        parts.push(format!(
            "EXISTS (SELECT 1 FROM document_holds h WHERE h.document_id = d.id AND h.code = {p} AND {})",
            OPEN_HOLD
        ));
    }
    if parts.is_empty() {
        sql.push("1 = 1");
    } else {
        sql.push(&parts.join(" AND "));
    }
}

/// An unresolved hold (`document_holds h`, `domain::HoldState::Open`).
const OPEN_HOLD: &str = "h.state = 'open'";

const QUEUE_COLUMNS: &str = "d.id, d.unit_code, d.status, d.source, d.doc_type, d.number_symbol, d.issuer, d.abstract, d.created_at, d.updated_at";

/// The page query: rows of `filter` on the far side of `cursor`, one more than `limit`
/// (to know whether another page follows), in scan order (reversed for `Before`).
fn page_sql(filter: &QueueFilter, order: QueueOrder, cursor: QueueCursor, limit: i64) -> Sql {
    let mut sql = Sql::default();
    sql.push(&format!("SELECT {QUEUE_COLUMNS} FROM documents d WHERE "));
    conditions(&mut sql, filter, true, true);
    // Scanning forward means ascending ids for "oldest first"; a "previous" page scans
    // backward from its cursor and is flipped afterwards.
    let forward = !matches!(cursor, QueueCursor::Before(_));
    let ascending = (order == QueueOrder::Oldest) == forward;
    match cursor {
        QueueCursor::First => {}
        QueueCursor::After(id) | QueueCursor::Before(id) => {
            let p = sql.arg(Arg::Int(id));
            let op = if ascending { ">" } else { "<" };
            sql.push(&format!(" AND d.id {op} {p}"));
        }
    }
    let p = sql.arg(Arg::Int(limit + 1));
    let dir = if ascending { "ASC" } else { "DESC" };
    sql.push(&format!(" ORDER BY d.id {dir} LIMIT {p}"));
    sql
}

macro_rules! queue_item_from_row {
    ($row:expr) => {{
        let row = $row;
        QueueItem {
            id: row.try_get("id")?,
            unit_code: row.try_get("unit_code")?,
            status: Status::parse(&row.try_get::<String, _>("status")?)
                .unwrap_or(Status::NeedsReview),
            source: row.try_get("source")?,
            doc_type: row.try_get("doc_type")?,
            number_symbol: row.try_get("number_symbol")?,
            issuer: row.try_get("issuer")?,
            abstract_text: row.try_get("abstract")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        }
    }};
}

/// Shingles (5 characters) of a content fingerprint.
fn shingles(fingerprint: &str) -> std::collections::HashSet<&str> {
    const K: usize = 5;
    let bytes = fingerprint.as_bytes();
    if bytes.len() <= K {
        return std::iter::once(fingerprint).collect();
    }
    // The fingerprint is ASCII letters and digits (`domain::content_fingerprint`).
    (0..=bytes.len() - K)
        .map(|i| &fingerprint[i..i + K])
        .collect()
}

/// How alike two texts are: the Jaccard overlap of their fingerprints' shingles, 1 for
/// the same folded letters and digits.
pub fn text_similarity(a: &str, b: &str) -> f64 {
    let (fa, fb) = (
        crate::domain::content_fingerprint(a),
        crate::domain::content_fingerprint(b),
    );
    if fa == fb {
        return 1.0;
    }
    if fa.is_empty() || fb.is_empty() {
        return 0.0;
    }
    let (sa, sb) = (shingles(&fa), shingles(&fb));
    let common = sa.intersection(&sb).count();
    let union = sa.len() + sb.len() - common;
    common as f64 / union as f64
}

impl Store {
    /// One page of the review queue (or of another status's list).
    pub async fn desk_queue(
        &self,
        filter: &QueueFilter,
        order: QueueOrder,
        cursor: QueueCursor,
        limit: i64,
    ) -> Result<QueuePage, StoreError> {
        let limit = limit.clamp(1, 500);
        let sql = page_sql(filter, order, cursor, limit);
        let mut items: Vec<QueueItem> = with_pool!(self, pool => {
            let rows = bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.text)), &sql.args)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(queue_item_from_row!(row));
            }
            out
        });
        let more = items.len() as i64 > limit;
        items.truncate(limit as usize);
        let page = match cursor {
            QueueCursor::First => QueuePage {
                items,
                has_previous: false,
                has_next: more,
            },
            QueueCursor::After(_) => QueuePage {
                items,
                has_previous: true,
                has_next: more,
            },
            QueueCursor::Before(_) => {
                items.reverse();
                QueuePage {
                    items,
                    has_previous: more,
                    has_next: true,
                }
            }
        };
        Ok(page)
    }

    /// The database's plan for a queue page query (SQLite `EXPLAIN QUERY PLAN`,
    /// PostgreSQL `EXPLAIN`), one line per step: for tests and `vanban` diagnostics that
    /// check the queue is read through an index.
    pub async fn desk_queue_plan(
        &self,
        filter: &QueueFilter,
        order: QueueOrder,
        cursor: QueueCursor,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let sql = page_sql(filter, order, cursor, limit);
        match self {
            Store::Sqlite(pool) => {
                let text = format!("EXPLAIN QUERY PLAN {}", sql.text);
                let rows = bind_args!(sqlx::query(sqlx::AssertSqlSafe(text)), &sql.args)
                    .fetch_all(pool)
                    .await?;
                rows.iter()
                    .map(|r| Ok(r.try_get::<String, _>("detail")?))
                    .collect()
            }
            Store::Postgres(pool) => {
                let text = format!("EXPLAIN {}", sql.text);
                let rows = bind_args!(sqlx::query(sqlx::AssertSqlSafe(text)), &sql.args)
                    .fetch_all(pool)
                    .await?;
                rows.iter()
                    .map(|r| Ok(r.try_get::<String, _>(0)?))
                    .collect()
            }
        }
    }

    /// How many records match `filter`.
    pub async fn desk_queue_total(&self, filter: &QueueFilter) -> Result<i64, StoreError> {
        let mut sql = Sql::default();
        sql.push("SELECT COUNT(*) AS n FROM documents d WHERE ");
        conditions(&mut sql, filter, true, true);
        with_pool!(self, pool => {
            let row = bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.text)), &sql.args)
                .fetch_one(pool)
                .await?;
            Ok(row.try_get("n")?)
        })
    }

    /// Records per open hold code among those `filter` lists, ignoring its own hold
    /// filter (so every reason's count shows next to the one chosen), largest first.
    pub async fn desk_hold_counts(
        &self,
        filter: &QueueFilter,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut sql = Sql::default();
        sql.push(&format!(
            "SELECT h.code AS code, COUNT(DISTINCT d.id) AS n FROM document_holds h \
             JOIN documents d ON d.id = h.document_id WHERE {OPEN_HOLD} AND "
        ));
        conditions(&mut sql, filter, true, false);
        sql.push(" GROUP BY h.code ORDER BY n DESC, h.code");
        with_pool!(self, pool => {
            let rows = bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.text)), &sql.args)
                .fetch_all(pool)
                .await?;
            rows.iter().map(|r| Ok((r.try_get("code")?, r.try_get("n")?))).collect()
        })
    }

    /// Records per status among those `filter` lists, whatever its status (the tabs).
    pub async fn desk_status_counts(
        &self,
        filter: &QueueFilter,
    ) -> Result<Vec<(Status, i64)>, StoreError> {
        let mut sql = Sql::default();
        sql.push("SELECT d.status AS status, COUNT(*) AS n FROM documents d WHERE ");
        conditions(&mut sql, filter, false, true);
        sql.push(" GROUP BY d.status");
        let rows: Vec<(String, i64)> = with_pool!(self, pool => {
            let rows = bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.text)), &sql.args)
                .fetch_all(pool)
                .await?;
            rows.iter().map(|r| Ok::<_, StoreError>((r.try_get("status")?, r.try_get("n")?))).collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows
            .into_iter()
            .filter_map(|(s, n)| Some((Status::parse(&s)?, n)))
            .collect())
    }

    /// Records per unit and status within `scope` (`None`: every unit).
    pub async fn desk_unit_status_counts(
        &self,
        scope: Option<&[String]>,
    ) -> Result<Vec<(String, Status, i64)>, StoreError> {
        let filter = QueueFilter {
            scope: scope.map(<[String]>::to_vec),
            ..QueueFilter::default()
        };
        let mut sql = Sql::default();
        sql.push("SELECT d.unit_code AS unit_code, d.status AS status, COUNT(*) AS n FROM documents d WHERE ");
        conditions(&mut sql, &filter, false, false);
        sql.push(" GROUP BY d.unit_code, d.status ORDER BY d.unit_code");
        let rows: Vec<(String, String, i64)> = with_pool!(self, pool => {
            let rows = bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.text)), &sql.args)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| Ok::<_, StoreError>((r.try_get("unit_code")?, r.try_get("status")?, r.try_get("n")?)))
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows
            .into_iter()
            .filter_map(|(u, s, n)| Some((u, Status::parse(&s)?, n)))
            .collect())
    }

    /// The sources of records `filter` could list (for the source filter), whatever
    /// their status.
    pub async fn desk_sources(&self, scope: Option<&[String]>) -> Result<Vec<String>, StoreError> {
        let filter = QueueFilter {
            scope: scope.map(<[String]>::to_vec),
            ..QueueFilter::default()
        };
        let mut sql = Sql::default();
        sql.push("SELECT DISTINCT d.source AS source FROM documents d WHERE ");
        conditions(&mut sql, &filter, false, false);
        sql.push(" ORDER BY 1");
        with_pool!(self, pool => {
            let rows = bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.text)), &sql.args)
                .fetch_all(pool)
                .await?;
            rows.iter().map(|r| Ok(r.try_get("source")?)).collect()
        })
    }

    /// The open holds' codes of each of `ids`, in the order they were recorded.
    pub async fn desk_hold_tags(
        &self,
        ids: &[i64],
    ) -> Result<HashMap<i64, Vec<HoldTag>>, StoreError> {
        let mut out: HashMap<i64, Vec<HoldTag>> = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let mut sql = Sql::default();
        let list: Vec<String> = ids.iter().map(|id| sql.arg(Arg::Int(*id))).collect();
        sql.push(&format!(
            "SELECT h.document_id AS document_id, h.code AS code FROM document_holds h \
             WHERE h.document_id IN ({}) AND {OPEN_HOLD} ORDER BY h.document_id, h.id",
            list.join(", ")
        ));
        let rows: Vec<(i64, String)> = with_pool!(self, pool => {
            let rows = bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.text)), &sql.args)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| Ok::<_, StoreError>((r.try_get("document_id")?, r.try_get("code")?)))
                .collect::<Result<Vec<_>, _>>()?
        });
        for (id, code) in rows {
            let tags = out.entry(id).or_default();
            if !tags.iter().any(|t| t.code == code) {
                tags.push(HoldTag { code });
            }
        }
        Ok(out)
    }

    /// The record that has waited longest in review within `scope`.
    pub async fn desk_oldest_waiting(
        &self,
        scope: Option<&[String]>,
    ) -> Result<Option<QueueItem>, StoreError> {
        let filter = QueueFilter {
            scope: scope.map(<[String]>::to_vec),
            ..QueueFilter::default()
        };
        let page = self
            .desk_queue(&filter, QueueOrder::Oldest, QueueCursor::First, 1)
            .await?;
        Ok(page.items.into_iter().next())
    }

    /// Records that may be the same document as `id`: the same file, the same registry
    /// key, or the same number-symbol with near-identical text. Every unit's records (the
    /// caller shows only those the account may read).
    pub async fn desk_duplicates(&self, id: i64) -> Result<Vec<Duplicate>, StoreError> {
        let record = self.get_document(id).await?;
        let mut found: HashMap<i64, (Vec<DuplicateKind>, Option<f64>)> = HashMap::new();
        let same_file: Vec<i64> = with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT id FROM documents WHERE file_sha256 = $1 AND id <> $2 \
                 UNION SELECT document_id AS id FROM document_versions WHERE file_sha256 = $1 AND document_id <> $2 \
                 UNION SELECT document_id AS id FROM document_attachments WHERE sha256 = $1 AND document_id <> $2",
            )
            .bind(&record.file_sha256)
            .bind(id)
            .fetch_all(pool)
            .await?;
            rows.iter().map(|r| r.try_get::<i64, _>("id")).collect::<Result<Vec<_>, _>>()?
        });
        for other in same_file {
            found
                .entry(other)
                .or_default()
                .0
                .push(DuplicateKind::SameFile);
        }
        if let Some(key) = &record.registry_key {
            for other in self.records_with_key(key).await? {
                if other.id != id {
                    found
                        .entry(other.id)
                        .or_default()
                        .0
                        .push(DuplicateKind::SameRegistryKey);
                }
            }
        }
        if let Some(ns) = record.fields.number_symbol.as_deref() {
            let candidates: Vec<i64> = with_pool!(self, pool => {
                let rows = sqlx::query(
                    "SELECT id FROM documents WHERE number_symbol = $1 AND id <> $2 ORDER BY id DESC LIMIT 20",
                )
                .bind(ns)
                .bind(id)
                .fetch_all(pool)
                .await?;
                rows.iter().map(|r| r.try_get::<i64, _>("id")).collect::<Result<Vec<_>, _>>()?
            });
            if !candidates.is_empty() {
                let own = self.document_text(id).await.unwrap_or_default();
                let texts = self.document_texts(&candidates).await?;
                for other in candidates {
                    let Some(text) = texts.get(&other) else {
                        continue;
                    };
                    let similarity = text_similarity(&own, text);
                    if similarity >= NEAR_IDENTICAL {
                        let entry = found.entry(other).or_default();
                        entry.0.push(DuplicateKind::SameNumberNearText);
                        entry.1 = Some(similarity);
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(found.len());
        let mut ids: Vec<i64> = found.keys().copied().collect();
        ids.sort_unstable();
        for other in ids {
            let (mut kinds, similarity) = found.remove(&other).unwrap_or_default();
            let r = match self.get_document(other).await {
                Ok(r) => r,
                Err(StoreError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            kinds.sort_unstable();
            kinds.dedup();
            out.push(Duplicate {
                id: r.id,
                unit_code: r.unit_code,
                status: r.status,
                doc_type: r.fields.doc_type,
                number_symbol: r.fields.number_symbol,
                abstract_text: r.fields.abstract_text,
                kinds,
                similarity,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_identical_texts_are_told_from_different_ones() {
        let a = "QUYẾT ĐỊNH\nVề việc kiện toàn Ban biên tập trang thông tin điện tử xã Quốc Tuấn năm 2024. \
                 Điều 1. Kiện toàn Ban biên tập gồm các ông bà có tên sau đây. Điều 2. Quyết định có hiệu lực.";
        let relaid = a.replace('\n', "  ").replace(". ", ".\n");
        let nfd_and_case = a.to_uppercase();
        let one_word = a.replace("năm 2024", "năm 2025");
        let other =
            "BÁO CÁO\nTình hình hoạt động của trang thông tin điện tử xã Nam Chính năm 2021";
        for (b, near) in [
            (relaid.as_str(), true),
            (nfd_and_case.as_str(), true),
            (one_word.as_str(), true),
            (other, false),
            ("", false),
        ] {
            let s = text_similarity(a, b);
            assert_eq!(s >= NEAR_IDENTICAL, near, "{s} for {b:?}");
        }
        assert_eq!(text_similarity(a, &relaid), 1.0);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_QĐ"), "%50\\%\\_qđ%");
    }

    #[test]
    fn pages_scan_in_the_right_direction() {
        let f = QueueFilter::default();
        for (order, cursor, needle) in [
            (QueueOrder::Oldest, QueueCursor::First, "ORDER BY d.id ASC"),
            (
                QueueOrder::Oldest,
                QueueCursor::After(5),
                "d.id > $2 ORDER BY d.id ASC",
            ),
            (
                QueueOrder::Oldest,
                QueueCursor::Before(5),
                "d.id < $2 ORDER BY d.id DESC",
            ),
            (
                QueueOrder::Newest,
                QueueCursor::After(5),
                "d.id < $2 ORDER BY d.id DESC",
            ),
            (
                QueueOrder::Newest,
                QueueCursor::Before(5),
                "d.id > $2 ORDER BY d.id ASC",
            ),
        ] {
            let sql = page_sql(&f, order, cursor, 50);
            assert!(
                sql.text.contains(needle),
                "{order:?} {cursor:?}: {}",
                sql.text
            );
        }
    }
}
