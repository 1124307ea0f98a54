//! One job's life in its supervisor: take it (a new job, or a pending one), run the
//! agent, record the result, clean up, and let the queue move on.
//!
//! The supervisor keeps its job's record in memory (see `jobs::store::kept`) and writes it
//! whole, from its start request and what it learns — never from what the file says,
//! which anyone can rewrite while the job runs. Its result is its own.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::unistd::Pid;
use tokio::time::Instant;

use super::cleanup;
use super::events::Observed;
use super::handshake::answer;
use super::isolation;
use super::resume;
use super::run::{self, Ended, Signals};
use super::stream::{Pump, agent_pipes};
use super::take::{NotTaken, take_new, take_pending};
use super::waiting;
use crate::atomic::{self, Durability};
use crate::jobs::agent::MAX_PROMPT_BYTES;
use crate::jobs::cancel::DEFAULT_GRACE;
use crate::jobs::git;
use crate::jobs::hooks::{self, HookEvent};
use crate::jobs::process::marker::JOB_ENV;
use crate::jobs::process::owner::OwnerLock;
use crate::jobs::record::jobfile;
use crate::jobs::record::meta::open_append;
use crate::jobs::schedule::hold;
use crate::jobs::start::queue;
use crate::jobs::start::request::PROMPT_FILE;
use crate::jobs::start::spawn::{SuperviseRequest, SupervisorAnswer};
use crate::jobs::store::kept::KeptMeta;
use crate::jobs::{JobError, JobId, JobMeta, JobStore, Result, StartRequest, StartView, Status, Timestamp};

/// Answers the starter with a failure, and hands the error on.
fn refuse<T>(err: JobError) -> Result<T> {
    match &err {
        JobError::IdTaken(taken) => answer(&SupervisorAnswer::Taken { taken: taken.clone() }),
        JobError::Unplaced(unplaced) => answer(&SupervisorAnswer::Unplaced { unplaced: unplaced.clone() }),
        other => answer(&SupervisorAnswer::Failed { failed: other.to_string() }),
    }
    Err(err)
}

