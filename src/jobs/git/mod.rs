//! The git base of a job — the commit checked out in its folder when it started, so
//! what it changed can be shown later (`D` in the dashboard) — and the one way
//! codex-async runs git.
//!
//! A job's repository is written by the job: its `.git` (configuration, hooks,
//! attributes, and whatever the configuration includes) and its working tree are
//! untrusted. So:
//! - [`head`] reads `.git` itself and starts no process (`files.rs`: no symlink
//!   followed at the last component, no blocking open, regular files only, capped).
//!   It may run where a start is waited for.
//! - every git command goes through a [`Session`]: git is pointed at a private git
//!   directory and never reads the repository's configuration while it looks at
//!   the tree (`session.rs`), each call has a fixed argument list, a cleaned
//!   environment, a deadline and a cap on what it prints (`runner.rs`).
//! - [`dirty`] asks `git status`, asynchronously, once the starter has its answer;
//!   [`tree_diff`] asks what a job changed, for the dashboard.
//! - what git is asked to write is closed too (`commands.rs`): trees, commits,
//!   patches and applies through the private git directory; a few ref commands
//!   (`rev-parse --verify`, `worktree add --no-checkout`, `worktree prune`,
//!   `update-ref`) against the repository's own, whose configuration they read but
//!   which runs no program for them (hooks off; none of them filters, diffs or
//!   checks out a file). `freeze.rs` freezes a folder's change, `worktree.rs` makes
//!   and removes a job's worktree.

mod commands;
mod error;
mod files;
pub mod freeze;
mod object_id;
mod program;
pub mod project;
mod runner;
mod session;
#[cfg(test)]
mod tests;
mod tree_diff;
pub mod worktree;
#[cfg(test)]
mod worktree_tests;

use std::path::Path;
use std::time::Duration;

pub use commands::{ApplyTo, Change, DiffForm, RefCommand, is_revision};
pub use error::GitError;
pub use files::Repository;
pub use object_id::ObjectId;
pub use runner::{Limits, Printed, Query};
pub use session::Session;
pub use tree_diff::{NoTreeDiff, TreeDiff, tree_diff};

use crate::jobs::store::kept::KeptMeta;

/// How long `git status` may take before the tree is left unjudged.
const STATUS_DEADLINE: Duration = Duration::from_secs(10);
/// The most of `git status` read (any byte says the tree is dirty).
const STATUS_BYTES: usize = 1024 * 1024;

/// The commit checked out in the repository that holds `folder`, if it is in one and
/// has a commit.
pub fn head(folder: &Path) -> Option<String> {
    Repository::find(folder)?.head().map(String::from)
}

/// Whether the tree has changes of its own (uncommitted or untracked files); `None`
/// when git cannot say in time.
pub async fn dirty(folder: &Path) -> Option<bool> {
    dirty_in(&Session::open(folder).await.ok()?).await
}

/// As [`dirty`], through a session already open.
pub async fn dirty_in(session: &Session) -> Option<bool> {
    let printed = session.run(Query::Status, Limits { deadline: STATUS_DEADLINE, max_bytes: STATUS_BYTES }).await.ok()?;
    Some(printed.cut || !printed.bytes.is_empty())
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
