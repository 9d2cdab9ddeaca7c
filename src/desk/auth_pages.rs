//! Sign-in, sign-out, password change, and the administrator's accounts and units pages.
//!
//! Every state-changing form carries a CSRF token (the sign-in form its own, from a
//! `vanban_login` cookie, since there is no session yet); every handler checks the role;
//! every change is audited in `account_audit` by the store, in the change's transaction.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;

use crate::auth::form::FormData;
use crate::auth::session::{self, COOKIE, LOGIN_COOKIE};
use crate::auth::{
    DESK_NAME, DeskError, DeskUser, Role, constant_time_eq, normalize_account_name,
    normalize_label, normalize_unit_code, password, safe_next, vn_time,
};
use crate::store::{Account, NewAccount, Unit};
use crate::web::SharedState;
use crate::web::html::{escape, url_encode};

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/desk/login", get(login_form).post(login))
        .route("/desk/logout", post(logout))
        .route("/desk/password", get(password_form).post(change_password))
        .route("/desk/accounts", get(accounts_page).post(create_account))
        .route("/desk/accounts/{id}/{action}", post(account_action))
        .route("/desk/units", get(units_page).post(create_unit))
        .route("/desk/units/{code}", post(update_unit))
        .layer(axum::middleware::map_response(no_store))
}

async fn no_store(mut response: Response) -> Response {
    crate::auth::no_store_headers(response.headers_mut());
    response
}

/// The page frame: the desk's own for a signed-in account, a bare page for sign-in.
fn frame(user: Option<&DeskUser>, title: &str, body: &str) -> Html<String> {
    match user {
        Some(u) => crate::desk::layout::desk_page(u, title, body),
        None => Html(crate::web::html::page(title, DESK_NAME, "", body)),
    }
}

fn csrf_field(user: &DeskUser) -> String {
    format!(
        r#"<input type="hidden" name="csrf" value="{}">"#,
        escape(&user.csrf_token)
    )
}

/// A message after a change (the POST redirects to the page with `?done=CODE`).
fn done_message(code: Option<&String>) -> String {
    let text = match code.map(String::as_str) {
        Some("password") => "Đã đổi mật khẩu. Các phiên đăng nhập khác của tài khoản đã kết thúc.",
        Some("created") => "Đã tạo tài khoản.",
        Some("disabled") => "Đã vô hiệu hoá tài khoản; các phiên đăng nhập của nó đã kết thúc.",
        Some("enabled") => "Đã mở lại tài khoản.",
        Some("reset") => "Đã đặt lại mật khẩu; các phiên đăng nhập của tài khoản đã kết thúc.",
        Some("units") => "Đã cập nhật đơn vị của tài khoản.",
        Some("role") => "Đã đổi vai trò của tài khoản.",
        Some("unit_created") => "Đã thêm đơn vị.",
        Some("unit_updated") => "Đã cập nhật đơn vị.",
        _ => return String::new(),
    };
    format!(r#"<p class="ok" role="status">{}</p>"#, escape(text))
}

fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// The client address sign-in failures are counted by (`session::client_key`).
struct ClientKey(String);

impl FromRequestParts<SharedState> for ClientKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SharedState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientKey(session::client_key(
            &state.settings,
            &parts.headers,
            session::peer(&parts.extensions),
        )))
    }
}

// ----- sign-in and sign-out -----

const BAD_CREDENTIALS: &str = "Tên đăng nhập hoặc mật khẩu không đúng";

fn login_page(status: StatusCode, next: &str, name: &str, error: Option<&str>) -> Response {
    let token = session::new_token();
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default();
    let body = format!(
        r#"<h1>Đăng nhập</h1>
{error}
<form method="post" action="/desk/login" class="login">
<input type="hidden" name="csrf" value="{token}">
<input type="hidden" name="next" value="{next}">
<p><label for="name">Tên đăng nhập</label><br><input id="name" name="name" value="{name}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus></p>
<p><label for="password">Mật khẩu</label><br><input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Đăng nhập</button></p>
</form>"#,
        next = escape(next),
        name = escape(name),
    );
    let mut response = (status, frame(None, "Đăng nhập", &body)).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(LOGIN_COOKIE, &token, "/desk/login", 3600),
    );
    response
}

async fn login_form(Query(query): Query<HashMap<String, String>>) -> Response {
    login_page(
        StatusCode::OK,
        &safe_next(query.get("next").map(String::as_str)),
        "",
        None,
    )
}

