//! HTML helpers for the server-rendered pages: escaping and the shared page frame.

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Shared stylesheet: plain, readable, high-contrast; works without JavaScript.
pub const STYLE: &str = r#"
:root { --accent: #a50e0e; --text: #1a1a1a; --muted: #555; --line: #ddd; }
* { box-sizing: border-box; }
body { font-family: "Times New Roman", "Noto Serif", serif; color: var(--text); margin: 0; line-height: 1.5; }
header.site, footer.site { background: var(--accent); color: #fff; padding: .6rem 1rem; }
header.site a, footer.site a { color: #fff; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
a { color: #0b4f9c; }
a:focus, button:focus, input:focus, select:focus { outline: 3px solid #f5a623; outline-offset: 1px; }
form.search { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: 1rem; }
form.search label { display: flex; flex-direction: column; font-size: .9rem; }
form.search input[type=search] { min-width: 18rem; padding: .45rem; font-size: 1rem; }
form.search select, form.search input, form.search button { padding: .4rem; font-size: 1rem; }
button { background: var(--accent); color: #fff; border: 0; cursor: pointer; }
ol.results { list-style: none; padding: 0; }
ol.results li { border-bottom: 1px solid var(--line); padding: .75rem 0; }
ol.results h2 { font-size: 1.1rem; margin: 0 0 .25rem; }
dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .25rem 0; }
dl.fields dt { color: var(--muted); }
dl.fields dd { margin: 0; }
mark { background: #ffe58a; }
.snippet { color: #333; margin: .25rem 0; }
.summary { color: var(--muted); }
nav.pages a, nav.pages span { margin-right: .5rem; }
.text { white-space: pre-wrap; font-family: inherit; background: #fafafa; border: 1px solid var(--line); padding: 1rem; max-height: 40rem; overflow: auto; }
.visually-hidden { position: absolute; left: -9999px; }
.sig-ok { border-left: 4px solid #1e7b34; padding-left: .5rem; }
.sig-warn { border-left: 4px solid var(--accent); padding-left: .5rem; font-weight: bold; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
.note { color: var(--muted); font-size: .9rem; }
"#;

/// A whole page: Vietnamese, with a skip link and landmarks.
pub fn page(title: &str, site_name: &str, head_extra: &str, body: &str) -> String {
    format!(
        r##"<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — {site}</title>
<link rel="alternate" type="application/atom+xml" title="Văn bản mới" href="/feeds/van-ban.atom">
<style>{STYLE}</style>
{head_extra}
</head>
<body>
<a class="visually-hidden" href="#noi-dung">Bỏ qua đến nội dung</a>
<header class="site"><a href="/van-ban"><strong>{site}</strong></a></header>
<main id="noi-dung">
{body}
</main>
<footer class="site">Dữ liệu văn bản công khai theo Nghị định 42/2022/NĐ-CP · <a href="/feeds/van-ban.atom">Nguồn tin Atom</a></footer>
</body>
</html>"##,
        title = escape(title),
        site = escape(site_name),
    )
}

/// `2024-03-29` → `29/03/2024`, the way Vietnamese readers write dates.
pub fn vn_date(date: Option<chrono::NaiveDate>) -> String {
    date.map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|| "—".to_string())
}

/// Percent-encodes a query-string value.
pub fn url_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
