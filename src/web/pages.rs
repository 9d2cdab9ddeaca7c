//! Server-rendered public pages: the search page, a page per document (with ELI URLs and
//! schema.org `Legislation` JSON-LD). Usable without JavaScript.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::json;

use super::api::{form_params, run_search, search_request, snippets};
use super::html::{escape, page, url_encode, vn_date};
use super::{
    ApiError, AppState, PublicBase, SharedState, display_title, eli_path, parse_query,
    public_cache, public_record, slug,
};
use crate::search::query::{NumberSymbolMatch, SearchRequest, SearchResults, Sort, Validity};
use crate::store::DocumentRecord;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/", get(|| async { Redirect::permanent("/van-ban") }))
        .route("/van-ban", get(search_page))
        .route("/van-ban/{id}", get(document_page))
        .route("/eli/vn/{issuer}/{doc_type}/{year}/{number}", get(eli_page))
}

/// Query-string of `params` with `key` replaced (for facet and page links).
pub fn link_with(
    path: &str,
    params: &HashMap<String, String>,
    key: &str,
    value: Option<&str>,
) -> String {
    let mut pairs: Vec<(&String, &String)> = params
        .iter()
        .filter(|(k, v)| k.as_str() != key && k.as_str() != "page" && !v.is_empty())
        .collect();
    pairs.sort();
    let mut parts: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect();
    if let Some(v) = value {
        parts.push(format!("{}={}", url_encode(key), url_encode(v)));
    }
    if parts.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", parts.join("&"))
    }
}

fn select(
    name: &str,
    label: &str,
    current: Option<&str>,
    options: &[(String, u64)],
    display: impl Fn(&str) -> String,
) -> String {
    let mut html = format!(
        "<label>{label}<select name=\"{name}\"><option value=\"\">Tất cả</option>",
        label = escape(label),
        name = escape(name)
    );
    let mut seen_current = false;
    for (value, count) in options {
        let selected = current == Some(value.as_str());
        seen_current |= selected;
        html.push_str(&format!(
            "<option value=\"{v}\"{sel}>{d} ({count})</option>",
            v = escape(value),
            sel = if selected { " selected" } else { "" },
            d = escape(&display(value)),
        ));
    }
    if let (Some(c), false) = (current, seen_current) {
        html.push_str(&format!(
            "<option value=\"{v}\" selected>{d} (0)</option>",
            v = escape(c),
            d = escape(&display(c))
        ));
    }
    html.push_str("</select></label>");
    html
}

fn validity_label(v: &str) -> String {
    Validity::parse(v).map_or(v.to_string(), |v| v.label().to_string())
}

/// Where and how a result list is shown: the page's own path (where the form submits),
/// filters preset by an embed (kept as hidden fields), which filters to offer, and the
/// `target` of result links.
pub struct ResultsView<'a> {
    pub path: &'a str,
    pub hidden: &'a [(&'a str, &'a str)],
    pub filters: &'a [&'a str],
    pub link_target: &'a str,
}

