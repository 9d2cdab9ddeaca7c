//! The write side of the clerk desk and of the admin API: status actions (publish,
//! withhold, reject, withdraw, return to review), corrections of fields, a clerk's
//! decision on a hold, merging a duplicate or keeping both, and the same actions in bulk.
//!
//! Each is one transaction, audited (who, when, old → new, why) and appended to the search
//! change log. Every status change goes through `transition_tx!` and so through
//! `domain::check_transition`: nobody publishes a classified or internal record, nor one
//! with an open or confirmed personal-data or marking-doubt hold. Records outside the
//! actor's units are not found.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::types::Json;

use super::{
    BeginWrite, DOCUMENT_COLUMNS, DocumentFields, DocumentRecord, Status, Store, StoreError,
    classify, key_of,
};
use crate::domain::{Action, Hold, HoldCode, HoldState, Refusal};

/// Who acts, and within which units (`None`: every unit — an administrator, the CLI).
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// Recorded in the audit trail (`desk:<account>`, `admin-token:<name>`, `cli`).
    pub name: &'a str,
    pub units: Option<&'a [String]>,
}

impl<'a> Actor<'a> {
    pub fn new(name: &'a str, units: Option<&'a [String]>) -> Actor<'a> {
        Actor { name, units }
    }

    fn may(&self, unit: &str) -> bool {
        self.units
            .is_none_or(|units| units.iter().any(|u| u == unit))
    }
}

/// A stored hold with what a clerk decided about it.
#[derive(Debug, Clone, Serialize)]
pub struct HoldRecord {
    pub id: i64,
    pub document_id: i64,
    pub code: HoldCode,
    pub message: String,
    pub evidence: Option<String>,
    pub page: Option<u32>,
    pub state: HoldState,
    pub created_at: DateTime<Utc>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution_note: Option<String>,
}

impl HoldRecord {
    pub fn hold(&self) -> Hold {
        Hold {
            code: self.code,
            message: self.message.clone(),
            evidence: self.evidence.clone(),
            page: self.page,
        }
    }
}

/// A clerk's decision on a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The reason stands (the personal data is there): it keeps blocking publication if
    /// it is one that blocks.
    Confirm,
    /// The reason does not apply.
    Dismiss,
}

impl Resolution {
    pub fn parse(s: &str) -> Option<Resolution> {
        match s {
            "confirm" => Some(Resolution::Confirm),
            "dismiss" => Some(Resolution::Dismiss),
            _ => None,
        }
    }

    pub fn state(self) -> HoldState {
        match self {
            Resolution::Confirm => HoldState::Confirmed,
            Resolution::Dismiss => HoldState::Dismissed,
        }
    }
}

/// The corrected values of the fields a clerk may correct — the whole set after the
/// correction (`None`: unknown), as `desk::validate` produced it from the record and the
/// clerk's input. The number and symbol are split from the number-symbol and the year is
/// the issue date's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Corrections {
    pub doc_type: Option<String>,
    pub number_symbol: Option<String>,
    pub issuer: Option<String>,
    pub issued_date: Option<NaiveDate>,
    pub effective_date: Option<NaiveDate>,
    pub abstract_text: Option<String>,
    pub signer_name: Option<String>,
    pub signer_title: Option<String>,
}

impl Corrections {
    /// The values a record has now (the form's starting point).
    pub fn of(fields: &DocumentFields) -> Corrections {
        Corrections {
            doc_type: fields.doc_type.clone(),
            number_symbol: fields.number_symbol.clone(),
            issuer: fields.issuer.clone(),
            issued_date: fields.issued_date,
            effective_date: fields.effective_date,
            abstract_text: fields.abstract_text.clone(),
            signer_name: fields.signer_name.clone(),
            signer_title: fields.signer_title.clone(),
        }
    }

