//! `/feeds/van-ban.atom` (newest published, filterable by type, issuer, unit) and
//! `/sitemap.xml`.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::api::{form_params, run_search, search_request};
use super::html::escape;
use super::pages::error_page;
use super::{PublicBase, SharedState, parse_query, public_cache};
use crate::search::query::Sort;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/feeds/van-ban.atom", get(atom))
        .route("/sitemap.xml", get(sitemap))
}

async fn atom(
    State(state): State<SharedState>,
    PublicBase(base): PublicBase,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = match parse_query(raw.as_deref()) {
        Ok(p) => p,
        Err(e) => return error_page(&state, e),
    };
    let mut req = match search_request(&form_params(&params)) {
        Ok(r) => r,
        Err(e) => return error_page(&state, e),
    };
    req.q.clear();
    req.sort = Sort::Newest;
    req.page = 1;
    req.per_page = 50;
    req.with_facets = false;
    let results = match run_search(&state, req).await {
        Ok(r) => r,
        Err(e) => return error_page(&state, e),
    };
    let updated = results
        .hits
        .iter()
        .filter_map(|h| h.record.issued_date)
        .max()
        .map(|d| format!("{d}T00:00:00Z"))
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
    let query: String = params
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "type" | "issuer" | "unit"))
        .map(|(k, v)| format!("{k}={}", super::html::url_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let self_url = if query.is_empty() {
        format!("{base}/feeds/van-ban.atom")
    } else {
        format!("{base}/feeds/van-ban.atom?{query}")
    };
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"vi\">\n\
         <title>{site} — văn bản mới</title>\n<id>{self_id}</id>\n<link rel=\"self\" href=\"{self_id}\"/>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"{base}/van-ban\"/>\n<updated>{updated}</updated>\n",
        site = escape(&state.settings.web.site_name),
        self_id = escape(&self_url),
        base = escape(&base),
    );
    for hit in &results.hits {
        let r = &hit.record;
        let title = super::display_title(r.doc_type.as_deref(), r.number_symbol.as_deref(), r.id);
        let url = format!("{base}/van-ban/{}", r.id);
        xml.push_str(&format!(
            "<entry>\n<title>{title}</title>\n<id>{url}</id>\n<link href=\"{url}\"/>\n\
             <link rel=\"enclosure\" type=\"application/pdf\" href=\"{base}/api/v1/documents/{id}/file\"/>\n\
             <updated>{date}T00:00:00Z</updated>\n<author><name>{issuer}</name></author>\n\
             <category term=\"{doc_type}\"/>\n<summary>{summary}</summary>\n</entry>\n",
            title = escape(&title),
            url = escape(&url),
            base = escape(&base),
            id = r.id,
            date = r.issued_date.map_or("1970-01-01".to_string(), |d| d.to_string()),
            issuer = escape(r.issuer.as_deref().unwrap_or("—")),
            doc_type = escape(r.doc_type.as_deref().unwrap_or("")),
            summary = escape(r.abstract_text.as_deref().unwrap_or("")),
        ));
    }
    xml.push_str("</feed>\n");
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/atom+xml; charset=utf-8"),
            ),
            public_cache(&state),
        ],
        xml,
    )
        .into_response()
}

/// Every published record (the sitemap protocol allows 50,000 URLs per file).
async fn sitemap(State(state): State<SharedState>, PublicBase(base): PublicBase) -> Response {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    xml.push_str(&format!(
        "<url><loc>{}/van-ban</loc></url>\n",
        escape(&base)
    ));
    let mut after = 0;
    let mut count = 0;
    while count < 50_000 {
        let ids = match state.store.published_ids_after(after, 1000).await {
            Ok(ids) => ids,
            Err(e) => return error_page(&state, e.into()),
        };
        let Some(&last) = ids.last() else { break };
        for id in ids {
            xml.push_str(&format!(
                "<url><loc>{}/van-ban/{id}</loc></url>\n",
                escape(&base)
            ));
            count += 1;
        }
        after = last;
    }
    xml.push_str("</urlset>\n");
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml; charset=utf-8"),
            ),
            public_cache(&state),
        ],
        xml,
    )
        .into_response()
}
