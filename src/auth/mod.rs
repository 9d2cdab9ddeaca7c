//! Who works at the desk: roles, the signed-in account ([`DeskUser`], an extractor every
//! desk handler takes), CSRF checks, and the desk's error answers ([`DeskError`]).
//!
//! - Passwords are argon2id PHC strings, hashed and verified on a blocking thread
//!   ([`password`]).
//! - Sessions are server-side rows keyed by the SHA-256 of a random cookie token
//!   ([`session`]); the cookie `vanban_session` is `Secure; HttpOnly; SameSite=Strict;
//!   Path=/desk`. A session ends when unused for `desk.session_idle_minutes`, at
//!   `desk.session_max_hours` after sign-in, at sign-out, when the account's password
//!   changes (its other sessions), and at once when the account is disabled.
//! - Every state-changing desk request carries the session's CSRF token, in a `csrf` form
//!   field or an `X-CSRF-Token` header, compared in constant time.
//! - Sign-in failures lock an account after `desk.login_max_failures` in a row, and a
//!   client address after `desk.login_max_failures_per_client` within `lockout_minutes`.

pub mod form;
pub mod password;
pub mod session;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError};
use crate::web::SharedState;
use crate::web::html::escape;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Every unit; accounts, units and settings.
    Admin,
    /// Its own unit or units: upload, correct, publish, withhold, withdraw.
    Clerk,
    /// Reads its own units; changes nothing.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Clerk, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Clerk => "clerk",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// What the desk calls it.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Quản trị",
            Role::Clerk => "Văn thư",
            Role::Viewer => "Chỉ xem",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::parse(s.trim()).ok_or_else(|| format!("unknown role {s:?}: admin, clerk or viewer"))
    }
}

/// The signed-in account, from the session cookie. Taking it as a handler argument is
/// what makes a route need a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskUser {
    pub account_id: i64,
    pub name: String,
    pub display_name: String,
    pub role: Role,
    /// The units it belongs to (an administrator's may be empty: it has every unit).
    pub units: Vec<String>,
    /// Put in every state-changing form as `<input name="csrf">`.
    pub csrf_token: String,
    /// The SHA-256 of the session token (to end the other sessions, or this one).
    pub session_sha256: String,
}

impl DeskUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Administrators read every unit; clerks and viewers their own.
    pub fn can_read(&self, unit: &str) -> bool {
        self.is_admin() || self.units.iter().any(|u| u == unit)
    }

    /// Administrators write every unit, clerks their own, viewers none.
    pub fn can_write(&self, unit: &str) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Clerk => self.units.iter().any(|u| u == unit),
            Role::Viewer => false,
        }
    }

    /// The units to filter by in queries: `None` means every unit (an administrator).
    pub fn unit_scope(&self) -> Option<&[String]> {
        (!self.is_admin()).then_some(self.units.as_slice())
    }

    /// Checks the CSRF token a request presented (form field `csrf` or header
    /// `X-CSRF-Token`), in constant time.
    pub fn verify_csrf(&self, presented: Option<&str>) -> Result<(), DeskError> {
        match presented {
            Some(token) if constant_time_eq(token.as_bytes(), self.csrf_token.as_bytes()) => Ok(()),
            _ => Err(DeskError::Csrf),
        }
    }

    /// [`DeskUser::verify_csrf`] on the `X-CSRF-Token` header, else `form_value`.
    pub fn verify_csrf_in(
        &self,
        headers: &HeaderMap,
        form_value: Option<&str>,
    ) -> Result<(), DeskError> {
        self.verify_csrf(csrf_header(headers).or(form_value))
    }

    /// Refused unless an administrator.
    pub fn require_admin(&self) -> Result<(), DeskError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(DeskError::Forbidden(
                "Chỉ tài khoản quản trị được làm việc này.".into(),
            ))
        }
    }

    /// Refused unless the account may change records of `unit`.
    pub fn require_write(&self, unit: &str) -> Result<(), DeskError> {
        if self.can_write(unit) {
            Ok(())
        } else if self.role == Role::Viewer {
            Err(DeskError::Forbidden(
                "Tài khoản chỉ xem không được thay đổi văn bản.".into(),
            ))
        } else {
            Err(DeskError::Forbidden(format!(
                "Tài khoản không thuộc đơn vị {unit}."
            )))
        }
    }

    /// How the audit trail names this account.
    pub fn actor(&self) -> String {
        format!("desk:{}", self.name)
    }
}

