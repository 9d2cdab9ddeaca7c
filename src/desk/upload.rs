//! Desk uploads: `GET /desk/upload` (the page: file picker, drag and drop, per-file
//! progress), `POST /desk/upload` (multipart, several files), `GET /desk/uploads` (recent
//! uploads of the account's units), `GET /desk/uploads/status?ids=…` (JSON job states for
//! the page's script) and `GET /desk/upload.js` (that script, vendored).
//!
//! Each file part is streamed to a temporary file under `<data_dir>/upload-tmp/` with a
//! byte limit (the file's and the request's), hashed on the way; nothing is held in memory
//! but the part in hand. When the body is read, the CSRF token (form field `csrf` or
//! header `X-CSRF-Token`) and the unit (one the account may write) are checked; then each
//! file is judged by [`crate::upload_check`] and, if accepted, handed to
//! [`crate::jobs::enqueue_upload`] (blob through the guard + job row in one transaction).
//! A refused file leaves nothing: its temporary copy is removed with the request's
//! temporary folder.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::auth::{DeskError, DeskUser};
use crate::jobs::{self, JobView, NewUpload};
use crate::upload_check::{self, Limits, Refusal};
use crate::web::SharedState;
use crate::web::html::escape;

/// The script of the upload page (progress, drag and drop); the page works without it.
const SCRIPT: &str = include_str!("static/upload.js");
/// Multipart framing (boundaries, part headers) allowed beyond the files' bytes.
const FRAMING_SLACK: u64 = 1024 * 1024;
/// A text field (CSRF token, unit code, checkbox) longer than this is cut.
const MAX_TEXT_FIELD: usize = 4096;
/// Job ids one status request may ask for.
const MAX_STATUS_IDS: usize = 500;
/// Uploads listed on `/desk/uploads`.
const RECENT_UPLOADS: i64 = 200;
/// A request's temporary folder older than this is a crashed request's leftover.
const STALE_SPOOL_SECONDS: u64 = 3600;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route(
            UPLOAD_PATH,
            // The upload counts its own bytes against `[extraction]` limits (per file and
            // per request) while streaming, so axum's 2 MB default is lifted here only.
            get(upload_page)
                .post(upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/desk/uploads", get(recent_uploads))
        .route("/desk/uploads/status", get(upload_status))
        .route("/desk/upload.js", get(script))
}

/// The upload endpoint (the server gives it a longer deadline than other requests).
pub const UPLOAD_PATH: &str = "/desk/upload";

/// `Cache-Control: no-store` on every desk answer.
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn page(_state: &SharedState, user: &DeskUser, title: &str, head: &str, body: &str) -> Response {
    // The upload script (in `head`) is deferred: placed before the body, it runs after it.
    let html =
        crate::desk::layout::desk_page_at(user, title, "/desk/upload", &format!("{head}{body}"));
    no_store(html.into_response())
}

/// The units this account may upload into, in a stable order.
async fn writable_units(state: &SharedState, user: &DeskUser) -> Result<Vec<String>, DeskError> {
    if user.unit_scope().is_none() {
        // Every unit (admin): the units table.
        let mut units: Vec<String> = state
            .store
            .units()
            .await?
            .into_iter()
            .map(|u| u.code)
            .collect();
        units.sort();
        return Ok(units);
    }
    let mut units: Vec<String> = user
        .units
        .iter()
        .filter(|u| user.can_write(u))
        .cloned()
        .collect();
    units.sort();
    units.dedup();
    Ok(units)
}

async fn script() -> Response {
    let mut response = (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn upload_page(
    State(state): State<SharedState>,
    user: DeskUser,
) -> Result<Response, DeskError> {
    let units = writable_units(&state, &user).await?;
    let limits = Limits::from_settings(&state.settings.extraction);
    let body = if units.is_empty() {
        "<h1>Tải văn bản lên</h1><p>Tài khoản này chỉ được xem, không tải văn bản lên được.</p>"
            .to_string()
    } else {
        let options: String = units
            .iter()
            .map(|u| format!("<option value=\"{0}\">{0}</option>", escape(u)))
            .collect();
        format!(
            r#"<h1>Tải văn bản lên</h1>
<p>Chọn hoặc kéo thả một hay nhiều tệp PDF hoặc ảnh quét (JPEG, PNG, TIFF); mỗi tệp tối đa {max_file}, mỗi lần tải tối đa {max_request}. Tệp được kiểm tra theo nội dung, không theo tên.</p>
<form id="upload-form" method="post" action="/desk/upload" enctype="multipart/form-data">
<input type="hidden" name="csrf" value="{csrf}">
<p><label>Đơn vị <select name="unit">{options}</select></label></p>
<p><label><input type="checkbox" name="publish" value="1"> Công khai ngay nếu văn bản đạt mọi điều kiện</label></p>
<div id="drop-zone" class="drop-zone" tabindex="0"><p>Kéo thả tệp vào đây, hoặc <label><input id="file-input" type="file" name="files" multiple accept=".pdf,.jpg,.jpeg,.png,.tif,.tiff,application/pdf,image/jpeg,image/png,image/tiff"></label></p></div>
<p><button type="submit">Tải lên</button></p>
</form>
<table id="upload-list" class="uploads" hidden><thead><tr><th>Tệp</th><th>Tiến độ</th><th>Kết quả</th></tr></thead><tbody></tbody></table>
<p><a href="/desk/uploads">Các lần tải lên gần đây</a></p>
<style>.drop-zone{{border:2px dashed #888;padding:1.5em;margin:1em 0}}.drop-zone.over{{background:#eef}}progress{{width:10em}}.refused{{color:#a00}}</style>
<script src="/desk/upload.js" defer></script>"#,
            max_file = human(limits.max_file_bytes),
            max_request = human(limits.max_request_bytes),
            csrf = escape(&user.csrf_token),
        )
    };
    Ok(page(&state, &user, "Tải văn bản lên", "", &body))
}

fn human(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= 1024 * MIB {
        format!("{:.0} GB", bytes as f64 / (1024 * MIB) as f64)
    } else {
        format!("{} MB", bytes.div_ceil(MIB))
    }
}

/// One file's answer.
#[derive(Debug, Serialize)]
pub struct FileAnswer {
    pub filename: String,
    pub accepted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    pub message: String,
}

/// A file part as received: where its bytes wait, or why it was cut off.
struct Spooled {
    filename: String,
    path: PathBuf,
    size: u64,
    sha256: String,
    cut: Option<Refusal>,
}

/// A request's temporary folder under `<data_dir>/upload-tmp/`; removed when dropped.
fn spool_root(state: &SharedState) -> PathBuf {
    state.settings.storage.data_dir.join("upload-tmp")
}

/// Removes request folders a crashed server left behind.
fn sweep_stale_spools(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() > STALE_SPOOL_SECONDS);
        if stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn internal(e: impl std::fmt::Display) -> DeskError {
    DeskError::Internal(e.to_string())
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

async fn read_text_field(
    field: &mut axum::extract::multipart::Field<'_>,
) -> Result<String, DeskError> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(bad_body)? {
        if out.len() < MAX_TEXT_FIELD {
            out.extend_from_slice(&chunk[..chunk.len().min(MAX_TEXT_FIELD - out.len())]);
        }
    }
    Ok(String::from_utf8_lossy(&out).trim().to_string())
}

fn bad_body(e: axum::extract::multipart::MultipartError) -> DeskError {
    tracing::warn!(error = %e, "upload body unreadable");
    DeskError::Invalid(format!("Không đọc được dữ liệu tải lên: {}", e.body_text()))
}

async fn upload(
    State(state): State<SharedState>,
    user: DeskUser,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, DeskError> {
    let json = wants_json(&headers);
    // The header token is checked before a byte of the body is read.
    let header_token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if header_token.is_some() {
        user.verify_csrf(header_token.as_deref())?;
    }
    if writable_units(&state, &user).await?.is_empty() {
        return Err(DeskError::Forbidden(
            "Tài khoản này không được tải văn bản lên.".into(),
        ));
    }
    let limits = Limits::from_settings(&state.settings.extraction);
    let mut multipart = Multipart::from_request(request, &state)
        .await
        .map_err(|e| {
            DeskError::Invalid(format!("Yêu cầu tải lên không hợp lệ: {}", e.body_text()))
        })?;

    let root = spool_root(&state);
    std::fs::create_dir_all(&root).map_err(internal)?;
    sweep_stale_spools(&root);
    let spool = tempfile::Builder::new()
        .prefix("request-")
        .tempdir_in(&root)
        .map_err(internal)?;

    let mut form_token = None;
    let mut unit = None;
    let mut publish = false;
    let mut files: Vec<Spooled> = Vec::new();
    let mut total: u64 = 0;
    let request_limit = limits.max_request_bytes;
    let mut over_request = false;
    while let Some(mut field) = multipart.next_field().await.map_err(bad_body)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "csrf" => form_token = Some(read_text_field(&mut field).await?),
            "unit" => unit = Some(read_text_field(&mut field).await?),
            "publish" => {
                let value = read_text_field(&mut field).await?;
                publish = !matches!(value.as_str(), "" | "0" | "false" | "off");
            }
            "files" | "file" => {
                let filename = upload_check::display_name(field.file_name().unwrap_or_default());
                let path = spool.path().join(format!("{}.upload", files.len()));
                let mut out = tokio::fs::File::create(&path).await.map_err(internal)?;
                let mut hasher = Sha256::new();
                let mut size: u64 = 0;
                let mut cut = None;
                loop {
                    let chunk = match field.chunk().await {
                        Ok(Some(chunk)) => chunk,
                        Ok(None) => break,
                        Err(e) => return Err(bad_body(e)),
                    };
                    total += chunk.len() as u64;
                    if total > request_limit + FRAMING_SLACK {
                        cut = Some(Refusal::RequestTooLarge {
                            limit: request_limit,
                        });
                        over_request = true;
                        break;
                    }
                    size += chunk.len() as u64;
                    if size > limits.max_file_bytes {
                        // Keep reading (counted against the request) but store nothing.
                        cut.get_or_insert(Refusal::TooLarge {
                            limit: limits.max_file_bytes,
                        });
                        continue;
                    }
                    hasher.update(&chunk);
                    out.write_all(&chunk).await.map_err(internal)?;
                }
                out.flush().await.map_err(internal)?;
                drop(out);
                // A form posted with no file chosen sends one empty, nameless part.
                let nothing_chosen = size == 0 && field.file_name().unwrap_or_default().is_empty();
                if !nothing_chosen {
                    files.push(Spooled {
                        filename,
                        path,
                        size,
                        sha256: hex::encode(hasher.finalize()),
                        cut,
                    });
                }
                if over_request {
                    break;
                }
            }
            _ => {
                // Unknown fields are read and ignored.
                let _ = read_text_field(&mut field).await?;
            }
        }
    }
    drop(multipart);

    if header_token.is_none() {
        user.verify_csrf(form_token.as_deref())?;
    }
    let units = writable_units(&state, &user).await?;
    let unit = match unit.filter(|u| !u.is_empty()) {
        Some(u) => u,
        None if units.len() == 1 => units[0].clone(),
        None => {
            return Err(DeskError::Invalid(
                "Chưa chọn đơn vị cho văn bản tải lên.".into(),
            ));
        }
    };
    if !user.can_write(&unit) || !units.contains(&unit) {
        return Err(DeskError::Forbidden(format!(
            "Tài khoản này không được tải văn bản lên cho đơn vị «{unit}»."
        )));
    }
    if files.is_empty() {
        return Err(DeskError::Invalid("Chưa chọn tệp nào để tải lên.".into()));
    }

    let mut answers = Vec::with_capacity(files.len());
    for file in files {
        answers.push(take_in(&state, &user, &unit, publish, &limits, file).await);
    }
    drop(spool);
    let accepted = answers.iter().filter(|a| a.accepted).count();
    let status = if accepted == 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    if json {
        let body = serde_json::json!({
            "accepted": accepted,
            "refused": answers.len() - accepted,
            "files": answers,
        });
        return Ok(no_store((status, axum::Json(body)).into_response()));
    }
    let mut response = page(
        &state,
        &user,
        "Kết quả tải lên",
        "",
        &answers_html(&answers),
    );
    *response.status_mut() = status;
    Ok(response)
}

/// Checks one spooled file and, if accepted, enqueues its job. Every outcome is an answer.
async fn take_in(
    state: &SharedState,
    user: &DeskUser,
    unit: &str,
    publish: bool,
    limits: &Limits,
    file: Spooled,
) -> FileAnswer {
    let refused = |refusal: Refusal| {
        if let Refusal::Io(detail) = &refusal {
            tracing::error!(%detail, "upload spool unreadable");
        }
        FileAnswer {
            filename: file.filename.clone(),
            accepted: false,
            job_id: None,
            code: Some(refusal.code()),
            message: refusal.message(&file.filename),
        }
    };
    if let Some(cut) = file.cut.clone() {
        return refused(cut);
    }
    let path = file.path.clone();
    let size = file.size;
    let limits = *limits;
    let verdict = tokio::task::spawn_blocking(move || {
        let handle = std::fs::File::open(&path).map_err(|e| Refusal::Io(e.to_string()))?;
        upload_check::check(std::io::BufReader::new(handle), size, &limits)
    })
    .await
    .unwrap_or_else(|e| Err(Refusal::Io(e.to_string())));
    let accepted = match verdict {
        Ok(accepted) => accepted,
        Err(refusal) => return refused(refusal),
    };
    let bytes = match tokio::fs::read(&file.path).await {
        Ok(bytes) => bytes,
        Err(e) => return refused(Refusal::Io(e.to_string())),
    };
    let _ = tokio::fs::remove_file(&file.path).await;
    debug_assert_eq!(crate::extract::sha256_hex(&bytes), file.sha256);
    let upload = NewUpload {
        filename: file.filename.clone(),
        media_type: accepted.kind.media_type().into(),
        unit_code: unit.to_string(),
        actor: user.actor(),
        publish,
    };
    match jobs::enqueue_upload(state, upload, &bytes).await {
        Ok(id) => FileAnswer {
            filename: file.filename,
            accepted: true,
            job_id: Some(id),
            code: None,
            message: format!("Đã nhận ({}), đang chờ xử lý.", accepted.kind.label()),
        },
        Err(e) => {
            tracing::error!(error = %e, file = %file.filename, "upload not enqueued");
            FileAnswer {
                filename: file.filename,
                accepted: false,
                job_id: None,
                code: Some("store_error"),
                message: "Hệ thống chưa lưu được tệp này; hãy thử lại sau.".into(),
            }
        }
    }
}

fn answers_html(answers: &[FileAnswer]) -> String {
    let rows: String = answers
        .iter()
        .map(|a| {
            let result = match a.job_id {
                Some(id) => format!(
                    "{} <a href=\"/desk/uploads?ids={id}\">Theo dõi</a>",
                    escape(&a.message)
                ),
                None => format!("<span class=\"refused\">{}</span>", escape(&a.message)),
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{result}</td></tr>",
                escape(&a.filename),
                if a.accepted {
                    "Đã nhận"
                } else {
                    "Bị từ chối"
                },
            )
        })
        .collect();
    let ids: Vec<String> = answers
        .iter()
        .filter_map(|a| a.job_id.map(|id| id.to_string()))
        .collect();
    let follow = if ids.is_empty() {
        String::new()
    } else {
        format!(
            "<p><a href=\"/desk/uploads?ids={}\">Theo dõi tiến độ các tệp đã nhận</a></p>",
            ids.join(",")
        )
    };
    format!(
        "<h1>Kết quả tải lên</h1><table class=\"uploads\"><thead><tr><th>Tệp</th><th>Nhận</th>\
         <th>Kết quả</th></tr></thead><tbody>{rows}</tbody></table>{follow}\
         <p><a href=\"/desk/upload\">Tải thêm</a></p>"
    )
}

#[derive(Debug, Deserialize)]
struct IdsQuery {
    #[serde(default)]
    ids: Option<String>,
}

fn parse_ids(raw: Option<&str>) -> Result<Vec<i64>, DeskError> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let ids: Result<Vec<i64>, _> = raw.split(',').map(|s| s.trim().parse::<i64>()).collect();
    let ids = ids.map_err(|_| DeskError::Invalid("Danh sách mã tải lên không hợp lệ.".into()))?;
    if ids.len() > MAX_STATUS_IDS {
        return Err(DeskError::Invalid(format!(
            "Hỏi tối đa {MAX_STATUS_IDS} tệp một lần."
        )));
    }
    Ok(ids)
}

/// A job as the page's script reads it.
#[derive(Debug, Serialize)]
struct StatusView<'a> {
    #[serde(flatten)]
    job: &'a JobView,
    #[serde(rename = "final")]
    is_final: bool,
    document_url: Option<String>,
}

async fn upload_status(
    State(state): State<SharedState>,
    user: DeskUser,
    Query(query): Query<IdsQuery>,
) -> Result<Response, DeskError> {
    let ids = parse_ids(query.ids.as_deref())?;
    let views = jobs::job_views(&state.store, &ids, user.unit_scope()).await?;
    let jobs: Vec<StatusView> = views
        .iter()
        .map(|job| StatusView {
            job,
            is_final: job.state.is_final(),
            document_url: job.document_id.map(|id| format!("/desk/documents/{id}")),
        })
        .collect();
    Ok(no_store(
        axum::Json(serde_json::json!({ "jobs": jobs })).into_response(),
    ))
}

async fn recent_uploads(
    State(state): State<SharedState>,
    user: DeskUser,
    Query(query): Query<IdsQuery>,
) -> Result<Response, DeskError> {
    let ids = parse_ids(query.ids.as_deref())?;
    let (title, views) = if ids.is_empty() {
        let records = state
            .store
            .recent_jobs(user.unit_scope(), RECENT_UPLOADS)
            .await?;
        (
            "Các lần tải lên gần đây",
            records.iter().map(JobView::of).collect::<Vec<_>>(),
        )
    } else {
        (
            "Tiến độ tải lên",
            jobs::job_views(&state.store, &ids, user.unit_scope()).await?,
        )
    };
    let rows: String = views
        .iter()
        .map(|v| {
            let document = v
                .document_id
                .map(|id| format!("<a href=\"/desk/documents/{id}\">Văn bản #{id}</a>"))
                .unwrap_or_default();
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"state-{}\">{}</td><td>{}</td><td>{document}</td></tr>",
                v.created_at.format("%d/%m/%Y %H:%M"),
                escape(&v.filename),
                escape(&v.unit_code),
                v.state.as_str(),
                escape(v.state.label()),
                escape(&v.detail),
            )
        })
        .collect();
    let pending = views.iter().any(|v| !v.state.is_final());
    // Without a script the page refreshes itself while something is still being read.
    let refresh = if pending {
        "<meta http-equiv=\"refresh\" content=\"5\">"
    } else {
        ""
    };
    let body = if views.is_empty() {
        format!(
            "<h1>{title}</h1><p>Chưa có tệp nào được tải lên.</p><p><a href=\"/desk/upload\">Tải văn bản lên</a></p>"
        )
    } else {
        format!(
            "<h1>{title}</h1><table class=\"uploads\"><thead><tr><th>Lúc</th><th>Tệp</th>\
             <th>Đơn vị</th><th>Trạng thái</th><th>Chi tiết</th><th>Văn bản</th></tr></thead>\
             <tbody>{rows}</tbody></table><p><a href=\"/desk/upload\">Tải văn bản lên</a></p>"
        )
    };
    Ok(page(&state, &user, title, refresh, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_ids_are_parsed_strictly() {
        let cases: &[(Option<&str>, Option<Vec<i64>>)] = &[
            (None, Some(vec![])),
            (Some(""), Some(vec![])),
            (Some("1,2, 3"), Some(vec![1, 2, 3])),
            (Some("1,x"), None),
            (Some("1,,2"), None),
        ];
        for (raw, expected) in cases {
            let got = parse_ids(*raw).ok();
            assert_eq!(&got, expected, "{raw:?}");
        }
        let many = (0..=MAX_STATUS_IDS)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert!(parse_ids(Some(&many)).is_err());
    }
}
