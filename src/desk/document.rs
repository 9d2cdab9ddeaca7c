//! A record at the desk, `GET /desk/documents/{id}`: the original file in the browser's
//! own viewer beside the extracted fields (each with its confidence and the line it was
//! read from), the reasons it is held, the signature verdict, its further files, records
//! it may duplicate (merge or keep both), the actions the account may take now, and the
//! record's history. `GET /desk/documents/{id}/file` serves the original inline, and
//! `…/attachments/{n}` a further file, to accounts that can read the record's unit.
//!
//! Every form here posts to the actions' routes (`/desk/documents/{id}/publish` …); an
//! action form is shown only to an account that can write in the record's unit, and only
//! when `domain::check_transition` allows the change now.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use super::layout::{desk_page_at, source_label, vn_time};
use crate::auth::{DeskError, DeskUser};
use crate::domain::{Action, HoldCode, HoldState, RecordFacts, Refusal, Status, check_transition};
use crate::store::{AuditEntry, DocumentRecord, DuplicateKind, HoldRecord, StoredFile};
use crate::web::html::{escape, vn_date};
use crate::web::{SharedState, display_title, signatures_of};

/// The answer for a missing record and for one the account may not read.
const NOT_FOUND: &str = "Không tìm thấy văn bản";

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/desk/documents/{id}", get(view))
        .route("/desk/documents/{id}/file", get(file))
        .route("/desk/documents/{id}/attachments/{n}", get(attachment))
}

/// The record `id` if `user` may read its unit; otherwise not found (the same answer as
/// for a missing id, so another unit's records are not revealed).
pub async fn readable_record(
    state: &SharedState,
    user: &DeskUser,
    id: &str,
) -> Result<DocumentRecord, DeskError> {
    let id: i64 = id
        .parse()
        .map_err(|_| DeskError::NotFound(NOT_FOUND.into()))?;
    let record = match state.store.get_document(id).await {
        Ok(r) => r,
        Err(crate::store::StoreError::NotFound(_)) => {
            return Err(DeskError::NotFound(NOT_FOUND.into()));
        }
        Err(e) => return Err(e.into()),
    };
    if !user.can_read(&record.unit_code) {
        return Err(DeskError::NotFound(NOT_FOUND.into()));
    }
    Ok(record)
}

async fn view(
    State(state): State<SharedState>,
    user: DeskUser,
    Path(id): Path<String>,
) -> Result<Response, DeskError> {
    let record = readable_record(&state, &user, &id).await?;
    let body = render(&state, &user, &record).await?;
    let title = display_title(
        record.fields.doc_type.as_deref(),
        record.fields.number_symbol.as_deref(),
        record.id,
    );
    let path = format!("/desk/documents/{}", record.id);
    Ok(desk_page_at(&user, &title, &path, &body).into_response())
}

/// The confirmation a destructive action asks for first (with JavaScript).
fn confirmation(action: Action) -> Option<&'static str> {
    match action {
        Action::Publish => Some("Công khai văn bản này trên trang thông tin điện tử?"),
        Action::Reject => Some("Loại văn bản này?"),
        Action::Withdraw => {
            Some("Thu hồi văn bản khỏi trang công khai? Lý do sẽ được hiển thị công khai.")
        }
        Action::Withhold | Action::Return => None,
    }
}

