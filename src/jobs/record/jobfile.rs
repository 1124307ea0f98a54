//! Opening and reading the files of a job folder, which the job itself can write (a
//! `full-auto` agent, or any process of the user): every one is untrusted.
//!
//! So every read of a job file goes through here: the file is opened without following
//! a symlink (`O_NOFOLLOW`: `prompt.txt -> /dev/zero` is refused, not read for ever)
//! and without waiting (`O_NONBLOCK`: opening a FIFO for reading would otherwise wait
//! for a writer that never comes), it must be a regular file, and a whole-file read
//! stops at a cap the caller names, so a 300 MB `cancel_request.json` costs what its
//! cap allows, not its size.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Why a job file was not read: it is not what a job file can be. Carried inside the
/// [`io::Error`] the functions here return (see [`refusal`]); other errors are the
/// system's own (a missing file is `NotFound`, as from [`File::open`]).
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("{} is a symlink; a job's files are never followed", .0.display())]
    Symlink(PathBuf),
    #[error("{} is not a regular file; it is not read", .0.display())]
    NotRegular(PathBuf),
    #[error("{} is larger than {cap} bytes; it is not read", .path.display())]
    TooLarge { path: PathBuf, cap: u64 },
}

/// The refusal inside an error from this module, if that is what it is.
pub fn refusal(err: &io::Error) -> Option<&Refused> {
    err.get_ref().and_then(|inner| inner.downcast_ref::<Refused>())
}

/// Opens a job file for reading: a regular file, reached without a symlink, opened
/// without waiting.
pub fn open(path: &Path) -> io::Result<File> {
    regular(OpenOptions::new().read(true), path)
}

/// Opens (creating it, mode 0600) a job file for appending, on the same terms as
/// [`open`]: a FIFO put in its place would otherwise hold the writer until a reader came.
pub fn open_append(path: &Path) -> io::Result<File> {
    regular(OpenOptions::new().create(true).append(true).mode(0o600), path)
}

fn regular(options: &mut OpenOptions, path: &Path) -> io::Result<File> {
    let file = options.custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK).open(path).map_err(|err| match err.raw_os_error() {
        Some(nix::libc::ELOOP) => io::Error::other(Refused::Symlink(path.to_owned())),
        // A FIFO opened for writing without a reader.
        Some(nix::libc::ENXIO) => io::Error::other(Refused::NotRegular(path.to_owned())),
        _ => err,
    })?;
    if !file.metadata()?.file_type().is_file() {
        return Err(io::Error::other(Refused::NotRegular(path.to_owned())));
    }
    // A regular file never blocks; the flag is cleared so that whoever is handed the
    // descriptor (an agent's stdin) sees an ordinary file.
    let flags = nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_GETFL)?;
    let flags = nix::fcntl::OFlag::from_bits_truncate(flags) - nix::fcntl::OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_SETFL(flags))?;
    Ok(file)
}

/// As [`open`], with a missing file read as none.
pub fn open_if_present(path: &Path) -> io::Result<Option<File>> {
    match open(path) {
        Ok(file) => Ok(Some(file)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

/// A whole job file of at most `cap` bytes; a larger one is refused
/// ([`Refused::TooLarge`], kind `InvalidData`) after reading no more than `cap + 1` bytes.
pub fn read_capped(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    let (bytes, cut) = read_head(path, cap)?;
    if cut {
        return Err(io::Error::new(io::ErrorKind::InvalidData, Refused::TooLarge { path: path.to_owned(), cap }));
    }
    Ok(bytes)
}

/// The first `cap` bytes of a job file, and whether there was more.
pub fn read_head(path: &Path, cap: u64) -> io::Result<(Vec<u8>, bool)> {
    let file = open(path)?;
    // The size is a hint only: the file may grow while it is read.
    let hint = file.metadata().map_or(0, |meta| meta.len()).min(cap).min(1024 * 1024) as usize;
    let mut bytes = Vec::with_capacity(hint);
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    let cut = bytes.len() as u64 > cap;
    bytes.truncate(cap as usize);
    Ok((bytes, cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_whole_or_refused_beyond_its_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("request.json");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read_capped(&path, 10).unwrap(), b"0123456789");
        let err = read_capped(&path, 9).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(matches!(refusal(&err), Some(Refused::TooLarge { cap: 9, .. })), "{err}");
        assert_eq!(read_head(&path, 4).unwrap(), (b"0123".to_vec(), true));
        assert_eq!(read_head(&path, 10).unwrap(), (b"0123456789".to_vec(), false));
        assert_eq!(read_capped(&dir.path().join("missing"), 10).unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_symlink_is_not_followed_even_to_an_endless_device() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prompt.txt");
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let err = read_capped(&path, 1024).unwrap_err();
        assert!(matches!(refusal(&err), Some(Refused::Symlink(_))), "{err}");
        assert!(err.to_string().contains("is a symlink"), "{err}");
        assert!(open(&path).is_err());
    }

    #[test]
    fn a_fifo_is_refused_at_once_instead_of_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cancel_request.json");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR).unwrap();
        let err = read_capped(&path, 1024).unwrap_err();
        assert!(matches!(refusal(&err), Some(Refused::NotRegular(_))), "{err}");
        assert!(open_append(&path).is_err(), "nor is it written to");
        let folder = dir.path().join("a-folder");
        std::fs::create_dir(&folder).unwrap();
        assert!(open(&folder).is_err(), "a folder is not a job file either");
    }

    #[test]
    fn the_descriptor_handed_on_blocks_as_an_ordinary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prompt.txt");
        std::fs::write(&path, b"prompt").unwrap();
        let file = open(&path).unwrap();
        let flags = nix::fcntl::OFlag::from_bits_truncate(nix::fcntl::fcntl(&file, nix::fcntl::FcntlArg::F_GETFL).unwrap());
        assert!(!flags.contains(nix::fcntl::OFlag::O_NONBLOCK));
    }
}
