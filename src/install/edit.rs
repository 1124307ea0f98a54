//! What `install` changes in a configuration file, what it remembers having changed, and
//! how both are undone — the same for JSON and TOML, through [`Doc`].
//!
//! Two kinds of change cover every client: one entry set at a path (the server), and
//! strings added to a list (tool permissions). Each applied change is remembered with
//! what it found (containers it had to create, a value it replaced), so `uninstall`
//! takes back exactly that and nothing the user had or wrote since.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A path of object keys (TOML table names) from the top of a file.
pub type KeyPath = Vec<String>;

pub fn key_path(keys: &[&str]) -> KeyPath {
    keys.iter().map(|key| (*key).to_owned()).collect()
}

/// `mcpServers."codex-async"`, for messages.
pub fn show_key_path(path: &[String]) -> String {
    path.iter()
        .map(|key| if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') { key.clone() } else { format!("{key:?}") })
        .collect::<Vec<_>>()
        .join(".")
}

/// A change `install` wants in one file.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// `path` holds exactly `value` (the server's entry).
    Entry { path: KeyPath, value: Value },
    /// The list at `path` holds each of `items` (tool permissions).
    Items { path: KeyPath, items: Vec<String> },
}

impl Edit {
    pub fn path(&self) -> &[String] {
        match self {
            Edit::Entry { path, .. } | Edit::Items { path, .. } => path,
        }
    }
}

/// A change `install` made, as remembered for `uninstall`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Applied {
    Entry {
        path: KeyPath,
        /// What was written.
        value: Value,
        /// How many of the innermost enclosing objects did not exist and were made.
        created: usize,
        /// What was there before (`--force`), put back by `uninstall`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<Value>,
    },
    Items {
        path: KeyPath,
        /// Only the items that were not there before.
        items: Vec<String>,
        /// How many of the innermost containers, the list included, were made.
        created: usize,
    },
}

impl Applied {
    pub fn path(&self) -> &[String] {
        match self {
            Applied::Entry { path, .. } | Applied::Items { path, .. } => path,
        }
    }
}

/// A file's content as a tree that keeps its formatting and comments.
pub trait Doc {
    /// The value at `path` (the whole document for an empty path), as JSON.
    fn get(&self, path: &[String]) -> Option<Value>;
    /// Sets `path` to `value`, making missing enclosing objects; returns how many it made.
    /// Fails, changing nothing, when something that is not an object is in the way.
    fn set(&mut self, path: &[String], value: &Value) -> Result<usize, String>;
    /// Removes the key at `path` (nothing when it is missing).
    fn remove(&mut self, path: &[String]);
    /// Appends `item` to the list at `path`, making it and its missing enclosing objects;
    /// returns how many containers it made.
    fn push_item(&mut self, path: &[String], item: &str) -> Result<usize, String>;
    /// Removes every `item` from the list at `path`.
    fn remove_item(&mut self, path: &[String], item: &str);
    /// The file's text.
    fn render(&self) -> String;
    /// Whether the text holds nothing but an empty document (no keys, no comments).
    fn is_blank(&self) -> bool;
}

/// Why `install` would not change a file.
#[derive(Debug, PartialEq)]
pub enum ApplyError {
    /// An entry is there already that `install` did not write, or that was edited since.
    Conflict {
        path: KeyPath,
        found: Value,
        /// Whether `install` wrote it once (and it was edited since).
        ours_edited: bool,
    },
    /// Something that is not an object (or list) is where one has to go.
    Blocked { path: KeyPath, reason: String },
}

/// What happened to one change on `uninstall`.
#[derive(Debug, PartialEq)]
pub enum Undone {
    Removed(KeyPath),
    /// The previous value (replaced with `--force`) is back.
    Restored(KeyPath),
    ItemsRemoved(KeyPath, Vec<String>),
    /// Gone already.
    Missing(KeyPath),
    /// Changed since `install` wrote it: left alone (no `--force`).
    Edited(Applied),
}

