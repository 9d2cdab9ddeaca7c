//! The admin API's write endpoints (machine clients with bearer tokens): every endpoint ×
//! every caller — no token, a wrong token, a token scoped to another unit, the unit's own
//! token, an operator token (`*`) — and a classified record refused whoever asks. A
//! refused call changes nothing (the record, its holds and its audit trail are compared).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use vanban::store::Status;

use crate::web::{Doc, TestApp, app_with};

const UNIT_A: &str = "000.46.24.H44";
const UNIT_B: &str = "000.47.25.H45";

fn entry(name: &str, scope: &str, token: &str) -> String {
    use sha2::Digest;
    format!(
        "{name}:{scope}:{}",
        hex::encode(sha2::Sha256::digest(token.as_bytes()))
    )
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Caller {
    NoToken,
    WrongToken,
    OtherUnit,
    OwnUnit,
    Operator,
}

impl Caller {
    fn header(self) -> Option<&'static str> {
        match self {
            Caller::NoToken => None,
            Caller::WrongToken => Some("Bearer vb_not_a_token"),
            Caller::OtherUnit => Some("Bearer vb_unit_b"),
            Caller::OwnUnit => Some("Bearer vb_unit_a"),
            Caller::Operator => Some("Bearer vb_ops"),
        }
    }
    /// What the caller gets from an endpoint whose allowed answer is `ok`.
    fn expect(self, ok: StatusCode) -> StatusCode {
        match self {
            Caller::NoToken | Caller::WrongToken => StatusCode::UNAUTHORIZED,
            // Another unit's record does not exist for this caller.
            Caller::OtherUnit => StatusCode::NOT_FOUND,
            Caller::OwnUnit | Caller::Operator => ok,
        }
    }
}

async fn registry() -> (TestApp, i64, i64, i64) {
    let tokens = [
        entry("ops", "*", "vb_ops"),
        entry("xa-a", UNIT_A, "vb_unit_a"),
        entry("xa-b", UNIT_B, "vb_unit_b"),
    ]
    .join(",");
    let app = app_with(&[("VANBAN__ADMIN__TOKENS", tokens.as_str())]).await;
    let held = app
        .add(Doc {
            unit: UNIT_A,
            status: Status::NeedsReview,
            number_symbol: Some("21/QĐ-UBND"),
            abstract_text: "Về việc giao chỉ tiêu",
            ..Doc::default()
        })
        .await;
    let classified = app
        .add(Doc {
            unit: UNIT_A,
            status: Status::NeedsReview,
            number_symbol: Some("22/QĐ-UBND"),
            abstract_text: "Về công tác bảo vệ",
            secrecy: Some("Mật"),
            ..Doc::default()
        })
        .await;
    let with_hold = app
        .add(Doc {
            unit: UNIT_A,
            status: Status::NeedsReview,
            number_symbol: Some("23/QĐ-UBND"),
            abstract_text: "Về việc hỗ trợ hộ nghèo",
            ..Doc::default()
        })
        .await;
    // A personal-data hold, as the intake would have stored it.
    let vanban::store::Store::Sqlite(pool) = &app.state.store else {
        unreachable!("the test registry is SQLite")
    };
    let hold: i64 = sqlx::query_scalar(
        "INSERT INTO document_holds (document_id, code, message, evidence, created_at) \
         VALUES (?, 'personal_data', 'Có thông tin cá nhân', 'sinh ngày 01/01/1980', '2025-01-01T00:00:00Z') \
         RETURNING id",
    )
    .bind(with_hold)
    .fetch_one(pool)
    .await
    .unwrap();
    (app, held, classified, hold)
}

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    caller: Caller,
    body: Value,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(auth) = caller.header() {
        request = request.header("authorization", auth);
    }
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// What a write could change about a record: its row, holds and audit trail.
async fn state_of(app: &TestApp, id: i64) -> String {
    let store = &app.state.store;
    let record = store.get_document(id).await.unwrap();
    let holds = store.holds(id).await.unwrap();
    let trail = store.audit_trail(id).await.unwrap();
    format!(
        "{:?} {:?} {:?} {:?} {}",
        record.status,
        record.fields.abstract_text,
        holds.iter().map(|h| h.state).collect::<Vec<_>>(),
        trail.iter().map(|e| e.action.clone()).collect::<Vec<_>>(),
        trail.len()
    )
}

#[tokio::test]
async fn every_admin_write_checks_the_token_and_its_unit() {
    for caller in [
        Caller::NoToken,
        Caller::WrongToken,
        Caller::OtherUnit,
        Caller::OwnUnit,
        Caller::Operator,
    ] {
        // A fresh registry per caller: an allowed call changes it.
        let (app, held, _, hold) = registry().await;
        let hold_doc = app.state.store.hold(hold).await.unwrap().document_id;
        let endpoints: Vec<(&str, String, Value, StatusCode, i64)> = vec![
            (
                "POST",
                format!("/api/v1/admin/documents/{held}/actions"),
                json!({"action": "withhold", "reason": "Chưa đến lúc công bố"}),
                StatusCode::OK,
                held,
            ),
            (
                "PATCH",
                format!("/api/v1/admin/documents/{held}"),
                json!({"abstract": "Về việc giao chỉ tiêu năm 2025"}),
                StatusCode::OK,
                held,
            ),
            (
                "POST",
                format!("/api/v1/admin/holds/{hold}/resolve"),
                json!({"resolution": "dismiss", "note": "đã ẩn danh"}),
                StatusCode::OK,
                hold_doc,
            ),
        ];
        for (method, path, body, ok, record) in endpoints {
            let before = state_of(&app, record).await;
            let (status, answer) = send(&app, method, &path, caller, body).await;
            let expected = caller.expect(ok);
            assert_eq!(status, expected, "{caller:?} {method} {path}: {answer}");
            let after = state_of(&app, record).await;
            if expected.is_success() {
                assert_ne!(before, after, "{caller:?} {method} {path} changed nothing");
            } else {
                assert_eq!(
                    before, after,
                    "{caller:?} {method} {path} was refused but changed the record"
                );
            }
        }
        // Bulk: the unit's token acts on its record; another unit's token finds nothing.
        let (app, held, _, _) = registry().await;
        let before = state_of(&app, held).await;
        let (status, answer) = send(
            &app,
            "POST",
            "/api/v1/admin/documents/bulk",
            caller,
            json!({"action": "reject", "ids": [held], "reason": "Tải nhầm"}),
        )
        .await;
        let after = state_of(&app, held).await;
        match caller {
            Caller::NoToken | Caller::WrongToken => {
                assert_eq!(status, StatusCode::UNAUTHORIZED);
                assert_eq!(before, after);
            }
            Caller::OtherUnit => {
                assert_eq!(status, StatusCode::OK, "{answer}");
                assert_eq!(answer["done"], 0, "{answer}");
                assert_eq!(before, after);
            }
            Caller::OwnUnit | Caller::Operator => {
                assert_eq!(status, StatusCode::OK, "{answer}");
                assert_eq!(answer["done"], 1, "{answer}");
                assert_ne!(before, after);
            }
        }
    }
}

#[tokio::test]
async fn a_classified_record_is_refused_to_every_token() {
    for caller in [Caller::OwnUnit, Caller::Operator] {
        let (app, _, classified, _) = registry().await;
        let before = state_of(&app, classified).await;
        let (status, answer) = send(
            &app,
            "POST",
            &format!("/api/v1/admin/documents/{classified}/actions"),
            caller,
            json!({"action": "publish"}),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{caller:?}: {answer}");
        assert_eq!(before, state_of(&app, classified).await);
    }
}
