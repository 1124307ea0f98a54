//! A folder's change, frozen: the tree it holds now taken into git objects, compared
//! with the commit it started from, as a patch that applies anywhere and its stat.
//!
//! A job that ran in place gets its tree snapshotted with a scratch index and scratch
//! objects (nothing is written into the repository); a job in its own worktree gets a
//! commit on its branch for what it left uncommitted.

use std::time::{Duration, Instant};

use super::commands::{Change, DiffForm, RefCommand};
use super::error::GitError;
use super::object_id::ObjectId;
use super::runner::{Limits, Printed};
use super::session::Session;
use crate::jobs::record::change::ChangeStat;

/// The most of what a plumbing command prints (an id, a short list).
const SMALL: usize = 64 * 1024 * 1024;

/// A deadline shared by several calls.
#[derive(Clone, Copy)]
pub struct Budget(Instant);

impl Budget {
    pub fn new(total: Duration) -> Budget {
        Budget(Instant::now() + total)
    }

    pub fn limits(&self, max_bytes: usize) -> Limits {
        Limits { deadline: self.0.saturating_duration_since(Instant::now()), max_bytes }
    }
}

/// The id git printed.
fn printed_id(printed: &Printed, query: &'static str) -> Result<ObjectId, GitError> {
    let text = String::from_utf8_lossy(&printed.bytes);
    ObjectId::parse(text.trim()).ok_or_else(|| GitError::Unexpected { query, printed: text.chars().take(200).collect() })
}

/// The tree in the session's folder now, as a tree id: every file but ignored ones.
/// With `scratch`, objects and index are the session's own (nothing reaches the
/// repository); else the repository's index is brought up to date and objects stored.
pub async fn snapshot_tree(session: &mut Session, scratch: bool, budget: Budget) -> Result<ObjectId, GitError> {
    if scratch {
        session.use_scratch_objects()?;
        session.use_scratch_index(true)?;
    }
    session.change(Change::AddAll, budget.limits(SMALL)).await?;
    let tree = session.change(Change::WriteTree, budget.limits(SMALL)).await?;
    printed_id(&tree, "write-tree")
}

/// Commits `tree` on `parent`; the new commit's id.
pub async fn commit(
    session: &Session,
    tree: &ObjectId,
    parent: Option<&ObjectId>,
    message: &str,
    budget: Budget,
) -> Result<ObjectId, GitError> {
    let printed = session.change(Change::Commit { tree, parent, message }, budget.limits(SMALL)).await?;
    printed_id(&printed, "commit-tree")
}

/// Whether two tree-ishes hold the same files.
pub async fn same_tree(session: &Session, from: &ObjectId, to: &ObjectId, budget: Budget) -> Result<bool, GitError> {
    let names = session.change(Change::Diff { from, to, form: DiffForm::NameOnly }, budget.limits(SMALL)).await?;
    Ok(names.bytes.is_empty())
}

/// The commit `revision` names in the repository (a branch, a tag, an id), or `None`.
pub async fn resolve(session: &Session, revision: &str, budget: Budget) -> Result<Option<ObjectId>, GitError> {
    match session.refs(RefCommand::Resolve(revision), budget.limits(4096)).await {
        Ok(printed) => Ok(ObjectId::parse(String::from_utf8_lossy(&printed.bytes).trim())),
        Err(GitError::Failed { .. }) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The change from `from` to `to`: the patch (or `None` past `max_patch` bytes) and its stat.
pub async fn change_between(
    session: &Session,
    from: &ObjectId,
    to: &ObjectId,
    max_patch: usize,
    budget: Budget,
) -> Result<(Option<Vec<u8>>, ChangeStat), GitError> {
    let numstat = session.change(Change::Diff { from, to, form: DiffForm::NumStat }, budget.limits(SMALL)).await?;
    let mut stat = parse_numstat(&numstat.bytes);
    let patch = session.change(Change::Diff { from, to, form: DiffForm::Patch }, budget.limits(max_patch)).await?;
    if patch.cut {
        stat.patch_dropped = true;
        return Ok((None, stat));
    }
    Ok((Some(patch.bytes), stat))
}

/// `diff --numstat -z`: `added\tdeleted\tpath\0` per file, `-` for a binary file's counts.
pub fn parse_numstat(bytes: &[u8]) -> ChangeStat {
    let mut stat = ChangeStat::default();
    for entry in bytes.split(|&byte| byte == 0).filter(|entry| !entry.is_empty()) {
        let mut fields = entry.splitn(3, |&byte| byte == b'\t');
        let (Some(added), Some(deleted)) = (fields.next(), fields.next()) else { continue };
        stat.files += 1;
        stat.insertions += count(added);
        stat.deletions += count(deleted);
    }
    stat
}

fn count(field: &[u8]) -> u64 {
    std::str::from_utf8(field).ok().and_then(|text| text.parse().ok()).unwrap_or(0)
}
