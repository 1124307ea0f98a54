//! Waiting for the agent, and cancelling it when asked: SIGINT at once (codex
//! interrupts its turn and kills its tools), SIGTERM at half the grace period, SIGKILL
//! at its end — to the agent's process group while the agent is not reaped (so the
//! group id cannot have been reused) and to every process marked with the job's id.

use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use tokio::signal::unix::{Signal as SignalStream, SignalKind, signal};
use tokio::time::{Instant, sleep_until};

use super::pause::Pause;
use super::stream::Heard;
use crate::jobs::cancel::{CancelRequest, DEFAULT_GRACE};
use crate::jobs::store::kept::KeptMeta;
use crate::jobs::{JobId, JobLimits, JobStore, process::marker};

pub struct Signals {
    pub child: SignalStream,
    cancel: SignalStream,
    terminate: SignalStream,
    interrupt: SignalStream,
    hangup: SignalStream,
    /// A pause or resume was asked for (see `jobs::pause`).
    pause: SignalStream,
}

impl Signals {
    pub fn register() -> std::io::Result<Self> {
        Ok(Signals {
            child: signal(SignalKind::child())?,
            cancel: signal(SignalKind::user_defined1())?,
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
            hangup: signal(SignalKind::hangup())?,
            pause: signal(SignalKind::user_defined2())?,
        })
    }
}

impl Signals {
    /// The next request to stop the job (a cancel's SIGUSR1, or SIGTERM, SIGINT, SIGHUP
    /// to the supervisor), as its note says it.
    pub async fn stop(&mut self) -> &'static str {
        tokio::select! {
            _ = self.cancel.recv() => "cancelled by request",
            _ = self.terminate.recv() => "cancelled: the supervisor received SIGTERM",
            _ = self.interrupt.recv() => "cancelled: the supervisor received SIGINT",
            _ = self.hangup.recv() => "cancelled: the supervisor received SIGHUP",
        }
    }
}

/// Why a job is being stopped.
#[derive(Clone, Debug)]
pub struct Cancel {
    /// `requested`, `stalled` or `timed out` (the meta's `cancel_reason`).
    pub reason: &'static str,
    /// The sentence for the meta's note.
    pub note: String,
}

/// How the agent's run ended.
pub struct Ended {
    pub status: WaitStatus,
    /// Why a cancel began, if one began before the agent ended.
    pub cancelled_by: Option<Cancel>,
    /// The cancel's grace period, if one began.
    pub grace: Option<Duration>,
}

impl Ended {
    /// The exit code as a shell reports it (128 + n for a signal) and the signal.
    pub fn exit(&self) -> (i64, Option<Signal>) {
        match self.status {
            WaitStatus::Exited(_, code) => (i64::from(code), None),
            WaitStatus::Signaled(_, signal, _) => (128 + signal as i64, Some(signal)),
            _ => (-1, None),
        }
    }
}

/// A cancel in progress.
struct Escalation {
    began: Instant,
    grace: Duration,
    next: Option<Signal>,
}

impl Escalation {
    fn begin(id: &JobId, agent: Pid, grace: Duration) -> Self {
        signal_job(id, agent, Signal::SIGINT);
        Escalation { began: Instant::now(), grace, next: Some(Signal::SIGTERM) }
    }

    fn next_at(&self) -> Option<Instant> {
        match self.next? {
            Signal::SIGTERM => Some(self.began + self.grace / 2),
            _ => Some(self.began + self.grace),
        }
    }

    fn advance(&mut self, id: &JobId, agent: Pid) {
        let Some(signal) = self.next else { return };
        signal_job(id, agent, signal);
        self.next = (signal == Signal::SIGTERM).then_some(Signal::SIGKILL);
    }
}

/// The agent's group (its pid is pinned: it is our child, not yet reaped) and every
/// marked process.
fn signal_job(id: &JobId, agent: Pid, signal: Signal) {
    let _ = killpg(agent, signal);
    marker::signal_all(id, signal);
}

fn requested(note: &str) -> Option<Cancel> {
    Some(Cancel { reason: "requested", note: note.to_owned() })
}

/// When the agent last said anything: what the pump last read from it (output held
/// back by `max_output` included), or its output's or event stream's last change.
fn last_output(store: &JobStore, id: &JobId, heard: &Heard) -> Option<std::time::SystemTime> {
    let changed = |path: std::path::PathBuf| std::fs::metadata(path).and_then(|meta| meta.modified()).ok();
    changed(store.output_path(id)).max(changed(store.events_path(id))).max(heard.last())
}

