//! The public web surface: JSON API (`/api/v1`), server-rendered pages (`/van-ban`, ELI
//! URLs), feeds and sitemap, and the embeddable widget (`/embed/van-ban`, `/embed.js`).
//!
//! Architecture invariant: every public answer is read from the search index or checked
//! with [`crate::search::is_public`]; nothing here can show a draft, withdrawn, classified
//! or internal record, whatever the parameters.

pub mod admin;
pub mod api;
pub mod embed;
pub mod feeds;
pub mod html;
pub mod pages;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::blob::BlobStore;
use crate::config::Settings;
use crate::doctypes::DocTypeTable;
use crate::search::SearchIndex;
use crate::store::{DocumentRecord, Store, StoreError};

pub struct AppState {
    pub store: Store,
    pub index: Arc<SearchIndex>,
    pub blobs: BlobStore,
    pub settings: Settings,
    pub types: &'static DocTypeTable,
    /// Notified after a write the search index should pick up (the indexer also polls).
    pub changes: Arc<tokio::sync::Notify>,
    /// Wakes the job workers when a job is enqueued (`crate::jobs`).
    pub jobs: crate::jobs::Jobs,
}

pub type SharedState = Arc<AppState>;

pub fn router(state: SharedState) -> Router {
    Router::new()
        .merge(api::router(&state.settings))
        .merge(admin::router())
        .merge(crate::desk::router())
        .merge(pages::router())
        .merge(embed::router())
        .merge(feeds::router())
        .with_state(state)
}

/// An error answer: a stable machine code, a Vietnamese message, and for a bad parameter
/// its name.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub parameter: Option<&'static str>,
}

impl ApiError {
    pub fn bad_parameter(parameter: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_parameter",
            message: message.into(),
            parameter: Some(parameter),
        }
    }
    pub fn not_found() -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: "Không tìm thấy văn bản".into(),
            parameter: None,
        }
    }
    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        // The details go to the log, not to the citizen.
        tracing::error!(%error, "request failed");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal_error",
            message: "Hệ thống đang gặp sự cố, vui lòng thử lại sau".into(),
            parameter: None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(_) => ApiError::not_found(),
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::search::SearchError> for ApiError {
    fn from(e: crate::search::SearchError) -> ApiError {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": {"code": self.code, "message": self.message}});
        if let Some(p) = self.parameter {
            body["error"]["parameter"] = json!(p);
        }
        (self.status, axum::Json(body)).into_response()
    }
}

/// "Quyết định 116/QĐ-UBND", or "Văn bản #12" for a record without type and number.
pub fn display_title(
    doc_type: Option<&str>,
    number_symbol: Option<&str>,
    id: impl std::fmt::Display,
) -> String {
    let title = [doc_type, number_symbol]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if title.is_empty() {
        format!("Văn bản #{id}")
    } else {
        title
    }
}

/// A document id from a path segment; anything else is a bad `id` parameter.
pub fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::bad_parameter("id", format!("Mã văn bản không hợp lệ: \"{raw}\"")))
}

/// The public record `id`, or not-found for anything the public may not see (the same
/// answer as for a missing id, so a classified record's existence does not leak).
pub async fn public_record(state: &AppState, id: i64) -> Result<DocumentRecord, ApiError> {
    let record = state.store.get_document(id).await?;
    if record.is_public() {
        Ok(record)
    } else {
        Err(ApiError::not_found())
    }
}

/// The signatures stored with a record (`None` for an unsigned file).
pub fn signatures_of(record: &DocumentRecord) -> Option<crate::signature::Verification> {
    serde_json::from_value(record.fields.signature.clone()?).ok()
}

/// `https://host` for absolute links, trusting nothing the request says: the configured
/// public address, else a request `Host` named in `web.allowed_hosts`, else the listen
/// address. Handlers take [`PublicBase`] instead, which also believes trusted proxies.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    public_base(&state.settings, None, headers)
}

