//! Every state-changing desk endpoint against every caller that must be refused:
//! anonymous, an idle session, a session past its end, a disabled account, a viewer, a
//! clerk of another unit, no CSRF token, a wrong CSRF token (another session's). Each
//! refusal must have the expected status and change nothing in the database (every table
//! is compared, whoever added it); then the caller the endpoint is for succeeds and the
//! database does change, so a row cannot pass by naming a route that does not exist.
//!
//! A new endpoint is one row of `ENDPOINTS`. Placeholders in paths and bodies:
//! `{target}` an account to act on (clerk of unit A), `{unit_a}` / `{unit_b}` two units,
//! `{doc_a}` a record of unit A in `needs_review`, `{doc_pub}` a published one, `{doc_h}` one
//! held for personal data by the hold `{hold_a}`.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use vanban::auth::Role;
use vanban::store::{Status, Store};

use crate::desk_support::{
    DeskSession, PASSWORD, add_account, anonymous_post, desk_account, form_body, sign_in,
};
use crate::web::{Doc, TestApp};

const UNIT_A: &str = "000.46.24.H44";
const UNIT_B: &str = "000.47.25.H45";

/// Who an endpoint is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Any signed-in account (its own password, signing out).
    SignedIn,
    /// An account that may write unit A (a clerk of A; administrators too): the rows of
    /// the document actions, uploads and bulk actions.
    WriteUnitA,
    /// An administrator.
    Admin,
}

struct Endpoint {
    path: &'static str,
    body: &'static [(&'static str, &'static str)],
    need: Need,
    /// What the caller it is for gets.
    ok: &'static [StatusCode],
}

const SEE_OTHER: &[StatusCode] = &[StatusCode::SEE_OTHER];
const NEW_PASSWORD: &str = "Ba con mèo đen ngồi trên mái nhà";

/// Every state-changing desk endpoint (all are POST).
const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        path: "/desk/logout",
        body: &[],
        need: Need::SignedIn,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/password",
        body: &[
            ("current", PASSWORD),
            ("new", NEW_PASSWORD),
            ("confirm", NEW_PASSWORD),
        ],
        need: Need::SignedIn,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/accounts",
        body: &[
            ("name", "vanthu.moi"),
            ("display_name", "Văn thư mới"),
            ("role", "clerk"),
            ("unit", "{unit_a}"),
            ("password", NEW_PASSWORD),
        ],
        need: Need::Admin,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/accounts/{target}/disable",
        body: &[],
        need: Need::Admin,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/accounts/{target}/enable",
        body: &[],
        need: Need::Admin,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/accounts/{target}/password",
        body: &[("new", NEW_PASSWORD)],
        need: Need::Admin,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/accounts/{target}/units",
        body: &[("unit", "{unit_b}")],
        need: Need::Admin,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/accounts/{target}/role",
        body: &[("role", "viewer")],
        need: Need::Admin,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/units",
        body: &[
            ("code", "000.48.26.H46"),
            ("name", "UBND xã Mới"),
            ("parent", "{unit_a}"),
        ],
        need: Need::Admin,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/units/{unit_a}",
        body: &[("name", "UBND xã Quốc Tuấn (mới)"), ("parent", "")],
        need: Need::Admin,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/documents/{doc_pub}/withdraw",
        body: &[("reason", "Bị thay thế bởi quyết định khác")],
        need: Need::WriteUnitA,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/documents/{doc_pub}/return",
        body: &[("reason", "Sai trích yếu")],
        need: Need::WriteUnitA,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/documents/{doc_h}/holds/{hold_a}/dismiss",
        body: &[("reason", "Mẫu đơn để trống")],
        need: Need::WriteUnitA,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/documents/{doc_h}/holds/{hold_a}/confirm",
        body: &[("reason", "Có số căn cước của công dân")],
        need: Need::WriteUnitA,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/documents/{doc_a}/publish",
        body: &[],
        need: Need::WriteUnitA,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/documents/{doc_a}/withhold",
        body: &[("reason", "Chưa đến thời điểm công bố")],
        need: Need::WriteUnitA,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/documents/{doc_a}/reject",
        body: &[("reason", "Tải nhầm tệp")],
        need: Need::WriteUnitA,
        ok: SEE_OTHER,
    },
    Endpoint {
        path: "/desk/documents/{doc_a}/correct",
        body: &[("abstract", "Về việc kiểm tra quyền (đã sửa)")],
        need: Need::WriteUnitA,
        ok: SEE_OTHER,
    },
];

