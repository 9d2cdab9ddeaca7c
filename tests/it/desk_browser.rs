//! The clerk desk end to end in headless Chromium, against the real `vanban` binary
//! (accounts made with `vanban user add`, a MẬT document ingested with `vanban ingest`,
//! `vanban serve` with its job workers): a clerk signs in through the form, uploads three
//! PDFs at once (clean, a personal-data hit, a scan) and watches them to their final state,
//! dismisses the personal-data hold after seeing the matched span, corrects the scan's
//! fields and publishes it, finds it in the public search typed without diacritics, is
//! refused publishing the MẬT document; a POST without the CSRF token is refused; a viewer
//! sees no action and cannot write; a clerk of another unit does not see the documents.
//! Screenshots of each screen go to `$CARGO_TARGET_TMPDIR/desk-*.png` (copies in
//! docs/screenshots/).

use std::path::Path;
use std::process::Stdio;

use serde_json::Value;
use vanban::pdf::writer::{Decree30Page, decree30_pdf};

use crate::upload::{decision, scan_pdf};
use crate::webdriver::{WebDriver, have_browser, serve, vanban};

const UNIT: &str = "000.46.24.H44";
const OTHER_UNIT: &str = "000.46.25.H45";
const PASSWORD: &str = "Sen-hong-2025!ao-lang";

