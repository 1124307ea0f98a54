//! Which process is a job's, proven by what the kernel says — never by a pid read back
//! from the job's folder alone.
//!
//! Any process of the user (a `full-auto` agent included) can rewrite a job's
//! `meta.json`, so a pid in it is at most a hint. Before a signal, and before a job is
//! judged alive by a pid, the process must prove to be the job's:
//!
//! - **The supervisor** holds the job's lock: it holds an `flock` on the job's
//!   `supervisor.lock` through a descriptor of its own (the kernel lists the lock in
//!   `/proc/<pid>/fdinfo` of the descriptor whose file is that very lock file, same
//!   device and inode) and runs this program's hidden `__supervise` command. The
//!   candidates are the pid the record names (a hint, proven like any other) and the
//!   pids `/proc/locks` names for that inode. Supervisors carry no job marker — a spare
//!   one is started before its job's id exists — so the lock, which the kernel gives to
//!   one holder and takes back on its death, is what ties one to its job.
//! - **A supervisor of an earlier codex-async** (its job has no lock file) runs
//!   `__supervise`, has the start time its record names, and is the parent of a process
//!   that carries the job's marker (its agent).
//! - **The Python original's agent** (no marker, no lock) is a `codex exec` whose last
//!   argument is the job's prompt and which started within seconds after the job's
//!   folder was made (the original made the folder, started codex, then wrote
//!   `started_at`). A record whose `started_at` is not within those seconds of the
//!   folder's birth was not written that way: it is forged, and never a reason to
//!   signal or to believe the job alive.
//!
//! Each proof runs after a pidfd is opened on the candidate, with the process's start
//! time read before and after it (so every fact read belongs to one process), and
//! signals go through that pidfd: a pid reused meanwhile is never hit.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use nix::sys::signal::Signal;

use super::SUPERVISE_COMMAND;
use super::marker::JOB_ENV;
use super::procfs;
use crate::jobs::record::id::JobId;
use crate::jobs::record::meta::JobMeta;
use crate::sys::PidFd;

/// How long after its folder was made the original's agent may have started (it was
/// started right after the folder was made, on a machine that may be busy).
pub const ORIGINAL_START_WINDOW: Duration = Duration::from_secs(10);
/// How much earlier than its folder a process may seem to have started: `/proc` gives
/// the boot time in whole seconds, so a start time read from it may be early by one.
const CLOCK_SLACK: Duration = Duration::from_secs(2);

/// A process proven to be a job's, pinned by a pidfd.
#[derive(Debug)]
pub struct Proven {
    pid: i32,
    pidfd: PidFd,
}

impl Proven {
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Sends `signal` through the pidfd; whether it was delivered.
    pub fn send(&self, signal: Signal) -> bool {
        match self.pidfd.send(signal) {
            Ok(()) => true,
            Err(err) => {
                if err.raw_os_error() != Some(nix::libc::ESRCH) {
                    tracing::debug!(pid = self.pid, %signal, %err, "could not signal a proven process of the job");
                }
                false
            }
        }
    }
}

/// Pins `pid` and runs `check` on it; the process is proven if the check holds and its
/// start time is the same before and after (all the facts read are one process's).
fn prove(pid: i32, check: impl FnOnce(i32) -> bool) -> Option<Proven> {
    let pidfd = PidFd::open(pid).ok()?;
    let started = procfs::start_ticks(pid)?;
    (check(pid) && procfs::start_ticks(pid) == Some(started)).then_some(Proven { pid, pidfd })
}

fn as_pid(recorded: i64) -> Option<i32> {
    i32::try_from(recorded).ok().filter(|&pid| pid > 0)
}

/// Whether `pid` runs the hidden supervise command (`<program> __supervise`).
fn runs_supervise(pid: i32) -> bool {
    procfs::cmdline(pid).is_some_and(|args| args.len() == 2 && args[1] == SUPERVISE_COMMAND)
}

