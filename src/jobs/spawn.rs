//! Starting a job: checks the request, hands it to a supervisor process, and returns as
//! soon as the job is on disk (synced) and its agent runs.
//!
//! The starter runs `codex-async __supervise` in a new process group (so a terminal's
//! Ctrl-C never reaches it), writes the request on its stdin and reads two lines back:
//! a hello naming the supervisor (the spawned process forks it and exits at once, so
//! the starter reaps its child right away and leaves no zombie, however long the job
//! runs), then the start result. The job id is chosen here, so a supervisor that does
//! not answer within [`START_DEADLINE`] can be ended and its half-made job removed.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::error::{JobError, Result};
use super::id::JobId;
use super::marker;
use super::request::StartRequest;
use super::store::JobStore;
use super::view::StartView;
use crate::sys::PidFd;

/// The hidden subcommand that runs a supervisor.
pub const SUPERVISE_COMMAND: &str = "__supervise";
/// How long a starter waits for a supervisor's answer before it gives up on it.
pub const START_DEADLINE: Duration = Duration::from_secs(10);
/// Requests up to this size fit an empty pipe and are written at once; larger ones are
/// written from a thread, so a supervisor that never reads cannot block the starter.
const PIPE_CAPACITY: usize = 60 * 1024;

/// What a starter sends a supervisor.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum SuperviseRequest {
    /// Make this job and run it.
    New {
        job_id: String,
        /// The name of the hidden folder the job is assembled in (`jobs/.new-<staging>`).
        staging: String,
        start: Box<StartRequest>,
    },
    /// Run this pending job (its request is in its folder).
    Pending { job_id: String },
}

impl SuperviseRequest {
    pub fn job_id(&self) -> &str {
        match self {
            SuperviseRequest::New { job_id, .. } | SuperviseRequest::Pending { job_id } => job_id,
        }
    }
}

/// A supervisor's first line.
#[derive(Debug, Serialize, Deserialize)]
pub struct SupervisorHello {
    pub supervisor_pid: i32,
}

/// A supervisor's second (last) line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SupervisorAnswer {
    Started(StartView),
    /// The job id exists already: the starter tries another.
    Taken {
        taken: String,
    },
    Failed {
        failed: String,
    },
}

/// Starts a job through `launcher __supervise` (this binary) and returns its start result.
pub fn launch(launcher: &Path, store: &JobStore, request: &StartRequest, deadline: Duration) -> Result<StartView> {
    for _ in 0..8 {
        let id = JobId::generate();
        let staging = uuid::Uuid::new_v4().simple().to_string();
        let supervise = SuperviseRequest::New { job_id: id.to_string(), staging, start: Box::new(request.clone()) };
        match launch_once(launcher, store, &supervise, deadline) {
            Err(JobError::IdTaken(_)) => continue,
            other => return other,
        }
    }
    Err(JobError::Supervisor("eight fresh job ids in a row were taken".into()))
}

/// Starts a pending job through a supervisor (see [`super::queue`]).
pub fn launch_pending(launcher: &Path, store: &JobStore, id: &JobId, deadline: Duration) -> Result<StartView> {
    launch_once(launcher, store, &SuperviseRequest::Pending { job_id: id.to_string() }, deadline)
}

fn launch_once(launcher: &Path, store: &JobStore, request: &SuperviseRequest, deadline: Duration) -> Result<StartView> {
    let payload = serde_json::to_vec(request).map_err(|err| JobError::Supervisor(err.to_string()))?;
    let child = Command::new(launcher)
        .arg(SUPERVISE_COMMAND)
        .env("CODEX_ASYNC_HOME", store.home())
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| JobError::Supervisor(format!("running {launcher:?}: {err}")))?;
    let mut child = SpawnedChild(Some(child));
    let until = Instant::now() + deadline;

    let stdin = child.0.as_mut().and_then(|child| child.stdin.take());
    let stdout = child.0.as_mut().and_then(|child| child.stdout.take());
    let (Some(mut stdin), Some(stdout)) = (stdin, stdout) else {
        return Err(JobError::Supervisor("no pipes to the supervisor".into()));
    };
    let writer = if payload.len() <= PIPE_CAPACITY {
        stdin.write_all(&payload).map_err(|err| JobError::Supervisor(format!("sending the request: {err}")))?;
        drop(stdin);
        None
    } else {
        Some(std::thread::spawn(move || stdin.write_all(&payload)))
    };

    let mut lines = LineReader { stdout, buffer: Vec::new() };
    let mut supervisor_pid = None;
    let answer = (|| {
        let hello: SupervisorHello = lines.next_json(until)?;
        supervisor_pid = Some(hello.supervisor_pid);
        // The spawned process only forks the supervisor and exits.
        child.reap();
        lines.next_json::<SupervisorAnswer>(until)
    })();
    drop(child);
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    match answer {
        Ok(SupervisorAnswer::Started(view)) => Ok(view),
        Ok(SupervisorAnswer::Taken { .. }) => Err(JobError::IdTaken(request.job_id().to_owned())),
        Ok(SupervisorAnswer::Failed { failed }) => Err(JobError::Supervisor(failed)),
        Err(problem) => {
            if let Some(pid) = supervisor_pid {
                abandon(store, request, pid);
            }
            Err(JobError::Supervisor(problem))
        }
    }
}