/// Runs until the agent has exited and been reaped, stopping it when asked, when it
/// prints nothing for `stall_timeout`, or when it runs past `max_duration` (time paused
/// left out of both), pausing and resuming it when asked.
pub async fn until_exit(
    store: &JobStore,
    id: &JobId,
    agent: Pid,
    limits: &JobLimits,
    signals: &mut Signals,
    heard: &Heard,
    record: &KeptMeta,
) -> Ended {
    let began = Instant::now();
    let mut escalation: Option<Escalation> = None;
    let mut cancelled_by: Option<Cancel> = None;
    let mut pause = Pause::default();
    // Checked when it could first be due; the output file's time says when it really is.
    let mut stall_check = limits.stall_timeout.map(|limit| began + limit);
    loop {
        if let Some(status) = reap(agent) {
            return Ended { status, cancelled_by, grace: escalation.map(|escalation| escalation.grace) };
        }
        let next_at = escalation.as_ref().and_then(Escalation::next_at);
        let watching = escalation.is_none() && !pause.is_paused();
        let deadline = limits.max_duration.map(|limit| began + limit + pause.total());
        let cancel = tokio::select! {
            _ = signals.child.recv() => None,
            _ = signals.cancel.recv() => requested("cancelled by request"),
            _ = signals.terminate.recv() => requested("cancelled: the supervisor received SIGTERM"),
            _ = signals.interrupt.recv() => requested("cancelled: the supervisor received SIGINT"),
            _ = signals.hangup.recv() => requested("cancelled: the supervisor received SIGHUP"),
            used = heard.budget().passed(), if watching => {
                let limit = heard.budget().limit().unwrap_or_default();
                Some(Cancel { reason: "over budget", note: format!("over budget: {used} tokens used (in + out), its budget is {limit}") })
            }
            _ = signals.pause.recv(), if escalation.is_none() => {
                if pause.on_request(store, id, agent, record) {
                    // Quiet while paused is not stalled: the clock starts again now.
                    stall_check = limits.stall_timeout.map(|limit| Instant::now() + limit);
                }
                None
            }
            _ = sleep_until(next_at.unwrap_or_else(Instant::now)), if next_at.is_some() => {
                if let Some(escalation) = escalation.as_mut() {
                    escalation.advance(id, agent);
                }
                None
            }
            _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if watching && deadline.is_some() => {
                let limit = limits.max_duration.unwrap_or_default();
                Some(Cancel { reason: "timed out", note: format!("timed out: it ran longer than its limit of {}", crate::human::show_duration(limit)) })
            }
            _ = sleep_until(stall_check.unwrap_or_else(Instant::now)), if watching && stall_check.is_some() => {
                let limit = limits.stall_timeout.unwrap_or_default();
                let quiet = last_output(store, id, heard).and_then(|at| at.elapsed().ok()).unwrap_or(limit).min(pause.since_resumed());
                if quiet >= limit {
                    Some(Cancel { reason: "stalled", note: format!("stalled: no new output for {}", crate::human::show_duration(limit)) })
                } else {
                    stall_check = Some(Instant::now() + (limit - quiet));
                    None
                }
            }
        };
        let (Some(cancel), None) = (cancel, &escalation) else { continue };
        // An agent that already ended was not cancelled: its result stands.
        if let Some(status) = reap(agent) {
            return Ended { status, cancelled_by: None, grace: None };
        }
        let grace =
            CancelRequest::read(&store.cancel_path(id)).map(|request| request.grace()).or(limits.cancel_grace).unwrap_or(DEFAULT_GRACE);
        tracing::info!(job = %id, ?grace, reason = cancel.reason, "cancelling");
        cancelled_by = Some(cancel);
        escalation = Some(Escalation::begin(id, agent, grace));
        // A stopped process acts on no signal but SIGKILL: continue it, so it can end.
        pause.resume(id, agent, record);
    }
}

/// Collects every exited child (adopted orphans included); returns the agent's status
/// if it was among them.
pub fn reap(agent: Pid) -> Option<WaitStatus> {
    let mut agent_status = None;
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return agent_status,
            Ok(status) if status.pid() == Some(agent) => agent_status = Some(status),
            Ok(_) => {}
        }
    }
}
