//! What a job changed, as its record keeps it: the stat of the change frozen when its
//! agent ended (the patch itself is a file of the job's folder).

use serde::{Deserialize, Serialize};

/// The job folder's file that holds the frozen patch.
pub const CHANGE_FILE: &str = "change.patch";

/// The size of a frozen change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeStat {
    /// Files added, changed or removed.
    pub files: u64,
    /// Lines added (binary files count none).
    pub insertions: u64,
    /// Lines removed.
    pub deletions: u64,
    /// The patch was larger than the cap: only this stat was kept, no `change.patch`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub patch_dropped: bool,
    /// Why the change could not be frozen whole, when it could not (git failed, the
    /// worktree was gone): the stat is then what is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl ChangeStat {
    /// `3 files, +10 −2`, as people read it.
    pub fn summary(&self) -> String {
        let files = if self.files == 1 { "1 file".to_owned() } else { format!("{} files", self.files) };
        format!("{files}, +{} −{}", self.insertions, self.deletions)
    }
}
