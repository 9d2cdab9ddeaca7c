//! The desk's write actions (forms posted from the document view and the queue): publish,
//! withhold, reject, withdraw, return to review; the correction form; a clerk's decision
//! on a hold; merge a duplicate or keep both; bulk actions on a selection.
//!
//! Every POST needs a live session (401 otherwise), the CSRF token (403), an account that
//! may write the record's unit (a viewer: 403; another unit's record: 404, as if missing).
//! Done: 303 back to the document with a flash message. Refused by the registry's rules:
//! the reason in Vietnamese, 409 (or 422 for invalid input). Answers are `no-store`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use crate::auth::form::FormData;
use crate::auth::{DeskError, DeskUser};
use crate::desk::layout::{FlashKind, redirect_with_flash};
use crate::desk::validate::{self, FieldError, Input};
use crate::domain::Action;
use crate::store::{Actor, Corrections, DocumentRecord, Resolution, StoreError};
use crate::web::SharedState;
use crate::web::html::escape;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/desk/documents/{id}/publish", post(publish))
        .route("/desk/documents/{id}/withhold", post(withhold))
        .route("/desk/documents/{id}/reject", post(reject))
        .route("/desk/documents/{id}/withdraw", post(withdraw))
        .route("/desk/documents/{id}/return", post(return_to_review))
        .route(
            "/desk/documents/{id}/correct",
            get(correct_form).post(correct),
        )
        .route(
            "/desk/documents/{id}/holds/{hold_id}/{decision}",
            post(resolve_hold),
        )
        .route("/desk/documents/{id}/merge", post(merge))
        .route("/desk/documents/{id}/keep-both", post(keep_both))
        .route("/desk/queue/bulk", post(bulk))
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// 303 to `location`, with `message` as the flash shown there.
fn done(location: &str, message: &str) -> Response {
    no_store(redirect_with_flash(location, FlashKind::Ok, message))
}

/// A page of the desk, in the desk's frame.
fn desk_page(user: &DeskUser, title: &str, body: &str) -> String {
    crate::desk::layout::desk_page(user, title, body).0
}

/// The units' names, offered as issuers in the correction form (none if they cannot be read:
/// the field stays free text).
async fn issuer_names(state: &SharedState) -> Vec<String> {
    state
        .store
        .units()
        .await
        .map(|units| units.into_iter().map(|u| u.name).collect())
        .unwrap_or_default()
}

/// A refusal page: what was refused and why, with the way back.
fn refused(user: &DeskUser, status: StatusCode, id: Option<i64>, message: &str) -> Response {
    let back = match id {
        Some(id) => format!("<p><a href=\"/desk/documents/{id}\">Về văn bản #{id}</a></p>"),
        None => "<p><a href=\"/desk/queue\">Về hàng chờ xem xét</a></p>".into(),
    };
    let body = format!(
        "<h1>Không thực hiện được</h1>\n<p role=\"alert\">{}</p>\n{back}",
        escape(message)
    );
    no_store((status, Html(desk_page(user, "Không thực hiện được", &body))).into_response())
}

/// A store error of an action as the desk answers it: a registry rule's refusal is a 409
/// page (422 for a missing reason), a record outside the account's units is not found.
fn store_error(user: &DeskUser, id: Option<i64>, e: StoreError) -> Response {
    match e {
        StoreError::Refused(crate::domain::Refusal::ReasonRequired(_)) => {
            refused(user, StatusCode::UNPROCESSABLE_ENTITY, id, &e.to_string())
        }
        StoreError::Refused(_) | StoreError::Conflict { .. } => {
            refused(user, StatusCode::CONFLICT, id, &e.to_string())
        }
        StoreError::HoldNotFound(_) => {
            DeskError::NotFound("Không tìm thấy lý do giữ lại này.".into()).into_response()
        }
        other => DeskError::from(other).into_response(),
    }
}

fn parse_id(raw: &str) -> Result<i64, DeskError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| DeskError::NotFound("Không tìm thấy văn bản.".into()))
}

