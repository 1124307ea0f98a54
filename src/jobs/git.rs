//! The git base of a job: the commit checked out in its folder when it started, so
//! what it changed can be shown later (`D` in the dashboard).
//!
//! [`head`] reads `.git` itself — `HEAD`, a loose ref or `packed-refs`, a worktree's
//! `gitdir:` and `commondir` — and starts no process: it may run where a start is
//! waited for. [`dirty`] runs `git status`, asynchronously, once the starter has its
//! answer.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;

use super::kept::KeptMeta;

/// How many symbolic refs are followed before giving up (a loop).
const MAX_REF_DEPTH: usize = 5;
/// The largest `.git` file, `HEAD`, ref or `packed-refs` read.
const MAX_GIT_FILE: u64 = 16 * 1024 * 1024;
/// How long `git status` may take before the tree is left unjudged.
const STATUS_DEADLINE: Duration = Duration::from_secs(10);
/// The most of `git status` read (any byte says the tree is dirty).
const STATUS_BYTES: u64 = 1024 * 1024;

/// The commit checked out in the repository that holds `folder`, if it is in one and
/// has a commit.
pub fn head(folder: &Path) -> Option<String> {
    let git_dir = find_git_dir(folder)?;
    let common_dir =
        read_small(&git_dir.join("commondir")).map(|relative| git_dir.join(relative.trim())).unwrap_or_else(|| git_dir.clone());
    let mut content = read_small(&git_dir.join("HEAD"))?;
    for _ in 0..MAX_REF_DEPTH {
        let content_trimmed = content.trim();
        let Some(name) = content_trimmed.strip_prefix("ref:") else {
            return is_object_id(content_trimmed).then(|| content_trimmed.to_owned());
        };
        let name = name.trim();
        if name.split('/').any(|part| part == ".." || part.is_empty()) {
            return None;
        }
        content =
            read_small(&git_dir.join(name)).or_else(|| read_small(&common_dir.join(name))).or_else(|| packed_ref(&common_dir, name))?;
    }
    None
}

/// Whether the tree has changes of its own (uncommitted or untracked files); `None`
/// when git cannot say in time. Asynchronous: the supervisor keeps watching its agent
/// meanwhile (and, as a subreaper, may reap git itself: then what git printed decides).
pub async fn dirty(folder: &Path) -> Option<bool> {
    let mut child = tokio::process::Command::new("git")
        .arg("-C")
        .arg(folder)
        .args(["status", "--porcelain", "--untracked-files=normal"])
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let mut printed = Vec::new();
    let read = tokio::time::timeout(STATUS_DEADLINE, (&mut stdout).take(STATUS_BYTES).read_to_end(&mut printed)).await;
    if !matches!(read, Ok(Ok(_))) {
        return None;
    }
    match tokio::time::timeout(STATUS_DEADLINE, child.wait()).await {
        Ok(Ok(status)) if !status.success() => None,
        Ok(_) => Some(!printed.is_empty()),
        Err(_) => None,
    }
}

/// Records in the job's meta whether its tree was dirty as it started (for a job
/// whose `git_head` was recorded), through the record its supervisor keeps.
pub async fn record_dirty(record: &KeptMeta, folder: &Path) {
    let Some(dirty) = dirty(folder).await else { return };
    if record.read(|meta| meta.status.is_finished() || meta.git_head.is_none()) {
        return; // the result is written (it is not touched), or there is no base
    }
    if let Err(err) = record.update(|meta| meta.git_dirty = Some(dirty)) {
        tracing::warn!(job = %record.read(|meta| meta.job_id.clone()), %err, "could not record the git base");
    }
}

/// `.git` in `folder` or the nearest folder above it: the folder itself, or the one a
/// `.git` file names (`gitdir: …`, as worktrees and submodules have).
fn find_git_dir(folder: &Path) -> Option<PathBuf> {
    let mut at = Some(folder);
    while let Some(folder) = at {
        let dot_git = folder.join(".git");
        match std::fs::metadata(&dot_git) {
            Ok(meta) if meta.is_dir() => return Some(dot_git),
            Ok(meta) if meta.is_file() => {
                let content = read_small(&dot_git)?;
                let target = content.trim().strip_prefix("gitdir:")?.trim();
                return Some(folder.join(target));
            }
            _ => at = folder.parent(),
        }
    }
    None
}

