//! A queue with no daemon: jobs over a concurrency limit wait as `pending` and are
//! started in order (by creation time, then id) as slots free — by whoever sees a free
//! slot first: a supervisor whose job just ended, a server or the dashboard when a
//! job's owner goes, or any CLI call. Exactly one process starts each pending job:
//! every change to the queue happens under one lock (`queue/lock`), and a pending job's
//! supervisor takes the job's own lock before it turns it `running`.
//!
//! The jobs folder is the truth; `queue/` is its index, so a slot's freeing costs a
//! look at a few files rather than a read of every job:
//!
//! - `queue/pending/<created µs>-<id>`: pending jobs, in start order by name;
//! - `queue/active/<id>`: jobs that count against the limit (every job a codex-async
//!   of this version started and has not seen end). Entries of jobs that ended without
//!   saying so (a supervisor killed) are dropped when next looked at.
//!
//! A home without `queue/` (new, or older than the queue) gets its index built from
//! the jobs folder by the first process that needs it, and a server or the dashboard
//! reconciles the index with the jobs folder when it starts (a pending job an older
//! version indexed too late, or a job folder put back by hand, is queued again).
//!
//! A pending job is indexed before its folder appears, so a crash in between leaves an
//! entry without a job (dropped when next looked at), never a job the queue does not
//! know. A pending job that can never start (its request unreadable, a FIFO or a
//! symlink) is recorded as `error` by the supervisor that tried, with the reason in its
//! note, and the queue moves on to the next. A full disk is no fault of the job's: it
//! stays pending, and starts at the first look after there is room again.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::request::StartRequest;
use super::spawn;
use crate::atomic::{self, Durability};
use crate::jobs::error::{JobError, Result};
use crate::jobs::process::owner::{OwnerLock, open_lock_file};
use crate::jobs::record::id::JobId;
use crate::jobs::record::meta::{JobMeta, Status, Timestamp};
use crate::jobs::store::{JobStore, OUTPUT_FILE};
use crate::jobs::view::StartView;

const LOCK: &str = "lock";
const PENDING: &str = "pending";
const ACTIVE: &str = "active";
/// Written once the index has been built from the jobs folder.
const READY: &str = "ready";
/// A pending job's start request, as the supervisor that starts it will read it.
pub const REQUEST_FILE: &str = "request.json";

/// The queue's index of a home.
#[derive(Clone, Debug)]
pub struct Queue {
    dir: PathBuf,
}

/// The queue, locked: every change to it is made through this.
pub struct Locked<'a> {
    queue: &'a Queue,
    store: &'a JobStore,
    _lock: File,
}

/// `<rank>-<created µs>-<id>`: by name, higher priority first, then order of arrival.
fn entry_name(meta: &JobMeta, id: &JobId) -> String {
    let micros = meta.details.created_at.map_or(0, |at| at.0.timestamp_micros().max(0));
    let rank = PRIORITY_ZERO - meta.details.priority.unwrap_or(0).clamp(-MAX_PRIORITY, MAX_PRIORITY);
    format!("{rank:020}-{micros:020}-{id}")
}

/// The id an entry's name ends with.
fn entry_id(name: &str) -> Option<JobId> {
    JobId::parse(name.rsplit_once('-')?.1).ok()
}

/// Priorities are kept within ±this; the rank of priority 0 is `PRIORITY_ZERO`.
const MAX_PRIORITY: i64 = 1_000_000_000;
const PRIORITY_ZERO: i64 = 2 * MAX_PRIORITY;

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> JobError + 'a {
    move |err| JobError::io(action, path, err)
}

impl Queue {
    pub fn of(store: &JobStore) -> Queue {
        Queue { dir: store.home().join("queue") }
    }

    fn pending_dir(&self) -> PathBuf {
        self.dir.join(PENDING)
    }

    fn active_dir(&self) -> PathBuf {
        self.dir.join(ACTIVE)
    }