/// The callers, each with the answers a refusal may have for an endpoint it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    IdleSession,
    EndedSession,
    DisabledAccount,
    Viewer,
    ClerkOfOtherUnit,
    ClerkOfUnit,
    MissingCsrf,
    WrongCsrf,
}

const CALLERS: &[Caller] = &[
    Caller::Anonymous,
    Caller::IdleSession,
    Caller::EndedSession,
    Caller::DisabledAccount,
    Caller::Viewer,
    Caller::ClerkOfOtherUnit,
    Caller::ClerkOfUnit,
    Caller::MissingCsrf,
    Caller::WrongCsrf,
];

/// The statuses refusing `caller` may have for an endpoint of `need`; `None` when the
/// caller is allowed.
fn refusal(caller: Caller, need: Need) -> Option<&'static [StatusCode]> {
    const UNAUTHORIZED: &[StatusCode] = &[StatusCode::UNAUTHORIZED];
    const FORBIDDEN: &[StatusCode] = &[StatusCode::FORBIDDEN];
    // Another unit's record may also answer as if it did not exist.
    const HIDDEN: &[StatusCode] = &[StatusCode::FORBIDDEN, StatusCode::NOT_FOUND];
    match (caller, need) {
        (
            Caller::Anonymous
            | Caller::IdleSession
            | Caller::EndedSession
            | Caller::DisabledAccount,
            _,
        ) => Some(UNAUTHORIZED),
        (Caller::MissingCsrf | Caller::WrongCsrf, _) => Some(FORBIDDEN),
        (Caller::Viewer | Caller::ClerkOfOtherUnit | Caller::ClerkOfUnit, Need::SignedIn) => None,
        (Caller::Viewer, _) => Some(FORBIDDEN),
        (Caller::ClerkOfOtherUnit, Need::WriteUnitA) => Some(HIDDEN),
        (Caller::ClerkOfOtherUnit | Caller::ClerkOfUnit, Need::Admin) => Some(FORBIDDEN),
        (Caller::ClerkOfUnit, Need::WriteUnitA) => None,
    }
}

/// A registry with two units, a record of unit A, and a signed-in session per caller.
struct Fixture {
    app: TestApp,
    admin: DeskSession,
    clerk_a: DeskSession,
    clerk_b: DeskSession,
    viewer_a: DeskSession,
    idle: DeskSession,
    ended: DeskSession,
    disabled: DeskSession,
    target: i64,
    doc_a: i64,
    /// A published record of unit A.
    doc_pub: i64,
    /// A record of unit A held for personal data, and that hold.
    doc_h: i64,
    hold_a: i64,
}