/// The process the starter spawned: killed and reaped if it is still there when dropped.
struct SpawnedChild(Option<Child>);

impl SpawnedChild {
    fn reap(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.wait();
        }
    }
}

impl Drop for SpawnedChild {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Ends a supervisor that did not answer in time and removes what it made, so a failed
/// start leaves nothing behind.
fn abandon(store: &JobStore, request: &SuperviseRequest, supervisor_pid: i32) {
    // Only a process that is still this job's supervisor is ended: its command line
    // names the supervise command, and the pidfd pins it while we look.
    if let Ok(pidfd) = PidFd::open(supervisor_pid) {
        let cmdline = std::fs::read(format!("/proc/{supervisor_pid}/cmdline")).unwrap_or_default();
        if cmdline.split(|&byte| byte == 0).any(|arg| arg == SUPERVISE_COMMAND.as_bytes()) {
            let _ = pidfd.send(nix::sys::signal::Signal::SIGKILL);
        }
    }
    let Ok(id) = JobId::parse(request.job_id()) else { return };
    marker::signal_all(&id, nix::sys::signal::Signal::SIGKILL);
    // A pending job stays (it turns back into pending or is settled as lost); a new one goes.
    let SuperviseRequest::New { staging, .. } = request else { return };
    if let Ok(staging) = store.staging_path(staging) {
        let _ = std::fs::remove_dir_all(staging);
    }
    let ours = store.read_meta_raw(&id).is_ok_and(|meta| meta.supervisor_pid == Some(i64::from(supervisor_pid)));
    if ours {
        let _ = std::fs::remove_dir_all(store.job_dir(&id));
    }
}

/// Reads newline-ended lines from a pipe, giving up at a deadline.
struct LineReader {
    stdout: ChildStdout,
    buffer: Vec<u8>,
}

impl LineReader {
    fn next_json<T: serde::de::DeserializeOwned>(&mut self, until: Instant) -> std::result::Result<T, String> {
        let line = self.next_line(until)?;
        serde_json::from_slice(&line).map_err(|_| format!("it answered something else: {:?}", String::from_utf8_lossy(&line)))
    }

    fn next_line(&mut self, until: Instant) -> std::result::Result<Vec<u8>, String> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        loop {
            if let Some(end) = self.buffer.iter().position(|&byte| byte == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Ok(line[..line.len() - 1].to_vec());
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("it did not answer within {} s (a stuck disk?); nothing was started", START_DEADLINE.as_secs()));
            }
            let millis = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(self.stdout.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(millis)) {
                Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
                Ok(_) => {}
                Err(err) => return Err(format!("waiting for its answer: {err}")),
            }
            let mut chunk = [0u8; 4096];
            match self.stdout.read(&mut chunk) {
                Ok(0) => return Err("it ended without answering".into()),
                Ok(read) => self.buffer.extend_from_slice(&chunk[..read]),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(format!("reading its answer: {err}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::{AgentSpec, ApprovalPolicy};

    fn agent() -> AgentSpec {
        AgentSpec::Codex { program: "codex".into() }
    }

    /// A launcher that never answers: the start fails by the deadline, the process is
    /// reaped (no zombie), and no folder is left.
    #[test]
    fn a_silent_supervisor_fails_the_start_by_the_deadline() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let launcher = home.path().join("silent");
        let pid_file = home.path().join("pid");
        std::fs::write(&launcher, format!("#!/bin/sh\necho $$ > {}\nexec sleep 60\n", pid_file.display())).unwrap();
        std::fs::set_permissions(&launcher, std::fs::Permissions::from_mode(0o755)).unwrap();
        let store = JobStore::new(home.path().join("home"));
        let request = StartRequest::new("p", home.path(), ApprovalPolicy::Suggest, agent()).unwrap();
        let began = Instant::now();
        let err = launch(&launcher, &store, &request, Duration::from_millis(300)).unwrap_err().to_string();
        assert!(err.contains("did not answer"), "{err}");
        assert!(began.elapsed() < Duration::from_secs(5));
        assert!(std::fs::read_dir(store.jobs_dir()).map_or(true, |mut entries| entries.next().is_none()));
        let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        assert!(crate::jobs::procfs::stat(pid).is_none(), "the silent launcher was killed and reaped, not left a zombie");
    }
}
