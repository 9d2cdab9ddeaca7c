//! One publication rule, enforced in one place (issue 11 §2): a record forced into the
//! database as published while internal or classified — bypassing every check, as a bug
//! or a hand-edited row would — is revealed by no public surface; and the rule is written
//! once in SQL, nowhere else.

use std::path::Path;

use axum::http::StatusCode;
use serde_json::Value;
use vanban::store::{Status, Store};

use crate::web::{Doc, TestApp, app, url};

/// Sets columns of a record with raw SQL, bypassing the store's checks, and appends the
/// change-log entry the index follows (as any write would).
pub async fn force(store: &Store, id: i64, set: &str) {
    let sql = format!("UPDATE documents SET {set} WHERE id = $1");
    let log = "INSERT INTO search_changes (document_id, at) VALUES ($1, $2)";
    let now = chrono::Utc::now();
    match store {
        Store::Sqlite(pool) => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .execute(pool)
                .await
                .unwrap();
            sqlx::query(log)
                .bind(id)
                .bind(now)
                .execute(pool)
                .await
                .unwrap();
        }
        Store::Postgres(pool) => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .execute(pool)
                .await
                .unwrap();
            sqlx::query(log)
                .bind(id)
                .bind(now)
                .execute(pool)
                .await
                .unwrap();
        }
    }
}

struct Forced {
    app: TestApp,
    decision: i64,
    report: i64,
    internal: i64,
    classified: i64,
}

/// A public decision; an internal plan and a classified plan that both cite it, forced to
/// `published`; a public report citing both plans. The plans use words, a type, an issuer
/// and a year no public record has, so any count or facet that includes them shows.
async fn forced_registry() -> Forced {
    let app = app().await;
    let decision = app
        .add(Doc {
            number_symbol: Some("116/QĐ-UBND"),
            issued: (2021, 9, 24),
            abstract_text: "Về việc kiện toàn Ban biên tập Trang thông tin điện tử xã",
            body: "Điều 1. Kiện toàn Ban biên tập.",
            ..Doc::default()
        })
        .await;
    let report = app
        .add(Doc {
            doc_type: "Báo cáo",
            number_symbol: Some("215/BC-UBND"),
            issued: (2023, 12, 21),
            abstract_text: "Tình hình hoạt động của Trang thông tin điện tử năm 2023",
            body: "Thực hiện Kế hoạch số 77/KH-BCH và Kế hoạch số 88/KH-BCH của Ban chỉ huy.",
            cites: &["77/KH-BCH", "88/KH-BCH"],
            ..Doc::default()
        })
        .await;
    let mut hidden = Vec::new();
    for (ns, words) in [
        ("77/KH-BCH", "Phương án diễn tập phòng thủ khu vực nội bộ"),
        (
            "88/KH-BCH",
            "Phương án diễn tập phòng thủ khu vực tuyệt mật",
        ),
    ] {
        hidden.push(
            app.add(Doc {
                status: Status::Draft,
                doc_type: "Kế hoạch",
                number_symbol: Some(ns),
                issuer: "Ban Chỉ huy Quân sự xã Quốc Tuấn",
                issued: (2019, 5, 2),
                abstract_text: words,
                body: "Căn cứ Quyết định số 116/QĐ-UBND. Diễn tập phòng thủ.",
                cites: &["116/QĐ-UBND"],
                ..Doc::default()
            })
            .await,
        );
    }
    let (internal, classified) = (hidden[0], hidden[1]);
    let store = &app.state.store;
    force(
        store,
        internal,
        "status = 'published', internal_circulation = TRUE",
    )
    .await;
    force(store, classified, "status = 'published', secrecy = 'MẬT'").await;
    app.sync_index().await;
    Forced {
        app,
        decision,
        report,
        internal,
        classified,
    }
}

fn ids(v: &Value, key: &str) -> Vec<i64> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect()
}