pub async fn supervise(store: JobStore, request: SuperviseRequest) -> Result<()> {
    // Listen before the job is ours: a cancel that comes the moment it appears is heard,
    // and the agent's exit can never be missed.
    let mut signals = match Signals::register() {
        Ok(signals) => signals,
        Err(err) => return refuse(JobError::Supervisor(format!("cannot listen for signals: {err}"))),
    };
    let id = match JobId::parse(request.job_id()) {
        Ok(id) => id,
        Err(err) => return refuse(err),
    };
    let mut placed = None;
    let taken = match request {
        SuperviseRequest::New { staging, start, .. } => {
            // A worktree is made before the job: a job that cannot have one is not made.
            let mut start = *start;
            placed = match isolation::place_job(&id, &mut start).await {
                Ok(placed) => placed,
                Err(reason) => return refuse(JobError::Unplaced(reason)),
            };
            take_new(&store, &id, &staging, start, placed.as_ref())
        }
        SuperviseRequest::Pending { .. } => match take_pending(&store, &id) {
            Ok((owner, meta, mut start)) => {
                let record = KeptMeta::new(&store, meta.clone());
                match isolation::place_job(&id, &mut start).await {
                    Ok(found) => {
                        placed = found;
                        let meta = isolation::marked(&store, &id, &record, &start, placed.as_ref());
                        Ok((owner, meta, start))
                    }
                    Err(reason) => {
                        return failed_to_start(&store, &id, owner, &record, None, &format!("codex-async: could not start: {reason}\n"));
                    }
                }
            }
            Err(NotTaken::Refused(err)) => Err(err),
            Err(NotTaken::CannotStart { owner, meta, reason }) => {
                let record = KeptMeta::new(&store, *meta);
                return failed_to_start(&store, &id, owner, &record, None, &format!("codex-async: could not start: {reason}\n"));
            }
        },
    };
    let (owner, meta, start) = match taken {
        Ok(taken) => taken,
        Err(err) => return refuse(err),
    };
    let record = KeptMeta::new(&store, meta);
    // A job that waits for its moment: the starter hears `pending`, the agent starts later.
    let owner = if record.read(|meta| meta.status == Status::Pending) {
        answer(&SupervisorAnswer::Started(StartView {
            job_id: id.to_string(),
            status: Status::Pending,
            pid: None,
            error: None,
            queue_position: None,
            notice: placed.as_ref().and_then(|placed| placed.notice.clone()),
            worktree: placed.as_ref().map(|placed| placed.worktree.to_string_lossy().into_owned()),
            branch: placed.as_ref().map(|placed| placed.branch.clone()),
        }));
        crate::logging::init(&store.logs_dir(), crate::logging::Role::Supervisor);
        match waiting::until_turn(&store, &id, owner, &record, &start, &mut signals).await {
            waiting::Turn::Run(owner) => owner,
            waiting::Turn::Over(result) => return result,
        }
    } else {
        owner
    };

    let (agent, pump) = match spawn_agent(&store, &id, &record, &start) {
        Ok(spawned) => spawned,
        Err((code, line)) => return failed_to_start(&store, &id, owner, &record, Some(code), &line),
    };
    answer(&SupervisorAnswer::Started(StartView {
        job_id: id.to_string(),
        status: Status::Running,
        pid: Some(i64::from(agent.as_raw())),
        error: None,
        queue_position: None,
        notice: placed.as_ref().and_then(|placed| placed.notice.clone()),
        worktree: placed.as_ref().map(|placed| placed.worktree.to_string_lossy().into_owned()),
        branch: placed.as_ref().map(|placed| placed.branch.clone()),
    }));
    // After the answer: a starter waits for nothing below.
    // What the job's changes are measured against (read from `.git`: no process).
    let git_head = git::head(&start.cwd);
    let has_base = git_head.is_some() && placed.is_none();
    let recorded_pid = record.update(|meta| {
        meta.pid = Some(i64::from(agent.as_raw()));
        meta.details.pgid = meta.pid;
        meta.git_head = git_head;
    });
    if let Err(err) = recorded_pid {
        tracing::warn!(job = %id, %err, "could not record the agent's pid");
    }
    crate::logging::init(&store.logs_dir(), crate::logging::Role::Supervisor);
    tracing::info!(job = %id, pid = agent.as_raw(), "agent started");
    hooks::fire(&store, &id, &record.snapshot(), HookEvent::OnStart);

    // Whether that tree was dirty is asked of git while the agent runs; an agent that
    // ends first does without it.
    let heard = pump.heard();
    let ended = {
        let exit = run::until_exit(&store, &id, agent, &start.limits, &mut signals, &heard, &record);
        let dirty = async {
            if has_base {
                git::record_dirty(&record, &start.cwd).await;
            }
        };
        tokio::pin!(exit, dirty);
        tokio::select! {
            ended = &mut exit => ended,
            () = &mut dirty => exit.await,
        }
    };
    let observed = pump.finish(Instant::now() + DRAIN).await;
    keep_final_message(&store, &id, &observed);
    // What the job changed, frozen before its result is told: a reader that waited
    // for the end finds it.
    let lost_worktree = crate::jobs::worktree::freeze(&store, &id, &record, placed.as_ref(), &start.cwd).await;
    // A usage limit holds the agent's queue before the result can be read: a start that
    // follows the end is held.
    if judged(&ended, &observed, lost_worktree.is_some()) == Status::Error
        && let Some(limit) = &observed.limit
    {
        hold::record(&store, start.agent.name(), limit, id.as_str());
    }
    // The moment the result can be read, the job is no longer run, only kept (its
    // leftovers are being ended), and readers are told so, before the result is synced.
    let recorded = record_result(&store, &record, &id, &ended, &observed, lost_worktree, || {
        if let Err(err) = owner.keep_shared() {
            tracing::warn!(job = %id, %err, "could not keep the job's lock shared after its result");
        }
    });
    if recorded.is_ok() {
        hooks::owed::pay_kept(&store, &id, &record);
    }
    let grace = ended.grace.or(start.limits.cancel_grace).unwrap_or(DEFAULT_GRACE);
    let survivors = cleanup::end_leftovers(&id, grace, &mut signals).await;
    if !survivors.is_empty() {
        note_survivors(&record, &id, &survivors);
    }
    // The last word is the supervisor's: whatever was written meanwhile does not stay.
    match record.restore() {
        Ok(true) => tracing::warn!(job = %id, "its meta was rewritten by another process; the supervisor's record was written back"),
        Ok(false) => {}
        Err(err) => tracing::warn!(job = %id, %err, "could not check the job's meta before letting it go"),
    }
    drop(owner);
    finish(&store, &id);
    resume::after_limit(&store, &id, &start, &record.snapshot());
    recorded
}

