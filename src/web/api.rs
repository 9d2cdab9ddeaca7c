//! `/api/v1`: search, records, original files, and the OpenAPI description.

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use serde_json::{Value, json};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::{
    ApiError, AppState, Params, PublicBase, SharedState, eli_path, parse_id, public_cache,
    public_record,
};
use crate::config::Settings;
use crate::search::query::{SearchRequest, SearchResults, Sort, Validity, snippet};

pub const OPENAPI: &str = include_str!("../../schemas/openapi.json");

/// `Cache-Control` of an original file: storable, revalidated with its ETag at each use.
pub const FILE_CACHE: &str = "public, no-cache";

pub fn router(settings: &Settings) -> Router<SharedState> {
    Router::new()
        .route("/api/v1/documents", get(list_documents))
        .route("/api/v1/documents/{id}", get(get_document))
        .route("/api/v1/documents/{id}/file", get(get_file))
        .route(
            "/api/v1/documents/{id}/attachments/{n}",
            get(get_attachment),
        )
        .route("/api/v1/openapi.json", get(openapi))
        .layer(cors(settings))
}

fn cors(settings: &Settings) -> CorsLayer {
    let origins = &settings.web.cors_allowed_origins;
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([axum::http::Method::GET, axum::http::Method::HEAD])
        .expose_headers([header::ETAG, header::CONTENT_DISPOSITION])
}

/// Parses the search parameters shared by the API, the pages and the widget. Unknown
/// parameters are ignored (portals add their own); malformed ones are refused by name.
/// Text parameters (`q`, `unit`, `type`, `issuer`) may be empty (no filter); a typed one
/// (`year`, `from`, `to`, `status`, `sort`, `page`, `per_page`) must be absent or valid
/// as written — pages pass form fields through [`form_params`] first.
pub fn search_request(params: &HashMap<String, String>) -> Result<SearchRequest, ApiError> {
    let get = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let typed = |k: &str| params.get(k).map(String::as_str);
    let date = |k: &'static str| -> Result<Option<NaiveDate>, ApiError> {
        typed(k)
            .map(|v| {
                let shaped = v.len() == 10
                    && v.bytes().enumerate().all(|(k, b)| match k {
                        4 | 7 => b == b'-',
                        _ => b.is_ascii_digit(),
                    });
                shaped
                    .then(|| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
                    .flatten()
                    .ok_or_else(|| {
                        ApiError::bad_parameter(
                            k,
                            format!("Ngày không hợp lệ: \"{v}\" (cần dạng YYYY-MM-DD)"),
                        )
                    })
            })
            .transpose()
    };
    let number = |k: &'static str, min: usize, max: usize| -> Result<Option<usize>, ApiError> {
        typed(k)
            .map(|v| match digits(v).and_then(|v| v.parse::<usize>().ok()) {
                Some(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::bad_parameter(
                    k,
                    format!("Giá trị không hợp lệ: \"{v}\" (số nguyên từ {min} đến {max})"),
                )),
            })
            .transpose()
    };
    let year = typed("year")
        .map(|v| match digits(v).and_then(|v| v.parse::<i32>().ok()) {
            Some(y) if (1945..=2100).contains(&y) => Ok(y),
            _ => Err(ApiError::bad_parameter(
                "year",
                format!("Năm không hợp lệ: \"{v}\""),
            )),
        })
        .transpose()?;
    let sort = match typed("sort") {
        None | Some("relevance") => Sort::Relevance,
        Some("newest") | Some("date") => Sort::Newest,
        Some("oldest") => Sort::Oldest,
        Some(other) => {
            return Err(ApiError::bad_parameter(
                "sort",
                format!("Cách sắp xếp không hợp lệ: \"{other}\" (relevance, newest, oldest)"),
            ));
        }
    };
    let validity = typed("status")
        .map(|v| {
            Validity::parse(v).ok_or_else(|| {
                ApiError::bad_parameter(
                    "status",
                    format!(
                        "Tình trạng hiệu lực không hợp lệ: \"{v}\" (in_force, not_yet_in_force)"
                    ),
                )
            })
        })
        .transpose()?;
    let q = get("q").unwrap_or("");
    // Counted as sent (as the published schema's maxLength counts), before trimming.
    if params.get("q").is_some_and(|q| q.chars().count() > 500) {
        return Err(ApiError::bad_parameter(
            "q",
            "Từ khóa quá dài (tối đa 500 ký tự)",
        ));
    }
    // `from` after `to` is a valid, empty range.
    let from = date("from")?;
    let to = date("to")?;
    Ok(SearchRequest {
        q: q.to_string(),
        unit: get("unit").map(str::to_string),
        doc_type: get("type").map(str::to_string),
        issuer: get("issuer").map(str::to_string),
        year,
        from,
        to,
        validity,
        sort,
        page: number("page", 1, 10_000)?.unwrap_or(1),
        per_page: number("per_page", 1, 100)?.unwrap_or(20),
        with_facets: true,
    })
}

