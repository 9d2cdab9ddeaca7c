//! The review queue, `GET /desk/queue`: every held record in the account's units with its
//! reasons, filters (reason, unit, source, age, free text), counts per reason and per
//! status (tabs), oldest first by default, paged by key (`after`/`before` an id, never an
//! offset), a checkbox per row and a bulk action bar posting to `POST /desk/queue/bulk`
//! (implemented with the other write actions).

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Duration, Utc};

use super::layout::{age_label, desk_page_at, source_label};
use crate::auth::DeskUser;
use crate::domain::{Action, HoldCode, Status};
use crate::store::{QueueCursor, QueueFilter, QueueOrder};
use crate::web::html::{escape, url_encode};
use crate::web::{Params, SharedState, display_title};

pub fn router() -> Router<SharedState> {
    Router::new().route("/desk/queue", get(queue))
}

/// Rows per page.
pub const PAGE_SIZE: i64 = 50;

/// The lists a clerk switches between (tabs), in their order.
pub const TABS: [Status; 6] = [
    Status::NeedsReview,
    Status::Withheld,
    Status::Rejected,
    Status::Withdrawn,
    Status::Draft,
    Status::Published,
];

/// The queue's query string, parsed. Unknown or malformed values are dropped and named in
/// `ignored`, so the page still answers (and says so).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueQuery {
    pub status: Option<Status>,
    pub reason: Option<HoldCode>,
    pub unit: Option<String>,
    pub source: Option<String>,
    pub older_days: Option<i64>,
    pub q: Option<String>,
    pub order: QueueOrder,
    pub cursor: QueueCursor,
    pub ignored: Vec<&'static str>,
}