/// The supervisor of the job whose lock file is `lock_file`: the process holding that
/// lock (see the module's doc). `named` is the pid the job's record names: looked at
/// first, as it is the supervisor unless the record was forged, and proven like any
/// other; then the holders `/proc/locks` names.
pub fn supervisor(lock_file: &Path, named: Option<i64>) -> Option<Proven> {
    let lock = std::fs::symlink_metadata(lock_file).ok().filter(std::fs::Metadata::is_file)?;
    let (device, inode) = (lock.dev(), lock.ino());
    let holds_the_lock = |pid: i32| prove(pid, |pid| runs_supervise(pid) && procfs::holds_flock(pid, device, inode));
    let named = named.and_then(as_pid);
    if let Some(proven) = named.and_then(holds_the_lock) {
        return Some(proven);
    }
    procfs::flock_holders(inode).into_iter().filter(|&pid| Some(pid) != named).find_map(holds_the_lock)
}

/// The supervisor an earlier codex-async's record names (its job has no lock file), if
/// that process is it (see the module's doc).
pub fn earlier_supervisor(id: &JobId, meta: &JobMeta) -> Option<Proven> {
    let pid = as_pid(meta.details.supervisor_pid?)?;
    let marker = format!("{JOB_ENV}={id}");
    prove(pid, |pid| {
        // Cheapest first: a pid that is not the recorded process fails at once.
        meta.details.supervisor_start_ticks.is_none_or(|ticks| procfs::start_ticks(pid) == Some(ticks))
            && runs_supervise(pid)
            && procfs::children(pid).into_iter().any(|child| procfs::environ_has(child, &marker))
    })
}

/// What a job of the Python original turned out to be.
#[derive(Debug)]
pub enum OriginalAgent {
    /// Its agent runs.
    Running(Proven),
    /// The record is not one the original wrote: its `started_at` is not when its folder
    /// was made.
    Forged,
    /// No process is its agent: it ended (or the record names nobody).
    Gone,
}

/// The agent of a job the Python original started, if the process its record names is
/// that agent (see the module's doc). `folder_born` is when the job's folder was made
/// (`None`: it is no real folder).
pub fn original_agent(folder_born: Option<SystemTime>, meta: &JobMeta) -> OriginalAgent {
    let Some(born) = folder_born.map(DateTime::<Utc>::from) else { return OriginalAgent::Gone };
    if meta.started_at.is_some_and(|started| !started_with(started.0, born)) {
        return OriginalAgent::Forged;
    }
    let Some(pid) = meta.pid.and_then(as_pid) else { return OriginalAgent::Gone };
    let proven =
        prove(pid, |pid| procfs::start_time(pid).is_some_and(|started| started_with(started, born)) && is_codex_exec_of(pid, &meta.prompt));
    proven.map_or(OriginalAgent::Gone, OriginalAgent::Running)
}

/// Whether `at` falls within the seconds after a folder made at `born`.
fn started_with(at: DateTime<Utc>, born: DateTime<Utc>) -> bool {
    let (slack, window) = (chrono::Duration::from_std(CLOCK_SLACK), chrono::Duration::from_std(ORIGINAL_START_WINDOW));
    let (Ok(slack), Ok(window)) = (slack, window) else { return false };
    born - slack <= at && at <= born + window
}

/// Whether `pid` is `codex exec … PROMPT`: some argument names the codex program (run
/// directly, or as the script of an interpreter such as node, as npm installs it),
/// `exec` follows it, and the last argument is the prompt.
fn is_codex_exec_of(pid: i32, prompt: &str) -> bool {
    let Some(args) = procfs::cmdline(pid) else { return false };
    let names_codex = |arg: &std::ffi::OsString| Path::new(arg).file_name().is_some_and(|name| name == "codex" || name == "codex.js");
    let runs_exec = args.windows(2).any(|pair| names_codex(&pair[0]) && pair[1] == "exec");
    runs_exec && args.last().is_some_and(|last| last.as_encoded_bytes() == prompt.as_bytes())
}

#[cfg(test)]
pub(crate) mod tests;
