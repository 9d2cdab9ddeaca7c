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
use axum::routing::{any, get, post};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{ApiError, Params, SharedState, parse_id};
use crate::domain::Action;
use crate::store::{Actor, PackageState, Resolution, Status, StoreError};

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/api/v1/admin/sync-runs", get(sync_runs))
        .route("/api/v1/admin/sync-runs/{id}", get(sync_run))
        .route("/api/v1/admin/sync-packages", get(sync_packages))
        .route("/api/v1/admin/review-queue", get(review_queue))
        .route("/api/v1/admin/documents/{id}", get(document).patch(correct))
        .route("/api/v1/admin/documents/{id}/actions", post(act))
        .route("/api/v1/admin/documents/bulk", post(bulk))
        .route("/api/v1/admin/holds/{id}/resolve", post(resolve_hold))
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

    /// The name written in the audit trail for this token's writes.
    fn actor_name(&self) -> String {
        format!("admin-token:{}", self.name)
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
    let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
    let mut holds = state.store.current_holds_of(&ids).await?;
    let mut items = Vec::with_capacity(records.len());
    for r in records {
        let reason = status_reason(&state, r.id).await;
        let holds = holds.remove(&r.id).unwrap_or_default();
        items.push(json!({
            "id": r.id, "unit_code": r.unit_code, "source": r.source, "source_ref": r.source_ref,
            "doc_type": r.fields.doc_type, "number_symbol": r.fields.number_symbol,
            "issuer": r.fields.issuer, "issued_date": r.fields.issued_date,
            "abstract": r.fields.abstract_text, "secrecy": r.fields.secrecy,
            "reason": reason, "holds": holds, "updated_at": r.updated_at,
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
    let (warnings, audit, versions, holds) = tokio::join!(
        state.store.warnings(id),
        state.store.audit_trail(id),
        state.store.versions(id),
        state.store.holds(id)
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
        "holds": holds?,
    }))
}

// ---------------------------------------------------------------------------------------
// Writes: the same actions as the desk, for machine clients. Bodies are JSON; refusals
// are JSON errors like every admin answer (409 for a refusal of the publication rule or a
// conflict, 422 for invalid input).

/// A store error of a write as the admin API answers it.
fn write_error(e: StoreError) -> Refusal {
    let (status, code) = match &e {
        StoreError::NotFound(_) => return ApiError::not_found().into(),
        StoreError::HoldNotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        StoreError::Refused(crate::domain::Refusal::ReasonRequired(_)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, "reason_required")
        }
        StoreError::Refused(_) => (StatusCode::CONFLICT, "refused"),
        StoreError::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
        _ => return Refusal::Api(e.into()),
    };
    Refusal::Api(ApiError {
        status,
        code,
        message: e.to_string(),
        parameter: None,
    })
}

fn unprocessable(message: impl Into<String>) -> Refusal {
    Refusal::Api(ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_body",
        message: message.into(),
        parameter: None,
    })
}

/// A JSON body of type `T` (an unknown field, a wrong type or no JSON: 422).
fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(bytes)
        .map_err(|e| unprocessable(format!("Nội dung JSON không hợp lệ: {e}")))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    action: String,
    #[serde(default)]
    reason: String,
}

fn parse_action(name: &str) -> Result<Action, Refusal> {
    Action::parse(name).ok_or_else(|| {
        unprocessable(format!(
            "Thao tác \"{name}\" không có; dùng một trong: publish, withhold, reject, withdraw, return"
        ))
    })
}