fn packed_ref(common_dir: &Path, name: &str) -> Option<String> {
    let packed = read_small(&common_dir.join("packed-refs"))?;
    packed.lines().filter(|line| !line.starts_with('#') && !line.starts_with('^')).find_map(|line| {
        let (id, ref_name) = line.split_once(' ')?;
        (ref_name.trim() == name).then(|| id.to_owned())
    })
}

fn read_small(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut text = String::new();
    file.take(MAX_GIT_FILE).read_to_string(&mut text).ok()?;
    Some(text)
}

/// A SHA-1 or SHA-256 object id.
fn is_object_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(folder: &Path, args: &[&str]) -> String {
        let output = std::process::Command::new("git")
            .arg("-C")
            .arg(folder)
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    #[test]
    fn head_is_read_from_loose_and_packed_refs_worktrees_and_detached_heads() {
        let repo = tempfile::tempdir().unwrap();
        assert_eq!(head(repo.path()), None, "not a repository");
        git(repo.path(), &["init", "-q", "-b", "main"]);
        assert_eq!(head(repo.path()), None, "no commit yet");
        git(repo.path(), &["commit", "-q", "--allow-empty", "-m", "one"]);
        let first = git(repo.path(), &["rev-parse", "HEAD"]);
        std::fs::create_dir(repo.path().join("sub")).unwrap();
        assert_eq!(head(&repo.path().join("sub")), Some(first.clone()), "from a folder inside, loose ref");

        git(repo.path(), &["pack-refs", "--all"]);
        assert!(!repo.path().join(".git/refs/heads/main").exists());
        assert_eq!(head(repo.path()), Some(first.clone()), "packed ref");

        git(repo.path(), &["commit", "-q", "--allow-empty", "-m", "two"]);
        let second = git(repo.path(), &["rev-parse", "HEAD"]);
        let worktree = repo.path().join("wt");
        git(repo.path(), &["worktree", "add", "-q", "-b", "side", worktree.to_str().unwrap()]);
        assert!(worktree.join(".git").is_file());
        assert_eq!(head(&worktree), Some(second.clone()), "a worktree's gitdir and commondir");

        git(repo.path(), &["checkout", "-q", "--detach", &first]);
        assert_eq!(head(repo.path()), Some(first), "detached");
    }

    #[tokio::test]
    async fn a_tree_is_dirty_with_changes_or_new_files_and_the_base_is_recorded() {
        let repo = tempfile::tempdir().unwrap();
        git(repo.path(), &["init", "-q"]);
        git(repo.path(), &["commit", "-q", "--allow-empty", "-m", "one"]);
        assert_eq!(dirty(repo.path()).await, Some(false));
        std::fs::write(repo.path().join("new.txt"), "x").unwrap();
        assert_eq!(dirty(repo.path()).await, Some(true));
        assert_eq!(dirty(&repo.path().join("missing")).await, None);

        let home = tempfile::tempdir().unwrap();
        let store = super::super::JobStore::new(home.path());
        let id = store.reserve().unwrap();
        let json = serde_json::json!({"job_id": id.as_str(), "status": "running", "prompt": "p", "cwd": repo.path(),
            "approval_policy": "suggest", "pid": null, "started_at": null, "finished_at": null, "exit_code": null, "future": 1});
        let mut meta = super::super::JobMeta::from_json(json.to_string().as_bytes()).unwrap();
        meta.git_head = head(repo.path());
        record_dirty(&KeptMeta::new(&store, meta), repo.path()).await;
        let meta = store.read_meta_raw(&id).unwrap();
        assert_eq!((meta.git_head, meta.git_dirty), (head(repo.path()), Some(true)));
        assert_eq!(meta.extra["future"], 1, "other keys are kept");
    }
}
