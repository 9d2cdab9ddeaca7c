//! The write side of the clerk desk, on SQLite and PostgreSQL: every status action from
//! every status for every kind of record (a classified or internal record is never
//! published, whoever acts), holds stored with records and decided by a clerk,
//! corrections, merging duplicates, bulk actions, unit scope, and migration 0010 over a
//! database that has data.

use chrono::NaiveDate;
use vanban::domain::{Action, Hold, HoldCode, HoldState, Refusal};
use vanban::store::{
    Actor, Corrections, DocumentFields, NewDocument, NewFile, Resolution, Status, Store, StoreError,
};

use crate::public_rule::force;
use crate::store::scratch_postgres;

const UNIT: &str = "000.46.24.H44";

fn admin() -> Actor<'static> {
    Actor::new("desk:admin", None)
}

/// A record of unit `UNIT` with its own file and number.
fn doc(seed: u32, status: Status, holds: Vec<Hold>) -> NewDocument {
    NewDocument {
        unit_code: UNIT.into(),
        status,
        source: "test".into(),
        source_ref: None,
        external_id: None,
        file: NewFile {
            sha256: format!("{seed:064x}"),
            size: 10,
            media_type: "application/pdf".into(),
            original_name: None,
        },
        metadata: DocumentFields {
            doc_type: Some("Quyết định".into()),
            number: Some(seed.to_string()),
            symbol: Some("QĐ-UBND".into()),
            number_symbol: Some(format!("{seed}/QĐ-UBND")),
            issuer: Some("Ủy ban nhân dân xã Nam Chính".into()),
            issued_date: NaiveDate::from_ymd_opt(2024, 3, 15),
            issued_year: Some(2024),
            abstract_text: Some("Về việc phê duyệt kế hoạch".into()),
            text_source: "text_layer".into(),
            pages: 1,
            field_evidence: serde_json::json!({}),
            ..DocumentFields::default()
        },
        text: format!("QUYẾT ĐỊNH số {seed}"),
        warnings: vec![],
        citations: vec![],
        actor: "test".into(),
        status_reason: "chờ văn thư".into(),
        holds,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Ordinary,
    Classified,
    Internal,
    /// Held for personal data (an open hold).
    PersonalData,
}

impl Kind {
    const ALL: [Kind; 4] = [
        Kind::Ordinary,
        Kind::Classified,
        Kind::Internal,
        Kind::PersonalData,
    ];
}

/// (from, action) moves allowed for an ordinary record; everything else is refused.
const ALLOWED: &[(Status, Action)] = &[
    (Status::Draft, Action::Publish),
    (Status::Draft, Action::Withhold),
    (Status::Draft, Action::Reject),
    (Status::Draft, Action::Return),
    (Status::NeedsReview, Action::Publish),
    (Status::NeedsReview, Action::Withhold),
    (Status::NeedsReview, Action::Reject),
    (Status::Published, Action::Withdraw),
    (Status::Published, Action::Return),
    (Status::Withheld, Action::Publish),
    (Status::Withheld, Action::Reject),
    (Status::Withheld, Action::Return),
    (Status::Rejected, Action::Return),
    (Status::Withdrawn, Action::Publish),
    (Status::Withdrawn, Action::Return),
];

async fn record(store: &Store, seed: u32, kind: Kind, from: Status) -> i64 {
    let holds = match kind {
        Kind::PersonalData => vec![
            Hold::new(HoldCode::PersonalData, "Có thông tin cá nhân (nơi cư trú)")
                .with_evidence("thường trú tại thôn 3", Some(1)),
        ],
        _ => vec![],
    };
    let mut d = doc(seed, Status::NeedsReview, holds);
    match kind {
        Kind::Classified => d.metadata.secrecy = Some("Mật".into()),
        Kind::Internal => d.metadata.internal_circulation = true,
        _ => {}
    }
    let id = store.insert_document(&d).await.unwrap();
    if from != Status::NeedsReview {
        force(store, id, &format!("status = '{}'", from.as_str())).await;
    }
    id
}

async fn every_action_from_every_status(store: &Store) {
    let mut seed = 1000;
    for kind in Kind::ALL {
        for from in Status::ALL {
            for action in Action::ALL {
                seed += 1;
                let id = record(store, seed, kind, from).await;
                let before = store.get_document(id).await.unwrap();
                let trail_before = store.audit_trail(id).await.unwrap().len();
                let changes_before = store.max_search_change().await.unwrap();
                let got = store.act(id, action, admin(), "lý do của văn thư").await;
                let allowed = ALLOWED.contains(&(from, action))
                    && !(action == Action::Publish && kind != Kind::Ordinary);
                let after = store.get_document(id).await.unwrap();
                let case = format!("{kind:?} {from:?} {action:?}: {got:?}");
                if allowed {
                    assert_eq!(got.as_ref().ok(), Some(&action.target()), "{case}");
                    assert_eq!(after.status, action.target(), "{case}");
                    assert_eq!(after.version, before.version + 1, "{case}");
                    let trail = store.audit_trail(id).await.unwrap();
                    assert_eq!(trail.len(), trail_before + 1, "{case}");
                    let last = trail.last().unwrap();
                    assert_eq!(last.actor, "desk:admin");
                    assert_eq!(last.detail["from"], from.as_str(), "{case}");
                    assert_eq!(last.detail["to"], action.target().as_str(), "{case}");
                    assert_eq!(last.detail["reason"], "lý do của văn thư");
                    assert!(store.max_search_change().await.unwrap() > changes_before);
                } else {
                    assert_eq!(after.status, from, "{case}");
                    assert_eq!(after.version, before.version, "{case}");
                    assert_eq!(
                        store.audit_trail(id).await.unwrap().len(),
                        trail_before,
                        "{case}"
                    );
                    let err = got.expect_err(&case);
                    match (kind, action, ALLOWED.contains(&(from, action))) {
                        (Kind::Classified, Action::Publish, true) => assert!(
                            matches!(err, StoreError::Refused(Refusal::Classified(_))),
                            "{case}"
                        ),
                        (Kind::Internal, Action::Publish, true) => assert!(
                            matches!(err, StoreError::Refused(Refusal::Internal)),
                            "{case}"
                        ),
                        (Kind::PersonalData, Action::Publish, true) => assert!(
                            matches!(
                                err,
                                StoreError::Refused(Refusal::Held {
                                    code: HoldCode::PersonalData,
                                    state: HoldState::Open
                                })
                            ),
                            "{case}"
                        ),
                        _ => assert!(
                            matches!(err, StoreError::Refused(Refusal::InvalidTransition { .. })),
                            "{case}"
                        ),
                    }
                    // Refusals speak Vietnamese.
                    assert!(!err.to_string().is_empty());
                }
                // A classified or internal record is never public, whatever was done.
                if matches!(kind, Kind::Classified | Kind::Internal) {
                    assert!(!after.is_public(), "{case}");
                }
            }
        }
    }
    // A reason is required to withhold, reject or withdraw; nothing is written without.
    let id = record(store, 1, Kind::Ordinary, Status::NeedsReview).await;
    for action in [Action::Withhold, Action::Reject, Action::Withdraw] {
        let got = store.act(id, action, admin(), "  ").await;
        assert!(
            matches!(got, Err(StoreError::Refused(Refusal::ReasonRequired(a))) if a == action),
            "{got:?}"
        );
    }
    assert_eq!(store.get_document(id).await.unwrap().version, 1);
}

async fn publication_and_withdrawal_notice(store: &Store) {
    let id = record(store, 2, Kind::Ordinary, Status::NeedsReview).await;
    let r = store.get_document(id).await.unwrap();
    assert!(!r.ever_published && !r.shows_withdrawal_notice());
    // Never public, it cannot be withdrawn (it is withheld or rejected instead).
    assert!(matches!(
        store.act(id, Action::Withdraw, admin(), "nhầm tệp").await,
        Err(StoreError::Refused(Refusal::InvalidTransition { .. }))
    ));
    store.act(id, Action::Publish, admin(), "").await.unwrap();
    let r = store.get_document(id).await.unwrap();
    assert!(r.is_public() && r.ever_published);
    assert_eq!((r.withdrawn_at, r.withdrawal_reason), (None, None));
    store
        .act(
            id,
            Action::Withdraw,
            admin(),
            "Bị thay thế bởi Quyết định 20",
        )
        .await
        .unwrap();
    let r = store.get_document(id).await.unwrap();
    assert!(r.shows_withdrawal_notice() && !r.is_public());
    assert!(r.withdrawn_at.is_some());
    assert_eq!(
        r.withdrawal_reason.as_deref(),
        Some("Bị thay thế bởi Quyết định 20")
    );
    // A classified record that was (wrongly) public once never shows a notice.
    let secret = record(store, 3, Kind::Classified, Status::Withdrawn).await;
    force(store, secret, "ever_published = TRUE").await;
    assert!(
        !store
            .get_document(secret)
            .await
            .unwrap()
            .shows_withdrawal_notice()
    );

    // Two records of one document: the second cannot be published while the first is.
    let a = store
        .insert_document(&doc(4, Status::NeedsReview, vec![]))
        .await
        .unwrap();
    let mut copy = doc(5, Status::NeedsReview, vec![]);
    copy.metadata.number_symbol = Some("4/QĐ-UBND".into());
    let b = store.insert_document(&copy).await.unwrap();
    store.act(a, Action::Publish, admin(), "").await.unwrap();
    assert!(matches!(
        store.act(b, Action::Publish, admin(), "").await,
        Err(StoreError::Refused(Refusal::SameKeyPublished { other })) if other == a
    ));
}

async fn holds_and_their_decisions(store: &Store) {
    // Holds are stored with the record, every one of them, with their evidence.
    let holds = vec![
        Hold::new(HoldCode::Scan, "Bản quét chưa có văn bản"),
        Hold::new(HoldCode::PersonalData, "Có thông tin cá nhân (nơi cư trú)")
            .with_evidence("thường trú tại thôn 3", Some(2)),
        Hold::new(HoldCode::MarkingDoubt, "Nghi có dấu chỉ độ mật").with_evidence("MAT", Some(1)),
    ];
    let id = store
        .insert_document(&doc(10, Status::NeedsReview, holds.clone()))
        .await
        .unwrap();
    let stored = store.holds(id).await.unwrap();
    assert_eq!(stored.iter().map(|h| h.hold()).collect::<Vec<_>>(), holds);
    assert!(stored.iter().all(|h| h.state == HoldState::Open));
    let created = store.audit_trail(id).await.unwrap();
    assert_eq!(
        created[0].detail["holds"],
        serde_json::json!(["scan", "personal_data", "marking_doubt"])
    );
    // A record held without structured reasons gets one from its reason.
    let plain = store
        .insert_document(&doc(11, Status::NeedsReview, vec![]))
        .await
        .unwrap();
    let h = store.holds(plain).await.unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(
        (h[0].code, h[0].message.as_str()),
        (HoldCode::Other, "chờ văn thư")
    );
    // A draft or published record has none.
    let draft = store
        .insert_document(&doc(12, Status::Draft, vec![]))
        .await
        .unwrap();
    assert!(store.holds(draft).await.unwrap().is_empty());

    let (pd, doubt) = (stored[1].id, stored[2].id);
    // Another unit's clerk does not find the hold.
    let other_unit = ["000.00.00.X99".to_string()];
    let outsider = Actor::new("desk:b", Some(&other_unit));
    assert!(matches!(
        store
            .resolve_hold(pd, Resolution::Dismiss, outsider, "")
            .await,
        Err(StoreError::HoldNotFound(_))
    ));
    assert!(matches!(
        store.act(id, Action::Publish, outsider, "").await,
        Err(StoreError::NotFound(_))
    ));
    // Open personal data blocks; dismissed, the open doubt still blocks.
    let units = [UNIT.to_string()];
    let clerk = Actor::new("desk:an", Some(&units));
    store
        .resolve_hold(pd, Resolution::Dismiss, clerk, "mẫu đơn trống")
        .await
        .unwrap();
    assert!(matches!(
        store.act(id, Action::Publish, clerk, "").await,
        Err(StoreError::Refused(Refusal::Held {
            code: HoldCode::MarkingDoubt,
            ..
        }))
    ));
    // Confirmed, the doubt keeps blocking.
    store
        .resolve_hold(doubt, Resolution::Confirm, clerk, "có dấu MẬT mờ")
        .await
        .unwrap();
    assert!(matches!(
        store.act(id, Action::Publish, clerk, "").await,
        Err(StoreError::Refused(Refusal::Held {
            code: HoldCode::MarkingDoubt,
            state: HoldState::Confirmed
        }))
    ));
    // A decided hold is not decided again.
    assert!(matches!(
        store
            .resolve_hold(doubt, Resolution::Dismiss, clerk, "")
            .await,
        Err(StoreError::Refused(Refusal::HoldResolved(_)))
    ));
    let trail = store.audit_trail(id).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["created", "hold_dismissed", "hold_confirmed"]);
    assert_eq!(trail[1].detail["reason"], "mẫu đơn trống");
    assert_eq!(trail[1].detail["evidence"], "thường trú tại thôn 3");
    // Withholding is the way out, with a reason.
    store
        .act(id, Action::Withhold, clerk, "Có thông tin cá nhân")
        .await
        .unwrap();

    // A scan without its fields is not published: the clerk types them in first.
    let unread = store
        .insert_document(&doc(
            14,
            Status::NeedsReview,
            vec![Hold::new(HoldCode::Scan, "Bản quét")],
        ))
        .await
        .unwrap();
    assert!(matches!(
        store.act(unread, Action::Publish, clerk, "").await,
        Err(StoreError::Refused(Refusal::Held {
            code: HoldCode::Scan,
            state: HoldState::Open,
        }))
    ));
    // Publishing closes the remaining open holds as dismissed by the publisher.
    let scan = store
        .insert_document(&doc(
            13,
            Status::NeedsReview,
            vec![Hold::new(
                HoldCode::TypeNotPublic,
                "Loại văn bản ngoài danh sách",
            )],
        ))
        .await
        .unwrap();
    store
        .act(scan, Action::Publish, clerk, "đã đối chiếu")
        .await
        .unwrap();
    let h = store.holds(scan).await.unwrap();
    assert_eq!(h[0].state, HoldState::Dismissed);
    assert_eq!(h[0].resolved_by.as_deref(), Some("desk:an"));
    // Returned to review with nothing open: a hold says why.
    store
        .act(scan, Action::Return, clerk, "sai trích yếu")
        .await
        .unwrap();
    let h = store.holds(scan).await.unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[1].state, HoldState::Open);
    assert!(h[1].message.contains("sai trích yếu"));
    let current = store.current_holds_of(&[scan, id, 424242]).await.unwrap();
    assert_eq!(current[&scan].len(), 2);
    assert_eq!(current[&id].len(), 3);
}

