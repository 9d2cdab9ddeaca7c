//! 100 uploads and a SIGKILL: the real `vanban serve` on a temporary data directory, a
//! clerk made with `vanban user add`, signed in over HTTP; 100 generated PDFs uploaded
//! (ten per request); the server killed with SIGKILL while the jobs are being processed,
//! restarted, and left to finish. Every file is processed exactly once: 100 jobs done,
//! 100 records (one per job, each naming its job), none failed, none lost, no record
//! twice, and `vanban fsck` finds no orphan blob and no leftover.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use vanban::cli::bench_upload::{
    CLERK, DeskClient, FILES_PER_REQUEST, PASSWORD, Server, UNIT, create_clerk, decision,
    wait_until_final,
};
use vanban::jobs::job_ref;
use vanban::store::Store;

const FILES: usize = 100;

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_vanban"))
}

/// One worker, so that the kill lands while most jobs still wait.
const ENV: &[(&str, &str)] = &[("VANBAN__JOBS__WORKERS", "1")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_mid_processing_loses_no_upload_and_runs_none_twice() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ids, done_at_kill) = tokio::task::spawn_blocking({
        let data = data.clone();
        move || {
            create_clerk(exe(), &data).unwrap();
            let server = Server::start(exe(), &data, ENV).unwrap();
            let client = DeskClient::sign_in(server.addr, CLERK, PASSWORD).unwrap();
            let pdfs: Vec<(String, Vec<u8>)> = (1..=FILES)
                .map(|n| (format!("quyet-dinh-{n}.pdf"), decision(n)))
                .collect();
            let mut ids = Vec::new();
            for batch in pdfs.chunks(FILES_PER_REQUEST) {
                let (accepted, answer) = client.upload(UNIT, batch).unwrap();
                assert_eq!(accepted.len(), batch.len(), "{answer}");
                ids.extend(accepted);
            }
            // Kill as soon as some jobs are done and others are not.
            let deadline = Instant::now() + Duration::from_secs(600);
            let done_at_kill = loop {
                let views = client.status(&ids).unwrap();
                let done = views.iter().filter(|v| v["final"] == true).count();
                if done >= 1 {
                    server.kill();
                    break done;
                }
                assert!(Instant::now() < deadline, "no job finished");
                std::thread::sleep(Duration::from_millis(20));
            };
            (ids, done_at_kill)
        }
    })
    .await
    .unwrap();
    assert_eq!(ids.len(), FILES);
    assert!(
        done_at_kill < FILES,
        "the kill landed mid-processing ({done_at_kill} of {FILES} done)"
    );

    // Restart on the same data: the same session still signs the requests in.
    let views = tokio::task::spawn_blocking({
        let data = data.clone();
        let ids = ids.clone();
        move || {
            let server = Server::start(exe(), &data, ENV).unwrap();
            let client = DeskClient::sign_in(server.addr, CLERK, PASSWORD).unwrap();
            let views = wait_until_final(&client, &ids, Duration::from_secs(900)).unwrap();
            server.kill();
            views
        }
    })
    .await
    .unwrap();

    // Every job done (none failed), each with its own record.
    let mut records = BTreeSet::new();
    for view in &views {
        assert_ne!(view["state"], "failed", "{view}");
        let id = view["document_id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no record: {view}"));
        assert!(records.insert(id), "record #{id} claimed by two jobs");
    }
    assert_eq!(records.len(), FILES);

    // The store: exactly one record per file, each naming its own job; no intent left.
    let url = format!("sqlite://{}?mode=rw", data.join("vanban.db").display());
    let store = Store::connect(&url, 2).await.unwrap();
    let total: i64 = store
        .status_counts()
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(total as usize, FILES, "no record twice, none lost");
    let mut jobs = BTreeSet::new();
    for view in &views {
        let job = view["id"].as_i64().unwrap();
        assert!(jobs.insert(job));
        let document = store
            .get_document(view["document_id"].as_i64().unwrap())
            .await
            .unwrap();
        assert_eq!(document.source_ref.as_deref(), Some(job_ref(job).as_str()));
    }
    assert_eq!(jobs, ids.iter().copied().collect::<BTreeSet<_>>());
    assert!(store.blob_intents().await.unwrap().is_empty());
    store.close().await;

    let fsck = Command::new(exe())
        .arg("--data-dir")
        .arg(&data)
        .arg("fsck")
        .env_remove("VANBAN__STORAGE__DATABASE_URL")
        .output()
        .unwrap();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&fsck.stdout),
        String::from_utf8_lossy(&fsck.stderr)
    );
    assert!(fsck.status.success(), "{out}");
    assert!(out.contains("fsck: OK"), "{out}");
    for problem in ["orphan ", "leftover ", "missing ", "corrupt "] {
        assert!(!out.contains(problem), "{problem}\n{out}");
    }
}