/// The search form, facet filters, results and pagination.
pub fn render_results(
    view: &ResultsView,
    params: &HashMap<String, String>,
    req: &SearchRequest,
    results: &SearchResults,
    snippets: &[String],
) -> String {
    let ResultsView {
        path,
        hidden,
        filters: show_filters,
        link_target,
    } = *view;
    let mut html = String::new();
    html.push_str(&format!(
        "<form class=\"search\" role=\"search\" method=\"get\" action=\"{}\">",
        escape(path)
    ));
    for (k, v) in hidden {
        html.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(k),
            escape(v)
        ));
    }
    html.push_str(&format!(
        "<label>Tìm văn bản<input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"Số ký hiệu, trích yếu, người ký… (gõ không dấu được)\"></label>",
        escape(&req.q)
    ));
    let f = &results.facets;
    if show_filters.contains(&"type") {
        html.push_str(&select(
            "type",
            "Loại văn bản",
            req.doc_type.as_deref(),
            &f.doc_type,
            str::to_string,
        ));
    }
    if show_filters.contains(&"issuer") {
        html.push_str(&select(
            "issuer",
            "Cơ quan ban hành",
            req.issuer.as_deref(),
            &f.issuer,
            str::to_string,
        ));
    }
    if show_filters.contains(&"year") {
        let year = req.year.map(|y| y.to_string());
        html.push_str(&select(
            "year",
            "Năm",
            year.as_deref(),
            &f.year,
            str::to_string,
        ));
    }
    if show_filters.contains(&"status") {
        html.push_str(&select(
            "status",
            "Hiệu lực",
            req.validity.map(|v| v.as_str()),
            &f.validity,
            validity_label,
        ));
    }
    if show_filters.contains(&"sort") {
        html.push_str("<label>Sắp xếp<select name=\"sort\">");
        for (value, label, sort) in [
            ("relevance", "Phù hợp nhất", Sort::Relevance),
            ("newest", "Mới nhất", Sort::Newest),
            ("oldest", "Cũ nhất", Sort::Oldest),
        ] {
            html.push_str(&format!(
                "<option value=\"{value}\"{}>{label}</option>",
                if req.sort == sort { " selected" } else { "" }
            ));
        }
        html.push_str("</select></label>");
    }
    html.push_str("<button type=\"submit\">Tìm kiếm</button></form>");

    let per_page = req.per_page.max(1);
    let from = (req.page.max(1) - 1) * per_page;
    let unmatched = results
        .number_symbol
        .as_ref()
        .filter(|ns| ns.matched == NumberSymbolMatch::None);
    if let Some(ns) = unmatched {
        html.push_str(&format!(
            "<p class=\"summary no-number\" role=\"status\">Không có văn bản nào mang số ký hiệu <strong>{}</strong>.{}</p>",
            escape(&ns.query),
            if results.total > 0 {
                " Các văn bản dưới đây dẫn chiếu hoặc nhắc đến số ký hiệu này."
            } else {
                ""
            }
        ));
        if !ns.near.is_empty() {
            html.push_str(
                "<section class=\"near\" aria-labelledby=\"so-gan-giong\"><h2 id=\"so-gan-giong\">Số ký hiệu gần giống (không trùng với số được tìm)</h2><ul>",
            );
            for r in &ns.near {
                let title = display_title(r.doc_type.as_deref(), r.number_symbol.as_deref(), r.id);
                html.push_str(&format!(
                    "<li><a href=\"/van-ban/{id}\"{link_target}>{title}</a> — {issuer}, {date}</li>",
                    id = r.id,
                    title = escape(&title),
                    issuer = escape(r.issuer.as_deref().unwrap_or("—")),
                    date = vn_date(r.issued_date),
                ));
            }
            html.push_str("</ul></section>");
        }
    }
    let summary = if results.total == 0 {
        // An unmatched number-symbol was said above.
        unmatched
            .is_none()
            .then(|| "Không tìm thấy văn bản phù hợp.".to_string())
    } else {
        Some(format!(
            "Tìm thấy {} văn bản{}; hiển thị {}–{}.",
            results.total,
            if results.relaxed {
                " có một phần từ khóa"
            } else {
                ""
            },
            from + 1,
            (from + results.hits.len()).max(from + 1)
        ))
    };
    if let Some(summary) = summary {
        html.push_str(&format!(
            "<p class=\"summary\" role=\"status\">{summary}</p>"
        ));
    }
    html.push_str("<ol class=\"results\">");
    for (hit, snippet) in results.hits.iter().zip(snippets) {
        let r = &hit.record;
        let title = display_title(r.doc_type.as_deref(), r.number_symbol.as_deref(), r.id);
        html.push_str(&format!(
            "<li class=\"hit\" data-id=\"{id}\"><h2><a href=\"/van-ban/{id}\"{target}>{title}</a></h2>\
             <dl class=\"fields\">\
             <dt>Hình thức</dt><dd>{doc_type}</dd>\
             <dt>Cơ quan ban hành</dt><dd>{issuer}</dd>\
             <dt>Số ký hiệu</dt><dd>{ns}</dd>\
             <dt>Ngày ban hành</dt><dd>{issued}</dd>\
             <dt>Ngày hiệu lực</dt><dd>{effective}</dd>\
             <dt>Trích yếu</dt><dd class=\"abstract\">{abstract_text}</dd>\
             </dl>{snippet}\
             <a href=\"/api/v1/documents/{id}/file\">Tải văn bản</a></li>",
            id = r.id,
            target = link_target,
            title = escape(&title),
            doc_type = escape(r.doc_type.as_deref().unwrap_or("—")),
            issuer = escape(r.issuer.as_deref().unwrap_or("—")),
            ns = escape(r.number_symbol.as_deref().unwrap_or("—")),
            issued = vn_date(r.issued_date),
            effective = vn_date(r.effective_date.or(r.issued_date)),
            abstract_text = escape(r.abstract_text.as_deref().unwrap_or("—")),
            snippet = if snippet.is_empty() {
                String::new()
            } else {
                // Already escaped by the snippet builder; only <mark> is markup.
                format!("<p class=\"snippet\">{snippet}</p>")
            },
        ));
    }
    html.push_str("</ol>");
    let pages = results.total.div_ceil(per_page).min(10_000);
    if pages > 1 {
        html.push_str("<nav class=\"pages\" aria-label=\"Phân trang\">");
        let current = req.page.max(1);
        let show = |p: usize| p == 1 || p == pages || p.abs_diff(current) <= 2;
        let mut gap = false;
        for p in 1..=pages {
            if !show(p) {
                if !gap {
                    html.push_str("<span>…</span>");
                    gap = true;
                }
                continue;
            }
            gap = false;
            if p == current {
                html.push_str(&format!("<span aria-current=\"page\">{p}</span>"));
            } else {
                let href = link_with(path, params, "page", Some(&p.to_string()));
                html.push_str(&format!("<a href=\"{}\">{p}</a>", escape(&href)));
            }
        }
        html.push_str("</nav>");
    }
    html
}