/// The extracted fields as shown: (label, value, key in `field_evidence`).
fn field_rows(record: &DocumentRecord) -> Vec<(&'static str, String, Option<&'static str>)> {
    let f = &record.fields;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        ("Loại văn bản", text(&f.doc_type), Some("doc_type")),
        ("Số", text(&f.number), Some("number")),
        ("Ký hiệu", text(&f.symbol), Some("symbol")),
        ("Cơ quan ban hành", text(&f.issuer), Some("issuer")),
        ("Cơ quan chủ quản", text(&f.issuer_parent), None),
        ("Địa danh", text(&f.place), Some("place")),
        (
            "Ngày ban hành",
            f.issued_date.map(|d| vn_date(Some(d))).unwrap_or_default(),
            Some("issued_date"),
        ),
        (
            "Ngày hiệu lực",
            f.effective_date
                .map(|d| vn_date(Some(d)))
                .unwrap_or_default(),
            Some("effective_date"),
        ),
        ("Trích yếu", text(&f.abstract_text), Some("abstract")),
        ("Người ký", text(&f.signer_name), Some("signer_name")),
        (
            "Chức vụ người ký",
            text(&f.signer_title),
            Some("signer_title"),
        ),
        (
            "Thẩm quyền ký",
            text(&f.signing_authority),
            Some("signing_authority"),
        ),
        ("Nơi nhận", f.recipients.join("; "), Some("recipients")),
        ("Độ mật", text(&f.secrecy), None),
        ("Độ khẩn", text(&f.urgency), None),
        (
            "Lưu hành nội bộ",
            if f.internal_circulation {
                "Có"
            } else {
                "Không"
            }
            .into(),
            None,
        ),
    ]
}

/// Confidence and evidence line of one field, from `documents.field_evidence`
/// (`extract::Extraction::to_json`'s `fields`: `{"confidence": f, "evidence": {page,
/// line, text} | null}`).
fn evidence_html(evidence: &Value, key: &str) -> String {
    let Some(entry) = evidence.get(key) else {
        return String::new();
    };
    let mut out = String::new();
    if let Some(c) = entry.get("confidence").and_then(Value::as_f64) {
        let class = if c < 0.6 {
            "conf low"
        } else if c < 0.85 {
            "conf mid"
        } else {
            "conf"
        };
        out.push_str(&format!(
            r#"<span class="{class}" title="Độ tin cậy khi trích xuất">{}%</span>"#,
            (c * 100.0).round() as i64
        ));
    }
    if let Some(ev) = entry.get("evidence").filter(|e| e.is_object()) {
        let text = ev.get("text").and_then(Value::as_str).unwrap_or("");
        let page = ev.get("page").and_then(Value::as_u64);
        let place = page.map(|p| format!("trang {p}: ")).unwrap_or_default();
        if !text.is_empty() {
            out.push_str(&format!(
                r#"<span class="evidence">{}«{}»</span>"#,
                escape(&place),
                escape(text)
            ));
        }
    }
    out
}

