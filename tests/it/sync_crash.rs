//! Crash safety: `vanban sync eoffice` (the real binary) is killed with SIGKILL at random
//! points while syncing 2,000 packages, restarted, killed again…, then left to finish.
//! After every kill no package is acknowledged that is not stored; in the end every
//! package is stored exactly once and acknowledged, and the blob store is whole.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use eoffice::fake_hub::{FakeHub, FakeHubOptions};
use vanban::store::{PackageState, Store};
use vanban::sync::scenario::{ScenarioOptions, generate};

use crate::sync::{hub_auth, write_config};

const PACKAGES: usize = 2_000;

fn sync_command(config: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_vanban"));
    command
        .arg("--config")
        .arg(config)
        .args(["sync", "eoffice"])
        .env("RUST_LOG", "vanban=warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    command
}

/// No package acknowledged to the hub is missing from the ledger's committed rows.
async fn assert_acks_are_stored(store: &Store, hub: &FakeHub) {
    for id in hub.done() {
        let state = store.package("hub", &id).await.unwrap().map(|p| p.state);
        assert!(
            matches!(state, Some(PackageState::Stored | PackageState::Acked)),
            "{id} acknowledged but {state:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_sync_at_random_points_loses_nothing_and_stores_everything_once() {
    let scenario = generate(&ScenarioOptions::plain(99, PACKAGES));
    let hub = FakeHub::start(FakeHubOptions::new(hub_auth()))
        .await
        .unwrap();
    hub.add(scenario.packages.clone());
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &hub.url(), "lease_seconds = 3");
    let data = dir.path().join("data");
    let mut rng = fastrand::Rng::with_seed(2026);
    let mut kills = 0;
    let mut store: Option<Store> = None;
    let started = Instant::now();
    while kills < 6 {
        let mut child = sync_command(&config).spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(rng.u64(400..2_500))).await;
        match child.try_wait().unwrap() {
            None => {
                child.kill().unwrap(); // SIGKILL: no chance to clean up
                child.wait().unwrap();
                kills += 1;
            }
            Some(status) => {
                let mut stderr = String::new();
                std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
                if hub.pending().is_empty() {
                    break; // finished before it could be killed again
                }
                assert!(
                    status.success() || stderr.contains("đang được đồng bộ"),
                    "{stderr}"
                );
            }
        }
        let s = match &store {
            Some(s) => s.clone(),
            None => {
                let url = format!("sqlite://{}?mode=rwc", data.join("vanban.db").display());
                let s = Store::connect(&url, 2).await.unwrap();
                store = Some(s.clone());
                s
            }
        };
        assert_acks_are_stored(&s, &hub).await;
    }
    assert!(kills >= 3, "the sync was killed {kills} times");
    // Left to finish (a run may still find the dead holder's lease for a moment).
    let mut finished = false;
    for _ in 0..5 {
        let output = sync_command(&config).output().unwrap();
        if output.status.success() && hub.pending().is_empty() {
            finished = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(finished, "the sync finished after {:?}", started.elapsed());
    let store = store.unwrap();
    assert_acks_are_stored(&store, &hub).await;

    // Every package exactly once: one record per DocumentId, one acked ledger row each.
    let acked = store
        .packages_in_state(Some("hub"), PackageState::Acked, 10_000)
        .await
        .unwrap();
    assert_eq!(acked.len(), PACKAGES);
    let stored: BTreeSet<String> = acked.iter().filter_map(|p| p.external_id.clone()).collect();
    let expected: BTreeSet<String> = scenario.expected.public.keys().cloned().collect();
    let hidden: BTreeSet<String> = scenario.expected.hidden.keys().cloned().collect();
    assert_eq!(stored, expected.union(&hidden).cloned().collect());
    let documents: i64 = store
        .status_counts()
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(documents as usize, PACKAGES, "no record twice, none lost");
    let mut ids = BTreeSet::new();
    for p in &acked {
        let id = p.document_id.expect("linked to its record");
        assert!(ids.insert(id), "record #{id} claimed by two packages");
    }
    assert_eq!(hub.done().len(), PACKAGES);

    // The killed runs are on record as interrupted.
    let runs = store.runs(Some("hub"), 100).await.unwrap();
    assert!(
        runs.iter().filter(|r| r.status == "interrupted").count() >= 1,
        "{:?}",
        runs.iter().map(|r| &r.status).collect::<Vec<_>>()
    );
    assert!(runs.iter().all(|r| r.status != "running"));

    // The blob store is whole: every file re-hashes and every record's file is there.
    store.close().await;
    let fsck = std::process::Command::new(env!("CARGO_BIN_EXE_vanban"))
        .arg("--config")
        .arg(&config)
        .arg("fsck")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&fsck.stdout);
    assert!(fsck.status.success(), "{out}");
    assert!(out.contains("fsck: OK"), "{out}");
}
