//! The desk's people: units (organs, in a tree), accounts with a role and units, server-side
//! sessions (only the SHA-256 of each cookie token is stored), sign-in failure bookkeeping
//! per account and per client address, and the audit of every change to accounts and
//! units (`account_audit`, written in the same transaction as the change).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use sqlx::types::Json;

use super::{BeginWrite, Store, StoreError};
use crate::auth::Role;

/// A unit (organ) of the registry: every record, account and token belongs to one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    /// The organ code (mã định danh), e.g. `000.46.24.H44`.
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    /// The sign-in name (`crate::auth::normalize_account_name`).
    pub name: String,
    pub display_name: String,
    pub role: Role,
    /// An argon2id PHC string (`crate::auth::password::hash`).
    pub password_hash: String,
    pub units: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    /// Failed sign-ins since the last success or lock.
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub password_changed_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub units: Vec<String>,
}

/// An account with its password hash, for signing in.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub account: Account,
    pub password_hash: String,
}

/// A new session row: the token itself never reaches the database.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_sha256: String,
    pub account_id: i64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    /// The absolute end of the session.
    pub expires_at: DateTime<Utc>,
}

/// A live session and the account it signs in (never a disabled one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionAccount {
    pub account_id: i64,
    pub name: String,
    pub display_name: String,
    pub role: Role,
    pub units: Vec<String>,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// One audited change to an account or a unit.
#[derive(Debug, Clone, Serialize)]
pub struct AccountAuditEntry {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub account_id: Option<i64>,
    pub unit_code: Option<String>,
    pub detail: Value,
    pub at: DateTime<Utc>,
}

const ACCOUNT_COLUMNS: &str = "id, name, display_name, role, disabled, failed_logins, locked_until, password_changed_at, created_at";

macro_rules! account_from_row {
    ($row:expr, $units:expr) => {{
        let role: String = $row.try_get("role")?;
        Account {
            id: $row.try_get("id")?,
            name: $row.try_get("name")?,
            display_name: $row.try_get("display_name")?,
            role: Role::parse(&role).ok_or_else(|| {
                StoreError::Database(sqlx::Error::Protocol(format!("unknown role {role:?}")))
            })?,
            disabled: $row.try_get("disabled")?,
            failed_logins: $row.try_get("failed_logins")?,
            locked_until: $row.try_get("locked_until")?,
            password_changed_at: $row.try_get("password_changed_at")?,
            created_at: $row.try_get("created_at")?,
            units: $units,
        }
    }};
}

macro_rules! unit_from_row {
    ($row:expr) => {
        Unit {
            code: $row.try_get("code")?,
            name: $row.try_get("name")?,
            parent_code: $row.try_get("parent_code")?,
            created_at: $row.try_get("created_at")?,
        }
    };
}

/// Appends an `account_audit` entry on an open transaction.
macro_rules! account_audit_tx {
    ($tx:expr, $actor:expr, $action:expr, $account:expr, $unit:expr, $detail:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO account_audit (actor, action, account_id, unit_code, detail, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($actor)
        .bind($action)
        .bind($account)
        .bind($unit)
        .bind(Json($detail))
        .bind($now)
        .execute(&mut *$tx)
        .await?
    };
}

/// The units of one account, on a connection or transaction.
macro_rules! units_of_tx {
    ($conn:expr, $id:expr) => {{
        let rows = sqlx::query(
            "SELECT unit_code FROM account_units WHERE account_id = $1 ORDER BY unit_code",
        )
        .bind($id)
        .fetch_all($conn)
        .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("unit_code"))
            .collect::<Result<Vec<_>, _>>()?
    }};
}

/// Fails with a named conflict unless every unit in `$units` exists.
macro_rules! check_units_tx {
    ($tx:expr, $units:expr) => {
        for code in $units {
            let known = sqlx::query("SELECT 1 AS one FROM units WHERE code = $1")
                .bind(code)
                .fetch_optional(&mut *$tx)
                .await?
                .is_some();
            if !known {
                return Err(unknown_unit(code));
            }
        }
    };
}

fn unknown_unit(code: &str) -> StoreError {
    StoreError::Conflict {
        constraint: "units_known",
        message: format!("Không có đơn vị mã {code}"),
    }
}

fn name_taken(err: sqlx::Error, name: &str) -> StoreError {
    if let sqlx::Error::Database(db) = &err
        && (db.constraint() == Some("accounts_name_unique")
            || db.message().contains("accounts.name"))
    {
        return StoreError::Conflict {
            constraint: "accounts_name_unique",
            message: format!("Đã có tài khoản tên {name}"),
        };
    }
    StoreError::Database(err)
}