/// How long the stream is read after the agent ended: what it wrote is in the pipe by
/// then; only a process it left behind could still be writing.
const DRAIN: Duration = Duration::from_millis(250);

/// The job is over: it leaves the queue's count, and the next pending one may start.
fn finish(store: &JobStore, id: &JobId) {
    queue::ended(store, id);
    // Supervisors started from here are not this one's descendants to end.
    let _ = nix::sys::prctl::set_child_subreaper(false);
    match crate::jobs::this_program().map(|launcher| queue::advance(&launcher, store)) {
        Ok(Ok(started)) if !started.is_empty() => tracing::info!(?started, "started pending jobs"),
        Ok(Err(err)) | Err(err) => tracing::warn!(%err, "could not move the queue on"),
        Ok(Ok(_)) => {}
    }
}

/// The job is ours but its agent never ran: the reason goes to its output and its
/// note, the job is recorded as `error` (the starter is told so), and the queue moves on.
/// A pending job whose failure cannot be recorded either (a full disk) stays pending,
/// and the starter is told it failed: the queue tries it again at its next look.
fn failed_to_start(store: &JobStore, id: &JobId, owner: OwnerLock, record: &KeptMeta, code: Option<i64>, line: &str) -> Result<()> {
    tracing::warn!(job = %id, reason = line.trim_end(), "the job could not start");
    if let Ok(mut output) = open_append(&store.output_path(id)) {
        let _ = output.write_all(line.as_bytes());
    }
    let was_pending = record.read(|meta| meta.status == Status::Pending);
    let note = line.trim_end().trim_start_matches("codex-async: ").to_owned();
    let written = record.finish(
        |meta| {
            meta.status = Status::Error;
            meta.exit_code = code;
            meta.finished_at = Some(Timestamp::now());
            meta.details.note = Some(note.clone());
            hooks::owed::owe(store, meta, HookEvent::OnFinish);
        },
        || {
            let _ = owner.keep_shared();
        },
    );
    if written.is_ok() {
        hooks::owed::pay_kept(store, id, record);
    }
    match &written {
        Err(err) if was_pending => {
            answer(&SupervisorAnswer::Failed { failed: format!("job {id} could not start, nor record why ({err})") })
        }
        _ => {
            let view = StartView {
                job_id: id.to_string(),
                status: Status::Error,
                pid: None,
                error: Some(note),
                queue_position: None,
                notice: None,
                worktree: None,
                branch: None,
            };
            answer(&SupervisorAnswer::Started(view));
        }
    }
    drop(owner);
    finish(store, id);
    written
}

