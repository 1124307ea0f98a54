//! Reading `.git` without git: where a repository is, and the commit checked out.
//!
//! Everything here is written by whoever can write the job's folder. A FIFO as
//! `.git/HEAD` would block a plain `open` for ever, a symlink to `/dev/zero` would be
//! read without end: each file is opened without following a symlink at its last
//! component and without blocking, only a regular file is read, and only up to a
//! cap. A `gitdir:` or `commondir` naming another folder is followed as a path to a
//! folder — nothing in it is ever run.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::libc;

use super::object_id::ObjectId;

/// How many symbolic refs are followed before giving up (a loop).
const MAX_REF_DEPTH: usize = 5;
/// The largest `.git` file, `HEAD`, loose ref or `commondir` read: a path and a line.
const MAX_SMALL_FILE: u64 = 16 * 1024;
/// The most of `packed-refs` searched (read as a stream, a line at a time).
const MAX_PACKED_REFS: u64 = 64 * 1024 * 1024;
/// The largest `info/exclude` handed on to git.
const MAX_EXCLUDE_FILE: u64 = 1024 * 1024;
/// The longest ref name followed.
const MAX_REF_NAME: usize = 1024;

/// A repository that holds a folder, as its `.git` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repository {
    /// The top of the working tree: the folder that holds `.git`.
    pub top: PathBuf,
    /// The git directory of this working tree (`HEAD`, `index`).
    pub git_dir: PathBuf,
    /// The directory shared by all working trees (objects, refs, `info/`): the git
    /// directory itself unless it names another one in `commondir`.
    pub common_dir: PathBuf,
}

impl Repository {
    /// The repository that holds `folder` (the folder itself or the nearest one above
    /// it with a `.git`), if any. `.git` is a folder, or a file naming one (`gitdir:
    /// …`, as linked worktrees and submodules have).
    pub fn find(folder: &Path) -> Option<Repository> {
        // Absolute, as git is handed these paths while running in another folder.
        let (top, git_dir) = find_git_dir(&std::path::absolute(folder).ok()?)?;
        let common_dir = match read_small(&git_dir.join("commondir")) {
            Some(named) => existing_folder(git_dir.join(named.trim()))?,
            None => git_dir.clone(),
        };
        Some(Repository { top, git_dir, common_dir })
    }

    /// The commit checked out, if there is one (not in a repository without commits).
    pub fn head(&self) -> Option<ObjectId> {
        let mut content = read_small(&self.git_dir.join("HEAD"))?;
        for _ in 0..MAX_REF_DEPTH {
            let line = content.trim();
            let Some(name) = line.strip_prefix("ref:") else { return ObjectId::parse(line) };
            let name = name.trim();
            if !is_ref_name(name) {
                return None;
            }
            content = read_small(&self.git_dir.join(name))
                .or_else(|| read_small(&self.common_dir.join(name)))
                .or_else(|| packed_ref(&self.common_dir, name))?;
        }
        None
    }

    /// Whether `other` shares this repository's objects and refs (the same shared git
    /// directory, however each path spells it: `commondir` is often `../..`).
    pub fn same_repository(&self, other: &Repository) -> bool {
        match (std::fs::canonicalize(&self.common_dir), std::fs::canonicalize(&other.common_dir)) {
            (Ok(mine), Ok(theirs)) => mine == theirs,
            _ => false,
        }
    }

    /// Whether this is a linked worktree (its git directory is not the shared one).
    pub fn is_linked_worktree(&self) -> bool {
        match (std::fs::canonicalize(&self.git_dir), std::fs::canonicalize(&self.common_dir)) {
            (Ok(git_dir), Ok(common_dir)) => git_dir != common_dir,
            _ => false,
        }
    }

    /// The branch checked out (`refs/heads/…`), when `HEAD` names one.
    pub fn head_ref(&self) -> Option<String> {
        let content = read_small(&self.git_dir.join("HEAD"))?;
        let name = content.trim().strip_prefix("ref:")?.trim();
        is_ref_name(name).then(|| name.to_owned())
    }

    /// Whether its refs are kept in a reftable (binary files git alone reads), not as
    /// files: then `HEAD` and branches are asked of git.
    pub fn uses_reftable(&self) -> bool {
        std::fs::symlink_metadata(self.common_dir.join("reftable")).is_ok()
    }

