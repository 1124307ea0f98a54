//! The worktree settings of config.toml: whether jobs run in a worktree by default,
//! where worktrees live, what is copied into them, whether a job's leftovers are
//! committed when it ends.

use std::path::{Path, PathBuf};

use super::file::{ConfigError, FileConfig};
use crate::jobs::Isolation;

/// The folder under `$CODEX_ASYNC_HOME` that holds worktrees by default.
pub const WORKTREES_DIR: &str = "worktrees";

#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorktreeSettings {
    /// `isolation = "worktree"`: every job gets a worktree unless it says otherwise.
    pub by_default: bool,
    /// `worktree_dir`, when set.
    pub dir: Option<PathBuf>,
    pub copy: Vec<String>,
    /// `worktree_commit` (default true).
    pub commit: bool,
}

impl WorktreeSettings {
    pub fn from_file(file: &FileConfig, path: &Path) -> Result<WorktreeSettings, ConfigError> {
        let place = |key: &str| format!("{} ({key})", path.display());
        let by_default = match file.isolation.as_deref() {
            None | Some("none") => false,
            Some("worktree") => true,
            Some(other) => {
                return Err(ConfigError { place: place("isolation"), message: format!("{other:?}: give \"none\" or \"worktree\"") });
            }
        };
        if let Some(dir) = &file.worktree_dir
            && !dir.is_absolute()
        {
            return Err(ConfigError { place: place("worktree_dir"), message: "give an absolute path".to_owned() });
        }
        Ok(WorktreeSettings {
            by_default,
            dir: file.worktree_dir.clone(),
            copy: file.worktree_copy.clone().unwrap_or_default(),
            commit: file.worktree_commit.unwrap_or(true),
        })
    }

    /// The isolation a new job gets: `asked` (a flag or an argument) over the default.
    pub fn isolation(&self, home: &Path, asked: Option<bool>, base: Option<String>) -> Option<Isolation> {
        if !asked.unwrap_or(self.by_default) {
            return None;
        }
        Some(Isolation::New {
            base,
            dir: self.dir.clone().unwrap_or_else(|| home.join(WORKTREES_DIR)),
            copy: self.copy.clone(),
            commit: self.commit,
        })
    }
}