/// Starts the agent in its own process group, marked with the job's id. Its stdin is
/// the prompt file when the prompt goes that way, else /dev/null; its stdout and stderr
/// are pipes to the pump, which writes the job's output. Every descriptor of this
/// process is close-on-exec, so the agent inherits none of them.
fn spawn_agent(store: &JobStore, id: &JobId, record: &KeptMeta, start: &StartRequest) -> std::result::Result<(Pid, Pump), (i64, String)> {
    let failed = |what: &str, err: &dyn std::fmt::Display| (126, format!("codex-async: {what}: {err}\n"));
    let command = start.command(store, id);
    if start.policy == crate::jobs::ApprovalPolicy::Ask {
        let program = std::env::current_exe().map_err(|err| failed("cannot find this program for the approval endpoint", &err))?;
        crate::jobs::approval::write_endpoint_config(store, id, &program)
            .map_err(|err| failed("cannot write the approval endpoint's configuration", &err))?;
    }
    let stdin = if start.prompt_on_stdin() {
        Stdio::from(open_prompt(store, id).map_err(|err| failed("cannot open the prompt file", &err))?)
    } else {
        Stdio::null()
    };
    let stream = start.agent.stream();
    let (agent_ends, pump_ends) = agent_pipes(stream).map_err(|err| failed("cannot make pipes for the agent's output", &err))?;
    let pump = Pump::start(store, id, record, stream, pump_ends, start.limits.max_output, start.limits.max_tokens)
        .map_err(|err| failed("cannot read the agent's output", &err))?;
    // The command, and with it this process's copies of the agent's ends, goes at the
    // end of this statement: the pump then sees the streams end when the agent's do.
    let spawned = Command::new(&command.argv[0])
        .args(&command.argv[1..])
        .envs(command.env.iter().map(|(key, value)| (key, value)))
        .current_dir(&start.cwd)
        .env(JOB_ENV, id.as_str())
        .env_remove(crate::open_files::LIMIT_ENV)
        .stdin(stdin)
        .stdout(agent_ends.stdout)
        .stderr(agent_ends.stderr)
        .process_group(0)
        .spawn();
    match spawned {
        // The child is reaped by pid in `run`, never through this handle.
        Ok(agent) => Ok((Pid::from_raw(agent.id() as i32), pump)),
        Err(err) => Err(describe_spawn_failure(start, &err)),
    }
}

/// The prompt file, for the agent's stdin: a regular file of the job's folder (never a
/// symlink or a FIFO), no longer than the longest prompt a job takes.
fn open_prompt(store: &JobStore, id: &JobId) -> std::io::Result<std::fs::File> {
    let path = store.job_dir(id).join(PROMPT_FILE);
    let file = jobfile::open(&path)?;
    if file.metadata()?.len() > MAX_PROMPT_BYTES as u64 {
        return Err(std::io::Error::other(jobfile::Refused::TooLarge { path, cap: MAX_PROMPT_BYTES as u64 }));
    }
    Ok(file)
}

/// Claude Code and Gemini CLI give their final answer only in the stream: it is kept
/// where codex's `-o` puts it, so `last_message` reads the same for every agent.
fn keep_final_message(store: &JobStore, id: &JobId, observed: &Observed) {
    let Some(message) = &observed.final_message else { return };
    let path = store.last_message_path(id);
    if std::fs::symlink_metadata(&path).is_ok_and(|meta| meta.len() > 0) {
        return;
    }
    if let Err(err) = atomic::write(&path, message.as_bytes(), Durability::Quick) {
        tracing::warn!(job = %id, %err, "could not keep the agent's final message");
    }
}

fn describe_spawn_failure(start: &StartRequest, err: &std::io::Error) -> (i64, String) {
    let program = start.agent.program();
    if !start.cwd.is_dir() {
        return (127, format!("codex-async: cwd {:?} is no longer a folder\n", start.cwd));
    }
    match err.kind() {
        std::io::ErrorKind::NotFound => (127, format!("codex-async: agent binary '{program}' not found; set CODEX_BIN to its path\n")),
        std::io::ErrorKind::PermissionDenied => {
            (126, format!("codex-async: agent binary '{program}' is not executable; set CODEX_BIN to a runnable codex\n"))
        }
        _ => (126, format!("codex-async: could not run agent binary '{program}': {err}\n")),
    }
}

