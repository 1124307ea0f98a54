//! The one way this project writes a file that others read: a temporary file with a
//! name unique to the writer (created exclusively by `tempfile`), written whole, then
//! renamed over the target, so a reader sees the old file or the new one, never a mix.
//!
//! `Durable` adds what a crash needs: the data synced before the rename and the
//! folder synced after it, so the new name survives a power cut. Frequent updates
//! (the agent's pid, its current activity) are `Quick`: atomic, not synced.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Synced: survives a crash of the machine right after the call returns.
    Durable,
    /// Atomic for readers, left to the kernel to write back.
    Quick,
}

/// Replaces `path` with `bytes` (mode 0600).
pub fn write(path: &Path, bytes: &[u8], durability: Durability) -> io::Result<()> {
    write_with_mode(path, bytes, durability, 0o600)
}

/// As [`write`], with the file mode given.
pub fn write_with_mode(path: &Path, bytes: &[u8], durability: Durability, mode: u32) -> io::Result<()> {
    replace(path, bytes, durability, mode, || {})
}

/// As [`write_with_mode`]; `placed` runs the moment the new file is in place, before the
/// folder is synced.
fn replace(path: &Path, bytes: &[u8], durability: Durability, mode: u32, placed: impl FnOnce()) -> io::Result<()> {
    let folder = parent(path);
    let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("file");
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(Permissions::from_mode(mode))
        .tempfile_in(folder)?;
    temp.write_all(bytes)?;
    if durability == Durability::Durable {
        temp.as_file().sync_data()?;
    }
    // Closed before the rename: its closing is then news about a hidden name, not one
    // more change of `path` for every watcher.
    temp.into_temp_path().persist(path).map_err(|err| err.error)?;
    placed();
    if durability == Durability::Durable {
        sync_folder(folder)?;
    }
    Ok(())
}

/// Creates `path` (which must not exist) with `bytes`, synced: for a file in a folder
/// nobody else sees yet, where no temporary file is needed. The caller syncs the folder.
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).custom_flags(nix::libc::O_NOFOLLOW).open(path)?;
    file.write_all(bytes)?;
    file.sync_data()
}

/// Replaces `target` with `bytes` written into `reserve`, a file whose blocks were
/// allocated earlier (see `JobMeta::reserve_space`): on a full disk this still lands.
/// Falls back to [`write`] when the reserve is missing or too small. Durable.
pub fn write_into_reserve(reserve: &Path, target: &Path, bytes: &[u8]) -> io::Result<()> {
    write_into_reserve_with(reserve, target, bytes, || {})
}

/// As [`write_into_reserve`]; `placed` runs the moment the new file is in place (readers
/// see it from then on), before the folder is synced for a crash: what a writer does once
/// its readers can see the file need not wait for the disk.
pub fn write_into_reserve_with(reserve: &Path, target: &Path, bytes: &[u8], placed: impl FnOnce()) -> io::Result<()> {
    // Never through a symlink, and a FIFO in its place fails at once (ENXIO).
    let flags = nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK;
    let written = OpenOptions::new().write(true).custom_flags(flags).open(reserve).and_then(|mut file| {
        if !file.metadata()?.is_file() {
            return Err(io::Error::other("the reserve is not a regular file"));
        }
        if file.metadata()?.len() < bytes.len() as u64 {
            return Err(io::Error::other("the reserve is too small"));
        }
        file.write_all(bytes)?;
        file.set_len(bytes.len() as u64)?;
        file.sync_data()
    });
    match written {
        Ok(()) => {
            std::fs::rename(reserve, target)?;
            placed();
            sync_folder(parent(target))
        }
        Err(err) => {
            tracing::debug!(%err, reserve = %reserve.display(), "no usable reserve; writing the usual way");
            let _ = std::fs::remove_file(reserve);
            replace(target, bytes, Durability::Durable, 0o600, placed)
        }
    }
}

/// Makes a rename or a new entry in `folder` durable.
pub fn sync_folder(folder: &Path) -> io::Result<()> {
    File::open(folder)?.sync_all()
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_whole_files_and_leave_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.json");
        write(&path, b"one", Durability::Durable).unwrap();
        write(&path, b"two", Durability::Quick).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
        assert_eq!(names, ["meta.json"]);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn many_writers_at_once_never_tear_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.json");
        write(&path, &[b'a'; 4096], Durability::Quick).unwrap();
        std::thread::scope(|scope| {
            for writer in 0..8u8 {
                let path = path.clone();
                scope.spawn(move || {
                    for _ in 0..200 {
                        write(&path, &[b'a' + writer; 4096], Durability::Quick).unwrap();
                    }
                });
            }
            scope.spawn(|| {
                for _ in 0..2000 {
                    let bytes = std::fs::read(&path).unwrap();
                    assert_eq!(bytes.len(), 4096);
                    assert!(bytes.iter().all(|&byte| byte == bytes[0]), "a torn read");
                }
            });
        });
    }

    #[test]
    fn a_reserve_is_used_when_big_enough_and_skipped_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let reserve = dir.path().join(".reserve");
        let target = dir.path().join("meta.json");
        std::fs::write(&reserve, vec![0u8; 64]).unwrap();
        std::fs::write(&target, b"before").unwrap();
        let mut seen = None;
        write_into_reserve_with(&reserve, &target, b"final", || seen = std::fs::read(&target).ok()).unwrap();
        assert_eq!(seen.as_deref(), Some(&b"final"[..]), "told once it is in place");
        assert_eq!(std::fs::read(&target).unwrap(), b"final");
        assert!(!reserve.exists());

        std::fs::write(&reserve, b"x").unwrap();
        let mut seen = None;
        write_into_reserve_with(&reserve, &target, b"longer than the reserve", || seen = std::fs::read(&target).ok()).unwrap();
        assert_eq!(seen.as_deref(), Some(&b"longer than the reserve"[..]), "told once it is in place");
        assert_eq!(std::fs::read(&target).unwrap(), b"longer than the reserve");
        assert!(!reserve.exists());
    }
}
