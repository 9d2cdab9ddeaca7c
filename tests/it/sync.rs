//! The e-office sync end to end: a fake hub on loopback (real HTTP, HMAC-signed requests,
//! injected faults) → the engine → the store → the search index → the public API.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use eoffice::fake_hub::{FakeHub, FakeHubOptions, Fault, RandomFaults, Verb};
use eoffice::{Auth, VxpSigning};
use serde_json::Value;
use tower::ServiceExt;

use vanban::blob::BlobStore;
use vanban::config::Settings;
use vanban::doctypes::DocTypeTable;
use vanban::search::SearchIndex;
use vanban::store::{PackageState, Status, Store};
use vanban::sync::scenario::{Scenario, ScenarioOptions, generate};
use vanban::sync::{Mode, SyncEngine, SyncError};
use vanban::web::AppState;

pub const SYSTEM_ID: &str = "vanban.test";
pub const SECRET: &str = "khóa-thử-nghiệm";

pub fn hub_auth() -> Auth {
    Auth::Vxp(VxpSigning::new(SYSTEM_ID, SECRET))
}

/// A configuration file: the data directory, a source `hub` at `url`, fast retries.
pub fn write_config(dir: &Path, url: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("vanban.toml");
    std::fs::write(
        &path,
        format!(
            "[storage]\ndata_dir = \"{data}\"\n\
             [sync]\nretry_base_seconds = 1\nmax_attempts = 4\nconcurrency = 4\nfolder_settle_seconds = 0\n{extra}\n\
             [sync.sources.hub]\nkind = \"vxp\"\nendpoint = \"{url}\"\nauth = \"hmac\"\n\
             system_id = \"{SYSTEM_ID}\"\nsecret = \"{SECRET}\"\ntrusted = true\ntimeout_seconds = 1\nretries = 3\npage_size = 100\n",
            data = dir.join("data").display(),
        ),
    )
    .unwrap();
    path
}

pub struct Node {
    pub settings: Settings,
    pub store: Store,
    pub engine: Arc<SyncEngine>,
}

pub async fn node(config: &Path, database_url: Option<&str>) -> Node {
    let mut settings = Settings::load(Some(config), Vec::<(String, String)>::new())
        .unwrap()
        .settings;
    if let Some(url) = database_url {
        settings.storage.database_url = url.to_string();
    }
    std::fs::create_dir_all(&settings.storage.data_dir).unwrap();
    let store = Store::connect(&settings.database_url(), 4).await.unwrap();
    let blobs = BlobStore::open(settings.blob_dir()).unwrap();
    let engine = SyncEngine::new(
        store.clone(),
        blobs,
        settings.clone(),
        DocTypeTable::builtin(),
    )
    .unwrap();
    Node {
        settings,
        store,
        engine: Arc::new(engine),
    }
}

async fn hub_with(scenario: &Scenario) -> FakeHub {
    let mut options = FakeHubOptions::new(hub_auth());
    options.stall = Duration::from_millis(1500);
    let hub = FakeHub::start(options).await.unwrap();
    hub.add(scenario.packages.clone());
    hub
}

