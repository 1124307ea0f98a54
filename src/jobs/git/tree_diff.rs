//! What a job changed in its folder, as git tells it: the tree against the commit the
//! job recorded when it started (or against HEAD, when it recorded none), and the files
//! git does not track yet. Shown by the dashboard's `D`.

use std::path::Path;
use std::time::{Duration, Instant};

use super::error::GitError;
use super::object_id::ObjectId;
use super::runner::{Limits, Printed, Query};
use super::session::Session;

/// A tree against its base; each answer capped, all of them within one deadline.
pub struct TreeDiff {
    /// The commit the tree was compared with.
    pub base: ObjectId,
    /// The job recorded no base: `base` is the repository's HEAD.
    pub against_head: bool,
    /// `git diff --stat`.
    pub stat: Result<Printed, GitError>,
    /// The coloured patch.
    pub diff: Result<Printed, GitError>,
    /// The files git does not track and does not ignore, one a line.
    pub untracked: Result<Printed, GitError>,
}

/// Why a folder has no diff to show.
pub enum NoTreeDiff {
    /// The folder is in no git repository.
    NotARepository,
    /// No base was recorded, and the repository has no commit yet.
    NoCommit,
    /// git could not be asked.
    Git(GitError),
}

/// The tree in `folder` against `recorded` (the job's base, a checked commit id), or
/// against HEAD without one; each answer at most `max_bytes`, all within `deadline`.
pub async fn tree_diff(folder: &Path, recorded: Option<ObjectId>, deadline: Duration, max_bytes: usize) -> Result<TreeDiff, NoTreeDiff> {
    let session = match Session::open(folder).await {
        Ok(session) => session,
        Err(GitError::NotARepository(_)) => return Err(NoTreeDiff::NotARepository),
        Err(err) => return Err(NoTreeDiff::Git(err)),
    };
    let (base, against_head) = match (recorded, session.head()) {
        (Some(base), _) => (base, false),
        (None, Some(head)) => (head.clone(), true),
        (None, None) => return Err(NoTreeDiff::NoCommit),
    };
    let until = Instant::now() + deadline;
    let limits = || Limits { deadline: until.saturating_duration_since(Instant::now()), max_bytes };
    let stat = session.run(Query::DiffStat(&base), limits()).await;
    let diff = session.run(Query::Diff(&base), limits()).await;
    let untracked = session.run(Query::Untracked, limits()).await;
    Ok(TreeDiff { base, against_head, stat, diff, untracked })
}
