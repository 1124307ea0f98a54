//! Reading and writing a client's file: atomically (a reader sees the old file or the
//! new one), keeping its mode — made private when it holds the bearer token — through a
//! symlink to the file it points at, with a private backup of what was there beside it;
//! and the unified diff shown for each change.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::atomic::{self, Durability};

/// Appended to a file's name for the copy of what it held before a change.
pub const BACKUP_SUFFIX: &str = ".codex-async.bak";

/// A file as found: its text and mode, or nothing.
#[derive(Clone, Debug)]
pub struct Found {
    /// The path written to: the given one, or where its symlink leads.
    pub target: PathBuf,
    pub text: Option<String>,
    pub mode: Option<u32>,
}

pub fn read(path: &Path) -> Result<Found, String> {
    let target = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(path).map_err(|err| format!("{} is a symlink to nowhere: {err}", path.display()))?
        }
        _ => path.to_path_buf(),
    };
    match fs::metadata(&target) {
        Ok(meta) if !meta.is_file() => Err(format!("{} is not a file", target.display())),
        Ok(meta) => {
            let bytes = fs::read(&target).map_err(|err| format!("reading {}: {err}", target.display()))?;
            let text = String::from_utf8(bytes).map_err(|err| {
                format!("{} is not UTF-8 text (byte {}); nothing was changed", target.display(), err.utf8_error().valid_up_to())
            })?;
            Ok(Found { target, text: Some(text), mode: Some(meta.permissions().mode() & 0o7777) })
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Found { target, text: None, mode: None }),
        Err(err) => Err(format!("reading {}: {err}", target.display())),
    }
}

pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|name| name.to_os_string()).unwrap_or_default();
    name.push(BACKUP_SUFFIX);
    path.with_file_name(name)
}

/// The folders `path` needs that do not exist, outermost first.
pub fn missing_dirs(path: &Path) -> Vec<PathBuf> {
    let mut missing: Vec<PathBuf> =
        path.ancestors().skip(1).take_while(|dir| !dir.as_os_str().is_empty() && !dir.exists()).map(Path::to_path_buf).collect();
    missing.reverse();
    missing
}

/// Makes the folders (0700: they hold a user's client settings).
pub fn make_dirs(dirs: &[PathBuf]) -> io::Result<()> {
    for dir in dirs {
        match fs::DirBuilder::new().mode(0o700).create(dir) {
            Err(err) if err.kind() != io::ErrorKind::AlreadyExists => return Err(err),
            _ => {}
        }
    }
    Ok(())
}

/// `mode` without any access for the group and others (the owner keeps read and write).
fn private(mode: u32) -> u32 {
    (mode & 0o700) | 0o600
}

/// The mode to write a file with: a new file gets 0600; one that is to hold the bearer
/// token (`holds_secret`) is made private, and the mode it had is kept in `shared_mode`;
/// one that holds no token any more gets that mode back.
pub fn mode_for(current: Option<u32>, holds_secret: bool, shared_mode: &mut Option<u32>) -> u32 {
    let current = current.unwrap_or(0o600);
    if !holds_secret {
        return shared_mode.take().unwrap_or(current);
    }
    if private(current) != current && shared_mode.is_none() {
        *shared_mode = Some(current);
    }
    private(current)
}

/// Writes `text` over `found`'s file with `mode` (see [`mode_for`]), after a backup of
/// the old text when `save_backup`. The backup is always private: the old text may hold a token an earlier
/// install wrote. Both are created with their final mode (the temporary file is made so
/// before a byte is written, then renamed over the old one), so a token is never
/// readable by others, not even for a moment. Returns where the backup is.
pub fn write(found: &Found, text: &str, mode: u32, save_backup: bool) -> io::Result<Option<PathBuf>> {
    let backup = match &found.text {
        Some(old) if save_backup => {
            let backup = backup_path(&found.target);
            let old_mode = found.mode.unwrap_or(0o600);
            atomic::write_with_mode(&backup, old.as_bytes(), Durability::Durable, private(old_mode))?;
            Some(backup)
        }
        _ => None,
    };
    atomic::write_with_mode(&found.target, text.as_bytes(), Durability::Durable, mode)?;
    Ok(backup)
}

