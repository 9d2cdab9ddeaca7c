//! Blob intents: a durable row per blob written for a record that has not committed yet,
//! naming the process that wrote it (see `migrations/*/0007_blob_intents.sql` and
//! [`crate::blob::BlobGuard`]).
//!
//! Every removal of a blob goes through [`Store::release_intent`] or
//! [`Store::remove_orphan`]: one write transaction that (on PostgreSQL) takes an advisory
//! lock on the blob's key, checks that no row references the blob and no other intent
//! announces it, removes the file, then commits. A writer announces its intent under the
//! same lock before it writes, and a record's transaction deletes its intents and fails
//! if one is gone; so a blob is never removed under a record that commits, and a crash at
//! any point leaves either the intent (swept later) or nothing.

use std::collections::HashSet;
use std::path::Path;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{BeginWrite, Store, StoreError};

/// The process that announced a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub host: String,
    pub pid: u32,
    /// Start time of the process in clock ticks since boot (`/proc/PID/stat` field 22);
    /// 0 where unknown.
    pub process_start: u64,
}

static CURRENT: LazyLock<Holder> = LazyLock::new(|| {
    let pid = std::process::id();
    Holder {
        host: host_name(),
        pid,
        process_start: process_start(pid).unwrap_or(0),
    }
});

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// Start time of process `pid` (Linux), or `None` when there is no such process.
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid …": comm may hold spaces and parentheses; fields after the
    // last ')' start at field 3, so starttime (field 22) is the 20th of them.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

impl Holder {
    /// This process.
    pub fn current() -> &'static Holder {
        &CURRENT
    }

    /// The holder is a process of this host that no longer runs (its pid is gone, or now
    /// names another process). A holder on another host is never judged dead here: its
    /// intent waits for its expiry.
    pub fn is_dead_here(&self) -> bool {
        let me = Holder::current();
        if self.host != me.host {
            return false;
        }
        if self.pid == me.pid {
            return self.process_start != me.process_start && me.process_start != 0;
        }
        if !Path::new("/proc/self/stat").exists() {
            return false; // no way to tell on this system
        }
        match process_start(self.pid) {
            None => true,
            Some(start) => self.process_start != 0 && start != self.process_start,
        }
    }

    /// A short tag naming this holder in temporary file names: `<host hash>-<pid>-<start>`.
    pub fn file_tag(&self) -> String {
        use sha2::{Digest, Sha256};
        let host = hex::encode(&Sha256::digest(self.host.as_bytes())[..4]);
        format!("{host}-{}-{}", self.pid, self.process_start)
    }

    /// The holder named by a [`Holder::file_tag`], given the host it hashes to (this one
    /// or not).
    pub fn from_file_tag(tag: &str) -> Option<Holder> {
        let mut parts = tag.split('-');
        let (host, pid, start) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let me = Holder::current();
        let mine = me.file_tag();
        Some(Holder {
            host: if mine.split('-').next() == Some(host) {
                me.host.clone()
            } else {
                format!("#{host}")
            },
            pid: pid.parse().ok()?,
            process_start: start.parse().ok()?,
        })
    }
}

/// One announced blob.
#[derive(Debug, Clone)]
pub struct BlobIntent {
    pub id: i64,
    pub sha256: String,
    pub holder: Holder,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl BlobIntent {
    /// Its holder died, or it outlived its expiry: sweep it.
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        self.expires_at < now || self.holder.is_dead_here()
    }
}

/// What became of a blob whose intent was released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Nothing else wanted the blob: it was removed.
    Removed,
    /// A record references it, or another intent announces it: kept.
    Kept,
    /// The intent was already gone (claimed by its record, or released by someone else).
    Gone,
}

/// An advisory-lock key for a blob (PostgreSQL): its first 60 bits.
pub(super) fn lock_key(sha256: &str) -> i64 {
    i64::from_str_radix(sha256.get(..15).unwrap_or("0"), 16).unwrap_or(0)
}

/// Takes the per-blob lock on an open write transaction. SQLite's `BEGIN IMMEDIATE`
/// already serialises writers; PostgreSQL takes an advisory lock for the transaction.
macro_rules! lock_blob_tx {
    ($store:expr, $tx:expr, $sha:expr) => {
        if matches!($store, Store::Postgres(_)) {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(super::intents::lock_key($sha))
                .execute(&mut *$tx)
                .await?;
        }
    };
}

/// Whether any row references the blob, or any intent (other than `except`) announces
/// it, on an open transaction. Every column that keeps a blob key is listed here.
macro_rules! blob_wanted_tx {
    ($tx:expr, $sha:expr, $except:expr) => {{
        let referenced = sqlx::query(
            "SELECT 1 AS one FROM files WHERE blob_key = $1 \
             UNION ALL SELECT 1 AS one FROM sync_packages WHERE package_sha256 = $1 \
             UNION ALL SELECT 1 AS one FROM document_attachments WHERE sha256 = $1 \
             UNION ALL SELECT 1 AS one FROM jobs WHERE blob_sha256 = $1 \
             UNION ALL SELECT 1 AS one FROM blob_intents WHERE sha256 = $1 AND id <> $2 \
             LIMIT 1",
        )
        .bind($sha)
        .bind($except)
        .fetch_optional(&mut *$tx)
        .await?;
        referenced.is_some()
    }};
}

