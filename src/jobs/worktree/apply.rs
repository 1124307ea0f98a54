//! `apply`: a job's frozen change brought into its origin's working tree, all or
//! nothing (`git apply` changes no file unless every part applies), one apply at a
//! time per repository; with `commit`, also committed on the origin's current branch
//! (a commit of only the job's change, made from a scratch index; the branch moves
//! only if nobody moved it meanwhile).
//!
//! The patch is the job's to write, so it is untrusted: git refuses any path that
//! leaves the working tree, enters `.git` or passes through a symbolic link.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::freeze::MAX_PATCH_BYTES;
use super::freeze::commit_message;
use super::kinds::FREEZE_DEADLINE;
use super::lock::apply_lock;
use super::review::{patch_files, read_patch};
use crate::jobs::error::{JobError, Result};
use crate::jobs::git::freeze::{Budget, commit};
use crate::jobs::git::{ApplyTo, Change, GitError, ObjectId, RefCommand, Repository, Session};
use crate::jobs::record::id::JobId;
use crate::jobs::record::meta::JobMeta;
use crate::jobs::store::JobStore;

/// How an apply is asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Commit the change on the origin's current branch, with the prompt as message.
    pub commit: bool,
    /// Discard the other attempts of the job's set once it is applied.
    pub discard_others: bool,
}

/// What an apply did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ApplyView {
    pub job_id: String,
    /// Whether the change is now in the origin's working tree.
    pub applied: bool,
    /// The origin's folder.
    pub origin: String,
    /// The files changed (when applied).
    pub files: Vec<String>,
    /// The files that did not apply (nothing was changed then).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// What git said when it refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The commit made on the origin's branch (with `commit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Other attempts discarded (with `discard_others`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discarded: Vec<String>,
}

/// Applies job `id`'s frozen change (its record is `meta`) to its origin.
pub async fn apply(store: &JobStore, id: &JobId, meta: &JobMeta, options: ApplyOptions) -> Result<ApplyView> {
    if !meta.status.is_finished() {
        return Err(JobError::StillRunning { id: id.to_string(), status: meta.status.to_string() });
    }
    let stat = meta.details.change.as_ref().ok_or_else(|| {
        JobError::BadRequest(format!("job {id} has no frozen change: it ran outside a git repository, or its change was never recorded"))
    })?;
    if stat.patch_dropped {
        return Err(JobError::BadRequest(format!(
            "job {id}'s patch was larger than {} MiB and was not kept: merge its branch by hand{}",
            MAX_PATCH_BYTES / (1024 * 1024),
            meta.details.branch.as_ref().map(|branch| format!(" ({branch})")).unwrap_or_default()
        )));
    }
    let patch = read_patch(store, id)?;
    let files: Vec<String> = patch_files(&patch).into_iter().map(|file| file.path).collect();
    if files.is_empty() {
        return Err(JobError::BadRequest(format!("job {id} changed nothing: there is nothing to apply")));
    }
    let origin = Path::new(&meta.cwd);
    let repository =
        Repository::find(origin).ok_or_else(|| JobError::BadRequest(format!("{} is not in a git repository any more", meta.cwd)))?;
    let _lock = apply_lock(store, &repository.common_dir).await?;
    let git = |err: GitError| JobError::BadRequest(format!("applying job {id}'s change to {}: {err}", meta.cwd));
    let session = Session::open(origin).await.map_err(git)?;
    let patch_path = session.private_path("job.patch");
    std::fs::write(&patch_path, &patch).map_err(|err| JobError::io("writing", &patch_path, err))?;
    let budget = Budget::new(FREEZE_DEADLINE);
    let limits = || budget.limits(1024 * 1024);
    let mut view = ApplyView { job_id: id.to_string(), origin: meta.cwd.clone(), ..ApplyView::default() };
    let check = if options.commit { ApplyTo::CheckIndex } else { ApplyTo::CheckTree };
    if let Err(err) = session.change(Change::Apply { patch: &patch_path, to: check, reverse: false }, limits()).await {
        return refused(view, err).map_err(git);
    }
    if options.commit {
        let head = session.head().cloned().ok_or_else(|| JobError::BadRequest(format!("{} has no commit to commit on", meta.cwd)))?;
        let made = commit_change(origin, &patch_path, &head, &commit_message(&meta.prompt, id), budget).await.map_err(git)?;
        if let Err(err) = session.change(Change::Apply { patch: &patch_path, to: ApplyTo::Index, reverse: false }, limits()).await {
            return refused(view, err).map_err(git);
        }
        let (name, deref) = match repository.head_ref() {
            Some(branch) => (branch, true),
            None => ("HEAD".to_owned(), false),
        };
        if let Err(err) = session.refs(RefCommand::Update { name: &name, new: &made, old: &head, deref }, limits()).await {
            // The branch moved meanwhile: the files go back as they were.
            let _ = session.change(Change::Apply { patch: &patch_path, to: ApplyTo::Index, reverse: true }, limits()).await;
            return Err(git(err));
        }
        view.commit = Some(made.to_string());
    } else if let Err(err) = session.change(Change::Apply { patch: &patch_path, to: ApplyTo::Tree, reverse: false }, limits()).await {
        return refused(view, err).map_err(git);
    }
    view.applied = true;
    view.files = files;
    Ok(view)
}

/// A commit of the origin's `head` plus the patch, built in a scratch index.
async fn commit_change(
    origin: &Path,
    patch: &Path,
    head: &ObjectId,
    message: &str,
    budget: Budget,
) -> std::result::Result<ObjectId, GitError> {
    let mut scratch = Session::open(origin).await?;
    scratch.use_scratch_index(false)?;
    let limits = || budget.limits(1024 * 1024);
    scratch.change(Change::ReadTree(head), limits()).await?;
    scratch.change(Change::Apply { patch, to: ApplyTo::Cached, reverse: false }, limits()).await?;
    let tree = scratch.change(Change::WriteTree, limits()).await?;
    let tree = ObjectId::parse(String::from_utf8_lossy(&tree.bytes).trim())
        .ok_or_else(|| GitError::Unexpected { query: "write-tree", printed: String::from_utf8_lossy(&tree.bytes).into_owned() })?;
    commit(&scratch, &tree, Some(head), message, budget).await
}

/// git refused the patch: the view names the files it named, nothing changed.
fn refused(mut view: ApplyView, err: GitError) -> std::result::Result<ApplyView, GitError> {
    let GitError::Failed { said, .. } = &err else { return Err(err) };
    view.conflicts = conflicting_files(said);
    view.reason = Some(said.lines().filter(|line| line.starts_with("error:")).collect::<Vec<_>>().join("\n"));
    Ok(view)
}

/// The files `git apply` named as not applying.
pub fn conflicting_files(said: &str) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for line in said.lines() {
        let Some(rest) = line.strip_prefix("error: ") else { continue };
        let path = if let Some(failed) = rest.strip_prefix("patch failed: ") {
            failed.rsplit_once(':').map_or(failed, |(path, _)| path)
        } else if let Some((path, _)) = rest.split_once(": ") {
            path
        } else {
            continue;
        };
        if !path.is_empty() && !files.iter().any(|known| known == path) {
            files.push(path.to_owned());
        }
    }
    files
}
