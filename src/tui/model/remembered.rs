//! What the dashboard remembers across runs: wrap, bell, desktop notices, sort and
//! filters, and the last prompts and folders of the form. A small JSON file beside the
//! config (`$CODEX_ASYNC_HOME/dashboard.json`), replaced atomically; a file that is
//! missing, broken or from another version is ignored key by key, never fatal.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::atomic::{self, Durability};

pub(crate) const FILE_NAME: &str = "dashboard.json";
/// How many prompts and folders the form recalls.
pub(crate) const RECALLED: usize = 50;
/// A longer prompt is not kept for recall (the file stays small).
const MAX_RECALLED_PROMPT: usize = 16 * 1024;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Remembered {
    pub(crate) wrap: bool,
    pub(crate) bell: bool,
    pub(crate) notify: bool,
    /// A [`super::filters::SortKey`] name.
    pub(crate) sort: String,
    /// A [`super::filters::StatusFilter`] name.
    pub(crate) status_filter: String,
    pub(crate) text_filter: String,
    /// Newest first.
    pub(crate) prompts: Vec<String>,
    pub(crate) folders: Vec<String>,
}

impl Remembered {
    /// Puts `entry` first in `list` (once), keeping at most [`RECALLED`].
    pub(crate) fn push(list: &mut Vec<String>, entry: &str) {
        if entry.trim().is_empty() || entry.len() > MAX_RECALLED_PROMPT {
            return;
        }
        list.retain(|known| known != entry);
        list.insert(0, entry.to_owned());
        list.truncate(RECALLED);
    }
}

pub(crate) fn path_in(home: &Path) -> PathBuf {
    home.join(FILE_NAME)
}

/// Reads the file; whatever cannot be read as expected is left at its default.
pub(crate) fn load(path: &Path) -> Remembered {
    let value: Value = match std::fs::read(path).map(|bytes| serde_json::from_slice(&bytes)) {
        Ok(Ok(value)) => value,
        Ok(Err(err)) => {
            tracing::warn!(path = %path.display(), %err, "the dashboard's state file is not JSON; ignored");
            return Remembered::default();
        }
        Err(_) => return Remembered::default(),
    };
    let flag = |key: &str| value.get(key).and_then(Value::as_bool).unwrap_or(false);
    let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
    let list = |key: &str| -> Vec<String> {
        let Some(items) = value.get(key).and_then(Value::as_array) else { return Vec::new() };
        items.iter().filter_map(Value::as_str).take(RECALLED).map(str::to_owned).collect()
    };
    Remembered {
        wrap: flag("wrap"),
        bell: flag("bell"),
        notify: flag("notify"),
        sort: text("sort"),
        status_filter: text("status_filter"),
        text_filter: text("text_filter"),
        prompts: list("prompts"),
        folders: list("folders"),
    }
}

/// Replaces the file whole (a reader sees the old one or the new one).
pub(crate) fn save(path: &Path, remembered: &Remembered) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(remembered).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    atomic::write(path, &bytes, Durability::Quick)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_saved_is_loaded_back() {
        let home = tempfile::tempdir().unwrap();
        let path = path_in(home.path());
        let remembered = Remembered {
            wrap: true,
            bell: true,
            notify: true,
            sort: "status".into(),
            status_filter: "failed".into(),
            text_filter: "cargo".into(),
            prompts: vec!["two\nlines".into()],
            folders: vec!["/tmp".into()],
        };
        save(&path, &remembered).unwrap();
        assert_eq!(load(&path), remembered);
        let names: Vec<_> = std::fs::read_dir(home.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
        assert_eq!(names, [FILE_NAME], "no temporary file left");
    }

    #[test]
    fn a_missing_broken_or_strange_file_is_ignored() {
        let home = tempfile::tempdir().unwrap();
        let path = path_in(home.path());
        assert_eq!(load(&path), Remembered::default());
        std::fs::write(&path, "{ not json").unwrap();
        assert_eq!(load(&path), Remembered::default());
        std::fs::write(&path, r#"{"wrap": "yes", "bell": true, "sort": 7, "prompts": [1, "kept"], "future_key": {}}"#).unwrap();
        let loaded = load(&path);
        assert_eq!((loaded.wrap, loaded.bell, loaded.sort.as_str()), (false, true, ""));
        assert_eq!(loaded.prompts, ["kept"]);
        std::fs::write(&path, "[]").unwrap();
        assert_eq!(load(&path), Remembered::default());
    }

    #[test]
    fn recall_lists_keep_fifty_without_repeats() {
        let mut list = Vec::new();
        for n in 0..60 {
            Remembered::push(&mut list, &format!("prompt {n}"));
        }
        Remembered::push(&mut list, "prompt 55");
        Remembered::push(&mut list, "   ");
        assert_eq!(list.len(), RECALLED);
        assert_eq!(list[0], "prompt 55");
        assert_eq!(list[1], "prompt 59");
        assert_eq!(list.iter().filter(|entry| *entry == "prompt 55").count(), 1);
    }
}
