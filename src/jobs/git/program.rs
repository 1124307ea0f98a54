//! Where `git` is: found on the `PATH` git is given, once, among absolute folders only.
//!
//! Spawning a program by its full path lets the standard library start it with
//! `posix_spawn` (a `vfork`, no copy of the supervisor's page tables) instead of a
//! `fork` followed by a search of `PATH` in the child: a `PATH` given to the child
//! is one the parent cannot search for it. A relative folder on `PATH` (`.`, or an
//! empty entry) would be searched from the folder git runs in — the repository, where
//! anyone who can write a file can name it `git` — so it is skipped.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The search path of `execvp` when the environment has none.
const DEFAULT_PATH: &str = "/bin:/usr/bin";

/// The last search: the `PATH` searched and what it found.
static LAST: Mutex<Option<(OsString, PathBuf)>> = Mutex::new(None);

/// The `git` that `env`'s `PATH` names first, or `None` when it names none.
pub(super) fn locate(env: &[(OsString, OsString)]) -> Option<PathBuf> {
    let path = env.iter().rev().find(|(name, _)| name == "PATH").map_or(OsStr::new(DEFAULT_PATH), |(_, value)| value.as_os_str());
    let mut last = LAST.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((searched, found)) = last.as_ref()
        && searched == path
        && is_program(found)
    {
        return Some(found.clone());
    }
    let found = search(path)?;
    *last = Some((path.to_owned(), found.clone()));
    Some(found)
}

/// The first `git` program in the absolute folders of `path`.
fn search(path: &OsStr) -> Option<PathBuf> {
    candidates(path).find(|candidate| is_program(candidate))
}

/// Where `git` is looked for, in order: `git` in each absolute folder of `path`.
fn candidates(path: &OsStr) -> impl Iterator<Item = PathBuf> + '_ {
    path.as_bytes()
        .split(|&byte| byte == b':')
        .map(|folder| Path::new(OsStr::from_bytes(folder)))
        .filter(|folder| folder.is_absolute())
        .map(|folder| folder.join("git"))
}

/// A file (followed through links) that someone may run.
fn is_program(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn program(folder: &Path) -> PathBuf {
        std::fs::create_dir_all(folder).unwrap();
        let git = folder.join("git");
        std::fs::write(&git, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&git, std::fs::Permissions::from_mode(0o755)).unwrap();
        git
    }

    fn path_of(folders: &[&Path]) -> Vec<(OsString, OsString)> {
        let joined = folders.iter().map(|folder| folder.as_os_str().to_owned()).collect::<Vec<_>>().join(OsStr::new(":"));
        vec![("PATH".into(), joined)]
    }

    #[test]
    fn the_first_absolute_folder_that_holds_a_program_wins() {
        let dir = tempfile::tempdir().unwrap();
        let (empty, not_runnable, first, second) =
            (dir.path().join("empty"), dir.path().join("plain"), dir.path().join("first"), dir.path().join("second"));
        std::fs::create_dir_all(&empty).unwrap();
        std::fs::create_dir_all(not_runnable.join("git")).unwrap();
        let first_git = program(&first);
        program(&second);
        assert_eq!(locate(&path_of(&[&empty, &not_runnable, &first, &second])), Some(first_git));
        assert_eq!(locate(&path_of(&[&empty])), None, "no git: nothing to run");
    }

    #[test]
    fn a_relative_folder_on_path_is_never_searched() {
        // A relative folder is found from the repository git runs in: a file anyone
        // who can write there could have named `git`.
        let looked_at: Vec<PathBuf> = candidates(OsStr::new("repo::.:/usr/local/bin:bin/../bin:/usr/bin")).collect();
        assert_eq!(looked_at, [PathBuf::from("/usr/local/bin/git"), PathBuf::from("/usr/bin/git")]);
    }

    #[test]
    fn a_program_removed_since_is_searched_again() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("first"), dir.path().join("second"));
        let first_git = program(&first);
        let second_git = program(&second);
        let env = path_of(&[&first, &second]);
        assert_eq!(locate(&env), Some(first_git.clone()));
        std::fs::remove_file(&first_git).unwrap();
        assert_eq!(locate(&env), Some(second_git));
    }
}
