//! Who owns a job, decided by the kernel: a job is alive while its lock is held.
//!
//! Each supervisor takes an exclusive `flock` on `supervisor.lock` in its job folder
//! before the job reads `running`, and holds it for its whole life; the kernel drops
//! it on any death, SIGKILL included. Unlike a pid, a held lock cannot be mistaken
//! after pid reuse, in another pid namespace or after a reboot.
//!
//! A reader that finds `running` with the lock free takes the lock itself (without
//! waiting) before it writes the settled status, so two readers never settle the same
//! job at once. Readers open the file read-only: their closing it is not a change
//! (see `feed`), while the supervisor's read-write descriptor closing *is* — that is
//! how every watcher learns at once that a supervisor died.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The lock file in each job folder.
pub const LOCK_FILE: &str = "supervisor.lock";

/// An exclusive hold on a job. Dropping it releases the job.
#[derive(Debug)]
pub struct OwnerLock {
    _file: File,
}

/// What a look at a job's lock found.
#[derive(Debug)]
pub enum Probe {
    /// Someone holds it: the supervisor (or a reader settling or cancelling the job).
    Held,
    /// Nobody held it; now this process does.
    Taken(OwnerLock),
    /// The folder has no lock file: a job of the Python original or of an earlier
    /// codex-async, judged the old way.
    NoLockFile,
}

impl OwnerLock {
    /// Creates the lock file of a new job folder and takes it: the supervisor's first act
    /// on a job. Opened read-write so that its closing (the supervisor's death) is seen.
    pub fn create(folder: &Path) -> io::Result<OwnerLock> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(folder.join(LOCK_FILE))?;
        match file.try_lock() {
            Ok(()) => Ok(OwnerLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(io::Error::new(io::ErrorKind::WouldBlock, "the job is owned by another process")),
            Err(TryLockError::Error(err)) => Err(err),
        }
    }

    /// Looks at a job's lock without waiting, taking it if it is free.
    pub fn probe(folder: &Path) -> io::Result<Probe> {
        // Without waiting: a FIFO put in the lock file's place would hold a read-only open.
        let file =
            match OpenOptions::new().read(true).custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK).open(folder.join(LOCK_FILE)) {
                Ok(file) => file,
                Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Probe::NoLockFile),
                Err(err) => return Err(err),
            };
        match file.try_lock() {
            Ok(()) => Ok(Probe::Taken(OwnerLock { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(Probe::Held),
            Err(TryLockError::Error(err)) => Err(err),
        }
    }

    /// A writer's lock on a folder with no lock file (the original's jobs): the folder
    /// itself is locked, so two readers settling such a job take turns.
    pub fn try_folder(folder: &Path) -> io::Result<Option<OwnerLock>> {
        let file = File::open(folder)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(OwnerLock { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(err)) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_seen_and_a_released_one_taken() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(OwnerLock::probe(dir.path()).unwrap(), Probe::NoLockFile));
        let owner = OwnerLock::create(dir.path()).unwrap();
        assert!(matches!(OwnerLock::probe(dir.path()).unwrap(), Probe::Held));
        assert_eq!(OwnerLock::create(dir.path()).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        drop(owner);
        let Probe::Taken(reader) = OwnerLock::probe(dir.path()).unwrap() else { panic!("the lock is free") };
        assert!(matches!(OwnerLock::probe(dir.path()).unwrap(), Probe::Held), "one settler at a time");
        drop(reader);
    }

    #[test]
    fn folder_locks_take_turns() {
        let dir = tempfile::tempdir().unwrap();
        let first = OwnerLock::try_folder(dir.path()).unwrap();
        assert!(first.is_some());
        assert!(OwnerLock::try_folder(dir.path()).unwrap().is_none());
        drop(first);
        assert!(OwnerLock::try_folder(dir.path()).unwrap().is_some());
    }
}
