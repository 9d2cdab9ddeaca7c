//! The store conformance suite, run against SQLite and PostgreSQL.
//!
//! PostgreSQL: set VANBAN_TEST_POSTGRES_URL to a server URL whose user may create databases
//! (`.ci/run` starts a throwaway cluster and sets it). Each run gets a fresh database.

use chrono::NaiveDate;
use vanban::store::{DocumentFields, NewCitation, NewDocument, NewFile, Status, Store, StoreError};

fn sample(sha_seed: u8, number_symbol: Option<&str>) -> NewDocument {
    let sha256 = format!("{:064x}", sha_seed);
    NewDocument {
        unit_code: "000.46.24.H44".into(),
        status: Status::Draft,
        source: "test".into(),
        source_ref: Some("fixtures/a.pdf".into()),
        file: NewFile {
            sha256,
            size: 1234,
            media_type: "application/pdf".into(),
            original_name: Some("Quyết định 116.pdf".into()),
        },
        metadata: DocumentFields {
            doc_type: Some("Quyết định".into()),
            number: number_symbol.map(|n| n.split('/').next().unwrap().to_string()),
            symbol: Some("QĐ-UBND".into()),
            number_symbol: number_symbol.map(str::to_string),
            issuer: Some("Ủy ban nhân dân xã Quốc Tuấn".into()),
            issued_date: NaiveDate::from_ymd_opt(2021, 9, 24),
            issued_year: Some(2021),
            abstract_text: Some("Về việc kiện toàn Ban biên tập".into()),
            recipients: vec!["UBND huyện".into(), "Lưu: VT".into()],
            text_source: "text_layer".into(),
            pages: 2,
            field_evidence: serde_json::json!({"number": {"confidence": 0.97}}),
            ..DocumentFields::default()
        },
        text: "QUYẾT ĐỊNH\nVề việc kiện toàn Ban biên tập".into(),
        warnings: vec![("symbol_normalized".into(), "Ký hiệu được chuẩn hóa".into())],
        citations: vec![NewCitation {
            number_symbol: "43/2011/NĐ-CP".into(),
            cited_type: Some("Nghị định".into()),
            cited_date: NaiveDate::from_ymd_opt(2011, 6, 13),
        }],
        actor: "test".into(),
        status_reason: "fixture".into(),
    }
}

