//! The HTTP edges under hostile clients: slow and idle connections are cut and the server
//! keeps answering past its connection cap; links never name a host the request made up;
//! malformed query strings, admin answers and unknown number-symbols are answered plainly.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use vanban::store::Status;

use super::web::{registry, registry_with};

/// Far longer than anything here should take: only a server that never closes a
/// connection (or never answers) reaches it.
const GENEROUS: Duration = Duration::from_secs(60);

/// Reads until the server closes the connection; what it sent before closing.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(GENEROUS, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server never closed the connection");
    received
}

async fn get_healthz(addr: std::net::SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    String::from_utf8_lossy(&read_until_closed(&mut stream).await).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_cut_and_health_answers_past_the_cap() {
    let r = registry().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cap = 4;
    let limits = vanban::server::Limits {
        max_connections: cap,
        header_timeout: Duration::from_secs(1),
        drain: Duration::from_secs(5),
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(vanban::server::serve_connections(
        listener,
        r.app.router.clone(),
        limits,
        async move {
            let _ = stop_rx.await;
        },
    ));

    // Three times the cap of clients that start a request head and never finish it.
    let mut slow = Vec::new();
    for _ in 0..cap * 3 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    // The server still answers while they are all open (queued behind them, it gets a
    // connection as soon as the header timeout frees one).
    let answer = get_healthz(addr).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"status\":\"ok\""), "{answer}");
    // Every slow client was disconnected without an answer to its unfinished request.
    for mut stream in slow {
        let received = read_until_closed(&mut stream).await;
        assert!(
            !String::from_utf8_lossy(&received).contains("200 OK"),
            "a request with an unfinished head was answered"
        );
    }

    // A keep-alive connection that goes idle after its answer is closed too.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let received = read_until_closed(&mut idle).await;
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 200"));

    // Shutdown stops accepting and returns.
    stop_tx.send(()).unwrap();
    tokio::time::timeout(GENEROUS, server)
        .await
        .expect("the server stopped")
        .unwrap();
    assert!(TcpStream::connect(addr).await.is_err());
}

/// Every public surface, asked with a forged host.
fn surfaces(r: &super::web::Registry) -> Vec<String> {
    vec![
        "/api/v1/documents".into(),
        "/api/v1/documents?q=116%2FQ%C4%90-UBND".into(),
        "/api/v1/documents?q=999%2FQ%C4%90-UBND".into(),
        format!("/api/v1/documents/{}", r.decision),
        format!("/api/v1/documents/{}", r.report_citing),
        "/van-ban".into(),
        "/van-ban?q=kien+toan".into(),
        format!("/van-ban/{}", r.decision),
        format!("/van-ban/{}", r.report_citing),
        "/eli/vn/uy-ban-nhan-dan-xa-quoc-tuan/quyet-dinh/2021/116".into(),
        "/feeds/van-ban.atom".into(),
        "/feeds/van-ban.atom?type=Quy%E1%BA%BFt+%C4%91%E1%BB%8Bnh".into(),
        "/sitemap.xml".into(),
        "/embed/van-ban".into(),
        "/embed.js".into(),
        "/api/v1/openapi.json".into(),
    ]
}

#[tokio::test]
async fn a_forged_host_never_reaches_a_link() {
    let r = registry().await;
    for path in surfaces(&r) {
        let request = Request::get(&path)
            .header("host", "evil.example")
            .header("x-forwarded-host", "evil.example")
            .header("x-forwarded-proto", "https")
            .header("forwarded", "host=evil.example;proto=https")
            .body(Body::empty())
            .unwrap();
        let (status, headers, body) = r.app.request(request).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let body = String::from_utf8_lossy(&body);
        assert!(!body.contains("evil.example"), "{path}: {body}");
        for (name, value) in &headers {
            assert!(
                !value.to_str().unwrap_or("").contains("evil.example"),
                "{path}: header {name}"
            );
        }
    }
    // The fallback is the listen address, not the request's host.
    let sitemap = r.app.get("/sitemap.xml").await.2;
    assert!(String::from_utf8_lossy(&sitemap).contains("<loc>http://127.0.0.1:8080/van-ban/"));
}

