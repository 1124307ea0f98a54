//! A job's own worktree of a repository: made on a new branch from a commit, filled
//! through the private git directory (no filter or hook of the repository runs), and
//! removed with its branch.
//!
//! `git worktree add --no-checkout` registers the folder and the branch (refs only);
//! the files are then written by `read-tree -u` through a [`Session`] of the new
//! worktree. Anything that fails half-way takes back what was made: no folder, no
//! registration, no branch stays.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::commands::{Change, RefCommand, is_revision};
use super::error::GitError;
use super::files::Repository;
use super::freeze::{Budget, resolve};
use super::object_id::ObjectId;
use super::session::{Session, refs_of};

/// The prefix of every branch codex-async makes.
pub const BRANCH_PREFIX: &str = "codex-async/";
/// The most branch names tried when `codex-async/<id>` is taken.
const MAX_SUFFIX: u32 = 50;

/// Why a worktree could not be made.
#[derive(Debug, thiserror::Error)]
pub enum WorktreeError {
    #[error("{0} is not in a git repository: --worktree needs one (or start without --worktree)")]
    NotARepository(PathBuf),
    #[error("{0} is a bare repository: it has no working tree to branch a worktree from")]
    Bare(PathBuf),
    #[error("the repository at {0} has no commits yet: commit once, then start with --worktree")]
    NoCommits(PathBuf),
    #[error("--base {0:?} names no commit in the repository")]
    UnknownBase(String),
    #[error("--base {0:?} is not a revision (a branch, a tag or a commit id)")]
    BadBase(String),
    #[error("every branch name from {0} to {0}-{MAX_SUFFIX} is taken")]
    BranchesTaken(String),
    #[error("the worktree folder {0} exists already")]
    FolderTaken(PathBuf),
    #[error("cannot make the worktree at {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: No space left on device: the disk that holds the worktree is full ({reason})", path = .path.display())]
    DiskFull { path: PathBuf, reason: String },
    #[error("worktree_copy {path:?}: {reason}")]
    Copy { path: String, reason: String },
    #[error("making the worktree: {0}")]
    Git(#[from] GitError),
}

/// What to make.
pub struct WorktreePlan<'a> {
    /// The folder the job was asked to run in (the origin; maybe a subfolder of it).
    pub origin: &'a Path,
    /// Where the worktree goes (`<worktree_dir>/<id>`).
    pub path: PathBuf,
    /// The job's id: the branch is `codex-async/<id>`.
    pub id: &'a str,
    /// A revision to start from instead of the origin's `HEAD`.
    pub base: Option<&'a str>,
    /// Files of the origin (relative to its top) copied in, when they exist there.
    pub copy: &'a [String],
}

/// A worktree made.
#[derive(Clone, Debug)]
pub struct Worktree {
    /// Its top folder.
    pub path: PathBuf,
    /// The folder the agent runs in: the origin's subfolder, in the worktree.
    pub run_folder: PathBuf,
    pub branch: String,
    pub base: ObjectId,
    /// Whether the origin had changes of its own (they are not carried over).
    pub origin_dirty: Option<bool>,
}

/// Makes the worktree `plan` describes, or nothing at all.
///
/// When the repository's files say where to branch from and which branch name is free
/// (no `--base`, refs kept as files), the worktree is registered at once, while git
/// reads the configuration the checkout needs; else git is asked both first. Whether
/// the origin has changes of its own is asked of git while the files are written (it
/// reads the whole tree), through the same session: the configuration is read once.
pub async fn make(plan: WorktreePlan<'_>, budget: Budget) -> Result<Worktree, WorktreeError> {
    let Some(repository) = Repository::find(plan.origin) else {
        return Err(if looks_bare(plan.origin) {
            WorktreeError::Bare(plan.origin.to_owned())
        } else {
            WorktreeError::NotARepository(plan.origin.to_owned())
        });
    };
    let inherited: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let known = if plan.base.is_none() { repository.head().zip(branch_from_files(&repository, plan.id)) } else { None };
    let (origin, base, branch) = match known {
        Some((base, branch)) => {
            let branch = branch?;
            let (origin, registered) =
                tokio::join!(open_origin(plan.origin), register(&plan, &repository, &inherited, &branch, &base, budget));
            registered?;
            match origin {
                Ok(origin) => (origin, base, branch),
                Err(err) => {
                    take_back(&repository, &inherited, &plan.path, &branch, budget).await;
                    return Err(err);
                }
            }
        }
        None => {
            let origin = open_origin(plan.origin).await?;
            let base = base_of(&plan, &repository, &origin, budget).await?;
            let branch = free_branch(&repository, &origin, plan.id, budget).await?;
            register(&plan, &repository, &inherited, &branch, &base, budget).await?;
            (origin, base, branch)
        }
    };
    let (filled, origin_dirty) = tokio::join!(fill(&plan, &repository, &origin, &base, budget), super::dirty_in(&origin));
    match filled {
        Ok((run_folder, worktree_session)) => {
            // Their private folders are removed off the start's path.
            tokio::task::spawn_blocking(move || drop((origin, worktree_session)));
            Ok(Worktree { path: plan.path.clone(), run_folder, branch, base, origin_dirty })
        }
        Err(err) => {
            // Judged before the half-made tree is taken back (which frees its room).
            let err =
                if disk_full(&plan.path) { WorktreeError::DiskFull { path: plan.path.clone(), reason: err.to_string() } } else { err };
            take_back(&repository, &inherited, &plan.path, &branch, budget).await;
            Err(err)
        }
    }
}

