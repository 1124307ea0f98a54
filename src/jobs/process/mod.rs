//! Which processes are a job's, as the kernel says: who holds the job's lock (its
//! owner), which processes carry its marker, which one is proven to be its supervisor
//! or the Python original's agent, and what `/proc` says about each. Nothing here
//! believes a pid read back from a job's folder.

pub mod marker;
pub mod owner;
pub mod procfs;
pub mod proven;

use std::path::{Path, PathBuf};

/// The hidden subcommand that runs a supervisor: how a starter runs one, and how a
/// supervisor is told from other processes.
pub const SUPERVISE_COMMAND: &str = "__supervise";

/// A long-running dashboard or server whose binary was replaced (`cargo install`
/// again) sees its own path as "… (deleted)"; the new binary at that path supervises
/// new jobs just as well.
fn reinstalled_path(exe: PathBuf) -> PathBuf {
    match exe.to_str().and_then(|text| text.strip_suffix(" (deleted)")) {
        Some(original) if Path::new(original).is_file() => PathBuf::from(original),
        _ => exe,
    }
}

/// This binary's path, as a supervisor is re-run from it.
pub fn this_program() -> crate::jobs::error::Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|err| crate::jobs::error::JobError::io("finding this program", "/proc/self/exe", err))?;
    Ok(reinstalled_path(exe))
}
