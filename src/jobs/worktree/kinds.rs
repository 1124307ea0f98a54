//! What a start asks of a worktree, and the limits every worktree step keeps.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

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