async fn open_origin(folder: &Path) -> Result<Session, WorktreeError> {
    Session::open(folder).await.map_err(|err| match err {
        GitError::NotARepository(path) => WorktreeError::NotARepository(path),
        other => WorktreeError::Git(other),
    })
}

/// The commit the worktree starts from: the origin's `HEAD`, or `--base`.
async fn base_of(plan: &WorktreePlan<'_>, repository: &Repository, origin: &Session, budget: Budget) -> Result<ObjectId, WorktreeError> {
    match plan.base {
        None => origin.head().cloned().ok_or_else(|| WorktreeError::NoCommits(repository.top.clone())),
        Some(revision) if !is_revision(revision) => Err(WorktreeError::BadBase(revision.to_owned())),
        Some(revision) => resolve(origin, revision, budget).await?.ok_or_else(|| WorktreeError::UnknownBase(revision.to_owned())),
    }
}

/// Registers the worktree on its new branch (refs only: no file of the tree is written
/// yet), or takes back what it made.
async fn register(
    plan: &WorktreePlan<'_>,
    repository: &Repository,
    inherited: &[(OsString, OsString)],
    branch: &str,
    base: &ObjectId,
    budget: Budget,
) -> Result<(), WorktreeError> {
    if std::fs::symlink_metadata(&plan.path).is_ok() {
        return Err(WorktreeError::FolderTaken(plan.path.clone()));
    }
    if let Some(parent) = plan.path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| WorktreeError::Io { path: parent.to_owned(), source })?;
    }
    let command = RefCommand::AddWorktree { path: &plan.path, branch, commit: base };
    if let Err(err) = refs_of(repository, inherited, command, budget.limits(64 * 1024)).await {
        take_back(repository, inherited, &plan.path, branch, budget).await;
        return Err(err.into());
    }
    Ok(())
}

/// Whether the disk that holds `path` has run out of room or of files: what a
/// checkout that failed there most likely met (git says only that it could not write).
fn disk_full(path: &Path) -> bool {
    /// Less room than this left counts as full: the file git could not write was larger.
    const NEARLY_NOTHING: u64 = 1024 * 1024;
    let Ok(disk) = nix::sys::statvfs::statvfs(path) else { return false };
    let room = disk.blocks_available().saturating_mul(disk.fragment_size());
    room < NEARLY_NOTHING || (disk.files() > 0 && disk.files_available() == 0)
}

/// Writes the base's files into the registered worktree, copies the listed files, and
/// finds the folder the agent runs in.
async fn fill(
    plan: &WorktreePlan<'_>,
    repository: &Repository,
    origin: &Session,
    base: &ObjectId,
    budget: Budget,
) -> Result<(PathBuf, Session), WorktreeError> {
    let session = origin.for_worktree(&plan.path, base)?;
    session.change(Change::CheckOut(base), budget.limits(64 * 1024 * 1024)).await?;
    for relative in plan.copy {
        copy_listed(&repository.top, &plan.path, relative)?;
    }
    let inside = plan.origin.strip_prefix(&repository.top).unwrap_or(Path::new(""));
    let run_folder = plan.path.join(inside);
    std::fs::create_dir_all(&run_folder).map_err(|source| WorktreeError::Io { path: run_folder.clone(), source })?;
    Ok((run_folder, session))
}

/// `codex-async/<id>`, or with the first free suffix (`-2`, `-3`, …), as the ref files
/// say: `None` when they cannot say (refs in a reftable, an unreadable `packed-refs`).
fn branch_from_files(repository: &Repository, id: &str) -> Option<Result<String, WorktreeError>> {
    let first = format!("{BRANCH_PREFIX}{id}");
    for suffix in 1..=MAX_SUFFIX {
        let name = branch_name(&first, suffix);
        if !repository.has_ref(&format!("refs/heads/{name}"))? {
            return Some(Ok(name));
        }
    }
    Some(Err(WorktreeError::BranchesTaken(first)))
}

fn branch_name(first: &str, suffix: u32) -> String {
    if suffix == 1 { first.to_owned() } else { format!("{first}-{suffix}") }
}

/// As [`branch_from_files`], asking git where the files cannot say.
async fn free_branch(repository: &Repository, origin: &Session, id: &str, budget: Budget) -> Result<String, WorktreeError> {
    let first = format!("{BRANCH_PREFIX}{id}");
    for suffix in 1..=MAX_SUFFIX {
        let name = branch_name(&first, suffix);
        let reference = format!("refs/heads/{name}");
        let taken = match repository.has_ref(&reference) {
            Some(taken) => taken,
            None => resolve(origin, &reference, budget).await?.is_some(),
        };
        if !taken {
            return Ok(name);
        }
    }
    Err(WorktreeError::BranchesTaken(first))
}

