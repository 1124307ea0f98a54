//! The supervisor: one small process per job, owning it from start to result.
//!
//! It runs in its own session, so the job outlives whoever started it. It is a child
//! subreaper, so descendants that leave the agent's process group (codex runs each
//! tool in its own session) are re-parented to it and can still be ended. It alone
//! reaps the agent, so the exit code it records is exact, never guessed.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use tokio::signal::unix::{Signal as SignalStream, SignalKind, signal};
use tokio::time::{Instant, sleep, sleep_until};

use super::cancel::{self, CancelRequest, DEFAULT_GRACE};
use super::error::{JobError, Result};
use super::id::JobId;
use super::meta::{JobMeta, Status, Timestamp, open_append};
use super::procfs;
use super::spawn::{StartRequest, SupervisorAnswer};
use super::store::JobStore;
use super::view::StartView;

/// Descendants still alive after the agent exited get SIGTERM, then SIGKILL after this.
const AFTER_EXIT_GRACE: Duration = Duration::from_secs(2);
/// The environment variable that marks every process of a job, escaped ones included.
pub const JOB_ENV: &str = "CODEX_ASYNC_JOB_ID";

/// Entry point of the hidden `__supervise` subcommand.
pub fn main() -> ExitCode {
    // Its own session: no terminal, no shared process group with the starter.
    let _ = nix::unistd::setsid();
    let _ = nix::sys::prctl::set_child_subreaper(true);

    let mut input = Vec::new();
    let request: std::result::Result<StartRequest, String> = std::io::stdin()
        .read_to_end(&mut input)
        .map_err(|err| err.to_string())
        .and_then(|_| serde_json::from_slice(&input).map_err(|err| format!("bad request: {err}")));
    let request = match request {
        Ok(request) => request,
        Err(failed) => return answer_failed(failed),
    };
    let store = match JobStore::from_env() {
        Ok(store) => store,
        Err(err) => return answer_failed(err.to_string()),
    };
    let _log_guard = crate::logging::init_file(&store, "supervisor");

    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => return answer_failed(format!("no runtime: {err}")),
    };
    match runtime.block_on(supervise(store, request)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(%err, "supervisor failed");
            ExitCode::FAILURE
        }
    }
}

fn answer(answer: &SupervisorAnswer) {
    let mut stdout = std::io::stdout().lock();
    let _ = serde_json::to_writer(&mut stdout, answer);
    let _ = stdout.write_all(b"\n");
    let _ = stdout.flush();
    drop(stdout);
    // Let the starter's read end now, not when this process exits.
    if let Ok(null) = std::fs::File::open("/dev/null") {
        let _ = nix::unistd::dup2_stdout(&null);
    }
}

fn answer_failed(failed: String) -> ExitCode {
    answer(&SupervisorAnswer::Failed { failed });
    ExitCode::FAILURE
}

struct Signals {
    child: SignalStream,
    cancel: SignalStream,
    terminate: SignalStream,
    interrupt: SignalStream,
    hangup: SignalStream,
}

