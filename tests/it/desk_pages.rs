//! The read side of the clerk desk: the review queue at 10,000 held records on SQLite and
//! PostgreSQL (every page walked by key, nothing missing or repeated, an index in the
//! plan), and every page rendered in process for a clerk, a viewer and another unit.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use vanban::store::{QueueCursor, QueueFilter, QueueOrder, Status, Store};

const UNIT_A: &str = "000.46.24.H44";
const UNIT_B: &str = "000.47.24.H44";
const HELD: i64 = 10_000;

/// Hold codes spread over the generated records (`document_holds.code`).
fn code_of(i: i64) -> &'static str {
    match i % 4 {
        0 => "personal_data",
        1 => "missing_fields",
        2 => "unsigned_source",
        _ => "scanned",
    }
}

/// 10,000 held records (and 500 published ones), in one transaction: half in each unit,
/// four sources, stored over the last 100 days, each with one open hold (every tenth a
/// second one). Raw SQL: the store's insert (one transaction per record, with an fsync
/// each) would make this test minutes long for nothing it checks.
async fn generate(store: &Store) {
    macro_rules! fill {
        ($pool:expr) => {{
            let mut tx = $pool.begin().await.unwrap();
            let now = Utc::now();
            for i in 0..HELD + 500 {
                let sha = format!("{i:064x}");
                sqlx::query(
                    "INSERT INTO files (sha256, size, media_type, blob_key, created_at) VALUES ($1, 10, 'application/pdf', $1, $2)",
                )
                .bind(&sha)
                .bind(now)
                .execute(&mut *tx)
                .await
                .unwrap();
                let unit = if i % 2 == 0 { UNIT_A } else { UNIT_B };
                let source = match i % 4 {
                    0 => "cli",
                    1 => "sync:vxp",
                    2 => "upload",
                    _ => "sync:folder",
                };
                let status = if i < HELD {
                    Status::NeedsReview
                } else {
                    Status::Draft
                };
                let created = now - Duration::minutes(14_400) + Duration::minutes(i);
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO documents (unit_code, status, source, file_sha256, doc_type, number_symbol, abstract, \
                     text_source, pages, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, 'Quyết định', $5, $6, 'text_layer', 1, $7, $7) RETURNING id",
                )
                .bind(unit)
                .bind(status.as_str())
                .bind(source)
                .bind(&sha)
                .bind(format!("{}/QĐ-UBND", i + 1))
                .bind(format!("Về việc hồ sơ số {i} của xã"))
                .bind(created)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
                if i < HELD {
                    let mut codes = vec![code_of(i)];
                    if i % 10 == 0 {
                        codes.push("registry_conflict");
                    }
                    for code in codes {
                        sqlx::query(
                            "INSERT INTO document_holds (document_id, code, message, created_at) VALUES ($1, $2, $3, $4)",
                        )
                        .bind(id)
                        .bind(code)
                        .bind("giữ lại để văn thư xem xét")
                        .bind(created)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    }
                }
            }
            tx.commit().await.unwrap();
        }};
    }
    match store {
        Store::Sqlite(pool) => fill!(pool),
        Store::Postgres(pool) => {
            fill!(pool);
            sqlx::query("ANALYZE").execute(pool).await.unwrap();
        }
    }
}

/// Every id of `filter`, page by page (forward, then backward from the end).
async fn walk(store: &Store, filter: &QueueFilter, order: QueueOrder, limit: i64) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut cursor = QueueCursor::First;
    let mut pages = 0;
    loop {
        let page = store.desk_queue(filter, order, cursor, limit).await.unwrap();
        pages += 1;
        assert!(pages <= HELD / limit + 2, "paging does not end");
        assert!(page.items.len() as i64 <= limit);
        seen.extend(page.items.iter().map(|i| i.id));
        match (page.has_next, page.items.last()) {
            (true, Some(last)) => cursor = QueueCursor::After(last.id),
            _ => break,
        }
    }
    // Backward from the last page's last row reproduces the same sequence.
    if let Some(&last) = seen.last() {
        let mut back: Vec<i64> = vec![last];
        let mut cursor = QueueCursor::Before(last);
        loop {
            let page = store.desk_queue(filter, order, cursor, limit).await.unwrap();
            for item in page.items.iter().rev() {
                back.push(item.id);
            }
            match (page.has_previous, page.items.first()) {
                (true, Some(first)) => cursor = QueueCursor::Before(first.id),
                _ => break,
            }
        }
        back.reverse();
        assert_eq!(back, seen, "paging backward gives the same rows");
    }
    seen
}

fn assert_exact(ids: &[i64], expected: usize, what: &str) {
    let unique: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{what}: a row repeated");
    assert_eq!(ids.len(), expected, "{what}: rows missing");
}

