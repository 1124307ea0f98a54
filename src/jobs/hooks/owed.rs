//! Hooks owed: an event's hook survives its recorder being killed.
//!
//! A recorder could die (SIGKILL, the machine's power) between writing an event and
//! starting the hook's runner, and the hook would never fire. So the hook is owed in the
//! record itself: the write that records the event also says `hooks_owed:
//! ["on_finish"]`, and the debt is cleared once the runner is on its way. Whoever next
//! settles the job — any reader that finds a finished job owing a hook and its owner
//! gone (it takes the job's lock, as every settling reader does) — fires what is owed.
//!
//! Exactly once: the runner claims the event before it runs the hook (a file made with
//! `O_EXCL` in the job's folder, see [`claim`]), so a runner started by a reader after the
//! dead owner's runner was already on its way runs nothing.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::{HOOKS_LOG, HookEvent, fire, hooks_of};
use crate::jobs::process::owner::{OwnerLock, Probe};
use crate::jobs::record::id::JobId;
use crate::jobs::record::jobfile;
use crate::jobs::record::meta::JobMeta;
use crate::jobs::store::JobStore;
use crate::jobs::store::kept::KeptMeta;

/// Marks `event`'s hook owed in a record about to say that the event happened (when a
/// hook is configured for it).
pub fn owe(store: &JobStore, meta: &mut JobMeta, event: HookEvent) {
    let owed = &mut meta.details.hooks_owed;
    if hooks_of(store.home()).hooks.argv(event).is_some() && !owed.iter().any(|name| name == event.as_str()) {
        owed.push(event.as_str().to_owned());
    }
}

/// Fires every hook `meta` owes and clears the debt from it (the caller writes it).
/// Whether anything was owed.
fn pay(store: &JobStore, id: &JobId, meta: &mut JobMeta) -> bool {
    let owed = std::mem::take(&mut meta.details.hooks_owed);
    for name in &owed {
        match HookEvent::named(name) {
            Some(event) => fire(store, id, meta, event),
            None => tracing::warn!(job = %id, name = name.as_str(), "the record owes a hook this version does not know"),
        }
    }
    !owed.is_empty()
}

/// The owner's side, right after it recorded the event: fires what its record owes,
/// then records the debt paid.
pub fn pay_kept(store: &JobStore, id: &JobId, record: &KeptMeta) {
    fault_point("before-finish-hook");
    if record.read(|meta| meta.details.hooks_owed.is_empty()) {
        return;
    }
    let mut meta = record.snapshot();
    pay(store, id, &mut meta);
    fault_point("after-finish-hook");
    if let Err(err) = record.update(|meta| meta.details.hooks_owed.clear()) {
        tracing::warn!(job = %id, %err, "could not record the hook fired (a later reader's runner finds it claimed)");
    }
}

/// A reader that records a job's end itself (under the job's lock or the queue's): the
/// record it wrote owed the hook ([`owe`]); it fires it and records it paid.
pub fn pay_written(store: &JobStore, id: &JobId, meta: &mut JobMeta) {
    fault_point("before-finish-hook");
    if pay(store, id, meta)
        && let Err(err) = store.write_meta(meta)
    {
        tracing::warn!(job = %id, %err, "could not record the hook fired (a later reader's runner finds it claimed)");
    }
}

/// A reader's side: `meta`, a finished job's record, owes hooks. If the job's owner is
/// gone (its lock can be taken), they are fired and the debt recorded paid under the
/// lock; while the owner lives, it pays them itself.
pub fn settle(store: &JobStore, id: &JobId, meta: JobMeta) -> JobMeta {
    let Ok(Probe::Taken(lock)) = OwnerLock::probe(&store.job_dir(id)) else { return meta };
    // Read again under the lock: another reader may have paid meanwhile.
    let Ok(mut current) = store.read_meta_raw(id) else { return meta };
    if current.status.is_finished() && pay(store, id, &mut current) {
        tracing::info!(job = %id, "fired the hooks its lost owner owed");
        if let Err(err) = store.write_meta(&current) {
            tracing::warn!(job = %id, %err, "could not record the owed hooks fired (their runners find them claimed)");
        }
    }
    drop(lock);
    current
}

/// The runner's claim on `event` of the job in `folder`: true for the first runner of
/// that event, false for any later one. A claim that cannot be written (the folder
/// unwritable) does not stop the hook: its result cannot be written either, and a hook
/// lost is worse than one that might run twice.
pub fn claim(folder: &Path, event: HookEvent) -> bool {
    let path = folder.join(format!("hook_{}.claimed", event.as_str()));
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
        Ok(_) => true,
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            if let Ok(mut log) = jobfile::open_append(&folder.join(HOOKS_LOG)) {
                let _ = writeln!(log, "codex-async: {} hook already fired; not run again", event.as_str());
            }
            false
        }
        Err(err) => {
            tracing::warn!(%err, "could not claim the hook; running it regardless");
            true
        }
    }
}

/// The environment variable that stops a debug build's recorder (a supervisor, or a
/// reader settling a job) at a named point with SIGKILL: the faults tests kill it exactly
/// where an owed hook matters.
pub const FAULT_ENV: &str = "CODEX_ASYNC_FAULT";

/// Kills this process where `CODEX_ASYNC_FAULT` names `point`. Debug builds only: a
/// release build has no fault points.
fn fault_point(point: &str) {
    if cfg!(debug_assertions) && std::env::var(FAULT_ENV).is_ok_and(|wanted| wanted == point) {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}
