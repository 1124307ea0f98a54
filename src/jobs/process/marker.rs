//! A job's processes are the ones that carry its marker: `CODEX_ASYNC_JOB_ID=<id>` in
//! their environment, set on the agent and inherited by everything it starts, even
//! after `setsid` or a double fork.
//!
//! Signals go only to processes found this way, never to a pid or process group read
//! back from disk, which may belong to a stranger by now. Each signal goes through a
//! pidfd opened *before* the marker is checked, so a pid reused between the check and
//! the signal is never hit. The processes that carry no marker — a job's supervisor, the
//! Python original's agent — are signalled only once proven (see [`super::proven`]).

use nix::sys::signal::Signal;

use super::procfs;
use crate::jobs::record::id::JobId;
use crate::sys::PidFd;

/// The environment variable that marks every process of a job.
pub const JOB_ENV: &str = "CODEX_ASYNC_JOB_ID";

/// `KEY=value` as it appears in `/proc/<pid>/environ`.
fn needle(id: &JobId) -> String {
    format!("{JOB_ENV}={id}")
}

/// Live processes of the job (this process excluded).
pub fn find(id: &JobId) -> Vec<i32> {
    let me = std::process::id() as i32;
    procfs::with_env(JOB_ENV, id.as_str()).into_iter().filter(|&pid| pid != me).collect()
}

/// Sends `signal` to `pid` if, and only if, it is a process of the job. Returns
/// whether the signal was delivered.
pub fn signal(id: &JobId, pid: i32, signal: Signal) -> bool {
    let Ok(pidfd) = PidFd::open(pid) else { return false };
    if !procfs::environ_has(pid, &needle(id)) {
        return false;
    }
    match pidfd.send(signal) {
        Ok(()) => true,
        Err(err) => {
            if err.raw_os_error() != Some(nix::libc::ESRCH) {
                tracing::debug!(pid, %signal, %err, "could not signal a process of the job");
            }
            false
        }
    }
}

/// Sends `signal` to every live process of the job; returns how many got it.
pub fn signal_all(id: &JobId, signal_to_send: Signal) -> usize {
    find(id).into_iter().filter(|&pid| signal(id, pid, signal_to_send)).count()
}

/// `4242 (sleep)`: a process as a message names it.
pub fn describe(pid: i32) -> String {
    match procfs::command_name(pid) {
        Some(name) => format!("{pid} ({name})"),
        None => pid.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_marked_processes_are_signalled() {
        let id = JobId::parse("marker01").unwrap();
        let mut marked = std::process::Command::new("sleep").arg("30").env(JOB_ENV, id.as_str()).spawn().unwrap();
        let mut stranger = std::process::Command::new("sleep").arg("30").env(JOB_ENV, "another").spawn().unwrap();
        assert_eq!(find(&id), vec![marked.id() as i32]);
        assert!(!signal(&id, stranger.id() as i32, Signal::SIGKILL), "a process of another job is a stranger");
        assert_eq!(signal_all(&id, Signal::SIGKILL), 1);
        marked.wait().unwrap();
        assert!(stranger.try_wait().unwrap().is_none(), "the stranger runs on");
        stranger.kill().unwrap();
        stranger.wait().unwrap();
    }
}