fn unit_taken(err: sqlx::Error, code: &str) -> StoreError {
    if let sqlx::Error::Database(db) = &err
        && (db.constraint() == Some("units_pkey") || db.message().contains("units.code"))
    {
        return StoreError::Conflict {
            constraint: "units_code_unique",
            message: format!("Đã có đơn vị mã {code}"),
        };
    }
    StoreError::Database(err)
}

impl Store {
    // ----- units -----

    /// Every unit, by organ code.
    pub async fn units(&self) -> Result<Vec<Unit>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query("SELECT code, name, parent_code, created_at FROM units ORDER BY code")
                .fetch_all(pool)
                .await?;
            rows.iter().map(|row| Ok(unit_from_row!(row))).collect()
        })
    }

    pub async fn unit(&self, code: &str) -> Result<Option<Unit>, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query("SELECT code, name, parent_code, created_at FROM units WHERE code = $1")
                .bind(code)
                .fetch_optional(pool)
                .await?;
            match row {
                Some(row) => Ok(Some(unit_from_row!(row))),
                None => Ok(None),
            }
        })
    }

    /// Creates a unit; its parent must exist. A taken code is a conflict
    /// (`units_code_unique`).
    pub async fn create_unit(
        &self,
        code: &str,
        name: &str,
        parent: Option<&str>,
        actor: &str,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if let Some(parent) = parent {
                check_units_tx!(tx, [parent]);
            }
            sqlx::query("INSERT INTO units (code, name, parent_code, created_at) VALUES ($1, $2, $3, $4)")
                .bind(code)
                .bind(name)
                .bind(parent)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| unit_taken(e, code))?;
            let detail = serde_json::json!({"name": name, "parent": parent});
            account_audit_tx!(tx, actor, "unit_created", None::<i64>, Some(code), &detail, now);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Creates a unit unless its code exists (an existing unit is left as it is); `true`
    /// when it was created. Used to seed units from configuration at every start.
    pub async fn ensure_unit(
        &self,
        code: &str,
        name: &str,
        parent: Option<&str>,
        actor: &str,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if let Some(parent) = parent {
                check_units_tx!(tx, [parent]);
            }
            let done = sqlx::query(
                "INSERT INTO units (code, name, parent_code, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO NOTHING",
            )
            .bind(code)
            .bind(name)
            .bind(parent)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let created = done.rows_affected() == 1;
            if created {
                let detail = serde_json::json!({"name": name, "parent": parent});
                account_audit_tx!(tx, actor, "unit_seeded", None::<i64>, Some(code), &detail, now);
            }
            tx.commit().await?;
            Ok(created)
        })
    }

    /// Renames a unit and sets its parent (`None`: a root). A parent that is the unit
    /// itself or one of its descendants is refused (`units_no_cycle`). `false` when the
    /// unit does not exist.
    pub async fn update_unit(
        &self,
        code: &str,
        name: &str,
        parent: Option<&str>,
        actor: &str,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let Some(before) = sqlx::query("SELECT code, name, parent_code, created_at FROM units WHERE code = $1")
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Ok(false);
            };
            let before = unit_from_row!(before);
            if let Some(parent) = parent {
                check_units_tx!(tx, [parent]);
                // Walk up from the new parent: meeting `code` would close a cycle.
                let mut at = Some(parent.to_string());
                let mut steps = 0;
                while let Some(current) = at {
                    steps += 1;
                    if current == code || steps > 10_000 {
                        return Err(StoreError::Conflict {
                            constraint: "units_no_cycle",
                            message: format!(
                                "Đơn vị {parent} nằm trong đơn vị {code}: không thể làm đơn vị cấp trên của nó"
                            ),
                        });
                    }
                    at = sqlx::query("SELECT parent_code FROM units WHERE code = $1")
                        .bind(&current)
                        .fetch_optional(&mut *tx)
                        .await?
                        .map(|r| r.try_get::<Option<String>, _>("parent_code"))
                        .transpose()?
                        .flatten();
                }
            }
            sqlx::query("UPDATE units SET name = $1, parent_code = $2 WHERE code = $3")
                .bind(name)
                .bind(parent)
                .bind(code)
                .execute(&mut *tx)
                .await?;
            let detail = serde_json::json!({
                "name": {"from": before.name, "to": name},
                "parent": {"from": before.parent_code, "to": parent},
            });
            account_audit_tx!(tx, actor, "unit_updated", None::<i64>, Some(code), &detail, now);
            tx.commit().await?;
            Ok(true)
        })
    }

    // ----- accounts -----

    /// Creates an account with its units (each must exist). A taken name is a conflict
    /// (`accounts_name_unique`).
    pub async fn create_account(
        &self,
        account: &NewAccount,
        actor: &str,
    ) -> Result<i64, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            check_units_tx!(tx, &account.units);
            let id: i64 = sqlx::query(
                "INSERT INTO accounts (name, display_name, role, password_hash, disabled, failed_logins, \
                 password_changed_at, created_at) VALUES ($1, $2, $3, $4, FALSE, 0, $5, $5) RETURNING id",
            )
            .bind(&account.name)
            .bind(&account.display_name)
            .bind(account.role.as_str())
            .bind(&account.password_hash)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| name_taken(e, &account.name))?
            .try_get("id")?;
            for unit in &account.units {
                sqlx::query("INSERT INTO account_units (account_id, unit_code) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(id)
                    .bind(unit)
                    .execute(&mut *tx)
                    .await?;
            }
            let detail = serde_json::json!({
                "name": account.name,
                "display_name": account.display_name,
                "role": account.role.as_str(),
                "units": account.units,
            });
            account_audit_tx!(tx, actor, "account_created", Some(id), None::<String>, &detail, now);
            tx.commit().await?;
            Ok(id)
        })
    }

    pub async fn account(&self, id: i64) -> Result<Option<Account>, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1")))
                .bind(id)
                .fetch_optional(pool)
                .await?;
            match row {
                Some(row) => {
                    let units = units_of_tx!(pool, id);
                    Ok(Some(account_from_row!(row, units)))
                }
                None => Ok(None),
            }
        })
    }

    /// The account signing in as `name`, with its password hash.
    pub async fn credentials(&self, name: &str) -> Result<Option<Credentials>, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {ACCOUNT_COLUMNS}, password_hash FROM accounts WHERE name = $1"
            )))
            .bind(name)
            .fetch_optional(pool)
            .await?;
            match row {
                Some(row) => {
                    let id: i64 = row.try_get("id")?;
                    let units = units_of_tx!(pool, id);
                    Ok(Some(Credentials {
                        password_hash: row.try_get("password_hash")?,
                        account: account_from_row!(row, units),
                    }))
                }
                None => Ok(None),
            }
        })
    }

    /// Every account, by name.
    pub async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        with_pool!(self, pool => {
            let mut units: BTreeMap<i64, Vec<String>> = BTreeMap::new();
            for row in sqlx::query("SELECT account_id, unit_code FROM account_units ORDER BY account_id, unit_code")
                .fetch_all(pool)
                .await?
            {
                units.entry(row.try_get("account_id")?).or_default().push(row.try_get("unit_code")?);
            }
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY name")))
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|row| {
                    let id: i64 = row.try_get("id")?;
                    Ok(account_from_row!(row, units.remove(&id).unwrap_or_default()))
                })
                .collect()
        })
    }

    /// Disables or enables an account. Disabling ends every session of the account in the
    /// same transaction. `false` when the account does not exist.
    pub async fn set_account_disabled(
        &self,
        id: i64,
        disabled: bool,
        actor: &str,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query("UPDATE accounts SET disabled = $1 WHERE id = $2")
                .bind(disabled)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            let mut ended = 0;
            if disabled {
                ended = sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            } else {
                // A re-enabled account starts with a clean slate.
                sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            let action = if disabled { "account_disabled" } else { "account_enabled" };
            let detail = serde_json::json!({"sessions_ended": ended});
            account_audit_tx!(tx, actor, action, Some(id), None::<String>, &detail, now);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Sets an account's password hash, clears its failed sign-ins and lock, and ends
    /// every session of the account except `keep` (the SHA-256 of the session that made
    /// the change, if any). `action` names it in the audit (`password_changed` by the
    /// account itself, `password_reset` by an administrator). `false` when the account
    /// does not exist.
    pub async fn set_password(
        &self,
        id: i64,
        password_hash: &str,
        keep: Option<&str>,
        actor: &str,
        action: &str,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE accounts SET password_hash = $1, password_changed_at = $2, failed_logins = 0, \
                 locked_until = NULL WHERE id = $3",
            )
            .bind(password_hash)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            let ended = sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND token_sha256 <> $2")
                .bind(id)
                .bind(keep.unwrap_or(""))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let detail = serde_json::json!({"sessions_ended": ended});
            account_audit_tx!(tx, actor, action, Some(id), None::<String>, &detail, now);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Replaces an account's units (each must exist). `false` when the account does not
    /// exist.
    pub async fn set_account_units(
        &self,
        id: i64,
        units: &[String],
        actor: &str,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if sqlx::query("SELECT id FROM accounts WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?.is_none() {
                return Ok(false);
            }
            check_units_tx!(tx, units);
            let before = units_of_tx!(&mut *tx, id);
            sqlx::query("DELETE FROM account_units WHERE account_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            for unit in units {
                sqlx::query("INSERT INTO account_units (account_id, unit_code) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(id)
                    .bind(unit)
                    .execute(&mut *tx)
                    .await?;
            }
            let detail = serde_json::json!({"from": before, "to": units});
            account_audit_tx!(tx, actor, "account_units_changed", Some(id), None::<String>, &detail, now);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Changes an account's role. `false` when the account does not exist.
    pub async fn set_account_role(
        &self,
        id: i64,
        role: Role,
        actor: &str,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let Some(row) = sqlx::query("SELECT role FROM accounts WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Ok(false);
            };
            let before: String = row.try_get("role")?;
            sqlx::query("UPDATE accounts SET role = $1 WHERE id = $2")
                .bind(role.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let detail = serde_json::json!({"from": before, "to": role.as_str()});
            account_audit_tx!(tx, actor, "account_role_changed", Some(id), None::<String>, &detail, now);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Counts a failed sign-in of an account. At `max_failures` in a row the account is
    /// locked until `now + lock_for` (the count starts again) and that time is returned.
    pub async fn record_login_failure(
        &self,
        id: i64,
        max_failures: u32,
        lock_for: chrono::Duration,
        client: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let Some(row) = sqlx::query("UPDATE accounts SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Ok(None);
            };
            let failures: i32 = row.try_get("failed_logins")?;
            let mut locked = None;
            if failures >= max_failures.max(1) as i32 {
                let until = now + lock_for;
                sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = $1 WHERE id = $2")
                    .bind(until)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let detail = serde_json::json!({"failures": failures, "until": until, "client": client});
                account_audit_tx!(tx, "system:login", "account_locked", Some(id), None::<String>, &detail, now);
                locked = Some(until);
            }
            tx.commit().await?;
            Ok(locked)
        })
    }

    /// A successful sign-in: failed attempts are forgotten.
    pub async fn clear_login_failures(&self, id: i64) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = $1 AND (failed_logins <> 0 OR locked_until IS NOT NULL)")
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Until when `client` (a client address key) may not sign in, if it is locked out.
    pub async fn client_locked_until(
        &self,
        client: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let row = sqlx::query("SELECT locked_until FROM login_throttle WHERE client = $1 AND locked_until > $2")
                .bind(client)
                .bind(now)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(r) => r.try_get("locked_until")?,
                None => None,
            })
        })
    }

    /// Counts a failed sign-in from `client` within a window of `window`; at
    /// `max_failures` the client is locked out for `window`, and that time is returned.
    /// Rows whose window and lock are over are removed on the way, so the table holds only
    /// clients that failed recently.
    pub async fn record_client_failure(
        &self,
        client: &str,
        max_failures: u32,
        window: chrono::Duration,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let now = Utc::now();
        let window_open = now - window;
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "DELETE FROM login_throttle WHERE window_start < $1 AND (locked_until IS NULL OR locked_until < $2)",
            )
            .bind(window_open)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let failures: i32 = sqlx::query(
                "INSERT INTO login_throttle (client, failures, window_start, locked_until) VALUES ($1, 1, $2, NULL) \
                 ON CONFLICT (client) DO UPDATE SET \
                 failures = CASE WHEN login_throttle.window_start < $3 THEN 1 ELSE login_throttle.failures + 1 END, \
                 window_start = CASE WHEN login_throttle.window_start < $3 THEN $2 ELSE login_throttle.window_start END \
                 RETURNING failures",
            )
            .bind(client)
            .bind(now)
            .bind(window_open)
            .fetch_one(&mut *tx)
            .await?
            .try_get("failures")?;
            let mut locked = None;
            if failures >= max_failures.max(1) as i32 {
                let until = now + window;
                sqlx::query("UPDATE login_throttle SET failures = 0, window_start = $1, locked_until = $2 WHERE client = $3")
                    .bind(now)
                    .bind(until)
                    .bind(client)
                    .execute(&mut *tx)
                    .await?;
                let detail = serde_json::json!({"client": client, "failures": failures, "until": until});
                account_audit_tx!(tx, "system:login", "client_locked", None::<i64>, None::<String>, &detail, now);
                locked = Some(until);
            }
            tx.commit().await?;
            Ok(locked)
        })
    }

    // ----- sessions -----

    /// Stores a new session. Sessions of the account that are over (idle since
    /// `idle_cutoff` or past their end) are removed on the way, and so is `replaces` (the
    /// SHA-256 of a session token the browser presented at sign-in: a new token is issued
    /// at every sign-in).
    pub async fn create_session(
        &self,
        session: &NewSession,
        idle_cutoff: DateTime<Utc>,
        replaces: Option<&str>,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM sessions WHERE (account_id = $1 AND (last_seen_at < $2 OR expires_at < $3)) OR token_sha256 = $4")
                .bind(session.account_id)
                .bind(idle_cutoff)
                .bind(session.created_at)
                .bind(replaces.unwrap_or(""))
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO sessions (token_sha256, account_id, csrf_token, created_at, last_seen_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(&session.token_sha256)
            .bind(session.account_id)
            .bind(&session.csrf_token)
            .bind(session.created_at)
            .bind(session.expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The live session with this token hash: used since `idle_cutoff`, not past its end
    /// at `now`, of an account that is not disabled.
    pub async fn session(
        &self,
        token_sha256: &str,
        idle_cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionAccount>, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT s.account_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, \
                 a.name, a.display_name, a.role FROM sessions s JOIN accounts a ON a.id = s.account_id \
                 WHERE s.token_sha256 = $1 AND s.last_seen_at >= $2 AND s.expires_at > $3 AND NOT a.disabled",
            )
            .bind(token_sha256)
            .bind(idle_cutoff)
            .bind(now)
            .fetch_optional(pool)
            .await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let account_id: i64 = row.try_get("account_id")?;
            let role: String = row.try_get("role")?;
            let Some(role) = Role::parse(&role) else {
                return Ok(None);
            };
            Ok(Some(SessionAccount {
                account_id,
                name: row.try_get("name")?,
                display_name: row.try_get("display_name")?,
                role,
                units: units_of_tx!(pool, account_id),
                csrf_token: row.try_get("csrf_token")?,
                created_at: row.try_get("created_at")?,
                last_seen_at: row.try_get("last_seen_at")?,
                expires_at: row.try_get("expires_at")?,
            }))
        })
    }

    /// Records that a session was used at `now` (its idle expiry starts again).
    pub async fn touch_session(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_sha256 = $2 AND last_seen_at < $1")
                .bind(now)
                .bind(token_sha256)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Ends one session (sign-out).
    pub async fn delete_session(&self, token_sha256: &str) -> Result<bool, StoreError> {
        with_pool!(self, pool => {
            let done = sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1")
                .bind(token_sha256)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Ends every session of an account, except `keep` (a token hash) when given; the
    /// number ended.
    pub async fn delete_sessions_of(
        &self,
        account_id: i64,
        keep: Option<&str>,
    ) -> Result<u64, StoreError> {
        with_pool!(self, pool => {
            let done = sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND token_sha256 <> $2")
                .bind(account_id)
                .bind(keep.unwrap_or(""))
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        })
    }

    /// How many sessions an account has (live or not yet pruned).
    pub async fn session_count(&self, account_id: i64) -> Result<i64, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query("SELECT COUNT(*) AS n FROM sessions WHERE account_id = $1")
                .bind(account_id)
                .fetch_one(pool)
                .await?;
            Ok(row.try_get("n")?)
        })
    }

    // ----- audit -----

    /// Writes an audit entry about accounts or units that no other write records (a
    /// sign-in, a sign-out).
    pub async fn account_audit(
        &self,
        actor: &str,
        action: &str,
        account_id: Option<i64>,
        detail: &Value,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            account_audit_tx!(tx, actor, action, account_id, None::<String>, detail, now);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The latest `limit` audit entries about accounts and units, newest first; only
    /// those about `account_id` when given.
    pub async fn account_audit_log(
        &self,
        account_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AccountAuditEntry>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT id, actor, action, account_id, unit_code, detail, at FROM account_audit \
                 WHERE ($1 IS NULL OR account_id = $1) ORDER BY id DESC LIMIT $2",
            )
            .bind(account_id)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(AccountAuditEntry {
                        id: r.try_get("id")?,
                        actor: r.try_get("actor")?,
                        action: r.try_get("action")?,
                        account_id: r.try_get("account_id")?,
                        unit_code: r.try_get("unit_code")?,
                        detail: r.try_get::<Json<Value>, _>("detail")?.0,
                        at: r.try_get("at")?,
                    })
                })
                .collect()
        })
    }
}