/// Applies `edits` to `doc`. `owned` is what an earlier `install` remembered for this
/// file: an entry it wrote and nobody changed may be replaced, as may its list items; what
/// it remembered and is no longer wanted is undone. Returns what to remember now.
pub fn apply(doc: &mut dyn Doc, edits: &[Edit], owned: &[Applied], force: bool) -> Result<Vec<Applied>, ApplyError> {
    // Check every entry before changing anything, so a conflict leaves the file as it was.
    for edit in edits {
        if let Edit::Entry { path, value } = edit
            && let Some(found) = doc.get(path)
            && found != *value
            && !force
        {
            let earlier = owned.iter().find(|applied| applied.path() == path.as_slice());
            match earlier {
                Some(Applied::Entry { value: written, .. }) if *written == found => {}
                _ => return Err(ApplyError::Conflict { path: path.clone(), found, ours_edited: earlier.is_some() }),
            }
        }
    }
    // What is remembered but no longer wanted goes first (`--approve` left out this time).
    for earlier in owned.iter().rev() {
        let wanted = edits.iter().find(|edit| edit.path() == earlier.path());
        match (earlier, wanted) {
            (Applied::Items { path, items, created }, Some(Edit::Items { items: wanted, .. })) => {
                let dropped: Vec<String> = items.iter().filter(|item| !wanted.contains(item)).cloned().collect();
                if !dropped.is_empty() {
                    undo(doc, &Applied::Items { path: path.clone(), items: dropped, created: *created }, false);
                }
            }
            (_, Some(_)) => {}
            (earlier, None) => {
                undo(doc, earlier, false);
            }
        }
    }
    let mut applied = Vec::new();
    for edit in edits {
        let earlier = owned.iter().find(|applied| applied.path() == edit.path());
        match edit {
            Edit::Entry { path, value } => {
                let found = doc.get(path);
                let (created, previous) = match (earlier, &found) {
                    (Some(Applied::Entry { value: written, created, previous, .. }), Some(found)) if written == found => {
                        (*created, previous.clone())
                    }
                    (_, Some(found)) if found == value => (0, Some(found.clone())),
                    (_, found) => (0, found.clone()),
                };
                if found.as_ref() != Some(value) {
                    let made = doc.set(path, value).map_err(|reason| ApplyError::Blocked { path: path.clone(), reason })?;
                    applied.push(Applied::Entry { path: path.clone(), value: value.clone(), created: created.max(made), previous });
                } else {
                    applied.push(Applied::Entry { path: path.clone(), value: value.clone(), created, previous });
                }
            }
            Edit::Items { path, items } => {
                let (mut ours, mut created) = match earlier {
                    Some(Applied::Items { items, created, .. }) => (items.clone(), *created),
                    _ => (Vec::new(), 0),
                };
                ours.retain(|item| items.contains(item));
                let present = |doc: &dyn Doc, item: &str| {
                    doc.get(path).and_then(|list| list.as_array().map(|list| list.iter().any(|have| have.as_str() == Some(item))))
                };
                for item in items {
                    if present(doc, item) != Some(true) {
                        let made = doc.push_item(path, item).map_err(|reason| ApplyError::Blocked { path: path.clone(), reason })?;
                        created = created.max(made);
                        if !ours.contains(item) {
                            ours.push(item.clone());
                        }
                    }
                }
                if !ours.is_empty() || created > 0 {
                    applied.push(Applied::Items { path: path.clone(), items: ours, created });
                }
            }
        }
    }
    Ok(applied)
}

/// Takes back one remembered change. With `force`, an entry edited since is removed too.
pub fn undo(doc: &mut dyn Doc, applied: &Applied, force: bool) -> Undone {
    match applied {
        Applied::Entry { path, value, created, previous } => {
            let Some(found) = doc.get(path) else { return Undone::Missing(path.clone()) };
            if found != *value && !force {
                return Undone::Edited(applied.clone());
            }
            match previous {
                Some(previous) => {
                    // `set` only fails for a non-object in the way, and the entry is there.
                    if doc.set(path, previous).is_ok() {
                        return Undone::Restored(path.clone());
                    }
                    doc.remove(path);
                }
                None => doc.remove(path),
            }
            prune(doc, &path[..path.len().saturating_sub(1)], *created);
            Undone::Removed(path.clone())
        }
        Applied::Items { path, items, created } => {
            let mut removed = Vec::new();
            for item in items {
                let present = doc
                    .get(path)
                    .and_then(|list| list.as_array().map(|list| list.iter().any(|have| have.as_str() == Some(item))))
                    .unwrap_or(false);
                if present {
                    doc.remove_item(path, item);
                    removed.push(item.clone());
                }
            }
            prune(doc, path, *created);
            Undone::ItemsRemoved(path.clone(), removed)
        }
    }
}

/// Removes the `created` innermost containers of `path` (the last one first) while empty.
fn prune(doc: &mut dyn Doc, path: &[String], created: usize) {
    for depth in 0..created.min(path.len()) {
        let container = &path[..path.len() - depth];
        let empty = match doc.get(container) {
            Some(Value::Object(map)) => map.is_empty(),
            Some(Value::Array(list)) => list.is_empty(),
            _ => false,
        };
        if !empty {
            return;
        }
        doc.remove(container);
    }
}
