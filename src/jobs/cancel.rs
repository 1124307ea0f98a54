//! Cancelling: any process may ask, the job's supervisor does the ending.
//!
//! The request is a file in the job's folder (so the supervisor knows the grace
//! period and the final status is `cancelled` even if the agent exits at that very
//! moment) and a SIGUSR1 to the supervisor. It then sends SIGINT to the agent's
//! process group and every descendant (codex interrupts its turn and kills its
//! tools), SIGTERM at half the grace period, SIGKILL at its end. A job whose
//! supervisor is gone is ended from here, finding its processes by the job id in
//! their environment.

use std::path::Path;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use super::error::{JobError, Result};
use super::id::JobId;
use super::meta::{JobMeta, Status, Timestamp};
use super::procfs;
use super::store::JobStore;
use super::supervisor::JOB_ENV;

pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CancelRequest {
    pub requested_at: Timestamp,
    pub grace_seconds: f64,
    pub requested_by_pid: u32,
}

impl CancelRequest {
    pub fn new(grace: Duration) -> Self {
        CancelRequest { requested_at: Timestamp::now(), grace_seconds: grace.as_secs_f64(), requested_by_pid: std::process::id() }
    }

    pub fn grace(&self) -> Duration {
        Duration::try_from_secs_f64(self.grace_seconds).unwrap_or(DEFAULT_GRACE)
    }

    pub fn read(path: &Path) -> Option<Self> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    /// Written like meta.json: whole or not at all.
    fn write(&self, path: &Path) -> Result<()> {
        let temp = path.with_extension(format!("{}.tmp", std::process::id()));
        let bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        std::fs::write(&temp, bytes).map_err(|err| JobError::io("writing", &temp, err))?;
        std::fs::rename(&temp, path).map_err(|err| JobError::io("renaming into place", path, err))
    }
}

/// Sends `signal` to a process group and to single processes; ones already gone are fine.
pub fn signal_tree(group: Option<i32>, pids: &[i32], signal: Signal) {
    if let Some(group) = group.filter(|&group| group > 1) {
        let _ = killpg(Pid::from_raw(group), signal);
    }
    for &pid in pids.iter().filter(|&&pid| pid > 1) {
        match kill(Pid::from_raw(pid), signal) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(err) => tracing::warn!(pid, %signal, %err, "could not signal"),
        }
    }
}

/// What asking to cancel found.
pub enum Requested {
    /// The job had already ended with this status.
    AlreadyEnded(Status),
    /// Its supervisor was told and will record the result.
    Supervisor,
    /// Nobody supervises it any more: the caller must end it (see [`end_orphaned`]).
    Orphaned(Box<JobMeta>),
}

/// Records the request and tells the supervisor. Returns at once.
pub fn request(store: &JobStore, id: &JobId, grace: Duration) -> Result<Requested> {
    let meta = store.read_meta_raw(id)?;
    if meta.status.is_finished() {
        return Ok(Requested::AlreadyEnded(meta.status));
    }
    CancelRequest::new(grace).write(&store.cancel_path(id))?;
    match (meta.supervisor_pid, meta.supervisor_start_ticks) {
        (Some(pid), Some(ticks)) if procfs::is_same_process_alive(pid as i32, ticks) => {
            match kill(Pid::from_raw(pid as i32), Signal::SIGUSR1) {
                Ok(()) => Ok(Requested::Supervisor),
                Err(Errno::ESRCH) => Ok(Requested::Orphaned(Box::new(meta))),
                Err(err) => Err(JobError::io("signalling the supervisor of", store.job_dir(id), err.into())),
            }
        }
        _ => Ok(Requested::Orphaned(Box::new(meta))),
    }
}

/// Ends a job nobody supervises: the agent's group, and every process that carries
/// the job's id in its environment; then records `cancelled`.
pub async fn end_orphaned(store: &JobStore, id: &JobId, meta: JobMeta, grace: Duration) -> Result<JobMeta> {
    end_leftovers(id, &meta, grace).await;
    let mut current = store.read_meta_raw(id).unwrap_or(meta);
    if !current.status.is_finished() {
        current.status = Status::Cancelled;
        current.finished_at = Some(Timestamp::now());
        current.note = Some("cancelled after its supervisor was lost; the exit code is unknown".to_owned());
        store.write_final_meta(&current)?;
    }
    Ok(current)
}

/// Ends every process of a job that no supervisor looks after (SIGINT, SIGTERM at half
/// the grace period, SIGKILL at its end). Returns whether there was any.
pub async fn end_leftovers(id: &JobId, meta: &JobMeta, grace: Duration) -> bool {
    let group = meta.pgid.map(|pgid| pgid as i32).filter(|&group| killpg(Pid::from_raw(group), None).is_ok());
    let members = || {
        let mut pids = procfs::with_env(JOB_ENV, id.as_str());
        // The original's jobs carry no marker: their agent's own pid is all we know.
        if meta.supervisor_pid.is_none() {
            pids.extend(meta.pid.map(|pid| pid as i32).filter(|&pid| procfs::is_alive(pid)));
        }
        pids
    };
    let mut pids = members();
    if pids.is_empty() && group.is_none() {
        return false;
    }
    let began = tokio::time::Instant::now();
    for (signal, at) in [(Signal::SIGINT, Duration::ZERO), (Signal::SIGTERM, grace / 2), (Signal::SIGKILL, grace)] {
        while tokio::time::Instant::now() < began + at {
            if pids.is_empty() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            pids = members();
        }
        signal_tree(group, &pids, signal);
        pids = members();
    }
    true
}