#[tokio::test]
async fn the_configured_public_address_and_allowed_hosts_make_the_links() {
    let r = registry_with(&[(
        "VANBAN__WEB__PUBLIC_BASE_URL",
        "https://vanban.example.gov.vn/",
    )])
    .await;
    let request = Request::get(format!("/van-ban/{}", r.decision))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .body(Body::empty())
        .unwrap();
    let html = String::from_utf8(r.app.request(request).await.2).unwrap();
    assert!(html.contains(
        "<link rel=\"canonical\" href=\"https://vanban.example.gov.vn/eli/vn/uy-ban-nhan-dan-xa-quoc-tuan/quyet-dinh/2021/116\">"
    ));
    assert!(!html.contains("evil.example"));

    let r = registry_with(&[("VANBAN__WEB__ALLOWED_HOSTS", "https://cong.example.vn")]).await;
    for (host, expected) in [
        ("cong.example.vn", "https://cong.example.vn/van-ban/"),
        ("evil.example", "http://127.0.0.1:8080/van-ban/"),
    ] {
        let request = Request::get("/sitemap.xml")
            .header("host", host)
            .body(Body::empty())
            .unwrap();
        let xml = String::from_utf8(r.app.request(request).await.2).unwrap();
        assert!(xml.contains(expected), "{host}: {xml}");
    }
}

