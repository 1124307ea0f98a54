//! Cancelling: any process may ask; the job's owner does the ending.
//!
//! A job with a live supervisor gets a request file (so the supervisor knows the grace
//! period) and a SIGUSR1, sent through a pidfd only to the process proven to be that
//! supervisor: the one holding the job's lock, running `__supervise` (see
//! [`super::process::proven`]) — never to a pid because `meta.json` names it. A job whose
//! supervisor is gone is ended here, under its lock, by signalling the processes marked
//! with its id; a job of the Python original through its agent, once proven. A job that
//! already ended gets no signal at all; a record that says so while the supervisor still
//! runs the job does not count.

use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::error::{JobError, Result};
use super::process::marker;
use super::process::owner::{OwnerLock, Probe};
use super::process::proven::{self, OriginalAgent, Proven};
use super::record::id::JobId;
use super::record::meta::{JobMeta, Status, Timestamp};
use super::store::JobStore;
use crate::atomic::{self, Durability};

pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);
/// How often an ending in progress looks whether the processes are gone.
const LOOK_AGAIN: Duration = Duration::from_millis(50);
/// A cancel request is three small fields.
const MAX_CANCEL_REQUEST_BYTES: u64 = 4 * 1024;

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

    /// The request in a job's folder, if there is a sound one (the file is the job's to
    /// write: read as any job file, and small).
    pub fn read(path: &Path) -> Option<Self> {
        serde_json::from_slice(&super::record::jobfile::read_capped(path, MAX_CANCEL_REQUEST_BYTES).ok()?).ok()
    }

    fn write(&self, path: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        atomic::write(path, &bytes, Durability::Quick).map_err(|err| JobError::io("writing", path, err))
    }
}

/// What asking to cancel found.
pub enum Requested {
    /// The job had already ended with this status.
    AlreadyEnded(Status),
    /// Its supervisor was told and will record the result.
    Supervisor,
    /// Another process holds the job's lock (it is ending it): wait for the result.
    Busy,
    /// Nobody owns it any more; this process holds its lock and must end it ([`end_unowned`]).
    Unowned(OwnerLock),
}

/// Tells the job's owner to stop, or takes the job over if it has none. Returns at once.
pub fn request(store: &JobStore, id: &JobId, grace: Duration) -> Result<Requested> {
    let folder = store.job_dir(id);
    let probe = OwnerLock::probe(&folder).map_err(|err| JobError::io("locking", store.lock_path(id), err))?;
    let lock = match probe {
        Probe::Held => {
            // Judged, not as written: an ending in the file of a job its supervisor still
            // runs is no ending.
            let meta = store.read_meta(id)?;
            if meta.status.is_finished() {
                return Ok(Requested::AlreadyEnded(meta.status));
            }
            CancelRequest::new(grace).write(&store.cancel_path(id))?;
            let told =
                proven::supervisor(&store.lock_path(id), meta.supervisor_pid).is_some_and(|supervisor| supervisor.send(Signal::SIGUSR1));
            return Ok(if told { Requested::Supervisor } else { Requested::Busy });
        }
        Probe::Taken(lock) => lock,
        Probe::NoLockFile => {
            let meta = store.read_meta(id)?;
            if meta.status.is_finished() {
                return Ok(Requested::AlreadyEnded(meta.status));
            }
            // An earlier codex-async's supervisor listens for the same request.
            if meta.has_supervisor() {
                CancelRequest::new(grace).write(&store.cancel_path(id))?;
                if proven::earlier_supervisor(id, &meta).is_some_and(|supervisor| supervisor.send(Signal::SIGUSR1)) {
                    return Ok(Requested::Supervisor);
                }
            }
            match OwnerLock::try_folder(&folder).map_err(|err| JobError::io("locking", &folder, err))? {
                Some(lock) => lock,
                None => return Ok(Requested::Busy),
            }
        }
    };
    let meta = store.read_meta_raw(id)?;
    if meta.status.is_finished() {
        return Ok(Requested::AlreadyEnded(meta.status));
    }
    Ok(Requested::Unowned(lock))
}

/// Ends a job nobody supervises (the caller holds its lock): SIGINT, SIGTERM at half
/// the grace period, SIGKILL at its end, to every process marked with its id (or, for
/// the Python original's jobs, to its agent, proven again before each signal); then
/// records `cancelled`.
pub async fn end_unowned(store: &JobStore, id: &JobId, lock: OwnerLock, grace: Duration) -> Result<JobMeta> {
    let meta = store.read_meta_raw(id)?;
    let original = !meta.has_supervisor() && meta.pid.is_some();
    let original_agent = || -> Option<Proven> {
        match proven::original_agent(store.folder_created(id), &meta) {
            OriginalAgent::Running(agent) => Some(agent),
            OriginalAgent::Forged | OriginalAgent::Gone => None,
        }
    };
    let send = |signal: Signal| -> bool {
        let marked = marker::signal_all(id, signal) > 0;
        let agent = original && original_agent().is_some_and(|agent| agent.send(signal));
        marked || agent
    };
    let alive = || !marker::find(id).is_empty() || (original && original_agent().is_some());
    let began = Instant::now();
    let first = if original { Signal::SIGTERM } else { Signal::SIGINT };
    let mut killed = false;
    for (signal, at) in [(first, Duration::ZERO), (Signal::SIGTERM, grace / 2), (Signal::SIGKILL, grace)] {
        while Instant::now() < began + at {
            if !alive() {
                break;
            }
            tokio::time::sleep(LOOK_AGAIN).await;
        }
        if !alive() {
            break;
        }
        killed |= send(signal);
    }
    let mut current = store.read_meta_raw(id)?;
    if !current.status.is_finished() {
        current.status = Status::Cancelled;
        current.finished_at = Some(Timestamp::now());
        current.supervisor_lost = false;
        current.note = Some(
            if killed {
                "cancelled after its supervisor was lost; the exit code is unknown"
            } else {
                "cancelled after its supervisor was lost; nothing of it was running any more"
            }
            .to_owned(),
        );
        store.write_final_meta(&current)?;
    }
    drop(lock);
    Ok(current)
}