/// GET on the public router.
async fn get(router: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let response = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Every public record, through the API, by edXML DocumentId → (number-symbol, abstract).
async fn public_view(node: &Node) -> (BTreeMap<String, (String, String)>, axum::Router) {
    let index = Arc::new(SearchIndex::in_memory(30 << 20).unwrap());
    index.catch_up(&node.store).await.unwrap();
    let state = Arc::new(AppState {
        store: node.store.clone(),
        index,
        blobs: BlobStore::open(node.settings.blob_dir()).unwrap(),
        settings: node.settings.clone(),
        types: DocTypeTable::builtin(),
        changes: Default::default(),
        jobs: Default::default(),
    });
    let router = vanban::server::router(state);
    let mut out = BTreeMap::new();
    let mut page = 1;
    loop {
        let (status, body) = get(
            &router,
            &format!("/api/v1/documents?per_page=100&page={page}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let hits = body["hits"].as_array().unwrap().clone();
        if hits.is_empty() {
            break;
        }
        for hit in hits {
            let id = hit["id"].as_i64().unwrap();
            let record = node.store.get_document(id).await.unwrap();
            let external = record
                .external_id
                .clone()
                .expect("synced records carry their DocumentId");
            out.insert(
                external,
                (
                    hit["number_symbol"].as_str().unwrap().to_string(),
                    hit["abstract"].as_str().unwrap().to_string(),
                ),
            );
        }
        page += 1;
    }
    (out, router)
}

/// The end state every sync test checks: exactly the expected public set; hidden
/// documents absent from every public answer; acknowledgements only for stored packages
/// and for every storable one.
async fn assert_synced(node: &Node, hub: &FakeHub, scenario: &Scenario) {
    let (public, router) = public_view(node).await;
    let expected: BTreeMap<String, (String, String)> = scenario
        .expected
        .public
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                (v.number_symbol.clone(), v.abstract_text.clone()),
            )
        })
        .collect();
    let missing: Vec<&String> = expected
        .keys()
        .filter(|k| !public.contains_key(*k))
        .collect();
    let extra: Vec<&String> = public
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    assert_eq!(public, expected, "number-symbols and (updated) abstracts");
    for (external, why) in &scenario.expected.hidden {
        if let Some(record) = node.store.document_by_external_id(external).await.unwrap() {
            assert!(
                !vanban::search::is_public(&record),
                "{external} ({why}) is public"
            );
            // A record once public and now withdrawn (revoked, replaced) shows its
            // withdrawal notice (410: identity, no file, no text); anything else is 404.
            let (status, _) = get(&router, &format!("/api/v1/documents/{}", record.id)).await;
            let want = if record.shows_withdrawal_notice() {
                StatusCode::GONE
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(status, want, "{external} ({why})");
            let (status, _) = get(&router, &format!("/api/v1/documents/{}/file", record.id)).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{external} ({why}) file");
            if *why == "classified" {
                assert!(
                    record.fields.secrecy.is_some(),
                    "{external}: secrecy recorded"
                );
            }
            if *why == "replaced" {
                assert!(
                    record.replaced_by.is_some(),
                    "{external}: points at its replacement"
                );
            }
        } else {
            assert!(
                *why == "revoked_before_arrival",
                "{external} ({why}) was never stored"
            );
        }
    }
    // Acknowledgements: never for what is not stored; for everything storable.
    let done = hub.done();
    for id in &done {
        let p = node.store.package("hub", id).await.unwrap();
        let state = p.map(|p| p.state);
        assert!(
            matches!(state, Some(PackageState::Acked | PackageState::Stored)),
            "{id} acknowledged but {state:?}"
        );
    }
    let storable: BTreeSet<String> = scenario
        .expected
        .all
        .difference(&scenario.expected.unstorable)
        .cloned()
        .collect();
    let done: BTreeSet<String> = done.into_iter().collect();
    assert_eq!(
        done, storable,
        "exactly the storable packages are acknowledged"
    );
    for id in &scenario.expected.unstorable {
        let p = node.store.package("hub", id).await.unwrap().unwrap();
        assert!(
            matches!(p.state, PackageState::Failed | PackageState::NeedsAttention),
            "{id}: {:?}",
            p.state
        );
        assert!(
            p.last_error.unwrap().contains("edXML"),
            "the reason names the problem"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_with_every_lifecycle_event_and_faults_syncs_to_exactly_the_public_set() {
    let mut options = ScenarioOptions::mixed(41, 180);
    options.signed =
        vanban::sync::scenario::SignedAttachment::fixtures(Path::new(env!("CARGO_MANIFEST_DIR")));
    assert_eq!(options.signed.len(), 2);
    let scenario = generate(&options);
    assert!(scenario.packages.len() > 250, "a few hundred packages");
    let hub = hub_with(&scenario).await;
    let dir = tempfile::tempdir().unwrap();
    // A back-off of 4 s (±20 %), long enough that the run right after the first one finds
    // packages still waiting however slowly that first run went on a loaded machine.
    let config = write_config(dir.path(), &hub.url(), "");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("retry_base_seconds = 1\n", "retry_base_seconds = 4\n"),
    )
    .unwrap();
    let node = node(&config, None).await;

    // Faults on the first two runs: 500s, cut connections, duplicate and redelivered
    // entries, short packages for a few documents, one stalled list and acknowledgement.
    hub.set_random_faults(RandomFaults {
        server_error: 0.06,
        cut_connection: 0.04,
        duplicate_entry: 0.1,
        redeliver: 0.3,
        ..RandomFaults::default()
    });
    for p in scenario.packages.iter().skip(5).step_by(37) {
        hub.always_fail(&p.doc_id, Fault::ShortPackage);
    }
    hub.fail_next(Verb::UpdateStatus, Fault::Timeout, 1);
    hub.fail_next(Verb::List, Fault::Timeout, 1);
    let first = node.engine.run("hub", Mode::Incremental).await.unwrap();
    assert_eq!(first.status, "partial", "{:?}", first.errors.first());
    assert!(first.counts.new > 100, "{:?}", first.counts);
    assert!(first.counts.failed > 0);
    assert!(
        first.errors.iter().any(|e| e.error.contains("edXML")),
        "each failure names its package and reason"
    );
    // Failed packages are not retried before their back-off has passed.
    let early = node.engine.run("hub", Mode::Incremental).await.unwrap();
    assert!(early.counts.deferred > 0, "{:?}", early.counts);
    tokio::time::sleep(Duration::from_millis(4900)).await;
    node.engine.run("hub", Mode::Incremental).await.unwrap();

    // The hub recovers; full reconciliations finish the job, then find nothing to do.
    hub.clear_faults();
    for _ in 0..3 {
        node.engine.run("hub", Mode::Full).await.unwrap();
    }
    let last = node.engine.run("hub", Mode::Full).await.unwrap();
    assert_eq!(
        last.counts.new + last.counts.updated + last.counts.revoked,
        0
    );
    assert_eq!(
        last.counts.needs_attention,
        scenario.expected.unstorable.len()
    );
    assert_synced(&node, &hub, &scenario).await;
    assert_shapes_arrived(&node, &scenario).await;

    // The signed original arrived intact: the record says who signed, and the file served
    // is the signed bytes; the altered one waits for a clerk, with the reason.
    let signed = node
        .store
        .document_by_external_id("000.49.24.H44,2024/03/29,142/QĐ-UBND")
        .await
        .unwrap()
        .expect("the signed decision is stored");
    let verification = vanban::web::signatures_of(&signed).expect("signatures stored");
    assert_eq!(verification.signatures.len(), 2);
    assert!(verification.valid());
    let original = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/signed/03-two-signers.pdf"),
    )
    .unwrap();
    assert_eq!(signed.file_sha256, vanban::extract::sha256_hex(&original));
    let broken = node
        .store
        .documents_in_status(Status::NeedsReview, Some("000.47.24.H44"), 100, 0)
        .await
        .unwrap()
        .0
        .into_iter()
        .find(|r| r.fields.signature.is_some())
        .expect("the altered signed file waits for review");
    let trail = node.store.audit_trail(broken.id).await.unwrap();
    assert!(
        trail[0].detail["reason"]
            .as_str()
            .unwrap()
            .contains("Chữ ký số không hợp lệ")
    );

    // Every run is recorded with its counts.
    let runs = node.store.runs(Some("hub"), 100).await.unwrap();
    assert_eq!(runs.len(), 7);
    assert!(
        runs.iter()
            .all(|r| r.finished_at.is_some() && r.status != "running")
    );
    assert_eq!(runs.last().unwrap().status, "partial");
    let total_new: u64 = runs.iter().map(|r| r.counts["new"].as_u64().unwrap()).sum();
    assert_eq!(
        total_new as usize,
        node.store
            .status_counts()
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| *n as usize)
            .sum::<usize>()
            - runs
                .iter()
                .map(|r| r.counts["replaced"].as_u64().unwrap() as usize)
                .sum::<usize>(),
        "every record came from one counted package"
    );

    // A redelivered hub (the same packages again) changes nothing.
    let before = node.store.status_counts().await.unwrap();
    hub.add(scenario.packages.clone());
    let again = node.engine.run("hub", Mode::Full).await.unwrap();
    assert_eq!(
        again.counts.new + again.counts.updated + again.counts.revoked,
        0,
        "{:?}",
        again.counts
    );
    assert_eq!(node.store.status_counts().await.unwrap(), before);
}

/// Raw GET on the public router: status and body bytes.
async fn get_bytes(router: &axum::Router, uri: &str) -> (StatusCode, Vec<u8>) {
    let response = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

/// Every producer shape arrived whole: each public record has its text and pages, its
/// signature verdict, and exactly its further files, each downloadable; hidden records'
/// further files are not served.
async fn assert_shapes_arrived(node: &Node, scenario: &Scenario) {
    let (_, router) = public_view(node).await;
    let mut shapes = BTreeMap::new();
    let mut with_files = 0;
    for (external, expected) in &scenario.expected.public {
        let record = node
            .store
            .document_by_external_id(external)
            .await
            .unwrap()
            .unwrap();
        let (status, api) = get(&router, &format!("/api/v1/documents/{}", record.id)).await;
        assert_eq!(status, StatusCode::OK);
        let shape = expected.shape;
        assert!(
            api["text"].as_str().unwrap().len() > 100 && api["pages"].as_i64().unwrap() >= 1,
            "{external} ({shape:?}): text and pages from its PDF"
        );
        assert_eq!(
            record.fields.signature.is_some(),
            expected.signed,
            "{external} ({shape:?}): signature verdict"
        );
        if expected.signed {
            assert_eq!(api["signature"]["valid"], true, "{external}");
        }
        let listed = api["attachments"].as_array().unwrap();
        let names: Vec<&str> = listed.iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(names, expected.attachments, "{external} ({shape:?})");
        for (i, a) in listed.iter().enumerate() {
            let (status, bytes) = get_bytes(
                &router,
                &format!("/api/v1/documents/{}/attachments/{}", record.id, i + 1),
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                vanban::extract::sha256_hex(&bytes),
                a["sha256"].as_str().unwrap()
            );
        }
        if let Some(first) = names.first() {
            let (_, page) = get_bytes(&router, &format!("/van-ban/{}", record.id)).await;
            let page = String::from_utf8(page).unwrap();
            assert!(
                page.contains("Tệp kèm theo") && page.contains(first),
                "{external}: the page lists its further files"
            );
        }
        with_files += usize::from(!listed.is_empty());
        *shapes.entry(shape.name()).or_insert(0) += 1;
    }
    assert!(
        shapes.len() >= 4,
        "every producer shape is public: {shapes:?}"
    );
    assert!(
        shapes.values().all(|n| *n <= shapes["vnpt"]),
        "VNPT is the most common shape: {shapes:?}"
    );
    assert!(with_files > 0, "some packages carried further files");
    let mut hidden_with_files = 0;
    for external in scenario.expected.hidden.keys() {
        if let Some(record) = node.store.document_by_external_id(external).await.unwrap() {
            let files = node.store.attachments(record.id).await.unwrap();
            hidden_with_files += usize::from(!files.is_empty());
            for n in 1..=files.len().max(1) {
                let (status, _) = get_bytes(
                    &router,
                    &format!("/api/v1/documents/{}/attachments/{n}", record.id),
                )
                .await;
                assert_eq!(status, StatusCode::NOT_FOUND, "{external}");
            }
        }
    }
    assert!(
        hidden_with_files > 0,
        "hidden records with further files were tried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_keep_versions_and_classified_documents_stay_internal() {
    let mut options = ScenarioOptions::mixed(5, 40);
    options.signed =
        vanban::sync::scenario::SignedAttachment::fixtures(Path::new(env!("CARGO_MANIFEST_DIR")));
    let scenario = generate(&options);
    let hub = hub_with(&scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let node = node(&write_config(dir.path(), &hub.url(), ""), None).await;
    for _ in 0..4 {
        node.engine.run("hub", Mode::Full).await.unwrap();
    }
    assert_synced(&node, &hub, &scenario).await;
    assert_shapes_arrived(&node, &scenario).await;
    // An updated record keeps its earlier version; the served file is the new original.
    let mut versions = 0;
    for external in scenario.expected.public.keys() {
        let record = node
            .store
            .document_by_external_id(external)
            .await
            .unwrap()
            .unwrap();
        let v = node.store.versions(record.id).await.unwrap();
        if !v.is_empty() {
            versions += 1;
            assert_eq!(record.version, 2);
            assert_ne!(v[0].file_sha256, record.file_sha256);
            let bytes = BlobStore::open(node.settings.blob_dir())
                .unwrap()
                .read(&record.file_sha256)
                .unwrap();
            assert_eq!(vanban::extract::sha256_hex(&bytes), record.file_sha256);
        }
    }
    assert!(versions > 0);
    // Classified and internal records are kept for the internal register, with reasons.
    let (queue, _) = node
        .store
        .documents_in_status(Status::NeedsReview, None, 100, 0)
        .await
        .unwrap();
    let reasons: Vec<String> = {
        let mut out = Vec::new();
        for r in &queue {
            let trail = node.store.audit_trail(r.id).await.unwrap();
            out.push(trail[0].detail["reason"].as_str().unwrap().to_string());
        }
        out
    };
    assert!(
        reasons.iter().any(|r| r.contains("Văn bản mật")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("nội bộ")), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("thông tin cá nhân")),
        "{reasons:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn senders_get_a_status_package_retried_until_the_hub_takes_it() {
    let scenario = generate(&ScenarioOptions::plain(5, 6));
    let stored: BTreeSet<String> = scenario
        .expected
        .public
        .keys()
        .chain(scenario.expected.hidden.keys())
        .cloned()
        .collect();
    let hub = hub_with(&scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &hub.url(), "");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("send_status = true\n");
    std::fs::write(&config, text).unwrap();
    let node = node(&config, None).await;
    // The hub refuses the first two status packages.
    hub.fail_next(Verb::SendEdoc, Fault::ServerError, 2);
    let first = node.engine.run("hub", Mode::Incremental).await.unwrap();
    assert_eq!(
        first.counts.acked, 6,
        "acknowledgements do not wait: {:?}",
        first.counts
    );
    assert_eq!(hub.done().len(), 6);
    assert_eq!(
        (first.counts.status_sent, first.counts.status_failed),
        (4, 2)
    );
    assert_eq!(hub.sent().len(), 4);
    // The failed ones are owed, durably: the next run sends them, and only them.
    let second = node.engine.run("hub", Mode::Full).await.unwrap();
    assert_eq!(
        (second.counts.status_sent, second.counts.status_failed),
        (2, 0)
    );
    let third = node.engine.run("hub", Mode::Full).await.unwrap();
    assert_eq!(third.counts.status_sent, 0);
    let sent = hub.sent_status();
    assert_eq!(sent.len(), 6);
    let mut answered = BTreeSet::new();
    for (from, bytes) in &sent {
        assert_eq!(
            from, "000.00.99.H44",
            "sent as the portal the packages were addressed to"
        );
        let package = edxml::parse(bytes).unwrap();
        assert!(package.is_status());
        assert_eq!(package.header.status_code.as_deref(), Some("01"));
        let to = package.header.to[0].organ_id.clone().unwrap();
        let answer = &package.header.response_for[0];
        assert_eq!(
            answer.organ_id.as_deref(),
            Some(to.as_str()),
            "sent back to the sender"
        );
        answered.insert(answer.document_id.clone().unwrap());
    }
    assert_eq!(answered, stored, "one status package per stored document");
    // Without `send_status`, nothing is sent.
    let quiet = generate(&ScenarioOptions::plain(6, 3));
    let hub2 = hub_with(&quiet).await;
    let dir2 = tempfile::tempdir().unwrap();
    let node2 = self::node(&write_config(dir2.path(), &hub2.url(), ""), None).await;
    node2.engine.run("hub", Mode::Full).await.unwrap();
    assert!(hub2.sent().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_source_sends_everything_to_review_and_a_dry_run_writes_nothing() {
    let scenario = generate(&ScenarioOptions::plain(9, 12));
    let hub = hub_with(&scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &hub.url(), "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("trusted = true", "trusted = false");
    std::fs::write(&config, text).unwrap();
    let node = node(&config, None).await;
    let dry = node.engine.run("hub", Mode::DryRun).await.unwrap();
    assert_eq!(dry.planned.len(), 12);
    assert!(
        dry.planned
            .iter()
            .all(|p| p.outcome == "new" && p.status.as_deref() == Some("needs_review"))
    );
    assert!(
        node.store.status_counts().await.unwrap().is_empty(),
        "a dry run stores nothing"
    );
    assert!(hub.done().is_empty(), "and acknowledges nothing");
    assert!(node.store.runs(None, 10).await.unwrap().is_empty());
    let run = node.engine.run("hub", Mode::Incremental).await.unwrap();
    assert_eq!(
        (run.counts.new, run.counts.review, run.counts.published),
        (12, 12, 0)
    );
    let (public, _) = public_view(&node).await;
    assert!(public.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_hub_fails_the_run_and_opens_the_circuit() {
    let scenario = generate(&ScenarioOptions::plain(3, 3));
    let hub = hub_with(&scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let node = node(&write_config(dir.path(), &hub.url(), ""), None).await;
    hub.fail_next(Verb::Any, Fault::ServerError, 1000);
    for _ in 0..5 {
        let report = node.engine.run("hub", Mode::Incremental).await.unwrap();
        assert_eq!(report.status, "failed");
        assert!(
            report.errors[0].error.contains("danh sách"),
            "{:?}",
            report.errors
        );
    }
    let before = hub.requests("getReceivedEdocList");
    let report = node.engine.run("hub", Mode::Incremental).await.unwrap();
    assert!(
        report.errors[0].error.contains("circuit"),
        "{:?}",
        report.errors
    );
    assert_eq!(
        hub.requests("getReceivedEdocList"),
        before,
        "an open circuit spares the hub"
    );
    let runs = node.store.runs(Some("hub"), 10).await.unwrap();
    assert!(runs.iter().all(|r| r.status == "failed"));
}

/// Two nodes on one database (PostgreSQL when available, else SQLite): the lease lets
/// only one run a source at a time; the other is told who holds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_never_run_one_source_at_once() {
    let scenario = generate(&ScenarioOptions::plain(13, 120));
    let hub = hub_with(&scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &hub.url(), "");
    let database = crate::store::scratch_postgres().await;
    let a = node(&config, database.as_ref().map(|d| d.url.as_str())).await;
    let b = node(&config, database.as_ref().map(|d| d.url.as_str())).await;
    let (ra, rb) = tokio::join!(a.engine.run("hub", Mode::Incremental), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        b.engine.run("hub", Mode::Incremental).await
    });
    let ra = ra.unwrap();
    match rb {
        Err(SyncError::Busy { holder, .. }) => assert!(holder.contains('#'), "{holder}"),
        other => panic!("the second node ran too: {other:?}"),
    }
    assert_eq!(ra.counts.new, 120);
    // Once the lease is free, the other node runs and finds nothing new.
    let rb = b.engine.run("hub", Mode::Incremental).await.unwrap();
    assert_eq!(rb.counts.new, 0);
    assert_eq!(hub.done().len(), 120);
    if let Some(db) = database {
        a.store.close().await;
        b.store.close().await;
        db.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_backend_syncs_the_same() {
    let Some(database) = crate::store::scratch_postgres().await else {
        return;
    };
    let scenario = generate(&ScenarioOptions::mixed(77, 60));
    let hub = hub_with(&scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let node = node(
        &write_config(dir.path(), &hub.url(), ""),
        Some(&database.url),
    )
    .await;
    for _ in 0..4 {
        node.engine.run("hub", Mode::Full).await.unwrap();
    }
    assert_synced(&node, &hub, &scenario).await;
    node.store.close().await;
    database.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_folder_is_claimed_atomically_and_sorted_into_done_and_failed() {
    let scenario = generate(&ScenarioOptions::mixed(21, 20));
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let config = dir.path().join("vanban.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\ndata_dir = \"{}\"\n[sync]\nfolder_settle_seconds = 0\n\
             [sync.sources.drop]\nkind = \"folder\"\npath = \"{}\"\ntrusted = true\n",
            dir.path().join("data").display(),
            inbox.display()
        ),
    )
    .unwrap();
    let node = node(&config, None).await;
    for (i, p) in scenario.packages.iter().enumerate() {
        std::fs::write(inbox.join(format!("{i:04}-{}.edxml", p.doc_id)), &p.bytes).unwrap();
    }
    // Not packages: left alone.
    std::fs::write(inbox.join("ghi-chu.txt"), "không phải gói").unwrap();
    std::fs::write(inbox.join(".dang-tai.edxml"), "partial").unwrap();
    // A crash left a claim behind: reclaimed by the next run.
    std::fs::create_dir_all(inbox.join(".processing")).unwrap();
    std::fs::rename(
        inbox.join("0000-hub-000001.edxml"),
        inbox.join(".processing/0000-hub-000001.edxml"),
    )
    .unwrap();

    let report = node.engine.run("drop", Mode::Incremental).await.unwrap();
    let (done, failed) = eoffice::DropFolder::open(&inbox, Duration::ZERO)
        .unwrap()
        .outcomes()
        .unwrap();
    assert_eq!(done.len() + failed.len(), scenario.packages.len());
    assert_eq!(
        failed.len(),
        scenario.expected.unstorable.len(),
        "{failed:?}"
    );
    for name in &failed {
        let reason =
            std::fs::read_to_string(inbox.join("failed").join(format!("{name}.reason.txt")))
                .unwrap();
        assert!(reason.contains("edXML"), "{reason}");
    }
    assert!(inbox.join("ghi-chu.txt").exists() && inbox.join(".dang-tai.edxml").exists());
    assert_eq!(report.counts.acked, done.len());

    // The folder's view equals the hub's: the same public set.
    let (public, _) = public_view(&node).await;
    let expected: BTreeSet<&String> = scenario.expected.public.keys().collect();
    assert_eq!(public.keys().collect::<BTreeSet<_>>(), expected);

    // The same file dropped again is a duplicate, moved to done/ without a new record.
    std::fs::copy(inbox.join("done").join(&done[3]), inbox.join("again.edxml")).unwrap();
    let before = node.store.status_counts().await.unwrap();
    let again = node.engine.run("drop", Mode::Incremental).await.unwrap();
    assert_eq!((again.counts.duplicate, again.counts.new), (1, 0));
    assert_eq!(node.store.status_counts().await.unwrap(), before);
    assert!(inbox.join("done/again.edxml").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_runs_jobs_without_overlap() {
    let scenario = generate(&ScenarioOptions::plain(17, 30));
    let hub = hub_with(&scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &hub.url(),
        "incremental = \"* * * * * *\"\nnightly = \"*/2 * * * * *\"",
    );
    let node = node(&config, None).await;
    let scheduler = vanban::sync::schedule::start(node.engine.clone(), &node.settings.sync)
        .await
        .unwrap();
    // Ticks of both jobs (a tick that finds the other job running is skipped).
    for _ in 0..150 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let runs = node.store.runs(Some("hub"), 100).await.unwrap();
        let finished = |job: &str| runs.iter().any(|r| r.job == job && r.finished_at.is_some());
        if hub.done().len() == 30 && finished("full") && finished("incremental") {
            break;
        }
    }
    let mut scheduler = scheduler;
    scheduler.shutdown().await.unwrap();
    node.engine.stop();
    assert!(node.engine.wait_idle(Duration::from_secs(10)).await);
    assert_eq!(hub.done().len(), 30);
    let mut runs = node.store.runs(Some("hub"), 100).await.unwrap();
    runs.reverse();
    assert!(runs.len() >= 2, "{} runs", runs.len());
    for pair in runs.windows(2) {
        assert!(
            pair[0].finished_at.unwrap() <= pair[1].started_at,
            "runs #{} and #{} overlap",
            pair[0].id,
            pair[1].id
        );
    }
    assert!(runs.iter().any(|r| r.job == "full") && runs.iter().any(|r| r.job == "incremental"));
    assert_eq!(
        runs.iter()
            .map(|r| r.counts["new"].as_u64().unwrap())
            .sum::<u64>(),
        30,
        "every document once"
    );
}

/// The admin API: sync runs and packages need an operator's token; the review queue and
/// whole records are scoped to the token's unit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_needs_a_token_and_respects_units() {
    let scenario = generate(&ScenarioOptions::mixed(8, 30));
    let hub = hub_with(&scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let (ops, ops_entry) = vanban::web::admin::new_token("ops", "*");
    let unit = &scenario.expected.public.values().next().unwrap().unit;
    let (clerk, clerk_entry) = vanban::web::admin::new_token("van-thu", unit);
    let config = write_config(dir.path(), &hub.url(), "");
    let text = std::fs::read_to_string(&config).unwrap()
        + &format!("[admin]\ntokens = [\"{ops_entry}\", \"{clerk_entry}\"]\n");
    std::fs::write(&config, text).unwrap();
    let node = node(&config, None).await;
    node.engine.run("hub", Mode::Full).await.unwrap();
    let (_, router) = public_view(&node).await;
    let call = |uri: String, token: Option<String>| {
        let router = router.clone();
        async move {
            let mut req = Request::get(uri);
            if let Some(t) = token {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            let response = router
                .oneshot(req.body(Body::empty()).unwrap())
                .await
                .unwrap();
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            (
                status,
                headers,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        }
    };
    let (status, headers, body) = call("/api/v1/admin/sync-runs".into(), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers["www-authenticate"], "Bearer");
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _, _) = call("/api/v1/admin/sync-runs".into(), Some("vb_wrong".into())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = call("/api/v1/admin/sync-runs".into(), Some(clerk.clone())).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a unit's clerk does not see sync runs"
    );
    let (status, headers, body) = call("/api/v1/admin/sync-runs".into(), Some(ops.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "no-store");
    let run = &body["runs"][0];
    assert_eq!(run["source"], "hub");
    assert!(run["counts"]["new"].as_u64().unwrap() > 0);
    let (status, _, one) = call(
        format!("/api/v1/admin/sync-runs/{}", run["id"]),
        Some(ops.clone()),
    )
    .await;
    assert_eq!((status, &one["id"]), (StatusCode::OK, &run["id"]));
    let (_, _, packages) = call("/api/v1/admin/sync-packages".into(), Some(ops.clone())).await;
    assert_eq!(
        packages["packages"].as_array().unwrap().len(),
        scenario.expected.unstorable.len(),
        "{packages:#}"
    );
    let (status, _, body) = call(
        "/api/v1/admin/sync-packages?state=bogus".into(),
        Some(ops.clone()),
    )
    .await;
    assert_eq!(
        (status, body["error"]["parameter"].as_str()),
        (StatusCode::BAD_REQUEST, Some("state"))
    );

    // The review queue: everything for operators, one unit for its clerk.
    let (_, _, all) = call("/api/v1/admin/review-queue".into(), Some(ops.clone())).await;
    assert!(all["total"].as_i64().unwrap() > 0);
    assert!(
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["reason"].is_string())
    );
    let (_, _, own) = call("/api/v1/admin/review-queue".into(), Some(clerk.clone())).await;
    assert!(
        own["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["unit_code"] == unit.as_str())
    );
    let other_unit = "000.99.99.H99";
    let (status, _, _) = call(
        format!("/api/v1/admin/review-queue?unit={other_unit}"),
        Some(clerk.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A whole record, classified ones included, with audit and versions; other units' records
    // do not exist for a clerk.
    let classified = scenario
        .expected
        .hidden
        .iter()
        .find(|(_, why)| **why == "classified")
        .map(|(k, _)| k.clone())
        .unwrap();
    let record = node
        .store
        .document_by_external_id(&classified)
        .await
        .unwrap()
        .unwrap();
    let (status, _, body) = call(
        format!("/api/v1/admin/documents/{}", record.id),
        Some(ops.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["public"], false);
    assert!(body["record"]["secrecy"].is_string());
    assert_eq!(body["audit"][0]["action"], "created");
    let (status, _, _) = call(
        format!("/api/v1/admin/documents/{}", record.id),
        Some(clerk.clone()),
    )
    .await;
    let expected = if record.unit_code == *unit {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    assert_eq!(status, expected);
}

/// The commands operators use: a dry run, a run, status, retry, admin tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_commands_report_what_they_do() {
    let scenario = generate(&ScenarioOptions::mixed(31, 12));
    let hub = hub_with(&scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &hub.url(), "");
    let vanban = |args: &[&str]| {
        let config = config.clone();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        async move {
            tokio::task::spawn_blocking(move || {
                std::process::Command::new(env!("CARGO_BIN_EXE_vanban"))
                    .arg("--config")
                    .arg(&config)
                    .args(&args)
                    .env("RUST_LOG", "vanban=warn")
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).to_string();

    let dry = vanban(&["sync", "eoffice", "--dry-run"]).await;
    let out = text(&dry);
    assert!(out.contains("hub (dry_run)"), "{out}");
    assert!(out.contains("would new"), "{out}");
    assert!(hub.done().is_empty());

    let run = vanban(&["sync", "eoffice", "--format", "json"]).await;
    assert!(
        !run.status.success(),
        "a broken package makes the run partial: {}",
        text(&run)
    );
    let json: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(json["runs"][0]["status"], "partial");
    assert!(json["runs"][0]["counts"]["new"].as_u64().unwrap() > 10);
    assert!(json["peak_rss_bytes"].as_u64().unwrap() > 0);
    assert!(json["search_index"].as_str().unwrap().contains("updated"));

    let status = vanban(&["sync", "status"]).await;
    let out = text(&status);
    assert!(out.contains("source hub (vxp, trusted)"), "{out}");
    assert!(out.contains("failing, will be retried"), "{out}");
    assert!(out.contains("next 20"), "next run times: {out}");
    let broken = scenario.expected.unstorable.iter().next().unwrap();
    assert!(out.contains(broken.as_str()), "{out}");

    // Set aside after repeated failures, then made due again by `retry`.
    for _ in 0..4 {
        vanban(&["sync", "eoffice", "--full"]).await;
    }
    let status = vanban(&["sync", "status", "--format", "json"]).await;
    let json: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(
        json["sources"][0]["needs_attention"][0]["package_id"],
        broken.as_str()
    );
    let retry = vanban(&["sync", "retry", "--source", "hub"]).await;
    assert!(
        text(&retry).contains("1 package(s) of hub due again"),
        "{}",
        text(&retry)
    );

    let unknown = vanban(&["sync", "eoffice", "--source", "nope"]).await;
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("không có nguồn đồng bộ"));

    let token = vanban(&["admin", "token", "--name", "ops"]).await;
    let out = text(&token);
    assert!(
        out.contains("token (give it to ops") && out.contains("\"ops:*:"),
        "{out}"
    );

    // A source taken out of the configuration keeps its history in `status`.
    let bare = dir.path().join("bare.toml");
    std::fs::write(
        &bare,
        format!(
            "[storage]\ndata_dir = \"{}\"\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_vanban"))
        .arg("--config")
        .arg(&bare)
        .args(["sync", "status"])
        .output()
        .unwrap();
    let out = text(&status);
    assert!(out.contains("source hub (not configured)"), "{out}");
    assert!(out.contains("recent runs:\n    #"), "{out}");
}
