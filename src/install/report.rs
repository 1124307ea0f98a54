//! What `install` or `uninstall` did to each file, for the user to read.

use std::path::{Path, PathBuf};

use super::client::show_path;
use super::files;
use super::secrets::mask;

/// One file's change.
#[derive(Clone, Debug)]
pub struct FileReport {
    pub path: PathBuf,
    /// Its text before and after (`None`: no file).
    pub before: Option<String>,
    pub after: Option<String>,
    /// What became of the backup beside it (nothing on a dry run).
    pub backup: Backup,
}

/// The backup beside a changed file: it holds what was there before the first install.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backup {
    /// No backup: the file is new, or unchanged.
    None,
    /// The old text was saved now, here.
    Saved(PathBuf),
    /// The backup of the text before the first install stays, here.
    Kept(PathBuf),
    /// Uninstall took back everything: the backup here was removed.
    Removed(PathBuf),
}

impl FileReport {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

/// What `install` or `uninstall` did (or, on a dry run, would do), for the user.
#[derive(Clone, Debug)]
pub struct Report {
    /// "Codex, user scope, over stdio".
    pub title: String,
    pub files: Vec<FileReport>,
    pub notes: Vec<String>,
    /// Entries left in place because they were edited since `install` wrote them: the
    /// file, and what is said of it.
    pub left: Vec<(PathBuf, String)>,
    /// What else is to be said of a file (`… was removed already`), in place of "nothing
    /// to remove": one account per file.
    pub remarks: Vec<(PathBuf, String)>,
    /// Tokens to be masked wherever a file's text is shown: the current one and any an
    /// earlier install wrote (the file may still hold one the user rotated since).
    pub secrets: Vec<String>,
    pub dry_run: bool,
    /// Where `~` is, for shorter paths in messages.
    pub user_home: PathBuf,
}

impl Report {
    /// What is said of `path` beyond its change: what was left in it, then the remarks.
    pub fn said_of(&self, path: &Path) -> Vec<&str> {
        self.left.iter().chain(&self.remarks).filter(|(about, _)| about == path).map(|(_, said)| said.as_str()).collect()
    }

    pub fn show(&self, path: &Path) -> String {
        show_path(path, &self.user_home)
    }

    /// A unified diff of one file's change, the tokens masked.
    pub fn diff(&self, file: &FileReport) -> String {
        let before = file.before.as_deref().map(|text| mask(text, &self.secrets));
        let after = file.after.as_deref().map(|text| mask(text, &self.secrets));
        files::diff(&file.path, before.as_deref(), after.as_deref())
    }
}
