//! Reading a job's status as it really is: what `meta.json` says is believed only as far
//! as the job's owner bears it out. Every reader of a status (poll, list, wait, delete,
//! gc, the dashboard's loader, MCP notifications, a cancel of a held job) reads through
//! [`JobStore::read_meta`].
//!
//! - Jobs of this version have a lock (see [`owner`](crate::jobs::process::owner)). Held
//!   exclusively by its supervisor: the job runs, whatever the file says — a `done` (or
//!   garbage) written into the folder of a running job is not its end. A `running` job
//!   whose lock is free lost its supervisor, and the reader — holding the lock now, so no
//!   other reader writes at the same time — records what it finds: `running` with the
//!   note "supervisor lost; agent still running" while processes marked with the job's
//!   id live on, else `error` "supervisor lost".
//! - Jobs of an earlier codex-async (a supervisor pid and start time, no lock file) and
//!   jobs of the Python original (an agent pid only) are alive only while the process
//!   their record names proves to be their supervisor or agent (see [`proven`]). Both
//!   are settled under a lock on the job folder.
//!
//! A reader writes only through a folder whose meta names that folder's job (checked
//! by [`JobMeta::read`]), and only when it holds the lock; otherwise it writes nothing.
//! A cancel that takes a job over decides with [`JobStore::settle_ownerless`] what is
//! left of it, and writes only the end of a job of which nothing runs any more.

use super::JobStore;
use crate::jobs::error::{JobError, Result};
use crate::jobs::hooks::{HookEvent, owed};
use crate::jobs::process::marker;
use crate::jobs::process::owner::{Hold, OwnerLock, Probe};
use crate::jobs::process::proven::{self, OriginalAgent};
use crate::jobs::record::id::JobId;
use crate::jobs::record::meta::{JobMeta, Status, Timestamp};

/// The note of a running job whose supervisor died while its agent runs on.
pub const LOST_RUNNING_NOTE: &str = "supervisor lost; agent still running (cancel ends it)";
/// The note of a job whose supervisor died with everything it ran.
pub const LOST_NOTE: &str = "supervisor lost: it ended without recording a result (killed?); the exit code is unknown";
/// The note of a waiting job whose supervisor died before its moment came.
pub const LOST_WAITING_NOTE: &str = "supervisor lost while the job waited for its moment (killed?); its agent never started";
/// The note of an original job whose process ended while nobody watched it.
pub const ORIGINAL_ENDED_NOTE: &str =
    "the process ended while no server watched it (checked by pid, as the original did); the exit code is unknown";
/// The note of a job of the original's format whose record cannot be the original's.
pub const ORIGINAL_FORGED_NOTE: &str = "its record does not hold up: started_at is not when its folder was made (the Python original \
     wrote it seconds after); no process was signalled, and the exit code is unknown";
/// The note of a job whose file says it ended while its supervisor still runs it.
pub const STILL_HELD_NOTE: &str = "meta.json says this job ended, but its supervisor still runs it: it is running";
/// The note of a running job whose meta.json cannot be read.
pub const UNREADABLE_NOTE: &str = "meta.json cannot be read, but the job's supervisor still runs it (its next write restores it)";

/// How many times a job is read when its supervisor lets go of it during the read.
const READS_WHEN_LET_GO: usize = 3;

/// One judged read of a job's meta.
enum Judged {
    Final(Result<JobMeta>),
    /// Read while the supervisor was letting go of the job: read again.
    LetGoMeanwhile(Result<JobMeta>),
}

impl JobStore {
    /// The meta, with a running job whose owner is gone settled as such, and a job whose
    /// owner still runs it read as running.
    pub fn read_meta(&self, id: &JobId) -> Result<JobMeta> {
        // A supervisor may let go of its exclusive hold between the look at the lock and
        // the proof that it holds it: the file read in between may be what was there
        // before its result (garbage, a forged end). Then the job is read again, with the
        // result in place.
        let mut reads = 1;
        let meta = loop {
            match self.judged(id) {
                Judged::Final(judged) => break judged,
                Judged::LetGoMeanwhile(judged) if reads >= READS_WHEN_LET_GO => break judged,
                Judged::LetGoMeanwhile(_) => reads += 1,
            }
        }?;
        Ok(crate::jobs::approval::overlay::overlay(&self.job_dir(id), id, meta))
    }