impl Signals {
    fn register() -> std::io::Result<Self> {
        Ok(Signals {
            child: signal(SignalKind::child())?,
            cancel: signal(SignalKind::user_defined1())?,
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }
}

async fn supervise(store: JobStore, request: StartRequest) -> Result<()> {
    // Listen before the agent exists, so its exit can never be missed.
    let mut signals = match Signals::register() {
        Ok(signals) => signals,
        Err(err) => {
            answer_failed(format!("cannot listen for signals: {err}"));
            return Err(JobError::Supervisor(err.to_string()));
        }
    };
    let me = std::process::id() as i32;
    let now = Timestamp::now();
    let initial_meta = |id: &JobId| {
        let argv = request.agent.argv(request.policy, &store.last_message_path(id), &request.prompt);
        JobMeta {
            job_id: id.to_string(),
            status: Status::Running,
            prompt: request.prompt.clone(),
            cwd: request.cwd.to_string_lossy().into_owned(),
            approval_policy: request.policy.to_string(),
            pid: None,
            started_at: Some(now),
            finished_at: None,
            exit_code: None,
            agent: Some(request.agent.name().to_owned()),
            command: Some(argv.iter().map(|arg| arg.to_string_lossy().into_owned()).collect()),
            pgid: None,
            supervisor_pid: Some(me as i64),
            supervisor_start_ticks: procfs::start_ticks(me),
            signal: None,
            created_at: Some(now),
            note: None,
            extra: Default::default(),
        }
    };
    let (id, mut meta) = match store.create(initial_meta) {
        Ok(created) => created,
        Err(err) => {
            answer_failed(err.to_string());
            return Err(err);
        }
    };
    let argv = request.agent.argv(request.policy, &store.last_message_path(&id), &request.prompt);
    let prepared = open_append(&store.output_path(&id));
    let output = match prepared {
        Ok(output) => output,
        Err(err) => {
            // Nothing ran: leave no half job behind.
            let _ = std::fs::remove_dir_all(store.job_dir(&id));
            answer_failed(err.to_string());
            return Err(err);
        }
    };

    let spawned = output.try_clone().and_then(|stderr| {
        Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(&request.cwd)
            .env(JOB_ENV, id.as_str())
            .stdin(Stdio::null())
            .stdout(Stdio::from(output.try_clone()?))
            .stderr(Stdio::from(stderr))
            .process_group(0)
            .spawn()
    });
    let agent = match spawned {
        Ok(agent) => Pid::from_raw(agent.id() as i32),
        Err(err) => {
            let (code, line) = describe_spawn_failure(&request, &err);
            let _ = (&output).write_all(line.as_bytes());
            meta.status = Status::Error;
            meta.exit_code = Some(code);
            meta.finished_at = Some(Timestamp::now());
            meta.note = Some(line.trim_end().trim_start_matches("codex-async: ").to_owned());
            let written = store.write_final_meta(&meta);
            answer(&SupervisorAnswer::Started(StartView {
                job_id: id.to_string(),
                status: Status::Error,
                pid: None,
                error: meta.note.clone(),
            }));
            return written;
        }
    };
    drop(output);

    meta.pid = Some(agent.as_raw() as i64);
    meta.pgid = Some(agent.as_raw() as i64);
    meta.started_at = Some(Timestamp::now());
    if let Err(err) = store.write_meta(&meta) {
        tracing::error!(job = %id, %err, "could not record the agent's pid");
    }
    answer(&SupervisorAnswer::Started(StartView { job_id: id.to_string(), status: Status::Running, pid: meta.pid, error: None }));
    tracing::info!(job = %id, pid = agent.as_raw(), "agent started");

    let ended = run_until_exit(&store, &id, agent, &mut signals).await;
    end_descendants(me, ended.kill_deadline, &mut signals).await;
    record_result(&store, &id, meta, &ended)
}

fn describe_spawn_failure(request: &StartRequest, err: &std::io::Error) -> (i64, String) {
    let program = request.agent.program();
    if !request.cwd.is_dir() {
        return (127, format!("codex-async: cwd {:?} is no longer a folder\n", request.cwd));
    }
    match err.kind() {
        std::io::ErrorKind::NotFound => (127, format!("codex-async: agent binary '{program}' not found; set CODEX_BIN to its path\n")),
        std::io::ErrorKind::PermissionDenied => {
            (126, format!("codex-async: agent binary '{program}' is not executable; set CODEX_BIN to a runnable codex\n"))
        }
        _ => (126, format!("codex-async: could not run agent binary '{program}': {err}\n")),
    }
}

/// How the agent's run ended.
struct Ended {
    status: WaitStatus,
    /// Why a cancel began, if one did.
    cancelled_by: Option<String>,
    kill_deadline: Instant,
}

/// A cancel in progress: SIGINT at once, SIGTERM at half the grace period, SIGKILL at its end.
struct Escalation {
    began: Instant,
    grace: Duration,
    next: Option<Signal>,
}

impl Escalation {
    fn begin(supervisor: i32, agent: Pid, grace: Duration) -> Self {
        cancel::signal_tree(Some(agent.as_raw()), &procfs::descendants(supervisor), Signal::SIGINT);
        Escalation { began: Instant::now(), grace, next: Some(Signal::SIGTERM) }
    }

    fn next_at(&self) -> Option<Instant> {
        match self.next? {
            Signal::SIGTERM => Some(self.began + self.grace / 2),
            _ => Some(self.began + self.grace),
        }
    }

    fn advance(&mut self, supervisor: i32, agent: Pid) {
        let Some(signal) = self.next else { return };
        cancel::signal_tree(Some(agent.as_raw()), &procfs::descendants(supervisor), signal);
        self.next = (signal == Signal::SIGTERM).then_some(Signal::SIGKILL);
    }
}

async fn run_until_exit(store: &JobStore, id: &JobId, agent: Pid, signals: &mut Signals) -> Ended {
    let me = std::process::id() as i32;
    let mut escalation: Option<Escalation> = None;
    let mut cancelled_by: Option<String> = None;
    loop {
        if let Some(status) = reap(agent) {
            let kill_deadline = escalation.as_ref().map_or_else(|| Instant::now() + AFTER_EXIT_GRACE, |e| e.began + e.grace);
            return Ended { status, cancelled_by, kill_deadline };
        }
        let next_at = escalation.as_ref().and_then(Escalation::next_at);
        let reason = tokio::select! {
            _ = signals.child.recv() => None,
            _ = signals.cancel.recv() => Some("cancelled by request"),
            _ = signals.terminate.recv() => Some("cancelled: the supervisor received SIGTERM"),
            _ = signals.interrupt.recv() => Some("cancelled: the supervisor received SIGINT"),
            _ = signals.hangup.recv() => Some("cancelled: the supervisor received SIGHUP"),
            _ = sleep_until(next_at.unwrap_or_else(Instant::now)), if next_at.is_some() => {
                if let Some(escalation) = escalation.as_mut() {
                    escalation.advance(me, agent);
                }
                None
            }
        };
        if let (Some(reason), None) = (reason, &escalation) {
            let grace = CancelRequest::read(&store.cancel_path(id)).map_or(DEFAULT_GRACE, |request| request.grace());
            tracing::info!(job = %id, ?grace, reason, "cancelling");
            cancelled_by = Some(reason.to_owned());
            escalation = Some(Escalation::begin(me, agent, grace));
        }
    }
}

/// Collects every exited child (adopted orphans included); returns the agent's status
/// if it was among them.
fn reap(agent: Pid) -> Option<WaitStatus> {
    let mut agent_status = None;
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return agent_status,
            Ok(status) if status.pid() == Some(agent) => agent_status = Some(status),
            Ok(_) => {}
        }
    }
}