/// Deletes the intents a record's transaction consumes; a missing one (swept because its
/// holder was taken for dead or expired) fails the transaction, since its blob may be gone.
macro_rules! claim_intents_tx {
    ($tx:expr, $ids:expr) => {
        for id in $ids {
            let done = sqlx::query("DELETE FROM blob_intents WHERE id = $1")
                .bind(*id)
                .execute(&mut *$tx)
                .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::BlobIntentLost(*id));
            }
        }
    };
}
pub(crate) use {blob_wanted_tx, claim_intents_tx, lock_blob_tx};

impl Store {
    /// Announces that this process is about to write `shas` for a record not yet
    /// committed; returns the intents' ids, in order. Committed before any byte is written.
    pub async fn announce_blobs(
        &self,
        shas: &[&str],
        ttl: chrono::Duration,
    ) -> Result<Vec<i64>, StoreError> {
        let holder = Holder::current();
        let now = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut ids = Vec::with_capacity(shas.len());
            for sha in shas {
                lock_blob_tx!(self, tx, sha);
                let id: i64 = sqlx::query(
                    "INSERT INTO blob_intents (sha256, host, pid, process_start, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(*sha)
                .bind(&holder.host)
                .bind(i64::from(holder.pid))
                .bind(holder.process_start as i64)
                .bind(now)
                .bind(now + ttl)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                ids.push(id);
            }
            tx.commit().await?;
            Ok(ids)
        })
    }

    /// Every intent, oldest first.
    pub async fn blob_intents(&self) -> Result<Vec<BlobIntent>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT id, sha256, host, pid, process_start, created_at, expires_at FROM blob_intents ORDER BY id",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(BlobIntent {
                        id: r.try_get("id")?,
                        sha256: r.try_get("sha256")?,
                        holder: Holder {
                            host: r.try_get("host")?,
                            pid: u32::try_from(r.try_get::<i64, _>("pid")?).unwrap_or(u32::MAX),
                            process_start: r.try_get::<i64, _>("process_start")?.max(0) as u64,
                        },
                        created_at: r.try_get("created_at")?,
                        expires_at: r.try_get("expires_at")?,
                    })
                })
                .collect()
        })
    }

    /// Withdraws intent `id` for blob `sha256` and, if nothing else wants the blob, calls
    /// `remove` (which deletes the file) before committing: a crash in between leaves the
    /// intent, to be swept again.
    pub async fn release_intent(
        &self,
        id: i64,
        sha256: &str,
        remove: impl FnOnce() -> std::io::Result<()>,
    ) -> Result<Release, StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            lock_blob_tx!(self, tx, sha256);
            let done = sqlx::query("DELETE FROM blob_intents WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(Release::Gone);
            }
            let outcome = if blob_wanted_tx!(tx, sha256, id) {
                Release::Kept
            } else {
                remove().map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
                Release::Removed
            };
            tx.commit().await?;
            Ok(outcome)
        })
    }

    /// Removes an orphan blob (`remove` deletes the file) if, under the blob's lock, no
    /// row references it and no intent announces it; `false` when it was kept.
    pub async fn remove_orphan(
        &self,
        sha256: &str,
        remove: impl FnOnce() -> std::io::Result<()>,
    ) -> Result<bool, StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            lock_blob_tx!(self, tx, sha256);
            if blob_wanted_tx!(tx, sha256, -1_i64) {
                tx.rollback().await?;
                return Ok(false);
            }
            remove().map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Blob keys that rows reference (files, the sync ledger's packages, further files,
    /// uploads waiting in a job).
    pub async fn referenced_blob_keys(&self) -> Result<HashSet<String>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT blob_key AS k FROM files UNION SELECT package_sha256 AS k FROM sync_packages \
                 WHERE package_sha256 IS NOT NULL UNION SELECT sha256 AS k FROM document_attachments \
                 UNION SELECT blob_sha256 AS k FROM jobs WHERE blob_sha256 IS NOT NULL",
            )
            .fetch_all(pool)
            .await?;
            rows.iter().map(|r| Ok(r.try_get("k")?)).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_vanished_one_is_dead() {
        let me = Holder::current().clone();
        assert!(!me.is_dead_here());
        if me.process_start == 0 {
            return; // no /proc: liveness is unknown and intents wait for their expiry
        }
        // A child that has exited and been reaped: its pid names no process.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let dead = Holder {
            pid,
            process_start: 1,
            ..me.clone()
        };
        assert!(dead.is_dead_here());
        // The same pid started at another time is another process.
        let reused = Holder {
            process_start: me.process_start + 1,
            ..me.clone()
        };
        assert!(reused.is_dead_here());
        let elsewhere = Holder {
            host: "another-node".into(),
            pid,
            ..me.clone()
        };
        assert!(
            !elsewhere.is_dead_here(),
            "another host's process is not judged"
        );
        let tag = me.file_tag();
        assert_eq!(Holder::from_file_tag(&tag), Some(me));
        assert!(Holder::from_file_tag("zz").is_none());
    }
}