    /// Whether the ref `name` (`refs/heads/…`) exists, read from the files, no process
    /// started: `None` when the files cannot say (refs kept in a reftable, a
    /// `packed-refs` that cannot be read whole). A folder in the ref's place (branches
    /// below the name) counts as taken: git could not make the ref either.
    pub fn has_ref(&self, name: &str) -> Option<bool> {
        if !is_ref_name(name) || self.uses_reftable() {
            return None;
        }
        if std::fs::symlink_metadata(self.common_dir.join(name)).is_ok() {
            return Some(true);
        }
        let file = match open_regular(&self.common_dir.join("packed-refs")) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Some(false),
            Err(_) => return None,
        };
        let mut bytes = Vec::new();
        file.take(MAX_PACKED_REFS + 1).read_to_end(&mut bytes).ok()?;
        if bytes.len() as u64 > MAX_PACKED_REFS {
            return None;
        }
        let listed = bytes.split(|&byte| byte == b'\n').any(|line| {
            !line.starts_with(b"#")
                && !line.starts_with(b"^")
                && line.iter().position(|&byte| byte == b' ').is_some_and(|space| line[space + 1..].trim_ascii_end() == name.as_bytes())
        });
        Some(listed)
    }

    /// The repository's own ignore patterns (`info/exclude`), when they can be read
    /// safely: git is not pointed at the repository's git directory, so they are
    /// handed on. Patterns are data; git runs nothing for them.
    pub fn exclude_patterns(&self) -> Option<Vec<u8>> {
        read_capped(&self.common_dir.join("info").join("exclude"), MAX_EXCLUDE_FILE)
    }
}

/// `.git` in `folder` or the nearest folder above it; returns that folder (the top of
/// the working tree) and the git directory.
fn find_git_dir(folder: &Path) -> Option<(PathBuf, PathBuf)> {
    let mut at = Some(folder);
    while let Some(folder) = at {
        let dot_git = folder.join(".git");
        match std::fs::metadata(&dot_git) {
            Ok(meta) if meta.is_dir() => return Some((folder.to_owned(), dot_git)),
            Ok(meta) if meta.is_file() => {
                let content = read_small(&dot_git)?;
                let target = content.trim().strip_prefix("gitdir:")?.trim();
                return Some((folder.to_owned(), existing_folder(folder.join(target))?));
            }
            _ => at = folder.parent(),
        }
    }
    None
}

/// `path` when it is a folder itself, not a symlink to one: where `gitdir:` and
/// `commondir` lead is taken as a path, never through a link at its end.
fn existing_folder(path: PathBuf) -> Option<PathBuf> {
    std::fs::symlink_metadata(&path).ok()?.is_dir().then_some(path)
}

/// The id `name` has in `packed-refs`, read a line at a time (it can be large).
fn packed_ref(common_dir: &Path, name: &str) -> Option<String> {
    let file = open_regular(&common_dir.join("packed-refs")).ok()?;
    let reader = BufReader::new(file.take(MAX_PACKED_REFS));
    for line in reader.split(b'\n') {
        let line = line.ok()?;
        if line.starts_with(b"#") || line.starts_with(b"^") {
            continue;
        }
        let Ok(line) = std::str::from_utf8(&line) else { continue };
        if let Some((id, ref_name)) = line.split_once(' ')
            && ref_name.trim_end() == name
        {
            return Some(id.to_owned());
        }
    }
    None
}

/// A ref name as git writes them under `refs/`: no step out of the folder, no empty
/// part, nothing git itself refuses in a ref.
fn is_ref_name(name: &str) -> bool {
    name.len() <= MAX_REF_NAME
        && name.starts_with("refs/")
        && name.split('/').all(|part| !part.is_empty() && part != "." && part != ".." && !part.ends_with(".lock"))
        && !name.bytes().any(|byte| byte < 0x20 || byte == 0x7f || b" ~^:?*[\\".contains(&byte))
}

/// A small text file, whole, or `None` (missing, not a regular file, a symlink,
/// larger than the cap, not UTF-8).
fn read_small(path: &Path) -> Option<String> {
    String::from_utf8(read_capped(path, MAX_SMALL_FILE)?).ok()
}

/// A regular file's bytes when it holds at most `cap` of them.
fn read_capped(path: &Path, cap: u64) -> Option<Vec<u8>> {
    let file = open_regular(path).ok()?;
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 <= cap).then_some(bytes)
}

/// Opens `path` for reading only if it is a regular file: a symlink at the last
/// component is refused (`O_NOFOLLOW`), a FIFO does not block the open
/// (`O_NONBLOCK`) and is then refused as not regular, a terminal is never made the
/// controlling one (`O_NOCTTY`).
pub(super) fn open_regular(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY).open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{} is not a regular file", path.display())));
    }
    Ok(file)
}