#[tokio::test]
async fn a_forced_internal_or_classified_record_is_revealed_by_no_public_surface() {
    let f = forced_registry().await;
    let app = &f.app;
    let hidden = [f.internal, f.classified];
    let public = [f.decision, f.report];

    // Search: hits, totals and every facet count.
    for q in [
        "",
        "phuong an dien tap",
        "dien tap phong thu",
        "77/KH-BCH",
        "88/KH-BCH",
        "noi bo",
        "ban chi huy quan su",
        "116/QĐ-UBND",
    ] {
        let uri = format!("/api/v1/documents?q={}", url(q));
        let body = app.json(&uri).await;
        let hits = ids(&body, "hits");
        assert!(
            !hits.iter().any(|h| hidden.contains(h)),
            "{q:?} leaked: {hits:?}"
        );
        let total = body["total"].as_u64().unwrap();
        assert!(total <= public.len() as u64, "{q:?}: total {total}");
        assert_eq!(total as usize, hits.len(), "{q:?}");
        let facets = body["facets"].to_string();
        for leak in ["Kế hoạch", "Ban Chỉ huy Quân sự", "2019"] {
            assert!(!facets.contains(leak), "{q:?}: facet {leak}: {facets}");
        }
    }
    let all = app.json("/api/v1/documents?q=").await;
    assert_eq!(all["total"], 2);
    // Filtering on the hidden records' own values finds nothing.
    for filter in [
        format!("type={}", url("Kế hoạch")),
        "year=2019".into(),
        format!("issuer={}", url("Ban Chỉ huy Quân sự xã Quốc Tuấn")),
    ] {
        let body = app.json(&format!("/api/v1/documents?{filter}")).await;
        assert_eq!(body["total"], 0, "{filter}");
    }

    // The records themselves, their files, pages and ELI addresses.
    for id in hidden {
        let record = app.state.store.get_document(id).await.unwrap();
        assert_eq!(record.status, Status::Published, "forced");
        let eli = vanban::web::eli_path(&record).expect("the record has ELI parts");
        for path in [
            format!("/api/v1/documents/{id}"),
            format!("/api/v1/documents/{id}/file"),
            format!("/van-ban/{id}"),
            eli,
        ] {
            let (status, _, body) = app.get(&path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            let body = String::from_utf8_lossy(&body);
            assert!(!body.contains("diễn tập"), "{path}: {body}");
        }
    }

    // Cited-by of the decision both plans cite; cites of the report that cites both.
    let decision = app.json(&format!("/api/v1/documents/{}", f.decision)).await;
    assert!(ids(&decision, "cited_by").is_empty(), "{decision}");
    let report = app.json(&format!("/api/v1/documents/{}", f.report)).await;
    assert!(ids(&report, "cites").is_empty(), "{report}");
    for c in report["cites"].as_array().unwrap() {
        assert!(c["url"].is_null(), "{c}");
    }
    for id in [f.decision, f.report] {
        let (_, _, page) = app.get(&format!("/van-ban/{id}")).await;
        let page = String::from_utf8(page).unwrap();
        for h in hidden {
            assert!(
                !page.contains(&format!("/van-ban/{h}\"")),
                "page #{id} links #{h}"
            );
        }
        assert!(!page.contains("diễn tập phòng thủ khu vực"), "page #{id}");
    }

    // Feeds, sitemap, the search page and the widget.
    for path in [
        "/feeds/van-ban.atom".to_string(),
        "/sitemap.xml".into(),
        format!("/van-ban?q={}", url("phuong an dien tap")),
        format!("/embed/van-ban?q={}", url("phuong an dien tap")),
        "/embed/van-ban".into(),
    ] {
        let (_, _, body) = app.get(&path).await;
        let text = String::from_utf8(body).unwrap();
        for id in hidden {
            assert!(
                !text.contains(&format!("/van-ban/{id}\""))
                    && !text.contains(&format!("/van-ban/{id}<")),
                "{path} leaked #{id}"
            );
        }
        assert!(!text.contains("Phương án diễn tập"), "{path}");
    }

    // The rebuilt index agrees with the incremental one.
    app.state
        .index
        .rebuild(&app.state.store, |_| {})
        .await
        .unwrap();
    for q in ["phuong an dien tap", "77/KH-BCH", "88/KH-BCH", ""] {
        let hits = app.search(q).await;
        assert!(!hits.iter().any(|h| hidden.contains(h)), "{q:?}: {hits:?}");
    }
    assert_eq!(app.json("/api/v1/documents?q=").await["total"], 2);
}

#[tokio::test]
async fn the_store_refuses_to_publish_them_whoever_asks() {
    let f = forced_registry().await;
    let store = &f.app.state.store;
    // Put back to review by hand, then asked to publish by each kind of actor.
    for id in [f.internal, f.classified] {
        force(store, id, "status = 'needs_review'").await;
        for actor in ["clerk:an", "admin:root", "cli:ops", "sync:hub", "policy"] {
            let refused = store
                .set_status(id, Status::Published, actor, "xin công khai")
                .await;
            match refused {
                Err(vanban::store::StoreError::Refused(r)) => {
                    let expected = if id == f.internal {
                        vanban::domain::Refusal::Internal
                    } else {
                        vanban::domain::Refusal::Classified("MẬT".into())
                    };
                    assert_eq!(r, expected, "{actor}");
                }
                other => panic!("{actor}: {other:?}"),
            }
        }
        assert_eq!(
            store.get_document(id).await.unwrap().status,
            Status::NeedsReview
        );
    }
}

/// "Public" in SQL is written once, in `domain::public_sql!`: no other source file spells
/// the published status inside a query.
#[test]
fn the_public_condition_is_written_once() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    for entry in walkdir::WalkDir::new(&src) {
        let entry = entry.unwrap();
        if entry.path().extension().and_then(|e| e.to_str()) != Some("rs")
            || entry.path().ends_with("domain.rs")
        {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.contains("'published'") || line.contains("secrecy IS NULL") {
                offenders.push(format!(
                    "{}:{}: {}",
                    entry.path().display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}