fn user_add(data: &Path, name: &str, role: &str, unit: &str) {
    use std::io::Write;
    let mut child = vanban(
        data,
        &[
            "user", "add", "--name", name, "--role", role, "--unit", unit,
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "user add {name}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A decision marked MẬT in its header.
fn secret_decision() -> Vec<u8> {
    let page = Decree30Page {
        issuer_lines: vec!["ỦY BAN NHÂN DÂN".into(), "XÃ QUỐC TUẤN".into()],
        number_symbol: "77/QĐ-UBND".into(),
        place_date: "Quốc Tuấn, ngày 2 tháng 5 năm 2025".into(),
        markings: vec!["MẬT".into()],
        type_title: "QUYẾT ĐỊNH".into(),
        abstract_text: "Về việc bố trí lực lượng bảo vệ kho vật tư".into(),
        paragraphs: vec!["Bố trí lực lượng bảo vệ kho vật tư của xã.".into()],
        recipients: vec!["Công an xã".into(), "Lưu: VT".into()],
        signer_block: vec!["TM. ỦY BAN NHÂN DÂN".into(), "CHỦ TỊCH".into()],
        signer_name: "Trần Văn Bình".into(),
    };
    decree30_pdf(&page, "Quyết định 77")
}

/// Signs in through the form (after forgetting any previous session).
fn login(driver: &WebDriver, base: &str, name: &str, screenshot: Option<&str>) {
    driver.delete_cookies();
    driver.goto(&format!("{base}/desk/login"));
    driver.type_into("#name", name);
    driver.type_into("#password", PASSWORD);
    if let Some(shot) = screenshot {
        driver.screenshot(shot);
    }
    driver.click("form.login button[type=submit]");
    driver.wait_for(
        "the desk after signing in",
        "return location.pathname",
        |v| v.as_str().is_some_and(|p| !p.starts_with("/desk/login")),
    );
}

/// A synchronous request from the page (with the browser's cookie): `[status, body]`.
fn xhr(driver: &WebDriver, method: &str, url: &str, body: &str) -> (u64, String) {
    let v = driver.script(&format!(
        "var x = new XMLHttpRequest(); x.open({method:?}, {url:?}, false);\
         x.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');\
         x.send({body:?}); return [x.status, x.responseText];"
    ));
    (
        v[0].as_u64().unwrap(),
        v[1].as_str().unwrap_or_default().to_string(),
    )
}

/// The hrefs of the links to desk documents on the current page.
fn document_links(driver: &WebDriver) -> Vec<String> {
    driver
        .script(
            "return Array.from(document.querySelectorAll('a[href^=\"/desk/documents/\"]'))\
             .map(function (a) { return a.getAttribute('href'); })",
        )
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Waits (through the API, which no browser cache keeps) until the search index has taken
/// the publication in, then opens the public search page for `query` and expects `id`
/// among its hits. The page is cacheable for a minute: opening it earlier would keep the
/// browser on a stale answer.
fn search_until_found(driver: &WebDriver, base: &str, query: &str, id: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let answer: Value = ureq::get(&format!("{base}/api/v1/documents?q={query}"))
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap();
        let found = answer["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["id"].as_i64().map(|n| n.to_string()).as_deref() == Some(id));
        if found {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "#{id} not found for {query}: {answer}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    driver.goto(&format!("{base}/van-ban?q={query}"));
    let hits = driver.script(
        "return Array.from(document.querySelectorAll('.results .hit'))\
         .map(function (h) { return h.getAttribute('data-id'); })",
    );
    assert!(
        hits.as_array().unwrap().iter().any(|h| h == id),
        "#{id} not on the search page for {query}: {hits}"
    );
}

#[test]
fn a_clerk_uploads_reviews_corrects_and_publishes_in_chromium() {
    if !have_browser() {
        return;
    }
    let data = tempfile::tempdir().unwrap();

    // A MẬT decision already in the unit, through the CLI intake (not published).
    let inbox = tempfile::tempdir().unwrap();
    std::fs::write(inbox.path().join("mat-77.pdf"), secret_decision()).unwrap();
    let ingest = vanban(
        data.path(),
        &["ingest", inbox.path().to_str().unwrap(), "--unit", UNIT],
    )
    .output()
    .unwrap();
    assert!(
        ingest.status.success(),
        "{}{}",
        String::from_utf8_lossy(&ingest.stdout),
        String::from_utf8_lossy(&ingest.stderr)
    );
    for (code, name) in [
        (UNIT, "UBND xã Quốc Tuấn"),
        (OTHER_UNIT, "UBND xã Nam Chính"),
    ] {
        let out = vanban(
            data.path(),
            &["unit", "add", "--code", code, "--name", name],
        )
        .output()
        .unwrap();
        assert!(
            out.status.success(),
            "unit add {code}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    user_add(data.path(), "vanthu", "clerk", UNIT);
    user_add(data.path(), "xemvb", "viewer", UNIT);
    user_add(data.path(), "vanthu-khac", "clerk", OTHER_UNIT);

    // The three uploads, written where the browser can pick them.
    let files = tempfile::tempdir().unwrap();
    let clean = files.path().join("quyet-dinh-41.pdf");
    let personal = files.path().join("quyet-dinh-42.pdf");
    let scan = files.path().join("ban-quet.pdf");
    std::fs::write(
        &clean,
        decision(
            41,
            &["Phê duyệt kế hoạch chỉnh trang đường thôn và nhà văn hóa năm 2025."],
        ),
    )
    .unwrap();
    std::fs::write(
        &personal,
        decision(
            42,
            &["Cấp hỗ trợ cho Ông Nguyễn Văn A, sinh ngày 12/03/1980, số CCCD 001089012345."],
        ),
    )
    .unwrap();
    std::fs::write(&scan, scan_pdf()).unwrap();

    let (_server, base) = serve(data.path());
    let driver = WebDriver::start(1280, 900);

    // 1. Sign in through the form.
    login(&driver, &base, "vanthu", Some("desk-login"));

    // 2. Three PDFs at once through the file input; per-file progress until final.
    driver.goto(&format!("{base}/desk/upload"));
    driver.click("#upload-form input[name=publish]");
    let paths = [&clean, &personal, &scan]
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    driver.type_into("#file-input", &paths);
    driver.click("#upload-form button[type=submit]");
    const FINAL: [&str; 4] = [
        "Chờ văn thư xem xét",
        "Đã công khai",
        "Đã lưu, không công khai",
        "Không xử lý được",
    ];
    let rows = driver.wait_for(
        "three uploads in a final state",
        "return Array.from(document.querySelectorAll('#upload-list tbody tr')).map(function (r) {\
           var a = r.querySelector('a'); \
           return [r.children[0].textContent, r.children[2].textContent, a ? a.getAttribute('href') : null,\
                   r.querySelector('progress').value]; })",
        |v| {
            v.as_array().is_some_and(|rows| {
                rows.len() == 3
                    && rows.iter().all(|r| {
                        r[1].as_str()
                            .is_some_and(|t| FINAL.iter().any(|f| t.starts_with(f)))
                            && r[2].is_string()
                    })
            })
        },
    );
    driver.screenshot("desk-upload");
    let row = |file: &str| -> (String, String) {
        let r = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[0] == file)
            .unwrap_or_else(|| panic!("{file} listed: {rows}"));
        assert_eq!(r[3], Value::from(100), "upload progress complete: {r}");
        (
            r[1].as_str().unwrap().to_string(),
            r[2].as_str().unwrap().to_string(),
        )
    };
    let (clean_state, clean_url) = row("quyet-dinh-41.pdf");
    let (personal_state, personal_url) = row("quyet-dinh-42.pdf");
    let (scan_state, scan_url) = row("ban-quet.pdf");
    assert!(clean_state.starts_with("Đã công khai"), "{clean_state}");
    assert!(
        personal_state.starts_with("Chờ văn thư xem xét") && personal_state.contains("cá nhân"),
        "{personal_state}"
    );
    assert!(
        scan_state.starts_with("Chờ văn thư xem xét"),
        "{scan_state}"
    );

    // 3. The queue lists both held uploads; the personal-data one shows its matched span.
    driver.goto(&format!("{base}/desk/queue"));
    let queued = document_links(&driver);
    assert!(queued.contains(&personal_url), "{queued:?}");
    assert!(queued.contains(&scan_url), "{queued:?}");
    assert!(
        !queued.contains(&clean_url),
        "published: not waiting {queued:?}"
    );
    driver.screenshot("desk-queue");
    driver.click(&format!("a[href=\"{personal_url}\"]"));
    driver.wait_for("the document view", "return location.pathname", |v| {
        v.as_str() == Some(personal_url.as_str())
    });
    let marks = driver
        .script(
            "return Array.from(document.querySelectorAll('.hold mark'))\
             .map(function (m) { return m.textContent; }).join(' | ')",
        )
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        marks.contains("001089012345") || marks.contains("12/03/1980"),
        "the matched span is shown: {marks:?}"
    );
    let text = driver.text();
    assert!(text.contains("Chưa thể công khai"), "{text}");
    assert!(
        driver
            .script("return !!document.querySelector('iframe, object, embed')")
            .as_bool()
            .unwrap(),
        "the original beside the fields"
    );
    driver.screenshot("desk-document");

    // A POST without the CSRF token is refused, and changes nothing.
    let (status, _) = xhr(
        &driver,
        "POST",
        &format!("{personal_url}/withhold"),
        "reason=Th%E1%BB%AD",
    );
    assert_eq!(status, 403, "no CSRF token");
    // Each personal-data hold (here: the number, the CCCD, the birth date) is dismissed.
    let open_holds = "return document.querySelectorAll('form[action$=\"/dismiss\"]').length";
    let mut open = driver.script(open_holds).as_u64().unwrap();
    assert!(open >= 1, "a dismissable hold");
    while open > 0 {
        driver.click("form[action$=\"/dismiss\"] button[type=submit]");
        driver.wait_for("one hold fewer", open_holds, |v| {
            v.as_u64() == Some(open - 1)
        });
        open -= 1;
    }
    driver.wait_for(
        "the hold dismissed and publishing offered",
        "return !!document.querySelector('form[action$=\"/publish\"]')",
        |v| v.as_bool() == Some(true),
    );
    assert!(!driver.text().contains("Chưa thể công khai"));
    let status = driver.script("return document.querySelector('.status').className");
    assert!(
        status.as_str().unwrap().contains("status-needs_review"),
        "the refused POST changed nothing: {status}"
    );

    // The scan: correct its fields through the form, then publish it.
    driver.goto(&format!("{base}{scan_url}/correct"));
    driver.script(
        "var s = document.getElementById('doc_type');\
         for (var i = 0; i < s.options.length; i++)\
           if (s.options[i].value === 'Quyết định') s.selectedIndex = i;\
         document.getElementById('issued_date').value = '2025-04-10';",
    );
    assert_eq!(
        driver.script("return document.getElementById('doc_type').value"),
        Value::from("Quyết định")
    );
    driver.type_into("#number_symbol", "15/QĐ-UBND");
    driver.type_into("#issuer", "Ủy ban nhân dân xã Quốc Tuấn");
    driver.type_into("#abstract", "Về việc công nhận thôn văn hóa năm 2025");
    driver.type_into("#reason", "Bản quét: nhập tay theo bản giấy");
    driver.screenshot("desk-correct");
    driver.click("form[action$=\"/correct\"] button[type=submit]");
    driver.wait_for("back on the document", "return location.pathname", |v| {
        v.as_str() == Some(scan_url.as_str())
    });
    let text = driver.text();
    assert!(text.contains("15/QĐ-UBND"), "{text}");
    assert!(text.contains("công nhận thôn văn hóa"), "{text}");
    driver.click("form[action$=\"/publish\"] button[type=submit]");
    driver.accept_alert();
    driver.wait_for(
        "the scan published",
        "var s = document.querySelector('.status'); return s ? s.className : ''",
        |v| v.as_str().is_some_and(|c| c.contains("status-published")),
    );

    // 4. The public search finds it, typed without diacritics.
    let scan_id = scan_url.rsplit('/').next().unwrap().to_string();
    let clean_id = clean_url.rsplit('/').next().unwrap().to_string();
    search_until_found(&driver, &base, "cong+nhan+thon+van+hoa", &scan_id);
    driver.screenshot("desk-search");
    search_until_found(&driver, &base, "chinh+trang+duong+thon", &clean_id);

    // 5. The MẬT document: no publish button, and a forced publish is refused.
    driver.goto(&format!("{base}/desk/queue"));
    let secret_url = driver
        .script(
            "var rows = Array.from(document.querySelectorAll('tr'));\
             for (var i = 0; i < rows.length; i++) if (rows[i].textContent.indexOf('77/QĐ-UBND') >= 0) {\
               var a = rows[i].querySelector('a[href^=\"/desk/documents/\"]'); if (a) return a.getAttribute('href'); }\
             return null;",
        )
        .as_str()
        .expect("the MẬT document in the queue")
        .to_string();
    driver.goto(&format!("{base}{secret_url}"));
    assert!(
        driver
            .script("return !document.querySelector('form[action$=\"/publish\"]')")
            .as_bool()
            .unwrap(),
        "no publish button on a MẬT document"
    );
    let refusal = driver.script("return document.querySelector('.refusal').textContent");
    assert!(
        refusal.as_str().unwrap().to_lowercase().contains("mật"),
        "{refusal}"
    );
    // Whoever clicks: the same POST a button would make, with the token.
    driver.script(&format!(
        "var f = document.createElement('form'); f.method = 'post'; f.action = '{secret_url}/publish';\
         var c = document.createElement('input'); c.type = 'hidden'; c.name = 'csrf';\
         c.value = document.querySelector('input[name=csrf]').value; f.appendChild(c);\
         document.body.appendChild(f); f.submit();"
    ));
    driver.wait_for(
        "the refusal page",
        "var h = document.querySelector('h1'); return h ? h.textContent : ''",
        |v| v.as_str() == Some("Không thực hiện được"),
    );
    let alert = driver.script("return document.querySelector('[role=alert]').textContent");
    assert!(
        alert.as_str().unwrap().to_lowercase().contains("mật"),
        "{alert}"
    );
    driver.screenshot("desk-refusal");

    // The dashboard.
    driver.goto(&format!("{base}/desk/"));
    let h1 = driver.script("return document.querySelector('h1').textContent");
    assert_eq!(h1, Value::from("Bảng điều khiển"));
    driver.screenshot("desk-dashboard");

    // 6. A viewer reads the document but is offered no action and cannot write.
    login(&driver, &base, "xemvb", None);
    driver.goto(&format!("{base}{personal_url}"));
    let h1 = driver.script("return document.querySelector('h1').textContent");
    assert!(
        h1.as_str()
            .unwrap()
            .contains(&format!("#{}", personal_url.rsplit('/').next().unwrap())),
        "{h1}"
    );
    let forms = driver.script(
        "return document.querySelectorAll('form[action^=\"/desk/documents/\"]').length\
         + document.querySelectorAll('a[href$=\"/correct\"]').length",
    );
    assert_eq!(forms, Value::from(0), "no action for a viewer");
    let csrf = driver
        .script("var c = document.querySelector('input[name=csrf]'); return c ? c.value : ''")
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = xhr(
        &driver,
        "POST",
        &format!("{personal_url}/publish"),
        &format!("csrf={csrf}"),
    );
    assert_eq!(status, 403, "a viewer cannot publish");

    // 7. The clerk of another unit: not in the queue, not found.
    login(&driver, &base, "vanthu-khac", None);
    driver.goto(&format!("{base}/desk/queue"));
    let queued = document_links(&driver);
    for url in [&personal_url, &scan_url, &clean_url, &secret_url] {
        assert!(!queued.contains(url), "{url} in {queued:?}");
    }
    let (status, _) = xhr(&driver, "GET", &personal_url, "");
    assert_eq!(status, 404, "another unit's document");
}
