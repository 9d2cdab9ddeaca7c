//! Content-addressed, write-once blob store on the local file system.
//!
//! A blob's key is the hex SHA-256 of its bytes and its path is `blobs/ab/cd/<sha256>`.
//! Writes go to `blobs/tmp/` first, are fsynced, then renamed into place, so a crash
//! never leaves a partial blob under a real key. Originals are never modified.
//!
//! Architecture invariant: no blob outlives a record that never committed. A blob written
//! for a record not yet committed is announced first by a durable intent (a row naming the
//! writing process, committed before the first byte is written; [`BlobGuard`]); the
//! record's transaction consumes the intent; a failed record's guard removes the blob; and
//! an intent whose holder died is swept ([`sweep`]) at the start of the next ingest or sync
//! run, with the `tmp/*.part` files of dead writers. A blob neither referenced nor
//! announced is an orphan: `vanban fsck` reports it, `fsck --repair` removes it.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::store::{Holder, Release, Store, StoreError};

/// How long an intent protects its blob when its holder cannot be judged dead (another
/// host): far longer than storing one record takes. A live holder whose intent was swept
/// anyway cannot commit (its transaction finds the intent gone) and stores again.
pub const INTENT_TTL_SECONDS: i64 = 3_600;
/// A `tmp/*.part` file untouched this long, or whose writer is dead, is a leftover.
pub const PART_STALE_SECONDS: u64 = 300;

#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

#[derive(Debug, PartialEq, Eq)]
pub enum PutOutcome {
    Created,
    AlreadyPresent,
}

#[derive(Debug)]
pub struct FsckReport {
    pub checked: usize,
    pub corrupt: Vec<String>,
    pub misplaced: Vec<PathBuf>,
    /// Keys of every well-placed blob (for the caller to find orphans).
    pub keys: Vec<String>,
    /// `tmp/*.part` files left by a dead writer or untouched for minutes.
    pub leftovers: Vec<PathBuf>,
    /// `tmp/*.part` files a live writer is writing.
    pub writing: Vec<PathBuf>,
}

impl BlobStore {
    pub fn open(root: impl Into<PathBuf>) -> io::Result<BlobStore> {
        let root = root.into();
        fs::create_dir_all(root.join("tmp"))?;
        Ok(BlobStore { root })
    }

    pub fn path_of(&self, sha256: &str) -> PathBuf {
        debug_assert!(is_sha256_hex(sha256), "blob keys are sha256 hex");
        self.root
            .join(&sha256[0..2])
            .join(&sha256[2..4])
            .join(sha256)
    }

    pub fn contains(&self, sha256: &str) -> bool {
        self.path_of(sha256).is_file()
    }

