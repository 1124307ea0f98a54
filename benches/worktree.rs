//! What isolation costs (`cargo bench --bench worktree`), on the release binary, each
//! figure next to plain git doing the same in the same run, samples alternating:
//!
//! - `codex-async start --worktree` of a job (agent `/bin/true`) in a repository of
//!   20,000 files, as a whole process, next to a plain `git worktree add` of the same
//!   repository: the start's own time above it (median of 10);
//! - freezing 1,000 changed files of a worktree (what the supervisor does as a job
//!   ends: take the tree, commit it on the branch, make the patch and its numbers)
//!   next to `git add -A && git commit` of the same change;
//! - `codex-async diff --stat` of a frozen job next to `git diff --stat` of the same
//!   two commits.
//!
//! `WORKTREE_BENCH_QUICK=1` (CI) uses 2,000 files, 100 changed, 3 samples, and asserts
//! only what the machine's load cannot change: every start made its worktree, every
//! freeze its commit, every stat the same files as git's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use codex_async::jobs::git::freeze::{Budget, change_between, commit, snapshot_tree};
use codex_async::jobs::git::{RefCommand, Session};

const BIN: &str = env!("CARGO_BIN_EXE_codex-async");

fn quick() -> bool {
    std::env::var_os("WORKTREE_BENCH_QUICK").is_some()
}

fn git(folder: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(folder)
        .args(["-c", "user.name=b", "-c", "user.email=b@b", "-c", "core.hooksPath=/dev/null"])
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A repository of `files` small files in 100-file folders, one commit.
fn repository(top: &Path, files: usize) -> PathBuf {
    let repo = top.join("repo");
    for n in 0..files {
        let folder = repo.join(format!("d{:03}", n / 100));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(format!("f{n:05}.txt")), format!("file {n}\nline two\n")).unwrap();
    }
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    repo
}

/// Changes `count` files of `tree` (one line each).
fn change_files(tree: &Path, count: usize) {
    for n in 0..count {
        let path = tree.join(format!("d{:03}", n / 100)).join(format!("f{n:05}.txt"));
        std::fs::write(path, format!("file {n}\nline two, changed\n")).unwrap();
    }
}