    /// One judged read.
    fn judged(&self, id: &JobId) -> Judged {
        let folder = self.job_dir(id);
        // The lock is looked at before the file is read: a supervisor puts its result in
        // place before it lets go of its exclusive hold, so a file read after the hold was
        // seen let go holds the result (or something newer).
        let hold = OwnerLock::look(&folder);
        let exclusive = matches!(hold, Ok(Hold::Exclusive));
        let run_by_supervisor = |named: Option<i64>| exclusive && proven::supervisor(&self.lock_path(id), named).is_some();
        // The hold was seen exclusive, yet no supervisor proved it holds it: it may have
        // let go since, its result now in place.
        let let_go_meanwhile = || exclusive && !matches!(OwnerLock::look(&folder), Ok(Hold::Exclusive));
        let meta = match self.read_meta_raw(id) {
            Ok(meta) => meta,
            // Garbage written over the record of a running job is not its end either.
            Err(JobError::Corrupt { reason, .. }) if run_by_supervisor(None) => return Judged::Final(unreadable_but_running(id, &reason)),
            Err(err) if let_go_meanwhile() => return Judged::LetGoMeanwhile(Err(err)),
            Err(err) => return Judged::Final(Err(err)),
        };
        if !meta.status.is_live() {
            return match &hold {
                // A pending job held by its own supervisor waits for its moment.
                Ok(Hold::Exclusive) if meta.status == Status::Pending => Judged::Final(Ok(meta)),
                Ok(Hold::NotExclusive) if meta.status == Status::Pending && meta.details.waiting.is_some() => {
                    Judged::Final(self.settle_lost_waiting(id, meta))
                }
                // Held exclusively by its supervisor, not by a reader holding it a moment.
                Ok(Hold::Exclusive) if run_by_supervisor(meta.details.supervisor_pid) => Judged::Final(Ok(still_running(meta))),
                Ok(Hold::Exclusive) if let_go_meanwhile() => Judged::LetGoMeanwhile(Ok(meta)),
                // A lock file removed while its supervisor runs: the supervisor still proves itself.
                Ok(Hold::NoLockFile) if meta.status.is_finished() && proven::earlier_supervisor(id, &meta).is_some() => {
                    Judged::Final(Ok(still_running(meta)))
                }
                // Its owner may have died between recording the end and firing its hook.
                Ok(Hold::NotExclusive) if meta.status.is_finished() && !meta.details.hooks_owed.is_empty() => {
                    Judged::Final(Ok(owed::settle(self, id, meta)))
                }
                Ok(_) => Judged::Final(Ok(meta)),
                Err(err) => {
                    tracing::debug!(job = %id, %err, "cannot look at the job's lock; believing its meta");
                    Judged::Final(Ok(meta))
                }
            };
        }
        Judged::Final(self.judge_running(id, &folder, &hold, meta))
    }

    /// A meta that says `running`, judged by who holds the job.
    fn judge_running(&self, id: &JobId, folder: &std::path::Path, hold: &std::io::Result<Hold>, meta: JobMeta) -> Result<JobMeta> {
        if matches!(hold, Ok(Hold::Exclusive)) {
            return Ok(meta);
        }
        match OwnerLock::probe(folder) {
            Ok(Probe::Held) => Ok(meta),
            Ok(Probe::Taken(lock)) => {
                let settled = self.settle_unowned(id);
                drop(lock);
                settled
            }
            Ok(Probe::NoLockFile) => self.settle_legacy(id, meta),
            Err(err) => {
                tracing::debug!(job = %id, %err, "cannot look at the job's lock; believing its meta");
                Ok(meta)
            }
        }
    }

    /// The lock is free and this process holds it: the supervisor is gone.
    fn settle_unowned(&self, id: &JobId) -> Result<JobMeta> {
        // Read again under the lock: a result written in the meantime wins.
        let mut current = self.read_meta_raw(id)?;
        if !current.status.is_live() {
            return Ok(current);
        }
        self.settle_lost(id, &mut current);
        Ok(current)
    }

    /// Records what a job without its supervisor has become. The caller holds its lock.
    fn settle_lost(&self, id: &JobId, current: &mut JobMeta) {
        if self.settle_ownerless(id, current, Judge::Marked) == Left::Ended {
            return;
        }
        current.supervisor_lost = true;
        if current.details.note.as_deref() != Some(LOST_RUNNING_NOTE) {
            current.details.note = Some(LOST_RUNNING_NOTE.to_owned());
            if let Err(err) = self.write_meta(current) {
                tracing::warn!(job = %id, %err, "could not record a lost supervisor");
            }
        }
    }

    /// What is left of a running job whose owner is gone (the caller holds its lock). When
    /// nothing of it runs any more, its end is recorded here, as any reader records it, and
    /// `current` holds it; while something runs, nothing is written.
    pub fn settle_ownerless(&self, id: &JobId, current: &mut JobMeta, judge: Judge) -> Left {
        if judge == Judge::OriginalAgent {
            return match self.legacy_owner(id, current) {
                Legacy::Alive => Left::Running,
                ended => {
                    self.settle_original(id, current, ended);
                    Left::Ended
                }
            };
        }
        if !marker::find(id).is_empty() {
            return Left::Running;
        }
        current.status = Status::Error;
        current.finished_at = Some(Timestamp::now());
        current.details.note = Some(LOST_NOTE.to_owned());
        owed::owe(self, current, HookEvent::OnFinish);
        match self.write_final_meta(current) {
            // The end is recorded here, once, under the job's lock: so is its hook fired.
            Ok(()) => owed::pay_written(self, id, current),
            Err(err) => tracing::warn!(job = %id, %err, "could not record a lost supervisor"),
        }
        Left::Ended
    }