/// Removes the backup beside `target`; whether there was one.
pub fn remove_backup(target: &Path) -> io::Result<bool> {
    match fs::remove_file(backup_path(target)) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err),
    }
}

/// Removes a file `install` made (and the backup a later change left beside it), then the
/// folders it made for it while empty.
pub fn remove(found: &Found, created_dirs: &[PathBuf]) -> io::Result<()> {
    fs::remove_file(&found.target)?;
    match fs::remove_file(backup_path(&found.target)) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    for dir in created_dirs.iter().rev() {
        if fs::remove_dir(dir).is_err() {
            break;
        }
    }
    Ok(())
}

/// A unified diff of one file (`/dev/null` for a side that does not exist).
pub fn diff(path: &Path, before: Option<&str>, after: Option<&str>) -> String {
    let (old, new) = (before.unwrap_or(""), after.unwrap_or(""));
    let name = path.display().to_string();
    let old_name = if before.is_some() { name.clone() } else { "/dev/null".to_owned() };
    let new_name = if after.is_some() { name } else { "/dev/null".to_owned() };
    similar::TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(&old_name, &new_name).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_names_both_sides() {
        let shown = diff(Path::new("/x.json"), Some("{}\n"), Some("{\"a\": 1}\n"));
        assert!(shown.starts_with("--- /x.json\n+++ /x.json\n"), "{shown}");
        assert!(shown.contains("+{\"a\": 1}"), "{shown}");
        let created = diff(Path::new("/x.json"), None, Some("{}\n"));
        assert!(created.starts_with("--- /dev/null\n+++ /x.json\n"), "{created}");
    }

    #[test]
    fn writes_keep_the_mode_and_follow_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        fs::write(&real, "{}\n").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let found = read(&link).unwrap();
        let backup = write(&found, "{\"a\": 1}\n", 0o640, true).unwrap().unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(fs::read_to_string(&real).unwrap(), "{\"a\": 1}\n");
        assert_eq!(fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o640);
        assert_eq!(fs::read_to_string(&backup).unwrap(), "{}\n");
        assert_eq!(fs::metadata(&backup).unwrap().permissions().mode() & 0o777, 0o600, "a backup is private");
    }

    #[test]
    fn a_file_is_private_while_it_holds_the_token() {
        let mut shared = None;
        assert_eq!(mode_for(Some(0o644), true, &mut shared), 0o600);
        assert_eq!(shared, Some(0o644), "the mode it had is kept");
        assert_eq!(mode_for(Some(0o600), true, &mut shared), 0o600);
        assert_eq!(shared, Some(0o644), "a second install keeps the first mode");
        assert_eq!(mode_for(Some(0o600), false, &mut shared), 0o644, "no token: its mode back");
        assert_eq!(shared, None);
        assert_eq!(mode_for(Some(0o640), false, &mut shared), 0o640);
        assert_eq!(mode_for(None, true, &mut shared), 0o600);
        assert_eq!(shared, None, "a new file was private from the start");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("shared.json");
        fs::write(&file, "{}\n").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        let backup = write(&read(&file).unwrap(), "{\"token\": \"t\"}\n", 0o600, true).unwrap().unwrap();
        assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(&backup).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn made_folders_go_when_empty() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a/b/c.json");
        let missing = missing_dirs(&file);
        assert_eq!(missing, vec![dir.path().join("a"), dir.path().join("a/b")]);
        make_dirs(&missing).unwrap();
        let found = read(&file).unwrap();
        write(&found, "{}", 0o600, true).unwrap();
        assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        remove(&read(&file).unwrap(), &missing).unwrap();
        assert!(!dir.path().join("a").exists());
    }
}
