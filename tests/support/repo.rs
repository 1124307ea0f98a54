//! A git repository in a test's home, for worktree jobs: made, asked and changed with
//! the git the tests trust (never codex-async's runner, which is what is tested).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use super::TestHome;

/// git in `folder`, with an identity and no inherited repository; its trimmed stdout.
pub fn git(folder: &Path, args: &[&str]) -> String {
    let output = git_output(folder, args);
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

pub fn git_output(folder: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .arg("-C")
        .arg(folder)
        .args(["-c", "user.name=t", "-c", "user.email=t@t", "-c", "protocol.file.allow=always"])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .unwrap()
}

/// A home with a repository `repo` (branch main, `a.txt` = "one", `sub/s.txt`, one commit).
pub struct RepoHome {
    pub home: TestHome,
    pub repo: PathBuf,
}

impl RepoHome {
    pub fn new() -> RepoHome {
        let home = TestHome::new();
        let repo = home.path().join("repo");
        std::fs::create_dir_all(repo.join("sub")).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        std::fs::write(repo.join("a.txt"), "one\n").unwrap();
        std::fs::write(repo.join("sub/s.txt"), "s\n").unwrap();
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "base"]);
        RepoHome { home, repo }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.home.run(args)
    }

    /// Starts a job in `cwd` with `options`; its id (the start must succeed).
    pub fn start_in(&self, cwd: &Path, options: &[&str], prompt: &str) -> String {
        let cwd = cwd.to_str().unwrap().to_owned();
        let mut args = vec!["start", "--json", "--cwd", &cwd];
        args.extend_from_slice(options);
        args.extend(["--", prompt]);
        let output = self.run(&args);
        assert!(output.status.success(), "start failed: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice::<Value>(&output.stdout).unwrap()["job_id"].as_str().unwrap().to_owned()
    }

    /// Starts a worktree job in the repository and waits for it to end; its meta.
    pub fn worktree_job(&self, prompt: &str) -> (String, Value) {
        let id = self.start_in(&self.repo, &["--worktree"], prompt);
        (id.clone(), self.finished(&id))
    }

    /// Waits for job `id` to end and its supervisor to let it go; its meta.
    pub fn finished(&self, id: &str) -> Value {
        let meta = super::finished(&self.home, id);
        self.home.wait_for_supervisor_exit(id);
        let _ = meta;
        self.home.meta(id)
    }

    /// Every file of the origin (but `.git`) with its content, sorted.
    pub fn files(&self) -> Vec<(String, String)> {
        files_of(&self.repo)
    }

    pub fn status(&self) -> String {
        git(&self.repo, &["status", "--porcelain"])
    }

    pub fn branches(&self) -> String {
        git(&self.repo, &["branch", "--list", "--format=%(refname:short)"])
    }

    pub fn worktree_list(&self) -> String {
        git(&self.repo, &["worktree", "list", "--porcelain"])
    }
}

/// Every file under `top` (but `.git`), relative, with its content, sorted.
pub fn files_of(top: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut folders = vec![top.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_name() == ".git" {
                continue;
            }
            if entry.file_type().unwrap().is_dir() {
                folders.push(path);
            } else {
                let relative = path.strip_prefix(top).unwrap().to_string_lossy().into_owned();
                found.push((relative, std::fs::read_to_string(&path).unwrap_or_default()));
            }
        }
    }
    found.sort();
    found
}

pub const JOB_END: Duration = Duration::from_secs(30);
