//! Content-addressed, write-once blob store on the local file system.
//!
//! A blob's key is the hex SHA-256 of its bytes and its path is `blobs/ab/cd/<sha256>`.
//! Writes go to `blobs/tmp/` first, are fsynced, then renamed into place, so a crash
//! never leaves a partial blob under a real key. Originals are never modified.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

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
        let tmp = self
            .root
            .join("tmp")
            .join(format!("{sha256}.{}.{n}.part", std::process::id()));
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

    /// Re-hashes every blob and reports the ones whose bytes no longer match their key.
    pub fn fsck(&self, mut progress: impl FnMut(usize)) -> io::Result<FsckReport> {
        let mut report = FsckReport {
            checked: 0,
            corrupt: Vec::new(),
            misplaced: Vec::new(),
        };
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
                report.corrupt.push(name);
            }
            report.checked += 1;
            progress(report.checked);
        }
        Ok(report)
    }
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
