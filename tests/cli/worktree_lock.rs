//! Applies to one repository wait for each other: the lock file is found where every
//! build looks for it (a SHA-256 of the shared git directory's canonical path, computed
//! here on its own), and two `apply` processes started while it is held both wait —
//! the kernel says so — and change nothing until it is let go.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use nix::fcntl::{Flock, FlockArg};
use sha2::{Digest, Sha256};

use crate::support::repo::{JOB_END, RepoHome};
use crate::support::{ProcessGuard, wait_until};

/// Where an apply to `repo` takes its lock, worked out without codex-async's code.
fn lock_path(home: &Path, repo: &Path) -> PathBuf {
    let canonical = std::fs::canonicalize(repo.join(".git")).unwrap();
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    home.join("locks").join(format!("apply-{}.lock", &hex[..32]))
}

/// How many processes wait in `flock` on the file with inode `inode` (`/proc/locks`
/// lists each waiter with `->`).
fn waiting_on(inode: u64) -> usize {
    let locks = std::fs::read_to_string("/proc/locks").unwrap();
    let inode = format!(":{inode} ");
    locks.lines().filter(|line| line.contains("-> FLOCK") && line.contains(&inode)).count()
}

#[test]
fn two_applies_to_one_repository_wait_for_the_lock_and_then_both_apply() {
    let scene = RepoHome::new();
    let (first, _) = scene.worktree_job("write:one.txt=first");
    let (second, _) = scene.worktree_job("write:two.txt=second");
    let path = lock_path(scene.home.path(), &scene.repo);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).unwrap();
    let inode = file.metadata().unwrap().ino();
    let held = Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| errno).unwrap();

    let apply = |id: &str| {
        let child = scene.home.command().args(["apply", id]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        ProcessGuard::new(child)
    };
    let mut applies = [apply(&first), apply(&second)];
    wait_until("both applies to wait on the repository's lock", JOB_END, || waiting_on(inode) == 2);
    for apply in &mut applies {
        assert!(apply.child().try_wait().unwrap().is_none(), "an apply waits while the lock is held");
    }
    assert!(!scene.repo.join("one.txt").exists() && !scene.repo.join("two.txt").exists(), "nothing applied while held");
    assert_eq!(scene.status(), "", "the origin untouched while held");

    drop(held);
    for (apply, id) in applies.iter_mut().zip([&first, &second]) {
        let status = apply.exit_within(JOB_END, "an apply after the lock was let go");
        assert!(status.success(), "apply {id} succeeds once it has the lock");
    }
    assert_eq!(std::fs::read_to_string(scene.repo.join("one.txt")).unwrap(), "first\n");
    assert_eq!(std::fs::read_to_string(scene.repo.join("two.txt")).unwrap(), "second\n");
    for id in [&first, &second] {
        assert!(scene.home.meta(id)["applied_at"].is_string(), "{id} records its apply");
    }
    assert_eq!(waiting_on(inode), 0);
}
