//! The public registry end to end, in process: records in SQLite, the index following the
//! change log, and the real router answering HTTP requests (API, pages, feeds, embed).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::NaiveDate;
use serde_json::Value;
use tower::ServiceExt;

use vanban::app::Application;
use vanban::config::Settings;
use vanban::doctypes::DocTypeTable;
use vanban::search::SearchIndex;
use vanban::store::{DocumentFields, NewCitation, NewDocument, NewFile, Status};
use vanban::web::AppState;

pub struct TestApp {
    _dir: tempfile::TempDir,
    pub state: Arc<AppState>,
    pub router: Router,
}

/// One record of the test registry.
pub struct Doc<'a> {
    pub unit: &'a str,
    pub status: Status,
    pub doc_type: &'a str,
    pub number_symbol: Option<&'a str>,
    pub issuer: &'a str,
    pub issued: (i32, u32, u32),
    pub effective: Option<(i32, u32, u32)>,
    pub abstract_text: &'a str,
    pub signer: &'a str,
    pub body: &'a str,
    pub cites: &'a [&'a str],
    pub secrecy: Option<&'a str>,
}

impl Default for Doc<'_> {
    fn default() -> Self {
        Doc {
            unit: "000.46.24.H44",
            status: Status::Published,
            doc_type: "Quyết định",
            number_symbol: None,
            issuer: "Ủy ban nhân dân xã Quốc Tuấn",
            issued: (2024, 1, 1),
            effective: None,
            abstract_text: "",
            signer: "Nguyễn Văn An",
            body: "",
            cites: &[],
            secrecy: None,
        }
    }
}

pub async fn app() -> TestApp {
    app_with(&[]).await
}

/// A test registry with extra settings (`("VANBAN__ADMIN__TOKENS", "…")`).
pub async fn app_with(env: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut vars = vec![(
        "VANBAN__STORAGE__DATA_DIR".to_string(),
        dir.path().display().to_string(),
    )];
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let settings = Settings::load(None, vars).unwrap().settings;
    // The application as `serve` builds it, without a listener; nothing runs in the
    // background (tests catch the index up with `sync_index`, start workers themselves).
    let (state, router) = Application::build(settings, DocTypeTable::builtin(), Default::default())
        .await
        .unwrap()
        .into_parts();
    TestApp {
        _dir: dir,
        state,
        router,
    }
}

impl TestApp {
    /// Stores a record (and its file bytes) as the ingest path would.
    pub async fn add(&self, doc: Doc<'_>) -> i64 {
        let date = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let bytes = format!(
            "%PDF-1.7\n% {} {}\n%%EOF\n",
            doc.number_symbol.unwrap_or("-"),
            doc.abstract_text
        )
        .into_bytes();
        let sha256 = vanban::extract::sha256_hex(&bytes);
        self.state.blobs.put(&sha256, &bytes).unwrap();
        let (number, symbol) = match doc.number_symbol.and_then(|ns| ns.split_once('/')) {
            Some((n, s)) => (Some(n.to_string()), Some(s.to_string())),
            None => (None, None),
        };
        // The store refuses to publish a classified record: such a record is forced into
        // the database as published (as a bug or a hand-edited row would), to show that no
        // public surface reveals it.
        let forced = doc.status == Status::Published && doc.secrecy.is_some();
        let new = NewDocument {
            unit_code: doc.unit.into(),
            status: if forced { Status::Draft } else { doc.status },
            source: "test".into(),
            source_ref: None,
            external_id: None,
            file: NewFile {
                sha256,
                size: bytes.len() as i64,
                media_type: "application/pdf".into(),
                original_name: None,
            },
            metadata: DocumentFields {
                doc_type: Some(doc.doc_type.into()),
                number,
                symbol,
                number_symbol: doc.number_symbol.map(str::to_string),
                issuer: Some(doc.issuer.into()),
                issued_date: Some(date(doc.issued)),
                issued_year: Some(doc.issued.0),
                effective_date: doc.effective.map(date),
                abstract_text: Some(doc.abstract_text.into()),
                signer_name: Some(doc.signer.into()),
                signer_title: Some("Chủ tịch".into()),
                secrecy: doc.secrecy.map(str::to_string),
                text_source: "text_layer".into(),
                pages: 1,
                field_evidence: serde_json::json!({}),
                ..DocumentFields::default()
            },
            text: format!(
                "{}\n{}\n{}",
                doc.doc_type.to_uppercase(),
                doc.abstract_text,
                doc.body
            ),
            warnings: vec![],
            citations: doc
                .cites
                .iter()
                .map(|c| NewCitation {
                    number_symbol: (*c).into(),
                    cited_type: None,
                    cited_date: None,
                })
                .collect(),
            actor: "test".into(),
            status_reason: "test".into(),
            holds: Vec::new(),
        };
        let id = self.state.store.insert_document(&new).await.unwrap();
        if forced {
            crate::public_rule::force(&self.state.store, id, "status = 'published'").await;
        }
        id
    }