async fn login(
    State(state): State<SharedState>,
    ClientKey(client): ClientKey,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, DeskError> {
    // The form's token must match the cookie set with it: a page of another site cannot
    // sign a browser in to an account of its choosing.
    let expected = session::cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    let presented = form.csrf().unwrap_or("");
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), presented.as_bytes()) {
        return Err(DeskError::Csrf);
    }
    let next = safe_next(form.get("next"));
    let raw_name = form.get("name").unwrap_or("");
    let typed_password = form.get("password").unwrap_or("").to_string();
    let desk = &state.settings.desk;
    let lock_for = chrono::Duration::minutes(desk.lockout_minutes.max(1) as i64);

    if let Some(until) = state.store.client_locked_until(&client).await? {
        return Err(DeskError::Locked { until });
    }
    let credentials = match normalize_account_name(raw_name) {
        Ok(name) => state.store.credentials(&name).await?,
        Err(_) => None,
    };
    if let Some(c) = &credentials
        && let Some(until) = c.account.locked_until
        && until > Utc::now()
    {
        return Err(DeskError::Locked { until });
    }
    let matches = password::verify(
        typed_password,
        credentials.as_ref().map(|c| c.password_hash.clone()),
    )
    .await?;
    let credentials = match credentials {
        Some(c) if matches && !c.account.disabled => c,
        other => {
            if !matches {
                let mut locked = state
                    .store
                    .record_client_failure(&client, desk.login_max_failures_per_client, lock_for)
                    .await?;
                if let Some(c) = &other
                    && !c.account.disabled
                {
                    let account_lock = state
                        .store
                        .record_login_failure(
                            c.account.id,
                            desk.login_max_failures,
                            lock_for,
                            &client,
                        )
                        .await?;
                    locked = locked.or(account_lock);
                }
                if let Some(until) = locked {
                    return Err(DeskError::Locked { until });
                }
            }
            return Ok(login_page(
                StatusCode::UNAUTHORIZED,
                &next,
                raw_name.trim(),
                Some(BAD_CREDENTIALS),
            ));
        }
    };
    let account = credentials.account;
    state.store.clear_login_failures(account.id).await?;
    let (_, cookie) = session::start(&state, account.id, session::cookie(&headers, COOKIE)).await?;
    state
        .store
        .account_audit(
            &format!("desk:{}", account.name),
            "signed_in",
            Some(account.id),
            &serde_json::json!({"client": client}),
        )
        .await?;
    let mut response = see_other(&next);
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response.headers_mut().append(
        header::SET_COOKIE,
        session::clear_cookie(LOGIN_COOKIE, "/desk/login"),
    );
    Ok(response)
}