    /// `fields` with these corrections applied, and the names of the fields that changed
    /// with their old and new values.
    pub fn apply(
        &self,
        fields: &DocumentFields,
    ) -> (DocumentFields, serde_json::Map<String, Value>) {
        let mut out = fields.clone();
        let mut changes = serde_json::Map::new();
        let mut text = |name: &str, slot: &mut Option<String>, new: &Option<String>| {
            let new = new
                .as_ref()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
            if *slot != new {
                changes.insert(name.into(), json!({"from": slot, "to": new}));
                *slot = new;
            }
        };
        text("doc_type", &mut out.doc_type, &self.doc_type);
        text("number_symbol", &mut out.number_symbol, &self.number_symbol);
        text("issuer", &mut out.issuer, &self.issuer);
        text("abstract", &mut out.abstract_text, &self.abstract_text);
        text("signer_name", &mut out.signer_name, &self.signer_name);
        text("signer_title", &mut out.signer_title, &self.signer_title);
        let mut date = |name: &str, slot: &mut Option<NaiveDate>, new: Option<NaiveDate>| {
            if *slot != new {
                changes.insert(name.into(), json!({"from": slot, "to": new}));
                *slot = new;
            }
        };
        date("issued_date", &mut out.issued_date, self.issued_date);
        date(
            "effective_date",
            &mut out.effective_date,
            self.effective_date,
        );
        if changes.contains_key("number_symbol") {
            let (number, symbol) = match out.number_symbol.as_deref().map(|ns| ns.split_once('/')) {
                Some(Some((n, s))) => (Some(n.trim().to_string()), Some(s.trim().to_string())),
                Some(None) => (out.number_symbol.clone(), None),
                None => (None, None),
            };
            out.number = number.filter(|s| !s.is_empty());
            out.symbol = symbol.filter(|s| !s.is_empty());
        }
        if changes.contains_key("issued_date") {
            out.issued_year = out.issued_date.map(|d| chrono::Datelike::year(&d));
        }
        // Each corrected field says who set it, in place of what the machine read.
        if let Value::Object(evidence) = &mut out.field_evidence {
            for name in changes.keys() {
                evidence.insert(
                    name.clone(),
                    json!({"confidence": 1.0, "evidence": null, "corrected": true}),
                );
            }
        }
        (out, changes)
    }

    /// Whether every field the policy requires is known.
    pub fn complete(fields: &DocumentFields) -> bool {
        fields.doc_type.is_some()
            && (fields.number_symbol.is_some()
                || !crate::domain::type_carries_number(fields.doc_type.as_deref()))
            && fields.issuer.is_some()
            && fields.issued_date.is_some()
            && fields.abstract_text.is_some()
    }
}

/// The outcome of one item of a bulk action.
#[derive(Debug, Clone, Serialize)]
pub struct BulkItem {
    pub id: i64,
    pub ok: bool,
    /// The status after the action (the same as before when refused).
    pub status: Option<Status>,
    /// Why it was refused, in Vietnamese (empty when done).
    pub message: String,
}

/// A `HoldRecord` from a row of `document_holds`.
macro_rules! hold_from_row {
    ($r:expr) => {{
        let r = $r;
        let code: String = r.try_get("code")?;
        let state: String = r.try_get("state")?;
        HoldRecord {
            id: r.try_get("id")?,
            document_id: r.try_get("document_id")?,
            code: HoldCode::parse(&code).unwrap_or(HoldCode::Other),
            message: r.try_get("message")?,
            evidence: r.try_get("evidence")?,
            page: r
                .try_get::<Option<i32>, _>("page")?
                .map(|p| p.max(0) as u32),
            state: HoldState::parse(&state).unwrap_or(HoldState::Open),
            created_at: r.try_get("created_at")?,
            resolved_by: r.try_get("resolved_by")?,
            resolved_at: r.try_get("resolved_at")?,
            resolution_note: r.try_get("resolution_note")?,
        }
    }};
}

const HOLD_COLUMNS: &str = "id, document_id, code, message, evidence, page, state, created_at, resolved_by, resolved_at, resolution_note";

/// Reads a record on a transaction, not found outside the actor's units.
macro_rules! record_in_scope_tx {
    ($tx:expr, $id:expr, $actor:expr) => {{
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind($id)
            .fetch_optional(&mut *$tx)
            .await?
            .ok_or(StoreError::NotFound($id))?;
        let record: DocumentRecord = record_from_row!(row);
        if !$actor.may(&record.unit_code) {
            return Err(StoreError::NotFound($id));
        }
        record
    }};
}

