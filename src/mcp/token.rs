//! The bearer token every HTTP endpoint requires by default.
//!
//! The endpoint starts agents as its owner, so — as Jupyter does on loopback — it
//! takes requests only with `Authorization: Bearer <token>`. The token is
//! `$CODEX_ASYNC_HOME/token`: 32 random bytes as hex, made (mode 0600) the first time
//! anything needs it, never logged. `--token-file PATH` names another file instead (it
//! must not be open to other users); `--token` or `CODEX_ASYNC_TOKEN` give the token
//! itself, which then shows in `ps` or in the environment; `--no-auth` turns the check
//! off (same user only, see `http`). A running server follows its file: after
//! `codex-async token --rotate` the old token stops working at once.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use subtle::ConstantTimeEq;

use crate::atomic::{self, Durability};
use crate::jobs::JobStore;

pub const TOKEN_FILE: &str = "token";
pub const TOKEN_ENV: &str = "CODEX_ASYNC_TOKEN";
const TOKEN_BYTES: usize = 32;

/// Where the token lives for a home.
pub fn path(home: &Path) -> PathBuf {
    home.join(TOKEN_FILE)
}

fn fresh() -> io::Result<String> {
    let mut bytes = [0u8; TOKEN_BYTES];
    fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

fn read(path: &Path) -> io::Result<String> {
    let mut text = String::new();
    OpenOptions::new().read(true).custom_flags(nix::libc::O_NOFOLLOW).open(path)?.take(4096).read_to_string(&mut text)?;
    let token = text.trim().to_owned();
    if token.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is empty; remove it or run `codex-async token --rotate`", path.display()),
        ));
    }
    Ok(token)
}

/// A token file named with `--token-file`: where it really is (through symlinks, as
/// secret managers lay them out) and the token in it. A file other users can read or
/// write is refused, as ssh refuses such a key: the token is as good as the owner's shell.
pub fn read_given_file(path: &Path) -> io::Result<(PathBuf, String)> {
    let resolved = fs::canonicalize(path).map_err(|err| io::Error::new(err.kind(), format!("{}: {err}", path.display())))?;
    let mode = fs::metadata(&resolved)?.mode() & 0o777;
    if mode & 0o007 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is open to other users (mode {mode:04o}); a token file must not be: `chmod 600 {}`",
                path.display(),
                path.display()
            ),
        ));
    }
    let token = read(&resolved)?;
    Ok((resolved, token))
}

/// The home's token, made now if there is none. Two processes making it at once agree:
/// the first one's file stays, and the other reads it.
pub fn load_or_create(home: &Path) -> io::Result<String> {
    let path = path(home);
    match read(&path) {
        Ok(token) => return Ok(token),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    JobStore::ensure_dir(home).map_err(io::Error::other)?;
    let token = fresh()?;
    let mut temp = tempfile::Builder::new().prefix(".token.").permissions(fs::Permissions::from_mode(0o600)).tempfile_in(home)?;
    temp.write_all(token.as_bytes())?;
    temp.write_all(b"\n")?;
    temp.as_file().sync_all()?;
    match temp.persist_noclobber(&path) {
        Ok(_) => {
            atomic::sync_folder(home)?;
            Ok(token)
        }
        Err(err) if err.error.kind() == io::ErrorKind::AlreadyExists => read(&path),
        Err(err) => Err(err.error),
    }
}

/// Replaces the home's token with a new one.
pub fn rotate(home: &Path) -> io::Result<String> {
    JobStore::ensure_dir(home).map_err(io::Error::other)?;
    let token = fresh()?;
    atomic::write(&path(home), format!("{token}\n").as_bytes(), Durability::Durable)?;
    Ok(token)
}

/// The token file's identity (device, inode, modification time) and its content.
type CachedToken = Mutex<Option<((u64, u64, i64, i64), String)>>;

/// Whose token file an endpoint reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileOrigin {
    /// `$CODEX_ASYNC_HOME/token`, which `codex-async token` prints and rotates.
    Home,
    /// One named with `--token-file`.
    Flag,
}

/// What the HTTP endpoint checks.
#[derive(Debug)]
pub enum Auth {
    /// Given on the command line or in the environment.
    Fixed(String),
    /// A token file, read again whenever it changes.
    File { path: PathBuf, cached: CachedToken, origin: FileOrigin },
    /// `--no-auth`: loopback only.
    Off,
}

impl Auth {
    /// The default: the home's token file (made now if missing, so it can be printed).
    pub fn from_home(home: &Path) -> io::Result<Auth> {
        load_or_create(home)?;
        Ok(Auth::File { path: path(home), cached: Mutex::new(None), origin: FileOrigin::Home })
    }

