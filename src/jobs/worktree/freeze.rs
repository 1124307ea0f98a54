//! A job's change, frozen by its supervisor as its agent ends (whatever its status):
//! for a worktree job a commit on its branch of what the agent left uncommitted (its
//! own commits kept), for a job that ran in place a snapshot of its tree taken with
//! scratch objects (nothing written into the repository); then the patch from the
//! job's base, kept as `change.patch` in its folder, and its stat in its record.

use std::path::Path;

use super::kinds::FREEZE_DEADLINE;
use super::place::Placed;
use crate::atomic::{self, Durability};
use crate::jobs::git::freeze::{Budget, change_between, commit, same_tree, snapshot_tree};
use crate::jobs::git::{GitError, ObjectId, RefCommand, Session};
use crate::jobs::record::change::{CHANGE_FILE, ChangeStat};
use crate::jobs::record::id::JobId;
use crate::jobs::store::JobStore;
use crate::jobs::store::kept::KeptMeta;

/// A patch larger than this is not kept: the stat says so.
pub const MAX_PATCH_BYTES: usize = 50 * 1024 * 1024;
/// The longest first line of a prompt used as a commit's subject.
const SUBJECT_CHARS: usize = 120;

/// Freezes job `id`'s change and records it. `placed` is its worktree, if it ran in
/// one; `cwd` the folder it ran in otherwise. What is returned is a reason for the
/// job to end `error`: its worktree was removed while it ran.
pub async fn freeze(store: &JobStore, id: &JobId, record: &KeptMeta, placed: Option<&Placed>, cwd: &Path) -> Option<String> {
    let budget = Budget::new(FREEZE_DEADLINE);
    let (frozen, failure) = match placed {
        Some(placed) if !placed.worktree.join(".git").exists() => {
            let reason = format!("the job's worktree {} was removed while it ran", placed.worktree.display());
            (Err(reason.clone()), Some(reason))
        }
        Some(placed) => (freeze_worktree(record, id, placed, budget).await.map_err(|err| err.to_string()), None),
        None => {
            let base = record.read(|meta| meta.git_head.as_deref().and_then(ObjectId::parse))?;
            (freeze_in_place(cwd, &base, budget).await.map_err(|err| err.to_string()), None)
        }
    };
    let stat = match frozen {
        Ok((patch, stat)) => keep_patch(store, id, patch.as_deref(), stat),
        Err(problem) => {
            tracing::warn!(job = %id, %problem, "could not freeze the job's change");
            ChangeStat { problem: Some(problem), ..ChangeStat::default() }
        }
    };
    if let Err(err) = record.update(|meta| meta.details.change = Some(stat)) {
        tracing::warn!(job = %id, %err, "could not record the job's change");
    }
    failure
}

/// Stores the patch; a patch that cannot be written leaves the stat alone, saying so.
fn keep_patch(store: &JobStore, id: &JobId, patch: Option<&[u8]>, mut stat: ChangeStat) -> ChangeStat {
    if let Some(patch) = patch
        && let Err(err) = atomic::write(&store.job_dir(id).join(CHANGE_FILE), patch, Durability::Quick)
    {
        stat.patch_dropped = true;
        stat.problem = Some(format!("the patch could not be written: {err}"));
    }
    stat
}

/// The tree as the agent left it in place, against the commit recorded at its start.
async fn freeze_in_place(cwd: &Path, base: &ObjectId, budget: Budget) -> Result<(Option<Vec<u8>>, ChangeStat), GitError> {
    let mut session = Session::open(cwd).await?;
    let tree = snapshot_tree(&mut session, true, budget).await?;
    change_between(&session, base, &tree, MAX_PATCH_BYTES, budget).await
}

/// The worktree's branch with what was left uncommitted committed on top (unless the
/// job asked to keep the worktree as the agent left it), against the job's base.
async fn freeze_worktree(
    record: &KeptMeta,
    id: &JobId,
    placed: &Placed,
    budget: Budget,
) -> Result<(Option<Vec<u8>>, ChangeStat), GitError> {
    let mut session = Session::open(&placed.worktree).await?;
    let tip = session.head().cloned().ok_or_else(|| GitError::Unexpected { query: "HEAD", printed: "no commit".into() })?;
    if !placed.commit {
        let tree = snapshot_tree(&mut session, true, budget).await?;
        return change_between(&session, &placed.base_commit, &tree, MAX_PATCH_BYTES, budget).await;
    }
    let tree = snapshot_tree(&mut session, false, budget).await?;
    let last = if same_tree(&session, &tip, &tree, budget).await? {
        tip
    } else {
        let message = commit_message(&record.read(|meta| meta.prompt.clone()), id);
        let new = commit(&session, &tree, Some(&tip), &message, budget).await?;
        let name = format!("refs/heads/{}", placed.branch);
        session.refs(RefCommand::Update { name: &name, new: &new, old: &tip, deref: true }, budget.limits(64 * 1024)).await?;
        new
    };
    change_between(&session, &placed.base_commit, &last, MAX_PATCH_BYTES, budget).await
}

/// The prompt's first line (cut), then a line naming the job.
pub fn commit_message(prompt: &str, id: &JobId) -> String {
    let first = prompt.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or("");
    let mut subject: String = first.chars().take(SUBJECT_CHARS).collect();
    if first.chars().count() > SUBJECT_CHARS {
        subject.push('…');
    }
    if subject.is_empty() {
        subject = format!("codex-async job {id}");
    }
    format!("{subject}\n\ncodex-async job {id}\n")
}