/// The most of the agent's own failure message kept in the note (its output has it all).
const NOTE_CHARS: usize = 500;

/// How the job ends: `cancelled` if a cancel began before the agent ended and the agent
/// did not succeed regardless (it finished its work as the request came; an agent that
/// exits 0 with a failure in its stream as the cancel comes — Claude Code's
/// "interrupted" result — did not succeed), `done` if it succeeded, else `error` (also
/// when its worktree was lost).
fn judged(ended: &Ended, observed: &Observed, lost_worktree: bool) -> Status {
    let (exit_code, _) = ended.exit();
    let succeeded = exit_code == 0 && observed.failure.is_none();
    match (lost_worktree, ended.cancelled_by.is_some() && !succeeded, succeeded) {
        (true, _, _) => Status::Error,
        (false, true, _) => Status::Cancelled,
        (false, false, true) => Status::Done,
        (false, false, false) => Status::Error,
    }
}

/// Records how the agent ended, at once: nothing that happens later (a cancel that
/// arrives now, leftovers that refuse to die) changes it. The finish hook is owed in
/// the same write.
fn record_result(
    store: &JobStore,
    record: &KeptMeta,
    id: &JobId,
    ended: &Ended,
    observed: &Observed,
    lost_worktree: Option<String>,
    placed: impl FnOnce(),
) -> Result<()> {
    let (exit_code, signal) = ended.exit();
    let status = judged(ended, observed, lost_worktree.is_some());
    let cancelled = status == Status::Cancelled;
    // An agent whose stream says the run failed failed, whatever its exit status.
    let failed_in_stream = exit_code == 0 && !cancelled && observed.failure.is_some();
    let change = |meta: &mut JobMeta| {
        meta.status = status;
        meta.details.session_id = observed.session_id.clone().or(meta.details.session_id.take());
        meta.details.usage = observed.usage.or(meta.details.usage);
        meta.details.limit = observed.limit.clone().filter(|_| meta.status == Status::Error);
        // What it was doing is over.
        meta.details.activity = None;
        meta.exit_code = Some(exit_code);
        meta.details.signal = signal.map(|signal| signal.as_str().to_owned());
        meta.finished_at = Some(Timestamp::now());
        meta.details.cancel_reason = ended.cancelled_by.as_ref().filter(|_| cancelled).map(|cancel| cancel.reason.to_owned());
        meta.details.note = match (&ended.cancelled_by, signal) {
            (Some(cancel), _) if cancelled => Some(cancel.note.clone()),
            (Some(_), _) => Some("the agent succeeded as a cancel arrived; its result stands".to_owned()),
            (None, Some(signal)) => Some(format!("the agent was killed by {}", signal.as_str())),
            (None, None) => observed
                .failure
                .as_ref()
                .filter(|_| exit_code != 0 || failed_in_stream)
                .map(|failure| failure.chars().take(NOTE_CHARS).collect()),
        };
        if let Some(lost) = &lost_worktree {
            meta.details.note = Some(lost.clone());
        }
        meta.supervisor_lost = false;
        hooks::owed::owe(store, meta, HookEvent::OnFinish);
        tracing::info!(job = %id, status = %meta.status, exit_code, "job ended");
    };
    record.finish(change, placed)
}

/// Names, in the meta's note, the processes that outlived the cleanup.
fn note_survivors(record: &KeptMeta, id: &JobId, survivors: &[String]) {
    let line = format!("{} process(es) outlived the cleanup: {}", survivors.len(), survivors.join(", "));
    tracing::warn!(job = %id, "{line}");
    let noted = record.update(|meta| {
        meta.details.note = Some(match meta.details.note.take() {
            Some(note) => format!("{note}; {line}"),
            None => line,
        });
    });
    if let Err(err) = noted {
        tracing::warn!(job = %id, %err, "could not record the survivors");
    }
}
