//! `/api/v1/admin`: what operators and clerks need that the public must not see — sync
//! runs, packages that failed or wait for a person, the review queue, and whole records
//! (any status) with their audit trail and versions.
//!
//! Authentication: `Authorization: Bearer <token>`. The configuration keeps only each
//! token's SHA-256 (`admin.tokens = ["name:scope:sha256"]`), so a leaked configuration
//! file leaks no credential. A token scoped to an organ code sees that unit only; sync
//! operations need scope `*`.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{ApiError, Params, SharedState, parse_id};
use crate::store::{PackageState, Status};

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/api/v1/admin/sync-runs", get(sync_runs))
        .route("/api/v1/admin/sync-runs/{id}", get(sync_run))
        .route("/api/v1/admin/sync-packages", get(sync_packages))
        .route("/api/v1/admin/review-queue", get(review_queue))
        .route("/api/v1/admin/documents/{id}", get(document))
        // Unknown admin paths answer here, so that they too carry `no-store`.
        .route("/api/v1/admin", any(unknown))
        .route("/api/v1/admin/{*rest}", any(unknown))
        // Every admin answer — 401, 403, 404, 400 and 405 included — is private.
        .layer(axum::middleware::map_response(no_store))
}

async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn unknown() -> Response {
    ApiError {
        status: StatusCode::NOT_FOUND,
        code: "not_found",
        message: "Không có đường dẫn quản trị này".into(),
        parameter: None,
    }
    .into_response()
}

/// Who is calling, and which units they may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    /// `None`: every unit.
    pub unit: Option<String>,
}

impl Principal {
    fn sees(&self, unit: &str) -> bool {
        self.unit.as_deref().is_none_or(|u| u == unit)
    }
}

/// `name:scope:sha256hex` entries → the principal whose token hashes to one of them.
pub fn authenticate(tokens: &[String], headers: &HeaderMap) -> Option<Principal> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        // The scheme is case-insensitive (RFC 9110 §11.1): "bearer", "BEARER".
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())?;
    let digest = hex::encode(Sha256::digest(presented.as_bytes()));
    tokens.iter().find_map(|entry| {
        let mut parts = entry.splitn(3, ':');
        let (name, scope, hash) = (parts.next()?, parts.next()?, parts.next()?);
        (hash.trim().eq_ignore_ascii_case(&digest)).then(|| Principal {
            name: name.to_string(),
            unit: (scope != "*").then(|| scope.to_string()),
        })
    })
}

/// A configuration entry and the token it stands for (`vanban admin token`).
pub fn new_token(name: &str, scope: &str) -> (String, String) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    let token = format!("vb_{}", hex::encode(bytes));
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    (token, format!("{name}:{scope}:{hash}"))
}

/// Why an admin request is refused.
enum Refusal {
    Unauthorized,
    Forbidden(String),
    Api(ApiError),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Refusal {
        Refusal::Api(e)
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(e: crate::store::StoreError) -> Refusal {
        Refusal::Api(e.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Unauthorized => {
                let mut response = ApiError {
                    status: StatusCode::UNAUTHORIZED,
                    code: "unauthorized",
                    message: "Cần mã truy cập quản trị (Authorization: Bearer …)".into(),
                    parameter: None,
                }
                .into_response();
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            }
            Refusal::Forbidden(what) => ApiError {
                status: StatusCode::FORBIDDEN,
                code: "forbidden",
                message: format!("Mã truy cập này không có quyền {what}"),
                parameter: None,
            }
            .into_response(),
            Refusal::Api(e) => e.into_response(),
        }
    }
}

type AdminResult = Result<Response, Refusal>;

/// The last page a paged admin list accepts (page × limit stays far from overflow).
const MAX_PAGE: i64 = 1_000_000;

/// Admin answers are private and never cached.
fn private(body: Value) -> AdminResult {
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(body),
    )
        .into_response())
}

fn principal(state: &SharedState, headers: &HeaderMap) -> Result<Principal, Refusal> {
    authenticate(&state.settings.admin.tokens, headers).ok_or(Refusal::Unauthorized)
}

/// Sync operations span every unit: they need scope `*`.
fn operator(state: &SharedState, headers: &HeaderMap) -> Result<Principal, Refusal> {
    let p = principal(state, headers)?;
    if p.unit.is_some() {
        return Err(Refusal::Forbidden(
            "xem nhật ký đồng bộ (cần phạm vi *)".into(),
        ));
    }
    Ok(p)
}

/// A paging parameter: absent → `default`; else a plain integer in `1..=max` as written
/// (an empty value, a sign or spaces are refused, as the published schema says).
fn bounded(
    params: &HashMap<String, String>,
    name: &'static str,
    default: i64,
    max: i64,
) -> Result<i64, Refusal> {
    match params.get(name) {
        None => Ok(default),
        Some(v) => Some(v.as_str())
            .filter(|v| !v.is_empty() && v.len() <= 18 && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::bad_parameter(name, format!("{name} phải là số nguyên từ 1 đến {max}"))
                    .into()
            }),
    }
}

fn limit(params: &HashMap<String, String>, default: i64, max: i64) -> Result<i64, Refusal> {
    bounded(params, "limit", default, max)
}

async fn sync_runs(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Params(params): Params,
) -> AdminResult {
    operator(&state, &headers)?;
    let limit = limit(&params, 50, 500)?;
    let source = params
        .get("source")
        .map(String::as_str)
        .filter(|s| !s.is_empty());
    private(json!({"runs": state.store.runs(source, limit).await?}))
}

