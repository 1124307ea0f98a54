//! Cancelling: any process may ask; the job's owner does the ending.
//!
//! [`cancel`] follows the job's lock to whoever owns it ([`request`]):
//! - held: its supervisor gets a request file (so it knows the grace period) and a
//!   SIGUSR1, through a pidfd, sent only to the process proven to be that supervisor —
//!   the one holding the job's lock, running `__supervise` (see [`proven`]) — never to a
//!   pid because `meta.json` names it; then the cancel waits for the result it records;
//! - free: nobody owns the job, and this process takes the lock. A pending job leaves the
//!   queue. A job whose supervisor is gone is ended here, under its lock, by signalling
//!   the processes marked with its id; when nothing of it runs any more, its end is
//!   recorded as any reader records it;
//! - no lock file: a job of an earlier codex-async, whose supervisor (once proven) is
//!   asked the same way, or of the Python original, ended through its agent, once proven.
//!
//! A job that already ended gets no signal at all; a record that says so while the
//! supervisor still runs the job does not count. Nothing is written on the way but the
//! request, and the job's end when this cancel is the one that ends (or settles) it.

use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::error::{JobError, Result};
use super::feed::{JobFeed, wait};
use super::process::marker;
use super::process::owner::{OwnerLock, Probe};
use super::process::proven::{self, OriginalAgent, Proven};
use super::record::id::JobId;
use super::record::meta::{JobMeta, Status, Timestamp};
use super::start::queue;
use super::store::JobStore;
use super::store::settle::{Judge, Left};
use super::view::CancelView;
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

/// Cancels job `id`: its owner is asked to end it (or, when it has none, it is ended
/// here), then the cancel waits — up to the grace period and a little more — until the
/// result is recorded. A job that already ended gets no signal, and is no error.
pub async fn cancel(store: &JobStore, feed: &JobFeed, id: &JobId, grace: Duration) -> Result<CancelView> {
    let status = match request(store, id, grace)? {
        Requested::AlreadyEnded(status) => return Ok(CancelView::not_running(id.as_str(), status)),
        // Nothing of it ever ran.
        Requested::LeftQueue => {
            return Ok(CancelView::Cancelled { job_id: id.to_string(), status: Status::Cancelled, killed: false, message: None });
        }
        Requested::Unowned { lock, meta } => end_unowned(store, id, lock, &meta, grace).await?.status,
        Requested::Supervisor | Requested::Busy => recorded_end(feed, id, grace).await?,
    };
    Ok(match status {
        Status::Cancelled => CancelView::Cancelled { job_id: id.to_string(), status, killed: true, message: None },
        // It ended on its own as the request came: its result stands.
        status if status.is_finished() => CancelView::NotRunning {
            job_id: id.to_string(),
            status,
            message: format!("Job is not running: it ended ({status}) before the cancel took effect"),
        },
        status => CancelView::Cancelled {
            job_id: id.to_string(),
            status,
            killed: true,
            message: Some("the job was signalled but has not recorded its end yet; poll it to see the final status".to_owned()),
        },
    })
}

/// What a cancel that does not wait for the end found.
#[derive(Clone, Debug, PartialEq)]
pub enum CancelAsked {
    /// The job is over: it had ended, or left the queue.
    Over(CancelView),
    /// Its owner (its supervisor) was told and ends it: SIGINT now, SIGTERM at half the
    /// grace period, SIGKILL at its end.
    Told,
    /// Nobody owns it any more: whoever cancels must end it ([`cancel`] does).
    Ownerless,
}

/// Asks for job `id` to be cancelled and returns at once (see [`CancelAsked`]).
pub fn ask(store: &JobStore, id: &JobId, grace: Duration) -> Result<CancelAsked> {
    Ok(match request(store, id, grace)? {
        Requested::AlreadyEnded(status) => CancelAsked::Over(CancelView::not_running(id.as_str(), status)),
        Requested::LeftQueue => {
            CancelAsked::Over(CancelView::Cancelled { job_id: id.to_string(), status: Status::Cancelled, killed: false, message: None })
        }
        Requested::Supervisor | Requested::Busy => CancelAsked::Told,
        // The lock goes with it: the one that ends the job takes it again.
        Requested::Unowned { .. } => CancelAsked::Ownerless,
    })
}

/// What asking to cancel found.
pub enum Requested {
    /// The job had already ended with this status (or its end is recorded now: its owner
    /// was gone, and nothing of it ran any more).
    AlreadyEnded(Status),
    /// It was pending: it left the queue, recorded as cancelled.
    LeftQueue,
    /// Its supervisor was told and will record the result.
    Supervisor,
    /// Another process holds the job's lock (it is ending it): wait for the result.
    Busy,
    /// Nobody owns it any more; this process holds its lock and must end it
    /// ([`end_unowned`]), as its record (read under the lock) names it.
    Unowned { lock: OwnerLock, meta: Box<JobMeta> },
}

/// Tells the job's owner to stop, or takes the job over if it has none. Returns at once.
pub fn request(store: &JobStore, id: &JobId, grace: Duration) -> Result<Requested> {
    let probe = OwnerLock::probe(&store.job_dir(id)).map_err(|err| JobError::io("locking", store.lock_path(id), err))?;
    match probe {
        Probe::Held => tell_owner(store, id, grace),
        Probe::Taken(lock) => take_over(store, id, lock, Judge::Marked, grace),
        Probe::NoLockFile => tell_or_take_legacy(store, id, grace),
    }
}

