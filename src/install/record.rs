//! `$CODEX_ASYNC_HOME/installs.json`: what `install` changed in which file, so that
//! `uninstall` takes back exactly that — the entry it wrote (if nobody edited it), the
//! list items it added (not the ones that were there), the objects, file and folders it
//! had to make. Mode 0600: an HTTP entry holds the token.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::client::{Client, Scope};
use super::edit::{Applied, Doc};
use super::restore::Restore;
use crate::atomic::{self, Durability};
use crate::jobs::JobStore;

pub const RECORD_FILE: &str = "installs.json";
const VERSION: u32 = 1;

/// What a file was before the first `install` touched it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Before {
    /// It did not exist; these folders were made for it (outermost first).
    Absent { created_dirs: Vec<PathBuf> },
    /// It held only this whitespace.
    Blank { text: String },
    /// It had content; whether it ended with a newline.
    Content { trailing_newline: bool },
}

impl Before {
    pub fn of(text: Option<&str>) -> Before {
        match text {
            None => Before::Absent { created_dirs: Vec::new() },
            Some(text) if text.trim().is_empty() => Before::Blank { text: text.to_owned() },
            Some(text) => Before::Content { trailing_newline: text.ends_with('\n') },
        }
    }
}

/// The text a file ends with: `None` when `install` made it and nothing else is left.
pub fn finish(doc: &dyn Doc, before: &Before, nothing_left: bool) -> Option<String> {
    let text = doc.render();
    if !nothing_left {
        return Some(text);
    }
    match before {
        Before::Absent { .. } if doc.is_blank() => None,
        Before::Blank { text } if doc.is_blank() => Some(text.clone()),
        Before::Content { trailing_newline: false } => {
            Some(text.strip_suffix('\n').map(|text| text.strip_suffix('\r').unwrap_or(text)).unwrap_or(&text).to_owned())
        }
        _ => Some(text),
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub client: Client,
    pub scope: Scope,
    pub path: PathBuf,
    pub before: Before,
    pub applied: Vec<Applied>,
    /// The exact text before install, while the file is as install left it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<Restore>,
    /// The mode the file had before install made it private to write the token into it;
    /// given back once the file holds no token any more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_mode: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Records {
    #[serde(default)]
    pub version: u32,
    #[serde(default)]
    pub files: Vec<FileRecord>,
}

pub fn path(home: &Path) -> PathBuf {
    home.join(RECORD_FILE)
}

impl Records {
    /// The home's records; none when the file is missing. A damaged file is an error
    /// (nothing is changed without knowing what an earlier install did).
    pub fn load(home: &Path) -> Result<Records, String> {
        let path = path(home);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|err| {
                format!("{} is damaged ({err}); move it aside to go on (uninstall then only removes what matches exactly)", path.display())
            }),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Records { version: VERSION, files: Vec::new() }),
            Err(err) => Err(format!("reading {}: {err}", path.display())),
        }
    }

    /// Writes the records (0600), or removes the file when none are left.
    pub fn save(&self, home: &Path) -> io::Result<()> {
        let path = path(home);
        if self.files.is_empty() {
            return match std::fs::remove_file(&path) {
                Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
                _ => Ok(()),
            };
        }
        JobStore::ensure_dir(home).map_err(io::Error::other)?;
        let mut text = serde_json::to_string_pretty(&Records { version: VERSION, files: self.files.clone() }).map_err(io::Error::other)?;
        text.push('\n');
        atomic::write(&path, text.as_bytes(), Durability::Durable)
    }

    pub fn find(&self, path: &Path) -> Option<&FileRecord> {
        self.files.iter().find(|record| record.path == path)
    }

    /// The files an install for `client` and `scope` changed.
    pub fn of(&self, client: Client, scope: Scope) -> Vec<FileRecord> {
        self.files.iter().filter(|record| record.client == client && record.scope == scope).cloned().collect()
    }

    /// Keeps `record` in place of the one for its file; drops it when nothing is left to undo.
    pub fn put(&mut self, record: FileRecord) {
        let position = self.files.iter().position(|old| old.path == record.path);
        match (position, record.applied.is_empty()) {
            (Some(at), true) => {
                self.files.remove(at);
            }
            (Some(at), false) => self.files[at] = record,
            (None, true) => {}
            (None, false) => self.files.push(record),
        }
    }
}