async fn logout(
    State(state): State<SharedState>,
    user: DeskUser,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, DeskError> {
    user.verify_csrf_in(&headers, form.csrf())?;
    state.store.delete_session(&user.session_sha256).await?;
    state
        .store
        .account_audit(
            &user.actor(),
            "signed_out",
            Some(user.account_id),
            &serde_json::json!({}),
        )
        .await?;
    let mut response = see_other("/desk/login");
    response
        .headers_mut()
        .append(header::SET_COOKIE, session::clear_cookie(COOKIE, "/desk"));
    Ok(response)
}

// ----- password change -----

fn password_body(user: &DeskUser, message: &str) -> String {
    format!(
        r#"<h1>Đổi mật khẩu</h1>
{message}
<p class="note">Mật khẩu mới cần ít nhất {min} ký tự; một câu dài dễ nhớ là tốt nhất. Khi đổi xong, các phiên đăng nhập khác của tài khoản kết thúc.</p>
<form method="post" action="/desk/password">
{csrf}
<p><label for="current">Mật khẩu hiện tại</label><br><input id="current" name="current" type="password" autocomplete="current-password" required></p>
<p><label for="new">Mật khẩu mới</label><br><input id="new" name="new" type="password" autocomplete="new-password" minlength="{min}" required></p>
<p><label for="confirm">Nhập lại mật khẩu mới</label><br><input id="confirm" name="confirm" type="password" autocomplete="new-password" minlength="{min}" required></p>
<p><button type="submit">Đổi mật khẩu</button></p>
</form>"#,
        min = password::MIN_LENGTH,
        csrf = csrf_field(user),
    )
}

async fn password_form(
    user: DeskUser,
    Query(query): Query<HashMap<String, String>>,
) -> Html<String> {
    frame(
        Some(&user),
        "Đổi mật khẩu",
        &password_body(&user, &done_message(query.get("done"))),
    )
}

async fn change_password(
    State(state): State<SharedState>,
    user: DeskUser,
    ClientKey(client): ClientKey,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, DeskError> {
    user.verify_csrf_in(&headers, form.csrf())?;
    let refuse = |message: &str| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            frame(
                Some(&user),
                "Đổi mật khẩu",
                &password_body(
                    &user,
                    &format!(r#"<p class="error" role="alert">{}</p>"#, escape(message)),
                ),
            ),
        )
            .into_response()
    };
    let current = form.get("current").unwrap_or("").to_string();
    let new = form.get("new").unwrap_or("").to_string();
    if new != form.get("confirm").unwrap_or("") {
        return Ok(refuse("Hai lần nhập mật khẩu mới không khớp nhau."));
    }
    if let Err(why) = password::check_strength(&new, &user.name) {
        return Ok(refuse(&why));
    }
    let Some(credentials) = state.store.credentials(&user.name).await? else {
        return Err(DeskError::Unauthenticated { next: None });
    };
    if !password::verify(current.clone(), Some(credentials.password_hash)).await? {
        // Guessing through a session left open counts like guessing at the sign-in form.
        let desk = &state.settings.desk;
        let lock_for = chrono::Duration::minutes(desk.lockout_minutes.max(1) as i64);
        state
            .store
            .record_login_failure(user.account_id, desk.login_max_failures, lock_for, &client)
            .await?;
        return Ok(refuse("Mật khẩu hiện tại không đúng."));
    }
    if current == new {
        return Ok(refuse("Mật khẩu mới phải khác mật khẩu hiện tại."));
    }
    let hash = password::hash(new).await?;
    state
        .store
        .set_password(
            user.account_id,
            &hash,
            Some(&user.session_sha256),
            &user.actor(),
            "password_changed",
        )
        .await?;
    Ok(see_other("/desk/password?done=password"))
}

// ----- accounts (administrators) -----

fn unit_options(units: &[Unit], selected: &[String]) -> String {
    units
        .iter()
        .map(|u| {
            format!(
                r#"<option value="{code}"{sel}>{code} — {name}</option>"#,
                code = escape(&u.code),
                name = escape(&u.name),
                sel = if selected.contains(&u.code) {
                    " selected"
                } else {
                    ""
                },
            )
        })
        .collect()
}

fn role_options(selected: Role) -> String {
    Role::ALL
        .iter()
        .map(|r| {
            format!(
                r#"<option value="{}"{}>{}</option>"#,
                r.as_str(),
                if *r == selected { " selected" } else { "" },
                escape(r.label())
            )
        })
        .collect()
}

fn account_state(account: &Account) -> String {
    if account.disabled {
        "Đã vô hiệu hoá".into()
    } else if let Some(until) = account.locked_until.filter(|u| *u > Utc::now()) {
        format!("Tạm khoá đến {}", vn_time(until))
    } else {
        "Đang dùng".into()
    }
}

async fn accounts_page(
    State(state): State<SharedState>,
    user: DeskUser,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Html<String>, DeskError> {
    user.require_admin()?;
    let accounts = state.store.accounts().await?;
    let units = state.store.units().await?;
    let csrf = csrf_field(&user);
    let mut rows = String::new();
    for a in &accounts {
        let base = format!("/desk/accounts/{}", a.id);
        let toggle = if a.disabled {
            format!(
                r#"<form method="post" action="{base}/enable">{csrf}<button type="submit">Mở lại</button></form>"#
            )
        } else if a.id == user.account_id {
            String::new()
        } else {
            format!(
                r#"<form method="post" action="{base}/disable">{csrf}<button type="submit">Vô hiệu hoá</button></form>"#
            )
        };
        rows.push_str(&format!(
            r#"<tr><td><strong>{name}</strong><br>{display}</td><td>{role}</td><td>{units}</td><td>{state}</td>
<td>{toggle}
<details><summary>Sửa</summary>
<form method="post" action="{base}/role">{csrf}<label>Vai trò <select name="role">{roles}</select></label> <button type="submit">Lưu vai trò</button></form>
<form method="post" action="{base}/units">{csrf}<label>Đơn vị<br><select name="unit" multiple size="4">{unit_opts}</select></label><br><button type="submit">Lưu đơn vị</button></form>
<form method="post" action="{base}/password">{csrf}<label>Mật khẩu mới <input name="new" type="password" autocomplete="new-password" minlength="{min}" required></label> <button type="submit">Đặt lại mật khẩu</button></form>
</details></td></tr>
"#,
            name = escape(&a.name),
            display = escape(&a.display_name),
            role = escape(a.role.label()),
            units = if a.units.is_empty() {
                if a.role == Role::Admin { "Mọi đơn vị".into() } else { "—".into() }
            } else {
                escape(&a.units.join(", "))
            },
            state = escape(&account_state(a)),
            roles = role_options(a.role),
            unit_opts = unit_options(&units, &a.units),
            min = password::MIN_LENGTH,
        ));
    }
    let names: HashMap<i64, &str> = accounts.iter().map(|a| (a.id, a.name.as_str())).collect();
    let mut journal = String::new();
    for entry in state.store.account_audit_log(None, 50).await? {
        let subject = match (entry.account_id, &entry.unit_code) {
            (Some(id), _) => names
                .get(&id)
                .map(|n| n.to_string())
                .unwrap_or_else(|| format!("#{id}")),
            (None, Some(code)) => format!("đơn vị {code}"),
            (None, None) => String::new(),
        };
        journal.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>\n",
            escape(&vn_time(entry.at)),
            escape(&entry.actor),
            escape(audit_label(&entry.action)),
            escape(&subject),
            escape(&entry.detail.to_string()),
        ));
    }
    let body = format!(
        r#"<h1>Tài khoản</h1>
{done}
<table><thead><tr><th>Tài khoản</th><th>Vai trò</th><th>Đơn vị</th><th>Trạng thái</th><th>Thao tác</th></tr></thead>
<tbody>
{rows}</tbody></table>
<h2>Tạo tài khoản</h2>
<form method="post" action="/desk/accounts">
{csrf}
<p><label>Tên đăng nhập<br><input name="name" required autocapitalize="none" spellcheck="false" pattern="[A-Za-z0-9._\-]{{2,64}}"></label></p>
<p><label>Họ tên<br><input name="display_name" required></label></p>
<p><label>Vai trò<br><select name="role">{roles}</select></label></p>
<p><label>Đơn vị (văn thư, chỉ xem: ít nhất một)<br><select name="unit" multiple size="6">{unit_opts}</select></label></p>
<p><label>Mật khẩu ban đầu (ít nhất {min} ký tự)<br><input name="password" type="password" autocomplete="new-password" minlength="{min}" required></label></p>
<p><button type="submit">Tạo tài khoản</button></p>
</form>
<h2>Nhật ký tài khoản và đơn vị (50 mục gần nhất)</h2>
<table><thead><tr><th>Lúc</th><th>Người làm</th><th>Việc</th><th>Đối tượng</th><th>Chi tiết</th></tr></thead>
<tbody>
{journal}</tbody></table>"#,
        done = done_message(query.get("done")),
        roles = role_options(Role::Clerk),
        unit_opts = unit_options(&units, &[]),
        min = password::MIN_LENGTH,
    );
    Ok(frame(Some(&user), "Tài khoản", &body))
}