/// The `X-CSRF-Token` header that `fetch()` calls send.
pub fn csrf_header(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-csrf-token").and_then(|v| v.to_str().ok())
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

impl FromRequestParts<SharedState> for DeskUser {
    type Rejection = DeskError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<DeskUser>() {
            return Ok(user.clone());
        }
        let user = match session::cookie(&parts.headers, session::COOKIE) {
            Some(token) => session::load(state, token).await?,
            None => None,
        };
        match user {
            Some(user) => {
                parts.extensions.insert(user.clone());
                Ok(user)
            }
            None => Err(DeskError::Unauthenticated {
                next: matches!(parts.method, Method::GET | Method::HEAD).then(|| {
                    parts
                        .uri
                        .path_and_query()
                        .map(|p| p.as_str().to_string())
                        .unwrap_or_else(|| "/desk/".into())
                }),
            }),
        }
    }
}

/// Where to go after signing in: only a path under `/desk/` (no other host, no scheme,
/// nothing a browser could read as one), else the dashboard.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if (n == "/desk" || n.starts_with("/desk/"))
                && !n.contains("//")
                && !n.contains('\\')
                && !n.contains("/../")
                && !n.ends_with("/..")
                && n.chars().all(|c| c.is_ascii_graphic()) =>
        {
            n.to_string()
        }
        _ => "/desk/".into(),
    }
}

/// A sign-in name: letters a–z, digits, `.`, `_`, `-`, 2 to 64 of them, lower-cased.
pub fn normalize_account_name(raw: &str) -> Result<String, String> {
    let name = raw.trim().to_ascii_lowercase();
    if name.len() < 2 || name.len() > 64 {
        return Err("Tên đăng nhập dài từ 2 đến 64 ký tự.".into());
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(
            "Tên đăng nhập chỉ gồm chữ không dấu, chữ số và các dấu . _ - (ví dụ: vanthu.quoctuan)."
                .into(),
        );
    }
    Ok(name)
}

/// A display or unit name: NFC, trimmed, 1 to 200 characters, no control characters.
pub fn normalize_label(raw: &str, what: &str) -> Result<String, String> {
    if raw.chars().any(char::is_control) {
        return Err(format!("{what} không được chứa ký tự điều khiển."));
    }
    let text = crate::text::normalize(raw).trim().to_string();
    let count = text.chars().count();
    if count == 0 || count > 200 {
        return Err(format!("{what} dài từ 1 đến 200 ký tự."));
    }
    Ok(text)
}

/// An organ code (`000.46.24.H44`): 1 to 64 letters, digits, `.`, `-`, `_`.
pub fn normalize_unit_code(raw: &str) -> Result<String, String> {
    let code = raw.trim();
    if code.is_empty()
        || code.len() > 64
        || !code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Err(format!(
            "Mã đơn vị không hợp lệ: «{code}» (mã định danh gồm chữ, số và dấu chấm, ví dụ 000.46.24.H44)."
        ));
    }
    Ok(code.to_string())
}

/// Creates the units the configuration names and those records are filed under by default
/// (`ingest.default_unit`, each sync source's `unit`), when missing. Existing units are left
/// as they are, so running it at every start is harmless. Parents are created before their
/// children whatever the order in the file.
pub async fn seed_units(store: &Store, settings: &crate::config::Settings) -> anyhow::Result<()> {
    let mut pending: Vec<(String, String, Option<String>)> = Vec::new();
    for unit in &settings.desk.units {
        let code = normalize_unit_code(&unit.code).map_err(anyhow::Error::msg)?;
        let name = normalize_label(&unit.name, "Tên đơn vị").map_err(anyhow::Error::msg)?;
        let parent = match unit.parent.as_deref().map(str::trim) {
            Some(p) if !p.is_empty() => Some(normalize_unit_code(p).map_err(anyhow::Error::msg)?),
            _ => None,
        };
        pending.push((code, name, parent));
    }
    let implied = std::iter::once(settings.ingest.default_unit.as_str())
        .chain(
            settings
                .sync
                .sources
                .values()
                .filter_map(|s| s.unit.as_deref()),
        )
        .map(str::trim)
        .filter(|c| !c.is_empty());
    for code in implied {
        if !pending.iter().any(|(c, _, _)| c == code) {
            let code = normalize_unit_code(code).map_err(anyhow::Error::msg)?;
            pending.push((code.clone(), code, None));
        }
    }
    while !pending.is_empty() {
        let mut later = Vec::new();
        let before = pending.len();
        for (code, name, parent) in pending {
            let ready = match &parent {
                None => true,
                Some(p) => store.unit(p).await?.is_some(),
            };
            if ready {
                if store
                    .ensure_unit(&code, &name, parent.as_deref(), "system:config")
                    .await?
                {
                    tracing::info!(unit = %code, "unit created from the configuration");
                }
            } else {
                later.push((code, name, parent));
            }
        }
        if later.len() == before {
            let (code, _, parent) = &later[0];
            anyhow::bail!(
                "desk.units: unit {code} names parent {} that is neither configured nor stored",
                parent.as_deref().unwrap_or("")
            );
        }
        pending = later;
    }
    Ok(())
}