    /// Takes the queue's lock (waiting for it), building the index on first use.
    pub fn lock<'a>(&'a self, store: &'a JobStore) -> Result<Locked<'a>> {
        for dir in [self.pending_dir(), self.active_dir()] {
            JobStore::ensure_dir(&dir)?;
        }
        let path = self.dir.join(LOCK);
        let file = open_lock_file(&path).map_err(io_error("opening", &path))?;
        file.lock().map_err(io_error("locking", &path))?;
        let locked = Locked { queue: self, store, _lock: file };
        if !self.dir.join(READY).exists() {
            locked.rebuild()?;
            atomic::write(&self.dir.join(READY), b"", Durability::Durable).map_err(io_error("writing", &self.dir))?;
        }
        Ok(locked)
    }

    /// The index of pending jobs holds none (read without the lock).
    fn nothing_pending(&self) -> bool {
        fs::read_dir(self.pending_dir()).is_ok_and(|mut entries| entries.next().is_none())
    }

    /// Whether a queue was ever used in this home.
    pub fn in_use(&self) -> bool {
        self.dir.exists()
    }

    /// Pending jobs in start order, read without the lock (for showing positions).
    pub fn pending_order(&self) -> Vec<JobId> {
        let mut names: Vec<String> = fs::read_dir(self.pending_dir())
            .map(|entries| entries.filter_map(|entry| entry.ok()?.file_name().into_string().ok()).collect())
            .unwrap_or_default();
        names.sort();
        names.iter().filter_map(|name| entry_id(name)).collect()
    }

    /// A job's place in the queue (1 = next), if it waits.
    pub fn position(&self, id: &JobId) -> Option<usize> {
        self.pending_order().iter().position(|pending| pending == id).map(|at| at + 1)
    }
}