    /// Stores `bytes` under their SHA-256 (which the caller computed). Idempotent.
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> io::Result<PutOutcome> {
        if !is_sha256_hex(sha256) || hex::encode(Sha256::digest(bytes)) != sha256 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "blob key is not the SHA-256 of its bytes",
            ));
        }
        let target = self.path_of(sha256);
        if target.is_file() {
            return Ok(PutOutcome::AlreadyPresent);
        }
        let dir = target.parent().expect("blob path has a parent");
        fs::create_dir_all(dir)?;
        // Unique per call: two threads may store the same bytes at once.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // The writer is named in the file so that a sweep knows a dead writer's leftover.
        let tmp = self.root.join("tmp").join(format!(
            "{sha256}.{}.{n}.part",
            Holder::current().file_tag()
        ));
        let result = (|| {
            let mut file = File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            drop(file);
            fs::rename(&tmp, &target)?;
            // The rename itself must survive a power cut.
            File::open(dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map(|_| PutOutcome::Created)
    }

    pub fn read(&self, sha256: &str) -> io::Result<Vec<u8>> {
        fs::read(self.path_of(sha256))
    }

    /// Removes a blob; only used to roll back a blob this process just created when the
    /// database transaction that would have referenced it failed.
    pub fn remove_unreferenced(&self, sha256: &str) -> io::Result<()> {
        match fs::remove_file(self.path_of(sha256)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// `tmp/*.part` files, each with whether it is a leftover (its writer is dead, or it
    /// was not touched for [`PART_STALE_SECONDS`]).
    pub fn part_files(&self) -> io::Result<Vec<(PathBuf, bool)>> {
        let mut parts = Vec::new();
        let entries = match fs::read_dir(self.root.join("tmp")) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(parts),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().to_string();
            if !name.ends_with(".part") || !entry.file_type()?.is_file() {
                continue;
            }
            // `<sha256>.<writer tag>.<n>.part`; older names carry a bare pid.
            let writer_dead = name
                .split('.')
                .nth(1)
                .and_then(Holder::from_file_tag)
                .is_some_and(|h| h.is_dead_here());
            let idle = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_none_or(|age| age.as_secs() >= PART_STALE_SECONDS);
            parts.push((entry.path(), writer_dead || idle));
        }
        parts.sort();
        Ok(parts)
    }

    /// Re-hashes every blob and reports the ones whose bytes no longer match their key,
    /// and the temporary files left behind.
    pub fn fsck(&self, mut progress: impl FnMut(usize)) -> io::Result<FsckReport> {
        let mut report = FsckReport {
            checked: 0,
            corrupt: Vec::new(),
            misplaced: Vec::new(),
            keys: Vec::new(),
            leftovers: Vec::new(),
            writing: Vec::new(),
        };
        for (path, stale) in self.part_files()? {
            if stale {
                report.leftovers.push(path);
            } else {
                report.writing.push(path);
            }
        }
        for entry in walkdir::WalkDir::new(&self.root).min_depth(1) {
            let entry = entry.map_err(io::Error::other)?;
            if !entry.file_type().is_file() || entry.path().starts_with(self.root.join("tmp")) {
                continue;
            }
            let name = entry.file_name().to_string_lossy().to_string();
            if !is_sha256_hex(&name) || self.path_of(&name) != entry.path() {
                report.misplaced.push(entry.path().to_path_buf());
                continue;
            }
            if hash_file(entry.path())? != name {
                report.corrupt.push(name.clone());
            }
            report.keys.push(name);
            report.checked += 1;
            progress(report.checked);
        }
        Ok(report)
    }
}

/// Why a guarded blob could not be written.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("không ghi được ý định lưu tệp (blob intent: {0})")]
    Announce(#[from] StoreError),
    #[error("không ghi được tệp vào kho (blob store: {0})")]
    Write(#[from] io::Error),
}

/// The one guard every intake (ingest, sync, a desk upload) writes blobs through for a
/// record that has not committed yet.
///
/// [`BlobGuard::put`] first commits an intent naming this process, then writes the blob.
/// The record's transaction consumes the intents of the blobs it references (take their
/// ids with [`BlobGuard::claim`] and pass them to `Store::insert_document_claiming` or
/// `Store::apply_sync_claiming`); then [`BlobGuard::committed`] releases the rest. If the
/// record fails, [`BlobGuard::abandon`] withdraws every intent and removes each blob that
/// nothing else wants. Dropped without either, the guard releases its intents on the
/// runtime in the background; if the process dies first, the next run's [`sweep`] does.
#[derive(Debug)]
pub struct BlobGuard {
    store: Store,
    blobs: BlobStore,
    /// (intent id, blob key, consumed by the record's transaction).
    intents: Vec<(i64, String, bool)>,
}

impl BlobGuard {
    pub fn new(store: &Store, blobs: &BlobStore) -> BlobGuard {
        BlobGuard {
            store: store.clone(),
            blobs: blobs.clone(),
            intents: Vec::new(),
        }
    }

    /// Announces, then writes, each `(sha256, bytes)` (one transaction announces them all).
    pub async fn put_all(&mut self, items: &[(&str, &[u8])]) -> Result<(), GuardError> {
        let shas: Vec<&str> = items.iter().map(|(sha, _)| *sha).collect();
        let ids = self
            .store
            .announce_blobs(&shas, chrono::Duration::seconds(INTENT_TTL_SECONDS))
            .await?;
        for (id, sha) in ids.into_iter().zip(&shas) {
            self.intents.push((id, sha.to_string(), false));
        }
        for (sha, bytes) in items {
            let blobs = self.blobs.clone();
            let (sha, bytes) = (sha.to_string(), bytes.to_vec());
            tokio::task::spawn_blocking(move || blobs.put(&sha, &bytes))
                .await
                .map_err(io::Error::other)??;
        }
        Ok(())
    }

    /// Announces, then writes, one blob.
    pub async fn put(&mut self, sha256: &str, bytes: &[u8]) -> Result<(), GuardError> {
        self.put_all(&[(sha256, bytes)]).await
    }

    /// [`BlobGuard::put_all`] from a blocking thread (inside `spawn_blocking`).
    pub fn put_all_blocking(&mut self, items: &[(&str, &[u8])]) -> Result<(), GuardError> {
        let shas: Vec<&str> = items.iter().map(|(sha, _)| *sha).collect();
        let store = self.store.clone();
        let ids = tokio::runtime::Handle::current().block_on(async move {
            store
                .announce_blobs(&shas, chrono::Duration::seconds(INTENT_TTL_SECONDS))
                .await
        })?;
        for (id, (sha, _)) in ids.into_iter().zip(items) {
            self.intents.push((id, sha.to_string(), false));
        }
        for (sha, bytes) in items {
            self.blobs.put(sha, bytes)?;
        }
        Ok(())
    }

    /// The intents of `sha256` not claimed yet, to be consumed by the record's
    /// transaction (which references that blob). Claiming a blob twice (a package without
    /// attachment is also the record's file) yields its intents once.
    pub fn claim(&mut self, sha256: &str) -> Vec<i64> {
        self.intents
            .iter_mut()
            .filter(|(_, sha, claimed)| sha == sha256 && !claimed)
            .map(|(id, _, claimed)| {
                *claimed = true;
                *id
            })
            .collect()
    }

    /// The record committed (consuming the claimed intents): release the others.
    pub async fn committed(&mut self) {
        self.intents.retain(|(_, _, claimed)| !claimed);
        self.release_all().await;
    }

    /// The record failed: withdraw every intent, removing blobs nothing else wants.
    pub async fn abandon(&mut self) {
        for (_, _, claimed) in &mut self.intents {
            *claimed = false;
        }
        self.release_all().await;
    }

    async fn release_all(&mut self) {
        for (id, sha, _) in std::mem::take(&mut self.intents) {
            release(&self.store, &self.blobs, id, &sha).await;
        }
    }
}

impl Drop for BlobGuard {
    fn drop(&mut self) {
        if self.intents.is_empty() {
            return;
        }
        // Not concluded (an early return or a panic): the record did not commit.
        let intents = std::mem::take(&mut self.intents);
        let (store, blobs) = (self.store.clone(), self.blobs.clone());
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                for (id, sha, _) in intents {
                    release(&store, &blobs, id, &sha).await;
                }
            });
        }
        // Without a runtime the intents stay for the next run's sweep.
    }
}