/// What the journal calls an audited action.
fn audit_label(action: &str) -> &str {
    match action {
        "signed_in" => "Đăng nhập",
        "signed_out" => "Đăng xuất",
        "account_created" => "Tạo tài khoản",
        "account_disabled" => "Vô hiệu hoá tài khoản",
        "account_enabled" => "Mở lại tài khoản",
        "account_locked" => "Tạm khoá do sai mật khẩu",
        "client_locked" => "Tạm khoá địa chỉ đăng nhập",
        "password_changed" => "Đổi mật khẩu",
        "password_reset" => "Đặt lại mật khẩu",
        "account_units_changed" => "Đổi đơn vị",
        "account_role_changed" => "Đổi vai trò",
        "unit_created" => "Thêm đơn vị",
        "unit_seeded" => "Thêm đơn vị từ cấu hình",
        "unit_updated" => "Sửa đơn vị",
        other => other,
    }
}

/// The units a form names: each must be a valid organ code; clerks and viewers need one.
fn form_units(form: &FormData, role: Role) -> Result<Vec<String>, DeskError> {
    let mut units = form
        .all("unit")
        .into_iter()
        .filter(|u| !u.trim().is_empty())
        .map(|u| normalize_unit_code(u).map_err(DeskError::Invalid))
        .collect::<Result<Vec<_>, _>>()?;
    units.sort();
    units.dedup();
    if units.is_empty() && role != Role::Admin {
        return Err(DeskError::Invalid(format!(
            "Tài khoản {} cần thuộc ít nhất một đơn vị.",
            role.label().to_lowercase()
        )));
    }
    Ok(units)
}

