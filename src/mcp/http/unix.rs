//! `--http unix:PATH`: a Unix socket only its owner can open (mode 0600), the way to run
//! without a token: the kernel names each peer's user (`SO_PEERCRED`), and other users
//! cannot even connect.
//!
//! The socket never exists with a wider mode, not for a moment: it is bound in a fresh
//! private folder (0700) beside its place, made 0600 there, and renamed into place. Its
//! folder must be the user's own and closed to others' writes (a folder made for it is
//! 0700), so nobody can swap it. A socket left by a server that died is replaced; one a
//! live server listens on, or a file that is not a socket, is an error.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The socket file; removed when dropped, if it is still this one.
#[derive(Debug)]
pub struct SocketFile {
    path: PathBuf,
    identity: (u64, u64),
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let ours = fs::symlink_metadata(&self.path).is_ok_and(|meta| (meta.dev(), meta.ino()) == self.identity);
        if ours {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Checks (or makes, 0700) the socket's folder: the user's own, not writable by others.
fn prepare_folder(folder: &Path) -> anyhow::Result<()> {
    if !folder.exists() {
        fs::DirBuilder::new().recursive(true).mode(0o700).create(folder).with_context(|| format!("making {}", folder.display()))?;
    }
    let meta = fs::metadata(folder).with_context(|| format!("reading {}", folder.display()))?;
    let own = nix::unistd::geteuid().as_raw();
    if meta.uid() != own || meta.mode() & 0o022 != 0 {
        anyhow::bail!(
            "{} is not a folder of yours that only you can write (owner uid {}, mode {:04o}): another user could replace the \
             socket there. Put it in a private folder, such as $XDG_RUNTIME_DIR or $CODEX_ASYNC_HOME",
            folder.display(),
            meta.uid(),
            meta.mode() & 0o7777
        );
    }
    Ok(())
}

/// Refuses to replace anything but a socket nobody listens on.
fn check_place(path: &Path) -> anyhow::Result<()> {
    match fs::symlink_metadata(path) {
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
        Ok(meta) if !meta.file_type().is_socket() => anyhow::bail!("{} exists and is not a socket; nothing was replaced", path.display()),
        Ok(_) => match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => anyhow::bail!("a server is listening on {} already", path.display()),
            // Left by a server that died: replaced below.
            Err(_) => Ok(()),
        },
    }
}

/// Binds the socket at `path` (see the module's doc).
pub fn bind(path: &Path) -> anyhow::Result<(tokio::net::UnixListener, SocketFile)> {
    let folder = path.parent().filter(|folder| !folder.as_os_str().is_empty()).unwrap_or(Path::new("."));
    prepare_folder(folder)?;
    check_place(path)?;
    // tempfile makes the folder 0700.
    let private =
        tempfile::Builder::new().prefix(".sock.").tempdir_in(folder).with_context(|| format!("making a folder in {}", folder.display()))?;
    let staged = private.path().join("s");
    let listener =
        std::os::unix::net::UnixListener::bind(&staged).with_context(|| format!("binding a Unix socket for {}", path.display()))?;
    fs::set_permissions(&staged, fs::Permissions::from_mode(0o600))?;
    fs::rename(&staged, path).with_context(|| format!("moving the socket to {}", path.display()))?;
    let meta = fs::symlink_metadata(path)?;
    listener.set_nonblocking(true)?;
    let listener = tokio::net::UnixListener::from_std(listener)?;
    Ok((listener, SocketFile { path: path.to_path_buf(), identity: (meta.dev(), meta.ino()) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_socket_is_private_and_goes_with_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/mcp.sock");
        let (listener, file) = bind(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(dir.path().join("run")).unwrap().mode() & 0o777, 0o700, "a folder made for it is private");
        let names: Vec<_> = fs::read_dir(dir.path().join("run")).unwrap().map(|entry| entry.unwrap().file_name()).collect();
        assert_eq!(names, ["mcp.sock"], "no staging folder is left");
        assert!(bind(&path).unwrap_err().to_string().contains("listening"), "a live socket is not replaced");
        drop(listener);
        let (_again, second) = bind(&path).expect("a dead server's socket is replaced");
        drop(file);
        assert!(path.exists(), "the first server's guard leaves the new socket alone");
        drop(second);
        assert!(!path.exists());

        fs::write(&path, "x").unwrap();
        assert!(bind(&path).unwrap_err().to_string().contains("not a socket"));
        let open = dir.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
        assert!(bind(&open.join("s")).unwrap_err().to_string().contains("only you can write"));
    }
}
