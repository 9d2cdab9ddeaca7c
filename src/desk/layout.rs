//! The desk's frame: header with the site and the signed-in account, navigation, flash
//! messages, the vendored stylesheet and script (served here with a long cache and a
//! content version in their URLs), and `Cache-Control: no-store` on every other desk
//! answer.
//!
//! Flash messages: a handler that redirects after a POST calls [`redirect_with_flash`];
//! the message travels in a short-lived `HttpOnly`, `SameSite=Strict` cookie scoped to
//! `/desk`, and [`frame`] (a middleware on the desk router) puts it into the next page
//! that [`desk_page`] renders and clears the cookie. The text is escaped when shown.

use std::sync::LazyLock;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::auth::{DeskUser, Role};
use crate::web::SharedState;
use crate::web::html::{escape, url_encode};

const CSS: &str = include_str!("static/desk.css");
const JS: &str = include_str!("static/desk.js");

/// A short content hash: the static URLs change whenever the file does, so browsers may
/// keep them for a year.
fn version_of(content: &str) -> String {
    hex::encode(&Sha256::digest(content.as_bytes())[..6])
}

static CSS_VERSION: LazyLock<String> = LazyLock::new(|| version_of(CSS));
static JS_VERSION: LazyLock<String> = LazyLock::new(|| version_of(JS));

/// `/desk/static/desk.css?v=…`
pub fn css_url() -> String {
    format!("/desk/static/desk.css?v={}", *CSS_VERSION)
}

/// `/desk/static/desk.js?v=…`
pub fn js_url() -> String {
    format!("/desk/static/desk.js?v={}", *JS_VERSION)
}

/// The stylesheet and the script.
pub fn router() -> Router<SharedState> {
    Router::new().route("/desk/static/{name}", get(static_file))
}

async fn static_file(Path(name): Path<String>) -> Response {
    let (body, media_type) = match name.as_str() {
        "desk.css" => (CSS, "text/css; charset=utf-8"),
        "desk.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(media_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

/// Where the message goes in a page, replaced by [`frame`].
const FLASH_SLOT: &str = "<!--desk-flash-->";
const FLASH_COOKIE: &str = "vb_flash";

/// What kind of message a flash is (its colour and role).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashKind {
    Ok,
    Error,
    Info,
}

impl FlashKind {
    fn as_str(self) -> &'static str {
        match self {
            FlashKind::Ok => "ok",
            FlashKind::Error => "error",
            FlashKind::Info => "info",
        }
    }
    fn parse(s: &str) -> Option<FlashKind> {
        Some(match s {
            "ok" => FlashKind::Ok,
            "error" => FlashKind::Error,
            "info" => FlashKind::Info,
            _ => return None,
        })
    }
}

/// A 303 to `location` (a desk path) carrying a message for the next page.
pub fn redirect_with_flash(location: &str, kind: FlashKind, message: &str) -> Response {
    // Cookies hold a few kilobytes at most; a message is one sentence.
    let message: String = message.chars().take(600).collect();
    let cookie = format!(
        "{FLASH_COOKIE}={}.{}; Path=/desk; Max-Age=60; HttpOnly; Secure; SameSite=Strict",
        kind.as_str(),
        url_encode(&message)
    );
    let mut response = Redirect::to(location).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The flash carried by a request's cookies, if any.
fn flash_of(headers: &HeaderMap) -> Option<(FlashKind, String)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == FLASH_COOKIE)
        .and_then(|(_, value)| {
            let (kind, text) = value.split_once('.')?;
            let text = percent_decode(text)?;
            (!text.is_empty()).then_some((FlashKind::parse(kind)?, text))
        })
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn render_flash(kind: FlashKind, text: &str) -> String {
    let role = if kind == FlashKind::Error {
        "alert"
    } else {
        "status"
    };
    format!(
        r#"<p class="flash {}" role="{role}">{}</p>"#,
        kind.as_str(),
        escape(text)
    )
}

/// Middleware for every desk route: answers are `no-store` unless they chose a cache
/// policy themselves (the static files), and a pending flash message is placed into the
/// page rendered by [`desk_page`] (then its cookie is cleared).
pub async fn frame(request: Request, next: Next) -> Response {
    let flash = flash_of(request.headers());
    let mut response = next.run(request).await;
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let Some((kind, text)) = flash else {
        return response;
    };
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Desk pages are small; a page too large to buffer is passed on without the message.
    let Ok(bytes) = axum::body::to_bytes(body, 8 << 20).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    let page = String::from_utf8_lossy(&bytes);
    if !page.contains(FLASH_SLOT) {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let page = page.replacen(FLASH_SLOT, &render_flash(kind, &text), 1);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.append(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "vb_flash=; Path=/desk; Max-Age=0; HttpOnly; Secure; SameSite=Strict",
        ),
    );
    Response::from_parts(parts, Body::from(page))
}

/// The navigation entries: (path, label, admin only).
const NAV: &[(&str, &str, bool)] = &[
    ("/desk/", "Bảng điều khiển", false),
    ("/desk/queue", "Hàng chờ xem xét", false),
    ("/desk/upload", "Tải lên", false),
    ("/desk/accounts", "Tài khoản", true),
    ("/desk/units", "Đơn vị", true),
    ("/desk/password", "Đổi mật khẩu", false),
];

