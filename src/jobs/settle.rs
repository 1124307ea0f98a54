//! Reading a job's status as it really is: a meta that says `running` is believed only
//! while someone owns the job.
//!
//! - Jobs of this version have a lock (see [`super::owner`]). Held: the job runs. Free:
//!   its supervisor is gone, and the reader — holding the lock now, so no other reader
//!   writes at the same time — records what it finds: `running` with the note
//!   "supervisor lost; agent still running" while processes marked with the job's id
//!   live on, else `error` "supervisor lost".
//! - Jobs of an earlier codex-async (a supervisor pid and start time, no lock file) keep
//!   that check; jobs of the Python original (an agent pid only) keep the original's
//!   pid check, with the process's start time compared to the job's so a reused pid
//!   does not count. Both are settled under a lock on the job folder.
//!
//! A reader writes only through a folder whose meta names that folder's job (checked
//! by [`JobMeta::read`]), and only when it holds the lock; otherwise it writes nothing.

use super::error::Result;
use super::id::JobId;
use super::marker;
use super::meta::{JobMeta, Status, Timestamp};
use super::owner::{OwnerLock, Probe};
use super::procfs;
use super::store::JobStore;

/// The note of a running job whose supervisor died while its agent runs on.
pub const LOST_RUNNING_NOTE: &str = "supervisor lost; agent still running (cancel ends it)";
/// The note of a job whose supervisor died with everything it ran.
pub const LOST_NOTE: &str = "supervisor lost: it ended without recording a result (killed?); the exit code is unknown";
/// The note of an original job whose process ended while nobody watched it.
pub const ORIGINAL_ENDED_NOTE: &str =
    "the process ended while no server watched it (checked by pid, as the original did); the exit code is unknown";

impl JobStore {
    /// The meta, with a running job whose owner is gone settled as such.
    pub fn read_meta(&self, id: &JobId) -> Result<JobMeta> {
        let meta = self.read_meta_raw(id)?;
        if meta.status != Status::Running {
            return Ok(meta);
        }
        let folder = self.job_dir(id);
        match OwnerLock::probe(&folder) {
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
        if current.status != Status::Running {
            return Ok(current);
        }
        self.settle_lost(id, &mut current);
        Ok(current)
    }

    /// Records what a job without its supervisor has become. The caller holds its lock.
    fn settle_lost(&self, id: &JobId, current: &mut JobMeta) {
        if !marker::find(id).is_empty() {
            current.supervisor_lost = true;
            if current.note.as_deref() != Some(LOST_RUNNING_NOTE) {
                current.note = Some(LOST_RUNNING_NOTE.to_owned());
                if let Err(err) = self.write_meta(current) {
                    tracing::warn!(job = %id, %err, "could not record a lost supervisor");
                }
            }
            return;
        }
        current.status = Status::Error;
        current.finished_at = Some(Timestamp::now());
        current.note = Some(LOST_NOTE.to_owned());
        if let Err(err) = self.write_final_meta(current) {
            tracing::warn!(job = %id, %err, "could not record a lost supervisor");
        }
    }

    fn settle_legacy(&self, id: &JobId, meta: JobMeta) -> Result<JobMeta> {
        if legacy_owner_alive(&meta) {
            return Ok(meta);
        }
        let Ok(Some(lock)) = OwnerLock::try_folder(&self.job_dir(id)) else {
            // Another reader is settling it: report what the file says.
            return Ok(meta);
        };
        let mut current = self.read_meta_raw(id)?;
        if current.status == Status::Running && !legacy_owner_alive(&current) {
            if current.has_supervisor() {
                self.settle_lost(id, &mut current);
            } else {
                current.status = Status::Done;
                current.finished_at = Some(Timestamp::now());
                current.note = Some(ORIGINAL_ENDED_NOTE.to_owned());
                if let Err(err) = self.write_meta(&current) {
                    tracing::warn!(job = %id, %err, "could not record an ended original job");
                }
            }
        }
        drop(lock);
        Ok(current)
    }
}

/// Whether the owner a job without a lock file records is alive: an earlier version's
/// supervisor (pid and start time), or the original's agent (pid, started in time).
fn legacy_owner_alive(meta: &JobMeta) -> bool {
    match (meta.supervisor_pid, meta.supervisor_start_ticks) {
        (Some(pid), Some(ticks)) => i32::try_from(pid).is_ok_and(|pid| procfs::is_same_process_alive(pid, ticks)),
        (Some(pid), None) => i32::try_from(pid).is_ok_and(procfs::is_alive),
        (None, _) => match (meta.pid, meta.started_at) {
            (Some(pid), Some(started)) => marker::original_agent_alive(pid, started.0),
            (Some(pid), None) => i32::try_from(pid).is_ok_and(procfs::is_alive),
            // Nothing to check: believe the file.
            (None, _) => true,
        },
    }
}