async fn corrections(store: &Store) {
    let mut missing = doc(
        20,
        Status::NeedsReview,
        vec![Hold::new(
            HoldCode::MissingFields,
            "Thiếu thông tin bắt buộc: số ký hiệu",
        )],
    );
    missing.metadata.number_symbol = None;
    missing.metadata.number = None;
    missing.metadata.symbol = None;
    let id = store.insert_document(&missing).await.unwrap();
    let before = store.get_document(id).await.unwrap();
    assert_eq!(before.registry_key, None);
    let mut c = Corrections::of(&before.fields);
    c.number_symbol = Some("20/2024/QĐ-UBND".into());
    c.abstract_text = Some("Về việc sửa đổi kế hoạch".into());
    let changed = store.correct(id, &c, admin(), "bổ sung số").await.unwrap();
    assert_eq!(changed, ["number_symbol", "abstract"]);
    let after = store.get_document(id).await.unwrap();
    assert_eq!(after.fields.number.as_deref(), Some("20"));
    assert_eq!(after.fields.symbol.as_deref(), Some("2024/QĐ-UBND"));
    assert_eq!(after.version, before.version + 1);
    assert!(
        after
            .registry_key
            .as_deref()
            .unwrap()
            .ends_with("|2024|20/2024/QD-UBND")
    );
    assert_eq!(
        after.fields.field_evidence["number_symbol"]["corrected"],
        true
    );
    let trail = store.audit_trail(id).await.unwrap();
    let last = trail.last().unwrap();
    assert_eq!(last.action, "corrected");
    assert_eq!(
        last.detail["changes"]["number_symbol"]["from"],
        serde_json::Value::Null
    );
    assert_eq!(
        last.detail["changes"]["number_symbol"]["to"],
        "20/2024/QĐ-UBND"
    );
    assert_eq!(last.detail["reason"], "bổ sung số");
    let versions = store.versions(id).await.unwrap();
    assert_eq!(versions.len(), 1);
    // The required fields are all known now: the missing-fields hold is closed.
    assert_eq!(
        store.holds(id).await.unwrap()[0].state,
        HoldState::Dismissed
    );
    // Nothing changed: nothing written.
    assert!(store.correct(id, &c, admin(), "").await.unwrap().is_empty());
    assert_eq!(store.get_document(id).await.unwrap().version, after.version);
    // Issue date moves the year (and the key).
    c.issued_date = NaiveDate::from_ymd_opt(2023, 12, 30);
    store.correct(id, &c, admin(), "").await.unwrap();
    let r = store.get_document(id).await.unwrap();
    assert_eq!(r.fields.issued_year, Some(2023));

    // A correction that gives the record a published record's key is refused.
    let public = store
        .insert_document(&doc(21, Status::Published, vec![]))
        .await
        .unwrap();
    let mut clash = Corrections::of(&r.fields);
    clash.number_symbol = Some("21/QĐ-UBND".into());
    clash.issued_date = NaiveDate::from_ymd_opt(2024, 3, 15);
    assert!(matches!(
        store.correct(id, &clash, admin(), "").await,
        Err(StoreError::Refused(Refusal::SameKeyPublished { other })) if other == public
    ));
    // Another unit's clerk does not find it.
    let other_unit = ["X".to_string()];
    assert!(matches!(
        store
            .correct(id, &clash, Actor::new("desk:b", Some(&other_unit)), "")
            .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn merge_keep_both_and_bulk(store: &Store) {
    let kept = store
        .insert_document(&doc(30, Status::Published, vec![]))
        .await
        .unwrap();
    let mut copy = doc(
        31,
        Status::NeedsReview,
        vec![Hold::new(
            HoldCode::RegistryConflict,
            "Trùng số ký hiệu với văn bản #30",
        )],
    );
    copy.metadata.number_symbol = Some("30/QĐ-UBND".into());
    let dup = store.insert_document(&copy).await.unwrap();
    assert!(matches!(
        store.merge(kept, dup, admin(), "").await,
        Err(StoreError::Refused(Refusal::MergePublished(_)))
    ));
    assert!(matches!(
        store.merge(dup, dup, admin(), "").await,
        Err(StoreError::Refused(Refusal::MergeIntoItself(_)))
    ));
    store
        .merge(dup, kept, admin(), "cùng một văn bản")
        .await
        .unwrap();
    let d = store.get_document(dup).await.unwrap();
    assert_eq!((d.status, d.merged_into), (Status::Rejected, Some(kept)));
    assert!(
        store.file(&d.file_sha256).await.unwrap().is_some(),
        "its file is kept"
    );
    assert!(
        store
            .holds(dup)
            .await
            .unwrap()
            .iter()
            .all(|h| h.state == HoldState::Dismissed)
    );
    let k = store.audit_trail(kept).await.unwrap();
    let merged = k.last().unwrap();
    assert_eq!(merged.action, "merged");
    assert_eq!(merged.detail["duplicate"], dup);
    assert_eq!(merged.detail["file_sha256"], d.file_sha256);
    let reason = store.audit_trail(dup).await.unwrap().last().unwrap().detail["reason"].clone();
    assert!(
        reason
            .as_str()
            .unwrap()
            .starts_with(&format!("Trùng với văn bản #{kept}"))
    );
    // Nothing merges into a rejected record.
    let third = store
        .insert_document(&doc(32, Status::NeedsReview, vec![]))
        .await
        .unwrap();
    assert!(matches!(
        store.merge(third, dup, admin(), "").await,
        Err(StoreError::Refused(Refusal::MergeIntoRejected(_)))
    ));

    // Keep both: the conflict hold is dismissed, statuses stay.
    let mut other = doc(
        33,
        Status::NeedsReview,
        vec![Hold::new(
            HoldCode::RegistryConflict,
            "Trùng số ký hiệu với văn bản #30",
        )],
    );
    other.metadata.number_symbol = Some("30/QĐ-UBND".into());
    let other = store.insert_document(&other).await.unwrap();
    assert_eq!(
        store
            .keep_both(other, kept, admin(), "khác nội dung")
            .await
            .unwrap(),
        1
    );
    let h = store.holds(other).await.unwrap();
    assert_eq!(h[0].state, HoldState::Dismissed);
    assert!(
        h[0].resolution_note
            .as_deref()
            .unwrap()
            .contains(&format!("#{kept}"))
    );
    assert_eq!(
        store.get_document(other).await.unwrap().status,
        Status::NeedsReview
    );

    // Bulk: each item on its own.
    let secret = record(store, 34, Kind::Classified, Status::NeedsReview).await;
    let fine = store
        .insert_document(&doc(35, Status::NeedsReview, vec![]))
        .await
        .unwrap();
    let items = store
        .bulk(
            &[fine, secret, 999_999, fine, third],
            Action::Publish,
            admin(),
            "",
        )
        .await;
    let summary: Vec<(i64, bool, Option<Status>)> =
        items.iter().map(|i| (i.id, i.ok, i.status)).collect();
    assert_eq!(
        summary,
        [
            (fine, true, Some(Status::Published)),
            (secret, false, Some(Status::NeedsReview)),
            (999_999, false, None),
            (third, true, Some(Status::Published)),
        ]
    );
    assert!(items[1].message.contains("mật"), "{}", items[1].message);
}

async fn actions_conformance(store: Store) {
    every_action_from_every_status(&store).await;
    publication_and_withdrawal_notice(&store).await;
    holds_and_their_decisions(&store).await;
    corrections(&store).await;
    merge_keep_both_and_bulk(&store).await;
}

#[tokio::test]
async fn sqlite_actions_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    actions_conformance(Store::connect(&url, 4).await.expect("sqlite")).await;
}

#[tokio::test]
async fn postgres_actions_conformance() {
    let Some(db) = scratch_postgres().await else {
        return;
    };
    actions_conformance(Store::connect(&db.url, 4).await.expect("postgres")).await;
    db.drop().await;
}

/// Migration 0010 over a database with data, on both backends: held records get a hold
/// from their last reason, a record that was public once is known as such, the new
/// statuses are accepted, and nothing referring to `documents` is lost (SQLite rebuilds
/// the table to widen its CHECK).
async fn migrate_with_data(backend: &str, url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("migrations");
    std::fs::create_dir(&old).unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.as_str() < "0010" {
            std::fs::copy(&path, old.join(name)).unwrap();
        }
    }
    let migrator = sqlx::migrate::Migrator::new(old.as_path()).await.unwrap();
    // (status, last audit reason, was published earlier)
    let rows = [
        (
            "needs_review",
            "Bản quét chưa có văn bản: cần OCR và văn thư kiểm tra; Thiếu thông tin",
            false,
        ),
        ("needs_review", "Lý do lạ", false),
        ("published", "Đủ điều kiện", true),
        ("withdrawn", "thu hồi", true),
        ("withdrawn", "thu hồi trước khi công khai", false),
    ];
    macro_rules! fill {
        ($pool:expr) => {{
            let pool = $pool;
            migrator.run(&pool).await.unwrap();
            let now = chrono::Utc::now();
            for (n, (status, reason, was_public)) in rows.iter().enumerate() {
                let sha = format!("{:064x}", n + 1);
                sqlx::query("INSERT INTO files (sha256, size, media_type, blob_key, created_at) VALUES ($1, 1, 'application/pdf', $1, $2)")
                    .bind(&sha).bind(now).execute(&pool).await.unwrap();
                sqlx::query(
                    "INSERT INTO documents (unit_code, status, source, file_sha256, text_source, pages, created_at, updated_at) \
                     VALUES ('u', $1, 'cli', $2, 'text_layer', 1, $3, $3)",
                )
                .bind(status).bind(&sha).bind(now).execute(&pool).await.unwrap();
                let id = (n + 1) as i64;
                sqlx::query("INSERT INTO document_texts (document_id, body) VALUES ($1, 'Văn bản')")
                    .bind(id).execute(&pool).await.unwrap();
                let first = if *was_public { "published" } else { "needs_review" };
                for (action, detail) in [
                    ("created", serde_json::json!({"status": first, "reason": "nhập"})),
                    ("status_changed", serde_json::json!({"from": first, "to": status, "reason": reason})),
                ] {
                    sqlx::query("INSERT INTO audit_log (document_id, action, actor, detail, at) VALUES ($1, $2, 'cli', $3, $4)")
                        .bind(id).bind(action).bind(sqlx::types::Json(detail)).bind(now)
                        .execute(&pool).await.unwrap();
                }
            }
            pool.close().await;
        }};
    }
    if backend == "sqlite" {
        fill!(sqlx::SqlitePool::connect(url).await.unwrap());
    } else {
        fill!(sqlx::PgPool::connect(url).await.unwrap());
    }
    let store = Store::connect(url, 2).await.expect("migrates");
    let h = store.holds(1).await.unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].code, HoldCode::Scan);
    assert!(h[0].message.starts_with("Bản quét"));
    assert_eq!(store.holds(2).await.unwrap()[0].code, HoldCode::Other);
    assert!(store.holds(3).await.unwrap().is_empty());
    let ever: Vec<bool> = futures_util::future::join_all((1..=5).map(|id| {
        let store = store.clone();
        async move { store.get_document(id).await.unwrap().ever_published }
    }))
    .await;
    assert_eq!(ever, [false, false, true, true, false]);
    assert!(
        store
            .get_document(4)
            .await
            .unwrap()
            .shows_withdrawal_notice()
    );
    assert!(
        !store
            .get_document(5)
            .await
            .unwrap()
            .shows_withdrawal_notice()
    );
    // The new statuses are accepted; nothing referring to documents was lost.
    store
        .act(1, Action::Withhold, admin(), "bản quét mờ")
        .await
        .unwrap();
    store
        .act(2, Action::Reject, admin(), "sai tệp")
        .await
        .unwrap();
    assert_eq!(
        store.get_document(1).await.unwrap().status,
        Status::Withheld
    );
    assert_eq!(store.document_text(1).await.unwrap(), "Văn bản");
    assert_eq!(store.audit_trail(1).await.unwrap().len(), 3);
    // A new record still gets a fresh id and its file is still unique.
    let id = store
        .insert_document(&doc(100, Status::NeedsReview, vec![]))
        .await
        .unwrap();
    assert_eq!(id, 6);
    store.close().await;
}