async fn ten_thousand(store: Store) {
    generate(&store).await;
    let all = QueueFilter::default();
    let unit_a = QueueFilter {
        scope: Some(vec![UNIT_A.into()]),
        ..QueueFilter::default()
    };
    // The whole queue, oldest first: every held record once, ids ascending.
    let ids = walk(&store, &all, QueueOrder::Oldest, 50).await;
    assert_exact(&ids, HELD as usize, "all units");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first");
    assert_eq!(store.desk_queue_total(&all).await.unwrap(), HELD);
    // Newest first, another page size.
    let newest = walk(&store, &all, QueueOrder::Newest, 173).await;
    assert_exact(&newest, HELD as usize, "newest first");
    assert!(newest.windows(2).all(|w| w[0] > w[1]));
    // One unit's clerk: only their half.
    let ids = walk(&store, &unit_a, QueueOrder::Oldest, 50).await;
    assert_exact(&ids, (HELD / 2) as usize, "one unit");
    // A clerk of no unit sees nothing.
    let nobody = QueueFilter {
        scope: Some(vec![]),
        ..QueueFilter::default()
    };
    assert!(walk(&store, &nobody, QueueOrder::Oldest, 50).await.is_empty());
    // A reason within a unit: the records held for it there.
    let reason = QueueFilter {
        hold: Some("personal_data".into()),
        ..unit_a.clone()
    };
    let ids = walk(&store, &reason, QueueOrder::Oldest, 50).await;
    assert_exact(&ids, (HELD / 4) as usize, "reason in a unit");
    // Counts per reason for the unit (every reason, whatever reason is chosen).
    let counts = store.desk_hold_counts(&reason).await.unwrap();
    let count = |code: &str| counts.iter().find(|(c, _)| c == code).map(|(_, n)| *n);
    assert_eq!(count("personal_data"), Some(HELD / 4));
    assert_eq!(count("unsigned_source"), Some(HELD / 4));
    assert_eq!(count("missing_fields"), None, "odd records are in the other unit");
    assert_eq!(count("registry_conflict"), Some(HELD / 10 / 2));
    // Source, age and text filters.
    let synced = QueueFilter {
        source: Some("sync".into()),
        ..QueueFilter::default()
    };
    assert_exact(
        &walk(&store, &synced, QueueOrder::Oldest, 200).await,
        (HELD / 2) as usize,
        "every sync source",
    );
    let old = QueueFilter {
        stored_before: Some(Utc::now() - Duration::minutes(14_400) + Duration::minutes(1_000)),
        ..QueueFilter::default()
    };
    assert_exact(&walk(&store, &old, QueueOrder::Oldest, 200).await, 1_000, "older than");
    let text = QueueFilter {
        text: Some("hồ sơ số 1234 ".into()),
        ..QueueFilter::default()
    };
    assert_eq!(store.desk_queue_total(&text).await.unwrap(), 1);
    let number = QueueFilter {
        text: Some("999/qđ".into()),
        ..QueueFilter::default()
    };
    // 999/…, 1999/…, …, 9999/… (ASCII case folded on both backends).
    assert_eq!(store.desk_queue_total(&number).await.unwrap(), 10);
    // Tabs: the other statuses are counted, not listed.
    let tabs = store.desk_status_counts(&all).await.unwrap();
    assert!(tabs.contains(&(Status::NeedsReview, HELD)));
    assert!(tabs.contains(&(Status::Draft, 500)));

    // Page 150 costs what page 1 costs: an index range read, never a scan and a sort.
    let deep = QueueCursor::After(ids_at(&store, 150 * 50).await);
    for (what, filter) in [("all units", &all), ("one unit", &unit_a), ("reason", &reason)] {
        for cursor in [QueueCursor::First, deep] {
            let plan = store
                .desk_queue_plan(filter, QueueOrder::Oldest, cursor, 50)
                .await
                .unwrap()
                .join("\n");
            match store {
                Store::Sqlite(_) => {
                    assert!(
                        plan.contains("SEARCH d USING") && !plan.contains("TEMP B-TREE"),
                        "{what}: {plan}"
                    );
                }
                Store::Postgres(_) => {
                    assert!(
                        plan.contains("Index") && !plan.contains("Sort"),
                        "{what}: {plan}"
                    );
                }
            }
        }
    }
}

/// The id of the `n`th held record (oldest first).
async fn ids_at(store: &Store, n: i64) -> i64 {
    let page = store
        .desk_queue(
            &QueueFilter::default(),
            QueueOrder::Oldest,
            QueueCursor::First,
            1,
        )
        .await
        .unwrap();
    page.items[0].id + n
}

#[tokio::test]
async fn the_queue_pages_ten_thousand_held_records_by_key_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("q.db").display());
    ten_thousand(Store::connect(&url, 4).await.unwrap()).await;
}

#[tokio::test]
async fn the_queue_pages_ten_thousand_held_records_by_key_on_postgres() {
    let Some(db) = crate::store::scratch_postgres().await else {
        return;
    };
    ten_thousand(Store::connect(&db.url, 4).await.unwrap()).await;
    db.drop().await;
}
