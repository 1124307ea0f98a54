//! Making a job's folder: assembled in a hidden staging folder (its lock, its files,
//! its meta) and renamed into place without replacing anything, so that readers never
//! see a job without its record or its owner.

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use super::{JobStore, META_FILE, OUTPUT_FILE, RESERVE_FILE, STAGING_PREFIX};
use crate::atomic::{self, Durability};
use crate::jobs::error::{JobError, Result};
use crate::jobs::process::owner::{LOCK_FILE, OwnerLock};
use crate::jobs::record::id::JobId;
use crate::jobs::record::meta::{self as record, JobMeta};

/// Writes each `(name, bytes)` into a job folder being assembled.
fn write_files(folder: &Path, files: &[(&str, &[u8])]) -> Result<()> {
    for (name, bytes) in files {
        let path = folder.join(name);
        atomic::write(&path, bytes, Durability::Durable).map_err(|err| JobError::io("writing", &path, err))?;
    }
    Ok(())
}

impl JobStore {
    /// Takes a fresh id by creating its (empty) folder exclusively. New jobs come from
    /// [`JobStore::create`]; this is for tests and tools that fill a folder themselves.
    pub fn reserve(&self) -> Result<JobId> {
        Self::ensure_dir(&self.jobs)?;
        for _ in 0..64 {
            let id = JobId::generate();
            let dir = self.job_dir(&id);
            match DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => return Ok(id),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(err) => return Err(JobError::io("creating job folder", dir, err)),
            }
        }
        Err(JobError::io("reserving a job id", &self.jobs, io::Error::other("64 collisions in a row")))
    }

    /// Creates job `id` so that it appears in `jobs/` complete and owned: its lock
    /// (taken), the space reserved for its final rewrite, an empty output.txt and its
    /// meta.json are made in a hidden staging folder, which is then renamed into place
    /// without replacing anything. Readers never see a job folder without its meta or
    /// its owner. [`JobError::IdTaken`] if `id` exists.
    ///
    /// Durable before it returns, with two journal commits, not four: the staging folder
    /// is private, so meta.json is written in place (no temporary file to rename), its
    /// data synced last — which commits every entry made before it — then the folder
    /// (nothing left to commit) and the rename.
    pub fn create(&self, id: &JobId, meta: &JobMeta, staging_name: &str, files: &[(&str, &[u8])]) -> Result<OwnerLock> {
        self.assemble(id, staging_name, |staging| {
            let owner = OwnerLock::create(staging).map_err(|err| JobError::io("locking", staging.join(LOCK_FILE), err))?;
            write_files(staging, files)?;
            meta.reserve_space(&staging.join(RESERVE_FILE))?;
            record::open_append(&staging.join(OUTPUT_FILE))?;
            let path = staging.join(META_FILE);
            atomic::write_new(&path, &meta.to_json()).map_err(|err| JobError::io("writing", &path, err))?;
            atomic::sync_folder(staging).map_err(|err| JobError::io("syncing", staging, err))?;
            Ok(owner)
        })
    }

    /// Creates a job nobody owns yet (a pending one): its meta, the given files and a
    /// lock file that its supervisor will take, placed like [`JobStore::create`].
    pub fn create_unowned(&self, id: &JobId, meta: &JobMeta, staging_name: &str, files: &[(&str, &[u8])]) -> Result<()> {
        self.assemble(id, staging_name, |staging| {
            drop(OwnerLock::create(staging).map_err(|err| JobError::io("locking", staging.join(LOCK_FILE), err))?);
            write_files(staging, files)?;
            meta.write_to(&staging.join(META_FILE), Durability::Durable)
        })
    }

    fn assemble<T>(&self, id: &JobId, staging_name: &str, fill: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
        Self::ensure_dir(&self.jobs)?;
        let staging = self.staging_path(staging_name)?;
        DirBuilder::new().mode(0o700).create(&staging).map_err(|err| JobError::io("creating job folder", &staging, err))?;
        let placed = fill(&staging).and_then(|value| self.place(id, &staging).map(|()| value));
        if placed.is_err() {
            let _ = fs::remove_dir_all(&staging);
        }
        placed
    }

    /// Where a job is assembled: `jobs/.new-<name>`, the name checked like an id.
    pub fn staging_path(&self, name: &str) -> Result<PathBuf> {
        let checked = JobId::parse(name)?;
        Ok(self.jobs.join(format!("{STAGING_PREFIX}{checked}")))
    }

    /// Renames a filled staging folder to `jobs/<id>` without replacing anything, synced.
    fn place(&self, id: &JobId, staging: &Path) -> Result<()> {
        use nix::errno::Errno;
        use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
        let target = self.job_dir(id);
        match renameat2(AT_FDCWD, staging, AT_FDCWD, &target, RenameFlags::RENAME_NOREPLACE) {
            Ok(()) => {}
            Err(Errno::EEXIST | Errno::ENOTEMPTY) => return Err(JobError::IdTaken(id.to_string())),
            // A file system without RENAME_NOREPLACE: reserve the id with an exclusive
            // mkdir, then replace that empty folder (it shows empty for an instant).
            Err(Errno::EINVAL) => match DirBuilder::new().mode(0o700).create(&target) {
                Ok(()) => fs::rename(staging, &target).map_err(|err| JobError::io("placing job folder", &target, err))?,
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => return Err(JobError::IdTaken(id.to_string())),
                Err(err) => return Err(JobError::io("creating job folder", target, err)),
            },
            Err(err) => return Err(JobError::io("placing job folder", target, err.into())),
        }
        atomic::sync_folder(&self.jobs).map_err(|err| JobError::io("syncing", &self.jobs, err))
    }
}