#[tokio::test]
async fn migration_0010_keeps_the_data_of_an_older_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    migrate_with_data("sqlite", &url).await;
    if let Some(db) = scratch_postgres().await {
        migrate_with_data("postgres", &db.url).await;
        db.drop().await;
    }
}

/// The desk's forms end to end through the router: roles, units and CSRF first, then the
/// registry's rules (a personal-data hold blocks publishing until dismissed), the flash
/// redirect, the reason a withdrawal needs, the public notice, and the correction form.
#[tokio::test]
async fn the_desk_forms_act_within_the_rules() {
    use crate::desk_support::desk_account;
    use axum::http::StatusCode;
    use vanban::auth::Role;
    let app = crate::web::app().await;
    let store = &app.state.store;
    let held = vec![
        Hold::new(HoldCode::PersonalData, "Có thông tin cá nhân (nơi cư trú)")
            .with_evidence("thường trú tại thôn 3", Some(1)),
    ];
    let id = store
        .insert_document(&doc(500, Status::NeedsReview, held))
        .await
        .unwrap();
    let hold = store.holds(id).await.unwrap()[0].id;
    let clerk = desk_account(&app, "vanthu", Role::Clerk, &[UNIT]).await;
    let viewer = desk_account(&app, "xem", Role::Viewer, &[UNIT]).await;
    let stranger = desk_account(&app, "khac", Role::Clerk, &["000.00.00.X99"]).await;
    let publish = format!("/desk/documents/{id}/publish");
    assert_eq!(
        viewer.post(&app, &publish, &[]).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        stranger.post(&app, &publish, &[]).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        clerk.post_with_csrf(&app, &publish, &[], None).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, _, body) = clerk.post(&app, &publish, &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("Thông tin cá nhân"), "{body}");
    let (status, headers, _) = clerk
        .post(
            &app,
            &format!("/desk/documents/{id}/holds/{hold}/dismiss"),
            &[("note", "mẫu trống")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], format!("/desk/documents/{id}"));
    let (status, headers, _) = clerk.post(&app, &publish, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("vb_flash=")
    );
    assert_eq!(
        store.get_document(id).await.unwrap().status,
        Status::Published
    );
    let withdraw = format!("/desk/documents/{id}/withdraw");
    assert_eq!(
        clerk.post(&app, &withdraw, &[("reason", " ")]).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        clerk
            .post(&app, &withdraw, &[("reason", "Ban hành nhầm")])
            .await
            .0,
        StatusCode::SEE_OTHER
    );
    let (status, _, body) = app.get(&format!("/van-ban/{id}")).await;
    assert_eq!(status, StatusCode::GONE);
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("Đã thu hồi ngày") && body.contains("Ban hành nhầm"));
    assert!(!body.contains("QUYẾT ĐỊNH số 500"), "no text on the notice");
    // The correction form: prefilled, the type a select; a bad date refused beside it.
    let correct = format!("/desk/documents/{id}/correct");
    let (status, headers, body) = clerk.get(&app, &correct).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "no-store");
    assert!(body.contains("<select") && body.contains("500/QĐ-UBND"));
    let (status, _, body) = clerk
        .post(
            &app,
            &correct,
            &[("issued_date", "2024-02-30"), ("abstract", "Về việc khác")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("issued_date-error"), "{body}");
    let (status, _, _) = clerk
        .post(
            &app,
            &correct,
            &[("abstract", "Về việc phê duyệt kế hoạch năm 2025")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let r = store.get_document(id).await.unwrap();
    assert_eq!(
        r.fields.abstract_text.as_deref(),
        Some("Về việc phê duyệt kế hoạch năm 2025")
    );
}
