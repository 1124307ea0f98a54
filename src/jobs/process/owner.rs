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
//!
//! The lock is held exclusively while the job runs: whatever `meta.json` says then, the
//! job is running (the file can be rewritten by any process of the user; the lock only
//! by its holder, and [`super::proven::supervisor`] tells the supervisor from a reader
//! holding it for a moment). As soon as its result is in place the supervisor holds the
//! lock shared, while it ends what the agent left behind: the result stands, and the job
//! is not let go yet ([`OwnerLock::keep_shared`]). A reader looks at the lock before it
//! reads the file: once the hold is no longer exclusive, the result is in place.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The lock file in each job folder.
pub const LOCK_FILE: &str = "supervisor.lock";

/// An exclusive hold on a job. Dropping it releases the job.
#[derive(Debug)]
pub struct OwnerLock {
    file: File,
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

/// How a job's lock is held, as a reader that must not take it sees it.
#[derive(Debug, PartialEq, Eq)]
pub enum Hold {
    /// Someone holds it exclusively: its supervisor runs the job, or a reader is settling
    /// it, cancelling it or recording a follow-up in it.
    Exclusive,
    /// Nobody holds it exclusively: no supervisor runs the job (one may still be ending
    /// what the agent left, after recording its result).
    NotExclusive,
    /// The folder has no lock file (see [`Probe::NoLockFile`]).
    NoLockFile,
}

/// Opens a lock file read-write, made private if it is new, never through a symlink: the
/// one way a lock file of this project (a job's, the queue's) is opened to be held.
pub fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).custom_flags(nix::libc::O_NOFOLLOW).open(path)
}

impl OwnerLock {
    /// Creates the lock file of a new job folder and takes it: the supervisor's first act
    /// on a job. Opened read-write so that its closing (the supervisor's death) is seen.
    pub fn create(folder: &Path) -> io::Result<OwnerLock> {
        let file = open_lock_file(&folder.join(LOCK_FILE))?;
        match file.try_lock() {
            Ok(()) => Ok(OwnerLock { file }),
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
            Ok(()) => Ok(Probe::Taken(OwnerLock { file })),
            Err(TryLockError::WouldBlock) => Ok(Probe::Held),
            Err(TryLockError::Error(err)) => Err(err),
        }
    }

    /// A writer's lock on a folder with no lock file (the original's jobs): the folder
    /// itself is locked, so two readers settling such a job take turns.
    pub fn try_folder(folder: &Path) -> io::Result<Option<OwnerLock>> {
        let file = File::open(folder)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(OwnerLock { file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(err)) => Err(err),
        }
    }

    /// Looks at how a job's lock is held without taking it from anyone: a shared hold,
    /// let go at once, succeeds unless the lock is held exclusively. Readers looking at
    /// the same job never see each other (shared holds do not conflict), and a supervisor
    /// never finds its lock taken by a reader.
    pub fn look(folder: &Path) -> io::Result<Hold> {
        let file = match OpenOptions::new().read(true).custom_flags(nix::libc::O_NOFOLLOW).open(folder.join(LOCK_FILE)) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Hold::NoLockFile),
            Err(err) => return Err(err),
        };
        match file.try_lock_shared() {
            Ok(()) => Ok(Hold::NotExclusive),
            Err(TryLockError::WouldBlock) => Ok(Hold::Exclusive),
            Err(TryLockError::Error(err)) => Err(err),
        }
    }

    /// The owner has put its result in place: it keeps the job (readers still find the
    /// lock held, and nobody settles or takes it) but no longer runs it, and says so.
    ///
    /// The change is made in place (Linux turns an exclusive `flock` into a shared one
    /// under the lock's own spinlock, without letting it go, on every kernel with pidfds,
    /// which supervisors need anyway), then announced as a release is: by a read-write
    /// descriptor of the lock file closing (see `feed`), so readers that judged the job
    /// running while the result was being put in place look again. The lock file is
    /// reopened through this descriptor: a new job's folder was renamed since it was made.
    pub fn keep_shared(&self) -> io::Result<()> {
        self.file.lock_shared()?;
        let reopened = OpenOptions::new().read(true).write(true).open(format!("/proc/self/fd/{}", self.file.as_raw_fd()));
        if let Err(err) = reopened {
            tracing::debug!(%err, "could not announce that the job's result is in place");
        }
        Ok(())
    }
}

impl Drop for OwnerLock {
    /// Lets the job go on the open file itself, not only by closing this descriptor: a
    /// process forked by another thread holds a copy of every descriptor until it execs,
    /// and a lock left to that copy would keep the job looking owned for that while.
    fn drop(&mut self) {
        if let Err(err) = self.file.unlock() {
            tracing::debug!(%err, "could not let a job's lock go before closing it");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_released_lock_is_free_even_while_a_copy_of_its_descriptor_lives() {
        let dir = tempfile::tempdir().unwrap();
        let owner = OwnerLock::create(dir.path()).unwrap();
        // What a fork between another thread's fork and exec holds: the same open file.
        let copy = owner.file.try_clone().unwrap();
        drop(owner);
        assert!(matches!(OwnerLock::probe(dir.path()).unwrap(), Probe::Taken(_)), "the job is let go at once");
        drop(copy);
    }

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
    fn a_look_sees_only_an_exclusive_hold_and_takes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(OwnerLock::look(dir.path()).unwrap(), Hold::NoLockFile);
        let owner = OwnerLock::create(dir.path()).unwrap();
        assert_eq!(OwnerLock::look(dir.path()).unwrap(), Hold::Exclusive);
        owner.keep_shared().unwrap();
        assert_eq!(OwnerLock::look(dir.path()).unwrap(), Hold::NotExclusive, "a recorded result");
        assert!(matches!(OwnerLock::probe(dir.path()).unwrap(), Probe::Held), "the job is still held");
        drop(owner);
        assert_eq!(OwnerLock::look(dir.path()).unwrap(), Hold::NotExclusive);
        let Probe::Taken(reader) = OwnerLock::probe(dir.path()).unwrap() else { panic!("a look takes nothing") };
        assert_eq!(OwnerLock::look(dir.path()).unwrap(), Hold::Exclusive, "a settling reader holds it");
        drop(reader);
        assert_eq!(OwnerLock::look(dir.path()).unwrap(), Hold::NotExclusive);
    }

    #[tokio::test]
    async fn keeping_the_lock_shared_is_news_on_the_feed_wherever_the_folder_went() {
        use crate::jobs::{FeedEvent, JobFeed, JobId, JobStore, Scope, WhatChanged};
        let home = tempfile::tempdir().unwrap();
        let store = JobStore::new(home.path());
        // Made aside and renamed into place, as a new job is.
        let staging = home.path().join("staging");
        std::fs::create_dir(&staging).unwrap();
        let owner = OwnerLock::create(&staging).unwrap();
        JobStore::ensure_dir(store.jobs_dir()).unwrap();
        let id = JobId::parse("abcd1234").unwrap();
        std::fs::rename(&staging, store.job_dir(&id)).unwrap();
        let feed = JobFeed::with_fallback(store.clone(), None);
        let mut events = feed.subscribe(Scope::Jobs(std::slice::from_ref(&id))).unwrap();
        owner.keep_shared().unwrap();
        let event = tokio::time::timeout(std::time::Duration::from_secs(20), events.recv()).await.unwrap();
        assert_eq!(event, FeedEvent::Job(id.clone(), WhatChanged::OWNER));
        assert_eq!(OwnerLock::look(&store.job_dir(&id)).unwrap(), Hold::NotExclusive);
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
