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
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::request::StartRequest;
use crate::jobs::error::{JobError, Result};
use crate::jobs::process::{SUPERVISE_COMMAND, marker};
use crate::jobs::record::id::JobId;
use crate::jobs::store::JobStore;
use crate::jobs::view::StartView;
use crate::sys::PidFd;

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
    /// The job's place (its worktree) could not be made: the message says why, and
    /// nothing was left.
    Unplaced {
        unplaced: String,
    },
}

/// Starts a job through `launcher __supervise` (this binary) and returns its start
/// result; with `spares`, through a supervisor started ahead of time when there is one.
pub fn launch(launcher: &Path, store: &JobStore, request: &StartRequest, deadline: Duration, spares: Option<&Spares>) -> Result<StartView> {
    for _ in 0..8 {
        let id = JobId::generate();
        let staging = uuid::Uuid::new_v4().simple().to_string();
        let supervise = SuperviseRequest::New { job_id: id.to_string(), staging, start: Box::new(request.clone()) };
        match launch_once(launcher, store, &supervise, deadline, spares) {
            Err(JobError::IdTaken(_)) => continue,
            other => return other,
        }
    }
    Err(JobError::Supervisor("eight fresh job ids in a row were taken".into()))
}

/// Starts a pending job through a supervisor (see [`super::queue`]).
pub fn launch_pending(launcher: &Path, store: &JobStore, id: &JobId, deadline: Duration) -> Result<StartView> {
    launch_once(launcher, store, &SuperviseRequest::Pending { job_id: id.to_string() }, deadline, None)
}

fn launch_once(
    launcher: &Path,
    store: &JobStore,
    request: &SuperviseRequest,
    deadline: Duration,
    spares: Option<&Spares>,
) -> Result<StartView> {
    let payload = serde_json::to_vec(request).map_err(|err| JobError::Supervisor(err.to_string()))?;
    let until = Instant::now() + deadline;
    // A spare takes the request at once; one that has died since refuses it unread,
    // and a new supervisor takes it instead.
    if let Some(spares) = spares
        && let Some(spare) = spares.take()
    {
        match spare.send(payload.clone()) {
            Ok(sent) => {
                let answer = sent.answer(store, request, until);
                // The next one is made once this start has its answer, not while it waits.
                spares.refill(launcher, store);
                return answer;
            }
            Err(err) => tracing::debug!(%err, "a spare supervisor was gone; starting one"),
        }
    }
    if let Some(spares) = spares {
        spares.refill(launcher, store);
    }
    let ready = Ready::start(launcher, store, until)?;
    let sent = ready.send(payload).map_err(|err| JobError::Supervisor(format!("sending the request: {err}")))?;
    sent.answer(store, request, until)
}

/// A supervisor that has said hello and waits for its request on stdin.
pub struct Ready {
    stdin: ChildStdin,
    lines: LineReader,
    supervisor_pid: i32,
}

/// A supervisor that has its request, and is about to answer.
struct Sent {
    lines: LineReader,
    supervisor_pid: i32,
    writer: Option<std::thread::JoinHandle<io::Result<()>>>,
}

/// What a supervisor's environment must not carry from its starter's:
/// - the bearer token (`CODEX_ASYNC_TOKEN`, one way to give a server its token): a
///   supervisor needs none, and its agent — any program, reading any repository — must
///   never see it;
/// - a job's marker (`CODEX_ASYNC_JOB_ID`): a job started from inside another job would
///   otherwise count as one of that job's processes, and be ended with it.
const NOT_INHERITED: [&str; 2] = ["CODEX_ASYNC_TOKEN", marker::JOB_ENV];

/// The supervisor's command: this program's hidden subcommand, with the home, without
/// what it must not inherit (see [`NOT_INHERITED`]), and with the open-files limit its
/// starter had before raising it (see [`crate::open_files`]).
fn supervise_command(launcher: &Path, store: &JobStore) -> Command {
    let mut command = Command::new(launcher);
    command.arg(SUPERVISE_COMMAND).env("CODEX_ASYNC_HOME", store.home());
    for name in NOT_INHERITED {
        command.env_remove(name);
    }
    match crate::open_files::before_raise() {
        Some(limit) => command.env(crate::open_files::LIMIT_ENV, limit.to_string()),
        None => command.env_remove(crate::open_files::LIMIT_ENV),
    };
    command
}

