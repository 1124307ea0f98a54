//! Which `codex-async` a client is to start. The running binary's own path is right for
//! an installed program, and wrong for one inside a cargo build folder (`target/`): a
//! `cargo clean`, or a build of another branch, silently breaks every client registered
//! with it. Then the `codex-async` found on `PATH` is registered instead when it is the
//! same program (the same file, or the same bytes) installed elsewhere; otherwise the
//! build's path is kept, with a warning that says how to install it.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The name looked for on `PATH`.
const PROGRAM_NAME: &str = "codex-async";
/// What `install` suggests for a program run from a build folder.
pub const INSTALL_HINT: &str = "cargo install --locked --path .";

/// The program a client is to start, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Program {
    /// The running binary, installed outside any build folder.
    Installed(PathBuf),
    /// The running binary is a build (`built`); the same program is on `PATH` at `on_path`,
    /// which is registered.
    FromPath { built: PathBuf, on_path: PathBuf },
    /// The running binary is a build and no copy of it is on `PATH` (`on_path` names a
    /// different `codex-async` found there): the build's path is registered, with a warning.
    Build { built: PathBuf, on_path: Option<PathBuf> },
}

impl Program {
    /// Finds it for the running binary at `exe` (absolute) and the search path `path_var`.
    pub fn choose(exe: &Path, path_var: Option<&OsStr>) -> Program {
        if !in_build_folder(exe) {
            return Program::Installed(exe.to_path_buf());
        }
        let on_path = path_var.and_then(first_on_path);
        match on_path {
            // A link into a build folder breaks as the build does.
            Some(found) if same_binary(exe, &found) && !fs::canonicalize(&found).is_ok_and(|real| in_build_folder(&real)) => {
                Program::FromPath { built: exe.to_path_buf(), on_path: found }
            }
            other => Program::Build { built: exe.to_path_buf(), on_path: other },
        }
    }

    /// The path the client's entry names.
    pub fn path(&self) -> &Path {
        match self {
            Program::Installed(path) | Program::Build { built: path, .. } => path,
            Program::FromPath { on_path, .. } => on_path,
        }
    }

    /// What to tell the user about the choice; nothing for an installed program.
    pub fn note(&self) -> Option<String> {
        match self {
            Program::Installed(_) => None,
            Program::FromPath { built, on_path } => Some(format!(
                "this codex-async runs from a cargo build folder ({}); the client is given the same program as installed on PATH, {}, which a `cargo clean` does not remove.",
                built.display(),
                on_path.display()
            )),
            Program::Build { built, on_path } => {
                let found = match on_path {
                    Some(other) => format!(" (the codex-async on PATH, {}, is another build)", other.display()),
                    None => String::new(),
                };
                Some(format!(
                    "warning: this codex-async runs from a cargo build folder ({}) and the client is given that path{found}: a `cargo clean` or a rebuild breaks it. Install it with `{INSTALL_HINT}`, then run `codex-async install` again from the installed one.",
                    built.display()
                ))
            }
        }
    }
}

/// Whether `exe` lies in a cargo build folder: one cargo tagged (`CACHEDIR.TAG`, which
/// `CARGO_TARGET_DIR` folders have too), or a `target` folder beside a `Cargo.toml`.
pub fn in_build_folder(exe: &Path) -> bool {
    exe.ancestors().skip(1).any(|dir| {
        let tagged = fs::read_to_string(dir.join("CACHEDIR.TAG")).is_ok_and(|tag| tag.contains("created by cargo"));
        let target = dir.file_name().is_some_and(|name| name == "target") && dir.parent().is_some_and(|up| up.join("Cargo.toml").is_file());
        tagged || target
    })
}

/// The `codex-async` a shell would run: the first executable file of that name on the path.
fn first_on_path(path_var: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(PROGRAM_NAME))
        .find(|candidate| fs::metadata(candidate).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0))
}

/// The same program: the same file (device and inode), or files of the same bytes.
pub fn same_binary(a: &Path, b: &Path) -> bool {
    let (Ok(meta_a), Ok(meta_b)) = (fs::metadata(a), fs::metadata(b)) else { return false };
    if meta_a.dev() == meta_b.dev() && meta_a.ino() == meta_b.ino() {
        return true;
    }
    meta_a.len() == meta_b.len() && same_bytes(a, b).unwrap_or(false)
}

fn same_bytes(a: &Path, b: &Path) -> io::Result<bool> {
    let (mut a, mut b) = (fs::File::open(a)?, fs::File::open(b)?);
    let (mut block_a, mut block_b) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let read = a.read(&mut block_a)?;
        if read == 0 {
            return Ok(b.read(&mut block_b[..1])? == 0);
        }
        b.read_exact(&mut block_b[..read])?;
        if block_a[..read] != block_b[..read] {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn executable(path: &Path, bytes: &[u8]) {
        fs::write(path, bytes).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn a_build_is_swapped_for_the_same_program_on_path_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("project");
        fs::create_dir_all(project.join("target/release")).unwrap();
        fs::write(project.join("Cargo.toml"), "[package]\n").unwrap();
        let built = project.join("target/release/codex-async");
        executable(&built, b"the program");
        let bin = dir.path().join("bin");
        fs::create_dir_all(&bin).unwrap();
        let path_var = std::env::join_paths([Path::new("relative"), &bin]).unwrap();
        assert!(in_build_folder(&built));
        assert!(!in_build_folder(&bin.join("codex-async")));
        assert_eq!(Program::choose(&built, Some(&path_var)), Program::Build { built: built.clone(), on_path: None });

        executable(&bin.join("codex-async"), b"the program");
        let chosen = Program::choose(&built, Some(&path_var));
        assert_eq!(chosen.path(), bin.join("codex-async"), "the same bytes: {chosen:?}");

        fs::remove_file(bin.join("codex-async")).unwrap();
        fs::hard_link(&built, bin.join("codex-async")).unwrap();
        assert!(same_binary(&built, &bin.join("codex-async")), "the same inode");

        executable(&bin.join("codex-async.new"), b"another build");
        fs::rename(bin.join("codex-async.new"), bin.join("codex-async")).unwrap();
        let chosen = Program::choose(&built, Some(&path_var));
        assert_eq!(chosen.path(), built, "another build on PATH is not taken");
        assert!(chosen.note().unwrap().contains(INSTALL_HINT));

        fs::remove_file(bin.join("codex-async")).unwrap();
        std::os::unix::fs::symlink(&built, bin.join("codex-async")).unwrap();
        assert_eq!(Program::choose(&built, Some(&path_var)).path(), built, "a link into the build folder breaks with it");

        let installed = bin.join("elsewhere");
        executable(&installed, b"x");
        assert_eq!(Program::choose(&installed, Some(&path_var)), Program::Installed(installed.clone()));
    }
}