/// Undoes a half-made worktree: its folder, its registration, its branch.
async fn take_back(repository: &Repository, inherited: &[(OsString, OsString)], path: &Path, branch: &str, budget: Budget) {
    if std::fs::symlink_metadata(path).is_ok()
        && let Err(err) = std::fs::remove_dir_all(path)
    {
        tracing::warn!(path = %path.display(), %err, "could not remove a half-made worktree");
    }
    let _ = refs_of(repository, inherited, RefCommand::PruneWorktrees, budget.limits(64 * 1024)).await;
    let _ = refs_of(repository, inherited, RefCommand::Delete(&format!("refs/heads/{branch}")), budget.limits(64 * 1024)).await;
}

/// Whether `folder` is a bare repository (what `--worktree` cannot branch from).
fn looks_bare(folder: &Path) -> bool {
    ["HEAD", "objects", "refs"].iter().all(|name| folder.join(name).exists()) && !folder.join(".git").exists()
}

/// Copies one listed file from the origin's top into the worktree: a relative path
/// inside both, a regular file (never a link) in the origin, written as a new file
/// (never through a link or over a file the base holds) under folders that are
/// real folders. A file the origin does not have is left out.
fn copy_listed(origin_top: &Path, worktree: &Path, relative: &str) -> Result<(), WorktreeError> {
    let refused = |reason: &str| WorktreeError::Copy { path: relative.to_owned(), reason: reason.to_owned() };
    let path = Path::new(relative);
    let plain = !relative.is_empty() && path.components().all(|part| matches!(part, std::path::Component::Normal(name) if name != ".git"));
    if !plain {
        return Err(refused("give a path relative to the repository's top, without `..` or `.git`"));
    }
    let mut folder = worktree.to_owned();
    let mut origin_folder = origin_top.to_owned();
    if let Some(parent) = path.parent() {
        for part in parent.components() {
            folder.push(part);
            origin_folder.push(part);
            match std::fs::symlink_metadata(&origin_folder) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => return Err(refused("a folder on its way in the origin is a link or a file")),
                Err(_) => return Ok(()),
            }
            match std::fs::symlink_metadata(&folder) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => return Err(refused("a folder on its way in the worktree is a link or a file")),
                Err(_) => std::fs::create_dir(&folder).map_err(|err| refused(&err.to_string()))?,
            }
        }
    }
    let source = origin_top.join(path);
    let mut from = match super::files::open_regular(&source) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(refused(&format!("in the origin: {err}"))),
    };
    let mode = from.metadata().map(|meta| std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777).unwrap_or(0o600);
    let target = worktree.join(path);
    let mut to = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .mode(mode)
        .open(&target)
        .map_err(|err| refused(&format!("in the worktree: {err}")))?;
    std::io::copy(&mut from, &mut to).map_err(|err| refused(&err.to_string()))?;
    Ok(())
}

use std::os::unix::fs::OpenOptionsExt;

/// Whether `branch` is one codex-async made for job `id`.
pub fn is_job_branch(branch: &str, id: &str) -> bool {
    let Some(rest) = branch.strip_prefix(BRANCH_PREFIX).and_then(|rest| rest.strip_prefix(id)) else { return false };
    rest.is_empty() || rest.strip_prefix('-').is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()))
}

/// Whether `branch` is a branch codex-async names (`codex-async/` and plain characters).
pub fn is_codex_branch(branch: &str) -> bool {
    branch.strip_prefix(BRANCH_PREFIX).is_some_and(|rest| {
        !rest.is_empty()
            && rest.split('/').all(|part| !part.is_empty() && part != "." && part != ".." && !part.ends_with(".lock"))
            && rest.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"/-_".contains(&byte))
    })
}

/// Removes job `id`'s worktree at `path` and its branch, from the repository that
/// holds `origin`. Only a folder that is a registered worktree of that repository is
/// removed, and only a branch codex-async made for the job is deleted; a worktree
/// already removed by hand is fine. Whether a folder was removed.
pub async fn remove(origin: &Path, path: &Path, branch: &str, id: &str, budget: Budget) -> Result<bool, WorktreeError> {
    let session = Session::open(origin).await.map_err(|err| match err {
        GitError::NotARepository(path) => WorktreeError::NotARepository(path),
        other => WorktreeError::Git(other),
    })?;
    let mut removed = false;
    if let Some(worktree) = Repository::find(path)
        && worktree.top == path
        && worktree.same_repository(session.repository())
        && worktree.is_linked_worktree()
    {
        std::fs::remove_dir_all(path).map_err(|source| WorktreeError::Io { path: path.to_owned(), source })?;
        removed = true;
    }
    session.refs(RefCommand::PruneWorktrees, budget.limits(64 * 1024)).await?;
    if is_job_branch(branch, id) || is_codex_branch(branch) {
        let name = format!("refs/heads/{branch}");
        if resolve(&session, &name, budget).await?.is_some() {
            session.refs(RefCommand::Delete(&name), budget.limits(64 * 1024)).await?;
        }
    }
    Ok(removed)
}