/// `v` when it is a plain decimal integer (no sign, no spaces).
fn digits(v: &str) -> Option<&str> {
    (!v.is_empty() && v.len() <= 18 && v.bytes().all(|b| b.is_ascii_digit())).then_some(v)
}

/// Form fields as a page receives them: trimmed, and an empty field (a select left on
/// "Tất cả") is no parameter.
pub fn form_params(params: &HashMap<String, String>) -> HashMap<String, String> {
    params
        .iter()
        .map(|(k, v)| (k.clone(), v.trim().to_string()))
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

/// Runs a search on a blocking thread (tantivy work is CPU-bound).
pub async fn run_search(
    state: &SharedState,
    req: SearchRequest,
) -> Result<SearchResults, ApiError> {
    let index = state.index.clone();
    tokio::task::spawn_blocking(move || index.search(&req))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::from)
}

/// Snippets for the hits: from the stored text, else from the abstract.
pub async fn snippets(state: &AppState, results: &SearchResults) -> Vec<String> {
    let ids: Vec<i64> = results.hits.iter().map(|h| h.record.id as i64).collect();
    let texts = state.store.document_texts(&ids).await.unwrap_or_default();
    results
        .hits
        .iter()
        .map(|hit| {
            let body = texts
                .get(&(hit.record.id as i64))
                .map(String::as_str)
                .unwrap_or("");
            let s = snippet(body, &results.terms, 40);
            if s.is_empty() {
                snippet(
                    hit.record.abstract_text.as_deref().unwrap_or(""),
                    &results.terms,
                    40,
                )
            } else {
                s
            }
        })
        .collect()
}

fn facet_list(values: &[(String, u64)]) -> Value {
    Value::Array(
        values
            .iter()
            .map(|(v, n)| json!({"value": v, "count": n}))
            .collect(),
    )
}

async fn list_documents(
    State(state): State<SharedState>,
    PublicBase(base): PublicBase,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let req = search_request(&params)?;
    let (page, per_page) = (req.page, req.per_page);
    let results = run_search(&state, req).await?;
    let snippets = snippets(&state, &results).await;
    let hits: Vec<Value> = results
        .hits
        .iter()
        .zip(snippets)
        .map(|(hit, snippet)| {
            let r = &hit.record;
            json!({
                "id": r.id,
                "sha256": r.sha256,
                "doc_type": r.doc_type,
                "number_symbol": r.number_symbol,
                "issuer": r.issuer,
                "issued_date": r.issued_date,
                "effective_date": r.effective_date,
                "abstract": r.abstract_text,
                "signer_name": r.signer_name,
                "status": "published",
                "validity": Validity::of(r.effective_date.or(r.issued_date)).as_str(),
                "unit": r.unit_code,
                "url": format!("{base}/van-ban/{}", r.id),
                "file_url": format!("{base}/api/v1/documents/{}/file", r.id),
                "snippet": snippet,
                "score": hit.score,
            })
        })
        .collect();
    let ns = results.number_symbol.as_ref();
    let near: Vec<Value> = ns
        .map(|ns| &ns.near[..])
        .unwrap_or_default()
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "doc_type": r.doc_type,
                "number_symbol": r.number_symbol,
                "issuer": r.issuer,
                "issued_date": r.issued_date,
                "abstract": r.abstract_text,
                "url": format!("{base}/van-ban/{}", r.id),
            })
        })
        .collect();
    let body = json!({
        "total": results.total,
        "page": page,
        "per_page": per_page,
        "relaxed": results.relaxed,
        "number_symbol_match": ns.map(|ns| ns.matched),
        "near_number_symbols": near,
        "hits": hits,
        "facets": {
            "type": facet_list(&results.facets.doc_type),
            "issuer": facet_list(&results.facets.issuer),
            "year": facet_list(&results.facets.year),
            "status": facet_list(&results.facets.validity),
        },
    });
    Ok(([public_cache(&state)], axum::Json(body)).into_response())
}