/// Where absolute links (canonical, JSON-LD, API links, feeds, sitemap) point.
///
/// 1. `web.public_base_url` when set: always, whatever the request says.
/// 2. Else, from a peer listed in `web.trusted_proxies`, its `X-Forwarded-Host` (when
///    `web.allowed_hosts` is empty or names it) with its `X-Forwarded-Proto`.
/// 3. Else the request's `Host` when `web.allowed_hosts` names it.
/// 4. Else `http://` and the listen address.
///
/// A `Host` or `X-Forwarded-*` header from anyone else never reaches a link.
pub fn public_base(settings: &Settings, peer: Option<IpAddr>, headers: &HeaderMap) -> String {
    let web = &settings.web;
    let configured = web.public_base_url.trim().trim_end_matches('/');
    if !configured.is_empty() {
        return configured.to_string();
    }
    let trusted = peer.is_some_and(|ip| {
        let ip = ip.to_canonical();
        web.trusted_proxies.iter().any(|p| {
            p.trim()
                .parse::<IpAddr>()
                .is_ok_and(|p| p.to_canonical() == ip)
        })
    });
    let forwarded = |name: &str| -> Option<String> {
        if !trusted {
            return None;
        }
        let value = headers.get(name)?.to_str().ok()?;
        let first = value.split(',').next()?.trim();
        (!first.is_empty()).then(|| first.to_ascii_lowercase())
    };
    // An allowed host, with the scheme its entry names ("https://host") if any.
    let allowed = |host: &str| -> Option<&'static str> {
        web.allowed_hosts.iter().find_map(|entry| {
            let entry = entry.trim().trim_end_matches('/');
            let (scheme, name) = match entry.split_once("://") {
                Some(("https", name)) => ("https", name),
                Some((_, name)) => ("http", name),
                None => ("", entry),
            };
            name.eq_ignore_ascii_case(host).then_some(scheme)
        })
    };
    let scheme_of = |entry_scheme: Option<&'static str>| -> String {
        match (entry_scheme, forwarded("x-forwarded-proto").as_deref()) {
            (Some(s), _) if !s.is_empty() => s.to_string(),
            (_, Some("https")) => "https".into(),
            _ => "http".into(),
        }
    };
    if let Some(host) = forwarded("x-forwarded-host").filter(|h| valid_host(h)) {
        if web.allowed_hosts.is_empty() {
            return format!("{}://{host}", scheme_of(None));
        }
        if let Some(scheme) = allowed(&host) {
            return format!("{}://{host}", scheme_of(Some(scheme)));
        }
    }
    if let Some(host) = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| valid_host(h))
        && let Some(scheme) = allowed(&host)
    {
        return format!("{}://{host}", scheme_of(Some(scheme)));
    }
    format!("http://{}", settings.server.listen.trim())
}

/// `host`, `host:port`, `[v6]:port`: nothing that could break out of a URL or markup.
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// Says at start where links will point when no public address is configured.
pub fn warn_about_public_base_url(settings: &Settings) {
    if settings.web.public_base_url.trim().is_empty() {
        tracing::warn!(
            fallback = %public_base(settings, None, &HeaderMap::new()),
            trusted_proxies = ?settings.web.trusted_proxies,
            allowed_hosts = ?settings.web.allowed_hosts,
            "web.public_base_url is not set: absolute links (canonical, JSON-LD, feeds, \
             sitemap, API) use an allowed request host or else the listen address; set it \
             to the address citizens use"
        );
    }
}

/// The base of absolute links for this request (see [`public_base`]).
pub struct PublicBase(pub String);

impl FromRequestParts<SharedState> for PublicBase {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(PublicBase(public_base(
            &state.settings,
            peer,
            &parts.headers,
        )))
    }
}

/// Query parameters decoded strictly: a value that is not UTF-8 once percent-decoded, or
/// that holds a NUL or another control character, is refused (400) instead of being
/// replaced by U+FFFD and matching everything. A repeated key is refused too.
pub fn parse_query(raw: Option<&str>) -> Result<HashMap<String, String>, ApiError> {
    let mut params = HashMap::new();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key).ok_or_else(|| bad_encoding(None))?;
        let value = percent_decode(value).ok_or_else(|| bad_encoding(known_parameter(&key)))?;
        if params.contains_key(&key) {
            return Err(ApiError {
                status: StatusCode::BAD_REQUEST,
                code: "invalid_parameter",
                message: format!("Tham số \"{key}\" chỉ được có một giá trị"),
                parameter: known_parameter(&key),
            });
        }
        params.insert(key, value);
    }
    Ok(params)
}

fn bad_encoding(parameter: Option<&'static str>) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_encoding",
        message: "Tham số tìm kiếm không hợp lệ: chứa byte không phải UTF-8 hoặc ký tự điều khiển"
            .into(),
        parameter,
    }
}

/// The parameter names the API documents, for error answers.
fn known_parameter(name: &str) -> Option<&'static str> {
    const KNOWN: &[&str] = &[
        "q", "unit", "type", "issuer", "year", "from", "to", "status", "sort", "page", "per_page",
        "limit", "source", "state", "filters", "color",
    ];
    KNOWN.iter().copied().find(|k| *k == name)
}

/// `+` and `%XX` decoded; `None` for bytes that are not UTF-8 or for control characters
/// (tab and newline aside, which forms may send). A `%` not followed by two hex digits
/// stays as it is.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut k = 0;
    while k < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        match bytes[k] {
            b'+' => out.push(b' '),
            b'%' if bytes.len() >= k + 3
                && hex(bytes[k + 1]).is_some()
                && hex(bytes[k + 2]).is_some() =>
            {
                out.push(hex(bytes[k + 1])? * 16 + hex(bytes[k + 2])?);
                k += 2;
            }
            b => out.push(b),
        }
        k += 1;
    }
    let decoded = String::from_utf8(out).ok()?;
    (!decoded
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')))
    .then_some(decoded)
}

/// The query string of an API request, decoded by [`parse_query`].
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query()).map(Params)
    }
}

/// `Cache-Control` for public answers a CDN may keep.
pub fn public_cache(state: &AppState) -> (header::HeaderName, HeaderValue) {
    (
        header::CACHE_CONTROL,
        HeaderValue::from_str(&format!(
            "public, max-age={}",
            state.settings.web.cache_max_age
        ))
        .expect("valid header"),
    )
}

