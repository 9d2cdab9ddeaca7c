//! The embeddable widget in a real browser: headless Chromium (driven over WebDriver by
//! chromedriver) opens a portal page served from another origin, the widget mounts, a
//! query typed without diacritics finds the expected documents through the CORS API.
//! A screenshot is written to `$CARGO_TARGET_TMPDIR/embed-widget.png` (docs/ has a copy).

use std::path::Path;

use serde_json::{Value, json};

use crate::webdriver::{WebDriver, free_port, have_browser, serve, vanban};

#[test]
fn the_widget_finds_documents_typed_without_diacritics_in_chromium() {
    if !have_browser() {
        return;
    }
    // The registry: the generated fixtures, published.
    let data = tempfile::tempdir().unwrap();
    let inbox = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pdf");
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with(".libreoffice.pdf") {
            std::fs::copy(&path, inbox.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let ingest = vanban(
        data.path(),
        &[
            "ingest",
            inbox.path().to_str().unwrap(),
            "--publish",
            "--unit",
            "000.46.24.H44",
        ],
    )
    .output()
    .unwrap();
    assert!(
        ingest.status.success(),
        "{}",
        String::from_utf8_lossy(&ingest.stdout)
    );

    let (_server, registry) = serve(data.path());

    // The commune portal: another origin, embedding the widget.
    let portal_port = free_port();
    let portal_page = format!(
        r##"<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Cổng thông tin xã Quốc Tuấn</title></head>
<body style="font-family: sans-serif; max-width: 900px; margin: 1rem auto">
<h1>Cổng thông tin điện tử xã Quốc Tuấn</h1><h2>Văn bản chỉ đạo điều hành</h2>
<div data-vanban-search data-unit="000.46.24.H44" data-filters="type" data-color="#0b4f9c" data-per-page="5"></div>
<script src="{registry}/embed.js" async></script>
</body></html>"##
    );
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let app = axum::Router::new().route(
                "/",
                axum::routing::get(move || {
                    let page = portal_page.clone();
                    async move { axum::response::Html(page) }
                }),
            );
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", portal_port))
                .await
                .unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });

    let driver = WebDriver::start(1000, 1100);

    driver.post(
        "/url",
        json!({"url": format!("http://127.0.0.1:{portal_port}/")}),
    );
    // The widget mounts and lists the unit's newest documents.
    driver.wait_for(
        "the widget's first results",
        "return document.querySelectorAll('[data-vanban-search] .vb-hit').length",
        |v| v.as_u64().unwrap_or(0) > 0,
    );
    let input = driver.post(
        "/element",
        json!({"using": "css selector", "value": "[data-vanban-search] input[type=search]"}),
    );
    let element = input["element-6066-11e4-a52e-4f735466cecf"]
        .as_str()
        .unwrap_or_else(|| panic!("no search box: {input}"))
        .to_string();
    // Typed without diacritics, then Enter.
    driver.post(
        &format!("/element/{element}/value"),
        json!({"text": "tinh hinh hoat dong trang thong tin\u{E007}"}),
    );
    let titles = driver.wait_for(
        "results for the unaccented query",
        "return Array.from(document.querySelectorAll('[data-vanban-search] .vb-hit .vb-title'))\
         .map(function (e) { return e.textContent; })",
        // The first listing (newest, every type) is replaced by the query's answer: reports only.
        |v| {
            v.as_array().is_some_and(|a| {
                !a.is_empty()
                    && a.iter()
                        .all(|t| t.as_str().is_some_and(|t| t.starts_with("Báo cáo")))
                    && a.iter()
                        .any(|t| t.as_str().is_some_and(|t| t.contains("339/BC-UBND")))
            })
        },
    );
    let titles: Vec<&str> = titles
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        titles.iter().any(|t| t.contains("215/BC-UBND")),
        "{titles:?}"
    );
    // Highlighted snippet rendered as markup, not as escaped text.
    let marks = driver
        .script("return document.querySelectorAll('[data-vanban-search] .vb-snippet mark').length");
    assert!(marks.as_u64().unwrap_or(0) > 0, "snippets carry <mark>");
    // The classified plan in the fixtures is never shown.
    let all_text = driver.script("return document.body.textContent");
    assert!(!all_text.as_str().unwrap().contains("bí mật nhà nước"));

    driver.screenshot("embed-widget");
}