async fn fixture() -> Fixture {
    let app = crate::web::app().await;
    let admin = desk_account(&app, "quantri", Role::Admin, &[]).await;
    let clerk_a = desk_account(&app, "vanthu.a", Role::Clerk, &[UNIT_A]).await;
    let clerk_b = desk_account(&app, "vanthu.b", Role::Clerk, &[UNIT_B]).await;
    let viewer_a = desk_account(&app, "xem.a", Role::Viewer, &[UNIT_A]).await;
    let idle = desk_account(&app, "vanthu.nghi", Role::Clerk, &[UNIT_A]).await;
    let ended = desk_account(&app, "vanthu.het", Role::Clerk, &[UNIT_A]).await;
    let disabled = desk_account(&app, "vanthu.khoa", Role::Clerk, &[UNIT_A]).await;
    let target = add_account(&app, "vanthu.dich", Role::Clerk, &[UNIT_A]).await;
    let doc_a = app
        .add(Doc {
            unit: UNIT_A,
            status: Status::NeedsReview,
            number_symbol: Some("12/QĐ-UBND"),
            abstract_text: "Về việc kiểm tra quyền",
            ..Doc::default()
        })
        .await;
    let doc_pub = app
        .add(Doc {
            unit: UNIT_A,
            status: Status::Published,
            number_symbol: Some("13/QĐ-UBND"),
            abstract_text: "Về việc công bố kế hoạch",
            ..Doc::default()
        })
        .await;
    let doc_h = app
        .add(Doc {
            unit: UNIT_A,
            status: Status::NeedsReview,
            number_symbol: Some("14/QĐ-UBND"),
            abstract_text: "Về việc hỗ trợ hộ nghèo",
            ..Doc::default()
        })
        .await;
    let Store::Sqlite(pool) = &app.state.store else {
        unreachable!("desk tests run on SQLite")
    };
    let hold_a: i64 = sqlx::query_scalar(
        "INSERT INTO document_holds (document_id, code, message, evidence, created_at) \
         VALUES (?, 'personal_data', 'Có thông tin cá nhân', 'số CCCD 001089012345', '2025-01-01T00:00:00Z') \
         RETURNING id",
    )
    .bind(doc_h)
    .fetch_one(pool)
    .await
    .unwrap();
    // An idle session, a session past its absolute end, and an account disabled behind
    // the store's back (its session row left in place: the lookup itself must refuse it).
    force(
        &app,
        &format!(
            "UPDATE sessions SET last_seen_at = '2000-01-01 00:00:00+00:00' WHERE account_id = {}",
            idle.account_id
        ),
    )
    .await;
    force(
        &app,
        &format!(
            "UPDATE sessions SET expires_at = '2000-01-01 00:00:00+00:00' WHERE account_id = {}",
            ended.account_id
        ),
    )
    .await;
    force(
        &app,
        &format!(
            "UPDATE accounts SET disabled = TRUE WHERE id = {}",
            disabled.account_id
        ),
    )
    .await;
    Fixture {
        app,
        admin,
        clerk_a,
        clerk_b,
        viewer_a,
        idle,
        ended,
        disabled,
        target,
        doc_a,
        doc_pub,
        doc_h,
        hold_a,
    }
}

/// Raw SQL on the test database, as a bug or a hand edit would write it.
async fn force(app: &TestApp, sql: &str) {
    let Store::Sqlite(pool) = &app.state.store else {
        unreachable!("desk tests run on SQLite")
    };
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(pool)
        .await
        .unwrap();
}

/// Every row of every table (a session's last use aside, which reading may move).
async fn snapshot(app: &TestApp) -> BTreeMap<String, Vec<String>> {
    let Store::Sqlite(pool) = &app.state.store else {
        unreachable!("desk tests run on SQLite")
    };
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        )))
        .fetch_all(pool)
        .await
        .unwrap();
        let columns: Vec<String> = columns
            .into_iter()
            .filter(|c| !(table == "sessions" && c == "last_seen_at"))
            .map(|c| format!("quote(\"{c}\")"))
            .collect();
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM \"{table}\" ORDER BY 1",
            columns.join(" || '|' || ")
        )))
        .fetch_all(pool)
        .await
        .unwrap();
        out.insert(table, rows);
    }
    out
}

impl Fixture {
    fn fill(&self, text: &str) -> String {
        text.replace("{target}", &self.target.to_string())
            .replace("{unit_a}", UNIT_A)
            .replace("{unit_b}", UNIT_B)
            .replace("{doc_a}", &self.doc_a.to_string())
            .replace("{doc_pub}", &self.doc_pub.to_string())
            .replace("{doc_h}", &self.doc_h.to_string())
            .replace("{hold_a}", &self.hold_a.to_string())
    }

    /// The session an endpoint is for.
    fn allowed(&self, need: Need) -> &DeskSession {
        match need {
            Need::SignedIn | Need::WriteUnitA => &self.clerk_a,
            Need::Admin => &self.admin,
        }
    }

