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

use std::sync::Arc;

use axum::Router;
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
}

pub type SharedState = Arc<AppState>;

pub fn router(state: SharedState) -> Router {
    Router::new()
        .merge(api::router(&state.settings))
        .merge(admin::router())
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

/// `https://host` for absolute links: the configured public address, else the request's.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    let configured = state.settings.web.public_base_url.trim_end_matches('/');
    if !configured.is_empty() {
        return configured.to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("http");
    format!("{scheme}://{host}")
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