/// Ends whatever the agent left behind: SIGTERM now, SIGKILL at the deadline.
async fn end_descendants(me: i32, kill_deadline: Instant, signals: &mut Signals) {
    let mut terminated = false;
    loop {
        reap(Pid::from_raw(0));
        let left = procfs::descendants(me);
        if left.is_empty() {
            return;
        }
        if !terminated {
            tracing::info!(count = left.len(), "ending processes the agent left behind");
            cancel::signal_tree(None, &left, Signal::SIGTERM);
            terminated = true;
        }
        if Instant::now() >= kill_deadline {
            cancel::signal_tree(None, &left, Signal::SIGKILL);
        }
        // Grandchildren are not our children: their exit raises no SIGCHLD here, so
        // look again shortly as well.
        tokio::select! {
            _ = signals.child.recv() => {}
            _ = sleep(Duration::from_millis(50)) => {}
        }
    }
}

fn record_result(store: &JobStore, id: &JobId, started: JobMeta, ended: &Ended) -> Result<()> {
    // Start from the file, not memory: keys another process added are kept.
    let mut meta = store.read_meta_raw(id).unwrap_or(started);
    let (exit_code, signal) = match ended.status {
        WaitStatus::Exited(_, code) => (code as i64, None),
        WaitStatus::Signaled(_, signal, _) => (128 + signal as i64, Some(signal)),
        _ => (-1, None),
    };
    let cancel_requested = ended.cancelled_by.is_some() || store.cancel_path(id).exists();
    meta.status = if cancel_requested {
        Status::Cancelled
    } else if exit_code == 0 {
        Status::Done
    } else {
        Status::Error
    };
    meta.exit_code = Some(exit_code);
    meta.signal = signal.map(|signal| signal.as_str().to_owned());
    meta.finished_at = Some(Timestamp::now());
    meta.note = match (&ended.cancelled_by, signal) {
        (Some(reason), _) => Some(reason.clone()),
        (None, _) if cancel_requested => Some("cancelled by request".to_owned()),
        (None, Some(signal)) => Some(format!("the agent was killed by {}", signal.as_str())),
        (None, None) => None,
    };
    tracing::info!(job = %id, status = %meta.status, exit_code, "job ended");
    store.write_final_meta(&meta)
}
