//! `vanban sync eoffice | status | retry`, `vanban admin token`, `vanban dev fake-hub` and
//! `vanban bench sync`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Subcommand;
use serde_json::{Value, json};

use super::{Format, open_store};
use crate::blob::BlobStore;
use crate::config::Settings;
use crate::doctypes::DocTypeTable;
use crate::search::SearchIndex;
use crate::store::PackageState;
use crate::sync::schedule::Schedules;
use crate::sync::{Mode, RunReport, SyncEngine, SyncError};

#[derive(Subcommand, Debug)]
pub enum SyncCommand {
    /// Run the e-office sources once: every enabled one, or `--source NAME`.
    Eoffice {
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// Read and plan every package; store and acknowledge nothing.
        #[arg(long)]
        dry_run: bool,
        /// A full reconciliation: retry failed packages whatever their back-off.
        #[arg(long)]
        full: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Sources, recent runs, packages that failed or wait for a person, next runs.
    Status {
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Makes packages set aside after repeated failures due again (all of the source's,
    /// or the ones named).
    Retry {
        #[arg(long, value_name = "NAME")]
        source: String,
        packages: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Makes a bearer token for /api/v1/admin and prints the line for `admin.tokens`.
    Token {
        /// Who holds it (shown in logs).
        #[arg(long)]
        name: String,
        /// `*` for every unit, or an organ code (a clerk of that unit).
        #[arg(long, default_value = "*")]
        scope: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum DevCommand {
    /// A fake exchange hub on loopback, seeded with generated packages, until Ctrl-C.
    FakeHub {
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
        /// New documents (lifecycle events, status packages and broken packages come on top).
        #[arg(long, default_value_t = 60)]
        documents: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Only plain, publishable documents (no lifecycle events or broken packages).
        #[arg(long)]
        plain: bool,
        /// `hmac`, `static` or `none`.
        #[arg(long, default_value = "hmac")]
        auth: String,
        #[arg(long, default_value = "vanban.dev")]
        system_id: String,
        #[arg(long, default_value = "dev-secret")]
        secret: String,
    },
    /// Writes a VNPT-shaped edXML package whose attached PDF (zipped) is about
    /// `--megabytes` large, to measure decoding memory (`vanban extract OUT`).
    LargePackage {
        #[arg(long, default_value_t = 50)]
        megabytes: usize,
        #[arg(long)]
        out: std::path::PathBuf,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

/// A `/proc/self/status` figure of this process (Linux), in bytes.
fn proc_status_bytes(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Peak resident memory of this process (Linux), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    proc_status_bytes("VmHWM:")
}

fn render(report: &RunReport) -> String {
    let c = &report.counts;
    let mut out = format!(
        "{} ({}{}): {}\n  listed {} · fetched {} · new {} · updated {} · revoked {} · replaced {} · \
         duplicate {} · status packages {} · revocations waiting {} · published {} · to review {} · \
         failed {} · deferred {} · needs attention {} · acknowledged {}{}{}\n",
        report.source,
        report.mode.as_str(),
        report
            .run_id
            .map(|id| format!(", run #{id}"))
            .unwrap_or_default(),
        report.status,
        c.listed,
        c.fetched,
        c.new,
        c.updated,
        c.revoked,
        c.replaced,
        c.duplicate,
        c.status,
        c.revoke_pending,
        c.published,
        c.review,
        c.failed,
        c.deferred,
        c.needs_attention,
        c.acked,
        if c.ack_failed > 0 {
            format!(" · acknowledgements failed {}", c.ack_failed)
        } else {
            String::new()
        },
        if c.status_sent + c.status_failed > 0 {
            format!(
                " · status packages sent {} (failed {}, retried later)",
                c.status_sent, c.status_failed
            )
        } else {
            String::new()
        },
    );
    for p in &report.planned {
        out.push_str(&format!(
            "  would {:<14} {:<12} {:<22} {}\n",
            p.outcome,
            p.status.as_deref().unwrap_or("-"),
            p.number_symbol.as_deref().unwrap_or("-"),
            p.package
        ));
        if let Some(reason) = &p.reason {
            out.push_str(&format!("{:<18}{reason}\n", ""));
        }
    }
    for e in &report.errors {
        out.push_str(&format!("  failed {}: {}\n", e.package, e.error));
    }
    if let Some(why) = &report.stopped {
        out.push_str(&format!("  stopped early: {why}\n"));
    }
    out
}

pub async fn run_sync(
    command: SyncCommand,
    settings: &Settings,
    types: &'static DocTypeTable,
) -> anyhow::Result<ExitCode> {
    match command {
        SyncCommand::Eoffice {
            source,
            dry_run,
            full,
            format,
        } => run_eoffice(source, dry_run, full, format, settings, types).await,
        SyncCommand::Status { source, format } => status(source, format, settings).await,
        SyncCommand::Retry { source, packages } => {
            let store = open_store(settings).await?;
            let mut changed = 0;
            if packages.is_empty() {
                changed += store.reset_packages(&source, None).await?;
            } else {
                for p in &packages {
                    changed += store.reset_packages(&source, Some(p)).await?;
                }
            }
            println!(
                "{changed} package(s) of {source} due again; they are retried at the next run \
                 (`vanban sync eoffice --source {source}`)"
            );
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn run_eoffice(
    source: Option<String>,
    dry_run: bool,
    full: bool,
    format: Format,
    settings: &Settings,
    types: &'static DocTypeTable,
) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let blobs = BlobStore::open(settings.blob_dir())?;
    let engine = Arc::new(SyncEngine::new(
        store.clone(),
        blobs,
        settings.clone(),
        types,
    )?);
    let names: Vec<String> = match source {
        Some(n) => vec![n],
        None => engine
            .sources()
            .values()
            .filter(|s| s.enabled)
            .map(|s| s.name.clone())
            .collect(),
    };
    if names.is_empty() {
        eprintln!(
            "no sync source configured: add a [sync.sources.NAME] table to the configuration \
             (see config/default.toml), or try `vanban serve --demo`"
        );
        return Ok(ExitCode::from(2));
    }
    // Ctrl-C or SIGTERM: finish the package being committed, then stop.
    {
        let engine = engine.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("stopping after the current package…");
                engine.stop();
            }
        });
    }
    let mode = if dry_run {
        Mode::DryRun
    } else if full {
        Mode::Full
    } else {
        Mode::Incremental
    };
    let mut ok = true;
    let mut reports = Vec::new();
    for name in &names {
        match engine.run(name, mode).await {
            Ok(report) => {
                ok &= report.status == "succeeded";
                if format == Format::Text {
                    print!("{}", render(&report));
                }
                reports.push(report);
            }
            Err(e @ SyncError::Busy { .. }) => {
                ok = false;
                eprintln!("{name}: {e}");
            }
            Err(e) => {
                ok = false;
                eprintln!("{name}: {e}");
            }
        }
    }
    // The sync's own peak, before the search index takes its share.
    let peak_sync = peak_rss_bytes();
    let mut index_note = None;
    if !dry_run {
        // A running server applies the changes itself; otherwise bring the index up now.
        index_note = Some(match SearchIndex::open(&settings.index_dir()) {
            Ok(index) => match index.catch_up(&store).await {
                Ok(run) => format!("{} updated, {} removed", run.upserted, run.removed),
                Err(crate::search::SearchError::Locked(_)) => {
                    "in use by a running server, which applies the changes".to_string()
                }
                Err(e) => format!("not updated ({e}); run `vanban reindex`"),
            },
            Err(e) => format!("not opened ({e}); run `vanban reindex`"),
        });
    }
    let peak = peak_rss_bytes();
    match format {
        Format::Json => println!(
            "{}",
            json!({"runs": reports, "search_index": index_note, "peak_rss_bytes": peak,
                   "peak_rss_sync_bytes": peak_sync,
                   "rss_anon_bytes": proc_status_bytes("RssAnon:"),
                   "rss_file_bytes": proc_status_bytes("RssFile:")})
        ),
        Format::Text => {
            if let Some(note) = index_note {
                println!("search index: {note}");
            }
            if let Some(bytes) = peak {
                println!("peak memory: {:.1} MiB", bytes as f64 / 1048576.0);
            }
        }
    }
    store.close().await;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn status(
    source: Option<String>,
    format: Format,
    settings: &Settings,
) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let schedules = Schedules::from_settings(&settings.sync).map_err(|e| anyhow::anyhow!(e))?;
    let now = chrono::Utc::now();
    let names: Vec<String> = match &source {
        Some(n) => vec![n.clone()],
        None => {
            let mut names: Vec<String> = settings.sync.sources.keys().cloned().collect();
            for known in store.known_sources().await? {
                if !names.contains(&known) {
                    names.push(known);
                }
            }
            names
        }
    };
    let mut sources = Vec::new();
    for name in &names {
        let configured = settings.sync.sources.get(name);
        let counts = store.package_counts(name).await?;
        let runs = store.runs(Some(name), 5).await?;
        let attention = store
            .packages_in_state(Some(name), PackageState::NeedsAttention, 50)
            .await?;
        let failing = store
            .packages_in_state(Some(name), PackageState::Failed, 50)
            .await?;
        let unacked = store
            .packages_in_state(Some(name), PackageState::Stored, 50)
            .await?;
        let lease = store.lease_holder(&format!("sync:{name}")).await?;
        sources.push(json!({
            "name": name,
            "configured": configured.is_some(),
            "kind": configured.map(|c| c.kind.clone()),
            "enabled": configured.map(|c| c.enabled),
            "trusted": configured.map(|c| c.trusted),
            "packages": counts.iter().map(|(s, n)| (s.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "running": lease.map(|(holder, until)| json!({"holder": holder, "lease_until": until})),
            "recent_runs": runs,
            "needs_attention": attention,
            "failing": failing,
            "unacknowledged": unacked,
        }));
    }
    let next = |cron| schedules.next(cron, now).map(|t| t.to_rfc3339());
    let schedule = json!({
        "scheduler": settings.sync.scheduler,
        "timezone": settings.sync.timezone,
        "nightly": {"cron": settings.sync.nightly, "next": next(&schedules.nightly)},
        "incremental": {"cron": settings.sync.incremental, "next": next(&schedules.incremental)},
    });
    match format {
        Format::Json => println!("{}", json!({"sources": sources, "schedule": schedule})),
        Format::Text => print!("{}", render_status(&sources, &schedule)),
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn render_status(sources: &[Value], schedule: &Value) -> String {
    let mut out = String::new();
    if sources.is_empty() {
        out.push_str("no sync source configured ([sync.sources.NAME] in the configuration)\n");
    }
    let s = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())
    };
    for src in sources {
        out.push_str(&format!(
            "source {} ({}{}{})\n",
            s(&src["name"]),
            src["kind"].as_str().unwrap_or("not configured"),
            if src["trusted"] == json!(true) {
                ", trusted"
            } else {
                ""
            },
            if src["enabled"] == json!(false) {
                ", disabled"
            } else {
                ""
            },
        ));
        let packages = src["packages"].as_object().cloned().unwrap_or_default();
        out.push_str(&format!(
            "  packages: {}\n",
            if packages.is_empty() {
                "none yet".to_string()
            } else {
                packages
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
        match &src["running"] {
            Value::Null => out.push_str("  running: no\n"),
            r => out.push_str(&format!(
                "  running: yes, by {} (lease until {})\n",
                s(&r["holder"]),
                s(&r["lease_until"])
            )),
        }
        out.push_str("  recent runs:\n");
        for run in src["recent_runs"].as_array().into_iter().flatten() {
            let c = &run["counts"];
            out.push_str(&format!(
                "    #{} {} {} → {}: listed {}, new {}, updated {}, revoked {}, failed {}, acknowledged {}\n",
                run["id"],
                s(&run["job"]),
                s(&run["started_at"]),
                s(&run["status"]),
                c["listed"],
                c["new"],
                c["updated"],
                c["revoked"],
                c["failed"],
                c["acked"],
            ));
        }
        for (title, key) in [
            ("needs attention (`vanban sync retry`)", "needs_attention"),
            ("failing, will be retried", "failing"),
            ("stored, acknowledgement pending", "unacknowledged"),
        ] {
            let list = src[key].as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                continue;
            }
            out.push_str(&format!("  {title}:\n"));
            for p in list {
                out.push_str(&format!(
                    "    {} ({} attempt(s){}): {}\n",
                    s(&p["package_id"]),
                    p["attempts"],
                    p["next_attempt_at"]
                        .as_str()
                        .map(|t| format!(", next {t}"))
                        .unwrap_or_default(),
                    p["last_error"].as_str().unwrap_or("-"),
                ));
            }
        }
    }
    out.push_str(&format!(
        "schedules ({}; scheduler {}): nightly {} → next {}; incremental {} → next {}\n",
        s(&schedule["timezone"]),
        if schedule["scheduler"] == json!(true) {
            "on in `vanban serve`"
        } else {
            "off"
        },
        s(&schedule["nightly"]["cron"]),
        s(&schedule["nightly"]["next"]),
        s(&schedule["incremental"]["cron"]),
        s(&schedule["incremental"]["next"]),
    ));
    out
}

pub fn run_admin(command: AdminCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdminCommand::Token { name, scope } => {
            if name.contains(':') || scope.contains(':') {
                eprintln!("name and scope must not contain ':'");
                return Ok(ExitCode::from(2));
            }
            let (token, entry) = crate::web::admin::new_token(&name, &scope);
            println!("token (give it to {name}; it is not stored anywhere): {token}");
            println!("add to admin.tokens in the configuration: \"{entry}\"");
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn run_dev(command: DevCommand) -> anyhow::Result<ExitCode> {
    use eoffice::fake_hub::{FakeHub, FakeHubOptions};
    use eoffice::{Auth, VxpSigning};
    let (listen, documents, seed, plain, auth, system_id, secret) = match command {
        DevCommand::LargePackage {
            megabytes,
            out,
            seed,
        } => {
            let bytes = crate::sync::scenario::large_package(megabytes, seed);
            std::fs::write(&out, &bytes)?;
            println!("{}: {} bytes", out.display(), bytes.len());
            return Ok(ExitCode::SUCCESS);
        }
        DevCommand::FakeHub {
            listen,
            documents,
            seed,
            plain,
            auth,
            system_id,
            secret,
        } => (listen, documents, seed, plain, auth, system_id, secret),
    };
    let auth = match auth.as_str() {
        "hmac" => Auth::Vxp(VxpSigning::new(&system_id, &secret)),
        "static" => Auth::StaticKey {
            system_id: system_id.clone(),
            secret_key: secret.clone(),
        },
        "none" => Auth::None,
        other => anyhow::bail!("--auth {other:?}: expected hmac, static or none"),
    };
    let options = if plain {
        crate::sync::scenario::ScenarioOptions::plain(seed, documents)
    } else {
        crate::sync::scenario::ScenarioOptions::mixed(seed, documents)
    };
    let scenario = crate::sync::scenario::generate(&options);
    let count = scenario.packages.len();
    let hub = FakeHub::start_on(&listen, FakeHubOptions::new(auth)).await?;
    hub.add(scenario.packages);
    println!(
        "fake hub at {} with {count} packages; Ctrl-C stops it",
        hub.url()
    );
    println!(
        "configure: [sync.sources.dev]\n  kind = \"vxp\"\n  endpoint = \"{}\"\n  auth = \"hmac\"\n  \
         system_id = \"{system_id}\"\n  secret = \"{secret}\"\n  trusted = true",
        hub.url()
    );
    let _ = tokio::signal::ctrl_c().await;
    println!("acknowledged {} of {count} packages", hub.done().len());
    hub.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// `vanban bench sync`: a fake hub in this process, `vanban sync eoffice` as a child
/// process (so its peak memory is its own), beside pdftotext on a sample of the PDFs.
pub async fn bench_sync(
    counts: &[usize],
    concurrency: usize,
    work_dir: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    use eoffice::fake_hub::{FakeHub, FakeHubOptions};
    use eoffice::{Auth, VxpSigning};
    let exe = std::env::current_exe()?;
    let mut rows = Vec::new();
    for &n in counts {
        eprintln!("bench sync: generating {n} packages…");
        let scenario =
            crate::sync::scenario::generate(&crate::sync::scenario::ScenarioOptions::plain(11, n));
        let bytes_total: usize = scenario.packages.iter().map(|p| p.bytes.len()).sum();
        // The baseline: pdftotext on (a sample of) the attached PDFs, one process each.
        let sample: Vec<Vec<u8>> = scenario
            .packages
            .iter()
            .take(300)
            .filter_map(|p| {
                let package = edxml::parse(&p.bytes).ok()?;
                let a = package.attachments.first()?;
                edxml::decode_attachment(a, &edxml::Limits::default())
                    .ok()
                    .map(|(b, _)| b)
            })
            .collect();
        let pdftotext_per_doc = pdftotext_seconds_per_file(&sample, work_dir)?;
        let secret = "bench-secret";
        let hub = FakeHub::start(FakeHubOptions::new(Auth::Vxp(VxpSigning::new(
            "vanban.bench",
            secret,
        ))))
        .await?;
        hub.add(scenario.packages);
        let dir = match work_dir {
            Some(d) => tempfile::tempdir_in(d)?,
            None => tempfile::tempdir()?,
        };
        let config = dir.path().join("bench.toml");
        std::fs::write(
            &config,
            format!(
                "[sync]\nconcurrency = {concurrency}\n[sync.sources.bench]\nkind = \"vxp\"\n\
                 endpoint = \"{}\"\nauth = \"hmac\"\nsystem_id = \"vanban.bench\"\nsecret = \"{secret}\"\ntrusted = true\n",
                hub.url()
            ),
        )?;
        eprintln!(
            "bench sync: syncing {n} packages ({:.1} MB)…",
            bytes_total as f64 / 1e6
        );
        let started = Instant::now();
        let child = tokio::process::Command::new(&exe)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--config")
            .arg(&config)
            .args(["sync", "eoffice", "--format", "json"])
            .env("RUST_LOG", "vanban=warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        // The child's anonymous (heap) memory, sampled: VmHWM also counts file pages the
        // index maps, which the kernel reclaims at will.
        let pid = child.id();
        let sampler = tokio::spawn(async move {
            let mut peak = 0u64;
            while let Some(pid) = pid {
                let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
                    break;
                };
                let anon = status
                    .lines()
                    .find(|l| l.starts_with("RssAnon:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<u64>().ok())
                    .unwrap_or(0);
                peak = peak.max(anon * 1024);
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            peak
        });
        let output = child.wait_with_output().await?;
        let seconds = started.elapsed().as_secs_f64();
        let anon_peak = sampler.await.unwrap_or(0) as f64 / 1048576.0;
        let report: Value = serde_json::from_slice(&output.stdout).map_err(|e| {
            anyhow::anyhow!(
                "sync output unreadable ({e}): {}",
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
        let run = &report["runs"][0];
        let new = run["counts"]["new"].as_u64().unwrap_or(0) as usize;
        let acked = hub.done().len();
        hub.shutdown().await;
        if new != n || acked != n {
            anyhow::bail!(
                "bench sync: {n} packages gave {new} new records and {acked} acknowledgements"
            );
        }
        let rss = report["peak_rss_bytes"].as_u64().unwrap_or(0) as f64 / 1048576.0;
        rows.push((n, seconds, rss, anon_peak, pdftotext_per_doc));
    }
    println!(
        "e-office sync end to end (list → fetch → edXML → PDF text + Decree-30 → blobs → commit → ack), \
         one child process, fake hub on loopback, concurrency {concurrency}\n"
    );
    println!(
        "{:>9} {:>9} {:>8} {:>13} {:>14} {:>24} {:>7}",
        "packages",
        "seconds",
        "docs/s",
        "peak RSS MiB",
        "peak heap MiB",
        "pdftotext alone docs/s",
        "ratio"
    );
    for (n, seconds, rss, anon, pdftotext) in &rows {
        let docs_per_s = *n as f64 / seconds;
        let baseline = 1.0 / pdftotext;
        println!(
            "{n:>9} {seconds:>9.1} {docs_per_s:>8.1} {rss:>13.1} {anon:>14.1} {baseline:>24.1} {:>6.2}×",
            docs_per_s / baseline
        );
    }
    println!(
        "\npeak RSS: the child's VmHWM (includes index files it maps); peak heap: its anonymous \
         resident memory, sampled every 50 ms"
    );
    println!(
        "\nratio: sync documents/s ÷ pdftotext documents/s on the same PDFs (text only, one process per file)"
    );
    Ok(ExitCode::SUCCESS)
}

/// Seconds per file of `pdftotext` over `files` (written to a scratch directory).
fn pdftotext_seconds_per_file(files: &[Vec<u8>], work_dir: Option<&Path>) -> anyhow::Result<f64> {
    let dir = match work_dir {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    let paths: Vec<_> = files
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let p = dir.path().join(format!("{i}.pdf"));
            std::fs::write(&p, b).map(|_| p)
        })
        .collect::<Result<_, _>>()?;
    let started = Instant::now();
    for p in &paths {
        let status = std::process::Command::new("pdftotext")
            .arg(p)
            .arg("-")
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| {
                anyhow::anyhow!("pdftotext not available ({e}): apt-get install poppler-utils")
            })?;
        anyhow::ensure!(status.success(), "pdftotext failed on {}", p.display());
    }
    Ok(started.elapsed().as_secs_f64() / paths.len().max(1) as f64)
}