impl Ready {
    /// Runs `launcher __supervise` in its own process group and waits for the
    /// supervisor's hello; the spawned process forks it and exits, and is reaped here.
    fn start(launcher: &Path, store: &JobStore, until: Instant) -> Result<Ready> {
        let child = supervise_command(launcher, store)
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| JobError::Supervisor(format!("running {launcher:?}: {err}")))?;
        let mut child = SpawnedChild(Some(child));
        let stdin = child.0.as_mut().and_then(|child| child.stdin.take());
        let stdout = child.0.as_mut().and_then(|child| child.stdout.take());
        let (Some(stdin), Some(stdout)) = (stdin, stdout) else {
            return Err(JobError::Supervisor("no pipes to the supervisor".into()));
        };
        let mut lines = LineReader { stdout, buffer: Vec::new() };
        let hello: SupervisorHello = lines.next_json(until).map_err(JobError::Supervisor)?;
        // The spawned process only forks the supervisor and exits.
        child.reap();
        Ok(Ready { stdin, lines, supervisor_pid: hello.supervisor_pid })
    }

    /// Hands the request over. A request larger than a pipe holds is written from a
    /// thread, so a supervisor that never reads cannot block the starter.
    fn send(mut self, payload: Vec<u8>) -> io::Result<Sent> {
        let writer = if payload.len() <= PIPE_CAPACITY {
            self.stdin.write_all(&payload)?;
            drop(self.stdin);
            None
        } else {
            let mut stdin = self.stdin;
            Some(std::thread::spawn(move || stdin.write_all(&payload)))
        };
        Ok(Sent { lines: self.lines, supervisor_pid: self.supervisor_pid, writer })
    }
}

impl Sent {
    fn answer(mut self, store: &JobStore, request: &SuperviseRequest, until: Instant) -> Result<StartView> {
        let answer = self.lines.next_json::<SupervisorAnswer>(until);
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        match answer {
            Ok(SupervisorAnswer::Started(view)) => Ok(view),
            Ok(SupervisorAnswer::Taken { .. }) => Err(JobError::IdTaken(request.job_id().to_owned())),
            Ok(SupervisorAnswer::Failed { failed }) => Err(JobError::Supervisor(failed)),
            Ok(SupervisorAnswer::Unplaced { unplaced }) => Err(JobError::Unplaced(unplaced)),
            Err(problem) => {
                abandon(store, request, self.supervisor_pid);
                Err(JobError::Supervisor(problem))
            }
        }
    }
}

/// One supervisor kept ready, so a start does not wait for a process to be born: the
/// MCP servers and the dashboard keep one; a one-shot command does not. A spare waits
/// on its stdin and ends when its owner does (its stdin closes).
#[derive(Clone, Default)]
pub struct Spares {
    slot: Arc<Mutex<Option<Ready>>>,
    /// A spare is being made.
    making: Arc<AtomicBool>,
}

impl std::fmt::Debug for Spares {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spares").finish_non_exhaustive()
    }
}

impl Spares {
    fn take(&self) -> Option<Ready> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// Makes a spare in the background unless there is one, or one is being made.
    pub fn refill(&self, launcher: &Path, store: &JobStore) {
        if self.slot.lock().unwrap_or_else(PoisonError::into_inner).is_some() || self.making.swap(true, Ordering::AcqRel) {
            return;
        }
        let (spares, launcher, store) = (self.clone(), launcher.to_owned(), store.clone());
        let made = std::thread::Builder::new().name("spare-supervisor".into()).spawn(move || {
            match Ready::start(&launcher, &store, Instant::now() + START_DEADLINE) {
                Ok(ready) => *spares.slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(ready),
                Err(err) => tracing::debug!(%err, "no spare supervisor"),
            }
            spares.making.store(false, Ordering::Release);
        });
        if made.is_err() {
            self.making.store(false, Ordering::Release);
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
    let ours = store.read_meta_raw(&id).is_ok_and(|meta| meta.details.supervisor_pid == Some(i64::from(supervisor_pid)));
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

    #[test]
    fn supervisors_inherit_neither_the_token_nor_a_job_marker() {
        assert!(NOT_INHERITED.contains(&crate::mcp::token::TOKEN_ENV));
        let command = supervise_command(Path::new("/bin/true"), &JobStore::new("/tmp/home"));
        for name in NOT_INHERITED {
            let set = command.get_envs().find(|(key, _)| *key == name).map(|(_, value)| value);
            assert_eq!(set, Some(None), "{name} is removed, whatever the starter has");
        }
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
        let err = launch(&launcher, &store, &request, Duration::from_millis(300), None).unwrap_err().to_string();
        assert!(err.contains("did not answer"), "{err}");
        assert!(began.elapsed() < Duration::from_secs(5));
        assert!(std::fs::read_dir(store.jobs_dir()).map_or(true, |mut entries| entries.next().is_none()));
        let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        assert!(crate::jobs::process::procfs::stat(pid).is_none(), "the silent launcher was killed and reaped, not left a zombie");
    }
}
