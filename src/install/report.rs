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
    /// Where the old text was saved (not on a dry run).
    pub backup: Option<PathBuf>,
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
    /// Entries left in place because they were edited since `install` wrote them.
    pub left: Vec<String>,
    /// Tokens to be masked wherever a file's text is shown: the current one and any an
    /// earlier install wrote (the file may still hold one the user rotated since).
    pub secrets: Vec<String>,
    pub dry_run: bool,
    /// Where `~` is, for shorter paths in messages.
    pub user_home: PathBuf,
}

impl Report {
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