    async fn call(&self, caller: Caller, endpoint: &Endpoint) -> (StatusCode, String) {
        let path = self.fill(endpoint.path);
        let values: Vec<(String, String)> = endpoint
            .body
            .iter()
            .map(|(k, v)| (k.to_string(), self.fill(v)))
            .collect();
        let body: Vec<(&str, &str)> = values
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let own = self.allowed(endpoint.need);
        let (status, _, text) = match caller {
            Caller::Anonymous => {
                let mut with_csrf = body.clone();
                with_csrf.push(("csrf", &own.csrf));
                anonymous_post(&self.app, &path, &with_csrf).await
            }
            Caller::IdleSession => self.idle.post(&self.app, &path, &body).await,
            Caller::EndedSession => self.ended.post(&self.app, &path, &body).await,
            Caller::DisabledAccount => self.disabled.post(&self.app, &path, &body).await,
            Caller::Viewer => self.viewer_a.post(&self.app, &path, &body).await,
            Caller::ClerkOfOtherUnit => self.clerk_b.post(&self.app, &path, &body).await,
            Caller::ClerkOfUnit => self.clerk_a.post(&self.app, &path, &body).await,
            Caller::MissingCsrf => own.post_with_csrf(&self.app, &path, &body, None).await,
            Caller::WrongCsrf => {
                // A real token, of another session.
                let other = if own.account_id == self.clerk_b.account_id {
                    &self.clerk_a
                } else {
                    &self.clerk_b
                };
                own.post_with_csrf(&self.app, &path, &body, Some(&other.csrf))
                    .await
            }
        };
        (status, text)
    }
}

#[tokio::test]
async fn every_state_changing_desk_endpoint_refuses_whom_it_must_and_changes_nothing() {
    for endpoint in ENDPOINTS {
        let f = fixture().await;
        let before = snapshot(&f.app).await;
        for caller in CALLERS {
            let Some(expected) = refusal(*caller, endpoint.need) else {
                continue;
            };
            let (status, body) = f.call(*caller, endpoint).await;
            assert!(
                expected.contains(&status),
                "POST {} as {caller:?}: {status}, expected one of {expected:?}\n{body}",
                endpoint.path
            );
            assert_eq!(
                snapshot(&f.app).await,
                before,
                "POST {} as {caller:?} changed the database",
                endpoint.path
            );
        }
        // The caller it is for succeeds, and something changes.
        let own = f.allowed(endpoint.need).clone();
        let path = f.fill(endpoint.path);
        let values: Vec<(String, String)> = endpoint
            .body
            .iter()
            .map(|(k, v)| (k.to_string(), f.fill(v)))
            .collect();
        let body: Vec<(&str, &str)> = values
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, _, text) = own.post(&f.app, &path, &body).await;
        assert!(
            endpoint.ok.contains(&status),
            "POST {} as the account it is for: {status}\n{text}",
            endpoint.path
        );
        assert_ne!(
            snapshot(&f.app).await,
            before,
            "POST {} changed nothing",
            endpoint.path
        );
    }
}

#[tokio::test]
async fn the_sign_in_form_needs_its_own_token() {
    let f = fixture().await;
    let before = snapshot(&f.app).await;
    let fields = [
        ("name", "quantri"),
        ("password", PASSWORD),
        ("next", "/desk/"),
    ];
    // No token, no cookie.
    let (status, headers, _) = anonymous_post(&f.app, "/desk/login", &fields).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(headers.get("set-cookie").is_none());
    // A token without its cookie (a page of another site posting the form).
    let mut with_token = fields.to_vec();
    with_token.push((
        "csrf",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    ));
    let (status, _, _) = anonymous_post(&f.app, "/desk/login", &with_token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The cookie with another token.
    let request = axum::http::Request::post("/desk/login")
        .header(
            "cookie",
            "vanban_login=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(form_body(&with_token)))
        .unwrap();
    let (status, headers, _) = f.app.request(request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(headers.get("set-cookie").is_none());
    assert_eq!(snapshot(&f.app).await, before);
    // And the real form works.
    sign_in(&f.app, "quantri", PASSWORD).await;
}
