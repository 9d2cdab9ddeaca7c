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
        let page = store
            .desk_queue(filter, order, cursor, limit)
            .await
            .unwrap();
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
            let page = store
                .desk_queue(filter, order, cursor, limit)
                .await
                .unwrap();
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
    assert!(
        walk(&store, &nobody, QueueOrder::Oldest, 50)
            .await
            .is_empty()
    );
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
    assert_eq!(
        count("missing_fields"),
        None,
        "odd records are in the other unit"
    );
    assert_eq!(
        count("registry_conflict"),
        Some(HELD / 10),
        "every tenth is even: unit A"
    );
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
        // Half a minute short of record 1000's age (the clock moved since they were made).
        stored_before: Some(
            Utc::now() - Duration::minutes(14_400) + Duration::minutes(1_000)
                - Duration::seconds(30),
        ),
        ..QueueFilter::default()
    };
    assert_exact(
        &walk(&store, &old, QueueOrder::Oldest, 200).await,
        1_000,
        "older than",
    );
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
    for (what, filter) in [
        ("all units", &all),
        ("one unit", &unit_a),
        ("reason", &reason),
    ] {
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

// ---------------------------------------------------------------------------------------
// The pages, in process, through the real router and a real sign-in.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use vanban::auth::Role;

use crate::desk_support::{DeskSession, desk_account};
use crate::web::{Doc, TestApp};

/// Gives record `id` an open hold (as the policy stores one).
async fn hold(app: &TestApp, id: i64, code: &str, message: &str, evidence: Option<&str>) -> i64 {
    macro_rules! insert {
        ($pool:expr) => {
            sqlx::query_scalar(
                "INSERT INTO document_holds (document_id, code, message, evidence, page, created_at) \
                 VALUES ($1, $2, $3, $4, 1, $5) RETURNING id",
            )
            .bind(id)
            .bind(code)
            .bind(message)
            .bind(evidence)
            .bind(Utc::now())
            .fetch_one($pool)
            .await
            .unwrap()
        };
    }
    match &app.state.store {
        Store::Sqlite(pool) => insert!(pool),
        Store::Postgres(pool) => insert!(pool),
    }
}

struct Registry {
    app: TestApp,
    held_a: i64,
    held_b: i64,
    published_a: i64,
    twin_a: i64,
    hold_a: i64,
}

const BODY: &str = "Điều 1. Phê duyệt danh sách hộ được hỗ trợ sửa chữa nhà ở năm 2024 gồm các hộ có tên \
                    trong phụ lục kèm theo. Điều 2. Giao Văn phòng theo dõi, đôn đốc thực hiện.";

async fn registry() -> Registry {
    let app = crate::web::app().await;
    let held_a = app
        .add(Doc {
            unit: UNIT_A,
            status: Status::NeedsReview,
            number_symbol: Some("15/QĐ-UBND"),
            abstract_text: "Phê duyệt danh sách hộ được hỗ trợ sửa chữa nhà ở",
            body: BODY,
            ..Doc::default()
        })
        .await;
    let held_b = app
        .add(Doc {
            unit: UNIT_B,
            status: Status::NeedsReview,
            number_symbol: Some("77/QĐ-UBND"),
            abstract_text: "Hồ sơ riêng của đơn vị khác",
            issuer: "Ủy ban nhân dân xã Nam Chính",
            ..Doc::default()
        })
        .await;
    let published_a = app
        .add(Doc {
            unit: UNIT_A,
            status: Status::Published,
            number_symbol: Some("3/TB-UBND"),
            doc_type: "Thông báo",
            abstract_text: "Lịch tiếp công dân tháng 3",
            ..Doc::default()
        })
        .await;
    // The same decision again (another copy, a different file): a near-duplicate.
    let twin_a = app
        .add(Doc {
            unit: UNIT_A,
            status: Status::NeedsReview,
            number_symbol: Some("15/QĐ-UBND"),
            abstract_text: "Phê duyệt danh sách hộ được hỗ trợ sửa chữa nhà ở ",
            body: BODY,
            issuer: "UBND xã Quốc Tuấn",
            ..Doc::default()
        })
        .await;
    let hold_a = hold(
        &app,
        held_a,
        "personal_data",
        "Có thông tin cá nhân: văn thư kiểm tra",
        Some("Nơi thường trú: xóm 3, xã Quốc Tuấn"),
    )
    .await;
    hold(&app, held_b, "scan", "Bản quét chưa có lớp chữ", None).await;
    hold(&app, twin_a, "registry_conflict", "Trùng số ký hiệu", None).await;
    Registry {
        app,
        held_a,
        held_b,
        published_a,
        twin_a,
        hold_a,
    }
}

async fn page(session: &DeskSession, app: &TestApp, uri: &str) -> String {
    let (status, headers, body) = session.get(app, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store", "{uri}");
    body
}

#[tokio::test]
async fn every_desk_page_renders_for_a_clerk_with_only_their_units_records() {
    let r = registry().await;
    let app = &r.app;
    let clerk = desk_account(app, "vanthu-a", Role::Clerk, &[UNIT_A]).await;

    let dashboard = page(&clerk, app, "/desk/").await;
    assert!(dashboard.contains("Bảng điều khiển"));
    assert!(
        dashboard.contains("<strong>2</strong> văn bản đang chờ"),
        "{dashboard}"
    );
    assert!(
        dashboard.contains(&format!("/desk/documents/{}\"", r.held_a)),
        "oldest waiting"
    );
    assert!(dashboard.contains("Có thông tin cá nhân") || dashboard.contains("personal_data"));
    assert!(!dashboard.contains(UNIT_B), "another unit's counts");

    let queue = page(&clerk, app, "/desk/queue").await;
    for own in [r.held_a, r.twin_a] {
        assert!(
            queue.contains(&format!("value=\"{own}\"")),
            "row and checkbox of #{own}"
        );
    }
    assert!(!queue.contains("Hồ sơ riêng của đơn vị khác"));
    assert!(!queue.contains(&format!("/desk/documents/{}\"", r.held_b)));
    assert!(queue.contains(r#"action="/desk/queue/bulk""#));
    assert!(queue.contains(&format!(r#"name="csrf" value="{}""#, clerk.csrf)));
    assert!(queue.contains("data-select-all"));
    // Filtered by reason: only the record held for it.
    let by_reason = page(&clerk, app, "/desk/queue?reason=personal_data").await;
    assert!(by_reason.contains(&format!("value=\"{}\"", r.held_a)));
    assert!(!by_reason.contains(&format!("value=\"{}\"", r.twin_a)));
    let text = page(&clerk, app, "/desk/queue?q=15%2Fq%C4%90").await;
    assert!(text.contains("2 văn bản"), "{text}");
    let published = page(&clerk, app, "/desk/queue?status=published").await;
    assert!(published.contains("Lịch tiếp công dân"));
    assert!(!published.contains(&format!("value=\"{}\"", r.held_a)));

    let view = page(&clerk, app, &format!("/desk/documents/{}", r.held_a)).await;
    assert!(view.contains(&format!(
        r#"<iframe src="/desk/documents/{}/file""#,
        r.held_a
    )));
    assert!(view.contains("15/QĐ-UBND"));
    assert!(
        view.contains("<mark>Nơi thường trú: xóm 3, xã Quốc Tuấn</mark>"),
        "{view}"
    );
    assert!(view.contains(&format!(
        r#"action="/desk/documents/{}/holds/{}/confirm""#,
        r.held_a, r.hold_a
    )));
    // An open personal-data hold: publishing is refused until the clerk decides, and
    // the page says why instead of offering the button.
    assert!(!view.contains(&format!(r#"action="/desk/documents/{}/publish""#, r.held_a)));
    assert!(view.contains("Chưa thể công khai"), "{view}");
    let twin = page(&clerk, app, &format!("/desk/documents/{}", r.twin_a)).await;
    assert!(twin.contains(&format!(r#"action="/desk/documents/{}/publish""#, r.twin_a)));
    assert!(view.contains(&format!(
        r#"action="/desk/documents/{}/withhold""#,
        r.held_a
    )));
    assert!(view.contains(&format!(r#"href="/desk/documents/{}/correct""#, r.held_a)));
    // The near-duplicate, with both choices.
    assert!(view.contains("Có thể trùng với"));
    assert!(view.contains(&format!(r#"name="into" value="{}""#, r.twin_a)));
    assert!(view.contains(&format!(
        r#"action="/desk/documents/{}/keep-both""#,
        r.held_a
    )));
    assert!(view.contains("Lịch sử") && view.contains("Tạo bản ghi"));

    let published_view = page(&clerk, app, &format!("/desk/documents/{}", r.published_a)).await;
    assert!(published_view.contains(&format!(
        r#"action="/desk/documents/{}/withdraw""#,
        r.published_a
    )));
    assert!(!published_view.contains(&format!(
        r#"action="/desk/documents/{}/publish""#,
        r.published_a
    )));

    // The original, inline, for the browser's viewer.
    let (status, headers, body) = clerk
        .get(app, &format!("/desk/documents/{}/file", r.held_a))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert!(body.starts_with("%PDF-"));

    // Another unit's record, its file and its further files do not exist for this clerk.
    for uri in [
        format!("/desk/documents/{}", r.held_b),
        format!("/desk/documents/{}/file", r.held_b),
        format!("/desk/documents/{}/attachments/1", r.held_b),
        "/desk/documents/999999".to_string(),
        "/desk/documents/abc".to_string(),
    ] {
        let (status, _, body) = clerk.get(app, &uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert!(!body.contains("Hồ sơ riêng"), "{uri}");
    }

    // The look: one stylesheet and one script, versioned and cached.
    for (uri, media_type) in [
        (vanban::desk::layout::css_url(), "text/css"),
        (vanban::desk::layout::js_url(), "text/javascript"),
    ] {
        assert!(dashboard.contains(&uri));
        let (status, headers, _) = app.get(&uri).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(media_type)
        );
        assert!(
            headers[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("max-age=31536000")
        );
    }
}

#[tokio::test]
async fn a_viewer_sees_no_action_forms_and_an_admin_sees_every_unit() {
    let r = registry().await;
    let app = &r.app;
    let viewer = desk_account(app, "xem-a", Role::Viewer, &[UNIT_A]).await;
    let queue = page(&viewer, app, "/desk/queue").await;
    assert!(queue.contains("Phê duyệt danh sách hộ"));
    assert!(!queue.contains("/desk/queue/bulk") && !queue.contains(r#"type="checkbox""#));
    for id in [r.held_a, r.published_a] {
        let view = page(&viewer, app, &format!("/desk/documents/{id}")).await;
        // The only form that posts is signing out.
        assert_eq!(view.matches(r#"method="post""#).count(), 1, "#{id}: {view}");
        for action in [
            "publish",
            "withhold",
            "reject",
            "withdraw",
            "return",
            "merge",
            "keep-both",
            "correct",
        ] {
            assert!(
                !view.contains(&format!("/desk/documents/{id}/{action}")),
                "{action} for a viewer"
            );
        }
        assert!(!view.contains("/confirm\"") && !view.contains("/dismiss\""));
    }
    let (status, _, _) = viewer
        .get(app, &format!("/desk/documents/{}/file", r.held_a))
        .await;
    assert_eq!(status, StatusCode::OK, "a viewer reads the file");

    let admin = desk_account(app, "quantri", Role::Admin, &[]).await;
    let queue = page(&admin, app, "/desk/queue").await;
    for id in [r.held_a, r.held_b, r.twin_a] {
        assert!(
            queue.contains(&format!("value=\"{id}\"")),
            "#{id} for an admin"
        );
    }
    let dashboard = page(&admin, app, "/desk/").await;
    assert!(
        dashboard.contains(UNIT_B) && dashboard.contains("<strong>3</strong> văn bản đang chờ")
    );
    assert!(dashboard.contains(r#"href="/desk/accounts""#));
    let clerk_dashboard = page(
        &desk_account(app, "vt", Role::Clerk, &[UNIT_A]).await,
        app,
        "/desk/",
    )
    .await;
    assert!(
        !clerk_dashboard.contains(r#"href="/desk/accounts""#),
        "admin links for admins"
    );
}

#[tokio::test]
async fn a_package_needing_attention_is_retried_from_the_dashboard() {
    let r = registry().await;
    let app = &r.app;
    macro_rules! insert {
        ($pool:expr) => {
            sqlx::query(
                "INSERT INTO sync_packages (source, package_id, state, attempts, last_error, first_seen_at, updated_at) \
                 VALUES ('vxp', 'pkg/7 b', 'needs_attention', 5, 'tệp đính kèm hỏng', $1, $1)",
            )
            .bind(Utc::now())
            .execute($pool)
            .await
            .unwrap()
        };
    }
    match &app.state.store {
        Store::Sqlite(pool) => {
            insert!(pool);
        }
        Store::Postgres(pool) => {
            insert!(pool);
        }
    }
    // The source names no unit: only an administrator sees and retries it.
    let clerk = desk_account(app, "vanthu-a", Role::Clerk, &[UNIT_A]).await;
    let dashboard = page(&clerk, app, "/desk/").await;
    assert!(!dashboard.contains("pkg/7 b"));
    let uri = "/desk/sync/packages/pkg%2F7%20b/retry";
    let (status, _, _) = clerk.post(app, uri, &[("source", "vxp")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let admin = desk_account(app, "quantri", Role::Admin, &[]).await;
    let dashboard = page(&admin, app, "/desk/").await;
    assert!(dashboard.contains("pkg/7 b") && dashboard.contains("tệp đính kèm hỏng"));
    assert!(
        dashboard.contains(r#"action="/desk/sync/packages/pkg%2F7%20b/retry""#),
        "{dashboard}"
    );
    let (status, _, _) = admin
        .post_with_csrf(app, uri, &[("source", "vxp")], None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");
    let (status, headers, _) = admin.post(app, uri, &[("source", "vxp")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let package = app
        .state
        .store
        .package("vxp", "pkg/7 b")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(package.state, vanban::store::PackageState::Failed);
    assert_eq!(package.attempts, 0);
    // The next page says so, once.
    let flash = crate::desk_support::set_cookie(&headers, "vb_flash").expect("a flash");
    let request = Request::builder()
        .uri("/desk/")
        .header(
            header::COOKIE,
            format!(
                "{}={}; vb_flash={flash}",
                vanban::auth::session::COOKIE,
                admin.token
            ),
        )
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = app.request(request).await;
    assert_eq!(status, StatusCode::OK);
    let body = String::from_utf8(body).unwrap();
    assert!(
        body.contains("sẽ được thử lại ở lượt đồng bộ tiếp theo"),
        "{body}"
    );
    assert!(
        headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("vb_flash=;"))
    );
}