async fn get_document(
    State(state): State<SharedState>,
    PublicBase(base): PublicBase,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let record = match public_record(&state, id).await {
        Ok(record) => record,
        Err(e) => {
            // Once public, now withdrawn: 410 with the notice and the identity, no file,
            // no text.
            let Some(r) = super::pages::withdrawn_record(&state, id).await else {
                return Err(e);
            };
            let f = &r.fields;
            let body = json!({
                "error": {"code": "withdrawn", "message": super::pages::withdrawal_line(&r)},
                "document": {
                    "id": r.id, "doc_type": f.doc_type, "number_symbol": f.number_symbol,
                    "issued_date": f.issued_date, "issuer": f.issuer,
                    "withdrawn_at": r.withdrawn_at.unwrap_or(r.updated_at),
                    "withdrawal_reason": r.withdrawal_reason,
                },
            });
            return Ok((StatusCode::GONE, [public_cache(&state)], axum::Json(body)).into_response());
        }
    };
    let text = state.store.document_text(id).await.unwrap_or_default();
    let mut cites = Vec::new();
    for c in state.store.citations(id).await? {
        let target = state
            .store
            .published_by_number_symbol(&c.number_symbol)
            .await?;
        cites.push(json!({
            "number_symbol": c.number_symbol,
            "doc_type": c.cited_type,
            "date": c.cited_date,
            "id": target,
            "url": target.map(|t| format!("{base}/van-ban/{t}")),
        }));
    }
    let mut cited_by = Vec::new();
    if let Some(ns) = &record.fields.number_symbol {
        for other in state.store.published_citing(ns).await? {
            if other == id {
                continue;
            }
            let r = state.store.get_document(other).await?;
            cited_by.push(json!({
                "id": other,
                "number_symbol": r.fields.number_symbol,
                "doc_type": r.fields.doc_type,
                "abstract": r.fields.abstract_text,
                "url": format!("{base}/van-ban/{other}"),
            }));
        }
    }
    let file = state.store.file(&record.file_sha256).await?;
    let f = &record.fields;
    let body = json!({
        "id": record.id,
        "sha256": record.file_sha256,
        "unit": record.unit_code,
        "status": "published",
        "validity": Validity::of(f.effective_date.or(f.issued_date)).as_str(),
        "doc_type": f.doc_type,
        "number": f.number,
        "symbol": f.symbol,
        "number_symbol": f.number_symbol,
        "issuer": f.issuer,
        "issuer_parent": f.issuer_parent,
        "place": f.place,
        "issued_date": f.issued_date,
        "effective_date": f.effective_date,
        "abstract": f.abstract_text,
        "signer_name": f.signer_name,
        "signer_title": f.signer_title,
        "signing_authority": f.signing_authority,
        "recipients": f.recipients,
        "urgency": f.urgency,
        "pages": f.pages,
        "text_source": f.text_source,
        "version": record.version,
        "updated_at": record.updated_at,
        "url": format!("{base}/van-ban/{}", record.id),
        "eli": eli_path(&record).map(|p| format!("{base}{p}")),
        "file": file.map(|file| json!({
            "url": format!("{base}/api/v1/documents/{}/file", record.id),
            "media_type": file.media_type,
            "size": file.size,
            "sha256": file.sha256,
        })),
        "attachments": attachments_json(&state, &base, record.id).await?,
        "signature": super::signatures_of(&record).map(|v| v.summary_json()),
        "signatures": super::signatures_of(&record).map(|v| v.signatures),
        "cites": cites,
        "cited_by": cited_by,
        "text": text,
    });
    Ok(([public_cache(&state)], axum::Json(body)).into_response())
}

/// `Quyết định 116/QĐ-UBND.pdf` as a `Content-Disposition` value: an ASCII fallback and the
/// UTF-8 name (RFC 6266 / 5987), so Vietnamese names survive every browser.
pub fn content_disposition(name: &str) -> String {
    let ascii: String = crate::text::fold(name)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

fn download_name(record: &crate::store::DocumentRecord, media_type: &str) -> String {
    let f = &record.fields;
    let extension = if media_type == "application/pdf" {
        "pdf"
    } else {
        "bin"
    };
    let stem = match (&f.doc_type, &f.number_symbol) {
        (Some(t), Some(ns)) => format!("{t} {}", ns.replace('/', "-")),
        (_, Some(ns)) => ns.replace('/', "-"),
        _ => format!("van-ban-{}", record.id),
    };
    format!("{stem}.{extension}")
}

/// Parses a single `bytes=a-b` range against `len`; `None` for no or unsupported ranges.
fn byte_range(headers: &HeaderMap, len: u64) -> Option<Result<(u64, u64), ()>> {
    let value = headers.get(header::RANGE)?.to_str().ok()?;
    let spec = value.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None; // multiple ranges: answer with the whole file
    }
    let (start, end) = spec.split_once('-')?;
    let range = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            if n == 0 {
                return Some(Err(()));
            }
            (len.saturating_sub(n), len.checked_sub(1)?)
        }
        (s, "") => (s.parse().ok()?, len.checked_sub(1)?),
        (s, e) => (
            s.parse().ok()?,
            e.parse::<u64>().ok()?.min(len.saturating_sub(1)),
        ),
    };
    if range.0 > range.1 || range.0 >= len {
        return Some(Err(()));
    }
    Some(Ok(range))
}

