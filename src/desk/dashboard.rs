//! The desk's front page, `GET /desk/`: what waits (queue lengths per reason, the oldest
//! waiting record), counts per status and unit, recent sync runs and their failures, and
//! e-office packages needing attention with a retry button
//! (`POST /desk/sync/packages/{id}/retry`, what `vanban sync retry` does: the package is
//! due again at the source's next run).
//!
//! Sync is per source, and a source belongs to a unit (`[sync.sources.NAME] unit`): an
//! administrator sees every source; a clerk sees the runs of their units' sources and the
//! packages of their units (the package's record's unit, else its source's).

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;

use super::layout::{FlashKind, age_label, desk_page_at, redirect_with_flash, vn_time};
use super::queue::{TABS, capitalize, hold_label, shorten};
use crate::auth::{DeskError, DeskUser, Role};
use crate::store::{PackageRecord, PackageState, QueueFilter, Status};
use crate::web::html::{escape, url_encode};
use crate::web::{SharedState, display_title};

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/desk/", get(dashboard))
        .route("/desk/sync/packages/{id}/retry", post(retry))
}

/// Packages listed per state.
const PACKAGES_SHOWN: i64 = 50;
/// Sync runs listed.
const RUNS_SHOWN: i64 = 10;

/// The unit a source's packages belong to when they name no record.
fn source_unit(state: &SharedState, source: &str) -> Option<String> {
    state
        .settings
        .sync
        .sources
        .get(source)
        .and_then(|s| s.unit.clone())
}

