//! Shared helpers of the browser tests: the real `vanban` binary, headless Chromium driven
//! over WebDriver by chromedriver, screenshots. No WebDriver crate: a handful of JSON calls
//! over `ureq` is all the tests need.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The key WebDriver uses for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct KillOnDrop(pub Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `vanban --data-dir DATA ARGS…` (the binary under test, SQLite in the data directory).
pub fn vanban(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vanban"));
    c.arg("--data-dir").arg(data).args(args);
    c.env_remove("VANBAN__STORAGE__DATABASE_URL");
    c
}

/// `vanban serve --listen 127.0.0.1:0`; returns the server and its base URL
/// (`http://127.0.0.1:PORT`, read from the "listening on" line).
pub fn serve(data: &Path) -> (KillOnDrop, String) {
    let mut server = KillOnDrop(
        vanban(data, &["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("listening line: {line:?}"))
        .to_string();
    (server, base)
}

/// Whether the browser tests can run here; outside CI a missing browser skips them, in CI
/// it fails them.
pub fn have_browser() -> bool {
    let have =
        Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists();
    if !have {
        assert!(
            std::env::var("CI").is_err(),
            "CI must install chromium and chromium-driver"
        );
        eprintln!("chromium/chromedriver not installed: browser test not run");
    }
    have
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

/// A WebDriver session on its own chromedriver and Chromium profile; both end on drop.
pub struct WebDriver {
    base: String,
    session: String,
    _driver: KillOnDrop,
    _profile: tempfile::TempDir,
}

impl WebDriver {
    /// Starts chromedriver and a headless Chromium with a `width`×`height` window.
    pub fn start(width: u32, height: u32) -> WebDriver {
        let driver_port = free_port();
        let driver = KillOnDrop(
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
                             "--disable-quic", "--no-first-run", format!("--window-size={width},{height}"),
                             format!("--user-data-dir={}", profile.path().display())]
                }
            }}}))
            .expect("WebDriver session")
            .body_mut()
            .read_json()
            .unwrap();
        WebDriver {
            base,
            session: created["value"]["sessionId"].as_str().unwrap().to_string(),
            _driver: driver,
            _profile: profile,
        }
    }

    pub fn post(&self, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        ureq::post(&url)
            .send_json(&body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
            .body_mut()
            .read_json::<Value>()
            .unwrap()["value"]
            .take()
    }

    pub fn get(&self, path: &str) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        ureq::get(&url)
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .body_mut()
            .read_json::<Value>()
            .unwrap()["value"]
            .take()
    }

    pub fn script(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
    }

    /// Runs `script` until `ok` accepts its value (20 s at most, then the test fails).
    pub fn wait_for(&self, what: &str, script: &str, ok: impl Fn(&Value) -> bool) -> Value {
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

    pub fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url }));
    }

    /// The element reference of the first match of `css`.
    pub fn find(&self, css: &str) -> String {
        let found = self.post("/element", json!({"using": "css selector", "value": css}));
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_string()
    }

    /// Types `text` into the element matched by `css` (WebDriver "element send keys").
    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.post(
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        );
    }

    pub fn click(&self, css: &str) {
        let element = self.find(css);
        self.post(&format!("/element/{element}/click"), json!({}));
    }

    /// Forgets every cookie (signs the browser out of the desk).
    pub fn delete_cookies(&self) {
        let url = format!("{}/session/{}/cookie", self.base, self.session);
        ureq::delete(&url).call().expect("delete cookies");
    }

    /// Accepts the page's open `confirm()` dialog.
    pub fn accept_alert(&self) {
        self.post("/alert/accept", json!({}));
    }

    /// The page's visible text.
    pub fn text(&self) -> String {
        self.script("return document.body.innerText")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// A PNG of the viewport, written to `$CARGO_TARGET_TMPDIR/NAME.png`; returns its path.
    pub fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let shot = self.get("/screenshot");
        let png = base64_decode(shot.as_str().unwrap());
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

impl Drop for WebDriver {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
    }
}
