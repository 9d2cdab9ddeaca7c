//! The embeddable widget in a real browser: headless Chromium (driven over WebDriver by
//! chromedriver) opens a portal page served from another origin, the widget mounts, a
//! query typed without diacritics finds the expected documents through the CORS API.
//! A screenshot is written to `$CARGO_TARGET_TMPDIR/embed-widget.png` (docs/ has a copy).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct KillOnDrop(Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn vanban(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vanban"));
    c.arg("--data-dir").arg(data).args(args);
    c.env_remove("VANBAN__STORAGE__DATABASE_URL");
    c
}

/// Minimal base64 (standard alphabet) for the screenshot WebDriver returns.
fn base64_decode(input: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for v in input.bytes().filter_map(value) {
        buffer = buffer << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

struct WebDriver {
    base: String,
    session: String,
}

impl WebDriver {
    fn post(&self, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        ureq::post(&url)
            .send_json(&body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
            .body_mut()
            .read_json::<Value>()
            .unwrap()["value"]
            .take()
    }
    fn get(&self, path: &str) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        ureq::get(&url)
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .body_mut()
            .read_json::<Value>()
            .unwrap()["value"]
            .take()
    }
    fn script(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
    }
    fn wait_for(&self, what: &str, script: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = self.script(script);
            if ok(&v) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: last {v}"
            );
            std::thread::sleep(Duration::from_millis(150));
        }
    }
}

impl Drop for WebDriver {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
    }
}

#[test]
fn the_widget_finds_documents_typed_without_diacritics_in_chromium() {
    let have_browser =
        Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists();
    if !have_browser {
        assert!(
            std::env::var("CI").is_err(),
            "CI must install chromium and chromium-driver"
        );
        eprintln!("chromium/chromedriver not installed: browser test not run");
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

    let mut server = KillOnDrop(
        vanban(data.path(), &["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let registry = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_string();

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

    let driver_port = free_port();
    let _driver = KillOnDrop(
        Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{driver_port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while ureq::get(&format!("{base}/status")).call().is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let profile = tempfile::tempdir().unwrap();
    let created: Value = ureq::post(&format!("{base}/session"))
        .send_json(json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-quic", "--no-first-run", "--window-size=1000,1100",
                         format!("--user-data-dir={}", profile.path().display())]
            }
        }}}))
        .expect("WebDriver session")
        .body_mut()
        .read_json()
        .unwrap();
    let driver = WebDriver {
        base,
        session: created["value"]["sessionId"].as_str().unwrap().to_string(),
    };

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

    let shot = driver.get("/screenshot");
    let png = base64_decode(shot.as_str().unwrap());
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("embed-widget.png"),
        png,
    )
    .unwrap();
}
