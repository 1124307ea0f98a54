//! A full disk: starting fails clearly and leaves nothing; running jobs still record their result.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::support::{SmallDisk, job_count, wait_until};
use serde_json::Value;

#[test]
#[ignore = "mounts a tmpfs, which needs root: .ci/run runs it (as root) with --ignored"]
fn a_full_disk_refuses_new_jobs_but_records_running_ones() {
    let disk = SmallDisk::mount("1m");
    let home = &disk.home;
    let id = home.start("say:started sleep:1 exit:3");
    wait_until("the job to run", Duration::from_secs(20), || home.output(&id).contains("started"));
    disk.fill();
    let before = job_count(home);

    let output = home.run(&["start", "--json", "--cwd", "/tmp", "--", "say:never"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert_eq!(job_count(home), before, "no half job is left behind");

    home.wait_for_status(&id, "error", Duration::from_secs(20));
    let meta: Value = home.meta(&id);
    assert_eq!(meta["exit_code"], 3, "the final status was written on a full disk");
    assert!(meta["finished_at"].is_string());
}

#[test]
#[ignore = "mounts a tmpfs, which needs root: .ci/run runs it (as root) with --ignored"]
fn a_worktree_that_fills_the_disk_leaves_no_job_no_folder_and_no_branch() {
    use crate::support::repo::git;
    // The home (and so the worktrees) on a 2 MiB disk; the repository, 6 MiB of files,
    // on the usual one: the checkout runs out of room half-way.
    let disk = SmallDisk::mount("2m");
    let home = &disk.home;
    let place = tempfile::tempdir().unwrap();
    let repo = place.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    for n in 0..400 {
        let text: String = (0..16 * 1024).map(|at| char::from(b'a' + ((at * 7 + n * 13) % 26) as u8)).collect();
        std::fs::write(repo.join(format!("f{n:03}.txt")), text).unwrap();
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "base"]);

    let output = home.run(&["start", "--worktree", "--cwd", repo.to_str().unwrap(), "--", "say:never"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert_eq!(job_count(home), 0, "no job folder is left");
    let worktrees = home.path().join("worktrees");
    let left = std::fs::read_dir(&worktrees).map(|entries| entries.count()).unwrap_or(0);
    assert_eq!(left, 0, "no half worktree is left in {}", worktrees.display());
    assert_eq!(git(&repo, &["branch", "--list", "--format=%(refname:short)"]), "main", "no branch is left");
    let registered = git(&repo, &["worktree", "list", "--porcelain"]);
    assert_eq!(registered.matches("worktree ").count(), 1, "only the repository's own tree is registered: {registered}");
}