/// The unit of a ledger row: its record's, else its source's.
async fn package_unit(
    state: &SharedState,
    package: &PackageRecord,
) -> Result<Option<String>, DeskError> {
    if let Some(id) = package.document_id {
        match state.store.get_document(id).await {
            Ok(r) => return Ok(Some(r.unit_code)),
            Err(crate::store::StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(source_unit(state, &package.source))
}

/// Whether `user` may see and retry a package of `unit` (administrators: any package).
fn may_handle(user: &DeskUser, unit: Option<&str>) -> bool {
    matches!(user.role, Role::Admin) || unit.is_some_and(|u| user.can_write(u))
}

fn may_see(user: &DeskUser, unit: Option<&str>) -> bool {
    matches!(user.role, Role::Admin) || unit.is_some_and(|u| user.can_read(u))
}

async fn dashboard(
    State(state): State<SharedState>,
    user: DeskUser,
) -> Result<Response, DeskError> {
    let body = render(&state, &user).await?;
    Ok(desk_page_at(&user, "Bảng điều khiển", "/desk/", &body).into_response())
}

/// The dashboard's body for `user`.
pub async fn render(state: &SharedState, user: &DeskUser) -> Result<String, DeskError> {
    let store = &state.store;
    let scope = user.unit_scope();
    let waiting = QueueFilter {
        scope: scope.map(<[String]>::to_vec),
        ..QueueFilter::default()
    };
    let (reasons, total_waiting, oldest, per_unit, runs, attention, failed) = tokio::try_join!(
        store.desk_hold_counts(&waiting),
        store.desk_queue_total(&waiting),
        store.desk_oldest_waiting(scope),
        store.desk_unit_status_counts(scope),
        store.runs(None, RUNS_SHOWN * 3),
        store.packages_in_state(None, PackageState::NeedsAttention, PACKAGES_SHOWN),
        store.packages_in_state(None, PackageState::Failed, PACKAGES_SHOWN),
    )?;
    let now = Utc::now();
    let mut out = String::from("<h1>Bảng điều khiển</h1><div class=\"grid\">");

    // What waits.
    out.push_str(&format!(
        r#"<section class="card"><h2>Hàng chờ xem xét</h2><p><a href="/desk/queue"><strong>{total_waiting}</strong> văn bản đang chờ</a></p>"#
    ));
    if let Some(item) = &oldest {
        let title = display_title(
            item.doc_type.as_deref(),
            item.number_symbol.as_deref(),
            item.id,
        );
        out.push_str(&format!(
            r#"<p>Chờ lâu nhất: <a href="/desk/documents/{}">{}</a> — {} ({}), đã chờ {}</p>"#,
            item.id,
            escape(&title),
            escape(&shorten(item.abstract_text.as_deref().unwrap_or(""), 120)),
            escape(&item.unit_code),
            escape(&age_label(item.created_at, now))
        ));
    }
    if reasons.is_empty() {
        out.push_str(r#"<p class="muted">Không có lý do giữ lại nào đang mở.</p>"#);
    } else {
        out.push_str(r#"<table><thead><tr><th>Lý do giữ lại</th><th class="num">Số văn bản</th></tr></thead><tbody>"#);
        for (code, n) in &reasons {
            out.push_str(&format!(
                r#"<tr><td><a href="/desk/queue?reason={}">{}</a></td><td class="num">{n}</td></tr>"#,
                url_encode(code),
                escape(&hold_label(code))
            ));
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");

    // Counts per unit and status.
    out.push_str(r#"<section class="card"><h2>Văn bản theo đơn vị và trạng thái</h2>"#);
    let mut units: BTreeMap<&str, HashMap<Status, i64>> = BTreeMap::new();
    for (unit, status, n) in &per_unit {
        units.entry(unit).or_default().insert(*status, *n);
    }
    if units.is_empty() {
        out.push_str(r#"<p class="muted">Chưa có văn bản nào.</p>"#);
    } else {
        out.push_str("<table><thead><tr><th>Đơn vị</th>");
        for s in TABS {
            out.push_str(&format!(
                r#"<th class="num">{}</th>"#,
                escape(&capitalize(s.label()))
            ));
        }
        out.push_str("</tr></thead><tbody>");
        for (unit, counts) in &units {
            out.push_str(&format!("<tr><td>{}</td>", escape(unit)));
            for s in TABS {
                let n = counts.get(&s).copied().unwrap_or(0);
                if n == 0 {
                    out.push_str(r#"<td class="num">0</td>"#);
                } else {
                    out.push_str(&format!(
                        r#"<td class="num"><a href="/desk/queue?status={}&amp;unit={}">{n}</a></td>"#,
                        s.as_str(),
                        url_encode(unit)
                    ));
                }
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section></div>");

    // Packages needing attention (gave up), then failing ones (retried automatically).
    let mut packages: Vec<(PackageRecord, Option<String>)> = Vec::new();
    for p in attention.into_iter().chain(failed) {
        let unit = package_unit(state, &p).await?;
        if may_see(user, unit.as_deref()) {
            packages.push((p, unit));
        }
    }
    out.push_str(r#"<section class="card"><h2>Gói liên thông cần xử lý</h2>"#);
    if packages.is_empty() {
        out.push_str(r#"<p class="muted">Không có gói nào bị lỗi.</p>"#);
    } else {
        out.push_str(r#"<table><thead><tr><th>Nguồn</th><th>Gói</th><th>Tình trạng</th><th class="num">Số lần thử</th><th>Lỗi gần nhất</th><th>Cập nhật</th><th></th></tr></thead><tbody>"#);
        for (p, unit) in &packages {
            let state_label = match p.state {
                PackageState::NeedsAttention => "Cần người xử lý",
                PackageState::Failed => "Lỗi, sẽ tự thử lại",
                PackageState::Stored => "Đã lưu",
                PackageState::Acked => "Đã xác nhận",
            };
            let retry = if may_handle(user, unit.as_deref()) {
                format!(
                    r#"<form method="post" action="/desk/sync/packages/{}/retry"><input type="hidden" name="csrf" value="{}"><input type="hidden" name="source" value="{}"><button type="submit">Thử lại</button></form>"#,
                    escape(&url_encode(&p.package_id)),
                    escape(&user.csrf_token),
                    escape(&p.source)
                )
            } else {
                String::new()
            };
            let document = p
                .document_id
                .map(|id| format!(r#"<br><a href="/desk/documents/{id}">văn bản #{id}</a>"#))
                .unwrap_or_default();
            out.push_str(&format!(
                r#"<tr><td>{}</td><td>{}{document}</td><td>{}</td><td class="num">{}</td><td>{}</td><td>{}</td><td>{retry}</td></tr>"#,
                escape(&p.source),
                escape(&p.package_id),
                state_label,
                p.attempts,
                escape(&shorten(p.last_error.as_deref().unwrap_or("—"), 300)),
                escape(&vn_time(p.updated_at)),
            ));
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");

    // Recent runs with their failures.
    let runs: Vec<_> = runs
        .into_iter()
        .filter(|r| may_see(user, source_unit(state, &r.source).as_deref()))
        .take(RUNS_SHOWN as usize)
        .collect();
    out.push_str(r#"<section class="card"><h2>Các lượt đồng bộ gần đây</h2>"#);
    if runs.is_empty() {
        out.push_str(r#"<p class="muted">Chưa có lượt đồng bộ nào.</p>"#);
    } else {
        out.push_str(r#"<table><thead><tr><th>#</th><th>Nguồn</th><th>Bắt đầu</th><th>Kết thúc</th><th>Kết quả</th><th>Số liệu</th><th>Lỗi</th></tr></thead><tbody>"#);
        for r in &runs {
            let result = match r.status.as_str() {
                "running" => "Đang chạy",
                "succeeded" => "Thành công",
                "partial" => "Một phần bị lỗi",
                "failed" => "Thất bại",
                "interrupted" => "Bị gián đoạn",
                other => other,
            };
            let counts = r
                .counts
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(_, v)| v.as_i64().is_some_and(|n| n != 0))
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            let errors: Vec<String> = r
                .errors
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|e| match e {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let errors_html = if errors.is_empty() {
                "—".to_string()
            } else {
                let mut html = format!("{} lỗi<ul>", errors.len());
                for e in errors.iter().take(3) {
                    html.push_str(&format!("<li>{}</li>", escape(&shorten(e, 200))));
                }
                html.push_str("</ul>");
                html
            };
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{errors_html}</td></tr>",
                r.id,
                escape(&r.source),
                escape(&vn_time(r.started_at)),
                escape(&r.finished_at.map(vn_time).unwrap_or_else(|| "—".into())),
                escape(result),
                escape(&counts),
            ));
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");
    Ok(out)
}

/// `POST /desk/sync/packages/{id}/retry` (`csrf`, `source`): the package is due again
/// with a fresh attempt count, as `vanban sync retry --source S PACKAGE` does.
async fn retry(
    State(state): State<SharedState>,
    user: DeskUser,
    Path(package_id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, DeskError> {
    user.verify_csrf(form.get("csrf").map(String::as_str))?;
    let source = form
        .get("source")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| DeskError::NotFound("Không tìm thấy gói liên thông".into()))?;
    let package = state
        .store
        .package(source, &package_id)
        .await?
        .ok_or_else(|| DeskError::NotFound("Không tìm thấy gói liên thông".into()))?;
    let unit = package_unit(&state, &package).await?;
    if !may_see(&user, unit.as_deref()) {
        return Err(DeskError::NotFound("Không tìm thấy gói liên thông".into()));
    }
    if !may_handle(&user, unit.as_deref()) {
        return Err(DeskError::Forbidden(
            "Tài khoản này không được thử lại gói liên thông của đơn vị".into(),
        ));
    }
    let changed = state
        .store
        .reset_packages(source, Some(&package_id))
        .await?;
    tracing::info!(source, package = %package_id, actor = %user.name, changed, "desk: sync package retry");
    let (kind, message) = if changed > 0 {
        (
            FlashKind::Ok,
            format!("Gói {package_id} của nguồn {source} sẽ được thử lại ở lượt đồng bộ tiếp theo"),
        )
    } else {
        (
            FlashKind::Info,
            format!(
                "Gói {package_id} của nguồn {source} không ở trạng thái lỗi: không cần thử lại"
            ),
        )
    };
    Ok(redirect_with_flash("/desk/", kind, &message))
}