fn non_empty(params: &HashMap<String, String>, name: &str) -> Option<String> {
    params
        .get(name)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn id_param(v: Option<String>) -> Result<Option<i64>, ()> {
    match v {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or(()),
    }
}

impl QueueQuery {
    pub fn parse(params: &HashMap<String, String>) -> QueueQuery {
        let mut q = QueueQuery::default();
        if let Some(s) = non_empty(params, "status") {
            match Status::parse(&s) {
                Some(s) => q.status = Some(s),
                None => q.ignored.push("trạng thái"),
            }
        }
        if let Some(r) = non_empty(params, "reason") {
            match HoldCode::parse(&r) {
                Some(r) => q.reason = Some(r),
                None => q.ignored.push("lý do"),
            }
        }
        q.unit = non_empty(params, "unit");
        q.source = non_empty(params, "source");
        if let Some(d) = non_empty(params, "older") {
            match d.parse::<i64>().ok().filter(|d| (1..=36_500).contains(d)) {
                Some(d) => q.older_days = Some(d),
                None => q.ignored.push("số ngày chờ"),
            }
        }
        q.q = non_empty(params, "q").map(|t| t.chars().take(200).collect());
        match non_empty(params, "order").as_deref() {
            None | Some("oldest") => {}
            Some("newest") => q.order = QueueOrder::Newest,
            Some(_) => q.ignored.push("thứ tự"),
        }
        match (
            id_param(non_empty(params, "after")),
            id_param(non_empty(params, "before")),
        ) {
            (Ok(Some(a)), _) => q.cursor = QueueCursor::After(a),
            (Ok(None), Ok(Some(b))) => q.cursor = QueueCursor::Before(b),
            (Ok(None), Ok(None)) => {}
            _ => q.ignored.push("trang"),
        }
        q
    }

    /// The store filter for `user` (their units only).
    pub fn filter(&self, user: &DeskUser) -> QueueFilter {
        QueueFilter {
            status: self.status,
            scope: user.unit_scope().map(<[String]>::to_vec),
            unit: self.unit.clone(),
            hold: self.reason.map(|r| r.as_str().to_string()),
            source: self.source.clone(),
            stored_before: self.older_days.map(|d| Utc::now() - Duration::days(d)),
            text: self.q.clone(),
        }
    }

    /// The query string of this view with `change` applied (paging dropped unless set).
    pub fn href(&self, change: impl FnOnce(&mut QueueQuery)) -> String {
        let mut next = self.clone();
        next.cursor = QueueCursor::First;
        change(&mut next);
        let mut parts: Vec<String> = Vec::new();
        if let Some(s) = next.status.filter(|s| *s != Status::NeedsReview) {
            parts.push(format!("status={}", s.as_str()));
        }
        if let Some(r) = next.reason {
            parts.push(format!("reason={}", r.as_str()));
        }
        if let Some(u) = &next.unit {
            parts.push(format!("unit={}", url_encode(u)));
        }
        if let Some(s) = &next.source {
            parts.push(format!("source={}", url_encode(s)));
        }
        if let Some(d) = next.older_days {
            parts.push(format!("older={d}"));
        }
        if let Some(t) = &next.q {
            parts.push(format!("q={}", url_encode(t)));
        }
        if next.order == QueueOrder::Newest {
            parts.push("order=newest".into());
        }
        match next.cursor {
            QueueCursor::First => {}
            QueueCursor::After(id) => parts.push(format!("after={id}")),
            QueueCursor::Before(id) => parts.push(format!("before={id}")),
        }
        if parts.is_empty() {
            "/desk/queue".into()
        } else {
            format!("/desk/queue?{}", parts.join("&"))
        }
    }
}

/// A hold code as stored, shown by its label (an unknown code as written).
pub fn hold_label(code: &str) -> String {
    HoldCode::parse(code)
        .map(|c| c.label().to_string())
        .unwrap_or_else(|| code.to_string())
}

async fn queue(
    State(state): State<SharedState>,
    user: DeskUser,
    Params(params): Params,
) -> Result<Response, crate::auth::DeskError> {
    let query = QueueQuery::parse(&params);
    let body = render(&state, &user, &query).await?;
    let path = "/desk/queue";
    Ok(desk_page_at(&user, "Hàng chờ xem xét", path, &body).into_response())
}

/// The queue's page body for `user`.
pub async fn render(
    state: &SharedState,
    user: &DeskUser,
    query: &QueueQuery,
) -> Result<String, crate::store::StoreError> {
    let store = &state.store;
    let filter = query.filter(user);
    let status = query.status.unwrap_or(Status::NeedsReview);
    let scope = user.unit_scope();
    let (page, total, reasons, tabs, units, sources) = tokio::try_join!(
        store.desk_queue(&filter, query.order, query.cursor, PAGE_SIZE),
        store.desk_queue_total(&filter),
        store.desk_hold_counts(&filter),
        store.desk_status_counts(&filter),
        store.desk_unit_status_counts(scope),
        store.desk_sources(scope),
    )?;
    let ids: Vec<i64> = page.items.iter().map(|i| i.id).collect();
    let tags = store.desk_hold_tags(&ids).await?;
    let now = Utc::now();
    let mut out = String::new();
    out.push_str("<h1>Hàng chờ xem xét</h1>");
    if !query.ignored.is_empty() {
        out.push_str(&format!(
            r#"<p class="flash error" role="alert">Bỏ qua bộ lọc không hợp lệ: {}.</p>"#,
            escape(&query.ignored.join(", "))
        ));
    }

    // Tabs: one per status, with the count under the other filters.
    out.push_str(r#"<ul class="tabs" aria-label="Trạng thái">"#);
    for tab in TABS {
        let n = tabs
            .iter()
            .find(|(s, _)| *s == tab)
            .map(|(_, n)| *n)
            .unwrap_or(0);
        let href = query.href(|q| {
            q.status = Some(tab);
            if tab != Status::NeedsReview {
                q.reason = None;
            }
        });
        let current = if tab == status {
            r#" aria-current="page""#
        } else {
            ""
        };
        out.push_str(&format!(
            r#"<li><a href="{}"{current}>{} ({n})</a></li>"#,
            escape(&href),
            escape(&capitalize(tab.label()))
        ));
    }
    out.push_str("</ul>");

    // Reasons with their counts (open holds); choosing one filters, choosing it again clears.
    if !reasons.is_empty() || query.reason.is_some() {
        out.push_str(r#"<div class="chips" aria-label="Lý do giữ lại">"#);
        let all_href = query.href(|q| q.reason = None);
        let all_current = if query.reason.is_none() {
            r#" aria-current="true""#
        } else {
            ""
        };
        out.push_str(&format!(
            r#"<a class="chip" href="{}"{all_current}>Mọi lý do</a>"#,
            escape(&all_href)
        ));
        for (code, n) in &reasons {
            let parsed = HoldCode::parse(code);
            let chosen = parsed.is_some() && parsed == query.reason;
            let href = query.href(|q| q.reason = if chosen { None } else { parsed });
            out.push_str(&format!(
                r#"<a class="chip" href="{}"{}>{} <strong>{n}</strong></a>"#,
                escape(&href),
                if chosen {
                    r#" aria-current="true""#
                } else {
                    ""
                },
                escape(&hold_label(code))
            ));
        }
        out.push_str("</div>");
    }

    // Filters (a plain GET form: works without JavaScript).
    out.push_str(r#"<form class="filters" method="get" action="/desk/queue" role="search">"#);
    if status != Status::NeedsReview {
        out.push_str(&format!(
            r#"<input type="hidden" name="status" value="{}">"#,
            status.as_str()
        ));
    }
    if let Some(r) = query.reason {
        out.push_str(&format!(
            r#"<input type="hidden" name="reason" value="{}">"#,
            r.as_str()
        ));
    }
    out.push_str(&format!(
        r#"<label>Số ký hiệu hoặc trích yếu<input type="search" name="q" value="{}" size="28"></label>"#,
        escape(query.q.as_deref().unwrap_or(""))
    ));
    let mut unit_codes: Vec<&str> = units.iter().map(|(u, _, _)| u.as_str()).collect();
    if let Some(own) = scope {
        unit_codes.extend(own.iter().map(String::as_str));
    }
    unit_codes.sort_unstable();
    unit_codes.dedup();
    out.push_str(r#"<label>Đơn vị<select name="unit"><option value="">Tất cả</option>"#);
    for u in unit_codes {
        out.push_str(&option(u, u, query.unit.as_deref() == Some(u)));
    }
    out.push_str("</select></label>");
    out.push_str(r#"<label>Nguồn<select name="source"><option value="">Tất cả</option>"#);
    let any_sync = sources.iter().any(|s| s.starts_with("sync:"));
    if any_sync {
        out.push_str(&option(
            "sync",
            "đồng bộ (mọi nguồn)",
            query.source.as_deref() == Some("sync"),
        ));
    }
    for s in &sources {
        out.push_str(&option(
            s,
            &source_label(s),
            query.source.as_deref() == Some(s.as_str()),
        ));
    }
    out.push_str("</select></label>");
    out.push_str(&format!(
        r#"<label>Chờ quá (ngày)<input type="number" name="older" min="1" max="36500" value="{}" size="5"></label>"#,
        query.older_days.map(|d| d.to_string()).unwrap_or_default()
    ));
    out.push_str(r#"<label>Thứ tự<select name="order">"#);
    out.push_str(&option(
        "oldest",
        "Cũ nhất trước",
        query.order == QueueOrder::Oldest,
    ));
    out.push_str(&option(
        "newest",
        "Mới nhất trước",
        query.order == QueueOrder::Newest,
    ));
    out.push_str("</select></label>");
    out.push_str(r#"<button type="submit">Lọc</button> <a href="/desk/queue">Bỏ lọc</a></form>"#);

    out.push_str(&format!(
        r#"<p class="muted">{total} văn bản · Phím tắt: <kbd>j</kbd>/<kbd>k</kbd> di chuyển, <kbd>x</kbd> chọn, <kbd>a</kbd> chọn tất cả, <kbd>Enter</kbd> mở</p>"#
    ));

    // The list, inside the bulk form when the account may write in some unit.
    let can_bulk = super::layout::writes_somewhere(user);
    if can_bulk {
        out.push_str(&format!(
            r#"<form method="post" action="/desk/queue/bulk"><input type="hidden" name="csrf" value="{}"><input type="hidden" name="back" value="{}">"#,
            escape(&user.csrf_token),
            escape(&query.href(|q| q.cursor = query.cursor))
        ));
    }
    if page.items.is_empty() {
        out.push_str(r#"<p class="card">Không có văn bản nào theo bộ lọc này.</p>"#);
    } else {
        out.push_str(r#"<table data-keyed><thead><tr>"#);
        if can_bulk {
            out.push_str(r#"<th class="check"><input type="checkbox" data-select-all aria-label="Chọn tất cả trên trang"></th>"#);
        }
        out.push_str("<th>Văn bản</th><th>Trích yếu</th><th>Lý do</th><th>Đơn vị</th><th>Nguồn</th><th class=\"num\">Đã chờ</th></tr></thead><tbody>");
        for item in &page.items {
            out.push_str("<tr>");
            if can_bulk {
                let disabled = if user.can_write(&item.unit_code) {
                    ""
                } else {
                    " disabled"
                };
                out.push_str(&format!(
                    r#"<td class="check"><input type="checkbox" name="id" value="{id}" aria-label="Chọn văn bản #{id}"{disabled}></td>"#,
                    id = item.id
                ));
            }
            let title = display_title(
                item.doc_type.as_deref(),
                item.number_symbol.as_deref(),
                item.id,
            );
            let reasons_html: String = tags
                .get(&item.id)
                .map(|t| {
                    t.iter()
                        .map(|t| {
                            format!(
                                r#"<span class="reason">{}</span>"#,
                                escape(&hold_label(&t.code))
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push_str(&format!(
                r#"<td><a href="/desk/documents/{id}">{title}</a><br><span class="muted">#{id}</span></td><td class="abstract">{abs}</td><td>{reasons}</td><td>{unit}</td><td>{source}</td><td class="num" title="{stored}">{age}</td></tr>"#,
                id = item.id,
                title = escape(&title),
                abs = escape(&shorten(item.abstract_text.as_deref().unwrap_or("—"), 220)),
                reasons = if reasons_html.is_empty() { "—".to_string() } else { reasons_html },
                unit = escape(&item.unit_code),
                source = escape(&source_label(&item.source)),
                stored = escape(&super::layout::vn_time(item.created_at)),
                age = escape(&age_label(item.created_at, now)),
            ));
        }
        out.push_str("</tbody></table>");
    }
    if can_bulk && !page.items.is_empty() {
        out.push_str(r#"<div class="bulk" role="group" aria-label="Thao tác hàng loạt"><span>Đã chọn <span class="count" data-selected-count>0</span></span><label>Thao tác <select name="action">"#);
        for action in Action::ALL {
            let needs = if action.requires_reason() {
                " (cần lý do)"
            } else {
                ""
            };
            out.push_str(&format!(
                r#"<option value="{}">{}{needs}</option>"#,
                action.as_str(),
                escape(action.label())
            ));
        }
        out.push_str(r#"</select></label><label>Lý do <input type="text" name="reason" size="40" maxlength="500"></label><button type="submit" data-confirm="Thực hiện thao tác cho các văn bản đã chọn?">Thực hiện</button></div>"#);
    }
    if can_bulk {
        out.push_str("</form>");
    }

    // Paging by key.
    let mut nav = String::new();
    if page.has_previous
        && let Some(first) = page.items.first()
    {
        let href = query.href(|q| q.cursor = QueueCursor::Before(first.id));
        nav.push_str(&format!(
            r#"<a href="{}" rel="prev">← Trang trước</a>"#,
            escape(&href)
        ));
    }
    if page.has_next
        && let Some(last) = page.items.last()
    {
        let href = query.href(|q| q.cursor = QueueCursor::After(last.id));
        nav.push_str(&format!(
            r#"<a href="{}" rel="next">Trang sau →</a>"#,
            escape(&href)
        ));
    }
    if !matches!(query.cursor, QueueCursor::First) {
        nav.push_str(&format!(
            r#"<a href="{}">Về trang đầu</a>"#,
            escape(&query.href(|_| {}))
        ));
    }
    if !nav.is_empty() {
        out.push_str(&format!(
            r#"<nav class="pages" aria-label="Trang">{nav}</nav>"#
        ));
    }
    Ok(out)
}

fn option(value: &str, label: &str, selected: bool) -> String {
    format!(
        r#"<option value="{}"{}>{}</option>"#,
        escape(value),
        if selected { " selected" } else { "" },
        escape(label)
    )
}

/// The first `max` characters of `text`, with an ellipsis when cut.
pub fn shorten(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// "chờ văn thư xem xét" → "Chờ văn thư xem xét".
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_query_string_round_trips_and_drops_bad_values() {
        let q = QueueQuery::parse(&params(&[
            ("unit", "000.46.24.H44"),
            ("source", "sync:vxp"),
            ("older", "7"),
            ("q", "QĐ-UBND & co"),
            ("order", "newest"),
            ("after", "120"),
        ]));
        assert!(q.ignored.is_empty());
        assert_eq!(q.cursor, QueueCursor::After(120));
        let href = q.href(|_| {});
        assert_eq!(
            href,
            "/desk/queue?unit=000.46.24.H44&source=sync%3Avxp&older=7&q=Q%C4%90-UBND%20%26%20co&order=newest"
        );
        for (name, value, ignored) in [
            ("older", "0", "số ngày chờ"),
            ("older", "x", "số ngày chờ"),
            ("order", "sideways", "thứ tự"),
            ("after", "-3", "trang"),
            ("status", "secret", "trạng thái"),
            ("reason", "nope", "lý do"),
        ] {
            let q = QueueQuery::parse(&params(&[(name, value)]));
            assert_eq!(q.ignored, vec![ignored], "{name}={value}");
        }
    }
}
