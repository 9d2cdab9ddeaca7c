//! `vanban serve --demo`: a fake exchange hub on loopback, seeded with generated
//! documents of ten communes (every lifecycle event included) that become visible a batch
//! at a time, and a trusted sync source pointing at it, polled every 15 seconds. A
//! newcomer sees documents arrive in the registry within the first minute.

use std::time::{Duration, Instant};

use eoffice::fake_hub::{FakeHub, FakeHubOptions};
use eoffice::{Auth, VxpSigning};

use super::scenario::{ScenarioOptions, generate};
use crate::config::{Settings, SourceSettings};

pub const DEMO_SOURCE: &str = "demo-hub";
const SYSTEM_ID: &str = "vanban.demo";

/// Starts the hub and points `settings` at it (and at `<data-dir>/demo`).
pub async fn start(settings: &mut Settings) -> anyhow::Result<FakeHub> {
    let mut secret = [0u8; 16];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("random source: {e}"))?;
    let secret = hex::encode(secret);
    let auth = Auth::Vxp(VxpSigning::new(SYSTEM_ID, secret.clone()));
    let hub = FakeHub::start(FakeHubOptions::new(auth)).await?;
    let mut options = ScenarioOptions::mixed(2024, 60);
    // Signed originals too, when run from the repository (`cargo run`).
    options.signed = super::scenario::SignedAttachment::fixtures(std::path::Path::new("."));
    let scenario = generate(&options);
    let start = Instant::now();
    let total = scenario.packages.len();
    // A third at once, the rest in batches every 20 seconds.
    let first = total / 3;
    let batches = 8;
    let per_batch = (total - first).div_ceil(batches);
    let packages = scenario.packages.into_iter().enumerate().map(|(i, mut p)| {
        if i >= first {
            let batch = ((i - first) / per_batch + 1) as u64;
            p.visible_at = Some(start + Duration::from_secs(20 * batch));
        }
        p
    });
    hub.add(packages);
    settings.storage.data_dir = settings.storage.data_dir.join("demo");
    settings.sync.scheduler = true;
    settings.sync.incremental = "*/15 * * * * *".into();
    settings.sync.retry_base_seconds = 20;
    settings.sync.sources.insert(
        DEMO_SOURCE.into(),
        SourceSettings {
            kind: "vxp".into(),
            enabled: true,
            trusted: true,
            endpoint: Some(hub.url()),
            auth: Some("hmac".into()),
            system_id: Some(SYSTEM_ID.into()),
            secret: Some(secret),
            ..SourceSettings::default()
        },
    );
    tracing::info!(
        hub = %hub.url(), packages = total, data_dir = %settings.storage.data_dir.display(),
        "demo: fake exchange hub started; documents arrive over the next three minutes"
    );
    println!(
        "demo: fake exchange hub at {} with {total} packages ({first} now, the rest every 20 s); data in {}",
        hub.url(),
        settings.storage.data_dir.display()
    );
    Ok(hub)
}