/// The page body for a record `user` may read.
pub async fn render(
    state: &SharedState,
    user: &DeskUser,
    record: &DocumentRecord,
) -> Result<String, DeskError> {
    let id = record.id;
    let store = &state.store;
    let (file, warnings, attachments, duplicates, trail, holds) = tokio::try_join!(
        store.file(&record.file_sha256),
        store.warnings(id),
        store.attachments(id),
        store.desk_duplicates(id),
        store.audit_trail(id),
        store.holds(id),
    )?;
    let can_write = user.can_write(&record.unit_code);
    let title = display_title(
        record.fields.doc_type.as_deref(),
        record.fields.number_symbol.as_deref(),
        id,
    );
    let mut out = String::new();
    out.push_str(&format!(
        r#"<p class="muted"><a href="/desk/queue">← Hàng chờ xem xét</a></p><h1>{} <span class="muted">#{id}</span></h1>"#,
        escape(&title)
    ));
    out.push_str(&format!(
        r#"<p>Trạng thái: <span class="status status-{}">{}</span> · Đơn vị {} · Nguồn: {} · Lưu lúc {} · Phiên bản {}</p>"#,
        record.status.as_str(),
        escape(record.status.label()),
        escape(&record.unit_code),
        escape(&source_label(&record.source)),
        escape(&vn_time(record.created_at)),
        record.version
    ));
    out.push_str(r#"<div class="doc">"#);

    // The original, in the browser's own viewer.
    out.push_str(&viewer(id, file.as_ref()));

    out.push_str("<div>");
    // Holds first: they are why the record is here.
    out.push_str(&holds_section(user, record, &holds, can_write));
    if !warnings.is_empty() {
        out.push_str(r#"<section class="card"><h2>Cảnh báo khi trích xuất</h2><ul>"#);
        for (code, message) in &warnings {
            out.push_str(&format!(
                r#"<li>{} <span class="muted">({})</span></li>"#,
                escape(message),
                escape(code)
            ));
        }
        out.push_str("</ul></section>");
    }

    out.push_str(r#"<section class="card"><h2>Thông tin trích xuất</h2><dl class="fields">"#);
    for (label, value, key) in field_rows(record) {
        let value = if value.trim().is_empty() {
            r#"<span class="muted">(không đọc được)</span>"#.to_string()
        } else {
            escape(&value)
        };
        let evidence = key
            .map(|k| evidence_html(&record.fields.field_evidence, k))
            .unwrap_or_default();
        out.push_str(&format!("<dt>{label}</dt><dd>{value}{evidence}</dd>"));
    }
    out.push_str(&format!(
        "<dt>Văn bản</dt><dd>{} trang · {}{}</dd>",
        record.fields.pages,
        escape(&text_source_label(&record.fields.text_source)),
        if record.fields.needs_ocr {
            " · cần nhận dạng chữ (OCR)"
        } else {
            ""
        }
    ));
    out.push_str("</dl>");
    if can_write {
        out.push_str(&format!(
            r#"<p><a class="button secondary" href="/desk/documents/{id}/correct">Sửa thông tin</a></p>"#
        ));
    }
    out.push_str("</section>");

    out.push_str(&signature_section(record));
    out.push_str(&attachments_section(id, &attachments));
    out.push_str(&duplicates_section(user, record, &duplicates));
    if can_write {
        out.push_str(&actions_section(user, record, &holds));
    }
    out.push_str(&history_section(&trail));
    out.push_str("</div></div>");
    Ok(out)
}

fn text_source_label(source: &str) -> String {
    match source {
        "text_layer" => "lớp chữ của tệp".into(),
        "ocr" => "nhận dạng chữ (OCR)".into(),
        "none" => "chưa đọc được chữ".into(),
        other => other.to_string(),
    }
}

fn viewer(id: i64, file: Option<&StoredFile>) -> String {
    let Some(file) = file else {
        return r#"<section class="viewer"><p class="flash error">Không tìm thấy tệp gốc của văn bản.</p></section>"#.into();
    };
    let src = format!("/desk/documents/{id}/file");
    let shown = match inline_kind(&file.media_type) {
        Inline::Pdf => format!(r#"<iframe src="{src}" title="Tệp gốc (PDF)"></iframe>"#),
        Inline::Image => format!(r#"<img src="{src}" alt="Tệp gốc (ảnh quét)">"#),
        Inline::No => format!(
            r#"<p class="card">Trình duyệt không hiển thị được loại tệp này ({}).</p>"#,
            escape(&file.media_type)
        ),
    };
    format!(
        r#"<section class="viewer" aria-label="Tệp gốc">{shown}<p class="open"><a href="{src}" target="_blank" rel="noopener">Mở tệp gốc trong thẻ mới</a> · {} · {}</p></section>"#,
        escape(file.original_name.as_deref().unwrap_or("tệp gốc")),
        size_label(file.size)
    )
}

fn size_label(bytes: i64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

fn holds_section(
    user: &DeskUser,
    record: &DocumentRecord,
    holds: &[HoldRecord],
    can_write: bool,
) -> String {
    if holds.is_empty() {
        return String::new();
    }
    let open = holds.iter().filter(|h| h.state == HoldState::Open).count();
    let mut out = format!(
        r#"<section class="card"><h2>Lý do giữ lại <span class="muted">({open} chưa xử lý)</span></h2>"#
    );
    for h in holds {
        let resolved = h.state != HoldState::Open;
        out.push_str(&format!(
            r#"<div class="hold{}"><strong>{}</strong> <span class="muted">· {}</span><br>{}"#,
            if resolved { " resolved" } else { "" },
            escape(h.code.label()),
            escape(h.state.label()),
            escape(&h.message)
        ));
        if let Some(span) = h.evidence.as_deref().filter(|s| !s.is_empty()) {
            let page = h.page.map(|p| format!("trang {p}: ")).unwrap_or_default();
            out.push_str(&format!(
                r#"<span class="span">{}<mark>{}</mark></span>"#,
                escape(&page),
                escape(span)
            ));
        }
        if resolved {
            let by = [
                h.resolved_by.clone(),
                h.resolved_at.map(vn_time),
                h.resolution_note.clone().filter(|n| !n.is_empty()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
            if !by.is_empty() {
                out.push_str(&format!(
                    r#"<br><span class="muted">{}</span>"#,
                    escape(&by)
                ));
            }
        } else if can_write && h.code == HoldCode::PersonalData {
            // The clerk says whether the span really is a citizen's personal data.
            let csrf = escape(&user.csrf_token);
            out.push_str(&format!(
                r#"<form method="post" action="/desk/documents/{id}/holds/{hold}/confirm"><input type="hidden" name="csrf" value="{csrf}"><label>Ghi chú <input type="text" name="reason" maxlength="500" size="30"></label> <button type="submit">Đúng là thông tin cá nhân</button></form><form method="post" action="/desk/documents/{id}/holds/{hold}/dismiss"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="reason" value="Không phải thông tin cá nhân"><button type="submit" class="secondary">Không phải, bỏ qua</button></form>"#,
                id = record.id,
                hold = h.id
            ));
        }
        out.push_str("</div>");
    }
    out.push_str("</section>");
    out
}

fn signature_section(record: &DocumentRecord) -> String {
    let Some(v) = signatures_of(record).filter(|v| v.is_signed()) else {
        return r#"<section class="card"><h2>Chữ ký số</h2><p>Tệp không có chữ ký số.</p></section>"#.into();
    };
    let class = if v.valid() { "sig-ok" } else { "sig-warn" };
    let mut out = format!(
        r#"<section class="card"><h2>Chữ ký số</h2><p class="{class}">{}</p><table><thead><tr><th>#</th><th>Người ký</th><th>Thời gian ký</th><th>Kết quả</th></tr></thead><tbody>"#,
        escape(&v.message().unwrap_or_default())
    );
    for s in &v.signatures {
        let signer = s
            .signer
            .as_ref()
            .and_then(|p| p.name.common_name.clone())
            .unwrap_or_else(|| "(không đọc được)".into());
        let when = s.signed_at.map(vn_time).unwrap_or_else(|| "—".into());
        let mut verdict = escape(s.status.label());
        for change in &s.later_changes {
            verdict.push_str(&format!(
                "<br><span class=\"muted\">{}</span>",
                escape(change)
            ));
        }
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{verdict}</td></tr>",
            s.index,
            escape(&signer),
            escape(&when)
        ));
    }
    out.push_str("</tbody></table></section>");
    out
}

fn attachments_section(id: i64, attachments: &[crate::store::AttachmentRecord]) -> String {
    if attachments.is_empty() {
        return String::new();
    }
    let mut out = String::from(r#"<section class="card"><h2>Tệp kèm theo</h2><ul>"#);
    for a in attachments {
        out.push_str(&format!(
            r#"<li><a href="/desk/documents/{id}/attachments/{}" target="_blank" rel="noopener">{}</a> <span class="muted">({} · {} · {})</span></li>"#,
            a.position,
            escape(&a.filename),
            escape(a.role.label()),
            escape(&a.media_type),
            size_label(a.size)
        ));
    }
    out.push_str("</ul></section>");
    out
}

fn duplicates_section(
    user: &DeskUser,
    record: &DocumentRecord,
    duplicates: &[crate::store::Duplicate],
) -> String {
    if duplicates.is_empty() {
        return String::new();
    }
    let (visible, hidden): (Vec<_>, Vec<_>) =
        duplicates.iter().partition(|d| user.can_read(&d.unit_code));
    let mut out = String::from(
        r#"<section class="card"><h2>Có thể trùng với</h2><p class="note">Xem trước khi công khai: gộp bản ghi này vào một bản ghi khác, hoặc giữ cả hai.</p>"#,
    );
    if !visible.is_empty() {
        out.push_str("<table><thead><tr><th>Văn bản</th><th>Vì sao</th><th>Trạng thái</th><th></th></tr></thead><tbody>");
        for d in visible {
            let title = display_title(d.doc_type.as_deref(), d.number_symbol.as_deref(), d.id);
            let why: Vec<String> = d
                .kinds
                .iter()
                .map(|k| match (k, d.similarity) {
                    (DuplicateKind::SameNumberNearText, Some(s)) => {
                        format!("{} ({}%)", k.label(), (s * 100.0).round() as i64)
                    }
                    _ => k.label().to_string(),
                })
                .collect();
            let forms = if user.can_write(&record.unit_code) && user.can_write(&d.unit_code) {
                format!(
                    r#"<form method="post" action="/desk/documents/{id}/merge" data-confirm="Gộp bản ghi #{id} vào văn bản #{other}? Bản ghi #{id} sẽ không còn được xử lý riêng."><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="into" value="{other}"><button type="submit">Gộp vào văn bản này</button></form><form method="post" action="/desk/documents/{id}/keep-both"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="other" value="{other}"><button type="submit" class="secondary">Giữ cả hai</button></form>"#,
                    id = record.id,
                    other = d.id,
                    csrf = escape(&user.csrf_token)
                )
            } else {
                String::new()
            };
            out.push_str(&format!(
                r#"<tr><td><a href="/desk/documents/{}">{}</a><br><span class="muted">#{} · {}</span><br>{}</td><td>{}</td><td class="status status-{}">{}</td><td>{forms}</td></tr>"#,
                d.id,
                escape(&title),
                d.id,
                escape(&d.unit_code),
                escape(&super::queue::shorten(d.abstract_text.as_deref().unwrap_or(""), 160)),
                escape(&why.join("; ")),
                d.status.as_str(),
                escape(d.status.label()),
            ));
        }
        out.push_str("</tbody></table>");
    }
    if !hidden.is_empty() {
        out.push_str(&format!(
            r#"<p class="note">Và {} bản ghi ở đơn vị khác mà tài khoản này không xem được.</p>"#,
            hidden.len()
        ));
    }
    out.push_str("</section>");
    out
}

/// The status actions allowed now, each a form; publishing that the rule refuses says why.
fn actions_section(user: &DeskUser, record: &DocumentRecord, holds: &[HoldRecord]) -> String {
    let hold_facts: Vec<(HoldCode, HoldState)> = holds
        .iter()
        .filter(|h| h.state != HoldState::Superseded)
        .map(|h| (h.code, h.state))
        .collect();
    let facts = RecordFacts {
        status: record.status,
        secrecy: record.fields.secrecy.as_deref(),
        internal_circulation: record.fields.internal_circulation,
        replaced_by: record.replaced_by,
        holds: &hold_facts,
    };
    let csrf = escape(&user.csrf_token);
    let mut out = String::from(r#"<section class="card actions"><h2>Xử lý</h2>"#);
    let mut any = false;
    for action in Action::ALL {
        match check_transition(&facts, action.target()) {
            Ok(()) => {
                any = true;
                let confirm = confirmation(action)
                    .map(|c| format!(r#" data-confirm="{}""#, escape(c)))
                    .unwrap_or_default();
                let reason = if action.requires_reason() {
                    let public = if action == Action::Withdraw {
                        " — hiển thị công khai"
                    } else {
                        ""
                    };
                    format!(
                        r#"<label>Lý do (bắt buộc{public})<textarea name="reason" required maxlength="1000"></textarea></label>"#
                    )
                } else {
                    r#"<label>Ghi chú (không bắt buộc)<input type="text" name="reason" maxlength="1000" size="40"></label>"#.to_string()
                };
                let danger = if matches!(action, Action::Reject | Action::Withdraw) {
                    r#" class="danger""#
                } else {
                    ""
                };
                out.push_str(&format!(
                    r#"<form method="post" action="/desk/documents/{id}/{route}"{confirm}><fieldset><legend>{label}</legend><input type="hidden" name="csrf" value="{csrf}">{reason} <button type="submit"{danger}>{label}</button></fieldset></form>"#,
                    id = record.id,
                    route = action.as_str(),
                    label = escape(action.label()),
                ));
            }
            // Saying why publishing is impossible helps more than a missing button; other
            // impossible moves are simply not offered.
            Err(refusal) if action == Action::Publish => {
                if !matches!(refusal, Refusal::InvalidTransition { .. }) {
                    out.push_str(&format!(
                        r#"<p class="refusal">Chưa thể công khai: {}</p>"#,
                        escape(&refusal.to_string())
                    ));
                }
            }
            Err(_) => {}
        }
    }
    if !any {
        out.push_str(r#"<p class="muted">Không có thao tác nào cho trạng thái hiện tại.</p>"#);
    }
    out.push_str("</section>");
    out
}

fn action_label(action: &str) -> &str {
    match action {
        "created" => "Tạo bản ghi",
        "status_changed" => "Đổi trạng thái",
        "superseded" => "Thay bằng bản gốc có chữ ký",
        "updated" => "Cập nhật từ gói liên thông",
        "corrected" => "Sửa thông tin",
        "merged" => "Gộp bản ghi",
        "kept_both" => "Giữ cả hai bản ghi",
        "hold_confirmed" => "Xác nhận lý do giữ lại",
        "hold_dismissed" => "Bỏ lý do giữ lại",
        other => other,
    }
}

fn status_name(value: Option<&Value>) -> Option<String> {
    let s = value?.as_str()?;
    Some(
        Status::parse(s)
            .map(|s| s.label().to_string())
            // A hold's decision (`open → dismissed`) in the clerk's words.
            .or_else(|| crate::domain::HoldState::parse(s).map(|h| h.label().to_string()))
            .unwrap_or_else(|| s.to_string()),
    )
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "(trống)".into(),
        Value::String(s) if s.is_empty() => "(trống)".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One audit entry's details: old → new status, the reason, and changed fields.
fn detail_html(detail: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let (Some(from), Some(to)) = (
        status_name(detail.get("from")),
        status_name(detail.get("to")),
    ) {
        parts.push(format!("{} → {}", escape(&from), escape(&to)));
    } else if let Some(status) = status_name(detail.get("status")) {
        parts.push(format!("trạng thái {}", escape(&status)));
    }
    // Field corrections, as the store writes them: {"changes": {"field": {"from": …,
    // "to": …}}} (or a list of {"field", "from", "to"}).
    let side = |change: &Value, key: &str| scalar(change.get(key).unwrap_or(&Value::Null));
    match detail.get("changes") {
        Some(Value::Object(map)) => {
            for (field, change) in map {
                parts.push(format!(
                    "{}: {} → {}",
                    escape(field),
                    escape(&side(change, "from")),
                    escape(&side(change, "to"))
                ));
            }
        }
        Some(Value::Array(list)) => {
            for change in list {
                parts.push(format!(
                    "{}: {} → {}",
                    escape(&side(change, "field")),
                    escape(&side(change, "from")),
                    escape(&side(change, "to"))
                ));
            }
        }
        _ => {}
    }
    if let Some(reason) = detail
        .get("reason")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
    {
        parts.push(format!("lý do: {}", escape(reason)));
    }
    parts.join(" · ")
}

fn history_section(trail: &[AuditEntry]) -> String {
    let mut out = String::from(r#"<section class="card"><h2>Lịch sử</h2><ol class="history">"#);
    for e in trail.iter().rev() {
        out.push_str(&format!(
            r#"<li><strong>{}</strong> · {} · <span class="muted">{}</span><br>{}</li>"#,
            escape(action_label(&e.action)),
            escape(&e.actor),
            escape(&vn_time(e.at)),
            detail_html(&e.detail)
        ));
    }
    out.push_str("</ol></section>");
    out
}

/// How a stored file may be shown in the desk's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inline {
    Pdf,
    Image,
    No,
}

fn inline_kind(media_type: &str) -> Inline {
    let base = media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match base.as_str() {
        "application/pdf" => Inline::Pdf,
        // Raster images only: an SVG can carry script.
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/tiff" | "image/bmp" => {
            Inline::Image
        }
        _ => Inline::No,
    }
}

/// `inline; filename*=UTF-8''…` (or `attachment` for what a browser should not render).
fn disposition(kind: Inline, name: &str) -> String {
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let how = if kind == Inline::No {
        "attachment"
    } else {
        "inline"
    };
    format!("{how}; filename*=UTF-8''{encoded}")
}

/// The bytes of a stored blob, inline with its media type. Private: `no-store` (the desk
/// frame adds it), never sniffed.
async fn serve(state: &SharedState, file: StoredFile, name: &str) -> Result<Response, DeskError> {
    let blobs = state.blobs.clone();
    let key = file.blob_key.clone();
    let bytes = tokio::task::spawn_blocking(move || blobs.read(&key))
        .await
        .map_err(|e| DeskError::Internal(e.to_string()))?
        .map_err(|e| DeskError::Internal(e.to_string()))?;
    let kind = inline_kind(&file.media_type);
    let media_type = if kind == Inline::No {
        "application/octet-stream".to_string()
    } else {
        file.media_type.clone()
    };
    let mut response = Response::new(Body::from(bytes));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&media_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition(kind, name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn file(
    State(state): State<SharedState>,
    user: DeskUser,
    Path(id): Path<String>,
) -> Result<Response, DeskError> {
    let record = readable_record(&state, &user, &id).await?;
    let Some(file) = state.store.file(&record.file_sha256).await? else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let name = file
        .original_name
        .clone()
        .unwrap_or_else(|| format!("van-ban-{}.pdf", record.id));
    serve(&state, file, &name).await
}

async fn attachment(
    State(state): State<SharedState>,
    user: DeskUser,
    Path((id, n)): Path<(String, String)>,
) -> Result<Response, DeskError> {
    let record = readable_record(&state, &user, &id).await?;
    let n: i32 = n
        .parse()
        .map_err(|_| DeskError::NotFound(NOT_FOUND.into()))?;
    let a = state
        .store
        .attachments(record.id)
        .await?
        .into_iter()
        .find(|a| a.position == n)
        .ok_or(DeskError::NotFound(NOT_FOUND.into()))?;
    let file = StoredFile {
        blob_key: a.sha256.clone(),
        sha256: a.sha256,
        size: a.size,
        media_type: a.media_type,
        original_name: Some(a.filename.clone()),
    };
    serve(&state, file, &a.filename).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_shows_confidence_and_the_line_read() {
        let evidence = serde_json::json!({
            "number": {"confidence": 0.97, "evidence": {"page": 1, "line": 3, "text": "Số: 116/QĐ-UBND <b>"}},
            "issuer": {"confidence": 0.4, "evidence": null},
        });
        let html = evidence_html(&evidence, "number");
        assert!(html.contains(">97%<"), "{html}");
        assert!(
            html.contains("trang 1: «Số: 116/QĐ-UBND &lt;b&gt;»"),
            "{html}"
        );
        assert!(evidence_html(&evidence, "issuer").contains(r#"class="conf low""#));
        assert_eq!(evidence_html(&evidence, "place"), "");
    }

    #[test]
    fn history_names_old_and_new() {
        let detail = serde_json::json!({
            "from": "needs_review", "to": "published", "reason": "Đã kiểm tra <ok>",
            "changes": {"number_symbol": {"from": "16/QĐ-UBND", "to": "116/QĐ-UBND"}},
        });
        assert_eq!(
            detail_html(&detail),
            "chờ văn thư xem xét → đã công khai · number_symbol: 16/QĐ-UBND → 116/QĐ-UBND · lý do: Đã kiểm tra &lt;ok&gt;"
        );
    }

    #[test]
    fn only_pdfs_and_raster_images_are_shown_inline() {
        for (media_type, kind) in [
            ("application/pdf", Inline::Pdf),
            ("image/jpeg", Inline::Image),
            ("image/svg+xml", Inline::No),
            ("text/html", Inline::No),
            ("application/msword", Inline::No),
        ] {
            assert_eq!(inline_kind(media_type), kind, "{media_type}");
        }
        assert_eq!(
            disposition(Inline::Pdf, "Quyết định 1.pdf"),
            "inline; filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%201.pdf"
        );
    }
}
