//! One apply at a time per repository: an `flock` on a file of codex-async's home
//! named after the repository's shared git directory, so two applies to one origin
//! never interleave (the kernel lets it go when the holder dies).

use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::path::Path;

use crate::jobs::error::{JobError, Result};
use crate::jobs::store::JobStore;

/// The held lock (released when dropped).
pub struct ApplyLock(#[allow(dead_code)] Flock<File>);

/// Waits (in a blocking task) until no other apply runs on the repository whose shared
/// git directory is `common_dir`.
pub async fn apply_lock(store: &JobStore, common_dir: &Path) -> Result<ApplyLock> {
    let folder = store.home().join("locks");
    JobStore::ensure_dir(&folder)?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::fs::canonicalize(common_dir).unwrap_or_else(|_| common_dir.to_owned()).hash(&mut hasher);
    let path = folder.join(format!("apply-{:016x}.lock", hasher.finish()));
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
        .open(&path)
        .map_err(|err| JobError::io("opening", &path, err))?;
    // Blocking, on a thread of its own: the holder's git calls all have deadlines, so
    // the wait ends; no polling.
    let waited = tokio::task::spawn_blocking(move || Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| errno)).await;
    match waited {
        Ok(Ok(lock)) => Ok(ApplyLock(lock)),
        Ok(Err(errno)) => Err(JobError::io("locking", &path, errno.into())),
        Err(err) => Err(JobError::io("locking", &path, std::io::Error::other(err))),
    }
}

use std::os::unix::fs::OpenOptionsExt;
