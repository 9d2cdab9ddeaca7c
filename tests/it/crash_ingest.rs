//! Clean recovery after `kill -9`: `vanban ingest` (the real binary) is killed with SIGKILL
//! at random points, over and over, each time on a fresh batch of files; after each kill a
//! rerun finishes the batch and `vanban fsck` must find no orphan blob, no leftover intent
//! and no `blobs/tmp/*.part`. In the end every file is stored exactly once. And `fsck`
//! finds planted orphans and leftovers; `fsck --repair` removes them, never a referenced
//! blob.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use vanban::blob::BlobStore;
use vanban::extract::sha256_hex;
use vanban::pdf::writer::{Decree30Page, decree30_pdf};
use vanban::store::{Holder, Store};

fn vanban(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vanban"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("VANBAN__STORAGE__DATABASE_URL")
        .env("RUST_LOG", "vanban=error");
    command
}

fn run(data_dir: &Path, args: &[&str]) -> Output {
    vanban(data_dir).args(args).output().expect("run vanban")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A small decision of its own number (distinct registry keys, distinct files).
fn decision(n: usize) -> Vec<u8> {
    let page = Decree30Page {
        issuer_lines: vec!["ỦY BAN NHÂN DÂN".into(), "XÃ NAM CHÍNH".into()],
        number_symbol: format!("{n}/QĐ-UBND"),
        place_date: format!("Nam Chính, ngày {} tháng 3 năm 2024", n % 28 + 1),
        markings: Vec::new(),
        type_title: "QUYẾT ĐỊNH".into(),
        abstract_text: format!("Về việc phê duyệt kế hoạch số {n} của xã"),
        paragraphs: vec![format!(
            "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015; \
             phê duyệt kế hoạch số {n} về chỉnh trang đường thôn và nhà văn hóa."
        )],
        recipients: vec!["UBND huyện".into(), "Lưu: VT".into()],
        signer_block: vec!["TM. ỦY BAN NHÂN DÂN".into(), "CHỦ TỊCH".into()],
        signer_name: "Nguyễn Bá Dũng".into(),
    };
    decree30_pdf(&page, &format!("Quyết định {n}"))
}

fn part_files(data: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(data.join("blobs/tmp")) {
        Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    }
}

fn assert_fsck_clean(data: &Path, when: &str) {
    let fsck = run(data, &["fsck"]);
    let out = text(&fsck);
    assert!(fsck.status.success(), "{when}: fsck failed:\n{out}");
    assert!(out.contains("fsck: OK"), "{when}:\n{out}");
    for problem in ["orphan ", "leftover ", "missing ", "corrupt "] {
        assert!(!out.contains(problem), "{when}: {problem}\n{out}");
    }
    assert_eq!(part_files(data), Vec::<PathBuf>::new(), "{when}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_ingest_at_random_points_leaves_no_orphan_and_stores_every_file_once() {
    const BATCH: usize = 12;
    const KILLS: usize = 20;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let mut rng = fastrand::Rng::with_seed(11);
    let mut written: Vec<Vec<u8>> = Vec::new();
    let (mut kills, mut cycles, mut cleaned) = (0, 0, 0);
    // The first run creates the database; kills then land in the ingest itself.
    assert!(run(&data, &["migrate"]).status.success());
    while kills < KILLS {
        cycles += 1;
        assert!(
            cycles <= 120,
            "only {kills} kills landed in {cycles} cycles"
        );
        for _ in 0..BATCH {
            let bytes = decision(written.len() + 1);
            std::fs::write(inbox.join(format!("{:04}.pdf", written.len())), &bytes).unwrap();
            written.push(bytes);
        }
        let mut child = vanban(&data)
            .args(["ingest", inbox.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(rng.u64(10..250))).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL: no chance to clean up
            child.wait().unwrap();
            kills += 1;
        }
        let rerun = run(&data, &["ingest", inbox.to_str().unwrap()]);
        assert!(rerun.status.success(), "rerun:\n{}", text(&rerun));
        if text(&rerun).contains("cleaned up an interrupted run") {
            cleaned += 1;
        }
        assert_fsck_clean(&data, &format!("after kill {kills} (cycle {cycles})"));
    }

    // How many kills landed between a blob's intent and its record (timing-dependent,
    // so reported rather than asserted).
    eprintln!("{kills} kills in {cycles} cycles; {cleaned} reruns cleaned up after one");

    // Every file once: one record per file, every file's blob in place.
    let url = format!("sqlite://{}?mode=rwc", data.join("vanban.db").display());
    let store = Store::connect(&url, 2).await.unwrap();
    let records: i64 = store
        .status_counts()
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(records as usize, written.len(), "no file twice, none lost");
    let blobs = BlobStore::open(data.join("blobs")).unwrap();
    for bytes in &written {
        let sha = sha256_hex(bytes);
        assert!(store.document_id_for_file(&sha).await.unwrap().is_some());
        assert!(blobs.contains(&sha));
    }
    assert!(store.blob_intents().await.unwrap().is_empty());
    store.close().await;
}

/// A holder that was a process of this host and has exited.
fn dead_holder() -> Holder {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    Holder {
        pid,
        process_start: 1,
        ..Holder::current().clone()
    }
}

#[tokio::test]
async fn fsck_finds_planted_orphans_and_leftovers_and_repair_removes_only_those() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let kept: Vec<Vec<u8>> = (1..=2).map(decision).collect();
    for (i, bytes) in kept.iter().enumerate() {
        std::fs::write(inbox.join(format!("{i}.pdf")), bytes).unwrap();
    }
    let ingest = run(&data, &["ingest", inbox.to_str().unwrap()]);
    assert!(ingest.status.success(), "{}", text(&ingest));
    assert_fsck_clean(&data, "after a clean ingest");

    let blobs = BlobStore::open(data.join("blobs")).unwrap();
    let put = |bytes: &[u8]| {
        let sha = sha256_hex(bytes);
        blobs.put(&sha, bytes).unwrap();
        sha
    };
    // An orphan: a blob no record references and no writer announces.
    let orphan = put(b"%PDF-1.7 written for a record that never committed");
    // A dead writer's intent on a blob nobody references, and one on a referenced blob.
    let abandoned = put(b"%PDF-1.7 announced by a process that was killed");
    let referenced = sha256_hex(&kept[0]);
    // A live writer's intent (this process): left alone by fsck and by the repair.
    let in_progress = put(b"%PDF-1.7 being stored right now");
    let url = format!("sqlite://{}?mode=rwc", data.join("vanban.db").display());
    let store = Store::connect(&url, 2).await.unwrap();
    store
        .announce_blobs(&[in_progress.as_str()], chrono::Duration::hours(1))
        .await
        .unwrap();
    let dead = dead_holder();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    for sha in [&abandoned, &referenced] {
        sqlx::query(
            "INSERT INTO blob_intents (sha256, host, pid, process_start, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(sha)
        .bind(&dead.host)
        .bind(i64::from(dead.pid))
        .bind(dead.process_start as i64)
        .bind(chrono::Utc::now())
        .bind(chrono::Utc::now() + chrono::Duration::hours(1))
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
    // Temporary files: a dead writer's, an old one in the former naming, a live one.
    let tmp = data.join("blobs/tmp");
    let dead_part = tmp.join(format!("{orphan}.{}.0.part", dead.file_tag()));
    let old_part = tmp.join(format!("{orphan}.4242.7.part"));
    let live_part = tmp.join(format!("{orphan}.{}.9.part", Holder::current().file_tag()));
    for path in [&dead_part, &old_part, &live_part] {
        std::fs::write(path, b"half a blob").unwrap();
    }
    std::fs::File::options()
        .write(true)
        .open(&old_part)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(3_600))
        .unwrap();

    let fsck = run(&data, &["fsck"]);
    let out = text(&fsck);
    assert!(!fsck.status.success(), "{out}");
    assert!(out.contains(&format!("orphan    {orphan}")), "{out}");
    assert!(out.contains(&format!("for {abandoned}")), "{out}");
    assert!(out.contains(&format!("for {referenced}")), "{out}");
    assert!(out.contains(&format!("writing   {in_progress}")), "{out}");
    assert!(
        out.contains(&format!("leftover  {}", dead_part.display())),
        "{out}"
    );
    assert!(
        out.contains(&format!("leftover  {}", old_part.display())),
        "{out}"
    );
    assert!(
        !out.contains(&format!("leftover  {}", live_part.display())),
        "{out}"
    );
    assert!(!out.contains(&format!("orphan    {in_progress}")), "{out}");
    assert!(blobs.contains(&orphan), "fsck alone changes nothing");

    let repair = run(&data, &["fsck", "--repair"]);
    let out = text(&repair);
    assert!(repair.status.success(), "{out}");
    assert!(out.contains("fsck: OK"), "{out}");
    assert!(!blobs.contains(&orphan));
    assert!(!blobs.contains(&abandoned));
    assert!(!dead_part.exists() && !old_part.exists());
    // Never a referenced blob, nor one a live writer announced, nor its temporary file.
    for bytes in &kept {
        assert!(blobs.contains(&sha256_hex(bytes)));
    }
    assert!(blobs.contains(&in_progress));
    assert!(live_part.exists());
    let left: Vec<String> = store
        .blob_intents()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.sha256)
        .collect();
    assert_eq!(left, std::slice::from_ref(&in_progress));
    store.close().await;
    std::fs::remove_file(&live_part).unwrap();
    let again = run(&data, &["fsck"]);
    assert!(again.status.success(), "{}", text(&again));
}

/// The guard's life cycle on one backend: commit, abandon, a referenced blob, a lost
/// intent, orphans.
async fn guard_conformance(store: Store) {
    use vanban::blob::BlobGuard;
    use vanban::store::StoreError;
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::open(dir.path()).unwrap();
    let types = vanban::doctypes::DocTypeTable::builtin();
    let settings = vanban::config::Settings::load(None, Vec::new())
        .unwrap()
        .settings;
    let record = |n: usize| {
        let bytes = decision(n);
        let x = vanban::extract::extract_pdf(&bytes, types).unwrap();
        let decision =
            vanban::policy::decide(&x, &settings.publication, vanban::policy::Request::Hold);
        let doc = vanban::ingest::new_document(
            &x,
            "000.46.24.H44",
            &decision,
            "test",
            vanban::ingest::Origin {
                source: "cli",
                source_ref: None,
                external_id: None,
                original_name: None,
            },
        );
        (bytes, x.sha256, doc)
    };

    // Committed: the record's transaction consumes the intent; the blob stays.
    let (bytes, sha, doc) = record(1);
    let mut guard = BlobGuard::new(&store, &blobs);
    guard.put(&sha, &bytes).await.unwrap();
    assert_eq!(
        store.blob_intents().await.unwrap().len(),
        1,
        "announced first"
    );
    let claims = guard.claim(&sha);
    assert!(guard.claim(&sha).is_empty(), "claimed once");
    store.insert_document_claiming(&doc, &claims).await.unwrap();
    guard.committed().await;
    assert!(store.blob_intents().await.unwrap().is_empty());
    assert!(blobs.contains(&sha));

    // Abandoned: the blob goes with its intent.
    let (bytes2, sha2, _) = record(2);
    let mut guard = BlobGuard::new(&store, &blobs);
    guard.put(&sha2, &bytes2).await.unwrap();
    assert!(blobs.contains(&sha2));
    guard.abandon().await;
    assert!(!blobs.contains(&sha2));
    assert!(store.blob_intents().await.unwrap().is_empty());

    // Abandoned on a blob a record references: the blob stays.
    let mut guard = BlobGuard::new(&store, &blobs);
    guard.put(&sha, &bytes).await.unwrap();
    guard.abandon().await;
    assert!(blobs.contains(&sha));

    // Two writers of one blob: the first to give up leaves it to the other.
    let mut first = BlobGuard::new(&store, &blobs);
    let mut second = BlobGuard::new(&store, &blobs);
    first.put(&sha2, &bytes2).await.unwrap();
    second.put(&sha2, &bytes2).await.unwrap();
    first.abandon().await;
    assert!(
        blobs.contains(&sha2),
        "still announced by the second writer"
    );
    second.abandon().await;
    assert!(!blobs.contains(&sha2));

    // An intent swept from under its writer: the record cannot commit on a blob that
    // may be gone, and nothing of it is stored.
    let (bytes3, sha3, doc3) = record(3);
    let mut guard = BlobGuard::new(&store, &blobs);
    guard.put(&sha3, &bytes3).await.unwrap();
    let intent = store.blob_intents().await.unwrap().remove(0);
    let released = store
        .release_intent(intent.id, &sha3, || blobs.remove_unreferenced(&sha3))
        .await
        .unwrap();
    assert_eq!(released, vanban::store::Release::Removed);
    let claims = guard.claim(&sha3);
    let err = store
        .insert_document_claiming(&doc3, &claims)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::BlobIntentLost(_)), "{err}");
    assert!(store.document_id_for_file(&sha3).await.unwrap().is_none());
    guard.abandon().await;

    // Orphans go only when nothing wants them.
    let orphan = b"%PDF-1.7 an orphan";
    let orphan_sha = sha256_hex(orphan);
    blobs.put(&orphan_sha, orphan).unwrap();
    assert!(
        !store
            .remove_orphan(&sha, || blobs.remove_unreferenced(&sha))
            .await
            .unwrap()
    );
    assert!(blobs.contains(&sha));
    assert!(
        store
            .remove_orphan(&orphan_sha, || blobs.remove_unreferenced(&orphan_sha))
            .await
            .unwrap()
    );
    assert!(!blobs.contains(&orphan_sha));
    let referenced = store.referenced_blob_keys().await.unwrap();
    assert_eq!(referenced.into_iter().collect::<Vec<_>>(), [sha]);
}

#[tokio::test]
async fn the_blob_guard_behaves_the_same_on_sqlite_and_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());
    guard_conformance(Store::connect(&url, 2).await.unwrap()).await;
    if let Some(db) = crate::store::scratch_postgres().await {
        guard_conformance(Store::connect(&db.url, 4).await.unwrap()).await;
        db.drop().await;
    }
}