    /// Whether someone holds the job's lock exclusively (its supervisor, or a reader
    /// settling it this moment).
    pub fn owner_holds(&self, id: &JobId) -> bool {
        matches!(OwnerLock::look(&self.job_dir(id)), Ok(Hold::Exclusive))
    }

    /// A job that waited (`--after`, `--at`) for its moment and lost its supervisor: it
    /// can never start on its own, and ends `error`, its agent never run.
    fn settle_lost_waiting(&self, id: &JobId, meta: JobMeta) -> Result<JobMeta> {
        let Ok(Some(lock)) = OwnerLock::try_folder(&self.job_dir(id)) else { return Ok(meta) };
        let mut current = self.read_meta_raw(id)?;
        if current.status == Status::Pending && current.details.waiting.is_some() {
            current.status = Status::Error;
            current.finished_at = Some(Timestamp::now());
            current.details.waiting = None;
            current.details.note = Some(LOST_WAITING_NOTE.to_owned());
            owed::owe(self, &mut current, HookEvent::OnFinish);
            match self.write_final_meta(&current) {
                Ok(()) => owed::pay_written(self, id, &mut current),
                Err(err) => tracing::warn!(job = %id, %err, "could not record a lost supervisor"),
            }
        }
        drop(lock);
        Ok(current)
    }

    fn settle_legacy(&self, id: &JobId, meta: JobMeta) -> Result<JobMeta> {
        if self.legacy_owner(id, &meta) == Legacy::Alive {
            return Ok(meta);
        }
        let Ok(Some(lock)) = OwnerLock::try_folder(&self.job_dir(id)) else {
            // Another reader is settling it: report what the file says.
            return Ok(meta);
        };
        let mut current = self.read_meta_raw(id)?;
        if current.status.is_live() {
            match self.legacy_owner(id, &current) {
                Legacy::Alive => {}
                Legacy::Gone if current.has_supervisor() => self.settle_lost(id, &mut current),
                ended => self.settle_original(id, &mut current, ended),
            }
        }
        drop(lock);
        Ok(current)
    }

    /// Records the end of a job of the original whose agent is gone, or whose record
    /// cannot be the original's. The caller holds the folder's lock.
    fn settle_original(&self, id: &JobId, current: &mut JobMeta, ended: Legacy) {
        let forged = ended == Legacy::Forged;
        // The original's own judgement of a vanished pid: done.
        current.status = if forged { Status::Error } else { Status::Done };
        current.finished_at = Some(Timestamp::now());
        current.details.note = Some(if forged { ORIGINAL_FORGED_NOTE } else { ORIGINAL_ENDED_NOTE }.to_owned());
        if let Err(err) = self.write_meta(current) {
            tracing::warn!(job = %id, %err, "could not record an ended original job");
        }
    }

    /// Whether the owner a job without a lock file records is alive: an earlier version's
    /// supervisor, or the original's agent, each proven (see [`proven`]).
    fn legacy_owner(&self, id: &JobId, meta: &JobMeta) -> Legacy {
        if meta.has_supervisor() {
            return if proven::earlier_supervisor(id, meta).is_some() { Legacy::Alive } else { Legacy::Gone };
        }
        if meta.pid.is_none() {
            // Nothing to check: believe the file.
            return Legacy::Alive;
        }
        match proven::original_agent(self.folder_created(id), meta) {
            OriginalAgent::Running(_) => Legacy::Alive,
            OriginalAgent::Forged => Legacy::Forged,
            OriginalAgent::Gone => Legacy::Gone,
        }
    }
}

/// What is left of a running job whose owner is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Left {
    /// Processes of the job run on.
    Running,
    /// Nothing: its end is recorded.
    Ended,
}

/// How what is left of a job is found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judge {
    /// By the processes marked with its id (every job a codex-async supervised).
    Marked,
    /// By its agent, proven (a job of the Python original: no supervisor, no marker).
    OriginalAgent,
}

/// What the owner a job without a lock file records turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Legacy {
    Alive,
    Gone,
    /// A record of the original's format that the original cannot have written.
    Forged,
}

/// The record of a running job whose meta.json cannot be read: what is known for sure.
fn unreadable_but_running(id: &JobId, reason: &str) -> Result<JobMeta> {
    let reason: String = reason.chars().take(200).collect();
    let note = format!("{UNREADABLE_NOTE} ({reason})");
    let known = serde_json::json!({"job_id": id.as_str(), "status": Status::Running, "prompt": "", "cwd": "", "note": note});
    serde_json::from_value(known).map_err(|err| JobError::Corrupt { id: id.to_string(), reason: format!("{reason}; {err}") })
}

/// A job whose file says it is not running, read while its owner runs it.
fn still_running(mut meta: JobMeta) -> JobMeta {
    let claimed_an_end = meta.status.is_finished();
    meta.status = Status::Running;
    meta.finished_at = None;
    meta.exit_code = None;
    meta.details.signal = None;
    meta.details.cancel_reason = None;
    if claimed_an_end {
        meta.details.note = Some(STILL_HELD_NOTE.to_owned());
    }
    meta
}