async fn conformance(store: Store) {
    // Insert and read back every field.
    let doc = sample(1, Some("116/QĐ-UBND"));
    let id = store.insert_document(&doc).await.expect("insert");
    let record = store.get_document(id).await.expect("get");
    assert_eq!(record.fields, doc.metadata);
    assert_eq!(record.status, Status::Draft);
    assert_eq!(record.version, 1);
    assert_eq!(record.unit_code, "000.46.24.H44");
    assert_eq!(store.document_text(id).await.unwrap(), doc.text);
    let texts = store.document_texts(&[id, 424_242]).await.unwrap();
    assert_eq!((texts.len(), texts.get(&id)), (1, Some(&doc.text)));
    assert_eq!(store.warnings(id).await.unwrap(), doc.warnings);
    assert_eq!(store.citations(id).await.unwrap(), doc.citations);
    assert_eq!(
        store.document_id_for_file(&doc.file.sha256).await.unwrap(),
        Some(id)
    );
    assert_eq!(
        store.file(&doc.file.sha256).await.unwrap().unwrap().size,
        1234
    );

    // Same issuer + year + number-symbol: a named conflict, and nothing half-written.
    let clash = sample(2, Some("116/QĐ-UBND"));
    match store.insert_document(&clash).await {
        Err(StoreError::Conflict {
            constraint,
            message,
        }) => {
            assert_eq!(constraint, "documents_registry_key");
            assert!(message.contains("số ký hiệu"), "{message}");
        }
        other => panic!("expected a registry-key conflict, got {other:?}"),
    }
    assert_eq!(
        store
            .document_id_for_file(&clash.file.sha256)
            .await
            .unwrap(),
        None
    );
    assert!(
        store.file(&clash.file.sha256).await.unwrap().is_none(),
        "the file row rolled back too"
    );

    // Same file again: conflict on the file.
    let mut same_file = sample(1, Some("117/QĐ-UBND"));
    same_file.metadata.number_symbol = Some("117/QĐ-UBND".into());
    match store.insert_document(&same_file).await {
        Err(StoreError::Conflict { constraint, .. }) => {
            assert_eq!(constraint, "documents_file_unique")
        }
        other => panic!("expected a file conflict, got {other:?}"),
    }

    // Unnumbered documents do not collide with each other.
    let a = store
        .insert_document(&sample(3, None))
        .await
        .expect("unnumbered a");
    let b = store
        .insert_document(&sample(4, None))
        .await
        .expect("unnumbered b");
    assert_ne!(a, b);

    // Status changes bump the version and leave an audit trail.
    store
        .set_status(id, Status::Published, "clerk:an", "đủ điều kiện")
        .await
        .unwrap();
    store
        .set_status(id, Status::Withdrawn, "clerk:an", "thu hồi")
        .await
        .unwrap();
    let record = store.get_document(id).await.unwrap();
    assert_eq!((record.status, record.version), (Status::Withdrawn, 3));
    let trail = store.audit_trail(id).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["created", "status_changed", "status_changed"]);
    assert_eq!(trail[2].detail["from"], "published");
    assert!(matches!(
        store.set_status(999_999, Status::Published, "x", "y").await,
        Err(StoreError::NotFound(999_999))
    ));

    let counts = store.status_counts().await.unwrap();
    assert_eq!(
        counts,
        vec![("draft".to_string(), 2), ("withdrawn".to_string(), 1)]
    );
    assert_eq!(store.blob_keys().await.unwrap().len(), 3);

    // The change log the search index follows: one entry per insert and status change,
    // in commit order.
    let log = store.search_changes_after(0, 100).await.unwrap();
    let ids: Vec<i64> = log.iter().map(|&(_, d)| d).collect();
    assert_eq!(ids, [id, a, b, id, id]);
    assert!(log.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(
        store.max_search_change().await.unwrap(),
        log.last().unwrap().0
    );
    assert_eq!(
        store
            .search_changes_after(log[2].0, 100)
            .await
            .unwrap()
            .len(),
        2
    );

    // Public lookups see published records only.
    assert!(store.published_ids_after(0, 10).await.unwrap().is_empty());
    store
        .set_status(a, Status::Published, "clerk:an", "công khai")
        .await
        .unwrap();
    assert_eq!(store.published_ids_after(0, 10).await.unwrap(), [a]);
    assert_eq!(store.published_citing("43/2011/NĐ-CP").await.unwrap(), [a]);
    assert!(store.published_citing("1/QĐ-X").await.unwrap().is_empty());
    assert_eq!(
        store
            .published_by_number_symbol("116/QĐ-UBND")
            .await
            .unwrap(),
        None,
        "withdrawn"
    );

    // The index follows the log on this backend: `a` is found, the withdrawn one is not.
    let index = vanban::search::SearchIndex::in_memory(20 << 20).unwrap();
    let run = index.catch_up(&store).await.unwrap();
    assert_eq!(run.watermark, store.max_search_change().await.unwrap());
    assert_eq!(index.num_docs(), 1);
    let found = index
        .search(&vanban::search::query::SearchRequest {
            q: "kien toan ban bien tap".into(),
            page: 1,
            per_page: 10,
            ..Default::default()
        })
        .unwrap();
    let hits: Vec<u64> = found.hits.iter().map(|h| h.record.id).collect();
    assert_eq!(hits, [a as u64]);
    store.close().await;
}

#[tokio::test]
async fn sqlite_store_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    conformance(Store::connect(&url, 4).await.expect("sqlite")).await;
}

#[tokio::test]
async fn postgres_store_conformance() {
    let Ok(admin_url) = std::env::var("VANBAN_TEST_POSTGRES_URL") else {
        // CI must run this suite on PostgreSQL; a developer machine may not have a server.
        assert!(
            std::env::var("CI").is_err(),
            "CI must set VANBAN_TEST_POSTGRES_URL"
        );
        eprintln!("VANBAN_TEST_POSTGRES_URL not set: PostgreSQL suite not run");
        return;
    };
    use sqlx::Connection;
    let name = format!(
        "vanban_test_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    );
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(&admin_url);
    let url = format!("{base}/{name}");
    conformance(Store::connect(&url, 4).await.expect("postgres")).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
}