/// `POST /api/v1/admin/documents/{id}/actions` `{action, reason}`.
async fn act(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: axum::body::Bytes,
) -> AdminResult {
    let p = principal(&state, &headers)?;
    let id = parse_id(&id)?;
    let req: ActionBody = body(&bytes)?;
    let action = parse_action(&req.action)?;
    let name = p.actor_name();
    let units = p.unit.clone().map(|u| vec![u]);
    let status = state
        .store
        .act(id, action, Actor::new(&name, units.as_deref()), &req.reason)
        .await
        .map_err(write_error)?;
    state.changes.notify_one();
    private(json!({"id": id, "status": status, "action": action}))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkBody {
    action: String,
    ids: Vec<i64>,
    #[serde(default)]
    reason: String,
}

/// The most records one bulk request may name.
const MAX_BULK: usize = 500;

/// `POST /api/v1/admin/documents/bulk` `{action, ids, reason}`: each item reported.
async fn bulk(
    State(state): State<SharedState>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> AdminResult {
    let p = principal(&state, &headers)?;
    let req: BulkBody = body(&bytes)?;
    let action = parse_action(&req.action)?;
    if req.ids.is_empty() || req.ids.len() > MAX_BULK {
        return Err(unprocessable(format!(
            "Cần từ 1 đến {MAX_BULK} văn bản (ids)"
        )));
    }
    let name = p.actor_name();
    let units = p.unit.clone().map(|u| vec![u]);
    let items = state
        .store
        .bulk(
            &req.ids,
            action,
            Actor::new(&name, units.as_deref()),
            &req.reason,
        )
        .await;
    state.changes.notify_one();
    let done = items.iter().filter(|i| i.ok).count();
    private(json!({"action": action, "done": done, "refused": items.len() - done, "items": items}))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CorrectBody {
    doc_type: Option<String>,
    number_symbol: Option<String>,
    issuer: Option<String>,
    issued_date: Option<String>,
    effective_date: Option<String>,
    #[serde(rename = "abstract")]
    abstract_text: Option<String>,
    signer_name: Option<String>,
    signer_title: Option<String>,
    #[serde(default)]
    reason: String,
}

impl CorrectBody {
    fn input(&self) -> crate::desk::validate::Input {
        crate::desk::validate::Input {
            doc_type: self.doc_type.clone(),
            number_symbol: self.number_symbol.clone(),
            issuer: self.issuer.clone(),
            issued_date: self.issued_date.clone(),
            effective_date: self.effective_date.clone(),
            abstract_text: self.abstract_text.clone(),
            signer_name: self.signer_name.clone(),
            signer_title: self.signer_title.clone(),
        }
    }
}

/// `PATCH /api/v1/admin/documents/{id}`: corrections of fields (absent: unchanged; empty
/// string: cleared, refused for required fields). 422 lists every refused field.
async fn correct(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: axum::body::Bytes,
) -> AdminResult {
    let p = principal(&state, &headers)?;
    let id = parse_id(&id)?;
    let req: CorrectBody = body(&bytes)?;
    let record = state.store.get_document(id).await?;
    if !p.sees(&record.unit_code) {
        return Err(ApiError::not_found().into());
    }
    let corrections = match crate::desk::validate::validate(
        &record.fields,
        &req.input(),
        state.types,
    ) {
        Ok(c) => c,
        Err(errors) => {
            let body = json!({"error": {
                "code": "invalid_fields",
                "message": errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; "),
                "fields": errors,
            }});
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response());
        }
    };
    let name = p.actor_name();
    let units = p.unit.clone().map(|u| vec![u]);
    let changed = state
        .store
        .correct(
            id,
            &corrections,
            Actor::new(&name, units.as_deref()),
            &req.reason,
        )
        .await
        .map_err(write_error)?;
    state.changes.notify_one();
    let record = state.store.get_document(id).await?;
    private(json!({"changed": changed, "record": record}))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveBody {
    resolution: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/admin/holds/{id}/resolve` `{resolution: confirm|dismiss, note}`.
async fn resolve_hold(
    State(state): State<SharedState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: axum::body::Bytes,
) -> AdminResult {
    let p = principal(&state, &headers)?;
    let id = parse_id(&id)?;
    let req: ResolveBody = body(&bytes)?;
    let resolution = Resolution::parse(&req.resolution)
        .ok_or_else(|| unprocessable("resolution phải là \"confirm\" hoặc \"dismiss\""))?;
    let name = p.actor_name();
    let units = p.unit.clone().map(|u| vec![u]);
    let document_id = state
        .store
        .resolve_hold(
            id,
            resolution,
            Actor::new(&name, units.as_deref()),
            &req.note,
        )
        .await
        .map_err(write_error)?;
    let hold = state.store.hold(id).await?;
    private(json!({"document_id": document_id, "hold": hold}))
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
