//! When the sync jobs run: a nightly full reconciliation and frequent incremental polls
//! of every enabled source, on tokio-cron-scheduler inside `vanban serve`.
//!
//! Two runs of one source never overlap: each run holds the source's lease in the
//! database, so a tick that finds the previous run (or another node's) still going is
//! skipped with a log line. The same cron expressions give the next run times that
//! `vanban sync status` shows, computed here rather than asked of the scheduler so that a
//! separate process can show them.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use tokio_cron_scheduler::{Job, JobScheduler};

use super::{Mode, SyncEngine, SyncError};
use crate::config::SyncSettings;

/// The two schedules, parsed.
pub struct Schedules {
    pub nightly: Cron,
    pub incremental: Cron,
    pub offset: FixedOffset,
}

/// The parser tokio-cron-scheduler uses (seconds field required).
fn parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Required)
        .dom_and_dow(true)
        .build()
}

impl Schedules {
    pub fn from_settings(s: &SyncSettings) -> Result<Schedules, String> {
        let parse = |key: &str, expr: &str| {
            parser().parse(expr).map_err(|e| {
                format!("sync.{key} {expr:?} is not a cron expression with seconds (sec min hour day month weekday): {e}")
            })
        };
        Ok(Schedules {
            nightly: parse("nightly", &s.nightly)?,
            incremental: parse("incremental", &s.incremental)?,
            offset: s.offset()?,
        })
    }

    /// The next time `cron` fires after `after`, in the schedules' zone.
    pub fn next(&self, cron: &Cron, after: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
        cron.find_next_occurrence(&after.with_timezone(&self.offset), false)
            .ok()
    }
}

/// Runs `mode` on every enabled source, side by side.
pub async fn run_all(engine: &SyncEngine, mode: Mode) {
    let names: Vec<String> = engine
        .sources()
        .values()
        .filter(|s| s.enabled)
        .map(|s| s.name.clone())
        .collect();
    let runs = names.iter().map(|name| async move {
        match engine.run(name, mode).await {
            Ok(_) => {}
            Err(SyncError::Busy { name, holder }) => {
                tracing::info!(source = %name, %holder, mode = mode.as_str(), "sync already running; tick skipped")
            }
            Err(e) => tracing::error!(source = %name, error = %e, "sync run failed"),
        }
    });
    futures_util::future::join_all(runs).await;
}

/// Starts the scheduler with the nightly and incremental jobs. The returned scheduler
/// must be kept (and shut down at exit).
pub async fn start(
    engine: Arc<SyncEngine>,
    settings: &SyncSettings,
) -> Result<JobScheduler, String> {
    let schedules = Schedules::from_settings(settings)?;
    let scheduler = JobScheduler::new()
        .await
        .map_err(|e| format!("cannot start the scheduler: {e}"))?;
    for (expr, mode) in [
        (&settings.nightly, Mode::Full),
        (&settings.incremental, Mode::Incremental),
    ] {
        let engine = engine.clone();
        let job = Job::new_async_tz(expr.as_str(), schedules.offset, move |_id, _lock| {
            let engine = engine.clone();
            Box::pin(async move { run_all(&engine, mode).await })
        })
        .map_err(|e| format!("sync schedule {expr:?}: {e}"))?;
        scheduler
            .add(job)
            .await
            .map_err(|e| format!("cannot add the {} job: {e}", mode.as_str()))?;
    }
    scheduler
        .start()
        .await
        .map_err(|e| format!("cannot start the scheduler: {e}"))?;
    let now = Utc::now();
    tracing::info!(
        nightly = ?schedules.next(&schedules.nightly, now),
        incremental = ?schedules.next(&schedules.incremental, now),
        sources = engine.sources().len(),
        "sync scheduler started"
    );
    Ok(scheduler)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn next_runs_in_vietnam_time() {
        let settings: crate::config::Settings =
            crate::config::Settings::load(None, Vec::<(String, String)>::new())
                .unwrap()
                .settings;
        let s = Schedules::from_settings(&settings.sync).unwrap();
        // 2026-11-30 20:00 UTC is 03:00 on 1 December in Vietnam: the next nightly run
        // is 01:00 on 2 December, Vietnam time.
        let after = Utc.with_ymd_and_hms(2026, 11, 30, 20, 0, 0).unwrap();
        let next = s.next(&s.nightly, after).unwrap();
        assert_eq!(next.to_rfc3339(), "2026-12-02T01:00:00+07:00");
        let inc = s.next(&s.incremental, after).unwrap();
        assert_eq!(inc.to_rfc3339(), "2026-12-01T03:05:00+07:00");
        let mut bad = settings.sync.clone();
        bad.incremental = "every five minutes".into();
        let err = Schedules::from_settings(&bad).err().expect("refused");
        assert!(err.contains("sync.incremental"), "{err}");
    }
}