async fn search_page(State(state): State<SharedState>, RawQuery(raw): RawQuery) -> Response {
    let site = state.settings.web.site_name.clone();
    let parsed = parse_query(raw.as_deref());
    let params = parsed.as_ref().cloned().unwrap_or_default();
    let req = match parsed.and_then(|params| search_request(&form_params(&params))) {
        Ok(r) => r,
        Err(e) => {
            let body = format!(
                "<h1>Tra cứu văn bản</h1><p role=\"alert\">{}</p><p><a href=\"/van-ban\">Tìm lại</a></p>",
                escape(&e.message)
            );
            return (
                StatusCode::BAD_REQUEST,
                Html(page("Tham số không hợp lệ", &site, "", &body)),
            )
                .into_response();
        }
    };
    let results = match run_search(&state, req.clone()).await {
        Ok(r) => r,
        Err(e) => return error_page(&state, e),
    };
    let snippets = snippets(&state, &results).await;
    let body = format!(
        "<h1>Tra cứu văn bản</h1>{}",
        render_results(
            &ResultsView {
                path: "/van-ban",
                hidden: &[],
                filters: &["type", "issuer", "year", "status", "sort"],
                link_target: "",
            },
            &params,
            &req,
            &results,
            &snippets,
        )
    );
    (
        [public_cache(&state)],
        Html(page("Tra cứu văn bản", &site, "", &body)),
    )
        .into_response()
}

pub fn error_page(state: &AppState, e: ApiError) -> Response {
    let status = e.status;
    let body = format!(
        "<h1>{}</h1><p><a href=\"/van-ban\">Về trang tra cứu</a></p>",
        escape(&e.message)
    );
    (
        status,
        Html(page(&e.message, &state.settings.web.site_name, "", &body)),
    )
        .into_response()
}

async fn document_page(
    State(state): State<SharedState>,
    PublicBase(base): PublicBase,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return error_page(&state, ApiError::not_found());
    };
    match public_record(&state, id).await {
        Ok(record) => render_document(&state, &base, &record).await,
        Err(e) => match withdrawn_record(&state, id).await {
            Some(record) => render_withdrawal(&state, &record),
            None => error_page(&state, e),
        },
    }
}

/// Record `id` when the public sees its withdrawal notice instead of a 404: withdrawn
/// after being public, never classified or internal (`domain::shows_withdrawal_notice`).
pub async fn withdrawn_record(state: &AppState, id: i64) -> Option<DocumentRecord> {
    state
        .store
        .get_document(id)
        .await
        .ok()
        .filter(DocumentRecord::shows_withdrawal_notice)
}