impl Locked<'_> {
    /// Builds the index from the jobs folder: pending jobs queued, running ones active.
    fn rebuild(&self) -> Result<()> {
        for record in self.store.list(None)? {
            let Ok(meta) = record.meta else { continue };
            match meta.status {
                // A job whose own supervisor waits for its moment enters the queue itself.
                Status::Pending if meta.details.waiting.is_some() || self.store.owner_holds(&record.id) => {}
                Status::Pending => drop(self.add_pending(&record.id, &meta)?),
                Status::Running | Status::Paused => self.add_active(&record.id)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .map(|entries| entries.filter_map(|entry| entry.ok()?.file_name().into_string().ok()).collect())
            .unwrap_or_default();
        names.retain(|name| !name.starts_with('.'));
        names.sort();
        names
    }

    /// Indexes a pending job; returns its entry's name.
    fn add_pending(&self, id: &JobId, meta: &JobMeta) -> Result<String> {
        let name = entry_name(meta, id);
        let path = self.queue.pending_dir().join(&name);
        File::create(&path).map_err(io_error("queueing", &path))?;
        Ok(name)
    }

    fn remove_pending(&self, id: &JobId) {
        for name in Self::entries(&self.queue.pending_dir()) {
            if entry_id(&name).as_ref() == Some(id) {
                let _ = fs::remove_file(self.queue.pending_dir().join(name));
            }
        }
    }

    pub fn add_active(&self, id: &JobId) -> Result<()> {
        let path = self.queue.active_dir().join(id.as_str());
        File::create(&path).map(drop).map_err(io_error("recording", &path))
    }

    /// The jobs of `group` (`None`: the default group) that count against its limit now;
    /// entries of jobs that ended (or whose folder went) are dropped on the way.
    fn running_in(&self, group: Option<&str>) -> usize {
        let mut running = 0;
        for name in Self::entries(&self.queue.active_dir()) {
            match JobId::parse(&name).ok().and_then(|id| self.store.read_meta(&id).ok()) {
                Some(meta) if meta.status.is_live() => running += usize::from(meta.details.group.as_deref() == group),
                _ => {
                    let _ = fs::remove_file(self.queue.active_dir().join(&name));
                }
            }
        }
        running
    }

    /// The pending jobs still pending, in start order (entries of others are dropped).
    fn pending_jobs(&self) -> Vec<(JobId, JobMeta)> {
        let mut pending = Vec::new();
        for name in Self::entries(&self.queue.pending_dir()) {
            let id = entry_id(&name);
            match id.as_ref().and_then(|id| self.store.read_meta_raw(id).ok()) {
                Some(meta) if meta.status == Status::Pending => pending.extend(id.map(|id| (id, meta))),
                _ => {
                    let _ = fs::remove_file(self.queue.pending_dir().join(&name));
                }
            }
        }
        pending
    }

    /// Whether a job of `group` limited to `limit` may start now, nobody of its group
    /// waiting ahead of it.
    fn free_for(&self, group: Option<&str>, limit: Option<usize>) -> bool {
        limit.is_none_or(|limit| {
            self.running_in(group) < limit && !self.pending_jobs().iter().any(|(_, meta)| meta.details.group.as_deref() == group)
        })
    }

    fn pending_count(&self) -> usize {
        Self::entries(&self.queue.pending_dir()).len()
    }
}

/// Starts a job now if its limit allows (and nobody waits ahead of it), else queues it.
pub fn start(
    launcher: &Path,
    store: &JobStore,
    request: &StartRequest,
    deadline: Duration,
    spares: Option<&spawn::Spares>,
) -> Result<StartView> {
    if request.schedule.waits() {
        // Its own supervisor waits for its moment, then takes a slot (see `schedule`).
        return spawn::launch(launcher, store, request, deadline, spares);
    }
    let queue = Queue::of(store);
    let locked = queue.lock(store)?;
    let free = locked.free_for(request.schedule.group.as_deref(), request.limits.max_running);
    if free {
        let started = spawn::launch(launcher, store, request, deadline, spares)?;
        if started.status == Status::Running
            && let Ok(id) = JobId::parse(&started.job_id)
        {
            locked.add_active(&id)?;
        }
        return Ok(started);
    }
    let id = create_pending(&locked, store, request)?;
    let position = locked.pending_count();
    Ok(StartView {
        job_id: id.to_string(),
        status: Status::Pending,
        pid: None,
        error: None,
        queue_position: Some(position),
        notice: None,
        worktree: None,
        branch: None,
    })
}

/// Writes a pending job: its meta, its request, an empty output, an unheld lock file;
/// assembled aside and renamed into place, as every job is, after its index entry.
fn create_pending(locked: &Locked, store: &JobStore, request: &StartRequest) -> Result<JobId> {
    let request_bytes = serde_json::to_vec_pretty(request).map_err(|err| JobError::Supervisor(err.to_string()))?;
    for _ in 0..8 {
        let id = JobId::generate();
        let meta = request.meta(store, &id, Status::Pending);
        let staging_name = uuid::Uuid::new_v4().simple().to_string();
        let mut files = vec![(REQUEST_FILE, request_bytes.as_slice()), (OUTPUT_FILE, b"".as_slice())];
        files.extend(request.files());
        let entry = locked.add_pending(&id, &meta)?;
        let created = store.create_unowned(&id, &meta, &staging_name, &files);
        if created.is_err() {
            // Only this entry: another job may hold the id, and its entry is its own.
            let _ = fs::remove_file(locked.queue.pending_dir().join(entry));
        }
        match created {
            Ok(()) => return Ok(id),
            Err(JobError::IdTaken(_)) => continue,
            Err(err) => return Err(err),
        }
    }
    Err(JobError::Supervisor("eight fresh job ids in a row were taken".into()))
}

/// Makes the index agree with the jobs folder: every pending job queued, every running
/// one counted. Reads every job's meta: for a process that starts (a server, the
/// dashboard), not for every look.
pub fn reconcile(store: &JobStore) -> Result<()> {
    let queue = Queue::of(store);
    if !queue.in_use() {
        return Ok(());
    }
    queue.lock(store)?.rebuild()
}

/// Starts pending jobs while their limits allow. Any process may call this at any
/// time; it returns the ids it started.
pub fn advance(launcher: &Path, store: &JobStore) -> Result<Vec<String>> {
    let queue = Queue::of(store);
    if !queue.dir.exists() {
        // No queue was ever used in this home: nothing waits.
        return Ok(Vec::new());
    }
    if queue.dir.join(READY).exists() && queue.nothing_pending() {
        // The index is built and empty: no lock needed to know that nothing waits (a
        // job queued after this look is started by whoever queues or ends one next).
        return Ok(Vec::new());
    }
    let locked = queue.lock(store)?;
    let mut started = Vec::new();
    // Each group is a queue of its own: a full group's jobs wait, the others' go on.
    let mut running: Vec<(Option<String>, usize)> = Vec::new();
    let mut full: Vec<Option<String>> = Vec::new();
    for (id, meta) in locked.pending_jobs() {
        let group = meta.details.group.clone();
        if full.contains(&group) {
            continue;
        }
        let limit = meta.details.queue_limit.unwrap_or(1).max(1);
        let at = match running.iter().position(|(known, _)| *known == group) {
            Some(at) => at,
            None => {
                running.push((group.clone(), locked.running_in(group.as_deref())));
                running.len() - 1
            }
        };
        if running[at].1 >= limit {
            full.push(group);
            continue;
        }
        match spawn::launch_pending(launcher, store, &id, spawn::START_DEADLINE) {
            // Started, or recorded as unable to start (`error`): either way it leaves
            // the queue, and the next one is looked at.
            Ok(view) => {
                locked.remove_pending(&id);
                if view.status == Status::Running {
                    locked.add_active(&id)?;
                    running[at].1 += 1;
                }
                started.push(view.job_id);
            }
            Err(err) => {
                // No supervisor answered for it (none could be started, or it did not
                // answer in time): left pending, the next look tries again.
                tracing::warn!(job = %id, %err, "could not start a pending job");
                break;
            }
        }
    }
    Ok(started)
}

/// Cancels a pending job: it leaves the queue and never starts. `None` if it was not
/// pending any more (it started meanwhile).
pub fn cancel_pending(store: &JobStore, id: &JobId) -> Result<Option<JobMeta>> {
    let queue = Queue::of(store);
    let locked = queue.lock(store)?;
    let mut meta = store.read_meta_raw(id)?;
    if meta.status != Status::Pending {
        return Ok(None);
    }
    meta.status = Status::Cancelled;
    meta.finished_at = Some(Timestamp::now());
    meta.details.cancel_reason = Some("requested".to_owned());
    meta.details.note = Some("cancelled before it started".to_owned());
    crate::jobs::hooks::owed::owe(store, &mut meta, crate::jobs::hooks::HookEvent::OnFinish);
    meta.write_to(&store.meta_path(id), Durability::Durable)?;
    locked.remove_pending(id);
    crate::jobs::hooks::owed::pay_written(store, id, &mut meta);
    Ok(Some(meta))
}

/// A job whose own supervisor waited for its moment (see `crate::jobs::schedule`) takes
/// its turn: with a slot free (and nobody queued ahead), `run` records it running under
/// the queue's lock and the owner's lock is handed back; else it is queued, and its lock
/// is let go before the queue's, so whoever next starts pending jobs can take it.
pub fn take_turn(
    store: &JobStore,
    id: &JobId,
    meta: &JobMeta,
    owner: OwnerLock,
    run: impl FnOnce() -> Result<()>,
) -> Result<Option<OwnerLock>> {
    let queue = Queue::of(store);
    let locked = queue.lock(store)?;
    if locked.free_for(meta.details.group.as_deref(), meta.details.queue_limit) {
        run()?;
        locked.add_active(id)?;
        return Ok(Some(owner));
    }
    locked.add_pending(id, meta)?;
    drop(owner);
    Ok(None)
}

/// A job ended: it no longer counts against the limit.
pub fn ended(store: &JobStore, id: &JobId) {
    let _ = fs::remove_file(Queue::of(store).active_dir().join(id.as_str()));
}
