//! One apply at a time per repository: an `flock` on a file of codex-async's home
//! named after the repository's shared git directory, so two applies to one origin
//! never interleave (the kernel lets it go when the holder dies).
//!
//! The file's name is a SHA-256 of the directory's canonical path: every build of
//! codex-async, whatever compiler made it, picks the same file for one repository (a
//! hash that may change between Rust versions would let two builds apply at once).

use nix::fcntl::{Flock, FlockArg};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::jobs::error::{JobError, Result};
use crate::jobs::store::JobStore;

/// The held lock (released when dropped).
pub struct ApplyLock(#[allow(dead_code)] Flock<File>);

/// Hex digits of the hash kept in the name: 128 bits, no collision among a person's
/// repositories.
const NAME_HEX_DIGITS: usize = 32;

/// The lock file's name for the shared git directory whose canonical path is
/// `canonical`: `apply-<first 128 bits of its SHA-256, hex>.lock`.
pub fn lock_file_name(canonical: &Path) -> String {
    let digest = Sha256::digest(canonical.as_os_str().as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("apply-{}.lock", &hex[..NAME_HEX_DIGITS])
}

/// Waits (in a blocking task) until no other apply runs on the repository whose shared
/// git directory is `common_dir`.
pub async fn apply_lock(store: &JobStore, common_dir: &Path) -> Result<ApplyLock> {
    let folder = store.home().join("locks");
    JobStore::ensure_dir(&folder)?;
    let canonical = std::fs::canonicalize(common_dir).unwrap_or_else(|_| common_dir.to_owned());
    let path = folder.join(lock_file_name(&canonical));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The name is part of the contract between builds: a change of hash (or of how
    /// the path is fed to it) would let an old and a new build apply at once.
    #[test]
    fn the_lock_file_s_name_is_a_stable_hash_of_the_canonical_path() {
        // printf '%s' /srv/example/repo/.git | sha256sum
        assert_eq!(lock_file_name(Path::new("/srv/example/repo/.git")), "apply-2ec0483b0524683e478295aa40b17001.lock");
        assert_ne!(lock_file_name(Path::new("/srv/example/other/.git")), lock_file_name(Path::new("/srv/example/repo/.git")));
    }

    #[tokio::test]
    async fn one_repository_reached_by_two_paths_takes_one_lock_file() {
        let home = tempfile::tempdir().unwrap();
        let repo = home.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::os::unix::fs::symlink(&repo, home.path().join("link")).unwrap();
        let store = JobStore::new(home.path().to_owned());
        let _held = apply_lock(&store, &home.path().join("link").join(".git")).await.unwrap();
        let canonical = std::fs::canonicalize(repo.join(".git")).unwrap();
        let files: Vec<String> = std::fs::read_dir(home.path().join("locks"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(files, [lock_file_name(&canonical)]);
    }
}
