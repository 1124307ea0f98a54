//! `poll`, `wait`, `cancel`, `logs` and `delete` of a host's job: the host's codex_poll,
//! codex_wait, codex_cancel and codex_delete, their answers checked, then shown as the local verbs
//! show theirs (through the same sanitizer).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use tokio::sync::broadcast::error::RecvError;

use super::context::{self, Remote, emit_json, view};
use crate::cli::args::{CancelArgs, LogsArgs, PollArgs, WaitArgs};
use crate::cli::logs::Printer;
use crate::cli::render::{self, Out, PromptShown, warn};
use crate::config::Settings;
use crate::hosts::{CALL_MARGIN, HostError, HostNote, HostSession, answers, qualified};
use crate::jobs::{CancelView, JobError, OutputPiece, PollView, Status, WaitView};

/// The longest one codex_wait asked of a host (the host caps it to its own max_wait).
const WAIT_ROUND: Duration = Duration::from_secs(30);
/// A cancel waits on the host for the job's grace period: longer than a plain call.
const CANCEL_DEADLINE: Duration = Duration::from_secs(120);
/// How many dropped sessions in a row a wait picks up after before it gives up.
const WAIT_RECONNECTS: u32 = 3;
/// A local exit status: the job's own for `done`, as the local verbs use them.
const EXIT_TIMED_OUT: u8 = 124;

/// A view as JSON, with the host it came from.
fn hosted_json(view: &impl serde::Serialize, host: &str) -> anyhow::Result<Value> {
    let mut value = serde_json::to_value(view)?;
    if let Value::Object(map) = &mut value {
        map.insert("host".to_owned(), Value::String(host.to_owned()));
    }
    Ok(value)
}

fn prompt_shown(view: &PollView, full: bool) -> PromptShown {
    if full { PromptShown::Whole(view.prompt.clone()) } else { PromptShown::Start { prompt_file: None } }
}

fn not_for_a_host(what: &str, instead: &str) -> anyhow::Error {
    JobError::BadRequest(format!("{what} is not available for a host's job yet; {instead}")).into()
}

pub fn poll(settings: &Settings, host: &str, id: &str, args: &PollArgs) -> anyhow::Result<ExitCode> {
    let remote = Remote::new(settings, host)?;
    let answer = remote.call_job("codex_poll", json!({"job_id": id, "tail_lines": args.tail}), CALL_MARGIN)?;
    let view: PollView = view(host, &answer)?;
    if args.json {
        emit_json(&hosted_json(&view, host)?)?;
    } else {
        let mut out = Out::default();
        render::poll(&mut out, &view, &prompt_shown(&view, args.full_prompt));
        out.flush();
    }
    Ok(ExitCode::SUCCESS)
}

pub fn wait(settings: &Settings, host: &str, id: &str, args: &WaitArgs) -> anyhow::Result<ExitCode> {
    let remote = Remote::new(settings, host)?;
    let deadline = args.timeout.map(|timeout| Instant::now() + timeout);
    let mut reconnects = 0;
    let mut previous: Option<Arc<HostSession>> = None;
    // The newest output line shown (`--progress`), across rounds.
    let mut shown = String::new();
    let waited: WaitView = loop {
        let session = remote.block_on(remote.pool.session(host))?;
        // A dropped session is picked up again: the job runs on over there.
        if previous.as_ref().is_some_and(|previous| !Arc::ptr_eq(previous, &session)) {
            warn(format!("codex-async: host {host}: the session dropped; connected again, still waiting"));
        }
        previous = Some(session.clone());
        let round = deadline.map_or(WAIT_ROUND, |deadline| deadline.saturating_duration_since(Instant::now()).min(WAIT_ROUND));
        let mut asked = serde_json::Map::new();
        asked.insert("job_id".to_owned(), Value::String(id.to_owned()));
        asked.insert("timeout_seconds".to_owned(), json!(round.as_secs_f64()));
        asked.insert("wait_through_approvals".to_owned(), Value::Bool(true));
        let call = session.call("codex_wait", asked, round + CALL_MARGIN);
        let called = if args.progress { remote.block_on(with_progress(&session, call, &mut shown)) } else { remote.block_on(call) };
        let mut answer = match called {
            Ok(answer) => answer,
            Err(HostError::Lost { .. }) if reconnects < WAIT_RECONNECTS => {
                reconnects += 1;
                remote.block_on(remote.pool.forget(host, &session));
                continue;
            }
            Err(err) => return Err(err.into()),
        };
        reconnects = 0;
        answers::qualify_job(host, &mut answer)
            .and_then(|()| answers::about(host, &answer, id))
            .map_err(|message| session.refused_answer(message))?;
        let waited: WaitView = view(host, &answer)?;
        let out_of_time = deadline.is_some_and(|deadline| Instant::now() >= deadline);
        if !waited.timed_out || out_of_time {
            break waited;
        }
    };
    if args.json {
        emit_json(&hosted_json(&waited, host)?)?;
    } else {
        let mut out = Out::default();
        render::waited(&mut out, &waited, &prompt_shown(&waited.poll, args.full_prompt));
        out.flush();
    }
    Ok(match (waited.timed_out, waited.poll.status) {
        (true, _) => ExitCode::from(EXIT_TIMED_OUT),
        (false, Status::Done) => ExitCode::SUCCESS,
        (false, _) => ExitCode::FAILURE,
    })
}