/// The further files of a public record (edXML appendices, drafts), with their URLs.
async fn attachments_json(state: &AppState, base: &str, id: i64) -> Result<Value, ApiError> {
    let list = state.store.attachments(id).await?;
    Ok(Value::Array(
        list.into_iter()
            .map(|a| {
                json!({
                    "url": format!("{base}/api/v1/documents/{id}/attachments/{}", a.position),
                    "name": a.filename,
                    "role": a.role,
                    "label": a.role.label(),
                    "media_type": a.media_type,
                    "size": a.size,
                    "sha256": a.sha256,
                })
            })
            .collect(),
    ))
}

async fn get_file(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let record = public_record(&state, id).await?;
    let file = state
        .store
        .file(&record.file_sha256)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let name = download_name(&record, &file.media_type);
    file_response(&state, &headers, file, &name)
}

/// A further file of a public record: `n` counts from 1 in the order the record lists
/// them. The same public check as the document's own file.
async fn get_attachment(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path((id, n)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    // Any whole number from 1 is a valid position (a record has few files: one past them
    // is simply not there, 404); anything else is a malformed request.
    let n: i64 = n.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
        ApiError::bad_parameter("n", format!("Số thứ tự tệp không hợp lệ: \"{n}\""))
    })?;
    let record = public_record(&state, id).await?;
    let attachment = state
        .store
        .attachments(record.id)
        .await?
        .into_iter()
        .find(|a| i64::from(a.position) == n)
        .ok_or_else(ApiError::not_found)?;
    let file = crate::store::StoredFile {
        blob_key: attachment.sha256.clone(),
        sha256: attachment.sha256,
        size: attachment.size,
        media_type: attachment.media_type,
        original_name: Some(attachment.filename.clone()),
    };
    file_response(&state, &headers, file, &attachment.filename)
}

/// A stored file as an answer: ETag (its SHA-256), `If-None-Match`, single byte ranges,
/// a download name.
fn file_response(
    state: &AppState,
    headers: &HeaderMap,
    file: crate::store::StoredFile,
    name: &str,
) -> Result<Response, ApiError> {
    let etag = format!("\"{}\"", file.sha256);
    let common = [
        (
            header::ETAG,
            HeaderValue::from_str(&etag).expect("hex etag"),
        ),
        (
            header::CONTENT_TYPE,
            HeaderValue::from_str(&file.media_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        ),
        (
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&content_disposition(name)).expect("ASCII header"),
        ),
        (header::ACCEPT_RANGES, HeaderValue::from_static("bytes")),
        // The bytes behind a sha256 never change, but the record may be withdrawn:
        // caches keep the file and revalidate it on every use (a 304 while the record is
        // public, a 404 once it is not), so a withdrawn file stops being served at once.
        (header::CACHE_CONTROL, HeaderValue::from_static(FILE_CACHE)),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let bytes = state
        .blobs
        .read(&file.blob_key)
        .map_err(ApiError::internal)?;
    let len = bytes.len() as u64;
    match byte_range(headers, len) {
        Some(Ok((start, end))) => {
            let part = bytes[start as usize..=end as usize].to_vec();
            Ok((
                StatusCode::PARTIAL_CONTENT,
                common,
                [(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")).expect("ascii"),
                )],
                Body::from(part),
            )
                .into_response())
        }
        Some(Err(())) => Ok((
            StatusCode::RANGE_NOT_SATISFIABLE,
            [(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{len}")).expect("ascii"),
            )],
        )
            .into_response()),
        None => Ok((StatusCode::OK, common, Body::from(bytes)).into_response()),
    }
}

async fn openapi() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
}
