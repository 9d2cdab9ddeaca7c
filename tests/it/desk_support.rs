//! Helpers for desk tests: units and accounts on a test app's store, signing in through the
//! real router (`/desk/login`), and requests carrying the session cookie and CSRF token.
//!
//! ```ignore
//! let app = crate::web::app().await;
//! let clerk = desk_account(&app, "vanthu", Role::Clerk, &["000.46.24.H44"]).await;
//! let (status, _, body) = clerk.get(&app, "/desk/queue").await;
//! let (status, headers, _) = clerk.post(&app, "/desk/documents/1/publish", &[("reason", "…")]).await;
//! ```

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::request::Builder;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::{Duration, Utc};

use vanban::auth::session::{COOKIE, LOGIN_COOKIE, token_sha256};
use vanban::auth::{Role, password};
use vanban::store::NewAccount;

use crate::web::TestApp;

/// The password of every account these helpers make.
pub const PASSWORD: &str = "Sông Hồng chảy qua Hà Nội";

/// `PASSWORD`'s argon2id hash, computed once per test binary (hashing is slow by design).
fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| password::hash_blocking(PASSWORD).unwrap())
}

/// Creates a unit unless it exists.
pub async fn add_unit(app: &TestApp, code: &str, name: &str, parent: Option<&str>) {
    app.state
        .store
        .ensure_unit(code, name, parent, "test")
        .await
        .unwrap();
}

/// Creates an account with password [`PASSWORD`]; its units are created when missing.
pub async fn add_account(app: &TestApp, name: &str, role: Role, units: &[&str]) -> i64 {
    for unit in units {
        add_unit(app, unit, &format!("Đơn vị {unit}"), None).await;
    }
    app.state
        .store
        .create_account(
            &NewAccount {
                name: name.into(),
                display_name: format!("Người dùng {name}"),
                role,
                password_hash: password_hash().into(),
                units: units.iter().map(|u| u.to_string()).collect(),
            },
            "test",
        )
        .await
        .unwrap()
}

/// A signed-in browser: its session cookie and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct DeskSession {
    pub account_id: i64,
    /// The session token (the `vanban_session` cookie's value).
    pub token: String,
    pub csrf: String,
}

/// Creates an account and signs it in.
pub async fn desk_account(app: &TestApp, name: &str, role: Role, units: &[&str]) -> DeskSession {
    let id = add_account(app, name, role, units).await;
    let mut session = sign_in(app, name, PASSWORD).await;
    session.account_id = id;
    session
}

/// The `Set-Cookie` value of cookie `name` in an answer, if set (and not cleared).
pub fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// `a=1&b=%C3%A2`: a form body.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                vanban::web::html::url_encode(k),
                vanban::web::html::url_encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Text of an answer's body.
pub fn text(body: Vec<u8>) -> String {
    String::from_utf8(body).expect("UTF-8 page")
}

/// Submits the sign-in form the way a browser does (GET the form and its cookie, POST it
/// back) and answers the POST's status, headers and body.
pub async fn try_sign_in(
    app: &TestApp,
    name: &str,
    password: &str,
) -> (StatusCode, HeaderMap, String) {
    let (status, headers, _) = app.get("/desk/login").await;
    assert_eq!(status, StatusCode::OK);
    let login = set_cookie(&headers, LOGIN_COOKIE).expect("the sign-in form sets its cookie");
    let request = Request::builder()
        .method(Method::POST)
        .uri("/desk/login")
        .header(header::COOKIE, format!("{LOGIN_COOKIE}={login}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form_body(&[
            ("csrf", &login),
            ("name", name),
            ("password", password),
            ("next", "/desk/"),
        ])))
        .unwrap();
    let (status, headers, body) = app.request(request).await;
    (status, headers, text(body))
}

/// Signs in through the real router; panics unless it succeeds.
pub async fn sign_in(app: &TestApp, name: &str, password: &str) -> DeskSession {
    let (status, headers, body) = try_sign_in(app, name, password).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "sign-in of {name} failed: {body}"
    );
    let token = set_cookie(&headers, COOKIE).expect("a session cookie");
    let far = Utc::now() - Duration::days(3650);
    let session = app
        .state
        .store
        .session(&token_sha256(&token), far, Utc::now())
        .await
        .unwrap()
        .expect("the session is stored");
    DeskSession {
        account_id: session.account_id,
        token,
        csrf: session.csrf_token,
    }
}

impl DeskSession {
    /// Adds the session cookie to a request being built (for multipart uploads and other
    /// requests the helpers below do not cover).
    pub fn authorize(&self, builder: Builder) -> Builder {
        builder.header(header::COOKIE, format!("{COOKIE}={}", self.token))
    }

    pub async fn get(&self, app: &TestApp, uri: &str) -> (StatusCode, HeaderMap, String) {
        let request = self
            .authorize(Request::builder().uri(uri))
            .body(Body::empty())
            .unwrap();
        let (status, headers, body) = app.request(request).await;
        (status, headers, text(body))
    }

    /// POSTs a form with this session's CSRF token added.
    pub async fn post(
        &self,
        app: &TestApp,
        uri: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        let csrf = self.csrf.clone();
        self.post_with_csrf(app, uri, fields, Some(&csrf)).await
    }

    /// POSTs a form with the given CSRF field (`None`: none at all).
    pub async fn post_with_csrf(
        &self,
        app: &TestApp,
        uri: &str,
        fields: &[(&str, &str)],
        csrf: Option<&str>,
    ) -> (StatusCode, HeaderMap, String) {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if let Some(csrf) = csrf {
            all.push(("csrf", csrf));
        }
        let request = self
            .authorize(
                Request::builder()
                    .method(Method::POST)
                    .uri(uri)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            )
            .body(Body::from(form_body(&all)))
            .unwrap();
        let (status, headers, body) = app.request(request).await;
        (status, headers, text(body))
    }
}

/// POSTs a form with no session at all.
pub async fn anonymous_post(
    app: &TestApp,
    uri: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
    let request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form_body(fields)))
        .unwrap();
    let (status, headers, body) = app.request(request).await;
    (status, headers, text(body))
}