/// A desk request refused or failed: a Vietnamese page with the fitting status, never
/// cached.
#[derive(Debug)]
pub enum DeskError {
    /// No live session: a GET goes to the sign-in page (303, coming back to `next`);
    /// other methods get 401.
    Unauthenticated {
        next: Option<String>,
    },
    /// Signed in, but the role or the units do not allow it (403).
    Forbidden(String),
    /// The CSRF token is missing or wrong (403).
    Csrf,
    NotFound(String),
    /// A rule of the registry refused the change (409).
    Conflict(String),
    /// The form's values are not valid (422).
    Invalid(String),
    /// Sign-in is locked out until then (429).
    Locked {
        until: DateTime<Utc>,
    },
    /// Anything else (500); the details go to the log.
    Internal(String),
}

impl DeskError {
    pub fn status(&self) -> StatusCode {
        match self {
            DeskError::Unauthenticated { next: Some(_) } => StatusCode::SEE_OTHER,
            DeskError::Unauthenticated { next: None } => StatusCode::UNAUTHORIZED,
            DeskError::Forbidden(_) | DeskError::Csrf => StatusCode::FORBIDDEN,
            DeskError::NotFound(_) => StatusCode::NOT_FOUND,
            DeskError::Conflict(_) => StatusCode::CONFLICT,
            DeskError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            DeskError::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
            DeskError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The title and message the page shows.
    pub fn message(&self) -> (&'static str, String) {
        match self {
            DeskError::Unauthenticated { .. } => (
                "Cần đăng nhập",
                "Phiên làm việc đã hết hạn hoặc chưa đăng nhập. Vui lòng đăng nhập lại.".into(),
            ),
            DeskError::Forbidden(m) => ("Không có quyền", m.clone()),
            DeskError::Csrf => (
                "Biểu mẫu không hợp lệ",
                "Biểu mẫu đã cũ hoặc không được gửi từ trang của hệ thống. Vui lòng tải lại trang và thử lại."
                    .into(),
            ),
            DeskError::NotFound(m) => ("Không tìm thấy", m.clone()),
            DeskError::Conflict(m) => ("Không thực hiện được", m.clone()),
            DeskError::Invalid(m) => ("Dữ liệu chưa hợp lệ", m.clone()),
            DeskError::Locked { until } => ("Tạm khoá đăng nhập", lockout_message(*until)),
            DeskError::Internal(_) => (
                "Lỗi hệ thống",
                "Hệ thống đang gặp sự cố, vui lòng thử lại sau.".into(),
            ),
        }
    }
}

/// "Đăng nhập tạm khoá do nhập sai nhiều lần. Thử lại sau 09:35 ngày 02/12/2026 (khoảng
/// 15 phút nữa)." — Vietnam time.
pub fn lockout_message(until: DateTime<Utc>) -> String {
    let minutes = ((until - Utc::now()).num_seconds().max(0) + 59) / 60;
    format!(
        "Đăng nhập tạm khoá do nhập sai nhiều lần. Thử lại sau {} (khoảng {} phút nữa).",
        vn_time(until),
        minutes.max(1)
    )
}

/// `09:35 ngày 02/12/2026` in Vietnam's time (UTC+7, no daylight saving).
pub fn vn_time(at: DateTime<Utc>) -> String {
    let zone = chrono::FixedOffset::east_opt(7 * 3600).expect("valid offset");
    at.with_timezone(&zone)
        .format("%H:%M ngày %d/%m/%Y")
        .to_string()
}

impl From<StoreError> for DeskError {
    fn from(e: StoreError) -> DeskError {
        match e {
            StoreError::NotFound(id) => {
                DeskError::NotFound(format!("Không tìm thấy văn bản #{id}."))
            }
            StoreError::Conflict { message, .. } => DeskError::Conflict(message),
            StoreError::Refused(refusal) => DeskError::Conflict(refusal.to_string()),
            other => DeskError::Internal(other.to_string()),
        }
    }
}

impl From<password::PasswordError> for DeskError {
    fn from(e: password::PasswordError) -> DeskError {
        DeskError::Internal(e.to_string())
    }
}

/// The headers every desk answer carries: private, never stored.
pub fn no_store_headers(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

impl IntoResponse for DeskError {
    fn into_response(self) -> Response {
        if let DeskError::Internal(detail) = &self {
            tracing::error!(error = %detail, "desk request failed");
        }
        let status = self.status();
        let mut response = if let DeskError::Unauthenticated { next: Some(next) } = &self {
            let location = format!(
                "/desk/login?next={}",
                crate::web::html::url_encode(&safe_next(Some(next)))
            );
            let mut r = status.into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        } else {
            let (title, message) = self.message();
            let login = if matches!(self, DeskError::Unauthenticated { .. } | DeskError::Csrf) {
                r#"<p><a href="/desk/login">Đăng nhập</a></p>"#
            } else {
                r#"<p><a href="/desk/">Về trang làm việc</a></p>"#
            };
            let body = format!(
                "<h1>{}</h1>\n<p role=\"alert\">{}</p>\n{login}",
                escape(title),
                escape(&message)
            );
            let mut r = (
                status,
                axum::response::Html(crate::web::html::page(title, DESK_NAME, "", &body)),
            )
                .into_response();
            if let DeskError::Locked { until } = &self {
                let seconds = (*until - Utc::now()).num_seconds().max(1);
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds as u64));
            }
            r
        };
        no_store_headers(response.headers_mut());
        response
    }
}

/// The desk's name in page titles.
pub const DESK_NAME: &str = "Bàn làm việc văn thư";

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, units: &[&str]) -> DeskUser {
        DeskUser {
            account_id: 1,
            name: "a".into(),
            display_name: "A".into(),
            role,
            units: units.iter().map(|u| u.to_string()).collect(),
            csrf_token: "0123456789abcdef".into(),
            session_sha256: String::new(),
        }
    }

    #[test]
    fn roles_and_units_decide_reading_and_writing() {
        // role, units, unit asked, can read, can write
        #[rustfmt::skip]
        let cases: &[(Role, &[&str], &str, bool, bool)] = &[
            (Role::Admin, &[], "A", true, true),
            (Role::Admin, &["B"], "A", true, true),
            (Role::Clerk, &["A"], "A", true, true),
            (Role::Clerk, &["A", "B"], "B", true, true),
            (Role::Clerk, &["A"], "B", false, false),
            (Role::Clerk, &[], "A", false, false),
            (Role::Viewer, &["A"], "A", true, false),
            (Role::Viewer, &["A"], "B", false, false),
        ];
        for (role, units, unit, read, write) in cases {
            let u = user(*role, units);
            assert_eq!(u.can_read(unit), *read, "{role:?} {units:?} read {unit}");
            assert_eq!(u.can_write(unit), *write, "{role:?} {units:?} write {unit}");
            assert_eq!(u.require_write(unit).is_ok(), *write);
        }
        assert_eq!(user(Role::Admin, &["A"]).unit_scope(), None);
        assert_eq!(
            user(Role::Clerk, &["A"]).unit_scope(),
            Some(&["A".to_string()][..])
        );
        assert_eq!(user(Role::Viewer, &[]).unit_scope(), Some(&[][..]));
    }

    #[test]
    fn csrf_is_compared_exactly() {
        let u = user(Role::Clerk, &["A"]);
        assert!(u.verify_csrf(Some("0123456789abcdef")).is_ok());
        for bad in [
            None,
            Some(""),
            Some("0123456789abcdeF"),
            Some("0123456789abcde"),
            Some("0123456789abcdef0"),
        ] {
            assert!(
                matches!(u.verify_csrf(bad), Err(DeskError::Csrf)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn next_stays_on_the_desk() {
        #[rustfmt::skip]
        let cases = [
            (Some("/desk/queue?unit=A&page=2"), "/desk/queue?unit=A&page=2"),
            (Some("/desk"), "/desk"),
            (Some("/desk/"), "/desk/"),
            (Some("https://evil.example/desk/"), "/desk/"),
            (Some("//evil.example/desk/"), "/desk/"),
            (Some("/desk//evil.example"), "/desk/"),
            (Some("/desk/\\evil"), "/desk/"),
            (Some("/desk/../api/v1/admin"), "/desk/"),
            (Some("/deskevil"), "/desk/"),
            (Some("/van-ban"), "/desk/"),
            (Some("/desk/x\ny"), "/desk/"),
            (None, "/desk/"),
        ];
        for (next, expected) in cases {
            assert_eq!(safe_next(next), expected, "{next:?}");
        }
    }

    #[test]
    fn names_and_codes_are_checked() {
        assert_eq!(normalize_account_name(" VanThu.QT ").unwrap(), "vanthu.qt");
        for bad in ["a", "văn thư", "a b", "x;drop", &"a".repeat(65)] {
            assert!(normalize_account_name(bad).is_err(), "{bad}");
        }
        assert_eq!(
            normalize_unit_code(" 000.46.24.H44 ").unwrap(),
            "000.46.24.H44"
        );
        for bad in ["", "000 46", "<x>", &"1".repeat(65)] {
            assert!(normalize_unit_code(bad).is_err(), "{bad}");
        }
        assert!(normalize_label("UBND\u{0}", "Tên").is_err());
        assert_eq!(
            normalize_label(" Ủy ban nhân dân xã ", "Tên").unwrap(),
            "Ủy ban nhân dân xã"
        );
    }
}