/// Runs a wait's call on `session`, printing on stderr the job's newest output line each
/// time the host's progress says it changed (every few seconds while output comes).
async fn with_progress(
    session: &HostSession,
    call: impl Future<Output = Result<Value, HostError>>,
    shown: &mut String,
) -> Result<Value, HostError> {
    let mut notes = session.notes();
    tokio::pin!(call);
    loop {
        tokio::select! {
            answer = &mut call => return answer,
            note = notes.recv() => match note {
                Ok(HostNote::Progress { message: Some(line) }) if !line.is_empty() && line != *shown => {
                    warn(format!("… {line}"));
                    *shown = line;
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                // The session ended: the call says how.
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return call.await,
            },
        }
    }
}

pub fn cancel(settings: &Settings, host: &str, id: &str, args: &CancelArgs) -> anyhow::Result<ExitCode> {
    let remote = Remote::new(settings, host)?;
    let mut asked = json!({"job_id": id});
    if args.no_wait {
        // A host older than `wait` on codex_cancel waits for the end.
        asked["wait"] = json!(false);
    }
    if let Some(grace) = args.grace {
        // A host older than `grace` on codex_cancel takes its own cancel_grace.
        asked["grace"] = json!(grace.as_secs_f64());
    }
    let deadline = args.grace.map_or(CANCEL_DEADLINE, |grace| CANCEL_DEADLINE.max(grace + CALL_MARGIN));
    let answer = remote.call_job("codex_cancel", asked, deadline)?;
    let view: CancelView = view(host, &answer)?;
    if args.json {
        emit_json(&hosted_json(&view, host)?)?;
    } else {
        let mut out = Out::default();
        render::cancelled(&mut out, &view);
        out.flush();
        if let CancelView::Cancelled { status: Status::Running, message: Some(message), .. } = &view {
            warn(format!("codex-async: cancel of job {} asked for; {message}", qualified(host, id)));
        }
    }
    Ok(match &view {
        // Asked, not waited for: the request reached whoever ends the job there.
        CancelView::Cancelled { status: Status::Running, killed: false, .. } if args.no_wait => ExitCode::SUCCESS,
        CancelView::Cancelled { status, .. } | CancelView::NotRunning { status, .. } if status.is_finished() => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

/// A host's job's whole output, read in pieces (`codex_poll`'s `output_from`), and with
/// `-f` what it prints next until it ends: woken by the host's notes on the job's output
/// and meta, never by a timer. Printed as the local `logs` prints (the same sanitizer).
pub fn logs(settings: &Settings, host: &str, id: &str, args: &LogsArgs) -> anyhow::Result<ExitCode> {
    let remote = Remote::new(settings, host)?;
    remote.block_on(host_logs(&remote, host, id, args))
}

async fn host_logs(remote: &Remote, host: &str, id: &str, args: &LogsArgs) -> anyhow::Result<ExitCode> {
    let session = remote.pool.session(host).await?;
    // Heard from before the first look, so nothing said in between is missed.
    let mut notes = session.notes();
    let mut printer = Printer::new(args);
    let mut from = 0;
    let mut subscribed = false;
    let view = loop {
        let mut asked = serde_json::Map::new();
        asked.insert("job_id".to_owned(), Value::String(id.to_owned()));
        asked.insert("tail_lines".to_owned(), json!(1));
        asked.insert("output_from".to_owned(), json!(from));
        let mut answer = session.call("codex_poll", asked, CALL_MARGIN).await?;
        answers::qualify_job(host, &mut answer)
            .and_then(|()| answers::about(host, &answer, id))
            .map_err(|message| session.refused_answer(message))?;
        let view: PollView = context::view(host, &answer)?;
        let Some(piece) = answer.get("output_piece") else { return older_host_logs(host, &view, args) };
        let piece: OutputPiece = context::view(host, piece)?;
        if piece.from < from {
            warn(format!("codex-async: job {}: its output was made again; reading it from its start", view.job_id));
        }
        printer.bytes(piece.text.as_bytes())?;
        from = piece.next;
        if piece.next > piece.from && piece.next < piece.size {
            continue; // more is there already
        }
        // Its status was read before its output: once ended, the piece held its last words.
        if !args.follow || view.status.is_finished() {
            break view;
        }
        if !subscribed {
            let whole = view.job_id.strip_prefix(&format!("{host}:")).unwrap_or(id);
            for part in ["output", "meta"] {
                session.subscribe(&format!("codex-async://jobs/{whole}/{part}"), CALL_MARGIN).await?;
            }
            subscribed = true;
            continue; // look once more: anything written before the subscription
        }
        loop {
            match notes.recv().await {
                Ok(HostNote::ResourceUpdated { .. }) | Err(RecvError::Lagged(_)) => break,
                Ok(_) => {}
                Err(RecvError::Closed) => {
                    return Err(HostError::Lost { host: host.to_owned(), message: "the session ended while following".to_owned() }.into());
                }
            }
        }
        while notes.try_recv().is_ok() {}
    };
    printer.finish(&view.job_id, view.status, view.exit_code)?;
    Ok(if args.follow { crate::cli::logs::job_exit_code(view.status, view.exit_code) } else { ExitCode::SUCCESS })
}

/// A host whose codex_poll predates `output_from`: the end of the output it gives.
fn older_host_logs(host: &str, view: &PollView, args: &LogsArgs) -> anyhow::Result<ExitCode> {
    if args.follow {
        return Err(not_for_a_host("logs -f", &format!("host {host}'s codex-async is older; `wait --host` waits for the job's end")));
    }
    if args.json {
        emit_json(&json!({"output": view.output}))?;
        emit_json(&json!({"job_id": view.job_id, "host": host, "status": view.status, "exit_code": view.exit_code}))?;
    } else if args.raw {
        Printer::new(args).bytes(view.output.as_bytes())?;
    } else {
        let mut out = Out::default();
        out.line(view.output.trim_end_matches('\n'));
        out.flush();
        warn(format!(
            "codex-async: job {}: the end of its output, as host {host}'s older codex-async gives it (at most its last 8000 characters)",
            view.job_id
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// `delete` of hosts' jobs: each host's codex_delete, one session per host for the
/// whole command (a host that could not be reached is not tried again for each id).
#[derive(Default)]
pub struct Removals {
    remotes: std::collections::BTreeMap<String, Result<Remote, String>>,
}

impl Removals {
    /// Deletes host `host`'s job `id`: its `NAME:ID` once gone, or why not.
    pub fn delete(&mut self, settings: impl FnOnce() -> anyhow::Result<Settings>, host: &str, id: &str) -> Result<String, String> {
        let remote = self
            .remotes
            .entry(host.to_owned())
            .or_insert_with(|| settings().and_then(|settings| Remote::new(&settings, host)).map_err(|err| format!("{err:#}")));
        let remote = remote.as_ref().map_err(Clone::clone)?;
        match remote.call_job("codex_delete", json!({"job_id": id}), CANCEL_DEADLINE) {
            Ok(answer) if answer["deleted"] == true => Ok(answer["job_id"].as_str().unwrap_or_default().to_owned()),
            Ok(_) => Err(format!("host {host} did not say job {id} was deleted")),
            Err(err) => {
                let message = err.to_string();
                if matches!(err, HostError::Unreachable { .. }) {
                    self.remotes.insert(host.to_owned(), Err(message.clone()));
                }
                Err(message)
            }
        }
    }
}