/// `Quyết định 116/QĐ-UBND` → `quyet-dinh-116-qd-ubnd`: URL path segments.
pub fn slug(text: &str) -> String {
    let folded = crate::text::fold(text);
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The ELI-style path of a record, when it has the parts: `/eli/vn/{issuer}/{type}/{year}/{number}`.
pub fn eli_path(record: &DocumentRecord) -> Option<String> {
    let f = &record.fields;
    let issuer = slug(f.issuer.as_deref()?);
    let doc_type = slug(f.doc_type.as_deref()?);
    let year = f.issued_year?;
    let number = f.number.as_deref()?;
    if issuer.is_empty() || doc_type.is_empty() || number.is_empty() {
        return None;
    }
    Some(format!("/eli/vn/{issuer}/{doc_type}/{year}/{number}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(env: &[(&str, &str)]) -> Settings {
        Settings::load(
            None,
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
        .unwrap()
        .settings
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    /// Settings, peer, request headers, the base expected.
    type Case<'a> = (
        &'a [(&'a str, &'a str)],
        Option<IpAddr>,
        &'a HeaderMap,
        &'a str,
    );

    #[test]
    fn links_name_only_configured_or_trusted_hosts() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        let forged = headers(&[
            ("host", "evil.example"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
        ]);
        let proxied = headers(&[
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "vanban.example.vn, evil.example"),
            ("x-forwarded-proto", "https"),
        ]);
        let listen = [("VANBAN__SERVER__LISTEN", "127.0.0.1:9000")];
        let trusting = [
            ("VANBAN__SERVER__LISTEN", "127.0.0.1:9000"),
            ("VANBAN__WEB__TRUSTED_PROXIES", "10.0.0.2"),
        ];
        let allowing = [
            ("VANBAN__SERVER__LISTEN", "127.0.0.1:9000"),
            ("VANBAN__WEB__TRUSTED_PROXIES", "10.0.0.2"),
            (
                "VANBAN__WEB__ALLOWED_HOSTS",
                "vanban.example.vn,https://cong.example.vn",
            ),
        ];
        let configured = [("VANBAN__WEB__PUBLIC_BASE_URL", "https://vb.example.gov.vn/")];
        #[rustfmt::skip]
        let cases: &[Case] = &[
            (&listen, None, &forged, "http://127.0.0.1:9000"),
            (&listen, Some(proxy), &forged, "http://127.0.0.1:9000"),
            (&listen, Some(proxy), &proxied, "http://127.0.0.1:9000"),
            (&trusting, Some(stranger), &forged, "http://127.0.0.1:9000"),
            (&trusting, Some(stranger), &proxied, "http://127.0.0.1:9000"),
            (&trusting, Some(proxy), &proxied, "https://vanban.example.vn"),
            (&allowing, Some(proxy), &proxied, "https://vanban.example.vn"),
            (&allowing, Some(proxy), &forged, "http://127.0.0.1:9000"),
            (&allowing, Some(stranger), &headers(&[("host", "cong.example.vn")]), "https://cong.example.vn"),
            (&allowing, Some(stranger), &headers(&[("host", "VANBAN.example.vn")]), "http://vanban.example.vn"),
            (&allowing, Some(stranger), &forged, "http://127.0.0.1:9000"),
            (&allowing, Some(stranger), &headers(&[("host", "vanban.example.vn\"><x")]), "http://127.0.0.1:9000"),
            (&configured, Some(proxy), &proxied, "https://vb.example.gov.vn"),
            (&configured, None, &forged, "https://vb.example.gov.vn"),
        ];
        for (env, peer, headers, expected) in cases {
            assert_eq!(
                public_base(&settings(env), *peer, headers),
                *expected,
                "{env:?} {peer:?} {headers:?}"
            );
        }
    }

    #[test]
    fn query_strings_are_decoded_strictly() {
        let ok = parse_query(Some("q=ki%E1%BB%87n+to%C3%A0n&type=&x=%zz&y")).unwrap();
        assert_eq!(ok["q"], "kiện toàn");
        assert_eq!(ok["type"], "");
        assert_eq!(ok["x"], "%zz");
        assert_eq!(ok["y"], "");
        assert!(parse_query(None).unwrap().is_empty());
        assert_eq!(parse_query(Some("q=a%09b")).unwrap()["q"], "a\tb");
        for (raw, code, parameter) in [
            ("q=%FF", "invalid_encoding", Some("q")),
            ("q=%C3", "invalid_encoding", Some("q")),
            ("q=%00", "invalid_encoding", Some("q")),
            ("q=%C2%85", "invalid_encoding", Some("q")),
            ("zz=%7F", "invalid_encoding", None),
            ("%FF=1", "invalid_encoding", None),
            ("year=1&year=2", "invalid_parameter", Some("year")),
        ] {
            let e = parse_query(Some(raw)).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{raw}");
            assert_eq!(e.code, code, "{raw}");
            assert_eq!(e.parameter, parameter, "{raw}");
        }
    }
}
