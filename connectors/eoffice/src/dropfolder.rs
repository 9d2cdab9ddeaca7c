//! A drop folder of `.edxml` files: what an SFTP export from an e-office system leaves.
//!
//! ```text
//! <root>/               new packages arrive here (*.edxml, *.xml)
//! <root>/.processing/   claimed by a run (rename is atomic on one file system)
//! <root>/done/          processed
//! <root>/failed/        refused, each with <name>.reason.txt saying why
//! ```
//! A file is claimed by renaming it into `.processing/`: two claimants cannot both win.
//! Files still being written are left alone: hidden and temporary names, and anything
//! modified less than `settle` ago. A crash leaves claims in `.processing/`; the next run
//! puts them back ([`DropFolder::reclaim_stale`]) before it claims anything.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub struct DropFolder {
    root: PathBuf,
    settle: Duration,
}

/// A file this run owns until it calls [`Claimed::done`], [`Claimed::fail`] or
/// [`Claimed::release`].
#[derive(Debug)]
pub struct Claimed {
    root: PathBuf,
    name: String,
    path: PathBuf,
}

const PROCESSING: &str = ".processing";
const DONE: &str = "done";
const FAILED: &str = "failed";

impl DropFolder {
    /// Opens (and creates) the folder and its sub-folders.
    pub fn open(root: impl Into<PathBuf>, settle: Duration) -> io::Result<DropFolder> {
        let root = root.into();
        for sub in [PROCESSING, DONE, FAILED] {
            fs::create_dir_all(root.join(sub))?;
        }
        Ok(DropFolder { root, settle })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Moves claims a crashed run left behind back into the inbox.
    pub fn reclaim_stale(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(self.root.join(PROCESSING))? {
            let entry = entry?;
            if !entry.file_type()?.is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().to_string();
            fs::rename(entry.path(), self.root.join(&name))?;
            names.push(name);
        }
        if !names.is_empty() {
            sync_dir(&self.root)?;
        }
        Ok(names)
    }

    /// Package files waiting in the inbox, oldest name first.
    pub fn pending(&self) -> io::Result<Vec<String>> {
        let now = SystemTime::now();
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.root)? {
            let entry = entry?;
            if !entry.file_type()?.is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().to_string();
            let lower = name.to_ascii_lowercase();
            if name.starts_with('.') || !(lower.ends_with(".edxml") || lower.ends_with(".xml")) {
                continue;
            }
            let modified = entry
                .metadata()?
                .modified()
                .unwrap_or(SystemTime::UNIX_EPOCH);
            if now.duration_since(modified).unwrap_or_default() < self.settle {
                continue;
            }
            names.push(name);
        }
        names.sort();
        Ok(names)
    }

    /// Claims `name`; `None` when another claimant took it first.
    pub fn claim(&self, name: &str) -> io::Result<Option<Claimed>> {
        let target = self.root.join(PROCESSING).join(name);
        match fs::rename(self.root.join(name), &target) {
            Ok(()) => {
                sync_dir(&self.root.join(PROCESSING))?;
                Ok(Some(Claimed {
                    root: self.root.clone(),
                    name: name.to_string(),
                    path: target,
                }))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Files in `done/` and `failed/` (for status reports and tests).
    pub fn outcomes(&self) -> io::Result<(Vec<String>, Vec<String>)> {
        let list = |sub: &str| -> io::Result<Vec<String>> {
            let mut names: Vec<String> = fs::read_dir(self.root.join(sub))?
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| !n.ends_with(".reason.txt"))
                .collect();
            names.sort();
            Ok(names)
        };
        Ok((list(DONE)?, list(FAILED)?))
    }
}

impl Claimed {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn read(&self) -> io::Result<Vec<u8>> {
        fs::read(&self.path)
    }

    /// Processed: into `done/`.
    pub fn done(self) -> io::Result<PathBuf> {
        self.move_to(DONE)
    }

    /// Refused: into `failed/`, with `<name>.reason.txt` beside it.
    pub fn fail(self, reason: &str) -> io::Result<PathBuf> {
        let target = self.move_to(FAILED)?;
        let mut reason_path = target.clone().into_os_string();
        reason_path.push(".reason.txt");
        fs::write(&reason_path, format!("{reason}\n"))?;
        sync_dir(&self.root.join(FAILED))?;
        Ok(target)
    }

    /// Not processed this time (a transient failure): back into the inbox.
    pub fn release(self) -> io::Result<()> {
        fs::rename(&self.path, self.root.join(&self.name))?;
        sync_dir(&self.root)
    }

    fn move_to(&self, sub: &str) -> io::Result<PathBuf> {
        let dir = self.root.join(sub);
        let mut target = dir.join(&self.name);
        let mut n = 1;
        while target.exists() {
            target = dir.join(format!("{}.{n}", self.name));
            n += 1;
        }
        fs::rename(&self.path, &target)?;
        sync_dir(&dir)?;
        Ok(target)
    }
}

/// Makes a rename durable: the directory entry itself must reach the disk.
fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_done_fail_release_and_reclaim() {
        let dir = tempfile::tempdir().unwrap();
        let folder = DropFolder::open(dir.path(), Duration::ZERO).unwrap();
        for name in [
            "b.edxml",
            "a.EDXML",
            ".partial.edxml",
            "c.edxml.filepart",
            "d.xml",
        ] {
            fs::write(dir.path().join(name), name).unwrap();
        }
        assert_eq!(folder.pending().unwrap(), ["a.EDXML", "b.edxml", "d.xml"]);

        let a = folder.claim("a.EDXML").unwrap().unwrap();
        assert!(
            folder.claim("a.EDXML").unwrap().is_none(),
            "claimed once only"
        );
        assert_eq!(a.read().unwrap(), b"a.EDXML");
        a.done().unwrap();
        let b = folder.claim("b.edxml").unwrap().unwrap();
        b.fail("gói edXML hỏng").unwrap();
        let d = folder.claim("d.xml").unwrap().unwrap();
        d.release().unwrap();
        assert_eq!(folder.pending().unwrap(), ["d.xml"]);
        let (done, failed) = folder.outcomes().unwrap();
        assert_eq!(
            (done, failed),
            (vec!["a.EDXML".to_string()], vec!["b.edxml".to_string()])
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("failed/b.edxml.reason.txt")).unwrap(),
            "gói edXML hỏng\n"
        );

        // A crash with a claim in flight: the next run gets it back.
        let stale = folder.claim("d.xml").unwrap().unwrap();
        std::mem::forget(stale);
        assert!(folder.pending().unwrap().is_empty());
        assert_eq!(folder.reclaim_stale().unwrap(), ["d.xml"]);
        assert_eq!(folder.pending().unwrap(), ["d.xml"]);

        // The same name processed twice keeps both files.
        fs::write(dir.path().join("a.EDXML"), "again").unwrap();
        folder.claim("a.EDXML").unwrap().unwrap().done().unwrap();
        assert!(dir.path().join("done/a.EDXML.1").exists());
    }

    #[test]
    fn files_still_being_written_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let folder = DropFolder::open(dir.path(), Duration::from_secs(3600)).unwrap();
        fs::write(dir.path().join("fresh.edxml"), "x").unwrap();
        assert!(folder.pending().unwrap().is_empty());
    }
}
