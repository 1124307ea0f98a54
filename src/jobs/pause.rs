//! Pausing and resuming a running job: any process may ask; the job's supervisor does it.
//!
//! The asker writes what it wants (`pause_request.json`: pause or resume) and sends the
//! supervisor — proven to hold the job's lock, as a cancel proves it — SIGUSR2. The
//! supervisor stops (SIGSTOP) or continues (SIGCONT) the agent's group and every process
//! marked with the job's id, never itself, records `paused` with `paused_at` (or
//! `running` again), and stops its stall and duration clocks while the job is paused. A
//! paused job keeps its queue slot; a cancel continues it after the first signal so that
//! it can end; a resumed job ends with its real result. The asker waits on the change
//! feed until the new status is recorded.

use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use super::error::{JobError, Result};
use super::feed::{FeedEvent, JobFeed, Scope};
use super::process::owner::{OwnerLock, Probe};
use super::process::proven;
use super::record::id::JobId;
use super::record::meta::{Status, Timestamp};
use super::store::JobStore;
use crate::atomic::{self, Durability};

/// The request file in the job's folder.
pub const PAUSE_FILE: &str = "pause_request.json";
/// How long an asker waits for the supervisor to record the change.
pub const PAUSE_SETTLE: Duration = Duration::from_secs(5);

/// What the asker wants; the supervisor reads it on SIGUSR2.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PauseRequest {
    pub pause: bool,
    pub requested_at: Timestamp,
}

impl PauseRequest {
    /// The request in a job's folder, if there is a sound one (small, read as any job file).
    pub fn read(path: &Path) -> Option<Self> {
        serde_json::from_slice(&super::record::jobfile::read_capped(path, 1024).ok()?).ok()
    }
}

/// What a pause or resume did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PauseView {
    pub job_id: String,
    /// The job's status now: `paused`, `running`, or where it ended.
    pub status: Status,
    /// Whether this call changed it (a job already paused is not paused again).
    pub changed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Pauses (`pause`) or resumes a job, and waits until its supervisor has recorded it.
pub async fn set(store: &JobStore, feed: &JobFeed, id: &JobId, pause: bool) -> Result<PauseView> {
    let meta = store.read_meta(id)?;
    let target = if pause { Status::Paused } else { Status::Running };
    let verb = if pause { "pause" } else { "resume" };
    match meta.status {
        status if status == target => {
            return Ok(PauseView {
                job_id: id.to_string(),
                status,
                changed: false,
                message: Some(format!("job {id} is already {status}")),
            });
        }
        status if status.is_finished() => {
            return Err(JobError::BadRequest(format!("job {id} has ended ({status}); there is nothing to {verb}")));
        }
        Status::Pending => {
            return Err(JobError::BadRequest(format!(
                "job {id} is pending: its agent has not started, so there is nothing to {verb} (cancel it, or pause it once it runs)"
            )));
        }
        _ => {}
    }
    if meta.supervisor_lost || !matches!(OwnerLock::probe(&store.job_dir(id)), Ok(Probe::Held)) {
        return Err(JobError::BadRequest(format!("job {id} has no supervisor any more (it cannot be {verb}d; cancel ends it)")));
    }
    let request = PauseRequest { pause, requested_at: Timestamp::now() };
    let path = store.job_dir(id).join(PAUSE_FILE);
    let bytes = serde_json::to_vec(&request).unwrap_or_default();
    atomic::write(&path, &bytes, Durability::Quick).map_err(|err| JobError::io("writing", &path, err))?;
    // Subscribe before signalling, so the change is not missed.
    let mut events = feed.subscribe(Scope::Jobs(std::slice::from_ref(id))).ok();
    let told =
        proven::supervisor(&store.lock_path(id), meta.details.supervisor_pid).is_some_and(|supervisor| supervisor.send(Signal::SIGUSR2));
    if !told {
        return Err(JobError::BadRequest(format!("job {id}'s supervisor could not be reached (it is ending?)")));
    }
    let deadline = tokio::time::Instant::now() + PAUSE_SETTLE;
    loop {
        let now = store.read_meta(id)?;
        if now.status == target || now.status.is_finished() {
            let message = now.status.is_finished().then(|| format!("job {id} ended ({}) before it could be {verb}d", now.status));
            return Ok(PauseView { job_id: id.to_string(), status: now.status, changed: now.status == target, message });
        }
        let woke = tokio::select! {
            event = async { events.as_mut()?.recv().await.into() }, if events.is_some() => !matches!(event, Some(FeedEvent::Job(_, changes)) if !changes.record()),
            () = tokio::time::sleep_until(deadline) => false,
            // Without a watcher, look again shortly.
            () = tokio::time::sleep(Duration::from_millis(100)), if events.is_none() => true,
        };
        if !woke && tokio::time::Instant::now() >= deadline {
            let status = store.read_meta(id)?.status;
            return Ok(PauseView {
                job_id: id.to_string(),
                status,
                changed: status == target,
                message: Some(format!("asked to {verb}; its supervisor has not recorded it yet (poll it)")),
            });
        }
    }
}
