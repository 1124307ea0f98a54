//! Taking a job: a new one made owned (`running`, or `pending` when it waits for its
//! moment), or a pending one taken from the queue with its start request.

use crate::jobs::agent::MAX_PROMPT_BYTES;
use crate::jobs::process::owner::OwnerLock;
use crate::jobs::process::procfs;
use crate::jobs::record::jobfile;
use crate::jobs::schedule::hold;
use crate::jobs::start::queue::REQUEST_FILE;
use crate::jobs::worktree::Placed;
use crate::jobs::{JobError, JobId, JobMeta, JobStore, Result, StartRequest, Status};

/// Why a pending job was not taken.
pub(super) enum NotTaken {
    /// Not this supervisor's to run (another took it, it is not pending any more, its
    /// meta is unreadable): the starter is told why.
    Refused(JobError),
    /// Ours, and pending, but it can never start: its request is unreadable, or its
    /// record cannot be written (for another reason than a full disk).
    CannotStart { owner: OwnerLock, meta: Box<JobMeta>, reason: String },
}

/// The most a pending job's request takes: a prompt of the longest size, every byte of
/// it escaped in JSON (six bytes for one), and room for the rest.
const MAX_REQUEST_BYTES: u64 = 6 * MAX_PROMPT_BYTES as u64 + 1024 * 1024;

/// Makes a new job, owned: `running`, or `pending` when it waits for its moment (with
/// its request beside it, for the supervisor that starts it if it is queued).
pub(super) fn take_new(
    store: &JobStore,
    id: &JobId,
    staging: &str,
    start: StartRequest,
    placed: Option<&Placed>,
) -> Result<(OwnerLock, JobMeta, StartRequest)> {
    let held = hold::active(store, start.agent.name());
    let waits = start.schedule.waits() || held.is_some();
    let mut meta = stamped(start.meta(store, id, if waits { Status::Pending } else { Status::Running }));
    if let Some(placed) = placed {
        placed.mark(&mut meta);
    }
    let mut files = start.files();
    let request_bytes;
    if waits {
        let reason = start.schedule.reason(&start.schedule.after, chrono::Utc::now());
        let held = held.map(|until| hold::reason(start.agent.name(), until));
        meta.details.waiting =
            [reason, held].into_iter().flatten().reduce(|a, b| format!("{a}; {b}")).or_else(|| Some("its moment".to_owned()));
        request_bytes = serde_json::to_vec_pretty(&start).map_err(|err| JobError::Supervisor(err.to_string()))?;
        files.push((REQUEST_FILE, request_bytes.as_slice()));
    }
    let owner = store.create(id, &meta, staging, &files)?;
    Ok((owner, meta, start))
}

/// Takes a pending job: its lock (another supervisor may not have it), then `running`.
/// Its facts come from its start request; of the pending record only what the queue
/// noted about the job itself (when it was made, keys this version does not know) is kept.
pub(super) fn take_pending(store: &JobStore, id: &JobId) -> std::result::Result<(OwnerLock, JobMeta, StartRequest), NotTaken> {
    let folder = store.job_dir(id);
    let owner = OwnerLock::create(&folder).map_err(|err| {
        NotTaken::Refused(match err.kind() {
            std::io::ErrorKind::WouldBlock => JobError::Supervisor(format!("job {id} was started by another process")),
            _ => JobError::io("locking", store.lock_path(id), err),
        })
    })?;
    let pending = store.read_meta_raw(id).map_err(NotTaken::Refused)?;
    if pending.status != Status::Pending {
        return Err(NotTaken::Refused(JobError::Supervisor(format!("job {id} is {}, not pending", pending.status))));
    }
    let request_path = folder.join(REQUEST_FILE);
    let start = jobfile::read_capped(&request_path, MAX_REQUEST_BYTES)
        .map_err(|err| JobError::io("reading", &request_path, err).to_string())
        .and_then(|bytes| {
            serde_json::from_slice::<StartRequest>(&bytes).map_err(|err| format!("{REQUEST_FILE} is not a start request: {err}"))
        });
    let start = match start {
        Ok(start) => start,
        Err(reason) => return Err(NotTaken::CannotStart { owner, meta: Box::new(pending), reason }),
    };
    let mut running = start.meta(store, id, Status::Running);
    running.details.created_at = pending.details.created_at.or(running.details.created_at);
    running.details.follow_ups = pending.details.follow_ups.clone();
    running.extra = pending.extra.clone();
    let mut running = stamped(running);
    // Its agent's provider said stop until a reset: the job waits for it (see `waiting`).
    if let Some(until) = hold::active(store, start.agent.name()) {
        running.status = Status::Pending;
        running.started_at = None;
        running.details.waiting = Some(hold::reason(start.agent.name(), until));
    }
    let recorded = running
        .reserve_space(&store.reserve_path(id))
        .and_then(|()| running.write_to(&store.meta_path(id), crate::atomic::Durability::Durable));
    match recorded {
        Ok(()) => Ok((owner, running, start)),
        // No room on the disk is not the job's fault, and no job could start now: it
        // stays pending, and starts when there is room.
        Err(err) if no_room(&err) => Err(NotTaken::Refused(err)),
        Err(err) => Err(NotTaken::CannotStart { owner, meta: Box::new(pending), reason: err.to_string() }),
    }
}

pub(super) fn no_room(err: &JobError) -> bool {
    matches!(err, JobError::Io { source, .. } if matches!(source.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded))
}

/// When this process started, in clock ticks since boot (its identity with its pid).
static OWN_START: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();

/// Reads this process's start time ahead of the request it will serve.
pub fn remember_own_start() {
    OWN_START.get_or_init(|| procfs::start_ticks(std::process::id() as i32));
}

/// A meta that names this process as the job's supervisor.
fn stamped(mut meta: JobMeta) -> JobMeta {
    let me = std::process::id() as i32;
    meta.details.supervisor_pid = Some(i64::from(me));
    meta.details.supervisor_start_ticks = *OWN_START.get_or_init(|| procfs::start_ticks(me));
    meta
}
