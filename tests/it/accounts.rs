//! Units, accounts and sessions: the store on SQLite and PostgreSQL, sign-in and sign-out,
//! throttling and lockout, password change, the administrator's pages, and `vanban user
//! add` / `vanban unit add` end to end.

use std::process::{Command, Stdio};

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use vanban::auth::{Role, password};
use vanban::store::{NewAccount, NewSession, Store, StoreError};

use crate::desk_support::{PASSWORD, add_account, desk_account, set_cookie, sign_in, try_sign_in};

fn conflict(result: Result<impl std::fmt::Debug, StoreError>) -> &'static str {
    match result {
        Err(StoreError::Conflict { constraint, .. }) => constraint,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn new_account(name: &str, role: Role, units: &[&str]) -> NewAccount {
    NewAccount {
        name: name.into(),
        display_name: format!("Tài khoản {name}"),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
        units: units.iter().map(|u| u.to_string()).collect(),
    }
}

fn session(token: &str, account_id: i64, hours: i64) -> NewSession {
    let now = Utc::now();
    NewSession {
        token_sha256: vanban::auth::session::token_sha256(token),
        account_id,
        csrf_token: format!("csrf-{token}"),
        created_at: now,
        expires_at: now + Duration::hours(hours),
    }
}

async fn accounts_conformance(store: &Store) {
    // Units: a tree, codes unique, parents known, no cycles.
    store
        .create_unit("000.00.24.H44", "UBND huyện", None, "test")
        .await
        .unwrap();
    store
        .create_unit(
            "000.46.24.H44",
            "UBND xã Quốc Tuấn",
            Some("000.00.24.H44"),
            "test",
        )
        .await
        .unwrap();
    assert_eq!(
        conflict(store.create_unit("000.46.24.H44", "x", None, "test").await),
        "units_code_unique"
    );
    assert_eq!(
        conflict(
            store
                .create_unit("000.99.H", "x", Some("nope"), "test")
                .await
        ),
        "units_known"
    );
    assert!(
        !store
            .ensure_unit("000.46.24.H44", "Tên khác", None, "test")
            .await
            .unwrap()
    );
    assert!(
        store
            .ensure_unit("000.47.24.H44", "000.47.24.H44", None, "test")
            .await
            .unwrap()
    );
    let xa = store.unit("000.46.24.H44").await.unwrap().unwrap();
    assert_eq!(
        (xa.name.as_str(), xa.parent_code.as_deref()),
        ("UBND xã Quốc Tuấn", Some("000.00.24.H44"))
    );
    assert_eq!(
        conflict(
            store
                .update_unit("000.00.24.H44", "UBND huyện", Some("000.46.24.H44"), "test")
                .await
        ),
        "units_no_cycle"
    );
    assert_eq!(
        conflict(
            store
                .update_unit("000.00.24.H44", "UBND huyện", Some("000.00.24.H44"), "test")
                .await
        ),
        "units_no_cycle"
    );
    assert!(
        store
            .update_unit(
                "000.47.24.H44",
                "UBND xã Nam Chính",
                Some("000.00.24.H44"),
                "test"
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .update_unit("missing", "x", None, "test")
            .await
            .unwrap()
    );
    let codes: Vec<String> = store
        .units()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.code)
        .collect();
    assert_eq!(codes, ["000.00.24.H44", "000.46.24.H44", "000.47.24.H44"]);

    // Accounts: names unique, units known, nothing half-written.
    let clerk = store
        .create_account(
            &new_account("vanthu", Role::Clerk, &["000.46.24.H44"]),
            "test",
        )
        .await
        .unwrap();
    assert_eq!(
        conflict(
            store
                .create_account(&new_account("vanthu", Role::Viewer, &[]), "test")
                .await
        ),
        "accounts_name_unique"
    );
    assert_eq!(
        conflict(
            store
                .create_account(&new_account("ghost", Role::Clerk, &["000.99"]), "test")
                .await
        ),
        "units_known"
    );
    assert!(store.credentials("ghost").await.unwrap().is_none());
    let admin = store
        .create_account(&new_account("quantri", Role::Admin, &[]), "test")
        .await
        .unwrap();
    let c = store.credentials("vanthu").await.unwrap().unwrap();
    assert_eq!(c.account.id, clerk);
    assert_eq!(c.account.role, Role::Clerk);
    assert_eq!(c.account.units, ["000.46.24.H44"]);
    assert!(c.password_hash.starts_with("$argon2id$"));
    assert!(!c.account.disabled);
    let names: Vec<(String, Vec<String>)> = store
        .accounts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.name, a.units))
        .collect();
    assert_eq!(
        names,
        [
            ("quantri".to_string(), vec![]),
            ("vanthu".to_string(), vec!["000.46.24.H44".to_string()])
        ]
    );
    assert!(
        store
            .set_account_units(
                clerk,
                &["000.46.24.H44".into(), "000.47.24.H44".into()],
                "test"
            )
            .await
            .unwrap()
    );
    assert_eq!(
        conflict(
            store
                .set_account_units(clerk, &["000.99".into()], "test")
                .await
        ),
        "units_known"
    );
    assert_eq!(
        store.account(clerk).await.unwrap().unwrap().units,
        ["000.46.24.H44", "000.47.24.H44"]
    );
    assert!(
        store
            .set_account_role(clerk, Role::Viewer, "test")
            .await
            .unwrap()
    );
    assert!(
        store
            .set_account_role(clerk, Role::Clerk, "test")
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_account_role(424242, Role::Clerk, "test")
            .await
            .unwrap()
    );
    assert!(store.account(424242).await.unwrap().is_none());

    // Sessions: idle expiry, absolute end, touch.
    let now = Utc::now();
    let idle_cutoff = now - Duration::minutes(30);
    store
        .create_session(&session("one", clerk, 12), idle_cutoff, None)
        .await
        .unwrap();
    store
        .create_session(&session("two", clerk, 12), idle_cutoff, None)
        .await
        .unwrap();
    store
        .create_session(&session("three", admin, 12), idle_cutoff, None)
        .await
        .unwrap();
    let sha = |t: &str| vanban::auth::session::token_sha256(t);
    let live = store
        .session(&sha("one"), idle_cutoff, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (live.account_id, live.role, live.csrf_token.as_str()),
        (clerk, Role::Clerk, "csrf-one")
    );
    assert_eq!(live.units, ["000.46.24.H44", "000.47.24.H44"]);
    assert!(
        store
            .session(&sha("nope"), idle_cutoff, now)
            .await
            .unwrap()
            .is_none()
    );
    // Unused since before the cutoff: idle.
    assert!(
        store
            .session(&sha("one"), now + Duration::seconds(1), now)
            .await
            .unwrap()
            .is_none()
    );
    // Past its end.
    assert!(
        store
            .session(&sha("one"), idle_cutoff, now + Duration::hours(13))
            .await
            .unwrap()
            .is_none()
    );
    // A touch moves its last use.
    let later = now + Duration::minutes(20);
    store.touch_session(&sha("one"), later).await.unwrap();
    let touched = store
        .session(&sha("one"), later - Duration::minutes(1), later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(touched.last_seen_at.timestamp(), later.timestamp());
    // A new session replaces the one the browser presented.
    store
        .create_session(&session("four", clerk, 12), idle_cutoff, Some(&sha("two")))
        .await
        .unwrap();
    assert!(
        store
            .session(&sha("two"), idle_cutoff, now)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.session_count(clerk).await.unwrap(), 2);

    // A password change ends the other sessions and clears failures.
    assert!(
        store
            .record_login_failure(clerk, 5, Duration::minutes(15), "ip:1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .set_password(
                clerk,
                "$argon2id$new",
                Some(&sha("four")),
                "test",
                "password_changed"
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .session(&sha("one"), idle_cutoff, now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .session(&sha("four"), idle_cutoff, now)
            .await
            .unwrap()
            .is_some()
    );
    let c = store.credentials("vanthu").await.unwrap().unwrap();
    assert_eq!(
        (c.password_hash.as_str(), c.account.failed_logins),
        ("$argon2id$new", 0)
    );

    // Disabling ends every session at once; the lookup refuses a disabled account anyway.
    assert!(
        store
            .set_account_disabled(clerk, true, "test")
            .await
            .unwrap()
    );
    assert_eq!(store.session_count(clerk).await.unwrap(), 0);
    assert!(
        store
            .credentials("vanthu")
            .await
            .unwrap()
            .unwrap()
            .account
            .disabled
    );
    assert!(
        store
            .set_account_disabled(clerk, false, "test")
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_account_disabled(424242, true, "test")
            .await
            .unwrap()
    );
    assert!(
        store
            .session(&sha("three"), idle_cutoff, now)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.delete_sessions_of(admin, None).await.unwrap(), 1);
    store
        .create_session(&session("five", admin, 12), idle_cutoff, None)
        .await
        .unwrap();
    assert!(store.delete_session(&sha("five")).await.unwrap());
    assert!(!store.delete_session(&sha("five")).await.unwrap());

    // Account lockout: the third failure in a row locks; success forgets.
    let lock = Duration::minutes(15);
    assert_eq!(
        store
            .record_login_failure(clerk, 3, lock, "ip:1")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .record_login_failure(clerk, 3, lock, "ip:1")
            .await
            .unwrap(),
        None
    );
    let until = store
        .record_login_failure(clerk, 3, lock, "ip:1")
        .await
        .unwrap()
        .expect("locked");
    assert!(until > Utc::now() + Duration::minutes(14));
    let a = store.account(clerk).await.unwrap().unwrap();
    assert_eq!(
        (a.failed_logins, a.locked_until.map(|t| t.timestamp())),
        (0, Some(until.timestamp()))
    );
    store.clear_login_failures(clerk).await.unwrap();
    assert_eq!(
        store.account(clerk).await.unwrap().unwrap().locked_until,
        None
    );

    // Client lockout.
    assert_eq!(
        store
            .record_client_failure("ip:203.0.113.5", 2, lock)
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .client_locked_until("ip:203.0.113.5")
            .await
            .unwrap()
            .is_none()
    );
    let until = store
        .record_client_failure("ip:203.0.113.5", 2, lock)
        .await
        .unwrap()
        .expect("locked");
    assert_eq!(
        store
            .client_locked_until("ip:203.0.113.5")
            .await
            .unwrap()
            .map(|t| t.timestamp()),
        Some(until.timestamp())
    );
    assert!(
        store
            .client_locked_until("ip:203.0.113.6")
            .await
            .unwrap()
            .is_none()
    );
    // A window already over starts again from one.
    assert_eq!(
        store
            .record_client_failure("ip:198.51.100.1", 2, lock)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .record_client_failure("ip:198.51.100.1", 2, Duration::zero())
            .await
            .unwrap(),
        None
    );

    // Everything above is audited.
    let log = store.account_audit_log(None, 100).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    for action in [
        "unit_created",
        "unit_seeded",
        "unit_updated",
        "account_created",
        "account_units_changed",
        "account_role_changed",
        "password_changed",
        "account_disabled",
        "account_enabled",
        "account_locked",
        "client_locked",
    ] {
        assert!(
            actions.contains(&action),
            "{action} not audited: {actions:?}"
        );
    }
    let of_clerk = store.account_audit_log(Some(clerk), 100).await.unwrap();
    assert!(of_clerk.iter().all(|e| e.account_id == Some(clerk)));
    assert!(of_clerk.iter().any(|e| e.action == "account_disabled"));
}

#[tokio::test]
async fn sqlite_accounts_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    accounts_conformance(&Store::connect(&url, 4).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_accounts_conformance() {
    let Some(db) = crate::store::scratch_postgres().await else {
        return;
    };
    let store = Store::connect(&db.url, 4).await.unwrap();
    accounts_conformance(&store).await;
    store.close().await;
    db.drop().await;
}

#[tokio::test]
async fn sign_in_sets_a_strict_cookie_and_sign_out_ends_the_session() {
    let app = crate::web::app().await;
    add_account(&app, "vanthu", Role::Clerk, &["000.46.24.H44"]).await;

    // Not signed in: a page sends to the sign-in form and back.
    let (status, headers, _) = app.get("/desk/password").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/desk/login?next=%2Fdesk%2Fpassword");
    assert_eq!(headers["cache-control"], "no-store");
    let (status, headers, body) = app.get("/desk/login?next=/desk/password").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "no-store");
    let body = String::from_utf8(body).unwrap();
    assert!(
        body.contains("Đăng nhập") && body.contains(r#"value="/desk/password""#),
        "{body}"
    );

    // A wrong password and an unknown name get the same answer.
    let (wrong, _, wrong_body) = try_sign_in(&app, "vanthu", "không phải mật khẩu").await;
    let (unknown, _, unknown_body) = try_sign_in(&app, "khongco", PASSWORD).await;
    assert_eq!(
        (wrong, unknown),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    for body in [&wrong_body, &unknown_body] {
        assert!(
            body.contains("Tên đăng nhập hoặc mật khẩu không đúng"),
            "{body}"
        );
    }

    let (status, headers, _) = try_sign_in(&app, "VanThu", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/desk/");
    let cookie = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("vanban_session="))
        .unwrap();
    for part in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/desk"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let first = sign_in(&app, "vanthu", PASSWORD).await;
    let (status, headers, body) = first.get(&app, "/desk/password").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(body.contains(&first.csrf));

    // Only a /desk/ path is a place to go back to.
    let (_, headers, _) = app.get("/desk/login?next=https://evil.example/").await;
    let login = set_cookie(&headers, "vanban_login").unwrap();
    let request = axum::http::Request::post("/desk/login")
        .header("cookie", format!("vanban_login={login}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(crate::desk_support::form_body(&[
            ("csrf", &login),
            ("name", "vanthu"),
            ("password", PASSWORD),
            ("next", "//evil.example/desk/"),
        ])))
        .unwrap();
    let (status, headers, _) = app.request(request).await;
    assert_eq!(
        (status, headers["location"].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/desk/")
    );

    // Signing in again with a session cookie issues a new token and ends the old one.
    let (_, headers, _) = app.get("/desk/login").await;
    let login = set_cookie(&headers, "vanban_login").unwrap();
    let request = axum::http::Request::post("/desk/login")
        .header(
            "cookie",
            format!("vanban_login={login}; vanban_session={}", first.token),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(crate::desk_support::form_body(&[
            ("csrf", &login),
            ("name", "vanthu"),
            ("password", PASSWORD),
        ])))
        .unwrap();
    let (status, headers, _) = app.request(request).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let renewed = set_cookie(&headers, "vanban_session").unwrap();
    assert_ne!(renewed, first.token);
    assert_eq!(
        first.get(&app, "/desk/password").await.0,
        StatusCode::SEE_OTHER
    );

    // Sign-out: the CSRF token may come in a header too; the session is gone.
    let second = sign_in(&app, "vanthu", PASSWORD).await;
    let request = second
        .authorize(axum::http::Request::post("/desk/logout"))
        .header("x-csrf-token", &second.csrf)
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, headers, _) = app.request(request).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cleared = headers["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("vanban_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert_eq!(
        second.get(&app, "/desk/password").await.0,
        StatusCode::SEE_OTHER
    );
    let audit = app.state.store.account_audit_log(None, 50).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "signed_in" && e.actor == "desk:vanthu")
    );
    assert!(
        audit
            .iter()
            .any(|e| e.action == "signed_out" && e.actor == "desk:vanthu")
    );
}

#[tokio::test]
async fn repeated_failures_lock_the_account_and_then_the_client() {
    let app = crate::web::app_with(&[
        ("VANBAN__DESK__LOGIN_MAX_FAILURES", "3"),
        ("VANBAN__DESK__LOGIN_MAX_FAILURES_PER_CLIENT", "5"),
        ("VANBAN__DESK__LOCKOUT_MINUTES", "15"),
    ])
    .await;
    add_account(&app, "vanthu", Role::Clerk, &["000.46.24.H44"]).await;
    add_account(&app, "vanthu2", Role::Clerk, &["000.46.24.H44"]).await;
    for _ in 0..2 {
        assert_eq!(
            try_sign_in(&app, "vanthu", "sai mật khẩu rồi").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, headers, body) = try_sign_in(&app, "vanthu", "sai mật khẩu rồi").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        body.contains("Thử lại sau") && body.contains("phút nữa"),
        "{body}"
    );
    let retry: i64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((800..=900).contains(&retry), "{retry}");
    // Locked: even the right password is refused until then.
    assert_eq!(
        try_sign_in(&app, "vanthu", PASSWORD).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another account still signs in from this client...
    sign_in(&app, "vanthu2", PASSWORD).await;
    // ...until the client's own count (5 failures, any names) is reached.
    assert_eq!(
        try_sign_in(&app, "khongco", "đoán mò lần một").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _, body) = try_sign_in(&app, "khongco2", "đoán mò lần hai").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(
        try_sign_in(&app, "vanthu2", PASSWORD).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions() {
    let app = crate::web::app().await;
    let here = desk_account(&app, "vanthu", Role::Clerk, &["000.46.24.H44"]).await;
    let elsewhere = sign_in(&app, "vanthu", PASSWORD).await;
    let new = "Ba con mèo đen ngồi trên mái nhà";
    #[rustfmt::skip]
    let refusals: &[(&str, &str, &str, &str)] = &[
        ("sai mật khẩu hiện tại", new, new, "Mật khẩu hiện tại không đúng"),
        (PASSWORD, new, "Ba con mèo đen ngồi trên mái nhà!", "không khớp"),
        (PASSWORD, "ngắn quá", "ngắn quá", "quá ngắn"),
        (PASSWORD, "matkhau123456", "matkhau123456", "quá dễ đoán"),
        (PASSWORD, PASSWORD, PASSWORD, "phải khác"),
    ];
    for (current, new, confirm, why) in refusals {
        let (status, _, body) = here
            .post(
                &app,
                "/desk/password",
                &[("current", current), ("new", new), ("confirm", confirm)],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{why}");
        assert!(body.contains(why), "{why}: {body}");
    }
    assert_eq!(
        elsewhere.get(&app, "/desk/password").await.0,
        StatusCode::OK
    );
    let (status, headers, _) = here
        .post(
            &app,
            "/desk/password",
            &[("current", PASSWORD), ("new", new), ("confirm", new)],
        )
        .await;
    assert_eq!(
        (status, headers["location"].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/desk/password?done=password")
    );
    assert_eq!(here.get(&app, "/desk/password").await.0, StatusCode::OK);
    assert_eq!(
        elsewhere.get(&app, "/desk/password").await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        try_sign_in(&app, "vanthu", PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );
    sign_in(&app, "vanthu", new).await;
}

#[tokio::test]
async fn administrators_manage_accounts_and_units() {
    let app = crate::web::app().await;
    let admin = desk_account(&app, "quantri", Role::Admin, &[]).await;
    let clerk = desk_account(&app, "vanthu", Role::Clerk, &["000.46.24.H44"]).await;
    let viewer = desk_account(&app, "xem", Role::Viewer, &["000.46.24.H44"]).await;

    // Only administrators see the pages.
    for page in ["/desk/accounts", "/desk/units"] {
        assert_eq!(admin.get(&app, page).await.0, StatusCode::OK, "{page}");
        assert_eq!(
            clerk.get(&app, page).await.0,
            StatusCode::FORBIDDEN,
            "{page}"
        );
        assert_eq!(
            viewer.get(&app, page).await.0,
            StatusCode::FORBIDDEN,
            "{page}"
        );
    }

    // Units: add a child, rename, refuse a cycle and a bad code.
    let ok = |r: (StatusCode, axum::http::HeaderMap, String)| {
        assert_eq!(r.0, StatusCode::SEE_OTHER, "{}", r.2);
    };
    ok(admin
        .post(
            &app,
            "/desk/units",
            &[
                ("code", "000.46.24.H44.01"),
                ("name", "Bộ phận một cửa"),
                ("parent", "000.46.24.H44"),
            ],
        )
        .await);
    ok(admin
        .post(
            &app,
            "/desk/units/000.46.24.H44",
            &[("name", "UBND xã Quốc Tuấn"), ("parent", "")],
        )
        .await);
    let (status, _, body) = admin
        .post(
            &app,
            "/desk/units/000.46.24.H44",
            &[
                ("name", "UBND xã Quốc Tuấn"),
                ("parent", "000.46.24.H44.01"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _, _) = admin
        .post(&app, "/desk/units", &[("code", "<script>"), ("name", "x")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = admin
        .post(
            &app,
            "/desk/units",
            &[("code", "000.46.24.H44"), ("name", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, _, page) = admin.get(&app, "/desk/units").await;
    // The child is listed right under its parent, indented.
    let parent_at = page
        .find(r#"<td style="padding-left:0.5rem">000.46.24.H44</td>"#)
        .expect("the parent's row");
    let child_at = page
        .find(r#"<td style="padding-left:2rem">000.46.24.H44.01</td>"#)
        .expect("the child's row");
    assert!(parent_at < child_at, "{page}");

    // Accounts: create, sign in, change units and role, reset the password, disable.
    let fresh = "Ba con mèo đen ngồi trên mái nhà";
    let (status, _, body) = admin
        .post(
            &app,
            "/desk/accounts",
            &[
                ("name", "mot.cua"),
                ("display_name", "Nguyễn Thị Một Cửa"),
                ("role", "clerk"),
                ("unit", "000.46.24.H44.01"),
                ("password", "ngắn"),
            ],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "weak password: {body}"
    );
    let (status, _, body) = admin
        .post(
            &app,
            "/desk/accounts",
            &[
                ("name", "mot.cua"),
                ("display_name", "Nguyễn Thị Một Cửa"),
                ("role", "clerk"),
                ("password", fresh),
            ],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a clerk needs a unit: {body}"
    );
    ok(admin
        .post(
            &app,
            "/desk/accounts",
            &[
                ("name", "mot.cua"),
                ("display_name", "Nguyễn Thị Một Cửa"),
                ("role", "clerk"),
                ("unit", "000.46.24.H44.01"),
                ("password", fresh),
            ],
        )
        .await);
    let (status, _, _) = admin
        .post(
            &app,
            "/desk/accounts",
            &[
                ("name", "mot.cua"),
                ("display_name", "x"),
                ("role", "clerk"),
                ("unit", "000.46.24.H44"),
                ("password", fresh),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let one_stop = sign_in(&app, "mot.cua", fresh).await;
    let id = one_stop.account_id;
    ok(admin
        .post(
            &app,
            &format!("/desk/accounts/{id}/units"),
            &[("unit", "000.46.24.H44"), ("unit", "000.46.24.H44.01")],
        )
        .await);
    let account = app.state.store.account(id).await.unwrap().unwrap();
    assert_eq!(account.units, ["000.46.24.H44", "000.46.24.H44.01"]);
    ok(admin
        .post(
            &app,
            &format!("/desk/accounts/{id}/role"),
            &[("role", "viewer")],
        )
        .await);
    assert_eq!(
        app.state.store.account(id).await.unwrap().unwrap().role,
        Role::Viewer
    );
    ok(admin
        .post(
            &app,
            &format!("/desk/accounts/{id}/password"),
            &[("new", PASSWORD)],
        )
        .await);
    assert_eq!(
        one_stop.get(&app, "/desk/password").await.0,
        StatusCode::SEE_OTHER,
        "a reset ends its sessions"
    );
    let one_stop = sign_in(&app, "mot.cua", PASSWORD).await;
    ok(admin
        .post(&app, &format!("/desk/accounts/{id}/disable"), &[])
        .await);
    assert_eq!(
        one_stop.get(&app, "/desk/password").await.0,
        StatusCode::SEE_OTHER,
        "disabled: at once"
    );
    assert_eq!(
        try_sign_in(&app, "mot.cua", PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );
    ok(admin
        .post(&app, &format!("/desk/accounts/{id}/enable"), &[])
        .await);
    sign_in(&app, "mot.cua", PASSWORD).await;

    // An administrator cannot lock itself out.
    let me = admin.account_id;
    assert_eq!(
        admin
            .post(&app, &format!("/desk/accounts/{me}/disable"), &[])
            .await
            .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        admin
            .post(
                &app,
                &format!("/desk/accounts/{me}/role"),
                &[("role", "clerk")]
            )
            .await
            .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        admin
            .post(&app, "/desk/accounts/424242/disable", &[])
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // Who did what, when.
    let audit = app
        .state
        .store
        .account_audit_log(Some(id), 50)
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "account_created",
            "signed_in",
            "account_units_changed",
            "account_role_changed",
            "password_reset",
            "signed_in",
            "account_disabled",
            "account_enabled",
            "signed_in",
        ]
    );
    assert!(
        audit
            .iter()
            .filter(|e| !e.action.starts_with("signed"))
            .all(|e| e.actor == "desk:quantri")
    );
    let page = admin.get(&app, "/desk/accounts").await.2;
    assert!(
        page.contains("Nguyễn Thị Một Cửa") && page.contains("Chỉ xem"),
        "{page}"
    );
}

#[tokio::test]
async fn a_disabled_flag_alone_refuses_a_live_session() {
    let app = crate::web::app().await;
    let clerk = desk_account(&app, "vanthu", Role::Clerk, &["000.46.24.H44"]).await;
    let Store::Sqlite(pool) = &app.state.store else {
        unreachable!()
    };
    sqlx::query("UPDATE accounts SET disabled = TRUE WHERE id = $1")
        .bind(clerk.account_id)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        clerk.get(&app, "/desk/password").await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.state
            .store
            .session_count(clerk.account_id)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn configured_units_are_seeded_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("site.toml");
    std::fs::write(
        &config,
        r#"
[ingest]
default_unit = "000.00.00.H00"
[[desk.units]]
code = "000.46.24.H44"
name = "UBND xã Quốc Tuấn"
parent = "000.00.24.H44"
[[desk.units]]
code = "000.00.24.H44"
name = "UBND huyện An Lão"
[sync.sources.hub]
kind = "folder"
path = "/nonexistent"
unit = "000.47.24.H44"
"#,
    )
    .unwrap();
    let settings = vanban::config::Settings::load(
        Some(&config),
        [(
            "VANBAN__STORAGE__DATA_DIR".to_string(),
            dir.path().display().to_string(),
        )],
    )
    .unwrap()
    .settings;
    let store = Store::connect(&settings.database_url(), 2).await.unwrap();
    vanban::auth::seed_units(&store, &settings).await.unwrap();
    store
        .update_unit("000.00.24.H44", "Huyện An Lão (đổi tên)", None, "test")
        .await
        .unwrap();
    vanban::auth::seed_units(&store, &settings).await.unwrap();
    let units: Vec<(String, String, Option<String>)> = store
        .units()
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.code, u.name, u.parent_code))
        .collect();
    assert_eq!(
        units,
        [
            ("000.00.00.H00".into(), "000.00.00.H00".into(), None),
            (
                "000.00.24.H44".into(),
                "Huyện An Lão (đổi tên)".into(),
                None
            ),
            (
                "000.46.24.H44".into(),
                "UBND xã Quốc Tuấn".into(),
                Some("000.00.24.H44".into())
            ),
            ("000.47.24.H44".into(), "000.47.24.H44".into(), None),
        ]
    );
}

fn vanban_cli(data: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_vanban"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("VANBAN__STORAGE__DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn the_first_administrator_is_made_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let out = vanban_cli(
        data,
        &[
            "unit",
            "add",
            "--code",
            "000.46.24.H44",
            "--name",
            "UBND xã Quốc Tuấn",
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    #[rustfmt::skip]
    let refused: &[(&[&str], &str, &str)] = &[
        (&["user", "add", "--name", "quantri", "--role", "admin"], "ngắn\n", "quá ngắn"),
        (&["user", "add", "--name", "quantri", "--role", "admin"], "matkhau123456\n", "quá dễ đoán"),
        (&["user", "add", "--name", "vanthu", "--role", "clerk"], "Ba con mèo đen ngồi\n", "--unit"),
        (&["user", "add", "--name", "vanthu", "--role", "clerk", "--unit", "000.99"], "Ba con mèo đen ngồi\n", "no unit 000.99"),
        (&["user", "add", "--name", "văn thư", "--role", "clerk", "--unit", "000.46.24.H44"], "Ba con mèo đen ngồi\n", "Tên đăng nhập"),
        (&["user", "add", "--name", "vanthu", "--role", "boss"], "Ba con mèo đen ngồi\n", "role"),
    ];
    for (args, stdin, why) in refused {
        let out = vanban_cli(data, args, stdin);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(why), "{args:?}: {stderr}");
    }
    let out = vanban_cli(
        data,
        &[
            "user",
            "add",
            "--name",
            "quantri",
            "--role",
            "admin",
            "--display-name",
            "Quản trị viên",
        ],
        "Sông Hồng chảy qua Hà Nội\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = vanban_cli(
        data,
        &[
            "user",
            "add",
            "--name",
            "vanthu",
            "--role",
            "clerk",
            "--unit",
            "000.46.24.H44",
        ],
        "Ba con mèo đen ngồi trên mái\r\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = vanban_cli(data, &["user", "list"], "");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("quantri\tadmin\tactive")
            && listed.contains("vanthu\tclerk\tactive\t000.46.24.H44"),
        "{listed}"
    );
    let out = vanban_cli(data, &["unit", "list"], "");
    let listed = String::from_utf8_lossy(&out.stdout);
    // The default unit was seeded as well.
    assert!(
        listed.contains("000.46.24.H44\t-\tUBND xã Quốc Tuấn") && listed.contains("000.00.00.H00"),
        "{listed}"
    );

    let url = format!("sqlite://{}?mode=rwc", data.join("vanban.db").display());
    let store = Store::connect(&url, 2).await.unwrap();
    let c = store.credentials("vanthu").await.unwrap().unwrap();
    assert!(password::verify_blocking(
        "Ba con mèo đen ngồi trên mái",
        &c.password_hash
    ));
    let admin = store.credentials("quantri").await.unwrap().unwrap();
    assert_eq!(
        (admin.account.role, admin.account.display_name.as_str()),
        (Role::Admin, "Quản trị viên")
    );
    assert!(password::verify_blocking(
        "Sông Hồng chảy qua Hà Nội",
        &admin.password_hash
    ));
}
