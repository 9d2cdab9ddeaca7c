//! The store conformance suite, run against SQLite and PostgreSQL.
//!
//! PostgreSQL: set VANBAN_TEST_POSTGRES_URL to a server URL whose user may create databases
//! (`.ci/run` starts a throwaway cluster and sets it). Each run gets a fresh database.

use chrono::NaiveDate;
use vanban::store::{
    DocumentFields, NewCitation, NewDocument, NewFile, PackageState, Status, Store, StoreError,
    SyncAction, SyncWrite, Tombstone,
};

fn sample(sha_seed: u8, number_symbol: Option<&str>) -> NewDocument {
    let sha256 = format!("{:064x}", sha_seed);
    NewDocument {
        unit_code: "000.46.24.H44".into(),
        status: Status::Draft,
        source: "test".into(),
        source_ref: Some("fixtures/a.pdf".into()),
        external_id: None,
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
        holds: Vec::new(),
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
    sync_conformance(&store).await;
    publication_conformance(&store).await;
    store.close().await;
}

/// A record with these facts, stored as `status` (publishing a classified record is
/// refused, so such a record is stored unpublished and then forced with raw SQL where a
/// test needs it published).
fn with_facts(
    seed: u8,
    ns: &str,
    status: Status,
    secrecy: Option<&str>,
    internal: bool,
) -> NewDocument {
    let mut doc = sample(seed, Some(ns));
    doc.status = status;
    doc.metadata.secrecy = secrecy.map(str::to_string);
    doc.metadata.internal_circulation = internal;
    doc.citations[0].number_symbol = "9/2020/NĐ-CP".into();
    doc
}

/// The publication rule and the registry key on this backend: one document, one public
/// record; publishing refused for classified and internal records whoever asks; the SQL
/// public condition agrees with the Rust one on every combination.
async fn publication_conformance(store: &Store) {
    use vanban::domain::Refusal;

    // Two spellings of one issuer and number are one registry key: a second published
    // record under it is a named conflict, and nothing of it is kept.
    let first = with_facts(200, "500/QĐ-UBND", Status::Published, None, false);
    let a = store.insert_document(&first).await.expect("first");
    let key = store.get_document(a).await.unwrap().registry_key;
    assert_eq!(
        key.as_deref(),
        Some("uy ban nhan dan xa quoc tuan|2021|500/QD-UBND")
    );
    let mut second = with_facts(201, "500/QD-UBND", Status::Published, None, false);
    second.metadata.issuer = Some("UBND xã Quốc Tuấn".into());
    match store.insert_document(&second).await {
        Err(StoreError::Conflict {
            constraint,
            message,
        }) => {
            assert_eq!(constraint, "documents_registry_key");
            assert!(message.contains("số ký hiệu"), "{message}");
        }
        other => panic!("expected a registry-key conflict, got {other:?}"),
    }
    assert!(
        store.file(&second.file.sha256).await.unwrap().is_none(),
        "the file row rolled back too"
    );
    // Held for review, the same copy may share the key (it never blocks the genuine one)…
    second.status = Status::NeedsReview;
    let b = store.insert_document(&second).await.expect("held copy");
    let holders: Vec<i64> = store
        .records_with_key(key.as_deref().unwrap())
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(holders, [a, b]);
    // …but is not published while the first one is.
    assert!(matches!(
        store.set_status(b, Status::Published, "clerk:an", "công khai").await,
        Err(StoreError::Refused(Refusal::SameKeyPublished { other })) if other == a
    ));

    // The signed original supersedes the held copy's record: the record takes its file
    // and fields, the copy stays in the versions, the audit says so, the index is told.
    let log = store.max_search_change().await.unwrap();
    let mut original = with_facts(202, "500/QĐ-UBND", Status::Published, None, false);
    original.text = "BÁO CÁO (bản gốc)".into();
    // The original's own decision is "draft" (eligible, not asked to publish): the record
    // leaves review for draft (`domain::superseded_status`); `a` stays the public one.
    original.status = Status::Draft;
    let status = store
        .supersede(b, &original, "bản gốc thay bản sao", &[])
        .await
        .unwrap();
    assert_eq!(status, Status::Draft);
    let record = store.get_document(b).await.unwrap();
    assert_eq!(
        (record.file_sha256.as_str(), record.version),
        (original.file.sha256.as_str(), 2)
    );
    assert_eq!(store.document_text(b).await.unwrap(), "BÁO CÁO (bản gốc)");
    let versions = store.versions(b).await.unwrap();
    assert_eq!(versions[0].file_sha256, second.file.sha256);
    let trail = store.audit_trail(b).await.unwrap();
    assert_eq!(trail.last().unwrap().action, "superseded");
    assert_eq!(
        trail.last().unwrap().detail["previous_file_sha256"],
        second.file.sha256
    );
    assert!(
        store.file(&second.file.sha256).await.unwrap().is_some(),
        "the copy's file kept"
    );
    assert_eq!(
        store
            .document_id_for_file(&second.file.sha256)
            .await
            .unwrap(),
        Some(b)
    );
    assert!(store.max_search_change().await.unwrap() > log);
    // Superseding with a classified original is refused like any publication; held, it is
    // stored and the record becomes classified (`domain::keep_markings`).
    let c = store
        .insert_document(&with_facts(
            205,
            "501/QĐ-UBND",
            Status::Published,
            None,
            false,
        ))
        .await
        .expect("third");
    let mut secret = with_facts(203, "501/QĐ-UBND", Status::Published, Some("Mật"), false);
    secret.text = "mật".into();
    assert!(matches!(
        store.supersede(c, &secret, "x", &[]).await,
        Err(StoreError::Refused(Refusal::Classified(_)))
    ));
    assert_eq!(store.get_document(c).await.unwrap().version, 1);
    secret.status = Status::NeedsReview;
    assert_eq!(
        store.supersede(c, &secret, "x", &[]).await.unwrap(),
        Status::NeedsReview
    );
    let held = store.get_document(c).await.unwrap();
    assert_eq!(held.version, 2);
    assert_eq!(held.fields.secrecy.as_deref(), Some("Mật"));
    assert!(!held.is_public());
    // A marking stays with the record: a later clean version does not publish or
    // declassify it (a clerk decides).
    let clean = with_facts(204, "501/QĐ-UBND", Status::Published, None, false);
    assert_eq!(
        store.supersede(c, &clean, "y", &[]).await.unwrap(),
        Status::NeedsReview
    );
    let still = store.get_document(c).await.unwrap();
    assert_eq!(still.fields.secrecy.as_deref(), Some("Mật"));
    assert!(!still.is_public());

    // Records written before the key existed get it at migration; two published records
    // that turn out to be one document keep the first public and hold the later one.
    crate::public_rule::force(store, a, "registry_key = NULL").await;
    crate::public_rule::force(store, b, "registry_key = NULL, status = 'published'").await;
    store.migrate().await.expect("backfill");
    let (ra, rb) = (
        store.get_document(a).await.unwrap(),
        store.get_document(b).await.unwrap(),
    );
    assert_eq!(
        (ra.status, rb.status),
        (Status::Published, Status::NeedsReview)
    );
    assert_eq!((&ra.registry_key, &rb.registry_key), (&key, &key));
    let last = store.audit_trail(b).await.unwrap().pop().unwrap();
    assert_eq!(last.actor, "system:migrate");
    assert!(
        last.detail["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("#{a}")),
        "{last:?}"
    );

    // Publishing a classified or internal record is refused with its reason, from any
    // status and by any actor, and nothing changes.
    let cases: &[(Option<&str>, bool, Status, Refusal)] = &[
        (
            Some("Mật"),
            false,
            Status::Draft,
            Refusal::Classified("Mật".into()),
        ),
        (
            Some("Tối mật"),
            false,
            Status::NeedsReview,
            Refusal::Classified("Tối mật".into()),
        ),
        (
            Some("Tuyệt mật"),
            true,
            Status::Withdrawn,
            Refusal::Classified("Tuyệt mật".into()),
        ),
        (None, true, Status::Draft, Refusal::Internal),
        (None, true, Status::NeedsReview, Refusal::Internal),
        (None, true, Status::Withdrawn, Refusal::Internal),
    ];
    for (n, (secrecy, internal, from, want)) in cases.iter().enumerate() {
        let ns = format!("{}/KH-UBND", 600 + n);
        let id = store
            .insert_document(&with_facts(210 + n as u8, &ns, *from, *secrecy, *internal))
            .await
            .unwrap();
        let log = store.max_search_change().await.unwrap();
        for actor in ["clerk:an", "admin:ops", "cli:root", "sync:hub"] {
            match store
                .set_status(id, Status::Published, actor, "công khai")
                .await
            {
                Err(StoreError::Refused(got)) => assert_eq!(&got, want, "{ns} by {actor}"),
                other => panic!("{ns} by {actor}: {other:?}"),
            }
        }
        let record = store.get_document(id).await.unwrap();
        assert_eq!((record.status, record.version), (*from, 1), "{ns}");
        assert_eq!(store.audit_trail(id).await.unwrap().len(), 1, "{ns}");
        assert_eq!(store.max_search_change().await.unwrap(), log, "{ns}");
        // Stored as published by a policy decision, or by a sync: refused the same way.
        let mut direct = with_facts(
            230 + n as u8,
            &format!("{}/KH-UBND", 700 + n),
            Status::Published,
            *secrecy,
            *internal,
        );
        match store.insert_document(&direct).await {
            Err(StoreError::Refused(got)) => assert_eq!(&got, want, "insert {ns}"),
            other => panic!("insert {ns}: {other:?}"),
        }
        direct.external_id = Some(format!("X,2021/01/01,{n}/KH"));
        let sync = write(
            &format!("p-refused-{n}"),
            "new",
            SyncAction::Insert {
                doc: Box::new(direct.clone()),
                replaces: vec![],
                replaced_by: None,
            },
        );
        assert!(matches!(
            store.apply_sync(&sync).await,
            Err(StoreError::Refused(_))
        ));
        assert!(
            store
                .package("hub", &sync.package_id)
                .await
                .unwrap()
                .is_none()
        );
        // An update that would publish it is refused too.
        let update = write(
            &format!("p-refused-update-{n}"),
            "update",
            SyncAction::Update {
                document_id: id,
                doc: Box::new(direct),
            },
        );
        assert!(matches!(
            store.apply_sync(&update).await,
            Err(StoreError::Refused(_))
        ));
        assert_eq!(store.get_document(id).await.unwrap().version, 1);
    }

    // The SQL condition and the Rust predicate agree on every combination (records forced
    // into each state with raw SQL, as nothing in the store would write them).
    let mut expected = Vec::new();
    let mut seed = 160u8;
    let mut forced = Vec::new();
    for status in Status::ALL {
        for secrecy in [None, Some("Mật")] {
            for internal in [false, true] {
                let ns = format!("{seed}/TB-UBND");
                let mut doc = with_facts(seed, &ns, Status::Draft, secrecy, internal);
                doc.metadata.issued_year = Some(1999);
                doc.citations[0].number_symbol = "1/1999/NĐ-CP".into();
                let id = store.insert_document(&doc).await.unwrap();
                crate::public_rule::force(store, id, &format!("status = '{}'", status.as_str()))
                    .await;
                if vanban::domain::is_public(status, secrecy, internal) {
                    expected.push(id);
                }
                forced.push((id, ns, status, secrecy, internal));
                seed += 1;
            }
        }
    }
    assert_eq!(expected.len(), 1);
    let listed: Vec<i64> = store
        .published_ids_after(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|id| forced.iter().any(|f| f.0 == *id))
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(
        store.published_citing("1/1999/NĐ-CP").await.unwrap(),
        expected
    );
    let by_year: Vec<i64> = store.published_by_year_number(1999, "*").await.unwrap();
    assert!(by_year.is_empty());
    for (id, ns, status, secrecy, internal) in &forced {
        let record = store.get_document(*id).await.unwrap();
        let public = record.is_public();
        assert_eq!(
            public,
            expected.contains(id),
            "{status:?} {secrecy:?} {internal}"
        );
        let found = store.published_by_number_symbol(ns).await.unwrap();
        assert_eq!(found.is_some(), public, "{ns}");
        let number = ns.split('/').next().unwrap();
        let by_number = store.published_by_year_number(1999, number).await.unwrap();
        assert_eq!(by_number.contains(id), public, "{ns}");
    }
}

fn synced(seed: u8, external_id: &str, number_symbol: &str) -> NewDocument {
    let mut doc = sample(seed, Some(number_symbol));
    doc.external_id = Some(external_id.to_string());
    doc.status = Status::Published;
    doc.source = "sync:hub".into();
    doc
}

fn write(package_id: &str, business: &str, action: SyncAction) -> SyncWrite {
    SyncWrite {
        source: "hub".into(),
        package_id: package_id.into(),
        business: business.into(),
        external_id: None,
        targets: vec![],
        package_sha256: format!("{:064x}", package_id.len()),
        outcome: business.into(),
        actor: "sync:hub".into(),
        action,
        attachments: vec![],
        send_status: false,
    }
}

/// The e-office ledger, lifecycle writes, runs and leases.
async fn sync_conformance(store: &Store) {
    // New: the document and its ledger row in one transaction.
    let mut w = write(
        "p-1",
        "new",
        SyncAction::Insert {
            doc: Box::new(synced(20, "X,2024/01/01,1/QĐ-UBND", "1/QĐ-UBND")),
            replaces: vec![],
            replaced_by: None,
        },
    );
    w.external_id = Some("X,2024/01/01,1/QĐ-UBND".into());
    // With two further files, and a status package owed to the sender.
    w.attachments = ["appendix", "draft"]
        .iter()
        .enumerate()
        .map(|(i, role)| vanban::store::NewAttachment {
            sha256: format!("{:064x}", 0xa77 + i),
            filename: format!("Phụ lục {i}.xlsx"),
            media_type: "application/octet-stream".into(),
            size: 10 + i as i64,
            role: vanban::store::AttachmentRole::parse(role),
        })
        .collect();
    w.send_status = true;
    let first = store.apply_sync(&w).await.unwrap().unwrap();
    let p = store.package("hub", "p-1").await.unwrap().unwrap();
    assert_eq!(
        (p.state, p.document_id),
        (PackageState::Stored, Some(first))
    );
    let files = store.attachments(first).await.unwrap();
    assert_eq!(
        files
            .iter()
            .map(|a| (a.position, a.filename.as_str(), a.role))
            .collect::<Vec<_>>(),
        [
            (1, "Phụ lục 0.xlsx", vanban::store::AttachmentRole::Appendix),
            (2, "Phụ lục 1.xlsx", vanban::store::AttachmentRole::Draft),
        ]
    );
    let keys = store.blob_keys().await.unwrap();
    assert!(
        files.iter().all(|a| keys.contains(&a.sha256)),
        "fsck sees them"
    );
    assert!(
        store
            .referenced_blob_keys()
            .await
            .unwrap()
            .contains(&files[0].sha256),
        "the sweep keeps them"
    );
    let owed = store
        .pending_status("hub", chrono::Utc::now(), 10)
        .await
        .unwrap();
    assert_eq!(owed.len(), 1);
    assert_eq!(owed[0].document_id, Some(first));
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    store
        .record_status_send("hub", "p-1", Err(("hub down", later)))
        .await
        .unwrap();
    assert!(
        store
            .pending_status("hub", chrono::Utc::now(), 10)
            .await
            .unwrap()
            .is_empty(),
        "not before its back-off"
    );
    let due = store
        .pending_status("hub", later + chrono::Duration::seconds(1), 10)
        .await
        .unwrap();
    assert_eq!(due[0].attempts, 1);
    store
        .record_status_send("hub", "p-1", Ok(()))
        .await
        .unwrap();
    assert!(
        store
            .pending_status("hub", later + chrono::Duration::days(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    store.mark_acked("hub", "p-1").await.unwrap();
    assert_eq!(
        store.package("hub", "p-1").await.unwrap().unwrap().state,
        PackageState::Acked
    );
    let found = store
        .document_by_external_id("X,2024/01/01,1/QĐ-UBND")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, first);

    // The same DocumentId again is a named conflict, and nothing of it is kept.
    let mut again = w.clone();
    again.package_id = "p-dup".into();
    if let SyncAction::Insert { doc, .. } = &mut again.action {
        doc.file.sha256 = format!("{:064x}", 21);
        doc.metadata.number_symbol = Some("2/QĐ-UBND".into());
    }
    match store.apply_sync(&again).await {
        Err(StoreError::Conflict { constraint, .. }) => {
            assert_eq!(constraint, "documents_external_id_unique")
        }
        other => panic!("expected an external-id conflict, got {other:?}"),
    }
    assert!(store.package("hub", "p-dup").await.unwrap().is_none());

    // Update: a new version, the old one kept.
    let mut updated = synced(22, "X,2024/01/01,1/QĐ-UBND", "1/QĐ-UBND");
    updated.metadata.abstract_text = Some("Về việc kiện toàn (sửa đổi)".into());
    updated.external_id = None;
    store
        .apply_sync(&write(
            "p-2",
            "update",
            SyncAction::Update {
                document_id: first,
                doc: Box::new(updated),
            },
        ))
        .await
        .unwrap();
    let record = store.get_document(first).await.unwrap();
    assert_eq!(
        record.fields.abstract_text.as_deref(),
        Some("Về việc kiện toàn (sửa đổi)")
    );
    assert_eq!(
        (record.version, record.file_sha256.as_str()),
        (2, format!("{:064x}", 22).as_str())
    );
    let versions = store.versions(first).await.unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].version, 1);
    assert_eq!(versions[0].file_sha256, format!("{:064x}", 20));
    assert_eq!(
        versions[0].fields["abstract_text"],
        "Về việc kiện toàn Ban biên tập"
    );

    // Replace: the new document withdraws the old and points it at itself.
    let replacer = store
        .apply_sync(&write(
            "p-3",
            "replace",
            SyncAction::Insert {
                doc: Box::new(synced(23, "X,2024/02/01,5/QĐ-UBND", "5/QĐ-UBND")),
                replaces: vec!["X,2024/01/01,1/QĐ-UBND".into()],
                replaced_by: None,
            },
        ))
        .await
        .unwrap()
        .unwrap();
    let old = store.get_document(first).await.unwrap();
    assert_eq!(
        (old.status, old.replaced_by),
        (Status::Withdrawn, Some(replacer))
    );
    let trail = store.audit_trail(first).await.unwrap();
    assert_eq!(trail.last().unwrap().action, "replaced");

    // Revoke, and a revocation remembered before its document arrives.
    store
        .apply_sync(&write(
            "p-4",
            "revoke",
            SyncAction::Revoke {
                document_id: replacer,
                reason: "thu hồi".into(),
            },
        ))
        .await
        .unwrap();
    assert_eq!(
        store.get_document(replacer).await.unwrap().status,
        Status::Withdrawn
    );
    let mut early = write("p-5", "revoke", SyncAction::Record { document_id: None });
    early.external_id = Some("Y,2024/03/01,9/TB-UBND".into());
    store.apply_sync(&early).await.unwrap();
    assert_eq!(
        store.tombstone("Y,2024/03/01,9/TB-UBND").await.unwrap(),
        Some(Tombstone::Revoked {
            package_id: "p-5".into()
        })
    );
    let mut replace_first = write(
        "p-6",
        "replace",
        SyncAction::Record {
            document_id: Some(replacer),
        },
    );
    replace_first.targets = vec!["Z,2024/04/01,3/KH-UBND".into()];
    store.apply_sync(&replace_first).await.unwrap();
    assert_eq!(
        store.tombstone("Z,2024/04/01,3/KH-UBND").await.unwrap(),
        Some(Tombstone::ReplacedBy {
            document_id: replacer
        })
    );
    assert_eq!(store.tombstone("nothing").await.unwrap(), None);

    // Failures back off, then wait for a person; a reset makes them due again.
    let backoff = |n: u32| chrono::Duration::seconds(60 * n as i64);
    let (state, attempts) = store
        .record_package_failure("hub", "bad", "gói hỏng", 3, backoff)
        .await
        .unwrap();
    assert_eq!((state, attempts), (PackageState::Failed, 1));
    let failed = store.package("hub", "bad").await.unwrap().unwrap();
    assert!(failed.next_attempt_at.unwrap() > chrono::Utc::now());
    store
        .record_package_failure("hub", "bad", "gói hỏng", 3, backoff)
        .await
        .unwrap();
    let (state, _) = store
        .record_package_failure("hub", "bad", "gói hỏng", 3, backoff)
        .await
        .unwrap();
    assert_eq!(state, PackageState::NeedsAttention);
    let attention = store
        .packages_in_state(Some("hub"), PackageState::NeedsAttention, 10)
        .await
        .unwrap();
    assert_eq!(attention.len(), 1);
    assert_eq!(attention[0].last_error.as_deref(), Some("gói hỏng"));
    // A stored package is never demoted by a later failure (of its acknowledgement).
    let (state, _) = store
        .record_package_failure("hub", "p-1", "ack lost", 3, backoff)
        .await
        .unwrap();
    assert_eq!(state, PackageState::Acked);
    assert_eq!(store.reset_packages("hub", None).await.unwrap(), 1);
    let reset = store.package("hub", "bad").await.unwrap().unwrap();
    assert_eq!((reset.state, reset.attempts), (PackageState::Failed, 0));
    let counts = store.package_counts("hub").await.unwrap();
    assert!(counts.contains(&("failed".to_string(), 1)), "{counts:?}");

    // Runs: a run left "running" by a crash is marked interrupted by the next one.
    let crashed = store
        .start_run("incremental", "hub", "node-a")
        .await
        .unwrap();
    let next = store.start_run("full", "hub", "node-b").await.unwrap();
    store
        .finish_run(
            next,
            "succeeded",
            &serde_json::json!({"new": 3}),
            &serde_json::json!([]),
        )
        .await
        .unwrap();
    let runs = store.runs(Some("hub"), 10).await.unwrap();
    assert_eq!(runs[0].id, next);
    assert_eq!(runs[0].counts["new"], 3);
    assert_eq!(
        store.run(crashed).await.unwrap().unwrap().status,
        "interrupted"
    );

    // Leases: one holder at a time; expiry frees it; renewal needs the lease.
    let ttl = chrono::Duration::seconds(60);
    assert!(store.acquire_lease("sync:hub", "a", ttl).await.unwrap());
    assert!(!store.acquire_lease("sync:hub", "b", ttl).await.unwrap());
    assert!(store.renew_lease("sync:hub", "a", ttl).await.unwrap());
    assert!(!store.renew_lease("sync:hub", "b", ttl).await.unwrap());
    assert_eq!(
        store.lease_holder("sync:hub").await.unwrap().unwrap().0,
        "a"
    );
    store.release_lease("sync:hub", "a").await.unwrap();
    assert!(
        store
            .acquire_lease("sync:hub", "b", chrono::Duration::milliseconds(1))
            .await
            .unwrap()
    );
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert!(store.lease_holder("sync:hub").await.unwrap().is_none());
    assert!(
        store.acquire_lease("sync:hub", "c", ttl).await.unwrap(),
        "an expired lease is taken over"
    );

    // The review queue.
    let (queue, total) = store
        .documents_in_status(Status::Draft, Some("000.46.24.H44"), 10, 0)
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(queue.len(), 1);

    // A status change bumps the version without writing files: the further files stay.
    let listed = store.attachments(first).await.unwrap().len();
    assert!(listed > 0);
    let to = match store.get_document(first).await.unwrap().status {
        Status::Withdrawn => Status::NeedsReview,
        _ => Status::Withdrawn,
    };
    store.set_status(first, to, "test", "x").await.unwrap();
    assert_eq!(store.attachments(first).await.unwrap().len(), listed);
}

#[tokio::test]
async fn sqlite_store_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    conformance(Store::connect(&url, 4).await.expect("sqlite")).await;
}

/// A fresh PostgreSQL database for one test, when `VANBAN_TEST_POSTGRES_URL` names a
/// server whose user may create databases; `None` on a developer machine without one
/// (CI sets the variable: there the suite must run on PostgreSQL).
pub struct ScratchDb {
    pub url: String,
    name: String,
    admin_url: String,
}

pub async fn scratch_postgres() -> Option<ScratchDb> {
    let Ok(admin_url) = std::env::var("VANBAN_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must set VANBAN_TEST_POSTGRES_URL"
        );
        eprintln!("VANBAN_TEST_POSTGRES_URL not set: PostgreSQL part not run");
        return None;
    };
    use sqlx::Connection;
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "vanban_test_{}_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
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
    Some(ScratchDb {
        url: format!("{base}/{name}"),
        name,
        admin_url,
    })
}