/// "Đã thu hồi ngày …: lý do", as the page and the API say it.
pub fn withdrawal_line(record: &DocumentRecord) -> String {
    let at = record
        .withdrawn_at
        .unwrap_or(record.updated_at)
        .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).expect("offset"))
        .format("%d/%m/%Y");
    match record.withdrawal_reason.as_deref().map(str::trim) {
        Some(reason) if !reason.is_empty() => format!("Đã thu hồi ngày {at}: {reason}"),
        _ => format!("Đã thu hồi ngày {at}"),
    }
}

/// The public page of a withdrawn record (410 Gone): the notice and the document's
/// identity — type, number-symbol, date, issuer — but neither its file nor its text.
fn render_withdrawal(state: &AppState, record: &DocumentRecord) -> Response {
    let f = &record.fields;
    let title = display_title(f.doc_type.as_deref(), f.number_symbol.as_deref(), record.id);
    let row = |label: &str, value: Option<String>| {
        value.map_or(String::new(), |v| {
            format!(
                "<tr><th scope=\"row\">{label}</th><td>{}</td></tr>",
                escape(&v)
            )
        })
    };
    let body = format!(
        "<article><h1>{title}</h1>\
         <p class=\"withdrawn\" role=\"status\"><strong>{notice}</strong></p>\
         <table class=\"fields\"><tbody>{kind}{number}{date}{issuer}</tbody></table>\
         <p>Văn bản này không còn được công khai: tệp và toàn văn không còn được cung cấp.</p>\
         <p><a href=\"/van-ban\">Về trang tra cứu</a></p></article>",
        title = escape(&title),
        notice = escape(&withdrawal_line(record)),
        kind = row("Loại văn bản", f.doc_type.clone()),
        number = row("Số ký hiệu", f.number_symbol.clone()),
        date = row(
            "Ngày ban hành",
            f.issued_date.map(|d| d.format("%d/%m/%Y").to_string())
        ),
        issuer = row("Cơ quan ban hành", f.issuer.clone()),
    );
    (
        StatusCode::GONE,
        [public_cache(state)],
        Html(page(&title, &state.settings.web.site_name, "", &body)),
    )
        .into_response()
}

async fn eli_page(
    State(state): State<SharedState>,
    PublicBase(base): PublicBase,
    Path((issuer, doc_type, year, number)): Path<(String, String, i32, String)>,
) -> Response {
    let candidates = match state.store.published_by_year_number(year, &number).await {
        Ok(c) => c,
        Err(e) => return error_page(&state, e.into()),
    };
    for id in candidates {
        let Ok(record) = public_record(&state, id).await else {
            continue;
        };
        let f = &record.fields;
        if f.issuer.as_deref().map(slug).as_deref() == Some(issuer.as_str())
            && f.doc_type.as_deref().map(slug).as_deref() == Some(doc_type.as_str())
        {
            return render_document(&state, &base, &record).await;
        }
    }
    error_page(&state, ApiError::not_found())
}

/// The document's digital signatures: one line, then who signed, when, and what each
/// signature says about the file.
fn signature_section(record: &DocumentRecord) -> String {
    let Some(v) = crate::web::signatures_of(record).filter(|v| v.is_signed()) else {
        return "<section aria-labelledby=\"chu-ky\"><h2 id=\"chu-ky\">Chữ ký số</h2>\
                <p>Tệp không có chữ ký số.</p></section>"
            .into();
    };
    let class = if v.valid() { "sig-ok" } else { "sig-warn" };
    let mut rows = String::new();
    for s in &v.signatures {
        let signer = s.signer.as_ref();
        let when = s
            .signed_at
            .map(|t| {
                t.with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).expect("offset"))
                    .format("%H:%M:%S %d/%m/%Y")
                    .to_string()
            })
            .unwrap_or_else(|| "—".into());
        let mut result = s.status.label().to_string();
        if s.weak_algorithm {
            result.push_str("; băm SHA-1 đã lỗi thời");
        }
        let mut certificate = s.chain.as_ref().map_or("—".into(), |c| c.label());
        if s.certificate_valid_at_signing == Some(false) {
            certificate.push_str("; hết hiệu lực vào lúc ký");
        }
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(
                signer
                    .and_then(|p| p.name.common_name.as_deref())
                    .unwrap_or("—")
            ),
            escape(
                signer
                    .and_then(|p| p.name.organization.as_deref())
                    .unwrap_or("—")
            ),
            escape(&when),
            escape(&result),
            escape(&certificate),
        ));
    }
    format!(
        "<section aria-labelledby=\"chu-ky\"><h2 id=\"chu-ky\">Chữ ký số</h2>\
         <p class=\"{class}\">{message}</p>\
         <table><thead><tr><th scope=\"col\">Người ký</th><th scope=\"col\">Tổ chức</th>\
         <th scope=\"col\">Thời điểm ký</th><th scope=\"col\">Kết quả kiểm tra</th>\
         <th scope=\"col\">Chứng thư số</th></tr></thead><tbody>{rows}</tbody></table>\
         <p class=\"note\">Kiểm tra ngoại tuyến khi lưu văn bản; chưa kiểm tra thu hồi chứng thư (CRL/OCSP).</p>\
         </section>",
        message = escape(&v.message().unwrap_or_default()),
    )
}