fn start_worktree_job(home: &Path, repo: &Path) -> String {
    let output = Command::new(BIN)
        .env("CODEX_ASYNC_HOME", home)
        .env("CODEX_BIN", "/bin/true")
        .args(["start", "--worktree", "--cwd", repo.to_str().unwrap(), "--", "x"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn main() {
    let (files, changed, samples) = if quick() { (2_000, 100, 3) } else { (20_000, 1_000, 10) };
    let top = tempfile::tempdir().unwrap();
    let repo = repository(top.path(), files);
    let home = top.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    // Starts, alternating with plain `git worktree add`, which goes first in every other
    // pair (whichever runs second finds the other's 20,000 new files in memory).
    let (mut ours, mut plain) = (Vec::new(), Vec::new());
    for sample in 0..samples {
        let path = top.path().join(format!("plain-{sample}"));
        let plain_add = || {
            let began = Instant::now();
            git(&repo, &["worktree", "add", "-q", "-b", &format!("plain-{sample}"), path.to_str().unwrap(), "HEAD"]);
            ms(began.elapsed())
        };
        let our_start = || {
            let began = Instant::now();
            let id = start_worktree_job(&home, &repo);
            (id, ms(began.elapsed()))
        };
        let (id, our_time, plain_time) = if sample % 2 == 0 {
            let plain_time = plain_add();
            let (id, our_time) = our_start();
            (id, our_time, plain_time)
        } else {
            let (id, our_time) = our_start();
            (id, our_time, plain_add())
        };
        ours.push(our_time);
        plain.push(plain_time);
        let worktree = home.join("worktrees").join(&id);
        assert!(worktree.join("d000/f00000.txt").is_file(), "the worktree of {id} holds the files");
        // Not timed: wait for the job to end, then take its worktree back.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !std::fs::read_to_string(home.join("jobs").join(&id).join("meta.json")).unwrap_or_default().contains("\"finished_at\": \"") {
            assert!(Instant::now() < deadline, "job {id} did not end");
            std::thread::sleep(Duration::from_millis(20));
        }
        let discarded = Command::new(BIN).env("CODEX_ASYNC_HOME", &home).args(["discard", &id]).output().unwrap();
        assert!(discarded.status.success(), "{}", String::from_utf8_lossy(&discarded.stderr));
        git(&repo, &["worktree", "remove", "--force", path.to_str().unwrap()]);
    }
    let paired = median(ours.iter().zip(&plain).map(|(ours, plain)| ours - plain).collect());
    let (ours_start, plain_start) = (median(ours), median(plain));
    println!(
        "worktree: start --worktree ({files} files): median {ours_start:.1} ms — git worktree add median {plain_start:.1} ms — {:.1} ms above it (median of the paired differences: {paired:.1} ms)",
        ours_start - plain_start
    );

    // Freezing `changed` files, alternating with `git add -A && git commit`.
    let (mut ours, mut plain) = (Vec::new(), Vec::new());
    let mut last = None;
    for sample in 0..samples {
        let theirs = top.path().join(format!("commit-{sample}"));
        git(&repo, &["worktree", "add", "-q", "-b", &format!("commit-{sample}"), theirs.to_str().unwrap(), "HEAD"]);
        change_files(&theirs, changed);
        let began = Instant::now();
        git(&theirs, &["add", "-A"]);
        git(&theirs, &["commit", "-q", "-m", "change"]);
        plain.push(ms(began.elapsed()));

        let mine = top.path().join(format!("freeze-{sample}"));
        let branch = format!("freeze-{sample}");
        git(&repo, &["worktree", "add", "-q", "-b", &branch, mine.to_str().unwrap(), "HEAD"]);
        change_files(&mine, changed);
        let began = Instant::now();
        let (tip, stat) = runtime.block_on(async {
            let budget = Budget::new(Duration::from_secs(120));
            let mut session = Session::open(&mine).await.unwrap();
            let base = session.head().cloned().unwrap();
            let tree = snapshot_tree(&mut session, false, budget).await.unwrap();
            let new = commit(&session, &tree, Some(&base), "change", budget).await.unwrap();
            let name = format!("refs/heads/{branch}");
            session.refs(RefCommand::Update { name: &name, new: &new, old: &base, deref: true }, budget.limits(4096)).await.unwrap();
            let (patch, stat) = change_between(&session, &base, &new, 50 * 1024 * 1024, budget).await.unwrap();
            assert!(patch.is_some());
            (new, stat)
        });
        ours.push(ms(began.elapsed()));
        assert_eq!(stat.files, changed as u64, "the freeze counted every changed file");
        assert_eq!(git(&mine, &["rev-parse", "HEAD"]), tip.as_str(), "the branch moved to the frozen commit");
        assert_eq!(git(&mine, &["status", "--porcelain"]), "", "the worktree is clean after its freeze");
        last = Some((mine, tip));
    }
    let (ours_freeze, plain_freeze) = (median(ours), median(plain));
    println!(
        "worktree: freeze of {changed} changed files: median {ours_freeze:.1} ms — git add -A && git commit median {plain_freeze:.1} ms — {:.2}×",
        ours_freeze / plain_freeze
    );

    // `diff --stat` of a frozen job (a real one, through the binary), next to git's.
    let agent = top.path().join("agent.sh");
    std::fs::write(
        &agent,
        format!(
            "#!/bin/sh\nfor n in $(seq 0 {}); do d=$(printf 'd%03d' $((n / 100))); printf 'file %s\\nchanged\\n' $n > $d/$(printf 'f%05d' $n).txt; done\n",
            changed - 1
        ),
    )
    .unwrap();
    std::fs::set_permissions(&agent, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let output = Command::new(BIN)
        .env("CODEX_ASYNC_HOME", &home)
        .env("CODEX_ASYNC_CONFIG_AGENT", "")
        .env("CODEX_BIN", &agent)
        .args(["start", "--worktree", "--cwd", repo.to_str().unwrap(), "--", "change"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let id = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let waited = Command::new(BIN).env("CODEX_ASYNC_HOME", &home).args(["wait", &id]).output().unwrap();
    assert!(waited.status.success(), "{}", String::from_utf8_lossy(&waited.stdout));
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.join("jobs").join(&id).join("meta.json")).unwrap()).unwrap();
    let (base, branch) = (meta["base_commit"].as_str().unwrap().to_owned(), meta["branch"].as_str().unwrap().to_owned());
    assert_eq!(meta["change"]["files"], changed, "{meta}");
    let (mut ours, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        let began = Instant::now();
        let theirs = Command::new("git").arg("-C").arg(&repo).args(["diff", "--stat", &base, &branch]).output().unwrap();
        plain.push(ms(began.elapsed()));
        let began = Instant::now();
        let mine = Command::new(BIN).env("CODEX_ASYNC_HOME", &home).args(["diff", "--stat", &id]).output().unwrap();
        ours.push(ms(began.elapsed()));
        assert!(mine.status.success() && theirs.status.success());
        let names = |text: &[u8]| String::from_utf8_lossy(text).lines().filter(|line| line.contains('|')).count();
        assert_eq!(names(&mine.stdout), names(&theirs.stdout), "the same files as git's stat");
    }
    let (ours_stat, plain_stat) = (median(ours), median(plain));
    println!(
        "worktree: diff --stat of a frozen job ({changed} files): median {ours_stat:.1} ms — git diff --stat median {plain_stat:.1} ms — {:.2}×",
        ours_stat / plain_stat
    );
    let _ = last;
}