/// Which navigation entry a page belongs to (the longest matching prefix of its path).
fn current_entry(title_path: &str) -> Option<&'static str> {
    NAV.iter()
        .map(|(path, _, _)| *path)
        .filter(|p| {
            if *p == "/desk/" {
                title_path == "/desk/" || title_path == "/desk"
            } else {
                title_path == *p || title_path.starts_with(&format!("{p}/"))
            }
        })
        .max_by_key(|p| p.len())
}

/// A desk page: the frame around `body` (already escaped HTML), for `user`.
pub fn desk_page(user: &DeskUser, title: &str, body: &str) -> Html<String> {
    desk_page_at(user, title, "", body)
}

/// [`desk_page`] with the page's own path, so that its navigation entry is marked
/// current (`aria-current`).
pub fn desk_page_at(user: &DeskUser, title: &str, path: &str, body: &str) -> Html<String> {
    let current = current_entry(path);
    let is_admin = matches!(user.role, Role::Admin);
    let mut nav = String::new();
    for (href, label, admin_only) in NAV {
        if *admin_only && !is_admin {
            continue;
        }
        let aria = if current == Some(*href) {
            r#" aria-current="page""#
        } else {
            ""
        };
        nav.push_str(&format!(r#"<a href="{href}"{aria}>{label}</a>"#));
    }
    nav.push_str(&format!(
        r#"<form method="post" action="/desk/logout"><input type="hidden" name="csrf" value="{}"><button class="link" type="submit">Đăng xuất</button></form>"#,
        escape(&user.csrf_token)
    ));
    let units = if user.units.is_empty() {
        if is_admin {
            "mọi đơn vị".to_string()
        } else {
            "chưa thuộc đơn vị nào".to_string()
        }
    } else {
        user.units.join(", ")
    };
    let shown_name = if user.display_name.trim().is_empty() {
        &user.name
    } else {
        &user.display_name
    };
    Html(format!(
        r##"<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title} — Bàn làm việc văn thư</title>
<link rel="stylesheet" href="{css}">
<script src="{js}" defer></script>
</head>
<body>
<a class="visually-hidden skip" href="#noi-dung">Bỏ qua đến nội dung</a>
<header class="desk">
<a class="site" href="/desk/">Bàn làm việc văn thư · Cơ sở dữ liệu văn bản</a>
<nav class="desk" aria-label="Chức năng">{nav}</nav>
<span class="who">{name} · {role} · <span class="units">{units}</span></span>
</header>
<main class="desk" id="noi-dung">
{FLASH_SLOT}
{body}
</main>
</body>
</html>"##,
        title = escape(title),
        css = css_url(),
        js = js_url(),
        name = escape(shown_name),
        role = escape(user.role.label()),
        units = escape(&units),
    ))
}

/// Whether `user` may write in at least one unit (bulk forms are shown to them).
pub fn writes_somewhere(user: &DeskUser) -> bool {
    match user.role {
        Role::Admin => true,
        Role::Clerk => !user.units.is_empty(),
        Role::Viewer => false,
    }
}

/// A duration as clerks say it: "3 ngày", "5 giờ", "12 phút".
pub fn age_label(
    since: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let d = now.signed_duration_since(since);
    if d.num_days() >= 1 {
        format!("{} ngày", d.num_days())
    } else if d.num_hours() >= 1 {
        format!("{} giờ", d.num_hours())
    } else {
        format!("{} phút", d.num_minutes().max(0))
    }
}

/// A time in Vietnam (UTC+7): `13:05 02/04/2024`.
pub fn vn_time(t: chrono::DateTime<chrono::Utc>) -> String {
    let offset = chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7");
    t.with_timezone(&offset)
        .format("%H:%M %d/%m/%Y")
        .to_string()
}

/// Where a record came from, for people: "dòng lệnh", "đồng bộ NAME", "tải lên".
pub fn source_label(source: &str) -> String {
    if let Some(name) = source.strip_prefix("sync:") {
        format!("đồng bộ {name}")
    } else {
        match source {
            "cli" => "dòng lệnh".into(),
            "upload" => "tải lên".into(),
            other if other.starts_with("upload") => "tải lên".into(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flash_cookie_round_trips_any_vietnamese_text() {
        let text = "Đã công khai văn bản #12 «Quyết định 116/QĐ-UBND»; 50% xong";
        let response = redirect_with_flash("/desk/documents/12", FlashKind::Ok, text);
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        let value = cookie.split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {value}")).unwrap(),
        );
        assert_eq!(flash_of(&headers), Some((FlashKind::Ok, text.to_string())));
        // A forged cookie is shown escaped, never as markup.
        assert_eq!(
            render_flash(FlashKind::Error, "<script>x</script>"),
            r#"<p class="flash error" role="alert">&lt;script&gt;x&lt;/script&gt;</p>"#
        );
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("vb_flash=bogus.%zz"),
        );
        assert_eq!(flash_of(&headers), None);
    }

    #[test]
    fn the_current_navigation_entry_is_the_longest_prefix() {
        for (path, expected) in [
            ("/desk/", Some("/desk/")),
            ("/desk/queue", Some("/desk/queue")),
            ("/desk/queue/bulk", Some("/desk/queue")),
            ("/desk/accounts/3", Some("/desk/accounts")),
            ("/desk/documents/5", None),
            ("/desk/queued", None),
        ] {
            assert_eq!(current_entry(path), expected, "{path}");
        }
    }

    #[test]
    fn static_urls_carry_the_content_version() {
        assert!(css_url().starts_with("/desk/static/desk.css?v="));
        assert_eq!(css_url().len(), "/desk/static/desk.css?v=".len() + 12);
        assert_ne!(version_of(CSS), version_of(JS));
    }
}