impl ScratchDb {
    pub async fn drop(self) {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut admin)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn postgres_store_conformance() {
    let Some(db) = scratch_postgres().await else {
        return;
    };
    conformance(Store::connect(&db.url, 4).await.expect("postgres")).await;
    db.drop().await;
}

/// A database made before migration 0006 (the registry key over the issuer as written):
/// on connect the old constraint goes (SQLite rebuilds the table, keeping every row and
/// what refers to it), every record gets its canonical key, and of two published records
/// that turn out to be one document the later goes to review.
#[tokio::test]
async fn a_database_from_before_the_canonical_registry_key_is_migrated() {
    use sqlx::Row;
    let dir = tempfile::tempdir().unwrap();
    let old_migrations = dir.path().join("migrations");
    std::fs::create_dir(&old_migrations).unwrap();
    for entry in std::fs::read_dir(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite"),
    )
    .unwrap()
    {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.as_str() < "0005" {
            std::fs::copy(&path, old_migrations.join(name)).unwrap();
        }
    }
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::migrate::Migrator::new(old_migrations.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let now = "2024-01-01T00:00:00Z";
    for (n, issuer, ns) in [
        (1, "Ủy ban nhân dân xã Nam Chính", "339/BC-UBND"),
        (2, "UBND xã Nam Chính", "339/BC-UBND"),
        (3, "UBND xã Nam Chính", "340/BC-UBND"),
    ] {
        let sha = format!("{n:064x}");
        sqlx::query("INSERT INTO files (sha256, size, media_type, blob_key, created_at) VALUES ($1, 1, 'application/pdf', $1, $2)")
            .bind(&sha)
            .bind(now)
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO documents (unit_code, status, source, file_sha256, number_symbol, issuer, issued_year, \
             text_source, pages, created_at, updated_at) VALUES ('u', 'published', 'cli', $1, $2, $3, 2021, 'text_layer', 1, $4, $4)",
        )
        .bind(&sha)
        .bind(ns)
        .bind(issuer)
        .bind(now)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO document_texts (document_id, body) VALUES ($1, 'Báo cáo')")
            .bind(n)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;

    let store = Store::connect(&url, 2).await.expect("migrates");
    let first = store.get_document(1).await.unwrap();
    let second = store.get_document(2).await.unwrap();
    let third = store.get_document(3).await.unwrap();
    assert_eq!(first.status, Status::Published);
    assert_eq!(second.status, Status::NeedsReview);
    assert_eq!(third.status, Status::Published);
    assert_eq!(first.registry_key, second.registry_key);
    assert!(first.registry_key.is_some() && third.registry_key.is_some());
    let trail = store.audit_trail(2).await.unwrap();
    assert_eq!(trail.last().unwrap().actor, "system:migrate");
    assert!(
        trail.last().unwrap().detail["reason"]
            .as_str()
            .unwrap()
            .contains("#1"),
        "{trail:?}"
    );
    // Nothing referring to the rebuilt table was lost.
    assert_eq!(store.document_text(1).await.unwrap(), "Báo cáo");
    assert!(
        store
            .search_changes_after(0, 10)
            .await
            .unwrap()
            .iter()
            .any(|&(_, d)| d == 2)
    );
    // The old constraint is gone: the issuer exactly as written, same year and number,
    // may be stored again (held, as the placement would hold it).
    let mut copy = sample(9, Some("339/BC-UBND"));
    copy.metadata.issuer = Some("Ủy ban nhân dân xã Nam Chính".into());
    copy.status = Status::NeedsReview;
    store
        .insert_document(&copy)
        .await
        .expect("no legacy constraint");
    // Idempotent: connecting again changes nothing.
    store.close().await;
    let again = Store::connect(&url, 2).await.unwrap();
    assert_eq!(again.get_document(2).await.unwrap().version, second.version);
    if let Store::Sqlite(pool) = &again {
        let sql: String = sqlx::query("SELECT sql FROM sqlite_master WHERE name = 'documents'")
            .fetch_one(pool)
            .await
            .unwrap()
            .get("sql");
        assert!(!sql.contains("documents_registry_key"), "{sql}");
    }
}
