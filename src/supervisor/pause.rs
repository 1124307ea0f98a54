//! Pausing the job in its supervisor: SIGSTOP / SIGCONT to the agent's group (its pid is
//! pinned: our child, not reaped) and to every process marked with the job's id — never
//! the supervisor — and the time paused, which the stall and duration clocks leave out.

use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::time::Instant;

use crate::jobs::pause::{PAUSE_FILE, PauseRequest};
use crate::jobs::process::marker;
use crate::jobs::store::kept::KeptMeta;
use crate::jobs::{JobId, JobStore, Status, Timestamp};

/// The job's pauses so far.
#[derive(Debug, Default)]
pub struct Pause {
    /// Paused since then, if paused now.
    since: Option<Instant>,
    /// The pauses that are over, summed.
    over: Duration,
    /// When it was last resumed.
    resumed: Option<Instant>,
}

/// Signals the job's processes twice: a process forked between the first pass's look and
/// its signal is caught by the second.
fn signal_job(id: &JobId, agent: Pid, signal: Signal) {
    for _ in 0..2 {
        let _ = killpg(agent, signal);
        marker::signal_all(id, signal);
    }
}

impl Pause {
    pub fn is_paused(&self) -> bool {
        self.since.is_some()
    }

    /// All the time spent paused, the pause going on included.
    pub fn total(&self) -> Duration {
        self.over + self.since.map_or(Duration::ZERO, |since| since.elapsed())
    }

    /// How long since it was last resumed (for ever when it never was).
    pub fn since_resumed(&self) -> Duration {
        self.resumed.map_or(Duration::MAX, |at| at.elapsed())
    }

    /// Carries out the request in the job's folder; whether the job was resumed now.
    pub fn on_request(&mut self, store: &JobStore, id: &JobId, agent: Pid, record: &KeptMeta) -> bool {
        let wanted = PauseRequest::read(&store.job_dir(id).join(PAUSE_FILE)).map(|request| request.pause);
        match (wanted, self.since) {
            (Some(true), None) => {
                signal_job(id, agent, Signal::SIGSTOP);
                self.since = Some(Instant::now());
                tracing::info!(job = %id, "paused");
                let recorded = record.update(|meta| {
                    meta.status = Status::Paused;
                    meta.details.paused_at = Some(Timestamp::now());
                });
                if let Err(err) = recorded {
                    tracing::warn!(job = %id, %err, "could not record the pause");
                }
                false
            }
            (Some(false), Some(_)) => {
                self.resume(id, agent, record);
                true
            }
            _ => false,
        }
    }

    /// Continues the job (a resume, or a cancel that must let it end) and records it running.
    pub fn resume(&mut self, id: &JobId, agent: Pid, record: &KeptMeta) {
        let Some(since) = self.since.take() else { return };
        signal_job(id, agent, Signal::SIGCONT);
        self.over += since.elapsed();
        self.resumed = Some(Instant::now());
        tracing::info!(job = %id, "resumed");
        let recorded = record.update(|meta| {
            meta.status = Status::Running;
            meta.details.paused_at = None;
        });
        if let Err(err) = recorded {
            tracing::warn!(job = %id, %err, "could not record the resume");
        }
    }
}