/// Someone holds the job: its supervisor, told through a request file (so that it knows
/// the grace period) and SIGUSR1 — or a reader ending it.
fn tell_owner(store: &JobStore, id: &JobId, grace: Duration) -> Result<Requested> {
    // Judged, not as written: an ending in the file of a job its supervisor still runs
    // is no ending.
    let meta = store.read_meta(id)?;
    if meta.status.is_finished() {
        return Ok(Requested::AlreadyEnded(meta.status));
    }
    CancelRequest::new(grace).write(&store.cancel_path(id))?;
    let told =
        proven::supervisor(&store.lock_path(id), meta.details.supervisor_pid).is_some_and(|supervisor| supervisor.send(Signal::SIGUSR1));
    Ok(if told { Requested::Supervisor } else { Requested::Busy })
}

/// Nobody owns the job, and this process holds its lock now: the job waits in the queue,
/// has ended, or lost its owner — then what it left runs on (and is this cancel's to
/// end), or nothing does, and its end is recorded as any reader records it.
fn take_over(store: &JobStore, id: &JobId, lock: OwnerLock, judge: Judge, grace: Duration) -> Result<Requested> {
    // Read under the lock: a result written in the meantime wins.
    let mut meta = store.read_meta_raw(id)?;
    if meta.status.is_finished() {
        return Ok(Requested::AlreadyEnded(meta.status));
    }
    if meta.status == Status::Pending {
        // The queue is changed under its own lock, which its starters hold while they
        // wait for a supervisor to take the job's.
        drop(lock);
        return match queue::cancel_pending(store, id)? {
            Some(_) => Ok(Requested::LeftQueue),
            // It started meanwhile: it has an owner to ask now.
            None => request(store, id, grace),
        };
    }
    Ok(match store.settle_ownerless(id, &mut meta, judge) {
        Left::Running => Requested::Unowned { lock, meta: Box::new(meta) },
        Left::Ended => Requested::AlreadyEnded(meta.status),
    })
}

/// A job of an earlier codex-async or of the Python original (no lock file): its owner is
/// the process its record names, once proven. An earlier version's supervisor listens for
/// the same request; otherwise the job is taken over under a lock on its folder.
fn tell_or_take_legacy(store: &JobStore, id: &JobId, grace: Duration) -> Result<Requested> {
    let meta = store.read_meta_raw(id)?;
    if meta.has_supervisor()
        && let Some(supervisor) = proven::earlier_supervisor(id, &meta)
    {
        // Its supervisor runs it, whatever its file says.
        CancelRequest::new(grace).write(&store.cancel_path(id))?;
        if supervisor.send(Signal::SIGUSR1) {
            return Ok(Requested::Supervisor);
        }
    } else if meta.status.is_finished() {
        return Ok(Requested::AlreadyEnded(meta.status));
    }
    let folder = store.job_dir(id);
    let judge = if meta.has_supervisor() { Judge::Marked } else { Judge::OriginalAgent };
    match OwnerLock::try_folder(&folder).map_err(|err| JobError::io("locking", &folder, err))? {
        Some(lock) => take_over(store, id, lock, judge, grace),
        None => Ok(Requested::Busy),
    }
}

/// Waits for the end the job's owner records: the result first, then the cleanup after
/// it, so that nothing of the job runs when this returns. Under heavy load the result may
/// not be written yet when the time is up: then what is recorded (`running`) is reported.
async fn recorded_end(feed: &JobFeed, id: &JobId, grace: Duration) -> Result<Status> {
    let settle = tokio::time::Instant::now() + grace + Duration::from_secs(3);
    let left = || settle.saturating_duration_since(tokio::time::Instant::now());
    let status = match wait::first_finished(feed, std::slice::from_ref(id), left()).await? {
        Some((_, meta)) => meta.status,
        None => feed.store().read_meta(id)?.status,
    };
    if status.is_finished() && !wait::owner_released(feed, id, left()).await {
        tracing::warn!(job = %id, "the job's supervisor is still ending leftovers");
    }
    Ok(status)
}

/// Ends a job nobody supervises (the caller holds its lock): SIGINT, SIGTERM at half
/// the grace period, SIGKILL at its end, to every process marked with its id (or, for
/// the Python original's jobs, to its agent, proven again before each signal); then
/// records `cancelled`.
pub async fn end_unowned(store: &JobStore, id: &JobId, lock: OwnerLock, meta: &JobMeta, grace: Duration) -> Result<JobMeta> {
    let original = !meta.has_supervisor() && meta.pid.is_some();
    let original_agent = || -> Option<Proven> {
        match proven::original_agent(store.folder_created(id), meta) {
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
        current.details.note = Some(
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

/// The signals to come: `SIGINT now, SIGTERM at 2.5s, SIGKILL at 5s`.
pub fn timeline(grace: Duration) -> String {
    let show = |at: Duration| format!("{}s", at.as_secs_f64());
    format!("SIGINT now, SIGTERM at {}, SIGKILL at {}", show(grace / 2), show(grace))
}

/// A job without a supervisor is ended by whoever cancels it: when that one does not
/// wait, by this program run again on its own (its own process group, so a terminal's
/// Ctrl-C does not reach it), which waits for the end as `cancel` does. Its pid.
pub fn end_in_background(id: &JobId, grace: Duration) -> Result<u32> {
    use std::os::unix::process::CommandExt;
    let program = crate::jobs::process::this_program()?;
    let child = std::process::Command::new(&program)
        .args(["cancel", id.as_str(), "--grace", &format!("{}", grace.as_secs_f64())])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|err| JobError::io("starting", &program, err))?;
    Ok(child.id())
}
