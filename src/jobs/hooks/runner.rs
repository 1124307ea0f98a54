//! The hidden `__hook` command: runs one hook, detached from whoever recorded the event.
//!
//! It closes what it inherited and starts its own session (a Ctrl-C in the recorder's
//! terminal does not reach it), starts the hook in a process group of its own with the
//! job's poll view on stdin, waits for it on a pidfd until its timeout (no polling), then
//! kills the group. The hook's output goes to the job's `hooks.log`; how it ended to
//! `hook_<event>.json`. Nothing of the job's record is touched: its event is recorded.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::{EVENT_ENV, HOOKS_LOG, HookRun, record};
use crate::jobs::record::id::JobId;
use crate::jobs::record::jobfile;
use crate::jobs::store::JobStore;
use crate::sys::PidFd;

/// Entry point of `__hook`.
pub fn main() -> ExitCode {
    crate::sys::close_inherited_descriptors();
    let _ = nix::unistd::setsid();
    let mut input = Vec::new();
    if std::io::stdin().take(4 * 1024 * 1024).read_to_end(&mut input).is_err() {
        return ExitCode::FAILURE;
    }
    let Ok(run) = serde_json::from_slice::<HookRun>(&input) else { return ExitCode::FAILURE };
    let (Ok(store), Ok(id)) = (JobStore::from_env(), JobId::parse(&run.job_id)) else { return ExitCode::FAILURE };
    let folder = store.job_dir(&id);
    if !super::owed::claim(&folder, run.event) {
        return ExitCode::SUCCESS;
    }
    let (ok, detail) = run_hook(&folder, &run);
    record(&folder, run.event, ok, &detail);
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn run_hook(folder: &Path, run: &HookRun) -> (bool, String) {
    let Some((program, args)) = run.argv.split_first() else { return (false, "has no program".to_owned()) };
    let log = match jobfile::open_append(&folder.join(HOOKS_LOG)) {
        Ok(log) => log,
        Err(err) => return (false, format!("could not open {HOOKS_LOG}: {err}")),
    };
    let (Ok(stdout), Ok(stderr)) = (log.try_clone(), log.try_clone()) else { return (false, "could not share the log".to_owned()) };
    let began = Instant::now();
    let spawned = Command::new(program)
        .args(args)
        .current_dir(folder)
        .env(EVENT_ENV, run.event.as_str())
        .env_remove(crate::jobs::process::marker::JOB_ENV)
        .env_remove("CODEX_ASYNC_TOKEN")
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(err) => return (false, format!("could not be run ({program}): {err}")),
    };
    let pid = child.id() as i32;
    // A pidfd opened before the wait: it names this child until it is reaped.
    let pidfd = PidFd::open(pid);
    if let Some(mut stdin) = child.stdin.take() {
        let mut view = serde_json::to_vec(&run.view).unwrap_or_default();
        view.push(b'\n');
        // From a thread: a hook that never reads its stdin cannot hold the runner.
        let _ = std::thread::Builder::new().name("hook-stdin".into()).spawn(move || stdin.write_all(&view));
    }
    let timeout = Duration::from_millis(run.timeout_ms);
    let ended_in_time = match &pidfd {
        Ok(pidfd) => wait_readable(pidfd, timeout),
        Err(_) => true,
    };
    if !ended_in_time {
        // The hook and whatever it started in its group.
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        let _ = child.wait();
        return (false, format!("timed out after {:.1} s and was killed", timeout.as_secs_f64()));
    }
    let took = began.elapsed().as_secs_f64();
    match child.wait() {
        Ok(status) if status.success() => (true, format!("ended well ({took:.1} s)")),
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => (false, format!("failed: exit status {code}")),
            (None, Some(signal)) => (false, format!("failed: killed by signal {signal}")),
            _ => (false, "failed".to_owned()),
        },
        Err(err) => (false, format!("could not be waited for: {err}")),
    }
}

/// Waits until the pidfd's process ends (its pidfd turns readable) or `timeout` passes.
fn wait_readable(pidfd: &PidFd, timeout: Duration) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let millis = i32::try_from(left.as_millis().max(1)).unwrap_or(i32::MAX);
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX)) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => return true,
            Err(_) => return true,
        }
    }
}
