//! Isolated jobs and reviewed results: a job may run in its own git worktree of the
//! repository it was asked to work in (the origin), on its own branch; when its agent
//! ends its change is frozen (a commit on its branch, or for a job that ran in place
//! the diff against the commit recorded at its start), stored in its folder with a
//! stat; a person then reads it (`diff`), brings it into the origin (`apply`, all or
//! nothing, one at a time per origin) or throws it away (`discard`).
//!
//! Every git call goes through [`crate::jobs::git`]'s hardened runner. What a job's
//! record says about its worktree (path, branch, base) is the job's to write, so each
//! is checked before it is used: a path must be a registered worktree of the origin's
//! repository, a branch one codex-async names, a base a commit id.

mod apply;
mod discard;
mod engine;
mod freeze;
mod lock;
mod place;
mod review;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use apply::{ApplyOptions, ApplyView};
pub use discard::DiscardView;
pub use freeze::{MAX_PATCH_BYTES, freeze};
pub use place::{Placed, place};
pub use review::{ChangeView, DiffShape, FileChange, patch_files};

/// How long making a worktree may take (a large checkout), and so how long a starter
/// waits for the answer of a job that makes one.
pub const MAKE_DEADLINE: Duration = Duration::from_secs(120);
/// How long freezing a job's change may take.
pub const FREEZE_DEADLINE: Duration = Duration::from_secs(60);

/// Where a job runs, when not in place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Isolation {
    /// A new worktree under `dir` (`<dir>/<id>`), on branch `codex-async/<id>` made
    /// from `base` (the origin's `HEAD` without one); `copy` lists ignored files of the
    /// origin copied in; `commit` says whether what the agent leaves uncommitted is
    /// committed on its branch when it ends.
    New {
        #[serde(default)]
        base: Option<String>,
        dir: PathBuf,
        #[serde(default)]
        copy: Vec<String>,
        #[serde(default = "yes")]
        commit: bool,
    },
    /// The worktree of the job this one follows up: same folder, same branch, its
    /// change measured from the same base.
    Reuse {
        worktree: PathBuf,
        branch: String,
        base_commit: String,
        #[serde(default = "yes")]
        commit: bool,
    },
}

fn yes() -> bool {
    true
}

/// A job's place in a set of attempts at one task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// The set's id (the first attempt's job id); `None` for the first attempt itself.
    #[serde(default)]
    pub group: Option<String>,
    /// 1..N.
    pub number: u32,
}

/// The most attempts of one task.
pub const MAX_ATTEMPTS: u32 = 8;