/// The record `id` if the account may change it: another unit's record is not found, a
/// viewer (or a clerk of another unit who may read it) is refused.
async fn writable(
    state: &SharedState,
    user: &DeskUser,
    id: i64,
) -> Result<DocumentRecord, DeskError> {
    let record = match state.store.get_document(id).await {
        Ok(r) => r,
        Err(e) => return Err(e.into()),
    };
    if !user.can_read(&record.unit_code) {
        return Err(DeskError::NotFound(format!(
            "Không tìm thấy văn bản #{id}."
        )));
    }
    user.require_write(&record.unit_code)?;
    Ok(record)
}

/// What every action form is checked for first: its CSRF token, then the record's id.
fn checked_id(
    user: &DeskUser,
    headers: &HeaderMap,
    form: &FormData,
    raw: &str,
) -> Result<i64, DeskError> {
    user.verify_csrf_in(headers, form.csrf())?;
    parse_id(raw)
}

async fn action(
    state: SharedState,
    user: DeskUser,
    headers: HeaderMap,
    id: String,
    form: FormData,
    action: Action,
) -> Response {
    let id = match checked_id(&user, &headers, &form, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = writable(&state, &user, id).await {
        return e.into_response();
    }
    let reason = form.get("reason").unwrap_or("").trim().to_string();
    let name = user.actor();
    match state
        .store
        .act(id, action, Actor::new(&name, user.unit_scope()), &reason)
        .await
    {
        Ok(status) => {
            state.changes.notify_one();
            done(
                &format!("/desk/documents/{id}"),
                &format!("{}: văn bản #{id} nay {}", action.label(), status.label()),
            )
        }
        Err(e) => store_error(&user, Some(id), e),
    }
}

macro_rules! action_handler {
    ($name:ident, $action:expr) => {
        async fn $name(
            State(state): State<SharedState>,
            user: DeskUser,
            headers: HeaderMap,
            Path(id): Path<String>,
            form: FormData,
        ) -> Response {
            action(state, user, headers, id, form, $action).await
        }
    };
}

action_handler!(publish, Action::Publish);
action_handler!(withhold, Action::Withhold);
action_handler!(reject, Action::Reject);
action_handler!(withdraw, Action::Withdraw);
action_handler!(return_to_review, Action::Return);

/// The correction form, prefilled with `values`, each refused field's message beside it.
fn correction_page(
    state: &SharedState,
    user: &DeskUser,
    record: &DocumentRecord,
    values: &Input,
    errors: &[FieldError],
    notice: Option<&str>,
    issuers: &[String],
) -> String {
    let id = record.id;
    let error_of = |field: &str| {
        errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| {
                format!(
                    "<p class=\"field-error\" id=\"{field}-error\" role=\"alert\">{}</p>",
                    escape(&e.message)
                )
            })
            .collect::<String>()
    };
    let invalid = |field: &str| {
        if errors.iter().any(|e| e.field == field) {
            format!(" aria-invalid=\"true\" aria-describedby=\"{field}-error\"")
        } else {
            String::new()
        }
    };
    let text = |field: &'static str, label: &str, value: &Option<String>, required: bool| {
        format!(
            "<p><label for=\"{field}\">{label}{star}</label><br>\
             <input type=\"text\" id=\"{field}\" name=\"{field}\" value=\"{value}\"{req}{inv} size=\"60\"></p>{err}",
            star = if required { " *" } else { "" },
            value = escape(value.as_deref().unwrap_or("")),
            req = if required { " required" } else { "" },
            inv = invalid(field),
            err = error_of(field),
        )
    };
    let date = |field: &'static str, label: &str, value: &Option<String>, required: bool| {
        format!(
            "<p><label for=\"{field}\">{label}{star}</label><br>\
             <input type=\"date\" id=\"{field}\" name=\"{field}\" value=\"{value}\"{req}{inv}></p>{err}",
            star = if required { " *" } else { "" },
            value = escape(value.as_deref().unwrap_or("")),
            req = if required { " required" } else { "" },
            inv = invalid(field),
            err = error_of(field),
        )
    };
    let current_type = values.doc_type.as_deref().unwrap_or("");
    let mut options = String::from("<option value=\"\">— chọn loại văn bản —</option>");
    for t in &state.types.types {
        let selected = if t.name == current_type {
            " selected"
        } else {
            ""
        };
        let code = t
            .code
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        options.push_str(&format!(
            "<option value=\"{v}\"{selected}>{v}{code}</option>",
            v = escape(&t.name),
            code = escape(&code),
        ));
    }
    let notice = notice
        .map(|n| format!("<p role=\"alert\" class=\"notice\">{}</p>", escape(n)))
        .unwrap_or_default();
    let summary = if errors.is_empty() {
        String::new()
    } else {
        format!(
            "<p role=\"alert\">Có {} trường chưa hợp lệ: xem thông báo bên cạnh từng trường.</p>",
            errors.len()
        )
    };
    let abstract_value = escape(values.abstract_text.as_deref().unwrap_or(""));
    // The units' names are offered; any other issuing body may be typed.
    let issuer_field = format!(
        "{}<datalist id=\"issuers\">{}</datalist>",
        text(
            "issuer",
            "Cơ quan ban hành (chọn đơn vị hoặc gõ tên cơ quan)",
            &values.issuer,
            true
        )
        .replace(" size=\"60\">", " size=\"60\" list=\"issuers\">"),
        issuers
            .iter()
            .map(|name| format!("<option value=\"{}\">", escape(name)))
            .collect::<String>()
    );
    format!(
        "<h1>Sửa thông tin văn bản #{id}</h1>{notice}{summary}\
         <form method=\"post\" action=\"/desk/documents/{id}/correct\" novalidate>\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <p><label for=\"doc_type\">Loại văn bản *</label><br>\
         <select id=\"doc_type\" name=\"doc_type\" required{type_invalid}>{options}</select></p>{type_error}\
         {number_symbol}{issuer}{issued}{effective}\
         <p><label for=\"abstract\">Trích yếu *</label><br>\
         <textarea id=\"abstract\" name=\"abstract\" rows=\"4\" cols=\"60\" required{abstract_invalid}>{abstract_value}</textarea></p>{abstract_error}\
         {signer_name}{signer_title}\
         <p><label for=\"reason\">Lý do sửa</label><br>\
         <input type=\"text\" id=\"reason\" name=\"reason\" size=\"60\"></p>\
         <p><button type=\"submit\">Lưu thay đổi</button> \
         <a href=\"/desk/documents/{id}\">Huỷ</a></p></form>",
        csrf = escape(&user.csrf_token),
        type_invalid = invalid("doc_type"),
        type_error = error_of("doc_type"),
        number_symbol = text(
            "number_symbol",
            "Số ký hiệu (ví dụ 12/2024/QĐ-UBND)",
            &values.number_symbol,
            true
        ),
        issuer = issuer_field,
        issued = date("issued_date", "Ngày ban hành", &values.issued_date, true),
        effective = date(
            "effective_date",
            "Ngày có hiệu lực",
            &values.effective_date,
            false
        ),
        abstract_invalid = invalid("abstract"),
        abstract_error = error_of("abstract"),
        signer_name = text("signer_name", "Người ký", &values.signer_name, false),
        signer_title = text(
            "signer_title",
            "Chức vụ người ký",
            &values.signer_title,
            false
        ),
    )
}