    /// `--token-file PATH`: the token is read from `path` now (so a mistake shows at
    /// start) and again whenever the file changes (see [`read_given_file`]).
    pub fn from_file(path: &Path) -> io::Result<Auth> {
        let (resolved, _) = read_given_file(path)?;
        Ok(Auth::File { path: resolved, cached: Mutex::new(None), origin: FileOrigin::Flag })
    }

    pub fn required(&self) -> bool {
        !matches!(self, Auth::Off)
    }

    /// Whether `given` is the token, compared in constant time.
    pub fn accepts(&self, given: Option<&str>) -> bool {
        let expected = match self {
            Auth::Off => return true,
            Auth::Fixed(token) => token.clone(),
            Auth::File { path, cached, .. } => match current(path, cached) {
                Some(token) => token,
                None => return false,
            },
        };
        given.is_some_and(|given| bool::from(given.as_bytes().ct_eq(expected.as_bytes())))
    }

    /// Where a client finds the token, for the error a refused request gets.
    pub fn hint(&self) -> String {
        match self {
            Auth::Off => "no token is needed".to_owned(),
            Auth::Fixed(_) => "the server was given its token with --token or CODEX_ASYNC_TOKEN".to_owned(),
            Auth::File { path, origin: FileOrigin::Home, .. } => {
                format!("the token is in {} (print it with `codex-async token`)", path.display())
            }
            Auth::File { path, origin: FileOrigin::Flag, .. } => {
                format!("the server reads its token from {} (--token-file)", path.display())
            }
        }
    }
}

/// The token file's content, read again only when the file changed (a `stat` a request).
fn current(path: &Path, cached: &CachedToken) -> Option<String> {
    let meta = fs::symlink_metadata(path).ok()?;
    let identity = (meta.dev(), meta.ino(), meta.mtime(), meta.mtime_nsec());
    let mut cached = cached.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((known, token)) = cached.as_ref()
        && *known == identity
    {
        return Some(token.clone());
    }
    let token = read(path).ok()?;
    *cached = Some((identity, token.clone()));
    Some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_private_and_shared() {
        let home = tempfile::tempdir().unwrap();
        let first = load_or_create(home.path()).unwrap();
        assert_eq!(first.len(), 64);
        assert!(first.bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert_eq!(load_or_create(home.path()).unwrap(), first, "made once");
        let mode = fs::metadata(path(home.path())).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let rotated = rotate(home.path()).unwrap();
        assert_ne!(rotated, first);
        assert_eq!(fs::metadata(path(home.path())).unwrap().mode() & 0o777, 0o600);
    }

    #[test]
    fn racing_makers_agree() {
        let home = tempfile::tempdir().unwrap();
        let tokens: Vec<String> = std::thread::scope(|scope| {
            let makers: Vec<_> = (0..8).map(|_| scope.spawn(|| load_or_create(home.path()).unwrap())).collect();
            makers.into_iter().map(|maker| maker.join().unwrap()).collect()
        });
        assert!(tokens.windows(2).all(|pair| pair[0] == pair[1]), "{tokens:?}");
    }

    #[test]
    fn a_given_token_file_is_followed_and_must_be_private() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        fs::write(&file, "first\n").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        let refused = Auth::from_file(&file).unwrap_err().to_string();
        assert!(refused.contains("chmod 600") && refused.contains("0644"), "{refused}");
        fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
        let auth = Auth::from_file(&file).unwrap();
        assert!(auth.accepts(Some("first")));
        assert!(auth.hint().contains("--token-file"), "{}", auth.hint());
        // Replaced as a secret manager does (a new file renamed over the old one).
        let next = dir.path().join("token.next");
        fs::write(&next, "second\n").unwrap();
        fs::set_permissions(&next, fs::Permissions::from_mode(0o600)).unwrap();
        fs::rename(&next, &file).unwrap();
        assert!(auth.accepts(Some("second")) && !auth.accepts(Some("first")), "a replaced file is read again");
        assert!(Auth::from_file(&dir.path().join("missing")).unwrap_err().to_string().contains("missing"));
        fs::write(&file, "\n").unwrap();
        assert!(Auth::from_file(&file).unwrap_err().to_string().contains("empty"));
    }

    #[test]
    fn a_server_follows_a_rotation() {
        let home = tempfile::tempdir().unwrap();
        let auth = Auth::from_home(home.path()).unwrap();
        let first = load_or_create(home.path()).unwrap();
        assert!(auth.accepts(Some(&first)));
        assert!(!auth.accepts(Some("nope")));
        assert!(!auth.accepts(None));
        let second = rotate(home.path()).unwrap();
        assert!(!auth.accepts(Some(&first)), "the old token stops working");
        assert!(auth.accepts(Some(&second)));
    }
}