fn form_role(form: &FormData) -> Result<Role, DeskError> {
    form.get("role")
        .and_then(Role::parse)
        .ok_or_else(|| DeskError::Invalid("Vai trò không hợp lệ.".into()))
}

async fn create_account(
    State(state): State<SharedState>,
    user: DeskUser,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, DeskError> {
    user.verify_csrf_in(&headers, form.csrf())?;
    user.require_admin()?;
    let name =
        normalize_account_name(form.get("name").unwrap_or("")).map_err(DeskError::Invalid)?;
    let display_name = normalize_label(form.get("display_name").unwrap_or(""), "Họ tên")
        .map_err(DeskError::Invalid)?;
    let role = form_role(&form)?;
    let units = form_units(&form, role)?;
    let initial = form.get("password").unwrap_or("").to_string();
    password::check_strength(&initial, &name).map_err(DeskError::Invalid)?;
    let password_hash = password::hash(initial).await?;
    state
        .store
        .create_account(
            &NewAccount {
                name,
                display_name,
                role,
                password_hash,
                units,
            },
            &user.actor(),
        )
        .await?;
    Ok(see_other("/desk/accounts?done=created"))
}

async fn account_action(
    State(state): State<SharedState>,
    user: DeskUser,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, DeskError> {
    user.verify_csrf_in(&headers, form.csrf())?;
    user.require_admin()?;
    let not_found = || DeskError::NotFound("Không có tài khoản này.".into());
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let account = state.store.account(id).await?.ok_or_else(not_found)?;
    let actor = user.actor();
    let done = match action.as_str() {
        "disable" => {
            if id == user.account_id {
                return Err(DeskError::Conflict(
                    "Không thể vô hiệu hoá chính tài khoản đang dùng.".into(),
                ));
            }
            state.store.set_account_disabled(id, true, &actor).await?;
            "disabled"
        }
        "enable" => {
            state.store.set_account_disabled(id, false, &actor).await?;
            "enabled"
        }
        "password" => {
            let new = form.get("new").unwrap_or("").to_string();
            password::check_strength(&new, &account.name).map_err(DeskError::Invalid)?;
            let hash = password::hash(new).await?;
            let keep = (id == user.account_id).then_some(user.session_sha256.as_str());
            state
                .store
                .set_password(id, &hash, keep, &actor, "password_reset")
                .await?;
            "reset"
        }
        "units" => {
            let units = form_units(&form, account.role)?;
            state.store.set_account_units(id, &units, &actor).await?;
            "units"
        }
        "role" => {
            let role = form_role(&form)?;
            if id == user.account_id && role != Role::Admin {
                return Err(DeskError::Conflict(
                    "Không thể bỏ quyền quản trị của chính tài khoản đang dùng.".into(),
                ));
            }
            if role != Role::Admin && account.units.is_empty() {
                return Err(DeskError::Invalid(
                    "Hãy gán đơn vị cho tài khoản trước khi đổi sang vai trò này.".into(),
                ));
            }
            state.store.set_account_role(id, role, &actor).await?;
            "role"
        }
        _ => return Err(DeskError::NotFound("Không có thao tác này.".into())),
    };
    Ok(see_other(&format!("/desk/accounts?done={done}")))
}

// ----- units (administrators) -----

/// Units in tree order (each after its parent, children by code) with their depth.
fn unit_tree(units: &[Unit]) -> Vec<(usize, &Unit)> {
    let known: std::collections::HashSet<&str> = units.iter().map(|u| u.code.as_str()).collect();
    let mut out = Vec::with_capacity(units.len());
    let mut stack: Vec<(usize, &Unit)> = units
        .iter()
        .filter(|u| u.parent_code.as_deref().is_none_or(|p| !known.contains(p)))
        .rev()
        .map(|u| (0, u))
        .collect();
    while let Some((depth, unit)) = stack.pop() {
        out.push((depth, unit));
        let children = units
            .iter()
            .filter(|c| c.parent_code.as_deref() == Some(unit.code.as_str()))
            .rev();
        stack.extend(children.map(|c| (depth + 1, c)));
        if out.len() > units.len() {
            break;
        }
    }
    out
}

fn parent_options(units: &[Unit], selected: Option<&str>, except: Option<&str>) -> String {
    let mut out = format!(
        r#"<option value=""{}>— Không có (cấp cao nhất) —</option>"#,
        if selected.is_none() { " selected" } else { "" }
    );
    for u in units.iter().filter(|u| Some(u.code.as_str()) != except) {
        out.push_str(&format!(
            r#"<option value="{code}"{sel}>{code} — {name}</option>"#,
            code = escape(&u.code),
            name = escape(&u.name),
            sel = if selected == Some(u.code.as_str()) {
                " selected"
            } else {
                ""
            },
        ));
    }
    out
}

async fn units_page(
    State(state): State<SharedState>,
    user: DeskUser,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Html<String>, DeskError> {
    user.require_admin()?;
    let units = state.store.units().await?;
    let csrf = csrf_field(&user);
    let mut rows = String::new();
    for (depth, u) in unit_tree(&units) {
        rows.push_str(&format!(
            r#"<tr><td style="padding-left:{pad}rem">{code}</td><td>{name}</td>
<td><details><summary>Sửa</summary><form method="post" action="/desk/units/{code_url}">{csrf}
<label>Tên <input name="name" value="{name}" required></label>
<label>Đơn vị cấp trên <select name="parent">{parents}</select></label>
<button type="submit">Lưu</button></form></details></td></tr>
"#,
            pad = 0.5 + 1.5 * depth as f32,
            code = escape(&u.code),
            code_url = url_encode(&u.code),
            name = escape(&u.name),
            parents = parent_options(&units, u.parent_code.as_deref(), Some(&u.code)),
        ));
    }
    let body = format!(
        r#"<h1>Đơn vị</h1>
{done}
<table><thead><tr><th>Mã định danh</th><th>Tên</th><th>Thao tác</th></tr></thead>
<tbody>
{rows}</tbody></table>
<h2>Thêm đơn vị</h2>
<form method="post" action="/desk/units">
{csrf}
<p><label>Mã định danh (ví dụ 000.46.24.H44)<br><input name="code" required pattern="[A-Za-z0-9._\-]{{1,64}}"></label></p>
<p><label>Tên đơn vị<br><input name="name" required></label></p>
<p><label>Đơn vị cấp trên<br><select name="parent">{parents}</select></label></p>
<p><button type="submit">Thêm đơn vị</button></p>
</form>"#,
        done = done_message(query.get("done")),
        parents = parent_options(&units, None, None),
    );
    Ok(frame(Some(&user), "Đơn vị", &body))
}

fn form_parent(form: &FormData) -> Result<Option<String>, DeskError> {
    form.text("parent")
        .map(|p| normalize_unit_code(p).map_err(DeskError::Invalid))
        .transpose()
}

async fn create_unit(
    State(state): State<SharedState>,
    user: DeskUser,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, DeskError> {
    user.verify_csrf_in(&headers, form.csrf())?;
    user.require_admin()?;
    let code = normalize_unit_code(form.get("code").unwrap_or("")).map_err(DeskError::Invalid)?;
    let name = normalize_label(form.get("name").unwrap_or(""), "Tên đơn vị")
        .map_err(DeskError::Invalid)?;
    let parent = form_parent(&form)?;
    state
        .store
        .create_unit(&code, &name, parent.as_deref(), &user.actor())
        .await?;
    Ok(see_other("/desk/units?done=unit_created"))
}

async fn update_unit(
    State(state): State<SharedState>,
    user: DeskUser,
    Path(code): Path<String>,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, DeskError> {
    user.verify_csrf_in(&headers, form.csrf())?;
    user.require_admin()?;
    let name = normalize_label(form.get("name").unwrap_or(""), "Tên đơn vị")
        .map_err(DeskError::Invalid)?;
    let parent = form_parent(&form)?;
    if !state
        .store
        .update_unit(&code, &name, parent.as_deref(), &user.actor())
        .await?
    {
        return Err(DeskError::NotFound(format!("Không có đơn vị mã {code}.")));
    }
    Ok(see_other("/desk/units?done=unit_updated"))
}