/// Withdraws one intent, removing its blob if nothing else wants it.
async fn release(store: &Store, blobs: &BlobStore, id: i64, sha256: &str) -> Option<Release> {
    match store
        .release_intent(id, sha256, || blobs.remove_unreferenced(sha256))
        .await
    {
        Ok(outcome) => Some(outcome),
        Err(e) => {
            // The intent stays: the next run's sweep takes it once this process is gone.
            tracing::warn!(error = %e, sha256, "cannot release a blob intent");
            None
        }
    }
}

/// What a [`sweep`] cleaned up.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Intents of dead or expired holders withdrawn.
    pub intents: usize,
    /// Blobs removed with them (nothing else wanted them).
    pub blobs_removed: usize,
    /// `tmp/*.part` leftovers removed.
    pub parts_removed: usize,
}

/// Cleans up after writers that died: intents whose holder is dead (same host, process
/// gone) or expired, with their blobs unless something else wants them, and `tmp/*.part`
/// files of dead writers or untouched for minutes. Run at the start of every ingest and
/// sync run and by `fsck --repair`; safe beside live writers of other processes.
pub async fn sweep(store: &Store, blobs: &BlobStore) -> Result<SweepReport, StoreError> {
    let mut report = SweepReport::default();
    let now = Utc::now();
    for intent in store.blob_intents().await? {
        if !intent.is_stale(now) {
            continue;
        }
        let outcome = store
            .release_intent(intent.id, &intent.sha256, || {
                blobs.remove_unreferenced(&intent.sha256)
            })
            .await?;
        match outcome {
            Release::Removed => {
                report.intents += 1;
                report.blobs_removed += 1;
            }
            Release::Kept => report.intents += 1,
            Release::Gone => {}
        }
    }
    for (path, stale) in blobs
        .part_files()
        .map_err(|e| StoreError::Database(e.into()))?
    {
        if stale {
            match fs::remove_file(&path) {
                Ok(()) => report.parts_removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::Database(e.into())),
            }
        }
    }
    if report != SweepReport::default() {
        tracing::warn!(
            intents = report.intents,
            blobs = report.blobs_removed,
            parts = report.parts_removed,
            "cleaned up after an interrupted writer"
        );
    }
    Ok(report)
}

fn hash_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_is_write_once_and_fsck_finds_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let bytes = b"%PDF-1.7 test";
        let key = hex::encode(Sha256::digest(bytes));
        assert_eq!(store.put(&key, bytes).unwrap(), PutOutcome::Created);
        assert_eq!(store.put(&key, bytes).unwrap(), PutOutcome::AlreadyPresent);
        assert_eq!(store.read(&key).unwrap(), bytes);
        assert!(store.put(&key, b"other bytes").is_err());
        assert!(
            fs::read_dir(dir.path().join("tmp"))
                .unwrap()
                .next()
                .is_none()
        );

        let report = store.fsck(|_| {}).unwrap();
        assert_eq!((report.checked, report.corrupt.len()), (1, 0));
        fs::write(store.path_of(&key), b"tampered").unwrap();
        let report = store.fsck(|_| {}).unwrap();
        assert_eq!(report.corrupt, vec![key]);
    }
}
