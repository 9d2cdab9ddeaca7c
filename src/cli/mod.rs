//! Command line: `vanban serve | extract | ingest | sync | admin | user | unit | migrate |
//! doctor | fsck | eval | bench | dev`.

mod accounts;
mod sync;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::blob::BlobStore;
use crate::config::Settings;
use crate::doctypes::DocTypeTable;
use crate::ingest::{Ingestor, Outcome, collect_files};
use crate::search::SearchIndex;
use crate::store::Store;
use crate::web::AppState;
use crate::{eval, extract, server};

#[derive(Parser, Debug)]
#[command(
    name = "vanban",
    version,
    about = "Public registry of signed Vietnamese government documents"
)]
pub struct Cli {
    /// Data directory (SQLite database, blobs, search index). Default: ./data
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Configuration file layered over config/default.toml.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP server (and the e-office sync schedules).
    Serve {
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<String>,
        /// Demo: start a fake exchange hub seeded with generated documents that arrive
        /// over the first minutes, and sync from it (data under <data-dir>/demo).
        #[arg(long)]
        demo: bool,
    },
    /// E-office sync: run, status, retry.
    Sync {
        #[command(subcommand)]
        what: sync::SyncCommand,
    },
    /// Desk accounts: add (password from standard input), list.
    User {
        #[command(subcommand)]
        what: accounts::UserCommand,
    },
    /// Units (organs): add, list.
    Unit {
        #[command(subcommand)]
        what: accounts::UnitCommand,
    },
    /// Administration: API tokens.
    Admin {
        #[command(subcommand)]
        what: sync::AdminCommand,
    },
    /// Development aids: a fake exchange hub to sync from.
    Dev {
        #[command(subcommand)]
        what: sync::DevCommand,
    },
    /// Extract metadata and text from PDFs and print them, storing nothing.
    Extract {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Store PDFs (files or directories, recursively), deduplicated by SHA-256.
    Ingest {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Publish what the publication rules allow (classified documents never are).
        #[arg(long)]
        publish: bool,
        /// Organ code of the unit the documents belong to (default: ingest.default_unit).
        #[arg(long, value_name = "ORGAN_CODE")]
        unit: Option<String>,
    },
    /// Relevance of the public search on a query set, beside SQLite FTS5 and PostgreSQL FTS.
    EvalSearch {
        /// Fixture PDFs ingested into the evaluation corpus.
        #[arg(long, default_value = "tests/fixtures/pdf")]
        fixtures: PathBuf,
        /// The query set (JSON).
        #[arg(long, default_value = "tests/data/search_queries.json")]
        queries: PathBuf,
        /// PostgreSQL server for the full-text baseline (a scratch database).
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
        /// Print the first N synthetic corpus documents instead (to write queries).
        #[arg(long, value_name = "N")]
        show_corpus: Option<usize>,
    },
    /// Rebuild the public search index from the database (bounded memory).
    Reindex,
    /// Apply database migrations.
    Migrate,
    /// Check the data directory, the database and optional external tools.
    Doctor,
    /// Re-hash every blob, check that every stored file has its blob, and find what
    /// interrupted writes left behind (orphan blobs, dead writers' intents, tmp/*.part).
    Fsck {
        /// Remove orphan blobs (unreferenced and unannounced, checked again under lock),
        /// dead or expired writers' intents and their blobs, and leftover tmp/*.part
        /// files. A referenced blob is never removed.
        #[arg(long)]
        repair: bool,
    },
    /// Per-field accuracy against `*.expected.json` files beside the PDFs.
    Eval { dir: PathBuf },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Pages per second of extraction beside pdftotext on the same files.
    Extract {
        dir: PathBuf,
        #[arg(long, default_value_t = 3)]
        rounds: u32,
    },
    /// Time of one hostile PDF (each page draws a form of text many times) under the
    /// configured extraction budget: where it stops, and how long that takes.
    Budget {
        #[arg(long, default_value_t = 5_000)]
        pages: usize,
        /// Glyphs each page shows (a form of 1,000 glyphs drawn glyphs/1,000 times).
        #[arg(long, default_value_t = 100_000)]
        glyphs_per_page: usize,
        /// Also write the PDF here (to time `vanban extract` or `ingest` on it).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Fill the configured store with N generated public records (load tests, demos).
    Seed {
        #[arg(long, default_value_t = 20_000)]
        docs: usize,
    },
    /// Documents per second and peak memory of the e-office sync end to end, from a
    /// fake hub, beside pdftotext on the same attached PDFs.
    Sync {
        /// Package counts to run (each in a fresh data directory).
        #[arg(long = "packages", default_values_t = [1_000usize, 10_000])]
        packages: Vec<usize>,
        /// Packages fetched and extracted at once.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// Where the data directories are made (default: the system temp directory).
        #[arg(long, value_name = "DIR")]
        work_dir: Option<PathBuf>,
    },
    /// Index time, size and query latency beside SQLite FTS5 and PostgreSQL FTS.
    Search {
        /// Generated documents to index.
        #[arg(long, default_value_t = 100_000)]
        docs: usize,
        /// Queries in the mix.
        #[arg(long, default_value_t = 500)]
        queries: usize,
        /// PostgreSQL server for the full-text baseline (a scratch database).
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
        /// Where the indexes are built (default: the system temp directory).
        #[arg(long, value_name = "DIR")]
        work_dir: Option<PathBuf>,
        /// Keep the tantivy index in DIR and reuse it on the next run with the same
        /// document count (for tuning queries without re-indexing).
        #[arg(long, value_name = "DIR")]
        index_dir: Option<PathBuf>,
        /// Leave out the SQLite FTS5 baseline (tuning runs only: no ratios).
        #[arg(long)]
        skip_fts5: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "vanban=info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let loaded = match Settings::load(cli.config.as_deref(), std::env::vars()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let mut settings = loaded.settings;
    if let Some(dir) = &cli.data_dir {
        settings.storage.data_dir = dir.clone();
    }
    let types = DocTypeTable::builtin();
    let anchors = crate::signature::TrustStore::load(&settings.signatures.trust_anchors);
    for problem in &anchors.problems {
        tracing::warn!("trust anchors: {problem}");
    }
    crate::signature::trust::install(anchors);
    // Every extraction in this process (ingest, sync, extract) stops at this budget.
    crate::pdf::budget::install(settings.extraction.budget());

    // Extraction and evaluation need no runtime or database.
    match &cli.command {
        Command::Extract { files, format } => return run_extract(files, *format, &settings, types),
        Command::Eval { dir } => {
            return match eval::evaluate(dir, types) {
                Ok(report) => {
                    print!("{}", report.render());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::Bench {
            what: BenchCommand::Extract { dir, rounds },
        } => {
            return match eval::bench_extract(dir, *rounds, types) {
                Ok(report) => {
                    print!("{}", report.render());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::Bench {
            what:
                BenchCommand::Budget {
                    pages,
                    glyphs_per_page,
                    out,
                },
        } => return run_bench_budget(*pages, *glyphs_per_page, out.as_deref(), types),
        _ => {}
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run_async(cli.command, settings, types)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&settings.storage.data_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create data directory {}: {e}",
            settings.storage.data_dir.display()
        )
    })?;
    let store = Store::connect(&settings.database_url(), settings.storage.max_connections).await?;
    // Every record's unit is in the units table: the configured ones, the default unit and
    // the sync sources' units (idempotent).
    crate::auth::seed_units(&store, settings).await?;
    Ok(store)
}

async fn run_async(
    command: Command,
    settings: Settings,
    types: &'static DocTypeTable,
) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { listen, demo } => {
            let mut settings = settings;
            // The demo's hub lives as long as the server.
            let demo_hub = if demo {
                Some(crate::sync::demo::start(&mut settings).await?)
            } else {
                None
            };
            // Before anything opens files: a busy server needs more than the usual 1,024.
            server::raise_fd_limit();
            let listen = listen.unwrap_or_else(|| settings.server.listen.clone());
            let listener = server::bind(&listen).await?;
            // Links fall back to the address actually bound (port 0 resolved).
            settings.server.listen = listener.local_addr()?.to_string();
            crate::web::warn_about_public_base_url(&settings);
            let store = open_store(&settings).await?;
            let index = Arc::new(SearchIndex::open(&settings.index_dir())?);
            let blobs = BlobStore::open(settings.blob_dir())?;
            let changes = Arc::new(tokio::sync::Notify::new());
            let engine = crate::sync::SyncEngine::new(
                store.clone(),
                blobs.clone(),
                settings.clone(),
                types,
            )?
            .with_change_notifier(changes.clone());
            let state = Arc::new(AppState {
                store: store.clone(),
                index,
                blobs,
                settings: settings.clone(),
                types,
                changes,
            });
            let sync = server::SyncService {
                engine: Arc::new(engine),
                run_at_start: demo,
            };
            server::serve(listener, state, Some(sync)).await?;
            if let Some(hub) = demo_hub {
                hub.shutdown().await;
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sync { what } => sync::run_sync(what, &settings, types).await,
        Command::Admin { what } => sync::run_admin(what),
        Command::User { what } => accounts::run_user(what, &settings).await,
        Command::Unit { what } => accounts::run_unit(what, &settings).await,
        Command::Dev { what } => sync::run_dev(what).await,
        Command::Bench {
            what:
                BenchCommand::Sync {
                    packages,
                    concurrency,
                    work_dir,
                },
        } => sync::bench_sync(&packages, concurrency, work_dir.as_deref()).await,
        Command::EvalSearch {
            fixtures,
            queries,
            postgres,
            show_corpus,
        } => {
            if let Some(n) = show_corpus {
                for doc in
                    crate::search::corpus::CorpusGenerator::new(crate::search::eval::CORPUS_SEED, 1)
                        .take(n)
                {
                    println!(
                        "{}@{} | {} | {} | {} | {} | cites {:?}",
                        doc.number_symbol.unwrap_or_default(),
                        doc.unit_code,
                        doc.doc_type.unwrap_or_default(),
                        doc.issued_date.map(|d| d.to_string()).unwrap_or_default(),
                        doc.abstract_text.unwrap_or_default(),
                        doc.signer_name.unwrap_or_default(),
                        doc.citations
                    );
                }
                return Ok(ExitCode::SUCCESS);
            }
            let outcome =
                crate::search::eval::run(&fixtures, &queries, postgres.as_deref()).await?;
            print!("{}", outcome.report);
            Ok(if outcome.vanban.leaks > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Bench {
            what:
                BenchCommand::Search {
                    docs,
                    queries,
                    postgres,
                    work_dir,
                    index_dir,
                    skip_fts5,
                },
        } => {
            let report = crate::search::bench::run(
                crate::search::bench::BenchOptions {
                    docs,
                    queries,
                    postgres: postgres.as_deref(),
                    work_dir: work_dir.as_deref(),
                    index_dir: index_dir.as_deref(),
                    skip_fts5,
                },
                |stage| eprintln!("bench search: {stage}…"),
            )
            .await?;
            print!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            what: BenchCommand::Seed { docs },
        } => {
            let store = open_store(&settings).await?;
            let bar = progress_bar(docs as u64);
            let first_id = store.max_search_change().await? as u64 + 1_000_000;
            for doc in crate::search::corpus::CorpusGenerator::new(
                crate::search::bench::BENCH_SEED,
                first_id,
            )
            .take(docs)
            {
                store
                    .insert_document(&crate::search::eval::new_document(&doc))
                    .await?;
                bar.inc(1);
            }
            bar.finish_and_clear();
            println!("seeded {docs} generated public records; run `vanban reindex` or `serve`");
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Reindex => {
            let store = open_store(&settings).await?;
            let index = SearchIndex::open(&settings.index_dir())?;
            let total = store
                .status_counts()
                .await?
                .iter()
                .filter(|(s, _)| s == "published")
                .map(|(_, n)| *n)
                .sum::<i64>();
            let bar = progress_bar(total as u64);
            let run = index.rebuild(&store, |n| bar.inc(n as u64)).await?;
            index.compact()?;
            bar.finish_and_clear();
            println!(
                "reindexed {} public documents (watermark {}); index at {}",
                run.upserted,
                run.watermark,
                settings.index_dir().display()
            );
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let store = open_store(&settings).await?;
            println!("migrations applied ({})", store.backend());
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest {
            paths,
            publish,
            unit,
        } => run_ingest(&paths, publish, unit, &settings, types).await,
        Command::Doctor => Ok(run_doctor(&settings).await),
        Command::Fsck { repair } => run_fsck(&settings, repair).await,
        Command::Extract { .. } | Command::Eval { .. } | Command::Bench { .. } => {
            unreachable!("handled before")
        }
    }
}

fn run_extract(
    files: &[PathBuf],
    format: Format,
    settings: &Settings,
    types: &DocTypeTable,
) -> ExitCode {
    let mut failed = false;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in files {
        let result = std::fs::metadata(path)
            .map_err(|e| format!("không đọc được tệp: {e}"))
            .and_then(|m| {
                if m.len() > settings.extraction.max_file_bytes {
                    Err(format!("tệp quá lớn ({} byte)", m.len()))
                } else {
                    std::fs::read(path).map_err(|e| format!("không đọc được tệp: {e}"))
                }
            })
            .and_then(|bytes| {
                if crate::edxml_import::looks_like_edxml(&bytes) {
                    crate::edxml_import::extract_edxml(&bytes, types)
                        .map(|(x, further)| (x, Some(further)))
                } else {
                    extract::extract_pdf(&bytes, types).map(|x| (x, None))
                }
                .map_err(|e| e.to_string())
            });
        match result {
            Ok((x, further)) => {
                // An edXML package's further files (appendices, drafts) beside the document.
                let mut json = x.to_json();
                if let Some(files) = &further {
                    json["attachments"] = crate::edxml_import::attachments_json(files);
                }
                let written = match format {
                    Format::Json if files.len() == 1 => {
                        writeln!(
                            out,
                            "{}",
                            serde_json::to_string_pretty(&json).expect("json")
                        )
                    }
                    Format::Json => writeln!(out, "{json}"),
                    Format::Text => {
                        let mut report = x.to_text_report();
                        for f in further.iter().flatten() {
                            report.push_str(&format!(
                                "\ntệp kèm theo: {} ({}, {}, {} byte)",
                                f.name,
                                f.role.label(),
                                f.media_type,
                                f.bytes.len()
                            ));
                        }
                        writeln!(out, "== {}\n{report}", path.display())
                    }
                };
                if written.is_err() {
                    return ExitCode::FAILURE;
                }
            }
            Err(reason) => {
                failed = true;
                eprintln!("{}: {reason}", path.display());
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// A progress bar on a terminal, nothing when output is piped.
pub(crate) fn progress_bar(len: u64) -> ProgressBar {
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(len);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed_precise} {wide_msg}")
                .expect("valid template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    }
}

async fn run_ingest(
    paths: &[PathBuf],
    publish: bool,
    unit: Option<String>,
    settings: &Settings,
    types: &'static DocTypeTable,
) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let blobs = BlobStore::open(settings.blob_dir())?;
    let (files, walk_errors) = collect_files(paths);
    let ingestor = Ingestor {
        store: &store,
        blobs: &blobs,
        settings,
        types,
        unit_code: unit.unwrap_or_else(|| settings.ingest.default_unit.clone()),
        publish,
        actor: format!(
            "cli:{}",
            std::env::var("USER").unwrap_or_else(|_| "unknown".into())
        ),
    };
    // What a run killed before its records committed left behind.
    let swept = crate::blob::sweep(&store, &blobs).await?;
    if swept != crate::blob::SweepReport::default() {
        println!(
            "cleaned up an interrupted run: {} blob intent(s), {} blob(s), {} temporary file(s)",
            swept.intents, swept.blobs_removed, swept.parts_removed
        );
    }
    let bar = progress_bar(files.len() as u64);
    let (mut new, mut duplicate, mut failed) = (0usize, 0usize, walk_errors.len());
    let mut superseded = 0usize;
    let mut over_budget = 0usize;
    for (path, reason) in &walk_errors {
        println!("failed     {}: {reason}", path.display());
    }
    for path in &files {
        bar.set_message(path.display().to_string());
        let result = ingestor.ingest_file(path).await;
        let line = match &result.outcome {
            Outcome::New { id, status, reason } => {
                new += 1;
                if reason.contains(extract::BUDGET_REASON) {
                    over_budget += 1;
                }
                format!("new        {} → #{id} [{status}] {reason}", path.display())
            }
            Outcome::Duplicate { id } => {
                duplicate += 1;
                format!("duplicate  {} (= #{id})", path.display())
            }
            Outcome::Superseded { id, status, reason } => {
                superseded += 1;
                format!("superseded {} → #{id} [{status}] {reason}", path.display())
            }
            Outcome::Failed { reason } => {
                failed += 1;
                format!("failed     {}: {reason}", path.display())
            }
        };
        bar.suspend(|| println!("{line}"));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let budget_note = if over_budget > 0 {
        format!(" ({over_budget} over the extraction budget, stored for review)")
    } else {
        String::new()
    };
    println!(
        "summary: {new} new{budget_note}, {duplicate} duplicate, {failed} failed, {superseded} superseded"
    );
    // Bring the public search index up to date now; a running server holds the index
    // and picks the changes up from the change log itself.
    match SearchIndex::open(&settings.index_dir()) {
        Ok(index) => match index.catch_up(&store).await {
            Ok(run) => println!(
                "search index: {} updated, {} removed",
                run.upserted, run.removed
            ),
            Err(crate::search::SearchError::Locked(_)) => {
                println!("search index: in use by a running server, which will apply the changes")
            }
            Err(e) => println!("search index: not updated ({e}); run `vanban reindex`"),
        },
        Err(e) => println!("search index: not opened ({e}); run `vanban reindex`"),
    }
    store.close().await;
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn run_bench_budget(
    pages: usize,
    glyphs_per_page: usize,
    out: Option<&std::path::Path>,
    types: &'static DocTypeTable,
) -> ExitCode {
    let per_draw = glyphs_per_page.clamp(1, 1_000);
    let draws = glyphs_per_page.div_ceil(per_draw);
    let bytes = crate::pdf::writer::amplified_pdf(pages, draws, per_draw);
    if let Some(path) = out
        && let Err(e) = std::fs::write(path, &bytes)
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    let budget = crate::pdf::Budget::global();
    println!(
        "{} bytes, {pages} pages × {} glyphs ({} glyphs in all); budget: {} s, {} pages, {} glyphs, {} inflated bytes",
        bytes.len(),
        draws * per_draw,
        pages as u64 * (draws * per_draw) as u64,
        budget.max_time.as_secs(),
        budget.max_pages,
        budget.max_glyphs,
        budget.max_decoded_bytes
    );
    let started = std::time::Instant::now();
    let result = extract::extract_pdf(&bytes, types);
    let elapsed = started.elapsed();
    match result {
        Ok(x) => match x.budget_exceeded() {
            Some(w) => println!(
                "stopped after {:.2} s: {}",
                elapsed.as_secs_f64(),
                w.message
            ),
            None => println!(
                "read whole in {:.2} s ({} characters of text)",
                elapsed.as_secs_f64(),
                x.text.chars().count()
            ),
        },
        Err(e) => println!("failed after {:.2} s: {e}", elapsed.as_secs_f64()),
    }
    ExitCode::SUCCESS
}

async fn run_fsck(settings: &Settings, repair: bool) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let blobs = BlobStore::open(settings.blob_dir())?;
    if repair {
        let swept = crate::blob::sweep(&store, &blobs).await?;
        for (what, n) in [
            ("dead or expired blob intents withdrawn", swept.intents),
            ("blobs of those intents removed", swept.blobs_removed),
            ("leftover tmp/*.part files removed", swept.parts_removed),
        ] {
            if n > 0 {
                println!("repaired  {n} {what}");
            }
        }
    }
    let report = blobs.fsck(|_| {})?;
    let referenced = store.referenced_blob_keys().await?;
    let intents = store.blob_intents().await?;
    let now = chrono::Utc::now();
    let announced: std::collections::HashSet<&str> =
        intents.iter().map(|i| i.sha256.as_str()).collect();
    let mut missing = Vec::new();
    for key in store.blob_keys().await? {
        if !blobs.contains(&key) {
            missing.push(key);
        }
    }
    let mut orphans: Vec<&String> = report
        .keys
        .iter()
        .filter(|k| !referenced.contains(*k) && !announced.contains(k.as_str()))
        .collect();
    println!("checked {} blobs", report.checked);
    for key in &report.corrupt {
        println!("corrupt   {key}: content no longer matches its SHA-256");
    }
    for path in &report.misplaced {
        println!("stray     {}: not a blob of this store", path.display());
    }
    for key in &missing {
        println!("missing   {key}: referenced by the database, absent from the blob store");
    }
    if repair {
        let mut kept = Vec::new();
        for key in orphans {
            // Checked again under the blob's lock: a record may have claimed it since.
            if store
                .remove_orphan(key, || blobs.remove_unreferenced(key))
                .await?
            {
                println!("removed   {key}: orphan blob (no record, no writer)");
            } else {
                kept.push(key);
            }
        }
        orphans = kept;
    }
    for key in &orphans {
        println!(
            "orphan    {key}: in the blob store, referenced by no record, announced by no writer"
        );
    }
    let stale_intents: Vec<_> = intents.iter().filter(|i| i.is_stale(now)).collect();
    for i in &stale_intents {
        println!(
            "leftover  intent #{} for {} by {}:{} (writer dead or expired)",
            i.id, i.sha256, i.holder.host, i.holder.pid
        );
    }
    for i in intents.iter().filter(|i| !i.is_stale(now)) {
        println!(
            "writing   {} by {}:{} (a record being stored)",
            i.sha256, i.holder.host, i.holder.pid
        );
    }
    for path in &report.leftovers {
        println!("leftover  {}: interrupted write", path.display());
    }
    for path in &report.writing {
        println!("writing   {}", path.display());
    }
    store.close().await;
    let ok = report.corrupt.is_empty()
        && missing.is_empty()
        && orphans.is_empty()
        && stale_intents.is_empty()
        && report.leftovers.is_empty();
    println!(
        "{}",
        if ok {
            "fsck: OK"
        } else {
            "fsck: PROBLEMS FOUND"
        }
    );
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn run_doctor(settings: &Settings) -> ExitCode {
    let mut problems = 0;
    let mut report = |ok: bool, what: &str, detail: String| {
        println!("[{}] {what}: {detail}", if ok { " ok " } else { "FAIL" });
        if !ok {
            problems += 1;
        }
    };
    let dir = &settings.storage.data_dir;
    let writable = std::fs::create_dir_all(dir).is_ok() && {
        let probe = dir.join(".doctor-probe");
        let ok = std::fs::write(&probe, b"x").is_ok();
        let _ = std::fs::remove_file(&probe);
        ok
    };
    report(
        writable,
        "data directory",
        format!(
            "{} {}",
            dir.display(),
            if writable {
                "is writable"
            } else {
                "is not writable"
            }
        ),
    );
    match Store::connect(&settings.database_url(), 1).await {
        Ok(store) => {
            let counts = store.status_counts().await.unwrap_or_default();
            let summary: Vec<String> = counts.iter().map(|(s, n)| format!("{s}={n}")).collect();
            report(
                true,
                "database",
                format!(
                    "{} reachable, migrations applied; documents: {}",
                    store.backend(),
                    if summary.is_empty() {
                        "none".into()
                    } else {
                        summary.join(", ")
                    }
                ),
            );
            // The search index: opens, and how far it trails the database's change log
            // (a running server catches up within seconds).
            match SearchIndex::open(&settings.index_dir()) {
                Ok(index) => {
                    let behind = store.max_search_change().await.unwrap_or(0) - index.watermark();
                    report(
                        true,
                        "search index",
                        format!(
                            "{} public documents at {}; {}",
                            index.num_docs(),
                            settings.index_dir().display(),
                            if behind <= 0 {
                                "up to date".to_string()
                            } else {
                                format!(
                                    "{behind} changes to apply (`vanban reindex` or `vanban serve`)"
                                )
                            }
                        ),
                    );
                }
                Err(e) => report(false, "search index", format!("{e}; run `vanban reindex`")),
            }
            store.close().await;
        }
        Err(e) => report(false, "database", format!("{e}")),
    }
    let anchors = crate::signature::trust::global();
    report(
        anchors.problems.is_empty(),
        "signature trust anchors",
        if anchors.is_empty() {
            format!(
                "none in {} — signatures are checked but no certificate can be trusted; see config/trust-anchors/README.md",
                settings
                    .signatures
                    .trust_anchors
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!("{} loaded: {}", anchors.len(), anchors.names().join("; "))
        },
    );
    for problem in &anchors.problems {
        println!("       {problem}");
    }
    println!("optional tools (used by later features):");
    for (tool, args, purpose, install) in [
        (
            "pdftotext",
            &["-v"][..],
            "baseline for `vanban bench extract`",
            "apt-get install poppler-utils",
        ),
        (
            "pdfsig",
            &["-v"][..],
            "second opinion on PDF signatures",
            "apt-get install poppler-utils",
        ),
        (
            "tesseract",
            &["--version"][..],
            "OCR of scanned documents",
            "apt-get install tesseract-ocr tesseract-ocr-vie",
        ),
        (
            "chromium",
            &["--version"][..],
            "browser tests of the embeddable widget",
            "apt-get install chromium",
        ),
    ] {
        let found = std::process::Command::new(tool).args(args).output().is_ok();
        println!(
            "  [{}] {tool}: {purpose}{}",
            if found { " ok " } else { "miss" },
            if found {
                String::new()
            } else {
                format!(" — install: {install}")
            }
        );
    }
    if std::process::Command::new("tesseract")
        .arg("--list-langs")
        .output()
        .is_ok_and(|o| !String::from_utf8_lossy(&o.stdout).contains("vie"))
    {
        println!("  [miss] tesseract Vietnamese data — install: apt-get install tesseract-ocr-vie");
    }
    if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