    pub async fn sync_index(&self) {
        self.state.index.catch_up(&self.state.store).await.unwrap();
    }

    pub async fn get(&self, uri: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        self.request(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn request(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        (status, headers, body)
    }

    pub async fn json(&self, uri: &str) -> Value {
        let (status, _, body) = self.get(uri).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{uri}: {}",
            String::from_utf8_lossy(&body)
        );
        serde_json::from_slice(&body).unwrap()
    }

    /// Ids of the hits for `q`, best first.
    pub async fn search(&self, q: &str) -> Vec<i64> {
        let uri = format!("/api/v1/documents?q={}", url(q));
        self.json(&uri).await["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_i64().unwrap())
            .collect()
    }
}

pub fn url(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub struct Registry {
    pub app: TestApp,
    pub decision: i64,
    pub report_citing: i64,
    pub decree: i64,
    pub classified: i64,
    pub draft: i64,
    pub other_unit: i64,
    pub future: i64,
}

/// A small registry with the shapes that matter: a decision, a report citing it, a
/// national decree, a classified plan forced to "published", a draft, another unit's
/// notice, and a resolution not yet in force.
pub async fn registry() -> Registry {
    registry_with(&[]).await
}

/// [`registry`] with extra settings.
pub async fn registry_with(env: &[(&str, &str)]) -> Registry {
    let app = app_with(env).await;
    let decision = app
        .add(Doc {
            number_symbol: Some("116/QĐ-UBND"),
            issued: (2021, 9, 24),
            issuer: "Uỷ ban nhân dân xã Quốc Tuấn",
            abstract_text: "Về việc kiện toàn Ban biên tập Trang thông tin điện tử xã",
            signer: "Nguyễn Văn Hòa",
            body: "Điều 1. Kiện toàn Ban biên tập gồm các ông, bà có tên sau đây.",
            ..Doc::default()
        })
        .await;
    let report_citing = app
        .add(Doc {
            doc_type: "Báo cáo",
            number_symbol: Some("215/BC-UBND"),
            issued: (2023, 12, 21),
            abstract_text: "Tình hình hoạt động của Trang thông tin điện tử năm 2023",
            body: "Thực hiện Quyết định số 116/QĐ-UBND ngày 24/9/2021 của UBND xã về kiện toàn Ban biên tập, trang đã đăng 120 tin bài.",
            cites: &["116/QĐ-UBND"],
            ..Doc::default()
        })
        .await;
    let decree = app
        .add(Doc {
            doc_type: "Nghị định",
            number_symbol: Some("43/2011/NĐ-CP"),
            issuer: "Chính phủ",
            issued: (2011, 6, 13),
            abstract_text: "Quy định về việc cung cấp thông tin và dịch vụ công trực tuyến trên trang thông tin điện tử hoặc cổng thông tin điện tử của cơ quan nhà nước",
            signer: "Nguyễn Tấn Dũng",
            body: "Nghị định này quy định việc cung cấp thông tin và dịch vụ công trực tuyến.",
            ..Doc::default()
        })
        .await;
    let classified = app
        .add(Doc {
            doc_type: "Kế hoạch",
            number_symbol: Some("12/KH-UBND"),
            issued: (2024, 3, 1),
            abstract_text: "Bảo vệ bí mật nhà nước năm 2024 về kiện toàn",
            body: "Kế hoạch bảo vệ bí mật nhà nước. Quyết định số 116/QĐ-UBND.",
            cites: &["116/QĐ-UBND"],
            secrecy: Some("MẬT"),
            ..Doc::default()
        })
        .await;
    let draft = app
        .add(Doc {
            status: Status::Draft,
            doc_type: "Quy chế",
            number_symbol: Some("01/QC-UBND"),
            abstract_text: "Dự thảo quy chế kiện toàn hoạt động trang thông tin",
            ..Doc::default()
        })
        .await;
    let other_unit = app
        .add(Doc {
            unit: "000.46.24.H45",
            doc_type: "Thông báo",
            number_symbol: Some("05/TB-UBND"),
            issuer: "Ủy ban nhân dân xã Nam Chính",
            abstract_text: "Lịch tiếp công dân tháng 5",
            ..Doc::default()
        })
        .await;
    let future = app
        .add(Doc {
            doc_type: "Nghị quyết",
            number_symbol: Some("33/2026/NQ-HĐND"),
            issuer: "Hội đồng nhân dân tỉnh Cao Bằng",
            issued: (2026, 7, 15),
            effective: Some((2099, 1, 1)),
            abstract_text: "Quy định mức thu lệ phí cấp giấy phép lao động",
            ..Doc::default()
        })
        .await;
    app.sync_index().await;
    Registry {
        app,
        decision,
        report_citing,
        decree,
        classified,
        draft,
        other_unit,
        future,
    }
}

#[tokio::test]
async fn citizens_find_documents_the_way_they_type() {
    let r = registry().await;
    let app = &r.app;
    assert_eq!(app.search("kien toan ban bien tap").await[0], r.decision);
    assert_eq!(app.search("kiện toàn ban biên tập").await[0], r.decision);
    // Telex typed without an input method.
    assert_eq!(
        app.search("kieenj toanf ban bieen taapj").await[0],
        r.decision
    );
    // Tone placement: "uỷ" in the record, "ủy" typed (and the other way round).
    assert!(
        app.search("ủy ban nhân dân xã quốc tuấn")
            .await
            .contains(&r.decision)
    );
    // Signer.
    assert_eq!(app.search("nguyen van hoa").await, [r.decision]);
    // Abbreviations.
    assert_eq!(app.search("nd cung cap thong tin").await[0], r.decree);
    // A typo in a long syllable.
    assert_eq!(app.search("truc tuyeen").await[0], r.decree);
    assert!(
        app.search("dich vu cong truc tuyn")
            .await
            .contains(&r.decree)
    );
    // Nothing matches nonsense.
    assert!(app.search("xyzzy plugh").await.is_empty());
}

#[tokio::test]
async fn number_symbols_find_the_carrier_first_in_any_spelling() {
    let r = registry().await;
    for typed in [
        "116/QĐ-UBND",
        "116/QD-UBND",
        "116 QĐ UBND",
        "qd 116",
        "116/qd-ubnd",
    ] {
        let hits = r.app.search(typed).await;
        assert_eq!(hits.first(), Some(&r.decision), "{typed}: {hits:?}");
        let citing = hits.iter().position(|&h| h == r.report_citing);
        assert!(
            citing.is_some_and(|p| p > 0),
            "{typed}: the citing report ranks below: {hits:?}"
        );
    }
    for typed in ["43/2011/NĐ-CP", "43/2011/ND-CP", "NĐ 43/2011", "nd 43 2011"] {
        assert_eq!(
            r.app.search(typed).await.first(),
            Some(&r.decree),
            "{typed}"
        );
    }
}

#[tokio::test]
async fn nothing_non_public_is_ever_returned() {
    let r = registry().await;
    let app = &r.app;
    let forbidden = [r.classified, r.draft];
    for q in [
        "",
        "bi mat nha nuoc",
        "12/KH-UBND",
        "12 KH UBND",
        "kien toan",
        "du thao quy che",
        "116/QĐ-UBND",
    ] {
        let hits = app.search(q).await;
        assert!(
            !hits.iter().any(|h| forbidden.contains(h)),
            "{q:?} leaked: {hits:?}"
        );
    }
    for id in forbidden {
        for path in [
            format!("/api/v1/documents/{id}"),
            format!("/api/v1/documents/{id}/file"),
            format!("/van-ban/{id}"),
        ] {
            let (status, _, body) = app.get(&path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert!(!String::from_utf8_lossy(&body).contains("bí mật"), "{path}");
        }
    }
    let (_, _, feed) = app.get("/feeds/van-ban.atom").await;
    let (_, _, sitemap) = app.get("/sitemap.xml").await;
    let (_, _, page) = app.get("/van-ban?q=kien+toan").await;
    let (_, _, embed) = app.get("/embed/van-ban?q=bi+mat").await;
    for (name, body) in [
        ("feed", feed),
        ("sitemap", sitemap),
        ("page", page),
        ("embed", embed),
    ] {
        let text = String::from_utf8(body).unwrap();
        for id in forbidden {
            assert!(
                !text.contains(&format!("/van-ban/{id}\""))
                    && !text.contains(&format!("/van-ban/{id}<")),
                "{name} leaked #{id}"
            );
        }
        assert!(
            !text.contains("bí mật nhà nước"),
            "{name} leaked the classified abstract"
        );
    }
    // The decision's page lists the report citing it, never the classified plan.
    let record = app.json(&format!("/api/v1/documents/{}", r.decision)).await;
    let cited_by: Vec<i64> = record["cited_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(cited_by, [r.report_citing]);
}

#[tokio::test]
async fn withdrawing_removes_from_every_public_view() {
    let r = registry().await;
    r.app
        .state
        .store
        .set_status(r.decision, Status::Withdrawn, "clerk:an", "thu hồi")
        .await
        .unwrap();
    r.app.sync_index().await;
    assert!(!r.app.search("116/QĐ-UBND").await.contains(&r.decision));
    // Once public, it answers 410 with the withdrawal notice: its identity, no text.
    let (status, _, body) = r
        .app
        .get(&format!("/api/v1/documents/{}", r.decision))
        .await;
    assert_eq!(status, StatusCode::GONE);
    let body = String::from_utf8_lossy(&body);
    assert!(
        body.contains("Đã thu hồi ngày") && body.contains("thu hồi"),
        "{body}"
    );
    assert!(
        body.contains("116/QĐ-UBND") && !body.contains("\"text\""),
        "{body}"
    );
    // Publishing again brings it back.
    r.app
        .state
        .store
        .set_status(r.decision, Status::Published, "clerk:an", "công khai lại")
        .await
        .unwrap();
    r.app.sync_index().await;
    assert_eq!(r.app.search("116/QĐ-UBND").await[0], r.decision);
}

#[tokio::test]
async fn filters_facets_units_validity_and_sorting() {
    let r = registry().await;
    let app = &r.app;
    let all = app.json("/api/v1/documents").await;
    assert_eq!(all["total"], 5);
    // Empty query: newest first.
    let ids: Vec<i64> = all["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids[0], r.future);
    let types = &all["facets"]["type"];
    assert!(
        types
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["value"] == "Quyết định" && f["count"] == 1),
        "{types}"
    );
    let unit = app.json("/api/v1/documents?unit=000.46.24.H45").await;
    assert_eq!(unit["total"], 1);
    assert_eq!(unit["hits"][0]["id"], r.other_unit);
    let future = app.json("/api/v1/documents?status=not_yet_in_force").await;
    assert_eq!(future["total"], 1);
    assert_eq!(future["hits"][0]["id"], r.future);
    assert_eq!(future["hits"][0]["validity"], "not_yet_in_force");
    let by_type = app
        .json(&format!("/api/v1/documents?type={}", url("Nghị định")))
        .await;
    assert_eq!(by_type["hits"][0]["id"], r.decree);
    let range = app
        .json("/api/v1/documents?from=2021-01-01&to=2021-12-31")
        .await;
    assert_eq!(range["total"], 1);
    let year = app.json("/api/v1/documents?year=2011&sort=oldest").await;
    assert_eq!(year["hits"][0]["id"], r.decree);
    let page2 = app.json("/api/v1/documents?per_page=2&page=2").await;
    assert_eq!(
        (
            page2["page"].as_u64(),
            page2["hits"].as_array().unwrap().len()
        ),
        (Some(2), 2)
    );
    // Hits carry the contract's fields.
    let hit = &app.json("/api/v1/documents?q=kien+toan").await["hits"][0];
    for key in [
        "id",
        "sha256",
        "doc_type",
        "number_symbol",
        "issuer",
        "issued_date",
        "effective_date",
        "abstract",
        "signer_name",
        "status",
        "url",
        "file_url",
        "snippet",
    ] {
        assert!(hit.get(key).is_some(), "hit lacks {key}");
    }
    assert!(hit["snippet"].as_str().unwrap().contains("<mark>"), "{hit}");
}

#[tokio::test]
async fn bad_parameters_are_refused_by_name() {
    let r = registry().await;
    for (query, parameter) in [
        ("year=abc", "year"),
        ("per_page=1000", "per_page"),
        ("page=0", "page"),
        ("from=2024-13-01", "from"),
        ("sort=popular", "sort"),
        ("status=valid", "status"),
        ("to=", "to"),
        ("year=", "year"),
        ("page=+1", "page"),
        ("from=2024-5-01", "from"),
        ("year=2024&year=2025", "year"),
    ] {
        let (status, _, body) = r.app.get(&format!("/api/v1/documents?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "invalid_parameter");
        assert_eq!(body["error"]["parameter"], parameter, "{query}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    // A range that ends before it starts is valid and empty.
    let body = r
        .app
        .json("/api/v1/documents?from=2024-05-01&to=2024-01-01")
        .await;
    assert_eq!(body["total"], 0);
    // Pages take form fields: an empty select is no filter.
    let (status, _, _) = r.app.get("/van-ban?q=&type=&year=&status=&sort=&to=").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = r.app.get("/api/v1/documents/abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("\"parameter\":\"id\""));
    let (status, _, _) = r.app.get("/api/v1/documents/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_original_file_is_served_exactly_with_etag_and_ranges() {
    let r = registry().await;
    let path = format!("/api/v1/documents/{}/file", r.decision);
    let (status, headers, body) = r.app.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    let sha = vanban::extract::sha256_hex(&body);
    assert_eq!(headers["etag"], format!("\"{sha}\""));
    assert_eq!(headers["content-type"], "application/pdf");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition
            .contains("filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20116-Q%C4%90-UBND.pdf"),
        "{disposition}"
    );
    let (status, _, _) = r
        .app
        .request(
            Request::get(&path)
                .header("if-none-match", format!("\"{sha}\""))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (status, headers, part) = r
        .app
        .request(
            Request::get(&path)
                .header("range", "bytes=0-3")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part, b"%PDF");
    assert_eq!(
        headers["content-range"],
        format!("bytes 0-3/{}", body.len())
    );
    let (status, _, _) = r
        .app
        .request(
            Request::get(&path)
                .header("range", "bytes=99999-")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
}

#[tokio::test]
async fn pages_show_the_required_fields_without_javascript() {
    let r = registry().await;
    let (status, headers, body) = r.app.get("/van-ban?q=kien+toan").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let html = String::from_utf8(body).unwrap();
    for label in [
        "Hình thức",
        "Cơ quan ban hành",
        "Số ký hiệu",
        "Ngày ban hành",
        "Ngày hiệu lực",
        "Trích yếu",
        "Tải văn bản",
    ] {
        assert!(html.contains(label), "search page lacks {label}");
    }
    assert!(html.contains(&format!("href=\"/van-ban/{}\"", r.decision)));
    assert!(html.contains("lang=\"vi\""));

    let (status, _, body) = r.app.get(&format!("/van-ban/{}", r.decision)).await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("\"@type\":\"Legislation\""));
    assert!(html.contains("\"legislationIdentifier\":\"116/QĐ-UBND\""));
    assert!(
        html.contains(&format!("href=\"/van-ban/{}\"", r.report_citing)),
        "cited by"
    );
    let eli = "/eli/vn/uy-ban-nhan-dan-xa-quoc-tuan/quyet-dinh/2021/116";
    assert!(html.contains(eli), "canonical ELI link");
    let (status, _, body) = r.app.get(eli).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8(body).unwrap().contains("116/QĐ-UBND"));

    let (_, headers, feed) = r
        .app
        .get(&format!("/feeds/van-ban.atom?type={}", url("Nghị định")))
        .await;
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let feed = String::from_utf8(feed).unwrap();
    assert!(feed.contains("43/2011/NĐ-CP") && !feed.contains("116/QĐ-UBND"));
    let (_, _, sitemap) = r.app.get("/sitemap.xml").await;
    assert!(
        String::from_utf8(sitemap)
            .unwrap()
            .contains(&format!("/van-ban/{}</loc>", r.decree))
    );
}

#[tokio::test]
async fn the_widget_and_its_iframe_are_served_for_embedding() {
    let r = registry().await;
    let (status, _, body) = r
        .app
        .get("/embed/van-ban?unit=000.46.24.H44&filters=type,year&color=%230b4f9c")
        .await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("vanban:resize"));
    assert!(html.contains("name=\"unit\" value=\"000.46.24.H44\""));
    assert!(html.contains("--accent: #0b4f9c"));
    assert!(
        !html.contains("Lịch tiếp công dân"),
        "another unit's notice is filtered out"
    );
    let (status, headers, body) = r.app.get("/embed.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/javascript")
    );
    assert!(
        String::from_utf8(body)
            .unwrap()
            .contains("data-vanban-search")
    );
    // The API answers browsers on other origins.
    let (_, headers, _) = r
        .app
        .request(
            Request::get("/api/v1/documents?q=kien")
                .header("origin", "https://xaquoctuan.namdinh.gov.vn")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(headers["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn the_openapi_document_describes_every_api_route() {
    let r = registry().await;
    let served = r.app.json("/api/v1/openapi.json").await;
    let checked_in: Value =
        serde_json::from_str(include_str!("../../schemas/openapi.json")).unwrap();
    assert_eq!(served, checked_in);
    let paths = served["paths"].as_object().unwrap();
    let source = [
        include_str!("../../src/web/api.rs"),
        include_str!("../../src/web/admin.rs"),
    ]
    .concat();
    // The admin router's catch-all (unknown admin paths answer 404 there) is no route.
    for line in source
        .lines()
        .filter(|l| l.contains(".route(\"/api/") && !l.contains("any(unknown)"))
    {
        let route = line.split('"').nth(1).unwrap();
        assert!(
            paths.contains_key(route),
            "{route} is not in schemas/openapi.json"
        );
    }
}

#[tokio::test]
async fn the_index_rebuilds_itself_after_a_schema_change() {
    let r = registry().await;
    let dir = r.app.state.settings.index_dir();
    let before = r.app.search("kien toan").await;
    drop(r.app.router);
    let state = Arc::into_inner(r.app.state).expect("sole owner");
    drop(state.index);
    std::fs::write(dir.join("schema_version"), "0").unwrap();
    let index = SearchIndex::open(&dir).unwrap();
    assert_eq!(
        index.num_docs(),
        0,
        "an index of another schema is recreated empty"
    );
    assert!(index.needs_rebuild(&state.store).await.unwrap());
    let run = index.rebuild(&state.store, |_| {}).await.unwrap();
    assert_eq!(run.upserted, 5);
    let found = index
        .search(&vanban::search::query::SearchRequest {
            q: "kien toan".into(),
            page: 1,
            per_page: 20,
            ..Default::default()
        })
        .unwrap();
    let ids: Vec<i64> = found.hits.iter().map(|h| h.record.id as i64).collect();
    assert_eq!(ids, before);
}

#[tokio::test]
async fn exact_diacritics_and_adjacent_words_rank_first() {
    let app = app().await;
    let culture = app
        .add(Doc {
            doc_type: "Kế hoạch",
            number_symbol: Some("10/KH-UBND"),
            abstract_text: "Phát triển văn hóa đọc",
            ..Doc::default()
        })
        .await;
    let mediation = app
        .add(Doc {
            doc_type: "Kế hoạch",
            number_symbol: Some("11/KH-UBND"),
            abstract_text: "Hòa giải ở cơ sở",
            ..Doc::default()
        })
        .await;
    let adjacent = app
        .add(Doc {
            doc_type: "Báo cáo",
            number_symbol: Some("12/BC-UBND"),
            abstract_text: "Hoạt động của ban biên tập",
            body: "Các thành viên phối hợp chặt chẽ.",
            ..Doc::default()
        })
        .await;
    let scattered = app
        .add(Doc {
            doc_type: "Báo cáo",
            number_symbol: Some("13/BC-UBND"),
            abstract_text: "Hoạt động của ban chỉ đạo",
            body: "Biên bản họp được lưu; tập huấn cho cán bộ.",
            ..Doc::default()
        })
        .await;
    app.sync_index().await;
    assert_eq!(app.search("hóa").await.first(), Some(&culture));
    assert_eq!(app.search("hòa").await.first(), Some(&mediation));
    let both = app.search("hoa").await;
    assert!(
        both.contains(&culture) && both.contains(&mediation),
        "{both:?}"
    );
    let hits = app.search("ban bien tap").await;
    assert_eq!(hits.first(), Some(&adjacent), "{hits:?}");
    assert!(
        hits.contains(&scattered),
        "the scattered one still matches: {hits:?}"
    );
}