/// The record's values as the form shows them.
fn input_of(record: &DocumentRecord) -> Input {
    let f = &record.fields;
    Input {
        doc_type: f.doc_type.clone(),
        number_symbol: f.number_symbol.clone(),
        issuer: f.issuer.clone(),
        issued_date: f.issued_date.map(|d| d.to_string()),
        effective_date: f.effective_date.map(|d| d.to_string()),
        abstract_text: f.abstract_text.clone(),
        signer_name: f.signer_name.clone(),
        signer_title: f.signer_title.clone(),
    }
}

async fn correct_form(
    State(state): State<SharedState>,
    user: DeskUser,
    Path(id): Path<String>,
) -> Response {
    let record = match parse_id(&id) {
        Ok(id) => writable(&state, &user, id).await,
        Err(e) => Err(e),
    };
    match record {
        Ok(record) => {
            let issuers = issuer_names(&state).await;
            let body = correction_page(
                &state,
                &user,
                &record,
                &input_of(&record),
                &[],
                None,
                &issuers,
            );
            no_store(Html(desk_page(&user, "Sửa thông tin văn bản", &body)).into_response())
        }
        Err(e) => e.into_response(),
    }
}

async fn correct(
    State(state): State<SharedState>,
    user: DeskUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    if let Err(e) = user.verify_csrf_in(&headers, form.csrf()) {
        return e.into_response();
    }
    let record = match parse_id(&id) {
        Ok(id) => writable(&state, &user, id).await,
        Err(e) => Err(e),
    };
    let record = match record {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let id = record.id;
    let issuers = issuer_names(&state).await;
    let field = |name: &str| form.get(name).map(str::to_string);
    let input = Input {
        doc_type: field("doc_type"),
        number_symbol: field("number_symbol"),
        issuer: field("issuer"),
        issued_date: field("issued_date"),
        effective_date: field("effective_date"),
        abstract_text: field("abstract"),
        signer_name: field("signer_name"),
        signer_title: field("signer_title"),
    };
    let page = |status: StatusCode, errors: &[FieldError], notice: Option<&str>| {
        let body = correction_page(&state, &user, &record, &input, errors, notice, &issuers);
        no_store(
            (
                status,
                Html(desk_page(&user, "Sửa thông tin văn bản", &body)),
            )
                .into_response(),
        )
    };
    let corrections: Corrections = match validate::validate(&record.fields, &input, state.types) {
        Ok(c) => c,
        Err(errors) => return page(StatusCode::UNPROCESSABLE_ENTITY, &errors, None),
    };
    let reason = form.get("reason").unwrap_or("").trim().to_string();
    let name = user.actor();
    match state
        .store
        .correct(
            id,
            &corrections,
            Actor::new(&name, user.unit_scope()),
            &reason,
        )
        .await
    {
        Ok(changed) => {
            state.changes.notify_one();
            let message = if changed.is_empty() {
                "Không có thay đổi nào".to_string()
            } else {
                format!("Đã sửa {} trường của văn bản #{id}", changed.len())
            };
            done(&format!("/desk/documents/{id}"), &message)
        }
        Err(e @ (StoreError::Refused(_) | StoreError::Conflict { .. })) => {
            page(StatusCode::CONFLICT, &[], Some(&e.to_string()))
        }
        Err(e) => store_error(&user, Some(id), e),
    }
}

async fn resolve_hold(
    State(state): State<SharedState>,
    user: DeskUser,
    headers: HeaderMap,
    Path((id, hold_id, decision)): Path<(String, String, String)>,
    form: FormData,
) -> Response {
    if let Err(e) = user.verify_csrf_in(&headers, form.csrf()) {
        return e.into_response();
    }
    let Some(resolution) = Resolution::parse(&decision) else {
        return DeskError::NotFound("Không có thao tác này.".into()).into_response();
    };
    let (id, hold_id) = match (parse_id(&id), parse_id(&hold_id)) {
        (Ok(a), Ok(b)) => (a, b),
        _ => {
            return DeskError::NotFound("Không tìm thấy lý do giữ lại này.".into()).into_response();
        }
    };
    if let Err(e) = writable(&state, &user, id).await {
        return e.into_response();
    }
    // The hold must be this record's.
    match state.store.hold(hold_id).await {
        Ok(h) if h.document_id == id => {}
        Ok(_) | Err(StoreError::HoldNotFound(_)) => {
            return DeskError::NotFound("Không tìm thấy lý do giữ lại này.".into()).into_response();
        }
        Err(e) => return DeskError::from(e).into_response(),
    }
    // The desk's forms name it `reason`, like every other action's.
    let note = form
        .get("reason")
        .or_else(|| form.get("note"))
        .unwrap_or("")
        .trim()
        .to_string();
    let name = user.actor();
    match state
        .store
        .resolve_hold(
            hold_id,
            resolution,
            Actor::new(&name, user.unit_scope()),
            &note,
        )
        .await
    {
        Ok(_) => {
            let what = match resolution {
                Resolution::Confirm => "Đã xác nhận lý do giữ lại",
                Resolution::Dismiss => "Đã bỏ qua lý do giữ lại",
            };
            done(&format!("/desk/documents/{id}"), what)
        }
        Err(e) => store_error(&user, Some(id), e),
    }
}

/// The other record named in a form field (`into`, `other`): "12" or "#12".
fn other_id(form: &FormData, name: &str) -> Option<i64> {
    form.text(name)
        .map(|v| v.trim_start_matches('#'))
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| *v > 0)
}