#[tokio::test]
async fn malformed_query_strings_are_refused_plainly() {
    let r = registry().await;
    for query in [
        "q=%FF",
        "q=%C3",
        "q=ki%E1%BB",
        "q=%00",
        "q=abc%00def",
        "type=%FF%FE",
        "q=%1B",
        "%FF=1",
    ] {
        let (status, headers, body) = r.app.get(&format!("/api/v1/documents?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(headers["content-type"], "application/json", "{query}");
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "invalid_encoding", "{query}");
        for page in ["/van-ban", "/embed/van-ban", "/feeds/van-ban.atom"] {
            let (status, _, body) = r.app.get(&format!("{page}?{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{page}?{query}");
            let html = String::from_utf8(body).unwrap();
            assert!(html.contains("không hợp lệ"), "{page}?{query}: {html}");
        }
    }
    // Well-formed UTF-8, percent-encoded or with `+`, still searches.
    let body = r
        .app
        .json("/api/v1/documents?q=ki%E1%BB%87n+to%C3%A0n")
        .await;
    assert_eq!(body["hits"][0]["id"], r.decision);
    // An empty typed value is refused by the API by name; a page takes it as no filter.
    let (status, _, _) = r.app.get("/api/v1/documents?to=").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = r.app.get("/van-ban?to=").await;
    assert_eq!(status, StatusCode::OK);
}

const OPS_TOKEN: &str = "vb_test_ops_token";

fn ops_entry() -> String {
    use sha2::Digest;
    format!(
        "ops:*:{}",
        hex::encode(sha2::Sha256::digest(OPS_TOKEN.as_bytes()))
    )
}

#[tokio::test]
async fn every_admin_answer_is_no_store_and_the_scheme_is_case_insensitive() {
    let entry = ops_entry();
    let r = registry_with(&[("VANBAN__ADMIN__TOKENS", entry.as_str())]).await;
    let admin = |path: &str, auth: Option<String>| {
        let mut request = Request::get(path);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.body(Body::empty()).unwrap()
    };
    let bearer = |scheme: &str| Some(format!("{scheme} {OPS_TOKEN}"));
    let huge = "9223372036854775807";
    let cases: Vec<(String, Option<String>, StatusCode)> = vec![
        (
            "/api/v1/admin/review-queue".into(),
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "/api/v1/admin/review-queue".into(),
            Some("Bearer nope".into()),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "/api/v1/admin/review-queue".into(),
            Some(format!("Basic {OPS_TOKEN}")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "/api/v1/admin/review-queue".into(),
            bearer("Bearer"),
            StatusCode::OK,
        ),
        (
            "/api/v1/admin/review-queue".into(),
            bearer("bearer"),
            StatusCode::OK,
        ),
        (
            "/api/v1/admin/review-queue".into(),
            bearer("BEARER"),
            StatusCode::OK,
        ),
        (
            format!("/api/v1/admin/review-queue?page={huge}"),
            bearer("Bearer"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/v1/admin/review-queue?page={huge}&limit=200"),
            bearer("Bearer"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/v1/admin/review-queue?limit={huge}"),
            bearer("Bearer"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/admin/review-queue?page=99999999999999999999999".into(),
            bearer("Bearer"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/v1/admin/sync-runs?limit={huge}"),
            bearer("Bearer"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/admin/sync-runs?limit=-1".into(),
            bearer("Bearer"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/admin/review-queue?page=1000000&limit=200".into(),
            bearer("Bearer"),
            StatusCode::OK,
        ),
        (
            "/api/v1/admin/documents/999999".into(),
            bearer("Bearer"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/api/v1/admin/documents/{}", r.classified),
            bearer("bearer"),
            StatusCode::OK,
        ),
        (
            "/api/v1/admin/no-such-thing".into(),
            bearer("Bearer"),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/admin/no-such-thing".into(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/admin/sync-runs?q=%FF".into(),
            bearer("Bearer"),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (path, auth, expected) in cases {
        let (status, headers, body) = r.app.request(admin(&path, auth.clone())).await;
        assert_eq!(
            status,
            expected,
            "{path} {auth:?}: {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(headers["cache-control"], "no-store", "{path} {auth:?}");
        if status != StatusCode::OK {
            let body: Value = serde_json::from_slice(&body).unwrap();
            assert!(body["error"]["code"].is_string(), "{path}");
        }
    }
    let post = Request::post("/api/v1/admin/review-queue")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = r.app.request(post).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["cache-control"], "no-store");
}

#[tokio::test]
async fn a_number_symbol_nobody_carries_is_said_so() {
    let r = registry().await;
    let api = |q: &str| format!("/api/v1/documents?q={}", super::web::url(q));
    // Carried: exact, the carrier first.
    let body = r.app.json(&api("116/QĐ-UBND")).await;
    assert_eq!(body["number_symbol_match"], "exact");
    assert_eq!(body["hits"][0]["id"], r.decision);
    // Nobody carries 999/QĐ-UBND: no hits at all (before: every document with "QĐ" or
    // "UBND" in it), and no near number either.
    let body = r.app.json(&api("999/QĐ-UBND")).await;
    assert_eq!(body["number_symbol_match"], "none", "{body}");
    assert_eq!(body["total"], 0, "{body}");
    assert_eq!(body["relaxed"], false);
    assert_eq!(body["near_number_symbols"], serde_json::json!([]));
    // Same number, another symbol: none, with the decision offered as a near number.
    let body = r.app.json(&api("Quyết định 116/QĐ-HĐND")).await;
    assert_eq!(body["number_symbol_match"], "none", "{body}");
    assert_eq!(body["total"], 0, "{body}");
    let near: Vec<i64> = body["near_number_symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_i64().unwrap())
        .collect();
    assert_eq!(near, vec![r.decision]);
    // Cited but not carried: the citing documents, labelled as such.
    let r2 = registry().await;
    r2.app
        .state
        .store
        .set_status(r2.decision, Status::Withdrawn, "clerk:an", "thu hồi")
        .await
        .unwrap();
    r2.app.sync_index().await;
    let body = r2.app.json(&api("116/QĐ-UBND")).await;
    assert_eq!(body["number_symbol_match"], "none", "{body}");
    let hits: Vec<i64> = body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_i64().unwrap())
        .collect();
    assert_eq!(hits, vec![r2.report_citing], "{body}");
    // A query without a number-symbol carries no verdict.
    let body = r.app.json(&api("kế hoạch 2024")).await;
    assert_eq!(body["number_symbol_match"], Value::Null);
    // The page says it in Vietnamese, near numbers under their own heading.
    let (status, _, html) = r
        .app
        .get(&format!("/van-ban?q={}", super::web::url("116/QĐ-HĐND")))
        .await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("Không có văn bản nào mang số ký hiệu <strong>116/QĐ-HĐND</strong>"));
    assert!(html.contains("Số ký hiệu gần giống"));
    assert!(html.contains(&format!("href=\"/van-ban/{}\"", r.decision)));
}

#[tokio::test]
async fn a_withdrawn_file_is_revalidated_not_cached_for_a_year() {
    let r = registry().await;
    let path = format!("/api/v1/documents/{}/file", r.decision);
    let (status, headers, body) = r.app.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    let cache = headers["cache-control"].to_str().unwrap();
    assert!(
        cache.contains("no-cache") && !cache.contains("immutable"),
        "{cache}"
    );
    let etag = headers["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", vanban::extract::sha256_hex(&body)));
    let revalidate = || {
        Request::get(&path)
            .header("if-none-match", etag.clone())
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        r.app.request(revalidate()).await.0,
        StatusCode::NOT_MODIFIED
    );
    r.app
        .state
        .store
        .set_status(r.decision, Status::Withdrawn, "clerk:an", "thu hồi")
        .await
        .unwrap();
    r.app.sync_index().await;
    // A cache revalidating its copy learns the file is gone, like a missing one.
    assert_eq!(r.app.request(revalidate()).await.0, StatusCode::NOT_FOUND);
    assert_eq!(r.app.get(&path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        r.app
            .get(&format!("/api/v1/documents/{}/file", r.draft))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        r.app.get("/api/v1/documents/999999/file").await.0,
        StatusCode::NOT_FOUND
    );
}

/// One request over TCP through the real accept loop (so the peer address is known).
async fn over_tcp(addr: std::net::SocketAddr, path: &str, headers: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    String::from_utf8_lossy(&read_until_closed(&mut stream).await).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_trusted_proxy_names_the_host_of_links() {
    let r = registry_with(&[
        ("VANBAN__WEB__TRUSTED_PROXIES", "127.0.0.1"),
        ("VANBAN__WEB__ALLOWED_HOSTS", "vanban.example.vn"),
    ])
    .await;
    let untrusting = registry().await;
    let mut addrs = Vec::new();
    let mut stops = Vec::new();
    for router in [r.app.router.clone(), untrusting.app.router.clone()] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        addrs.push(listener.local_addr().unwrap());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        stops.push(stop_tx);
        tokio::spawn(vanban::server::serve_connections(
            listener,
            router,
            vanban::server::Limits::from_settings(&r.app.state.settings.server),
            async move {
                let _ = stop_rx.await;
            },
        ));
    }
    let forwarded = |host: &str| {
        format!("Host: 127.0.0.1\r\nX-Forwarded-Host: {host}\r\nX-Forwarded-Proto: https\r\n")
    };
    // From the trusted proxy (this test connects from 127.0.0.1): its allowed host.
    let answer = over_tcp(addrs[0], "/sitemap.xml", &forwarded("vanban.example.vn")).await;
    assert!(
        answer.contains("<loc>https://vanban.example.vn/van-ban/"),
        "{answer}"
    );
    // Not an allowed host, even from the trusted proxy.
    let answer = over_tcp(addrs[0], "/sitemap.xml", &forwarded("evil.example")).await;
    assert!(!answer.contains("evil.example"), "{answer}");
    assert!(
        answer.contains("<loc>http://127.0.0.1:8080/van-ban/"),
        "{answer}"
    );
    // The same headers where no proxy is trusted: ignored.
    let answer = over_tcp(addrs[1], "/sitemap.xml", &forwarded("vanban.example.vn")).await;
    assert!(!answer.contains("vanban.example.vn"), "{answer}");
    for stop in stops {
        let _ = stop.send(());
    }
}
