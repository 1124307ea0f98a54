//! Puts the git commit into `codex-async --version` (`CODEX_ASYNC_GIT_COMMIT`), or
//! "unknown" when this is not a git checkout or git is missing: the build never fails
//! for it.
//!
//! Cargo re-runs this only when the checked-out commit can have changed (`HEAD`, the
//! branch file it points to, `packed-refs`), never on an ordinary edit-and-build. After a
//! commit cargo still counts every target of the package as stale, but only `main.rs`
//! reads the variable: the library's sources are unchanged, so incremental compilation
//! redoes next to nothing (a few seconds in a debug build).

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// `HEAD`, the branch file it names and `packed-refs`, in a plain checkout or a worktree
/// (whose `HEAD` lives in `.git/worktrees/NAME/` and whose refs in the main `.git`). Only
/// paths that exist: cargo re-runs a build script on every build while one is missing. A
/// branch that is only in `packed-refs` gets its folder watched, where its next commit
/// writes the file.
fn files_that_move_head() -> Vec<PathBuf> {
    let Some(git_dir) = git(&["rev-parse", "--git-dir"]).map(PathBuf::from) else { return Vec::new() };
    let common_dir = git(&["rev-parse", "--git-common-dir"]).map_or_else(|| git_dir.clone(), PathBuf::from);
    let head = git_dir.join("HEAD");
    let mut files = vec![head.clone(), common_dir.join("packed-refs")];
    if let Ok(text) = std::fs::read_to_string(&head)
        && let Some(reference) = text.trim().strip_prefix("ref: ")
    {
        let branch = common_dir.join(Path::new(reference));
        if let Some(existing) = branch.ancestors().find(|path| path.exists())
            && existing.starts_with(&common_dir)
        {
            files.push(existing.to_path_buf());
        }
    }
    files.retain(|file| file.exists());
    files
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for file in files_that_move_head() {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=CODEX_ASYNC_GIT_COMMIT={commit}");
}
