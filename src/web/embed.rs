//! Embedding in commune portals: an iframe page (`/embed/van-ban`) and a script
//! (`/embed.js`) that mounts a search box and results into a `<div>` and calls the JSON
//! API cross-origin. See docs/embedding.md for the snippets portal editors paste.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::api::{form_params, run_search, search_request, snippets};
use super::html::{STYLE, escape};
use super::pages::{ResultsView, error_page, render_results};
use super::{SharedState, public_cache};

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/embed/van-ban", get(embed_page))
        .route("/embed.js", get(embed_script))
}

/// A colour given as `#rgb`/`#rrggbb` (anything else is ignored: it lands in CSS).
fn colour(params: &HashMap<String, String>, key: &str) -> Option<String> {
    let value = params.get(key)?.trim();
    let hex = value.strip_prefix('#')?;
    (matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| value.to_string())
}

async fn embed_page(State(state): State<SharedState>, RawQuery(raw): RawQuery) -> Response {
    let params = match super::parse_query(raw.as_deref()) {
        Ok(p) => p,
        Err(e) => return error_page(&state, e),
    };
    let req = match search_request(&form_params(&params)) {
        Ok(r) => r,
        Err(e) => return error_page(&state, e),
    };
    let results = match run_search(&state, req.clone()).await {
        Ok(r) => r,
        Err(e) => return error_page(&state, e),
    };
    let snippets = snippets(&state, &results).await;
    let filters: Vec<&str> = params
        .get("filters")
        .map(|f| f.split(',').map(str::trim).collect())
        .unwrap_or_default();
    // Presets the portal chose travel with every search from the iframe; a filter the
    // reader may change is a visible field instead.
    let hidden: Vec<(&str, &str)> = ["unit", "per_page", "filters", "color"]
        .iter()
        .chain(
            ["type", "issuer", "year", "status", "sort"]
                .iter()
                .filter(|k| !filters.contains(k)),
        )
        .filter_map(|k| params.get(*k).map(|v| (*k, v.as_str())))
        .collect();
    let accent = colour(&params, "color").unwrap_or_else(|| "#a50e0e".into());
    let body = render_results(
        &ResultsView {
            path: "/embed/van-ban",
            hidden: &hidden,
            filters: &filters,
            link_target: " target=\"_blank\" rel=\"noopener\"",
        },
        &params,
        &req,
        &results,
        &snippets,
    );
    let html = format!(
        r#"<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tra cứu văn bản</title>
<style>{STYLE} :root {{ --accent: {accent}; }} main {{ padding: .5rem; }} body {{ font-size: 15px; }}</style>
</head><body><main>{body}</main>
<script>
// Tell the host page how tall we are, so it can size the iframe (see docs/embedding.md).
(function () {{
  function report() {{
    parent.postMessage({{ type: "vanban:resize", height: document.documentElement.scrollHeight }}, "*");
  }}
  window.addEventListener("load", report);
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.body);
  report();
}})();
</script></body></html>"#,
        accent = escape(&accent),
    );
    let mut response = ([public_cache(&state)], Html(html)).into_response();
    // Any portal may frame the widget.
    response.headers_mut().remove(header::X_FRAME_OPTIONS);
    response
}

const EMBED_JS: &str = include_str!("embed.js");

async fn embed_script(State(state): State<SharedState>) -> Response {
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/javascript; charset=utf-8"),
            ),
            public_cache(&state),
        ],
        EMBED_JS,
    )
        .into_response()
}
