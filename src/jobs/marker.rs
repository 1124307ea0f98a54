//! A job's processes are the ones that carry its marker: `CODEX_ASYNC_JOB_ID=<id>` in
//! their environment, set on the agent and inherited by everything it starts, even
//! after `setsid` or a double fork.
//!
//! Signals go only to processes found this way, never to a pid or process group read
//! back from disk, which may belong to a stranger by now. Each signal goes through a
//! pidfd opened *before* the marker is checked, so a pid reused between the check and
//! the signal is never hit.

use nix::sys::signal::Signal;

use super::id::JobId;
use super::procfs;
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

/// Sends `signal` to the agent of a job the Python original started (it recorded a pid
/// and no marker), only if that process started no later than the job did: a process
/// that started afterwards reuses the number and is a stranger. Returns whether it
/// was delivered.
pub fn signal_original_agent(pid: i64, job_started: chrono::DateTime<chrono::Utc>, signal: Signal) -> bool {
    let Ok(pid) = i32::try_from(pid) else { return false };
    let Ok(pidfd) = PidFd::open(pid) else { return false };
    // The kernel gives the boot time in whole seconds: allow for that rounding.
    let started_in_time = procfs::start_time(pid).is_some_and(|started| started <= job_started + chrono::Duration::seconds(2));
    started_in_time && pidfd.send(signal).is_ok()
}

/// Whether the agent a Python-original job recorded still runs (same rule as above).
pub fn original_agent_alive(pid: i64, job_started: chrono::DateTime<chrono::Utc>) -> bool {
    i32::try_from(pid).ok().and_then(procfs::start_time).is_some_and(|started| started <= job_started + chrono::Duration::seconds(2))
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

    #[test]
    fn an_original_agent_counts_only_if_it_started_before_its_job() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id() as i64;
        let long_ago = chrono::Utc::now() - chrono::Duration::hours(1);
        assert!(!original_agent_alive(pid, long_ago), "started after the job: a reused pid");
        assert!(!signal_original_agent(pid, long_ago, Signal::SIGKILL));
        assert!(original_agent_alive(pid, chrono::Utc::now()));
        assert!(signal_original_agent(pid, chrono::Utc::now(), Signal::SIGKILL));
        child.wait().unwrap();
    }
}