async fn sync_run(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AdminResult {
    operator(&state, &headers)?;
    let id = parse_id(&id)?;
    match state.store.run(id).await? {
        Some(run) => private(json!(run)),
        None => Err(ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: format!("Không có lượt đồng bộ #{id}"),
            parameter: None,
        }
        .into()),
    }
}

async fn sync_packages(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Params(params): Params,
) -> AdminResult {
    operator(&state, &headers)?;
    let states = match params
        .get("state")
        .map(String::as_str)
        .unwrap_or("attention")
    {
        "attention" => vec![PackageState::NeedsAttention, PackageState::Failed],
        "needs_attention" => vec![PackageState::NeedsAttention],
        "failed" => vec![PackageState::Failed],
        "stored" => vec![PackageState::Stored],
        "acked" => vec![PackageState::Acked],
        other => {
            return Err(ApiError::bad_parameter(
                "state",
                format!("state \"{other}\" không hợp lệ (attention, needs_attention, failed, stored, acked)"),
            )
            .into());
        }
    };
    let limit = limit(&params, 100, 1000)?;
    let source = params
        .get("source")
        .map(String::as_str)
        .filter(|s| !s.is_empty());
    let mut packages = Vec::new();
    for s in states {
        packages.extend(state.store.packages_in_state(source, s, limit).await?);
    }
    private(json!({"packages": packages}))
}

/// The reason the latest status decision recorded in the audit trail.
async fn status_reason(state: &SharedState, id: i64) -> Option<String> {
    let trail = state.store.audit_trail(id).await.ok()?;
    trail.iter().rev().find_map(|e| {
        e.detail
            .get("reason")
            .and_then(Value::as_str)
            .map(str::to_string)
    })
}

async fn review_queue(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Params(params): Params,
) -> AdminResult {
    let p = principal(&state, &headers)?;
    let asked = params
        .get("unit")
        .map(String::as_str)
        .filter(|u| !u.is_empty());
    let unit = match (&p.unit, asked) {
        (Some(own), Some(asked)) if own != asked => {
            return Err(Refusal::Forbidden(format!("với đơn vị {asked}")));
        }
        (Some(own), _) => Some(own.as_str()),
        (None, asked) => asked,
    };
    let page = bounded(&params, "page", 1, MAX_PAGE)?;
    let per_page = limit(&params, 50, 200)?;
    // Bounded above, so the offset cannot overflow.
    let offset = (page - 1) * per_page;
    let (records, total) = state
        .store
        .documents_in_status(Status::NeedsReview, unit, per_page, offset)
        .await?;
    let mut items = Vec::with_capacity(records.len());
    for r in records {
        let reason = status_reason(&state, r.id).await;
        items.push(json!({
            "id": r.id, "unit_code": r.unit_code, "source": r.source, "source_ref": r.source_ref,
            "doc_type": r.fields.doc_type, "number_symbol": r.fields.number_symbol,
            "issuer": r.fields.issuer, "issued_date": r.fields.issued_date,
            "abstract": r.fields.abstract_text, "secrecy": r.fields.secrecy,
            "reason": reason, "updated_at": r.updated_at,
        }));
    }
    private(json!({"total": total, "page": page, "per_page": per_page, "items": items}))
}

async fn document(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AdminResult {
    let p = principal(&state, &headers)?;
    let id = parse_id(&id)?;
    let record = state.store.get_document(id).await?;
    if !p.sees(&record.unit_code) {
        // As for the public: another unit's record is not acknowledged to exist.
        return Err(ApiError::not_found().into());
    }
    let (warnings, audit, versions) = tokio::join!(
        state.store.warnings(id),
        state.store.audit_trail(id),
        state.store.versions(id)
    );
    let warnings: Vec<Value> = warnings?
        .into_iter()
        .map(|(code, message)| json!({"code": code, "message": message}))
        .collect();
    private(json!({
        "record": record,
        "public": crate::search::is_public(&record),
        "warnings": warnings,
        "audit": audit?,
        "versions": versions?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_by_hash_and_scope() {
        let (token, entry) = new_token("van-thu-quoc-tuan", "000.46.24.H44");
        let (ops, ops_entry) = new_token("ops", "*");
        assert_ne!(token, ops);
        let tokens = vec![entry, ops_entry];
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        let p = authenticate(&tokens, &headers).unwrap();
        assert_eq!(p.unit.as_deref(), Some("000.46.24.H44"));
        assert!(p.sees("000.46.24.H44") && !p.sees("000.47.24.H44"));
        headers.insert(
            header::AUTHORIZATION,
            format!("Bearer {ops}").parse().unwrap(),
        );
        assert_eq!(authenticate(&tokens, &headers).unwrap().unit, None);
        for scheme in ["bearer", "BEARER", "BeArEr"] {
            headers.insert(
                header::AUTHORIZATION,
                format!("{scheme}  {ops}").parse().unwrap(),
            );
            assert_eq!(
                authenticate(&tokens, &headers).unwrap().unit,
                None,
                "{scheme}"
            );
        }
        headers.insert(
            header::AUTHORIZATION,
            format!("Basic {ops}").parse().unwrap(),
        );
        assert!(authenticate(&tokens, &headers).is_none());
        headers.insert(header::AUTHORIZATION, "Bearer vb_nope".parse().unwrap());
        assert!(authenticate(&tokens, &headers).is_none());
        assert!(authenticate(&tokens, &HeaderMap::new()).is_none());
    }
}