/// Closes the open holds of `$id` (all, or only those of `$code`) as `$state`.
macro_rules! close_holds_tx {
    ($tx:expr, $id:expr, $code:expr, $state:expr, $actor:expr, $note:expr, $now:expr) => {{
        let code: Option<HoldCode> = $code;
        sqlx::query(
            "UPDATE document_holds SET state = $1, resolved_by = $2, resolved_at = $3, resolution_note = $4 \
             WHERE document_id = $5 AND state = $6 AND ($7 IS NULL OR code = $7)",
        )
        .bind($state.as_str())
        .bind($actor)
        .bind($now)
        .bind($note)
        .bind($id)
        .bind(HoldState::Open.as_str())
        .bind(code.map(HoldCode::as_str))
        .execute(&mut *$tx)
        .await?
        .rows_affected()
    }};
}

impl Store {
    /// Every hold of record `id`, oldest first (superseded ones included: the history).
    pub async fn holds(&self, id: i64) -> Result<Vec<HoldRecord>, StoreError> {
        let sql =
            format!("SELECT {HOLD_COLUMNS} FROM document_holds WHERE document_id = $1 ORDER BY id");
        with_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(hold_from_row!(r));
            }
            Ok(out)
        })
    }

    /// The current holds (not superseded) of several records, by record (queue pages).
    pub async fn current_holds_of(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, Vec<HoldRecord>>, StoreError> {
        let mut out: std::collections::HashMap<i64, Vec<HoldRecord>> = Default::default();
        if ids.is_empty() {
            return Ok(out);
        }
        let placeholders: Vec<String> = (2..ids.len() + 2).map(|k| format!("${k}")).collect();
        let sql = format!(
            "SELECT {HOLD_COLUMNS} FROM document_holds WHERE state <> $1 AND document_id IN ({}) ORDER BY id",
            placeholders.join(", ")
        );
        with_pool!(self, pool => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(HoldState::Superseded.as_str());
            for id in ids {
                query = query.bind(id);
            }
            for r in &query.fetch_all(pool).await? {
                let hold = hold_from_row!(r);
                out.entry(hold.document_id).or_default().push(hold);
            }
            Ok(out)
        })
    }

    /// One hold, by its id.
    pub async fn hold(&self, hold_id: i64) -> Result<HoldRecord, StoreError> {
        let sql = format!("SELECT {HOLD_COLUMNS} FROM document_holds WHERE id = $1");
        with_pool!(self, pool => {
            let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(hold_id)
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::HoldNotFound(hold_id))?;
            Ok(hold_from_row!(&r))
        })
    }

    /// Publishes, withholds, rejects, withdraws or returns record `id` to review, through
    /// `domain::check_transition`; a withhold, reject or withdrawal needs a reason (a
    /// withdrawal's is shown publicly). Returns the new status.
    pub async fn act(
        &self,
        id: i64,
        action: Action,
        actor: Actor<'_>,
        reason: &str,
    ) -> Result<Status, StoreError> {
        action.check_reason(reason)?;
        let now = Utc::now();
        let to = action.target();
        let reason = reason.trim();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            transition_tx!(tx, id, to, actor.units, actor.name, reason, json!({"action": action.as_str()}), now);
            tx.commit().await?;
            Ok(to)
        })
    }

    /// The same action over a selection, each item on its own: one refused item does not
    /// stop the others. Items are reported in the order given (repeated ids once).
    pub async fn bulk(
        &self,
        ids: &[i64],
        action: Action,
        actor: Actor<'_>,
        reason: &str,
    ) -> Vec<BulkItem> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for &id in ids {
            if !seen.insert(id) {
                continue;
            }
            match self.act(id, action, actor, reason).await {
                Ok(status) => out.push(BulkItem {
                    id,
                    ok: true,
                    status: Some(status),
                    message: String::new(),
                }),
                Err(e) => {
                    let status = match &e {
                        StoreError::NotFound(_) => None,
                        _ => self
                            .get_document(id)
                            .await
                            .ok()
                            .filter(|d| actor.may(&d.unit_code))
                            .map(|d| d.status),
                    };
                    out.push(BulkItem {
                        id,
                        ok: false,
                        status,
                        message: e.to_string(),
                    })
                }
            }
        }
        out
    }

    /// Corrects the fields of record `id`: the previous state stays in
    /// `document_versions`, the registry key is derived again, and a correction that would
    /// give the record the key of another published record is refused. A record whose
    /// required fields are now all known has its missing-fields holds closed. Returns the
    /// names of the fields that changed (nothing is written when none did).
    pub async fn correct(
        &self,
        id: i64,
        corrections: &Corrections,
        actor: Actor<'_>,
        reason: &str,
    ) -> Result<Vec<String>, StoreError> {
        let now = Utc::now();
        let reason = reason.trim();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let old = record_in_scope_tx!(tx, id, actor);
            let (fields, changes) = corrections.apply(&old.fields);
            if changes.is_empty() {
                return Ok(Vec::new());
            }
            let key = key_of(&fields);
            if key != old.registry_key && let Some(key) = &key {
                let other: Option<i64> = sqlx::query(
                    "SELECT id FROM documents WHERE registry_key = $1 AND status = $2 AND id <> $3 LIMIT 1",
                )
                .bind(key)
                .bind(Status::Published.as_str())
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("id"))
                .transpose()?;
                if let Some(other) = other {
                    return Err(Refusal::SameKeyPublished { other }.into());
                }
            }
            sqlx::query(
                "INSERT INTO document_versions (document_id, version, status, file_sha256, fields, actor, reason, superseded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(old.version)
            .bind(old.status.as_str())
            .bind(&old.file_sha256)
            .bind(Json(&old.fields))
            .bind(actor.name)
            .bind(if reason.is_empty() { "Văn thư sửa thông tin" } else { reason })
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE documents SET doc_type = $1, number = $2, symbol = $3, number_symbol = $4, issuer = $5, \
                 issued_date = $6, issued_year = $7, effective_date = $8, abstract = $9, signer_name = $10, \
                 signer_title = $11, field_evidence = $12, registry_key = $13, version = version + 1, updated_at = $14 \
                 WHERE id = $15",
            )
            .bind(&fields.doc_type)
            .bind(&fields.number)
            .bind(&fields.symbol)
            .bind(&fields.number_symbol)
            .bind(&fields.issuer)
            .bind(fields.issued_date)
            .bind(fields.issued_year)
            .bind(fields.effective_date)
            .bind(&fields.abstract_text)
            .bind(&fields.signer_name)
            .bind(&fields.signer_title)
            .bind(Json(&fields.field_evidence))
            .bind(&key)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
            if Corrections::complete(&fields) {
                // A scan's fields typed in by the clerk settle its scan hold too.
                for code in [HoldCode::MissingFields, HoldCode::Scan] {
                    close_holds_tx!(tx, id, Some(code), HoldState::Dismissed, actor.name,
                        "Văn thư đã bổ sung thông tin bắt buộc", now);
                }
            }
            let names: Vec<String> = changes.keys().cloned().collect();
            let detail = json!({"changes": Value::Object(changes), "reason": reason, "version": old.version + 1});
            audit_and_change_tx!(tx, id, "corrected", actor.name, &detail, now);
            tx.commit().await?;
            Ok(names)
        })
    }

    /// A clerk's decision on hold `hold_id`: confirmed (the reason stands) or dismissed
    /// (it does not apply). Only an open hold can be decided. Returns the record's id.
    pub async fn resolve_hold(
        &self,
        hold_id: i64,
        resolution: Resolution,
        actor: Actor<'_>,
        note: &str,
    ) -> Result<i64, StoreError> {
        let now = Utc::now();
        let note = note.trim();
        let sql = format!("SELECT {HOLD_COLUMNS} FROM document_holds WHERE id = $1");
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(hold_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::HoldNotFound(hold_id))?;
            let hold = hold_from_row!(&row);
            let unit: Option<String> = sqlx::query("SELECT unit_code FROM documents WHERE id = $1")
                .bind(hold.document_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("unit_code"))
                .transpose()?;
            if !unit.is_some_and(|u| actor.may(&u)) {
                return Err(StoreError::HoldNotFound(hold_id));
            }
            if hold.state != HoldState::Open {
                return Err(Refusal::HoldResolved(hold_id).into());
            }
            sqlx::query(
                "UPDATE document_holds SET state = $1, resolved_by = $2, resolved_at = $3, resolution_note = $4 WHERE id = $5",
            )
            .bind(resolution.state().as_str())
            .bind(actor.name)
            .bind(now)
            .bind((!note.is_empty()).then_some(note))
            .bind(hold_id)
            .execute(&mut *tx)
            .await?;
            let action = match resolution {
                Resolution::Confirm => "hold_confirmed",
                Resolution::Dismiss => "hold_dismissed",
            };
            let detail = json!({
                "hold": hold_id, "code": hold.code.as_str(), "message": hold.message,
                "evidence": hold.evidence, "from": HoldState::Open.as_str(),
                "to": resolution.state().as_str(), "reason": note,
            });
            audit_and_change_tx!(tx, hold.document_id, action, actor.name, &detail, now);
            tx.commit().await?;
            Ok(hold.document_id)
        })
    }

    /// Merges duplicate record `duplicate` into record `into`: the duplicate becomes
    /// rejected ("Trùng với văn bản #N", through `domain::check_transition`), points at the
    /// record it was merged into and keeps its file; the kept record's history names the
    /// duplicate and its file; the registry-conflict holds of both are closed.
    pub async fn merge(
        &self,
        duplicate: i64,
        into: i64,
        actor: Actor<'_>,
        reason: &str,
    ) -> Result<(), StoreError> {
        if duplicate == into {
            return Err(Refusal::MergeIntoItself(duplicate).into());
        }
        let now = Utc::now();
        let note = match reason.trim() {
            "" => format!("Trùng với văn bản #{into}"),
            r => format!("Trùng với văn bản #{into}: {r}"),
        };
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let dup = record_in_scope_tx!(tx, duplicate, actor);
            let kept = record_in_scope_tx!(tx, into, actor);
            if dup.status == Status::Published {
                return Err(Refusal::MergePublished(duplicate).into());
            }
            if kept.status == Status::Rejected {
                return Err(Refusal::MergeIntoRejected(into).into());
            }
            transition_tx!(tx, duplicate, Status::Rejected, actor.units, actor.name, note.as_str(),
                json!({"action": "merge", "merged_into": into}), now);
            sqlx::query("UPDATE documents SET merged_into = $1 WHERE id = $2")
                .bind(into)
                .bind(duplicate)
                .execute(&mut *tx)
                .await?;
            close_holds_tx!(tx, duplicate, None::<HoldCode>, HoldState::Dismissed, actor.name, note.as_str(), now);
            let kept_note = format!("Đã gộp bản trùng #{duplicate} vào văn bản này");
            close_holds_tx!(tx, into, Some(HoldCode::RegistryConflict), HoldState::Dismissed, actor.name,
                kept_note.as_str(), now);
            let detail = json!({
                "duplicate": duplicate, "file_sha256": dup.file_sha256, "reason": reason.trim(),
            });
            audit_and_change_tx!(tx, into, "merged", actor.name, &detail, now);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Keeps record `id` and record `other` as two documents: the registry-conflict holds
    /// of both are dismissed, naming each other; statuses are unchanged. Returns how many
    /// holds were closed.
    pub async fn keep_both(
        &self,
        id: i64,
        other: i64,
        actor: Actor<'_>,
        reason: &str,
    ) -> Result<u64, StoreError> {
        if id == other {
            return Err(Refusal::MergeIntoItself(id).into());
        }
        let now = Utc::now();
        let reason = reason.trim();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            record_in_scope_tx!(tx, id, actor);
            record_in_scope_tx!(tx, other, actor);
            let mut closed = 0;
            for (a, b) in [(id, other), (other, id)] {
                let note = match reason {
                    "" => format!("Giữ cả hai: văn bản #{b} là văn bản khác"),
                    r => format!("Giữ cả hai: văn bản #{b} là văn bản khác ({r})"),
                };
                closed += close_holds_tx!(tx, a, Some(HoldCode::RegistryConflict), HoldState::Dismissed,
                    actor.name, note.as_str(), now);
                let detail = json!({"other": b, "reason": reason});
                audit_and_change_tx!(tx, a, "kept_both", actor.name, &detail, now);
            }
            tx.commit().await?;
            Ok(closed)
        })
    }
}