async fn merge(
    State(state): State<SharedState>,
    user: DeskUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    let id = match checked_id(&user, &headers, &form, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let Some(into) = other_id(&form, "into") else {
        return refused(
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(id),
            "Cần chọn văn bản để gộp vào (into)",
        );
    };
    for record in [id, into] {
        if let Err(e) = writable(&state, &user, record).await {
            return e.into_response();
        }
    }
    let reason = form.get("reason").unwrap_or("").trim().to_string();
    let name = user.actor();
    match state
        .store
        .merge(id, into, Actor::new(&name, user.unit_scope()), &reason)
        .await
    {
        Ok(()) => {
            state.changes.notify_one();
            done(
                &format!("/desk/documents/{into}"),
                &format!("Đã gộp văn bản #{id} (bản trùng) vào văn bản này"),
            )
        }
        Err(e) => store_error(&user, Some(id), e),
    }
}

async fn keep_both(
    State(state): State<SharedState>,
    user: DeskUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    let id = match checked_id(&user, &headers, &form, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let Some(other) = other_id(&form, "other") else {
        return refused(
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(id),
            "Cần chọn văn bản trùng số ký hiệu (other)",
        );
    };
    for record in [id, other] {
        if let Err(e) = writable(&state, &user, record).await {
            return e.into_response();
        }
    }
    let reason = form.get("reason").unwrap_or("").trim().to_string();
    let name = user.actor();
    match state
        .store
        .keep_both(id, other, Actor::new(&name, user.unit_scope()), &reason)
        .await
    {
        Ok(_) => done(
            &format!("/desk/documents/{id}"),
            &format!("Giữ cả hai văn bản #{id} và #{other}"),
        ),
        Err(e) => store_error(&user, Some(id), e),
    }
}

/// The most records one bulk form may name.
const MAX_BULK: usize = 500;

/// `POST /desk/queue/bulk`: `action` and repeated `id` (and `reason`); a page listing what
/// was done and what was refused, item by item.
async fn bulk(
    State(state): State<SharedState>,
    user: DeskUser,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    if let Err(e) = user.verify_csrf_in(&headers, form.csrf()) {
        return e.into_response();
    }
    if user.role == crate::auth::Role::Viewer {
        return DeskError::Forbidden("Tài khoản chỉ xem không được thay đổi văn bản.".into())
            .into_response();
    }
    let Some(action) = form.text("action").and_then(Action::parse) else {
        return refused(
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            "Chọn một thao tác cho các văn bản đã chọn",
        );
    };
    let ids: Vec<i64> = form
        .all("id")
        .iter()
        .filter_map(|v| v.trim().parse::<i64>().ok())
        .collect();
    if ids.is_empty() || ids.len() > MAX_BULK {
        return refused(
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            &format!("Chọn từ 1 đến {MAX_BULK} văn bản"),
        );
    }
    let reason = form.get("reason").unwrap_or("").trim().to_string();
    let name = user.actor();
    // Clerks act within their units: the store does not find another unit's records.
    let items = state
        .store
        .bulk(&ids, action, Actor::new(&name, user.unit_scope()), &reason)
        .await;
    state.changes.notify_one();
    let done_count = items.iter().filter(|i| i.ok).count();
    let mut rows = String::new();
    for item in &items {
        let result = if item.ok {
            format!(
                "Đã thực hiện — nay {}",
                item.status.map(|s| s.label()).unwrap_or("")
            )
        } else {
            format!("Bị từ chối: {}", item.message)
        };
        rows.push_str(&format!(
            "<tr><td><a href=\"/desk/documents/{id}\">#{id}</a></td><td>{}</td></tr>",
            escape(&result),
            id = item.id,
        ));
    }
    let body = format!(
        "<h1>{label}: {done_count}/{total} văn bản</h1>\
         <p role=\"status\">{summary}</p>\
         <table><thead><tr><th scope=\"col\">Văn bản</th><th scope=\"col\">Kết quả</th></tr></thead>\
         <tbody>{rows}</tbody></table>\
         <p><a href=\"/desk/queue\">Về hàng chờ xem xét</a></p>",
        label = escape(action.label()),
        total = items.len(),
        summary = escape(&format!(
            "Đã thực hiện {done_count} văn bản; {} văn bản bị từ chối.",
            items.len() - done_count
        )),
    );
    no_store(Html(desk_page(&user, "Kết quả thao tác hàng loạt", &body)).into_response())
}