async fn render_document(state: &AppState, base: &str, record: &DocumentRecord) -> Response {
    let f = &record.fields;
    let title = display_title(f.doc_type.as_deref(), f.number_symbol.as_deref(), record.id);
    let text = state
        .store
        .document_text(record.id)
        .await
        .unwrap_or_default();
    let canonical = eli_path(record).unwrap_or_else(|| format!("/van-ban/{}", record.id));
    let validity = Validity::of(f.effective_date.or(f.issued_date));

    let mut cites_html = String::new();
    for c in state.store.citations(record.id).await.unwrap_or_default() {
        let target = state
            .store
            .published_by_number_symbol(&c.number_symbol)
            .await
            .ok()
            .flatten();
        let label = match &c.cited_type {
            Some(t) => format!("{t} {}", c.number_symbol),
            None => c.number_symbol.clone(),
        };
        let date = c
            .cited_date
            .map(|d| format!(" ngày {}", vn_date(Some(d))))
            .unwrap_or_default();
        cites_html.push_str(&match target {
            Some(t) if t != record.id => format!(
                "<li><a href=\"/van-ban/{t}\">{}</a>{}</li>",
                escape(&label),
                escape(&date)
            ),
            _ => format!("<li>{}{}</li>", escape(&label), escape(&date)),
        });
    }
    let mut cited_by_html = String::new();
    if let Some(ns) = &f.number_symbol {
        for other in state.store.published_citing(ns).await.unwrap_or_default() {
            if other == record.id {
                continue;
            }
            if let Ok(r) = state.store.get_document(other).await {
                let label = display_title(
                    r.fields.doc_type.as_deref(),
                    r.fields.number_symbol.as_deref(),
                    other,
                );
                cited_by_html.push_str(&format!(
                    "<li><a href=\"/van-ban/{other}\">{}</a> — {}</li>",
                    escape(&label),
                    escape(r.fields.abstract_text.as_deref().unwrap_or(""))
                ));
            }
        }
    }
    let json_ld = json!({
        "@context": "https://schema.org",
        "@type": "Legislation",
        "@id": format!("{base}{canonical}"),
        "name": title,
        "legislationIdentifier": f.number_symbol,
        "legislationType": f.doc_type,
        "legislationDate": f.issued_date,
        "datePublished": record.updated_at.date_naive(),
        "legislationPassedBy": f.issuer.as_ref().map(|i| json!({"@type": "GovernmentOrganization", "name": i})),
        "legislationLegalForce": match validity { Validity::InForce => "https://schema.org/InForce", Validity::NotYetInForce => "https://schema.org/NotInForce" },
        "abstract": f.abstract_text,
        "inLanguage": "vi",
        "encoding": {"@type": "MediaObject", "contentUrl": format!("{base}/api/v1/documents/{}/file", record.id), "encodingFormat": "application/pdf", "sha256": record.file_sha256},
        "url": format!("{base}{canonical}"),
    });
    // `</` must not appear inside the script element.
    let json_ld = json_ld.to_string().replace("</", "<\\/");
    let head = format!(
        "<link rel=\"canonical\" href=\"{}\"><script type=\"application/ld+json\">{json_ld}</script>",
        escape(&format!("{base}{canonical}"))
    );
    let row =
        |label: &str, value: &str| format!("<dt>{}</dt><dd>{}</dd>", escape(label), escape(value));
    let mut fields = String::new();
    fields.push_str(&row("Hình thức", f.doc_type.as_deref().unwrap_or("—")));
    fields.push_str(&row(
        "Số ký hiệu",
        f.number_symbol.as_deref().unwrap_or("—"),
    ));
    fields.push_str(&row("Cơ quan ban hành", f.issuer.as_deref().unwrap_or("—")));
    fields.push_str(&row("Ngày ban hành", &vn_date(f.issued_date)));
    fields.push_str(&row(
        "Ngày hiệu lực",
        &vn_date(f.effective_date.or(f.issued_date)),
    ));
    fields.push_str(&row("Tình trạng hiệu lực", validity.label()));
    fields.push_str(&row("Trích yếu", f.abstract_text.as_deref().unwrap_or("—")));
    let signer = [
        f.signing_authority.as_deref(),
        f.signer_title.as_deref(),
        f.signer_name.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    fields.push_str(&row(
        "Người ký",
        if signer.is_empty() { "—" } else { &signer },
    ));
    let signatures = signature_section(record);
    let attachments = attachments_section(state, record.id).await;
    let body = format!(
        "<article><h1>{title}</h1>\
         <p class=\"abstract\">{abstract_text}</p>\
         <dl class=\"fields\">{fields}</dl>\
         <p><a href=\"/api/v1/documents/{id}/file\" download>Tải văn bản gốc (PDF, {pages} trang)</a> · \
         <span>Mã SHA-256: <code>{sha}</code></span></p>\
         {signatures}{attachments}\
         <section aria-labelledby=\"cites\"><h2 id=\"cites\">Văn bản được dẫn chiếu</h2>{cites}</section>\
         <section aria-labelledby=\"cited-by\"><h2 id=\"cited-by\">Văn bản dẫn chiếu đến văn bản này</h2>{cited_by}</section>\
         <section aria-labelledby=\"toan-van\"><h2 id=\"toan-van\">Toàn văn</h2><div class=\"text\">{text}</div></section>\
         </article>",
        title = escape(&title),
        abstract_text = escape(f.abstract_text.as_deref().unwrap_or("")),
        id = record.id,
        pages = f.pages,
        sha = escape(&record.file_sha256),
        cites = if cites_html.is_empty() {
            "<p>Không có.</p>".to_string()
        } else {
            format!("<ul>{cites_html}</ul>")
        },
        cited_by = if cited_by_html.is_empty() {
            "<p>Không có.</p>".to_string()
        } else {
            format!("<ul>{cited_by_html}</ul>")
        },
        text = escape(&text),
    );
    (
        [
            public_cache(state),
            (
                header::LINK,
                axum::http::HeaderValue::from_str(&format!(
                    "<{base}{canonical}>; rel=\"canonical\""
                ))
                .unwrap_or(axum::http::HeaderValue::from_static("")),
            ),
        ],
        Html(page(&title, &state.settings.web.site_name, &head, &body)),
    )
        .into_response()
}

/// The record's further files (appendices, drafts delivered with it), each downloadable.
async fn attachments_section(state: &AppState, id: i64) -> String {
    let list = match state.store.attachments(id).await {
        Ok(list) => list,
        Err(e) => {
            tracing::warn!(error = %e, id, "cannot list a record's attached files");
            return String::new();
        }
    };
    if list.is_empty() {
        return String::new();
    }
    let items: String = list
        .iter()
        .map(|a| {
            format!(
                "<li>{label}: <a href=\"/api/v1/documents/{id}/attachments/{n}\" download>{name}</a> \
                 <span>({size})</span></li>",
                label = escape(a.role.label()),
                n = a.position,
                name = escape(&a.filename),
                size = human_size(a.size),
            )
        })
        .collect();
    format!(
        "<section aria-labelledby=\"tep-kem\"><h2 id=\"tep-kem\">Tệp kèm theo</h2><ul>{items}</ul></section>"
    )
}

fn human_size(bytes: i64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{} KB", b / 1024),
        b => format!("{b} byte"),
    }
}
